"""The paper's basic results: a linear model against the ReLU model, n=20 features in m=5
dimensions, importance 0.7^i, S in {0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999}, AdamW lr 1e-3,
batch 1024, 10,000 steps, 3 seeds per sparsity (the best-loss seed is shown).

Writes to outputs/basic_results/: linear.jsonl, relu.jsonl, basic_results.png (per S: WᵀW and
the feature norms ‖W_i‖ coloured by superposition Σ_{j≠i}(Ŵ_i·W_j)², linear above ReLU) and
basic_results.json (the measured numbers; also docs/results/basic_results.json for a full run, from which
docs_table() builds docs/figures.md §5's table). --quick: 1,500 steps, batch 256, 1 seed.

    .venv/bin/python scripts/basic_results.py [--quick]
"""

from __future__ import annotations

import os

import _common as c
import numpy as np

SPARSITIES = (0.0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999)


def config(model: str, quick: bool):
    from animsup.train.config import TrainConfig

    return TrainConfig(
        n_features=20, n_hidden=5, model=model, feature_probability=[round(1 - s, 6) for s in SPARSITIES],
        seeds=[0] if quick else [0, 1, 2], importance=0.7, steps=1500 if quick else 10_000,
        batch_size=256 if quick else 1024, lr=1e-3, optimizer="adamw", snapshots=20, loss_every=10, threads=1,
    ).validate()


def measure(W, importance_order=True) -> dict:
    """What the paper's statement is about, for one instance's W (shape: [5, 20])."""
    from animsup.analysis import geometry

    norms = geometry.feature_norms(W)
    rep = np.flatnonzero(norms > 0.5)
    sup = geometry.interference(W)
    Wh = W[:, rep] / norms[rep]
    cos = Wh.T @ Wh
    off = cos[~np.eye(len(rep), dtype=bool)]
    WtW = W.T @ W
    off_all = WtW[~np.eye(len(WtW), dtype=bool)]
    return {"represented": [int(i) for i in rep], "n_represented": int(len(rep)),
            "top_features_first": bool(list(rep) == list(range(len(rep)))),
            "max_abs_cos_between_represented": float(np.abs(off).max()) if len(off) else 0.0,
            "n_in_superposition": int((sup[rep] > 0.1).sum()),
            "min_offdiag_WtW": float(off_all.min()), "max_offdiag_WtW": float(off_all.max())}


def main() -> int:
    args = c.parser("basic_results", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    best, table = {}, {"sparsities": list(SPARSITIES)}
    for model, name in (("linear", "linear"), ("tied", "relu")):
        cfg = config(model, args.quick)
        c.say(f"{name}: {cfg.n_instances} instances, {cfg.steps:,} steps")
        log = c.train_or_reuse(cfg, os.path.join(args.out, f"{name}.jsonl"), retrain=args.retrain)
        outcomes = c.best_per_probability(log, cfg.feature_probability)
        rows = []
        for p in cfg.feature_probability:
            b, _ = outcomes[p]
            W = b.W
            best[(name, p)] = W
            rows.append({"S": round(1 - p, 6), "seed": b.seed, "final_loss": b.final_loss, **measure(W)})
        table[name] = rows
    table["config"] = {name: config(model, args.quick).to_dict() for model, name in (("linear", "linear"), ("tied", "relu"))}
    c.publish(args, "basic_results", table)
    c.say(f"\n{'S':>6}  {'linear: n, top-5?, max|cos|':<30}  ReLU: represented, in superposition, min WᵀW off-diag")
    for lin, rel in zip(table["linear"], table["relu"]):
        c.say(f"{lin['S']:>6}  {lin['n_represented']:>2} {str(lin['top_features_first']):<5} "
              f"{lin['max_abs_cos_between_represented']:<18.3f}  {rel['n_represented']:>2} {rel['n_in_superposition']:>3} "
              f"{rel['min_offdiag_WtW']:>8.3f}")
    figure(best, args.out)
    return 0


def figure(best: dict, out: str) -> None:
    import matplotlib

    from animsup.analysis import geometry

    k = len(SPARSITIES)
    fig = c.figure(1.6 * k, 7.2)
    gs = fig.add_gridspec(4, k, height_ratios=[1, 1, 1, 1], hspace=0.35, wspace=0.25,
                          left=0.07, right=0.99, top=0.93, bottom=0.03)
    cmap = matplotlib.colormaps["viridis"]
    for row, name in enumerate(("linear", "relu")):
        for j, s in enumerate(SPARSITIES):
            W = best[(name, round(1 - s, 6))]
            ax = fig.add_subplot(gs[2 * row, j])
            ax.imshow(W.T @ W, cmap="RdBu", vmin=-1.3, vmax=1.3)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"S = {s}", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{'Linear' if name == 'linear' else 'ReLU'}\nWᵀW", fontsize=8)
            bars = fig.add_subplot(gs[2 * row + 1, j])
            norms = geometry.feature_norms(W)
            sup = np.clip(geometry.interference(W), 0, 1)
            bars.barh(np.arange(len(norms)), norms, color=cmap(sup), height=0.8)
            bars.set_xlim(0, 1.3)
            bars.invert_yaxis()
            bars.set_yticks([])
            bars.tick_params(labelsize=6)
            if j == 0:
                bars.set_ylabel("‖W_i‖", fontsize=8)
    fig.suptitle("basic results: n=20, m=5, importance 0.7^i; bars coloured by superposition "
                 "Σ_{j≠i}(Ŵ_i·W_j)² (dark 0 → yellow ≥ 1)", fontsize=9)
    c.save(fig, os.path.join(out, "basic_results.png"))


def docs_table() -> str:
    """docs/figures.md §5 (from docs/results/basic_results.json): the best seed per S, linear and ReLU."""
    res = c.load_results("basic_results")
    rows = []
    for lin, rel in zip(res["linear"], res["relu"]):
        rep = lin["represented"]
        lin_rep = f"{rep[0]}–{rep[-1]}" if rep == list(range(rep[0], rep[-1] + 1)) and len(rep) > 1 else str(rep)
        rows.append([f"{lin['S']:g}", lin_rep, f"{lin['max_abs_cos_between_represented']:.4f}", rel["n_represented"],
                     rel["n_in_superposition"], f"{rel['min_offdiag_WtW']:.3f}".replace("-", "−")])
    return c.md_table(["S", "linear: represented", "linear: max \\|cos\\| between them", "ReLU: represented",
                       "ReLU: in superposition", "ReLU: most negative WᵀW off-diagonal"], rows)


if __name__ == "__main__":
    c.main_guard(main)
