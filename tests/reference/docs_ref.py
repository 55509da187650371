#!/usr/bin/python3
"""docs_ref.py — what Python's json module reads from a JSONL file, as one hash:
sha256 over every document (after --skip/--limit/--null-every, see tokens_ref.py)
of its UTF-8 length as uint64 little-endian followed by its UTF-8 bytes.
tests/test_docs.c computes the same over headscan's readers (JSONL and Parquet).

Usage: /usr/bin/python3 tests/reference/docs_ref.py FILE.jsonl [--skip N] [--limit N] [--null-every K]
Prints "<documents> <sha256>".
"""
import argparse
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokens_ref import load_docs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--field", default="text")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--null-every", type=int, default=0)
    a = ap.parse_args()
    h = hashlib.sha256()
    docs = load_docs(a.jsonl, a.field, a.skip, a.limit, a.null_every)
    for d in docs:
        b = d.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    print(len(docs), h.hexdigest())


if __name__ == "__main__":
    main()
