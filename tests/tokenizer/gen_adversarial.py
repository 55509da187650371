#!/usr/bin/env python3
"""gen_adversarial.py — the tokenizer's adversarial inputs (our own text, so the oracle's
outputs for them may be committed).

    python3 tests/tokenizer/gen_adversarial.py > tests/tokenizer/adversarial.jsonl
    python3 tests/tokenizer/gen_adversarial.py --large      # 1 MB single-line documents (not committed;
                                                            # the tests regenerate them and compare hashes)

One JSON object per line: {"name": "...", "text": "..."}. Deterministic: category samples come
from the Debian unicode-data package (UCD 15.0) at a fixed seed, and the committed file is what
the goldens were made from (tests/tokenizer/make-goldens.sh).
"""
import json
import random
import sys

UCD = "/usr/share/unicode/UnicodeData.txt"
docs = []


def add(name, text):
    docs.append({"name": name, "text": text})


def category_samples(rng):
    """{general category: [code points]} — first, last and 4 random members of each category
    (surrogates excluded), plus unassigned code points in several planes."""
    rows = [l.split(";") for l in open(UCD, encoding="utf-8")]
    cats = {}
    i = 0
    while i < len(rows):
        r = rows[i]
        a = int(r[0], 16)
        b = int(rows[i + 1][0], 16) if r[1].endswith("First>") else a
        i += 2 if r[1].endswith("First>") else 1
        if r[2] == "Cs":
            continue
        cats.setdefault(r[2], []).append((a, b))
    out = {}
    for cat, ranges in sorted(cats.items()):
        members = [c for a, b in ranges for c in (range(a, b + 1) if b - a < 5000 else (a, (a + b) // 2, b))]
        pick = {members[0], members[-1]} | set(rng.sample(members, min(4, len(members))))
        out[cat] = sorted(pick)
    out["Cn"] = [0x0378, 0x08B5, 0x1C89, 0x2EBF0, 0x10D40, 0x13460, 0x1E5F1, 0x3134B + 1, 0xE0080, 0xFFFFE, 0x10FFFF,
                 0xFFFE, 0xFFFF, 0xFDD0]
    return out


def main():
    rng = random.Random(20261126)
    if "--large" in sys.argv:
        words = ["lorem", "ipsum", "dolor", "sit", "amet,", "naïve", "café", "日本語", "'s", "12345", "...", "don't",
                 "e\u0301", "👩\u200d💻", "\t", "  ", "\r\n"]
        s = []
        n = 0
        while n < 1 << 20:
            w = rng.choice(words)
            s.append(w)
            s.append(" " * rng.choice([1, 1, 1, 2, 3, 25]))
            n += len(w.encode()) + 1
        print(json.dumps({"name": "large/words", "text": "".join(s)}, ensure_ascii=False))
        print(json.dumps({"name": "large/one-word", "text": "abcdefghijklmnopqrstuvwxyzé" * 40000}, ensure_ascii=False))
        print(json.dumps({"name": "large/digits-punct", "text": ("0123456789" * 50 + "!?.,;:" * 80) * 1100}))
        print(json.dumps({"name": "large/spaces", "text": " " * (1 << 20) + "x"}))
        return

    # 1. every general category at a pre-token boundary
    contexts = ["a{}b", " {}", "{} x", "1{}2", "!{}?", "\n{}", "{}'s", "  {}  ", "{}{}", " {}{}\n", "x {} 7 ! {}"]
    for cat, cps in category_samples(rng).items():
        for cp in cps:
            c = chr(cp)
            add(f"category/{cat}/U+{cp:04X}", "\n".join(ctx.format(c, c) for ctx in contexts))

    # 2. space runs of 1..60 before letters, digits, punctuation, newlines...
    followers = ["x", "7", "!", "\n", "\t", "é", "中", "'s", "\u00a0", ""]
    for n in range(1, 61):
        add(f"spaces/{n}", "\n".join("a" + " " * n + f for f in followers))
        add(f"spaces-only/{n}", " " * n)
        add(f"newline-spaces/{n}", "\n" + " " * n + "next")

    # 3. contractions in every case, with and without context
    conts = ["s", "t", "re", "ve", "m", "ll", "d"]
    variants = []
    for c in conts:
        for mask in range(1 << len(c)):
            variants.append("".join(ch.upper() if mask >> k & 1 else ch for k, ch in enumerate(c)))
    for v in variants:
        add(f"contraction/{v}", f"it'{v} IT'{v} x '{v} ''{v} '{v}'{v} 1'{v} !'{v} \u2019{v} '{v}x '{v}1")
    add("contraction/bare", "' '' ''' 's 't 're 've 'm 'll 'd 'ss 'rer 'l 'v 'r")

    # 4. <|endoftext|> fragments
    sp = "<|endoftext|>"
    for k in range(1, len(sp)):
        add(f"special/prefix{k}", "x" + sp[:k] + " y")
        add(f"special/suffix{k}", sp[k:] + "x")
    add("special/split", "<|endo<|endoftext|>ftext|>")
    add("special/double", sp + sp + " " + sp + "\n" + sp)
    add("special/padding", "<|padding|><|padding|x<|padding|>  <PAD>")
    add("special/case", "<|ENDOFTEXT|> <|EndOfText|> < |endoftext| >")
    add("special/spaces", "a" + " " * 23 + sp + " " * 24 + sp + " " * 25)

    # 5. combining marks needing NFC, reordering, Hangul, Unicode 10+ marks (HF's NFC is Unicode 9)
    add("nfc/basic", "e\u0301t\u00e9 A\u030a \u212b \u2126 \u0958 \u1e9b\u0323 a\u0323\u0302 a\u0302\u0323")
    add("nfc/reorder", "q\u0307\u0323 q\u0323\u0307 \u1e0b\u0323 d\u0307\u0323 d\u0323\u0307 o\u0328\u0304 \u01ed")
    add("nfc/hangul", "\u1100\u1161\u11a8 \u1100\u1161 \uac00\u11a8 \u1100\u1161\u11a8\u11a8 \ud55c\uad6d\uc5b4")
    add("nfc/new-marks", "a\u1dfa\u0316 a\u0316\u1dfa b\U0001e08f\u0301 \U0001e130\u0301 x\u0898\u0301 \u0c3c\u0301")
    add("nfc/starters", "\u0b47\u0b3e \u0b47\u0b57 \u0cc6\u0cc2\u0cd5 \u0d46\u0d3e \u09c7\u09be \u1025\u102e")
    add("nfc/long-marks", "a" + "\u0301\u0316\u0327\u0300\u0323" * 40 + "b")
    add("nfc/singletons", "\u0340\u0341\u0343\u0374\u037e\u0387 \u1f71\u1fbb \u2000\u2001 \uf900\uf91b \U0002f800")
    # 6. scripts
    add("cjk", "日本語のテキスト、中文文本，한국어 텍스트。漢字かな交じり文１２３ＡＢＣ")
    add("emoji", "👩\u200d👩\u200d👧\u200d👦 👍🏽 👍🏿x 🏳\ufe0f\u200d🌈 🇫🇷🇩🇪 1\ufe0f\u20e3 #\ufe0f\u20e3 👨🏾\u200d🦱 🧑\u200d🤝\u200d🧑")
    add("rtl", "שלום עולם مرحبا بالعالم \u202eabc\u202c \u2067אב\u2069 فارسی ۱۲۳ ١٢٣ اردو")
    add("indic-thai", "हिन्दी भाषा ภาษาไทย ทดสอบ ಕನ್ನಡ தமிழ் ၁၂၃")
    # 7. unusual whitespace and line breaks
    for ws in ["\u0085", "\u2028", "\u2029", "\u00a0", "\u3000", "\u1680", "\u200b", "\ufeff", "\u180e", "\x0b", "\x0c",
               "\x1c", "\x1f"]:
        add(f"ws/U+{ord(ws):04X}", f"a{ws}b a {ws} b {ws}{ws}x x{ws}{ws} y {ws}\n{ws}  {ws}1 {ws}")
    add("crlf", "line1\r\nline2\r\n\r\n  x\r\r\n \r\n\ty\n\n\nz  \n  \n")
    add("controls", "\x00a\x01\x07\x08\x1b[1m\x7f\x80\x9f\x85 \x00\x00 b")
    add("private-nonchars", "\ue000\uf8ff\U000f0000\U0010fffd \ufffe\uffff\ufdd0 \U0001fffe x\U0010ffff")
    # 8. very long words and runs (the heap BPE path)
    add("long/a", "a" * 5000)
    add("long/ab", "ab" * 3000 + " " + "the" * 1000)
    add("long/digits", "1" * 3000 + " " + "0123456789" * 300)
    add("long/punct", "!" * 3000 + " " + "-=" * 1500)
    add("long/newlines", "\n" * 3000 + "x" + "\t" * 500)
    add("long/spaces", " " * 3000 + "x")
    add("long/cjk", "中" * 2000)
    add("long/accents", "é" * 2000 + " " + "e\u0301" * 1000)
    add("empty", "")
    for d in docs:
        print(json.dumps(d, ensure_ascii=False))


if __name__ == "__main__":
    main()
