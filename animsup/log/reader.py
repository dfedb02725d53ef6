"""Read a run log: :class:`LogReader` streams it (snapshots, loss rows, curves, the end record),
:func:`read_log` loads it whole into a :class:`Run`. The schema is :mod:`animsup.log.schema`.

A truncated last line (a killed writer, or a log still being written) is dropped with a
warning; any other corruption raises :class:`animsup.errors.LogFormatError` naming the file
and line. numpy + orjson only; it never imports torch.
"""

from __future__ import annotations

import gzip
import os
import re
import warnings
import zlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Iterator, Sequence

import numpy as np
import orjson
from numpy.typing import NDArray

from animsup.errors import AnimsupError, LogFormatError, LogWarning
from animsup.log.fastpath import LossFastPath, SnapshotFastPath
from animsup.log.files import _json_error, _open_maybe_gzip, _whole_record, not_a_log
from animsup.log.schema import (
    MAX_HEADER_BYTES as _SCHEMA_MAX_HEADER_BYTES,
    MAX_LINE_BYTES as _SCHEMA_MAX_LINE_BYTES,
    MAX_STEP,
    MAX_STEP_TEXT,
    VERSION,
    Header,
    Record,
    Snapshot,
    _check_end,
    _float_array,
    _migrate,
    LINE_SLACK,
    _migrates_records,
    _record_version,
    _short,
    line_caps,
    parse_header,
)
from animsup.log.sweepdir import resolve_log_path
from animsup.log.writer import LogWriter
from animsup.options import is_int, is_integral

# An extra named curve: (steps [C], values [C, k] or [C, 1])
Curve = tuple[NDArray[np.int64], NDArray[np.float32]]

# Reader guards (module constants so tests can shrink them). A line longer than this is
# refused rather than read into memory.
MAX_HEADER_BYTES = _SCHEMA_MAX_HEADER_BYTES  # (the schema's: the writer and the Recorder refuse more)
MAX_LINE_BYTES = _SCHEMA_MAX_LINE_BYTES  # the ceiling; each log's own caps come from its header (schema.line_caps)
_TYPE = re.compile(rb'"type"\s*+:\s*+"([^"\\]{0,40})"')


@dataclass(slots=True)
class _Order:
    """The ordering rules of a log's records: snapshot and loss steps increase, and nothing but
    a resume record follows the end record."""

    path: str
    last_step: int = -1
    last_loss_step: int = -1
    ended_at: int | None = None  # line of the end record, while no resume record followed it

    def check_open(self, what: str, line: int) -> None:
        if self.ended_at is not None:
            raise self.after_end(what, line)

    def after_end(self, what: str, line: int) -> LogFormatError:
        return LogFormatError(self.path, line, f"{what} after the end record (line {self.ended_at})")

    def loss_steps(self, first: int, last: int, line: int) -> None:
        if first <= self.last_loss_step:
            raise self.not_increasing("loss step", first, self.last_loss_step, line)
        self.last_loss_step = last

    def not_increasing(self, what: str, step: int, previous: int, line: int) -> LogFormatError:
        return LogFormatError(self.path, line, f"{what} {step} does not increase (previous was {previous})")


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
    instances: tuple[int, ...]
    steps: NDArray[np.int64]
    loss: NDArray[np.float32] | None
    W: NDArray[np.float32]
    b: NDArray[np.float32]
    W_dec: NDArray[np.float32] | None
    loss_steps: NDArray[np.int64]
    loss_curve: NDArray[np.float32]
    end: Record | None
    curves: dict[str, Curve] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.end["status"] if self.end else "unfinished"

    @property
    def importance(self) -> NDArray[np.float32]:
        """(shape: [k, n_features]) importance of the selected instances."""
        return self.header.importance[list(self.instances)]

    @property
    def feature_probability(self) -> NDArray[np.float32]:
        """(shape: [k, n_features]) 1 - S of each feature of the selected instances."""
        return self.header.feature_probability[list(self.instances)]

    @property
    def model(self) -> str:
        return self.header.model

    @property
    def data(self) -> dict[str, Any]:
        return self.header.data

    @property
    def stages(self) -> list[dict[str, Any]] | None:
        return self.header.stages

    @property
    def loss_scope(self) -> str:
        return self.header.loss_scope

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> str:
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

    def loss_curve_of(self, k: int) -> NDArray[np.float32]:
        """(shape: [L]) the fine loss curve that applies to selected instance ``k``: its own
        column, the aggregate curve (shared by all instances), or empty without loss."""
        return self.loss_curve[:, k if self.loss_scope == "instance" else 0] if len(self.loss_curve) else self.loss_curve[:, 0]


class LogReader:
    """Stream a run log. Use as a context manager or call :meth:`close`.

    ``path`` is a log file or a sweep's folder (:mod:`animsup.log.sweepdir`: its merged log, every
    instance in grid order). ``instances`` selects instance indices (default: all). Streaming keeps memory
    flat in the log's length. A truncated last line (a killed writer, or a log
    still being written) is dropped with a :class:`LogWarning`; any other
    corruption raises :class:`LogFormatError` naming the file and line.
    Gzip-compressed logs (``.jsonl.gz``, recognised by their magic bytes whatever
    the name) are decompressed transparently; a corrupt one is a clear error.
    """

    def __init__(self, path: str | os.PathLike[str], instances: Sequence[int] | None = None) -> None:
        self.path = resolve_log_path(path)  # a sweep's folder reads as its merged log
        self._f = _open_maybe_gzip(self.path)
        self._gz = isinstance(self._f, gzip.GzipFile)
        self._lineno = 0
        self._limit = MAX_HEADER_BYTES
        self.end: Record | None = None
        self.resumes: list[Record] = []  # the resume records read so far (`train --resume`)
        self.truncated = False
        self._curves: dict[str, tuple[list[int], list[NDArray[np.float32]], list[int]]] = {}  # name -> (steps, rows, [width])
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
        self._caps = line_caps(self.header)
        self._limit = min(max(self._caps.values()), MAX_LINE_BYTES)
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
            if len(raw) > LINE_SLACK and self._lineno > 1:
                self._check_size(raw, self._lineno)
            if self._lineno == 1 and raw.strip() and not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
                raise LogFormatError(self.path, None, not_a_log(raw))  # text/CSV/binary, with or without newline
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
                if self._lineno == 1:  # a text, CSV or binary file given as a log: say so, in one place
                    raise LogFormatError(self.path, None, not_a_log(raw)) from None
                raise LogFormatError(self.path, self._lineno, _json_error(e, raw)) from None
            if not isinstance(rec, dict):
                if self._lineno == 1:
                    raise LogFormatError(self.path, None, not_a_log(raw))
                raise LogFormatError(self.path, self._lineno, "line is not a JSON object")
            return rec

    def _check_size(self, raw: bytes, line: int) -> None:
        """Refuse a line longer than a record of its type can need for this header's sizes
        (:func:`animsup.log.schema.line_caps`), before it is parsed."""
        at = raw.find(b'"type"')
        match = _TYPE.match(raw, at) if at >= 0 else None
        kind = match.group(1).decode("utf-8", "replace") if match else "?"
        cap = self._caps.get(kind, self._caps["other"])
        if len(raw) > cap:
            what = f"a {kind!r} record" if kind in self._caps else "a record of an unknown type"
            raise LogFormatError(self.path, line, f"line of {len(raw)} bytes, more than {what} can need "
                                                  f"for this header's sizes ({cap} bytes)")

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

    def _items(self, with_loss: bool) -> Iterator[Any]:
        """The reading loop behind :meth:`iter_all` (``with_loss``: yield kind, line, item
        for snapshots and loss records) and :meth:`snapshots` (yield Snapshots only).

        Snapshot and loss records are converted by the fast path (:mod:`animsup.log.fastpath`)
        when they are plain; anything else goes through :meth:`_parse_snapshot` and
        :meth:`_parse_loss`, which check everything in order and raise the exact error.
        """
        self._claim()
        path, version, migrate = self.path, self.version, _migrates_records(self.version)
        snapshots = SnapshotFastPath(self.header, self._sel, migrate)
        losses = LossFastPath(self.header, migrate, keep=with_loss)
        order = _Order(path)
        readline, cap, loads = self._f.readline, self._limit + 1, orjson.loads
        line = self._lineno
        while True:  # a plain {...} line is parsed here, any other by _next_record
            try:
                raw = readline(cap)
            except (OSError, EOFError, zlib.error) as e:
                raise self._read_error(e) from None
            if len(raw) < cap and raw[:1] == b"{" and raw[-1:] == b"\n":
                self._lineno = line = line + 1
                if len(raw) > LINE_SLACK:
                    self._check_size(raw, line)
                try:
                    rec = loads(raw)
                except orjson.JSONDecodeError as e:
                    raise LogFormatError(path, line, _json_error(e, raw)) from None
            else:
                slow = self._next_record(raw)
                if slow is None:
                    return
                rec, line, raw = slow, self._lineno, b""  # no skeleton check for it
            if migrate:
                rec = _migrate(rec, version)
            kind = rec.get("type")
            if kind == "snapshot":  # the common record, checked inline
                if order.ended_at is not None:
                    raise order.after_end("a snapshot record", line)
                snap = snapshots.snapshot(rec, raw, line) or self._parse_snapshot(rec, line)
                if snap.step <= order.last_step:
                    raise order.not_increasing("snapshot step", snap.step, order.last_step, line)
                order.last_step = snap.step
                yield ("snapshot", line, snap) if with_loss else snap
                # the line and its parsed objects go before the next is read: at n = 10,240, m = 256 a
                # snapshot line is 35 MB and its parsed floats ~120 MB; held over, the peak was two of them
                del rec, raw, snap
            elif kind == "loss":
                item = self._loss(rec, raw, line, losses, order)
                if item is not None:
                    yield "loss", line, item
            else:
                self._other_record(kind, rec, line, order, keep_curves=with_loss)

    def _loss(
        self, rec: Record, raw: bytes, line: int, fast: LossFastPath, order: _Order
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        """(steps [L], loss [L, k] of the selected instances) of loss record ``rec``, its steps
        checked to increase; None for an empty record (it carries nothing)."""
        if order.ended_at is not None:
            raise order.after_end("a loss record", line)
        if self.header.loss_scope == "none":
            raise LogFormatError(self.path, line, "a loss record in a log whose header says loss_scope 'none'")
        mem = fast.convert(rec, raw)
        if mem is None:
            steps, loss = self._parse_loss(rec, line)  # raises unless step and every are valid
            if not len(steps):
                return None  # an empty loss record carries nothing; consumers never see one
            order.loss_steps(int(steps[0]), int(steps[-1]), line)
        else:
            step, every, rows = rec["step"], rec.get("every", 1), len(rec["loss"])
            order.loss_steps(step, step + every * (rows - 1), line)
            if not fast.keep:
                return None  # only checked
            steps, loss = np.arange(step, step + every * rows, every, dtype=np.int64), fast.rows(mem, rows)
        if not fast.keep:
            return None
        if self._sel is not None and self.header.loss_scope == "instance":
            loss = loss[:, self._sel]
        return steps, loss

    def _other_record(self, kind: Any, rec: Record, line: int, order: _Order, keep_curves: bool) -> None:
        """A curve, end, resume or header record; unknown record types are additive: ignored."""
        if kind == "curve":
            order.check_open("a curve record", line)
            self._add_curve(rec, line, keep_curves)
        elif kind == "end":
            order.check_open("an end record", line)
            self.end = _check_end(rec, self.path, line)
            order.ended_at = line
        elif kind == "resume":
            order.ended_at = None
            self.end = None
            self.resumes.append(rec)
        elif kind == "header":
            raise LogFormatError(self.path, line, "a second header in the middle of the log")

    def _parse_snapshot(self, rec: Record, line: int) -> Snapshot:
        h = self.header
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        if "step" not in rec:
            raise bad("snapshot is missing 'step'")
        step = rec.get("step")
        if not is_int(step) or step < 0:
            raise bad(f"snapshot 'step' must be a non-negative integer, got {_short(step)}")
        if step > MAX_STEP:
            raise bad(f"snapshot 'step' {step} is too large (more than {MAX_STEP_TEXT})")
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
            if h.loss_scope == "instance" and loss is not None:
                loss = loss[self._sel]
        return Snapshot(step, loss, W, b, W_dec, line)

    def _add_curve(self, rec: Record, line: int, keep: bool) -> None:
        """Validate a curve record; with ``keep``, add it to :attr:`curves`."""
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        name, step, values = rec.get("name"), rec.get("step"), rec.get("values")
        if not isinstance(name, str) or not name:
            raise bad(f"curve record 'name' must be a non-empty string, got {_short(name)}")
        if not is_int(step) or step < 0:
            raise bad(f"curve record 'step' must be a non-negative integer, got {_short(step)}")
        if step > MAX_STEP:
            raise bad(f"curve record 'step' {step} is too large (more than {MAX_STEP_TEXT})")
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
    def curves(self) -> dict[str, Curve]:
        """The extra named curves read so far: name -> (steps [C] int64, values [C, k] or [C, 1])."""
        return {
            name: (
                np.asarray(st[: len(rows)], dtype=np.int64),
                np.asarray(rows, dtype=np.float32).reshape(len(rows), len(self.instances) if w == self.header.n_instances else 1),
            )
            for name, (st, rows, (w,)) in self._curves.items()
        }

    def _parse_loss(self, rec: Record, line: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """(steps [L], loss [L, n_instances]) of a loss record: all instances, not only the selected."""
        bad = lambda msg: LogFormatError(self.path, line, msg)  # noqa: E731
        step, every = rec.get("step"), rec.get("every", 1)
        for name, v, lo in (("step", step, 0), ("every", every, 1)):
            if not is_int(v) or v < lo:
                raise bad(f"loss record {name!r} must be an integer >= {lo}, got {_short(v)}")
        raw = rec.get("loss")
        rows = len(raw) if isinstance(raw, list) else -1
        k = self.header.n_instances if self.header.loss_scope == "instance" else 1
        loss = np.zeros((0, k), np.float32) if raw == [] else _float_array(raw, (rows, k), "loss", bad)
        if step + every * max(rows - 1, 0) > MAX_STEP:
            raise bad(f"loss record steps reach {step + every * (rows - 1)}, more than {MAX_STEP_TEXT}")
        return step + every * np.arange(rows, dtype=np.int64), loss

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _select(instances: Sequence[int] | None, n_instances: int, path: str) -> tuple[int, ...]:
    if instances is None:
        return tuple(range(n_instances))
    sel = []
    for i in instances:
        if not is_integral(i) or not 0 <= i < n_instances:
            raise AnimsupError(f"{path}: instance {i} does not exist (the log has instances 0..{n_instances - 1})")
        sel.append(int(i))
    if not sel:
        raise AnimsupError(f"{path}: no instance selected")
    return tuple(sel)


# --------------------------------------------------------------------------- whole-log helpers


def open_log(path: str | os.PathLike[str], instances: Sequence[int] | None = None) -> LogReader:
    """Open a log for streaming (see :class:`LogReader`)."""
    return LogReader(path, instances)


def read_header(path: str | os.PathLike[str]) -> Header:
    """Only the header (reads one line)."""
    with LogReader(path) as r:
        return r.header


def read_log(path: str | os.PathLike[str], instances: Sequence[int] | None = None, *, require_snapshots: bool = True) -> Run:
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
