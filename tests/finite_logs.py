"""A finite-data log written by hand (no torch): the header's train_set with or without the stored
examples, and snapshots of a W given by the test. Shared by the render and viewer tests of the data
points (animsup.rendering.datapoints)."""

import numpy as np

from animsup.log import train_examples as te
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def write_finite_log(path, sets, Ws, *, steps=None, stored=True, m=2):
    """``sets``: per instance (shape: [n, T_i]); ``Ws``: (shape: [S, k, m, n]) W at each snapshot.
    ``stored``: write the train_examples records (False: a log of an animsup before they were stored)."""
    n, k = sets[0].shape[0], len(sets)
    steps = list(range(0, 10 * len(Ws), 10)) if steps is None else steps
    counts = [te.stored_count(x) for x in sets]
    ts = {"recipe": "animsup.finite/1", "sizes": [x.shape[1] for x in sets], "test_size": 10}
    if stored:
        ts["stored"] = te.stored_field(counts)
    hdr = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=[0.1] * k, seed=[0] * k,
                      importance=[1.0] * n, config={}, curves=["test_loss"], train_set=ts)
    with LogWriter(path, hdr, force=True) as w:
        if stored:
            for i, (x, c) in enumerate(zip(sets, counts)):
                for rec in te.records_of(i, x, c):
                    w.write(rec)
        for s, W in zip(steps, Ws):
            w.snapshot(s, np.full(k, 0.01), np.asarray(W, np.float32), np.zeros((k, n), np.float32))
            w.curve("test_loss", s, np.full(k, 0.02))
        w.end("completed", steps[-1], 1.0)
    return path


def sparse_set(n, T, seed, p=0.3):
    """(shape: [n, T]) float32 with L2-normalised columns, each feature on with probability p."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, T)) < p) * rng.random((n, T))
    norm = np.linalg.norm(x, axis=0)
    return (x / np.where(norm > 0, norm, 1)).astype(np.float32)
