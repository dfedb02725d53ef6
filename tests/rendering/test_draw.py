"""animsup.rendering.draw: frames are the right size, not blank, and put each feature where its W says."""

import numpy as np
import pytest

from animsup.rendering import draw, frames as fr
from animsup.rendering import plan as rp

SIZE = (480, 270)


def scene_and_frames(tmp_path, write_pentagon, *, positions=(0, 9), **kw):
    log = tmp_path / "run.jsonl"
    opts = {k: kw.pop(k) for k in ("n", "m", "k", "model", "T") if k in kw}
    Ws = write_pentagon(log, **opts)
    s = fr.scan_log(log)
    grid = kw.pop("grid", False)
    inst = rp.choose_instances(s, 0, grid=grid)
    scene = fr.build_scene(s, inst, grid=grid, size=SIZE, **kw)
    frames = list(fr.iter_frames(log, inst, np.array(positions, dtype=float)))
    return scene, frames, Ws


def test_frame_size_not_blank_and_feature_tip_where_expected(tmp_path, write_pentagon):
    scene, frames, Ws = scene_and_frames(tmp_path, write_pentagon, T=10)
    d = draw.FrameDrawer(scene)
    img = d.draw(frames[-1]).copy()
    assert img.shape == (SIZE[1], SIZE[0], 4) and img.dtype == np.uint8
    assert img[..., :3].std() > 10  # not blank
    # oracle: the plane's pixel box and the fixed limits place W[:, 0] at a known pixel
    view = d.views[0]
    bb, L = view.ax.bbox, scene.lim
    x, y = Ws[-1, 0, :, 0]
    px = bb.x0 + (x + L) / (2 * L) * bb.width
    py = SIZE[1] - (bb.y0 + (y + L) / (2 * L) * bb.height)
    patch = img[int(py) - 1:int(py) + 2, int(px) - 1:int(px) + 2, :3].reshape(-1, 3).astype(float)
    want = d.colors[0][:3] * 255
    assert np.abs(patch - want).sum(1).min() < 40, (patch, want)
    # a frame at another time differs only where things move (the background is reused)
    img0 = d.draw(frames[0]).copy()
    assert (img0 != img).any()
    np.testing.assert_array_equal(img0[:5], img[:5])  # the title strip is static


def test_labels_never_overlap(tmp_path, write_pentagon):
    scene, frames, _ = scene_and_frames(tmp_path, write_pentagon, n=12, T=10)
    d = draw.FrameDrawer(scene)
    d.draw(frames[-1])
    boxes = [(x, y, x + c.shape[1], y + c.shape[0]) for c, x, y in d.views[0].label_pos]
    assert len(boxes) >= 5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not draw.overlap(a, b)


def test_the_count_of_quiet_features_never_covers_a_tip_or_shaft(tmp_path, write_pentagon):
    """In a grid's small panels the "N features ≈ 0" label spans most of a panel's width; it goes
    (long or short) to a corner where it covers no tip or shaft (it used to sit top-left always)."""
    log = tmp_path / "grid.jsonl"
    Ws = write_pentagon(log, n=8, k=8, T=10)  # features 5..7 stay at the origin
    s = fr.scan_log(log)
    inst = rp.choose_instances(s, 0, grid=True)
    scene = fr.build_scene(s, inst, grid=True, size=(1280, 720))
    d = draw.FrameDrawer(scene)
    L, checked = scene.lim, 0
    for t, frame in enumerate(fr.iter_frames(log, inst, np.arange(10, dtype=float))):
        d.draw(frame)
        for view, i in zip(d.views, inst):
            x0, y0, x1, y1 = view.quiet_box
            bb = view.ax.bbox
            P = Ws[t, i, :, :5].T  # the live features; points along each shaft, tip included
            pts = np.concatenate([P * f for f in np.linspace(0.3, 1, 8)])
            px = bb.x0 + (pts[:, 0] + L) / (2 * L) * bb.width  # oracle: the axes box and the fixed limits
            py = 720 - (bb.y0 + (pts[:, 1] + L) / (2 * L) * bb.height)
            inside = (px > x0 - 2) & (px < x1 + 2) & (py > y0 - 2) & (py < y1 + 2)
            assert not inside.any(), (t, i, view.quiet_box)
            checked += 1
    assert checked == 80


@pytest.mark.parametrize("kw", [
    dict(m=1), dict(m=3, n=6), dict(model="untied"), dict(k=4, grid=True), dict(theme="dark", panels=("bias",)),
])
def test_every_view_draws(tmp_path, kw, write_pentagon):
    scene, frames, _ = scene_and_frames(tmp_path, write_pentagon, T=10, **kw)
    d = draw.FrameDrawer(scene)
    img = d.draw(frames[-1])
    assert img.shape == (SIZE[1], SIZE[0], 4)
    assert img[..., :3].std() > 10
    if scene.theme == "dark":
        np.testing.assert_array_equal(img[2, 2, :3], (draw.rgb255(draw.THEMES["dark"]["bg"])).astype(np.uint8))


@pytest.mark.parametrize("kw", [
    dict(n=12), dict(k=4, grid=True), dict(m=3, n=6), dict(model="untied"), dict(panels=("bias",), theme="dark"),
])
def test_a_frame_drawn_after_others_equals_a_fresh_drawing(tmp_path, kw, write_pentagon):
    """Each frame restores only the rectangles the previous frame drew in: nothing of an
    earlier frame (arrows, labels, cursor, step text, caption) may be left behind."""
    scene, frames, _ = scene_and_frames(tmp_path, write_pentagon, T=10, positions=(0, 4, 9), **kw)
    frames = [frames[2], frames[0], frames[1]]  # big, then small: what the big one drew must go
    frames[0].caption = "1. step 90: a long caption that is gone in the next frame"
    d = draw.FrameDrawer(scene)
    for f in frames[:2]:
        d.draw(f)
    seq = d.draw(frames[2]).copy()
    fresh = draw.FrameDrawer(scene).draw(frames[2])
    np.testing.assert_array_equal(seq, fresh)


def test_parse_size_rounds_up_to_even():
    assert draw.parse_size("1281x719") == (1282, 720)
    with pytest.raises(Exception, match="1280x720"):
        draw.parse_size("big")


@pytest.mark.parametrize("mark", [".", "-"])
def test_readout_text_keeps_narrow_glyphs_mid_cell(mark):
    # the monospace readout ("loss 5.462e-03"): a "." or "-" sits midway between its neighbours,
    # not pulled left against the previous digit ("5. 462e- 03")
    mono = draw.Sprites("DejaVu Sans Mono", 11, 100)

    def centre(text):
        cov = mono.line(text)
        return (cov.sum(0) * np.arange(cov.shape[1])).sum() / cov.sum()

    left, right = centre("5  "), centre("  5")
    cov = mono.line(f"5{mark}5") - mono.line("5 5")
    middle = (cov.sum(0) * np.arange(cov.shape[1])).sum() / cov.sum()
    assert abs(middle - (left + right) / 2) < 1.0, (left, middle, right)
