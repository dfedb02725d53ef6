"""SAEs on a toy's hidden activations (animsup.train.sae): the forward pass against a numpy oracle,
recovery of known directions, SAEs independent of the batch they train in, the API and CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.train import sae as S
from animsup.train.data import DataSpec


def _pentagon():
    a = 2 * np.pi * np.arange(5) / 5
    return np.stack([np.cos(a), np.sin(a)]).astype(np.float32)[None]  # [1, 2, 5]


def test_forward_matches_numpy():
    import torch

    rng = np.random.default_rng(0)
    p = {"W_enc": rng.normal(size=(2, 3, 4)), "b_enc": rng.normal(size=(2, 4)), "W_dec": rng.normal(size=(2, 4, 3)),
         "b_dec": rng.normal(size=(2, 3))}
    h = rng.normal(size=(2, 6, 3))
    pre = np.maximum(np.einsum("kbd,kdl->kbl", h - p["b_dec"][:, None], p["W_enc"]) + p["b_enc"][:, None], 0)
    tp = {k: torch.tensor(v) for k, v in p.items()}
    a, h_hat = S._forward(torch, tp, torch.tensor(h), "relu", None)
    assert np.allclose(a.numpy(), pre) and np.allclose(h_hat.numpy(), pre @ p["W_dec"] + p["b_dec"][:, None])
    a, _ = S._forward(torch, tp, torch.tensor(h), "topk", torch.tensor([1, 2]))
    for kk, ks in ((0, 1), (1, 2)):  # the ks largest entries of each row kept, the rest 0
        want = np.where(pre[kk] >= np.sort(pre[kk], axis=-1)[:, -ks:][:, :1], pre[kk], 0)
        assert np.allclose(a.numpy()[kk], want)


def test_topk_recovers_a_pentagon_and_l1_shrinks():
    cfg = S.SaeConfig(n_latents=5, kind="topk", k=[1], steps=400, batch_size=256, eval_samples=2000)
    res = S.train_saes(_pentagon(), np.full(5, 0.1), DataSpec(), cfg)
    assert res.matched[0, 0, 0] > 0.97 and res.dead[0, 0, 0] == 0 and res.l0[0, 0, 0] <= 1.0
    relu = S.train_saes(_pentagon(), np.full(5, 0.1), DataSpec(),
                        S.SaeConfig(n_latents=5, l1=[0.0, 0.3], steps=300, batch_size=256, eval_samples=2000))
    assert relu.shrinkage[0, 1, 0] < relu.shrinkage[0, 0, 0] - 0.05  # the L1 penalty pulls ‖ĥ‖ below ‖h‖
    assert relu.l0[0, 1, 0] < relu.l0[0, 0, 0]


def test_each_sae_trains_as_if_alone():
    base = dict(n_latents=5, steps=30, batch_size=64, eval_samples=100)
    both = S.train_saes(_pentagon(), np.full(5, 0.1), DataSpec(), S.SaeConfig(l1=[0.0, 0.05], **base))
    alone = S.train_saes(_pentagon(), np.full(5, 0.1), DataSpec(), S.SaeConfig(l1=[0.05], **base))
    assert np.allclose(both.decoders[0, 1], alone.decoders[0, 0], atol=1e-5)


def test_api_cli_and_hierarchical_absorption_columns(tmp_path, capsys):
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    log = tmp_path / "h.jsonl"
    train(TrainConfig(n_features=4, n_hidden=3, hierarchical_sets=[[0, 1]], importance="constant", steps=50,
                      snapshots=3), log)
    res = S.sae(log, n_latents=4, l1=[0.01], steps=20, batch_size=64, eval_samples=500, snapshots="all")
    assert res.pairs == [(0, 1)] and res.absorption.shape == (len(res.steps), 1, 1, 1) and len(res.steps) >= 3
    with pytest.raises(AnimsupError, match="not in the run"):
        S.sae(log, instance=3)
    with pytest.raises(AnimsupError, match="kind"):
        S.sae(log, kind="gated", steps=1)
    out = tmp_path / "sae.json"
    r = subprocess.run([sys.executable, "-m", "animsup", "sae", str(log), "--steps", "5", "--l1", "0", "0.1",
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    saved = json.loads(out.read_text())
    assert saved["format"] == "animsup.sae" and saved["version"] == 1 and len(saved["scores"]) == 2
    assert "absorption" in r.stdout and "(0, 1)" in r.stdout
    from animsup.cli import main

    assert main(["sae", str(log), "--steps", "0"]) == 2  # bad input: exit 2 (one line on stderr, no traceback)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "steps" in err
