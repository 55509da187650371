#!/usr/bin/python3
"""metrics_ref.py — independent torch reference for the study's metrics (analysis.md §0-§13).

Runs the processed TransformerLens forward of neox_ref.py (GPT-NeoX fixtures) or gpt2_ref.py
(GPT-2 fixtures) (float32, torch, CPU) on a small seeded token set for a committed
checkpoint and writes the metric goldens to
GOLDEN/<fixture>/scan/: per-token head DLA, mover attention, mover DLA, losses, copy
counts, induction mask, induction scores, OV eigenvalue copying scores, frac_copy_argmax,
every quantile table, head_table.csv, and the §13 helpers (head-vocab vector, vocab table).
Quantiles use torch.quantile itself and means torch's own .mean() (CPU). See README.md.
Run with Debian's /usr/bin/python3.
"""
import argparse
import csv
import io
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neox_ref as nr  # noqa: E402  (our own model reference)
import gpt2_ref as g2  # noqa: E402  (GPT-2: conversion, processing, forward, gelu_new)
import llama_ref as lr  # noqa: E402  (Llama family: grouped K/V, RMSNorm, gated MLP)

torch.set_num_threads(1)

LEVELS13 = [0.0, 1e-3, 1e-2, 5e-2, 1e-1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]
LEVELS4 = [0.8, 0.9, 0.95, 0.99]
BATCH = 4
# fixture: (N, T, token seed, induction seq_len, induction batch, induction seed)
SCANS = {
    "neox-tiny-f32": dict(N=8, T=32, seed=2024, ind_seq=12, ind_batch=4, ind_seed=7),
    "neox-vocab-f16": dict(N=4, T=24, seed=2025, ind_seq=12, ind_batch=4, ind_seed=8),
    "gpt2-tiny-f32": dict(N=8, T=32, seed=2026, ind_seq=12, ind_batch=4, ind_seed=9),
    "gpt2-vocab-f16": dict(N=4, T=24, seed=2027, ind_seq=12, ind_batch=4, ind_seed=10),
    "llama-tiny-f32": dict(N=8, T=32, seed=2028, ind_seq=12, ind_batch=4, ind_seed=11),
    "qwen2-tiny-f32": dict(N=8, T=32, seed=2029, ind_seq=12, ind_batch=4, ind_seed=12),
    "llama3-tied-f32": dict(N=8, T=32, seed=2030, ind_seq=12, ind_batch=4, ind_seed=13),
    "llama-vocab-bf16": dict(N=4, T=24, seed=2031, ind_seq=12, ind_batch=4, ind_seed=14),
}
# tokenizer of the Llama-family fixtures (vocab_df strings; the induction pool of llama-vocab-bf16)
LLAMA_TOKENIZERS = {"llama-tiny-f32": ("llama2.tokenizer.json", 32000),
                    "qwen2-tiny-f32": ("qwen2.tokenizer.json", 151665),
                    "llama3-tied-f32": (lr.LLAMA3_TOKENIZER, 128256),
                    "llama-vocab-bf16": (lr.LLAMA3_TOKENIZER, 128256)}


class Family:
    """What differs between the model references: checkpoint reader, TL conversion and
    processing, hooked forward, block 0's activation (post_mlp_embed), BOS (= the token of
    column 0 and of the induction rows), the tokenizer (for the induction pool and the token
    strings) and how many ids it knows (ids beyond decode to "" in the vocab table)."""

    def __init__(self, name):
        self.llama = name in lr.FIXTURES
        self.W_V = lambda sd, l: sd[f"blocks.{l}.attn.W_V"]             # [H, M, D]
        self.col0_bos = True
        if self.llama:
            self.arch = arch = lr.FIXTURES[name][0]
            self.load, self.convert, self.process = lr.load_checkpoint, lr.tl_convert, lr.tl_process
            self.forward, self.act = lr.tl_forward, F.silu
            self.W_V = lambda sd, l: lr.W_V_full(sd, arch, l)             # TL's W_V: groups repeated
            # Qwen2: no BOS column in the scored rows (TL default_prepend_bos = False); its
            # induction rows start with bos_token_id (= eos, TL's stand-in for a missing BOS)
            self.col0_bos = lr.uses_bos(arch)
            self.bos = arch["bos"]
            self.tokenizer, self.tok_vocab = LLAMA_TOKENIZERS[name]
        elif name.startswith("gpt2"):
            self.arch = g2.FIXTURES[name][0]
            self.load, self.convert, self.process = g2.load_checkpoint, g2.tl_convert, g2.tl_process
            self.forward, self.act = g2.tl_forward, g2.gelu_new
            self.bos, self.tokenizer = self.arch["bos"], g2.TOKENIZER
            self.tok_vocab = 50257
        else:
            self.arch = nr.FIXTURES[name][0]
            self.load, self.convert, self.process = nr.load_checkpoint, nr.tl_convert, nr.tl_process
            self.forward, self.act = nr.tl_forward, F.gelu
            self.bos, self.tokenizer = 0, nr.NEOX_TOKENIZER
            self.tok_vocab = nr.TOKENIZER_VOCAB

    def scan_max_id(self, big):
        """scan tokens draw ids from 1..max_id-1 (never BOS, never past the tokenizer)."""
        V = self.arch["vocab"]
        hi = self.tok_vocab if big else V
        if self.llama:  # Llama-3: regular ids only (< 128000 = BOS); small fixtures: any id ≥ 1
            return min(hi, self.bos) if big else V
        return min(hi, self.bos) if self.bos > 0 else hi
FRAC_BLOCK = 512  # rows of the [V, V] OV-vocab matrix per block


# --------------------------------------------------------------------------------------
# Token sets
# --------------------------------------------------------------------------------------
def make_scan_tokens(N, T, seed, max_id, bos=0):
    """[N, T] int64, column 0 = BOS, ids in 1..max_id-1 elsewhere, built so that repeated tokens and
    repeated bigrams (num_copies > 0, induction_mask true) and novel tokens all occur:
    even rows draw from a small pool (many repeats), odd rows copy a random earlier segment
    of themselves (induction-like) with fresh random ids in between."""
    rng = np.random.default_rng(seed)
    toks = np.zeros((N, T), dtype=np.int64)
    for b in range(N):
        if b % 2 == 0:
            pool = rng.integers(1, max_id, 5 + b)
            toks[b, 1:] = pool[rng.integers(0, len(pool), T - 1)]
        else:
            row = rng.integers(1, max_id, T - 1)
            seg = 4 + (b % 3)
            src = rng.integers(0, (T - 1) // 2 - seg)
            dst = rng.integers((T - 1) // 2, T - 1 - seg)
            row[dst:dst + seg] = row[src:src + seg]
            toks[b, 1:] = row
    toks[:, 0] = bos if bos is not None else rng.integers(1, max_id, N)
    return toks


def make_ind_tokens(pool, batch, seq, seed, bos=0):
    """[batch, 1 + 2*seq] = [BOS, r_1..r_seq, r_1..r_seq], r = pool[randint] (analysis.md §8)."""
    rng = np.random.default_rng(seed)
    r = pool[rng.integers(0, len(pool), (batch, seq))]
    return np.concatenate([np.full((batch, 1), bos, dtype=np.int64), r, r], axis=1).astype(np.int64)


# --------------------------------------------------------------------------------------
# Metrics on one batch (analysis.md §1-§4, §10)
# --------------------------------------------------------------------------------------
def batch_metrics(fam, sd, arch, tokens, W_OU, dt=torch.float32):
    """tokens [B, T] torch int64 → dict of [L, H, B, T-1] metrics plus loss/copies/mask."""
    logits, hk = fam.forward(sd, arch, tokens, dt, processed=True)
    B, T = tokens.shape
    P = T - 1
    nL = arch["layers"]
    s = hk["ln_final.hook_scale"][:, :P, 0]                      # [B, P]
    nxt = tokens[:, 1:]                                            # [B, P] next tokens
    # next[b, p, j] = tok[b, p+1] == tok[b, j], p, j in 0..P-1
    nextm = (nxt[:, :, None] == tokens[:, None, :P])              # [B, P, P] bool
    head_dla, mover_attn, mover_dla = [], [], []
    for l in range(nL):
        z = hk[f"blocks.{l}.attn.hook_z"][:, :P]                   # [B, P, H, D]
        pat = hk[f"blocks.{l}.attn.hook_pattern"][:, :, :P, :P]    # [B, H, P, P]
        v = hk[f"blocks.{l}.attn.hook_v"][:, :P]                   # [B, P, H or KV, D]
        v = v.repeat_interleave(z.shape[2] // v.shape[2], dim=2)     # GQA: head h reads group h // G
        # gathered W_OU[l, h, :, tok[b, p+1]] → [B, P, H, D], divided by s first (notebook order)
        g = W_OU[l].permute(2, 0, 1)[nxt]                          # [B, P, H, D]
        g = g / s[:, :, None, None]
        head_dla.append(torch.einsum("bphd,bphd->hbp", z, g))
        fp = pat * nextm[:, None, :, :].to(pat.dtype)              # [B, H, P, P]
        mover_attn.append(fp.sum(-1).permute(1, 0, 2))             # [H, B, P]
        fz = torch.einsum("bjhd,bhpj->bphd", v, fp)                # [B, P, H, D]
        mover_dla.append(torch.einsum("bphd,bphd->hbp", fz, g))
    # Cross-check (direct logit attribution identity): processed weights writing to the residual
    # stream are centered, so logit[b, p, t] = (embed [+ pos_embed] + Σ_l attn_out_l + Σ_l mlp_out_l)·W_U[:, t] / s
    # + b_U[t] and Σ_h head_dla[l] = (attn_out_l − b_O_l)·W_U[:, t] / s.
    Wt = sd["unembed.W_U"].T[nxt]                                   # [B, P, M]
    total = hk["hook_embed"][:, :P].clone()
    if "hook_pos_embed" in hk:                                     # GPT-2's learned positions
        total = total + hk["hook_pos_embed"][:, :P]
    for l in range(nL):
        ao = hk[f"blocks.{l}.hook_attn_out"][:, :P]
        total = total + ao + hk[f"blocks.{l}.hook_mlp_out"][:, :P]
        via_out = ((ao - sd[f"blocks.{l}.attn.b_O"]) * Wt).sum(-1) / s
        d = float((head_dla[l].sum(0) - via_out).abs().max())
        nr.check(d <= 1e-4 * max(1.0, float(via_out.abs().max())), f"head_dla sum != attn_out DLA ({d:g})")
    lg = logits[:, :P].gather(-1, nxt[:, :, None])[..., 0]
    recon = (total * Wt).sum(-1) / s + sd["unembed.b_U"][nxt]
    d = float((lg - recon).abs().max())
    nr.check(d <= 1e-4 * max(1.0, float(lg.abs().max())), f"logit decomposition fails ({d:g})")
    # num_copies[b, p] = #{j <= p : tok[b, j] == tok[b, p+1]} (strictly-lower-triangular counts)
    eq = tokens[:, :, None] == tokens[:, None, :]                  # [B, T, T]
    low = torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)
    num_copies = (eq & low).sum(-1)[:, 1:].to(torch.int64)         # [B, P]
    # induction_mask[b, p] = exists j < p: tok[j] == tok[p] and tok[j+1] == tok[p+1]
    cur = tokens[:, :P]
    bigram = (cur[:, :, None] == cur[:, None, :]) & (nxt[:, :, None] == nxt[:, None, :])  # [B, p, j]
    ind_mask = (bigram & torch.tril(torch.ones(P, P, dtype=torch.bool), diagonal=-1)).any(-1)
    return dict(head_dla=torch.stack(head_dla), mover_attn=torch.stack(mover_attn),
                mover_dla=torch.stack(mover_dla), loss=nr.tl_loss(logits, tokens),
                num_copies=num_copies, induction_mask=ind_mask)


def all_metrics(fam, sd, arch, tokens, W_OU, batch, dt=torch.float32):
    parts = [batch_metrics(fam, sd, arch, tokens[i:i + batch], W_OU, dt) for i in range(0, len(tokens), batch)]
    out = {}
    for k in parts[0]:
        dim = 2 if k in ("head_dla", "mover_attn", "mover_dla") else 0
        out[k] = torch.cat([p[k] for p in parts], dim=dim)
    return out


# --------------------------------------------------------------------------------------
# Weight-only metrics (analysis.md §9)
# --------------------------------------------------------------------------------------
def post_mlp_embed(sd, act=F.gelu, eps=None):
    """E + MLP_0(LNPre(E)) with block 0's own activation (exact GELU for Pythia, gelu_new for GPT-2).
    eps given (Llama family): RMSPre (no centring) and the gated MLP
    (silu(x W_gate + b_gate) * (x W_in + b_up) + b_in) W_out + b_out."""
    E = sd["embed.W_E"]
    if eps is not None:
        x = E / (E.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        b = "blocks.0.mlp."
        post = act(x @ sd[b + "W_gate"] + sd[b + "b_gate"]) * (x @ sd[b + "W_in"] + sd[b + "b_up"]) + sd[b + "b_in"]
        return E + (post @ sd[b + "W_out"] + sd[b + "b_out"])
    x = E - E.mean(-1, keepdim=True)
    x = x / (x.pow(2).mean(-1, keepdim=True) + nr.EPS).sqrt()
    pre = x @ sd["blocks.0.mlp.W_in"] + sd["blocks.0.mlp.b_in"]
    return E + (act(pre) @ sd["blocks.0.mlp.W_out"] + sd["blocks.0.mlp.b_out"])


def copying_score(ev):
    """Re(Σλ / Σ|λ|) per head from complex eigenvalues [..., D]."""
    return (ev.sum(-1) / ev.abs().sum(-1)).real


def eigen_scores(sd, arch, act=F.gelu, W_V_of=None, rms_eps=None):
    nL = arch["layers"]
    W_V_of = W_V_of or (lambda sd_, l: sd_[f"blocks.{l}.attn.W_V"])
    W_V = torch.stack([W_V_of(sd, l) for l in range(nL)])                # [L, H, M, D]
    W_O = torch.stack([sd[f"blocks.{l}.attn.W_O"] for l in range(nL)])   # [L, H, D, M]
    W_U = sd["unembed.W_U"]
    pme = post_mlp_embed(sd, act, rms_eps)
    # model.OV = FM(W_V, W_O): eigenvalues of W_O @ W_V (D x D)
    ev_resid = torch.linalg.eig(W_O @ W_V).eigenvalues
    # pme @ OV @ W_U = FM(A = pme @ W_V, B = W_O @ W_U): eigenvalues of B @ A
    A = pme @ W_V                                                          # [L, H, V, D]
    Bm = W_O @ W_U                                                         # [L, H, D, V]
    ev_vocab = torch.linalg.eig(Bm @ A).eigenvalues
    return dict(eigenvals_resid=copying_score(ev_resid), eigenvals_vocab=copying_score(ev_vocab),
                ev_resid=ev_resid, ev_vocab=ev_vocab, A=A, B=Bm, post_mlp_embed=pme)


def frac_copy_argmax(A, Bm, block=FRAC_BLOCK, rel_tol=1e-5, diagnose=True):
    """fraction of rows i with argmax_j (A @ B)[i, j] == i (argmax = first index of the max),
    streamed in row blocks. With diagnose, also counts rows whose max is tied exactly and
    'fragile' rows where the diagonal entry and the best off-diagonal entry differ by at most
    rel_tol * max(|diag|, |best off-diagonal|) (there the argmax == i indicator could flip under
    another float32 summation order)."""
    L, H, V, D = A.shape
    frac = torch.zeros(L, H, dtype=A.dtype)
    count = np.zeros((L, H), dtype=np.int64)
    ties = np.zeros((L, H), dtype=np.int64)
    fragile = np.zeros((L, H), dtype=np.int64)
    for l in range(L):
        for h in range(H):
            hits = []
            for i0 in range(0, V, block):
                M = A[l, h, i0:i0 + block] @ Bm[l, h]                       # [rows, V]
                r = torch.arange(M.shape[0])
                rows = r + i0
                hits.append(M.argmax(-1) == rows)
                if not diagnose:
                    continue
                tv, ti = torch.topk(M, 2, dim=-1)
                ties[l, h] += int((tv[:, 0] == tv[:, 1]).sum())
                diag = M[r, rows]
                best_off = torch.where(ti[:, 0] == rows, tv[:, 1], tv[:, 0])
                tol = rel_tol * torch.maximum(diag.abs(), best_off.abs())
                fragile[l, h] += int(((diag - best_off).abs() <= tol).sum())
            hits = torch.cat(hits)
            frac[l, h] = hits.float().mean()
            count[l, h] = int(hits.sum())
    return frac.float(), count, ties, fragile


PRUNE_V = 65536      # vocabularies above this use frac_copy_argmax_pruned
PRUNE_SAMPLE = 2048  # columns sampled (seeded) to find witnesses


def frac_copy_argmax_pruned(A, Bm, rel_tol=1e-5, n_sample=PRUNE_SAMPLE, block=FRAC_BLOCK):
    """frac_copy_argmax without the full [V, V] product, exactly: row i is certainly NOT a hit when
    some sampled column j != i has M[i, j] > M[i, i] + rel_tol*max(|M[i, i]|, |M[i, j]|) (a witness
    beyond any summation-order doubt); every other row ("candidate") is computed in full as in
    frac_copy_argmax (argmax == i, exact ties, fragile rows). Returns the same values; tied_max_rows
    counts candidate rows only (ties elsewhere cannot change argmax == i). Also returns the hit
    indicator [L, H, V] (bool)."""
    L, H, V, D = A.shape
    cols = torch.from_numpy(np.sort(np.random.default_rng(12345).choice(V, min(V, n_sample), replace=False)))
    frac = torch.zeros(L, H, dtype=torch.float32)
    count, ties, fragile = (np.zeros((L, H), dtype=np.int64) for _ in range(3))
    all_hits = torch.zeros(L, H, V, dtype=torch.bool)
    for l in range(L):
        for h in range(H):
            a, b = A[l, h], Bm[l, h]
            bs = b[:, cols]
            cand = []
            for i0 in range(0, V, 4096):
                rows = torch.arange(i0, min(V, i0 + 4096))
                S = a[rows] @ bs                                            # [rows, n_sample]
                diag = (a[rows] * b[:, rows].T).sum(-1)
                S = torch.where(cols[None, :] == rows[:, None], torch.tensor(-math.inf, dtype=S.dtype), S)
                tol = rel_tol * torch.maximum(diag.abs()[:, None], S.abs())
                witness = (S > diag[:, None] + tol).any(-1)
                cand.append(rows[~witness])
            cand = torch.cat(cand)
            hits = torch.zeros(V, dtype=torch.bool)
            for c0 in range(0, len(cand), block):
                rows = cand[c0:c0 + block]
                M = a[rows] @ b                                              # [rows, V]
                r = torch.arange(len(rows))
                hits[rows] = M.argmax(-1) == rows
                tv, ti = torch.topk(M, 2, dim=-1)
                ties[l, h] += int((tv[:, 0] == tv[:, 1]).sum())
                dg = M[r, rows]
                best_off = torch.where(ti[:, 0] == rows, tv[:, 1], tv[:, 0])
                fragile[l, h] += int(((dg - best_off).abs() <= rel_tol * torch.maximum(dg.abs(), best_off.abs())).sum())
            frac[l, h] = hits.float().mean()
            count[l, h] = int(hits.sum())
            all_hits[l, h] = hits
    return frac, count, ties, fragile, all_hits


def check_pruned_rows(A, Bm, hits, n_rows=4096):
    """The pruned hit indicator equals the brute force's full-row argmax on n_rows seeded random
    rows plus every pruned hit, per head (a wrong witness would show up as a missed hit)."""
    L, H, V, D = A.shape
    sample = torch.from_numpy(np.random.default_rng(54321).choice(V, n_rows, replace=False))
    for l in range(L):
        for h in range(H):
            rows = torch.unique(torch.cat([sample, hits[l, h].nonzero()[:, 0]]))
            bf = torch.cat([(A[l, h][rows[i:i + FRAC_BLOCK]] @ Bm[l, h]).argmax(-1) == rows[i:i + FRAC_BLOCK]
                            for i in range(0, len(rows), FRAC_BLOCK)])
            nr.check(torch.equal(bf, hits[l, h][rows]), f"pruned frac_copy_argmax differs from full rows at L{l}H{h}")


def induction_scores(fam, sd, arch, ind_tokens, seq, dt=torch.float32):
    _, hk = fam.forward(sd, arch, ind_tokens, dt, processed=True)
    out = []
    for l in range(arch["layers"]):
        pat = hk[f"blocks.{l}.attn.hook_pattern"]                 # [B, H, T, T]
        stripe = pat.diagonal(offset=seq - 1, dim1=-1, dim2=-2)   # [B, H, seq+2]: dest - src = seq-1
        out.append(stripe.mean((0, -1)))
    return torch.stack(out)                                        # [L, H]


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------
def save(d, name, arr):
    nr.save_npy(os.path.join(d, name + ".npy"), arr)


def g9(x):
    return "%.9g" % float(x)


def run_scan(name, fixtures, golden, shared, modules):
    cfg = SCANS[name]
    fam = Family(name)
    arch = fam.arch
    w = fam.load(os.path.join(fixtures, name))    # the committed checkpoint itself
    sd = fam.process(fam.convert(w, arch, torch.float32), arch)
    sd64 = fam.process(fam.convert(w, arch, torch.float64), arch)  # for errors.json only
    errors = {"note": "float32 golden vs the same computation in float64 (see ../errors.json)"}
    L, H, V = arch["layers"], arch["heads"], arch["vocab"]
    big = V > 4096
    out = os.path.join(golden, name, "scan")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    tokens = torch.from_numpy(make_scan_tokens(cfg["N"], cfg["T"], cfg["seed"], fam.scan_max_id(big),
                                               fam.bos if fam.col0_bos else None))
    save(out, "tokens", tokens)
    N, T = tokens.shape
    P = T - 1

    W_O = torch.stack([sd[f"blocks.{l}.attn.W_O"] for l in range(L)])
    W_OU = W_O @ sd["unembed.W_U"]                                  # [L, H, D, V]
    W_OU64 = torch.stack([sd64[f"blocks.{l}.attn.W_O"] for l in range(L)]) @ sd64["unembed.W_U"]
    m = all_metrics(fam, sd, arch, tokens, W_OU, BATCH)
    m64 = all_metrics(fam, sd64, arch, tokens, W_OU64, BATCH, torch.float64)
    m1 = all_metrics(fam, sd, arch, tokens, W_OU, N)              # one batch: must agree
    for k in m:
        if m[k].dtype == torch.bool or m[k].dtype == torch.int64:
            nr.check(torch.equal(m[k], m1[k]), f"{name}: batching changes {k}")
        else:
            d = float((m[k] - m1[k]).abs().max())
            nr.check(d <= 1e-5 * max(1.0, float(m[k].abs().max())), f"{name}: batching changes {k} by {d:g}")
    for k in ("head_dla", "mover_attn", "mover_dla", "loss", "num_copies", "induction_mask"):
        save(out, k, m[k])
        if m[k].dtype.is_floating_point:
            errors[k] = nr.err_stats(m[k], m64[k])
    ratio = m["mover_dla"] / m["head_dla"]
    save(out, "ratio", ratio)
    ratio64 = m64["mover_dla"] / m64["head_dla"]
    fin = torch.isfinite(ratio) & torch.isfinite(ratio64)
    errors["ratio"] = nr.err_stats(ratio[fin], ratio64[fin])
    nr.check(bool((m["num_copies"] > 0).any()) and bool((m["num_copies"] == 0).any()), "num_copies trivial")
    nr.check(bool(m["induction_mask"].any()) and bool((~m["induction_mask"]).any()), "induction_mask trivial")
    # mover DLA is exactly 0 where the next token has no earlier copy
    nr.check(bool((m["mover_dla"][:, :, m["num_copies"] == 0] == 0).all()), "mover_dla nonzero without copies")

    # flatten (§5): [L*H, N*P], g = H*l + h, c = P*b + p
    flat = {k: m[k].reshape(L * H, N * P) for k in ("head_dla", "mover_attn", "mover_dla")}
    flat["ratio"] = ratio.reshape(L * H, N * P)
    keep = ~m["induction_mask"].flatten()
    noind = {k: v[:, keep] for k, v in flat.items()}
    flat64 = {k: m64[k].reshape(L * H, N * P) for k in ("head_dla", "mover_attn", "mover_dla")}
    flat64["ratio"] = ratio64.reshape(L * H, N * P)
    q64 = {}
    for k in flat64:
        q64[f"q90_{k}"] = torch.quantile(flat64[k], 0.9, dim=-1)
        q64[f"q95_noind_{k}"] = torch.quantile(flat64[k][:, keep], 0.95, dim=-1)
        for tag, lv in (("13", LEVELS13), ("4", LEVELS4)):
            q64[f"quantiles{tag}_{k}_all"] = torch.quantile(flat64[k], torch.tensor(lv, dtype=torch.float64), dim=-1)
            q64[f"quantiles{tag}_{k}_noind"] = torch.quantile(flat64[k][:, keep], torch.tensor(lv, dtype=torch.float64), dim=-1)
    q64["mover_over_head_q90"] = q64["q90_mover_dla"] / q64["q90_head_dla"]
    q = {}
    for k in flat:
        q[f"q90_{k}"] = torch.quantile(flat[k], 0.9, dim=-1)
        q[f"q95_noind_{k}"] = torch.quantile(noind[k], 0.95, dim=-1)
        q[f"quantiles13_{k}_all"] = torch.quantile(flat[k], torch.tensor(LEVELS13), dim=-1)
        q[f"quantiles13_{k}_noind"] = torch.quantile(noind[k], torch.tensor(LEVELS13), dim=-1)
        q[f"quantiles4_{k}_all"] = torch.quantile(flat[k], torch.tensor(LEVELS4), dim=-1)
        q[f"quantiles4_{k}_noind"] = torch.quantile(noind[k], torch.tensor(LEVELS4), dim=-1)
    q["mover_over_head_q90"] = q["q90_mover_dla"] / q["q90_head_dla"]
    for k, v in q.items():
        save(out, k, v)
        errors[k] = nr.err_stats(v, q64[k])

    # induction scores (§8) on a seeded ind_tokens set (the C side replays it: --induction-tokens)
    if big:
        cand = np.arange(1000, 10000)
        strs = nr.oracle_decode_each(cand, shared, modules, fam.tokenizer)
        pool = np.array([i for i, s in zip(cand, strs) if "  " not in s], dtype=np.int64)
        save(out, "induction_pool", pool)
    elif fam.bos == 0:
        pool = np.arange(1, V, dtype=np.int64)
    else:   # the whole vocabulary but BOS
        pool = np.array([i for i in range(1, V) if i != fam.bos], dtype=np.int64)
    ind_tokens = torch.from_numpy(make_ind_tokens(pool, cfg["ind_batch"], cfg["ind_seq"], cfg["ind_seed"], fam.bos))
    save(out, "ind_tokens", ind_tokens)
    ind = induction_scores(fam, sd, arch, ind_tokens, cfg["ind_seq"])
    save(out, "induction_scores", ind)
    errors["induction_scores"] = nr.err_stats(ind, induction_scores(fam, sd64, arch, ind_tokens, cfg["ind_seq"], torch.float64))

    # copying scores (§9)
    rms_eps = arch["eps"] if fam.llama else None
    e = eigen_scores(sd, arch, fam.act, fam.W_V, rms_eps)
    save(out, "eigenvals_resid", e["eigenvals_resid"])
    save(out, "eigenvals_vocab", e["eigenvals_vocab"])
    e64 = eigen_scores(sd64, arch, fam.act, fam.W_V, rms_eps)
    for k in ("eigenvals_resid", "eigenvals_vocab"):
        errors[k] = nr.err_stats(e[k], e64[k])
    if V > PRUNE_V:   # 128256² per head: the exact witness-pruned form (checked against full rows)
        frac, count, ties, fragile, hits = frac_copy_argmax_pruned(e["A"], e["B"])
        frac64, count64, _, _, _ = frac_copy_argmax_pruned(e64["A"], e64["B"])
        check_pruned_rows(e["A"], e["B"], hits)
    else:
        frac, count, ties, fragile = frac_copy_argmax(e["A"], e["B"])
        frac64, count64, _, _ = frac_copy_argmax(e64["A"], e64["B"], diagnose=False)
        if fam.llama:  # the pruned form must give the brute force's counts exactly
            fp, cp, _, gp, _ = frac_copy_argmax_pruned(e["A"], e["B"])
            nr.check(np.array_equal(cp, count) and torch.equal(fp, frac) and np.array_equal(gp, fragile),
                     f"{name}: pruned frac_copy_argmax differs from the brute force")
    save(out, "frac_copy_argmax", frac)
    save(out, "frac_copy_argmax_count", count)
    ties_info = {"note": "rows i of (post_mlp_embed @ W_V[l,h]) @ (W_O[l,h] @ W_U) per head [L][H]: "
                         "tied_max_rows = rows whose max value occurs more than once (argmax takes the "
                         "first); fragile_rows = rows where the diagonal and the best off-diagonal entry "
                         "differ by <= 1e-5*max(|diag|, |best off-diagonal|) (the argmax==i indicator "
                         "could flip with another summation order); count_f32/count_f64 = number of rows with argmax == i (frac = count / V) in float32 / float64",
                 "V": V, "tied_max_rows": ties.tolist(), "fragile_rows": fragile.tolist(),
                 "count_f32": count.tolist(), "count_f64": count64.tolist()}
    with open(os.path.join(out, "ties.json"), "w") as f:
        f.write(json.dumps(ties_info, indent=1) + "\n")

    # head table (§7, §11): rows g = H*l + h, sorted by mover_dla_no_ind descending (stable)
    cols = ["label", "L", "H", "head_dla", "mover_attn", "mover_dla", "dla_ratio", "induction",
            "eigenvals_vocab", "eigenvals_resid", "frac_copy_argmax", "head_dla_no_ind",
            "mover_attn_no_ind", "mover_dla_no_ind", "ratio_dla_no_ind"]
    rows = []
    for l in range(L):
        for h in range(H):
            g = H * l + h
            rows.append([f"L{l}H{h}", l, h, q["q90_head_dla"][g], q["q90_mover_attn"][g], q["q90_mover_dla"][g],
                         q["q90_ratio"][g], ind[l, h], e["eigenvals_vocab"][l, h], e["eigenvals_resid"][l, h],
                         frac[l, h], q["q95_noind_head_dla"][g], q["q95_noind_mover_attn"][g],
                         q["q95_noind_mover_dla"][g], q["q95_noind_ratio"][g]])
    keyv = [float(r[13]) for r in rows]
    nr.check(len(set(keyv)) == len(keyv), f"{name}: ties in mover_dla_no_ind make the table order ambiguous")
    rows.sort(key=lambda r: -float(r[13]))
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(cols)
    for r in rows:
        wr.writerow([r[0], r[1], r[2]] + [g9(x) for x in r[3:]])
    with open(os.path.join(out, "head_table.csv"), "w") as f:
        f.write(buf.getvalue())

    # §13 helpers: head-vocab vector z[b,p] @ W_OU[l,h] / scale[b,p] for the LAST position of
    # prompt b0 truncated to p0+1 tokens (like the notebook's pile_tokens[117, :197]), all heads
    b0, p0 = 1, T - 2
    sub = tokens[b0:b0 + 1, :p0 + 1]
    _, hk = fam.forward(sd, arch, sub, torch.float32, processed=True)
    scale = hk["ln_final.hook_scale"][0, p0, 0]
    hv = torch.stack([torch.einsum("hd,hdv->hv", hk[f"blocks.{l}.attn.hook_z"][0, p0], W_OU[l]) / scale
                      for l in range(L)])                                          # [L, H, V]
    top = torch.topk(hv, 20, dim=-1)
    bot = torch.topk(hv, 20, dim=-1, largest=False)
    save(out, "head_vocab_top20_ids", top.indices.to(torch.int64))
    save(out, "head_vocab_top20_values", top.values)
    save(out, "head_vocab_bottom20_ids", bot.indices.to(torch.int64))
    save(out, "head_vocab_bottom20_values", bot.values)
    if not big:
        save(out, "head_vocab", hv)
    # create_vocab_df(head_vocab[lv, hv_], make_probs=True): rows sorted by logit descending
    lv, hh = L - 1, 0
    vec = hv[lv, hh]
    order = torch.sort(vec, descending=True, stable=True).indices
    lp, pr = torch.log_softmax(vec, -1), torch.softmax(vec, -1)
    # pandas' quicksort order is undefined among equal logits: only the dumped top 50 must be tie-free
    # (with V = 50304 float32 values, exact duplicates elsewhere in the vector are expected)
    sv = vec[order][:51]
    nr.check(not bool((sv[1:] == sv[:-1]).any()), f"{name}: ties among the top-50 vocab_df rows")
    vocab_ties = int((vec[order][1:] == vec[order][:-1]).sum())
    top_ids = order[:50].tolist()
    dec = nr.oracle_decode_each(top_ids, shared, modules, fam.tokenizer)
    proc = [("" if i >= fam.tok_vocab else s).replace(" ", "\u00b7").replace("\n", "\u21a9\n").replace("\t", "\u2192")
            for i, s in zip(top_ids, dec)]
    vdf = {"source": f"head_vocab[{lv}, {hh}] (L{lv}H{hh}), tokens[{b0}, :{p0 + 1}], position {p0}",
           "rows": [{"id": i, "token": s, "logit": float(vec[i]), "log_prob": float(lp[i]),
                     "prob": float(pr[i])} for i, s in zip(top_ids, proc)]}
    with open(os.path.join(out, "vocab_df_top50.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vdf, indent=1, ensure_ascii=False) + "\n")

    # summary statistics (means as torch CPU .mean(), and the CUDA-style sum * fl32(1/n))
    n = m["num_copies"].numel()
    movable = (m["num_copies"] > 0)
    stats = {"N": N, "T": T, "batch": BATCH, "ind_seq_len": cfg["ind_seq"], "ind_batch": cfg["ind_batch"],
             "ind_seed": cfg["ind_seed"], "induction_pool_size": int(len(pool)),
             "head_vocab_b_p": [b0, p0], "vocab_df_head": [lv, hh], "vocab_df_equal_adjacent_logits": vocab_ties,
             "movable_count": int(movable.sum()),
             "mean_is_movable_cpu": float(movable.float().mean()),
             "mean_is_movable_sum_times_recip": float(np.float32(movable.sum().item()) * np.float32(1.0 / n)),
             "mean_not_induction": float((~m["induction_mask"]).float().mean()),
             "non_induction_columns": int(keep.sum())}
    with open(os.path.join(out, "stats.json"), "w") as f:
        f.write(json.dumps(stats, indent=1) + "\n")
    with open(os.path.join(out, "errors.json"), "w") as f:
        f.write(nr.fmt_json(errors))
    print(f"{name}: scan goldens in {out}; {stats}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", required=True, help="folder with the checkpoints (tests/fixtures)")
    ap.add_argument("--golden", required=True, help="golden root; writes GOLDEN/<fixture>/scan/")
    ap.add_argument("--only", action="append", choices=sorted(SCANS))
    ap.add_argument("--shared", default=os.path.join(nr.HERE, "..", "..", "..", "shared"))
    ap.add_argument("--oracle-modules", default=os.environ.get("ORACLE_NODE_MODULES"))
    a = ap.parse_args()
    for name in (a.only or list(SCANS)):
        run_scan(name, a.fixtures, a.golden, os.path.abspath(a.shared), a.oracle_modules)


if __name__ == "__main__":
    main()
