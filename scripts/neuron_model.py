"""The paper's privileged-basis model: h = ReLU(W x), y = ReLU(Wᵀ h + b) (``--model neuron``).

The paper's setting ("Superposition in a Privileged Basis"): n=10 features, m=5 neurons, importance
0.75^i; "for each model shown, we trained 1000 models and visualized the one with the lowest loss".
Here: the sparsities of its regimes, 1 - S ∈ {0.7, 0.35, 0.15, 0.12, 0.08, 0.05, 0.03}, ``--models``
models each (default 1000), all in ONE batched run (AdamW, batch 1024, 10,000 steps by default;
the paper gives neither steps nor lr, the notebook's AdamW lr 1e-3 is the default), and the
lowest-loss model per sparsity (animsup.analysis.ranking) is measured against the paper's regimes:

    1 - S >= 0.5    all monosemantic: 5 features, each on its own neuron
    0.2-0.5         the 3 most important on dedicated neurons + 3 features in a binary code on 2 neurons
    0.15            5 features in 3 neurons, 2 monosemantic: 7 features
    0.12            6 features in 4 neurons, 1 monosemantic: 7 features
    0.05-0.08       8 features in 5 neurons, all polysemantic
    <= 0.04         each feature a pair of neurons: 10 features, all polysemantic

Per model: the features it represents (‖W_i‖ > 0.5), the features each neuron stores (W[h, i] > 0.2
for a represented feature; weights below -0.2 inhibit and are counted apart), monosemantic neurons
(storing exactly one), the neurons that store each feature. The view is
per neuron: each neuron's row of W as stacked bars, one segment per feature (positive up, negative
down), coloured by feature (dark = important).

Writes to outputs/neuron_model/: neuron.jsonl, neurons.png, neuron_model.json (also
docs/results/neuron_model.json for a full run: docs/figures.md §11's table, docs_table()) and unless
--no-video a video and poster of the best model at each sparsity (neuron_p<1-S>.mp4/.png), drawn
with the render's ``neurons`` panel. --quick: 3 sparsities x 8 models, 600 steps, batch 256.
On a GPU: ``--device cuda`` (bench/gpu/neuron_model.py runs the paper's size).

    .venv/bin/python scripts/neuron_model.py [--quick] [--models N] [--steps N] [--batch-size B] [--lr LR]
"""

from __future__ import annotations

import os

import _common as c
import numpy as np

PROBABILITIES = [0.7, 0.35, 0.15, 0.12, 0.08, 0.05, 0.03]
QUICK_PROBABILITIES = [0.7, 0.12, 0.03]
STRONG = 0.2  # a feature "in" a neuron: |W[h, i]| above this
REPRESENTED = 0.5  # a feature represented: ‖W_i‖ above this
#: the paper's regimes: (lowest 1 - S, highest 1 - S, represented features, monosemantic neurons, what it says)
REGIMES = [
    (0.5, 1.0, 5, 5, "all monosemantic"),
    (0.2, 0.5, 6, 3, "3 dedicated + 3 features in a binary code on 2 neurons"),
    (0.15, 0.15, 7, 2, "5 features in 3 neurons, 2 monosemantic"),
    (0.12, 0.12, 7, 1, "6 features in 4 neurons, 1 monosemantic"),
    (0.05, 0.08, 8, 0, "8 features in 5 neurons, all polysemantic"),
    (0.0, 0.04, 10, 0, "each feature a pair of neurons"),
]


def regime(p: float):
    """The paper's regime at 1 - S = ``p`` (None between the stated ranges)."""
    return next((r for r in REGIMES if r[0] - 1e-9 <= p <= r[1] + 1e-9), None)


def neuron_census(W: np.ndarray) -> dict:
    """What one neuron model stores. W: (shape: [5, 10]) neurons x features.

    A neuron stores feature i when W[h, i] > STRONG (the ReLU passes it) and i is represented
    (‖W_i‖ > REPRESENTED); a negative weight below -STRONG inhibits (the paper's stack plots draw it
    below the axis: in the binary code of its 0.2-0.5 regime each of the two neurons stores two of the
    three features and inhibits the third)."""
    rep = np.linalg.norm(W, axis=0) > REPRESENTED
    stores = (W > STRONG) & rep[None, :]
    per_neuron = stores.sum(1)
    return {"represented": int(rep.sum()), "features_per_neuron": per_neuron.tolist(),
            "monosemantic": int((per_neuron == 1).sum()), "polysemantic": int((per_neuron > 1).sum()),
            "neurons_per_feature": [int(v) for v in stores.sum(0)[rep]],
            "inhibitions": int(((W < -STRONG) & rep[None, :]).sum())}


def main() -> int:
    p = c.parser("neuron_model", __doc__)
    p.add_argument("--models", type=int, default=None, help="models per sparsity (default 1000; --quick 8)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 10,000; --quick 600)")
    p.add_argument("--batch-size", type=int, default=None, help="batch (default 1024; --quick 256)")
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (default 1e-3, the notebook's)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    args = p.parse_args()
    from animsup.analysis.ranking import final_loss
    from animsup.log.reader import read_log
    from animsup.train.config import TrainConfig

    os.makedirs(args.out, exist_ok=True)
    probs = QUICK_PROBABILITIES if args.quick else PROBABILITIES
    models = args.models or (8 if args.quick else 1000)
    steps = args.steps or (600 if args.quick else 10_000)
    k = models * len(probs)
    cfg = TrainConfig(n_features=10, n_hidden=5, model="neuron", importance=0.75, feature_probability=probs,
                      seeds=list(range(models)), steps=steps, batch_size=args.batch_size or (256 if args.quick else 1024),
                      lr=args.lr, device=args.device, snapshots=max(2, min(40, 40_000 // k)),
                      loss_every=max(10, steps // 200)).validate()
    c.say(f"neuron model n=10, m=5, importance 0.75^i: {len(probs)} sparsities x {models} models, {cfg.steps:,} steps, "
          f"batch {cfg.batch_size}, lr {cfg.lr:g}")
    log = c.train_or_reuse(cfg, os.path.join(args.out, "neuron.jsonl"), retrain=args.retrain)
    run = read_log(log)
    tail = final_loss(run.loss_steps, run.loss_curve)  # the library's final loss (animsup.analysis.ranking)
    W = run.W[-1]  # [k, m, n]
    rows, best_ids = [], []
    for g, pr in enumerate(probs):
        ks = list(range(g * models, (g + 1) * models))
        best = min(ks, key=lambda i: tail[i])
        best_ids.append(best)
        census = [neuron_census(W[i]) for i in ks]
        same = [(cs["represented"], cs["monosemantic"]) for cs in census]
        reg = regime(pr)
        row = {"feature_probability": pr, "best_seed": run.header.seed[best], "best_loss": float(tail[best]),
               **neuron_census(W[best]), "W_best": np.round(W[best], 3).tolist(),
               "paper": None if reg is None else {"represented": reg[2], "monosemantic": reg[3], "says": reg[4]},
               "models": models,
               "share_like_best": float(np.mean([s == same[ks.index(best)] for s in same])),
               "share_like_paper": None if reg is None else float(np.mean([s == (reg[2], reg[3]) for s in same])),
               "median_change_last_quarter": late_change(run.loss_steps, run.loss_curve, ks)}
        rows.append(row)
        c.say(f"  1-S = {pr}: best of {models} (seed {row['best_seed']}): {row['represented']} features, "
              f"{row['monosemantic']} monosemantic neurons, per neuron {row['features_per_neuron']}; "
              f"paper: {reg[4] if reg else '-'}; models like the paper's: {row['share_like_paper']}")
    c.publish(args, "neuron_model", {"config": cfg.to_dict(), "sparsities": rows, "wall_seconds": _wall(run)})
    figure(W, best_ids, rows, args.out)
    if not args.no_video:
        for g, pr in enumerate(probs):  # animsup.analysis.ranking's groups: one per 1-S, in the config's order
            name = os.path.join(args.out, f"neuron_p{pr:g}")
            c.render(log, [name + ".mp4"], instance=f"best:g{g}", duration=4 if args.quick else 8)
            c.render(log, [name + ".png"], instance=f"best:g{g}")
    return 0


def late_change(steps, curve, ks: list[int]) -> float:
    """The median model's relative loss change over the last quarter of training: the mean logged loss
    of steps in the last 5 % against that of the 5 % ending at three quarters (a convergence check)."""
    steps, curve = np.asarray(steps), np.asarray(curve)[:, ks]
    end = steps[-1]
    late = curve[steps >= 0.95 * end].mean(0)
    before = curve[(steps >= 0.70 * end) & (steps <= 0.75 * end)].mean(0)
    return round(float(np.median(late / before - 1)), 4)


def _wall(run) -> float | None:
    end = getattr(run, "end", None) or {}
    return end.get("wall_seconds") if isinstance(end, dict) else None


def figure(W, best_ids, rows, out: str) -> None:
    import matplotlib

    fig = c.figure(2.0 * len(rows) + 0.4, 4.4)
    cmap = matplotlib.colormaps["viridis"]
    colors = [cmap(0.9 * i / 9) for i in range(10)]
    for g, (k, row) in enumerate(zip(best_ids, rows)):
        ax = fig.add_axes([0.04 + g * 0.955 / len(rows), 0.1, 0.78 / len(rows), 0.6])
        w = W[k]
        up, down = np.zeros(5), np.zeros(5)
        for i in range(10):
            pos, neg = np.clip(w[:, i], 0, None), np.clip(w[:, i], None, 0)
            ax.bar(np.arange(5), pos, bottom=up, color=colors[i], edgecolor="white", linewidth=0.5,
                   label=f"feature {i}" if g == 0 else None)
            ax.bar(np.arange(5), neg, bottom=down, color=colors[i], edgecolor="white", linewidth=0.5)
            up += pos
            down += neg
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(5))
        ax.set_xticklabels([f"n{h}" for h in range(5)], fontsize=7)
        ax.tick_params(labelsize=7)
        lim = max(1.5, float(up.max()) * 1.1, float(-down.min()) * 1.1)
        ax.set_ylim(-lim, lim)
        paper = row["paper"]
        ax.set_title(f"1−S = {row['feature_probability']:g}\n{row['represented']} features, {row['monosemantic']} mono"
                     + (f"\n(paper: {paper['represented']}, {paper['monosemantic']})" if paper else ""), fontsize=8)
    fig.legend(loc="upper center", ncol=10, fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.995))
    fig.text(0.5, 0.895, f"neuron model h = ReLU(Wx), y = ReLU(Wᵀh + b): n=10, m=5, importance 0.75^i; the lowest-loss "
             f"of {rows[0]['models']} models per sparsity; W[neuron, feature] stacked per neuron", ha="center", fontsize=9)
    c.save(fig, os.path.join(out, "neurons.png"))


def docs_table() -> str:
    """docs/figures.md §11 (from docs/results/neuron_model.json): the best model per sparsity against the
    paper's regime."""
    res = c.load_results("neuron_model")
    rows = []
    for r in res["sparsities"]:
        paper = r["paper"]
        rows.append([f"{r['feature_probability']:g}", paper["says"] if paper else "—",
                     f"{paper['represented']}, {paper['monosemantic']}" if paper else "—",
                     f"{r['represented']}, {r['monosemantic']}", ", ".join(map(str, r["features_per_neuron"])),
                     ", ".join(map(str, r["neurons_per_feature"])),
                     "—" if r["share_like_paper"] is None else f"{100 * r['share_like_paper']:.0f} %"])
    models = res["sparsities"][0]["models"]
    return c.md_table(["1 − S", "the paper's regime", "paper: features, monosemantic neurons",
                       f"best of {models}: features, monosemantic", "features per neuron (best)",
                       "neurons storing each represented feature (best)", f"of the {models} models: as the paper's"], rows)


if __name__ == "__main__":
    c.main_guard(main)
