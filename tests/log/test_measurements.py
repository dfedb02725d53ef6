"""The measurements sidecar (animsup.log.measurements): where it lives, round trip, merging, bad files."""

import json

import numpy as np
import pytest

from animsup.errors import AnimsupError, LogFormatError
from animsup.log.measurements import Measurements, parse, read_measurements, sidecar_path, write_measurements


def _m(T=3, K=2, C=4):
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(T, K))
    mean[1, 0] = np.nan                                                   # a diverged estimate
    llc = {"settings": {"lr": 1e-3, "chains": C}, "mean": mean, "std": np.abs(rng.normal(size=(T, K))),
           "chains": rng.normal(size=(T, K, C)), "init_loss": np.ones((T, K)), "diverged": np.zeros((T, K)),
           "settled": np.ones((T, K), bool), "trace": rng.normal(size=(T, K, 5))}
    return Measurements(steps=np.array([0, 10, 20]), instances=(3, 5), log="a.jsonl", llc=llc)


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.json", "a"])
def test_sidecar_sits_beside_the_log(tmp_path, name):
    assert sidecar_path(tmp_path / name) == str(tmp_path / "a.measure.json")


def test_round_trip_keeps_arrays_and_nan(tmp_path):
    log = tmp_path / "a.jsonl"
    assert read_measurements(log) is None
    m = _m()
    write_measurements(log, m)
    back = read_measurements(log)
    assert back.instances == (3, 5) and back.steps.tolist() == [0, 10, 20]
    np.testing.assert_array_equal(back.llc_mean, m.llc_mean)                # NaN included
    assert back.llc["settled"].dtype == bool and back.llc["settings"]["chains"] == 4
    assert back.column(5) == 1 and back.column(4) is None
    s = back.summary()
    assert s["llc"]["first"][0] == pytest.approx(m.llc_mean[0, 0]) and s["llc"]["last"] == pytest.approx(list(m.llc_mean[-1]))
    json.dumps(s)                                                          # JSON-safe (NaN -> None)


def test_a_later_measurement_keeps_the_sections_it_did_not_redo(tmp_path):
    log = tmp_path / "a.jsonl"
    write_measurements(log, _m())
    pca = {"settings": {"q": 2}, "components": np.zeros((2, 3, 2)), "explained": np.zeros((2, 2))}
    write_measurements(log, Measurements(steps=np.array([0, 10, 20]), instances=(3, 5), pca=pca))
    back = read_measurements(log)
    assert back.llc is not None and back.pca is not None
    # other steps: the old sections are not mixed in
    write_measurements(log, Measurements(steps=np.array([0, 20]), instances=(3, 5), pca=None))
    assert read_measurements(log).llc is None


def test_no_llc_is_an_animsup_error():
    with pytest.raises(AnimsupError, match="no LLC"):
        _ = Measurements(steps=np.array([0]), instances=(0,)).llc_mean


@pytest.mark.parametrize("bad, match", [
    ("not json", "not a measurements file"),
    ('{"schema": "other", "version": 1}', "schema"),
    ('{"schema": "animsup.measure", "version": 99, "steps": [], "instances": []}', "newer"),
    ('{"schema": "animsup.measure", "version": 1, "steps": [0], "instances": [0], "llc": {"mean": [[1]]}}', "missing"),
])
def test_bad_sidecars_are_log_format_errors(tmp_path, bad, match):
    (tmp_path / "a.measure.json").write_text(bad)
    with pytest.raises(LogFormatError, match=match):
        read_measurements(tmp_path / "a.jsonl")


def test_shapes_are_checked():
    d = _m().to_json()
    d["llc"]["mean"] = [[1.0, 2.0]]                                         # T = 1, not 3
    with pytest.raises(LogFormatError, match="shape"):
        parse(d)


def test_a_sweep_folder_and_its_merged_log_name_one_sidecar(tmp_path):
    """`animsup measure DIR` and a reader holding the folder's merged log (a Run read from the
    folder has DIR/sweep.jsonl as its path) must find the same file."""
    from animsup.log import sweepdir
    from animsup.log.measurements import sidecar_path

    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / sweepdir.MANIFEST).write_text("{}")
    assert sidecar_path(folder) == sidecar_path(folder / sweepdir.MERGED) == str(folder / "sweep.measure.json")
    plain = tmp_path / "plain"
    plain.mkdir()  # a folder that is not a sweep keeps the old rule
    assert sidecar_path(plain) == str(tmp_path / "plain.measure.json")
