"""Sweeps (issue 22): the Ray engine's overhead against the local engine, small and large shards of
the same run, and a sweep's throughput against one big batched run, on this machine.

    python bench/bench_sweep.py [--quick] [--json docs/results/sweep_i22.json]

The run: n=5, m=2 (the paper's intro size), 1 - S on 8 log-spaced values × 8 seeds = 64 instances,
``--steps`` steps at batch 256, torch engine, CPU. Timed, each in this process, the whole call:

- ``train()`` of the whole grid as one batched run (one log);
- ``run_sweep`` on the local engine with 1 shard (64 instances) and with 16 shards of 4;
- ``run_sweep`` on Ray (``ray.init(num_cpus=os.cpu_count())`` once, timed on its own) with the same
  two cuts: each shard one task in a Ray worker (a fresh process: imports animsup and torch once).

A 5-step run first warms torch up (its import and first kernels are not counted). Every sweep gives
the same arrays as the others (asserted). Throughput is instance-steps per second.
:func:`docs_table` makes the table in docs/scaling.md from the committed JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import common
import numpy as np

DOCS_JSON = common.ROOT / "docs" / "results" / "sweep_i22.json"


def config(steps: int):
    from animsup.train.config import TrainConfig

    return TrainConfig(n_features=5, n_hidden=2, feature_probability=[float(v) for v in np.geomspace(0.02, 1, 8)],
                       seeds=list(range(8)), importance=0.9, steps=steps, batch_size=256, snapshots=20, lr=0.01,
                       backend="torch", device="cpu").validate()


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="200 steps instead of 2,000")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--json", default=str(common.RESULTS / "sweep.json"))
    args = p.parse_args(argv)
    from animsup.log.reader import read_log
    from animsup.train.loop import train
    from animsup.train.sweep import run_sweep

    steps = args.steps or (200 if args.quick else 2000)
    cfg = config(steps)
    work = cfg.n_instances * steps
    tmp = Path(tempfile.mkdtemp(prefix="animsup-bench-sweep-"))
    rows = []
    try:
        train(config(5), tmp / "warm.jsonl")  # (torch imported and its kernels warm before any timing)

        def row(what, seconds, shards, engine):
            rows.append({"what": what, "engine": engine, "shards": shards, "seconds": seconds,
                         "instance_steps_per_s": work / seconds})
            print(f"{what:44s} {seconds:8.2f} s  {work / seconds:12,.0f} instance-steps/s", flush=True)

        s, _ = timed(lambda: train(cfg, tmp / "one.jsonl"))
        row("one batched run (train)", s, 1, "none")
        ref = read_log(tmp / "one.jsonl").W
        for engine in ("local", "ray"):
            if engine == "ray":
                import ray

                s, _ = timed(lambda: ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                                              configure_logging=False))
                rows.append({"what": "ray.init (local, once)", "engine": "ray", "shards": 0, "seconds": s,
                             "instance_steps_per_s": None})
                print(f"{'ray.init (local, once)':44s} {s:8.2f} s", flush=True)
            for size, label in ((None, "1 shard of 64"), (4, "16 shards of 4")):
                out = tmp / f"{engine}-{size}"
                s, res = timed(lambda: run_sweep([cfg], out, engine=engine, shard_size=size))
                assert not res.failed
                np.testing.assert_array_equal(read_log(out).W, ref)
                row(f"sweep, {engine}, {label}", s, len(res.manifest["shards"]), engine)
        if "ray" in __import__("sys").modules:
            import ray

            ray.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"steps": steps, "instances": cfg.n_instances, "instance_steps": work, "machine": common.machine(),
           "cpus": os.cpu_count(), "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0


def docs_table(path: Path = DOCS_JSON) -> str:
    """The Markdown table of a result file: seconds and instance-steps/s of each way to run the grid."""
    res = json.loads(path.read_text(encoding="utf-8"))
    base = next(r["seconds"] for r in res["rows"] if r["engine"] == "none")
    lines = [f"| how ({res['instances']} instances × {res['steps']:,} steps, {res['cpus']} CPUs) | shards | seconds | "
             "instance-steps/s | vs one batched run |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        rate = f"{r['instance_steps_per_s']:,.0f}" if r["instance_steps_per_s"] else "—"
        ratio = f"{r['seconds'] / base:.2f}×" if r["instance_steps_per_s"] else "—"
        lines.append(f"| {r['what']} | {r['shards'] or '—'} | {r['seconds']:.2f} | {rate} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
