"""animsup.Recorder, from_arrays and the any-source API (render / summary / describe)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import animsup
from animsup.log.reader import read_log

torch = pytest.importorskip("torch")


def _rec(tmp_path, name="r.jsonl", **kw):
    base = dict(n_features=3, n_hidden=2, n_instances=2)
    base.update(kw)
    return animsup.Recorder(tmp_path / name, **base)


def test_torch_tensors_any_dtype_and_grad_are_converted(tmp_path):
    W = torch.nn.Parameter(torch.arange(12, dtype=torch.float32).reshape(2, 2, 3) / 8)
    b = torch.ones(2, 3, dtype=torch.bfloat16)
    with _rec(tmp_path) as rec:
        rec.snapshot(0, W=W, b=b, loss=torch.tensor([0.5, 0.25], dtype=torch.float16, requires_grad=True))
        rec.loss(1, [0.4, 0.2])
        rec.loss(2, np.array([0.3, 0.1]))
        rec.snapshot(5, W=W.detach().numpy() * 2, b=b.float().numpy(), loss=[0.125, 0.0625], test_loss=[0.2, 0.1])
    run = read_log(tmp_path / "r.jsonl")
    np.testing.assert_array_equal(run.W, np.stack([W.detach().numpy(), W.detach().numpy() * 2]))
    np.testing.assert_array_equal(run.b[0], np.ones((2, 3)))
    np.testing.assert_array_equal(run.loss, np.float32([[0.5, 0.25], [0.125, 0.0625]]))
    np.testing.assert_array_equal(run.loss_steps, [1, 2])
    np.testing.assert_array_equal(run.curves["test_loss"][1], np.float32([[0.2, 0.1]]))
    assert run.status == "completed" and run.end["step"] == 5 and run.loss_scope == "instance"


@pytest.mark.parametrize("layout, shape", [("knm", (2, 3, 2)), ("mn", (2, 3)), ("nm", (3, 2))])
def test_layouts_convert_to_kmn(tmp_path, layout, shape):
    k = 2 if layout == "knm" else 1
    W = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    with _rec(tmp_path, n_instances=k, layout=layout) as rec:
        rec.snapshot(0, W=W, b=np.zeros((k, 3)))
    expected = {"knm": lambda: W.transpose(0, 2, 1), "mn": lambda: W[None], "nm": lambda: W.T[None]}[layout]()
    np.testing.assert_array_equal(read_log(tmp_path / "r.jsonl").W[0], expected)


def test_transposed_W_fails_at_the_first_snapshot_with_a_hint(tmp_path):
    with pytest.raises(ValueError, match=r"got|shape \[2, 3, 2\].*pass layout='knm'"):
        with _rec(tmp_path) as rec:
            rec.snapshot(0, W=np.zeros((2, 3, 2)))
    # the exception escaped the with block: the log ends "failed" and keeps its header
    run = read_log(tmp_path / "r.jsonl", require_snapshots=False)
    assert run.status == "failed"
    with pytest.raises(ValueError, match=r"shape \[2, 3\].*pass layout='mn'"):
        animsup.Recorder(tmp_path / "s.jsonl", n_features=3, n_hidden=2, layout="nm").snapshot(0, W=np.zeros((2, 3)))


@pytest.mark.parametrize("call, message", [
    (lambda r: r.snapshot(0, W=np.full((2, 2, 3), np.nan)), "W at step 0 contains NaN"),
    (lambda r: (r.snapshot(3, W=np.zeros((2, 2, 3))), r.snapshot(3, W=np.zeros((2, 2, 3)))), "steps must increase"),
    (lambda r: r.snapshot(-1, W=np.zeros((2, 2, 3))), "must be >= 0"),
    (lambda r: r.snapshot(1.5, W=np.zeros((2, 2, 3))), "must be an integer"),
    (lambda r: r.snapshot(0, W=np.zeros((2, 2, 3)), b=np.zeros(4)), r"b has shape \[4\]"),
    (lambda r: r.snapshot(0, W=np.zeros((2, 2, 3)), loss=[1.0, 2.0, 3.0]), "has 3 values, expected n_instances=2"),
    (lambda r: r.snapshot(0, W=np.zeros((2, 2, 3)), W_dec=np.zeros((2, 2, 3))), "pass model='untied'"),
    (lambda r: r.snapshot(0, W="abc"), "must be numeric"),
    (lambda r: r.curve("acc", 0, [1, 2, 3]), "expected 1 or n_instances=2"),
])
def test_bad_records_raise_python_errors_when_written(tmp_path, call, message):
    rec = _rec(tmp_path)
    with pytest.raises((ValueError, TypeError), match=message):
        call(rec)
    rec.close()


def test_loss_scope_is_inferred_and_aggregate_is_not_copied(tmp_path):
    with _rec(tmp_path) as rec:
        rec.loss(0, 3.0)  # one number for two instances: aggregate
        rec.snapshot(0, W=np.zeros((2, 2, 3)), loss=2.5)
        with pytest.raises(ValueError, match="has 2 values, expected 1"):
            rec.snapshot(1, W=np.zeros((2, 2, 3)), loss=[1.0, 2.0])
    run = read_log(tmp_path / "r.jsonl")
    assert run.loss_scope == "aggregate" and run.loss.shape == (1, 1) and run.loss_curve.tolist() == [[3.0]]
    with _rec(tmp_path, "n.jsonl") as rec:
        rec.snapshot(0, W=np.zeros((2, 2, 3)))
    none = read_log(tmp_path / "n.jsonl")
    assert none.loss_scope == "none" and none.loss is None and none.header.raw["b_recorded"] is False


def test_existing_file_and_interrupt(tmp_path):
    (tmp_path / "r.jsonl").write_text("precious\n")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        _rec(tmp_path)
    assert (tmp_path / "r.jsonl").read_text() == "precious\n"
    with pytest.raises(KeyboardInterrupt):
        with _rec(tmp_path, overwrite=True) as rec:
            rec.snapshot(0, W=np.zeros((2, 2, 3)))
            raise KeyboardInterrupt
    assert read_log(tmp_path / "r.jsonl").status == "interrupted"


def test_header_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="feature_probability"):
        _rec(tmp_path, feature_probability=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        _rec(tmp_path, feature_probability=0.0)
    with pytest.raises(TypeError, match="JSON types"):
        _rec(tmp_path, config={"f": object()})
    assert not (tmp_path / "r.jsonl").exists()


def test_from_arrays_round_trip_and_save(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 2, 2, 3)).astype(np.float32)
    run = animsup.from_arrays(W, loss=rng.random((4, 2)), steps=[0, 10, 100, 1000], importance=[1, 0.5, 0.25])
    assert run.path == "<memory>" and run.loss_scope == "instance"
    np.testing.assert_array_equal(run.W, W)
    np.testing.assert_array_equal(run.steps, [0, 10, 100, 1000])
    np.testing.assert_array_equal(run.importance, np.float32([[1, 0.5, 0.25]] * 2))
    run.save(tmp_path / "a.jsonl")
    back = read_log(tmp_path / "a.jsonl")
    np.testing.assert_array_equal(back.W, W)
    np.testing.assert_array_equal(back.loss, run.loss)
    with pytest.raises(FileExistsError):
        run.save(tmp_path / "a.jsonl")
    # JAX-style [T, K, n, m] and one aggregate loss per step
    agg = animsup.from_arrays(W.transpose(0, 1, 3, 2), layout="knm", loss=[4.0, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(agg.W, W)
    assert agg.loss_scope == "aggregate" and agg.loss.shape == (4, 1)
    with pytest.raises(ValueError, match="steps must increase"):
        animsup.from_arrays(W, steps=[0, 5, 5, 6])


def test_any_source_api(tmp_path):
    angles = 2 * np.pi * np.arange(5) / 5
    pent = np.stack([np.cos(angles), np.sin(angles)])  # [2, 5]: a regular pentagon
    hist = np.stack([pent * s for s in (0.1, 0.5, 1.0)])[:, None]  # [T, 1, 2, 5]
    assert animsup.describe(pent).shape == "pentagon"
    assert animsup.describe(hist).shape == "pentagon"
    assert animsup.describe(hist, step=0).shape == "not learned"
    s = animsup.summary(hist, loss=[0.3, 0.2, 0.1])
    assert s["instances"][0]["geometry"]["shape"] == "pentagon" and s["instances"][0]["loss"] == pytest.approx(0.1)
    path = animsup.from_arrays(hist, path=tmp_path / "p.jsonl").path
    assert animsup.summary(path)["snapshots"] == 3
    res = animsup.render(hist, tmp_path / "p.png", loss=[0.3, 0.2, 0.1])
    assert os.path.getsize(res.paths[0]) > 1000
    assert animsup.analysis.geometry.describe(pent).shape == "pentagon"  # submodules load on attribute access


def test_facts_not_given_are_recorded_as_assumed(tmp_path):
    with _rec(tmp_path, importance=0.9) as rec:
        rec.snapshot(0, W=np.zeros((2, 2, 3)))
    h = read_log(tmp_path / "r.jsonl").header
    assert h.provenance["assumed"] == {"feature_probability": "not given; 1 written"}
    np.testing.assert_allclose(h.importance, [[1, 0.9, 0.81]] * 2, rtol=1e-6)


def test_render_of_arrays_writes_its_temp_log_once(tmp_path, monkeypatch):
    from animsup.log import writer as runlog

    opened = []
    init = runlog.LogWriter.__init__

    def counting_init(self, path, *a, **kw):
        opened.append(os.fspath(path))
        init(self, path, *a, **kw)

    monkeypatch.setattr(runlog.LogWriter, "__init__", counting_init)
    angles = 2 * np.pi * np.arange(5) / 5
    hist = np.stack([np.stack([np.cos(angles), np.sin(angles)]) * s for s in (0.5, 1.0)])[:, None]  # [T, 1, 2, 5]
    res = animsup.render(hist, tmp_path / "a.png", loss=[0.2, 0.1])
    assert os.path.getsize(res.paths[0]) > 1000
    assert len(opened) == 1, f"the temporary log was written {len(opened)} times: {opened}"
    assert not os.path.exists(opened[0])  # and removed afterwards
    run = animsup.from_arrays(hist, loss=[0.2, 0.1])
    opened.clear()
    animsup.render(run, tmp_path / "b.png")
    assert len(opened) == 1
    with pytest.raises(TypeError, match="loss only apply"):
        animsup.render(run, tmp_path / "c.png", loss=[0.2, 0.1])
