"""What a viewer sees: no text clipped or overprinted at two text sizes, any scale of W, big grids."""

import numpy as np
import pytest

from animsup import frames as fr
from animsup.draw import FrameDrawer
from animsup.render_config import RenderConfig


def drawn(log, **kw):
    plan = fr.build_plan(log, RenderConfig(**kw), video=True)
    d = FrameDrawer(plan.scene)
    img = d.draw(next(plan.frames([plan.n_frames - 1]))).copy()
    return d, img


CASES = {
    "plane": dict(n=5, m=2, k=1),
    "untied": dict(n=6, m=2, k=2, model="untied"),
    "heatmap": dict(n=20, m=5, k=1),
    "grid64": dict(n=8, m=2, k=64),
    "grid24 heatmaps": dict(n=20, m=5, k=24),
}


@pytest.mark.parametrize("dpi", [100, 160])
@pytest.mark.parametrize("case", list(CASES))
def test_no_text_clipped_or_overlapping_at_two_text_sizes(tmp_path, write_pentagon, text_layout_problems, case, dpi):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, **CASES[case])
    grid = CASES[case]["k"] > 2
    d, img = drawn(log, dpi=dpi, grid=grid, panels="" if grid else "bias")
    assert text_layout_problems(d) == []
    assert img[..., :3].std() > 10


def test_dpi_really_scales_text(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6)
    sizes = []
    for dpi in (100, 160):
        d, _ = drawn(log, dpi=dpi)
        title = d.fig.texts[0]
        sizes.append(title.get_window_extent(d.canvas.get_renderer()).height)
    assert sizes[1] / sizes[0] == pytest.approx(1.6, rel=0.1)


@pytest.mark.parametrize("scale", [1e-3, 0.0, 1e5])
def test_tiny_zero_and_huge_W_keep_every_label_in_the_frame(tmp_path, write_pentagon, text_layout_problems, scale):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, scale=scale)
    d, _ = drawn(log)
    assert text_layout_problems(d) == []
    labels = [d._views[0].ax.get_xlabel(), d._views[0].ax.get_ylabel()]
    if scale == 1e5:
        assert all("(×1e5)" in x for x in labels)  # the power of ten moves to the axis label
    ticks = [t.get_text() for t in d._views[0].ax.get_yticklabels()]
    assert max(len(t) for t in ticks) <= 4, ticks


def test_grid_is_ordered_by_feature_probability_then_loss_with_ids_in_titles(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, k=12)
    s = fr.scan_log(log)
    order = fr.choose_instances(s, grid=True)
    p = np.asarray(s.header.feature_probability)[list(order)]
    assert sorted(order) == list(range(12)) and np.all(np.diff(p) >= 0)
    d, _ = drawn(log, grid=True)
    titles = [v.ax.get_title() for v in d._views]
    assert [t.split()[0] for t in titles] == [f"#{i}" for i in order]
    keys = [t.get_text() for t in d.key_ax.get_xticklabels()]
    assert keys[0] == f"#{order[0]}" and keys[-1] == f"#{order[-1]}"
