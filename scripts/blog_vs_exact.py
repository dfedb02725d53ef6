"""Seed 002's printed (blog) gradient vs the exact gradient at seed 002's settings.

n=5, m=2, 1-S=0.1, importance 0.7^i, init U[0, 0.001), plain SGD, batch 1024, loss
½·Σ_features (mean over the batch). Trains both gradients on many seeds with the numpy
backend and counts the final shapes (animsup.analysis.geometry.describe). Results: docs/training.md.

    python scripts/blog_vs_exact.py --seeds 16 --lr 1 --steps 10000 [--dataset-size N] [--continue-exact 10000]

``--continue-exact STEPS`` then restarts the exact gradient from the blog run's final
parameters and reports where it goes (is the blog's pentagon a minimum of the true loss?).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile

import numpy as np

from animsup.train.config import TrainConfig
from animsup.train.data import importance_vector
from animsup.analysis.geometry import describe
from animsup.train.numpy_model import NumpyEngine, loss_and_grad
from animsup.log.reader import read_log
from animsup.train.loop import train


def shapes(log: str) -> collections.Counter:
    run = read_log(log)
    return collections.Counter(str(describe(run.W[-1, i]).shape) for i in range(run.W.shape[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--dataset-size", type=int, default=None)
    ap.add_argument("--feature-probability", type=float, default=0.1)
    ap.add_argument("--gradients", nargs="+", default=["blog", "exact"])
    ap.add_argument("--keep", metavar="DIR", help="keep the logs in DIR")
    ap.add_argument("--continue-exact", type=int, default=0, metavar="STEPS",
                    help="then run the exact gradient for STEPS more from the blog run's end")
    args = ap.parse_args(argv)
    folder = args.keep or tempfile.mkdtemp()
    for gradient in args.gradients:
        cfg = TrainConfig(n_features=5, n_hidden=2, feature_probability=[args.feature_probability],
                          seeds=list(range(args.seeds)), importance=0.7, init="blog", optimizer="sgd", lr=args.lr,
                          loss_reduction="half-sum", steps=args.steps, batch_size=args.batch_size,
                          dataset_size=args.dataset_size, backend="numpy", gradient=gradient, snapshots=100)
        log = os.path.join(folder, f"blog_vs_exact_{gradient}_lr{args.lr:g}_ds{args.dataset_size}.jsonl")
        res = train(cfg, log, force=True)
        counts = ", ".join(f"{v} {k}" for k, v in shapes(log).most_common())
        print(f"{gradient:>5}  lr={args.lr:g} steps={args.steps} dataset={args.dataset_size}  "
              f"[{res.status}, {res.wall_seconds:.0f} s]  {counts}  (mean true loss {true_loss(cfg, res.W, res.b):.5f})",
              flush=True)
        if gradient == "blog" and args.continue_exact:
            engine = NumpyEngine(cfg.replace(gradient="exact"))
            engine.W[...], engine.b[...] = res.W, res.b
            for _ in range(args.continue_exact):
                engine.loss_and_grad()
                engine.update_(args.lr)
            counts = collections.Counter(str(describe(w).shape) for w in engine.W)
            print(f"      then {args.continue_exact} exact steps from there: "
                  + ", ".join(f"{v} {k}" for k, v in counts.most_common())
                  + f"  (mean true loss {true_loss(cfg, engine.W, engine.b):.5f})", flush=True)
    return 0


def true_loss(cfg, W, b, batches: int = 20) -> float:
    """The loss (½·Σ_features, mean over samples) of final params on fresh data, mean over seeds."""
    engine = NumpyEngine(cfg.replace(dataset_size=None))
    imp = importance_vector(cfg.importance, cfg.n_features)
    return float(np.mean([loss_and_grad(W, b, engine.data.next(), imp, reduction="half-sum")[0].mean()
                          for _ in range(batches)]))


if __name__ == "__main__":
    sys.exit(main())
