"""Write a run log: :class:`LogWriter` appends one flushed line per record, and the record
builders say how each record is laid out (the reader derives its fast-path skeletons from them).

numpy + orjson only; it never imports torch.
"""

from __future__ import annotations

import errno
import os
from types import TracebackType
from typing import IO, Any, Sequence

import numpy as np
import orjson
from numpy.typing import ArrayLike, NDArray

try:
    import fcntl
except ImportError:  # not on Windows: no lock, exclusive create still refuses a second writer
    fcntl = None  # type: ignore[assignment]  # an optional module: None where the platform has none

from animsup.errors import AnimsupError
from animsup.log.files import _bom_encoding, _whole_record
from animsup.log.schema import END_STATUSES, LOSS_ROWS_PER_RECORD, Record

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
    """

    def __init__(self, path: str | os.PathLike[str], header: Record, *, force: bool = False, append: bool = False) -> None:
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
        self.write(_loss_record(step, every, loss))

    def losses_at(self, steps: Sequence[int] | NDArray[np.int64], loss: NDArray[np.floating[Any]]) -> None:
        """Losses at increasing ``steps``: one :meth:`losses` record per run of equally spaced steps.

        :param loss: (shape: [len(steps), n_instances], or [len(steps), 1] aggregate)
        """
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
        self._f.close()

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
