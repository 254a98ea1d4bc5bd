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
#   BENCH_INGEST_ROUNDS=3      single-event ingest runs, each between two /healthz runs
#   BENCH_BATCH=100            events per request in batched ingest; xAPI batch_size
#   BENCH_BATCH_CONNECTIONS=8  connections for batched ingest
#   BENCH_EVENT_TYPES=...      the event mix, comma-separated names from
#                              test/golden/events (default: the nine learning events)
#   BENCH_EVENT_IDS=sequential the ids of the events wrk sends: sequential (PREFIX-
#                              THREAD-COUNTER) or random (64 random bits first, as UUIDs);
#                              with sequential, one more single-ingest run uses random ones
#   BENCH_RECEIVER_URL=        deliver to this receiver instead of the bench's nginx
#   BENCH_WRK_THREADS=1        wrk threads
#   BENCH_PUNT_THREADS=2       punt serve --threads
#   BENCH_ONLY=receiver,webhook,ingest,batch,xapi,goals   the measurements to run
#   The "absolute goals" (group goals; figures only, printed as a second table):
#   BENCH_LATENCY_RATE=2000    events/s, one per POST, paced, for the latency figures
#   BENCH_LATENCY_SECONDS=10   how long the paced ingest runs
#   BENCH_LATENCY_WARMUP_SECONDS=2  left out of the steady-state latency figures
#   BENCH_LATENCY_PRIME_SECONDS=1   the same pace before the latency run, not measured
#   BENCH_FANOUT_SUBS=1000     webhook subscriptions of one org for the fan-out figure
#   BENCH_FAIRNESS_BACKLOG=1000000  the backlog of subscription A (fairness, RSS, restart)
#   BENCH_SOAK_SECONDS=600     how long punt's RSS is sampled (every 10 s) with it pending
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
INGEST_ROUNDS=${BENCH_INGEST_ROUNDS:-3}
BATCH=${BENCH_BATCH:-100}
BATCH_CONNS=${BENCH_BATCH_CONNECTIONS:-8}
TYPES=${BENCH_EVENT_TYPES:-lesson.completed,lesson.liked,lesson.disliked,lesson.viewed,section.viewed,question.answered,question.skipped,training_session.attended,term.searched}
EVENT_IDS=${BENCH_EVENT_IDS:-sequential}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
PUNT_THREADS=${BENCH_PUNT_THREADS:-2}
ONLY=${BENCH_ONLY:-receiver,webhook,ingest,batch,xapi,goals}
LATENCY_RATE=${BENCH_LATENCY_RATE:-2000}
LATENCY_SECONDS=${BENCH_LATENCY_SECONDS:-10}
LATENCY_WARMUP=${BENCH_LATENCY_WARMUP_SECONDS:-2}
LATENCY_PRIME=${BENCH_LATENCY_PRIME_SECONDS:-1}
FANOUT_SUBS=${BENCH_FANOUT_SUBS:-1000}
FAIRNESS_BACKLOG=${BENCH_FAIRNESS_BACKLOG:-1000000}
SOAK_SECONDS=${BENCH_SOAK_SECONDS:-600}
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
[[ $EVENT_IDS == sequential || $EVENT_IDS == random ]] ||
  die "BENCH_EVENT_IDS must be sequential or random, not '$EVENT_IDS'"
[[ $LATENCY_PRIME =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
  die "BENCH_LATENCY_PRIME_SECONDS must be a number of seconds >= 0, not '$LATENCY_PRIME'"

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
  rm -rf "$tmp" ${memory_tmp:+"$memory_tmp"}
}
memory_tmp=""  # a data dir in memory, for the single-ingest diagnostic
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
  nginx_pid=$!
  pids+=("$nginx_pid")
  receiver_status_url=http://127.0.0.1:$status_port/
  wait_for curl -fsS "$receiver_status_url" || die "nginx did not start: $(tail -3 "$dir/error.log")"
  receiver_url=http://127.0.0.1:$port
  log "nginx (return 204) on $receiver_url"
}

admin_key=punt_admin_bench_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

# start_punt NAME [DATA_DIR]: a fresh punt serve; sets punt_pid, base, key.
# With DATA_DIR: punt on that existing data dir (a restart): no new org, key kept.
# With DATA_PARENT set: a fresh punt whose data dir is made in that directory.
start_punt() {
  local dir=$tmp/punt-$1 address="" i data=${2:-${DATA_PARENT:-$tmp/punt-$1}/data}
  mkdir -p "$dir"
  "$build/punt" serve --listen 127.0.0.1:0 --data-dir "$data" --admin-key "$admin_key" \
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
  [[ -z ${2:-} ]] || return 0
  local org
  org=$(api org "$base" "$admin_key") || die "could not create an organisation"
  key=${org#* }
}

stop_punt() {  # stop_punt [keep]: stops punt; removes the data dirs unless "keep"
  stop_pid "$punt_pid"
  forget_pid "$punt_pid"
  [[ ${1:-} == keep ]] || rm -rf "$tmp"/punt-*/data
}

forget_pid() {
  local kept=() pid
  for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
  pids=("${kept[@]+"${kept[@]}"}")
}

# thread_cpu PID [PID2]: CPU seconds (user + system) of each thread of the
# process(es) so far, summed by thread name ("punt-writer=1.23 nginx=0.80 ...").
# Read before and after a measurement, it shows where the time went.
thread_cpu() {
  local hz f
  hz=$(getconf CLK_TCK)
  for f in /proc/"$1"/task/*/stat ${2:+/proc/$2/task/*/stat}; do
    # The name is in parentheses and may hold spaces; utime and stime are the
    # 12th and 13th fields after it.
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1|\2/' "$f" 2>/dev/null
  done | awk -F'|' -v hz="$hz" '{ split($2, a, " "); cpu[$1] += a[12] + a[13] }
    END { for (n in cpu) printf "%s=%.2f ", n, cpu[n] / hz }'
}

# cpu_record NAME UNIT BEFORE AFTER PER: each thread's CPU between two
# thread_cpu readings, in microseconds per UNIT (PER of them done in between):
# logged, and kept for RESULTS.md as "cpu:NAME:UNIT:THREAD US" lines.
cpu_record() {
  local per_thread
  per_thread=$(awk -v before="$3" -v after="$4" -v per="$5" 'BEGIN {
    n = split(before, b, " "); for (i = 1; i <= n; ++i) { split(b[i], kv, "="); was[kv[1]] = kv[2] }
    n = split(after, a, " ")
    for (i = 1; i <= n; ++i) {
      split(a[i], kv, "="); d = kv[2] - was[kv[1]]
      if (d > 0.005 && per > 0) printf "%s %.1f\n", kv[1], d * 1e6 / per
    }
  }' | sort -k2 -rn)
  [[ -n $per_thread ]] || return 0
  log "  $1: CPU per $2, by thread (us): $(paste -sd, <<<"$per_thread" | sed 's/,/, /g')"
  sed "s/^/cpu:$1:$2:/" <<<"$per_thread" >>"$results"
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
  local out cpu_before receiver=""
  # The receiver's worker too, when it is the bench's nginx (not with
  # BENCH_RECEIVER_URL). Under set -e a failed test or pgrep must not stop the run.
  if [[ -n ${nginx_pid:-} && -n ${receiver_status_url:-} ]]; then
    receiver=$(pgrep -P "$nginx_pid" | head -1) || receiver=""
  fi
  cpu_before=$(thread_cpu "$punt_pid" "$receiver")
  out=$(timeout -k 5 $((TIMEOUT + 30)) node "$lib/drain.js" "$base" "$key" "$2" \
    "${receiver_status_url:--}" "$TIMEOUT") || die "delivering the $1 backlog failed"
  for f in seconds rate enable_ms delivered dead receiver_requests last_request_s; do
    result "$1_$f" "$(field "$out" "$f")"
  done
  cpu_record "$1" delivery "$cpu_before" "$(thread_cpu "$punt_pid" "$receiver")" \
    "$(field "$out" total)"
}

measure_receiver() {
  log "receiver: wrk and a bare libcurl-multi loop POSTing the webhook body to $receiver_url"
  result receiver_idle_before "$(idle_percent)"
  local json out
  local worker cpu_before
  worker=$(pgrep -P "$nginx_pid" | head -1) || worker=""
  cpu_before=$(thread_cpu "$worker")
  json=$(run_wrk receiver "$CONNS" "$receiver_url/" static POST /webhook "$tmp/webhook-body.json" \
    "" "$tmp/webhook-headers.txt")
  result receiver_wrk_rate "$(wrk_rate "$json")"
  cpu_record receiver request "$cpu_before" "$(thread_cpu "$worker")" "$(field "$json" requests)"
  out=$(timeout -k 5 $((TIMEOUT + 10)) "$build/bench_curl_post" "$receiver_url/webhook" \
    "$tmp/webhook-body.json" "$BACKLOG" "$CONNS" "$TIMEOUT" "$tmp/webhook-headers.txt") ||
    die "bench_curl_post: $out"
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
  # wrk once more, right after the drain: this machine's speed drifts by tens
  # of percent within minutes, and the ratio uses the mean of both (report.js).
  if wants receiver && [[ -z ${BENCH_RECEIVER_URL:-} ]]; then
    local json
    json=$(run_wrk receiver_after "$CONNS" "$receiver_url/" static POST /webhook \
      "$tmp/webhook-body.json" "" "$tmp/webhook-headers.txt")
    result receiver_wrk_rate_after "$(wrk_rate "$json")"
  fi
}

measure_ingest() {
  log "single-event ingest over $CONNS connections, against GET /healthz ($INGEST_ROUNDS rounds)"
  start_punt ingest
  local sub json stored round rate before after
  sub=$(disabled_sub webhook '["*"]')
  result ingest_idle_before "$(idle_percent)"
  local cpu_before cpu_after
  cpu_before=$(thread_cpu "$punt_pid")
  json=$(run_wrk healthz "$CONNS" "$base" static GET /healthz)
  before=$(wrk_rate "$json")
  result healthz_rate "$before"
  cpu_record healthz request "$cpu_before" "$(thread_cpu "$punt_pid")" "$(field "$json" requests)"
  # Rounds of ingest, each followed by /healthz again: this machine's speed
  # moves by tens of percent within a minute, so each round's ratio uses the
  # /healthz runs on either side of it, and the row shows the median round.
  stored=0
  for round in $(seq "$INGEST_ROUNDS"); do
    cpu_before=$(thread_cpu "$punt_pid")
    json=$(run_wrk "ingest_$round" "$CONNS" "$base" events "$tmp/templates.ndjson" 1 "r$round" "$key" "$EVENT_IDS")
    cpu_after=$(thread_cpu "$punt_pid")
    rate=$(wrk_rate "$json")
    result "ingest_rate_$round" "$rate"
    result ingest_non2xx_$round "$(field "$json" non2xx)"
    if [[ $round == 1 ]]; then
      result ingest_p99_ms "$(awk -v us="$(field "$json" p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')"
      stored=$(field "$(counts "$sub")" held)
      cpu_record ingest event "$cpu_before" "$cpu_after" "$stored"
    fi
    json=$(run_wrk "healthz_$round" "$CONNS" "$base" static GET /healthz)
    after=$(wrk_rate "$json")
    result "healthz_rate_$round" "$after"
    result "ingest_ratio_$round" "$(awk -v r="$rate" -v a="$before" -v b="$after" \
      'BEGIN { printf "%.3f", r / ((a + b) / 2) }')"
    before=$after
  done
  result healthz_rate_after "$after"
  stored=$(field "$(counts "$sub")" held)
  result ingest_stored "$stored"
  # Not the target: the same with a (disabled) xAPI subscription beside the
  # webhook one, so every learning event's statement is built and stored too.
  local first_stored=$stored
  disabled_sub xapi '["*"]' '"lrs_key":"bench","lrs_secret":"bench-secret"' >/dev/null
  cpu_before=$(thread_cpu "$punt_pid")
  json=$(run_wrk ingest_xapi "$CONNS" "$base" events "$tmp/templates.ndjson" 1 s2 "$key" "$EVENT_IDS")
  cpu_after=$(thread_cpu "$punt_pid")
  result ingest_xapi_rate "$(wrk_rate "$json")"
  stored=$(field "$(counts "$sub")" held)
  cpu_record ingest_xapi event "$cpu_before" "$cpu_after" $((stored - first_stored))
  stop_punt
  measure_ingest_in_memory
  [[ $EVENT_IDS == random ]] || measure_ingest_random_ids
}

# Not the target: the same single ingest on a fresh punt with ids in random
# order, as platforms sending UUIDs have: each event then lands on a random
# leaf of the (org, id) index that keeps ids unique, so a commit writes more
# pages than with ids in order. Its ratio is to that punt's /healthz right
# after it.
measure_ingest_random_ids() {
  start_punt ingest_random
  ingest_then_healthz random u1 random
  stop_punt
}

# ingest_then_healthz NAME ID_PREFIX IDS: on the punt just started, a disabled
# webhook subscription, one single-ingest run, then /healthz right after it;
# records ingest_NAME_rate, healthz_NAME_rate and ingest_NAME_ratio.
ingest_then_healthz() {
  local name=$1 json rate after
  disabled_sub webhook '["*"]' >/dev/null
  json=$(run_wrk "ingest_$name" "$CONNS" "$base" events "$tmp/templates.ndjson" 1 "$2" "$key" "$3")
  rate=$(wrk_rate "$json")
  result "ingest_${name}_rate" "$rate"
  json=$(run_wrk "healthz_$name" "$CONNS" "$base" static GET /healthz)
  after=$(wrk_rate "$json")
  result "healthz_${name}_rate" "$after"
  result "ingest_${name}_ratio" "$(awk -v r="$rate" -v h="$after" 'BEGIN { printf "%.3f", r / h }')"
}

# Not the target: where single ingest's round trip waits. What a durable
# commit costs this disk at least (a 128 KiB write and its fdatasync, about
# one WAL sync's worth), and the same single ingest with the data dir in
# memory (tmpfs), where that sync costs next to nothing.
measure_ingest_in_memory() {
  local out
  out=$(timeout -k 5 120 node "$lib/flush.js" "$tmp") || die "flush.js: $out"
  result disk_flush_median_us "$(kv "$out" median_us)"
  result disk_flush_p90_us "$(kv "$out" p90_us)"
  [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] || { log "no tmpfs at /dev/shm: no in-memory run"; return 0; }
  memory_tmp=$(mktemp -d /dev/shm/punt-bench.XXXXXX)
  out=$(timeout -k 5 120 node "$lib/flush.js" "$memory_tmp") || die "flush.js: $out"
  result memory_flush_median_us "$(kv "$out" median_us)"
  DATA_PARENT=$memory_tmp start_punt ingest_memory
  ingest_then_healthz memory m1 "$EVENT_IDS"
  stop_punt
  rm -rf "$memory_tmp"
  memory_tmp=""
}

measure_batch() {
  log "batched ingest: $BATCH events a request over $BATCH_CONNS connections"
  start_punt batch
  local sub json stored out cpu_before cpu_after
  sub=$(disabled_sub webhook '["*"]')
  result batch_idle_before "$(idle_percent)"
  cpu_before=$(thread_cpu "$punt_pid")
  json=$(run_wrk batch "$BATCH_CONNS" "$base" events "$tmp/templates.ndjson" "$BATCH" b1 "$key" "$EVENT_IDS")
  cpu_after=$(thread_cpu "$punt_pid")
  result batch_rate "$(wrk_rate "$json" "$BATCH")"
  result batch_non2xx "$(field "$json" non2xx)"
  result batch_p99_ms "$(awk -v us="$(field "$json" p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')"
  stored=$(field "$(counts "$sub")" held)
  result batch_stored "$stored"
  cpu_record batch event "$cpu_before" "$cpu_after" "$stored"
  stop_punt
  # The same rows, as many as punt stored (at least 10,000).
  result batch_sqlite_idle_before "$(idle_percent)"
  out=$(timeout -k 5 "$TIMEOUT" "$build/bench_sqlite_ingest" --db "$tmp/sqlite-ingest.db" \
    --events $((stored > 10000 ? stored : 10000)) --per-txn "$BATCH" --types "$TYPES" \
    --webhook-bytes "$webhook_bytes" --statement-bytes "$statement_bytes" \
    --delivery-state held --synchronous FULL --statements none --ids "$EVENT_IDS") ||
    die "bench_sqlite_ingest: $out"
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

# rss_kind_mb PID FIELD: a memory figure of /proc/PID/status in MB: VmRSS,
# or its part in punt's own memory (RssAnon) or in mapped files (RssFile:
# the binary and its libraries, and the WAL map of the writer's checkpoints:
# page cache the kernel can reclaim).
rss_kind_mb() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
rss_mb() { rss_kind_mb "$1" VmRSS; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# goals_run NAME TIME_LIMIT MODE ARGS...: lib/goals.js; prints its JSON line.
goals_run() {
  local name=$1 limit=$2
  shift 2
  timeout -k 5 "$limit" node "$lib/goals.js" "$@" 2>"$tmp/goals-$name.err" ||
    die "the $name measurement failed: $(tail -3 "$tmp/goals-$name.err")"
}

# The issue's absolute goals: figures against fixed goals, not ratios.
# punt_latency DB: punt's own record of the latency run's deliveries, read
# from its database: from storing the event (events.accepted_at, stamped by
# the writer) to the start of the request that delivered it
# (deliveries.ok_at), p50 / p99 / max in whole milliseconds; the priming
# events (ids prime-...) left out. Beside the node
# harness's figures it shows whether a tail is punt's delivery path or not.
punt_latency() {
  local out p50 p99 max
  out=$(sqlite3 "file:$1?mode=ro" "
    CREATE TEMP TABLE l AS SELECT d.ok_at - e.accepted_at AS ms FROM deliveries d
      JOIN events e ON e.seq = d.event_seq
      WHERE d.ok_at IS NOT NULL AND e.event_id NOT LIKE 'prime-%' ORDER BY 1;
    SELECT (SELECT ms FROM l LIMIT 1 OFFSET (SELECT count(*) / 2 FROM l)),
           (SELECT ms FROM l LIMIT 1 OFFSET (SELECT count(*) * 99 / 100 FROM l)),
           (SELECT max(ms) FROM l);" 2>&1) || {
    log "  cannot read punt's record of the latency run: $out"
    return 0
  }
  IFS='|' read -r p50 p99 max <<<"$out"
  result latency_punt_p50_ms "$p50"
  result latency_punt_p99_ms "$p99"
  result latency_punt_max_ms "$max"
}

measure_goals() {
  local out f r
  log "goals: end-to-end latency at $LATENCY_RATE events/s for $LATENCY_SECONDS s; fan-out to $FANOUT_SUBS subscriptions"
  start_punt goals
  result goals_latency_idle_before "$(idle_percent)"
  out=$(goals_run latency $((LATENCY_SECONDS + 150)) latency "$base" "$key" "$tmp/templates.ndjson" \
    "$LATENCY_RATE" "$LATENCY_SECONDS" "$CONNS" 60 "$LATENCY_WARMUP" "$LATENCY_PRIME")
  for f in sent send_rate post_failed received missing duplicates p50_ms p90_ms p99_ms max_ms \
    ingest_p50_ms ingest_p99_ms max_posts_in_flight primed primed_max_posts_in_flight \
    node_cpu_percent warmup_s steady_received \
    steady_p50_ms steady_p90_ms steady_p99_ms steady_max_ms; do
    result "latency_$f" "$(field "$out" "$f")"
  done
  punt_latency "$tmp/punt-goals/data/punt.db"
  result goals_fanout_idle_before "$(idle_percent)"
  out=$(goals_run fanout 900 fanout "$base" "$admin_key" "$tmp/templates.ndjson" "$FANOUT_SUBS" 3 60)
  result fanout_subs "$(field "$out" subs)"
  result fanout_create_subs_ms "$(field "$out" create_subs_ms)"
  for r in 1 2 3; do
    for f in post_ms first_ms last_ms received; do result "fanout_${f}_$r" "$(field "$out" "${f}_$r")"; done
  done
  stop_punt

  log "goals: a $FAIRNESS_BACKLOG-event backlog for fairness, RSS and time to first delivery after a restart"
  local ports rport cport receiver_pid
  node "$lib/receiver.js" "$tmp/receiver.ports" 50 2>"$tmp/receiver.err" &
  receiver_pid=$!
  pids+=("$receiver_pid")
  wait_for test -s "$tmp/receiver.ports" || die "lib/receiver.js did not start: $(tail -3 "$tmp/receiver.err")"
  read -r rport cport <"$tmp/receiver.ports"
  start_punt goals-big
  local data=$tmp/punt-goals-big/data sub_a per
  sub_a=$(api sub "$base" "$key" "{\"kind\":\"webhook\",\"url\":\"$receiver_url/a\",\"events\":[\"*\"],\
\"enabled\":false,\"max_in_flight\":$CONNS,\"description\":\"bench A\"}")
  # Requests of up to 1,000 events (punt's limit), under its 1 MiB body limit.
  per=$((900000 / ($(field "$sizes" event_bytes) + 1)))
  ((per <= 1000)) || per=1000
  ((per >= 1)) || per=1
  out=$(timeout -k 5 "$TIMEOUT" node "$lib/ingest.js" "$base" "$key" "$tmp/templates.ndjson" \
    "$FAIRNESS_BACKLOG" "$per" 4 big "$TIMEOUT") || die "building the $FAIRNESS_BACKLOG backlog failed"
  result goals_backlog_per_request "$per"
  result goals_backlog_ingest_rate "$(kv "$out" rate)"
  result goals_backlog_held "$(field "$(counts "$sub_a")" held)"
  result goals_rss_held_mb "$(rss_mb "$punt_pid")"

  # Fairness: enable A (all its held deliveries become pending), then time B.
  result goals_fairness_idle_before "$(idle_percent)"
  out=$(goals_run fairness 900 fairness "$base" "$key" "$tmp/templates.ndjson" "$sub_a" 3 120)
  result fairness_patch_ms "$(field "$out" patch_ms)"
  for r in 1 2 3; do
    for f in post_ms b_ms; do result "fairness_${f}_$r" "$(field "$out" "${f}_$r")"; done
  done

  # RSS: A now goes to a slow receiver (one request at a time, 50 ms each), so
  # its backlog stays pending while punt keeps delivering.
  api patch "$base" "$key" "$sub_a" "{\"url\":\"http://127.0.0.1:$rport/slow/a\",\"max_in_flight\":1}" ||
    die "could not slow subscription A down"
  # A delivered part of its backlog to nginx during the fairness runs: top it
  # up, so the soak and the restart have BENCH_FAIRNESS_BACKLOG pending (the
  # figures' rows name the pending counts measured, not this parameter).
  local pending c
  c=$(counts "$sub_a")
  pending=$(($(field "$c" pending) + $(field "$c" in_flight) + $(field "$c" retrying)))
  if ((pending < FAIRNESS_BACKLOG)); then
    out=$(timeout -k 5 "$TIMEOUT" node "$lib/ingest.js" "$base" "$key" "$tmp/templates.ndjson" \
      $((FAIRNESS_BACKLOG - pending)) "$per" 4 big2 "$TIMEOUT") || die "topping the backlog up failed"
  fi
  result goals_backlog_topped_up $((pending < FAIRNESS_BACKLOG ? FAIRNESS_BACKLOG - pending : 0))
  result goals_soak_pending_start "$(field "$(counts "$sub_a")" pending)"
  local end=$(($(date +%s) + SOAK_SECONDS)) rss first="" max=0 last="" samples=0 left
  log "  sampling punt's RSS every 10 s for $SOAK_SECONDS s"
  while :; do
    rss=$(rss_mb "$punt_pid")
    [[ -n $rss ]] || die "punt is gone during the soak: $(tail -3 "$tmp/punt-goals-big/log")"
    first=${first:-$rss}
    last=$rss
    max=$(awk -v a="$max" -v b="$rss" 'BEGIN { print (b > a ? b : a) }')
    samples=$((samples + 1))
    left=$((end - $(date +%s)))
    ((left > 0)) || break
    sleep $((left < 10 ? left : 10))
  done
  result rss_first_mb "$first"
  result rss_max_mb "$max"
  result rss_last_mb "$last"
  result rss_last_anon_mb "$(rss_kind_mb "$punt_pid" RssAnon)"
  result rss_last_file_mb "$(rss_kind_mb "$punt_pid" RssFile)"
  result rss_samples "$samples"
  result goals_soak_pending_end "$(field "$(counts "$sub_a")" pending)"
  result goals_soak_delivered "$(field "$(counts "$sub_a")" delivered)"

  # Restart with the backlog pending: from spawn to the first request at the receiver.
  local t0 t1 stats first_ms="" i
  t0=$(now_ms)
  stop_punt keep
  result restart_stop_ms $(($(now_ms) - t0))
  curl -fsS "http://127.0.0.1:$cport/_mark" >/dev/null || die "lib/receiver.js is not answering"
  result goals_restart_idle_before "$(idle_percent)"
  t0=$(date +%s%N)
  start_punt goals-restart "$data"
  t1=$(date +%s%N)
  result restart_listen_ms $(((t1 - t0) / 1000000))
  for ((i = 0; i < 1200; ++i)); do
    stats=$(curl -fsS "http://127.0.0.1:$cport/_stats") || die "lib/receiver.js is not answering"
    first_ms=$(grep -o '"first_ms":[0-9.]*' <<<"$stats" | cut -d: -f2) || true
    [[ -z $first_ms ]] || break
    sleep 0.05
  done
  [[ -n $first_ms ]] && result restart_first_delivery_ms \
    "$(awk -v a="$first_ms" -v t="$t0" 'BEGIN { printf "%.1f", a - t / 1e6 }')"
  result restart_rss_mb "$(rss_mb "$punt_pid")"
  stop_punt
  stop_pid "$receiver_pid"
  forget_pid "$receiver_pid"
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
result webhook_header_bytes "$(field "$sizes" webhook_header_bytes)"  # punt's, sent by wrk and the curl loop too
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
wants goals && measure_goals
result idle_at_end "$(idle_percent)"

BENCH_COMMIT=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) \
BENCH_RECEIVER=${BENCH_RECEIVER_URL:-"nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (return 204, 1 worker)"} \
BENCH_BACKLOG=$BACKLOG BENCH_BODY_BYTES=$BODY_BYTES BENCH_CONNECTIONS=$CONNS \
BENCH_SECONDS=$SECONDS_PER_RUN BENCH_INGEST_ROUNDS=$INGEST_ROUNDS BENCH_BATCH=$BATCH BENCH_BATCH_CONNECTIONS=$BATCH_CONNS \
BENCH_EVENT_TYPES=$TYPES BENCH_EVENT_IDS=$EVENT_IDS BENCH_WRK_THREADS=$WRK_THREADS BENCH_PUNT_THREADS=$PUNT_THREADS \
BENCH_ONLY=$ONLY BENCH_LATENCY_RATE=$LATENCY_RATE BENCH_LATENCY_SECONDS=$LATENCY_SECONDS \
BENCH_LATENCY_PRIME_SECONDS=$LATENCY_PRIME \
BENCH_FANOUT_SUBS=$FANOUT_SUBS BENCH_FAIRNESS_BACKLOG=$FAIRNESS_BACKLOG BENCH_SOAK_SECONDS=$SOAK_SECONDS \
  node "$lib/report.js" "$results" "$RESULTS"
