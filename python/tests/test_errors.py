"""Errors arrive as Python exceptions carrying headscan's message; the interpreter survives."""
import json
import os
import shutil

import numpy as np
import pytest

import headscan
from conftest import TOY_DATA, TOY_MODEL, fixture_dir


def test_error_class():
    assert issubclass(headscan.Error, RuntimeError)


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        headscan.Model.from_pretrained(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        headscan.Model.from_pretrained(tmp_path / "nope", offline=True)


def test_malformed_config(tmp_path):
    shutil.copy(os.path.join(fixture_dir("neox-tiny-f32"), "model.safetensors"), tmp_path)
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises((headscan.Error, ValueError), match="config.json"):
        headscan.Model.from_pretrained(str(tmp_path))


def test_unsupported_config(tmp_path):
    shutil.copy(os.path.join(fixture_dir("neox-tiny-f32"), "model.safetensors"), tmp_path)
    cfg = json.load(open(os.path.join(fixture_dir("neox-tiny-f32"), "config.json")))
    cfg["model_type"] = "mamba"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(headscan.Error, match="mamba"):
        headscan.Model.from_pretrained(str(tmp_path))


def test_bad_tokens(toy):
    with pytest.raises(ValueError, match="vocabulary"):
        toy(np.array([[0, 5, 4096]]))
    with pytest.raises(ValueError, match="vocabulary"):
        toy(np.array([[0, -1]]))
    with pytest.raises(ValueError, match="context"):
        toy(np.zeros((1, toy.cfg.n_ctx + 1), dtype=np.int64))
    with pytest.raises(ValueError):
        toy(np.zeros((2, 2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="return_type"):
        toy(np.zeros((1, 3), dtype=np.int64), return_type="probs")
    assert toy(np.zeros((1, 3), dtype=np.int64)).shape == (1, 3, toy.cfg.d_vocab)   # still usable


def test_names_filter_errors(toy):
    t = toy.to_tokens("hello")
    with pytest.raises(TypeError):
        toy.run_with_cache(t, names_filter=3)

    def boom(name):
        raise ZeroDivisionError("from the filter")
    with pytest.raises(ZeroDivisionError, match="from the filter"):
        toy.run_with_cache(t, names_filter=boom)
    _, cache = toy.run_with_cache(t, names_filter=["blocks.1.hook_resid_post", "hook_embed", "not_a_hook"])
    assert sorted(cache) == ["blocks.1.hook_resid_post", "hook_embed"]
    _, cache = toy.run_with_cache(t, names_filter=lambda n: n.endswith("hook_z"))
    assert sorted(cache) == ["blocks.0.attn.hook_z", "blocks.1.attn.hook_z"]


def test_scan_argument_errors(toy, tmp_path):
    t = toy.to_tokens(["a b c d e f"] * 2)
    with pytest.raises(ValueError, match="exactly one"):
        headscan.scan(toy, progress=False)
    with pytest.raises(ValueError, match="exactly one"):
        headscan.scan(toy, tokens=t, dataset=TOY_DATA, progress=False)
    with pytest.raises(FileNotFoundError):
        headscan.scan(toy, tokens=str(tmp_path / "missing.npy"), progress=False)
    with pytest.raises(FileNotFoundError):
        headscan.scan(toy, dataset=str(tmp_path / "missing.jsonl"), progress=False, offline=True)
    with pytest.raises(ValueError, match="skip"):
        headscan.scan(toy, tokens=t, skip=("everything",), progress=False)
    with pytest.raises(ValueError, match="context"):
        headscan.scan(toy, dataset=TOY_DATA, n_ctx=4096, progress=False)
    with pytest.raises(ValueError):
        headscan.scan(toy, tokens=t, batch=0, progress=False)
    with pytest.raises(ValueError, match="sort"):
        headscan.scan(toy, tokens=t, sort="no_such_column", progress=False)
    with pytest.raises(TypeError):
        headscan.scan("pythia-70m", tokens=t)
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"txt": "no field"}\n')
    with pytest.raises((ValueError, headscan.Error), match="bad.jsonl"):
        headscan.scan(toy, dataset=str(tmp_path / "bad.jsonl"), progress=False)


def test_progress_callback_error_stops_the_scan(toy):
    def cb(stage, done, total):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        headscan.scan(toy, tokens=toy.to_tokens(["a b c d e f"] * 4), batch=2, progress=cb)


def test_save_into_a_file_fails_cleanly(toy, tmp_path):
    s = headscan.scan(toy, tokens=toy.to_tokens(["a b c d e f"] * 2), progress=False)
    (tmp_path / "f").write_text("x")
    with pytest.raises(headscan.Error, match="not a folder|exists"):
        s.save(tmp_path / "f")
    os.chmod(tmp_path, 0o500)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises((headscan.Error, FileNotFoundError, PermissionError)):
            s.save(tmp_path / "out")
    finally:
        os.chmod(tmp_path, 0o700)


def test_load_scan_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        headscan.load_scan(tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="head_table.csv"):
        headscan.load_scan(tmp_path)


def test_tokenizer_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        headscan.Tokenizer(tmp_path / "tokenizer.json")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises((headscan.Error, ValueError), match="tokenizer.json"):
        headscan.Tokenizer(tmp_path / "tokenizer.json")
    m = headscan.Model.from_pretrained(fixture_dir("neox-tiny-f32"))
    assert m.tokenizer is None
    with pytest.raises(ValueError, match="tokenizer"):
        m.to_tokens("hello")


def test_tokenizer_on_its_own():
    tok = headscan.Tokenizer(os.path.join(TOY_MODEL, "tokenizer.json"))
    ids = tok.encode("hello world")
    assert tok.decode(ids) == "hello world"
    assert tok.encode("hello world", prepend_bos=True) == [tok.bos_token_id] + ids
    assert "".join(tok.token_strs(ids)) == "hello world"
    assert tok.encode_batch(["hello world", "a"]) == [ids, tok.encode("a")]
    assert tok.token_to_id(tok.id_to_token(ids[0])) == ids[0]
    m = headscan.Model.from_pretrained(TOY_MODEL)
    assert m.to_str_tokens("hello world") == ["<|endoftext|>"] + tok.token_strs(ids)
    assert m.to_string(m.to_tokens("hello world")[0]) == "<|endoftext|>hello world"
    assert m.to_string(m.to_tokens("hello world", prepend_bos=False)) == ["hello world"]
    padded = m.to_tokens(["hello world", "a"])
    assert padded.dtype == np.int64 and padded.shape == (2, len(ids) + 1)
    assert (padded[1, 2:] == tok.pad_token_id).all()
