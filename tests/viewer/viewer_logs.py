"""Small synthetic logs for the viewer tests (written with the library's LogWriter)."""

import numpy as np

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def header(*, n=5, m=2, k=1, model="tied"):
    return make_header(n_features=n, n_hidden=m, model=model, feature_probability=[0.05 * (i + 1) for i in range(k)],
                       seed=list(range(k)), importance=(0.9 ** np.arange(n)).tolist(), config={"importance": 0.9})


def weights(t, T, *, n=5, m=2, k=1, seed=0):
    """W at snapshot t: feature j of instance i at angle 2πj/min(n,5) + t/T + i, growing radius.
    (shape: [k, m, n])"""
    rng = np.random.default_rng(seed * 100003 + t)
    frac = t / max(T - 1, 1)
    W = np.zeros((k, m, n), np.float32)
    for i in range(k):
        ang = 2 * np.pi * np.arange(n) / min(n, 5) + frac + i
        r = np.where(np.arange(n) < 5, 0.05 + 1.2 * frac, 0.1 + 0.02 * np.arange(n) / n)
        W[i, 0] = r * np.cos(ang)
        W[i, 1] = r * np.sin(ang)
        if m > 2:
            W[i, 2:] = rng.normal(0, 0.3, (m - 2, n))
    return W


def write_run(path, *, T=20, n=5, m=2, k=1, model="tied", loss_rows=2, end=True, step=10):
    """A whole log; returns W (shape: [T, k, m, n])."""
    Ws = np.stack([weights(t, T, n=n, m=m, k=k) for t in range(T)])
    with LogWriter(path, header(n=n, m=m, k=k, model=model), force=True) as w:
        for t in range(T):
            append_snapshot(w, t, T, Ws[t], loss_rows=loss_rows, step=step, untied=model == "untied")
        if end:
            w.end("completed", (T - 1) * step, 1.0)
    return Ws


def append_snapshot(writer, t, T, W, *, loss_rows=2, step=10, untied=False):
    k, _, n = W.shape
    frac = t / max(T - 1, 1)
    loss = ((0.1 * np.exp(-4 * frac) + 1e-3) * (1 + np.arange(k))).astype(np.float32)
    if loss_rows:
        writer.losses(t * step, step // loss_rows, np.tile(loss, (loss_rows, 1)))
    b = np.full((k, n), -0.2 * frac, np.float32)
    writer.snapshot(t * step, loss, W, b, W_dec=1.1 * W if untied else None)

