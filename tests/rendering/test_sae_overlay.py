"""The SAE's decoder directions in the plane (animsup.rendering.sae, draw/sae.py): drawn where the
file puts them, following the frame's snapshot, with a key; the sidecar found by default, --sae
FILE / none; a file of another log, of another n_hidden or not an SAE file: one line, exit 2;
n_hidden >= 3: a note."""

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.log.sae_file import sidecar_path
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.rendering import draw
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig

ANGLES = np.deg2rad([30, 100, 150, 250, 320])  # W's columns: away from west (180°) and south (270°)
WEST, SOUTH = np.array([-1.0, 0.0]), np.array([0.0, -1.0])


def _log(path, *, m=2, seed=0, steps=(0, 10, 20)):
    hdr = make_header(n_features=5, n_hidden=m, model="tied", feature_probability=[0.05], seed=[seed],
                      importance=[1.0] * 5, config={})
    W = np.zeros((1, m, 5), np.float32)
    W[0, 0], W[0, 1] = 0.9 * np.cos(ANGLES), 0.9 * np.sin(ANGLES)
    with LogWriter(path, hdr, force=True) as w:
        for s in steps:
            w.snapshot(s, np.array([0.01]), W, np.zeros((1, 5), np.float32))
        w.end("completed", steps[-1], 1.0)
    return path


def _decoders(*directions, L=3):
    """[T, 1, 1, L, d]: every latent of snapshot t along directions[t]."""
    return np.stack([np.tile(np.asarray(d, float), (L, 1)) for d in directions])[:, None, None]


def _orange_hits(d: draw.FrameDrawer, img: np.ndarray, direction) -> int:
    """How many of 40 points along the ray from 0.3 to 0.95 of ``direction`` have an orange pixel
    (the SAE's colour, draw/sae.py) within 2 px in the drawn frame ``img``."""
    pts = d.views[0]._to_pixels(np.outer(np.linspace(0.3, 0.95, 40), direction))
    hits = 0
    for x, y in pts:
        r, c = int(round(d.height - y)), int(round(x))
        patch = img[r - 2:r + 3, c - 2:c + 3, :3].astype(int)
        hits += bool(((patch[..., 0] > 170) & (patch[..., 2] < 140) & (patch[..., 0] - patch[..., 2] > 90)).any())
    return hits


def _drawn(plan):
    """(drawer, [(frame step, its pixels)]) for every frame of the plan."""
    d = draw.FrameDrawer(plan.scene)
    return d, [(f.step, d.draw(f).copy()) for f in plan.frames()]


def test_sidecar_drawn_following_the_frames_snapshot(tmp_path, write_sae_file):
    log = _log(tmp_path / "run.jsonl")
    write_sae_file(sidecar_path(log), log, _decoders(WEST, SOUTH), steps=[0, 20])
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=4, hold=0))
    assert plan.scene.sae is not None
    assert any(n.startswith("drawn over W: SAE decoder (3 latents, l1=0.01), per snapshot, from ") for n in plan.notes)
    d, frames = _drawn(plan)
    seen = {step: (_orange_hits(d, img, WEST), _orange_hits(d, img, SOUTH)) for step, img in frames}
    key = d.views[0].ax.get_legend()
    assert [t.get_text() for t in key.get_texts()] == ["SAE decoder (3 latents, l1=0.01)\nper snapshot"]
    for step, (west, south) in seen.items():
        # the SAE trained at the latest snapshot <= the frame's step: step 0's until step 20
        if step < 20:
            assert west >= 20 and south <= 2, (step, west, south)
        else:
            assert south >= 20 and west <= 2, (step, west, south)
    assert min(seen) < 20 <= max(seen)


def test_final_sae_said_in_the_key_and_none_turns_it_off(tmp_path, write_sae_file):
    log = _log(tmp_path / "run.jsonl")
    write_sae_file(sidecar_path(log), log, _decoders(SOUTH), steps=[20])
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=3, hold=0))
    d, frames = _drawn(plan)
    assert frames[0][0] == 0 and _orange_hits(d, frames[0][1], SOUTH) >= 20  # the final SAE, from the first frame on
    assert d.views[0].ax.get_legend().get_texts()[0].get_text() == "SAE decoder (3 latents, l1=0.01)\nfinal SAE (step 20)"
    off = rp.build_plan(log, RenderConfig(size="640x360", frames=3, hold=0, sae="none"))
    assert off.scene.sae is None and not any("SAE" in n for n in off.notes)
    d, frames = _drawn(off)
    assert _orange_hits(d, frames[0][1], SOUTH) == 0


def test_the_best_matched_sae_is_drawn_and_named(tmp_path, write_sae_file):
    log = _log(tmp_path / "run.jsonl")
    dec = np.stack([np.tile(WEST, (3, 1)), np.tile(SOUTH, (3, 1))])[None, :, None]  # [1, V=2, 1, 3, 2]
    write_sae_file(tmp_path / "two.json", log, dec, steps=[20], values=(0.01, 0.3), matched=[[[0.4], [0.9]]])
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=2, hold=0, sae=str(tmp_path / "two.json")))
    np.testing.assert_array_equal(plan.scene.sae.decoders[0], np.tile(SOUTH, (3, 1)))
    note = next(n for n in plan.notes if n.startswith("drawn over W"))
    assert "l1=0.3" in note and "of its 2 SAEs the best matched" in note and "cosine 0.900" in note
    assert "chance" not in note  # a file without the chance baseline (written before it existed)
    import json

    d = json.loads((tmp_path / "two.json").read_text())
    for sc, c in zip(d["scores"], (0.25, 0.5)):
        sc["matched_chance"] = c
    (tmp_path / "two.json").write_text(json.dumps(d))
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=2, hold=0, sae=str(tmp_path / "two.json")))
    note = next(n for n in plan.notes if n.startswith("drawn over W"))
    assert "cosine 0.900, chance 0.500)" in note  # the drawn SAE's own baseline


def test_n_hidden_3_says_it_is_drawn_only_in_the_plane(tmp_path, write_sae_file):
    log = _log(tmp_path / "run.jsonl", m=3)
    write_sae_file(sidecar_path(log), log, np.ones((1, 1, 1, 3, 3)) / np.sqrt(3), steps=[20])
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=2, hold=0))
    assert plan.scene.sae is None
    assert any(n.startswith("the SAE decoder directions of ") and "drawn only for n_hidden <= 2 (this log has n_hidden = 3"
               in n for n in plan.notes)


@pytest.mark.parametrize("case, message", [
    ("missing", "--sae {f}: no such file (animsup sae LOG writes LOG.sae.json)"),
    ("not_json", "{f}: not an SAE file (not JSON: "),
    ("other_format", "{f}: not an SAE file (format is not 'animsup.sae'; animsup sae writes one)"),
    ("newer", "{f}: version 3 is newer than this animsup reads (2); upgrade animsup"),
    ("bad_shape", "{f}: bad SAE file: decoders has shape (1, 3, 3), expected [1, n_latents, 2] finite numbers"),
    ("other_log", "{f} does not belong to {log}: it was made from another log (other.jsonl; the header differs); "
                  "run: animsup sae {log}"),
    ("wrong_m", "{f} does not belong to {log}: its SAEs were trained on a toy with n_features=5, n_hidden=3; "
                "the log has n_features=5, n_hidden=2"),
    ("no_step", "{f} does not belong to {log}: the log has no snapshot at step 15 (the SAEs' steps)"),
    ("instance", "{f} does not belong to {log}: it is for instance 4; the log has 1 instance"),
])
def test_a_bad_or_mismatched_file_is_one_line_and_exit_2(case, message, tmp_path, capsys, write_sae_file):
    from animsup.cli import main

    log = _log(tmp_path / "run.jsonl")
    f = tmp_path / "sae.json"
    dec = _decoders(SOUTH)
    if case == "not_json":
        f.write_text("{oops")
    elif case == "other_format":
        f.write_text('{"format": "animsup.measure", "version": 1}')
    elif case == "newer":
        write_sae_file(f, log, dec, steps=[20], version=3)
    elif case == "bad_shape":
        write_sae_file(f, log, dec, steps=[20], decoders=np.ones((1, 3, 3)).tolist())
    elif case == "other_log":
        other = _log(tmp_path / "other.jsonl", seed=7)
        write_sae_file(f, other, dec, steps=[20])
    elif case == "wrong_m":
        write_sae_file(f, _log(tmp_path / "m3.jsonl", m=3), np.ones((1, 1, 1, 3, 3)) / np.sqrt(3), steps=[20])
    elif case == "no_step":
        write_sae_file(f, log, dec, steps=[15])
    elif case == "instance":
        write_sae_file(f, log, dec, steps=[20], instance=4)
    assert main(["render", str(log), "--out", str(tmp_path / "p.png"), "--size", "320x180", "--sae", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("animsup: error: " + message.format(f=f, log=log)), err
    assert not (tmp_path / "p.png").exists()


def test_a_hostile_log_name_in_the_file_is_escaped(tmp_path, write_sae_file):
    log = _log(tmp_path / "run.jsonl")
    other = _log(tmp_path / "other.jsonl", seed=3)
    write_sae_file(tmp_path / "s.json", other, _decoders(SOUTH), steps=[20], log="evil\u202e\x1b[31m.jsonl")
    with pytest.raises(AnimsupError) as e:
        rp.build_plan(log, RenderConfig(size="320x180", sae=str(tmp_path / "s.json")))
    assert "\u202e" not in str(e.value) and "\x1b" not in str(e.value) and "evil" in str(e.value)


def test_overlay_index_is_the_latest_trained_snapshot_at_or_before_the_step():
    from animsup.rendering.sae import SaeOverlay

    ov = SaeOverlay(0, np.array([0, 10, 40]), np.zeros((3, 2, 2), np.float32), "k", "per snapshot")
    assert [ov.index(s) for s in (-5, 0, 9.9, 10, 39, 40, 1000)] == [0, 0, 0, 1, 1, 2, 2]


def test_the_sae_directions_are_drawn_over_ws_arrows(tmp_path, write_sae_file):
    """Newcomer item 14: a decoder direction on top of a column of W was hidden under W's arrow
    (the moving artists draw in the order animated): it is animated after W's arrows and tips, and
    its dashes and diamond show along the arrow."""
    log = _log(tmp_path / "run.jsonl")
    along = np.array([np.cos(ANGLES[0]), np.sin(ANGLES[0])])   # W's column 0, norm 0.9
    write_sae_file(sidecar_path(log), log, _decoders(0.9 * along), steps=[20])
    plan = rp.build_plan(log, RenderConfig(size="640x360", frames=2, hold=0))
    d, frames = _drawn(plan)
    view, dyn = d.views[0], d.ctx.dynamic
    last_w = max(dyn.index(a) for a in (view.shafts, view.heads, view.tips))
    assert dyn.index(view.sae.lines) > last_w and dyn.index(view.sae.tips) > last_w
    assert _orange_hits(d, frames[-1][1], along) >= 15
