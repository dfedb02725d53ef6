"""The stored training examples of a finite-data log (animsup.log.train_examples): read back bit for
bit, the caps (examples and non-zeros per instance, non-zeros per line), older readers' view (the
records are an unknown type under the 1 MiB cap: ignored), bad records refused in one line."""

import numpy as np
import orjson
import pytest

from animsup.errors import LogFormatError
from animsup.log import train_examples as te
from animsup.log.reader import read_log
from animsup.log.schema import LINE_SLACK
from finite_logs import sparse_set, write_finite_log


def test_stored_sets_read_back_bit_for_bit_and_the_log_reads_as_before(tmp_path):
    sets = [sparse_set(12, 3, 0), np.zeros((12, 4), np.float32), sparse_set(12, 40, 2)]  # an all-zero set too
    Ws = np.random.default_rng(3).normal(size=(2, 3, 2, 12))
    log = write_finite_log(tmp_path / "f.jsonl", sets, Ws)
    got = te.read_train_examples(log, [0, 1, 2])
    for i, x in enumerate(sets):
        assert got[i].size == got[i].count == x.shape[1]
        np.testing.assert_array_equal(got[i].dense(12), x)
        # h = W x by a dense product (the oracle) against the sparse sum
        np.testing.assert_allclose(got[i].hidden(Ws[1, i]), Ws[1, i] @ x.astype(np.float64), atol=1e-6)
    run = read_log(log)  # every reader of the log sees what it saw before
    assert list(run.steps) == [0, 10] and run.W.shape == (2, 3, 2, 12)
    assert te.read_train_examples(log, [1])[1].count == 4


def test_a_log_without_stored_sets_reads_none(tmp_path):
    log = write_finite_log(tmp_path / "old.jsonl", [sparse_set(6, 3, 0)], np.ones((1, 1, 2, 6)), stored=False)
    assert te.read_train_examples(log, [0]) is None


def test_caps_on_examples_nonzeros_and_line_length():
    x = np.ones((10, 50), np.float32)  # 10 non-zeros per example
    assert te.stored_count(x, max_examples=20, max_nonzeros=10**6) == 20
    assert te.stored_count(x, max_examples=50, max_nonzeros=95) == 9  # 9 whole examples fit in 95
    assert te.stored_count(np.ones((3, 7000), np.float32)) == te.MAX_EXAMPLES
    dense = np.full((1000, 60), -0.123456789, np.float32) * np.arange(1, 61, dtype=np.float32)  # 60,000 non-zeros
    recs = te.records_of(0, dense, 60)
    lines = [orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY) for r in recs]
    assert len(recs) == 4 and max(len(s) for s in lines) < LINE_SLACK  # under the cap older readers apply
    assert sum(len(r["value"]) for r in recs) == 60_000


@pytest.mark.parametrize("patch, message", [
    ({"feature": [99]}, "index out of range"),
    ({"example": [0, 1]}, "one length"),
    ({"instance": 7}, "'instance' must be an instance index"),
])
def test_a_bad_record_is_one_line(tmp_path, patch, message):
    log = write_finite_log(tmp_path / "f.jsonl", [sparse_set(6, 3, 0)], np.ones((1, 1, 2, 6)))
    lines = log.read_bytes().splitlines(keepends=True)
    rec = orjson.loads(lines[1])
    rec.update({"example": [0], "feature": [1], "value": [0.5]})
    rec.update(patch)
    lines[1] = orjson.dumps(rec) + b"\n"
    log.write_bytes(b"".join(lines))
    with pytest.raises(LogFormatError, match=message):
        te.read_train_examples(log, [0])
