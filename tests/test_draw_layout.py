"""What a viewer sees: no text clipped or overprinted at two text sizes, any scale of W, big grids."""

import numpy as np
import pytest

from animsup import frames as fr
from animsup.draw import FrameDrawer
from animsup.render_config import RenderConfig


def drawn(log, **kw):
    kw.setdefault("instance", 0)  # write_pentagon's instances differ in 1-S: 'best' would be ambiguous
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
    p = s.header.instance_probability[list(order)]
    assert sorted(order) == list(range(12)) and np.all(np.diff(p) >= 0)
    d, _ = drawn(log, grid=True)
    titles = [v.ax.get_title() for v in d._views]
    assert [t.split()[0] for t in titles] == [f"#{i}" for i in order]
    keys = [t.get_text() for t in d.key_ax.get_xticklabels()]
    assert keys[0] == f"#{order[0]}" and keys[-1] == f"#{order[-1]}"


@pytest.mark.parametrize("grid", [False, True])
def test_large_heatmaps_max_pool_so_no_feature_disappears(tmp_path, grid):
    """n=200 gives < 3 px a feature: cells aggregate blocks of features and show the entry of largest
    magnitude, so one strong feature (150) stays visible at its place, in a big view and a grid panel."""
    from animsup.runlog import LogWriter, make_header

    n, m, k = 200, 5, 4
    log = tmp_path / "big.jsonl"
    hdr = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=[0.1] * k, seed=list(range(k)),
                      importance=[1.0] * n, config={})
    W = np.zeros((k, m, n), np.float32)
    W[:, 0, 150] = 1.0  # WᵀW is 1 at (150, 150) and 0 elsewhere
    with LogWriter(log, hdr) as w:
        for t in range(3):
            w.snapshot(t, np.full(k, 0.1, np.float32), W, np.zeros((k, n), np.float32))
    d, img = drawn(log, grid=grid)
    view = d._views[0]
    assert view.block > 1
    bb = view.ax.bbox
    x = bb.x0 + (150.5 / n) * bb.width
    y = d.height - (bb.y1 - (150.5 / n) * bb.height)
    px = img[int(y), int(x), :3].astype(int)
    assert px[0] > 80 and px[0] - px[2] > 60, px  # dark red: the strongest positive colour
    if not grid:
        assert f"max |·| over {view.block}×{view.block}" in view.ax.get_title()
    else:
        assert any(f"{view.block}×{view.block} features" in t.get_text() for t in d.fig.texts)


def test_crowded_plane_labels_only_what_can_be_read_and_says_so(tmp_path, text_layout_problems):
    """n=1000 with ~300 features away from the origin: the 12 largest (importance x norm²) are drawn in
    full and labelled, the others thin; the corner note counts the quiet, the shown and the labelled."""
    from animsup.runlog import LogWriter, make_header

    n, k = 1000, 1
    rng = np.random.default_rng(0)
    r = np.clip(rng.lognormal(-2.6, 1.0, n), 0, 1.3)
    r[:3] = [1.0, 0.9, 0.8]
    th = rng.uniform(0, 2 * np.pi, n)
    W = np.stack([r * np.cos(th), r * np.sin(th)])[None].astype(np.float32)
    hdr = make_header(n_features=n, n_hidden=2, model="tied", feature_probability=[0.01], seed=[0],
                      importance=[1.0] * n, config={})
    log = tmp_path / "n1000.jsonl"
    with LogWriter(log, hdr) as w:
        for t in range(2):
            w.snapshot(t, np.full(k, 0.1, np.float32), W, np.zeros((k, n), np.float32))
    d, img = drawn(log)
    view = d._views[0]
    lim = d.scene.lim
    shown = int((r >= 0.08 * lim).sum())
    assert view.crowded and 40 < shown
    labelled = {int(x) for x in range(n) if view.top[x]}
    assert labelled == set(np.argsort(-(r * r), kind="stable")[:12].tolist())
    assert 8 <= len(view.label_pos) <= 12
    assert f"the 12 largest of {shown} shown" in view.quiet_label and f"{n - shown} features ≈ 0" in view.quiet_label
    assert text_layout_problems(d) == []


def test_the_2d_view_names_the_shape_of_each_frame_as_inspect_does(tmp_path, write_pentagon):
    from animsup import geometry

    log = tmp_path / "run.jsonl"
    Ws = write_pentagon(log, T=10)
    plan = fr.build_plan(log, RenderConfig(), video=True)
    d = FrameDrawer(plan.scene)
    for f in plan.frames([0, 9]):
        d.draw(f)
        want = geometry.describe(Ws[f.index, 0]).label()
        assert d._views[0].shape_text == want
    assert "pentagon" in want


def test_gif_palette_covers_the_caption_colours(tmp_path, write_pentagon):
    """The palette is built from sample frames that include a captioned one: the caption box keeps
    its colour in the GIF (it came out pale green when samples were drawn without captions: with 400
    frames the 8 spread samples miss the 15-frame caption)."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    from animsup import video
    from animsup.draw import THEMES

    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=30)
    for theme in ("light", "dark"):
        out = tmp_path / f"a_{theme}.gif"
        res = video.render(log, out, annotate=True, size="480x270", theme=theme, fps=10, hold=0, frames=400)
        assert res.events
        want = np.array(to_rgb(THEMES[theme]["caption_bg"])) * 255
        im = Image.open(out)
        best = np.inf
        for i in range(im.n_frames):
            im.seek(i)
            rgb = np.asarray(im.convert("RGB"), dtype=float)
            best = min(best, np.abs(rgb[-40:] - want).sum(-1).min())  # the caption strip at the bottom
        assert best < 12, (theme, best)


def test_the_2d_view_shows_the_bias_per_feature_without_the_bias_panel(tmp_path):
    """A narrow column of cells, feature 0 at the top, on the fixed bias range: a negative bias is blue,
    a positive one red, each in its own feature's cell."""
    from animsup.runlog import LogWriter, make_header

    n = 4
    hdr = make_header(n_features=n, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0],
                      importance=[1.0] * n, config={})
    log = tmp_path / "b.jsonl"
    W = np.array([[[1, 0, -1, 0], [0, 1, 0, -1]]], np.float32)
    with LogWriter(log, hdr) as w:
        w.snapshot(0, np.array([0.1], np.float32), W, np.array([[-0.5, 0.0, 0.0, 0.5]], np.float32))
    d, img = drawn(log)
    view = d._views[0]
    bb = view.bias_ax.bbox
    x = int((bb.x0 + bb.x1) / 2)
    first = img[int(d.height - bb.y1 + bb.height / 8), x, :3].astype(int)
    last = img[int(d.height - bb.y0 - bb.height / 8), x, :3].astype(int)
    assert first[2] - first[0] > 80 and last[0] - last[2] > 80, (first, last)  # blue on top, red at the bottom
    assert "±0.55" in view.bias_ax.get_title()


@pytest.mark.parametrize("case", ["plane", "heatmap", "grid64"])
def test_the_smallest_frame_size_still_draws(tmp_path, write_pentagon, case):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=3, **CASES[case])
    d, img = drawn(log, size="64x64", grid=CASES[case]["k"] > 2)
    assert img.shape == (64, 64, 4)


def test_grid_heatmaps_keep_their_norm_bars_inside_their_own_cell(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=3, n=20, m=5, k=24)
    d, _ = drawn(log, grid=True)
    boxes = []
    for v in d._views:
        assert v.bars is not None  # ‖W_i‖ bars in every panel
        x0 = min(a.bbox.x0 for a in v.axes)
        x1 = max(a.bbox.x1 for a in v.axes)
        y0 = min(a.bbox.y0 for a in v.axes)
        y1 = max(a.bbox.y1 for a in v.axes)
        boxes.append((x0, y0, x1, y1))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 2 and b[0] < a[2] - 2 and a[1] < b[3] - 2 and b[1] < a[3] - 2), (a, b)
