// What one durable commit costs this machine's disk at least: COUNT times,
// SIZE bytes written into a file in DIR (over what was written before, as
// SQLite rewrites its WAL from the start after a checkpoint) and then
// fdatasync'ed, as punt's WAL sync does. The file is removed afterwards.
//
//   node flush.js DIR [SIZE_BYTES] [COUNT]
//
// Prints: median_us=M p90_us=P mean_us=A (one write + fdatasync).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { run } = require('./http');

async function main() {
  const [dir, sizeArg = '131072', countArg = '300'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: node flush.js DIR [SIZE_BYTES] [COUNT]');
  const size = Number(sizeArg);
  const count = Number(countArg);
  const span = 32 * size;  // the region written over, again and again
  const file = path.join(dir, `flush-probe-${process.pid}.bin`);
  const fd = fs.openSync(file, 'w+', 0o600);
  try {
    const block = Buffer.alloc(size, 0x5a);
    for (let offset = 0; offset < span; offset += size) fs.writeSync(fd, block, 0, size, offset);
    fs.fsyncSync(fd);
    const took = [];
    for (let i = 0; i < count; ++i) {
      block.writeUInt32LE(i, 0);  // new bytes each time
      const start = process.hrtime.bigint();
      fs.writeSync(fd, block, 0, size, (i * size) % span);
      fs.fdatasyncSync(fd);
      took.push(Number(process.hrtime.bigint() - start) / 1e3);
    }
    took.sort((a, b) => a - b);
    const mean = took.reduce((a, b) => a + b, 0) / took.length;
    console.log(`median_us=${took[took.length >> 1].toFixed(0)} ` +
                `p90_us=${took[Math.floor(took.length * 0.9)].toFixed(0)} mean_us=${mean.toFixed(0)}`);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

run(main);
