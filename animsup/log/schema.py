"""The animsup run log's schema: one JSON object per line (JSONL), versioned.

This module is the only place that knows the records (documented in docs/log-format.md):
the header (:class:`Header`, :func:`make_header`, :func:`parse_header`), the version
migrations, and the checks of every field. The writer (:mod:`animsup.log.writer`) and the
reader (:mod:`animsup.log.reader`) build on it. numpy + orjson only; it never imports torch.

Records, in file order::

    {"type": "header", "schema": "animsup.log", "version": 1, ...}      # line 1
    {"type": "loss", "step": s0, "every": k, "loss": [[inst...], ...]}  # fine loss curve
    {"type": "snapshot", "step": s, "loss": [inst], "W": [inst][hidden][feature],
     "b": [inst][feature], ("W_dec": [inst][hidden][feature] for untied models)}
    {"type": "resume", "step": s, ...}                                   # after `train --resume`
    {"type": "end", "status": "completed"|"interrupted"|"diverged", "step": s,
     "wall_seconds": t}

Snapshot step ``s`` holds the parameters after ``s`` optimiser updates and the loss
of those parameters on that step's batch. Loss records carry the loss at steps
``s0, s0+k, s0+2k, ...`` (one row per recorded step, one value per instance).

Readers ignore unknown keys and unknown record types, so new fields are additive.
A breaking change bumps ``VERSION`` and adds one function to ``_MIGRATIONS`` that
upgrades a record of the previous version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from animsup import models
from animsup.errors import LogFormatError
from animsup.options import is_int, is_real

SCHEMA = "animsup.log"
VERSION = 2
END_STATUSES = ("completed", "interrupted", "diverged", "failed")
MODELS = models.names()
LOSS_SCOPES = ("instance", "aggregate", "none")
DATA_KINDS = ("uniform", "presence_value", "binary", "exactly_k")
DATA_RECIPE = 2  # the header data object's recipe version (= animsup.train.data.DATA_RECIPE; upgrade_data_recipe)
# One parsed line of a log: a JSON object
Record = dict[str, Any]

# A header that claims more weights per snapshot than MAX_WEIGHTS is refused before anything
# is allocated for it (a module constant so tests can shrink it).
MAX_WEIGHTS = 1 << 31
# The largest step a record may carry: 2**53 - 1, the largest integer that a float64, and so the
# viewer's JavaScript numbers, represent exactly (int64 arrays and orjson go further). The writer,
# the Recorder and the reader all refuse larger steps, with this reason.
MAX_STEP = (1 << 53) - 1
MAX_STEP_TEXT = "2**53 - 1, the largest integer every reader (the JavaScript viewer included) represents exactly"
# A header line longer than this is refused by the reader (before it is read into memory) and so
# never written: the Recorder and the writer refuse it up front.
MAX_HEADER_BYTES = 64 << 20


def min_header_bytes(n_instances: int, n_features: int) -> int:
    """A lower bound of a header's size: ``importance`` and ``feature_probability`` hold
    n_instances x n_features floats each, every one written as at least 4 bytes (``1.0,``)."""
    return 2 * 4 * n_instances * n_features


def size_problem(n_instances: int, n_hidden: int, n_features: int) -> str | None:
    """Why a run of these sizes cannot be a log (more weights per snapshot than
    :data:`MAX_WEIGHTS`), or None. Shared by the reader's header check and the Recorder."""
    k, m, n = n_instances, n_hidden, n_features
    if 3 * k * m * n > MAX_WEIGHTS:
        return f"sizes n_instances={k} x n_hidden={m} x n_features={n} are implausibly large"
    return None

# Line sizes: what a record of each type can need, from the header's sizes (the reader refuses a
# longer line before parsing it: parsing costs ~14 bytes of Python objects per byte of text).
#: the most characters one number takes in a line, with its separator ("-1.2345678901234567e-308, ")
CHARS_PER_NUMBER = 40
#: room for keys, the step, extra fields and whitespace in any line; also the whole cap of the end,
#: resume and unknown record types (unknown types are additive metadata, never arrays)
LINE_SLACK = 1 << 20
#: the rows the writer puts in one loss record (a long curve is several records). A loss record's
#: length is not in the header and writers before this limit (``from_arrays``, the Recorder's close)
#: wrote a whole run's losses as one record, so a loss line is held only to the reader's ceiling
#: (``animsup.log.reader.MAX_LINE_BYTES``): logs that were valid stay readable
LOSS_ROWS_PER_RECORD = 1 << 16
#: the longest line any reader reads (a loss record's only cap)
MAX_LINE_BYTES = 1 << 30


def line_caps(h: Header) -> dict[str, int]:
    """The most bytes a line of each record type can need for header ``h``: a snapshot holds
    k·m·n weights (twice with a decoder), k·n biases and k losses; a curve k numbers; anything
    else but a loss record :data:`LINE_SLACK` bytes ("other"); a loss record only the ceiling
    :data:`MAX_LINE_BYTES` (see :data:`LOSS_ROWS_PER_RECORD`)."""
    k, m, n = h.n_instances, h.n_hidden, h.n_features
    weights = k * m * n * (2 if models.get(h.model).has_decoder else 1)
    return {
        "snapshot": CHARS_PER_NUMBER * (weights + k * n + k) + LINE_SLACK,
        "loss": MAX_LINE_BYTES,
        "curve": CHARS_PER_NUMBER * k + LINE_SLACK,
        "other": LINE_SLACK,
    }


def _migrate_v1(rec: Record) -> Record:
    """Version 1 -> 2. Only the header changes: ``importance`` [n_features] is broadcast to
    every instance ([n_instances][n_features]), ``feature_probability`` [n_instances] to every
    feature ([n_instances][n_features]), and ``loss_scope`` "instance" and ``data`` {"kind":
    "uniform"} (what every v1 writer did) are made explicit. Values of the wrong v1 shape are
    left as they are, so the header check names them."""
    if rec.get("type") != "header":
        return rec
    rec = dict(rec)
    rec["version"] = 2
    # broadcast only for sizes parse_header accepts (a header claiming 1e9 features must not
    # make the migration build billions of list entries before it is refused); 0: not a size
    k, n, m = (v if is_int(v) and v > 0 else 0
               for v in (rec.get("n_instances"), rec.get("n_features"), rec.get("n_hidden")))
    sizes_ok = k > 0 and n > 0 and m > 0 and 3 * k * m * n <= MAX_WEIGHTS
    imp, fp = rec.get("importance"), rec.get("feature_probability")
    if sizes_ok and isinstance(imp, list) and len(imp) == n and not any(isinstance(v, list) for v in imp):
        rec["importance"] = [list(imp) for _ in range(k)]
    if sizes_ok and isinstance(fp, list) and len(fp) == k and not any(isinstance(v, list) for v in fp):
        rec["feature_probability"] = [[p] * n for p in fp]
    rec.setdefault("loss_scope", "instance")
    rec.setdefault("data", {"kind": "uniform"})
    return rec


# version -> function upgrading one record (any type) of that version to version+1.
# Reading applies them in order.
_MIGRATIONS: dict[int, Callable[[Record], Record]] = {1: _migrate_v1}
# versions whose migration touches only the header (the reader's fast path skips the others)
_HEADER_ONLY_MIGRATIONS = {1}


def _migrate(rec: Record, version: int) -> Record:
    """Upgrade one record from ``version`` to ``VERSION``, one migration per step."""
    for v in range(version, VERSION):
        rec = _MIGRATIONS[v](rec)
    return rec


def _migrates_records(version: int) -> bool:
    """True when upgrading ``version`` to ``VERSION`` changes records other than the header
    (the reader's fast path reads the records of a log that needs none as they are)."""
    return any(v not in _HEADER_ONLY_MIGRATIONS for v in range(version, VERSION))


def _record_version(rec: Any, path: str, line: int = 1) -> int:
    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise LogFormatError(path, line, 'the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise LogFormatError(path, line, f"unknown schema {_short(rec.get('schema'))} (expected {SCHEMA!r})")
    v = rec.get("version")
    if not is_int(v) or v < 1:
        raise LogFormatError(path, line, f"header 'version' must be a positive integer, got {_short(v)}")
    if v > VERSION:
        from animsup import __version__

        raise LogFormatError(
            path,
            line,
            f"log version {v} is newer than this animsup ({__version__} reads up to {VERSION}); upgrade animsup",
        )
    return v


def _check_end(rec: Record, path: str, line: int) -> Record:
    """Validate an end record (status known, step an integer, wall_seconds a number)."""
    status, step, wall = rec.get("status"), rec.get("step"), rec.get("wall_seconds", 0.0)
    if status not in END_STATUSES:
        raise LogFormatError(path, line, f"end record has unknown status {_short(status)}")
    if not is_int(step) or step < 0:
        raise LogFormatError(path, line, f"end record 'step' must be a non-negative integer, got {_short(step)}")
    if step > MAX_STEP:
        raise LogFormatError(path, line, f"end record 'step' {step} is too large (more than {MAX_STEP_TEXT})")
    if not is_real(wall):
        raise LogFormatError(path, line, f"end record 'wall_seconds' must be a number, got {_short(wall)}")
    return rec


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    """What a log's first line says about the run (schema version 2; v1 headers are migrated).

    :param feature_probability: (shape: [n_instances, n_features]) 1 - S of each feature in each instance
    :param seed: (shape: [n_instances]) the seed of each instance (None when unknown)
    :param importance: (shape: [n_instances, n_features]) loss weight I_i of each feature in each instance
    :param model: one of :data:`MODELS`; ``model_label`` / ``model_formula`` describe variants
    :param data: the input distribution, e.g. {"kind": "uniform"} (docs/log-format.md)
    :param stages: sparsity stages [{"start_step", "feature_probability", "note"}] or None (one stage)
    :param loss_scope: "instance" (loss [n_instances]), "aggregate" (one number for all) or "none"
    :param curves: names of the extra named curves the log may hold
    :param provenance: {"source", "given", "inferred"} for imported runs, else None
    """

    n_features: int
    n_hidden: int
    n_instances: int
    model: str
    feature_probability: NDArray[np.float32]
    seed: tuple[int | None, ...]
    importance: NDArray[np.float32]
    config: dict[str, Any]
    raw: Record = field(repr=False)
    loss_scope: str = "instance"
    data: dict[str, Any] = field(default_factory=lambda: {"kind": "uniform"})
    stages: list[dict[str, Any]] | None = None
    curves: tuple[str, ...] = ()
    model_label: str | None = None
    model_formula: str | None = None
    provenance: dict[str, Any] | None = None

    @property
    def has_decoder(self) -> bool:
        return models.get(self.model).has_decoder

    @property
    def has_loss(self) -> bool:
        return self.loss_scope != "none"

    @property
    def instance_probability(self) -> NDArray[np.float64]:
        """(shape: [n_instances]) the single 1 - S of each instance whose features all share one
        probability, NaN for an instance whose probability varies across features."""
        fp = self.feature_probability
        return np.where((fp == fp[:, :1]).all(axis=1), fp[:, 0], np.nan).astype(np.float64)

    def assumed(self, name: str) -> bool:
        """True when the header's provenance says ``name`` (e.g. "importance") was not known
        but assumed (imported runs, Recorder runs without it): titles then say "unknown"."""
        prov = self.provenance or {}
        if name in (prov.get("assumed") or {}):
            return True
        note = (prov.get("inferred") or {}).get(name)
        return isinstance(note, str) and note.startswith("not in the file")

    def probability_text(self, i: int) -> str:
        """"1-S=0.1" for instance ``i``, "1-S=0.01..0.1" when it varies across features,
        "1-S unknown" when it was assumed (see :meth:`assumed`)."""
        if self.assumed("feature_probability"):
            return "1-S unknown"
        row = self.feature_probability[i]
        lo, hi = float(row.min()), float(row.max())
        return f"1-S={lo:.3g}" if lo == hi else f"1-S={lo:.3g}..{hi:.3g}"

    def settings(self) -> dict[str, list[Any]]:
        """The named settings that differ between instances (beyond 1 - S, importance and seed),
        each as one JSON scalar per instance: the header's ``per_instance`` (e.g. a script's weight
        decay ``{"γ": [-1, 1]}``) and a merged sweep's ``sweep.per_instance`` (e.g. ``lr``). An entry
        that is not a list of ``n_instances`` scalars, or whose values are all equal, is left out."""
        sweep = self.raw.get("sweep")
        found: dict[str, Any] = {}
        for source in (sweep.get("per_instance") if isinstance(sweep, dict) else None, self.raw.get("per_instance")):
            if isinstance(source, dict):
                found.update(source)
        return {str(name): values for name, values in found.items()
                if isinstance(values, list) and len(values) == self.n_instances
                and all(v is None or isinstance(v, (str, int, float, bool)) for v in values)
                and len({repr(v) for v in values}) > 1}

    def settings_text(self, i: int) -> str:
        """Instance ``i``'s :meth:`settings` as "γ=-1 lr=0.01" ("" when no setting differs).
        Unescaped: names and string values come from the log (escape them for the sink)."""
        def text(v: Any) -> str:
            return f"{v:.4g}" if isinstance(v, float) else str(v)
        return " ".join(f"{name}={text(values[i])}" for name, values in self.settings().items())

    def instance_label(self, i: int) -> str:
        """The one short label of instance ``i`` in text outputs (``animsup inspect``, ``events``):
        its 1 - S, the settings that tell it apart from the other instances (:meth:`settings_text`)
        and its seed, e.g. "1-S=0.000132..0.24 γ=-1 seed=0". Unescaped (see :meth:`settings_text`)."""
        seed = "unknown" if self.seed[i] is None else self.seed[i]
        settings = self.settings_text(i)
        return f"{self.probability_text(i)}{' ' + settings if settings else ''} seed={seed}"


@dataclass
class Snapshot:
    """One snapshot, restricted to the selected instances (k of them).

    :param loss: (shape: [k]) per-instance loss; (shape: [1]) with loss_scope "aggregate";
        None with loss_scope "none"
    :param W: (shape: [k, n_hidden, n_features]) encoder / tied weights
    :param b: (shape: [k, n_features])
    :param W_dec: (shape: [k, n_hidden, n_features]) decoder of an untied model, else None
    """

    step: int
    loss: NDArray[np.float32] | None
    W: NDArray[np.float32]
    b: NDArray[np.float32]
    W_dec: NDArray[np.float32] | None
    line: int


def _per_instance_features(value: ArrayLike, k: int, n: int, name: str, vector_is: str) -> list[list[float]]:
    """``value`` as a [k][n] list: a scalar is broadcast everywhere, a vector along ``vector_is``
    ("instance": one value per instance, or "feature": one value per feature), a [k][n] array as is."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full((k, n), float(a))
    elif a.ndim == 1:
        if vector_is == "instance":
            if len(a) != k:
                raise ValueError(f"{name} must have one entry per instance ({k}) or shape [{k}, {n}], got {len(a)}")
            a = np.repeat(a[:, None], n, axis=1)
        else:
            if len(a) != n:
                raise ValueError(f"{name} must have one entry per feature ({n}) or shape [{k}, {n}], got {len(a)}")
            a = np.repeat(a[None, :], k, axis=0)
    if a.shape != (k, n):
        raise ValueError(f"{name} must have shape [{k}, {n}] (n_instances, n_features), got {list(a.shape)}")
    return a.tolist()


def make_header(
    *,
    n_features: int,
    n_hidden: int,
    model: str,
    feature_probability: ArrayLike,
    seed: Sequence[int | None],
    importance: ArrayLike,
    config: dict[str, Any],
    loss_scope: str = "instance",
    data: dict[str, Any] | None = None,
    model_label: str | None = None,
    model_formula: str | None = None,
    stages: list[dict[str, Any]] | None = None,
    curves: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    **extra: Any,
) -> Record:
    """Build a version-2 header record (a plain dict ready for :class:`LogWriter`).

    ``n_instances`` is ``len(seed)`` (pass ``[None] * k`` when the seeds are unknown).

    :param feature_probability: a number, [n_instances] (broadcast to every feature) or
        [n_instances, n_features]
    :param importance: a number, [n_features] (broadcast to every instance) or [n_instances, n_features]
    :raises ValueError: shapes that do not fit, an unknown model or loss scope
    """
    from animsup import __version__

    k, n = len(seed), int(n_features)
    if k < 1:
        raise ValueError("seed must have one entry per instance (at least one)")
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if loss_scope not in LOSS_SCOPES:
        raise ValueError(f"loss_scope must be one of {', '.join(LOSS_SCOPES)}, got {loss_scope!r}")
    rec: Record = {
        "type": "header",
        "schema": SCHEMA,
        "version": VERSION,
        "animsup_version": __version__,
        "n_features": n,
        "n_hidden": int(n_hidden),
        "n_instances": k,
        "model": model,
        "feature_probability": _per_instance_features(feature_probability, k, n, "feature_probability", "instance"),
        "seed": [None if s is None else int(s) for s in seed],
        "importance": _per_instance_features(importance, k, n, "importance", "feature"),
        "config": config,
        "loss_scope": loss_scope,
        "data": dict(data) if data is not None else {"kind": "uniform"},
    }
    for key, value in (("model_label", model_label), ("model_formula", model_formula), ("stages", stages),
                       ("curves", None if curves is None else [str(c) for c in curves]), ("provenance", provenance)):
        if value is not None:
            rec[key] = value
    rec.update(extra)
    return rec


def parse_header(rec: Any, path: str = "<log>", line: int = 1) -> Header:
    """Validate a header record (already migrated to the current version) and return a :class:`Header`."""

    def bad(msg: str) -> LogFormatError:
        return LogFormatError(path, line, msg)

    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise bad('the first line is not an animsup header ({"type": "header", ...})')
    if rec.get("schema") != SCHEMA:
        raise bad(f"unknown schema {rec.get('schema')!r} (expected {SCHEMA!r})")
    k, m, n = _header_sizes(rec, bad)
    fp = _float_array(rec.get("feature_probability"), (k, n), "feature_probability", bad)
    if not np.all((fp > 0) & (fp <= 1)):
        raise bad("header field 'feature_probability' must lie in (0, 1]")
    imp = _float_array(rec.get("importance"), (k, n), "importance", bad)
    if not np.all(imp >= 0):
        raise bad("header field 'importance' must be >= 0")
    seed = rec.get("seed")
    if not isinstance(seed, list) or len(seed) != k:
        raise bad(f"header field 'seed' must be a list of {k} entries (one per instance)")
    config = rec.get("config", {})
    if not isinstance(config, dict):
        raise bad("header field 'config' must be an object")
    scope = rec.get("loss_scope", "instance")
    if scope not in LOSS_SCOPES:
        raise bad(f"header field 'loss_scope' must be one of {', '.join(LOSS_SCOPES)}, got {_short(scope)}")
    data, stages, curves = _check_data(rec, bad), _check_stages(rec, bad), _check_curves(rec, bad)
    for key in ("model_label", "model_formula"):
        if rec.get(key) is not None and not isinstance(rec[key], str):
            raise bad(f"header field {key!r} must be a string")
    prov = rec.get("provenance")
    if prov is not None and not isinstance(prov, dict):
        raise bad("header field 'provenance' must be an object")
    return Header(
        n_features=n, n_hidden=m, n_instances=k, model=rec["model"], feature_probability=fp, seed=tuple(seed),
        importance=imp, config=config, raw=rec, loss_scope=scope, data=data, stages=stages, curves=tuple(curves),
        model_label=rec.get("model_label"), model_formula=rec.get("model_formula"), provenance=prov,
    )


# makes the error of a header field: LogFormatError(path, line, message)
_Bad = Callable[[str], LogFormatError]


def _header_sizes(rec: Record, bad: _Bad) -> tuple[int, int, int]:
    """(n_instances, n_hidden, n_features) of a header that has every required field and a known model."""
    for key in ("n_features", "n_hidden", "n_instances", "model", "feature_probability", "seed", "importance"):
        if key not in rec:
            raise bad(f"header is missing {key!r}")
    for key in ("n_features", "n_hidden", "n_instances"):
        v = rec.get(key)
        if not is_int(v) or v < 1:
            raise bad(f"header field {key!r} must be a positive integer, got {_short(v)}")
    n, m, k = rec["n_features"], rec["n_hidden"], rec["n_instances"]
    problem = size_problem(k, m, n)
    if problem:
        raise bad(f"header {problem}")
    if rec.get("model") not in MODELS:
        raise bad(f"header field 'model' must be one of {', '.join(MODELS)}, got {_short(rec.get('model'))}")
    return k, m, n


def upgrade_data_recipe(data: dict[str, Any]) -> dict[str, Any]:
    """The header's ``data`` object in the current recipe (``animsup.train.data.DATA_RECIPE``, 2).

    An object without ``"recipe"`` is recipe 1, where ``anticorrelated_sets`` named the law in which
    each feature of a set keeps density p and at most one is on; recipe 2 calls that law
    ``exclusive_sets`` and gives ``anticorrelated_sets`` the paper's law (the set on with
    probability p, then exactly one of its features). Returns a new object; ``data`` is not changed.
    """
    if data.get("recipe", 1) != 1 or not data.get("anticorrelated_sets"):
        return data
    out = {k: v for k, v in data.items() if k != "anticorrelated_sets"}
    out["exclusive_sets"] = data["anticorrelated_sets"]
    out["recipe"] = DATA_RECIPE
    return out


def _check_data(rec: Record, bad: _Bad) -> dict[str, Any]:
    """The header's input distribution ``data``: an object with a known "kind" (upgraded to the current
    recipe, :func:`upgrade_data_recipe`)."""
    data = rec.get("data", {"kind": "uniform"})
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise bad('header field \'data\' must be an object with a "kind" (e.g. {"kind": "uniform"})')
    if data["kind"] not in DATA_KINDS:
        raise bad(f"header field 'data' has unknown kind {_short(data['kind'])} (known: {', '.join(DATA_KINDS)})")
    if not is_int(data.get("recipe", 1)) or not 1 <= data.get("recipe", 1) <= DATA_RECIPE:
        raise bad(f"header field 'data' has unknown recipe {_short(data.get('recipe'))} (known: 1..{DATA_RECIPE})")
    return upgrade_data_recipe(data)


def _check_stages(rec: Record, bad: _Bad) -> list[dict[str, Any]] | None:
    """The header's sparsity ``stages`` (None: one stage)."""
    stages = rec.get("stages")
    if stages is not None and (
        not isinstance(stages, list)
        or not all(isinstance(s, dict) and type(s.get("start_step")) is int and s["start_step"] >= 0 for s in stages)
    ):
        raise bad("header field 'stages' must be a list of objects with an integer 'start_step' >= 0")
    return stages


def _check_curves(rec: Record, bad: _Bad) -> list[str]:
    """The names of the header's extra ``curves``."""
    curves = rec.get("curves", [])
    if not isinstance(curves, list) or not all(isinstance(c, str) and c for c in curves):
        raise bad("header field 'curves' must be a list of names")
    return curves


def _float_array(value: Any, shape: Sequence[int], name: str, bad: _Bad) -> NDArray[np.float32]:
    """``value`` as a finite float32 array of exactly ``shape``, or raise ``bad(...)``.

    Only JSON numbers are accepted: strings, booleans and objects are errors, and
    ``null`` (how orjson writes NaN), NaN/Infinity and numbers that overflow float32
    (|x| > 3.4e38, e.g. 1e300) are errors.
    """
    if value is None:
        raise bad(f"missing {name!r}")
    if not isinstance(value, (list, int, float)) or isinstance(value, bool):
        raise bad(f"{name!r} must be a numeric array of shape {list(shape)}, got {type(value).__name__}")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "iuf":
            if raw.dtype.kind != "O" or not all(
                v is None or (is_real(v)) for v in raw.flat
            ):
                raise TypeError
            raw = np.array([np.nan if v is None else v for v in raw.flat], dtype=np.float64).reshape(raw.shape)
        with np.errstate(over="ignore", invalid="ignore"):  # float32 overflow: checked below
            arr = raw.astype(np.float32)
    except (ValueError, TypeError, OverflowError):
        raise bad(f"{name!r} is not a numeric array of shape {list(shape)}") from None
    if arr.shape != tuple(shape):
        raise bad(f"{name!r} has shape {list(arr.shape)}, the header says {list(shape)}")
    if not np.isfinite(arr).all():
        if np.isfinite(raw.astype(np.float64)).all():
            raise bad(f"{name!r} contains a number too large for float32 (|x| > 3.4e38)")
        raise bad(f"{name!r} contains NaN, infinity or null")
    return arr


def _short(v: Any, limit: int = 60) -> str:
    """``repr(v)`` cut to ``limit`` characters (error messages stay one short line)."""
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 3] + "..."
