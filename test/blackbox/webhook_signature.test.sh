# Cross-checks punt's Standard Webhooks signing against the real npm verifier
# (standardwebhooks@1.1.1) in both directions, and checks `punt webhook-body`.
# Usage: bash webhook_signature.test.sh /path/to/punt
set -euo pipefail

punt=$(realpath "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
crosscheck="$repo/test/peers/webhook-crosscheck.js"
"$repo/scripts/install-node-tools.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
pass() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; failures=$((failures + 1)); }
# expect STATUS DESCRIPTION COMMAND...: runs COMMAND and checks its exit status.
expect() {
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$work/out" 2>"$work/err" || got=$?
  if [[ $got == "$want" ]]; then pass "$what"; else
    fail "$what (exit $got, wanted $want)"
    cat "$work/out" "$work/err"
  fi
}
header() { sed -n "s/^$1: //p" "$2"; }
lib_verify() { node "$crosscheck" verify "$@"; }
punt_verify() { "$punt" webhook-verify --secret "$1" --id "$3" --timestamp "$4" \
  --signature "$5" <"$2"; }

secret_a=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
secret_b="whsec_$(head -c 32 /dev/urandom | base64)"
secret_c="whsec_$(head -c 24 /dev/urandom | base64)"

cat >"$work/event.json" <<'JSON'
{"id": "evt-8812", "type": "lesson.completed", "occurred_at": "2026-11-28T13:00:00.1+01:00",
 "user": {"id": "u-17", "name": "Jane Doe", "custom_fields": {"team": "West"}},
 "lesson": {"id": "l-77", "title": "Objection handling"}, "score_percent": 92,
 "x_unknown": {"kept": [1, "two"]}}
JSON

echo "== punt webhook-body"
"$punt" webhook-body --org-id acme <"$work/event.json" >"$work/body.json"
expect 0 "webhook-body is one line of JSON with type, timestamp and the whole event as data" \
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8");
    const event = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    if (!text.endsWith("}\n") || text.trimEnd().includes("\n")) throw "not one line";
    const body = JSON.parse(text);
    const want = {type: "lesson.completed", timestamp: "2026-11-28T12:00:00.100Z", data: event};
    if (JSON.stringify(body) !== JSON.stringify(want)) throw "unexpected body: " + text;' \
  "$work/body.json" "$work/event.json"
expect 2 "webhook-body refuses input that is not JSON" \
  bash -c '"$1" webhook-body <<<"{nope"' _ "$punt"

echo "== punt signs, the library verifies"
now=$(date +%s)
"$punt" webhook-sign --secret "$secret_a" --org-id acme --event-id evt-8812 \
  <"$work/body.json" >"$work/headers"
id=$(header webhook-id "$work/headers")
ts=$(header webhook-timestamp "$work/headers")
sig=$(header webhook-signature "$work/headers")
[[ $id == msg_* && $ts -ge $now && $sig == v1,* ]] && pass "webhook-sign prints the three headers" \
  || fail "webhook-sign headers: $(cat "$work/headers")"
expect 0 "the library accepts punt's signature" lib_verify "$secret_a" "$work/body.json" \
  "$id" "$ts" "$sig"
sed 's/"score_percent":92/"score_percent":93/' "$work/body.json" >"$work/tampered.json"
cmp -s "$work/body.json" "$work/tampered.json" && fail "tampering changed nothing"
expect 1 "the library refuses a tampered body" lib_verify "$secret_a" "$work/tampered.json" \
  "$id" "$ts" "$sig"
grep -q 'No matching signature' "$work/err" && pass "  ... because no signature matches" \
  || fail "  ... for another reason: $(cat "$work/err")"
expect 1 "the library refuses punt's signature under another secret" lib_verify "$secret_b" \
  "$work/body.json" "$id" "$ts" "$sig"
"$punt" webhook-sign --secret "$secret_a" --org-id acme --event-id evt-8812 \
  <"$work/body.json" >"$work/headers2"
[[ $(header webhook-id "$work/headers2") == "$id" ]] \
  && pass "webhook-id is the same for the same org and event" || fail "webhook-id changed"

echo "== rotation: punt signs with two secrets"
"$punt" webhook-sign --secret "$secret_b" --secret "$secret_c" --id msg_rotation \
  <"$work/body.json" >"$work/headers"
ts=$(header webhook-timestamp "$work/headers")
sig=$(header webhook-signature "$work/headers")
[[ $sig =~ ^v1,[^\ ]+\ v1,[^\ ]+$ ]] && pass "the signature header holds two v1 entries" \
  || fail "rotation header: $sig"
expect 0 "the library accepts it with the new secret" lib_verify "$secret_b" \
  "$work/body.json" msg_rotation "$ts" "$sig"
expect 0 "the library accepts it with the old secret" lib_verify "$secret_c" \
  "$work/body.json" msg_rotation "$ts" "$sig"
expect 1 "the library refuses it with a third secret" lib_verify "$secret_a" \
  "$work/body.json" msg_rotation "$ts" "$sig"

echo "== the library signs, punt verifies"
printf '{"type":"user.created","note":"héllo \\u00e9 ✓"}' >"$work/lib_body.json"
ts=$(date +%s)
sig=$(node "$crosscheck" sign "$secret_b" "$work/lib_body.json" msg_from_lib "$ts")
expect 0 "punt webhook-verify accepts the library's signature" punt_verify "$secret_b" \
  "$work/lib_body.json" msg_from_lib "$ts" "$sig"
grep -qx verified "$work/out" && pass "  ... and prints 'verified'" || fail "  ... output"
printf '{"type":"user.created","note":"hello"}' >"$work/lib_tampered.json"
expect 1 "punt webhook-verify refuses a tampered body" punt_verify "$secret_b" \
  "$work/lib_tampered.json" msg_from_lib "$ts" "$sig"
expect 1 "punt webhook-verify refuses another webhook-id" punt_verify "$secret_b" \
  "$work/lib_body.json" msg_other "$ts" "$sig"
old=$((ts - 600))
sig=$(node "$crosscheck" sign "$secret_b" "$work/lib_body.json" msg_from_lib "$old")
expect 1 "punt webhook-verify refuses a timestamp 10 minutes old" punt_verify "$secret_b" \
  "$work/lib_body.json" msg_from_lib "$old" "$sig"
grep -q 'too old' "$work/err" && pass "  ... saying it is too old" \
  || fail "  ... $(cat "$work/err")"
expect 2 "punt webhook-verify without --signature is bad usage" \
  bash -c '"$1" webhook-verify --secret "$2" --id x --timestamp 1 </dev/null' _ "$punt" "$secret_b"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all webhook signature checks passed"
