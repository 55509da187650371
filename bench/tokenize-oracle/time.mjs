// time.mjs — HF tokenizers' own single-thread encode time on a JSONL corpus, for
// bench/tokenize.sh. Node start-up, file reading and JSON parsing are outside the timing;
// each document is encoded with `await tk.encode(text)` one after the other, so the Rust
// library encodes on one thread at a time (encode_batch would use a thread pool).
//   node time.mjs TOKENIZER_JSON CORPUS.jsonl [PASSES]
// Prints: "hf passes=N tokens=T first_ms=F best_ms=B best_cpu_ms=C" (wall-clock; CPU time of the
// whole process, the steadier figure when the machine is shared).
import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');
const [tokPath, corpus, passesArg] = process.argv.slice(2);
const passes = Number(passesArg || 3);
const docs = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text);
const tk = Tokenizer.fromFile(tokPath);
let first = 0, best = Infinity, tokens = 0, bestCpu = Infinity;
for (let p = 0; p < passes; p++) {
  tokens = 0;
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  for (const d of docs) tokens += (await tk.encode(d, null, { addSpecialTokens: false })).getLength();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e3;   // all threads of the process
  if (p === 0) first = ms;
  best = Math.min(best, ms);
  bestCpu = Math.min(bestCpu, cpu);
}
console.log(`hf passes=${passes} tokens=${tokens} first_ms=${first.toFixed(1)} best_ms=${best.toFixed(1)} best_cpu_ms=${bestCpu.toFixed(1)}`);
