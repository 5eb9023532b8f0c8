# Common settings of the S3 CSV benchmark, sourced by every script here.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WORK=${WORK:-/tmp/s3bench}                 # scratch: venvs, data, PostgreSQL, results
export ROWS=${ROWS:-10000000} FILES=${FILES:-20}
export DATA=$WORK/data/N$ROWS-F$FILES             # the generated CSV files and expected.json
export S3_PORT=${S3_PORT:-55470} S3_BUCKET=bench S3_PREFIX=bench
export S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export VENV_MOTO=$WORK/venv-moto VENV_DLT=$WORK/venv-dlt  # two venvs: moto's and s3fs's botocore pins differ
export PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
export PGDATA=$WORK/pgdata PGHOST=127.0.0.1 PGPORT=${PGPORT:-55471} PGUSER=postgres
export PGOPTIONS='-c client_min_messages=warning'
# trust auth: the password is ignored, but dlt insists on one
export DST_URL="postgresql://postgres:bench@127.0.0.1:$PGPORT/dst?sslmode=disable"
export RUNTIME__DLTHUB_TELEMETRY=false
export LOAD__DELETE_COMPLETED_JOBS=true          # dlt: drop each load file once loaded (disk)
export RESULTS=${RESULTS:-$WORK/results/latest.csv}
mkdir -p "$WORK" "$(dirname "$RESULTS")"
set -euo pipefail

# record CONTENDER DESTINATION SECONDS PEAK_RSS_MIB CHECK : one CSV line in $RESULTS
# (rows and bytes are the data set's; CHECK is verify.py's verdict, no commas).
record() {
  [ -s "$RESULTS" ] || echo "ts,load1,contender,destination,rows,bytes,seconds,peak_rss_mib,check" >"$RESULTS"
  local rows bytes
  rows=$(jq .rows "$DATA/expected.json") bytes=$(jq .bytes "$DATA/expected.json")
  echo "$(date -u +%FT%TZ),$(cut -d' ' -f1 /proc/loadavg),$1,$2,$rows,$bytes,$3,$4,${5//,/;}" | tee -a "$RESULTS"
}
