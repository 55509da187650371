"""The study in a dozen lines: every attention head of a model over a dataset, the head
table, and one plot (mover DLA against head DLA, the study's scatter).

    python3 examples/study.py                                   # the bundled toy model and data
    python3 examples/study.py pythia-70m NeelNanda/pile-10k     # the study itself (hub names)

The plot is study.png with matplotlib; without it, the scan's interactive HTML report
(plotly, every plot of the study) is written to study-report.html instead.
"""
import os
import sys

import headscan

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
model_name = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "toy")
dataset = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "data", "toy", "toy.jsonl")

model = headscan.Model.from_pretrained(model_name)
scan = headscan.scan(model, dataset=dataset, prompts=288, batch=32)
table = scan.head_table                                   # pandas, one row per head
print(table.head(10).to_string(index=False))
scan.save("study-scan")                                   # the same files as `headscan scan --out study-scan`

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = table.plot.scatter(x="head_dla", y="mover_dla", c="induction", cmap="viridis", figsize=(7, 5))
    for _, r in table.head(5).iterrows():
        ax.annotate(r["label"], (r["head_dla"], r["mover_dla"]))
    plt.savefig("study.png", dpi=120)
    print("plot: study.png")
except ImportError:
    scan.report("study-report.html")
    print("matplotlib is not installed: the HTML report (plotly) is study-report.html")
