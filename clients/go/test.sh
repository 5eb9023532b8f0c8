#!/usr/bin/env bash
# Tests the Go client against the server at $TRIBUTARY_ADDR (started by
# clients/serve-for-tests): gofmt and vet, the test suite, the example,
# and the README's quick start pasted into a new module that installs this
# client from the checkout, as the README says; all under the race detector.
set -euo pipefail
cd "$(dirname "$0")"
: "${TRIBUTARY_ADDR:?is not set: eval \"\$(bash clients/serve-for-tests)\" first}"
: "${TRIBUTARY_API_KEY:?is not set: eval \"\$(bash clients/serve-for-tests)\" first}"
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH

echo "-- gofmt, go vet"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "not gofmt-ed: $unformatted"; exit 1; }
go vet ./...

# Everything builds with -race, so one flavour of gRPC is compiled, once.
echo "-- go test"
go test -race -count=1 ./...

echo "-- examples/story"
go run -race ./examples/story

echo "-- README quick start in a new module"
client=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/<!-- quickstart:end -->/ { on = 0 } on && !/^```/ { print } /<!-- quickstart:start -->/ { on = 1 }' \
  README.md >"$tmp/main.go"
cd "$tmp"
go mod init example.com/quickstart 2>/dev/null
# The README's install from a local checkout.
go mod edit -replace "github.com/tributary-dev/tributary/clients/go=$client"
go mod tidy
go run -race .
