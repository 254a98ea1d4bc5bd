// Small helpers the black-box tests share: asserting an answer's status,
// bounded polling, and the API calls most tests make.
'use strict';
const assert = require('node:assert/strict');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describeRes(res) {
  return `HTTP ${res.status} ${res.text.slice(0, 500)}`;
}

function expectStatus(res, status) {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${describeRes(res)}`);
}

// Polls `fn` until it returns something truthy (and not {done: false}), at
// most `timeoutMs`; then throws, naming `what` and the last value.
async function waitFor(fn, { timeoutMs, what, intervalMs = 100, describe = (v) => JSON.stringify(v) }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last && last.done !== false) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ` +
        String(describe(last)).slice(0, 2000));
    }
    await sleep(intervalMs);
  }
}

async function createSub(srv, org, body) {
  const res = await srv.request('POST', '/v1/subscriptions', { key: org.key, json: body });
  expectStatus(res, 201);
  return res.json;
}

async function getDelivery(srv, org, id) {
  const res = await srv.request('GET', `/v1/deliveries/${id}`, { key: org.key });
  expectStatus(res, 200);
  return res.json;
}

module.exports = { sleep, describeRes, expectStatus, waitFor, createSub, getDelivery };
