"""The paper's correlated and anticorrelated features: n=4 features (2 pairs) and n=6 (3 pairs)
in m=2 dimensions, importance 1, 1 - S from 5 % down to 0.25 %, AdamW lr 1e-3, batch 1024,
10,000 steps, 4 seeds per density (the best-loss seed is measured and drawn).

Correlated pair: both features switch on together (each with its own uniform value). Anticorrelated
pair, the paper's law (its set-up section): the pair is all-zero with probability S, else exactly one
of the two, chosen at random, is on (each feature's density (1 - S)/2). Exclusive pair (animsup's
"anticorrelated" law before data recipe 2): at most one on, each with density 1 - S (twice as dense).
animsup.train.data, --correlated-sets / --anticorrelated-sets / --exclusive-sets. For every pair the
script measures cos(W_i, W_j): ≈ 0 is a local orthogonal basis, ≈ −1 antipodal, ≈ +1 collapsed onto
one direction (their principal component). The paper runs n=4 (correlated, anticorrelated pairs) and
n=6 (three correlated pairs); the n=6 anticorrelated/exclusive cases are animsup's own.

Hand-made starts (scripts/_handmade.py): random inits never find the hexagon of three antipodal
pairs at n=6, so for both anticorrelated laws and every density the script trains two candidates
further — the hexagon of three antipodal pairs and the best trained seed — and compares their
losses on one evaluation set of 200,000 samples.

Writes to outputs/correlated/: <case>.jsonl, correlated.png (best seed per case and density),
correlated.json (also docs/results/correlated.json for a full run: docs/figures.md's tables,
docs_table() and handmade_table()), and unless --no-video a density-sweep grid video per case
(<case>.mp4). --quick: 1,500 steps, 3 densities, 1 seed, 200 hand-made steps.

    .venv/bin/python scripts/correlated.py [--quick]
"""

from __future__ import annotations

import os

import _common as c
import numpy as np

PAIRS = {4: [[0, 1], [2, 3]], 6: [[0, 1], [2, 3], [4, 5]]}
CASES = {f"n{n}_{law}": (n, law) for n in (4, 6) for law in ("correlated", "anticorrelated", "exclusive")}
HANDMADE_STEPS = 3000


def densities(quick: bool) -> list:
    return [float(p) for p in np.geomspace(0.05, 0.0025, 3 if quick else 6)]


def config(case: str, quick: bool):
    from animsup.train.config import TrainConfig

    n, law = CASES[case]
    return TrainConfig(
        n_features=n, n_hidden=2, model="tied", feature_probability=densities(quick), seeds=[0] if quick else [0, 1, 2, 3],
        importance="constant", **{f"{law}_sets": PAIRS[n]}, steps=1500 if quick else 10_000,
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
    result, best, runs = {}, {}, {}
    for case in CASES:
        cfg = config(case, args.quick)
        n, law = CASES[case]
        pairs = PAIRS[n]
        c.say(f"{case}: {cfg.n_instances} instances, {cfg.steps:,} steps")
        log = c.train_or_reuse(cfg, os.path.join(args.out, f"{case}.jsonl"), retrain=args.retrain)
        runs[case] = log
        outcomes = c.best_per_probability(log, cfg.feature_probability)
        rows = []
        for p in cfg.feature_probability:
            b, group = outcomes[p]  # the best seed and every seed trained at this 1 - S
            best[(case, p)] = b
            norms = np.linalg.norm(b.W, axis=0)
            rows.append({"feature_probability": p, "seed": b.seed, "final_loss": b.final_loss, "shape": b.shape,
                         "norms": [round(float(v), 3) for v in norms], "pair_cos": pair_cosines(b.W, pairs),
                         "all_seeds_pair_cos": [pair_cosines(o.W, pairs) for o in group],
                         "all_seeds_shape": [o.shape for o in group], "all_seeds_loss": [o.final_loss for o in group]})
            c.say(f"  1-S={p:.4f}  best seed {b.seed}: {b.shape:<20} norms {np.round(norms, 2)}  "
                  f"pair cos {np.round(rows[-1]['pair_cos'], 2)}")
        result[case] = rows
        if not args.no_video:
            ids = [best[(case, p)].index for p in cfg.feature_probability]
            sub = c.subset_log(log, os.path.join(args.out, f"{case}_best.jsonl"), ids)
            c.render(sub, [os.path.join(args.out, f"{case}.mp4")], grid=True, duration=5 if args.quick else 10,
                     size="1280x720")
    handmade = handmade_check(runs, best, args.quick)
    c.publish(args, "correlated", {"cases": result, "handmade": handmade,
                                   "config": {case: config(case, args.quick).to_dict() for case in CASES}})
    figure(best, handmade, args.quick, args.out)
    return 0


def handmade_check(runs: dict, best: dict, quick: bool) -> list:
    """Per anticorrelated law (n=6) and density: the hexagon of three antipodal pairs against the best
    trained seed, both trained ``HANDMADE_STEPS`` more steps from their weights, on one evaluation set."""
    import _handmade
    from animsup.analysis import geometry
    from animsup.log.reader import read_log
    from animsup.train.data import DataSpec

    hexagon = _handmade.polygon(6, [0, 2, 4, 1, 3, 5])  # pair (i, i+1) at 0/180°, 60/240°, 120/300°
    rows = []
    for law in ("anticorrelated", "exclusive"):
        case = f"n6_{law}"
        run = read_log(runs[case])
        ps = densities(quick)
        W0, b0, probs = [], [], []
        for p in ps:
            k = best[(case, p)].index
            W0 += [hexagon, run.W[-1, k]]
            b0 += [np.full(6, -0.05, dtype=np.float32), run.b[-1, k]]
            probs += [p, p]
        W, _, loss = _handmade.polish(np.stack(W0), np.stack(b0), probs, DataSpec(**{f"{law}_sets": PAIRS[6]}),
                                      steps=200 if quick else HANDMADE_STEPS, eval_samples=16_384 if quick else 200_000)
        for j, p in enumerate(ps):
            h, t = 2 * j, 2 * j + 1
            rows.append({"law": law, "feature_probability": p, "hexagon_loss": float(loss[h]),
                         "hexagon_after": geometry.describe(W[h]).shape,
                         "hexagon_pair_cos": pair_cosines(W[h], PAIRS[6]),
                         "trained_shape": best[(case, p)].shape, "trained_after": geometry.describe(W[t]).shape,
                         "trained_loss": float(loss[t]), "trained_seed": best[(case, p)].seed,
                         "hexagon_W": np.round(W[h], 4).tolist(), "trained_W": np.round(W[t], 4).tolist()})
            c.say(f"  hand-made {law} 1-S={p:.4f}: hexagon of antipodal pairs {loss[h]:.6f} "
                  f"({rows[-1]['hexagon_after']}), best trained {loss[t]:.6f} ({rows[-1]['trained_after']})")
    return rows


def _fmt_cos(cs) -> str:
    return ", ".join(f"{v:+.2f}" for v in cs)


def pair_arrangement(cos: list[float]) -> str:
    """How a seed's pairs sit, from their cosines: "antipodal" (all < -0.9), "orthogonal" (all |cos| < 0.1),
    "side by side" (all in 0.1..0.9), "collapsed" (any > 0.9, two features on one direction), else "mixed"."""
    v = np.asarray(cos)
    if (v < -0.9).all():
        return "antipodal"
    if (np.abs(v) < 0.1).all():
        return "orthogonal"
    if (v > 0.9).any():
        return "collapsed"
    return "side by side" if ((v > 0.1) & (v < 0.9)).all() else "mixed"


def _arrangements(r: dict) -> str:
    """Every seed's pair arrangement with the mean final loss of its seeds (absolute: the best loss of an
    anticorrelated n=4 case is ~0, so ratios to it say nothing), lowest first."""
    groups: dict[str, list[float]] = {}
    for cos, loss in zip(r["all_seeds_pair_cos"], r["all_seeds_loss"]):
        groups.setdefault(pair_arrangement(cos), []).append(loss)
    return ", ".join(f"{k} ×{len(v)} ({np.mean(v):.1e})" for k, v in sorted(groups.items(), key=lambda kv: np.mean(kv[1])))


def docs_table() -> str:
    """docs/figures.md §8: per case and density, the best seed's shape and pair cosines, every seed's
    shape and pair arrangement (with the arrangement's mean final loss), from docs/results/correlated.json."""
    res = c.load_results("correlated")["cases"]
    rows = []
    for case, items in res.items():
        for r in items:
            shapes = {}
            for s in r["all_seeds_shape"]:
                shapes[s] = shapes.get(s, 0) + 1
            rows.append([case.replace("_", ", "), f"{r['feature_probability']:.4f}", r["shape"],
                         _fmt_cos(r["pair_cos"]), ", ".join(f"{k} ×{v}" for k, v in shapes.items()), _arrangements(r)])
    return c.md_table(["case", "1 − S", "best seed's shape", "pair cos (best seed)", "all seeds: shape",
                       "all seeds: pairs (their mean final loss)"], rows)


def handmade_table() -> str:
    """docs/figures.md §8: the hand-made-start check (from docs/results/correlated.json)."""
    rows = []
    for r in c.load_results("correlated")["handmade"]:
        gap = r["trained_loss"] / r["hexagon_loss"] - 1
        rows.append([r["law"], f"{r['feature_probability']:.4f}", f"{r['hexagon_loss']:.3e} ({r['hexagon_after']}; "
                     f"cos {_fmt_cos(r['hexagon_pair_cos'])})", f"{r['trained_loss']:.3e} ({r['trained_shape']} → "
                     f"{r['trained_after']})", f"{gap:+.1%}"])
    return c.md_table(["law (n=6)", "1 − S", "hexagon of 3 antipodal pairs: loss (after)", "best trained seed: loss",
                       "trained vs hexagon"], rows)


def figure(best: dict, handmade: list, quick: bool, out: str) -> None:
    ps = densities(quick)
    rows = list(CASES) + ["hand-made"]
    fig = c.figure(1.3 * len(ps) + 0.6, 1.45 * len(rows))
    for r, case in enumerate(rows):
        for j, p in enumerate(ps):
            if case == "hand-made":  # the hexagon of antipodal pairs after training further, paper's law
                h = next(h for h in handmade if h["law"] == "anticorrelated" and h["feature_probability"] == p)
                W, label = np.array(h["hexagon_W"]), "n6 anticorr.\nhand-made\nhexagon"
            else:
                W, label = best[(case, p)].W, case.replace("_", "\n")
            ax = fig.add_subplot(len(rows), len(ps), r * len(ps) + j + 1)
            shades = np.repeat([1.0, 0.55, 0.2][: W.shape[1] // 2], 2)  # one shade per pair
            c.draw_weights(ax, W, shades, lim=1.5, title=f"1-S={p:.4f}" if r == 0 else "")
            if j == 0:
                ax.set_ylabel(label, fontsize=7)
    fig.suptitle("correlated / anticorrelated (paper's law) / exclusive pairs (0,1), (2,3), (4,5) in m=2, best of the "
                 "seeds;\none shade per pair; last row: the hand-made hexagon of antipodal pairs, trained further",
                 fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.99, bottom=0.01, top=0.92, wspace=0.05, hspace=0.12)
    c.save(fig, os.path.join(out, "correlated.png"))


if __name__ == "__main__":
    c.main_guard(main)
