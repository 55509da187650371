#!/usr/bin/env bash
# cli_scan_faults.sh — `headscan scan` under faults (tests/cli_faults.sh does the same for
# `tokens` and `run --save-hooks`), with a previous scan's outputs in --out:
#  * a full disk (HS_FAULT_WRITE_AFTER: ENOSPC after N bytes) is a clear error, exit 1,
#    previous outputs byte-identical, no temporary;
#  * SIGINT / SIGTERM while the outputs are being written (HS_FAULT_COMMIT_DELAY_MS=300
#    slows every file's commit): the run ends within 10 s and leaves no temporary, and
#    --out holds either the previous outputs byte-identical or a whole new scan (scan's
#    design: a signal during the write lets the complete write finish, all or nothing).
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
sums() { (cd "$W/out" && find . -type f | sort | xargs sha256sum); }

(scan) >/dev/null 2>"$W/e" || { echo "FAIL: setup scan: $(cat "$W/e")"; exit 1; }
sums >"$W/before"
intact() { sums | cmp -s - "$W/before" && [ "$(tmps)" -eq 0 ]; }
# a whole scan: the same files as the previous one, no temporary
whole() { [ "$(tmps)" -eq 0 ] && [ "$(cd "$W/out" && find . -type f | sort)" = "$(awk '{print $2}' "$W/before")" ]; }

(HS_FAULT_WRITE_AFTER=200 scan --induction-seed 6) >/dev/null 2>"$W/e"; rc=$?
ok "scan, full disk: exit 1 (rc $rc) with a clear message ($(head -c 300 "$W/e"))" '[ $rc -eq 1 ] && grep -q "No space left on device" "$W/e"'
ok "scan, full disk: previous outputs intact, no temporary" 'intact'

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
  sums >"$W/before"
done

echo "cli_scan_faults: $n checks, $fail failed"
[ $fail -eq 0 ]
