"""animsup.rendering.frames: the two streaming passes, the time mapping, fixed axes, the binned loss."""

import numpy as np
import pytest

from animsup.rendering import frames as fr
from animsup.rendering import plan as rp
from animsup.errors import AnimsupError, LogFormatError
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.rendering.config import RenderConfig


def test_scan_log_extremes_and_best_instance(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    Ws = write_pentagon(log, T=15, k=3, loss_rows=2)
    s = fr.scan_log(log)
    assert s.n_snapshots == 15 and list(s.steps[:3]) == [0, 10, 20]
    np.testing.assert_allclose(s.w_max, np.abs(Ws).max(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(s.norm_max, np.linalg.norm(Ws, axis=2).max(axis=(0, 2)), rtol=1e-6)
    assert s.loss_source == "loss records" and s.loss.n_points == 30
    # each instance has its own 1-S: three groups, so a bare "best" is ambiguous and lists them
    with pytest.raises(AnimsupError, match=r"3 groups .* best:g0 \(1-S=0.05\), best:g1 \(1-S=0.1\), best:g2"):
        rp.choose_instances(s, "best")
    assert rp.choose_instances(s, "best:g1") == (1,) and rp.choose_instances(s, "best:p=0.15") == (2,)
    assert rp.choose_instances(s, 2) == (2,)
    assert rp.choose_instances(s, grid=True) == (0, 1, 2)
    with pytest.raises(AnimsupError, match="instance 3 does not exist"):
        rp.choose_instances(s, 3)


def test_scene_axes_are_fixed_from_the_whole_log_not_unit_norm(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    Ws = write_pentagon(log, T=10, radius=1.36)
    s = fr.scan_log(log)
    scene = fr.build_scene(s, (0,))
    biggest = max(np.abs(Ws).max(), np.linalg.norm(Ws, axis=2).max())
    assert biggest > 1.3 and scene.lim > biggest and scene.lim < 1.3 * biggest


def test_loss_reducer_keeps_mean_and_extremes_in_few_bins():
    rng = np.random.default_rng(1)
    vals = rng.random((10_000, 2))
    steps = np.arange(10_000)
    red = fr._LossReducer(2, max_bins=64)
    for a in range(0, 10_000, 777):  # ragged chunks
        red.add(steps[a:a + 777], vals[a:a + 777])
    bins = red.result()
    assert len(bins.step) <= 128 and bins.n_points == 10_000
    np.testing.assert_allclose((bins.mean * bins.count[:, None]).sum(0) / bins.count.sum(), vals.mean(0))
    np.testing.assert_allclose(bins.lo.min(0), vals.min(0))
    np.testing.assert_allclose(bins.hi.max(0), vals.max(0))
    assert np.all(np.diff(bins.step) > 0)


def test_smoothed_is_a_centred_moving_average_when_bins_are_points():
    vals = np.arange(20, dtype=float)[:, None]
    bins = fr.LossBins(np.arange(20.0), vals, vals, vals, np.ones(20))
    sm = bins.smoothed(5)
    np.testing.assert_allclose(sm[2:-2, 0], vals[2:-2, 0])  # linear data: centred average = value
    assert sm[0, 0] == pytest.approx(1.0)  # partial window at the start: mean(0, 1, 2)


def test_plan_default_is_one_frame_per_snapshot():
    plan = rp.plan_frames(np.arange(0, 500, 10))
    assert plan.n_frames == 50 and plan.hold == 30 and plan.fps == 30
    np.testing.assert_array_equal(plan.position, np.arange(50))
    assert "one frame per snapshot" in plan.description and not plan.interpolated


def test_plan_resampling_linear_log_and_duration():
    steps = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])  # log-spaced snapshots
    lin = rp.plan_frames(steps, RenderConfig(frames=100, time="linear"))
    lg = rp.plan_frames(steps, RenderConfig(frames=100, time="log"))
    for p in (lin, lg):
        assert p.n_frames == 100 and p.position[0] == 0 and p.position[-1] == len(steps) - 1
        assert np.all(np.diff(p.position) >= 0)
    # log time spends more frames before step 64 than linear time does
    assert (lg.position < 7).sum() > (lin.position < 7).sum()
    assert "interpolate" in lin.description
    d = rp.plan_frames(steps, RenderConfig(duration=5, fps=20, hold=1))
    assert d.total_frames == 100 and d.hold == 20 and d.n_frames == 80
    fd = rp.plan_frames(steps, RenderConfig(duration=5, frames=40, hold=1))
    assert fd.fps == pytest.approx(10) and fd.seconds == pytest.approx(5)
    down = rp.plan_frames(np.arange(1000), RenderConfig(frames=10))
    assert "not shown" in down.description


@pytest.mark.parametrize("kw, msg", [
    (dict(fps=10, duration=3, frames=5), "at most two"),
    (dict(frames=0), "--frames must be a whole number >= 1"),
    (dict(time="cubic"), "linear or log"),
    (dict(duration=0.5, hold=1), "no frames"),
    (dict(hold=-1), "hold"),
])
def test_time_options_are_checked_once_by_the_config(kw, msg):
    with pytest.raises(AnimsupError, match=msg):
        RenderConfig(**kw)


def test_the_plan_checks_the_frame_limit_with_the_logs_snapshot_count():
    with pytest.raises(AnimsupError, match="too many"):
        RenderConfig(hold=40_000)  # 1.2M hold frames at 30 fps: the config alone says so
    with pytest.raises(AnimsupError, match="1,000,001 frames"):
        rp.plan_frames(np.arange(999_971), RenderConfig())  # one frame per snapshot and a 1 s hold


def test_iter_frames_interpolates_between_snapshots(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    Ws = write_pentagon(log, T=5, k=2)
    got = list(fr.iter_frames(log, (1,), np.array([0, 0.5, 0.5, 3, 4])))
    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(got[0].W[0], Ws[0, 1])
    np.testing.assert_allclose(got[1].W[0], (Ws[0, 1] + Ws[1, 1]) / 2, atol=1e-6)
    assert got[1].step == pytest.approx(5.0)
    np.testing.assert_allclose(got[4].W[0], Ws[4, 1])


def test_no_snapshots_is_a_log_error(tmp_path):
    log = tmp_path / "empty.jsonl"
    hdr = make_header(n_features=3, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0],
                      importance=[1, 1, 1], config={})
    LogWriter(log, hdr).close()
    with pytest.raises(LogFormatError, match="no snapshots"):
        fr.scan_log(log)


def test_poster_step_is_the_nearest_snapshot():
    steps = np.array([0, 10, 20, 40])
    assert rp.frame_at_step(steps, 33) == (3.0, 40)
    assert rp.frame_at_step(steps, None) == (3.0, 40)
    with pytest.raises(AnimsupError, match="outside"):
        rp.frame_at_step(steps, 41)


def test_importance_in_titles_names_what_differs_between_instances(tmp_path):
    """A phase grid (only the last feature's relative importance r differs): the title says the
    importance is per instance and every grid panel names its r; a shared importance stays in the title."""
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    def log(name, importance):
        k = len(importance)
        hdr = make_header(n_features=2, n_hidden=1, model="tied", feature_probability=[0.1] * k, seed=[0] * k,
                          importance=importance, config={})
        with LogWriter(tmp_path / name, hdr, force=True) as w:
            w.snapshot(0, np.ones(k), np.ones((k, 1, 2), np.float32), np.zeros((k, 2), np.float32))
            w.end("completed", 0, 0.1)
        return fr.scan_log(str(tmp_path / name))

    grid = [[1.0, 0.1], [1.0, 0.316], [1.0, 10.0]]
    s = log("grid.jsonl", grid)
    scene = fr.build_scene(s, [0, 1, 2], grid=True)
    assert "importance per instance (r in each title)" in scene.title and "^i" not in scene.title
    assert [t[0].split()[2] for t in scene.instance_labels] == ["r=0.1", "r=0.316", "r=10"]
    one = fr.build_scene(s, [1])
    assert "importance [1, 0.316]" in one.title
    shared = log("shared.jsonl", [[1.0, 0.9]] * 2)
    scene = fr.build_scene(shared, [0, 1], grid=True)
    assert "importance [1, 0.9]" in scene.title and all("r=" not in t[0] for t in scene.instance_labels)
