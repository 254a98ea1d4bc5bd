#!/usr/bin/env bash
# The test peers themselves behave as PEERS.md says: strict Basic auth at the
# LRS, idempotent re-posts, 409 on a changed statement, and webhook signatures
# verified by the standardwebhooks library.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
exec bash "$root/test/peers/selftest.sh"
