#!/usr/bin/env bash
# The HTTP comparison, in one session: Sandstep (asl_load.py async + sync, 8 clients),
# the moto and Restate peers the same way, then Express sync absolute throughput with wrk.
# Env: SANDSTEP (binary; default $CARGO_TARGET_DIR or ../../target, release/sandstep),
#      PEERS (/work/shared/peers), OUT (results dir), DURATION (15), CLIENTS (8), SEQ (200),
#      WRK ("-t4 -c64 -d15s", Express), WRK_STD ("-t2 -c8 -d15s", Standard),
#      SKIP_PEERS=1 to run Sandstep only.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SANDSTEP="${SANDSTEP:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/sandstep}"
PEERS="${PEERS:-/work/shared/peers}"
OUT="${OUT:-${TMPDIR:-/tmp}/sandstep-http-$(date +%Y%m%d-%H%M%S)}"
DURATION="${DURATION:-15}"; CLIENTS="${CLIENTS:-8}"; SEQ="${SEQ:-200}"
WRK_ARGS="${WRK:--t4 -c64 -d15s}"
WRK_STD_ARGS="${WRK_STD:--t2 -c8 -d15s}"
mkdir -p "$OUT"
echo "results in $OUT"

PORT="$(python3 "$PEERS/free_port.py")"
DATA="$OUT/sandstep-data"
rm -rf "$DATA"
"$SANDSTEP" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$OUT/sandstep.log" 2>&1 &
SPID=$!
trap 'kill "$SPID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1
done
EP="http://127.0.0.1:$PORT"
echo "sandstep pid $SPID on $EP"

for mode in async sync; do
  python3 "$PEERS/asl_load.py" --endpoint "$EP" --workload pass3 --workload choice-map \
    --mode "$mode" --seq "$SEQ" --duration "$DURATION" --clients "$CLIENTS" --poll 0.005 \
    --pid "$SPID" --label "sandstep-$mode" --json "$OUT/sandstep-$mode.json" | tee "$OUT/sandstep-$mode.txt"
done

# Express sync absolute throughput: wrk on StartSyncExecution of an EXPRESS pass3 machine.
curl -fsS "$EP/" -H 'Content-Type: application/x-amz-json-1.0' \
  -H 'X-Amz-Target: AWSStepFunctions.CreateStateMachine' \
  -d '{"name":"pass3x","type":"EXPRESS","roleArn":"arn:aws:iam::000000000000:role/bench","definition":"{\"StartAt\":\"P1\",\"States\":{\"P1\":{\"Type\":\"Pass\",\"Next\":\"P2\"},\"P2\":{\"Type\":\"Pass\",\"Next\":\"P3\"},\"P3\":{\"Type\":\"Pass\",\"End\":true}}}"}'
echo
ARN="arn:aws:states:us-east-1:000000000000:stateMachine:pass3x"
curl -fsS "$EP/" -H 'Content-Type: application/x-amz-json-1.0' \
  -H 'X-Amz-Target: AWSStepFunctions.StartSyncExecution' \
  -d "{\"stateMachineArn\":\"$ARN\",\"input\":\"{\\\"n\\\":1}\"}"
echo
SANDSTEP_SM_ARN="$ARN" wrk $WRK_ARGS --latency -s "$HERE/wrk/start_sync.lua" "$EP/" | tee "$OUT/wrk-start-sync.txt"

# Standard absolute throughput: wrk on StartExecution of a STANDARD pass3 machine. The
# whole execution is its start step, so each 200 is a finished, durably committed execution.
curl -fsS "$EP/" -H 'Content-Type: application/x-amz-json-1.0' \
  -H 'X-Amz-Target: AWSStepFunctions.CreateStateMachine' \
  -d '{"name":"pass3s","type":"STANDARD","roleArn":"arn:aws:iam::000000000000:role/bench","definition":"{\"StartAt\":\"P1\",\"States\":{\"P1\":{\"Type\":\"Pass\",\"Next\":\"P2\"},\"P2\":{\"Type\":\"Pass\",\"Next\":\"P3\"},\"P3\":{\"Type\":\"Pass\",\"End\":true}}}"}'
echo
SANDSTEP_SM_ARN="arn:aws:states:us-east-1:000000000000:stateMachine:pass3s" \
  wrk $WRK_STD_ARGS --latency -s "$HERE/wrk/start_standard.lua" "$EP/" | tee "$OUT/wrk-start-standard.txt"
curl -fsS "$EP/metrics" | grep -E '^sandstep_executions_(started|finished)_total' | tee "$OUT/metrics.txt"
kill "$SPID"; wait "$SPID" 2>/dev/null || true
trap - EXIT

if [ -z "${SKIP_PEERS:-}" ]; then
  export SEQ DURATION CLIENTS OUTDIR="$OUT"
  bash "$PEERS/moto/run.sh" 2>&1 | tee "$OUT/moto.txt" || echo "moto peer failed"
  bash "$PEERS/restate/run.sh" 2>&1 | tee "$OUT/restate.txt" || echo "restate peer failed"
fi
python3 "$PEERS/summarize.py" "$OUT" 2>/dev/null | tee "$OUT/summary.txt" || true
