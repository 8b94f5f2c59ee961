#!/bin/bash
# Lifecycle "OnStart": runs as root at every start, the first one included. Only /home/ec2-user/SageMaker survives a
# stop, so everything outside it (environment, git wiring, Jupyter settings, cron) is written again each time.
# shellcheck source=scripts/notebook/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly platform_variables=(DATA_BUCKET MODEL_BUCKET PROJECT_NAME AWS_REGION AWS_DEFAULT_REGION)

# Login shells (Jupyter terminals) read profile.d; kernels inherit the Jupyter server's environment, which its config
# file sets, because kernels never run a login shell.
write_environment() {
  local name
  mkdir -p "$NOTEBOOK_PROFILE_DIR" "$NOTEBOOK_JUPYTER_CONFIG_DIR" || return 1
  for name in "${platform_variables[@]}"; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done >"$NOTEBOOK_PROFILE_DIR/notebook-platform.sh" || return 1
  local preferred=""
  [[ -n $GIT_REPOSITORY_URL && -d $repository_dir/notebooks ]] && preferred=$repository_name/notebooks
  python3 - "$NOTEBOOK_JUPYTER_CONFIG_DIR/jupyter_server_config.py" "$preferred" "${platform_variables[@]}" <<'PY'
import json, os, re, sys
path, preferred, names = sys.argv[1], sys.argv[2], sys.argv[3:]
begin, end = "# BEGIN notebook-platform", "# END notebook-platform"
old = open(path).read() if os.path.exists(path) else ""
old = re.sub(re.escape(begin) + ".*?" + re.escape(end) + "\n", "", old, flags=re.S)
block = [begin, "import os", "os.environ.update(%s)" % json.dumps({n: os.environ[n] for n in names})]
# A preferred_dir that does not exist stops Jupyter from starting, so it is only set when the folder is there.
if preferred:
    block.append("c.FileContentsManager.preferred_dir = %s" % json.dumps(preferred))
open(path, "w").write(old + "\n".join(block + [end]) + "\n")
PY
}

# In the background: a large requirements.txt would take longer than the 5 minutes SageMaker allows.
install_requirements() {
  [[ -n $GIT_REPOSITORY_URL && -f $repository_dir/requirements.txt ]] || return 0
  mkdir -p "$NOTEBOOK_STATE_DIR" || return 1
  log "installing $repository_dir/requirements.txt in the background; see $NOTEBOOK_STATE_DIR/pip-install.log"
  as_notebook_user nohup "$NOTEBOOK_PIP" install --quiet -r "$repository_dir/requirements.txt" \
    >>"$NOTEBOOK_STATE_DIR/pip-install.log" 2>&1 </dev/null &
}

schedule_idle_stop() {
  local cron_file=$NOTEBOOK_CRON_DIR/notebook-idle-stop
  if ((IDLE_STOP_MINUTES <= 0)); then
    rm -f "$cron_file"
    log "idle stop is off"
    return 0
  fi
  mkdir -p "$NOTEBOOK_BIN_DIR" "$NOTEBOOK_CRON_DIR" "$NOTEBOOK_STATE_DIR" || return 1
  install_helper helper_idle_stop "$NOTEBOOK_BIN_DIR/notebook-idle-stop" || return 1
  date +%s >"$NOTEBOOK_STATE_DIR/started-at" || return 1
  {
    # cron's own PATH lacks where the AWS CLI lives; this script found it, so cron gets the same PATH.
    printf 'PATH=%s\nAWS_DEFAULT_REGION=%s\n' "$PATH" "$AWS_REGION"
    printf '*/5 * * * * root %q %q %q %q >>%q 2>&1\n' "$NOTEBOOK_BIN_DIR/notebook-idle-stop" "$IDLE_STOP_MINUTES" \
      "$NOTEBOOK_INSTANCE_NAME" "$NOTEBOOK_STATE_DIR/started-at" "$NOTEBOOK_STATE_DIR/idle-stop.log"
  } >"$cron_file"
  log "stopping the instance after $IDLE_STOP_MINUTES idle minutes"
}

# Jupyter started before this script; a restart makes it read the new environment and preferred folder.
restart_jupyter() {
  [[ -n $NOTEBOOK_JUPYTER_SERVICE ]] || return 0
  systemctl --no-block restart "$NOTEBOOK_JUPYTER_SERVICE"
}

log "on-start for $NOTEBOOK_INSTANCE_NAME"
step check_git_secret
step install_git_wiring
step sync_repository
step write_environment
step install_requirements
step schedule_idle_stop
step restart_jupyter
