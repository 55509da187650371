#!/bin/bash
# bench/blas.sh — bench_forward with each BLAS / kernel choice side by side, alternating
# the choices REPS times (the machine is shared: compare within a round, not across).
# usage: bash bench/blas.sh BUILD_DIR MODEL_DIR [REPS] [extra bench_forward options...]
#   choices: OpenBLAS's own pick (HS_BLAS_KEEP_KERNEL=1), headscan's default (the same
#   unless OpenBLAS fell back to a generic core), OPENBLAS_CORETYPE=SkylakeX / Haswell /
#   Prescott, and BLIS (Debian libblis4-openmp, its cblas_/BLAS symbols preloaded over
#   OpenBLAS's). Prints the forward's tokens/s, the same-run sgemm rate and the
#   forward's share of its GEMM-bound ideal.
set -eu
BUILD=${1:?build dir}
MODEL=${2:?model dir}
REPS=${3:-2}
EXTRA=("${@:4}")
BLIS=$(ls /usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4 2>/dev/null || true)
run() {   # label, then VAR=value... for env
  local label=$1; shift
  local out
  out=$(env "$@" nice "$BUILD/bench/bench_forward" "$MODEL" "${EXTRA[@]}" 2>&1 |
        grep -E '^(blas kernel|forward  |sgemm rate|GEMM-bound)' | sed -E 's/ +/ /g' | tr '\n' '|') || true
  printf '%-24s %s\n' "$label" "$out"
}
for r in $(seq "$REPS"); do
  echo "== round $r ($(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
  run "OpenBLAS own pick" HS_BLAS_KEEP_KERNEL=1
  run "headscan default" HS_BENCH=1
  for k in SkylakeX Haswell Prescott; do run "OPENBLAS_CORETYPE=$k" OPENBLAS_CORETYPE=$k; done
  if [ -n "$BLIS" ]; then run "BLIS 0.9 (preloaded)" LD_PRELOAD="$BLIS" BLIS_NUM_THREADS="$(nproc)"; fi
done
