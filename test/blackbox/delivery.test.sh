#!/usr/bin/env bash
# Black-box tests of real-time delivery: `punt serve` delivering xAPI statements
# to a real strict LRS (test/peers/lrs.js, Learning Locker's statement service)
# and Standard Webhooks to a real verifier (test/peers/webhook-receiver.js):
# ids, idempotency, token normalisation, held deliveries, kill -9 and restart,
# the retry schedule, the destination guard; prints a latency figure.
# Takes about a minute (the retry test waits for the real 5 s / 30 s schedule).
# Usage: bash delivery.test.sh PATH_TO_PUNT
set -euo pipefail
punt=${1:?usage: delivery.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
PUNT_BIN=$(realpath "$punt") exec node --test --test-reporter=spec \
  "$root/test/blackbox/delivery.test.js"
