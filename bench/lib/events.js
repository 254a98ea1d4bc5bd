// Makes the benchmark's events: one template per type of the mix, from the
// golden events in test/golden/events, padded so that the webhook body punt
// sends for it is about BODY_BYTES long. Sizes are measured with punt's own
// `punt webhook-body` and `punt statement`, so they are the bytes punt sends.
//
//   node events.js PUNT_BIN TYPES BODY_BYTES OUT_DIR
//
// The padding goes into user.name (every type has it; it reaches the webhook
// body and the statement's actor) up to its 1,024-character limit, the rest
// into an extra top-level field `bench_pad` (kept in webhook bodies only).
// Writes OUT_DIR/templates.ndjson (one event a line, its id "@ID@"),
// OUT_DIR/webhook-body.json (the first type's webhook body, for the
// receiver baselines) and OUT_DIR/webhook-headers.txt (the headers punt
// adds to that body's request beside Host, Content-Type and Content-Length:
// User-Agent and the three Standard Webhooks headers, signed by `punt
// webhook-sign` with a fresh secret, so the baselines' requests are as long
// as punt's); prints a JSON summary of the sizes.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const NAME_MAX = 1024;
const SAMPLE_ID = 'r000000-1-1000000';  // as long as the ids the load tools make
const SAMPLE_ORG = 'org_bench0000000000000000';

function puntOutput(bin, args, event) {
  const input = typeof event === 'string' ? event : JSON.stringify(event);
  const r = spawnSync(bin, args, { input, timeout: 10000 });
  if (r.status !== 0) throw new Error(`punt ${args[0]}: ${r.stderr}`);
  return r.stdout.toString('utf8').replace(/\n$/, '');
}

function filler(n) {
  const word = 'Learner ';
  return word.repeat(Math.ceil(n / word.length)).slice(0, n);
}

function padded(base, bin, target) {
  const event = structuredClone(base);
  event.id = SAMPLE_ID;
  event.user = { ...event.user, name: 'X' };
  delete event.bench_pad;
  const fixed = Buffer.byteLength(puntOutput(bin, ['webhook-body'], event)) - 1;
  let want = Math.max(1, target - fixed);
  event.user.name = filler(Math.min(want, NAME_MAX));
  want -= event.user.name.length;
  // "bench_pad":"" costs 15 bytes itself.
  if (want > 15) event.bench_pad = filler(want - 15);
  return event;
}

function main() {
  const [bin, typeList, bodyBytes, outDir] = process.argv.slice(2);
  if (!outDir) throw new Error('usage: node events.js PUNT_BIN TYPES BODY_BYTES OUT_DIR');
  const golden = path.join(__dirname, '..', '..', 'test', 'golden', 'events');
  const types = typeList.split(',').filter(Boolean);
  const lines = [];
  const sizes = {};
  let firstBody = null;
  for (const type of types) {
    const file = path.join(golden, `${type}.json`);
    if (!fs.existsSync(file)) throw new Error(`no golden event for ${type} (${file})`);
    const event = padded(JSON.parse(fs.readFileSync(file, 'utf8')), bin, Number(bodyBytes));
    const body = puntOutput(bin, ['webhook-body'], event);
    const learning = type.split('.')[0] !== 'user';
    const statement = learning ? puntOutput(bin, ['statement'], event) : '';
    sizes[type] = { webhook: Buffer.byteLength(body), statement: Buffer.byteLength(statement),
                    event: Buffer.byteLength(JSON.stringify(event)) };
    if (firstBody === null) firstBody = body;
    event.id = '@ID@';
    lines.push(JSON.stringify(event));
  }
  fs.writeFileSync(path.join(outDir, 'templates.ndjson'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(outDir, 'webhook-body.json'), firstBody);
  // The headers of punt's webhook request (delivery/request.cc and
  // plain_client.cc): one secret, so one v1 signature.
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const signed = puntOutput(bin, ['webhook-sign', '--secret', secret, '--event-id', SAMPLE_ID,
    '--org-id', SAMPLE_ORG], firstBody);
  const version = puntOutput(bin, ['--version'], '').replace(/^punt /, '');
  const headers = `User-Agent: punt/${version}\n${signed}\n`;
  fs.writeFileSync(path.join(outDir, 'webhook-headers.txt'), headers);
  const avg = (k, only) => {
    const v = Object.values(sizes).filter((s) => !only || s[k] > 0).map((s) => s[k]);
    return v.length ? Math.round(v.reduce((a, b) => a + b, 0) / v.length) : 0;
  };
  process.stdout.write(`${JSON.stringify({
    webhook_bytes: avg('webhook'), statement_bytes: avg('statement', true),
    event_bytes: avg('event'), webhook_header_bytes: Buffer.byteLength(headers),
    learning_share: types.filter((t) => !t.startsWith('user.')).length / types.length,
    per_type: sizes })}\n`);
}

try { main(); } catch (err) { process.stderr.write(`events.js: ${err.message}\n`); process.exit(1); }
