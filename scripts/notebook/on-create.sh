#!/bin/bash
# Lifecycle "OnCreate": runs once, as root, when the notebook instance is created (before the first on-start).
# The first clone happens here because it is the slowest network step and each script has its own 5-minute limit.
# shellcheck source=scripts/notebook/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log "on-create for $NOTEBOOK_INSTANCE_NAME"
step check_git_secret
step install_git_wiring
step sync_repository
