#!/usr/bin/python3
"""scan_ref.py — the torch baseline of bench/scan: the study's computation done as the
notebook does it (TransformerLens-style), on the same checkpoint and tokens, on all cores.

Model: tests/reference/neox_ref.py or, for a config.json with model_type "gpt2",
tests/reference/gpt2_ref.py (plain-torch TL 1.6.1 conversion/processing and hooked forward
returning the FULL cache, like run_with_cache), or for model_type llama / mistral / qwen2
tests/reference/llama_ref.py (TL 2.x; weights memory-mapped and widened to float32 per tensor,
processed in place; the forward keeps only the hooks the metrics read, like run_with_cache's
names_filter — a full cache of a 1B model does not fit; per query head v / W_V of its KV
group; post_mlp_embed through RMSPre and the gated MLP). For a Llama-3.2-1B-shaped
checkpoint (`llama_ref.py --llama32-1b-shape DIR`) use --batch 4 (logits alone are
batch × 256 × 128256 floats). Metrics as the notebook: W_OU =
W_O @ W_U materialised [L, H, D, V]; per batch of 32 the cached z / pattern / v / scale and
the full logits; per-token head DLA, mover attention, mover DLA; concatenation; flattening;
ratio; torch.quantile tables; num_copies / induction mask; induction scores on [16, 401]
random repeated tokens; FactoredMatrix eigenvalues (A = post_mlp_embed @ W_V and
B = W_O @ W_U for all heads, eig(B @ A), eig(W_O @ W_V)); frac_copy_argmax as a dense
[V, V] product in row blocks + argmax — timed on --frac-heads heads and extrapolated to all
(the full dense version is ~15 TFLOP). Prints per-stage seconds and peak RSS as JSON.

usage: /usr/bin/python3 bench/scan_ref.py MODEL_DIR TOKENS.npy [--prompts 288] [--batch 32]
       [--frac-heads 1] [--threads N] [--json OUT]
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import neox_ref as nr  # noqa: E402
import gpt2_ref as g2  # noqa: E402
import llama_ref as lr  # noqa: E402

LEVELS13 = [0.0, 1e-3, 1e-2, 5e-2, 1e-1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]
LEVELS4 = [0.8, 0.9, 0.95, 0.99]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("tokens")
    ap.add_argument("--prompts", type=int, default=288)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frac-heads", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)   # neox_ref sets 1 for reproducible goldens; the baseline uses all cores
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    if cfg.get("model_type") == "gpt2":
        arch = dict(vocab=cfg["vocab_size"], d=cfg["n_embd"], heads=cfg["n_head"], layers=cfg["n_layer"],
                    n_pos=cfg["n_positions"], bos=cfg.get("bos_token_id", 50256))
        ref, act, bos = g2, g2.gelu_new, arch["bos"]
    elif cfg.get("model_type") in ("llama", "mistral", "qwen2"):
        arch = lr.arch_from_hf_config(cfg)
        ref, act, bos = lr, F.silu, arch["bos"] if arch["bos"] is not None else arch["eos"]
    else:
        arch = dict(vocab=cfg["vocab_size"], d=cfg["hidden_size"], heads=cfg["num_attention_heads"],
                    layers=cfg["num_hidden_layers"], mlp=cfg["intermediate_size"], n_ctx=cfg["max_position_embeddings"])
        ref, act, bos = nr, F.gelu, 0
    t = {}
    t0 = time.time()
    llama = ref is lr
    if llama:
        sd = lr.tl_process(lr.tl_convert(lr.load_checkpoint_mmap(a.model), arch, torch.float32), arch, inplace=True)
    else:
        sd = ref.tl_process(ref.tl_convert(ref.load_checkpoint(a.model), arch, torch.float32), arch)
    t["load"] = time.time() - t0
    L, H, V = arch["layers"], arch["heads"], arch["vocab"]
    toks = torch.from_numpy(np.load(a.tokens)[:a.prompts].astype(np.int64))
    N, T = toks.shape
    P = T - 1
    W_O = torch.stack([sd[f"blocks.{l}.attn.W_O"] for l in range(L)])     # [L, H, D, M]
    W_V = torch.stack([lr.W_V_full(sd, arch, l) if llama else sd[f"blocks.{l}.attn.W_V"]
                       for l in range(L)])                                 # [L, H, M, D]
    names = None
    if llama:
        names = ["ln_final.hook_scale"] + [f"blocks.{l}.attn.hook_{n}" for l in range(L) for n in ("z", "pattern", "v")]
    W_U = sd["unembed.W_U"]

    # ---- forward with cache + per-token metrics (notebook cells get_head_dla / mover scores)
    t0 = time.time()
    W_OU = W_O @ W_U                                                       # [L, H, D, V]
    hd_all, ma_all, md_all, loss_all = [], [], [], []
    for i in range(0, N, a.batch):
        tk = toks[i:i + a.batch]
        with torch.no_grad():
            logits, cache = ref.tl_forward(sd, arch, tk, torch.float32, processed=True,
                                           **({"names": names} if llama else {}))
            loss_all.append(nr.tl_loss(logits, tk))
            del logits
            s = cache["ln_final.hook_scale"][:, :P, 0]
            nxt = tk[:, 1:]
            nextm = (nxt[:, :, None] == tk[:, None, :P]).float()
            z = torch.stack([cache[f"blocks.{l}.attn.hook_z"] for l in range(L)])[:, :, :P]        # [L,B,P,H,D]
            pat = torch.stack([cache[f"blocks.{l}.attn.hook_pattern"] for l in range(L)])[..., :P, :P]
            v = torch.stack([cache[f"blocks.{l}.attn.hook_v"] for l in range(L)])[:, :, :P]
            v = v.repeat_interleave(H // v.shape[3], dim=3)                                        # GQA groups
            g = W_OU.permute(0, 3, 1, 2)[:, nxt] / s[None, :, :, None, None]                      # [L,B,P,H,D]
            hd_all.append(torch.einsum("lbphd,lbphd->lhbp", z, g))
            fp = pat * nextm[None, :, None]
            ma_all.append(fp.sum(-1).permute(0, 2, 1, 3))
            fz = torch.einsum("lbjhd,lbhpj->lbphd", v, fp)
            md_all.append(torch.einsum("lbphd,lbphd->lhbp", fz, g))
            del cache, z, pat, v, g, fp, fz
    head_dla, mover_attn, mover_dla = (torch.cat(x, 2) for x in (hd_all, ma_all, md_all))
    loss = torch.cat(loss_all)
    t["forward_metrics"] = time.time() - t0

    # ---- dataset statistics + quantile tables
    t0 = time.time()
    eq = toks[:, :, None] == toks[:, None, :]
    num_copies = (eq & torch.tril(torch.ones(T, T, dtype=torch.bool), -1)).sum(-1)[:, 1:]
    cur, nx = toks[:, :P], toks[:, 1:]
    ind_mask = (((cur[:, :, None] == cur[:, None, :]) & (nx[:, :, None] == nx[:, None, :]))
                & torch.tril(torch.ones(P, P, dtype=torch.bool), -1)).any(-1)
    flat = {k: x.reshape(L * H, -1) for k, x in (("head_dla", head_dla), ("mover_attn", mover_attn), ("mover_dla", mover_dla))}
    flat["ratio"] = flat["mover_dla"] / flat["head_dla"]
    keep = ~ind_mask.flatten()
    q = {}
    for k, x in flat.items():
        q[f"q90_{k}"] = x.quantile(0.9, dim=-1)
        q[f"q95_noind_{k}"] = x[:, keep].quantile(0.95, dim=-1)
        for tag, lv in (("13", LEVELS13), ("4", LEVELS4)):
            q[f"quantiles{tag}_{k}_all"] = x.quantile(torch.tensor(lv), dim=-1)
            q[f"quantiles{tag}_{k}_noind"] = x[:, keep].quantile(torch.tensor(lv), dim=-1)
    t["quantiles"] = time.time() - t0

    # ---- induction scores on [BOS, R, R], R of 16 x 200 from ids 1000..9999 (no tokenizer filter here)
    t0 = time.time()
    seq = 200
    r = torch.randint(1000, 10000, (16, seq))
    ind_tokens = torch.cat([torch.full((16, 1), bos, dtype=torch.int64), r, r], 1)
    if llama:   # rows in chunks of 2: 16 layers of full [16, 32, 401, 401] patterns are 5 GB
        stripes = []
        with torch.no_grad():
            for i in range(0, 16, 2):
                _, cache = lr.tl_forward(sd, arch, ind_tokens[i:i + 2], torch.float32,
                                         names=[f"blocks.{l}.attn.hook_pattern" for l in range(L)])
                stripes.append(torch.stack([cache[f"blocks.{l}.attn.hook_pattern"].diagonal(seq - 1, -1, -2)
                                            for l in range(L)]))                  # [L, 2, H, seq + 2]
                del cache
        ind = torch.cat(stripes, 1).mean((1, -1))
    else:
        with torch.no_grad():
            _, cache = ref.tl_forward(sd, arch, ind_tokens, torch.float32, processed=True)
        ind = torch.stack([cache[f"blocks.{l}.attn.hook_pattern"].diagonal(seq - 1, -1, -2).mean((0, -1)) for l in range(L)])
        del cache
    t["induction"] = time.time() - t0

    # ---- copying scores: FactoredMatrix eigenvalues
    t0 = time.time()
    E = sd["embed.W_E"]
    fl = min(3, L - 1)   # frac_copy_argmax's layer
    if llama:   # RMSPre + gated MLP (llama.md §8), 8192 vocab rows at a time; A, B one layer at a time
        b0 = "blocks.0.mlp."
        pme = torch.empty_like(E)
        for i in range(0, V, 8192):
            x = E[i:i + 8192] / (E[i:i + 8192].pow(2).mean(-1, keepdim=True) + arch["eps"]).sqrt()
            post = act(x @ sd[b0 + "W_gate"] + sd[b0 + "b_gate"]) * (x @ sd[b0 + "W_in"] + sd[b0 + "b_up"]) + sd[b0 + "b_in"]
            pme[i:i + 8192] = E[i:i + 8192] + (post @ sd[b0 + "W_out"] + sd[b0 + "b_out"])
        del x, post
        ev_vocab = []
        for l in range(L):
            Al, Bl = pme @ W_V[l], W_O[l] @ W_U                           # [H, V, D], [H, D, V]
            ev_vocab.append(torch.linalg.eig(Bl @ Al).eigenvalues)
            if l == fl:
                A_f, B_f = Al, Bl
            del Al, Bl
        ev_vocab = torch.stack(ev_vocab)
    else:
        x = E - E.mean(-1, keepdim=True)
        x = x / (x.pow(2).mean(-1, keepdim=True) + nr.EPS).sqrt()
        pme = E + (act(x @ sd["blocks.0.mlp.W_in"] + sd["blocks.0.mlp.b_in"]) @ sd["blocks.0.mlp.W_out"] + sd["blocks.0.mlp.b_out"])
    if not llama:
        A = pme @ W_V                                                       # [L, H, V, D]
        B = W_O @ W_U                                                       # [L, H, D, V]
        ev_vocab = torch.linalg.eig(B @ A).eigenvalues
        A_f, B_f = A[fl], B[fl]
    ev_resid = torch.linalg.eig(W_O @ W_V).eigenvalues
    sc_vocab = (ev_vocab.sum(-1) / ev_vocab.abs().sum(-1)).real
    sc_resid = (ev_resid.sum(-1) / ev_resid.abs().sum(-1)).real
    t["eigen"] = time.time() - t0

    # ---- frac_copy_argmax, dense, on frac_heads heads (layer 3), extrapolated to L*H
    t0 = time.time()
    counts = []
    nh = min(a.frac_heads, H)
    for h in range(nh):
        Al, Bl = A_f[h], B_f[h]
        c = 0
        for i0 in range(0, V, 1024):
            M = Al[i0:i0 + 1024] @ Bl
            c += int((M.argmax(-1) == torch.arange(i0, i0 + M.shape[0])).sum())
        counts.append(c)
    t_frac = time.time() - t0
    t["frac_measured"] = t_frac
    t["frac_heads_measured"] = nh
    t["frac"] = t_frac / nh * L * H
    t["total"] = t["forward_metrics"] + t["quantiles"] + t["induction"] + t["eigen"] + t["frac"]
    t["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t["frac_counts"] = counts
    t["N"], t["T"], t["threads"] = N, T, a.threads
    print(json.dumps(t, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(t, f, indent=1)
    del sc_vocab, sc_resid, ind, q, loss


if __name__ == "__main__":
    main()
