"""The training configuration: one flat dataclass, written whole into every log header.

Instances (``instances="product"``, the default) are the product, in this major-to-minor order, of

- the importance groups (one group unless ``importance`` is a list of per-feature lists),
- ``last_importance`` (the relative importance r of the last feature, multiplying its weight; one
  group when None),
- ``feature_probability`` (each entry one float for every feature, or one float per feature),
- ``seeds``,

so with the defaults instance ``i`` has ``feature_probability[i // len(seeds)]`` and
``seeds[i % len(seeds)]``. ``instances="zip"`` (:meth:`TrainConfig.from_arrays`) instead gives every
instance its own row: importance [K][n], feature_probability [K][n] and seeds [K] (repeats allowed).
:meth:`TrainConfig.importance_matrix` and :meth:`TrainConfig.probability_matrix` resolve either form to
(shape: [n_instances, n_features]) arrays.

No torch import here (the CLI builds a config before deciding whether to import torch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from animsup import models
from animsup.errors import AnimsupError

MODELS = models.names(trainable=True)
DATA_KINDS = ("uniform", "presence_value", "binary", "exactly_k")
INSTANCE_LAYOUTS = ("product", "zip")
INITS = ("notebook", "xavier-per-instance", "blog")  # see animsup.train.numpy_model.init_params
LEGACY_INITS = {"xavier": "xavier-per-instance"}  # what logs written before 0.2 call their init
OPTIMIZERS = ("adamw", "adam", "sgd")
LR_SCHEDULES = ("constant", "linear", "cosine")
BACKENDS = ("auto", "torch", "numpy")
# "auto" trains a tied model whose batch has at most this many entries (instances x features x batch)
# with the numpy engine: per-op overhead dominates there, and numpy's is smaller. Measured per step (CPU
# time, one thread, whole train() call): 5 features x 1 instance 0.06 ms numpy / 0.11 torch; 32 x 1 0.18 / 0.22;
# 5 x 10 instances 0.34 / 0.28; 6 x 8 0.33 / 0.27 (torch's block step, bench/bench_notebook.py's sizes)
SMALL_BATCH_ENTRIES = 1 << 15
GRADIENTS = ("exact", "blog")
DEVICES = ("auto", "cpu", "cuda")
SNAPSHOT_SCHEDULES = ("log", "linear")
LOSS_REDUCTIONS = ("mean", "half-sum")

DEFAULT_WEIGHT_DECAY = {"adamw": 0.01, "adam": 0.0, "sgd": 0.0}


@dataclass
class TrainConfig:
    """Everything needed to rebuild a run (see docs/training.md for each knob).

    ``importance`` is a float base (I_i = base**i), an explicit list of n_features
    weights, the string "constant" (all ones), or a list of such per-feature lists (importance
    groups; with ``instances="zip"`` one per instance). ``weight_decay=None`` means the
    optimizer's default (0.01 for adamw, else 0). ``every`` (snapshot every k steps)
    wins over ``snapshots`` (that many snapshots spread by ``snapshot_schedule``).

    ``data`` is the law of a present feature's value (:class:`animsup.train.data.DataSpec`): "uniform"
    U[0, 1), "presence_value" (seed 000: x = u if u < p else 0, so values are U(0, p)), "binary" (1),
    or "exactly_k" (exactly ``exactly_k`` features of each sample on, values U[0, 1); the feature
    probability is then k / n). ``correlated_sets``: features of a set switch on together;
    ``anticorrelated_sets``: at most one feature of a set is on (each still with probability p).
    """

    # model
    n_features: int = 5
    n_hidden: int = 2
    model: str = "tied"
    init: str = "notebook"
    init_scale: float = 1.0  # W (and W_dec) of the chosen init times this (learning dynamics: 0.1)
    # data
    feature_probability: list = field(default_factory=lambda: [0.1])
    seeds: list = field(default_factory=lambda: [0])
    importance: Any = 0.9
    last_importance: list | None = None
    instances: str = "product"
    dataset_size: int | None = None
    normalize: bool = False
    data: str = "uniform"
    exactly_k: int | None = None
    correlated_sets: list = field(default_factory=list)
    anticorrelated_sets: list = field(default_factory=list)
    # staged training (seed 000): stage j uses feature probability stages[j] (one float, or one per
    # feature) for every instance, from step j * steps // len(stages); a new optimiser per stage
    stages: list | None = None
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
        if self.stages:
            return "torch"
        small = self.n_instances * self.n_features * self.batch_size <= SMALL_BATCH_ENTRIES
        return "numpy" if small and "numpy" in models.get(self.model).engines and self.device != "cuda" else "torch"

    @property
    def n_instances(self) -> int:
        if self.instances == "zip":
            return len(self.seeds)
        return len(self._importance_groups()) * len(self.last_importance or [None]) * len(self.feature_probability) * len(self.seeds)

    @classmethod
    def from_arrays(cls, importance, feature_probability, seeds, **kw) -> "TrainConfig":
        """A config whose instance i has row i of each array (``instances="zip"``).

        :param importance: (shape: [n_instances, n_features]) weights > 0
        :param feature_probability: (shape: [n_instances, n_features]) or (shape: [n_instances]) in (0, 1]
        :param seeds: (shape: [n_instances]) non-negative ints (the same seed may repeat: same init)
        :param kw: any other field; ``n_features`` defaults to the arrays' width
        """
        import numpy as np

        imp = np.asarray(importance, dtype=np.float64)
        fp = np.asarray(feature_probability, dtype=np.float64)
        if imp.ndim != 2:
            raise AnimsupError(f"importance must be a [n_instances, n_features] array, got shape {list(imp.shape)}")
        kw.setdefault("n_features", imp.shape[1])
        return cls(importance=imp.tolist(), feature_probability=fp.tolist(), seeds=[int(s) for s in seeds],
                   instances="zip", **kw)

    def _importance_groups(self) -> list:
        imp = self.importance
        if isinstance(imp, (list, tuple)) and imp and isinstance(imp[0], (list, tuple)):
            return list(imp)
        return [imp]

    def _instance_rows(self) -> list[tuple]:
        """(importance group, r or None, probability entry, seed) per instance."""
        if self.instances == "zip":
            r = self.last_importance or [None] * len(self.seeds)
            return list(zip(self._importance_groups(), r, self.feature_probability, self.seeds))
        return [(i, r, p, s) for i in self._importance_groups() for r in (self.last_importance or [None])
                for p in self.feature_probability for s in self.seeds]

    def importance_matrix(self):
        """(shape: [n_instances, n_features]) float32 importance of every feature of every instance."""
        import numpy as np

        from animsup.train.data import importance_vector

        rows = []
        for imp, r, _, _ in self._instance_rows():
            v = importance_vector(imp, self.n_features).astype(np.float64)
            if r is not None:
                v[-1] *= float(r)
            rows.append(v)
        return np.asarray(rows, dtype=np.float32).reshape(-1, self.n_features)

    def probability_matrix(self, stage: int | None = None):
        """(shape: [n_instances, n_features]) float64 1 - S of every feature of every instance
        (of stage ``stage``, default 0, for a staged run, whose ``feature_probability`` is ignored;
        k / n for ``data="exactly_k"``)."""
        import numpy as np

        k, n = self.n_instances, self.n_features
        if self.data == "exactly_k":
            return np.full((k, n), (self.exactly_k or 0) / n)
        if self.stages:
            return np.broadcast_to(np.asarray(self.stages[stage or 0], np.float64), (k, n)).copy()
        rows = [np.broadcast_to(np.asarray(p, np.float64), (n,)) for _, _, p, _ in self._instance_rows()]
        return np.asarray(rows, dtype=np.float64).reshape(k, n)

    def stage_starts(self) -> list[int]:
        """The first step of each stage ([0] for an unstaged run)."""
        if not self.stages:
            return [0]
        return [j * self.steps // len(self.stages) for j in range(len(self.stages))]

    def instance_probabilities(self) -> list[float]:
        """(length n_instances) 1 - S of each instance: the mean over its features (its 1 - S when, as by
        default, every feature has the same probability)."""
        return [float(v) for v in self.probability_matrix().mean(1)]

    def instance_seeds(self) -> list[int]:
        """(length n_instances) the seed of each instance."""
        return [int(s) for _, _, _, s in self._instance_rows()]

    def data_spec(self):
        """The sampler's description of the input distribution (:class:`animsup.train.data.DataSpec`)."""
        from animsup.train.data import DataSpec

        return DataSpec(kind=self.data, normalise=bool(self.normalize), exactly_k=self.exactly_k,
                        correlated_sets=[list(map(int, s)) for s in self.correlated_sets],
                        anticorrelated_sets=[list(map(int, s)) for s in self.anticorrelated_sets])

    def resolved_weight_decay(self) -> float:
        return DEFAULT_WEIGHT_DECAY[self.optimizer] if self.weight_decay is None else float(self.weight_decay)

    def to_dict(self) -> dict:
        """The resolved config as plain JSON types (what goes into the log header)."""
        d = dataclasses.asdict(self)
        d["weight_decay"] = self.resolved_weight_decay()
        d["feature_probability"] = _floats(self.feature_probability)
        d["seeds"] = [int(s) for s in self.seeds]
        if isinstance(self.importance, (list, tuple)):
            d["importance"] = _floats(self.importance)
        if self.last_importance is not None:
            d["last_importance"] = _floats(self.last_importance)
        if self.stages is not None:
            d["stages"] = _floats(self.stages)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Rebuild from a header's config; unknown keys (from newer versions) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if d.get("init") in LEGACY_INITS:
            d["init"] = LEGACY_INITS[d["init"]]
        return cls(**d)

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
        if self.instances not in INSTANCE_LAYOUTS:
            bad(f"unknown instances {self.instances!r} (choose from {', '.join(INSTANCE_LAYOUTS)})")
        if self.data not in DATA_KINDS:
            bad(f"unknown data {self.data!r} (choose from {', '.join(DATA_KINDS)})")
        if isinstance(self.stages, (list, tuple)):  # (stage 0 also sets feature_probability: name the cause)
            for p in self.stages:
                _check_probability(p, self.n_features, "stages")
        if not isinstance(self.feature_probability, (list, tuple)) or not self.feature_probability:
            bad("feature-probability needs at least one value")
        for p in self.feature_probability:
            _check_probability(p, self.n_features, "feature-probability")
        if not isinstance(self.seeds, (list, tuple)) or not self.seeds:
            bad("seeds needs at least one value")
        for s in self.seeds:
            if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                bad(f"seeds must be non-negative integers, got {s!r}")
        if self.instances == "product" and len(set(self.seeds)) != len(self.seeds):
            bad(f"seeds must be distinct, got {list(self.seeds)}")
        v = self.init_scale
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < float("inf"):
            bad(f"init-scale must be a finite number > 0, got {v!r}")
        if self.last_importance is not None:
            if not isinstance(self.last_importance, (list, tuple)) or not self.last_importance:
                bad("last-importance needs at least one value")
            for r in self.last_importance:
                if not _is_number(r) or not 0 < r < float("inf"):
                    bad(f"last-importance values must be finite and > 0, got {r!r}")
        groups = self._importance_groups()
        for g in groups:
            _check_importance(g, self.n_features)
        if self.instances == "zip":
            k = len(self.seeds)
            lens = {"importance": len(groups), "feature-probability": len(self.feature_probability)}
            if self.last_importance is not None:
                lens["last-importance"] = len(self.last_importance)
            for name, v in lens.items():
                if v != k:
                    bad(f"instances zip: {name} has {v} rows, seeds has {k} (one row per instance)")
        self._validate_data(bad)
        for name in ("lr", "l1"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0 or v == float("inf"):
                bad(f"{name} must be a finite number >= 0, got {v!r}")
        if not self.lr > 0:
            bad(f"lr must be > 0, got {self.lr!r}")
        wd = self.weight_decay
        if wd is not None and (not isinstance(wd, (int, float)) or isinstance(wd, bool) or not 0 <= wd < float("inf")):
            bad(f"weight-decay must be a finite number >= 0, got {wd!r}")
        if self.backend == "numpy":
            if "numpy" not in models.get(self.model).engines:
                bad(f"--backend numpy trains only the tied model (got --model {self.model}); use --backend torch")
            if self.stages:
                bad("--backend numpy does not run staged training (--stages); use --backend torch")
            if self.device == "cuda":
                bad("--backend numpy runs on the CPU only; drop --device cuda or use --backend torch")
        if self.gradient == "blog" and self.backend != "torch":
            if "numpy" not in models.get(self.model).engines:
                bad(f"--gradient blog trains only the tied model (got --model {self.model})")
            if self.device == "cuda":
                bad("--gradient blog runs on the CPU only (numpy backend); drop --device cuda")
        elif self.gradient != "exact" and self.backend == "torch":
            bad("--gradient blog needs --backend numpy (the torch backend always uses the exact gradient)")
        return self

    def _validate_data(self, bad) -> None:
        n = self.n_features
        if self.data == "exactly_k":
            k = self.exactly_k
            if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
                bad(f"data exactly_k needs exactly-k between 1 and n-features ({n}), got {k!r}")
            if self.correlated_sets or self.anticorrelated_sets or self.stages:
                bad("data exactly_k cannot be combined with correlated/anticorrelated sets or stages")
            if len(self.feature_probability) != 1:
                bad("data exactly_k sets the feature probability to k/n: give no --feature-probability")
        elif self.exactly_k is not None:
            bad("exactly-k applies only to --data exactly_k")
        seen: set = set()
        for name in ("correlated_sets", "anticorrelated_sets"):
            sets = getattr(self, name)
            if not isinstance(sets, (list, tuple)):
                bad(f"{name.replace('_', '-')} must be a list of lists of feature indices")
            for st in sets:
                if not isinstance(st, (list, tuple)) or len(st) < 2:
                    bad(f"{name.replace('_', '-')}: each set needs at least 2 features, got {st!r}")
                for i in st:
                    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n:
                        bad(f"{name.replace('_', '-')}: feature index {i!r} is not in 0..{n - 1}")
                    if i in seen:
                        bad(f"feature {i} is in more than one correlated/anticorrelated set")
                    seen.add(i)
        if self.stages is not None:
            if not isinstance(self.stages, (list, tuple)) or not self.stages:
                bad("stages needs at least one feature probability")
            for p in self.stages:
                _check_probability(p, n, "stages")
            if len(self.stages) > self.steps:
                bad(f"{len(self.stages)} stages need at least as many steps, got --steps {self.steps}")
            if self.instances != "product" or len(self.feature_probability) != 1:
                bad("with stages, the stages set the feature probability: give no --feature-probability groups")
            if self.data == "exactly_k":
                bad("data exactly_k cannot be staged")
        if self.correlated_sets or self.anticorrelated_sets:
            probs = [self.probability_matrix(j) for j in range(len(self.stages or [0]))]
            for P in probs:
                for st in list(self.correlated_sets) + list(self.anticorrelated_sets):
                    if not (P[:, st] == P[:, st[:1]]).all():
                        bad(f"the features of set {list(st)} must share one feature probability")
                for st in self.anticorrelated_sets:
                    if (P[:, st[0]] * len(st) > 1 + 1e-6).any():
                        bad(f"anticorrelated set {list(st)}: {len(st)} x feature probability must be <= 1 "
                            f"(at most one of its features is on)")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _floats(v):
    """Nested lists of numbers as plain floats."""
    if isinstance(v, (list, tuple)):
        return [_floats(x) for x in v]
    return float(v) if _is_number(v) else v


def _check_probability(p, n_features: int, name: str) -> None:
    vals = p if isinstance(p, (list, tuple)) else [p]
    if isinstance(p, (list, tuple)) and len(p) != n_features:
        raise AnimsupError(f"{name}: a per-feature list has {len(p)} values, n-features is {n_features}")
    for v in vals:
        if not _is_number(v) or not 0 < v <= 1:
            raise AnimsupError(f"{name} must lie in (0, 1], got {v!r}")


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
