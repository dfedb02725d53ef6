"""animsup export --to wandb (offline), read back from the run's own files: the .wandb record
file (W&B's protobuf records) and the media files the run wrote."""

import glob
import json
import os

import numpy as np
import pytest

from conftest import K, STEPS, known_loss, wandb_history, wandb_run_dir

pytest.importorskip("wandb")

pytestmark = pytest.mark.xdist_group("wandb")  # one worker at a time talks to W&B's local service


def test_offline_run_holds_scalars_video_and_geometry_table(recorded, tmp_path):
    import av

    from animsup.exporters import export

    res = export("wandb", recorded, tmp_path / "wb", video_seconds=3.0, video_size=(320, 180))
    run_dir = wandb_run_dir(tmp_path / "wb")  # offline, under --out: nothing was sent
    assert res.files == [run_dir]
    rows = wandb_history(run_dir)
    by_step = {}
    for r in rows:
        by_step.setdefault(r["step"], {}).update(r)
    loss_steps = np.arange(0, STEPS[-1] + 1, 5)
    assert sorted(by_step) == loss_steps.tolist()
    for s in loss_steps:
        for k in range(K):
            assert by_step[s][f"loss/instance_{k}"] == pytest.approx(known_loss(s)[k], rel=1e-6)
    for s in STEPS:
        assert by_step[s]["geometry/represented/instance_0"] in (0, 5)
        assert by_step[s]["curves/test_loss/instance_0"] == pytest.approx(1.5 * known_loss(s)[0], rel=1e-6)
    # the final geometry table: both instances a pentagon of 5 features with D_i = 2/5
    (table_file,) = glob.glob(os.path.join(run_dir, "files", "media", "table", "geometry_*.table.json"))
    with open(table_file) as f:
        table = json.load(f)
    rows = [dict(zip(table["columns"], r)) for r in table["data"]]
    assert [r["instance"] for r in rows] == [0, 1]
    assert all(r["shape"].startswith("pentagon") and r["represented"] == 5 for r in rows)
    assert all(r["mean_D"] == pytest.approx(0.4, abs=1e-5) for r in rows)
    # the video: an MP4 of the best instance (instance 0 has the lower loss) that decodes
    (video,) = glob.glob(os.path.join(run_dir, "files", "media", "videos", "video_*.mp4"))
    with av.open(video) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(frames) > 10 and frames[0].shape == (180, 320, 3)
    assert "video: instance 0" in res.notes


def test_wandb_mode_is_respected(recorded, tmp_path, monkeypatch, capsys):
    from animsup.cli import main

    monkeypatch.setenv("WANDB_MODE", "bogus")
    assert main(["export", recorded, "--to", "wandb", "--out", str(tmp_path / "wb"), "--no-video"]) == 2
    assert "WANDB_MODE='bogus'" in capsys.readouterr().err
    monkeypatch.setenv("WANDB_MODE", "disabled")  # disabled: W&B writes nothing
    assert main(["export", recorded, "--to", "wandb", "--out", str(tmp_path / "wb2"), "--no-video"]) == 0
    assert not glob.glob(str(tmp_path / "wb2" / "wandb" / "*run-*"))
