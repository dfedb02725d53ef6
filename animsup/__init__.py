"""animsup: train toy models of superposition, log them, and render them to video.

Data flows one way: train -> runlog (JSONL) -> frames -> draw -> encode.
Importing ``animsup`` is cheap: torch and matplotlib are imported only by the
modules that need them (submodules such as ``animsup.train`` and ``animsup.geometry``
are imported on first use).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "render", "read_log", "open_log", "Recorder", "from_arrays", "summary", "describe", "show"]

_SUBMODULES = {
    "atomic", "config", "data", "draw", "encode", "errors", "events", "frames", "geometry", "importers",
    "minima", "model", "numpy_model", "optim", "recorder", "runlog", "train", "video",
}


def __getattr__(name):  # lazy re-exports keep `import animsup` free of torch/matplotlib
    import importlib

    if name in ("read_log", "open_log"):
        from animsup import runlog

        return getattr(runlog, name)
    if name in ("Recorder", "from_arrays"):
        from animsup import recorder

        return getattr(recorder, name)
    if name in ("render", "summary", "describe"):
        from animsup import api

        return getattr(api, name)
    if name == "show":  # the interactive viewer inline in Jupyter
        from animsup.viewer.notebook import show

        return show
    if name in _SUBMODULES:
        return importlib.import_module(f"animsup.{name}")
    raise AttributeError(f"module 'animsup' has no attribute {name!r}")
