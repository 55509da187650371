#!/usr/bin/env bash
# cli_tokens.sh — `headscan tokens` end to end: the study's matrix from dev.jsonl and
# from Parquet equals shared/data/corpus/dev.tl-n256-shuffle42.npy byte for byte; the
# sidecar's hashes equal sha256sum's; options; usage errors (exit 2) and bad inputs
# (exit 1, message naming the file, nothing written).
# usage: bash cli_tokens.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2; SHARED=$3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0; n=0
ok() { n=$((n+1)); if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail+1)); fi; }
NEOX=$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json
DEV=$SHARED/data/corpus/dev.jsonl
GOLD=$SHARED/data/corpus/dev.tl-n256-shuffle42.npy
golden() { awk -v c="$1" '$1==c{print $3}' "$SRC/tests/data/tokens_golden.txt"; }
side_sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256_int64_le_rowmajor"])' "$1"; }

"$HS" tokens --help >"$T/help" 2>&1; rc=$?; ok "--help exits 0" '[ $rc -eq 0 ] && grep -q -- "--mode" "$T/help"'
"$HS" tokens --tokenizer "$NEOX" --out "$T/x.npy" 2>"$T/e"; rc=$?; ok "no --dataset: exit 2" '[ $rc -eq 2 ] && grep -q -- "--dataset" "$T/e"'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --model "$T" --out "$T/x.npy" 2>/dev/null; rc=$?; ok "tokenizer and model: exit 2" '[ $rc -eq 2 ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --mode fancy --out "$T/x.npy" 2>/dev/null; rc=$?; ok "bad mode: exit 2" '[ $rc -eq 2 ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 1 --out "$T/x.npy" 2>/dev/null; rc=$?; ok "bad n-ctx: exit 2" '[ $rc -eq 2 ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --shuffle -3 --out "$T/x.npy" 2>/dev/null; rc=$?; ok "bad seed: exit 2" '[ $rc -eq 2 ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --bogus --out "$T/x.npy" 2>/dev/null; rc=$?; ok "unknown option: exit 2" '[ $rc -eq 2 ]'
ok "nothing written by usage errors" '[ ! -e "$T/x.npy" ]'

# the study's matrix
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --out "$T/dev.npy" 2>"$T/e"; rc=$?
ok "dev.jsonl builds (rc $rc: $(cat "$T/e"))" '[ $rc -eq 0 ]'
ok "dev.jsonl = shared golden, byte for byte" 'cmp -s "$T/dev.npy" "$GOLD"'
ok "sidecar matrix hash = reference hash" '[ "$(side_sha "$T/dev.npy.json")" = "$(golden tl_dev)" ]'
ok "sidecar source hash = sha256sum" 'grep -q "$(sha256sum "$DEV" | cut -c1-64)" "$T/dev.npy.json"'
ok "sidecar tokenizer hash = sha256sum" 'grep -q "$(sha256sum "$NEOX" | cut -c1-64)" "$T/dev.npy.json"'
ok "summary on stderr" 'grep -q "322 documents -> 3948 x 256" "$T/e"'
mkdir "$T/model"; ln -s "$(realpath "$NEOX")" "$T/model/tokenizer.json"
"$HS" tokens --dataset "$SHARED/data/parquet/dev.snappy.parquet" --model "$T/model" --threads 1 --quiet --out "$T/pq.npy" 2>"$T/e"
ok "Parquet + --model = shared golden" 'cmp -s "$T/pq.npy" "$GOLD" && [ ! -s "$T/e" ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --no-shuffle --quiet --out "$T/ns.npy"
ok "--no-shuffle = reference" '[ "$(side_sha "$T/ns.npy.json")" = "$(golden tl_dev_noshuffle)" ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --shuffle 1 --quiet --out "$T/n64.npy"
ok "--n-ctx 64 --shuffle 1 = reference" '[ "$(side_sha "$T/n64.npy.json")" = "$(golden tl_dev_n64_seed1)" ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --mode plain --quiet --out "$T/plain.npy"
ok "--mode plain = reference" '[ "$(side_sha "$T/plain.npy.json")" = "$(golden plain_dev)" ]'

# bad inputs: exit 1, the file named, nothing written
"$HS" tokens --dataset "$T/none.jsonl" --tokenizer "$NEOX" --out "$T/o1.npy" 2>"$T/e"; rc=$?
ok "missing dataset: exit 1 naming it" '[ $rc -eq 1 ] && grep -q "none.jsonl" "$T/e" && [ ! -e "$T/o1.npy" ]'
printf '{"text": "fine"}\n{"text": "bad \xff byte"}\n' > "$T/bad.jsonl"
"$HS" tokens --dataset "$T/bad.jsonl" --tokenizer "$NEOX" --n-ctx 2 --out "$T/o2.npy" 2>"$T/e"; rc=$?
ok "invalid UTF-8: exit 1 naming file and line" '[ $rc -eq 1 ] && grep -q "bad.jsonl: line 2: invalid UTF-8" "$T/e" && [ ! -e "$T/o2.npy" ]'
"$HS" tokens --dataset "$T/bad.jsonl" --tokenizer "$NEOX" --n-ctx 2 --utf8 replace --quiet --out "$T/o3.npy" 2>"$T/e"; rc=$?
ok "--utf8 replace succeeds" '[ $rc -eq 0 ] && [ -s "$T/o3.npy" ]'
printf '{"text": "a"}\n{"txt": "b"}\n' > "$T/nofield.jsonl"
"$HS" tokens --dataset "$T/nofield.jsonl" --tokenizer "$NEOX" --out "$T/o4.npy" 2>"$T/e"; rc=$?
ok "missing field: exit 1" '[ $rc -eq 1 ] && grep -q "line 2: no field" "$T/e" && [ ! -e "$T/o4.npy" ]'
"$HS" tokens --dataset "$SHARED/data/parquet/nulls.snappy.parquet" --tokenizer "$NEOX" --nulls error --out "$T/o5.npy" 2>"$T/e"; rc=$?
ok "--nulls error: exit 1 naming the row" '[ $rc -eq 1 ] && grep -q "row 4" "$T/e" && [ ! -e "$T/o5.npy" ]'
"$HS" tokens --dataset "$SHARED/data/parquet/apache/bad/ARROW-GH-41321.parquet" --tokenizer "$NEOX" --field a --out "$T/o6.npy" 2>"$T/e"; rc=$?
ok "corrupt Parquet: exit 1" '[ $rc -eq 1 ] && grep -q "ARROW-GH-41321" "$T/e" && [ ! -e "$T/o6.npy" ]'
printf '{"text": "hi"}\n' > "$T/tiny.jsonl"
"$HS" tokens --dataset "$T/tiny.jsonl" --tokenizer "$NEOX" --out "$T/o7.npy" 2>"$T/e"; rc=$?
ok "too little text for a row: exit 1" '[ $rc -eq 1 ] && grep -q "no complete row" "$T/e" && [ ! -e "$T/o7.npy" ]'
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --quiet --out "$T/nodir/x.npy" 2>"$T/e"; rc=$?
ok "unwritable output: exit 1" '[ $rc -eq 1 ] && grep -q "nodir" "$T/e"'
ok "no temporaries left" '! ls "$T" | grep -q "\.tmp\."'
# directory input: files in sorted order, text + JSONL
mkdir "$T/ds"; printf 'second file' > "$T/ds/b.txt"; printf '{"text": "first"}\n' > "$T/ds/a.jsonl"
"$HS" tokens --dataset "$T/ds" --tokenizer "$NEOX" --n-ctx 2 --no-shuffle --quiet --out "$T/ds.npy"; rc=$?
ok "directory dataset" '[ $rc -eq 0 ] && grep -q "a.jsonl" "$T/ds.npy.json" && grep -q "b.txt" "$T/ds.npy.json"'

echo "cli_tokens: $n checks, $fail failed"
[ $fail -eq 0 ]
