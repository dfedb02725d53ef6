"""The paper's phase diagrams: n=2, m=1 and n=3, m=2 tied ReLU models, one batched run per diagram.

Training follows one public replication of the paper's "Superposition as a Phase Change": AdamW lr
0.01 with the notebook's cosine schedule, weight decay 0.01, batch 128, 2,000 steps — without its
gradient clipping (animsup has none). Features 1…n−1 have importance 1; the last ("extra") feature has relative importance r, log-spaced
over [0.1, 10]; the density 1−S, the same for every feature, is log-spaced over [0.01, 1]. Every cell
trains ``--trials`` models (seeds); the cell shows the BEST trial: the one with the lowest loss on one
fixed evaluation set of samples drawn for that cell (the same samples for every trial of the cell, so
the choice does not depend on the last training batch's noise). Averaging the trials instead (one
public replication weights 10 trials by 1/loss²) blurs the boundaries where trials disagree: a cell
half of whose trials are stuck in a local minimum shows a mixture instead of the best solution.

Phase of a cell (animsup/analysis/phase.py): the extra feature is not learned (‖W_extra‖ ≤ 0.5), has a dedicated
dimension (learned, interference Σ_j (Ŵ_extra·W_j)² ≤ 0.25) or is in superposition (interference > 0.25:
an antipodal pair gives 1, a triangle 0.5).
For n=2, m=1 every cell's trained phase is compared with the phase of the exact optimum of the expected
loss, found numerically (animsup.analysis.phase.exact_optimum_n2m1), over all cells; the closed forms
(from the notebook linked in that section of the paper: three idealised configurations) are drawn as
boundaries and compared with the optimum too. For n=2 the best trial is the one with the lowest exact
expected loss (animsup.analysis.phase.expected_loss_n2m1).

Writes to outputs/phase_diagram/: n{2,3}.jsonl (the runs), phase_n{2,3}.png (norm, interference,
class with the analytic boundaries), phase_n{2,3}.json (per cell: r, 1−S, class, norm,
interference, each trial's evaluation loss, the best trial, the analytic class), phase_n2_result.json
(the three class maps and their comparison: copied to docs/results/phase_n2.json for the docs), and unless
--no-video phase_n{2,3}_training.mp4 (the phase map over training: at every snapshot each cell shows
its best trial AT THAT SNAPSHOT, so cells flip when a trial escapes a local minimum) and
phase_n2_sweep.mp4 (one row of the n=2 grid, r ≈ 0.3: the best trial's W from dense to
sparse, W_extra growing from 0 into its antipodal position).

    .venv/bin/python scripts/phase_diagram.py [--quick] [--n 2 3] [--grid 20] [--trials 10]
"""

from __future__ import annotations

import json
import os
import time

import _common as c
import numpy as np

R_RANGE, S_RANGE = (0.1, 10.0), (0.01, 1.0)
COLORS = np.array([[0.85, 0.85, 0.85], [0.23, 0.45, 0.75], [0.85, 0.33, 0.2]])  # not learned, dedicated, superposition


def make_config(n: int, grid: int, trials: int, steps: int, batch: int, device: str, lr: float = 0.01):
    from animsup.train.config import TrainConfig

    return TrainConfig(
        n_features=n, n_hidden=n - 1, model="tied", importance="constant",
        last_importance=[float(v) for v in np.geomspace(*R_RANGE, grid)],
        feature_probability=[float(v) for v in np.geomspace(*S_RANGE, grid)], seeds=list(range(trials)),
        steps=steps, batch_size=batch, lr=lr, lr_schedule="cosine", optimizer="adamw", device=device,
        snapshots=40, snapshot_schedule="log", loss_every=max(1, steps // 200),
    ).validate()


def eval_samples(cfg, n_samples: int) -> np.ndarray:
    """One fixed evaluation set per density (shape: [grid_s, n, n_samples]), independent of training."""
    rng = np.random.default_rng(12345)
    s = np.asarray(cfg.feature_probability)[:, None, None]
    shape = (len(s), cfg.n_features, n_samples)
    return rng.random(shape) * (rng.random(shape) < s)


def eval_loss(W, b, cfg, xs) -> np.ndarray:
    """Every model's loss: for n=2 the exact expected loss (animsup.analysis.phase.expected_loss_n2m1), else
    the loss on its cell's evaluation set. W (shape: [K, m, n]) → (shape: [G_r, G_s, T])"""
    from animsup.analysis.phase import expected_loss_n2m1, sampled_loss

    G_r, G_s, T = len(cfg.last_importance), len(cfg.feature_probability), len(cfg.seeds)
    if cfg.n_features == 2:
        r = np.asarray(cfg.last_importance)[:, None, None]
        dens = np.asarray(cfg.feature_probability)[None, :, None]
        return expected_loss_n2m1(np.asarray(W, np.float64).reshape(G_r, G_s, T, 1, 2),
                                  np.asarray(b, np.float64).reshape(G_r, G_s, T, 2), r, dens)
    imp = cfg.importance_matrix().astype(np.float64)
    x = np.broadcast_to(xs[None, :, None], (G_r, G_s, T) + xs.shape[1:]).reshape(-1, *xs.shape[1:])
    step = 100  # models per chunk: bounds the float64 temporaries ([100, n, samples])
    return np.concatenate([sampled_loss(W[i : i + step], b[i : i + step], imp[i : i + step], x[i : i + step])
                           for i in range(0, len(x), step)]).reshape(G_r, G_s, T)


def analyse(run, cfg, n_eval: int, n_random: int = 3) -> dict:
    """Per cell (r, s): each trial's evaluation loss, the best trial, its norm/interference/class; and the
    class of each cell's best trial at every snapshot (best by the loss at that snapshot)."""
    from animsup.analysis.phase import analytic_phase_n2m1, classify_extra, extra_feature_stats

    G_r, G_s, T = len(cfg.last_importance), len(cfg.feature_probability), len(cfg.seeds)
    xs = eval_samples(cfg, n_eval)
    xs_t = xs[:, :, : max(1, n_eval // 5)]  # the per-snapshot choice (video) on a fifth of the samples
    W = run.W.reshape(len(run.steps), G_r, G_s, T, cfg.n_hidden, cfg.n_features)
    cls_time, best_time = [], []
    for t in range(len(run.steps)):
        bt = eval_loss(run.W[t], run.b[t], cfg, xs_t).argmin(2)
        best_time.append(bt)
        cls_time.append(classify_extra(np.take_along_axis(W[t], bt[:, :, None, None, None], axis=2)[:, :, 0]))
    loss = eval_loss(run.W[-1], run.b[-1], cfg, xs)
    best = loss.argmin(2)
    pick = np.take_along_axis(W, best[None, :, :, None, None, None], axis=3)[:, :, :, 0]  # [time, r, s, m, n]
    norm, inter = extra_feature_stats(pick[-1])
    out = {"loss": loss, "best": best, "norm": norm, "interference": inter, "cls": classify_extra(pick[-1]),
           "cls_time": np.asarray(cls_time), "W_best": pick, "steps": run.steps,
           "r": np.asarray(cfg.last_importance), "s": np.asarray(cfg.feature_probability)}
    if cfg.n_features == 2:
        from animsup.analysis.phase import exact_optimum_n2m1

        rr, ss = np.meshgrid(out["r"], out["s"], indexing="ij")
        out["analytic"] = analytic_phase_n2m1(rr, ss)
        W_opt, _, out["loss_opt"] = exact_optimum_n2m1(rr, ss, n_random=n_random)
        out["optimum"] = classify_extra(W_opt)
        out["W_opt"] = W_opt
        out["loss_best"] = np.take_along_axis(loss, best[..., None], 2)[..., 0]
    return out


CLASS_KEYS = ("not_learned", "dedicated", "superposition")


def comparison(res) -> dict:
    """n=2, m=1: the trained map, the exact optimum and the closed forms compared cell by cell (all cells)."""
    trained, opt, closed = res["cls"], res["optimum"], res["analytic"]
    counts = {name: {k: int((cls == i).sum()) for i, k in enumerate(CLASS_KEYS)}
              for name, cls in (("trained", trained), ("optimum", opt), ("closed_forms", closed))}
    gap = res["loss_best"] - res["loss_opt"]  # >= 0 up to the optimiser's tolerance
    off = np.argwhere(closed != opt)
    # a closed-form mismatch is "one cell off" when the optimum's class is found in a neighbouring cell of the closed forms
    one_cell = [bool((closed[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2] == opt[i, j]).any()) for i, j in off]
    return {"cells": int(trained.size), "trained_eq_optimum": int((trained == opt).sum()),
            "closed_forms_eq_optimum": int((closed == opt).sum()), "trained_eq_closed_forms": int((trained == closed).sum()),
            "closed_forms_off_cells": [{"r": float(res["r"][i]), "density": float(res["s"][j]),
                                        "closed_form": CLASS_KEYS[closed[i, j]], "optimum": CLASS_KEYS[opt[i, j]]}
                                       for i, j in off],
            "closed_forms_off_by_one_cell": int(sum(one_cell)),
            "trained_off_cells": [{"r": float(res["r"][i]), "density": float(res["s"][j]), "trained": CLASS_KEYS[trained[i, j]],
                                   "optimum": CLASS_KEYS[opt[i, j]]} for i, j in np.argwhere(trained != opt)],
            "class_counts": counts,
            "loss_gap_max": float(gap.max()), "loss_gap_median_relative": float(np.median(gap / res["loss_opt"])),
            "loss_gap_min": float(gap.min())}


def grid_json(res, cmp: dict, row: dict) -> dict:
    """The small committed result (docs/results/phase_n2.json): the three class maps and the comparison."""
    return {"source": "scripts/phase_diagram.py --n 2", "run": row, "r": [round(float(v), 6) for v in res["r"]],
            "density": [round(float(v), 6) for v in res["s"]], "classes": list(CLASS_KEYS),
            "trained": res["cls"].tolist(), "optimum": res["optimum"].tolist(), "closed_forms": res["analytic"].tolist(),
            "comparison": cmp}


RESULT = os.path.join(c.ROOT, "docs", "results", "phase_n2.json")


def n3_summary(res: dict, row: dict) -> dict:
    """n=3, m=2: per class of the extra feature (feature 2) the cells, and for the dedicated cells how the
    other two features sit (cos(W_0, W_1) < -0.9 antipodal, > 0.9 the same way; shorter than 0.5), the
    interference range of the superposition cells."""
    W = res["W_best"][-1]  # [r, s, m, n]
    cls = res["cls"]
    a, b = W[..., 0], W[..., 1]
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(na * nb, 1e-12)
    ded, sup = cls == 1, cls == 2
    inter = res["interference"][sup]
    return {"summary": row, "cells": int(cls.size),
            "dedicated": {"cells": int(ded.sum()), "others_antipodal": int((ded & (cos < -0.9)).sum()),
                          "others_same_way": int((ded & (cos > 0.9)).sum()),
                          "antipodal_one_shorter_than_half": int((ded & (cos < -0.9) & (np.minimum(na, nb) < 0.5)).sum())},
            "superposition": {"cells": int(sup.sum()),
                              "interference": [round(float(inter.min()), 3), round(float(inter.max()), 3)] if sup.any() else None},
            "not_learned": int((cls == 0).sum())}


def docs_table_n3() -> str:
    """docs/figures.md §10's n=3, m=2 table (from docs/results/phase_n3_summary.json)."""
    res = c.load_results("phase_n3_summary")
    d, sp = res["dedicated"], res["superposition"]
    rows = [["not learned", res["not_learned"], "—"],
            ["dedicated dimension", d["cells"], f"the other two antipodal in {d['others_antipodal']} (one of them shorter "
             f"than 0.5 in {d['antipodal_one_shorter_than_half']}), pointing the same way in {d['others_same_way']}"],
            ["superposition", sp["cells"], "interference " + ("—" if sp["interference"] is None else
                                                             f"{sp['interference'][0]:.2f}–{sp['interference'][1]:.2f}")]]
    s = res["summary"]
    return (f"n = 3, m = 2: {s['grid']}×{s['grid']} cells × {s['trials']} trials = {s['models']:,} models, "
            f"{s['steps']:,} steps, batch {s['batch_size']}; the extra feature's class in the best trial of each cell.\n\n"
            + c.md_table(["feature 2", "cells", "how"], rows))


def docs_table(path: str = RESULT) -> str:
    """docs/figures.md §10's table, from the committed docs/results/phase_n2.json."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    cmp, run = d["comparison"], d["run"]
    n = cmp["cells"]
    cnt = cmp["class_counts"]
    lines = ["| map | not learned | dedicated | superposition | cells equal to the exact optimum |", "|---|---|---|---|---|"]
    for key, name in (("optimum", "exact optimum of the expected loss (numerical)"),
                      ("trained", f"trained: best of {run['trials']} trials, {run['steps']:,} steps, batch {run['batch_size']}"),
                      ("closed_forms", "closed forms (three idealised configurations)")):
        same = n if key == "optimum" else cmp["trained_eq_optimum" if key == "trained" else "closed_forms_eq_optimum"]
        lines.append(f"| {name} | {cnt[key]['not_learned']} | {cnt[key]['dedicated']} | {cnt[key]['superposition']} | "
                     f"{same} / {n} |")
    return "\n".join(lines)


def analytic_curves(ax, r):
    """The n=2, m=1 boundaries: s = 4r/(2+5r) (r < 1), s = 4/(5+2r) (r > 1), r = 1 above s = 4/7."""
    lo, hi = r[r <= 1], r[r >= 1]
    kw = dict(color="black", lw=1.6)
    ax.plot(lo, 4 * lo / (2 + 5 * lo), **kw)
    ax.plot(hi, 4 / (5 + 2 * hi), **kw)
    ax.plot([1, 1], [4 / 7, S_RANGE[1]], **kw)


def draw(res, cfg, title: str, path: str, matched: str) -> None:
    """Norm, interference and the phase of the best trial per cell; for n=2 also the exact optimum's phase,
    the closed forms' boundaries on both, and × on the cells where the trained phase differs from the optimum."""
    fig = c.figure(19 if "optimum" in res else 15, 5.4)
    er, es = _edges(res["r"]), _edges(res["s"])
    learned = res["cls"] != 0  # the interference of a ~zero vector's direction means nothing: masked
    inter = np.ma.masked_where(~learned, res["interference"]).T
    panels = [("‖W_extra‖ (best trial)", res["norm"].T, dict(cmap="viridis", vmin=0, vmax=1.2)),
              ("interference Σ_j (Ŵ_extra·W_j)² (learned cells)", inter, dict(cmap="magma", vmin=0, vmax=1.2)),
              ("phase of the extra feature (trained)", res["cls"], None)]
    if "optimum" in res:
        panels.append(("exact optimum of the expected loss", res["optimum"], None))
    width = 0.92 / len(panels)
    for i, (name, data, kw) in enumerate(panels):
        ax = fig.add_axes([0.05 + i * width, 0.17, width * 0.75, 0.68])
        if kw is not None:
            im = ax.pcolormesh(er, es, data, **kw)
            fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
        else:
            _phase_map(ax, res, data)
            if "optimum" in res:
                off = np.argwhere(res["cls"] != res["optimum"])
                ax.plot(res["r"][off[:, 0]], res["s"][off[:, 1]], "x", color="black", ms=7, mew=2)
            _class_legend(ax, res)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(er[0], er[-1])
        ax.set_ylim(es[0], es[-1])
        ax.set_xlabel("relative importance r of the extra feature", fontsize=9)
        ax.set_ylabel("density 1 − S", fontsize=9)
        ax.set_title(name, fontsize=10)
    fig.suptitle(f"{title}\n{matched}", fontsize=10)
    c.save(fig, path)


def _class_legend(ax, res) -> None:
    """Under the axes, not over the cells (it hid the lower-left corner)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=COLORS[k], label=lab) for k, lab in enumerate(("not learned", "dedicated", "superposition"))]
    if "analytic" in res:
        handles.append(Line2D([], [], color="black", lw=1.6, label="closed forms"))
    if "optimum" in res:
        handles.append(Line2D([], [], color="black", marker="x", lw=0, label="≠ optimum"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=7,
              frameon=False, handlelength=1.2, columnspacing=0.8)


def _edges(v):
    """Cell edges of a log-spaced grid: geometric midpoints, extended by half a step at both ends."""
    lv = np.log(v)
    mid = (lv[1:] + lv[:-1]) / 2
    return np.exp(np.concatenate([[lv[0] - (mid[0] - lv[0])], mid, [lv[-1] + (lv[-1] - mid[-1])]]))


def _rgba(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _phase_map(ax, res, cls):
    """The class of every cell (shape: [n_r, n_s]) on log axes r × 1 − S, analytic curves on top."""
    er, es = _edges(res["r"]), _edges(res["s"])
    mesh = ax.pcolormesh(er, es, cls.T, cmap=_class_cmap(), vmin=-0.5, vmax=2.5)
    if "analytic" in res:
        analytic_curves(ax, np.geomspace(*R_RANGE, 200))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(er[0], er[-1])
    ax.set_ylim(es[0], es[-1])
    return mesh


def training_video(res, title: str, path: str) -> None:
    """The phase map at every snapshot (each cell: its best trial at that snapshot), analytic curves on top."""
    from animsup.atomic import atomic_path
    from animsup.rendering.encode import make_encoder

    fig = c.figure(7.2, 6.0)
    ax = fig.add_axes([0.13, 0.11, 0.6, 0.72])
    mesh = _phase_map(ax, res, res["cls_time"][0])
    ax.set_xlabel("relative importance r of the extra feature", fontsize=9)
    ax.set_ylabel("density 1 − S", fontsize=9)
    _legend(fig, res)
    label = fig.text(0.13, 0.86, "", fontsize=10)
    fig.suptitle(title, fontsize=10)
    frames = []
    for t, step in enumerate(res["steps"]):
        mesh.set_array(res["cls_time"][t].T.ravel())
        counts = np.bincount(res["cls_time"][t].ravel(), minlength=3)
        label.set_text(f"step {int(step):,}   not learned {counts[0]}, dedicated {counts[1]}, superposition {counts[2]}")
        frames.append(_rgba(fig))
    h, w = frames[0].shape[:2]
    with atomic_path(path) as tmp:
        with make_encoder(tmp, (w, h), fps=6, fmt=".mp4") as enc:
            for f in frames + [frames[-1]] * 12:  # hold the last frame 2 s
                enc.write(f)
    c.say(f"  video: {os.path.relpath(path, c.ROOT)} ({len(frames)} snapshots)")


def sweep_video(res, path: str, r_target: float = 0.3) -> None:
    """n=2, m=1: along the row r ≈ r_target, the best trial's two feature weights (W is 1×2: two
    arrows on a line) from the densest to the sparsest cell, beside the phase map with the cell marked."""
    from animsup.atomic import atomic_path
    from animsup.rendering.encode import make_encoder
    from animsup.analysis.phase import CLASS_NAMES

    i = int(np.argmin(np.abs(np.log(res["r"]) - np.log(r_target))))
    W = res["W_best"][-1, i]  # [s, 1, 2]
    fig = c.figure(10, 4.6)
    ax = fig.add_axes([0.06, 0.2, 0.5, 0.55])
    lim = max(1.3, float(np.abs(W).max()) * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-0.6, 0.6)
    ax.set_yticks([])
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("position along the single hidden dimension", fontsize=9)
    arrows = [ax.annotate("", xy=(0, 0), xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", lw=3, color=col))
              for col in ("0.35", COLORS[2])]
    names = [ax.text(0, 0, lab, fontsize=9, ha="center") for lab in ("feature 1 (importance 1)", f"extra (r = {res['r'][i]:.2g})")]
    info = ax.set_title("", fontsize=10)
    mx = fig.add_axes([0.66, 0.2, 0.3, 0.62])
    _phase_map(mx, res, res["cls"])
    mx.set_xlabel("r", fontsize=9)
    mx.set_ylabel("1 − S", fontsize=9)
    marker, = mx.plot([], [], "s", ms=9, mfc="none", mec="black", mew=2)
    fig.suptitle("n=2, m=1: the best trial's weights along one row of the phase diagram, dense → sparse", fontsize=10)
    frames = []
    for j in range(len(res["s"]) - 1, -1, -1):
        w = W[j, 0]
        for k, (a, t) in enumerate(zip(arrows, names)):
            a.xy = (w[k], 0.12 - 0.24 * k)
            a.set_position((0, 0.12 - 0.24 * k))
            t.set_position((w[k] if abs(w[k]) > 0.15 else 0.35, 0.22 - 0.48 * k))
        info.set_text(f"1 − S = {res['s'][j]:.3g}: W = [{w[0]:+.2f}, {w[1]:+.2f}]  →  {CLASS_NAMES[res['cls'][i, j]]}")
        marker.set_data([res["r"][i]], [res["s"][j]])
        frames.append(_rgba(fig))
    h, w_ = frames[0].shape[:2]
    with atomic_path(path) as tmp:
        with make_encoder(tmp, (w_, h), fps=2, fmt=".mp4") as enc:
            for f in frames + [frames[-1]] * 4:
                enc.write(f)
    c.say(f"  video: {os.path.relpath(path, c.ROOT)} ({len(frames)} cells)")


def _legend(fig, res) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=COLORS[k], label=lab) for k, lab in enumerate(("not learned", "dedicated", "superposition"))]
    if "analytic" in res:
        handles.append(Line2D([], [], color="black", lw=1.6, label="analytic boundary"))
    fig.legend(handles=handles, loc="center right", fontsize=8, frameon=False)


def _class_cmap():
    from matplotlib.colors import ListedColormap

    return ListedColormap(COLORS)


def train_sweep(cfg, folder: str, args) -> str:
    """The grid as a sweep (``--engine local|ray``) into ``folder``: a rerun with the same settings
    finishes or reuses it, other settings (or --retrain) replace it. Returns the folder."""
    from animsup.errors import AnimsupError
    from animsup.train.sweep import run_sweep, same_sweep

    replace = args.retrain or not same_sweep(folder, [cfg], args.shard_size)
    t0 = time.time()
    res = run_sweep([cfg], folder, engine=args.engine, shard_size=args.shard_size, address=args.address, force=replace)
    if res.failed:
        raise AnimsupError(f"shard {res.failed[0]['id']} failed: {res.failed[0]['error']} ({folder})")
    c.say(f"  {len(res.ran)} of {len(res.manifest['shards'])} shards trained ({args.engine}) in {time.time() - t0:.0f} s -> "
          f"{os.path.relpath(folder, c.ROOT)}")
    return folder


def main() -> int:
    p = c.parser("phase_diagram", __doc__)
    p.add_argument("--n", type=int, nargs="+", choices=[2, 3], default=[2, 3], help="n_features (m = n − 1)")
    p.add_argument("--grid", type=int, default=None, help="cells per axis (default 20; --quick 6)")
    p.add_argument("--trials", type=int, default=None, help="trials per cell (default 10 for n=2, 20 for n=3; --quick 3)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 2000; --quick 300)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01, help="AdamW learning rate (cosine schedule)")
    p.add_argument("--device", default="auto")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="run the grid as a sweep on this engine")
    p.add_argument("--shard-size", type=int, default=None, help="models per shard of the sweep (default: what fits)")
    p.add_argument("--address", default=None, help="the Ray cluster to join (--engine ray; default: a local Ray)")
    args = p.parse_args()
    from animsup.errors import AnimsupError
    from animsup.log.reader import read_log

    for name, least in (("grid", 2), ("trials", 1), ("steps", 1), ("batch_size", 1)):
        value = getattr(args, name)
        if value is not None and value < least:  # (0 used to fall back to the default silently)
            raise AnimsupError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")

    os.makedirs(args.out, exist_ok=True)
    grid = args.grid or (6 if args.quick else 20)
    steps = args.steps or (300 if args.quick else 2000)
    batch = args.batch_size
    summary = {}
    for n in args.n:
        trials = args.trials or (3 if args.quick else (10 if n == 2 else 20))
        cfg = make_config(n, grid, trials, steps, batch, args.device, args.lr)
        c.say(f"phase diagram n={n}, m={n - 1}: {grid}x{grid} cells x {trials} trials = {cfg.n_instances:,} models, "
              f"{steps:,} steps, batch {batch}")
        t0 = time.time()
        run = read_log(train_sweep(cfg, os.path.join(args.out, f"n{n}"), args))
        res = analyse(run, cfg, 2000 if args.quick else 20_000, 0 if args.quick else 3)
        matched = ""
        row = {"n": n, "m": n - 1, "grid": grid, "trials": trials, "steps": steps, "batch_size": batch,
               "models": cfg.n_instances, "seconds_total": round(time.time() - t0, 1),
               "class_counts": {name: int((res["cls"] == k).sum()) for k, name in enumerate(("not_learned", "dedicated", "superposition"))}}
        if "analytic" in res:
            cmp = comparison(res)
            matched = (f"trained = exact optimum in {cmp['trained_eq_optimum']} of {cmp['cells']} cells; "
                       f"closed forms = exact optimum in {cmp['closed_forms_eq_optimum']}")
            c.say("  " + matched)
            c.say(f"  closed forms off in {len(cmp['closed_forms_off_cells'])} cells "
                  f"({cmp['closed_forms_off_by_one_cell']} of them one cell from their class); trained off: {cmp['trained_off_cells']}")
            c.say(f"  trained best's expected loss above the optimum: max {cmp['loss_gap_max']:.2e}, "
                  f"median {cmp['loss_gap_median_relative']:.1e} relative, min {cmp['loss_gap_min']:.1e}")
            with open(os.path.join(args.out, "phase_n2_result.json"), "w") as f:
                json.dump(grid_json(res, cmp, row), f, indent=1)
        c.say(f"  classes: {row['class_counts']}")
        if n == 3:  # docs/figures.md §10's n=3 numbers (docs_table_n3())
            c.publish(args, "phase_n3_summary", n3_summary(res, row))
        cells = []
        for i, r in enumerate(res["r"]):
            for j, s in enumerate(res["s"]):
                cell = {"r": float(r), "density": float(s), "class": ["not learned", "dedicated", "superposition"][res["cls"][i, j]],
                        "norm": float(res["norm"][i, j]), "interference": float(res["interference"][i, j]),
                        "best_trial": int(res["best"][i, j]), "trial_loss": [float(v) for v in res["loss"][i, j]]}
                if "analytic" in res:
                    cell["analytic_class"] = ["not learned", "dedicated", "superposition"][res["analytic"][i, j]]
                cells.append(cell)
        with open(os.path.join(args.out, f"phase_n{n}.json"), "w") as f:
            json.dump({"summary": row, "best_rule": ("lowest exact expected loss" if n == 2 else "lowest loss on a fixed evaluation set per cell"), "cells": cells}, f, indent=1)
        title = f"n={n}, m={n - 1} tied ReLU: {grid}×{grid} cells, best of {trials} trials, {steps:,} steps"
        draw(res, cfg, title, os.path.join(args.out, f"phase_n{n}.png"), matched)
        if not args.no_video:
            training_video(res, title, os.path.join(args.out, f"phase_n{n}_training.mp4"))
            if n == 2:
                sweep_video(res, os.path.join(args.out, "phase_n2_sweep.mp4"))
        summary[n] = row
    c.say(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    c.main_guard(main)
