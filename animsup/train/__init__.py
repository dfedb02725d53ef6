"""The training layer: configuration, data laws, the engines (torch, numpy), optimisers and the loop.

``animsup.train.train(cfg, out)`` trains a batched run and writes its log (:mod:`animsup.train.loop`).
Lazy, so that ``animsup.train.config`` is importable without torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["train"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from animsup.train.loop import train

        return train
    raise AttributeError(f"module 'animsup.train' has no attribute {name!r}")
