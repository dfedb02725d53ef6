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
    # and clearly beats its chance baseline (5 random unit directions in 2-D against the same pentagon:
    # MMCS ≈ 0.8, matched ≈ 0.7, their means over draws), so no chance warning
    assert res.mmcs_chance.shape == res.mmcs.shape and 0.5 < res.matched_chance[0, 0, 0] < 0.85
    assert res.mmcs[0, 0, 0] - res.mmcs_chance[0, 0, 0] > 0.15 and res.matched[0, 0, 0] - res.matched_chance[0, 0, 0] > 0.15
    assert not any("chance" in n for n in res.notes())
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
    assert saved["format"] == "animsup.sae" and saved["version"] == 2 and len(saved["scores"]) == 2
    assert "absorption" in r.stdout and "(0, 1)" in r.stdout
    from animsup.cli import main

    assert main(["sae", str(log), "--steps", "0"]) == 2  # bad input: exit 2 (one line on stderr, no traceback)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "steps" in err


@pytest.mark.parametrize("argv,message", [
    (["--steps", "-1"], "--steps must be >= 1, got -1"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--n-latents", "0"], "--n-latents must be >= 1, got 0"),
    (["--lr", "0"], "--lr must be > 0, got 0"),
    (["--l1", "0.1", "-0.5"], "--l1 coefficients must be >= 0, got -0.5"),
    (["--kind", "topk", "--k", "6", "--n-latents", "5"], "--k must be between 1 and the number of latents (--n-latents is 5), got 6"),
    (["--instance", "-1"], "--instance must be >= 0, got -1"),
])
def test_cli_names_the_bad_option(argv, message, tmp_path, capsys):
    """Each bad option is named as typed, with its value, in one line, before the log is read (none here)."""
    from animsup.cli import main

    assert main(["sae", str(tmp_path / "never_read.jsonl"), *argv]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"animsup: error: {message}"]


def test_library_errors_name_the_parameter():
    with pytest.raises(AnimsupError, match=r"^steps must be >= 1, got -1$"):
        S.SaeConfig(steps=-1).validate(2)
    with pytest.raises(AnimsupError, match=r"^batch_size must be >= 1, got 0$"):
        S.SaeConfig(batch_size=0).validate(2)


def test_cli_output_starts_with_a_header_and_every_option_has_help_and_default(tmp_path, capsys):
    import re

    from animsup.cli import main
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    log = tmp_path / "p.jsonl"
    W = np.concatenate([_pentagon(), _pentagon()])  # [2 instances, 2, 5]
    with LogWriter(log, make_header(n_features=5, n_hidden=2, model="tied", config={}, feature_probability=[0.1, 0.1], seed=[0, 1],
                                    importance=[1.0] * 5), force=True) as w:
        w.snapshot(700, np.full(2, 0.1), W, np.zeros((2, 5), np.float32))
        w.end("completed", 700, 1.0)
    assert main(["sae", str(log), "--instance", "1", "--steps", "3", "--batch-size", "16", "--l1", "0", "0.1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"sae of {log}, instance 1: ReLU + L1 SAEs (l1 0, 0.1), 5 latents, 1 seed, 3 steps, "
                      "the last snapshot (step 700)")
    assert out[1].split()[:3] == ["step", "l1", "seed"] and len(out) == 5
    assert out[4] == f"wrote {tmp_path / 'p.sae.json'} (drawn by animsup render / view over W's columns)"
    assert json.loads((tmp_path / "p.sae.json").read_text())["header_sha256"]  # the sidecar, for render and view
    with pytest.raises(SystemExit):
        main(["sae", "--help"])
    page = capsys.readouterr().out
    helps: dict[str, str] = {}  # option -> its help text, from the "options:" section
    for line in page.split("options:")[1].splitlines():
        m = re.match(r"  (--[-\w]+)(.*)", line)
        if m:
            current = m.group(1)
            helps[current] = " ".join(m.group(2).split())
        elif line.startswith(" " * 10):
            helps[current] += " " + line.strip()
    for option in ("--instance", "--n-latents", "--kind", "--l1", "--k", "--seeds", "--snapshots", "--steps",
                   "--batch-size", "--lr"):
        assert re.search(r"[a-z]{3}.*\(.*default:? [^)]+\)$", helps[option]), (option, helps[option])
