#!/usr/bin/env bash
# Installs the npm packages the tests use (validator, LRS, webhook verifier)
# into test/peers/node_modules, which git ignores, exactly as package-lock.json
# pins them (npm ci). Fast when present.
set -euo pipefail
cd "$(dirname "$0")/../test/peers"
stamp=node_modules/.punt-installed
installed() { [[ -f "$stamp" && "$stamp" -nt package.json && "$stamp" -nt package-lock.json ]]; }
installed && exit 0
# ctest -j runs several tests that call this at once: one installs, the
# others wait for it (npm ci empties node_modules first).
exec 9>.install-node-tools.lock
flock -w 600 9 || { echo "install-node-tools: another install held the lock for 600 s" >&2; exit 1; }
installed && exit 0
echo "install-node-tools: npm ci in test/peers" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
touch "$stamp"
