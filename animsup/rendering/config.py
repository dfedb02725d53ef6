"""``RenderConfig``: every rendering option, its default and its limit, validated once.

The one place a rendering option is defined. :func:`animsup.rendering.video.render` builds a
``RenderConfig`` from its keyword arguments (or takes one), the CLI takes its defaults
and help texts from :data:`OPTIONS`, and the resolved config is recorded in the
:class:`animsup.rendering.video.RenderResult` (``result.config``), so a video can be rebuilt from
its settings: ``render(log, out, config=RenderConfig.from_dict(result.config))``.

Pure Python (no numpy, no matplotlib): ``animsup render --help`` imports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from animsup.errors import AnimsupError, available_memory
from animsup.options import is_number as _number
from animsup.options import markdown_table
from animsup.options import option as _opt

THEMES = ("light", "dark")
TIMES = ("linear", "log")
VIEWS = ("auto", "full", "summary")
BACKENDS = ("auto", "ffmpeg", "av")
#: x264 presets (the settings of each are in :data:`animsup.rendering.encode.MP4_PRESETS`)
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
MAX_FPS = 240.0
#: the slowest video: one frame every 100 s (ffmpeg refuses a frame rate of 1e-9, naming its temp file)
MIN_FPS = 0.01
#: the memory one draw worker holds (a matplotlib figure and its canvas, measured ~125 MB)
WORKER_BYTES = 125 << 20


def max_workers() -> int:
    """The most draw workers a render may start: two per core (more only queue for the CPUs)
    and no more than the available memory holds at :data:`WORKER_BYTES` each; at least 1."""
    import os

    return max(1, min(2 * (os.cpu_count() or 1), available_memory() // WORKER_BYTES))
MAX_FRAMES = 1_000_000
SIZE_LIMITS = ((64, 7680), (64, 4320))
DEFAULT_SIZE = (1280, 720)
DPI_LIMITS = (20.0, 600.0)
FILMSTRIP_LIMITS = (2, 12)


@dataclass(frozen=True)
class RenderConfig:
    """Every rendering option (see the table in docs/rendering.md, generated from :data:`OPTIONS`).

    Constructing one validates it (:class:`animsup.errors.AnimsupError`, one line, on a bad
    value) and normalises it (``size`` becomes ``(width, height)`` rounded up to even,
    ``panels`` a tuple of names, numbers their plain types).
    """

    instance: object = _opt(None, "instance index; 'best' (lowest final loss, when the log has one group of "
                                   "comparable instances); 'best:g<N>' or 'best:p=<1-S>' (the best of that group "
                                   "on a sweep; see animsup.analysis.ranking); default: the best when there is one, "
                                   "else every instance as in grid (said in one line)", "0..n_instances-1, best, best:GROUP")
    grid: bool = _opt(False, "every instance side by side, one shared loss panel")
    panels: tuple = _opt((), "extra panels under the loss (comma-separated); neuron-model logs always get 'neurons', "
                             "logs with correlated/anticorrelated feature sets 'sets'", "names in animsup.rendering.panels.PANELS")
    smooth: int | None = _opt(None, "moving-average window of the loss, in logged points (default: 1/50 of them)", ">= 1")
    annotate: bool = _opt(False, "mark training events (features joining/dropping, shape changes, loss drops)",
                          "not with grid")
    theme: str = _opt("light", "colour theme", "light, dark")
    sae: str | None = _opt(None, "an SAE file (animsup sae) whose decoder directions are drawn over W's columns "
                                 "(n_hidden <= 2); default: the log's sidecar LOG.sae.json when there is one; "
                                 "'none': not drawn", "a path, none")
    view: str = _opt("auto", "main view: full (the W plane or the WᵀW heatmap), summary (a large model: ‖W_i‖ by "
                             "frequency rank, D_i and overlap histograms), auto (summary above 512 features with n_hidden >= 3)",
                     ", ".join(VIEWS))
    fps: float | None = _opt(None, "frames per second (default: 30; GIFs play at most 50)", f"{MIN_FPS:g} <= fps <= {MAX_FPS:g}")
    duration: float | None = _opt(None, "video length in seconds, final hold included (resamples the snapshots)", "> 0")
    frames: int | None = _opt(None, "animated frames (resamples the snapshots; default: one per snapshot)",
                              f"1..{MAX_FRAMES:,} with the hold")
    time: str | None = _opt(None, "resample evenly in training step (linear) or in log(step) (log); "
                                  "default: evenly over snapshots", "linear, log")
    hold: float = _opt(1.0, "seconds the final frame is held", ">= 0")
    at: float | None = _opt(None, "training step of the PNG poster (nearest snapshot; default: the last)",
                            "within the logged steps")
    filmstrip: int | None = _opt(None, "the still outputs (PNG, SVG, PDF) become a filmstrip figure: K snapshots side "
                                       "by side over the loss curve and the events (K steps evenly in training step, "
                                       "or in log(step) with --time log)", f"{FILMSTRIP_LIMITS[0]}..{FILMSTRIP_LIMITS[1]}")
    size: tuple = _opt(DEFAULT_SIZE, "frame size in pixels, WxH (rounded up to even)", "64x64 .. 7680x4320")
    dpi: float = _opt(100.0, "text and line size: 100 is the default, 160 is talk-sized (1.6x larger text)",
                      f"{DPI_LIMITS[0]:g}..{DPI_LIMITS[1]:g}")
    preset: str | None = _opt(None, "MP4 (x264) speed vs file size (default: ultrafast, the fastest; veryfast "
                                    "makes ~1.5x smaller files ~20-30% slower)", ", ".join(PRESETS))
    workers: int | None = _opt(None, "draw processes (default: cores - 1, the encoder keeps one busy; 0 or 1: "
                                     "draw in process)", ">= 0, at most 2 per core and 125 MB of memory each")
    backend: str = _opt("auto", "video encoder: the ffmpeg binary, PyAV in process, or auto", ", ".join(BACKENDS))

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("instance", _instance(self.instance))
        set_("grid", bool(self.grid))
        set_("annotate", bool(self.annotate))
        if self.annotate and self.grid:
            raise AnimsupError("--annotate shows one instance's events; it cannot be combined with --grid")
        set_("panels", _panels(self.panels))
        set_("smooth", _whole("smooth", self.smooth, 1))
        if self.sae is not None and (not isinstance(self.sae, str) or not self.sae):
            raise AnimsupError(f"--sae takes an SAE file's path or 'none', got {self.sae!r}")
        if self.view not in VIEWS:
            raise AnimsupError(f"--view must be one of {', '.join(VIEWS)}, got {self.view!r}")
        if self.theme not in THEMES:
            raise AnimsupError(f"unknown theme {self.theme!r} (light or dark)")
        for name in ("fps", "duration"):
            set_(name, _positive(name, getattr(self, name)))
        if self.fps is not None and self.fps > MAX_FPS:
            raise AnimsupError(f"--fps {self.fps:g} is above the limit of {MAX_FPS:g}")
        if self.fps is not None and self.fps < MIN_FPS:
            raise AnimsupError(f"--fps {self.fps:g} is below the limit of {MIN_FPS:g} (one frame every {1 / MIN_FPS:g} s)")
        set_("frames", _whole("frames", self.frames, 1))
        if self.fps is not None and self.duration is not None and self.frames is not None:
            raise AnimsupError("give at most two of --fps, --duration and --frames")
        if self.time == "snapshots":
            set_("time", None)
        if self.time not in (None, *TIMES):
            raise AnimsupError(f"--time must be linear or log, got {self.time!r}")
        if not _number(self.hold) or self.hold < 0:
            raise AnimsupError(f"--hold must be >= 0 seconds, got {self.hold!r}")
        set_("hold", float(self.hold))
        if self.at is not None:
            if not _number(self.at):
                raise AnimsupError(f"--at must be a training step, got {self.at!r}")
            set_("at", float(self.at))
        set_("filmstrip", _whole("filmstrip", self.filmstrip, FILMSTRIP_LIMITS[0]))
        if self.filmstrip is not None and self.filmstrip > FILMSTRIP_LIMITS[1]:
            raise AnimsupError(f"--filmstrip takes at most {FILMSTRIP_LIMITS[1]} snapshots, got {self.filmstrip}")
        set_("size", parse_size(self.size))
        if not _number(self.dpi) or not DPI_LIMITS[0] <= self.dpi <= DPI_LIMITS[1]:
            raise AnimsupError(f"--dpi must be between {DPI_LIMITS[0]:g} and {DPI_LIMITS[1]:g}, got {self.dpi!r}")
        set_("dpi", float(self.dpi))
        if self.preset is not None and self.preset not in PRESETS:
            raise AnimsupError(f"unknown --preset {self.preset!r} (one of {', '.join(PRESETS)})")
        set_("workers", _whole("workers", self.workers, 0))
        if self.workers is not None and self.workers > max_workers():
            raise AnimsupError(f"--workers {self.workers} is more than this machine can run (at most {max_workers()}: "
                               f"two per core, {WORKER_BYTES >> 20} MB of memory each)")
        if self.backend not in BACKENDS:
            raise AnimsupError(f"unknown encoder backend {self.backend!r} (auto, ffmpeg or av)")
        self.frame_counts(1)  # the time options together (a log's own snapshot count is checked by the plan)

    def frame_counts(self, n_snapshots: int) -> tuple[float, int, int]:
        """(fps, animated frames, final-hold frames) of a video of a log with ``n_snapshots``
        snapshots: ``frames``, else ``duration`` less the hold, else one frame per snapshot, at
        ``fps`` (default 30; ``frames`` with ``duration`` set it). AnimsupError when the time
        options leave no frames or ask for more than :data:`MAX_FRAMES` with the hold."""
        fps, duration, hold = self.fps, self.duration, self.hold
        if self.frames is not None and duration is not None:
            if duration <= hold:
                raise AnimsupError(f"--duration {duration:g}s leaves no time before the {hold:g}s final hold (see --hold)")
            fps = self.frames / (duration - hold)
        fps = float(fps or 30.0)
        if fps < MIN_FPS:
            raise AnimsupError(f"{self.frames} frames in {duration:g}s is {fps:.3g} frames per second, below the limit of {MIN_FPS:g}")
        hold_frames = int(round(hold * fps))
        if self.frames is not None:
            n = self.frames
        elif duration is not None:
            n = int(round(duration * fps)) - hold_frames
            if n < 1:
                raise AnimsupError(
                    f"--duration {duration:g}s at {fps:g} fps leaves no frames before the {hold:g}s final hold (see --hold)"
                )
        else:
            n = n_snapshots
        if n + hold_frames > MAX_FRAMES:  # the final hold counts too (--hold 1e9 would encode forever)
            raise AnimsupError(f"{n + hold_frames:,} frames (with the final hold) is too many (limit {MAX_FRAMES:,})")
        return fps, n, hold_frames

    @property
    def text_scale(self) -> float:
        """How much larger than the default text (and lines) are: ``dpi / 100``."""
        return self.dpi / 100.0

    def to_dict(self) -> dict:
        """JSON-ready: ``RenderConfig.from_dict(c.to_dict()) == c``."""
        d = asdict(self)
        d["size"] = list(self.size)
        d["panels"] = list(self.panels)
        return d

    @classmethod
    def resolve(cls, config: RenderConfig | None, options: dict[str, Any]) -> RenderConfig:
        """``config``, or one built from keyword ``options`` (the fields' names), not both."""
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            raise AnimsupError(f"unknown render option(s): {', '.join(unknown)}")
        if config is not None and options:
            raise AnimsupError("pass either config or keyword options, not both")
        return config if config is not None else cls(**options)

    @classmethod
    def from_dict(cls, d: dict) -> "RenderConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise AnimsupError(f"unknown render option(s): {', '.join(unknown)}")
        return cls(**d)


#: (name, default, help, limit) of every option, in the order of the dataclass
OPTIONS = tuple((f.name, f.default, f.metadata["help"], f.metadata["limit"]) for f in fields(RenderConfig))


def options_table() -> str:
    """The options as a Markdown table (docs/rendering.md carries this table; a test keeps them equal)."""
    rows = []
    for name, default, help_, limit in OPTIONS:
        if name == "size" and isinstance(default, tuple):
            shown = "x".join(map(str, default))
        else:
            shown = "none" if default in (None, ()) else str(default)
        rows.append((f"`{name}`", str(shown), limit, help_))
    return markdown_table(rows)


# --------------------------------------------------------------------------- checks


def _positive(name: str, v):
    if v is None:
        return None
    if not _number(v) or v <= 0:
        raise AnimsupError(f"--{name} must be a positive number, got {v!r}")
    return float(v)


def _whole(name: str, v, low: int):
    if v is None:
        return None
    if not _number(v) or int(v) != v or v < low:
        raise AnimsupError(f"--{name} must be a whole number >= {low}, got {v!r}")
    return int(v)


def _instance(v):
    if v is None or v == "best":
        return v  # None: the default view (animsup.analysis.ranking.default_view)
    if isinstance(v, str) and v.startswith("best:"):
        return v  # the group is checked against the log (animsup.analysis.ranking.resolve)
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise AnimsupError(f"--instance takes an index, 'best', 'best:g<N>' or 'best:p=<1-S>', got {v!r}") from None
    if isinstance(v, float) and i != v or i < 0:
        raise AnimsupError(f"--instance must be an index >= 0 or 'best', got {v!r}")
    return i


def _panels(v) -> tuple:
    from animsup.rendering.panels import PANELS

    if v is None:
        return ()
    if isinstance(v, str):
        v = [p for p in v.replace(",", " ").split() if p]
    out = []
    for p in v:
        if p not in PANELS:
            raise AnimsupError(f"unknown panel {p!r} (available: {', '.join(PANELS)})")
        if p not in out:
            out.append(p)
    return tuple(out)


def parse_size(v) -> tuple[int, int]:
    """'1280x720' or (1280, 720) -> (1280, 720), rounded up to even numbers (H.264 needs them)."""
    try:
        if isinstance(v, str):
            w, h = (int(x) for x in v.lower().split("x"))
        else:
            w, h = (int(x) for x in v)
    except (TypeError, ValueError):
        raise AnimsupError(f"--size must look like 1280x720, got {v!r}") from None
    (wlo, whi), (hlo, hhi) = SIZE_LIMITS
    if not (wlo <= w <= whi and hlo <= h <= hhi):
        raise AnimsupError(f"--size {w}x{h} is out of range ({wlo}x{hlo} .. {whi}x{hhi})")
    return w + (w % 2), h + (h % 2)
