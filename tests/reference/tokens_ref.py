#!/usr/bin/python3
"""tokens_ref.py — independent Python reference of the token matrix TransformerLens
builds: utils.tokenize_and_concatenate (TL 1.6, via datasets.map(batched=True,
batch_size=1000, num_proc=10)) followed by Dataset.shuffle(seed)
(shared/spec/tokenizer.md §5, shared/spec/data.md §5), and of headscan's "plain" mode.

Token ids come from the HuggingFace tokenizers oracle (Rust, via Node), run once over
every chunk; the permutation from numpy's own default_rng(seed).permutation. Chunks
are Python str slices, i.e. cut in Unicode code points as TL does.
`--fake` replaces the tokenizer by a trivial one (each code point -> ord+2, every
literal "<|endoftext|>" -> 0) that tests/test_tokens.c reimplements, so the
chunking/sharding logic can be checked without a tokenizer.

Usage (from the repository root; the oracle installed with
`npm install --prefix /tmp/oracle @anush008/tokenizers@0.6.0`):
  ORACLE_NODE_MODULES=/tmp/oracle/node_modules /usr/bin/python3 tests/reference/tokens_ref.py \
      ../shared/data/corpus/dev.jsonl --tokenizer ../shared/data/tokenizers/gpt-neox-20b.tokenizer.json \
      [--out m.npy] [--n-ctx 256] [--seed 42 | --no-shuffle] [--mode tl|plain] \
      [--num-proc 10 --batch-size 1000 --chunks 20] [--skip N] [--limit N] [--null-every K]
Prints "sha256 <hex of the int64 little-endian row-major matrix>" and "shape R C".
--skip/--limit/--null-every select the dev.jsonl rows the Parquet fixtures hold
(row i of the selection is null when i % K == K-1, and nulls are skipped).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

EOS = "<|endoftext|>"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORACLE = os.path.join(HERE, "..", "..", "..", "shared", "tools", "hf-tokenize.mjs")


def fake_encode(s):
    ids = []
    parts = s.split(EOS)
    for k, part in enumerate(parts):
        if k:
            ids.append(0)
        ids.extend(ord(c) + 2 for c in part)
    return ids


def oracle_encode_all(texts, tokenizer, oracle, special=False):
    """ids of every text, in order, from one run of the HF tokenizers oracle (special:
    add_special_tokens=True, i.e. the post-processor's BOS for Llama tokenizers)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chunks.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}) + "\n")
        res = subprocess.run(["node", oracle, tokenizer, path, "--format", "jsonl"] + (["--special"] if special else []),
                             check=True, capture_output=True, text=True)
    out = [json.loads(line) for line in res.stdout.splitlines()]
    if len(out) != len(texts):
        sys.exit(f"oracle returned {len(out)} results for {len(texts)} texts")
    return out


def load_docs(path, field, skip, limit, null_every):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                docs.append(json.loads(line)[field])
    docs = docs[skip:]
    if limit is not None:
        docs = docs[:limit]
    if null_every:
        docs = [d for i, d in enumerate(docs) if i % null_every != null_every - 1]
    return docs


def batches_tl(n_docs, num_proc, batch_size):
    """(start, end) of each batch: datasets.map's contiguous shards, then batches."""
    if n_docs == 0:
        return []
    num_proc = min(num_proc, n_docs)  # datasets reduces num_proc to the dataset size
    div, mod = divmod(n_docs, num_proc)
    out = []
    for k in range(num_proc):
        start = div * k + min(k, mod)
        end = start + div + (1 if k < mod else 0)
        for b in range(start, end, batch_size):
            out.append((b, min(b + batch_size, end)))
    return out


def build_tl(docs, encode_many, n_ctx, num_proc, batch_size, num_chunks, pad_id=0, bos_id=0, eos_text=EOS):
    """bos_id None: TL's add_bos_token=False (Qwen2): rows of n_ctx ids, no BOS column."""
    seq_len = n_ctx - 1 if bos_id is not None else n_ctx
    all_chunks, spans = [], []
    for a, b in batches_tl(len(docs), num_proc, batch_size):
        full_text = eos_text.join(docs[a:b])
        chunk_length = (len(full_text) - 1) // num_chunks + 1
        chunks = [full_text[i * chunk_length:(i + 1) * chunk_length] for i in range(num_chunks)]
        spans.append((len(all_chunks), len(chunks)))
        all_chunks.extend(chunks)
    ids = encode_many(all_chunks)
    rows = []
    for first, n in spans:
        toks = np.array([t for c in ids[first:first + n] for t in c], dtype=np.int64)
        toks = toks[toks != pad_id]
        nb = len(toks) // seq_len
        toks = toks[:seq_len * nb].reshape(nb, seq_len)
        rows.append(toks if bos_id is None else np.concatenate([np.full((nb, 1), bos_id, dtype=np.int64), toks], axis=1))
    if not rows:
        return np.zeros((0, n_ctx), dtype=np.int64)
    return np.concatenate(rows, axis=0)


def build_plain(docs, encode_many, n_ctx, eos_id=0, bos_id=0):
    seq_len = n_ctx - 1
    stream = []
    for i, d in enumerate(encode_many(docs)):
        if i:
            stream.append(eos_id)
        stream.extend(d)
    nb = len(stream) // seq_len
    toks = np.array(stream[:nb * seq_len], dtype=np.int64).reshape(nb, seq_len)
    return np.concatenate([np.full((nb, 1), bos_id, dtype=np.int64), toks], axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jsonl")
    ap.add_argument("--field", default="text")
    ap.add_argument("--tokenizer")
    ap.add_argument("--fake", action="store_true")
    ap.add_argument("--oracle", default=DEFAULT_ORACLE)
    ap.add_argument("--mode", choices=["tl", "plain"], default="tl")
    ap.add_argument("--n-ctx", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-shuffle", action="store_true")
    ap.add_argument("--num-proc", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--chunks", type=int, default=20)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--null-every", type=int, default=0)
    ap.add_argument("--special-id", type=int, default=0,
                    help="id of <|endoftext|> = TL's pad = eos = bos (0 for Pythia, 50256 for GPT-2)")
    ap.add_argument("--eos-id", type=int,
                    help="Llama family (llama.md §8): the model's EOS = TL's pad (removed); its string joins documents")
    ap.add_argument("--eos-text", help="the EOS token's string (with --eos-id)")
    ap.add_argument("--bos-id", type=int, help="the BOS column's id (default --special-id)")
    ap.add_argument("--no-bos-column", action="store_true", help="TL add_bos_token=False (Qwen2)")
    ap.add_argument("--add-special-tokens", action="store_true",
                    help="encode chunks with add_special_tokens=True (tokenizer(chunks); the Llama post-processor's BOS)")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.fake == bool(a.tokenizer):
        sys.exit("give exactly one of --tokenizer and --fake")
    docs = load_docs(a.jsonl, a.field, a.skip, a.limit, a.null_every)
    if a.fake:
        def encode_many(texts):
            return [fake_encode(t) for t in texts]
    else:
        def encode_many(texts):
            return oracle_encode_all(texts, a.tokenizer, a.oracle, a.add_special_tokens)
    if a.mode == "tl":
        pad = a.eos_id if a.eos_id is not None else a.special_id
        bos = None if a.no_bos_column else (a.bos_id if a.bos_id is not None else a.special_id)
        m = build_tl(docs, encode_many, a.n_ctx, a.num_proc, a.batch_size, a.chunks, pad, bos, a.eos_text or EOS)
    else:
        m = build_plain(docs, encode_many, a.n_ctx, a.special_id, a.special_id)
    if not a.no_shuffle:
        m = m[np.random.default_rng(a.seed).permutation(len(m))]
    m = np.ascontiguousarray(m, dtype="<i8")
    if a.out:
        np.save(a.out, m)
    print(f"shape {m.shape[0]} {m.shape[1]}")
    print(f"sha256 {hashlib.sha256(m.tobytes()).hexdigest()}")


if __name__ == "__main__":
    main()
