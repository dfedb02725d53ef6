"""The reader's fast path: plain snapshot and loss records converted straight into float32.

A record whose arrays are lists of floats nested exactly to their shapes is checked against the
writer's skeleton (short records) or level by level (long ones, :func:`_float32_leaves`) and
converted by :func:`_float32_packer` into one buffer. Anything else returns None, and the reader's
strict path checks everything in order and raises the exact error; the fast path only ever
accepts records the strict path accepts, with identical arrays.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import struct
from typing import Any, Callable, Iterable

import numpy as np
import orjson
from numpy.typing import NDArray

from animsup.log.schema import MAX_STEP, Header, Record, Snapshot
from animsup.log.writer import _DUMP_OPTS, _loss_record, _snapshot_record

# ``pack(buffer, offset, *numbers)``: writes the numbers into the buffer as float32
Packer = Callable[..., None]

_chain = itertools.chain.from_iterable


def _extend_rows(out: list[Any], rows: Iterable[list[Any]]) -> list[Any]:
    """``for row in rows: out += row``, the loop in C (twice as fast for many short rows)."""
    return functools.reduce(operator.iadd, rows, out)


def _float32_leaves(rec: Record, fields: Iterable[tuple[str, tuple[int, ...]]]) -> list[Any] | None:
    """The leaves of ``rec``'s arrays ``fields`` ((key, shape), ...) concatenated in row-major
    order, when each array is nested exactly to its shape and its first leaf is a float;
    else None (the strict path decides).

    Every level's lengths are checked; the leaves themselves are not: a string or a mapping
    in the wrong place only ever puts strings among the leaves, which :func:`_float32_packer`
    refuses.
    """
    out: list[Any] = []
    try:
        for key, shape in fields:
            value = rec.get(key)
            if type(value) is not list or len(value) != shape[0]:
                return None
            start = len(out)
            if len(shape) == 1:
                out += value
            else:
                for size in shape[1:-1]:
                    if set(map(len, value)) != {size}:
                        return None
                    value = list(_chain(value))
                if set(map(len, value)) != {shape[-1]}:
                    return None
                _extend_rows(out, value)
            if type(out[start]) is not float:
                return None  # an all-integer array converts differently, an all-boolean one is refused
    except TypeError:  # a scalar where a list belongs
        return None
    return out


def _shaped_snapshot_leaves(rec: Record, has_decoder: bool) -> list[Any] | None:
    """:func:`_float32_leaves` of a snapshot record whose line matched the writer's skeleton
    (so its arrays are nested exactly to their shapes, numbers only): only the first-leaf
    rule is left to check."""
    try:
        loss, W, b = rec["loss"], rec["W"], rec["b"]
        if type(loss[0]) is not float or type(W[0][0][0]) is not float or type(b[0][0]) is not float:
            return None
        out = list(loss)  # short records only (the skeleton check is for those): plain loops
        for w in W:
            for row in w:
                out += row
        for row in b:
            out += row
        if has_decoder:
            W_dec = rec["W_dec"]  # the skeleton only knows it as "W_dc"
            if type(W_dec[0][0][0]) is not float:
                return None
            for w in W_dec:
                for row in w:
                    out += row
    except (TypeError, KeyError):
        return None
    return out


def _shaped_loss_leaves(rows: list[list[Any]]) -> list[Any] | None:
    """The same for a loss record's ``loss`` (rows of numbers) whose line matched its skeleton."""
    if type(rows[0][0]) is not float:
        return None
    out: list[Any] = []
    for row in rows:
        out += row
    return out


# Characters of JSON numbers. A line with them removed is its skeleton: keys, brackets and commas.
_NUMBER_CHARS = b"0123456789+-.eE"
# Records with at most this many numbers are checked against their skeleton (removing the
# number characters costs ~1 ns a byte); longer ones level by level in _float32_leaves.
_SKELETON_MAX_NUMBERS = 512


def _skeleton(record: Record) -> bytes:
    """The skeleton of ``record`` as :class:`LogWriter` writes it.

    A line with exactly this skeleton that orjson parsed is that record with a JSON number in
    every number's place (strings, true/false/null, objects and whitespace all leave
    characters behind), so its arrays are nested exactly to their shapes.
    """
    return orjson.dumps(record, option=_DUMP_OPTS).translate(None, _NUMBER_CHARS)


@functools.lru_cache(maxsize=64)
def _float32_packer(count: int) -> Packer:
    """``pack(buffer, 0, *leaves)``: write ``count`` JSON numbers into a buffer as float32.

    The reader's fast conversion: ``struct`` converts each number like
    ``np.asarray(...).astype(np.float32)`` does when the leaves are floats (double to float32,
    round to nearest) and raises one of :data:`_PACK_ERRORS` for None, strings, lists and numbers
    too large for float32, so it accepts a subset of what :func:`_float_array` accepts, with
    identical values. Use it only when the first leaf is a float: numpy converts an
    all-integer array (and refuses an all-boolean one) differently, so those take the strict path.
    """
    return struct.Struct(f"={count}f").pack_into


_PACK_ERRORS = (struct.error, OverflowError, TypeError, ValueError)


_F32_MAX = float(np.finfo(np.float32).max)


def _aggregate_loss(rec: Record) -> NDArray[np.float32] | None:
    """The fast path's "loss" of an aggregate-scope snapshot: (shape: [1]), or None (the strict
    path then raises the exact error)."""
    v = rec.get("loss")
    if type(v) is list and len(v) == 1:
        v = v[0]
    if type(v) is float and abs(v) <= _F32_MAX:  # NaN fails the comparison
        return np.array([v], dtype=np.float32)
    return None


class SnapshotFastPath:
    """Converts the plain snapshot records of one log (its header's shapes) into arrays.

    :param selected: indices of the selected instances, or None for all
    :param migrate: the log's records are migrated when read (no skeleton check then: the
        migrated record no longer matches its line)
    """

    __slots__ = ("has_decoder", "scope", "selected", "fields", "nbytes", "dtype", "pack", "skeleton")

    def __init__(self, header: Header, selected: NDArray[np.intp] | None, migrate: bool) -> None:
        k, m, n = header.n_instances, header.n_hidden, header.n_features
        self.has_decoder = header.has_decoder
        self.scope = header.loss_scope
        self.selected = selected
        per_instance = self.scope == "instance"
        fields: list[tuple[str, tuple[int, ...]]] = [("loss", (k,))] if per_instance else []
        fields += [("W", (k, m, n)), ("b", (k, n))] + ([("W_dec", (k, m, n))] if self.has_decoder else [])
        self.fields = fields
        total = sum(math.prod(shape) for _, shape in fields)
        self.nbytes = 4 * total
        # one buffer per snapshot; its fields are the float32 arrays (cheaper than slicing a flat one)
        self.dtype = np.dtype([(key, np.float32, shape) for key, shape in fields])
        self.pack = _float32_packer(total)
        self.skeleton: bytes | None = None
        if total <= _SKELETON_MAX_NUMBERS and not migrate and per_instance:
            zeros = [np.zeros(shape) for _, shape in fields]
            self.skeleton = _skeleton(_snapshot_record(0, zeros[0], zeros[1], zeros[2], zeros[3] if self.has_decoder else None))

    def snapshot(self, rec: Record, raw: bytes, line: int) -> Snapshot | None:
        """The snapshot of record ``rec`` (read from line ``raw``; b"" when unknown), or None
        when the strict path must decide."""
        step = rec.get("step")
        if type(step) is not int or not 0 <= step <= MAX_STEP:
            return None
        if self.skeleton is not None and raw.translate(None, _NUMBER_CHARS) == self.skeleton:
            leaves = _shaped_snapshot_leaves(rec, self.has_decoder)
        else:
            leaves = _float32_leaves(rec, self.fields)
        if leaves is None:
            return None
        mem = bytearray(self.nbytes)
        try:
            self.pack(mem, 0, *leaves)
        except _PACK_ERRORS:
            return None
        buf = np.ndarray((), self.dtype, mem)
        loss = buf["loss"] if self.scope == "instance" else _aggregate_loss(rec) if self.scope == "aggregate" else None
        if loss is None and self.scope != "none":
            return None
        W, b = buf["W"], buf["b"]
        W_dec = buf["W_dec"] if self.has_decoder else None
        sel = self.selected
        if sel is not None:
            W, b = W[sel], b[sel]
            W_dec = None if W_dec is None else W_dec[sel]
            loss = loss[sel] if self.scope == "instance" and loss is not None else loss
        return Snapshot(step, loss, W, b, W_dec, line)


class LossFastPath:
    """Converts the plain loss records of one log into rows (of all instances).

    :param keep: the rows are kept (each record gets its own buffer); else they are only
        checked, converted into one reused buffer
    """

    __slots__ = ("width", "migrate", "keep", "_layouts", "_scratch")

    def __init__(self, header: Header, migrate: bool, keep: bool) -> None:
        self.width = header.n_instances if header.loss_scope == "instance" else 1  # values per row
        self.migrate = migrate
        self.keep = keep
        self._layouts: dict[int, tuple[bytes | None, Packer]] = {}  # rows -> (skeleton or None, packer)
        self._scratch = bytearray()

    def convert(self, rec: Record, raw: bytes) -> bytearray | None:
        """The losses of record ``rec`` (read from line ``raw``; b"" when unknown) as float32 in a
        buffer (see :meth:`rows`), whose ``step`` and ``every`` are then valid integers; or None
        when the strict path must decide. Without ``keep``, the buffer is reused by the next call."""
        step, every, values = rec.get("step"), rec.get("every", 1), rec.get("loss")
        if type(step) is not int or type(every) is not int or type(values) is not list or not values:
            return None
        rows = len(values)
        if step < 0 or every < 1 or step + every * (rows - 1) > MAX_STEP:
            return None
        skeleton, pack = self._layouts.get(rows) or self._layout(rows)
        if skeleton is not None and raw.translate(None, _NUMBER_CHARS) == skeleton:
            leaves = _shaped_loss_leaves(values)
        else:
            leaves = _float32_leaves(rec, (("loss", (rows, self.width)),))
        if leaves is None:
            return None
        nbytes = 4 * rows * self.width
        if self.keep:
            mem = bytearray(nbytes)
        else:
            if len(self._scratch) < nbytes:
                self._scratch = bytearray(nbytes)
            mem = self._scratch
        try:
            pack(mem, 0, *leaves)
        except _PACK_ERRORS:
            return None
        return mem

    def rows(self, mem: bytearray, rows: int) -> NDArray[np.float32]:
        """(shape: [rows, width]) the losses :meth:`convert` wrote into ``mem``."""
        return np.ndarray((rows, self.width), np.float32, mem)

    def _layout(self, rows: int) -> tuple[bytes | None, Packer]:
        """(the skeleton of a writer's loss record of ``rows`` rows or None, its packer)."""
        layout = self._layouts.get(rows)
        if layout is None:
            skeleton = None
            if rows * self.width <= _SKELETON_MAX_NUMBERS and not self.migrate:
                skeleton = _skeleton(_loss_record(0, 1, np.zeros((rows, self.width))))
            layout = (skeleton, _float32_packer(rows * self.width))
            if len(self._layouts) < 64:
                self._layouts[rows] = layout
        return layout
