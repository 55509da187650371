#!/usr/bin/env bash
# cli_train.sh — `headscan train` from the command line: help, usage errors, a bad
# data file, and a tiny training run writing a checkpoint directory.
# usage: bash cli_train.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2
fail=0; n=0
check() { n=$((n+1)); if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail+1)); fi; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$HS" train --help > "$T/help" 2>&1; rc=$?
check "--help exits 0" '[ $rc -eq 0 ] && grep -q -- "--attn-only" "$T/help"'
"$HS" train --tokenizer x --out "$T/o" > /dev/null 2> "$T/err"; rc=$?
check "missing --data is a usage error" '[ $rc -eq 2 ] && grep -q -- "--data" "$T/err"'
"$HS" train --data x --tokenizer y --out "$T/o" --d-model 30 --heads 4 > /dev/null 2> "$T/err"; rc=$?
check "d_model not a multiple of heads" '[ $rc -eq 2 ] && grep -q "multiple" "$T/err"'
"$HS" train --data x --tokenizer y --out "$T/o" --lr abc > /dev/null 2> "$T/err"; rc=$?
check "bad number" '[ $rc -eq 2 ] && grep -q "abc" "$T/err"'
"$HS" train --data "$T/none.npy" --tokenizer "$SRC/models/toy/tokenizer.json" --out "$T/o" > /dev/null 2> "$T/err"; rc=$?
check "missing data file names it" '[ $rc -eq 1 ] && grep -q "none.npy" "$T/err" && [ ! -e "$T/o" ]'

# tiny run on tokens made here (.npy int32 [4, 9])
python3 - "$T/tok.npy" <<'PY'
import struct, sys
rows = [[0] + [(r * 7 + j * 3) % 50 + 1 for j in range(8)] for r in range(4)]
hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 9), }"
hdr += " " * (63 - (len(hdr) + 10) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for r in rows: f.write(struct.pack("<9i", *r))
PY
"$HS" train --data "$T/tok.npy" --tokenizer "$SRC/models/toy/tokenizer.json" --out "$T/m" --layers 1 --d-model 16 \
  --heads 2 --d-mlp 16 --n-ctx 8 --steps 3 --batch 2 --threads 1 > "$T/out" 2> "$T/err"; rc=$?
check "tiny training run succeeds" '[ $rc -eq 0 ] && grep -q "wrote" "$T/out"'
check "progress is reported" 'grep -q "step 3/3" "$T/err"'
check "checkpoint files" '[ -s "$T/m/config.json" ] && [ -s "$T/m/model.safetensors" ] && [ -s "$T/m/tokenizer.json" ]'
# the same run is deterministic; --qkv-bias-std changes the initial biases, hence the result
tiny() { "$HS" train --data "$T/tok.npy" --tokenizer "$SRC/models/toy/tokenizer.json" --layers 1 --d-model 16 \
  --heads 2 --d-mlp 16 --n-ctx 8 --steps 3 --batch 2 --threads 1 --quiet "$@" > /dev/null 2> "$T/err"; }
tiny --out "$T/m2"; tiny --out "$T/m3" --qkv-bias-std 0.5
check "a repeated run gives the same weights" 'cmp -s "$T/m/model.safetensors" "$T/m2/model.safetensors"'
check "--qkv-bias-std changes the weights" '[ -s "$T/m3/model.safetensors" ] && ! cmp -s "$T/m/model.safetensors" "$T/m3/model.safetensors"'
tiny --out "$T/m4" --qkv-bias-std -1; rc=$?
check "--qkv-bias-std -1 is a usage error" '[ $rc -eq 2 ] && grep -q -- "qkv-bias-std" "$T/err"'
echo "cli_train: $((n-fail)) passed, $fail failed"
[ $fail -eq 0 ]
