"""What a viewer sees: no text clipped or overprinted at two text sizes, any scale of W, big grids."""

import numpy as np
import pytest

from animsup.rendering import frames as fr
from animsup.rendering import plan as rp
from animsup.rendering.draw import FrameDrawer
from animsup.rendering.config import RenderConfig


def drawn(log, **kw):
    kw.setdefault("instance", 0)  # write_pentagon's instances differ in 1-S: 'best' would be ambiguous
    plan = rp.build_plan(log, RenderConfig(**kw), video=True)
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
    labels = [d.views[0].ax.get_xlabel(), d.views[0].ax.get_ylabel()]
    if scale == 1e5:
        assert all("(×1e5)" in x for x in labels)  # the power of ten moves to the axis label
    ticks = [t.get_text() for t in d.views[0].ax.get_yticklabels()]
    assert max(len(t) for t in ticks) <= 4, ticks


def test_grid_is_ordered_by_feature_probability_then_loss_with_ids_in_titles(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, k=12)
    s = fr.scan_log(log)
    order = rp.choose_instances(s, grid=True)
    p = s.header.instance_probability[list(order)]
    assert sorted(order) == list(range(12)) and np.all(np.diff(p) >= 0)
    d, _ = drawn(log, grid=True)
    titles = [v.ax.get_title() for v in d.views]
    assert [t.split()[0] for t in titles] == [f"#{i}" for i in order]
    keys = [t.get_text() for t in d.loss.key_ax.get_xticklabels()]
    assert keys[0] == f"#{order[0]}" and keys[-1] == f"#{order[-1]}"


@pytest.mark.parametrize("grid", [False, True])
def test_large_heatmaps_max_pool_so_no_feature_disappears(tmp_path, grid):
    """n=200 gives < 3 px a feature: cells aggregate blocks of features and show the entry of largest
    magnitude, so one strong feature (150) stays visible at its place, in a big view and a grid panel."""
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

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
    view = d.views[0]
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
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

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
    view = d.views[0]
    lim = d.scene.lim
    shown = int((r >= 0.08 * lim).sum())
    assert view.crowded and 40 < shown
    labelled = {int(x) for x in range(n) if view.top[x]}
    assert labelled == set(np.argsort(-(r * r), kind="stable")[:12].tolist())
    assert 8 <= len(view.label_pos) <= 12
    assert f"the 12 largest of {shown} shown" in view.quiet_label and f"{n - shown} features ≈ 0" in view.quiet_label
    assert text_layout_problems(d) == []


def test_the_2d_view_names_the_shape_of_each_frame_as_inspect_does(tmp_path, write_pentagon):
    from animsup.analysis import geometry

    log = tmp_path / "run.jsonl"
    Ws = write_pentagon(log, T=10)
    plan = rp.build_plan(log, RenderConfig(), video=True)
    d = FrameDrawer(plan.scene)
    for f in plan.frames([0, 9]):
        d.draw(f)
        want = geometry.describe(Ws[f.index, 0]).label()
        assert d.views[0].shape_text == want
    assert "pentagon" in want


def test_gif_palette_covers_the_caption_colours(tmp_path, write_pentagon):
    """The palette is built from sample frames that include a captioned one: the caption box keeps
    its colour in the GIF (it came out pale green when samples were drawn without captions: with 400
    frames the 8 spread samples miss the 15-frame caption)."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    from animsup.rendering import video
    from animsup.rendering.draw import THEMES

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
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    n = 4
    hdr = make_header(n_features=n, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0],
                      importance=[1.0] * n, config={})
    log = tmp_path / "b.jsonl"
    W = np.array([[[1, 0, -1, 0], [0, 1, 0, -1]]], np.float32)
    with LogWriter(log, hdr) as w:
        w.snapshot(0, np.array([0.1], np.float32), W, np.array([[-0.5, 0.0, 0.0, 0.5]], np.float32))
    d, img = drawn(log)
    view = d.views[0]
    bb = view.bias_ax.bbox
    x = int((bb.x0 + bb.x1) / 2)
    first = img[int(d.height - bb.y1 + bb.height / 8), x, :3].astype(int)
    last = img[int(d.height - bb.y0 - bb.height / 8), x, :3].astype(int)
    assert first[2] - first[0] > 80 and last[0] - last[2] > 80, (first, last)  # blue on top, red at the bottom
    # its colour scale, with ticks at -r, 0 and +r (b ranges over ±0.5, padded 10 %)
    labels = [t.get_text() for t in view.bias_scale_ax.get_yticklabels()]
    assert labels == ["\u22120.55", "0", "+0.55"], labels
    assert [t.get_text() for t in view.bias_ax.get_yticklabels()] == ["0", "3"]  # feature ids of the cells


def _with_events(log, steps, **kw):
    """A drawer whose scene has events at ``steps`` (what --annotate finds), and its last frame drawn."""
    import dataclasses

    kw.setdefault("instance", 0)
    plan = rp.build_plan(log, RenderConfig(**kw), video=True)
    scene = dataclasses.replace(plan.scene, events=[(s, "join", f"event at {s}") for s in steps])
    d = FrameDrawer(scene)
    img = d.draw(next(plan.frames([plan.n_frames - 1]))).copy()
    return d, img


def _numbers(text):
    a, _, b = text.partition("–")
    return list(range(int(a), int(b or a) + 1))


@pytest.mark.parametrize("dpi", [100, 160])
def test_event_numbers_never_overlap_and_every_event_keeps_its_number(tmp_path, write_pentagon, text_layout_problems,
                                                                       dpi):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=40)  # steps 0..390
    steps = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 100, 104, 250, 385, 387, 388, 389, 390]
    d, _ = _with_events(log, steps, dpi=dpi)
    assert text_layout_problems(d) == []
    texts = [a.get_text() for a in d.loss.event_labels]
    assert sum((_numbers(t) for t in texts), []) == list(range(1, len(steps) + 1)), texts  # each once, in order
    assert any("–" in t for t in texts)  # the crowded ones share a label
    r, bb = d.canvas.get_renderer(), d.loss.ax.bbox
    boxes = [a.get_window_extent(r) for a in d.loss.event_labels]
    for b in boxes:
        assert bb.x0 - 1 <= b.x0 and b.x1 <= bb.x1 + 1, (b, bb)
    for a, b in zip(boxes, boxes[1:]):
        assert a.x1 <= b.x0, (a, b)


def test_event_numbers_far_apart_each_get_their_own(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=40)
    d, _ = _with_events(log, [50, 150, 250])
    assert [a.get_text() for a in d.loss.event_labels] == ["1", "2", "3"]


def _red_columns(img, row, c0, c1, color=None):
    """Columns of ``row`` painted the cursor's red (the light theme's cursor; at any alpha above ~0.5)."""
    px = img[row, c0:c1, :3].astype(int)
    hit = (px[:, 0] - px[:, 1] > 80) & (px[:, 0] - px[:, 2] > 80)
    return c0 + np.flatnonzero(hit)


@pytest.mark.parametrize("dpi", [100, 160])
def test_the_loss_cursor_is_whole_on_the_last_frame_and_never_crosses_the_readout(tmp_path, write_pentagon, dpi):
    """On the last frame the cursor sits at the right end of the loss axes (here exactly on the edge):
    its line and its dot are drawn whole, not cut there, and the step/loss readout above it keeps an
    opaque box the line passes behind."""
    import dataclasses

    from matplotlib.colors import to_rgb

    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=20)
    plan = rp.build_plan(log, RenderConfig(instance=0, dpi=dpi), video=True)
    frame = next(plan.frames([plan.n_frames - 1]))
    s = dataclasses.replace(plan.scene, loss_xlim=(plan.scene.loss_xlim[0], frame.step))  # no room right of it
    d = FrameDrawer(s)
    img = d.draw(frame).copy()
    bb = d.loss.ax.bbox
    x = d.loss.ax.transData.transform((frame.step, s.loss_ylim[0]))[0]
    y = d.loss.ax.transData.transform((frame.step, np.interp(frame.step, s.loss_step, s.loss_smooth[:, 0])))[1]
    assert abs(x - bb.x1) < 1
    line = _red_columns(img, int(d.height - (bb.y0 + 4)), int(x) - 20, int(x) + 20)  # away from the dot
    dot = _red_columns(img, int(d.height - y), int(x) - 20, int(x) + 20)
    assert len(line) >= round(d.loss.cursor_w), line  # the whole line width, not half of it
    assert dot.max() >= bb.x1 + d.loss.dot_r - 2, (dot, bb.x1)  # the dot reaches past the edge: not cut there
    left, right = x - dot.min(), dot.max() - x
    assert abs(left - right) <= 1.5, (left, right)  # as wide on both sides of its centre
    # a frame whose cursor runs under the readout box: never visible through it
    x0, y0, x1, y1 = d.loss.readout_box
    under = [f for f in plan.frames() if x0 + 2 < d.loss.ax.transData.transform((f.step, 1.0))[0] < x1 - 2]
    assert under
    img = d.draw(under[len(under) // 2]).copy()
    box = img[y0:y1, x0:x1, :3].astype(int)
    assert _red_columns(img, y1 + 3, x0, x1).size  # the line is there just under the box ...
    assert not ((box[..., 0] - box[..., 1] > 40) & (box[..., 0] - box[..., 2] > 40)).any()  # ... not in it
    fg = np.array(to_rgb(d.theme["fg"])) * 255
    assert (np.abs(box - fg).sum(-1) < 60).sum() > 50  # the text is there


def test_log_axes_label_ticks_without_mathtext(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=20, loss_rows=10)
    d, _ = drawn(log)
    labels = [t.get_text() for t in d.loss.ax.get_yticklabels() + d.loss.ax.get_yticklabels(minor=True)]
    shown = [t for t in labels if t]
    assert shown and not any("$" in t for t in labels), labels
    assert any(t.startswith("10") and t[2:] and set(t[2:]) <= set("⁻⁰¹²³⁴⁵⁶⁷⁸⁹") for t in shown), shown


def _label_boxes(view, H):
    """Display boxes (x0, y0, x1, y1) of a plane view's feature ids (painted sprites)."""
    return [(x, H - y - cov.shape[0], x + cov.shape[1], H - y) for cov, x, y in view.label_pos]


def test_grid_panels_show_the_ids_of_their_longest_columns_inside_the_panel(tmp_path, write_pentagon):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, n=8, k=64)
    d, _ = drawn(log, grid=True)
    H = d.height
    r = d.canvas.get_renderer()
    labelled = 0
    for v in d.views:
        assert v.max_labels == v.GRID_LABELS
        boxes = _label_boxes(v, H)
        assert len(boxes) <= v.GRID_LABELS
        labelled += bool(boxes)
        bb = v.ax.bbox
        title = v.ax.title.get_window_extent(r)
        for i, b in enumerate(boxes):
            assert bb.x0 <= b[0] and b[2] <= bb.x1 and bb.y0 <= b[1] and b[3] <= bb.y1, (b, bb)  # inside its panel
            assert not (b[0] < title.x1 and title.x0 < b[2] and b[1] < title.y1 and title.y0 < b[3])
            for o in boxes[i + 1:]:
                assert not (b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]), (b, o)
    assert labelled >= 48, labelled  # nearly every panel names some of its features
    note = [t.get_text() for t in d.fig.texts if "feature ids" in t.get_text()]
    assert note and "longest columns" in note[0]


def test_grid_panels_too_small_for_ids_say_so_once(tmp_path, write_pentagon, text_layout_problems):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=6, n=8, k=64)
    d, _ = drawn(log, grid=True, size="640x360")
    assert all(not v.labels_on and not v.label_pos for v in d.views)
    notes = [t.get_text() for t in d.fig.texts if "feature ids" in t.get_text()]
    assert len(notes) == 1 and "too small" in notes[0]
    assert [p for p in text_layout_problems(d) if "feature ids" in p] == []  # the note itself is neither cut nor covered


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
    for v in d.views:
        assert v.bars is not None  # ‖W_i‖ bars in every panel
        x0 = min(a.bbox.x0 for a in v.axes)
        x1 = max(a.bbox.x1 for a in v.axes)
        y0 = min(a.bbox.y0 for a in v.axes)
        y1 = max(a.bbox.y1 for a in v.axes)
        boxes.append((x0, y0, x1, y1))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 2 and b[0] < a[2] - 2 and a[1] < b[3] - 2 and b[1] < a[3] - 2), (a, b)


@pytest.mark.parametrize("dpi", [100, 160])
def test_grid_heatmaps_show_their_shared_colour_scales_with_ticks(tmp_path, write_pentagon, text_layout_problems, dpi):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=30, n=20, m=5, k=24, loss_rows=10)  # a long loss title (moving average)
    d, _ = drawn(log, grid=True, dpi=dpi)
    s = d.scene
    assert len(d.grid_scale_axes) == 2
    for cax, r in zip(d.grid_scale_axes, (s.gram_max, s.b_range[1])):
        labels = [t.get_text() for t in cax.get_xticklabels()]
        assert labels == [f"\u2212{r:.2g}", "0", f"+{r:.2g}"], labels
        assert cax.bbox.y0 >= 0 and cax.bbox.x1 <= d.width
    assert "moving average" in d.loss.ax.get_title(loc="left")
    assert text_layout_problems(d) == []


def _with_llc_and_curves(path, T=6):
    """A 1-instance log with a recorded curve ("test_loss") and a measured LLC sidecar."""
    from animsup.log.measurements import Measurements, write_measurements
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    hdr = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0],
                      importance=np.ones(5).tolist(), config={}, curves=["test_loss"])
    ang = 2 * np.pi * np.arange(5) / 5
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            W = np.stack([np.cos(ang), np.sin(ang)])[None].astype(np.float32) * (0.2 + t / T)
            w.snapshot(t * 400, np.array([0.1 / (t + 1)], np.float32), W, np.zeros((1, 5), np.float32))
            w.curve("test_loss", t * 400, [0.2 / (t + 1)])
        w.end("completed", (T - 1) * 400, 1.0)
    steps = np.arange(T) * 400
    mean = np.linspace(1.0, 3.0, T)[:, None]
    llc = {"settings": {"chains": 2}, "mean": mean, "std": np.full((T, 1), 0.05), "chains": np.repeat(mean[:, :, None], 2, 2),
           "init_loss": np.zeros((T, 1)), "diverged": np.zeros((T, 1)), "settled": np.ones((T, 1), bool),
           "trace": np.zeros((T, 1, 3))}
    write_measurements(str(path), Measurements(steps=steps, instances=(0,), llc=llc))
    return path


@pytest.mark.parametrize("dpi", [100, 160])
@pytest.mark.parametrize("panels", ["llc", "curves", "llc,curves"])
def test_step_panels_show_their_tick_labels_and_axis_label_inside_the_frame(tmp_path, text_layout_problems, panels, dpi):
    """The panels under the loss panel share its step axis: each shows its step tick labels, the
    bottom one is labelled "training step", and none of it is cut at the frame's bottom edge."""
    log = _with_llc_and_curves(tmp_path / "run.jsonl")
    d, _ = drawn(log, dpi=dpi, panels=panels)
    assert text_layout_problems(d) == []
    r = d.canvas.get_renderer()
    for p in d.panels:
        shown = [t for t in p.ax.xaxis._update_ticks() if t.label1.get_visible() and t.label1.get_text().strip()]
        assert len(shown) >= 2, (panels, type(p).__name__)
        assert all(t.label1.get_window_extent(r).y0 >= 0 for t in shown)
    bottom = d.panels[-1].ax
    assert bottom.get_xlabel() == "training step" and bottom.xaxis.label.get_window_extent(r).y0 >= 0


def _short_loss_log(path, k=4, T=12):
    """k instances whose loss falls from 0.02 to 0.006 (under one decade around 10^-2)."""
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    hdr = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1] * k, seed=list(range(k)),
                      importance=np.ones(5).tolist(), config={})
    ang = 2 * np.pi * np.arange(5) / 5
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            W = np.tile(np.stack([np.cos(ang), np.sin(ang)])[None] * (0.2 + t / T), (k, 1, 1)).astype(np.float32)
            loss = (0.02 * (0.006 / 0.02) ** (t / (T - 1)) * (1 + 0.1 * np.arange(k))).astype(np.float32)
            w.snapshot(t * 100, loss, W, np.zeros((k, 5), np.float32))
        w.end("completed", (T - 1) * 100, 1.0)
    from animsup.log.measurements import Measurements, write_measurements

    one = np.ones((T, k))
    eig = np.tile(np.linspace(1.0, -0.1, 6), (T, k, 1))
    llc = {"settings": {"chains": 2}, "mean": one, "std": 0.1 * one, "chains": np.ones((T, k, 2)),
           "init_loss": 0 * one, "diverged": 0 * one, "settled": one > 0, "trace": np.zeros((T, k, 3))}
    hess = {"settings": {"method": "exact", "parameters": 6, "rel_tol": 1e-3}, "eigenvalues": eig,
            "degeneracy": 0 * one, "threshold": 1e-3 * one}
    write_measurements(str(path), Measurements(steps=np.arange(T) * 100, instances=tuple(range(k)), llc=llc, hessian=hess))
    return path


@pytest.mark.parametrize("size", ["1280x720", "640x360"])
def test_the_grid_posters_loss_labels_do_not_overlap(tmp_path, size):
    """Newcomer item 12: on a --grid poster the short loss panel labelled 6, 4, 3 and 2 ×10⁻² on top
    of each other (matplotlib's minor-tick labels); its labels now fit its height."""
    log = _short_loss_log(tmp_path / "run.jsonl")
    d, _ = drawn(log, grid=True, size=size, instance=None, panels="llc,hessian")
    r = d.canvas.get_renderer()
    ax = d.loss.ax
    ticks = ax.yaxis.get_major_ticks() + ax.yaxis.get_minor_ticks()
    lo, hi = ax.get_ylim()
    boxes = sorted((t.label1.get_window_extent(r) for t in ticks
                    if t.label1.get_visible() and t.label1.get_text().strip() and lo <= t.get_loc() <= hi),
                   key=lambda b: b.y0)
    assert len(boxes) >= 2
    assert all(a.y1 <= b.y0 + 0.5 for a, b in zip(boxes, boxes[1:])), [(b.y0, b.y1) for b in boxes]
