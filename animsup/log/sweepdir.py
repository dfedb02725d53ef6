"""A sweep's folder (``animsup sweep``, docs/scaling.md) as one run to every reader: the path rules.

A sweep folder holds ``manifest.json`` (the spec, each shard's instances, status, timings, the
versions), one log per shard under ``shards/`` and, once every shard has completed, ``sweep.jsonl``:
the shards' logs merged into one log with every instance in grid order (:mod:`animsup.log.sweep`
writes it). :func:`resolve_log_path` turns a sweep folder into that merged log, so
:func:`animsup.log.reader.open_log`, :func:`animsup.log.reader.read_log` and every command that reads
a log take the folder. A completed sweep whose groups differ in shape (n_hidden, ...) has no merged log:
its manifest says why (:data:`SEPARATE`) and every reader names the shard logs to open
(:func:`separate_line`). Pure standard library (no reader import: the reader imports this).
"""

from __future__ import annotations

import json
import os
from typing import Any

from animsup.errors import AnimsupError

MANIFEST = "manifest.json"
MERGED = "sweep.jsonl"
SHARDS = "shards"
FORMAT = "animsup.sweep"
VERSION = 1
#: config keys that hold one value per instance (or how instances run): not what tells groups apart
PER_INSTANCE = ("importance", "feature_probability", "seeds", "instances", "last_importance", "init_instances",
                "backend", "threads", "device")
#: the manifest's key for why a completed sweep is read one run per shard log (no merged log)
SEPARATE = "separate"
#: shard logs a message names at most
NAMED_SHARDS = 8


def is_sweep_dir(path: str | os.PathLike[str]) -> bool:
    """True for a folder holding a sweep manifest."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MANIFEST))


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the sweep in ``folder``.

    :raises AnimsupError: missing, unreadable or not an animsup sweep manifest
    """
    path = os.path.join(os.fspath(folder), MANIFEST)
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read())
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read the sweep manifest: {e.strerror or e}") from None
    except ValueError as e:
        raise AnimsupError(f"{path}: not a sweep manifest (invalid JSON: {e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("shards"), list):
        raise AnimsupError(f"{path}: not an animsup sweep manifest")
    if manifest.get("version") != VERSION:
        raise AnimsupError(f"{path}: sweep manifest version {manifest.get('version')!r} (this animsup reads {VERSION})")
    return manifest


def shard_status(manifest: dict[str, Any]) -> dict[str, int]:
    """How many shards have each status ("completed", "failed", "pending", ...)."""
    out: dict[str, int] = {}
    for shard in manifest["shards"]:
        status = str(shard.get("status", "pending")) if isinstance(shard, dict) else "invalid"
        out[status] = out.get(status, 0) + 1
    return out


def resolve_log_path(path: str | os.PathLike[str]) -> str:
    """``path`` itself, or for a sweep folder its merged log (``DIR/sweep.jsonl``).

    :raises AnimsupError: a sweep whose shards have not all completed (no merged log yet)
    """
    path = os.fspath(path)
    if not is_sweep_dir(path):
        return path
    merged = os.path.join(path, MERGED)
    if os.path.isfile(merged):
        return merged
    manifest = read_manifest(path)
    counts = shard_status(manifest)
    done, total = counts.get("completed", 0), len(manifest["shards"])
    if done == total and manifest.get(SEPARATE):
        raise AnimsupError(separate_line(path, manifest))
    if done == total:
        raise AnimsupError(f"{path}: all {total} shards completed but the merged log {MERGED} is missing; run the same "
                           f"`animsup sweep` command again to write it, or read one shard's log in {os.path.join(path, SHARDS)}")
    failed = [s for s in manifest["shards"] if isinstance(s, dict) and s.get("status") == "failed"]
    why = (f"; shard {failed[0].get('id')} failed: {failed[0].get('error')}" if failed else "")
    raise AnimsupError(f"{path}: the sweep is not complete ({done} of {total} shards completed{why}); run the same "
                       f"`animsup sweep` command again to finish it, or read one shard's log in {os.path.join(path, SHARDS)}")


def separate_line(folder: str, manifest: dict[str, Any]) -> str:
    """One line for a sweep read one run per shard log: why (the manifest's :data:`SEPARATE`) and which
    logs to open, each with the options that tell its group apart ("runs/s1: its groups differ in
    n_hidden (2, 5), so it is read one run per shard log: open runs/s1/shards/shard-0000.jsonl
    (n_hidden=2), runs/s1/shards/shard-0001.jsonl (n_hidden=5)")."""
    shards = [s for s in manifest["shards"] if isinstance(s, dict)]
    configs: list[dict[str, Any]] = [c if isinstance(c := s.get("config"), dict) else {} for s in shards]
    keys = sorted({k for c in configs for k in c if k not in PER_INSTANCE
                   and len({json.dumps(c2.get(k), sort_keys=True) for c2 in configs}) > 1})
    named = []
    for shard, config in zip(shards[:NAMED_SHARDS], configs):
        label = ", ".join(f"{k}={config.get(k)}" for k in keys)
        named.append(os.path.join(folder, str(shard.get("log"))) + (f" ({label})" if label else ""))
    more = f", ... ({len(shards)} shard logs, listed in {MANIFEST})" if len(shards) > NAMED_SHARDS else ""
    return (f"{folder}: {manifest.get(SEPARATE)}, so it is read one run per shard log: open "
            f"{', '.join(named)}{more}")
