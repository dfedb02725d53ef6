"""The CUDA training path (``--device cuda``): skipped where torch sees no GPU (CI has none), run on a
lent GPU machine (docs/benchmarks.md, "CUDA"). Every check compares against the CPU code it shares the
formulas with, so a CUDA-only divergence fails here rather than in someone's sweep."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")

MODELS = ["tied", "untied", "linear", "neuron"]


@pytest.mark.parametrize("model", MODELS)
def test_cuda_engine_step_equals_the_cpu_formula_on_the_same_batch(model):
    """One engine step on the GPU (its own sampler) == the plain formula evaluated on the CPU on that
    batch, and the gradient == autograd's through animsup.train.model.forward."""
    from animsup.train.config import TrainConfig
    from animsup.train.model import TorchEngine, forward, loss_fn

    cfg = TrainConfig(n_features=12, n_hidden=3, model=model, feature_probability=[0.05, 0.3], seeds=[0, 1],
                      batch_size=512, device="cuda")
    eng = TorchEngine(cfg, "cuda")
    state = eng.rng_state()
    loss = eng.losses_to_numpy([eng.loss_and_grad()])[0]
    eng.data.set_state(state)  # the same batch again, for the reference
    x = torch.as_tensor(eng.data.next()).cpu().double()
    v = {k: t.detach().cpu().double().requires_grad_() for k, t in eng.views.items()}
    imp = torch.from_numpy(cfg.importance_matrix()).double()
    y = forward(x, v["W"], v["b"], v.get("W_dec"), model=model)
    ref = loss_fn(y, x, imp)
    ref.sum().backward()
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-4)
    for name, t in v.items():
        np.testing.assert_allclose(eng.grads[name].cpu().numpy(), t.grad.numpy(), rtol=2e-3, atol=1e-7)


@pytest.mark.parametrize("kind", ["uniform", "presence_value", "binary"])
def test_cuda_sampler_draws_the_paper_law(kind):
    from animsup.train.data import CudaBatches, DataSpec

    p = [0.02, 0.3, 1.0]
    x = CudaBatches(p, 16, 50_000, [0], device="cuda", spec=DataSpec(kind=kind)).next().cpu().numpy()
    assert x.shape == (3, 16, 50_000) and x.dtype == np.float32
    for i, pi in enumerate(p):
        on = x[i] > 0
        n = on.size
        assert abs(on.mean() - pi) < 5 * np.sqrt(pi * (1 - pi) / n) + 1e-9
        vals = x[i][on]
        if kind == "uniform":
            assert abs(vals.mean() - 0.5) < 0.01 and vals.max() < 1
        elif kind == "presence_value":
            assert abs(vals.mean() - pi / 2) < 0.01 * pi + 1e-3 and vals.max() < pi
        else:
            assert (vals == 1).all()


def test_cuda_training_learns_the_pentagon_and_resumes_from_its_checkpoint(tmp_path):
    """n=5, m=2 at 1-S = 0.05 on the GPU: the loss falls like on the CPU, an interrupted-then-resumed run
    matches the uninterrupted one, and the log says where it ran."""
    from animsup.train.config import TrainConfig
    from animsup.log.reader import read_log
    from animsup.train.loop import resume, train

    cfg = TrainConfig(n_features=5, n_hidden=2, feature_probability=[0.05], seeds=[0, 1, 2, 3], steps=3000,
                      every=500, batch_size=1024, lr=1e-2, device="cuda")
    full = train(cfg, tmp_path / "full.jsonl")
    cpu = train(cfg.replace(device="cpu"), tmp_path / "cpu.jsonl")
    run = read_log(tmp_path / "full.jsonl")
    header = json.loads((tmp_path / "full.jsonl").read_text().splitlines()[0])
    assert full.status == "completed" and header["device"].startswith("cuda")
    assert full.final_loss.max() < 0.5 * run.loss_curve[0].min()
    # different random numbers (torch's generator on the GPU), same law: the losses agree statistically
    assert abs(np.median(full.final_loss) - np.median(cpu.final_loss)) < 0.25 * np.median(cpu.final_loss)
    part = train(cfg.replace(steps=1500), tmp_path / "part.jsonl")
    assert part.status == "completed"
    resumed = resume(tmp_path / "part.jsonl", steps=3000)
    np.testing.assert_allclose(resumed.W, full.W, rtol=1e-4, atol=1e-5)


def test_cli_trains_on_cuda_and_reports_it(tmp_path):
    out = tmp_path / "c.jsonl"
    r = subprocess.run([sys.executable, "-m", "animsup", "train", "--device", "cuda", "--n-features", "20",
                        "--n-hidden", "5", "-p", "0.1", "--seeds", "0", "1", "2", "--steps", "400", "--quiet",
                        "--out", str(out)], capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert r.returncode == 0, r.stderr
    header = json.loads(out.read_text().splitlines()[0])
    assert header["device"].startswith("cuda")
