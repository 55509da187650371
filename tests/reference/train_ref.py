#!/usr/bin/python3
"""train_ref.py — torch reference for one (two) training steps of headscan's trainer.

Implements the GPT-NeoX forward of model.md §2 in torch, independently of the C code:
LayerNorm, per-head interleaved query_key_value, rotate-half partial rotary, causal
softmax, exact GELU, parallel residual, untied unembedding, mean next-token
cross-entropy. Gradients come from autograd; the update from torch.optim.AdamW with
torch.nn.utils.clip_grad_norm_. Everything is computed in float64 (the truth) and
again in float32 to measure how far float32 arithmetic alone moves the results; the
C test derives its tolerances from those float32-vs-float64 errors.

Run with Debian's python3 (torch 1.13, numpy):  /usr/bin/python3 tests/reference/train_ref.py
Writes tests/golden/train/: meta.json, tokens.npy, params0.npy (float32, flat in the
order of meta["tensors"]), grads1.npy / grads2.npy (float64, before clipping),
params1.npy / params2.npy (float64, after AdamW steps 1 and 2 on the same batch).
"""
import json, math, os
import numpy as np
import torch
import torch.nn.functional as F

L, M, H, FF, V, T, B = 2, 16, 2, 32, 40, 12, 2
D = M // H
ROT_PCT, BASE, EPS = 0.5, 10000.0, 1e-5
R = round(ROT_PCT * D)
LR, BETAS, ADAM_EPS, WD = 1e-2, (0.9, 0.95), 1e-8, 0.1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "train")

def tensor_list():
    """(name, shape, decay) in HF order — the order the C trainer lays parameters out."""
    t = [("gpt_neox.embed_in.weight", (V, M), False)]
    for l in range(L):
        p = "gpt_neox.layers.%d." % l
        t += [(p + "input_layernorm.weight", (M,), False), (p + "input_layernorm.bias", (M,), False),
              (p + "post_attention_layernorm.weight", (M,), False), (p + "post_attention_layernorm.bias", (M,), False),
              (p + "attention.query_key_value.weight", (3 * M, M), True), (p + "attention.query_key_value.bias", (3 * M,), False),
              (p + "attention.dense.weight", (M, M), True), (p + "attention.dense.bias", (M,), False),
              (p + "mlp.dense_h_to_4h.weight", (FF, M), True), (p + "mlp.dense_h_to_4h.bias", (FF,), False),
              (p + "mlp.dense_4h_to_h.weight", (M, FF), True), (p + "mlp.dense_4h_to_h.bias", (M,), False)]
    t += [("gpt_neox.final_layer_norm.weight", (M,), False), ("gpt_neox.final_layer_norm.bias", (M,), False),
          ("embed_out.weight", (V, M), True)]
    return t

def rotary(x, pos):
    """x [B, H, T, D]; rotate-half on the first R dims (model.md §2)."""
    inv_freq = 1.0 / (BASE ** (torch.arange(0, R, 2, dtype=torch.float64) / R))
    ang = pos.to(torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    xr, xp = x[..., :R], x[..., R:]
    rh = torch.cat([-xr[..., R // 2:], xr[..., :R // 2]], dim=-1)
    return torch.cat([xr * cos + rh * sin, xp], dim=-1)

def forward(P, tok):
    h = P["gpt_neox.embed_in.weight"][tok]                      # [B, T, M]
    pos = torch.arange(T)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(L):
        p = "gpt_neox.layers.%d." % l
        a = F.layer_norm(h, (M,), P[p + "input_layernorm.weight"], P[p + "input_layernorm.bias"], EPS)
        qkv = a @ P[p + "attention.query_key_value.weight"].T + P[p + "attention.query_key_value.bias"]
        qkv = qkv.view(B, T, H, 3 * D).permute(0, 2, 1, 3)        # [B, H, T, 3D], per-head q|k|v
        q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
        q, k = rotary(q, pos), rotary(k, pos)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        s = s.masked_fill(~mask, float("-inf"))
        ctx = (s.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(B, T, M)
        attn = ctx @ P[p + "attention.dense.weight"].T + P[p + "attention.dense.bias"]
        m = F.layer_norm(h, (M,), P[p + "post_attention_layernorm.weight"], P[p + "post_attention_layernorm.bias"], EPS)
        mlp = F.gelu(m @ P[p + "mlp.dense_h_to_4h.weight"].T + P[p + "mlp.dense_h_to_4h.bias"]) \
            @ P[p + "mlp.dense_4h_to_h.weight"].T + P[p + "mlp.dense_4h_to_h.bias"]
        h = h + attn + mlp
    f = F.layer_norm(h, (M,), P["gpt_neox.final_layer_norm.weight"], P["gpt_neox.final_layer_norm.bias"], EPS)
    return f @ P["embed_out.weight"].T

def run(init, tokens, dtype, max_norm):
    names = [n for n, _, _ in tensor_list()]
    P = {n: torch.tensor(init[n], dtype=dtype, requires_grad=True) for n in names}
    decay = [P[n] for n, _, d in tensor_list() if d]
    nodecay = [P[n] for n, _, d in tensor_list() if not d]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=ADAM_EPS)
    tok = torch.tensor(tokens, dtype=torch.long)
    out = {}
    for step in (1, 2):
        opt.zero_grad()
        logits = forward(P, tok[:, :T])
        loss = F.cross_entropy(logits.reshape(-1, V), tok[:, 1:].reshape(-1))
        loss.backward()
        out["loss%d" % step] = loss.item()
        out["grads%d" % step] = np.concatenate([P[n].grad.detach().double().numpy().ravel() for n in names])
        norm = torch.nn.utils.clip_grad_norm_([P[n] for n in names], max_norm)
        out["norm%d" % step] = float(norm)
        opt.step()
        out["params%d" % step] = np.concatenate([P[n].detach().double().numpy().ravel() for n in names])
    return out

def main():
    rs = np.random.RandomState(20261126)
    init = {}
    for n, shape, _ in tensor_list():
        if len(shape) == 2:
            x = rs.normal(0, 0.3, shape)
        elif "layernorm.weight" in n or "final_layer_norm.weight" in n:
            x = 1.0 + rs.normal(0, 0.2, shape)
        else:
            x = rs.normal(0, 0.2, shape)
        init[n] = x.astype(np.float32)            # the float32 values both sides start from
    tokens = rs.randint(0, V, size=(B, T + 1)).astype(np.int32)
    tokens[:, 0] = 0
    # clip at half the first step's norm so clipping is exercised
    probe = run(init, tokens, torch.float64, 1e30)
    max_norm = 0.5 * probe["norm1"]
    r64 = run(init, tokens, torch.float64, max_norm)
    r32 = run(init, tokens, torch.float32, max_norm)
    os.makedirs(OUT, exist_ok=True)
    sizes, errs = [], {}
    for n, shape, _ in tensor_list():
        sizes.append(int(np.prod(shape)))
    offs = np.cumsum([0] + sizes)
    for key in ("grads1", "grads2", "params1", "params2"):
        e = np.abs(r32[key] - r64[key])
        errs[key] = [float(e[offs[i]:offs[i + 1]].max()) for i in range(len(sizes))]
    meta = {"L": L, "M": M, "H": H, "d_mlp": FF, "V": V, "T": T, "B": B, "rotary_pct": ROT_PCT,
            "rotary_base": BASE, "eps": EPS, "lr": LR, "beta1": BETAS[0], "beta2": BETAS[1],
            "adam_eps": ADAM_EPS, "weight_decay": WD, "max_norm": max_norm,
            "tensors": [{"name": n, "shape": list(s), "decay": d} for n, s, d in tensor_list()],
            "loss1": r64["loss1"], "loss2": r64["loss2"], "norm1": r64["norm1"], "norm2": r64["norm2"],
            "loss1_f32_err": abs(r32["loss1"] - r64["loss1"]),
            "f32_err": errs, "torch": torch.__version__}
    np.save(os.path.join(OUT, "tokens.npy"), tokens)
    np.save(os.path.join(OUT, "params0.npy"), np.concatenate([init[n].ravel() for n, _, _ in tensor_list()]))
    for key in ("grads1", "grads2", "params1", "params2"):
        np.save(os.path.join(OUT, key + ".npy"), r64[key])
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("loss %.6f -> %.6f, grad norm %.4f (clipped to %.4f); max f32 error: grads %.2e, params %.2e"
          % (r64["loss1"], r64["loss2"], r64["norm1"], max_norm, max(errs["grads1"]), max(errs["params2"])))

if __name__ == "__main__":
    main()
