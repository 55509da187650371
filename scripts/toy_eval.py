#!/usr/bin/python3
"""toy_eval.py — quick check of a trained toy checkpoint (Debian python3: torch, numpy).

Reads DIR/config.json + DIR/model.safetensors (F16/F32) with numpy, runs the GPT-NeoX
forward in torch float32 and prints per head:
  induction  — analysis.md §8 on [BOS, r, r], r uniform over ids [--lo (size-64), size)
               (len = (n_ctx - 1) // 2), 16 sequences, fixed seed;
  mover_dla_no_ind — analysis.md §4/§11 (q = 0.95 over non-induction positions) on
               the rows of a JSONL dataset tokenized with toy_data.py's encoder.
A development aid for choosing the toy model's data and size; the scan is the
authority. usage: toy_eval.py DIR [DATA.jsonl] [--rows N]
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import toy_data

def load(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    raw = open(os.path.join(d, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    W = {}
    for k, v in hdr.items():
        if k == "__metadata__": continue
        b, e = v["data_offsets"]
        dt = {"F16": np.float16, "F32": np.float32}[v["dtype"]]
        W[k] = torch.tensor(np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dt).astype(np.float32).reshape(v["shape"]))
    return cfg, W

def forward(cfg, W, tok):
    L, M, H = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"]
    D = M // H; R = round(cfg["rotary_pct"] * D); eps = cfg["layer_norm_eps"]
    B, T = tok.shape
    inv = 1.0 / (cfg["rotary_emb_base"] ** (torch.arange(0, R, 2, dtype=torch.float64) / R))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None]
    cos, sin = torch.cat([ang, ang], -1).cos().float(), torch.cat([ang, ang], -1).sin().float()
    def rot(x):
        xr, xp = x[..., :R], x[..., R:]
        rh = torch.cat([-xr[..., R // 2:], xr[..., :R // 2]], -1)
        return torch.cat([xr * cos + rh * sin, xp], -1)
    h = W["gpt_neox.embed_in.weight"][tok]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    pats, vs = [], []
    for l in range(L):
        p = "gpt_neox.layers.%d." % l
        xh = F.layer_norm(h, (M,), None, None, eps)
        a = xh * W[p + "input_layernorm.weight"] + W[p + "input_layernorm.bias"]
        qkv = (a @ W[p + "attention.query_key_value.weight"].T + W[p + "attention.query_key_value.bias"]).view(B, T, H, 3 * D).permute(0, 2, 1, 3)
        q, k, v = rot(qkv[..., :D]), rot(qkv[..., D:2 * D]), qkv[..., 2 * D:]
        s = (q @ k.transpose(-1, -2) / math.sqrt(D)).masked_fill(~mask, float("-inf"))
        P = s.softmax(-1)
        wv = W[p + "attention.query_key_value.weight"].view(H, 3 * D, M)[:, 2 * D:]      # [H, D, M]
        v_nb = torch.einsum("btm,hdm->bhtd", xh * W[p + "input_layernorm.weight"], wv)     # TL hook_v (bias folded away)
        pats.append(P); vs.append(v_nb)
        ctx = (P @ v).permute(0, 2, 1, 3).reshape(B, T, M)
        attn = ctx @ W[p + "attention.dense.weight"].T + W[p + "attention.dense.bias"]
        m = F.layer_norm(h, (M,), W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"], eps)
        mlp = F.gelu(m @ W[p + "mlp.dense_h_to_4h.weight"].T + W[p + "mlp.dense_h_to_4h.bias"]) @ W[p + "mlp.dense_4h_to_h.weight"].T + W[p + "mlp.dense_4h_to_h.bias"]
        h = h + attn + mlp
    scale = (h.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
    return pats, vs, scale

def main():
    d = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else None
    nrows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 64
    cfg, W = load(d)
    L, M, H, T = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["max_position_embeddings"]
    D = M // H
    tj = json.load(open(os.path.join(d, "tokenizer.json")))
    ntok = max(tj["model"]["vocab"].values()) + 1
    lo = int(sys.argv[sys.argv.index('--lo') + 1]) if '--lo' in sys.argv else ntok - 64
    g = torch.Generator().manual_seed(0)
    ln = (T - 1) // 2
    r = torch.randint(lo, ntok, (16, ln), generator=g)
    tok = torch.cat([torch.zeros(16, 1, dtype=torch.long), r, r], 1)
    with torch.no_grad():
        pats, _, _ = forward(cfg, W, tok)
    ind = torch.stack([P.diagonal(offset=-(ln - 1), dim1=-2, dim2=-1).mean((0, -1)) for P in pats])   # [L, H]
    print("induction:", " ".join("L%dH%d=%.3f" % (l, h, ind[l, h]) for l in range(L) for h in range(H)))
    print("max induction %.3f" % ind.max().item())
    if not data: return
    vocab = tj["model"]["vocab"]
    merges = [tuple(m.split(" ")) for m in tj["model"]["merges"]]
    enc = toy_data.Encoder(vocab, merges)
    stream = []
    for line in open(data):
        stream += enc.encode(json.loads(line)["text"])
    rows = [[0] + stream[i:i + T - 1] for i in range(0, len(stream) - T, T - 1)][:nrows]
    tok = torch.tensor(rows)
    Wu = W["embed_out.weight"].T * W["gpt_neox.final_layer_norm.weight"][:, None]
    Wu = Wu - Wu.mean(0, keepdim=True); Wu = Wu - Wu.mean(1, keepdim=True)               # [M, V] folded, centered
    with torch.no_grad():
        pats, vs, scale = forward(cfg, W, tok)
        Bn, P_ = tok.shape[0], T - 1
        nxt = tok[:, 1:]                                                                    # [B, P]
        same = (nxt[:, :, None] == tok[:, None, :P_])                                       # next[b, p, j]
        ind_mask = torch.zeros(Bn, P_, dtype=torch.bool)
        for b in range(Bn):
            seen = set()
            t = tok[b].tolist()
            for p in range(P_):
                if p >= 1: seen.add((t[p - 1], t[p]))
                ind_mask[b, p] = (t[p], t[p + 1]) in seen
        res = []
        for l in range(L):
            Wd = W["gpt_neox.layers.%d.attention.dense.weight" % l].view(M, H, D).permute(1, 2, 0)   # [H, D, M]
            Wd = Wd - Wd.mean(-1, keepdim=True)
            fp = pats[l][:, :, :P_, :P_] * same[:, None].float()                          # [B, H, P, P]
            fz = fp @ vs[l][:, :, :P_]                                                      # [B, H, P, D]
            Wou = torch.einsum("hdm,mv->hdv", Wd, Wu)
            gathered = Wou[:, :, nxt].permute(2, 0, 3, 1)                                   # [B, H, P, D]
            md = (fz * gathered).sum(-1) / scale[:, None, :P_, 0]
            for h in range(H):
                vals = md[:, h][~ind_mask]
                res.append(("L%dH%d" % (l, h), vals.quantile(0.95).item()))
    res.sort(key=lambda x: -x[1])
    med = float(np.median([x[1] for x in res]))
    print("mover_dla_no_ind (q .95):", " ".join("%s=%.3f" % x for x in res))
    print("top %s %.3f, median %.3f, non-induction fraction %.3f" % (res[0][0], res[0][1], med, (~ind_mask).float().mean()))

if __name__ == "__main__":
    main()
