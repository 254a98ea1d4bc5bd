// A minimal JSON-over-HTTP client for the bench scripts: keep-alive, every
// request bounded by a timeout. Node's standard library only.
'use strict';
const http = require('node:http');

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// Resolves {status, text, json}; rejects on a network error or timeout.
function request(method, url, { key, json, body, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (key) headers.Authorization = `Bearer ${key}`;
    let payload = body;
    if (json !== undefined) payload = JSON.stringify(json);
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
        resolve({ status: res.statusCode, text, json: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Like request, but an answer other than `want` is an error.
async function expect(want, method, url, options) {
  const res = await request(method, url, options);
  if (res.status !== want) {
    throw new Error(`${method} ${url}: expected ${want}, got ${res.status} ${res.text.slice(0, 300)}`);
  }
  return res;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs main() and exits: 0 on success, 1 with the message on failure.
function run(main) {
  main().then(() => process.exit(0), (err) => {
    process.stderr.write(`${process.argv[1]}: ${err.message}\n`);
    process.exit(1);
  });
}

module.exports = { request, expect, sleep, run, agent };
