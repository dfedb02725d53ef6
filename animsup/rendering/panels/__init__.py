"""The panel interface: extra panels in the right column, under the loss.

A panel is a class with three methods, built once per figure and updated per frame
(the same protocol the main views of :mod:`animsup.rendering.draw` follow)::

    class MyPanel(Panel):
        height = 0.4                       # share of the right column (the loss panel is 1)

        def __init__(self, ctx, rect):     # ctx: the FrameDrawer; rect: [x, y, w, h] figure fractions
            self.ax = ctx.fig.add_axes(rect)             # static parts: drawn once, cached
            self.bars = ...                               # moving artists, created once
            ctx.animate(self.bars)                        # redrawn every frame (blitted)

        def update(self, frame):           # frame: animsup.rendering.frames.Frame (W: [k, n_hidden, n_features])
            self.bars.set_verts(...)       # move the artists; never create new ones

        def boxes(self):                   # display boxes the moving artists draw into
            return [self.ax.bbox]

``ctx`` (a :class:`animsup.rendering.draw.FrameDrawer`) offers ``fig`` (a matplotlib Figure, never
pyplot), ``scene`` (:class:`animsup.rendering.frames.Scene`: fixed ranges from the whole log, the
importance, n_features, the theme name), ``theme`` (colours), ``fs`` (the text size in
points; scale every size with it), ``pt`` (pixels per point), ``colors`` (RGBA per feature,
shape [n_features, 4]) and ``animate(*artists)``. ``paint_text(buf, dirty)`` is optional:
paint moving text into the RGBA buffer with numpy (see ``draw._Sprites``) and append the
rectangles painted to ``dirty``.

A panel that needs more of the log than a frame holds (a curve over the whole run) sets
``data_key`` and a classmethod ``prepare(log, instances)`` returning picklable data: the plan
calls it once (:func:`prepare_panels`, one extra pass over the log) and the panel finds the
result in ``ctx.scene.panel_data[data_key]``; panels with the same ``data_key`` share it.

Panels are registered by name as ``"module:Class"`` strings, so that listing them (the
CLI's ``--panels`` check, ``--help``) imports neither matplotlib nor the panel's module.
A new panel module adds one line to :data:`PANELS` (or calls :func:`register_panel`).
"""

from __future__ import annotations

import importlib

from animsup import models

#: panel name -> "module:Class"
PANELS: dict[str, str] = {
    "bias": "animsup.rendering.draw:BiasPanel",
    # feature dimensionality (animsup.rendering.panels.dynamics)
    "dim_time": "animsup.rendering.panels.dynamics:DimTimePanel",
    "dim_scatter": "animsup.rendering.panels.dynamics:DimScatterPanel",
    "dims_per_feature": "animsup.rendering.panels.dynamics:DimsPerFeaturePanel",
    "norms": "animsup.rendering.panels.dynamics:NormsPanel",
    # the neuron model's per-neuron bars (animsup.rendering.panels.neuron); the feature-set key (animsup.rendering.panels.sets)
    "neurons": "animsup.rendering.panels.neuron:NeuronsPanel",
    "sets": "animsup.rendering.panels.sets:SetsPanel",
}


class Panel:
    """Base class of a panel (see the module docstring for the protocol)."""

    #: height relative to the loss panel (1.0)
    height: float = 0.4

    def __init__(self, ctx, rect):
        self.ctx = ctx

    def update(self, frame) -> None:
        raise NotImplementedError

    def boxes(self) -> list:
        return [self.ax.bbox] if hasattr(self, "ax") else []

    def paint_text(self, buf, dirty: list) -> None:
        pass


def register_panel(name: str, target: str) -> None:
    """Register a panel class as ``"module:Class"`` under ``name`` (``--panels name``)."""
    if ":" not in target:
        raise ValueError(f"panel target must look like 'module:Class', got {target!r}")
    PANELS[name] = target


def default_panels(header, panels=()) -> tuple:
    """``panels`` plus the panels a log always gets: ``neurons`` for the neuron model (its
    geometry is not rotation-invariant: what each neuron stores is the view), ``sets`` (the
    colour key) for a log with correlated or anticorrelated feature sets.

    :param header: a :class:`animsup.log.reader.Header`
    """
    out = list(panels)
    data = header.data if isinstance(header.data, dict) else {}
    wanted = [(name, True) for name in models.get(header.model).default_panels]
    wanted.append(("sets", bool(data.get("correlated_sets") or data.get("anticorrelated_sets"))))
    for name, want in wanted:
        if want and name not in out:
            out.append(name)
    return tuple(out)


def load_panel(name: str) -> type:
    """The panel class registered under ``name`` (imports its module)."""
    module, _, cls = PANELS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def prepare_panels(names, log, instances) -> dict:
    """``data_key`` → ``prepare(log, instances)`` of the named panels that need log-wide data."""
    data: dict = {}
    for name in names:
        cls = load_panel(name)
        key = getattr(cls, "data_key", None)
        if key is not None and key not in data:
            data[key] = cls.prepare(log, instances)
    return data
