// Black-box tests of the operator actions (DESIGN.md section 3) on the real
// `punt serve` (PUNT_BIN) against real peers on 127.0.0.1: the test button
// (Standard Webhooks receiver verifying with npm standardwebhooks; Learning
// Locker's statement service with strict Basic auth), replay of a time window,
// retry of dead and delivered deliveries, and the delivery counts of a
// subscription, through the API and the CLI.
// The server runs with --retry-schedule 1s, so a delivery dies after two
// failed attempts in about a second.
// Usage: PUNT_BIN=build/punt node --test --test-reporter=spec test/blackbox/operator.test.js
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { PuntServer, killAll } = require('./lib/punt-server');
const { describeRes, expectStatus, waitFor, createSub, getDelivery } = require('./lib/api-helpers');
const { startLrs, startReceiver, stopAllPeers } = require('./lib/peers');
const { statementId } = require('./lib/fixtures');

const LRS_KEY = 'lrs_key';
const LRS_SECRET = 'p@ss>w?rd~~';
const TOKEN_STANDARD = 'bHJzX2tleTpwQHNzPnc/cmR+fg==';  // base64("lrs_key:p@ss>w?rd~~")
const GOLDEN = JSON.parse(fs.readFileSync(
  path.resolve(__dirname, '../golden/events/lesson.completed.json'), 'utf8'));
const STATES = ['pending', 'in_flight', 'retrying', 'held', 'delivered', 'dead'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const RUN = `${process.pid}-${Date.now().toString(36)}`;
let seq = 0;
const uniq = (prefix) => `${prefix}-${RUN}-${++seq}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freshEvent = (tag) => ({ ...structuredClone(GOLDEN), id: uniq(tag) });

// Polls fn() until it returns a truthy value; throws after timeoutMs.
// Runs the punt CLI; resolves {code, stdout, stderr} (bounded by timeoutMs).
function cli(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    execFile(path.resolve(process.env.PUNT_BIN), args, { timeout: timeoutMs },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

async function createOrg(srv) {
  const res = await srv.request('POST', '/v1/orgs', { key: srv.adminKey,
    json: { name: uniq('Org'), platform_url: 'https://acme.example' } });
  expectStatus(res, 201);
  return { id: res.json.id, key: res.json.api_key };
}

async function ingest(srv, org, events) {
  const res = await srv.request('POST', '/v1/events', { key: org.key, json: events });
  expectStatus(res, 202);
}

async function deliveries(srv, org, subId, query = '') {
  const res = await srv.request('GET', `/v1/subscriptions/${subId}/deliveries?limit=500${query}`,
    { key: org.key });
  expectStatus(res, 200);
  return res.json.data;
}

async function counts(srv, org, subId) {
  const res = await srv.request('GET', `/v1/subscriptions/${subId}`, { key: org.key });
  expectStatus(res, 200);
  return res.json.deliveries;
}

async function waitStates(srv, org, subId, want, what, timeoutMs = 15000) {
  return waitFor(async () => {
    const ds = await deliveries(srv, org, subId);
    return ds.length === want.count && ds.every((d) => d.state === want.state) ? ds : null;
  }, { timeoutMs, what });
}

// A punt server without --allow-destination (loopback is refused) but with
// --allow-http (so http://127.0.0.1 URLs are still accepted at creation).
class GuardedPuntServer extends PuntServer {
  args() {
    const a = super.args();
    const i = a.indexOf('--allow-destination');
    if (i !== -1) a.splice(i, 2);
    return [...a, '--allow-http'];
  }
}

// ------------------------------------------------------------------ fixtures
let srv;
let guarded;
let lrs;
let hook;

before(async () => {
  [srv, guarded, lrs, hook] = await Promise.all([
    PuntServer.start({ args: ['--retry-schedule', '1s'] }),
    new GuardedPuntServer().launch(),
    startLrs({ key: LRS_KEY, secret: LRS_SECRET }),
    startReceiver(),
  ]);
});

after(async () => {
  for (const s of [srv, guarded]) if (s) await s.dispose().catch(() => {});
  await killAll();
  await stopAllPeers();
});

// ------------------------------------------------------------------ tests
describe('operator actions', () => {
  it('test button, webhook: the receiver gets a verified punt.test event', async () => {
    const org = await createOrg(srv);
    const token = `Bearer test-${crypto.randomBytes(6).toString('hex')}`;
    const sub = await createSub(srv, org, { kind: 'webhook', url: `${hook.root}/test-button`, token,
      events: ['lesson.completed'] });
    await hook.config({ secrets: [sub.secret], expectAuth: token, status: 204, statuses: [] });

    const res = await srv.request('POST', `/v1/subscriptions/${sub.id}/test`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.status, 204, describeRes(res));
    assert.equal(typeof res.json.latency_ms, 'number');
    assert.equal(res.json.body, '');
    assert.equal(res.json.error, undefined);

    const got = (await hook.received()).filter((r) => r.path === '/test-button');
    assert.equal(got.length, 1);
    const [r] = got;
    assert.ok(r.verified, `not verified: ${r.error}`);
    assert.ok(r.authOk && r.valid);
    assert.match(r.id, /^msg_test_/);
    assert.equal(r.type, 'punt.test');
    assert.match(r.body.timestamp, TIMESTAMP);
    assert.deepEqual(r.body.data, { subscription_id: sub.id });

    // The receiver's refusal comes back as it is; the CLI prints it and exits 1.
    await hook.config({ statuses: [500] });
    const refused = await cli(['sub', 'test', sub.id, '--server', srv.baseUrl, '--key', org.key]);
    assert.equal(refused.code, 1, refused.stderr);
    const answer = JSON.parse(refused.stdout);
    assert.equal(answer.status, 500);
    assert.match(answer.body, /received/);
    const ok = await cli(['sub', 'test', sub.id, '--server', srv.baseUrl, '--key', org.key]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).status, 204);

    // Nothing was stored: no delivery came of it.
    assert.deepEqual(await deliveries(srv, org, sub.id), []);
    const other = await createOrg(srv);
    expectStatus(await srv.request('POST', `/v1/subscriptions/${sub.id}/test`, { key: other.key }), 404);
  });

  it('test button, xAPI: GET statements?limit=1 with the credentials; nothing stored', async () => {
    const org = await createOrg(srv);
    const sub = await createSub(srv, org, { kind: 'xapi', url: lrs.base, token: TOKEN_STANDARD,
      events: ['*'] });
    const res = await srv.request('POST', `/v1/subscriptions/${sub.id}/test`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.status, 200, describeRes(res));
    assert.ok(Array.isArray(JSON.parse(res.json.body).statements), res.json.body);

    const gets = lrs.logEntries().filter((e) => e.method === 'GET' && e.path === '/xAPI/statements');
    assert.equal(gets.length, 1, JSON.stringify(lrs.logEntries()));
    assert.match(gets[0].url, /[?&]limit=1(&|$)/);
    assert.equal(gets[0].authorization, `Basic ${TOKEN_STANDARD}`);
    assert.ok(gets[0].authOk);
    assert.equal(gets[0].version, '1.0.3');
    assert.equal(await lrs.count(), 0);

    // Wrong credentials show as the LRS's 401.
    const wrong = await createSub(srv, org, { kind: 'xapi', url: lrs.base,
      lrs_key: LRS_KEY, lrs_secret: 'wrong', events: ['*'] });
    const refused = await srv.request('POST', `/v1/subscriptions/${wrong.id}/test`, { key: org.key });
    expectStatus(refused, 200);
    assert.equal(refused.json.status, 401, describeRes(refused));
    assert.equal(await lrs.count(), 0);
  });

  it('test button to a refused destination reports the error', async () => {
    const org = await createOrg(guarded);
    const sub = await createSub(guarded, org, { kind: 'webhook', url: `${hook.root}/refused`,
      events: ['*'] });
    const res = await guarded.request('POST', `/v1/subscriptions/${sub.id}/test`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.status, 0);
    assert.match(res.json.error, /destination refused: 127\.0\.0\.1/);
    assert.equal((await hook.received()).filter((r) => r.path === '/refused').length, 0);
  });

  it('replay re-sends a window of events with the same webhook-id; the CLI shows progress',
    { timeout: 60000 }, async () => {
      const org = await createOrg(srv);
      const sub = await createSub(srv, org, { kind: 'webhook', url: `${hook.root}/replay`,
        events: ['lesson.completed'] });
      await hook.config({ secrets: [sub.secret], expectAuth: null, status: 204, statuses: [] });

      const since = new Date(Date.now() - 5).toISOString();
      const inWindow = [freshEvent('replay-a'), freshEvent('replay-b')];
      await ingest(srv, org, inWindow);
      await sleep(30);
      const until = new Date().toISOString();
      await sleep(30);
      const late = freshEvent('replay-late');
      await ingest(srv, org, [late]);
      await waitStates(srv, org, sub.id, { count: 3, state: 'delivered' }, '3 delivered');
      const firstIds = Object.fromEntries((await hook.received())
        .filter((r) => r.path === '/replay').map((r) => [r.body.data.id, r.id]));
      assert.equal(Object.keys(firstIds).length, 3);

      const run = await cli(['sub', 'replay', sub.id, '--since', since, '--until', until,
        '--wait-seconds', '30', '--server', srv.baseUrl, '--key', org.key]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      assert.equal(lines[0], 'replayed 2 events');
      assert.ok(lines.length >= 2, run.stdout);
      for (const l of lines.slice(1)) {
        assert.match(l, /^replay: delivered \d+ of 2 \(pending \d+, retrying \d+, dead \d+\)$/);
      }
      assert.equal(lines.at(-1), 'replay: delivered 2 of 2 (pending 0, retrying 0, dead 0)');

      const sent = (await hook.received()).filter((r) => r.path === '/replay');
      assert.equal(sent.length, 5);
      for (const e of inWindow) {
        const both = sent.filter((r) => r.body.data.id === e.id);
        assert.equal(both.length, 2, e.id);
        assert.ok(both.every((r) => r.verified && r.id === firstIds[e.id]));
        assert.deepEqual(both[1].body, both[0].body);
      }
      assert.equal(sent.filter((r) => r.body.data.id === late.id).length, 1);
      const c = await counts(srv, org, sub.id);
      assert.deepEqual(Object.keys(c).sort(), [...STATES].sort());
      assert.equal(c.delivered, 5);

      // A subscription made after the events gets them by replay (until null or absent: now).
      const newer = await createSub(srv, org, { kind: 'webhook', url: `${hook.root}/newer`,
        events: ['*'] });
      await hook.config({ addSecrets: [newer.secret] });
      const res = await srv.request('POST', `/v1/subscriptions/${newer.id}/replay`,
        { key: org.key, json: { since, until: null } });
      expectStatus(res, 202);
      assert.equal(res.json.replayed, 3);
      await waitStates(srv, org, newer.id, { count: 3, state: 'delivered' }, 'the history');
      const history = (await hook.received()).filter((r) => r.path === '/newer');
      assert.deepEqual(history.map((r) => r.body.data.id).sort(),
        [...inWindow, late].map((e) => e.id).sort());
      assert.ok(history.every((r) => r.verified && r.id === firstIds[r.body.data.id]));

      // So does an LRS connected later. The organisation had no xAPI subscription when the
      // events came, so none of their statements was built then: the replay builds them.
      const lrsSub = await createSub(srv, org, { kind: 'xapi', url: lrs.base,
        token: TOKEN_STANDARD, events: ['*'] });
      const toLrs = await srv.request('POST', `/v1/subscriptions/${lrsSub.id}/replay`,
        { key: org.key, json: { since } });
      expectStatus(toLrs, 202);
      assert.equal(toLrs.json.replayed, 3);
      await waitStates(srv, org, lrsSub.id, { count: 3, state: 'delivered' }, 'the statements');
      const stored = new Set(await lrs.ids());
      for (const e of [...inWindow, late]) {
        assert.ok(stored.has(statementId(org.id, e.id)), `the LRS lacks the statement of ${e.id}`);
      }

      // Bad windows.
      const bad = async (json, status, fieldPath) => {
        const r = await srv.request('POST', `/v1/subscriptions/${sub.id}/replay`, { key: org.key, json });
        expectStatus(r, status);
        if (fieldPath) assert.ok(r.json.error.fields.some((f) => f.path === fieldPath), describeRes(r));
      };
      await bad({}, 422, '/since');
      await bad({ since: null }, 422, '/since');
      await bad({ since: 'yesterday' }, 422, '/since');
      await bad({ since: until, until: since }, 422, '/until');
      await bad({ since: until, until }, 422, '/until');
      await bad({ since, color: 'red' }, 422, '/color');
      expectStatus(await srv.request('POST', '/v1/subscriptions/sub_nope/replay',
        { key: org.key, json: { since } }), 404);
    });

  it('retry sends a dead delivery, then a delivered one, again; 409 while in flight',
    { timeout: 60000 }, async () => {
      const org = await createOrg(srv);
      const sub = await createSub(srv, org, { kind: 'webhook', url: `${hook.root}/retry`,
        events: ['lesson.completed'] });
      await hook.config({ secrets: [sub.secret], expectAuth: null, status: 204, statuses: [500, 500] });
      const event = freshEvent('retry');
      await ingest(srv, org, [event]);
      const [dead] = await waitStates(srv, org, sub.id, { count: 1, state: 'dead' }, 'a dead delivery');
      assert.equal((await counts(srv, org, sub.id)).dead, 1);

      const res = await srv.request('POST', `/v1/deliveries/${dead.id}/retry`, { key: org.key });
      expectStatus(res, 202);
      assert.deepEqual(res.json, { id: dead.id, state: 'pending' });
      await waitStates(srv, org, sub.id, { count: 1, state: 'delivered' }, 'the retried delivery');

      // A delivered one, through the CLI.
      const run = await cli(['delivery', 'retry', dead.id, '--server', srv.baseUrl, '--key', org.key]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).state, 'pending');
      const again = await waitFor(async () => {
        const d = await getDelivery(srv, org, dead.id);
        return d.state === 'delivered' && d.attempts.length === 4 ? d : null;
      }, { timeoutMs: 15000, what: 'a fourth attempt' });
      assert.deepEqual(again.attempts.map((a) => a.status), [500, 500, 204, 204]);
      const sent = (await hook.received()).filter((r) => r.path === '/retry');
      assert.equal(sent.length, 4);
      assert.ok(sent.every((r) => r.verified && r.id === sent[0].id));

      // In flight: 409.
      await hook.config({ delayMs: 3000 });
      expectStatus(await srv.request('POST', `/v1/deliveries/${dead.id}/retry`, { key: org.key }), 202);
      await waitFor(async () => (await getDelivery(srv, org, dead.id)).state === 'in_flight',
        { timeoutMs: 5000, what: 'in_flight' });
      const busy = await srv.request('POST', `/v1/deliveries/${dead.id}/retry`, { key: org.key });
      expectStatus(busy, 409);
      await hook.config({ delayMs: 0 });

      // Another organisation's or an unknown delivery: 404.
      const other = await createOrg(srv);
      expectStatus(await srv.request('POST', `/v1/deliveries/${dead.id}/retry`, { key: other.key }), 404);
      expectStatus(await srv.request('POST', '/v1/deliveries/999999999/retry', { key: org.key }), 404);
      expectStatus(await srv.request('POST', '/v1/deliveries/abc/retry', { key: org.key }), 404);
    });

  it('GET subscription counts deliveries by state; the list filters by time', async () => {
    const org = await createOrg(srv);
    const sub = await createSub(srv, org, { kind: 'webhook', url: `${hook.root}/held`,
      events: ['*'], enabled: false });
    const t0 = new Date(Date.now() - 5).toISOString();
    await ingest(srv, org, [freshEvent('held-a'), freshEvent('held-b')]);
    assert.deepEqual(await counts(srv, org, sub.id),
      { pending: 0, in_flight: 0, retrying: 0, held: 2, delivered: 0, dead: 0 });

    await sleep(20);
    const t1 = new Date().toISOString();
    assert.equal((await deliveries(srv, org, sub.id, `&since=${t0}`)).length, 2);
    assert.equal((await deliveries(srv, org, sub.id, `&since=${t1}`)).length, 0);
    assert.equal((await deliveries(srv, org, sub.id, `&until=${t0}`)).length, 0);
    assert.equal((await deliveries(srv, org, sub.id, `&since=${t0}&until=${t1}`)).length, 2);
    const bad = await srv.request('GET', `/v1/subscriptions/${sub.id}/deliveries?since=soon`,
      { key: org.key });
    expectStatus(bad, 400);
    assert.equal(bad.json.error.fields[0].path, '/since');

    // Replaying into a disabled subscription holds, and the CLI says so.
    const run = await cli(['sub', 'replay', sub.id, '--since', t0, '--server', srv.baseUrl,
      '--key', org.key]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^replayed 2 events\nreplay: the subscription is disabled/);
    assert.equal((await counts(srv, org, sub.id)).held, 4);
  });
});
