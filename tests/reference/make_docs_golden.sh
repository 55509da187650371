#!/usr/bin/env bash
# make_docs_golden.sh — writes tests/data/docs_golden.txt ("<case> <docs> <sha256>")
# from Python's json reading of ../shared/data/corpus/dev.jsonl (hashes only).
# Usage (repository root): bash tests/reference/make_docs_golden.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DEV=${HS_SHARED_DIR:-../shared}/data/corpus/dev.jsonl
out=tests/data/docs_golden.txt
run() { local name=$1; shift; echo "$name $(/usr/bin/python3 tests/reference/docs_ref.py "$DEV" "$@")"; }
{
    echo "# case docs sha256(per doc: u64 LE byte length + UTF-8) — written by tests/reference/make_docs_golden.sh"
    run dev_all
    run first120 --limit 120
    run first100 --limit 100
    run first60 --limit 60
    run first40 --limit 40
    run first30 --limit 30
    run nulls5_first80 --limit 80 --null-every 5
    run nulls4_80_40 --skip 80 --limit 40 --null-every 4
} > "$out"
cat "$out"
