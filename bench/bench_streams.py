"""Per-instance data streams (issue 22) against the block streams before them: animsup's training at
the notebook benchmark's sizes (bench/bench_notebook.py's SIZES, its probabilities and importance),
two revisions side by side in one run (interleaved A/B, as bench/bench_revisions.py).

    python bench/bench_streams.py BASE [HEAD] [--repeat 5] [--steps-scale 1.0] [--json docs/results/streams_i22.json]

Each measurement is a fresh child process (``PYTHONPATH`` at that revision's worktree) that times one
``animsup.train.loop.train`` call (set-up, every step, one snapshot at the end) and prints the
seconds; start-up is not counted. A and B alternate, so load on a shared machine hits both alike;
the table gives each side's median and the paired median ratio B / A (1.00 = the same speed).
:func:`docs_table` makes the table in docs/scaling.md from the committed JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import common
from bench_notebook import SIZES
from bench_revisions import interleaved, short_revs, two_trees

ROOT = common.ROOT
DOCS_JSON = ROOT / "docs" / "results" / "streams_i22.json"

CHILD = """
import sys, time
sys.path.insert(0, {bench!r})
from bench_notebook import animsup_run
dt, _ = animsup_run({tmp!r}, {n}, {m}, {K}, {steps})
print(dt)
"""


def _time(tree: Path, tmp: str, n: int, m: int, K: int, steps: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    code = CHILD.format(bench=str(ROOT / "bench"), tmp=tmp, n=n, m=m, K=K, steps=steps)
    out = subprocess.run([common.PYTHON, "-c", code], cwd=tmp, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def docs_table(path: Path = DOCS_JSON) -> str:
    """The Markdown table of a result file: each size's medians and the paired ratio B / A."""
    res = json.loads(path.read_text(encoding="utf-8"))
    rows = [f"| size (n, m, instances, steps) | block streams {res['A']} (s) | per-instance streams {res['B']} (s) "
            "| B / A, paired median | runs |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        rows.append(f"| {r['what']}: {r['n']}, {r['m']}, {r['K']}, {r['steps']} | {r['A_s']:.3f} | {r['B_s']:.3f} | "
                    f"{r['ratio_B_over_A']:.2f} | {len(r['A_all'])} + {len(r['B_all'])} |")
    rows.append(f"| **all sizes (geometric mean of the ratios)** | | | **{res['geomean_ratio']:.3f}** | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="revision A (the block streams)")
    p.add_argument("head", nargs="?", default="HEAD", help="revision B (default: HEAD)")
    p.add_argument("--repeat", type=int, default=5, help="A/B pairs per size (default 5)")
    p.add_argument("--steps-scale", type=float, default=1.0, help="multiply every size's steps (default 1)")
    p.add_argument("--json", default=str(common.RESULTS / "streams.json"), help="where to write the results")
    args = p.parse_args(argv)
    revs = short_revs(args.base, args.head)
    with two_trees(args.base, args.head, "animsup-streams-") as (trees, tmp):
        rows = []
        for n, m, K, steps, _, what in SIZES:
            steps = max(2, int(steps * args.steps_scale))
            ab = interleaved(lambda side: _time(trees[side], tmp, n, m, K, steps), args.repeat)
            rows.append({"what": what, "n": n, "m": m, "K": K, "steps": steps, **ab})
            print(f"{what:28s} A {ab['A_s']:7.3f} s   B {ab['B_s']:7.3f} s   B/A {ab['ratio_B_over_A']:5.2f}", flush=True)
    geo = float(statistics.geometric_mean([r["ratio_B_over_A"] for r in rows]))
    out = {"A": revs["A"], "B": revs["B"], "repeat": args.repeat, "machine": common.machine(),
           "geomean_ratio": geo, "rows": rows}
    print(f"geometric mean of the ratios: {geo:.3f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
