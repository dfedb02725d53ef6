"""The run report: what a run log holds and what its weights look like at one snapshot.

One report, two readers: ``animsup inspect`` formats it (text, or ``--json`` from
:meth:`RunReport.to_dict`) and :func:`animsup.summary` returns its dict. It holds the header
facts (model, sizes, importance), the status and steps, the loss scope, the groups of
comparable instances and the best of each (:mod:`animsup.analysis.ranking`), and per instance
its 1 − S, seed, loss at the snapshot, final loss and geometry (:mod:`animsup.analysis.geometry`).

Built by streaming a log once (:func:`report_log`, memory independent of the log's length) or
from a :class:`animsup.log.reader.Run` already in memory (:func:`report_run`). numpy only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from animsup.analysis import geometry, ranking
from animsup.errors import AnimsupError

if TYPE_CHECKING:
    from animsup.log.reader import Run
    from animsup.log.schema import Header, Snapshot

OUTPUT_VERSION = 3  # 2: final_loss (was loss_smoothed), group, best_in_group, groups; 3: curves
FINAL_LOSS_DEFINITION = f"mean of the logged losses in the last {100 * ranking.TAIL:g}% of the steps"

JSON = dict[str, object]


@dataclass(frozen=True)
class Weights:
    """The snapshot a report describes.

    :param rows: the log's instance index of each row of ``W``, ``W_dec`` and a per-instance ``loss``
    :param W: (shape: [k, n_hidden, n_features]) encoder / tied weights
    :param W_dec: (shape: [k, n_hidden, n_features]) decoder of an untied model, else None
    :param loss: (shape: [k]) per instance, (shape: [1]) one aggregate loss, or None (no loss)
    """

    step: int
    rows: tuple[int, ...]
    W: np.ndarray
    W_dec: np.ndarray | None
    loss: np.ndarray | None


@dataclass(frozen=True)
class RunFacts:
    """The run around the snapshot. None where the source does not tell: a Run in memory keeps
    no resume records and no cut-off last line, so ``truncated``, ``planned_steps``,
    ``resumed_from`` and ``loss_every`` are None in a report built by :func:`report_run`.

    :param steps: the last step of the run (snapshots, losses or its end record)
    :param planned_steps: the steps asked for (a resumed run: its last session's total)
    :param resumed_from: the step each ``train --resume`` session started from
    :param wall_seconds: the last session's time, from the end record
    """

    status: str
    truncated: bool | None
    steps: int | None
    planned_steps: object
    resumed_from: list[object] | None
    wall_seconds: float | None
    snapshots: int
    loss_every: int | None


@dataclass(frozen=True)
class InstanceReport:
    """One instance at the report's snapshot.

    :param feature_probability: its 1 − S: one number, or one per feature when they differ
    :param loss: its loss at the snapshot (None unless the log records a loss per instance)
    :param final_loss: :func:`animsup.analysis.ranking.final_loss` ("inf"/"nan" when not finite)
    :param decoder_norms: (shape: [n_features]) decoder column norms of an untied model, else None
    """

    index: int
    group: str
    best_in_group: bool
    feature_probability: float | list[float]
    probability_text: str
    seed: int | None
    loss: float | None
    label: str
    final_loss: float | str | None
    geometry: geometry.Geometry
    decoder_norms: list[float] | None = None

    def to_dict(self) -> JSON:
        out: JSON = {
            "index": self.index,
            "group": self.group,
            "best_in_group": self.best_in_group,
            "feature_probability": self.feature_probability,
            "probability_text": self.probability_text,
            "seed": self.seed,
            "label": self.label,
            "loss": self.loss,
            "final_loss": self.final_loss,
            "geometry": self.geometry.to_dict(),
        }
        if self.decoder_norms is not None:
            out["decoder_norms"] = self.decoder_norms
        return out


@dataclass(frozen=True)
class RunReport:
    """The report (see the module docstring); :meth:`to_dict` is ``animsup inspect --json``.

    :param importance: the reported instances' importance: one list when they share it, else
        one list per instance
    :param final_loss: (shape: [n_instances]) every instance's final loss, None without a loss
        per instance (NaN for instances a Run does not hold)
    """

    log: str | None
    model: str
    model_label: str | None
    n_features: int
    n_hidden: int
    n_instances: int
    importance: list[float] | list[list[float]]
    importance_text: str
    importance_source: object
    loss_scope: str
    aggregate_loss: float | None
    config: dict
    facts: RunFacts
    at_step: int
    threshold: float
    groups: list[ranking.InstanceGroup]
    final_loss: np.ndarray | None
    instances: list[InstanceReport]
    curves: dict[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> JSON:
        """JSON-ready, keys in ``animsup inspect --json``'s order (output version 3)."""
        f = self.facts
        return {
            "version": OUTPUT_VERSION,
            "log": self.log,
            "model": self.model,
            "n_features": self.n_features,
            "n_hidden": self.n_hidden,
            "n_instances": self.n_instances,
            "importance": self.importance,
            "importance_text": self.importance_text,
            "loss_scope": self.loss_scope,
            "aggregate_loss": self.aggregate_loss,
            "importance_source": self.importance_source,
            "config": self.config,
            "status": f.status,
            "truncated": f.truncated,
            "steps": f.steps,
            "planned_steps": f.planned_steps,
            "resumed_from": f.resumed_from,
            "wall_seconds": f.wall_seconds,  # of the last session only
            "snapshots": f.snapshots,
            "loss_every": f.loss_every,
            "at_step": self.at_step,
            "threshold": self.threshold,
            "final_loss_definition": FINAL_LOSS_DEFINITION,
            "groups": ranking.group_report(self.groups, self.final_loss),
            "instances": [row.to_dict() for row in self.instances],
            "curves": self.curves,
        }


# --------------------------------------------------------------------------- from a log


def report_log(path: str | os.PathLike, *, at: int | None = None, instances: Sequence[int | str] | None = None,
               threshold: float = geometry.THRESHOLD) -> RunReport:
    """Stream a log once and report its last snapshot (at or before step ``at``).

    :param instances: indices or ``--instance`` specs ("best", "best:g1", "best:p=0.05"; see
        :func:`animsup.analysis.ranking.resolve`); None for all. Final losses and groups always
        cover every instance.
    :raises AnimsupError: no snapshot (at or before ``at``), or a bad instance spec
    """
    scan = _LogScan(at)
    header, facts = scan.read(path)
    if scan.chosen is None:
        if scan.n_snapshots and at is not None:
            raise AnimsupError(f"{path}: no snapshot at or before step {at}")
        raise AnimsupError(f"{path}: the log has no snapshots yet")
    final = scan.final_loss() if header.loss_scope == "instance" else None
    groups = ranking.groups(header)
    if instances is None:
        sel = list(range(header.n_instances))
    else:
        try:
            sel = ranking.select(instances, groups, final, header.n_instances)
        except AnimsupError as e:
            raise AnimsupError(f"{path}: {e}") from None
    c = scan.chosen
    weights = Weights(c.step, tuple(range(header.n_instances)), c.W, c.W_dec, c.loss)
    report = _build(str(path), header, weights, final, facts, groups, sel, threshold)
    return replace(report, curves=curve_summary(scan.curves, at, sel, header.n_instances))


class _LogScan:
    """One pass over a log: the snapshot to report (the last at or before ``at``), the final
    loss trackers, and the counts a report states."""

    def __init__(self, at: int | None):
        self.at = at
        self.chosen: Snapshot | None = None
        self.n_snapshots = 0
        self.last_step: int | None = None
        self.loss_every: int | None = None
        self.fine, self.coarse = ranking.FinalLoss(), ranking.FinalLoss()  # loss records, snapshot losses
        self.curves: dict = {}  # the log's extra named curves: name -> (steps [C], values [C, k] or [C, 1])

    def read(self, path: str | os.PathLike) -> tuple[Header, RunFacts]:
        from animsup.log.reader import open_log

        with open_log(path) as reader:
            header = reader.header
            for kind, _, item in reader.iter_all():
                if kind == "snapshot":
                    self._snapshot(item)
                else:
                    self._losses(*item)
            end, truncated, resumes = reader.end, reader.truncated, list(getattr(reader, "resumes", []))
            self.curves = reader.curves
        last = self.last_step
        if end is not None and last is not None:
            last = max(last, int(end.get("step", last)))
        planned = header.config.get("steps")
        facts = RunFacts(
            status=end["status"] if end else "unfinished",
            truncated=truncated,
            steps=last,
            # a resumed run's total is its last resume record's (the header keeps the first session's)
            planned_steps=resumes[-1].get("steps", planned) if resumes else planned,
            resumed_from=[r.get("from_step", r.get("step")) for r in resumes],
            wall_seconds=end.get("wall_seconds") if end else None,
            snapshots=self.n_snapshots,
            loss_every=self.loss_every,
        )
        return header, facts

    def _seen(self, step: int) -> None:
        self.last_step = step if self.last_step is None else max(self.last_step, step)

    def _snapshot(self, snap: Snapshot) -> None:
        self.n_snapshots += 1
        self._seen(snap.step)
        if self.at is None or snap.step <= self.at:
            self.chosen = snap
            if snap.loss is not None:  # loss_scope "none": snapshots carry no loss
                self.coarse.add([snap.step], np.asarray(snap.loss).reshape(1, -1))

    def _losses(self, steps: np.ndarray, rows: np.ndarray) -> None:
        if not len(steps):
            return
        if self.at is None:
            self.fine.add(steps, rows)
        else:
            keep = steps <= self.at
            if keep.any():
                self.fine.add(steps[keep], rows[keep])
        self._seen(int(steps[-1]))
        if len(steps) > 1:
            self.loss_every = int(steps[1] - steps[0])

    def final_loss(self) -> np.ndarray | None:
        """The loss records' final loss, or the snapshots' when the log has no loss records."""
        return self.fine.value() if self.fine.last_step is not None else self.coarse.value()


# --------------------------------------------------------------------------- from a Run


def report_run(run: Run, *, snapshot: int = -1, until: int | None = None,
               threshold: float = geometry.THRESHOLD) -> RunReport:
    """Report the instances a Run holds at its snapshot number ``snapshot`` (an index into
    ``run.steps``). ``until``: count only the losses logged at or before this step towards the
    final loss (the step the snapshot was chosen by). Groups and the best of each are among
    the instances the Run holds."""
    h, t = run.header, snapshot
    held = tuple(int(i) for i in run.instances)
    weights = Weights(
        step=int(run.steps[t]), rows=held, W=run.W[t],
        W_dec=None if run.W_dec is None else run.W_dec[t],
        loss=None if run.loss is None else run.loss[t],
    )
    final = None
    if h.loss_scope == "instance":
        keep = slice(None) if until is None else run.loss_steps <= until
        tail = ranking.final_loss(run.loss_steps[keep], run.loss_curve[keep])
        if tail is not None:
            final = np.full(h.n_instances, np.nan)
            final[list(held)] = tail
    last = [int(run.steps[-1])] + ([int(run.loss_steps[-1])] if len(run.loss_steps) else [])
    if run.end is not None:
        last.append(int(run.end.get("step", last[0])))
    facts = RunFacts(status=run.status, truncated=None, steps=max(last), planned_steps=None, resumed_from=None,
                     wall_seconds=run.end.get("wall_seconds") if run.end else None,
                     snapshots=len(run.steps), loss_every=None)
    groups = [g for g in (_within(g, held) for g in ranking.groups(h)) if g.instances]
    report = _build(run.path, h, weights, final, facts, groups, list(held), threshold)
    # a Run's per-instance curves hold one column per instance it holds, in its order
    return replace(report, curves=curve_summary(run.curves, until, list(range(len(held))), len(held)))


def _within(g: ranking.InstanceGroup, held: tuple[int, ...]) -> ranking.InstanceGroup:
    """``g`` with only the instances in ``held``."""
    return ranking.InstanceGroup(g.id, g.label, tuple(i for i in g.instances if i in held),
                                 g.feature_probability, g.importance)


# --------------------------------------------------------------------------- both


def _build(log: str | None, h: Header, weights: Weights, final: np.ndarray | None, facts: RunFacts,
           groups: list[ranking.InstanceGroup], sel: list[int], threshold: float) -> RunReport:
    row = {i: r for r, i in enumerate(weights.rows)}  # log index -> row of the snapshot's arrays
    rows = h.importance[list(sel)]
    shared = bool((rows == rows[:1]).all())
    imp = [float(v) for v in rows[0]]
    if h.assumed("importance"):
        imp_text = "unknown (1 assumed)"
    else:
        imp_text = ranking.describe_importance(imp) if shared else "per instance"
    aggregate = None
    if h.loss_scope == "aggregate" and weights.loss is not None:
        aggregate = float(np.asarray(weights.loss).reshape(-1)[0])
    return RunReport(
        log=log, model=h.model, model_label=h.model_label,
        n_features=h.n_features, n_hidden=h.n_hidden, n_instances=h.n_instances,
        importance=imp if shared else [[float(v) for v in row] for row in rows],
        importance_text=imp_text, importance_source=h.raw.get("importance_source"),
        loss_scope=h.loss_scope, aggregate_loss=aggregate, config=h.config, facts=facts,
        at_step=weights.step, threshold=threshold, groups=groups, final_loss=final,
        instances=[_instance(h, i, weights, row[i], groups, final, threshold) for i in sel],
    )


def _instance(h: Header, i: int, weights: Weights, r: int, groups: list[ranking.InstanceGroup],
              final: np.ndarray | None, threshold: float) -> InstanceReport:
    """Instance ``i`` (the log's index; ``r``: its row in ``weights``)."""
    g = ranking.group_of(groups, i)
    per_instance = h.loss_scope == "instance" and weights.loss is not None
    return InstanceReport(
        index=i,
        group=g.name,
        best_in_group=final is not None and g.best(final) == i,
        feature_probability=_uniform_or_list(h.feature_probability[i]),
        probability_text=h.probability_text(i),
        seed=h.seed[i],
        label=h.instance_label(i),
        loss=float(weights.loss[r]) if per_instance and weights.loss is not None else None,
        final_loss=None if final is None else ranking.json_number(final[i]),
        geometry=geometry.describe(weights.W[r], threshold),
        decoder_norms=None if weights.W_dec is None
        else [round(float(v), 6) for v in geometry.feature_norms(weights.W_dec[r])],
    )


def _uniform_or_list(row: np.ndarray) -> float | list[float]:
    """One float when every feature shares the value, else the list (one per feature)."""
    return float(row[0]) if (row == row[0]).all() else [float(v) for v in row]


def curve_summary(curves: dict, at: int | None, columns: Sequence[int], width: int) -> dict[str, JSON]:
    """The recorded extra curves (``rec.snapshot(..., test_loss=...)``, log v2 ``curves``) at the
    report's step: per curve its number of points, its last step at or before ``at`` (the whole
    curve when None) and its value there — one per reported instance (``columns``: their columns
    of a per-instance curve, which has ``width`` columns) or one shared value (``scope``
    "aggregate"). Curves with no point by ``at`` report ``step`` None and no values."""
    out: dict[str, JSON] = {}
    for name, (steps, values) in curves.items():
        keep = np.asarray(steps) <= at if at is not None else np.ones(len(steps), bool)
        per_instance = values.shape[1] == width
        entry: JSON = {"points": int(len(steps)), "scope": "instance" if per_instance else "aggregate",
                       "step": None, "values": []}
        if keep.any():
            t = int(np.flatnonzero(keep)[-1])
            row = values[t]
            picked = [row[c] for c in columns] if per_instance else [row[0]]
            entry["step"] = int(steps[t])
            entry["values"] = [ranking.json_number(float(v)) for v in picked]
        out[name] = entry
    return out
