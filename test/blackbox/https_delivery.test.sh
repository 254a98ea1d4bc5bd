#!/usr/bin/env bash
# HTTPS delivery with --ca-file: a receiver whose certificate a test CA signed
# gets its webhook; one whose certificate another CA signed fails the TLS
# handshake, and the attempt says so and the delivery is retried.
set -euo pipefail
punt=${1:?usage: https_delivery.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/install-node-tools.sh"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_for() {  # wait_for FILE PATTERN: bounded wait for a line in FILE
  for _ in $(seq 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for $2 in $1"
}

bash "$root/test/peers/make-test-certs.sh" "$tmp/certs" > /dev/null
start_receiver() {  # start_receiver NAME CERT KEY
  node "$root/test/peers/fault-receiver.js" --port 0 --out "$tmp/$1.out" \
    --tls-cert "$tmp/certs/$2" --tls-key "$tmp/certs/$3" --ready-file "$tmp/$1.ready" \
    > /dev/null 2> "$tmp/$1.err" &
  pids+=($!)
  wait_for "$tmp/$1.ready" ready
}
start_receiver good server.pem server.key
start_receiver bad wrong.pem wrong.key
good_url=$(json '["url"]' < "$tmp/good.ready")/hook
bad_url=$(json '["url"]' < "$tmp/bad.ready")/hook

admin=https-test-admin-key-0123456789
"$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" --admin-key "$admin" \
  --allow-destination 127.0.0.0/8 --ca-file "$tmp/certs/ca.pem" 2> "$tmp/punt.log" &
pids+=($!)
wait_for "$tmp/punt.log" '"punt listening"'
api=$(grep -o '"address":"[^"]*"' "$tmp/punt.log" | head -1 | cut -d'"' -f4)

call() {  # call METHOD PATH KEY [BODY]
  curl -sS -X "$1" "$api$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    ${4:+-d "$4"}
}
key=$(call POST /v1/orgs "$admin" '{"name":"Acme","platform_url":"https://acme.example"}' \
  | json '["api_key"]')
good=$(call POST /v1/subscriptions "$key" \
  "{\"kind\":\"webhook\",\"url\":\"$good_url\",\"events\":[\"*\"]}" | json '["id"]')
bad=$(call POST /v1/subscriptions "$key" \
  "{\"kind\":\"webhook\",\"url\":\"$bad_url\",\"events\":[\"*\"]}" | json '["id"]')
call POST /v1/events "$key" "$(cat "$root/test/golden/events/lesson.liked.json")" > /dev/null

state_of() {  # state_of SUB: the state of its first delivery
  call GET "/v1/subscriptions/$1/deliveries" "$key" | json '["data"][0]["state"]'
}
# Up to 30 s on a loaded machine. The states are kept as seen: read again
# later, the bad delivery may be in flight for its retry (5 s on).
good_state="" bad_state=""
for _ in $(seq 300); do
  good_state=$(state_of "$good")
  bad_state=$(state_of "$bad")
  [[ $good_state == delivered && $bad_state == retrying ]] && break
  sleep 0.1
done
[[ $good_state == delivered ]] || fail "HTTPS delivery with --ca-file: $good_state"
wait_for "$tmp/good.out" '"method":"POST"'
echo "ok: delivered over HTTPS to a receiver signed by the --ca-file CA"

[[ $bad_state == retrying ]] || fail "bad certificate: $bad_state"
delivery=$(call GET "/v1/subscriptions/$bad/deliveries" "$key" | json '["data"][0]["id"]')
error=$(call GET "/v1/deliveries/$delivery" "$key" | json '["attempts"][0]["error"]')
echo "$error" | grep -qiE 'SSL|certificate' || fail "attempt error does not name TLS: $error"
[[ ! -s "$tmp/bad.out" ]] || ! grep -q '"method":"POST"' "$tmp/bad.out" \
  || fail "the untrusted receiver got a request"
echo "ok: untrusted certificate refused ($error); the delivery is retried"

health=$(call GET "/v1/subscriptions/$bad" "$key" | json '["health"]["state"]')
[[ "$health" == failing ]] || fail "health after a TLS failure: $health"
echo "ok: https delivery"
