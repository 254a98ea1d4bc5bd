#!/usr/bin/env bash
# --ca-file must be readable at start. libcurl only opens it at each HTTPS
# request, so a wrong path made every HTTPS delivery and test request fail
# ("error setting certificate file") while punt looked healthy.
set -euo pipefail
punt=${1:?usage: ca_file.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/test/blackbox/lib/serve.sh"

for ca in "$tmp/missing.pem" "$tmp"; do
  set +e
  timeout 10 "$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" --ca-file "$ca" \
    2> "$tmp/err"
  status=$?
  set -e
  [[ $status -eq 1 ]] && grep -q '"punt could not start"' "$tmp/err" \
    && grep -q -- "--ca-file" "$tmp/err" \
    || fail "--ca-file $ca: exit $status: $(cat "$tmp/err")"
done
echo "ok: a --ca-file that is missing or not a file is refused at start"

# A readable file starts (what is in it is libcurl's to judge, per request).
echo "not checked here" > "$tmp/ca.pem"
"$punt" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" --ca-file "$tmp/ca.pem" 2> "$tmp/log" &
pid=$!
wait_listening "$tmp/log" > /dev/null
echo "ok: a readable --ca-file starts"
