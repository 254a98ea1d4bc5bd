// Turns bench/run.sh's results ("name value" lines) into the table it prints
// and, when RESULTS_MD is given, into bench/RESULTS.md.
//
//   node report.js RESULTS_FILE [RESULTS_MD]
//
// The run's parameters come from the BENCH_* environment variables run.sh sets.
'use strict';
const fs = require('node:fs');
const os = require('node:os');

// A row is marked busy when, in the second before any of its measurements,
// less than this share of the CPU was idle.
const BUSY_IDLE_PERCENT = 80;

function readResults(file) {
  const r = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined && v !== '') r[k] = Number(v);
  }
  return r;
}

// The "cpu:NAME:UNIT:THREAD US" lines of run.sh's cpu_record, one detail line
// per measurement: "webhook: CPU per delivery, by thread: punt-writer 8.9 us, ...".
function cpuLines(r) {
  const groups = new Map();
  for (const [k, v] of Object.entries(r)) {
    const m = /^cpu:([^:]+):([^:]+):(.+)$/.exec(k);
    if (!m || !Number.isFinite(v)) continue;
    const key = `${m[1]}: CPU per ${m[2]}, by thread`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push([m[3], v]);
  }
  return [...groups].map(([key, threads]) =>
    `- ${key}: ${threads.sort((a, b) => b[1] - a[1]).map(([t, us]) => `${t} ${us} us`).join(', ')}`);
}

const fmt = (n, unit) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} ${unit}` : 'not run');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

// wrk against the receiver runs before the webhook drain and again right
// after it; the ratio uses their mean, so drift during the run counts once
// each way. Only the first when the second did not run.
const meanOf = (...rates) => {
  const both = rates.filter(Number.isFinite);
  return both.length ? both.reduce((a, b) => a + b, 0) / both.length : NaN;
};
const wrkBaseline = (r) => meanOf(r.receiver_wrk_rate, r.receiver_wrk_rate_after);
// Single-event ingest runs in rounds, each between two /healthz runs
// (healthz_rate, then healthz_rate_1, _2, ...): a round's baseline is the
// mean of the two around it.
function ingestRounds(r) {
  const rounds = [];
  for (let k = 1; Number.isFinite(r[`ingest_rate_${k}`]); ++k) {
    const base = meanOf(k === 1 ? r.healthz_rate : r[`healthz_rate_${k - 1}`], r[`healthz_rate_${k}`]);
    rounds.push({ k, rate: r[`ingest_rate_${k}`], base, ratio: ratio(r[`ingest_rate_${k}`], base) });
  }
  return rounds;
}

// The round the row shows: the median ratio (the lower one of an even count).
function ingestRow(r) {
  const rounds = ingestRounds(r).filter((x) => Number.isFinite(x.ratio)).sort((a, b) => a.ratio - b.ratio);
  return rounds.length ? rounds[(rounds.length - 1) >> 1] : { rate: NaN, base: NaN };
}

function rows(r, env) {
  const batch = env.BENCH_BATCH;
  const conns = env.BENCH_CONNECTIONS;
  const backlog = Number(env.BENCH_BACKLOG).toLocaleString('en-US');
  const xapiPerPost = r.xapi_receiver_requests > 0 ? r.xapi_delivered / r.xapi_receiver_requests : NaN;
  return [
    { what: `webhook delivery (1 sub, ${backlog} backlog, ${r.webhook_bytes} B)`,
      baseline: `wrk -c${conns} POST same body, same receiver (mean of before and after the drain)`, short: 'wrk POST',
      base: wrkBaseline(r), baseUnit: 'req/s',
      punt: r.webhook_rate, puntUnit: 'deliveries/s', target: 0.5, idle: [r.receiver_idle_before, r.webhook_idle_before] },
    { what: '  the same vs a bare libcurl-multi loop',
      baseline: `bench_curl_post -> same receiver, ${conns} connections`, short: 'curl loop', base: r.receiver_curl_rate, baseUnit: 'req/s',
      punt: r.webhook_rate, puntUnit: 'deliveries/s', target: NaN, idle: [r.receiver_idle_before, r.webhook_idle_before] },
    { what: `single-event ingest (${conns} connections)`,
      baseline: `wrk -c${conns} GET punt's /healthz (mean of the runs before and after; the median of ${
        env.BENCH_INGEST_ROUNDS} rounds)`, short: 'wrk /healthz',
      base: ingestRow(r).base, baseUnit: 'req/s',
      punt: ingestRow(r).rate, puntUnit: 'events/s', target: 0.4, idle: [r.ingest_idle_before] },
    { what: `batched ingest (${batch}/request, ${env.BENCH_BATCH_CONNECTIONS} connections)`,
      baseline: `bare SQLite, WAL, synchronous=FULL, ${batch} events a transaction`, short: 'SQLite', base: r.batch_sqlite_rate,
      baseUnit: 'events/s', punt: r.batch_rate, puntUnit: 'events/s', target: 0.6,
      idle: [r.batch_idle_before, r.batch_sqlite_idle_before] },
    { what: `xAPI delivery (batch ${batch}, saw ${Number.isFinite(xapiPerPost) ? xapiPerPost.toFixed(1) : '?'}/POST)`,
      baseline: `bare SQLite, the same state changes, batches of ${batch}`, short: 'SQLite', base: r.xapi_sqlite_rate,
      baseUnit: 'deliveries/s', punt: r.xapi_rate, puntUnit: 'deliveries/s', target: 0.5,
      idle: [r.xapi_idle_before, r.xapi_sqlite_idle_before] },
  ].map((row) => {
    const x = ratio(row.punt, row.base);
    let verdict = 'not run';
    if (Number.isFinite(x)) verdict = Number.isFinite(row.target) ? (x >= row.target ? 'pass' : 'MISS') : 'info';
    const busy = row.idle.some((idle) => idle < BUSY_IDLE_PERCENT);
    return { ...row, ratio: x, verdict, busyMark: Number.isFinite(x) && busy ? ' (busy)' : '' };
  });
}

const ms = (v) => (Number.isFinite(v) ? `${v.toLocaleString('en-US', { maximumFractionDigits: 1 })} ms` : 'not measured');
const n = (v) => Number(v).toLocaleString('en-US');

// The issue's absolute goals: recorded figures beside a fixed goal, no verdict.
// Empty when the goals group did not run.
function goalRows(r, env) {
  const wanted = (env.BENCH_ONLY || '').split(',').includes('goals');
  if (!wanted && !Object.keys(r).some((k) => k.startsWith('latency_'))) return [];
  const rate = n(env.BENCH_LATENCY_RATE);
  const backlog = n(env.BENCH_FAIRNESS_BACKLOG);
  // The pending counts measured at the soak's start and end (A's backlog,
  // topped up to BENCH_FAIRNESS_BACKLOG after the fairness runs).
  const pendingAt = (v) => (Number.isFinite(v) ? n(v) : `${backlog} (not measured)`);
  const fan = [1, 2, 3].map((i) => r[`fanout_last_ms_${i}`]);
  const fair = [1, 2, 3].map((i) => r[`fairness_b_ms_${i}`]);
  const list = (v) => (v.some(Number.isFinite)
    ? `${v.map((x) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : 'none')).join(' / ')} ms`
    : 'not measured');
  const mb = (v) => (Number.isFinite(v) ? `${v.toLocaleString('en-US', { maximumFractionDigits: 1 })} MB` : 'not measured');
  const busy = (...idle) => (idle.some((i) => Number.isFinite(i) && i < BUSY_IDLE_PERCENT) ? ' (busy)' : '');
  return [
    {
      what: `end-to-end latency p50, ${rate} events/s paced, 1 event/POST, ingest -> receiver`,
      figure: ms(r.latency_p50_ms) + busy(r.goals_latency_idle_before),
      goal: '<= 5 ms'
    },
    {
      what: 'end-to-end latency p99, the same run',
      figure: ms(r.latency_p99_ms) + busy(r.goals_latency_idle_before),
      goal: '<= 25 ms'
    },
    {
      what: `  the same, steady state: events sent after the first ${
          n(r.latency_warmup_s)} s, p50 / p99`,
      figure: Number.isFinite(r.latency_steady_p50_ms) ?
          `${ms(r.latency_steady_p50_ms)} / ${ms(r.latency_steady_p99_ms)}` :
          'not measured',
      goal: '<= 5 / 25 ms'
    },
    {
      what: `fan-out: 1 event to ${
          n(r.fanout_subs ??
            env.BENCH_FANOUT_SUBS)} webhook subscriptions, POST -> last arrival (3 runs)`,
      figure: list(fan) + busy(r.goals_fanout_idle_before),
      goal: '<= 1,000 ms'
    },
    {
      what:
          `fairness: B's new event while A has ${backlog} pending, POST -> B's arrival (3 events)`,
      figure: list(fair) + busy(r.goals_fairness_idle_before),
      goal: '-'
    },
    {
      what: `  enabling A (PATCH; its ${
          backlog} held deliveries change no row, they read as pending)`,
      figure: ms(r.fairness_patch_ms),
      goal: '-'
    },
    {
      what: `punt RSS with ${pendingAt(r.goals_soak_pending_start)} pending, ${
          n(env.BENCH_SOAK_SECONDS)} s soak while delivering: first / max / last`,
      figure: [r.rss_first_mb, r.rss_max_mb, r.rss_last_mb].every(Number.isFinite) ?
          `${r.rss_first_mb} / ${r.rss_max_mb} / ${r.rss_last_mb} MB` :
          'not measured',
      goal: '-'
    },
    {
      what:
          `time to first delivery after a restart with ${pendingAt(r.goals_soak_pending_end)} pending (spawn -> first request)`,
      figure: ms(r.restart_first_delivery_ms) + busy(r.goals_restart_idle_before),
      goal: '<= 2,000 ms'
    },
  ].map((row) => ({...row, rssHeld: mb(r.goals_rss_held_mb)}));
}

function printGoals(goals) {
  if (goals.length === 0) return;
  const head = ['absolute goals', 'figure', 'goal'];
  const cells = goals.map((g) => [g.what, g.figure, g.goal]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => v.padEnd(widths[i])).join(' | ');
  console.log('');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

function goalsMarkdown(goals, r, env) {
  if (goals.length === 0) return [];
  const out = ['', '## Absolute goals', '',
    'Recorded figures beside the issue\'s goals (no pass/fail). Parameters: ' +
    `BENCH_LATENCY_RATE=${env.BENCH_LATENCY_RATE} BENCH_LATENCY_SECONDS=${env.BENCH_LATENCY_SECONDS} BENCH_LATENCY_WARMUP_SECONDS=${r.latency_warmup_s} ` +
    `BENCH_LATENCY_PRIME_SECONDS=${env.BENCH_LATENCY_PRIME_SECONDS} ` +
    `BENCH_FANOUT_SUBS=${env.BENCH_FANOUT_SUBS} BENCH_FAIRNESS_BACKLOG=${env.BENCH_FAIRNESS_BACKLOG} ` +
    `BENCH_SOAK_SECONDS=${env.BENCH_SOAK_SECONDS}.`, '',
    '| what | figure | goal |', '|---|---:|---:|'];
  for (const g of goals) out.push(`| ${g.what.trim()} | ${g.figure} | ${g.goal} |`);
  out.push('');
  const d = (label, v, unit = '') => { if (Number.isFinite(v)) out.push(`- ${label}: ${v.toLocaleString('en-US')}${unit}`); };
  d('latency: events sent / received / POSTs not answered 202', r.latency_sent,
    ` / ${n(r.latency_received)} / ${n(r.latency_post_failed)}`);
  d('latency: achieved send rate', r.latency_send_rate, ' events/s');
  d('latency: p90 / max', r.latency_p90_ms, ` ms / ${n(r.latency_max_ms)} ms`);
  d('latency, steady state: events / p90 / max', r.latency_steady_received,
    ` / ${n(r.latency_steady_p90_ms)} ms / ${n(r.latency_steady_max_ms)} ms`);
  d('latency: the POST\'s own answer time p50 / p99', r.latency_ingest_p50_ms, ` ms / ${n(r.latency_ingest_p99_ms)} ms`);
  d('latency, punt\'s own record: event stored -> its delivering request started, p50 / p99 / max (whole ms)',
    r.latency_punt_p50_ms, ` ms / ${n(r.latency_punt_p99_ms)} ms / ${n(r.latency_punt_max_ms)} ms`);
  d('latency: most POSTs in flight at once (the pacer does not wait for answers)', r.latency_max_posts_in_flight);
  d('latency: events POSTed at the same pace before the run, not measured (priming) / most POSTs in flight then',
    r.latency_primed, ` / ${n(r.latency_primed_max_posts_in_flight)}`);
  d('latency: CPU of the node sender+receiver process (% of one core)', r.latency_node_cpu_percent, '%');
  d('fan-out: creating the subscriptions took', r.fanout_create_subs_ms, ' ms');
  for (const i of [1, 2, 3]) {
    d(`fan-out run ${i}: POST answered in / first arrival / deliveries received`, r[`fanout_post_ms_${i}`],
      ` ms / ${n(r[`fanout_first_ms_${i}`])} ms / ${n(r[`fanout_received_${i}`])}`);
  }
  d('backlog: events per request / ingest rate', r.goals_backlog_per_request, ` / ${n(r.goals_backlog_ingest_rate)} events/s`);
  d('backlog: deliveries held', r.goals_backlog_held);
  d('punt RSS with the backlog held (A disabled)', r.goals_rss_held_mb, ' MB');
  for (const i of [1, 2, 3]) d(`fairness event ${i}: its POST answered in`, r[`fairness_post_ms_${i}`], ' ms');
  d('soak: deliveries added to A\'s backlog after the fairness runs (A delivered them meanwhile)',
    r.goals_backlog_topped_up);
  d('soak: A\'s pending deliveries at its start / end', r.goals_soak_pending_start, ` / ${n(r.goals_soak_pending_end)}`);
  d('soak: RSS samples', r.rss_samples);
  d('soak: RSS at its end in punt\'s own memory / in mapped files (the binary and its libraries, ' +
    'and the WAL map of the checkpoints: page cache the kernel can reclaim)', r.rss_last_anon_mb,
    ` / ${n(r.rss_last_file_mb)} MB`);
  d('restart: SIGTERM until punt exited', r.restart_stop_ms, ' ms');
  d('restart: spawn until the listen address was logged (polled every 100 ms)', r.restart_listen_ms, ' ms');
  d('restart: RSS just after the first delivery', r.restart_rss_mb, ' MB');
  return out;
}

function printTable(table) {
  const cells = table.map((t) => [t.what, `${t.short}: ${fmt(t.base, t.baseUnit)}`, fmt(t.punt, t.puntUnit),
    Number.isFinite(t.ratio) ? `${t.ratio.toFixed(2)} x` : '-',
    Number.isFinite(t.target) ? `>= ${t.target} x` : '-', t.verdict + t.busyMark]);
  const head = ['what', 'baseline', 'punt', 'ratio', 'target', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => v.padEnd(widths[i])).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

function markdown(table, goals, r, env) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const busy = table.some((t) => t.busyMark);
  const cpu = os.cpus()[0] ? os.cpus()[0].model : 'unknown CPU';
  const out = [];
  out.push('# Benchmark results', '');
  out.push(`Latest run of \`make bench\` (bench/run.sh), written by the run itself.`, '');
  out.push(`- date: ${date}`);
  out.push(`- commit: ${env.BENCH_COMMIT} (plus whatever the working tree held uncommitted)`);
  out.push(`- machine: ${os.cpus().length} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.release()}`);
  out.push(`- receiver: ${env.BENCH_RECEIVER}`);
  out.push(`- parameters: BENCH_BACKLOG=${env.BENCH_BACKLOG} BENCH_BODY_BYTES=${env.BENCH_BODY_BYTES} ` +
    `BENCH_CONNECTIONS=${env.BENCH_CONNECTIONS} BENCH_SECONDS=${env.BENCH_SECONDS} BENCH_BATCH=${env.BENCH_BATCH} ` +
    `BENCH_BATCH_CONNECTIONS=${env.BENCH_BATCH_CONNECTIONS} BENCH_EVENT_IDS=${env.BENCH_EVENT_IDS} ` +
    `BENCH_WRK_THREADS=${env.BENCH_WRK_THREADS} ` +
    `BENCH_PUNT_THREADS=${env.BENCH_PUNT_THREADS}`);
  out.push(`- event mix: ${env.BENCH_EVENT_TYPES.split(',').join(', ')}; bodies punt sends: webhook ${r.webhook_bytes} B, ` +
    `xAPI statement ${r.statement_bytes} B (averages over the mix)`);
  out.push(`- idle CPU: ${r.idle_at_start}% before the run, ${r.idle_at_end}% after it` +
    (busy ? `; a row marked (busy) had less than ${BUSY_IDLE_PERCENT}% of the CPU idle just before one of its measurements ` +
      '(punt\'s or its baseline\'s): other work on the machine was competing' : ''));
  if (env.BENCH_NOTE) out.push(`- note: ${env.BENCH_NOTE}`);
  out.push('');
  out.push('| what | baseline | baseline figure | punt | ratio | target | result |');
  out.push('|---|---|---:|---:|---:|---:|---|');
  for (const t of table) {
    out.push(`| ${t.what.trim()} | ${t.baseline} | ${fmt(t.base, t.baseUnit)} | ${fmt(t.punt, t.puntUnit)} | ` +
      `${Number.isFinite(t.ratio) ? `${t.ratio.toFixed(2)} x` : '-'} | ${Number.isFinite(t.target) ? `>= ${t.target} x` : '-'} | ` +
      `${t.verdict}${t.busyMark} |`);
  }
  out.push('', '## Details of this run', '');
  const d = (label, v, unit = '') => { if (Number.isFinite(v)) out.push(`- ${label}: ${v.toLocaleString('en-US')}${unit}`); };
  d('receiver: wrk before the webhook drain', r.receiver_wrk_rate, ' req/s');
  d('receiver: wrk right after the webhook drain', r.receiver_wrk_rate_after, ' req/s');
  d('webhook: deliveries (delivered / dead)', r.webhook_delivered, ` / ${r.webhook_dead}`);
  d('webhook: seconds from enabling to all delivered', r.webhook_seconds, ' s');
  d('webhook: seconds from enabling to the receiver\'s last request (to within 10 ms)',
    r.webhook_last_request_s >= 0 ? r.webhook_last_request_s : NaN, ' s');
  d('webhook: the enabling PATCH (the held backlog reads as pending from its commit) took',
    r.webhook_enable_ms, ' ms');
  d('webhook: POSTs the receiver got', r.webhook_receiver_requests);
  d('webhook: backlog ingest rate (100-event requests, 4 connections; not a target)', r.webhook_backlog_ingest_rate, ' events/s');
  d('single ingest: wrk GET /healthz before the first round', r.healthz_rate, ' req/s');
  for (const x of ingestRounds(r)) {
    out.push(`- single ingest, round ${x.k}: ${fmt(x.rate, 'events/s')} against /healthz ${
      fmt(x.base, 'req/s')} (the runs before and after it) = ${x.ratio.toFixed(2)} x; answers other than 202: ${
      r[`ingest_non2xx_${x.k}`]}`);
  }
  d('single ingest: events stored (held) in all rounds', r.ingest_stored);
  d('single ingest: p99 latency (round 1)', r.ingest_p99_ms, ' ms');
  d('single ingest with an xAPI subscription too (statements built; not the target)', r.ingest_xapi_rate, ' events/s');
  d('disk: a 128 KiB write and its fdatasync in the run\'s data directory, median / p90 (the least a durable commit costs)',
    r.disk_flush_median_us, ` us / ${n(r.disk_flush_p90_us)} us`);
  if (Number.isFinite(r.ingest_memory_rate)) {
    out.push(`- single ingest with the data directory in memory (tmpfs: fdatasync ${n(r.memory_flush_median_us)} us; ` +
      `a diagnostic, not the target): ${fmt(r.ingest_memory_rate, 'events/s')} against /healthz ${
      fmt(r.healthz_memory_rate, 'req/s')} right after = ${n(r.ingest_memory_ratio)} x`);
  }
  if (Number.isFinite(r.ingest_random_rate)) {
    out.push(`- single ingest with event ids in random order (as UUIDs; a fresh punt; not the target): ${
      fmt(r.ingest_random_rate, 'events/s')} against /healthz ${fmt(r.healthz_random_rate, 'req/s')} right after = ${
      n(r.ingest_random_ratio)} x`);
  }
  d('batched ingest: events stored (held)', r.batch_stored);
  d('batched ingest: p99 latency of a request', r.batch_p99_ms, ' ms');
  d('xAPI: deliveries (delivered / dead)', r.xapi_delivered, ` / ${r.xapi_dead}`);
  d('xAPI: seconds from enabling to all delivered', r.xapi_seconds, ' s');
  d('xAPI: seconds from enabling to the receiver\'s last request (to within 10 ms)',
    r.xapi_last_request_s >= 0 ? r.xapi_last_request_s : NaN, ' s');
  d('xAPI: the enabling PATCH took', r.xapi_enable_ms, ' ms');
  d('xAPI: POSTs the receiver got', r.xapi_receiver_requests);
  out.push(...cpuLines(r));
  out.push(...goalsMarkdown(goals, r, env));
  out.push('', '## How measured', '');
  out.push(
      '- Everything runs on this machine over 127.0.0.1, each punt figure in the same run as its',
      '  baseline: the absolute numbers drift between machines and runs, the ratios less so.',
      '  Each figure is one run; the load tools share the 2 cores with punt.',
      '- The receiver is nginx from Debian, started by run.sh with a private config: one worker,',
      '  `return 204` for every location, access_log off, keepalive_requests 10^9. Its ceiling is',
      '  the wrk figure of the first row: wrk runs before the webhook drain and again right after',
      '  it, and the row gives their mean (both are in the details).',
      '- Each punt measurement starts a fresh `punt serve` (Release build, fresh data dir on the',
      '  same disk, `--threads` BENCH_PUNT_THREADS, `--max-in-flight` >= BENCH_CONNECTIONS).',
      '  Events are the golden events of test/golden/events of the mix, padded (user.name, then an',
      '  extra field) so punt\'s webhook body is about BENCH_BODY_BYTES; ids are unique.',
      '- Webhook and xAPI delivery: one subscription created disabled with max_in_flight =',
      '  BENCH_CONNECTIONS (xAPI: batch_size = BENCH_BATCH); BENCH_BACKLOG events are ingested',
      '  (held), then the subscription is enabled; the clock runs from the PATCH until',
      '  GET /v1/subscriptions/{id} shows every delivery delivered or dead. Progress is watched on',
      '  nginx\'s stub_status every 10 ms, punt\'s counts once a second or when nginx goes quiet.',
      '  Baselines: wrk (BENCH_WRK_THREADS threads, BENCH_CONNECTIONS connections, BENCH_SECONDS)',
      '  POSTing the first event\'s webhook body to nginx with the headers punt adds (User-Agent and',
      '  webhook-id/-timestamp/-signature from `punt webhook-sign`: a request as long as punt\'s),',
      '  and bench_curl_post (a bare libcurl-multi',
      '  loop, BENCH_BACKLOG requests). The xAPI baseline is bench_sqlite_xapi_delivery: punt\'s',
      '  claim (a read transaction: the due deliveries from punt\'s partial index, with their',
      '  statement bodies; like punt it writes no in_flight state) and record (a write',
      '  transaction: delivered with the delivering attempt in the row, subscription health),',
      '  BENCH_BATCH deliveries each, synchronous=NORMAL as punt\'s writer uses for attempt',
      '  records; the statements per POST punt sent is shown in the row.',
      '- Single-event ingest: wrk with lib/wrk.lua POSTs one event per request (unique ids) for',
      '  BENCH_SECONDS; the org has one webhook subscription, disabled, so every event also gets',
      '  a held delivery row (written pending, read as held; never sent). Baseline: wrk GET',
      '  /healthz on the same punt. BENCH_INGEST_ROUNDS rounds, each an ingest run followed by',
      '  /healthz, after a first /healthz: a round\'s ratio uses the mean of the /healthz runs',
      '  before and after it, and the row shows the median round (this machine\'s speed moves by',
      '  tens of percent within a minute). CPU per event is of round 1.',
      '- Batched ingest: the same with BENCH_BATCH events per request over',
      '  BENCH_BATCH_CONNECTIONS connections; baseline bench_sqlite_ingest writes the same rows',
      '  (event, webhook body, the delivery written pending for a disabled subscription, as punt',
      '  writes a held one; no statement bodies, as punt builds and stores them only while the',
      '  org has an xAPI subscription) for as many',
      '  events as punt stored, one transaction per BENCH_BATCH events, WAL, synchronous=FULL, on',
      '  punt\'s own schema (it runs punt\'s migration).',
      '- Absolute goals (BENCH_ONLY group `goals`): lib/goals.js sends and lib/receiver.js (node\'s',
      '  http module, 204) receives in one node process, so both times come from one clock.',
      '  Latency: one enabled webhook subscription (max_in_flight BENCH_CONNECTIONS) to that',
      '  receiver; BENCH_LATENCY_RATE single-event POSTs a second, paced, for',
      '  BENCH_LATENCY_SECONDS; latency = arrival of the event\'s id (data.id) - its POST\'s send.',
      '  The steady-state figures leave out events sent in the first BENCH_LATENCY_WARMUP_SECONDS,',
      '  while the sender and punt still open their connections to punt and to the receiver.',
      '  Punt\'s own record of the same deliveries comes from its database (sqlite3, read-only):',
      '  deliveries.ok_at (the delivering request\'s start) - events.accepted_at (stored), in ms.',
      '  Fan-out: a new org with BENCH_FANOUT_SUBS webhook subscriptions to /fan/N; one POST, then',
      '  the last of the N arrivals; three times. Fairness, RSS, restart share one punt and data',
      '  dir: subscription A (-> nginx, max_in_flight BENCH_CONNECTIONS) is created disabled and',
      '  BENCH_FAIRNESS_BACKLOG events are ingested (up to 1,000 a request, 4 connections);',
      '  subscription B (-> the node receiver) is created, A is enabled (the PATCH is timed),',
      '  and after it answered one event is POSTed and timed to B\'s arrival (three times, in',
      '  turn); B is then deleted. A is then pointed at a slow receiver (lib/receiver.js, 50 ms an',
      '  answer, max_in_flight 1) and, as it delivered part of its backlog to nginx meanwhile,',
      '  topped up to BENCH_FAIRNESS_BACKLOG waiting deliveries (the RSS and restart rows name the',
      '  pending counts measured at the soak\'s start and end), so its backlog stays pending while',
      '  punt delivers, and punt\'s VmRSS',
      '  (/proc/PID/status) is sampled every 10 s for BENCH_SOAK_SECONDS. Then punt is stopped',
      '  (SIGTERM) and restarted on the same data dir; the figure runs from the spawn to the first',
      '  request at that receiver (wall clock of both processes).',
      '- Only answers 2xx count. Tests carry no timed assertions; these figures are only printed.');
  return `${out.join('\n')}\n`;
}

// The hand-written part of an existing RESULTS.md (the profile notes): from
// the KEEP_MARKER line to the end, carried over unchanged.
const KEEP_MARKER = '<!-- Everything below this line is kept by bench/run.sh across runs';
function keptSection(md) {
  let old = '';
  try { old = fs.readFileSync(md, 'utf8'); } catch { return ''; }
  const at = old.indexOf(KEEP_MARKER);
  return at < 0 ? '' : `\n${old.slice(at)}`;
}

function main() {
  const [file, md] = process.argv.slice(2);
  const r = readResults(file);
  const table = rows(r, process.env);
  const goals = goalRows(r, process.env);
  console.log('');
  printTable(table);
  printGoals(goals);
  if (md) {
    fs.writeFileSync(md, markdown(table, goals, r, process.env) + keptSection(md));
    console.log(`\nwrote ${md}`);
  }
}

main();
