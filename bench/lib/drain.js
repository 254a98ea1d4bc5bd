// Times how long punt takes to deliver a subscription's held backlog: enables
// the subscription (PATCH {"enabled": true}) and waits until its delivery
// counts (GET /v1/subscriptions/{id}) show every delivery delivered or dead.
//
//   node drain.js BASE KEY SUB RECEIVER_STATUS_URL [TIMEOUT_S] [STALL_S]
//
// Progress is watched cheaply on the receiver (nginx stub_status, every
// 10 ms: a request to nginx, nothing to punt); punt's counts (which walk the
// subscription's waiting deliveries) are read once a second, and when the
// receiver has gone quiet (see the loop). So the poller costs punt little,
// and the clock stops when the answer showing completion arrives: never
// earlier than the truth, and 10-40 ms after the last outcome is recorded
// (before 2026-12-06 the receiver was polled every 100 ms, which stopped it
// 100-200 ms late).
// Fails if nothing moves for STALL_S (default 30) or after TIMEOUT_S (900).
// Prints JSON: total, delivered, dead, seconds, rate, enable_ms,
// receiver_requests (POSTs the receiver got: deliveries per request shows
// whether xAPI statements went in batches), last_request_s (the poll that
// last saw the receiver take a request: seconds minus it is what recording
// the last outcomes took, plus up to 10 ms). RECEIVER_STATUS_URL "-" (a
// receiver without stub_status): punt's counts are read every 100 ms instead,
// and receiver_requests and last_request_s are -1.
'use strict';
const { expect, request, sleep, run } = require('./http');

const RECEIVER_POLL_MS = 10;
const COUNTS_POLL_MS = 100;  // with no receiver count to watch
const COUNTS_EVERY_S = 1;
const COUNTS_WHEN_QUIET_EVERY_S = 0.1;
const COUNTS_SOON_S = 0.02;

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
  let lastProgress = 0;
  let lastCountsAt = 0;
  for (;;) {
    await sleep(statusUrl === '-' ? COUNTS_POLL_MS : RECEIVER_POLL_MS);
    const r = await receiverRequests(statusUrl);
    ++polls;
    const quiet = statusUrl === '-' || r - lastReceiver <= 1;  // only our own status request
    if (!quiet) lastChange = lastProgress = elapsed();
    lastReceiver = r;
    // The receiver going quiet after it took requests asks at once (the end,
    // or a pause between claims); a quiet that goes on asks again every
    // 20 ms once nothing waits to be sent (only outcomes are left to
    // record), else every 100 ms.
    const sinceCounts = elapsed() - lastCountsAt;
    const sent = last.pending + last.retrying + last.held === 0;
    const askQuiet =
        sent || lastProgress > lastCountsAt ? COUNTS_SOON_S : COUNTS_WHEN_QUIET_EVERY_S;
    if ((quiet && sinceCounts >= askQuiet) || sinceCounts >= COUNTS_EVERY_S) {
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
    total,
    delivered: last.delivered,
    dead: last.dead,
    seconds: Number(seconds.toFixed(3)),
    rate: Number((last.delivered / seconds).toFixed(1)),
    enable_ms: Math.round(enableMs),
    receiver_requests: receiver,
    last_request_s: statusUrl === '-' ? -1 : Number(lastProgress.toFixed(3))
  }));
}

run(main);
