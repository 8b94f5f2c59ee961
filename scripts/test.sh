#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every suite (xunit projects, pytest, the
# formatting check) and ends with one line over all of them: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/env.sh
source scripts/env.sh

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
checks="$results/checks.tsv"
: >"$checks"

# A check that is not a test framework's test still counts: one line "name<TAB>passed|failed" per check.
record() { printf '%s\t%s\n' "$1" "$2" >>"$checks"; }

if ! scripts/setup.sh; then
  record setup failed
  scripts/summarize-tests.py "$results"
  exit 1
fi

# The API's contract is a build artifact a CRM imports (Salesforce External Services); the Lambdas tests hold every
# answer the handlers give to this very file.
cp lambdas/RecommendationsApi/openapi.json artifacts/openapi.json

if dotnet build Infra.sln --nologo --verbosity quiet; then
  record build passed
  dotnet test Infra.sln --no-build --nologo --verbosity quiet \
    --logger "trx" --results-directory "$results/dotnet" -- RunConfiguration.TreatNoTestsAsError=true
else
  record build failed
fi

if dotnet format Infra.sln --verify-no-changes --verbosity quiet; then
  record dotnet-format passed
else
  record dotnet-format failed
fi

# A base folder of its own: pytest's default /tmp/pytest-of-$USER/pytest-N is pruned to the newest three by every
# other pytest session on the machine, which deleted a running end-to-end test's work folder under it.
pytest_tmp=$(mktemp -d)
"$SEGMENTATION_PYTHON" -m pytest tests/python -q -p no:cacheprovider --basetemp "$pytest_tmp/pytest" \
  --junitxml="$results/pytest.xml"
rm -rf "$pytest_tmp"

scripts/summarize-tests.py "$results"
