// Black-box tests of real-time delivery (DESIGN.md sections 3 and 4): the real
// `punt serve` (PUNT_BIN) delivering to real peers on 127.0.0.1 — Learning
// Locker's statement service with strict Basic auth (test/peers/lrs.js) and a
// Standard Webhooks receiver verifying with npm standardwebhooks
// (test/peers/webhook-receiver.js).
//
// The retry test waits for punt's real schedule (5 s, then 30 s, ±20%), so it
// runs in parallel with the others, which run one after another.
// Usage: PUNT_BIN=build/punt node --test --test-reporter=spec test/blackbox/delivery.test.js
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { PuntServer, killAll } = require('./lib/punt-server');
const { expectStatus, waitFor, createSub, getDelivery } = require('./lib/api-helpers');
const { startLrs, startReceiver, stopAllPeers } = require('./lib/peers');
const {
  LRS_KEY, LRS_SECRET, TOKEN_STANDARD, TOKEN_URLSAFE, AUTH_STANDARD, LEARNING_TYPES, USER_TYPES,
  freshEvent, statementId, createOrg, ingestOk, allDeliveries, xapiPosts,
} = require('./lib/fixtures');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The statement `punt statement` prints for `event` (the statement punt would send).
function puntStatement(event, orgId, platformUrl) {
  return new Promise((resolve, reject) => {
    const child = execFile(path.resolve(process.env.PUNT_BIN),
      ['statement', '--org-id', orgId, '--platform-url', platformUrl],
      { timeout: 10000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`punt statement: ${err.message}\n${stderr}`));
        try { resolve(JSON.parse(stdout)); } catch (e) { reject(new Error(`punt statement printed ${stdout}`)); }
      });
    child.stdin.end(JSON.stringify(event));
  });
}

// Polls fn() until it returns a truthy value; throws after timeoutMs with the
// description of the last value (describe(last)).

function stateCounts(deliveries) {
  const c = {};
  for (const d of deliveries) c[d.state] = (c[d.state] || 0) + 1;
  return c;
}

// Waits until the subscription has `count` deliveries, all delivered; fails at once on a dead one.
async function waitDelivered(srv, org, subId, count, timeoutMs) {
  return waitFor(async () => {
    const ds = await allDeliveries(srv, org, subId);
    const dead = ds.filter((d) => d.state === 'dead');
    if (dead.length) {
      const one = await getDelivery(srv, org, dead[0].id);
      throw new Error(`${dead.length} dead deliveries of ${subId}, e.g. ${JSON.stringify(one)}`);
    }
    const ok = ds.length === count && ds.every((d) => d.state === 'delivered');
    return ok ? ds : { done: false, total: ds.length, states: stateCounts(ds) };
  }, { timeoutMs, what: `${count} delivered deliveries of ${subId}`, intervalMs: 200 });
}

function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

// A punt server started without --allow-destination (so loopback is refused) and
// with --allow-http (so http://127.0.0.1 URLs are still accepted at creation).
class GuardedPuntServer extends PuntServer {
  args() {
    const a = super.args();
    const i = a.indexOf('--allow-destination');
    if (i !== -1) a.splice(i, 2);
    return [...a, '--allow-http'];
  }
}

// ------------------------------------------------------------------ fixtures
let srv;          // the server most tests share
let lrs;          // the LRS of the xAPI tests and the latency figure
let crashLrs;     // the LRS of the crash test
const hooks = {}; // webhook receivers, one per test that needs one
const servers = []; // every punt server started here, disposed at the end

before(async () => {
  const started = await Promise.all([
    PuntServer.start(),
    startLrs({ key: LRS_KEY, secret: LRS_SECRET }),
    startLrs({ key: LRS_KEY, secret: LRS_SECRET }),
    ...['user', 'report', 'disabled', 'retry', 'guard', 'crash'].map(() => startReceiver()),
  ]);
  [srv, lrs, crashLrs] = started;
  servers.push(srv);
  ['user', 'report', 'disabled', 'retry', 'guard', 'crash'].forEach((n, i) => { hooks[n] = started[3 + i]; });
});

after(async () => {
  for (const s of servers) await s.dispose().catch(() => {});
  await killAll();
  await stopAllPeers();
});

// ------------------------------------------------------------------ tests
describe('delivery to real receivers', { concurrency: true }, () => {
  // ---------------------------------------------------------------- retries
  // The schedule is checked on what punt wrote down, not on the wall clock:
  // each retry's next_attempt_at lies 5 s (then 30 s) ±20% after the failed
  // attempt (between its start and its record), and no retry went early. A
  // slow machine makes retries late, never wrong.
  it('retries a webhook answered 503 twice on the 5 s / 30 s schedule, then delivers it',
    { timeout: 180000 }, async () => {
      const hook = hooks.retry;
      const org = await createOrg(srv, 'https://retry.example');
      const token = `Bearer retry-${crypto.randomBytes(8).toString('hex')}`;
      const sub = await createSub(srv, org, { kind: 'webhook', url: hook.url, token,
        events: ['lesson.completed'] });
      await hook.config({ secrets: [sub.secret], expectAuth: token, statuses: [503, 503], status: 204 });

      const event = freshEvent('lesson.completed', 'retry');
      const posted = Date.now();
      await ingestOk(srv, org, event);
      const [d] = await waitFor(async () => {
        const ds = await allDeliveries(srv, org, sub.id);
        return ds.length === 1 ? ds : null;
      }, { timeoutMs: 30000, what: 'the delivery' });

      // After each 503: retrying, with the attempt logged and the next one set.
      const retryingAfter = (n) => waitFor(async () => {
        const one = await getDelivery(srv, org, d.id);
        return one.state === 'retrying' && one.attempts.length >= n ? one : { done: false, one };
      }, { timeoutMs: 60000, what: `state retrying with ${n} logged attempts`, intervalMs: 100 });
      const retrying = await retryingAfter(1);
      assert.equal(retrying.attempts[0].status, 503, JSON.stringify(retrying));
      assert.ok(retrying.next_attempt_at, `a retrying delivery shows next_attempt_at: ${JSON.stringify(retrying)}`);
      const second = await retryingAfter(2);
      assert.equal(second.attempts[1].status, 503, JSON.stringify(second));
      // A poll that came late may have seen the second retry's state twice:
      // each snapshot is checked against the retry its attempt count says.
      const delays = [5000, 30000];
      const scheduled = {};
      for (const one of [retrying, second]) {
        const i = one.attempts.length - 1;
        scheduled[i] = { next: Date.parse(one.next_attempt_at), started: Date.parse(one.attempts[i].at),
          recorded: Date.parse(one.updated_at) };
      }
      assert.ok(scheduled[1], 'the second retry was seen');
      for (const [i, { next, started, recorded }] of Object.entries(scheduled)) {
        assert.ok(next - started >= delays[i] * 0.8,
          `retry ${Number(i) + 1} set ${next - started} ms after its attempt started, not ${delays[i]} ms -20%`);
        assert.ok(next - recorded <= delays[i] * 1.2,
          `retry ${Number(i) + 1} set ${next - recorded} ms after its attempt was recorded, not ${delays[i]} ms +20%`);
      }

      const done = await waitFor(async () => {
        const one = await getDelivery(srv, org, d.id);
        if (one.state === 'dead') throw new Error(`dead: ${JSON.stringify(one)}`);
        return one.state === 'delivered' ? one : { done: false, one };
      }, { timeoutMs: 90000, what: 'delivered', intervalMs: 250 });
      const tookMs = Date.now() - posted;
      assert.deepEqual(done.attempts.map((a) => a.status), [503, 503, 204], JSON.stringify(done));
      assert.equal(done.attempt_count, 3);
      const at = done.attempts.map((a) => Date.parse(a.at));
      for (const [i, { next }] of Object.entries(scheduled)) {
        assert.ok(at[Number(i) + 1] >= next, `retry ${Number(i) + 1} went ${next - at[Number(i) + 1]} ms early`);
      }
      console.log(`retry: delivered ${tookMs} ms after the POST; gaps ${at[1] - at[0]} ms, ${at[2] - at[1]} ms`);

      // The receiver saw three signed tries of one message, re-signed at each attempt.
      const got = await hook.received();
      assert.equal(got.length, 3, JSON.stringify(got.map((r) => r.status)));
      assert.deepEqual(got.map((r) => r.status), [503, 503, 204]);
      for (const r of got) {
        assert.ok(r.verified && r.authOk && r.valid, JSON.stringify(r));
        assert.equal(r.id, `msg_${statementId(org.id, event.id)}`);
      }
      assert.equal(new Set(got.map((r) => r.timestamp)).size, 3, 'a fresh webhook-timestamp per attempt');
    });

  describe('one after another', { concurrency: 1 }, () => {
    const org1 = {};
    let sub1;
    let nine;
    let expectedIds;

    // ------------------------------------------------------------ xAPI
    it('xAPI: the nine learning events reach a strict LRS once each, with the expected ids',
      async () => {
        Object.assign(org1, await createOrg(srv, 'https://acme.example/learn'));
        sub1 = await createSub(srv, org1, { kind: 'xapi', url: `${lrs.base}/statements`,
          token: TOKEN_STANDARD, events: LEARNING_TYPES, xapi_version: '1.0.3' });
        assert.equal(sub1.url, `${lrs.base}/statements`);
        assert.equal(sub1.xapi_version, '1.0.3');

        nine = LEARNING_TYPES.map((t) => freshEvent(t, 'nine'));
        const statements = await Promise.all(nine.map((e) => puntStatement(e, org1.id, org1.platformUrl)));
        expectedIds = statements.map((s) => s.id).sort();
        // Our UUIDv5 agrees with punt's (used below where punt statement is not run).
        assert.deepEqual(nine.map((e) => statementId(org1.id, e.id)).sort(), expectedIds);

        await ingestOk(srv, org1, nine);
        const ds = await waitDelivered(srv, org1, sub1.id, 9, 20000);
        assert.deepEqual(ds.map((d) => d.event_id).sort(), nine.map((e) => e.id).sort());
        for (const d of ds) {
          const one = await getDelivery(srv, org1, d.id);
          assert.equal(one.attempts.length, 1, `one attempt for ${d.event_id}: ${JSON.stringify(one)}`);
          assert.ok([200, 204].includes(one.attempts[0].status), JSON.stringify(one));
          assert.equal(typeof one.attempts[0].latency_ms, 'number');
        }

        assert.deepEqual((await lrs.ids()).sort(), expectedIds);
        assert.equal(await lrs.count(), 9);
        const posts = xapiPosts(lrs.logEntries());
        assert.ok(posts.length >= 1);
        for (const p of posts) {
          assert.equal(p.status, 200, JSON.stringify(p));
          assert.equal(p.authorization, AUTH_STANDARD);
          assert.equal(p.authOk, true);
          assert.equal(p.version, '1.0.3');
          assert.match(p.contentType, /^application\/json/);
        }
      });

    it('xAPI: an event re-sent with the same id is answered 202 and the LRS still holds nine',
      async () => {
        assert.ok(nine, 'needs the previous test');
        const before = xapiPosts(lrs.logEntries()).length;
        await ingestOk(srv, org1, nine[3]);
        await sleep(1500);
        const ds = await allDeliveries(srv, org1, sub1.id);
        assert.equal(ds.length, 9, `no new delivery: ${JSON.stringify(stateCounts(ds))}`);
        assert.ok(ds.every((d) => d.state === 'delivered'));
        assert.equal(await lrs.count(), 9);
        assert.deepEqual((await lrs.ids()).sort(), expectedIds);
        assert.equal(xapiPosts(lrs.logEntries()).length, before, 'nothing was sent again');
      });

    it('xAPI: a URL-safe unpadded token and the LRS base URL (with and without "/") still deliver, '
      + 'sent as standard padded base64', async () => {
      const logBefore = lrs.logEntries().length;
      const cases = [
        { url: `${lrs.base}/`, platform: 'https://beta.example' },
        { url: lrs.base, platform: 'https://gamma.example/' },
      ];
      const expected = [];
      for (const c of cases) {
        const org = await createOrg(srv, c.platform);
        const sub = await createSub(srv, org, { kind: 'xapi', url: c.url, token: TOKEN_URLSAFE,
          events: ['*'] });
        assert.equal(sub.url, `${lrs.base}/statements`, `the URL punt shows for ${c.url}`);
        assert.ok(!JSON.stringify(sub).includes(TOKEN_URLSAFE), 'the token is not shown whole');
        const events = ['lesson.viewed', 'question.answered', 'term.searched'].map((t) => freshEvent(t, 'org2'));
        for (const e of events) expected.push((await puntStatement(e, org.id, org.platformUrl)).id);
        await ingestOk(srv, org, events);
        c.org = org;
        c.sub = sub;
      }
      for (const c of cases) await waitDelivered(srv, c.org, c.sub.id, 3, 20000);

      const ids = await lrs.ids();
      for (const id of expected) assert.ok(ids.includes(id), `statement ${id} is in the LRS`);
      assert.equal(ids.length, 9 + 6);
      const posts = xapiPosts(lrs.logEntries().slice(logBefore));
      assert.ok(posts.length >= 2, `the LRS logged ${posts.length} POSTs`);
      for (const p of posts) {
        assert.equal(p.authorization, AUTH_STANDARD, 'punt sent the standard padded token');
        assert.equal(p.authOk, true);
        assert.equal(p.status, 200, JSON.stringify(p));
        assert.equal(p.version, '1.0.3');
      }
    });

    // --------------------------------------------------------- webhooks
    it('webhooks: user-action and reporting subscriptions each get exactly their events, '
      + 'once, verified by standardwebhooks', async () => {
      const org = await createOrg(srv, 'https://hooks.example');
      const userToken = `Bearer user-${crypto.randomBytes(8).toString('hex')}`;
      const reportToken = `Token report-${crypto.randomBytes(8).toString('hex')}`;
      const userSub = await createSub(srv, org, { kind: 'webhook', url: hooks.user.url,
        token: userToken, events: USER_TYPES });
      const reportSub = await createSub(srv, org, { kind: 'webhook', url: `${hooks.report.url}?src=punt`,
        token: reportToken, events: LEARNING_TYPES });
      for (const s of [userSub, reportSub]) assert.match(s.secret, /^whsec_/);
      await hooks.user.config({ secrets: [userSub.secret], expectAuth: userToken });
      await hooks.report.config({ secrets: [reportSub.secret], expectAuth: reportToken });

      const userEvents = USER_TYPES.map((t) => freshEvent(t, 'hook'));
      const learningEvents = LEARNING_TYPES.map((t) => freshEvent(t, 'hook'));
      learningEvents[0].extra_field = { kept: true };  // unknown fields are passed on
      const all = [...userEvents, ...learningEvents];
      const statements = await Promise.all(learningEvents.map((e) => puntStatement(e, org.id, org.platformUrl)));
      await ingestOk(srv, org, all);

      await waitDelivered(srv, org, userSub.id, 4, 20000);
      await waitDelivered(srv, org, reportSub.id, 9, 20000);
      await sleep(500);  // anything extra would have arrived by now

      const check = async (hook, events, token, stmts) => {
        const got = await hook.received();
        assert.equal(got.length, events.length,
          `exactly ${events.length} requests: ${JSON.stringify(got.map((r) => [r.type, r.status]))}`);
        const byId = new Map(got.map((r) => [r.id, r]));
        assert.equal(byId.size, events.length, 'each event exactly once');
        for (const [i, e] of events.entries()) {
          const wid = `msg_${statementId(org.id, e.id)}`;
          if (stmts) assert.equal(wid, `msg_${stmts[i].id}`, 'webhook-id = msg_ + the statement id');
          const r = byId.get(wid);
          assert.ok(r, `${e.type} arrived with webhook-id ${wid}`);
          assert.equal(r.verified, true, `${e.type}: ${r.error}`);
          assert.equal(r.authorization, token);
          assert.equal(r.authOk, true);
          assert.equal(r.status, 204);
          assert.equal(r.method, 'POST');
          assert.equal(r.body.type, e.type);
          assert.equal(r.body.timestamp, new Date(e.occurred_at).toISOString());
          assert.deepEqual(r.body.data, e);
          assert.match(r.signature, /^v1,/);
          assert.ok(Math.abs(Number(r.timestamp) - Date.now() / 1000) < 120, `webhook-timestamp ${r.timestamp}`);
        }
      };
      await check(hooks.user, userEvents, userToken, null);
      await check(hooks.report, learningEvents, reportToken, statements);
    });

    // ------------------------------------------------------- disabled
    it('a disabled subscription holds its deliveries without attempts; enabling delivers them',
      async () => {
        const hook = hooks.disabled;
        const org = await createOrg(srv, 'https://held.example');
        const token = 'Bearer held-token';
        const sub = await createSub(srv, org, { kind: 'webhook', url: hook.url, token,
          events: ['*'], enabled: false });
        assert.equal(sub.enabled, false);
        await hook.config({ secrets: [sub.secret], expectAuth: token });
        const events = [freshEvent('user.created', 'held'), freshEvent('term.searched', 'held')];
        await ingestOk(srv, org, events);

        await sleep(1500);  // time enough for a (wrong) attempt
        let ds = await allDeliveries(srv, org, sub.id);
        assert.equal(ds.length, 2);
        for (const d of ds) {
          assert.equal(d.state, 'held', JSON.stringify(d));
          assert.equal(d.attempt_count, 0);
          const one = await getDelivery(srv, org, d.id);
          assert.deepEqual(one.attempts, []);
        }
        assert.deepEqual(await hook.received(), []);

        const res = await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: org.key,
          json: { enabled: true } });
        expectStatus(res, 200);
        assert.equal(res.json.enabled, true);
        ds = await waitDelivered(srv, org, sub.id, 2, 20000);
        const got = await hook.received();
        assert.deepEqual(got.map((r) => r.body.data.id).sort(), events.map((e) => e.id).sort());
        assert.ok(got.every((r) => r.verified && r.authOk && r.valid), JSON.stringify(got));
      });

    it('xAPI: a backlog of 250 statements goes out in POSTs of at most 100, each stored once',
      async () => {
        const org = await createOrg(srv, 'https://batch.example');
        const sub = await createSub(srv, org, { kind: 'xapi', url: lrs.base, token: TOKEN_STANDARD,
          events: LEARNING_TYPES, enabled: false });
        const events = Array.from({ length: 250 }, (_, i) =>
          freshEvent(LEARNING_TYPES[i % LEARNING_TYPES.length], 'batch'));
        for (let i = 0; i < events.length; i += 125) await ingestOk(srv, org, events.slice(i, i + 125));
        const logBefore = lrs.logEntries().length;

        const res = await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: org.key,
          json: { enabled: true } });
        expectStatus(res, 200);
        const ds = await waitDelivered(srv, org, sub.id, 250, 30000);
        assert.ok(ds.every((d) => d.attempt_count === 1), 'each in one attempt');
        const posts = xapiPosts(lrs.logEntries().slice(logBefore));
        console.log(`batching: 250 statements in ${posts.length} POSTs ` +
          `(${posts.map((p) => p.contentLength).join(', ')} bytes)`);
        assert.ok(posts.length >= 3 && posts.length <= 6, `${posts.length} POSTs`);
        assert.ok(posts.every((p) => p.status === 200), JSON.stringify(posts));
        const held = new Set(await lrs.ids());
        const missing = events.filter((e) => !held.has(statementId(org.id, e.id)));
        assert.deepEqual(missing, [], 'the LRS holds every statement');
      });

    // ------------------------------------------------ destination guard
    it('without --allow-destination, a loopback receiver is refused at connect time', async () => {
      const hook = hooks.guard;
      // (PuntServer.start() always builds a plain PuntServer, so launch it by hand.)
      const guarded = new GuardedPuntServer();
      servers.push(guarded);
      await guarded.launch();
      assert.ok(!guarded.args().includes('--allow-destination'));
      const org = await createOrg(guarded, 'https://guard.example');
      const sub = await createSub(guarded, org, { kind: 'webhook',
        url: `http://127.0.0.1:${hook.port}/hook`, events: ['*'] });
      await hook.config({ secrets: [sub.secret] });
      await ingestOk(guarded, org, freshEvent('lesson.liked', 'guard'));

      const [d] = await waitFor(async () => {
        const ds = await allDeliveries(guarded, org, sub.id);
        return ds.length === 1 && ds[0].attempt_count >= 1 ? ds : { done: false, ds };
      }, { timeoutMs: 10000, what: 'a first attempt' });
      const one = await getDelivery(guarded, org, d.id);
      assert.ok(one.attempts.length >= 1, JSON.stringify(one));
      assert.match(one.attempts[0].error || '', /destination refused/, JSON.stringify(one));
      assert.notEqual(one.state, 'delivered');
      await sleep(300);
      assert.deepEqual(await hook.received(), [], 'the receiver got nothing');
      await guarded.dispose();
    });

    // ------------------------------------------------------------ crash
    it('kill -9 right after the last 202 of 300 events: after a restart every delivery is '
      + 'delivered, each statement stored once, no 409', { timeout: 120000 }, async () => {
      const hook = hooks.crash;
      const crashSrv = await PuntServer.start();
      servers.push(crashSrv);
      const org = await createOrg(crashSrv, 'https://crash.example');
      const xsub = await createSub(crashSrv, org, { kind: 'xapi', url: crashLrs.base,
        token: TOKEN_STANDARD, events: ['*'] });
      const token = 'Bearer crash-token';
      const wsub = await createSub(crashSrv, org, { kind: 'webhook', url: hook.url, token,
        events: LEARNING_TYPES });
      await hook.config({ secrets: [wsub.secret], expectAuth: token });

      const events = Array.from({ length: 300 }, (_, i) => freshEvent(LEARNING_TYPES[i % 9], 'crash'));
      const t0 = Date.now();
      for (let i = 0; i < events.length; i += 50) await ingestOk(crashSrv, org, events.slice(i, i + 50));
      const killed = await crashSrv.kill();
      const postMs = Date.now() - t0;
      const lrsPostsAtKill = xapiPosts(crashLrs.logEntries()).length;
      const hooksAtKill = (await hook.received()).length;
      console.log(`crash: 300 events accepted in ${postMs} ms; at kill -9 the LRS had answered ` +
        `${lrsPostsAtKill} POSTs holding ${await crashLrs.count()} statements and the receiver had ` +
        `${hooksAtKill} requests (${JSON.stringify(killed)})`);
      assert.equal(killed.signal, 'SIGKILL');

      const restarted = Date.now();
      await crashSrv.restart();
      await waitDelivered(crashSrv, org, xsub.id, 300, 60000);
      await waitDelivered(crashSrv, org, wsub.id, 300, 60000);
      console.log(`crash: everything delivered ${Date.now() - restarted} ms after the restart`);

      const expected = events.map((e) => statementId(org.id, e.id)).sort();
      const ids = await crashLrs.ids();
      assert.equal(ids.length, 300, 'the LRS holds each statement exactly once');
      assert.deepEqual([...ids].sort(), expected);
      const statuses = {};
      for (const p of xapiPosts(crashLrs.logEntries())) statuses[p.status] = (statuses[p.status] || 0) + 1;
      console.log(`crash: LRS answers to POST /statements: ${JSON.stringify(statuses)}`);
      assert.equal(statuses[409] || 0, 0, 'no 409: the body never changed between tries');

      const got = await hook.received();
      const seen = new Set();
      for (const r of got) {
        assert.ok(r.verified && r.authOk, JSON.stringify(r));
        seen.add(r.body.data.id);
        assert.equal(r.id, `msg_${statementId(org.id, r.body.data.id)}`);
      }
      const missing = events.filter((e) => !seen.has(e.id)).map((e) => e.id);
      assert.deepEqual(missing, [], 'every webhook event arrived at least once');
      console.log(`crash: the receiver got ${got.length} requests for 300 events ` +
        `(${got.length - seen.size} repeats)`);
      await crashSrv.dispose();
    });

    // ---------------------------------------------------------- latency
    it('latency: 100 events one at a time, from POST to the LRS answer (a figure, not a check)',
      { timeout: 60000 }, async () => {
        const org = await createOrg(srv, 'https://latency.example');
        const sub = await createSub(srv, org, { kind: 'xapi', url: lrs.base, token: TOKEN_STANDARD,
          events: LEARNING_TYPES });
        const samples = [];
        const ingestMs = [];
        for (let i = 0; i < 100; i++) {
          const event = freshEvent(LEARNING_TYPES[i % 9], 'lat');
          const seen = xapiPosts(lrs.logEntries()).length;
          const sent = Date.now();
          await ingestOk(srv, org, event);
          ingestMs.push(Date.now() - sent);
          const entry = await waitFor(() => {
            const posts = xapiPosts(lrs.logEntries());
            return posts.length > seen ? posts[seen] : null;
          }, { timeoutMs: 10000, what: `the LRS to answer event ${i}`, intervalMs: 2 });
          assert.equal(entry.status, 200, JSON.stringify(entry));
          samples.push(Date.parse(entry.at) - sent);
        }
        await waitDelivered(srv, org, sub.id, 100, 10000);
        const s = [...samples].sort((a, b) => a - b);
        const g = [...ingestMs].sort((a, b) => a - b);
        console.log(`LATENCY median=${percentile(s, 0.5)}ms p95=${percentile(s, 0.95)}ms ` +
          `max=${s[s.length - 1]}ms min=${s[0]}ms (n=${s.length}, POST /v1/events sent -> LRS answered; ` +
          `202 median=${percentile(g, 0.5)}ms p95=${percentile(g, 0.95)}ms)`);
      });
  });
});
