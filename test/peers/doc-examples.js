// Extracts the examples of docs/xapi-mapping.md into a folder:
//   node doc-examples.js DOC OUTDIR
// writes OUTDIR/<type>.event.json and OUTDIR/<type>.statement.json for every
// "<!-- example: TYPE event|statement -->" marker followed by a ```json block.
'use strict';
const fs = require('fs');
const path = require('path');
const [doc, outdir] = process.argv.slice(2);
const text = fs.readFileSync(doc, 'utf8');
const re = /<!-- example: (\S+) (event|statement) -->\s*```json\n([\s\S]*?)\n```/g;
let m;
let n = 0;
while ((m = re.exec(text))) {
  JSON.parse(m[3]);  // each example must be JSON
  fs.writeFileSync(path.join(outdir, `${m[1]}.${m[2]}.json`), m[3]);
  n++;
}
console.log(`extracted ${n} examples`);
