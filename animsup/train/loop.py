"""The training loop: train a batch of toy models and write their run log.

One loop for both backends. Step ``s`` of the loop::

    loss_s = loss of the params after s updates on batch s   (and its gradient)
    record loss_s every `loss_every` steps; at snapshot steps write losses, then the snapshot
    update the params with lr_at(s)                            (skipped at the last step)

so the last step evaluates one extra batch without updating (the log convention in
animsup/runlog.py). Losses stay on the device between snapshots: no host sync per step.

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

import datetime as _dt
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np

from animsup.errors import AnimsupError
from animsup.log.reader import open_log, read_header
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.train.config import TrainConfig
from animsup.train.optim import lr_at

CHECKPOINT_SUFFIX = ".ckpt"
CHECKPOINT_FORMAT = "animsup.ckpt"
CHECKPOINT_VERSION = 2  # 2: the CPU data stream is drawn in blocks, one SFC64 generator each (animsup.train.data)
_LOSS_CHUNK = 1000  # loss rows kept on the device before they are written anyway
_FLUSH_SECONDS = 0.25  # snapshots are batched for at most this long (one transfer and write burst)


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


def make_engine(cfg: TrainConfig):
    """The backend's engine (params, data, optimiser) and the device it runs on."""
    if cfg.resolved_backend() == "numpy":
        from animsup.train.numpy_model import NumpyEngine

        return NumpyEngine(cfg)
    import torch

    from animsup.train.model import TorchEngine, resolve_device

    engine = TorchEngine(cfg, resolve_device(cfg.device))
    # the sparse CPU step runs `threads` block threads of one intra-op thread each; elsewhere torch's
    # own intra-op threads (on 2 busy cores two of those were up to 30x slower than one: default 1)
    torch.set_num_threads(1 if engine.blockwise or cfg.threads == "auto" else cfg.threads)
    return engine


def header_for(cfg: TrainConfig, device: str) -> dict:
    """The log header (schema v2) of a run of ``cfg``: importance
    (shape: [n_instances, n_features]), feature_probability (shape: [n_instances, n_features]; stage 0's
    for a staged run), the ``data`` object and the ``stages`` list (docs/log-format.md)."""
    extra = {"data": cfg.data_spec().header()}
    if cfg.stages:
        extra["stages"] = [{"start_step": int(start), "feature_probability": cfg.probability_matrix(j).tolist(),
                            "note": f"stage {j + 1} of {len(cfg.stages)}: new {cfg.optimizer} optimiser"}
                           for j, start in enumerate(cfg.stage_starts())]
    common = dict(n_features=cfg.n_features, n_hidden=cfg.n_hidden, model=cfg.model, seed=cfg.instance_seeds(),
                  config=cfg.to_dict(), device=device, started=_now(), **extra)
    return make_header(feature_probability=cfg.probability_matrix().tolist(),
                       importance=cfg.importance_matrix().tolist(), **common)


def checkpoint_path(log_path: str | os.PathLike) -> str:
    return os.fspath(log_path) + CHECKPOINT_SUFFIX


def train(cfg: TrainConfig, log_path: str | os.PathLike, *, force: bool = False, progress=None,
          checkpoint_seconds: float = 10.0) -> TrainResult:
    """Train ``cfg.n_instances`` models in one batched program and write the log at ``log_path``.

    :param progress: ``progress(step, total, loss=mean_loss)`` callback (the CLI's tqdm bar)
    :raises AnimsupError: bad config, existing log without ``force``, write errors
    """
    cfg.validate()
    log_path = os.fspath(log_path)
    engine = make_engine(cfg)
    writer = LogWriter(log_path, header_for(cfg, engine.device), force=force)
    ckpt = checkpoint_path(log_path)
    if os.path.exists(ckpt):  # a stale checkpoint of an overwritten log
        os.unlink(ckpt)
    loop = _Loop(cfg, engine, writer, log_path, progress, checkpoint_seconds)
    return loop.run(start=0, logged_snapshot=-1, logged_loss=-1)


def resume(log_path: str | os.PathLike, *, steps: int | None = None, device: str | None = None,
           threads: int | str | None = None, progress=None, checkpoint_seconds: float = 10.0) -> TrainResult:
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
    writer = LogWriter(log_path, None, append=True)
    writer.write({"type": "resume", "step": max(last_snap, 0), "from_step": start, "steps": total, "time": _now()})
    loop = _Loop(cfg, engine, writer, log_path, progress, checkpoint_seconds)
    return loop.run(start=start, logged_snapshot=last_snap, logged_loss=last_loss)


# --------------------------------------------------------------------------- the loop


class _Loop:
    def __init__(self, cfg, engine, writer, log_path, progress, checkpoint_seconds):
        self.cfg, self.engine, self.writer, self.log_path = cfg, engine, writer, log_path
        self.progress = progress
        self.checkpoint_seconds = checkpoint_seconds
        self.flush_seconds = _FLUSH_SECONDS
        self.stop_signal = None
        self.step = 0
        self.loss_steps: list[int] = []  # pending loss rows (device records, copied into one buffer) ...
        self.loss_buf = None  # [_LOSS_CHUNK, ...] on the device, allocated at the first record
        self.snaps: list = []  # ... and pending snapshots: (step, loss record, params copy)
        self.last = None  # (step, loss, params) of the last written snapshot

    def run(self, start: int, logged_snapshot: int, logged_loss: int) -> TrainResult:
        t0 = time.perf_counter()
        restore = self._install_signal_handlers()
        status, step = "completed", start
        try:
            # a diverging run overflows in numpy before its loss turns non-finite; the divergence
            # check (below) reports it in one clear line, so numpy's own warnings stay quiet
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                status, step = self._steps(start, logged_snapshot, logged_loss)
        except KeyboardInterrupt:  # a second signal, or Ctrl-C outside the main thread's handler
            status = "interrupted"
            step = self.last[0] if self.last else max(logged_snapshot, 0)
        except AnimsupError as e:
            self.writer.close()
            raise AnimsupError(
                f"{e} — training stopped at step {self.step}; the log keeps every complete line "
                f"(continue later with: animsup train --resume {self.log_path})"
            ) from None
        finally:
            restore()
            close = getattr(self.engine, "close", None)
            if close is not None:
                close()
        wall = time.perf_counter() - t0
        try:
            self.writer.end(status, step, wall)
        finally:
            self.writer.close()
        last_step, loss, params = self.last if self.last else (step, np.full(self.cfg.n_instances, np.nan), {})
        return TrainResult(status=status, step=step, final_loss=loss, wall_seconds=wall, log_path=self.log_path,
                           config=self.cfg, W=params.get("W"), b=params.get("b"), W_dec=params.get("W_dec"),
                           device=self.engine.device, start_step=start)

    def _steps(self, start: int, logged_snapshot: int, logged_loss: int) -> tuple[str, int]:
        cfg, engine = self.cfg, self.engine
        total, every = cfg.steps, cfg.loss_every
        starts = cfg.stage_starts()  # [0] unless staged; every stage start is a snapshot
        snaps = np.union1d(snapshot_steps(total, cfg.every, cfg.snapshots, cfg.snapshot_schedule), starts)
        stage = int(np.searchsorted(starts, start, side="right")) - 1
        if cfg.stages:
            engine.set_stage(stage, new_optimizer=start == starts[stage] and start > 0)
        k = int(np.searchsorted(snaps, start))
        next_snap = int(snaps[k])
        last_ckpt = -math.inf if start <= logged_snapshot else time.perf_counter()
        last_flush = last_report = time.perf_counter()
        for s in range(start, total + 1):
            self.step = s
            if s > start and stage + 1 < len(starts) and s == starts[stage + 1]:
                stage += 1
                engine.set_stage(stage, new_optimizer=True)
            interrupted = self.stop_signal is not None
            is_snap = s == next_snap or s == total or interrupted
            write_snap = is_snap and s > logged_snapshot  # (a resumed run replays logged steps silently)
            now = time.perf_counter() if write_snap else 0.0
            checkpoint = (cfg.checkpoint and write_snap
                          and (s == total or interrupted or now - last_ckpt >= self.checkpoint_seconds))
            rng = engine.rng_state() if checkpoint else None
            record = s % every == 0 and s > logged_loss
            loss = engine.loss_and_grad(need_loss=record or write_snap)
            if record:
                self._keep_loss(loss)
                self.loss_steps.append(s)
            if write_snap:
                self.snaps.append((s, loss, engine.param_copy()))
            if is_snap:
                while k < len(snaps) and snaps[k] <= s:
                    k += 1
                next_snap = int(snaps[k]) if k < len(snaps) else total
            if (write_snap and (checkpoint or s == total or now - last_flush >= self.flush_seconds)) or (
                len(self.loss_steps) >= _LOSS_CHUNK
            ):
                bad_step = self._flush()
                if bad_step is not None:
                    return "diverged", bad_step
                if checkpoint:  # after the lines: a run killed in between resumes by replaying
                    self._save_checkpoint(s, rng)
                    last_ckpt = now
                last_flush = time.perf_counter()
                flushed = True
            else:
                flushed = False
            if interrupted:
                return "interrupted", self.last[0] if self.last else max(logged_snapshot, 0)
            if self.progress is not None and (s & 31 == 0 or flushed):
                t = time.perf_counter()
                if t - last_report > 0.1 or flushed:
                    last_report = t
                    self.progress(s, total, loss=float(np.mean(self.last[1])) if self.last else math.nan)
            if s == total:
                break
            stage_end = starts[stage + 1] if stage + 1 < len(starts) else total
            engine.update_(lr_at(s - starts[stage], stage_end - starts[stage], cfg.lr, cfg.lr_schedule))
        return "completed", total

    def _flush(self) -> int | None:
        """Write the buffered loss rows and snapshots (one device transfer for all of them).

        Returns the step of the first non-finite loss or parameter (nothing from it on is
        written), or None.
        """
        engine = self.engine
        n_rows = len(self.loss_steps)
        if not n_rows and not self.snaps:
            return None
        rows_now = [self.loss_buf[i] for i in range(n_rows)]
        losses = engine.losses_to_numpy(rows_now + [loss for _, loss, _ in self.snaps])
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
        return bad_step

    def _keep_loss(self, loss) -> None:
        """Copy this step's loss record into the preallocated buffer, so the step's own small tensor
        is freed at once: hundreds of small long-lived tensors between the step's large temporaries
        fragmented the allocator (1.1 GB peak at n=200, m=20, 20 instances, --snapshots 2, against
        ~0.3 GB; docs/benchmarks.md)."""
        if self.loss_buf is None:
            shape = (_LOSS_CHUNK, *loss.shape)
            self.loss_buf = loss.new_empty(shape) if hasattr(loss, "new_empty") else np.empty(shape, loss.dtype)
        self.loss_buf[len(self.loss_steps)] = loss

    def _save_checkpoint(self, s: int, rng) -> None:
        from animsup.atomic import atomic_path

        meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": s, "steps": self.cfg.steps,
                "config": self.cfg.to_dict()}
        arrays = self.engine.state(rng)
        try:
            with atomic_path(checkpoint_path(self.log_path)) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, meta=np.asarray(json.dumps(meta)), **arrays)
        except OSError as e:
            raise AnimsupError(f"{checkpoint_path(self.log_path)}: cannot write checkpoint: {e.strerror or e}") from None

    def _install_signal_handlers(self):
        """SIGINT/SIGTERM: stop after the current step (a second one: stop now). Main thread only."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            if self.stop_signal is not None:
                raise KeyboardInterrupt
            self.stop_signal = signum

        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore():
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
