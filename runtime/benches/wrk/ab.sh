#!/usr/bin/env bash
# A/B of two `sandstep` binaries under wrk, alternating: Express StartSyncExecution and
# Standard StartExecution of pass3, each on a fresh server and data dir.
#   bash runtime/benches/wrk/ab.sh BEFORE_BIN AFTER_BIN [ROUNDS]
# Env: DURATION (10s), EXPRESS_ARGS (-t2 -c8), STANDARD_ARGS (-t2 -c8).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BEFORE="$1"; AFTER="$2"; ROUNDS="${3:-2}"
DURATION="${DURATION:-10s}"
EXPRESS_ARGS="${EXPRESS_ARGS:--t2 -c8}"
STANDARD_ARGS="${STANDARD_ARGS:--t2 -c8}"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
PASS3='{\"StartAt\":\"P1\",\"States\":{\"P1\":{\"Type\":\"Pass\",\"Next\":\"P2\"},\"P2\":{\"Type\":\"Pass\",\"Next\":\"P3\"},\"P3\":{\"Type\":\"Pass\",\"End\":true}}}'

create() { # endpoint name type
  curl -fsS "$1/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: AWSStepFunctions.CreateStateMachine' \
    -d "{\"name\":\"$2\",\"type\":\"$3\",\"roleArn\":\"arn:aws:iam::000000000000:role/bench\",\"definition\":\"$PASS3\"}" >/dev/null
}

one() { # label binary
  local dir port ep pid
  dir="$(mktemp -d)"
  "$2" serve --listen 127.0.0.1:0 --data-dir "$dir" >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  ep="$(grep -o 'http://[0-9.:]*' "$dir/out" | head -1)"
  create "$ep" pass3x EXPRESS
  create "$ep" pass3s STANDARD
  local x s
  x="$(SANDSTEP_SM_ARN=arn:aws:states:us-east-1:000000000000:stateMachine:pass3x \
      wrk $EXPRESS_ARGS -d"$DURATION" --latency -s "$HERE/start_sync.lua" "$ep/" | grep -E 'Requests/sec|  50%')"
  s="$(SANDSTEP_SM_ARN=arn:aws:states:us-east-1:000000000000:stateMachine:pass3s \
      wrk $STANDARD_ARGS -d"$DURATION" --latency -s "$HERE/start_standard.lua" "$ep/" | grep -E 'Requests/sec|  50%')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  printf '%s express: %s | standard: %s\n' "$1" "$(echo $x)" "$(echo $s)"
}

for r in $(seq "$ROUNDS"); do
  one "before-$r" "$BEFORE"
  one "after-$r" "$AFTER"
done
