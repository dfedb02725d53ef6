"""The paper's non-uniform superposition: n=5 features in m=2 dimensions, importance 1,
1 - S = 0.05 for features 1-4 while feature 0's density is swept from 0.1x to 10x (0.005 to 0.5),
AdamW lr 1e-3, batch 1024, 10,000 steps, 4 seeds per density (the best-loss seed is measured).

Per density: the shape (animsup.analysis.geometry), every feature's norm and angle, the gaps between
neighbouring vertices and feature 0's norm. Writes to outputs/nonuniform/: run.jsonl,
nonuniform.png, nonuniform.json and unless --no-video a grid video of the sweep (sweep.mp4).
--quick: 1,500 steps, 5 densities, 1 seed.

    .venv/bin/python scripts/nonuniform.py [--quick]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np

BASE = 0.05


def ratios(quick: bool) -> list:
    return [float(r) for r in np.geomspace(0.1, 10, 5 if quick else 11)]


def config(quick: bool):
    from animsup.train.config import TrainConfig

    probs = [[BASE * r] + [BASE] * 4 for r in ratios(quick)]
    return TrainConfig(
        n_features=5, n_hidden=2, model="tied", feature_probability=probs, seeds=[0] if quick else [0, 1, 2, 3],
        importance="constant", steps=1500 if quick else 10_000, batch_size=1024, lr=1e-3, optimizer="adamw",
        snapshots=60, loss_every=10, threads=1,
    ).validate()


def main() -> int:
    args = c.parser("nonuniform", __doc__).parse_args()
    from animsup.analysis import geometry
    from animsup.log.reader import read_log

    os.makedirs(args.out, exist_ok=True)
    cfg = config(args.quick)
    c.say(f"non-uniform superposition: {len(ratios(args.quick))} densities of feature 0 x {len(cfg.seeds)} seeds, "
          f"{cfg.steps:,} steps")
    log = c.train_or_reuse(cfg, os.path.join(args.out, "run.jsonl"), retrain=args.retrain)
    run = read_log(log)
    final = run.loss_curve[-max(1, len(run.loss_curve) // 20):].mean(axis=0)  # mean of the last 5 %
    S = len(cfg.seeds)
    rows, best_ids = [], []
    for g, r in enumerate(ratios(args.quick)):
        ks = list(range(g * S, (g + 1) * S))
        k = min(ks, key=lambda i: final[i])
        best_ids.append(run.instances[k])
        geo = geometry.describe(run.W[-1, k])
        ang = geometry.angles(run.W[-1, k])
        shapes = [geometry.describe(run.W[-1, i]).shape for i in ks]
        rows.append({"ratio": r, "feature0_probability": BASE * r, "seed": cfg.seeds[k - g * S],
                     "final_loss": float(final[k]), "shape": geo.shape, "regularity": geo.regularity,
                     "norms": [round(float(v), 3) for v in geo.norms], "angles": [round(float(a), 1) for a in ang],
                     "gaps": [round(float(x), 1) for x in geo.gaps], "order": list(geo.order),
                     "stacked": [list(s) for s in geo.stacked], "all_shapes": shapes})
        c.say(f"  feature 0 at {r:5.2f}x (1-S={BASE * r:.4f}): {geo.label():<34} norm_0={geo.norms[0]:.2f}  "
              f"gaps {np.round(geo.gaps, 0)}  seeds: {shapes}")
    with open(os.path.join(args.out, "nonuniform.json"), "w") as f:
        json.dump({"config": cfg.to_dict(), "densities": rows}, f, indent=2)
    fig = c.figure(1.25 * len(rows) + 0.2, 1.8)
    lim = 1.5
    for j, row in enumerate(rows):
        ax = fig.add_subplot(1, len(rows), j + 1)
        k = run.instances.index(best_ids[j])
        c.draw_weights(ax, run.W[-1, k], np.array([0.3, 1, 1, 1, 1]), lim=lim,
                       title=f"p₀ = {row['ratio']:.2g}×\n{row['shape']}")
    fig.suptitle("non-uniform superposition: n=5, m=2, 1-S=0.05; feature 0 (light green) at another density", fontsize=8)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.72, wspace=0.05)
    c.save(fig, os.path.join(args.out, "nonuniform.png"))
    if not args.no_video:
        sub = c.subset_log(log, os.path.join(args.out, "best.jsonl"), best_ids)
        c.render(sub, [os.path.join(args.out, "sweep.mp4")], grid=True, duration=5 if args.quick else 10,
                 size="1280x720")
    return 0


if __name__ == "__main__":
    c.main_guard(main)
