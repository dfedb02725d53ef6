"""animsup.analysis.phase: the extra feature's class, the n=2, m=1 closed forms (checked by sampling the
three weight configurations they describe), and the boundary band."""

import numpy as np
import pytest

from animsup.analysis.phase import (DEDICATED, NOT_LEARNED, SUPERPOSITION, analytic_losses_n2m1, analytic_phase_n2m1,
                                    boundary_band, classify_extra, exact_optimum_n2m1, expected_loss_n2m1, sampled_loss)


@pytest.mark.parametrize("r, s", [(0.3, 0.5), (2.0, 0.2), (1.0, 0.05)])
def test_closed_forms_equal_the_sampled_loss_of_each_configuration(r, s):
    rng = np.random.default_rng(0)
    B = 400_000
    x = rng.random((1, 2, B)) * (rng.random((1, 2, B)) < s)
    imp = np.array([[1.0, r]])
    configs = [  # ignore the extra feature (its output is the bias E[x] = s/2), give it the dimension, antipodal
        (np.array([[[1.0, 0.0]]]), np.array([[0.0, s / 2]])),
        (np.array([[[0.0, 1.0]]]), np.array([[s / 2, 0.0]])),
        (np.array([[[1.0, -1.0]]]), np.array([[0.0, 0.0]])),
    ]
    expected = analytic_losses_n2m1(r, s)
    for (W, b), want in zip(configs, expected):
        got = sampled_loss(W, b, imp, x)[0]
        assert abs(got - want) < 0.02 * want + 1e-4


@pytest.mark.parametrize("r, s", [(0.3, 0.5), (2.0, 0.2), (1.0, 0.05)])
def test_exact_expected_loss_equals_the_closed_forms_at_their_configurations(r, s):
    """The three configurations the closed forms describe (hand-derived: ignoring a feature costs its
    variance about the bias s/2, s/3 − s²/4; the antipodal pair (1 + r) s²/6)."""
    W = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, -1.0]]])
    b = np.array([[0.0, s / 2], [s / 2, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(expected_loss_n2m1(W, b, r, s), analytic_losses_n2m1(r, s), rtol=1e-9)


def test_exact_expected_loss_equals_the_sampled_loss_anywhere():
    """Monte Carlo oracle at arbitrary weights and biases (both signs, a ReLU cut inside [0, 1])."""
    rng = np.random.default_rng(1)
    s, r, B = 0.4, 0.7, 1_000_000
    x = rng.random((1, 2, B)) * (rng.random((1, 2, B)) < s)
    for W, b in [([[0.7, -0.4]], [-0.05, 0.1]), ([[-0.3, 1.2]], [0.2, -0.3]), ([[0.0, 0.0]], [0.3, -0.2])]:
        W, b = np.array([W]), np.array([b])
        want = sampled_loss(W, b, np.array([[1.0, r]]), x)[0]
        assert abs(expected_loss_n2m1(W[0], b[0], r, s) - want) < 3e-3 * want + 1e-5


def test_exact_optimum_beats_every_closed_form_and_shows_where_they_are_off():
    r = np.array([0.2, 5.0, 1.0, 3.0])
    s = np.array([0.6, 0.6, 0.05, 0.38])
    W, b, loss = exact_optimum_n2m1(r, s, n_random=1)
    assert (loss <= analytic_losses_n2m1(r, s).min(axis=-1) + 1e-12).all()
    np.testing.assert_allclose(expected_loss_n2m1(W, b, r, s), loss)
    # deep inside each region the optimum is the closed forms' configuration; at r = 3, s = 0.38, just above
    # the closed forms' boundary s = 4/(5 + 2r) = 0.364 (dedicated), the optimum is a shortened antipodal
    # pair, which none of the three idealised configurations includes
    assert classify_extra(W).tolist() == [NOT_LEARNED, DEDICATED, SUPERPOSITION, SUPERPOSITION]
    assert analytic_phase_n2m1(3.0, 0.38) == DEDICATED
    assert 0.5 < abs(W[3, 0, 0]) < 0.95 and W[3, 0, 0] * W[3, 0, 1] < 0


def test_analytic_phase_regions_and_triple_point():
    assert analytic_phase_n2m1(0.1, 0.5) == NOT_LEARNED
    assert analytic_phase_n2m1(10.0, 0.5) == DEDICATED
    assert analytic_phase_n2m1(1.0, 0.05) == SUPERPOSITION
    # superposition needs s < 4r/(2+5r) = 0.16 at r = 0.1 and s < 4/(5+2r) = 0.16 at r = 10
    assert analytic_phase_n2m1(0.1, 0.155) == SUPERPOSITION and analytic_phase_n2m1(0.1, 0.165) == NOT_LEARNED
    assert analytic_phase_n2m1(10, 0.155) == SUPERPOSITION and analytic_phase_n2m1(10, 0.165) == DEDICATED
    L = analytic_losses_n2m1(1.0, 4 / 7)
    np.testing.assert_allclose(L, L[0])  # the triple point: all three equal


def test_classify_extra_feature():
    W = np.array([
        [[1.0, -0.9]],   # antipodal: superposition
        [[0.0, 1.0]],    # the extra feature alone: dedicated
        [[1.0, 0.1]],    # extra ~ 0: not learned
    ])
    np.testing.assert_array_equal(classify_extra(W), [SUPERPOSITION, DEDICATED, NOT_LEARNED])
    W3 = np.array([[[1, 0, 0], [0, 1, 1.0]]])  # n=3, m=2: extra shares feature 1's direction
    assert classify_extra(W3)[0] == SUPERPOSITION
    ang = np.radians([90, 210, 330])
    tri = np.array([[np.cos(ang), np.sin(ang)]])  # a triangle: interference 2 cos²(120°) = 0.5
    assert classify_extra(tri)[0] == SUPERPOSITION
    W3d = np.array([[[1, -1, 0], [0, 0, 1.0]]])  # the other two antipodal, the extra alone
    assert classify_extra(W3d)[0] == DEDICATED


def test_boundary_band_marks_cells_next_to_another_class():
    c = np.array([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]])
    band = boundary_band(c)
    np.testing.assert_array_equal(band, [[0, 0, 1, 1]] * 3)


def test_phase_diagram_script_quick_writes_table_and_figure(tmp_path):
    """scripts/phase_diagram.py end to end on a tiny grid (one batched run, per-instance importance in
    the v2 header): the JSON table has every cell with its trials, and the figure is written."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from animsup.log.reader import read_header

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "scripts" / "phase_diagram.py"), "--quick", "--n", "2", "--grid", "4",
                           "--trials", "2", "--steps", "150", "--no-video", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = json.loads((tmp_path / "phase_n2.json").read_text())
    cells = table["cells"]
    assert len(cells) == 16 and all(len(cell["trial_loss"]) == 2 for cell in cells)
    assert {cell["class"] for cell in cells} <= {"not learned", "dedicated", "superposition"}
    assert all(cell["trial_loss"][cell["best_trial"]] == min(cell["trial_loss"]) for cell in cells)
    result = json.loads((tmp_path / "phase_n2_result.json").read_text())
    assert np.asarray(result["optimum"]).shape == (4, 4) and 0 <= result["comparison"]["trained_eq_optimum"] <= 16
    assert (tmp_path / "phase_n2.png").stat().st_size > 10_000
    h = read_header(tmp_path / "n2")  # the grid ran as a sweep: its folder reads as one log
    imp = np.asarray(h.importance)
    assert imp.shape == (32, 2) and np.allclose(imp[:, 0], 1) and np.isclose(imp[:, 1].min(), 0.1)


@pytest.mark.parametrize("arg, value", [("--grid", "1"), ("--grid", "0"), ("--trials", "0"), ("--steps", "0")])
def test_phase_diagram_script_refuses_sizes_it_cannot_draw_in_one_line(arg, value, tmp_path):
    """--grid 1 used to crash in the figure with a traceback; 0 fell back to the default silently."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "phase_diagram.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--n", "2", "--no-video", arg, value,
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert arg in proc.stderr and not (tmp_path / "out" / "n2").exists()
