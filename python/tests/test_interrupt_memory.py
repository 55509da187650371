"""Ctrl-C (SIGINT to a child running a long call) raises KeyboardInterrupt out of the C code
and leaves no output behind; run_with_cache with a narrow filter keeps only what it asked for."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import TOY_MODEL

CHILD_ENV = dict(os.environ, PYTHONUNBUFFERED="1")


def child(code):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=CHILD_ENV)


def interrupt_after_start(p, delay):
    line = p.stdout.readline()
    assert line.strip() == "start", line + p.stderr.read()
    time.sleep(delay)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return out, err, time.monotonic() - t0


def test_ctrl_c_stops_a_scan_and_writes_nothing(tmp_path):
    out_dir = tmp_path / "out"
    p = child(f"""
        import numpy as np, headscan, time
        m = headscan.Model.from_pretrained({TOY_MODEL!r})
        toks = np.random.default_rng(0).integers(1, m.cfg.d_vocab, size=(20000, 256))
        toks[:, 0] = 0
        print("start")
        t0 = time.monotonic()
        try:
            s = headscan.scan(m, tokens=toks, prompts=0, batch=4, progress=False)
            s.save({str(out_dir)!r})
            print("finished")
        except KeyboardInterrupt:
            print("interrupted", time.monotonic() - t0)
    """)
    out, err, latency = interrupt_after_start(p, 1.5)
    assert p.returncode == 0, err
    assert out.startswith("interrupted"), out + err
    assert not out_dir.exists() or not os.listdir(out_dir)
    assert latency < 30   # one batch of 4 rows, not 20000 rows


def test_ctrl_c_stops_a_forward_pass(tmp_path):
    p = child(f"""
        import numpy as np, headscan
        m = headscan.Model.from_pretrained({TOY_MODEL!r})
        toks = np.zeros((8, 256), dtype=np.int64)
        print("start")
        try:
            for i in range(100000):
                m.run_with_cache(toks)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
        m(toks[:, :4])   # the model is still usable
        print("usable")
    """)
    out, err, _ = interrupt_after_start(p, 1.0)
    assert p.returncode == 0, err
    assert out.split() == ["interrupted", "usable"], out + err


def test_run_with_cache_memory_is_bounded_by_the_filter():
    # peak RSS (VmHWM) growth of one run_with_cache after a plain forward of the same shape:
    # a narrow filter adds its one hook; the full cache adds every hook (the measurement works)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import numpy as np, headscan
        def hwm():
            for l in open("/proc/self/status"):
                if l.startswith("VmHWM:"):
                    return int(l.split()[1]) * 1024
        m = headscan.Model.from_pretrained({TOY_MODEL!r})
        toks = np.ones((16, 256), dtype=np.int64)
        m(toks)
        h0 = hwm()
        _, c = m.run_with_cache(toks, names_filter="blocks.0.hook_resid_post")
        narrow = sum(a.nbytes for a in c.values())
        del c, _
        h1 = hwm()
        _, c = m.run_with_cache(toks)
        full = sum(a.nbytes for a in c.values())
        h2 = hwm()
        print(h1 - h0, narrow, h2 - h1, full)
    """)], capture_output=True, text=True, env=CHILD_ENV)
    assert p.returncode == 0, p.stderr
    grow_narrow, narrow, grow_full, full = map(int, p.stdout.split())
    assert narrow == 16 * 256 * 128 * 4
    assert grow_narrow <= narrow + 16 * 2**20, (grow_narrow, narrow)
    assert grow_full >= 0.9 * full - 64 * 2**20, (grow_full, full)   # the full cache is what the narrow one avoids
    assert full > 20 * narrow
