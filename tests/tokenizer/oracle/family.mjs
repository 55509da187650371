// family.mjs — HF tokenizers (Rust) on every document of JSONL files, both ways, for the
// Llama-family tests (run at test time: outputs over shared files are never committed).
//   node family.mjs TOKENIZER_JSON IN.jsonl [IN2.jsonl ...]
// One line per document (blank lines skipped), in order:
//   {"ids": encode(text, add_special_tokens=false), "ids_special": encode(text, true),
//    "decoded": decode(ids, false), "decoded_special": decode(ids_special, false),
//    and for the first 16: "pair_special": encode(text, next document's text, true)}
// then one last line {"str_tokens_sha256": sha256 of JSON.stringify(decode([id])) + "\n"
// for every id 0..size-1, "size": size}.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { hf } from './oracle-common.mjs';
const [tokPath, ...inputs] = process.argv.slice(2);
const tk = hf.Tokenizer.fromFile(tokPath);
const texts = [];
for (const inPath of inputs)
  for (const line of fs.readFileSync(inPath, 'utf8').split('\n')) if (line.trim() !== '') texts.push(JSON.parse(line).text);
// encodeBatch / decodeBatch give what encode / decode give, one document at a time
const ids = (await tk.encodeBatch(texts, { addSpecialTokens: false })).map((e) => Array.from(e.getIds()));
const idsSpecial = (await tk.encodeBatch(texts, { addSpecialTokens: true })).map((e) => Array.from(e.getIds()));
const decoded = await tk.decodeBatch(ids, false), decodedSpecial = await tk.decodeBatch(idsSpecial, false);
// pairs: (text i, text i+1) for the first 16 documents, encode(a, b, add_special_tokens=true)
const pairs = [];
for (let i = 0; i < 16 && i + 1 < texts.length; i++)
  pairs.push(Array.from((await tk.encode(texts[i], texts[i + 1], { addSpecialTokens: true })).getIds()));
const out = texts.map((_, i) => JSON.stringify({ ids: ids[i], ids_special: idsSpecial[i], decoded: decoded[i],
  decoded_special: decodedSpecial[i], ...(i < pairs.length ? { pair_special: pairs[i] } : {}) }));
const n = tk.getVocabSize(true);
const single = [];
for (let id = 0; id < n; id++) single.push([id]);
const hash = crypto.createHash('sha256');
for (const s of await tk.decodeBatch(single, false)) hash.update(JSON.stringify(s) + '\n');
out.push(JSON.stringify({ str_tokens_sha256: hash.digest('hex'), size: n }));
process.stdout.write(out.join('\n') + '\n');
