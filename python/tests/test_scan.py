"""headscan.scan through Python against `headscan scan` on the same inputs: every output
file byte for byte (manifest.json too, once the run-dependent timings and peak RSS are
set aside), the DataFrame against the CLI's head_table.csv, load_scan round trips."""
import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

import headscan
from conftest import TOY_DATA, TOY_MODEL, fixture_dir, golden_dir

RUN_DEPENDENT = ("timings_s", "timings_load_s", "peak_rss_bytes")


def run_cli(cli, *args):
    p = subprocess.run([cli, "scan", "--top", "0", *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p


def manifest_without_timings(path):
    with open(path) as f:
        m = json.load(f)
    for k in RUN_DEPENDENT:
        assert k in m
        m.pop(k)
    return m


def assert_same_outputs(a, b, manifest=True):
    fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
    assert fa == fb
    assert "head_table.csv" in fa and "tokens.npy" in fa
    for f in fa:
        if f == "manifest.json":
            continue
        with open(os.path.join(a, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
            assert x.read() == y.read(), f"{f} differs"
    if manifest:
        assert manifest_without_timings(os.path.join(a, "manifest.json")) == \
            manifest_without_timings(os.path.join(b, "manifest.json"))


def test_dataset_scan_equals_cli(cli, toy, tmp_path):
    run_cli(cli, "--model", TOY_MODEL, "--dataset", TOY_DATA, "--prompts", "24", "--batch", "8", "--out",
            str(tmp_path / "cli"))
    s = headscan.scan(toy, dataset=TOY_DATA, prompts=24, batch=8, progress=False)
    s.save(tmp_path / "py")
    assert_same_outputs(tmp_path / "cli", tmp_path / "py")
    # the DataFrame is the CLI's table: same columns (from the library), rows and values
    df, ref = s.head_table, pd.read_csv(tmp_path / "cli" / "head_table.csv")
    assert list(df.columns) == headscan.column_names() == list(ref.columns)
    assert list(df.columns[:3]) == ["label", "L", "H"]
    assert list(df["label"]) == list(ref["label"])
    assert (df["L"] == ref["L"]).all() and (df["H"] == ref["H"]).all()
    for c in df.columns[3:]:
        np.testing.assert_array_equal(df[c].to_numpy(np.float32), ref[c].to_numpy(np.float32))
    # the in-memory manifest is the one written
    assert {k: v for k, v in s.manifest.items() if k not in RUN_DEPENDENT} == \
        manifest_without_timings(tmp_path / "py" / "manifest.json")
    # arrays are the files' contents
    for name, a in s.arrays.items():
        np.testing.assert_array_equal(a, np.load(tmp_path / "cli" / f"{name}.npy"))
        assert not a.flags.writeable
    assert s.arrays["head_dla"].shape == (2, 4, 24, 255)


def test_tokens_file_scan_equals_cli_on_fixture(cli, tmp_path):
    g = os.path.join(golden_dir("neox-tiny-f32"), "scan")
    tok, ind = os.path.join(g, "tokens.npy"), os.path.join(g, "ind_tokens.npy")
    run_cli(cli, "--model", fixture_dir("neox-tiny-f32"), "--tokens", tok, "--induction-tokens", ind, "--batch", "4",
            "--prompts", "0", "--out", str(tmp_path / "cli"))
    m = headscan.Model.from_pretrained(fixture_dir("neox-tiny-f32"))
    s = headscan.scan(m, tokens=tok, induction_tokens=ind, batch=4, prompts=0, progress=False)
    s.save(tmp_path / "py")
    assert_same_outputs(tmp_path / "cli", tmp_path / "py")
    # the same tokens as an array: identical outputs, the manifest says "array"
    s2 = headscan.scan(m, tokens=np.load(tok), induction_tokens=np.load(ind), batch=4, prompts=0, progress=False)
    s2.save(tmp_path / "arr")
    assert_same_outputs(tmp_path / "cli", tmp_path / "arr", manifest=False)
    assert s2.manifest["input"]["kind"] == "array"


def test_options_reach_the_scan(cli, toy, tmp_path):
    # skip, induction seed/length, n_ctx cut of token rows, sort: as the CLI's options
    toks = toy.to_tokens(["the cat sat on the mat " * 30] * 6)[:, :64]
    np.save(tmp_path / "t.npy", toks)
    run_cli(cli, "--model", TOY_MODEL, "--tokens", str(tmp_path / "t.npy"), "--n-ctx", "40", "--skip",
            "frac_copy_argmax,eigenvalues", "--induction-seed", "7", "--induction-len", "9", "--sort", "head_dla",
            "--prompts", "5", "--out", str(tmp_path / "cli"))
    s = headscan.scan(toy, tokens=str(tmp_path / "t.npy"), n_ctx=40, skip=("frac_copy_argmax", "eigenvalues"),
                      induction_seed=7, induction_len=9, sort="head_dla", prompts=5, progress=False)
    s.save(tmp_path / "py")
    assert_same_outputs(tmp_path / "cli", tmp_path / "py")
    assert np.isnan(s.arrays["eigenvals_vocab"]).all()
    assert s.arrays["tokens"].shape == (5, 40)


@pytest.fixture(scope="module")
def toy_tokens(toy):
    with open(TOY_DATA) as f:
        texts = [json.loads(next(f))["text"] for _ in range(8)]
    return toy.to_tokens(texts)[:, :48]


def test_load_scan_round_trip(toy, toy_tokens, tmp_path):
    s = headscan.scan(toy, tokens=toy_tokens, progress=False)
    s.save(tmp_path / "a")
    back = headscan.load_scan(tmp_path / "a")
    pd.testing.assert_frame_equal(back.head_table, s.head_table, check_exact=True)
    assert sorted(back.arrays) == sorted(s.arrays)
    for k in s.arrays:
        np.testing.assert_array_equal(back.arrays[k], s.arrays[k])
    for k, q in s.quantiles.items():
        pd.testing.assert_frame_equal(back.quantiles[k], q, check_exact=True)
    assert back.manifest == json.load(open(tmp_path / "a" / "manifest.json"))
    back.save(tmp_path / "b")
    assert_same_outputs(tmp_path / "a", tmp_path / "b")
    info = back.report(tmp_path / "r.html")
    assert os.path.getsize(tmp_path / "r.html") == info["bytes"] > 1000
    info = s.report(tmp_path / "r2.html")
    assert info["bytes"] > 1000


def test_progress_callback_and_tqdm_bar(toy, toy_tokens, capsys):
    seen = []
    headscan.scan(toy, tokens=toy_tokens, batch=4, progress=lambda st, d, t: seen.append((st, d, t)))
    assert ("forward", 4, 8) in seen and ("forward", 8, 8) in seen
    headscan.scan(toy, tokens=toy_tokens, batch=4, progress=False, skip=("frac_copy_argmax",))
    assert capsys.readouterr().err == ""
    headscan.scan(toy, tokens=toy_tokens, batch=4, skip=("frac_copy_argmax",))
    assert "forward" in capsys.readouterr().err


def test_examples_study_runs(tmp_path):
    import sys
    from conftest import ROOT
    p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "study.py")], cwd=tmp_path,
                       capture_output=True, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert p.returncode == 0, p.stderr
    assert "label" in p.stdout and "L1H" in p.stdout
    assert (tmp_path / "study-scan" / "head_table.csv").exists()
    assert (tmp_path / "study.png").exists() or (tmp_path / "study-report.html").exists()
