"""The base class of the extra panels (the protocol is in :mod:`animsup.rendering.panels`'s
docstring). Its own module, so that the panel modules the registry names import it without
importing the registry."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

    from animsup.rendering.draw.context import BufferRect, DrawContext, Rect
    from animsup.rendering.frames import Frame


class Panel:
    """Base class of a panel (see the module docstring for the protocol); a
    :class:`animsup.rendering.draw.context.Part`."""

    #: height relative to the loss panel (1.0)
    height: ClassVar[float] = 0.4
    #: the key of the log-wide data :meth:`prepare` returns (``None``: the panel needs none)
    data_key: ClassVar[str | None] = None
    #: the panel's x axis is the loss panel's training step (the bottom one of the column is
    #: labelled "training step" by the compositor; every one shows its tick labels)
    step_axis: ClassVar[bool] = False
    #: the panel's axes (its box is restored every frame), when it has one
    ax: Axes

    def __init__(self, ctx: DrawContext, rect: Rect):
        self.ctx = ctx

    @classmethod
    def prepare(cls, log: str | os.PathLike[str], instances: Sequence[int]) -> object:
        """The log-wide data of a panel with a :attr:`data_key` (picklable; one pass over the log)."""
        raise NotImplementedError

    def update(self, frame: Frame) -> None:
        raise NotImplementedError

    def boxes(self) -> list[Bbox]:
        return [self.ax.bbox] if hasattr(self, "ax") else []

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        pass
