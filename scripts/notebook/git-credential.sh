#!/bin/bash
# git credential helper (installed as notebook-git-credential): git runs "<helper> <secret-id> <region> get" when
# a remote asks for credentials and reads "username=" and "password=" lines. The token comes from Secrets Manager
# each time, so it is never written to .git/config or anywhere else on disk; "store" and "erase" do nothing.
set -o pipefail
secret_id=$1 region=$2 action=$3
cat >/dev/null
[[ $action == get ]] || exit 0
aws secretsmanager get-secret-value --secret-id "$secret_id" --region "$region" --output json |
  python3 -c 'import json,sys; s=json.loads(json.load(sys.stdin)["SecretString"]); print("username=" + s["username"]); print("password=" + s["token"])'
