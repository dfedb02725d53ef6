"""Where a render's time goes: set-up, drawing, encoding, in one process.

    python bench/profile_render.py [--n 32] [--frames 300] [--format mp4]

Four measurements of the same log, same process, one after another:

1. the whole ``animsup.rendering.video.render`` (in process, no workers), cut by its
   ``progress`` callback into set-up (to the first frame), per frame (median gap) and
   finish (after the last frame: flushing the encoder, renaming the file);
2. drawing only: the same render with the encoder replaced by one that drops frames;
3. encoding only: real frames (drawn once) written to the encoder in a loop;
4. the drawing under cProfile: the top functions by own time.

On two cores the drawer and ffmpeg run in parallel, so a render's per-frame cost is
about max(draw, encode) when the machine is otherwise idle, and their sum when it is not.
CPU seconds (this process vs its children, i.e. ffmpeg) are printed beside the wall
times: on a shared machine they are the steadier measure of what a frame costs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import time

import common


class _DropEncoder:
    needs_samples = False
    single_frame = False

    def __init__(self, path=None, *a, **k):
        self.path, self.frames = path, 0

    def prepare(self, samples):
        pass

    def write(self, rgba):
        self.frames += 1

    def finish(self):
        if self.path:  # the render checks that something was written
            with open(self.path, "wb") as f:
                f.write(b"x")

    def abort(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.finish()
        return False


def _render(log, out, frames, stamps=None, **kw):
    from animsup.rendering.video import render

    cb = (lambda i, n: stamps.append(time.perf_counter())) if stamps is not None else None
    return render(log, out, frames=frames, hold=0, workers=0, progress=cb, **kw)


def _cpu():
    """(this process, its finished children) CPU seconds so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=32, help="n_features of the synthetic log")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--format", default="mp4", choices=("mp4", "gif", "webm"))
    p.add_argument("--preset", default=None, help="MP4 preset (default: animsup's)")
    args = p.parse_args(argv)
    kw = {"preset": args.preset} if args.preset else {}
    with common.tmpdir() as tmp:
        log = common.write_log(os.path.join(tmp, "p.jsonl"), n_features=args.n, n_hidden=2, snapshots=1000)
        out = os.path.join(tmp, f"p.{args.format}")

        t0 = time.perf_counter()
        c0 = _cpu()
        from animsup import video  # noqa: F401  (imports counted in set-up below)
        from animsup.rendering.encode import MP4_PRESET

        stamps: list = []
        _render(log, out, args.frames, stamps, **kw)
        end = time.perf_counter()
        c1 = _cpu()
        gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
        setup, per, finish = stamps[0] - t0, gaps[len(gaps) // 2], end - stamps[-1]
        print(f"whole render   {end - t0:7.2f} s for {args.frames} frames = {args.frames / (end - t0):6.1f} frames/s")
        print(f"  set-up       {setup:7.2f} s  (imports, log scan, figure + background, first frame)")
        mean = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1)
        print(f"  per frame    {1e3 * per:7.2f} ms median gap between frames, {1e3 * mean:.2f} ms mean, "
              f"{1e3 * gaps[int(0.95 * len(gaps))]:.2f} ms 95th percentile")
        print(f"  finish       {finish:7.2f} s")
        print(f"  CPU          {c1[0] - c0[0]:7.2f} s drawing process, {c1[1] - c0[1]:.2f} s ffmpeg"
              + (f" (x264 preset {args.preset or MP4_PRESET}), {os.path.getsize(out) / 1e6:.2f} MB" if args.format == "mp4" else ""))

        import animsup.rendering.encode as enc_mod

        real = enc_mod.make_encoder
        enc_mod.make_encoder = lambda path, *a, **k: _DropEncoder(path)
        try:
            stamps = []
            _render(log, os.path.join(tmp, "drop." + args.format), args.frames, stamps)
        finally:
            enc_mod.make_encoder = real
        gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
        draw = gaps[len(gaps) // 2]
        print(f"draw only      {1e3 * draw:7.2f} ms a frame (median)")

        # encode only: 30 real frames, drawn once, cycled
        from animsup.rendering.draw import FrameDrawer  # noqa: F401

        grabbed = []

        class _Grab(_DropEncoder):
            def write(self, rgba):
                if len(grabbed) < 30:
                    grabbed.append(np.array(rgba))

        import numpy as np

        enc_mod.make_encoder = lambda path, *a, **k: _Grab(path)
        try:
            _render(log, os.path.join(tmp, "grab." + args.format), 30)
        finally:
            enc_mod.make_encoder = real
        h, w = grabbed[0].shape[:2]
        t1 = time.perf_counter()
        k0 = _cpu()
        with real(out, (w, h), 30.0, **kw) as e:
            if getattr(e, "needs_samples", False):
                e.prepare(grabbed[:8])
            for i in range(args.frames):
                e.write(grabbed[i % len(grabbed)])
        enc = (time.perf_counter() - t1) / args.frames
        k1 = _cpu()
        print(f"encode only    {1e3 * enc:7.2f} ms a frame (whole encoder run / frames, ffmpeg in its own process): "
              f"CPU {1e3 * (k1[0] - k0[0]) / args.frames:.2f} ms writing + {1e3 * (k1[1] - k0[1]) / args.frames:.2f} ms ffmpeg")

        prof = cProfile.Profile()
        prof.enable()
        _render(log, os.path.join(tmp, "prof." + args.format), min(args.frames, 150), **kw)
        prof.disable()
        st = pstats.Stats(prof)
        print("\ntop functions by own time (drawing + encoding, cProfile):")
        st.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
