# The pieces every ops subcommand shares, written once: the command registry and help, errors, the AWS CLI
# wrappers (dry-run, credentials check), stack outputs and waiting with progress. Sourced by scripts/ops.
# shellcheck shell=bash

OPS_PROG="scripts/ops"
OPS_DEFAULT_STACK="CustomerSegmentation"
OPS_DEFAULT_TIMEOUT=900
OPS_DEFAULT_POLL_SECONDS=15

# Settings filled by the option parser in scripts/ops.
OPS_STACK=""
OPS_DRY_RUN=0
# shellcheck disable=SC2034 # read by the command group files
OPS_WAIT=1
OPS_TIMEOUT=$OPS_DEFAULT_TIMEOUT
OPS_POLL=$OPS_DEFAULT_POLL_SECONDS

# ---------------------------------------------------------------------------------------------------------------
# Messages and errors. Results go to stdout (so `$(scripts/ops notebook url)` works); everything else to stderr.

say() { printf '%s\n' "$*" >&2; }

die() {
  printf 'ops: %s\n' "$*" >&2
  exit 1
}

usage_error() {
  printf 'ops: %s\n' "$*" >&2
  exit 2
}

dry_run() { ((OPS_DRY_RUN)); }

# ---------------------------------------------------------------------------------------------------------------
# Command registry: a group file calls ops_group once and ops_command once per subcommand, and defines
# cmd_<group>_<subcommand> (the work) and help_<group>_<subcommand> (the details for --help).

OPS_GROUPS=()
OPS_COMMANDS=()
declare -A OPS_SUMMARY=()

ops_group() {
  OPS_GROUPS+=("$1")
  OPS_SUMMARY[$1]=$2
}

ops_command() {
  OPS_COMMANDS+=("$1 $2")
  OPS_SUMMARY["$1 $2"]=$3
}

ops_is_group() { [[ -n ${1-} && " ${OPS_GROUPS[*]} " == *" $1 "* ]]; }

ops_is_command() { [[ -n ${2-} && " ${OPS_COMMANDS[*]/ /:} " == *" $1:$2 "* ]]; }

# ops_default_command GROUP SUB: `scripts/ops GROUP` alone runs `scripts/ops GROUP SUB`.
declare -A OPS_DEFAULT=()

ops_default_command() { OPS_DEFAULT[$1]=$2; }

# Options of one subcommand, next to the common ones the parser in scripts/ops knows:
#   ops_option "GROUP SUB" --name VALUE-NAME|"" "help" [repeatable]
# An empty VALUE-NAME makes a flag. Two subcommands sharing an option declare it alike. The parser collects what
# was given in OPS_GIVEN (option, value, option, value, ...; a flag's value is empty) and rejects an option the
# chosen subcommand does not declare; the subcommand reads them with option_given, option_value, option_values.
declare -A OPS_OPTION_ARG=()
declare -A OPS_OPTION_OWNERS=()
declare -A OPS_OPTION_HELP=()
declare -A OPS_OPTION_REPEATABLE=()
OPS_OPTION_ORDER=()
OPS_GIVEN=()

ops_option() {
  OPS_OPTION_ARG[$2]=$3
  OPS_OPTION_OWNERS[$2]+=" ${1/ /:} "
  OPS_OPTION_HELP["$1 $2"]=$4
  OPS_OPTION_ORDER+=("$1 $2")
  [[ ${5-} != repeatable ]] || OPS_OPTION_REPEATABLE[$2]=1
}

ops_is_option() { [[ -n ${OPS_OPTION_ARG[$1]+set} ]]; }

ops_option_takes_value() { [[ -n ${OPS_OPTION_ARG[$1]-} ]]; }

# ops_check_options GROUP SUB: every given option belongs to the subcommand and only repeatable ones repeat.
ops_check_options() {
  local i option seen=" "
  for ((i = 0; i < ${#OPS_GIVEN[@]}; i += 2)); do
    option=${OPS_GIVEN[i]}
    [[ ${OPS_OPTION_OWNERS[$option]} == *" $1:$2 "* ]] ||
      usage_error "unknown option '$option' (see '$OPS_PROG $1 $2 --help')"
    if [[ $seen == *" $option "* && -z ${OPS_OPTION_REPEATABLE[$option]-} ]]; then
      usage_error "option $option given more than once (see '$OPS_PROG $1 $2 --help')"
    fi
    seen+="$option "
  done
}

option_given() {
  local i
  for ((i = 0; i < ${#OPS_GIVEN[@]}; i += 2)); do
    [[ ${OPS_GIVEN[i]} != "$1" ]] || return 0
  done
  return 1
}

# option_value VAR OPTION: VAR is the value given for OPTION, empty when it was not given.
option_value() {
  local i
  printf -v "$1" '%s' ""
  for ((i = 0; i < ${#OPS_GIVEN[@]}; i += 2)); do
    [[ ${OPS_GIVEN[i]} != "$2" ]] || printf -v "$1" '%s' "${OPS_GIVEN[i + 1]}"
  done
}

# option_values OPTION: OPS_VALUES holds every value given for OPTION, in order.
OPS_VALUES=()
option_values() {
  local i
  OPS_VALUES=()
  for ((i = 0; i < ${#OPS_GIVEN[@]}; i += 2)); do
    [[ ${OPS_GIVEN[i]} != "$1" ]] || OPS_VALUES+=("${OPS_GIVEN[i + 1]}")
  done
}

ops_print_commands() {
  local group=${1-} command shown
  for command in "${OPS_COMMANDS[@]}"; do
    [[ -z $group || $command == "$group "* ]] || continue
    shown=$command
    [[ ${OPS_DEFAULT[${command%% *}]-} != "${command#* }" ]] || shown="${command%% *} [${command#* }]"
    printf '  %-18s %s\n' "$shown" "${OPS_SUMMARY[$command]}"
  done
}

# The options only this subcommand takes, as an "Options of this subcommand:" block; nothing when it has none.
ops_print_command_options() {
  local entry option value heading=0
  for entry in "${OPS_OPTION_ORDER[@]}"; do
    [[ $entry == "$1 "* ]] || continue
    option=${entry#"$1 "}
    value=${OPS_OPTION_ARG[$option]}
    if ((!heading)); then
      printf 'Options of this subcommand:\n'
      heading=1
    fi
    printf '  %-17s  %s\n' "$option${value:+ $value}" "${OPS_OPTION_HELP[$entry]}"
  done
  ((!heading)) || printf '\n'
}

ops_print_options() {
  cat <<EOF
Options:
  --stack NAME       CloudFormation stack whose outputs name the resources. Default: \$SEGMENTATION_STACK,
                     else the context key stackName in cdk.json, else $OPS_DEFAULT_STACK.
  --dry-run          Print every AWS CLI call, one per line as "+ aws ...", instead of making it (and an HTTP
                     request as the "+ curl ..." that makes it). Only the read-only name lookups (sts
                     get-caller-identity, cloudformation describe-stacks) really run; without credentials they
                     are printed too and names appear as placeholders such as "<NotebookInstanceName from stack
                     $OPS_DEFAULT_STACK>". The current state is not read, so the calls shown are those made from
                     the state that needs the most work.
  --no-wait          notebook start/stop: return once the request is accepted instead of waiting for the end state.
  --timeout SECONDS  notebook start/stop, pipeline run --wait: give up waiting after SECONDS (default
                     $OPS_DEFAULT_TIMEOUT); the operation itself carries on in AWS.
  -h, --help         Show help.

Environment:
  SEGMENTATION_STACK       Stack name when --stack is not given.
  OPS_POLL_SECONDS         Seconds between status polls while waiting (default $OPS_DEFAULT_POLL_SECONDS).
  AWS_PROFILE, AWS_REGION  Used by the AWS CLI as usual: the account and region the stack is deployed in.
EOF
}

ops_help() {
  cat <<EOF
Usage: $OPS_PROG <command> <subcommand> [options]

Operates the deployed customer-segmentation stack with the AWS CLI. Resource names come from the
CloudFormation stack outputs, so every deployed copy of the stack works the same way.

Commands:
EOF
  ops_print_commands
  printf '\n'
  ops_print_options
  printf '\nRun "%s <command> <subcommand> --help" for details.\n' "$OPS_PROG"
}

ops_group_help() {
  printf 'Usage: %s %s <subcommand> [options]\n\n%s\n\nSubcommands:\n' "$OPS_PROG" "$1" "${OPS_SUMMARY[$1]}"
  ops_print_commands "$1"
  printf '\n'
  ops_print_options
}

ops_command_help() {
  printf 'Usage: %s %s %s [options]\n\n%s\n\n' "$OPS_PROG" "$1" "$2" "${OPS_SUMMARY["$1 $2"]}"
  "help_$1_$2"
  printf '\n'
  ops_print_command_options "$1 $2"
  ops_print_options
}

# ---------------------------------------------------------------------------------------------------------------
# AWS CLI calls. Every call goes through one of three wrappers, so dry-run and the credentials check cannot be
# forgotten by a subcommand:
#   aws_lookup  read-only name lookups: run even in dry-run (when credentials allow), output in OPS_OUT
#   aws_read    read-only calls: printed in dry-run, otherwise run, output in OPS_OUT
#   aws_change  calls that change something: printed in dry-run, otherwise echoed to stderr and run

OPS_OUT=""
OPS_ERR=""
OPS_AWS_STATE=""
OPS_ERR_FILE=""

# Prints arguments as a command line a shell reads back unchanged: plain words bare, the rest single-quoted.
quote_command() {
  local arg line=""
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      line+=" $arg"
    else
      line+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  printf '%s\n' "${line# }"
}

print_call() { printf '+ %s\n' "$(quote_command aws "$@")"; }

# temp_file VAR: VAR names a new temporary file, removed when the command exits.
OPS_TEMP_FILES=()
temp_file() {
  local file
  file=$(mktemp)
  OPS_TEMP_FILES+=("$file")
  trap 'rm -f "${OPS_TEMP_FILES[@]}"' EXIT
  printf -v "$1" '%s' "$file"
}

# Runs `aws "$@"`, output in OPS_OUT, the CLI's error text in OPS_ERR; returns the CLI's exit code. The error
# text goes through a temporary file (a command substitution keeps only one stream).
aws_capture() {
  [[ -n $OPS_ERR_FILE ]] || temp_file OPS_ERR_FILE
  local code=0
  OPS_OUT=$(aws "$@" 2>"$OPS_ERR_FILE") || code=$?
  OPS_ERR=$(<"$OPS_ERR_FILE")
  return "$code"
}

# The first non-blank line of the CLI's error text: it carries the service's message.
aws_error_line() {
  local line
  while IFS= read -r line; do
    if [[ -n ${line//[[:space:]]/} ]]; then
      printf '%s' "$line"
      return
    fi
  done <<<"$OPS_ERR"
  printf 'no error text'
}

# Checks once that the CLI exists and has credentials. Outside dry-run a failure ends the command with what to
# do; in dry-run it returns 1 so the caller prints placeholders instead of names.
aws_ready() {
  if [[ -z $OPS_AWS_STATE ]]; then
    local identity=(sts get-caller-identity --query Arn --output text) problem=""
    if dry_run; then print_call "${identity[@]}"; fi
    if ! command -v aws >/dev/null 2>&1; then
      problem="the AWS CLI ('aws') is not on PATH"
    elif ! aws_capture "${identity[@]}"; then
      problem="no usable AWS credentials (aws sts get-caller-identity: $(aws_error_line))"
    fi
    if [[ -z $problem ]]; then
      OPS_AWS_STATE=ready
    elif dry_run; then
      OPS_AWS_STATE=unavailable
      say "ops: $problem; dry-run goes on with placeholders for names read from the stack"
    else
      die "$problem. Install the AWS CLI and configure credentials ('aws configure', or 'aws sso login' for SSO)," \
        "or set AWS_PROFILE to a configured profile and AWS_REGION to the region of stack '$OPS_STACK'."
    fi
  fi
  [[ $OPS_AWS_STATE == ready ]]
}

aws_lookup() {
  if dry_run; then print_call "$@"; fi
  aws_capture "$@"
}

aws_read() { aws_run read "$@"; }

# A read-only call whose failure the caller handles (a resource that may not exist yet): printed in dry-run
# (returns 0), otherwise run; returns the CLI's exit code with its error text in OPS_ERR.
aws_try() {
  if dry_run; then
    print_call "$@"
    return
  fi
  aws_ready
  aws_capture "$@"
}

aws_change() { aws_run change "$@"; }

aws_run() {
  local kind=$1
  shift
  if dry_run; then
    print_call "$@"
    return
  fi
  aws_ready
  if [[ $kind == change ]]; then say "$(print_call "$@")"; fi
  aws_capture "$@" || die "aws $1 $2 failed: $(aws_error_line)"
}

# ---------------------------------------------------------------------------------------------------------------
# Stack outputs: read once per run, looked up by key.

declare -A OPS_OUTPUTS=()
OPS_OUTPUTS_STATE=""

stack_outputs_load() {
  [[ -z $OPS_OUTPUTS_STATE ]] || return 0
  local query='Stacks[0].Outputs[].[OutputKey,OutputValue]'
  local call=(cloudformation describe-stacks --stack-name "$OPS_STACK" --query "$query" --output text)
  if ! aws_ready; then
    print_call "${call[@]}"
    OPS_OUTPUTS_STATE=placeholders
    return
  fi
  if ! aws_lookup "${call[@]}"; then
    [[ $OPS_ERR != *"does not exist"* ]] || die "stack '$OPS_STACK' does not exist in this account and region." \
      "Deploy it with 'cdk deploy', or name the deployed stack with --stack NAME or SEGMENTATION_STACK" \
      "(and check AWS_REGION)."
    die "aws cloudformation describe-stacks failed: $(aws_error_line)"
  fi
  local key value
  # The CLI prints "None" for a stack without outputs.
  while IFS=$'\t' read -r key value; do
    if [[ -n $key && $key != None ]]; then OPS_OUTPUTS[$key]=$value; fi
  done <<<"$OPS_OUT"
  OPS_OUTPUTS_STATE=loaded
}

# stack_output VAR KEY: sets VAR to the value of the stack output KEY (a placeholder in dry-run without
# credentials); a missing output ends the command naming the stack and the output.
stack_output() {
  stack_output_if_any "$1" "$2"
  if [[ -z ${!1} ]]; then
    local present
    present=$(printf '%s\n' "${!OPS_OUTPUTS[@]}" | sort | paste -sd, - | sed 's/,/, /g')
    die "stack '$OPS_STACK' has no output '$2' (its outputs: ${present:-none})." \
      "Deploy the current version of the stack with 'cdk deploy'."
  fi
}

# stack_output_if_any VAR KEY: like stack_output for an output the stack has only in some configurations; VAR is
# empty when the stack has no output KEY.
stack_output_if_any() {
  stack_outputs_load
  if [[ $OPS_OUTPUTS_STATE == placeholders ]]; then
    printf -v "$1" '<%s from stack %s>' "$2" "$OPS_STACK"
  else
    printf -v "$1" '%s' "${OPS_OUTPUTS[$2]-}"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Waiting with progress.

# Status readers set OPS_STATUS (and OPS_REASON, the service's explanation of a failure). In dry-run they print
# their call and report the status they are given as $1.
OPS_STATUS=""
OPS_REASON=""

# wait_for_status WHAT TARGET "FAILED STATES" READER: polls READER until OPS_STATUS is TARGET, printing the
# status on every poll. Ends the command on a failed state (with the reason) or after OPS_TIMEOUT seconds.
wait_for_status() {
  local what=$1 target=$2 failed=$3 reader=$4 started=$SECONDS
  if dry_run; then
    "$reader" "$target"
    printf '# the call above repeats every %ss until %s is %s (timeout %ss)\n' \
      "$OPS_POLL" "$what" "$target" "$OPS_TIMEOUT"
    return
  fi
  while :; do
    "$reader" "$target"
    say "$what: $OPS_STATUS ($((SECONDS - started))s)"
    [[ $OPS_STATUS != "$target" ]] || return 0
    if [[ " $failed " == *" $OPS_STATUS "* ]]; then
      die "$what is $OPS_STATUS: ${OPS_REASON:-the service gave no reason}"
    fi
    if ((SECONDS - started >= OPS_TIMEOUT)); then
      die "timed out after ${OPS_TIMEOUT}s waiting for $what to be $target (last status: $OPS_STATUS)." \
        "It may still get there; check again with the status subcommand."
    fi
    sleep "$OPS_POLL"
  done
}
