#!/usr/bin/python3
"""make_shuffle_fixtures.py — numpy's own Generator permutations, as fixtures for
tests/test_shuffle.c (numpy is the oracle: HF datasets' Dataset.shuffle(seed) is
numpy.random.default_rng(seed).permutation(n)).

Run from the repository root with Debian's numpy (1.24.2 here):
    /usr/bin/python3 tests/reference/make_shuffle_fixtures.py tests/data/shuffle
Writes perm_s<seed>_n<n>.npy (int64) for small cases and hashes.txt with
"<seed> <n> <sha256 of the int64 little-endian permutation>" for large ones.
"""
import hashlib
import os
import sys

import numpy as np

SMALL = [(0, 1), (42, 2), (42, 10), (1, 17), (7, 100), (2**32 + 5, 50), (2**64 - 1, 33), (12345, 1000)]
LARGE = [(42, 60194), (0, 100000), (123, 65537), (2**40 + 3, 3948)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for seed, n in SMALL:
        p = np.random.default_rng(seed).permutation(n).astype("<i8")
        np.save(os.path.join(out, f"perm_s{seed}_n{n}.npy"), p)
    with open(os.path.join(out, "hashes.txt"), "w") as f:
        f.write(f"# seed n sha256(int64 LE) — numpy {np.__version__} default_rng(seed).permutation(n)\n")
        for seed, n in LARGE:
            p = np.random.default_rng(seed).permutation(n).astype("<i8")
            f.write(f"{seed} {n} {hashlib.sha256(p.tobytes()).hexdigest()}\n")


if __name__ == "__main__":
    main()
