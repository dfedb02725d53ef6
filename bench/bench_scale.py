"""Scale notes: how training and rendering cost grow with the problem's size.

Not part of the default ``run_all`` (it has no targets); run it alone or with
``run_all.py --only scale``. One torch thread.

* Training: microseconds per model-step (one instance, one step; ``train()`` wall
  time / (instances x steps)) while one of n_features, n_hidden, instances, batch
  varies around (n=32, m=2, 16 instances, batch 1024). A sweep over instances with
  the per-instance loop shows where batching pays.
* Rendering: milliseconds per frame drawn + handed to the encoder (in process, no
  workers; the median gap between ``progress`` calls over a 200-frame MP4, so
  start-up and set-up are excluded and load spikes are ignored) while n_features,
  frame size or log length varies.
"""

from __future__ import annotations

import os
import time

import common


def train_sweep(tmp, quick):
    from bench_train import animsup_seconds

    import torch

    torch.set_num_threads(common.THREADS)
    rows = []
    base = dict(n=32, m=2, k=16, batch_size=1024, p=0.1)
    sweeps = {
        "n_features": [5, 32, 100, 400],
        "n_hidden": [2, 10, 50],
        "instances": [1, 16, 256],
        "batch": [256, 1024, 4096],
        "feature_probability": [0.01, 0.1, 0.25, 0.5, 1.0],  # the sparse CPU step up to 0.25, dense above
    }
    key = {"n_features": "n", "n_hidden": "m", "instances": "k", "batch": "batch_size", "feature_probability": "p"}
    for what, values in sweeps.items():
        for v in values:
            cfg = dict(base, **{key[what]: v})
            work = cfg["k"] * cfg["batch_size"] * cfg["n"]  # elements of x per step
            steps = max(3, min(300, int(3e7 / max(work, 1))))
            if quick:
                steps = max(2, steps // 4)
            run = dict(cfg, feature_probability=[cfg.pop("p")])
            animsup_seconds(tmp, steps=2, **run)
            times = [animsup_seconds(tmp, steps=steps, **run) for _ in range(2 if quick else 3)]
            t = common.median(times)
            us = 1e6 * t / (cfg["k"] * steps)
            rows.append(
                common.row(
                    f"scale train, vary {what}",
                    f"n={cfg['n']} m={cfg['m']} k={cfg['k']} batch={cfg['batch_size']} p={run['feature_probability'][0]:g}",
                    us, "us/model-step", ns_per_element=1e9 * t / (steps * work), steps=steps, samples_s=times,
                )
            )
    return rows


RENDER = """
import json, sys, time
from animsup.rendering.video import render
opts = json.loads(sys.argv[3])
stamps = []
render(sys.argv[1], sys.argv[2], frames=200, hold=0, workers=0, progress=lambda i, n: stamps.append(time.perf_counter()), **opts)
gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
print("PERFRAME=%r" % gaps[len(gaps) // 2])
"""


def render_sweep(tmp, quick):
    rows = []
    cases = [("n_features", dict(n=n), {}) for n in (5, 32, 100)]
    cases += [("size", dict(n=32), {"size": s}) for s in ("640x360", "1920x1080")]
    cases += [("log snapshots", dict(n=32, snaps=s), {}) for s in (200, 20_000)]
    for what, lg, opts in cases:
        snaps = lg.get("snaps", 1000)
        log = os.path.join(tmp, f"scale_{lg['n']}_{snaps}.jsonl")
        if not os.path.exists(log):
            common.write_log(log, n_features=lg["n"], n_hidden=2, snapshots=snaps)
        import json

        per = []
        for _ in range(1 if quick else 2):
            _, _, out = common.run_child([common.PYTHON, "-c", RENDER, log, os.path.join(tmp, "s.mp4"), json.dumps(opts)])
            per.append(float(out.split("PERFRAME=")[1]))
        rows.append(
            common.row(
                f"scale render, vary {what}", f"n={lg['n']} {opts.get('size', '1280x720')} log {snaps} snapshots",
                1e3 * common.median(per), "ms/frame", samples_s=per,
            )
        )
    return rows


def run(quick=False):
    with common.tmpdir() as tmp:
        rows = []
        try:
            import animsup.train.loop  # noqa: F401

            rows += train_sweep(tmp, quick)
        except ImportError as e:
            rows.append(common.row("scale train", "-", None, "", note=f"trainer not available: {e}"))
        try:
            import animsup.rendering.video  # noqa: F401

            rows += render_sweep(tmp, quick)
        except ImportError as e:
            rows.append(common.row("scale render", "-", None, "", note=f"renderer not available: {e}"))
        return rows


if __name__ == "__main__":
    t0 = time.perf_counter()
    common.bench_main("scale", run)
