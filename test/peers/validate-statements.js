// Validates xAPI statements with Learning Locker's validator
// (@learninglocker/xapi-validation), the one its statement service runs.
// Usage: node validate-statements.js FILE...   (each file: one statement or an array)
// Exits 0 when every statement is valid; prints each warning and exits 1 otherwise.
'use strict';
const fs = require('fs');
const validate = require('@learninglocker/xapi-validation').default;

let failures = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const parsed = JSON.parse(text);
  const statements = Array.isArray(parsed) ? parsed : [parsed];
  statements.forEach((statement, i) => {
    let warnings = [];
    try {
      warnings = validate(statement) || [];
    } catch (err) {
      warnings = err.warnings || [err];
    }
    if (warnings.length) {
      failures++;
      console.log(`INVALID ${file}[${i}]`);
      for (const w of warnings) {
        console.log(`  ${(w.path || []).join('.')}: ${w.message || w.constructor.name || w}`);
      }
    } else {
      console.log(`valid ${file}[${i}] ${statement.id}`);
    }
  });
}
process.exit(failures ? 1 : 0);
