"""Issue 21, at the door: other people's files are imported as they state them (losses in any
column type, steps, config reprs, per-checkpoint losses), or refused with a line that says what
the file is; Lightning checkpoints, W1/W2 and W_in/W_out pairs, d3 HTML histories and folders of
checkpoints are recognised. Fixtures: tests/importers/foreign.py (built in tmp_path)."""

from __future__ import annotations

import ast
import pickle
import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.importers import auto
from animsup.log.reader import read_log

from foreign import LFS_POINTER, M, N, aisf_runs, d3_page, dumps, pentagon

torch = pytest.importorskip("torch")


def _import(tmp_path, *paths, **options):
    out = tmp_path / "out.jsonl"
    res = auto.convert([str(p) for p in paths], out, force=True, **options)
    return read_log(out), res


# -------------------------------------------------------------------- losses, steps, reprs as the file states them


@pytest.mark.parametrize("loss_as", ["python floats", "0-d tensors"])
def test_aisf_object_dtype_loss_columns_are_kept_and_string_columns_said(tmp_path, loss_as):
    """The aisf pickle's logs DataFrame holds its loss as an object column: kept as the loss
    curve (pickled without pandas, read without pandas, nothing run); the string column is named
    in a note."""
    make = list if loss_as == "python floats" else (lambda v: [torch.tensor(x) for x in v])
    src = tmp_path / "runs.pkl"
    src.write_bytes(dumps(aisf_runs(make)))
    run, res = _import(tmp_path, src)
    assert run.header.n_instances == 2 and run.steps.tolist() == [0, 1, 10, 100]
    np.testing.assert_array_equal(run.loss_steps, [1, 10, 100])
    np.testing.assert_allclose(run.loss_curve, [[0.3 / (i + 1) + 0.01 * r for r in range(2)] for i in range(3)], rtol=1e-6)
    assert any("not numbers" in n and "note" in n for n in res.notes)


def test_aisf_logs_as_a_dict_of_columns(tmp_path):
    runs = aisf_runs(list)
    for r in runs:
        r["logs"] = {"step": [1, 10, 100], "loss": [torch.tensor(0.3), 0.2, 0.1], "note": ["a", "b", "c"]}
    src = tmp_path / "runs.pkl"
    src.write_bytes(dumps(runs))
    run, res = _import(tmp_path, src)
    np.testing.assert_allclose(run.loss_curve[:, 1], [0.3, 0.2, 0.1], rtol=1e-6)
    assert "logs columns that are not numbers, not imported: note" in res.notes


def test_aisf_frame_pickled_by_pandas_itself(tmp_path):
    """The same with a DataFrame pickled by pandas (when installed): a string column before the
    column index is not taken for the column names."""
    pd = pytest.importorskip("pandas")
    runs = aisf_runs(list, n_runs=1)
    runs[0]["logs"] = pd.DataFrame({"step": [1, 10, 100], "loss": np.asarray([0.3, 0.15, 0.1], dtype=object),
                                    "note": ["a", "b", "c"], "acc": [torch.tensor(0.5), 0.6, 0.7]})
    src = tmp_path / "runs.pkl"
    src.write_bytes(pickle.dumps(runs))
    run, _ = _import(tmp_path, src)
    np.testing.assert_allclose(run.loss_curve[:, 0], [0.3, 0.15, 0.1])
    assert set(run.curves) == {"acc"}


def test_a_single_run_dict_is_one_run(tmp_path):
    src = tmp_path / "run.pkl"
    src.write_bytes(dumps(aisf_runs(list, n_runs=1)[0]))
    run, _ = _import(tmp_path, src)
    assert run.header.n_instances == 1 and run.W.shape == (4, 1, M, N)
    with pytest.raises(AnimsupError, match="--run 1: the file holds a single run"):
        _import(tmp_path, src, run=1)


def test_config_reprs_are_numbers(tmp_path):
    """A JAX port writes its config with str(): 1-S, importance and seed as Array([...]) reprs."""
    from safetensors.numpy import save_file

    W = np.stack([pentagon(), pentagon(0.5)]).transpose(0, 2, 1).astype(np.float32)  # [K, n, m]
    cfg = ("Config(n_instances=2, n_features=5, n_hidden=2, feature_probability=Array([0.1 , 0.05], dtype=float32), "
           "importance=Array([1.    , 0.9   , 0.81  , 0.729 , 0.6561], dtype=float32), seed=Array(7, dtype=int32))")
    save_file({"w": W}, str(tmp_path / "jax.safetensors"), metadata={"config": cfg})
    run, _ = _import(tmp_path, tmp_path / "jax.safetensors")
    np.testing.assert_allclose(run.header.instance_probability, [0.1, 0.05], rtol=1e-6)
    np.testing.assert_allclose(run.importance, [0.9 ** np.arange(5)] * 2, rtol=1e-5)
    assert run.header.seed == (7, 7)
    assert not run.header.assumed("importance") and not run.header.assumed("feature_probability")


def test_directory_of_training_checkpoints_keeps_each_files_step_and_loss(tmp_path):
    """torch.save({"step", "model_state_dict", "optimizer_state_dict", "loss"}) per checkpoint:
    the per-file scalar losses are the loss curve, the steps those the files state."""
    folder = tmp_path / "ckpts"
    folder.mkdir()
    for i, (step, loss) in enumerate([(0, 0.5), (50, 0.2), (400, 0.05)]):
        W = torch.from_numpy(pentagon(0.4 + 0.3 * i))
        torch.save({"step": step, "model_state_dict": OrderedDict([("W", W), ("b_final", torch.zeros(N))]),
                    "optimizer_state_dict": {"state": {0: {"exp_avg": torch.ones(2, 5)}}, "param_groups": [{"lr": 1e-3}]},
                    "loss": loss}, folder / f"model_step_{i}.pt")  # the name's number is not the step
    run, res = _import(tmp_path, folder)
    assert run.steps.tolist() == [0, 50, 400]
    assert run.loss_scope == "instance" and run.loss[:, 0].tolist() == pytest.approx([0.5, 0.2, 0.05])
    assert res.loss_points == 3 and any("differ from the numbers in their names" in n for n in res.notes)
    assert any("optimizer_state_dict" in n for n in res.notes)  # training state: said, not read as weights


# -------------------------------------------------------------------- 2-D arrays that are not W


def test_lightning_rnn_autoencoder_encoder_is_w_decoder_is_w_dec(tmp_path):
    """An RNN auto-encoder's Lightning checkpoint: rnn.weight_ih_l0 [4, 7] is the encoder (W),
    ffn.0.weight [7, 4] the decoder (W_dec); global_step is the step; the recurrent weights are
    named as left out; callback scores and their paths are never read."""
    g = np.random.default_rng(0)
    enc, dec = g.normal(size=(4, 7)), g.normal(size=(7, 4))
    sd = OrderedDict([("rnn.weight_ih_l0", enc), ("rnn.weight_hh_l0", g.normal(size=(4, 4))), ("rnn.bias_ih_l0", np.zeros(4)),
                      ("rnn.bias_hh_l0", np.zeros(4)), ("ffn.0.weight", dec), ("ffn.0.bias", np.arange(7.0) / 10)])
    ckpt = {"epoch": 9, "global_step": 5495, "pytorch-lightning_version": "2.2.0",
            "state_dict": OrderedDict((f"model.{k}", torch.from_numpy(v)) for k, v in sd.items()),
            "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.01),
                                                                      "best_k_models": {"/home/someone/epoch=9.ckpt": torch.tensor(0.01)}}},
            "optimizer_states": [{"state": {0: {"exp_avg": torch.ones(4, 7)}}}], "lr_schedulers": [],
            "hyper_parameters": {"n_features": 7, "feature_probability": 0.1, "lr": 1e-3}}
    torch.save(ckpt, tmp_path / "last.ckpt")
    run, res = _import(tmp_path, tmp_path / "last.ckpt", model_label="RNN auto-encoder", model_formula="W_dec ReLU(W x)")
    assert run.steps.tolist() == [5495] and run.model == "untied"
    np.testing.assert_allclose(run.W[0, 0], enc, rtol=1e-6)  # [m, n]: hidden 4, features 7
    np.testing.assert_allclose(run.W_dec[0, 0], dec.T, rtol=1e-6)
    np.testing.assert_allclose(run.b[0, 0], np.arange(7) / 10, rtol=1e-6)
    np.testing.assert_allclose(run.feature_probability, 0.1, rtol=1e-6)
    assert (run.header.model_label, run.header.model_formula) == ("RNN auto-encoder", "W_dec ReLU(W x)")
    left = next(n for n in res.notes if n.startswith("not imported"))
    assert "model.rnn.weight_hh_l0 [4, 4]" in left and "/home" not in " ".join(res.notes)
    from animsup import models

    assert models.title(run.model, run.header.model_label, run.header.model_formula) == "RNN auto-encoder W_dec ReLU(W x)"


@pytest.mark.parametrize("enc,dec", [("W1", "W2"), ("W_in", "W_out"), ("W_enc", "W_dec"),
                                     ("encoder.weight", "decoder.weight"), ("layers.0.weight", "layers.2.weight")])
def test_encoder_decoder_pairs(tmp_path, enc, dec):
    W, D = pentagon(), pentagon(0.5, 0.2)
    np.savez(tmp_path / "pair.npz", **{enc: W.T, dec: D, "b2": np.ones(N)})  # W_in [n, m] (x @ W_in), W_out [m, n]
    run, _ = _import(tmp_path, tmp_path / "pair.npz")
    assert run.model == "untied"
    np.testing.assert_allclose(run.W[0, 0], W)
    np.testing.assert_allclose(run.W_dec[0, 0], D)
    assert run.header.provenance["inferred"]["w_key"] == enc


def test_loss_grid_npy_is_not_taken_for_weights(tmp_path):
    """A phase-diagram script's loss grid (non-negative, [20, 10]): refused with what it looks
    like; --w W imports it anyway."""
    grid = np.abs(np.random.default_rng(1).normal(size=(20, 10)))
    np.save(tmp_path / "grid.npy", grid)
    with pytest.raises(AnimsupError, match=r"no negative value: it looks like a grid .* pass --w W"):
        _import(tmp_path, tmp_path / "grid.npy")
    run, res = _import(tmp_path, tmp_path / "grid.npy", w="W")
    assert run.W.shape == (1, 1, 10, 20) and any("one unnamed array [20, 10]" in n for n in res.notes)


def test_lone_decoder_is_never_w(tmp_path):
    np.savez(tmp_path / "dec.npz", **{"decoder.weight": pentagon().T})
    with pytest.raises(AnimsupError, match=r"no array named like a weight matrix.*decoder\.weight \[5, 2\]; pass --w KEY"):
        _import(tmp_path, tmp_path / "dec.npz")


# -------------------------------------------------------------------- errors that say what the file is


def test_errors_say_what_the_file_is(tmp_path, capsys):
    (tmp_path / "model.safetensors").write_bytes(LFS_POINTER)
    np.savez(tmp_path / "curves.npz", loss=np.linspace(1, 0.1, 100), test_loss=np.linspace(1, 0.2, 100))
    torch.save({"W_a": torch.ones(2, 5), "W_b": -torch.ones(2, 5), "score": torch.tensor(0.3),
                "callbacks": {"/home/someone/ckpt": torch.ones(2, 5)}}, tmp_path / "two.pt")
    out = str(tmp_path / "x.jsonl")
    for src, want in [("model.safetensors", "a Git LFS pointer, not the file of 1,048,576 bytes: fetch it with `git lfs pull`"),
                      ("curves.npz", "curves only (loss [100], test_loss [100]: one axis each), no weight matrix"),
                      ("two.pt", "several arrays could be the weight matrix W: W_a [2, 5], W_b [2, 5]; pass --w KEY")]:
        assert main(["import", str(tmp_path / src), "--out", out]) == 2
        err = capsys.readouterr().err.strip()
        assert want in err and "\n" not in err, err
        assert "/home" not in err and "score" not in err


def _parser_options() -> set[str]:
    import argparse

    from animsup.cli import import_

    sub = argparse.ArgumentParser().add_subparsers()
    return {o for a in import_.add_parser(sub)._actions for o in a.option_strings}


def test_every_option_an_importer_message_suggests_exists():
    """Every `--option` in an error, a note or a provenance text of the importers exists in
    `animsup import`'s parser (an old message suggested --no-b, which never existed)."""
    root = Path(__file__).parents[2] / "animsup"
    files = sorted((root / "importers").glob("*.py")) + [root / "cli" / "import_.py"]
    known = _parser_options() | {"--out"}
    found: dict[str, str] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.replace("animsup export --to", "")  # another command's option, in docstrings
                for opt in re.findall(r"(?<![\w-])--[a-z][a-z-]*", text):
                    found.setdefault(opt, f.name)
    assert {"--w", "--w-dec", "--b", "--layout", "--folders"} <= set(found)  # the scan sees the messages
    unknown = {o: f for o, f in found.items() if o not in known}
    assert not unknown, unknown


# -------------------------------------------------------------------- more of what users have


def test_d3_html_history_like_arenas(tmp_path):
    """The page animate_features_in_2d writes: its data repr read as text (the script never runs),
    steps from `var steps`, a row of decoder plots as W_dec."""
    T, K = 3, 2
    enc = np.stack([[pentagon(0.5 + 0.2 * t, 0.3 * k) for k in range(K)] for t in range(T)])  # [T, K, 2, n]
    dec = 0.5 * enc
    page = tmp_path / "history.html"
    page.write_text(d3_page(np.concatenate([enc, dec], axis=1), steps=[0, 500, 999],
                            subtitles=["Encoder weights"] * K + ["Decoder weights"] * K), encoding="utf-8")
    run, res = _import(tmp_path, page, feature_probability="0.1")
    assert run.steps.tolist() == [0, 500, 999] and run.model == "untied" and run.header.n_instances == K
    np.testing.assert_allclose(run.W, enc, atol=5e-5)  # the page rounds to 4 decimals
    np.testing.assert_allclose(run.W_dec, dec, atol=5e-5)
    assert any("rounded to 4 decimals" in n for n in res.notes)
    one = tmp_path / "one.html"
    one.write_text(d3_page(enc[:, :1]), encoding="utf-8")  # no steps, one plot
    run1, _ = _import(tmp_path, one)
    assert run1.steps.tolist() == [0, 1, 2] and run1.model == "tied"
    from animsup.rendering.video import render

    png = tmp_path / "h.png"
    render(str(tmp_path / "out.jsonl"), str(png), instance=0, size="320x180")
    assert png.stat().st_size > 1000


def test_other_html_is_refused(tmp_path):
    (tmp_path / "page.html").write_text("<!DOCTYPE html><html><body>hello</body></html>")
    with pytest.raises(AnimsupError, match="not a d3 weight history"):
        _import(tmp_path, tmp_path / "page.html")


def _sparsity_folders(root: Path, restart: bool) -> None:
    for j, s in enumerate(("0.9", "0.99")):
        (root / f"s_{s}").mkdir(parents=True)
        for i, step in enumerate((0, 100)):
            step = step if restart else step + 1000 * j
            torch.save({"W": torch.from_numpy(pentagon(0.5 + 0.2 * i + j)), "loss": 0.1 * (2 - i) + j},
                       root / f"s_{s}" / f"model_step_{step}.pt")


def test_folders_of_checkpoints_as_instances(tmp_path):
    _sparsity_folders(tmp_path / "runs", restart=True)
    run, res = _import(tmp_path, tmp_path / "runs")
    assert run.header.n_instances == 2 and run.steps.tolist() == [0, 100]
    np.testing.assert_allclose(run.header.instance_probability, [0.1, 0.01], rtol=1e-5)
    np.testing.assert_allclose(run.W[1, 1], pentagon(1.7), rtol=1e-6)
    np.testing.assert_allclose(run.loss, [[0.2, 1.2], [0.1, 1.1]], rtol=1e-6)
    assert any("s_0.9: S = 0.9, 1 - S = 0.1" in n for n in res.notes)
    assert any("--folders stages" in n for n in res.notes)


@pytest.mark.parametrize("restart", [True, False])
def test_folders_of_checkpoints_as_stages(tmp_path, restart):
    _sparsity_folders(tmp_path / "runs", restart=restart)
    run, res = _import(tmp_path, tmp_path / "runs", folders="stages")
    assert run.header.n_instances == 1 and len(run.steps) == 4
    start = 101 if restart else 1000
    assert run.steps.tolist() == ([0, 100, 101, 201] if restart else [0, 100, 1000, 1100])
    stages = run.header.stages
    assert [s["start_step"] for s in stages] == [0, start]
    np.testing.assert_allclose([s["feature_probability"][0][0] for s in stages], [0.1, 0.01], rtol=1e-6)
    np.testing.assert_allclose(run.W[2, 0], pentagon(1.5), rtol=1e-6)
    assert any("stages of one run" in n for n in res.notes)


def test_new_options_reach_the_cli(tmp_path, capsys):
    _sparsity_folders(tmp_path / "runs", restart=True)
    out = tmp_path / "x.jsonl"
    assert main(["import", str(tmp_path / "runs"), "--out", str(out), "--folders", "stages",
                 "--model-label", "staged TMS", "--model-formula", "ReLU(WᵀWx+b)"]) == 0
    said = capsys.readouterr().out
    assert "stages of one run" in said and "1 - S read from the folder names" in said
    h = read_log(out).header
    assert h.model_label == "staged TMS" and h.provenance["given"]["model_label"] == "staged TMS"
    assert main(["import", str(tmp_path / "runs" / "s_0.9"), "--out", str(out), "--force", "--folders", "stages"]) == 2
    assert "is not a folder of folders" in capsys.readouterr().err


def test_lstm_gates_are_not_one_w(tmp_path):
    torch.save({"lstm.weight_ih_l0": torch.ones(16, 7), "lstm.weight_hh_l0": torch.ones(16, 4),
                "ffn.0.weight": torch.ones(7, 4)}, tmp_path / "lstm.pt")
    with pytest.raises(AnimsupError, match=r"stacks 4 gates .* hidden size 4: not one weight matrix"):
        _import(tmp_path, tmp_path / "lstm.pt")


def test_lightning_folder_is_ordered_by_global_step(tmp_path):
    """Lightning names its files epoch=E-step=S.ckpt and last.ckpt: the global_step each states
    orders them; last.ckpt beside the final checkpoint is the same step twice, said."""
    folder = tmp_path / "lightning"
    folder.mkdir()

    def save(name, step, scale):
        torch.save({"global_step": step, "epoch": 0, "state_dict": {"model.W1": torch.from_numpy(pentagon(scale)),
                                                                    "model.W2": torch.from_numpy(pentagon(scale).T / 2)}},
                   folder / name)

    save("best.ckpt", 300, 1.0)
    save("early.ckpt", 20, 0.5)
    run, _ = _import(tmp_path, folder)
    assert run.steps.tolist() == [20, 300] and run.model == "untied"
    np.testing.assert_allclose(run.W[:, 0], [pentagon(0.5), pentagon(1.0)])
    save("last.ckpt", 300, 1.0)
    with pytest.raises(AnimsupError, match=r"two files state the same step 300 \(best.ckpt, last.ckpt\)"):
        _import(tmp_path, folder)
    for f in folder.iterdir():
        f.unlink()
    torch.save({"W": torch.ones(2, 5)}, folder / "a.pt")
    torch.save({"W": torch.ones(2, 5)}, folder / "b.pt")
    with pytest.raises(AnimsupError, match="no step number in the file name, and the file states no step"):
        _import(tmp_path, folder)


def test_a_history_with_its_steps_array(tmp_path):
    W = np.stack([[pentagon(0.2 * (t + 1))] for t in range(3)])  # [T, K, m, n]
    np.savez(tmp_path / "h.npz", W=W, steps=np.array([0, 10, 1000]), loss=np.array([[0.3], [0.2], [0.1]]))
    run, _ = _import(tmp_path, tmp_path / "h.npz")
    assert run.steps.tolist() == [0, 10, 1000] and run.loss_steps.tolist() == [0, 10, 1000]


def test_every_error_in_the_docs_is_one_the_importers_raise():
    """docs/importing.md's error table quotes messages the code has: the first three words of each
    row's longest stretch without a placeholder are in the importers' source."""
    root = Path(__file__).parents[2]
    doc = (root / "docs" / "importing.md").read_text(encoding="utf-8")
    table = doc.split("## What each error means", 1)[1]
    source = "".join(p.read_text(encoding="utf-8") for p in sorted((root / "animsup" / "importers").glob("*.py")))
    rows = re.findall(r"^\| `+(.+?)`+ \|", table, re.MULTILINE)
    assert len(rows) >= 15
    for row in rows:
        pieces = re.split(r"PATH|NAME|\bN\b|KEY|\bI\b|\.\.\.|[\[\]()']|\b\d", re.sub(r"^--[\w-]+ '\w+': ", "", row))
        words = max((p.strip(" :;,").split() for p in pieces), key=len)  # the longest stretch without a placeholder
        assert len(words) >= 3 and " ".join(words[:3]) in source, row


def test_malformed_d3_pages_are_one_line_errors(tmp_path):
    good = d3_page(np.stack([[pentagon()], [pentagon(0.5)]]), steps=[0, 10])
    for bad, want in [(good.replace("const datapoints = 5;", "const datapoints = 6;"), "has 5 points, the page says 6"),
                      (good.replace("const timestep = 2;", "const timestep = 3;"), "misses frames or plots"),
                      (good.replace("'timestep': 1,", "'timestep': 7,"), "a record of frame 7"),
                      (good.replace("const plots = 1;", "const plots = 1000000000;"), "memory"),
                      (good.replace("const data = [", "const data = ("), "not a d3 weight history")]:
        (tmp_path / "p.html").write_text(bad, encoding="utf-8")
        with pytest.raises(AnimsupError, match=re.escape(want) if want != "memory" else "more than the .* of memory available"):
            _import(tmp_path, tmp_path / "p.html")


def test_arrow_string_buffers_decode_without_pyarrow():
    """pandas >= 3 with pyarrow installed pickles a string Index as an Arrow large_string array
    (offsets + UTF-8 bytes in py_buffer(bytearray)): the column names are read from the raw
    buffers; anything inconsistent is not taken for names."""
    from animsup.importers.safe_pickle import Inert, arrow_strings

    def arr(alias, offsets, text, nulls=0, offset=0, width="<i8"):
        buffers = [None, Inert("pyarrow.lib", "py_buffer", (bytearray(np.asarray(offsets, dtype=width).tobytes()),)),
                   Inert("pyarrow.lib", "py_buffer", (bytearray(text),))]
        kind = Inert("pyarrow.lib", "type_for_alias", (alias,))
        return Inert("pyarrow.lib", "_restore_array", ((kind, len(offsets) - 1 - offset, nulls, offset, buffers, [], None),))

    assert arrow_strings(arr("large_string", [0, 4, 8, 11], "steplossacc".encode())) == ["step", "loss", "acc"]
    assert arrow_strings(arr("string", [0, 2, 6], "é√x".encode(), width="<i4")) == ["é", "√x"]  # byte offsets, UTF-8
    assert arrow_strings(arr("string", [0, 1, 3], b"abc", width="<i4")) == ["a", "bc"]
    assert arrow_strings(arr("large_string", [0, 4, 8, 11], b"steplossacc", offset=1)) == ["loss", "acc"]
    assert arrow_strings(arr("large_string", [0, 4, 99], b"steploss")) is None       # past the data
    assert arrow_strings(arr("large_string", [0, 4, 2], b"steploss")) is None        # offsets go back
    assert arrow_strings(arr("large_string", [0, 4, 8], b"steploss", nulls=1)) is None
    assert arrow_strings(arr("int64", [0, 4, 8], b"steploss")) is None
    assert arrow_strings(Inert("pyarrow.lib", "_restore_array", (("x",),))) is None


def test_a_frame_pickled_with_pyarrow_strings_imports(tmp_path):
    """The same frame as above pickled by pandas with pyarrow installed (when both are)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    runs = aisf_runs(list, n_runs=1)
    runs[0]["logs"] = pd.DataFrame({"step": [1, 10, 100], "loss": [0.3, 0.15, 0.1], "note": ["a", "b", "c"]},
                                   columns=pd.Index(["step", "loss", "note"], dtype="string[pyarrow]"))
    src = tmp_path / "runs.pkl"
    src.write_bytes(pickle.dumps(runs))
    assert b"_restore_array" in src.read_bytes()  # the Arrow layout really is what is read
    run, _ = _import(tmp_path, src)
    np.testing.assert_allclose(run.loss_curve[:, 0], [0.3, 0.15, 0.1])
