"""The run-log reader and writer: golden files, round trips, and the writer's guarantees."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from animsup.log import fastpath, reader, schema
from animsup.errors import AnimsupError, LogFormatError, LogWarning
from animsup.log.reader import open_log, read_header, read_log
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter

GOLDEN = Path(__file__).parents[1] / "data" / "golden"


def _header(n_features=3, n_hidden=2, fp=(1.0, 0.25), model="tied"):
    return make_header(
        n_features=n_features,
        n_hidden=n_hidden,
        model=model,
        feature_probability=list(fp),
        seed=list(range(len(fp))),
        importance=[0.9**i for i in range(n_features)],
        config={"steps": 10},
    )


def _write_log(path, steps=(0, 1, 2), seed=0, end="completed", **kw):
    """A small random log; returns the arrays written (W: [T, k, m, n])."""
    h = _header(**kw)
    k, m, n = h["n_instances"], h["n_hidden"], h["n_features"]
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(len(steps), k, m, n)).astype(np.float32)
    b = rng.normal(size=(len(steps), k, n)).astype(np.float32)
    loss = rng.random(size=(len(steps), k)).astype(np.float32)
    with LogWriter(path, h) as w:
        for t, s in enumerate(steps):
            w.snapshot(s, loss[t], W[t], b[t])
        if end:
            w.end(end, steps[-1], 1.25)
    return W, b, loss


# --------------------------------------------------------------------------- golden files


HAND_TIED_W = np.array(
    [
        [[[0.5, 0.0, -0.5], [0.0, 0.5, 0.25]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]],
        [[[0.75, 0.0, -0.75], [0.0, 0.75, 0.5]], [[1.0, 0.0, -1.0], [0.5, 1.0, 0.0]]],
        [[[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]], [[1.5, 0.0, -1.5], [1.0, 1.5, 0.0]]],
    ],
    dtype=np.float32,
)


@pytest.mark.parametrize("name", ["hand_tied_v1.jsonl", "hand_tied_v1.jsonl.gz"])
def test_golden_hand_tied(name):
    run = read_log(GOLDEN / name)
    h = run.header
    assert (h.n_features, h.n_hidden, h.n_instances, h.model) == (3, 2, 2, "tied")
    # a v1 log, migrated to v2: 1 - S broadcast to every feature, importance to every instance
    np.testing.assert_array_equal(h.feature_probability, np.float32([[1.0, 1.0, 1.0], [0.25, 0.25, 0.25]]))
    np.testing.assert_array_equal(h.importance, np.float32([[1.0, 0.5, 0.25], [1.0, 0.5, 0.25]]))
    assert (h.loss_scope, h.data, h.stages, h.curves) == ("instance", {"kind": "uniform"}, None, ())
    assert h.seed == (0, 1)
    assert h.config["steps"] == 6
    np.testing.assert_array_equal(run.steps, [0, 2, 6])
    np.testing.assert_array_equal(run.W, HAND_TIED_W)
    np.testing.assert_array_equal(
        run.b, np.float32([[[0, 0, 0], [0.125, 0, -0.125]], [[-0.0625, 0, 0], [0.25, 0, -0.25]], [[-0.125, 0, 0], [0.375, 0, -0.375]]])
    )
    np.testing.assert_array_equal(run.loss, np.float32([[2.0, 1.5], [1.0, 0.75], [0.25, 0.125]]))
    # loss records: step 0 (every 1), steps 1-2 (every 1), steps 4, 6 (every 2)
    np.testing.assert_array_equal(run.loss_steps, [0, 1, 2, 4, 6])
    np.testing.assert_array_equal(run.loss_curve, np.float32([[2.0, 1.5], [1.75, 1.25], [1.0, 0.75], [0.5, 0.25], [0.25, 0.125]]))
    assert run.W_dec is None
    assert run.status == "completed" and run.end["step"] == 6
    assert run.W.dtype == np.float32 and run.steps.dtype == np.int64


def test_golden_hand_untied_without_loss_records():
    run = read_log(GOLDEN / "hand_untied_v1.jsonl")
    assert run.header.has_decoder
    np.testing.assert_array_equal(run.W, np.float32([[[[1.0, -1.0]]], [[[2.0, -0.5]]]]))
    np.testing.assert_array_equal(run.W_dec, np.float32([[[[0.5, 0.5]]], [[[0.25, -0.25]]]]))
    # no loss records: the loss curve is the snapshot losses
    np.testing.assert_array_equal(run.loss_steps, [0, 3])
    np.testing.assert_array_equal(run.loss_curve, np.float32([[0.5], [0.25]]))
    assert run.status == "interrupted"


def _stdlib_oracle(path):
    """Parse a log with the stdlib json module, independently of animsup.log."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    snaps = [r for r in recs if r["type"] == "snapshot"]
    return recs[0], snaps, [r for r in recs if r["type"] == "loss"]


def test_golden_trained_matches_stdlib_oracle():
    """A tiny log written by the real trainer, read back exactly (committed once train existed)."""
    paths = sorted(GOLDEN.glob("trained_*.jsonl"))
    if not paths:
        pytest.skip("no trainer-made golden log committed yet")
    for path in paths:
        header, snaps, losses = _stdlib_oracle(path)
        run = read_log(path)
        assert run.header.n_features == header["n_features"] and run.header.model == header["model"]
        np.testing.assert_array_equal(run.steps, [s["step"] for s in snaps])
        np.testing.assert_array_equal(run.W, np.array([s["W"] for s in snaps], dtype=np.float32))
        np.testing.assert_array_equal(run.b, np.array([s["b"] for s in snaps], dtype=np.float32))
        np.testing.assert_array_equal(run.loss, np.array([s["loss"] for s in snaps], dtype=np.float32))
        if losses:
            steps = np.concatenate([r["step"] + r.get("every", 1) * np.arange(len(r["loss"])) for r in losses])
            np.testing.assert_array_equal(run.loss_steps, steps)
            np.testing.assert_array_equal(run.loss_curve, np.concatenate([np.float32(r["loss"]) for r in losses]))
        assert run.status in schema.END_STATUSES


# --------------------------------------------------------------------------- round trips


def test_round_trip_exact_float32(tmp_path):
    W, b, loss = _write_log(tmp_path / "a.jsonl", steps=(0, 5, 17))
    run = read_log(tmp_path / "a.jsonl")
    np.testing.assert_array_equal(run.W, W)
    np.testing.assert_array_equal(run.b, b)
    np.testing.assert_array_equal(run.loss, loss)
    np.testing.assert_array_equal(run.steps, [0, 5, 17])
    assert run.end["wall_seconds"] == 1.25


def test_instance_selection_and_streaming(tmp_path):
    W, b, loss = _write_log(tmp_path / "a.jsonl", fp=(1.0, 0.5, 0.1))
    run = read_log(tmp_path / "a.jsonl", instances=[2, 0])
    np.testing.assert_array_equal(run.W, W[:, [2, 0]])
    np.testing.assert_array_equal(run.loss_curve, loss[:, [2, 0]])
    assert run.instances == (2, 0)
    with open_log(tmp_path / "a.jsonl", instances=[1]) as r:
        got = [(s.step, s.W) for s in r.snapshots()]
        assert r.end["status"] == "completed"
    assert [s for s, _ in got] == [0, 1, 2]
    for t, (_, w) in enumerate(got):
        np.testing.assert_array_equal(w, W[t, [1]])


@pytest.mark.parametrize("bad", [[3], [-1], [True], ["0"], []])
def test_bad_instance_selection(tmp_path, bad):
    _write_log(tmp_path / "a.jsonl", fp=(1.0, 0.5, 0.1))
    with pytest.raises(AnimsupError, match="instance|no instance"):
        read_log(tmp_path / "a.jsonl", instances=bad)


def test_read_header_reads_one_line(tmp_path):
    _write_log(tmp_path / "a.jsonl")
    with open(tmp_path / "a.jsonl", "ab") as f:
        f.write(b"garbage that a full read would reject\n")
    assert read_header(tmp_path / "a.jsonl").n_hidden == 2
    with pytest.raises(LogFormatError, match=":6: not valid JSON"):
        read_log(tmp_path / "a.jsonl")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(AnimsupError, match="no such file"):
        read_log(tmp_path / "nope.jsonl")
    with pytest.raises(AnimsupError, match="is a folder"):
        read_log(tmp_path)


def test_reading_a_log_while_it_is_written(tmp_path):
    """A reader sees every whole line and drops the half-written last one with a warning."""
    p = tmp_path / "live.jsonl"
    h = _header()
    w = LogWriter(p, h)
    try:
        w.snapshot(0, [1.0, 1.0], np.zeros((2, 2, 3)), np.zeros((2, 3)))
        w._f.write(b'{"type": "snapshot", "step": 1, "loss": [0.5')  # mid-write
        with pytest.warns(LogWarning, match=r"live.jsonl:3: last line is incomplete"):
            run = read_log(p)
        assert list(run.steps) == [0] and run.status == "unfinished"
    finally:
        w.close()


def test_long_lines_are_refused_not_loaded(tmp_path, monkeypatch):
    p = tmp_path / "a.jsonl"
    _write_log(p)
    with open(p, "ab") as f:  # a valid record that is very long
        f.write(b'{"type": "note", "pad": "' + b"x" * 200_000 + b'"}\n')
    assert len(read_log(p).steps) == 3  # within the default limit: fine
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 100_000)
    with pytest.raises(LogFormatError, match=r":6: line is longer than 100000 bytes"):
        read_log(p)
    monkeypatch.setattr(reader, "MAX_HEADER_BYTES", 50)
    with pytest.raises(LogFormatError, match=r":1: line is longer than 50 bytes"):
        read_header(p)


def test_migration_hook_is_applied(tmp_path, monkeypatch):
    """A version bump adds one function to _MIGRATIONS; reading an old log runs it."""
    p = tmp_path / "v2.jsonl"
    W, _, _ = _write_log(p)

    def v2_to_v3(rec):
        rec = dict(rec)
        if rec.get("type") == "snapshot":
            rec["W"] = (np.asarray(rec["W"]) * 2).tolist()
        return rec

    monkeypatch.setattr(schema, "VERSION", 3)
    monkeypatch.setitem(schema._MIGRATIONS, 2, v2_to_v3)
    with open_log(p) as r:
        assert r.version == 2
    np.testing.assert_array_equal(read_log(p).W, W * 2)


def test_float_array_rules():
    def bad(msg):
        return LogFormatError("x", 1, msg)

    ok = schema._float_array([[1, 2.5]], (1, 2), "W", bad)
    assert ok.dtype == np.float32 and ok.tolist() == [[1.0, 2.5]]
    for value, match in [
        ([[1, None]], "NaN, infinity or null"),
        ([[1, 1e300]], "too large for float32"),
        ([[1, "2"]], "not a numeric array"),
        ([[True, False]], "not a numeric array"),
        ("12", "must be a numeric array"),
        ({"a": 1}, "must be a numeric array"),
        ([[1, 2, 3]], "has shape"),
        ([[1], [2, 3]], "not a numeric array"),
    ]:
        with pytest.raises(LogFormatError, match=match):
            schema._float_array(value, (1, 2), "W", bad)


# --------------------------------------------------------------------------- the writer


def test_writer_refuses_existing_and_second_writer(tmp_path):
    p = tmp_path / "a.jsonl"
    _write_log(p)
    before = p.read_bytes()
    with pytest.raises(AnimsupError, match="already exists.*--force"):
        LogWriter(p, _header())
    assert p.read_bytes() == before
    # force replaces a finished log once the new one has a snapshot (tests/log/test_log_replace.py) ...
    with LogWriter(p, _header(), force=True) as w:
        w.snapshot(0, [1, 1], np.zeros((2, 2, 3)), np.zeros((2, 3)))
    assert p.read_bytes().count(b"\n") == 2
    # ... but never one that another writer holds open
    w = LogWriter(tmp_path / "b.jsonl", _header())
    try:
        for kw in ({}, {"force": True}, {"append": True}):
            with pytest.raises(AnimsupError, match="being written by another animsup process"):
                LogWriter(tmp_path / "b.jsonl", _header(), **kw)
        w.snapshot(0, [1, 1], np.zeros((2, 2, 3)), np.zeros((2, 3)))
    finally:
        w.close()
    assert len(read_log(tmp_path / "b.jsonl").steps) == 1


def test_writer_bad_targets(tmp_path):
    with pytest.raises(AnimsupError, match="does not exist"):
        LogWriter(tmp_path / "no" / "a.jsonl", _header())
    with pytest.raises(AnimsupError, match="is a folder"):
        LogWriter(tmp_path, _header())


def test_failed_write_leaves_whole_lines(tmp_path):
    """A write that fails part-way (disk full) is cut back: the log stays valid."""
    p = tmp_path / "a.jsonl"
    w = LogWriter(p, _header())
    w.snapshot(0, [1, 1], np.ones((2, 2, 3)), np.zeros((2, 3)))
    real = w._f

    class HalfThenFull:
        def __init__(self):
            self.calls = 0

        def write(self, data):
            self.calls += 1
            if self.calls == 1:
                return real.write(bytes(data[: len(data) // 2]))
            raise OSError(28, "No space left on device")

        def fileno(self):
            return real.fileno()

        def close(self):
            real.close()

    w._f = HalfThenFull()
    with pytest.raises(AnimsupError, match="cannot write log: No space left on device"):
        w.snapshot(1, [1, 1], np.ones((2, 2, 3)), np.zeros((2, 3)))
    w._f = real
    w.end("interrupted", 0, 0.1)  # writing resumes cleanly after the error
    w.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = read_log(p)
    assert list(run.steps) == [0] and run.status == "interrupted"


def test_interrupted_write_is_rolled_back(tmp_path):
    p = tmp_path / "a.jsonl"
    w = LogWriter(p, _header())
    real = w._f

    class Interrupted:
        def write(self, data):
            real.write(bytes(data[:10]))
            raise KeyboardInterrupt

        def fileno(self):
            return real.fileno()

    w._f = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        w.snapshot(0, [1, 1], np.ones((2, 2, 3)), np.zeros((2, 3)))
    w._f = real
    w.end("interrupted", 0, 0.1)
    w.close()
    assert read_log(p, require_snapshots=False).status == "interrupted"


def test_append_drops_partial_last_line(tmp_path):
    p = tmp_path / "a.jsonl"
    W, b, loss = _write_log(p, end=None)
    with open(p, "ab") as f:
        f.write(b'{"type": "snapshot", "st')  # killed mid-line
    with LogWriter(p, None, append=True) as w:
        w.write({"type": "resume", "step": 2})
        w.snapshot(3, loss[0], W[0], b[0])
        w.end("completed", 3, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no truncated line left
        run = read_log(p)
    assert list(run.steps) == [0, 1, 2, 3] and run.status == "completed"


def test_header_write_failure_leaves_no_file(tmp_path, monkeypatch):
    def full(self, record):
        raise AnimsupError("disk full")

    monkeypatch.setattr(LogWriter, "write", full)
    with pytest.raises(AnimsupError, match="disk full"):
        LogWriter(tmp_path / "a.jsonl", _header())
    assert not (tmp_path / "a.jsonl").exists()


def test_writer_never_writes_nan_as_a_valid_number(tmp_path):
    """orjson writes NaN as null; the reader refuses it (the trainer must not write it)."""
    p = tmp_path / "a.jsonl"
    with LogWriter(p, _header()) as w:
        w.snapshot(0, [np.nan, 1], np.zeros((2, 2, 3)), np.zeros((2, 3)))
    assert b'"loss":[null,1.0]' in p.read_bytes()
    with pytest.raises(LogFormatError, match=r":2: 'loss' contains NaN"):
        read_log(p)


def test_log_format_error_fields():
    e = LogFormatError("logs/x.jsonl", 17, "bad")
    assert str(e) == "logs/x.jsonl:17: bad" and e.line == 17 and e.reason == "bad" and e.exit_code == 2
    assert str(LogFormatError("x", None, "empty")) == "x: empty"


def test_append_keeps_a_whole_last_record_without_newline(tmp_path):
    p = tmp_path / "a.jsonl"
    W, b, loss = _write_log(p, end=None)
    p.write_bytes(p.read_bytes().rstrip(b"\n"))  # e.g. a hand-edited file
    assert list(read_log(p).steps) == [0, 1, 2]  # a whole record: read, no warning
    with LogWriter(p, None, append=True) as w:
        w.snapshot(3, loss[0], W[0], b[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(read_log(p).steps) == [0, 1, 2, 3]


# --------------------------------------------------------------------------- the reader's fast path
# The reader converts plain records with struct (fastpath._float32_leaves + _float32_packer, and a
# byte-skeleton check for short lines) and hands everything else to the strict path
# (_parse_snapshot / _parse_loss / _float_array). These tests pin that the two agree.


def _strict_items(path, instances=None):
    """Every snapshot and loss record of ``path`` through the strict path only."""
    out = []
    with open_log(path, instances) as r:
        for line, rec in r.records():
            if rec.get("type") == "snapshot":
                s = r._parse_snapshot(rec, line)
                out.append(("snapshot", line, (s.step, s.loss, s.W, s.b, s.W_dec)))
            elif rec.get("type") == "loss":
                steps, loss = r._parse_loss(rec, line)
                if len(steps):
                    out.append(("loss", line, (steps, loss if r._sel is None else loss[:, r._sel])))
    return out


def _fast_items(path, instances=None):
    with open_log(path, instances) as r:
        return [
            (kind, line, (item.step, item.loss, item.W, item.b, item.W_dec) if kind == "snapshot" else item)
            for kind, line, item in r.iter_all()
        ]


def _assert_same_items(a, b):
    assert [(kind, line) for kind, line, _ in a] == [(kind, line) for kind, line, _ in b]
    for (_, _, x), (_, _, y) in zip(a, b):
        for u, v in zip(x, y):
            if isinstance(u, np.ndarray):
                assert u.dtype == v.dtype and u.shape == v.shape
                assert u.tobytes() == v.tobytes()  # bit for bit (-0.0, rounding)
            else:
                assert u == v


def _golden_and_random(tmp_path):
    paths = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".jsonl", ".gz"))
    rng = np.random.default_rng(7)
    for i, (n, m, k, model) in enumerate([(5, 2, 1, "tied"), (3, 2, 2, "untied"), (32, 2, 16, "tied"), (40, 3, 5, "untied")]):
        p = tmp_path / f"rand{i}.jsonl"
        with LogWriter(p, _header(n_features=n, n_hidden=m, fp=[0.5] * k, model=model)) as w:
            for t in range(4):
                # wide dynamic range: tiny, huge (near float32 max), negative zero
                scale = 10.0 ** rng.integers(-40, 38, size=(k, m, n))
                W = (rng.normal(size=(k, m, n)) * scale).astype(np.float32)
                W[0, 0, -1] = -0.0
                w.losses(10 * t + 1, 3, rng.random((3, k)).astype(np.float32))
                w.snapshot(10 * t + 10, rng.random(k), W, rng.normal(size=(k, n)), W[:, ::-1] if model == "untied" else None)
            w.end("completed", 40, 1.0)
        paths.append(p)
    return paths


def test_fast_and_strict_paths_agree(tmp_path):
    for path in _golden_and_random(tmp_path):
        _assert_same_items(_fast_items(path), _strict_items(path))
        h = read_header(path)
        sel = [h.n_instances - 1, 0]
        _assert_same_items(_fast_items(path, sel), _strict_items(path, sel))


def test_fast_path_is_taken_for_writer_lines(tmp_path, monkeypatch):
    """Writer lines never need the strict path (else the fast path would be dead code)."""
    def refuse(*args):
        raise AssertionError("strict path used")

    monkeypatch.setattr(reader.LogReader, "_parse_snapshot", refuse)
    monkeypatch.setattr(reader.LogReader, "_parse_loss", refuse)
    for path in _golden_and_random(tmp_path)[-4:]:
        for skeleton_max in (fastpath._SKELETON_MAX_NUMBERS, 0):  # with and without the skeleton check
            monkeypatch.setattr(fastpath, "_SKELETON_MAX_NUMBERS", skeleton_max)
            assert len(read_log(path).steps) == 4


def test_skeleton_and_level_checks_agree_on_reformatted_lines(tmp_path, monkeypatch):
    """Whitespace, key order and extra keys defeat the skeleton check, not the reading."""
    W, b, loss = _write_log(tmp_path / "a.jsonl", fp=(1.0, 0.5))
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines()
    recs = [json.loads(x) for x in lines]
    variants = [
        b"\n".join(json.dumps(r).encode() for r in recs),  # spaces after , and :
        b"\n".join(json.dumps(dict(reversed(list(r.items())))).encode() for r in recs),  # keys reversed
        b"\n".join(json.dumps({**r, "note": "x"} if r["type"] == "snapshot" else r).encode() for r in recs),
    ]
    for i, content in enumerate(variants):
        p = tmp_path / f"v{i}.jsonl"
        p.write_bytes(content + b"\n")
        for skeleton_max in (512, 0):
            monkeypatch.setattr(fastpath, "_SKELETON_MAX_NUMBERS", skeleton_max)
            run = read_log(p)
            np.testing.assert_array_equal(run.W, W)
            np.testing.assert_array_equal(run.b, b)
            np.testing.assert_array_equal(run.loss, loss)


BAD = Path(__file__).parents[1] / "data" / "bad"
BAD_CASES = [c for c in json.loads((BAD / "cases.json").read_text()) if c["outcome"] == "error"]


def _stream_snapshots(path):
    with open_log(path) as r:
        return list(r.snapshots())


@pytest.mark.parametrize("mode", ["no-skeleton", "strict-only"])
def test_corpus_messages_do_not_depend_on_the_path(mode, monkeypatch):
    """Every broken-log case raises the same error at the same line whichever path reads it."""
    if mode == "no-skeleton":
        monkeypatch.setattr(fastpath, "_SKELETON_MAX_NUMBERS", 0)
    else:
        def refuse(count):
            def pack(*args):
                raise fastpath.struct.error("refused")

            return pack

        monkeypatch.setattr(fastpath, "_float32_packer", refuse)
    for case in BAD_CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LogWarning)
            for read in (read_log, _stream_snapshots):
                if read is _stream_snapshots and case["file"] in ("header_only.jsonl", "header_only_no_newline.jsonl"):
                    continue  # "no snapshots" is read_log's (and the commands') complaint, not the stream's
                with pytest.raises(LogFormatError) as info:
                    read(BAD / case["file"])
                assert case["message"] in info.value.reason and info.value.line == case["line"], (case, str(info.value))


def _nested(draw_leaf, shape, rng):
    if not shape:
        return draw_leaf()
    return [_nested(draw_leaf, shape[1:], rng) for _ in range(shape[0])]


def test_fast_conversion_accepts_only_what_the_strict_one_accepts():
    """Random arrays of mixed leaves: when the fast path accepts, the strict path gives the
    same float32 array; when the strict path refuses, the fast path refuses too."""
    rng = np.random.default_rng(3)
    leaves = [0.5, -0.0, 1e-45, 1e-300, 3.4028234663852886e38, 3.4028235677973366e38, 3.4028235677973362e38,
              -1e39, 1e300, 7, 0, -(2**63), 2**64 - 1, 2**53 + 1, True, False, None, "1.5", "", [1.0], {}, [], {"a": 1.0}]

    def bad(msg):
        return LogFormatError("x", 1, msg)

    accepted = 0
    for trial in range(3000):
        shape = tuple(int(s) for s in rng.integers(1, 4, size=rng.integers(1, 4)))
        pool = leaves if trial % 3 == 0 else [0.25, -1.5, 2.0, 7, True, None, 1e39]
        p_float = rng.random()

        def leaf():
            return float(rng.normal()) if rng.random() < p_float else pool[rng.integers(len(pool))]

        value = _nested(leaf, shape, rng)
        if rng.random() < 0.2:  # ragged or wrongly nested
            value = value + [value[0]] if rng.random() < 0.5 else [value]
        if rng.random() < 0.1:
            value[0] = 2.0  # a float first leaf with the rest mixed
        rec = {"v": value}
        fast_leaves = fastpath._float32_leaves(rec, [("v", shape)])
        fast = None
        if fast_leaves is not None:
            out = np.empty(shape, np.float32)
            try:
                fastpath._float32_packer(len(fast_leaves))(out, 0, *fast_leaves)
                fast = out
            except fastpath._PACK_ERRORS:
                pass
        try:
            strict = schema._float_array(value, shape, "v", bad)
        except LogFormatError:
            strict = None
        if fast is not None:
            accepted += 1
            assert strict is not None, value
            assert strict.dtype == fast.dtype and strict.shape == fast.shape
            assert strict.tobytes() == fast.tobytes(), value  # bit for bit (-0.0, rounding)
    assert accepted > 300


def test_steps_beyond_int64_are_errors_not_crashes(tmp_path):
    for kind, match in [("snapshot", "too large"), ("loss", "more than 2\\*\\*53 - 1")]:
        p = tmp_path / f"{kind}.jsonl"
        _write_log(p)
        recs = [json.loads(x) for x in p.read_bytes().splitlines()]
        if kind == "loss":
            recs.insert(1, {"type": "loss", "step": 2**63 - 2, "every": 1, "loss": [[0.5, 0.5]] * 3})
        else:
            recs[1]["step"] = 2**63
        p.write_text("".join(json.dumps(r) + "\n" for r in recs))
        with pytest.raises(LogFormatError, match=f":2: .*{match}"):
            read_log(p)


# --------------------------------------------------------------------------- schema v2


def test_golden_v2_every_header_field_and_curves():
    run = read_log(GOLDEN / "hand_tied_v2.jsonl")
    h = run.header
    assert schema.VERSION == 2 and h.raw["version"] == 2
    np.testing.assert_array_equal(run.feature_probability, np.float32([[0.5, 0.25, 0.125], [1, 1, 1]]))
    np.testing.assert_array_equal(run.importance, np.float32([[1, 0.5, 0.25], [1, 1, 1]]))
    assert (run.model, run.data, run.loss_scope) == ("tied", {"kind": "presence_value"}, "instance")
    assert (h.model_label, h.model_formula, h.curves) == ("ReLU output model", "ReLU(WᵀWx+b)", ("test_loss", "lr"))
    assert [s["start_step"] for s in run.stages] == [0, 2] and h.seed == (7, None)
    # instance 0's probability varies across features: no single 1 - S, and the label says so
    assert np.isnan(h.instance_probability[0]) and h.instance_probability[1] == 1.0
    assert h.instance_label(0) == "1-S=0.125..0.5 seed=7" and h.instance_label(1) == "1-S=1 seed=unknown"
    np.testing.assert_array_equal(run.loss_steps, [0, 2, 4])
    np.testing.assert_array_equal(run.loss_curve, np.float32([[2, 1.5], [1, 0.75], [0.25, 0.125]]))
    steps, values = run.curves["test_loss"]
    np.testing.assert_array_equal(steps, [0, 4])
    np.testing.assert_array_equal(values, np.float32([[2.5, 1.75], [0.5, 0.25]]))
    np.testing.assert_array_equal(run.curves["lr"][1], np.float32([[0.001], [0.0005]]))
    # instance selection applies to per-instance curves, not to one-value ones
    sub = read_log(GOLDEN / "hand_tied_v2.jsonl", instances=[1])
    np.testing.assert_array_equal(sub.curves["test_loss"][1], np.float32([[1.75], [0.25]]))
    np.testing.assert_array_equal(sub.curves["lr"][1], np.float32([[0.001], [0.0005]]))
    np.testing.assert_array_equal(sub.importance, np.float32([[1, 1, 1]]))


def test_golden_v2_aggregate_loss_is_one_column_never_copied_per_instance():
    run = read_log(GOLDEN / "hand_aggregate_v2.jsonl", instances=[1])
    assert run.loss_scope == "aggregate" and run.header.provenance["inferred"] == {"layout": "knm"}
    np.testing.assert_array_equal(run.loss, np.float32([[3.5], [2.0]]))
    np.testing.assert_array_equal(run.loss_curve, np.float32([[3.5], [3.0], [2.0]]))
    np.testing.assert_array_equal(run.loss_curve_of(0), np.float32([3.5, 3.0, 2.0]))
    assert run.status == "unfinished"


def test_golden_v2_without_loss():
    run = read_log(GOLDEN / "hand_noloss_v2.jsonl")
    assert run.loss is None and run.loss_curve.shape == (0, 2) and len(run.loss_steps) == 0
    assert run.W_dec is not None and run.status == "failed"
    assert run.data == {"kind": "uniform", "normalise": "l2"}
    with open_log(GOLDEN / "hand_noloss_v2.jsonl") as r:
        (snap,) = list(r.snapshots())
    assert snap.loss is None and snap.step == 1000


def test_v1_migration_is_one_function_on_the_header():
    with open(GOLDEN / "hand_tied_v1.jsonl", "rb") as f:
        v1 = json.loads(f.readline())
    v2 = schema._MIGRATIONS[1](v1)
    assert v1["version"] == 1 and v2["version"] == 2  # the input is not modified
    assert v2["importance"] == [v1["importance"]] * 2
    assert v2["feature_probability"] == [[1.0] * 3, [0.25] * 3]
    assert (v2["loss_scope"], v2["data"]) == ("instance", {"kind": "uniform"})
    snap = {"type": "snapshot", "step": 0, "loss": [1.0], "W": [[[1.0]]], "b": [[0.0]]}
    assert schema._MIGRATIONS[1](snap) is snap
    schema.parse_header(v2)


def test_v2_round_trip_through_the_writer(tmp_path):
    p = tmp_path / "agg.jsonl"
    h = make_header(n_features=3, n_hidden=2, model="neuron", feature_probability=[[0.1, 0.2, 0.3]], seed=[None],
                    importance=[[1, 0.5, 0.0]], config={}, loss_scope="aggregate", curves=["accuracy"],
                    data={"kind": "exactly_k", "k": 1})
    W = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    with LogWriter(p, h) as w:
        w.losses(0, 1, [[1.5], [1.25]])
        w.snapshot(1, 1.25, W, np.zeros((1, 3)))
        w.curve("accuracy", 1, [0.5])
        w.end("failed", 1, 0.1)
    run = read_log(p)
    assert run.model == "neuron" and run.data["k"] == 1 and run.status == "failed"
    np.testing.assert_array_equal(run.loss, np.float32([[1.25]]))
    np.testing.assert_array_equal(run.W, W[None])
    np.testing.assert_array_equal(run.curves["accuracy"][1], np.float32([[0.5]]))
    np.testing.assert_array_equal(run.feature_probability, np.float32([[0.1, 0.2, 0.3]]))


@pytest.mark.parametrize("changes, message", [
    ({"loss_scope": "sum"}, "'loss_scope' must be one of"),
    ({"data": {"kind": "gaussian"}}, "unknown kind 'gaussian'"),
    ({"data": []}, "'data' must be an object"),
    ({"importance": [[1.0, -0.5, 0.25], [1.0, 1.0, 1.0]]}, "'importance' must be >= 0"),
    ({"feature_probability": [[0.5, 0.0, 0.1], [1.0, 1.0, 1.0]]}, "must lie in (0, 1]"),
    ({"feature_probability": [0.5, 1.0]}, "has shape [2], the header says [2, 3]"),
    ({"stages": [{"start_step": -1}]}, "'stages' must be a list"),
    ({"curves": ["ok", 3]}, "'curves' must be a list of names"),
    ({"model_label": 5}, "'model_label' must be a string"),
    ({"model": "mlp"}, "must be one of tied, untied, linear, neuron, custom"),
])
def test_v2_header_errors(tmp_path, changes, message):
    with open(GOLDEN / "hand_tied_v2.jsonl", "rb") as f:
        lines = f.read().splitlines(keepends=True)
    rec = json.loads(lines[0])
    rec.update(changes)
    p = tmp_path / "bad.jsonl"
    p.write_bytes(json.dumps(rec).encode() + b"\n" + b"".join(lines[1:]))
    with pytest.raises(LogFormatError, match=":1: .*" + __import__("re").escape(message)):
        read_log(p)


@pytest.mark.parametrize("line, message", [
    ({"type": "loss", "step": 9, "every": 1, "loss": [[1.0]]}, "loss_scope 'none'"),
    ({"type": "curve", "name": "", "step": 9, "values": [1.0]}, "'name' must be a non-empty string"),
    ({"type": "curve", "name": "a", "step": -1, "values": [1.0]}, "'step' must be a non-negative integer"),
    ({"type": "curve", "name": "a", "step": 9, "values": [1.0, 2.0, 3.0]}, "has shape [3], the header says [2]"),
    ({"type": "curve", "name": "a", "step": 9, "values": [None]}, "NaN, infinity or null"),
])
def test_v2_record_errors(tmp_path, line, message):
    src = (GOLDEN / "hand_noloss_v2.jsonl").read_bytes().splitlines(keepends=True)
    p = tmp_path / "bad.jsonl"
    p.write_bytes(src[0] + json.dumps(line).encode() + b"\n")
    with pytest.raises(LogFormatError, match=":2: .*" + __import__("re").escape(message)):
        read_log(p, require_snapshots=False)


def test_v2_curve_steps_increase_and_keep_their_width(tmp_path):
    src = (GOLDEN / "hand_noloss_v2.jsonl").read_bytes().splitlines(keepends=True)
    for second, message in [({"step": 1, "values": [1.0]}, "does not increase"), ({"step": 5, "values": [1.0, 2.0]}, "changes width")]:
        p = tmp_path / "bad.jsonl"
        recs = [{"type": "curve", "name": "a", "step": 1, "values": [1.0]}, {"type": "curve", "name": "a", **second}]
        p.write_bytes(src[0] + b"".join(json.dumps(r).encode() + b"\n" for r in recs))
        with pytest.raises(LogFormatError, match=":3: .*" + message):
            read_log(p, require_snapshots=False)


def test_aggregate_snapshot_loss_strict_and_fast_paths_agree(tmp_path):
    src = (GOLDEN / "hand_aggregate_v2.jsonl").read_bytes().splitlines(keepends=True)
    snap = json.loads(src[2])
    for value, ok in [(3, True), ([2.5], True), ("1", False), (None, False), (1e300, False), ([1.0, 2.0], False)]:
        p = tmp_path / "x.jsonl"
        p.write_bytes(src[0] + json.dumps({**snap, "loss": value}).encode() + b"\n")
        if ok:
            assert read_log(p).loss.tolist() == [[float(np.reshape(value, -1)[0])]]
        else:
            with pytest.raises(LogFormatError, match=":2: .*'loss'"):
                read_log(p)


def test_make_header_broadcasts_and_refuses_wrong_shapes():
    h = make_header(n_features=2, n_hidden=1, model="tied", feature_probability=[0.1, 0.2], seed=[0, 1],
                    importance=[1.0, 0.5], config={})
    assert h["feature_probability"] == [[0.1, 0.1], [0.2, 0.2]] and h["importance"] == [[1.0, 0.5]] * 2
    assert h["version"] == 2 and h["loss_scope"] == "instance" and h["data"] == {"kind": "uniform"}
    with pytest.raises(ValueError, match="one entry per feature"):
        make_header(n_features=2, n_hidden=1, model="tied", feature_probability=0.1, seed=[0], importance=[1, 2, 3], config={})
    with pytest.raises(ValueError, match="model must be one of"):
        make_header(n_features=2, n_hidden=1, model="mlp", feature_probability=0.1, seed=[0], importance=1, config={})


def test_v1_migration_of_an_implausibly_large_header_allocates_nothing():
    """header_huge_sizes (1e9 features) is refused by the size check, not after the migration
    broadcast 1 - S to 2e9 list entries (it did: 16 GB)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LogFormatError, match="implausibly large"):
        read_log(Path(__file__).parents[1] / "data" / "bad" / "header_huge_sizes.jsonl")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_a_reader_refused_for_its_instances_closes_its_file(tmp_path, monkeypatch, write_pentagon):
    # the caller gets no reader to close, so an unclosed file would only be found by the garbage
    # collector (a ResourceWarning in whichever later test happens to trigger it)
    log = tmp_path / "p.jsonl"
    write_pentagon(log, k=2)
    opened = []
    real = reader._open_maybe_gzip
    monkeypatch.setattr(reader, "_open_maybe_gzip", lambda path: opened.append(real(path)) or opened[-1])
    for bad in ([5], [-1], [], ["0"]):
        with pytest.raises(AnimsupError):
            open_log(log, bad)
    with pytest.raises(AnimsupError):
        read_log(log, [2])
    assert len(opened) == 5 and all(f.closed for f in opened)
    with open_log(log, [1]) as r:  # a good selection still reads
        assert r.instances == (1,) and not opened[-1].closed
    assert opened[-1].closed
