"""Finite data sets and double descent (Henighan et al. 2023) at a reduced size on the CPU.

Henighan, Carter, Hume, Elhage, Lasenby, Fort, Schiefer, Olah, "Superposition, Memorization, and
Double Descent", Transformer Circuits Thread 2023, transformer-circuits.pub/2023/toy-double-descent.
Their setting: the tied ReLU model, n = 10,000 features, m = 2, S = 0.999 (about 10 features on
per sample), samples L2-normalised, T = 3 ... 10^5+ training examples, AdamW (weight decay 1e-2),
50,000 full-batch updates, lr warmed up over 2,500 steps to 1e-3, then cosine-decayed to 0. Their
findings: at small T the *training examples'* hidden vectors form clean polygons (data points in
superposition, features messy); at large T the *features* do; in between both dimensionalities are
low and the test loss peaks (data double descent).

Ours (one batched run, one instance per T, :mod:`animsup.train.finite`): n = 400 and 1 - S = 0.025
(the paper's 10 features on per sample), m = 2, the same optimiser and schedule shape, fewer steps
(CPU minutes, not the paper's 50,000 updates at n = 10,000). Measured per T: the final training and
test losses (the test loss on 1,000 fresh samples is the log's ``test_loss`` curve), the
dimensionality D of every feature and every training example (:mod:`animsup.analysis.finite_data`),
the peak.

Writes to outputs/double_descent/: double_descent.jsonl (the run log), double_descent.json,
double_descent.png, and unless --no-video double_descent.mp4 (``animsup render --grid`` of the log:
the training examples' hidden vectors moving with the features over training, one panel per T);
the full run also writes docs/results/double_descent.json (the table in
docs/figures.md: ``docs_table()``) and docs/img/double_descent.png.
--quick: n = 60, 7 sizes, 200 steps (a smoke test: seconds).

    .venv/bin/python scripts/double_descent.py [--quick]
"""

from __future__ import annotations

import json
import os
import shutil

import _common as c
import numpy as np

RESULTS = os.path.join(c.ROOT, "docs", "results", "double_descent.json")
IMAGE = os.path.join(c.ROOT, "docs", "img", "double_descent.png")


def config(quick: bool):
    from animsup.train.finite import FiniteConfig

    if quick:
        return FiniteConfig(n_features=60, feature_probability=0.15, train_sizes=[2, 4, 8, 16, 32, 64, 128],
                            steps=200, warmup_steps=20, lr=1e-2, test_every=50, test_size=300, snapshots=10).validate()
    return FiniteConfig(n_features=400, feature_probability=0.025,
                        train_sizes=[3, 6, 12, 25, 50, 100, 200, 400, 800, 1600, 3200],
                        steps=3000, warmup_steps=150, lr=5e-3, test_every=100, test_size=1000, snapshots=40).validate()


def measure(res) -> dict:
    from animsup.analysis.finite_data import dimensionality_split, double_descent_peak

    rows = []
    for i, t in enumerate(res.train_sizes):
        split = dimensionality_split(res.W[i], res.hidden[i])
        rows.append({"T": int(t), "train_loss": float(res.train_loss[i]), "test_loss": float(res.test_loss[i]),
                     **{k: round(v, 4) for k, v in split.items()}})
    peak = double_descent_peak([r["T"] for r in rows], [r["test_loss"] for r in rows])
    return {"config": res.config.to_dict(), "rows": rows, "peak": peak, "wall_seconds": round(res.wall_seconds, 1)}


def main() -> int:
    from animsup.errors import AnimsupError
    from animsup.log.reader import read_header
    from animsup.log.train_examples import stored_info
    from animsup.train.finite import result_from_log, train_finite

    args = c.parser("double_descent", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    cfg = config(args.quick)
    c.say(f"double descent: n={cfg.n_features}, m={cfg.n_hidden}, 1-S={cfg.feature_probability}, "
          f"T={cfg.train_sizes}, {cfg.steps:,} full-batch steps")
    log = os.path.join(args.out, "double_descent.jsonl")
    res = None
    if os.path.exists(log) and not args.retrain:  # a finished log of the same config is reused
        try:
            res = result_from_log(log)
            # the same config, and a log that stores its training examples (the video draws them)
            res = res if res.config == cfg and stored_info(read_header(log)) is not None else None
        except AnimsupError:
            res = None
    if res is None:
        res = train_finite(cfg, log, force=True)
    else:
        c.say(f"  reusing {log} (same config, completed)")
    out = measure(res)
    for r in out["rows"]:
        c.say(f"  T={r['T']:>5}  train {r['train_loss']:.5f}  test {r['test_loss']:.5f}  "
              f"max D features {r['feature_max']:.2f}  max D data {r['data_max']:.2f}")
    pk = out["peak"]
    c.say(f"  test-loss peak at T={pk['peak_T']} ({pk['peak_loss']:.5f}); double descent: {pk['double_descent']}")
    path = os.path.join(args.out, "double_descent.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    png = figure(res, out, os.path.join(args.out, "double_descent.png"))
    if not args.no_video:
        video(res, out, os.path.join(args.out, "double_descent.mp4"))
    if not args.quick:
        shutil.copyfile(path, RESULTS)
        shutil.copyfile(png, IMAGE)
    return 0


def figure(res, out: dict, path: str) -> str:
    rows = out["rows"]
    T = [r["T"] for r in rows]
    picks = sorted({0, len(T) // 3, len(T) // 2, (2 * len(T)) // 3, len(T) - 1})
    fig = c.figure(10, 5.6)
    ax = fig.add_axes((0.07, 0.56, 0.4, 0.37))
    ax.semilogx(T, [r["test_loss"] for r in rows], "o-", color="C3", label="test (fresh samples)")
    ax.semilogx(T, [r["train_loss"] for r in rows], "o-", color="C0", label="train")
    ax.set_ylim(bottom=0)
    if out["peak"]["peak_T"] is not None:
        ax.axvline(out["peak"]["peak_T"], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("training examples T")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7)
    ax.set_title("loss against T", fontsize=9)
    ax2 = fig.add_axes((0.57, 0.56, 0.4, 0.37))
    from animsup.analysis.geometry import dimensionality

    for i, t in enumerate(T):  # the paper's scatter: every feature's and every example's D (the largest 40)
        df = np.sort(dimensionality(res.W[i]))[-40:]
        dd = np.sort(dimensionality(res.hidden[i]))[-40:]
        ax2.scatter(np.full(len(df), t * 0.93), df, s=5, color="C2", label="features" if i == 0 else None)
        ax2.scatter(np.full(len(dd), t * 1.07), dd, s=5, color="C1", label="training examples" if i == 0 else None)
    ax2.set_xscale("log")
    ax2.set_xlabel("training examples T")
    ax2.set_ylabel("dimensionality D")
    ax2.legend(fontsize=7)
    ax2.set_title("dimensionality of features and of training examples", fontsize=9)
    w = 0.9 / len(picks)
    for j, i in enumerate(picks):
        a = fig.add_axes((0.05 + j * w, 0.02, w * 0.9, 0.36))
        _hidden_plot(a, res.W[i], res.hidden[i], f"T={T[i]}")
    fig.text(0.5, 0.43, "hidden space: feature directions W_i (green) and training examples h = W x (orange)",
             ha="center", fontsize=8)
    return c.save(fig, path)


def video(res, out: dict, path: str) -> str:
    """The training examples' hidden vectors moving with the feature directions over training, one
    panel per T: drawn by ``animsup render`` (:func:`animsup.render`, grid of every instance; the
    data points are the log's stored training examples, :mod:`animsup.rendering.datapoints`)."""
    import animsup

    size = (1920, 1080) if len(res.train_sizes) > 6 else (1280, 720)
    animsup.render(res.log_path, path, grid=True, size=size, time="log", hold=1.0)
    c.say(f"  video: {os.path.relpath(path, c.ROOT)} ({os.path.getsize(path) // 1024} KB), by animsup render --grid")
    return path


def _hidden_plot(ax, W, H, title: str, lim: float | None = None) -> None:
    lim = lim or 1.1 * max(float(np.abs(W).max()), float(np.abs(H).max()), 1e-6)
    for v in W.T:
        ax.plot([0, v[0]], [0, v[1]], color="C2", lw=0.6, alpha=0.6)
    ax.scatter(H[0], H[1], s=6, color="C1", zorder=3)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)


def docs_table() -> str:
    """The table in docs/figures.md, from docs/results/double_descent.json."""
    with open(RESULTS) as f:
        res = json.load(f)
    cfg = res["config"]
    lines = [f"n = {cfg['n_features']}, m = {cfg['n_hidden']}, 1 − S = {cfg['feature_probability']}, "
             f"{cfg['steps']:,} full-batch AdamW steps (lr {cfg['lr']}, warm-up {cfg['warmup_steps']}, cosine), "
             f"one batched run of {len(res['rows'])} instances in {res['wall_seconds']:.0f} s.", "",
             "| T | train loss | test loss | max D, features | max D, training examples |", "|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        mark = " **(peak)**" if r["T"] == res["peak"]["peak_T"] else ""
        lines.append(f"| {r['T']:,}{mark} | {r['train_loss']:.5f} | {r['test_loss']:.5f} | {r['feature_max']:.2f} | "
                     f"{r['data_max']:.2f} |")
    pk = res["peak"]
    lines += ["", f"Test-loss peak at T = {pk['peak_T']:,}: {pk['rise_left']:.2f}× the lowest test loss at smaller T, "
                  f"{pk['rise_right']:.2f}× the lowest at larger T (double descent: {'yes' if pk['double_descent'] else 'no'})."]
    return "\n".join(lines)


if __name__ == "__main__":
    c.main_guard(main)
