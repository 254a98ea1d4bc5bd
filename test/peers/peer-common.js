// What every test peer does the same way: read its "--flag value" arguments,
// stop cleanly on SIGTERM/SIGINT, and announce readiness with one JSON line on
// stdout (and, atomically, in a --ready-file) once it listens.
'use strict';
const fs = require('fs');

// Reads "--flag value" arguments: `flags` maps each flag to a function that
// takes its value. -h / --help, an unknown flag or a missing value end in
// usage(message), which exits.
function parseFlags(argv, flags, usage) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') usage();
    if (!Object.hasOwn(flags, a)) usage(`unknown argument ${a}`);
    if (i + 1 >= argv.length) usage(`missing value for ${a}`);
    flags[a](argv[++i]);
  }
}

function validPort(port) { return Number.isInteger(port) && port >= 0 && port <= 65535; }

function exitOnStopSignals() {
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function announceReady(info, readyFile) {
  const line = JSON.stringify({ ready: true, ...info });
  if (readyFile) {
    const tmp = `${readyFile}.tmp${process.pid}`;
    fs.writeFileSync(tmp, line + '\n');
    fs.renameSync(tmp, readyFile);
  }
  process.stdout.write(line + '\n');
}

// Listens on 127.0.0.1 only; `info(port)` gives the ready line's fields.
// A listen error exits 1 with the peer's name.
function listenOnLoopback(server, port, name, readyFile, info) {
  server.on('error', (err) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => announceReady(info(server.address().port), readyFile));
}

module.exports = { parseFlags, validPort, exitOnStopSignals, announceReady, listenOnLoopback };
