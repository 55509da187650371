#!/usr/bin/env bash
# toy_model.sh — retrains the bundled toy model from scratch, reproducibly:
# generates the corpus and tokenizer (scripts/toy_data.py, our own text), trains with
# `headscan train`, and copies the result into models/toy/ and data/toy/.
# usage: scripts/toy_model.sh [BUILD_DIR]   (build headscan first; ~15 min with 2 threads)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
WORK=${TOY_WORK:-$BUILD/toy}
HS="$BUILD/headscan"
[ -x "$HS" ] || { echo "toy_model.sh: $HS not found: build headscan first" >&2; exit 1; }
# OpenBLAS detects some virtual CPUs as a generic SSE3 core ("Prescott"), which halves
# sgemm speed; choose the kernel from the CPU flags unless the caller set one.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
# The recipe (models/toy/README.md explains the choices). Rows are taken in file order,
# three stages:
#  A. steps 1-3000, 64-token prefixes (32 per step): Markov chains over one fixed
#     8-token alphabet (a random permutation per row, random jumps 1 time in 4), where
#     only "what followed this token before" helps: the induction circuit forms here
#     or early in B;
#  B. steps 3001-6000, the same over per-row subsets of 4-16 ids of the whole induction
#     pool (ids 1000..2047): the circuit spreads to every token;
#  C. steps 6001-10000, full 256-token rows: [BOS, R, R], short repeats, and text
#     (IOI-style and copy sentences, filler, repeated random spans): long-range
#     induction and the name movers.
SEED=0 THREADS=${TOY_THREADS:-2}
mkdir -p "$WORK"
python3 "$SRC/scripts/toy_data.py" --out "$WORK" --seed $SEED --vocab 2048 --span-pool 1048 \
  --chain-rows 96000 --subset-rows 96000 --chain-len 64 --rows 32000 --bos-rr 0.4 --docs 200 --n-ctx 256
"$HS" train --data "$WORK/train.npy" --tokenizer "$WORK/tokenizer.json" --out "$WORK/model" \
  --layers 2 --d-model 128 --heads 4 --attn-only --n-ctx 256 --rotary-pct 0.5 \
  --steps 10000 --batch 8 --short-ctx 64 --short-steps 6000 --in-order \
  --lr 3e-3 --warmup 50 --min-lr-frac 0.3 --weight-decay 0 --qkv-bias-std 0.3 \
  --seed $SEED --threads $THREADS --dtype f16
mkdir -p "$SRC/models/toy" "$SRC/data/toy"
cp "$WORK/model/config.json" "$WORK/model/model.safetensors" "$WORK/model/tokenizer.json" "$SRC/models/toy/"
cp "$WORK/toy.jsonl" "$SRC/data/toy/toy.jsonl"
echo "toy model written to $SRC/models/toy, dataset to $SRC/data/toy/toy.jsonl"
