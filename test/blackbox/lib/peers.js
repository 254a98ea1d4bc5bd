// Starts and stops the real test peers of test/peers for black-box tests:
// lrs.js (Learning Locker's statement service, strict Basic auth) and
// webhook-receiver.js (verifies with npm standardwebhooks).
//
//   const lrs = await startLrs({ key: 'lrs_key', secret: 'p@ss>w?rd~~' });
//   lrs.base                      http://127.0.0.1:PORT/xAPI
//   lrs.logEntries()              every line of its --log file, parsed
//   await lrs.ids() / lrs.count() through test/peers/lrs-client.js
//   const hook = await startReceiver({ secrets: [whsec], expectAuth: 'Bearer x' });
//   hook.url                      http://127.0.0.1:PORT/hook
//   await hook.config({ statuses: [503, 503] });   POST /_config
//   await hook.received()                          GET /_received
//   await peer.stop();            SIGTERM (SIGKILL after a bounded wait)
//   await stopAllPeers();         every peer still running (test end)
//
// Every wait is bounded; children are killed when the test process exits.
// Needs the npm packages of test/peers (scripts/install-node-tools.sh).
'use strict';
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const PEERS_DIR = path.resolve(__dirname, '../../peers');
const LRS_READY_TIMEOUT_MS = 30000;
const RECEIVER_READY_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;
const CLIENT_TIMEOUT_MS = 20000;
const REQUEST_TIMEOUT_MS = 10000;

const running = new Set();  // peer child processes not yet exited
const peers = new Set();    // every Peer started, until stopped

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class Peer {
  constructor(name, script, args, readyTimeoutMs) {
    this.name = name;
    this.script = script;
    this.args = args;
    this.readyTimeoutMs = readyTimeoutMs;
    this.stderr = [];
    this.child = null;
    this.ready = null;  // the parsed ready line
  }

  async launch() {
    peers.add(this);
    const child = spawn(process.execPath, [path.join(PEERS_DIR, this.script), ...this.args],
      { cwd: PEERS_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    child.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
    child.on('error', (err) => this.stderr.push(`spawn error: ${err.message}`));
    readline.createInterface({ input: child.stderr }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    const ready = new Promise((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        let j;
        try { j = JSON.parse(line); } catch { return; }
        if (j && j.ready === true) resolve(j);
      });
      child.exited.then(({ code, signal }) => reject(new Error(
        `${this.name} exited (code ${code}, signal ${signal}) before it was ready:\n${this.tail()}`)));
    });
    try {
      this.ready = await withTimeout(ready, this.readyTimeoutMs, `${this.name} to print its ready line`);
    } catch (err) {
      await this.kill();
      throw new Error(`${err.message}\n${this.tail()}`);
    }
    return this;
  }

  tail(n = 20) {
    return this.stderr.slice(-n).join('\n');
  }

  // SIGTERM (the peers exit 0 and clean up their temp dirs), then SIGKILL if it
  // has not gone within the bound. Then removes the directory made for it.
  async stop() {
    const child = this.child;
    peers.delete(this);
    if (child) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      try {
        await withTimeout(child.exited, STOP_TIMEOUT_MS, `${this.name} to exit after SIGTERM`);
      } catch {
        child.kill('SIGKILL');
        await withTimeout(child.exited, STOP_TIMEOUT_MS, `${this.name} to exit after SIGKILL`)
          .catch(() => {});
      }
      this.child = null;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async kill() {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(child.exited, STOP_TIMEOUT_MS, `${this.name} to exit after SIGKILL`)
      .catch(() => {});
    this.child = null;
  }
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Runs test/peers/lrs-client.js; resolves with its stdout (rejects on a non-zero exit).
function lrsClient(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(PEERS_DIR, 'lrs-client.js'), ...args],
      { cwd: PEERS_DIR, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`lrs-client.js ${args[0]}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
  });
}

class Lrs extends Peer {
  constructor({ key, secret, dir }) {
    const logPath = path.join(dir, 'lrs.log');
    super('lrs.js', 'lrs.js', ['--port', '0', '--key', key, '--secret', secret, '--log', logPath],
      LRS_READY_TIMEOUT_MS);
    this.key = key;
    this.secret = secret;
    this.dir = dir;
    this.logPath = logPath;
  }

  get base() { return this.ready.base; }
  get port() { return this.ready.port; }

  // Every request the LRS logged so far (a partial last line is left out).
  logEntries() {
    let text;
    try { text = fs.readFileSync(this.logPath, 'utf8'); } catch { return []; }
    const out = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try { out.push(JSON.parse(line)); } catch { /* a line being written */ }
    }
    return out;
  }

  // The statement ids the LRS holds (lrs-client.js ids), in its order.
  async ids() {
    const out = await lrsClient(['ids', this.base, this.key, this.secret]);
    return out.split('\n').filter(Boolean);
  }

  async count() {
    return Number((await lrsClient(['count', this.base, this.key, this.secret])).trim());
  }
}

class Receiver extends Peer {
  constructor({ dir, secrets = [], expectAuth = null, status = null }) {
    const outPath = path.join(dir, 'hooks.jsonl');
    const args = ['--port', '0', '--out', outPath];
    for (const s of secrets) args.push('--secret', s);
    if (expectAuth !== null) args.push('--expect-auth', expectAuth);
    if (status !== null) args.push('--status', String(status));
    super('webhook-receiver.js', 'webhook-receiver.js', args, RECEIVER_READY_TIMEOUT_MS);
    this.dir = dir;
    this.outPath = outPath;
  }

  get url() { return this.ready.url; }
  get port() { return this.ready.port; }
  get root() { return `http://127.0.0.1:${this.ready.port}`; }

  async control(method, p, body) {
    const res = await fetch(this.root + p, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  }

  // POST /_config: {secrets, addSecrets, expectAuth, status, statuses, retryAfter, delayMs}.
  config(c) { return this.control('POST', '/_config', c); }

  // Every delivery record so far (GET /_received).
  received() { return this.control('GET', '/_received'); }
}

async function startLrs({ key, secret } = {}) {
  if (key === undefined || secret === undefined) throw new Error('startLrs needs key and secret');
  const lrs = new Lrs({ key, secret, dir: tempDir('punt-peer-lrs-') });
  await lrs.launch();
  return lrs;
}

async function startReceiver(options = {}) {
  const r = new Receiver({ ...options, dir: tempDir('punt-peer-hook-') });
  await r.launch();
  return r;
}

// Stops every peer still running (SIGTERM, SIGKILL after a bounded wait) and
// kills any child left over.
async function stopAllPeers() {
  await Promise.all([...peers].map((p) => p.stop().catch(() => {})));
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await withTimeout(Promise.all(children.map((c) => c.exited)), STOP_TIMEOUT_MS,
    'peers to exit').catch(() => {});
}

process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

module.exports = { startLrs, startReceiver, stopAllPeers, lrsClient, PEERS_DIR, Peer, tempDir };
