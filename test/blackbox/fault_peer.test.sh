#!/usr/bin/env bash
# The fault-injection receiver does what the fault tests rely on: error
# statuses with Retry-After, resets mid-answer, hangs, slow bodies, closes,
# a strict LRS rejecting a poisoned batch, and TLS with test certificates.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
exec bash "$root/test/peers/fault-selftest.sh"
