"""scripts/kgon_llc.py --quick (issue 23): it runs, writes its figure and numbers, and the k-gon
losses it finds are Chen et al. 2023's (Sec. 4) — those of the 4-gon family are exact from the
ansatz, an independent check of the loss normalisation (summed over features, high-sparsity law)."""

import json
import os
import sys

import numpy as np
from script_runs import run_quick

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_kgon_llc_quick(tmp_path):
    run_quick("kgon_llc.py", tmp_path)
    res = json.loads((tmp_path / "kgon_llc.json").read_text())
    crit = {row["kgon"]: row for row in res["critical_points"]}
    for name, paper in (("4", 1 / 9), ("4+", 0.10417), ("4++", 0.09722)):
        assert abs(crit[name]["loss"] - paper) < 2e-5, (name, crit[name])
    assert abs(crit["5"]["loss"] - 0.06874) < 5e-4
    assert [row["kgon"] for row in res["llc"]] == ["5", "5+", "6"]
    assert len(res["sgd"]["loss_end"]) == res["sgd"]["seeds"]
    assert (tmp_path / "kgon_llc.png").stat().st_size > 10_000 and (tmp_path / "sgd.measure.json").exists()


# --- scripts/dynamical_transitions.py (issue 23, item 5: Chen et al.'s dynamical transitions) ---

def _dt():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import dynamical_transitions

    return dynamical_transitions


def test_sgd_step_is_plain_sgd_on_the_summed_loss():
    """The hand-written step against torch autograd of (1/B) Σ_batch Σ_features (ReLU(WᵀWx + b) − x)²."""
    import torch

    dt = _dt()
    g = torch.Generator().manual_seed(3)
    W, b = torch.randn(3, 2, 6, generator=g), 0.3 * torch.randn(3, 6, generator=g)
    x = torch.rand(3, 6, 5, generator=g) * (torch.rand(3, 6, 5, generator=g) < 0.4)
    Wa, ba = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    y = torch.relu(Wa.transpose(1, 2) @ (Wa @ x) + ba[:, :, None])
    loss = ((y - x) ** 2).sum(1).mean(1)
    gW, gb = torch.autograd.grad(loss.sum(), [Wa, ba])
    got = dt.sgd_step(W, b, x.clone(), 0.1)
    assert torch.allclose(got, loss.detach(), atol=1e-6)
    assert torch.allclose(W, Wa.detach() - 0.1 * gW, atol=1e-6) and torch.allclose(b, ba.detach() - 0.1 * gb, atol=1e-6)


def test_the_start_is_chen_et_al_4gon():
    """Without noise the start is the 4-gon critical point, population loss 1/9 (Chen et al. Sec. 4)."""
    dt = _dt()
    import kgon_llc

    W, b = dt.init_params(2, 0.0)
    L = kgon_llc.population_loss(W.double(), b.double())
    assert abs(float(L[0]) - 1 / 9) < 1e-6 and abs(float(L[1]) - 1 / 9) < 1e-6


def test_plateaus_and_transitions_from_a_hand_made_loss_curve():
    dt = _dt()
    levels = {"4": 1 / 9, "4+": 0.10417, "5": 0.06874}
    curve = [0.2, 0.1111, 0.1112, 0.1110, 0.108, 0.10417, 0.1042, 0.0900, 0.10418, 0.10415, 0.08, 0.0688, 0.0687, 0.0687, 0.0686]
    labels = dt.level_labels(curve, levels)
    assert labels[:4] == ["", "4", "4", "4"] and labels[7] == "" and labels[-1] == "5"
    # 4+ is two runs of 2 with one transit between: each too short alone, and merging needs a plateau first
    assert dt.plateaus(labels) == [("4", 1, 3), ("5", 11, 14)]
    assert dt.plateaus(labels, min_run=2) == [("4", 1, 3), ("4+", 5, 9), ("5", 11, 14)]
    at = np.arange(len(curve))
    W = np.zeros((len(curve), 1, 2, 6))
    llc = np.arange(len(curve), dtype=float)[:, None]          # rising: every later plateau has the larger mean
    seeds = dt.analyse(at, W, np.array(curve)[:, None], llc, levels)
    (tr,) = seeds[0]["transitions"]
    assert (tr["from"], tr["to"], tr["step"], tr["loss_down"]) == ("4", "5", 11, True)
    assert tr["llc_step"] == np.mean(llc[11:15]) - np.mean(llc[1:4])


def test_dynamical_transitions_quick(tmp_path):
    out = run_quick("dynamical_transitions.py", tmp_path)
    res = json.loads((tmp_path / "dynamical_transitions.json").read_text())
    # every seed is named: those with a transition, those drawn in colour, and the others in grey with why
    import re

    seeds = range(res["settings"]["seeds"])
    with_t = [s for s in seeds if res["seeds_detail"][s]["transitions"]]
    assert f"with a transition: seeds {', '.join(map(str, with_t))};" in out, out
    colour = [int(x) for x in re.search(r"draws seeds ([\d, ]+) in colour", out).group(1).split(", ")]
    grey = [int(x) for x in re.findall(r"seed (\d+) in grey \(\d+ plateau levels?, \d+ transitions?\)", out)]
    assert sorted(colour + grey) == list(seeds), out
    assert res["quick"] and len(res["seeds_detail"]) == res["settings"]["seeds"] == len(res["loss_end"])
    assert abs(np.mean(res["loss_start"]) - 1 / 9) < 2e-3          # the 4-gon start
    assert (tmp_path / "dynamical_transitions.png").stat().st_size > 10_000 and (tmp_path / "sgd.measure.json").exists()
    # --replot redoes the analysis from the log and its measurements alone, to the same result
    run_quick("dynamical_transitions.py", tmp_path, "--replot")
    again = json.loads((tmp_path / "dynamical_transitions.json").read_text())
    assert again["seeds_detail"] == res["seeds_detail"] and again["loss_end"] == res["loss_end"]
