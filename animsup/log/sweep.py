"""A sweep's shard logs merged into one log (``DIR/sweep.jsonl``), every instance in grid order.

:func:`merge_sweep` streams the shards' logs side by side (memory: one snapshot of each shard and
the loss rows one shard has written ahead of the others) and writes one log whose header lists every
instance (importance, feature probability, seed) in grid order, whose snapshots hold every
instance's W and b and whose loss rows hold every instance's loss. Readers then see one run
(:func:`animsup.log.sweepdir.resolve_log_path`). The shards must share what a log shares: the shape
(n_features, n_hidden, model), the snapshot and loss steps, the data law and the stages; options
that differ between the sweep's groups (lr, weight decay, ...) are listed per instance in the
header's ``sweep`` object. A sweep whose groups differ in what a log shares is read one run per
shard log (:func:`separate_reason` says why; the manifest records it, readers name the shard logs).
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

import numpy as np

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError
from animsup.log.reader import LogReader
from animsup.log.schema import make_header
from animsup.log.sweepdir import MERGED, PER_INSTANCE, read_manifest
from animsup.log.writer import LogWriter

#: what every shard of a merged sweep must share (header fields and config keys)
SHARED = ("n_features", "n_hidden", "model")
SHARED_CONFIG = ("steps", "every", "snapshots", "snapshot_schedule", "loss_every", "stages", "data")
#: per-instance arrays of the config: not compared between shards


def merge_sweep(folder: str | os.PathLike[str]) -> str:
    """Write ``folder/sweep.jsonl`` from the shards listed in its manifest (all completed); returns its path.

    :raises AnimsupError: a shard not completed, or shards that cannot form one log (different shapes
        or snapshot steps: the message names the option)
    """
    folder = os.fspath(folder)
    manifest = read_manifest(folder)
    shards = sorted(manifest["shards"], key=lambda s: int(s["start"]))
    missing = [s["id"] for s in shards if s.get("status") != "completed"]
    if missing:
        raise AnimsupError(f"{folder}: shard {missing[0]} has not completed ({len(missing)} of {len(shards)} not completed)")
    readers = [LogReader(os.path.join(folder, s["log"])) for s in shards]
    try:
        header = _merged_header(folder, manifest, readers)
        target = os.path.join(folder, MERGED)
        with atomic_path(target) as tmp:
            with LogWriter(tmp, header, force=True) as w:
                end = _copy_records(readers, w)
                w.end(end[0], end[1], end[2])
        return target
    finally:
        for r in readers:
            r.close()


def _separate_reason(heads: list[Any]) -> str | None:
    """Why shards with these headers cannot be one log ("its groups differ in n_hidden (2, 3)"), or None."""
    for name in SHARED:
        values = sorted({str(getattr(h, name)) for h in heads})
        if len(values) > 1:
            return f"its groups differ in {name} ({', '.join(values)})"
    configs = [h.config for h in heads]
    for key in SHARED_CONFIG:
        values = sorted({repr(c.get(key)) for c in configs})
        if len(values) > 1:
            return f"its groups differ in {key} ({', '.join(values)}), so their snapshots or losses do not line up"
    return None


def separate_reason(folder: str | os.PathLike[str]) -> str | None:
    """Why the sweep in ``folder`` (every shard completed) is read one run per shard log rather than as one
    merged log: its groups differ in shape (n_features, n_hidden, model) or in their snapshot/loss steps;
    None when its shards merge. Reads only the shards' headers.

    :raises AnimsupError: an unreadable manifest or shard log
    """
    folder = os.fspath(folder)
    manifest = read_manifest(folder)
    readers = [LogReader(os.path.join(folder, s["log"])) for s in sorted(manifest["shards"], key=lambda s: int(s["start"]))]
    try:
        return _separate_reason([r.header for r in readers])
    finally:
        for r in readers:
            r.close()


def _merged_header(folder: str, manifest: dict[str, Any], readers: list[LogReader]) -> dict[str, Any]:
    heads = [r.header for r in readers]
    first = heads[0]
    reason = _separate_reason(heads)
    if reason is not None:
        raise AnimsupError(f"{folder}: {reason}: it cannot be read as one run; read it one run per shard log")
    configs = [h.config for h in heads]
    varying = sorted({key for c in configs for key in c if key not in PER_INSTANCE
                      and len({repr(c2.get(key)) for c2 in configs}) > 1})
    config = dict(configs[0])
    config.update(importance=np.concatenate([h.importance for h in heads]).tolist(),
                  feature_probability=np.concatenate([h.feature_probability for h in heads]).tolist(),
                  seeds=[s for h in heads for s in h.seed], instances="zip")
    sweep = {"folder": os.path.basename(os.path.abspath(folder)), "shards": [s["id"] for s in manifest["shards"]],
             "per_instance": {key: [c.get(key) for c, h in zip(configs, heads) for _ in range(h.n_instances)]
                              for key in varying}}
    return make_header(n_features=first.n_features, n_hidden=first.n_hidden, model=first.model,
                       feature_probability=config["feature_probability"], seed=config["seeds"],
                       importance=config["importance"], config=config, data=first.data, stages=first.stages,
                       device=first.raw.get("device"), started=first.raw.get("started"), sweep=sweep)


def _copy_records(readers: list[LogReader], w: LogWriter) -> tuple[str, int, float]:
    """Stream every shard's snapshots and loss rows side by side into ``w``; returns the merged end
    (status, step, wall seconds: the longest shard's)."""
    items = [r.iter_all() for r in readers]
    snaps: list[deque] = [deque() for _ in readers]
    losses: list[deque] = [deque() for _ in readers]  # (steps [L], rows [L, k]) chunks
    live = list(range(len(readers)))
    while live:
        for i in list(live):
            item = next(items[i], None)
            if item is None:
                live.remove(i)
                continue
            kind, _, value = item
            (snaps if kind == "snapshot" else losses)[i].append(value)
        _write_common_losses(losses, w)
        while all(snaps):
            parts = [q.popleft() for q in snaps]
            steps = {p.step for p in parts}
            if len(steps) != 1:
                raise AnimsupError(f"shard logs disagree on snapshot steps ({sorted(steps)[:2]}): cannot merge them")
            loss = None if parts[0].loss is None else np.concatenate([np.atleast_1d(p.loss) for p in parts])
            W_dec = None if parts[0].W_dec is None else np.concatenate([p.W_dec for p in parts])
            w.snapshot(parts[0].step, loss, np.concatenate([p.W for p in parts]), np.concatenate([p.b for p in parts]), W_dec)
    if any(snaps) or any(losses):
        raise AnimsupError("shard logs end at different steps: cannot merge them")
    ends = [r.end or {} for r in readers]
    status = "completed" if all(e.get("status") == "completed" for e in ends) else "interrupted"
    return status, min(int(e.get("step", 0)) for e in ends), max(float(e.get("wall_seconds", 0.0)) for e in ends)


def _write_common_losses(losses: list[deque], w: LogWriter) -> None:
    """Write the loss rows every shard has read so far (as one record), keeping the rest queued."""
    while all(losses):
        n = min(len(q[0][0]) for q in losses)
        steps, rows = None, []
        for q in losses:
            s, v = q[0]
            if steps is None:
                steps = s[:n]
            elif not np.array_equal(steps, s[:n]):
                raise AnimsupError("shard logs disagree on loss steps: cannot merge them")
            rows.append(v[:n])
            if n == len(s):
                q.popleft()
            else:
                q[0] = (s[n:], v[n:])
        if steps is not None:
            w.losses_at(steps, np.concatenate(rows, axis=1))
