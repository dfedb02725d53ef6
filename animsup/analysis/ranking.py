"""Which instance did best: one definition of an instance's final loss, and the groups of
instances whose losses may be compared. numpy only.

**Final loss** (:func:`final_loss`): the mean of the logged losses whose step lies in the last
5 % of the run (steps ≥ last − 0.05·last; always at least the last logged loss). One batch's
loss is noisy: on the demo run (n=5, m=2, 1 − S = 0.05, batch 1,024, 4 seeds) it varies by
16–24 % (std/mean over the last 500 steps), while the three seeds that end in the same pentagon
differ by under 1 % in mean loss, so the last batch (or the loss stored with the last snapshot)
picks one of them by chance. The last 5 % of a 10,000-step run averages the 500 batches of steps
9,500–10,000 (with ``loss_every = 1``; the noise of the mean falls ~√500 ≈ 22×) while still
describing the end of training. A log without loss records falls back on the losses stored with its snapshots
(often only the last one or two fall in the window). A diverged instance's final loss is NaN or
inf and ranks last.

**Groups** (:func:`groups`): losses are only comparable between instances trained on the same
problem. Within one log that means the same feature probability (1 − S), the same
importance and, for a finite-data run, the same training-set size T (a model that memorises 3
examples reaches a training loss no model of 3,000 can: labels then say "T=3"), and the same
named per-instance settings of the header (``Header.settings``: e.g. a weight decay γ or a sweep's
lr; labels then say "γ=-1"); instances differing in any are in different groups, numbered g0, g1, … in the
order of their first instance. "Best" is always the lowest final loss *within a group*: on the
paper's sparsity sweep the sparsest instance has the lowest loss whatever its geometry, so a
best across groups would always pick it.

**Choosing instances** (:func:`resolve`): ``"best"`` (the log has one group, or the command
takes one instance per group), ``"best:g2"`` (the best of group g2), ``"best:p=0.05"`` (the
best of the group with 1 − S = 0.05), or an instance index. A command that needs one instance
and gets a bare ``"best"`` on a log with several groups fails with one line listing them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from animsup.errors import AnimsupError
from animsup.options import is_integral

TAIL = 0.05  # final loss = mean of the logged losses in the last 5% of the steps


def tail_start(last_step: float, fraction: float = TAIL) -> float:
    """The first step that counts towards the final loss of a run whose last logged step is
    ``last_step``: ``last − fraction·max(last, 1)`` (non-decreasing in ``last_step``)."""
    return last_step - fraction * max(last_step, 1)


def final_loss(loss_steps, loss_curve, fraction: float = TAIL) -> np.ndarray | None:
    """An instance's final loss: the mean of the logged losses at steps ≥ :func:`tail_start`.

    :param loss_steps: (shape: [L]) steps of the logged losses, ascending
    :param loss_curve: (shape: [L, k]) the losses
    :return: (shape: [k]) float64, or None when nothing was logged
    """
    tracker = FinalLoss(fraction)
    tracker.add(loss_steps, loss_curve)
    return tracker.value()


class FinalLoss:
    """:func:`final_loss` computed while streaming a log: ``add(steps, rows)`` in step order,
    then ``value()``. Only the rows that can still be in the last ``fraction`` of the run are
    kept (rows before :func:`tail_start` of the current last step are dropped), so memory is
    about ``fraction`` of the loss rows."""

    def __init__(self, fraction: float = TAIL):
        self.fraction = float(fraction)
        self._steps: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._n = 0
        self._kept_after_trim = 0
        self.last_step: float | None = None

    def add(self, steps, rows) -> None:
        """:param steps: (shape: [r]); :param rows: (shape: [r, k])"""
        steps = np.asarray(steps, dtype=np.float64).reshape(-1)
        if not len(steps):
            return
        rows = np.asarray(rows, dtype=np.float64).reshape(len(steps), -1)
        self._steps.append(steps)
        self._rows.append(rows)
        self._n += len(steps)
        self.last_step = float(steps[-1]) if self.last_step is None else max(self.last_step, float(steps[-1]))
        if self._n > 2 * self._kept_after_trim + 1024:
            self._trim()

    def _trim(self) -> None:
        if self.last_step is None:
            return
        start = tail_start(self.last_step, self.fraction)
        steps, rows = np.concatenate(self._steps), np.concatenate(self._rows)
        keep = steps >= start
        self._steps, self._rows = [steps[keep]], [rows[keep]]
        self._n = self._kept_after_trim = int(keep.sum())

    def value(self) -> np.ndarray | None:
        """(shape: [k]) the final loss of each instance, or None when nothing was added."""
        if self.last_step is None:
            return None
        self._trim()
        return self._rows[0].mean(axis=0)


def rank_key(losses) -> np.ndarray:
    """Losses with NaN replaced by +inf, so a diverged instance ranks last. (shape: [k])"""
    v = np.asarray(losses, dtype=np.float64)
    return np.where(np.isnan(v), np.inf, v)


def argbest(losses) -> int:
    """Position of the lowest final loss (NaN ranks last; ties: the first). (shape: [k] → int)"""
    return int(np.argmin(rank_key(losses)))


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class InstanceGroup:
    """Instances of one log trained on the same problem (same 1 − S, importance and training-set size); the
    groups that ``best`` chooses within. (Across logs, :class:`animsup.analysis.minima.OutcomeGroup`
    groups outcomes by their whole comparable configuration.)

    :param id: 0, 1, … in the order of the groups' first instances (shown as ``g<id>``)
    :param label: what differs between groups, e.g. "1-S=0.05" or "1-S=0.1, importance 0.7^i"
    :param instances: the log's instance indices in the group, ascending
    :param feature_probability: (shape: [n_features]) the group's 1 − S per feature
    :param importance: (shape: [n_features]) the group's importance per feature
    """

    id: int
    label: str
    instances: tuple
    feature_probability: np.ndarray
    importance: np.ndarray

    @property
    def name(self) -> str:
        return f"g{self.id}"

    @property
    def probability(self) -> float | None:
        """The group's 1 − S when every feature has the same one, else None."""
        p = self.feature_probability
        return float(p[0]) if np.all(p == p[0]) else None

    def best(self, losses) -> int:
        """The group's instance with the lowest final loss. :param losses: (shape: [n_instances])"""
        sub = np.asarray(losses, dtype=np.float64)[list(self.instances)]
        return int(self.instances[argbest(sub)])


def per_instance(header) -> tuple[np.ndarray, np.ndarray]:
    """The header's 1 − S and importance as (shape: [n_instances, n_features]) arrays.

    A per-instance ``feature_probability`` ([n_instances]) and a per-feature ``importance``
    ([n_features]) are broadcast; [n_instances, n_features] arrays are taken as they are. For a
    staged run the 1 − S is its last stage's (the one its final loss is measured in; the header's
    own is stage 0's)."""
    K, n = header.n_instances, header.n_features
    fp = _last_stage_probability(header)
    if fp is None:
        fp = np.asarray(header.feature_probability, dtype=np.float64)
    fp = np.broadcast_to(fp.reshape(K, 1) if fp.ndim == 1 else fp, (K, n))
    imp = np.asarray(header.importance, dtype=np.float64)
    imp = np.broadcast_to(imp.reshape(1, n) if imp.ndim == 1 else imp, (K, n))
    return fp, imp


def train_set_sizes(header) -> list[int] | None:
    """The training-set size T of each instance of a finite-data run (the header's ``train_set``
    ``sizes``, :mod:`animsup.train.finite`), else None (fresh samples every batch)."""
    raw = getattr(header, "raw", None)
    ts = raw.get("train_set") if isinstance(raw, dict) else getattr(header, "train_set", None)
    sizes = ts.get("sizes") if isinstance(ts, dict) else None
    if not isinstance(sizes, list) or len(sizes) != header.n_instances or not all(is_integral(t) for t in sizes):
        return None
    return [int(t) for t in sizes]


def _last_stage_probability(header):
    """The last stage's 1 − S (shape: [n_instances, n_features]) of a staged run, else None."""
    stages = getattr(header, "stages", None) or []
    if len(stages) < 2:
        return None
    last = max(stages, key=lambda st: st["start_step"])
    try:
        fp = np.asarray(last.get("feature_probability"), dtype=np.float64)
    except (TypeError, ValueError):
        return None
    ok = fp.shape == (header.n_instances, header.n_features) and np.all((fp > 0) & (fp <= 1))
    return fp if ok else None


def describe_importance(importance) -> str:
    """"0.9^i", "constant", or the first values. :param importance: (shape: [n_features])"""
    imp = np.asarray(importance, dtype=np.float64)
    if len(imp) > 1 and np.allclose(imp, imp[0]):
        return "constant" if imp[0] == 1 else f"constant {imp[0]:g}"
    if len(imp) > 2 and imp[0] == 1 and np.all(imp > 0):
        base = imp[1]
        if np.allclose(imp, base ** np.arange(len(imp)), rtol=1e-4):
            return f"{base:.4g}^i"
    shown = ", ".join(f"{v:.3g}" for v in imp[:6])
    return f"[{shown}{', ...' if len(imp) > 6 else ''}]"


def _describe_probability(p: np.ndarray) -> str:
    if np.all(p == p[0]):
        return f"1-S={p[0]:.3g}"
    shown = ", ".join(f"{v:.3g}" for v in p[:4])
    return f"1-S=[{shown}{', ...' if len(p) > 4 else ''}]"


def groups(header) -> list[InstanceGroup]:
    """The log's groups of comparable instances (see the module docstring)."""
    fp, imp = per_instance(header)
    sizes = train_set_sizes(header)
    settings = header.settings() if hasattr(header, "settings") else {}
    keys: dict[tuple, list[int]] = {}
    for i in range(header.n_instances):
        setting = tuple(repr(v[i]) for v in settings.values())
        keys.setdefault((fp[i].tobytes(), imp[i].tobytes(), None if sizes is None else sizes[i], setting), []).append(i)
    members = list(keys.values())
    imp_varies = len({imp[m[0]].tobytes() for m in members}) > 1
    sizes_vary = sizes is not None and len({sizes[i] for i in range(header.n_instances)}) > 1
    out = []
    staged = _last_stage_probability(header) is not None
    for gid, m in enumerate(members):
        label = _describe_probability(fp[m[0]]) + (" (last stage)" if staged else "")
        if imp_varies:
            label += f", importance {describe_importance(imp[m[0]])}"
        if sizes_vary and sizes is not None:
            label += f", T={sizes[m[0]]:,}"
        if settings:
            label += f", {header.settings_text(m[0])}"
        out.append(InstanceGroup(gid, label, tuple(m), fp[m[0]].copy(), imp[m[0]].copy()))
    labels = [g.label for g in out]  # labels that round alike get the group's name
    return [InstanceGroup(g.id, f"{g.label} ({g.name})", g.instances, g.feature_probability, g.importance)
            if labels.count(g.label) > 1 else g for g in out]


def group_of(groups_: list[InstanceGroup], instance: int) -> InstanceGroup:
    """The group holding ``instance``."""
    for g in groups_:
        if instance in g.instances:
            return g
    raise ValueError(f"instance {instance} is in no group")


def list_groups(groups_: list[InstanceGroup]) -> str:
    """"best:g0 (1-S=1), best:g1 (1-S=0.1)" — how to name each group on the command line."""
    return ", ".join(f"best:{g.name} ({g.label})" for g in groups_)


def parse_group(spec: str, groups_: list[InstanceGroup]) -> InstanceGroup:
    """The group named by ``spec``: "g2" or "p=0.05" (1 − S; matched to 3 significant digits)."""
    spec = spec.strip()
    if spec.startswith("g") and spec[1:].isdigit():
        gid = int(spec[1:])
        if gid < len(groups_):
            return groups_[gid]
        raise AnimsupError(f"best:{spec}: no such group; the log's groups: {list_groups(groups_)}")
    if spec.startswith(("p=", "1-S=")):
        text = spec.split("=", 1)[1]
        try:
            p = float(text)
        except ValueError:
            raise AnimsupError(f"best:{spec}: {text!r} is not a number; the log's groups: {list_groups(groups_)}") from None
        found = [g for g in groups_ if g.probability is not None
                 and (math.isclose(g.probability, p, rel_tol=1e-6) or f"{g.probability:.3g}" == f"{p:.3g}")]
        if len(found) == 1:
            return found[0]
        what = "several groups have" if found else "no group has"
        raise AnimsupError(f"best:{spec}: {what} 1-S={p:g}; the log's groups: {list_groups(found or groups_)}")
    raise AnimsupError(f"best:{spec}: name a group as best:g<N> or best:p=<1-S>; the log's groups: {list_groups(groups_)}")


def resolve(spec, groups_: list[InstanceGroup], losses, n_instances: int, *, one: bool = True) -> list[int]:
    """Instance indices named by one ``--instance`` value.

    :param spec: an index (int or digits), "best", "best:g<N>" or "best:p=<1-S>"
    :param losses: (shape: [n_instances]) final losses (:func:`final_loss`), or None if the log
        has none (then only indices work)
    :param one: the caller shows one instance: a bare "best" on a log with several groups is an
        error listing them; with ``one=False`` it means the best of every group
    :raises AnimsupError: a bad index, an unknown group, or an ambiguous "best"
    """
    if is_integral(spec):
        text = str(int(spec))
    else:
        text = str(spec).strip()
    if text.lstrip("-").isdigit():
        i = int(text)
        if not 0 <= i < n_instances:
            raise AnimsupError(f"instance {i} does not exist (the log has instances 0..{n_instances - 1})")
        return [i]
    if text != "best" and not text.startswith("best:"):
        raise AnimsupError(f"--instance takes an index, 'best', 'best:g<N>' or 'best:p=<1-S>', got {spec!r}")
    if n_instances == 1 and (text == "best" or text.startswith("best:")):
        if text.startswith("best:") and losses is not None and len(losses) == 1:
            return [parse_group(text[5:], groups_).best(losses)]
        return [0]  # one instance is the best of its group, with or without a loss
    if losses is None or len(losses) != n_instances:
        raise AnimsupError("the log records no loss per instance, so there is no best instance; pass --instance N")
    if text.startswith("best:"):
        return [parse_group(text[5:], groups_).best(losses)]
    if len(groups_) == 1 or not one:
        return [g.best(losses) for g in groups_]
    raise AnimsupError(f"'best' is ambiguous: the log has {len(groups_)} groups of instances whose losses are not "
                       f"comparable (different 1-S or importance); choose one: {list_groups(groups_)}")


def select(specs: Sequence[int | str], groups_: list[InstanceGroup], losses: np.ndarray | None,
           n_instances: int) -> list[int]:
    """The instances named by several ``--instance`` values, each once, in the order named
    (:func:`resolve` with ``one=False``: a bare "best" is the best of every group)."""
    found = [i for spec in specs for i in resolve(spec, groups_, losses, n_instances, one=False)]
    return list(dict.fromkeys(found))


def group_report(groups_: list[InstanceGroup], losses) -> list[dict]:
    """JSON-ready: per group its id, label, 1 − S, instances, the best one and every final loss."""
    out = []
    for g in groups_:
        finals = None if losses is None else {str(i): json_number(losses[i]) for i in g.instances}
        out.append({
            "group": g.name, "label": g.label, "feature_probability": g.probability,
            "importance": describe_importance(g.importance), "instances": list(g.instances),
            "best": None if losses is None else g.best(losses), "final_loss": finals,
        })
    return out


def json_number(v: float) -> float | str:
    """JSON has no inf/NaN: those become the strings "inf", "-inf", "nan"."""
    v = float(v)
    return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))


def log_final_loss(path, fraction: float = TAIL) -> np.ndarray | None:
    """Stream a log and return every instance's final loss (shape: [n_instances]), or None
    when the log holds no loss. Uses the loss records, or the snapshots' losses if it has none."""
    from animsup.log.reader import open_log

    fine, coarse = FinalLoss(fraction), FinalLoss(fraction)
    with open_log(path) as reader:
        for kind, _, item in reader.iter_all():
            if kind == "snapshot":
                if getattr(item, "loss", None) is not None:
                    coarse.add([item.step], np.asarray(item.loss).reshape(1, -1))
            elif len(item[0]):
                fine.add(item[0], item[1])
    v = fine.value()
    return v if v is not None else coarse.value()


# --------------------------------------------------------------------------- the default view


@dataclass(frozen=True)
class ViewChoice:
    """What a picture shows when the user names no instance (:func:`default_view`).

    :param grid: every instance side by side (no single comparable best)
    :param instance: the instance shown alone, or shown first (large) in a viewer
    :param reason: one line for the user: what was chosen and why
    """

    grid: bool
    instance: int
    reason: str


def default_view(header, losses) -> ViewChoice:
    """The one rule every output (``animsup render``, the viewer, ``animsup.show``) follows when
    no instance is named: the best instance when "best" is defined (one instance, or one group of
    comparable instances with a final loss each), else the grid of every instance — no loss
    recorded, one aggregate loss for all instances, or several groups (different 1 − S or
    importance) whose losses are not comparable. Never raises.

    :param header: the log's header (n_instances, loss_scope, 1 − S, importance)
    :param losses: (shape: [n_instances]) final losses (:func:`final_loss`), or None
    """
    k = header.n_instances
    if k == 1:
        return ViewChoice(False, 0, "instance 0 (the log's only instance)")
    groups_ = groups(header)
    first = groups_[0].best(losses) if losses is not None and len(losses) == k else groups_[0].instances[0]
    if losses is None or len(losses) != k:
        why = {"none": "the log records no loss", "aggregate": "the log records one loss for all instances"}.get(
            getattr(header, "loss_scope", "none"), "the log records no loss per instance")
        return ViewChoice(True, first, f"all {k} instances as a grid: {why}, so no instance is best "
                                       f"(--instance N shows one)")
    if len(groups_) > 1:
        return ViewChoice(True, first, f"all {k} instances as a grid: {len(groups_)} groups of instances with "
                                       f"different 1-S or importance, whose losses are not comparable "
                                       f"(one group's best: --instance {list_groups(groups_[:1]).split(' ')[0]})")
    best = groups_[0].best(losses)
    return ViewChoice(False, best, f"instance {best}, the lowest final loss of {k} comparable instances "
                                   f"(--grid shows all)")
