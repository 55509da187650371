#!/usr/bin/python3
"""neox_ref.py — independent torch reference (oracle) for headscan's GPT-NeoX model code.

Generates small random GPT-NeoX checkpoints in HuggingFace format (config.json +
safetensors written by our own writer) and golden outputs (.npy) of
  * the HF GPT-NeoX forward (spec model.md §2),
  * TransformerLens 1.6.1's conversion + weight processing (model.md §3-4) and its hooked
    forward (model.md §5-6), processed and unprocessed,
  * TL utils.test_prompt's printed output (analysis.md §13) for the vocab-sized fixture.
Everything is re-implemented here from the spec in plain torch (no transformers /
TransformerLens), in float32 (the goldens) and float64 (to measure float32 rounding error,
recorded in errors.json for the C tests' tolerances).

Run with Debian's /usr/bin/python3 (torch 1.13, numpy 1.24). See tests/reference/README.md
and make_fixtures.sh (regenerates every committed file byte-identically).
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # fixed reduction order ⇒ byte-identical goldens on a re-run
HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------------------
# Fixture definitions
# --------------------------------------------------------------------------------------
FIXTURES = {
    # name: (arch, storage dtype, sharded, seed)
    "neox-tiny-f32": (dict(vocab=512, d=64, heads=4, layers=2, mlp=256, n_ctx=64), "F32", False, 1234),
    "neox-tiny-f16": (dict(vocab=512, d=64, heads=4, layers=2, mlp=256, n_ctx=64), "F16", False, 1234),
    "neox-tiny-sharded": (dict(vocab=512, d=64, heads=4, layers=2, mlp=256, n_ctx=64), "F32", True, 1234),
    "neox-vocab-f16": (dict(vocab=50304, d=16, heads=2, layers=2, mlp=64, n_ctx=512), "F16", False, 4321),
}
PYTHIA70M = dict(vocab=50304, d=512, heads=8, layers=6, mlp=2048, n_ctx=2048)
TOKENIZER_VOCAB = 50277  # ids 0..50276 exist in gpt-neox-20b's tokenizer
TEST_PROMPT = "When John and Mary went to the store, John gave the bag to his friend"
TEST_ANSWER = "Mary"
EPS = 1e-5
ROTARY_PCT = 0.25
ROTARY_BASE = 10000


def rotary_dim_of(arch):
    return int(round(ROTARY_PCT * (arch["d"] // arch["heads"])))


# --------------------------------------------------------------------------------------
# safetensors writer / reader (own implementation of the format, data.md §1)
# --------------------------------------------------------------------------------------
ST_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("bool"): "BOOL",
             np.dtype("float64"): "F64", np.dtype("int64"): "I64", np.dtype("uint8"): "U8"}
ST_NUMPY = {v: k for k, v in ST_DTYPES.items()}


def write_safetensors(path, tensors):
    """tensors: list of (name, np.ndarray) in data order. Header keys sorted by name."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for name, arr in tensors:
        arr = np.asarray(arr, order="C")  # (ascontiguousarray would turn a 0-d scalar into [1])
        code = ST_DTYPES[arr.dtype]
        b = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return 8 + len(h) + off


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dt = ST_NUMPY[info["dtype"]].newbyteorder("<")
        arr = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dt).reshape(info["shape"])
        out[name] = arr.astype(dt.newbyteorder("="))
    return out


# --------------------------------------------------------------------------------------
# Random weights (HF names and shapes, model.md §1), deliberately far from "nice" values
# --------------------------------------------------------------------------------------
def hf_names(arch):
    names = ["gpt_neox.embed_in.weight"]
    for L in range(arch["layers"]):
        p = f"gpt_neox.layers.{L}."
        names += [p + "input_layernorm.weight", p + "input_layernorm.bias",
                  p + "post_attention_layernorm.weight", p + "post_attention_layernorm.bias",
                  p + "attention.query_key_value.weight", p + "attention.query_key_value.bias",
                  p + "attention.dense.weight", p + "attention.dense.bias",
                  p + "mlp.dense_h_to_4h.weight", p + "mlp.dense_h_to_4h.bias",
                  p + "mlp.dense_4h_to_h.weight", p + "mlp.dense_4h_to_h.bias"]
    names += ["gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias", "embed_out.weight"]
    return names


def make_weights(arch, seed):
    """float32 HF state dict. numpy PCG64 (stable across numpy versions) drives everything."""
    rng = np.random.default_rng(seed)
    V, d, H, F_, nL = arch["vocab"], arch["d"], arch["heads"], arch["mlp"], arch["layers"]
    Dh = d // H
    w = {}

    def ln_pair(prefix):
        # |w| in [0.5, 2] with ~25% sign flips; biases N(0, 0.5): folding must really matter
        sign = np.where(rng.random(d) < 0.25, -1.0, 1.0)
        w[prefix + ".weight"] = rng.uniform(0.5, 2.0, d) * sign
        w[prefix + ".bias"] = rng.normal(0.0, 0.5, d)

    # Embedding rows with very different norms plus a shared offset (so row-centering matters)
    row_scale = np.exp(rng.normal(0.0, 0.6, V))
    w["gpt_neox.embed_in.weight"] = rng.normal(0.0, 1.0, (V, d)) * row_scale[:, None] \
        + rng.normal(0.0, 0.5, d)[None, :]
    # q/k std chosen so score std ≈ 3-4 ⇒ peaky attention patterns (max entry often > 0.5)
    qk_std = 2.2 / math.sqrt(d)
    for L in range(nL):
        p = f"gpt_neox.layers.{L}."
        ln_pair(p + "input_layernorm")
        ln_pair(p + "post_attention_layernorm")
        qkv = np.empty((H, 3, Dh, d))
        qkv[:, 0] = rng.normal(0.0, qk_std, (H, Dh, d))
        qkv[:, 1] = rng.normal(0.0, qk_std, (H, Dh, d))
        qkv[:, 2] = rng.normal(0.0, 1.0 / math.sqrt(d), (H, Dh, d))
        w[p + "attention.query_key_value.weight"] = qkv.reshape(3 * d, d)  # per-head [q|k|v] rows
        w[p + "attention.query_key_value.bias"] = rng.normal(0.0, 0.5, 3 * d)
        w[p + "attention.dense.weight"] = rng.normal(0.0, 1.0 / math.sqrt(d), (d, d)) \
            + rng.normal(0.0, 0.2, d)[:, None]  # per-output offset: W_O centering matters
        w[p + "attention.dense.bias"] = rng.normal(0.3, 0.4, d)
        w[p + "mlp.dense_h_to_4h.weight"] = rng.normal(0.0, 1.5 / math.sqrt(d), (F_, d))
        w[p + "mlp.dense_h_to_4h.bias"] = rng.normal(0.0, 0.7, F_)
        w[p + "mlp.dense_4h_to_h.weight"] = rng.normal(0.0, 1.0 / math.sqrt(F_), (d, F_)) \
            + rng.normal(0.0, 0.1, d)[:, None]
        w[p + "mlp.dense_4h_to_h.bias"] = rng.normal(-0.2, 0.4, d)
    ln_pair("gpt_neox.final_layer_norm")
    # unembedding: per-d_model offsets so that centering over the vocab matters; scale so
    # logits have std of a few units (softmax neither flat nor one-hot)
    w["embed_out.weight"] = rng.normal(0.0, 2.0 / math.sqrt(d), (V, d)) + rng.normal(0.0, 0.3, d)[None, :]
    return {k: v.astype(np.float32) for k, v in w.items()}


def make_config(arch, torch_dtype):
    return {
        "architectures": ["GPTNeoXForCausalLM"],
        "bos_token_id": 0,
        "eos_token_id": 0,
        "hidden_act": "gelu",
        "hidden_size": arch["d"],
        "initializer_range": 0.02,
        "intermediate_size": arch["mlp"],
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": arch["n_ctx"],
        "model_type": "gpt_neox",
        "num_attention_heads": arch["heads"],
        "num_hidden_layers": arch["layers"],
        "rotary_emb_base": ROTARY_BASE,
        "rotary_pct": ROTARY_PCT,
        "tie_word_embeddings": False,
        "torch_dtype": torch_dtype,
        "use_cache": True,
        "use_parallel_residual": True,
        "vocab_size": arch["vocab"],
    }


def old_buffers(arch):
    """Buffers that old GPT-NeoX checkpoints carry and a loader must ignore (model.md §1)."""
    n, rd = arch["n_ctx"], rotary_dim_of(arch)
    mask = np.tril(np.ones((n, n), dtype=bool))[None, None]
    inv_freq = (1.0 / (ROTARY_BASE ** (np.arange(0, rd, 2, dtype=np.float32) / np.float32(rd)))).astype(np.float32)
    out = {}
    for L in range(arch["layers"]):
        p = f"gpt_neox.layers.{L}.attention."
        out[p + "bias"] = mask
        out[p + "masked_bias"] = np.array(-1e9, dtype=np.float32)
        out[p + "rotary_emb.inv_freq"] = inv_freq
    return out


def write_checkpoint(out_dir, arch, weights, storage, sharded):
    """weights: float32 HF dict (already rounded to f16 values if storage == F16)."""
    os.makedirs(out_dir, exist_ok=True)
    npdt = np.float16 if storage == "F16" else np.float32
    cfg = make_config(arch, "float16" if storage == "F16" else "float32")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    names = hf_names(arch)
    tensors = [(n, weights[n].astype(npdt)) for n in names]
    if not sharded:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
        return
    buf = old_buffers(arch)
    # shard 1: embed_in + layer 0 (with its buffers); shard 2: the rest. Buffers are placed
    # between real tensors so that a loader has to skip them by name.
    split = names.index("gpt_neox.layers.1.input_layernorm.weight")
    shards = [tensors[:split], tensors[split:]]
    for i, sh in enumerate(shards):
        extra = []
        for n in sorted(buf):
            L = int(n.split(".")[2])
            if (L == 0) == (i == 0):
                extra.append((n, buf[n]))
        shards[i] = sh[:2] + extra + sh[2:]
    fnames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map, total = {}, 0
    for fn, sh in zip(fnames, shards):
        write_safetensors(os.path.join(out_dir, fn), sh)
        for n, a in sh:
            weight_map[n] = fn
            total += a.nbytes
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
                  f, indent=2)
        f.write("\n")


def load_checkpoint(ckpt_dir):
    """Read back with our reader (self-check of the writer); returns float32 HF dict."""
    idx = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        raw = {}
        for fn in sorted(set(wm.values())):
            raw.update(read_safetensors(os.path.join(ckpt_dir, fn)))
    else:
        raw = read_safetensors(os.path.join(ckpt_dir, "model.safetensors"))
    return {k: v.astype(np.float32) for k, v in raw.items()
            if not (k.endswith("attention.bias") or k.endswith("masked_bias") or k.endswith("inv_freq"))}


# --------------------------------------------------------------------------------------
# HF GPT-NeoX forward (model.md §2)
# --------------------------------------------------------------------------------------
def hf_forward(w, arch, tokens, dt):
    W = {k: torch.from_numpy(v).to(dt) for k, v in w.items()}
    B, T = tokens.shape
    d, H = arch["d"], arch["heads"]
    Dh, rd = d // H, rotary_dim_of(arch)
    inv_freq = 1.0 / (ROTARY_BASE ** (torch.arange(0, rd, 2, dtype=torch.int64).to(dt) / rd))
    t = torch.arange(T, dtype=torch.int64).to(dt)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()  # [T, rd]

    def rotate_half(x):
        x1, x2 = x[..., :rd // 2], x[..., rd // 2:]
        return torch.cat([-x2, x1], dim=-1)

    def rope(x):  # x [B, H, T, Dh]
        xr, xp = x[..., :rd], x[..., rd:]
        return torch.cat([xr * cos + rotate_half(xr) * sin, xp], dim=-1)

    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    h = W["gpt_neox.embed_in.weight"][tokens]
    for L in range(arch["layers"]):
        p = f"gpt_neox.layers.{L}."
        a_in = F.layer_norm(h, (d,), W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], EPS)
        qkv = a_in @ W[p + "attention.query_key_value.weight"].T + W[p + "attention.query_key_value.bias"]
        qkv = qkv.view(B, T, H, 3 * Dh).permute(0, 2, 1, 3)
        q, k, v = qkv[..., :Dh], qkv[..., Dh:2 * Dh], qkv[..., 2 * Dh:]
        q, k = rope(q), rope(k)
        scores = (q @ k.transpose(-1, -2)) * (Dh ** -0.5)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(dt).min, dtype=dt))
        pat = torch.softmax(scores, dim=-1)
        ctx = (pat @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        attn_out = ctx @ W[p + "attention.dense.weight"].T + W[p + "attention.dense.bias"]
        m_in = F.layer_norm(h, (d,), W[p + "post_attention_layernorm.weight"],
                            W[p + "post_attention_layernorm.bias"], EPS)
        mlp = F.gelu(m_in @ W[p + "mlp.dense_h_to_4h.weight"].T + W[p + "mlp.dense_h_to_4h.bias"])
        mlp = mlp @ W[p + "mlp.dense_4h_to_h.weight"].T + W[p + "mlp.dense_4h_to_h.bias"]
        h = mlp + attn_out + h
    hf = F.layer_norm(h, (d,), W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], EPS)
    return hf @ W["embed_out.weight"].T


# --------------------------------------------------------------------------------------
# TL conversion (model.md §3) and processing (§4)
# --------------------------------------------------------------------------------------
def tl_convert(w, arch, dt):
    d, H, V = arch["d"], arch["heads"], arch["vocab"]
    Dh = d // H
    T = lambda a: torch.from_numpy(a).to(dt)
    sd = {"embed.W_E": T(w["gpt_neox.embed_in.weight"]),
          "unembed.W_U": T(w["embed_out.weight"]).T.contiguous(),
          "unembed.b_U": torch.zeros(V, dtype=dt),
          "ln_final.w": T(w["gpt_neox.final_layer_norm.weight"]),
          "ln_final.b": T(w["gpt_neox.final_layer_norm.bias"])}
    for L in range(arch["layers"]):
        p, b = f"gpt_neox.layers.{L}.", f"blocks.{L}."
        sd[b + "ln1.w"] = T(w[p + "input_layernorm.weight"])
        sd[b + "ln1.b"] = T(w[p + "input_layernorm.bias"])
        sd[b + "ln2.w"] = T(w[p + "post_attention_layernorm.weight"])
        sd[b + "ln2.b"] = T(w[p + "post_attention_layernorm.bias"])
        qkv = T(w[p + "attention.query_key_value.weight"]).view(H, 3, Dh, d)  # [h, qkv, d_head, m]
        qkvb = T(w[p + "attention.query_key_value.bias"]).view(H, 3, Dh)
        for i, X in enumerate("QKV"):
            sd[b + f"attn.W_{X}"] = qkv[:, i].permute(0, 2, 1).contiguous()  # [h, m, d]
            sd[b + f"attn.b_{X}"] = qkvb[:, i].contiguous()
        sd[b + "attn.W_O"] = T(w[p + "attention.dense.weight"]).view(d, H, Dh).permute(1, 2, 0).contiguous()
        sd[b + "attn.b_O"] = T(w[p + "attention.dense.bias"])
        sd[b + "mlp.W_in"] = T(w[p + "mlp.dense_h_to_4h.weight"]).T.contiguous()
        sd[b + "mlp.b_in"] = T(w[p + "mlp.dense_h_to_4h.bias"])
        sd[b + "mlp.W_out"] = T(w[p + "mlp.dense_4h_to_h.weight"]).T.contiguous()
        sd[b + "mlp.b_out"] = T(w[p + "mlp.dense_4h_to_h.bias"])
    return sd


def tl_process(sd, arch, fold_ln=True, center_writing=True, center_unembed=True, fold_value_biases=True):
    """TL 1.6.1 load_and_process_state_dict: the enabled steps, always in this order."""
    sd = dict(sd)
    nL = arch["layers"]
    # 4.1 fold_ln (biases first, with the unscaled weights)
    for L in (range(nL) if fold_ln else []):
        b = f"blocks.{L}."
        for X in "QKV":
            sd[b + f"attn.b_{X}"] = sd[b + f"attn.b_{X}"] + (sd[b + f"attn.W_{X}"] * sd[b + "ln1.b"][None, :, None]).sum(-2)
        for X in "QKV":
            Wx = sd[b + f"attn.W_{X}"] * sd[b + "ln1.w"][None, :, None]
            sd[b + f"attn.W_{X}"] = Wx - Wx.mean(dim=1, keepdim=True)
        sd[b + "mlp.b_in"] = sd[b + "mlp.b_in"] + (sd[b + "mlp.W_in"] * sd[b + "ln2.b"][:, None]).sum(-2)
        Wi = sd[b + "mlp.W_in"] * sd[b + "ln2.w"][:, None]
        sd[b + "mlp.W_in"] = Wi - Wi.mean(dim=0, keepdim=True)
        for k in ("ln1.w", "ln1.b", "ln2.w", "ln2.b"):
            del sd[b + k]
    if fold_ln:
        sd["unembed.b_U"] = sd["unembed.b_U"] + (sd["unembed.W_U"] * sd["ln_final.b"][:, None]).sum(dim=-2)
        Wu = sd["unembed.W_U"] * sd["ln_final.w"][:, None]
        sd["unembed.W_U"] = Wu - Wu.mean(dim=0, keepdim=True)
        del sd["ln_final.w"], sd["ln_final.b"]
    # 4.2 center_writing_weights (rotary: no W_pos)
    if center_writing:
        sd["embed.W_E"] = sd["embed.W_E"] - sd["embed.W_E"].mean(-1, keepdim=True)
    for L in (range(nL) if center_writing else []):
        b = f"blocks.{L}."
        sd[b + "attn.W_O"] = sd[b + "attn.W_O"] - sd[b + "attn.W_O"].mean(-1, keepdim=True)
        sd[b + "attn.b_O"] = sd[b + "attn.b_O"] - sd[b + "attn.b_O"].mean()
        sd[b + "mlp.W_out"] = sd[b + "mlp.W_out"] - sd[b + "mlp.W_out"].mean(-1, keepdim=True)
        sd[b + "mlp.b_out"] = sd[b + "mlp.b_out"] - sd[b + "mlp.b_out"].mean()
    # 4.3 center_unembed
    if center_unembed:
        sd["unembed.W_U"] = sd["unembed.W_U"] - sd["unembed.W_U"].mean(-1, keepdim=True)
        sd["unembed.b_U"] = sd["unembed.b_U"] - sd["unembed.b_U"].mean()
    # 4.4 fold_value_biases
    for L in (range(nL) if fold_value_biases else []):
        b = f"blocks.{L}."
        bV, WO = sd[b + "attn.b_V"], sd[b + "attn.W_O"]
        sd[b + "attn.b_O"] = sd[b + "attn.b_O"] + (bV[:, :, None] * WO).sum([0, 1])
        sd[b + "attn.b_V"] = torch.zeros_like(bV)
    return sd


# TL names of the processed weights, in the order they are dumped
def tl_weight_names(arch):
    names = ["embed.W_E", "unembed.W_U", "unembed.b_U"]
    for L in range(arch["layers"]):
        names += [f"blocks.{L}.attn.{n}" for n in ("W_Q", "W_K", "W_V", "b_Q", "b_K", "b_V", "W_O", "b_O")]
        names += [f"blocks.{L}.mlp.{n}" for n in ("W_in", "b_in", "W_out", "b_out")]
    return names


def short_weight_name(n):
    """File name used under weights/: W_E, W_U, b_U, blocks.L.attn.W_Q, ... (TL attribute style)."""
    return n.split(".", 1)[1] if n.startswith(("embed.", "unembed.")) else n


# --------------------------------------------------------------------------------------
# TL hooked forward (model.md §5-6)
# --------------------------------------------------------------------------------------
def tl_rotary(arch, dt):
    """TL 1.6.1 calculate_sin_cos_rotary: freq = base ** (dim / (rd/2)); angle = pos / freq."""
    rd, n = rotary_dim_of(arch), arch["n_ctx"]
    pos = torch.arange(n, dtype=dt)
    dim = torch.arange(rd // 2, dtype=dt)
    freq = ROTARY_BASE ** (dim / (rd / 2))
    freq = torch.cat([freq, freq])  # "d -> (2 d)": GPT-NeoX rotate-half layout
    angles = pos[:, None] / freq[None, :]
    return torch.sin(angles), torch.cos(angles)


def tl_forward(sd, arch, tokens, dt, processed=None):
    """Returns (logits, hooks dict name -> tensor) with TL 1.6.1 hook names and shapes.
    LN layers are LayerNorm when sd has their weights (fold_ln off), else LayerNormPre;
    `processed` is informational only."""
    hooks = {}
    d, H = arch["d"], arch["heads"]
    Dh, rd = d // H, rotary_dim_of(arch)
    B, T = tokens.shape
    sin, cos = tl_rotary(arch, dt)
    sin, cos = sin[:T, None, :], cos[:T, None, :]  # [T, 1, rd] broadcast over [B, T, H, rd]
    IGNORE = torch.tensor(-1e5, dtype=dt)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def ln(x, prefix):
        x = x - x.mean(-1, keepdim=True)
        scale = (x.pow(2).mean(-1, keepdim=True) + EPS).sqrt()
        hooks[prefix + ".hook_scale"] = scale
        x = x / scale
        if prefix + ".w" in sd:  # LayerNorm (fold_ln off) rather than LayerNormPre
            x = x * sd[prefix + ".w"] + sd[prefix + ".b"]
        hooks[prefix + ".hook_normalized"] = x
        return x

    def rotate(x):  # [B, T, H, Dh]
        xr, xp = x[..., :rd], x[..., rd:]
        flip = torch.cat([-xr[..., rd // 2:], xr[..., :rd // 2]], dim=-1)
        return torch.cat([xr * cos + flip * sin, xp], dim=-1)

    resid = sd["embed.W_E"][tokens]
    hooks["hook_embed"] = resid
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        hooks[b + "hook_resid_pre"] = resid
        x = ln(resid, b + "ln1")
        q = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_Q"]) + sd[b + "attn.b_Q"]
        k = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_K"]) + sd[b + "attn.b_K"]
        v = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_V"]) + sd[b + "attn.b_V"]
        hooks[b + "attn.hook_q"], hooks[b + "attn.hook_k"], hooks[b + "attn.hook_v"] = q, k, v
        rq, rk = rotate(q), rotate(k)
        hooks[b + "attn.hook_rot_q"], hooks[b + "attn.hook_rot_k"] = rq, rk
        scores = torch.einsum("bqhd,bkhd->bhqk", rq, rk) / math.sqrt(Dh)
        scores = torch.where(causal, scores, IGNORE)
        hooks[b + "attn.hook_attn_scores"] = scores
        pat = torch.softmax(scores, dim=-1)
        hooks[b + "attn.hook_pattern"] = pat
        z = torch.einsum("bkhd,bhqk->bqhd", v, pat)
        hooks[b + "attn.hook_z"] = z
        attn_out = torch.einsum("bqhd,hdm->bqm", z, sd[b + "attn.W_O"]) + sd[b + "attn.b_O"]
        hooks[b + "hook_attn_out"] = attn_out
        x2 = ln(resid, b + "ln2")
        pre = x2 @ sd[b + "mlp.W_in"] + sd[b + "mlp.b_in"]
        hooks[b + "mlp.hook_pre"] = pre
        post = F.gelu(pre)
        hooks[b + "mlp.hook_post"] = post
        mlp_out = post @ sd[b + "mlp.W_out"] + sd[b + "mlp.b_out"]
        hooks[b + "hook_mlp_out"] = mlp_out
        resid = resid + attn_out + mlp_out
        hooks[b + "hook_resid_post"] = resid
    x = ln(resid, "ln_final")
    logits = x @ sd["unembed.W_U"] + sd["unembed.b_U"]
    return logits, hooks


def tl_loss(logits, tokens):
    """TL loss_fn(per_token=True): [B, T-1]."""
    lp = torch.log_softmax(logits, dim=-1)
    return -lp[:, :-1, :].gather(-1, tokens[:, 1:, None])[..., 0]


def hook_order(arch):
    names = ["hook_embed"]
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        names += [b + "hook_resid_pre", b + "ln1.hook_scale", b + "ln1.hook_normalized"]
        names += [b + "attn.hook_" + n for n in ("q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z")]
        names += [b + "hook_attn_out", b + "ln2.hook_scale", b + "ln2.hook_normalized",
                  b + "mlp.hook_pre", b + "mlp.hook_post", b + "hook_mlp_out", b + "hook_resid_post"]
    return names + ["ln_final.hook_scale", "ln_final.hook_normalized"]


# --------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------
def make_tokens(V, T, seed, max_id):
    """[3, T] int64: BOS at column 0, ids >= 1 elsewhere.
    row 0: BOS + random sequence of length (T-1)//2 repeated (induction-like),
    row 1: random ids from a small pool (many repeated tokens and bigrams),
    row 2: ids near max_id-1 (high rows of W_E/W_U), with repeats, including max_id-1 itself."""
    rng = np.random.default_rng(seed)
    toks = np.zeros((3, T), dtype=np.int64)
    half = (T - 1) // 2
    seq = rng.integers(1, max_id, half)
    r0 = np.concatenate([seq, seq, rng.integers(1, max_id, T - 1 - 2 * half)])
    toks[0, 1:] = r0
    pool = rng.integers(1, max_id, 6)
    toks[1, 1:] = pool[rng.integers(0, 6, T - 1)]
    hi = rng.integers(max_id - 12, max_id, T - 1)
    hi[0] = max_id - 1
    hi[T // 2:T // 2 + 3] = hi[1:4]  # a repeated trigram
    toks[2, 1:] = hi
    return toks


# --------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------
def save_npy(path, arr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(arr, torch.Tensor):
        arr = arr.detach().cpu().numpy()
    np.save(path, np.asarray(arr, order="C"), allow_pickle=False)


def err_stats(a32, a64):
    """float32 result vs the float64 one: max |Δ|, max |ref|, max |Δ|/|ref| over |ref| >= 1e-3·max|ref|."""
    a = a32.to(torch.float64)
    b = a64.to(torch.float64)
    diff = (a - b).abs()
    ref = b.abs()
    mref = float(ref.max()) if ref.numel() else 0.0
    sel = ref >= 1e-3 * mref
    rel = float((diff[sel] / ref[sel]).max()) if bool(sel.any()) else 0.0
    return {"max_abs_err": float(diff.max()), "max_abs_ref": mref, "max_rel_err": rel}


def fmt_json(obj):
    return json.dumps(obj, indent=1, sort_keys=False) + "\n"


def check(cond, msg):
    if not cond:
        sys.stderr.write(f"neox_ref.py: CROSS-CHECK FAILED: {msg}\n")
        sys.exit(1)


# --------------------------------------------------------------------------------------
# Goldens for one fixture
# --------------------------------------------------------------------------------------
def run_models_of(ref, w, arch, tokens):
    """HF forward + TL conversion, processing and hooked forward (processed and unprocessed) in
    float32 and float64, for a reference module `ref` (this one, gpt2_ref, llama_ref) providing
    hf_forward, tl_convert, tl_process and tl_forward."""
    tk = torch.from_numpy(tokens)
    res = {}
    for dt in (torch.float32, torch.float64):
        sd = ref.tl_convert(w, arch, dt)
        psd = ref.tl_process(sd, arch)
        hf = ref.hf_forward(w, arch, tk, dt)
        lg, hk = ref.tl_forward(psd, arch, tk, dt, processed=True)
        lg_np, hk_np = ref.tl_forward(sd, arch, tk, dt, processed=False)
        res[dt] = dict(sd=sd, psd=psd, hf=hf, logits=lg, hooks=hk, np_logits=lg_np, np_hooks=hk_np,
                       loss=tl_loss(lg, tk))
    return res


def run_models(w, arch, tokens):
    return run_models_of(sys.modules[__name__], w, arch, tokens)


def cross_checks(res, name):
    r32, r64 = res[torch.float32], res[torch.float64]
    for dt, r, tol_spread, tol in ((torch.float32, r32, 1e-4, 1e-4), (torch.float64, r64, 1e-10, 1e-10)):
        # rounding grows with the logits' size: tolerances are per 10 units of max |logit|
        scale = max(1.0, float(r["hf"].abs().max()) / 10)
        diff = (r["logits"] - r["hf"]).to(torch.float64)
        spread = float((diff.max(-1).values - diff.min(-1).values).max())
        check(spread <= tol_spread * scale, f"{name} {dt}: processed - HF logits not constant per position (spread {spread:g})")
        lsd = float((torch.log_softmax(r["logits"], -1) - torch.log_softmax(r["hf"], -1)).abs().max())
        check(lsd <= tol * scale, f"{name} {dt}: log_softmax differs by {lsd:g}")
        npd = float((r["np_logits"] - r["hf"]).abs().max())
        check(npd <= tol * max(1.0, float(r["hf"].abs().max())), f"{name} {dt}: unprocessed TL logits != HF ({npd:g})")
        # processed logits are centered over the vocab, every head output is mean-zero over d_model
        cm = float(r["logits"].mean(-1).abs().max())
        check(cm <= tol * 10, f"{name} {dt}: processed logits not centered ({cm:g})")
    return {
        "processed_minus_hf_spread_f32": float(((r32["logits"] - r32["hf"]).max(-1).values
                                                 - (r32["logits"] - r32["hf"]).min(-1).values).max()),
        "log_softmax_max_diff_f32": float((torch.log_softmax(r32["logits"], -1) - torch.log_softmax(r32["hf"], -1)).abs().max()),
        "no_processing_vs_hf_max_diff_f32": float((r32["np_logits"] - r32["hf"]).abs().max()),
    }


def peakiness(hooks, arch):
    out = {}
    for L in range(arch["layers"]):
        pat = hooks[f"blocks.{L}.attn.hook_pattern"]
        mx = pat.max(-1).values[:, :, 1:]  # skip query 0 (always 1.0)
        out[f"blocks.{L}.frac_rows_max_gt_0.5"] = float((mx > 0.5).double().mean())
    return out


VARIANTS = {  # one processing step off at a time (hs_model_params toggles), TL 1.6.1 order kept
    "no_fold_ln": dict(fold_ln=False),
    "no_center_writing": dict(center_writing=False),
    "no_center_unembed": dict(center_unembed=False),
    "no_fold_value_biases": dict(fold_value_biases=False),
}


def variant_hooks(arch):
    last = arch["layers"] - 1
    return [f"blocks.{last}.attn.hook_v", f"blocks.{last}.hook_attn_out", f"blocks.{last}.hook_resid_post",
            "ln_final.hook_normalized"]


def write_variants(gdir, arch, tokens, res, errors):
    """Small goldens per single-step-off processing variant: last-position logits, loss, a few
    hooks and the biases that the steps change."""
    tk = torch.from_numpy(tokens)
    errors["variants"] = {}
    for vname, flags in VARIANTS.items():
        out, ev = {}, {}
        for dt in (torch.float32, torch.float64):
            sd = tl_process(res[dt]["sd"], arch, **flags)
            lg, hk = tl_forward(sd, arch, tk, dt)
            lsd = float((torch.log_softmax(lg, -1) - torch.log_softmax(res[dt]["hf"], -1)).abs().max())
            check(lsd <= (1e-4 if dt == torch.float32 else 1e-10), f"variant {vname} {dt}: log_softmax differs ({lsd:g})")
            arrs = {"logits_last": lg[:, -1], "loss": tl_loss(lg, tk), "weights/b_U": sd["unembed.b_U"]}
            for L in range(arch["layers"]):
                arrs[f"weights/blocks.{L}.attn.b_O"] = sd[f"blocks.{L}.attn.b_O"]
            for n in variant_hooks(arch):
                arrs["hooks/" + n] = hk[n]
            out[dt] = arrs
        for k, a32 in out[torch.float32].items():
            save_npy(os.path.join(gdir, "variants", vname, k + ".npy"), a32)
            ev[k] = err_stats(a32, out[torch.float64][k])
        errors["variants"][vname] = ev


def write_goldens(gdir, arch, w, tokens, big_vocab, minimal):
    """minimal: only tokens, hf_logits, logits, loss (+ errors.json) — for neox-tiny-f16, whose
    purpose is the F16 loader path; its processing/hook behaviour is covered by neox-tiny-f32."""
    res = run_models(w, arch, tokens)
    checks = cross_checks(res, os.path.basename(gdir))
    r32, r64 = res[torch.float32], res[torch.float64]
    errors = {"note": "float32 golden vs the same computation in float64: max_abs_err, max_abs_ref, "
                      "max_rel_err (over elements with |ref| >= 1e-3*max|ref|); hook_attn_scores: "
                      "unmasked (causal) entries only",
              "cross_checks": checks, "peakiness": peakiness(r32["hooks"], arch),
              "weights": {}, "hooks": {}, "no_processing_hooks": {}, "outputs": {}}
    save_npy(os.path.join(gdir, "tokens.npy"), tokens)
    tk = torch.from_numpy(tokens)
    for n in tl_weight_names(arch):
        if minimal:
            break
        if big_vocab and n in ("embed.W_E", "unembed.W_U", "unembed.b_U"):
            errors["weights"][short_weight_name(n)] = err_stats(r32["psd"][n], r64["psd"][n])
            continue
        save_npy(os.path.join(gdir, "weights", short_weight_name(n) + ".npy"), r32["psd"][n])
        errors["weights"][short_weight_name(n)] = err_stats(r32["psd"][n], r64["psd"][n])
    def hook_err(a32, a64, n):
        if n.endswith("hook_attn_scores"):  # errors over the causal (unmasked) entries only
            keep = torch.tril(torch.ones(a32.shape[-2:], dtype=torch.bool)).expand(a32.shape)
            return err_stats(a32[keep], a64[keep])
        return err_stats(a32, a64)

    for n in hook_order(arch):
        errors["hooks"][n] = hook_err(r32["hooks"][n], r64["hooks"][n], n)
        if minimal:
            continue
        save_npy(os.path.join(gdir, "hooks", n + ".npy"), r32["hooks"][n])
        save_npy(os.path.join(gdir, "no_processing", "hooks", n + ".npy"), r32["np_hooks"][n])
        errors["no_processing_hooks"][n] = hook_err(r32["np_hooks"][n], r64["np_hooks"][n], n)
    save_npy(os.path.join(gdir, "loss.npy"), r32["loss"])
    errors["outputs"]["loss"] = err_stats(r32["loss"], r64["loss"])
    errors["outputs"]["logits"] = err_stats(r32["logits"], r64["logits"])
    errors["outputs"]["hf_logits"] = err_stats(r32["hf"], r64["hf"])
    errors["outputs"]["no_processing/logits"] = err_stats(r32["np_logits"], r64["np_logits"])
    if not minimal and not big_vocab:
        write_variants(gdir, arch, tokens, res, errors)
    lse32 = torch.logsumexp(r32["logits"], -1)
    errors["outputs"]["logsumexp"] = err_stats(lse32, torch.logsumexp(r64["logits"], -1))
    if not big_vocab:
        save_npy(os.path.join(gdir, "hf_logits.npy"), r32["hf"])
        save_npy(os.path.join(gdir, "logits.npy"), r32["logits"])
        if not minimal:
            save_npy(os.path.join(gdir, "no_processing", "logits.npy"), r32["np_logits"])
    else:
        top = torch.topk(r32["logits"], 11, dim=-1)  # sorted descending
        save_npy(os.path.join(gdir, "top10.npy"), top.indices[..., :10].to(torch.int64))
        save_npy(os.path.join(gdir, "top10_logits.npy"), top.values[..., :10])
        save_npy(os.path.join(gdir, "logsumexp.npy"), lse32)
        # top-10 ids are only comparable if the ranking is robust: record the smallest gap
        # between consecutive sorted logits among the first 11 (the C test's id tolerance)
        gaps = (top.values[..., :-1] - top.values[..., 1:]).min()
        top64 = torch.topk(r64["logits"], 10, dim=-1).indices
        check(bool((top64 == top.indices[..., :10]).all()), "top-10 ids differ between float32 and float64")
        errors["outputs"]["top10_min_gap"] = float(gaps)
    return res, errors


# --------------------------------------------------------------------------------------
# test_prompt golden (analysis.md §13) — needs the HF tokenizer oracle (node)
# --------------------------------------------------------------------------------------
def run_oracle(cmd, modules, **kw):
    """Runs a node oracle; a failure ends the script with the oracle's own message."""
    r = subprocess.run(cmd, env=oracle_env(modules), capture_output=True, text=True, encoding="utf-8", **kw)
    if r.returncode != 0:
        sys.stderr.write(f"neox_ref.py: oracle {cmd[1]} failed (exit {r.returncode}): {r.stderr.strip()}\n"
                         "  install it with npm install --prefix DIR @anush008/tokenizers@0.6.0 and pass "
                         "--oracle-modules DIR/node_modules\n")
        sys.exit(2)
    return r.stdout


def oracle_env(modules):
    env = dict(os.environ)
    if modules:
        env["ORACLE_NODE_MODULES"] = modules
    return env


NEOX_TOKENIZER = "gpt-neox-20b.tokenizer.json"  # in shared/data/tokenizers/


def oracle_encode(texts, shared, modules, tokenizer=NEOX_TOKENIZER):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
        path = f.name
    try:
        out = run_oracle(["node", os.path.join(shared, "tools", "hf-tokenize.mjs"),
                          os.path.join(shared, "data", "tokenizers", tokenizer),
                          path, "--tokens"], modules)
    finally:
        os.unlink(path)
    return [json.loads(line) for line in out.splitlines()]


def oracle_decode_each(ids, shared, modules, tokenizer=NEOX_TOKENIZER):
    """tokenizer.decode([id], skip_special_tokens=False) for each id (TL to_str_tokens / to_string)."""
    out = run_oracle(["node", os.path.join(HERE, "hf-decode.mjs"),
                      os.path.join(shared, "data", "tokenizers", tokenizer)],
                     modules, input=json.dumps([[int(i)] for i in ids]))
    return json.loads(out)


def test_prompt_golden(gdir, arch, w, shared, modules, prompt=TEST_PROMPT, answer=TEST_ANSWER, bos=0,
                       tokenizer=NEOX_TOKENIZER, logits_fn=None):
    """Writes test_prompt_tokens.json (ids + decoded strings used) and test_prompt.txt.
    logits_fn(tokens [1, T]) -> processed float32 logits [1, T, V] (default: this file's
    GPT-NeoX model built from w); gpt2_ref.py passes its own with bos 50256 and gpt2's tokenizer."""
    answer = answer if answer.startswith(" ") else " " + answer
    enc = oracle_encode([prompt + answer, prompt, answer], shared, modules, tokenizer)
    full_ids = [bos] + enc[0]["ids"]        # to_tokens(prompt + answer): BOS prepended
    prompt_ids = [bos] + enc[1]["ids"]      # to_str_tokens(prompt) (prepend_bos default True)
    answer_ids = enc[2]["ids"]              # to_str_tokens(answer, prepend_bos=False)
    check(full_ids[:len(prompt_ids)] == prompt_ids and full_ids[len(prompt_ids):] == answer_ids,
          "prompt+answer does not tokenize as prompt tokens + answer tokens")
    tokens = torch.tensor([full_ids], dtype=torch.int64)
    if logits_fn is None:
        sd = tl_process(tl_convert(w, arch, torch.float32), arch)
        logits, _ = tl_forward(sd, arch, tokens, torch.float32, processed=True)
    else:
        logits = logits_fn(tokens)
    logits = logits[0]
    probs = logits.softmax(dim=-1)
    plen, alen = len(prompt_ids), len(answer_ids)
    rows = []  # (answer position index, sorted ids top-k, ...)
    need = set(prompt_ids) | set(answer_ids)
    sorted_all = []
    for index in range(plen, plen + alen):
        tp = probs[index - 1]
        sp, si = tp.sort(descending=True)
        sorted_all.append((index, sp, si))
        need |= set(int(i) for i in si[:10])
    need = sorted(need)
    strs = dict(zip(need, oracle_decode_each(need, shared, modules, tokenizer)))
    prompt_str = [strs[i] for i in prompt_ids]
    answer_str = [strs[i] for i in answer_ids]
    lines = ["Tokenized prompt: " + repr(prompt_str), "Tokenized answer: " + repr(answer_str)]
    ranks = []
    printed_logits, printed_probs, rank_margins = [], [], []
    for index, sp, si in sorted_all:
        atok = full_ids[index]
        astr = answer_str[index - plen]
        rank = int((si == atok).nonzero()[0, 0])
        ranks.append((astr, rank))
        lg_s = logits[index - 1][si]
        nb = [lg_s[j] for j in (rank - 1, rank + 1) if 0 <= j < len(lg_s)]
        rank_margins += [abs(float(lg_s[rank] - x)) for x in nb]
        printed_logits.append(logits[index - 1, atok].item())
        printed_probs.append(probs[index - 1, atok].item())
        lines.append("Performance on answer token:")
        lines.append(f"Rank: {rank: <8} Logit: {logits[index - 1, atok].item():5.2f} "
                     f"Prob: {probs[index - 1, atok].item():6.2%} Token: |{astr}|")
        for i in range(10):
            tid = int(si[i])
            printed_logits.append(logits[index - 1, tid].item())
            printed_probs.append(sp[i].item())
            lines.append(f"Top {i}th token. Logit: {logits[index - 1, tid].item():5.2f} "
                         f"Prob: {sp[i].item():6.2%} Token: |{strs[tid]}|")
    lines.append(f"Ranks of the answer tokens: {ranks}")
    with open(os.path.join(gdir, "test_prompt.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    # ties/near-ties among the printed ranking would make the golden fragile: record the gap
    index, sp, si = sorted_all[0]
    lg_sorted = logits[index - 1][si[:11]]
    meta = {"prompt": prompt, "answer": answer, "tokens": full_ids, "prompt_ids": prompt_ids,
            "answer_ids": answer_ids, "prompt_str_tokens": prompt_str, "answer_str_tokens": answer_str,
            "decoded": {str(i): strs[i] for i in need},
            "top11_min_logit_gap": float((lg_sorted[:-1] - lg_sorted[1:]).min()),
            # distance of every printed number from a rounding boundary of its format (in logit /
            # probability units) and of the answer's logit from its sorted neighbours (rank stability)
            "min_print_margin_logit": min(abs((x * 100) % 1 - 0.5) / 100 for x in printed_logits),
            "min_print_margin_prob": min(abs((x * 1e4) % 1 - 0.5) / 1e4 for x in printed_probs),
            "answer_rank_logit_margin": min(rank_margins),
            "note": f"ids from hf-tokenize.mjs (HF tokenizers, {tokenizer}); strings from "
                    "hf-decode.mjs (decode([id], skip_special_tokens=False)); logits = processed TL logits"}
    with open(os.path.join(gdir, "test_prompt_tokens.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def fixture_weights(name):
    arch, storage, sharded, seed = FIXTURES[name]
    w = make_weights(arch, seed)
    if storage == "F16":
        w = {k: v.astype(np.float16).astype(np.float32) for k, v in w.items()}
    return arch, storage, sharded, w


def build_fixture(name, out, golden, shared, modules):
    arch, storage, sharded, w = fixture_weights(name)
    cdir = os.path.join(out, name)
    if os.path.isdir(cdir):
        shutil.rmtree(cdir)
    write_checkpoint(cdir, arch, w, storage, sharded)
    back = load_checkpoint(cdir)
    check(sorted(back) == sorted(w) and all(np.array_equal(back[k], w[k]) for k in w),
          f"{name}: safetensors read-back differs")
    if golden is None or sharded:
        return  # the sharded fixture holds neox-tiny-f32's numbers: its goldens are those
    gdir = os.path.join(golden, name)
    os.makedirs(gdir, exist_ok=True)
    for entry in os.listdir(gdir):  # start clean, but keep metrics_ref.py's scan/ goldens
        if entry != "scan":
            path = os.path.join(gdir, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    big = arch["vocab"] > 4096
    if big:
        tokens = make_tokens(arch["vocab"], 24, 99, TOKENIZER_VOCAB)
    else:
        tokens = make_tokens(arch["vocab"], 20, 77, arch["vocab"])
    _, errors = write_goldens(gdir, arch, w, tokens, big, minimal=(name == "neox-tiny-f16"))
    with open(os.path.join(gdir, "errors.json"), "w") as f:
        f.write(fmt_json(errors))
    if big:
        test_prompt_golden(gdir, arch, w, shared, modules)
    print(f"{name}: peakiness {errors['peakiness']}; checks {errors['cross_checks']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write checkpoints to OUT/<fixture>/ (e.g. tests/fixtures)")
    ap.add_argument("--golden", help="write goldens to GOLDEN/<fixture>/ (e.g. tests/golden)")
    ap.add_argument("--only", action="append", choices=sorted(FIXTURES),
                    help="build only this fixture (repeatable; default: all)")
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"),
                    help="the shared/ folder (tokenizer json + hf-tokenize.mjs), default ../shared beside the repo")
    ap.add_argument("--oracle-modules", default=os.environ.get("ORACLE_NODE_MODULES"),
                    help="node_modules holding @anush008/tokenizers@0.6.0 (default $ORACLE_NODE_MODULES)")
    ap.add_argument("--pythia70m-shape", metavar="OUT_DIR",
                    help="only write a random F16 checkpoint with pythia-70m's exact shapes to OUT_DIR (benchmarks)")
    ap.add_argument("--seed", type=int, default=70, help="seed for --pythia70m-shape (default 70)")
    a = ap.parse_args()
    if a.pythia70m_shape:
        w = {k: v.astype(np.float16).astype(np.float32) for k, v in make_weights(PYTHIA70M, a.seed).items()}
        write_checkpoint(a.pythia70m_shape, PYTHIA70M, w, "F16", False)
        print(f"wrote {a.pythia70m_shape}")
        return
    if not a.out:
        ap.error("--out is required (and --golden for goldens)")
    for name in (a.only or list(FIXTURES)):
        build_fixture(name, a.out, a.golden, os.path.abspath(a.shared), a.oracle_modules)


if __name__ == "__main__":
    main()
