"""animsup export --to safetensors: an HF-Hub-style folder that plain safetensors loads and
`animsup import DIR` reads back exactly."""

import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import STEPS, record_run

import animsup
from animsup.cli import main


@pytest.mark.parametrize("model", ["tied", "untied"])
def test_round_trip(tmp_path, model, capsys):
    log = record_run(str(tmp_path / "run.jsonl"), model=model)
    out = tmp_path / "weights"
    assert main(["export", log, "--to", "safetensors", "--out", str(out), "--snapshots", "all"]) == 0
    src = animsup.read_log(log)
    cfg = json.loads((out / "cfg.json").read_text())
    assert cfg["steps"] == STEPS.tolist() and cfg["model"] == model and cfg["source_log"] == log
    assert (cfg["n_features"], cfg["n_hidden"], cfg["n_instances"]) == (5, 2, 2)
    assert cfg["seeds"] == [3, 4] and cfg["importance"][0] == pytest.approx(0.9 ** np.arange(5))
    assert cfg["animsup_version"] == animsup.__version__
    # plain safetensors: documented keys and shapes, the step in the metadata
    for t, step in enumerate(STEPS):
        name = cfg["files"][str(step)]
        tensors = load_file(str(out / name))
        assert set(tensors) == ({"W", "b", "W_dec"} if model == "untied" else {"W", "b"})
        assert tensors["W"].shape == (2, 2, 5) and tensors["W"].dtype == np.float32
        np.testing.assert_array_equal(tensors["W"], src.W[t])
        from safetensors import safe_open
        with safe_open(str(out / name), framework="np") as f:
            assert f.metadata()["step"] == str(step)
    # animsup import reads the folder back: arrays and config equal
    assert main(["import", str(out), "--out", str(tmp_path / "back.jsonl")]) == 0
    back = animsup.read_log(tmp_path / "back.jsonl")
    for name in ("steps", "W", "b", "loss") + (("W_dec",) if model == "untied" else ()):
        np.testing.assert_array_equal(getattr(back, name), getattr(src, name), err_msg=name)
    for name in ("n_features", "n_hidden", "n_instances", "model", "feature_probability", "importance", "seed",
                 "loss_scope"):
        np.testing.assert_array_equal(getattr(back.header, name), getattr(src.header, name), err_msg=name)


def test_chosen_snapshots_and_instances(recorded, tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["export", recorded, "--to", "safetensors", "--out", str(out), "--snapshots", "0,150",
                 "--instance", "1"]) == 0
    cfg = json.loads((out / "cfg.json").read_text())
    assert cfg["steps"] == [0, 150] and cfg["instances"] == [1] and cfg["seeds"] == [4]
    assert sorted(os.listdir(out)) == ["cfg.json", "step_000000000.safetensors", "step_000000150.safetensors"]
    src = animsup.read_log(recorded)
    np.testing.assert_array_equal(load_file(str(out / "step_000000150.safetensors"))["W"], src.W[-1][[1]])
    # default: the last snapshot only
    assert main(["export", recorded, "--to", "safetensors", "--out", str(tmp_path / "last")]) == 0
    assert json.loads((tmp_path / "last" / "cfg.json").read_text())["steps"] == [150]
    capsys.readouterr()
    assert main(["export", recorded, "--to", "safetensors", "--out", str(tmp_path / "bad"), "--snapshots", "7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no snapshot at step 7" in err
    assert not (tmp_path / "bad" / "cfg.json").exists()
