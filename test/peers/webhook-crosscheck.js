// Drives the real Standard Webhooks verifier (npm standardwebhooks@1.1.1) for
// test/blackbox/webhook_signature.test.sh. The body is read from a file, so
// its bytes are exactly what punt signed or verifies.
//
//   node webhook-crosscheck.js verify SECRET BODY_FILE ID TIMESTAMP SIGNATURE
//     exit 0 when the library accepts, 1 (reason on stderr) when it refuses.
//   node webhook-crosscheck.js sign SECRET BODY_FILE ID TIMESTAMP
//     prints the library's webhook-signature.
'use strict';
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const [mode, secret, bodyFile, id, timestamp, signature] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile, 'utf8');
const webhook = new Webhook(secret);

if (mode === 'sign') {
  process.stdout.write(webhook.sign(id, new Date(Number(timestamp) * 1000), body) + '\n');
} else if (mode === 'verify') {
  const headers = {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
  try {
    webhook.verify(body, headers);
  } catch (err) {
    process.stderr.write(`refused: ${err.message}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write('usage: webhook-crosscheck.js sign|verify ...\n');
  process.exit(2);
}
