"""devinterp 1.3.x as the reference for animsup's LLC (bench/bench_llc.py and
tests/train/test_landscape.py): the toy model as an ``nn.Module``, a fixed data set, and one call
of devinterp's ``estimate_learning_coeff_with_summary`` per model with animsup's hyperparameters.

devinterp is imported only inside these functions (``pip install animsup[bench]``); animsup never
imports it.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch


class ToyModel(torch.nn.Module):
    """y = ReLU(Wᵀ W x + b) (tied) for x (shape: [B, n]); W (shape: [m, n])."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        super().__init__()
        self.W = torch.nn.Parameter(torch.as_tensor(np.asarray(W, np.float32)).clone())
        self.b = torch.nn.Parameter(torch.as_tensor(np.asarray(b, np.float32)).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.W.T @ self.W + self.b)


def fixed_data(N: int, n_features: int = 6, feature_probability: float = 0.1, seed: int = 0) -> np.ndarray:
    """(shape: [N, n_features]) float32: the paper's law, present features U[0, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.random((N, n_features), dtype=np.float32)
    return x * (rng.random((N, n_features)) < feature_probability)


def hexagon_point(steps: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 6→2 tied model near a hexagon minimum: a regular hexagon of radius 1 (b = 0), then
    ``steps`` of full-batch Adam on :func:`fixed_data` (2048 samples)."""
    theta = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    model = ToyModel(np.stack([np.cos(theta), np.sin(theta)]), np.zeros(6))
    x = torch.as_tensor(fixed_data(2048, seed=seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), x).backward()
        opt.step()
    return model.W.detach().numpy().copy(), model.b.detach().numpy().copy()


def devinterp_llc(W: np.ndarray, b: np.ndarray, data: np.ndarray, cfg, *, seed: int | None = None) -> tuple[float, float]:
    """(mean, std) of devinterp's LLC of one tied model on ``data`` with ``cfg``'s hyperparameters
    (an :class:`animsup.train.landscape.LLCConfig`; the loss is the plain MSE, importance 1)."""
    from devinterp.optim.sgld import SGLD
    from devinterp.slt.sampler import estimate_learning_coeff_with_summary
    from torch.utils.data import DataLoader

    torch.manual_seed(cfg.seed if seed is None else seed)   # the loader's shuffle uses the global generator
    model = ToyModel(W, b)
    loader = DataLoader(torch.as_tensor(np.asarray(data, np.float32)), batch_size=cfg.batch_size, shuffle=True)

    def evaluate(m, x):
        return torch.nn.functional.mse_loss(m(x), x), {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = estimate_learning_coeff_with_summary(
            model, loader=loader, evaluate=evaluate, sampling_method=SGLD,
            optimizer_kwargs=dict(lr=cfg.lr, localization=cfg.localization, nbeta=cfg.resolved_nbeta),
            num_chains=cfg.chains, num_draws=cfg.draws, num_burnin_steps=cfg.burnin,
            num_steps_bw_draws=cfg.steps_between_draws, seed=cfg.seed if seed is None else seed,
            device=torch.device("cpu"), verbose=False, online=False)
    return float(res["llc/mean"]), float(res["llc/std"])
