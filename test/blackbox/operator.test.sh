#!/usr/bin/env bash
# Black-box tests of the operator actions (DESIGN.md section 3): the test
# button against a real Standard Webhooks receiver and a real strict LRS, the
# destination guard on it, replay of a time window (API and CLI progress),
# retry of dead and delivered deliveries, and the per-state delivery counts.
# Takes about 15 s. Every wait is bounded; children are killed on exit.
# Usage: bash operator.test.sh PATH_TO_PUNT
set -euo pipefail
punt=${1:?usage: operator.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
PUNT_BIN=$(realpath "$punt") exec timeout -k 10 300 node --test --test-reporter=spec \
  "$root/test/blackbox/operator.test.js"
