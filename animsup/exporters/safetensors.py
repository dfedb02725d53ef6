"""Weights out as an HF-Hub-style folder: ``cfg.json`` + one ``.safetensors`` file per snapshot.

``step_<step>.safetensors`` (the step zero-padded to 9 digits) holds float32 tensors

- ``W``: [n_instances, n_hidden, n_features] (the encoder / tied weights, animsup's layout);
- ``b``: [n_instances, n_features] (the output bias);
- ``W_dec``: [n_instances, n_hidden, n_features], only for a model with a decoder (untied);

and in its metadata (strings) ``step``, ``format`` ("animsup") and ``layout`` ("kmn").
``cfg.json`` holds n_features, n_hidden, n_instances, instances (their indices in the source
log), model, feature_probability, importance, seeds, loss_scope, the steps exported, the loss
at each (``loss``: one list per step), the files, the animsup version and the source log.
``animsup import DIR`` reads the folder back into a log; ``safetensors.numpy.load_file`` reads each file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from animsup import __version__
from animsup.atomic import atomic_path
from animsup.errors import AnimsupError
from animsup.exporters.common import ExportResult, load, prepare_out

FORMAT = "animsup-safetensors"
FORMAT_VERSION = 1


def parse_snapshots(spec: str | Sequence[int] | None, steps: np.ndarray) -> list[int]:
    """Indices into ``steps`` of ``spec``: None or "last" (the last snapshot), "all", or steps
    ("0,500,1000"; each must be a snapshot's step)."""
    if spec is None or spec == "last":
        return [len(steps) - 1]
    if spec == "all":
        return list(range(len(steps)))
    try:
        wanted = [int(s) for s in (spec.replace(",", " ").split() if isinstance(spec, str) else spec)]
    except ValueError:
        raise AnimsupError(f"--snapshots takes last, all or steps (0,500,1000), got {spec!r}") from None
    where = {int(s): i for i, s in enumerate(steps.tolist())}
    missing = [s for s in wanted if s not in where]
    if missing or not wanted:
        shown = ", ".join(str(s) for s in steps[:8].tolist()) + (", ..." if len(steps) > 8 else "")
        raise AnimsupError(f"--snapshots: no snapshot at step {', '.join(map(str, missing)) or '(none given)'} "
                           f"(snapshots: {shown})")
    return sorted(set(where[s] for s in wanted))


def _short(a: np.ndarray) -> list:
    """float32 values as the shortest decimals that read back as the same float32 (0.05, not 0.0500000007)."""
    return [_short(row) for row in a] if a.ndim > 1 else [float(str(v)) for v in a.astype(np.float32)]


def export(log: str | os.PathLike, out: str | os.PathLike, *, instance: Sequence[int | str] | None = None,
           snapshots: str | Sequence[int] | None = None, force: bool = False) -> ExportResult:
    """Write the folder (see the module docstring) for the chosen instances and snapshots."""
    from safetensors.numpy import save_file

    run, chosen, _ = load(log, list(instance) if instance else None)
    picks = parse_snapshots(snapshots, run.steps)
    out_dir = prepare_out(out, force)
    h = run.header
    files: dict[str, str] = {}
    for t in picks:
        step = int(run.steps[t])
        tensors = {"W": np.ascontiguousarray(run.W[t][chosen], dtype=np.float32),
                   "b": np.ascontiguousarray(run.b[t][chosen], dtype=np.float32)}
        if run.W_dec is not None:
            tensors["W_dec"] = np.ascontiguousarray(run.W_dec[t][chosen], dtype=np.float32)
        name = f"step_{step:09d}.safetensors"
        with atomic_path(os.path.join(out_dir, name)) as tmp:
            save_file(tensors, tmp, metadata={"step": str(step), "format": "animsup", "layout": "kmn"})
        files[str(step)] = name
    loss = None
    if run.loss is not None:
        cols = chosen if run.loss_scope == "instance" else [0]
        loss = _short(np.asarray(run.loss)[picks][:, cols])
    steps = [int(run.steps[t]) for t in picks]
    cfg: dict[str, object] = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "n_features": h.n_features, "n_hidden": h.n_hidden, "n_instances": len(chosen), "instances": chosen,
        "model": h.model, "layout": "kmn",
        "feature_probability": _short(h.feature_probability[chosen]),  # [n_instances, n_features]
        "importance": _short(h.importance[chosen]),  # [n_instances, n_features]
        "seeds": [h.seed[k] for k in chosen],
        "loss_scope": run.loss_scope, "steps": steps, "loss": loss, "files": files,
        "animsup_version": __version__, "source_log": os.fspath(log),
    }
    with atomic_path(os.path.join(out_dir, "cfg.json")) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in cfg.items()) + "\n}\n")
    paths = [os.path.join(out_dir, "cfg.json")] + [os.path.join(out_dir, n) for n in files.values()]
    return ExportResult(out_dir, "safetensors", paths, chosen, steps, [])
