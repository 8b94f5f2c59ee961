#!/usr/bin/env bash
# The README's run command: the whole platform on this machine, no AWS account. Installs what is missing,
# synthesizes the CDK app for this machine's CPU, runs both pipelines with the local runner in one local environment:
# the training pipeline on the sample data (or --data), which deploys the model through the real EndpointDeployer to a
# local endpoint serving inference.py, and the recommendations pipeline on generated B2B data, which publishes to the
# serving table in dynalite. Serves the stack's REST API (the real SegmentProxy and RecommendationsApi) on a loopback
# port, sends example requests and prints the answers. Without --serve it then stops everything; with --serve it keeps
# serving until Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

usage() {
  cat <<'EOF'
Usage: scripts/run.sh [--data FILE.csv] [--port N] [--serve] [--work-dir DIR] [-c key=value ...]

  --data FILE.csv   train the segmentation model on this CSV (header Age, Gender, Income, Purchases; bad rows are
                    reported and left out) instead of generated sample data; the recommendations pipeline always
                    runs on generated B2B data
  --port N          serve the API on 127.0.0.1:N (default 8080; 0 picks a free port)
  --serve           keep the API, the endpoint, the tables and the functions running until Ctrl+C
  --work-dir DIR    where the run keeps its files (default .work/local)
  -c key=value      CDK context for the synthesis, e.g. -c pipeline:nClusters=4 (see the README's settings table)
EOF
}

data="" port=8080 serve=false work=.work/local context=()
while (($#)); do
  case "$1" in
    --data|--port|--work-dir|-c)
      if (($# < 2)); then echo "run.sh: $1 needs a value." >&2; usage >&2; exit 2; fi
      case "$1" in
        --data) data=$2 ;;
        --port) port=$2 ;;
        --work-dir) work=$2 ;;
        -c) context+=(-c "$2") ;;
      esac
      shift 2 ;;
    --serve) serve=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'." >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ $port =~ ^[0-9]+$ ]] || ((port > 65535)); then
  echo "run.sh: --port '$port' must be a number from 0 to 65535." >&2; exit 2
fi
if [[ -n $data && ! -f $data ]]; then
  echo "run.sh: --data '$data' is not a file." >&2; exit 2
fi

phase_started=0
declare -a phases=()
begin() { phase_started=$(date +%s%N); printf '\n== %s\n' "$1"; }
end() {
  local ms=$(( ($(date +%s%N) - phase_started) / 1000000 ))
  phases+=("$(printf '%-34s %6d.%03d s' "$1" $((ms / 1000)) $((ms % 1000)))")
  printf '   (%d.%03d s)\n' $((ms / 1000)) $((ms % 1000))
}
print_phases() { printf '\nPhase timings:\n'; printf '  %s\n' "${phases[@]}"; }

begin "Install what is missing"
scripts/setup.sh
end "setup"

# The functions run as native processes here, so they are compiled for this machine's CPU (AWS gets arm64).
case "$(uname -m)" in
  x86_64) architecture=x86_64 ;;
  aarch64|arm64) architecture=arm64 ;;
  *) echo "run.sh: no native-AOT Lambda build for CPU '$(uname -m)'." >&2; exit 2 ;;
esac
mkdir -p "$work" .work
work=$(cd "$work" && pwd)
# One synthesis folder for every work folder: CDK reuses the functions' native builds it holds (keyed by a hash of
# their sources), which are most of the synthesis time.
cdk_out="$PWD/.work/cdk.out.local"

begin "Synthesize the CDK app ($architecture functions)"
npx --no-install cdk synth --quiet --no-version-reporting --output "$cdk_out" \
  -c "deployment:lambdaArchitecture=$architecture" "${context[@]}" >/dev/null
"$SEGMENTATION_PYTHON" scripts/synth-summary.py "$cdk_out"
end "synthesize (bundles every function)"

begin "Prepare the training data"
if [[ -z $data ]]; then
  data="$work/customers.csv"
  "$SEGMENTATION_PYTHON" scripts/sample_data/customers.py --rows 2000 --seed 7 --segments 4 --out "$data"
fi
# The runner creates the bucket in the local S3; DataFile (a pipeline parameter in AWS too) points the run at it.
data_uri=s3://local-input/customers.csv
echo "training on $data (uploaded to $data_uri)"
end "training data"

begin "Prepare the recommendations data (generated B2B customers, products, invoices, feedback)"
b2b="$work/b2b"
(cd scripts && "$SEGMENTATION_PYTHON" -B -m sample_data.b2b --invoices 20000 --customers 1000 --products 300 --seed 7 \
  --feedback-rows 300 --out "$b2b")
# As DataFile for training: the runner uploads each CSV, and the pipeline's Input* parameters (S3 prefixes, the same
# parameters as in AWS) point the run at them.
b2b_inputs=()
for table in customers products invoices feedback; do
  b2b_inputs+=(--upload "$b2b/$table/$table.csv=s3://local-input/recommendations/$table/$table.csv"
    --param "Input${table^}=s3://local-input/recommendations/$table/")
done
end "recommendations data"

# The stack's two pipelines, named after projectName.
project=$(sed -n 's/.*"projectName": *"\([^"]*\)".*/\1/p' cdk.json)
for setting in "${context[@]}"; do
  if [[ $setting == projectName=* ]]; then project=${setting#projectName=}; fi
done

begin "Build the local runner"
dotnet build infra/LocalPipelineRunner -c Release --nologo --verbosity quiet
end "build the local runner"

log="$work/runner.log"
runner_pid=""
stop_runner() {
  if [[ -n $runner_pid ]] && kill -0 "$runner_pid" 2>/dev/null; then
    # Ctrl+C for the runner: it stops the functions, the model servers, S3 and DynamoDB it started, then exits.
    kill -INT "$runner_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.1; done
    # Its own process group: anything a crash left behind goes with it.
    kill -KILL -- "-$runner_pid" 2>/dev/null || true
    wait "$runner_pid" 2>/dev/null || true
  fi
  runner_pid=""
}
trap stop_runner EXIT
trap 'echo; echo "Stopping."; stop_runner; print_phases; exit 130' INT TERM

begin "Run both pipelines, deploy the model and start the API"
# One runner, both pipelines one after the other in one local environment: the API it then serves reads the table the
# recommendations run published (dynalite, started and stopped by the runner) and calls the endpoint the training run
# deployed. Each --param goes to the pipelines that declare it (ModelApprovalStatus to both).
# Job control puts the runner in its own process group (a background job of a script would otherwise ignore
# SIGINT, the signal it stops cleanly on), so Ctrl+C here reaches only this script, which then stops the runner.
# The log exists before the runner starts: the loop below reads it at once, maybe before the background job opened it.
: >"$log"
set -m
dotnet infra/LocalPipelineRunner/bin/Release/net10.0/LocalPipelineRunner.dll \
  --cdk-out "$cdk_out" --pipeline "$project-training" --pipeline "$project-recommendations" \
  --work-dir "$work/pipeline" --serve --port "$port" \
  --upload "$data=$data_uri" --param "DataFile=$data_uri" "${b2b_inputs[@]}" \
  --param ModelApprovalStatus=Approved >"$log" 2>&1 &
runner_pid=$!
set +m
api="" key="" printed=0
show_new_lines() {
  local total
  total=$(wc -l <"$log")
  if ((total > printed)); then
    sed -n "$((printed + 1)),${total}p" "$log" | grep -v '^API key ' || true
    printed=$total
  fi
}
until [[ -n $api ]]; do
  show_new_lines
  if ! kill -0 "$runner_pid" 2>/dev/null; then
    show_new_lines
    wait "$runner_pid" 2>/dev/null && status=0 || status=$?
    runner_pid=""
    echo "run.sh: the local runner stopped (exit $status) before serving the API; its log is $log." >&2
    exit 1
  fi
  api=$(sed -n 's/^API: //p' "$log" | head -n 1)
  sleep 0.2
done
show_new_lines
key=$(sed -n 's/^API key [^:]*: \([^ ]*\).*/\1/p' "$log" | head -n 1)
end "pipelines, deployment and API"
# Each execution's own time, from the runner's summary line "Pipeline <name> execution <id>: <status> in <s> s".
while read -r name seconds; do
  phases+=("$(printf '  %-32s %10s s' "${name#"$project-"} pipeline" "$seconds")")
done < <(sed -n 's/^Pipeline \([^ ]*\) execution [^ ]*: [A-Za-z]* in \([0-9.]*\) s$/\1 \2/p' "$log")
failed=$(sed -n 's/^Pipeline \([^ ]*\) execution [^ ]*: Failed.*/\1/p' "$log" | paste -sd ' ' -)
if [[ -n $failed ]]; then
  echo "run.sh: the execution of $failed failed: $(sed -n 's/^Failure reason: //p' "$log" | head -n 1)" >&2
  echo "The executions' steps and their output are above; the runner's log is $log." >&2
  exit 1
fi

begin "Example requests"
"$SEGMENTATION_PYTHON" scripts/local/example_requests.py --api "$api" ${key:+--key "$key"}
end "example requests"

begin "Example recommendation requests"
"$SEGMENTATION_PYTHON" scripts/local/example_recommendations.py --api "$api" ${key:+--key "$key"} \
  --customers "$b2b/customers/customers.csv"
end "recommendation requests"

printf '\nSegment explorer: %s\nAccount manager page: %saccount-manager\nSales leader page: %ssales-leader\n' "$api" "$api" "$api"
printf 'OpenAPI document: %sopenapi.json\nAPI: %s%s\n' "$api" "$api" "${key:+ (x-api-key: $key)}"
if $serve; then
  print_phases
  echo "Serving until Ctrl+C (runner log: $log)."
  wait "$runner_pid" || true
  runner_pid=""
else
  begin "Stop every local service"
  stop_runner
  end "shutdown"
  print_phases
fi
