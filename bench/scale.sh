#!/bin/bash
# bench/scale.sh — large scans (issue 18), every ratio measured in this one run. Not a test.
#   1. rows/s of the forward stage: 2 MPI ranks x 1 thread vs 1 process x 2 threads
#      (headscan-mpi scan --mpi vs headscan scan --threads 2), and 1 process x 1 thread, the
#      same ROWS rows;
#   2. peak RSS per rank (the getrusage peak each shard records) at RSS_ROWS_A and RSS_ROWS_B
#      rows (--no-arrays, --n-ctx RSS_NCTX to keep it short);
#   3. the merge of the 2 shards: seconds and bytes (the shards' partial results);
#   4. the whole dataset's wall time estimated from the measured rows/s (WHOLE_ROWS rows).
# usage: bash bench/scale.sh BUILD_DIR [MODEL_DIR] [TOKENS.npy]
#   env: ONLY_RATE=1 (step 1 only) ROWS (64) RSS_ROWS_A (288) RSS_ROWS_B (4000) RSS_NCTX (16) WHOLE_ROWS (60000, pile-10k
#   at n_ctx 256 is about that many rows: `headscan tokens` prints the exact count)
#   defaults: MODEL /tmp/scale-p70m (`/usr/bin/python3 tests/reference/neox_ref.py --pythia70m-shape
#   /tmp/scale-p70m`), TOKENS ../shared/data/corpus/dev.tl-n256-shuffle42.npy (tiled when short)
set -eu
BUILD=$(cd "${1:-build}" && pwd)
MODEL=${2:-/tmp/scale-p70m}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TOK=${3:-$SRC/../shared/data/corpus/dev.tl-n256-shuffle42.npy}
ROWS=${ROWS:-64}; RA=${RSS_ROWS_A:-288}; RB=${RSS_ROWS_B:-4000}; RN=${RSS_NCTX:-16}; WHOLE=${WHOLE_ROWS:-60000}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
/usr/bin/python3 -c "
import numpy as np, sys
a = np.load('$TOK'); n = max($ROWS, $RA, $RB)
np.save('$W/t.npy', np.concatenate([a] * (n // len(a) + 1))[:n])"
SKIP=(--skip frac_copy_argmax,eigenvalues,induction --top 0)
now() { date +%s.%N; }
echo "== 1. rows/s: 1 process x 2 threads vs 2 ranks x 1 thread, $ROWS rows =="
nice "$BUILD/headscan" scan --model "$MODEL" --tokens "$W/t.npy" --prompts "$ROWS" --threads 2 "${SKIP[@]}" --no-arrays --out "$W/one" 2>/dev/null
nice "$BUILD/headscan" scan --model "$MODEL" --tokens "$W/t.npy" --prompts "$ROWS" --threads 1 "${SKIP[@]}" --no-arrays --out "$W/one1" 2>/dev/null
nice mpirun -np 2 --oversubscribe "$BUILD/headscan-mpi" scan --model "$MODEL" --tokens "$W/t.npy" --prompts "$ROWS" --threads 1 \
  "${SKIP[@]}" --no-arrays --out "$W/mpi" --mpi 2>"$W/mpi.err" >/dev/null
cmp "$W/one/head_table.csv" "$W/mpi/head_table.csv" && cmp "$W/one1/head_table.csv" "$W/mpi/head_table.csv" && echo "(head tables identical)"
if [ "${ONLY_RATE:-0}" = 1 ]; then
  /usr/bin/python3 - "$W" "$ROWS" <<'PY'
import json, sys
W, rows = sys.argv[1], int(sys.argv[2])
f = lambda d: json.load(open(f"{W}/{d}/manifest.json"))
r2, r1 = rows / f("one")["timings_s"]["forward_metrics"], rows / f("one1")["timings_s"]["forward_metrics"]
rm = rows / max(s["timings_s"]["forward_metrics"] for s in f("mpi")["shards"])
print(f"rows/s: 1 process x 2 threads {r2:.3f}, 1 process x 1 thread {r1:.3f}, 2 ranks x 1 thread {rm:.3f}; "
      f"2 ranks / 2 threads = {rm / r2:.2f}x, 2 ranks / 1 thread = {rm / r1:.2f}x")
PY
  exit 0
fi
echo "== 2. peak RSS per rank: $RA and $RB rows (n_ctx $RN), 2 ranks =="
for R in "$RA" "$RB"; do
  nice mpirun -np 2 --oversubscribe "$BUILD/headscan-mpi" scan --model "$MODEL" --tokens "$W/t.npy" --n-ctx "$RN" --prompts "$R" \
    --threads 1 "${SKIP[@]}" --no-arrays --out "$W/rss$R" --mpi >/dev/null 2>&1
done
echo "== 3. merge of 2 shards ($ROWS rows, with arrays) =="
for i in 0 1; do
  nice "$BUILD/headscan" scan --model "$MODEL" --tokens "$W/t.npy" --prompts "$ROWS" --threads 2 "${SKIP[@]}" --shard $i/2 \
    --out "$W/s$i" >/dev/null 2>&1
done
BYTES=$(du -cb "$W/s0" "$W/s1" | tail -1 | cut -f1)
t0=$(now); "$BUILD/headscan" merge "$W/s0" "$W/s1" --out "$W/merged" --top 0 >/dev/null; t1=$(now)
/usr/bin/python3 - "$W" "$ROWS" "$RA" "$RB" "$WHOLE" "$BYTES" "$t0" "$t1" <<'PY'
import json, sys
W, rows, ra, rb, whole, nbytes, t0, t1 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
one = json.load(open(f"{W}/one/manifest.json"))
mpi = json.load(open(f"{W}/mpi/manifest.json"))
f1 = one["timings_s"]["forward_metrics"]
fm = max(s["timings_s"]["forward_metrics"] for s in mpi["shards"])   # the ranks run at once: the slowest
r1, rm = rows / f1, rows / fm
print(f"\n{'':44s} {'rows/s':>8s}")
print(f"{'1 process x 2 threads (forward stage)':44s} {r1:8.2f}")
print(f"{'2 MPI ranks x 1 thread (slowest rank)':44s} {rm:8.2f}   ratio {rm / r1:.2f}x")
r11 = rows / json.load(open(f"{W}/one1/manifest.json"))["timings_s"]["forward_metrics"]
print(f"{'1 process x 1 thread':44s} {r11:8.2f}   (2 ranks / 1 thread: {rm / r11:.2f}x)")
for R in (ra, rb):
    m = json.load(open(f"{W}/rss{R}/manifest.json"))
    print(f"peak RSS per rank at {R:>5s} rows: " + ", ".join(f"rank {i} {s['peak_rss_bytes'] / 2**20:.1f} MiB" for i, s in enumerate(m["shards"])))
a = json.load(open(f"{W}/rss{ra}/manifest.json"))["shards"]; b = json.load(open(f"{W}/rss{rb}/manifest.json"))["shards"]
print(f"  growth {ra} -> {rb} rows: " + ", ".join(f"rank {i} {(y['peak_rss_bytes'] - x['peak_rss_bytes']) / 2**20:+.2f} MiB" for i, (x, y) in enumerate(zip(a, b))))
print(f"merge of 2 shards of {rows} rows: {t1 - t0:.2f} s, {nbytes / 1e6:.1f} MB of partial results read ({nbytes / rows / 1e3:.0f} kB a row)")
best = max(r1, rm)
print(f"whole dataset ({whole} rows) at {best:.2f} rows/s on this machine: {whole / best / 3600:.1f} h forward "
      f"(+ the model-only stages, once); merge ~{(t1 - t0) * whole / rows / 60:.1f} min, partial results {nbytes * whole / rows / 1e9:.1f} GB")
PY
