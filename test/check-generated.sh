#!/usr/bin/env bash
# Fails when the generated CRDs (crds/ and the chart's crds/) differ from what operator/src/api makes.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/tsx operator/src/api/generate.ts --root "$tmp" >/dev/null
status=0
for dir in crds charts/modelops/crds; do
  diff -ru "$dir" "$tmp/$dir" || status=1
done
if ((status)); then echo "generated CRDs are out of date: run 'make crds' and commit the result." >&2; exit 1; fi
echo "crds/ and charts/modelops/crds/ match operator/src/api"
