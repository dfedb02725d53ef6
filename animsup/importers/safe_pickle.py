"""Read pickles without running their code.

:func:`load` unpickles with an allow-list: numpy arrays and dtypes, plain containers, and torch
tensors (whose storages go through torch's own weights-only loader). Every other global a
pickle names (a dataset class, ``os.system``, a pandas DataFrame) becomes an :class:`Inert`
holder: calling it, or setting its state, only records the arguments. Pickles of protocol 0-2
carry bytes as ``_codecs.encode(text, "latin1")``: exactly that call is allowed (it makes bytes,
nothing else). Arrays and bytearrays a pickle builds may not claim more bytes than the file holds. So a ``__reduce__``
payload is never executed, and the data inside unknown objects stays reachable
(:func:`frame_columns` recovers a pickled pandas DataFrame's columns without pandas).
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

import numpy as np

from animsup.errors import AnimsupError

_NUMPY = {
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}
_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "slice", "complex", "range"}
_TORCH = {
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_parameter"),
    ("torch", "Size"), ("torch", "float32"), ("torch", "float16"), ("torch", "bfloat16"), ("torch", "float64"),
}


class Inert:
    """A stand-in for a class or function the allow-list does not know: records, never runs.

    ``module``/``name``: the global the pickle named; ``args``: the arguments it was called with
    (None if never called); ``state``: what the pickle set on it.
    """

    def __init__(self, module: str, name: str, args=None):
        self.module, self.name, self.args, self.state = module, name, args, None
        self.items: list = []

    def __call__(self, *args, **kwargs):  # REDUCE: a new inert object holding the arguments
        return Inert(self.module, self.name, args + ((kwargs,) if kwargs else ()))

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __setstate__(self, state):
        self.state = state

    def append(self, item):
        self.items.append(item)

    def extend(self, items):
        self.items.extend(items)

    def __setitem__(self, key, value):
        self.items.append((key, value))

    def __repr__(self) -> str:
        return f"<inert {self.module}.{self.name}>"


def _inert_class(module: str, name: str):
    """A class standing for ``module.name`` (NEWOBJ calls cls.__new__(cls, *args))."""

    def new(cls, *args, **kwargs):
        obj = object.__new__(cls)
        Inert.__init__(obj, module, name, args)
        return obj

    return type(name, (Inert,), {"__new__": new, "__init__": lambda self, *a, **k: None})


class _NdarrayType:
    """What a pickle's ``numpy.ndarray`` stands for: only an argument of ``_reconstruct`` (called
    directly it would allocate any shape a pickle names)."""


def _load_storage_from_bytes(b: bytes):
    """torch.storage._load_from_bytes, but through torch's weights-only loader on CPU."""
    import torch

    return torch.load(io.BytesIO(b), weights_only=True, map_location="cpu")


def _latin1_encode(obj: object, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """``_codecs.encode`` as pickles of protocol 0-2 use it to carry bytes (``encode(text, "latin1")``,
    numpy's array data among them): only a str to latin-1, which is data, never code. Anything
    else becomes an inert object."""
    if isinstance(obj, str) and encoding.lower().replace("_", "-") in ("latin1", "latin-1") and errors == "strict":
        return obj.encode("latin-1")
    return Inert("_codecs", "encode", (obj, encoding, errors))


class _Unpickler(pickle.Unpickler):
    """The allow-list. ``budget``: the most bytes one array or bytearray the pickle builds may hold
    (the file's size: data in a pickle is in its bytes, so anything larger is a claimed size, not data)."""

    def __init__(self, f: Any, budget: int) -> None:
        super().__init__(f)
        self.budget = budget

    def _check(self, nbytes: int, what: str) -> None:
        if nbytes > self.budget:
            raise pickle.UnpicklingError(f"{what} of {nbytes} bytes, more than the file's size allows ({self.budget} bytes)")

    def _reconstruct(self, cls: Any, shape: Any, dtype: Any) -> Any:
        """numpy's ``_reconstruct(ndarray, shape, dtype)``: an empty array its BUILD then fills."""
        if cls is not _NdarrayType:
            raise pickle.UnpicklingError("numpy _reconstruct of something other than numpy.ndarray")
        dt = np.dtype(dtype)
        size = int(np.prod([int(d) for d in np.atleast_1d(shape)], dtype=object)) * dt.itemsize
        self._check(size, "an array")
        return np.ndarray.__new__(np.ndarray, shape, dt)

    def _bytearray(self, *args: Any) -> bytearray:
        if args and isinstance(args[0], int):
            self._check(int(args[0]), "a bytearray")
        return bytearray(*args)

    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)  # protocol 0-2 names
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return self._reconstruct
        if (module, name) == ("numpy", "ndarray"):
            return _NdarrayType
        if (module, name) == ("builtins", "bytearray"):
            return self._bytearray
        if (module, name) in _NUMPY or (module == "builtins" and name in _BUILTINS) or (module, name) == ("collections", "OrderedDict"):
            return super().find_class(module, name)
        if module.split(".")[0] == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                return _inert_class(module, name)
            if (module, name) == ("torch.storage", "_load_from_bytes"):
                return _load_storage_from_bytes
            if (module, name) in _TORCH or (module == "torch" and name.endswith("Storage")):
                return super().find_class(module, name)
        return _inert_class(module, name)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids (a torch zip archive's pickle) are read by torch.load, not here")


def load(path: str) -> Any:
    """Unpickle ``path`` with the allow-list (see the module docstring).

    :raises AnimsupError: not a pickle, or a broken one (one line)
    """
    try:
        with open(path, "rb") as f:
            return _Unpickler(f, max(os.fstat(f.fileno()).st_size, 1 << 16)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, RecursionError, UnicodeDecodeError, ImportError, OSError) as e:
        raise AnimsupError(f"{path}: cannot read this pickle safely: {type(e).__name__}: {str(e)[:120]}") from None
    except Exception as e:  # noqa: BLE001 - anything a malformed pickle can make numpy/torch raise
        raise AnimsupError(f"{path}: cannot read this pickle safely: {type(e).__name__}: {str(e)[:120]}") from None


def _walk(obj, seen=None):
    """Every object reachable from ``obj`` (containers and inert holders), depth first."""
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        yield o
        if isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
        elif isinstance(o, (list, tuple)):
            stack.extend(reversed(o))
        elif isinstance(o, Inert):
            stack.extend(reversed([o.args, o.state, o.items]))


def is_frame(obj) -> bool:
    """True for an inert pandas DataFrame."""
    return isinstance(obj, Inert) and obj.name == "DataFrame" and obj.module.split(".")[0] == "pandas"


def _number(v) -> float | None:
    """A number held in an object column: a Python or numpy number, a one-element array or torch
    tensor (a loss stored without ``.item()``), None/NaN as NaN; anything else None."""
    if v is None:
        return float("nan")
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.number)):
        return float(v)
    if isinstance(v, np.ndarray) and v.size == 1 and v.dtype.kind in "iuf":
        return float(v.reshape(-1)[0])
    if type(v).__module__.split(".")[0] == "torch" and hasattr(v, "numel") and v.numel() == 1:
        return float(v.detach().reshape(-1)[0])
    return None


def object_row(values) -> np.ndarray | None:
    """(shape: [len(values)]) the values as floats (numbers, one-element arrays or tensors, None
    as NaN), or None when one of them is not a number."""
    nums = [_number(v) for v in values]
    return None if any(x is None for x in nums) else np.asarray(nums, dtype=np.float64)


def _object_rows(values: np.ndarray) -> list[np.ndarray | None]:
    """Each row of an object block as floats, or None where a value is not a number."""
    return [object_row(row) for row in np.atleast_2d(values)]


def _strings(o) -> list[str] | None:
    if isinstance(o, np.ndarray) and o.dtype == object and o.ndim == 1 and len(o) and all(isinstance(v, str) for v in o):
        return [str(v) for v in o]
    if isinstance(o, list) and o and all(isinstance(v, str) for v in o):
        return list(o)
    return arrow_strings(o)


#: Arrow string types (pyarrow's aliases) and the width of their offsets
_ARROW_OFFSETS = {"string": np.int32, "utf8": np.int32, "large_string": np.int64, "large_utf8": np.int64}


def arrow_strings(o) -> list[str] | None:
    """The strings of a pyarrow string array as pandas ≥ 3 pickles it with pyarrow installed (an
    ``ArrowStringArray``: ``pyarrow.lib._restore_array((type_for_alias("large_string"), length,
    null_count, offset, [validity, offsets, data], children, dictionary))``, buffers as
    ``py_buffer(bytearray)``), decoded from the raw buffers without pyarrow; None for anything else
    (nulls, another type, an inconsistent layout)."""
    if not (isinstance(o, Inert) and o.module == "pyarrow.lib" and o.name == "_restore_array" and o.args):
        return None
    data = o.args[0]
    try:
        kind, length, nulls, offset, buffers = data[0], data[1], data[2], data[3], data[4]
        alias = kind.args[0] if isinstance(kind, Inert) and kind.name == "type_for_alias" and kind.args else None
        width = _ARROW_OFFSETS.get(alias) if isinstance(alias, str) else None
        if width is None or nulls != 0 or not all(isinstance(v, int) for v in (length, offset)) or length < 1 or offset < 0:
            return None
        raw = [b.args[0] if isinstance(b, Inert) and b.name == "py_buffer" and b.args else None for b in buffers[1:3]]
        offsets_raw, text_raw = raw
        if not isinstance(offsets_raw, (bytes, bytearray)) or not isinstance(text_raw, (bytes, bytearray)):
            return None
        offsets = np.frombuffer(bytes(offsets_raw), dtype=np.dtype(width).newbyteorder("<"))
        text = bytes(text_raw)
        if len(offsets) < offset + length + 1:
            return None
        ends = offsets[offset:offset + length + 1].astype(np.int64)
        if ends[0] < 0 or np.any(np.diff(ends) < 0) or ends[-1] > len(text):
            return None
        return [text[a:b].decode("utf-8") for a, b in zip(ends[:-1], ends[1:])]
    except (IndexError, TypeError, ValueError, UnicodeDecodeError):
        return None


def _column_index(obj) -> list[str] | None:
    """The column names: the strings of the frame's first pickled Index (``_new_Index``, its
    columns axis), never a column of strings that comes before it in the pickle."""
    for o in _walk(obj):
        if isinstance(o, Inert) and o.name == "_new_Index":
            for inner in _walk(o):
                names = _strings(inner)
                if names is not None:
                    return names
            return None
    return None


def frame_columns(obj, skipped: list[str] | None = None) -> dict[str, np.ndarray]:
    """The numeric columns of an inert pandas DataFrame: name -> (shape: [rows]).

    Reads pandas' pickle layout (a BlockManager of ``_unpickle_block(values [cols, rows],
    slice of column positions, ndim)`` blocks and an Index of column names) without pandas.
    Columns of object dtype (a loss column of Python floats or 0-d tensors) are read value by
    value; the names of columns that hold something other than numbers go to ``skipped``.

    :raises AnimsupError: a layout this reader does not know
    """
    blocks, names = [], _column_index(obj)
    for o in _walk(obj):
        if isinstance(o, Inert) and o.name in ("_unpickle_block", "new_block") and o.args:
            values, locs = o.args[0], o.args[1] if len(o.args) > 1 else None
            blocks.append((values, locs))
        if names is None and isinstance(o, np.ndarray) and o.dtype == object and o.ndim == 1 and len(o) and all(isinstance(v, str) for v in o):
            names = [str(v) for v in o]
        if names is None and isinstance(o, list) and o and all(isinstance(v, str) for v in o) and len(o) > 1:
            names = list(o)
    if not blocks or names is None:
        raise AnimsupError("a pickled DataFrame in a layout this importer does not know (no blocks or column names)")
    cols: dict[str, np.ndarray] = {}
    for values, locs in blocks:
        if isinstance(locs, slice):
            idx = list(range(*locs.indices(len(names))))
        elif isinstance(locs, np.ndarray):
            idx = [int(i) for i in locs]
        else:
            continue
        if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
            rows: list[np.ndarray | None] = list(np.atleast_2d(values).astype(np.float64))
        elif isinstance(values, np.ndarray) and values.dtype == object:
            rows = _object_rows(values)
        else:  # an extension array (strings, categories): not numbers
            rows = [None] * len(idx)
        for j, c in enumerate(idx[: len(rows)]):
            if c < len(names):
                row = rows[j]
                if row is not None:
                    cols[names[c]] = row
                elif skipped is not None:
                    skipped.append(names[c])
    return cols
