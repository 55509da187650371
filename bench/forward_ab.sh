#!/bin/bash
# bench/forward_ab.sh — two builds' bench_forward, alternated in the same run (A B A B ...), so
# a busy machine slows both alike; prints each run's share of the GEMM-bound ideal and,
# with --scaling, its 1 -> N thread speed-up. Not a test.
# usage: bash bench/forward_ab.sh BUILD_A BUILD_B MODEL_DIR [ROUNDS=3] [bench_forward options...]
#   e.g. env -u OPENBLAS_CORETYPE bash bench/forward_ab.sh /tmp/base-build build /work/ck/p70m 3 --scaling
set -eu
A=$1 B=$2 MODEL=$3 ROUNDS=${4:-3}
shift 4 || shift $#
for r in $(seq "$ROUNDS"); do
  for BUILD in "$A" "$B"; do
    out=$("$BUILD/bench/bench_forward" "$MODEL" "$@")
    share=$(sed -n 's/.*forward at \([0-9.]*\) of it.*/\1/p' <<<"$out")
    scal=$(sed -n 's/^thread scaling .*: \([0-9.]*\)x.*/\1/p' <<<"$out")
    sg=$(sed -n 's/^sgemm rate *\([0-9.]*\) .*/\1/p' <<<"$out")
    printf 'round %d  %-28s ideal share %s  sgemm %s GFLOP/s%s\n' "$r" "$BUILD" "$share" "$sg" "${scal:+  scaling 1->N ${scal}x}"
  done
done
