"""The paper's non-uniform superposition: n=5 features in m=2 dimensions, importance 1,
1 - S = 0.05 for features 1-4 while feature 0's density is swept from 0.1x to 10x (0.005 to 0.5),
AdamW lr 1e-3, batch 1024, 10,000 steps, 4 seeds per density (the best-loss seed is measured).

Per density: the shape (animsup.analysis.geometry), every feature's norm and angle, the gaps between
neighbouring vertices and feature 0's norm. The paper ("Non-Uniform Superposition"): made sparser,
feature 0 eventually collapses the pentagon "to a pair of digons with the sparser point at zero", a
first-order phase change where the two geometries' losses cross. Hand-made starts test that directly
(scripts/_handmade.py): at every density a regular pentagon and a square of features 1-4 with feature
0 at zero (two digons) are trained further from their weights and scored on one evaluation set.

Writes to outputs/nonuniform/: run.jsonl, nonuniform.png, nonuniform.json (also
docs/results/nonuniform.json for a full run: docs/figures.md §9's table, docs_table()) and unless
--no-video a grid video of the sweep (sweep.mp4). --quick: 1,500 steps, 5 densities, 1 seed, 200
hand-made steps.

    .venv/bin/python scripts/nonuniform.py [--quick]
"""

from __future__ import annotations

import os

import _common as c
import numpy as np

BASE = 0.05
HANDMADE_STEPS = 3000


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
    handmade = handmade_check(args.quick)
    c.publish(args, "nonuniform", {"config": cfg.to_dict(), "densities": rows, "handmade": handmade,
                                   "handmade_steps": 200 if args.quick else HANDMADE_STEPS})
    figure(run, rows, best_ids, handmade, args.out)
    if not args.no_video:
        sub = c.subset_log(log, os.path.join(args.out, "best.jsonl"), best_ids)
        c.render(sub, [os.path.join(args.out, "sweep.mp4")], grid=True, duration=5 if args.quick else 10,
                 size="1280x720")
    return 0


def handmade_check(quick: bool) -> list:
    """Per density of feature 0: a regular pentagon against the square of features 1-4 with feature 0 at
    zero, both trained further from their weights and scored on one evaluation set."""
    import _handmade
    from animsup.analysis import geometry
    from animsup.train.data import DataSpec

    pentagon = _handmade.polygon(5, [0, 1, 2, 3, 4])
    square = _handmade.polygon(4, [1, 2, 3, 4])
    square = np.concatenate([np.zeros((2, 1), np.float32), square[:, 1:]], axis=1)
    W0, b0, probs = [], [], []
    for r in ratios(quick):
        W0 += [pentagon, square]
        b0 += [np.full(5, -0.1, np.float32)] * 2
        probs += [[BASE * r] + [BASE] * 4] * 2
    W, _, loss = _handmade.polish(np.stack(W0), np.stack(b0), probs, DataSpec(), steps=200 if quick else HANDMADE_STEPS,
                                  eval_samples=16_384 if quick else 400_000)
    out = []
    for j, r in enumerate(ratios(quick)):
        pe, sq = 2 * j, 2 * j + 1
        out.append({"ratio": r, "pentagon_loss": float(loss[pe]), "square_loss": float(loss[sq]),
                    "pentagon_after": geometry.describe(W[pe]).shape, "square_after": geometry.describe(W[sq]).shape,
                    "square_norm0_after": float(np.linalg.norm(W[sq][:, 0]))})
        c.say(f"  hand-made at {r:5.2f}x: pentagon {loss[pe]:.6f} ({out[-1]['pentagon_after']}), square with "
              f"feature 0 at zero {loss[sq]:.6f} ({out[-1]['square_after']})")
    return out


def figure(run, rows, best_ids, handmade, out: str) -> None:
    fig = c.figure(1.25 * len(rows) + 0.2, 4.2)
    lim = 1.5
    top = 2.1 / 4.2
    for j, row in enumerate(rows):
        ax = fig.add_axes([0.005 + j / len(rows), 1 - top + 0.02, 0.99 / len(rows) - 0.01, top * 0.62])
        k = run.instances.index(best_ids[j])
        c.draw_weights(ax, run.W[-1, k], np.array([0.3, 1, 1, 1, 1]), lim=lim,
                       title=f"p₀ = {row['ratio']:.2g}×\n{row['shape']}")
    ax = fig.add_axes([0.09, 0.1, 0.86, 0.3])
    r = [h["ratio"] for h in handmade]
    gap = [100 * (h["pentagon_loss"] / h["square_loss"] - 1) for h in handmade]
    ax.semilogx(r, gap, "-", color="#1f77b4")
    kept = [h["pentagon_after"] == "pentagon" for h in handmade]
    ax.plot([x for x, k in zip(r, kept) if k], [g for g, k in zip(gap, kept) if k], "o", color="#1f77b4",
            label="the pentagon start stayed a pentagon")
    if not all(kept):
        ax.plot([x for x, k in zip(r, kept) if not k], [g for g, k in zip(gap, kept) if not k], "o", mfc="white",
                color="#1f77b4", label="it left the pentagon (table: where to)")
    ax.legend(fontsize=7, loc="lower left")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("feature 0's density relative to the others' (1 − S = 0.05)", fontsize=8)
    ax.set_ylabel("pentagon vs two digons\n(loss, %)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("hand-made starts: > 0 where the square with feature 0 at zero has the lower loss", fontsize=8)
    fig.suptitle("non-uniform superposition: n=5, m=2, 1-S=0.05; feature 0 (light green) at another density; "
                 "best seed of 4", fontsize=8)
    c.save(fig, os.path.join(out, "nonuniform.png"))


def docs_table() -> str:
    """docs/figures.md §9 (from docs/results/nonuniform.json): per density of feature 0 the best seed's
    shape, feature 0's norm, the gaps, every seed's shape, and the hand-made starts' losses."""
    res = c.load_results("nonuniform")
    rows = []
    for d, h in zip(res["densities"], res["handmade"]):
        shapes: dict = {}
        for s in d["all_shapes"]:
            shapes[s] = shapes.get(s, 0) + 1
        order, gaps = d["order"], d["gaps"]
        near0 = ""
        if 0 in order and len(gaps) == len(order):
            j = order.index(0)
            near0 = f"{gaps[j - 1]:.0f}°, {gaps[j]:.0f}°"
        rows.append([f"{d['ratio']:.2g}×", d["shape"], f"{d['norms'][0]:.2f}", near0 or "—",
                     ", ".join(f"{k} ×{v}" for k, v in shapes.items()),
                     f"{h['pentagon_loss']:.3e}" + ("" if h["pentagon_after"] == "pentagon" else f" (→ {h['pentagon_after']})"),
                     f"{h['square_loss']:.3e}" + ("" if h["square_after"] == "square" else f" (→ {h['square_after']})"),
                     f"{100 * (h['pentagon_loss'] / h['square_loss'] - 1):+.1f} %"])
    return c.md_table(["feature 0's density", "best seed's shape", "‖W_0‖", "gaps beside feature 0",
                       "shapes of the 4 seeds", "hand-made pentagon: loss (→ where it went)",
                       "hand-made two digons, feature 0 at 0: loss",
                       "pentagon vs digons"], rows)


if __name__ == "__main__":
    c.main_guard(main)
