"""Recorder(..., mirror=...): the losses and curves reach the tracker as they are recorded."""

import numpy as np
import pytest

from conftest import K, STEPS, known_loss, record_run, tb_read, wandb_history, wandb_run_dir

import animsup


def test_tensorboard_mirror_sees_what_the_log_holds(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("tensorboardX")
    log = record_run(str(tmp_path / "run.jsonl"), mirror=f"tensorboard:{tmp_path / 'tb'}")
    sc = tb_read(tmp_path / "tb")[0]
    run = animsup.read_log(log)
    for k in range(K):  # each loss once, at its step, as the log has it
        steps, values = sc[f"loss/instance_{k}"]
        np.testing.assert_array_equal(steps, run.loss_steps)
        np.testing.assert_allclose(values, run.loss_curve[:, k], rtol=1e-6)
    steps, lr = sc["curves/lr"]
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(lr, run.curves["lr"][1][:, 0], rtol=1e-6)
    assert "curves/test_loss/instance_1" in sc


def test_tensorboard_mirror_of_the_export_lines_up(tmp_path):
    """A live mirror and a later export name the same series alike."""
    pytest.importorskip("tensorboard")
    from animsup.exporters import export

    log = record_run(str(tmp_path / "run.jsonl"), mirror=f"tensorboard:{tmp_path / 'live'}")
    export("tensorboard", log, tmp_path / "after", video=False)
    live, after = set(tb_read(tmp_path / "live")[0]), set(tb_read(tmp_path / "after")[0])
    assert live and live <= after


@pytest.mark.xdist_group("wandb")  # one worker at a time talks to W&B's local service
def test_wandb_mirror_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    import os
    import subprocess
    import sys

    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wb"))
    # recorded in a fresh interpreter: wandb keeps process-wide state, and after the export tests'
    # runs in the same process this run's first rows went missing (seen in the suite, not alone)
    code = f"from conftest import record_run; record_run({str(tmp_path / 'run.jsonl')!r}, mirror='wandb:mine')"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(__file__), env=dict(os.environ))
    rows = wandb_history(wandb_run_dir(tmp_path / "wb"))
    seen = {(r["step"], k): v for r in rows for k, v in r.items() if k.startswith("loss/")}
    for s in np.arange(0, STEPS[-1] + 1, 5):
        for k in range(K):
            assert seen[(s, f"loss/instance_{k}")] == pytest.approx(known_loss(s)[k], rel=1e-6)


def test_unknown_mirror_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="tensorboard:DIR, wandb"):
        animsup.Recorder(tmp_path / "x.jsonl", n_features=3, n_hidden=2, mirror="mlflow")
    with pytest.raises(ValueError, match="choices"):
        animsup.Recorder(tmp_path / "x.jsonl", n_features=3, n_hidden=2, mirror="tensorboard")  # no folder
    assert not (tmp_path / "x.jsonl").exists()
