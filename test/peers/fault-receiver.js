// A misbehaving HTTP(S) receiver for punt's fault-injection tests: it answers
// each delivery according to a plan set at runtime (error statuses, connection
// resets mid-answer, hangs, slow bodies, closes without an answer, a strict LRS
// that rejects poisoned statements).
//
//   node fault-receiver.js --port 0 --out FILE [--tls-cert C --tls-key K]
//        [--ready-file PATH] [--plan JSON]
//
// Listens on 127.0.0.1 only (HTTPS when --tls-cert and --tls-key are given).
// Once listening, prints one line to stdout (and writes it to --ready-file,
// atomically):
//   {"ready":true,"url":"http(s)://127.0.0.1:<port>","port":<port>}
//
// Paths starting with /_ are control paths and are never faulty. Every other
// request (any method, any path) is a delivery: it takes the next step of the
// plan (in order of arrival), or the plan's default when no step is left.
//
// Plan: POST /_plan {"steps":[STEP, ...], "default": STEP}
//   replaces the whole plan (default omitted: {"status":204}) and answers 200
//   with it; a bad plan gets 400 and changes nothing. GET /_plan shows what is
//   left. --plan JSON sets the first plan the same way.
//   Every step may have "count": N (default 1): it is used for N requests.
//   {"status":500, "headers":{"Retry-After":"2"}, "body":"...", "delayMs":0}
//       answer that status, with those headers and body (default body: none
//       for 1xx/204/304, else {"status":N}), after delayMs (<= 120000).
//   {"fault":"reset", "afterMs":200}
//       read the request, write the status line, headers (Content-Length 64)
//       and part of the body, wait afterMs (default 200, so the client sees the
//       answer start) and reset the connection (TCP RST, also under TLS).
//   {"fault":"hang", "ms":120000}
//       read the request and never answer; the socket is destroyed after ms
//       (default and maximum 120000) unless the client gives up first.
//   {"fault":"slow", "bytesPerSecond":1, "body":"..." | "bytes":64, "status":200}
//       send the status and headers (with Content-Length) at once, then the body
//       (default 64 bytes) one byte every 1/bytesPerSecond s, the first one
//       after that delay too: N bytes take >= N/bytesPerSecond s. The whole
//       body must fit in 300 s.
//   {"fault":"close"}
//       read the request and close the connection without any answer.
//   {"xapi":"poison", "poisonIds":["<statement id>", ...], "delayMs":0}
//       a strict LRS: POST bodies are a statement or an array of statements;
//       if any statement id is in poisonIds the whole request gets
//       400 {"error":"poisoned statement <id>"} (a batch with one bad statement
//       is rejected whole, like Learning Locker); a body that is not a
//       statement or a list of statements gets 400 too; otherwise 200 with the
//       JSON list of ids (an id is made up for a statement without one).
//       PUT (?statementId=): 204, or the same 400. GET: 200
//       {"statements":[],"more":""}. Other methods: 405.
//
// Records: one JSON line per delivery is appended to --out once the request has
// been read and before anything is answered, and kept for GET /_received:
//   {seq, at, method, path, query, headers (lower-case names), body (parsed
//    JSON, or the text when it is not JSON), fault ("status", "reset", "hang",
//    "slow", "close" or "xapi"), status (the status answered or started,
//    null when none), fromDefault (the plan's default was used), step (the step
//    applied, without count), error? (why the xapi step answered 400)}
//
// Control:
//   POST /_plan, GET /_plan       see above
//   GET /_received                JSON list of the records so far
//   DELETE /_received             forget them (--out is untouched)
//   GET /_stats                   {requests, faults:{status,reset,hang,slow,
//       close,xapi}, statuses:{"<code>":n}, openConnections (not counting the
//       connection asking), connections (accepted in total), hanging (hung
//       requests still open), dribbling (slow bodies still being sent),
//       tlsClientErrors (failed TLS handshakes), lastTlsError, planSteps (steps
//       left, counting each count)}
//   DELETE /_stats                zero the counters (open counts stay)
// SIGTERM/SIGINT: exit 0.
'use strict';
const { parseFlags, validPort, exitOnStopSignals, listenOnLoopback } = require('./peer-common');

const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');

const MAX_BODY = 16 * 1024 * 1024; // request bodies above this get 413
const MAX_WAIT_MS = 120000; // longest hang or delay
const MAX_SLOW_MS = 300000; // longest slow body
const MAX_SLOW_BYTES = 65536;
const MAX_COUNT = 1000000;
const MAX_STEPS = 10000;

function usage(msg) {
  if (msg) process.stderr.write(`fault-receiver.js: ${msg}\n`);
  process.stderr.write('usage: node fault-receiver.js --port 0 --out FILE [--tls-cert CERT --tls-key KEY] '
    + '[--ready-file PATH] [--plan JSON]\n');
  process.exit(2);
}

const opts = { port: 0, out: null, readyFile: null, tlsCert: null, tlsKey: null, plan: null };
parseFlags(process.argv.slice(2), {
  '--port': (v) => { opts.port = Number(v); },
  '--out': (v) => { opts.out = v; },
  '--ready-file': (v) => { opts.readyFile = v; },
  '--tls-cert': (v) => { opts.tlsCert = v; },
  '--tls-key': (v) => { opts.tlsKey = v; },
  '--plan': (v) => { opts.plan = v; },
}, usage);
if (!opts.out) usage('--out is required');
if (!validPort(opts.port)) usage('bad --port');
if (!opts.tlsCert !== !opts.tlsKey) usage('--tls-cert and --tls-key go together');

// ------------------------------------------------------------------ the plan

function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
function validStatus(s) { return Number.isInteger(s) && s >= 100 && s <= 599; }
function msOption(step, name, dflt, max) {
  if (!(name in step)) return dflt;
  const v = step[name];
  if (!Number.isFinite(v) || v < 0 || v > max) throw new Error(`${name} must be a number of ms in [0, ${max}]`);
  return v;
}
function allowOnly(step, keys) {
  for (const k of Object.keys(step)) {
    if (!keys.includes(k)) throw new Error(`unknown key "${k}" in ${JSON.stringify(step)}`);
  }
}

// Checks a step and returns its normalised form {kind, count, ...}.
function normaliseStep(s) {
  if (!isObject(s)) throw new Error(`a step must be a JSON object: ${JSON.stringify(s)}`);
  let count = 1;
  if ('count' in s) {
    if (!Number.isInteger(s.count) || s.count < 1 || s.count > MAX_COUNT) throw new Error(`count must be an integer in [1, ${MAX_COUNT}]`);
    count = s.count;
  }
  if ('fault' in s) {
    switch (s.fault) {
      case 'reset':
        allowOnly(s, ['fault', 'count', 'afterMs']);
        return { kind: 'reset', count, afterMs: msOption(s, 'afterMs', 200, 10000) };
      case 'hang':
        allowOnly(s, ['fault', 'count', 'ms']);
        return { kind: 'hang', count, ms: msOption(s, 'ms', MAX_WAIT_MS, MAX_WAIT_MS) };
      case 'close':
        allowOnly(s, ['fault', 'count']);
        return { kind: 'close', count };
      case 'slow': {
        allowOnly(s, ['fault', 'count', 'bytesPerSecond', 'body', 'bytes', 'status', 'headers']);
        const rate = 'bytesPerSecond' in s ? s.bytesPerSecond : 1;
        if (!Number.isFinite(rate) || rate <= 0) throw new Error('bytesPerSecond must be a number > 0');
        let body;
        if ('body' in s) {
          if (typeof s.body !== 'string') throw new Error('slow body must be a string');
          body = Buffer.from(s.body, 'utf8');
        } else {
          const n = 'bytes' in s ? s.bytes : 64;
          if (!Number.isInteger(n) || n < 1 || n > MAX_SLOW_BYTES) throw new Error(`bytes must be an integer in [1, ${MAX_SLOW_BYTES}]`);
          body = Buffer.alloc(n, 'x');
        }
        if (body.length < 1 || body.length > MAX_SLOW_BYTES) throw new Error(`slow body must have 1 to ${MAX_SLOW_BYTES} bytes`);
        if (body.length * 1000 / rate > MAX_SLOW_MS) throw new Error(`slow body would take more than ${MAX_SLOW_MS / 1000} s`);
        const status = 'status' in s ? s.status : 200;
        if (!validStatus(status) || status === 204 || status === 304 || status < 200) throw new Error('slow status must allow a body');
        return { kind: 'slow', count, rate, body, status, headers: checkHeaders(s.headers) };
      }
      default:
        throw new Error(`unknown fault ${JSON.stringify(s.fault)} (reset, hang, slow, close)`);
    }
  }
  if ('xapi' in s) {
    if (s.xapi !== 'poison') throw new Error(`unknown xapi mode ${JSON.stringify(s.xapi)} (poison)`);
    allowOnly(s, ['xapi', 'count', 'poisonIds', 'delayMs']);
    const ids = 'poisonIds' in s ? s.poisonIds : [];
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new Error('poisonIds must be a list of strings');
    return { kind: 'xapi', count, poisonIds: new Set(ids), delayMs: msOption(s, 'delayMs', 0, MAX_WAIT_MS) };
  }
  if ('status' in s) {
    allowOnly(s, ['status', 'count', 'headers', 'body', 'delayMs']);
    if (!validStatus(s.status)) throw new Error('status must be an HTTP status code');
    if ('body' in s && typeof s.body !== 'string') throw new Error('body must be a string');
    return {
      kind: 'status', count, status: s.status, headers: checkHeaders(s.headers),
      body: 'body' in s ? s.body : null, delayMs: msOption(s, 'delayMs', 0, MAX_WAIT_MS),
    };
  }
  throw new Error(`a step needs "status", "fault" or "xapi": ${JSON.stringify(s)}`);
}

function checkHeaders(h) {
  if (h === undefined) return {};
  if (!isObject(h)) throw new Error('headers must be a JSON object');
  for (const [k, v] of Object.entries(h)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new Error(`bad header name ${JSON.stringify(k)}`);
    if ((typeof v !== 'string' && typeof v !== 'number') || /[\r\n\0]/.test(String(v))) throw new Error(`bad value for header ${k}`);
  }
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}

// The JSON form of a normalised step (as given, without count).
function stepView(st) {
  switch (st.kind) {
    case 'status': {
      const v = { status: st.status };
      if (Object.keys(st.headers).length) v.headers = st.headers;
      if (st.body !== null) v.body = st.body;
      if (st.delayMs) v.delayMs = st.delayMs;
      return v;
    }
    case 'reset': return { fault: 'reset', afterMs: st.afterMs };
    case 'hang': return { fault: 'hang', ms: st.ms };
    case 'close': return { fault: 'close' };
    case 'slow': {
      const v = { fault: 'slow', bytesPerSecond: st.rate, bytes: st.body.length, status: st.status };
      if (Object.keys(st.headers).length) v.headers = st.headers;
      return v;
    }
    case 'xapi': {
      const v = { xapi: 'poison', poisonIds: [...st.poisonIds] };
      if (st.delayMs) v.delayMs = st.delayMs;
      return v;
    }
    default: return null;
  }
}

function parsePlan(p) {
  if (!isObject(p)) throw new Error('the plan must be a JSON object {"steps":[...], "default":{...}}');
  for (const k of Object.keys(p)) if (k !== 'steps' && k !== 'default') throw new Error(`unknown plan key "${k}"`);
  const steps = 'steps' in p ? p.steps : [];
  if (!Array.isArray(steps)) throw new Error('steps must be a list');
  if (steps.length > MAX_STEPS) throw new Error(`at most ${MAX_STEPS} steps`);
  const parsed = steps.map(normaliseStep);
  const dflt = normaliseStep('default' in p ? p.default : { status: 204 });
  dflt.count = 1;
  return { steps: parsed, dflt };
}

let plan = parsePlan({});
if (opts.plan !== null) {
  try { plan = parsePlan(JSON.parse(opts.plan)); } catch (err) { usage(`bad --plan: ${err.message}`); }
}

function planView() {
  return {
    steps: plan.steps.map((st) => ({ ...stepView(st), count: st.count })),
    default: stepView(plan.dflt),
  };
}

// Takes the step for the next delivery.
function takeStep() {
  if (plan.steps.length === 0) return { step: plan.dflt, fromDefault: true };
  const st = plan.steps[0];
  st.count -= 1;
  if (st.count <= 0) plan.steps.shift();
  return { step: st, fromDefault: false };
}

// -------------------------------------------------------------- the records

const received = [];
const outFd = fs.openSync(opts.out, 'a');
let seq = 0;

const FAULTS = ['status', 'reset', 'hang', 'slow', 'close', 'xapi'];
function zeroStats() {
  return {
    requests: 0,
    faults: Object.fromEntries(FAULTS.map((f) => [f, 0])),
    statuses: {},
    connections: 0,
    tlsClientErrors: 0,
    lastTlsError: null,
  };
}
let stats = zeroStats();
const open = new Set(); // sockets (raw TCP) currently open
let hanging = 0;
let dribbling = 0;

function record(req, raw, step, fromDefault, status, extra) {
  const text = raw.toString('utf8');
  let body = text;
  if (text.length) {
    try { body = JSON.parse(text); } catch (_) { /* keep the text */ }
  }
  const q = req.url.indexOf('?');
  const rec = {
    seq: ++seq,
    at: new Date().toISOString(),
    method: req.method,
    path: q === -1 ? req.url : req.url.slice(0, q),
    query: q === -1 ? '' : req.url.slice(q + 1),
    headers: req.headers,
    body,
    fault: step.kind,
    status,
    fromDefault,
    step: stepView(step),
    ...extra,
  };
  received.push(rec);
  fs.writeSync(outFd, JSON.stringify(rec) + '\n');
  stats.requests += 1;
  stats.faults[step.kind] += 1;
  if (status !== null) stats.statuses[status] = (stats.statuses[status] || 0) + 1;
  return rec;
}

// ------------------------------------------------------------- the answers

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function noBody(status) { return status < 200 || status === 204 || status === 304; }

// Calls fn after ms, unless the socket closes first.
function later(socket, ms, fn) {
  if (!ms) return fn();
  const t = setTimeout(fn, ms);
  socket.once('close', () => clearTimeout(t));
  return undefined;
}

// TCP RST: under TLS the reset goes to the TCP socket underneath.
function resetSocket(socket) {
  const tcp = socket.encrypted && socket._parent ? socket._parent : socket;
  try {
    tcp.resetAndDestroy();
  } catch (_) {
    tcp.destroy();
  }
  socket.destroy();
}

// The statements of an xAPI body, or a reason it is not one.
function statementsOf(raw) {
  let v;
  try { v = JSON.parse(raw.toString('utf8')); } catch (err) { return { error: `body is not JSON: ${err.message}` }; }
  const list = Array.isArray(v) ? v : [v];
  if (!list.every(isObject)) return { error: 'body is not a statement or a list of statements' };
  return { list };
}

function answerXapi(req, res, raw, step, fromDefault) {
  const q = req.url.indexOf('?');
  const params = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
  let status;
  let answer = null;
  let error = null;
  if (req.method === 'GET' || req.method === 'HEAD') {
    status = 200;
    answer = { statements: [], more: '' };
  } else if (req.method === 'POST' || req.method === 'PUT') {
    const parsed = statementsOf(raw);
    if (parsed.error) {
      error = parsed.error;
    } else {
      const list = parsed.list;
      if (req.method === 'PUT') {
        const sid = params.get('statementId');
        if (list.length !== 1 || !sid) error = 'PUT needs one statement and ?statementId=';
        else if (list[0].id === undefined) list[0] = { ...list[0], id: sid };
      }
      if (!error) {
        const ids = list.map((s) => (typeof s.id === 'string' ? s.id : null));
        const poisoned = ids.find((id) => id !== null && step.poisonIds.has(id));
        if (poisoned !== undefined) error = `poisoned statement ${poisoned}`;
        else if (req.method === 'PUT') status = 204;
        else {
          status = 200;
          answer = ids.map((id) => (id === null ? crypto.randomUUID() : id));
        }
      }
    }
    if (error) {
      status = 400;
      answer = { error };
    }
  } else {
    status = 405;
    answer = { error: `method ${req.method}` };
  }
  record(req, raw, step, fromDefault, status, error ? { error } : {});
  later(req.socket, step.delayMs, () => {
    if (answer === null) {
      res.writeHead(status, { 'X-Experience-API-Version': '1.0.3' });
      res.end();
    } else {
      sendJson(res, status, answer, { 'X-Experience-API-Version': '1.0.3' });
    }
  });
}

function deliver(req, res, raw, step, fromDefault) {
  const socket = req.socket;
  switch (step.kind) {
    case 'status': {
      record(req, raw, step, fromDefault, step.status);
      later(socket, step.delayMs, () => {
        const hdrs = { ...step.headers };
        if (noBody(step.status)) {
          res.writeHead(step.status, hdrs);
          res.end();
        } else {
          const hasType = Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type');
          const body = step.body !== null ? step.body : JSON.stringify({ status: step.status });
          if (!hasType) hdrs['Content-Type'] = step.body !== null ? 'text/plain; charset=utf-8' : 'application/json';
          hdrs['Content-Length'] = Buffer.byteLength(body);
          res.writeHead(step.status, hdrs);
          res.end(body);
        }
      });
      return;
    }
    case 'reset': {
      record(req, raw, step, fromDefault, 200);
      const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{"partial":';
      socket.write(head, () => later(socket, step.afterMs, () => resetSocket(socket)));
      return;
    }
    case 'hang': {
      record(req, raw, step, fromDefault, null);
      hanging += 1;
      let done = false;
      const t = setTimeout(() => socket.destroy(), step.ms);
      socket.once('close', () => {
        clearTimeout(t);
        if (!done) { done = true; hanging -= 1; }
      });
      return;
    }
    case 'close': {
      record(req, raw, step, fromDefault, null);
      socket.destroy();
      return;
    }
    case 'slow': {
      record(req, raw, step, fromDefault, step.status);
      const hasType = Object.keys(step.headers).some((k) => k.toLowerCase() === 'content-type');
      res.writeHead(step.status, {
        ...step.headers,
        ...(hasType ? {} : { 'Content-Type': 'text/plain; charset=utf-8' }),
        'Content-Length': step.body.length,
      });
      res.flushHeaders();
      dribbling += 1;
      const interval = 1000 / step.rate;
      const start = Date.now();
      let sent = 0;
      let t = null;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        dribbling -= 1;
        if (t) clearTimeout(t);
      };
      socket.once('close', finish);
      // One byte per tick, each due at start + (n+1) * interval; at most body.length ticks.
      const tick = () => {
        t = null;
        if (finished || socket.destroyed) return finish();
        const due = Math.min(step.body.length, Math.floor((Date.now() - start) / interval));
        if (due > sent) {
          const last = due >= step.body.length;
          const chunk = step.body.subarray(sent, due);
          sent = due;
          if (last) {
            res.end(chunk);
            return finish();
          }
          res.write(chunk);
        }
        t = setTimeout(tick, Math.max(1, start + (sent + 1) * interval - Date.now()));
      };
      t = setTimeout(tick, interval);
      return;
    }
    case 'xapi':
      answerXapi(req, res, raw, step, fromDefault);
      return;
    default:
      throw new Error(`unknown step kind ${step.kind}`);
  }
}

// ----------------------------------------------------------------- control

function control(req, res, raw, path) {
  if (path === '/_plan') {
    if (req.method === 'GET') return sendJson(res, 200, planView());
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'GET or POST' });
    let p;
    try { p = JSON.parse(raw.toString('utf8')); } catch (err) { return sendJson(res, 400, { error: `bad JSON: ${err.message}` }); }
    try { plan = parsePlan(p); } catch (err) { return sendJson(res, 400, { error: err.message }); }
    return sendJson(res, 200, planView());
  }
  if (path === '/_received') {
    if (req.method === 'GET') return sendJson(res, 200, received);
    if (req.method === 'DELETE') { received.length = 0; return sendJson(res, 200, []); }
    return sendJson(res, 405, { error: 'GET or DELETE' });
  }
  if (path === '/_stats') {
    if (req.method === 'DELETE') { stats = zeroStats(); return sendJson(res, 200, {}); }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'GET or DELETE' });
    return sendJson(res, 200, {
      ...stats,
      openConnections: Math.max(0, open.size - 1),
      hanging,
      dribbling,
      planSteps: plan.steps.reduce((n, st) => n + st.count, 0),
    });
  }
  return sendJson(res, 404, { error: `unknown control path ${path}` });
}

// ------------------------------------------------------------------ server

function onRequest(req, res) {
  const path = req.url.split('?')[0];
  const isControl = path.startsWith('/_');
  // The step is taken in order of arrival, before the body is read.
  const taken = isControl ? null : takeStep();
  const chunks = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) tooBig = true;
    else chunks.push(c);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    try {
      if (tooBig) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { error: `body over ${MAX_BODY} bytes` });
      }
      const raw = Buffer.concat(chunks);
      if (isControl) return control(req, res, raw, path);
      return deliver(req, res, raw, taken.step, taken.fromDefault);
    } catch (err) {
      process.stderr.write(`fault-receiver.js: ${err.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
      else res.destroy();
    }
  });
}

const tls = Boolean(opts.tlsCert);
let server;
if (tls) {
  let cert;
  let key;
  try {
    cert = fs.readFileSync(opts.tlsCert);
    key = fs.readFileSync(opts.tlsKey);
  } catch (err) {
    usage(err.message);
  }
  server = https.createServer({ cert, key }, onRequest);
  server.on('tlsClientError', (err, socket) => {
    stats.tlsClientErrors += 1;
    stats.lastTlsError = String(err.message).trim();
    socket.destroy();
  });
} else {
  server = http.createServer(onRequest);
}
server.keepAliveTimeout = 60000;
server.headersTimeout = 60000;
server.requestTimeout = MAX_WAIT_MS; // time to receive a whole request
// Raw TCP connections (under TLS too, before and whether or not the handshake works).
server.on('connection', (socket) => {
  stats.connections += 1;
  open.add(socket);
  socket.once('close', () => open.delete(socket));
});
server.on('clientError', (err, socket) => {
  if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  else socket.destroy();
});

exitOnStopSignals();
listenOnLoopback(server, opts.port, 'fault-receiver.js', opts.readyFile, (port) => ({ url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, port }));
