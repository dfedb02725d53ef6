"""The loss landscape at a snapshot, batched over every model at once: the local learning
coefficient (LLC) by SGLD and the Hessian's eigenvalues. torch; CPU or CUDA.

**LLC** (Lau et al. 2023, "Quantifying degeneracy in singular models via the learning
coefficient", arXiv:2308.12108; the estimator of devinterp 1.x, whose names and meanings the
hyperparameters keep, so numbers are comparable). Around the snapshot's weights w* each chain runs
stochastic-gradient Langevin dynamics on the localized tempered posterior

    w <- w - (ε/2) (nβ ∇L_batch(w) + γ (w - w*)) + N(0, ε)

(ε = ``lr``, γ = ``localization``, nβ = ``nbeta``, default batch_size / log(batch_size) as
devinterp's ``default_nbeta``), and records the batch loss L_batch(w) before each step once the
first ``burnin`` steps are done (``draws`` of them, one every ``steps_between_draws`` steps). The
estimate of a chain is nβ (mean of its draws - L(w*)), L(w*) the mean loss at w* over one batch
per chain (devinterp's ``init_loss`` over ``num_chains`` batches); the result is the mean and the
sample std (ddof 1, as ``torch.std``) over chains.

All models × chains are one tensor program: parameters (shape: [C·M, ...]) for M models (every
instance of every chosen snapshot) and C chains, one batch per model and chain per step.

**Hessian** of the loss at w* on a fixed sample of the data law (the same sample for every
eigenvalue of a model): exact eigenvalues from the full [P, P] matrix (double backward passes,
batched over models; P = the parameters of one instance, 18 for 6→2 tied), or the top-k by
Lanczos with Hessian-vector products when P is large. The degeneracy is the number of eigenvalues
with |λ| <= ``rel_tol`` · max |λ| (the threshold is returned with the count).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import Tensor

from animsup.errors import AnimsupError
from animsup.options import is_int, is_number
from animsup.train.model import forward, loss_fn

#: (loss at the current parameters, shape [C·M]) of the parameters list, on a fresh batch
LossOf = Callable[[list[Tensor]], Tensor]
#: a batch: (rows, generator) -> x (shape: [rows, n_features, batch_size])
Sampler = Callable[[int, torch.Generator], Tensor]


@dataclass(frozen=True)
class LLCConfig:
    """The SGLD hyperparameters, with devinterp 1.x's meanings (its names in brackets).

    :param lr: step size ε (``lr``)
    :param localization: γ, the pull back to the snapshot's weights (``localization``)
    :param nbeta: inverse temperature nβ (``nbeta``); None: batch_size / ln(batch_size)
    :param chains: independent chains per model (``num_chains``), >= 2 (the std over chains
        and the settled test need two; devinterp accepts 1 but then reports no std)
    :param draws: recorded losses per chain (``num_draws``)
    :param burnin: steps before the first draw (``num_burnin_steps``)
    :param steps_between_draws: (``num_steps_bw_draws``)
    :param batch_size: samples per step (the loader's ``batch_size``)
    :param seed: seeds the noise and the batches
    """

    lr: float = 1e-3
    localization: float = 100.0
    nbeta: float | None = None
    chains: int = 4
    draws: int = 200
    burnin: int = 0
    steps_between_draws: int = 1
    batch_size: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if is_int(self.chains) and self.chains == 1:
            raise AnimsupError("llc chains must be >= 2: the std over chains and the settled test need two (got 1)")
        for name in ("chains", "draws", "steps_between_draws", "batch_size"):
            v = getattr(self, name)
            if not is_int(v) or v < 1:
                raise AnimsupError(f"llc {name} must be an integer >= 1, got {v!r}")
        if not is_int(self.burnin) or self.burnin < 0:
            raise AnimsupError(f"llc burnin must be an integer >= 0, got {self.burnin!r}")
        for name in ("lr", "localization", "nbeta"):
            v = getattr(self, name)
            if v is None and name == "nbeta":
                continue
            if not is_number(v) or v < 0 or (v == 0 and name != "localization"):
                raise AnimsupError(f"llc {name} must be a finite number > 0{' (or 0)' if name == 'localization' else ''}, got {v!r}")

    @classmethod
    def from_mapping(cls, d: dict | None) -> LLCConfig:
        """From a dict of the names above (unknown names are an :class:`AnimsupError`)."""
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise AnimsupError(f"unknown llc setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**d)

    @property
    def resolved_nbeta(self) -> float:
        """nβ; devinterp's default batch_size / ln(batch_size) (1 for a batch of 1)."""
        if self.nbeta is not None:
            return float(self.nbeta)
        return float(self.batch_size / math.log(self.batch_size)) if self.batch_size > 1 else 1.0

    @property
    def steps(self) -> int:
        return self.burnin + self.draws * self.steps_between_draws

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = asdict(self)
        d["nbeta"] = self.resolved_nbeta
        return d


@dataclass
class LLCEstimate:
    """The LLC of M models (numpy, float64 where averaged).

    :param mean: (shape: [M]) mean over the chains that did not diverge (NaN if all did)
    :param std: (shape: [M]) their sample std (ddof 1)
    :param chains: (shape: [M, C]) each chain's estimate
    :param init_loss: (shape: [M]) L(w*), the mean loss at the snapshot over C batches
    :param trace: (shape: [M, C, D]) the loss at each draw
    :param diverged: (shape: [M, C]) a chain whose loss became non-finite or left the basin: a draw
        with nβ (L - L(w*)) above 100 × max(10, the median |estimate| of the model's chains)
    :param settled: (shape: [M]) False when the trace drifts: the estimate from the draws' second
        half differs from the first half's by more than 10 % plus twice its standard error
    """

    mean: np.ndarray
    std: np.ndarray
    chains: np.ndarray
    init_loss: np.ndarray
    trace: np.ndarray
    diverged: np.ndarray
    settled: np.ndarray


def sgld_llc(loss_of: LossOf, params0: list[Tensor], cfg: LLCConfig, generator: torch.Generator) -> LLCEstimate:
    """The LLC estimate of M models from SGLD chains (the module docstring's update).

    :param loss_of: the per-row loss (shape: [C·M]) of the parameters (rows ordered chain-major:
        row c·M + m is chain c of model m), each row on its own fresh batch
    :param params0: the snapshot's parameters, each (shape: [C·M, ...]) (already repeated per chain)
    """
    C = cfg.chains
    rows = params0[0].shape[0]
    M = rows // C
    nbeta, lr, gamma = cfg.resolved_nbeta, float(cfg.lr), float(cfg.localization)
    noise_scale = math.sqrt(lr)
    with torch.no_grad():
        init_loss = loss_of(params0).double().reshape(C, M).mean(0)            # [M]
    params = [p.detach().clone().requires_grad_(True) for p in params0]
    trace = torch.empty((cfg.draws, rows), dtype=torch.float32, device=params0[0].device)
    for i in range(cfg.steps):
        loss = loss_of(params)
        grads = torch.autograd.grad(loss.sum(), params)
        j = i - cfg.burnin
        if j >= 0 and (j + 1) % cfg.steps_between_draws == 0:
            trace[j // cfg.steps_between_draws] = loss.detach()
        with torch.no_grad():
            for p, g, p0 in zip(params, grads, params0):
                step = g.mul(nbeta)
                if gamma:
                    step.add_(p - p0, alpha=gamma)
                p.add_(step, alpha=-0.5 * lr)
                p.add_(torch.randn(p.shape, generator=generator, device=p.device, dtype=p.dtype), alpha=noise_scale)
    tr = trace.double().cpu().numpy().reshape(cfg.draws, C, M).transpose(2, 1, 0)   # [M, C, D]
    return summarise(tr, init_loss.cpu().numpy(), nbeta)


def summarise(trace: np.ndarray, init_loss: np.ndarray, nbeta: float) -> LLCEstimate:
    """Means, spreads and diagnostics from loss traces (shape: [M, C, D]) and L(w*) (shape: [M])."""
    M, C, D = trace.shape
    init = init_loss[:, None]
    with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (every chain diverged) give NaN on purpose
        chains = nbeta * (trace.mean(2) - init)                               # [M, C]
        typical = np.nan_to_num(np.nanmedian(np.where(np.isfinite(chains), np.abs(chains), np.nan), 1), nan=0.0)
        bound = 100.0 * np.maximum(10.0, typical)                             # [M], in units of nβ·ΔL
        excess = nbeta * (np.nan_to_num(trace, nan=np.inf) - init[:, :, None])
        diverged = ~np.isfinite(trace).all(2) | (excess > bound[:, None, None]).any(2)
        ok = np.where(diverged, np.nan, chains)
        n_ok = (~diverged).sum(1)
        mean = np.where(n_ok > 0, np.nansum(ok, 1) / np.maximum(n_ok, 1), np.nan)
        dev = np.where(diverged, 0.0, ok - mean[:, None])
        std = np.where(n_ok > 1, np.sqrt((dev ** 2).sum(1) / np.maximum(n_ok - 1, 1)), np.nan)
        half = max(D // 2, 1)
        drift = nbeta * (trace[:, :, half:].mean(2) - trace[:, :, :half].mean(2))     # [M, C]
        drift = np.where(diverged, np.nan, drift)
        d_mean = np.nanmean(np.where(n_ok[:, None] > 0, drift, 0.0), 1)
        d_se = np.nan_to_num(np.nanstd(drift, 1) / np.sqrt(np.maximum(n_ok, 1)))
        settled = (np.abs(d_mean) <= 0.1 * np.abs(mean) + 2.0 * d_se) & (n_ok > 0) if D >= 4 else np.ones(M, bool)
    return LLCEstimate(mean=mean, std=std, chains=chains, init_loss=init_loss.astype(np.float64), trace=trace,
                       diverged=diverged, settled=np.asarray(settled, bool))


def toy_loss(params: list[Tensor], x: Tensor, importance: Tensor, model: str, reduction: str) -> Tensor:
    """The toy model's loss per row (shape: [rows]): params = [W, b] or [W, b, W_dec] of
    (shape: [rows, m, n]), (shape: [rows, n]); x (shape: [rows, n, B]); importance (shape: [rows, n])."""
    W, b = params[0], params[1]
    W_dec = params[2] if len(params) > 2 else None
    return loss_fn(forward(x, W, b, W_dec, model), x, importance, reduction)


def toy_llc(W: Tensor, b: Tensor, W_dec: Tensor | None, importance: Tensor, sampler: Sampler, cfg: LLCConfig, *,
            model: str = "tied", reduction: str = "mean", generator: torch.Generator) -> LLCEstimate:
    """The LLC of M toy models at once.

    :param W: (shape: [M, n_hidden, n_features]); b: (shape: [M, n_features]); W_dec: like W or None
    :param importance: (shape: [M, n_features])
    :param sampler: draws x (shape: [C·M, n_features, batch_size]) from each model's data law; row
        c·M + m belongs to model m (so per-model laws repeat with period M)
    """
    C = cfg.chains
    params0 = [t.repeat((C,) + (1,) * (t.dim() - 1)).contiguous() for t in (W, b, W_dec) if t is not None]
    imp = importance.repeat(C, 1)
    rows = params0[0].shape[0]

    def loss_of(params: list[Tensor]) -> Tensor:
        return toy_loss(params, sampler(rows, generator), imp, model, reduction)

    return sgld_llc(loss_of, params0, cfg, generator)


# --------------------------------------------------------------------------- Hessian


def flatten_params(W: Tensor, b: Tensor, W_dec: Tensor | None) -> tuple[Tensor, list[tuple[int, ...]]]:
    """(theta (shape: [M, P]), the per-instance shapes): W, b, then W_dec, row-major."""
    ts = [t for t in (W, b, W_dec) if t is not None]
    return torch.cat([t.reshape(t.shape[0], -1) for t in ts], 1), [tuple(t.shape[1:]) for t in ts]


def _gradient(W: Tensor, b: Tensor, W_dec: Tensor | None, importance: Tensor, x: Tensor, model: str,
              reduction: str) -> tuple[Tensor, Tensor]:
    """(theta (shape: [M, P]) a leaf, its per-model gradient (shape: [M, P]) with a graph for a second
    backward pass). Models are independent, so the gradient of the summed loss is each model's."""
    theta, shapes = flatten_params(W, b, W_dec)
    theta = theta.detach().requires_grad_(True)
    sizes = [math.prod(s) for s in shapes]
    M = theta.shape[0]
    parts = [p.reshape((M,) + s) for p, s in zip(torch.split(theta, sizes, 1), shapes)]
    loss = toy_loss(parts, x, importance, model, reduction)
    (g,) = torch.autograd.grad(loss.sum(), theta, create_graph=True)
    return theta, g


def toy_hessian(W: Tensor, b: Tensor, W_dec: Tensor | None, importance: Tensor, x: Tensor, *, model: str = "tied",
                reduction: str = "mean") -> Tensor:
    """The exact Hessians (shape: [M, P, P]) of M models' losses on x (shape: [M, n, B])
    with respect to their flattened (W, b, W_dec) (:func:`flatten_params`): P second backward
    passes, each giving one row of every model's Hessian."""
    theta, g = _gradient(W, b, W_dec, importance, x, model, reduction)
    P = theta.shape[1]
    rows = [torch.autograd.grad(g[:, p].sum(), theta, retain_graph=p < P - 1)[0] for p in range(P)]
    H = torch.stack(rows, 1)
    return 0.5 * (H + H.transpose(1, 2))


def hvp_fn(W: Tensor, b: Tensor, W_dec: Tensor | None, importance: Tensor, x: Tensor, *, model: str = "tied",
           reduction: str = "mean") -> tuple[Callable[[Tensor], Tensor], int]:
    """(v (shape: [M, P]) -> H v (shape: [M, P]), P): Hessian-vector products, batched over models."""
    theta, g = _gradient(W, b, W_dec, importance, x, model, reduction)

    def hvp(v: Tensor) -> Tensor:
        return torch.autograd.grad((g * v).sum(), theta, retain_graph=True)[0].detach()

    return hvp, theta.shape[1]


def lanczos_top(hvp: Callable[[Tensor], Tensor], M: int, P: int, k: int, *, iters: int | None = None,
                generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                device: torch.device | str = "cpu") -> Tensor:
    """The k eigenvalues of largest magnitude (shape: [M, k], descending by value) of M symmetric
    operators, by Lanczos with full reorthogonalization (``iters`` default min(P, max(2k + 20, 40)))."""
    m = min(P, iters or max(2 * k + 20, 40))
    Q = torch.zeros((M, m + 1, P), dtype=dtype, device=device)
    alpha = torch.zeros((M, m), dtype=dtype, device=device)
    beta = torch.zeros((M, m), dtype=dtype, device=device)
    q = torch.randn((M, P), generator=generator, dtype=dtype, device=device)
    Q[:, 0] = q / q.norm(dim=1, keepdim=True)
    for j in range(m):
        w = hvp(Q[:, j].to(dtype))
        alpha[:, j] = (w * Q[:, j]).sum(1)
        # full reorthogonalization against every earlier vector (twice, for stability)
        for _ in range(2):
            w = w - torch.einsum("mj,mjp->mp", torch.einsum("mjp,mp->mj", Q[:, : j + 1], w), Q[:, : j + 1])
        nb = w.norm(dim=1)
        beta[:, j] = nb
        Q[:, j + 1] = w / nb.clamp_min(1e-30).unsqueeze(1)
    T = torch.diag_embed(alpha) + torch.diag_embed(beta[:, :-1], 1) + torch.diag_embed(beta[:, :-1], -1)
    ev = torch.linalg.eigvalsh(T)                                          # ascending
    order = ev.abs().argsort(dim=1, descending=True)[:, :k]
    top = ev.gather(1, order)
    return top.sort(dim=1, descending=True).values


def degeneracy(eigenvalues: np.ndarray, rel_tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """(count (shape: [...]), threshold (shape: [...])): eigenvalues (shape: [..., P]) with
    |λ| <= rel_tol · max |λ|, and that threshold."""
    ev = np.asarray(eigenvalues, dtype=np.float64)
    thr = rel_tol * np.abs(ev).max(-1)
    return (np.abs(ev) <= thr[..., None]).sum(-1), thr
