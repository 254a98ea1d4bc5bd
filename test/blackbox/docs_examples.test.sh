#!/usr/bin/env bash
# docs/xapi-mapping.md holds one example per learning event type; each example
# statement is exactly what punt produces for the example event, and passes
# Learning Locker's validator.
set -euo pipefail
punt=${1:?usage: docs_examples.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

node "$root/test/peers/doc-examples.js" "$root/docs/xapi-mapping.md" "$tmp"
types=$(ls "$tmp" | sed -n 's/\.statement\.json$//p')
[[ $(echo "$types" | wc -w) -eq 9 ]] || { echo "expected 9 example statements, got: $types"; exit 1; }
for type in $types; do
  "$punt" statement --org-id org-acme --platform-url https://acme.example \
    < "$tmp/$type.event.json" > "$tmp/$type.actual.json"
  node "$root/test/peers/json-equal.js" "$tmp/$type.statement.json" "$tmp/$type.actual.json" || {
    echo "docs/xapi-mapping.md: the $type example is not what punt sends"; exit 1; }
done
node "$root/test/peers/validate-statements.js" "$tmp"/*.statement.json
echo "ok: 9 documented examples match punt and are valid"
