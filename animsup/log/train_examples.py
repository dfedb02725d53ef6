"""The training examples of a finite-data run, stored in its log (sparse), so that a render draws
their hidden vectors h = W x without torch and without regenerating them.

A finite-data log (:mod:`animsup.train.finite`) whose header's ``train_set`` holds ``"stored"``::

    "stored": {"version": 1, "record": "train_examples", "max_examples": 5000,
               "max_nonzeros": 200000, "counts": [c_0, ..., c_{K-1}]}

has, right after the header and before any other record, the first ``c_i`` training examples of
each instance ``i`` as records (docs/log-format.md)::

    {"type": "train_examples", "instance": i, "example": [j...], "feature": [f...], "value": [v...]}

the non-zero entries x[f, j] = v of the instance's training set (shape: [n_features, T]) in
example-then-feature order, split over records of at most :data:`NONZEROS_PER_RECORD` entries
(each line stays under the schema's ``LINE_SLACK``, the cap every reader, older ones included,
puts on a record type it does not know, and which older readers ignore). ``c_i`` is T capped at
:data:`MAX_EXAMPLES` examples and at :data:`MAX_NONZEROS` non-zeros (the first examples that fit);
an example without non-zeros (all features off) is counted but has no entry. Values are float32,
written in their shortest float32 form, so reading them back gives the trainer's set bit for bit.
The log format version does not change: the field and the record are additive (schema.py).
numpy + orjson only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from animsup.errors import LogFormatError
from animsup.log.schema import Header, Record

RECORD = "train_examples"
STORE_VERSION = 1
#: examples stored per instance at most (the first ones)
MAX_EXAMPLES = 5000
#: non-zero entries stored per instance at most (~30 bytes each in the log)
MAX_NONZEROS = 200_000
#: non-zero entries per record: ~32 characters each, so a line stays under LINE_SLACK (1 MiB)
NONZEROS_PER_RECORD = 16_384


def stored_count(x: np.ndarray, max_examples: int | None = None, max_nonzeros: int | None = None) -> int:
    """How many of the examples (columns of ``x``, shape: [n_features, T]) are stored: the most
    leading ones within both caps (default :data:`MAX_EXAMPLES`, :data:`MAX_NONZEROS`)."""
    max_examples = MAX_EXAMPLES if max_examples is None else max_examples
    max_nonzeros = MAX_NONZEROS if max_nonzeros is None else max_nonzeros
    nnz = np.cumsum(np.count_nonzero(x[:, :max_examples], axis=0))
    return int(np.searchsorted(nnz, max_nonzeros, side="right"))


def records_of(instance: int, x: np.ndarray, count: int) -> list[Record]:
    """The ``train_examples`` records of the first ``count`` examples of ``x`` (shape: [n_features, T])."""
    j, f = np.nonzero(x[:, :count].T)  # row-major over [example, feature]: example-then-feature order
    v = np.asarray(x[f, j], dtype=np.float32)
    out: list[Record] = []
    for a in range(0, len(f), NONZEROS_PER_RECORD):
        sl = slice(a, a + NONZEROS_PER_RECORD)
        out.append({"type": RECORD, "instance": int(instance), "example": j[sl].astype(np.int64),
                    "feature": f[sl].astype(np.int64), "value": v[sl]})
    return out


def stored_field(counts: list[int]) -> dict[str, Any]:
    """The header's ``train_set["stored"]`` for the per-instance stored counts."""
    return {"version": STORE_VERSION, "record": RECORD, "max_examples": MAX_EXAMPLES, "max_nonzeros": MAX_NONZEROS,
            "counts": [int(c) for c in counts]}


@dataclass
class TrainExamples:
    """The stored training examples of one instance (sparse).

    :param instance: the log instance
    :param size: T, the instance's training-set size
    :param count: examples stored (<= T: the first ``count``)
    :param example, feature: (shape: [nnz]) int64 indices; value: (shape: [nnz]) float32
    """

    instance: int
    size: int
    count: int
    example: np.ndarray
    feature: np.ndarray
    value: np.ndarray

    def dense(self, n_features: int) -> np.ndarray:
        """(shape: [n_features, count]) float32, the stored examples as columns."""
        x = np.zeros((n_features, self.count), np.float32)
        x[self.feature, self.example] = self.value
        return x

    def hidden(self, W: np.ndarray, count: int | None = None) -> np.ndarray:
        """(shape: [n_hidden, count]) the hidden vectors h = W x of the first ``count`` examples
        (all stored by default); W: (shape: [n_hidden, n_features])."""
        c = self.count if count is None else min(count, self.count)
        keep = self.example < c
        contrib = np.asarray(W, np.float64)[:, self.feature[keep]] * self.value[keep].astype(np.float64)
        return np.stack([np.bincount(self.example[keep], weights=row, minlength=c) for row in contrib])


def stored_info(header: Header) -> dict[str, Any] | None:
    """The header's ``train_set["stored"]`` when the log stores its training examples, else None."""
    ts = header.raw.get("train_set")
    st = ts.get("stored") if isinstance(ts, dict) else None
    return st if isinstance(st, dict) and st.get("record") == RECORD else None


def read_train_examples(path: str | os.PathLike[str], instances: list[int] | tuple[int, ...]
                        ) -> dict[int, TrainExamples] | None:
    """The stored training examples of ``instances`` (log instance -> :class:`TrainExamples`), read
    from the records that follow the header (the reading stops at the first other record); None
    when the log stores none (not a finite-data run, or one written before they were stored).

    :raises LogFormatError: a record of the wrong shape, an index out of range, a count that does not match
    """
    from animsup.log.reader import LogReader

    with LogReader(path) as r:
        h = r.header
        info = stored_info(h)
        if info is None:
            return None
        sizes, counts = h.raw["train_set"].get("sizes"), info.get("counts")
        if not (isinstance(sizes, list) and isinstance(counts, list) and len(sizes) == len(counts) == h.n_instances):
            raise LogFormatError(r.path, 1, "train_set 'sizes' and 'stored.counts' must list one number per instance")
        want = set(int(i) for i in instances)
        parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {i: [] for i in want}
        for line, rec in r.records():
            if rec.get("type") != RECORD:
                break
            i = rec.get("instance")
            arrays = _arrays(rec, h.n_features, counts, r.path, line)
            if i in want:
                parts[i].append(arrays)
    out = {}
    for i in sorted(want):
        ex, fe, va = (np.concatenate([p[a] for p in parts[i]]) if parts[i] else np.zeros(0, d)
                      for a, d in ((0, np.int64), (1, np.int64), (2, np.float32)))
        out[i] = TrainExamples(i, int(sizes[i]), int(counts[i]), ex, fe, va)
    return out


def _arrays(rec: Record, n_features: int, counts: list, path: str, line: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i = rec.get("instance")
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(counts):
        raise LogFormatError(path, line, f"train_examples 'instance' must be an instance index, got {i!r:.40}")
    try:
        ex = np.asarray(rec.get("example"), dtype=np.int64)
        fe = np.asarray(rec.get("feature"), dtype=np.int64)
        va = np.asarray(rec.get("value"), dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        raise LogFormatError(path, line, "train_examples 'example', 'feature' and 'value' must be lists of numbers") from None
    if ex.ndim != 1 or ex.shape != fe.shape or ex.shape != va.shape:
        raise LogFormatError(path, line, "train_examples 'example', 'feature' and 'value' must be lists of one length")
    if len(ex) and (ex.min() < 0 or ex.max() >= int(counts[i]) or fe.min() < 0 or fe.max() >= n_features):
        raise LogFormatError(path, line, "train_examples index out of range (example < stored count, feature < n_features)")
    if not np.all(np.isfinite(va)):
        raise LogFormatError(path, line, "train_examples 'value' must be finite")
    return ex, fe, va
