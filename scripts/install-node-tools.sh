#!/usr/bin/env bash
# Installs the npm packages the tests use (validator, LRS, webhook verifier)
# into test/peers/node_modules, which git ignores, exactly as package-lock.json
# pins them (npm ci). Fast when present.
set -euo pipefail
cd "$(dirname "$0")/../test/peers"
stamp=node_modules/.punt-installed
if [[ -f "$stamp" && "$stamp" -nt package.json && "$stamp" -nt package-lock.json ]]; then exit 0; fi
echo "install-node-tools: npm ci in test/peers" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
touch "$stamp"
