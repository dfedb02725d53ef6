"""The log printed by seed 002's C program ("Demonstrating Superposition").

Its format, exactly: every training run prints ``run: %d`` and ``L: %1.04f`` (the batch's
loss, seed 002's half-sum reduction); after runs with r % 100 == 99 it prints four blocks,
``b`` (1×N), ``W`` (M×N), ``grad w`` (M×N), ``grad b`` (1×N), each as::

    W: [
     0.316  0.005  0.028  0 ...      (" %1.03f " per element, " 0 " for an exact zero)
    ]

Row k of W is hidden dimension k, column i is feature i. N and M come from the blocks.
The imported log keeps the loss of every run (loss records: step r = the parameters after r
updates) and one snapshot per block group (step r + 1: W and b after run r's update).

The C log does not say the importance, the feature probability or the seed: the importance
is ``importance`` ** i (seed 002 uses 0.7 for n = 5 and 0.9 for n = 32), the probability is
``feature_probability``, the seed is ``seed`` (the program's srandom seed if known, else null),
and the header records that these were assumed.
A NaN or inf loss or weight ends the log with status "diverged" (the note names which); a file cut off mid-block keeps
what is complete and ends "interrupted"; anything else malformed is an error naming the line.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, BinaryIO, Literal, Union

import numpy as np

from animsup.errors import AnimsupError, LogFormatError, LogWarning
from animsup.importers.result import ImportResult

if TYPE_CHECKING:
    from animsup.log.writer import LogWriter

BLOCKS = ("b", "W", "grad w", "grad b")
_RUN = re.compile(r"run: (-?\d+)$")
_LOSS = re.compile(r"L: (\S+)$")
_OPEN = re.compile(r"(b|W|grad w|grad b): \[$")
LOSS_CHUNK = 1000  # loss values per loss record


# what :func:`parse` yields
Record = Union[
    tuple[Literal["loss"], int, float],
    tuple[Literal["blocks"], int, dict[str, np.ndarray]],
    tuple[Literal["seconds"], None, float],
    tuple[Literal["end"], str, int],
]


class _Truncated(Exception):
    """The file ended inside a run or a block."""


def parse(src_path: str | os.PathLike, progress: Callable[[int, int], object] | None = None) -> Generator[Record, None, None]:
    """Yield ("loss", run, value), ("blocks", run, {tag: array}), ("seconds", None, value)
    and finally ("end", status, line) from a C log; raise LogFormatError on malformed input."""
    path = os.fspath(src_path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise AnimsupError(f"{path}: no such file") from None
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read: {e.strerror or e}") from None
    total = os.path.getsize(path)
    with f:
        lines = _Lines(f, path)
        expected_run = 0
        run = None  # the last run whose loss was read
        try:
            while True:
                line = lines.next()
                if line is None:
                    yield "end", "completed", lines.n
                    return
                if not line.strip():
                    continue
                if m := _RUN.match(line):
                    r = int(m.group(1))
                    if r != expected_run:
                        raise lines.error(f"expected 'run: {expected_run}', found 'run: {r}'")
                    loss_line = lines.next()
                    if loss_line is None:
                        raise _Truncated
                    lm = _LOSS.match(loss_line)
                    if not lm:
                        raise lines.error(f"expected 'L: <loss>' after 'run: {r}', found {loss_line[:60]!r}")
                    value = _number(lm.group(1), lines)
                    yield "loss", r, value
                    if not math.isfinite(value):
                        yield "end", "diverged", lines.n
                        return
                    run, expected_run = r, r + 1
                    if progress is not None and r % 1000 == 0:
                        progress(f.tell(), total)
                elif _OPEN.match(line):
                    if run is None:
                        raise lines.error("a matrix block before the first 'run:' line")
                    yield "blocks", run, _read_group(lines, line)
                elif line.startswith("seconds: "):
                    yield "seconds", None, _number(line.split(":", 1)[1].strip(), lines)
                else:
                    raise lines.error(f"unexpected line {line[:60]!r} (expected 'run: <n>', 'L: <loss>' or a block)")
        except _Truncated:
            yield "end", "interrupted", lines.n


class _Lines:
    """Numbered text lines; a last line without its newline counts as cut off."""

    def __init__(self, f: BinaryIO, path: str):
        self.f, self.path, self.n = f, path, 0

    def next(self) -> str | None:
        raw = self.f.readline()
        if not raw:
            return None
        self.n += 1
        if not raw.endswith(b"\n"):
            raise _Truncated
        try:
            return raw.decode("ascii").rstrip("\r\n")
        except UnicodeDecodeError:
            raise self.error("not a text line (non-ASCII bytes)") from None

    def error(self, message: str) -> LogFormatError:
        return LogFormatError(self.path, self.n, message)


def _number(token: str, lines: _Lines) -> float:
    try:
        return float(token)  # also nan, -nan, inf as C prints them
    except ValueError:
        if token.lower() in ("-nan", "+nan"):
            return math.nan
        raise lines.error(f"{token[:30]!r} is not a number") from None


def _read_group(lines: _Lines, first: str) -> dict[str, np.ndarray]:
    """The four blocks b, W, grad w, grad b, starting at the already-read line ``first``."""
    group: dict[str, np.ndarray] = {}
    line: str | None = first
    for tag in BLOCKS:
        if line is None:
            raise _Truncated
        m = _OPEN.match(line)
        if not m or m.group(1) != tag:
            raise lines.error(f"expected block '{tag}: [', found {line[:60]!r}")
        rows: list[list[float]] = []
        while True:
            row = lines.next()
            if row is None:
                raise _Truncated
            if row == "]":
                break
            tokens = row.split()
            if not tokens:
                raise lines.error(f"empty row in block '{tag}'")
            vals = [_number(t, lines) for t in tokens]
            if rows and len(vals) != len(rows[0]):
                raise lines.error(f"row of {len(vals)} values in block '{tag}', the previous rows have {len(rows[0])}")
            rows.append(vals)
        if not rows:
            raise lines.error(f"block '{tag}' has no rows")
        group[tag] = np.asarray(rows, dtype=np.float64)
        if tag != BLOCKS[-1]:
            line = lines.next()
    n = group["b"].shape[1]
    for tag, arr in group.items():
        if tag in ("b", "grad b") and arr.shape[0] != 1:
            raise lines.error(f"block '{tag}' should be one row, has {arr.shape[0]}")
        if arr.shape[1] != n:
            raise lines.error(f"block '{tag}' has {arr.shape[1]} columns, block 'b' has {n}")
    if group["grad w"].shape != group["W"].shape:
        raise lines.error(f"block 'grad w' is {group['grad w'].shape}, block 'W' is {group['W'].shape}")
    return group


def convert(
    src_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    importance: float = 0.7,
    feature_probability: float = 0.1,
    seed: int | None = None,
    force: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> ImportResult:
    """Convert a seed 002 C log into an animsup run log at ``out_path`` (written atomically)."""
    from animsup.atomic import atomic_path

    if not 0 < feature_probability <= 1:
        raise AnimsupError(f"--feature-probability must be in (0, 1], got {feature_probability}")
    if not importance > 0:
        raise AnimsupError(f"--importance must be positive, got {importance}")
    if os.path.exists(out_path) and not force:
        raise AnimsupError(f"{out_path} already exists (pass --force to overwrite it)")
    src = os.fspath(src_path)
    with atomic_path(out_path) as tmp:
        conv = _Conversion(src, tmp, importance=importance, feature_probability=feature_probability, seed=seed)
        records = parse(src, progress)
        for rec in records:
            if rec[0] == "loss":
                conv.loss(rec[1], rec[2])
            elif rec[0] == "blocks":
                if not conv.blocks(rec[1], rec[2]):
                    records.close()
                    break
            elif rec[0] == "seconds":
                conv.seconds = rec[2]
            else:
                conv.end(rec[1], rec[2])
        end_step, (m, n) = conv.finish()
    return ImportResult(os.fspath(out_path), conv.status, n, m, end_step, conv.n_snap, conv.n_loss, conv.notes)


class _Conversion:
    """One C log being written as an animsup log: the writer (opened at the first block group,
    when N and M become known), the losses not yet written, and the snapshot waiting for the
    loss of the next run."""

    def __init__(self, src: str, tmp: str, *, importance: float, feature_probability: float, seed: int | None):
        self.src, self.tmp = src, tmp
        self.importance, self.feature_probability, self.seed = importance, feature_probability, seed
        self.writer: LogWriter | None = None
        self.losses: list[float] = []  # loss of runs loss_start, loss_start+1, ...
        self.loss_start = 0
        self.pending: tuple[int, np.ndarray, np.ndarray] | None = None  # (step, W, b)
        self.n_snap, self.n_loss, self.last_run = 0, 0, -1
        self.status = "completed"
        self.seconds: float | None = None
        self.shape: tuple[int, int] | None = None
        self.last_loss = 0.0  # the latest finite loss (losses is emptied as records are written)
        self.bad_loss = "NaN"
        self.notes: list[str] = []

    def loss(self, run: int, v: float) -> None:
        self.last_run = run
        if not math.isfinite(v):
            self.bad_loss = _nonfinite(v)
            return  # the end record ("diverged") follows
        self.losses.append(v)
        self.n_loss, self.last_loss = self.n_loss + 1, v
        if self.pending is not None:
            self._write_pending(v)
        self._flush_losses()

    def blocks(self, run: int, group: dict[str, np.ndarray]) -> bool:
        """A block group after ``run``; False when its weights diverged (the import stops)."""
        W, b = group["W"], group["b"][0]
        if self.shape is None:
            self.shape = (W.shape[0], W.shape[1])
            self.writer = self._open(W.shape[0], W.shape[1])
        elif W.shape != self.shape:
            m, n = self.shape
            raise AnimsupError(f"{self.src}: run {run}: W is {W.shape[0]}x{W.shape[1]}, earlier blocks were {m}x{n}")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            self.status = "diverged"
            self.notes.append(f"{_nonfinite(np.concatenate([W.ravel(), b.ravel()]))} in the weights after run {run}: "
                              "stopped there (status diverged)")
            return False
        if self.pending is not None:  # two block groups without a run between them
            self._write_pending(self.last_loss)
        self.pending = (run + 1, W, b)
        return True

    def end(self, how: str, line: int) -> None:
        if how == "diverged" and self.status != "diverged":
            self.status = "diverged"
            self.notes.append(f"{self.bad_loss} loss at run {self.last_run}: stopped there (status diverged)")
        elif how == "interrupted":
            self.status = "interrupted"
            self.notes.append(f"the file ends mid-run or mid-block at line {line}: imported what is complete")
            warnings.warn(f"{self.src}:{line}: the file is cut off; imported runs 0..{self.last_run}", LogWarning, stacklevel=3)

    def finish(self) -> tuple[int, tuple[int, int]]:
        """Write what is pending and the end record; returns the end step and (M, N)."""
        if self.writer is None or self.shape is None:
            raise AnimsupError(f"{self.src}: no complete b/W/grad w/grad b block group, so N and M are unknown "
                               "(the C program prints them after run 99; is the log that short?)")
        if self.pending is not None:  # the file ended right after a block group: use the last run's loss
            self._write_pending(self.last_loss)
        self._flush_losses(final=True)
        end_step = self.last_run if self.status == "diverged" else self.last_run + 1
        seconds = self.seconds
        self.writer.end(self.status, end_step, seconds if seconds is not None else 0.0, source_wall_seconds=seconds)
        self.writer.close()
        return end_step, self.shape

    def _open(self, m: int, n: int) -> LogWriter:
        from animsup.log.schema import make_header
        from animsup.log.writer import LogWriter

        header = make_header(
            n_features=n, n_hidden=m, model="tied",
            feature_probability=[self.feature_probability], seed=[self.seed],
            importance=self.importance ** np.arange(n),
            config=_config(self.src, (m, n), self.importance, self.feature_probability, self.seed),
            importance_source="assumed: not in the C log, set by import --importance",
            imported_from={"format": "c-log", "path": os.path.abspath(self.src)},
        )
        return LogWriter(self.tmp, header, force=True)

    def _flush_losses(self, final: bool = False) -> None:
        while self.writer is not None and (len(self.losses) >= LOSS_CHUNK or (final and self.losses)):
            chunk = self.losses[:LOSS_CHUNK]
            self.writer.losses(self.loss_start, 1, np.asarray(chunk, dtype=np.float32)[:, None])
            self.loss_start += len(chunk)
            self.losses = self.losses[len(chunk):]

    def _write_pending(self, loss: float) -> None:
        assert self.pending is not None and self.writer is not None
        step, W, b = self.pending
        self.writer.snapshot(step, [loss], W[None], b[None])
        self.pending, self.n_snap = None, self.n_snap + 1


def _nonfinite(values: float | np.ndarray) -> str:
    """How to name the first non-finite value: "NaN", "inf" or "-inf" (C prints all three)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    bad = v[~np.isfinite(v)]
    if not len(bad) or np.isnan(bad[0]):
        return "NaN"
    return "inf" if bad[0] > 0 else "-inf"


def _config(src: str, shape: tuple[int, int], importance: float, feature_probability: float,
            seed: int | None) -> dict[str, object]:
    """What is known about the C run, in TrainConfig's vocabulary."""
    return {
        "n_features": int(shape[1]),
        "n_hidden": int(shape[0]),
        "model": "tied",
        "init": "blog",
        "feature_probability": [float(feature_probability)],
        "seeds": [seed],
        "importance": float(importance),
        "optimizer": "sgd",
        "backend": "c",
        "gradient": "blog",
        "loss_reduction": "half-sum",
        "imported": True,
        "assumed": ["importance", "feature_probability"],
    }
