"""Sweeps: a grid of runs cut into shards (batched runs of at most N instances), run on an engine,
written as one folder that every reader takes as one run (docs/scaling.md).

A sweep is a list of *groups*: each a :class:`~animsup.train.config.TrainConfig` whose instances
(importance groups × last_importance × feature_probability × seeds, the product layout) train
together; groups differ in options that cannot share a batch (n_hidden, lr, weight decay, ...).
Instances are numbered in grid order: group by group, each in its config's order. :func:`plan_shards`
cuts each group into shards of consecutive instances, each a ``zip``-layout config of its rows, with
the group's backend and notebook-init count pinned (:attr:`TrainConfig.init_instances`) so the cut
changes no number: on the CPU an instance's trajectory depends only on its own configuration and
seed (:mod:`animsup.train.data`), bit for bit, whatever the shard size, engine or thread count.

The folder (:mod:`animsup.log.sweepdir`): ``manifest.json`` (the spec, each shard's instances,
status, error, timings and attempts, the versions), ``shards/<id>.jsonl`` (one log per shard, with
its checkpoint) and, when every shard has completed, ``sweep.jsonl`` (:func:`animsup.log.sweep.merge_sweep`);
a sweep whose groups differ in shape (n_hidden, ...) has no ``sweep.jsonl``: the manifest's ``separate``
says why and it is read one run per shard log.

Engines (no scheduler of our own): ``local`` runs the shards in this process one after another
(one thread per GPU when several are visible); ``ray`` submits each shard as a Ray task
(:mod:`animsup.train.sweep_ray`). A shard whose log exists resumes from its checkpoint
(:func:`animsup.train.loop.resume`); a rerun skips completed shards; a shard that fails (bad config,
NaN) is marked failed with its one-line error and the others go on.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError
from animsup.log.sweepdir import FORMAT, MANIFEST, MERGED, SEPARATE, SHARDS, VERSION, is_sweep_dir, read_manifest
from animsup.train.config import TrainConfig

ENGINES = ("local", "ray")
#: the share of the device's memory one shard may take when --shard-size is not given
MEMORY_SHARE = 0.25
_ROW_KEYS = ("importance", "feature_probability", "seeds", "instances", "last_importance", "n_features")

#: progress(done, total): instance-steps done of the whole sweep
SweepProgress = Callable[[int, int], None]


@dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the folder, its manifest, and the merged log (None unless
    every shard completed)."""

    folder: str
    manifest: dict[str, Any]
    merged: str | None
    ran: list[str]  # shards this call ran (the others were complete already)
    #: why a completed sweep has no merged log and is read one run per shard log (groups of different
    #: shapes: :func:`animsup.log.sweep.separate_reason`); None otherwise
    separate: str | None = None

    def read_as(self) -> str:
        """One line: how to read the folder (as one run, one run per shard log, or not yet)."""
        from animsup.log.sweepdir import separate_line

        if self.merged:
            return f"folder: {self.folder} (read it as one run: animsup inspect {self.folder})"
        if self.separate:
            return separate_line(self.folder, self.manifest)
        return f"folder: {self.folder}"

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [s for s in self.manifest["shards"] if s["status"] == "failed"]


def shard_config(group: TrainConfig, lo: int, hi: int) -> TrainConfig:
    """Instances ``lo``..``hi - 1`` of ``group`` as a config of their own (``zip`` layout), training them
    exactly as the whole group would: the group's resolved backend and notebook-init count pinned."""
    kw = {f.name: getattr(group, f.name) for f in dataclasses.fields(TrainConfig) if f.name not in _ROW_KEYS}
    kw["backend"] = group.resolved_backend()
    kw["init_instances"] = group.init_instances or group.n_instances
    imp, fp = group.importance_matrix()[lo:hi], group.probability_matrix()[lo:hi]
    return TrainConfig.from_arrays(imp, fp, group.instance_seeds()[lo:hi], n_features=group.n_features, **kw)


def default_shard_size(group: TrainConfig) -> int:
    """Instances per shard when none is given: as many as fit in :data:`MEMORY_SHARE` of the device's
    memory (a CUDA device's when the run uses one, else this machine's RAM), by
    :meth:`TrainConfig.estimated_bytes`; at least 1."""
    per_instance = max(1, group.estimated_bytes() // max(1, group.n_instances))
    return max(1, int(_device_bytes(group) * MEMORY_SHARE) // per_instance)


def _cuda_torch(cfg: TrainConfig) -> Any:
    """torch, when ``cfg`` trains on CUDA here (device cuda, or auto with a CUDA device and the torch
    engine); else None. Imports torch only for a torch-engine config."""
    if cfg.device == "cpu" or cfg.resolved_backend() != "torch":
        return None
    import torch

    return torch if torch.cuda.is_available() else None


def _device_bytes(cfg: TrainConfig) -> int:
    torch = _cuda_torch(cfg)
    if torch is not None:
        return int(torch.cuda.mem_get_info()[1])
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def plan_shards(groups: Sequence[TrainConfig], shard_size: int | None = None) -> list[dict[str, Any]]:
    """The shards of a sweep, in grid order: each ``{"id", "group", "start", "stop", "config"}`` with
    global instance indices ``start``..``stop - 1`` and the shard's config as a dict.

    :raises AnimsupError: a bad config or shard size
    """
    if shard_size is not None and (not isinstance(shard_size, int) or shard_size < 1):
        raise AnimsupError(f"--shard-size must be a positive integer, got {shard_size!r}")
    shards: list[dict[str, Any]] = []
    start = 0
    for g, group in enumerate(groups):
        group.validate()
        size = shard_size or default_shard_size(group)
        k = group.n_instances
        for lo in range(0, k, size):
            hi = min(lo + size, k)
            cfg = shard_config(group, lo, hi).validate()
            shards.append({"id": f"shard-{len(shards):04d}", "group": g, "start": start + lo, "stop": start + hi,
                           "config": cfg.to_dict()})
        start += k
    return shards


def run_shard(task: dict[str, Any], progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Train one shard (``task``: "config" dict, "log" path, "checkpoint_seconds"): resume its log when
    one exists (from its checkpoint), else start it. Never raises for a failing shard: returns
    ``{"status": "completed" | "failed" | "interrupted", "error": one line or None, "wall_seconds",
    "step", "device", "pid"}``. Picklable (the Ray engine runs it in a worker)."""
    from animsup.train.loop import resume, train

    t0 = time.perf_counter()
    log, ckpt_s = task["log"], float(task.get("checkpoint_seconds", 10.0))
    cb = None if progress is None else (lambda step, total, loss: progress(step, total))
    out: dict[str, Any] = {"pid": os.getpid(), "error": None}
    try:
        cfg = TrainConfig.from_dict(task["config"])
        if os.path.exists(log) and _ended(log) == "completed":
            res = None
        elif os.path.exists(log):
            try:
                res = resume(log, progress=cb, checkpoint_seconds=ckpt_s)
            except AnimsupError:  # a log that cannot be continued (diverged, unreadable): start again
                res = train(cfg, log, force=True, progress=cb, checkpoint_seconds=ckpt_s)
        else:
            os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
            res = train(cfg, log, progress=cb, checkpoint_seconds=ckpt_s)
    except AnimsupError as e:
        return out | {"status": "failed", "error": _one_line(str(e)), "wall_seconds": time.perf_counter() - t0}
    except Exception as e:  # noqa: BLE001 — a shard's failure is reported, the sweep goes on
        return out | {"status": "failed", "error": _one_line(f"{type(e).__name__}: {e}"),
                      "wall_seconds": time.perf_counter() - t0}
    if res is None:
        return out | {"status": "completed", "wall_seconds": 0.0, "skipped": True}
    out |= {"wall_seconds": res.wall_seconds, "step": res.step, "device": res.device}
    if res.status == "diverged":
        return out | {"status": "failed", "error": f"diverged (non-finite loss) at step {res.step}; try a smaller lr"}
    return out | {"status": res.status}


def _ended(log: str) -> str | None:
    """The end status of a log (None: no end record, or unreadable)."""
    from animsup.log.reader import open_log

    try:
        with open_log(log) as r:
            for _ in r.snapshots():
                pass
            return None if r.end is None else str(r.end.get("status"))
    except (AnimsupError, OSError):
        return None


def _one_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:500]


def versions() -> dict[str, str]:
    """The versions a manifest records: animsup, Python, numpy, torch (when loaded), ray (when loaded)."""
    import numpy as np

    from animsup import __version__

    out = {"animsup": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for name in ("torch", "ray"):
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = str(getattr(mod, "__version__", "?"))
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Manifest:
    """The sweep's manifest, held by the driver and rewritten atomically at every change."""

    def __init__(self, folder: str, data: dict[str, Any]):
        self.folder, self.data = folder, data
        self.lock = threading.Lock()

    def save(self) -> None:
        with self.lock:
            text = json.dumps(self.data, indent=1)
            with atomic_path(os.path.join(self.folder, MANIFEST)) as tmp:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text)

    def shard(self, sid: str) -> dict[str, Any]:
        return next(s for s in self.data["shards"] if s["id"] == sid)

    def update(self, sid: str, **fields: Any) -> None:
        with self.lock:
            self.shard(sid).update(fields)
        self.save()


def open_manifest(folder: str, shards: list[dict[str, Any]], *, spec: Any, engine: str, force: bool) -> Manifest:
    """The manifest of a new sweep, or of the same sweep already in ``folder`` (its shards' statuses kept).

    :raises AnimsupError: ``folder`` holds another sweep (different shards) and not ``force``, or is
        something else than a sweep folder
    """
    layout = _layout(shards)
    if is_sweep_dir(folder):
        old = read_manifest(folder)
        if _layout(old["shards"]) == layout and not force:
            old.update(engine=engine, versions=versions(), resumed=_now())
            return Manifest(folder, old)
        if not force:
            raise AnimsupError(f"{folder}: holds a different sweep (other shards or settings); pass --force to replace "
                               f"it, or choose another --out")
    elif os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)) and not force:
        raise AnimsupError(f"--out {folder}: exists and is not a sweep folder; choose another --out")
    os.makedirs(os.path.join(folder, SHARDS), exist_ok=True)
    if force:
        _clear(folder)
    data = {"format": FORMAT, "version": VERSION, "spec": spec, "engine": engine, "created": _now(),
            "versions": versions(), "n_instances": shards[-1]["stop"] if shards else 0,
            "shards": [s | {"log": f"{SHARDS}/{s['id']}.jsonl", "status": "pending", "error": None, "attempts": 0,
                            "wall_seconds": None, "started": None, "finished": None} for s in layout]}
    return Manifest(folder, data)


def _layout(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What makes two sweeps the same: each shard's id, group, instances and config (as JSON types)."""
    return json.loads(json.dumps([{k: s.get(k) for k in ("id", "group", "start", "stop", "config")} for s in shards]))


def same_sweep(folder: str | os.PathLike[str], groups: Sequence[TrainConfig], shard_size: int | None = None) -> bool:
    """True when ``folder`` holds this sweep (the same shards): :func:`run_sweep` then finishes it."""
    folder = os.fspath(folder)
    return is_sweep_dir(folder) and _layout(read_manifest(folder)["shards"]) == _layout(plan_shards(groups, shard_size))


def _clear(folder: str) -> None:
    """--force: remove a previous sweep's merged log and shard logs (only those names)."""
    for name in (MERGED, MANIFEST):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            os.unlink(path)
    shard_dir = os.path.join(folder, SHARDS)
    for name in os.listdir(shard_dir):
        if name.startswith("shard-") and (name.endswith(".jsonl") or name.endswith(".jsonl.ckpt")):
            os.unlink(os.path.join(shard_dir, name))


def run_sweep(groups: Sequence[TrainConfig], out: str | os.PathLike[str], *, spec: Any = None, engine: str = "local",
              shard_size: int | None = None, address: str | None = None, force: bool = False,
              progress: SweepProgress | None = None, runner: Callable[..., dict[str, Any]] | None = None,
              checkpoint_seconds: float = 10.0, max_retries: int = 3) -> SweepResult:
    """Run the sweep of ``groups`` into the folder ``out`` (see the module docstring).

    :param spec: what the manifest records as the sweep's spec (the TOML file's table)
    :param engine: "local" or "ray"
    :param shard_size: instances per shard (default: :func:`default_shard_size`)
    :param address: the Ray cluster (``ray.init(address=...)``; default: a local Ray)
    :param progress: ``progress(done, total)`` in instance-steps of the whole sweep
    :param runner: the function a shard runs (default :func:`run_shard`; tests inject faults here)
    :param max_retries: Ray's retries of a shard whose worker died
    :raises AnimsupError: bad settings, another sweep in ``out``, Ray not installed
    """
    if engine not in ENGINES:
        raise AnimsupError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if address is not None and engine != "ray":
        raise AnimsupError("--address is the Ray cluster's: it needs --engine ray")
    if not groups:
        raise AnimsupError("the sweep has no runs")
    folder = os.fspath(out)
    shards = plan_shards(groups, shard_size)
    manifest = open_manifest(folder, shards, spec=spec, engine=engine, force=force)
    todo = [s for s in manifest.data["shards"] if s["status"] != "completed"
            or not os.path.exists(os.path.join(folder, s["log"]))]
    for s in todo:
        s["status"] = "pending"
    manifest.save()
    tracker = _Tracker(manifest.data["shards"], progress)
    tasks = [{"id": s["id"], "config": s["config"], "log": os.path.abspath(os.path.join(folder, s["log"])),
              "checkpoint_seconds": checkpoint_seconds} for s in todo]
    fn = runner or run_shard
    if tasks and engine == "ray":
        from animsup.train.sweep_ray import run_on_ray

        run_on_ray(tasks, fn, started=lambda sid: manifest.update(sid, status="running", started=_now()),
                   finished=lambda sid, result: record_result(manifest, sid, result, tracker),
                   address=address, max_retries=max_retries)
    elif tasks:
        _run_local(tasks, fn, manifest, tracker)
    merged, separate = None, None
    if all(s["status"] == "completed" for s in manifest.data["shards"]):
        from animsup.log.sweep import merge_sweep, separate_reason

        separate = separate_reason(folder)  # groups of different shapes: read one run per shard log
        if separate is not None:
            manifest.data[SEPARATE] = separate
            manifest.save()
        elif todo or not os.path.exists(os.path.join(folder, MERGED)):
            merged = merge_sweep(folder)
        else:
            merged = os.path.join(folder, MERGED)
    return SweepResult(folder, manifest.data, merged, [t["id"] for t in tasks], separate)


class _Tracker:
    """Progress of the whole sweep in instance-steps: finished shards count whole, running ones by step."""

    def __init__(self, shards: list[dict[str, Any]], progress: SweepProgress | None):
        self.progress = progress
        self.size = {s["id"]: (s["stop"] - s["start"]) * int(s["config"]["steps"]) for s in shards}
        self.total = sum(self.size.values())
        self.done = {s["id"]: self.size[s["id"]] for s in shards if s["status"] == "completed"}
        self.lock = threading.Lock()
        self.report()

    def step(self, sid: str, step: int, total: int) -> None:
        with self.lock:
            self.done[sid] = self.size[sid] * min(step, total) // max(total, 1)
        self.report()

    def finish(self, sid: str) -> None:
        self.step(sid, 1, 1)

    def report(self) -> None:
        if self.progress is not None:
            self.progress(sum(self.done.values()), self.total)


def record_result(manifest: Manifest, sid: str, result: dict[str, Any], tracker: _Tracker, attempts: int = 1) -> None:
    """Write one shard's outcome into the manifest (and the progress)."""
    shard = manifest.shard(sid)
    manifest.update(sid, status=result.get("status", "failed"), error=result.get("error"),
                    wall_seconds=result.get("wall_seconds"), finished=_now(), device=result.get("device"),
                    attempts=int(shard.get("attempts") or 0) + attempts)
    if result.get("status") == "completed":
        tracker.finish(sid)


def _run_local(tasks: list[dict[str, Any]], fn: Callable[..., dict[str, Any]], manifest: Manifest,
               tracker: _Tracker) -> None:
    """In this process, one shard after another; with several CUDA devices visible, one thread per device."""
    gpus = _visible_gpus(tasks)
    if gpus <= 1:
        for task in tasks:
            _local_one(task, fn, manifest, tracker)
        return
    queue = iter(list(tasks))
    lock = threading.Lock()

    def worker(device: int) -> None:
        import torch

        torch.cuda.set_device(device)
        while True:
            with lock:
                task = next(queue, None)
            if task is None:
                return
            _local_one(task, fn, manifest, tracker)

    threads = [threading.Thread(target=worker, args=(d,), name=f"animsup-sweep-gpu{d}") for d in range(gpus)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _local_one(task: dict[str, Any], fn: Callable[..., dict[str, Any]], manifest: Manifest, tracker: _Tracker) -> None:
    sid = task["id"]
    manifest.update(sid, status="running", started=_now())
    result = fn(task, progress=lambda step, total: tracker.step(sid, step, total))
    record_result(manifest, sid, result, tracker)
    if result.get("status") == "interrupted":  # Ctrl-C or SIGTERM reached the shard's loop: stop the sweep
        raise KeyboardInterrupt


def _visible_gpus(tasks: list[dict[str, Any]]) -> int:
    """CUDA devices the local engine spreads shards over (1 unless the shards run on CUDA)."""
    torch = _cuda_torch(TrainConfig.from_dict(tasks[0]["config"])) if tasks else None
    return 1 if torch is None else max(1, torch.cuda.device_count())
