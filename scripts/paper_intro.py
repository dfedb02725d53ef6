"""The intro figure of "Toy Models of Superposition": n=5 features in m=2 dimensions,
importance 0.9^i, feature probability 1-S = 20^-linspace(0, 1, 10), AdamW lr 1e-3, batch 1024,
10,000 steps, several seeds per sparsity (the paper shows the best-loss seed).

As in the notebook, each seed trains the 10 sparsities as one tensor of 10 instances with the
notebook's init (--init notebook: xavier_normal_ on the whole [10, 5, 2] tensor, std
√(2/(2·(5+10))) = 0.26). Training every seed in one tensor instead would shrink the init with the
number of instances (80: std 0.11), which changes the outcome (docs/figures.md §1).

Writes to outputs/paper_intro/: seedN.jsonl (one log per seed), intro_final.png (best seed per
sparsity, final weights), paper_intro.json (shape of every seed; also docs/results/paper_intro.json for a full run, from which
docs_table() builds docs/figures.md §1's table), best.jsonl and intro_grid.mp4
(a grid video of the best seeds). Expected: dense -> 2 orthogonal features; 1-S around 0.2 ->
antipodal pairs; sparse -> pentagons (squares persist in some seeds).

    .venv/bin/python scripts/paper_intro.py [--quick]
"""

from __future__ import annotations

import collections
import os

import _common as c
import numpy as np


def main() -> int:
    args = c.parser("paper_intro", __doc__).parse_args()
    from animsup.analysis import minima
    from animsup.train.config import TrainConfig

    os.makedirs(args.out, exist_ok=True)
    probs = [float(p) for p in 20.0 ** -np.linspace(0, 1, 10)]
    seeds = 2 if args.quick else 8
    c.say(f"paper intro: {len(probs)} sparsities x {seeds} seeds (one 10-instance tensor per seed)")
    logs = []
    for seed in range(seeds):
        cfg = TrainConfig(
            n_features=5, n_hidden=2, model="tied", init="notebook", feature_probability=probs, seeds=[seed],
            importance=0.9, steps=1500 if args.quick else 10_000, batch_size=256 if args.quick else 1024, lr=1e-3,
            optimizer="adamw", snapshots=150, snapshot_schedule="log", loss_every=10,
        ).validate()
        logs.append(c.train_or_reuse(cfg, os.path.join(args.out, f"seed{seed}.jsonl"), retrain=args.retrain))
    log = logs[0]

    outcomes = minima.analyse_logs(logs)
    best = {}
    for o in outcomes:
        if o.feature_probability not in best or o.final_loss < best[o.feature_probability].final_loss:
            best[o.feature_probability] = o
    table = []
    c.say(f"\n{'1-S':>7}  {'best seed':>9}  {'loss':>8}  {'best shape':<16}  all seeds")
    for p in sorted(best, reverse=True):
        shapes = [o.shape for o in outcomes if o.feature_probability == p]
        counts = {s: shapes.count(s) for s in dict.fromkeys(shapes)}
        b = best[p]
        table.append({"feature_probability": p, "best_seed": b.seed, "best_loss": b.final_loss, "best_shape": b.shape,
                      "best_regularity": b.regularity, "shapes": counts})
        c.say(f"{p:>7.3f}  {b.seed:>9}  {b.final_loss:>8.5f}  {b.shape:<16}  "
              + ", ".join(f"{s} x{n}" for s, n in counts.items()))
    inits = init_study(args, probs, seeds, cfg)
    c.publish(args, "paper_intro", {"config": cfg.to_dict() | {"seeds": list(range(seeds))}, "sparsities": table,
                                    "inits": inits})

    # final-frame figure: best seed per sparsity, dense on the left
    from animsup.log.reader import read_header

    imp = read_header(log).importance[0]
    ps = sorted(best, reverse=True)
    fig = c.figure(1.25 * len(ps), 1.75)
    lim = max(np.linalg.norm(best[p].W, axis=0).max() for p in ps) * 1.3
    for j, p in enumerate(ps):
        ax = fig.add_subplot(1, len(ps), j + 1)
        b = best[p]
        c.draw_weights(ax, b.W, imp, lim=lim, title=f"1-S={p:.3f}\n{b.shape}")
    fig.suptitle("Toy Models of Superposition, intro: best of "
                 f"{seeds} seeds per sparsity (n=5, m=2, I=0.9^i, AdamW)", fontsize=8)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.72, wspace=0.05)
    c.save(fig, os.path.join(args.out, "intro_final.png"))

    if not args.no_video:
        sub = c.merge_instances([(best[p].log, best[p].index) for p in ps], os.path.join(args.out, "best.jsonl"))
        c.render(sub, [os.path.join(args.out, "intro_grid.mp4"), os.path.join(args.out, "intro_grid.png")],
                 grid=True, duration=6 if args.quick else 12, size="1280x720")
    return 0


def init_study(args, probs: list[float], seeds: int, cfg) -> dict:
    """The same figure under two other inits: each instance drawn at √(2/(n+m)) (``xavier-per-instance``),
    and every seed in ONE tensor with the notebook's formula (its std shrinks with the instance count).
    Per variant and sparsity, the count of each final shape over the seeds."""
    from animsup.analysis import minima

    variants = {"xavier-per-instance": [cfg.replace(init="xavier-per-instance", seeds=[s]) for s in range(seeds)],
                "notebook, one tensor": [cfg.replace(seeds=list(range(seeds)))]}
    out = {}
    for name, cfgs in variants.items():
        folder = os.path.join(args.out, name.split(",")[0].replace(" ", "_") + ("_one" if "one" in name else ""))
        os.makedirs(folder, exist_ok=True)
        logs = [c.train_or_reuse(k, os.path.join(folder, f"seed{i}.jsonl"), retrain=args.retrain) for i, k in enumerate(cfgs)]
        outcomes = minima.analyse_logs(logs)
        out[name] = {f"{p:.6f}": dict(collections.Counter(o.shape for o in outcomes
                                                          if abs(o.feature_probability - p) < 1e-6).most_common())
                     for p in probs}
        c.say(f"  init {name}: " + "; ".join(f"{float(p):.3f} {v}" for p, v in out[name].items()))
    return out


def init_table() -> str:
    """docs/figures.md §1 (from docs/results/paper_intro.json): the shapes per sparsity under the notebook's init
    (one tensor per seed, the figure's), each instance at √(2/(n+m)), and every seed in one tensor."""
    res = c.load_results("paper_intro")
    n = len(res["config"]["seeds"])
    rows = []
    for r in res["sparsities"]:
        cells = [r["shapes"]] + [_at(res["inits"][v], r["feature_probability"]) for v in ("xavier-per-instance",
                                                                                         "notebook, one tensor")]
        rows.append([f"{r['feature_probability']:.3f}"] + [", ".join(f"{s} ×{k}" for s, k in cell.items()) for cell in cells])
    return c.md_table(["1 − S", f"notebook init, one tensor per seed (the figure; {n} seeds)",
                       "each instance at √(2/(n+m))", f"notebook init, all {n} seeds in one tensor"], rows)


def _at(by_p: dict, p: float) -> dict:
    """The entry of ``by_p`` (keyed by 1 - S as text) nearest to ``p`` (float32 and float64 values differ)."""
    return by_p[min(by_p, key=lambda k: abs(float(k) - p))]


def docs_table() -> str:
    """docs/figures.md §1 (from docs/results/paper_intro.json): per sparsity the best seed's shape and every seed's."""
    res = c.load_results("paper_intro")
    n = len(res["config"]["seeds"])
    rows = [[f"{r['feature_probability']:.3f}", r["best_shape"], ", ".join(f"{s} ×{k}" for s, k in r["shapes"].items())]
            for r in res["sparsities"]]
    return c.md_table(["1 − S", "best seed's shape", f"all {n} seeds"], rows)


if __name__ == "__main__":
    c.main_guard(main)
