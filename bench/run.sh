#!/usr/bin/env bash
# punt's benchmarks; `make bench` runs them. bench/README.md explains each one.
#
#   bench/run.sh BUILD_DIR      (BUILD_DIR holds punt and the bench_* baselines)
#
# Starts its own nginx (`return 204`) and a fresh `punt serve` per measurement,
# all on 127.0.0.1; measures each figure beside its baseline in the same run;
# prints a table and writes bench/RESULTS.md. Every server it starts is stopped
# on exit, every wait is bounded, and it installs nothing.
#
# Sizes and knobs, from the environment (defaults are the issue's values):
#   BENCH_BACKLOG=200000       events in each delivery backlog (webhook, xAPI)
#   BENCH_BODY_BYTES=1024      size of the webhook body punt sends per event
#   BENCH_CONNECTIONS=64       wrk's and the libcurl loop's connections, and each
#                              subscription's max_in_flight (the API allows 1..64)
#   BENCH_SECONDS=10           length of each wrk run
#   BENCH_BATCH=100            events per request in batched ingest; xAPI batch_size
#   BENCH_BATCH_CONNECTIONS=8  connections for batched ingest
#   BENCH_EVENT_TYPES=...      the event mix, comma-separated names from
#                              test/golden/events (default: the nine learning events)
#   BENCH_RECEIVER_URL=        deliver to this receiver instead of the bench's nginx
#   BENCH_WRK_THREADS=1        wrk threads
#   BENCH_PUNT_THREADS=2       punt serve --threads
#   BENCH_ONLY=receiver,webhook,ingest,batch,xapi   the measurements to run
#   BENCH_TIMEOUT=900          bound in seconds of each backlog build and drain
#   BENCH_RESULTS=bench/RESULTS.md   where results are written ("" to skip)
#   BENCH_NOTE=                a note for RESULTS.md (e.g. "machine busy")
#   BENCH_TMPDIR=$TMPDIR       where data dirs go (a real disk: fsync matters)
# A quick smoke run: BENCH_BACKLOG=20000 BENCH_SECONDS=5 bench/run.sh build-bench
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lib=$here/lib
build=$(cd "${1:?usage: bench/run.sh BUILD_DIR}" && pwd)

BACKLOG=${BENCH_BACKLOG:-200000}
BODY_BYTES=${BENCH_BODY_BYTES:-1024}
CONNS=${BENCH_CONNECTIONS:-64}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
BATCH=${BENCH_BATCH:-100}
BATCH_CONNS=${BENCH_BATCH_CONNECTIONS:-8}
TYPES=${BENCH_EVENT_TYPES:-lesson.completed,lesson.liked,lesson.disliked,lesson.viewed,section.viewed,question.answered,question.skipped,training_session.attended,term.searched}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
PUNT_THREADS=${BENCH_PUNT_THREADS:-2}
ONLY=${BENCH_ONLY:-receiver,webhook,ingest,batch,xapi}
TIMEOUT=${BENCH_TIMEOUT:-900}
RESULTS=${BENCH_RESULTS-$here/RESULTS.md}

log() { echo "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx is missing (scripts/install-deps.sh installs it)"
for tool in wrk node curl timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done
for bin in punt bench_curl_post bench_sqlite_ingest bench_sqlite_xapi_delivery; do
  [[ -x $build/$bin ]] || die "$build/$bin is missing: build with -DPUNT_BUILD_BENCH=ON"
done
((CONNS >= 1 && CONNS <= 64)) || die "BENCH_CONNECTIONS must be 1..64 (a subscription's max_in_flight)"

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/punt-bench.XXXXXX")
results=$tmp/results
: >"$results"
pids=()

stop_pid() {  # TERM, then KILL after 15 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; ++i)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "pid $pid did not stop in 15 s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  for pid in "${pids[@]+"${pids[@]}"}"; do stop_pid "$pid"; done
  if ((rc != 0)); then
    for f in "$tmp"/punt-*/log "$tmp"/nginx/error.log; do
      [[ -s $f ]] && { log "last lines of $f:"; tail -n 5 "$f" >&2; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

result() { echo "$1 $2" >>"$results"; log "  $1 = $2"; }

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

# The share of CPU time the machine spent idle over one second, in percent:
# others' work on this 2-core machine shows in every figure.
idle_percent() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local total=0 i
  for ((i = 1; i < ${#a[@]}; ++i)); do total=$((total + b[i] - a[i])); done
  echo $(((b[4] + b[5] - a[4] - a[5]) * 100 / (total > 0 ? total : 1)))
}

# wait_for CMD...: retries CMD for up to 15 s.
wait_for() {
  local i
  for ((i = 0; i < 150; ++i)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

start_nginx() {
  local dir=$tmp/nginx port status_port user=""
  mkdir -p "$dir"
  port=$(free_port)
  status_port=$(free_port)
  [[ $port != "$status_port" ]] || status_port=$(free_port)
  # As root nginx would switch its worker to nobody: keep the current user.
  [[ $(id -u) -ne 0 ]] || user="user $(id -un) $(id -gn);"
  cat >"$dir/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  client_max_body_size 0;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location / { return 204; }
  }
  server {
    listen 127.0.0.1:$status_port;
    location / { stub_status; }
  }
}
EOF
  "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  pids+=($!)
  receiver_status_url=http://127.0.0.1:$status_port/
  wait_for curl -fsS "$receiver_status_url" || die "nginx did not start: $(tail -3 "$dir/error.log")"
  receiver_url=http://127.0.0.1:$port
  log "nginx (return 204) on $receiver_url"
}

admin_key=punt_admin_bench_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

# start_punt NAME: a fresh punt serve; sets punt_pid, base, key.
start_punt() {
  local dir=$tmp/punt-$1 address="" i
  mkdir -p "$dir"
  "$build/punt" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --admin-key "$admin_key" \
    --allow-destination 127.0.0.0/8 --threads "$PUNT_THREADS" \
    --max-in-flight $((CONNS > 256 ? CONNS : 256)) >/dev/null 2>"$dir/log" &
  punt_pid=$!
  pids+=("$punt_pid")
  for ((i = 0; i < 200; ++i)); do
    address=$(grep -o '"address":"http://127\.0\.0\.1:[0-9]*"' "$dir/log" | head -1 | cut -d'"' -f4) || true
    [[ -z $address ]] || break
    kill -0 "$punt_pid" 2>/dev/null || die "punt exited at start: $(tail -3 "$dir/log")"
    sleep 0.1
  done
  [[ -n $address ]] || die "punt did not listen within 20 s"
  base=$address
  local org
  org=$(api org "$base" "$admin_key") || die "could not create an organisation"
  key=${org#* }
}

stop_punt() {
  stop_pid "$punt_pid"
  local kept=() pid
  for pid in "${pids[@]}"; do [[ $pid == "$punt_pid" ]] || kept+=("$pid"); done
  pids=("${kept[@]}")
  rm -rf "$tmp"/punt-*/data
}

api() { timeout -k 5 120 node "$lib/api.js" "$@"; }

# run_wrk NAME CONNECTIONS URL ARGS...: wrk with lib/wrk.lua; prints its WRK json.
run_wrk() {
  local name=$1 conns=$2 url=$3
  shift 3
  timeout -k 5 $((SECONDS_PER_RUN + 60)) wrk -t"$WRK_THREADS" -c"$conns" -d"${SECONDS_PER_RUN}s" \
    --timeout 15s -s "$lib/wrk.lua" "$url" -- "$@" >"$tmp/wrk-$name.out" 2>&1 ||
    die "wrk $name failed: $(tail -3 "$tmp/wrk-$name.out")"
  grep '^WRK ' "$tmp/wrk-$name.out" | cut -c5- || die "wrk $name printed no summary"
}

field() { grep -o "\"$2\":[0-9.]*" <<<"$1" | head -1 | cut -d: -f2; }  # field JSON KEY
kv() { grep -o "$2=[0-9.]*" <<<"$1" | cut -d= -f2; }                     # kv "a=1 b=2" KEY

# wrk_rate JSON [MULTIPLIER]: answers other than 2xx/3xx do not count.
wrk_rate() {
  local ok=$(($(field "$1" requests) - $(field "$1" non2xx)))
  awk -v ok="$ok" -v us="$(field "$1" duration_us)" -v m="${2:-1}" 'BEGIN { printf "%.1f", ok * m / (us / 1e6) }'
}

# disabled_sub KIND EVENTS_JSON [EXTRA_JSON]: a subscription whose deliveries
# are held until it is enabled; prints its id.
disabled_sub() {
  local url=$receiver_url/webhook
  [[ $1 == webhook ]] || url=$receiver_url/xapi
  api sub "$base" "$key" "{\"kind\":\"$1\",\"url\":\"$url\",\"events\":$2,\"enabled\":false,\
\"max_in_flight\":$CONNS,\"description\":\"bench\"${3:+,$3}}"
}

counts() { api counts "$base" "$key" "$1"; }

# backlog NAME SUB: ingests BACKLOG events in requests of BATCH; checks they are held.
backlog() {
  local out held
  out=$(timeout -k 5 "$TIMEOUT" node "$lib/ingest.js" "$base" "$key" "$tmp/templates.ndjson" \
    "$BACKLOG" "$BATCH" 4 "$1" "$TIMEOUT") || die "building the $1 backlog failed"
  result "$1_backlog_ingest_rate" "$(kv "$out" rate)"
  held=$(field "$(counts "$2")" held)
  log "  $1 backlog: $held deliveries held"
  echo "$held"
}

drain() {  # drain NAME SUB: enables SUB and times its backlog
  local out
  out=$(timeout -k 5 $((TIMEOUT + 30)) node "$lib/drain.js" "$base" "$key" "$2" \
    "${receiver_status_url:--}" "$TIMEOUT") || die "delivering the $1 backlog failed"
  for f in seconds rate enable_ms delivered dead receiver_requests; do
    result "$1_$f" "$(field "$out" "$f")"
  done
}

measure_receiver() {
  log "receiver: wrk and a bare libcurl-multi loop POSTing the webhook body to $receiver_url"
  result receiver_idle_before "$(idle_percent)"
  local json out
  json=$(run_wrk receiver "$CONNS" "$receiver_url/" static POST /webhook "$tmp/webhook-body.json")
  result receiver_wrk_rate "$(wrk_rate "$json")"
  out=$(timeout -k 5 $((TIMEOUT + 10)) "$build/bench_curl_post" "$receiver_url/webhook" \
    "$tmp/webhook-body.json" "$BACKLOG" "$CONNS" "$TIMEOUT") || die "bench_curl_post: $out"
  result receiver_curl_rate "$(kv "$out" rate)"
}

measure_webhook() {
  log "webhook delivery: a $BACKLOG-event backlog, max_in_flight $CONNS"
  start_punt webhook
  local sub
  sub=$(disabled_sub webhook '["*"]')
  result webhook_total "$(backlog webhook "$sub")"
  result webhook_idle_before "$(idle_percent)"
  drain webhook "$sub"
  stop_punt
}

measure_ingest() {
  log "single-event ingest over $CONNS connections, against GET /healthz"
  start_punt ingest
  local sub json
  sub=$(disabled_sub webhook '["*"]')
  result ingest_idle_before "$(idle_percent)"
  json=$(run_wrk healthz "$CONNS" "$base" static GET /healthz)
  result healthz_rate "$(wrk_rate "$json")"
  json=$(run_wrk ingest "$CONNS" "$base" events "$tmp/templates.ndjson" 1 s1 "$key")
  result ingest_rate "$(wrk_rate "$json")"
  result ingest_non2xx "$(field "$json" non2xx)"
  result ingest_p99_ms "$(awk -v us="$(field "$json" p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')"
  result ingest_stored "$(field "$(counts "$sub")" held)"
  stop_punt
}

measure_batch() {
  log "batched ingest: $BATCH events a request over $BATCH_CONNS connections"
  start_punt batch
  local sub json stored out
  sub=$(disabled_sub webhook '["*"]')
  result batch_idle_before "$(idle_percent)"
  json=$(run_wrk batch "$BATCH_CONNS" "$base" events "$tmp/templates.ndjson" "$BATCH" b1 "$key")
  result batch_rate "$(wrk_rate "$json" "$BATCH")"
  result batch_non2xx "$(field "$json" non2xx)"
  result batch_p99_ms "$(awk -v us="$(field "$json" p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')"
  stored=$(field "$(counts "$sub")" held)
  result batch_stored "$stored"
  stop_punt
  # The same rows, as many as punt stored (at least 10,000).
  result batch_sqlite_idle_before "$(idle_percent)"
  out=$(timeout -k 5 "$TIMEOUT" "$build/bench_sqlite_ingest" --db "$tmp/sqlite-ingest.db" \
    --events $((stored > 10000 ? stored : 10000)) --per-txn "$BATCH" --types "$TYPES" \
    --webhook-bytes "$webhook_bytes" --statement-bytes "$statement_bytes" \
    --delivery-state held --synchronous FULL) || die "bench_sqlite_ingest: $out"
  result batch_sqlite_rate "$(kv "$out" rate)"
  rm -f "$tmp"/sqlite-ingest.db*
}

measure_xapi() {
  local learning
  learning=$(tr ',' '\n' <<<"$TYPES" | grep -v '^user\.' | sed 's/.*/"&"/' | paste -sd, -) || true
  if [[ -z $learning ]]; then
    log "xAPI delivery skipped: the event mix has no learning events"
    return
  fi
  log "xAPI delivery: a $BACKLOG-event backlog, batch_size $BATCH, max_in_flight $CONNS"
  start_punt xapi
  local sub total out
  local creds='"lrs_key":"bench","lrs_secret":"bench-secret"'
  # Works before and after xAPI batching: without batch_size punt sends one
  # statement a POST (drain reports what the receiver saw).
  sub=$(disabled_sub xapi "[$learning]" "$creds,\"batch_size\":$BATCH" 2>/dev/null) ||
    sub=$(disabled_sub xapi "[$learning]" "$creds")
  total=$(backlog xapi "$sub")
  result xapi_total "$total"
  result xapi_idle_before "$(idle_percent)"
  drain xapi "$sub"
  stop_punt
  result xapi_sqlite_idle_before "$(idle_percent)"
  out=$(timeout -k 5 "$TIMEOUT" "$build/bench_sqlite_xapi_delivery" --db "$tmp/sqlite-xapi.db" \
    --deliveries "$total" --batch "$BATCH" --statement-bytes "$statement_bytes" \
    --webhook-bytes "$webhook_bytes" --synchronous NORMAL) || die "bench_sqlite_xapi_delivery: $out"
  result xapi_sqlite_rate "$(kv "$out" rate)"
  rm -f "$tmp"/sqlite-xapi.db*
}

# --- run ---
log "temp dir $tmp ($(df -PT "$tmp" | awk 'NR == 2 { print $2 }'))"
sizes=$(timeout -k 5 120 node "$lib/events.js" "$build/punt" "$TYPES" "$BODY_BYTES" "$tmp") ||
  die "could not make the events"
webhook_bytes=$(field "$sizes" webhook_bytes)
statement_bytes=$(field "$sizes" statement_bytes)
((statement_bytes > 0)) || statement_bytes=1
log "event mix: $TYPES; webhook body ${webhook_bytes} B, statement ${statement_bytes} B (averages)"
result webhook_bytes "$webhook_bytes"
result statement_bytes "$statement_bytes"
result event_bytes "$(field "$sizes" event_bytes)"
result idle_at_start "$(idle_percent)"

if [[ -n ${BENCH_RECEIVER_URL:-} ]]; then
  receiver_url=${BENCH_RECEIVER_URL%/}
  receiver_status_url=""
  log "receiver: $receiver_url (given)"
else
  start_nginx
fi

wants receiver && measure_receiver
wants webhook && measure_webhook
wants ingest && measure_ingest
wants batch && measure_batch
wants xapi && measure_xapi
result idle_at_end "$(idle_percent)"

BENCH_COMMIT=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) \
BENCH_RECEIVER=${BENCH_RECEIVER_URL:-"nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (return 204, 1 worker)"} \
BENCH_BACKLOG=$BACKLOG BENCH_BODY_BYTES=$BODY_BYTES BENCH_CONNECTIONS=$CONNS \
BENCH_SECONDS=$SECONDS_PER_RUN BENCH_BATCH=$BATCH BENCH_BATCH_CONNECTIONS=$BATCH_CONNS \
BENCH_EVENT_TYPES=$TYPES BENCH_WRK_THREADS=$WRK_THREADS BENCH_PUNT_THREADS=$PUNT_THREADS \
  node "$lib/report.js" "$results" "$RESULTS"
