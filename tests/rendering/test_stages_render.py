"""Staged runs in the renders (animsup.rendering.stages): every frame's 1 − S is its step's stage's, the title
names the schedule, the loss panel marks the boundaries with labels that overprint nothing."""

import numpy as np
import pytest

from animsup.rendering import draw, stages
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter

PROBS = [1.0, 0.3, 0.1, 0.01, 0.001]


def _staged_log(path, *, K=1, n=5, m=2, T=51, every=20, probs=PROBS, stage_fp=None):
    """Five stages of 200 steps; a snapshot every ``every`` steps; a loss that drops at each stage."""
    starts = [j * 200 for j in range(len(probs))]
    st = [{"start_step": s, "feature_probability": (stage_fp[j] if stage_fp else [[p] * n] * K), "note": f"stage {j + 1}"}
          for j, (s, p) in enumerate(zip(starts, probs))]
    hdr = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=[probs[0]] * K, seed=list(range(K)),
                      importance=(0.7 ** np.arange(n)).tolist(), config={}, stages=st)
    rng = np.random.default_rng(0)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            step = t * every
            loss = np.full(K, 0.05 * 0.3 ** (step // 200) * (1 + 0.1 * rng.random()))
            w.snapshot(step, loss, rng.normal(0, 0.5, (K, m, n)), np.zeros((K, n)))
        w.end("completed", (T - 1) * every, 1.0)
    return str(path)


def test_schedule_and_per_frame_text_come_from_the_stages(tmp_path):
    log = _staged_log(tmp_path / "s.jsonl")
    plan = rp.build_plan(log, RenderConfig(), video=True)
    sc = plan.scene
    assert sc.stages == [(0, "1"), (200, "0.3"), (400, "0.1"), (600, "0.01"), (800, "0.001")]
    assert "1-S by stage 1→0.3→0.1→0.01→0.001" in sc.title and "1-S=1 " not in sc.title
    for step in plan.frame_steps:
        j = min(int(step // 200), 4)
        assert stages.current(sc.stages, step) == f"{PROBS[j]:g}"
        assert stages.readout(sc.stages, step) == f"1-S {f'{PROBS[j]:g} ({j + 1}/5)':>11}"
    assert stages.current(sc.stages, 199.9) == "1" and stages.current(sc.stages, 200) == "0.3"


def test_the_drawer_paints_the_current_stage_in_the_readout(tmp_path):
    log = _staged_log(tmp_path / "s.jsonl")
    plan = rp.build_plan(log, RenderConfig(), video=True)
    d = draw.FrameDrawer(plan.scene)
    painted = []
    line = d.loss.mono.line
    d.loss.mono.line = lambda text: (painted.append(text), line(text))[1]
    for f in plan.frames([0, 15, 35, plan.n_frames - 1]):
        painted.clear()
        d.draw(f)
        j = min(int(f.step // 200), 4)
        assert stages.readout(plan.scene.stages, f.step) in painted
        assert f"({j + 1}/5)" in stages.readout(plan.scene.stages, f.step)


def test_unstaged_and_unreadable_stages(tmp_path):
    log = _staged_log(tmp_path / "one.jsonl", probs=[0.1])
    assert rp.build_plan(log, RenderConfig(), video=False).scene.stages == []
    bad = _staged_log(tmp_path / "bad.jsonl", probs=[1.0, 0.1], stage_fp=[[[1.0] * 5], "oops"])
    assert rp.build_plan(bad, RenderConfig(), video=False).scene.stages == [(0, "1"), (200, "unknown")]
    varied = _staged_log(tmp_path / "v.jsonl", K=2, probs=[1.0, 0.1],
                         stage_fp=[[[1.0] * 5] * 2, [[0.1] * 5, [0.2] * 5]])
    assert rp.build_plan(varied, RenderConfig(grid=True), video=False).scene.stages == [(0, "1"), (200, "0.1..0.2")]


def _label_boxes(d):
    r = d.canvas.get_renderer()
    return [t.get_window_extent(r) for t in d.loss.stage_labels]


@pytest.mark.parametrize("options", [{}, {"grid": True}, {"annotate": True}, {"size": (640, 360)},
                                     {"panels": ("bias", "norms")}, {"dpi": 160}])
def test_stage_labels_overprint_nothing(tmp_path, text_layout_problems, options):
    K = 3 if options.get("grid") else 1
    log = _staged_log(tmp_path / "s.jsonl", K=K)
    plan = rp.build_plan(log, RenderConfig(**options), video=True)
    d = draw.FrameDrawer(plan.scene)
    img = d.draw(next(plan.frames([plan.n_frames - 1]))).copy()
    names = [repr(t.get_text()) for t in d.loss.stage_labels]
    assert not [p for p in text_layout_problems(d) if any(n in p for n in names)]  # (640x360 clips the x label anyway)
    boxes = _label_boxes(d)
    if not ({"size", "dpi"} & set(options)):
        assert [t.get_text() for t in d.loss.stage_labels] == ["1-S=1", "0.3", "0.1", "0.01", "0.001"]
    assert len(boxes) >= (3 if {"size", "dpi"} & set(options) else 5)  # all five fit at 1280x720, dpi 100
    ax = d.loss.ax
    # under the loss curve (the band the y range was widened by) and inside the axes
    y_curve = ax.transData.transform(np.column_stack([plan.scene.loss_step, plan.scene.loss_smooth.min(1)]))[:, 1]
    low = ax.transData.transform(np.column_stack([plan.scene.loss_step, plan.scene.loss_raw.min(1)]))[:, 1]
    for b in boxes:
        assert ax.bbox.x0 <= b.x0 and b.x1 <= ax.bbox.x1 and ax.bbox.y0 <= b.y0
        assert b.y1 < min(y_curve.min(), low.min())
    # the labels sit right of their stage lines, in order
    xs = [b.x0 for b in boxes]
    assert xs == sorted(xs)
    assert img.shape[:2] == (plan.scene.size[1], plan.scene.size[0])


def test_crowded_stages_drop_labels_rather_than_overlap(tmp_path, text_layout_problems):
    probs = list(np.geomspace(1, 0.001, 5))
    log = _staged_log(tmp_path / "s.jsonl", probs=probs)
    plan = rp.build_plan(log, RenderConfig(size=(320, 180)), video=False)
    d = draw.FrameDrawer(plan.scene)
    d.draw(next(plan.frames()))
    boxes = _label_boxes(d)
    assert len(boxes) < 5
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            A, B = boxes[a], boxes[b]
            assert not (A.x0 < B.x1 and B.x0 < A.x1 and A.y0 < B.y1 and B.y0 < A.y1)
