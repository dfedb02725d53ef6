"""Staged training (seed 000's recipe): one run through a schedule of feature probabilities, a new
optimiser per stage, logged as one run with its stages in the header."""

import os
import signal

import numpy as np
import pytest
import torch

from animsup.train.config import TrainConfig
from animsup.errors import AnimsupError
from animsup.log.reader import read_header, read_log
from animsup.train.loop import resume, train

torch.set_num_threads(1)


def staged(**kw):
    base = dict(n_features=6, n_hidden=2, model="untied", seeds=[0, 1], importance=0.7, stages=[1.0, 0.4, 0.1],
                feature_probability=[1.0], data="presence_value", normalize=True, steps=60, batch_size=32,
                every=10, device="cpu", lr=0.01)
    base.update(kw)
    return TrainConfig(**base).validate()


def test_staged_run_equals_autograd_with_a_new_adamw_per_stage(tmp_path):
    """Oracle: the same data stream through autograd and a fresh torch.optim.AdamW per stage."""
    from animsup.train.data import Batches
    from animsup.train.model import forward, loss_fn
    from animsup.train.numpy_model import init_params

    cfg = staged()
    res = train(cfg, tmp_path / "s.jsonl")
    assert res.status == "completed"
    init = init_params(6, 2, cfg.instance_seeds(), cfg.init, untied=True)
    W, b, Wd = (torch.from_numpy(init[k]).clone().requires_grad_() for k in ("W", "b", "W_dec"))
    data = Batches(cfg.probability_matrix(0), 6, 32, cfg.seeds, spec=cfg.data_spec(), allow_sparse=False)
    imp = torch.from_numpy(cfg.importance_matrix())
    for stage, start in enumerate(cfg.stage_starts()):
        data.set_probability(cfg.probability_matrix(stage))
        opt = torch.optim.AdamW([W, b, Wd], lr=0.01, weight_decay=0.01)
        for _ in range(20):
            x = torch.from_numpy(data.next())
            loss = loss_fn(forward(x, W, b, Wd, "untied"), x, imp).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(res.W, W.detach().numpy(), rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(res.W_dec, Wd.detach().numpy(), rtol=2e-4, atol=2e-5)


def test_stages_in_the_header_and_snapshots_at_stage_starts(tmp_path):
    cfg = staged(every=None, snapshots=4)
    train(cfg, tmp_path / "s.jsonl")
    h = read_header(tmp_path / "s.jsonl")
    stages = h.raw["stages"]
    assert [st["start_step"] for st in stages] == [0, 20, 40]
    np.testing.assert_allclose(np.asarray(stages[2]["feature_probability"]), 0.1)
    assert h.raw["data"] == {"kind": "presence_value", "normalise": "l2"}
    assert {0, 20, 40, 60} <= set(read_log(tmp_path / "s.jsonl").steps.tolist())


def test_a_new_optimiser_per_stage_changes_the_run_after_the_first_stage(tmp_path):
    """Two equal stages differ from the unstaged run only by the optimiser restart at step 30."""
    one = train(staged(stages=None, feature_probability=[0.5], steps=60), tmp_path / "a.jsonl")
    two = train(staged(stages=[0.5, 0.5], steps=60), tmp_path / "b.jsonl")
    a, b = read_log(one.log_path), read_log(two.log_path)
    first = a.steps <= 30
    np.testing.assert_array_equal(a.W[first], b.W[first])
    assert not np.allclose(a.W[-1], b.W[-1])


def test_staged_run_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    cfg = staged()
    full = train(cfg, tmp_path / "full.jsonl")
    sent = []

    def interrupt_at_25(step, total, **_):
        if step >= 25 and not sent:
            sent.append(step)
            os.kill(os.getpid(), signal.SIGINT)

    part = train(cfg, tmp_path / "part.jsonl", progress=interrupt_at_25, checkpoint_seconds=0)
    assert part.status == "interrupted"
    with pytest.raises(AnimsupError, match="staged"):
        resume(tmp_path / "part.jsonl", steps=90)
    res = resume(tmp_path / "part.jsonl")
    assert res.status == "completed"
    np.testing.assert_array_equal(full.W, res.W)
    np.testing.assert_array_equal(full.W_dec, res.W_dec)
