"""The paper's correlated and anticorrelated features: n=4 features (2 pairs) and n=6 (3 pairs)
in m=2 dimensions, importance 1, feature densities 1 - S from 5 % down to 0.25 %, AdamW lr 1e-3,
batch 1024, 10,000 steps, 4 seeds per density (the best-loss seed is measured and drawn).

Correlated pair: both features switch on together (each with its own uniform value);
anticorrelated pair: at most one of the two is on (animsup.train.data, --correlated-sets and
--anticorrelated-sets). For every pair the script measures cos(W_i, W_j): ≈ 0 is a local
orthogonal basis, ≈ −1 antipodal, ≈ +1 collapsed onto one direction (their principal component).

Writes to outputs/correlated/: <case>.jsonl, correlated.png (best seed per case and density),
correlated.json, and unless --no-video a density-sweep grid video per case (<case>.mp4).
--quick: 1,500 steps, 3 densities, 1 seed.

    .venv/bin/python scripts/correlated.py [--quick]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np

CASES = {  # name: (n_features, correlated_sets, anticorrelated_sets)
    "n4_correlated": (4, [[0, 1], [2, 3]], []),
    "n4_anticorrelated": (4, [], [[0, 1], [2, 3]]),
    "n6_correlated": (6, [[0, 1], [2, 3], [4, 5]], []),
    "n6_anticorrelated": (6, [], [[0, 1], [2, 3], [4, 5]]),
}


def densities(quick: bool) -> list:
    return [float(p) for p in np.geomspace(0.05, 0.0025, 3 if quick else 6)]


def config(case: str, quick: bool):
    from animsup.train.config import TrainConfig

    n, corr, anti = CASES[case]
    return TrainConfig(
        n_features=n, n_hidden=2, model="tied", feature_probability=densities(quick), seeds=[0] if quick else [0, 1, 2, 3],
        importance="constant", correlated_sets=corr, anticorrelated_sets=anti, steps=1500 if quick else 10_000,
        batch_size=1024, lr=1e-3, optimizer="adamw", snapshots=60, loss_every=10, threads=1,
    ).validate()


def pair_cosines(W, pairs) -> list:
    """cos(W_i, W_j) for each pair (0 when a feature is zero). W: (shape: [2, n_features])"""
    out = []
    for i, j in pairs:
        a, b = W[:, i], W[:, j]
        d = np.linalg.norm(a) * np.linalg.norm(b)
        out.append(float(a @ b / d) if d > 0 else 0.0)
    return out


def main() -> int:
    args = c.parser("correlated", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    result, best = {}, {}
    for case in CASES:
        cfg = config(case, args.quick)
        n, corr, anti = CASES[case]
        pairs = corr or anti
        c.say(f"{case}: {cfg.n_instances} instances, {cfg.steps:,} steps")
        log = c.train_or_reuse(cfg, os.path.join(args.out, f"{case}.jsonl"), retrain=args.retrain)
        outcomes = c.best_per_probability(log, cfg.feature_probability)
        rows = []
        for p in cfg.feature_probability:
            b, group = outcomes[p]  # the best seed and every seed trained at this 1 - S
            best[(case, p)] = b
            norms = np.linalg.norm(b.W, axis=0)
            rows.append({"feature_probability": p, "seed": b.seed, "final_loss": b.final_loss, "shape": b.shape,
                         "norms": [round(float(v), 3) for v in norms], "pair_cos": pair_cosines(b.W, pairs),
                         "all_seeds_pair_cos": [pair_cosines(o.W, pairs) for o in group]})
            c.say(f"  1-S={p:.4f}  best seed {b.seed}: {b.shape:<20} norms {np.round(norms, 2)}  "
                  f"pair cos {np.round(rows[-1]['pair_cos'], 2)}")
        result[case] = rows
        if not args.no_video:
            ids = [best[(case, p)].index for p in cfg.feature_probability]
            sub = c.subset_log(log, os.path.join(args.out, f"{case}_best.jsonl"), ids)
            c.render(sub, [os.path.join(args.out, f"{case}.mp4")], grid=True, duration=5 if args.quick else 10,
                     size="1280x720")
    with open(os.path.join(args.out, "correlated.json"), "w") as f:
        json.dump(result, f, indent=2)
    figure(best, args.quick, args.out)
    return 0


def figure(best: dict, quick: bool, out: str) -> None:
    ps = densities(quick)
    fig = c.figure(1.3 * len(ps) + 0.6, 1.45 * len(CASES))
    for r, case in enumerate(CASES):
        for j, p in enumerate(ps):
            b = best[(case, p)]
            ax = fig.add_subplot(len(CASES), len(ps), r * len(ps) + j + 1)
            c.draw_weights(ax, b.W, np.ones(b.W.shape[1]), lim=1.5, title=f"1-S={p:.4f}" if r == 0 else "")
            if j == 0:
                ax.set_ylabel(case.replace("_", "\n"), fontsize=7)
    fig.suptitle("correlated / anticorrelated pairs (0,1), (2,3), (4,5) in m=2, best of the seeds", fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.99, bottom=0.01, top=0.9, wspace=0.05, hspace=0.12)
    c.save(fig, os.path.join(out, "correlated.png"))


if __name__ == "__main__":
    c.main_guard(main)
