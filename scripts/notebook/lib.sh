#!/bin/bash
# Shared by on-create.sh and on-start.sh; the CDK app inlines it into both lifecycle scripts at synth (a lifecycle
# configuration cannot ship extra files). Configuration arrives as shell variables assigned above this code:
# DATA_BUCKET, MODEL_BUCKET, PROJECT_NAME, AWS_REGION, NOTEBOOK_INSTANCE_NAME, GIT_REPOSITORY_URL, GIT_BRANCH,
# GIT_SECRET_ID, GIT_USER_NAME, GIT_USER_EMAIL, IDLE_STOP_MINUTES.
#
# A failing step is logged and skipped: SageMaker refuses to start a notebook whose lifecycle script fails or runs
# longer than 5 minutes, and a data scientist locked out of the notebook cannot fix a wrong secret or URL from it.
# The SageMaker paths below may be redirected through the environment (the sandbox tests do).
set -o pipefail

NOTEBOOK_USER=${NOTEBOOK_USER:-ec2-user}
NOTEBOOK_HOME=${NOTEBOOK_HOME:-/home/ec2-user}
NOTEBOOK_PROFILE_DIR=${NOTEBOOK_PROFILE_DIR:-/etc/profile.d}
NOTEBOOK_JUPYTER_CONFIG_DIR=${NOTEBOOK_JUPYTER_CONFIG_DIR:-$NOTEBOOK_HOME/.jupyter}
NOTEBOOK_BIN_DIR=${NOTEBOOK_BIN_DIR:-/usr/local/bin}
NOTEBOOK_CRON_DIR=${NOTEBOOK_CRON_DIR:-/etc/cron.d}
NOTEBOOK_STATE_DIR=${NOTEBOOK_STATE_DIR:-/var/log/notebook-platform}
NOTEBOOK_PIP=${NOTEBOOK_PIP:-$NOTEBOOK_HOME/anaconda3/envs/python3/bin/pip}
# Empty disables the restart (no systemd in the sandbox).
NOTEBOOK_JUPYTER_SERVICE=${NOTEBOOK_JUPYTER_SERVICE-jupyter-server}
# Keeps the slowest step, a clone over a bad network, well inside SageMaker's 5-minute limit.
GIT_TIMEOUT_SECONDS=${GIT_TIMEOUT_SECONDS:-120}

export DATA_BUCKET MODEL_BUCKET PROJECT_NAME AWS_REGION
export AWS_DEFAULT_REGION=$AWS_REGION

repository_name=$(basename "${GIT_REPOSITORY_URL%/}" .git)
repository_dir=$NOTEBOOK_HOME/SageMaker/$repository_name
credential_helper=$NOTEBOOK_BIN_DIR/notebook-git-credential

log() { printf '%s notebook-lifecycle: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# Runs each step; a failure is reported and the script goes on with the next one.
step() {
  log "step $1: starting"
  if "$@"; then
    log "step $1: done"
  else
    log "ERROR: step $1 failed (status $?); continuing so the notebook still starts"
  fi
}

# Whatever happens (even an unexpected error), the notebook must start.
finish() {
  local status=$?
  ((status == 0)) || log "ERROR: lifecycle script stopped with status $status"
  log "finished"
  exit 0
}
trap finish EXIT

as_notebook_user() {
  local runner=()
  [[ $(id -un) == "$NOTEBOOK_USER" ]] || runner=(sudo -u "$NOTEBOOK_USER")
  "${runner[@]}" env HOME="$NOTEBOOK_HOME" PATH="$PATH" AWS_DEFAULT_REGION="$AWS_REGION" GIT_TERMINAL_PROMPT=0 "$@"
}

install_helper() {
  "$1" >"$2" && chmod 0755 "$2"
}

# The helper reads the token from Secrets Manager each time git asks, so no token is ever written to disk.
install_git_wiring() {
  [[ -n $GIT_REPOSITORY_URL ]] || { log "git:repositoryUrl is not set: no repository wiring"; return 0; }
  mkdir -p "$NOTEBOOK_BIN_DIR" && install_helper helper_git_credential "$credential_helper" || return 1
  local host_url helper_command
  host_url=$(printf '%s' "$GIT_REPOSITORY_URL" | cut -d/ -f1-3)
  helper_command=$(printf '%q %q %q' "$credential_helper" "$GIT_SECRET_ID" "$AWS_REGION")
  as_notebook_user git config --global --replace-all "credential.$host_url.helper" "$helper_command" &&
    as_notebook_user git config --global user.name "$GIT_USER_NAME" &&
    as_notebook_user git config --global user.email "$GIT_USER_EMAIL"
}

# Only checks the secret and reports what is wrong with it; its token is never printed or stored.
check_git_secret() {
  [[ -n $GIT_REPOSITORY_URL ]] || return 0
  local response username
  if ! response=$(aws secretsmanager get-secret-value --secret-id "$GIT_SECRET_ID" --region "$AWS_REGION" --output json 2>&1); then
    log "ERROR: cannot read git secret $GIT_SECRET_ID: $response"
    log "ERROR: store {\"username\":\"...\",\"token\":\"...\"} in it with aws secretsmanager put-secret-value; git access to $GIT_REPOSITORY_URL needs it"
    return 1
  fi
  if ! username=$(printf '%s' "$response" | python3 -c 'import json,sys; s=json.loads(json.load(sys.stdin)["SecretString"]); print(s["username"]) if s.get("token") else sys.exit(1)'); then
    log "ERROR: git secret $GIT_SECRET_ID is not JSON with non-empty \"username\" and \"token\""
    return 1
  fi
  if [[ $username == REPLACE_ME ]]; then
    log "ERROR: git secret $GIT_SECRET_ID still holds the generated placeholder; put your GitHub user name and token in it"
    return 1
  fi
  log "git secret $GIT_SECRET_ID holds credentials for user $username"
}

# Clones on the first start and fast-forwards on later ones; local work that diverged is left alone and reported.
sync_repository() {
  [[ -n $GIT_REPOSITORY_URL ]] || return 0
  if [[ -d $repository_dir/.git ]]; then
    log "pulling $GIT_BRANCH into $repository_dir"
    as_notebook_user timeout "$GIT_TIMEOUT_SECONDS" git -C "$repository_dir" pull --ff-only origin "$GIT_BRANCH"
  else
    log "cloning $GIT_REPOSITORY_URL ($GIT_BRANCH) into $repository_dir"
    as_notebook_user timeout "$GIT_TIMEOUT_SECONDS" git clone --branch "$GIT_BRANCH" "$GIT_REPOSITORY_URL" "$repository_dir"
  fi
}
