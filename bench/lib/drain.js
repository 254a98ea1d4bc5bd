// Times how long punt takes to deliver a subscription's held backlog: enables
// the subscription (PATCH {"enabled": true}) and waits until its delivery
// counts (GET /v1/subscriptions/{id}) show every delivery delivered or dead.
//
//   node drain.js BASE KEY SUB RECEIVER_STATUS_URL [TIMEOUT_S] [STALL_S]
//
// Progress is watched cheaply on the receiver (nginx stub_status, every
// 100 ms); punt's counts (a GROUP BY over the subscription's deliveries) are
// read once a second, and at once whenever the receiver has gone quiet, so
// the poller itself costs punt little. The clock stops when the answer
// showing completion arrives (never earlier than the truth).
// Fails if nothing moves for STALL_S (default 30) or after TIMEOUT_S (900).
// Prints JSON: total, delivered, dead, seconds, rate, enable_ms,
// receiver_requests (POSTs the receiver got: deliveries per request shows
// whether xAPI statements went in batches). RECEIVER_STATUS_URL "-" (a
// receiver without stub_status): punt's counts are read every 100 ms instead,
// and receiver_requests is -1.
'use strict';
const { expect, request, sleep, run } = require('./http');

async function receiverRequests(url) {
  if (url === '-') return 0;  // a receiver of the caller's: no stub_status to read
  const res = await request('GET', url, { timeoutMs: 5000 });
  const m = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(res.text);
  if (res.status !== 200 || !m) throw new Error(`unexpected stub_status answer: ${res.text}`);
  return Number(m[3]);
}

async function main() {
  const [base, key, sub, statusUrl, timeoutS = '900', stallS = '30'] = process.argv.slice(2);
  if (!statusUrl) throw new Error('usage: node drain.js BASE KEY SUB RECEIVER_STATUS_URL [TIMEOUT_S] [STALL_S]');
  const subUrl = `${base}/v1/subscriptions/${sub}`;
  const counts = async () => (await expect(200, 'GET', subUrl, { key })).json.deliveries;
  const sum = (c) => Object.values(c).reduce((a, b) => a + b, 0);

  const before = await counts();
  const total = sum(before);
  if (total === 0 || before.held !== total) {
    throw new Error(`expected a held backlog, found ${JSON.stringify(before)}`);
  }
  const r0 = await receiverRequests(statusUrl);
  let polls = 0;

  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  await expect(200, 'PATCH', subUrl, { key, json: { enabled: true } });
  const enableMs = elapsed() * 1000;

  let last = before;
  let lastReceiver = r0;
  let lastChange = elapsed();
  let lastCountsAt = 0;
  for (;;) {
    await sleep(100);
    const r = await receiverRequests(statusUrl);
    ++polls;
    const quiet = statusUrl === '-' || r - lastReceiver <= 1;  // only our own status request
    if (!quiet) lastChange = elapsed();
    lastReceiver = r;
    if (quiet || elapsed() - lastCountsAt >= 1) {
      lastCountsAt = elapsed();
      const c = await counts();
      if (JSON.stringify(c) !== JSON.stringify(last)) lastChange = elapsed();
      last = c;
      if (c.delivered + c.dead === total) break;
    }
    if (elapsed() - lastChange > Number(stallS)) {
      throw new Error(`no progress for ${stallS} s: ${JSON.stringify(last)}`);
    }
    if (elapsed() > Number(timeoutS)) throw new Error(`not done in ${timeoutS} s: ${JSON.stringify(last)}`);
  }
  const seconds = elapsed();
  const receiver = statusUrl === '-' ? -1 : (await receiverRequests(statusUrl)) - r0 - polls - 1;
  console.log(JSON.stringify({
    total, delivered: last.delivered, dead: last.dead, seconds: Number(seconds.toFixed(3)),
    rate: Number((last.delivered / seconds).toFixed(1)), enable_ms: Math.round(enableMs),
    receiver_requests: receiver }));
}

run(main);
