// Exits 0 when the two files hold the same JSON value (key order ignored).
'use strict';
const fs = require('fs');
const assert = require('assert');
const [a, b] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
try {
  assert.deepStrictEqual(a, b);
} catch (err) {
  console.log(err.message);
  process.exit(1);
}
