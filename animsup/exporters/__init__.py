"""Exporters: animsup logs -> the files other tools read (trackers' runs, weights).

A format is one module in this package with a function
``export(log, out, *, force=False, **options) -> ExportResult`` and a module docstring (its
first line is the format's one-line description). Register it in ``FORMATS`` below;
``animsup export LOG --to NAME`` then finds it. Options a format does not take are refused with
a clear error. The trackers' libraries (the ``[tracking]`` extra) are imported only by the
format that needs them, when it runs.
"""

from __future__ import annotations

import importlib
import inspect
import os
from types import ModuleType

from animsup.errors import AnimsupError
from animsup.exporters.common import ExportResult

__all__ = ["FORMATS", "ExportResult", "export", "get"]

# format name -> module in animsup.exporters
FORMATS = {
    "tensorboard": "tensorboard",  # event files: scalars, the video, events as text
    "wandb": "wandb",  # a W&B run (offline by default): scalars, the video, the final geometry table
    "safetensors": "safetensors",  # cfg.json + one .safetensors per snapshot (animsup import reads it back)
}


def get(name: str) -> ModuleType:
    """The exporter module for format ``name``."""
    if name not in FORMATS:
        raise AnimsupError(f"unknown export format {name!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(f"animsup.exporters.{FORMATS[name]}")


def export(name: str, log: str | os.PathLike, out: str | os.PathLike, **options: object) -> ExportResult:
    """Export the log ``log`` as format ``name`` into the folder ``out``; options that are None
    take the format's default."""
    module = get(name)
    accepted = inspect.signature(module.export).parameters
    unknown = [k for k, v in options.items() if k not in accepted and v is not None]
    if unknown:
        raise AnimsupError(f"--to {name} does not take {', '.join('--' + k.replace('_', '-') for k in unknown)}")
    return module.export(log, out, **{k: v for k, v in options.items() if k in accepted and v is not None})
