"""The paper's feature-geometry experiment ("Toy Models of Superposition", section "The Geometry of
Superposition", "Uniform Superposition": n=400 features in m=30 dimensions, importance 1; the notebook
runs n=200, m=20): 20 instances with 1 - S = 20^(-k/19) (k = 0..19), AdamW lr 1e-3, batch 1024,
10,000 steps (the notebook's).

The result is a census: per instance, the connected components of the feature graph (|Ŵ_i·Ŵ_j| > 0.1
among features with D_i >= 0.1; the paper's "feature geometry graph", whose components are tegum
factors), each with its size and rank (a uniform factor has D = rank/size): animsup.analysis.geometry.census.

The notebook initialises W with xavier_normal_ on the whole [n_instances, n_features, n_hidden]
tensor, so its std is sqrt(2 / (m (n + n_instances))) (docs/figures.md cites the source): animsup's
`--init notebook` (the notebook's distribution, other random numbers). The numbers in
docs/figures.md were measured with the equivalent xavier-per-instance init times
sqrt((n + m) / (m (n + n_instances))) = 0.224, which draws the same numbers.

Writes to outputs/feature_geometry/: run_<size>_<steps>.jsonl, dstar.png (D* against 1/(1-S)),
scatter.png (every feature's D_i against 1/(1-S), coloured by its component), census_<size>.json (the
census per instance: docs/results/feature_geometry_census.json is a copy) and, unless --no-video,
evolution.mp4 (the scatter and D* during training). --quick: n=40, m=8, 8 instances, 1,500 steps;
--size mid: n=100, m=10.

    .venv/bin/python scripts/feature_geometry.py [--quick] [--size paper|notebook|mid] [--steps N] [--device cuda]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np


SIZES = {"paper": (400, 30, 20), "notebook": (200, 20, 20), "mid": (100, 10, 20), "quick": (40, 8, 8)}  # n_features, n_hidden, sparsities


def config(size: str, device: str = "auto", steps: int | None = None):
    from animsup.train.config import TrainConfig

    quick = size == "quick"
    n, m, k = SIZES[size]
    probs = [float(p) for p in 20.0 ** -(np.arange(k) / (k - 1))]
    return TrainConfig(
        n_features=n, n_hidden=m, model="tied", init="notebook",
        feature_probability=probs, seeds=[0], importance="constant",
        steps=steps or (1500 if quick else 10_000), batch_size=256 if quick else 1024, lr=1e-3, optimizer="adamw",
        snapshots=40 if quick else 80, snapshot_schedule="log", loss_every=10, backend="torch", threads=1, device=device,
    ).validate()


def main() -> int:
    p = c.parser("feature_geometry", __doc__)
    p.add_argument("--size", choices=["paper", "notebook", "mid"], default="paper",
                   help="paper: n=400, m=30 (the paper's uniform-superposition set-up); notebook: n=200, m=20; mid: n=100, m=10")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 10,000, the notebook's; --quick 1,500)")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    if args.steps is not None and args.steps < 1:
        from animsup.errors import AnimsupError

        raise AnimsupError(f"--steps must be at least 1, got {args.steps}")
    os.makedirs(args.out, exist_ok=True)
    size = "quick" if args.quick else args.size
    cfg = config(size, args.device, args.steps)
    c.say(f"feature geometry: n={cfg.n_features}, m={cfg.n_hidden}, {cfg.n_instances} sparsities, {cfg.steps:,} steps, "
          f"init {cfg.init}")
    log = c.train_or_reuse(cfg, os.path.join(args.out, f"run_{size}_{cfg.steps}.jsonl"), retrain=args.retrain)
    from animsup.log.reader import read_log

    run = read_log(log)
    summary = census_summary(run.W[-1], run.header.instance_probability)
    result = {"source": f"scripts/feature_geometry.py {'--quick' if args.quick else f'--size {size}'}"
                        + (f" --steps {cfg.steps}" if args.steps else ""),
              "n_features": cfg.n_features, "n_hidden": cfg.n_hidden, "steps": cfg.steps, **summary}
    with open(os.path.join(args.out, f"geometry_{size}.json"), "w") as f:
        json.dump({"config": cfg.to_dict(), **result}, f, indent=1)
    with open(os.path.join(args.out, f"census_{size}.json"), "w") as f:  # the small result (docs/results/)
        json.dump(result, f, indent=1)
    c.say(f"\n{'1-S':>7} {'D*':>6} {'D_i>=0.1':>8}  components of |Ŵ_i·Ŵ_j| > 0.1 (size/rank: name)")
    for row in summary["instances"]:
        c.say(f"{row['feature_probability']:>7.4f} {row['dims_per_feature']:>6.3f} {row['n_learned']:>8}  {census_text(row['census'])}")
    figures(run, summary, args.out)
    if not args.no_video:
        c.render(log, [os.path.join(args.out, "evolution.mp4"), os.path.join(args.out, "evolution.png")],
                 panels=["dim_scatter", "dims_per_feature"], duration=6 if args.quick else 12, size="1280x720")
    return 0


def census_summary(W, feature_probability) -> dict:
    """Per instance: 1 − S, D*, the features with D_i >= 0.1 and the census of their connected components
    (animsup.analysis.geometry.census): {name: count} and each component's size, rank and mean D_i.

    :param W: (shape: [n_instances, n_hidden, n_features])"""
    from animsup.analysis import geometry

    W = np.asarray(W, dtype=np.float64)
    D = geometry.dimensionality(W)
    dstar = geometry.dims_per_feature(W)
    rows = []
    for k, p in enumerate(feature_probability):
        comps = geometry.census(W[k])
        rows.append({"feature_probability": round(float(p), 6), "dims_per_feature": round(float(dstar[k]), 4),
                     "n_learned": int((D[k] >= geometry.CENSUS_MIN_DIM).sum()), "census": geometry.census_counts(comps),
                     "components": [[g["size"], g["rank"], round(g["D_mean"], 4)] for g in comps]})
    return {"census_rule": f"components of |Ŵ_i·Ŵ_j| > {geometry.CENSUS_LINK} among features with "
                           f"D_i >= {geometry.CENSUS_MIN_DIM}; rank: singular values > {geometry.RANK_TOLERANCE} × the largest",
            "instances": rows}


def census_text(counts: dict) -> str:
    """{"digon": 9, "triangle": 1} → "9 digons + triangle"."""
    if not counts:
        return "—"
    parts = []
    for name, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        parts.append(name if k == 1 else f"{k} × {name}")
    return " + ".join(parts)


RESULT = os.path.join(c.ROOT, "docs", "results", "feature_geometry_census.json")


def docs_table(path: str = RESULT) -> str:
    """docs/figures.md §6's census table, from the committed docs/results/feature_geometry_census.json."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    lines = ["| 1 − S | D* | features with D_i ≥ 0.1 | connected components (count × name; a name is size/rank) |",
             "|---|---|---|---|"]
    for row in d["instances"]:
        lines.append(f"| {row['feature_probability']:.3f} | {row['dims_per_feature']:.3f} | {row['n_learned']} | "
                     f"{census_text(row['census'])} |")
    return "\n".join(lines)


COMPONENT_COLOURS = {"dedicated": "#7f7f7f", "digon": "#1f77b4", "square": "#17becf", "triangle": "#2ca02c", "tetrahedron": "#9467bd",
                     "pentagon": "#d62728", "square antiprism": "#ff7f0e"}


def figures(run, summary, out: str) -> None:
    from animsup.analysis import geometry
    from animsup.analysis.dynamics import REFERENCE_FRACTIONS

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

    fig = c.figure(6.4, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    rng = np.random.default_rng(0)
    D = geometry.dimensionality(run.W[-1])  # [k, n]
    for i in range(len(x)):
        for comp in geometry.census(run.W[-1][i]):
            f = comp["features"]
            xs = x[i] * np.exp(rng.uniform(-0.04, 0.04, len(f)))
            ax.scatter(xs, D[i, f], s=5, color=COMPONENT_COLOURS.get(comp["name"], "black"), alpha=0.6, lw=0, zorder=3)
    for v, colour in REFERENCE_FRACTIONS:
        ax.axhline(v, color=colour, lw=0.6, alpha=0.4)
    ax.plot(x, dstar, color="#e67e22", lw=1.0, zorder=2)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", lw=0, color=col, label=name) for name, col in COMPONENT_COLOURS.items()]
    handles += [Line2D([], [], marker="o", lw=0, color="black", label="other component"),
                Line2D([], [], color="#e67e22", label="D*")]
    ax.legend(handles=handles, loc="upper right", fontsize=6, ncol=2)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("1 / (1 − S)")
    ax.set_ylabel("D_i")
    ax.set_title(f"D_i (≥ 0.1, jittered), coloured by the feature's connected component (|Ŵ_i·Ŵ_j| > 0.1: size/rank)\n"
                 f"n={run.header.n_features}, m={run.header.n_hidden}; lines: the notebook's reference fractions", fontsize=8)
    fig.tight_layout()
    c.save(fig, os.path.join(out, "scatter.png"))


if __name__ == "__main__":
    c.main_guard(main)
