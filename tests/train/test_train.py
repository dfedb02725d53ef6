import os
import signal

import numpy as np
import pytest

from animsup.train.config import TrainConfig
from animsup.errors import AnimsupError
from animsup.log.reader import read_log
from animsup.train.loop import resume, snapshot_steps, train


def small(**kw):
    base = dict(n_features=5, n_hidden=2, feature_probability=[1.0, 0.1], seeds=[0, 1], steps=60, batch_size=64,
                lr=0.01, every=10, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("steps, every, n, schedule", [(100, 7, 0, "log"), (10_000, None, 200, "log"),
                                                         (10, None, 50, "log"), (1000, None, 11, "linear"),
                                                         (1, None, 200, "log")])
def test_snapshot_steps(steps, every, n, schedule):
    s = snapshot_steps(steps, every, n or 200, schedule)
    assert s[0] == 0 and s[-1] == steps and np.all(np.diff(s) > 0)
    if every:
        assert np.all(np.diff(s[:-1]) == every)
    elif n <= steps + 1:
        assert len(s) == n
    if schedule == "log" and steps == 10_000:
        assert s[10] == 10 and np.diff(s)[-1] > 100  # dense early, sparse late


def _without_times(path):
    lines = open(path, "rb").read().splitlines()
    import orjson

    out = []
    for line in lines:
        rec = orjson.loads(line)
        rec.pop("started", None)
        rec.pop("wall_seconds", None)
        rec.pop("time", None)
        out.append(rec)
    return out


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_train_writes_a_log_with_the_snapshot_convention(tmp_path, backend):
    cfg = small(backend=backend, loss_every=2)
    res = train(cfg, tmp_path / "a.jsonl")
    assert res.status == "completed" and res.step == 60
    run = read_log(tmp_path / "a.jsonl")
    assert run.status == "completed"
    assert list(run.steps) == list(range(0, 61, 10))
    assert list(run.loss_steps) == list(range(0, 61, 2))
    # snapshot at step s: loss of the params after s updates on batch s == the fine loss at s
    for s, l in zip(run.steps, run.loss):
        np.testing.assert_array_equal(run.loss_curve[run.loss_steps == s][0], l)
    np.testing.assert_array_equal(run.W[-1], res.W)
    assert run.header.config["weight_decay"] == 0.01 and run.header.n_instances == 4
    # schema v2: 1 - S per instance and feature, importance per instance (broadcast by the trainer)
    assert run.header.raw["version"] == 2
    np.testing.assert_array_equal(run.header.feature_probability, np.float32([[1.0] * 5, [1.0] * 5, [0.1] * 5, [0.1] * 5]))
    assert run.importance.shape == (4, 5) and (run.importance == run.importance[0]).all()
    # same arguments -> the same log apart from times
    train(cfg, tmp_path / "b.jsonl")
    assert _without_times(tmp_path / "a.jsonl") == _without_times(tmp_path / "b.jsonl")


def test_torch_and_numpy_exact_backends_follow_the_same_trajectory(tmp_path):
    a = train(small(backend="torch"), tmp_path / "t.jsonl")
    b = train(small(backend="numpy"), tmp_path / "n.jsonl")
    np.testing.assert_allclose(a.W, b.W, atol=2e-5)
    np.testing.assert_allclose(a.final_loss, b.final_loss, rtol=1e-4)


def test_untied_log_has_decoder_and_instance_init_is_independent_of_the_others(tmp_path):
    # (the notebook's init scales with n_instances by design; its per-instance variant does not)
    res = train(small(model="untied", steps=0 + 5, every=5, init="xavier-per-instance"), tmp_path / "u.jsonl")
    run = read_log(tmp_path / "u.jsonl")
    assert run.W_dec is not None and run.W_dec.shape == run.W.shape
    alone = read_log(train(small(model="untied", steps=5, every=5, feature_probability=[0.1], seeds=[1],
                                 init="xavier-per-instance"), tmp_path / "one.jsonl").log_path)
    np.testing.assert_array_equal(alone.W[0, 0], run.W[0, 3])  # seed 1's init, whatever else is in the run
    assert res.status == "completed"


def test_refuses_to_overwrite_without_force(tmp_path):
    train(small(steps=2, every=1), tmp_path / "a.jsonl")
    with pytest.raises(AnimsupError, match="--force"):
        train(small(steps=2, every=1), tmp_path / "a.jsonl")
    assert train(small(steps=3, every=1), tmp_path / "a.jsonl", force=True).step == 3


def test_diverged_run_stops_without_writing_non_finite_values(tmp_path):
    res = train(small(optimizer="sgd", lr=1e6, steps=200, every=20), tmp_path / "d.jsonl")
    assert res.status == "diverged"
    run = read_log(tmp_path / "d.jsonl")  # the reader rejects NaN: the log must be clean
    assert run.status == "diverged" and run.end["step"] == res.step
    assert np.isfinite(run.W).all() and np.isfinite(run.loss_curve).all()
    assert run.steps[-1] <= res.step


def test_interrupt_then_resume_equals_uninterrupted(tmp_path):
    cfg = small(steps=120, every=10, loss_every=3)
    train(cfg, tmp_path / "full.jsonl")

    sent = []

    def interrupt_at_45(step, total, **_):
        if step >= 45 and not sent:
            sent.append(step)
            os.kill(os.getpid(), signal.SIGINT)

    part = train(cfg, tmp_path / "part.jsonl", progress=interrupt_at_45, checkpoint_seconds=0)
    assert part.status == "interrupted" and 45 <= part.step < 120
    assert read_log(tmp_path / "part.jsonl").status == "interrupted"
    res = resume(tmp_path / "part.jsonl")
    assert res.status == "completed" and res.step == 120
    a, b = read_log(tmp_path / "full.jsonl"), read_log(tmp_path / "part.jsonl")
    np.testing.assert_array_equal(a.W[-1], b.W[-1])
    np.testing.assert_array_equal(a.loss[-1], b.loss[-1])
    np.testing.assert_array_equal(a.loss_steps, b.loss_steps)
    np.testing.assert_array_equal(a.loss_curve, b.loss_curve)
    common = np.isin(b.steps, a.steps)
    np.testing.assert_array_equal(a.W, b.W[common])


def test_sparse_sampler_run_resumes_identically_with_another_thread_count(tmp_path, monkeypatch):
    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 15)  # several blocks: threads have work
    """The sparse CPU path (one generator per block) checkpoints every block's stream; the thread
    count changes neither the run nor its resumption."""
    cfg = small(n_features=32, feature_probability=[0.05], seeds=[0, 1, 2], batch_size=1024, steps=30, every=5)
    full = train(cfg, tmp_path / "full.jsonl")
    train(cfg.replace(steps=15, threads=2), tmp_path / "part.jsonl")
    res = resume(tmp_path / "part.jsonl", steps=30, threads=1)
    assert res.status == "completed"
    a, b = read_log(tmp_path / "full.jsonl"), read_log(tmp_path / "part.jsonl")
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.loss_curve, b.loss_curve)
    assert full.status == "completed"


def test_resume_without_checkpoint_replays_and_extends_a_completed_run(tmp_path):
    full = train(small(steps=80, every=10), tmp_path / "full.jsonl")
    short = train(small(steps=40, every=10, checkpoint=False), tmp_path / "short.jsonl")
    assert short.status == "completed" and not os.path.exists(tmp_path / "short.jsonl.ckpt")
    with pytest.raises(AnimsupError, match="--steps"):
        resume(tmp_path / "short.jsonl")
    res = resume(tmp_path / "short.jsonl", steps=80)
    assert res.step == 80
    a, b = read_log(tmp_path / "full.jsonl"), read_log(tmp_path / "short.jsonl")
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.W, b.W)
    assert full.status == "completed"


def test_geometry_outcome_orthogonal_pair_and_pentagon(tmp_path):
    """The paper's intro figure at a size that runs in about a second: n=5, m=2, importance 0.9^i.
    Dense features (1-S = 1): exactly 2 features, orthogonal. Sparse (1-S = 0.05): a pentagon."""
    cfg = TrainConfig(n_features=5, n_hidden=2, feature_probability=[1.0, 0.05], seeds=[0, 1, 2, 3], importance=0.9,
                      steps=3000, batch_size=256, lr=0.01, every=3000, device="cpu", checkpoint=False)
    # (lr 0.01: with per-instance data streams (issue 22) seed 0 at 1-S = 1 still had a third feature
    # at 0.66 after 3000 steps at lr 0.005; every instance settles by 3000 steps at 0.01)
    res = train(cfg, tmp_path / "g.jsonl")
    norms = np.linalg.norm(res.W, axis=1)  # [instance, feature]
    for i in range(4):  # dense: exactly two features, at right angles, with norm ~1; the rest off
        on = np.flatnonzero(norms[i] > 0.5)
        assert len(on) == 2 and np.all(norms[i, on] > 0.8), norms[i]
        cos = res.W[i, :, on[0]] @ res.W[i, :, on[1]] / (norms[i, on[0]] * norms[i, on[1]])
        assert abs(cos) < 0.1
    best = 4 + int(np.argmin(res.final_loss[4:]))
    assert np.all((norms[best] > 1.0) & (norms[best] < 1.25)), norms[best]
    angles = np.sort(np.degrees(np.arctan2(res.W[best, 1], res.W[best, 0])) % 360)
    gaps = np.diff(np.r_[angles, angles[0] + 360])
    assert np.all(np.abs(gaps - 72) < 8), gaps


class _FullDisk:
    """A log file that accepts `room` more bytes, writes what fits, then fails like a full disk."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, data):
        import errno

        if len(data) > self.room:
            self.f.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def fileno(self):
        return self.f.fileno()

    def close(self):
        self.f.close()


def test_full_disk_stops_with_a_clear_error_and_a_readable_log(tmp_path, monkeypatch):
    import warnings

    import animsup.log.writer as runlog

    real_init = runlog.LogWriter.__init__

    def init(self, *a, **kw):
        real_init(self, *a, **kw)
        self._f = _FullDisk(self._f, 20_000)

    monkeypatch.setattr(runlog.LogWriter, "__init__", init)
    with pytest.raises(AnimsupError) as e:
        train(small(steps=2000, every=5), tmp_path / "full.jsonl", checkpoint_seconds=0)
    msg = str(e.value)
    assert "No space left on device" in msg and "--resume" in msg and "\n" not in msg
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the writer cut the failed line back: no truncation warning
        run = read_log(tmp_path / "full.jsonl")
    assert run.end is None and len(run.steps) > 1
    # after freeing space the run resumes and completes
    res = resume(tmp_path / "full.jsonl", steps=300)
    assert res.status == "completed" and read_log(tmp_path / "full.jsonl").steps[-1] == 300


def test_a_checkpoint_of_an_older_version_is_refused_in_one_line_and_left_alone(tmp_path):
    """Version 1 checkpoints hold a data stream this animsup no longer draws: resuming from one would
    silently train on other batches, so it is refused, and the message says how to go on."""
    import json as _json

    cfg = small(steps=40, every=10)
    train(cfg.replace(steps=20), tmp_path / "r.jsonl")
    ckpt = tmp_path / "r.jsonl.ckpt"
    with np.load(ckpt, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = _json.loads(str(arrays.pop("meta")))
    meta["version"] = 1
    with open(ckpt, "wb") as f:  # (a path would get ".npz" appended)
        np.savez(f, meta=np.asarray(_json.dumps(meta)), **arrays)
    before = ckpt.read_bytes()
    with pytest.raises(AnimsupError, match="checkpoint version 1") as e:
        resume(tmp_path / "r.jsonl", steps=40)
    assert "\n" not in str(e.value) and "move it away" in str(e.value)
    assert ckpt.read_bytes() == before
    os.replace(ckpt, tmp_path / "old.ckpt")  # as the message says: the log alone replays from step 0
    assert resume(tmp_path / "r.jsonl", steps=40).status == "completed"
