#!/usr/bin/env bash
# The README's run command. Installs what is missing, synthesizes the CDK app into cdk.out and prints what
# `cdk deploy` would create. Extra arguments are passed to the app as context (e.g. -c notebook:volumeSizeGb=50).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

scripts/setup.sh
started=$(date +%s%N)
npx --no-install cdk synth --quiet --no-version-reporting --output cdk.out "$@" >/dev/null
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
"$SEGMENTATION_PYTHON" scripts/synth-summary.py cdk.out
printf 'Synthesized into cdk.out in %d.%03d s. Deploy with: npx cdk deploy\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
