"""The animsup run log: one JSON object per line (JSONL), versioned.

This module is the only place that knows the schema (documented in
docs/log-format.md). numpy + orjson only; it never imports torch.

Records, in file order::

    {"type": "header", "schema": "animsup.log", "version": 1, ...}      # line 1
    {"type": "loss", "step": s0, "every": k, "loss": [[inst...], ...]}  # fine loss curve
    {"type": "snapshot", "step": s, "loss": [inst], "W": [inst][hidden][feature],
     "b": [inst][feature], ("W_dec": [inst][hidden][feature] for untied models)}
    {"type": "resume", "step": s, ...}                                   # after `train --resume`
    {"type": "end", "status": "completed"|"interrupted"|"diverged", "step": s,
     "wall_seconds": t}

Snapshot step ``s`` holds the parameters after ``s`` optimiser updates and the loss
of those parameters on that step's batch. Loss records carry the loss at steps
``s0, s0+k, s0+2k, ...`` (one row per recorded step, one value per instance).

Readers ignore unknown keys and unknown record types, so new fields are additive.
A breaking change bumps ``VERSION`` and adds one function to ``_MIGRATIONS`` that
upgrades a record of the previous version.
"""

from __future__ import annotations

import errno
import functools
import gzip
import itertools
import math
import operator
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import orjson

try:
    import fcntl
except ImportError:  # not on Windows: no lock, exclusive create still refuses a second writer
    fcntl = None

from animsup import models
from animsup.errors import AnimsupError, LogFormatError, LogWarning

SCHEMA = "animsup.log"
VERSION = 2
END_STATUSES = ("completed", "interrupted", "diverged", "failed")
MODELS = models.names()
LOSS_SCOPES = ("instance", "aggregate", "none")
DATA_KINDS = ("uniform", "presence_value", "binary", "exactly_k")

_DUMP_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE

# Reader guards (module constants so tests can shrink them). A line longer than this is
# refused rather than read into memory; a header that claims more weights per snapshot
# than MAX_WEIGHTS is refused before anything is allocated for it.
MAX_HEADER_BYTES = 64 << 20
MAX_LINE_BYTES = 1 << 30
MAX_WEIGHTS = 1 << 31
# Read buffer of a plain log file: lines of wide snapshots are longer than the default 8 KiB,
# and fewer, larger reads measured 10 % faster streaming (syscalls and copies).
_READ_BUFFER = 1 << 20


def _migrate_v1(rec: dict) -> dict:
    """Version 1 -> 2. Only the header changes: ``importance`` [n_features] is broadcast to
    every instance ([n_instances][n_features]), ``feature_probability`` [n_instances] to every
    feature ([n_instances][n_features]), and ``loss_scope`` "instance" and ``data`` {"kind":
    "uniform"} (what every v1 writer did) are made explicit. Values of the wrong v1 shape are
    left as they are, so the header check names them."""
    if rec.get("type") != "header":
        return rec
    rec = dict(rec)
    rec["version"] = 2
    k, n, m = rec.get("n_instances"), rec.get("n_features"), rec.get("n_hidden")
    # broadcast only for sizes parse_header accepts (a header claiming 1e9 features must not
    # make the migration build billions of list entries before it is refused)
    sizes_ok = all(isinstance(v, int) and not isinstance(v, bool) and 0 < v for v in (k, n, m)) and 3 * k * m * n <= MAX_WEIGHTS
    imp, fp = rec.get("importance"), rec.get("feature_probability")
    if sizes_ok and isinstance(imp, list) and len(imp) == n and not any(isinstance(v, list) for v in imp):
        rec["importance"] = [list(imp) for _ in range(k)]
    if sizes_ok and isinstance(fp, list) and len(fp) == k and not any(isinstance(v, list) for v in fp):
        rec["feature_probability"] = [[p] * n for p in fp]
    rec.setdefault("loss_scope", "instance")
    rec.setdefault("data", {"kind": "uniform"})
    return rec


# version -> function upgrading one record (any type) of that version to version+1.
# Reading applies them in order.
_MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _migrate_v1}
# versions whose migration touches only the header (the reader's fast path skips the others)
_HEADER_ONLY_MIGRATIONS = {1}


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    """What a log's first line says about the run (schema version 2; v1 headers are migrated).

    :param feature_probability: (shape: [n_instances, n_features]) 1 - S of each feature in each instance
    :param seed: (shape: [n_instances]) the seed of each instance (None when unknown)
    :param importance: (shape: [n_instances, n_features]) loss weight I_i of each feature in each instance
    :param model: one of :data:`MODELS`; ``model_label`` / ``model_formula`` describe variants
    :param data: the input distribution, e.g. {"kind": "uniform"} (docs/log-format.md)
    :param stages: sparsity stages [{"start_step", "feature_probability", "note"}] or None (one stage)
    :param loss_scope: "instance" (loss [n_instances]), "aggregate" (one number for all) or "none"
    :param curves: names of the extra named curves the log may hold
    :param provenance: {"source", "given", "inferred"} for imported runs, else None
    """

    n_features: int
    n_hidden: int
    n_instances: int
    model: str
    feature_probability: np.ndarray
    seed: tuple
    importance: np.ndarray
    config: dict
    raw: dict = field(repr=False)
    loss_scope: str = "instance"
    data: dict = field(default_factory=lambda: {"kind": "uniform"})
    stages: list | None = None
    curves: tuple = ()
    model_label: str | None = None
    model_formula: str | None = None
    provenance: dict | None = None

    @property
    def has_decoder(self) -> bool:
        return models.get(self.model).has_decoder

    @property
    def has_loss(self) -> bool:
        return self.loss_scope != "none"

    @property
    def instance_probability(self) -> np.ndarray:
        """(shape: [n_instances]) the single 1 - S of each instance whose features all share one
        probability, NaN for an instance whose probability varies across features."""
        fp = self.feature_probability
        return np.where((fp == fp[:, :1]).all(axis=1), fp[:, 0], np.nan).astype(np.float64)

    def assumed(self, name: str) -> bool:
        """True when the header's provenance says ``name`` (e.g. "importance") was not known
        but assumed (imported runs, Recorder runs without it): titles then say "unknown"."""
        prov = self.provenance or {}
        if name in (prov.get("assumed") or {}):
            return True
        note = (prov.get("inferred") or {}).get(name)
        return isinstance(note, str) and note.startswith("not in the file")

    def probability_text(self, i: int) -> str:
        """"1-S=0.1" for instance ``i``, "1-S=0.01..0.1" when it varies across features,
        "1-S unknown" when it was assumed (see :meth:`assumed`)."""
        if self.assumed("feature_probability"):
            return "1-S unknown"
        row = self.feature_probability[i]
        lo, hi = float(row.min()), float(row.max())
        return f"1-S={lo:.3g}" if lo == hi else f"1-S={lo:.3g}..{hi:.3g}"

    def instance_label(self, i: int) -> str:
        """A short human label for instance ``i``: its 1 - S and seed."""
        seed = "unknown" if self.seed[i] is None else self.seed[i]
        return f"{self.probability_text(i)} seed={seed}"


def _per_instance_features(value, k: int, n: int, name: str, vector_is: str) -> list:
    """``value`` as a [k][n] list: a scalar is broadcast everywhere, a vector along ``vector_is``
    ("instance": one value per instance, or "feature": one value per feature), a [k][n] array as is."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full((k, n), float(a))
    elif a.ndim == 1:
        if vector_is == "instance":
            if len(a) != k:
                raise ValueError(f"{name} must have one entry per instance ({k}) or shape [{k}, {n}], got {len(a)}")
            a = np.repeat(a[:, None], n, axis=1)
        else:
            if len(a) != n:
                raise ValueError(f"{name} must have one entry per feature ({n}) or shape [{k}, {n}], got {len(a)}")
            a = np.repeat(a[None, :], k, axis=0)
    if a.shape != (k, n):
        raise ValueError(f"{name} must have shape [{k}, {n}] (n_instances, n_features), got {list(a.shape)}")
    return a.tolist()


def make_header(
    *,
    n_features: int,
    n_hidden: int,
    model: str,
    feature_probability,
    seed: Sequence,
    importance,
    config: dict,
    loss_scope: str = "instance",
    data: dict | None = None,
    model_label: str | None = None,
    model_formula: str | None = None,
    stages: list | None = None,
    curves: Sequence[str] | None = None,
    provenance: dict | None = None,
    **extra: Any,
) -> dict:
    """Build a version-2 header record (a plain dict ready for :class:`LogWriter`).

    ``n_instances`` is ``len(seed)`` (pass ``[None] * k`` when the seeds are unknown).

    :param feature_probability: a number, [n_instances] (broadcast to every feature) or
        [n_instances, n_features]
    :param importance: a number, [n_features] (broadcast to every instance) or [n_instances, n_features]
    :raises ValueError: shapes that do not fit, an unknown model or loss scope
    """
    from animsup import __version__

    k, n = len(seed), int(n_features)
    if k < 1:
        raise ValueError("seed must have one entry per instance (at least one)")
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if loss_scope not in LOSS_SCOPES:
        raise ValueError(f"loss_scope must be one of {', '.join(LOSS_SCOPES)}, got {loss_scope!r}")
    rec = {
        "type": "header",
        "schema": SCHEMA,
        "version": VERSION,
        "animsup_version": __version__,
        "n_features": n,
        "n_hidden": int(n_hidden),
        "n_instances": k,
        "model": model,
        "feature_probability": _per_instance_features(feature_probability, k, n, "feature_probability", "instance"),
        "seed": [None if s is None else int(s) for s in seed],
        "importance": _per_instance_features(importance, k, n, "importance", "feature"),
        "config": config,
        "loss_scope": loss_scope,
        "data": dict(data) if data is not None else {"kind": "uniform"},
    }
    for key, value in (("model_label", model_label), ("model_formula", model_formula), ("stages", stages),
                       ("curves", None if curves is None else [str(c) for c in curves]), ("provenance", provenance)):
        if value is not None:
            rec[key] = value
    rec.update(extra)
    return rec


def parse_header(rec: Any, path: str = "<log>", line: int = 1) -> Header:
    """Validate a header record (already migrated to the current version) and return a :class:`Header`."""

    def bad(msg: str) -> LogFormatError:
        return LogFormatError(path, line, msg)

    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise bad('the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise bad(f"unknown schema {rec.get('schema')!r} (expected {SCHEMA!r})")
    for key in ("n_features", "n_hidden", "n_instances", "model", "feature_probability", "seed", "importance"):
        if key not in rec:
            raise bad(f"header is missing {key!r}")
    for key in ("n_features", "n_hidden", "n_instances"):
        v = rec.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise bad(f"header field {key!r} must be a positive integer, got {_short(v)}")
    n, m, k = rec["n_features"], rec["n_hidden"], rec["n_instances"]
    if 3 * k * m * n > MAX_WEIGHTS:
        raise bad(f"header sizes n_instances={k} x n_hidden={m} x n_features={n} are implausibly large")
    if rec.get("model") not in MODELS:
        raise bad(f"header field 'model' must be one of {', '.join(MODELS)}, got {_short(rec.get('model'))}")
    fp = _float_array(rec.get("feature_probability"), (k, n), "feature_probability", bad)
    if not np.all((fp > 0) & (fp <= 1)):
        raise bad("header field 'feature_probability' must lie in (0, 1]")
    imp = _float_array(rec.get("importance"), (k, n), "importance", bad)
    if not np.all(imp >= 0):
        raise bad("header field 'importance' must be >= 0")
    seed = rec.get("seed")
    if not isinstance(seed, list) or len(seed) != k:
        raise bad(f"header field 'seed' must be a list of {k} entries (one per instance)")
    config = rec.get("config", {})
    if not isinstance(config, dict):
        raise bad("header field 'config' must be an object")
    scope = rec.get("loss_scope", "instance")
    if scope not in LOSS_SCOPES:
        raise bad(f"header field 'loss_scope' must be one of {', '.join(LOSS_SCOPES)}, got {_short(scope)}")
    data = rec.get("data", {"kind": "uniform"})
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise bad('header field \'data\' must be an object with a "kind" (e.g. {"kind": "uniform"})')
    if data["kind"] not in DATA_KINDS:
        raise bad(f"header field 'data' has unknown kind {_short(data['kind'])} (known: {', '.join(DATA_KINDS)})")
    stages = rec.get("stages")
    if stages is not None and (
        not isinstance(stages, list)
        or not all(isinstance(s, dict) and type(s.get("start_step")) is int and s["start_step"] >= 0 for s in stages)
    ):
        raise bad("header field 'stages' must be a list of objects with an integer 'start_step' >= 0")
    curves = rec.get("curves", [])
    if not isinstance(curves, list) or not all(isinstance(c, str) and c for c in curves):
        raise bad("header field 'curves' must be a list of names")
    for key in ("model_label", "model_formula"):
        if rec.get(key) is not None and not isinstance(rec[key], str):
            raise bad(f"header field {key!r} must be a string")
    prov = rec.get("provenance")
    if prov is not None and not isinstance(prov, dict):
        raise bad("header field 'provenance' must be an object")
    return Header(
        n_features=n,
        n_hidden=m,
        n_instances=k,
        model=rec["model"],
        feature_probability=fp,
        seed=tuple(seed),
        importance=imp,
        config=config,
        raw=rec,
        loss_scope=scope,
        data=data,
        stages=stages,
        curves=tuple(curves),
        model_label=rec.get("model_label"),
        model_formula=rec.get("model_formula"),
        provenance=prov,
    )


# Steps are int64 in arrays; orjson reads integers up to 2**64 - 1.
_MAX_STEP = (1 << 63) - 1
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


def _float_array(value, shape, name, bad) -> np.ndarray:
    """``value`` as a finite float32 array of exactly ``shape``, or raise ``bad(...)``.

    Only JSON numbers are accepted: strings, booleans and objects are errors, and
    ``null`` (how orjson writes NaN), NaN/Infinity and numbers that overflow float32
    (|x| > 3.4e38, e.g. 1e300) are errors.
    """
    if value is None:
        raise bad(f"missing {name!r}")
    if not isinstance(value, (list, int, float)) or isinstance(value, bool):
        raise bad(f"{name!r} must be a numeric array of shape {list(shape)}, got {type(value).__name__}")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "iuf":
            if raw.dtype.kind != "O" or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in raw.flat
            ):
                raise TypeError
            raw = np.array([np.nan if v is None else v for v in raw.flat], dtype=np.float64).reshape(raw.shape)
        with np.errstate(over="ignore", invalid="ignore"):  # float32 overflow: checked below
            arr = raw.astype(np.float32)
    except (ValueError, TypeError, OverflowError):
        raise bad(f"{name!r} is not a numeric array of shape {list(shape)}") from None
    if arr.shape != tuple(shape):
        raise bad(f"{name!r} has shape {list(arr.shape)}, the header says {list(shape)}")
    if not np.isfinite(arr).all():
        if np.isfinite(raw.astype(np.float64)).all():
            raise bad(f"{name!r} contains a number too large for float32 (|x| > 3.4e38)")
        raise bad(f"{name!r} contains NaN, infinity or null")
    return arr


def _short(v: Any, limit: int = 60) -> str:
    """``repr(v)`` cut to ``limit`` characters (error messages stay one short line)."""
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 3] + "..."


# --------------------------------------------------------------------------- writer


class LogWriter:
    """Append records to a run log, one flushed line each (a killed run stays readable).

    The file is created exclusively: a second writer (or an existing log without
    ``force=True``) is refused. Each record is written with a single ``write``
    call on an unbuffered file, so concurrent readers only ever see whole lines
    plus at most one partial last line.

    While open, the writer holds an exclusive ``flock`` on the file: ``force=True``
    and ``append=True`` refuse a log that another process is still writing, so two
    trainers never interleave lines. A write that fails part-way (disk full, file
    size limit, an interrupt) is cut back to the last whole line before the error
    propagates, so the log stays valid. ``append=True`` first drops an incomplete
    last line left by a killed writer.
    """

    def __init__(self, path: str | os.PathLike, header: dict, *, force: bool = False, append: bool = False):
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise AnimsupError(f"{self.path}: folder {parent} does not exist")
        if os.path.isdir(self.path):
            raise AnimsupError(f"{self.path}: is a folder, not a log file")
        try:
            if append:
                self._f = open(self.path, "a+b", buffering=0)
            else:
                if force and os.path.exists(self.path):
                    with open(self.path, "rb") as old:
                        self._refuse_if_locked(old)
                    os.unlink(self.path)
                self._f = open(self.path, "xb", buffering=0)
        except FileExistsError:
            try:
                with open(self.path, "rb") as old:
                    self._refuse_if_locked(old)
            except OSError:
                pass
            raise AnimsupError(f"{self.path} already exists (pass --force to overwrite it)") from None
        except OSError as e:
            raise AnimsupError(f"{self.path}: cannot write log: {e.strerror or e}") from None
        try:
            self._lock()
            if append:
                self._refuse_foreign_encoding()
                self._size = self._drop_partial_line()
            else:
                self._size = 0
                self.write(header)
        except BaseException:
            self._f.close()
            if not append and os.path.exists(self.path) and os.path.getsize(self.path) == 0:
                os.unlink(self.path)  # never leave a header-less log behind
            raise

    def _refuse_if_locked(self, f) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnimsupError(f"{self.path} is being written by another animsup process; refusing to touch it") from None
        except OSError:
            return  # file system without locks: nothing to check
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _lock(self) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnimsupError(f"{self.path} is being written by another animsup process; refusing to touch it") from None
        except OSError:
            pass  # file system without locks

    def _refuse_foreign_encoding(self) -> None:
        """Appending plain UTF-8 lines is only safe to a plain UTF-8 log: refuse a gzip or
        UTF-16/32 one (appending would destroy it) before anything is written."""
        head = os.pread(self._f.fileno(), 4, 0)
        if head[:2] == b"\x1f\x8b":
            raise AnimsupError(
                f"{self.path}: a gzip-compressed log; animsup appends only to plain .jsonl logs "
                f"(decompress it first, e.g. gunzip -k {self.path}, and resume the .jsonl)"
            )
        encoding = _bom_encoding(head)
        if encoding is not None:
            raise AnimsupError(f"{self.path}: a {encoding} text file; animsup appends only to UTF-8 logs (re-save it as UTF-8)")

    def _drop_partial_line(self) -> int:
        """Truncate an incomplete last line (a killed writer); return the new size."""
        fd = self._f.fileno()
        size = os.fstat(fd).st_size
        end = size
        while end > 0:
            chunk = os.pread(fd, min(end, 1 << 16), end - min(end, 1 << 16))
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                end = end - len(chunk) + nl + 1
                break
            end -= len(chunk)
        if end != size and _whole_record(os.pread(fd, size - end, end)):
            os.write(fd, b"\n")  # a whole record that only lacks its newline: keep it
            return size + 1
        if end == 0 and size:
            raise AnimsupError(f"{self.path}: has no complete line (not an animsup log); cannot append to it")
        if end != size:
            os.ftruncate(fd, end)
        return end

    def write(self, record: dict) -> None:
        """Write one record as one line, completely or not at all."""
        line = orjson.dumps(record, option=_DUMP_OPTS)
        view = memoryview(line)
        try:
            while view:
                n = self._f.write(view)
                if not n:
                    raise OSError(errno.EIO, "short write")
                view = view[n:]
        except BaseException as e:
            self._rollback()
            if isinstance(e, OSError):
                raise AnimsupError(f"{self.path}: cannot write log: {e.strerror or e}") from None
            raise
        self._size += len(line)

    def _rollback(self) -> None:
        """Cut the file back to its last whole line (after a failed or interrupted write)."""
        try:
            os.ftruncate(self._f.fileno(), self._size)
            os.lseek(self._f.fileno(), self._size, os.SEEK_SET)
        except OSError:
            pass

    def snapshot(self, step: int, loss, W, b, W_dec=None, **extra) -> None:
        """One snapshot record (no checks here: :class:`animsup.Recorder` validates).

        :param loss: (shape: [n_instances]) per-instance loss, a float (loss_scope "aggregate"),
            or None (loss_scope "none": no "loss" key is written)
        :param W: (shape: [n_instances, n_hidden, n_features]); W_dec likewise (untied models)
        :param b: (shape: [n_instances, n_features])
        """
        self.write(_snapshot_record(step, loss, W, b, W_dec, **extra))

    def losses(self, step: int, every: int, loss) -> None:
        """:param loss: (shape: [n_recorded, n_instances], or [n_recorded, 1] aggregate) losses at step, step+every, ..."""
        self.write(_loss_record(step, every, loss))

    def losses_at(self, steps, loss) -> None:
        """Losses at increasing ``steps``: one :meth:`losses` record per run of equally spaced steps.

        :param loss: (shape: [len(steps), n_instances], or [len(steps), 1] aggregate)
        """
        i = 0
        while i < len(steps):
            j = i + 1
            every = int(steps[j] - steps[i]) if j < len(steps) else 1
            while j < len(steps) and steps[j] - steps[j - 1] == every:
                j += 1
            self.losses(int(steps[i]), every, loss[i:j])
            i = j

    def curve(self, name: str, step: int, values) -> None:
        """An extra named scalar at ``step``.

        :param values: (shape: [n_instances], or [1] for one number for all instances)
        """
        self.write({"type": "curve", "name": str(name), "step": int(step), "values": _f32(np.reshape(values, -1))})

    def end(self, status: str, step: int, wall_seconds: float, **extra) -> None:
        if status not in END_STATUSES:
            raise ValueError(f"unknown end status {status!r}")
        self.write({"type": "end", "status": status, "step": int(step), "wall_seconds": float(wall_seconds), **extra})

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _snapshot_record(step: int, loss, W, b, W_dec=None, **extra) -> dict:
    """A snapshot record as the writer writes it (the reader derives its skeleton from this)."""
    rec = {"type": "snapshot", "step": int(step)}
    if loss is not None:
        rec["loss"] = float(loss) if np.ndim(loss) == 0 else _f32(loss)
    rec["W"], rec["b"] = _f32(W), _f32(b)
    if W_dec is not None:
        rec["W_dec"] = _f32(W_dec)
    rec.update(extra)
    return rec


def _loss_record(step: int, every: int, loss) -> dict:
    """A loss record as the writer writes it."""
    return {"type": "loss", "step": int(step), "every": int(every), "loss": _f32(loss)}


# --------------------------------------------------------------------------- reader

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


@dataclass
class Snapshot:
    """One snapshot, restricted to the selected instances (k of them).

    :param loss: (shape: [k]) per-instance loss; (shape: [1]) with loss_scope "aggregate";
        None with loss_scope "none"
    :param W: (shape: [k, n_hidden, n_features]) encoder / tied weights
    :param b: (shape: [k, n_features])
    :param W_dec: (shape: [k, n_hidden, n_features]) decoder of an untied model, else None
    """

    step: int
    loss: np.ndarray | None
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    line: int


@dataclass
class Run:
    """A whole log in arrays (selected instances only; k of them).

    :param steps: (shape: [T]) snapshot steps
    :param loss: (shape: [T, k]) loss at each snapshot; (shape: [T, 1]) when the header's
        loss_scope is "aggregate" (one number for all instances); None when it is "none"
    :param W: (shape: [T, k, n_hidden, n_features])
    :param b: (shape: [T, k, n_features])
    :param W_dec: (shape: [T, k, n_hidden, n_features]) or None
    :param loss_steps: (shape: [L]) steps of the fine loss curve (L = 0 without loss)
    :param loss_curve: (shape: [L, k], or [L, 1] aggregate) the fine loss curve (snapshot losses
        if the log has no loss records)
    :param end: the end record, or None if the run did not finish (still running or killed)
    :param curves: extra named curves, name -> (steps [C], values [C, k] or [C, 1])
    """

    path: str
    header: Header
    instances: tuple
    steps: np.ndarray
    loss: np.ndarray | None
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    loss_steps: np.ndarray
    loss_curve: np.ndarray
    end: dict | None
    curves: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.end["status"] if self.end else "unfinished"

    @property
    def importance(self) -> np.ndarray:
        """(shape: [k, n_features]) importance of the selected instances."""
        return self.header.importance[list(self.instances)]

    @property
    def feature_probability(self) -> np.ndarray:
        """(shape: [k, n_features]) 1 - S of each feature of the selected instances."""
        return self.header.feature_probability[list(self.instances)]

    @property
    def model(self) -> str:
        return self.header.model

    @property
    def data(self) -> dict:
        return self.header.data

    @property
    def stages(self) -> list | None:
        return self.header.stages

    @property
    def loss_scope(self) -> str:
        return self.header.loss_scope

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> str:
        """Write this run (its selected instances) as a log at ``path``; returns the path.

        :raises FileExistsError: ``path`` exists and ``overwrite`` is False
        """
        path = os.fspath(path)
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
        h, sel = self.header, list(self.instances)
        header = dict(h.raw)
        header.update(n_instances=len(sel), version=VERSION, feature_probability=h.feature_probability[sel].tolist(),
                      importance=h.importance[sel].tolist(), seed=[h.seed[i] for i in sel])
        if len(sel) != h.n_instances:
            header["subset_of"] = {"log": self.path, "instances": sel}
        with LogWriter(path, header, force=overwrite) as w:
            same = self.loss is not None and np.array_equal(self.loss_steps, self.steps) and np.array_equal(self.loss_curve, self.loss)
            if len(self.loss_steps) and not same:
                w.losses_at(self.loss_steps, self.loss_curve)
            for t, step in enumerate(self.steps):
                loss = None if self.loss is None else (self.loss[t] if self.loss_scope == "instance" else float(self.loss[t, 0]))
                w.snapshot(int(step), loss, self.W[t], self.b[t], None if self.W_dec is None else self.W_dec[t])
            for name, (steps, values) in self.curves.items():
                for s, v in zip(steps, values):
                    w.curve(name, int(s), v)
            if self.end is not None:
                w.write(self.end)
        return path

    def loss_curve_of(self, k: int) -> np.ndarray:
        """(shape: [L]) the fine loss curve that applies to selected instance ``k``: its own
        column, the aggregate curve (shared by all instances), or empty without loss."""
        return self.loss_curve[:, k if self.loss_scope == "instance" else 0] if len(self.loss_curve) else self.loss_curve[:, 0]


class LogReader:
    """Stream a run log. Use as a context manager or call :meth:`close`.

    ``instances`` selects instance indices (default: all). Streaming keeps memory
    flat in the log's length. A truncated last line (a killed writer, or a log
    still being written) is dropped with a :class:`LogWarning`; any other
    corruption raises :class:`LogFormatError` naming the file and line.
    Gzip-compressed logs (``.jsonl.gz``, recognised by their magic bytes whatever
    the name) are decompressed transparently; a corrupt one is a clear error.
    """

    def __init__(self, path: str | os.PathLike, instances: Sequence[int] | None = None):
        self.path = os.fspath(path)
        self._f = _open_maybe_gzip(self.path)
        self._gz = isinstance(self._f, gzip.GzipFile)
        self._lineno = 0
        self._limit = MAX_HEADER_BYTES
        self.end: dict | None = None
        self.resumes: list[dict] = []  # the resume records read so far (`train --resume`)
        self.truncated = False
        self._curves: dict = {}
        try:
            first = self._next_record()
            if first is None:
                if self.truncated:
                    raise LogFormatError(self.path, 1, "the header line is incomplete (no newline): not an animsup log, or cut off")
                raise LogFormatError(self.path, None, "empty file (no header line)")
            self.version = _record_version(first, self.path, self._lineno)
            self.header = parse_header(_migrate(first, self.version), self.path, self._lineno)
            self.instances = _select(instances, self.header.n_instances, self.path)
        except BaseException:  # the caller gets no reader to close: close the file here
            self._f.close()
            raise
        self._limit = MAX_LINE_BYTES
        self._sel = None if len(self.instances) == self.header.n_instances else np.asarray(self.instances)
        self._consumed = False

    # -- raw lines -------------------------------------------------------------

    def _next_record(self, raw: bytes | None = None) -> dict | None:
        """The next parsed line, or None at EOF (after a possibly truncated last line).

        ``raw``: a line already read by the caller (the fast loop in :meth:`_items` hands
        over every line that is not a plain ``{...}\\n``).
        """
        while True:
            if raw is None:
                raw = self._readline()
            if not raw:
                return None
            self._lineno += 1
            if len(raw) > self._limit:
                raise LogFormatError(
                    self.path, self._lineno, f"line is longer than {self._limit} bytes, more than any valid record"
                )
            if not raw.endswith(b"\n") and not _whole_record(raw):
                # Last line without its newline: a writer was killed mid-line or is
                # still writing. Drop it, keep everything before it. (A last line that is a
                # whole JSON object, e.g. in a hand-made file, is used.)
                if raw.strip():
                    self.truncated = True
                    if self._lineno > 1:
                        warnings.warn(
                            f"{self.path}:{self._lineno}: last line is incomplete (truncated or still "
                            "being written); ignored it",
                            LogWarning,
                            stacklevel=3,
                        )
                return None
            if self._lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte-order mark added by an editor
            if not raw.strip():
                raw = None
                continue
            try:
                rec = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                raise LogFormatError(self.path, self._lineno, _json_error(e, raw)) from None
            if not isinstance(rec, dict):
                raise LogFormatError(self.path, self._lineno, "line is not a JSON object")
            return rec

    def _readline(self) -> bytes:
        """One raw line of at most ``self._limit + 1`` bytes (b"" at EOF)."""
        try:
            return self._f.readline(self._limit + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise self._read_error(e) from None

    def _read_error(self, e: BaseException) -> LogFormatError:
        what = "corrupt gzip data" if self._gz else "cannot read"
        return LogFormatError(self.path, self._lineno + 1, f"{what}: {e}")

    def records(self) -> Iterator[tuple[int, dict]]:
        """(line number, migrated record) for every line after the header."""
        self._claim()
        while True:
            rec = self._next_record()
            if rec is None:
                return
            yield self._lineno, _migrate(rec, self.version)

    def _claim(self) -> None:
        if self._consumed:
            raise RuntimeError("a LogReader can be iterated once; open the log again")
        self._consumed = True

    # -- typed streams ---------------------------------------------------------

    def iter_all(self) -> Iterator[tuple[str, int, Any]]:
        """Validated ("snapshot", line, Snapshot) and ("loss", line, (steps [L], loss [L, k])) items
        (L >= 1: empty loss records are skipped).

        Sets ``self.end`` when the end record is read.
        """
        return self._items(True)

    def snapshots(self) -> Iterator[Snapshot]:
        """Stream the snapshots one at a time.

        Loss records are validated exactly as by :meth:`iter_all` (a broken one raises
        at its line); they are only not turned into step arrays and yielded.
        """
        return self._items(False)

    def _items(self, with_loss: bool) -> Iterator:
        """The reading loop behind :meth:`iter_all` (``with_loss``: yield kind, line, item
        for snapshots and loss records) and :meth:`snapshots` (yield Snapshots only).

        The common case is inlined: a plain ``{...}\\n`` line, and snapshot and loss records
        whose arrays are lists of floats nested exactly to their shapes: checked against the
        writer's skeleton for short records, level by level for long ones
        (:func:`_float32_leaves`), and converted by :func:`_float32_packer` into one buffer per
        record. Anything else goes through :meth:`_next_record`, :meth:`_parse_snapshot` and
        :meth:`_parse_loss`, which check everything in order and raise the exact error; the
        fast path only ever accepts records those accept, with identical arrays.
        """
        self._claim()
        path, h, sel = self.path, self.header, self._sel
        k, m, n = h.n_instances, h.n_hidden, h.n_features
        has_dec = h.has_decoder
        per_inst = h.loss_scope == "instance"
        scope = h.loss_scope
        lw = k if per_inst else 1  # values per loss row
        fields = ([("loss", (k,))] if per_inst else []) + [("W", (k, m, n)), ("b", (k, n))]
        fields += [("W_dec", (k, m, n))] if has_dec else []
        total = sum(math.prod(shape) for _, shape in fields)
        # one buffer per snapshot; its fields are the float32 arrays (cheaper than slicing a flat one)
        snap_dtype = np.dtype([(key, np.float32, shape) for key, shape in fields])
        snap_pack = _float32_packer(total)
        version = self.version
        # v1 -> v2 changes only the header: records are read as they are
        migrate = any(v not in _HEADER_ONLY_MIGRATIONS for v in range(version, VERSION))
        snap_skeleton = None
        if total <= _SKELETON_MAX_NUMBERS and not migrate and per_inst:
            zeros = [np.zeros(shape) for _, shape in fields] + [None]
            snap_skeleton = _skeleton(_snapshot_record(0, zeros[0], zeros[1], zeros[2], zeros[3]))
        loss_layouts: dict[int, tuple] = {}  # rows -> (skeleton of a writer's loss record or None, packer)
        scratch = bytearray()  # loss values checked but not kept (snapshots())
        readline, cap, loads = self._f.readline, self._limit + 1, orjson.loads
        line = self._lineno
        last_step = last_loss_step = -1
        ended_at = None
        while True:
            try:
                raw = readline(cap)
            except (OSError, EOFError, zlib.error) as e:
                raise self._read_error(e) from None
            if len(raw) < cap and raw[:1] == b"{" and raw[-1:] == b"\n":
                self._lineno = line = line + 1
                try:
                    rec = loads(raw)
                except orjson.JSONDecodeError as e:
                    raise LogFormatError(path, line, _json_error(e, raw)) from None
            else:
                rec = self._next_record(raw)
                if rec is None:
                    return
                line = self._lineno
                raw = b""  # no skeleton check for a line that needed the slow path
            if migrate:
                rec = _migrate(rec, version)
            kind = rec.get("type")
            if kind == "snapshot":
                if ended_at is not None:
                    raise LogFormatError(path, line, f"a snapshot record after the end record (line {ended_at})")
                step = rec.get("step")
                snap = None
                if type(step) is int and 0 <= step <= _MAX_STEP:
                    if snap_skeleton is not None and raw.translate(None, _NUMBER_CHARS) == snap_skeleton:
                        leaves = _shaped_snapshot_leaves(rec, has_dec)
                    else:
                        leaves = _float32_leaves(rec, fields)
                    if leaves is not None:
                        mem = bytearray(4 * total)
                        try:
                            snap_pack(mem, 0, *leaves)
                        except _PACK_ERRORS:
                            pass
                        else:
                            buf = np.ndarray((), snap_dtype, mem)
                            W, b = buf["W"], buf["b"]
                            W_dec = buf["W_dec"] if has_dec else None
                            loss = buf["loss"] if per_inst else (_aggregate_loss(rec) if scope == "aggregate" else None)
                            if sel is not None:
                                W, b = W[sel], b[sel]
                                W_dec = W_dec[sel] if has_dec else None
                                if per_inst:
                                    loss = loss[sel]
                            if loss is not None or scope == "none":
                                snap = Snapshot(step, loss, W, b, W_dec, line)
                if snap is None:
                    snap = self._parse_snapshot(rec, line)
                    step = snap.step
                if step <= last_step:
                    raise LogFormatError(path, line, f"snapshot step {step} does not increase (previous was {last_step})")
                last_step = step
                yield ("snapshot", line, snap) if with_loss else snap
            elif kind == "loss":
                if ended_at is not None:
                    raise LogFormatError(path, line, f"a loss record after the end record (line {ended_at})")
                if scope == "none":
                    raise LogFormatError(path, line, "a loss record in a log whose header says loss_scope 'none'")
                step, every, raw_loss = rec.get("step"), rec.get("every", 1), rec.get("loss")
                loss = None
                if type(step) is int and type(every) is int and type(raw_loss) is list and raw_loss:
                    rows = len(raw_loss)
                    if step >= 0 and every >= 1 and step + every * (rows - 1) <= _MAX_STEP:
                        layout = loss_layouts.get(rows)
                        if layout is None:
                            skeleton = None
                            if rows * lw <= _SKELETON_MAX_NUMBERS and not migrate:
                                skeleton = _skeleton(_loss_record(0, 1, np.zeros((rows, lw))))
                            layout = (skeleton, _float32_packer(rows * lw))
                            if len(loss_layouts) < 64:
                                loss_layouts[rows] = layout
                        if layout[0] is not None and raw.translate(None, _NUMBER_CHARS) == layout[0]:
                            leaves = _shaped_loss_leaves(raw_loss)
                        else:
                            leaves = _float32_leaves(rec, (("loss", (rows, lw)),))
                        if leaves is not None:
                            if with_loss:
                                mem = bytearray(4 * rows * lw)
                            else:  # only checked: convert into a reused buffer
                                if len(scratch) < 4 * rows * lw:
                                    scratch = bytearray(4 * rows * lw)
                                mem = scratch
                            try:
                                layout[1](mem, 0, *leaves)
                            except _PACK_ERRORS:
                                pass
                            else:
                                loss = np.ndarray((rows, lw), np.float32, mem) if with_loss else mem
                if loss is None:
                    steps, loss = self._parse_loss(rec, line)  # raises unless step and every are valid
                    rows = len(steps)
                    if not rows:
                        continue  # an empty loss record carries nothing; consumers never see one
                elif with_loss:
                    steps = np.arange(step, step + every * rows, every, dtype=np.int64)
                if step <= last_loss_step:
                    raise LogFormatError(path, line, f"loss step {step} does not increase (previous was {last_loss_step})")
                last_loss_step = step + every * (rows - 1)
                if with_loss:
                    if sel is not None and per_inst:
                        loss = loss[:, sel]
                    yield "loss", line, (steps, loss)
            elif kind == "curve":
                if ended_at is not None:
                    raise LogFormatError(path, line, f"a curve record after the end record (line {ended_at})")
                self._add_curve(rec, line, with_loss)
            elif kind == "end":
                if ended_at is not None:
                    raise LogFormatError(path, line, f"an end record after the end record (line {ended_at})")
                self.end = _check_end(rec, path, line)
                ended_at = line
            elif kind == "resume":
                ended_at = None
                self.end = None
                self.resumes.append(rec)
            elif kind == "header":
                raise LogFormatError(path, line, "a second header in the middle of the log")
            # unknown record types are additive: ignore

    def _parse_snapshot(self, rec: dict, line: int) -> Snapshot:
        h = self.header
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        if "step" not in rec:
            raise bad("snapshot is missing 'step'")
        step = rec.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise bad(f"snapshot 'step' must be a non-negative integer, got {_short(step)}")
        if step > _MAX_STEP:
            raise bad(f"snapshot 'step' {step} is too large (more than 2**63 - 1)")
        k, m, n = h.n_instances, h.n_hidden, h.n_features
        if h.loss_scope == "instance":
            loss = _float_array(rec.get("loss"), (k,), "loss", bad)
        elif h.loss_scope == "aggregate":  # one number for all instances (a float, or a list of one)
            value = rec.get("loss")
            loss = _float_array(value, (1,) if isinstance(value, list) else (), "loss", bad).reshape(1)
        else:
            loss = None
        W = _float_array(rec.get("W"), (k, m, n), "W", bad)
        b = _float_array(rec.get("b"), (k, n), "b", bad)
        W_dec = _float_array(rec.get("W_dec"), (k, m, n), "W_dec", bad) if h.has_decoder else None
        if self._sel is not None:
            W, b = W[self._sel], b[self._sel]
            W_dec = W_dec[self._sel] if W_dec is not None else None
            if h.loss_scope == "instance":
                loss = loss[self._sel]
        return Snapshot(step, loss, W, b, W_dec, line)

    def _add_curve(self, rec: dict, line: int, keep: bool) -> None:
        """Validate a curve record; with ``keep``, add it to :attr:`curves`."""
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        name, step, values = rec.get("name"), rec.get("step"), rec.get("values")
        if not isinstance(name, str) or not name:
            raise bad(f"curve record 'name' must be a non-empty string, got {_short(name)}")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= _MAX_STEP:
            raise bad(f"curve record 'step' must be a non-negative integer, got {_short(step)}")
        k = self.header.n_instances
        width = len(values) if isinstance(values, list) and len(values) in (1, k) else k
        arr = _float_array(values, (width,), f"curve {name!r} values", bad)
        steps, rows, widths = self._curves.setdefault(name, ([], [], [width]))
        if steps and step <= steps[-1]:
            raise bad(f"curve {name!r} step {step} does not increase (previous was {steps[-1]})")
        if widths[0] != width:
            raise bad(f"curve {name!r} changes width from {widths[0]} to {width} values")
        steps.append(step)
        if keep:
            rows.append(arr[self._sel] if width == k and self._sel is not None else arr)

    @property
    def curves(self) -> dict:
        """The extra named curves read so far: name -> (steps [C] int64, values [C, k] or [C, 1])."""
        return {
            name: (
                np.asarray(st[: len(rows)], dtype=np.int64),
                np.asarray(rows, dtype=np.float32).reshape(len(rows), len(self.instances) if w == self.header.n_instances else 1),
            )
            for name, (st, rows, (w,)) in self._curves.items()
        }

    def _parse_loss(self, rec: dict, line: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps [L], loss [L, n_instances]) of a loss record: all instances, not only the selected."""
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        step, every = rec.get("step"), rec.get("every", 1)
        for name, v, lo in (("step", step, 0), ("every", every, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise bad(f"loss record {name!r} must be an integer >= {lo}, got {_short(v)}")
        raw = rec.get("loss")
        rows = len(raw) if isinstance(raw, list) else -1
        k = self.header.n_instances if self.header.loss_scope == "instance" else 1
        loss = np.zeros((0, k), np.float32) if raw == [] else _float_array(raw, (rows, k), "loss", bad)
        if step + every * max(rows - 1, 0) > _MAX_STEP:
            raise bad(f"loss record steps reach {step + every * (rows - 1)}, more than 2**63 - 1")
        return step + every * np.arange(rows, dtype=np.int64), loss

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _record_version(rec: Any, path: str, line: int = 1) -> int:
    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise LogFormatError(path, line, 'the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise LogFormatError(path, line, f"unknown schema {_short(rec.get('schema'))} (expected {SCHEMA!r})")
    v = rec.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise LogFormatError(path, line, f"header 'version' must be a positive integer, got {_short(v)}")
    if v > VERSION:
        from animsup import __version__

        raise LogFormatError(
            path,
            line,
            f"log version {v} is newer than this animsup ({__version__} reads up to {VERSION}); upgrade animsup",
        )
    return v


def _check_end(rec: dict, path: str, line: int) -> dict:
    """Validate an end record (status known, step an integer, wall_seconds a number)."""
    status, step, wall = rec.get("status"), rec.get("step"), rec.get("wall_seconds", 0.0)
    if status not in END_STATUSES:
        raise LogFormatError(path, line, f"end record has unknown status {_short(status)}")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise LogFormatError(path, line, f"end record 'step' must be a non-negative integer, got {_short(step)}")
    if not isinstance(wall, (int, float)) or isinstance(wall, bool):
        raise LogFormatError(path, line, f"end record 'wall_seconds' must be a number, got {_short(wall)}")
    return rec


def _bom_encoding(head: bytes) -> str | None:
    """"UTF-16" / "UTF-32" when ``head`` starts with that byte-order mark (e.g. a log re-saved by
    PowerShell's ``>``), else None."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "UTF-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16"
    return None


class _Recoded:
    """A binary file in UTF-16/32 read as UTF-8 lines (``readline(limit)`` like a binary file)."""

    def __init__(self, path: str, encoding: str):
        import io

        self._text = io.open(path, "r", encoding=encoding.lower().replace("-", ""), newline="")

    def readline(self, limit: int = -1) -> bytes:
        try:
            return self._text.readline(limit).encode("utf-8")
        except UnicodeError as e:
            raise OSError(f"not valid text in its byte-order mark's encoding: {e.reason}") from None

    def close(self) -> None:
        self._text.close()


def _open_maybe_gzip(path: str):
    """Open ``path`` for binary reading, through gzip if it starts with the gzip magic bytes,
    decoded to UTF-8 if it starts with a UTF-16/32 byte-order mark."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic[:2] == b"\x1f\x8b":
            return gzip.open(path, "rb")
        encoding = _bom_encoding(magic)
        if encoding is not None:
            return _Recoded(path, encoding)
        return open(path, "rb", buffering=_READ_BUFFER)
    except FileNotFoundError:
        raise AnimsupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AnimsupError(f"{path}: is a folder, not a log file") from None
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read: {e.strerror or e}") from None


def _whole_record(raw: bytes) -> bool:
    """True if ``raw`` (a last line without its newline) is nevertheless a whole JSON object."""
    if not raw.rstrip().endswith(b"}"):
        return False
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


def _json_error(e: orjson.JSONDecodeError, raw: bytes) -> str:
    """One short line for a JSON syntax error (orjson's own 'line 1 column N' is about the line's text)."""
    head = raw[:4096]
    if b"\x00" in head or (head and sum(c < 9 or 13 < c < 32 for c in head) > len(head) // 20):
        return "binary data, not JSON text (not an animsup log?)"
    hint = ""
    if b"NaN" in raw or b"Infinity" in raw:
        hint = " (NaN and Infinity are not valid JSON; animsup writes finite numbers only)"
    reason = str(getattr(e, "msg", "") or e).split(":")[0][:100]
    col = getattr(e, "colno", None)
    return f"not valid JSON{hint}: {reason}" + (f" at column {col}" if col else "")


def _migrate(rec: dict, version: int) -> dict:
    """Upgrade one record from ``version`` to ``VERSION``, one migration per step."""
    for v in range(version, VERSION):
        rec = _MIGRATIONS[v](rec)
    return rec


def _select(instances, n_instances: int, path: str) -> tuple:
    if instances is None:
        return tuple(range(n_instances))
    sel = []
    for i in instances:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n_instances:
            raise AnimsupError(f"{path}: instance {i} does not exist (the log has instances 0..{n_instances - 1})")
        sel.append(int(i))
    if not sel:
        raise AnimsupError(f"{path}: no instance selected")
    return tuple(sel)


# --------------------------------------------------------------------------- whole-log helpers


def open_log(path: str | os.PathLike, instances: Sequence[int] | None = None) -> LogReader:
    """Open a log for streaming (see :class:`LogReader`)."""
    return LogReader(path, instances)


def read_header(path: str | os.PathLike) -> Header:
    """Only the header (reads one line)."""
    with LogReader(path) as r:
        return r.header


def read_log(path: str | os.PathLike, instances: Sequence[int] | None = None, *, require_snapshots: bool = True) -> Run:
    """Load a whole log into arrays (see :class:`Run`). Memory grows with the log's length;
    use :func:`open_log` to stream instead."""
    steps, losses, Ws, bs, Wds = [], [], [], [], []
    loss_steps, loss_rows = [], []
    with LogReader(path, instances) as r:
        for kind, _, item in r.iter_all():
            if kind == "snapshot":
                steps.append(item.step)
                losses.append(item.loss)
                Ws.append(item.W)
                bs.append(item.b)
                if item.W_dec is not None:
                    Wds.append(item.W_dec)
            else:
                loss_steps.append(item[0])
                loss_rows.append(item[1])
        h, sel, end, curves = r.header, r.instances, r.end, r.curves
    if require_snapshots and not steps:
        raise LogFormatError(path, None, "the log has no snapshots")
    k, m, n = len(sel), h.n_hidden, h.n_features
    lw = k if h.loss_scope == "instance" else 1
    steps_a = np.asarray(steps, dtype=np.int64)
    loss_a = None if h.loss_scope == "none" else np.asarray(losses, dtype=np.float32).reshape(len(steps), lw)
    if loss_rows:
        ls, lc = np.concatenate(loss_steps), np.concatenate(loss_rows).astype(np.float32)
    elif loss_a is None:
        ls, lc = np.zeros(0, dtype=np.int64), np.zeros((0, k), dtype=np.float32)
    else:
        ls, lc = steps_a, loss_a
    return Run(
        path=os.fspath(path),
        header=h,
        instances=sel,
        steps=steps_a,
        loss=loss_a,
        W=np.asarray(Ws, dtype=np.float32).reshape(len(steps), k, m, n),
        b=np.asarray(bs, dtype=np.float32).reshape(len(steps), k, n),
        W_dec=np.asarray(Wds, dtype=np.float32).reshape(len(steps), k, m, n) if Wds else None,
        loss_steps=ls,
        loss_curve=lc,
        end=end,
        curves=curves,
    )
