"""Colours: the themes, the feature colours (importance, or a colour family per feature set) and
the instance colours of a grid."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import numpy as np

if TYPE_CHECKING:
    from matplotlib.colors import Colormap, ListedColormap, Normalize
    from matplotlib.typing import ColorType


class Theme(TypedDict):
    """The colours of one theme (matplotlib colour strings)."""

    bg: str
    fg: str
    muted: str
    faint: str
    grid: str
    outline: str
    cursor: str
    cmap: tuple[str, float, float]  # (name, low, high): the part of the colormap importance spans
    reverse: bool  # high importance at the colormap's low end
    heat: str  # the diverging colormap of WᵀW and the bias
    caption_bg: str


THEMES: dict[str, Theme] = {
    "light": {
        "bg": "#ffffff",
        "fg": "#1f2328",
        "muted": "#6e7781",
        "faint": "#d0d7de",
        "grid": "#eaeef2",
        "outline": "#8c959f",
        "cursor": "#cf222e",
        "cmap": ("viridis", 0.0, 0.82),  # (name, low, high): high importance = dark end
        "reverse": True,
        "heat": "RdBu_r",
        "caption_bg": "#fff8c5",
    },
    "dark": {
        "bg": "#0d1117",
        "fg": "#e6edf3",
        "muted": "#8b949e",
        "faint": "#30363d",
        "grid": "#21262d",
        "outline": "#6e7681",
        "cursor": "#ff7b72",
        "cmap": ("plasma", 0.25, 1.0),  # high importance = bright end
        "reverse": False,
        "heat": "RdBu_r",
        "caption_bg": "#3d2e00",
    },
}


def colormap(name: str) -> Colormap:
    """The registered matplotlib colormap ``name``."""
    import matplotlib

    return matplotlib.colormaps[name]


def feature_colors(importance: np.ndarray, theme: Theme) -> tuple[np.ndarray, ListedColormap, Normalize]:
    """RGBA per feature (shape: [n_features, 4]), plus the (cmap, norm) for a colourbar."""
    from matplotlib.colors import ListedColormap, Normalize

    name, lo, hi = theme["cmap"]
    cols = colormap(name)(np.linspace(lo, hi, 256))
    if theme["reverse"]:
        cols = cols[::-1]
    cmap = ListedColormap(cols)
    imp = np.asarray(importance, dtype=np.float64)
    vmin, vmax = float(imp.min()), float(imp.max())
    if vmax - vmin < 1e-12:
        vmin, vmax = vmin - 1, vmax + 1
    norm = Normalize(vmin, vmax)
    return cmap(norm(imp)), cmap, norm


def instance_color(theme: Theme, n_instances: int, k: int) -> ColorType:
    """The colour of instance ``k`` of ``n_instances`` (its grid panel's title, its loss curve)."""
    if n_instances == 1:
        return theme["fg"]
    if n_instances <= 10:
        return colormap("tab10")(k)
    return colormap("turbo")(0.1 + 0.8 * k / max(n_instances - 1, 1))


def rgb255(color: ColorType) -> np.ndarray:
    """A matplotlib colour as float32 RGB in 0..255 (shape: [3]), for painting with numpy."""
    from matplotlib.colors import to_rgb

    return np.array(to_rgb(color), dtype=np.float32) * 255.0
