#!/usr/bin/env bash
# make_tokens_golden.sh — runs tokens_ref.py for every case tests/test_tokens.c checks
# and writes tests/data/tokens_golden.txt: "<case> <rows> <sha256>" per line. Only
# hashes are committed: the matrices derive from ../shared/data/corpus/dev.jsonl.
# Usage (repository root): ORACLE_NODE_MODULES=/tmp/oracle/node_modules bash tests/reference/make_tokens_golden.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${HS_SHARED_DIR:-../shared}
DEV=$SHARED/data/corpus/dev.jsonl
NEOX=$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json
GPT2=$SHARED/data/tokenizers/gpt2.tokenizer.json
out=tests/data/tokens_golden.txt
run() {  # case, then tokens_ref.py arguments
    local name=$1; shift
    local res
    res=$(/usr/bin/python3 tests/reference/tokens_ref.py "$DEV" "$@")
    echo "$name $(echo "$res" | awk '/^shape/{print $2}') $(echo "$res" | awk '/^sha256/{print $2}')"
}
{
    echo "# case rows sha256(int64 LE row-major) — written by tests/reference/make_tokens_golden.sh"
    run tl_dev --tokenizer "$NEOX"
    run tl_dev_noshuffle --tokenizer "$NEOX" --no-shuffle
    run tl_dev_n64_seed1 --tokenizer "$NEOX" --n-ctx 64 --seed 1
    run tl_first120 --tokenizer "$NEOX" --limit 120
    run tl_first100 --tokenizer "$NEOX" --limit 100
    run tl_first60 --tokenizer "$NEOX" --limit 60
    # Llama family (llama.md §8): chunks encoded with add_special_tokens; pad = the model's EOS
    run tl_first60_llama3 --tokenizer "$SHARED/data/tokenizers/llama3.tokenizer.json" --limit 60 --add-special-tokens \
        --eos-id 128001 --eos-text '<|end_of_text|>' --bos-id 128000
    run tl_first60_llama2 --tokenizer "$SHARED/data/tokenizers/llama2.tokenizer.json" --limit 60 --add-special-tokens \
        --eos-id 2 --eos-text '</s>' --bos-id 1
    run tl_first60_qwen2 --tokenizer "$SHARED/data/tokenizers/qwen2.tokenizer.json" --limit 60 --add-special-tokens \
        --eos-id 151643 --no-bos-column
    run tl_first40 --tokenizer "$NEOX" --limit 40
    run tl_first30 --tokenizer "$NEOX" --limit 30
    run tl_nulls5_first80 --tokenizer "$NEOX" --limit 80 --null-every 5
    run tl_nulls4_80_40 --tokenizer "$NEOX" --skip 80 --limit 40 --null-every 4
    run plain_dev --tokenizer "$NEOX" --mode plain
    run tl_dev_gpt2 --tokenizer "$GPT2" --special-id 50256
    run plain_dev_gpt2 --tokenizer "$GPT2" --special-id 50256 --mode plain --n-ctx 128
    run fake_dev --fake
    run fake_dev_odd --fake --num-proc 3 --batch-size 50 --n-ctx 17 --chunks 7 --seed 7
    run fake_dev_plain --fake --mode plain --n-ctx 100 --no-shuffle
} > "$out"
cat "$out"
