"""Sparse autoencoders (SAEs) on a toy model's hidden activations, scored against its own columns.

A trained toy writes feature i in direction W_i (column i of W, shape [n_hidden]); its hidden
activations are ``h = W x``. An SAE (Bricken et al. 2023, "Towards Monosemanticity") learns

    a = ReLU((h - b_dec) W_enc + b_enc)    (TopK: only the k largest entries of a kept; Gao et al. 2024)
    ĥ = a W_dec + b_dec                    (rows of W_dec, its latents' directions, kept at unit norm)
    loss = mean over the batch of ‖ĥ - h‖² + l1 · Σ_j a_j                 (l1 = 0 for TopK)

and its decoder rows should be the toy's columns. :func:`train_saes` trains K SAEs at once
(parameters [K, ...], one optimiser, every update per element so each SAE trains as if alone),
K = targets (snapshots of the toy) × hyperparameter values (``l1`` or ``k``) × seeds; each target's
batch is drawn once from the toy's own input law (its header's ``data`` recipe) and shared by its
SAEs. Gradients come from torch autograd. Scores: :mod:`animsup.analysis.sae_metrics`, on
``eval_samples`` fresh samples; for hierarchical data also the absorption of every (parent, child).

:func:`sae` is ``animsup.sae(log_or_run, n_latents=...)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from animsup.analysis import sae_metrics
from animsup.errors import AnimsupError, plural
from animsup.log.sae_file import FORMAT as RESULT_FORMAT
from animsup.log.sae_file import VERSION as RESULT_VERSION
from animsup.log.sae_file import header_digest
from animsup.train.data import DataSpec, draw_features

SAE_KINDS = ("relu", "topk")



@dataclass
class SaeConfig:
    """SAE training options. ``l1`` (relu) or ``k`` (topk): one SAE per value (× seeds) per target.

    :param n_latents: latents per SAE (default: the toy's n_features)
    """

    n_latents: int | None = None
    kind: str = "relu"
    l1: list[float] = field(default_factory=lambda: [0.01])
    k: list[int] = field(default_factory=lambda: [1])
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 3000
    batch_size: int = 1024
    lr: float = 3e-3
    eval_samples: int = 8192
    dense_threshold: float = 0.5

    def values(self) -> list[float]:
        return [float(v) for v in (self.l1 if self.kind == "relu" else self.k)]

    def validate(self, n_hidden: int, name: Callable[[str], str] = str) -> SaeConfig:
        """Check every option; each error names the bad option and its value.

        :param name: a field name -> the name the user typed (the CLI passes ``--steps`` for ``steps``)
        :raises AnimsupError: the first bad option, e.g. "steps must be >= 1, got -1"
        """
        if self.kind not in SAE_KINDS:
            raise AnimsupError(f"{name('kind')} must be one of {', '.join(SAE_KINDS)}, got {self.kind!r}")
        for f in ("n_latents", "steps", "batch_size", "eval_samples"):
            v = getattr(self, f)
            if v is not None and v < 1:
                raise AnimsupError(f"{name(f)} must be >= 1, got {v}")
        if not self.seeds:
            raise AnimsupError(f"{name('seeds')} needs one or more seeds")
        values = "l1" if self.kind == "relu" else "k"
        if not self.values():
            raise AnimsupError(f"{name(values)} needs one or more values")
        if self.kind == "relu" and min(self.l1) < 0:
            raise AnimsupError(f"{name('l1')} coefficients must be >= 0, got {min(self.l1):g}")
        bad_k = [int(k) for k in self.k if not 1 <= int(k) <= (self.n_latents or 10**9)]
        if self.kind == "topk" and bad_k:
            top = f" ({name('n_latents')} is {self.n_latents})" if self.n_latents else ""
            raise AnimsupError(f"{name('k')} must be between 1 and the number of latents{top}, got {bad_k[0]}")
        if not self.lr > 0:
            raise AnimsupError(f"{name('lr')} must be > 0, got {self.lr:g}")
        if not 0 < self.dense_threshold <= 1:
            raise AnimsupError(f"{name('dense_threshold')} must be in (0, 1], got {self.dense_threshold:g}")
        return self


def spec_from_header(data: dict[str, Any]) -> DataSpec:
    """The sampler's :class:`DataSpec` from a log header's ``data`` object."""
    return DataSpec(kind=str(data.get("kind", "uniform")), normalise=data.get("normalise") == "l2",
                    exactly_k=data.get("k"), correlated_sets=list(data.get("correlated_sets", [])),
                    anticorrelated_sets=list(data.get("anticorrelated_sets", [])),
                    hierarchical_sets=list(data.get("hierarchical_sets", [])),
                    child_probability=float(data.get("child_probability", 0.5)))


@dataclass
class SaeResult:
    """K = len(steps) × len(values) × len(seeds) SAEs, target-major; arrays indexed [target, value, seed].

    :param decoders: (shape: [T, V, S, n_latents, n_hidden]) unit decoder directions
    :param mmcs, matched, dead, dense, l0, shrinkage, mse: (shape: [T, V, S]) the scores
    :param mmcs_chance, matched_chance: (shape: [T, V, S]) their chance baselines: random unit decoders of
        the same shape scored against the same target (:func:`animsup.analysis.sae_metrics.chance`; equal
        across a target's values and seeds)
    :param absorption: (shape: [T, V, S, n_pairs]) one column per (parent, child) pair (``pairs``)
    """

    config: SaeConfig
    steps: list[int]
    values: list[float]
    decoders: np.ndarray
    scores: list[sae_metrics.SaeScores]
    pairs: list[tuple[int, int]]
    absorption: np.ndarray
    instance: int = 0
    #: which log: "log" (its file name), "header_sha256", "n_features", "n_hidden", "model" (set by :func:`sae`)
    source: dict[str, Any] = field(default_factory=dict)
    #: every SAE's parameters as numpy arrays, K first: "W_enc" [K, d, L], "b_enc" [K, L], "W_dec" [K, L, d],
    #: "b_dec" [K, d] (not written to the file; bench/sae_lens_check.py loads them into SAELens)
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def _grid(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.scores]).reshape(len(self.steps), len(self.values), -1)

    def __getattr__(self, name: str) -> np.ndarray:
        if name in ("mmcs", "matched", "dead", "dense", "l0", "shrinkage", "mse", "mmcs_chance", "matched_chance"):
            return self._grid(name)
        raise AttributeError(name)

    def notes(self) -> list[str]:
        """Warnings about the scores, one line each: MMCS or matched cosine near chance, shrinkage far
        from 1 (:func:`animsup.analysis.sae_metrics.score_notes`); [] when there is nothing to say."""
        return sae_metrics.score_notes(self.scores, int(self.decoders.shape[-2]), int(self.decoders.shape[-1]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI writes (``format`` animsup.sae, ``version`` 1; :mod:`animsup.log.sae_file`)."""
        d, L = self.decoders.shape[-1], self.decoders.shape[-2]
        source = {"log": "", "header_sha256": "", "n_features": None, "n_hidden": d, "model": None, **self.source}
        return {"format": RESULT_FORMAT, "version": RESULT_VERSION, **source, "instance": self.instance,
                "config": {**self.config.__dict__}, "steps": self.steps, "values": self.values,
                "pairs": [list(p) for p in self.pairs], "scores": [s.to_dict() for s in self.scores], "notes": self.notes(),
                "absorption": np.round(self.absorption, 5).reshape(len(self.scores), -1).tolist(),
                "decoders": np.round(self.decoders, 5).reshape(len(self.scores), L, d).tolist()}


def _hierarchy_pairs(spec: DataSpec) -> list[tuple[int, int]]:
    return [(int(st[0]), int(c)) for st in spec.hierarchical_sets for c in st[1:]]


def _forward(torch: Any, p: dict[str, Any], h: Any, kind: str, k: Any) -> tuple[Any, Any]:
    """(a [K, B, L], ĥ [K, B, d]) for h [K, B, d]; ``k`` (shape: [K]) the TopK of each SAE."""
    pre = torch.relu(torch.baddbmm(p["b_enc"][:, None, :], h - p["b_dec"][:, None, :], p["W_enc"]))
    if kind == "topk":
        kmax = int(k.max())
        top = torch.topk(pre, kmax, dim=-1)
        keep = torch.arange(kmax, device=pre.device)[None, None, :] < k[:, None, None]
        pre = torch.zeros_like(pre).scatter(-1, top.indices, top.values * keep)
    return pre, torch.baddbmm(p["b_dec"][:, None, :], pre, p["W_dec"])


def _normalise_decoder_(torch: Any, W_dec: Any) -> None:
    with torch.no_grad():
        W_dec /= W_dec.norm(dim=-1, keepdim=True).clamp_min(1e-8)


def _init(torch: Any, n_sae: int, d: int, L: int, seeds: list[int]) -> dict[str, Any]:
    """W_dec rows: random unit directions (each SAE from its own seed); W_enc = W_decᵀ; biases 0."""
    dec = np.stack([np.random.default_rng([0x5AE, s]).normal(size=(L, d)) for s in seeds]).astype(np.float32)
    dec /= np.linalg.norm(dec, axis=-1, keepdims=True)
    p = {"W_dec": torch.tensor(dec), "W_enc": torch.tensor(np.swapaxes(dec, 1, 2).copy()),
         "b_enc": torch.zeros(n_sae, L), "b_dec": torch.zeros(n_sae, d)}
    for t in p.values():
        t.requires_grad_(True)
    return p


def train_saes(Ws: np.ndarray, probs: np.ndarray, spec: DataSpec, cfg: SaeConfig, *, seed: int = 0) -> SaeResult:
    """Train and score SAEs on ``h = W x`` of each toy in ``Ws``.

    :param Ws: (shape: [T, n_hidden, n_features]) the toy's W at each target (snapshot)
    :param probs: (shape: [n_features]) the toy's feature probabilities (1 - S)
    :param spec: the toy's input law
    """
    import torch

    Ws = np.asarray(Ws, np.float32)
    n_t, d, n = Ws.shape
    if cfg.n_latents is None:
        cfg = dataclasses.replace(cfg, n_latents=n)
    cfg.validate(d)
    L = int(cfg.n_latents or n)
    vals, seeds = cfg.values(), cfg.seeds
    per_t = len(vals) * len(seeds)
    K = n_t * per_t
    p = _init(torch, K, d, L, [s for _ in range(n_t) for _ in vals for s in seeds])
    l1 = torch.tensor([v for _ in range(n_t) for v in vals for _ in seeds], dtype=torch.float32)
    k = l1.round().long() if cfg.kind == "topk" else torch.zeros(K, dtype=torch.long)
    if cfg.kind == "topk":
        l1 = torch.zeros(K)
    Wt = torch.from_numpy(Ws)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([0x5AE, seed])))
    pk = np.broadcast_to(np.asarray(probs, np.float32).reshape(1, n, 1), (n_t, n, 1)).copy()
    opt = torch.optim.Adam(list(p.values()), lr=cfg.lr)

    def batch(cols: int) -> tuple[np.ndarray, Any]:
        x = draw_features(rng, pk, n, cols, spec)  # [T, n, B]
        h = torch.bmm(Wt, torch.from_numpy(x)).transpose(1, 2)  # [T, B, d]
        return x, h.repeat_interleave(per_t, dim=0)

    for _ in range(cfg.steps):
        _, h = batch(cfg.batch_size)
        a, h_hat = _forward(torch, p, h, cfg.kind, k)
        loss = ((h_hat - h) ** 2).sum(-1).mean(-1) + l1 * a.sum(-1).mean(-1)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        _normalise_decoder_(torch, p["W_dec"])
    x, h = batch(cfg.eval_samples)
    with torch.no_grad():
        a, h_hat = _forward(torch, p, h, cfg.kind, k)
    a, h, h_hat = a.numpy(), h.numpy(), h_hat.numpy()
    dec = p["W_dec"].detach().numpy()
    pairs = _hierarchy_pairs(spec)
    scores, absorb = [], np.full((K, len(pairs)), np.nan)
    chance = [sae_metrics.chance(Ws[t].T, L) for t in range(n_t)]  # the same targets as the scores
    for i in range(K):
        t = i // per_t
        s = sae_metrics.score(dec[i], Ws[t].T, a[i], h[i], h_hat[i], dense_threshold=cfg.dense_threshold,
                              chance_scores=chance[t])
        scores.append(s)
        for j, (par, ch) in enumerate(pairs):
            absorb[i, j] = sae_metrics.absorption(a[i], x[t].T, par, ch, int(s.match[par]))
    return SaeResult(cfg, list(range(n_t)), vals, dec.reshape(n_t, len(vals), len(seeds), L, d), scores, pairs,
                     absorb.reshape(n_t, len(vals), len(seeds), len(pairs)),
                     params={name: t.detach().numpy().copy() for name, t in p.items()})


def sae(log_or_run: Any, *, n_latents: int | None = None, kind: str = "relu", l1: Any = (0.01,), k: Any = (1,),
        seeds: Any = (0,), instance: int = 0, snapshots: str = "last", steps: int = 3000, batch_size: int = 1024,
        lr: float = 3e-3, eval_samples: int = 8192) -> SaeResult:
    """``animsup.sae``: train SAEs on a run's hidden activations and score them against its columns.

    :param log_or_run: a log path or a loaded :class:`animsup.log.reader.Run`
    :param instance: the toy instance whose W (and 1 - S, input law) is used
    :param snapshots: "last" (the final W) or "all" (one set of SAEs per snapshot, trained together)
    :param l1: L1 coefficients (``kind="relu"``); ``k``: active latents (``kind="topk"``); one SAE per
        value and seed
    :return: :class:`SaeResult` (``.mmcs``, ``.dead``, ``.l0``, ``.shrinkage`` ... as [snapshot, value, seed])
    :raises AnimsupError: an instance that is not in the run, an unknown ``snapshots`` or SAE kind
    """
    from animsup.log.reader import Run, read_log

    run = log_or_run if isinstance(log_or_run, Run) else read_log(os.fspath(log_or_run))
    if not 0 <= instance < run.W.shape[1]:
        raise AnimsupError(f"instance {instance} is not in the run (it has {plural(run.W.shape[1], 'instance')})")
    if snapshots not in ("last", "all"):
        raise AnimsupError(f"snapshots must be 'last' or 'all', got {snapshots!r}")
    idx = list(range(len(run.steps))) if snapshots == "all" else [len(run.steps) - 1]
    cfg = SaeConfig(n_latents=n_latents, kind=kind, l1=[float(v) for v in np.atleast_1d(l1)],
                    k=[int(v) for v in np.atleast_1d(k)], seeds=[int(s) for s in np.atleast_1d(seeds)], steps=steps,
                    batch_size=batch_size, lr=lr, eval_samples=eval_samples)
    probs = run.feature_probability[instance]
    res = train_saes(run.W[idx, instance], probs, spec_from_header(run.header.data), cfg)
    res.steps = [int(run.steps[i]) for i in idx]
    res.instance = instance
    res.source = {"log": os.path.basename(run.path or ""), "header_sha256": header_digest(run.header.raw),
                  "n_features": int(run.header.n_features), "n_hidden": int(run.header.n_hidden), "model": run.header.model}
    return res
