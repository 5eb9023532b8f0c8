#!/usr/bin/env bash
# Generates the vendored google.rpc error details into src/gen; clients/generate
# runs this after the shared buf.gen.yaml has generated tributary.v1 there.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/protoc-gen-es ] || npm ci --no-audit --no-fund --loglevel=error
npx --yes @bufbuild/buf@1.75.0 generate --template buf.gen.yaml
