"""Sweeps (issue 22): shard-invariant numbers, the manifest, reruns, failing shards, the spec and
`train --config`, and every reader taking the sweep's folder as one run. Ray: test_sweep_ray.py."""

import json
import os

import numpy as np
import pytest

from animsup.cli import main
from animsup.cli.train import spec_configs as spec_groups
from animsup.errors import AnimsupError
from animsup.log.reader import open_log, read_log
from animsup.train.sweep import plan_shards, run_sweep

# 12 instances: importance 2 groups x 1-S 3 values x 2 seeds, tiny
SPEC = {"n-features": 5, "n-hidden": 2, "feature-probability": [1.0, 0.1, 0.05], "importance": [0.9, 0.7],
        "seeds": 2, "steps": 24, "batch-size": 128, "snapshots": 6, "lr": 0.01, "backend": "torch",
        "checkpoint": False}


def groups(**changes):
    return [cfg for _, cfg in spec_groups({**SPEC, **changes}, "spec")]


def arrays(folder):
    run = read_log(folder)
    return run.W, run.b, run.loss_curve, run.steps


def test_the_grid_gives_identical_arrays_as_one_shard_or_one_shard_per_instance_on_1_or_2_threads(tmp_path):
    """The issue's promise on the CPU: bit-identical W, b and losses however the grid is cut."""
    one = run_sweep(groups(), tmp_path / "one")
    assert len(one.manifest["shards"]) == 1 and one.merged
    many = run_sweep(groups(threads=2), tmp_path / "many", shard_size=1)
    assert len(many.manifest["shards"]) == 12
    a, b = arrays(tmp_path / "one"), arrays(tmp_path / "many")
    assert a[0].shape == (6, 12, 2, 5)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # instances in grid order: importance-major, then 1-S, then seed
    run = read_log(tmp_path / "many")
    np.testing.assert_allclose(run.importance[:, 1], [0.9] * 6 + [0.7] * 6, rtol=1e-6)
    np.testing.assert_allclose(run.feature_probability[:6, 0], [1, 1, 0.1, 0.1, 0.05, 0.05], rtol=1e-6)
    assert list(run.header.seed) == [0, 1] * 6
    assert not np.array_equal(run.W[-1, 2], run.W[-1, 3])  # (seeds differ: the test could fail)


def test_manifest_rerun_skips_finished_shards_and_progress_covers_the_whole_sweep(tmp_path):
    seen = []
    run_sweep(groups(), tmp_path / "s", shard_size=5, progress=lambda done, total: seen.append((done, total)))
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert [(s["start"], s["stop"]) for s in m["shards"]] == [(0, 5), (5, 10), (10, 12)]
    assert all(s["status"] == "completed" and s["wall_seconds"] > 0 and s["error"] is None for s in m["shards"])
    assert m["spec"] is None and m["versions"]["animsup"] and m["n_instances"] == 12
    assert seen[-1] == (12 * 24, 12 * 24) and seen[0][0] == 0  # instance-steps of the whole sweep
    first_W = read_log(tmp_path / "s").W
    logs = {s["id"]: tmp_path / "s" / s["log"] for s in m["shards"]}
    before = {k: p.read_bytes() for k, p in logs.items()}
    again = run_sweep(groups(), tmp_path / "s", shard_size=5)
    assert again.ran == [] and {k: p.read_bytes() for k, p in logs.items()} == before
    # an interrupted sweep (shard 1 never finished): the rerun runs only what is missing
    m["shards"][1]["status"] = "running"
    (tmp_path / "s" / "manifest.json").write_text(json.dumps(m))
    os.unlink(logs["shard-0001"])
    os.unlink(tmp_path / "s" / "sweep.jsonl")
    with pytest.raises(AnimsupError, match="not complete"):
        read_log(tmp_path / "s")
    third = run_sweep(groups(), tmp_path / "s", shard_size=5)
    assert third.ran == ["shard-0001"] and logs["shard-0000"].read_bytes() == before["shard-0000"]
    np.testing.assert_array_equal(read_log(tmp_path / "s").W, first_W)  # the rerun shard trained the same
    with pytest.raises(AnimsupError, match="different sweep"):
        run_sweep(groups(steps=25), tmp_path / "s", shard_size=5)


def test_a_failing_shard_is_reported_and_the_others_finish(tmp_path):
    """lr 1e6 diverges (NaN) in its group's shard; the other group completes; the folder says why."""
    spec = {**SPEC, "lr": [0.01, 1e6], "feature-probability": [1.0], "importance": 0.9, "steps": 20}
    res = run_sweep(groups(**{k: v for k, v in spec.items() if k not in SPEC or SPEC[k] != v}), tmp_path / "f")
    status = [(s["group"], s["status"]) for s in res.manifest["shards"]]
    assert status == [(0, "completed"), (1, "failed")]
    assert "diverged" in res.failed[0]["error"] and "\n" not in res.failed[0]["error"] and res.merged is None
    with pytest.raises(AnimsupError, match="shard-0001 failed: diverged"):
        open_log(tmp_path / "f")


def test_spec_grid_order_groups_and_errors(tmp_path):
    g = spec_groups({"n-features": 4, "n-hidden": [1, 2], "weight-decay": [0.0, 0.1], "seeds": [7],
                     "feature-probability": "0.01:1:3", "checkpoint": False}, "f.toml")
    assert [labels for labels, _ in g] == [{"n-hidden": 1, "weight-decay": 0.0}, {"n-hidden": 1, "weight-decay": 0.1},
                                           {"n-hidden": 2, "weight-decay": 0.0}, {"n-hidden": 2, "weight-decay": 0.1}]
    cfg = g[3][1]
    assert cfg.n_hidden == 2 and cfg.weight_decay == 0.1 and cfg.seeds == [7] and not cfg.checkpoint
    np.testing.assert_allclose(cfg.feature_probability, [0.01, 0.1, 1.0])
    with pytest.raises(AnimsupError, match="unknown key 'n-hiden'"):
        spec_groups({"n-hiden": 2}, "f.toml")
    with pytest.raises(AnimsupError, match="f.toml: --n-hidden: invalid int value"):
        spec_groups({"n-hidden": "x"}, "f.toml")
    shards = plan_shards([c for _, c in g], 2)
    assert [s["stop"] - s["start"] for s in shards] == [2, 1] * 4  # 3 instances a group, 2 a shard


def test_cli_sweep_and_train_config_with_overrides(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('n-features = 5\nfeature-probability = [0.1, 0.05]\nimportance = [0.9, 0.7]\nseeds = 2\n'
                    'steps = 20\nbatch-size = 64\nsnapshots = 3\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "d"), "--shard-size", "3", "-q"]) == 0
    assert main(["train", "--config", str(spec), "--steps", "10", "--out", str(tmp_path / "t.jsonl"), "-q"]) == 0
    h = read_log(tmp_path / "t.jsonl").header
    assert h.config["steps"] == 10 and h.config["batch_size"] == 64 and h.n_instances == 8  # file + flag, resolved
    np.testing.assert_allclose(h.importance[4:, 1], 0.7, rtol=1e-6)
    bad = tmp_path / "bad.toml"
    bad.write_text("n-hidden = [1, 2]\n")
    capsys.readouterr()
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "u.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "make 2 runs; run the file with animsup sweep" in err and err.count("\n") == 1
    bad.write_text("steps = [\n")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "e")]) == 2
    assert "not a valid TOML file" in capsys.readouterr().err


def test_every_reader_takes_the_sweep_folder(tmp_path, capsys):
    from animsup.viewer.page import write_html
    from animsup.viewer.server import make_server

    run_sweep(groups(importance=0.9), tmp_path / "d", shard_size=4)
    folder = str(tmp_path / "d")
    whole = read_log(folder)
    assert whole.W.shape[1] == 6
    with open_log(folder, instances=[5]) as r:
        last = list(r.snapshots())[-1]
    np.testing.assert_array_equal(last.W[0], whole.W[-1, 5])
    for argv in (["inspect", folder], ["events", folder], ["render", folder, "--grid", "--out", str(tmp_path / "g.png"), "-q"],
                 ["render", folder, "--instance", "best:p=0.05", "--out", str(tmp_path / "b.png"), "-q"],
                 ["minima", folder, "--out", str(tmp_path / "m"), "-q"]):
        assert main(argv) == 0, (argv, capsys.readouterr().err)
    assert (tmp_path / "g.png").stat().st_size > 5000 and (tmp_path / "m" / "results.json").exists()
    assert write_html(folder, tmp_path / "v.html")["instances"] == 6
    make_server(folder).server_close()


def _readme_spec(steps=10):
    """The README's sweep example (the ```toml block under 'Sweeps'), with few steps."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# sweep\.toml.*?)```", readme, re.S).group(1)
    assert "n-hidden = [2, 5]" in block and "steps = 10000" in block  # (the example this test runs)
    return block.replace("steps = 10000", f"steps = {steps}\nsnapshots = 3\nbatch-size = 32\ncheckpoint = false")


def test_the_readme_sweep_of_two_widths_completes_and_every_reader_names_its_shard_logs(tmp_path, capsys):
    """README: a sweep whose runs differ in shape "is read one run per shard log": the sweep exits 0 and
    says so in one line; readers given the folder name the logs (never "not complete"); the shard logs read."""
    spec = tmp_path / "sweep.toml"
    spec.write_text(_readme_spec())
    folder = str(tmp_path / "s1")
    assert main(["sweep", str(spec), "--out", folder]) == 0
    out = capsys.readouterr().out
    logs = [os.path.join(folder, "shards", f"shard-000{i}.jsonl") for i in (0, 1)]
    line = next(x for x in out.splitlines() if "one run per shard log" in x)
    assert f"{logs[0]} (n_hidden=2)" in line and f"{logs[1]} (n_hidden=5)" in line
    m = json.loads((tmp_path / "s1" / "manifest.json").read_text())
    assert [s["status"] for s in m["shards"]] == ["completed"] * 2 and "n_hidden (2, 5)" in m["separate"]
    assert not (tmp_path / "s1" / "sweep.jsonl").exists()
    assert main(["sweep", str(spec), "--out", folder, "-q"]) == 0  # a rerun: nothing to do, same answer
    for argv in (["inspect", folder], ["events", folder], ["render", folder, "--out", str(tmp_path / "x.png")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not complete" not in err and logs[0] in err and logs[1] in err, err
    with pytest.raises(AnimsupError, match="one run per shard log"):
        read_log(folder)
    a, b = read_log(logs[0]), read_log(logs[1])
    assert (a.header.n_hidden, b.header.n_hidden) == (2, 5) and a.header.n_instances == b.header.n_instances == 48
    # README: "animsup train --config sweep.toml --n-hidden 2": the flag pins the listed key: one run
    assert main(["train", "--config", str(spec), "--n-hidden", "2", "--out", str(tmp_path / "one.jsonl"), "-q"]) == 0
    h = read_log(tmp_path / "one.jsonl").header
    assert h.n_hidden == 2 and h.n_features == 20 and h.n_instances == 48 and h.config["steps"] == 10


def test_command_line_options_pin_listed_keys_and_empty_specs_are_refused(tmp_path, capsys):
    spec = tmp_path / "g.toml"
    spec.write_text("n-features = 4\nn-hidden = [2, 3]\nlr = [0.01, 0.02]\nseeds = 3\nsteps = 5\ncheckpoint = false\n")
    out = str(tmp_path / "t.jsonl")
    assert main(["train", "--config", str(spec), "--n-hidden", "3", "--out", out, "-q"]) == 2  # lr still lists 2 runs
    err = capsys.readouterr().err
    assert "lists for lr make 2 runs" in err and err.count("\n") == 1
    assert main(["train", "--config", str(spec), "--n-hidden", "3", "--lr", "0.02", "--seed", "7", "--out", out, "-q"]) == 0
    h = read_log(out).header
    assert h.n_hidden == 3 and h.config["lr"] == 0.02 and list(h.seed) == [7]  # --seed replaces the file's seeds
    for text in ("", "# nothing here\n"):
        spec.write_text(text)
        assert main(["train", "--config", str(spec), "--steps", "5", "--out", str(tmp_path / "e.jsonl")]) == 2
        assert main(["sweep", str(spec), "--out", str(tmp_path / "e")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 2 and err.count("no options (an empty file)") == 2, err
    assert not (tmp_path / "e.jsonl").exists() and not (tmp_path / "e").exists()
