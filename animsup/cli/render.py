"""``animsup render``: turn a run log into a video, a poster, a vector figure or the viewer's page.

The format follows each --out's extension; several --out draw the frames once and
encode every format. Outputs are written atomically (a failed or interrupted render
never leaves a partial file nor destroys an earlier good one).
"""

from __future__ import annotations

import argparse
import dataclasses

from animsup.cli.helpfmt import HelpFormatter  # (re-exported for demo)
from animsup.cli.output import say
from animsup.errors import plural
from animsup.rendering import outputs


def _help(name: str) -> str:
    from animsup.rendering.config import OPTIONS

    return {n: h for n, _, h, _ in OPTIONS}[name].replace("%", "%%")


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """The rendering options shared by render and demo (argparse only: no heavy imports).

    Help texts and defaults come from :data:`animsup.rendering.config.OPTIONS` (one definition)."""
    from animsup.rendering.config import DEFAULT_SIZE, PRESETS, THEMES, TIMES, VIEWS, RenderConfig

    d = RenderConfig.__dataclass_fields__
    v = parser.add_argument_group("what to show")
    v.add_argument("--instance", default=d["instance"].default, metavar="I|best|best:GROUP", help=_help("instance"))
    v.add_argument("--grid", action="store_true", help=_help("grid"))
    v.add_argument("--panels", default="", metavar="LIST", help=_help("panels") + ": " + _panel_names())
    v.add_argument("--smooth", type=int, default=None, metavar="N", help=_help("smooth"))
    v.add_argument("--annotate", action="store_true", help=_help("annotate"))
    v.add_argument("--theme", default=d["theme"].default, choices=THEMES, help=_help("theme"))
    v.add_argument("--sae", default=None, metavar="FILE|none", help=_help("sae"))
    v.add_argument("--view", default=d["view"].default, choices=VIEWS, help=_help("view"))
    t = parser.add_argument_group("time (default: one frame per snapshot at 30 fps, then a 1 s hold)")
    t.add_argument("--fps", type=float, default=None, help=_help("fps"))
    t.add_argument("--duration", type=float, default=None, metavar="SECONDS", help=_help("duration"))
    t.add_argument("--frames", type=int, default=None, metavar="N", help=_help("frames"))
    t.add_argument("--time", default=None, choices=TIMES, help=_help("time"))
    t.add_argument("--hold", type=float, default=d["hold"].default, metavar="SECONDS", help=_help("hold"))
    t.add_argument("--at", type=float, default=None, metavar="STEP", help=_help("at"))
    o = parser.add_argument_group("output")
    o.add_argument("--size", default="x".join(map(str, DEFAULT_SIZE)), metavar="WxH", help=_help("size"))
    o.add_argument("--filmstrip", type=int, default=None, metavar="K", help=_help("filmstrip"))
    o.add_argument("--dpi", type=float, default=d["dpi"].default, help=_help("dpi"))
    o.add_argument("--preset", default=None, metavar="NAME",
                   help=_help("preset") + ": " + ", ".join(PRESETS))
    o.add_argument("--workers", type=int, default=None, metavar="N", help=_help("workers"))
    o.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary")


def _panel_names() -> str:
    from animsup.rendering.panels import PANELS

    return ", ".join(PANELS)


_SPELLING = {"webm": "WebM"}  # (the others: the extension in capitals)
_WORDS = {"video": "video", "poster": "poster", "figure": "vector figure", "page": "interactive viewer page"}


def summary_line() -> str:
    """The command's one-line help, naming every format of :data:`animsup.rendering.outputs.FORMATS`
    by kind: "render a run log to MP4 / WebM / GIF video, a PNG poster, an SVG / PDF vector figure or
    an HTML interactive viewer page"."""
    parts = []
    for kind, word in _WORDS.items():
        names = " / ".join(_SPELLING.get(f.name, f.name.upper()) for f in outputs.of_kind(kind))  # type: ignore[arg-type]
        if names:
            parts.append(("" if kind == "video" else "an " if names[0] in "AEFHILMNORSX" else "a ") + f"{names} {word}")
    return "render a run log to " + (", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0])


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "render",
        help=summary_line(),
        description=__doc__.split("\n\n")[1],
        formatter_class=HelpFormatter,
    )
    p.add_argument("log", metavar="LOG", nargs="+",
                   help="run log (.jsonl or .jsonl.gz); 2 to 6 logs: the runs side by side, aligned on the training step")
    p.add_argument("--out", "-o", action="append", required=True, metavar="FILE",
                   help=f"output file, repeatable; format by extension: {outputs.help_text()}")
    add_render_options(p)
    p.add_argument("--align", default=None, choices=("step", "log-time"),
                   help="runs side by side (2 to 6 logs): spread the frames / slider steps evenly in training step "
                        "(default) or evenly in log(step) (log-time; the loss axes in log step too)")
    p.set_defaults(func=run)
    return p


def render_kwargs(args) -> dict:
    """Library keyword arguments for ``animsup.rendering.video.render`` (the fields of RenderConfig) from parsed options.
    (``backend`` is not a CLI option: ``--backend`` is training's engine in ``demo``.)"""
    from animsup.rendering.config import OPTIONS

    return {name: getattr(args, name) for name, *_ in OPTIONS if name != "backend" and hasattr(args, name)}


def run(args) -> int:
    from animsup.api import render
    from animsup.cli.progress import make_progress

    from animsup.cli import sigterm_as_interrupt

    kwargs = render_kwargs(args)
    if getattr(args, "align", None) is not None:
        if len(args.log) == 1:
            from animsup.errors import AnimsupError

            raise AnimsupError("--align applies to runs side by side (2 to 6 logs); for one log use --time log")
        kwargs["align"] = args.align

    sig = sigterm_as_interrupt()  # (main() has one too; this one also checks at every frame)
    draws = not all(outputs.is_page(o) for o in args.out)  # a page alone draws no frames: no bar
    if args.quiet or not draws:  # no bar at all (not even a disabled tqdm: its import is ~20 ms of start-up)
        bar, callback = None, lambda *a, **kw: None
    else:
        bar, callback = make_progress("render", None, unit="frame")
    try:
        result = render(args.log[0] if len(args.log) == 1 else args.log, args.out, progress=sig.wrap(callback), **kwargs)
        sig.check()
    finally:
        if bar is not None:
            bar.close()
        sig.restore()
    if not args.quiet:
        say(summary_text(result))
    return 0


def summary_text(result) -> str:
    """What the CLI prints: each page's size and contents, then the drawn outputs' summary."""
    lines = [f"wrote {p['path']} ({p['bytes'] / 1e6:.1f} MB, {plural(p['instances'], 'instance')}, {p['rule']})"
             for p in result.pages]
    if result.instances:  # frames were drawn (their summary ends with every note)
        pages = {p["path"] for p in result.pages}
        lines.append(dataclasses.replace(result, paths=[p for p in result.paths if p not in pages]).summary())
    else:  # pages only: the notes about the log and its files (a skipped sidecar, an unfinished log...)
        lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
