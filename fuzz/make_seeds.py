#!/usr/bin/env python3
"""make_seeds.py — writes the small seed corpora in fuzz/corpus/<target>/ (committed).

Everything here is written from scratch (no file of ../shared is copied): tiny
safetensors files, config.json / index files, a miniature byte-level BPE tokenizer.json,
short texts, hand-built Parquet files (a minimal Thrift compact encoder following
parquet.thrift, as tests/test_parquet_synth.c does), JSONL lines, .npy arrays and raw
HTTP header blocks. Run: python3 fuzz/make_seeds.py  (from the repo root)."""
import gzip, json, os, struct, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def out(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# ---- safetensors
def safetensors(tensors, meta=None):
    hdr, blob = {}, b""
    if meta:
        hdr["__metadata__"] = meta
    for name, (dtype, shape, raw) in tensors.items():
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob

out("safetensors", "f32", safetensors({"w": ("F32", [2, 3], struct.pack("<6f", *range(6)))}, {"format": "pt"}))
out("safetensors", "mixed", safetensors({
    "a": ("F16", [4], struct.pack("<4H", 0x3c00, 0x7c00, 0x8001, 0x7e00)),
    "b": ("BF16", [2, 1], struct.pack("<2H", 0x3f80, 0xff80)),
    "c": ("F64", [1], struct.pack("<d", 1e300)),
    "d": ("I64", [2], struct.pack("<2q", -1, 7)),
    "e": ("U8", [0], b""),
    "f": ("F8_E4M3", [3], b"\x01\x02\x03"),
}))
out("safetensors", "scalar", safetensors({"s": ("F32", [], struct.pack("<f", 3.5))}))

# ---- config.json (and index files: the same target reads both)
out("config", "neox", json.dumps({
    "model_type": "gpt_neox", "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 2,
    "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 32, "rotary_pct": 0.25,
    "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "use_parallel_residual": True, "hidden_act": "gelu"}))
out("config", "gpt2", json.dumps({
    "model_type": "gpt2", "n_embd": 16, "n_head": 4, "n_layer": 2, "n_inner": None, "vocab_size": 50,
    "n_positions": 32, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}))
out("config", "index", json.dumps({"metadata": {"total_size": 100}, "weight_map": {
    "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}))

# ---- tokenizer.json: a miniature byte-level BPE (every byte in the GPT-2 byte map)
def byte_chars():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}
bc = byte_chars()
vocab = {bc[b]: i for i, b in enumerate(range(256))}
merges = []
for a, b in [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("\u0120", "w"), ("o", "r"), ("\u0120w", "or")]:
    merges.append(a + " " + b)
    vocab[a + b] = len(vocab)
tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": len(vocab), "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
}
vocab["<|endoftext|>"] = len(vocab)
out("tokenizer_load", "mini", json.dumps(tok, ensure_ascii=False))
tok2 = dict(tok); tok2["normalizer"] = None
tok2["model"] = dict(tok["model"]); tok2["model"]["merges"] = [m.split(" ") for m in merges]
out("tokenizer_load", "mini-pairs", json.dumps(tok2))

# ---- Llama-family kinds (all written here): text to encode after the NUL byte
def with_text(j, text):
    return json.dumps(j, ensure_ascii=False).encode() + b"\0" + text.encode()
sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256): sp_vocab["<0x%02X>" % b] = len(sp_vocab)
for c in ["\u2581", "h", "e", "l", "o", "w", "r", "d", "\u2581h", "he", "ll", "\u2581he", "\u2581hell", "\u2581hello", "\u2581w", "or", "\u2581wor", "\u2581world", "\u2581\u2581"]:
    sp_vocab.setdefault(c, len(sp_vocab))
sp_merges = [["\u2581", "h"], ["h", "e"], ["l", "l"], ["\u2581h", "e"], ["\u2581he", "ll"], ["\u2581hell", "o"], ["\u2581", "w"],
             ["o", "r"], ["\u2581w", "or"], ["\u2581wor", "l"], ["\u2581", "\u2581"]]
sp_vocab["\u2581worl"] = len(sp_vocab)
sp_merges = [m for m in sp_merges if m[0] + m[1] in sp_vocab]
def added(i, c, **kw):
    d = {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    d.update(kw); return d
template = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
sp = {"version": "1.0", "truncation": None, "padding": None,
      "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>", rstrip=True, lstrip=True)],
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                         {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
      "pre_tokenizer": None, "post_processor": template,
      "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                    {"type": "ByteFallback"}, {"type": "Fuse"},
                                                    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
      "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": sp_vocab, "merges": sp_merges}}
out("tokenizer_load", "sentencepiece", with_text(sp, "hello world<s> hello  </s>  w\u00f6rld \u4e2d\U0001F600 x"))
ms = json.loads(json.dumps(sp)); ms["normalizer"] = None
ms["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
ms["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
ms["model"]["byte_fallback"] = False; ms["model"]["fuse_unk"] = False
ms["added_tokens"][1]["single_word"] = True; ms["added_tokens"][1]["normalized"] = True; ms["added_tokens"][1]["special"] = False
out("tokenizer_load", "metaspace", with_text(ms, "hello <s> world<s>x \u00e9\u00e9 hello"))
tk = json.loads(json.dumps(tok)); tk["normalizer"] = None
tk["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
     "behavior": "Isolated", "invert": False},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
tk["model"]["ignore_merges"] = True
tk["post_processor"] = {"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}, dict(template, special_tokens={
    "<s>": {"id": "<s>", "ids": [len(tk["model"]["vocab"]) - 1], "tokens": ["<s>"]}})]}
out("tokenizer_load", "tiktoken", with_text(tk, "Hello world's 12345 \r\n\n  x<|endoftext|>HELLO'S"))
for beh in ["Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    sv = json.loads(json.dumps(tk))
    sv["pre_tokenizer"]["pretokenizers"][0] = {"type": "Split", "pattern": {"Regex": "\\s*|[ol]+"}, "behavior": beh,
                                               "invert": beh == "Contiguous"}
    out("tokenizer_load", "split-" + beh, with_text(sv, "hello  world, hello\tworld llo"))

# ---- texts to encode
out("tokenizer_encode", "english", "Hello world, it's a test.\n\nThe 2nd line: 12345 cats  ")
out("tokenizer_encode", "unicode", "caf\u00e9 \u0301e na\u00efve \u4e2d\u6587 \U0001F600 \u00a0x\r\n\t<|endoftext|>end")
out("tokenizer_encode", "invalid", b"ok \xff\xfe \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 tail")
out("tokenizer_encode", "spaces", " " * 40 + "\n" * 10 + "'s'll've're" + "a" * 200)
for i, name in enumerate(["llama2", "llama3", "qwen2"]):   # first byte picks the tokenizer
    out("tokenizer_family", name, bytes([i + 4]) + "Hello world<s></s><|begin_of_text|><|im_start|> it'S \u017f 12345 caf\u00e9 \u4e2d\U0001F600\r\n\t x".encode())

# ---- Parquet (Thrift compact protocol)
class W:
    def __init__(s): s.b = bytearray(); s.last = [0]
    def varint(s, v):
        while v >= 128: s.b.append(v & 127 | 128); v >>= 7
        s.b.append(v)
    def zz(s, v): s.varint((v << 1) ^ (v >> 63) if v < 0 else v << 1)
    def fh(s, i, t):
        d = i - s.last[-1]
        if 0 < d <= 15: s.b.append(d << 4 | t)
        else: s.b.append(t); s.zz(i)
        s.last[-1] = i
    def i32(s, i, v): s.fh(i, 5); s.zz(v)
    def i64(s, i, v): s.fh(i, 6); s.zz(v)
    def bool_(s, i, v): s.fh(i, 1 if v else 2)
    def bin(s, i, v): s.fh(i, 8); s.varint(len(v)); s.b += v
    def sbegin(s): s.last.append(0)
    def struct(s, i): s.fh(i, 12); s.sbegin()
    def send(s): s.b.append(0); s.last.pop()
    def lst(s, i, et, n):
        s.fh(i, 9)
        if n < 15: s.b.append(n << 4 | et)
        else: s.b.append(0xf0 | et); s.varint(n)

def page_header(w, typ, usize, csize, nvals, enc, v2=None):
    w.sbegin(); w.i32(1, typ); w.i32(2, usize); w.i32(3, csize)
    if typ == 0:
        w.struct(5); w.i32(1, nvals); w.i32(2, enc); w.i32(3, 3); w.i32(4, 3); w.send()
    elif typ == 2:
        w.struct(7); w.i32(1, nvals); w.i32(2, enc); w.send()
    else:
        nulls, deflen = v2
        w.struct(8); w.i32(1, nvals); w.i32(2, nulls); w.i32(3, nvals); w.i32(4, enc); w.i32(5, deflen); w.i32(6, 0); w.send()
    w.send()

def plain(vals):
    return b"".join(struct.pack("<I", len(v)) + v for v in vals)

def rle_levels(levels, width=1):
    """RLE/bit-packed hybrid: one bit-packed run (groups of 8)."""
    groups = (len(levels) + 7) // 8
    bits = bytearray(groups * width)
    for i, l in enumerate(levels):
        if l: bits[i // 8] |= 1 << (i % 8)
    return bytes([groups << 1 | 1]) + bytes(bits)

def parquet(pages, rows, optional=False, codec=0):
    w = W(); w.b += b"PAR1"
    start = len(w.b)
    for hdr, body in pages:
        hdr(w); w.b += body
    size = len(w.b) - start
    fstart = len(w.b)
    w.sbegin(); w.i32(1, 1); w.lst(2, 12, 2)
    w.sbegin(); w.bin(4, b"schema"); w.i32(5, 1); w.send()
    w.sbegin(); w.i32(1, 6); w.i32(3, 1 if optional else 0); w.bin(4, b"text"); w.i32(6, 0); w.send()
    w.i64(3, rows); w.lst(4, 12, 1)
    w.sbegin(); w.lst(1, 12, 1); w.sbegin(); w.i64(2, start); w.struct(3)
    w.i32(1, 6); w.lst(2, 5, 1); w.zz(0); w.lst(3, 8, 1); w.varint(4); w.b += b"text"
    w.i32(4, codec); w.i64(5, rows); w.i64(6, size); w.i64(7, size); w.i64(9, start)
    w.send(); w.send(); w.i64(2, size); w.i64(3, rows); w.send()
    w.bin(6, b"make_seeds.py")
    w.send()
    w.b += struct.pack("<I", len(w.b) - fstart) + b"PAR1"
    return bytes(w.b)

vals = [b"alpha", b"", b"gamma delta", "\u00e9t\u00e9".encode()]
body = plain(vals)
out("parquet", "plain", parquet([(lambda w: page_header(w, 0, len(body), len(body), 4, 0), body)], 4))
lev = rle_levels([1, 0, 1, 1, 0])
body = struct.pack("<I", len(lev)) + lev + plain([b"a", b"bb", b"ccc"])
out("parquet", "nulls", parquet([(lambda w: page_header(w, 0, len(body), len(body), 5, 0), body)], 5, optional=True))
dict_body = plain([b"red", b"green"])
idx = bytes([1]) + bytes([(1 << 1) | 1, 0b01101])   # bit width 1, one bit-packed group: 1,0,1,1,0...
out("parquet", "dict", parquet([(lambda w: page_header(w, 2, len(dict_body), len(dict_body), 2, 0), dict_body),
                                (lambda w: page_header(w, 0, len(idx), len(idx), 5, 8), idx)], 5))
raw = plain(vals)
gz = gzip.compress(raw)
out("parquet", "gzip", parquet([(lambda w: page_header(w, 0, len(raw), len(gz), 4, 0), gz)], 4, codec=2))
lev2 = rle_levels([1, 1, 0])
vb = plain([b"x", b"yz"])
out("parquet", "v2", parquet([(lambda w: page_header(w, 3, len(lev2) + len(vb), len(lev2) + len(vb), 3, 0, (1, len(lev2))),
                               lev2 + vb)], 3, optional=True))

# ---- JSONL
out("jsonl", "basic", '{"text": "hello", "meta": {"a": [1, 2.5e3, true, null]}}\n\n{"text": "w\\u00e9\\ud83d\\ude00\\n"}\n')
out("jsonl", "nulls", '{"text": null}\r\n{"id": 3, "text": "x"}\n{"text": "no newline"}')
out("jsonl", "bad", '{"text": 5}\n{"text": "unterminated\n[1,2]\n')
out("jsonl", "escapes", '{"t\\"ext": "a", "text": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"}\n')

# ---- .npy
def npy(descr, shape, raw, version=1):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    pre = 10 if version == 1 else 12
    h += " " * (-(pre + len(h) + 1) % 64) + "\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + raw
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h)) + h.encode() + raw
out("npy", "f4", npy("<f4", "(2, 3)", struct.pack("<6f", *range(6))))
out("npy", "i8", npy("<i8", "(3,)", struct.pack("<3q", 1, -2, 3)))
out("npy", "u1v2", npy("|u1", "(4,)", b"\x00\x01\x02\xff", version=2))
out("npy", "scalar", npy("<f8", "()", struct.pack("<d", 2.5)))
out("npy", "b1", npy("|b1", "(2, 0)", b""))

# ---- hub: raw header blocks, then "\r\n\r\n" and an API body
sha = "0123456789abcdef0123456789abcdef01234567"
out("hub", "head-ok", "HTTP/1.1 200 OK\r\nX-Repo-Commit: %s\r\nETag: W/\"abc\"\r\nContent-Length: 525\r\n\r\n" % sha)
out("hub", "head-lfs", "HTTP/2 302 Found\r\nx-repo-commit: %s\r\nx-linked-etag: \"%s\"\r\nx-linked-size: 1234567\r\n"
    "location: https://cdn.example/blob?x=1\r\n\r\n" % (sha, "f" * 64))
out("hub", "head-rename", "HTTP/1.1 307 Temporary Redirect\r\nLocation: /new/name/resolve/main/config.json\r\n\r\n")
out("hub", "head-404", "HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\nX-Repo-Commit: %s\r\n\r\n" % sha)
out("hub", "api", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" +
    json.dumps({"sha": sha, "siblings": [{"rfilename": "config.json"}, {"rfilename": "data/train-00000.parquet"}]}))
