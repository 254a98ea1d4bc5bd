#!/usr/bin/env bash
# Black-box tests of `punt serve`'s HTTP API: every route's success and error
# paths, tenant isolation, idempotency, held deliveries, kill -9 and SIGTERM,
# and no secret at rest in plaintext. Node 20's built-in test runner and fetch;
# no npm packages needed.
# Usage: bash api.test.sh PATH_TO_PUNT
set -euo pipefail
punt=${1:?usage: api.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
PUNT_BIN=$(realpath "$punt") exec node --test --test-reporter=spec \
  "$root/test/blackbox/api.test.js"
