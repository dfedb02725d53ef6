"""Synthetic sparse features, importance weights and the seeding of every random stream.

Each feature ``i`` of instance ``k`` is non-zero with probability ``p[k, i] = feature_probability``
(= 1 - S) and then uniform on [0, 1). One uniform draw per entry gives both:
``x = u / p if u < p else 0`` (given u < p, u / p is uniform on [0, 1)), which halves
the random numbers the two-draw version needs. Other laws (:class:`DataSpec`, one
vectorised sampler :func:`draw_features` per instance, no loop over samples):

- ``presence_value`` (seed 000's code): ``x = u if u < p else 0`` — the same uniform decides
  presence and value, so non-zero values are U(0, p);
- ``binary``: x = 1 when present; ``exactly_k``: exactly k features of each sample are on
  (a uniformly random k-subset), values U[0, 1);
- correlated sets: one uniform ``a`` per set and sample, every feature of the set on when
  ``a < p`` (P(all on) = p, P(some but not all) = 0), each with its own value;
- anticorrelated sets (the paper's law, "Correlated and Anticorrelated Features"): one uniform
  ``a`` per set and sample; the set is all-zero unless ``a < p`` (probability S), and then exactly
  one feature of it, ``floor(a s / p)`` (uniformly random), is on: each feature's density is p / s
  for a set of s features;
- exclusive sets (animsup's law before data recipe 2, also ARENA's convention): the set is on when
  ``a < s p`` and then exactly feature ``floor(a / p)`` of it is on — each feature keeps density p,
  never two at once (s times denser than the paper's law at equal p);
- hierarchical sets ``[parent, child, ...]`` (feature absorption, Chanin et al. 2024): the parent is
  drawn as usual; each child is on only when its parent is, then with probability
  ``child_probability`` (one more uniform per child and sample), each with its own value;
- optional L2 normalisation of each sample (all-zero samples stay zero).

Random streams (all reproducible from the config):

- the initial weights of instance ``i`` come from its own seed alone (:func:`init_rng`), and so do
  its data on the CPU (:func:`instance_data_seed`): an instance trains the same whatever else is
  in the run, so a sweep cut into shards of any size gives every instance the same trajectory
  (issue 22; ``tests/train/test_data.py``). Two instances with the same seed (a grid over 1 - S)
  share their uniforms: common random numbers across the grid.
- The paper's law with fresh samples (:class:`Batches`) is drawn per (instance, chunk of columns)
  (:func:`instance_columns`: the whole batch up to ``DENSE_BLOCK_ENTRIES`` entries), one SFC64
  generator each (spawned from the instance's seed), so the CPU step can draw its blocks on
  several threads with the same result. An instance whose features all have
  ``p <= SPARSE_MAX_PROBABILITY`` and whose chunk has at least ``SPARSE_MIN_ENTRIES`` entries
  draws only its non-zero entries: the gaps between them in its row of ``n_features * cols``
  entries are geometric, ``floor(log(1 - u) / log(1 - p))`` from one uniform each, and each
  non-zero value is one more uniform (about ``2 p`` draws per entry instead of one); the others
  draw raw bits (24-bit uniforms). The step groups consecutive instances of one kind into blocks
  (:func:`group_blocks`) for the compute only.
- Other laws, normalised samples and the data-set mode draw each instance's [n_features, batch]
  from its own PCG64 generator (a Python loop over instances: correct, not tuned).
- On CUDA (:class:`CudaBatches`) the data of all instances come from one torch generator on the
  device seeded by the whole seed list (:func:`data_seed`): reproducible for the same run, but an
  instance's numbers there depend on the other instances of its run.

Layout: a batch is ``x`` (shape: [n_instances, n_features, batch]) — samples are columns,
as in h = W x; every matmul of the model is then one ``bmm`` over contiguous rows
(measured 1.5-5x faster here than (instances, batch, features)).

numpy only; torch is imported lazily by :class:`CudaBatches`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

import numpy as np

from animsup.log import schema as _schema

_INIT_TAG = 0x1A1D  # domain separation between the init and data streams
_DATA_TAG = 0xDA7A
#: the version of the header's ``data`` object: 2 added the paper's anticorrelated law under
#: ``anticorrelated_sets`` (recipe 1's law is now ``exclusive_sets``; animsup.log.schema.upgrade_data_recipe)
DATA_RECIPE = _schema.DATA_RECIPE
SPARSE_MAX_PROBABILITY = 0.08  # an instance whose features all lie at or below it draws its non-zeros
SPARSE_MIN_ENTRIES = 1 << 14  # below it (entries of an instance's chunk) drawing the gaps costs more than it saves
SPARSE_BLOCK_ENTRIES = 1 << 21  # entries of x per block of sparse-drawn instances in the CPU step
DENSE_BLOCK_ENTRIES = 1 << 18  # entries of x per block of the dense CPU step (see dense_blocks)


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


UNIFORM_BITS = 24  # bits of each uniform drawn from raw generator output (float32's mantissa + 1)


def uniform_from_raw(raw: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) float32 on the 2**-24 grid from raw int32 bits: ``(raw & 0xFFFFFF) * 2**-24``
    (exact: every value is representable)."""
    return np.bitwise_and(raw, (1 << UNIFORM_BITS) - 1).astype(np.float32) * np.float32(2.0**-UNIFORM_BITS)


def sparse_from_uniform(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``u / p`` where that is < 1 (i.e. ``u < p``) else 0, in place on ``u``.

    :param u: (shape: [n_instances, n_features, batch]) uniform [0, 1) draws, overwritten
    :param p: (shape: [n_instances, 1, 1]) or (shape: [n_instances, n_features, 1]) feature probability
    """
    u *= inverse_probability(p)
    np.putmask(u, u >= 1.0, 0.0)
    return u


def block_columns(n_instances: int, n_features: int, batch: int, entries: int = 1 << 18) -> int:
    """Batch columns per block of about ``entries`` entries of x: a power of two (at least 16),
    or the whole batch. The default, 2**18 (1 MiB per [k, n, block] float32 array), keeps the
    ~15 element-wise passes of the dense torch step in the L2 cache (2x faster at k=100, n=32
    here). The data stream is drawn block by block, so both backends see the same numbers."""
    cols = entries // (n_instances * n_features)
    return batch if cols >= batch else max(16, 1 << (cols.bit_length() - 1))


def sparse_block_columns(n_instances: int, n_features: int, batch: int) -> int:
    """Batch columns per block of the sparse sampler and the CPU training step:
    ``SPARSE_BLOCK_ENTRIES`` (2**21) entries. At n=32, 100 instances, 2**21 ([100, 32, 512])
    measured 4% faster than 2**20 and 10% faster than 2**22; smaller blocks pay more per-op
    overhead (2**17: 1.4x slower). Depends only on the shape, so the data stream does too."""
    return block_columns(n_instances, n_features, batch, SPARSE_BLOCK_ENTRIES)


def dense_blocks(n_instances: int, n_features: int, batch: int, entries: int | None = None) -> list[tuple]:
    """The blocks ``(i0, i1, c0, c1)`` (instances i0..i1-1, columns c0..c1-1) of the dense stream and
    the CPU step, in draw order: whole batches of ``entries // (n_features * batch)`` instances when
    one instance's batch fits in ``entries``, else one instance and a power of two of columns
    (:func:`block_columns`). Depends only on the shape, so the data stream does too.

    Why this shape (bench/bench_notebook.py, 2 cores with 1 MiB of L2 each): whole-batch blocks keep
    every per-instance matrix product wide (at n=2, m=1 a [4000, 1, 2] x [4000, 2, 32] ``bmm`` ran
    at 1.1 GFLOP/s against 17 for [64, 1, 2] x [64, 2, 1024]). 2**18 entries (1 MiB per [k, n, c]
    float32 array): on one thread 2**17 and 2**18 were within 5 % of each other and 3-12 % faster
    than 2**16 and 2**15 at the paper's sizes; on the two block threads (fewer, longer blocks: less
    time holding the GIL) 2**18 was 12-28 % faster than 2**17 and than 2**19 or as fast (a quiet
    machine, 2026-11-30 22:32 UTC, same-minute runs).

    :param entries: entries of x per block (default :data:`DENSE_BLOCK_ENTRIES`)
    """
    entries = entries or DENSE_BLOCK_ENTRIES
    if n_features * batch <= entries:
        kb = max(1, entries // (n_features * batch))
        return [(i, min(i + kb, n_instances), 0, batch) for i in range(0, n_instances, kb)]
    cols = block_columns(1, n_features, batch, entries)
    return [(i, i + 1, c, min(c + cols, batch)) for i in range(n_instances) for c in range(0, batch, cols)]


def bernoulli_positions(rng: np.random.Generator, p: np.ndarray, length: int) -> np.ndarray:
    """Sorted flat indices ``i * length + j`` of the successes in ``len(p)`` independent rows of
    ``length`` Bernoulli(p_i) trials, drawn as geometric gaps: ~``p * length`` uniforms a row
    instead of ``length``. A gap is ``1 + floor(log(1 - u) / log(1 - p))`` (P(gap > g) = (1-p)^g).

    Positions are summed in float32 while they stay exact integers (< 2**24), else in float64.

    :param p: (shape: [k]) success probabilities in (0, 1]
    :return: int32 indices when ``len(p) * length < 2**31``, else int64
    """
    k = len(p)
    with np.errstate(divide="ignore"):
        lam = -np.log1p(-np.asarray(p, np.float64))  # p = 1: inf, every gap is 1
    dtype = np.float32 if length + 17.0 / lam.min() + 2 < 2**24 else np.float64
    itype = np.int32 if k * length < 2**31 else np.int64
    scale = (-1.0 / lam).astype(dtype)
    mean = length * float(np.max(p))
    width = int(mean + 4.0 * mean**0.5 + 16)  # gaps drawn per row at once; rows not yet past the end draw again
    rows = np.arange(k)
    last = np.full(k, -1, dtype)  # position of each row's latest success
    parts = []
    while rows.size:
        u = rng.random((rows.size, width), dtype=np.float32).astype(dtype, copy=False)
        np.subtract(1, u, out=u)  # exact: u is a multiple of 2**-24
        np.log(u, out=u)
        u *= scale[rows, None]
        np.floor(u, out=u)
        u += 1
        pos = _cumsum_rows(u)
        pos += last[rows, None]
        last[rows] = pos[:, -1]
        keep = pos < length
        flat = pos.astype(itype)
        flat += (rows * length).astype(itype)[:, None]
        parts.append(flat[keep])
        rows = rows[last[rows] < length]
    return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))


def _cumsum_rows(a: np.ndarray) -> np.ndarray:
    """Cumulative sums along axis 1 of integer-valued floats (exact either way). numpy's cumsum is a
    scalar loop (~3 ns an element here); when torch is already loaded (the torch engine) its
    vectorised one is 3-4x faster and gives the same integers."""
    torch = sys.modules.get("torch")
    if torch is not None and a.dtype == np.float32:
        return torch.cumsum(torch.from_numpy(a), 1, out=torch.from_numpy(a)).numpy()
    return np.cumsum(a, axis=1)


def sparse_block(rng: np.random.Generator, p: np.ndarray, n_features: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """One block of sparse features, as its non-zero entries.

    :return: idx (shape: [nnz]) flat indices into a [k, n_features, cols] array, sorted;
        values (shape: [nnz]) float32 uniform on [0, 1)
    """
    idx = bernoulli_positions(rng, p, n_features * cols)
    return idx, rng.random(idx.size, dtype=np.float32)


@dataclass
class DataSpec:
    """The input distribution besides the feature probabilities (see the module docstring).

    :param kind: "uniform" | "presence_value" | "binary" | "exactly_k"
    :param normalise: L2-normalise each sample
    :param exactly_k: features on per sample (``kind="exactly_k"``)
    :param correlated_sets: lists of feature indices that switch on together
    :param anticorrelated_sets: lists of feature indices: all off with probability S, else exactly one
        (uniformly chosen) on — the paper's law, each feature's density p / set size
    :param exclusive_sets: lists of feature indices of which at most one is on, each with density p
        (what ``anticorrelated_sets`` meant in data recipe 1: :data:`DATA_RECIPE`)
    :param hierarchical_sets: lists ``[parent, child, ...]``: a child is on only with its parent
    :param child_probability: P(child on | parent on) in a hierarchical set
    """

    kind: str = "uniform"
    normalise: bool = False
    exactly_k: int | None = None
    correlated_sets: list = field(default_factory=list)
    anticorrelated_sets: list = field(default_factory=list)
    hierarchical_sets: list = field(default_factory=list)
    child_probability: float = 0.5
    exclusive_sets: list = field(default_factory=list)

    @property
    def has_sets(self) -> bool:
        """Any correlated, anticorrelated, exclusive or hierarchical set (drawn by the general sampler, on the CPU)."""
        return bool(self.correlated_sets or self.anticorrelated_sets or self.exclusive_sets or self.hierarchical_sets)

    @property
    def independent_uniform(self) -> bool:
        """True for the paper's law (independent features, U[0, 1) values): the one-draw and sparse samplers apply."""
        return self.kind == "uniform" and not self.has_sets

    @property
    def k_on(self) -> int:
        """``exactly_k``: the features on per sample (ValueError when unset)."""
        if self.exactly_k is None:
            raise ValueError("data exactly_k needs exactly_k, the features on per sample")
        return int(self.exactly_k)

    def header(self) -> dict[str, object]:
        """The log header's ``data`` object (schema v2; ``recipe``: :data:`DATA_RECIPE`, written when a set
        law is present — an object without it is recipe 1, see :func:`animsup.log.schema.upgrade_data_recipe`)."""
        out: dict[str, object] = {"kind": self.kind}
        if self.anticorrelated_sets or self.exclusive_sets:
            out["recipe"] = DATA_RECIPE
        if self.kind == "exactly_k":
            out["k"] = self.k_on
        if self.normalise:
            out["normalise"] = "l2"
        if self.correlated_sets:
            out["correlated_sets"] = [list(map(int, s)) for s in self.correlated_sets]
        if self.anticorrelated_sets:
            out["anticorrelated_sets"] = [list(map(int, s)) for s in self.anticorrelated_sets]
        if self.hierarchical_sets:  # (recipe version 1: see the module docstring)
            out["hierarchical_sets"] = [list(map(int, s)) for s in self.hierarchical_sets]
            out["child_probability"] = float(self.child_probability)
            out["hierarchy_version"] = 1
        if self.exclusive_sets:
            out["exclusive_sets"] = [list(map(int, s)) for s in self.exclusive_sets]
        return out


def draw_features(rng: np.random.Generator, p: np.ndarray, n_features: int, cols: int, spec: DataSpec) -> np.ndarray:
    """One block of samples of any law in :class:`DataSpec`, batched over instances.

    For ``spec.independent_uniform`` this is exactly ``sparse_from_uniform(rng.random(...), p)`` (the
    stream the other samplers reproduce). Otherwise, in this order from ``rng``: the presence draws
    ([k, n, cols] uniforms: feature i is on when ``u < p``; for ``exactly_k`` the k smallest of each
    column), then one [k, cols] uniform per correlated set, per anticorrelated set and per exclusive
    set (overriding their features' presence), then one [k, s - 1, cols] uniform per hierarchical
    set of s features (its children's presence), then the values ([k, n, cols] uniforms; none for binary).

    :param p: (shape: [k, 1, 1]) or (shape: [k, n_features, 1]) feature probabilities
    :return: (shape: [k, n_features, cols]) float32, L2-normalised per sample when ``spec.normalise``
    """
    k = p.shape[0]
    shape = (k, n_features, cols)
    if spec.independent_uniform:
        x = sparse_from_uniform(rng.random(shape, dtype=np.float32), p)
        return normalize_samples_(x) if spec.normalise else x
    if spec.kind == "presence_value" and not spec.has_sets:
        x = rng.random(shape, dtype=np.float32)  # x = u if u < p: one uniform decides presence and value
        np.putmask(x, x >= np.broadcast_to(p, shape), 0.0)
        return normalize_samples_(x) if spec.normalise else x
    u = rng.random(shape, dtype=np.float32)
    if spec.kind == "exactly_k":
        k_on = spec.k_on
        kth = np.partition(u, k_on - 1, axis=1)[:, k_on - 1 : k_on]
        on = u <= kth  # the k smallest keys of each column (ties have probability ~0)
    else:
        on = u < p
    pf = np.broadcast_to(p, (k, n_features, 1))
    for st in spec.correlated_sets:
        a = rng.random((k, 1, cols), dtype=np.float32)
        on[:, st] = a < pf[:, st[:1]]
    for st in spec.anticorrelated_sets:  # the paper's law: on with probability p, then one of the set
        a = rng.random((k, 1, cols), dtype=np.float32)
        ps = pf[:, st[:1]]  # (shape: [k, 1, 1]) the set's common probability
        which = np.where(a < ps, np.minimum(np.floor(a * np.float32(len(st)) / ps), len(st) - 1), -1.0)  # given a < p: uniform 0..s-1
        on[:, st] = which == np.arange(len(st), dtype=np.float32).reshape(1, -1, 1)
    for st in spec.exclusive_sets:  # recipe 1's law: each feature at p, never two at once
        a = rng.random((k, 1, cols), dtype=np.float32)
        ps = pf[:, st[:1]]
        which = np.floor(a / ps)  # given a < s p: uniform over 0..s-1
        on[:, st] = which == np.arange(len(st), dtype=np.float32).reshape(1, -1, 1)
    for st in spec.hierarchical_sets:
        a = rng.random((k, len(st) - 1, cols), dtype=np.float32)
        on[:, st[1:]] = on[:, st[:1]] & (a < np.float32(spec.child_probability))
    if spec.kind == "binary":
        x = on.astype(np.float32)
    else:
        x = rng.random(shape, dtype=np.float32)
        if spec.kind == "presence_value":
            x *= pf  # U(0, p): the law of u given u < p
        x *= on
    return normalize_samples_(x) if spec.normalise else x


def normalize_samples_(x):
    """Scale each sample (a column: axis 1 of [k, n, B]) to unit norm; all-zero samples stay
    zero (seed 000's variant). Works on numpy arrays and torch tensors."""
    norm = (x * x).sum(1, keepdims=True) ** 0.5
    norm[norm == 0] = 1.0
    x /= norm
    return x


def probability_array(feature_probability, n_features: int) -> np.ndarray:
    """Feature probabilities as float32 (shape: [k, 1, 1]) when every feature of an instance has the
    same one (the samplers then draw exactly the streams they always drew), else (shape: [k, n, 1]).

    :param feature_probability: (shape: [k]) or (shape: [k, n_features])
    """
    p = np.asarray(feature_probability, dtype=np.float32)
    if p.ndim == 1:
        return p.reshape(-1, 1, 1)
    p = p.reshape(p.shape[0], n_features)
    return p[:, :1, None].copy() if (p == p[:, :1]).all() else p[:, :, None].copy()


def instance_data_seed(seed: int) -> np.random.SeedSequence:
    """The seed of one instance's data stream: its own seed alone (so its batches do not depend on the
    other instances of the run, nor on how a sweep cuts the grid into shards)."""
    return np.random.SeedSequence([_DATA_TAG, int(seed)])


def instance_columns(n_features: int, batch: int) -> int:
    """Columns per chunk of one instance's batch in the CPU streams: the whole batch when it has at most
    ``DENSE_BLOCK_ENTRIES`` entries, else a power of two (:func:`block_columns` of one instance).
    Depends only on the instance's own shape."""
    return block_columns(1, n_features, batch, DENSE_BLOCK_ENTRIES)


def group_blocks(kinds: list[bool], n_features: int, chunks: list[tuple[int, int]],
                 entries: int, sparse_entries: int) -> list[tuple[int, int, int, int]]:
    """The CPU step's blocks ``(i0, i1, c0, c1)``: for each chunk of columns, runs of consecutive
    instances of the same kind (True: drawn as non-zeros), at most ``entries`` (``sparse_entries`` for
    the sparse kind) entries each. Only the compute is grouped: every instance draws its own data."""
    out = []
    for c0, c1 in chunks:
        i = 0
        while i < len(kinds):
            cap = max(1, (sparse_entries if kinds[i] else entries) // (n_features * (c1 - c0)))
            j = i + 1
            while j < len(kinds) and j - i < cap and kinds[j] == kinds[i]:
                j += 1
            out.append((i, j, c0, c1))
            i = j
    return out


class Batches:
    """Draws batches of sparse features on the CPU with numpy, one random stream per instance.

    Instance ``i``'s data come from its own seed alone (:func:`instance_data_seed`): the same batches
    whatever the other instances of the run, so a sweep cut into shards trains every instance
    identically. The paper's law with fresh samples is drawn per (instance, chunk of columns)
    (:func:`instance_columns`), one SFC64 generator each, so the CPU step can draw its blocks on
    several threads; an instance with ``max p <= SPARSE_MAX_PROBABILITY`` and at least
    ``SPARSE_MIN_ENTRIES`` entries per chunk draws only its non-zeros (geometric gaps), the others
    raw bits. The other laws, normalised samples and the data-set mode draw each instance's
    [n_features, batch] from its own PCG64 generator.

    :param feature_probability: (shape: [n_instances]) or (shape: [n_instances, n_features])
    :param seeds: the seed of each instance (shape: [n_instances]); a shorter list is repeated
        (instance ``i`` gets ``seeds[i % len(seeds)]``, the product layout's order)
    :param dataset_size: None for fresh samples every step (the paper); N for a fixed
        pre-drawn set of N samples per instance, sampled with replacement (seed 002)
    :param block: columns per block of the plain (non-block) torch step (default :func:`instance_columns`)
    :param spec: the law of the inputs (default: independent U[0, 1), L2-normalised when ``normalize``)
    :param allow_sparse: False keeps the raw-bits draw whatever the probabilities (a staged run,
        whose probabilities change, keeps one stream)
    """

    def __init__(self, feature_probability, n_features: int, batch_size: int, seeds, *,
                 dataset_size: int | None = None, normalize: bool = False, block: int | None = None,
                 spec: DataSpec | None = None, allow_sparse: bool = True):
        self.spec = spec if spec is not None else DataSpec(normalise=normalize)
        self.p = probability_array(feature_probability, n_features)
        self.k, self.n, self.batch_size = len(self.p), n_features, batch_size
        seeds = [int(s) for s in seeds]
        self.seeds = [seeds[i % len(seeds)] for i in range(self.k)]
        self.normalize = self.spec.normalise
        self.allow_sparse = allow_sparse
        self.dataset: np.ndarray | None = None
        self.block = block or instance_columns(n_features, batch_size)
        self.blocks: list[tuple[int, int, int, int]] | None = None  # [(i0, i1, c0, c1)] when drawn block by block
        self.seed_rngs: dict[int, list[np.random.Generator]] | None = None  # raw bits: per seed, per chunk ...
        self.sparse_rngs: dict[int, list[np.random.Generator]] = {}  # non-zeros: per instance, per chunk ...
        self.rngs: list[np.random.Generator] | None = None  # ... or one per instance
        self.instance_sparse = [False] * self.k
        if dataset_size is None and self.spec.independent_uniform and not self.normalize:
            cols = instance_columns(n_features, batch_size)
            self.chunks = [(c0, min(c0 + cols, batch_size)) for c0 in range(0, batch_size, cols)]
            self._chunk_index = {c0: j for j, (c0, _) in enumerate(self.chunks)}
            self.instance_sparse = [allow_sparse and float(self.p[i].max()) <= SPARSE_MAX_PROBABILITY
                                    and n_features * cols >= SPARSE_MIN_ENTRIES for i in range(self.k)]
            # SFC64: its raw bits cost 1.3 ns a uniform here against PCG64's 1.9 as floats
            self.sparse_rngs = {i: self._chunk_rngs(self.seeds[i]) for i in range(self.k) if self.instance_sparse[i]}
            dense_seeds = [self.seeds[i] for i in range(self.k) if not self.instance_sparse[i]]
            self.seed_rngs = {seed: self._chunk_rngs(seed) for seed in sorted(set(dense_seeds))}
            # a seed drawn as raw bits by several instances (a grid over 1 - S): drawn once a batch, shared
            shared = sorted(seed for seed in self.seed_rngs if dense_seeds.count(seed) > 1)
            row = {seed: j for j, seed in enumerate(shared)}
            self._shared_seeds = shared
            self._shared_row = np.asarray([-1 if self.instance_sparse[i] else row.get(self.seeds[i], -1)
                                           for i in range(self.k)], np.int64)
            self._shared: list[np.ndarray] = []
            self.blocks = group_blocks(self.instance_sparse, n_features, self.chunks, DENSE_BLOCK_ENTRIES,
                                       SPARSE_BLOCK_ENTRIES)
            self.block_sparse = [self.instance_sparse[i0] for i0, _, _, _ in self.blocks]
        else:
            self.rngs = [np.random.Generator(np.random.PCG64(instance_data_seed(seed))) for seed in self.seeds]
        self.sparse = self.k > 0 and all(self.instance_sparse)
        if dataset_size is not None:
            # stored sample-major ([k * N, n]) so a batch is one row gather
            self.dataset = np.ascontiguousarray(self._draw(dataset_size).transpose(0, 2, 1)).reshape(-1, self.n)
            self._offset = (np.arange(self.k, dtype=np.int64) * dataset_size)[:, None]
            self.dataset_size = dataset_size

    def set_probability(self, feature_probability) -> None:
        """Draw the next batches with new probabilities (a staged run's next stage; raw-bits or plain sampler only).

        :param feature_probability: (shape: [n_instances]) or (shape: [n_instances, n_features])
        """
        if any(self.instance_sparse) or self.dataset is not None:
            raise ValueError("only a fresh-sample dense sampler can change its probabilities")
        self.p = probability_array(feature_probability, self.n)

    def _draw(self, cols: int) -> np.ndarray:
        """[k, n, cols] of any law, each instance's rows from its own generator."""
        rngs = self._instance_rngs()
        return np.concatenate([draw_features(rngs[i], self.p[i : i + 1], self.n, cols, self.spec)
                               for i in range(self.k)]) if self.k else np.empty((0, self.n, cols), np.float32)

    def _instance_rngs(self) -> list[np.random.Generator]:
        """The generators of a stream not drawn in blocks (one per instance)."""
        if self.rngs is None:
            raise ValueError("this stream is drawn in blocks, one generator per instance and chunk")
        return self.rngs

    def _chunk_rngs(self, seed: int) -> list[np.random.Generator]:
        """One SFC64 generator per chunk of columns, spawned from ``seed``'s data seed."""
        return [np.random.Generator(np.random.SFC64(s)) for s in instance_data_seed(seed).spawn(len(self.chunks))]

    def _block_of(self, j: int) -> tuple[int, int, int, int, int]:
        """Block ``j``'s (i0, i1, c0, c1) and the index of its chunk of columns."""
        if self.blocks is None:
            raise ValueError("this stream is not drawn in blocks")
        i0, i1, c0, c1 = self.blocks[j]
        return i0, i1, c0, c1, self._chunk_index[c0]

    def begin_batch(self) -> None:
        """Start the next batch: draw the raw bits of every seed that several raw-bits instances share
        (once for all of them). Call it once before the blocks of a batch (:meth:`next` does)."""
        if self.seed_rngs is None or not self._shared_seeds:
            return
        shared = []
        for ci, (c0, c1) in enumerate(self.chunks):
            half = (self.n * (c1 - c0) + 1) // 2
            out = np.empty((len(self._shared_seeds), half), np.uint64)
            for r, seed in enumerate(self._shared_seeds):
                out[r] = self.seed_rngs[seed][ci].bit_generator.random_raw(half)
            shared.append(out)
        self._shared = shared

    def raw_block(self, j: int) -> np.ndarray:
        """Block ``j``'s random bits for the current batch (a block of :attr:`blocks` that is not
        :attr:`block_sparse`): int32 (shape: [i1 - i0, n_features, c1 - c0]) whose low 24 bits give the
        uniform draws ``u = (r & 0xFFFFFF) * 2**-24`` (:func:`uniform_from_raw`; numpy's own float32
        uniforms are 24 bits too), then ``x = sparse_from_uniform(u)``, which a caller may apply itself
        (the torch engine: a mask, a conversion and two fused ops). Each instance's rows are its seed's
        bits for this chunk (drawn by :meth:`begin_batch` when several instances share the seed): blocks
        may be drawn in any order or from several threads, but each exactly once per batch."""
        i0, i1, c0, c1, ci = self._block_of(j)
        size = self.n * (c1 - c0)
        half = (size + 1) // 2
        rows = self._shared_row[i0:i1]
        if (rows >= 0).all():
            out = self._shared[ci].take(rows, axis=0)
        elif i1 - i0 == 1:
            out = self._raw_of(i0, ci, half)[None]
        else:
            out = np.empty((i1 - i0, half), np.uint64)
            for r, i in enumerate(range(i0, i1)):
                out[r] = self._shared[ci][rows[r]] if rows[r] >= 0 else self._raw_of(i, ci, half)
        return out.view(np.int32)[:, :size].reshape(i1 - i0, self.n, c1 - c0)

    def _raw_of(self, i: int, ci: int, half: int) -> np.ndarray:
        """``half`` raw 64-bit draws of instance ``i``'s own (unshared) seed for chunk ``ci``."""
        if self.seed_rngs is None:
            raise ValueError("this stream is not drawn in blocks")
        return self.seed_rngs[self.seeds[i]][ci].bit_generator.random_raw(half)

    def block_sizes(self) -> list[int]:
        """Columns of each block of the plain (non-block) step."""
        B, c = self.batch_size, self.block
        return [min(c, B - c0) for c0 in range(0, B, c)]

    def sparse_block(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Block ``j`` of the next batch as (idx, values): sorted flat indices into its
        [i1 - i0, n_features, c1 - c0] array and float32 values uniform on [0, 1) (only for a block that
        is :attr:`block_sparse`). Each instance draws its positions (:func:`bernoulli_positions`: one
        row of ``n_features * cols`` trials, or one row per feature when its features differ) and then
        its values from its own generator for this chunk."""
        i0, i1, c0, c1, ci = self._block_of(j)
        cols = c1 - c0
        size = self.n * cols
        idx_parts, val_parts = [], []
        per_feature = self.p.shape[1] != 1
        for r in range(i1 - i0):
            rng = self.sparse_rngs[i0 + r][ci]
            p = self.p[i0 + r].ravel()
            idx = bernoulli_positions(rng, p, cols) if per_feature else bernoulli_positions(rng, p, size)
            val_parts.append(rng.random(idx.size, dtype=np.float32))
            idx_parts.append(idx.astype(np.int64) + r * size if r else idx.astype(np.int64))
        if len(idx_parts) == 1:
            return idx_parts[0], val_parts[0]
        return np.concatenate(idx_parts), np.concatenate(val_parts)

    def next(self) -> np.ndarray:
        """:return: (shape: [n_instances, n_features, batch]) float32"""
        if self.blocks is not None:
            self.begin_batch()
            x = np.empty((self.k, self.n, self.batch_size), np.float32)
            for j, (i0, i1, c0, c1) in enumerate(self.blocks):
                if self.block_sparse[j]:
                    idx, vals = self.sparse_block(j)
                    part = np.zeros((i1 - i0, self.n, c1 - c0), np.float32)
                    part.reshape(-1)[idx] = vals
                else:
                    part = sparse_from_uniform(uniform_from_raw(self.raw_block(j)), self.p[i0:i1])
                x[i0:i1, :, c0:c1] = part
            return x
        if self.dataset is None:
            return self._draw(self.batch_size)
        rngs = self._instance_rngs()
        idx = np.stack([rng.integers(0, self.dataset_size, self.batch_size) for rng in rngs]) + self._offset
        return np.ascontiguousarray(self.dataset[idx].transpose(0, 2, 1))

    @property
    def sampler(self) -> str:
        """Which stream this is: "instance-chunks" (generators per seed or instance and chunk of columns)
        or "instances" (one generator per instance)."""
        return "instance-chunks" if self.seed_rngs is not None else "instances"

    def _all_rngs(self) -> list[np.random.Generator]:
        """Every generator, in a fixed order (the saved state's)."""
        if self.seed_rngs is None:
            return self._instance_rngs()
        return ([r for seed in sorted(self.seed_rngs) for r in self.seed_rngs[seed]]
                + [r for i in sorted(self.sparse_rngs) for r in self.sparse_rngs[i]])

    def get_state(self) -> str:
        """Every generator's state as JSON (SFC64 states hold a uint64 array: written as a list)."""
        return json.dumps({"sampler": self.sampler, "states": [r.bit_generator.state for r in self._all_rngs()]},
                          default=lambda a: a.tolist())

    def set_state(self, state: str) -> None:
        st = json.loads(state)
        saved = st.get("sampler", "dense") if isinstance(st, dict) else "an older animsup's"
        if saved != self.sampler:
            raise ValueError(f"the saved data stream belongs to a different sampler ({saved}, not {self.sampler})")
        rngs = self._all_rngs()
        if len(st["states"]) != len(rngs):
            raise ValueError("the saved data stream has a different number of generators")
        for r, s_ in zip(rngs, st["states"]):
            r.bit_generator.state = s_


class CudaBatches:
    """The same distribution drawn on a torch device with a torch generator (used on CUDA).

    Independent features (uniform, presence_value or binary values, optionally normalised) are drawn on
    the device; correlated/anticorrelated sets and exactly_k are drawn by :class:`Batches` on the CPU
    and copied over (correct, not fast)."""

    def __init__(self, feature_probability, n_features: int, batch_size: int, seeds, *,
                 device, dataset_size: int | None = None, normalize: bool = False, block: int | None = None,
                 spec: DataSpec | None = None, allow_sparse: bool = True):
        import torch

        self.torch = torch
        self.spec = spec if spec is not None else DataSpec(normalise=normalize)
        self.block = batch_size
        self.k, self.n, self.batch_size, self.device = len(feature_probability), n_features, batch_size, device
        self.host = None
        if self.spec.has_sets or self.spec.kind == "exactly_k":
            self.host = Batches(feature_probability, n_features, batch_size, seeds, dataset_size=dataset_size,
                                spec=self.spec, allow_sparse=False)
            return
        self.set_probability(feature_probability)
        self.normalize = self.spec.normalise
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(int(data_seed(seeds).generate_state(1, np.uint64)[0] >> np.uint64(1)))
        self.dataset = None
        if dataset_size is not None:
            self.dataset = self._draw(dataset_size).transpose(1, 2).contiguous().reshape(-1, self.n)
            self._offset = (torch.arange(self.k, device=device) * dataset_size)[:, None]
            self.dataset_size = dataset_size

    def set_probability(self, feature_probability) -> None:
        """See :meth:`Batches.set_probability`."""
        if self.host is not None:
            self.host.set_probability(feature_probability)
            return
        self.p = self.torch.from_numpy(probability_array(feature_probability, self.n)).to(self.device)

    def _draw(self, cols: int):
        u = self.torch.rand((self.k, self.n, cols), generator=self.gen, device=self.device)
        if self.spec.kind == "presence_value":
            x = self.torch.where(u < self.p, u, 0.0)
        elif self.spec.kind == "binary":
            x = (u < self.p).float()
        else:
            x = self.torch.where(u < self.p, u / self.p, 0.0)
        return normalize_samples_(x) if self.normalize else x

    def next(self):
        if self.host is not None:
            return self.torch.from_numpy(self.host.next()).to(self.device)
        if self.dataset is None:
            return self._draw(self.batch_size)
        idx = self.torch.randint(0, self.dataset_size, (self.k, self.batch_size), generator=self.gen, device=self.device)
        return self.dataset[idx + self._offset].transpose(1, 2).contiguous()

    def get_state(self) -> np.ndarray:
        if self.host is not None:
            return np.frombuffer(self.host.get_state().encode(), np.uint8).copy()
        return self.gen.get_state().numpy().copy()

    def set_state(self, state) -> None:
        if self.host is not None:
            self.host.set_state(np.asarray(state, dtype=np.uint8).tobytes().decode())
            return
        self.gen.set_state(self.torch.from_numpy(np.asarray(state, dtype=np.uint8)))
