#!/usr/bin/env bash
# Installs everything the run and test commands need, and nothing twice: Debian packages (the scikit-learn that
# matches the SageMaker 1.2-1 container, the botocore service models, shellcheck), the pinned npm tools, and the
# NuGet packages. Safe to run on every invocation.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  python3-sklearn python3-pandas python3-joblib python3-pytest python3-botocore python3-boto3
  # Optimised BLAS, as the container's numpy has: with Debian's reference BLAS a 2000x2000 matrix product takes
  # 5.6 s instead of 0.4 s, and KMeans/silhouette in train.py slow down accordingly.
  libopenblas0-pthread
  shellcheck git
  # The AWS CLI scripts/ops drives; its tests also check the CLI stand-in against the real CLI's output.
  awscli
  # `scripts/ops api test` sends its request with curl and reads the answer with jq.
  curl jq
  # The notebook's plots, and executing it headless in the tests (nbclient runs it in an ipykernel kernel).
  python3-matplotlib python3-nbclient python3-nbformat python3-ipykernel
  # Cross-compiling the native-AOT Lambdas for arm64 (the default architecture) on an x64 machine: synthesis publishes
  # with -p:CppCompilerAndLinker=clang-14 -p:ObjCopyName=aarch64-linux-gnu-objcopy against the arm64 glibc.
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu clang-14
  # The browser the explorer page test drives headless through Microsoft.Playwright (it never downloads one).
  chromium
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the installed tree is not the one package-lock.json describes.
if ! cmp -s package-lock.json node_modules/.setup-lock 2>/dev/null; then
  log "installing npm tools from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.setup-lock
fi

log "restoring NuGet packages"
dotnet restore Infra.sln --verbosity quiet
