"""Shared test helpers (fixtures): tests never import each other."""

import numpy as np
import pytest

from animsup.runlog import LogWriter, make_header


def write_pentagon(path, *, T=20, n=5, m=2, k=1, model="tied", loss_rows=0, radius=1.2, seed=0):
    """A rotating, growing pentagon: feature i at angle 2πi/5 + t, radius t·radius (features >= 5 stay near 0).

    Returns the W array written, (shape: [T, k, m, n])."""
    rng = np.random.default_rng(seed)
    hdr = make_header(n_features=n, n_hidden=m, model=model, feature_probability=[0.05 * (i + 1) for i in range(k)],
                      seed=list(range(k)), importance=(0.9 ** np.arange(n)).tolist(), config={"importance": 0.9})
    Ws = np.zeros((T, k, m, n), np.float32)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            frac = t / max(T - 1, 1)
            for i in range(k):
                ang = 2 * np.pi * np.arange(n) / 5 + frac + i
                r = np.where(np.arange(n) < 5, 0.05 + frac * radius, 0.01)
                Ws[t, i, 0] = r * np.cos(ang)
                if m > 1:
                    Ws[t, i, 1] = r * np.sin(ang)
                if m > 2:
                    Ws[t, i, 2:] = rng.normal(0, 0.3, (m - 2, n))
            loss = (0.1 * np.exp(-4 * frac) + 1e-3) * (1 + np.arange(k, dtype=np.float32))
            if loss_rows:
                w.losses(t * 10, 10 // loss_rows, np.tile(loss, (loss_rows, 1)))
            b = np.full((k, n), -0.2 * frac, np.float32)
            w.snapshot(t * 10, loss, Ws[t], b, W_dec=1.1 * Ws[t] if model == "untied" else None)
        w.end("completed", (T - 1) * 10, 1.0)
    return Ws


@pytest.fixture(name="write_pentagon")
def write_pentagon_fixture():
    """The :func:`write_pentagon` log writer."""
    return write_pentagon
