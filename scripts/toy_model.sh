#!/usr/bin/env bash
# toy_model.sh — retrains the bundled toy model from scratch, reproducibly:
# generates the corpus and tokenizer (scripts/toy_data.py, our own text), trains with
# `headscan train`, and copies the result into models/toy/ and data/toy/.
# usage: scripts/toy_model.sh [BUILD_DIR]   (build headscan first; ~12-15 min, 1 thread)
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
# The recipe (models/toy/README.md explains the choices). Rows are taken in file
# order: 38400 warm-up rows of pure short repeats (read as 32-token prefixes, 64 per
# step, steps 1-600), then 11200 mixed rows of 257 tokens (8 per step, steps 601-2000).
SEED=0 THREADS=${TOY_THREADS:-1}
mkdir -p "$WORK"
python3 "$SRC/scripts/toy_data.py" --out "$WORK" --seed $SEED --rows 11200 --pure-rows 38400 \
  --vocab 1024 --span-pool 64 --bos-rr 0.5 --docs 200 --n-ctx 256
"$HS" train --data "$WORK/train.npy" --tokenizer "$WORK/tokenizer.json" --out "$WORK/model" \
  --layers 2 --d-model 128 --heads 4 --d-mlp 512 --n-ctx 256 --rotary-pct 1.0 \
  --steps 2000 --batch 8 --short-ctx 32 --short-steps 600 --in-order \
  --lr 3e-3 --warmup 50 --min-lr-frac 0.1 --weight-decay 0.1 \
  --seed $SEED --threads $THREADS --dtype f16
mkdir -p "$SRC/models/toy" "$SRC/data/toy"
cp "$WORK/model/config.json" "$WORK/model/model.safetensors" "$WORK/model/tokenizer.json" "$SRC/models/toy/"
cp "$WORK/toy.jsonl" "$SRC/data/toy/toy.jsonl"
echo "toy model written to $SRC/models/toy, dataset to $SRC/data/toy/toy.jsonl"
