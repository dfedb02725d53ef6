"""Logs: streaming read speed, and the training-time cost of writing snapshots.

* Reading: MB/s streaming a ~100 MB log with ``animsup.log.reader.open_log(...).snapshots()``
  (every line parsed and validated into float32 arrays). Target >= 100 MB/s. Baseline
  in the same run: the stdlib way, ``json.loads`` per line + ``np.asarray``.
  Two shapes: a wide log (n=32, m=2, 16 instances, ~17 KB lines) and a narrow one
  (n=5, m=2, one instance, ~0.4 KB lines, where per-line overhead dominates).
* Logging overhead: training with a snapshot every 10 steps vs the same run with
  one snapshot at the end (the least the trainer can log). Target <= 3%.

``python bench/bench_log.py [--quick] [--only read|overhead]``. Reading runs ours and the
baseline interleaved and also reports MB/s of CPU time (what the reader costs with a core
to itself; wall time on a shared machine includes waiting for one).
"""

from __future__ import annotations

import os
import time

import common


def _read_animsup(path):
    from animsup.log.reader import open_log

    n = 0
    with open_log(path) as r:
        for _ in r.snapshots():
            n += 1
    return n


def _read_stdlib(path):
    import json

    import numpy as np

    n = 0
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "snapshot":
                np.asarray(rec["W"], dtype=np.float32)
                np.asarray(rec["b"], dtype=np.float32)
                np.asarray(rec["loss"], dtype=np.float32)
                n += 1
    return n


def _timed(fn):
    """(wall seconds, CPU seconds of this process) of one ``fn()`` call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def reading(tmp, quick):
    rows = []
    shapes = [
        # name, n, m, instances, target MB
        ("wide n=32 m=2 16 inst", 32, 2, 16, 20 if quick else 100),
        ("narrow n=5 m=2 1 inst", 5, 2, 1, 5 if quick else 20),
    ]
    repeat = 3 if quick else 5
    for name, n, m, k, mb in shapes:
        # size a small probe log, then scale the snapshot count to reach ~mb MB
        probe = common.write_log(os.path.join(tmp, "probe.jsonl"), n_features=n, n_hidden=m, n_instances=k, snapshots=50)
        per_snap = os.path.getsize(probe) / 50
        snaps = max(100, int(mb * 2**20 / per_snap))
        path = common.write_log(os.path.join(tmp, f"read_{n}_{k}.jsonl"), n_features=n, n_hidden=m, n_instances=k, snapshots=snaps)
        size_mb = os.path.getsize(path) / 2**20
        _read_animsup(path)  # page cache warm, like any second read
        # interleaved, so drifting load on the shared machine hits both alike
        ours, base = [], []
        for _ in range(repeat):
            ours.append(_timed(lambda: _read_animsup(path)))
            base.append(_timed(lambda: _read_stdlib(path)))
        t_ours = common.median([w for w, _ in ours])
        t_base = common.median([w for w, _ in base])
        rows.append(
            common.row(
                f"log read, {name}", f"MB/s streaming {size_mb:.0f} MB ({snaps} snapshots)",
                size_mb / t_ours, "MB/s",
                baseline=size_mb / t_base, baseline_name="json.loads per line + np.asarray",
                ratio=common.paired_ratio([w for w, _ in base], [w for w, _ in ours]),
                target=">= 100 MB/s" if k > 1 else "(report)",
                met=(size_mb / t_ours >= 100) if k > 1 else None,
                snapshots_per_s=snaps / t_ours,
                # CPU time of this process: what the reader costs when it has a core to itself
                cpu_mb_per_s=size_mb / common.median([c for _, c in ours]),
                baseline_cpu_mb_per_s=size_mb / common.median([c for _, c in base]),
                samples_s=[w for w, _ in ours], baseline_samples_s=[w for w, _ in base],
            )
        )
        os.unlink(path)
    return rows


def logging_overhead(tmp, quick):
    try:
        from animsup.train.config import TrainConfig
        from animsup.train.loop import train
    except ImportError as e:
        return [common.row("logging overhead", "snapshot every 10 steps", None, "%", target="<= 3%",
                           note=f"trainer not available: {e}")]
    import torch

    torch.set_num_threads(common.THREADS)
    rows = []
    shapes = [(5, 2, 1, 2000 if quick else 4000, 3 if quick else 5), (32, 2, 100, 50 if quick else 200, 3 if quick else 5)]
    for n, m, k, steps, repeat in shapes:
        base = dict(n_features=n, n_hidden=m, feature_probability=[0.1], seeds=list(range(k)), steps=steps,
                    batch_size=1024, threads=common.THREADS, device="cpu")

        def once(**log):
            path = os.path.join(tmp, "overhead.jsonl")
            cfg = TrainConfig(**base, **log)
            t0 = time.perf_counter()
            train(cfg, path, force=True)
            return time.perf_counter() - t0

        once(every=steps)  # warm up
        # interleave the two variants so drifting machine load hits both alike
        t_log, t_min = [], []
        for _ in range(repeat):
            t_log.append(once(every=10))
            t_min.append(once(every=steps))
        a, b = common.median(t_log), common.median(t_min)
        over = common.median([100 * (x - y) / y for x, y in zip(t_log, t_min)])  # paired
        rows.append(
            common.row(
                f"logging, n={n} m={m} {k} inst", f"overhead of a snapshot every 10 steps ({steps} steps)",
                over, "%", baseline=b, baseline_name="same run, 1 snapshot (s)", target="<= 3%", met=over <= 3,
                seconds_logged=a, samples_logged=t_log, samples_minimal=t_min,
            )
        )
    return rows


PARTS = {"read": reading, "overhead": logging_overhead}


def run(quick=False, only=None):
    """``only``: "read" or "overhead" (default: both)."""
    with common.tmpdir() as tmp:
        return [row for name, part in PARTS.items() if only in (None, name) for row in part(tmp, quick)]


if __name__ == "__main__":
    import argparse
    import functools
    import sys

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--only", choices=sorted(PARTS), help="run one part: read (log reading) or overhead (logging)")
    opts, rest = pre.parse_known_args()
    if "-h" in rest or "--help" in rest:
        print("extra option: --only {read,overhead}  (results go to bench/results/log_<part>.json)", file=sys.stderr)
    common.bench_main("log" if opts.only is None else f"log_{opts.only}", functools.partial(run, only=opts.only), rest)
