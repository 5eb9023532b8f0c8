#!/usr/bin/env bash
# dlt's rest_api source from the local API into a SQLite file (see dlt_load.py).
# Seconds are pipeline.run's; peak RSS is the Python process's (/usr/bin/time).
# The SQLite files and dlt's pipeline dir are deleted after verification unless KEEP=1.
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
log=$WORK/logs/dlt.log tf=$WORK/logs/dlt.time; mkdir -p "$WORK/logs"
fail() { echo "$1" >&2; record dlt "" "" "FAILED: $1"; exit 1; }
api_up || fail "the API at $API_URL is not up (run starts it)"
rm -rf "$WORK/dlt"; mkdir -p "$WORK/dlt"
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$WORK/dlt"; }
trap cleanup EXIT
if ! /usr/bin/time -v -o "$tf" "$VENV_DLT/bin/python" "$HERE/dlt_load.py" "$WORK/dlt/dlt.db" >"$log" 2>&1; then
  tail -20 "$log" >&2; fail "see $log"
fi
secs=$(awk '/^SECONDS/ {print $2}' "$log")
rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$tf")
# dlt's sqlalchemy destination attaches a SQLite dataset as <main>__<dataset>.db
check=$(python3 "$HERE/verify.py" "$WORK/dlt/dlt__dlt_http.db" records) || true
record dlt "$secs" "$rss" "$check"
case "$check" in ok*) ;; *) exit 1;; esac
