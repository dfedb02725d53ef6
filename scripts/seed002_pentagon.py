"""Seed 002's pentagon video and the same settings with the exact gradient beside it.

n=5, m=2, 1-S = 0.1, importance 0.7^i, seed 002's set-up (W, b ~ U[0, 0.001), a fixed data
set of 100,000 samples, batch 1024, plain SGD with lr 1, loss ½·Σ_i I_i (y_i − x_i)²), on the
numpy backend with seed 002's printed ("blog") gradient and with the exact gradient, several seeds.

Writes to outputs/seed002_pentagon/: blog.jsonl, exact.jsonl, seed002_pentagon.json (final shape and
loss of every seed; also docs/results/seed002_pentagon.json for a full run, from which docs_table()
builds docs/figures.md §3's table), pentagon_final.png (best seed of each, final weights and loss curves),
blog.mp4, exact.mp4 (annotated, best seed) and side_by_side.mp4.

    .venv/bin/python scripts/seed002_pentagon.py [--quick]
"""

from __future__ import annotations

import os

import _common as c


def config(gradient: str, quick: bool):
    from animsup.train.config import TrainConfig

    return TrainConfig(
        n_features=5, n_hidden=2, model="tied", init="blog", feature_probability=[0.1],
        seeds=list(range(4 if quick else 16)), importance=0.7, dataset_size=100_000, loss_reduction="half-sum",
        steps=2000 if quick else 10_000, batch_size=1024, lr=1.0, optimizer="sgd", backend="numpy",
        gradient=gradient, snapshots=200, snapshot_schedule="log", loss_every=1,
    ).validate()


def main() -> int:
    args = c.parser("seed002_pentagon", __doc__).parse_args()
    from animsup.analysis import minima
    from animsup.log.reader import read_log

    os.makedirs(args.out, exist_ok=True)
    logs, outcomes, summary = {}, {}, {}
    for gradient in ("blog", "exact"):
        cfg = config(gradient, args.quick)
        c.say(f"seed 002 n=5, {gradient} gradient: {cfg.n_instances} seeds x {cfg.steps:,} steps")
        logs[gradient] = c.train_or_reuse(cfg, os.path.join(args.out, f"{gradient}.jsonl"), retrain=args.retrain)
        outcomes[gradient] = minima.analyse_logs([logs[gradient]])
        shapes = [o.shape for o in outcomes[gradient]]
        summary[gradient] = {
            "shapes": {s: shapes.count(s) for s in sorted(set(shapes))},
            "per_seed": [{"seed": o.seed, "shape": o.shape, "final_loss": o.final_loss} for o in outcomes[gradient]],
        }
        c.say(minima.format_summary(minima.shape_summary(outcomes[gradient]), len(shapes), title=f"{gradient}: shape"))
    summary["config"] = {g: config(g, args.quick).to_dict() for g in ("blog", "exact")}
    c.publish(args, "seed002_pentagon", summary)

    # figure: best seed of each gradient, final weights + loss curves
    fig = c.figure(9, 3.2)
    best = {g: min(outcomes[g], key=lambda o: o.final_loss) for g in logs}
    loss_ax = fig.add_axes([0.7, 0.15, 0.28, 0.72])
    for j, g in enumerate(("blog", "exact")):
        b = best[g]
        run = read_log(logs[g], [b.index])
        ax = fig.add_axes([0.01 + 0.3 * j, 0.05, 0.28, 0.8])
        share = summary[g]["shapes"].get("pentagon", 0)
        c.draw_weights(ax, b.W, run.header.importance[0],
                       title=f"{g} gradient, seed {b.seed}: {b.shape}\n"
                             f"pentagons in {share}/{len(outcomes[g])} seeds")
        from animsup.analysis.events import smooth

        loss_ax.plot(run.loss_steps, smooth(run.loss_curve[:, 0], 100), label=f"{g} (seed {b.seed})", lw=1)
    loss_ax.set_xscale("symlog", linthresh=100)
    loss_ax.set_yscale("log")
    from matplotlib.ticker import NullFormatter

    loss_ax.yaxis.set_minor_formatter(NullFormatter())
    loss_ax.set_xlabel("step", fontsize=8)
    loss_ax.set_title("loss (moving average of 100 steps)", fontsize=8)
    loss_ax.tick_params(labelsize=7)
    loss_ax.legend(fontsize=7)
    c.save(fig, os.path.join(args.out, "pentagon_final.png"))

    if not args.no_video:
        videos = []
        for g in ("blog", "exact"):
            out = os.path.join(args.out, f"{g}.mp4")
            if c.render(logs[g], out, instance=best[g].index, annotate=True, duration=8 if args.quick else 15,
                        size="960x540"):
                videos.append(out)
        if len(videos) == 2:
            c.hstack_videos(*videos, os.path.join(args.out, "side_by_side.mp4"),
                            labels=(f"seed 002's (blog) gradient, seed {best['blog'].seed}: {best['blog'].shape}",
                                    f"exact gradient, seed {best['exact'].seed}: {best['exact'].shape}"))
    return 0


def docs_table() -> str:
    """docs/figures.md §3 (from docs/results/seed002_pentagon.json): the shapes of every seed per gradient,
    the mean final loss of each shape and its range."""
    res = c.load_results("seed002_pentagon")
    rows = []
    for g, name in (("blog", "seed 002's printed (\"blog\")"), ("exact", "exact")):
        per = res[g]["per_seed"]
        shapes = ", ".join(f"{s} ×{n}" for s, n in sorted(res[g]["shapes"].items(), key=lambda t: -t[1]))
        losses = []
        for s in sorted(res[g]["shapes"], key=lambda t: -res[g]["shapes"][t]):
            v = [o["final_loss"] for o in per if o["shape"] == s]
            losses.append(f"{s}: {sum(v) / len(v):.5f} ({min(v):.5f}–{max(v):.5f})")
        rows.append([name, f"{shapes} (of {len(per)})", "; ".join(losses)])
    return c.md_table(["gradient", "final shapes", "final loss per shape: mean (range)"], rows)


if __name__ == "__main__":
    c.main_guard(main)
