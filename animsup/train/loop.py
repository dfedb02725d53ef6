"""The training loop: train a batch of toy models and write their run log.

One loop for both backends. Step ``s`` of the loop::

    loss_s = loss of the params after s updates on batch s   (and its gradient)
    record loss_s every `loss_every` steps; at snapshot steps write losses, then the snapshot
    update the params with lr_at(s)                            (skipped at the last step)

so the last step evaluates one extra batch without updating (the log convention in
animsup/log/writer.py). Losses stay on the device between snapshots: no host sync per step.

Snapshots and loss rows are buffered on the device for at most ``_FLUSH_SECONDS`` and then
written together (one transfer, whole lines), so logging costs little even when a step
takes 100 µs; a SIGKILLed run loses at most that window.

Robustness:
- SIGINT/SIGTERM finish the current step, write a snapshot and a checkpoint, end the log
  with status "interrupted" (a second signal stops at once, still ending the log).
- A NaN/inf loss stops the run with status "diverged"; nothing non-finite is written.
- A write error (disk full) raises AnimsupError; the log keeps every complete line.
- A checkpoint (``LOG.ckpt``: params, optimiser state, RNG state, atomic) is written at a
  snapshot step at most every ``checkpoint_seconds`` and at the end. :func:`resume`
  restarts from it and silently replays up to the log's last snapshot, so a resumed run is
  identical to an uninterrupted one on the CPU.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Generic, Protocol

import numpy as np

from animsup.errors import AnimsupError
from animsup.log.reader import open_log, read_header
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.train.config import TrainConfig
from animsup.train.engine import Engine, P, R
from animsup.train.optim import lr_at


CHECKPOINT_SUFFIX = ".ckpt"
CHECKPOINT_FORMAT = "animsup.ckpt"
CHECKPOINT_VERSION = 3  # 3: one data stream per instance (animsup.train.data); 2: one SFC64 generator per block
_LOSS_CHUNK = 1000  # loss rows kept on the device before they are written anyway
_FLUSH_SECONDS = 0.25  # snapshots are batched for at most this long (one transfer and write burst)


class Progress(Protocol):
    """``progress(step, total, loss=mean_loss)``: the CLI's progress bar."""

    def __call__(self, step: int, total: int, *, loss: float) -> None: ...


@dataclass
class TrainResult:
    """What :func:`train` returns.

    :param final_loss: (shape: [n_instances]) loss at the last written snapshot
    :param W: (shape: [n_instances, n_hidden, n_features]) params at that snapshot (b, W_dec alike)
    """

    status: str  # "completed" | "interrupted" | "diverged"
    step: int
    final_loss: np.ndarray
    wall_seconds: float
    log_path: str
    config: TrainConfig
    W: np.ndarray | None = None
    b: np.ndarray | None = None
    W_dec: np.ndarray | None = None
    device: str = "cpu"
    start_step: int = 0  # the step this session started from (a resumed run: its checkpoint's step)

    def __repr__(self) -> str:  # short: the arrays as shapes, the losses summarised
        loss = np.asarray(self.final_loss, dtype=np.float64)
        shape = "x".join(map(str, self.W.shape)) if self.W is not None else "none"
        return (f"TrainResult(status={self.status!r}, step={self.step}, instances={loss.size}, "
                f"final_loss min {np.nanmin(loss):.4g} / max {np.nanmax(loss):.4g}, W {shape}, "
                f"{self.wall_seconds:.1f} s, log={self.log_path!r})") if loss.size else (
                f"TrainResult(status={self.status!r}, step={self.step}, log={self.log_path!r})")


def snapshot_steps(steps: int, every: int | None = None, snapshots: int = 200, schedule: str = "log") -> np.ndarray:
    """Sorted unique snapshot steps in [0, steps], always with 0 and ``steps``.

    ``every`` k: 0, k, 2k, ... ``schedule="log"``: ``snapshots`` steps spaced evenly in
    log(step) (dense early, where the dynamics are fast); gaps of at least one step.
    """
    if every is not None:
        out = list(range(0, steps + 1, every))
    elif snapshots >= steps + 1:
        out = list(range(steps + 1))
    elif schedule == "linear":
        out = np.unique(np.round(np.linspace(0, steps, snapshots)).astype(np.int64)).tolist()
    else:
        out, n_rest = [0], snapshots - 1
        for i, t in enumerate(np.geomspace(1, steps, max(n_rest, 1))):
            left = n_rest - i  # keep room so the schedule can still reach `steps`
            v = min(max(int(round(t)), out[-1] + 1), steps - left + 1)
            if v > out[-1]:
                out.append(v)
    if out[-1] != steps:
        out.append(steps)
    return np.asarray(out, dtype=np.int64)


def make_engine(cfg: TrainConfig) -> Engine[Any, Any]:
    """The backend's :class:`animsup.train.engine.Engine` (params, data, optimiser, and the device it
    runs on). Its loss records and parameter copies are the backend's arrays (numpy or torch), which
    the loop passes back to it unopened."""
    if cfg.resolved_backend() == "numpy":
        from animsup.train.numpy_model import NumpyEngine

        numpy_engine: Engine[np.ndarray, np.ndarray] = NumpyEngine(cfg)
        return numpy_engine
    import torch

    from animsup.train.model import TorchEngine, resolve_device

    engine = TorchEngine(cfg, resolve_device(cfg.device))
    # the sparse CPU step runs `threads` block threads of one intra-op thread each; elsewhere torch's
    # own intra-op threads (on 2 busy cores two of those were up to 30x slower than one: default 1)
    torch.set_num_threads(cfg.threads if isinstance(cfg.threads, int) and not engine.blockwise else 1)
    torch_engine: Engine[torch.Tensor, torch.Tensor] = engine
    return torch_engine


def header_for(cfg: TrainConfig, device: str) -> dict[str, Any]:
    """The log header (schema v2) of a run of ``cfg``: importance
    (shape: [n_instances, n_features]), feature_probability (shape: [n_instances, n_features]; stage 0's
    for a staged run), the ``data`` object and the ``stages`` list (docs/log-format.md)."""
    stages = [{"start_step": int(start), "feature_probability": cfg.probability_matrix(j).tolist(),
               "note": f"stage {j + 1} of {len(cfg.stages)}: new {cfg.optimizer} optimiser"}
              for j, start in enumerate(cfg.stage_starts())] if cfg.stages else None
    return make_header(n_features=cfg.n_features, n_hidden=cfg.n_hidden, model=cfg.model,
                       feature_probability=cfg.probability_matrix().tolist(), seed=cfg.instance_seeds(),
                       importance=cfg.importance_matrix().tolist(), config=cfg.to_dict(),
                       data=cfg.data_spec().header(), stages=stages, device=device, started=_now())


def checkpoint_path(log_path: str | os.PathLike[str]) -> str:
    return os.fspath(log_path) + CHECKPOINT_SUFFIX


def train(cfg: TrainConfig, log_path: str | os.PathLike[str], *, force: bool = False, progress: Progress | None = None,
          checkpoint_seconds: float = 10.0) -> TrainResult:
    """Train ``cfg.n_instances`` models in one batched program and write the log at ``log_path``.

    :param progress: ``progress(step, total, loss=mean_loss)`` callback (the CLI's tqdm bar)
    :raises AnimsupError: bad config, existing log without ``force``, write errors
    """
    cfg.validate()
    log_path = os.fspath(log_path)
    engine = make_engine(cfg)
    # the old log (and its checkpoint) stay until the new log has its first snapshot
    writer = LogWriter(log_path, header_for(cfg, engine.device), force=force,
                       on_replace=lambda: _remove_stale_checkpoint(checkpoint_path(log_path)))
    loop = _Loop(cfg, engine, writer, log_path, progress, checkpoint_seconds)
    return loop.run(start=0, logged_snapshot=-1, logged_loss=-1)


def _remove_stale_checkpoint(ckpt: str) -> None:
    """The checkpoint of a log that was just replaced (or removed) belongs to no run any more."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ckpt)


def resume(log_path: str | os.PathLike[str], *, steps: int | None = None, device: str | None = None,
           threads: int | str | None = None, progress: Progress | None = None, checkpoint_seconds: float = 10.0) -> TrainResult:
    """Continue the run in ``log_path`` (interrupted, killed or completed) up to ``steps`` in total.

    Restores params, optimiser and RNG state from ``LOG.ckpt`` (or starts again from step 0
    when there is none) and replays silently up to the log's last snapshot, then appends a
    ``resume`` record and the new snapshots to the same log.
    """
    log_path = os.fspath(log_path)
    header = read_header(log_path)
    cfg = TrainConfig.from_dict(header.config)
    last_snap, last_loss, end = _scan(log_path)
    if end is not None and end.get("status") == "diverged":
        raise AnimsupError(f"{log_path}: this run diverged at step {end.get('step')}; start a new run with a smaller --lr")
    ckpt_file = checkpoint_path(log_path)
    state = _load_checkpoint(ckpt_file, header.config) if os.path.exists(ckpt_file) else None
    if state is not None:
        cfg = cfg.replace(steps=int(state["meta"]["steps"]))
    total = cfg.steps if steps is None else steps
    if not isinstance(total, int) or total < 1:
        raise AnimsupError(f"--steps must be a positive integer, got {total!r}")
    if total < last_snap or (total == last_snap and end is not None):
        raise AnimsupError(f"{log_path}: the run is already at step {last_snap}; pass --steps N with N > {last_snap}")
    if cfg.stages and total != cfg.steps:
        raise AnimsupError(f"{log_path}: a staged run splits its --steps {cfg.steps} into stages; it cannot be "
                           f"resumed to another total")
    cfg = cfg.replace(steps=total)
    if device is not None:
        cfg = cfg.replace(device=device)
    if threads is not None:
        cfg = cfg.replace(threads=threads)
    cfg = cfg.validate()
    engine = make_engine(cfg)
    start = 0
    if state is not None:
        engine.load_state(state["arrays"])
        start = int(state["meta"]["step"])
    # LogWriter(append=True) locks the log, then drops a partial last line (never under a live writer)
    writer = LogWriter(log_path, {}, append=True)  # (appending: the log keeps its own header)
    writer.write({"type": "resume", "step": max(last_snap, 0), "from_step": start, "steps": total, "time": _now()})
    loop = _Loop(cfg, engine, writer, log_path, progress, checkpoint_seconds)
    return loop.run(start=start, logged_snapshot=last_snap, logged_loss=last_loss)


# --------------------------------------------------------------------------- the loop


class _Diverged(Exception):
    """A non-finite loss or parameter was about to be written at ``step`` (nothing from it on is)."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step


@dataclass(frozen=True)
class _StepPlan:
    """What step ``s`` of the loop does besides its update, decided before its batch is drawn."""

    snapshot: bool  # a snapshot step (scheduled, the last, or interrupted)
    write: bool  # ... not yet in the log (a resumed run replays logged steps silently)
    checkpoint: bool  # write the checkpoint after this step's lines
    record: bool  # record this step's loss row
    interrupted: bool  # a signal arrived: stop after this step
    now: float  # when the step began (snapshot steps only; else 0)
    rng: str | np.ndarray | None  # the data stream's state before this batch (checkpoint steps only)


class _Loop(Generic[R, P]):
    """One training session over an :class:`animsup.train.engine.Engine`, from ``start`` to ``cfg.steps``."""

    def __init__(self, cfg: TrainConfig, engine: Engine[R, P], writer: LogWriter, log_path: str,
                 progress: Progress | None, checkpoint_seconds: float):
        self.cfg, self.engine, self.writer, self.log_path = cfg, engine, writer, log_path
        self.progress = progress
        self.checkpoint_seconds = checkpoint_seconds
        self.flush_seconds = _FLUSH_SECONDS
        self.stop_signal: int | None = None
        self.step = 0
        self.loss_steps: list[int] = []  # pending loss rows (kept in the engine's loss buffer) ...
        self.snaps: list[tuple[int, R, P]] = []  # ... and pending snapshots: (step, loss record, params copy)
        self.last: tuple[int, np.ndarray, dict[str, np.ndarray]] | None = None  # the last written snapshot
        # the schedule: stage starts (every one a snapshot) and snapshot steps
        self.starts = cfg.stage_starts()
        self.snapshot_at = np.union1d(snapshot_steps(cfg.steps, cfg.every, cfg.snapshots, cfg.snapshot_schedule),
                                      self.starts)
        self.stage = self.k = self.next_snap = 0
        self.logged_snapshot = self.logged_loss = -1
        self.last_ckpt = self.last_flush = self.last_report = 0.0

    def run(self, start: int, logged_snapshot: int, logged_loss: int) -> TrainResult:
        t0 = time.perf_counter()
        self.logged_snapshot, self.logged_loss = logged_snapshot, logged_loss
        restore = self._install_signal_handlers()
        status, step = "completed", start
        try:
            # a diverging run overflows in numpy before its loss turns non-finite; the divergence
            # check (in _flush) reports it in one clear line, so numpy's own warnings stay quiet
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                status, step = self._steps(start, logged_snapshot, logged_loss)
        except _Diverged as d:
            status, step = "diverged", d.step
        except KeyboardInterrupt:  # a second signal, or Ctrl-C outside the main thread's handler
            status, step = "interrupted", self._last_written_step()
        except AnimsupError as e:
            replacing = self.writer.replacing
            self.writer.close()
            if replacing:  # the new log never got a snapshot: its temp is gone, the old log is untouched
                raise AnimsupError(f"{e} — training stopped at step {self.step}, before its first snapshot; "
                                   f"{self.log_path} was not replaced") from None
            raise AnimsupError(
                f"{e} — training stopped at step {self.step}; the log keeps every complete line "
                f"(continue later with: animsup train --resume {self.log_path})"
            ) from None
        finally:
            restore()
            self.engine.close()
        wall = time.perf_counter() - t0
        try:
            self.writer.end(status, step, wall)
        finally:
            self.writer.close()
        _, loss, params = self.last if self.last else (step, np.full(self.cfg.n_instances, np.nan), {})
        return TrainResult(status=status, step=step, final_loss=loss, wall_seconds=wall, log_path=self.log_path,
                           config=self.cfg, W=params.get("W"), b=params.get("b"), W_dec=params.get("W_dec"),
                           device=self.engine.device, start_step=start)

    def _steps(self, start: int, logged_snapshot: int, logged_loss: int) -> tuple[str, int]:
        """Steps ``start``..``cfg.steps``: each draws a batch and takes its gradient, keeps what the log
        needs, writes when due, reports progress and updates the params (all but the last)."""
        total = self.cfg.steps
        self._begin(start, logged_snapshot, logged_loss)
        for s in range(start, total + 1):
            self.step = s
            self._apply_stage(s, start)
            plan = self._plan(s)
            loss = self.engine.loss_and_grad(need_loss=plan.record or plan.write)
            self._keep(s, loss, plan)
            flushed = self._flush_if_due(s, plan)  # (raises _Diverged)
            if plan.interrupted:
                return "interrupted", self._last_written_step()
            self._report(s, flushed)
            if s == total:
                break
            self._update(s)
        return "completed", total

    # ------------------------------------------------------------------ the named steps

    def _begin(self, start: int, logged_snapshot: int, logged_loss: int) -> None:
        """Position the schedule at ``start``: its stage (and optimiser), next snapshot and clocks."""
        self.logged_snapshot, self.logged_loss = logged_snapshot, logged_loss
        self.stage = int(np.searchsorted(self.starts, start, side="right")) - 1
        if self.cfg.stages:
            self.engine.set_stage(self.stage, new_optimizer=start == self.starts[self.stage] and start > 0)
        self.k = int(np.searchsorted(self.snapshot_at, start))
        self.next_snap = int(self.snapshot_at[self.k])
        self.last_ckpt = -math.inf if start <= logged_snapshot else time.perf_counter()
        self.last_flush = self.last_report = time.perf_counter()

    def _apply_stage(self, s: int, start: int) -> None:
        """At a stage start (after the first step of this session): the next stage, a new optimiser."""
        nxt = self.stage + 1
        if s > start and nxt < len(self.starts) and s == self.starts[nxt]:
            self.stage = nxt
            self.engine.set_stage(nxt, new_optimizer=True)

    def _plan(self, s: int) -> _StepPlan:
        """Decide whether step ``s`` snapshots, checkpoints and records its loss; move the schedule
        to the next snapshot step."""
        total = self.cfg.steps
        interrupted = self.stop_signal is not None
        snapshot = s == self.next_snap or s == total or interrupted
        write = snapshot and s > self.logged_snapshot
        now = time.perf_counter() if write else 0.0
        checkpoint = (self.cfg.checkpoint and write
                      and (s == total or interrupted or now - self.last_ckpt >= self.checkpoint_seconds))
        rng = self.engine.rng_state() if checkpoint else None
        if snapshot:
            while self.k < len(self.snapshot_at) and self.snapshot_at[self.k] <= s:
                self.k += 1
            self.next_snap = int(self.snapshot_at[self.k]) if self.k < len(self.snapshot_at) else total
        record = s % self.cfg.loss_every == 0 and s > self.logged_loss
        return _StepPlan(snapshot, write, checkpoint, record, interrupted, now, rng)

    def _keep(self, s: int, loss: R | None, plan: _StepPlan) -> None:
        """Keep this step's loss row and snapshot on the device until the next flush."""
        if loss is None:  # (no loss was asked for: the step neither records nor snapshots)
            return
        if plan.record:
            self.engine.keep_loss(len(self.loss_steps), loss, _LOSS_CHUNK)
            self.loss_steps.append(s)
        if plan.write:
            self.snaps.append((s, loss, self.engine.param_copy()))

    def _flush_if_due(self, s: int, plan: _StepPlan) -> bool:
        """Write the pending lines at a snapshot step that checkpoints, ends the run or comes
        ``flush_seconds`` after the last write (or when the loss buffer is full), then the checkpoint."""
        due = plan.write and (plan.checkpoint or s == self.cfg.steps or plan.now - self.last_flush >= self.flush_seconds)
        if not (due or len(self.loss_steps) >= _LOSS_CHUNK):
            return False
        self._flush()
        self._checkpoint_if_due(s, plan)
        self.last_flush = time.perf_counter()
        return True

    def _checkpoint_if_due(self, s: int, plan: _StepPlan) -> None:
        """After the lines: a run killed in between resumes by replaying."""
        if plan.checkpoint and plan.rng is not None:
            self._save_checkpoint(s, plan.rng)
            self.last_ckpt = plan.now

    def _report(self, s: int, flushed: bool) -> None:
        """Progress (the last written snapshot's mean loss) every 32 steps at most every 0.1 s, and at every write."""
        if self.progress is None or not (s & 31 == 0 or flushed):
            return
        t = time.perf_counter()
        if t - self.last_report > 0.1 or flushed:
            self.last_report = t
            self.progress(s, self.cfg.steps, loss=float(np.mean(self.last[1])) if self.last else math.nan)

    def _update(self, s: int) -> None:
        """The optimiser step, with the learning rate of step ``s`` of its stage."""
        cfg, starts, stage = self.cfg, self.starts, self.stage
        stage_end = starts[stage + 1] if stage + 1 < len(starts) else cfg.steps
        self.engine.update_(lr_at(s - starts[stage], stage_end - starts[stage], cfg.lr, cfg.lr_schedule))

    def _last_written_step(self) -> int:
        return self.last[0] if self.last else max(self.logged_snapshot, 0)

    # ------------------------------------------------------------------ writing

    def _flush(self) -> None:
        """Write the buffered loss rows and snapshots (one device transfer for all of them).

        :raises _Diverged: at the step of the first non-finite loss or parameter (nothing from it on
            is written)
        """
        engine = self.engine
        n_rows = len(self.loss_steps)
        if not n_rows and not self.snaps:
            return
        losses = engine.losses_to_numpy(engine.kept_losses(n_rows) + [loss for _, loss, _ in self.snaps])
        rows, snap_loss = losses[:n_rows], losses[n_rows:]
        params = engine.params_to_numpy([p for _, _, p in self.snaps])
        loss_steps, snap_steps = self.loss_steps, [s for s, _, _ in self.snaps]
        self.loss_steps, self.snaps = [], []
        bad = [loss_steps[i] for i in np.flatnonzero(~np.isfinite(rows).all(1))[:1]]
        bad += [s for s, l, p in zip(snap_steps, snap_loss, params)
                if not (np.isfinite(l).all() and np.isfinite(p["flat"]).all())][:1]
        bad_step = min(bad) if bad else None
        n_ok = n_rows if bad_step is None else int(np.searchsorted(loss_steps, bad_step))
        if n_ok:
            self.writer.losses(loss_steps[0], self.cfg.loss_every, rows[:n_ok])
        for s, l, p in zip(snap_steps, snap_loss, params):
            if bad_step is not None and s >= bad_step:
                break
            self.writer.snapshot(s, l, p["W"], p["b"], p.get("W_dec"))
            self.last = (s, l, p)
        if bad_step is not None:
            raise _Diverged(bad_step)

    def _save_checkpoint(self, s: int, rng: str | np.ndarray) -> None:
        from animsup.atomic import atomic_path

        meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": s, "steps": self.cfg.steps,
                "config": self.cfg.to_dict()}
        # (Any: numpy's stub gives savez's keywords the type of its allow_pickle flag)
        arrays: dict[str, Any] = {"meta": np.asarray(json.dumps(meta)), **self.engine.state(rng)}
        try:
            with atomic_path(checkpoint_path(self.log_path)) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, **arrays)
        except OSError as e:
            raise AnimsupError(f"{checkpoint_path(self.log_path)}: cannot write checkpoint: {e.strerror or e}") from None

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT/SIGTERM: stop after the current step (a second one: stop now). Main thread only."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: FrameType | None) -> None:
            if self.stop_signal is not None:
                raise KeyboardInterrupt
            self.stop_signal = signum

        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, h in old.items():
                signal.signal(sig, h)

        return restore


# --------------------------------------------------------------------------- resume helpers


def _scan(log_path: str) -> tuple[int, int, dict | None]:
    """(last snapshot step, last loss step, end record) of an existing log (validates it)."""
    last_snap, last_loss = -1, -1
    with open_log(log_path) as r:
        for kind, _, item in r.iter_all():
            if kind == "snapshot":
                last_snap = item.step
            elif len(item[0]):
                last_loss = int(item[0][-1])
        end = r.end
    return last_snap, last_loss, end


def _load_checkpoint(path: str, header_config: dict) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError) as e:
        raise AnimsupError(f"{path}: unreadable checkpoint ({e}); move it away to resume from step 0") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise AnimsupError(f"{path}: not an animsup checkpoint")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise AnimsupError(f"{path}: checkpoint version {meta.get('version')} (this animsup writes {CHECKPOINT_VERSION}: "
                           f"its data stream differs); move it away to resume by replaying the log from step 0")
    a = {k: v for k, v in meta.get("config", {}).items() if k != "steps"}
    b = {k: v for k, v in header_config.items() if k != "steps"}
    if a != b:
        raise AnimsupError(f"{path}: the checkpoint belongs to a different run than {path[: -len(CHECKPOINT_SUFFIX)]}")
    return {"meta": meta, "arrays": arrays}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
