// The "absolute goals" that need a receiver recording arrivals: the
// sender and lib/receiver.js run in this one process, so send and arrival
// times come from the same clock (receiver.js's now()).
//
//   node goals.js latency BASE KEY TEMPLATES RATE SECONDS MAX_IN_FLIGHT [TIMEOUT_S] [WARMUP_S] [PRIME_S]
//     One enabled webhook subscription -> this receiver; POSTs one event per
//     request to /v1/events, paced at RATE a second for SECONDS (open loop: a
//     late answer does not slow the pacer; up to 256 connections, beyond that
//     POSTs wait for one); latency of an event = its first arrival at the
//     receiver - the moment the pacer issued its POST. Before that, PRIME_S
//     (default 1) seconds at the same pace that are not measured (ids
//     prime-...), so connections are open and this process warm. The steady_*
//     figures also leave out the events issued in the first WARMUP_S
//     (default 2) seconds of the measured run.
//   node goals.js fanout BASE ADMIN_KEY TEMPLATES SUBS REPEATS [TIMEOUT_S]
//     A new organisation with SUBS enabled webhook subscriptions, each to its own
//     path /fan/N of this receiver; REPEATS times: POST one event and time
//     until every subscription got it (the last arrival).
//   node goals.js fairness BASE KEY TEMPLATES SUB_A REPEATS [TIMEOUT_S]
//     SUB_A holds a backlog (disabled). Creates subscription B -> this receiver,
//     enables SUB_A (timing the PATCH), and once the PATCH has answered POSTs
//     one event (REPEATS times, one after another) and times each until B got it;
//     then deletes B (its receiver ends with this process).
//
// Prints one JSON line of figures (milliseconds).
'use strict';
const fs = require('node:fs');
const { expect, request, sleep, run } = require('./http');
const { createReceiver, now } = require('./receiver');

function templates(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split('"@ID@"'));
}

function eventBody(tpl, i, id) {
  const [head, tail] = tpl[i % tpl.length];
  return `${head}"${id}"${tail}`;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const r2 = (x) => (Number.isFinite(x) ? Number(x.toFixed(2)) : null);
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;

async function webhookSub(base, key, url, extra = {}) {
  const res = await expect(201, 'POST', `${base}/v1/subscriptions`, {
    key, json: { kind: 'webhook', url, events: ['*'], enabled: true, description: 'bench goals', ...extra } });
  return res.json.id;
}

// Resolves when cond() holds (checked on every arrival and every 5 ms), or
// rejects after ms.
function until(cond, ms, what) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`${what}: not done in ${ms / 1000} s`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

// POSTs TOTAL events paced at PER_SECOND (open loop), the i-th with the id
// idOf(i); onSent(id, t) as each is issued. Resolves once all are issued.
function pace(base, key, tpl, perSecond, total, idOf, onSent, stats) {
  const start = now();
  let issued = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * perSecond) + 1);
      while (issued < due) {
        const i = issued++;
        const id = idOf(i);
        const t = now();
        onSent(id, t);
        ++stats.inFlight;
        if (stats.inFlight > stats.maxPosts) stats.maxPosts = stats.inFlight;
        request('POST', `${base}/v1/events`, { key, body: eventBody(tpl, i, id), timeoutMs: 30000 })
          .then((res) => { if (res.status !== 202) ++stats.failed; else stats.ingestMs.push(now() - t); },
            () => { ++stats.failed; })
          .finally(() => { --stats.inFlight; });
      }
      if (issued >= total) resolve(); else setTimeout(tick, 1);
    };
    tick();
  });
}

async function latency([base, key, tplFile, rate, seconds, maxInFlight, timeoutS = '60',
  warmupS = '2', primeS = '1']) {
  if (!(Number(primeS) >= 0)) throw new Error(`PRIME_S must be seconds >= 0, not '${primeS}'`);
  const tpl = templates(tplFile);
  const sent = new Map();   // id -> send time
  const arrived = new Map(); // id -> first arrival
  let duplicates = 0;
  let primed = 0;
  const receiver = createReceiver({ onArrival: (id, path, at) => {
    if (id.startsWith('prime-')) ++primed;
    else if (arrived.has(id)) ++duplicates;
    else arrived.set(id, at);
  } });
  const port = await receiver.listen();
  await webhookSub(base, key, `http://127.0.0.1:${port}/lat`, { max_in_flight: Number(maxInFlight) });

  const perSecond = Number(rate);
  // Priming, not measured: the same pace for PRIME_S seconds, so this
  // process's connections to punt and punt's to this receiver are open, and
  // its code compiled, before the measured run (without it, the first second
  // measured this process opening ~250 connections while receiving).
  const primeStats = { inFlight: 0, maxPosts: 0, failed: 0, ingestMs: [] };
  const primeTotal = Math.round(perSecond * Number(primeS));
  await pace(base, key, tpl, perSecond, primeTotal, (i) => `prime-${runId}-${i}`, () => {},
    primeStats);
  await until(() => primeStats.inFlight === 0 && primed >= primeTotal - primeStats.failed,
    Number(timeoutS) * 1000, 'primed arrivals').catch(() => {});

  const total = Math.round(perSecond * Number(seconds));
  const stats = { inFlight: 0, maxPosts: 0, failed: 0, ingestMs: [] };
  const start = now();
  const cpu0 = process.cpuUsage();
  await pace(base, key, tpl, perSecond, total, (i) => `lat-${runId}-${i}`,
    (id, t) => sent.set(id, t), stats);
  const sendSeconds = (now() - start) / 1000;
  await until(() => stats.inFlight === 0, 30000, 'ingest answers').catch(() => {});
  await until(() => arrived.size + stats.failed >= total, Number(timeoutS) * 1000, 'arrivals').catch(() => {});
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (now() - start)) * 100;
  receiver.close();
  const lat = [];
  const steady = [];  // issued after the warm-up
  const steadyFrom = start + Number(warmupS) * 1000;
  for (const [id, at] of arrived) {
    if (!sent.has(id)) continue;
    lat.push(at - sent.get(id));
    if (sent.get(id) >= steadyFrom) steady.push(at - sent.get(id));
  }
  lat.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  const ingestMs = stats.ingestMs.sort((a, b) => a - b);
  return {
    sent: total, send_rate: r2(total / sendSeconds), post_failed: stats.failed, received: lat.length,
    missing: total - stats.failed - lat.length, duplicates, p50_ms: r2(percentile(lat, 50)),
    p90_ms: r2(percentile(lat, 90)), p99_ms: r2(percentile(lat, 99)), max_ms: r2(lat[lat.length - 1]),
    ingest_p50_ms: r2(percentile(ingestMs, 50)), ingest_p99_ms: r2(percentile(ingestMs, 99)),
    max_posts_in_flight: stats.maxPosts, primed: primeTotal, primed_failed: primeStats.failed,
    primed_max_posts_in_flight: primeStats.maxPosts, node_cpu_percent: r2(cpuPercent),
    warmup_s: Number(warmupS), steady_received: steady.length,
    steady_p50_ms: r2(percentile(steady, 50)), steady_p90_ms: r2(percentile(steady, 90)),
    steady_p99_ms: r2(percentile(steady, 99)), steady_max_ms: r2(steady[steady.length - 1]),
  };
}

async function fanout([base, adminKey, tplFile, subs, repeats, timeoutS = '60']) {
  const tpl = templates(tplFile);
  const org = (await expect(201, 'POST', `${base}/v1/orgs`, {
    key: adminKey, json: { name: 'Bench fan-out', platform_url: 'https://bench.example' } })).json;
  const key = org.api_key;
  let current = null;
  const paths = new Set();
  let last = 0;
  let first = 0;
  const receiver = createReceiver({ onArrival: (id, path, at) => {
    if (id !== current || paths.has(path)) return;
    if (paths.size === 0) first = at;
    paths.add(path);
    last = at;
  } });
  const port = await receiver.listen();
  const n = Number(subs);
  const createStart = now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < n) {
      const i = next++;
      await webhookSub(base, key, `http://127.0.0.1:${port}/fan/${i}`);
    }
  }));
  const createMs = now() - createStart;
  const out = { subs: n, create_subs_ms: Math.round(createMs) };
  for (let r = 1; r <= Number(repeats); ++r) {
    current = `fan-${runId}-${r}`;
    paths.clear();
    const t0 = now();
    const res = await request('POST', `${base}/v1/events`, { key, body: eventBody(tpl, r, current) });
    if (res.status !== 202) throw new Error(`POST /v1/events: ${res.status} ${res.text.slice(0, 200)}`);
    out[`post_ms_${r}`] = r2(now() - t0);
    await until(() => paths.size >= n, Number(timeoutS) * 1000, `fan-out ${r}`)
      .catch(() => {});
    out[`received_${r}`] = paths.size;
    out[`first_ms_${r}`] = r2(first - t0);
    out[`last_ms_${r}`] = paths.size >= n ? r2(last - t0) : null;
    await sleep(1000);
  }
  receiver.close();
  return out;
}

async function fairness([base, key, tplFile, subA, repeats, timeoutS = '120']) {
  const tpl = templates(tplFile);
  let current = null;
  let arrival = null;
  const receiver = createReceiver({ onArrival: (id, path, at) => {
    if (id === current && arrival === null) arrival = at;
  } });
  const port = await receiver.listen();
  const subB = await webhookSub(base, key, `http://127.0.0.1:${port}/fair`);
  const p0 = now();
  await expect(200, 'PATCH', `${base}/v1/subscriptions/${subA}`, { key, json: { enabled: true }, timeoutMs: 600000 });
  const out = { patch_ms: Math.round(now() - p0) };
  for (let r = 1; r <= Number(repeats); ++r) {
    current = `fair-${runId}-${r}`;
    arrival = null;
    const t0 = now();
    const res = await request('POST', `${base}/v1/events`, { key, body: eventBody(tpl, r, current) });
    if (res.status !== 202) throw new Error(`POST /v1/events: ${res.status} ${res.text.slice(0, 200)}`);
    out[`post_ms_${r}`] = r2(now() - t0);
    await until(() => arrival !== null, Number(timeoutS) * 1000, `B's event ${r}`).catch(() => {});
    out[`b_ms_${r}`] = arrival === null ? null : r2(arrival - t0);
    await sleep(500);
  }
  // B's receiver goes with this process: B goes too, so the events run.sh
  // adds to A's backlog next are not also retried against a closed port.
  await expect(204, 'DELETE', `${base}/v1/subscriptions/${subB}`, { key });
  receiver.close();
  return out;
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  const modes = { latency, fanout, fairness };
  if (!modes[mode]) throw new Error('usage: node goals.js latency|fanout|fairness ...');
  console.log(JSON.stringify(await modes[mode](args)));
}

run(main);
