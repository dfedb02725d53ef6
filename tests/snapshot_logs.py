"""A small tied-model log written snapshot by snapshot (shared by the panel tests)."""

import numpy as np

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def write_snapshots(path, Ws, probs) -> str:
    """Ws: (shape: [T, K, m, n]), a snapshot every 10 steps with loss 0.1/(t+1); K seeds 0..K-1 at 1 − S ``probs``."""
    T, K, m, n = Ws.shape
    hdr = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=list(probs), seed=list(range(K)),
                      importance=np.ones(n).tolist(), config={})
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            w.snapshot(t * 10, np.full(K, 0.1 / (t + 1)), Ws[t], np.zeros((K, n)))
        w.end("completed", (T - 1) * 10, 1.0)
    return str(path)
