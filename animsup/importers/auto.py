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


def load(paths, *, w=None, b=None, w_dec=None, layout=None, run=None, folders=None) -> tuple[ck.Imported, str]:
    """Read ``paths`` (files, a directory, a folder of folders, or a glob) into one :class:`checkpoint.Imported`."""
    from animsup.importers import folders as fo

    first = os.fspath(paths[0])
    hub = ck.hub_config(first) if len(paths) == 1 else None
    if hub is not None:
        return _hub(first, hub), first
    if len(paths) == 1 and fo.subfolders(first) is not None:
        return fo.load(first, folders or "instances",
                       lambda d: load([d], w=w, b=b, w_dec=w_dec, layout=layout, run=run)[0]), first
    if folders is not None:
        raise AnimsupError(f"--folders {folders}: {first} is not a folder of folders of checkpoints")
    files = ck.expand([os.fspath(p) for p in paths])
    if not files:
        raise AnimsupError("no input files")
    if len(files) == 1:
        return _one_file(files[0], w=w, b=b, w_dec=w_dec, layout=layout, run=run), files[0]
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
    return _join(files, parts, kinds), os.path.dirname(files[0]) or "."


def _one_file(path: str, *, w, b, w_dec, layout, run) -> ck.Imported:
    """One file: a d3 HTML page, a list of runs (or one run dict), or a checkpoint."""
    if ck.sniff(path) == "html":
        from animsup.importers import html_d3

        imp = html_d3.read(path)
        imp.inferred.setdefault("container", "html")
        return imp
    tree, meta, kind = ck.load_tree(path)
    if isinstance(tree, dict) and isinstance(tree.get("weights"), list) and ("parameters" in tree or "logs" in tree):
        tree = [tree]  # one run of a devinterp/aisf list, saved on its own
        if run not in (None, 0):
            raise AnimsupError(f"--run {run}: the file holds a single run (run 0)")
    if isinstance(tree, list) and tree and all(isinstance(r, dict) and "weights" in r for r in tree):
        imp, _ = ck.interpret_runs(tree, run_index=run)
    else:
        imp = ck.interpret(tree, meta, w=w, b=b, w_dec=w_dec, layout=layout)
    imp.inferred.setdefault("container", kind)
    return imp


def _join(files: list[str], parts: list[ck.Imported], kinds: set[str]) -> ck.Imported:
    """Checkpoints of one run, one per file: their W, b, W_dec, losses and steps in order."""
    imp = parts[0]
    imp.W = np.concatenate([p.W for p in parts])
    imp.b = np.concatenate([p.b for p in parts]) if all(p.b is not None for p in parts) else None
    imp.W_dec = np.concatenate([p.W_dec for p in parts]) if all(p.W_dec is not None for p in parts) else None
    imp.notes = list(dict.fromkeys(n for p in parts for n in p.notes))
    stated = [p.steps for p in parts]
    if all(s is not None and len(s) == 1 for s in stated):
        imp.steps = np.concatenate([s for s in stated if s is not None]).astype(np.int64)
        imp.inferred["steps"] = f"stated in each file (first file: {parts[0].inferred.get('steps', 'its step')})"
        names = [ck.step_of(f) for f in files]
        if names != imp.steps.tolist() and all(n is not None for n in names):
            imp.notes.append("the steps the files state differ from the numbers in their names: the files' steps used")
        order = np.argsort(imp.steps, kind="stable")
        same = [int(x) for x in imp.steps[order][1:][np.diff(imp.steps[order]) == 0]]
        if same:
            twins = [os.path.basename(f) for f, s in zip(files, imp.steps) if s == same[0]]
            raise AnimsupError(f"two files state the same step {same[0]} ({', '.join(twins)}): "
                               "import one of them (e.g. leave out last.ckpt)")
        imp.W, imp.steps = imp.W[order], imp.steps[order]
        imp.b = None if imp.b is None else imp.b[order]
        imp.W_dec = None if imp.W_dec is None else imp.W_dec[order]
        parts = [parts[i] for i in order]
    else:
        ck.check_name_steps(files)
        imp.steps = np.asarray([ck.step_of(f) for f in files], dtype=np.int64)
        imp.inferred["steps"] = f"from the {len(files)} file names (the last number in each)"
    losses = [p.loss for p in parts]
    if all(x is not None for x in losses) and len({x.shape for x in losses if x is not None}) == 1:
        imp.loss = np.concatenate([x for x in losses if x is not None])
        imp.inferred["loss"] = (f"one per checkpoint, the files' {parts[0].inferred.get('loss', 'loss')}"
                                + (" (aggregate)" if imp.loss.shape[1] == 1 and imp.W.shape[1] > 1 else ""))
    elif any(x is not None for x in losses):
        imp.loss = None
        imp.notes.append(f"losses not imported: {sum(x is not None for x in losses)} of {len(parts)} files state one")
    if any(p.loss_curve is not None for p in parts):
        imp.notes.append("the loss curves inside each file are not imported (one per file: pass a single file to import its curve)")
    imp.loss_steps = imp.loss_curve = None
    imp.inferred["container"] = ", ".join(sorted(kinds))
    return imp


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
    model_label: str | None = None,
    model_formula: str | None = None,
    folders: str | None = None,
    force: bool = False,
    progress: object = None,
) -> ImportResult:
    """Import checkpoint(s) ``paths`` into the animsup log ``out_path`` (written atomically).

    ``model_label`` / ``model_formula``: the header's names for a model variant (as the Recorder's:
    "RNN auto-encoder", "ReLU(W_dec ReLU(W x))"); ``folders``: "instances" or "stages" for a
    folder of folders of checkpoints (docs/importing.md)."""
    from animsup.log.schema import make_header

    if os.path.exists(out_path) and not force:
        raise AnimsupError(f"{out_path} already exists (pass --force to overwrite it)")
    if layout is not None:
        check_layout(layout, "--layout", AnimsupError)
    imp, source = load(paths if isinstance(paths, (list, tuple)) else [paths], w=w, b=b, w_dec=w_dec, layout=layout,
                       run=run, folders=folders)
    T, K, m, n = imp.W.shape
    hub = imp.facts.get("hub") or {}
    from_hub = [k for k, v in (("importance", importance), ("feature_probability", feature_probability),
                               ("model", model)) if v is None and k in hub]
    importance = importance if "importance" not in from_hub else hub["importance"]
    feature_probability = feature_probability if "feature_probability" not in from_hub else hub["feature_probability"]
    model = model if "model" not in from_hub else hub["model"]
    seed = seed if seed is not None or not hub else hub.get("seeds")
    _check_values(imp, source)
    prov = _Provenance(inferred=dict(imp.inferred), notes=list(imp.notes))
    seed = _seed(seed, imp.facts, K, prov)
    steps = _steps(imp, source, prov)
    imp_arr = _importance(importance, imp.facts, n, K, prov)
    fp = _feature_probability(feature_probability, imp.facts, K, prov)
    model = _model(model, imp, prov)
    for k in from_hub:
        prov.given.pop(k, None)
        prov.inferred[k] = f"from {ck.HUB_CONFIG}"
    loss_scope = _loss_scope(imp, K, prov)
    seeds = [seed] * K if seed is None or isinstance(seed, int) else list(seed)
    for key, value in (("model_label", model_label), ("model_formula", model_formula)):
        if value is not None:
            if not str(value).strip() or len(str(value)) > 200:
                raise AnimsupError(f"--{key.replace('_', '-')} takes a short text (1 to 200 characters)")
            prov.given[key] = value
    header = make_header(
        n_features=n, n_hidden=m, model=model, feature_probability=fp if fp.ndim else float(fp), seed=seeds,
        importance=imp_arr, config=ck.json_safe({"imported": True, **{k: v for k, v in imp.facts.items() if k != "runs"}}),
        loss_scope=loss_scope, curves=sorted(imp.curves) or None, model_label=model_label, model_formula=model_formula,
        stages=imp.stages,
        provenance=ck.json_safe({"source": os.path.abspath(source), "given": prov.given, "inferred": prov.inferred}),
    )
    if imp.b is None:
        header["b_recorded"] = False
        prov.notes.append("no bias in the file: zeros written")
    _write(out_path, header, imp, steps, loss_scope, prov.notes)
    n_loss = len(imp.loss_curve) if imp.loss_curve is not None else (T if imp.loss is not None else 0)
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
    key = next((k for k in ("importance", "importance_base", "feature_importance") if k in facts), None)
    stated = _fact_array(facts, key, ((), (n,), (K, n), (1, n)), prov) if key else None
    if importance is not None:
        v = _vector(importance, "importance")
        imp_arr = v ** np.arange(n) if v.ndim == 0 else v
        prov.given["importance"] = str(importance)
    elif stated is not None and stated.ndim == 0:
        imp_arr = float(stated) ** np.arange(n)
        prov.inferred["importance"] = f"{float(stated):g}^i from the file's {key!r}"
    elif stated is not None:
        imp_arr = stated.reshape(-1, n) if stated.size != n else stated.reshape(n)
        prov.inferred["importance"] = f"the file's {key!r} ({list(stated.shape)})"
    else:
        imp_arr = np.ones(n)
        prov.inferred["importance"] = "not in the file: 1 for every feature (pass --importance)"
        prov.notes.append("importance is not in the file: unknown, 1 assumed (pass --importance BASE|LIST|FILE)")
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
    elif (fp_file := _fact_array(facts, "feature_probability", ((), (K,), (K, 1), (1,)), prov)) is not None:
        fp = fp_file.reshape(-1) if fp_file.size > 1 else fp_file.reshape(())
        prov.inferred.setdefault("feature_probability", "from the file's config")
    elif (sp := _fact_array(facts, "sparsity", ((), (K,), (K, 1), (1,)), prov)) is not None:
        fp = 1 - (sp.reshape(-1) if sp.size > 1 else sp.reshape(()))
        prov.inferred["feature_probability"] = "1 - the file's 'sparsity'"
    else:
        fp = np.asarray(1.0)
        prov.inferred["feature_probability"] = "not in the file: unknown, 1 assumed (pass --feature-probability)"
        prov.notes.append("1-S (feature probability) is not in the file: unknown, 1 assumed "
                          "(pass --feature-probability P or one per instance)")
    if fp.ndim == 1 and len(fp) not in (K,):
        raise AnimsupError(f"--feature-probability takes one value or one per instance ({K}), got {len(fp)}")
    if not np.all((fp > 0) & (fp <= 1)):
        raise AnimsupError("--feature-probability must lie in (0, 1]")
    return fp


def _fact_array(facts: dict, key: str | None, shapes: tuple, prov: _Provenance) -> np.ndarray | None:
    """A number or list the file stated under ``key`` (reprs already parsed), if its shape is one
    of ``shapes``; another shape is left out with a note."""
    v = facts.get(key) if key else None
    if v is None or isinstance(v, (bool, str)):
        return None
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if a.shape not in shapes or not np.isfinite(a).all():
        prov.notes.append(f"the file's {key!r} has shape {list(a.shape)}, not one of "
                          f"{', '.join(str(list(s)) for s in shapes)}: not used")
        return None
    return a


def _seed(seed, facts: dict, K: int, prov: _Provenance):
    """The given seed, else the file's ``seed`` (one, or one per instance), else None (unknown)."""
    if seed is not None:
        prov.given["seed"] = seed
        return seed
    v = facts.get("seed")
    a = _fact_array(facts, "seed", ((), (1,), (K,)), prov) if v is not None else None
    if a is None or not np.all(a == np.round(a)) or np.any(a < 0):
        return None
    prov.inferred["seed"] = "the file's 'seed'"
    return int(a.reshape(-1)[0]) if a.size == 1 else [int(x) for x in a]


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
                else:
                    notes.append(f"the loss curve ({len(ls)} points) is not written: its steps do not increase or "
                                 "it holds NaN/infinity (the snapshots keep their losses)")
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
