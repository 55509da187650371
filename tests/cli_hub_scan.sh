#!/usr/bin/env bash
# cli_hub_scan.sh — issue 8's end-to-end: `headscan scan --model EleutherAI/pythia-70m
# --dataset NeelNanda/pile-10k` through a fake hub (tests/fakehub.py on 127.0.0.1, via
# HF_ENDPOINT), then the same command offline against the cache it filled, with no
# server at all. The fake repos hold a real (tiny) GPT-NeoX checkpoint with the real
# GPT-NeoX tokenizer and a real pile-10k-shaped Parquet file, copied at test time.
# Also issue 10's short names: `gpt2-small` and `distil-gpt2` (TransformerLens aliases) are
# fetched from the fake repos "gpt2" and "distilgpt2" (the GPT-2-vocabulary fixture with the
# real GPT-2 tokenizer), and `headscan prompt` on them prints gpt2_ref.py's test_prompt.
set -uo pipefail
HS=$(realpath "$1"); SRC=$2; SHARED=$3
PY=/usr/bin/python3
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HUGGINGFACE_HUB_CACHE HF_TOKEN_PATH
export HF_HOME=$T/hfhome HF_HUB_CACHE=$T/cache
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL: $*"; fail=$((fail+1)); }

M=$T/root/models/EleutherAI/pythia-70m/main
D=$T/root/datasets/NeelNanda/pile-10k/main
mkdir -p "$M" "$D/data"
cp "$SRC/tests/fixtures/neox-vocab-f16/config.json" "$SRC/tests/fixtures/neox-vocab-f16/model.safetensors" "$M/"
cp "$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json" "$M/tokenizer.json"
cp "$SHARED/data/parquet/pile10k-shaped.parquet" "$D/data/train-00000-of-00001-4746b8785c874cc7.parquet"
for r in gpt2 distilgpt2; do
  mkdir -p "$T/root/models/$r/main"
  cp "$SRC/tests/fixtures/gpt2-vocab-f16/config.json" "$SRC/tests/fixtures/gpt2-vocab-f16/model.safetensors" "$T/root/models/$r/main/"
  cp "$SHARED/data/tokenizers/gpt2.tokenizer.json" "$T/root/models/$r/main/tokenizer.json"
done

$PY "$SRC/tests/fakehub.py" --root "$T/root" --port-file "$T/port" --log "$T/log" --timeout 300 &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
export HF_ENDPOINT=http://127.0.0.1:$(cat "$T/port")

args=(--prompts 4 --batch 2 --n-ctx 64 --induction-batch 2 --induction-len 12 --skip frac_copy_argmax)
"$HS" scan --model EleutherAI/pythia-70m --dataset NeelNanda/pile-10k "${args[@]}" --out "$T/online" >"$T/o1" 2>"$T/e1" \
  && ok || { bad "online scan: $(tail -3 "$T/e1")"; }
[ -s "$T/online/head_table.csv" ] && ok || bad "online scan wrote no head table"
grep -q "train-00000-of-00001-4746b8785c874cc7.parquet" "$T/log" && ok || bad "the dataset was not downloaded"

# GPT-2 short names resolve to their hub repositories (the request log names the repo)
for alias in gpt2-small:gpt2 distil-gpt2:distilgpt2; do
  "$HS" prompt --model "${alias%%:*}" "When John and Mary went to the store, John gave the bag to" " Mary" >"$T/p.txt" 2>"$T/pe" \
    && cmp -s "$T/p.txt" "$SRC/tests/golden/gpt2-vocab-f16/test_prompt.txt" && grep -q "/models/${alias#*:}/" "$T/log" \
    && ok || bad "prompt --model ${alias%%:*}: $(head -3 "$T/pe")"
done

# offline: no server, the cache must be enough
kill "$PID"; wait "$PID" 2>/dev/null; PID=
export HF_ENDPOINT=http://127.0.0.1:9   # nothing listens: any request would fail
HF_HUB_OFFLINE=1 "$HS" scan --model EleutherAI/pythia-70m --dataset NeelNanda/pile-10k "${args[@]}" --out "$T/offline" >"$T/o2" 2>"$T/e2" \
  && ok || bad "offline scan: $(tail -3 "$T/e2")"
cmp -s "$T/online/head_table.csv" "$T/offline/head_table.csv" && ok || bad "offline head table differs from the online one"
cmp -s "$T/online/tokens.npy" "$T/offline/tokens.npy" && ok || bad "offline tokens differ"
# and the same scan from the local files directly gives the same tokens
"$HS" scan --model "$M" --dataset "$D/data" "${args[@]}" --out "$T/local" >/dev/null 2>"$T/e3" && cmp -s "$T/online/tokens.npy" "$T/local/tokens.npy" \
  && ok || bad "local-path scan differs: $(tail -2 "$T/e3")"
# a name that is in neither place, offline: a clear error
if HF_HUB_OFFLINE=1 "$HS" scan --model EleutherAI/pythia-160m --dataset NeelNanda/pile-10k "${args[@]}" --out "$T/x" 2>"$T/e4"; then
  bad "missing model offline exited 0"
else grep -q "pythia-160m" "$T/e4" && ok || bad "message lacks the name: $(cat "$T/e4")"; fi
[ ! -e "$T/x" ] || [ -z "$(ls -A "$T/x")" ] && ok || bad "a failed scan left files"
echo "cli_hub_scan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
