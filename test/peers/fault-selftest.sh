#!/usr/bin/env bash
# Self-test of fault-receiver.js and make-test-certs.sh: makes the test
# certificates, starts the receiver over HTTP and HTTPS, drives every plan step
# with curl and checks the answers, the timings, the records and the stats.
# Needs node, curl and openssl; no npm package. Takes about 10 s; every wait
# is bounded and the receivers are killed on exit.
#   test/peers/fault-selftest.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
for tool in node curl openssl; do command -v "$tool" >/dev/null || { echo "fault-selftest: FAIL: $tool not found" >&2; exit 1; }; done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/punt-fault-selftest.XXXXXX")"
pids=()
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for f in "$tmp"/*.err; do [[ -s "$f" ]] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s%3N)
fail() { echo "fault-selftest: FAIL: $*" >&2; exit 1; }
ok() { echo "fault-selftest: ok: $*"; }

# --------------------------------------------------------------- helpers

# launch NAME [ARGS...]: starts a receiver in the background.
declare -A pid_of
launch() {
  local name=$1; shift
  node fault-receiver.js --port 0 --out "$tmp/$name.jsonl" --ready-file "$tmp/$name.ready" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid_of[$name]=$!
  pids+=("$!")
}
# ready NAME: waits (up to 10 s) for its ready line; sets $url.
ready() {
  local name=$1 pid=${pid_of[$1]} i
  for ((i = 0; i < 200; i++)); do
    [[ -s "$tmp/$name.ready" ]] && break
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready"
    sleep 0.05
  done
  [[ -s "$tmp/$name.ready" ]] || fail "$name not ready within 10 s"
  url=$(sed -n 's/^{"ready":true,"url":"\([^"]*\)","port":[0-9]*}$/\1/p' "$tmp/$name.ready")
  [[ -n $url ]] || fail "$name: bad ready line $(cat "$tmp/$name.ready")"
}

# ctl METHOD URL [JSON]: a control request; prints the body, fails on a non-2xx.
ctl() {
  local args=(-sS --max-time 5 -X "$1" -o "$tmp/ctl.body" -w '%{http_code}' "${cacert[@]}")
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  local code; code=$(curl "${args[@]}" "$2") || fail "ctl $1 $2: curl failed"
  [[ $code == 2* ]] || fail "ctl $1 $2 -> $code: $(cat "$tmp/ctl.body")"
  cat "$tmp/ctl.body"
}
plan() { ctl POST "$url/_plan" "$1" >/dev/null; }

# hit [CURL ARGS...] URL: one request; sets rc (curl's exit code), code,
# total and start (seconds, time to the first answer byte), and leaves the
# answer in $tmp/hit.body, $tmp/hit.head and curl's error in $tmp/hit.err.
hit() {
  local w
  rc=0
  w=$(curl -sS --max-time 10 -o "$tmp/hit.body" -D "$tmp/hit.head" \
        -w '%{http_code} %{time_total} %{time_starttransfer}' "$@" 2>"$tmp/hit.err") || rc=$?
  read -r code total start <<<"$w"
}
# ms SECONDS: whole milliseconds.
ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

# stat URL KEY: a number or string at the top level of GET /_stats.
stat() { ctl GET "$1/_stats" | sed -n -e "s/.*\"$2\":\([0-9]*\)[,}].*/\1/p" -e "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }

# wait_open URL N: waits (up to 3 s) until the receiver has N open connections.
wait_open() {
  local i n
  for ((i = 0; i < 60; i++)); do
    n=$(stat "$1" openConnections)
    [[ $n == "$2" ]] && return 0
    sleep 0.05
  done
  fail "open connections: expected $2, got $n"
}

# ------------------------------------------------------------ certificates
certs="$tmp/certs"
./make-test-certs.sh "$certs" >"$tmp/certs.out" 2>&1 || fail "make-test-certs.sh: $(cat "$tmp/certs.out")"
[[ ! -s "$tmp/certs.out" ]] || fail "make-test-certs.sh is not quiet: $(cat "$tmp/certs.out")"
for f in ca.pem ca.key server.pem server.key other-ca.pem wrong.pem wrong.key wrong-host.pem wrong-host.key; do
  [[ -s "$certs/$f" ]] || fail "make-test-certs.sh did not make $f"
done
sums=$(cd "$certs" && cksum ./*.pem ./*.key)
./make-test-certs.sh "$certs" >"$tmp/certs.out" 2>&1 || fail "make-test-certs.sh (again)"
[[ "$(cd "$certs" && cksum ./*.pem ./*.key)" == "$sums" ]] || fail "make-test-certs.sh is not idempotent"
openssl verify -CAfile "$certs/ca.pem" "$certs/server.pem" >/dev/null 2>&1 || fail "server.pem does not verify against ca.pem"
openssl verify -CAfile "$certs/other-ca.pem" "$certs/wrong.pem" >/dev/null 2>&1 || fail "wrong.pem does not verify against other-ca.pem"
! openssl verify -CAfile "$certs/ca.pem" "$certs/wrong.pem" >/dev/null 2>&1 || fail "wrong.pem verifies against ca.pem"
san=$(openssl x509 -in "$certs/server.pem" -noout -ext subjectAltName)
[[ $san == *"IP Address:127.0.0.1"* && $san == *"DNS:localhost"* ]] || fail "server.pem SAN: $san"
openssl x509 -in "$certs/server.pem" -noout -checkend 86400 >/dev/null || fail "server.pem expires within a day"
! openssl x509 -in "$certs/server.pem" -noout -checkend $((2 * 86400 + 600)) >/dev/null || fail "server.pem is valid for more than 2 days"
ok "make-test-certs.sh: quiet, idempotent; server.pem (IP 127.0.0.1, DNS localhost, 2 days) chains to ca.pem, wrong.pem only to other-ca.pem"

# All four receivers start at once: plain HTTP, HTTPS with server.pem, and
# HTTPS with the two certificates a client trusting ca.pem must refuse.
launch plain
launch tls --tls-cert "$certs/server.pem" --tls-key "$certs/server.key"
launch wrongca --tls-cert "$certs/wrong.pem" --tls-key "$certs/wrong.key"
launch wronghost --tls-cert "$certs/wrong-host.pem" --tls-key "$certs/wrong-host.key"

# ------------------------------------------------------------- plain HTTP
cacert=()
ready plain
cmp -s "$tmp/plain.ready" "$tmp/plain.out" || fail "stdout is not exactly the ready line: $(cat "$tmp/plain.out")"
[[ $url =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "bad url $url"
ok "ready line: $(cat "$tmp/plain.ready")"
port=${url##*:}
ss -Htln "sport = :$port" 2>/dev/null | grep -q . && {
  ss -Htln "sport = :$port" | awk '{print $4}' | grep -qv '^127\.0\.0\.1:' && fail "listens beyond 127.0.0.1"
  ok "listens on 127.0.0.1:$port only"
}

hit "$url/x"
[[ $rc == 0 && $code == 204 ]] || fail "no plan: expected 204, got rc=$rc code=$code"
ok "no plan: default 204"

# A bad plan is refused and changes nothing.
bad=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X POST --data-binary '{"steps":[{"status":500},{"fault":"explode"}]}' "$url/_plan")
[[ $bad == 400 ]] || fail "bad plan: expected 400, got $bad"
[[ $(ctl GET "$url/_plan") == '{"steps":[],"default":{"status":204}}' ]] || fail "a bad plan changed the plan: $(ctl GET "$url/_plan")"
ok "a plan with an unknown fault -> 400, plan unchanged"

# status with Retry-After, count, then the default.
plan '{"steps":[{"status":503,"count":2,"headers":{"Retry-After":"2"},"body":"busy"},{"status":410}],"default":{"status":200,"body":"fine"}}'
hit -X POST -H 'Content-Type: application/json' -H 'X-Mixed-Case: Yes' --data-binary '{"n":1}' "$url/hook?a=1"
[[ $rc == 0 && $code == 503 && $(cat "$tmp/hit.body") == busy ]] || fail "status step: rc=$rc code=$code body=$(cat "$tmp/hit.body")"
grep -qi '^Retry-After: 2' "$tmp/hit.head" || fail "no Retry-After: 2 in $(cat "$tmp/hit.head")"
hit -X POST --data-binary 'text body' "$url/hook"
[[ $code == 503 ]] || fail "second request of count 2: $code"
hit "$url/other"
[[ $code == 410 ]] || fail "next step: expected 410, got $code"
hit "$url/x"
[[ $code == 200 && $(cat "$tmp/hit.body") == fine ]] || fail "default after the steps: $code $(cat "$tmp/hit.body")"
ok "status steps: 503 (Retry-After: 2, body busy) x2, then 410, then the default 200"

# reset mid-answer.
plan '{"steps":[{"fault":"reset"}]}'
hit -X POST --data-binary '{"n":2}' "$url/hook"
[[ $rc == 56 ]] || fail "reset: expected curl error 56, got $rc ($(cat "$tmp/hit.err"))"
grep -q '^HTTP/1.1 200' "$tmp/hit.head" || fail "reset: the answer did not start: $(cat "$tmp/hit.head")"
ok "reset: status line and headers arrive, then curl error 56 ($(head -n 1 "$tmp/hit.err"))"

# close without an answer.
plan '{"steps":[{"fault":"close"}]}'
hit -X POST --data-binary '{"n":3}' "$url/hook"
[[ $rc == 52 && ! -s "$tmp/hit.head" ]] || fail "close: expected curl error 52 and no answer, got $rc ($(cat "$tmp/hit.err"))"
ok "close: empty reply, curl error 52"

# hang: the client gives up; nothing stays open.
plan '{"steps":[{"fault":"hang"}]}'
hit --max-time 2 -X POST --data-binary '{"n":4}' "$url/hook"
[[ $rc == 28 ]] || fail "hang: expected curl timeout 28, got $rc"
(( $(ms "$total") >= 1900 )) || fail "hang: gave up after only ${total}s"
wait_open "$url" 0
[[ $(stat "$url" hanging) == 0 ]] || fail "hang: still counted as hanging after the client left"
ok "hang: curl --max-time 2 times out (28) after ${total}s; the socket is released (0 open, 0 hanging)"

# hang with a short ms: the receiver drops it itself.
plan '{"steps":[{"fault":"hang","ms":500}]}'
hit --max-time 5 "$url/hook"
[[ $rc == 52 ]] || fail "hang ms=500: expected curl error 52, got $rc"
(( $(ms "$total") >= 450 && $(ms "$total") < 3000 )) || fail "hang ms=500: took ${total}s"
ok "hang with ms 500: the receiver destroys the socket after ${total}s"

# slow: 3 bytes at 1 byte/s.
plan '{"steps":[{"fault":"slow","bytesPerSecond":1,"body":"abc"}]}'
hit -X POST --data-binary '{"n":5}' "$url/hook"
[[ $rc == 0 && $code == 200 && $(cat "$tmp/hit.body") == abc ]] || fail "slow: rc=$rc code=$code body=$(cat "$tmp/hit.body")"
(( $(ms "$total") >= 3000 && $(ms "$total") < 4500 )) || fail "slow: 3 bytes took ${total}s"
(( $(ms "$start") < 1000 )) || fail "slow: headers came only after ${start}s"
ok "slow: headers after ${start}s, 3 bytes at 1 B/s in ${total}s"

# xapi poison.
P=aaaaaaaa-0000-4000-8000-00000000000p
A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
plan "{\"default\":{\"xapi\":\"poison\",\"poisonIds\":[\"$P\"]}}"
xpost() { hit -X POST -H 'Content-Type: application/json' -H 'X-Experience-API-Version: 1.0.3' --data-binary "$1" "$url/xAPI/statements"; }
xpost "{\"id\":\"$A\",\"verb\":{\"id\":\"v\"}}"
[[ $code == 200 && $(cat "$tmp/hit.body") == "[\"$A\"]" ]] || fail "poison, one clean statement: $code $(cat "$tmp/hit.body")"
xpost "[{\"id\":\"$A\"},{\"id\":\"$B\"},{\"verb\":{\"id\":\"v\"}}]"
[[ $code == 200 ]] && node -e 'const a = JSON.parse(process.argv[1]); if (a.length !== 3 || a[0] !== process.argv[2] || a[1] !== process.argv[3] || !/^[0-9a-f-]{36}$/.test(a[2])) process.exit(1)' \
  "$(cat "$tmp/hit.body")" "$A" "$B" || fail "poison, clean batch: $code $(cat "$tmp/hit.body")"
xpost "[{\"id\":\"$A\"},{\"id\":\"$P\"},{\"id\":\"$B\"}]"
[[ $code == 400 && $(cat "$tmp/hit.body") == "{\"error\":\"poisoned statement $P\"}" ]] || fail "poison, batch with the bad one: $code $(cat "$tmp/hit.body")"
xpost "{\"id\":\"$P\"}"
[[ $code == 400 ]] || fail "poison, the bad one alone: $code"
hit "$url/xAPI/statements?limit=1"
[[ $code == 200 && $(cat "$tmp/hit.body") == '{"statements":[],"more":""}' ]] || fail "poison, GET: $code $(cat "$tmp/hit.body")"
ok "xapi poison: clean statement/batch -> 200 [ids]; a batch holding $P -> 400 whole, alone -> 400; GET -> 200 empty"

# Records and stats.
node - "$url" "$tmp/plain.jsonl" "$A" "$P" <<'EOF' || fail "records"
const fs = require('fs');
const [url, outFile, A, P] = process.argv.slice(2);
(async () => {
  const lines = fs.readFileSync(outFile, 'utf8').trim().split('\n').map(JSON.parse);
  const got = lines.map((l) => `${l.fault}:${l.status}`).join(' ');
  const want = 'status:204 status:503 status:503 status:410 status:200 reset:200 close:null hang:null hang:null slow:200 '
    + 'xapi:200 xapi:200 xapi:400 xapi:400 xapi:200';
  if (got !== want) throw new Error(`faults/statuses in --out:\n got  ${got}\n want ${want}`);
  const r1 = lines[1];
  if (r1.method !== 'POST' || r1.path !== '/hook' || r1.query !== 'a=1') throw new Error(`record 1: ${JSON.stringify(r1)}`);
  if (r1.headers['x-mixed-case'] !== 'Yes' || Object.keys(r1.headers).some((k) => k !== k.toLowerCase())) throw new Error('headers not lower-case');
  if (JSON.stringify(r1.body) !== '{"n":1}' || lines[2].body !== 'text body') throw new Error('bodies not kept');
  if (r1.fromDefault !== false || lines[0].fromDefault !== true) throw new Error('fromDefault');
  if (r1.step.headers['Retry-After'] !== '2' || !/^\d{4}-\d\d-\d\dT/.test(r1.at)) throw new Error(`step/at: ${JSON.stringify(r1)}`);
  if (lines[12].error !== `poisoned statement ${P}` || lines[12].body[0].id !== A) throw new Error(`poison record: ${JSON.stringify(lines[12])}`);
  if (lines.some((l) => l.path.startsWith('/_'))) throw new Error('a control request was recorded');
  const list = await (await fetch(url + '/_received')).json();
  if (JSON.stringify(list) !== JSON.stringify(lines)) throw new Error('/_received differs from --out');
  console.log(`fault-selftest: ok: ${lines.length} records in --out and GET /_received: fault, status, lower-case headers, body`);
  const s = await (await fetch(url + '/_stats')).json();
  const f = s.faults;
  if (s.requests !== 15 || f.status !== 5 || f.reset !== 1 || f.close !== 1 || f.hang !== 2 || f.slow !== 1 || f.xapi !== 5
    || s.statuses['503'] !== 2 || s.statuses['400'] !== 2) throw new Error(`stats: ${JSON.stringify(s)}`);
  console.log(`fault-selftest: ok: GET /_stats ${JSON.stringify(f)}, ${s.connections} connections, ${s.openConnections} open`);
  if ((await fetch(url + '/_received', { method: 'DELETE' })).status !== 200) throw new Error('DELETE /_received');
  if ((await (await fetch(url + '/_received')).json()).length !== 0) throw new Error('DELETE /_received did not clear');
  if ((await fetch(url + '/_nope')).status !== 404) throw new Error('unknown control path is not 404');
  console.log('fault-selftest: ok: DELETE /_received clears; an unknown /_ path is 404, never faulty');
})().catch((e) => { console.error(e.message); process.exit(1); });
EOF

# ------------------------------------------------------------------- TLS
ready tls
[[ $url =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || fail "TLS: bad url $url"
ok "TLS ready line: $(cat "$tmp/tls.ready")"
cacert=(--cacert "$certs/ca.pem")
hit --cacert "$certs/ca.pem" "$url/x"
[[ $rc == 0 && $code == 204 ]] || fail "TLS with --cacert ca.pem: rc=$rc code=$code ($(cat "$tmp/hit.err"))"
hit --cacert "$certs/ca.pem" "https://localhost:${url##*:}/x"
[[ $rc == 0 && $code == 204 ]] || fail "TLS via localhost: rc=$rc ($(cat "$tmp/hit.err"))"
ok "TLS: curl --cacert ca.pem to 127.0.0.1 and localhost -> 204"
hit --cacert "$certs/other-ca.pem" "$url/x"
[[ $rc == 60 || $rc == 35 ]] || fail "TLS with --cacert other-ca.pem: expected a handshake failure, got rc=$rc code=$code"
[[ $(stat "$url" tlsClientErrors) -ge 1 ]] || fail "TLS: the receiver did not see the failed handshake"
ok "TLS: curl --cacert other-ca.pem fails the handshake (curl $rc: $(head -n 1 "$tmp/hit.err")); receiver saw: $(stat "$url" lastTlsError)"
plan '{"steps":[{"fault":"reset"},{"fault":"close"},{"status":500,"headers":{"Retry-After":"7"}}]}'
hit --cacert "$certs/ca.pem" "$url/x"
[[ $rc == 56 ]] && grep -q '^HTTP/1.1 200' "$tmp/hit.head" || fail "TLS reset: rc=$rc ($(cat "$tmp/hit.err"))"
hit --cacert "$certs/ca.pem" "$url/x"
[[ $rc == 52 ]] || fail "TLS close: rc=$rc ($(cat "$tmp/hit.err"))"
hit --cacert "$certs/ca.pem" "$url/x"
[[ $code == 500 ]] && grep -qi '^Retry-After: 7' "$tmp/hit.head" || fail "TLS status: $code"
ok "TLS: reset -> 56 after the answer started, close -> 52, 500 with Retry-After"

# Certificates a client trusting ca.pem must refuse.
cacert=()
ready wrongca
hit --cacert "$certs/ca.pem" "$url/x"
[[ $rc == 60 || $rc == 35 ]] || fail "cert from another CA: rc=$rc code=$code"
refused=$rc
hit --cacert "$certs/other-ca.pem" "$url/x"
[[ $rc == 0 && $code == 204 ]] || fail "wrong.pem with --cacert other-ca.pem: rc=$rc"
ok "wrong.pem (other CA): refused with --cacert ca.pem (curl $refused), accepted with other-ca.pem"
ready wronghost
hit --cacert "$certs/ca.pem" "$url/x"
[[ $rc == 60 || $rc == 51 ]] || fail "cert for another host: rc=$rc code=$code"
ok "wrong-host.pem (host wrong-host.invalid): refused for 127.0.0.1 (curl $rc: $(head -n 1 "$tmp/hit.err"))"

# -------------------------------------------------------------- clean exits
for p in "${pids[@]}"; do
  kill -TERM "$p"
  for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$p" 2>/dev/null && fail "receiver $p did not exit on SIGTERM"
  rc=0; wait "$p" || rc=$?
  [[ $rc == 0 ]] || fail "receiver $p exited $rc on SIGTERM"
done
pids=()
ok "all receivers exit 0 on SIGTERM"
echo "fault-selftest: PASS in $(( ($(date +%s%3N) - t0) )) ms"
