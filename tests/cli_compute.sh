#!/bin/bash
# cli_compute.sh — `--compute f32|bf16` on run, prompt and scan: a bad value is a usage error
# (exit 2), and bf16 prints its deviation from float32 (run, prompt: on the sequence; scan: on
# the first batch, also kept in manifest.json with options.compute). The numbers themselves
# are checked against derived bounds in test_compute_bf16.c. On a CPU without AVX512_BF16/AMX
# bf16 must be refused, saying so.
# usage: bash cli_compute.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2; SHARED=$3
PY=/usr/bin/python3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0; n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); fail=1; echo "FAIL $n - $1"; }
M=$SRC/tests/fixtures/neox-vocab-f16
TOK=$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json
TINY=$SRC/tests/fixtures/neox-tiny-f32
GT=$SRC/tests/golden/neox-tiny-f32

# ---- bad values: usage errors naming the choices
for cmd in run prompt scan; do
  case $cmd in
    run) args=(--model "$TINY" --tokens 1,2,3) ;;
    prompt) args=(--model "$M" --tokenizer "$TOK" "Hello" "world") ;;
    scan) args=(--model "$TINY" --tokens "$GT/tokens.npy" --out "$W/bad") ;;
  esac
  "$HS" $cmd "${args[@]}" --compute fp16 >/dev/null 2>"$W/err"; rc=$?
  [ $rc -eq 2 ] && grep -q -- "--compute: bad value 'fp16' (f32 or bf16)" "$W/err" && ok "$cmd --compute fp16: usage error" \
    || bad "$cmd --compute fp16: rc $rc, $(cat "$W/err")"
done

# ---- a CPU without AVX512_BF16/AMX (oneDNN capped below it): refused before any work, saying why
for cmd in run prompt scan; do
  case $cmd in
    run) args=(--model "$TINY" --tokens 1,2,3) ;;
    prompt) args=(--model "$M" --tokenizer "$TOK" "Hello" "world") ;;
    scan) args=(--model "$TINY" --tokens "$GT/tokens.npy" --out "$W/capped") ;;
  esac
  ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HS" $cmd "${args[@]}" --compute bf16 >/dev/null 2>"$W/err"; rc=$?
  # oneDNN reports the lower of the cap and the CPU's own level (avx2 on a CPU without AVX-512)
  [ $rc -eq 1 ] && grep -Eq "AVX512_BF16 or AMX; oneDNN reports (avx512_core|avx2|avx|sse41) here" "$W/err" && [ ! -e "$W/capped" ] \
    && ok "$cmd --compute bf16 below AVX512_BF16: refused up front" || bad "$cmd capped: rc $rc, $(cat "$W/err")"
done
ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HS" info | grep -q "^bf16 compute   bf16 compute needs a CPU with AVX512_BF16" \
  && ok "info says bf16 is unavailable, and why" || bad "info (capped): $("$HS" info 2>&1)"

if ! grep -qw avx512_bf16 /proc/cpuinfo && ! grep -qw amx_bf16 /proc/cpuinfo; then
  "$HS" run --model "$TINY" --tokens 1,2,3 --compute bf16 >/dev/null 2>"$W/err"; rc=$?
  [ $rc -ne 0 ] && grep -q "AVX512_BF16 or AMX" "$W/err" && ok "no AVX512_BF16: bf16 refused, saying why" || bad "bf16 without AVX512_BF16: rc $rc $(cat "$W/err")"
  echo "# this CPU has no AVX512_BF16/AMX: the bf16 runs are not tested here"
  [ $fail -eq 0 ] && echo "cli_compute: all $n passed" && exit 0
  exit 1
fi

# ---- run: the deviation line on stderr, the usual output on stdout
"$HS" info | grep -q "^bf16 compute   available (oneDNN" && ok "info: bf16 compute available" || bad "info: $("$HS" info 2>&1)"

dev_re='compute bf16 \(oneDNN [^)]*bf16[^)]*\) is not TransformerLens-exact: deviation from float32 on'
if "$HS" run --model "$M" --tokens 0,510,2816,1048,1896,50,253 --top 3 --json --compute bf16 >"$W/out" 2>"$W/err"; then
  grep -Eq "$dev_re this sequence \(1 x 7 tokens" "$W/err" && grep -q "max |dlogit|" "$W/err" && ok "run --compute bf16 prints its deviation" \
    || bad "run: no deviation line: $(cat "$W/err")"
  [ "$(wc -l < "$W/out")" -eq 7 ] && ! grep -q deviation "$W/out" && ok "run --json stdout stays JSON lines" || bad "run stdout: $(cat "$W/out")"
else bad "run --compute bf16 failed: $(cat "$W/err")"; fi

# ---- prompt
if "$HS" prompt --model "$M" --tokenizer "$TOK" "The cat sat on the" "mat" --compute bf16 >"$W/out" 2>"$W/err"; then
  grep -Eq "$dev_re prompt \+ answer" "$W/err" && ok "prompt --compute bf16 prints its deviation" || bad "prompt: $(cat "$W/err")"
  grep -q "^Tokenized prompt:" "$W/out" && ok "prompt output as usual" || bad "prompt stdout: $(cat "$W/out")"
else bad "prompt --compute bf16 failed: $(cat "$W/err")"; fi

# ---- scan: deviation on the first batch, printed and in the manifest
if "$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --batch 2 --skip frac_copy_argmax,eigenvalues,induction \
     --compute bf16 --out "$W/scan" >"$W/out" 2>"$W/err"; then
  grep -Eq "$dev_re the first batch \(2 x 20 tokens" "$W/err" && ok "scan --compute bf16 prints the first batch's deviation" \
    || bad "scan: $(cat "$W/err")"
  if $PY - "$W/scan/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["options"]["compute"] == "bf16", m["options"]
d = m["compute_deviation"]
assert d["compute"] == "bf16" and "bf16" in d["implementation"] and d["sequences"] == 2 and d["tokens"] == 20, d
assert 0 < d["max_abs_logit"] < 0.05 * d["max_logit"] and 0 < d["rel_logit"] < 0.05, d
assert 0 <= d["mean_abs_loss"] <= d["max_abs_loss"] <= 2 * d["max_abs_logit"], d
EOF
  then ok "manifest: options.compute and compute_deviation"; else bad "manifest's compute record"; fi
else bad "scan --compute bf16 failed: $(cat "$W/err")"; fi
# float32 (the default) records "f32" and no deviation
if "$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --batch 2 --skip frac_copy_argmax,eigenvalues,induction \
     --out "$W/scan32" >/dev/null 2>"$W/err"; then
  $PY -c "import json,sys; m=json.load(open('$W/scan32/manifest.json')); sys.exit(not (m['options']['compute']=='f32' and 'compute_deviation' not in m))" \
    && ! grep -q deviation "$W/err" && ok "float32 scan: compute f32, no deviation" || bad "float32 scan's manifest"
else bad "float32 scan failed: $(cat "$W/err")"; fi

[ $fail -eq 0 ] && echo "cli_compute: all $n passed" && exit 0
exit 1
