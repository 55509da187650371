// oracle-common.mjs — loads the HuggingFace `tokenizers` Rust library (napi build
// @anush008/tokenizers 0.6.0 = tokenizers 0.22.x) for the golden generators in this
// folder. Modules resolve from $ORACLE_NODE_MODULES (default: bench/tokenize-oracle/node_modules,
// installed by tests/tokenizer/make-goldens.sh).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.ORACLE_NODE_MODULES || path.join(here, '../../../bench/tokenize-oracle/node_modules');
const require = createRequire(path.join(nm, '../x.js'));
export const hf = require('@anush008/tokenizers');
