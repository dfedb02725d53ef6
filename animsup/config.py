"""The training configuration: one flat dataclass, written whole into every log header.

Instances are the product ``feature_probability x seeds`` in feature_probability-major
order: instance ``i`` has ``feature_probability[i // len(seeds)]`` and ``seeds[i % len(seeds)]``.
No torch import here (the CLI builds a config before deciding whether to import torch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from animsup.errors import AnimsupError

MODELS = ("tied", "untied", "linear")
INITS = ("xavier", "blog")
OPTIMIZERS = ("adamw", "adam", "sgd")
LR_SCHEDULES = ("constant", "linear", "cosine")
BACKENDS = ("auto", "torch", "numpy")
# "auto" trains a tied model whose batch has at most this many entries (instances x features x batch)
# with the numpy engine: per-op overhead dominates there, and numpy's is smaller (docs/benchmarks.md)
SMALL_BATCH_ENTRIES = 1 << 16
GRADIENTS = ("exact", "blog")
DEVICES = ("auto", "cpu", "cuda")
SNAPSHOT_SCHEDULES = ("log", "linear")
LOSS_REDUCTIONS = ("mean", "half-sum")

DEFAULT_WEIGHT_DECAY = {"adamw": 0.01, "adam": 0.0, "sgd": 0.0}


@dataclass
class TrainConfig:
    """Everything needed to rebuild a run (see docs/training.md for each knob).

    ``importance`` is a float base (I_i = base**i), an explicit list of n_features
    weights, or the string "constant" (all ones). ``weight_decay=None`` means the
    optimizer's default (0.01 for adamw, else 0). ``every`` (snapshot every k steps)
    wins over ``snapshots`` (that many snapshots spread by ``snapshot_schedule``).
    """

    # model
    n_features: int = 5
    n_hidden: int = 2
    model: str = "tied"
    init: str = "xavier"
    init_scale: float = 1.0  # W (and W_dec) of the chosen init times this (learning dynamics: 0.1)
    # data
    feature_probability: list = field(default_factory=lambda: [0.1])
    seeds: list = field(default_factory=lambda: [0])
    importance: Any = 0.9
    dataset_size: int | None = None
    normalize: bool = False
    # loss and optimisation
    loss_reduction: str = "mean"
    l1: float = 0.0
    steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float | None = None
    lr_schedule: str = "constant"
    # execution
    backend: str = "auto"
    gradient: str = "exact"
    device: str = "auto"
    threads: Any = "auto"
    # logging
    every: int | None = None
    snapshots: int = 200
    snapshot_schedule: str = "log"
    loss_every: int = 1
    checkpoint: bool = True

    # ------------------------------------------------------------------ derived

    def resolved_backend(self) -> str:
        """The engine that trains this config: ``backend``, or for "auto" numpy when the run is seed
        002's gradient or a small tied model off CUDA (:data:`SMALL_BATCH_ENTRIES`), else torch."""
        if self.backend != "auto":
            return self.backend
        if self.gradient == "blog":
            return "numpy"
        small = self.n_instances * self.n_features * self.batch_size <= SMALL_BATCH_ENTRIES
        return "numpy" if small and self.model == "tied" and self.device != "cuda" else "torch"

    @property
    def n_instances(self) -> int:
        return len(self.feature_probability) * len(self.seeds)

    def instance_probabilities(self) -> list[float]:
        """(length n_instances) 1 - S of each instance, feature_probability-major."""
        return [float(p) for p in self.feature_probability for _ in self.seeds]

    def instance_seeds(self) -> list[int]:
        """(length n_instances) the seed of each instance."""
        return [int(s) for _ in self.feature_probability for s in self.seeds]

    def resolved_weight_decay(self) -> float:
        return DEFAULT_WEIGHT_DECAY[self.optimizer] if self.weight_decay is None else float(self.weight_decay)

    def to_dict(self) -> dict:
        """The resolved config as plain JSON types (what goes into the log header)."""
        d = dataclasses.asdict(self)
        d["weight_decay"] = self.resolved_weight_decay()
        d["feature_probability"] = [float(p) for p in self.feature_probability]
        d["seeds"] = [int(s) for s in self.seeds]
        if isinstance(self.importance, (list, tuple)):
            d["importance"] = [float(v) for v in self.importance]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Rebuild from a header's config; unknown keys (from newer versions) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ checks

    def validate(self) -> "TrainConfig":
        """Raise :class:`AnimsupError` (one line) for anything the trainer cannot run."""

        def bad(msg: str):
            raise AnimsupError(msg)

        def positive_int(name: str, v, allow_none: bool = False):
            if v is None and allow_none:
                return
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(f"{name.replace('_', '-')} must be a positive integer, got {v!r}")

        for name in ("n_features", "n_hidden", "steps", "batch_size", "loss_every", "snapshots"):
            positive_int(name, getattr(self, name))
        if self.threads != "auto":
            positive_int("threads", self.threads)
        positive_int("every", self.every, allow_none=True)
        positive_int("dataset_size", self.dataset_size, allow_none=True)
        for name, choices in (
            ("model", MODELS),
            ("init", INITS),
            ("optimizer", OPTIMIZERS),
            ("lr_schedule", LR_SCHEDULES),
            ("backend", BACKENDS),
            ("gradient", GRADIENTS),
            ("device", DEVICES),
            ("snapshot_schedule", SNAPSHOT_SCHEDULES),
            ("loss_reduction", LOSS_REDUCTIONS),
        ):
            if getattr(self, name) not in choices:
                bad(f"unknown {name.replace('_', '-')} {getattr(self, name)!r} (choose from {', '.join(choices)})")
        if not self.feature_probability:
            bad("feature-probability needs at least one value")
        for p in self.feature_probability:
            if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 < p <= 1:
                bad(f"feature-probability must lie in (0, 1], got {p!r}")
        if not self.seeds:
            bad("seeds needs at least one value")
        for s in self.seeds:
            if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                bad(f"seeds must be non-negative integers, got {s!r}")
        if len(set(self.seeds)) != len(self.seeds):
            bad(f"seeds must be distinct, got {list(self.seeds)}")
        v = self.init_scale
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < float("inf"):
            bad(f"init-scale must be a finite number > 0, got {v!r}")
        for name in ("lr", "l1"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0 or v == float("inf"):
                bad(f"{name} must be a finite number >= 0, got {v!r}")
        if not self.lr > 0:
            bad(f"lr must be > 0, got {self.lr!r}")
        wd = self.weight_decay
        if wd is not None and (not isinstance(wd, (int, float)) or isinstance(wd, bool) or not 0 <= wd < float("inf")):
            bad(f"weight-decay must be a finite number >= 0, got {wd!r}")
        _check_importance(self.importance, self.n_features)
        if self.backend == "numpy":
            if self.model != "tied":
                bad(f"--backend numpy trains only the tied model (got --model {self.model}); use --backend torch")
            if self.device == "cuda":
                bad("--backend numpy runs on the CPU only; drop --device cuda or use --backend torch")
        if self.gradient == "blog" and self.backend != "torch":
            if self.model != "tied":
                bad(f"--gradient blog trains only the tied model (got --model {self.model})")
            if self.device == "cuda":
                bad("--gradient blog runs on the CPU only (numpy backend); drop --device cuda")
        elif self.gradient != "exact" and self.backend == "torch":
            bad("--gradient blog needs --backend numpy (the torch backend always uses the exact gradient)")
        return self


def _check_importance(importance, n_features: int) -> None:
    if isinstance(importance, str):
        if importance != "constant":
            raise AnimsupError(f"importance must be a number, a list of {n_features} numbers, or 'constant', got {importance!r}")
        return
    if isinstance(importance, (list, tuple)):
        if len(importance) != n_features:
            raise AnimsupError(f"importance list has {len(importance)} values, n-features is {n_features}")
        vals = importance
    elif isinstance(importance, (int, float)) and not isinstance(importance, bool):
        vals = [importance]
    else:
        raise AnimsupError(f"importance must be a number, a list, or 'constant', got {importance!r}")
    for v in vals:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < float("inf"):
            raise AnimsupError(f"importance values must be finite and > 0, got {v!r}")
