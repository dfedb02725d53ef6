"""Oracles for the torch models: hand-written backward == autograd; flat optimisers == torch.optim;
batched instances == a loop over instances."""

import numpy as np
import pytest
import torch

from animsup import models
from animsup.train.model import forward, grad_weight, l1_penalty, loss_and_grad, loss_fn
from animsup.train.optim import FlatOptimizer

# every model animsup trains gets the oracle tests; those the CPU block step computes get its tests too
TRAINABLE = models.names(trainable=True)
BLOCK_STEP = [name for name in TRAINABLE if models.get(name).block_step]

torch.set_num_threads(1)


def _setup(model, k=3, B=7, n=5, m=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(k, n, B, generator=g, dtype=torch.float64) * (torch.rand(k, n, B, generator=g) < 0.5)
    W = torch.randn(k, m, n, generator=g, dtype=torch.float64)
    b = torch.randn(k, n, generator=g, dtype=torch.float64) * 0.1
    W_dec = torch.randn(k, m, n, generator=g, dtype=torch.float64) if models.get(model).has_decoder else None
    imp = 0.8 ** torch.arange(n, dtype=torch.float64)
    return x, W, b, W_dec, imp


@pytest.mark.parametrize("model", TRAINABLE)
@pytest.mark.parametrize("reduction", ["mean", "half-sum"])
@pytest.mark.parametrize("l1", [0.0, 0.03])
@pytest.mark.parametrize("negated", [False, True])
def test_hand_backward_matches_autograd(model, reduction, l1, negated):
    x, W, b, W_dec, imp = _setup(model)
    params = [t.clone().requires_grad_() for t in (W, b) + ((W_dec,) if W_dec is not None else ())]
    Wa, ba = params[0], params[1]
    Wda = params[2] if W_dec is not None else None
    ref = loss_fn(forward(x, Wa, ba, Wda, model), x, imp, reduction) + l1_penalty(l1, Wa, ba, Wda)
    ref.sum().backward()  # instances are independent: the sum's gradient is each instance's
    out = {"W": torch.empty_like(W), "b": torch.empty_like(b)}
    if W_dec is not None:
        out["W_dec"] = torch.empty_like(W)
    w2c = torch.from_numpy(grad_weight(imp.numpy(), reduction, x.shape[2], x.shape[1]).astype(np.float64))
    xin = -x if negated else x  # the engine feeds -x (cheapest to sample)
    loss = loss_and_grad(xin, W, b, W_dec, w2c, model=model, reduction=reduction, l1=l1, out=out, negated=negated)
    torch.testing.assert_close(loss, ref.detach())
    torch.testing.assert_close(out["W"], Wa.grad)
    torch.testing.assert_close(out["b"], ba.grad)
    if W_dec is not None:
        torch.testing.assert_close(out["W_dec"], Wda.grad)


@pytest.mark.parametrize("accumulate", [False, True])
def test_neuron_model_backward_per_instance_importance_and_blocks(accumulate):
    """The neuron model y = ReLU(Wᵀ ReLU(W x) + b): hand backward == autograd with importance (shape: [k, n]),
    and (accumulate) two column blocks add up to the whole batch; its forward is the per-sample formula."""
    x, W, b, _, _ = _setup("neuron", k=3, B=8, n=6, m=3)
    imp = torch.rand(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) + 0.1
    Wa, ba = W.clone().requires_grad_(), b.clone().requires_grad_()
    y = forward(x, Wa, ba, None, "neuron")
    torch.testing.assert_close(y[1, :, 2], torch.relu(W[1].T @ torch.relu(W[1] @ x[1, :, 2]) + b[1]))
    ref = loss_fn(y, x, imp)
    ref.sum().backward()
    w2c = torch.from_numpy(grad_weight(imp.numpy(), "mean", 8, 6).astype(np.float64))
    out = {"W": torch.zeros_like(W), "b": torch.zeros_like(b)}
    if accumulate:
        for c in (slice(0, 3), slice(3, 8)):
            loss_and_grad(x[:, :, c], W, b, None, w2c, model="neuron", out=out, accumulate=True, need_loss=False)
    else:
        loss = loss_and_grad(x, W, b, None, w2c, model="neuron", out=out)
        torch.testing.assert_close(loss, ref.detach())
    torch.testing.assert_close(out["W"], Wa.grad)
    torch.testing.assert_close(out["b"], ba.grad)


def test_batched_model_equals_loop_over_instances():
    x, W, b, _, imp = _setup("tied", k=4)
    y = forward(x, W, b)
    for i in range(4):
        for j in range(x.shape[2]):  # one instance, one sample: y = ReLU(W^T W x + b)
            yij = torch.relu(W[i].T @ (W[i] @ x[i, :, j]) + b[i])
            torch.testing.assert_close(y[i, :, j], yij)
        li = (imp[:, None] * (y[i] - x[i]) ** 2).mean()
        torch.testing.assert_close(loss_fn(y, x, imp)[i], li)


def test_negated_sampler_is_minus_the_numpy_sampler():
    from animsup.train.data import inverse_probability, sparse_from_uniform
    from animsup.train.model import negated_sparse_

    p = np.array([1.0, 0.3, 0.07], np.float32).reshape(-1, 1, 1)
    u = np.random.default_rng(0).random((3, 4, 5000), dtype=np.float32)
    a = sparse_from_uniform(u.copy(), p)
    b = negated_sparse_(torch.from_numpy(u.copy()), torch.from_numpy(-inverse_probability(p)))
    np.testing.assert_array_equal(-b.numpy(), a)


@pytest.mark.parametrize("kind, cls, kw", [
    ("adamw", torch.optim.AdamW, dict(weight_decay=0.01)),
    ("adam", torch.optim.Adam, dict(weight_decay=0.1)),
    ("sgd", torch.optim.SGD, dict(weight_decay=0.0)),
])
@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_flat_optimizer_matches_torch_optim(kind, cls, kw, backend):
    g = torch.Generator().manual_seed(1)
    p0 = torch.randn(20, generator=g, dtype=torch.float64)
    grads = [torch.randn(20, generator=g, dtype=torch.float64) for _ in range(5)]
    ref = p0.clone().requires_grad_()
    opt = cls([ref], lr=0.05, **kw)
    mine = p0.clone() if backend == "torch" else p0.numpy().copy()
    flat = FlatOptimizer(mine, kind, weight_decay=kw["weight_decay"])
    for gr in grads:
        ref.grad = gr.clone()
        opt.step()
        flat.step_(gr.clone() if backend == "torch" else gr.numpy().copy(), 0.05)
    np.testing.assert_allclose(np.asarray(mine), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_deferred_loss_equals_loss():
    from animsup.train.model import loss_from_sq

    x, W, b, _, imp = _setup("tied")
    w2c = torch.from_numpy(grad_weight(imp.numpy(), "mean", x.shape[2], x.shape[1]).astype(np.float64))
    out = {"W": torch.empty_like(W), "b": torch.empty_like(b)}
    loss = loss_and_grad(x, W, b, None, w2c, out=out)
    sq = loss_and_grad(x, W, b, None, w2c, out=out, deferred=True)
    assert sq.shape == (3, 5)
    torch.testing.assert_close(loss_from_sq(sq, w2c), loss)


def _one_step_matches_the_reference(eng, x, model):
    """One engine step's loss and gradient == the plain formula on batch ``x``; returns the loss."""
    loss = eng.losses_to_numpy([eng.loss_and_grad()])[0]
    v = eng.views
    out = {name: torch.empty_like(t) for name, t in v.items()}
    ref = loss_and_grad(x, v["W"], v["b"], v.get("W_dec"), eng.importance, model=model, l1=0.01, out=out)
    np.testing.assert_allclose(loss, ref.numpy(), rtol=1e-5)
    for name in v:
        torch.testing.assert_close(eng.grads[name], out[name], rtol=1e-4, atol=1e-6)
    return loss


@pytest.mark.parametrize("model", ["tied", "untied"])
def test_engine_in_cache_blocks_equals_one_full_batch(model):
    """k=64, n=32, B=1024 is processed in blocks of columns; gradient and loss must match the
    whole batch at once (and the numpy backend sees the same data)."""
    from animsup.train.config import TrainConfig
    from animsup.train.data import Batches, block_columns
    from animsup.train.model import TorchEngine

    cfg = TrainConfig(n_features=32, n_hidden=2, model=model, feature_probability=[0.1, 0.5], seeds=list(range(32)),
                      batch_size=1024, device="cpu", l1=0.01)
    assert block_columns(cfg.n_instances, 32, 1024) < 1024
    eng = TorchEngine(cfg)
    ref_data = Batches(cfg.instance_probabilities(), 32, 1024, cfg.seeds, block=block_columns(64, 32, 1024))
    x = torch.from_numpy(ref_data.next())
    _one_step_matches_the_reference(eng, x, model)


@pytest.mark.parametrize("model", BLOCK_STEP)
def test_sparse_cpu_step_equals_the_reference_on_the_same_batch(model, monkeypatch):
    """The sparse CPU step (non-zeros scattered block by block, importance folded into the small
    matrices, pieces summed per block) gives the loss and gradient of the plain formula on the batch
    the numpy sampler draws; a 2-thread engine gives bit-identical results."""
    from animsup.train.config import TrainConfig
    from animsup.train.data import Batches
    from animsup.train.model import TorchEngine

    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 18)  # several blocks at a test size
    cfg = TrainConfig(n_features=32, n_hidden=2, model=model, feature_probability=[0.05, 0.02],
                      seeds=list(range(20)), batch_size=1000, device="cpu", l1=0.01)
    eng = TorchEngine(cfg)
    assert eng.sparse and len(eng.data.blocks) > 1
    x = torch.from_numpy(Batches(cfg.instance_probabilities(), 32, 1000, cfg.seeds).next())
    loss = _one_step_matches_the_reference(eng, x, model)
    two = TorchEngine(cfg.replace(threads=2))
    try:
        loss2 = two.losses_to_numpy([two.loss_and_grad()])[0]
    finally:
        two.close()
    np.testing.assert_array_equal(loss2, loss)
    np.testing.assert_array_equal(two.grad.numpy(), eng.grad.numpy())


@pytest.mark.parametrize("model", BLOCK_STEP)
def test_dense_block_step_equals_the_reference_with_mixed_sparse_and_dense_blocks(model, monkeypatch):
    """The dense CPU step (blocks of instances or columns drawn as uniforms and turned into -x in place,
    low-density blocks drawn as their non-zeros into the same buffers) gives the loss and gradient of the
    plain formula on the batch Batches.next() draws; two threads give bit-identical results."""
    from animsup.train.config import TrainConfig
    from animsup.train.data import Batches
    from animsup.train.model import TorchEngine

    monkeypatch.setattr("animsup.train.data.DENSE_BLOCK_ENTRIES", 1 << 13)  # many blocks at a test size
    monkeypatch.setattr("animsup.train.data.SPARSE_MIN_ENTRIES", 0)  # ... each allowed to be drawn as its non-zeros
    probs = [0.02, 0.6, 0.03, 0.9, 0.01]  # rare and common instances interleaved: the kinds alternate
    cfg = TrainConfig(n_features=16, n_hidden=3, model=model, feature_probability=probs, seeds=[0, 1],
                      batch_size=1024, device="cpu", l1=0.01, backend="torch")
    eng = TorchEngine(cfg)
    assert eng.blockwise and not eng.sparse and len(eng.data.blocks) > 4
    assert any(eng.data.block_sparse) and not all(eng.data.block_sparse)
    x = torch.from_numpy(Batches(cfg.instance_probabilities(), 16, 1024, cfg.seeds).next())
    loss = _one_step_matches_the_reference(eng, x, model)
    two = TorchEngine(cfg.replace(threads=2))
    try:
        for _ in range(3):  # buffers reused across steps and block kinds
            loss2 = two.losses_to_numpy([two.loss_and_grad()])[0]
            loss1 = eng.losses_to_numpy([eng.loss_and_grad()])[0] if _ else loss
            np.testing.assert_array_equal(loss2, loss1)
            np.testing.assert_array_equal(two.grad.numpy(), eng.grad.numpy())
    finally:
        two.close()


def test_thread_tuner_probes_both_then_runs_the_faster_and_notices_a_change():
    from animsup.train.model import ThreadTuner

    tuner = ThreadTuner([1, 2], window=4, reprobe=50)
    cost = {1: 10.0, 2: 6.0}
    picks = []
    for step in range(200):
        if step == 100:
            cost[2] = 20.0  # the second core got busy
        o = tuner.pick()
        picks.append(o)
        tuner.record(o, cost[o])
    assert picks[:8].count(1) == 4 and picks[:8].count(2) == 4  # probes alternate
    assert picks[8:49].count(2) == len(picks[8:49])  # the faster option while nothing changes
    assert picks[160:].count(1) == len(picks[160:])  # switched back after the re-probe


def test_threads_auto_gives_the_same_run_as_one_thread(tmp_path, monkeypatch):
    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 15)  # several blocks: threads have work
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    cfg = TrainConfig(n_features=32, n_hidden=2, feature_probability=[0.05], seeds=[0, 1, 2], batch_size=2048,
                      steps=12, every=4, device="cpu")
    assert cfg.threads == "auto"
    a = train(cfg, tmp_path / "a.jsonl")
    b = train(cfg.replace(threads=1), tmp_path / "b.jsonl")
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.final_loss, b.final_loss)
