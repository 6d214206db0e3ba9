#!/usr/bin/env bash
# Runs every stage of `make test`, keeps going after a failing stage so one run shows everything,
# and ends with the totals line. Each stage leaves a JSON report in .cache/reports.
set -uo pipefail
cd "$(dirname "$0")/.."
reports=.cache/reports
rm -rf "$reports" && mkdir -p "$reports"
status=0

check() { # name command... — a static check counts as one test
  local name=$1; shift
  printf '\n=== %s\n' "$name"
  if "$@"; then echo '{"passed":1,"failed":0}' >"$reports/check-$name.json"
  else echo '{"passed":0,"failed":1}' >"$reports/check-$name.json"; status=1; fi
}

jest_project() { # project [jest flags...]
  local project=$1; shift
  printf '\n=== jest: %s\n' "$project"
  node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects "$project" "$@" \
    --json --outputFile="$reports/jest-$project.json" || status=1
}

check lint node_modules/.bin/eslint --max-warnings 0 .
check format node_modules/.bin/prettier --check --log-level warn .
check typecheck node_modules/.bin/tsc -p tsconfig.json --noEmit
jest_project unit
# One file at a time: some integration tests restart the kube-apiserver the others are using.
jest_project integration --runInBand

printf '\n'
node test/summarize.mjs "$reports"
exit $status
