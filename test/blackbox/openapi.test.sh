#!/usr/bin/env bash
# docs/openapi.yaml is valid OpenAPI 3, its examples match its schemas, and it
# describes exactly the routes the code registers (router.Add lines in
# src/api/*_routes.cc), so the document cannot drift from the code.
# Usage: bash openapi.test.sh [PATH_TO_PUNT]   (the binary is not needed)
# PUNT_ROUTES_DIR overrides where the route files are read (default src/api).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

routes_dir=${PUNT_ROUTES_DIR:-$root/src/api}
shopt -s nullglob
files=("$routes_dir"/*_routes.cc)
if ((${#files[@]} == 0)); then
  echo "no route files in $routes_dir (expected *_routes.cc)"
  exit 1
fi
# router.Add("METHOD", "/path", ...: method and path are on the call's first line.
grep -ho 'router\.Add("[A-Z]*", *"[^"]*"' "${files[@]}" \
  | sed -E 's/router\.Add\("([A-Z]+)", *"([^"]*)"/\1 \2/' | sort -u > "$tmp/routes"
count=$(wc -l < "$tmp/routes")
if ((count == 0)); then
  echo "found no router.Add(\"METHOD\", \"/path\" lines in ${files[*]}"
  exit 1
fi
echo "routes registered in the code ($count):"
sed 's/^/  /' "$tmp/routes"
node "$root/test/peers/validate-openapi.js" "$root/docs/openapi.yaml" "$tmp/routes"
