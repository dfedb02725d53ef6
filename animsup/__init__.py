"""animsup: train toy models of superposition, log them, and render them to video.

Data flows one way: train -> log (JSONL) -> analysis -> rendering (frames -> draw -> encode) -> viewer;
see docs/architecture.md.
Importing ``animsup`` is cheap: torch and matplotlib are imported only by the
modules that need them (submodules such as ``animsup.train.loop`` and ``animsup.analysis.geometry``
are imported on first use).
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "render", "read_log", "open_log", "Recorder", "from_arrays", "summary", "describe", "show", "TrainConfig", "figure", "measure", "sae"]

# the layers (``animsup.log``, ``animsup.train``...) and, for code written before they existed, the
# old flat module names (those the README and docs of 0.1 used) as attributes, each resolved to
# where the module lives now: ``animsup.geometry.describe`` still works, ``import animsup.geometry``
# does not (import from the layer: ``animsup.analysis.geometry``)
_SUBMODULES = {
    "log": "animsup.log", "train": "animsup.train", "analysis": "animsup.analysis", "rendering": "animsup.rendering",
    "importers": "animsup.importers", "viewer": "animsup.viewer", "errors": "animsup.errors", "atomic": "animsup.atomic",
    "models": "animsup.models",
    "runlog": "animsup.log.reader", "recorder": "animsup.log.recorder", "config": "animsup.train.config",
    "data": "animsup.train.data", "model": "animsup.train.model", "numpy_model": "animsup.train.numpy_model",
    "optim": "animsup.train.optim", "geometry": "animsup.analysis.geometry", "events": "animsup.analysis.events",
    "minima": "animsup.analysis.minima", "draw": "animsup.rendering.draw", "encode": "animsup.rendering.encode",
    "frames": "animsup.rendering.frames", "video": "animsup.rendering.video",
}


def __getattr__(name: str) -> Any:  # lazy re-exports keep `import animsup` free of torch/matplotlib
    import importlib

    if name in ("read_log", "open_log"):
        from animsup.log import reader

        return getattr(reader, name)
    if name in ("Recorder", "from_arrays"):
        from animsup.log import recorder

        return getattr(recorder, name)
    if name in ("render", "summary", "describe", "figure"):
        from animsup import api

        return getattr(api, name)
    if name == "measure":  # the loss landscape (LLC, Hessian, essential dynamics): torch, loaded here
        from animsup.train.measure import measure

        return measure
    if name == "sae":  # SAEs on a toy's hidden activations (torch: imported here, on first use)
        from animsup.train.sae import sae

        return sae
    if name == "TrainConfig":
        from animsup.train.config import TrainConfig

        return TrainConfig
    if name == "show":  # the interactive viewer inline in Jupyter
        from animsup.viewer.notebook import show

        return show
    if name in _SUBMODULES:
        return importlib.import_module(_SUBMODULES[name])
    raise AttributeError(f"module 'animsup' has no attribute {name!r}")
