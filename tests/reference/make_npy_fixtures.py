#!/usr/bin/python3
"""make_npy_fixtures.py — small .npy files written by numpy itself, read back by
tests/test_npy.c (which knows the values: each array is arange-based, below).

Usage: /usr/bin/python3 tests/reference/make_npy_fixtures.py tests/data/npy
"""
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "i4_2x3.npy"), np.arange(6, dtype="<i4").reshape(2, 3) - 3)
    np.save(os.path.join(out, "i8_5.npy"), np.arange(5, dtype="<i8") * 1000000000000 - 7)
    np.save(os.path.join(out, "f4_2x2x2.npy"), (np.arange(8, dtype="<f4") / 4 - 0.5).reshape(2, 2, 2))
    np.save(os.path.join(out, "f8_3.npy"), np.array([0.1, -2.5, 1e300], dtype="<f8"))
    np.save(os.path.join(out, "u1_4.npy"), np.array([0, 1, 254, 255], dtype="u1"))
    np.save(os.path.join(out, "b1_3.npy"), np.array([True, False, True]))
    np.save(os.path.join(out, "f2_3.npy"), np.array([1.0, -0.5, 65504.0], dtype="<f2"))
    np.save(os.path.join(out, "i8_scalar.npy"), np.array(42, dtype="<i8"))
    np.save(os.path.join(out, "i8_0x4.npy"), np.zeros((0, 4), dtype="<i8"))
    np.lib.format.write_array(open(os.path.join(out, "i4_v2_3.npy"), "wb"),
                              np.array([7, 8, 9], dtype="<i4"), version=(2, 0))
    # refused cleanly
    np.save(os.path.join(out, "bad_fortran.npy"), np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)))
    np.save(os.path.join(out, "bad_bigendian.npy"), np.arange(3, dtype=">i4"))
    np.save(os.path.join(out, "bad_structured.npy"), np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
    np.save(os.path.join(out, "bad_unicode.npy"), np.array(["ab", "c"]))


if __name__ == "__main__":
    main()
