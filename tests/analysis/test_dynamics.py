"""Level events (animsup.analysis.dynamics): known jumps are found at the right steps, noise gives none."""

import numpy as np
import pytest

from animsup.analysis import geometry
from animsup.analysis.dynamics import (align_with_loss_drops, fall_backs, fraction_text, level_events, level_states,
                                       loss_drops_log_time)
from animsup.analysis.events import loss_drops


def _steps(T):
    return np.arange(T) * 10


def test_known_jumps_on_a_noisy_series_are_found_once_each():
    rng = np.random.default_rng(0)
    T = 300
    D = np.empty((T, 3))
    D[:, 0] = np.where(np.arange(T) < 100, 1.0, 0.5)          # 1 -> 1/2 at snapshot 100
    D[:, 1] = np.where(np.arange(T) < 200, 2 / 3, 0.4)        # 2/3 -> 2/5 at snapshot 200
    D[:, 2] = 0.75                                             # stays at 3/4
    D += rng.normal(0, 0.008, D.shape)                         # noise well inside the exit band
    ev = level_events(_steps(T), D)
    arrivals = [e for e in ev if e.level_from is None]
    moves = [e for e in ev if e.level_from is not None]
    assert sorted(e.features[0] for e in arrivals) == [0, 1, 2] and all(e.step == 0 for e in arrivals)
    assert [(e.features[0], e.step, fraction_text(e.level_from), fraction_text(e.level_to)) for e in moves] == [
        (0, 1000, "1", "1/2"), (1, 2000, "2/3", "2/5")]
    assert moves[0].since == 990 and "1 → 1/2 (antipodal pair)" in moves[0].text


def test_noise_around_a_level_and_between_levels_gives_no_chatter():
    rng = np.random.default_rng(1)
    T = 2000
    at_level = 0.5 + rng.uniform(-0.039, 0.039, T)            # in and out of the 0.02 band, inside exit
    mid = (2 / 3 + 3 / 4) / 2
    midway = mid + rng.uniform(-0.02, 0.02, T)                 # near 2/3 and 3/4 in turn, in neither's enter band
    midway[:5] = 2 / 3                                         # it starts at 2/3
    D = np.stack([at_level, midway], axis=1)
    ev = level_events(_steps(T), D)
    assert [e.text for e in ev if e.level_from is not None] == []
    # nearest-level labelling without hysteresis switches hundreds of times on the same series
    naive = np.abs(np.diff(np.argmin(np.abs(midway[:, None] - np.array([2 / 3, 3 / 4])), axis=1))).sum()
    assert naive > 500


def test_single_snapshot_spikes_do_not_move_a_feature():
    D = np.full((50, 1), 0.5)
    D[[10, 20, 21, 30], 0] = 1.0                # blips of 1 and 2 snapshots (min_persist 3)
    states, moves = level_states(D)
    assert [m for m in moves if m[3] >= 0] == []
    assert (states[:, 0] == states[0, 0]).all()


def test_levels_from_real_weights_follow_the_geometry():
    # a dedicated feature becoming half of an antipodal pair: D_i from geometry.dimensionality
    T = 30
    W = np.zeros((T, 2, 3))
    W[:, 0, 0] = 1.0
    W[:, 1, 1] = 1.0
    W[15:, 0, 2] = -1.0           # feature 2 appears opposite feature 0 at snapshot 15
    D = geometry.dimensionality(W)
    ev = level_events(_steps(T), D)
    moved = [(e.features[0], e.step, e.level_from, e.level_to) for e in ev if e.level_from is not None]
    # feature 0: dedicated → half of the pair; feature 2: not learned (D = 0, a level) → the other half
    assert moved == [(0, 150, 1.0, 0.5), (2, 150, 0.0, 0.5)]


def test_alignment_with_a_loss_drop():
    T = 200
    steps = _steps(T)
    D = np.where(np.arange(T) < 120, 1.0, 0.5)[:, None]
    loss = np.where(np.arange(2000) < 1200, 0.1, 0.05) + np.random.default_rng(0).normal(0, 1e-4, 2000)
    drops = loss_drops(np.arange(2000), loss)
    assert drops and abs(drops[0].step - 1200) <= 20
    ev = align_with_loss_drops(level_events(steps, D), drops, steps)
    move = [e for e in ev if e.level_from is not None][0]
    assert move.loss_drop_step == drops[0].step
    far = align_with_loss_drops(level_events(steps, D), [type(drops[0])(500, "loss_drop", "x")], steps)
    assert [e for e in far if e.level_from is not None][0].loss_drop_step is None


def test_log_time_loss_drops_find_an_early_drop():
    s = np.arange(1, 100_001)
    loss = np.where(s < 300, 0.2, 0.1)
    assert loss_drops(s, loss) == []               # squeezed into the first 0.3% of a linear axis
    found = loss_drops_log_time(s, loss)
    assert len(found) == 1 and 250 <= found[0].step <= 330


def test_zero_is_a_level_so_a_swap_is_seen():
    """The paper's dynamics example ends in digons: its levels are 0 and 1/2. Feature 0 rises to 1/2 and
    falls back to 0 while feature 1 takes its place; feature 2 stays at 0 (no event: training starts it there)."""
    rng = np.random.default_rng(1)
    T = 300
    t = np.arange(T)
    D = np.zeros((T, 3))
    D[:, 0] = np.where((t >= 50) & (t < 150), 0.5, 0.0)
    D[:, 1] = np.where(t >= 150, 0.5, 0.0)
    D += rng.normal(0, 0.003, D.shape)
    ev = level_events(_steps(T), D)
    assert [(e.features[0], e.level_from, e.level_to, e.step) for e in ev] == [
        (0, 0.0, 0.5, 500), (0, 0.5, 0.0, 1500), (1, 0.0, 0.5, 1500)]
    assert ev[1].text == "feature 0: dimensionality 1/2 → 0 (not learned)"
    # without 0 among the levels the swap is invisible: two arrivals at 1/2, no move
    old = level_events(_steps(T), D, levels=(1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8))
    assert all(e.level_from is None for e in old) and len(old) == 2


def test_fall_backs_are_features_that_rose_and_ended_at_zero():
    T = 100
    t = np.arange(T)
    D = np.zeros((T, 4))
    D[:, 0] = np.where(t < 60, np.minimum(t / 40, 1) * 0.45, 0.0)   # rises to 0.45, falls at snapshot 60
    D[:, 1] = np.minimum(t / 40, 1) * 0.5                          # rises and stays
    D[:, 2] = 0.2                                                   # never reached 0.3
    D[:, 3] = np.where(t < 60, 0.5, 0.1)                            # fell, but not to 0
    assert fall_backs(_steps(T), D) == [{"feature": 0, "peak": 0.45, "peak_step": 400, "fell_step": 600}]


def test_bad_input():
    with pytest.raises(ValueError, match="enter <= exit"):
        level_states(np.zeros((3, 2)), enter=0.05, exit=0.01)
    with pytest.raises(ValueError, match="snapshots"):
        level_events(np.arange(3), np.zeros((4, 2)))


def _jump_log(path, noise=0.003):
    """m=3, n=4: features 0-2 dedicated; feature 3 grows in opposite feature 0 around step 1,200
    (D_0: 1 → 1/2) while the loss drops from 0.10 to 0.06."""
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    rng = np.random.default_rng(3)
    steps = np.arange(0, 2001, 10)
    header = make_header(n_features=4, n_hidden=3, model="tied", feature_probability=[0.1], seed=[0],
                         importance=np.ones(4), config={})
    loss_steps = np.arange(2001)
    loss = np.where(loss_steps < 1200, 0.10, 0.06) + rng.normal(0, 2e-4, len(loss_steps))
    with LogWriter(path, header) as w:
        for s in steps:
            W = np.zeros((3, 4))
            W[0, 0] = W[1, 1] = W[2, 2] = 1.0
            W[0, 3] = -1.0 / (1 + np.exp(-(s - 1200) / 15))
            W += rng.normal(0, noise, W.shape)
            w.snapshot(int(s), [float(loss[s])], W[None], np.zeros((1, 4)))
        w.losses(0, 1, loss[:, None])
        w.end("completed", 2000, 1.0)
    return path


def test_events_cli_lists_level_moves_lined_up_with_the_loss_drop(tmp_path, capsys):
    from animsup.cli import main

    log = str(_jump_log(tmp_path / "jump.jsonl"))
    assert main(["events", log]) == 0
    out = capsys.readouterr().out
    moves = [line for line in out.splitlines() if "→" in line and "dimensionality" in line]
    # feature 0 gives up half its dimension; feature 3 leaves 0 (not learned, a level) for the other half
    assert len(moves) == 2 and "feature 0: dimensionality 1 → 1/2 (antipodal pair)" in moves[0]
    assert "feature 3: dimensionality 0 → 1/2 (antipodal pair)" in moves[1]
    for move in moves:
        step = int(move.split()[1].replace(",", ""))
        assert 1180 <= step <= 1260 and "with the loss drop at step 1,2" in move
    assert "loss drops" in out
    assert main(["events", log, "--json"]) == 0
    import json

    evs = json.loads(capsys.readouterr().out)["instances"][0]["events"]
    lv = [e for e in evs if e["kind"] == "dim_level" and e["level_from"] == 1.0]
    assert len(lv) == 1 and lv[0]["level_to"] == 0.5 and abs(lv[0]["loss_drop_step"] - 1200) <= 30
    assert main(["events", log, "--no-levels"]) == 0
    assert "dimensionality" not in capsys.readouterr().out


def test_annotated_render_captions_the_level_move(tmp_path):
    from animsup.rendering.plan import build_plan
    from animsup.rendering.config import RenderConfig

    log = str(_jump_log(tmp_path / "jump.jsonl"))
    plan = build_plan(log, RenderConfig(annotate=True, frames=60))
    moves = [(s, text) for s, kind, text in plan.events if kind == "dim_level" and "→" in text]  # (not first levels)
    assert [t.split(":")[1].strip() for _, t in moves] == ["dimensionality 1 → 1/2 (antipodal pair)",
                                                             "dimensionality 0 → 1/2 (antipodal pair)"]
    assert all(1180 <= s <= 1260 for s, _ in moves)
    assert any("1 → 1/2" in c for c in plan.captions)
