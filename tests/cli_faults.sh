#!/usr/bin/env bash
# cli_faults.sh — outputs under faults, end to end with the real binary:
#  * a full disk, injected (HS_FAULT_WRITE_AFTER=N: ENOSPC after N bytes) and, when this
#    process may mount, a real 64 KiB tmpfs: clear error naming the file and the reason,
#    exit 1, no temporary left, the previous output under the final name byte-identical;
#  * SIGINT / SIGTERM while computing and while the output is complete but not yet renamed
#    (HS_FAULT_COMMIT_DELAY_MS holds it there): the process dies of the signal within a
#    second, no temporary left, the previous output intact; between the renames of the
#    matrix and its sidecar (HS_FAULT_PAIR_DELAY_MS): it dies once the new pair is whole;
#  * the same for `run --save-hooks` (one .npy per hook).
# `headscan scan` gets the same checks once it exists (SCAN_* below, skipped while it is a stub).
# usage: bash cli_faults.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
set -m   # job control: background runs get SIGINT like a foreground one (not ignored)
HS=$1; SRC=$2; SHARED=$3
T=$(mktemp -d); MNT=
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail=0; n=0
ok() { n=$((n+1)); if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail+1)); fi; }
NEOX=$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json
DEV=$SHARED/data/corpus/dev.jsonl
MODEL=$SRC/tests/fixtures/neox-tiny-f32
tmps() { find "$1" -name '*.tmp.*' | wc -l; }
sum() { sha256sum "$1" | cut -c1-64; }

# a previous output in the output directory
mkdir -p "$T/out"
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --quiet --out "$T/out/t.npy" || { echo "FAIL: setup"; exit 1; }
before=$(sum "$T/out/t.npy"); before_side=$(sum "$T/out/t.npy.json")
intact() { [ "$(sum "$T/out/t.npy")" = "$before" ] && [ "$(sum "$T/out/t.npy.json")" = "$before_side" ] && [ "$(tmps "$T/out")" -eq 0 ]; }

# ---- full disk, injected: the matrix is ~2 MB, the write fails after 100 KB
HS_FAULT_WRITE_AFTER=100000 "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 128 --quiet --out "$T/out/t.npy" 2>"$T/e"; rc=$?
ok "injected ENOSPC: exit 1 (rc $rc)" '[ $rc -eq 1 ]'
ok "injected ENOSPC: message names the file and the reason ($(cat "$T/e"))" 'grep -q "t.npy" "$T/e" && grep -q "No space left on device" "$T/e"'
ok "injected ENOSPC: previous output intact, no temporary" 'intact'
# failing at byte 0 (the header) and in the sidecar's turn (after the whole matrix)
HS_FAULT_WRITE_AFTER=0 "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 128 --quiet --out "$T/out/t.npy" 2>"$T/e"; rc=$?
ok "injected ENOSPC at byte 0: exit 1, intact" '[ $rc -eq 1 ] && intact'

# ---- full disk, real: a 64 KiB tmpfs (root and mount permission needed; skipped otherwise)
MNT=$T/small
mkdir -p "$MNT"
if mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null; then
  "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --quiet --out "$MNT/t.npy" 2>"$T/e"; rc=$?
  ok "tmpfs full: exit 1 (rc $rc)" '[ $rc -eq 1 ]'
  ok "tmpfs full: clear message ($(cat "$T/e"))" 'grep -q "No space left on device" "$T/e"'
  ok "tmpfs full: no file under the final name, no temporary" '[ ! -e "$MNT/t.npy" ] && [ "$(tmps "$MNT")" -eq 0 ]'
  # the matrix fits but its sidecar does not: both temporaries are dropped, the previous
  # pair stays (the .npy is not renamed before the sidecar is complete too)
  mount -o remount,size=16m "$MNT"
  "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --quiet --out "$MNT/t.npy" 2>"$T/e"
  pb=$(sum "$MNT/t.npy"); ps=$(sum "$MNT/t.npy.json")
  pages=$(( ($(stat -c %s "$MNT/t.npy") + 4095) / 4096 ))
  mount -o remount,size=$(( (2 * pages + 1) * 4096 )) "$MNT"   # old pair + the new .npy, no room for a sidecar
  "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --shuffle 7 --quiet --out "$MNT/t.npy" 2>"$T/e"; rc=$?
  ok "tmpfs, no room for the sidecar: exit 1 (rc $rc: $(cat "$T/e"))" '[ $rc -eq 1 ] && grep -q "t.npy.json" "$T/e"'
  ok "tmpfs, no room for the sidecar: previous pair intact, no temporary" \
     '[ "$(sum "$MNT/t.npy")" = "$pb" ] && [ "$(sum "$MNT/t.npy.json")" = "$ps" ] && [ "$(tmps "$MNT")" -eq 0 ]'
  umount "$MNT"; MNT=
else
  echo "note: cannot mount a tmpfs here; the real full-disk case is skipped (the injected one ran)"
  MNT=
fi

# ---- signals. wait_tmp: until a temporary appears in dir (the output is being committed)
wait_tmp() { for _ in $(seq 200); do [ "$(tmps "$1")" -gt 0 ] && return 0; sleep 0.05; done; return 1; }
# reap PID T0: waits for it (at most 5 s, then SIGKILL); sets rc (its exit status) and ms
# (milliseconds from T0, the signal, to its end)
reap() {
  local pid=$1 t0=$2
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  ms=$(( $(date +%s%N) / 1000000 - t0 ))
  kill -9 "$pid" 2>/dev/null
  wait "$pid"; rc=$?
}
# a dataset that takes seconds to tokenize (dev.jsonl ten times), so a signal at 0.15 s
# finds the run computing, not committing
for _ in $(seq 10); do cat "$DEV"; done > "$T/big.jsonl"
# the pair a complete run of the "between the renames" case writes, made without faults
mkdir -p "$T/ref"
"$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 128 --shuffle 3 --quiet --out "$T/ref/t.npy" || { echo "FAIL: reference run"; exit 1; }
ref=$(sum "$T/ref/t.npy"); ref_side=$(sum "$T/ref/t.npy.json")
whole_new() { [ "$(sum "$T/out/t.npy")" = "$ref" ] && [ "$(sum "$T/out/t.npy.json")" = "$ref_side" ] && [ "$(tmps "$T/out")" -eq 0 ]; }
# wait_renamed: until the .npy under the final name is no longer the previous one
wait_renamed() { for _ in $(seq 200); do [ "$(sum "$T/out/t.npy")" != "$before" ] && return 0; sleep 0.05; done; return 1; }
for sig in INT TERM; do
  code=$([ $sig = INT ] && echo 130 || echo 143)
  # while the output is complete but not renamed
  HS_FAULT_COMMIT_DELAY_MS=20000 "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 128 --quiet --out "$T/out/t.npy" 2>/dev/null &
  pid=$!
  if wait_tmp "$T/out"; then
    t0=$(( $(date +%s%N) / 1000000 )); kill -$sig $pid; reap $pid $t0
    ok "SIG$sig before rename: died of it (rc $rc), promptly ($ms ms)" '[ "$rc" -eq $code ] && [ "$ms" -lt 1500 ]'
    ok "SIG$sig before rename: temporary removed, previous output intact" 'intact'
  else
    ok "SIG$sig: the run reached its commit" 'false'; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  fi
  # while computing
  "$HS" tokens --dataset "$T/big.jsonl" --tokenizer "$NEOX" --n-ctx 128 --quiet --out "$T/out/t.npy" 2>/dev/null &
  pid=$!
  sleep 0.15
  t0=$(( $(date +%s%N) / 1000000 )); kill -$sig $pid; reap $pid $t0
  ok "SIG$sig while computing: died of it (rc $rc) promptly ($ms ms)" '[ "$rc" -eq $code ] && [ "$ms" -lt 1500 ]'
  ok "SIG$sig while computing: previous output intact, no temporary" 'intact'
  # between the matrix's rename and its sidecar's (HS_FAULT_PAIR_DELAY_MS holds it there):
  # the signal waits until the pair is whole, then the process dies of it
  HS_FAULT_PAIR_DELAY_MS=20000 "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 128 --shuffle 3 --quiet --out "$T/out/t.npy" 2>/dev/null &
  pid=$!
  if wait_renamed; then
    t0=$(( $(date +%s%N) / 1000000 )); kill -$sig $pid; reap $pid $t0
    ok "SIG$sig between a pair's renames: died of it (rc $rc), promptly ($ms ms)" '[ "$rc" -eq $code ] && [ "$ms" -lt 1500 ]'
    ok "SIG$sig between a pair's renames: the new pair whole (matrix and sidecar), no temporary" 'whole_new'
  else
    ok "SIG$sig: the run reached its first rename" 'false'; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  fi
  # the previous pair again, for the next signal's checks
  "$HS" tokens --dataset "$DEV" --tokenizer "$NEOX" --n-ctx 64 --quiet --out "$T/out/t.npy" || { echo "FAIL: setup"; exit 1; }
  [ "$(sum "$T/out/t.npy")" = "$before" ] && [ "$(sum "$T/out/t.npy.json")" = "$before_side" ] || { echo "FAIL: setup is not reproducible"; exit 1; }
done

# ---- run --save-hooks: each hook file is written atomically too
mkdir -p "$T/hooks"
"$HS" run --model "$MODEL" --tokens 0,5,7,9 --hooks blocks.0.attn.hook_pattern --save-hooks "$T/hooks" >/dev/null 2>&1
hook=$T/hooks/blocks.0.attn.hook_pattern.npy
ok "save-hooks: baseline written" '[ -s "$hook" ]'
hb=$(sum "$hook")
HS_FAULT_WRITE_AFTER=50 "$HS" run --model "$MODEL" --tokens 0,5,7,9,5 --hooks blocks.0.attn.hook_pattern --save-hooks "$T/hooks" >/dev/null 2>"$T/e"; rc=$?
ok "save-hooks ENOSPC: exit 1, clear message ($(cat "$T/e"))" '[ $rc -eq 1 ] && grep -q "No space left on device" "$T/e"'
ok "save-hooks ENOSPC: previous hook file intact, no temporary" '[ "$(sum "$hook")" = "$hb" ] && [ "$(tmps "$T/hooks")" -eq 0 ]'
HS_FAULT_COMMIT_DELAY_MS=20000 "$HS" run --model "$MODEL" --tokens 0,5,7,9,5 --hooks blocks.0.attn.hook_pattern --save-hooks "$T/hooks" >/dev/null 2>&1 &
pid=$!
if wait_tmp "$T/hooks"; then
  t0=$(( $(date +%s%N) / 1000000 )); kill -INT $pid; reap $pid $t0
  ok "save-hooks SIGINT: died of it (rc $rc) promptly ($ms ms), hook intact, no temporary" \
     '[ "$rc" -eq 130 ] && [ "$ms" -lt 1500 ] && [ "$(sum "$hook")" = "$hb" ] && [ "$(tmps "$T/hooks")" -eq 0 ]'
else
  ok "save-hooks: the run reached its commit" 'false'; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
fi

# ---- headscan scan (enabled once the command exists in this build)
if "$HS" scan --help >/dev/null 2>&1; then
  echo "note: headscan scan present: see tests/cli_scan_faults.sh"
fi

echo "cli_faults: $n checks, $fail failed"
[ $fail -eq 0 ]
