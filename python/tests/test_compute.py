"""compute="bf16": the weight GEMMs in bfloat16 (oneDNN). Bad values raise ValueError; on a
CPU without AVX512_BF16/AMX headscan.Error says why; elsewhere the logits stay within the
bf16 deviation test_compute_bf16.c derives, and compute_deviation reports it."""
import os

import numpy as np
import pytest

import headscan
from conftest import GOLDEN, fixture_dir


def _has_bf16():
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@pytest.fixture(scope="module")
def neox():
    return headscan.Model.from_pretrained(fixture_dir("neox-tiny-f32"))


def test_bad_compute(neox):
    tok = np.load(os.path.join(GOLDEN, "neox-tiny-f32", "tokens.npy"))
    with pytest.raises(ValueError, match="expected f32 or bf16"):
        neox(tok, compute="fp16")


@pytest.mark.skipif(_has_bf16(), reason="this CPU has AVX512_BF16: bf16 runs")
def test_bf16_refused_without_avx512_bf16(neox):
    tok = np.load(os.path.join(GOLDEN, "neox-tiny-f32", "tokens.npy"))
    with pytest.raises(headscan.Error, match="AVX512_BF16 or AMX"):
        neox(tok, compute="bf16")


@pytest.mark.skipif(not _has_bf16(), reason="needs AVX512_BF16 or AMX")
def test_bf16_logits(neox):
    tok = np.load(os.path.join(GOLDEN, "neox-tiny-f32", "tokens.npy"))
    ref = np.load(os.path.join(GOLDEN, "neox-tiny-f32", "logits.npy"))
    l32 = neox(tok)
    l16, cache = neox.run_with_cache(tok, names_filter="ln_final.hook_normalized", compute="bf16")
    assert np.array_equal(neox(tok), l32)   # float32 unchanged after a bf16 pass
    d = np.abs(l16.astype(np.float64) - ref)
    assert d.max() > 0   # bf16 really ran
    # test_compute_bf16.c (B): kappa * G * 2u * S, S = max_tv sum_m |x_tm| |W_U[m, v]|
    x = cache["ln_final.hook_normalized"].reshape(-1, neox.cfg.d_model).astype(np.float64)
    S = (np.abs(x) @ np.abs(neox.W_U.astype(np.float64))).max()
    assert d.max() <= 4 * (4 * neox.cfg.n_layers + 1) * 2 * 2.0 ** -9 * S
    dev = neox.compute_deviation(tok, compute="bf16")
    assert dev["sequences"] == tok.shape[0] and 0 < dev["max_abs_logit"] < 0.05 * dev["max_logit"]
    assert dev["max_abs_loss"] <= 2 * dev["max_abs_logit"]


@pytest.mark.skipif(not _has_bf16(), reason="needs AVX512_BF16 or AMX")
def test_scan_bf16_manifest(neox):
    tok = np.load(os.path.join(GOLDEN, "neox-tiny-f32", "tokens.npy"))
    s = headscan.scan(neox, tokens=tok, batch=2, skip=("frac_copy_argmax", "eigenvalues", "induction"), progress=False,
                      compute="bf16")
    m = s.manifest
    assert m["options"]["compute"] == "bf16"
    d = m["compute_deviation"]
    assert d["sequences"] == 2 and d["tokens"] == tok.shape[1] and 0 < d["max_abs_logit"] < 0.05 * d["max_logit"]
    with pytest.raises(ValueError, match="expected f32 or bf16"):
        headscan.scan(neox, tokens=tok, progress=False, compute="half")
