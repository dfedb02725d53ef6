"""Local-minima studies: where did each seed of one configuration end up, and how much worse
than the best outcome is each class of endings?

    outcomes = analyse_logs(["logs/n32.jsonl"])
    classes = summarize(outcomes)            # e.g. pentagon ×41 (best), hexagon ×23 (+5.1%)
    write_results(outcomes, classes, "outputs/n32")
    draw_gallery(outcomes, "outputs/n32/gallery.png")

An instance's *outcome class* is its final shape (animsup.geometry; n_hidden = 2) and its
represented features, e.g. ``pentagon {0-4}`` or ``hexagon {0-3,5,7}``; beyond two hidden
dimensions it is the represented set alone. Its final loss is the mean of the fine loss curve
over the last 5% of the steps, so one noisy batch does not reorder seeds.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from animsup import geometry

TAIL = 0.05  # final loss = mean over the last 5% of the steps
RESULTS_VERSION = 1


@dataclass
class Outcome:
    """Where one instance ended. ``id`` numbers outcomes across all analysed logs."""

    id: int
    log: str
    index: int
    feature_probability: float
    seed: object
    step: int
    status: str
    final_loss: float
    last_loss: float
    shape: str | None
    regularity: float | None
    represented: tuple
    weak: tuple
    outcome: str
    W: np.ndarray = field(repr=False)  # (shape: [n_hidden, n_features]) final weights

    def to_dict(self) -> dict:
        return {
            "id": self.id, "log": self.log, "index": self.index,
            "feature_probability": round(self.feature_probability, 7), "seed": self.seed, "step": self.step,
            "status": self.status, "final_loss": self.final_loss, "last_loss": self.last_loss,
            "shape": self.shape, "regularity": None if self.regularity is None else round(self.regularity, 4),
            "represented": list(self.represented), "n_represented": len(self.represented),
            "weak": list(self.weak), "outcome": self.outcome,
        }


@dataclass
class OutcomeClass:
    """All instances that ended the same way. ``gap``: mean loss relative to the best class's."""

    name: str
    count: int
    mean_loss: float
    min_loss: float
    max_loss: float
    gap: float
    ids: tuple
    share: float = 1.0  # of the instances with this feature probability

    @property
    def best(self) -> bool:
        return self.gap == 0.0

    def to_dict(self) -> dict:
        return {"outcome": self.name, "count": self.count, "share": self.share, "mean_loss": self.mean_loss,
                "min_loss": self.min_loss, "max_loss": self.max_loss, "gap": self.gap, "ids": list(self.ids)}


def compact_set(features) -> str:
    """{0,1,2,3,5} → "{0-3,5}"."""
    feats = sorted(int(f) for f in features)
    parts, i = [], 0
    while i < len(feats):
        j = i
        while j + 1 < len(feats) and feats[j + 1] == feats[j] + 1:
            j += 1
        parts.append(str(feats[i]) if i == j else f"{feats[i]}-{feats[j]}" if j > i + 1 else f"{feats[i]},{feats[j]}")
        i = j + 1
    return "{" + ",".join(parts) + "}"


def outcome_name(geo: geometry.Geometry) -> str:
    """``pentagon {0-4}``; ``5 represented {0-4}`` beyond two hidden dimensions."""
    feats = compact_set(geo.order if geo.shape is not None else geo.represented_features)
    if geo.shape is None:
        return f"{len(geo.represented_features)} represented {feats}"
    if geo.shape == "nothing":
        return "nothing"
    return f"{geo.shape} {feats}"


def analyse_run(run, *, threshold: float = geometry.THRESHOLD, first_id: int = 0) -> list[Outcome]:
    """Outcomes of every instance of a loaded log (animsup.runlog.Run), at its last snapshot."""
    from animsup.cli.inspect import tail_loss

    h = run.header
    tail = tail_loss(run.loss_steps, run.loss_curve, TAIL)
    out = []
    for k, i in enumerate(run.instances):
        W = run.W[-1, k]
        geo = geometry.describe(W, threshold)
        out.append(Outcome(
            id=first_id + k, log=run.path, index=int(i), feature_probability=float(h.instance_probability[i]),
            seed=h.seed[i], step=int(run.steps[-1]), status=run.status,
            final_loss=float(tail[k]), last_loss=float(run.loss[-1, k]),
            shape=geo.shape, regularity=geo.regularity, represented=geo.represented_features,
            weak=tuple(w[0] for w in geo.weak), outcome=outcome_name(geo), W=np.asarray(W, dtype=np.float64),
        ))
    return out


def analyse_logs(paths, *, threshold: float = geometry.THRESHOLD) -> list[Outcome]:
    """Outcomes of all instances of all logs, numbered in order (``id``)."""
    from animsup.runlog import read_log

    outcomes: list[Outcome] = []
    for p in paths:
        outcomes += analyse_run(read_log(p), threshold=threshold, first_id=len(outcomes))
    return outcomes


def summarize(outcomes: list[Outcome]) -> list[OutcomeClass]:
    """Outcome classes sorted by mean final loss; ``gap`` is relative to the best class's mean.

    With several feature probabilities, classes are formed (and compared) within each
    probability and named "1-S=0.05: pentagon {0-4}".
    """
    probs = sorted({o.feature_probability for o in outcomes}, reverse=True)
    result = []
    for p in probs:
        groups: dict[str, list[Outcome]] = {}
        for o in outcomes:
            if o.feature_probability == p:
                groups.setdefault(o.outcome, []).append(o)
        stats = []
        for name, members in groups.items():
            loss = np.array([o.final_loss for o in members])
            stats.append((float(loss.mean()), float(loss.min()), float(loss.max()), name, members))
        stats.sort(key=lambda s: (s[0], s[3]))
        best = stats[0][0]
        prefix = f"1-S={p:.3g}: " if len(probs) > 1 else ""
        total = sum(len(m) for *_, m in stats)
        result += [
            OutcomeClass(prefix + name, len(m), mean, lo, hi, (mean - best) / best if best > 0 else mean - best,
                         tuple(o.id for o in sorted(m, key=lambda o: o.final_loss)), len(m) / total)
            for mean, lo, hi, name, m in stats
        ]
    return result


def best_ids(outcomes: list[Outcome]) -> set:
    """Ids of the instances in a best class (per feature probability)."""
    return {i for c in summarize(outcomes) if c.best for i in c.ids}


def shape_summary(outcomes: list[Outcome]) -> list[OutcomeClass]:
    """Like :func:`summarize` but grouped by shape name alone (pentagon vs hexagon)."""
    renamed = [Outcome(**{**o.__dict__, "outcome": o.shape or f"{len(o.represented)} represented"}) for o in outcomes]
    return summarize(renamed)


def format_summary(classes: list[OutcomeClass], total: int | None = None, title: str = "outcome") -> str:
    """The printed table: each class with count, share (within its feature probability),
    mean/min loss and its gap to the best class."""
    width = max([len(title)] + [len(c.name) for c in classes])
    lines = [f"{title:<{width}}  {'count':>5}  {'share':>5}  {'mean loss':>9}  {'min loss':>9}  {'gap':>7}"]
    for c in classes:
        gap = "best" if c.best else f"{100 * c.gap:+.1f}%"
        lines.append(f"{c.name:<{width}}  {c.count:>5}  {100 * c.share:>4.0f}%  "
                     f"{c.mean_loss:>9.5f}  {c.min_loss:>9.5f}  {gap:>7}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def write_results(outcomes: list[Outcome], classes: list[OutcomeClass], out_dir, *, extra: dict | None = None) -> dict:
    """results.csv (one row per instance, sorted by loss) and results.json (rows + classes), atomically."""
    import orjson

    from animsup.atomic import atomic_path

    rows = [o.to_dict() for o in sorted(outcomes, key=lambda o: (-o.feature_probability, o.final_loss))]
    good = best_ids(outcomes)
    for r in rows:
        r["suboptimal"] = r["id"] not in good
    buf = io.StringIO()
    cols = ["id", "log", "index", "feature_probability", "seed", "step", "status", "final_loss", "last_loss",
            "outcome", "shape", "regularity", "n_represented", "represented", "weak", "suboptimal"]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "represented": " ".join(map(str, r["represented"])), "weak": " ".join(map(str, r["weak"]))})
    paths = {"csv": os.path.join(out_dir, "results.csv"), "json": os.path.join(out_dir, "results.json")}
    with atomic_path(paths["csv"]) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write(buf.getvalue())
    doc = {"version": RESULTS_VERSION, "instances": rows, "classes": [c.to_dict() for c in classes],
           "shapes": [c.to_dict() for c in shape_summary(outcomes)], **(extra or {})}
    with atomic_path(paths["json"]) as tmp:
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return paths


def draw_gallery(outcomes: list[Outcome], path, *, columns: int | None = None, panel_inches: float = 1.25,
                 dpi: int = 80, title: str | None = None) -> str:
    """One small panel per instance, sorted by final loss; instances outside the best class get a
    red frame and title. n_hidden = 2: the feature vectors (colour = feature index, darker = more
    important); otherwise the W^T W matrix. Written atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from animsup.atomic import atomic_path

    if not outcomes:
        raise ValueError("no outcomes to draw")
    order = sorted(outcomes, key=lambda o: (-o.feature_probability, o.final_loss))
    good = best_ids(outcomes)
    several = len({o.feature_probability for o in order}) > 1
    n = len(order)
    cols = columns or max(4, int(np.ceil(np.sqrt(n * 1.6))))
    rows = int(np.ceil(n / cols))
    head = 0.55 if title else 0.1
    fig = Figure(figsize=(cols * panel_inches, rows * (panel_inches + 0.32) + head), dpi=dpi)
    if title:
        fig.text(0.5, 1 - 0.08 / (rows * (panel_inches + 0.32) + head), title, ha="center", va="top", fontsize=8, wrap=True)
    lim = max(1.0, max(float(np.linalg.norm(o.W, axis=0).max()) for o in order)) * 1.32
    n_features = order[0].W.shape[1]
    palette = matplotlib.colormaps["tab10"].colors
    red = "#c0392b"
    for j, o in enumerate(order):
        ax = fig.add_subplot(rows, cols, j + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        bad = o.id not in good
        if o.W.shape[0] == 2:
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            strong = set(o.represented)
            for f in np.argsort(np.linalg.norm(o.W, axis=0)):  # strongest drawn last
                x, y = o.W[:, f]
                colour = palette[f % 10] if f in strong else "#aaaaaa"
                ax.plot([0, x], [0, y], color=colour, lw=1.3 if f in strong else 0.6)
                if f in strong:
                    ax.plot([x], [y], "o", ms=2.5, color=colour)
                    ax.text(x * 1.18, y * 1.18, str(f), fontsize=5, ha="center", va="center", color=colour)
        else:
            G = o.W.T @ o.W
            v = max(1e-9, float(np.abs(G).max()))
            ax.imshow(G, cmap="RdBu", vmin=-v, vmax=v)
        label = o.shape if o.shape is not None else f"{len(o.represented)} of {n_features}"
        where = f"1-S={o.feature_probability:.2g} " if several else ""
        ax.set_title(f"#{o.id} {where}seed {o.seed}\n{o.final_loss:.4f} {label}", fontsize=6, color=red if bad else "black",
                     pad=2, linespacing=1.1)
        for sp in ax.spines.values():
            sp.set_color(red if bad else "#999999")
            sp.set_linewidth(1.8 if bad else 0.6)
    H = rows * (panel_inches + 0.32) + head
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - head / H, wspace=0.06, hspace=0.42)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return os.fspath(path)


def pick_worst(outcomes: list[Outcome], k: int) -> list[Outcome]:
    """The ``k`` instances with the highest final loss, worst first."""
    return sorted(outcomes, key=lambda o: -o.final_loss)[:k]
