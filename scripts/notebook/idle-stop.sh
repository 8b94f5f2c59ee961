#!/bin/bash
# Installed as notebook-idle-stop and run by cron every 5 minutes:
#   notebook-idle-stop <idle-minutes> <notebook-instance-name> <started-at-file>
# Stops the instance when no kernel is busy and none has been active for <idle-minutes>, counting from the later of
# the last kernel activity and the instance start (written to <started-at-file> by on-start).
set -o pipefail
minutes=$1 instance=$2 started_file=$3
api=${JUPYTER_API_URL:-https://localhost:8443}

# SageMaker's Jupyter serves a self-signed certificate on loopback.
if ! sessions=$(curl --silent --show-error --fail --insecure --max-time 10 "$api/api/sessions"); then
  echo "cannot read Jupyter sessions from $api; not stopping"
  exit 0
fi
started=$(cat "$started_file" 2>/dev/null || echo 0)
if ! idle_seconds=$(printf '%s' "$sessions" | python3 -c '
import calendar, json, sys, time
latest = float(sys.argv[1])
for session in json.load(sys.stdin):
    kernel = session.get("kernel") or {}
    if kernel.get("execution_state") == "busy":
        latest = time.time()
    elif kernel.get("last_activity"):
        latest = max(latest, calendar.timegm(time.strptime(kernel["last_activity"][:19], "%Y-%m-%dT%H:%M:%S")))
print(int(time.time() - latest))' "$started"); then
  echo "cannot understand the Jupyter sessions answer; not stopping"
  exit 1
fi
if ((idle_seconds >= minutes * 60)); then
  echo "idle for ${idle_seconds}s (limit ${minutes} min): stopping $instance"
  aws sagemaker stop-notebook-instance --notebook-instance-name "$instance"
else
  echo "last activity ${idle_seconds}s ago (limit ${minutes} min): keeping $instance running"
fi
