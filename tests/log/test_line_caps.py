"""Per-line byte caps derived from the header's sizes (issue 27): a small gzip log cannot make the
reader parse hundreds of megabytes of numbers for a record that cannot need them."""

from __future__ import annotations

import gzip

import numpy as np
import orjson
import pytest

from animsup.errors import LogFormatError
from animsup.log import schema
from animsup.log.reader import LogReader, read_log
from animsup.log.writer import LogWriter

HEADER = {"type": "header", "schema": "animsup.log", "version": 1, "n_instances": 2, "n_hidden": 2, "n_features": 3, "model": "tied",
          "feature_probability": [[0.1] * 3] * 2, "importance": [[1, 1, 1], [1, 1, 1]], "seed": [0, 1]}


def _snapshot(step):
    return {"type": "snapshot", "step": step, "W": np.zeros((2, 2, 3)).tolist(), "b": np.zeros((2, 3)).tolist(),
            "loss": [0.5, 0.5]}


def _log(path, *middle, gz=False):
    lines = [orjson.dumps(HEADER), orjson.dumps(_snapshot(0)), *middle, orjson.dumps(_snapshot(1))]
    data = b"".join(x + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_unknown_record_of_millions_of_numbers_in_a_small_gzip_is_refused(tmp_path):
    huge = b'{"type":"note","values":[' + b"0," * 4_000_000 + b'0]}'  # 8 MB of text, 4 M numbers
    log = _log(tmp_path / "x.jsonl.gz", huge, gz=True)
    assert log.stat().st_size < 100_000
    with pytest.raises(LogFormatError, match=r"x.jsonl.gz:3: line of 8000029 bytes, more than a record of an unknown "
                                             r"type can need for this header's sizes \(1048576 bytes\)"):
        read_log(log)


def test_type_key_anywhere_in_the_line_is_found(tmp_path):
    huge = b'{"values":[' + b"0," * 1_000_000 + b'0], "type" : "note"}'
    with pytest.raises(LogFormatError, match="more than a record of an unknown type can need"):
        read_log(_log(tmp_path / "x.jsonl", huge))


def test_snapshot_line_cap_follows_the_header():
    h = schema.parse_header(dict(HEADER, n_features=1000, n_hidden=20, importance=[[1] * 1000] * 2,
                                    feature_probability=[[0.1] * 1000] * 2), "x", 1)
    caps = schema.line_caps(h)
    assert caps["snapshot"] == 40 * (2 * 20 * 1000 + 2 * 1000 + 2) + (1 << 20)
    untied = schema.line_caps(schema.parse_header(dict(HEADER, model="untied"), "x", 1))
    assert untied["snapshot"] - schema.LINE_SLACK == 40 * (2 * 2 * 2 * 3 + 2 * 3 + 2)
    assert caps["curve"] == 40 * 2 + (1 << 20) and caps["other"] == 1 << 20


def test_an_oversized_snapshot_line_is_refused_but_a_long_valid_one_reads(tmp_path):
    # n = 30,000: a real snapshot line is ~1.3 MB, over LINE_SLACK but within its cap
    n = 30_000
    hdr = dict(HEADER, n_features=n, importance=[[1.0] * n] * 2, feature_probability=[[0.1] * n] * 2)
    W = np.random.default_rng(0).normal(size=(2, 2, n)).astype(np.float32)
    path = tmp_path / "wide.jsonl"
    with LogWriter(path, hdr) as w:
        w.snapshot(0, [0.5, 0.5], W, np.zeros((2, n)))
    assert path.stat().st_size > schema.LINE_SLACK
    np.testing.assert_array_equal(read_log(path).W[0], W)
    padded = b'{"type":"snapshot","pad":[' + b"0," * 10_000_000 + b'0]}'
    hdr_line = path.read_bytes().split(b"\n")[0]
    path.write_bytes(hdr_line + b"\n" + padded + b"\n")
    with pytest.raises(LogFormatError, match=r":2: line of \d+ bytes, more than a 'snapshot' record can need"):
        with LogReader(path) as r:
            list(r.snapshots())


def test_writer_splits_long_loss_curves_into_records_within_the_cap(tmp_path):
    path = tmp_path / "l.jsonl"
    steps = np.arange(3 * schema.LOSS_ROWS_PER_RECORD + 5)
    with LogWriter(path, HEADER) as w:
        w.losses_at(steps, np.full((len(steps), 2), 0.25))
        w.snapshot(int(steps[-1]), [0.5, 0.5], np.zeros((2, 2, 3)), np.zeros((2, 3)))
    lines = path.read_bytes().splitlines()
    assert sum(b'"type":"loss"' in x for x in lines) == 4
    run = read_log(path)
    np.testing.assert_array_equal(run.loss_steps, steps)


def test_a_long_loss_record_of_an_older_writer_still_reads(tmp_path):
    """Writers before the split (from_arrays, the Recorder's close) wrote a whole run's losses as one
    record; a loss record's length is not in the header, so only the reader's ceiling holds it."""
    rows = (1 << 20) + 5  # more rows than the old per-record limit this cap once had
    steps = np.arange(2, rows + 2)
    loss = {"type": "loss", "step": int(steps[0]), "every": 1, "loss": np.full((rows, 2), 0.25).tolist()}
    run = read_log(_log(tmp_path / "old.jsonl", orjson.dumps(loss)))
    assert len(run.loss_steps) >= rows and float(run.loss_curve[-1].mean()) == 0.25
