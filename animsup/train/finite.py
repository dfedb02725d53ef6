"""Finite training sets: each instance trains full-batch on its own T fixed examples (Henighan et al. 2023).

Henighan, Carter, Hume, Elhage, Lasenby, Fort, Schiefer, Olah, "Superposition, Memorization, and
Double Descent", Transformer Circuits Thread 2023 (transformer-circuits.pub/2023/toy-double-descent):
the tied ReLU model ``ReLU(WᵀWx + b)`` trained on a *finite* set of T examples stores the data points
in superposition when T is small and the features when T is large; the test loss on fresh samples
peaks in between. Their setting: n = 10,000 features, m = 2, S = 0.999, every sample L2-normalised,
importance 1, AdamW (weight decay 1e-2), 50,000 full-batch updates, the learning rate warmed up
linearly to 1e-3 over 2,500 steps then cosine-decayed to 0 (:data:`PAPER`).

One run trains one instance per (T, seed) in one optimiser (every update is per element, so each
instance trains as if alone). Instance ``i`` with training-set size T and seed s:

- its training set is T samples of the paper's law (:func:`animsup.train.data.draw_features`,
  L2-normalised) drawn from a generator seeded by ``(TRAIN_TAG, s, T)`` alone
  (:func:`training_set`), so it can be regenerated from the log header;
- its test set is ``test_size`` fresh samples from ``(TEST_TAG, s)``, the same for every T of a seed;
- W starts as N(0, 2/(n+m)) drawn from :func:`animsup.train.data.init_rng` (s), b = 0.

The log (schema v2) has a snapshot of W, b (the training loss as its loss), the training loss as the
fine loss curve, the named curve ``test_loss`` (one value per instance, every ``test_every`` steps)
and the header field ``train_set`` (:data:`RECIPE`, ``sizes``: T of each instance, ``test_size``,
``stored``: the first examples of each instance's set, at most 5,000, are stored in the log as sparse
``train_examples`` records right after the header, :mod:`animsup.log.train_examples`, so a render
draws their hidden vectors without torch).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from animsup.errors import AnimsupError
from animsup.log import train_examples
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.train.data import DataSpec, draw_features, init_rng

RECIPE = "animsup.finite/1"  # the header's train_set["recipe"]: bump when the sets drawn change
TRAIN_TAG, TEST_TAG = 0x7EA1, 0x7E57
#: Henighan et al. 2023's setting (see the module docstring)
PAPER = {"n_features": 10_000, "n_hidden": 2, "feature_probability": 0.001, "steps": 50_000, "warmup_steps": 2_500,
         "lr": 1e-3, "weight_decay": 1e-2}


@dataclass
class FiniteConfig:
    """A finite-data run: one instance per (train size, seed), T-major.

    :param train_sizes: T of each instance group (>= 1)
    :param feature_probability: 1 - S of every feature
    :param test_size: fresh samples per seed for the test loss
    :param warmup_steps: linear warm-up of the learning rate, then a cosine decay to 0
    :param test_every: steps between test-loss evaluations (the ``test_loss`` curve)
    """

    n_features: int = 1000
    n_hidden: int = 2
    feature_probability: float = 0.01
    train_sizes: list[int] = field(default_factory=lambda: [3, 10, 30, 100, 300, 1000])
    seeds: list[int] = field(default_factory=lambda: [0])
    test_size: int = 1000
    steps: int = 10_000
    warmup_steps: int = 500
    lr: float = 1e-3
    weight_decay: float = 1e-2
    snapshots: int = 40
    test_every: int = 100
    device: str = "cpu"

    @property
    def n_instances(self) -> int:
        return len(self.train_sizes) * len(self.seeds)

    def instance_rows(self) -> list[tuple[int, int]]:
        """(T, seed) of every instance, T-major."""
        return [(int(t), int(s)) for t in self.train_sizes for s in self.seeds]

    def validate(self) -> FiniteConfig:
        """Raise :class:`AnimsupError` (one line) for a config that cannot run; return self."""
        if min(self.n_features, self.n_hidden, self.steps, self.test_size, self.snapshots, self.test_every) < 1:
            raise AnimsupError("n_features, n_hidden, steps, test_size, snapshots and test_every must be >= 1")
        if not self.train_sizes or min(self.train_sizes) < 1:
            raise AnimsupError("train_sizes must be one or more sizes >= 1")
        if not self.seeds or min(self.seeds) < 0 or len(set(self.seeds)) != len(self.seeds):
            raise AnimsupError("seeds must be distinct integers >= 0")
        if not 0 < self.feature_probability <= 1:
            raise AnimsupError(f"feature_probability must be in (0, 1], got {self.feature_probability}")
        if not (0 <= self.warmup_steps < self.steps and self.lr > 0 and math.isfinite(self.lr)):
            raise AnimsupError("warmup_steps must be in [0, steps) and lr > 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def lr_at(step: int, cfg: FiniteConfig) -> float:
    """Learning rate of update ``step``: linear warm-up to ``lr`` over ``warmup_steps``, then cosine to 0."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * frac))


def _draw(tag: int, key: tuple[int, ...], n: int, p: float, count: int) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([tag, *key])))
    x = draw_features(rng, np.full((1, 1, 1), p, np.float32), n, count, DataSpec(normalise=True))
    return x[0]


def training_set(n_features: int, feature_probability: float, size: int, seed: int) -> np.ndarray:
    """The T = ``size`` training examples of an instance with seed ``seed``.

    :return: (shape: [n_features, size]) float32, each column L2-normalised (all-zero columns stay zero)
    """
    return _draw(TRAIN_TAG, (int(seed), int(size)), n_features, feature_probability, size)


def test_set(n_features: int, feature_probability: float, size: int, seed: int) -> np.ndarray:
    """``size`` fresh samples for the test loss of seed ``seed``. (shape: [n_features, size]) float32"""
    return _draw(TEST_TAG, (int(seed),), n_features, feature_probability, size)


def training_sets_of(header: Any) -> list[np.ndarray]:
    """Regenerate every instance's training set from a finite run's log header
    (:class:`animsup.log.schema.Header`): (shape: [n_features, T_i]) per instance.

    :raises AnimsupError: the log is not a finite run, or of a recipe this version does not draw
    """
    ts = header.raw.get("train_set")
    if not isinstance(ts, dict) or ts.get("recipe") != RECIPE:
        raise AnimsupError(f"this log has no training set of recipe {RECIPE} (not a finite-data run)")
    p = float(header.config.get("feature_probability", 0))
    return [training_set(header.n_features, p, int(t), int(s)) for t, s in zip(ts["sizes"], header.seed)]


@dataclass
class FiniteResult:
    """What :func:`train_finite` returns.

    :param train_loss: (shape: [n_instances]) final full-batch training loss
    :param test_loss: (shape: [n_instances]) final loss on the fresh test samples
    :param W: (shape: [n_instances, n_hidden, n_features]); b: (shape: [n_instances, n_features])
    :param hidden: per instance (shape: [n_hidden, T_i]): the training examples' hidden vectors W x
    """

    config: FiniteConfig
    train_sizes: list[int]
    train_loss: np.ndarray
    test_loss: np.ndarray
    W: np.ndarray
    b: np.ndarray
    hidden: list[np.ndarray]
    log_path: str
    wall_seconds: float


def _losses(torch: Any, W: Any, b: Any, sets: list[Any]) -> Any:
    """(shape: [k]) mean squared error of ReLU(WᵀWx + b) over each instance's samples and features."""
    out = []
    for i, x in enumerate(sets):
        h = W[i] @ x
        y = torch.relu(W[i].T @ h + b[i][:, None])
        out.append(((y - x) ** 2).mean())
    return torch.stack(out)


def snapshot_steps(steps: int, snapshots: int) -> list[int]:
    """Snapshot steps, log-spaced, always 0 and ``steps``."""
    s = np.unique(np.round(np.geomspace(1, steps, max(2, snapshots))).astype(int))
    return sorted({0, *map(int, s)})


def train_finite(cfg: FiniteConfig, log_path: str | os.PathLike[str], *, force: bool = False) -> FiniteResult:
    """Train every (T, seed) instance of ``cfg`` full-batch on its T examples and write the log.

    Steps ``0..steps``: the loss of step s is that of the params after s updates (the last step is
    not followed by an update), as in :mod:`animsup.train.loop`.
    """
    import torch

    cfg.validate()
    t0 = time.time()
    dev = torch.device(cfg.device)
    rows = cfg.instance_rows()
    n, m, p = cfg.n_features, cfg.n_hidden, cfg.feature_probability
    sets_np = [training_set(n, p, t, s) for t, s in rows]
    sets = [torch.from_numpy(x).to(dev) for x in sets_np]
    stored = [train_examples.stored_count(x) for x in sets_np]
    tests = {s: torch.from_numpy(test_set(n, p, cfg.test_size, s)).to(dev) for s in cfg.seeds}
    W0 = np.stack([init_rng(s).normal(0.0, math.sqrt(2.0 / (n + m)), (m, n)) for _, s in rows]).astype(np.float32)
    W = torch.tensor(W0, device=dev, requires_grad=True)
    b = torch.zeros((len(rows), n), device=dev, requires_grad=True)
    opt = torch.optim.AdamW([W, b], lr=cfg.lr, weight_decay=cfg.weight_decay)
    header = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=p, seed=[s for _, s in rows],
                         importance=1.0, config=cfg.to_dict(), data=DataSpec(normalise=True).header(),
                         curves=["test_loss"], model_label=f"tied, finite data (T = {rows[0][0]}..{rows[-1][0]})",
                         train_set={"recipe": RECIPE, "sizes": [t for t, _ in rows], "test_size": cfg.test_size,
                                    "stored": train_examples.stored_field(stored)})
    snaps = set(snapshot_steps(cfg.steps, cfg.snapshots))
    with LogWriter(log_path, header, force=force) as w:
        for i, (x, c) in enumerate(zip(sets_np, stored)):  # the stored training examples follow the header
            for rec in train_examples.records_of(i, x, c):
                w.write(rec)
        for s in range(cfg.steps + 1):
            loss = _losses(torch, W, b, sets)
            tested = s % cfg.test_every == 0 or s == cfg.steps
            if tested or s in snaps:
                train_np = loss.detach().cpu().numpy()
                w.losses(s, 1, train_np[None, :])
            if tested:
                with torch.no_grad():
                    test = _losses(torch, W, b, [tests[sd] for _, sd in rows]).cpu().numpy()
                w.curve("test_loss", s, test)
            if s in snaps:
                w.snapshot(s, train_np, W.detach().cpu().numpy(), b.detach().cpu().numpy())
            if s == cfg.steps:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(s, cfg)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
        wall = time.time() - t0
        w.end("completed", cfg.steps, wall)
    with torch.no_grad():
        hidden = [(W[i] @ x).cpu().numpy() for i, x in enumerate(sets)]
    return FiniteResult(cfg, [t for t, _ in rows], loss.detach().cpu().numpy(), test, W.detach().cpu().numpy(),
                        b.detach().cpu().numpy(), hidden, os.fspath(log_path), wall)


def result_from_log(log_path: str | os.PathLike[str]) -> FiniteResult:
    """The :class:`FiniteResult` of a finished finite-data log (its last snapshot; the hidden vectors
    from the regenerated training sets), without training.

    :raises AnimsupError: not a finite-data log, or one that did not complete
    """
    from animsup.log.reader import read_log

    run = read_log(os.fspath(log_path))
    sets = training_sets_of(run.header)
    if run.status != "completed" or "test_loss" not in run.curves or run.loss is None:
        raise AnimsupError(f"{os.fspath(log_path)}: the finite-data run did not complete")
    cfg = FiniteConfig(**{k: v for k, v in run.header.config.items() if k in FiniteConfig.__dataclass_fields__})
    W, b = run.W[-1].astype(np.float32), run.b[-1].astype(np.float32)
    hidden = [W[i] @ x for i, x in enumerate(sets)]
    wall = float((run.end or {}).get("wall_seconds", 0.0))
    return FiniteResult(cfg, [x.shape[1] for x in sets], np.asarray(run.loss[-1]), run.curves["test_loss"][1][-1], W, b,
                        hidden, os.fspath(log_path), wall)
