#!/usr/bin/env bash
# Checks formatting, builds the TypeScript client (tsc type-checks src, tests and
# example), runs its tests and example against the server
# at TRIBUTARY_ADDR (key TRIBUTARY_API_KEY), then checks the README quick start
# as a user would: pasted into a new npm project that installs the client from
# this folder, type-checked against the installed package, and run.
set -euo pipefail
: "${TRIBUTARY_ADDR:?point it at a server: eval \"\$(bash clients/serve-for-tests)\"}"
: "${TRIBUTARY_API_KEY:?point it at a server: eval \"\$(bash clients/serve-for-tests)\"}"
cd "$(dirname "$0")"
client=$PWD
npm=(npm --no-audit --no-fund --loglevel=error --prefer-offline)

"${npm[@]}" ci --ignore-scripts
"${npm[@]}" run --silent lint
"${npm[@]}" run --silent build
"${npm[@]}" test
"${npm[@]}" run --silent example

echo "== README quick start, in a new project"
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
sed -n '/<!-- quickstart:start -->/,/<!-- quickstart:end -->/p' README.md |
  sed '1,/^```ts$/d; /^```$/,$d' >"$project/quickstart.ts"
[ -s "$project/quickstart.ts" ] || { echo "no quick start between the README's markers"; exit 1; }
cat >"$project/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "module": "nodenext",
    "target": "es2022",
    "lib": ["es2022"],
    "strict": true,
    "skipLibCheck": true,
    "typeRoots": ["$client/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["quickstart.ts"]
}
EOF
cd "$project"
"${npm[@]}" init -y >/dev/null
"${npm[@]}" pkg set type=module
"${npm[@]}" install --install-links "$client"
"$client/node_modules/.bin/tsc" -p .
node quickstart.js
