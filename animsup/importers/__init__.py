"""Importers: convert logs written by other programs into animsup run logs.

A format is one module in this package with a function
``convert(src_path, out_path, *, force=False, progress=None, **options) -> ImportResult``
and a module docstring (its first line is the format's one-line description). Register it in
``FORMATS`` below; ``animsup import --format NAME`` then finds it. Options a format does not
take are refused with a clear error.
"""

from __future__ import annotations

import importlib
import inspect
import os
from types import ModuleType

from animsup.errors import AnimsupError
from animsup.importers.result import ImportResult

__all__ = ["FORMATS", "ImportResult", "convert", "get"]

# format name -> module in animsup.importers
FORMATS = {
    "c-log": "c_log",  # the output of seed 002's C program
}


def get(name: str) -> ModuleType:
    """The importer module for format ``name``."""
    if name not in FORMATS:
        raise AnimsupError(f"unknown import format {name!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(f"animsup.importers.{FORMATS[name]}")


def convert(name: str, src_path, out_path, **options) -> ImportResult:
    """Convert ``src_path`` (format ``name``) into the animsup log ``out_path``."""
    module = get(name)
    if os.path.realpath(os.fspath(src_path)) == os.path.realpath(os.fspath(out_path)):
        raise AnimsupError(f"--out {out_path} is the input file; write the animsup log to another path")
    accepted = inspect.signature(module.convert).parameters
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise AnimsupError(f"format {name!r} does not take {', '.join('--' + k.replace('_', '-') for k in unknown)}")
    return module.convert(src_path, out_path, **options)
