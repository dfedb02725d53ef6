"""Essential dynamics with the run's events marked (issue 23, item 3): PCA of each instance's weight
trajectory θ_t = (W_t, b_t) and of all seeds of a group together, the PC curves drawn with every
event of the one event list (animsup.analysis.timeline.run_events: features joining and dropping
out, shape changes, loss drops and, measured by animsup.measure, LLC jumps) marked where it happens.

"Essential dynamics" is PCA of a trajectory: Amadei, Linssen & Berendsen 1993 ("Essential dynamics
of proteins", Proteins 17:412) project a molecular-dynamics trajectory on its principal axes;
Hoogland et al. 2024 ("The developmental landscape of in-context learning", arXiv:2402.02364) carry
it to training, with the model's outputs on a fixed set of inputs over checkpoints, whose turns
mark developmental stages. Here the toy model is small, so the PCA is of the parameters themselves
(animsup.analysis.landscape.essential_dynamics / joint_essential_dynamics, centred over time).

Set-up: the tied ReLU model, n_features = 6 in n_hidden = 2 (the 6 → 2 model of Chen et al. 2023,
arXiv:2310.06301), 1 − S = 0.1, importance 1, init at 0.1× scale (plateaus), Adam lr 1e-3, batch
1024, 8 seeds, 6,000 steps, 120 log-spaced snapshots; the LLC at 20 of them from step 60 on (SGLD ε = 1e-4, γ = 1,
nβ = 587 (= n/ln n for n = 5000, Chen et al.'s), 4 chains × 400 draws after 200 burn-in, batch 500).
--quick: n_features 5, 3 seeds, 600 steps, 40 snapshots, a tiny LLC.

Writes to outputs/essential_dynamics/: run.jsonl and its sidecar run.measure.json, essential_dynamics.png
(top: PC1–PC2 of three seeds, events numbered with their key; bottom: the joint PCA of all seeds, and
PC1/PC2 against step of the first seed), essential_dynamics.json (explained variance, the events with
their PC coordinates); a full run also docs/img/essential_dynamics.png and docs/results/essential_dynamics.json.

    .venv/bin/python scripts/essential_dynamics.py [--quick] [--retrain]
"""

from __future__ import annotations

import os
import shutil

import _common as C
import numpy as np

#: marker and colour of each event kind on the PC curves
STYLE = {"join": ("o", "#1a9850"), "drop": ("X", "#d73027"), "shape": ("s", "#7b3294"), "loss_drop": ("v", "#2166ac"),
         "dim_level": ("D", "#e08214"), "llc_jump": ("^", "black")}
KIND_WORD = {"join": "join", "drop": "drop-out", "shape": "shape change", "loss_drop": "loss drop",
             "dim_level": "D_i level move", "llc_jump": "LLC jump"}
SHOWN = 3  # seeds drawn one by one (top row)


def config(quick: bool):
    from animsup.train.config import TrainConfig

    return TrainConfig(
        n_features=5 if quick else 6, n_hidden=2, model="tied", init_scale=0.1, feature_probability=[0.1],
        seeds=list(range(3 if quick else 8)), importance="constant", steps=600 if quick else 6000, batch_size=1024,
        lr=1e-3, optimizer="adam", snapshots=40 if quick else 120, snapshot_schedule="log", loss_every=1,
        backend="torch", threads=1,
    ).validate()


def llc_settings(quick: bool) -> dict:
    """SGLD settings (devinterp's names, animsup.train.landscape.LLCConfig)."""
    if quick:
        return {"chains": 2, "draws": 20, "burnin": 10, "batch_size": 128, "lr": 1e-4, "localization": 1.0, "nbeta": 587.0}
    return {"chains": 4, "draws": 400, "burnin": 200, "batch_size": 500, "lr": 1e-4, "localization": 1.0, "nbeta": 587.0}


def llc_steps(steps, total: int, count: int) -> list[int]:
    """``count`` snapshot steps, evenly spaced in position among the snapshots at or after 1 % of the
    run: before that the weights are still near their small initialisation, near no critical point,
    and SGLD localized there estimates noise (negative values in a trial run)."""
    late = np.asarray(steps)[np.asarray(steps) >= total // 100]
    pick = np.unique(np.linspace(0, len(late) - 1, min(count, len(late))).round().astype(int))
    return [int(s) for s in late[pick]]


def at_step(steps, values, step: float):
    """values (shape: [T, ...]) linearly interpolated at ``step`` (an event between two snapshots sits
    on the curve between them)."""
    s = np.asarray(steps, np.float64)
    v = np.asarray(values, np.float64)
    return np.array([np.interp(step, s, v[:, j]) for j in range(v.shape[1])])


def main() -> int:
    import animsup
    from animsup.analysis import geometry, ranking
    from animsup.analysis.landscape import essential_dynamics, joint_essential_dynamics
    from animsup.analysis.timeline import run_events
    from animsup.log.measurements import read_measurements, write_measurements
    from animsup.log.reader import read_log

    args = C.parser("essential_dynamics", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    q = args.quick
    cfg = config(q)
    log = C.train_or_reuse(cfg, os.path.join(args.out, "run.jsonl"), retrain=args.retrain)
    steps = read_log(log, [0]).steps
    measured = llc_steps(steps, cfg.steps, 6 if q else 20)
    C.say(f"measuring the LLC at {len(measured)} snapshots (steps {measured[0]:,}..{measured[-1]:,}) of "
          f"{cfg.n_instances} seeds (animsup.measure)")
    m = read_measurements(log)
    same = m is not None and m.llc is not None and m.steps.tolist() == measured and m.instances == tuple(range(cfg.n_instances)) \
        and all(m.llc["settings"].get(k) == v for k, v in llc_settings(q).items())
    if same and not args.retrain:
        C.say("  reusing its sidecar (same snapshots and settings)")
    else:
        m = animsup.measure(log, llc_settings(q), snapshots=measured, pca=3)
        write_measurements(log, m)  # the sidecar: run_events (and every output) now lists the LLC jumps
    run = read_log(log)
    K = run.header.n_instances
    comps, expl = essential_dynamics(run.W, run.b, run.W_dec, q=3)          # [K, T, 3], [K, 3]
    group = ranking.groups(run.header)[0]                                   # one 1 − S: the seeds
    members = list(group.instances)
    joint, joint_expl = joint_essential_dynamics(run.W[:, members], run.b[:, members], None, q=3)
    events = {i: run_events(run, i) for i in range(K)}
    final = ranking.final_loss(run.loss_steps, run.loss_curve)
    shown = sorted(range(K), key=lambda i: (-len(events[i]), i))[:SHOWN]
    rows = []
    for i in range(K):
        evs = [{"step": int(e.step), "kind": e.kind, "text": e.text,
                "pc": [round(float(v), 4) for v in at_step(run.steps, comps[i], e.step)[:2]]} for e in events[i]]
        rows.append({"instance": i, "seed": run.header.seed[i], "explained": [round(float(v), 4) for v in expl[i]],
                     "final_shape": geometry.describe(run.W[-1, i]).label(), "final_loss": float(final[i]),
                     "events": evs, "counts": {k: sum(e["kind"] == k for e in evs) for k in STYLE if any(e["kind"] == k for e in evs)}})
        C.say(f"  seed {run.header.seed[i]}: PC1 {expl[i, 0]:.0%}, PC2 {expl[i, 1]:.0%}; "
              + ", ".join(f"{n} {KIND_WORD[k]}{'s' * (n != 1)}" for k, n in rows[-1]["counts"].items()))
    C.say(f"  joint PCA of the {len(members)} seeds: PC1 {joint_expl[0]:.0%}, PC2 {joint_expl[1]:.0%}, PC3 {joint_expl[2]:.0%}")
    path = os.path.join(args.out, "essential_dynamics.png")
    _figure(path, run, comps, expl, joint, joint_expl, members, events, shown)
    res = {"config": {k: cfg.to_dict()[k] for k in ("n_features", "n_hidden", "model", "feature_probability", "steps",
                                                     "batch_size", "lr", "optimizer", "init_scale", "snapshots", "seeds")},
           "llc_settings": {k: m.llc["settings"][k] for k in ("lr", "localization", "nbeta", "chains", "draws", "burnin", "batch_size")},
           "llc_steps": [int(s) for s in m.steps], "instances": rows, "shown": shown,
           "joint": {"instances": members, "explained": [round(float(v), 4) for v in joint_expl]}, "quick": q}
    C.publish(args, "essential_dynamics", res)
    if not q:
        shutil.copyfile(path, os.path.join(C.ROOT, "docs", "img", "essential_dynamics.png"))
    return 0


# --------------------------------------------------------------------------- the figure


def _figure(path, run, comps, expl, joint, joint_expl, members, events, shown) -> None:
    keys = [key_lines(events[i]) for i in shown]
    # heights in inches: each PC plane, its key (as many lines as the longest key: no blank band), the bottom row;
    # the gaps hold a title and an x label
    plane, line, bottom, gap, head, foot = 3.3, KEY_PT * 1.3 / 72, 3.5, 0.62, 0.75, 0.5
    key_h = max(len(k) for k in keys) * line + 0.05
    height = head + plane + gap + key_h + gap + bottom + foot
    fig = C.figure(15, height)
    grid = fig.add_gridspec(3, 3, height_ratios=[plane, key_h, bottom], hspace=gap / ((plane + key_h + bottom) / 3),
                            wspace=0.24, left=0.05, right=0.985, top=1 - head / height, bottom=foot / height)
    seed = run.header.seed
    for col, i in enumerate(shown):
        ax = fig.add_subplot(grid[0, col])
        key_ax = fig.add_subplot(grid[1, col])
        _pc_plane(ax, run.steps, comps[i], events[i], numbered=True)
        ax.set_title(f"seed {seed[i]}, its own PCA: PC1 {expl[i, 0]:.0%}, PC2 {expl[i, 1]:.0%} of the variance; ○ start",
                     fontsize=9)
        key_ax.axis("off")
        key_ax.text(0.0, 1.0, "\n".join(keys[col]), va="top", ha="left", fontsize=KEY_PT, transform=key_ax.transAxes,
                    parse_math=False, linespacing=1.3)
    ax = fig.add_subplot(grid[2, 0:2])
    colors = [f"C{k % 10}" for k in range(len(members))]
    for k, i in enumerate(members):
        ax.plot(joint[k, :, 0], joint[k, :, 1], color=colors[k], lw=1.0, alpha=0.8, label=f"seed {seed[i]}")
        ax.plot(joint[k, 0, 0], joint[k, 0, 1], "o", mfc="white", mec=colors[k], ms=5)
        for e in events[i]:
            mk, c = STYLE.get(e.kind, ("*", "0.3"))
            x, y = at_step(run.steps, joint[k], e.step)[:2]
            ax.plot(x, y, mk, color=c, ms=5, mec="white", mew=0.4, zorder=3)
    ax.set(xlabel=f"PC1 ({joint_expl[0]:.0%})", ylabel=f"PC2 ({joint_expl[1]:.0%})")
    ax.set_title(f"all {len(members)} seeds of the group (1 − S = {float(run.header.feature_probability[members[0]][0]):g}) "
                 "in one PCA: shared axes; ○ start", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    kinds = sorted({e.kind for i in members for e in events[i]}, key=list(STYLE).index)
    for kind in kinds:
        mk, c = STYLE[kind]
        handles.append(ax.plot([], [], mk, color=c, ms=6, ls="none")[0])
        labels.append(KIND_WORD[kind])
    ax.legend(handles, labels, fontsize=7, ncol=2, loc="best", frameon=False)
    _pc_against_step(fig.add_subplot(grid[2, 2]), run.steps, comps[shown[0]], events[shown[0]], seed[shown[0]])
    fig.suptitle(f"Essential dynamics of the {run.header.n_features} → {run.header.n_hidden} tied ReLU model: "
                 "PCA of θ(t) = (W(t), b(t)), with the events of `animsup events` marked", fontsize=11, y=0.985)
    C.save(fig, path)


def _pc_plane(ax, steps, comps, evs, *, numbered: bool) -> None:
    """One instance's PC1–PC2 curve (grey → dark with training) and its events, numbered as in the key."""
    import matplotlib

    cmap = matplotlib.colormaps["Greys"]
    T = len(steps)
    for t in range(T - 1):
        ax.plot(comps[t : t + 2, 0], comps[t : t + 2, 1], color=cmap(0.3 + 0.7 * t / max(T - 1, 1)), lw=1.2)
    ax.plot(comps[0, 0], comps[0, 1], "o", mfc="white", mec="black", ms=5)
    points = []
    for n, e in enumerate(evs, 1):
        mk, c = STYLE.get(e.kind, ("*", "0.3"))
        x, y = at_step(steps, comps, e.step)[:2]
        ax.plot(x, y, mk, color=c, ms=6, mec="white", mew=0.5, zorder=3)
        points.append((x, y, n))
    ax.set_xlabel("PC1", fontsize=8)
    ax.set_ylabel("PC2", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.margins(0.12)
    if numbered:
        place_labels(ax, points)


def place_labels(ax, points) -> None:
    """Number each event beside its marker without two numbers overlapping: events at (nearly) the
    same point share one label ("3,4"); each label takes the first of 16 offsets around its point
    (at growing distance) whose box overlaps no marker and no label placed before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    to_px = ax.transData.transform
    merged: list[list] = []
    for x, y, n in points:
        px = to_px((x, y))
        if merged and np.hypot(*(to_px(merged[-1][:2]) - px)) < 6:
            merged[-1][2].append(n)
        else:
            merged.append([x, y, [n]])
    from matplotlib.transforms import Bbox

    r_px = 4.5 * fig.dpi / 72  # a marker's half size (ms 6 pt) and a little
    placed = [Bbox.from_extents(*(to_px((x, y)) - r_px), *(to_px((x, y)) + r_px)) for x, y, _ in points]
    angles = np.deg2rad([45, 135, 315, 225, 90, 270, 0, 180])
    for x, y, ns in merged:
        label = ",".join(str(n) for n in ns) if len(ns) <= 3 else f"{ns[0]}–{ns[-1]}"
        best = None
        for r in (9, 14, 20, 28):
            for a in angles:
                t = ax.annotate(label, (x, y), xytext=(r * np.cos(a), r * np.sin(a)), textcoords="offset points",
                                fontsize=7, ha="center", va="center", color="0.1", zorder=4)
                box = t.get_window_extent(renderer).expanded(1.08, 1.1)
                if not any(box.overlaps(b) for b in placed):
                    best = (t, box)
                    break
                t.remove()
            if best:
                break
        if best is None:  # crowded everywhere: the nearest spot
            t = ax.annotate(label, (x, y), xytext=(7, 7), textcoords="offset points", fontsize=7, ha="center", va="center")
            best = (t, t.get_window_extent(renderer))
        placed.append(best[1])


#: the event keys' font size (points) and the characters a key line holds: a third of the 15-inch figure is ~4 in,
#: ~290 pt, and a DejaVu Sans character at 7.2 pt is ~3.5 pt wide on average (measured on the rendered key)
KEY_PT, KEY_CHARS = 7.2, 82


def key_lines(evs, limit: int = 10, width: int = KEY_CHARS) -> list[str]:
    """The numbered events of one instance, in words, wrapped to ``width`` characters (the text in full:
    continuation lines indented under it); after ``limit`` events, "+N more" names the command that
    lists them all."""
    import textwrap

    from animsup.escape import plain_text

    out: list[str] = []
    for n, e in enumerate(evs[:limit] if len(evs) <= limit else evs[: limit - 1], 1):
        head = f"{n}. step {e.step:,}: "
        out += textwrap.wrap(head + plain_text(e.text), width, subsequent_indent=" " * len(head),
                             break_long_words=True, break_on_hyphens=False)
    if len(evs) > limit:
        out.append(f"+{len(evs) - limit + 1} more: animsup events LOG --instance N")
    return out or ["(no events)"]


def _pc_against_step(ax, steps, comps, evs, seed) -> None:
    """PC1 and PC2 of one instance against step (log axis), a dotted line at each event."""
    x = np.maximum(np.asarray(steps, np.float64), 1)
    ax.plot(x, comps[:, 0], color="C0", lw=1.3, label="PC1")
    ax.plot(x, comps[:, 1], color="C1", lw=1.3, label="PC2")
    ax.set_xscale("log")
    for e in evs:
        mk, c = STYLE.get(e.kind, ("*", "0.3"))
        ax.axvline(max(e.step, 1), color=c, lw=0.7, ls=":", alpha=0.9)
        ax.plot(max(e.step, 1), np.interp(e.step, steps, comps[:, 0]), mk, color=c, ms=5, mec="white", mew=0.4, zorder=3)
    ax.set_xlabel("step (log)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="best")
    ax.set_title(f"seed {seed}: PC1, PC2 against step; events dotted", fontsize=9)


# --------------------------------------------------------------------------- docs


def docs_table() -> str:
    """The explained variance and the events of each seed of the committed run (docs/figures.md)."""
    res = C.load_results("essential_dynamics")
    c = res["config"]
    kinds = [k for k in STYLE if any(k in r["counts"] for r in res["instances"])]
    header = ["seed", "final shape", "final loss", "PC1", "PC2", "PC3"] + [KIND_WORD[k] + "s" for k in kinds]
    rows = [[r["seed"], r["final_shape"], f"{r['final_loss']:.4f}", *(f"{v:.0%}" for v in r["explained"])]
            + [r["counts"].get(k, 0) for k in kinds] for r in res["instances"]]
    je = res["joint"]["explained"]
    s = res["llc_settings"]
    return (f"n_features {c['n_features']}, n_hidden {c['n_hidden']}, 1 − S = {c['feature_probability'][0]:g}, "
            f"{c['steps']:,} steps, {c['snapshots']} log-spaced snapshots; LLC at {len(res['llc_steps'])} of them "
            f"(ε = {s['lr']:g}, γ = {s['localization']:g}, nβ = {s['nbeta']:g}, {s['chains']} chains × {s['draws']} draws "
            f"after {s['burnin']}, batch {s['batch_size']}). Each seed's final shape and loss (`animsup.analysis.ranking.final_loss`), "
            f"the variance explained by its own PCs, and its events:\n\n"
            + C.md_table(header, rows)
            + f"\n\nThe joint PCA of all {len(res['joint']['instances'])} seeds: PC1 {je[0]:.0%}, PC2 {je[1]:.0%}, PC3 {je[2]:.0%}.")


if __name__ == "__main__":
    C.main_guard(main)
