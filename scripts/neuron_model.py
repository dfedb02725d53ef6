"""The paper's privileged-basis model: h = ReLU(W x), y = ReLU(Wᵀ h + b) (``--model neuron``).

n=10 features, m=5 hidden neurons as in the paper's "Superposition in a Privileged Basis" (which uses
importance 0.75^i and shows the best of 1000 models), here importance 0.7^i, S ∈ {0, 0.7, 0.9}, AdamW lr 1e-3, batch 1024, 10,000 steps, 4 seeds.
The hidden ReLU makes the neuron basis special, so the geometry is not rotation-invariant; the view
is per neuron: each hidden neuron's row of W as stacked bars, one segment per feature (positive
weights up, negative down), coloured by feature (dark = important). The paper's observation: dense
data gives monosemantic neurons (one feature each), sparser data polysemantic ones.

Writes to outputs/neuron_model/: neuron.jsonl, neurons.png, neurons.json (per S and seed: the number
of features with a weight > 0.2 in each neuron, for the best-loss seed and all seeds), and unless
--no-video a video and poster of the best-loss seed at each S (neuron_S<S>.mp4/.png), drawn with the
render's ``neurons`` panel (every neuron-model log gets it: W[j, :] of each neuron as signed bars).

    .venv/bin/python scripts/neuron_model.py [--quick]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np

SPARSITY = [0.0, 0.7, 0.9]
STRONG = 0.2  # a feature "in" a neuron: |W[h, i]| above this


def main() -> int:
    args = c.parser("neuron_model", __doc__).parse_args()
    import matplotlib

    from animsup.analysis.ranking import final_loss
    from animsup.train.config import TrainConfig
    from animsup.log.reader import read_log

    os.makedirs(args.out, exist_ok=True)
    probs = [round(1 - s, 6) for s in SPARSITY]
    seeds = 2 if args.quick else 4
    cfg = TrainConfig(n_features=10, n_hidden=5, model="neuron", importance=0.7, feature_probability=probs,
                      seeds=list(range(seeds)), steps=800 if args.quick else 10_000,
                      batch_size=256 if args.quick else 1024, lr=1e-3, snapshots=40, loss_every=10).validate()
    c.say(f"neuron model n=10, m=5: {len(probs)} sparsities x {seeds} seeds, {cfg.steps:,} steps")
    run = read_log(c.train_or_reuse(cfg, os.path.join(args.out, "neuron.jsonl"), retrain=args.retrain))
    tail = final_loss(run.loss_steps, run.loss_curve)  # the library's final loss (animsup.analysis.ranking)
    W = run.W[-1]  # [k, m, n]
    per_neuron = (np.abs(W) > STRONG).sum(2)  # [k, m] features per neuron
    rows = []
    fig = c.figure(12, 4.4)
    cmap = matplotlib.colormaps["viridis"]
    colors = [cmap(0.9 * i / 9) for i in range(10)]
    for g, p in enumerate(probs):
        ks = list(range(g * seeds, (g + 1) * seeds))
        best = min(ks, key=lambda k: tail[k])
        rows.append({"sparsity": SPARSITY[g], "feature_probability": p, "best_seed": run.header.seed[best],
                     "features_per_neuron_best": per_neuron[best].tolist(),
                     "features_per_neuron_all": [per_neuron[k].tolist() for k in ks]})
        c.say(f"  S = {SPARSITY[g]}: features per neuron (|W| > {STRONG}), best seed {run.header.seed[best]}: "
              f"{per_neuron[best].tolist()}; all seeds {[per_neuron[k].tolist() for k in ks]}")
        ax = fig.add_axes([0.06 + g * 0.32, 0.14, 0.27, 0.68])
        w = W[best]
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
        ax.set_xticklabels([f"n{h}" for h in range(5)])
        ax.set_xlabel("hidden neuron", fontsize=9)
        lim = max(1.5, float(up.max()) * 1.1, float(-down.min()) * 1.1)
        ax.set_ylim(-lim, lim)
        ax.set_title(f"S = {SPARSITY[g]}: features per neuron {per_neuron[best].tolist()}", fontsize=9)
        if g == 0:
            ax.set_ylabel("W[neuron, feature] (stacked)", fontsize=9)
    fig.legend(loc="upper center", ncol=10, fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.99))
    fig.text(0.5, 0.90, "neuron model h = ReLU(Wx), y = ReLU(Wᵀh + b): n=10, m=5, importance 0.7^i "
             "(dark = important), best-loss seed", ha="center", fontsize=10)
    c.save(fig, os.path.join(args.out, "neurons.png"))
    with open(os.path.join(args.out, "neurons.json"), "w") as f:
        json.dump(rows, f, indent=1)
    if not args.no_video:
        log = os.path.join(args.out, "neuron.jsonl")
        for g, S in enumerate(SPARSITY):  # animsup.analysis.ranking's groups: one per 1-S, in the config's order
            name = os.path.join(args.out, f"neuron_S{S:g}")
            c.render(log, [name + ".mp4"], instance=f"best:g{g}", duration=4 if args.quick else 8)
            c.render(log, [name + ".png"], instance=f"best:g{g}")
    return 0


if __name__ == "__main__":
    c.main_guard(main)
