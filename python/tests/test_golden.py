"""Logits, loss and cached hooks through Python against the torch reference goldens
(tests/reference/*_ref.py), with the C tests' tolerance (tests/test_model_golden.c):
tol = 4·e32 + 16·ε·max|ref| per array, e32 being the reference's own float32-vs-float64
max error for that array (errors.json) and ε = 2^-23: our float32 result and the
reference's differ from the exact value by errors of the same order (same precision,
different reduction order). Masked attention scores (TL's -1e5) must match exactly."""
import json
import os

import numpy as np
import pytest

import headscan
from conftest import fixture_dir, golden_dir

EPS = float(np.finfo(np.float32).eps)


def load_errors(name):
    with open(os.path.join(golden_dir(name), "errors.json")) as f:
        return json.loads(f.read().replace("NaN", "0"))


def e32(errors, section, name):
    return errors[section][name]["max_abs_err"]


def check(ours, ref, e):
    assert ours.dtype == np.float32
    assert ours.shape == ref.shape
    masked = ref == np.float32(-100000.0)
    assert np.array_equal(ours[masked], ref[masked]), "masked attention scores differ from -1e5"
    r = ref[~masked].astype(np.float64)
    d = np.abs(ours[~masked].astype(np.float64) - r)
    tol = 4 * e + 16 * EPS * (np.abs(r).max() if r.size else 0.0)
    assert d.max(initial=0.0) <= tol, f"max |diff| {d.max():.3g} > tol {tol:.3g}"


@pytest.mark.parametrize("name", ["neox-tiny-f32", "gpt2-tiny-f32"])
def test_logits_loss_and_every_hook(name):
    m = headscan.Model.from_pretrained(fixture_dir(name))
    errors = load_errors(name)
    g = golden_dir(name)
    tokens = np.load(os.path.join(g, "tokens.npy"))
    logits, cache = m.run_with_cache(tokens)
    check(logits, np.load(os.path.join(g, "logits.npy")), e32(errors, "outputs", "logits"))
    hooks = sorted(f[:-4] for f in os.listdir(os.path.join(g, "hooks")) if f.endswith(".npy"))
    assert sorted(cache) == hooks, "the full cache holds exactly the reference's hooks"
    for h in hooks:
        check(cache[h], np.load(os.path.join(g, "hooks", h + ".npy")), e32(errors, "hooks", h))
    per_token = m(tokens, return_type="loss", loss_per_token=True)
    ref_loss = np.load(os.path.join(g, "loss.npy"))
    check(per_token, ref_loss, e32(errors, "outputs", "loss"))
    mean = m(tokens, return_type="loss")
    assert mean.shape == () and mean.dtype == np.float32
    assert abs(float(mean) - ref_loss.astype(np.float64).mean()) <= 4 * e32(errors, "outputs", "loss") + 16 * EPS * np.abs(ref_loss).max()
    both_logits, both_loss = m(tokens, return_type="both")
    assert np.array_equal(both_logits, logits) and both_loss == mean
    assert np.array_equal(m(tokens), logits)


@pytest.mark.parametrize("name", ["neox-tiny-f32", "gpt2-tiny-f32"])
def test_no_processing_equals_huggingface(name):
    m = headscan.Model.from_pretrained(fixture_dir(name), fold_ln=False, center_writing_weights=False,
                                       center_unembed=False, fold_value_biases=False)
    g = golden_dir(name)
    ours = m(np.load(os.path.join(g, "tokens.npy")))
    check(ours, np.load(os.path.join(g, "hf_logits.npy")), e32(load_errors(name), "outputs", "hf_logits"))


@pytest.mark.parametrize("name", ["neox-vocab-f16", "gpt2-vocab-f16"])
def test_vocab_sized_top10_and_logsumexp(name):
    m = headscan.Model.from_pretrained(fixture_dir(name))
    g = golden_dir(name)
    errors = load_errors(name)
    logits = m(np.load(os.path.join(g, "tokens.npy")))
    top = np.load(os.path.join(g, "top10.npy"))
    # the golden's smallest gap between ranks exceeds twice the tolerance, so ranks are exact
    flat = logits.reshape(-1, logits.shape[-1])
    order = np.argsort(-flat, axis=1, kind="stable")[:, :10]
    assert np.array_equal(order.reshape(top.shape), top)
    picked = np.take_along_axis(logits, top, axis=-1)
    e = e32(errors, "outputs", "logits")
    ref = np.load(os.path.join(g, "top10_logits.npy"))
    assert np.abs(picked.astype(np.float64) - ref).max() <= 4 * e + 16 * EPS * np.abs(ref).max()
    lse = np.log(np.exp(flat.astype(np.float64) - flat.max(1, keepdims=True)).sum(1)) + flat.max(1)
    ref = np.load(os.path.join(g, "logsumexp.npy")).reshape(-1)
    assert np.abs(lse - ref).max() <= 4 * e32(errors, "outputs", "logsumexp") + 16 * EPS * np.abs(ref).max()
    check(m(np.load(os.path.join(g, "tokens.npy")), return_type="loss", loss_per_token=True),
          np.load(os.path.join(g, "loss.npy")), e32(errors, "outputs", "loss"))


def test_processed_weights():
    m = headscan.Model.from_pretrained(fixture_dir("neox-tiny-f32"))
    g = os.path.join(golden_dir("neox-tiny-f32"), "weights")
    errors = load_errors("neox-tiny-f32")
    names = sorted(f[:-4] for f in os.listdir(g) if f.endswith(".npy"))
    assert names
    for n in names:
        check(m.weight(n), np.load(os.path.join(g, n + ".npy")), e32(errors, "weights", n))
