#!/usr/bin/env bash
# Self-test of the real peers in test/peers: lrs.js (Learning Locker's statement
# service, strict Basic auth), lrs-client.js and webhook-receiver.js (the
# standardwebhooks verifier). Runs in a few seconds; needs only node.
#   test/peers/selftest.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../scripts/install-node-tools.sh"
cd "$here"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/punt-peers-selftest.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
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

fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
ok() { echo "selftest: ok: $*"; }

# wait_ready FILE PID SECONDS: waits until FILE exists (the ready line).
wait_ready() {
  local file=$1 pid=$2 limit=$3 i
  for ((i = 0; i < limit * 20; i++)); do
    [[ -s "$file" ]] && return 0
    kill -0 "$pid" 2>/dev/null || fail "process $pid exited before it was ready"
    sleep 0.05
  done
  fail "not ready within ${limit}s: $file"
}

key=lrs_key
secret='p@ss>w?rd~~'
std_token='bHJzX2tleTpwQHNzPnc/cmR+fg=='
urlsafe_token='bHJzX2tleTpwQHNzPnc_cmR-fg'
golden=../golden/xapi/lesson.completed.1.0.3.json
[[ -f $golden ]] || fail "missing $golden"

# Start both peers at once; the LRS takes a second or two to load.
whsec="whsec_$(head -c 24 /dev/urandom | base64 -w0)"
whsec2="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
start_ms=$(date +%s%3N)
node lrs.js --port 0 --key "$key" --secret "$secret" \
  --ready-file "$tmp/lrs.ready" --log "$tmp/lrs.log" >"$tmp/lrs.out" 2>"$tmp/lrs.err" &
lrs_pid=$!
pids+=("$lrs_pid")
node webhook-receiver.js --port 0 --secret "$whsec" --expect-auth 'Bearer tok-123' \
  --out "$tmp/hooks.jsonl" --ready-file "$tmp/hook.ready" >"$tmp/hook.out" 2>"$tmp/hook.err" &
hook_pid=$!
pids+=("$hook_pid")

# ---------------------------------------------------------------- the LRS
wait_ready "$tmp/lrs.ready" "$lrs_pid" 30
ok "lrs.js ready in $(( $(date +%s%3N) - start_ms )) ms: $(cat "$tmp/lrs.ready")"
base=$(sed -n 's/.*"base":"\([^"]*\)".*/\1/p' "$tmp/lrs.ready")
[[ $base =~ ^http://127\.0\.0\.1:[0-9]+/xAPI$ ]] || fail "bad base '$base'"
cmp -s "$tmp/lrs.ready" "$tmp/lrs.out" || fail "stdout is not exactly the ready line: $(cat "$tmp/lrs.out")"

s=$(node lrs-client.js post "$base" "$key" "$secret" "$golden" | head -n 1)
[[ $s == 200 ]] || fail "lrs-client.js post (standard token): expected 200, got $s"
ok "POST with the standard padded token $std_token -> 200"

# One node process posts the rest, each with an explicit Authorization header,
# and prints "name status" lines.
node - "$base" "$golden" "$std_token" "$urlsafe_token" >"$tmp/posts.txt" <<'EOF'
const fs = require('fs');
const [base, golden, std, urlsafe] = process.argv.slice(2);
const body = fs.readFileSync(golden);
const changed = JSON.parse(body); changed.timestamp = '2001-01-01T00:00:00.000Z';
const post = (token, b) => fetch(base + '/statements', {
  method: 'POST', body: b, signal: AbortSignal.timeout(10000),
  headers: { authorization: 'Basic ' + token, 'x-experience-api-version': '1.0.3', 'content-type': 'application/json' },
}).then(async (r) => { await r.arrayBuffer(); return r.status; });
(async () => {
  console.log('urlsafe', await post(urlsafe, body));
  console.log('unpadded', await post(std.replace(/=+$/, ''), body));
  console.log('repost', await post(std, body));
  console.log('changed', await post(std, JSON.stringify(changed)));
})().catch((e) => { console.error(e); process.exit(2); });
EOF
expect_post() {
  local got; got=$(awk -v n="$1" '$1 == n { print $2 }' "$tmp/posts.txt")
  [[ $got == "$2" ]] || fail "$3: expected $2, got '${got}'"
  ok "$3 -> $2"
}
expect_post urlsafe 401 "POST with the URL-safe unpadded token $urlsafe_token"
expect_post unpadded 401 "POST with the standard but unpadded token"
expect_post repost 200 "identical re-post"
expect_post changed 409 "same id with a different timestamp"

n=$(node lrs-client.js count "$base" "$key" "$secret"); [[ $n == 1 ]] || fail "count: expected 1, got $n"
ok "count stays 1"
id=$(node lrs-client.js ids "$base" "$key" "$secret")
[[ $id == "$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$golden")" ]] || fail "ids: got '$id'"
ok "ids lists the one stored statement"

# The request log: real statuses and the Authorization header verbatim.
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const posts = lines.filter((l) => l.method === "POST" && l.path === "/xAPI/statements");
const got = posts.map((l) => l.status).join(",");
if (got !== "200,401,401,200,409") throw new Error("logged POST statuses " + got);
if (posts[1].authorization !== "Basic " + process.argv[2]) throw new Error("authorization not verbatim: " + posts[1].authorization);
if (posts[1].authOk !== false || posts[0].authOk !== true) throw new Error("authOk wrong");
if (lines.some((l) => l.path === "/xAPI/about")) throw new Error("the readiness probe was logged");
' "$tmp/lrs.log" "$urlsafe_token" || fail "request log check"
ok "request log has the real statuses (200,401,401,200,409) and verbatim headers"

# -------------------------------------------------------- webhook receiver
wait_ready "$tmp/hook.ready" "$hook_pid" 10
hook_url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$tmp/hook.ready")
[[ $hook_url =~ ^http://127\.0\.0\.1:[0-9]+/hook$ ]] || fail "bad url '$hook_url'"
ok "webhook-receiver.js ready: $(cat "$tmp/hook.ready")"

# Signs with standardwebhooks' own sign(), sends, and checks the answers, the
# --out records and GET /_received.
node - "$hook_url" "$whsec" "$whsec2" "$tmp/hooks.jsonl" <<'EOF' || fail "webhook checks"
const fs = require('fs');
const crypto = require('crypto');
const { Webhook } = require('standardwebhooks');
const [url, whsec, whsec2, outFile] = process.argv.slice(2);
const root = url.replace(/\/hook$/, '');
async function send(secret, mode) {
  const body = JSON.stringify({ type: 'lesson.completed', timestamp: new Date().toISOString(), data: { n: 1 } });
  const id = 'msg_' + crypto.randomUUID();
  const now = new Date();
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, body),
  };
  if (mode !== 'noauth') headers.authorization = 'Bearer tok-123';
  const sent = mode === 'tampered' ? body.replace('"n":1', '"n":2') : body;
  const r = await fetch(url, { method: 'POST', headers, body: sent, signal: AbortSignal.timeout(5000) });
  await r.arrayBuffer();
  return r.status;
}
function expect(what, got, want) {
  if (got !== want) throw new Error(`${what}: expected ${want}, got ${got}`);
  console.log(`selftest: ok: ${what} -> ${got}`);
}
(async () => {
  expect('webhook signed with standardwebhooks sign()', await send(whsec, 'good'), 204);
  expect('tampered webhook', await send(whsec, 'tampered'), 400);
  expect('webhook without the expected Authorization', await send(whsec, 'noauth'), 400);
  expect('webhook signed with an unknown secret', await send(whsec2, 'good'), 400);
  const c = await fetch(root + '/_config', { method: 'POST', body: JSON.stringify({ addSecrets: [whsec2], status: 200 }) });
  expect('POST /_config', c.status, 200);
  expect('webhook signed with the secret added at runtime', await send(whsec2, 'good'), 200);
  expect('webhook signed with the first secret after that', await send(whsec, 'good'), 200);

  const lines = fs.readFileSync(outFile, 'utf8').trim().split('\n').map(JSON.parse);
  const want = [[true, true, 204], [false, true, 400], [true, false, 400], [false, true, 400], [true, true, 200], [true, true, 200]];
  expect('records in --out', lines.length, want.length);
  lines.forEach((l, i) => {
    const [verified, authOk, status] = want[i];
    if (l.verified !== verified || l.authOk !== authOk || l.status !== status) throw new Error(`record ${i}: ${JSON.stringify(l)}`);
    if (l.type !== 'lesson.completed' || !/^msg_/.test(l.id) || !/^[0-9]+$/.test(l.timestamp)) throw new Error(`record ${i} fields: ${JSON.stringify(l)}`);
  });
  if (!lines[1].error) throw new Error('the tampered record has no error');
  console.log('selftest: ok: --out records: signed verified, tampered/unknown-secret not verified');
  const list = await (await fetch(root + '/_received')).json();
  if (JSON.stringify(list) !== JSON.stringify(lines)) throw new Error('/_received differs from --out');
  console.log('selftest: ok: GET /_received matches --out');
})().catch((e) => { console.error(e); process.exit(1); });
EOF

# ----------------------------------------------------------- clean exits
for p in "$lrs_pid" "$hook_pid"; do
  kill -TERM "$p"
  for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$p" 2>/dev/null && fail "process $p did not exit on SIGTERM"
  rc=0; wait "$p" || rc=$?
  [[ $rc == 0 ]] || fail "process $p exited $rc on SIGTERM"
done
pids=()
ok "both peers exit 0 on SIGTERM"
echo "selftest: PASS"
