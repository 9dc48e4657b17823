#!/usr/bin/env bash
# Express sync (StartSyncExecution, pass3) with wrk at several connection counts, against
# a fresh `sandstep serve`. Env: SANDSTEP (binary), PEERS (/work/shared/peers), DUR (10s).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SANDSTEP="${SANDSTEP:-${CARGO_TARGET_DIR:-$HERE/../../../target}/release/sandstep}"
PEERS="${PEERS:-/work/shared/peers}"
DUR="${DUR:-10s}"
DATA="$(mktemp -d)"
PORT="$(python3 "$PEERS/free_port.py")"
"$SANDSTEP" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA.log" 2>&1 &
SPID=$!
trap 'kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/" -H 'Content-Type: application/x-amz-json-1.0' \
  -H 'X-Amz-Target: AWSStepFunctions.CreateStateMachine' \
  -d '{"name":"pass3x","type":"EXPRESS","roleArn":"arn:aws:iam::000000000000:role/bench","definition":"{\"StartAt\":\"P1\",\"States\":{\"P1\":{\"Type\":\"Pass\",\"Next\":\"P2\"},\"P2\":{\"Type\":\"Pass\",\"Next\":\"P3\"},\"P3\":{\"Type\":\"Pass\",\"End\":true}}}"}' >/dev/null
for tc in "1 1" "1 4" "2 8" "2 16" "4 64"; do
  set -- $tc
  echo "== wrk -t$1 -c$2 -d$DUR"
  wrk -t"$1" -c"$2" -d"$DUR" --latency -s "$HERE/start_sync.lua" "http://127.0.0.1:$PORT/" \
    | grep -E "50%|90%|99%|Requests/sec"
done
echo "server CPU (utime+stime ticks): $(awk '{print $14+$15}' /proc/$SPID/stat)"
