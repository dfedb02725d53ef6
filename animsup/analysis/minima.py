"""Local-minima studies: where did each seed of one configuration end up, and how much worse
than the best outcome is each class of endings?

    outcomes = analyse_logs(["logs/n32.jsonl"])
    classes = summarize(outcomes)            # e.g. pentagon ×41 (best), hexagon ×23 (+5.1%)
    write_results(outcomes, classes, "outputs/n32")
    draw_gallery(outcomes, "outputs/n32/gallery.png")

An instance's *outcome class* is its final shape (animsup.analysis.geometry: the naming rule) and its
vertices, e.g. ``pentagon {0-4}``, ``pentagon + 1 weak {0-4}`` or ``hexagon {0-3,5,7}``. Its final loss is :func:`animsup.analysis.ranking.final_loss`
(the mean of the logged losses over the last 5% of the steps), so one noisy batch does not
reorder seeds.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from animsup.analysis import geometry, ranking

RESULTS_VERSION = 2  # 2: rows carry "group" and "gap"; classes carry "group"; "groups" lists them

# What makes two instances' losses comparable: the same problem and the same optimiser. Instances
# that differ in any of these are put in different groups and never compared (nor pooled).
COMPARABLE = ("n_features", "n_hidden", "model", "feature_probability", "importance", "loss_reduction", "l1", "data",
              "optimizer", "lr", "weight_decay", "lr_schedule", "gradient", "batch_size")


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
    weak: tuple  # weak extras: represented, but below 0.6 x the median represented norm
    outcome: str
    W: np.ndarray = field(repr=False)  # (shape: [n_hidden, n_features]) final weights
    label: str = ""  # geometry.Geometry.label(): the shape with its detail and regularity
    faint: tuple = ()  # not represented, norm above geometry.FAINT
    config: dict = field(default_factory=dict, repr=False)  # comparable_config(): what must match to compare
    group: str = "g0"  # the group of comparable instances (assign_groups)
    gap: float = 0.0  # final loss relative to the best final loss of the group (0 = the best)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "log": self.log, "index": self.index,
            "feature_probability": round(self.feature_probability, 7), "seed": self.seed, "step": self.step,
            "status": self.status, "final_loss": self.final_loss, "last_loss": self.last_loss,
            "shape": self.shape, "regularity": None if self.regularity is None else round(self.regularity, 4),
            "represented": list(self.represented), "n_represented": len(self.represented),
            "weak": list(self.weak), "faint": list(self.faint), "outcome": self.outcome, "label": self.label,
            "group": self.group, "gap": self.gap,
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
    share: float = 1.0  # of the instances of its group
    group: str = "g0"

    @property
    def best(self) -> bool:
        return self.gap == 0.0

    def to_dict(self) -> dict:
        return {"group": self.group, "outcome": self.name, "count": self.count, "share": self.share,
                "mean_loss": self.mean_loss, "min_loss": self.min_loss, "max_loss": self.max_loss, "gap": self.gap,
                "ids": list(self.ids)}


@dataclass
class OutcomeGroup:
    """Outcomes (instances of any of the logs) whose losses may be compared (equal
    :func:`comparable_config`). Within one log, :class:`animsup.analysis.ranking.InstanceGroup`
    is the narrower grouping by 1 − S and importance.

    :param label: what sets this group apart from the others ("" when there is one group)
    """

    name: str
    label: str
    config: dict
    ids: tuple

    def to_dict(self) -> dict:
        return {"group": self.name, "label": self.label, "config": self.config, "ids": list(self.ids)}


def comparable_config(header, i: int) -> dict:
    """The settings that must match for instance ``i``'s loss to be compared with another's
    (:data:`COMPARABLE`), from a log header. Settings a log does not record are None (the loss
    reduction defaults to "mean", the notebook's)."""
    c = header.config or {}
    fp, imp = ranking.per_instance(header)
    return {
        "n_features": header.n_features, "n_hidden": header.n_hidden, "model": header.model,
        "feature_probability": [round(float(v), 7) for v in fp[i]] if len(set(fp[i])) > 1 else round(float(fp[i][0]), 7),
        "importance": [round(float(v), 7) for v in imp[i]],
        "loss_reduction": c.get("loss_reduction", "mean"), "l1": c.get("l1", 0.0),
        "data": {"recipe": header.raw.get("data", {"kind": "uniform"}), "dataset_size": c.get("dataset_size"),
                 "normalize": bool(c.get("normalize", False))},
        "optimizer": c.get("optimizer"), "lr": c.get("lr"), "weight_decay": c.get("weight_decay"),
        "lr_schedule": c.get("lr_schedule", "constant"), "gradient": c.get("gradient", "exact"),
        "batch_size": c.get("batch_size"),
    }


def assign_groups(outcomes: list[Outcome]) -> list[OutcomeGroup]:
    """Put every outcome in its group of comparable instances (g0, g1, … in order of first
    appearance) and set its ``gap`` to the best final loss of that group; returns the groups."""
    import orjson

    keys: dict[bytes, list[Outcome]] = {}
    for o in outcomes:
        keys.setdefault(orjson.dumps(o.config, option=orjson.OPT_SORT_KEYS), []).append(o)
    members = list(keys.values())
    configs = [m[0].config for m in members]
    differ = [k for k in COMPARABLE if len({orjson.dumps(c.get(k), option=orjson.OPT_SORT_KEYS) for c in configs}) > 1]
    groups = []
    for gi, m in enumerate(members):
        name = f"g{gi}"
        best = float(np.min(ranking.rank_key([o.final_loss for o in m])))
        for o in m:
            o.group = name
            o.gap = _relative(o.final_loss, best)
        label = ", ".join(_describe(k, m[0].config.get(k)) for k in differ)
        groups.append(OutcomeGroup(name, label, m[0].config, tuple(o.id for o in m)))
    return groups


def _relative(value: float, best: float) -> float:
    return (value - best) / best if best > 0 else value - best


def _describe(key: str, value) -> str:
    """"1-S=0.1", "importance 0.9^i", "loss half-sum", "optimizer sgd", "lr 1"."""
    if key == "feature_probability":
        return f"1-S={value:.3g}" if isinstance(value, float) else "1-S per feature"
    if key == "importance":
        return "importance " + ranking.describe_importance(value)
    if key == "loss_reduction":
        return f"loss {value}"
    if key == "data":
        parts = [value["recipe"].get("kind", "?") if isinstance(value["recipe"], dict) else str(value["recipe"])]
        if value.get("dataset_size"):
            parts.append(f"data set {value['dataset_size']}")
        if value.get("normalize"):
            parts.append("normalised")
        return "data " + " ".join(parts)
    return f"{key.replace('_', ' ')} {value}"


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
    """The shape and its vertices: ``pentagon {0-4}``, ``pentagon + 1 weak {0-4}``, ``not learned``."""
    if not geo.order:
        return geo.shape or "not learned"
    return f"{geo.shape} {compact_set(geo.order)}"


def analyse_run(run, *, threshold: float = geometry.THRESHOLD, first_id: int = 0) -> list[Outcome]:
    """Outcomes of every instance of a loaded log (animsup.log.reader.Run), at its last snapshot."""
    h = run.header
    if h.loss_scope != "instance":
        from animsup.errors import AnimsupError

        what = "no loss" if h.loss_scope == "none" else "one aggregate loss for all instances"
        raise AnimsupError(f"{run.path}: the log records {what}; a minima study ranks instances by their own loss")
    tail = ranking.final_loss(run.loss_steps, run.loss_curve)
    if tail is None:
        tail = np.full(len(run.instances), np.nan)
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
            label=geo.label(), faint=tuple(w[0] for w in geo.faint), config=comparable_config(h, i),
        ))
    assign_groups(out)
    return out


def analyse_logs(paths, *, threshold: float = geometry.THRESHOLD) -> list[Outcome]:
    """Outcomes of all instances of all logs, numbered in order (``id``)."""
    from animsup.log.reader import read_log

    outcomes: list[Outcome] = []
    for p in paths:
        outcomes += analyse_run(read_log(p), threshold=threshold, first_id=len(outcomes))
    assign_groups(outcomes)
    return outcomes


def summarize(outcomes: list[Outcome]) -> list[OutcomeClass]:
    """Outcome classes, formed and compared within each group of comparable instances
    (:func:`assign_groups`), sorted by group then mean final loss; ``gap`` is relative to the best
    class's mean in the same group."""
    order = list(dict.fromkeys(o.group for o in outcomes))
    result = []
    for g in order:
        classes: dict[str, list[Outcome]] = {}
        for o in outcomes:
            if o.group == g:
                classes.setdefault(o.outcome, []).append(o)
        stats = []
        for name, members in classes.items():
            loss = ranking.rank_key([o.final_loss for o in members])
            stats.append((float(loss.mean()), float(loss.min()), float(loss.max()), name, members))
        stats.sort(key=lambda s: (s[0], s[3]))
        best = stats[0][0]
        total = sum(len(m) for *_, m in stats)
        result += [
            OutcomeClass(name, len(m), mean, lo, hi, _relative(mean, best),
                         tuple(o.id for o in sorted(m, key=lambda o: ranking.rank_key([o.final_loss])[0])),
                         len(m) / total, g)
            for mean, lo, hi, name, m in stats
        ]
    return result


def best_ids(outcomes: list[Outcome]) -> set:
    """Ids of the instances in a best class (per group of comparable instances)."""
    return {i for c in summarize(outcomes) if c.best for i in c.ids}


def shape_summary(outcomes: list[Outcome]) -> list[OutcomeClass]:
    """Like :func:`summarize` but grouped by shape name alone (pentagon vs hexagon)."""
    renamed = [Outcome(**{**o.__dict__, "outcome": o.shape or "not learned"}) for o in outcomes]
    return summarize(renamed)


def format_summary(classes: list[OutcomeClass], total: int | None = None, title: str = "outcome",
                   groups: list[OutcomeGroup] | None = None) -> str:
    """The printed tables, one per group of comparable instances: each class with count, share
    (within its group), mean/min final loss and its gap to the best class of the group."""
    labels = {g.name: g.label for g in groups or []}
    names = list(dict.fromkeys(c.group for c in classes))
    width = max([len(title)] + [len(c.name) for c in classes])
    blocks = []
    for gname in names:
        mine = [c for c in classes if c.group == gname]
        lines = []
        if len(names) > 1:
            n = sum(c.count for c in mine)
            lines.append(f"{gname}: {labels.get(gname, '')} ({n} instance{'s' * (n != 1)})".replace(":  (", ": ("))
        lines.append(f"{title:<{width}}  {'count':>5}  {'share':>5}  {'mean loss':>9}  {'min loss':>9}  {'gap':>7}")
        for c in mine:
            gap = "best" if c.best else f"{100 * c.gap:+.1f}%"
            lines.append(f"{c.name:<{width}}  {c.count:>5}  {100 * c.share:>4.0f}%  "
                         f"{c.mean_loss:>9.5f}  {c.min_loss:>9.5f}  {gap:>7}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def split_note(groups: list[OutcomeGroup]) -> str | None:
    """One line saying the inputs were split into groups and why, or None for one group."""
    if len(groups) < 2:
        return None
    differ = sorted({k for g in groups for k in COMPARABLE
                     if any(g.config.get(k) != h.config.get(k) for h in groups)}, key=COMPARABLE.index)
    return (f"the inputs hold {len(groups)} groups of comparable instances (they differ in "
            f"{', '.join(k.replace('_', ' ') for k in differ)}): each is compared only within itself")


# --------------------------------------------------------------------------- files


def write_results(outcomes: list[Outcome], classes: list[OutcomeClass], out_dir, *, extra: dict | None = None) -> dict:
    """results.csv (one row per instance, sorted by loss) and results.json (rows + classes), atomically."""
    import orjson

    from animsup.atomic import atomic_path

    groups = assign_groups(outcomes)
    rank = {g.name: k for k, g in enumerate(groups)}
    rows = [o.to_dict() for o in sorted(outcomes, key=lambda o: (rank[o.group], ranking.rank_key([o.final_loss])[0]))]
    good = best_ids(outcomes)
    for r in rows:
        r["suboptimal"] = r["id"] not in good
    buf = io.StringIO()
    cols = ["id", "log", "index", "group", "feature_probability", "seed", "step", "status", "final_loss", "gap",
            "last_loss", "outcome", "shape", "regularity", "n_represented", "represented", "weak", "faint", "suboptimal"]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, **{k: " ".join(map(str, r[k])) for k in ("represented", "weak", "faint")}})
    paths = {"csv": os.path.join(out_dir, "results.csv"), "json": os.path.join(out_dir, "results.json")}
    with atomic_path(paths["csv"]) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write(buf.getvalue())
    doc = {"version": RESULTS_VERSION, "groups": [g.to_dict() for g in groups], "instances": rows,
           "classes": [c.to_dict() for c in classes],
           "shapes": [c.to_dict() for c in shape_summary(outcomes)], **(extra or {})}
    with atomic_path(paths["json"]) as tmp:
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return paths


def pick_worst(outcomes: list[Outcome], k: int) -> list[Outcome]:
    """The ``k`` instances with the highest final loss, worst first."""
    return sorted(outcomes, key=lambda o: -o.final_loss)[:k]
