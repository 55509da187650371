"""bench/python.py — headscan from Python against the command on the same work, same run.

  1. the scan: `headscan scan --model M --tokens T --prompts P --batch 32 --out D` against a
     Python process doing Model.from_pretrained + headscan.scan(...) + Scan.save(D), run
     alternately (CLI first, then Python first, ...); wall and CPU seconds of each whole
     process, and the library's own scan time (manifest timings_s.total).
  2. run_with_cache with one hook (blocks.3.attn.hook_pattern) against model(tokens) on
     [32, 256] tokens, alternately in one process (logits returned by both).
Prints the best (min) of the repeats and the ratios Python / CLI. Not a test.

usage: /usr/bin/python3 bench/python.py BUILD MODEL [TOKENS.npy] [--prompts 288] [--repeats 2]
       [--forward-repeats 10] [--skip-scan]
  MODEL: e.g. /tmp/p70m from `/usr/bin/python3 tests/reference/neox_ref.py --pythia70m-shape /tmp/p70m`
  TOKENS: default ../shared/data/corpus/dev.tl-n256-shuffle42.npy
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("model")
ap.add_argument("tokens", nargs="?")
ap.add_argument("--prompts", type=int, default=288)
ap.add_argument("--repeats", type=int, default=2)
ap.add_argument("--forward-repeats", type=int, default=10)
ap.add_argument("--skip-scan", action="store_true")
a = ap.parse_args()
src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tokens = a.tokens or os.path.join(src, "..", "shared", "data", "corpus", "dev.tl-n256-shuffle42.npy")
build = os.path.abspath(a.build)
env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"))
sys.path.insert(0, os.path.join(build, "python"))
import numpy as np  # noqa: E402
import headscan  # noqa: E402

PY_SCAN = """
import sys, headscan
m = headscan.Model.from_pretrained(sys.argv[1])
s = headscan.scan(m, tokens=sys.argv[2], prompts=int(sys.argv[3]), batch=32, progress=False)
s.save(sys.argv[4])
"""


def timed(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def scan_total(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)["timings_s"]["total"]


if not a.skip_scan:
    res = {"cli": [], "py": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.repeats):
            order = ["cli", "py"] if i % 2 == 0 else ["py", "cli"]
            for who in order:
                out = os.path.join(tmp, f"{who}{i}")
                if who == "cli":
                    cmd = [os.path.join(build, "headscan"), "scan", "--model", a.model, "--tokens", tokens, "--prompts",
                           str(a.prompts), "--batch", "32", "--top", "0", "--out", out]
                else:
                    cmd = [sys.executable, "-c", PY_SCAN, a.model, tokens, str(a.prompts), out]
                wall, cpu = timed(cmd)
                res[who].append((wall, cpu, scan_total(out)))
                print(f"run {i} {who:3s}: wall {wall:8.2f} s  cpu {cpu:8.2f} s  library scan {res[who][-1][2]:8.2f} s",
                      flush=True)
            same = all(open(os.path.join(tmp, f"cli{i}", f), "rb").read() == open(os.path.join(tmp, f"py{i}", f), "rb").read()
                       for f in os.listdir(os.path.join(tmp, f"cli{i}")) if f != "manifest.json")
            print(f"run {i}: outputs identical (manifest aside): {same}", flush=True)
    best = {w: [min(r[k] for r in res[w]) for k in range(3)] for w in res}
    print(f"\nscan ({a.prompts} prompts x 256, batch 32, all metrics), best of {a.repeats}:")
    for k, name in enumerate(["process wall", "process cpu", "library scan"]):
        print(f"  {name:13s} CLI {best['cli'][k]:8.2f} s  Python {best['py'][k]:8.2f} s  Python/CLI {best['py'][k] / best['cli'][k]:.3f}")

# ---- run_with_cache with one hook vs model(tokens)
m = headscan.Model.from_pretrained(a.model)
t = np.load(tokens)[:32, :256]
m(t)
tm, tc = [], []
for i in range(a.forward_repeats):
    for who in (("m", "c") if i % 2 == 0 else ("c", "m")):
        t0 = time.perf_counter()
        if who == "m":
            m(t)
        else:
            _, cache = m.run_with_cache(t, names_filter="blocks.3.attn.hook_pattern")
            assert list(cache) == ["blocks.3.attn.hook_pattern"]
            del cache
        (tm if who == "m" else tc).append(time.perf_counter() - t0)
print(f"\nforward [32, 256], best of {a.forward_repeats}: model(tokens) {min(tm):.3f} s  "
      f"run_with_cache(1 hook) {min(tc):.3f} s  ratio {min(tc) / min(tm):.3f}  (medians {np.median(tm):.3f} / "
      f"{np.median(tc):.3f} = {np.median(tc) / np.median(tm):.3f})")
