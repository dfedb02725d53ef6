"""The scaling-law trainer's pieces against hand derivations: the frequencies, the schedule, the
paper's weight decay of either sign; and one tiny sweep in which negative decay represents more."""

import math

import numpy as np
import pytest

from animsup.train import scaling as sc


def test_frequencies():
    p = sc.frequencies(4, "power", alpha=1.0, density=1.0)
    w = np.array([1, 1 / 2, 1 / 3, 1 / 4])
    assert np.allclose(p, w / w.sum())
    e = sc.frequencies(3, "exponential", scale=1.0, density=0.5)
    assert np.allclose(e, 0.5 * np.exp(-np.arange(3)) / np.exp(-np.arange(3)).sum())
    assert sc.frequencies(3, "power", density=100.0).max() == 1.0  # clipped to a probability


def test_schedule():
    assert sc.lr_factor(0, 100) == pytest.approx(1 / 5)  # warm-up over 5 steps
    assert sc.lr_factor(4, 100) == pytest.approx(1.0)
    assert sc.lr_factor(99, 100) == pytest.approx(0.05)  # the floor
    assert sc.lr_factor(51, 100) == pytest.approx(0.95 * 0.5 * (1 + math.cos(math.pi * 47 / 95)) + 0.05)


def test_decay_of_either_sign():
    import torch

    W = torch.tensor([[[3.0, 4.0], [0.3, 0.4]], [[3.0, 4.0], [0.3, 0.4]]])  # rows of norm 5 and 0.5
    sc.decay_(W, torch.tensor([0.5, -0.5]), lr=0.1, eps=0.0)
    assert torch.allclose(W[0], torch.tensor([[3.0, 4.0], [0.3, 0.4]]) * 0.95)  # W (1 - γ lr)
    # γ < 0: W + γ lr W (1 - 1/‖W‖): norm 5 shrinks by 0.05 * 0.8, norm 0.5 grows by 0.05 * 1
    assert torch.allclose(W[1, 0], torch.tensor([3.0, 4.0]) * (1 - 0.05 * 0.8))
    assert torch.allclose(W[1, 1], torch.tensor([0.3, 0.4]) * (1 + 0.05 * 1.0))


def test_negative_decay_gives_strong_superposition():
    r = sc.train_scaling(sc.ScalingConfig(n_features=64, ms=[4], gammas=[-1.0, 1.0], steps=150, batch_size=128))
    assert r.represented[0, 0] > 0.9 and r.represented[1, 0] < 0.3
    assert r.loss.shape == (2, 1) and np.all(r.loss > 0)


def test_hand_gradients_match_autograd():
    import torch

    torch.manual_seed(0)
    G, B, n, m = 2, 16, 12, 3
    x = torch.where(torch.rand(B, n) < 0.3, 2 * torch.rand(B, n), torch.zeros(()))
    W = torch.randn(G, n, m, dtype=torch.float64)
    b = 0.3 * torch.randn(G, 1, n, dtype=torch.float64)
    x = x.double()
    Wa, ba = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    ref = ((torch.relu(x @ Wa @ Wa.transpose(1, 2) + ba) - x) ** 2).mean(dim=(1, 2))  # the paper's nn.MSELoss, per model
    ref.sum().backward()
    loss, gW, gb = sc.loss_and_grads(torch, x, W, b)
    assert torch.allclose(loss, ref.detach()) and torch.allclose(gW, Wa.grad) and torch.allclose(gb, ba.grad)
