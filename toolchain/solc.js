#!/usr/bin/env node
// A `solc` command-line front for solc-js (the official compiler built to
// WebAssembly), enough for py-solc-x, ape-solidity, forge and slither:
//   --version                      prints the native solc's two-line banner
//   --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B]
//                                  reads standard-JSON on stdin, prints the output
// Imports are resolved against the base path, the include paths, the allowed
// paths and the working directory, in that order.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const args = process.argv.slice(2);
const has = (flag) => args.includes(flag);
const values = (flag) => {
  const out = [];
  args.forEach((a, i) => {
    if (a === flag && i + 1 < args.length) out.push(args[i + 1]);
    else if (a.startsWith(flag + '=')) out.push(a.slice(flag.length + 1));
  });
  return out;
};

if (has('--version')) {
  const v = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  process.stdout.write('solc, the solidity compiler commandline interface\nVersion: ' + v + '\n');
  process.exit(0);
}

if (!has('--standard-json')) {
  process.stderr.write('solc.js: only --version and --standard-json are supported\n');
  process.exit(1);
}

const roots = [
  ...values('--base-path'),
  ...values('--include-path'),
  ...values('--allow-paths').flatMap((p) => p.split(',')),
  process.cwd(),
].filter(Boolean);

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.resolve(root, importPath));
  for (const file of candidates) {
    try {
      return { contents: fs.readFileSync(file, 'utf8') };
    } catch (_) {
      /* try the next root */
    }
  }
  return { error: 'File not found: ' + importPath };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
