"""The d3 HTML pages of 2-D weight histories that ARENA's ``animate_features_in_2d`` (chapter 1.3.1,
superposition and SAEs, ``utils.py``) and tms-kit's copy of it (``tms_kit/utils/utils.py``) write.

Such a page embeds its data as a Python repr inside a script::

    const data = [{'timestep': 0, 'plot': 0, 'data': [{'x': np.float32(-0.5698), 'y': 0.3704, 'color': ...}, ...]}, ...];
    const timestep = 21;  const plots = 16;  const datapoints = 5;
    const subtitles = ['Encoder weights', ..., 'Decoder weights', ...];
    var steps = [0, 50, ..., 999]        (only when the author passed step numbers)

Point ``d`` of plot ``p`` at frame ``t`` is column ``d`` of that plot's W [2, n] (the page draws
the columns of W [instances, d_hidden=2, features]). The page is read as text with linear-time
regular expressions; no script in it runs. Its values are rounded to 4 decimals by the page's
writer. Rows of plots titled "decoder" (the ``dict`` form: one row per matrix) become W_dec.
"""

from __future__ import annotations

import re

import numpy as np

from animsup.errors import AnimsupError, check_memory
from animsup.importers.checkpoint import Imported, orient

#: the most characters of a page read (a 1,000-frame history of 16 plots of 20 features is ~30 MB)
MAX_PAGE_CHARS = 256 << 20
_NUM = r"([-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|nan|inf))"
_VAL = r"(?:np\.float\d*\(|np\.int\d*\()?" + _NUM + r"\)?"
_RECORD = re.compile(r"\{\s*'timestep':\s*(\d+),\s*'plot':\s*(\d+),\s*'data':\s*\[")
_POINT = re.compile(r"'x':\s*" + _VAL + r",\s*'y':\s*" + _VAL)
_CONST = re.compile(r"const (timestep|plots|datapoints) = (\d+);")
_STEPS = re.compile(r"var steps = \[([^\]]*)\]")
_SUBTITLES = re.compile(r"const subtitles = \[([^\]]*)\]")
_TITLE = re.compile(r"<h1 id=\"title\">([^<]{0,200})</h1>")


def is_d3_history(text: str) -> bool:
    """True for a page written by ``animate_features_in_2d`` (its data and size constants)."""
    return "const data = [" in text and all(f"const {k} = " in text for k in ("timestep", "plots", "datapoints"))


def read(path: str) -> Imported:
    """The W history [T, K, 2, n] of a d3 page (plots of a "decoder" row: W_dec), with its steps.

    :raises AnimsupError: an HTML file of another kind, or data that does not match its sizes
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(MAX_PAGE_CHARS + 1)
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read: {e.strerror or e}") from None
    if len(text) > MAX_PAGE_CHARS:
        raise AnimsupError(f"{path}: an HTML page of more than {MAX_PAGE_CHARS:,} characters")
    if not is_d3_history(text):
        raise AnimsupError(f"{path}: an HTML page, but not a d3 weight history written by animate_features_in_2d "
                           "(ARENA, tms-kit): no 'const data = [...]' with timestep, plots and datapoints")
    sizes = {k: int(v) for k, v in _CONST.findall(text)}
    T, P, n = sizes["timestep"], sizes["plots"], sizes["datapoints"]
    if min(T, P, n) < 1:
        raise AnimsupError(f"{path}: the page says {T} frames of {P} plots of {n} points")
    check_memory(2 * 8 * T * P * n * 2, f"{path}: importing this page")
    W = np.full((T, P, 2, n), np.nan)
    starts = [(m.end(), int(m.group(1)), int(m.group(2))) for m in _RECORD.finditer(text)]
    for i, (pos, t, p) in enumerate(starts):
        if t >= T or p >= P:
            raise AnimsupError(f"{path}: a record of frame {t}, plot {p} in a page of {T} frames of {P} plots")
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        pts = _POINT.findall(text, pos, end)[:n]
        if len(pts) != n:
            raise AnimsupError(f"{path}: frame {t}, plot {p} has {len(pts)} points, the page says {n}")
        W[t, p] = np.asarray(pts, dtype=np.float64).T
    if np.isnan(W).any():
        raise AnimsupError(f"{path}: the page's data misses frames or plots (or holds NaN), {T} x {P} expected")
    return _split(path, text, W)


def _split(path: str, text: str, W: np.ndarray) -> Imported:
    """Plots -> instances; a row of plots titled "decoder" -> W_dec; the page's steps."""
    T, P = W.shape[:2]
    sub = _SUBTITLES.search(text)
    names = [a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", sub.group(1))] if sub else []
    inferred = {"source": "d3 HTML weight history (animate_features_in_2d: ARENA, tms-kit)",
                "layout": "kmn (each plot's points are the columns of W [2, n])"}
    notes = ["the page's values are rounded to 4 decimals by its writer"]
    W_dec = None
    if len(names) == P:
        dec = np.asarray(["decoder" in s.lower() for s in names])
        if dec.any() and (~dec).sum() == dec.sum():
            W, W_dec = W[:, ~dec], W[:, dec]
            inferred["w_dec_key"] = "the plots titled 'decoder' (one per instance, in order)"
            inferred["model"] = "untied (the page shows an encoder row and a decoder row)"
        inferred["plots"] = ", ".join(sorted(set(names)))[:200]
    Wk = orient(W, "kmn", True, {})
    out = Imported(W=Wk, W_dec=None if W_dec is None else orient(W_dec, "kmn", True, {}), inferred=inferred, notes=notes)
    steps = _STEPS.search(text)
    if steps is not None:
        vals = re.findall(r"-?\d+", steps.group(1))
        if len(vals) == T:
            out.steps = np.asarray([int(v) for v in vals], dtype=np.int64)
            inferred["steps"] = "the page's step numbers (var steps)"
        else:
            notes.append(f"the page's {len(vals)} step numbers do not match its {T} frames: frames numbered 0..T-1")
    title = _TITLE.search(text)
    if title and title.group(1).strip():
        out.facts["title"] = title.group(1).strip()
    return out
