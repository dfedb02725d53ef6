"""Property: mutated checkpoints, mutated v2 logs and arbitrary arrays given to the Recorder fail
only with a clean one-line error (importers: AnimsupError / exit 2; Recorder: ValueError or
TypeError), never an unhandled exception — and nothing a file holds ever runs."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import animsup
from animsup.cli import main
from animsup.errors import LogWarning
from animsup.log.reader import read_log

DATA = Path(__file__).parents[1] / "data"
CHECKPOINTS = sorted(p for p in (DATA / "checkpoints").rglob("*") if p.is_file() and p.suffix != ".py")
V2_LOGS = [(DATA / "golden" / n).read_bytes() for n in ("hand_tied_v2.jsonl", "hand_aggregate_v2.jsonl", "hand_noloss_v2.jsonl")]
FUZZ = settings(
    max_examples=int(os.environ.get("ANIMSUP_FUZZ_EXAMPLES", 150)) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("ANIMSUP_FUZZ_RANDOM") is None,
)
TMP = tempfile.mkdtemp(prefix="animsup-fuzz-import-")


@pytest.fixture(autouse=True)
def _debug(monkeypatch):
    monkeypatch.setenv("ANIMSUP_DEBUG", "1")  # a bug raises instead of exiting 1


@st.composite
def mutated(draw, sources):
    data = bytearray(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "set"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.sampled_from(b'\x00\xff\x80\x7f{}[]"0123456789\n'))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=12))
        elif op == "truncate":
            del data[i:]
    return bytes(data)


def _run(argv) -> tuple[int, str]:
    err = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        warnings.simplefilter("ignore", LogWarning)
        rc = main(argv)
    return rc, err.getvalue()


@FUZZ
@given(mutated([p.read_bytes() for p in CHECKPOINTS]))
def test_mutated_checkpoints_import_or_fail_in_one_line(content):
    src, out = os.path.join(TMP, "ckpt.bin"), os.path.join(TMP, "out.jsonl")
    with open(src, "wb") as f:
        f.write(content)
    rc, err = _run(["import", src, "--out", out, "--force"])
    assert rc in (0, 2), err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1, err
    else:
        run = read_log(out)  # whatever was imported is a valid log
        assert np.isfinite(run.W).all()


@FUZZ
@given(mutated(V2_LOGS))
def test_mutated_v2_logs_never_crash_readers(content):
    path = os.path.join(TMP, "v2.jsonl")
    with open(path, "wb") as f:
        f.write(content)
    for argv in (["inspect", path], ["events", path, "--instance", "0"]):
        rc, err = _run(argv)
        assert rc in (0, 2), err
        if rc == 2:
            assert len(err.strip().splitlines()) == 1, err


_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.sampled_from([0.0, 1e39, -1e300]))


@st.composite
def recorder_calls(draw):
    k, m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["kmn", "knm", "mn", "nm"]))
    shape = draw(st.sampled_from([(k, m, n), (k, n, m), (m, n), (n, m), (k, m), (m, n, k), ()]))
    W = draw(st.lists(_numbers, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    loss = draw(st.one_of(st.none(), st.lists(_numbers, min_size=0, max_size=4)))
    b = draw(st.one_of(st.none(), st.sampled_from([(k, n), (k, 1, n), (n,), (n, k)])))
    steps = draw(st.lists(st.integers(-2, 5), min_size=1, max_size=3))
    as_torch = draw(st.booleans())
    return k, m, n, layout, np.asarray(W, dtype=np.float64).reshape(shape), loss, b, steps, as_torch


@FUZZ
@given(recorder_calls())
def test_recorder_accepts_or_refuses_cleanly_and_the_log_stays_readable(call):
    import torch

    k, m, n, layout, W, loss, b, steps, as_torch = call
    path = os.path.join(TMP, "rec.jsonl")
    if os.path.exists(path):  # a fresh log each time: overwriting keeps an old log until a snapshot replaces
        os.remove(path)       # it (tests/log/test_log_replace.py), and a failed example may write none
    if layout in ("mn", "nm"):
        k = 1
    written = []
    try:
        with animsup.Recorder(path, n_features=n, n_hidden=m, n_instances=k, layout=layout, overwrite=True) as rec:
            for s in steps:
                Wt = torch.from_numpy(W).to(torch.bfloat16 if s % 2 else torch.float32) if as_torch else W
                bb = None if b is None else np.zeros(b)
                rec.snapshot(s, W=Wt, b=bb, loss=loss)
                written.append(s)
    except (ValueError, TypeError) as e:
        assert "\n" not in str(e)
        status = "failed"
    else:
        status = "completed"
    run = read_log(path, require_snapshots=False)
    assert run.status == status and run.steps.tolist() == written
    assert np.isfinite(run.W).all()
