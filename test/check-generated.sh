#!/usr/bin/env bash
# Fails when crds/ (generated from operator/src/api) is out of date with the TypeScript schemas.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/tsx operator/src/api/generate.ts --out "$tmp" >/dev/null
if ! diff -ru crds "$tmp"; then
  echo "crds/ is out of date: run 'make crds' and commit the result." >&2
  exit 1
fi
echo "crds/ matches operator/src/api"
