#!/usr/bin/env bash
# Cold start of the EndpointDeployer: the native-AOT bootstrap (as CDK bundles it) against the same handler on the
# JIT runtime (`dotnet bootstrap.dll`), each measured from process start to its first response through a loopback
# Lambda Runtime API (median of RUNS, default 20), plus the size of the zipped bootstrap Lambda would receive.
# The event is an Endpoint State Change for another endpoint: parse, decide, answer, with no AWS call, so the figure is
# start-up + initialization (settings, SageMaker/Auto Scaling/S3 clients) + one handler pass.
# Usage: scripts/benchmarks/deployer_cold_start.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
runs="${1:-20}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
project=lambdas/EndpointDeployer/EndpointDeployer.csproj

dotnet publish "$project" -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" \
  --artifacts-path "$out/artifacts-aot" --nologo -v quiet >/dev/null
dotnet publish "$project" -c Release -r linux-x64 -p:PublishAot=false --self-contained false -o "$out/jit" \
  --artifacts-path "$out/artifacts-jit" --nologo -v quiet >/dev/null
(cd "$out/aot" && zip -q -X "$out/bootstrap.zip" bootstrap)

event='{"version":"0","detail-type":"SageMaker Endpoint State Change","source":"aws.sagemaker","detail":{"EndpointName":"another-endpoint","EndpointStatus":"IN_SERVICE"}}'
settings=(
  --env ENDPOINT_NAME=segmentation-endpoint --env MODEL_PACKAGE_GROUP_NAME=segmentation-models
  --env EXECUTION_ROLE_ARN=arn:aws:iam::123456789012:role/segmentation-sagemaker --env INSTANCE_TYPE=ml.m5.large
  --env MODEL_BUCKET=segmentation-model-bucket --env AWS_REGION=us-east-1
  --env AWS_ACCESS_KEY_ID=AKIDBENCHMARK --env AWS_SECRET_ACCESS_KEY=benchmark-secret
)
python=/usr/bin/python3
"$python" scripts/benchmarks/lambda_cold_start.py --runs "$runs" --label aot --event "$event" "${settings[@]}" -- "$out/aot/bootstrap"
"$python" scripts/benchmarks/lambda_cold_start.py --runs "$runs" --label jit --event "$event" "${settings[@]}" -- dotnet "$out/jit/bootstrap.dll"
echo "{\"bootstrap_bytes\": $(stat -c %s "$out/aot/bootstrap"), \"bootstrap_zip_bytes\": $(stat -c %s "$out/bootstrap.zip"), \"machine\": \"$(nproc) cpu, $(uname -m)\"}"
