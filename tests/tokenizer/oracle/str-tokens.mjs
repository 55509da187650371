// str-tokens.mjs — sha256 (hex) of decode([id]) for every id 0..size-1 of a tokenizer, one
// JSON string per line (JSON.stringify form): what TransformerLens to_str_tokens shows per id,
// and what `headscan tokenize --decode @ids --str-tokens --lines` must print.
import crypto from 'node:crypto';
import { hf } from './oracle-common.mjs';
const tk = hf.Tokenizer.fromFile(process.argv[2]);
const n = tk.getVocabSize(true);
const hash = crypto.createHash('sha256');
for (let id = 0; id < n; id++) hash.update(JSON.stringify(await tk.decode([id], false)) + '\n');
process.stdout.write(`${n} ${hash.digest('hex')}\n`);
