"""Write a run log: :class:`LogWriter` appends one flushed line per record, and the record
builders say how each record is laid out (the reader derives its fast-path skeletons from them).

numpy + orjson only; it never imports torch.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from types import TracebackType
from typing import IO, Any, Callable, Sequence

import numpy as np
import orjson
from numpy.typing import ArrayLike, NDArray

try:
    import fcntl
except ImportError:  # not on Windows: no lock, exclusive create still refuses a second writer
    fcntl = None  # type: ignore[assignment]  # an optional module: None where the platform has none

from animsup.atomic import check_regular, output_mode
from animsup.errors import AnimsupError
from animsup.log.files import _bom_encoding, _whole_record
from animsup.log.schema import END_STATUSES, LOSS_ROWS_PER_RECORD, MAX_HEADER_BYTES, MAX_STEP, MAX_STEP_TEXT, Record

_DUMP_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE



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

    ``force=True`` on an existing log replaces it, but never before the new log is worth
    more than the old one: the new log is written to a hidden temp beside it
    (``.NAME.<random>.tmp.jsonl``) and renamed onto the old one when its first snapshot is
    written (the first point at which it is a readable run; a live follower sees it from
    then on). A run that fails or is closed before that leaves the old log as it was (the
    temp is removed); until then the old log is locked against other writers. The new log
    keeps the old one's permission bits; ``on_replace`` (e.g. removing the old run's
    checkpoint) is called once the old log is gone. Only regular files are written or
    replaced: a device, FIFO or socket is refused.
    """

    def __init__(self, path: str | os.PathLike[str], header: Record, *, force: bool = False, append: bool = False,
                 on_replace: Callable[[], None] | None = None) -> None:
        self.path = os.fspath(path)
        self._target = self.path  # where the log ends up (a replacing writer writes a temp beside it first)
        self._old: IO[bytes] | None = None  # the log being replaced, locked until the new one replaces it
        self._on_replace = on_replace
        self._committed = True
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise AnimsupError(f"{self.path}: folder {parent} does not exist")
        if os.path.isdir(self.path):
            raise AnimsupError(f"{self.path}: is a folder, not a log file")
        check_regular(self.path, what="log file")  # a device or FIFO is never opened, replaced or deleted
        try:
            if append:
                self._f = open(self.path, "a+b", buffering=0)
            elif force and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
                self._open_replacement()
            elif force and os.path.exists(self.path):  # an empty file: nothing to keep
                with open(self.path, "rb") as old:
                    self._refuse_if_locked(old)
                os.unlink(self.path)
                self._f = open(self.path, "xb", buffering=0)
            else:
                self._f = open(self.path, "xb", buffering=0)
        except FileExistsError:
            try:
                with open(self.path, "rb") as old:
                    self._refuse_if_locked(old)
            except OSError:
                pass
            raise AnimsupError(f"{self.path} already exists (pass --force to overwrite it)") from None
        except OSError as e:
            self._drop_old()
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
            if not self._committed:
                self._discard()
            elif not append and os.path.exists(self.path) and os.path.getsize(self.path) == 0:
                os.unlink(self.path)  # never leave a header-less log behind
            raise
        if self._committed and not append and on_replace is not None:
            on_replace()

    def _open_replacement(self) -> None:
        """``force``: write the new log to a hidden temp beside the old one, which stays (locked
        against other writers) until the new log holds its first snapshot (:meth:`_commit`)."""
        old = open(self._target, "rb")
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(old.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise AnimsupError(f"{self.path} is being written by another animsup process; "
                                       f"refusing to touch it") from None
                except OSError:
                    pass  # file system without locks
            folder, name = os.path.split(os.path.abspath(self._target))
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp.jsonl", dir=folder)
        except BaseException:
            old.close()
            raise
        self._old, self.path, self._committed = old, tmp, False
        self._f = os.fdopen(fd, "r+b", buffering=0)

    @property
    def replacing(self) -> bool:
        """True while a ``force`` writer has not yet replaced the old log (no snapshot written)."""
        return not self._committed

    def _commit(self) -> None:
        """The new log has its first snapshot: it replaces the old one (keeping the old file's mode)."""
        os.chmod(self.path, output_mode(self._target))
        os.replace(self.path, self._target)
        self.path, self._committed = self._target, True
        self._drop_old()
        if self._on_replace is not None:
            self._on_replace()

    def _discard(self) -> None:
        """The new log never got a snapshot: remove its temp, the old log stays as it was."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.path, self._committed = self._target, True
        self._drop_old()

    def _drop_old(self) -> None:
        if self._old is not None:
            self._old.close()  # (releases its lock)
            self._old = None

    def _refuse_if_locked(self, f: IO[bytes]) -> None:
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

    def write(self, record: Record) -> None:
        """Write one record as one line, completely or not at all.

        :raises ValueError: a record no reader accepts (a step above 2**53 - 1, a header over
            the reader's cap): refused before a byte is written
        """
        step = record.get("step")
        if isinstance(step, int) and not 0 <= step <= MAX_STEP:
            raise ValueError(f"step {step} is out of range: steps are 0..{MAX_STEP_TEXT}")
        line = orjson.dumps(record, option=_DUMP_OPTS)
        if record.get("type") == "header" and len(line) > MAX_HEADER_BYTES:
            raise ValueError(f"the header would be {len(line):,} bytes, more than the {MAX_HEADER_BYTES:,} "
                             f"every reader accepts (importance and feature_probability hold n_instances x n_features numbers)")
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
                raise AnimsupError(f"{self._target}: cannot write log: {e.strerror or e}") from None
            raise
        self._size += len(line)
        if not self._committed and record.get("type") == "snapshot":
            try:
                self._commit()
            except OSError as e:
                raise AnimsupError(f"{self._target}: cannot replace the old log: {e.strerror or e}") from None

    def _rollback(self) -> None:
        """Cut the file back to its last whole line (after a failed or interrupted write)."""
        try:
            os.ftruncate(self._f.fileno(), self._size)
            os.lseek(self._f.fileno(), self._size, os.SEEK_SET)
        except OSError:
            pass

    def snapshot(
        self, step: int, loss: ArrayLike | None, W: ArrayLike, b: ArrayLike, W_dec: ArrayLike | None = None, **extra: Any
    ) -> None:
        """One snapshot record (no checks here: :class:`animsup.Recorder` validates).

        :param loss: (shape: [n_instances]) per-instance loss, a float (loss_scope "aggregate"),
            or None (loss_scope "none": no "loss" key is written)
        :param W: (shape: [n_instances, n_hidden, n_features]); W_dec likewise (untied models)
        :param b: (shape: [n_instances, n_features])
        """
        self.write(_snapshot_record(step, loss, W, b, W_dec, **extra))

    def losses(self, step: int, every: int, loss: ArrayLike) -> None:
        """:param loss: (shape: [n_recorded, n_instances], or [n_recorded, 1] aggregate) losses at step, step+every, ..."""
        last = int(step) + int(every) * max((np.shape(loss)[0] if np.ndim(loss) else 1) - 1, 0)
        if last > MAX_STEP:
            raise ValueError(f"loss steps reach {last}, out of range: steps are 0..{MAX_STEP_TEXT}")
        self.write(_loss_record(step, every, loss))

    def losses_at(self, steps: Sequence[int] | NDArray[np.int64], loss: NDArray[np.floating[Any]]) -> None:
        """Losses at increasing ``steps``: one :meth:`losses` record per run of equally spaced steps.

        :param loss: (shape: [len(steps), n_instances], or [len(steps), 1] aggregate)
        """
        if len(steps) and int(steps[-1]) > MAX_STEP:
            raise ValueError(f"step {int(steps[-1])} is out of range: steps are 0..{MAX_STEP_TEXT}")
        i = 0
        while i < len(steps):
            j = i + 1
            every = int(steps[j] - steps[i]) if j < len(steps) else 1
            while j < len(steps) and steps[j] - steps[j - 1] == every and j - i < LOSS_ROWS_PER_RECORD:
                j += 1
            self.losses(int(steps[i]), every, loss[i:j])
            i = j

    def curve(self, name: str, step: int, values: ArrayLike) -> None:
        """An extra named scalar at ``step``.

        :param values: (shape: [n_instances], or [1] for one number for all instances)
        """
        self.write({"type": "curve", "name": str(name), "step": int(step), "values": _f32(np.reshape(values, -1))})

    def end(self, status: str, step: int, wall_seconds: float, **extra: Any) -> None:
        if status not in END_STATUSES:
            raise ValueError(f"unknown end status {status!r}")
        self.write({"type": "end", "status": status, "step": int(step), "wall_seconds": float(wall_seconds), **extra})

    def close(self) -> None:
        """Close the log. A replacing writer that never wrote a snapshot removes its temp: the
        old log stays (a new log without a snapshot is no run at all)."""
        self._f.close()
        if not self._committed:
            self._discard()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _f32(a: ArrayLike) -> NDArray[np.float32]:
    return np.ascontiguousarray(a, dtype=np.float32)


def _snapshot_record(
    step: int, loss: ArrayLike | None, W: ArrayLike, b: ArrayLike, W_dec: ArrayLike | None = None, **extra: Any
) -> Record:
    """A snapshot record as the writer writes it (the reader derives its skeleton from this)."""
    rec: Record = {"type": "snapshot", "step": int(step)}
    if loss is not None:
        rec["loss"] = float(np.asarray(loss)) if np.ndim(loss) == 0 else _f32(loss)
    rec["W"], rec["b"] = _f32(W), _f32(b)
    if W_dec is not None:
        rec["W_dec"] = _f32(W_dec)
    rec.update(extra)
    return rec


def _loss_record(step: int, every: int, loss: ArrayLike) -> Record:
    """A loss record as the writer writes it."""
    return {"type": "loss", "step": int(step), "every": int(every), "loss": _f32(loss)}
