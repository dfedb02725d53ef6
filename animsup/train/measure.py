"""``animsup.measure``: the loss landscape of a run at its snapshots — LLC, Hessian spectrum and
essential dynamics of every chosen instance — as :class:`animsup.log.measurements.Measurements`.

The data law is the log's own (its header's 1 − S per feature, importance, ``data`` recipe and
model; for a staged run the stage active at each snapshot). A fact the log did not give but
assumed (importance 1, the Recorder's uniform inputs when no ``data`` was given) is measured as
stated and named in the settings' ``assumed`` (:func:`law_assumptions`); a log whose 1 − S was not
given (an import that inferred it, a Recorder that wrote 1) has no known law:
pass ``data`` (shape: [N, n_features]), a fixed data set batches are drawn from (with
replacement), as devinterp's loader does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from animsup import models
from animsup.errors import AnimsupError, plural
from animsup.escape import terminal as escape_name
from animsup.log.measurements import Measurements
from animsup.log.sae_file import header_digest
from animsup.log.reader import Run, read_log
from animsup.train import landscape as ls
from animsup.train.data import DataSpec, draw_features

#: elements of one batch tensor [rows, n, B] per chunk of models (memory stays flat in T)
CHUNK_ELEMENTS = 1 << 21  # ~150 MB of SGLD intermediates (bench/bench_llc_memory.py: 2^23 peaked 600 MB above the import)
TRACE_POINTS = 50


def data_spec_of(run: Run) -> DataSpec:
    """The header's ``data`` object as the sampler's :class:`DataSpec`."""
    d = run.header.data or {"kind": "uniform"}
    return DataSpec(kind=str(d.get("kind", "uniform")), normalise=d.get("normalise") == "l2", exactly_k=d.get("k"),
                    correlated_sets=[list(map(int, s)) for s in d.get("correlated_sets", [])],
                    anticorrelated_sets=[list(map(int, s)) for s in d.get("anticorrelated_sets", [])])


def law_assumptions(run: Run) -> tuple[str, list[str]]:
    """What is known of the log's data law.

    :return: (why the law is unknown, "" when it is known; the assumptions a measurement on the
        log's law makes, each in words: importance 1 not given, a ``data`` recipe the Recorder
        wrote as uniform because none was given)
    """
    prov = run.header.provenance or {}
    assumed = prov.get("assumed") or {}
    imported = "given" in prov or "inferred" in prov
    why = ""
    if "feature_probability" in assumed:
        why = "1 - S was not given when it was recorded; 1 was written"
    elif imported and "feature_probability" not in (prov.get("given") or {}):
        why = "1 - S was not given to the import"
    notes = []
    if "importance" in assumed or (imported and "importance" not in (prov.get("given") or {})):
        notes.append("importance 1 (not given)")
    if (run.header.data or {}).get("assumed"):
        notes.append(f"the input law {run.header.data.get('kind', 'uniform')} (the recorder was given no data law)")
    return why, notes


def law_known(run: Run) -> bool:
    """False for a log whose 1 − S was not given (an import that inferred it, a Recorder that wrote
    1 for it); a missing importance is an assumption (:func:`law_assumptions`), not an unknown law."""
    return not law_assumptions(run)[0]


def probability_at(run: Run, step: int) -> np.ndarray:
    """(shape: [K, n_features]) the selected instances' 1 − S at ``step`` (the stage active then)."""
    p = run.feature_probability.astype(np.float32)
    for st in run.stages or []:
        if int(st.get("start_step", 0)) <= step and st.get("feature_probability") is not None:
            p = np.broadcast_to(np.asarray(st["feature_probability"], np.float32), (run.header.n_instances, p.shape[1]))
            p = p[list(run.instances)]
    return np.ascontiguousarray(p)


def law_sampler(p_rows: np.ndarray, spec: DataSpec, batch: int, device: torch.device) -> ls.Sampler:
    """Batches (shape: [rows, n, batch]) of the log's law for models whose 1 − S is ``p_rows``
    (shape: [M, n]), tiled over chains (row r is model r mod M)."""
    M, n = p_rows.shape
    p_t = torch.as_tensor(p_rows, device=device).unsqueeze(-1)

    def sample(rows: int, g: torch.Generator) -> torch.Tensor:
        reps = rows // M
        if spec.independent_uniform:
            x = torch.rand((rows, n, batch), generator=g, device=device)
            on = torch.rand((rows, n, batch), generator=g, device=device) < p_t.repeat(reps, 1, 1)
            x = x * on
            if spec.normalise:
                x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-30)
            return x
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=g, device=device).item())
        xs = draw_features(np.random.default_rng(seed), np.tile(p_rows, (reps, 1))[:, :, None], n, batch, spec)
        return torch.from_numpy(xs).to(device)

    return sample


def data_sampler(data: np.ndarray, batch: int, device: torch.device) -> ls.Sampler:
    """Batches drawn (with replacement) from a fixed data set (shape: [N, n_features])."""
    X = torch.as_tensor(np.asarray(data, np.float32), device=device)

    def sample(rows: int, g: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, X.shape[0], (rows, batch), generator=g, device=device)
        return X[idx].transpose(1, 2).contiguous()

    return sample


def _select_snapshots(run: Run, snapshots: int | Sequence[int] | None) -> np.ndarray:
    T = len(run.steps)
    if snapshots is None:
        return np.arange(T)
    if isinstance(snapshots, bool):
        raise AnimsupError(f"snapshots must be a count or a list of steps, got {snapshots}")
    if isinstance(snapshots, (int, np.integer)):
        if snapshots < 1:
            raise AnimsupError(f"snapshots must be >= 1, got {snapshots}")
        return np.unique(np.round(np.linspace(0, T - 1, min(int(snapshots), T))).astype(np.int64))
    idx = []
    for s in snapshots:
        hit = np.flatnonzero(run.steps == int(s))
        if not len(hit):
            raise AnimsupError(f"{run.path}: no snapshot at step {s} (the log has {plural(T, 'snapshot')}, steps {int(run.steps[0])}..{int(run.steps[-1])})")
        idx.append(int(hit[0]))
    return np.array(sorted(set(idx)), dtype=np.int64)


def measure(log_or_run: str | os.PathLike[str] | Run, llc: dict[str, Any] | ls.LLCConfig | bool | None = None, *,
            data: np.ndarray | None = None, data_name: str | None = None, snapshots: int | Sequence[int] | None = None,
            instances: Sequence[int] | None = None, hessian: dict[str, Any] | bool | None = None, pca: bool | int = False,
            device: str = "cpu", progress: Callable[[int, int], None] | None = None, write: bool = True) -> Measurements:
    """Measure the landscape of a run at its snapshots, every instance batched; given a log path,
    write the result to the log's sidecar (``LOG.measure.json``, as ``animsup measure`` does;
    :func:`animsup.log.measurements.store`: merged with an earlier sidecar of the same snapshots and
    instances, else replacing it; ``.extra["written"]`` says which sections were kept or replaced).

    :param llc: SGLD settings (:class:`animsup.train.landscape.LLCConfig`'s names: lr, localization,
        nbeta, chains, draws, burnin, steps_between_draws, batch_size, seed); True for the defaults
    :param data: (shape: [N, n_features]) a fixed data set instead of the log's law
    :param data_name: where ``data`` came from (a file name), recorded in the settings
    :param snapshots: None (all), a count N (an int: N evenly spaced snapshots, the first and the last
        included, at most the log's) or a list of the steps to measure. Unlike the CLI, where
        ``--snapshots 5`` is the step 5 and ``--snapshots 5 --count`` the count: here ``5`` is the
        count and ``[5]`` the step
    :param hessian: True or {"samples": N (4096), "k": top-k for large models (10), "exact_max": the
        largest P computed exactly (64), "rel_tol": the degeneracy threshold (1e-3)}
    :param pca: essential dynamics with q components (True: 3), over all the run's snapshots
    :param device: "cpu" or "cuda"
    :param progress: called (done, total) after each chunk of models
    :param write: False: do not write the sidecar (a Run is never written for)
    :return: ``.steps`` (shape: [T]), ``.llc_mean`` / ``.llc_std`` (shape: [T, K]) and the sections asked for
    :raises AnimsupError: a custom model, an unknown data law without ``data``, bad settings
    """
    run = log_or_run if isinstance(log_or_run, Run) else read_log(log_or_run, instances)
    if isinstance(log_or_run, Run) and instances is not None:
        raise AnimsupError("instances= applies to a log path; select instances when reading the Run")
    spec = models.get(run.model)
    if not spec.trainable:
        raise AnimsupError(f"{run.path}: model {run.model!r} has no forward pass animsup knows; the landscape needs one")
    if data is not None:
        data = np.asarray(data, np.float32)
        if data.ndim != 2 or data.shape[1] != run.header.n_features or not len(data):
            raise AnimsupError(f"data must have shape [N, {run.header.n_features}] (n_features), got {data.shape}")
        if not np.isfinite(data).all():
            raise AnimsupError("data holds non-finite values")
    why, assumptions = law_assumptions(run)
    if data is None and (llc or hessian) and why:
        raise AnimsupError(f"{run.path}: the data law of this log is unknown ({why}); "
                           "pass the data set (data=[N, n_features], animsup measure --data FILE.npy)")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise AnimsupError("device cuda: no CUDA device is available")
    dev = torch.device(device)
    t_idx = _select_snapshots(run, snapshots)
    out = Measurements(steps=run.steps[t_idx].astype(np.int64), instances=tuple(run.instances),
                       log=os.path.basename(run.path), header_sha256=header_digest(run.header.raw))
    reduction = str(run.header.config.get("loss_reduction", "mean"))
    reduction = reduction if reduction in ("mean", "half-sum") else "mean"
    if data is not None:
        source = ("data set [%d, %d]" % data.shape) + (f" from {escape_name(data_name)}" if data_name else "")
    else:
        source = f"the log's law {dict(run.header.data)}"
    common: dict[str, Any] = {"device": device, "data": source,
                              "loss": f"importance-weighted squared error, reduction {reduction}"}
    if data is not None:
        common["data_shape"] = [int(v) for v in data.shape]
        if data_name:
            common["data_file"] = escape_name(data_name)
    elif assumptions:
        common["assumed"] = assumptions  # facts the log did not give, measured as stated
    if llc:
        cfg = llc if isinstance(llc, ls.LLCConfig) else ls.LLCConfig.from_mapping(None if llc is True else llc)
        out.llc = _llc_section(run, t_idx, cfg, data, dev, reduction, progress)
        out.llc["settings"] = {**cfg.to_dict(), **common}
    if hessian:
        hs = {} if hessian is True else dict(hessian)
        out.hessian = _hessian_section(run, t_idx, hs, data, dev, reduction)
        out.hessian["settings"] = {**out.hessian["settings"], **common}
    if pca:
        from animsup.analysis.landscape import essential_dynamics

        q = 3 if pca is True else int(pca)
        comps, expl = essential_dynamics(run.W, run.b, run.W_dec, q)
        # the components at the measured snapshots only (all snapshots enter the PCA)
        out.pca = {"settings": {"q": q, "snapshots": len(run.steps), "centred": "over time, per instance"},
                   "components": comps[:, t_idx], "explained": expl}
    if write and not isinstance(log_or_run, Run):
        from animsup.log.measurements import store

        w = store(log_or_run, out)
        out.extra["written"] = {"path": w.path, "kept": w.kept, "replaced": w.replaced, "why": w.why}
    return out


def _models(run: Run, t_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Flattened [M = T·K] parameters, importance and 1 − S of the chosen snapshots."""
    T, K = len(t_idx), len(run.instances)
    W = run.W[t_idx].reshape(T * K, *run.W.shape[2:])
    b = run.b[t_idx].reshape(T * K, -1)
    W_dec = None if run.W_dec is None else run.W_dec[t_idx].reshape(T * K, *run.W_dec.shape[2:])
    imp = np.tile(run.importance.astype(np.float32), (T, 1))
    p = np.concatenate([probability_at(run, int(run.steps[t])) for t in t_idx])
    return W, b, W_dec, imp, p


def _slice(dev: torch.device, lo: int, hi: int, W: np.ndarray, b: np.ndarray, W_dec: np.ndarray | None, imp: np.ndarray,
           dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Rows lo:hi of the flattened models as tensors on ``dev``."""
    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a[lo:hi], device=dev, dtype=dtype)

    return t(W), t(b), None if W_dec is None else t(W_dec), t(imp)


def _llc_section(run: Run, t_idx: np.ndarray, cfg: ls.LLCConfig, data: np.ndarray | None, dev: torch.device,
                 reduction: str, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
    W, b, W_dec, imp, p = _models(run, t_idx)
    M, n = b.shape
    chunk = max(1, CHUNK_ELEMENTS // (cfg.chains * n * cfg.batch_size))
    g = torch.Generator(dev).manual_seed(cfg.seed)
    parts = []
    for lo in range(0, M, chunk):
        hi = min(M, lo + chunk)
        sampler = (data_sampler(data, cfg.batch_size, dev) if data is not None
                   else law_sampler(p[lo:hi], data_spec_of(run), cfg.batch_size, dev))
        tW, tb, tWd, timp = _slice(dev, lo, hi, W, b, W_dec, imp)
        parts.append(ls.toy_llc(tW, tb, tWd, timp, sampler, cfg, model=run.model, reduction=reduction, generator=g))
        if progress is not None:
            progress(hi, M)
    T, K = len(t_idx), len(run.instances)
    cat = {k: np.concatenate([getattr(e, k) for e in parts]) for k in ("mean", "std", "chains", "init_loss", "diverged", "settled")}
    trace = np.concatenate([e.trace.mean(1) for e in parts])                       # [M, D]
    keep = np.unique(np.round(np.linspace(0, trace.shape[1] - 1, min(TRACE_POINTS, trace.shape[1]))).astype(int))
    return {"mean": cat["mean"].reshape(T, K), "std": cat["std"].reshape(T, K),
            "chains": cat["chains"].reshape(T, K, -1), "init_loss": cat["init_loss"].reshape(T, K),
            "diverged": cat["diverged"].sum(1).reshape(T, K).astype(np.float64), "settled": cat["settled"].reshape(T, K),
            "trace": trace[:, keep].reshape(T, K, -1)}


def _hessian_section(run: Run, t_idx: np.ndarray, hs: dict[str, Any], data: np.ndarray | None, dev: torch.device,
                     reduction: str) -> dict[str, Any]:
    known = {"samples", "k", "exact_max", "rel_tol", "seed"}
    if set(hs) - known:
        raise AnimsupError(f"unknown hessian setting(s) {', '.join(sorted(set(hs) - known))}; known: {', '.join(sorted(known))}")
    N, k, exact_max = int(hs.get("samples", 4096)), int(hs.get("k", 10)), int(hs.get("exact_max", 64))
    rel_tol, seed = float(hs.get("rel_tol", 1e-3)), int(hs.get("seed", 0))
    W, b, W_dec, imp, p = _models(run, t_idx)
    M, n = b.shape
    P = W[0].size + n + (0 if W_dec is None else W_dec[0].size)
    exact = P <= exact_max
    chunk = max(1, CHUNK_ELEMENTS // (n * N * (P if exact else 2 * k + 20)))
    g = torch.Generator(dev).manual_seed(seed)
    evs = []
    for lo in range(0, M, chunk):
        hi = min(M, lo + chunk)
        sampler = data_sampler(data, N, dev) if data is not None else law_sampler(p[lo:hi], data_spec_of(run), N, dev)
        x = sampler(hi - lo, g).double()
        tW, tb, tWd, timp = _slice(dev, lo, hi, W, b, W_dec, imp, torch.float64)
        if exact:
            H = ls.toy_hessian(tW, tb, tWd, timp, x, model=run.model, reduction=reduction)
            evs.append(torch.linalg.eigvalsh(H).flip(-1).cpu().numpy())
        else:
            hvp, _ = ls.hvp_fn(tW, tb, tWd, timp, x, model=run.model, reduction=reduction)
            evs.append(ls.lanczos_top(hvp, hi - lo, P, k, generator=g, device=dev).cpu().numpy())
    T, K = len(t_idx), len(run.instances)
    ev = np.concatenate(evs).reshape(T, K, -1)
    count, thr = ls.degeneracy(ev, rel_tol)
    settings = {"samples": N, "parameters": P, "method": "exact" if exact else f"lanczos top-{k}", "rel_tol": rel_tol,
                "threshold": f"|eigenvalue| <= {rel_tol:g} x max |eigenvalue|" + ("" if exact else " (of the top-k only)"),
                "seed": seed}
    return {"settings": settings, "eigenvalues": ev, "degeneracy": count.astype(np.float64), "threshold": thr}

