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
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { Peer, tempDir, stopAllPeers } = require('./peers');

const READY_TIMEOUT_MS = 30000;  // generous: a test may start a dozen at once
const REQUEST_TIMEOUT_MS = 10000;

class FaultReceiver extends Peer {
  constructor({ tlsCert = null, tlsKey = null, name = 'fault-receiver.js' } = {}) {
    const dir = tempDir('punt-peer-fault-');
    const outPath = path.join(dir, 'received.jsonl');
    const args = ['--port', '0', '--out', outPath];
    if (tlsCert) args.push('--tls-cert', tlsCert, '--tls-key', tlsKey);
    super(name, 'fault-receiver.js', args, READY_TIMEOUT_MS);
    this.dir = dir;  // Peer.stop removes it
    this.outPath = outPath;
  }

  get url() { return this.ready.url; }
  get port() { return this.ready.port; }

  async launch() {
    try {
      return await super.launch();
    } catch (err) {
      await this.stop();  // also removes its directory
      throw err;
    }
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
}

// options: tlsCert and tlsKey (HTTPS), name (for messages).
async function startFaultReceiver(options = {}) {
  return new FaultReceiver(options).launch();
}

// Every peer still running, fault receivers included (see lib/peers.js).
const stopAllFaultReceivers = stopAllPeers;

module.exports = { startFaultReceiver, stopAllFaultReceivers, FaultReceiver };
