// encode.mjs — HF tokenizers encode + decode of every document of a JSONL file.
//   node encode.mjs TOKENIZER_JSON INPUT.jsonl          one line per document:
//        {"name": ..., "ids": [...], "decoded": decode(ids, skip_special_tokens=false)}
//   node encode.mjs TOKENIZER_JSON INPUT.jsonl --hash   sha256 (hex) of the lines "[ids]\n",
//        i.e. of what `headscan tokenize --jsonl INPUT` must print
// add_special_tokens=false, as TransformerLens / tokenizer(text) gives for NeoX and GPT-2.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { hf } from './oracle-common.mjs';
const [tokPath, inPath, flag] = process.argv.slice(2);
const tk = hf.Tokenizer.fromFile(tokPath);
const lines = fs.readFileSync(inPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
const hash = crypto.createHash('sha256');
const out = [];
for (const line of lines) {
  const d = JSON.parse(line);
  const e = await tk.encode(d.text, null, { addSpecialTokens: false });
  const ids = Array.from(e.getIds());
  if (flag === '--hash') { hash.update(JSON.stringify(ids) + '\n'); continue; }
  const decoded = await tk.decode(ids, false);
  out.push(JSON.stringify({ name: d.name, ids, decoded }));
}
process.stdout.write(flag === '--hash' ? hash.digest('hex') + '\n' : out.join('\n') + '\n');
