#!/usr/bin/env bash
# `make run`'s script (scripts/run.sh): it starts punt serve on a data dir,
# passes what follows the binary on to it, and starts again on the same data.
# Regression: it passed the binary's own path to `punt serve`, which refused
# it (exit 2): README's first command never started the server.
set -euo pipefail
punt=${1:?usage: run_script.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/test/blackbox/lib/serve.sh"

# Starts scripts/run.sh with ARGS, waits (at most 10 s) for "punt listening",
# checks /healthz at the logged address, and stops it.
start_and_check() {
  : > "$tmp/log"
  PUNT_LISTEN=127.0.0.1:0 PUNT_DATA_DIR="$tmp/data" "$root/scripts/run.sh" "$punt" "$@" \
    > "$tmp/out" 2> "$tmp/log" &
  pid=$!
  local address
  address=$(wait_listening "$tmp/log")
  [[ $(curl -s --max-time 5 "$address/healthz") == *ok* ]] || fail "no /healthz at $address"
  stop_punt
  grep -q '"punt stopped"' "$tmp/log" || fail "punt did not stop cleanly: $(cat "$tmp/log")"
}

start_and_check
[[ -s "$tmp/data/admin.key" ]] || fail "no admin key made at the first start"
grep -q "admin key is in $tmp/data/admin.key" "$tmp/out" || fail "run.sh did not say where the key is"
echo "ok: make run's script starts punt serve"

# Again on the same data dir, with an argument for punt serve (make run ARGS=...).
start_and_check --allow-destination 127.0.0.0/8
echo "ok: it starts again on the same data, passing its arguments on"
