"""Two revisions of animsup side by side on the same workloads, in one run (interleaved A/B).

    python bench/bench_revisions.py BASE [HEAD] [--repeat 5] [--json bench/results/revisions.json]

The layered-packages comparison in docs/benchmarks.md is the table :func:`docs_table` makes from
the committed ``docs/results/revisions_i20.json`` (``--json docs/results/revisions_i20.json``);
``python scripts/update_docs_tables.py`` rewrites it and a test keeps the two equal.

Checks out each revision into a temporary git worktree and times, in a fresh child process
per measurement (``PYTHONPATH`` pointing at that worktree), the paths a restructuring could
slow down: the CLI's start-up (``render --help``), training (the demo's pentagon and a
batched n=32 run), reading a log, a 230-frame MP4 render and ``inspect``. The A and B runs of a
workload alternate, so load on this shared machine hits both alike; the table gives each
side's median and the paired ratio B / A (1.00 = the same speed).

Only the public API and the CLI are used, so any revision since the layered packages (and the
flat layout before them) runs unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import common

ROOT = common.ROOT

# each workload: a Python snippet run in the child; {tmp} is a scratch folder, {log} a prepared log
SETUP = """
import animsup
cfg = animsup.TrainConfig if hasattr(animsup, "TrainConfig") else animsup.config.TrainConfig
c = cfg(n_features=5, n_hidden=2, feature_probability=[0.05], seeds=list(range(4)), importance=0.9, steps=3000)
animsup.train.train(c, {log!r}, force=True)
"""

WORKLOADS = {
    "startup: render --help": ["-m", "animsup", "render", "--help"],
    "train: n=5 m=2, 10 seeds, 3k steps": """
import animsup
cfg = animsup.TrainConfig if hasattr(animsup, "TrainConfig") else animsup.config.TrainConfig
c = cfg(n_features=5, n_hidden=2, feature_probability=[0.05], seeds=list(range(10)), importance=0.9, steps=3000)
animsup.train.train(c, {tmp!r} + "/t.jsonl", force=True)
""",
    "train: n=32 m=2, 100 seeds, 300 steps": """
import animsup
cfg = animsup.TrainConfig if hasattr(animsup, "TrainConfig") else animsup.config.TrainConfig
c = cfg(n_features=32, n_hidden=2, feature_probability=[0.1], seeds=list(range(100)), importance=0.9, steps=300)
animsup.train.train(c, {tmp!r} + "/t32.jsonl", force=True)
""",
    "read_log x20": """
import animsup
for _ in range(20):
    animsup.read_log({log!r})
""",
    "render: 230-frame mp4": ["-m", "animsup", "render", "{log}", "--instance", "0", "--frames", "230",
                              "--out", "{tmp}/r.mp4"],
    "inspect": ["-m", "animsup", "inspect", "{log}"],
}


def _worktree(rev: str, where: Path) -> Path:
    path = where / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(path), rev], check=True)
    return path


def short_revs(base: str, head: str) -> dict[str, str]:
    """{"A": base, "B": head} as short commit ids (resolved at once: HEAD may move during a long run)."""
    return {side: subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], capture_output=True,
                                 text=True).stdout.strip() or rev for side, rev in (("A", base), ("B", head))}


@contextlib.contextmanager
def two_trees(base: str, head: str, prefix: str) -> Iterator[tuple[dict[str, Path], str]]:
    """Worktrees of revisions A (``base``) and B (``head``) and a scratch folder, removed after."""
    where = Path(tempfile.mkdtemp(prefix=prefix))
    trees: dict[str, Path] = {}
    try:
        for side, rev in (("A", base), ("B", head)):
            trees[side] = _worktree(rev, where)
        tmp = str(where / "scratch")
        os.makedirs(tmp)
        yield trees, tmp
    finally:
        for tree in trees.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(where, ignore_errors=True)


def interleaved(timer: Callable[[str], float], repeat: int) -> dict[str, Any]:
    """``timer(side)`` (seconds of one run of side "A" or "B"): once each to warm caches, then
    ``repeat`` pairs in alternating order; medians and the paired median ratio B / A."""
    timer("A"), timer("B")
    times: dict[str, list[float]] = {"A": [], "B": []}
    for i in range(repeat):
        for side in ("A", "B") if i % 2 == 0 else ("B", "A"):
            times[side].append(timer(side))
    return {"A_s": statistics.median(times["A"]), "B_s": statistics.median(times["B"]),
            "ratio_B_over_A": statistics.median(b / a for a, b in zip(times["A"], times["B"])),
            "A_all": times["A"], "B_all": times["B"]}


def _child(tree: Path, work: str | list, tmp: str, log: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    # bytecode cached as an installed package has it (this machine sets PYTHONDONTWRITEBYTECODE=1,
    # which recompiles every module at every start: start-up then measures source size)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if isinstance(work, str):
        args = ["-c", work.format(tmp=tmp, log=log)]
    else:
        args = [a.format(tmp=tmp, log=log) for a in work]
    t0 = time.perf_counter()
    subprocess.run([common.PYTHON, *args], cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


#: the committed result the docs' table is made from
DOCS_JSON = ROOT / "docs" / "results" / "revisions_i20.json"


def docs_table(path: Path = DOCS_JSON) -> str:
    """The Markdown table of a result file: each workload's medians and the paired ratio B / A."""
    res = json.loads(path.read_text(encoding="utf-8"))
    rows = ["| workload | A (s) | B (s) | B / A, paired median | runs |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        rows.append(f"| {r['workload']} | {r['A_s']:.3f} | {r['B_s']:.3f} | {r['ratio_B_over_A']:.2f} | "
                    f"{len(r['A_all'])} + {len(r['B_all'])} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="revision A (e.g. the commit before a restructuring)")
    p.add_argument("head", nargs="?", default="HEAD", help="revision B (default: HEAD)")
    p.add_argument("--repeat", type=int, default=5, help="A/B pairs per workload (default 5)")
    p.add_argument("--json", default=str(common.RESULTS / "revisions.json"), help="where to write the results")
    args = p.parse_args(argv)
    revs = short_revs(args.base, args.head)
    with two_trees(args.base, args.head, "animsup-revs-") as (trees, tmp):
        log = os.path.join(tmp, "demo.jsonl")
        _child(trees["A"], SETUP, tmp, log)  # one log both sides read (the format is unchanged)
        rows = []
        for name, work in WORKLOADS.items():
            rows.append({"workload": name, **interleaved(lambda side: _child(trees[side], work, tmp, log), args.repeat)})
            print(f"{name:40s} A {rows[-1]['A_s']:7.3f} s   B {rows[-1]['B_s']:7.3f} s   "
                  f"B/A {rows[-1]['ratio_B_over_A']:5.2f}", flush=True)
    out = {"A": revs["A"], "B": revs["B"], "repeat": args.repeat, "machine": common.machine(), "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
