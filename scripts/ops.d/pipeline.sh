# ops pipeline: the SageMaker training pipeline (stack output PipelineName), started and followed.
# Sourced by scripts/ops after lib.sh; artifacts.sh uses pipeline_latest_execution.
# shellcheck shell=bash

ops_group pipeline "Start the training pipeline and follow its executions (stack output PipelineName)."
ops_command pipeline run "Start a pipeline execution, optionally with parameters, and print its ARN."
ops_command pipeline status "Print an execution's status and the status of each of its steps."
ops_option "pipeline run" --param Name=Value \
  "Set a pipeline parameter for this execution (NClusters=5, Features=Age,SpendingPower); repeatable." repeatable
ops_option "pipeline run" --wait "" "Wait until the execution ends, then print its steps as status does."
ops_option "pipeline status" --execution ARN "The execution to show (default: the latest one)."

# SageMaker's rules for StartPipelineExecution (the botocore model): names, value length, how many.
PIPELINE_PARAM_NAME='^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$'
PIPELINE_PARAM_VALUE_MAX=1024
PIPELINE_PARAMS_MAX=50
PIPELINE_EXECUTION_ARN='^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:pipeline/.+/execution/.+$'

PIPELINE=""
EXECUTION=""

pipeline_resolve() { stack_output PIPELINE PipelineName; }

# TEXT as a JSON string: quotes, backslashes and control characters escaped, everything else as given.
json_string() {
  local text=$1 out="" char i code
  for ((i = 0; i < ${#text}; i++)); do
    char=${text:i:1}
    case $char in
      \\ | '"') out+="\\$char" ;;
      *)
        printf -v code '%d' "'$char"
        if ((code >= 0 && code < 32)); then
          printf -v char '\\u%04x' "$code"
        fi
        out+=$char
        ;;
    esac
  done
  printf '"%s"' "$out"
}

# Checks every --param before any AWS call and sets PIPELINE_PARAMETERS to the JSON list the CLI takes (the
# shorthand syntax cannot carry a value with a comma, such as Features=Age,Income).
PIPELINE_PARAMETERS=""
pipeline_parameters() {
  option_values --param
  ((${#OPS_VALUES[@]} <= PIPELINE_PARAMS_MAX)) ||
    usage_error "--param given ${#OPS_VALUES[@]} times; a pipeline execution takes at most $PIPELINE_PARAMS_MAX"
  local assignment name value seen=" " items=()
  for assignment in "${OPS_VALUES[@]}"; do
    [[ $assignment == *=* ]] || usage_error "--param needs Name=Value, got '$assignment'"
    name=${assignment%%=*}
    value=${assignment#*=}
    [[ $name =~ $PIPELINE_PARAM_NAME ]] ||
      usage_error "--param '$assignment': '$name' is not a pipeline parameter name (letters and digits, hyphens" \
        "between them, at most 256)"
    [[ $seen != *" $name "* ]] || usage_error "--param $name given more than once"
    ((${#value} <= PIPELINE_PARAM_VALUE_MAX)) ||
      usage_error "--param $name: the value has ${#value} characters; SageMaker takes at most $PIPELINE_PARAM_VALUE_MAX"
    seen+="$name "
    items+=("{\"Name\":$(json_string "$name"),\"Value\":$(json_string "$value")}")
  done
  local IFS=,
  PIPELINE_PARAMETERS=${items[*]:+[${items[*]}]}
}

# The execution id is the last part of its ARN; it names the run's prefix in the model bucket.
execution_id() { printf '%s' "${1##*/}"; }

# Sets EXECUTION to the --execution given (checked against SageMaker's ARN pattern), else leaves it empty.
pipeline_execution_option() {
  option_value EXECUTION --execution
  ! option_given --execution || [[ $EXECUTION =~ $PIPELINE_EXECUTION_ARN ]] ||
    usage_error "--execution needs a pipeline execution ARN" \
      "(arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID), got '$EXECUTION'"
}

# Sets EXECUTION and EXECUTION_STATUS to the pipeline's most recent execution; ends the command when there is none.
EXECUTION_STATUS=""
pipeline_latest_execution() {
  pipeline_resolve
  aws_read sagemaker list-pipeline-executions --pipeline-name "$PIPELINE" --sort-by CreationTime \
    --sort-order Descending --max-results 1 --no-paginate \
    --query 'PipelineExecutionSummaries[0].[PipelineExecutionArn,PipelineExecutionStatus]' --output text
  if dry_run; then
    EXECUTION="<PipelineExecutionArn from list-pipeline-executions>"
    EXECUTION_STATUS=""
    return
  fi
  # shellcheck disable=SC2034 # artifacts.sh shows it
  IFS=$'\t' read -r EXECUTION EXECUTION_STATUS <<<"$OPS_OUT"
  [[ $EXECUTION != None && -n $EXECUTION ]] ||
    die "pipeline $PIPELINE has no executions yet; start one with: $OPS_PROG pipeline run"
}

# Sets OPS_STATUS and OPS_REASON (SageMaker's own reason) from DescribePipelineExecution; prints the call in dry-run.
pipeline_describe() {
  aws_read sagemaker describe-pipeline-execution --pipeline-execution-arn "$EXECUTION" \
    --query '[PipelineExecutionStatus,FailureReason]' --output text
  dry_run && return
  IFS=$'\t' read -r OPS_STATUS OPS_REASON <<<"$OPS_OUT"
  [[ $OPS_REASON != None ]] || OPS_REASON=""
}

# The steps as "name<TAB>status<TAB>failure reason" lines in OPS_OUT, in the order they started.
pipeline_read_steps() {
  aws_read sagemaker list-pipeline-execution-steps --pipeline-execution-arn "$EXECUTION" --sort-order Ascending \
    --query 'PipelineExecutionSteps[].[StepName,StepStatus,FailureReason]' --output text
}

# A failed execution's own reason only says that a step failed: the failed steps' reasons (read from the step
# lines in OPS_OUT) replace it.
pipeline_failed_steps_reason() {
  local name status reason reasons=""
  while IFS=$'\t' read -r name status reason; do
    [[ $status == Failed ]] || continue
    [[ $reason != None && -n $reason ]] || reason="no reason given"
    reasons+="${reasons:+; }step $name: $reason"
  done <<<"$OPS_OUT"
  [[ -z $reasons ]] || OPS_REASON=$reasons
}

# Status reader for wait_for_status (see lib.sh).
pipeline_read_status() {
  pipeline_describe
  if dry_run; then
    OPS_STATUS=$1
    OPS_REASON=""
    return
  fi
  if [[ $OPS_STATUS == Failed ]]; then
    pipeline_read_steps
    pipeline_failed_steps_reason
  fi
}

# Prints the execution's status and one line per step that has started.
pipeline_print_execution() {
  pipeline_describe
  pipeline_read_steps
  dry_run && return
  [[ $OPS_STATUS != Failed ]] || pipeline_failed_steps_reason
  printf 'execution: %s\nstatus:    %s\n' "$EXECUTION" "$OPS_STATUS"
  [[ -z $OPS_REASON ]] || printf 'failure:   %s\n' "$OPS_REASON"
  if [[ -z $OPS_OUT ]]; then
    printf '\nno step has started yet\n'
    return
  fi
  printf '\n  %-20s %-12s %s\n' step status failure
  local name status reason
  while IFS=$'\t' read -r name status reason; do
    if [[ $reason == None || -z $reason ]]; then
      printf '  %-20s %s\n' "$name" "$status"
    else
      printf '  %-20s %-12s %s\n' "$name" "$status" "$reason"
    fi
  done <<<"$OPS_OUT"
}

help_pipeline_run() {
  cat <<'EOF'
Starts the pipeline with its default parameters, or with those given by --param (names as the pipeline declares
them: DataFile, Features, NClusters, MaxK, NComponents, RandomSeed, ValidationFraction, MinSilhouette,
MinClusterFraction, ProcessingInstanceType, TrainingInstanceType, InferenceInstanceType, ModelApprovalStatus).
Each --param is checked before anything is started; SageMaker checks the names and values against the pipeline.
Prints the execution ARN. With --wait, prints the status on every poll until the execution ends, then its steps;
a failed execution ends the command with the failed steps' reasons. --timeout applies to the wait.
EOF
}

cmd_pipeline_run() {
  pipeline_parameters
  pipeline_resolve
  local call=(sagemaker start-pipeline-execution --pipeline-name "$PIPELINE")
  [[ -z $PIPELINE_PARAMETERS ]] || call+=(--pipeline-parameters "$PIPELINE_PARAMETERS")
  aws_change "${call[@]}" --query PipelineExecutionArn --output text
  if dry_run; then
    EXECUTION="<PipelineExecutionArn from start-pipeline-execution>"
  else
    EXECUTION=$OPS_OUT
    printf '%s\n' "$EXECUTION"
  fi
  if option_given --wait; then
    wait_for_status "pipeline execution $(execution_id "$EXECUTION")" Succeeded "Failed Stopped" pipeline_read_status
    pipeline_print_execution
  else
    say "follow it with: $OPS_PROG pipeline status --execution $EXECUTION"
  fi
}

help_pipeline_status() {
  cat <<'EOF'
Prints "execution:" and "status:" lines (plus "failure:" with the failed steps' reasons when it failed), then
one line per step that has started, in the order they started: name, status, failure reason. Statuses are
SageMaker's: Executing, Stopping, Stopped, Failed, Succeeded (steps also Starting).
EOF
}

cmd_pipeline_status() {
  pipeline_execution_option
  [[ -n $EXECUTION ]] || pipeline_latest_execution
  pipeline_print_execution
}
