"""The Recorder and the writer refuse up front what the reader would refuse (issue 27): sizes,
header bytes, steps beyond 2**53 - 1, complex numbers. The limits live in animsup.log.schema."""

from __future__ import annotations

import time

import numpy as np
import orjson
import pytest

from animsup.errors import LogFormatError
from animsup.log import reader, schema
from animsup.log.reader import read_log
from animsup.log.recorder import Recorder
from animsup.log.schema import MAX_STEP, make_header
from animsup.log.writer import LogWriter


@pytest.mark.parametrize("n_features", [10**7, 10**9])
def test_sizes_no_reader_accepts_are_refused_at_once(tmp_path, n_features):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="every reader accepts|implausibly large"):
        Recorder(tmp_path / "a.jsonl", n_features=n_features, n_hidden=2)
    assert time.perf_counter() - t0 < 2  # refused before n_features numbers are built
    assert list(tmp_path.iterdir()) == []


def test_recorder_accepts_exactly_the_headers_the_reader_reads(tmp_path, monkeypatch):
    """With the header cap shrunk (the same value for the reader and the schema), every header the
    Recorder accepts reads back, and the Recorder refuses the first one that would not."""
    cap = 1500
    monkeypatch.setattr(schema, "MAX_HEADER_BYTES", cap)
    monkeypatch.setattr(reader, "MAX_HEADER_BYTES", cap)
    refused = None
    for n in range(1, 200):
        path = tmp_path / f"n{n}.jsonl"
        try:
            rec = Recorder(path, n_features=n, n_hidden=1, importance=0.987654321)
        except ValueError as e:
            assert "every reader accepts" in str(e)
            refused = n
            break
        with rec:
            rec.snapshot(0, W=np.ones((1, 1, n)))
        assert read_log(path).W.shape == (1, 1, 1, n)
        assert len(path.read_bytes().split(b"\n")[0]) + 1 <= cap
    assert refused is not None and refused > 5


def test_steps_are_capped_at_2_53_everywhere(tmp_path):
    path = tmp_path / "a.jsonl"
    with Recorder(path, n_features=3, n_hidden=2) as rec:
        rec.snapshot(MAX_STEP - 1, W=np.zeros((1, 2, 3)))
        for step in (MAX_STEP + 1, 2**63):
            with pytest.raises(ValueError, match=r"2\*\*53 - 1"):
                rec.snapshot(step, W=np.zeros((1, 2, 3)))
            with pytest.raises(ValueError, match=r"2\*\*53 - 1"):
                rec.loss(step, 0.5)
        rec.snapshot(MAX_STEP, W=np.zeros((1, 2, 3)))
    run = read_log(path)
    assert [int(s) for s in run.steps] == [MAX_STEP - 1, MAX_STEP]  # exact, not rounded
    assert float(MAX_STEP) == MAX_STEP and float(MAX_STEP + 1) == float(MAX_STEP + 2)  # why 2**53 - 1
    # the writer refuses the same steps (for code that writes without the Recorder) ...
    with LogWriter(tmp_path / "b.jsonl", make_header(n_features=3, n_hidden=2, model="tied", feature_probability=[1.0],
                                                       seed=[0], importance=[1.0] * 3, config={})) as w:
        with pytest.raises(ValueError, match=r"2\*\*53 - 1"):
            w.snapshot(MAX_STEP + 1, [1.0], np.zeros((1, 2, 3)), np.zeros((1, 3)))
        with pytest.raises(ValueError, match=r"2\*\*53 - 1"):
            w.losses(MAX_STEP - 1, 1, np.zeros((3, 1)))
    # ... and the reader refuses a log written by someone else
    lines = path.read_bytes().split(b"\n")
    snap = orjson.loads(lines[1])
    snap["step"] = MAX_STEP + 1
    lines[2] = orjson.dumps(snap)
    (tmp_path / "c.jsonl").write_bytes(b"\n".join(lines[:3]) + b"\n")
    with pytest.raises(LogFormatError, match=r"too large \(more than 2\*\*53 - 1"):
        read_log(tmp_path / "c.jsonl")


@pytest.mark.parametrize("where", ["W", "b", "loss"])
def test_complex_numbers_are_refused_not_cast(tmp_path, where):
    arrays = {"W": np.ones((1, 2, 3)), "b": np.zeros((1, 3)), "loss": np.ones(1)}
    arrays[where] = arrays[where] + 1j
    with Recorder(tmp_path / "a.jsonl", n_features=3, n_hidden=2) as rec:
        with pytest.raises(TypeError, match="complex"):
            rec.snapshot(0, **arrays)
        rec.snapshot(0, W=np.ones((1, 2, 3)))
    assert read_log(tmp_path / "a.jsonl").W.shape == (1, 1, 2, 3)
