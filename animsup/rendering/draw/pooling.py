"""Max-magnitude pooling: how a view with more features than pixels shows blocks of features.

The heatmap view pools WᵀW over blocks of ``block`` × ``block`` features and the bias and norms
over blocks of ``block`` features; the neuron panel pools each neuron's row of W. Each block shows
its entry of largest magnitude, sign kept, so a strong feature is never averaged away.
"""

from __future__ import annotations

import numpy as np


def pool_max_abs(v: np.ndarray, block: int, *, square: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of ``block`` entries along the last axis of ``v`` (with ``square``: ``block`` ×
    ``block`` blocks of the last two axes) -> the entry of largest magnitude of each block (sign
    kept) and the index, within its block, of where it was. The last block is padded with zeros.

    :param v: (shape: [..., n]), or (shape: [n, n]) with ``square``
    :return: values and in-block indices (shape: [..., ceil(n / block)], or
        [ceil(n / block), ceil(n / block)] with ``square``)
    """
    n = v.shape[-1]
    nb = -(-n // block)
    if square:
        p = np.zeros((nb * block, nb * block), v.dtype)
        p[:n, :n] = v
        blocks = p.reshape(nb, block, nb, block).transpose(0, 2, 1, 3).reshape(nb, nb, block * block)
    else:
        p = np.zeros((*v.shape[:-1], nb * block), v.dtype)
        p[..., :n] = v
        blocks = p.reshape(*v.shape[:-1], nb, block)
    i = np.abs(blocks).argmax(-1)
    return np.take_along_axis(blocks, i[..., None], -1)[..., 0], i
