"""The render path as one step: RenderConfig (validated once, recorded), the render plan, the
panel interface, encoders with one factory signature and a kind."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from animsup.rendering import encode, panels, video
from animsup.rendering import plan as rp
from animsup.errors import AnimsupError
from animsup.rendering.config import OPTIONS, RenderConfig, options_table

SMALL = dict(size="320x180", fps=10, hold=0.5)
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def log(tmp_path, write_pentagon):
    path = tmp_path / "run.jsonl"
    write_pentagon(path, T=12, k=2, loss_rows=2, feature_probability=0.05)  # two seeds of one group
    return path


def test_config_normalises_and_round_trips():
    c = RenderConfig(size="321x181", panels="bias,bias", instance="2", fps=12, smooth=3.0)
    assert c.size == (322, 182) and c.panels == ("bias",) and c.instance == 2 and c.smooth == 3
    assert isinstance(c.fps, float)
    d = json.loads(json.dumps(c.to_dict()))
    assert RenderConfig.from_dict(d) == c
    with pytest.raises(AnimsupError, match="unknown render option"):
        RenderConfig.from_dict({**d, "colour": "red"})


@pytest.mark.parametrize("kw, msg", [
    (dict(fps=0), "--fps must be a positive number"),
    (dict(fps=1000), "above the limit"),
    (dict(fps=10, frames=5, duration=2), "at most two"),
    (dict(frames=2.5), "--frames must be a whole number"),
    (dict(time="cubic"), "--time must be linear or log"),
    (dict(hold=-1), "--hold must be >= 0"),
    (dict(size="big"), "--size must look like"),
    (dict(size="10x10"), "out of range"),
    (dict(dpi=5), "--dpi must be between"),
    (dict(theme="neon"), "unknown theme"),
    (dict(panels="weights"), "unknown panel 'weights'"),
    (dict(grid=True, annotate=True), "cannot be combined with --grid"),
    (dict(preset="turbo"), "unknown --preset"),
    (dict(workers=-1), "--workers must be a whole number >= 0"),
    (dict(instance="worst"), "--instance takes an index, 'best'"),
    (dict(backend="gpu"), "unknown encoder backend"),
])
def test_config_rejects_bad_values_in_one_line(kw, msg):
    with pytest.raises(AnimsupError, match=re.escape(msg)) as e:
        RenderConfig(**kw)
    assert "\n" not in str(e.value)


def test_docs_table_lists_every_option():
    text = (DOCS / "rendering.md").read_text()
    assert options_table() in text
    assert [name for name, *_ in OPTIONS] == list(RenderConfig.__dataclass_fields__)


def test_result_records_the_config_and_rebuilds_the_same_video(log, tmp_path):
    a = video.render(log, tmp_path / "a.gif", frames=6, theme="dark", **SMALL)
    cfg = RenderConfig.from_dict(json.loads(json.dumps(a.config)))
    b = video.render(log, tmp_path / "b.gif", config=cfg)
    assert b.config == a.config and b.frames == a.frames
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()
    with pytest.raises(AnimsupError, match="either config or keyword"):
        video.render(log, tmp_path / "c.gif", config=cfg, fps=3)
    with pytest.raises(AnimsupError, match="unknown render option"):
        video.render(log, tmp_path / "c.gif", colour="red")


def test_plan_holds_what_every_frame_shows(log):
    cfg = RenderConfig(frames=7, time="linear", at=44, hold=0.5, fps=10)
    plan = rp.build_plan(log, cfg, video=True, poster=True)
    assert plan.instances == (0,) and plan.n_frames == 7 and plan.timing.hold == 5
    np.testing.assert_allclose(plan.frame_steps, np.linspace(0, 110, 7))
    assert (plan.poster_position, plan.poster_step) == (4.0, 40)
    got = list(plan.frames())
    assert [f.index for f in got] == list(range(7))
    np.testing.assert_allclose([f.step for f in got], plan.frame_steps)
    assert plan.poster_frame().step == 40
    assert plan.scene.lim > 0 and plan.scene.size == (1280, 720)
    with pytest.raises(AnimsupError, match="--at sets the step of a PNG poster"):
        rp.build_plan(log, cfg, video=True, poster=False)


def test_gif_palette_samples_include_every_caption(log):
    plan = rp.build_plan(log, RenderConfig(frames=40), video=True)
    plan.captions = [""] * 40
    plan.captions[33:36] = ["1. step 90: x"] * 3
    idx = plan.sample_indices(8)
    assert 33 in idx and idx[0] == 0 and idx[-1] == 39


class Stripes(panels.Panel):
    """A test panel: one bar whose length is the frame's step, through the public interface only."""

    height = 0.3
    updates = []

    def __init__(self, ctx, rect):
        from matplotlib.collections import PolyCollection

        super().__init__(ctx, rect)
        self.ax = ctx.fig.add_axes(rect)
        self.ax.set_xlim(0, 110)
        self.ax.set_ylim(0, 1)
        self.bar = PolyCollection([np.zeros((4, 2))], facecolors=[ctx.theme["cursor"]])
        self.ax.add_collection(self.bar)
        ctx.animate(self.bar)

    def update(self, frame):
        Stripes.updates.append(frame.step)
        s = frame.step
        self.bar.set_verts([np.array([[0, 0.2], [s, 0.2], [s, 0.8], [0, 0.8]])])


def test_a_new_panel_plugs_in_by_name(log, tmp_path, monkeypatch):
    from animsup.rendering.draw import FrameDrawer

    monkeypatch.setitem(panels.PANELS, "stripes", f"{__name__}:Stripes")
    Stripes.updates = []
    plan = rp.build_plan(log, RenderConfig(panels="stripes", size="640x360"), video=True)
    d = FrameDrawer(plan.scene)
    (panel,) = d.panels
    imgs = [d.draw(f).copy() for f in plan.frames([0, 11])]
    assert Stripes.updates == [0.0, 110.0]
    bb = panel.ax.bbox
    row = int(360 - (bb.y0 + bb.height / 2))
    from matplotlib.colors import to_rgb

    cursor = np.array(to_rgb(d.theme["cursor"])) * 255
    painted = [np.abs(img[row, int(bb.x0):int(bb.x1), :3] - cursor).sum(1) < 30 for img in imgs]
    assert painted[0].sum() <= 2 and painted[1].sum() > 0.9 * bb.width  # empty bar, then a full one
    with pytest.raises(AnimsupError, match="unknown panel 'nope'"):
        RenderConfig(panels="nope")


def test_every_encoder_factory_has_one_signature_and_a_kind(tmp_path):
    for ext, factory in encode.ENCODERS.items():
        try:
            enc = factory(str(tmp_path / f"x{ext}"), (64, 64), 10.0, backend="auto", preset=None)
        except AnimsupError:
            continue  # a backend missing here
        assert enc.kind == ("poster" if ext == ".png" else "video")
        enc.abort()


def gif_delays(path):
    from PIL import Image

    im, delays = Image.open(path), []
    try:
        while True:
            delays.append(im.info["duration"])
            im.seek(im.tell() + 1)
    except EOFError:
        return delays


@pytest.mark.parametrize("kw, every", [(dict(frames=120, duration=1.5), 5), (dict(fps=100), 2), (dict(fps=30), 1)])
def test_gif_plays_at_the_reported_speed(log, tmp_path, kw, every):
    """GIF delays are whole centiseconds and browsers play <= 10 ms as 100 ms: a GIF keeps every
    k-th frame so each delay is >= 20 ms, plays as long as the video, and the result says so."""
    out = tmp_path / "a.gif"
    res = video.render(log, out, size="160x90", **kw)
    delays = gif_delays(out)
    assert min(delays) >= 20 and all(d % 10 == 0 for d in delays)
    seconds = res.frames / res.fps
    assert abs(sum(delays) / 1000 - seconds) <= 2 * every / res.fps + 0.01
    if every > 1:
        assert res.notes and f"every {every}" in res.notes[0] and str(out) in res.notes[0]
        assert str(out) in res.summary() and "GIF at" in res.summary()
    else:
        assert not res.notes


def test_out_of_memory_says_what_to_change(log, tmp_path, monkeypatch):
    def no_memory(*a, **kw):
        raise MemoryError

    monkeypatch.setattr(rp, "scan_log", no_memory)
    with pytest.raises(AnimsupError, match="out of memory while reading the log; try: drop --annotate") as e:
        video.render(log, tmp_path / "a.mp4", annotate=True)
    assert "\n" not in str(e.value) and not (tmp_path / "a.mp4").exists()


def test_docs_table_lists_every_output_format():
    from animsup.rendering.outputs import docs_table

    assert docs_table() in (DOCS / "rendering.md").read_text()
