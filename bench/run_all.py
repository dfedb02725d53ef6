"""Run every animsup benchmark, print one table, write bench/results/all.json.

    python bench/run_all.py            # a few minutes
    python bench/run_all.py --quick    # smoke run, under a minute or two
    python bench/run_all.py --only train,render [--full]

Each bench also runs alone: python bench/bench_train.py [--quick], bench_render.py,
bench_log.py, bench_startup.py; bench_scale.py (scale notes, no targets) runs only
when asked (--only scale). Numbers are medians of repeated runs; ratios compare
animsup with a baseline measured in the same run (this machine is shared and noisy).
One torch/BLAS thread everywhere.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback

import common

BENCHES = ("startup", "log", "train", "render", "panels")  # the default run
EXTRA = ("scale",)  # no targets; run with --only scale


def main(argv=None):
    p = argparse.ArgumentParser(description="Run the animsup benchmarks.")
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    p.add_argument("--full", action="store_true", help="measure slow baselines over the full length instead of projecting")
    p.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated list from {', '.join(BENCHES + EXTRA)}")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    for n in names:
        if n not in BENCHES + EXTRA:
            p.error(f"unknown bench {n!r} (choose from {', '.join(BENCHES + EXTRA)})")
    rows, seconds, failed = [], {}, []
    for name in names:
        mod = importlib.import_module(f"bench_{name}")
        kw = {"full": args.full} if "full" in inspect.signature(mod.run).parameters else {}
        print(f"== {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            part = mod.run(quick=args.quick, **kw)
        except Exception as e:  # one broken bench must not hide the others
            traceback.print_exc()
            part = [common.row(name, "failed", None, "", note=f"{type(e).__name__}: {e}")]
            failed.append(name)
        seconds[name] = time.perf_counter() - t0
        common.save(name, part, quick=args.quick)
        rows += part
    print()
    common.print_table(rows)
    path = common.save("all", rows, quick=args.quick, extra={"seconds": seconds})
    print(f"\nwrote {path} ({sum(seconds.values()):.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
