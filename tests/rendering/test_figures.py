"""Figures for papers (vector posters, the filmstrip, animsup.figure) and runs side by side,
read back with independent parsers (xml.etree for SVG, pypdf for PDF, PIL for PNG)."""

import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

import animsup
from animsup.errors import AnimsupError
from animsup.rendering import video

SVG = "{http://www.w3.org/2000/svg}"
SMALL = dict(size="640x360")


@pytest.fixture
def log(tmp_path, write_pentagon):
    path = tmp_path / "run.jsonl"
    write_pentagon(path, T=12, k=1, loss_rows=2)
    return path


def _texts(svg_path):
    root = ET.parse(svg_path).getroot()
    return root, ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def test_svg_poster_keeps_text_as_text_and_arrows_as_paths(log, tmp_path):
    out = tmp_path / "poster.svg"
    video.render(log, out, **SMALL)
    root, texts = _texts(out)
    joined = " | ".join(texts)
    assert "n_features=5" in joined and "n_hidden=2" in joined  # the title
    for i in range(5):  # the pentagon's feature ids, each a <text> (painted as sprites in the PNG)
        assert str(i) in texts
    assert any(t.startswith("step") for t in texts) and any("loss" in t for t in texts)  # the readout
    assert len(list(root.iter(SVG + "path"))) >= 5  # arrows, heads, curves: paths, not an image
    assert not [el for el in root.iter(SVG + "image") if el.get("width") == "640"]  # not a screenshot


def test_pdf_poster_text_is_extractable(log, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "poster.pdf"
    video.render(log, out, **SMALL)
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "n_features=5" in text and "training step" in text and "step" in text
    fonts = str(reader.pages[0]["/Resources"]["/Font"].get_object())
    assert "Type3" not in fonts  # TrueType (fonttype 42), not glyph procedures


def test_vector_poster_looks_like_the_png_poster(log, tmp_path):
    """The figure of artists, rasterised by Agg, matches the raster drawer's poster (same layout,
    colours and text positions), so nothing the PNG shows is missing from the vector poster."""
    from animsup.rendering.plan import build_plan
    from animsup.rendering.config import RenderConfig
    from animsup.rendering.vector import plan_figure, save_figure

    video.render(log, tmp_path / "a.png", **SMALL)
    fig = plan_figure(build_plan(str(log), RenderConfig(**SMALL), video=False, poster=True))
    save_figure(fig, tmp_path / "b.png")
    a = np.asarray(Image.open(tmp_path / "a.png").convert("RGB"), dtype=float)
    b = np.asarray(Image.open(tmp_path / "b.png").convert("RGB"), dtype=float)
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 4.0  # antialiasing and sub-pixel text placement only
    ink = lambda x: (x.min(2) < 128).mean()  # noqa: E731  the dark pixels: text, arrows, curves
    assert abs(ink(a) - ink(b)) < 0.2 * ink(a)


def test_figure_is_an_editable_figure_without_global_state(log):
    import matplotlib

    before = dict(matplotlib.rcParams)
    fig = animsup.figure(log, step=60, theme="dark", **SMALL)
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.texts]
    assert any(t.startswith("step") and "60" in t for t in texts)  # the snapshot asked for
    assert fig.canvas.manager is None  # not a pyplot figure
    if "matplotlib.pyplot" in sys.modules:  # (another test may have loaded pyplot): no figure registered there
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
    assert dict(matplotlib.rcParams) == before
    strip = animsup.figure(log, steps=[0, 50, 110], **SMALL)
    titles = [ax.get_title() for ax in strip.axes if ax.get_title()]
    assert [t.split("\n")[0] for t in titles] == ["(a) step 0", "(b) step 50", "(c) step 110"]
    assert "figure" in animsup.__all__
    with pytest.raises(TypeError):
        animsup.figure(log, step=1, steps=[1])


def test_filmstrip_outputs(log, tmp_path):
    res = video.render(log, [tmp_path / "s.png", tmp_path / "s.svg"], filmstrip=4, **SMALL)
    assert "filmstrip of 4 snapshots" in res.mapping
    _, texts = _texts(tmp_path / "s.svg")
    assert [t for t in texts if t.startswith("(")] == ["(a) step 0", "(b) step 40", "(c) step 70", "(d) step 110"]
    assert Image.open(tmp_path / "s.png").size == (640, 360)
    with pytest.raises(AnimsupError, match="filmstrip"):
        video.render(log, tmp_path / "s.mp4", filmstrip=3)
    with pytest.raises(AnimsupError, match="filmstrip"):
        video.render(log, tmp_path / "s.png", filmstrip=30)


def test_runs_side_by_side(tmp_path, write_pentagon):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_pentagon(a, T=12, k=1, loss_rows=2, feature_probability=0.1)
    write_pentagon(b, T=8, k=1, loss_rows=2, feature_probability=0.1, radius=0.6)
    write_pentagon(c, T=8, k=1, loss_rows=2, feature_probability=0.3)
    res = animsup.render([a, b], tmp_path / "cmp.png", size="320x180")
    w, h = Image.open(tmp_path / "cmp.png").size
    assert w == 640 and h > 180
    assert any("losses comparable" in n for n in res.notes)
    res = animsup.render([a, c], [tmp_path / "cmp2.png", tmp_path / "cmp2.mp4"], size="320x180", frames=6)
    assert any("NOT comparable" in n and "1-S=0.1 vs 1-S=0.3" in n for n in res.notes)
    assert res.animated_frames == 6
    with pytest.raises(AnimsupError, match="one run"):
        animsup.render([a, b], tmp_path / "cmp.svg")
