#!/usr/bin/env bash
# tokenize.sh — encode throughput of headscan vs HuggingFace tokenizers, measured in the same run.
#   bash bench/tokenize.sh [BUILD_DIR] [SHARED_DIR] [PASSES]
# Installs the HF oracle from bench/tokenize-oracle's lock file (npm ci), then for GPT-NeoX-20B,
# GPT-2 and the Llama-family files (Llama-2, tiny-random-llama, Llama-3, Qwen2; or the names given
# in $TOKENIZERS) on shared/data/corpus/dev.jsonl prints both single-thread encode times (HF: its own
# encode calls, Node start-up and JSON parsing excluded; headscan: likewise) and the ratio
# HF / headscan on the best pass, plus headscan's whole-dataset speed-up from 1 to 2 threads.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shared=${2:-$root/../shared}
passes=${3:-3}
corpus=$shared/data/corpus/dev.jsonl
(cd "$root/bench/tokenize-oracle" && npm ci --silent --no-audit --no-fund)
for t in ${TOKENIZERS:-gpt-neox-20b gpt2 llama2 tiny-random-llama llama3 qwen2}; do
  f=$shared/data/tokenizers/$t.tokenizer.json
  hf=$(node "$root/bench/tokenize-oracle/time.mjs" "$f" "$corpus" "$passes")
  ours=$("$build/bench/bench_tokenize" "$f" "$corpus" "$passes")
  echo "== $t"
  echo "$hf"
  echo "$ours"
  hf_best=$(sed -n 's/.*best_ms=\([0-9.]*\).*/\1/p' <<< "$hf")
  our_best=$(sed -n '1s/.*best_ms=\([0-9.]*\) .*/\1/p' <<< "$ours")
  hf_first=$(sed -n 's/.*first_ms=\([0-9.]*\).*/\1/p' <<< "$hf")
  our_first=$(sed -n '1s/.*first_ms=\([0-9.]*\) .*/\1/p' <<< "$ours")
  hf_cpu=$(sed -n 's/.*best_cpu_ms=\([0-9.]*\).*/\1/p' <<< "$hf")
  our_cpu=$(sed -n '1s/.*best_cpu_ms=\([0-9.]*\) .*/\1/p' <<< "$ours")
  awk -v a="$hf_best" -v b="$our_best" -v c="$hf_first" -v d="$our_first" -v e="$hf_cpu" -v f="$our_cpu" \
    'BEGIN { printf "single thread: headscan is %.1fx HF tokenizers (wall, best pass), %.1fx (wall, first pass), %.1fx (CPU time, best pass)\n", a / b, c / d, e / f }'
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
done
