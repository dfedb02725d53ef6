"""Old vs new geometry names on the final weights of minima studies (docs/figures.md §4).

Loads animsup/geometry.py as it was at a commit (default 5e23ebe, before the naming rule of
docs/analysis.md) with `git show`, names every instance's final W with both, and prints the counts,
what each old name became, and the loss of each new name.

    .venv/bin/python scripts/compare_naming.py outputs/seed002_hexagon/blog/run.jsonl [--commit 5e23ebe]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def old_geometry(commit: str):
    source = subprocess.run(["git", "-C", ROOT, "show", f"{commit}:animsup/geometry.py"], check=True,
                            capture_output=True, text=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "old_geometry.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("old_geometry", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_geometry"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    p.add_argument("logs", nargs="+")
    p.add_argument("--commit", default="5e23ebe")
    args = p.parse_args()
    from animsup.analysis import geometry, minima

    old = old_geometry(args.commit)
    for log in args.logs:
        outcomes = minima.analyse_logs([log])
        names = [(old.describe(o.W).shape, geometry.describe(o.W).shape, o.final_loss) for o in outcomes]
        print(f"== {log}: {len(names)} instances")
        print("  old names:", dict(collections.Counter(a for a, _, _ in names).most_common()))
        print("  new names:", dict(collections.Counter(b for _, b, _ in names).most_common()))
        for a in dict.fromkeys(a for a, _, _ in names):
            print(f"  old {a!r} is now", dict(collections.Counter(b for x, b, _ in names if x == a).most_common()))
        by = collections.defaultdict(list)
        for _, b, loss in names:
            by[b].append(loss)
        for b, v in sorted(by.items(), key=lambda kv: np.mean(kv[1])):
            print(f"  {b:<28} {len(v):>3}  final loss mean {np.mean(v):.4f}, {min(v):.4f}-{max(v):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
