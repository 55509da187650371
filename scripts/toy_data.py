#!/usr/bin/env python3
"""toy_data.py — generates headscan's bundled toy corpus, tokenizer and training tokens.

Everything here is text this script writes itself (no downloaded or copied text), so it
ships under the project's licence. Deterministic for a given --seed (own splitmix64
RNG, no dependence on Python's `random`); standard library only.

Outputs (into --out):
  tokenizer.json   byte-level BPE (GPT-2 regex pre-tokenizer, ByteLevel decoder),
                   <|endoftext|> = id 0 (BOS/EOS), bytes 1..256, merges after
  train.npy        int32 [chain_rows + subset_rows + pure_rows + rows, n_ctx + 1] training
                   rows: first chain rows (no BOS, see --chain-rows), then rows starting
                   with BOS (0): --pure-rows warm-up rows of short repeats, then --rows
                   mixed rows
  toy.jsonl        a small evaluation dataset of documents {"text": ...} for the scan

Content: IOI-style sentences ("When John and Mary went to the store, John gave the
bag to Mary."), other copy-from-context sentences, filler sentences of invented words,
and repeated segments: spans of uniformly random tokens (from the last --span-pool
ids) that occur again later in the same row, rows [BOS, R, R] and rows
[BOS, R1, R1, R2, R2, ...] — the data induction heads and name movers learn from.
"""
import argparse, json, os, re, struct, sys

MASK = (1 << 64) - 1

class Rng:
    def __init__(self, seed): self.s = (seed * 0x9E3779B97F4A7C15 + 0x1234567) & MASK
    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)
    def below(self, n): return self.next() % n
    def choice(self, seq): return seq[self.below(len(seq))]
    def uniform(self): return (self.next() >> 11) / float(1 << 53)
    def sample2(self, seq):
        a = self.below(len(seq)); b = self.below(len(seq) - 1)
        if b >= a: b += 1
        return seq[a], seq[b]

NAMES = """John Mary Tom Anna James Sarah David Emma Michael Lisa Robert Laura Daniel Kate Paul
Alice Peter Susan Mark Helen George Julia Frank Rachel Henry Claire Jack Lucy Adam Grace Ben
Emily Chris Jane Eric Sophie Alex Nina Sam Ruth Steve Amy Tim Diana Max Olivia Oscar Rose Carl
Ella Leo Zoe Ivan Maria Hugo Clara Luke Fiona Noah Hannah Owen Iris Simon Vera Victor Eva Jason
Linda Kevin Megan Brian Holly Dean Paula Felix Nora""".split()
PLACES = """store park school office station market library garden beach museum hospital restaurant
cafe bank church theater river village forest farm harbor castle bakery airport hotel kitchen
stadium bridge island square""".split()
OBJECTS = """bag book ball cup key letter box apple pen hat ring basket bottle drink gift map coin
phone lamp chair card ticket flower knife plate shoe watch bread cake candle blanket camera
guitar jacket kite mirror necklace pillow radio scarf umbrella""".split()
VERBS_GIVE = ["gave", "handed", "passed", "sent", "offered", "threw", "showed", "brought"]
TEMPLATES = [
    "When {A} and {B} went to the {P}, {A} gave the {O} to {B}.",
    "When {A} and {B} went to the {P}, {B} gave the {O} to {A}.",
    "Then, {A} and {B} had a long argument. Afterwards {A} said to {B}.",
    "After {A} and {B} went to the {P}, {A} {V} a {O} to {B}.",
    "While {A} and {B} were working at the {P}, {B} {V} a {O} to {A}.",
    "{A} and {B} went to the {P}. {B} {V} the {O} to {A}.",
    "Friends {A} and {B} found a {O} at the {P}. {A} {V} it to {B}.",
    "The {P} was busy when {A} and {B} arrived. {A} {V} the {O} to {B}.",
    "{A} and {B} were thinking about going to the {P}. {A} wanted to give the {O} to {B}.",
    "At the {P}, {A} met {B}. Later {B} {V} a {O} to {A}.",
    "Yesterday {A} and {B} walked to the {P}, and {A} {V} the {O} to {B}.",
    "If {A} and {B} visit the {P}, then {B} will give the {O} to {A}.",
    "{A} and {B} had lunch at the {P}. Then {A} {V} a {O} to {B}.",
    "When {B} and {A} got a {O} at the {P}, {A} decided to give it to {B}.",
    "{A} told {B} about the {P}, so {B} {V} the {O} back to {A}.",
    "After the meeting at the {P}, {A} and {B} talked, and {B} {V} the {O} to {A}.",
]
COPY_TEMPLATES = [
    "{A} bought a {O} at the {P}. Later, {A} sold the {O} to {B}.",
    "There was a {O} in the {P}. {A} took the {O} home.",
    "{A} lost a {O} near the {P}, and {B} found the {O} the next day.",
    "The {O} on the table belongs to {A}. Please give the {O} to {A}.",
    "{A} likes the {P} more than {B} does, but {B} goes to the {P} every week.",
]
ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kl", "pl", "st", "tr", "sh", "ch", "th"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ee"]
CODAS = ["", "", "n", "r", "l", "s", "m", "k", "nd", "st"]
FILLER = [
    "The {W} of the {W} was {W}.", "A {W} {W} lives near the {P}.", "{W} and {W} are two kinds of {W}.",
    "Some people say the {W} is {W}.", "In the {P} there is a {W}.", "Every {W} needs a {W}.",
    "{A} read a story about a {W} and a {W}.", "Nobody knows why the {W} went to the {P}.",
]

def pseudo_words(rng, n):
    out, seen = [], set(NAMES) | set(PLACES) | set(OBJECTS)
    while len(out) < n:
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(1 + rng.below(2)))
        if w not in seen and len(w) >= 3:
            seen.add(w); out.append(w)
    return out

def fill(rng, tpl, words):
    A, B = rng.sample2(NAMES)
    s = tpl
    for key, val in (("{A}", A), ("{B}", B), ("{P}", rng.choice(PLACES)), ("{O}", rng.choice(OBJECTS))):
        s = s.replace(key, val)
    while "{V}" in s: s = s.replace("{V}", rng.choice(VERBS_GIVE), 1)
    while "{W}" in s: s = s.replace("{W}", rng.choice(words), 1)
    return s

def sentence(rng, words):
    u = rng.uniform()
    if u < 0.6: return fill(rng, rng.choice(TEMPLATES), words)
    if u < 0.8: return fill(rng, rng.choice(COPY_TEMPLATES), words)
    return fill(rng, rng.choice(FILLER), words)

# ---- byte-level BPE -------------------------------------------------------
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}
B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}
# GPT-2 pre-tokenizer regex; our text is ASCII, where \p{L} = [A-Za-z], \p{N} = [0-9].
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")

def pretok(text):
    return ["".join(B2U[b] for b in m.encode("utf-8")) for m in PAT.findall(text)]

def train_bpe(counts, n_merges):
    words = [list(w) for w in counts]
    freq = list(counts.values())
    pairs, where = {}, {}
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] = pairs.get((a, b), 0) + freq[i]
            where.setdefault((a, b), set()).add(i)
    merges = []
    for _ in range(n_merges):
        if not pairs: break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))   # ties: larger pair string, deterministic
        if best[1] < 2: break
        pair = best[0]
        merges.append(pair)
        new = pair[0] + pair[1]
        for i in sorted(where.get(pair, ())):
            w, f = words[i], freq[i]
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] -= f
                if pairs[(a, b)] == 0: del pairs[(a, b)]
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == pair[0] and w[j + 1] == pair[1]:
                    out.append(new); j += 2
                else:
                    out.append(w[j]); j += 1
            words[i] = out
            for a, b in zip(out, out[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + f
                where.setdefault((a, b), set()).add(i)
        where.pop(pair, None)
    return merges

class Encoder:
    def __init__(self, vocab, merges):
        self.vocab, self.ranks, self.cache = vocab, {m: i for i, m in enumerate(merges)}, {}
    def bpe(self, tok):
        if tok in self.cache: return self.cache[tok]
        w = list(tok)
        while len(w) > 1:
            cand = min(((self.ranks.get((a, b), 1 << 30), k) for k, (a, b) in enumerate(zip(w, w[1:]))))
            if cand[0] == 1 << 30: break
            k = cand[1]
            a, b = w[k], w[k + 1]
            out, j = [], 0
            while j < len(w):      # merge every occurrence of the pair, left to right
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(a + b); j += 2
                else:
                    out.append(w[j]); j += 1
            w = out
        ids = [self.vocab[s] for s in w]
        self.cache[tok] = ids
        return ids
    def encode(self, text):
        out = []
        for t in pretok(text): out.extend(self.bpe(t))
        return out

def decode(itos, ids):
    return bytes(U2B[c] for i in ids for c in itos[i]).decode("utf-8", errors="replace")

def tokenizer_json(vocab, merges):
    added = [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": None, "pre_tokenizer": bl, "post_processor": dict(bl), "decoder": dict(bl),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": vocab, "merges": [a + " " + b for a, b in merges]}}

def write_npy(path, rows, width):
    hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), width)
    hdr += " " * (63 - (len(hdr) + 10) % 64) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1"))
        for r in rows: f.write(struct.pack("<%di" % width, *r))
    os.replace(tmp, path)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=4096, help="tokenizer size incl. <|endoftext|>")
    ap.add_argument("--rows", type=int, default=24000, help="training rows")
    ap.add_argument("--n-ctx", type=int, default=256)
    ap.add_argument("--docs", type=int, default=200, help="documents in toy.jsonl")
    ap.add_argument("--span-pool", type=int, default=128, help="random spans use the last N ids (0 = all merged ids)")
    ap.add_argument("--pure-rows", type=int, default=0, help="warm-up rows of pure short repeats, placed first")
    ap.add_argument("--bos-rr", type=float, default=0.3, help="fraction of rows [BOS, R, R]")
    ap.add_argument("--tokenizer", help="reuse this tokenizer.json instead of training one")
    ap.add_argument("--chain-rows", type=int, default=0,
                    help="rows of in-context Markov chains over one fixed small alphabet, placed first")
    ap.add_argument("--subset-rows", type=int, default=0,
                    help="then rows of chains over a per-row random subset of the span pool")
    ap.add_argument("--chain-len", type=int, default=64, help="tokens per chain row (the rest is padding)")
    ap.add_argument("--chain-alphabet", type=int, default=8, help="size of the fixed alphabet")
    ap.add_argument("--chain-jump", type=float, default=0.25, help="probability of a random step")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = Rng(a.seed)
    words = pseudo_words(rng, 2500)

    if a.tokenizer:
        tj = json.load(open(a.tokenizer))
        vocab = tj["model"]["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in tj["model"]["merges"]]
    else:
        counts = {}
        for _ in range(40000):
            for t in pretok(" " + sentence(rng, words)): counts[t] = counts.get(t, 0) + 1
        for w in words:     # each invented word at least a few times, with and without a space
            for t in pretok(" " + w + " " + w.capitalize()): counts[t] = counts.get(t, 0) + 3
        for n in NAMES + PLACES + OBJECTS:
            counts[B2U[32] + n] = counts.get(B2U[32] + n, 0) + 50
        vocab = {"<|endoftext|>": 0}
        for b in range(256): vocab[B2U[b]] = len(vocab)
        merges = train_bpe(counts, a.vocab - len(vocab))
        for x, y in merges: vocab[x + y] = len(vocab)
        with open(os.path.join(a.out, "tokenizer.json.tmp"), "w") as f:
            json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(os.path.join(a.out, "tokenizer.json.tmp"), os.path.join(a.out, "tokenizer.json"))
    enc = Encoder(vocab, merges)
    itos = {i: s for s, i in vocab.items()}
    V = len(vocab)
    # Random spans draw uniformly from the last --span-pool ids (the induction score
    # samples from the same range): a small pool lets the model discover in-context
    # copying within this budget; every id >= 257 still occurs in the text parts.
    lo = max(257, V - a.span_pool) if a.span_pool > 0 else 257

    def rand_span(n): return [lo + rng.below(V - lo) for _ in range(n)]

    def segments(width):
        """token ids of one row after BOS, built from segments; also its text."""
        toks, pending = [], []
        while len(toks) < width:
            u = rng.uniform()
            if pending and u < 0.6:
                toks += pending.pop(0)          # a repeat of an earlier random span
            elif u < 0.5:
                toks += enc.encode(" " + sentence(rng, words))
            elif u < 0.85:
                span = rand_span(4 + rng.below(36))
                toks += span
                pending.append(span)
                if rng.uniform() < 0.3: pending.append(span)    # sometimes a third copy
            else:
                toks += enc.encode(" " + fill(rng, rng.choice(FILLER), words))
        return toks[:width]

    W = a.n_ctx
    rows = []
    for r in range(a.rows):
        u = rng.uniform()
        if u < a.bos_rr / 2:                    # [BOS, R, R] as in the induction score
            n = 5 + rng.below((W - 1) // 2 - 4)
            span = rand_span(n)
            body = span + span
            body += segments(W - len(body)) if len(body) < W else []
        elif u < a.bos_rr:                      # [BOS, R1, R1, R2, R2, ...], short spans
            body = []
            while len(body) < W:
                span = rand_span(4 + rng.below(12))
                body += span + span
        else:
            body = segments(W)
        rows.append([0] + body[:W])
    # A warm-up block placed first (for training in file order): rows made only of
    # short random spans each repeated at once, [BOS, R1, R1, R2, R2, ...], from its
    # own RNG stream so the rows above do not depend on it.
    prng = Rng(a.seed + 1)
    pure = []
    for r in range(a.pure_rows):
        body = []
        while len(body) < W:
            span = [lo + prng.below(V - lo) for _ in range(4 + prng.below(12))]
            body += span + span
        pure.append([0] + body[:W])
    # Chain rows, placed before everything (for training in file order on their first
    # --chain-len + 1 tokens, e.g. --short-ctx 64): no BOS; each row draws a random
    # permutation f of its alphabet and walks t -> f(t), or with probability --chain-jump
    # to a random letter. Every letter is equally frequent, so counting tokens in the
    # context does not help; only "what followed this token before" (an induction head)
    # does. First over one fixed alphabet of --chain-alphabet pool ids (the circuit forms
    # on few tokens), then over per-row subsets of 4-16 pool ids (it spreads to all).
    crng = Rng(a.seed + 2)
    def chain(alpha):
        k = len(alpha)
        f = list(range(k))
        for i in range(k - 1, 0, -1):
            j = crng.below(i + 1); f[i], f[j] = f[j], f[i]
        j, out = crng.below(k), []
        for _ in range(a.chain_len + 1):
            out.append(alpha[j])
            j = crng.below(k) if crng.uniform() < a.chain_jump else f[j]
        return out + [0] * (W + 1 - len(out))
    fixed = [lo + i for i in range(a.chain_alphabet)]
    chains = [chain(fixed) for _ in range(a.chain_rows)]
    for _ in range(a.subset_rows):
        k, alpha = 4 + crng.below(13), []
        while len(alpha) < k:
            t = lo + crng.below(V - lo)
            if t not in alpha: alpha.append(t)
        chains.append(chain(alpha))
    write_npy(os.path.join(a.out, "train.npy"), chains + pure + rows, W + 1)

    # Evaluation documents (text). Spans of random tokens are decoded to text.
    tmp = os.path.join(a.out, "toy.jsonl.tmp")
    with open(tmp, "w") as f:
        for d in range(a.docs):
            ids = segments(300 + rng.below(200))
            f.write(json.dumps({"text": decode(itos, ids).lstrip(" ")}, ensure_ascii=False) + "\n")
    os.replace(tmp, os.path.join(a.out, "toy.jsonl"))
    print("vocab %d, merges %d, %d training rows of %d tokens, %d documents" % (V, len(merges), len(rows), W + 1, a.docs))

if __name__ == "__main__":
    main()
