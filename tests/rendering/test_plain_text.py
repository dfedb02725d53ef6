"""The matplotlib sink and the titles: strings from a log are drawn as typed, never as mathtext, and
the title names the model by the log's ``model_label`` / ``model_formula`` (docs/log-format.md).

Before, a seed ``$x^{$`` or ``$\\undefinedcmd$`` ended ``render`` in an internal error (mathtext's
parser), ``$x^2$`` became a formula, and a custom model's title read "custom custom".
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from animsup import models
from animsup.log.recorder import Recorder
from animsup.rendering import draw, frames as fr
from animsup.rendering import plan as rp
from animsup.rendering.video import render


def _drawer(log, *, grid=False):
    s = fr.scan_log(log)
    inst = rp.choose_instances(s, 0, grid=grid)
    scene = fr.build_scene(s, inst, grid=grid, size=(960, 540))
    d = draw.FrameDrawer(scene)
    d.draw(next(iter(fr.iter_frames(log, inst, np.array([0.0])))))
    return scene, d


def _texts(d):
    from matplotlib.text import Text

    return [t for t in d.fig.findobj(Text) if t.get_text()]


def test_no_text_of_the_figure_parses_mathtext(tmp_path, write_hostile):
    log = tmp_path / "run.jsonl"
    write_hostile(log)
    for grid in (False, True):
        scene, d = _drawer(log, grid=grid)
        texts = _texts(d)
        assert texts and all(t.get_parse_math() is False and t.get_usetex() is False for t in texts)
        shown = " ".join(t.get_text() for t in texts)
        assert "$x^{$" in shown and "$x^2$" in shown  # the strings themselves, not a formula
        # control characters and a bidi override (which would reverse the rest of the title) shown escaped
        assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b[2J" in shown and "\\u202eevil" in shown


def test_render_poster_video_and_grid_of_a_hostile_log(tmp_path, write_hostile):
    log = tmp_path / "run.jsonl"
    write_hostile(log, seeds=["$x^{$", "$\\undefinedcmd$"])
    for name, kw in (("poster.png", {}), ("grid.png", {"grid": True}), ("v.gif", {"frames": 3, "annotate": True})):
        render(log, tmp_path / name, size="480x270", workers=0, **kw)
        img = np.asarray(Image.open(tmp_path / name).convert("RGB"))
        assert img.shape[:2] == (270, 480) and img.std() > 10


def test_title_names_the_model_by_its_label_and_formula(tmp_path):
    assert models.title("tied") == "tied ReLU(WᵀWx+b)"
    assert models.title("custom") == "custom"  # was "custom custom"
    assert models.title("custom", "SAE latents") == "SAE latents"
    assert models.title("custom", None, "ReLU(W x + b)") == "custom ReLU(W x + b)"
    assert models.title("tied", "ReLU-hidden MLP", "ReLU(W_dec ReLU(W x))") == "ReLU-hidden MLP ReLU(W_dec ReLU(W x))"

    log = tmp_path / "sae.jsonl"
    with Recorder(log, n_features=5, n_hidden=2, model="custom", model_label="SAE latents",
                  model_formula="ReLU(W x + b)", layout="mn") as rec:
        for step in range(3):
            rec.snapshot(step, W=np.eye(2, 5) * (step + 1))
    scene, _ = _drawer(log)
    assert scene.title.startswith("SAE latents ReLU(W x + b)  ·  n_features=5")

    from animsup.viewer.payload import build_payload, plan_viewer

    assert build_payload(plan_viewer(log))["title"] == scene.title  # the viewer's title is the video's
