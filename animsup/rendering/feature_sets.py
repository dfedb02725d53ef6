"""Correlated and anticorrelated feature sets in the frames: which features belong together and
their colours.

A log whose header ``data`` object lists ``correlated_sets`` (features that switch on together)
or ``anticorrelated_sets`` (all off, or exactly one on) or ``exclusive_sets`` (at most one on, each at
density p; :class:`animsup.train.data.DataSpec`) is drawn with
the features of one set in one colour family (blues, reds, greens, … in the order the header lists
the sets, correlated ones first), a shade per feature of the set.
Features in no set keep their importance colour (:func:`animsup.rendering.draw.feature_colors`). The
``sets`` panel (:class:`animsup.rendering.panels.sets.SetsPanel`) is the key.

numpy only; :func:`set_colors` imports matplotlib's colormaps.
"""

from __future__ import annotations

from animsup.errors import AnimsupError

#: colour families (matplotlib sequential colormaps) of the sets, in turn (distinct hues first)
FAMILIES = ("Blues", "Reds", "Greens", "Purples", "Oranges", "Greys", "RdPu", "YlOrBr", "BuGn", "PuBu")
#: the part of a family's colormap the shades span, per theme (light: dark shades on white)
SHADES = {"light": (0.5, 0.92), "dark": (0.3, 0.75)}


def sets_of(data, n_features: int) -> list[tuple[str, list[int]]]:
    """("correlated" | "anticorrelated" | "exclusive", feature indices) of each set the header's ``data`` object
    lists, correlated sets first, in the log's order; [] for independent features.

    :raises AnimsupError: a set that is not a list of at least two distinct feature indices in
        0..n_features-1, or a feature in two sets
    """
    out: list[tuple[str, list[int]]] = []
    if not isinstance(data, dict):
        return out
    seen: set[int] = set()
    for kind in ("correlated", "anticorrelated", "exclusive"):
        sets = data.get(f"{kind}_sets") or []
        if not isinstance(sets, list):
            raise AnimsupError(f"header data.{kind}_sets must be a list of lists of feature indices")
        for st in sets:
            ok = (isinstance(st, list) and len(st) >= 2 and all(type(i) is int and 0 <= i < n_features for i in st)
                  and len(set(st)) == len(st))
            if not ok:
                raise AnimsupError(f"header data.{kind}_sets: {str(st)[:60]} is not a set of at least two distinct "
                                   f"feature indices in 0..{n_features - 1}")
            if seen & set(st):
                raise AnimsupError(f"header data: feature {min(seen & set(st))} is in two feature sets")
            seen |= set(st)
            out.append((kind, list(st)))
    return out


def set_colors(colors, sets, theme: str = "light"):
    """The feature colours with every set's features in its family's shades.

    :param colors: (shape: [n_features, 4]) RGBA of each feature (by importance)
    :param sets: :func:`sets_of`'s list
    :return: (shape: [n_features, 4]) a copy; features in no set unchanged
    """
    import matplotlib
    import numpy as np

    out = np.array(colors, dtype=np.float64, copy=True)
    lo, hi = SHADES.get(theme, SHADES["light"])
    for e, (_, st) in enumerate(sets):
        cmap = matplotlib.colormaps[FAMILIES[e % len(FAMILIES)]]
        out[st] = cmap(np.linspace(hi, lo, len(st)) if len(st) > 1 else [hi])
    return out


def ranges_text(indices) -> str:
    """Feature indices as short text: [0, 1, 2, 3, 7] -> "0–3, 7"."""
    runs: list[list[int]] = []  # consecutive indices
    for i in sorted(int(i) for i in indices):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(str(r[0]) if len(r) == 1 else (f"{r[0]}, {r[1]}" if len(r) == 2 else f"{r[0]}–{r[-1]}")
                     for r in runs)
