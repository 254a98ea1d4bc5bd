// Black-box resilience tests (DESIGN.md sections 3 and 4, docs/delivery.md
// "Concurrency and fairness" and "Crashes"): the real `punt serve` (PUNT_BIN)
// delivering to real peers on 127.0.0.1.
//
// 1. Fairness: while one webhook subscription has a backlog of 10,000 events at
//    a slow receiver, a new event for another subscription of the same
//    organisation is delivered before the first has worked off 1,000 of them.
// 2. kill -9 loop: under steady ingest punt is killed 5 times at random moments
//    and restarted on the same data dir; afterwards every accepted event is at
//    the real LRS (test/peers/lrs.js, strict Basic auth) exactly once and at the
//    webhook receiver (test/peers/webhook-receiver.js) at least once.
//
// Each test starts its own punt and peers; they run one after the other.
// Usage: PUNT_BIN=build/punt node --test --test-reporter=spec test/blackbox/resilience.test.js
'use strict';
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { PuntServer, killAll, withTimeout } = require('./lib/punt-server');
const { expectStatus, waitFor, createSub } = require('./lib/api-helpers');
const { startLrs, startReceiver, stopAllPeers } = require('./lib/peers');
const {
  LRS_KEY, LRS_SECRET, TOKEN_STANDARD, AUTH_STANDARD, LEARNING_TYPES, freshEvent, statementId,
  createOrg, ingestOk, xapiPosts,
} = require('./lib/fixtures');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const randomMs = (lo, hi) => Math.round(lo + Math.random() * (hi - lo));

// GET /v1/subscriptions/{id}: the subscription with its deliveries counted by state.
async function subCounts(srv, org, subId) {
  const res = await srv.request('GET', `/v1/subscriptions/${subId}`, { key: org.key });
  expectStatus(res, 200);
  assert.equal(typeof res.json.deliveries, 'object', res.text);
  return res.json.deliveries;
}
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

function tally(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] || 0) + 1;
  return out;
}

// The lines of punt's log that are warnings or errors (JSON logs with a level field).
function problemLines(srv) {
  return srv.logs.filter((l) => {
    let e;
    try { e = JSON.parse(l); } catch { return /error|panic|abort/i.test(l); }
    const level = String(e.level || e.severity || e.lvl || '').toLowerCase();
    return ['warn', 'warning', 'error', 'fatal', 'critical'].includes(level);
  });
}

// ------------------------------------------------------------------ fixtures
const servers = [];  // every punt server started here, disposed at the end

after(async () => {
  for (const s of servers) await s.dispose().catch(() => {});
  await killAll();
  await stopAllPeers();
});

// ------------------------------------------------------------------ tests
describe('resilience', { concurrency: 1 }, () => {
  // -------------------------------------------------------------- fairness
  it('fairness: with 10,000 events queued for a slow subscription A, a new event for B is '
    + 'delivered before A has worked off 1,000', { timeout: 110000 }, async () => {
    const BACKLOG = 10000;
    const BATCH = 1000;       // the most POST /v1/events takes (docs/openapi.yaml)
    const A_DELAY_MS = 50;    // A's receiver answers each request after 50 ms ...
    const A_IN_FLIGHT = 4;    // ... with 4 in flight: at most 80 requests/s
    const LIMIT = 1000;

    const [srv, hookA, hookB] = await Promise.all([PuntServer.start(), startReceiver(), startReceiver()]);
    servers.push(srv);
    const org = await createOrg(srv, 'https://fair.example');
    const subA = await createSub(srv, org, { kind: 'webhook', url: hookA.url,
      events: ['lesson.viewed'], max_in_flight: A_IN_FLIGHT });
    const subB = await createSub(srv, org, { kind: 'webhook', url: hookB.url,
      events: ['user.created'] });
    assert.equal(subA.max_in_flight, A_IN_FLIGHT);
    await hookA.config({ secrets: [subA.secret], delayMs: A_DELAY_MS });
    await hookB.config({ secrets: [subB.secret] });

    const backlog = Array.from({ length: BACKLOG }, () => freshEvent('lesson.viewed', 'fairA'));
    const t0 = Date.now();
    for (let i = 0; i < BACKLOG; i += BATCH) await ingestOk(srv, org, backlog.slice(i, i + BATCH));
    const ingestMs = Date.now() - t0;

    const eventB = freshEvent('user.created', 'fairB');
    const sentB = Date.now();
    await ingestOk(srv, org, eventB);
    const acceptedB = Date.now();

    // Wait (bounded) for B at its receiver; fail early once A has reached the limit.
    let aCountNow = 0;
    const recB = await waitFor(async () => {
      const got = await hookB.received();
      if (got.length) return got[0];
      aCountNow = (await hookA.received()).length;
      if (aCountNow >= LIMIT) {
        throw new Error(`B's event has not arrived, and A's receiver already has ${aCountNow} ` +
          `requests (${Date.now() - sentB} ms after B's POST)`);
      }
      return null;
    }, { timeoutMs: 60000, what: "B's event at B's receiver", intervalMs: 10,
      describe: () => `A's receiver had ${aCountNow} requests` });
    const arrivedB = Date.parse(recB.at);

    // A's requests as its receiver recorded them (on arrival, before the 50 ms delay).
    const gotA = await hookA.received();
    const aAt = gotA.map((r) => Date.parse(r.at));
    const aBeforeB = aAt.filter((t) => t <= arrivedB).length;
    const aAtPostB = aAt.filter((t) => t <= sentB).length;
    const countsA = await subCounts(srv, org, subA.id);
    // Each of A's requests stays open at least A_DELAY_MS after it arrived, so the
    // most arrivals within any window a little shorter than that (timestamps are in
    // ms) is a floor on the requests open at once.
    let aOpen = 0;
    for (let i = 0, j = 0; i < aAt.length; i++) {
      while (aAt[i] - aAt[j] >= A_DELAY_MS - 2) j++;
      aOpen = Math.max(aOpen, i - j + 1);
    }
    console.log(`fairness: ${BACKLOG} events for A accepted in ${ingestMs} ms; A's receiver had ` +
      `${aAtPostB} requests when B's event was POSTed and ${aBeforeB} when B's event arrived ` +
      `(limit ${LIMIT}); B latency ${arrivedB - sentB} ms from its POST (its 202 came after ` +
      `${acceptedB - sentB} ms); A's deliveries now ${JSON.stringify(countsA)}; at least ` +
      `${aOpen} of A's requests were open at once (max_in_flight ${A_IN_FLIGHT})`);

    assert.equal(recB.verified, true, JSON.stringify(recB));
    assert.equal(recB.body.data.id, eventB.id);
    assert.equal(recB.id, `msg_${statementId(org.id, eventB.id)}`);
    assert.ok(gotA.every((r) => r.verified && r.body.type === 'lesson.viewed'),
      'A only got its own, verified, events');
    assert.ok(aBeforeB < LIMIT,
      `B's event arrived after A's receiver had got ${aBeforeB} requests (limit ${LIMIT})`);
    assert.ok(aOpen <= A_IN_FLIGHT, `${aOpen} of A's requests were open at once`);
    // The figure means something only if A really had a backlog when B came.
    assert.ok(BACKLOG - aAtPostB >= 9000, `A had worked off ${aAtPostB} before B was POSTed`);

    // Stop here: A's backlog is not waited for.
    await srv.dispose();
    await Promise.all([hookA.stop(), hookB.stop()]);
  });

  // ---------------------------------------------------------- kill -9 loop
  it('kill -9 five times under steady ingest: every accepted event is at the LRS exactly once '
    + 'and at the webhook receiver at least once', { timeout: 115000 }, async () => {
    const KILLS = 5;
    const TARGET_EVENTS = 1100;
    const MAX_EVENTS = 1400;  // the in-memory LRS slows down as it fills (PEERS.md)
    const WORKERS = 2;
    const TAIL_MS = 500;      // ingest after the last restart
    const HOOK_DELAY_MS = 10; // so that some webhooks are open when punt is killed

    const [srv, lrs, hook] = await Promise.all([
      PuntServer.start(), startLrs({ key: LRS_KEY, secret: LRS_SECRET }), startReceiver()]);
    servers.push(srv);
    const org = await createOrg(srv, 'https://killloop.example');
    const xsub = await createSub(srv, org, { kind: 'xapi', url: lrs.base, token: TOKEN_STANDARD,
      events: LEARNING_TYPES });
    const token = `Bearer kill-${crypto.randomBytes(8).toString('hex')}`;
    const wsub = await createSub(srv, org, { kind: 'webhook', url: hook.url, token,
      events: LEARNING_TYPES });
    await hook.config({ secrets: [wsub.secret], expectAuth: token, delayMs: HOOK_DELAY_MS });

    // The kill moments, drawn first so that the ingest rate can aim at about
    // TARGET_EVENTS in all (at most MAX_EVENTS) whatever they add up to.
    const upMs = Array.from({ length: KILLS }, () => randomMs(300, 2000));
    const ingestSpanMs = upMs.reduce((a, b) => a + b, 0) + TAIL_MS;
    const pauseMs = Math.min(100, Math.max(10, Math.round(WORKERS * 3.5 * ingestSpanMs / TARGET_EVENTS)));

    // The ingest loops: WORKERS loops, each sending batches of 1-6 events every
    // ~pauseMs to whatever address punt has now. A batch counts as accepted only on
    // a 202; a batch whose request failed is sent again, with the same ids, until
    // it is accepted.
    const ingest = { stop: false, abort: false, accepted: [], batches: 0, failed: 0, resent: 0, other: [],
      inFlight: 0 };
    const worker = async () => {
      let pending = null;
      let attempts = 0;
      for (;;) {
        if (ingest.abort) return;  // the test failed: stop at once
        if (!pending) {
          if (ingest.stop) return;
          const room = MAX_EVENTS - ingest.accepted.length - ingest.inFlight * 6;
          if (room <= 0) {
            await sleep(20);
            continue;
          }
          const n = Math.min(randomMs(1, 6), room);
          pending = Array.from({ length: n }, () =>
            freshEvent(LEARNING_TYPES[randomMs(0, LEARNING_TYPES.length - 1)], 'kill'));
          attempts = 0;
        }
        if (!srv.baseUrl) {  // killed, not yet restarted
          await sleep(5);
          continue;
        }
        let res;
        ingest.inFlight++;
        try {
          if (attempts++ > 0) ingest.resent++;
          res = await srv.request('POST', '/v1/events', { key: org.key, json: pending, timeoutMs: 10000 });
        } catch {
          ingest.failed++;
          await sleep(5);
          continue;
        } finally {
          ingest.inFlight--;
        }
        if (res.status === 202) {
          assert.deepEqual(res.json, { accepted: pending.map((e) => e.id) });
          ingest.accepted.push(...pending);
          ingest.batches++;
          pending = null;
        } else if (res.status >= 400 && res.status < 500) {
          throw new Error(`POST /v1/events answered ${res.status} ${res.text}`);
        } else {
          ingest.other.push(res.status);  // e.g. 503: not accepted, sent again
        }
        await sleep(randomMs(pauseMs / 2, pauseMs * 1.5));
      }
    };
    const loop = Promise.all(Array.from({ length: WORKERS }, worker));
    let loopError = null;
    loop.catch((err) => { loopError = err; });

    // Kill -9 at random moments, restarting on the same data dir each time. Every
    // other kill waits (at most 200 ms more) for an ingest request to be open, so
    // that some kills land while punt is committing or answering a batch.
    const kills = [];
    const tStart = Date.now();
    try {
      for (let k = 0; k < KILLS; k++) {
        await sleep(upMs[k]);
        if (k % 2 === 1) {
          const until = Date.now() + 200;
          while (ingest.inFlight === 0 && Date.now() < until) await sleep(1);
        }
        if (loopError) throw loopError;
        const at = { upMs: upMs[k], accepted: ingest.accepted.length, ingestOpen: ingest.inFlight };
        const killing = srv.kill();  // the signal goes at once
        at.lrsPosts = xapiPosts(lrs.logEntries()).length;
        const killed = await killing;
        assert.equal(killed.signal, 'SIGKILL', JSON.stringify(killed));
        const t = Date.now();
        await srv.restart();
        kills.push({ ...at, restartMs: Date.now() - t, port: srv.port });
      }
      await sleep(TAIL_MS);  // some ingest after the last restart too
      ingest.stop = true;
      await withTimeout(loop, 30000, 'the ingest loop to send its last batch');
    } finally {
      ingest.abort = true;  // on a failure, no loop is left running
    }
    const ingestMs = Date.now() - tStart;
    const accepted = ingest.accepted;
    console.log(`kill loop: ${KILLS} kills (ingest pause ~${pauseMs} ms, ${WORKERS} loops): ` +
      kills.map((k) => JSON.stringify(k)).join(' '));
    console.log(`kill loop: ${accepted.length} events accepted in ${ingest.batches} batches over ` +
      `${ingestMs} ms; ${ingest.failed} requests failed (punt killed or restarting), ` +
      `${ingest.resent} batches sent again` +
      (ingest.other.length ? `, other answers ${JSON.stringify(tally(ingest.other))}` : ''));
    assert.ok(accepted.length >= 100, `only ${accepted.length} events accepted`);
    assert.equal(new Set(accepted.map((e) => e.id)).size, accepted.length);

    // Wait (bounded) until every delivery of both subscriptions is delivered.
    const tDrain = Date.now();
    const drainTrace = [];  // the counts whenever they change, to show how the drain went
    for (const sub of [xsub, wsub]) {
      await waitFor(async () => {
        const c = await subCounts(srv, org, sub.id);
        const line = `${Date.now() - tDrain}ms ${sub.kind} ${JSON.stringify(c)}`;
        if (!drainTrace.length || drainTrace[drainTrace.length - 1].replace(/^\d+ms /, '') !==
            line.replace(/^\d+ms /, '')) drainTrace.push(line);
        if (c.dead) {
          throw new Error(`${c.dead} dead deliveries of ${sub.kind} ${sub.id}: ${JSON.stringify(c)}`);
        }
        return total(c) === accepted.length && c.delivered === accepted.length ? c : { done: false, c };
      }, { timeoutMs: Math.max(5000, 70000 - (Date.now() - tDrain)),
        what: `${accepted.length} delivered deliveries of ${sub.kind} ${sub.id}`, intervalMs: 250 });
    }
    const step = Math.max(1, Math.ceil((drainTrace.length - 1) / 5));
    const shown = drainTrace.filter((_, i) => i % step === 0 || i === drainTrace.length - 1);
    console.log(`kill loop: every delivery delivered ${Date.now() - tDrain} ms after the ingest ` +
      `stopped; counts on the way:\n  ${shown.join('\n  ')}`);

    // The LRS: every accepted statement id exactly once, nothing else.
    const expected = new Map(accepted.map((e) => [statementId(org.id, e.id), e.id]));
    const ids = await lrs.ids();
    const idCounts = tally(ids);
    const twice = Object.keys(idCounts).filter((id) => idCounts[id] > 1);
    const missing = [...expected.keys()].filter((id) => !(id in idCounts));
    const unknown = Object.keys(idCounts).filter((id) => !expected.has(id));
    const posts = xapiPosts(lrs.logEntries());
    const lrsStatuses = tally(posts.map((p) => p.status));
    console.log(`kill loop: the LRS holds ${ids.length} statements (${Object.keys(idCounts).length} ` +
      `distinct) for ${accepted.length} accepted events; its answers to ${posts.length} ` +
      `POST /statements: ${JSON.stringify(lrsStatuses)}`);
    assert.deepEqual(twice, [], 'no statement id stored twice');
    assert.deepEqual(missing.map((id) => expected.get(id)), [], 'every accepted event is at the LRS');
    assert.deepEqual(unknown, [], 'no statement the test did not send');
    assert.equal(ids.length, accepted.length);
    for (const p of posts) {
      assert.equal(p.authorization, AUTH_STANDARD);
      // null: punt was killed before the LRS answered; anything but 200 (409 above all:
      // a changed body under a known id) is a failure.
      assert.ok(p.status === 200 || p.status === null, `the LRS answered ${JSON.stringify(p)}`);
    }
    assert.equal(lrsStatuses[409] || 0, 0, 'no 409: no id was ever sent with a different body');

    // The webhook receiver: every accepted event at least once, verified.
    const got = await hook.received();
    const seen = new Map();
    for (const r of got) {
      assert.ok(r.verified && r.authOk && r.valid, JSON.stringify(r).slice(0, 1000));
      assert.equal(r.id, `msg_${statementId(org.id, r.body.data.id)}`);
      seen.set(r.body.data.id, (seen.get(r.body.data.id) || 0) + 1);
    }
    const hookMissing = accepted.filter((e) => !seen.has(e.id)).map((e) => e.id);
    const hookUnknown = [...seen.keys()].filter((id) => !expected.has(statementId(org.id, id)));
    const repeats = got.length - seen.size;
    console.log(`kill loop: the webhook receiver got ${got.length} requests for ${seen.size} ` +
      `distinct events (${repeats} duplicates, ${[...seen.values()].filter((n) => n > 1).length} ` +
      `events more than once)`);
    assert.deepEqual(hookMissing, [], 'every accepted event reached the webhook receiver');
    assert.deepEqual(hookUnknown, [], 'no webhook for an event the test did not send');

    const problems = problemLines(srv);
    if (problems.length) {
      console.log(`kill loop: punt logged ${problems.length} warnings/errors, e.g.\n` +
        problems.slice(0, 10).join('\n'));
    }
    await srv.dispose();
    await Promise.all([lrs.stop(), hook.stop()]);
  });
});
