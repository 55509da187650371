#!/usr/bin/env bash
# cli_scan_faults.sh — `headscan scan` under faults (tests/cli_faults.sh does the same for
# `tokens` and `run --save-hooks`), with a previous scan's outputs in --out:
#  * a full disk (HS_FAULT_WRITE_AFTER: ENOSPC after N bytes; 5000: during the second batch)
#    is a clear error, exit 1,
#    previous outputs byte-identical, no temporary, the work done so far kept in
#    --out/.headscan-work (checkpoint.json), and --resume then finishes the scan;
#  * SIGINT / SIGTERM while a file is being committed (HS_FAULT_COMMIT_DELAY_MS=300 slows
#    every commit: the scan's checkpoints and its outputs): the run ends within 10 s and
#    leaves no temporary, and --out holds either the previous outputs byte-identical (the
#    signal came during a checkpoint: exit 130, and --resume then finishes the scan) or a
#    whole new scan (a signal during the write lets the complete write finish).
# Skipped (passes) while `headscan scan` is the stub of a build without the command.
# usage: bash cli_scan_faults.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
set -m   # background runs get SIGINT like a foreground one
HS=$1; SRC=$2; SHARED=$3
if ! "$HS" scan --help 2>/dev/null | grep -q -- "--model"; then
  echo "cli_scan_faults: headscan scan is not in this build: skipped"; exit 0
fi
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0; n=0
ok() { n=$((n+1)); if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail+1)); fi; }
TINY=$SRC/tests/fixtures/neox-tiny-f32
GT=$SRC/tests/golden/neox-tiny-f32
# (exec: run in the background, the job's pid is headscan's own, so signals reach it)
scan() { exec "$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --batch 2 --induction-batch 3 --induction-len 7 \
           --induction-seed 5 --out "$W/out" "$@"; }
tmps() { find "$W/out" -name '*.tmp*' | wc -l; }
# the outputs (a streaming scan's work folder, kept for --resume, is not one)
sums() { (cd "$W/out" && find . -path ./.headscan-work -prune -o -type f -print | sort | xargs sha256sum); }

(scan) >/dev/null 2>"$W/e" || { echo "FAIL: setup scan: $(cat "$W/e")"; exit 1; }
sums >"$W/before"
intact() { sums | cmp -s - "$W/before" && [ "$(tmps)" -eq 0 ]; }
# a whole scan: the same files as the previous one, no temporary
whole() { [ "$(tmps)" -eq 0 ] && [ "$(cd "$W/out" && find . -path ./.headscan-work -prune -o -type f -print | sort)" = "$(awk '{print $2}' "$W/before")" ]; }

(HS_FAULT_WRITE_AFTER=5000 scan --induction-seed 6) >/dev/null 2>"$W/e"; rc=$?
ok "scan, full disk: exit 1 (rc $rc) with a clear message ($(head -c 300 "$W/e"))" '[ $rc -eq 1 ] && grep -q "No space left on device" "$W/e"'
ok "scan, full disk: previous outputs intact, no temporary" 'intact'
ok "scan, full disk: the work done is kept for --resume" '[ -f "$W/out/.headscan-work/checkpoint.json" ]'
(scan --induction-seed 6 --resume) >/dev/null 2>"$W/e"; rc=$?
ok "scan, full disk, then --resume: exit 0 (rc $rc: $(head -c 300 "$W/e")), a whole new scan, no work folder left" \
   '[ $rc -eq 0 ] && whole && [ ! -e "$W/out/.headscan-work" ]'
sums >"$W/before"

for sig in INT TERM; do
  (export HS_FAULT_COMMIT_DELAY_MS=300; scan --induction-seed 7) >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 400); do [ "$(tmps)" -gt 0 ] && break; sleep 0.025; done
  ok "scan SIG$sig: the run reached its write" '[ "$(tmps)" -gt 0 ]'
  t0=$(( $(date +%s%N) / 1000000 )); kill -$sig $pid
  for _ in $(seq 500); do kill -0 $pid 2>/dev/null || break; sleep 0.02; done
  ms=$(( $(date +%s%N) / 1000000 - t0 )); kill -9 $pid 2>/dev/null; wait $pid; rc=$?
  ok "scan SIG$sig: ended (rc $rc) within 10 s ($ms ms)" '[ $ms -lt 10000 ] && [ $rc -ne 137 ]'
  ok "scan SIG$sig: previous outputs intact or a whole new scan, no temporary" 'intact || whole'
  if [ -d "$W/out/.headscan-work" ]; then   # stopped before its outputs (a checkpoint write): resumable
    ok "scan SIG$sig before the outputs: exit 130 (rc $rc), previous outputs intact" '[ $rc -eq 130 ] && intact'
    (scan --induction-seed 7 --resume) >/dev/null 2>"$W/e"; rc=$?
    ok "scan SIG$sig, then --resume: a whole new scan (rc $rc: $(head -c 300 "$W/e"))" '[ $rc -eq 0 ] && whole && [ ! -e "$W/out/.headscan-work" ]'
  fi
  sums >"$W/before"
done

echo "cli_scan_faults: $n checks, $fail failed"
[ $fail -eq 0 ]
