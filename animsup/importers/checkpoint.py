"""Checkpoints and histories from other people's code: safetensors, torch zip files, .npz/.npy,
pickles (devinterp/aisf lists of runs, ARENA data_log dicts), directories or globs of checkpoints.

The container is recognised by its first bytes, never by its name (a safetensors file named
``.pt`` is read as safetensors). Nothing in a file runs: safetensors and numpy files hold only
arrays (``allow_pickle=False``), torch zip files go through ``torch.load(weights_only=True,
map_location="cpu")``, and pickles through :mod:`animsup.importers.safe_pickle`.

Each file becomes a *tree* (dicts and lists of float arrays plus metadata), which
:func:`interpret` turns into a W history [T, K, m, n] (plus b, W_dec, loss, steps), recording
what it inferred (layout, keys, tied) and what the user gave in the header's ``provenance``.
"""

from __future__ import annotations

import glob as _glob
import json
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np

from animsup.errors import AnimsupError, check_memory
from animsup.importers.wrappers import REPR, parse_repr
from animsup.log.recorder import check_layout, layout_to_kmn
from animsup.log.schema import size_problem

# -------------------------------------------------------------------- sniffing


def sniff(path: str) -> str:
    """The container of ``path`` by content: "safetensors", "torch-zip", "npz", "npy", "pickle",
    "html", "animsup-log", "c-log", "directory", or raise (a Git LFS pointer: said so)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except IsADirectoryError:
        return "directory"
    except FileNotFoundError:
        raise AnimsupError(f"{path}: no such file") from None
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read: {e.strerror or e}") from None
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"version https://git-lfs"):
        raise AnimsupError(f"{path}: {lfs_pointer(path)}")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "html"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            raise AnimsupError(f"{path}: a broken zip file") from None
        if any(n.endswith("data.pkl") for n in names):
            return "torch-zip"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        raise AnimsupError(f"{path}: a zip file that is neither a torch checkpoint nor an .npz archive")
    if len(head) >= 10:
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= 100 << 20 and head[8:9] == b"{":
            return "safetensors"
    if head[:1] == b"\x80" and 2 <= head[1:2][0] <= 5 if len(head) > 1 else False:
        return "pickle"
    if head.startswith(b"\x1f\x8b") or head.lstrip(b"\xef\xbb\xbf").startswith(b'{"type"'):
        return "animsup-log"
    if head.startswith(b"run:"):
        return "c-log"
    if _old_pickle(path, head):
        return "pickle"
    raise AnimsupError(f"{path}: not a checkpoint animsup can read (safetensors, torch zip, .npz/.npy, pickle, "
                       "a d3 HTML weight history)")


def lfs_pointer(path: str) -> str:
    """What a Git LFS pointer file says: the size of the file it stands for, and how to fetch it."""
    try:
        with open(path, "rb") as f:
            text = f.read(1024).decode("ascii", "replace")
    except OSError:
        text = ""
    size = re.search(r"^size (\d+)", text, re.MULTILINE)
    of = f" of {int(size.group(1)):,} bytes" if size else ""
    return (f"a Git LFS pointer, not the file{of}: fetch it with `git lfs pull` in the repository it came from "
            "(or download the file itself)")


def _old_pickle(path: str, head: bytes) -> bool:
    """A pickle of protocol 0 or 1 (no ``\\x80`` mark): it starts with an opcode that builds a
    container or names a global (``(``, ``}``, ``]``, ``)``, ``c``), and its last byte is STOP (``.``)."""
    if head[:1] not in (b"(", b"}", b"]", b")", b"c"):
        return False
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"."
    except OSError:
        return False


# -------------------------------------------------------------------- loading into a tree


def _safetensors(path: str) -> tuple[dict, dict]:
    from safetensors import safe_open

    out = {}
    try:
        with safe_open(path, framework="np") as f:
            meta = f.metadata() or {}
            for k in f.keys():
                out[k] = f.get_tensor(k)
    except Exception as e:  # noqa: BLE001 - safetensors raises its own SafetensorError for anything malformed
        if "bf16" in str(e).lower() or "bfloat16" in str(e).lower():
            return _safetensors_torch(path)
        raise AnimsupError(f"{path}: a broken safetensors file: {str(e)[:120]}") from None
    return out, dict(meta)


def _safetensors_torch(path: str) -> tuple[dict, dict]:
    from safetensors import safe_open

    with safe_open(path, framework="pt", device="cpu") as f:
        meta = f.metadata() or {}
        return {k: f.get_tensor(k).float().numpy() for k in f.keys()}, dict(meta)


def _torch_zip(path: str):
    try:
        import torch
    except ImportError:
        raise AnimsupError(f"{path}: a torch checkpoint; reading it needs torch (pip install torch)") from None
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch's unpickler raises many kinds
        msg = str(e).split("\n")[0][:160]
        raise AnimsupError(f"{path}: torch's weights-only loader refused this checkpoint ({msg}); "
                           "animsup never runs a checkpoint's code") from None


def _npy_claim(f, path: str) -> tuple[int, int]:
    """(elements, bytes) the .npy header at ``f``'s position claims for its array."""
    from numpy.lib import format as npformat

    try:
        version = npformat.read_magic(f)
        shape, _, dtype = (npformat.read_array_header_1_0(f) if version == (1, 0)
                           else npformat.read_array_header_2_0(f, max_header_size=1 << 20))
    except Exception as e:  # noqa: BLE001 - numpy raises ValueError/SyntaxError/... on a broken header
        raise AnimsupError(f"{path}: a broken .npy header: {str(e)[:100]}") from None
    count = int(np.prod([int(d) for d in shape], dtype=object))
    return count, count * max(dtype.itemsize, 1)


def _check_npy_sizes(path: str, kind: str) -> None:
    """Refuse an .npy/.npz whose headers claim more bytes than the file (or zip member) holds:
    numpy allocates the claimed array before it reads a byte of it."""
    if kind == "npy":
        with open(path, "rb") as f:
            claim = _npy_claim(f, path)[1]
            left = os.fstat(f.fileno()).st_size - f.tell()
        if claim > left:
            raise AnimsupError(f"{path}: the .npy header claims {claim} bytes of data, the file holds {left}")
        return
    total = 0  # a compressed member may legitimately unpack to far more than the file: check memory first
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            with z.open(info) as f:
                count, claim = _npy_claim(f, f"{path}:{info.filename}")
            if claim > info.file_size:
                raise AnimsupError(f"{path}: {info.filename} claims {claim} bytes of data, its zip entry holds {info.file_size}")
            total += count
    check_memory(2 * 8 * total, f"{path}: importing this checkpoint")  # as load_tree's check: float64, twice


def _leaf_bytes(obj, path: str, depth: int = 0) -> int:
    """The bytes the float64 tree of ``obj`` will hold; refuses a torch tensor that is a broadcast
    (zero-stride) view holding more elements than its storage backs."""
    if depth > 50:
        raise AnimsupError("a checkpoint nested more than 50 levels deep")
    if type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "untyped_storage"):
        backed = obj.untyped_storage().nbytes()
        if obj.numel() * obj.element_size() > backed:
            raise AnimsupError(f"{path}: a tensor of shape {list(obj.shape)} is a broadcast view of only {backed} bytes "
                               "(zero strides); refusing to expand it")
        return obj.numel() * 8
    if isinstance(obj, np.ndarray):
        return obj.size * 8 if obj.dtype.kind in "iufb" else 0
    if isinstance(obj, dict):
        return sum(_leaf_bytes(v, path, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_leaf_bytes(v, path, depth + 1) for v in obj)
    return 0


def _to_tree(obj, depth: int = 0):
    """Tensors and arrays -> float64 numpy; dicts/lists kept; inert objects kept as they are."""
    if depth > 50:
        raise AnimsupError("a checkpoint nested more than 50 levels deep")
    if type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach"):
        import torch

        return obj.detach().to(device="cpu", dtype=torch.float64).numpy()
    if isinstance(obj, np.ndarray):
        return obj.astype(np.float64) if obj.dtype.kind in "iufb" else obj
    if isinstance(obj, dict):
        return {str(k): _to_tree(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_tree(v, depth + 1) for v in obj]
    return obj


def load_tree(path: str) -> tuple[object, dict, str]:
    """(tree, metadata, container) of one file."""
    kind = sniff(path)
    meta: dict = {}
    if kind == "safetensors":
        tree, meta = _safetensors(path)
    elif kind == "torch-zip":
        tree = _torch_zip(path)
    elif kind in ("npz", "npy"):
        try:
            _check_npy_sizes(path, kind)
            if kind == "npz":
                with np.load(path, allow_pickle=False) as z:
                    tree = {k: z[k] for k in z.files}
            else:
                tree = np.load(path, allow_pickle=False)
        except AnimsupError:
            raise
        except ValueError as e:
            if "allow_pickle" in str(e) or "Object arrays" in str(e):
                raise AnimsupError(f"{path}: an .{kind} holding Python objects (refused: {str(e)[:80]})") from None
            raise AnimsupError(f"{path}: a broken .{kind} file: {str(e)[:100]}") from None
        except Exception as e:  # noqa: BLE001 - numpy/zipfile raise many kinds on corrupt data
            raise AnimsupError(f"{path}: a broken .{kind} file: {type(e).__name__}: {str(e)[:100]}") from None
    elif kind == "pickle":
        from animsup.importers import safe_pickle

        tree = safe_pickle.load(path)
    elif kind == "html":
        raise AnimsupError(f"{path}: a d3 HTML weight history is imported on its own, not among checkpoints")
    else:
        raise AnimsupError(f"{path}: is a {kind}, not a checkpoint (animsup import --format c-log reads C logs)")
    # the float64 tree, then the W history interpret() builds from it: twice the tree at most
    check_memory(2 * _leaf_bytes(tree, path), f"{path}: importing this checkpoint")
    return _to_tree(tree), meta, kind


# -------------------------------------------------------------------- interpreting

_LOSS = re.compile(r"(^|\.)(loss|losses|loss_history|train_loss)$")
_STEPS = re.compile(r"(^|\.)(steps|step|iters|iterations|loss_steps)$")


@dataclass
class Imported:
    """A W history in animsup's layout, with what was inferred."""

    W: np.ndarray  # [T, K, m, n]
    b: np.ndarray | None = None  # [T, K, n]
    W_dec: np.ndarray | None = None
    loss: np.ndarray | None = None  # [T, K] or [T, 1] at the snapshots
    loss_steps: np.ndarray | None = None  # a finer loss curve: steps [L] ...
    loss_curve: np.ndarray | None = None  # ... and [L, K] or [L, 1]
    steps: np.ndarray | None = None
    curves: dict = field(default_factory=dict)
    inferred: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)  # feature_probability, importance, seed... found in the file
    notes: list = field(default_factory=list)  # one line each: what the import left out, and why
    stages: list | None = None  # the header's sparsity stages (folders imported as stages)


def _flat(tree, prefix: str = "") -> dict:
    """name -> array of every numeric array in a nested dict (names joined with '.')."""
    out = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}{k}."))
    elif isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        out[prefix[:-1]] = tree
    return out


def orient(W: np.ndarray, layout: str | None, history: bool, inferred: dict, name: str = "W") -> np.ndarray:
    """``W`` as [T, K, m, n] (history) or [1, K, m, n]; ``layout`` a key of
    :data:`animsup.log.recorder.LAYOUTS` or None (inferred from the shape: the hidden size is the smaller one).

    :raises AnimsupError: a shape that does not fit, a square W without a layout, an unknown layout
    """
    lead = 1 if history else 0
    per = W.ndim - lead
    if per not in (2, 3):
        raise AnimsupError(f"{name} has shape {list(W.shape)}; expected [m, n], [K, m, n] "
                           f"{'with a leading T axis ' if history else ''}(pass --layout)")
    a, b = W.shape[-2], W.shape[-1]
    if layout is None:
        if a == b:
            raise AnimsupError(f"{name} is square ({a}x{b}): cannot tell features from hidden dimensions; pass --layout kmn or knm")
        layout = ("k" if per == 3 else "") + ("mn" if a < b else "nm")
        inferred.setdefault("layout", f"{layout} ({name}: the smaller axis is taken as n_hidden)")
    elif len(check_layout(layout, "--layout", AnimsupError)) != per:
        raise AnimsupError(f"--layout {layout} does not fit {name} of shape {list(W.shape)}")
    if 0 in W.shape:  # a zero-size axis: nothing to import, and its other axes must not size b
        raise AnimsupError(f"{name} has shape {list(W.shape)}: an axis of length 0, no weights to import")
    W = layout_to_kmn(W, layout)
    problem = size_problem(*W.shape[-3:])
    if problem is not None:  # checked before anything (the bias, the log's header) is sized from it
        raise AnimsupError(f"{name}: {problem}")
    return W if history else W[None]


def _bias(b: np.ndarray, T: int, K: int, n: int, history: bool) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    shape = (T, K, n) if history else (1, K, n)
    if b.size != int(np.prod(shape)):
        raise AnimsupError(f"the bias does not fit {K} instance(s) of {n} features; pass --b KEY")
    return b.reshape(shape)


def interpret(tree, meta: dict, *, w=None, b=None, w_dec=None, layout=None, history=None) -> Imported:
    """Turn one file's tree into an :class:`Imported` (see the module docstring; the keys are
    chosen by :mod:`animsup.importers.keys`, a wrapper's step, loss and hyperparameters read by
    :mod:`animsup.importers.wrappers`)."""
    from animsup.importers import keys, wrappers

    if isinstance(tree, list) and tree and all(isinstance(r, dict) and "weights" in r for r in tree):
        raise AnimsupError("a list of runs: handled by interpret_runs")
    if isinstance(tree, dict) and _is_data_log(tree):
        return _data_log(tree, layout, b)
    notes: list[str] = []
    if isinstance(tree, np.ndarray):
        tree = {"W": _bare_array(tree, w)}
        notes.append(f"the file is one unnamed array {keys.shape_text(tree['W'])}: taken as W")
    model_tree, wrap = wrappers.unwrap(tree)
    arrays = _flat(model_tree)
    if model_tree is not tree:  # a loss curve or steps beside a state dict
        arrays.update({k: v for k, v in _flat({k: v for k, v in tree.items() if _LOSS.search(k)}).items() if v.ndim})
    if not arrays:
        raise AnimsupError(f"the file holds no floating-point arrays{_holds(tree)}")
    choice = keys.choose(arrays, w=w, w_dec=w_dec)
    kw, dk = choice.w, choice.w_dec
    inferred: dict = {} if wrap.kind is None else {"source": wrap.kind}
    if kw != "W" or w is None:
        inferred["w_key"] = kw
    W = arrays[kw]
    hist = W.ndim == 4 if history is None else history
    Wk = orient(W, layout, hist, inferred)
    T, K, m, n = Wk.shape
    Wd = None
    if dk is not None:
        Wd = _decoder(arrays[dk], dk, W, Wk, layout, hist, inferred)
        inferred.update({"w_dec_key": choice.why.get("w_dec", dk)} if Wd is not None else {})
    bk = None if b == "" else keys.pick_bias(arrays, b, n, {k for k in (kw, dk) if k is not None})
    bias = None
    if bk is not None:
        bias = _bias(arrays[bk], T, K, n, hist)
        inferred["b_key"] = bk
    out = Imported(W=Wk, b=bias, W_dec=Wd, inferred=inferred, notes=notes)
    lk = _loss(out, arrays, K)
    sk = _step_array(out, arrays, T, hist)
    _wrapper_facts(out, wrap, hist)
    config = _config_from_meta(meta)
    if config:
        out.facts.update(config)
        inferred["config"] = "from the file's metadata string"
    left = keys.unused_note(arrays, {k for k in (kw, dk, bk, lk, sk) if k is not None})
    if left:
        out.notes.append(left)
    state = sorted({m.group(2) for k in arrays if (m := keys.TRAINING_STATE.search(k))})
    if wrap.left_out or state:
        out.notes.append(f"{wrap.kind or 'the file'}: training state not imported "
                         f"({', '.join((wrap.left_out + state)[:8])})")
    return out


def _bare_array(a: np.ndarray, w: str | None) -> np.ndarray:
    """An unnamed array (an .npy) as W, unless it looks like a grid of non-negative numbers (a
    loss grid, a phase diagram): a trained TMS W has entries of both signs."""
    if a.dtype.kind != "f":
        raise AnimsupError(f"the file is one array of {a.dtype} values, not floating-point weights")
    if w != "W" and a.size > 1 and a.ndim in (2, 3) and np.all(a[np.isfinite(a)] >= 0):
        raise AnimsupError(f"the file is one unnamed array of shape {list(a.shape)} with no negative value: "
                           "it looks like a grid (losses, a phase diagram), not weights (a TMS W has entries of "
                           "both signs); pass --w W to import it as W anyway")
    return a


def _holds(tree) -> str:
    """`` (it holds ...)``: the top-level keys or the object a file holds, paths left out."""
    if isinstance(tree, dict):
        names = [str(k) for k in tree if "/" not in str(k) and "\\" not in str(k)][:10]
        return f" (top-level keys: {', '.join(names)})" if names else ""
    return f" (it holds {type(tree).__name__ if not hasattr(tree, 'name') else repr(tree)})"


def _decoder(D: np.ndarray, dk: str, W: np.ndarray, Wk: np.ndarray, layout, hist: bool, inferred: dict) -> np.ndarray | None:
    """The decoder in animsup's layout [T, K, m, n] (the axis of size n is its feature axis), or
    None when it equals the encoder (tied)."""
    T, K, m, n = Wk.shape
    dl = None
    if D.shape[-2:] in ((m, n), (n, m)) and m != n:
        dl = ("k" if D.ndim - hist == 3 else "") + ("mn" if D.shape[-1] == n else "nm")
    Wd = orient(D, dl or layout, hist, {}, "W_dec")
    if Wd.shape != Wk.shape:
        raise AnimsupError(f"decoder {dk!r} has shape {list(D.shape)}, which does not fit W {list(W.shape)}")
    if np.allclose(Wd, Wk, rtol=1e-6, atol=1e-8):
        inferred["model"] = f"tied (decoder {dk!r} equals the encoder's transpose)"
        return None
    inferred["model"] = f"untied (decoder {dk!r} differs from the encoder)"
    return Wd


def _loss(out: Imported, arrays: dict, K: int) -> str | None:
    """A loss curve of the file into ``out``: [L] (aggregate) or [L, K] (per instance); its key."""
    lk = next((k for k in arrays if _LOSS.search(k) and arrays[k].ndim in (1, 2)), None)
    if lk is None:
        return None
    L = arrays[lk]
    if L.ndim == 1:  # one number per step for all instances: aggregate (e.g. summed over instances)
        out.loss_steps, out.loss_curve = np.arange(len(L)), L[:, None]
        out.inferred["loss"] = f"{lk!r}: {len(L)} values, one per step for all instances (aggregate)"
    elif L.shape[1] == K:
        out.loss_steps, out.loss_curve = np.arange(len(L)), L
        out.inferred["loss"] = f"{lk!r}: [{len(L)}, {K}] per instance"
    else:
        out.notes.append(f"{lk!r} {list(L.shape)} is not [steps] or [steps, {K} instances]: not imported")
    return lk


def _step_array(out: Imported, arrays: dict, T: int, hist: bool) -> str | None:
    """A 1-D array of increasing whole steps: the history's steps (length T) and/or the loss
    curve's (its length); its key when used."""
    for k, a in arrays.items():
        if not (_STEPS.search(k) and a.ndim == 1 and len(a) and np.all(a == np.round(a)) and np.all(np.diff(a) > 0)
                and a[0] >= 0):
            continue
        used = False
        if hist and len(a) == T:
            out.steps, used = a.astype(np.int64), True
            out.inferred["steps"] = f"the file's {k!r}"
        if out.loss_curve is not None and len(a) == len(out.loss_curve):
            out.loss_steps, used = a.astype(np.int64), True
            out.inferred["loss_steps"] = f"the file's {k!r}"
        if used:
            return k
    return None


def _wrapper_facts(out: Imported, wrap, hist: bool) -> None:
    """The step, the loss and the hyperparameters a wrapper dict stated, into ``out``."""
    if wrap.step is not None and not hist:
        out.steps = np.asarray([wrap.step], dtype=np.int64)
        out.inferred["steps"] = f"the file's {wrap.step_key!r} ({wrap.step})"
    if wrap.loss is not None and not hist:
        out.loss = np.asarray([[wrap.loss]])
        out.inferred.setdefault("loss", f"the file's {wrap.loss_key!r}: one number at its step")
    if wrap.facts:
        out.facts.update(wrap.facts)
        out.inferred["config"] = "the file's hyperparameters"


def _is_data_log(tree: dict) -> bool:
    keys = set(tree)
    return "W" in keys and isinstance(tree["W"], list) and ("steps" in keys or "step" in keys)


def _data_log(tree: dict, layout, bkey) -> Imported:
    """ARENA's data_log: {"steps": [...], "W": [per snapshot], "b_final": [...], "loss": [...]}."""
    inferred = {"source": "ARENA-style data_log dict (steps, W, b_final, loss per snapshot)"}
    Ws = [np.asarray(x, dtype=np.float64) for x in tree["W"]]
    if not Ws or len({x.shape for x in Ws}) != 1:
        raise AnimsupError("data_log 'W' must be a non-empty list of equally shaped arrays")
    Wk = orient(np.stack(Ws), layout, True, inferred)
    T, K, m, n = Wk.shape
    steps = np.asarray(tree.get("steps", tree.get("step")), dtype=np.float64).reshape(-1)
    if len(steps) != T:
        raise AnimsupError(f"data_log has {len(steps)} steps for {T} W snapshots")
    bl = tree.get(bkey or "b_final", tree.get("b"))
    bias = _bias(np.stack([np.asarray(x, dtype=np.float64) for x in bl]), T, K, n, True) if bl is not None else None
    out = Imported(W=Wk, b=bias, steps=steps.astype(np.int64), inferred=inferred)
    if tree.get("loss") is not None:
        L = np.asarray([np.asarray(x, dtype=np.float64).reshape(-1) for x in tree["loss"]])
        if L.shape == (T, K):
            out.loss = L
        elif L.shape == (T, 1):
            out.loss = L
            inferred["loss"] = "one number per snapshot for all instances (aggregate)"
        else:
            out.notes.append(f"data_log 'loss' has shape {list(L.shape)}, not [{T}, {K}] or [{T}, 1]: not imported")
    left = sorted(str(k) for k in tree if k not in ("W", "steps", "step", "loss", "b", bkey or "b_final"))
    if left:
        out.notes.append(f"data_log keys not imported: {', '.join(left[:8])}")
    return out


# ``key = value`` in a metadata string. Linear time: a key starts only after a non-word character
# (no retry inside a word) and every quantifier is possessive (no backtracking), so even a 1 MB
# adversarial string takes well under a second (the old pattern, ``(\w+)\s*=\s*...``, was
# quadratic: a 64 KB word took ~30 s). Only the first MAX_META_CHARS of each value are read.
_CONFIG_FIELD = re.compile(
    r"(?<!\w)(\w++)\s*+=\s*+"
    r"([-+]?+(?:\d++(?:\.\d*+)?+(?:[eE][-+]?+\d++)?+|\.\d++)|True|False|'[^']*+'|\"[^\"]*+\"|" + REPR + ")"
)
#: the characters of one metadata value that :func:`_config_from_meta` parses (a config string is
#: a few hundred; safetensors allows 100 MB headers)
MAX_META_CHARS = 1 << 20
#: the reprs of one metadata value that :func:`_config_from_meta` turns into numbers
MAX_META_REPRS = 1000


def _config_from_meta(meta: dict) -> dict:
    """Numbers from a ``str(Config(n_instances=8, n_features=5, ...))`` metadata string (parsed
    as text with a linear-time regular expression; never evaluated). Values written as reprs
    (``Array([0.1, 0.05], dtype=float32)``, ``array([...])``, ``tensor([...])``, ``np.float32(0.1)``)
    become numbers or lists of numbers."""
    out: dict = {}
    for v in meta.values():
        if isinstance(v, str) and "=" in v and "(" in v:
            reprs = 0  # a config has a few; a crafted string could hold 200,000 (each parse costs ~30 us)
            for k, val in _CONFIG_FIELD.findall(v[:MAX_META_CHARS]):
                if val in ("True", "False"):
                    out[k] = val == "True"
                elif val[:1] in "'\"":
                    out[k] = val[1:-1]
                elif val[:1].isalpha() or val[:1] == "[":  # Array([...]), np.float32(0.1), [0.1, 0.2]: numbers
                    reprs += 1
                    parsed = parse_repr(val) if reprs <= MAX_META_REPRS else None
                    if parsed is not None:
                        out[k] = parsed
                elif len(val) <= 40:  # longer: no config number (and int() of it is slow, or refused)
                    out[k] = float(val) if any(c in val for c in ".eE") else int(val)
    return out


# -------------------------------------------------------------------- lists of runs (devinterp / aisf)


def interpret_runs(tree: list, *, run_index=None) -> tuple[Imported, dict]:
    """A pickled list of runs: each {"parameters": {...}, "logs": DataFrame, "weights": [state_dict, ...]}.

    In these ``parameters`` name the number of features ``m`` and the hidden size ``n`` (the
    reverse of the paper's names); ``weights[0]`` is step 0 and ``weights[i]`` the row i - 1 of
    ``logs`` (which has no row for step 0). Runs of the same sizes and steps become instances.
    """
    from animsup.importers import safe_pickle

    if run_index is not None and not 0 <= run_index < len(tree):
        raise AnimsupError(f"--run {run_index}: the file has runs 0..{len(tree) - 1}")
    runs = tree if run_index is None else [tree[run_index]]
    Ws: list[np.ndarray] = []
    bs: list[np.ndarray] = []
    losses: list[np.ndarray | None] = []
    curves_all: list[dict[str, np.ndarray]] = []
    facts: list[dict] = []
    steps_all: list[np.ndarray] = []
    skipped: list[str] = []  # logs columns that hold something other than numbers
    for r in runs:
        params = r.get("parameters", {}) if isinstance(r.get("parameters"), dict) else {}
        weights = r["weights"]
        if not isinstance(weights, list) or not weights:
            raise AnimsupError("a run's 'weights' must be a non-empty list of state dicts")
        W1_list: list[np.ndarray] = []
        b1_list: list[np.ndarray] = []
        for sd in weights:
            arrays = _flat(sd)
            emb = arrays.get("embedding.weight")
            if emb is None:
                raise AnimsupError(f"a run's state dict has no 'embedding.weight' (keys: {', '.join(sorted(arrays))})")
            W1_list.append(emb)  # [hidden, features] = animsup's [m, n]
            unemb = arrays.get("unembedding.weight")
            if unemb is not None and not np.allclose(unemb, emb.T):
                raise AnimsupError("'unembedding.weight' is not the transpose of 'embedding.weight' (untied runs are not supported here)")
            b1_list.append(arrays.get("unembedding.bias", np.zeros(emb.shape[1])))
        W1, b1 = np.stack(W1_list), np.stack(b1_list)
        n_feat, n_hid = params.get("m", W1.shape[2]), params.get("n", W1.shape[1])
        if (W1.shape[1], W1.shape[2]) != (n_hid, n_feat):
            raise AnimsupError(f"parameters say m={n_feat} features and n={n_hid} hidden, "
                               f"but embedding.weight is {list(W1.shape[1:])} ([hidden, features])")
        cols = {}
        logs = r.get("logs")
        if safe_pickle.is_frame(logs):
            cols = safe_pickle.frame_columns(logs, skipped)
        elif isinstance(logs, dict):  # a dict of columns: each read value by value, as a frame's object column
            for k, v in logs.items():
                if isinstance(v, (list, tuple, np.ndarray)):
                    row = safe_pickle.object_row(list(v) if not isinstance(v, np.ndarray) else v.reshape(-1))
                    if row is None:
                        skipped.append(str(k))
                    else:
                        cols[str(k)] = row
        if "step" in cols:
            if len(cols["step"]) != len(W1) - 1:
                raise AnimsupError(f"a run has {len(W1)} weights but {len(cols['step'])} log rows (expected one fewer: "
                                   "weights[0] is step 0, which has no log row)")
            steps = np.concatenate([[0], cols["step"]]).astype(np.int64)
        else:
            steps = np.arange(len(W1))
        Ws.append(W1)
        bs.append(b1)
        steps_all.append(steps)
        losses.append(np.concatenate([[np.nan], cols["loss"]]) if "loss" in cols else None)
        curves_all.append({k: v for k, v in cols.items() if k not in ("step", "loss")})
        facts.append(params)
    if len({w.shape for w in Ws}) != 1 or any(not np.array_equal(s, steps_all[0]) for s in steps_all):
        raise AnimsupError(f"the {len(runs)} runs differ in sizes or steps; import one with --run I (0..{len(tree) - 1})")
    out = Imported(W=np.stack(Ws, axis=1), b=np.stack(bs, axis=1), steps=steps_all[0])
    out.inferred = {"source": "pickled list of runs (devinterp/aisf style)",
                    "n_m": "parameters 'm' = n_features, 'n' = n_hidden (reversed names)",
                    "step_0": "weights[0] is step 0; logs rows are steps 1.. (no loss at step 0)"}
    known = [loss for loss in losses if loss is not None]
    if len(known) == len(losses):
        L = np.stack(known, axis=1)  # [T, K]; step 0 has none: keep the logged steps only
        out.loss_steps, out.loss_curve = steps_all[0][1:], L[1:]
    elif known:
        out.notes.append(f"losses not imported: {len(losses) - len(known)} of {len(losses)} runs have no 'loss' column")
    names = set.intersection(*(set(c) for c in curves_all)) if curves_all else set()
    for name in sorted(names):
        vals = np.stack([c[name] for c in curves_all], axis=1)
        if np.isfinite(vals).all():
            out.curves[name] = (steps_all[0][1:], vals)
    out.facts = {"runs": facts}
    if skipped:
        out.notes.append(f"logs columns that are not numbers, not imported: {', '.join(sorted(set(skipped)))}")
    left = sorted(set().union(*(set(c) for c in curves_all)) - set(out.curves))
    if left:
        out.notes.append(f"logs columns not imported (not finite in every run, or not in every run): {', '.join(left)}")
    return out, facts[0]


# -------------------------------------------------------------------- many files


_STEP_IN_NAME = re.compile(r"(\d+)(?!.*\d)")


HUB_CONFIG = "cfg.json"  # written by `animsup export --to safetensors` (docs/exporting.md)


def hub_config(path: str) -> dict | None:
    """The ``cfg.json`` of a folder ``animsup export --to safetensors`` wrote, else None."""
    cfg_path = os.path.join(path, HUB_CONFIG)
    if not os.path.isdir(path) or not os.path.isfile(cfg_path):
        return None
    try:
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise AnimsupError(f"{cfg_path}: not a readable JSON file ({str(e)[:80]})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != "animsup-safetensors":
        return None
    files, steps = cfg.get("files"), cfg.get("steps")
    if not isinstance(files, dict) or not isinstance(steps, list) or [str(s) for s in steps] != list(files):
        raise AnimsupError(f"{cfg_path}: 'files' and 'steps' do not match")
    return cfg


def expand(paths: list[str]) -> list[str]:
    """Files of ``paths`` (directories: their files; globs expanded), ordered by the step in
    each file name (the last number in it) when there are several."""
    files = []
    for p in paths:
        cfg = hub_config(p)
        if cfg is not None:
            files += [os.path.join(p, cfg["files"][str(s)]) for s in cfg["steps"]]
        elif os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if not f.startswith(".") and os.path.isfile(os.path.join(p, f)))
        elif any(c in p for c in "*?[") and not os.path.exists(p):
            hits = sorted(_glob.glob(p))
            if not hits:
                raise AnimsupError(f"{p}: no file matches")
            files += hits
        else:
            files.append(p)
    if len(files) > 1:
        steps = [step_of(f) for f in files]
        if any(s is None for s in steps) or len(set(steps)) != len(steps):
            return sorted(files)  # ordered later by the steps the files state, else refused (check_name_steps)
        return [f for _, f in sorted(zip(steps, files))]
    return files


def check_name_steps(files: list[str]) -> None:
    """Several checkpoints that state no step are ordered by the number in their names: each
    must have one, and no two the same.

    :raises AnimsupError: a name without a number, or two names with the same one"""
    for f in files:
        if step_of(f) is None:
            raise AnimsupError(f"{f}: no step number in the file name, and the file states no step; "
                               "several checkpoints are ordered by it")
    steps = [step_of(f) for f in files]
    if len(set(steps)) != len(steps):
        raise AnimsupError("two checkpoint files have the same step number in their names (and state no step)")


def step_of(path: str) -> int | None:
    m = _STEP_IN_NAME.search(os.path.basename(path))
    return int(m.group(1)) if m else None


def json_safe(d):
    return json.loads(json.dumps(d, default=str))
