#!/usr/bin/env bash
# Tributary: the release server reads s3://bench/bench/**/*.csv from the
# local S3 server into table `events` of its default warehouse (SQLite,
# <data-dir>/warehouse.db) or of PostgreSQL (database dst, schema
# ws_<workspace id>), driven with grpcurl over reflection.
#
# Usage: tributary.sh sqlite|postgres
#   BATCH_SIZE=N   the sync's execution_config.batch_size (default 50000)
# Only trigger → terminal event is timed (not the server's start); peak RSS
# is the server's VmHWM (/proc/PID/status). Fresh data dir every time; the
# server is stopped at the end; the table is dropped after verification
# unless KEEP=1.
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
REPO="$(cd "$HERE/../.." && pwd)"
BIN=${TRIBUTARY_BIN:-$REPO/target/release/tributary}
dest=${1:?sqlite|postgres}
STATE=$WORK/tributary-$dest
DIR=$STATE/data
export PATH="$PATH:$HOME/go/bin"
fail() { echo "$1" >&2; record tributary "$dest" "" "" "FAILED: $1"; exit 1; }
command -v grpcurl >/dev/null || fail "grpcurl is missing (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)"
[ -x "$BIN" ] || fail "no $BIN (cargo build --release first)"

rm -rf "$STATE"; mkdir -p "$DIR"
args=()
if [ "$dest" = postgres ]; then
  for s in $(psql -XtAc "select nspname from pg_namespace where nspname like 'ws\_%'" dst); do
    psql -Xq -c "DROP SCHEMA $s CASCADE" dst
  done
  args=(--warehouse-url "postgres://postgres@127.0.0.1:$PGPORT/dst?sslmode=disable")
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$port
"$BIN" serve --data-dir "$DIR" --listen "$ADDR" "${args[@]}" \
  --executor-concurrency 1 >>"$STATE/server.log" 2>&1 &
PID=$!
cleanup() {   # stop the server; a full-size table is GiBs: free the space, failed or not
  { kill $PID && wait $PID; } 2>/dev/null || true
  [ -z "${KEEP:-}" ] || return 0
  rm -rf "$DIR"/warehouse.db* "$DIR"/warehouse
  [ "$dest" = sqlite ] || [ -z "${ws:-}" ] || psql -Xq -c "DROP SCHEMA IF EXISTS ws_${ws//-/} CASCADE" dst
}
trap cleanup EXIT
for _ in $(seq 300); do   # up to 30 s
  grpcurl -plaintext "$ADDR" grpc.health.v1.Health/Check >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { tail -20 "$STATE/server.log" >&2; fail "the server did not start"; }
  sleep 0.1
done
KEY=$(cat "$DIR/admin.key")
call() { grpcurl -plaintext -H "x-api-key: $KEY" -d "$2" "$ADDR" "tributary.v1.$1"; }

conn=$(call ConnectionService/CreateConnection "{\"name\": \"bench s3\", \"provider\": \"s3\",
  \"config\": {\"bucket\": \"$S3_BUCKET\", \"region\": \"us-east-1\", \"endpoint_url\": \"$S3_ENDPOINT\",
               \"path_style\": true, \"prefix\": \"\"},
  \"credentials\": {\"access_key_id\": \"$AWS_ACCESS_KEY_ID\", \"secret_access_key\": \"$AWS_SECRET_ACCESS_KEY\"}}" | jq -r .id)
[ -n "$conn" ] && [ "$conn" != null ] || fail "CreateConnection failed"
sync=$(call SyncService/CreateSync "{\"name\": \"events\", \"connection_id\": \"$conn\", \"entities\": [\"events\"],
  \"source_config\": {\"file_sets\": {\"events\": {\"root_path\": \"$S3_PREFIX\", \"glob\": \"**/*.csv\",
                                                   \"format\": {\"type\": \"csv\"}}}},
  \"table_bindings\": [{\"entity_key\": \"events\", \"physical_table_name\": \"events\",
                        \"load_mode\": \"LOAD_MODE_REPLACE\"}],
  \"execution_config\": {\"batch_size\": ${BATCH_SIZE:-50000}}}" | jq -r .id)
[ -n "$sync" ] && [ "$sync" != null ] || fail "CreateSync failed"
ws=$(call WorkspaceService/GetWorkspace '{}' | jq -r .id)

[ "$dest" = postgres ] && psql -XqAc checkpoint postgres
t0=$(date +%s.%N)
run=$(call SyncService/TriggerSync "{\"sync_id\": \"$sync\", \"run_mode\": \"RUN_MODE_FULL_REFRESH\"}" | jq -r .id)
# The stream ends after the run's terminal event.
call RunService/WatchRun "{\"run_id\": \"$run\"}" >"$STATE/watch.json"
t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status")
status=$(call RunService/GetRun "{\"run_id\": \"$run\"}" | jq -r .status)
if [ "$status" != RUN_STATUS_SUCCEEDED ]; then
  err=$(call RunService/GetRun "{\"run_id\": \"$run\"}" | jq -r '"\(.resultReasonCode): \(.error)"')
  fail "run $status ($err)"
fi
kill -TERM $PID; wait $PID || true

if [ "$dest" = sqlite ]; then
  check=$("$VENV_DLT/bin/python" "$HERE/verify.py" sqlite "$DIR/warehouse.db" events) || true
else
  check=$("$VENV_DLT/bin/python" "$HERE/verify.py" postgres "$DST_URL" "ws_${ws//-/}.events") || true
fi
record tributary "$dest" "$(awk "BEGIN{printf \"%.3f\", $t1-$t0}")" "$rss" "$check"
case "$check" in ok*) ;; *) exit 1;; esac
