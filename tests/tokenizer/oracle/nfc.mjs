// nfc.mjs — HF tokenizers' NFC normalizer on every field of NormalizationTest.txt.
//   python3 -c "import bz2,sys; sys.stdout.buffer.write(bz2.open('/usr/share/unicode/NormalizationTest.txt.bz2').read())" | node nfc.mjs
// Prints the cases where HF disagrees with the file's NFC column (c2 for c1..c3, c4 for
// c4..c5): "LINE COLUMN HEX HEX ..." with HF's actual result (line numbers are 1-based).
import fs from 'node:fs';
import { hf } from './oracle-common.mjs';
const nfc = hf.nfcNormalizer();
const lines = fs.readFileSync(0, 'utf8').split('\n');
const str = (f) => String.fromCodePoint(...f.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const hex = (s) => Array.from(s).map((c) => c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')).join(' ');
const out = [];
lines.forEach((line, i) => {
  const body = line.split('#')[0];
  if (!body.trim() || body.startsWith('@')) return;
  const f = body.split(';').slice(0, 5).map(str);
  for (let c = 0; c < 5; c++) {
    const got = nfc.normalizeString(f[c]);
    const want = c < 3 ? f[1] : f[3];
    if (got !== want) out.push(`${i + 1} ${c + 1} ${hex(got)}`);
  }
});
process.stdout.write(out.join('\n') + '\n');
