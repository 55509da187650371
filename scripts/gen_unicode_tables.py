#!/usr/bin/env python3
"""gen_unicode_tables.py — writes src/tokenizer/unicode_tables.c for the tokenizer.

Run:  python3 scripts/gen_unicode_tables.py [/usr/share/unicode] > src/tokenizer/unicode_tables.c
Input: the Debian `unicode-data` package (UCD 15.0): UnicodeData.txt, PropList.txt,
DerivedAge.txt, DerivedNormalizationProps.txt.

Two tables, both as two-level lookups over 256-code-point blocks:

1. Pre-tokenizer classes for the GPT-2 regex as HF tokenizers runs it (Oniguruma bundled by
   the `onig` crate): 0 = other, 1 = \\p{L} (Lu Ll Lt Lm Lo), 2 = \\p{N} (Nd Nl No),
   3 = \\s (White_Space). HF's bundled Oniguruma knows Unicode 16.0, Debian's UCD is 15.0:
   UNICODE16_ADDITIONS below lists the letters/digits Unicode 16.0 added (Garay, Gurung
   Khema, Kirat Rai, Ol Onal, Sunuwar, Todhri, Tulu-Tigalari, Egyptian Hieroglyphs Ext-A,
   CJK Ext-I, ...). They were found by probing the HF oracle on every code point
   (tests/tokenizer/oracle/classes.mjs) and cross-checked with JavaScript's /\\p{L}/u and
   /\\p{N}/u (ICU 78, Unicode 17), which agree on every one. test_tokenizer_unicode compares
   the whole generated table with the oracle's probe (tests/tokenizer/golden/classes.txt).

2. NFC data as of Unicode 9.0, which is what HF's `unicode-normalization-alignments` crate
   has: code points not assigned by 9.0 (DerivedAge) get no decomposition and combining
   class 0, and compose with nothing. Decompositions and combining classes of assigned
   characters are stable across versions, so filtering UCD 15.0 by age gives 9.0's data.
   Emitted: combining class and a "may change under NFC" flag per code point, the full
   (recursive) canonical decompositions, and the primary composition pairs (excluding
   Full_Composition_Exclusion). Hangul is algorithmic and not in the tables.
"""
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
NFC_MAX_AGE = (9, 0)
# (first, last, class) — Unicode 16.0 letters (1) and numbers (2) unknown to UCD 15.0.
UNICODE16_ADDITIONS = [
    (0x1C89, 0x1C8A, 1), (0xA7CB, 0xA7CD, 1), (0xA7DA, 0xA7DC, 1), (0x105C0, 0x105F3, 1),
    (0x10D40, 0x10D49, 2), (0x10D4A, 0x10D65, 1), (0x10D6F, 0x10D85, 1), (0x10EC2, 0x10EC4, 1),
    (0x11380, 0x11389, 1), (0x1138B, 0x1138B, 1), (0x1138E, 0x1138E, 1), (0x11390, 0x113B5, 1),
    (0x113B7, 0x113B7, 1), (0x113D1, 0x113D1, 1), (0x113D3, 0x113D3, 1), (0x116D0, 0x116E3, 2),
    (0x11BC0, 0x11BE0, 1), (0x11BF0, 0x11BF9, 2), (0x13460, 0x143FA, 1), (0x16100, 0x1611D, 1),
    (0x16130, 0x16139, 2), (0x16D40, 0x16D6C, 1), (0x16D70, 0x16D79, 2), (0x18CFF, 0x18CFF, 1),
    (0x1CCF0, 0x1CCF9, 2), (0x1E5D0, 0x1E5ED, 1), (0x1E5F0, 0x1E5F0, 1), (0x1E5F1, 0x1E5FA, 2),
    (0x2EBF0, 0x2EE5D, 1),
]
NCP = 0x110000


def ucd_lines(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield [x.strip() for x in line.split(";")]


def cp_range(field):
    if ".." in field:
        a, b = field.split("..")
        return range(int(a, 16), int(b, 16) + 1)
    return range(int(field, 16), int(field, 16) + 1)


def unicode_data():
    """Yields (first, last, fields) with <..., First>/<..., Last> ranges folded."""
    rows = list(ucd_lines("UnicodeData.txt"))
    i = 0
    while i < len(rows):
        r = rows[i]
        if r[1].endswith("First>"):
            yield int(r[0], 16), int(rows[i + 1][0], 16), r
            i += 2
        else:
            yield int(r[0], 16), int(r[0], 16), r
            i += 1


def two_level(values, name, ctype):
    """values: list of NCP small ints -> C arrays name_stage1[NCP>>8], name_stage2[]."""
    blocks, index, stage1 = [], {}, []
    for b in range(NCP >> 8):
        blk = tuple(values[b << 8:(b + 1) << 8])
        if blk not in index:
            index[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(index[blk])
    out = [f"const uint16_t {name}_stage1[{len(stage1)}] = {{"]
    for i in range(0, len(stage1), 16):
        out.append("    " + ", ".join(str(x) for x in stage1[i:i + 16]) + ",")
    out.append("};")
    out.append(f"const {ctype} {name}_stage2[{len(blocks) * 256}] = {{")
    for blk in blocks:
        for i in range(0, 256, 32):
            out.append("    " + ",".join(str(x) for x in blk[i:i + 32]) + ",")
    out.append("};")
    return "\n".join(out)


def main():
    gc = ["Cn"] * NCP
    ccc = [0] * NCP
    decomp = {}
    for a, b, r in unicode_data():
        for c in range(a, b + 1):
            gc[c] = r[2]
            ccc[c] = int(r[3])
        if r[5] and not r[5].startswith("<"):
            decomp[a] = [int(x, 16) for x in r[5].split()]
    ws = set()
    for f in ucd_lines("PropList.txt"):
        if f[1] == "White_Space":
            ws.update(cp_range(f[0]))
    age = [None] * NCP
    for f in ucd_lines("DerivedAge.txt"):
        v = tuple(int(x) for x in f[1].split("."))
        for c in cp_range(f[0]):
            age[c] = v
    excl = set()
    for f in ucd_lines("DerivedNormalizationProps.txt"):
        if f[1] == "Full_Composition_Exclusion":
            excl.update(cp_range(f[0]))

    # ---- 1. pre-tokenizer classes
    cls = [0] * NCP
    for c in range(NCP):
        if c in ws:
            cls[c] = 3
        elif gc[c] in ("Lu", "Ll", "Lt", "Lm", "Lo"):
            cls[c] = 1
        elif gc[c] in ("Nd", "Nl", "No"):
            cls[c] = 2
    for a, b, k in UNICODE16_ADDITIONS:
        for c in range(a, b + 1):
            assert gc[c] == "Cn", hex(c)
            cls[c] = k

    # ---- 2. NFC as of Unicode 9.0
    def old(c):
        return age[c] is not None and age[c] <= NFC_MAX_AGE
    ccc9 = [ccc[c] if old(c) else 0 for c in range(NCP)]
    dec9 = {c: d for c, d in decomp.items() if old(c)}

    def full(c):
        if c not in dec9:
            return [c]
        return [x for y in dec9[c] for x in full(y)]
    fulldec = {c: full(c) for c in sorted(dec9)}
    comps = {}
    for c, d in dec9.items():
        if len(d) == 2 and c not in excl and ccc9[d[0]] == 0:
            comps[(d[0], d[1])] = c
    seconds = {s for (_, s) in comps}
    # flag 1: the character may change or make its neighbourhood change under NFC, i.e. NFC
    # quick check is not "Yes" (decomposes and does not recompose, or can combine with a
    # preceding character) or it is a non-starter. Hangul vowels/trailing consonants
    # (U+1161..1175, U+11A8..11C2) compose algorithmically with the preceding jamo/syllable.
    composites = set(comps.values())
    slow = [0] * NCP
    for c in range(NCP):
        if ccc9[c] or c in seconds or (c in dec9 and c not in composites):
            slow[c] = 1
    for c in list(range(0x1161, 0x1176)) + list(range(0x11A8, 0x11C3)):
        slow[c] = 1
    nfcinfo = [ccc9[c] for c in range(NCP)]

    print("/* unicode_tables.c — GENERATED by scripts/gen_unicode_tables.py from the Debian")
    print(" * unicode-data package (UCD 15.0) plus Unicode 16.0 letter/digit additions. Do not edit.")
    print(" * Pre-tokenizer classes (0 other, 1 \\p{L}, 2 \\p{N}, 3 \\s) and Unicode 9.0 NFC data. */")
    print('#include "tokenizer/unicode_tables.h"')
    print()
    print(two_level(cls, "hs_uc_class", "uint8_t"))
    print(two_level(nfcinfo, "hs_uc_ccc", "uint8_t"))
    print(two_level(slow, "hs_uc_nfc_slow", "uint8_t"))
    pool, idx = [], []
    for c, d in fulldec.items():
        idx.append((c, len(pool), len(d)))
        pool.extend(d)
    print(f"const uint32_t hs_uc_decomp_pool[{len(pool)}] = {{")
    for i in range(0, len(pool), 12):
        print("    " + ", ".join("0x%X" % x for x in pool[i:i + 12]) + ",")
    print("};")
    print(f"const hs_uc_decomp hs_uc_decomp_index[{len(idx)}] = {{")
    for c, o, n in idx:
        print("    {0x%X, %d, %d}," % (c, o, n))
    print("};")
    print(f"const size_t hs_uc_decomp_count = {len(idx)};")
    pairs = sorted(comps.items())
    print(f"const hs_uc_comp hs_uc_comp_pairs[{len(pairs)}] = {{")
    for (a, b), c in pairs:
        print("    {0x%X, 0x%X, 0x%X}," % (a, b, c))
    print("};")
    print(f"const size_t hs_uc_comp_count = {len(pairs)};")


if __name__ == "__main__":
    main()
