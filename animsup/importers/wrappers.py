"""What a checkpoint says around its weights: the wrapper dict (a Lightning checkpoint, a
``{"step", "model_state_dict", "optimizer_state_dict", "loss"}`` save), its step, its loss, its
hyperparameters, and the numbers written as reprs (``Array([0.1, 0.05], dtype=float32)``).

Nothing is evaluated: reprs are read with linear-time regular expressions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: keys of a wrapper dict that hold the model's weights, in order of preference
MODEL_KEYS = ("state_dict", "model_state_dict", "model_state", "model")
#: scalar keys that state the checkpoint's step (Lightning: global_step)
STEP_KEYS = ("global_step", "step", "iteration", "iter", "steps")
#: scalar keys that state the checkpoint's loss
LOSS_KEYS = ("loss", "train_loss", "training_loss")
#: keys holding hyperparameters
HPARAM_KEYS = ("hyper_parameters", "hparams", "config", "cfg", "args")
_LIGHTNING = ("pytorch-lightning_version", "global_step", "callbacks", "loops")

# A number, or a repr holding numbers: Array([...]) (JAX), array([...]) (numpy), tensor([...])
# (torch), DeviceArray(...), np.float32(...), or a plain [list]. Possessive quantifiers only.
_NUM = r"[-+]?+(?:\d++(?:\.\d*+)?+(?:[eE][-+]?+\d++)?+|\.\d++|inf|nan)"
_LIST = r"\[(?:[^\[\]]|\[[^\[\]]*+\])*+\]"
_KWARGS = r"(?:\s*+,\s*+\w++\s*+=\s*+[\w.'\"]++)*+\s*+\)"  # ", dtype=float32)": keyword arguments only
REPR = (r"(?:Array|array|tensor|DeviceArray)\(\s*+" + _LIST + _KWARGS + "|" + _LIST +
        r"|(?:Array|array|tensor|DeviceArray|np\.float\d*+|np\.int\d*+)\(\s*+" + _NUM + _KWARGS)
_NUMBER = re.compile(_NUM)


def parse_repr(text: str) -> float | list | None:
    """The numbers of a repr as a float (one number, a 0-d array) or a (nested) list, else None.

    ``Array([0.1, 0.05], dtype=float32)`` -> [0.1, 0.05]; ``tensor([[1., 0.9]])`` -> [[1.0, 0.9]];
    ``Array(3, dtype=int32)`` -> 3.0; the ``dtype=float32`` after the numbers is not read.
    """
    s = text.strip()
    body = s[: s.rfind("]") + 1] if "[" in s else s
    body = body[body.find("[") :] if "[" in body else body[body.find("(") + 1 :]
    if "[" not in body:
        vals = _NUMBER.findall(body)
        return float(vals[0]) if vals else None
    rows = re.findall(r"\[([^\[\]]*+)\]", body)
    parsed = [[float(v) for v in _NUMBER.findall(r)] for r in rows]
    if not parsed or any(not r for r in parsed):
        return None
    nested = body.lstrip()[1:].lstrip().startswith("[")
    return parsed if nested else parsed[0]


def number_or_list(v: Any) -> Any:
    """A fact's value as JSON numbers: reprs and arrays become floats or lists; others as they are."""
    if isinstance(v, str) and ("[" in v or "(" in v):
        parsed = parse_repr(v)
        return v if parsed is None else parsed
    if isinstance(v, np.ndarray) and v.dtype.kind in "iufb":
        return v.item() if v.ndim == 0 else v.tolist()
    if type(v).__module__.split(".")[0] in ("numpy", "torch") and hasattr(v, "tolist"):
        out = v.tolist()
        return out if isinstance(out, (list, int, float, bool)) else None
    return v


def facts_from(mapping: dict) -> dict:
    """Numbers, strings and lists of numbers of a hyperparameter dict (nested dicts flattened one
    level); anything else (objects, paths) is left out."""
    out: dict = {}
    for k, v in mapping.items():
        if isinstance(v, dict):
            out.update({kk: vv for kk, vv in facts_from(v).items() if kk not in out})
            continue
        v = number_or_list(v)
        if isinstance(v, bool) or (isinstance(v, (int, float)) and math.isfinite(v)) or (isinstance(v, str) and len(v) < 200):
            out[str(k)] = v
        elif isinstance(v, list) and _numeric(v):
            out[str(k)] = v
    return out


def _numeric(v: list) -> bool:
    flat = [x for row in v for x in (row if isinstance(row, list) else [row])]
    return bool(flat) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat)


def _scalar(v: Any) -> float | None:
    """A finite number from a Python number, a 0-d or one-element array, else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.ndarray) and v.dtype.kind in "iuf" and v.size == 1:
        x = float(v.reshape(-1)[0])
        return x if math.isfinite(x) else None
    return None


@dataclass
class Wrapped:
    """What a wrapper dict said besides its weights."""

    kind: str | None = None  # "Lightning checkpoint", "training checkpoint ('model_state_dict')"
    step: int | None = None
    step_key: str | None = None
    loss: float | None = None
    loss_key: str | None = None
    facts: dict = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # top-level keys not used (training state)


def unwrap(tree: Any) -> tuple[Any, Wrapped]:
    """(the part of ``tree`` holding the weights, what the wrapper said around them)."""
    info = Wrapped()
    if not isinstance(tree, dict):
        return tree, info
    model_key = next((k for k in MODEL_KEYS if isinstance(tree.get(k), dict) and tree[k]), None)
    lightning = model_key == "state_dict" and any(k in tree for k in _LIGHTNING)
    for k in STEP_KEYS:
        s = _scalar(tree.get(k))
        if s is not None and s >= 0 and float(s).is_integer():
            info.step, info.step_key = int(s), k
            break
    for k in LOSS_KEYS:
        s = _scalar(tree.get(k))
        if s is not None:
            info.loss, info.loss_key = s, k
            break
    for k in HPARAM_KEYS:
        if isinstance(tree.get(k), dict):
            info.facts.update(facts_from(tree[k]))
    if model_key is None:
        return tree, info
    info.kind = "Lightning checkpoint" if lightning else f"training checkpoint (weights under {model_key!r})"
    used = {model_key, info.step_key, info.loss_key, *HPARAM_KEYS}
    info.left_out = sorted(str(k) for k in tree if k not in used and "/" not in str(k) and "\\" not in str(k))
    return tree[model_key], info
