#!/usr/bin/env bash
# toy_model.sh — retrains the bundled toy model from scratch, reproducibly:
# generates the corpus and tokenizer (scripts/toy_data.py, our own text), trains with
# `headscan train`, and copies the result into models/toy/ and data/toy/.
# usage: scripts/toy_model.sh [BUILD_DIR]   (build headscan first; ~15 min on 2 cores)
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
# The recipe (models/toy/README.md explains the choices).
SEED=0 STEPS=${TOY_STEPS:-1500} BATCH=8 THREADS=${TOY_THREADS:-2}
mkdir -p "$WORK"
python3 "$SRC/scripts/toy_data.py" --out "$WORK" --seed $SEED --rows $((STEPS * BATCH)) --n-ctx 256 --vocab 4096 --docs 200
"$HS" train --data "$WORK/train.npy" --tokenizer "$WORK/tokenizer.json" --out "$WORK/model" \
  --layers 2 --d-model 128 --heads 4 --d-mlp 512 --n-ctx 256 --rotary-pct 0.25 \
  --steps $STEPS --batch $BATCH --lr 2e-3 --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1 \
  --seed $SEED --threads $THREADS --dtype f16
mkdir -p "$SRC/models/toy" "$SRC/data/toy"
cp "$WORK/model/config.json" "$WORK/model/model.safetensors" "$WORK/model/tokenizer.json" "$SRC/models/toy/"
cp "$WORK/toy.jsonl" "$SRC/data/toy/toy.jsonl"
echo "toy model written to $SRC/models/toy, dataset to $SRC/data/toy/toy.jsonl"
