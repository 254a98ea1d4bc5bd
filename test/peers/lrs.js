// A real LRS for punt's black-box tests: Learning Locker's statement service
// (npm xapi-statements@5.0.1) run in memory, as /work/shared/PEERS.md describes.
//
//   node lrs.js --port 0 --key lrs_key --secret 'p@ss>w?rd~~' \
//               [--ready-file PATH] [--log PATH] [--log-level warn]
//
// * Everything listens on 127.0.0.1 only (http.Server.prototype.listen is wrapped).
// * --port 0 lets the OS choose a free port (the auth server always uses one).
// * Credentials are checked STRICTLY, like SQL LRS: the Authorization header must
//   be exactly "Basic " + standard padded base64 (RFC 4648, "+/" and "=") of
//   "key:secret". Anything else makes the auth server answer 404, which the
//   service turns into 401. URL-safe or unpadded tokens are refused.
// * Once GET /xAPI/about answers, one JSON line goes to stdout (and --ready-file):
//     {"ready":true,"base":"http://127.0.0.1:<port>/xAPI","port":<port>}
//   The service's own logging goes to stderr, so stdout only carries that line.
// * --log PATH: one JSON line per request the LRS received, written just before
//   the answer's status line goes out (so it is there when the client sees it):
//     {"at","method","path","url","status","authorization","authOk","version",
//      "contentType","contentLength","ms"}
//   "status" is the service's real answer; "authorization" is the header verbatim
//   (null when absent); "authOk" is the strict check's verdict. A request whose
//   connection closed before any answer is logged with "status": null.
// * SIGTERM / SIGINT: exits 0 and removes its temp directories.
'use strict';
const { parseFlags, validPort, exitOnStopSignals, announceReady } = require('./peer-common');

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const opts = { port: 0, key: null, secret: null, readyFile: null, log: null, logLevel: 'warn' };
  parseFlags(argv, {
    '--port': (v) => { opts.port = Number(v); },
    '--key': (v) => { opts.key = v; },
    '--secret': (v) => { opts.secret = v; },
    '--ready-file': (v) => { opts.readyFile = v; },
    '--log': (v) => { opts.log = v; },
    '--log-level': (v) => { opts.logLevel = v; },
  }, usage);
  if (opts.key === null || opts.secret === null) usage('--key and --secret are required');
  if (!validPort(opts.port)) usage('bad --port');
  if (opts.key.includes(':')) usage('the key cannot contain ":"');
  return opts;
}
function usage(msg) {
  if (msg) process.stderr.write(`lrs.js: ${msg}\n`);
  process.stderr.write("usage: node lrs.js --port 0 --key KEY --secret SECRET [--ready-file PATH] [--log PATH] [--log-level warn]\n");
  process.exit(2);
}
const opts = parseArgs(process.argv.slice(2));
const t0 = Date.now();

// ------------------------------------------------------------- strict auth
const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const expectedUserPass = Buffer.from(`${opts.key}:${opts.secret}`, 'utf8');
// Strict like SQL LRS (Java's strict Base64 decoder): only the standard
// alphabet, padding required, no whitespace, and it must decode to key:secret.
function authOk(header) {
  if (typeof header !== 'string') return false;
  const m = /^Basic (.+)$/.exec(header);
  if (!m) return false;
  const token = m[1];
  if (!STD_B64.test(token)) return false;
  const decoded = Buffer.from(token, 'base64');
  // Canonical form only (rejects non-zero padding bits as well).
  if (decoded.toString('base64') !== token) return false;
  return decoded.equals(expectedUserPass);
}

const hex24 = (n) => n.toString(16).padStart(24, '0');
const CLIENT = {
  _id: hex24(0x5e1f00c1),
  title: 'punt test client',
  authority: {
    objectType: 'Agent',
    name: 'punt test client',
    mbox: 'mailto:punt-test-client@example.com',
  },
  isTrusted: true,
  lrs_id: hex24(0x5e1f001a),
  organisation: hex24(0x5e1f0002),
  scopes: ['all'],
};

// -------------------------------------------------------------- temp dirs
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'punt-lrs-'));
const storageDir = path.join(tmpRoot, 'storage');
const morganDir = path.join(tmpRoot, 'access-logs');
fs.mkdirSync(storageDir);
fs.mkdirSync(morganDir);
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  try { fs.rmSync(tmpRoot, { recursive: true, force: true }); } catch (_) { /* best effort */ }
}
process.on('exit', cleanup);
exitOnStopSignals();
// Registered before the service's own handler (which would exit 0): a crash exits 1.
process.on('uncaughtException', (err) => {
  process.stderr.write(`lrs.js: uncaught: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

// ----------------------------------------------------------- request log
const logFd = opts.log ? fs.openSync(opts.log, 'a') : null;
function logLine(obj) {
  if (logFd === null) return;
  fs.writeSync(logFd, JSON.stringify(obj) + '\n');
}
function attachRequestLogger(server) {
  server.prependListener('request', (req, res) => {
    if (req.headers['x-punt-lrs-probe'] !== undefined) return; // our own readiness probe
    const start = process.hrtime.bigint();
    const url = req.url; // express rewrites req.url inside its mounted routers
    let logged = false;
    const record = (status) => {
      if (logged) return;
      logged = true;
      const q = url.indexOf('?');
      logLine({
        at: new Date().toISOString(),
        method: req.method,
        path: q === -1 ? url : url.slice(0, q),
        url,
        status,
        authorization: req.headers.authorization === undefined ? null : req.headers.authorization,
        authOk: authOk(req.headers.authorization),
        version: req.headers['x-experience-api-version'] === undefined ? null : req.headers['x-experience-api-version'],
        contentType: req.headers['content-type'] === undefined ? null : req.headers['content-type'],
        contentLength: req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']),
        ms: Number(process.hrtime.bigint() - start) / 1e6,
      });
    };
    const writeHead = res.writeHead;
    res.writeHead = function (statusCode, ...rest) {
      record(statusCode);
      return writeHead.call(this, statusCode, ...rest);
    };
    res.once('close', () => record(res.headersSent ? res.statusCode : null));
  });
}

// ------------------------------------------- bind every listen() to loopback
const ownServers = new WeakSet();
let lrsServer = null;
let resolveLrsListening;
const lrsListening = new Promise((resolve) => { resolveLrsListening = resolve; });
const origListen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (args.length > 0 && args[0] !== null && typeof args[0] === 'object') {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const rest = args.slice(1);
    if (typeof rest[0] === 'string' || rest[0] === null || rest[0] === undefined) rest.shift();
    args = [Number(args[0]), '127.0.0.1', ...rest];
  } else if (args.length === 0 || typeof args[0] === 'function') {
    args = [0, '127.0.0.1', ...args];
  } else {
    throw new Error(`lrs.js: refusing listen(${JSON.stringify(args[0])}): only 127.0.0.1 ports are allowed`);
  }
  if (!ownServers.has(this) && lrsServer === null) {
    lrsServer = this;
    attachRequestLogger(this);
    this.once('listening', () => resolveLrsListening(this.address().port));
    this.once('error', (err) => {
      process.stderr.write(`lrs.js: the LRS could not listen: ${err.message}\n`);
      process.exit(1);
    });
  }
  return origListen.apply(this, args);
};

// ------------------------------------------------------------ auth server
function startAuthServer() {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && authOk(req.headers.authorization)) {
      const body = JSON.stringify(CLIENT);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"no client with these credentials"}');
    }
  });
  ownServers.add(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, () => resolve(server.address().port));
  });
}

// ------------------------------------------------------------ readiness
function getAbout(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/xAPI/about', agent: false, timeout: 1000,
      headers: { 'X-Punt-Lrs-Probe': '1' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const authPort = await startAuthServer();

  process.env.MODELS_REPO = 'memory';
  process.env.EVENTS_REPO = 'test';
  process.env.STORAGE_REPO = 'local';
  process.env.FS_LOCAL_STORAGE_DIR = storageDir;
  process.env.EXPRESS_PORT = String(opts.port);
  process.env.AUTH_REPO = 'fetch';
  process.env.LL_CLIENT_INFO_ENDPOINT = `http://127.0.0.1:${authPort}/auth`;
  process.env.EXPRESS_MORGAN_DIRECTORY = morganDir;
  process.env.WINSTON_CONSOLE_LEVEL = opts.logLevel;
  process.env.WINSTON_CLOUDWATCH_ENABLED = 'false';
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';

  // The service logs through winston 2, whose console transport writes
  // everything but errors to stdout; send all of it to stderr instead, so
  // stdout carries only the ready line.
  const logger = require('xapi-statements/dist/logger').default;
  for (const t of Object.values(logger.transports || {})) {
    if ('stderrLevels' in t) {
      t.stderrLevels = Object.fromEntries(Object.keys(logger.levels || {}).map((l) => [l, true]));
      t.colorize = false;
    }
  }

  require('xapi-statements/dist/server');
  // server.js installs its own SIGINT/SIGTERM handlers (process.exit()); ours
  // already exit 0 and clean up through the 'exit' hook.

  const port = await lrsListening;
  const deadline = Date.now() + 30000;
  while (!(await getAbout(port))) {
    if (Date.now() > deadline) {
      process.stderr.write('lrs.js: GET /xAPI/about did not answer 200 within 30 s\n');
      process.exit(1);
    }
    await sleep(20);
  }
  announceReady({ base: `http://127.0.0.1:${port}/xAPI`, port }, opts.readyFile);
  process.stderr.write(`lrs.js: ready on 127.0.0.1:${port} (auth on ${authPort}) after ${Date.now() - t0} ms\n`);
}

main().catch((err) => {
  process.stderr.write(`lrs.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
