"""animsup export --to tensorboard, read back with TensorBoard's own reader (EventAccumulator)."""

import io

import numpy as np
import pytest

from conftest import K, RADIUS, STEPS, known_loss, tb_read

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")


def _scalars(folder):
    return tb_read(folder)[0]


def test_scalars_are_the_logs_values(recorded, tmp_path):
    from animsup.exporters import export

    export("tensorboard", recorded, tmp_path / "tb", video=False)
    sc = _scalars(tmp_path / "tb")
    loss_steps = np.arange(0, STEPS[-1] + 1, 5)
    for k in range(K):
        steps, values = sc[f"loss/instance_{k}"]
        np.testing.assert_array_equal(steps, loss_steps)
        np.testing.assert_allclose(values, [known_loss(s)[k] for s in loss_steps], rtol=1e-6)
    # one group (both instances share 1-S and importance): its mean and its best
    _, mean = sc["loss_group/g0/mean"]
    _, best = sc["loss_group/g0/best"]
    np.testing.assert_allclose(mean, [known_loss(s).mean() for s in loss_steps], rtol=1e-6)
    np.testing.assert_allclose(best, [known_loss(s)[0] for s in loss_steps], rtol=1e-6)
    # the recorded curves: test_loss per instance, lr one number
    steps, tl1 = sc["curves/test_loss/instance_1"]
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(tl1, [1.5 * known_loss(s)[1] for s in STEPS], rtol=1e-6)
    np.testing.assert_allclose(sc["curves/lr"][1], 1e-3 / (1 + np.arange(len(STEPS))), rtol=1e-6)
    # D_i summaries: a regular pentagon in 2 dimensions has D_i = 2/5 for each of its 5 features,
    # represented once its radius passes the 0.5 threshold
    for k in range(K):
        steps, count = sc[f"geometry/represented/instance_{k}"]
        np.testing.assert_array_equal(steps, STEPS)
        np.testing.assert_array_equal(count, np.where(RADIUS > 0.5, 5, 0))
        _, mean_D = sc[f"geometry/mean_D/instance_{k}"]
        np.testing.assert_allclose(mean_D, np.where(RADIUS > 0.5, 0.4, 0.0), atol=1e-6)


def test_events_as_text_and_the_video(recorded, tmp_path):
    from PIL import Image, ImageSequence

    from animsup.exporters import export

    res = export("tensorboard", recorded, tmp_path / "tb", instance=[1], video_seconds=3.0, video_size=(320, 180))
    assert res.instances == [1]
    _, texts, acc = tb_read(tmp_path / "tb")
    assert set(texts) == {"events/instance_1"}
    first_represented = int(STEPS[np.argmax(RADIUS > 0.5)])
    assert any(step == first_represented and "join" in text for step, text in texts["events/instance_1"]), texts
    assert acc.Tags()["images"] == ["video/instance_1"]
    (img,) = acc.Images("video/instance_1")
    assert img.step == STEPS[-1] and (img.width, img.height) == (320, 180)
    with Image.open(io.BytesIO(img.encoded_image_string)) as gif:  # Pillow: a core dependency
        frames = np.stack([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)])
    assert frames.shape[0] > 10 and frames.shape[1:3] == (180, 320)
    assert frames[0].std() > 0  # drawn, not blank
    Image.fromarray(frames[-1]).save(tmp_path / "last_frame.png")


def test_cli_export_and_bad_input(recorded, tmp_path, capsys):
    from animsup.cli import main

    assert main(["export", recorded, "--to", "tensorboard", "--out", str(tmp_path / "tb"), "--no-video"]) == 0
    assert "loss/instance_0" in _scalars(tmp_path / "tb")
    capsys.readouterr()
    # a folder that holds files is refused (nothing written is lost), an unknown instance too
    assert main(["export", recorded, "--to", "tensorboard", "--out", str(tmp_path / "tb"), "--no-video"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert main(["export", recorded, "--to", "tensorboard", "--out", str(tmp_path / "x"), "--instance", "7"]) == 2
    assert capsys.readouterr().err.startswith("animsup: error:")
    assert main(["export", recorded, "--to", "tensorboard", "--out", str(tmp_path / "y"), "--snapshots", "all"]) == 2
    assert "does not take --snapshots" in capsys.readouterr().err
