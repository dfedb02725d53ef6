"""The summary view of a large model (animsup.rendering.draw.summary): chosen above the feature
threshold or on request, and the curves and bars it draws equal direct numpy computations."""

import numpy as np
import pytest

from animsup.analysis import large
from animsup.errors import AnimsupError
from animsup.log.recorder import write_arrays
from animsup.rendering import draw
from animsup.rendering.config import RenderConfig
from animsup.rendering.draw.summary import SummaryView
from animsup.rendering.plan import build_plan


def _log(path, n=24, m=4, T=3, k=1, p=None):
    rng = np.random.default_rng(1)
    W = rng.normal(0, 0.5, (T, k, m, n))
    fp = p if p is not None else np.full(n, 0.1)
    return write_arrays(W, path, loss=np.linspace(1, 0.1, T), feature_probability=[fp] * k), W


def test_chosen_above_the_threshold_or_on_request(tmp_path, monkeypatch):
    log, _ = _log(tmp_path / "a.jsonl", n=24)
    assert not build_plan(log, RenderConfig(size=(640, 360)), poster=True).scene.summary  # 24 <= 512
    assert build_plan(log, RenderConfig(view="summary", size=(640, 360)), poster=True).scene.summary
    monkeypatch.setattr(large, "SUMMARY_ABOVE", 23)  # the threshold lowered: 24 features are "large"
    assert build_plan(log, RenderConfig(size=(640, 360)), poster=True).scene.summary
    assert not build_plan(log, RenderConfig(view="full", size=(640, 360)), poster=True).scene.summary
    monkeypatch.setattr(large, "SUMMARY_ABOVE", 24)
    assert not build_plan(log, RenderConfig(size=(640, 360)), poster=True).scene.summary
    with pytest.raises(AnimsupError, match="--view"):
        RenderConfig(view="arrows")


def test_drawn_numbers_equal_numpy(tmp_path):
    n = 24
    p = np.linspace(0.01, 0.2, n)  # the last feature is the most frequent: rank order reverses the index
    log, W = _log(tmp_path / "b.jsonl", n=n, p=p)
    plan = build_plan(log, RenderConfig(view="summary", size=(800, 450)), poster=True)
    d = draw.FrameDrawer(plan.scene)
    img = d.draw(plan.poster_frame()).copy()
    view = d.views[0]
    assert isinstance(view, SummaryView)
    Wl = W[-1, 0].astype(np.float32).astype(np.float64)  # the log holds float32
    norms = np.linalg.norm(Wl, axis=0)
    by_rank = norms[::-1]  # feature n-1 is rank 1
    edges = large.rank_edges(n)
    med = [np.median(by_rank[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(view.median.get_ydata(), med, rtol=1e-5)
    np.testing.assert_allclose(view.band[1].get_ydata(), [by_rank[a:b].max() for a, b in zip(edges[:-1], edges[1:])],
                               rtol=1e-5)
    Wh = Wl / norms
    D = norms**2 / ((Wh.T @ Wl) ** 2).sum(1)  # the paper's D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²
    heights = np.array([pp.vertices[1, 1] for pp in view.bars[0].get_paths()])  # each bar's top
    expected = np.histogram(D, bins=large.HIST_BINS, range=(0, 1))[0] / n
    np.testing.assert_allclose(heights, expected, atol=1e-9)
    assert f"φ½ {np.mean(norms > 0.5):.2f}" in view.text.get_text()
    # something is drawn in each chart (not the background colour)
    for ax in view.axes:
        r0, r1, c0, c1 = d.ctx.axes_rows(ax)
        assert (img[r0:r1, c0:c1, :3] < 200).any()
    d.close()


def test_a_video_of_the_summary_view_holds_each_snapshot(tmp_path):
    """Frames between snapshots would recompute the charts from an interpolated W (~1 s a frame at
    n = 10,240): the summary view's frames sit on snapshots, and the plan says so."""
    log, _ = _log(tmp_path / "c.jsonl", n=24, T=3)
    full = build_plan(log, RenderConfig(frames=12, size=(640, 360)))
    assert full.timing.interpolated and not np.all(full.timing.position == np.round(full.timing.position))
    plan = build_plan(log, RenderConfig(view="summary", frames=12, size=(640, 360)))
    pos = plan.timing.position
    assert not plan.timing.interpolated and np.all(pos == np.floor(pos)) and pos[-1] == 2 and np.all(np.diff(pos) >= 0)
    np.testing.assert_array_equal(plan.frame_steps, plan.summary.steps[pos.astype(int)])
    assert any("holds each snapshot" in n for n in plan.notes)


def test_the_norm_curve_says_feature_index_when_every_feature_is_equally_frequent(tmp_path):
    """With one 1 - S for all features the "frequency rank" is only the index: the axis says so."""
    for p, label, by in ((np.full(24, 0.1), "feature index", "by feature index"),
                         (np.linspace(0.01, 0.2, 24), "feature rank by frequency", "by frequency rank")):
        log, _ = _log(tmp_path / f"{by.replace(' ', '_')}.jsonl", p=p)
        plan = build_plan(log, RenderConfig(view="summary", size=(800, 450), grid=True), poster=True)
        d = draw.FrameDrawer(plan.scene)
        d.draw(plan.poster_frame())
        assert d.views[0].ax_rank.get_xlabel().startswith(label)
        assert by in d._grid_note(False)
        d.close()
    assert large.order_label([0.3, 0.3]) == large.INDEX_LABEL and large.order_label([0.3, 0.2]) == large.RANK_LABEL
