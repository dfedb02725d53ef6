"""`animsup import FILE... --out LOG` for checkpoints and histories: each source's traps."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.importers import auto, checkpoint, safe_pickle
from animsup.log.reader import read_log

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parents[1] / "data" / "checkpoints"
sys.path.insert(0, str(DATA))
from make_fixtures import bias, kmn, pentagon  # noqa: E402

sys.path.remove(str(DATA))


def _import(tmp_path, *files, **options):
    out = tmp_path / "out.jsonl"
    auto.convert([str(DATA / f) for f in files], out, force=True, **options)
    return read_log(out)


def test_safetensors_named_pt_is_recognised_by_content_and_n_m_oriented(tmp_path):
    assert checkpoint.sniff(str(DATA / "safetensors_named.pt")) == "safetensors"
    run = _import(tmp_path, "safetensors_named.pt", importance="0.9", feature_probability="0.05")
    np.testing.assert_allclose(run.W, pentagon()[None, None], rtol=1e-6)  # stored [n, m]: transposed back
    np.testing.assert_allclose(run.b[0], bias(1), rtol=1e-6)
    np.testing.assert_allclose(run.importance, [0.9 ** np.arange(5)], rtol=1e-6)
    prov = run.header.provenance
    assert prov["given"] == {"importance": "0.9", "feature_probability": "0.05"}
    assert prov["inferred"]["w_key"] == "w_3t" and prov["inferred"]["b_key"] == "b_1t"
    assert "nm" in prov["inferred"]["layout"] and run.loss_scope == "none" and run.loss is None


def test_torch_zip_saved_on_cuda_named_pkl_loads_on_cpu(tmp_path):
    assert checkpoint.sniff(str(DATA / "torch_cuda_saved.pkl")) == "torch-zip"
    run = _import(tmp_path, "torch_cuda_saved.pkl", feature_probability="0.1,0.2")
    np.testing.assert_array_equal(run.W[0], kmn(2))
    np.testing.assert_array_equal(run.b[0], bias(2))
    np.testing.assert_allclose(run.feature_probability, [[0.1] * 5, [0.2] * 5], rtol=1e-6)


def test_notebook_knm_with_bias_k1n(tmp_path):
    run = _import(tmp_path, "notebook_knm.pt")
    np.testing.assert_array_equal(run.W[0], kmn(3))
    np.testing.assert_array_equal(run.b[0], bias(3))
    # the same file with the layout given explicitly; a wrong one is an error, not a silent transpose
    np.testing.assert_array_equal(_import(tmp_path, "notebook_knm.pt", layout="knm").W[0], kmn(3))
    with pytest.raises(AnimsupError, match="does not fit"):
        _import(tmp_path, "notebook_knm.pt", layout="mn")


def test_untied_and_tied_detection(tmp_path):
    run = _import(tmp_path, "untied.npz")
    assert run.model == "untied"
    np.testing.assert_allclose(run.W[0, 0], pentagon())
    np.testing.assert_allclose(run.W_dec[0, 0], 0.5 * pentagon())
    tied = _import(tmp_path, "tied_pair.pt")
    assert tied.model == "tied" and tied.W_dec is None
    assert "equals the encoder's transpose" in tied.header.provenance["inferred"]["model"]


def test_histories_4d_data_log_and_directory_ordered_by_step(tmp_path):
    h = _import(tmp_path, "history.npy")
    assert h.W.shape == (6, 2, 2, 5) and h.steps.tolist() == list(range(6))
    assert "0..T-1" in h.header.provenance["inferred"]["steps"]
    d = _import(tmp_path, "data_log.pkl")
    assert d.steps.tolist() == [0, 10, 50, 200] and d.loss_scope == "instance"
    np.testing.assert_allclose(d.loss[-1], np.float32([0.4, 0.5]) / 4)
    c = _import(tmp_path, "ckpts")  # names: step_10, step_100, step_2 in lexical order
    assert c.steps.tolist() == [2, 10, 100]
    np.testing.assert_allclose(c.W[:, 0], [kmn(1, s)[0] for s in (0.3, 0.6, 1.0)], rtol=1e-2)  # step 2 is bf16
    g = auto.load([str(DATA / "ckpts" / "model_step_*")])[0]
    assert g.steps.tolist() == [2, 10, 100]


def test_jax_port_aggregate_loss_and_config_string(tmp_path):
    run = _import(tmp_path, "jax_port.safetensors")
    assert run.loss_scope == "aggregate" and run.loss_curve.shape == (50, 1)  # never copied into 4 instances
    np.testing.assert_array_equal(run.W[0], kmn(4))
    assert run.steps.tolist() == [49]
    np.testing.assert_allclose(run.feature_probability, np.full((4, 5), 0.05))
    np.testing.assert_allclose(run.importance[0], 0.9 ** np.arange(5), rtol=1e-6)
    assert run.header.config["name"] == "tms" and run.header.config["n_instances"] == 4


def test_devinterp_runs_reversed_names_step0_offset_and_frames_without_pandas(tmp_path):
    import subprocess

    # the reader never imports pandas (checked in a fresh interpreter: another test may have loaded it here)
    code = ("import sys; from animsup.importers import auto; "
            f"auto.convert([{str(DATA / 'devinterp_runs.pkl')!r}], {str(tmp_path / 'p.jsonl')!r}); "
            "assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT))
    run = _import(tmp_path, "devinterp_runs.pkl")
    assert (run.header.n_features, run.header.n_hidden, run.header.n_instances) == (5, 2, 2)
    assert run.steps.tolist() == [0, 1, 3, 10, 30, 100]  # weights[0] is step 0, then the log rows
    np.testing.assert_allclose(run.W[0, 1], pentagon(0.2, 0.1), rtol=1e-6)
    np.testing.assert_allclose(run.W[5, 0], pentagon(0.95, 0.0), rtol=1e-6)
    np.testing.assert_array_equal(run.loss_steps, [1, 3, 10, 30, 100])  # no invented loss at step 0 in the curve
    np.testing.assert_allclose(run.loss_curve[:, 1], [0.3 / (i + 1) + 0.01 for i in range(5)], rtol=1e-6)
    assert set(run.curves) == {"test_loss", "acc"}
    np.testing.assert_allclose(run.feature_probability[:, 0], [0.1, 0.05], rtol=1e-5)
    one = _import(tmp_path, "devinterp_runs.pkl", run=1)
    assert one.header.n_instances == 1


def test_hostile_pickle_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps({"W": np.ones((2, 5)), "x": Evil()}))
    tree = safe_pickle.load(str(p))
    assert isinstance(tree["x"], safe_pickle.Inert) and tree["x"].name == "system"
    assert not marker.exists()
    run = _import(tmp_path, "../" * 0 + str(p))  # W imports; the payload stays an inert holder
    assert run.W.shape == (1, 1, 2, 5) and not marker.exists()
    # a pickle whose top object is the payload: refused, nothing runs
    p.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(AnimsupError, match="no floating-point arrays"):
        _import(tmp_path, str(p))
    assert not marker.exists()


def test_npy_with_objects_is_refused(tmp_path):
    p = tmp_path / "o.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AnimsupError, match="Python objects"):
        _import(tmp_path, str(p))


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    out = str(tmp_path / "x.jsonl")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01garbage" * 10)
    for argv, match in [
        (["import", str(tmp_path / "junk.bin"), "--out", out], "not a checkpoint"),
        (["import", str(DATA / "untied.npz"), "--out", out, "--w", "nope"], "--w 'nope': no such array (candidates: w1_2t [5, 2], w2_2t [2, 5])"),
        (["import", str(DATA / "untied.npz"), "--out", out, "--importance", "1,2"], "--importance must give 5 values"),
        (["import", str(DATA / "history.npy"), "--out", out, "--feature-probability", "1.5"], "must lie in (0, 1]"),
        (["import", str(DATA / "devinterp_runs.pkl"), "--out", out, "--run", "7"], "--run 7"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert match in err and "\n" not in err and "Traceback" not in err
    assert not os.path.exists(out)
    assert main(["import", str(DATA / "history.npy"), "--out", out]) == 0
    assert "history" not in capsys.readouterr().err


def test_imported_single_checkpoint_renders(tmp_path):
    from animsup.rendering.video import render

    run_path = tmp_path / "out.jsonl"
    auto.convert([str(DATA / "safetensors_named.pt")], run_path, importance="0.9")
    res = render(str(run_path), str(tmp_path / "p.png"), instance=0)
    assert os.path.getsize(res.paths[0]) > 1000


def test_every_command_in_docs_importing_runs(tmp_path, monkeypatch, capsys):
    import re
    import shlex
    import shutil

    text = (Path(__file__).parents[2] / "docs" / "importing.md").read_text(encoding="utf-8")
    commands = [c for c in re.findall(r"`(animsup import [^`]+)`", text) if "FILE..." not in c]
    assert len(commands) >= 11
    shutil.copytree(DATA, tmp_path / "w")
    shutil.copy(Path(__file__).parents[1] / "data" / "c_log" / "small.log", tmp_path / "w" / "out.txt")
    (tmp_path / "w" / "logs").mkdir()
    monkeypatch.chdir(tmp_path / "w")
    for cmd in commands:
        argv = shlex.split(cmd)[1:] + ["--force"]
        assert main(argv) == 0, (cmd, capsys.readouterr().err)
        run = read_log(argv[argv.index("--out") + 1])
        assert run.header.raw["version"] == 2 and run.header.n_features in (3, 5)


def test_render_says_what_the_log_does_not_know(tmp_path, capsys):
    """No loss: the panel says so and 'best' refuses; aggregate loss: 'best' refuses; facts
    the file did not hold are 'unknown' in the title, not 1."""
    from animsup.rendering import frames
    from animsup.rendering.video import render

    none_log, agg_log = tmp_path / "none.jsonl", tmp_path / "agg.jsonl"
    auto.convert([str(DATA / "history.npy")], none_log)
    auto.convert([str(DATA / "jax_port.safetensors")], agg_log)
    s = frames.scan_log(str(none_log))
    scene = frames.build_scene(s, (1,), grid=False)
    assert scene.loss_note == "no loss recorded" and s.final_loss is None
    assert "1-S unknown" in scene.title and "importance unknown" in scene.title and not scene.importance_known
    assert "1-S=0.05" in frames.build_scene(frames.scan_log(str(agg_log)), (0,)).title
    for log, why in ((none_log, "the log records no loss"), (agg_log, "one loss for all instances")):
        # no instance option: the grid, and one line saying why (no instance is best)
        assert main(["render", str(log), "--out", str(tmp_path / "x.png")]) == 0
        out = capsys.readouterr()
        assert "as a grid: " in out.out + out.err and why in out.out + out.err and os.path.getsize(tmp_path / "x.png") > 1000
        assert main(["render", str(log), "--out", str(tmp_path / "y.png"), "--instance", "best"]) == 2
        assert "no best instance; pass --instance N" in capsys.readouterr().err
    res = render(str(none_log), [str(tmp_path / "n.png"), str(tmp_path / "n.gif")], instance=1)
    assert all(os.path.getsize(p) > 1000 for p in res.paths)


def test_short_histories_and_single_checkpoints_say_what_the_video_shows(tmp_path):
    from animsup.rendering.video import render

    log, single = tmp_path / "d.jsonl", tmp_path / "s.jsonl"
    auto.convert([str(DATA / "devinterp_runs.pkl")], log)  # 6 log-spaced snapshots, steps 0..100
    res = render(str(log), str(tmp_path / "d.gif"), instance=0, size="320x180")
    assert res.animated_frames == 150 and "time log" in res.mapping  # 6 s at 30 fps, less the 1 s hold
    assert any("log-spaced snapshots" in n for n in res.notes)
    gap = [n for n in res.notes if "not observed" in n]
    assert gap and "steps 30 to 100" in gap[0]
    # asking for a duration keeps it, and says nothing about defaults
    assert not any("log-spaced" in n for n in render(str(log), str(tmp_path / "e.gif"), instance=0, size="320x180", duration=2).notes)
    auto.convert([str(DATA / "safetensors_named.pt")], single)
    one = render(str(single), str(tmp_path / "s.gif"), instance=0, size="320x180")
    assert one.animated_frames == 1 and "one snapshot" in one.notes[0] and "note: the log has one snapshot" in one.summary()


def test_importance_from_a_list_or_a_file(tmp_path):
    np.save(tmp_path / "imp.npy", np.array([1.0, 0.5, 0.25, 0.125, 0.0625]))
    (tmp_path / "imp.txt").write_text("1 0.5 0.25\n0.125 0.0625\n")
    for spec in ("1,0.5,0.25,0.125,0.0625", str(tmp_path / "imp.npy"), str(tmp_path / "imp.txt")):
        run = _import(tmp_path, "history.npy", importance=spec)
        np.testing.assert_allclose(run.importance, [0.5 ** np.arange(5)] * 2)
        assert run.header.provenance["given"]["importance"] == spec and not run.header.assumed("importance")


def test_orient_uses_the_recorders_layouts():
    from animsup.log.recorder import LAYOUTS, weights_to_kmn

    W = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)  # a history [T, K, m=4, n=5]
    for layout in LAYOUTS:
        stored = {"kmn": W, "knm": W.swapaxes(-1, -2), "mn": W[:, 0], "nm": W[:, 0].swapaxes(-1, -2)}[layout]
        want = W if layout.startswith("k") else W[:, :1]
        np.testing.assert_array_equal(checkpoint.orient(stored, layout, True, {}), want)
        k = 3 if layout.startswith("k") else 1
        np.testing.assert_array_equal(weights_to_kmn(stored[1], layout, k, 4, 5), want[1])
    with pytest.raises(AnimsupError, match="--layout must be one of kmn, knm, mn, nm"):
        checkpoint.orient(W, "kxn", True, {})


def test_a_file_of_numbers_is_read_and_closed(tmp_path, monkeypatch):
    import builtins

    src = tmp_path / "imp.txt"
    src.write_text("1, 0.5\n0.25\n")
    opened = []

    def recording_open(*a, **kw):
        opened.append(builtins.open(*a, **kw))
        return opened[-1]

    monkeypatch.setattr(auto, "open", recording_open, raising=False)
    np.testing.assert_array_equal(auto._vector(str(src), "importance"), [1, 0.5, 0.25])
    assert len(opened) == 2 and all(f.closed for f in opened)  # the sniff and the text read


def test_import_summary_says_1s_unknown_as_inspect_does(tmp_path, capsys):
    """A checkpoint with no 1-S: the import summary, its note and inspect all say "unknown, 1 assumed",
    never "1 written" (finding 15); counts of one are singular ("1 snapshot")."""
    torch = pytest.importorskip("torch")
    ck, out = tmp_path / "ck.pt", str(tmp_path / "ck.jsonl")
    torch.save({"W": torch.from_numpy(pentagon()), "b": torch.zeros(5)}, ck)
    assert main(["import", str(ck), "--out", out]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"{out}: 5 features, 2 hidden, 0 steps, 1 snapshot, 0 losses, 1-S unknown (1 assumed), "
                        "importance unknown (1 assumed), status completed")
    assert any(line.strip().startswith("1-S (feature probability) is not in the file: unknown, 1 assumed")
               for line in lines[1:]), lines
    assert not any("written" in line for line in lines)
    assert main(["inspect", out]) == 0
    report = capsys.readouterr().out
    assert "1-S unknown" in report and "importance unknown (1 assumed)" in report
    # given on the command line: nothing is unknown
    assert main(["import", str(ck), "--out", out, "--force", "--feature-probability", "0.1", "--importance", "0.9"]) == 0
    assert "unknown" not in capsys.readouterr().out
