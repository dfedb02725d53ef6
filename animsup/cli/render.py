"""``animsup render``: turn a run log into an MP4 / GIF / WebM video and a PNG poster.

The format follows each --out's extension; several --out draw the frames once and
encode every format. Outputs are written atomically (a failed or interrupted render
never leaves a partial file nor destroys an earlier good one).
"""

from __future__ import annotations

import argparse

FORMATS = ".mp4 (H.264), .gif, .webm (VP9), .png (poster), .html (interactive viewer, see docs/viewer.md)"


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """The rendering options shared by render and demo (argparse only: no heavy imports)."""
    v = parser.add_argument_group("what to show")
    v.add_argument("--instance", default="best", metavar="I|best",
                   help="instance index, or 'best' (lowest final loss)")
    v.add_argument("--grid", action="store_true", help="every instance side by side, one shared loss panel")
    v.add_argument("--panels", default="", metavar="LIST", help="extra panels: bias")
    v.add_argument("--smooth", type=int, default=None, metavar="N",
                   help="moving-average window of the loss in logged points (default: 1/50 of them)")
    v.add_argument("--annotate", action="store_true",
                   help="mark training events (features joining/dropping, shape changes, loss drops)")
    v.add_argument("--theme", default="light", choices=("light", "dark"))
    t = parser.add_argument_group("time (default: one frame per snapshot at 30 fps)")
    t.add_argument("--fps", type=float, default=None, help="frames per second (default 30)")
    t.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="video length including the final hold (resamples the snapshots)")
    t.add_argument("--frames", type=int, default=None, metavar="N", help="animated frames (resamples the snapshots)")
    t.add_argument("--time", default=None, choices=("linear", "log"),
                   help="resample uniformly in training step, or in log(step) (more frames early)")
    t.add_argument("--hold", type=float, default=1.0, metavar="SECONDS", help="hold the final frame this long")
    t.add_argument("--at", type=float, default=None, metavar="STEP", help="training step of the PNG poster (default: last)")
    o = parser.add_argument_group("output")
    o.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels (rounded up to even)")
    o.add_argument("--dpi", type=float, default=100.0, help="dots per inch: larger text and lines at the same size")
    o.add_argument("--preset", default=None, metavar="NAME",
                   help="MP4 (x264) speed vs file size: ultrafast (the default, fastest), superfast, veryfast "
                        "(~1.5x smaller files, ~20-30%% slower render), faster, fast, medium, slow")
    o.add_argument("--workers", type=int, default=None, metavar="N",
                   help="draw processes (default: cores - 1, the encoder keeps one busy; 0 or 1 = in process)")
    o.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "render",
        help="render a run log to MP4 / GIF / WebM video and a PNG poster",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("log", metavar="LOG", help="run log (.jsonl or .jsonl.gz)")
    p.add_argument("--out", "-o", action="append", required=True, metavar="FILE",
                   help=f"output file, repeatable; format by extension: {FORMATS}")
    add_render_options(p)
    p.set_defaults(func=run)
    return p


def render_kwargs(args) -> dict:
    """Library keyword arguments for ``animsup.video.render`` from parsed options."""
    return dict(
        instance=args.instance, grid=args.grid, panels=args.panels, smooth=args.smooth, annotate=args.annotate,
        theme=args.theme, fps=args.fps, duration=args.duration, frames=args.frames, time=args.time,
        hold=args.hold, at=args.at, size=args.size, dpi=args.dpi, workers=args.workers,
        preset=getattr(args, "preset", None),
    )  # fmt: skip


class sigterm_as_interrupt:
    """Turn SIGTERM into KeyboardInterrupt so outputs are cleaned up like on Ctrl-C.

    A KeyboardInterrupt raised from a signal handler can land in a place that swallows
    it (a weakref callback, a ``__del__``), so the signal is also remembered, and
    :meth:`check` (called from the progress callback at every frame) raises it again.
    ``restore()`` puts the previous handler back.
    """

    def __init__(self):
        import signal

        self.received = False

        def handler(signum, frame):
            self.received = True
            raise KeyboardInterrupt

        try:
            self._old = signal.signal(signal.SIGTERM, handler)
        except ValueError:  # not the main thread
            self._old = None

    def check(self) -> None:
        if self.received:
            raise KeyboardInterrupt

    def wrap(self, callback):
        def progress(*a, **kw):
            self.check()
            callback(*a, **kw)

        return progress

    def restore(self) -> None:
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
            self._old = None

    def __call__(self) -> None:
        self.restore()


def run(args) -> int:
    from animsup.cli.progress import make_progress
    from animsup.video import render

    html = [o for o in args.out if o.lower().endswith(".html")]
    if html:  # the interactive viewer (animsup.viewer); the other outputs are rendered below
        from animsup.viewer import write_html

        for path in html:
            info = write_html(args.log, path, smooth=args.smooth, instance=args.instance)
            if not args.quiet:
                print(f"wrote {path} ({info['bytes'] / 1e6:.1f} MB, {info['instances']} instances, {info['rule']})")
        args.out = [o for o in args.out if o not in html]
        if not args.out:
            return 0
    sig = sigterm_as_interrupt()
    bar, callback = make_progress("render", None, unit="frame", enabled=False if args.quiet else None)
    try:
        result = render(args.log, args.out, progress=sig.wrap(callback), **render_kwargs(args))
        sig.check()
    finally:
        bar.close()
        sig.restore()
    if not args.quiet:
        print(result.summary())
    return 0
