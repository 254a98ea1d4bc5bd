// A Standard Webhooks receiver for punt's black-box tests. Every delivery is
// checked with the real verifier, npm standardwebhooks@1.1.1:
// new Webhook(secret).verify(body, headers).
//
//   node webhook-receiver.js --port 0 --out FILE [--secret whsec_... ...]
//        [--expect-auth TOKEN] [--status 204] [--ready-file PATH]
//
// Listens on 127.0.0.1 only. Once listening, prints one line to stdout (and
// writes it to --ready-file):
//   {"ready":true,"url":"http://127.0.0.1:<port>/hook","port":<port>}
// Any path other than the /_ control paths below is a delivery endpoint.
//
// For each delivery request, one JSON line is appended to --out (before the
// answer goes out, so it is there when the sender sees the answer):
//   {at, method, path, id (webhook-id), timestamp (webhook-timestamp),
//    signature (webhook-signature), verified, error?, authorization, authOk,
//    valid, status, type (body.type), body}
// - verified: some configured secret verifies it (the library also refuses
//   timestamps more than 5 minutes off, and a body that is not JSON).
// - authOk: the Authorization header equals the expected one (true when none is set).
// - valid = verified && authOk && method is POST; valid requests get the configured
//   status (default 204), the others 400 (405 for a method other than POST).
// - body: the parsed JSON body, or the raw text when it is not JSON.
// - authorization/id/timestamp/signature: null when the header is absent.
//
// Control (JSON):
//   POST /_config {"secrets":[...]}      replace the secrets
//                 {"addSecrets":[...]}   add secrets (rotation: old and new both verify)
//                 {"expectAuth":"..."}   expected Authorization header (null: any)
//                 {"status":204}         status for valid requests
//                 {"statuses":[503,503]} answer these to the next valid requests first
//                 {"retryAfter":"1"}     Retry-After header on non-2xx answers (null: none)
//                 {"delayMs":0}          wait before answering deliveries
//     answers 200 with the resulting config (secrets shown).
//   GET  /_config     the current config
//   GET  /_received   JSON list of every record so far (same objects as --out)
//   DELETE /_received forget the in-memory list (--out is untouched)
'use strict';
const { parseFlags, validPort, exitOnStopSignals, listenOnLoopback } = require('./peer-common');

const fs = require('fs');
const http = require('http');
const { Webhook } = require('standardwebhooks');

function usage(msg) {
  if (msg) process.stderr.write(`webhook-receiver.js: ${msg}\n`);
  process.stderr.write('usage: node webhook-receiver.js --port 0 --out FILE [--secret whsec_... ...] '
    + '[--expect-auth TOKEN] [--status 204] [--ready-file PATH]\n');
  process.exit(2);
}

const opts = { port: 0, secrets: [], expectAuth: null, out: null, readyFile: null, status: 204 };
parseFlags(process.argv.slice(2), {
  '--port': (v) => { opts.port = Number(v); },
  '--secret': (v) => { opts.secrets.push(v); },
  '--expect-auth': (v) => { opts.expectAuth = v; },
  '--out': (v) => { opts.out = v; },
  '--ready-file': (v) => { opts.readyFile = v; },
  '--status': (v) => { opts.status = Number(v); },
}, usage);
if (!opts.out) usage('--out is required');
if (!validPort(opts.port)) usage('bad --port');
if (!validStatus(opts.status)) usage('bad --status');

function validStatus(s) { return Number.isInteger(s) && s >= 100 && s <= 599; }

// secret text -> Webhook; throws on a secret the library refuses.
function makeVerifiers(secrets) {
  if (!Array.isArray(secrets) || !secrets.every((s) => typeof s === 'string')) {
    throw new Error('secrets must be a list of strings');
  }
  return secrets.map((s) => ({ secret: s, webhook: new Webhook(s) }));
}

const state = {
  verifiers: [],
  expectAuth: opts.expectAuth,
  status: opts.status,
  statuses: [],
  retryAfter: null,
  delayMs: 0,
};
try {
  state.verifiers = makeVerifiers(opts.secrets);
} catch (err) {
  usage(`bad --secret: ${err.message}`);
}
const received = [];
const outFd = fs.openSync(opts.out, 'a');

function configView() {
  return {
    secrets: state.verifiers.map((v) => v.secret),
    expectAuth: state.expectAuth,
    status: state.status,
    statuses: state.statuses,
    retryAfter: state.retryAfter,
    delayMs: state.delayMs,
  };
}

function applyConfig(c) {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error('config must be a JSON object');
  // Validate everything first, then apply, so a bad request changes nothing.
  const next = {};
  if ('secrets' in c) next.verifiers = makeVerifiers(c.secrets);
  if ('addSecrets' in c) next.verifiers = (next.verifiers || state.verifiers).concat(makeVerifiers(c.addSecrets));
  if ('expectAuth' in c) {
    if (c.expectAuth !== null && typeof c.expectAuth !== 'string') throw new Error('expectAuth must be a string or null');
    next.expectAuth = c.expectAuth;
  }
  if ('status' in c) {
    if (!validStatus(c.status)) throw new Error('status must be an HTTP status code');
    next.status = c.status;
  }
  if ('statuses' in c) {
    if (!Array.isArray(c.statuses) || !c.statuses.every(validStatus)) throw new Error('statuses must be a list of HTTP status codes');
    next.statuses = c.statuses.slice();
  }
  if ('retryAfter' in c) {
    if (c.retryAfter !== null && typeof c.retryAfter !== 'string' && typeof c.retryAfter !== 'number') {
      throw new Error('retryAfter must be a string, a number or null');
    }
    next.retryAfter = c.retryAfter === null ? null : String(c.retryAfter);
  }
  if ('delayMs' in c) {
    if (!Number.isFinite(c.delayMs) || c.delayMs < 0) throw new Error('delayMs must be a number >= 0');
    next.delayMs = c.delayMs;
  }
  Object.assign(state, next);
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function header(req, name) {
  const v = req.headers[name];
  return v === undefined ? null : v;
}

function verify(bodyText, headers) {
  if (state.verifiers.length === 0) return { verified: false, error: 'no secret configured' };
  const errors = [];
  for (const { webhook } of state.verifiers) {
    try {
      webhook.verify(bodyText, headers);
      return { verified: true };
    } catch (err) {
      errors.push(err.message);
    }
  }
  return { verified: false, error: [...new Set(errors)].join('; ') };
}

function handleDelivery(req, res, raw) {
  const bodyText = raw.toString('utf8');
  let body = bodyText;
  let type = null;
  try {
    body = JSON.parse(bodyText);
    if (body !== null && typeof body === 'object' && typeof body.type === 'string') type = body.type;
  } catch (_) { /* keep the raw text */ }

  const isPost = req.method === 'POST';
  const { verified, error: verifyError } = isPost ? verify(bodyText, req.headers) : { verified: false, error: `method ${req.method}` };
  const authorization = header(req, 'authorization');
  const authOk = state.expectAuth === null || authorization === state.expectAuth;
  const valid = isPost && verified && authOk;
  let error = verifyError;
  if (!authOk) error = error ? `${error}; authorization mismatch` : 'authorization mismatch';

  let status;
  if (valid) status = state.statuses.length ? state.statuses.shift() : state.status;
  else status = isPost ? 400 : 405;

  const q = req.url.indexOf('?');
  const record = {
    at: new Date().toISOString(),
    method: req.method,
    path: q === -1 ? req.url : req.url.slice(0, q),
    id: header(req, 'webhook-id'),
    timestamp: header(req, 'webhook-timestamp'),
    signature: header(req, 'webhook-signature'),
    verified,
    ...(error ? { error } : {}),
    authorization,
    authOk,
    valid,
    status,
    type,
    body,
  };
  received.push(record);
  fs.writeSync(outFd, JSON.stringify(record) + '\n');

  const answer = () => {
    const hdrs = {};
    if (state.retryAfter !== null && (status < 200 || status > 299)) hdrs['Retry-After'] = state.retryAfter;
    if (valid) {
      if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
        res.writeHead(status, hdrs);
        res.end();
      } else {
        const b = JSON.stringify({ received: record.id });
        res.writeHead(status, { ...hdrs, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
        res.end(b);
      }
    } else {
      const b = JSON.stringify({ error });
      res.writeHead(status, { ...hdrs, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
      res.end(b);
    }
  };
  if (state.delayMs > 0) setTimeout(answer, state.delayMs);
  else answer();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const path = req.url.split('?')[0];
    try {
      if (path === '/_config') {
        if (req.method === 'GET') return sendJson(res, 200, configView());
        if (req.method !== 'POST') return sendJson(res, 405, { error: 'GET or POST' });
        let c;
        try { c = JSON.parse(raw.toString('utf8')); } catch (err) { return sendJson(res, 400, { error: `bad JSON: ${err.message}` }); }
        try { applyConfig(c); } catch (err) { return sendJson(res, 400, { error: err.message }); }
        return sendJson(res, 200, configView());
      }
      if (path === '/_received') {
        if (req.method === 'GET') return sendJson(res, 200, received);
        if (req.method === 'DELETE') { received.length = 0; return sendJson(res, 200, []); }
        return sendJson(res, 405, { error: 'GET or DELETE' });
      }
      return handleDelivery(req, res, raw);
    } catch (err) {
      process.stderr.write(`webhook-receiver.js: ${err.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
    }
  });
});
server.keepAliveTimeout = 60000;

exitOnStopSignals();
listenOnLoopback(server, opts.port, 'webhook-receiver.js', opts.readyFile, (port) => ({ url: `http://127.0.0.1:${port}/hook`, port }));
