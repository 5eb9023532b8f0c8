# Common settings of the HTTP JSON benchmark, sourced by every script here.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WORK=${WORK:-/tmp/httpbench}               # scratch: venv, pages, SQLite files, results
export RECORDS=${RECORDS:-1000000} PER_PAGE=${PER_PAGE:-100}
export DATA=$WORK/data/N$RECORDS-P$PER_PAGE       # gen.py's pages.bin, pages.idx, meta.json
export HTTP_PORT=${HTTP_PORT:-55490}
export API_URL=http://127.0.0.1:$HTTP_PORT
export VENV_DLT=$WORK/venv-dlt
export RUNTIME__DLTHUB_TELEMETRY=false
export LOAD__DELETE_COMPLETED_JOBS=true          # dlt: drop each load file once loaded
export RESULTS=${RESULTS:-$WORK/results/latest.csv}
mkdir -p "$WORK" "$(dirname "$RESULTS")"
set -euo pipefail

# record CONTENDER SECONDS PEAK_RSS_MIB CHECK : one CSV line in $RESULTS
# (records, pages and bytes are the data set's; CHECK is verify.py's verdict, no commas).
record() {
  [ -s "$RESULTS" ] || echo "ts,load1,contender,records,pages,bytes,seconds,peak_rss_mib,check" >"$RESULTS"
  local pages bytes
  pages=$(jq .pages "$DATA/meta.json") bytes=$(jq .bytes "$DATA/meta.json")
  echo "$(date -u +%FT%TZ),$(cut -d' ' -f1 /proc/loadavg),$1,$RECORDS,$pages,$bytes,$2,$3,${4//,/;}" | tee -a "$RESULTS"
}

# The local API must be up (run starts it).
api_up() { curl -sf -o /dev/null "$API_URL/records?page=1&per_page=$PER_PAGE"; }
