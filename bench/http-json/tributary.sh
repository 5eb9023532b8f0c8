#!/usr/bin/env bash
# Tributary: the release server reads every page of the local API through an
# http_api connection (its config is the manifest below, src/connectors/http/
# MANIFEST.md) into table `records` of its default warehouse (SQLite,
# <data-dir>/warehouse.db), driven with grpcurl over reflection.
#
#   LOAD_MODE=LOAD_MODE_REPLACE   the table binding's load mode (default REPLACE, as dlt's "replace")
#   BATCH_SIZE=N                  the sync's execution_config.batch_size (default: the server's)
# Only trigger → terminal event is timed (not the server's start); peak RSS
# is the server's VmHWM (/proc/PID/status). Fresh data dir every time; the
# server is stopped at the end; the warehouse is deleted after verification
# unless KEEP=1.
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
REPO="$(cd "$HERE/../.." && pwd)"
BIN=${TRIBUTARY_BIN:-$REPO/target/release/tributary}
STATE=$WORK/tributary
DIR=$STATE/data
export PATH="$PATH:$HOME/go/bin"
fail() { echo "$1" >&2; record tributary "" "${rss:-}" "FAILED: $1"; exit 1; }
command -v grpcurl >/dev/null || fail "grpcurl is missing (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)"
[ -x "$BIN" ] || fail "no $BIN (cargo build --release first)"
api_up || fail "the API at $API_URL is not up (run starts it)"

rm -rf "$STATE"; mkdir -p "$DIR"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$port
"$BIN" serve --data-dir "$DIR" --listen "$ADDR" --executor-concurrency 1 >>"$STATE/server.log" 2>&1 &
PID=$!
cleanup() {
  { kill $PID && wait $PID; } 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$DIR"/warehouse.db*
}
trap cleanup EXIT
for _ in $(seq 300); do   # up to 30 s
  grpcurl -plaintext "$ADDR" grpc.health.v1.Health/Check >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { tail -20 "$STATE/server.log" >&2; fail "the server did not start"; }
  sleep 0.1
done
KEY=$(cat "$DIR/admin.key")
call() { grpcurl -plaintext -H "x-api-key: $KEY" -d "$2" "$ADDR" "tributary.v1.$1"; }

manifest=$(jq -n --arg url "$API_URL" --arg per "$PER_PAGE" '{
  client: {base_url: $url,
           paginator: {type: "page_number", page_param: "page", base_page: 1, total_path: "meta.total_pages"}},
  resources: [{name: "records",
               endpoint: {path: "records", params: {per_page: $per}, data_selector: "data"},
               primary_key: ["id"]}]}')
out=$(call ConnectionService/CreateConnection "$(jq -n --argjson m "$manifest" \
  '{name: "bench http", provider: "http_api", config: $m}')" 2>&1) || fail "CreateConnection: $out"
conn=$(jq -r .id <<<"$out")
exec_cfg=""; [ -z "${BATCH_SIZE:-}" ] || exec_cfg=", \"execution_config\": {\"batch_size\": $BATCH_SIZE}"
out=$(call SyncService/CreateSync "{\"name\": \"records\", \"connection_id\": \"$conn\", \"entities\": [\"records\"],
  \"table_bindings\": [{\"entity_key\": \"records\", \"physical_table_name\": \"records\",
                        \"load_mode\": \"${LOAD_MODE:-LOAD_MODE_REPLACE}\"}]$exec_cfg}" 2>&1) || fail "CreateSync: $out"
sync=$(jq -r .id <<<"$out")

t0=$(date +%s.%N)
out=$(call SyncService/TriggerSync "{\"sync_id\": \"$sync\", \"run_mode\": \"RUN_MODE_FULL_REFRESH\"}" 2>&1) \
  || fail "TriggerSync: $out"
run=$(jq -r .id <<<"$out")
# The stream ends after the run's terminal event.
call RunService/WatchRun "{\"run_id\": \"$run\"}" >"$STATE/watch.json"
t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status")
got=$(call RunService/GetRun "{\"run_id\": \"$run\"}")
echo "$got" >"$STATE/run.json"
status=$(jq -r .status <<<"$got")
[ "$status" = RUN_STATUS_SUCCEEDED ] || fail "run $status ($(jq -r '"\(.resultReasonCode): \(.error)"' <<<"$got"))"
kill -TERM $PID; wait $PID || true

check=$(python3 "$HERE/verify.py" "$DIR/warehouse.db" records) || true
record tributary "$(awk "BEGIN{printf \"%.3f\", $t1-$t0}")" "$rss" "$check"
case "$check" in ok*) ;; *) exit 1;; esac
