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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from animsup import models
from animsup.errors import AnimsupError, check_memory
from animsup.options import Described, check_choice, described, doc_rows, is_int, is_real, markdown_table, option

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import numpy as np
    from numpy.typing import ArrayLike

    from animsup.train.data import DataSpec

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

#: a feature probability entry: one 1 - S for every feature, or one per feature
Probability = float | list[float]
#: ``importance``: a base b (I_i = b**i), "constant", n_features weights, or a list of groups of weights
Importance = float | str | list[float] | list[list[float]]
#: one importance group (the importance of one instance group)
ImportanceGroup = float | str | list[float]

_RANGE = "values or ranges START:STOP:COUNT[:log|lin]"
_GRID = "a value may be a range `START:STOP:COUNT[:log|lin]` (log-spaced by default, both ends included)"


@dataclass
class TrainConfig:
    """Everything needed to rebuild a run (every option, its default and limit: the table in
    docs/training.md, generated from the field metadata by :func:`options_table`).

    ``importance`` is a float base (I_i = base**i), an explicit list of n_features
    weights, the string "constant" (all ones), or a list of such per-feature lists (importance
    groups; with ``instances="zip"`` one per instance). ``weight_decay=None`` means the
    optimizer's default (0.01 for adamw, else 0). ``every`` (snapshot every k steps)
    wins over ``snapshots`` (that many snapshots spread by ``snapshot_schedule``).

    ``data`` is the law of a present feature's value (:class:`animsup.train.data.DataSpec`): "uniform"
    U[0, 1), "presence_value" (seed 000: x = u if u < p else 0, so values are U(0, p)), "binary" (1),
    or "exactly_k" (exactly ``exactly_k`` features of each sample on, values U[0, 1); the feature
    probability is then k / n). ``correlated_sets``: features of a set switch on together;
    ``anticorrelated_sets``: the paper's law — a set is all-zero with probability S, else exactly one
    randomly chosen feature of it is on (each feature's density p / set size); ``exclusive_sets``: at
    most one feature of a set is on, each still with density p (what ``anticorrelated_sets`` meant
    before data recipe 2: :data:`animsup.train.data.DATA_RECIPE`).

    :meth:`validate` checks it (one line, :class:`animsup.errors.AnimsupError`, per concern).
    """

    # model
    n_features: int = option(5, "number of features n", ">= 1", group="model", metavar="N", parse="int",
                             doc="n features squeezed into the hidden dimensions")
    n_hidden: int = option(2, "hidden dimensions m", ">= 1", group="model", metavar="M", parse="int")
    model: str = option("tied", "; ".join(f"{name}: {models.get(name).formula}" for name in MODELS),
                        choices=MODELS, group="model",
                        doc="; ".join(f"`{name}`: y = {models.get(name).formula} — {models.get(name).description}"
                                      for name in MODELS) + "; the numpy backend trains `tied` only")
    init: str = option(
        "notebook", "notebook: the paper's notebook, W ~ N(0, 2/(m(n + n_instances))), b = 0 (xavier_normal_ "
        "on the whole [n_instances, n, m] tensor: the scale depends on how many instances are "
        "trained together); xavier-per-instance: W ~ N(0, 2/(n + m)) per instance, b = 0; "
        "blog: W, b ~ U[0, 0.001) (seed 002)", choices=INITS, group="model",
        doc="`notebook`: the paper's notebook, which applies `xavier_normal_` to the whole "
            "`[n_instances, n_features, n_hidden]` tensor: W ~ N(0, 2/(m·(n + n_instances))), b = 0 — the scale "
            "**depends on how many instances are trained together** (4.5× smaller than per-instance at n=200, "
            "m=20, 20 instances); `xavier-per-instance`: W ~ N(0, 2/(n+m)) drawn for each instance's own [m, n] "
            "matrix, b = 0 (called `xavier` before 0.2; old logs resume with it); `blog`: W, b ~ U[0, 0.001) "
            "(seed 002). Each instance draws from its own seed's stream, so `notebook` matches the notebook's "
            "std, not torch's random numbers")
    init_scale: float = option(1.0, "multiply the initial W by C (the learning-dynamics runs use 0.1)", "> 0, finite",
                               group="model", metavar="C", parse="float",
                               doc="multiply the initial W (and W_dec) by C (b unchanged); the learning-dynamics "
                                   "runs start small, C = 0.1")
    init_instances: int | None = option(
        None, cli=False, limit=">= 1",
        doc="`notebook` init: the instance count in its std (default: this run's n_instances); a sweep's shards "
            "set their whole group's, so cutting a grid into shards does not change the init")
    # data
    feature_probability: list[Probability] = option(
        factory=lambda: [0.1], help="1 - S: probability that a feature is non-zero; one instance group per value "
                                    f"({_RANGE}; default {{default}})",
        limit="(0, 1]; one value or n_features per entry", group="data and loss", flags=("--feature-probability", "-p"),
        parse="grid", nargs="+", metavar="P", cli_default=None,
        doc=f"1 − S; one group of instances per value (one number, or one per feature); {_GRID}")
    seeds: list[int] = option(
        factory=lambda: [0], help="one number K: seeds 0..K-1; several numbers: exactly these seeds (default: 0)",
        limit=">= 0, distinct (zip: repeats allowed)", group="data and loss", parse="int", nargs="+", metavar="K",
        cli_default=None, doc="`--seeds K`: seeds 0…K−1; `--seeds S1 S2 …`: exactly those; `--seed S`: one seed")
    importance: Importance = option(
        0.9, "a base b (I_i = b**i), 'constant', or one weight per feature", "> 0, finite",
        group="data and loss", nargs="+", metavar="I", cli_default=["0.9"],
        doc="a base b (I_i = bⁱ), `constant`, or one weight per feature (library: also a list of such "
            "lists, one importance group each)")
    last_importance: list[float] | None = option(
        None, "relative importance r of the last feature (its weight times r); one instance group per "
              f"value ({_RANGE}) — the phase-diagram axis", "> 0, finite",
        group="data and loss", parse="grid", nargs="+", metavar="R",
        doc="relative importance r of the last feature (its weight times r); one group of instances per value, "
            "ranges as above. Instances are the product r × 1 − S × seeds (r-major): `--n-features 2 --n-hidden 1 "
            "--importance constant --last-importance 0.1:10:20 -p 0.01:1:20 --seeds 10` is the 4,000-model phase grid")
    instances: str = option("product", choices=INSTANCE_LAYOUTS, cli=False,
                            doc="`product`: instances are importance groups × `last_importance` × "
                                "`feature_probability` × `seeds`; `zip`: one row of each per instance "
                                "(`TrainConfig.from_arrays`)")
    dataset_size: int | None = option(
        None, "sample batches from a fixed pre-drawn set of N samples (seed 002) instead of fresh samples", ">= 1",
        group="data and loss", parse="int", metavar="N",
        doc="sample batches (with replacement) from a fixed pre-drawn set of N samples per instance (seed 002); "
            "default: fresh samples")
    normalize: bool = option(False, "scale each sample to unit L2 norm (seed 000)", group="data and loss",
                             action="store_true")
    data: str = option(
        "uniform", "value of a present feature: uniform U[0,1); presence_value: x = u if u < p (seed 000); "
                   "binary: 1; exactly_k: exactly --exactly-k features on per sample",
        choices=DATA_KINDS, group="data and loss",
        doc="value of a present feature: `uniform` U[0, 1); `presence_value` x = u if u < p (seed 000: values "
            "U(0, p)); `binary` 1; `exactly_k` exactly `--exactly-k K` features on per sample (then 1 − S = K/n)")
    exactly_k: int | None = option(None, "features on per sample (--data exactly_k)", "1..n_features",
                                   group="data and loss", parse="int", metavar="K")
    correlated_sets: list[list[int]] = option(
        factory=list, help="sets of feature indices that switch on together, e.g. 0,1 2,3",
        limit="disjoint sets of >= 2 indices", group="data and loss", parse="sets", nargs="+", metavar="I,J,..",
        doc="features of a set switch on together (each with its own U value); sets of any size, disjoint")
    anticorrelated_sets: list[list[int]] = option(
        factory=list, help="the paper's anticorrelated sets: all off with probability S, else exactly one on, e.g. 0,1 2,3",
        limit="disjoint sets of >= 2 indices", group="data and loss", parse="sets", nargs="+",
        metavar="I,J,..", doc="the paper's law: a set is all-zero with probability S, else exactly one randomly "
                              "chosen feature of it is on (each feature's density (1 − S) / set size)")
    exclusive_sets: list[list[int]] = option(
        factory=list, help="sets of feature indices of which at most one is on, each with density p, e.g. 0,1 2,3",
        limit="disjoint sets of >= 2 indices; size × p <= 1", group="data and loss", parse="sets", nargs="+",
        metavar="I,J,..", doc="at most one feature of a set is on, each still with density 1 − S (animsup's "
                              "`anticorrelated_sets` before data recipe 2; a set is then on with probability size × (1 − S))")
    # staged training (seed 000): stage j uses feature probability stages[j] (one float, or one per
    # feature) for every instance, from step j * steps // len(stages); a new optimiser per stage
    stages: list[Probability] | None = option(
        None, "staged training (seed 000): feature probability of each stage; --steps split evenly, "
              "a new optimiser per stage, one log", "(0, 1]; at most --steps stages",
        group="data and loss", parse="grid", nargs="+", metavar="P",
        doc="staged training (seed 000): stage j uses 1 − S = P_j for every instance, from step j·steps/len; a new "
            "optimiser per stage (lr schedule restarts), weights carried over; one log with `stages` in its header; "
            "a staged run resumes only to its own total")
    # loss and optimisation
    loss_reduction: str = option(
        "mean", "mean: mean over batch and features (notebook); half-sum: ½·sum over features, mean over batch "
                "(seed 002)", choices=LOSS_REDUCTIONS, group="data and loss",
        doc="see [loss conventions](#loss-conventions)")
    l1: float = option(0.0, "L1 penalty on W and b (seed 002's alpha)", ">= 0, finite", group="data and loss",
                       parse="float", metavar="ALPHA", doc="L1 penalty α(Σ|W| + Σ|b|) (seed 002's alpha)")
    steps: int = option(10_000, "optimiser updates (default: {default}; with --resume: the new total)", ">= 1",
                        group="optimisation", parse="int", cli_default=None)
    batch_size: int = option(1024, limit=">= 1", group="optimisation", parse="int", metavar="B",
                             doc="samples per step (the notebook's)")
    lr: float = option(1e-3, "learning rate (seed 002: ~1 with --optimizer sgd)", "> 0, finite",
                       group="optimisation", parse="float")
    optimizer: str = option("adamw", choices=OPTIMIZERS, group="optimisation",
                            doc="`adamw`, `adam`, `sgd` (plain SGD as in seed 002)")
    weight_decay: float | None = option(None, "default: 0.01 for adamw, 0 otherwise", ">= 0, finite",
                                        group="optimisation", parse="float", metavar="WD",
                                        doc="adamw: decoupled; adam/sgd: L2 added to the gradient; "
                                            "default: 0.01 for adamw, 0 otherwise")
    lr_schedule: str = option("constant", choices=LR_SCHEDULES, group="optimisation",
                              doc="`linear`: lr·(1 − s/steps); `cosine`: lr·cos(π s / 2 steps) (the notebook's)")
    # execution
    backend: str = option(
        "auto", "torch (all models), numpy (tied only, hand-derived gradients), or auto: numpy for seed "
                "002's gradient and small tied runs off CUDA (faster there), else torch",
        choices=BACKENDS, group="execution",
        doc="`torch` (every model, CPU or CUDA); `numpy`: tied model only, hand-derived gradients, CPU; `auto`: "
            f"numpy for `--gradient blog` and for small tied runs off CUDA (at most 2¹⁵ = {SMALL_BATCH_ENTRIES:,} "
            "instances × features × batch entries a step, where numpy's lower per-op cost wins), else torch")
    gradient: str = option("exact", "numpy backend: exact gradient, or seed 002's printed (blog) formulas",
                           choices=GRADIENTS, group="execution",
                           doc="numpy backend: `exact` or `blog` (seed 002's printed formulas)")
    device: str = option("auto", choices=DEVICES, group="execution",
                         doc="`auto` (CUDA when present), `cpu`, `cuda`")
    threads: int | str = option(
        "auto", "CPU threads. Sparse runs (p <= 0.25) process blocks of the batch on N threads "
                "(auto: 1 or all cores, whichever the last steps ran faster; the result is the same); "
                "other runs use N torch intra-op threads (auto: 1 — on 2 busy cores more were up to 30x slower)",
        ">= 1 or auto", group="execution", parse="threads", metavar="N|auto",
        doc="CPU threads. Sparse runs on the CPU (see [data](#data-importance-and-the-loss)) process their blocks "
            "of columns on N threads, each with one torch thread; the result does not depend on N. `auto` runs "
            "each step on 1 thread or on every core (at most one per block), whichever the last steps ran faster "
            "(`model.ThreadTuner`: on two idle cores 2 threads were 1.7× faster, on a busy machine up to 2× "
            "slower). Other runs: N torch intra-op threads; `auto` = 1 (2 were up to 30× slower on a busy "
            "2-core machine)")
    # logging
    every: int | None = option(None, "a snapshot every K steps (overrides --snapshots)", ">= 1",
                               group="snapshots", parse="int", metavar="K")
    snapshots: int = option(200, "number of snapshots", ">= 1", group="snapshots", parse="int", metavar="N",
                            doc="N snapshots, spread by `--snapshot-schedule`; step 0 and the last step are "
                                "always included")
    snapshot_schedule: str = option("log", "log: denser early where things move fast; linear: evenly spaced",
                                    choices=SNAPSHOT_SCHEDULES, group="snapshots")
    loss_every: int = option(1, "record the loss every K steps", ">= 1", group="snapshots", parse="int",
                             metavar="K", doc="the fine loss curve: the loss of every K-th step")
    checkpoint: bool = option(True, "do not write LOG.ckpt (a resume then replays from step 0)",
                              group="snapshots", flags=("--no-checkpoint",), action="store_false",
                              doc="`--no-checkpoint`: do not write `LOG.ckpt` (a resume then replays from step 0)")
    # hierarchical data (issue 24, feature absorption): appended fields
    hierarchical_sets: list[list[int]] = option(
        factory=list, help="parent/child sets: the first index is the parent, the others its children, "
                           "on only with it, e.g. 0,1,2 3,4", limit="disjoint sets of >= 2 indices",
        group="data and loss", parse="sets", nargs="+", metavar="P,C,..",
        doc="parent/child sets (Chanin et al. 2024's absorption setting): the first index is the parent (drawn "
            "as usual), each other index a child that is on only when the parent is, then with probability "
            "`--child-probability`")
    child_probability: float = option(0.5, "P(child on | parent on) in a hierarchical set", "(0, 1]",
                                      group="data and loss", parse="float", metavar="Q")

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
    def from_arrays(cls, importance: ArrayLike, feature_probability: ArrayLike, seeds: Iterable[int],
                    **kw: Any) -> TrainConfig:
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

    def _importance_groups(self) -> list[ImportanceGroup]:
        imp = self.importance
        if isinstance(imp, (list, tuple)) and imp and isinstance(imp[0], (list, tuple)):
            return [*imp]  # a list of per-feature lists: one group each
        return [cast("ImportanceGroup", imp)]  # (a flat list is one group)

    def _instance_rows(self) -> list[tuple[ImportanceGroup, float | None, Probability, int]]:
        """(importance group, r or None, probability entry, seed) per instance."""
        last: list[float | None] = [*self.last_importance] if self.last_importance else [None]
        if self.instances == "zip":
            rs = last if self.last_importance else last * len(self.seeds)
            return list(zip(self._importance_groups(), rs, self.feature_probability, self.seeds))
        return [(i, r, p, s) for i in self._importance_groups() for r in last
                for p in self.feature_probability for s in self.seeds]

    def importance_matrix(self) -> np.ndarray:
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

    def probability_matrix(self, stage: int | None = None) -> np.ndarray:
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

    def data_spec(self) -> DataSpec:
        """The sampler's description of the input distribution (:class:`animsup.train.data.DataSpec`)."""
        from animsup.train.data import DataSpec

        return DataSpec(kind=self.data, normalise=bool(self.normalize), exactly_k=self.exactly_k,
                        correlated_sets=[list(map(int, s)) for s in self.correlated_sets],
                        anticorrelated_sets=[list(map(int, s)) for s in self.anticorrelated_sets],
                        hierarchical_sets=[list(map(int, s)) for s in self.hierarchical_sets],
                        child_probability=float(self.child_probability),
                        exclusive_sets=[list(map(int, s)) for s in self.exclusive_sets])

    def resolved_weight_decay(self) -> float:
        return DEFAULT_WEIGHT_DECAY[self.optimizer] if self.weight_decay is None else float(self.weight_decay)

    def to_dict(self) -> dict[str, object]:
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
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from a header's config; unknown keys (from newer versions) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if d.get("init") in LEGACY_INITS:
            d["init"] = LEGACY_INITS[d["init"]]
        if "exclusive_sets" not in d and d.get("anticorrelated_sets"):  # data recipe 1: its law is exclusive_sets
            d["exclusive_sets"], d["anticorrelated_sets"] = d["anticorrelated_sets"], []
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ checks

    def validate(self) -> TrainConfig:
        """Raise :class:`AnimsupError` (one line) for anything the trainer cannot run; return self.

        One named check per concern, in this order: sizes, choices, probabilities, seeds, init,
        importance, the instance layout, the data recipe, stages, the optimiser, the backend."""
        self._check_sizes()
        self._check_choices()
        self._check_probabilities()
        self._check_seeds()
        self._check_init()
        self._check_importance()
        self._check_layout()
        self._check_data_recipe()
        self._check_stages()
        self._check_set_probabilities()
        self._check_optimiser()
        self._check_backend()
        self._check_memory()
        return self

    def estimated_bytes(self) -> int:
        """The memory a CPU run needs, roughly: the parameters with their gradient and two
        optimiser moments (4 copies of K·m·n, twice with a decoder, plus the bias K·n), the batch
        (K·B·n inputs, outputs, errors and their gradient, and K·B·m hidden values and their
        gradient) and a fixed dataset (K·dataset_size·n), at 4 bytes a number (8 for the numpy engine)."""
        k, n, m, batch = self.n_instances, self.n_features, self.n_hidden, self.batch_size
        params = k * n * m * (2 if models.get(self.model).has_decoder else 1) + k * n
        per_batch = k * batch * (4 * n + 2 * m)
        data = k * (self.dataset_size or 0) * n
        return (8 if self.resolved_backend() == "numpy" else 4) * (4 * params + per_batch + data)

    def _check_memory(self) -> None:
        """Sizes a CPU run cannot hold (n_features=10**9, batch_size=10**12) are refused before
        numpy or torch is asked for them (torch's allocator would raise a RuntimeError)."""
        if self.device != "cuda":
            check_memory(self.estimated_bytes(), f"training {self.n_instances} instance(s) of n_features={self.n_features}, "
                                                 f"n_hidden={self.n_hidden} with batch_size={self.batch_size}")

    def _check_sizes(self) -> None:
        """Counts are positive integers (``every``, ``dataset_size``: or None; ``threads``: or "auto")."""
        for name in ("n_features", "n_hidden", "steps", "batch_size", "loss_every", "snapshots"):
            _positive_int(name, getattr(self, name))
        if self.init_instances is not None:
            _positive_int("init_instances", self.init_instances)
        if self.threads != "auto":
            _positive_int("threads", self.threads)
        for name in ("every", "dataset_size"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))

    def _check_choices(self) -> None:
        """Every option with choices holds one of them."""
        for opt in OPTIONS:
            if opt.spec.choices:
                check_choice(opt.name.replace("_", "-"), getattr(self, opt.name), opt.spec.choices)

    def _check_probabilities(self) -> None:
        """Stage probabilities (stage 0 also sets feature_probability: name the cause first), then
        ``feature_probability``: each in (0, 1], one value or one per feature."""
        if self.stages is not None:
            if not isinstance(self.stages, (list, tuple)) or not self.stages:
                raise AnimsupError("stages needs at least one feature probability")
            for p in self.stages:
                _check_probability(p, self.n_features, "stages")
        if not isinstance(self.feature_probability, (list, tuple)) or not self.feature_probability:
            raise AnimsupError("feature-probability needs at least one value")
        for p in self.feature_probability:
            _check_probability(p, self.n_features, "feature-probability")

    def _check_seeds(self) -> None:
        if not isinstance(self.seeds, (list, tuple)) or not self.seeds:
            raise AnimsupError("seeds needs at least one value")
        for s in self.seeds:
            if not is_int(s) or s < 0:
                raise AnimsupError(f"seeds must be non-negative integers, got {s!r}")
        if self.instances == "product" and len(set(self.seeds)) != len(self.seeds):
            raise AnimsupError(f"seeds must be distinct, got {list(self.seeds)}")

    def _check_init(self) -> None:
        if not _finite_above(self.init_scale, 0):
            raise AnimsupError(f"init-scale must be a finite number > 0, got {self.init_scale!r}")

    def _check_importance(self) -> None:
        """``last_importance`` (finite, > 0) and every importance group."""
        if self.last_importance is not None:
            if not isinstance(self.last_importance, (list, tuple)) or not self.last_importance:
                raise AnimsupError("last-importance needs at least one value")
            for r in self.last_importance:
                if not _finite_above(r, 0):
                    raise AnimsupError(f"last-importance values must be finite and > 0, got {r!r}")
        for group in self._importance_groups():
            _check_importance(group, self.n_features)

    def _check_layout(self) -> None:
        """``instances="zip"``: one row of each per-instance option per seed."""
        if self.instances != "zip":
            return
        k = len(self.seeds)
        lens = {"importance": len(self._importance_groups()), "feature-probability": len(self.feature_probability)}
        if self.last_importance is not None:
            lens["last-importance"] = len(self.last_importance)
        for name, v in lens.items():
            if v != k:
                raise AnimsupError(f"instances zip: {name} has {v} rows, seeds has {k} (one row per instance)")

    def _check_data_recipe(self) -> None:
        """``exactly_k`` and the correlated/anticorrelated sets: disjoint sets of feature indices."""
        n = self.n_features
        if self.data == "exactly_k":
            k = self.exactly_k
            if not is_int(k) or not 1 <= k <= n:
                raise AnimsupError(f"data exactly_k needs exactly-k between 1 and n-features ({n}), got {k!r}")
            if self.correlated_sets or self.anticorrelated_sets or self.exclusive_sets or self.stages:
                raise AnimsupError("data exactly_k cannot be combined with correlated/anticorrelated/exclusive sets or stages")
            if len(self.feature_probability) != 1:
                raise AnimsupError("data exactly_k sets the feature probability to k/n: give no --feature-probability")
        elif self.exactly_k is not None:
            raise AnimsupError("exactly-k applies only to --data exactly_k")
        if self.hierarchical_sets and self.data == "exactly_k":
            raise AnimsupError("data exactly_k cannot be combined with hierarchical sets")
        seen: set[int] = set()  # every set's features: no feature in two sets of any kind
        for name in ("correlated_sets", "anticorrelated_sets", "exclusive_sets", "hierarchical_sets"):
            flag, sets = name.replace("_", "-"), getattr(self, name)
            if not isinstance(sets, (list, tuple)):
                raise AnimsupError(f"{flag} must be a list of lists of feature indices")
            for st in sets:
                if not isinstance(st, (list, tuple)) or len(st) < 2:
                    what = "a parent and at least one child" if name == "hierarchical_sets" else "at least 2 features"
                    raise AnimsupError(f"{flag}: each set needs {what}, got {st!r}")
                for i in st:
                    if not is_int(i) or not 0 <= i < n:
                        raise AnimsupError(f"{flag}: feature index {i!r} is not in 0..{n - 1}")
                    if i in seen:
                        raise AnimsupError(f"feature {i} is in more than one set (correlated, anticorrelated, exclusive "
                                           "or hierarchical)")
                    seen.add(i)
        q = self.child_probability
        if not is_real(q) or not 0 < q <= 1:
            raise AnimsupError(f"child-probability must be in (0, 1], got {q!r}")

    def _check_stages(self) -> None:
        """At most one stage per step; the stages alone set the feature probability."""
        if self.stages is None:
            return
        if len(self.stages) > self.steps:
            raise AnimsupError(f"{len(self.stages)} stages need at least as many steps, got --steps {self.steps}")
        if self.instances != "product" or len(self.feature_probability) != 1:
            raise AnimsupError("with stages, the stages set the feature probability: give no --feature-probability groups")

    def _check_set_probabilities(self) -> None:
        """In every stage, a set's features share one probability; an exclusive set's sum is <= 1."""
        sets = list(self.correlated_sets) + list(self.anticorrelated_sets) + list(self.exclusive_sets)
        if not sets:
            return
        for j in range(len(self.stages or [0])):
            P = self.probability_matrix(j)
            for st in sets:
                if not (P[:, st] == P[:, st[:1]]).all():
                    raise AnimsupError(f"the features of set {list(st)} must share one feature probability")
            for st in self.exclusive_sets:
                if (P[:, st[0]] * len(st) > 1 + 1e-6).any():
                    raise AnimsupError(f"exclusive set {list(st)}: {len(st)} x feature probability must be <= 1 "
                                       f"(at most one of its features is on)")

    def _check_optimiser(self) -> None:
        """``lr`` finite and > 0, ``l1`` and ``weight_decay`` finite and >= 0."""
        for name in ("lr", "l1"):
            v = getattr(self, name)
            if not is_real(v) or not v >= 0 or v == float("inf"):
                raise AnimsupError(f"{name} must be a finite number >= 0, got {v!r}")
        if not self.lr > 0:
            raise AnimsupError(f"lr must be > 0, got {self.lr!r}")
        wd = self.weight_decay
        if wd is not None and (not is_real(wd) or not 0 <= wd < float("inf")):
            raise AnimsupError(f"weight-decay must be a finite number >= 0, got {wd!r}")

    def _check_backend(self) -> None:
        """The engine can train this model, gradient and device (the models table's ``engines``)."""
        numpy_trains_it = "numpy" in models.get(self.model).engines
        if self.backend == "numpy":
            if not numpy_trains_it:
                raise AnimsupError(f"--backend numpy trains only the tied model (got --model {self.model}); "
                                   f"use --backend torch")
            if self.stages:
                raise AnimsupError("--backend numpy does not run staged training (--stages); use --backend torch")
            if self.device == "cuda":
                raise AnimsupError("--backend numpy runs on the CPU only; drop --device cuda or use --backend torch")
        if self.gradient == "blog" and self.backend != "torch":
            if not numpy_trains_it:
                raise AnimsupError(f"--gradient blog trains only the tied model (got --model {self.model})")
            if self.device == "cuda":
                raise AnimsupError("--gradient blog runs on the CPU only (numpy backend); drop --device cuda")
        elif self.gradient != "exact" and self.backend == "torch":
            raise AnimsupError("--gradient blog needs --backend numpy (the torch backend always uses the exact gradient)")


#: every option of :class:`TrainConfig` (name, default, metadata), in field order
OPTIONS: tuple[Described, ...] = described(TrainConfig)


def options_table() -> str:
    """The options as a Markdown table (docs/training.md carries it; tests/train/test_config.py keeps them equal)."""
    return markdown_table(doc_rows(OPTIONS))


def _positive_int(name: str, v: object) -> None:
    if not is_int(v) or v < 1:
        raise AnimsupError(f"{name.replace('_', '-')} must be a positive integer, got {v!r}")


def _finite_above(v: object, low: float) -> bool:
    """``v`` is an int or float (not a bool), finite and > ``low``."""
    return is_real(v) and low < v < float("inf")


def _floats(v: object) -> object:
    """Nested lists of numbers as plain floats."""
    if isinstance(v, (list, tuple)):
        return [_floats(x) for x in v]
    return float(v) if is_real(v) else v


def _check_probability(p: object, n_features: int, name: str) -> None:
    vals = p if isinstance(p, (list, tuple)) else [p]
    if isinstance(p, (list, tuple)) and len(p) != n_features:
        raise AnimsupError(f"{name}: a per-feature list has {len(p)} values, n-features is {n_features}")
    for v in vals:
        if not is_real(v) or not 0 < v <= 1:
            raise AnimsupError(f"{name} must lie in (0, 1], got {v!r}")


def _check_importance(importance: object, n_features: int) -> None:
    if isinstance(importance, str):
        if importance != "constant":
            raise AnimsupError(f"importance must be a number, a list of {n_features} numbers, or 'constant', "
                               f"got {importance!r}")
        return
    if isinstance(importance, (list, tuple)):
        if len(importance) != n_features:
            raise AnimsupError(f"importance list has {len(importance)} values, n-features is {n_features}")
        vals = list(importance)
    elif is_real(importance):
        vals = [importance]
    else:
        raise AnimsupError(f"importance must be a number, a list, or 'constant', got {importance!r}")
    for v in vals:
        if not _finite_above(v, 0):
            raise AnimsupError(f"importance values must be finite and > 0, got {v!r}")
