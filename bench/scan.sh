#!/bin/bash
# bench/scan.sh — headscan's scan vs the torch baseline (bench/scan_ref.py), same checkpoint,
# same tokens, same machine, one after the other, all cores; prints per-stage seconds and
# the ratios. Not a test.
# usage: bash bench/scan.sh BUILD_DIR [MODEL_DIR] [TOKENS.npy] [PROMPTS] [FRAC_HEADS]
#   defaults: /work/bench-p70m (made by `/usr/bin/python3 tests/reference/neox_ref.py
#   --pythia70m-shape /work/bench-p70m`), ../shared/data/corpus/dev.tl-n256-shuffle42.npy, 288, 1
#   A GPT-2 checkpoint (config.json model_type "gpt2", e.g. `/usr/bin/python3
#   tests/reference/gpt2_ref.py --gpt2-small-shape /work/bench-gpt2s --storage F16`) gets, unless
#   TOKENS is given, the same corpus tokenized with the GPT-2 tokenizer as TL does
#   (`headscan tokens`, n_ctx 256, shuffle 42).
set -eu
BUILD=${1:-build}
MODEL=${2:-/work/bench-p70m}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PROMPTS=${4:-288}
FH=${5:-1}
OUT=$(mktemp -d)
TOK=${3:-$SRC/../shared/data/corpus/dev.tl-n256-shuffle42.npy}
if [ -z "${3:-}" ] && grep -q '"model_type": *"gpt2"' "$MODEL/config.json"; then
  TOK=$OUT/dev.gpt2-n256-shuffle42.npy
  "$BUILD/headscan" tokens --dataset "$SRC/../shared/data/corpus/dev.jsonl" \
    --tokenizer "$SRC/../shared/data/tokenizers/gpt2.tokenizer.json" --n-ctx 256 --quiet --out "$TOK"
fi
echo "== headscan (bench_scan) =="
nice "$BUILD/bench/bench_scan" "$MODEL" "$TOK" --prompts "$PROMPTS" --batch 32 --dense-heads "$FH" --json "$OUT/c.json" | tee "$OUT/c.txt"
echo "== torch baseline (bench/scan_ref.py) =="
nice /usr/bin/python3 "$SRC/bench/scan_ref.py" "$MODEL" "$TOK" --prompts "$PROMPTS" --batch 32 --frac-heads "$FH" --json "$OUT/t.json" >/dev/null
/usr/bin/python3 - "$OUT/c.json" "$OUT/t.json" "$OUT/c.txt" <<'PY'
import json, re, sys
c, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
txt = open(sys.argv[3]).read()
m = re.search(r"dense extrapolated to (\d+) heads: ([\d.]+) s", txt)
dense_c = float(m.group(2)) if m else float("nan")
rows = [("forward + per-token metrics", c["forward"], t["forward_metrics"]),
        ("quantile tables", c["quantiles"], t["quantiles"]),
        ("induction scores", c["induction"], t["induction"]),
        ("eigenvalue scores", c["eigen"], t["eigen"]),
        ("frac_copy_argmax (all heads)", c["frac"], t["frac"]),
        ("end to end (excl. load)", c["total"], t["total"])]
print(f"\n{'stage':32s} {'headscan s':>11s} {'torch s':>10s} {'ratio':>7s}")
for name, a, b in rows:
    print(f"{name:32s} {a:11.2f} {b:10.2f} {b / a if a else float('nan'):6.1f}x")
print(f"{'peak RSS (MB)':32s} {c['peak_rss'] / 2**20:11.0f} {t['peak_rss'] / 2**20:10.0f} {t['peak_rss'] / c['peak_rss']:6.1f}x")
print(f"frac_copy_argmax: pruned {c['frac']:.2f} s vs dense sgemm+argmax in C {dense_c:.1f} s (extrapolated) = {dense_c / c['frac']:.0f}x;"
      f" torch dense {t['frac']:.1f} s (extrapolated from {t['frac_heads_measured']} head(s))")
print(f"forward: {c['tokens'] / c['forward']:.0f} tokens/s; GEMM-bound ideal (the pass's own GEMM shapes, each timed alone)"
      f" {c['fwd_ideal']:.2f} s = {c['tokens'] / c['fwd_ideal']:.0f} tokens/s => {100 * c['fwd_ideal'] / c['forward']:.0f}% of ideal")
PY
rm -rf "$OUT"
