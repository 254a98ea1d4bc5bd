// Small xAPI client for punt's tests, talking to the LRS that lrs.js runs
// (or any xAPI 1.0.x LRS). Credentials go as standard padded base64 (RFC 7617).
//
//   node lrs-client.js count BASE KEY SECRET        number of statements stored
//   node lrs-client.js ids   BASE KEY SECRET        every stored statement id, one a line
//   node lrs-client.js get   BASE KEY SECRET        every stored statement, one JSON a line
//   node lrs-client.js post  BASE KEY SECRET FILE   POST FILE's bytes to BASE/statements;
//                                                   prints the status, then the answer body
//
// BASE is the xAPI base, e.g. http://127.0.0.1:PORT/xAPI (a trailing /statements is
// tolerated). Options (before or after the positional arguments):
//   --auth HEADER      send this Authorization header verbatim instead of key:secret
//   --version V        X-Experience-API-Version (default 1.0.3)
//   --timeout MS       per-request timeout (default 10000)
// count / ids / get follow the "more" link until it is empty. Exit status: 0 on
// success (for post: whatever the LRS answered), 1 when the LRS answered a
// GET with a non-200 status, 2 on usage or network errors.
'use strict';

const fs = require('fs');

function usage(msg) {
  if (msg) process.stderr.write(`lrs-client.js: ${msg}\n`);
  process.stderr.write('usage: node lrs-client.js count|ids|get BASE KEY SECRET\n'
    + '       node lrs-client.js post BASE KEY SECRET FILE\n'
    + '       options: --auth HEADER --version V --timeout MS\n');
  process.exit(2);
}

const positional = [];
const opts = { auth: null, version: '1.0.3', timeout: 10000 };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--auth' || a === '--version' || a === '--timeout') {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      const v = argv[++i];
      if (a === '--auth') opts.auth = v;
      else if (a === '--version') opts.version = v;
      else opts.timeout = Number(v);
    } else {
      positional.push(a);
    }
  }
}
const [cmd, baseArg, key, secret, file] = positional;
if (!cmd || !baseArg || key === undefined || secret === undefined) usage();
if (!['count', 'ids', 'get', 'post'].includes(cmd)) usage(`unknown command ${cmd}`);
if (cmd === 'post' && !file) usage('post needs FILE');

const base = baseArg.replace(/\/+$/, '').replace(/\/statements$/, '');
const statementsUrl = `${base}/statements`;
const authorization = opts.auth !== null
  ? opts.auth
  : 'Basic ' + Buffer.from(`${key}:${secret}`, 'utf8').toString('base64');
const headers = {
  Authorization: authorization,
  'X-Experience-API-Version': opts.version,
};

async function request(url, init) {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(opts.timeout) });
  } catch (err) {
    process.stderr.write(`lrs-client.js: ${init.method || 'GET'} ${url}: ${err.cause ? err.cause.message : err.message}\n`);
    process.exit(2);
  }
}

// Yields every stored statement, following "more" links until one is empty.
// The first request asks for up to 100,000 a page, so the test LRS answers
// in one: its memory store's `more` cursor compares the stored models'
// version-1 UUIDs as strings, whose leading field (the low 32 bits of the
// 100 ns clock) wraps every 429.5 s, and a wrap between two statements made
// every page after the first skip the older ones (a test that happened to
// run across a wrap saw its first statements "missing"). LRSs that cap the
// page size still get their "more" links followed.
async function* allStatements() {
  let url = `${statementsUrl}?limit=100000`;
  const seen = new Set();
  for (let page = 0; ; page++) {
    if (seen.has(url)) throw new Error(`the more link loops: ${url}`);
    seen.add(url);
    const res = await request(url, { method: 'GET', headers });
    const text = await res.text();
    if (res.status !== 200) {
      process.stderr.write(`lrs-client.js: GET ${url} answered ${res.status}: ${text.slice(0, 500)}\n`);
      process.exit(1);
    }
    const json = JSON.parse(text);
    for (const s of json.statements || []) yield s;
    if (!json.more) return;
    url = new URL(json.more, statementsUrl).href;
  }
}

async function main() {
  if (cmd === 'post') {
    const body = fs.readFileSync(file);
    const res = await request(statementsUrl, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body,
    });
    const text = await res.text();
    process.stdout.write(`${res.status}\n${text}\n`);
    return;
  }
  let n = 0;
  const out = [];
  for await (const s of allStatements()) {
    n++;
    if (cmd === 'ids') out.push(s.id);
    else if (cmd === 'get') out.push(JSON.stringify(s));
  }
  if (cmd === 'count') process.stdout.write(`${n}\n`);
  else if (out.length) process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`lrs-client.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
