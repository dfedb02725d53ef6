"""One story told the same way by every output (issue 21): the default view, one event list, one
loss readout, the step axis, recorded curves, the readout clear of the data."""

import json

import numpy as np
import pytest

from animsup.analysis import ranking
from animsup.analysis.timeline import as_tuples, run_events
from animsup.cli import main
from animsup.log.reader import read_header, read_log
from animsup.log.recorder import write_arrays
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from animsup.rendering.draw import FrameDrawer

T, K, M, N = 12, 4, 2, 5


def history(seed=0, T=T, K=K):
    """A W history [T, K, 2, 5] growing from small to order-1 columns."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, K, M, N)) * np.linspace(0.1, 1, T)[:, None, None, None]).astype(np.float32)


def losses_with_best(best: int):
    """[T, K] losses whose final loss (the mean over the last 5 % of the steps: the last row here)
    is lowest for ``best``."""
    loss = np.tile(np.linspace(1.0, 0.5, T)[:, None], (1, K))
    loss[-1, best] = 0.1
    return loss


KINDS = {  # (the Recorder/from_arrays keywords, grid by default?, what the reason must say)
    "no loss, mixed 1-S": (dict(feature_probability=[0.05, 0.05, 0.1, 0.1]), True, "records no loss"),
    "aggregate loss": (dict(loss=np.linspace(1, 0.1, T)), True, "one loss for all instances"),
    "several groups": (dict(loss=losses_with_best(3), feature_probability=[0.05, 0.05, 0.1, 0.1]), True,
                       "2 groups"),
    "one group": (dict(loss=losses_with_best(2)), False, "instance 2, the lowest final loss"),
}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("kinds")
    out = {}
    for name, (kw, _, _) in KINDS.items():
        out[name] = str(d / (name.replace(" ", "_").replace(",", "") + ".jsonl"))
        write_arrays(history(), out[name], **kw)
    return out


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_default_view_is_the_grid_without_a_comparable_best_else_the_best(logs, kind):
    _, grid, why = KINDS[kind]
    h = read_header(logs[kind])
    view = ranking.default_view(h, ranking.log_final_loss(logs[kind]) if h.loss_scope == "instance" else None)
    assert view.grid is grid and why in view.reason, view
    if not grid:
        assert view.instance == 2  # the instance given the lowest final loss


def test_one_instance_is_its_own_view(tmp_path):
    log = write_arrays(history(K=1), tmp_path / "one.jsonl")
    view = ranking.default_view(read_header(log), None)
    assert (view.grid, view.instance) == (False, 0)


@pytest.mark.parametrize("kind", list(KINDS))
def test_render_with_no_instance_makes_a_picture_and_says_what_it_chose(logs, kind, tmp_path, capsys):
    _, grid, why = KINDS[kind]
    # --grid works on every such log too (it crashed on one with no loss whose instances differ in 1-S)
    runs = ([], ["--grid"]) if kind == "no loss, mixed 1-S" else ([],)
    for extra in runs:
        out = tmp_path / f"x{len(extra)}.png"
        assert main(["render", logs[kind], "--out", str(out), "--size", "256x144", "--dpi", "40"] + extra) == 0
        said = capsys.readouterr().out.splitlines()
        assert out.stat().st_size > 1000
        chosen = [line for line in said if line.startswith("showing ")]
        assert len(chosen) == 1, said
        assert ("as a grid" in chosen[0]) is (grid or bool(extra)), chosen
        if not extra:
            assert why in chosen[0]


def test_outputs_of_one_instance_say_so_when_the_default_view_is_the_grid(logs, tmp_path, capsys):
    sweep, other = logs["several groups"], logs["one group"]
    for argv in ([sweep, "--annotate"], [sweep, "--filmstrip", "2"], [sweep, other]):  # (the last: side by side)
        assert main(["render", *argv, "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--instance N" in err[0], err


def test_the_viewer_and_show_start_where_render_does(logs):
    from animsup.viewer.payload import plan_viewer

    for kind, (_, grid, _) in KINDS.items():
        plan = rp.build_plan(logs[kind], RenderConfig(), video=False, poster=True)
        viewer = plan_viewer(logs[kind])
        assert viewer.choice is not None and viewer.choice.grid is grid
        assert plan.choice == viewer.choice.reason
        assert (len(plan.instances) > 1) is grid
        if not grid:
            assert viewer.instances[viewer.selected] == plan.instances[0] == 2


def test_show_poster_is_the_grid_when_no_instance_is_best(logs, monkeypatch):
    from animsup.viewer import notebook

    asked = []
    monkeypatch.setattr(notebook, "_poster_png", lambda path, instance: asked.append(instance) or b"png")
    notebook.show(logs["several groups"])
    notebook.show(logs["one group"])
    assert asked == [None, 2]  # None: render's default view, the grid here


# --------------------------------------------------------------------------- one event list


def joining_history(T=40):
    """n=3, m=2, one instance: feature 0 grows past the threshold (0.5) at snapshot 10, feature 1 at
    snapshot 25, feature 2 stays at norm 0.01 (never represented). Steps 0, 10, 20, ..."""
    W = np.zeros((T, 1, 2, 3), np.float32)
    t = np.arange(T)
    W[:, 0, 0, 0] = np.where(t >= 10, 1.0, 0.1)
    W[:, 0, 1, 1] = np.where(t >= 25, 1.0, 0.1)
    W[:, 0, :, 2] = 0.01 / np.sqrt(2)
    return W, t * 10


def test_every_output_tells_the_same_events(tmp_path, capsys):
    from animsup.viewer.payload import build_payload, plan_viewer

    W, steps = joining_history()
    log = write_arrays(W, tmp_path / "j.jsonl", steps=steps)
    found = as_tuples(run_events(log, 0))
    joins = [(s, txt.split(" — ")[0]) for s, kind, txt in found if kind == "join"]
    assert joins == [(100, "feature 0 joins"), (250, "feature 1 joins")]  # by construction
    assert main(["events", log, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["instances"][0]["events"]
    assert [(e["step"], e["kind"], e["text"]) for e in cli] == found
    # the viewer keeps 6 of 40 snapshots (step 100 and 250 are not among them): the same events
    viewer = plan_viewer(log, max_snapshots=6)
    assert 100 not in [int(steps[i]) for i in viewer.snapshots]
    assert [tuple(e) for e in build_payload(viewer)["events"][0]] == found
    assert rp.build_plan(log, RenderConfig(annotate=True), video=True, poster=True).events == found


def test_no_level_event_for_a_feature_that_is_not_represented(tmp_path):
    """m=4: three dedicated features and a fourth of norm 0.01 alone in its direction (D_i = 1, a
    named level, but the feature is not represented): no event names it."""
    W = np.zeros((20, 1, 4, 4), np.float32)
    W[:, 0, :3, :3] = np.eye(3)
    W[:, 0, 3, 3] = 0.01
    log = write_arrays(W, tmp_path / "m4.jsonl")
    found = run_events(log, 0, levels=True)
    assert not [e for e in found if 3 in e.features], found
    assert any(e.kind == "dim_level" or "dimensionality" in e.text for e in found)  # the others' levels are told


def test_captions_tell_the_current_frame_never_the_future():
    fps = 30
    frame_steps = np.unique(np.geomspace(1, 4000, 200).round())  # log-spaced snapshots
    events = [(60, "join", "feature 3 joins"), (64, "join", "feature 4 joins"), (70, "shape", "square → pentagon"),
              (900, "loss_drop", "loss drops 20%"), (3990, "join", "feature 5 joins")]
    caps = rp.event_captions(events, frame_steps, fps)
    hold = round(rp.CAPTION_SECONDS * fps)
    for t, cap in enumerate(caps):
        for i, (step, _, text) in enumerate(events):
            if text in cap:
                assert step <= frame_steps[t], (t, cap)  # never an event still to come
                first, _, last = cap.split(".")[0].partition("–")
                assert int(first) <= i + 1 <= int(last or first)  # numbered as the loss panel's ticks
    for step, _, text in events:  # each stays CAPTION_SECONDS from its frame (or to the last frame)
        j = int(np.searchsorted(frame_steps, step))
        assert sum(text in c for c in caps) == min(hold, len(caps) - 1 - j), text
    assert caps[-1] == ""  # the final frame (and the final hold) carries no earlier step's caption


def test_the_poster_key_lists_every_event_or_says_how_many_more():
    events = [(100 * i, "join", f"feature {i} joins — square → pentagon with extra words") for i in range(1, 10)]
    for limit in (60, 110, 2000):
        key = rp.poster_key(events, limit)
        shown = [i for i in range(1, 10) if f"{i}. step {100 * i:,}:" in key]
        assert shown == list(range(1, len(shown) + 1))
        if len(shown) < 9:
            assert f"+{9 - len(shown)} more" in key, key
        assert len(key) <= max(limit, 60)
    assert "more" not in rp.poster_key(events, 2000)


# --------------------------------------------------------------------------- loss and the step axis


def test_the_step_axis_does_not_depend_on_the_other_outputs(tmp_path):
    steps = np.unique(np.geomspace(1, 5000, 40).round()).astype(int)
    log = write_arrays(history(T=len(steps), K=1), tmp_path / "log.jsonl", steps=steps,
                       loss=np.geomspace(1, 0.01, len(steps)))
    alone = rp.build_plan(log, RenderConfig(), video=False, poster=True).scene
    beside = rp.build_plan(log, RenderConfig(), video=True, poster=True).scene
    assert alone.loss_xscale == beside.loss_xscale == "symlog"
    assert alone.loss_xlim == beside.loss_xlim


def test_the_readout_loss_is_the_labelled_moving_average(tmp_path):
    """A loss linear in the step: its centred moving average is the line itself away from the ends,
    so the readout at a step is the loss at that step; the label names the window."""
    import animsup

    log = tmp_path / "lin.jsonl"
    with animsup.Recorder(log, n_features=N, n_hidden=M) as rec:
        for s in range(400):
            rec.loss(s, [1.0 - s / 1000])
            if s % 40 == 0:
                rec.snapshot(s, W=history(T=1, K=1)[0], loss=[1.0 - s / 1000])
    scene = rp.build_plan(log, RenderConfig(smooth=21), video=False, poster=True).scene
    assert scene.loss_label == "loss (moving average of 21 logged losses)" and scene.readout_name == "avg loss"
    np.testing.assert_allclose(scene.readout_loss([100, 200, 300])[:, 0], [0.9, 0.8, 0.7], rtol=1e-5)


def test_recorded_curves_get_a_labelled_panel(tmp_path):
    import animsup

    log = tmp_path / "c.jsonl"
    with animsup.Recorder(log, n_features=N, n_hidden=M) as rec:
        for t in range(6):
            rec.snapshot(10 * t, W=history(T=1, K=1)[0], loss=[1.0 / (t + 1)], test_loss=2.0 / (t + 1))
    plan = rp.build_plan(log, RenderConfig(size="640x360"), video=False, poster=True)
    assert "curves" in plan.scene.panels
    d = FrameDrawer(plan.scene)
    d.draw(plan.poster_frame())
    panel = [p for p in d.panels if type(p).__name__ == "CurvesPanel"][0]
    assert [t.get_text() for t in panel.ax.get_legend().get_texts()] == ["test_loss"]
    line = [ln for ln in panel.ax.get_lines() if ln.get_label() == "test_loss"][0]
    np.testing.assert_allclose(line.get_ydata(), 2.0 / np.arange(1, 7), rtol=1e-6)
    assert read_log(log).curves["test_loss"][0].tolist() == [0, 10, 20, 30, 40, 50]


# --------------------------------------------------------------------------- the readout over data


@pytest.mark.parametrize("dpi, theme", [(80, "light"), (80, "dark"), (100, "dark"), (160, "light"), (160, "dark")])
def test_the_readout_never_covers_the_loss_curve_or_a_tick_label(tmp_path, theme, dpi):
    """The loss rises to its largest value at the last step, right under the readout (top right):
    no plotted point and no tick label of the loss axes is inside the readout's box."""
    log = write_arrays(history(T=30, K=1), tmp_path / "up.jsonl", loss=np.geomspace(1e-3, 1.0, 30))
    plan = rp.build_plan(log, RenderConfig(theme=theme, dpi=dpi, size="640x360", frames=2), video=True)
    d = FrameDrawer(plan.scene)
    d.draw(next(plan.frames([plan.n_frames - 1])))
    ax, H = d.loss.ax, d.height
    x0, y0, x1, y1 = d.loss.readout_box  # buffer pixels, rows from the top
    box = (x0, H - y1, x1, H - y0)  # display pixels, y up

    def inside(x, y):
        return (box[0] <= x) & (x <= box[2]) & (box[1] <= y) & (y <= box[3])

    for line in ax.get_lines():
        if line.get_gid() == "loss-data":
            pts = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
            assert not inside(pts[:, 0], pts[:, 1]).any(), (line, box)
    r = d.canvas.get_renderer()
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        if label.get_visible() and label.get_text():
            e = label.get_window_extent(r)
            assert e.x1 < box[0] or e.x0 > box[2] or e.y1 < box[1] or e.y0 > box[3], (label.get_text(), box)
    assert box[0] >= ax.bbox.x0  # the box stays within the axes' width
