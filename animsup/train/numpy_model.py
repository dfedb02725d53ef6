"""The tied toy model in numpy with hand-derived gradients (``--backend numpy``), as seed 002 does in C.

Model, batched over instances (x: [n_instances, n_features, batch], samples as columns)::

    h = W x                 # [k, m, B]   hidden
    z = W^T h + b           # [k, n, B]
    y = ReLU(z),  d = y - x

Loss per instance, with c = 1/(B n) ("mean", the notebook) or c = 1/(2B) ("half-sum", seed 002)::

    L = c * sum_{batch, i} I_i d_i^2  (+ l1 * (sum |W| + sum |b|))

Two gradients (g_j = 2c I_j d_j 1[z_j > 0], summed over the batch):

- ``exact`` — the true gradient. W appears twice (encoder and decoder), so
  dL/dW[m,i] = g_i h_m + x_i sum_j g_j W[m,j];   dL/db_i = g_i.
- ``blog`` — the formulas printed in seed 002 (its C ``gradient()``), per sample
  dL/dW[m,n] = g_n (h_m + W[m,n] x_n) + alpha sign(W[m,n]) 1[y_n > 0]   (only the j = n
  term of the sum over outputs survives);  dL/db_n = 2c d_n 1[y_n > 0] (+ alpha sign b_n)
  (the importance weight is dropped). sign(0) = -1 as in the C ternary.

See docs/training.md for the derivation and what each converges to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from animsup.train.data import Batches, init_rng
from animsup.train.optim import FlatOptimizer

if TYPE_CHECKING:
    from animsup.train.config import TrainConfig


def init_params(n_features: int, n_hidden: int, seeds: Sequence[int], init: str, untied: bool = False,
                scale: float = 1.0, fan_instances: int | None = None) -> dict[str, np.ndarray]:
    """Initial parameters, each instance from its own seed (numpy, float32).

    ``notebook``: W ~ N(0, 2 / (n_hidden · (n_features + n_instances))), b = 0: the std of the
    paper's notebook, which applies ``torch.nn.init.xavier_normal_`` to the whole
    [n_instances, n_features, n_hidden] tensor (fan_in = n_features·n_hidden, fan_out =
    n_instances·n_hidden), so it depends on how many instances are trained together
    (toy_models.ipynb in github.com/anthropics/toy-models-of-superposition). The same std, not torch's random stream.
    ``xavier-per-instance``: W ~ N(0, 2 / (n_features + n_hidden)) (Xavier-normal of each
    instance's own [m, n] matrix; what animsup called "xavier" before 0.2), b = 0.
    ``blog``: W and b ~ U[0, 0.001) (seed 002).
    ``scale`` multiplies W (and W_dec), not b: the learning-dynamics runs start W at 0.1x.
    ``fan_instances`` replaces n_instances in the notebook std (a sweep's shard: its whole group's count).

    :return: W (shape: [k, m, n]), b (shape: [k, n]), W_dec (shape: [k, m, n]) when untied
    """
    k, m, n = len(seeds), n_hidden, n_features
    W = np.empty((k, m, n), np.float32)
    b = np.zeros((k, n), np.float32)
    out = {"W": W, "b": b}
    if untied:
        out["W_dec"] = np.empty((k, m, n), np.float32)
    mats = [out[name] for name in ("W", "W_dec") if name in out]
    std = np.sqrt(2.0 / (m * (n + (fan_instances or k)))) if init == "notebook" else np.sqrt(2.0 / (n + m))
    for i, seed in enumerate(seeds):  # once, at start-up: per-instance streams
        rng = init_rng(seed)
        for M in mats:
            if init in ("notebook", "xavier-per-instance"):
                M[i] = rng.standard_normal((m, n), dtype=np.float32) * np.float32(std)
            else:
                M[i] = rng.random((m, n), dtype=np.float32) * np.float32(0.001)
        if init == "blog":
            b[i] = rng.random(n, dtype=np.float32) * np.float32(0.001)
    if scale != 1.0:
        for M in mats:
            M *= np.float32(scale)
    return out


def loss_scale(reduction: str, batch: int, n_features: int) -> float:
    """c in L = c * sum I d^2 (see the module docstring)."""
    return 1.0 / (batch * n_features) if reduction == "mean" else 1.0 / (2 * batch)


def forward(W: np.ndarray, b: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:return: h [k, m, B], z [k, n, B] (pre-ReLU) for x [k, n, B]"""
    h = W @ x
    z = W.transpose(0, 2, 1) @ h
    z += b[:, :, None]
    return h, z


def loss_and_grad(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance: np.ndarray, *, gradient: str = "exact",
                  reduction: str = "mean", l1: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-instance loss and its gradient (``exact``) or seed 002's (``blog``).

    :param W: (shape: [k, m, n]); b: (shape: [k, n]); x: (shape: [k, n, B]);
        importance: (shape: [n]) or (shape: [k, n])
    :return: loss (shape: [k]), dW (shape: [k, m, n]), db (shape: [k, n])
    """
    n, B = x.shape[1], x.shape[2]
    f = W.dtype.type  # float32 in training; float64 in the oracle tests
    c2 = f(2.0 * loss_scale(reduction, B, n))
    h, z = forward(W, b, x)
    active = z > 0
    d = np.maximum(z, 0, out=z)
    d -= x                                      # d = y - x
    g = d * (importance * c2)[..., None]        # 2c I d
    loss = np.einsum("knb,knb->k", g, d) * f(0.5)
    g *= active
    xT = x.transpose(0, 2, 1)
    if gradient == "exact":
        dW = h @ g.transpose(0, 2, 1)           # decoder use of W:  g_i h_m
        dW += (W @ g) @ xT                      # encoder use: x_i sum_j g_j W[m, j]
        db = g.sum(2)
        if l1:
            dW += l1 * np.sign(W)
            db += l1 * np.sign(b)
    else:  # seed 002's printed gradient
        dW = h @ g.transpose(0, 2, 1)
        dW += W * np.einsum("knb,knb->kn", g, x)[:, None, :]   # keeps only the j = n term
        db = (d * active).sum(2) * c2                           # no importance weight
        if l1:
            n_active = active.sum(2).astype(W.dtype) / B        # C adds alpha sign(.) per active sample
            dW += f(l1) * np.where(W > 0, f(1), f(-1)) * n_active[:, None, :]
            db += f(l1) * np.where(b > 0, f(1), f(-1)) * n_active
    if l1:
        loss = loss + l1 * (np.abs(W).sum((1, 2)) + np.abs(b).sum(1))
    return loss.astype(W.dtype, copy=False), dW.astype(W.dtype, copy=False), db.astype(W.dtype, copy=False)


class NumpyEngine:
    """Trains the tied model for :func:`animsup.train.loop.train`: an :class:`animsup.train.engine.Engine`
    whose loss records and parameter copies are numpy arrays."""

    device = "cpu"

    def __init__(self, cfg: TrainConfig):
        k, m, n = cfg.n_instances, cfg.n_hidden, cfg.n_features
        self.cfg, self.k, self.m, self.n = cfg, k, m, n
        init = init_params(n, m, cfg.instance_seeds(), cfg.init, scale=cfg.init_scale, fan_instances=cfg.init_instances)
        self.params = np.concatenate([init["W"].ravel(), init["b"].ravel()])
        self.W = self.params[: k * m * n].reshape(k, m, n)
        self.b = self.params[k * m * n :].reshape(k, n)
        self.grad = np.zeros_like(self.params)
        self.importance = cfg.importance_matrix()   # [k, n]
        self.data = Batches(cfg.probability_matrix(), n, cfg.batch_size, cfg.instance_seeds(), dataset_size=cfg.dataset_size,
                            spec=cfg.data_spec())
        self.opt = FlatOptimizer(self.params, cfg.optimizer, cfg.resolved_weight_decay())
        self._loss_buf: np.ndarray | None = None

    def loss_and_grad(self, need_loss: bool = True) -> np.ndarray:
        x = self.data.next()
        loss, dW, db = loss_and_grad(self.W, self.b, x, self.importance, gradient=self.cfg.gradient,
                                     reduction=self.cfg.loss_reduction, l1=self.cfg.l1)
        nW = dW.size
        self.grad[:nW] = dW.ravel()
        self.grad[nW:] = db.ravel()
        return loss

    def keep_loss(self, row: int, record: np.ndarray, capacity: int) -> None:
        if self._loss_buf is None:
            self._loss_buf = np.empty((capacity, *record.shape), record.dtype)
        self._loss_buf[row] = record

    def kept_losses(self, rows: int) -> list[np.ndarray]:
        return [] if self._loss_buf is None else [self._loss_buf[i] for i in range(rows)]

    def update_(self, lr: float) -> None:
        self.opt.step_(self.grad, lr)

    def set_stage(self, stage: int, new_optimizer: bool) -> None:
        self.data.set_probability(self.cfg.probability_matrix(stage))
        if new_optimizer:
            self.opt = FlatOptimizer(self.params, self.cfg.optimizer, self.cfg.resolved_weight_decay())

    def param_copy(self) -> np.ndarray:
        return self.params.copy()

    def params_to_numpy(self, copies: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        nW = self.W.size
        return [{"flat": c, "W": c[:nW].reshape(self.W.shape), "b": c[nW:].reshape(self.b.shape)} for c in copies]

    def losses_to_numpy(self, losses: list[np.ndarray]) -> np.ndarray:
        return np.stack(losses).astype(np.float32)

    def rng_state(self) -> str:
        return self.data.get_state()

    def state(self, rng_state: str | np.ndarray) -> dict[str, np.ndarray]:
        return {"params": self.params.copy(), "rng": np.asarray(rng_state), **{f"opt_{k}": v for k, v in self.opt.state().items()}}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.params[...] = state["params"]
        self.data.set_state(str(state["rng"]))
        self.opt.load_state({k[4:]: v for k, v in state.items() if k.startswith("opt_")})

    def close(self) -> None:
        """Nothing to release (no threads)."""
