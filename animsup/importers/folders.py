"""A folder of folders of checkpoints (``runs/s_0.9/model_step_*.pt``, ``runs/s_0.99/...``):
each subfolder one instance (``--folders instances``, the default) or one stage of one run
(``--folders stages``), the sparsity of each read from its name and said.

Names: ``s_0.9``, ``S0.9``, ``sparsity=0.9`` give S (1 - S = 0.1 is written); ``p_0.1``,
``fp-0.1``, ``feature_probability_0.1`` give 1 - S itself. A name without such a number leaves
the feature probability to ``--feature-probability`` (said in a note).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import numpy as np

from animsup.errors import AnimsupError
from animsup.importers.checkpoint import Imported

MODES = ("instances", "stages")
_VALUE = re.compile(r"^(?:(s|sparsity)|(p|fp|prob|feature_probability))[_=\-]?((?:\d+(?:\.\d*)?|\.\d+)(?:e-?\d+)?)$",
                    re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def subfolders(path: str) -> list[str] | None:
    """The subfolders of ``path`` when it holds folders only (hidden entries aside), else None."""
    if not os.path.isdir(path):
        return None
    entries = [e for e in os.listdir(path) if not e.startswith(".")]
    dirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    if not dirs or len(dirs) != len(entries):
        return None
    return [os.path.join(path, d) for d in dirs]


def probability_in_name(name: str) -> tuple[float, str] | None:
    """(1 - S, how it was read) from a folder name like ``s_0.9`` or ``p_0.1``, else None."""
    m = _VALUE.match(name)
    if m is None:
        return None
    v = float(m.group(3))
    if m.group(1):
        return (1.0 - v, f"{name}: S = {v:g}, 1 - S = {1 - v:g}") if 0 <= v < 1 else None
    return (v, f"{name}: 1 - S = {v:g}") if 0 < v <= 1 else None


def _order_key(path: str) -> tuple:
    nums = _NUMBER.findall(os.path.basename(path))
    return (float(nums[0]) if nums else float("inf"), os.path.basename(path))


def load(path: str, mode: str, load_one: Callable[[str], Imported]) -> Imported:
    """The subfolders of ``path`` as instances or stages (``mode``), each read by ``load_one``."""
    if mode not in MODES:
        raise AnimsupError(f"--folders takes {' or '.join(MODES)}, got {mode!r}")
    dirs = sorted(subfolders(path) or [], key=_order_key)
    if not dirs:
        raise AnimsupError(f"{path}: no subfolders of checkpoints")
    parts = [load_one(d) for d in dirs]
    shapes = {p.W.shape[2:] for p in parts}
    if len(shapes) != 1:
        raise AnimsupError(f"{path}: the subfolders hold W of different sizes ({', '.join(str(list(s)) for s in shapes)})")
    names = [os.path.basename(d) for d in dirs]
    probs = [probability_in_name(n) for n in names]
    out = _as_instances(path, names, parts) if mode == "instances" else _as_stages(names, parts)
    if all(p is not None for p in probs):
        fp = [p[0] for p in probs if p is not None]
        said = "; ".join(p[1] for p in probs if p is not None)
        if mode == "instances":
            out.facts["feature_probability"] = [v for v, q in zip(fp, parts) for _ in range(q.W.shape[1])]
        else:
            out.facts["feature_probability"] = fp[0]
            for stage, v in zip(out.stages or [], fp):
                stage["feature_probability"] = [[v] * out.W.shape[3]] * out.W.shape[1]
        out.inferred["feature_probability"] = f"from the folder names ({said})"
        out.notes.append(f"1 - S read from the folder names: {said}")
    else:
        out.notes.append(f"the folder names ({', '.join(names[:6])}) give no sparsity (s_0.9 or p_0.1): "
                         "pass --feature-probability")
    return out


def _cat(arrays: list, axis: int) -> np.ndarray | None:
    return None if any(a is None for a in arrays) else np.concatenate(arrays, axis=axis)


def _as_instances(path: str, names: list[str], parts: list[Imported]) -> Imported:
    steps = [p.steps if p.steps is not None else np.arange(len(p.W)) for p in parts]
    if any(len(s) != len(steps[0]) or not np.array_equal(s, steps[0]) for s in steps):
        raise AnimsupError(f"{path}: the subfolders hold checkpoints of different steps ({names[0]}: {len(steps[0])} "
                           "snapshots, ...); pass --folders stages to chain them, or import each folder alone")
    out = Imported(W=np.concatenate([p.W for p in parts], axis=1), b=_cat([p.b for p in parts], 1),
                   W_dec=_cat([p.W_dec for p in parts], 1), steps=parts[0].steps, inferred=dict(parts[0].inferred))
    out.notes = [n for p in parts for n in p.notes if n not in out.notes]
    per_instance = all(p.loss is not None and p.loss.shape[1] == p.W.shape[1] for p in parts)
    if per_instance:
        out.loss = np.concatenate([p.loss for p in parts], axis=1)
    elif any(p.loss is not None or p.loss_curve is not None for p in parts):
        out.notes.append("losses not imported: not every subfolder has one loss per instance at each checkpoint")
    out.inferred["instances"] = f"one per subfolder, in the order of the numbers in their names: {', '.join(names)}"
    out.notes.append(f"{len(parts)} subfolders imported as instances ({', '.join(names[:8])}); "
                     "--folders stages chains them as stages of one run instead")
    return out


def _as_stages(names: list[str], parts: list[Imported]) -> Imported:
    steps = [p.steps if p.steps is not None else np.arange(len(p.W)) for p in parts]
    chained = all(s[0] > prev[-1] for prev, s in zip(steps, steps[1:]))
    if not chained:  # each folder counts from its own start: offset by the steps before it
        offset, moved = 0, []
        for s in steps:
            moved.append(s - s[0] + offset)
            offset = int(moved[-1][-1]) + 1
        steps = moved
    out = Imported(W=np.concatenate([p.W for p in parts]), b=_cat([p.b for p in parts], 0),
                   W_dec=_cat([p.W_dec for p in parts], 0), steps=np.concatenate(steps).astype(np.int64),
                   inferred=dict(parts[0].inferred))
    out.notes = [n for p in parts for n in p.notes if n not in out.notes]
    losses = [p.loss for p in parts if p.loss is not None]
    if len(losses) == len(parts) and len({x.shape[1] for x in losses}) == 1:
        out.loss = np.concatenate(losses)
    elif losses:
        out.notes.append(f"losses not imported: {len(losses)} of {len(parts)} subfolders have one at each checkpoint")
    out.stages = [{"start_step": int(s[0]), "feature_probability": None, "note": f"folder {n}"} for s, n in zip(steps, names)]
    out.inferred["stages"] = (f"one per subfolder: {', '.join(names)}" +
                              ("" if chained else "; each folder's steps counted on from the end of the one before"))
    out.notes.append(f"{len(parts)} subfolders imported as stages of one run ({', '.join(names[:8])})" +
                     ("" if chained else ", each one's steps counted on from the end of the one before"))
    return out
