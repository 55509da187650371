#!/usr/bin/python3
"""quantile_ref.py — torch.quantile goldens for headscan's hs_quantile_f32 (analysis.md §6).

Writes tests/golden/quantile/cases.npz-like .npy files: for each case k,
  row_<k>.npy    float32 [n]   the input row (NaN / ±inf / duplicates / -0.0 included)
  out_<k>.npy    float32 [q]   torch.quantile(row, levels_<k>) (levels as a float32 tensor)
  levels_<k>.npy float32 [q]
  scalar_<k>.npy float32 [2]   torch.quantile(row, 0.9) and (row, 0.95) with Python-float q
Run with Debian's /usr/bin/python3 (torch 1.13): /usr/bin/python3 tests/reference/quantile_ref.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch

LEVELS13 = [0.0, 1e-3, 1e-2, 5e-2, 1e-1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]


def cases():
    rng = np.random.default_rng(123)
    out = []
    out.append(rng.standard_normal(73440).astype(np.float32))                    # the study's row length
    out.append(rng.standard_normal(6013).astype(np.float32) * 1e-3)             # a non-induction length
    out.append(np.array([3.0], dtype=np.float32))                                 # n = 1
    out.append(np.array([2.0, -1.0], dtype=np.float32))
    r = rng.integers(-3, 4, 1001).astype(np.float32)                              # many ties
    out.append(r)
    r = rng.standard_normal(5000).astype(np.float32)
    r[::97] = np.inf
    r[::131] = -np.inf                                                            # ±inf: lerp gives inf / NaN
    out.append(r)
    r = rng.standard_normal(777).astype(np.float32)
    r[13] = np.nan                                                                # any NaN → rank n-1 → NaN
    out.append(r)
    r = np.zeros(300, dtype=np.float32)
    r[::2] = -0.0
    r[5] = 1e-30
    out.append(r)
    r = (rng.standard_normal(2000) * 1e4).astype(np.float32)
    r[:50] = np.inf                                                              # +inf at the top
    out.append(r)
    out.append(np.exp(rng.standard_normal(4099) * 5).astype(np.float32))         # wide dynamic range
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/quantile"
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    for k, row in enumerate(cases()):
        lv = LEVELS13 + [0.8] + list(rng.random(6))
        t = torch.from_numpy(row)
        q = torch.tensor(lv, dtype=torch.float32)
        res = torch.quantile(t, q)
        sc = torch.stack([torch.quantile(t, 0.9), torch.quantile(t, 0.95)])
        np.save(os.path.join(d, f"row_{k}.npy"), row)
        np.save(os.path.join(d, f"levels_{k}.npy"), q.numpy())
        np.save(os.path.join(d, f"out_{k}.npy"), res.numpy())
        np.save(os.path.join(d, f"scalar_{k}.npy"), sc.numpy())
    print(f"{len(cases())} cases in {d}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
