#!/usr/bin/env bash
# The API server alone: curl fetches every page (keep-alive, URL globbing),
# once over one connection (the way dlt reads) and once over 4 in parallel;
# seconds and records/s go into the results as contenders "server-1conn" and
# "server-4conn", so the table shows how far ahead of both tools it is. The
# bytes received are checked against meta.json (every page served in full).
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
pages=$(jq .pages "$DATA/meta.json") bytes=$(jq .bytes "$DATA/meta.json")
api_up || { echo "the API at $API_URL is not up" >&2; exit 1; }
url="$API_URL/records?page=[1-$pages]&per_page=$PER_PAGE"
for mode in 1conn 4conn; do
  par=(); [ $mode = 1conn ] || par=(--parallel --parallel-max 4)
  t0=$(date +%s.%N)
  got=$(curl -sf "${par[@]}" "$url" 2>/dev/null | wc -c)
  t1=$(date +%s.%N)
  check="ok: $pages pages; $got bytes"; [ "$got" = "$bytes" ] || check="MISMATCH: $got bytes; expected $bytes"
  record "server-$mode" "$(awk "BEGIN{printf \"%.3f\", $t1-$t0}")" "" "$check"
done
