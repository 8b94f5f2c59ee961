# ops notebook: the SageMaker notebook instance data scientists work in (stack output NotebookInstanceName).
# Sourced by scripts/ops after lib.sh.
# shellcheck shell=bash

ops_group notebook "Start, stop and open the SageMaker notebook instance (stack output NotebookInstanceName)."
ops_command notebook start "Start the notebook instance and wait until it is InService."
ops_command notebook stop "Stop the notebook instance and wait until it is Stopped."
ops_command notebook status "Print the notebook instance's name, status, instance type and URL."
ops_command notebook url "Print a presigned URL that opens Jupyter on the notebook instance."

NOTEBOOK=""

notebook_resolve() { stack_output NOTEBOOK NotebookInstanceName; }

# Status reader for wait_for_status (see lib.sh).
notebook_read_status() {
  aws_read sagemaker describe-notebook-instance --notebook-instance-name "$NOTEBOOK" \
    --query '[NotebookInstanceStatus,FailureReason]' --output text
  if dry_run; then
    OPS_STATUS=$1
    OPS_REASON=""
    return
  fi
  IFS=$'\t' read -r OPS_STATUS OPS_REASON <<<"$OPS_OUT"
  [[ $OPS_REASON != None ]] || OPS_REASON=""
}

notebook_wait_for() {
  wait_for_status "notebook instance $NOTEBOOK" "$1" "Failed Deleting" notebook_read_status
}

# notebook_request start|stop
notebook_request() { aws_change sagemaker "$1-notebook-instance" --notebook-instance-name "$NOTEBOOK"; }

# Waits for the end state of a request unless --no-wait was given.
notebook_finish() {
  if ((OPS_WAIT)); then
    notebook_wait_for "$1"
  else
    say "not waiting for $1 (--no-wait); follow it with: $OPS_PROG notebook status"
  fi
}

help_notebook_start() {
  cat <<'EOF'
Idempotent: an instance that is already InService is left alone, one that is Pending is only waited for.
One that is Stopping (or Updating) is first waited for until Stopped, then started. A Failed instance is
started again after its previous failure reason is shown. While waiting, the status is printed on every poll;
the command fails with the service's FailureReason if the instance ends up Failed.
EOF
}

cmd_notebook_start() {
  notebook_resolve
  notebook_read_status Stopped
  case $OPS_STATUS in
    InService)
      say "notebook instance $NOTEBOOK is already InService; nothing to do"
      return
      ;;
    Pending) say "notebook instance $NOTEBOOK is already starting (Pending)" ;;
    Stopping | Updating)
      say "notebook instance $NOTEBOOK is $OPS_STATUS; waiting until it is Stopped before starting it"
      notebook_wait_for Stopped
      notebook_request start
      ;;
    Failed)
      say "notebook instance $NOTEBOOK failed before (${OPS_REASON:-no reason given}); starting it again"
      notebook_request start
      ;;
    Stopped) notebook_request start ;;
    *) die "notebook instance $NOTEBOOK is $OPS_STATUS and cannot be started" ;;
  esac
  notebook_finish InService
}

help_notebook_stop() {
  cat <<'EOF'
Stopping ends compute billing; the storage volume and its notebooks are kept. Idempotent: an instance that is
already Stopped is left alone, one that is Stopping (or Updating) is only waited for. A Pending instance is
waited for until InService and then stopped; a Failed instance is not running and is left alone.
EOF
}

cmd_notebook_stop() {
  notebook_resolve
  notebook_read_status InService
  case $OPS_STATUS in
    Stopped)
      say "notebook instance $NOTEBOOK is already Stopped; nothing to do"
      return
      ;;
    Failed)
      say "notebook instance $NOTEBOOK is Failed (${OPS_REASON:-no reason given}), so it is not running;" \
        "nothing to stop"
      return
      ;;
    Stopping | Updating) say "notebook instance $NOTEBOOK is $OPS_STATUS; waiting until it is Stopped" ;;
    Pending)
      say "notebook instance $NOTEBOOK is Pending; waiting until it is InService before stopping it"
      notebook_wait_for InService
      notebook_request stop
      ;;
    InService) notebook_request stop ;;
    *) die "notebook instance $NOTEBOOK is $OPS_STATUS and cannot be stopped" ;;
  esac
  notebook_finish Stopped
}

help_notebook_status() {
  cat <<'EOF'
Prints one "field: value" line each for name, status, instance type and URL (plus the failure reason when the
status is Failed). The URL is the instance's address; open it through the console or "notebook url".
EOF
}

cmd_notebook_status() {
  notebook_resolve
  aws_read sagemaker describe-notebook-instance --notebook-instance-name "$NOTEBOOK" \
    --query '[NotebookInstanceName,NotebookInstanceStatus,InstanceType,Url,FailureReason]' --output text
  dry_run && return
  local name status type url reason
  IFS=$'\t' read -r name status type url reason <<<"$OPS_OUT"
  if [[ $url == None ]]; then
    url="(none yet)"
  elif [[ $url != https://* ]]; then
    url="https://$url"
  fi
  printf 'name:          %s\nstatus:        %s\ninstance type: %s\nurl:           %s\n' "$name" "$status" "$type" "$url"
  [[ $reason == None || -z $reason ]] || printf 'failure:       %s\n' "$reason"
}

help_notebook_url() {
  cat <<'EOF'
The URL signs you in to Jupyter without the console; it must be opened within 5 minutes (a SageMaker limit)
and only works while the instance is InService, so the command checks the status first and fails otherwise.
EOF
}

cmd_notebook_url() {
  notebook_resolve
  notebook_read_status InService
  [[ $OPS_STATUS == InService ]] ||
    die "notebook instance $NOTEBOOK is $OPS_STATUS; start it first with: $OPS_PROG notebook start"
  aws_read sagemaker create-presigned-notebook-instance-url --notebook-instance-name "$NOTEBOOK" \
    --query AuthorizedUrl --output text
  dry_run || printf '%s\n' "$OPS_OUT"
}
