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

import numpy as np

from animsup.errors import AnimsupError, LogFormatError, LogWarning
from animsup.importers import ImportResult

BLOCKS = ("b", "W", "grad w", "grad b")
_RUN = re.compile(r"run: (-?\d+)$")
_LOSS = re.compile(r"L: (\S+)$")
_OPEN = re.compile(r"(b|W|grad w|grad b): \[$")
LOSS_CHUNK = 1000  # loss values per loss record


class _Truncated(Exception):
    """The file ended inside a run or a block."""


def parse(src_path, progress=None):
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

    def __init__(self, f, path):
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


def _read_group(lines: _Lines, first: str) -> dict:
    """The four blocks b, W, grad w, grad b, starting at the already-read line ``first``."""
    group = {}
    line = first
    for tag in BLOCKS:
        if line is None:
            raise _Truncated
        m = _OPEN.match(line)
        if not m or m.group(1) != tag:
            raise lines.error(f"expected block '{tag}: [', found {line[:60]!r}")
        rows = []
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
    src_path,
    out_path,
    *,
    importance: float = 0.7,
    feature_probability: float = 0.1,
    seed: int | None = None,
    force: bool = False,
    progress=None,
) -> ImportResult:
    """Convert a seed 002 C log into an animsup run log at ``out_path`` (written atomically)."""
    from animsup.atomic import atomic_path
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    if not 0 < feature_probability <= 1:
        raise AnimsupError(f"--feature-probability must be in (0, 1], got {feature_probability}")
    if not importance > 0:
        raise AnimsupError(f"--importance must be positive, got {importance}")
    if os.path.exists(out_path) and not force:
        raise AnimsupError(f"{out_path} already exists (pass --force to overwrite it)")
    src = os.fspath(src_path)
    notes: list[str] = []
    with atomic_path(out_path) as tmp:
        writer = None
        losses: list[float] = []  # loss of runs loss_start, loss_start+1, ...
        loss_start = 0
        pending = None  # (step, W, b) waiting for the loss of the next run
        n_snap, n_loss, last_run, status, seconds, shape = 0, 0, -1, "completed", None, None
        last_loss = 0.0  # the latest finite loss (losses is emptied as records are written)

        def flush_losses(final=False):
            nonlocal loss_start, losses
            while writer is not None and (len(losses) >= LOSS_CHUNK or (final and losses)):
                chunk = losses[:LOSS_CHUNK]
                writer.losses(loss_start, 1, np.asarray(chunk, dtype=np.float32)[:, None])
                loss_start += len(chunk)
                losses = losses[len(chunk):]

        def write_pending(loss):
            nonlocal pending, n_snap
            step, W, b = pending
            writer.snapshot(step, [loss], W[None], b[None])
            pending, n_snap = None, n_snap + 1

        bad_loss = "NaN"
        records = parse(src, progress)
        for kind, a, v in records:
            if kind == "loss":
                last_run = a
                if not math.isfinite(v):
                    bad_loss = _nonfinite(v)
                    continue  # the end record ("diverged") follows
                losses.append(v)
                n_loss, last_loss = n_loss + 1, v
                if pending is not None:
                    write_pending(v)
                flush_losses()
            elif kind == "blocks":
                W, b = v["W"], v["b"][0]
                if shape is None:
                    shape = W.shape
                    header = make_header(
                        n_features=W.shape[1], n_hidden=W.shape[0], model="tied",
                        feature_probability=[feature_probability], seed=[seed],
                        importance=importance ** np.arange(W.shape[1]),
                        config=_config(src, W.shape, importance, feature_probability, seed),
                        importance_source="assumed: not in the C log, set by import --importance",
                        imported_from={"format": "c-log", "path": os.path.abspath(src)},
                    )
                    writer = LogWriter(tmp, header, force=True)
                elif W.shape != shape:
                    raise AnimsupError(f"{src}: run {a}: W is {W.shape[0]}x{W.shape[1]}, earlier blocks were {shape[0]}x{shape[1]}")
                if not (np.isfinite(W).all() and np.isfinite(b).all()):
                    status = "diverged"
                    notes.append(f"{_nonfinite(np.concatenate([W.ravel(), b.ravel()]))} in the weights after run {a}: "
                                 "stopped there (status diverged)")
                    records.close()
                    break
                if pending is not None:  # two block groups without a run between them
                    write_pending(last_loss)
                pending = (a + 1, W, b)
            elif kind == "seconds":
                seconds = v
            else:  # end
                if a == "diverged" and status != "diverged":
                    status = "diverged"
                    notes.append(f"{bad_loss} loss at run {last_run}: stopped there (status diverged)")
                elif a == "interrupted":
                    status = "interrupted"
                    notes.append(f"the file ends mid-run or mid-block at line {v}: imported what is complete")
                    warnings.warn(f"{src}:{v}: the file is cut off; imported runs 0..{last_run}", LogWarning, stacklevel=2)
        if writer is None:
            raise AnimsupError(f"{src}: no complete b/W/grad w/grad b block group, so N and M are unknown "
                               "(the C program prints them after run 99; is the log that short?)")
        if pending is not None:  # the file ended right after a block group: use the last run's loss
            write_pending(last_loss)
        flush_losses(final=True)
        end_step = last_run if status == "diverged" else last_run + 1
        writer.end(status, end_step, seconds if seconds is not None else 0.0, source_wall_seconds=seconds)
        writer.close()
    return ImportResult(os.fspath(out_path), status, shape[1], shape[0], end_step, n_snap, n_loss, notes)


def _nonfinite(values) -> str:
    """How to name the first non-finite value: "NaN", "inf" or "-inf" (C prints all three)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    bad = v[~np.isfinite(v)]
    if not len(bad) or np.isnan(bad[0]):
        return "NaN"
    return "inf" if bad[0] > 0 else "-inf"


def _config(src, shape, importance, feature_probability, seed) -> dict:
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
