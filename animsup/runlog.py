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

import gzip
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import orjson

from animsup.errors import AnimsupError, LogFormatError, LogWarning

SCHEMA = "animsup.log"
VERSION = 1
END_STATUSES = ("completed", "interrupted", "diverged")
MODELS = ("tied", "untied", "linear")

_DUMP_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE

# version -> function upgrading one record (any type) of that version to version+1.
# Empty while only version 1 exists; reading applies them in order.
_MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    """What a log's first line says about the run.

    :param feature_probability: (shape: [n_instances]) 1 - S per instance
    :param seed: (shape: [n_instances]) the seed of each instance
    :param importance: (shape: [n_features]) loss weight of each feature
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

    @property
    def has_decoder(self) -> bool:
        return self.model == "untied"

    def instance_label(self, i: int) -> str:
        """A short human label for instance ``i``: its 1 - S and seed."""
        return f"1-S={self.feature_probability[i]:.3g} seed={self.seed[i]}"


def make_header(
    *,
    n_features: int,
    n_hidden: int,
    model: str,
    feature_probability: Sequence[float],
    seed: Sequence,
    importance: Sequence[float],
    config: dict,
    **extra: Any,
) -> dict:
    """Build a version-1 header record (a plain dict ready for :class:`LogWriter`)."""
    from animsup import __version__

    fp = [float(p) for p in feature_probability]
    if len(fp) != len(seed):
        raise ValueError("feature_probability and seed must have one entry per instance")
    rec = {
        "type": "header",
        "schema": SCHEMA,
        "version": VERSION,
        "animsup_version": __version__,
        "n_features": int(n_features),
        "n_hidden": int(n_hidden),
        "n_instances": len(fp),
        "model": model,
        "feature_probability": fp,
        "seed": list(seed),
        "importance": [float(v) for v in importance],
        "config": config,
    }
    rec.update(extra)
    return rec


def parse_header(rec: Any, path: str = "<log>", line: int = 1) -> Header:
    """Validate a header record (already migrated) and return a :class:`Header`."""

    def bad(msg: str) -> LogFormatError:
        return LogFormatError(path, line, msg)

    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise bad('the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise bad(f"unknown schema {rec.get('schema')!r} (expected {SCHEMA!r})")
    for key in ("n_features", "n_hidden", "n_instances"):
        v = rec.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise bad(f"header field {key!r} must be a positive integer, got {v!r}")
    n, m, k = rec["n_features"], rec["n_hidden"], rec["n_instances"]
    if rec.get("model") not in MODELS:
        raise bad(f"header field 'model' must be one of {', '.join(MODELS)}, got {rec.get('model')!r}")
    fp = _float_array(rec.get("feature_probability"), (k,), "feature_probability", bad)
    if not np.all((fp > 0) & (fp <= 1)):
        raise bad("header field 'feature_probability' must lie in (0, 1]")
    imp = _float_array(rec.get("importance"), (n,), "importance", bad)
    seed = rec.get("seed")
    if not isinstance(seed, list) or len(seed) != k:
        raise bad(f"header field 'seed' must be a list of {k} entries (one per instance)")
    config = rec.get("config", {})
    if not isinstance(config, dict):
        raise bad("header field 'config' must be an object")
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
    )


def _float_array(value, shape, name, bad) -> np.ndarray:
    """``value`` as a finite float32 array of exactly ``shape``, or raise ``bad(...)``."""
    if value is None:
        raise bad(f"missing {name!r}")
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (ValueError, TypeError, OverflowError):
        raise bad(f"{name!r} is not a numeric array of shape {list(shape)}") from None
    if arr.shape != tuple(shape):
        raise bad(f"{name!r} has shape {list(arr.shape)}, the header says {list(shape)}")
    if not np.isfinite(arr).all():
        raise bad(f"{name!r} contains NaN, infinity or null (or numbers too large for float32)")
    return arr


# --------------------------------------------------------------------------- writer


class LogWriter:
    """Append records to a run log, one flushed line each (a killed run stays readable).

    The file is created exclusively: a second writer (or an existing log without
    ``force=True``) is refused. Each record is written with a single ``write``
    call on an unbuffered file, so concurrent readers only ever see whole lines
    plus at most one partial last line.
    """

    def __init__(self, path: str | os.PathLike, header: dict, *, force: bool = False, append: bool = False):
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise AnimsupError(f"{self.path}: folder {parent} does not exist")
        try:
            if append:
                self._f = open(self.path, "ab", buffering=0)
            else:
                if force and os.path.exists(self.path):
                    os.unlink(self.path)
                self._f = open(self.path, "xb", buffering=0)
        except FileExistsError:
            raise AnimsupError(f"{self.path} already exists (pass --force to overwrite it)") from None
        except OSError as e:
            raise AnimsupError(f"{self.path}: cannot write log: {e.strerror or e}") from None
        if not append:
            self.write(header)

    def write(self, record: dict) -> None:
        line = orjson.dumps(record, option=_DUMP_OPTS)
        try:
            self._f.write(line)
        except OSError as e:
            raise AnimsupError(f"{self.path}: cannot write log: {e.strerror or e}") from None

    def snapshot(self, step: int, loss, W, b, W_dec=None, **extra) -> None:
        """:param loss: (shape: [n_instances]); W, W_dec: [n_instances, n_hidden, n_features]; b: [n_instances, n_features]"""
        rec = {"type": "snapshot", "step": int(step), "loss": _f32(loss), "W": _f32(W), "b": _f32(b)}
        if W_dec is not None:
            rec["W_dec"] = _f32(W_dec)
        rec.update(extra)
        self.write(rec)

    def losses(self, step: int, every: int, loss) -> None:
        """:param loss: (shape: [n_recorded, n_instances]) losses at step, step+every, ..."""
        self.write({"type": "loss", "step": int(step), "every": int(every), "loss": _f32(loss)})

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


# --------------------------------------------------------------------------- reader


@dataclass
class Snapshot:
    """One snapshot, restricted to the selected instances (k of them).

    :param loss: (shape: [k])
    :param W: (shape: [k, n_hidden, n_features]) encoder / tied weights
    :param b: (shape: [k, n_features])
    :param W_dec: (shape: [k, n_hidden, n_features]) decoder of an untied model, else None
    """

    step: int
    loss: np.ndarray
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    line: int


@dataclass
class Run:
    """A whole log in arrays (selected instances only).

    :param steps: (shape: [T]) snapshot steps
    :param loss: (shape: [T, k]) loss at each snapshot
    :param W: (shape: [T, k, n_hidden, n_features])
    :param b: (shape: [T, k, n_features])
    :param W_dec: (shape: [T, k, n_hidden, n_features]) or None
    :param loss_steps: (shape: [L]) steps of the fine loss curve
    :param loss_curve: (shape: [L, k]) the fine loss curve (snapshot losses if the log has none)
    :param end: the end record, or None if the run did not finish (still running or killed)
    """

    path: str
    header: Header
    instances: tuple
    steps: np.ndarray
    loss: np.ndarray
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    loss_steps: np.ndarray
    loss_curve: np.ndarray
    end: dict | None

    @property
    def status(self) -> str:
        return self.end["status"] if self.end else "unfinished"


class LogReader:
    """Stream a run log. Use as a context manager or call :meth:`close`.

    ``instances`` selects instance indices (default: all). Streaming keeps memory
    flat in the log's length. A truncated last line (a killed writer, or a log
    still being written) is dropped with a :class:`LogWarning`; any other
    corruption raises :class:`LogFormatError` naming the file and line.
    ``.jsonl.gz`` files are decompressed transparently.
    """

    def __init__(self, path: str | os.PathLike, instances: Sequence[int] | None = None):
        self.path = os.fspath(path)
        try:
            if self.path.endswith(".gz"):
                self._f = gzip.open(self.path, "rb")
            else:
                self._f = open(self.path, "rb")
        except FileNotFoundError:
            raise AnimsupError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise AnimsupError(f"{self.path}: is a folder, not a log file") from None
        except OSError as e:
            raise AnimsupError(f"{self.path}: cannot read: {e.strerror or e}") from None
        self._lineno = 0
        self.end: dict | None = None
        self.truncated = False
        try:
            first = self._next_record()
            if first is None:
                raise LogFormatError(self.path, None, "empty file (no header line)")
            self.version = _record_version(first, self.path)
            self.header = parse_header(_migrate(first, self.version), self.path, 1)
        except BaseException:
            self._f.close()
            raise
        self.instances = _select(instances, self.header.n_instances, self.path)
        self._sel = None if len(self.instances) == self.header.n_instances else np.asarray(self.instances)
        self._consumed = False

    # -- raw lines -------------------------------------------------------------

    def _next_record(self) -> dict | None:
        """The next parsed line, or None at EOF (after a possibly truncated last line)."""
        while True:
            try:
                raw = self._f.readline()
            except (OSError, EOFError, gzip.BadGzipFile) as e:
                raise LogFormatError(self.path, self._lineno + 1, f"cannot read: {e}") from None
            if not raw:
                return None
            self._lineno += 1
            if not raw.endswith(b"\n"):
                # Last line without its newline: a writer was killed mid-line or is
                # still writing. Drop it, keep everything before it.
                if raw.strip():
                    self.truncated = True
                    warnings.warn(
                        f"{self.path}:{self._lineno}: last line is incomplete (truncated or still "
                        "being written); ignored it",
                        LogWarning,
                        stacklevel=3,
                    )
                return None
            if not raw.strip():
                continue
            try:
                rec = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                hint = " (NaN/Infinity are not valid JSON)" if (b"NaN" in raw or b"Infinity" in raw) else ""
                msg = str(e).split(":", 1)[0] if len(str(e)) > 200 else str(e)
                raise LogFormatError(self.path, self._lineno, f"not valid JSON{hint}: {msg}") from None
            if not isinstance(rec, dict):
                raise LogFormatError(self.path, self._lineno, "line is not a JSON object")
            return rec

    def records(self) -> Iterator[tuple[int, dict]]:
        """(line number, migrated record) for every line after the header."""
        if self._consumed:
            raise RuntimeError("a LogReader can be iterated once; open the log again")
        self._consumed = True
        while True:
            rec = self._next_record()
            if rec is None:
                return
            yield self._lineno, _migrate(rec, self.version)

    # -- typed streams ---------------------------------------------------------

    def iter_all(self) -> Iterator[tuple[str, int, Any]]:
        """Validated ("snapshot", line, Snapshot) and ("loss", line, (steps [L], loss [L, k])) items.

        Sets ``self.end`` when the end record is read.
        """
        last_step = -1
        last_loss_step = -1
        ended_at = None
        for line, rec in self.records():
            kind = rec.get("type")
            if kind == "header":
                raise LogFormatError(self.path, line, "a second header in the middle of the log")
            if kind == "resume":
                ended_at = None
                self.end = None
                continue
            if kind not in ("snapshot", "loss", "end"):
                continue  # unknown record types are additive: ignore
            if ended_at is not None:
                raise LogFormatError(self.path, line, f"a {kind} record after the end record (line {ended_at})")
            if kind == "end":
                status = rec.get("status")
                if status not in END_STATUSES:
                    raise LogFormatError(self.path, line, f"end record has unknown status {status!r}")
                self.end = rec
                ended_at = line
            elif kind == "snapshot":
                snap = self._parse_snapshot(rec, line)
                if snap.step <= last_step:
                    raise LogFormatError(
                        self.path, line, f"snapshot step {snap.step} does not increase (previous was {last_step})"
                    )
                last_step = snap.step
                yield "snapshot", line, snap
            else:
                steps, loss = self._parse_loss(rec, line)
                if len(steps) and steps[0] <= last_loss_step:
                    raise LogFormatError(
                        self.path, line, f"loss step {int(steps[0])} does not increase (previous was {last_loss_step})"
                    )
                if len(steps):
                    last_loss_step = int(steps[-1])
                yield "loss", line, (steps, loss)

    def snapshots(self) -> Iterator[Snapshot]:
        """Stream the snapshots one at a time."""
        for kind, _, item in self.iter_all():
            if kind == "snapshot":
                yield item

    def _parse_snapshot(self, rec: dict, line: int) -> Snapshot:
        h = self.header
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        step = rec.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise bad(f"snapshot 'step' must be a non-negative integer, got {step!r}")
        k, m, n = h.n_instances, h.n_hidden, h.n_features
        loss = _float_array(rec.get("loss"), (k,), "loss", bad)
        W = _float_array(rec.get("W"), (k, m, n), "W", bad)
        b = _float_array(rec.get("b"), (k, n), "b", bad)
        W_dec = _float_array(rec.get("W_dec"), (k, m, n), "W_dec", bad) if h.has_decoder else None
        if self._sel is not None:
            loss, W, b = loss[self._sel], W[self._sel], b[self._sel]
            W_dec = W_dec[self._sel] if W_dec is not None else None
        return Snapshot(step, loss, W, b, W_dec, line)

    def _parse_loss(self, rec: dict, line: int) -> tuple[np.ndarray, np.ndarray]:
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        step, every = rec.get("step"), rec.get("every", 1)
        for name, v, lo in (("step", step, 0), ("every", every, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise bad(f"loss record {name!r} must be an integer >= {lo}, got {v!r}")
        raw = rec.get("loss")
        rows = len(raw) if isinstance(raw, list) else -1
        loss = _float_array(raw, (rows, self.header.n_instances), "loss", bad)
        if self._sel is not None:
            loss = loss[:, self._sel]
        return step + every * np.arange(rows, dtype=np.int64), loss

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _record_version(rec: Any, path: str) -> int:
    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise LogFormatError(path, 1, 'the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise LogFormatError(path, 1, f"unknown schema {rec.get('schema')!r} (expected {SCHEMA!r})")
    v = rec.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise LogFormatError(path, 1, f"header 'version' must be a positive integer, got {v!r}")
    if v > VERSION:
        from animsup import __version__

        raise LogFormatError(
            path, 1, f"log version {v} is newer than this animsup ({__version__} reads up to {VERSION}); upgrade animsup"
        )
    return v


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
        if not isinstance(i, (int, np.integer)) or not 0 <= i < n_instances:
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
        h, sel, end = r.header, r.instances, r.end
    if require_snapshots and not steps:
        raise LogFormatError(path, None, "the log has no snapshots")
    k, m, n = len(sel), h.n_hidden, h.n_features
    steps_a = np.asarray(steps, dtype=np.int64)
    loss_a = np.asarray(losses, dtype=np.float32).reshape(len(steps), k)
    if loss_rows:
        ls, lc = np.concatenate(loss_steps), np.concatenate(loss_rows).astype(np.float32)
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
    )
