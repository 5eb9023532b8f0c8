#!/usr/bin/env bash
# Tests the Python client against the live server in TRIBUTARY_ADDR /
# TRIBUTARY_API_KEY (clients/test and clients/serve-for-tests set them):
# the test suite, the example program, and the README's quick start pasted
# into a new project outside the repository, installed from this checkout.
set -euo pipefail
: "${TRIBUTARY_ADDR:?not set: eval \"\$(bash clients/serve-for-tests)\" first}"
: "${TRIBUTARY_API_KEY:?not set: eval \"\$(bash clients/serve-for-tests)\" first}"
source "$(dirname "$0")/venv.sh"

# An editable install: the venv's requirements already hold the dependencies and hatchling.
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable "$here"

echo "-- lint"
(cd "$here" && "$py" -m ruff check --quiet && "$py" -m ruff format --check --quiet)

echo "-- tests"
(cd "$here" && "$py" -m pytest -q)

echo "-- examples/story.py"
"$py" "$here/examples/story.py"

echo "-- README quick start, in a new project"
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
# A venv without its own pip (ensurepip is slow), installed into by our pip.
python3 -m venv --without-pip "$project/.venv"
"$py" -m pip --python "$project/.venv/bin/python" install --quiet --disable-pip-version-check "$here"
# The python block between the quickstart markers, verbatim.
sed -n '/<!-- quickstart:start -->/,/<!-- quickstart:end -->/p' "$here/README.md" |
  sed -e '1,/^```python$/d' -e '/^```$/,$d' >"$project/quickstart.py"
(cd "$project" && .venv/bin/python quickstart.py) | tee "$project/out.txt"
grep -q '^RUN_STATUS_SUCCEEDED ' "$project/out.txt" || { echo "the quick start's run did not succeed"; exit 1; }
