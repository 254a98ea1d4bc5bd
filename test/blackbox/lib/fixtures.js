// What the black-box delivery tests share: the LRS credentials of the test
// LRS, the catalog's event types and golden events, fresh unique events,
// statement ids as punt makes them, and the org/ingest calls.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { expectStatus } = require('./api-helpers');

const LRS_KEY = 'lrs_key';
const LRS_SECRET = 'p@ss>w?rd~~';
const TOKEN_STANDARD = 'bHJzX2tleTpwQHNzPnc/cmR+fg==';  // base64("lrs_key:p@ss>w?rd~~")
const TOKEN_URLSAFE = 'bHJzX2tleTpwQHNzPnc_cmR-fg';     // the same, URL-safe and unpadded
const AUTH_STANDARD = `Basic ${TOKEN_STANDARD}`;

const LEARNING_TYPES = ['lesson.completed', 'lesson.liked', 'lesson.disliked', 'lesson.viewed',
  'section.viewed', 'question.answered', 'question.skipped', 'training_session.attended',
  'term.searched'];
const USER_TYPES = ['user.created', 'user.restored', 'user.updated', 'user.archived'];

const GOLDEN_DIR = path.resolve(__dirname, '../../golden/events');
const GOLDEN = Object.fromEntries([...LEARNING_TYPES, ...USER_TYPES].map((t) =>
  [t, JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, `${t}.json`), 'utf8'))]));

const RUN = `${process.pid}-${Date.now().toString(36)}`;
let seq = 0;
// A string unique to this process and call.
const uniq = (prefix) => `${prefix}-${RUN}-${++seq}`;

// A golden event of `type` with a fresh unique id.
function freshEvent(type, tag = 'evt') {
  return { ...structuredClone(GOLDEN[type]), id: uniq(`${tag}-${type}`) };
}

// UUIDv5 (RFC 4122) of `name` in the URL namespace.
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
function uuidv5(name) {
  const h = crypto.createHash('sha1').update(URL_NAMESPACE).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
// The statement id (and, after "msg_", the webhook-id) punt gives an event.
const statementId = (orgId, eventId) => uuidv5(`punt:${orgId}:${eventId}`);

async function createOrg(srv, platformUrl, name = uniq('Org')) {
  const res = await srv.request('POST', '/v1/orgs', { key: srv.adminKey,
    json: { name, platform_url: platformUrl } });
  expectStatus(res, 201);
  assert.equal(typeof res.json.api_key, 'string');
  return { id: res.json.id, key: res.json.api_key, platformUrl: res.json.platform_url };
}

// POSTs an event or an array of events and asserts every id was accepted.
async function ingestOk(srv, org, body) {
  const res = await srv.request('POST', '/v1/events', { key: org.key, json: body });
  expectStatus(res, 202);
  const events = Array.isArray(body) ? body : [body];
  assert.deepEqual(res.json, { accepted: events.map((e) => e.id) });
  return res;
}

// Every delivery of a subscription, following next_cursor (bounded).
async function allDeliveries(srv, org, subId) {
  const out = [];
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const res = await srv.request('GET', `/v1/subscriptions/${subId}/deliveries?limit=500` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''), { key: org.key });
    expectStatus(res, 200);
    out.push(...res.json.data);
    if (!res.json.next_cursor) return out;
    cursor = res.json.next_cursor;
  }
  throw new Error('more than 100 pages of deliveries');
}

// The statement POSTs among the test LRS's log entries.
const xapiPosts = (entries) =>
  entries.filter((e) => e.method === 'POST' && e.path === '/xAPI/statements');

module.exports = {
  LRS_KEY, LRS_SECRET, TOKEN_STANDARD, TOKEN_URLSAFE, AUTH_STANDARD, LEARNING_TYPES, USER_TYPES,
  GOLDEN, uniq, freshEvent, uuidv5, statementId, createOrg, ingestOk, allDeliveries, xapiPosts,
};
