"""A run's events: the one list every output tells (``animsup events``, the video's captions and
key, the poster's key, the viewer), as :mod:`animsup.analysis.ranking` is the one "best". numpy only.

    for e in run_events("run.jsonl", instance=3): print(e.step, e.text)

The list is computed on **every** snapshot of the instance (never on a subsample: the viewer
keeps fewer snapshots, its events are still these) and on its fine loss curve (the loss
records, else the snapshots' losses):

- joins, drops, shape changes and loss drops: :func:`animsup.analysis.events.find_events`;
- with ``levels`` (default: on for n_hidden ≥ 3, where no polygon is named) the moves of a
  feature's dimensionality D_i between the paper's levels (:mod:`animsup.analysis.dynamics`),
  each lined up with the loss drop it coincides with. A feature that is not represented (its
  norm at most ``threshold``, with the joins' hysteresis) is at level 0, "not learned" — its
  computed D_i is the ratio of two near-zero numbers and says nothing — so a feature learned
  during a loss drop moves 0 → 1/2, and one pushed out falls back to 0;
- loss drops come from the loss the instance was trained on: its own column, or an aggregate
  loss only when the log has one instance (a drop in the sum over instances is no one
  instance's event);
- when the log has a measurements sidecar with an LLC (``animsup measure --llc``,
  :mod:`animsup.log.measurements`) that measured the instance, the jumps of its LLC
  (:func:`animsup.analysis.landscape.llc_jumps_of`: settled, positive, lasting changes), each lined up with the loss drop inside it
  (:func:`animsup.analysis.landscape.align_jumps_with_loss_drops`). An event at the same step as
  another comes after it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from animsup.analysis import dynamics, geometry
from animsup.analysis.dynamics import LevelEvent
from animsup.analysis.events import Event, find_events, represented_with_hysteresis
from animsup.analysis.landscape import LLCJump, align_jumps_with_loss_drops, first_represented_step, llc_jumps_of
from animsup.errors import AnimsupError
from animsup.log.measurements import Measurements, read_for_log

RunEvent = Event | LevelEvent | LLCJump


class _Beside:
    """The default of ``measurements``: the sidecar beside the log (see :func:`run_events`)."""

    def __repr__(self) -> str:
        return "BESIDE"


#: ``run_events(..., measurements=BESIDE)``: read the measurements sidecar beside the log, if any
BESIDE: Any = _Beside()


def run_events(source: Any, instance: int, *, threshold: float = geometry.THRESHOLD,
               levels: bool | None = None, measurements: Measurements | None = BESIDE) -> list[RunEvent]:
    """The events of one instance, sorted by step (see the module docstring).

    :param source: a log path, or a :class:`animsup.log.reader.Run` holding ``instance``
    :param instance: the instance's index in the log
    :param threshold: the norm above which a feature is represented
    :param levels: also D_i level moves (None: when n_hidden ≥ 3)
    :param measurements: where LLC jumps come from: :data:`BESIDE` (the default) reads the sidecar
        beside ``source`` (the path, or the Run's ``path``); a :class:`Measurements` (a caller
        listing many instances reads the sidecar once); None: no LLC jumps
    :raises AnimsupError: an instance the log (or the Run) does not hold
    A sidecar that is not this run's (corrupt, older, another run, steps the log lacks) is skipped
    (:func:`animsup.log.measurements.read_for_log`; callers that show its note read it themselves)
    """
    run = _run_of(source, instance)
    k = run.instances.index(instance)
    h = run.header
    own = h.loss_scope == "instance" or (h.loss_scope == "aggregate" and h.n_instances == 1)
    loss_steps = run.loss_steps if own else run.loss_steps[:0]
    loss = run.loss_curve_of(k) if own and len(run.loss_curve) else np.zeros(0, dtype=np.float32)
    W = run.W[:, k]
    found: list[RunEvent] = list(find_events(run.steps, W, loss_steps, loss, threshold=threshold))
    if levels if levels is not None else h.n_hidden >= 3:
        found = sorted([*found, *level_events(run.steps, W, found, threshold)], key=lambda e: e.step)
    measured = _measurements_of(source, run) if measurements is BESIDE else measurements
    if measured is not None:
        start = first_represented_step(run.steps, W, threshold)  # before it SGLD sits near no minimum
        found = sorted([*found, *llc_events(measured, int(instance), found, start_step=start)], key=lambda e: e.step)
    return found


def llc_events(measured: Measurements, instance: int, events: list[RunEvent], *,
               start_step: int | None = None) -> list[LLCJump]:
    """The jumps of log instance ``instance``'s measured LLC (:func:`animsup.analysis.landscape.llc_jumps_of`:
    settled, positive estimates whose change lasts, from ``start_step`` on — the first step at which
    the instance represents a feature), each lined up with the loss drop among ``events`` inside it;
    [] when the sidecar has no LLC or did not measure the instance."""
    llc, j = measured.llc, measured.column(int(instance))
    if llc is None or j is None:
        return []
    found = llc_jumps_of(measured.steps, llc, j, start_step=start_step)
    return align_jumps_with_loss_drops(found, [e for e in events if e.kind == "loss_drop"])


def _measurements_of(source: Any, run: Any) -> Measurements | None:
    """The sidecar beside the log path ``source`` (as ``animsup measure`` was given it), or beside
    the Run's file, when it is this run's; None without one."""
    path = source if isinstance(source, (str, os.PathLike)) else getattr(run, "path", "")
    return read_for_log(path, run.steps)[0] if os.fspath(path) else None


def level_events(steps, W, events: list[RunEvent], threshold: float = geometry.THRESHOLD) -> list[LevelEvent]:
    """D_i level moves (:func:`animsup.analysis.dynamics.level_events`, whose levels include 0),
    with an unrepresented feature at 0 (its computed D_i means nothing), lined up with the loss
    drops among ``events``.

    :param steps: (shape: [T]); :param W: (shape: [T, n_hidden, n_features])
    """
    steps = np.asarray(steps, dtype=np.int64)
    W = np.asarray(W, dtype=np.float64)
    if not len(steps):
        return []
    represented = represented_with_hysteresis(geometry.feature_norms(W), threshold)
    D = np.where(represented, geometry.dimensionality(W), 0.0)  # not represented: level 0, "not learned"
    found = dynamics.level_events(steps, D)
    return dynamics.align_with_loss_drops(found, [e for e in events if e.kind == "loss_drop"], steps)


def as_tuples(events: list[RunEvent]) -> list[tuple[int, str, str]]:
    """(step, kind, text) of each event: what the render plan and the viewer carry."""
    return [(int(e.step), e.kind, e.text) for e in events]


def _run_of(source: Any, instance: int):
    """A Run holding ``instance``: ``source`` itself, or that instance read from the log path."""
    from animsup.log.reader import read_header, read_log

    if isinstance(source, (str, os.PathLike)):
        n = read_header(source).n_instances
        if not 0 <= int(instance) < n:
            raise AnimsupError(f"{os.fspath(source)}: instance {instance} does not exist (the log has instances 0..{n - 1})")
        return read_log(source, [int(instance)])
    if int(instance) not in getattr(source, "instances", ()):
        raise AnimsupError(f"instance {instance} is not in this run (it holds {list(source.instances)})")
    return source
