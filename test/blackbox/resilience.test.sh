#!/usr/bin/env bash
# Black-box resilience tests: fairness (a 10,000-event backlog on one webhook
# subscription never starves another) and a kill -9 loop (5 kills under steady
# ingest; afterwards every accepted event is at the real LRS exactly once and at
# the webhook receiver at least once). Prints the figures. About a minute.
# Usage: bash resilience.test.sh PATH_TO_PUNT
set -euo pipefail
punt=${1:?usage: resilience.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
PUNT_BIN=$(realpath "$punt") exec node --test --test-reporter=spec \
  "$root/test/blackbox/resilience.test.js"
