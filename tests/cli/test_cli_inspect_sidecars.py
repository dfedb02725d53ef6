"""Plain ``animsup inspect LOG`` names the sidecars beside the log: what ``animsup measure`` measured
(sections, snapshots, instances) and what ``animsup sae`` trained, each with the command that shows
it; a sidecar of another run is left out with a note, and the report still prints."""

import json

import numpy as np

from animsup.cli import main
from animsup.log.measurements import Measurements, write_measurements
from animsup.log.recorder import write_arrays


def _log(tmp_path):
    W = np.random.default_rng(0).normal(0, 0.5, (3, 2, 2, 5))  # [T, K, m, n]
    return write_arrays(W, str(tmp_path / "run.jsonl"), steps=[0, 5, 10], loss=np.full((3, 2), 0.1))


def test_plain_inspect_says_nothing_of_sidecars_that_are_not_there(tmp_path, capsys):
    log = _log(tmp_path)
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    assert "measurements" not in out and "SAE" not in out


def test_plain_inspect_names_the_measurements_and_the_command_that_shows_them(tmp_path, capsys):
    log = _log(tmp_path)
    pca = {"settings": {"q": 2}, "components": np.zeros((2, 3, 2)), "explained": np.full((2, 2), 0.5)}
    T, K, E = 3, 2, 4
    hessian = {"settings": {"method": "exact"}, "eigenvalues": np.ones((T, K, E)), "degeneracy": np.zeros((T, K)),
               "threshold": np.full((T, K), 1e-3)}
    write_measurements(log, Measurements(steps=np.array([0, 5, 10]), instances=(0, 1), pca=pca, hessian=hessian))
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "run.measure.json" in x)
    assert "hessian, pca" in line and "3 snapshots, steps 0–10" in line and "instances 0, 1" in line
    assert f"animsup render {log} --panels hessian" in line and "--json (PCA)" in line
    assert main(["inspect", log, "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["measurements"]
    assert m["file"] == "run.measure.json" and m["sections"] == ["hessian", "pca"]


def test_plain_inspect_names_the_saes_and_leaves_out_another_runs(tmp_path, capsys, write_sae_file):
    log = _log(tmp_path)
    dirs = np.tile(np.eye(2)[None, None, None], (1, 1, 2, 1, 1))  # [T=1, V=1, S=2, L=2, m=2]
    write_sae_file(tmp_path / "run.sae.json", log, dirs, [10], seeds=(0, 1), instance=1, matched=[[[0.6, 0.8]]])
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "run.sae.json" in x)
    assert "2 relu SAEs of 2 latents on instance 1 at step 10" in line and "matched 0.800" in line
    assert f"animsup render {log}" in line
    other = write_arrays(np.zeros((1, 1, 2, 5)), str(tmp_path / "other.jsonl"), steps=[10])
    write_sae_file(tmp_path / "run.sae.json", other, dirs, [10], seeds=(0, 1))  # made from another log
    assert main(["inspect", log]) == 0
    cap = capsys.readouterr()
    assert "run.sae.json" not in cap.out and "final loss" in cap.out
    assert "the SAE sidecar is left out" in cap.err and "does not belong to" in cap.err
