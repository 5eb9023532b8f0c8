#!/usr/bin/env bash
# dlt's filesystem source from the local S3 server into SQLite or PostgreSQL.
# Usage: dlt.sh pandas|duckdb sqlite|postgres   (see dlt_load.py)
# Seconds are pipeline.run's; peak RSS is the Python process's (/usr/bin/time).
# The table and dlt's load package are deleted after verification unless KEEP=1.
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
reader=${1:?reader} dest=${2:?sqlite|postgres} ds=dlt_$1
log=$WORK/logs/dlt-$reader-$dest.log; mkdir -p "$WORK/logs"
rm -rf "$WORK/dlt/s3csv_${reader}_$dest" "$WORK/dlt/$reader.db"*
mkdir -p "$WORK/dlt"
if [ "$dest" = postgres ]; then
  psql -Xq -c "DROP SCHEMA IF EXISTS $ds CASCADE; DROP SCHEMA IF EXISTS ${ds}_staging CASCADE" dst
  psql -XqAc checkpoint postgres
fi
cleanup() {   # a full-size table and load package are GiBs: free the space, failed or not
  [ -z "${KEEP:-}" ] || return 0
  rm -rf "$WORK/dlt/s3csv_${reader}_$dest" "$WORK/dlt/$reader"*.db
  [ "$dest" = sqlite ] || psql -Xq -c "DROP SCHEMA IF EXISTS $ds CASCADE; DROP SCHEMA IF EXISTS ${ds}_staging CASCADE" dst
}
trap cleanup EXIT
tf=$WORK/logs/dlt-$reader-$dest.time
if ! /usr/bin/time -v -o "$tf" "$VENV_DLT/bin/python" "$HERE/dlt_load.py" "$reader" "$dest" >"$log" 2>&1; then
  tail -20 "$log" >&2; record "dlt-$reader" "$dest" "" "" "FAILED (see $log)"; exit 1
fi
secs=$(awk '/^SECONDS/ {print $2}' "$log")
rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$tf")
if [ "$dest" = sqlite ]; then
  # dlt's sqlalchemy destination puts a SQLite dataset in a database of its
  # own attached next to the main file: <main>__<dataset>.db
  db=$(ls "$WORK/dlt/$reader"*"$ds"*.db 2>/dev/null | head -1); db=${db:-$WORK/dlt/$reader.db}
  check=$("$VENV_DLT/bin/python" "$HERE/verify.py" sqlite "$db" events) || true
else
  check=$("$VENV_DLT/bin/python" "$HERE/verify.py" postgres "$DST_URL" "$ds.events") || true
fi
record "dlt-$reader" "$dest" "$secs" "$rss" "$check"
case "$check" in ok*) ;; *) exit 1;; esac
