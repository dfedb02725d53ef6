"""The data-point overlay of a finite-data render: the hidden vectors h = W x of the shown
instance's training examples, moving with W (Henighan et al. 2023: with few examples the model
stores the data points, their h forming a polygon; with many, the features).

The examples come from the log itself (:mod:`animsup.log.train_examples`: a finite-data log
stores the first 5,000 examples of each instance, sparse); nothing is regenerated and no torch
is needed. At most :data:`MAX_DRAWN` examples are drawn per instance (the first ones; the key
says so). A frame's dots are W x of the frame's W (interpolated frames interpolate W, so the dots
move with the arrows). Drawn in the plane (n_hidden = 2) and on the line (n_hidden = 1) only.
Artists: :mod:`animsup.rendering.draw.datapoints`; the viewer: ``payload._datapoints``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

#: training examples drawn per instance at most (the first ones), for readability
MAX_DRAWN = 1000
#: how the note saying the data points are not drawn begins (the viewer shows it)
NOT_DRAWN = "the training examples"


@dataclass
class DataPoints:
    """The training examples drawn for one instance (picklable: part of the scene).

    :param instance: the log instance
    :param size: T, the instance's training-set size; stored: examples the log stores; drawn: examples drawn
    :param example, feature: (shape: [nnz]) int64; value: (shape: [nnz]) float32: the drawn examples, sparse
    :param key: e.g. "training examples h = W x (T = 100)"
    """

    instance: int
    size: int
    stored: int
    drawn: int
    example: np.ndarray
    feature: np.ndarray
    value: np.ndarray
    key: str

    def hidden(self, W: np.ndarray) -> np.ndarray:
        """(shape: [drawn, n_hidden]) h = W x of the drawn examples; W: (shape: [n_hidden, n_features])."""
        contrib = np.asarray(W, np.float64)[:, self.feature] * self.value.astype(np.float64)
        return np.stack([np.bincount(self.example, weights=row, minlength=self.drawn) for row in contrib], 1)


def key_text(size: int, stored: int, drawn: int) -> str:
    """The key: "training examples h = W x (T = 100)", saying when fewer than T are drawn."""
    if drawn >= size:
        return f"training examples h = W x (T = {size:,})"
    more = f", {stored:,} stored in the log" if stored < size and stored != drawn else ""
    return f"training examples h = W x (T = {size:,}; the first {drawn:,} drawn{more})"


def short_key(size: int, drawn: int) -> str:
    """The key of a small (grid) panel, whose title already names T: "data h = W x (T = 100)", or
    "data h = W x (first 1,000)" when fewer than T are drawn (the long key overran the panel)."""
    return f"data h = W x ({f'T = {size:,}' if drawn >= size else f'first {drawn:,}'})"


def prepare(log: str, header: Any, instances: tuple[int, ...], max_drawn: int | None = None
            ) -> tuple[dict[int, DataPoints], float, list[str]]:
    """The data points of the shown instances (log instance -> :class:`DataPoints`; empty when the
    log is not a finite-data run or stores no examples), the largest |h| over the log's snapshots
    (0.0 without points; the render widens the plane to it) and the notes to print.

    :raises LogFormatError: a stored set of the wrong form
    """
    from animsup.log.train_examples import read_train_examples, stored_info

    if not isinstance(header.raw.get("train_set"), dict):
        return {}, 0.0, []
    if stored_info(header) is None:
        return {}, 0.0, [f"{NOT_DRAWN} are not drawn: this finite-data log does not store them (written by an "
                         "older animsup; train it again to draw their hidden vectors h = W x)"]
    if header.n_hidden > 2:
        return {}, 0.0, [f"{NOT_DRAWN}' hidden vectors h = W x are drawn only for n_hidden <= 2 "
                         f"(this log has n_hidden = {header.n_hidden})"]
    sets = read_train_examples(log, instances) or {}
    max_drawn = MAX_DRAWN if max_drawn is None else max_drawn
    out = {}
    for i, te in sets.items():
        drawn = min(te.count, max_drawn)
        keep = te.example < drawn
        out[i] = DataPoints(i, te.size, te.count, drawn, te.example[keep], te.feature[keep], te.value[keep],
                            key_text(te.size, te.count, drawn))
    return out, _largest_hidden(log, instances, out), []


def _largest_hidden(log: str | os.PathLike[str], instances: tuple[int, ...], points: dict[int, DataPoints]) -> float:
    """The largest ‖h‖ of the drawn examples over every snapshot of the log (one streaming pass)."""
    from animsup.log.reader import open_log

    if not points:
        return 0.0
    top = 0.0
    with open_log(log, list(instances)) as r:
        for snap in r.snapshots():
            for k, i in enumerate(instances):
                if i in points and points[i].drawn:
                    top = max(top, float(np.max(np.linalg.norm(points[i].hidden(snap.W[k]), axis=1))))
    return top
