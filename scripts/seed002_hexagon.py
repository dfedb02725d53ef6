"""Seed 002's n=32 local minimum: a pentagon or a hexagon? A local-minima study over many seeds.

n=32, m=2, importance 0.9^i, 1-S = 0.1, seed 002's set-up (W, b ~ U[0, 0.001), fixed data set of
100,000 samples, batch 1024, loss ½·Σ_i I_i (y_i − x_i)², 10,000 steps), three ways:
  blog   SGD lr 1 with seed 002's printed gradient (what its video shows),
  exact  SGD lr 1 with the exact gradient,
  adamw  AdamW lr 1e-3 (weight decay 0.01) with autograd (the paper's optimiser),
  c      seed 002's C program itself (bench/c/seed002.c, compiled with gcc; skipped without it),
         one process per srandom seed, its output imported with `animsup import --format c-log`.

Writes to outputs/seed002_hexagon/<study>/: run.jsonl, results.csv/json, gallery.png; and
study.json (share of each shape and loss gaps per study), hexagon.mp4 (an annotated hexagon run
of the blog study) and worst.mp4.

    .venv/bin/python scripts/seed002_hexagon.py [--quick] [--seeds K]
"""

from __future__ import annotations

import json
import os

import _common as c

STUDIES = {
    "blog": dict(optimizer="sgd", lr=1.0, backend="numpy", gradient="blog"),
    "exact": dict(optimizer="sgd", lr=1.0, backend="numpy", gradient="exact"),
    "adamw": dict(optimizer="adamw", lr=1e-3, backend="torch", gradient="exact"),
}


def config(study: str, seeds: int, quick: bool):
    from animsup.train.config import TrainConfig

    return TrainConfig(
        n_features=32, n_hidden=2, model="tied", init="blog", feature_probability=[0.1], seeds=list(range(seeds)),
        importance=0.9, dataset_size=100_000, loss_reduction="half-sum", steps=1500 if quick else 10_000,
        batch_size=1024, snapshots=150, snapshot_schedule="log", loss_every=1, **STUDIES[study],
    ).validate()


def c_program_logs(folder: str, seeds: int, runs: int, retrain: bool) -> list:
    """Compile bench/c/seed002.c, run it for srandom seeds 1..seeds (n=32, m=2, 0.9, 1-S=0.1,
    lr 1, 100,000 samples, batch 1024) and import each output. [] if gcc or the source is missing.
    (Seeds start at 1: glibc's srandom(0) is srandom(1).)"""
    import shutil
    import subprocess

    from animsup import importers

    src = os.path.join(c.ROOT, "bench", "c", "seed002.c")
    if shutil.which("gcc") is None or not os.path.exists(src):
        c.say("\n== c: skipped (needs gcc and bench/c/seed002.c)")
        return []
    c.say(f"\n== c: seed 002's C program, {seeds} seeds x {runs:,} runs, imported with `animsup import --format c-log`")
    exe = os.path.join(folder, "seed002")
    subprocess.run(["gcc", "-O2", "-o", exe, src, "-lm"], check=True)
    logs = []
    for seed in range(1, seeds + 1):
        log = os.path.join(folder, f"seed{seed:03d}.jsonl")
        if retrain or not os.path.exists(log):
            text = os.path.join(folder, f"seed{seed:03d}.log")
            with open(text, "w") as f:
                subprocess.run([exe, "32", "2", "0.9", "0.1", str(runs), "1.0", "100000", str(seed), "1024"],
                               stdout=f, check=True)
            importers.convert("c-log", text, log, importance=0.9, feature_probability=0.1, seed=seed, force=True)
            os.remove(text)
            c.say(f"  seed {seed}: {os.path.relpath(log, c.ROOT)}")
        logs.append(log)
    return logs


def main() -> int:
    p = c.parser("seed002_hexagon", __doc__)
    p.add_argument("--seeds", type=int, default=None, help="seeds per study (default 64, --quick 8)")
    p.add_argument("--c-seeds", type=int, default=None, help="seeds of the C program (default 24, --quick 2)")
    p.add_argument("--studies", nargs="+", default=list(STUDIES) + ["c"], choices=list(STUDIES) + ["c"])
    args = p.parse_args()
    from animsup.analysis import minima
    from animsup.rendering.gallery import draw_gallery

    seeds = args.seeds or (8 if args.quick else 64)
    report = {}
    all_outcomes = {}
    for study in args.studies:
        folder = os.path.join(args.out, study)
        os.makedirs(folder, exist_ok=True)
        if study == "c":
            n_c = args.c_seeds or (2 if args.quick else 24)
            logs = c_program_logs(folder, n_c, 1500 if args.quick else 10_000, args.retrain)
            if not logs:
                continue
            cfg = config("blog", n_c, args.quick)  # what the C program does, for the report
            description = f"seed 002's C program, {n_c} seeds"
        else:
            cfg = config(study, seeds, args.quick)
            c.say(f"\n== {study}: {cfg.optimizer} lr {cfg.lr:g}, {cfg.gradient} gradient, {seeds} seeds x {cfg.steps:,} steps")
            logs = [c.train_or_reuse(cfg, os.path.join(folder, "run.jsonl"), retrain=args.retrain)]
            description = f"{study} ({cfg.optimizer} lr {cfg.lr:g}, {cfg.gradient} gradient), {seeds} seeds"
        log = logs[0]
        outcomes = minima.analyse_logs(logs)
        classes = minima.summarize(outcomes)
        shapes = minima.shape_summary(outcomes)
        minima.write_results(outcomes, classes, folder, extra={"logs": logs, "study": study})
        draw_gallery(outcomes, os.path.join(folder, "gallery.png"),
                            title=f"seed 002 n=32: {description}\nsorted by final loss; red: not the best outcome")
        c.say(minima.format_summary(shapes, len(outcomes), title="shape"))
        c.say(minima.format_summary(classes, len(outcomes)))
        all_outcomes[study] = (log, outcomes)
        best_shape = shapes[0]
        report[study] = {
            "config": cfg.to_dict(),
            "n": len(outcomes),
            "shapes": [s.to_dict() | {"share": s.count / len(outcomes)} for s in shapes],
            "classes": [k.to_dict() for k in classes],
            "best_shape": best_shape.name,
            "hexagon_share": sum(s.count for s in shapes if s.name == "hexagon") / len(outcomes),
            "hexagon_gap": next((s.gap for s in shapes if s.name == "hexagon"), None),
            "per_shape": per_shape(outcomes),
            "best_classes": [{k: v for k, v in cl.to_dict().items() if k != "ids"} for cl in classes[:8]],
        }
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(report, f, indent=2)
    if set(report) == set(STUDIES) | {"c"}:  # every study ran: docs/figures.md §4's table (docs_table())
        c.publish(args, "seed002_hexagon", {study: {k: r[k] for k in ("n", "shapes", "best_shape", "hexagon_share",
                                                                      "hexagon_gap", "per_shape", "best_classes")}
                                            | {"config": _brief(r["config"])}
                                            for study, r in report.items()})

    c.say("\nsummary")
    c.say(f"{'study':<6}  {'hexagons':>8}  {'pentagon mean':>13}  {'hexagon mean':>12}  {'gap':>6}")
    for study, r in report.items():
        by = {s["outcome"]: s for s in r["shapes"]}
        pm = by.get("pentagon", {}).get("mean_loss")
        hm = by.get("hexagon", {}).get("mean_loss")
        gap = f"{100 * (hm / pm - 1):+.1f}%" if pm and hm else "-"
        c.say(f"{study:<6}  {100 * r['hexagon_share']:>7.0f}%  {pm if pm else float('nan'):>13.5f}  "
              f"{hm if hm else float('nan'):>12.5f}  {gap:>6}")

    if not args.no_video and "blog" in all_outcomes:
        log, outcomes = all_outcomes["blog"]
        hexes = sorted((o for o in outcomes if o.shape == "hexagon"), key=lambda o: o.final_loss)
        if hexes:
            h = hexes[0]
            c.say(f"\nhexagon video: blog study, instance {h.index} (seed {h.seed}, {h.outcome}, loss {h.final_loss:.5f})")
            c.render(log, [os.path.join(args.out, "hexagon.mp4"), os.path.join(args.out, "hexagon.png")],
                     instance=h.index, annotate=True, duration=8 if args.quick else 20)
        worst = minima.pick_worst(outcomes, 1)[0]
        if not hexes or worst.index != hexes[0].index:
            c.render(log, os.path.join(args.out, "worst.mp4"), instance=worst.index, annotate=True,
                     duration=8 if args.quick else 20)
    return 0


def per_shape(outcomes) -> dict:
    """Per final shape: regularity range, the weakest represented norm over the median (min, max), how
    many distinct feature sets, and how many end > 2 % above the lowest loss they passed (smoothed
    over 50 logged steps: the blog gradient can climb its loss), with the largest such rise."""
    import numpy as np

    from animsup.log.reader import read_log

    runs = {}
    out: dict = {}
    for o in outcomes:
        run = runs.setdefault(o.log, read_log(o.log))
        W = run.W[-1, o.index]
        norms = np.linalg.norm(W, axis=0)[list(o.represented)] if o.represented else np.ones(1)
        k = min(50, len(run.loss_curve))
        curve = np.convolve(run.loss_curve[:, o.index], np.ones(k) / k, mode="valid")
        d = out.setdefault(str(o.shape), {"count": 0, "regularity": [], "weakest": [], "sets": set(), "rises": []})
        d["count"] += 1
        if o.regularity is not None:
            d["regularity"].append(o.regularity)
        d["weakest"].append(float(norms.min() / np.median(norms)))
        d["sets"].add(tuple(o.represented))
        d["rises"].append(float(curve[-1] / curve.min() - 1))
    return {k: {"count": d["count"],
                "regularity": [round(min(d["regularity"]), 4), round(max(d["regularity"]), 4)] if d["regularity"] else None,
                "weakest_over_median": [round(min(d["weakest"]), 3), round(max(d["weakest"]), 3)],
                "feature_sets": len(d["sets"]), "loss_rose_over_2pct": sum(r > 0.02 for r in d["rises"]),
                "largest_rise": round(max(d["rises"]), 4)} for k, d in out.items()}


def _brief(cfg: dict) -> dict:
    """The settings of a study that its table row names."""
    return {k: cfg.get(k) for k in ("optimizer", "lr", "gradient", "backend", "steps", "batch_size", "dataset_size")}


TITLES = {
    "blog": "**blog**: SGD lr 1, seed 002's gradient (numpy)",
    "exact": "**exact**: SGD lr 1, exact gradient",
    "adamw": "**adamw**: AdamW lr 1e-3 (wd 0.01), exact gradient",
    "c": "**c**: seed 002's C program (`bench/c/seed002.c`), imported",
}


def docs_table() -> str:
    """docs/figures.md §4 (from docs/results/seed002_hexagon.json): shapes and losses per study."""
    res = c.load_results("seed002_hexagon")
    rows = []
    for study, r in res.items():
        by = {s["outcome"]: s for s in r["shapes"]}

        def count(name: str) -> str:
            s = by.get(name)
            return f"{s['count']} ({100 * s['share']:.0f} %)" if s else "0"

        def losses(name: str) -> str:
            s = by.get(name)
            return f"{s['mean_loss']:.4f} ({s['min_loss']:.4f}–{s['max_loss']:.4f})" if s else "—"

        other = ", ".join(f"{s['outcome']} ×{s['count']}" for s in r["shapes"] if s["outcome"] not in ("pentagon", "hexagon"))
        pent, hexa = by.get("pentagon"), by.get("hexagon")
        gap = f"{100 * (hexa['mean_loss'] / pent['mean_loss'] - 1):+.1f} %" if pent and hexa else "—"
        rows.append([TITLES.get(study, study), str(r["n"]), count("pentagon"), count("hexagon"), other or "—",
                     losses("pentagon"), losses("hexagon"), gap])
    return c.md_table(["study", "seeds", "pentagons", "hexagons", "other shapes", "pentagon loss: mean (range)",
                       "hexagon loss: mean (range)", "hexagon vs pentagon (mean)"], rows)


def readme_note() -> str:
    """The README's science note on the n=32 local minima (from docs/results/seed002_hexagon.json)."""
    res = c.load_results("seed002_hexagon")

    def shape(study: str, name: str) -> dict:
        return next((s for s in res[study]["shapes"] if s["outcome"] == name), {"count": 0})

    def counts(study: str) -> str:
        return ", ".join(f"{s['count']} {s['outcome']}{'s' * (s['count'] != 1 and s['outcome'].isalpha())}"
                         for s in res[study]["shapes"])

    blog, hexa, pent = res["blog"], shape("blog", "hexagon"), shape("blog", "pentagon")
    text = (f"- **Local minima at n=32** (seed 002's second video; `scripts/seed002_hexagon.py`, counted with the\n"
            f"  naming rule of [docs/analysis.md](docs/analysis.md#the-naming-rule)): with seed 002's formulas\n"
            f"  {hexa['count']} of {blog['n']} seeds end in a hexagon")
    if hexa["count"] and pent["count"]:
        text += (f" whose mean final loss is {100 * (hexa['mean_loss'] / pent['mean_loss'] - 1):.1f} % above the\n"
                 f"  pentagons' (ranges {hexa['min_loss']:.3f}–{hexa['max_loss']:.3f} against "
                 f"{pent['min_loss']:.3f}–{pent['max_loss']:.3f}, {pent['count']} pentagons)")
    return (text + f"; with the exact gradient: {counts('exact')};\n  under AdamW: {counts('adamw')}; seed 002's own "
            f"C program ({res['c']['n']} seeds, imported): {counts('c')}.\n  Seed 002's text gives no hexagon share to "
            f"compare with. Table and figures: [docs/figures.md §4](docs/figures.md).")


if __name__ == "__main__":
    c.main_guard(main)
