#!/usr/bin/python3
"""gpt2_ref.py — independent torch reference (oracle) for headscan's GPT-2 model code.

Generates small random GPT-2 checkpoints in HuggingFace format (config.json as HF writes it
for GPT2LMHeadModel + safetensors written by neox_ref.py's writer) and golden outputs (.npy) of
  * the HF GPT-2 forward (spec model.md §10: Conv1D [in, out] weights, learned positions,
    sequential residual, gelu_new, logits = ln_f(h) @ wte^T — the unembedding is tied),
  * TransformerLens 1.6.1's GPT-2 conversion + weight processing (model.md §4 with W_pos
    centered too, ln_final folded into the tied W_U = wte^T) and its hooked forward,
    processed and unprocessed (from_pretrained_no_processing).
Everything is re-implemented from the spec in plain torch (no transformers / TransformerLens),
in float32 (the goldens) and float64 (to measure float32 rounding error, recorded in
errors.json for the C tests' tolerances). Same conventions and golden layout as neox_ref.py.

Run with Debian's /usr/bin/python3 (torch 1.13, numpy 1.24). See tests/reference/README.md
("GPT-2") and make_fixtures.sh (regenerates every committed file byte-identically).
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import neox_ref as nx  # noqa: E402  safetensors writer/reader, TL processing §4, loss, npy, error stats

torch.set_num_threads(1)  # fixed reduction order ⇒ byte-identical goldens on a re-run

# --------------------------------------------------------------------------------------
# Fixture definitions (d_mlp is always 4·d_model: TL 1.6.1 ignores n_inner and uses n_embd*4)
# --------------------------------------------------------------------------------------
TINY = dict(vocab=512, d=64, heads=4, layers=2, n_pos=64, bos=511)
# the real GPT-2 vocabulary (ids match shared/data/tokenizers/gpt2.tokenizer.json) with a tiny body
VOCAB = dict(vocab=50257, d=16, heads=2, layers=2, n_pos=512, bos=50256)
GPT2_SMALL = dict(vocab=50257, d=768, heads=12, layers=12, n_pos=1024, bos=50256)
FIXTURES = {
    # name: (arch, storage dtype, tensor-name prefix, old buffers present, seed)
    "gpt2-tiny-f32": (TINY, "F32", "", True, 2718),
    "gpt2-tiny-prefixed-f16": (TINY, "F16", "transformer.", False, 2718),
    "gpt2-vocab-f16": (VOCAB, "F16", "", False, 50257),
}
TOKENIZER = "gpt2.tokenizer.json"  # shared/data/tokenizers/: 50257 ids, <|endoftext|> = 50256
# the prompt (TL utils.test_prompt(prompt, answer, model), answer with its space)
TEST_PROMPT = "When John and Mary went to the store, John gave the bag to"
TEST_ANSWER = " Mary"
EPS = 1e-5
IGNORE = -1e5  # TL ≤ 1.6.x masked attention score


def d_mlp(arch):
    return 4 * arch["d"]


def fail(msg):
    sys.stderr.write(f"gpt2_ref.py: CROSS-CHECK FAILED: {msg}\n")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


# --------------------------------------------------------------------------------------
# Random weights: HF GPT-2 names (without prefix) and shapes, deliberately far from "nice"
# --------------------------------------------------------------------------------------
def hf_names(arch, buffers):
    """Names in GPT2LMHeadModel.state_dict() order (a module's own buffers before its children)."""
    names = ["wte.weight", "wpe.weight"]
    for L in range(arch["layers"]):
        p = f"h.{L}."
        names += [p + "ln_1.weight", p + "ln_1.bias"]
        if buffers:
            names += [p + "attn.bias", p + "attn.masked_bias"]
        names += [p + "attn.c_attn.weight", p + "attn.c_attn.bias", p + "attn.c_proj.weight", p + "attn.c_proj.bias",
                  p + "ln_2.weight", p + "ln_2.bias", p + "mlp.c_fc.weight", p + "mlp.c_fc.bias",
                  p + "mlp.c_proj.weight", p + "mlp.c_proj.bias"]
    return names + ["ln_f.weight", "ln_f.bias"]


def is_buffer(name):
    return name.endswith((".attn.bias", ".attn.masked_bias"))  # not c_attn.bias


def make_weights(arch, seed):
    """float32 HF state dict (no buffers). numpy PCG64 (stable across numpy versions) drives everything."""
    rng = np.random.default_rng(seed)
    V, d, H, nL, P = arch["vocab"], arch["d"], arch["heads"], arch["layers"], arch["n_pos"]
    Fm = d_mlp(arch)
    Dh = d // H
    w = {}

    def ln_pair(prefix, lo=0.5, hi=2.0, b_std=0.5):
        # |w| in [lo, hi] with ~25% sign flips; biases N(0, b_std): folding must really matter
        sign = np.where(rng.random(d) < 0.25, -1.0, 1.0)
        w[prefix + ".weight"] = rng.uniform(lo, hi, d) * sign
        w[prefix + ".bias"] = rng.normal(0.0, b_std, d)

    # Token rows with log-normal norms plus a shared per-column offset (row-centering matters).
    # wte is also the (tied) unembedding: the offset makes centering W_U over the vocab matter too.
    # Tokens dominate the layer biases in the residual stream (positions get different
    # predictions); ln_f's small weights (below) keep the tied logits at a std of a few units.
    row_scale = np.exp(rng.normal(0.0, 0.4, V))
    w["wte.weight"] = rng.normal(0.0, 1.0, (V, d)) * row_scale[:, None] + rng.normal(0.0, 0.4, d)[None, :]
    # token 0 (used in the goldens) holds values an F16 → F32 converter must get exactly right:
    # f16 subnormals (2^-20, -2^-24 = the smallest), -0.0, and the largest f16 subnormal
    w["wte.weight"][0, :4] = [2.0 ** -20, -(2.0 ** -24), -0.0, 1023 * 2.0 ** -24]
    # Positions: smooth in p (so attention can prefer recent keys) + per-column and per-row
    # offsets, so centering W_pos rows (center_writing_weights) changes every entry.
    p = np.arange(P)[:, None]
    freqs = rng.uniform(0.02, 0.5, d)[None, :]
    phase = rng.uniform(0, 2 * np.pi, d)[None, :]
    w["wpe.weight"] = 0.8 * np.sin(p * freqs + phase) + rng.normal(0.0, 0.3, (P, d)) \
        + rng.normal(0.2, 0.5, d)[None, :] + rng.normal(0.0, 0.3, P)[:, None]
    # q/k std chosen so scores have std of a few units ⇒ peaky patterns (max entry often > 0.5)
    qk_std = 2.2 / math.sqrt(d)
    for L in range(nL):
        p_ = f"h.{L}."
        ln_pair(p_ + "ln_1", b_std=0.3)
        ln_pair(p_ + "ln_2", b_std=0.3)
        # Conv1D layout [in, out]: columns [q (d) | k (d) | v (d)], head h = columns h*Dh.. of each
        w[p_ + "attn.c_attn.weight"] = np.concatenate([rng.normal(0.0, qk_std, (d, d)),
                                                       rng.normal(0.0, qk_std, (d, d)),
                                                       rng.normal(0.0, 1.0 / math.sqrt(d), (d, d))], axis=1)
        w[p_ + "attn.c_attn.bias"] = np.concatenate([rng.normal(0.0, 0.5, 2 * d), rng.normal(0.0, 0.2, d)])
        # per-output-column offsets: W_O / W_out centering matters
        w[p_ + "attn.c_proj.weight"] = rng.normal(0.0, 1.0 / math.sqrt(d), (d, d)) + rng.normal(0.0, 0.05, d)[None, :]
        w[p_ + "attn.c_proj.bias"] = rng.normal(0.05, 0.15, d)
        w[p_ + "mlp.c_fc.weight"] = rng.normal(0.0, 1.5 / math.sqrt(d), (d, Fm))
        w[p_ + "mlp.c_fc.bias"] = rng.normal(0.0, 0.7, Fm)
        w[p_ + "mlp.c_proj.weight"] = rng.normal(0.0, 1.0 / math.sqrt(Fm), (Fm, d)) + rng.normal(0.0, 0.01, d)[None, :]
        w[p_ + "mlp.c_proj.bias"] = rng.normal(-0.05, 0.15, d)
    ln_pair("ln_f", 0.08, 0.25, 0.2)
    assert Dh * H == d
    return {k: v.astype(np.float32) for k, v in w.items()}


def make_config(arch, torch_dtype):
    """config.json as transformers 4.3x writes it for GPT2LMHeadModel (n_ctx kept: TL 1.6.1 reads
    hf_config.n_ctx, and the hub's gpt2 config has it)."""
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": arch["bos"],
        "embd_pdrop": 0.1,
        "eos_token_id": arch["bos"],
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": arch["n_pos"],
        "n_embd": arch["d"],
        "n_head": arch["heads"],
        "n_inner": None,
        "n_layer": arch["layers"],
        "n_positions": arch["n_pos"],
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "torch_dtype": torch_dtype,
        "use_cache": True,
        "vocab_size": arch["vocab"],
    }


def old_buffers(arch):
    """Buffers old GPT-2 checkpoints carry (model.md §10: ignore them). Layer 0 gets the F32
    mask of the original hub checkpoint, the others the BOOL mask of later transformers;
    masked_bias is the F32 scalar -1e4."""
    n = arch["n_pos"]
    tril = np.tril(np.ones((n, n), dtype=bool))[None, None]
    out = {}
    for L in range(arch["layers"]):
        out[f"h.{L}.attn.bias"] = tril.astype(np.float32) if L == 0 else tril
        out[f"h.{L}.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    return out


def write_checkpoint(out_dir, arch, weights, storage, prefix, buffers):
    """weights: float32 HF dict (already rounded to f16 values if storage == F16)."""
    os.makedirs(out_dir, exist_ok=True)
    npdt = np.float16 if storage == "F16" else np.float32
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(make_config(arch, "float16" if storage == "F16" else "float32"), f, indent=2, sort_keys=True)
        f.write("\n")
    buf = old_buffers(arch) if buffers else {}
    tensors = [(prefix + n, buf[n] if n in buf else weights[n].astype(npdt)) for n in hf_names(arch, buffers)]
    nx.write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)


def load_checkpoint(ckpt_dir):
    """Read back with our reader (self-check of the writer): prefix stripped, buffers skipped."""
    raw = nx.read_safetensors(os.path.join(ckpt_dir, "model.safetensors"))
    out = {}
    for k, v in raw.items():
        k = k[len("transformer."):] if k.startswith("transformer.") else k
        if not is_buffer(k):
            out[k] = v.astype(np.float32)
    return out


# --------------------------------------------------------------------------------------
# gelu_new as TL 1.6.1 utils.gelu_new and HF NewGELUActivation compute it (identical: both
# multiply a float32 tensor by the double sqrt(2/π) — np.sqrt in TL, math.sqrt in HF — which
# torch rounds to float32 before the float32 multiply; pow(x, 3.0) is evaluated as x*x*x)
# --------------------------------------------------------------------------------------
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# --------------------------------------------------------------------------------------
# HF GPT-2 forward (model.md §10), GPT2LMHeadModel in eval mode
# --------------------------------------------------------------------------------------
def hf_forward(w, arch, tokens, dt):
    W = {k: torch.from_numpy(v).to(dt) for k, v in w.items()}
    B, T = tokens.shape
    d, H = arch["d"], arch["heads"]
    Dh = d // H
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def conv1d(x, name):  # Conv1D: y = x @ W[in, out] + b
        return x @ W[name + ".weight"] + W[name + ".bias"]

    def heads(x):  # [B, T, d] -> [B, H, T, Dh]
        return x.view(B, T, H, Dh).permute(0, 2, 1, 3)

    h = W["wte.weight"][tokens] + W["wpe.weight"][:T]
    for L in range(arch["layers"]):
        p = f"h.{L}."
        a_in = F.layer_norm(h, (d,), W[p + "ln_1.weight"], W[p + "ln_1.bias"], EPS)
        q, k, v = conv1d(a_in, p + "attn.c_attn").split(d, dim=-1)
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-1, -2)) / torch.full([], Dh ** 0.5, dtype=dt)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(dt).min, dtype=dt))
        ctx = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        h = conv1d(ctx, p + "attn.c_proj") + h
        m_in = F.layer_norm(h, (d,), W[p + "ln_2.weight"], W[p + "ln_2.bias"], EPS)
        h = conv1d(gelu_new(conv1d(m_in, p + "mlp.c_fc")), p + "mlp.c_proj") + h
    hf = F.layer_norm(h, (d,), W["ln_f.weight"], W["ln_f.bias"], EPS)
    return hf @ W["wte.weight"].T  # tied lm_head


# --------------------------------------------------------------------------------------
# TL conversion (TL 1.6.1 convert_gpt2_weights, model.md §10) and processing (§4)
# --------------------------------------------------------------------------------------
def tl_convert(w, arch, dt):
    d, H, V = arch["d"], arch["heads"], arch["vocab"]
    Dh = d // H
    T = lambda a: torch.from_numpy(a).to(dt)  # noqa: E731
    sd = {"embed.W_E": T(w["wte.weight"]),
          "pos_embed.W_pos": T(w["wpe.weight"]),
          "unembed.W_U": T(w["wte.weight"]).T.contiguous(),  # lm_head.weight.T, tied to wte
          "unembed.b_U": torch.zeros(V, dtype=dt),
          "ln_final.w": T(w["ln_f.weight"]),
          "ln_final.b": T(w["ln_f.bias"])}
    for L in range(arch["layers"]):
        p, b = f"h.{L}.", f"blocks.{L}."
        sd[b + "ln1.w"], sd[b + "ln1.b"] = T(w[p + "ln_1.weight"]), T(w[p + "ln_1.bias"])
        sd[b + "ln2.w"], sd[b + "ln2.b"] = T(w[p + "ln_2.weight"]), T(w[p + "ln_2.bias"])
        Wqkv, bqkv = T(w[p + "attn.c_attn.weight"]), T(w[p + "attn.c_attn.bias"])
        for i, X in enumerate("QKV"):
            # "m (i h) -> i m h": W_X[i, m, dh] = c_attn.weight[m, X*d + i*Dh + dh]
            sd[b + f"attn.W_{X}"] = Wqkv[:, i * d:(i + 1) * d].reshape(d, H, Dh).permute(1, 0, 2).contiguous()
            sd[b + f"attn.b_{X}"] = bqkv[i * d:(i + 1) * d].reshape(H, Dh).contiguous()
        sd[b + "attn.W_O"] = T(w[p + "attn.c_proj.weight"]).reshape(H, Dh, d).contiguous()  # "(i h) m -> i h m"
        sd[b + "attn.b_O"] = T(w[p + "attn.c_proj.bias"])
        sd[b + "mlp.W_in"], sd[b + "mlp.b_in"] = T(w[p + "mlp.c_fc.weight"]), T(w[p + "mlp.c_fc.bias"])
        sd[b + "mlp.W_out"], sd[b + "mlp.b_out"] = T(w[p + "mlp.c_proj.weight"]), T(w[p + "mlp.c_proj.bias"])
    return sd


def tl_process(sd, arch):
    """model.md §4 (fold_ln, center_writing_weights, center_unembed, fold_value_biases) via
    neox_ref's implementation; GPT-2 has learned positions, so center_writing_weights also
    centers each W_pos row — an independent step, so doing it last gives the same numbers."""
    out = nx.tl_process(sd, arch)
    out["pos_embed.W_pos"] = out["pos_embed.W_pos"] - out["pos_embed.W_pos"].mean(-1, keepdim=True)
    return out


def tl_weight_names(arch):
    names = ["embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U"]
    for L in range(arch["layers"]):
        names += [f"blocks.{L}.attn.{n}" for n in ("W_Q", "W_K", "W_V", "b_Q", "b_K", "b_V", "W_O", "b_O")]
        names += [f"blocks.{L}.mlp.{n}" for n in ("W_in", "b_in", "W_out", "b_out")]
    return names


def short_weight_name(n):
    """File name under weights/: W_E, W_pos, W_U, b_U, blocks.L.attn.W_Q, ... (TL attribute style)."""
    return n.split(".", 1)[1] if n.startswith(("embed.", "pos_embed.", "unembed.")) else n


# --------------------------------------------------------------------------------------
# TL hooked forward (model.md §5 with §10's GPT-2 differences)
# --------------------------------------------------------------------------------------
def hook_order(arch):
    names = ["hook_embed", "hook_pos_embed"]
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        names += [b + "hook_resid_pre", b + "ln1.hook_scale", b + "ln1.hook_normalized"]
        names += [b + "attn.hook_" + n for n in ("q", "k", "v", "attn_scores", "pattern", "z")]
        names += [b + "hook_attn_out", b + "hook_resid_mid", b + "ln2.hook_scale", b + "ln2.hook_normalized",
                  b + "mlp.hook_pre", b + "mlp.hook_post", b + "hook_mlp_out", b + "hook_resid_post"]
    return names + ["ln_final.hook_scale", "ln_final.hook_normalized"]


def tl_forward(sd, arch, tokens, dt, processed):
    """Returns (logits, hooks dict name -> tensor) with TL 1.6.1 hook names and shapes."""
    hooks = {}
    d, H = arch["d"], arch["heads"]
    Dh = d // H
    B, T = tokens.shape
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    ignore = torch.tensor(IGNORE, dtype=dt)

    def ln(x, prefix):  # LayerNormPre (processed) or TL LayerNorm (unprocessed)
        x = x - x.mean(-1, keepdim=True)
        scale = (x.pow(2).mean(-1, keepdim=True) + EPS).sqrt()
        hooks[prefix + ".hook_scale"] = scale
        x = x / scale
        if not processed:
            x = x * sd[prefix + ".w"] + sd[prefix + ".b"]
        hooks[prefix + ".hook_normalized"] = x
        return x

    embed = sd["embed.W_E"][tokens]
    pos = sd["pos_embed.W_pos"][:T][None].expand(B, T, d).contiguous()  # einops.repeat over batch
    hooks["hook_embed"], hooks["hook_pos_embed"] = embed, pos
    resid = embed + pos
    for L in range(arch["layers"]):
        b = f"blocks.{L}."
        hooks[b + "hook_resid_pre"] = resid
        x = ln(resid, b + "ln1")
        q = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_Q"]) + sd[b + "attn.b_Q"]
        k = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_K"]) + sd[b + "attn.b_K"]
        v = torch.einsum("bpm,hmd->bphd", x, sd[b + "attn.W_V"]) + sd[b + "attn.b_V"]
        hooks[b + "attn.hook_q"], hooks[b + "attn.hook_k"], hooks[b + "attn.hook_v"] = q, k, v
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(Dh)  # TL: / attn_scale = np.sqrt(d_head)
        scores = torch.where(causal, scores, ignore)
        hooks[b + "attn.hook_attn_scores"] = scores
        pat = torch.softmax(scores, dim=-1)
        hooks[b + "attn.hook_pattern"] = pat
        z = torch.einsum("bkhd,bhqk->bqhd", v, pat)
        hooks[b + "attn.hook_z"] = z
        attn_out = torch.einsum("bqhd,hdm->bqm", z, sd[b + "attn.W_O"]) + sd[b + "attn.b_O"]
        hooks[b + "hook_attn_out"] = attn_out
        resid_mid = resid + attn_out
        hooks[b + "hook_resid_mid"] = resid_mid
        x2 = ln(resid_mid, b + "ln2")
        pre = x2 @ sd[b + "mlp.W_in"] + sd[b + "mlp.b_in"]
        hooks[b + "mlp.hook_pre"] = pre
        post = gelu_new(pre)
        hooks[b + "mlp.hook_post"] = post
        mlp_out = post @ sd[b + "mlp.W_out"] + sd[b + "mlp.b_out"]
        hooks[b + "hook_mlp_out"] = mlp_out
        resid = resid_mid + mlp_out
        hooks[b + "hook_resid_post"] = resid
    x = ln(resid, "ln_final")
    return x @ sd["unembed.W_U"] + sd["unembed.b_U"], hooks


# --------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------
def make_tokens(V, T, seed, bos):
    """[3, T] int64, column 0 = BOS (= EOS = the config's bos_token_id, GPT-2's <|endoftext|>).
    row 0: a random sequence of length (T-1)//2 repeated (induction-like),
    row 1: ids from a 6-id pool (many repeated tokens and bigrams),
    row 2: ids near the top of the vocab with a repeated trigram, plus id 0 and an EOS
    mid-sequence (GPT-2 documents are joined by <|endoftext|>)."""
    rng = np.random.default_rng(seed)
    toks = np.full((3, T), bos, dtype=np.int64)
    half = (T - 1) // 2
    seq = rng.integers(0, V - 1, half)
    toks[0, 1:] = np.concatenate([seq, seq, rng.integers(0, V - 1, T - 1 - 2 * half)])
    pool = rng.integers(0, V - 1, 6)
    toks[1, 1:] = pool[rng.integers(0, 6, T - 1)]
    hi = rng.integers(V - 13, V - 1, T - 1)
    hi[T // 2:T // 2 + 3] = hi[1:4]  # a repeated trigram
    hi[5], hi[T - 4] = 0, bos
    toks[2, 1:] = hi
    return toks


# --------------------------------------------------------------------------------------
# Goldens for one fixture
# --------------------------------------------------------------------------------------
def run_models(w, arch, tokens):
    return nx.run_models_of(sys.modules[__name__], w, arch, tokens)


def cross_checks(res, arch, name):
    """Fail loudly unless processing and both forwards agree with each other (model.md §4).
    neox_ref's checks (same result layout): processed − HF logits constant per position,
    log_softmax equal, unprocessed TL == HF, processed logits centered; then GPT-2's own."""
    checks = nx.cross_checks(res, name)
    for dt, tol in ((torch.float32, 1e-4), (torch.float64, 1e-10)):
        psd = res[dt]["psd"]
        check(float(psd["pos_embed.W_pos"].mean(-1).abs().max()) <= tol, f"{name} {dt}: processed W_pos rows not centered")
        for L in range(arch["layers"]):
            check(float(psd[f"blocks.{L}.attn.b_V"].abs().max()) == 0.0, f"{name} {dt}: b_V not folded")
    # gelu_new vs torch's own tanh-GELU (another implementation of the same formula) on the
    # layer-0 pre-activations and a dense grid: within 4 float32 ulps of max(1, |x|)
    x = torch.cat([res[torch.float32]["hooks"]["blocks.0.mlp.hook_pre"].flatten(),
                   torch.linspace(-12.0, 12.0, 240001, dtype=torch.float32)])
    dev = (gelu_new(x) - F.gelu(x, approximate="tanh")).abs()
    gd = float(dev.max())
    check(bool((dev <= 4 * 2.0 ** -23 * x.abs().clamp(min=1.0)).all()), f"{name}: gelu_new differs from F.gelu(tanh) by {gd:g}")
    checks["gelu_new_vs_torch_tanh_gelu_max_diff_f32"] = gd
    return checks


def strict_json(obj):
    """NaN/inf → null so errors.json is strict JSON (max_rel_err of an all-zero array is 0/0)."""
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_goldens(gdir, arch, w, tokens, minimal, big_vocab=False):
    """minimal: only tokens, hf_logits, logits, loss (+ errors.json with hook errors) — for the
    F16/prefixed fixture, whose purpose is the loader path; hooks are covered by gpt2-tiny-f32.
    big_vocab (gpt2-vocab-f16): like neox-vocab-f16, no full logits and no W_E / W_U / b_U
    (too big; their errors are in errors.json) but top10.npy, top10_logits.npy, logsumexp.npy."""
    res = run_models(w, arch, tokens)
    r32, r64 = res[torch.float32], res[torch.float64]
    errors = {"note": "float32 golden vs the same computation in float64: max_abs_err, max_abs_ref, "
                      "max_rel_err (over elements with |ref| >= 1e-3*max|ref|; null if undefined)",
              "cross_checks": cross_checks(res, arch, os.path.basename(gdir)),
              "peakiness": nx.peakiness(r32["hooks"], arch),
              "weights": {}, "hooks": {}, "no_processing_hooks": {}, "outputs": {}}
    nx.save_npy(os.path.join(gdir, "tokens.npy"), tokens)
    for n in tl_weight_names(arch):
        if big_vocab and n in ("embed.W_E", "unembed.W_U", "unembed.b_U"):
            errors["weights"][short_weight_name(n)] = nx.err_stats(r32["psd"][n], r64["psd"][n])
        elif not minimal:
            nx.save_npy(os.path.join(gdir, "weights", short_weight_name(n) + ".npy"), r32["psd"][n])
            errors["weights"][short_weight_name(n)] = nx.err_stats(r32["psd"][n], r64["psd"][n])
    for n in hook_order(arch):
        errors["hooks"][n] = nx.err_stats(r32["hooks"][n], r64["hooks"][n])
        if minimal:
            continue
        nx.save_npy(os.path.join(gdir, "hooks", n + ".npy"), r32["hooks"][n])
        nx.save_npy(os.path.join(gdir, "no_processing", "hooks", n + ".npy"), r32["np_hooks"][n])
        errors["no_processing_hooks"][n] = nx.err_stats(r32["np_hooks"][n], r64["np_hooks"][n])
    nx.save_npy(os.path.join(gdir, "loss.npy"), r32["loss"])
    if big_vocab:
        top = torch.topk(r32["logits"], 11, dim=-1)  # sorted descending
        nx.save_npy(os.path.join(gdir, "top10.npy"), top.indices[..., :10].to(torch.int64))
        nx.save_npy(os.path.join(gdir, "top10_logits.npy"), top.values[..., :10])
        nx.save_npy(os.path.join(gdir, "logsumexp.npy"), torch.logsumexp(r32["logits"], -1))
        # the top-10 ids are comparable only if the ranking is robust: smallest gap between
        # consecutive sorted logits among the first 11, and float32/float64 must agree
        check(bool((torch.topk(r64["logits"], 10, dim=-1).indices == top.indices[..., :10]).all()),
              "top-10 ids differ between float32 and float64")
        errors["outputs"]["top10_min_gap"] = float((top.values[..., :-1] - top.values[..., 1:]).min())
    else:
        nx.save_npy(os.path.join(gdir, "hf_logits.npy"), r32["hf"])
        nx.save_npy(os.path.join(gdir, "logits.npy"), r32["logits"])
        if not minimal:
            nx.save_npy(os.path.join(gdir, "no_processing", "logits.npy"), r32["np_logits"])
    errors["outputs"]["loss"] = nx.err_stats(r32["loss"], r64["loss"])
    errors["outputs"]["logits"] = nx.err_stats(r32["logits"], r64["logits"])
    errors["outputs"]["hf_logits"] = nx.err_stats(r32["hf"], r64["hf"])
    errors["outputs"]["no_processing/logits"] = nx.err_stats(r32["np_logits"], r64["np_logits"])
    errors["outputs"]["logsumexp"] = nx.err_stats(torch.logsumexp(r32["logits"], -1),
                                                  torch.logsumexp(r64["logits"], -1))
    with open(os.path.join(gdir, "errors.json"), "w") as f:
        f.write(json.dumps(strict_json(errors), indent=1, allow_nan=False) + "\n")
    return errors


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def fixture_weights(arch, storage, seed):
    w = make_weights(arch, seed)
    if storage == "F16":
        w = {k: v.astype(np.float16).astype(np.float32) for k, v in w.items()}
    return w


def build_fixture(name, out, golden, shared=None, modules=None):
    arch, storage, prefix, buffers, seed = FIXTURES[name]
    w = fixture_weights(arch, storage, seed)
    cdir = os.path.join(out, name)
    if os.path.isdir(cdir):
        shutil.rmtree(cdir)
    write_checkpoint(cdir, arch, w, storage, prefix, buffers)
    back = load_checkpoint(cdir)
    check(sorted(back) == sorted(w) and all(np.array_equal(back[k], w[k]) for k in w),
          f"{name}: safetensors read-back differs")
    if golden is None:
        return
    gdir = os.path.join(golden, name)
    os.makedirs(gdir, exist_ok=True)
    for entry in os.listdir(gdir):  # start clean, but keep metrics_ref.py's scan/ goldens
        if entry != "scan":
            path = os.path.join(gdir, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    big = arch["vocab"] > 4096
    if big:
        tokens = make_tokens(arch["vocab"], 24, 99, arch["bos"])
        errors = write_goldens(gdir, arch, w, tokens, minimal=False, big_vocab=True)
        # TL utils.test_prompt with the real GPT-2 tokenizer (HF tokenizers oracle, node)
        def logits_fn(tk):
            sd = tl_process(tl_convert(w, arch, torch.float32), arch)
            return tl_forward(sd, arch, tk, torch.float32, processed=True)[0]
        nx.test_prompt_golden(gdir, arch, w, shared, modules, prompt=TEST_PROMPT, answer=TEST_ANSWER,
                              bos=arch["bos"], tokenizer=TOKENIZER, logits_fn=logits_fn)
    else:
        tokens = make_tokens(arch["vocab"], 20, 88, arch["bos"])
        errors = write_goldens(gdir, arch, w, tokens, minimal=(storage == "F16"))
    print(f"{name}: peakiness {errors['peakiness']}; checks {errors['cross_checks']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write checkpoints to OUT/<fixture>/ (e.g. tests/fixtures)")
    ap.add_argument("--golden", help="write goldens to GOLDEN/<fixture>/ (e.g. tests/golden)")
    ap.add_argument("--only", action="append", choices=sorted(FIXTURES),
                    help="build only this fixture (repeatable; default: all)")
    ap.add_argument("--gpt2-small-shape", metavar="OUT_DIR",
                    help="only write a random checkpoint with gpt2 (small)'s exact shapes to OUT_DIR "
                         "(benchmarks; ~500 MB F32 / ~250 MB F16, not committed)")
    ap.add_argument("--storage", choices=("F32", "F16"), default="F32",
                    help="dtype of the --gpt2-small-shape checkpoint (default F32)")
    ap.add_argument("--prefixed", action="store_true",
                    help="--gpt2-small-shape: prefix every tensor name with 'transformer.'")
    ap.add_argument("--seed", type=int, default=124, help="seed for --gpt2-small-shape (default 124)")
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"),
                    help="the shared/ folder (gpt2 tokenizer json + hf-tokenize.mjs), default ../shared beside the repo")
    ap.add_argument("--oracle-modules", default=os.environ.get("ORACLE_NODE_MODULES"),
                    help="node_modules holding @anush008/tokenizers@0.6.0 (gpt2-vocab-f16's test_prompt golden)")
    a = ap.parse_args()
    if a.gpt2_small_shape:
        w = fixture_weights(GPT2_SMALL, a.storage, a.seed)
        write_checkpoint(a.gpt2_small_shape, GPT2_SMALL, w, a.storage, "transformer." if a.prefixed else "", False)
        print(f"wrote {a.gpt2_small_shape}")
        return
    if not a.out:
        ap.error("--out is required (and --golden for goldens)")
    for name in (a.only or list(FIXTURES)):
        build_fixture(name, a.out, a.golden, os.path.abspath(a.shared), a.oracle_modules)


if __name__ == "__main__":
    main()
