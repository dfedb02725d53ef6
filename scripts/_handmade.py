"""Hand-made starts: train given weights further and compare their losses on one fixed evaluation set.

Random inits may never reach a configuration (the hexagon of three antipodal pairs, a pentagon at a
density where training finds squares). To ask whether it is nevertheless the better solution, both
candidates start from their weights, train on the same law (AdamW, the notebook's settings) until
they settle, and are scored on one evaluation set drawn once per density (the same samples for
every candidate). Used by scripts/correlated.py and scripts/nonuniform.py; not part of the package.
"""

from __future__ import annotations

import numpy as np


def polygon(n_vertices: int, order, norm: float = 1.0, offset_deg: float = 0.0) -> np.ndarray:
    """W (shape: [2, n_features]) with feature ``order[j]`` at angle offset + 360 j / n_vertices and
    ``norm``; features not in ``order`` are zero (n_features = max(order) + 1 unless more are given
    as None entries)."""
    n = max(i for i in order if i is not None) + 1
    W = np.zeros((2, n), dtype=np.float32)
    for j, i in enumerate(order):
        if i is None:
            continue
        a = np.deg2rad(offset_deg + 360.0 * j / n_vertices)
        W[:, i] = norm * np.array([np.cos(a), np.sin(a)], dtype=np.float32)
    return W


def polish(starts_W, starts_b, probabilities, spec, *, steps: int, batch: int = 1024, lr: float = 1e-3,
           eval_samples: int = 200_000, seed: int = 0):
    """Train every start (one instance each, tied ReLU model, importance 1) and score it.

    :param starts_W: (shape: [k, m, n]) initial W of each candidate
    :param starts_b: (shape: [k, n]) initial b
    :param probabilities: (shape: [k]) or (shape: [k, n]) each candidate's feature probabilities
    :param spec: :class:`animsup.train.data.DataSpec`, the law of the inputs
    :return: (W (shape: [k, m, n]), b (shape: [k, n]), eval loss (shape: [k])): the loss is the notebook's
        (importance-weighted squared error, mean over features and samples) on ``eval_samples`` samples
        per candidate, drawn from a stream that depends only on the probabilities and ``seed``
    """
    import torch

    from animsup.train.data import Batches
    from animsup.train.model import forward, loss_fn

    W = torch.tensor(np.asarray(starts_W, dtype=np.float32), requires_grad=True)
    b = torch.tensor(np.asarray(starts_b, dtype=np.float32), requires_grad=True)
    k, _, n = W.shape
    imp = torch.ones(n)
    opt = torch.optim.AdamW([W, b], lr=lr, weight_decay=0.01)
    train = Batches(probabilities, n, batch, [seed + 1000 + i for i in range(k)], spec=spec)
    for _ in range(steps):
        x = torch.from_numpy(train.next())
        opt.zero_grad()
        loss_fn(forward(x, W, b), x, imp).sum().backward()
        opt.step()
    losses = np.zeros(k)
    probs = np.asarray(probabilities, dtype=np.float64).reshape(k, -1)
    chunks = max(1, eval_samples // 8192)
    with torch.no_grad():
        for row in np.unique(probs, axis=0):  # one evaluation set per density: the same samples for its candidates
            ids = [i for i in range(k) if np.array_equal(probs[i], row)]
            ev = Batches([row.tolist()] if row.size > 1 else [float(row[0])], n, 8192, [seed], spec=spec)
            for _ in range(chunks):
                x = torch.from_numpy(ev.next()).expand(len(ids), n, 8192)
                losses[ids] += loss_fn(forward(x, W[ids], b[ids]), x, imp).numpy() / chunks
    return W.detach().numpy(), b.detach().numpy(), losses
