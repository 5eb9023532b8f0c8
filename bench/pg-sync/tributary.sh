#!/usr/bin/env bash
# Tributary runner of the PostgreSQL → PostgreSQL harness (HARNESS, default
# /work/shared/bench/pg-sync): src.public.orders into the PostgreSQL warehouse
# (database dst), through the release server's gRPC API (grpcurl over
# reflection, as the README's walkthrough does: no client to build).
#
# Usage: tributary.sh full|incr-init|incr
#   full      : fresh server state; a sync of public.orders (UPSERT on id, cursor
#               updated_at), one FULL_REFRESH run: staged and swapped in, the
#               table ends with its primary key like limit-idx's
#   incr-init : fresh server state, the same sync, its first INCREMENTAL run
#   incr      : the server again on incr-init's data dir, the next INCREMENTAL
#               run (reads only the rows after the committed cursor)
# BATCH_SIZE=N sets the sync's execution_config.batch_size (default: the executor's).
# Only trigger → SUCCEEDED is timed (not the server's start); CPU and peak RSS
# are the server's (/proc/PID/stat, VmHWM). The data dir lives in $WORK and
# the server is stopped at the end of each invocation.
HARNESS=${HARNESS:-/work/shared/bench/pg-sync}
. "$HARNESS/env.sh"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN=${TRIBUTARY_BIN:-$REPO/target/release/tributary}
mode=${1:-full}
STATE=$WORK/tributary
DATA=$STATE/data
export PATH="$PATH:$HOME/go/bin"
command -v grpcurl >/dev/null || { echo "grpcurl is missing (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }

if [ "$mode" != incr ]; then
  # Empty the destination: every schema an earlier server state made.
  for s in $(psql -XtAc "select nspname from pg_namespace where nspname like 'ws\_%'" dst); do
    psql -Xq -c "DROP SCHEMA $s CASCADE" dst
  done
  rm -rf "$DATA"
fi
mkdir -p "$DATA"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$port
"$BIN" serve --data-dir "$DATA" --listen "$ADDR" \
  --warehouse-url "postgres://postgres@127.0.0.1:$PGPORT/dst?sslmode=disable" \
  --executor-concurrency 1 >>"$STATE/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do   # up to 30 s
  grpcurl -plaintext "$ADDR" grpc.health.v1.Health/Check >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { tail -20 "$STATE/server.log" >&2; exit 1; }
  sleep 0.1
done
KEY=$(cat "$DATA/admin.key")
call() { grpcurl -plaintext -H "x-api-key: $KEY" -d "$2" "$ADDR" "tributary.v1.$1"; }

if [ "$mode" != incr ]; then
  knobs=""; [ -n "${BATCH_SIZE:-}" ] && knobs=", \"execution_config\": {\"batch_size\": $BATCH_SIZE}"
  conn=$(call ConnectionService/CreateConnection "{\"name\": \"bench src\", \"provider\": \"postgres\",
    \"config\": {\"host\": \"127.0.0.1\", \"port\": $PGPORT, \"database\": \"src\", \"username\": \"postgres\", \"sslmode\": \"disable\"}}" | jq -r .id)
  sync=$(call SyncService/CreateSync "{\"name\": \"orders\", \"connection_id\": \"$conn\", \"entities\": [\"public.orders\"],
    \"table_bindings\": [{\"entity_key\": \"public.orders\", \"physical_table_name\": \"orders\",
      \"load_mode\": \"LOAD_MODE_UPSERT\", \"cursor_field\": \"updated_at\", \"primary_key_columns\": [\"id\"]}]
    $knobs}" | jq -r .id)
  echo "$sync" >"$STATE/sync_id"
fi
sync=$(cat "$STATE/sync_id")
ws=$(call WorkspaceService/GetWorkspace '{}' | jq -r .id)
table="ws_${ws//-/}.orders"

if [ "$mode" = incr ]; then
  rows=$(psql -XtAc "select count(*) from orders where updated_at > '$(psql -XtAc "select max(updated_at) from $table" dst)'" src)
else
  rows=$(psql -XtAc "select count(*) from orders" src)
fi
run_mode=RUN_MODE_INCREMENTAL; [ "$mode" = full ] && run_mode=RUN_MODE_FULL_REFRESH

cpu() { awk '{print $14, $15}' "/proc/$PID/stat"; }
psql -XqAc checkpoint postgres
load1=$(cut -d' ' -f1 /proc/loadavg)
read -r u0 s0 < <(cpu)
t0=$(date +%s.%N)
run=$(call SyncService/TriggerSync "{\"sync_id\": \"$sync\", \"run_mode\": \"$run_mode\"}" | jq -r .id)
# The stream ends after the run's terminal event.
call RunService/WatchRun "{\"run_id\": \"$run\"}" >"$STATE/watch.$mode.json"
t1=$(date +%s.%N)
read -r u1 s1 < <(cpu)
status=$(call RunService/GetRun "{\"run_id\": \"$run\"}" | jq -r .status)
if [ "$status" != RUN_STATUS_SUCCEEDED ]; then
  echo "FAILED: tributary $mode: run $run is $status" >&2
  call RunService/GetRun "{\"run_id\": \"$run\"}" | jq -c '{status, resultReasonCode, errorMessage}' >&2
  exit 1
fi
hz=$(getconf CLK_TCK)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
RESULTS=$RESULTS record tributary "$mode" "$rows" "$(awk "BEGIN{printf \"%.3f\", $t1-$t0}")" \
  "$(awk "BEGIN{printf \"%.2f\", ($u1-$u0)/$hz}")" "$(awk "BEGIN{printf \"%.2f\", ($s1-$s0)/$hz}")" \
  "$(awk "BEGIN{printf \"%.0f\", $rss/1024}")" >/dev/null
tail -1 "$RESULTS"
call RunService/ListRunLogs "{\"run_id\": \"$run\"}" | jq -r '.entries[]?.line.message' | tail -2 || true

kill -TERM $PID; wait $PID || true; trap - EXIT
"$HARNESS/verify.sh" "$table"
