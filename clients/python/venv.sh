# Sourced by generate.sh and test.sh: makes sure clients/python/.venv holds
# exactly requirements-dev.txt (reinstalled only when that file changes) and
# sets $py to its interpreter.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=$here/.venv
py=$venv/bin/python
stamp=$venv/.requirements.sha256
want=$(sha256sum "$here/requirements-dev.txt" | cut -d' ' -f1)
if [ ! -x "$py" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$py" ] || python3 -m venv "$venv"
  "$py" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"
  echo "$want" >"$stamp"
fi
