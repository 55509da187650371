#!/usr/bin/python3
"""llama_ref.py — independent torch reference (oracle) for headscan's Llama-family model code
(model_type llama, mistral, qwen2; shared/spec/llama.md).

Generates small random checkpoints in HuggingFace format (config.json + safetensors written by
neox_ref.py's writer, BF16 added here) and golden outputs (.npy) of
  * the HF LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM forward (llama.md §3-4:
    RMSNorm in float32, SiLU-gated MLP, half-split RoPE over the whole head_dim with
    none / linear / dynamic / llama3 scaling, grouped-query attention, sliding window, biases),
  * TransformerLens 2.x's conversion + weight processing (llama.md §2, §5) and hooked forward
    (§6) with TL's hook names and grouped shapes, processed and unprocessed.
Everything is re-implemented here from the spec in plain torch (no transformers /
TransformerLens), in float32 (the goldens) and float64 (errors.json, for the C tests'
tolerances). Run with Debian's /usr/bin/python3. See tests/reference/README.md.
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import neox_ref as nx  # noqa: E402  safetensors writer/reader, loss, npy, error stats, oracles

torch.set_num_threads(1)  # fixed reduction order ⇒ byte-identical goldens on a re-run

# BF16 tensors travel through neox_ref's writer/reader as their raw uint16 bit patterns
# (numpy has no bfloat16; safetensors has no U16 in these fixtures, so the code is unambiguous)
nx.ST_DTYPES[np.dtype("uint16")] = "BF16"
nx.ST_NUMPY["BF16"] = np.dtype("uint16")


def fail(msg):
    sys.stderr.write(f"llama_ref.py: CROSS-CHECK FAILED: {msg}\n")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


# --------------------------------------------------------------------------------------
# Fixture definitions
# --------------------------------------------------------------------------------------
# arch keys: type (llama|mistral|qwen2), vocab, d, heads, kv, head_dim (explicit in config.json
# when head_dim_key), layers, mlp, n_ctx (max_position_embeddings), eps (rms_norm_eps), theta
# (None: no rope_theta key ⇒ default 10000), rope (None or the scaling dict), spelling ("type",
# "rope_type" or "v5" = transformers-v5 rope_parameters), tied, attn_bias (q/k/v/o), mlp_bias,
# qkv_bias (qwen2: q/k/v only), window (mistral sliding_window), bos, eos.
BASE = dict(type="llama", heads=4, kv=2, layers=2, n_ctx=64, eps=1e-5, theta=10000.0, rope=None,
            spelling="rope_type", tied=False, attn_bias=False, mlp_bias=False, qkv_bias=False,
            window=None, head_dim_key=True, bos=1, eos=2)


def A(**kw):
    a = dict(BASE)
    a.update(kw)
    a.setdefault("head_dim", a["d"] // a["heads"])
    return a


LLAMA_TINY = A(vocab=512, d=64, mlp=160, theta=2500.0)
LLAMA3_TIED = A(vocab=384, d=48, heads=4, kv=1, head_dim=24, mlp=96, n_ctx=512, tied=True,
                attn_bias=True, mlp_bias=True, bos=128, eos=129,
                rope=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=64))
QWEN2_TINY = A(type="qwen2", vocab=512, d=48, heads=6, kv=2, mlp=128, n_ctx=128, eps=1e-6, theta=1e6,
               tied=True, qkv_bias=True, head_dim_key=False, bos=511, eos=511, qwen_sliding_window=4)
MISTRAL_TINY = A(type="mistral", vocab=512, d=64, heads=8, kv=2, mlp=128, theta=1e6, window=7,
                 head_dim_key=False)
SMALL = dict(vocab=256, d=32, mlp=64)
ROPE_LINEAR = A(**SMALL, theta=None, spelling="type", rope=dict(rope_type="linear", factor=4.0))
ROPE_DYNAMIC = A(**SMALL, n_ctx=16, rope=dict(rope_type="dynamic", factor=3.0))
ROPE_DEFAULT_V5 = A(**SMALL, theta=3000.0, spelling="v5", rope=dict(rope_type="default"))
LLAMA_VOCAB = A(vocab=128256, d=16, heads=2, kv=1, mlp=64, n_ctx=131072, theta=500000.0, tied=True,
                bos=128000, eos=128001,
                rope=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=8192))
LLAMA32_1B = A(vocab=128256, d=2048, heads=32, kv=8, head_dim=64, mlp=8192, layers=16, n_ctx=131072,
               theta=500000.0, tied=True, bos=128000, eos=128001, head_dim_key=True,
               rope=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                         original_max_position_embeddings=8192))

# name: (arch, storage, kind, seed); kind: full = every golden, lite = full without
# no_processing/hooks and variants (size), minimal = logits/loss only,
# vocab = the vocab-sized golden set, and fixture-only kinds whose goldens are another fixture's:
# twin (F32 holding a BF16 fixture's values), sharded, respelled (same weights, other config).
FIXTURES = {
    "llama-tiny-f32": (LLAMA_TINY, "F32", "full", 1501),
    "llama-tiny-bf16": (LLAMA_TINY, "BF16", "minimal", 1501),
    "llama-tiny-bf16-as-f32": (LLAMA_TINY, "BF16-as-F32", "twin", 1501),
    "llama-tiny-f16": (LLAMA_TINY, "F16", "minimal", 1501),
    "llama-tiny-sharded": (LLAMA_TINY, "F32", "sharded", 1501),
    "llama3-tied-f32": (LLAMA3_TIED, "F32", "full", 1502),
    "llama3-tied-v5": (dict(LLAMA3_TIED, spelling="v5"), "F32", "respelled", 1502),
    "qwen2-tiny-f32": (QWEN2_TINY, "F32", "full", 1503),
    "mistral-tiny-f32": (MISTRAL_TINY, "F32", "lite", 1504),
    "llama-rope-linear": (ROPE_LINEAR, "F32", "minimal", 1505),
    "llama-rope-dynamic": (ROPE_DYNAMIC, "F32", "minimal", 1505),
    "llama-rope-default-v5": (ROPE_DEFAULT_V5, "F32", "minimal", 1505),
    "llama-vocab-bf16": (LLAMA_VOCAB, "BF16", "vocab", 128268),  # seed: robust test_prompt margins
}
GOLDEN_OF = {"llama-tiny-bf16-as-f32": "llama-tiny-bf16", "llama-tiny-sharded": "llama-tiny-f32",
             "llama3-tied-v5": "llama3-tied-f32"}
LLAMA3_TOKENIZER = "llama3.tokenizer.json"  # shared/data/tokenizers/: 128256 ids, BOS 128000
# TL utils.test_prompt(prompt, answer, model) golden of llama-vocab-bf16 (the prompt)
TEST_PROMPT = "When John and Mary went to the store, John gave the bag to"
TEST_ANSWER = " Mary"


def group(arch):
    return arch["heads"] // arch["kv"]


def has_qkv_bias(arch):
    return arch["attn_bias"] or arch["qkv_bias"]


# --------------------------------------------------------------------------------------
# Random weights (HF names and shapes, llama.md §2), deliberately far from "nice" values
# --------------------------------------------------------------------------------------
def hf_names(arch):
    """HF state_dict order: embed, per layer self_attn q,k,v,o, mlp gate,up,down, the two
    norms; final norm; lm_head unless tied."""
    names = ["model.embed_tokens.weight"]
    qkvb, ob, mb = has_qkv_bias(arch), arch["attn_bias"], arch["mlp_bias"]
    for L in range(arch["layers"]):
        p = f"model.layers.{L}."
        for x in "qkv":
            names += [p + f"self_attn.{x}_proj.weight"] + ([p + f"self_attn.{x}_proj.bias"] if qkvb else [])
        names += [p + "self_attn.o_proj.weight"] + ([p + "self_attn.o_proj.bias"] if ob else [])
        for x in ("gate", "up", "down"):
            names += [p + f"mlp.{x}_proj.weight"] + ([p + f"mlp.{x}_proj.bias"] if mb else [])
        names += [p + "input_layernorm.weight", p + "post_attention_layernorm.weight"]
    names += ["model.norm.weight"] + ([] if arch["tied"] else ["lm_head.weight"])
    return names


def make_weights(arch, seed):
    """float32 HF dict. numpy PCG64 drives everything (stable across numpy versions)."""
    rng = np.random.default_rng(seed)
    V, d, H, KV, Dh, F_ = arch["vocab"], arch["d"], arch["heads"], arch["kv"], arch["head_dim"], arch["mlp"]
    w = {}

    def normal(std, shape, mean=0.0):
        return rng.normal(mean, std, shape)

    def rms_w(lo=0.5, hi=2.0):
        # |w| in [lo, hi] with ~25% sign flips: folding must really matter
        sign = np.where(rng.random(d) < 0.25, -1.0, 1.0)
        return rng.uniform(lo, hi, d) * sign

    # embedding rows with log-normal norms plus a shared offset; the BOS row is tiny so that
    # rms_norm_eps matters for it (mean(x²) ≈ 1e-4 vs eps 1e-5 / 1e-6)
    row_scale = np.exp(rng.normal(0.0, 0.6, V))
    E = normal(1.0, (V, d)) * row_scale[:, None] + normal(0.5, d)[None, :]
    E[arch["bos"]] *= 0.01
    w["model.embed_tokens.weight"] = E
    qk_std = 2.2 / math.sqrt(d)  # score std ≈ 3-4 ⇒ peaky attention
    for L in range(arch["layers"]):
        p = f"model.layers.{L}."
        w[p + "self_attn.q_proj.weight"] = normal(qk_std, (H * Dh, d))
        w[p + "self_attn.k_proj.weight"] = normal(qk_std, (KV * Dh, d))
        w[p + "self_attn.v_proj.weight"] = normal(1.0 / math.sqrt(d), (KV * Dh, d))
        if has_qkv_bias(arch):
            w[p + "self_attn.q_proj.bias"] = normal(0.5, H * Dh)
            w[p + "self_attn.k_proj.bias"] = normal(0.5, KV * Dh)
            w[p + "self_attn.v_proj.bias"] = normal(0.5, KV * Dh)
        w[p + "self_attn.o_proj.weight"] = normal(1.0 / math.sqrt(H * Dh), (d, H * Dh))
        if arch["attn_bias"]:
            w[p + "self_attn.o_proj.bias"] = normal(0.4, d, 0.3)
        w[p + "mlp.gate_proj.weight"] = normal(1.5 / math.sqrt(d), (F_, d))
        w[p + "mlp.up_proj.weight"] = normal(1.5 / math.sqrt(d), (F_, d))
        w[p + "mlp.down_proj.weight"] = normal(1.0 / math.sqrt(F_), (d, F_))
        if arch["mlp_bias"]:
            w[p + "mlp.gate_proj.bias"] = normal(0.7, F_)
            w[p + "mlp.up_proj.bias"] = normal(0.7, F_)
            w[p + "mlp.down_proj.bias"] = normal(0.4, d, -0.2)
        w[p + "input_layernorm.weight"] = rms_w()
        w[p + "post_attention_layernorm.weight"] = rms_w()
    # final norm: small for tied models (the embedding is the unembedding: keeps logits ~ a few units)
    w["model.norm.weight"] = rms_w(0.08, 0.25) if arch["tied"] else rms_w()
    if not arch["tied"]:
        # per-d_model offsets so that centering over the vocab matters
        w["lm_head.weight"] = normal(2.0 / math.sqrt(d), (V, d)) + normal(0.3, d)[None, :]
    return {k: np.asarray(v, dtype=np.float32) for k, v in w.items()}


def bf16_round(w):
    """float32 dict → (float32 dict holding BF16-representable values (round to nearest even),
    uint16 bit patterns). Torch's own conversion, checked against an integer implementation."""
    vals, bits = {}, {}
    for k, v in w.items():
        t = torch.from_numpy(v).to(torch.bfloat16)
        b = t.view(torch.int16).numpy().view(np.uint16)
        u = v.view(np.uint32).astype(np.uint64)
        ref = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)  # RNE (no NaNs here)
        check(np.array_equal(b, ref), f"bf16 rounding of {k} differs from the integer RNE")
        bits[k] = b
        vals[k] = (b.astype(np.uint32) << 16).view(np.float32)
    return vals, bits


def bf16_edge_values(w, arch):
    """BOS row of the embedding starts with BF16 subnormals (smallest, largest) and -0.0: exact
    in BF16 and F32, so every storage of the fixture holds them."""
    E = w["model.embed_tokens.weight"]
    E[arch["bos"], :3] = np.array([0x00010000, 0x007F0000, 0x80000000], dtype=np.uint32).view(np.float32)


def rope_config(arch):
    """The RoPE keys of config.json in the fixture's spelling (llama.md §1)."""
    theta, rope, sp = arch["theta"], arch["rope"], arch["spelling"]
    if sp == "v5":
        rp = {"rope_theta": theta if theta is not None else 10000.0}
        rp.update(rope or {"rope_type": "default"})
        return {"rope_parameters": rp}
    out = {} if theta is None else {"rope_theta": theta}
    if rope is None:
        out["rope_scaling"] = None
    else:
        r = dict(rope)
        kind = r.pop("rope_type")
        r["type" if sp == "type" else "rope_type"] = kind
        out["rope_scaling"] = r
    return out


def make_config(arch, torch_dtype):
    t = arch["type"]
    cfg = {
        "architectures": [{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
                           "qwen2": "Qwen2ForCausalLM"}[t]],
        "attention_dropout": 0.0,
        "bos_token_id": arch["bos"],
        "eos_token_id": arch["eos"],
        "hidden_act": "silu",
        "hidden_size": arch["d"],
        "initializer_range": 0.02,
        "intermediate_size": arch["mlp"],
        "max_position_embeddings": arch["n_ctx"],
        "model_type": t,
        "num_attention_heads": arch["heads"],
        "num_hidden_layers": arch["layers"],
        "num_key_value_heads": arch["kv"],
        "rms_norm_eps": arch["eps"],
        "tie_word_embeddings": arch["tied"],
        "use_cache": True,
        "vocab_size": arch["vocab"],
    }
    if arch["spelling"] == "v5":
        cfg["dtype"] = torch_dtype
        cfg["transformers_version"] = "5.0.0"
    else:
        cfg["torch_dtype"] = torch_dtype
        cfg["transformers_version"] = "4.45.2"
    cfg.update(rope_config(arch))
    if t == "llama":
        cfg.update(attention_bias=arch["attn_bias"], mlp_bias=arch["mlp_bias"], pretraining_tp=1)
    if arch["head_dim_key"]:
        cfg["head_dim"] = arch["head_dim"]
    if t == "mistral":
        cfg["sliding_window"] = arch["window"]
    if t == "qwen2":  # Qwen2.5-style: a sliding_window value that is NOT used (use_sliding_window false)
        cfg.update(use_sliding_window=False, sliding_window=arch["qwen_sliding_window"],
                   max_window_layers=arch["layers"])
    return cfg


def write_checkpoint(out_dir, arch, weights, storage, sharded=False, bits=None):
    """weights: float32 HF dict (BF16-representable for BF16 / BF16-as-F32); bits: uint16 dict."""
    os.makedirs(out_dir, exist_ok=True)
    cfg = make_config(arch, {"BF16": "bfloat16", "F16": "float16"}.get(storage, "float32"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    names = hf_names(arch)
    tensors = [(n, bits[n] if storage == "BF16" else weights[n].astype(np.float16 if storage == "F16" else np.float32))
               for n in names]
    if not sharded:
        nx.write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
        return
    # shard 1: embed + layer 0 (+ its inv_freq buffer), shard 2: the rest. The old
    # `rotary_emb.inv_freq` buffers sit between real tensors: a loader must skip them by name.
    Dh = arch["head_dim"]
    inv = (1.0 / (arch["theta"] ** (np.arange(0, Dh, 2, dtype=np.float32) / np.float32(Dh)))).astype(np.float32)
    split = names.index("model.layers.1.self_attn.q_proj.weight")
    shards = [tensors[:split], tensors[split:]]
    for i, sh in enumerate(shards):
        shards[i] = sh[:2] + [(f"model.layers.{i}.self_attn.rotary_emb.inv_freq", inv)] + sh[2:]
    fnames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map, total = {}, 0
    for fn, sh in zip(fnames, shards):
        nx.write_safetensors(os.path.join(out_dir, fn), sh)
        for n, a in sh:
            weight_map[n] = fn
            total += a.nbytes
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")


class LazyF32(dict):
    """name → float32 numpy array, widened from a memory-mapped tensor when it is read (so a
    multi-GB BF16 checkpoint is never held twice: bench/scan_ref.py)."""

    def __getitem__(self, k):
        v = dict.__getitem__(self, k)
        return (v.astype(np.uint32) << 16).view(np.float32) if v.dtype == np.uint16 else v.astype(np.float32)


def load_checkpoint_mmap(ckpt_dir):
    """Single-file checkpoint via np.memmap (benchmarks): a LazyF32 of the tensors, buffers skipped."""
    path = os.path.join(ckpt_dir, "model.safetensors")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = LazyF32()
    for name, info in header.items():
        if name == "__metadata__" or name.endswith("rotary_emb.inv_freq"):
            continue
        b, e = info["data_offsets"]
        dict.__setitem__(out, name, mm[8 + n + b:8 + n + e].view(nx.ST_NUMPY[info["dtype"]]).reshape(info["shape"]))
    return out


def load_checkpoint(ckpt_dir):
    """Read back with our reader; BF16 widened exactly (bits << 16); buffers skipped. → float32 dict."""
    idx = os.path.join(ckpt_dir, "model.safetensors.index.json")
    raw = {}
    if os.path.exists(idx):
        with open(idx) as f:
            for fn in sorted(set(json.load(f)["weight_map"].values())):
                raw.update(nx.read_safetensors(os.path.join(ckpt_dir, fn)))
    else:
        raw = nx.read_safetensors(os.path.join(ckpt_dir, "model.safetensors"))
    out = {}
    for k, v in raw.items():
        if k.endswith("rotary_emb.inv_freq"):
            continue
        out[k] = (v.astype(np.uint32) << 16).view(np.float32) if v.dtype == np.uint16 else v.astype(np.float32)
    return out


def arch_from_hf_config(cfg):
    """arch from any llama / mistral / qwen2 config.json (all three RoPE spellings); what this
    reference does not implement is an error naming the field. Used by bench/scan_ref.py, and on
    every written fixture (must give back the fixture's own arch)."""
    t = cfg.get("model_type")
    if t not in ("llama", "mistral", "qwen2"):
        fail(f"config.json: model_type {t!r} is not llama / mistral / qwen2")
    if cfg.get("hidden_act", "silu") != "silu":
        fail(f"config.json: hidden_act {cfg['hidden_act']!r} (only silu)")
    H, d = cfg["num_attention_heads"], cfg["hidden_size"]
    if "rope_parameters" in cfg:
        rope = dict(cfg["rope_parameters"])
        theta = rope.pop("rope_theta", 10000.0)
    else:
        theta = cfg.get("rope_theta", 10000.0)
        rope = dict(cfg.get("rope_scaling") or {})
    kind = rope.pop("rope_type", None)
    kind2 = rope.pop("type", None)
    kind = kind or kind2 or "default"
    if kind not in ("default", "linear", "dynamic", "llama3"):
        fail(f"config.json: rope_scaling / rope_parameters rope_type {kind!r} is not implemented")
    window = None
    if t == "mistral":
        window = cfg.get("sliding_window")
    elif t == "qwen2" and cfg.get("use_sliding_window"):
        fail("config.json: qwen2 use_sliding_window true (per-layer windows) is not implemented")
    return A(type=t, vocab=cfg["vocab_size"], d=d, heads=H, kv=cfg.get("num_key_value_heads") or H,
             head_dim=cfg.get("head_dim") or d // H, layers=cfg["num_hidden_layers"],
             mlp=cfg["intermediate_size"], n_ctx=cfg["max_position_embeddings"],
             eps=cfg.get("rms_norm_eps", 1e-6), theta=theta,
             rope=None if kind == "default" else dict(rope, rope_type=kind),
             tied=cfg.get("tie_word_embeddings", False), attn_bias=cfg.get("attention_bias", False),
             mlp_bias=cfg.get("mlp_bias", False), qkv_bias=t == "qwen2", window=window,
             bos=cfg.get("bos_token_id"), eos=cfg.get("eos_token_id"))


SEMANTIC_KEYS = ("type", "vocab", "d", "heads", "kv", "head_dim", "layers", "mlp", "n_ctx", "eps",
                 "tied", "attn_bias", "mlp_bias", "qkv_bias", "window", "bos", "eos")


def same_model(a, b):
    """Two archs describe the same model (RoPE compared as HF's inv_freq at T = 1 and T = 300)."""
    same = all(a[k] == b[k] for k in SEMANTIC_KEYS)
    for T in (1, 300):
        same = same and torch.equal(inv_freq(a, T, torch.float64), inv_freq(b, T, torch.float64))
    return same


# --------------------------------------------------------------------------------------
# RoPE (llama.md §4): HF's inv_freq and cos/sin tables, used by both forwards
# --------------------------------------------------------------------------------------
def inv_freq(arch, T, dt):
    """HF rope_init_fn for the fixture's kind; dynamic uses seq_len = T (this forward's length)."""
    Dh = arch["head_dim"]
    base = arch["theta"] if arch["theta"] is not None else 10000.0
    rope = arch["rope"] or {"rope_type": "default"}
    kind = rope["rope_type"]
    if kind == "dynamic":
        f, mp = rope["factor"], arch["n_ctx"]
        seq = T if T > mp else mp
        base = base * ((f * seq / mp) - (f - 1)) ** (Dh / (Dh - 2))
    inv = 1.0 / (base ** (torch.arange(0, Dh, 2, dtype=torch.int64).to(dt) / Dh))
    if kind == "linear":
        inv = inv / rope["factor"]
    elif kind == "llama3":
        f, lo, hi = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        N = rope["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > N / lo, inv / f, inv)
        s = (N / wavelen - lo) / (hi - lo)
        smoothed = (1 - s) * scaled / f + s * scaled
        medium = ~(wavelen < N / hi) & ~(wavelen > N / lo)
        inv = torch.where(medium, smoothed, scaled)
    elif kind not in ("default", "dynamic"):
        fail(f"unknown rope kind {kind}")
    return inv


def llama3_bands(arch):
    """(#unchanged, #smoothed, #divided) frequencies of a llama3 fixture (all must occur)."""
    rope = arch["rope"]
    inv = inv_freq(dict(arch, rope=None), 1, torch.float64)
    wl = 2 * math.pi / inv
    N, lo, hi = rope["original_max_position_embeddings"], rope["low_freq_factor"], rope["high_freq_factor"]
    return int((wl < N / hi).sum()), int(((wl >= N / hi) & (wl <= N / lo)).sum()), int((wl > N / lo).sum())


def rope_tables(arch, T, dt):
    """cos, sin [T, Dh]: freqs = p · inv_freq (float), emb = cat(freqs, freqs)."""
    freqs = torch.arange(T, dtype=torch.int64).to(dt)[:, None] * inv_freq(arch, T, dt)[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def attn_mask(arch, T):
    """[T, T] bool: key j visible from query i (causal; Mistral: also i − W < j)."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    m = j <= i
    if arch["window"] is not None:
        m = m & (j > i - arch["window"])
    return m


# --------------------------------------------------------------------------------------
# HF forward (llama.md §3)
# --------------------------------------------------------------------------------------
def hf_forward(w, arch, tokens, dt):
    W = {k: torch.from_numpy(v).to(dt) for k, v in w.items()}
    B, T = tokens.shape
    d, H, KV, Dh = arch["d"], arch["heads"], arch["kv"], arch["head_dim"]
    n_rep = H // KV
    cos, sin = rope_tables(arch, T, dt)
    mask = attn_mask(arch, T)

    def rmsnorm(x, wt):  # LlamaRMSNorm: float32 (here: dt) variance, x * rsqrt, then weight
        var = x.pow(2).mean(-1, keepdim=True)
        return wt * (x * torch.rsqrt(var + arch["eps"]))

    def linear(x, name):
        y = x @ W[name + ".weight"].T
        return y + W[name + ".bias"] if name + ".bias" in W else y

    def rotate_half(x):
        return torch.cat([-x[..., Dh // 2:], x[..., :Dh // 2]], dim=-1)

    def repeat_kv(x):  # HF repeat_kv: [B, KV, T, Dh] → [B, KV·n_rep, T, Dh] via expand + reshape
        return x[:, :, None].expand(B, KV, n_rep, T, Dh).reshape(B, KV * n_rep, T, Dh)

    h = W["model.embed_tokens.weight"][tokens]
    for L in range(arch["layers"]):
        p = f"model.layers.{L}."
        x = rmsnorm(h, W[p + "input_layernorm.weight"])
        q = linear(x, p + "self_attn.q_proj").view(B, T, H, Dh).transpose(1, 2)
        k = linear(x, p + "self_attn.k_proj").view(B, T, KV, Dh).transpose(1, 2)
        v = linear(x, p + "self_attn.v_proj").view(B, T, KV, Dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k), repeat_kv(v)
        scores = (q @ k.transpose(2, 3)) * (Dh ** -0.5)
        scores = torch.where(mask, scores, torch.tensor(torch.finfo(dt).min, dtype=dt))
        pat = torch.softmax(scores, dim=-1)
        ctx = (pat @ v).transpose(1, 2).reshape(B, T, H * Dh)
        h = h + linear(ctx, p + "self_attn.o_proj")
        x = rmsnorm(h, W[p + "post_attention_layernorm.weight"])
        h = h + linear(F.silu(linear(x, p + "mlp.gate_proj")) * linear(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    h = rmsnorm(h, W["model.norm.weight"])
    return h @ W["lm_head.weight" if not arch["tied"] else "model.embed_tokens.weight"].T


# --------------------------------------------------------------------------------------
# TL 2.x conversion (llama.md §2) and processing (§5)
# --------------------------------------------------------------------------------------
def tl_convert(w, arch, dt):
    d, H, KV, Dh, V, F_ = arch["d"], arch["heads"], arch["kv"], arch["head_dim"], arch["vocab"], arch["mlp"]
    T = lambda a: torch.from_numpy(a).to(dt)  # noqa: E731
    Z = lambda *s: torch.zeros(*s, dtype=dt)  # noqa: E731
    sd = {"embed.W_E": T(w["model.embed_tokens.weight"]),
          "unembed.W_U": T(w["model.embed_tokens.weight" if arch["tied"] else "lm_head.weight"]).T.contiguous(),
          "unembed.b_U": Z(V), "ln_final.w": T(w["model.norm.weight"])}
    for L in range(arch["layers"]):
        p, b = f"model.layers.{L}.", f"blocks.{L}."
        sd[b + "ln1.w"] = T(w[p + "input_layernorm.weight"])
        sd[b + "ln2.w"] = T(w[p + "post_attention_layernorm.weight"])
        for X, x, n in (("W_Q", "q", H), ("_W_K", "k", KV), ("_W_V", "v", KV)):
            sd[b + "attn." + X] = T(w[p + f"self_attn.{x}_proj.weight"]).view(n, Dh, d).permute(0, 2, 1).contiguous()
            bn = p + f"self_attn.{x}_proj.bias"
            sd[b + "attn." + X.replace("W", "b")] = T(w[bn]).view(n, Dh) if bn in w else Z(n, Dh)
        sd[b + "attn.W_O"] = T(w[p + "self_attn.o_proj.weight"]).view(d, H, Dh).permute(1, 2, 0).contiguous()
        sd[b + "attn.b_O"] = T(w[p + "self_attn.o_proj.bias"]) if arch["attn_bias"] else Z(d)
        sd[b + "mlp.W_gate"] = T(w[p + "mlp.gate_proj.weight"]).T.contiguous()
        sd[b + "mlp.W_in"] = T(w[p + "mlp.up_proj.weight"]).T.contiguous()
        sd[b + "mlp.W_out"] = T(w[p + "mlp.down_proj.weight"]).T.contiguous()
        mb = arch["mlp_bias"]
        sd[b + "mlp.b_gate"] = T(w[p + "mlp.gate_proj.bias"]) if mb else Z(F_)
        sd[b + "mlp.b_up"] = T(w[p + "mlp.up_proj.bias"]) if mb else Z(F_)
        sd[b + "mlp.b_in"] = Z(F_)  # TL GatedMLP's b_in: added after the product, always 0 here
        sd[b + "mlp.b_out"] = T(w[p + "mlp.down_proj.bias"]) if mb else Z(d)
    return sd


def tl_process(sd, arch, fold_ln=True, center_unembed=True, fold_value_biases=True, inplace=False):
    """TL 2.x load_and_process_state_dict for RMS models: fold_ln (weights only, no centring),
    center_writing_weights skipped, center_unembed, fold_value_biases (through the groups).
    inplace: update sd itself (benchmarks: the unprocessed tensors are freed as they are replaced)."""
    sd = sd if inplace else dict(sd)
    if fold_ln:
        for L in range(arch["layers"]):
            b = f"blocks.{L}."
            for X in ("W_Q", "_W_K", "_W_V"):
                sd[b + "attn." + X] = sd[b + "attn." + X] * sd[b + "ln1.w"][None, :, None]
            for X in ("W_gate", "W_in"):
                sd[b + "mlp." + X] = sd[b + "mlp." + X] * sd[b + "ln2.w"][:, None]
            del sd[b + "ln1.w"], sd[b + "ln2.w"]
        sd["unembed.W_U"] = sd["unembed.W_U"] * sd["ln_final.w"][:, None]
        del sd["ln_final.w"]
    if center_unembed:
        sd["unembed.W_U"] = sd["unembed.W_U"] - sd["unembed.W_U"].mean(-1, keepdim=True)
        sd["unembed.b_U"] = sd["unembed.b_U"] - sd["unembed.b_U"].mean()
    if fold_value_biases:
        for L in range(arch["layers"]):
            b = f"blocks.{L}."
            bV = sd[b + "attn._b_V"].repeat_interleave(group(arch), dim=0)   # [H, Dh]
            sd[b + "attn.b_O"] = sd[b + "attn.b_O"] + (bV[:, :, None] * sd[b + "attn.W_O"]).sum([0, 1])
            sd[b + "attn._b_V"] = torch.zeros_like(sd[b + "attn._b_V"])
    return sd


def tl_weight_names(arch):
    names = ["embed.W_E", "unembed.W_U", "unembed.b_U"]
    for L in range(arch["layers"]):
        names += [f"blocks.{L}.attn.{n}" for n in ("W_Q", "b_Q", "_W_K", "_b_K", "_W_V", "_b_V", "W_O", "b_O")]
        names += [f"blocks.{L}.mlp.{n}" for n in ("W_gate", "W_in", "W_out", "b_out")]
        if arch["mlp_bias"]:
            names += [f"blocks.{L}.mlp.b_gate", f"blocks.{L}.mlp.b_up"]
    return names


def W_V_full(sd, arch, L):
    """TL's W_V property: the grouped _W_V repeated per query head [H, d, Dh] (head h → group h // G)."""
    return sd[f"blocks.{L}.attn._W_V"].repeat_interleave(group(arch), dim=0)


# --------------------------------------------------------------------------------------
# TL 2.x hooked forward (llama.md §6)
# --------------------------------------------------------------------------------------
class HookStore(dict):
    """The hooks a forward records; with names, only those (TL run_with_cache's names_filter)."""

    def __init__(self, names=None):
        super().__init__()
        self.names = None if names is None else set(names)

    def __setitem__(self, k, v):
        if self.names is None or k in self.names:
            dict.__setitem__(self, k, v)


def tl_forward(sd, arch, tokens, dt, processed=None, names=None):
    """(logits, hooks) with TL 2.x names and grouped shapes. Norms are RMSNormPre when sd has no
    norm weights (fold_ln), else TL RMSNorm (hook_normalized = x / scale, weight applied after
    the hook). `processed` is informational only; names: record only these hooks."""
    hooks = HookStore(names)
    H, Dh, G = arch["heads"], arch["head_dim"], group(arch)
    B, T = tokens.shape
    cos, sin = rope_tables(arch, T, dt)
    cos, sin = cos[:, None, :], sin[:, None, :]  # [T, 1, Dh] over [B, T, heads, Dh]
    mask = attn_mask(arch, T)
    IGNORE = torch.tensor(-math.inf, dtype=dt)  # TL 2.x AbstractAttention.IGNORE

    def norm(x, prefix):
        scale = (x.pow(2).mean(-1, keepdim=True) + arch["eps"]).sqrt()
        hooks[prefix + ".hook_scale"] = scale
        x = x / scale
        hooks[prefix + ".hook_normalized"] = x
        return x * sd[prefix + ".w"] if prefix + ".w" in sd else x

    def rotate(x):  # TL apply_rotary, GPT-NeoX (half-split) layout over the whole head
        flip = torch.cat([-x[..., Dh // 2:], x[..., :Dh // 2]], dim=-1)
        return x * cos + flip * sin

    resid = sd["embed.W_E"][tokens]
    hooks["hook_embed"] = resid
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        hooks[b + "hook_resid_pre"] = resid
        x = norm(resid, b + "ln1")
        q = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_Q"]) + sd[b + "attn.b_Q"]
        k = torch.einsum("bpm,gmd->bpgd", x, sd[b + "attn._W_K"]) + sd[b + "attn._b_K"]
        v = torch.einsum("bpm,gmd->bpgd", x, sd[b + "attn._W_V"]) + sd[b + "attn._b_V"]
        hooks[b + "attn.hook_q"], hooks[b + "attn.hook_k"], hooks[b + "attn.hook_v"] = q, k, v
        rq, rk = rotate(q), rotate(k)
        hooks[b + "attn.hook_rot_q"], hooks[b + "attn.hook_rot_k"] = rq, rk
        kr, vr = rk.repeat_interleave(G, dim=2), v.repeat_interleave(G, dim=2)  # TL GQA
        scores = torch.einsum("bqhd,bkhd->bhqk", rq, kr) / math.sqrt(Dh)
        scores = torch.where(mask, scores, IGNORE)
        hooks[b + "attn.hook_attn_scores"] = scores
        pat = torch.softmax(scores, dim=-1)
        hooks[b + "attn.hook_pattern"] = pat
        z = torch.einsum("bkhd,bhqk->bqhd", vr, pat)
        hooks[b + "attn.hook_z"] = z
        attn_out = torch.einsum("bqhd,hdm->bqm", z, sd[b + "attn.W_O"]) + sd[b + "attn.b_O"]
        hooks[b + "hook_attn_out"] = attn_out
        resid = resid + attn_out
        hooks[b + "hook_resid_mid"] = resid
        x2 = norm(resid, b + "ln2")
        pre = x2 @ sd[b + "mlp.W_gate"] + sd[b + "mlp.b_gate"]
        pre_lin = x2 @ sd[b + "mlp.W_in"] + sd[b + "mlp.b_up"]
        hooks[b + "mlp.hook_pre"], hooks[b + "mlp.hook_pre_linear"] = pre, pre_lin
        post = F.silu(pre) * pre_lin + sd[b + "mlp.b_in"]
        hooks[b + "mlp.hook_post"] = post
        mlp_out = post @ sd[b + "mlp.W_out"] + sd[b + "mlp.b_out"]
        hooks[b + "hook_mlp_out"] = mlp_out
        resid = resid + mlp_out
        hooks[b + "hook_resid_post"] = resid
    x = norm(resid, "ln_final")
    return x @ sd["unembed.W_U"] + sd["unembed.b_U"], hooks


def hook_order(arch):
    names = ["hook_embed"]
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        names += [b + "hook_resid_pre", b + "ln1.hook_scale", b + "ln1.hook_normalized"]
        names += [b + "attn.hook_" + n for n in ("q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z")]
        names += [b + "hook_attn_out", b + "hook_resid_mid", b + "ln2.hook_scale", b + "ln2.hook_normalized",
                  b + "mlp.hook_pre", b + "mlp.hook_pre_linear", b + "mlp.hook_post", b + "hook_mlp_out",
                  b + "hook_resid_post"]
    return names + ["ln_final.hook_scale", "ln_final.hook_normalized"]


# --------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------
def make_tokens(arch, T, seed, max_id, bos):
    """[3, T] int64; column 0 = bos (None: a regular id — Qwen2 has no BOS), other ids in
    3..max_id-1 (never BOS/EOS of the small fixtures). row 0: a (T-1)//2-token sequence repeated,
    row 1: ids from a 6-id pool, row 2: ids near max_id-1 incl. max_id-1 with a repeated trigram."""
    rng = np.random.default_rng(seed)
    toks = np.zeros((3, T), dtype=np.int64)
    half = (T - 1) // 2
    seq = rng.integers(3, max_id, half)
    toks[0, 1:] = np.concatenate([seq, seq, rng.integers(3, max_id, T - 1 - 2 * half)])
    pool = rng.integers(3, max_id, 6)
    toks[1, 1:] = pool[rng.integers(0, 6, T - 1)]
    hi = rng.integers(max_id - 12, max_id, T - 1)
    hi[0] = max_id - 1
    hi[T // 2:T // 2 + 3] = hi[1:4]
    toks[2, 1:] = hi
    toks[:, 0] = rng.integers(3, max_id, 3) if bos is None else bos
    return toks


def uses_bos(arch):
    return arch["type"] != "qwen2"  # TL default_prepend_bos = False for Qwen2 (llama.md §7)


# --------------------------------------------------------------------------------------
# Goldens
# --------------------------------------------------------------------------------------
def run_models(w, arch, tokens):
    return nx.run_models_of(sys.modules[__name__], w, arch, tokens)


def cross_checks(res, arch, name):
    """neox_ref's checks (processed − HF constant per position, log_softmax equal, unprocessed TL
    == HF, processed logits centered), then: _b_V folded to 0, the grouped TL attention equals an
    ungrouped one built from TL's repeated W_K/W_V properties, RoPE is a rotation."""
    checks = nx.cross_checks(res, name)
    for dt, tol in ((torch.float32, 1e-4), (torch.float64, 1e-10)):
        psd = res[dt]["psd"]
        for L in range(arch["layers"]):
            check(float(psd[f"blocks.{L}.attn._b_V"].abs().max()) == 0.0, f"{name} {dt}: b_V not folded")
        # the ungrouped model (every head owns a copy of its group's K/V) gives the same logits
        ug = dict(psd)
        ug_arch = dict(arch, kv=arch["heads"])
        for L in range(arch["layers"]):
            for X in ("_W_K", "_W_V", "_b_K", "_b_V"):
                ug[f"blocks.{L}.attn.{X}"] = psd[f"blocks.{L}.attn.{X}"].repeat_interleave(group(arch), dim=0)
        tk = torch.from_numpy(res["tokens"])
        lg_ug, _ = tl_forward(ug, ug_arch, tk, dt)
        dd = float((lg_ug - res[dt]["logits"]).abs().max())
        check(dd <= tol, f"{name} {dt}: grouped vs ungrouped attention differ by {dd:g}")
    cos, sin = rope_tables(arch, 20, torch.float64)
    check(float((cos ** 2 + sin ** 2 - 1).abs().max()) <= 1e-12, f"{name}: rope tables are not rotations")
    hk = res[torch.float32]["hooks"]
    check(bool(torch.isinf(hk["blocks.0.attn.hook_attn_scores"]).any()), f"{name}: no masked scores")
    if arch["window"] is not None:  # the window must actually hide keys that causality shows
        pat = hk["blocks.0.attn.hook_pattern"]
        T = pat.shape[-1]
        check(T > arch["window"] and float(pat[..., T - 1, 0].abs().max()) == 0.0, f"{name}: window not applied")
    return checks


VARIANTS = {"no_fold_ln": dict(fold_ln=False), "no_center_unembed": dict(center_unembed=False),
            "no_fold_value_biases": dict(fold_value_biases=False)}


def write_variants(gdir, arch, tokens, res, errors):
    tk = torch.from_numpy(tokens)
    last = arch["layers"] - 1
    errors["variants"] = {}
    for vname, flags in VARIANTS.items():
        out = {}
        for dt in (torch.float32, torch.float64):
            sd = tl_process(res[dt]["sd"], arch, **flags)
            lg, hk = tl_forward(sd, arch, tk, dt)
            lsd = float((torch.log_softmax(lg, -1) - torch.log_softmax(res[dt]["hf"], -1)).abs().max())
            check(lsd <= (1e-4 if dt == torch.float32 else 1e-10), f"variant {vname} {dt}: log_softmax differs ({lsd:g})")
            arrs = {"logits_last": lg[:, -1], "loss": nx.tl_loss(lg, tk), "weights/b_U": sd["unembed.b_U"]}
            for L in range(arch["layers"]):
                arrs[f"weights/blocks.{L}.attn.b_O"] = sd[f"blocks.{L}.attn.b_O"]
            for n in (f"blocks.{last}.attn.hook_v", f"blocks.{last}.hook_attn_out",
                      f"blocks.{last}.hook_resid_post", "ln_final.hook_normalized"):
                arrs["hooks/" + n] = hk[n]
            out[dt] = arrs
        errors["variants"][vname] = {}
        for k, a32 in out[torch.float32].items():
            nx.save_npy(os.path.join(gdir, "variants", vname, k + ".npy"), a32)
            errors["variants"][vname][k] = nx.err_stats(a32, out[torch.float64][k])


def hook_err(a32, a64):
    """errors over the finite entries (masked attention scores are -inf in both)."""
    keep = torch.isfinite(a64)
    check(torch.equal(keep, torch.isfinite(a32)), "float32 / float64 masks differ")
    return nx.err_stats(a32[keep], a64[keep])


def write_goldens(gdir, arch, w, tokens, kind):
    res = run_models(w, arch, tokens)
    res["tokens"] = tokens
    name = os.path.basename(gdir)
    checks = cross_checks(res, arch, name)
    r32, r64 = res[torch.float32], res[torch.float64]
    full, big, lite = kind in ("full", "lite"), kind == "vocab", kind == "lite"
    errors = {"note": "float32 golden vs the same computation in float64: max_abs_err, max_abs_ref, "
                      "max_rel_err (over elements with |ref| >= 1e-3*max|ref|); hook_attn_scores: "
                      "finite (unmasked) entries only; masked entries are -inf (TL 2.x)",
              "cross_checks": checks, "peakiness": nx.peakiness(r32["hooks"], arch),
              "weights": {}, "hooks": {}, "no_processing_hooks": {}, "outputs": {}}
    if arch["rope"] and arch["rope"]["rope_type"] == "llama3":
        errors["llama3_bands_unchanged_smoothed_divided"] = list(llama3_bands(arch))
    nx.save_npy(os.path.join(gdir, "tokens.npy"), tokens)
    # the RoPE frequencies this forward used (float64; dynamic: at T = tokens.shape[1]) — for debugging
    nx.save_npy(os.path.join(gdir, "rope_inv_freq.npy"), inv_freq(arch, tokens.shape[1], torch.float64))
    for n in tl_weight_names(arch):
        errors["weights"][nx.short_weight_name(n)] = nx.err_stats(r32["psd"][n], r64["psd"][n])
        if full or (big and n not in ("embed.W_E", "unembed.W_U", "unembed.b_U")):
            nx.save_npy(os.path.join(gdir, "weights", nx.short_weight_name(n) + ".npy"), r32["psd"][n])
    for n in hook_order(arch):
        errors["hooks"][n] = hook_err(r32["hooks"][n], r64["hooks"][n])
        errors["no_processing_hooks"][n] = hook_err(r32["np_hooks"][n], r64["np_hooks"][n])
        if full or big:
            nx.save_npy(os.path.join(gdir, "hooks", n + ".npy"), r32["hooks"][n])
        if (full and not lite) or big:
            nx.save_npy(os.path.join(gdir, "no_processing", "hooks", n + ".npy"), r32["np_hooks"][n])
    nx.save_npy(os.path.join(gdir, "loss.npy"), r32["loss"])
    errors["outputs"]["loss"] = nx.err_stats(r32["loss"], r64["loss"])
    errors["outputs"]["logits"] = nx.err_stats(r32["logits"], r64["logits"])
    errors["outputs"]["hf_logits"] = nx.err_stats(r32["hf"], r64["hf"])
    errors["outputs"]["no_processing/logits"] = nx.err_stats(r32["np_logits"], r64["np_logits"])
    lse32 = torch.logsumexp(r32["logits"], -1)
    errors["outputs"]["logsumexp"] = nx.err_stats(lse32, torch.logsumexp(r64["logits"], -1))
    if full and not lite:
        write_variants(gdir, arch, tokens, res, errors)
    if not big:
        nx.save_npy(os.path.join(gdir, "hf_logits.npy"), r32["hf"])
        nx.save_npy(os.path.join(gdir, "logits.npy"), r32["logits"])
        if full:
            nx.save_npy(os.path.join(gdir, "no_processing", "logits.npy"), r32["np_logits"])
    else:
        top = torch.topk(r32["logits"], 11, dim=-1)
        nx.save_npy(os.path.join(gdir, "top10.npy"), top.indices[..., :10].to(torch.int64))
        nx.save_npy(os.path.join(gdir, "top10_logits.npy"), top.values[..., :10])
        nx.save_npy(os.path.join(gdir, "logsumexp.npy"), lse32)
        top64 = torch.topk(r64["logits"], 10, dim=-1).indices
        check(bool((top64 == top.indices[..., :10]).all()), f"{name}: top-10 ids differ between float32 and float64")
        errors["outputs"]["top10_min_gap"] = float((top.values[..., :-1] - top.values[..., 1:]).min())
    return errors


def strict_json(obj):
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def fixture_weights(name):
    """(arch, storage, kind, float32 values, uint16 BF16 bits or None)."""
    arch, storage, kind, seed = FIXTURES[name]
    w = make_weights(arch, seed)
    bf16_edge_values(w, arch)
    bits = None
    if storage.startswith("BF16"):
        w, bits = bf16_round(w)
    elif storage == "F16":
        w = {k: v.astype(np.float16).astype(np.float32) for k, v in w.items()}
    return arch, storage, kind, w, bits


def build_fixture(name, out, golden, shared=None, modules=None):
    arch, storage, kind, w, bits = fixture_weights(name)
    cdir = os.path.join(out, name)
    if os.path.isdir(cdir):
        shutil.rmtree(cdir)
    write_checkpoint(cdir, arch, w, storage if storage in ("BF16", "F16") else "F32", kind == "sharded", bits)
    with open(os.path.join(cdir, "config.json")) as f:
        check(same_model(arch_from_hf_config(json.load(f)), arch), f"{name}: config.json does not read back as the fixture's model")
    back = load_checkpoint(cdir)
    check(sorted(back) == sorted(w) and all(np.array_equal(back[k].view(np.uint32), w[k].view(np.uint32)) for k in w),
          f"{name}: safetensors read-back differs")
    if golden is None or kind in GOLDEN_OF or name in GOLDEN_OF:
        return
    gdir = os.path.join(golden, name)
    os.makedirs(gdir, exist_ok=True)
    for entry in os.listdir(gdir):  # start clean, but keep metrics_ref.py's scan/ goldens
        if entry != "scan":
            path = os.path.join(gdir, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    bos = arch["bos"] if uses_bos(arch) else None
    if kind == "vocab":
        tokens = make_tokens(arch, 24, 99, arch["vocab"], bos)
    else:
        tokens = make_tokens(arch, 20, 77, arch["vocab"] - (1 if arch["bos"] == arch["vocab"] - 1 else 0), bos)
    errors = write_goldens(gdir, arch, w, tokens, kind)
    with open(os.path.join(gdir, "errors.json"), "w") as f:
        f.write(nx.fmt_json(strict_json(errors)))
    if kind == "vocab":
        # TL test_prompt with the Llama-3 tokenizer: its post-processor adds <|begin_of_text|>,
        # so to_tokens(prompt + answer) = [128000] + encode(prompt + answer) and the answer's
        # to_str_tokens(prepend_bos=False) = encode(answer) (HF tokenizers oracle, node)
        def logits_fn(tk):
            return tl_forward(tl_process(tl_convert(w, arch, torch.float32), arch), arch, tk, torch.float32)[0]
        nx.test_prompt_golden(gdir, arch, w, shared, modules, prompt=TEST_PROMPT, answer=TEST_ANSWER,
                              bos=arch["bos"], tokenizer=LLAMA3_TOKENIZER, logits_fn=logits_fn)
    print(f"{name}: peakiness {errors['peakiness']}; checks {errors['cross_checks']}")


def write_llama32_1b_shape(out_dir, seed):
    """Benchmark-only: Llama-3.2-1B's shapes (16 layers, d 2048, 32 heads / 8 KV, head_dim 64,
    d_mlp 8192, vocab 128256, tied, llama3 RoPE f 32 lo 1 hi 4 N 8192), random BF16 weights,
    ~2.5 GB, not committed. Written tensor by tensor (peak memory ≈ one float32 tensor, 1 GB)."""
    arch = LLAMA32_1B
    d, H, KV, Dh, F_, V = arch["d"], arch["heads"], arch["kv"], arch["head_dim"], arch["mlp"], arch["vocab"]
    shapes = {"model.embed_tokens.weight": (V, d), "model.norm.weight": (d,)}
    std = {"model.embed_tokens.weight": 0.02}
    for L in range(arch["layers"]):
        p = f"model.layers.{L}."
        shapes.update({p + "self_attn.q_proj.weight": (H * Dh, d), p + "self_attn.k_proj.weight": (KV * Dh, d),
                       p + "self_attn.v_proj.weight": (KV * Dh, d), p + "self_attn.o_proj.weight": (d, H * Dh),
                       p + "mlp.gate_proj.weight": (F_, d), p + "mlp.up_proj.weight": (F_, d),
                       p + "mlp.down_proj.weight": (d, F_), p + "input_layernorm.weight": (d,),
                       p + "post_attention_layernorm.weight": (d,)})
        std.update({p + "self_attn.q_proj.weight": 2.2 / math.sqrt(d), p + "self_attn.k_proj.weight": 2.2 / math.sqrt(d),
                    p + "self_attn.v_proj.weight": 1 / math.sqrt(d), p + "self_attn.o_proj.weight": 1 / math.sqrt(H * Dh),
                    p + "mlp.gate_proj.weight": 1.5 / math.sqrt(d), p + "mlp.up_proj.weight": 1.5 / math.sqrt(d),
                    p + "mlp.down_proj.weight": 1 / math.sqrt(F_)})
    names = hf_names(arch)
    check(sorted(names) == sorted(shapes), "1B shape table does not match hf_names")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(make_config(arch, "bfloat16"), f, indent=2, sort_keys=True)
        f.write("\n")
    # safetensors as neox_ref.write_safetensors lays it out (sorted header, 8-byte padding, data
    # in model order), header first from the shapes, then each tensor as it is drawn
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for n in names:
        nb = 2 * int(np.prod(shapes[n]))
        header[n] = {"dtype": "BF16", "shape": list(shapes[n]), "data_offsets": [off, off + nb]}
        off += nb
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    rng = np.random.default_rng(seed)
    with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for n in names:
            if n in std:
                x = rng.standard_normal(shapes[n], dtype=np.float32) * np.float32(std[n])
            else:  # norm weights in [0.5, 1.5]
                x = rng.uniform(0.5, 1.5, shapes[n]).astype(np.float32)
            f.write(torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().tobytes())
            del x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write checkpoints to OUT/<fixture>/ (e.g. tests/fixtures)")
    ap.add_argument("--golden", help="write goldens to GOLDEN/<fixture>/ (e.g. tests/golden)")
    ap.add_argument("--only", action="append", choices=sorted(FIXTURES),
                    help="build only this fixture (repeatable; default: all)")
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"),
                    help="the shared/ folder (tokenizer json + hf-tokenize.mjs), default ../shared beside the repo")
    ap.add_argument("--oracle-modules", default=os.environ.get("ORACLE_NODE_MODULES"),
                    help="node_modules holding @anush008/tokenizers@0.6.0 (llama-vocab-bf16's test_prompt golden)")
    ap.add_argument("--llama32-1b-shape", metavar="OUT_DIR",
                    help="only write a random BF16 checkpoint with Llama-3.2-1B's shapes to OUT_DIR (benchmarks)")
    ap.add_argument("--seed", type=int, default=32, help="seed for --llama32-1b-shape (default 32)")
    a = ap.parse_args()
    if a.llama32_1b_shape:
        write_llama32_1b_shape(a.llama32_1b_shape, a.seed)
        print(f"wrote {a.llama32_1b_shape}")
        return
    if not a.out:
        ap.error("--out is required (and --golden for goldens)")
    for name in (a.only or list(FIXTURES)):
        build_fixture(name, a.out, a.golden, os.path.abspath(a.shared), a.oracle_modules)


if __name__ == "__main__":
    main()
