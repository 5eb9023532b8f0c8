#!/usr/bin/env bash
# Regenerates the tributary.v1 messages (with .pyi type stubs) and gRPC stubs
# into src/tributary/v1 with the grpcio-tools pinned in requirements-dev.txt.
# `clients/generate` runs this; the output is committed and must not change
# when it is run again.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
out=$here/src/tributary/v1
rm -rf "$out"
mkdir -p "$out"
cd "$here/../../proto"
# Paths relative to proto/ keep the generated files free of this checkout's location.
protos=$(LC_ALL=C ls tributary/v1/*.proto)
services=$(LC_ALL=C ls tributary/v1/*_service.proto)
"$py" -m grpc_tools.protoc -I . --python_out="$here/src" --pyi_out="$here/src" $protos
"$py" -m grpc_tools.protoc -I . --grpc_python_out="$here/src" $services
cat >"$out/__init__.py" <<'PY'
"""The tributary.v1 messages and gRPC stubs, generated from proto/ by
clients/python/generate.sh. Do not edit."""
PY
