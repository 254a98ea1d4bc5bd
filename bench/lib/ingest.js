// Posts exactly COUNT events to punt's POST /v1/events, PER_REQUEST events a
// request (an array; a single object when 1), over CONNECTIONS keep-alive
// connections; every answer must be 202. Used to build delivery backlogs.
//
//   node ingest.js BASE KEY TEMPLATES COUNT PER_REQUEST CONNECTIONS ID_PREFIX [TIMEOUT_S]
//
// Events cycle through the templates of events.js; ids are ID_PREFIX-0-N.
// Prints: events=N requests=R seconds=S rate=R (events per second).
'use strict';
const fs = require('node:fs');
const { expect, run } = require('./http');

async function main() {
  const [base, key, templatesFile, count, perRequest, connections, prefix, timeoutS = '900'] =
    process.argv.slice(2);
  if (!prefix) throw new Error('usage: node ingest.js BASE KEY TEMPLATES COUNT PER_REQUEST CONNECTIONS ID_PREFIX');
  const templates = fs.readFileSync(templatesFile, 'utf8').split('\n').filter(Boolean)
    .map((line) => line.split('"@ID@"'));
  const total = Number(count);
  const per = Math.max(1, Number(perRequest));
  const deadline = Date.now() + Number(timeoutS) * 1000;
  let next = 0;
  let requests = 0;

  function body(from, n) {
    const events = [];
    for (let i = from; i < from + n; ++i) {
      const [head, tail] = templates[i % templates.length];
      events.push(`${head}"${prefix}-0-${i}"${tail}`);
    }
    return per === 1 ? events[0] : `[${events.join(',')}]`;
  }

  async function worker() {
    while (next < total) {
      if (Date.now() > deadline) throw new Error(`not done in ${timeoutS} s (${next} of ${total} sent)`);
      const from = next;
      const n = Math.min(per, total - from);
      next += n;
      await expect(202, 'POST', `${base}/v1/events`, { key, body: body(from, n) });
      ++requests;
    }
  }

  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.max(1, Number(connections)) }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`events=${total} requests=${requests} seconds=${seconds.toFixed(3)} ` +
              `rate=${(total / seconds).toFixed(1)}`);
}

run(main);
