// Black-box tests of `punt serve`'s HTTP API (DESIGN.md sections 2, 3, 5 and 6;
// docs/openapi.yaml). Runs the real binary (PUNT_BIN) on 127.0.0.1 with a fresh
// data dir; no receiver is needed: subscriptions point at 127.0.0.1:9, where
// nothing listens, so no delivery can succeed and states stay observable.
// Usage: PUNT_BIN=build/punt node --test --test-reporter=spec test/blackbox/api.test.js
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { PuntServer, killAll } = require('./lib/punt-server');
const { describeRes, expectStatus } = require('./lib/api-helpers');

// Not yet delivered. Nothing can reach 127.0.0.1:9, but a dispatcher may already have
// made a first attempt (in_flight, then retrying) by the time a test looks.
const WAITING = new Set(['pending', 'in_flight', 'retrying']);

const LRS_SECRET = 'p@ss>w?rd~~';
const LRS_PLAIN = `lrs_key:${LRS_SECRET}`;
const TOKEN_URLSAFE = 'bHJzX2tleTpwQHNzPnc_cmR-fg';     // base64url, no padding
const TOKEN_STANDARD = 'bHJzX2tleTpwQHNzPnc/cmR+fg==';  // what punt must send
const WEBHOOK_TOKEN = 'Bearer hook-token-5f1c2d9e8a7b';
const XAPI_URL = 'http://127.0.0.1:9/xapi';
const HOOK_URL = 'http://127.0.0.1:9/hook';

const LEARNING_TYPES = ['lesson.completed', 'lesson.liked', 'lesson.disliked', 'lesson.viewed',
  'section.viewed', 'question.answered', 'question.skipped', 'training_session.attended',
  'term.searched'];
const USER_TYPES = ['user.created', 'user.restored', 'user.updated', 'user.archived'];

// ---- events ----
const USER = { id: 'u-17', ext_uid: 'E-42', name: 'Jane Doe', email: 'jane@example.com',
  custom_fields: { team: 'West' } };

// The lesson.completed example of DESIGN.md.
function lessonCompleted(id = 'evt-8812') {
  return { id, type: 'lesson.completed', occurred_at: '2026-11-28T12:00:00.123Z', user: USER,
    lesson: { id: 'l-77', title: 'Objection handling' }, score_percent: 92,
    started_at: '2026-11-28T11:40:00.000Z', completed_at: '2026-11-28T12:00:00.123Z',
    assigned_at: '2026-11-20T08:00:00.000Z',
    report_card_url: 'https://acme.example/report_cards/9' };
}
function userCreated(id) {
  return { id, type: 'user.created', occurred_at: '2026-11-28T09:00:00.000Z', user: USER };
}
function termSearched(id) {
  return { id, type: 'term.searched', occurred_at: '2026-11-28T09:05:00.000Z',
    user: { id: 'u-18' }, term: 'objection handling', results_count: 3 };
}

let srv;  // the server most tests share
let seq = 0;
const uniq = (prefix) => `${prefix}-${process.pid}-${++seq}`;

// ---- helpers ----
// The API's one error shape: {"error":{"code","message","fields":[{"path","message"}]}}.
function expectError(res, status, { code, path } = {}) {
  expectStatus(res, status);
  const e = res.json && res.json.error;
  assert.ok(e && typeof e === 'object', `no error object in ${describeRes(res)}`);
  assert.equal(typeof e.code, 'string', `error.code: ${res.text}`);
  assert.ok(e.code.length > 0);
  assert.equal(typeof e.message, 'string', `error.message: ${res.text}`);
  assert.ok(Array.isArray(e.fields), `error.fields must be an array: ${res.text}`);
  for (const f of e.fields) {
    assert.equal(typeof f.path, 'string');
    assert.equal(typeof f.message, 'string');
  }
  if (code !== undefined) assert.equal(e.code, code, res.text);
  if (path !== undefined) {
    assert.ok(e.fields.some((f) => f.path === path),
      `expected a field error at ${JSON.stringify(path)}: ${res.text}`);
  }
  return e;
}

async function createOrg(name = uniq('Org')) {
  const res = await srv.request('POST', '/v1/orgs', { key: srv.adminKey,
    json: { name, platform_url: 'https://acme.example' } });
  expectStatus(res, 201);
  return { id: res.json.id, key: res.json.api_key, view: res.json };
}

async function createSub(key, body) {
  const res = await srv.request('POST', '/v1/subscriptions', { key, json: body });
  expectStatus(res, 201);
  return res.json;
}

async function ingest(key, body) {
  return srv.request('POST', '/v1/events', { key, json: body });
}

async function ingestOk(key, body) {
  const res = await ingest(key, body);
  expectStatus(res, 202);
  const events = Array.isArray(body) ? body : [body];
  assert.deepEqual(res.json, { accepted: events.map((e) => e.id) });
  return res.json;
}

// Every delivery of a subscription, following next_cursor (bounded).
async function allDeliveries(server, key, subId, query = '') {
  const out = [];
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const res = await server.request('GET', `/v1/subscriptions/${subId}/deliveries?limit=500` +
      (query ? `&${query}` : '') + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''),
    { key });
    expectStatus(res, 200);
    assert.ok(Array.isArray(res.json.data), res.text);
    out.push(...res.json.data);
    if (!res.json.next_cursor) return out;
    cursor = res.json.next_cursor;
  }
  throw new Error('more than 100 pages of deliveries');
}

const ids = (deliveries) => deliveries.map((d) => d.event_id).sort();

function assertWaiting(deliveries) {
  for (const d of deliveries) {
    assert.ok(WAITING.has(d.state), `delivery ${d.id} of ${d.event_id} is ${d.state}`);
  }
}

before(async () => {
  srv = await PuntServer.start();
});

after(async () => {
  if (srv) await srv.dispose();
  await killAll();
});

describe('meta routes', () => {
  it('GET /healthz answers 200 without a key', async () => {
    const res = await srv.request('GET', '/healthz');
    expectStatus(res, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  it('GET /v1/event-types lists the 13 types, each with a JSON schema', async () => {
    const res = await srv.request('GET', '/v1/event-types');
    expectStatus(res, 200);
    const types = res.json.data;
    assert.equal(types.length, 13);
    assert.deepEqual(types.map((t) => t.name).sort(), [...USER_TYPES, ...LEARNING_TYPES].sort());
    for (const t of types) {
      assert.equal(typeof t.display_name, 'string');
      assert.equal(t.family, USER_TYPES.includes(t.name) ? 'user' : 'learning', t.name);
      assert.equal(typeof t.schema, 'object', t.name);
      assert.equal(t.schema.type, 'object', t.name);
      for (const f of ['id', 'type', 'occurred_at', 'user']) {
        assert.ok(t.schema.required.includes(f), `${t.name} schema requires ${f}`);
      }
      if (t.family === 'learning') assert.equal(typeof t.xapi.verb, 'string', t.name);
    }
    const completed = types.find((t) => t.name === 'lesson.completed');
    assert.ok(completed.schema.required.includes('lesson'));
  });
});

describe('organisations', () => {
  let org;

  it('POST /v1/orgs with the admin key creates an org and returns its API key once', async () => {
    const res = await srv.request('POST', '/v1/orgs', { key: srv.adminKey,
      json: { name: 'Acme Learning', platform_url: 'https://acme.example' } });
    expectStatus(res, 201);
    assert.match(res.json.id, /^org_/);
    assert.equal(res.json.name, 'Acme Learning');
    assert.equal(res.json.platform_url, 'https://acme.example');
    assert.equal(res.json.mbox_opt_in, false);
    assert.equal(typeof res.json.api_key, 'string');
    assert.ok(res.json.api_key.length >= 20);
    org = { id: res.json.id, key: res.json.api_key };
  });

  it('GET /v1/orgs/{id} with the admin key and with its own key; the key is not shown again',
    async () => {
      for (const key of [srv.adminKey, org.key]) {
        const res = await srv.request('GET', `/v1/orgs/${org.id}`, { key });
        expectStatus(res, 200);
        assert.equal(res.json.id, org.id);
        assert.equal(res.json.name, 'Acme Learning');
        assert.equal(res.json.api_key, undefined);
        assert.ok(!res.text.includes(org.key));
      }
    });

  it('PATCH /v1/orgs/{id} with the admin key and with its own key', async () => {
    let res = await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: srv.adminKey,
      json: { name: 'Acme Learning EMEA' } });
    expectStatus(res, 200);
    assert.equal(res.json.name, 'Acme Learning EMEA');
    res = await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: org.key,
      json: { mbox_opt_in: true, platform_url: 'https://learn.acme.example' } });
    expectStatus(res, 200);
    assert.equal(res.json.name, 'Acme Learning EMEA');
    assert.equal(res.json.mbox_opt_in, true);
    assert.equal(res.json.platform_url, 'https://learn.acme.example');
    res = await srv.request('GET', `/v1/orgs/${org.id}`, { key: srv.adminKey });
    assert.equal(res.json.mbox_opt_in, true);
    assert.equal(res.json.name, 'Acme Learning EMEA');
    // Scheme and host are case-insensitive (HTTPS:// was refused), and the
    // URL is the base of statement ids compared as text: kept in lower case.
    res = await srv.request(
        'PATCH', `/v1/orgs/${org.id}`,
        {key: org.key, json: {platform_url: 'HTTPS://Learn.Acme.example/Path'}});
    expectStatus(res, 200);
    assert.equal(res.json.platform_url, 'https://learn.acme.example/Path');
    res = await srv.request(
        'PATCH', `/v1/orgs/${org.id}`,
        {key: org.key, json: {platform_url: 'https://learn.acme.example'}});
    expectStatus(res, 200);
  });

  it('another org\'s key cannot read or change it (404); an unknown id is 404', async () => {
    const other = await createOrg();
    expectError(await srv.request('GET', `/v1/orgs/${org.id}`, { key: other.key }), 404);
    expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: other.key,
      json: { name: 'hijacked' } }), 404);
    expectError(await srv.request('GET', '/v1/orgs/org_doesnotexist', { key: srv.adminKey }), 404);
    const res = await srv.request('GET', `/v1/orgs/${org.id}`, { key: org.key });
    assert.equal(res.json.name, 'Acme Learning EMEA');
  });

  it('POST /v1/orgs needs the admin key: none, a wrong one and an org key are 401', async () => {
    const json = { name: 'x', platform_url: 'https://x.example' };
    expectError(await srv.request('POST', '/v1/orgs', { json }), 401);
    expectError(await srv.request('POST', '/v1/orgs', { json, key: 'punt_wrong_key_0123456789abcdef' }), 401);
    expectError(await srv.request('POST', '/v1/orgs', { json, key: org.key }), 401);
    expectError(await srv.request('POST', '/v1/orgs', { json,
      headers: { authorization: `Basic ${srv.adminKey}` } }), 401);
  });

  it('GET and PATCH /v1/orgs/{id} without a key or with a wrong key are 401', async () => {
    expectError(await srv.request('GET', `/v1/orgs/${org.id}`), 401);
    expectError(await srv.request('GET', `/v1/orgs/${org.id}`, { key: 'punt_nope' }), 401);
    expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { json: { name: 'y' } }), 401);
    expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: 'punt_nope',
      json: { name: 'y' } }), 401);
  });

  it('invalid org bodies: 400 for malformed JSON, 415 for another type, 422 with paths',
    async () => {
      const admin = srv.adminKey;
      expectError(await srv.request('POST', '/v1/orgs', { key: admin, body: '{"name": ',
        contentType: 'application/json' }), 400);
      expectError(await srv.request('POST', '/v1/orgs', { key: admin, body: '["a"]',
        contentType: 'application/json' }), 400);
      expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: admin, body: '{,}',
        contentType: 'application/json' }), 400);
      expectError(await srv.request('POST', '/v1/orgs', { key: admin,
        body: '{"name":"x","platform_url":"https://x.example"}', contentType: 'text/plain' }), 415);
      expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: admin,
        body: 'name=x', contentType: 'application/x-www-form-urlencoded' }), 415);
      expectError(await srv.request('POST', '/v1/orgs', { key: admin, json: {} }), 422,
        { code: 'invalid', path: '/name' });
      const e = expectError(await srv.request('POST', '/v1/orgs', { key: admin,
        json: { name: 5, platform_url: 'ftp://x.example', colour: 'red' } }), 422);
      for (const p of ['/name', '/platform_url', '/colour']) {
        assert.ok(e.fields.some((f) => f.path === p), `${p} in ${JSON.stringify(e)}`);
      }
      expectError(await srv.request('PATCH', `/v1/orgs/${org.id}`, { key: admin,
        json: { mbox_opt_in: 'yes' } }), 422, { path: '/mbox_opt_in' });
      // platform_url goes into every statement (actor homePage, activity ids):
      // credentials in it would go to every LRS.
      for (const url of ['https://user:pw@acme.example', 'https://user@acme.example/']) {
        expectError(
            await srv.request(
                'PATCH', `/v1/orgs/${org.id}`, {key: admin, json: {platform_url: url}}),
            422, {path: '/platform_url'});
        expectError(
            await srv.request(
                'POST', '/v1/orgs', {key: admin, json: {name: 'x', platform_url: url}}),
            422, {path: '/platform_url'});
      }
      const res = await srv.request('GET', `/v1/orgs/${org.id}`, { key: admin });
      assert.equal(res.json.mbox_opt_in, true, 'a refused PATCH changed nothing');
    });
});

describe('subscriptions', () => {
  let org;
  let webhook;
  let webhookSecret;
  let xapi;

  before(async () => {
    org = await createOrg();
  });

  it('POST a webhook subscription: 201 with a whsec_ secret shown once, token masked',
    async () => {
      const res = await srv.request('POST', '/v1/subscriptions', { key: org.key,
        json: { kind: 'webhook', url: HOOK_URL, events: ['*'], token: WEBHOOK_TOKEN,
          description: 'all events' } });
      expectStatus(res, 201);
      webhook = res.json;
      assert.match(webhook.id, /^sub_/);
      assert.equal(webhook.kind, 'webhook');
      assert.equal(webhook.url, HOOK_URL);
      assert.deepEqual(webhook.events, ['*']);
      assert.equal(webhook.enabled, true);
      assert.equal(webhook.description, 'all events');
      assert.equal(webhook.health.state, 'healthy', JSON.stringify(webhook.health));
      assert.match(webhook.secret, /^whsec_[A-Za-z0-9+/=]{20,}$/);
      webhookSecret = webhook.secret;
      assert.equal(typeof webhook.token, 'string');
      assert.notEqual(webhook.token, WEBHOOK_TOKEN);
      assert.ok(webhook.token.includes('****'), webhook.token);
      assert.ok(!res.text.includes('hook-token-5f1c2d9e8a7b'));
    });

  it('GET never shows the webhook secret again, nor the token', async () => {
    const res = await srv.request('GET', `/v1/subscriptions/${webhook.id}`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.id, webhook.id);
    assert.equal(res.json.secret, undefined);
    assert.ok(!res.text.includes(webhookSecret));
    assert.ok(!res.text.includes(webhookSecret.slice('whsec_'.length)));
    assert.ok(!res.text.includes('hook-token-5f1c2d9e8a7b'));
    assert.equal(res.json.token, webhook.token);
  });

  it('POST an xAPI subscription: the URL gets /statements, a URL-safe token is accepted and masked',
    async () => {
      const res = await srv.request('POST', '/v1/subscriptions', { key: org.key,
        json: { kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE,
          events: ['lesson.completed', 'question.answered'] } });
      expectStatus(res, 201);
      xapi = res.json;
      assert.equal(xapi.kind, 'xapi');
      assert.equal(xapi.url, 'http://127.0.0.1:9/xapi/statements');
      assert.deepEqual(xapi.events, ['lesson.completed', 'question.answered']);
      assert.equal(xapi.xapi_version, '1.0.3');
      assert.equal(xapi.secret, undefined, 'an xAPI subscription has no signing secret');
      assert.ok(xapi.token.includes('****'), xapi.token);
      for (const s of [TOKEN_URLSAFE, TOKEN_STANDARD, TOKEN_STANDARD.replace(/=+$/, ''),
        LRS_SECRET, LRS_PLAIN]) {
        assert.ok(!res.text.includes(s), `the answer holds ${s}: ${res.text}`);
      }
    });

  it('POST an xAPI subscription with lrs_key and lrs_secret: the same token, masked alike',
    async () => {
      const res = await srv.request('POST', '/v1/subscriptions', { key: org.key,
        json: { kind: 'xapi', url: 'http://127.0.0.1:9/lrs/xAPI/', lrs_key: 'lrs_key',
          lrs_secret: LRS_SECRET, events: ['*'], xapi_version: '2.0.0' } });
      expectStatus(res, 201);
      assert.equal(res.json.url, 'http://127.0.0.1:9/lrs/xAPI/statements');
      assert.equal(res.json.xapi_version, '2.0.0');
      assert.equal(res.json.token, xapi.token, 'both forms give the same (masked) token');
      assert.ok(!res.text.includes(LRS_SECRET));
      assert.ok(!res.text.includes(TOKEN_STANDARD));
      const again = await createSub(org.key, { kind: 'xapi', events: ['term.searched'],
        url: 'http://127.0.0.1:9/lrs/statements', token: `Basic ${TOKEN_STANDARD}` });
      assert.equal(again.url, 'http://127.0.0.1:9/lrs/statements', 'no second /statements');
      assert.equal(again.token, xapi.token);
    });

  it('GET /v1/subscriptions lists them, without secrets', async () => {
    const res = await srv.request('GET', '/v1/subscriptions', { key: org.key });
    expectStatus(res, 200);
    const listed = res.json.data.map((s) => s.id);
    assert.ok(listed.includes(webhook.id) && listed.includes(xapi.id), res.text);
    assert.ok(res.json.data.every((s) => s.secret === undefined));
    assert.ok(!res.text.includes(webhookSecret));
    assert.ok(!res.text.includes(TOKEN_URLSAFE) && !res.text.includes(TOKEN_STANDARD));
  });

  it('PATCH changes only the fields given and normalises an xAPI URL', async () => {
    let res = await srv.request('PATCH', `/v1/subscriptions/${xapi.id}`, { key: org.key,
      json: { description: 'Learning Locker', url: 'http://127.0.0.1:9/other/' } });
    expectStatus(res, 200);
    assert.equal(res.json.description, 'Learning Locker');
    assert.equal(res.json.url, 'http://127.0.0.1:9/other/statements');
    assert.deepEqual(res.json.events, ['lesson.completed', 'question.answered']);
    assert.equal(res.json.token, xapi.token);
    res = await srv.request('PATCH', `/v1/subscriptions/${xapi.id}`, { key: org.key,
      json: { lrs_key: 'other', lrs_secret: 'another-secret' } });
    expectStatus(res, 200);
    assert.notEqual(res.json.token, xapi.token, 'new credentials, new hint');
    res = await srv.request('GET', `/v1/subscriptions/${xapi.id}`, { key: org.key });
    assert.equal(res.json.url, 'http://127.0.0.1:9/other/statements');
    assert.equal(res.json.description, 'Learning Locker');
    expectError(await srv.request('PATCH', `/v1/subscriptions/${xapi.id}`, { key: org.key,
      json: { kind: 'webhook' } }), 422, { path: '/kind' });
    assert.equal(res.json.batch_size, 100, 'xAPI batches of 100 by default');
    res = await srv.request('PATCH', `/v1/subscriptions/${xapi.id}`, { key: org.key,
      json: { batch_size: 25, max_in_flight: 8 } });
    expectStatus(res, 200);
    assert.equal(res.json.batch_size, 25);
    assert.equal(res.json.max_in_flight, 8);
  });

  it('PATCH with "token": null removes a webhook\'s token; an xAPI one must keep credentials',
     async () => {
       const sub = await createSub(
           org.key,
           {kind: 'webhook', url: HOOK_URL, events: ['*'], token: 'Bearer remove-me-later'});
       assert.ok(sub.token, 'the token is shown masked');
       let res = await srv.request(
           'PATCH', `/v1/subscriptions/${sub.id}`, {key: org.key, json: {token: null}});
       expectStatus(res, 200);
       assert.equal(res.json.token, undefined, res.text);
       res = await srv.request('GET', `/v1/subscriptions/${sub.id}`, {key: org.key});
       assert.equal(res.json.token, undefined, 'removed for good');
       res = await srv.request(
           'PATCH', `/v1/subscriptions/${sub.id}`, {key: org.key, json: {token: 'Bearer again'}});
       expectStatus(res, 200);
       assert.ok(res.json.token, 'a token can be set again');
       expectError(
           await srv.request(
               'PATCH', `/v1/subscriptions/${xapi.id}`, {key: org.key, json: {token: null}}),
           422, {path: '/token'});
       res = await srv.request('GET', `/v1/subscriptions/${xapi.id}`, {key: org.key});
       assert.ok(res.json.token, 'the xAPI subscription kept its credentials');
     });

  it('PATCH that changes nothing writes nothing: updated_at stays', async () => {
    const sub = await createSub(
        org.key, {kind: 'webhook', url: HOOK_URL, events: ['*'], description: 'as it was'});
    await new Promise((r) => setTimeout(r, 5));  // a write now would move updated_at
    for (const json of [{}, {description: 'as it was', enabled: true, events: ['*']}]) {
      const res = await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, {key: org.key, json});
      expectStatus(res, 200);
      assert.equal(res.json.updated_at, sub.updated_at, JSON.stringify(json));
      assert.equal(res.json.description, 'as it was');
    }
    const res = await srv.request(
        'PATCH', `/v1/subscriptions/${sub.id}`, {key: org.key, json: {description: 'changed'}});
    expectStatus(res, 200);
    assert.notEqual(res.json.updated_at, sub.updated_at, 'a change moves it');
  });

  it('DELETE removes a subscription: 204, then 404', async () => {
    const sub = await createSub(org.key, { kind: 'webhook', url: HOOK_URL, events: ['user.created'] });
    const res = await srv.request('DELETE', `/v1/subscriptions/${sub.id}`, { key: org.key });
    expectStatus(res, 204);
    assert.equal(res.text, '');
    expectError(await srv.request('GET', `/v1/subscriptions/${sub.id}`, { key: org.key }), 404);
    expectError(await srv.request('DELETE', `/v1/subscriptions/${sub.id}`, { key: org.key }), 404);
    expectError(await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: org.key,
      json: { enabled: false } }), 404);
    const list = await srv.request('GET', '/v1/subscriptions', { key: org.key });
    assert.ok(!list.json.data.some((s) => s.id === sub.id));
  });

  it('refuses invalid subscriptions with 422 and the field\'s path', async () => {
    const cases = [
      [{url: HOOK_URL, events: ['*']}, '/kind'],
      [{kind: 'carrier-pigeon', url: HOOK_URL, events: ['*']}, '/kind'],
      [{kind: 'webhook', events: ['*']}, '/url'],
      [{kind: 'webhook', url: HOOK_URL}, '/events'],
      [{kind: 'webhook', url: 'ftp://127.0.0.1/hook', events: ['*']}, '/url'],
      [{kind: 'webhook', url: 'not a url', events: ['*']}, '/url'],
      // http:// only inside --allow-destination ranges; .invalid never resolves.
      [{kind: 'webhook', url: 'http://punt-test.invalid/hook', events: ['*']}, '/url'],
      [
        {
          kind: 'xapi',
          url: 'http://punt-test.invalid/xapi',
          token: TOKEN_URLSAFE,
          events: ['lesson.completed']
        },
        '/url'
      ],
      [{kind: 'webhook', url: 'http://user:pw@127.0.0.1:9/hook', events: ['*']}, '/url'],
      [{kind: 'webhook', url: HOOK_URL, events: ['lesson.exploded']}, '/events/0'],
      [{kind: 'webhook', url: HOOK_URL, events: []}, '/events'],
      [{kind: 'webhook', url: HOOK_URL, events: 'user.created'}, '/events'],
      [{kind: 'webhook', url: HOOK_URL, events: ['user.created', 7]}, '/events/1'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*', 'user.created']}, '/events/0'],
      [{kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE, events: ['user.created']}, '/events/0'],
      [{kind: 'xapi', url: XAPI_URL, events: ['lesson.completed']}, '/token'],
      // base64 of "no-colon-here": not key:secret.
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          token: Buffer.from('no-colon-here').toString('base64'),
          events: ['lesson.completed']
        },
        '/token'
      ],
      [
        {kind: 'xapi', url: XAPI_URL, token: '!!not base64!!', events: ['lesson.completed']},
        '/token'
      ],
      [
        {kind: 'xapi', url: XAPI_URL, lrs_key: 'lrs_key', events: ['lesson.completed']},
        '/lrs_secret'
      ],
      // The part at fault is named: these pointed at /lrs_key.
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          lrs_key: 'lrs_key',
          lrs_secret: '',
          events: ['lesson.completed']
        },
        '/lrs_secret'
      ],
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          lrs_key: 'lrs_key',
          lrs_secret: 'p\u0001w',
          events: ['lesson.completed']
        },
        '/lrs_secret'
      ],
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          lrs_key: 'k\u0001',
          lrs_secret: 'pw',
          events: ['lesson.completed']
        },
        '/lrs_key'
      ],
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          token: TOKEN_URLSAFE,
          xapi_version: '0.9',
          events: ['lesson.completed']
        },
        '/xapi_version'
      ],
      [
        {kind: 'xapi', url: `${XAPI_URL}?a=b`, token: TOKEN_URLSAFE, events: ['lesson.completed']},
        '/url'
      ],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], lrs_key: 'k', lrs_secret: 's'}, '/lrs_key'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], enabled: 'yes'}, '/enabled'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], colour: 'red'}, '/colour'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], description: 42}, '/description'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], max_in_flight: 0}, '/max_in_flight'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], max_in_flight: 65}, '/max_in_flight'],
      [{kind: 'webhook', url: HOOK_URL, events: ['*'], batch_size: 10}, '/batch_size'],
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          token: TOKEN_URLSAFE,
          batch_size: 101,
          events: ['lesson.completed']
        },
        '/batch_size'
      ],
      [
        {
          kind: 'xapi',
          url: XAPI_URL,
          token: TOKEN_URLSAFE,
          batch_size: 2.5,
          events: ['lesson.completed']
        },
        '/batch_size'
      ],
    ];
    const before = (await srv.request('GET', '/v1/subscriptions', { key: org.key })).json.data.length;
    for (const [json, path] of cases) {
      const res = await srv.request('POST', '/v1/subscriptions', { key: org.key, json });
      assert.equal(res.status, 422, `${JSON.stringify(json)} → ${describeRes(res)}`);
      expectError(res, 422, { code: 'invalid', path });
    }
    for (const [json, path] of [[{ enabled: 'no' }, '/enabled'], [{ events: [] }, '/events'],
      [{ url: 'ftp://127.0.0.1/x' }, '/url'], [{ token: 'bm9jb2xvbg' }, '/token']]) {
      expectError(await srv.request('PATCH', `/v1/subscriptions/${xapi.id}`, { key: org.key, json }),
        422, { path });
    }
    const after = (await srv.request('GET', '/v1/subscriptions', { key: org.key })).json.data.length;
    assert.equal(after, before, 'no refused subscription was stored');
  });

  // Regression: limits counted bytes, so 600 characters of "é" (1,200 bytes) were
  // "more than 1024 characters", and a 150-character name "more than 200".
  it('length limits count characters, not bytes (description 1,024; org name 200)', async () => {
    const long = (n) => '\u00e9'.repeat(n);  // two bytes each in UTF-8
    let res = await srv.request('POST', '/v1/subscriptions', { key: org.key,
      json: { kind: 'webhook', url: HOOK_URL, events: ['*'], description: long(1024) } });
    expectStatus(res, 201);
    assert.equal(res.json.description, long(1024));
    res = await srv.request('PATCH', `/v1/subscriptions/${res.json.id}`, { key: org.key,
      json: { description: long(1025) } });
    expectError(res, 422, { path: '/description' });
    res = await srv.request('POST', '/v1/orgs', { key: srv.adminKey,
      json: { name: long(200), platform_url: 'https://acme.example' } });
    expectStatus(res, 201);
    assert.equal(res.json.name, long(200));
    expectError(await srv.request('PATCH', `/v1/orgs/${res.json.id}`, { key: srv.adminKey,
      json: { name: long(201) } }), 422, { path: '/name' });
  });

  it('refuses malformed JSON (400), a non-object (400) and other content types (415)', async () => {
    const key = org.key;
    for (const [method, path] of [['POST', '/v1/subscriptions'],
      ['PATCH', `/v1/subscriptions/${webhook.id}`]]) {
      expectError(await srv.request(method, path, { key, body: '{"kind": "webhook",',
        contentType: 'application/json' }), 400);
      expectError(await srv.request(method, path, { key, body: '"webhook"',
        contentType: 'application/json' }), 400);
      expectError(await srv.request(method, path, { key, body: '{"enabled":false}',
        contentType: 'text/plain' }), 415);
      expectError(await srv.request(method, path, { key, body: '{"enabled":false}' }), 415);
    }
    const res = await srv.request('GET', `/v1/subscriptions/${webhook.id}`, { key });
    assert.equal(res.json.enabled, true);
  });

  it('every subscription route needs an org key with manage scope: 401 otherwise', async () => {
    const routes = [['POST', '/v1/subscriptions', { kind: 'webhook', url: HOOK_URL, events: ['*'] }],
      ['GET', '/v1/subscriptions'], ['GET', `/v1/subscriptions/${webhook.id}`],
      ['PATCH', `/v1/subscriptions/${webhook.id}`, { enabled: false }],
      ['DELETE', `/v1/subscriptions/${webhook.id}`],
      ['GET', `/v1/subscriptions/${webhook.id}/deliveries`], ['GET', '/v1/deliveries/1']];
    for (const [method, path, json] of routes) {
      for (const key of [undefined, 'punt_wrong_key_0123456789abcdef', srv.adminKey]) {
        const res = await srv.request(method, path, { key, json });
        assert.equal(res.status, 401, `${method} ${path} with key ${key} → ${describeRes(res)}`);
        expectError(res, 401);
      }
    }
    const res = await srv.request('GET', `/v1/subscriptions/${webhook.id}`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.enabled, true, 'nothing changed');
  });
});

describe('events and deliveries', () => {
  let org;
  let hookAll;      // webhook, ["*"]: every event
  let xapiAll;      // xAPI, ["*"]: learning events only
  let xapiLesson;   // xAPI, ["lesson.completed"]
  const posted = { all: [], learning: [], lesson: [] };

  function record(events) {
    for (const e of events) {
      posted.all.push(e.id);
      if (LEARNING_TYPES.includes(e.type)) posted.learning.push(e.id);
      if (e.type === 'lesson.completed') posted.lesson.push(e.id);
    }
  }

  async function assertCounts(what) {
    assert.deepEqual(ids(await allDeliveries(srv, org.key, hookAll.id)), [...posted.all].sort(),
      `${what}: webhook deliveries`);
    assert.deepEqual(ids(await allDeliveries(srv, org.key, xapiAll.id)),
      [...posted.learning].sort(), `${what}: xAPI deliveries`);
    assert.deepEqual(ids(await allDeliveries(srv, org.key, xapiLesson.id)),
      [...posted.lesson].sort(), `${what}: lesson.completed deliveries`);
  }

  before(async () => {
    org = await createOrg();
    hookAll = await createSub(org.key, { kind: 'webhook', url: HOOK_URL, events: ['*'] });
    xapiAll = await createSub(org.key, { kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE,
      events: ['*'] });
    xapiLesson = await createSub(org.key, { kind: 'xapi', url: XAPI_URL, lrs_key: 'lrs_key',
      lrs_secret: LRS_SECRET, events: ['lesson.completed'] });
  });

  it('POST one event: 202 {accepted:[id]}', async () => {
    const event = lessonCompleted('evt-8812');
    await ingestOk(org.key, event);
    record([event]);
  });

  it('POST an array: 202 with every id, in order', async () => {
    const events = [userCreated('evt-9001'), termSearched('evt-9002'), lessonCompleted('evt-9003'),
      { ...userCreated('evt-9004'), type: 'user.updated', changes: { name: ['J Doe', 'Jane Doe'] } },
      { id: 'evt-9005', type: 'question.answered', occurred_at: '2026-11-28T09:10:00+02:00',
        user: { id: 'u-17' }, lesson: { id: 'l-77', title: 'Objection handling' },
        question: { id: 'q-5', text: 'Which?', interaction_type: 'choice',
          choices: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }], correct_responses: ['a'] },
        response: ['a'], correct: true, x_extra: { kept: true } }];
    await ingestOk(org.key, events);
    record(events);
  });

  it('fans out one pending delivery per matching subscription: xAPI gets learning events only',
    async () => {
      await assertCounts('after two posts');
      const hook = await allDeliveries(srv, org.key, hookAll.id);
      assertWaiting(hook);
      const byEvent = Object.fromEntries(hook.map((d) => [d.event_id, d]));
      assert.equal(byEvent['evt-9001'].event_type, 'user.created');
      assert.equal(byEvent['evt-8812'].event_type, 'lesson.completed');
      for (const d of hook) {
        assert.equal(d.subscription_id, hookAll.id);
        assert.match(d.id, /^\d+$/);
        assert.equal(typeof d.attempt_count, 'number');
        assert.ok(!Number.isNaN(Date.parse(d.created_at)));
      }
      const xapi = await allDeliveries(srv, org.key, xapiAll.id);
      assertWaiting(xapi);
      assert.ok(xapi.every((d) => LEARNING_TYPES.includes(d.event_type)));
    });

  it('GET /v1/deliveries/{id} returns one delivery with its attempts', async () => {
    const [first] = await allDeliveries(srv, org.key, xapiLesson.id);
    const res = await srv.request('GET', `/v1/deliveries/${first.id}`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.id, first.id);
    assert.equal(res.json.subscription_id, xapiLesson.id);
    assert.equal(res.json.event_id, first.event_id);
    assert.ok(WAITING.has(res.json.state), res.text);
    assert.ok(Array.isArray(res.json.attempts), res.text);
    expectError(await srv.request('GET', '/v1/deliveries/999999999', { key: org.key }), 404);
    expectError(await srv.request('GET', '/v1/deliveries/not-a-number', { key: org.key }), 404);
  });

  it('pages deliveries with limit and cursor, and filters by state', async () => {
    const all = await allDeliveries(srv, org.key, hookAll.id);
    const paged = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const res = await srv.request('GET', `/v1/subscriptions/${hookAll.id}/deliveries?limit=2` +
        (cursor ? `&cursor=${cursor}` : ''), { key: org.key });
      expectStatus(res, 200);
      assert.ok(res.json.data.length <= 2);
      paged.push(...res.json.data);
      if (!res.json.next_cursor) break;
      cursor = res.json.next_cursor;
    }
    assert.deepEqual(paged.map((d) => d.id), all.map((d) => d.id));
    const held = await allDeliveries(srv, org.key, hookAll.id, 'state=held');
    assert.equal(held.length, 0);
    const delivered = await allDeliveries(srv, org.key, hookAll.id, 'state=delivered');
    assert.equal(delivered.length, 0, 'nothing can be delivered to 127.0.0.1:9');
    for (const [query, path] of [['state=lost', '/state'], ['limit=0', '/limit'],
      ['limit=501', '/limit'], ['limit=ten', '/limit'], ['cursor=-5', '/cursor'],
      ['cursor=abc', '/cursor']]) {
      expectError(await srv.request('GET', `/v1/subscriptions/${hookAll.id}/deliveries?${query}`,
        { key: org.key }), 400, { path });
    }
    expectError(await srv.request('GET', '/v1/subscriptions/sub_nope/deliveries',
      { key: org.key }), 404);
  });

  it('a repeated event id is answered 202 and not stored twice', async () => {
    await ingestOk(org.key, lessonCompleted('evt-8812'));
    await ingestOk(org.key, [userCreated('evt-9001'), { ...lessonCompleted('evt-9003'),
      score_percent: 10 }]);
    // The same new id twice in one array: stored once.
    await ingestOk(org.key, [termSearched('evt-twice'), termSearched('evt-twice')]);
    record([termSearched('evt-twice')]);
    await assertCounts('after repeats');
  });

  it('one bad event in an array stores nothing of the array (422 at /3/user/id)', async () => {
    const events = [userCreated('evt-a0'), lessonCompleted('evt-a1'), termSearched('evt-a2'),
      { ...lessonCompleted('evt-a3'), user: { name: 'no id' } }, userCreated('evt-a4')];
    const res = await ingest(org.key, events);
    const e = expectError(res, 422, { code: 'invalid', path: '/3/user/id' });
    assert.ok(e.fields.every((f) => f.path.startsWith('/3/')), res.text);
    await assertCounts('after the refused array');
    // The good ones were not remembered either: sent again alone, they are stored.
    const good = events.filter((ev) => ev.id !== 'evt-a3');
    await ingestOk(org.key, good);
    record(good);
    await assertCounts('after the good ones');
  });

  it('refuses invalid events with 422 and JSON Pointer paths from the body root', async () => {
    const cases = [
      [{ ...userCreated('bad-1'), user: {} }, '/user/id'],
      [{ ...userCreated('bad-2'), type: 'user.teleported' }, '/type'],
      [{ ...userCreated('bad-3'), occurred_at: 'yesterday' }, '/occurred_at'],
      [{ ...lessonCompleted('bad-4'), lesson: { id: 'l-1' } }, '/lesson/title'],
      [{ ...lessonCompleted('bad-5'), score_percent: 101 }, '/score_percent'],
      [{ ...userCreated('bad-6'), id: 17 }, '/id'],
      [[userCreated('bad-7'), { ...userCreated('bad-8'), type: 'nope' }], '/1/type'],
      [[userCreated('bad-9'), userCreated('bad-10'), userCreated('bad-11'),
        { ...userCreated('bad-12'), user: { id: 12 } }], '/3/user/id'],
      [[], ''],
    ];
    for (const [body, path] of cases) {
      const res = await ingest(org.key, body);
      assert.equal(res.status, 422, `${JSON.stringify(body).slice(0, 200)} → ${describeRes(res)}`);
      expectError(res, 422, { path });
    }
    await assertCounts('after invalid events');
  });

  it('refuses malformed JSON and non-events (400), other content types (415)', async () => {
    // Also JSON that parses but could not be kept as sent: a key twice in an
    // object (one would win silently), an integer past 64 bits (rounded).
    const valid = JSON.stringify(userCreated('evt-400'));
    const twice = valid.replace('{', '{"id":"evt-400-first",');
    const huge = valid.replace(/}$/, ',"n":123456789012345678901234567890}');
    for (const body of ['{"id": "x",', 'not json', '42', '"evt"', 'null', '[[[', '', twice, huge]) {
      const res = await srv.request('POST', '/v1/events', { key: org.key, body,
        contentType: 'application/json' });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${describeRes(res)}`);
      expectError(res, 400);
    }
    const text = JSON.stringify(userCreated('evt-415'));
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded',
      'application/xml', undefined]) {
      expectError(await srv.request('POST', '/v1/events', { key: org.key, body: text,
        contentType }), 415);
    }
    expectStatus(await srv.request('POST', '/v1/events', { key: org.key, body: text,
      contentType: 'application/json; charset=utf-8' }), 202);
    record([userCreated('evt-415')]);
    await assertCounts('after bad bodies');
  });

  // Regression: an event nested 32 levels was taken alone but refused inside
  // an array, whose brackets counted as a level of the event.
  it('an event nested 32 levels is taken alone and in an array; 33 levels is 400 either way',
    async () => {
      // The event is level 1, user 2, custom_fields 3, and objects nest in
      // custom_fields down to level `levels`.
      const nestedUser = (id, levels) => {
        let value = 1;
        for (let level = levels; level >= 3; level--) value = { a: value };
        return { ...userCreated(id), user: { ...USER, custom_fields: value } };
      };
      const alone = nestedUser('evt-deep-1', 32);
      const inArray = [userCreated('evt-deep-2'), nestedUser('evt-deep-3', 32)];
      await ingestOk(org.key, alone);
      await ingestOk(org.key, inArray);
      record([alone, ...inArray]);
      expectError(await ingest(org.key, nestedUser('evt-deep-4', 33)), 400);
      expectError(await ingest(org.key, [userCreated('evt-deep-5'), nestedUser('evt-deep-6', 33)]),
        400);
      await assertCounts('after the deep events');
    });

  it('refuses a body over 1 MiB and an array of 1,001 events with 413', async () => {
    const big = { ...userCreated('evt-big'), padding: 'x'.repeat(1024 * 1024 + 1) };
    expectError(await ingest(org.key, big), 413);
    const many = Array.from({ length: 1001 }, (_, i) => userCreated(`evt-many-${i}`));
    assert.ok(JSON.stringify(many).length < 1024 * 1024, 'the array itself is under 1 MiB');
    expectError(await ingest(org.key, many), 413);
    // 1,000 is fine.
    const thousand = many.slice(0, 1000);
    await ingestOk(org.key, thousand);
    record(thousand);
    await assertCounts('after the big bodies');
  });

  it('POST /v1/events needs an org key: none, a wrong one or the admin key is 401', async () => {
    for (const key of [undefined, '', 'punt_wrong_key_0123456789abcdef', srv.adminKey]) {
      const res = await ingest(key, userCreated('evt-401'));
      assert.equal(res.status, 401, `key ${key} → ${describeRes(res)}`);
      expectError(res, 401);
    }
    await assertCounts('after unauthorised posts');
  });

  it('one org cannot see another org\'s subscriptions or deliveries (404)', async () => {
    const other = await createOrg();
    const [delivery] = await allDeliveries(srv, org.key, hookAll.id);
    const key = other.key;
    expectError(await srv.request('GET', `/v1/subscriptions/${hookAll.id}`, { key }), 404);
    expectError(await srv.request('PATCH', `/v1/subscriptions/${hookAll.id}`, { key,
      json: { enabled: false } }), 404);
    expectError(await srv.request('DELETE', `/v1/subscriptions/${hookAll.id}`, { key }), 404);
    expectError(await srv.request('GET', `/v1/subscriptions/${hookAll.id}/deliveries`, { key }),
      404);
    expectError(await srv.request('GET', `/v1/deliveries/${delivery.id}`, { key }), 404);
    const list = await srv.request('GET', '/v1/subscriptions', { key });
    expectStatus(list, 200);
    assert.deepEqual(list.json.data, []);
    // The other org's events reach only its own subscriptions.
    const mine = await createSub(key, { kind: 'webhook', url: HOOK_URL, events: ['*'] });
    await ingestOk(key, [lessonCompleted('evt-8812'), userCreated('evt-other-1')]);
    assert.deepEqual(ids(await allDeliveries(srv, key, mine.id)), ['evt-8812', 'evt-other-1']);
    // ... and the same event id in another org is another event.
    const res = await srv.request('GET', `/v1/subscriptions/${hookAll.id}`, { key: org.key });
    expectStatus(res, 200);
    assert.equal(res.json.enabled, true);
    await assertCounts('after the other org');
  });

  it('a subscription created disabled holds its deliveries; enabling makes them pending', async () => {
    const held = await createSub(org.key, { kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE,
      events: ['lesson.completed', 'term.searched'], enabled: false });
    assert.equal(held.enabled, false);
    assert.equal(held.health.state, 'disabled', JSON.stringify(held.health));
    const events = [lessonCompleted('evt-held-1'), termSearched('evt-held-2'),
      userCreated('evt-held-3')];
    await ingestOk(org.key, events);
    record(events);
    let deliveries = await allDeliveries(srv, org.key, held.id);
    assert.deepEqual(ids(deliveries), ['evt-held-1', 'evt-held-2']);
    for (const d of deliveries) assert.equal(d.state, 'held', JSON.stringify(d));
    assert.equal((await allDeliveries(srv, org.key, held.id, 'state=held')).length, 2);
    const res = await srv.request('PATCH', `/v1/subscriptions/${held.id}`, { key: org.key,
      json: { enabled: true } });
    expectStatus(res, 200);
    assert.equal(res.json.enabled, true);
    deliveries = await allDeliveries(srv, org.key, held.id);
    assert.deepEqual(ids(deliveries), ['evt-held-1', 'evt-held-2']);
    assertWaiting(deliveries);
    assert.equal((await allDeliveries(srv, org.key, held.id, 'state=held')).length, 0);
    await assertCounts('after the held subscription');
  });

  // Regression: PATCH answered with the subscription as the request changed it, not as
  // stored: disabling showed no health.reason, and re-enabling a failing subscription
  // still showed it failing although enabling starts its health afresh.
  it('PATCH enabled answers the subscription as a GET then shows it', async () => {
    const sub = await createSub(org.key, { kind: 'webhook', url: HOOK_URL,
      events: ['term.searched'] });
    const event = termSearched(uniq('evt-patch-view'));
    await ingestOk(org.key, event);
    record([event]);
    const read = async () => {
      const res = await srv.request('GET', `/v1/subscriptions/${sub.id}`, { key: org.key });
      expectStatus(res, 200);
      delete res.json.deliveries;
      return res.json;
    };
    for (let i = 0; i < 100 && (await read()).health.consecutive_failures === 0; ++i) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((await read()).health.consecutive_failures > 0, 'no failed attempt came');
    // Disabled, nothing is attempted: the answer is what a GET shows.
    let res = await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: org.key,
      json: { enabled: false } });
    expectStatus(res, 200);
    assert.deepEqual(res.json, await read(), 'PATCH enabled: false');
    // Enabling resets the health and makes the retrying delivery due at once,
    // so its next failed attempt may move the health before the GET: the
    // answer shows the reset, and the rest as a GET shows it.
    res = await srv.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: org.key,
      json: { enabled: true } });
    expectStatus(res, 200);
    assert.equal(res.json.health.state, 'healthy', JSON.stringify(res.json.health));
    assert.equal(res.json.health.consecutive_failures, 0);
    const { health: _answered, ...answered } = res.json;
    const { health: _read, ...read_back } = await read();
    assert.deepEqual(answered, read_back, 'PATCH enabled: true');
  });
});

describe('routing', () => {
  it('an unknown route is 404', async () => {
    for (const path of ['/nope', '/v1/nope', '/v1/orgs/x/y/z', '/v2/events', '/v1/event-types/x']) {
      const res = await srv.request('GET', path, { key: srv.adminKey });
      assert.equal(res.status, 404, `GET ${path} → ${describeRes(res)}`);
      expectError(res, 404);
    }
  });

  it('a known path with another method is 405 with Allow', async () => {
    for (const [method, path] of [['GET', '/v1/events'], ['PUT', '/v1/events'],
      ['DELETE', '/v1/orgs/org_x'], ['POST', '/healthz'], ['POST', '/v1/deliveries/1'],
      ['PUT', '/v1/subscriptions/sub_x'], ['DELETE', '/v1/event-types'], ['GET', '/v1/orgs']]) {
      const res = await srv.request(method, path, { key: srv.adminKey });
      assert.equal(res.status, 405, `${method} ${path} → ${describeRes(res)}`);
      expectError(res, 405);
      assert.ok(res.headers.get('allow'), `${method} ${path}: no Allow header`);
    }
  });

  it('after all the bad input the server still answers /healthz', async () => {
    const res = await srv.request('GET', '/healthz');
    expectStatus(res, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });
});

describe('secrets at rest, SIGTERM and restart', () => {
  let org;
  let webhook;
  let xapi;

  // Every secret this section gives or gets, and the ways it could be written down.
  function needles() {
    const secret = webhook.secret;
    const rawSecret = Buffer.from(secret.slice('whsec_'.length), 'base64');
    return [
      ['the LRS secret', Buffer.from(LRS_SECRET)],
      ['key:secret', Buffer.from(LRS_PLAIN)],
      ['the URL-safe token', Buffer.from(TOKEN_URLSAFE)],
      ['the standard token', Buffer.from(TOKEN_STANDARD)],
      ['the standard token without padding', Buffer.from(TOKEN_STANDARD.replace(/=+$/, ''))],
      ['the webhook signing secret', Buffer.from(secret)],
      ['the signing secret\'s base64', Buffer.from(secret.slice('whsec_'.length))],
      ['the signing secret\'s bytes', rawSecret],
      ['the webhook token', Buffer.from('hook-token-5f1c2d9e8a7b')],
      ['the org API key', Buffer.from(org.key)],
    ];
  }

  function assertNoSecretsOnDisk(when) {
    const files = srv.dataFiles();
    assert.ok(files.length > 0, 'the data dir holds files');
    assert.ok(files.some((f) => f.bytes.length > 0));
    for (const f of files) {
      for (const [what, needle] of needles()) {
        assert.equal(f.bytes.indexOf(needle), -1, `${when}: ${what} is in ${f.path}`);
      }
    }
  }

  before(async () => {
    org = await createOrg();
    webhook = await createSub(org.key, { kind: 'webhook', url: HOOK_URL, events: ['*'],
      token: WEBHOOK_TOKEN });
    xapi = await createSub(org.key, { kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE,
      events: ['*'] });
    await createSub(org.key, { kind: 'xapi', url: XAPI_URL, lrs_key: 'lrs_key',
      lrs_secret: LRS_SECRET, events: ['lesson.completed'] });
    await createSub(org.key, { kind: 'xapi', url: XAPI_URL, token: TOKEN_STANDARD,
      events: ['lesson.completed'] });
    await ingestOk(org.key, [lessonCompleted('evt-secret-1'), userCreated('evt-secret-2')]);
  });

  it('no LRS secret, token, signing secret or API key is in any file of the data dir',
    async () => {
      assertNoSecretsOnDisk('while running');
    });

  it('SIGTERM stops punt cleanly with exit code 0', async () => {
    const { code, signal } = await srv.stop();
    assert.equal(signal, null, `punt died of ${signal}:\n${srv.tail()}`);
    assert.equal(code, 0, `punt exited with ${code}:\n${srv.tail()}`);
    assert.ok(srv.logs.some((l) => l.includes('punt stopped') || l.includes('punt stopping')),
      srv.tail());
    assertNoSecretsOnDisk('after a clean stop');
  });

  it('a restart on the same data dir serves the same orgs, subscriptions and deliveries',
    async () => {
      await srv.restart();
      expectStatus(await srv.request('GET', '/healthz'), 200);
      const res = await srv.request('GET', `/v1/subscriptions/${xapi.id}`, { key: org.key });
      expectStatus(res, 200);
      assert.equal(res.json.url, 'http://127.0.0.1:9/xapi/statements');
      assert.equal(res.json.token, xapi.token);
      assert.deepEqual(ids(await allDeliveries(srv, org.key, webhook.id)),
        ['evt-secret-1', 'evt-secret-2']);
      assert.deepEqual(ids(await allDeliveries(srv, org.key, xapi.id)), ['evt-secret-1']);
      await ingestOk(org.key, lessonCompleted('evt-secret-3'));
      await ingestOk(org.key, lessonCompleted('evt-secret-1'));  // remembered across restarts
      assert.deepEqual(ids(await allDeliveries(srv, org.key, xapi.id)),
        ['evt-secret-1', 'evt-secret-3']);
      const { code } = await srv.stop();
      assert.equal(code, 0, srv.tail());
      assertNoSecretsOnDisk('after the second stop');
      await srv.restart();  // for the tests that may follow
    });
});

describe('crash safety: kill -9 right after 202', () => {
  let crash;
  after(async () => {
    if (crash) await crash.dispose();
  });

  it('every accepted event\'s deliveries are there after kill -9 and a restart', async () => {
    crash = await PuntServer.start();
    const server = crash;
    const orgRes = await server.request('POST', '/v1/orgs', { key: server.adminKey,
      json: { name: 'Crash Test', platform_url: 'https://crash.example' } });
    expectStatus(orgRes, 201);
    const key = orgRes.json.api_key;
    const subRes = async (json) => {
      const r = await server.request('POST', '/v1/subscriptions', { key, json });
      expectStatus(r, 201);
      return r.json;
    };
    const hook = await subRes({ kind: 'webhook', url: HOOK_URL, events: ['*'] });
    const xapi = await subRes({ kind: 'xapi', url: XAPI_URL, token: TOKEN_URLSAFE, events: ['*'] });

    // 50 events in 5 concurrent requests of 10; kill -9 as soon as the last 202 is in.
    const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 10 }, (_, i) => {
      const id = `evt-crash-${b}-${i}`;
      return i % 3 === 0 ? userCreated(id) : lessonCompleted(id);
    }));
    const answers = await Promise.all(batches.map((events) =>
      server.request('POST', '/v1/events', { key, json: events })));
    const { signal } = await server.kill();
    assert.equal(signal, 'SIGKILL');
    for (const res of answers) expectStatus(res, 202);
    const accepted = answers.flatMap((r) => r.json.accepted);
    assert.equal(accepted.length, 50);
    const learning = batches.flat().filter((e) => e.type !== 'user.created').map((e) => e.id);

    await server.restart();
    const hookDeliveries = await allDeliveries(server, key, hook.id);
    assert.deepEqual(ids(hookDeliveries), [...accepted].sort());
    assertWaiting(hookDeliveries);
    const xapiDeliveries = await allDeliveries(server, key, xapi.id);
    assert.deepEqual(ids(xapiDeliveries), [...learning].sort());
    assertWaiting(xapiDeliveries);
    // Resending after the crash stores nothing twice.
    for (const events of batches) {
      const res = await server.request('POST', '/v1/events', { key, json: events });
      expectStatus(res, 202);
    }
    assert.equal((await allDeliveries(server, key, hook.id)).length, 50);
    const { code } = await server.stop();
    assert.equal(code, 0, server.tail());
  });
});
