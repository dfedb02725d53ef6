"""The paper's correlated and anticorrelated features: n=4 features in m=2 dimensions as two pairs.

Correlated: the features of a pair switch on together (each with its own U[0,1) value); anticorrelated:
at most one feature of a pair is on (each still with probability 1−S) (paper-notes.md, "Basic
results, correlated features, privileged basis"). Importance 1, tied ReLU model, densities
1−S ∈ {5%, 2%, 1%, 0.5%, 0.25%}, 4 seeds, AdamW lr 1e-3, batch 1024, 10,000 steps. The paper's
finding: correlated pairs take local orthogonal bases (the two features of a pair ~90° apart; pairs
antipodal to each other), anticorrelated pairs go antipodal (~180° within a pair).

Writes to outputs/correlated_features/: correlated.jsonl, anticorrelated.jsonl, pairs.png (the
best-loss seed per density, features coloured by pair) and pairs.json (the angle between the two
features of each pair, per density and seed).

    .venv/bin/python scripts/correlated_features.py [--quick]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np

DENSITY = [0.05, 0.02, 0.01, 0.005, 0.0025]
PAIRS = [[0, 1], [2, 3]]
PAIR_COLORS = ["#1f77b4", "#d62728"]


def pair_angles(W) -> np.ndarray:
    """Angle in degrees between the two features of each pair. W (shape: [k, 2, 4]) → (shape: [k, 2])"""
    from animsup.geometry import angles

    a = angles(W)
    out = np.stack([np.abs(a[:, i] - a[:, j]) for i, j in PAIRS], axis=1) % 360
    return np.minimum(out, 360 - out)


def main() -> int:
    args = c.parser("correlated_features", __doc__).parse_args()
    from animsup.cli.inspect import tail_loss
    from animsup.config import TrainConfig
    from animsup.geometry import feature_norms
    from animsup.runlog import read_log

    os.makedirs(args.out, exist_ok=True)
    seeds = 2 if args.quick else 4
    fig = c.figure(12, 5.4)
    table = []
    for r, kind in enumerate(("correlated", "anticorrelated")):
        sets = {"correlated_sets": PAIRS} if kind == "correlated" else {"anticorrelated_sets": PAIRS}
        cfg = TrainConfig(n_features=4, n_hidden=2, importance="constant", feature_probability=DENSITY,
                          seeds=list(range(seeds)), steps=2000 if args.quick else 10_000,
                          batch_size=256 if args.quick else 1024, lr=1e-3, snapshots=40, loss_every=10,
                          **sets).validate()
        c.say(f"{kind} pairs {PAIRS}: {len(DENSITY)} densities x {seeds} seeds, {cfg.steps:,} steps")
        run = read_log(c.train_or_reuse(cfg, os.path.join(args.out, f"{kind}.jsonl"), retrain=args.retrain))
        tail = tail_loss(run.loss_steps, run.loss_curve)
        W = run.W[-1].astype(np.float64)
        ang = pair_angles(W)
        norms = feature_norms(W)
        for g, p in enumerate(DENSITY):
            ks = list(range(g * seeds, (g + 1) * seeds))
            best = min(ks, key=lambda k: tail[k])
            row = {"kind": kind, "density": p, "best_seed": run.header.seed[best],
                   "pair_angle_best": [round(float(v), 1) for v in ang[best]],
                   "pair_angle_all": [[round(float(v), 1) for v in ang[k]] for k in ks],
                   "norms_best": [round(float(v), 3) for v in norms[best]]}
            table.append(row)
            c.say(f"  1-S = {p}: angle within each pair (best seed) {row['pair_angle_best']}, all seeds "
                  f"{row['pair_angle_all']}, norms {row['norms_best']}")
            ax = fig.add_axes([0.03 + g * 0.195, 0.48 - r * 0.46, 0.17, 0.36])
            lim = 1.4
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            for f in range(4):
                col = PAIR_COLORS[0 if f in PAIRS[0] else 1]
                ax.plot([0, W[best, 0, f]], [0, W[best, 1, f]], color=col, lw=2)
                ax.plot(W[best, 0, f], W[best, 1, f], "o", color=col, ms=5)
                ax.annotate(str(f), (W[best, 0, f] * 1.13, W[best, 1, f] * 1.13), fontsize=8, ha="center",
                            va="center", color=col)
            ax.set_title(f"{kind}\n1−S = {p:g}: {row['pair_angle_best'][0]:.0f}°, {row['pair_angle_best'][1]:.0f}°",
                         fontsize=8)
    fig.suptitle("n=4, m=2, pairs (0,1) blue and (2,3) red; angle within each pair, best-loss seed", fontsize=10)
    c.save(fig, os.path.join(args.out, "pairs.png"))
    with open(os.path.join(args.out, "pairs.json"), "w") as f:
        json.dump(table, f, indent=1)
    return 0


if __name__ == "__main__":
    c.main_guard(main)
