"""Oracles for the numpy backend: exact gradient == torch autograd == finite differences;
blog gradient == a direct transcription of seed 002's C gradient() loop."""

import math

import numpy as np
import pytest
import torch

from animsup.train.model import forward, l1_penalty, loss_fn
from animsup.train.numpy_model import init_params, loss_and_grad


def _case(k=2, B=6, n=5, m=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = (rng.random((k, n, B)) * (rng.random((k, n, B)) < 0.5)).astype(dtype)
    W = rng.normal(size=(k, m, n)).astype(dtype)
    b = (rng.normal(size=(k, n)) * 0.3).astype(dtype)
    imp = (0.7 ** np.arange(n)).astype(dtype)
    return x, W, b, imp


@pytest.mark.parametrize("reduction", ["mean", "half-sum"])
@pytest.mark.parametrize("l1", [0.0, 0.02])
def test_exact_gradient_matches_autograd_and_finite_differences(reduction, l1):
    x, W, b, imp = _case()
    loss, dW, db = loss_and_grad(W, b, x, imp, gradient="exact", reduction=reduction, l1=l1)
    Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    xt = torch.tensor(x)
    ref = loss_fn(forward(xt, Wt, bt), xt, torch.tensor(imp), reduction) + l1_penalty(l1, Wt, bt)
    ref.sum().backward()
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-5, atol=1e-7)
    # central finite differences on every parameter (float64)
    eps = 1e-6
    for P, G in ((W, dW), (b, db)):
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + eps
            lp = loss_and_grad(W, b, x, imp, reduction=reduction, l1=l1)[0].sum()
            P[idx] = old - eps
            lm = loss_and_grad(W, b, x, imp, reduction=reduction, l1=l1)[0].sum()
            P[idx] = old
            assert math.isclose((lp - lm) / (2 * eps), G[idx], rel_tol=1e-4, abs_tol=1e-6), idx


def c_gradient(W, b, x, imp, alpha):
    """Seed 002's C gradient() for one instance and one sample, line by line.
    Returns (L, dL_wkj, dL_b) where C's accumulator receives -dL (grad->W -= dL_wkj)."""
    M, N = W.shape
    wkj_xj = np.zeros((M, N)); hk = np.zeros(M); y = np.zeros(N); delta = np.zeros(N)
    dL_wkj = np.zeros((M, N)); dL_b = np.zeros(N)
    for m in range(M):
        for n in range(N):
            wkj_xj[m][n] = W[m][n] * x[n]
            hk[m] += wkj_xj[m][n]
    for n in range(N):
        for m in range(M):
            y[n] += W[m][n] * hk[m]
        y[n] += b[n]
        y[n] = y[n] if y[n] > 0 else 0
        delta[n] = y[n] - x[n]
    L = 0.0
    for n in range(N):
        L += imp[n] * delta[n] * delta[n]
    for n in range(N):
        for m in range(M):
            L += alpha * abs(W[m][n])
        L += alpha * abs(b[n])
    L /= 2
    for m in range(M):
        for n in range(N):
            if y[n] <= 0:
                continue
            dL_wkj[m][n] = imp[n] * delta[n] * (hk[m] + wkj_xj[m][n]) + alpha * (1 if W[m][n] > 0 else -1)
    for n in range(N):
        if y[n] <= 0:
            continue
        dL_b[n] = delta[n] + alpha * (1 if b[n] > 0 else -1)
    return L, dL_wkj, dL_b


@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_blog_gradient_is_seed_002s_c_loop(alpha):
    x, W, b, imp = _case(k=2, B=8)
    W[0, 0, 1] = 0.0  # sign(0) is -1 in the C ternary
    _, dW, db = loss_and_grad(W, b, x, imp, gradient="blog", reduction="half-sum", l1=alpha)
    for i in range(x.shape[0]):
        gW, gb = np.zeros_like(W[i]), np.zeros_like(b[i])
        for sample in x[i].T:  # the C training loop: sum over the batch, update by eta / batch_size
            _, a, c = c_gradient(W[i], b[i], sample, imp, alpha)
            gW += a
            gb += c
        np.testing.assert_allclose(dW[i], gW / x.shape[2], rtol=1e-10)
        np.testing.assert_allclose(db[i], gb / x.shape[2], rtol=1e-10)


def test_blog_gradient_differs_from_the_exact_one():
    x, W, b, imp = _case()
    _, dW_blog, db_blog = loss_and_grad(W, b, x, imp, gradient="blog", reduction="half-sum")
    _, dW, db = loss_and_grad(W, b, x, imp, gradient="exact", reduction="half-sum")
    assert not np.allclose(dW_blog, dW) and not np.allclose(db_blog, db)


def test_init_per_instance_seed():
    a = init_params(5, 2, [0, 7], "xavier-per-instance")
    b = init_params(5, 2, [7], "xavier-per-instance")
    np.testing.assert_array_equal(a["W"][1], b["W"][0])
    assert np.all(a["b"] == 0) and abs(a["W"].std() - math.sqrt(2 / 7)) < 0.3
    c = init_params(5, 2, [0], "blog")
    assert np.all((c["W"] >= 0) & (c["W"] < 0.001)) and np.all((c["b"] >= 0) & (c["b"] < 0.001))


def test_init_scale_multiplies_w_not_b():
    base = init_params(6, 3, [0, 4], "xavier")
    small = init_params(6, 3, [0, 4], "xavier", scale=0.1)
    np.testing.assert_allclose(small["W"], 0.1 * base["W"], rtol=1e-6)
    np.testing.assert_array_equal(small["b"], base["b"])
    blog = init_params(6, 3, [0], "blog", untied=True, scale=0.5)
    blog1 = init_params(6, 3, [0], "blog", untied=True)
    np.testing.assert_allclose(blog["W_dec"], 0.5 * blog1["W_dec"], rtol=1e-6)
    np.testing.assert_array_equal(blog["b"], blog1["b"])
