# Sourced by the shell tests that start punt themselves: a temp dir ($tmp),
# one background process ($pid) stopped and waited for on exit, fail, the
# wait for "punt listening" in a log, and start_serve (needs $punt).
tmp=$(mktemp -d)
pid=""
stop_punt() {  # stops $pid (if any) and waits for it
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
trap 'stop_punt; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }  # stderr: also seen from a $(...)

# wait_listening LOG: waits (at most 10 s) for "punt listening" in LOG while
# $pid lives, then prints the address it logged.
wait_listening() {
  for _ in $(seq 100); do
    grep -q '"punt listening"' "$1" && break
    kill -0 "$pid" 2>/dev/null || fail "punt exited: $(cat "$1")"
    sleep 0.1
  done
  local address
  address=$(grep -o '"address":"[^"]*"' "$1" | head -1 | cut -d'"' -f4)
  [[ -n "$address" ]] || fail "punt did not start: $(cat "$1")"
  echo "$address"
}

# start_serve: starts "$punt" serve on $tmp/data in the background ($pid,
# its log in $tmp/log) and waits until it listens.
start_serve() {
  "$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" 2> "$tmp/log" &
  pid=$!
  wait_listening "$tmp/log" > /dev/null
}
