// Runs the real `punt serve` for black-box tests, on 127.0.0.1 only.
//
//   const srv = await PuntServer.start();        // fresh data dir, known admin key
//   const res = await srv.request('POST', '/v1/orgs', {key: srv.adminKey, json: {...}});
//   await srv.stop();                            // SIGTERM; asserts exit code 0
//   await srv.kill();                            // SIGKILL
//   await srv.restart();                         // same data dir, same flags, new port
//   await killAll();                             // every child still running (test end)
//
// Every wait is bounded. Children are killed when the test process exits.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ADMIN_KEY = 'punt_admin_test_0123456789abcdef';  // 32 characters
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;
const REQUEST_TIMEOUT_MS = 15000;

const running = new Set();  // child processes not yet exited

function bin() {
  const b = process.env.PUNT_BIN;
  if (!b) throw new Error('set PUNT_BIN to the punt binary');
  return path.resolve(b);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Finds the log message of a JSON log line, whatever the field is called.
function logMessage(entry) {
  for (const k of ['msg', 'message', 'event']) if (typeof entry[k] === 'string') return entry[k];
  return Object.values(entry).find((v) => v === 'punt listening') || '';
}

class PuntServer {
  constructor({ dataDir, adminKey = ADMIN_KEY, args = [], env = {} } = {}) {
    this.dataDir = dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'punt-blackbox-'));
    this.ownsDataDir = !dataDir;
    this.adminKey = adminKey;
    this.extraArgs = args;
    this.env = env;
    this.child = null;
    this.logs = [];  // every stderr line of every run
    this.baseUrl = null;
  }

  // Starts a server on a fresh data dir (or options.dataDir) and waits until it listens.
  static async start(options) {
    const srv = new PuntServer(options);
    try {
      await srv.launch();
    } catch (err) {
      await srv.dispose();
      throw err;
    }
    return srv;
  }

  args() {
    return ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir,
            '--admin-key', this.adminKey, '--allow-destination', '127.0.0.0/8',
            ...this.extraArgs];
  }

  async launch() {
    if (this.child) throw new Error('already running');
    // punt reads PUNT_* settings (threads, retry schedule, master key...):
    // only the ones this test sets reach it, not the caller's.
    const env = {...process.env};
    for (const k of Object.keys(env))
      if (k.startsWith('PUNT_')) delete env[k];
    Object.assign(env, this.env);
    const child = spawn(bin(), this.args(), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    child.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
    child.on('error', (err) => this.logs.push(`spawn error: ${err.message}`));
    child.stdout.on('data', (d) => this.logs.push(`stdout: ${d}`));

    const lines = readline.createInterface({ input: child.stderr });
    const listening = new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        this.logs.push(line);
        let entry;
        try { entry = JSON.parse(line); } catch { return; }
        if (logMessage(entry) === 'punt listening' && typeof entry.address === 'string') {
          resolve(entry.address);
        }
      });
      child.exited.then(({ code, signal }) => reject(new Error(
        `punt exited (code ${code}, signal ${signal}) before listening:\n${this.tail()}`)));
    });
    let address;
    try {
      address = await withTimeout(listening, START_TIMEOUT_MS, 'punt serve to log "punt listening"');
    } catch (err) {
      await this.kill();
      throw new Error(`${err.message}\n${this.tail()}`);
    }
    const url = new URL(address);
    if (url.hostname !== '127.0.0.1') {
      await this.kill();
      throw new Error(`punt listens on ${address}, not on 127.0.0.1`);
    }
    this.baseUrl = `http://127.0.0.1:${url.port}`;
    this.port = Number(url.port);
    return this;
  }

  tail(n = 30) {
    return this.logs.slice(-n).join('\n');
  }

  // Sends a request. options: key (Bearer), json (body, sent as application/json),
  // body (raw string or Buffer), contentType, headers. Returns {status, headers, text, json}.
  async request(method, urlPath, options = {}) {
    if (!this.baseUrl) throw new Error('punt is not running');
    const headers = { ...(options.headers || {}) };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    let body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = options.contentType || 'application/json';
    } else if (options.body !== undefined) {
      body = options.body;
      if (options.contentType) headers['content-type'] = options.contentType;
    }
    const res = await fetch(this.baseUrl + urlPath, {
      method, headers, body, redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs || REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  }

  // SIGTERM, then waits for the exit. Returns {code, signal}.
  async stop() {
    return this.signalAndWait('SIGTERM');
  }

  // SIGKILL, then waits for the exit.
  async kill() {
    return this.signalAndWait('SIGKILL');
  }

  async signalAndWait(signal) {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    this.baseUrl = null;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    let result;
    try {
      result = await withTimeout(child.exited, STOP_TIMEOUT_MS, `punt to exit after ${signal}`);
    } catch (err) {
      child.kill('SIGKILL');
      await withTimeout(child.exited, STOP_TIMEOUT_MS, 'punt to exit after SIGKILL').catch(() => {});
      this.child = null;
      throw err;
    }
    this.child = null;
    return result;
  }

  // Starts again on the same data dir with the same flags (a new port).
  async restart() {
    if (this.child) await this.stop();
    return this.launch();
  }

  // Every file under the data dir: [{path, bytes}].
  dataFiles() {
    const out = [];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push({ path: p, bytes: fs.readFileSync(p) });
      }
    };
    walk(this.dataDir);
    return out;
  }

  // Kills the process if needed and removes the data dir it made.
  async dispose() {
    if (this.child) await this.kill().catch(() => {});
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// Kills every child still running and waits (bounded) for them to go.
async function killAll() {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await withTimeout(Promise.all(children.map((c) => c.exited)), STOP_TIMEOUT_MS,
                    'children to exit').catch(() => {});
}

process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

module.exports = { PuntServer, killAll, withTimeout, ADMIN_KEY };
