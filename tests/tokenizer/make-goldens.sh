#!/usr/bin/env bash
# make-goldens.sh — regenerates tests/tokenizer/golden/ with the HuggingFace tokenizers oracle
# (Rust library via @anush008/tokenizers 0.6.0, installed from bench/tokenize-oracle's lock file).
# Inputs are our own (adversarial.jsonl, gen_adversarial.py --large, UCD files) or hashes of
# outputs over shared tokenizers, so committing the results is allowed.
#   bash tests/tokenizer/make-goldens.sh [SHARED_DIR]      (default: ../shared beside the clone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${1:-$root/../shared}
tokdir=$shared/data/tokenizers
golden=$here/golden
(cd "$root/bench/tokenize-oracle" && npm ci --silent --no-audit --no-fund)
export ORACLE_NODE_MODULES=$root/bench/tokenize-oracle/node_modules
mkdir -p "$golden"
python3 "$here/gen_adversarial.py" > "$here/adversarial.jsonl"
node "$here/oracle/classes.mjs" > "$golden/classes.txt"
python3 -c "import bz2, sys; sys.stdout.buffer.write(bz2.open('/usr/share/unicode/NormalizationTest.txt.bz2').read())" | node "$here/oracle/nfc.mjs" > "$golden/nfc-disagreements.txt"
large=$(mktemp)
trap 'rm -f "$large"' EXIT
python3 "$here/gen_adversarial.py" --large > "$large"
: > "$golden/hashes.txt"
for t in gpt-neox-20b gpt2; do
  node "$here/oracle/encode.mjs" "$tokdir/$t.tokenizer.json" "$here/adversarial.jsonl" > "$golden/adversarial.$t.jsonl"
  echo "large $t $(node "$here/oracle/encode.mjs" "$tokdir/$t.tokenizer.json" "$large" --hash)" >> "$golden/hashes.txt"
  echo "str-tokens $t $(node "$here/oracle/str-tokens.mjs" "$tokdir/$t.tokenizer.json")" >> "$golden/hashes.txt"
done
echo "goldens written to $golden"
