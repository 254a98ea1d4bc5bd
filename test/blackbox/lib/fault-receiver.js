// Starts test/peers/fault-receiver.js (the misbehaving receiver; its header
// documents the plan API) for black-box tests, and drives its control paths.
//
//   const r = await startFaultReceiver();                       // plain HTTP
//   const t = await startFaultReceiver({ tlsCert, tlsKey });    // HTTPS
//   r.url                         http(s)://127.0.0.1:PORT
//   await r.plan({ steps: [{ status: 500, count: 3 }], default: { status: 204 } });
//   await r.received()            GET /_received (every delivery record)
//   await r.stats()               GET /_stats
//   await r.forget()              DELETE /_received and DELETE /_stats
//   await r.stop();               SIGTERM (SIGKILL after a bounded wait)
//   await stopAllFaultReceivers();   every receiver still running (test end)
//
// Control requests go to the receiver itself on 127.0.0.1; over HTTPS they do
// not check its certificate (some receivers serve certificates made to fail).
// Every wait is bounded; children are killed when the test process exits.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const PEERS_DIR = path.resolve(__dirname, '../../peers');
const READY_TIMEOUT_MS = 30000;  // generous: a test may start a dozen at once
const STOP_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10000;

const running = new Set();    // child processes not yet exited
const receivers = new Set();  // every FaultReceiver started, until stopped

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class FaultReceiver {
  constructor({ tlsCert = null, tlsKey = null, name = 'fault-receiver.js' } = {}) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'punt-peer-fault-'));
    this.outPath = path.join(this.dir, 'received.jsonl');
    this.args = ['--port', '0', '--out', this.outPath];
    if (tlsCert) this.args.push('--tls-cert', tlsCert, '--tls-key', tlsKey);
    this.stderr = [];
    this.child = null;
    this.ready = null;
  }

  get url() { return this.ready.url; }
  get port() { return this.ready.port; }

  async launch() {
    receivers.add(this);
    const child = spawn(process.execPath, [path.join(PEERS_DIR, 'fault-receiver.js'), ...this.args],
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
      this.ready = await withTimeout(ready, READY_TIMEOUT_MS, `${this.name} to print its ready line`);
    } catch (err) {
      await this.stop();
      throw new Error(`${err.message}\n${this.tail()}`);
    }
    return this;
  }

  tail(n = 20) {
    return this.stderr.slice(-n).join('\n');
  }

  // One control request; resolves with the parsed JSON answer, rejects on a non-2xx.
  control(method, p, body) {
    const u = new URL(this.url + p);
    const mod = u.protocol === 'https:' ? https : http;
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = mod.request(u, {
        method,
        rejectUnauthorized: false,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode < 200 || res.statusCode > 299) {
            reject(new Error(`${this.name} ${method} ${p}: HTTP ${res.statusCode} ${text}`));
            return;
          }
          try { resolve(JSON.parse(text)); } catch (err) { reject(new Error(`${method} ${p}: ${text}`)); }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${this.name} ${method} ${p}: timed out`)));
      req.on('error', reject);
      req.end(data || undefined);
    });
  }

  plan(p) { return this.control('POST', '/_plan', p); }
  received() { return this.control('GET', '/_received'); }
  stats() { return this.control('GET', '/_stats'); }
  async forget() {
    await this.control('DELETE', '/_received');
    await this.control('DELETE', '/_stats');
  }

  // SIGTERM, then SIGKILL if it has not gone within the bound; removes its directory.
  async stop() {
    const child = this.child;
    receivers.delete(this);
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
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// options: tlsCert and tlsKey (HTTPS), name (for messages).
async function startFaultReceiver(options = {}) {
  return new FaultReceiver(options).launch();
}

async function stopAllFaultReceivers() {
  await Promise.all([...receivers].map((r) => r.stop().catch(() => {})));
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await withTimeout(Promise.all(children.map((c) => c.exited)), STOP_TIMEOUT_MS,
    'fault receivers to exit').catch(() => {});
}

process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

module.exports = { startFaultReceiver, stopAllFaultReceivers, FaultReceiver };
