"""The landscape estimators against oracles: SGLD's LLC on a quadratic (closed form of the
discretised Langevin chain), the toy model's LLC against devinterp (when installed), the exact
Hessian against torch.autograd.functional.hessian, Lanczos against the full spectrum."""

import math
from importlib.metadata import version

import numpy as np
import pytest
import torch

from animsup import models
from animsup.errors import AnimsupError
from animsup.train import landscape as ls
from animsup.train.model import forward, loss_fn

torch.set_num_threads(1)
TRAINABLE = models.names(trainable=True)


def test_llc_of_a_quadratic_matches_the_discrete_langevin_closed_form():
    # L(w) = 1/2 sum h_i w_i^2 around w* = 0, no data noise. The chain w <- w - (eps/2) a w + sqrt(eps) xi
    # with a = nbeta h + gamma is stationary with Var w = 1 / (a (1 - eps a / 4)), so
    # E[nbeta L] = nbeta/2 sum h_i / (a_i (1 - eps a_i / 4)) (-> rank / 2 as eps -> 0, nbeta h >> gamma).
    h = torch.tensor([1.0, 4.0, 0.0], dtype=torch.float64)
    cfg = ls.LLCConfig(lr=1e-3, localization=1.0, nbeta=100.0, chains=256, draws=300, burnin=300)
    a = cfg.resolved_nbeta * h + cfg.localization
    expected = float((cfg.resolved_nbeta / 2 * h / (a * (1 - cfg.lr * a / 4))).sum())
    w0 = torch.zeros((cfg.chains, 3), dtype=torch.float64)

    def loss_of(params):
        return 0.5 * (h * params[0] ** 2).sum(1)

    est = ls.sgld_llc(loss_of, [w0], cfg, torch.Generator().manual_seed(0))
    assert est.chains.shape == (1, cfg.chains) and est.trace.shape == (1, cfg.chains, cfg.draws)
    se = est.std[0] / math.sqrt(cfg.chains)
    assert abs(est.mean[0] - expected) < 4 * se + 0.01, (est.mean[0], expected, se)
    assert 0.95 < expected < 1.1   # two non-degenerate directions: about 2/2 (+6 % from the step size)
    assert est.settled[0] and not est.diverged.any() and est.init_loss[0] == 0.0


def test_divergence_and_unsettled_traces_are_flagged():
    D = 40
    trace = np.full((3, 4, D), 0.1)
    trace[0, 1, 5:] = np.nan                       # a chain that blew up
    trace[1] += np.linspace(0, 1.0, D)             # every chain still climbing
    est = ls.summarise(trace, np.array([0.05, 0.05, 0.05]), nbeta=10.0)
    assert est.diverged[0].tolist() == [False, True, False, False]
    assert est.mean[0] == pytest.approx(10 * 0.05) and np.isfinite(est.std[0])
    assert not est.settled[1] and est.settled[2]
    all_bad = ls.summarise(np.full((1, 2, D), np.inf), np.array([0.0]), nbeta=1.0)
    assert np.isnan(all_bad.mean[0]) and not all_bad.settled[0]


def test_settings_are_checked():
    with pytest.raises(AnimsupError, match="chains"):
        ls.LLCConfig(chains=0)
    with pytest.raises(AnimsupError, match="chains must be >= 2"):
        ls.LLCConfig(chains=1)
    with pytest.raises(AnimsupError, match="lr"):
        ls.LLCConfig(lr=float("nan"))
    with pytest.raises(AnimsupError, match="unknown llc setting"):
        ls.LLCConfig.from_mapping({"num_chains": 3})
    assert ls.LLCConfig(batch_size=100).resolved_nbeta == pytest.approx(100 / math.log(100))  # devinterp's default_nbeta


def _params(model, M=3, n=5, m=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(M, m, n, generator=g, dtype=torch.float64)
    b = torch.randn(M, n, generator=g, dtype=torch.float64) * 0.3
    W_dec = torch.randn(M, m, n, generator=g, dtype=torch.float64) if models.get(model).has_decoder else None
    x = torch.rand(M, n, 64, generator=g, dtype=torch.float64) * (torch.rand(M, n, 64, generator=g) < 0.4)
    imp = (0.8 ** torch.arange(n, dtype=torch.float64)).repeat(M, 1)
    return W, b, W_dec, imp, x


@pytest.mark.parametrize("model", TRAINABLE)
def test_exact_hessian_matches_autograd(model):
    W, b, W_dec, imp, x = _params(model)
    H = ls.toy_hessian(W, b, W_dec, imp, x, model=model)
    for k in range(W.shape[0]):
        def f(*ps, k=k):
            Wk, bk = ps[0].unsqueeze(0), ps[1].unsqueeze(0)
            Wd = ps[2].unsqueeze(0) if len(ps) > 2 else None
            return loss_fn(forward(x[k : k + 1], Wk, bk, Wd, model), x[k : k + 1], imp[k : k + 1])[0]

        inputs = tuple(t[k] for t in (W, b, W_dec) if t is not None)
        blocks = torch.autograd.functional.hessian(f, inputs)
        sizes = [t.numel() for t in inputs]
        ref = torch.cat([torch.cat([blocks[i][j].reshape(sizes[i], sizes[j]) for j in range(len(inputs))], 1)
                         for i in range(len(inputs))], 0)
        torch.testing.assert_close(H[k], ref)


def test_lanczos_finds_the_top_eigenvalues():
    W, b, W_dec, imp, x = _params("untied", M=2, n=8, m=3)        # P = 24 + 8 + 24 = 56
    H = ls.toy_hessian(W, b, W_dec, imp, x, model="untied")
    full = torch.linalg.eigvalsh(H)
    hvp, P = ls.hvp_fn(W, b, W_dec, imp, x, model="untied")
    assert P == 56
    top = ls.lanczos_top(hvp, 2, P, 4, iters=P, generator=torch.Generator().manual_seed(1))
    ref = full.gather(1, full.abs().argsort(1, descending=True)[:, :4]).sort(1, descending=True).values
    torch.testing.assert_close(top, ref, rtol=1e-6, atol=1e-8)


def test_degeneracy_counts_below_the_stated_threshold():
    ev = np.array([[10.0, 1.0, 5e-3, -1e-3, 0.0], [2.0, 1.0, 0.5, 0.1, 0.01]])
    count, thr = ls.degeneracy(ev, rel_tol=1e-3)
    assert count.tolist() == [3, 0] and thr.tolist() == pytest.approx([1e-2, 2e-3])


def test_rotation_symmetry_is_a_zero_eigenvalue_at_a_critical_point():
    # the tied model's loss is invariant under W -> R W (R a rotation of the hidden plane); at a
    # minimum the orbit's tangent is a zero eigenvector. A 2-feature, 2-hidden model with b = 0 and
    # W = I is the exact minimum (perfect reconstruction) for any data.
    W = torch.eye(2, dtype=torch.float64).unsqueeze(0)
    b = torch.zeros(1, 2, dtype=torch.float64)
    x = torch.rand(1, 2, 256, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ev = torch.linalg.eigvalsh(ls.toy_hessian(W, b, None, torch.ones(1, 2, dtype=torch.float64), x))[0]
    tangent = torch.tensor([0.0, -1.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64)   # d/dθ (R_θ W) at θ = 0
    H = ls.toy_hessian(W, b, None, torch.ones(1, 2, dtype=torch.float64), x)[0]
    torch.testing.assert_close(H @ tangent, torch.zeros(6, dtype=torch.float64))
    assert ls.degeneracy(ev.flip(0).numpy()[None], 1e-6)[0][0] >= 1


def test_toy_llc_agrees_with_devinterp():
    pytest.importorskip("devinterp", reason="devinterp (in the [test] and [bench] extras) is the reference")
    from bench.llc_reference import devinterp_llc, fixed_data, hexagon_point

    W, b = hexagon_point()
    data = fixed_data(2048, seed=0)
    cfg = ls.LLCConfig(lr=1e-3, localization=100.0, chains=6, draws=150, batch_size=128, seed=0)
    X = torch.as_tensor(data)

    def sampler(rows, g):
        return X[torch.randint(0, len(X), (rows, cfg.batch_size), generator=g)].transpose(1, 2).contiguous()

    ours = ls.toy_llc(torch.as_tensor(W)[None], torch.as_tensor(b)[None], None, torch.ones(1, 6), sampler, cfg,
                      generator=torch.Generator().manual_seed(0))
    ref_mean, ref_std = devinterp_llc(W, b, data, cfg)
    assert version("devinterp").startswith("1.3.")
    spread = math.hypot(ours.std[0], ref_std) / math.sqrt(cfg.chains)
    assert abs(ours.mean[0] - ref_mean) <= max(0.1 * abs(ref_mean), 3 * spread), (ours.mean[0], ref_mean, spread)
