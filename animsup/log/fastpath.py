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
import operator
import struct
from typing import Callable

import numpy as np
import orjson

from animsup.log.writer import _DUMP_OPTS

_chain = itertools.chain.from_iterable


def _extend_rows(out: list, rows) -> list:
    """``for row in rows: out += row``, the loop in C (twice as fast for many short rows)."""
    return functools.reduce(operator.iadd, rows, out)


def _float32_leaves(rec: dict, fields) -> list | None:
    """The leaves of ``rec``'s arrays ``fields`` ((key, shape), ...) concatenated in row-major
    order, when each array is nested exactly to its shape and its first leaf is a float;
    else None (the strict path decides).

    Every level's lengths are checked; the leaves themselves are not: a string or a mapping
    in the wrong place only ever puts strings among the leaves, which :func:`_float32_packer`
    refuses.
    """
    out = []
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


def _shaped_snapshot_leaves(rec: dict, has_decoder: bool) -> list | None:
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
            W_dec = rec.get("W_dec")  # the skeleton only knows it as "W_dc"
            if type(W_dec[0][0][0]) is not float:
                return None
            for w in W_dec:
                for row in w:
                    out += row
    except (TypeError, KeyError):
        return None
    return out


def _shaped_loss_leaves(rows: list) -> list | None:
    """The same for a loss record's ``loss`` (rows of numbers) whose line matched its skeleton."""
    if type(rows[0][0]) is not float:
        return None
    out = []
    for row in rows:
        out += row
    return out


# Characters of JSON numbers. A line with them removed is its skeleton: keys, brackets and commas.
_NUMBER_CHARS = b"0123456789+-.eE"
# Records with at most this many numbers are checked against their skeleton (removing the
# number characters costs ~1 ns a byte); longer ones level by level in _float32_leaves.
_SKELETON_MAX_NUMBERS = 512


def _skeleton(record: dict) -> bytes:
    """The skeleton of ``record`` as :class:`LogWriter` writes it.

    A line with exactly this skeleton that orjson parsed is that record with a JSON number in
    every number's place (strings, true/false/null, objects and whitespace all leave
    characters behind), so its arrays are nested exactly to their shapes.
    """
    return orjson.dumps(record, option=_DUMP_OPTS).translate(None, _NUMBER_CHARS)


@functools.lru_cache(maxsize=64)
def _float32_packer(count: int) -> Callable:
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


def _aggregate_loss(rec: dict) -> np.ndarray | None:
    """The fast path's "loss" of an aggregate-scope snapshot: (shape: [1]), or None (the strict
    path then raises the exact error)."""
    v = rec.get("loss")
    if type(v) is list and len(v) == 1:
        v = v[0]
    if type(v) is float and abs(v) <= _F32_MAX:  # NaN fails the comparison
        return np.array([v], dtype=np.float32)
    return None
