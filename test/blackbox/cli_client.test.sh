#!/usr/bin/env bash
# The client commands (punt org, sub, emit, delivery) against a real punt serve.
set -euo pipefail
punt=${1:?usage: cli_client.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

admin=cli-test-admin-key-0123456789
"$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" --admin-key "$admin" 2> "$tmp/log" &
server_pid=$!
for _ in $(seq 100); do grep -q '"punt listening"' "$tmp/log" && break; sleep 0.1; done
address=$(grep -o '"address":"[^"]*"' "$tmp/log" | head -1 | cut -d'"' -f4)
[[ -n "$address" ]] || fail "punt did not start: $(cat "$tmp/log")"
export PUNT_SERVER=$address

"$punt" org create --key "$admin" --name Acme --platform-url https://acme.example --mbox false > "$tmp/org"
key=$(field '["api_key"]' < "$tmp/org")
org=$(field '["id"]' < "$tmp/org")
[[ "$key" == punt_* ]] || fail "org create gave no key"
[[ $("$punt" org get "$org" --key "$admin" | field '["name"]') == Acme ]] || fail "org get"
[[ $("$punt" org update "$org" --key "$admin" --mbox true | field '["mbox_opt_in"]') == True ]] \
  || fail "org update"
[[ $(field '["mbox_opt_in"]' < "$tmp/org") == False ]] || fail "org create --mbox false"
# Regression: --mbox was a switch to create but took a value in the flag list: never usable.
"$punt" org create --key "$admin" --name Beta --platform-url https://beta.example --mbox true > "$tmp/org2"
[[ $(field '["mbox_opt_in"]' < "$tmp/org2") == True ]] || fail "org create --mbox true"
if "$punt" org create --key "$admin" --name Gamma --platform-url https://g.example --mbox yes 2> "$tmp/err"; then
  fail "org create --mbox yes was accepted"
fi
grep -q "true or false" "$tmp/err" || fail "org create --mbox yes: $(cat "$tmp/err")"
echo "ok: org create/get/update"

export PUNT_API_KEY=$key
"$punt" sub create --kind xapi --url https://lrs.example/xapi --events '*' \
  --lrs-key lrs_key --lrs-secret 'p@ss>w?rd~~' --disabled > "$tmp/sub"
sub=$(field '["id"]' < "$tmp/sub")
[[ $(field '["url"]' < "$tmp/sub") == https://lrs.example/xapi/statements ]] || fail "url not normalised"
[[ $("$punt" sub list | field '["data"][0]["id"]') == "$sub" ]] || fail "sub list"
echo "ok: sub create/list"

# Regression: an option of another sub command was dropped without a word, so
# `sub create --enabled false` made an enabled subscription that began sending.
set +e
"$punt" sub create --kind webhook --url https://hooks.example/x --events '*' --enabled false \
  > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 ]] && grep -q -- '--enabled is not an option of `punt sub create`' "$tmp/err" \
  || fail "sub create --enabled false: exit $status: $(cat "$tmp/err")"
[[ $("$punt" sub list | field '["data"].__len__()') == 1 ]] || fail "sub create --enabled false created one"
set +e
"$punt" sub update "$sub" --disabled > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 ]] && grep -q -- '--disabled is not an option' "$tmp/err" \
  || fail "sub update --disabled: exit $status: $(cat "$tmp/err")"
echo "ok: options of another sub command are refused"

set +e
"$punt" sub create --kind xapi --url ftp://x --events user.created > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] || fail "bad subscription exit $status"
grep -q '/events/0' "$tmp/err" && grep -q '/url' "$tmp/err" || fail "field errors not shown: $(cat "$tmp/err")"
echo "ok: field errors on stderr, exit 1"

"$punt" emit "$root/test/golden/events/lesson.liked.json" | grep -q evt-8813 || fail "emit"
set +e
printf ' \n' | "$punt" emit > /dev/null 2> "$tmp/err"
status=$?
"$punt" emit --key k1 --key k2 "$root/test/golden/events/lesson.liked.json" > /dev/null 2> "$tmp/err2"
status2=$?
set -e
[[ $status -eq 2 ]] && grep -q 'no event given' "$tmp/err" \
  || fail "emit of nothing: exit $status: $(cat "$tmp/err")"
[[ $status2 -eq 2 ]] && grep -q -- '--key given twice' "$tmp/err2" \
  || fail "emit --key twice: exit $status2: $(cat "$tmp/err2")"
# Regression: a read that failed was taken for the input: `emit DIR` aborted
# (an uncaught exception, exit 134), `webhook-sign < DIR` signed an empty body.
set +e
"$punt" emit "$tmp" > /dev/null 2> "$tmp/err"
s1=$?
"$punt" webhook-sign --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw < "$tmp" > "$tmp/out" 2> "$tmp/err2"
s2=$?
"$punt" statement < "$tmp" > /dev/null 2> "$tmp/err3"
s3=$?
set -e
[[ $s1 -eq 2 ]] && grep -q "punt emit: cannot read $tmp: Is a directory" "$tmp/err" \
  || fail "emit DIR: exit $s1: $(cat "$tmp/err")"
[[ $s2 -eq 2 && ! -s "$tmp/out" ]] && grep -q 'cannot read standard input' "$tmp/err2" \
  || fail "webhook-sign < DIR: exit $s2: $(cat "$tmp/out" "$tmp/err2")"
[[ $s3 -eq 2 ]] && grep -q 'cannot read standard input' "$tmp/err3" \
  || fail "statement < DIR: exit $s3: $(cat "$tmp/err3")"
echo "ok: an input that cannot be read is reported"
# Regression: a field problem about the whole body (path "") printed as "  : ...".
set +e
echo '[]' | "$punt" emit > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] && grep -q '^  /: must hold at least one event' "$tmp/err" \
  || fail "emit []: exit $status: $(cat "$tmp/err")"
"$punt" sub deliveries "$sub" --state held > "$tmp/deliveries"
delivery=$(field '["data"][0]["id"]' < "$tmp/deliveries")
# Regression: only '+' was encoded in a query value, so '&' added a parameter,
# '#' cut the value short and a space made curl refuse the URL ("cannot reach").
for state in 'held&limit=0' 'held#x' 'held x' 'held%'; do
  set +e
  "$punt" sub deliveries "$sub" --state "$state" > /dev/null 2> "$tmp/err"
  status=$?
  set -e
  [[ $status -eq 1 ]] && grep -q '/state: must be' "$tmp/err" && ! grep -q '/limit' "$tmp/err" \
    || fail "sub deliveries --state '$state': exit $status: $(cat "$tmp/err")"
done
[[ $("$punt" sub deliveries "$sub" --since 2000-01-01T01:00:00+01:00 | field '["data"][0]["id"]') \
  == "$delivery" ]] || fail "sub deliveries --since with an offset"
echo "ok: sub deliveries encodes its query values"
[[ $("$punt" delivery get "$delivery" | field '["state"]') == held ]] || fail "delivery get"
"$punt" sub update "$sub" --description "the LRS" | grep -q '"the LRS"' || fail "sub update"
# Regression: -h anywhere meant help, even as a value: `sub update ID
# --description -h` printed the usage and exited 0 without changing anything.
[[ $("$punt" sub update "$sub" --description -h | field '["description"]') == -h ]] \
  || fail "sub update --description -h"
"$punt" sub get -h | grep -q 'Usage: punt sub' || fail "sub get -h"
"$punt" sub update "$sub" --help | grep -q 'Usage: punt sub' || fail "sub update --help"
"$punt" sub update "$sub" --batch-size 20 --max-in-flight 2 > "$tmp/updated"
[[ $(field '["batch_size"]' < "$tmp/updated") == 20 && $(field '["max_in_flight"]' < "$tmp/updated") == 2 ]] \
  || fail "sub update --batch-size --max-in-flight: $(cat "$tmp/updated")"
hook=$("$punt" sub create --kind webhook --url https://hooks.example/hook --events '*' \
  --token 'Bearer cli-token' | field '["id"]')
[[ -n $("$punt" sub get "$hook" | field '.get("token", "")') ]] || fail "webhook token not set"
[[ -z $("$punt" sub update "$hook" --no-token | field '.get("token", "")') ]] \
  || fail "sub update --no-token kept the token"
[[ -z $("$punt" sub get "$hook" | field '.get("token", "")') ]] || fail "--no-token not stored"
set +e
"$punt" sub update "$hook" --no-token --token x > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 ]] && grep -q 'not both' "$tmp/err" || fail "--token with --no-token: $(cat "$tmp/err")"
# Regression: an ID went into the path as given: `sub get ID/deliveries` printed
# the delivery list (exit 0), `sub delete x/../ID` deleted ID, a space gave
# "cannot reach the server" and an empty ID asked for the collection.
set +e
"$punt" sub get "$hook/deliveries" > /dev/null 2> "$tmp/err"
s1=$?
"$punt" sub delete "x/../$hook" > /dev/null 2>&1
s2=$?
"$punt" sub get 'a b' > /dev/null 2> "$tmp/err3"
s3=$?
"$punt" delivery get '' > /dev/null 2> "$tmp/err4"
s4=$?
set -e
[[ $s1 -eq 1 ]] && grep -q 'subscription not found' "$tmp/err" \
  || fail "sub get ID/deliveries: exit $s1: $(cat "$tmp/err")"
[[ $s2 -eq 1 ]] && "$punt" sub get "$hook" > /dev/null || fail "sub delete x/../ID: exit $s2"
[[ $s3 -eq 1 ]] && grep -q 'subscription not found' "$tmp/err3" \
  || fail "sub get 'a b': exit $s3: $(cat "$tmp/err3")"
[[ $s4 -eq 2 ]] && grep -q 'the ID is empty' "$tmp/err4" \
  || fail "delivery get '': exit $s4: $(cat "$tmp/err4")"
echo "ok: IDs are encoded in the path"
"$punt" sub delete "$hook" > /dev/null
echo "ok: sub update --no-token removes a webhook's token"
set +e
"$punt" sub update "$sub" --batch-size lots > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] && grep -q '/batch_size' "$tmp/err" || fail "bad --batch-size: $(cat "$tmp/err")"
"$punt" sub delete "$sub"
set +e
"$punt" sub get "$sub" 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] && grep -q 404 "$tmp/err" || fail "deleted subscription still there"
echo "ok: emit, deliveries, delivery get, update, delete"

# Regression: webhook-sign and statement took the last of a repeated option
# (webhook-sign --id a --id b signed for b), where every other command refuses.
event="$root/test/golden/events/lesson.liked.json"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
for args in "webhook-sign --secret $secret --id a --id b" \
            "webhook-sign --secret $secret --timestamp 1 --timestamp 2" \
            "statement --org-id a --org-id b" "statement --xapi-version 2.0.0 --xapi-version 1.0.3" \
            "webhook-body --org-id a --org-id b" \
            "webhook-verify --secret $secret --id a --timestamp 1 --signature v1,x --tolerance 1 --tolerance 2"; do
  set +e
  # shellcheck disable=SC2086
  "$punt" $args < "$event" > "$tmp/out" 2> "$tmp/err"
  status=$?
  set -e
  [[ $status -eq 2 && ! -s "$tmp/out" ]] && grep -q -- 'twice\|repeated' "$tmp/err" \
    || fail "punt $args: exit $status: $(cat "$tmp/out" "$tmp/err")"
done
[[ $("$punt" webhook-sign --secret $secret --secret $secret --id a --timestamp 1 < "$event" \
  | grep -c ' v1,') == 1 ]] || fail "webhook-sign with two --secret"
# Regression: -h as an option's value printed the usage (exit 0): a script
# reading `webhook-sign --id -h` got the usage text instead of headers.
"$punt" webhook-sign --secret $secret --id -h --timestamp 1 < "$event" | grep -q '^webhook-id: -h$' \
  || fail "webhook-sign --id -h"
"$punt" statement --org-id -h < "$event" | grep -q '"actor"' || fail "statement --org-id -h"
# Regression: statement took only "--flag value", where the client commands
# also take "--flag=value".
[[ $("$punt" statement --xapi-version=2.0.0 --platform-url=https://lms.example < "$event") == \
   $("$punt" statement --xapi-version 2.0.0 --platform-url https://lms.example < "$event") ]] \
  || fail "statement --flag=value"
"$punt" statement --platform-url=https://lms.example < "$event" | grep -q 'https://lms.example' \
  || fail "statement --platform-url=URL not applied"
set +e
"$punt" statement stray < "$event" > "$tmp/out" 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 && ! -s "$tmp/out" ]] && grep -q "unexpected argument 'stray'" "$tmp/err" \
  || fail "statement with a stray argument: exit $status"
"$punt" webhook-sign --secret $secret -h | grep -q 'Usage: punt webhook-sign' || fail "webhook-sign -h"
# Regression: webhook-sign, webhook-verify and webhook-body took only
# "--flag value", where the other commands also take "--flag=value".
[[ $("$punt" webhook-sign --secret=$secret --event-id=e-1 --org-id=o-1 --timestamp=7 < "$event") == \
   $("$punt" webhook-sign --secret $secret --event-id e-1 --org-id o-1 --timestamp 7 < "$event") ]] \
  || fail "webhook-sign --flag=value"
headers=$("$punt" webhook-sign --secret=$secret --id=msg_1 --timestamp=$(date +%s) < "$event")
"$punt" webhook-verify --secret=$secret --id=msg_1 --tolerance=60 \
  --timestamp="$(sed -n 's/^webhook-timestamp: //p' <<<"$headers")" \
  --signature="$(sed -n 's/^webhook-signature: //p' <<<"$headers")" < "$event" | grep -q '^verified$' \
  || fail "webhook-verify --flag=value"
[[ $("$punt" webhook-body --org-id=o-1 < "$event") == $("$punt" webhook-body < "$event") ]] \
  || fail "webhook-body --org-id=ID"
for args in "webhook-body stray" "webhook-sign --secret $secret stray" \
            "webhook-verify --secret $secret --id a --timestamp 1 --signature v1,x stray"; do
  set +e
  # shellcheck disable=SC2086
  "$punt" $args < "$event" > "$tmp/out" 2> "$tmp/err"
  status=$?
  set -e
  [[ $status -eq 2 && ! -s "$tmp/out" ]] && grep -q "unexpected argument 'stray'" "$tmp/err" \
    || fail "punt $args: exit $status: $(cat "$tmp/out" "$tmp/err")"
done
echo "ok: repeated options of webhook-sign, webhook-body and statement are refused; --flag=value"

# Regression: `punt` without a command printed its usage to stdout with exit 2.
set +e
"$punt" > "$tmp/out" 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 && ! -s "$tmp/out" ]] && grep -q 'Usage: punt COMMAND' "$tmp/err" \
  || fail "punt without a command: exit $status, stdout: $(cat "$tmp/out")"
"$punt" --help 2> /dev/null | grep -q 'Usage: punt COMMAND' || fail "punt --help not on stdout"
echo "ok: punt without a command is a usage error on stderr"

# Regression: a secret starting with "--" (a URL-safe one may) could not be
# given to punt token: it was an unknown option, and "--" was one too.
[[ $("$punt" token -- key --secret) == "a2V5Oi0tc2VjcmV0" ]] || fail "token -- KEY --SECRET"
[[ $("$punt" token key secret) == "a2V5OnNlY3JldA==" ]] || fail "token KEY SECRET"
[[ $("$punt" token -- key -h) == "$(printf 'key:-h' | base64)" ]] || fail "token -- KEY -h"
[[ $("$punt" token --normalise -- "Basic a2V5Oi0tc2VjcmV0") == "a2V5Oi0tc2VjcmV0" ]] \
  || fail "token --normalise -- TOKEN"
set +e
"$punt" token key --secret > /dev/null 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 2 ]] && grep -q 'unknown option --secret' "$tmp/err" \
  || fail "token KEY --SECRET without --: exit $status: $(cat "$tmp/err")"
echo "ok: punt token takes -- before a secret that starts with --"

set +e
PUNT_SERVER=http://127.0.0.1:1 "$punt" sub list 2> "$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] && grep -q "cannot reach" "$tmp/err" || fail "unreachable server"
echo "ok: all client commands"
