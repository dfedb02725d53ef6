"""The paper's feature-geometry experiment: n=200 features in m=20 dimensions, importance 1,
20 instances with 1 - S = 20^(-k/19) (k = 0..19), AdamW lr 1e-3, batch 1024, 10,000 steps.

The notebook initialises W with xavier_normal_ on the whole [n_instances, n_features, n_hidden]
tensor, so its std is sqrt(2 / (m (n + n_instances))) (docs/figures.md cites the source): animsup's
`--init notebook` (the notebook's distribution, other random numbers). The numbers in
docs/figures.md were measured with the equivalent xavier-per-instance init times
sqrt((n + m) / (m (n + n_instances))) = 0.224, which draws the same numbers.

Writes to outputs/feature_geometry/: run.jsonl, dstar.png (D* against 1/(1-S)),
scatter.png (every feature's D_i against 1/(1-S), with the notebook's reference fractions),
geometry.json (the measured numbers) and, unless --no-video, evolution.mp4 (the scatter and D*
during training). --quick: n=40, m=8, 8 instances, 1,500 steps.

    .venv/bin/python scripts/feature_geometry.py [--quick]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np


def config(quick: bool):
    from animsup.train.config import TrainConfig

    n, m, k = (40, 8, 8) if quick else (200, 20, 20)
    probs = [float(p) for p in 20.0 ** -(np.arange(k) / (k - 1))]
    return TrainConfig(
        n_features=n, n_hidden=m, model="tied", init="notebook",
        feature_probability=probs, seeds=[0], importance="constant",
        steps=1500 if quick else 10_000, batch_size=256 if quick else 1024, lr=1e-3, optimizer="adamw",
        snapshots=40 if quick else 80, snapshot_schedule="log", loss_every=10, backend="torch", threads=1,
    ).validate()


def main() -> int:
    args = c.parser("feature_geometry", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    cfg = config(args.quick)
    c.say(f"feature geometry: n={cfg.n_features}, m={cfg.n_hidden}, {cfg.n_instances} sparsities, {cfg.steps:,} steps, "
          f"init {cfg.init}")
    log = c.train_or_reuse(cfg, os.path.join(args.out, "run.jsonl"), retrain=args.retrain)
    from animsup.analysis import dynamics
    from animsup.log.reader import read_log

    run = read_log(log)
    summary = dynamics.geometry_summary(run.W[-1], run.header.instance_probability)
    with open(os.path.join(args.out, "geometry.json"), "w") as f:
        json.dump({"config": cfg.to_dict(), **summary}, f, indent=2)
    c.say(f"\n{'1-S':>7} {'1/(1-S)':>8} {'D*':>6}  features with D_i >= 0.1")
    for row in summary["instances"]:
        c.say(f"{row['feature_probability']:>7.4f} {1 / row['feature_probability']:>8.2f} {row['dims_per_feature']:>6.3f}  "
              f"{row['n_learned']}")
    c.say(f"\nfeatures with D_i >= 0.1 at instances with D* < 0.95: {summary['n_counted']}; within 0.02 of a named "
          f"fraction {summary['named']['fraction']:.3f} (uniform D_i in [0.1, 1] would give "
          f"{summary['named']['chance']:.3f}), of any notebook reference fraction {summary['reference']['fraction']:.3f} "
          f"(uniform: {summary['reference']['chance']:.3f})")
    figures(run, summary, args.out)
    if not args.no_video:
        c.render(log, [os.path.join(args.out, "evolution.mp4"), os.path.join(args.out, "evolution.png")],
                 panels=["dim_scatter", "dims_per_feature"], duration=6 if args.quick else 12, size="1280x720")
    return 0


def figures(run, summary, out: str) -> None:
    from animsup.analysis import geometry
    from animsup.analysis.dynamics import NAMED_LEVELS, REFERENCE_FRACTIONS, fraction_text

    p = np.asarray(run.header.instance_probability, dtype=np.float64)
    x = 1 / p
    dstar = geometry.dims_per_feature(run.W[-1])
    fig = c.figure(6.4, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, dstar, "o-", color="black", ms=4)
    for v in (1.0, 0.5):
        ax.axhline(v, color="#888888", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 − S)")
    ax.set_ylabel("D* = m / ‖W‖²_F")
    ax.set_title(f"dimensions per feature, n={run.header.n_features}, m={run.header.n_hidden}, final step", fontsize=9)
    fig.tight_layout()
    c.save(fig, os.path.join(out, "dstar.png"))

    fig = c.figure(6.4, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    rng = np.random.default_rng(0)
    D = geometry.dimensionality(run.W[-1])  # [k, n]
    for i in range(len(x)):
        keep = D[i] >= 0.1
        xs = x[i] * np.exp(rng.uniform(-0.04, 0.04, keep.sum()))
        ax.scatter(xs, D[i, keep], s=4, color="black", alpha=0.5, lw=0, zorder=3)
    for v, colour in REFERENCE_FRACTIONS:
        ax.axhline(v, color=colour, lw=0.7, alpha=0.6)
    ax.plot(x, dstar, color="#e67e22", lw=1.0, label="D*", zorder=2)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("1 / (1 − S)")
    ax.set_ylabel("D_i")
    named = ", ".join(fraction_text(v) for v in NAMED_LEVELS)
    ax.set_title(f"feature dimensionality D_i (D_i ≥ 0.1, jittered); lines: the notebook's fractions\n"
                 f"{summary['named']['fraction']:.0%} of the points (D* < 0.95) lie within 0.02 of {named}", fontsize=8)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    c.save(fig, os.path.join(out, "scatter.png"))


if __name__ == "__main__":
    c.main_guard(main)
