"""Synthetic sparse features, importance weights and the seeding of every random stream.

Each feature is independently non-zero with probability ``p = feature_probability``
(= 1 - S) and then uniform on [0, 1). One uniform draw per entry gives both:
``x = u / p if u < p else 0`` (given u < p, u / p is uniform on [0, 1)), which halves
the random numbers the two-draw version needs.

Random streams (all reproducible from the config):

- the initial weights of instance ``i`` come from its own seed alone
  (:func:`init_rng`), so an instance starts the same whatever else is in the run;
- the data of all instances come from one stream seeded by the whole seed list
  (:func:`data_seed`), drawn as one ``[n_instances, batch, n_features]`` block per step
  (no Python loop over instances). On the CPU it is numpy's PCG64 for both backends
  (so the torch and numpy backends see identical batches); on CUDA it is a torch
  generator on the device.

Layout: a batch is ``x`` (shape: [n_instances, n_features, batch]) — samples are columns,
as in h = W x; every matmul of the model is then one ``bmm`` over contiguous rows
(measured 1.5-5x faster here than (instances, batch, features)).

numpy only; torch is imported lazily by :class:`CudaBatches`.
"""

from __future__ import annotations

import json

import numpy as np

_INIT_TAG = 0x1A1D  # domain separation between the init and data streams
_DATA_TAG = 0xDA7A


def importance_vector(importance, n_features: int) -> np.ndarray:
    """I_i = base**i for a float, the list itself, or ones for "constant".

    :return: (shape: [n_features]) float32
    """
    if isinstance(importance, str):  # "constant" (TrainConfig.validate checks the spelling)
        return np.ones(n_features, dtype=np.float32)
    if isinstance(importance, (list, tuple, np.ndarray)):
        return np.asarray(importance, dtype=np.float32).reshape(n_features)
    return (float(importance) ** np.arange(n_features, dtype=np.float64)).astype(np.float32)


def init_rng(seed: int) -> np.random.Generator:
    """The generator for one instance's initial weights."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([_INIT_TAG, int(seed)])))


def data_seed(seeds) -> np.random.SeedSequence:
    """The seed of the shared data stream, from the run's whole seed list."""
    return np.random.SeedSequence([_DATA_TAG, *[int(s) for s in seeds]])


def inverse_probability(p) -> np.ndarray:
    """float32 ``1 / p``: the one multiplier every sampler uses (so backends draw identical data)."""
    return (np.float32(1.0) / np.asarray(p, dtype=np.float32)).astype(np.float32)


def sparse_from_uniform(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``u / p`` where that is < 1 (i.e. ``u < p``) else 0, in place on ``u``.

    :param u: (shape: [n_instances, n_features, batch]) uniform [0, 1) draws, overwritten
    :param p: (shape: [n_instances, 1, 1]) feature probability per instance
    """
    u *= inverse_probability(p)
    np.putmask(u, u >= 1.0, 0.0)
    return u


def block_columns(n_instances: int, n_features: int, batch: int) -> int:
    """Batch columns per block: about 1 MiB per [k, n, block] float32 array, so the ~15
    element-wise passes of a torch step stay in the L2 cache (2x faster at k=100, n=32 here).
    The data stream is drawn block by block, so both backends see the same numbers."""
    cols = (1 << 20) // (4 * n_instances * n_features)
    return batch if cols >= batch else max(16, 1 << (cols.bit_length() - 1))


def normalize_samples_(x):
    """Scale each sample (a column: axis 1 of [k, n, B]) to unit norm; all-zero samples stay
    zero (seed 000's variant). Works on numpy arrays and torch tensors."""
    norm = (x * x).sum(1, keepdims=True) ** 0.5
    norm[norm == 0] = 1.0
    x /= norm
    return x


class Batches:
    """Draws batches of sparse features on the CPU with numpy.

    :param feature_probability: (shape: [n_instances])
    :param dataset_size: None for fresh samples every step (the paper); N for a fixed
        pre-drawn set of N samples per instance, sampled with replacement (seed 002)
    """

    def __init__(self, feature_probability, n_features: int, batch_size: int, seeds, *,
                 dataset_size: int | None = None, normalize: bool = False, block: int | None = None):
        self.p = np.asarray(feature_probability, dtype=np.float32).reshape(-1, 1, 1)
        self.k, self.n, self.batch_size = len(self.p), n_features, batch_size
        self.block = block or batch_size  # the stream is drawn in blocks of this many columns
        self.normalize = normalize
        self.rng = np.random.Generator(np.random.PCG64(data_seed(seeds)))
        self.dataset = None
        if dataset_size is not None:
            # stored sample-major ([k * N, n]) so a batch is one row gather
            self.dataset = np.ascontiguousarray(self._draw(dataset_size).transpose(0, 2, 1)).reshape(-1, self.n)
            self._offset = (np.arange(self.k, dtype=np.int64) * dataset_size)[:, None]
            self.dataset_size = dataset_size

    def _draw(self, cols: int) -> np.ndarray:
        u = self.rng.random((self.k, self.n, cols), dtype=np.float32)
        x = sparse_from_uniform(u, self.p)
        return normalize_samples_(x) if self.normalize else x

    @property
    def fresh_uniform(self) -> bool:
        """True when a batch is plain ``sparse_from_uniform(uniform())`` (no data set, no normalising),
        so a caller may apply the transform itself (the torch engine does it in two fused ops)."""
        return self.dataset is None and not self.normalize

    def uniform_blocks(self) -> list[np.ndarray]:
        """The raw uniform draws of the next batch, as [k, n, block] column blocks in draw order
        (only when :attr:`fresh_uniform`)."""
        B, c = self.batch_size, self.block
        return [self.rng.random((self.k, self.n, min(c, B - c0)), dtype=np.float32) for c0 in range(0, B, c)]

    def next(self) -> np.ndarray:
        """:return: (shape: [n_instances, n_features, batch]) float32"""
        if self.dataset is None:
            blocks = [sparse_from_uniform(u, self.p) for u in self.uniform_blocks()]
            x = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=2)
            return normalize_samples_(x) if self.normalize else x
        idx = self.rng.integers(0, self.dataset_size, (self.k, self.batch_size)) + self._offset
        return np.ascontiguousarray(self.dataset[idx].transpose(0, 2, 1))

    def get_state(self) -> str:
        return json.dumps(self.rng.bit_generator.state)

    def set_state(self, state: str) -> None:
        self.rng.bit_generator.state = json.loads(state)


class CudaBatches:
    """The same distribution drawn on a torch device with a torch generator (used on CUDA)."""

    def __init__(self, feature_probability, n_features: int, batch_size: int, seeds, *,
                 device, dataset_size: int | None = None, normalize: bool = False, block: int | None = None):
        import torch

        self.torch = torch
        self.block = batch_size
        self.k, self.n, self.batch_size, self.device = len(feature_probability), n_features, batch_size, device
        self.p = torch.tensor(feature_probability, dtype=torch.float32, device=device).view(-1, 1, 1)
        self.normalize = normalize
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(int(data_seed(seeds).generate_state(1, np.uint64)[0] >> np.uint64(1)))
        self.dataset = None
        if dataset_size is not None:
            self.dataset = self._draw(dataset_size).transpose(1, 2).contiguous().reshape(-1, self.n)
            self._offset = (torch.arange(self.k, device=device) * dataset_size)[:, None]
            self.dataset_size = dataset_size

    def _draw(self, cols: int):
        u = self.torch.rand((self.k, self.n, cols), generator=self.gen, device=self.device)
        x = self.torch.where(u < self.p, u / self.p, 0.0)
        return normalize_samples_(x) if self.normalize else x

    def next(self):
        if self.dataset is None:
            return self._draw(self.batch_size)
        idx = self.torch.randint(0, self.dataset_size, (self.k, self.batch_size), generator=self.gen, device=self.device)
        return self.dataset[idx + self._offset].transpose(1, 2).contiguous()

    def get_state(self) -> np.ndarray:
        return self.gen.get_state().numpy().copy()

    def set_state(self, state) -> None:
        self.gen.set_state(self.torch.from_numpy(np.asarray(state, dtype=np.uint8)))
