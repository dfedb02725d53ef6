"""The panel interface: extra panels in the right column, under the loss.

A panel is a class with three methods, built once per figure and updated per frame: a
:class:`animsup.rendering.draw.context.Part`, the protocol every part of the frame follows (the
loss panel and the main views too)::

    class MyPanel(Panel):
        height = 0.4                       # share of the right column (the loss panel is 1)

        def __init__(self, ctx, rect):     # ctx: the DrawContext; rect: (x, y, w, h) figure fractions
            self.ax = ctx.fig.add_axes(rect)             # static parts: drawn once, cached
            self.bars = ...                               # moving artists, created once
            ctx.animate(self.bars)                        # redrawn every frame (blitted)

        def update(self, frame):           # frame: animsup.rendering.frames.Frame (W: [k, n_hidden, n_features])
            self.bars.set_verts(...)       # move the artists; never create new ones

        def boxes(self):                   # display boxes the moving artists draw into
            return [self.ax.bbox]

``ctx`` (a :class:`animsup.rendering.draw.context.DrawContext`) offers ``fig`` (a matplotlib
Figure, never pyplot), ``scene`` (:class:`animsup.rendering.frames.Scene`: fixed ranges from the
whole log, the importance, n_features, the theme name), ``theme`` (colours), ``width`` and
``height`` (pixels), ``fs`` (the text size in points; scale every size with it), ``pt`` (pixels
per point), ``colors`` (RGBA per feature, shape [n_features, 4]), ``px(x, y, w, h)`` (pixels to
a rect), ``fit_width(text, width_px)``, ``instance_color(k)``, ``renderer()`` and
``animate(*artists)``. ``paint_text(buf, dirty)`` is optional: paint moving text into the RGBA
buffer with numpy (see :class:`animsup.rendering.draw.text.Sprites`) and append the rectangles
painted to ``dirty``.

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
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from animsup import models

from animsup.rendering.panels.base import Panel

if TYPE_CHECKING:
    from animsup.log.schema import Header

__all__ = ["PANELS", "Panel", "default_panels", "load_panel", "prepare_panels", "register_panel"]

#: panel name -> "module:Class"
PANELS: dict[str, str] = {
    "bias": "animsup.rendering.panels.bias:BiasPanel",
    # feature dimensionality (animsup.rendering.panels.dynamics)
    "dim_time": "animsup.rendering.panels.dynamics:DimTimePanel",
    "dim_scatter": "animsup.rendering.panels.dynamics:DimScatterPanel",
    "dims_per_feature": "animsup.rendering.panels.dynamics:DimsPerFeaturePanel",
    "norms": "animsup.rendering.panels.dynamics:NormsPanel",
    # the neuron model's per-neuron bars (animsup.rendering.panels.neuron); the feature-set key (animsup.rendering.panels.sets)
    "neurons": "animsup.rendering.panels.neuron:NeuronsPanel",
    "sets": "animsup.rendering.panels.sets:SetsPanel",
    # the log's extra recorded curves (test loss, accuracy, lr...: animsup.rendering.panels.curves)
    "curves": "animsup.rendering.panels.curves:CurvesPanel",
    # the LLC from the log's measurements sidecar (`animsup measure --llc`; animsup.rendering.panels.landscape)
    "llc": "animsup.rendering.panels.landscape:LLCPanel",
    # the Hessian spectrum from the same sidecar (`animsup measure --hessian`; animsup.rendering.panels.hessian)
    "hessian": "animsup.rendering.panels.hessian:HessianPanel",
}


def register_panel(name: str, target: str) -> None:
    """Register a panel class as ``"module:Class"`` under ``name`` (``--panels name``)."""
    if ":" not in target:
        raise ValueError(f"panel target must look like 'module:Class', got {target!r}")
    PANELS[name] = target


def default_panels(header: Header, panels: Sequence[str] = ()) -> tuple[str, ...]:
    """``panels`` plus the panels a log always gets: ``neurons`` for the neuron model (its
    geometry is not rotation-invariant: what each neuron stores is the view), ``sets`` (the
    colour key) for a log with correlated or anticorrelated feature sets.

    :param header: a :class:`animsup.log.reader.Header`
    """
    out = list(panels)
    data = header.data if isinstance(header.data, dict) else {}
    wanted = [(name, True) for name in models.get(header.model).default_panels]
    wanted.append(("sets", bool(data.get("correlated_sets") or data.get("anticorrelated_sets") or data.get("exclusive_sets"))))
    for name, want in wanted:
        if want and name not in out:
            out.append(name)
    return tuple(out)


def load_panel(name: str) -> type[Panel]:
    """The panel class registered under ``name`` (imports its module)."""
    module, _, cls = PANELS[name].partition(":")
    panel: type[Panel] = getattr(importlib.import_module(module), cls)
    return panel


def prepare_panels(names: Sequence[str], log: str | os.PathLike[str], instances: Sequence[int]) -> dict[str, object]:
    """``data_key`` → ``prepare(log, instances)`` of the named panels that need log-wide data."""
    data: dict[str, object] = {}
    for name in names:
        cls = load_panel(name)
        key = getattr(cls, "data_key", None)
        if key is not None and key not in data:
            data[key] = cls.prepare(log, instances)
    return data
