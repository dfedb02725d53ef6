"""A sweep's folder (``animsup sweep``, docs/scaling.md) as one run to every reader: the path rules.

A sweep folder holds ``manifest.json`` (the spec, each shard's instances, status, timings, the
versions), one log per shard under ``shards/`` and, once every shard has completed, ``sweep.jsonl``:
the shards' logs merged into one log with every instance in grid order (:mod:`animsup.log.sweep`
writes it). :func:`resolve_log_path` turns a sweep folder into that merged log, so
:func:`animsup.log.reader.open_log`, :func:`animsup.log.reader.read_log` and every command that reads
a log take the folder. Pure standard library (no reader import: the reader imports this).
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
    failed = [s for s in manifest["shards"] if isinstance(s, dict) and s.get("status") == "failed"]
    why = (f"; shard {failed[0].get('id')} failed: {failed[0].get('error')}" if failed else "")
    raise AnimsupError(f"{path}: the sweep is not complete ({done} of {total} shards completed{why}); run the same "
                       f"`animsup sweep` command again to finish it, or read one shard's log in {os.path.join(path, SHARDS)}")
