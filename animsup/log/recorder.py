"""Record a run from your own training loop, or build one from arrays you already have.

    import animsup
    with animsup.Recorder("logs/mine.jsonl", n_features=5, n_hidden=2, importance=0.9) as rec:
        for step in range(steps):
            ...                                   # your optimiser step
            rec.loss(step, loss)                  # the fine loss curve (optional)
            if step % 100 == 0:
                rec.snapshot(step, W=model.W, b=model.b_final, loss=loss)
    animsup.render("logs/mine.jsonl", "outputs/mine.mp4")

Arrays may be numpy arrays, lists, or torch tensors (any device and dtype, with or without
``requires_grad``; torch is imported only when a tensor is given). ``layout`` says how W is
stored; it is converted to animsup's ``[n_instances, n_hidden, n_features]``. Every record is
checked when it is written, so a wrong shape fails at the first snapshot, not at render time.

:func:`from_arrays` builds an in-memory :class:`animsup.log.reader.Run` from a W history
``[T, n_instances, n_hidden, n_features]`` (plus optional b, loss, steps) and can save it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from types import TracebackType
from typing import Any, Iterator, Sequence, TypeVar

import numpy as np
import orjson
from numpy.typing import ArrayLike, NDArray

from animsup import models
from animsup.errors import AnimsupError, LogFormatError
from animsup.log.reader import Run
from animsup.log import schema
from animsup.log.mirror import Mirror, curve_tags, loss_tags, open_mirror
from animsup.log.schema import LOSS_SCOPES, MAX_STEP, MAX_STEP_TEXT, make_header, min_header_bytes, parse_header, size_problem
from animsup.log.writer import LogWriter
from animsup.options import is_integral

ScalarT = TypeVar("ScalarT", bound=np.generic)

# layout name -> (description, axes of the per-snapshot W in that layout)
LAYOUTS = {
    "kmn": "[n_instances, n_hidden, n_features] (animsup, ARENA)",
    "knm": "[n_instances, n_features, n_hidden] (the paper's notebook, JAX ports)",
    "mn": "[n_hidden, n_features] (one instance)",
    "nm": "[n_features, n_hidden] (one instance; x @ W @ W.T)",
}


def check_layout(layout: str, what: str = "layout", error: type[Exception] = ValueError) -> str:
    """``layout`` when it is one of :data:`LAYOUTS`, else raise ``error`` naming ``what``
    (e.g. ``check_layout(layout, "--layout", AnimsupError)`` for a command-line option)."""
    if layout not in LAYOUTS:
        raise error(f"{what} must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    return layout


def to_numpy(x: ArrayLike, name: str = "array") -> NDArray[np.float64]:
    """``x`` (a numpy array, list, number, or torch tensor on any device / of any dtype) as a
    float64 numpy array (torch is never imported: a tensor converts itself).

    :raises TypeError: something that is not numeric, or complex numbers (a log holds real
        numbers; the imaginary part is never dropped silently)
    """
    complex_ = f"{name} holds complex numbers; a log holds real numbers (pass .real or abs() explicitly)"
    if type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach"):
        if getattr(x, "is_complex")():
            raise TypeError(complex_)
        # a tensor, converted through its own methods: the log layer never imports torch
        x = x.detach().cpu().double().numpy()
    elif np.iscomplexobj(x):
        raise TypeError(complex_)
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric (a numpy array, torch tensor or list), got {type(x).__name__}") from None
    return a


def layout_to_kmn(a: NDArray[ScalarT], layout: str) -> NDArray[ScalarT]:
    """The last ``len(layout)`` axes of ``a``, stored in ``layout`` (a key of :data:`LAYOUTS`),
    as [..., n_instances, n_hidden, n_features]: "knm"/"nm" swap the last two axes, "mn"/"nm"
    gain an instance axis of size 1. Leading axes (e.g. T of a history) are kept.

    :raises ValueError: a layout that is not one of :data:`LAYOUTS`
    """
    check_layout(layout)
    if layout.endswith("nm"):
        a = np.swapaxes(a, -1, -2)
    return a if layout.startswith("k") else a[..., None, :, :]


def _shape(a: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in a) + "]"


def _layout_shape(layout: str, k: int, m: int, n: int) -> tuple[int, ...]:
    """The shape of one snapshot's W in ``layout``: its letters name the axes."""
    return tuple({"k": k, "m": m, "n": n}[axis] for axis in layout)


def weights_to_kmn(W: ArrayLike, layout: str, k: int, m: int, n: int, name: str = "W") -> NDArray[np.float64]:
    """One snapshot's weights in ``layout`` as (shape: [k, m, n]) float64.

    :raises ValueError: a shape that does not fit, with a hint when W looks transposed
    """
    a = to_numpy(W, name)
    check_layout(layout)
    if layout in ("mn", "nm") and k != 1:
        raise ValueError(f"layout={layout!r} holds one instance, but n_instances={k}; use 'kmn' or 'knm'")
    want = _layout_shape(layout, k, m, n)
    if a.shape != want:
        hint = ""
        for other in LAYOUTS:
            if other != layout and (other in ("kmn", "knm") or k == 1) and a.shape == _layout_shape(other, k, m, n):
                t = "W.transpose(-1, -2)" if len(want) == len(a.shape) else "W[None]" if a.ndim < len(want) else "W[0]"
                hint = f"; pass layout={other!r} or {t}"
                break
        raise ValueError(
            f"{name} has shape {_shape(a.shape)}, expected {_shape(want)} = {LAYOUTS[layout].split(' (')[0]} "
            f"for layout={layout!r} with n_instances={k}, n_hidden={m}, n_features={n}{hint}"
        )
    return layout_to_kmn(a, layout)


def bias_to_kn(b: ArrayLike, k: int, n: int) -> NDArray[np.float64]:
    """b as (shape: [k, n]); accepts [k, n], [k, 1, n] and, for one instance, [n]."""
    a = to_numpy(b, "b")
    if a.shape == (k, 1, n):
        a = a[:, 0]
    elif a.shape == (n,) and k == 1:
        a = a[None]
    if a.shape != (k, n):
        raise ValueError(f"b has shape {_shape(a.shape)}, expected [n_instances, n_features] = [{k}, {n}]")
    return a


def _finite(a: NDArray[np.float64], name: str, step: int) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{name} at step {step} contains NaN or infinity")
    if np.abs(a).max(initial=0.0) > 3.4e38:
        raise ValueError(f"{name} at step {step} has values too large for float32")


def _check_step(step: object, last: int, what: str) -> int:
    """``step`` (an integer, or a torch tensor of one) as an int after ``last``."""
    if not is_integral(step):
        if type(step).__module__.split(".")[0] == "torch" and getattr(step, "numel", lambda: 0)() == 1:
            return _check_step(int(getattr(step, "item")()), last, what)
        raise TypeError(f"{what} step must be an integer, got {type(step).__name__}")
    step = int(step)
    if step < 0:
        raise ValueError(f"{what} step must be >= 0, got {step}")
    if step > MAX_STEP:
        raise ValueError(f"{what} step {step} is too large: steps are 0..{MAX_STEP_TEXT}")
    if step <= last:
        raise ValueError(f"{what} steps must increase: got step {step} after step {last}")
    return step


def _per_instance_settings(settings: dict[str, Sequence[Any]], k: int) -> dict[str, list[Any]]:
    """``settings`` as the header's ``per_instance``: JSON scalars, one per instance (of ``k``).

    :raises ValueError: a value that is not a list of ``k`` numbers, strings or booleans
    """
    out: dict[str, list[Any]] = {}
    for name, values in dict(settings).items():
        row = np.asarray(values).tolist() if not isinstance(values, (list, tuple)) else list(values)
        if not isinstance(row, list) or len(row) != k:
            raise ValueError(f"per_instance[{name!r}] must hold one value per instance ({k})")
        row = [v.item() if isinstance(v, np.generic) else v for v in row]
        if not all(v is None or isinstance(v, (str, int, float, bool)) for v in row):
            raise ValueError(f"per_instance[{name!r}] must hold numbers or strings (one per instance)")
        out[str(name)] = row
    return out


class Recorder:
    """Write an animsup log from any training loop; use as a context manager.

    :param path: the log to write (.jsonl); an existing file is refused unless ``overwrite``
    :param n_features: n, the number of features; ``n_hidden``: m; ``n_instances``: K (default 1)
    :param model: "tied" (ReLU(WᵀWx+b)), "untied" (pass ``W_dec`` too), "linear", "neuron", "custom"
    :param layout: how W is given: "kmn" [K, m, n] (animsup, ARENA), "knm" [K, n, m] (notebook,
        JAX), "mn" [m, n] or "nm" [n, m] (one instance)
    :param feature_probability: 1 - S: a number, [K], or [K, n] (not given: 1 is written and the
        header's ``provenance["assumed"]`` says so)
    :param importance: a base b (I_i = b**i, as ``animsup train --importance``), [n] or [K, n]
        (not given: 1, recorded as assumed likewise)
    :param loss_scope: "instance" (loss [K]), "aggregate" (one number for all instances), "none",
        or "auto" (default): decided by the first loss given (none given by the first snapshot: "none")
    :param curves: names of the extra curves you will record (others are accepted too)
    :param config: your hyperparameters (JSON types), stored in the header
    :param per_instance: the settings that differ between instances, ``{name: [one number or
        string per instance]}`` (e.g. ``{"γ": [-1.0, 1.0]}``): titles and ``animsup inspect`` name
        them ("γ=-1"), and instances that differ in one are never compared for "best"
    :param data, model_label, model_formula, stages, provenance: header fields (docs/log-format.md);
        ``data`` not given: ``{"kind": "uniform", "assumed": true}`` is written (the law was not stated)
    :param mirror: also send the losses and curves, as they are recorded, to a tracker:
        "tensorboard:DIR" or "wandb" / "wandb:PROJECT" (see :mod:`animsup.log.mirror`)

    Leaving the ``with`` block writes the end record: "completed", "interrupted" after
    KeyboardInterrupt, "failed" when another exception escapes (it still propagates).

    :raises FileExistsError: ``path`` exists and ``overwrite`` is False
    :raises ValueError, TypeError: arguments or arrays that do not fit the header
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        n_features: int,
        n_hidden: int,
        n_instances: int = 1,
        model: str = "tied",
        layout: str = "kmn",
        feature_probability: ArrayLike | None = None,
        importance: ArrayLike | None = None,
        seed: int | Sequence[int | None] | None = None,
        loss_scope: str = "auto",
        curves: Sequence[str] | None = None,
        config: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        model_label: str | None = None,
        model_formula: str | None = None,
        stages: list[dict[str, Any]] | None = None,
        provenance: dict[str, Any] | None = None,
        per_instance: dict[str, Sequence[Any]] | None = None,
        overwrite: bool = False,
        mirror: str | None = None,
    ) -> None:
        for name, v in (("n_features", n_features), ("n_hidden", n_hidden), ("n_instances", n_instances)):
            if not is_integral(v) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        problem = size_problem(int(n_instances), int(n_hidden), int(n_features))
        if problem:  # before an importance list of n_features entries is built
            raise ValueError(f"{problem} (no reader accepts them)")
        if min_header_bytes(int(n_instances), int(n_features)) > schema.MAX_HEADER_BYTES:
            raise ValueError(f"n_instances x n_features = {n_instances} x {n_features} needs a header of more than "
                             f"{schema.MAX_HEADER_BYTES:,} bytes, more than every reader accepts (importance and "
                             f"feature_probability hold one number per instance and feature)")
        check_layout(layout)
        if loss_scope not in LOSS_SCOPES + ("auto",):
            raise ValueError(f"loss_scope must be one of auto, {', '.join(LOSS_SCOPES)}, got {loss_scope!r}")
        self.path = os.fspath(path)
        self.n, self.m, self.k = int(n_features), int(n_hidden), int(n_instances)
        self.layout, self.model = layout, model
        fields = dict(data=data if data is not None else {"kind": "uniform", "assumed": True}, model_label=model_label,
                      model_formula=model_formula, stages=stages, curves=curves)
        if per_instance is not None:
            fields["per_instance"] = _per_instance_settings(per_instance, self.k)
        self._header = self._make_header(feature_probability, importance, seed, config, fields, provenance)
        self.loss_scope: str | None = None if loss_scope == "auto" else loss_scope
        self._check_destination(overwrite)
        self._overwrite = overwrite
        self._writer: LogWriter | None = None
        self._t0 = time.monotonic()
        self._last_snapshot = self._last_loss = -1
        self._last_curve: dict[str, int] = {}
        self._curve_width: dict[str, int] = {}
        self._pending: list[tuple[int, NDArray[np.float64]]] = []  # fine loss rows not yet written
        self._closed = False
        self.snapshots = 0
        self._mirror: Mirror | None = None
        self._mirrored_loss = -1
        if mirror is not None:
            facts = {k: self._header.get(k) for k in ("n_features", "n_hidden", "n_instances", "model")}
            self._mirror = open_mirror(mirror, self.path, {**facts, **(config or {})})

    def _make_header(
        self, feature_probability: ArrayLike | None, importance: ArrayLike | None, seed: int | Sequence[int | None] | None,
        config: dict[str, Any] | None, fields: dict[str, Any], provenance: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The header record (its loss scope is set when the first record is written); facts not
        given are written as 1 and named in the header's provenance (never silently claimed).

        :raises ValueError: shapes or values that do not fit (e.g. probabilities outside (0, 1])
        """
        if seed is None or isinstance(seed, (int, np.integer)):
            seeds: list[int | None] = [None if seed is None else int(seed)] * self.k
        else:
            seeds = list(seed)
        try:
            config_json = orjson.loads(orjson.dumps(config or {}, option=orjson.OPT_SERIALIZE_NUMPY))
        except TypeError as e:
            raise TypeError(f"config must hold JSON types (numbers, strings, lists, dicts): {e}") from None
        missing = [k for k, v in (("feature_probability", feature_probability), ("importance", importance)) if v is None]
        if missing:
            provenance = dict(provenance or {"source": "animsup.Recorder"})
            provenance["assumed"] = {**provenance.get("assumed", {}), **{k: "not given; 1 written" for k in missing}}
        imp = to_numpy(1.0 if importance is None else importance, "importance")
        if imp.ndim == 0:  # a base, as `animsup train --importance 0.9`: I_i = 0.9**i
            imp = float(imp) ** np.arange(self.n, dtype=np.float64)
        # validates shapes of feature_probability/importance, the model, ...
        header = make_header(
            n_features=self.n, n_hidden=self.m, model=self.model,
            feature_probability=to_numpy(1.0 if feature_probability is None else feature_probability, "feature_probability"),
            seed=seeds, importance=to_numpy(imp, "importance"), config={"source": "animsup.Recorder", **config_json},
            provenance=provenance, **fields,
        )
        if len(seeds) != self.k:
            raise ValueError(f"seed must be one integer or a list of n_instances={self.k} entries, got {len(seeds)}")
        try:
            parse_header(header, self.path)  # e.g. probabilities outside (0, 1]
        except LogFormatError as e:
            raise ValueError(e.reason.replace("header field ", "")) from None
        # the fields set when the first record is written (loss_scope, b_recorded) count too
        final = {**header, "loss_scope": "aggregate", "b_recorded": False}
        size = len(orjson.dumps(final, option=orjson.OPT_SERIALIZE_NUMPY)) + 1
        if size > schema.MAX_HEADER_BYTES:  # the reader would refuse the whole log
            raise ValueError(f"the header would be {size:,} bytes, more than the {schema.MAX_HEADER_BYTES:,} every "
                             f"reader accepts (importance and feature_probability hold n_instances x n_features "
                             f"numbers: {self.k} x {self.n})")
        return header

    def _check_destination(self, overwrite: bool) -> None:
        """Refuse an existing log (unless ``overwrite``) and a missing folder before anything is written."""
        if os.path.exists(self.path) and not overwrite:
            raise FileExistsError(f"{self.path} already exists; pass overwrite=True to replace it")
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"folder {parent} does not exist (for the log {self.path})")

    # -- the header is written with the first record (the loss scope may come from it) --

    def _open(self) -> LogWriter:
        if self._writer is None:
            if self._closed:
                raise RuntimeError("this Recorder is closed")
            self._header["loss_scope"] = self.loss_scope or "none"
            try:
                self._writer = LogWriter(self.path, self._header, force=self._overwrite)
            except AnimsupError as e:  # e.g. another process writes it
                raise OSError(str(e)) from None
        return self._writer

    def _loss_row(self, loss: ArrayLike, step: int) -> NDArray[np.float64]:
        a = to_numpy(loss, "loss").reshape(-1)
        if self.loss_scope is None:
            if a.size not in (1, self.k):
                raise ValueError(f"loss at step {step} has {a.size} values, expected n_instances={self.k} (or one number)")
            self.loss_scope = "instance" if a.size == self.k else "aggregate"
        width = self.k if self.loss_scope == "instance" else 1
        if self.loss_scope == "none":
            raise ValueError("a loss was given, but this Recorder was made with loss_scope='none'")
        if a.size != width:
            hint = " (one number for all instances: pass loss_scope='aggregate')" if a.size == 1 else ""
            raise ValueError(f"loss at step {step} has {a.size} values, expected {width} (one per instance){hint}")
        _finite(a, "loss", step)
        return a

    # -- public API --------------------------------------------------------------

    def loss(self, step: int, loss: ArrayLike) -> None:
        """One point of the fine loss curve (as often as every step; written in batches).

        :param loss: (shape: [n_instances]) or one number (one instance, or loss_scope "aggregate")
        """
        step = _check_step(step, self._last_loss, "loss")
        row = self._loss_row(loss, step)
        self._last_loss = step
        self._pending.append((step, row))
        self._mirror_loss(step, row)
        if len(self._pending) >= 4096:
            self._flush_losses()

    def _flush_losses(self) -> None:
        if not self._pending:
            return
        rows = self._pending
        self._open().losses_at([s for s, _ in rows], np.stack([r for _, r in rows]))
        self._pending = []

    def snapshot(
        self, step: int, *, W: ArrayLike, b: ArrayLike | None = None, loss: ArrayLike | None = None,
        W_dec: ArrayLike | None = None, **curves: ArrayLike,
    ) -> None:
        """Record the parameters at ``step`` (after ``step`` optimiser updates).

        :param W: in the Recorder's ``layout`` (default [n_instances, n_hidden, n_features])
        :param b: (shape: [n_instances, n_features], [n_instances, 1, n_features], or [n_features]
            for one instance); None: zeros are written and the header says so
        :param loss: the loss of these parameters (see :meth:`loss`), or None
        :param W_dec: the decoder of an untied model, in the same layout
        :param curves: extra named scalars at this step, e.g. ``test_loss=0.1, lr=1e-3``
        """
        step = _check_step(step, self._last_snapshot, "snapshot")
        W3 = weights_to_kmn(W, self.layout, self.k, self.m, self.n)
        _finite(W3, "W", step)
        if b is None:
            b2 = np.zeros((self.k, self.n))
            self._header.setdefault("b_recorded", False)
        else:
            b2 = bias_to_kn(b, self.k, self.n)
            _finite(b2, "b", step)
        Wd = None
        if models.get(self.model).has_decoder:
            if W_dec is None:
                raise ValueError("model='untied' needs W_dec (the decoder) at every snapshot")
            Wd = weights_to_kmn(W_dec, self.layout, self.k, self.m, self.n, "W_dec")
            _finite(Wd, "W_dec", step)
        elif W_dec is not None:
            raise ValueError(f"W_dec was given but model={self.model!r}; pass model='untied' to record a decoder")
        row = None
        if loss is not None:
            row = self._loss_row(loss, step)
        elif self.loss_scope is None:
            self.loss_scope = "none"
        elif self.loss_scope != "none":
            raise ValueError(f"snapshot at step {step} has no loss, but earlier records had one; pass loss=")
        self._flush_losses()
        w = self._open()
        value = None if row is None else (row if self.loss_scope == "instance" else float(row[0]))
        w.snapshot(step, value, W3, b2, Wd)
        self._last_snapshot = step
        self.snapshots += 1
        if row is not None and step > self._mirrored_loss:
            self._mirror_loss(step, row)
        for name, v in curves.items():
            self.curve(name, step, v)

    def curve(self, name: str, step: int, value: ArrayLike) -> None:
        """An extra named scalar (``test_loss``, ``accuracy``, ``lr``...): one number, or one per instance."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"curve name must be a non-empty string, got {name!r}")
        step = _check_step(step, self._last_curve.get(name, -1), f"curve {name!r}")
        a = to_numpy(value, name).reshape(-1)
        if a.size not in (1, self.k):
            raise ValueError(f"curve {name!r} at step {step} has {a.size} values, expected 1 or n_instances={self.k}")
        if self._curve_width.setdefault(name, a.size) != a.size:
            raise ValueError(f"curve {name!r} changes from {self._curve_width[name]} to {a.size} values")
        _finite(a, name, step)
        if name not in self._header.setdefault("curves", []) and self._writer is None:
            self._header["curves"].append(name)
        self._open().curve(name, step, a)
        self._last_curve[name] = step
        if self._mirror is not None:
            self._mirror.scalars(step, dict(zip(curve_tags(name, a.size), a.tolist())))

    def _mirror_loss(self, step: int, row: NDArray[np.float64]) -> None:
        if self._mirror is not None:
            self._mirror.scalars(step, dict(zip(loss_tags(self.loss_scope or "none", self.k), row.tolist())))
            self._mirrored_loss = step

    def close(self, status: str = "completed") -> None:
        """Flush the loss curve and write the end record (idempotent)."""
        if self._closed:
            return
        try:
            self._flush_losses()
            w = self._open()
            last = max(self._last_snapshot, self._last_loss, max(self._last_curve.values(), default=-1), 0)
            w.end(status, last, time.monotonic() - self._t0)
        finally:
            self._closed = True
            if self._writer is not None:
                self._writer.close()
            if self._mirror is not None:
                self._mirror.close()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close("completed")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("interrupted")
        else:
            self.close("failed")


# --------------------------------------------------------------------------- from arrays


def from_arrays(
    W: ArrayLike,
    *,
    b: ArrayLike | None = None,
    loss: ArrayLike | None = None,
    steps: ArrayLike | None = None,
    W_dec: ArrayLike | None = None,
    layout: str = "kmn",
    model: str | None = None,
    feature_probability: ArrayLike | None = None,
    importance: ArrayLike | None = None,
    path: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    **header: Any,
) -> Run:
    """Build a :class:`animsup.log.reader.Run` from arrays (and save it when ``path`` is given).

    :param W: (shape: [T, *layout]) a history, e.g. [T, n_instances, n_hidden, n_features] for
        layout "kmn" (ARENA's 2-D feature plots); one snapshot without the T axis is T = 1
    :param b: (shape: [T, n_instances, n_features]) or None (zeros)
    :param loss: (shape: [T], [T, n_instances] or [T, 1]) or None; [T] with several instances is
        one aggregate loss
    :param steps: (shape: [T]) increasing ints (default 0..T-1)
    :param W_dec: decoder history of an untied model, like W
    :param header: further Recorder arguments (seed, data, model_label, config, ...)
    :raises ValueError: shapes that do not fit (with the same hints as the Recorder)
    """
    # one writer (validation, conversion) for saving and for memory: a Recorder on a temp file
    import tempfile

    from animsup.log.reader import read_log

    folder = tempfile.mkdtemp(prefix="animsup-")
    tmp = os.path.join(folder, "run.jsonl")
    try:
        write_arrays(W, tmp, b=b, loss=loss, steps=steps, W_dec=W_dec, layout=layout, model=model,
                     feature_probability=feature_probability, importance=importance, **header)
        run = read_log(tmp)
        run.path = "<memory>" if path is None else run.save(path, overwrite=overwrite)
        return run
    finally:
        for f in os.listdir(folder):
            os.unlink(os.path.join(folder, f))
        os.rmdir(folder)


def write_arrays(
    W: ArrayLike,
    path: str | os.PathLike[str],
    *,
    b: ArrayLike | None = None,
    loss: ArrayLike | None = None,
    steps: ArrayLike | None = None,
    W_dec: ArrayLike | None = None,
    layout: str = "kmn",
    model: str | None = None,
    feature_probability: ArrayLike | None = None,
    importance: ArrayLike | None = None,
    overwrite: bool = False,
    **header: Any,
) -> str:
    """Write a W history as a log at ``path`` with a :class:`Recorder` (arguments as for
    :func:`from_arrays`); returns the path. Used where only a file is needed (``animsup.render``
    of arrays), so the log is written once and never read back.

    :raises ValueError: shapes that do not fit (with the same hints as the Recorder)
    :raises FileExistsError: ``path`` exists and ``overwrite`` is False
    """
    check_layout(layout)
    Wa = to_numpy(W, "W")
    per = len(layout)
    if Wa.ndim == per:
        Wa = Wa[None]
    if Wa.ndim != per + 1:
        raise ValueError(f"W must have shape [T, {LAYOUTS[layout].split(' (')[0][1:]} (layout={layout!r}), "
                         f"or one snapshot without T; got {_shape(Wa.shape)}")
    T = Wa.shape[0]
    dims = dict(zip(layout, Wa.shape[1:]))
    k, m, n = dims.get("k", 1), dims["m"], dims["n"]
    steps_a = np.arange(T) if steps is None else to_numpy(steps, "steps")
    if steps_a.shape != (T,) or not np.all(steps_a == np.round(steps_a)):
        raise ValueError(f"steps must be {T} integers (one per snapshot), got shape {_shape(steps_a.shape)}")
    steps_i = steps_a.astype(np.int64)
    if T > 1 and not np.all(np.diff(steps_i) > 0):
        raise ValueError("steps must increase")
    loss_a = None if loss is None else to_numpy(loss, "loss").reshape(T, -1)
    scope = "none" if loss_a is None else "instance" if loss_a.shape[1] == k else "aggregate"
    if W_dec is not None:
        model = model or "untied"
    Wd = None if W_dec is None else to_numpy(W_dec, "W_dec").reshape(Wa.shape)
    b_a = None if b is None else to_numpy(b, "b")
    if b_a is not None and b_a.shape[0] != T:
        b_a = b_a[None] if T == 1 else b_a
    with Recorder(path, n_features=n, n_hidden=m, n_instances=k, model=model or "tied", layout=layout,
                  feature_probability=feature_probability, importance=importance, loss_scope=scope,
                  overwrite=overwrite, **header) as rec:
        for t in range(T):
            rec.snapshot(int(steps_i[t]), W=Wa[t], b=None if b_a is None else b_a[t],
                         loss=None if loss_a is None else loss_a[t], W_dec=None if Wd is None else Wd[t])
    return os.fspath(path)


def as_run(source: str | os.PathLike[str] | Run | ArrayLike, **kw: Any) -> Run:
    """A :class:`Run` from a log path, a Run, or arrays (a W history; ``kw`` as for :func:`from_arrays`)."""
    from animsup.log.reader import read_log

    if isinstance(source, Run):
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_log(source)
    return from_arrays(source, **kw)


@contextlib.contextmanager
def as_log_file(source: Any, **arrays: Any) -> Iterator[str]:
    """A log path for ``source``, for the readers that stream a file (rendering, the viewer):
    a log path as it is; a :class:`animsup.log.reader.Run` (read from a file, made by
    :func:`from_arrays`, or changed in memory) or arrays (``**arrays`` as :func:`write_arrays`
    takes them) written once to a temporary log, removed when the block ends.

    :raises TypeError: ``arrays`` given with a log path or a Run
    """
    if isinstance(source, (str, os.PathLike)) or isinstance(source, Run):
        if arrays:
            kind = "a Run" if isinstance(source, Run) else "a log path"
            raise TypeError(f"{', '.join(arrays)} only apply when rendering arrays, not {kind}")
    if isinstance(source, (str, os.PathLike)):
        yield os.fspath(source)
        return
    folder = tempfile.mkdtemp(prefix="animsup-")
    tmp = os.path.join(folder, "run.jsonl")
    try:
        if isinstance(source, Run):
            source.save(tmp)
        else:
            write_arrays(source, tmp, **arrays)
        yield tmp
    finally:
        shutil.rmtree(folder, ignore_errors=True)
