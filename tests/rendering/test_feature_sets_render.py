"""Feature sets in the renders (animsup.rendering.feature_sets, animsup.rendering.panels.sets): a colour family per
correlated/anticorrelated set, independent features keep their importance colours, the key says
which set is which; the viewer takes the same colours and shows a staged run's current 1 − S."""

import colorsys

import numpy as np
import pytest

from animsup.rendering import draw
from animsup.rendering import plan as rp
from animsup.errors import AnimsupError, LogFormatError
from animsup.rendering.feature_sets import ranges_text, set_colors, sets_of
from animsup.rendering.panels import default_panels
from animsup.rendering.config import RenderConfig
from animsup.log.reader import read_header
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def _log(path, data, *, n=6, m=2, K=1, T=6, model="tied", stages=None):
    hdr = make_header(n_features=n, n_hidden=m, model=model, feature_probability=[0.05] * K, seed=list(range(K)),
                      importance=(0.8 ** np.arange(n)).tolist(), config={}, data=data, stages=stages)
    rng = np.random.default_rng(1)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            w.snapshot(t * 10, np.full(K, 0.01 / (t + 1)), rng.normal(0, 0.6, (K, m, n)), np.zeros((K, n)))
        w.end("completed", (T - 1) * 10, 1.0)
    return str(path)


MIXED = {"kind": "uniform", "recipe": 2, "correlated_sets": [[0, 1]], "anticorrelated_sets": [[2, 3]]}


def _hue(rgba) -> float:
    return colorsys.rgb_to_hsv(*np.asarray(rgba)[:3])[0]


def _hdist(a: float, b: float) -> float:
    """Distance of two hues on the colour circle (0..0.5)."""
    d = abs(a - b) % 1.0
    return min(d, 1.0 - d)


def test_sets_of_reads_and_checks_the_header():
    assert sets_of(MIXED, 6) == [("correlated", [0, 1]), ("anticorrelated", [2, 3])]
    assert sets_of({"kind": "uniform"}, 6) == []
    for bad in ({"correlated_sets": [[0, 9]]}, {"correlated_sets": [[0]]}, {"correlated_sets": [[0, 0]]},
                {"correlated_sets": [[0, 1]], "anticorrelated_sets": [[1, 2]]}, {"correlated_sets": "0,1"},
                {"anticorrelated_sets": [["a", 1]]}):
        with pytest.raises(AnimsupError):
            sets_of(bad, 6)
    assert ranges_text([7, 0, 1, 2, 3]) == "0–3, 7" and ranges_text([4, 5]) == "4, 5"


def test_a_family_per_set_and_independent_features_unchanged():
    base = np.tile([0.2, 0.6, 0.3, 1.0], (8, 1))
    sets = [("correlated", [0, 1, 2]), ("anticorrelated", [3, 4]), ("correlated", [5, 6])]
    c = set_colors(base, sets)
    np.testing.assert_array_equal(c[7], base[7])
    hues = [[_hue(c[i]) for i in st] for _, st in sets]
    for h in hues:  # one hue per set (shades of one family)
        assert max(_hdist(a, b) for a in h for b in h) < 0.08
    firsts = [h[0] for h in hues]
    assert min(_hdist(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1:]) > 0.1  # distinct families
    for _, st in sets:  # distinct shades inside a set
        assert len({tuple(np.round(c[i], 3)) for i in st}) == len(st)


def test_frames_use_the_set_colours_and_carry_the_key(tmp_path, text_layout_problems):
    log = _log(tmp_path / "m.jsonl", MIXED)
    assert default_panels(read_header(log)) == ("sets",)
    plan = rp.build_plan(log, RenderConfig(), video=False)
    assert plan.scene.feature_sets == [("correlated", [0, 1]), ("anticorrelated", [2, 3])]
    d = draw.FrameDrawer(plan.scene)
    d.draw(next(plan.frames()))
    imp_colors, _, _ = draw.feature_colors(plan.scene.importance, d.theme)
    np.testing.assert_allclose(d.colors[4:], imp_colors[4:])
    np.testing.assert_allclose(d.colors, set_colors(imp_colors, plan.scene.feature_sets, "light"))
    np.testing.assert_allclose(d.views[0].tips.get_facecolors()[:, :3], d.colors[:, :3])  # (quiet ones fade)
    key = [t.get_text() for t in d.panels[0].ax.texts]
    assert key == ["correlated (on together): 0, 1", "anticorrelated (one or none on): 2, 3"]
    assert "2 independent features" in d.panels[0].ax.get_title(loc="left")
    assert not text_layout_problems(d)


@pytest.mark.parametrize("sets,options", [
    ({"correlated_sets": [list(range(10)), list(range(10, 20))]}, {"grid": True}),
    ({"anticorrelated_sets": [[0, 1], [2, 3], [4, 5]]}, {"theme": "dark"}),
    ({"correlated_sets": [[0, 1], [2, 3]], "anticorrelated_sets": [[4, 5]]}, {"dpi": 160}),
])
def test_large_sets_and_grids_fit(tmp_path, text_layout_problems, sets, options):
    n = 20 if len(sets.get("correlated_sets", [])) else 6
    log = _log(tmp_path / "s.jsonl", {"kind": "uniform", **sets}, n=n, m=10 if n == 20 else 2,
               K=2 if options.get("grid") else 1)
    plan = rp.build_plan(log, RenderConfig(**options), video=False)
    d = draw.FrameDrawer(plan.scene)
    d.draw(next(plan.frames()))
    assert not text_layout_problems(d)


def test_a_malformed_set_is_a_log_error(tmp_path):
    log = _log(tmp_path / "bad.jsonl", {"kind": "uniform", "correlated_sets": [[0, 17]]})
    with pytest.raises(LogFormatError, match="correlated_sets"):
        rp.build_plan(log, RenderConfig(), video=False)
    from animsup.cli import main

    assert main(["render", log, "--out", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def test_viewer_payload_for_neuron_staged_and_set_logs(tmp_path):
    from animsup.viewer.payload import build_payload, plan_viewer

    staged = _log(tmp_path / "st.jsonl", {"kind": "presence_value", "normalise": "l2"}, T=8, stages=[
        {"start_step": 0, "feature_probability": [[1.0] * 6], "note": ""},
        {"start_step": 40, "feature_probability": [[0.1] * 6], "note": ""}])
    p = build_payload(plan_viewer(staged))
    assert p["stages"] == [[0, "1"], [40, "0.1"]]
    sets = build_payload(plan_viewer(_log(tmp_path / "s.jsonl", MIXED)))
    assert sets["stages"] == []
    hexes = sets["colors"][0]
    assert hexes[0] != hexes[1] and hexes[4] != hexes[0]
    from matplotlib.colors import to_rgba

    plan = rp.build_plan(str(tmp_path / "s.jsonl"), RenderConfig(), video=False)
    d = draw.FrameDrawer(plan.scene)
    np.testing.assert_allclose([to_rgba(h) for h in hexes], d.colors, atol=1 / 255)
    neuron = build_payload(plan_viewer(_log(tmp_path / "n.jsonl", {"kind": "uniform"}, model="neuron", m=3)))
    assert neuron["model"] == "neuron" and neuron["n_hidden"] == 3


def test_bad_set_data_rejects_nothing_else(tmp_path):
    with pytest.raises(AnimsupError):
        sets_of({"correlated_sets": [[0, 1], [1, 2]]}, 4)


def test_an_old_logs_anticorrelated_sets_are_drawn_as_exclusive():
    """Data recipe 1 (no "recipe") meant the per-feature-p law by anticorrelated_sets: the header is read
    as exclusive_sets, which keep a colour family of their own kind."""
    from animsup.log.schema import upgrade_data_recipe

    old = {k: v for k, v in MIXED.items() if k != "recipe"}
    assert sets_of(upgrade_data_recipe(old), 6) == [("correlated", [0, 1]), ("exclusive", [2, 3])]
