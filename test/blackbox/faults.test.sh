#!/usr/bin/env bash
# Black-box fault-injection matrix: `punt serve` delivering to the misbehaving
# receiver (test/peers/fault-receiver.js) under bursts of 500s, 429 with
# Retry-After, resets mid-answer, hangs, 1 byte/s answers, TLS handshake
# failures, unresolvable host names and a strict LRS refusing one poisoned
# statement; every event ends delivered or dead as the policy says, nothing is
# lost or stuck, and RSS after 3 rounds stays within 50 MB of round 1.
# Takes about a minute (hangs wait for punt's 15 s transfer timeout).
# Usage: bash faults.test.sh PATH_TO_PUNT
set -euo pipefail
punt=${1:?usage: faults.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
PUNT_BIN=$(realpath "$punt") exec node --test --test-reporter=spec \
  "$root/test/blackbox/faults.test.js"
