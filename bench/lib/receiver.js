// A small, fast webhook receiver for the "absolute goals" measurements: node's
// http module, answers 204 to every request and records when each arrived.
//
// As a module (lib/goals.js): createReceiver({onArrival}) returns
// {listen() -> port, close()}; onArrival(id, path, nowMs) is called for every
// request with the event id of the webhook body (data.id) and the arrival
// time on the clock of now() below (the sender's clock, in the same process).
//
// As a process, for measurements that outlive a punt (the restart):
//
//   node receiver.js PORT_FILE [SLOW_MS]
//
// writes "PORT CONTROL_PORT" into PORT_FILE and answers 204 on PORT; requests
// under /slow/ are answered after SLOW_MS (default 50) ms. Any GET on
// CONTROL_PORT answers {"requests": N, "first_ms": T, "last_ms": T}: the
// wall-clock times (ms since the epoch) of the first and last request since
// the last GET /_mark (which also answers, then resets).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { performance } = require('node:perf_hooks');

// Milliseconds since the epoch with sub-millisecond precision (monotonic
// within the process).
const now = () => performance.timeOrigin + performance.now();

const ID = /"data":\{"id":"([^"]*)"/;

function createReceiver({ onArrival, slowMs = 0 } = {}) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const body = Buffer.concat(chunks).toString('utf8');
      const m = ID.exec(body);
      let id = m ? m[1] : null;
      if (id === null && body) {
        try { id = JSON.parse(body).data.id; } catch { id = null; }
      }
      if (onArrival) onArrival(id, req.url, at);
      const answer = () => { res.writeHead(204); res.end(); };
      if (slowMs > 0 && req.url.startsWith('/slow/')) setTimeout(answer, slowMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 300000;
  server.headersTimeout = 310000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  return {
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server.address().port));
    }),
    close: () => { server.closeAllConnections?.(); server.close(); },
  };
}

async function main() {
  const [portFile, slow = '50'] = process.argv.slice(2);
  if (!portFile) throw new Error('usage: node receiver.js PORT_FILE [SLOW_MS]');
  let requests = 0;
  let first = null;
  let last = null;
  const receiver = createReceiver({
    slowMs: Number(slow),
    onArrival: (id, path, at) => { ++requests; if (first === null) first = at; last = at; },
  });
  const port = await receiver.listen();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ requests, first_ms: first, last_ms: last }));
    if (req.url === '/_mark') { requests = 0; first = null; last = null; }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fs.writeFileSync(`${portFile}.tmp`, `${port} ${server.address().port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { createReceiver, now };

if (require.main === module) {
  main().catch((err) => { process.stderr.write(`receiver.js: ${err.message}\n`); process.exit(1); });
}
