#!/usr/bin/env node
// hf-decode.mjs - decode token ids with HuggingFace `tokenizers` (the oracle for TL's
// to_str_tokens / to_string: tokenizer.decode(ids, skip_special_tokens=False)).
//
// usage: node hf-decode.mjs TOKENIZER_JSON < ids.json
//   stdin:  a JSON array of id arrays, e.g. [[0], [1234], [510, 1234]]
//   stdout: a JSON array with one decoded string per id array
// Modules resolve from $ORACLE_NODE_MODULES (npm install --prefix DIR @anush008/tokenizers@0.6.0,
// then ORACLE_NODE_MODULES=DIR/node_modules), like shared/tools/hf-tokenize.mjs.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.ORACLE_NODE_MODULES
  ? new URL('file://' + process.env.ORACLE_NODE_MODULES.replace(/\/?$/, '/') + '../x.js')
  : import.meta.url);
const args = process.argv.slice(2);
if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
  process.stdout.write('usage: node hf-decode.mjs TOKENIZER_JSON < ids.json (JSON array of id arrays)\n');
  process.exit(args.length === 1 ? 0 : 2);
}
let mod;
try { mod = require('@anush008/tokenizers'); } catch (e) {
  process.stderr.write('hf-decode: cannot load @anush008/tokenizers; set ORACLE_NODE_MODULES\n');
  process.exit(2);
}
const tk = mod.Tokenizer.fromFile(args[0]);
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = [];
for (const ids of input) out.push(await tk.decode(ids, false));
process.stdout.write(JSON.stringify(out) + '\n');
