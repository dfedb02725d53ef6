"""animsup: train toy models of superposition, log them, and render them to video.

Data flows one way: train -> runlog (JSONL) -> frames -> draw -> encode.
Importing ``animsup`` is cheap: torch and matplotlib are imported only by the
modules that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "render", "read_log", "open_log", "show"]


def __getattr__(name):  # lazy re-exports keep `import animsup` free of torch/matplotlib
    if name in ("read_log", "open_log"):
        from animsup import runlog

        return getattr(runlog, name)
    if name == "render":
        from animsup.video import render

        return render
    if name == "show":  # the interactive viewer inline in Jupyter
        from animsup.viewer.notebook import show

        return show
    raise AttributeError(f"module 'animsup' has no attribute {name!r}")
