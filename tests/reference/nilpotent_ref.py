#!/usr/bin/python3
"""nilpotent_ref.py — a GPT-2-shaped checkpoint whose L0H0 OV circuit is nilpotent by design,
and the torch goldens of its OV eigenvalue copying scores (analysis.md §9) and their Σ|λ|.

The checkpoint is gpt2_ref.py's tiny GPT-2 (vocab 512, d_model 64, 4 heads × 16, 2 layers;
its own seed) with the rows of h.0.attn.c_proj.weight that belong to head 0 (HF W_O[0])
projected, in float64, onto the orthogonal complement of the columns of
  Y = W_V[0,0]                              (TL-processed: LN folded, centered) and
  K = C · W_U · post_mlp_embed · W_V[0,0]   (C = I − 11ᵀ/d_model, TL's W_O centering),
so that in exact arithmetic on the processed weights (model.md §4)
  W_O[0,0] @ W_V[0,0] = 0                   ⇒ the OV matrix W_V W_O is nilpotent, (W_V W_O)² = 0,
  (W_O[0,0] @ W_U) @ (pme @ W_V[0,0]) = 0   ⇒ the vocab circuit too.
What is left after float32 storage and processing is rounding noise, so both eigenvalue
scores Re(Σλ / Σ|λ|) of L0H0 are meaningless (|Σ|λ|| ~ 1e-6 of the median head's), which is
what headscan must flag as ill-conditioned (Σ|λ| < 1e-3 × the median head's Σ|λ|; the median
is torch.median's: the lower middle value for an even count).

Writes OUT/gpt2-nilpotent-f32/ (config.json + model.safetensors via gpt2_ref.py) and
GOLDEN/gpt2-nilpotent-f32/eigen/: eigenvals_{resid,vocab}.npy and
eigenvals_{resid,vocab}_abs_sum.npy [L, H] (float32, torch.linalg.eig on the float32 processed
weights, as metrics_ref.py), ill_conditioned.json (median, threshold, flagged heads) and
errors.json (float32 vs float64). Seeded: a re-run is byte-identical.
Run with Debian's /usr/bin/python3; make_fixtures.sh runs it.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neox_ref as nr  # noqa: E402
import gpt2_ref as g2  # noqa: E402
import metrics_ref as mr  # noqa: E402

torch.set_num_threads(1)

NAME = "gpt2-nilpotent-f32"
ARCH = g2.TINY
SEED = 4242
REL = 1e-3  # ill-conditioned: Σ|λ| < REL × median head's Σ|λ|


def processed(w, dt):
    return g2.tl_process(g2.tl_convert(w, ARCH, dt), ARCH)


def make_weights():
    w = g2.make_weights(ARCH, SEED)
    sd = processed(w, torch.float64)   # W_V, W_U, post_mlp_embed do not depend on block 0's W_O
    M, D = ARCH["d"], ARCH["d"] // ARCH["heads"]
    Y = sd["blocks.0.attn.W_V"][0]                                  # [M, D]
    pme = mr.post_mlp_embed(sd, g2.gelu_new)                        # [V, M]
    C = torch.eye(M, dtype=torch.float64) - 1.0 / M
    K = C @ sd["unembed.W_U"] @ pme @ Y                             # [M, D]
    Q, _ = torch.linalg.qr(torch.cat([Y, K], 1))                    # orthonormal basis of span(Y, K)
    Wo = torch.from_numpy(w["h.0.attn.c_proj.weight"].astype(np.float64))
    Wo[:D] = Wo[:D] - (Wo[:D] @ Q) @ Q.T                            # head 0's rows ⟂ span(Y, K)
    w["h.0.attn.c_proj.weight"] = Wo.numpy().astype(np.float32)
    return w


def abs_sums(e):
    return e["ev_resid"].abs().sum(-1), e["ev_vocab"].abs().sum(-1)


def ill_info(a):
    flat = a.flatten()
    med = float(torch.median(flat))
    ill = [f"L{g // ARCH['heads']}H{g % ARCH['heads']}" for g in range(flat.numel()) if float(flat[g]) < REL * med]
    return {"median": med, "threshold": REL * med, "ill_conditioned": ill}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="checkpoint root (tests/fixtures)")
    ap.add_argument("--golden", required=True, help="golden root (tests/golden)")
    a = ap.parse_args()
    w = make_weights()
    cdir = os.path.join(a.out, NAME)
    if os.path.isdir(cdir):
        shutil.rmtree(cdir)
    g2.write_checkpoint(cdir, ARCH, w, "F32", "", False)
    back = g2.load_checkpoint(cdir)
    nr.check(all(np.array_equal(back[k], w[k]) for k in w), f"{NAME}: safetensors read-back differs")
    e = mr.eigen_scores(processed(back, torch.float32), ARCH, g2.gelu_new)
    e64 = mr.eigen_scores(processed(back, torch.float64), ARCH, g2.gelu_new)
    (ar, av), (ar64, av64) = abs_sums(e), abs_sums(e64)
    gdir = os.path.join(a.golden, NAME, "eigen")
    if os.path.isdir(gdir):
        shutil.rmtree(gdir)
    os.makedirs(gdir)
    out = {"eigenvals_resid": e["eigenvals_resid"], "eigenvals_vocab": e["eigenvals_vocab"],
           "eigenvals_resid_abs_sum": ar, "eigenvals_vocab_abs_sum": av}
    ref = {"eigenvals_resid": e64["eigenvals_resid"], "eigenvals_vocab": e64["eigenvals_vocab"],
           "eigenvals_resid_abs_sum": ar64, "eigenvals_vocab_abs_sum": av64}
    errors = {"note": "float32 golden vs float64; L0H0's scores are rounding noise by design (excluded)"}
    for k, v in out.items():
        mr.save(gdir, k, v)
        keep = torch.ones_like(v, dtype=torch.bool)
        keep[0, 0] = False
        errors[k] = nr.err_stats(v[keep], ref[k][keep])
    info = {"rule": f"Σ|λ| < {REL:g} × median over heads of Σ|λ| (torch.median: lower middle)",
            "eigenvals_resid": ill_info(ar), "eigenvals_vocab": ill_info(av)}
    for k in ("eigenvals_resid", "eigenvals_vocab"):
        nr.check(info[k]["ill_conditioned"] == ["L0H0"], f"{NAME}: {k} flags {info[k]['ill_conditioned']}, want L0H0 only")
        # the float64 abs sum shows the rounding-noise origin: L0H0's is tiny there too
        nr.check(float(ref[k + "_abs_sum"][0, 0]) < REL * info[k]["median"], f"{NAME}: {k} float64 abs sum not tiny")
    with open(os.path.join(gdir, "ill_conditioned.json"), "w") as f:
        f.write(json.dumps(info, indent=1) + "\n")
    with open(os.path.join(gdir, "errors.json"), "w") as f:
        f.write(nr.fmt_json(errors))
    print(f"{NAME}: L0H0 resid {float(out['eigenvals_resid'][0, 0]):.4g} (Σ|λ| {float(ar[0, 0]):.3g}, "
          f"median {info['eigenvals_resid']['median']:.3g}); vocab {float(out['eigenvals_vocab'][0, 0]):.4g} "
          f"(Σ|λ| {float(av[0, 0]):.3g}, median {info['eigenvals_vocab']['median']:.3g})")


if __name__ == "__main__":
    main()
