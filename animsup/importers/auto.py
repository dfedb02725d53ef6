"""Checkpoints and histories recognised by content (safetensors, torch zip, .npz/.npy, pickles,
directories and globs of checkpoints): see :mod:`animsup.importers.checkpoint` and
docs/importing.md."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from animsup import models
from animsup.errors import AnimsupError, check_memory
from animsup.importers.result import ImportResult
from animsup.importers import checkpoint as ck
from animsup.log.recorder import check_layout


def _vector(text, name: str) -> np.ndarray:
    """A number, a comma/space separated list, or a file (.npy, or text numbers)."""
    if isinstance(text, (int, float)):
        return np.asarray(float(text))
    if isinstance(text, (list, tuple)):  # from a cfg.json
        return np.asarray(text, dtype=np.float64)
    s = str(text).strip()
    if os.path.isfile(s):
        with open(s, "rb") as f:
            head = f.read(6)
        try:
            if head == b"\x93NUMPY":
                ck._check_npy_sizes(s, "npy")
                return np.load(s, allow_pickle=False).astype(np.float64).reshape(-1)
            with open(s, encoding="utf-8") as f:
                s = f.read()
        except (ValueError, OSError, UnicodeDecodeError) as e:
            raise AnimsupError(f"--{name} {text}: not a file of numbers ({str(e)[:80]})") from None
    try:
        vals = [float(v) for v in s.replace(",", " ").split()]
    except ValueError:
        raise AnimsupError(f"--{name} takes a number, a list (0.9,0.81,...) or a file of numbers, got {text!r}") from None
    if not vals:
        raise AnimsupError(f"--{name} is empty")
    if not all(math.isfinite(v) for v in vals):
        raise AnimsupError(f"--{name} must be finite numbers, got {text!r}")
    return np.asarray(vals[0] if len(vals) == 1 else vals)


def load(paths, *, w=None, b=None, w_dec=None, layout=None, run=None) -> tuple[ck.Imported, str]:
    """Read ``paths`` (files, a directory, or a glob) into one :class:`checkpoint.Imported`."""
    hub = ck.hub_config(os.fspath(paths[0])) if len(paths) == 1 else None
    if hub is not None:
        return _hub(os.fspath(paths[0]), hub), os.fspath(paths[0])
    files = ck.expand([os.fspath(p) for p in paths])
    if not files:
        raise AnimsupError("no input files")
    if len(files) == 1:
        tree, meta, kind = ck.load_tree(files[0])
        if isinstance(tree, list) and tree and all(isinstance(r, dict) and "weights" in r for r in tree):
            imp, _ = ck.interpret_runs(tree, run_index=run)
        else:
            imp = ck.interpret(tree, meta, w=w, b=b, w_dec=w_dec, layout=layout)
        imp.inferred.setdefault("container", kind)
        return imp, files[0]
    parts: list[ck.Imported] = []
    kinds: set[str] = set()
    held = 0  # bytes of the histories read so far: concatenated at the end (twice)
    for f in files:
        tree, meta, kind = ck.load_tree(f)
        kinds.add(kind)
        one = ck.interpret(tree, meta, w=w, b=b, w_dec=w_dec, layout=layout, history=False)
        held += one.W.nbytes + (one.b.nbytes if one.b is not None else 0) + (one.W_dec.nbytes if one.W_dec is not None else 0)
        check_memory(2 * held, f"importing {len(files)} checkpoints")
        if parts and one.W.shape != parts[0].W.shape:
            raise AnimsupError(f"{f}: W has shape {list(one.W.shape[1:])}, earlier files {list(parts[0].W.shape[1:])}")
        parts.append(one)
    imp = parts[0]
    imp.W = np.concatenate([p.W for p in parts])
    imp.b = np.concatenate([p.b for p in parts]) if all(p.b is not None for p in parts) else None
    imp.W_dec = np.concatenate([p.W_dec for p in parts]) if all(p.W_dec is not None for p in parts) else None
    imp.steps = np.asarray([ck.step_of(f) for f in files], dtype=np.int64)
    imp.loss_steps = imp.loss_curve = None
    imp.inferred["steps"] = f"from the {len(files)} file names (the last number in each)"
    imp.inferred["container"] = ", ".join(sorted(kinds))
    return imp, os.path.dirname(files[0]) or "."


def _hub(folder: str, cfg: dict) -> ck.Imported:
    """A folder ``animsup export --to safetensors`` wrote: its files in cfg.json's order, in
    animsup's layout, with the steps, losses and facts of cfg.json."""
    parts = [ck.interpret(*ck.load_tree(f)[:2], layout="kmn", history=False) for f in ck.expand([folder])]
    imp = parts[0]
    imp.W = np.concatenate([p.W for p in parts])
    imp.b = np.concatenate([p.b for p in parts]) if all(p.b is not None for p in parts) else None
    imp.W_dec = np.concatenate([p.W_dec for p in parts]) if all(p.W_dec is not None for p in parts) else None
    imp.steps = np.asarray(cfg["steps"], dtype=np.int64)
    if cfg.get("loss") is not None:
        imp.loss = np.asarray(cfg["loss"], dtype=np.float64)
    imp.inferred = {"container": "safetensors", "source": f"animsup export folder ({ck.HUB_CONFIG})"}
    if cfg.get("loss_scope") == "aggregate":
        imp.inferred["loss"] = "one number per snapshot for all instances (aggregate, from cfg.json)"
    imp.facts = {"hub": cfg}
    return imp


@dataclass
class _Provenance:
    """What the user gave, what was inferred from the file, and the notes the import prints."""

    given: dict[str, object] = field(default_factory=dict)
    inferred: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def convert(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    w: str | None = None,
    b: str | None = None,
    w_dec: str | None = None,
    layout: str | None = None,
    run: int | None = None,
    importance: str | float | None = None,
    feature_probability: str | float | None = None,
    model: str | None = None,
    seed: int | Sequence[int] | None = None,
    force: bool = False,
    progress: object = None,
) -> ImportResult:
    """Import checkpoint(s) ``paths`` into the animsup log ``out_path`` (written atomically)."""
    from animsup.log.schema import make_header

    if os.path.exists(out_path) and not force:
        raise AnimsupError(f"{out_path} already exists (pass --force to overwrite it)")
    if layout is not None:
        check_layout(layout, "--layout", AnimsupError)
    imp, source = load(paths if isinstance(paths, (list, tuple)) else [paths], w=w, b=b, w_dec=w_dec, layout=layout, run=run)
    T, K, m, n = imp.W.shape
    hub = imp.facts.get("hub") or {}
    from_hub = [k for k, v in (("importance", importance), ("feature_probability", feature_probability),
                               ("model", model)) if v is None and k in hub]
    importance = importance if "importance" not in from_hub else hub["importance"]
    feature_probability = feature_probability if "feature_probability" not in from_hub else hub["feature_probability"]
    model = model if "model" not in from_hub else hub["model"]
    seed = seed if seed is not None or not hub else hub.get("seeds")
    _check_values(imp, source)
    prov = _Provenance(inferred=dict(imp.inferred))
    steps = _steps(imp, source, prov)
    imp_arr = _importance(importance, imp.facts, n, K, prov)
    fp = _feature_probability(feature_probability, imp.facts, K, prov)
    model = _model(model, imp, prov)
    for k in from_hub:
        prov.given.pop(k, None)
        prov.inferred[k] = f"from {ck.HUB_CONFIG}"
    loss_scope = _loss_scope(imp, K, prov)
    seeds = [seed] * K if seed is None or isinstance(seed, int) else list(seed)
    header = make_header(
        n_features=n, n_hidden=m, model=model, feature_probability=fp if fp.ndim else float(fp), seed=seeds,
        importance=imp_arr, config=ck.json_safe({"imported": True, **{k: v for k, v in imp.facts.items() if k != "runs"}}),
        loss_scope=loss_scope, curves=sorted(imp.curves) or None,
        provenance=ck.json_safe({"source": os.path.abspath(source), "given": prov.given, "inferred": prov.inferred}),
    )
    if imp.b is None:
        header["b_recorded"] = False
        prov.notes.append("no bias in the file: zeros written")
    _write(out_path, header, imp, steps, loss_scope, prov.notes)
    n_loss = 0 if imp.loss_curve is None else len(imp.loss_curve)
    return ImportResult(os.fspath(out_path), "completed", n, m, int(steps[-1]), T, n_loss, prov.notes)


def _check_values(imp: ck.Imported, source: str) -> None:
    """W, b and W_dec finite and within float32."""
    for name, a in (("W", imp.W), ("b", imp.b), ("W_dec", imp.W_dec)):
        if a is not None and not np.isfinite(a).all():
            raise AnimsupError(f"{source}: {name} contains NaN or infinity")
        if a is not None and np.abs(a).max(initial=0) > 3.4e38:
            raise AnimsupError(f"{source}: {name} has values too large for float32")


def _steps(imp: ck.Imported, source: str, prov: _Provenance) -> np.ndarray:
    """(shape: [T]) the snapshots' steps: the file's, else 0..T-1 (said so)."""
    T = len(imp.W)
    steps = imp.steps
    if steps is None and T == 1 and imp.loss_steps is not None and len(imp.loss_steps):
        steps = np.asarray([imp.loss_steps[-1]], dtype=np.int64)  # a final checkpoint with its loss history
        prov.inferred["steps"] = f"the checkpoint is taken as the last step of its loss history ({int(steps[0])})"
    if steps is None:
        steps = np.arange(T, dtype=np.int64)
        if T > 1:
            prov.inferred["steps"] = "not in the file: snapshots numbered 0..T-1"
            prov.notes.append("the file has no steps: snapshots are numbered 0..T-1")
    if T > 1 and not np.all(np.diff(steps) > 0):
        raise AnimsupError(f"{source}: the steps do not increase")
    return steps


def _importance(importance: str | float | None, facts: dict, n: int, K: int, prov: _Provenance) -> np.ndarray:
    """(shape: [n] or [K, n]) the given importance, else the file's base^i, else 1 (said so)."""
    base = next((facts[k] for k in ("importance", "importance_base") if isinstance(facts.get(k), (int, float))), None)
    if importance is not None:
        v = _vector(importance, "importance")
        imp_arr = v ** np.arange(n) if v.ndim == 0 else v
        prov.given["importance"] = str(importance)
    elif base is not None:
        imp_arr = float(base) ** np.arange(n)
        prov.inferred["importance"] = f"{base}^i from the file's config"
    else:
        imp_arr = np.ones(n)
        prov.inferred["importance"] = "not in the file: 1 for every feature (pass --importance)"
        prov.notes.append("importance is not in the file: 1 assumed (pass --importance BASE|LIST|FILE)")
    imp_arr = np.asarray(imp_arr, dtype=np.float64)
    if imp_arr.shape not in ((n,), (K, n)) or not np.all(imp_arr >= 0):
        raise AnimsupError(f"--importance must give {n} values >= 0 (one per feature), got shape {list(imp_arr.shape)}")
    return imp_arr


def _feature_probability(feature_probability: str | float | None, facts: dict, K: int,
                         prov: _Provenance) -> np.ndarray:
    """(shape: [] or [K]) the given 1 - S, else each run's 1 - sparsity, else the file's, else 1."""
    runs = facts.get("runs")
    if feature_probability is not None:
        fp = _vector(feature_probability, "feature-probability")
        prov.given["feature_probability"] = str(feature_probability)
    elif runs and all(isinstance(r.get("sparsity", r.get("S")), (int, float)) for r in runs):
        fp = np.asarray([1 - float(r.get("sparsity", r.get("S"))) for r in runs])
        prov.inferred["feature_probability"] = "1 - each run's 'sparsity' parameter"
    elif isinstance(facts.get("feature_probability"), (int, float)):
        fp = np.asarray(float(facts["feature_probability"]))
        prov.inferred["feature_probability"] = "from the file's config"
    else:
        fp = np.asarray(1.0)
        prov.inferred["feature_probability"] = "not in the file: 1 written (pass --feature-probability)"
        prov.notes.append("feature probability is not in the file: 1 written (pass --feature-probability P or one per instance)")
    if fp.ndim == 1 and len(fp) not in (K,):
        raise AnimsupError(f"--feature-probability takes one value or one per instance ({K}), got {len(fp)}")
    if not np.all((fp > 0) & (fp <= 1)):
        raise AnimsupError("--feature-probability must lie in (0, 1]")
    return fp


def _model(model: str | None, imp: ck.Imported, prov: _Provenance) -> str:
    """The given model, else untied when the file has a decoder, else tied."""
    if model is not None:
        prov.given["model"] = model
    model = model or ("untied" if imp.W_dec is not None else "tied")
    if models.get(model).has_decoder and imp.W_dec is None:
        raise AnimsupError("--model untied needs a decoder (--w-dec KEY)")
    return model


def _loss_scope(imp: ck.Imported, K: int, prov: _Provenance) -> str:
    """"none" without a loss; "aggregate" for one loss of all instances; else "instance"."""
    some = imp.loss if imp.loss is not None else imp.loss_curve
    if some is None:
        return "none"
    aggregate = "aggregate" in str(prov.inferred.get("loss", "")) or (some.shape[1] == 1 and K > 1)
    return "aggregate" if aggregate else "instance"


def _write(out_path: str | os.PathLike, header: dict, imp: ck.Imported, steps: np.ndarray, loss_scope: str,
           notes: list[str]) -> None:
    """The log, atomically: the loss curve, the snapshots, the named curves and the end record."""
    from animsup.atomic import atomic_path
    from animsup.log.writer import LogWriter

    T, K, m, n = imp.W.shape
    b_arr = imp.b if imp.b is not None else np.zeros((T, K, n))
    with atomic_path(out_path) as tmp:
        with LogWriter(tmp, header, force=True) as wr:
            if imp.loss_curve is not None and imp.loss_steps is not None:
                ls, lc = np.asarray(imp.loss_steps, dtype=np.int64), np.asarray(imp.loss_curve)
                if len(ls) and np.all(np.diff(ls) > 0) and np.isfinite(lc).all():
                    wr.losses_at(ls, lc)
            for t in range(T):
                loss = _snapshot_loss(imp, t, steps, loss_scope, notes)
                wr.snapshot(int(steps[t]), loss, imp.W[t], b_arr[t], None if imp.W_dec is None else imp.W_dec[t])
            for name, (cs, cv) in imp.curves.items():
                for s, v in zip(cs, cv):
                    wr.curve(name, int(s), v)
            wr.end("completed", int(steps[-1]), 0.0, imported=True)


def _snapshot_loss(imp: ck.Imported, t: int, steps: np.ndarray, loss_scope: str,
                   notes: list[str]) -> np.ndarray | float | None:
    """The loss stored with snapshot ``t``: the file's snapshot loss, else the loss curve's value
    at its step (the nearest logged one when the curve has none there)."""
    if loss_scope == "none":
        return None
    if imp.loss is not None:
        return imp.loss[t] if loss_scope == "instance" else float(imp.loss[t, 0])
    loss_steps = np.asarray(imp.loss_steps)
    hit = np.flatnonzero(loss_steps == steps[t])
    where = int(hit[0]) if len(hit) else int(np.argmin(np.abs(loss_steps - steps[t])))
    if not len(hit) and t == 0:
        notes.append(f"no loss at step {int(steps[0])}: the snapshot there carries the nearest logged loss "
                     f"(step {int(loss_steps[where])})")
    row = np.asarray(imp.loss_curve)[where]
    return row if loss_scope == "instance" else float(row[0])
