#!/usr/bin/env bash
# One punt serve a data dir: a second one on the same dir is refused at start
# (two would claim and send the same deliveries), and the dir is free again
# once the first has stopped, even when it was killed.
set -euo pipefail
punt=${1:?usage: data_dir_lock.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/test/blackbox/lib/serve.sh"

start_serve
set +e
timeout 10 "$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" 2> "$tmp/second"
status=$?
set -e
[[ $status -eq 1 ]] && grep -q 'another punt serve is using the data dir' "$tmp/second" \
  || fail "a second punt serve on the same dir: exit $status: $(cat "$tmp/second")"
kill -0 "$pid" || fail "the first punt serve stopped"
echo "ok: a second punt serve on the same data dir is refused"

kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=""
start_serve
echo "ok: the dir is free again once the first is gone, even killed"
