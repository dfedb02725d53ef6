"""The scaling-law regime (Liu, Liu, Gore, "Superposition Yields Robust Neural Scaling", NeurIPS 2025,
arXiv:2505.10465; code: github.com/liuyz0/SuperpositionScaling, ``exp/exp-17.py`` and ``exp/adamw.py``).

The model is the paper's toy ``y = ReLU(x W Wᵀ + b)`` with W of shape [n, m] (row i: feature i's
vector), inputs ``x_i = u_i v_i`` with ``u_i ~ Bernoulli(p_i)`` and ``v_i ~ U(0, 2)`` (drawn from one
uniform a entry: ``x = 2 a / p_i`` when ``a < p_i``, as :mod:`animsup.train.data` does), the loss the
mean squared error over batch and features. Feature frequencies (:func:`frequencies`):

- ``power``: ``p_i ∝ i^-alpha`` (their ``alpha = 1.2``), normalised so that Σ p_i = ``density``
  (their 1: one active feature per sample on average);
- ``exponential``: ``p_i ∝ exp(-i / scale)`` (scale 1,000 at n = 10,240 in exp-17.py; their App. B.1 says 400),
  likewise normalised.

Weight decay γ of either sign is the knob between the regimes (their AdamW, applied to W only,
before the Adam step, with the step's learning rate η):

- γ >= 0: ``W ← W (1 - η γ)`` (ordinary decoupled decay: few features kept, *weak* superposition);
- γ < 0: ``W_i ← W_i + η γ W_i (1 - 1 / ‖W_i‖)`` row-wise: pulls every row's norm towards 1
  (*strong* superposition: nearly every feature represented).

Their schedule: learning rate ``lr · (8 / m)^0.25`` for W and ``2 / m`` for b, warmed up linearly
over 5 % of the steps, then cosine-decayed to 5 % of its peak. The runs of one m for every γ train
together (one batched product per step; each γ's model is updated independently). The loss and its
gradients are written out by hand (:func:`loss_and_grads`, checked against autograd): the step is bound
by passes over the [G, batch, n] outputs, and autograd makes about twice as many. On the CPU the
uniform draws come from numpy's generator (faster there), on a GPU from torch's.

Left as it is: exp-17.py multiplies the loss by 100 before ``backward`` (Adam is blind to the scale
except through its ε = 1e-8, which weighs 100× more here on the tiny gradients of rare features).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from animsup.errors import AnimsupError

DISTRIBUTIONS = ("power", "exponential")
#: the loss curve kept per (γ, m): this many means over equal windows of the steps
CURVE_POINTS = 20


def frequencies(n: int, dist: str = "power", alpha: float = 1.2, scale: float = 1000.0, density: float = 1.0) -> np.ndarray:
    """Feature probabilities p_i, decreasing, summing to ``density`` (each clipped to 1).

    :return: (shape: [n]) float64
    """
    i = np.arange(1, n + 1, dtype=np.float64)
    if dist == "power":
        w = i ** -float(alpha)
    elif dist == "exponential":
        w = np.exp(-(i - 1) / float(scale))
    else:
        raise AnimsupError(f"dist must be one of {', '.join(DISTRIBUTIONS)}, got {dist!r}")
    return np.minimum(w * (density / w.sum()), 1.0)


def lr_factor(step: int, steps: int, warmup: float = 0.05, floor: float = 0.05) -> float:
    """The paper's schedule multiplier for update ``step`` (0-based): linear warm-up over ``warmup``
    of the steps, then a cosine from 1 down to ``floor``."""
    w = int(steps * warmup)
    s = step + 1
    if s < w:
        return s / w
    return (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * (s - w) / max(1, steps - w))) + floor


def decay_(W: Any, gamma: Any, lr: float, eps: float = 1e-8) -> None:
    """The paper's decoupled weight decay, in place, one γ per model.

    :param W: (shape: [G, n, m]) torch tensor; gamma: (shape: [G]) torch tensor of decays
    """
    import torch

    with torch.no_grad():
        g = gamma.view(-1, 1, 1).to(W.dtype)
        norms = W.norm(dim=2, keepdim=True) + eps
        neg = g * W * (1.0 - 1.0 / norms) * lr  # added (γ < 0)
        pos = -g * W * lr  # added (γ >= 0): W (1 - γ lr)
        W.add_(torch.where(g < 0, neg, pos))


@dataclass
class ScalingConfig:
    """One sweep: every m of ``ms`` for every weight decay of ``gammas``."""

    n_features: int = 1024
    ms: list[int] = field(default_factory=lambda: [8, 16, 32, 64, 128])
    gammas: list[float] = field(default_factory=lambda: [-1.0, 1.0])
    dist: str = "power"
    alpha: float = 1.2
    scale: float = 100.0
    density: float = 1.0
    steps: int = 2000
    batch_size: int = 1024
    lr: float = 0.02
    seed: int = 0
    device: str = "cpu"
    tail: float = 0.1  # the final loss: the mean over this last fraction of the steps

    def validate(self) -> ScalingConfig:
        if min(self.n_features, self.steps, self.batch_size, *self.ms) < 1 or not self.gammas:
            raise AnimsupError("n_features, steps, batch_size and every m must be >= 1, with one or more gammas")
        if self.dist not in DISTRIBUTIONS:
            raise AnimsupError(f"dist must be one of {', '.join(DISTRIBUTIONS)}, got {self.dist!r}")
        return self


@dataclass
class ScalingResult:
    """:param loss: (shape: [len(gammas), len(ms)]) final loss (mean over the last ``tail`` of the steps)
    :param represented: (shape: [len(gammas), len(ms)]) φ_1/2: the fraction of features with ‖W_i‖ > 1/2
    :param seconds_per_step: (shape: [len(ms)]) wall time per step of each m (all gammas together)
    :param peak_bytes: (shape: [len(ms)]) peak device memory of each m (CUDA only, else 0)
    :param curves: (shape: [len(gammas), len(ms), CURVE_POINTS]) the training loss, mean over each of
        CURVE_POINTS equal windows of the steps (is it still falling at the end?)
    """

    config: ScalingConfig
    loss: np.ndarray
    represented: np.ndarray
    seconds_per_step: np.ndarray
    peak_bytes: np.ndarray
    norms: list[np.ndarray]
    curves: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"config": dict(self.config.__dict__), "loss": self.loss.tolist(), "represented": self.represented.tolist(),
                "seconds_per_step": self.seconds_per_step.tolist(), "peak_bytes": self.peak_bytes.tolist(), "curves": self.curves.tolist()}


def loss_and_grads(torch: Any, x: Any, W: Any, b: Any) -> tuple[Any, Any, Any]:
    """The mean squared error of ``y = ReLU(x W Wᵀ + b)`` and its gradients, by hand (no autograd: about
    half the passes over the [G, B, n] outputs that autograd makes, which dominate the step's time).

    With ``z = h Wᵀ + b``, ``h = x W`` and ``gz = 2 (y - x) [z > 0] / (B n)``: ``dL/db = Σ_batch gz``,
    ``dL/dW = gzᵀ h + xᵀ (gz W)`` (W enters twice). Checked against torch autograd in the tests.

    :param x: (shape: [B, n]) inputs shared by the G models; W: (shape: [G, n, m]); b: (shape: [G, 1, n])
    :return: loss (shape: [G]), dL/dW (shape: [G, n, m]), dL/db (shape: [G, 1, n])
    """
    B, n = x.shape
    G, m = W.shape[0], W.shape[2]
    h = (x @ W.permute(1, 0, 2).reshape(n, G * m)).view(B, G, m).permute(1, 0, 2)  # [G, B, m], one GEMM
    y = torch.baddbmm(b, h, W.transpose(1, 2)).relu_()
    on = torch.sign(y).mul_(2.0 / (B * n))  # 0 where the ReLU is off (or exactly at 0, as autograd's ReLU)
    d = y.sub_(x)  # y - x, in place
    loss = torch.linalg.vector_norm(d, dim=(1, 2)) ** 2 / (B * n)
    gz = d.mul_(on)
    gW = torch.einsum("bn,gbm->gnm", x, torch.bmm(gz, W))  # xᵀ (gz W); einsum: one GEMM, not G broadcast copies of x
    gW += torch.bmm(h.transpose(1, 2), gz).transpose(1, 2)  # gzᵀ h, as (hᵀ gz)ᵀ: gz read along its rows
    return loss, gW, gz.sum(dim=1, keepdim=True)


def _uniform(torch: Any, cfg: ScalingConfig, dev: Any, gen: Any, rng: np.random.Generator) -> Any:
    """U(0, 1) of shape [batch, n]: numpy's generator on the CPU (2-3x faster than torch's there), torch's on a GPU."""
    if dev.type == "cpu":
        return torch.from_numpy(rng.random((cfg.batch_size, cfg.n_features), dtype=np.float32))
    return torch.rand(cfg.batch_size, cfg.n_features, generator=gen, device=dev)


def _train_one_m(torch: Any, cfg: ScalingConfig, m: int, p: Any, gen: Any,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(final loss [G], row norms [G, n], seconds per step, loss curve [G, curve_points]) of every γ at hidden size m."""
    G, n, dev = len(cfg.gammas), cfg.n_features, p.device
    W = torch.randn(G, n, m, generator=gen, device=dev) / math.sqrt(m)
    b = torch.randn(G, 1, n, generator=gen, device=dev)
    W.grad, b.grad = torch.zeros_like(W), torch.zeros_like(b)
    lr_w, lr_b = cfg.lr * (8 / m) ** 0.25, 2.0 / m
    opt = torch.optim.Adam([{"params": [W], "lr": lr_w}, {"params": [b], "lr": lr_b}])
    gam = torch.tensor(cfg.gammas, device=dev)
    tail = max(1, int(cfg.steps * cfg.tail))
    acc = torch.zeros(G, device=dev)
    every = max(1, cfg.steps // CURVE_POINTS)
    curve, win = [], torch.zeros(G, device=dev)
    t0 = time.perf_counter()
    for s in range(cfg.steps):
        f = lr_factor(s, cfg.steps)
        opt.param_groups[0]["lr"], opt.param_groups[1]["lr"] = lr_w * f, lr_b * f
        u = _uniform(torch, cfg, dev, gen, rng)
        x = torch.where(u < p, u * (2.0 / p), 0.0)  # given u < p, u / p is U(0, 1): one draw for presence and value
        loss, gW, gb = loss_and_grads(torch, x, W, b)
        if s >= cfg.steps - tail:
            acc += loss
        win += loss
        if (s + 1) % every == 0:
            curve.append((win / every).cpu().numpy())
            win.zero_()
        W.grad.copy_(gW)
        b.grad.copy_(gb)
        decay_(W, gam, lr_w * f)
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    per_step = (time.perf_counter() - t0) / cfg.steps
    return (acc / tail).cpu().numpy(), W.norm(dim=2).cpu().numpy(), per_step, np.array(curve).T


def train_scaling(cfg: ScalingConfig) -> ScalingResult:
    """Train every (γ, m) of ``cfg`` on fresh samples each step; see the module docstring."""
    import torch

    cfg.validate()
    dev = torch.device(cfg.device)
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(cfg.seed))
    p = torch.tensor(frequencies(cfg.n_features, cfg.dist, cfg.alpha, cfg.scale, cfg.density), dtype=torch.float32,
                     device=dev)
    G, M = len(cfg.gammas), len(cfg.ms)
    loss, rep, sps, peak = np.zeros((G, M)), np.zeros((G, M)), np.zeros(M), np.zeros(M)
    norms, curves = [], []
    rng = np.random.default_rng(int(cfg.seed))
    for j, m in enumerate(cfg.ms):
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        loss[:, j], nm, sps[j], cv = _train_one_m(torch, cfg, int(m), p, gen, rng)
        curves.append(cv)
        rep[:, j] = (nm > 0.5).mean(axis=1)
        norms.append(nm)
        if dev.type == "cuda":
            peak[j] = torch.cuda.max_memory_allocated(dev)
    return ScalingResult(cfg, loss, rep, sps, peak, norms, np.stack(curves, axis=1))
