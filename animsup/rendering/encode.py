"""RGBA frames -> video and image files, chosen by extension through a small registry.

Every encoder has the same tiny protocol (after matplotlib's writers)::

    enc = make_encoder("run.mp4", size=(1280, 720), fps=30)
    with enc:                     # __exit__ aborts on an exception, else finishes
        enc.write(rgba)           # (H, W, 4) uint8, any number of times

Every factory in :data:`ENCODERS` has one signature,
``factory(path, size, fps, *, backend="auto", preset=None) -> Encoder``, and every
encoder a ``kind``: ``"video"`` (gets every frame) or ``"poster"`` (one frame).

========  =====================================================================
``.mp4``  H.264 (libx264, CRF 23, ``preset``: see :data:`MP4_PRESETS`), yuv420p,
          even dimensions, ``+faststart`` so browsers start playing before the
          download ends.
``.webm`` VP9 (libvpx-vp9, realtime speed), yuv420p.
``.gif``  one shared 256-colour palette (from sample frames given to
          ``prepare``), frames streamed through ``paletteuse``; loops forever.
          At most :data:`GIF_MAX_FPS` frames a second (GIF delays are whole
          centiseconds and browsers play delays under 20 ms at 100 ms): faster
          videos keep every k-th frame, and ``note`` says so.
``.png``  one frame (the poster), written with Pillow.
========  =====================================================================

Video frames are streamed as raw RGBA to the ffmpeg binary that imageio-ffmpeg
ships (no temp images; ffmpeg converts to YUV in its own process, in parallel
with drawing). If imageio-ffmpeg is missing, MP4 and WebM fall back to PyAV
(in process). The encoder writes exactly the path it is given; callers make it
atomic with :func:`animsup.atomic.atomic_path`.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import IO, Callable

import numpy as np

from animsup.errors import AnimsupError
from animsup.rendering import outputs

#: x264 settings for each ``preset`` name. x264's own ``superfast`` and ``ultrafast`` also turn
#: off the lookahead and macroblock tree, which on these mostly static frames (a fixed
#: background, a few moving arrows) doubles the file for no measurable speed; animsup keeps
#: them on (and, for ultrafast, CABAC, deblocking and adaptive quantisation, which cost
#: little here). Measured at 1280x720, n=32, 200 frames, yuv420p in, one x264 thread
#: (x264 alone; ffmpeg's RGB -> YUV conversion adds ~2.3 ms a frame to every preset):
#:
#: ==========  =========  ===========  =========
#: preset      ms/frame   size vs vf   PSNR (dB)
#: ==========  =========  ===========  =========
#: ultrafast   3.3        1.7x         46.4
#: superfast   5.1        1.12x        46.4
#: veryfast    7.5        1 (295 KB)   46.7
#: ==========  =========  ===========  =========
#:
#: ``ultrafast`` is the default: on 2 cores the drawer and ffmpeg share the machine, and a
#: whole render (1000 frames, n=32, other load on the machine) ran at ~100 frames/s with it,
#: ~80 with superfast and ~70 with veryfast; the files (~2.4 MB for 33 s at 720p) look the
#: same. ``--preset veryfast`` (or slower) when file size matters more than render time.
MP4_PRESETS = {
    "ultrafast": ("ultrafast", "mbtree=1:rc-lookahead=10:cabac=1:deblock=1:aq-mode=1"),
    "superfast": ("superfast", "mbtree=1:rc-lookahead=10"),
    "veryfast": ("veryfast", ""),
    "faster": ("faster", ""),
    "fast": ("fast", ""),
    "medium": ("medium", ""),
    "slow": ("slow", ""),
}
MP4_PRESET = "ultrafast"
MP4_CRF = 23
#: bytes of the pipe into ffmpeg (Linux F_SETPIPE_SZ; the default 64 KiB costs a context switch
#: every 64 KiB of a 3.7 MB frame: ~25% more system time in both processes)
PIPE_BYTES = 1 << 20
#: GIF delays are whole centiseconds; browsers play a delay of 10 ms or less as 100 ms
#: (https://wunkolo.github.io/post/2020/02/buttery-smooth-10fps/ ; WHATWG and Chromium
#: clamp delays <= 10 ms), so a GIF never gets more than 50 frames a second (20 ms)
GIF_MAX_FPS = 50.0


def check_preset(preset: str | None) -> str:
    """``preset`` (None: the default) as a key of :data:`MP4_PRESETS`, or an AnimsupError."""
    if preset is None:
        return MP4_PRESET
    if preset not in MP4_PRESETS:
        raise AnimsupError(f"unknown --preset {preset!r} (one of {', '.join(MP4_PRESETS)})")
    return preset


#: machines with at most this many cores get one x264 thread. There the drawer holds one core
#: and ffmpeg's RGB -> YUV conversion runs in a thread of its own; x264's frame threads (3 on
#: 2 cores) only add contention and a flush at the end. Measured on 2 cores, 1280x720, whole
#: ``animsup render`` processes (bench/bench_render.py): 230 frames n=5 1.87 -> 1.59 s,
#: 1000 frames n=5 5.9 -> 4.7 s, n=32 6.5 -> 5.5 s. Above it x264 picks its own count.
X264_SINGLE_THREAD_CORES = 2


def x264_threads() -> int:
    """x264's thread count here: 1 on machines with at most :data:`X264_SINGLE_THREAD_CORES`
    cores, else 0 (x264's automatic choice)."""
    return 1 if (os.cpu_count() or 1) <= X264_SINGLE_THREAD_CORES else 0


def x264_options(preset: str | None = None) -> dict:
    """libx264's options at ``preset`` (CRF :data:`MP4_CRF`, :func:`x264_threads` threads), for
    ffmpeg's command line and PyAV."""
    name, params = MP4_PRESETS[check_preset(preset)]
    return {"preset": name, **({"x264-params": params} if params else {}), "crf": str(MP4_CRF),
            "threads": str(x264_threads())}


def x264_args(preset: str | None = None) -> list[str]:
    """ffmpeg output arguments for libx264 at ``preset``."""
    return ["-c:v", "libx264", *[a for key, value in x264_options(preset).items() for a in (f"-{key}", value)]]


def ffmpeg_exe() -> str | None:
    """Path to an ffmpeg binary: imageio-ffmpeg's, else one on PATH, else None.

    imageio-ffmpeg's own binary (the one file in its ``binaries`` folder) is found without
    importing the package (~35 ms, part of every render's start-up); ``IMAGEIO_FFMPEG_EXE`` or
    anything unusual goes through ``imageio_ffmpeg.get_ffmpeg_exe()``."""
    if not os.environ.get("IMAGEIO_FFMPEG_EXE"):
        exe = _bundled_ffmpeg()
        if exe:
            return exe
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or its binary is missing
        return shutil.which("ffmpeg")


def _bundled_ffmpeg() -> str | None:
    """The ffmpeg binary shipped in imageio-ffmpeg's wheel, located without importing it, or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("imageio_ffmpeg")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "binaries")
    try:
        names = [n for n in os.listdir(folder) if n.startswith("ffmpeg-")]
    except OSError:
        return None
    exe = os.path.join(folder, names[0]) if len(names) == 1 else None
    return exe if exe and os.access(exe, os.X_OK) else None


def _have_av() -> bool:
    try:
        import av  # noqa: F401

        return True
    except ImportError:
        return False


class Encoder:
    """Base protocol: ``prepare(samples)`` (optional), ``write(rgba)``, ``finish()``, ``abort()``.

    ``kind``: "video" (every frame is written) or "poster" (one frame). ``note``: what the
    file does differently from what was asked (e.g. a GIF's capped frame rate), or "".
    """

    kind = "video"
    needs_samples = False  # True: call prepare() with a few representative frames first
    note = ""

    def __init__(self, path: str, size: tuple[int, int], fps: float):
        self.path, self.size, self.fps = str(path), (int(size[0]), int(size[1])), float(fps)
        self.frames = 0

    def prepare(self, samples: list[np.ndarray]) -> None:
        pass

    def write(self, rgba) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        else:
            self.abort()
        return False


@contextlib.contextmanager
def _interrupts_held():
    """Hold SIGINT and SIGTERM (main thread only) until the block ends, then deliver the first one.

    A KeyboardInterrupt raised inside ``subprocess.Popen`` after its fork loses the child: ffmpeg runs
    on, unknown to :meth:`_FFmpegPipe.abort`, and creates the temp output after
    :func:`animsup.atomic.atomic_path` removed it (the flaky SIGTERM render test). Held here, the
    interrupt lands once ``self.proc`` is set, and ``abort`` kills the child.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])  # the restored handler runs: KeyboardInterrupt, or the default action


class _FFmpegPipe(Encoder):
    """Raw RGBA on ffmpeg's stdin; the subclass gives the output arguments."""

    def __init__(self, path, size, fps, exe: str, preset: str | None = None):
        super().__init__(path, size, fps)
        self.exe = exe
        self.preset = check_preset(preset)
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr = b""

    def _output_args(self) -> list[str]:
        raise NotImplementedError

    def _extra_inputs(self) -> list[str]:
        return []

    def __enter__(self):
        # start ffmpeg now (its ~40 ms start-up then overlaps the caller's set-up), unless it
        # needs sample frames first (a GIF's palette)
        if not self.needs_samples:
            try:
                self._start()
            except BaseException:  # e.g. a SIGTERM's KeyboardInterrupt landing here: __exit__ will not run,
                self.abort()  # so stop an ffmpeg already started (left running, it would write the temp file
                raise  # after atomic_path removed it)
        return self

    def _start(self) -> None:
        w, h = self.size
        cmd = [
            self.exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb0", "-s", f"{w}x{h}", "-framerate", f"{self.fps:.6g}", "-i", "pipe:0",
            *self._extra_inputs(), *self._output_args(), self.path,
        ]  # fmt: skip
        try:
            with _interrupts_held():
                self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                                             stdout=subprocess.DEVNULL)
        except OSError as e:
            raise AnimsupError(f"cannot start ffmpeg ({self.exe}): {e}") from None
        _grow_pipe(self._pipes()[0])
        # drain stderr in a thread so a chatty ffmpeg never blocks on a full pipe
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The running ffmpeg's stdin and stderr (both pipes, from :meth:`_start`)."""
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stderr is None:
            raise RuntimeError("ffmpeg is not running")
        return proc.stdin, proc.stderr

    def _drain(self) -> None:
        stderr = self._pipes()[1]
        with stderr:  # read to EOF (ffmpeg exited), then close our end of the pipe
            self._stderr = stderr.read()

    def write(self, rgba) -> None:
        if self.proc is None:
            self._start()
        stdin = self._pipes()[0]
        try:
            stdin.write(memoryview(rgba).cast("B") if not isinstance(rgba, bytes) else rgba)
        except (BrokenPipeError, OSError):
            self._wait()
            self._reader.join()
            raise AnimsupError(f"ffmpeg failed while writing {self.path}: {self._error()}") from None
        self.frames += 1

    def _wait(self) -> int:
        """Wait for ffmpeg to exit; its exit status."""
        if self.proc is None:
            raise RuntimeError("ffmpeg is not running")
        return self.proc.wait()

    def _error(self) -> str:
        lines = [ln for ln in self._stderr.decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit status {None if self.proc is None else self.proc.returncode}"

    def finish(self) -> None:
        if self.proc is None or not self.frames:
            self.abort()
            raise AnimsupError(f"{self.path}: no frames to encode")
        try:
            self._pipes()[0].close()
        except OSError:
            pass
        rc = self._wait()
        self._reader.join()
        if rc != 0:
            raise AnimsupError(f"ffmpeg failed writing {self.path}: {self._error()}")

    def abort(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stderr):
                try:
                    if f is not None:
                        f.close()
                except OSError:
                    pass


def _grow_pipe(f) -> None:
    """Enlarge a pipe's kernel buffer to :data:`PIPE_BYTES` where the OS allows (Linux)."""
    try:
        import fcntl

        fcntl.fcntl(f.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError, ValueError):  # not Linux, or above /proc/sys/fs/pipe-max-size
        pass


class Mp4Encoder(_FFmpegPipe):
    def _output_args(self):
        return [*x264_args(self.preset), "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]


class WebmEncoder(_FFmpegPipe):
    def _output_args(self):
        return ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-b:v", "0",
                "-crf", "36", "-pix_fmt", "yuv420p", "-f", "webm"]  # fmt: skip


class GifEncoder(_FFmpegPipe):
    """One shared palette from sample frames (ffmpeg palettegen), then frames streamed
    through paletteuse: memory stays flat however many frames there are."""

    needs_samples = True

    def __init__(self, path, size, fps, exe, preset=None):
        #: keep every k-th frame, so the GIF's frame rate is at most GIF_MAX_FPS
        self.every = max(1, math.ceil(float(fps) / GIF_MAX_FPS - 1e-9))
        super().__init__(path, size, float(fps) / self.every, exe)
        self.asked_fps = float(fps)
        if self.every > 1:
            self.note = (f"GIF at {self.fps:.3g} fps: every {_nth(self.every)} frame (GIF delays are whole "
                         f"centiseconds, and browsers slow down delays under 20 ms)")
        self._seen = 0
        self._last = None  # the last dropped frame: written at finish if no frame came after it
        self._pending = False
        self._tmpdir = tempfile.mkdtemp(prefix="animsup-gif-")
        self.palette = os.path.join(self._tmpdir, "palette.png")
        self._prepared = False

    def write(self, rgba) -> None:
        keep = self._seen % self.every == 0
        self._seen += 1
        if keep:
            self._pending = False
            super().write(rgba)
        else:  # dropped, unless it turns out to be the last frame
            if self._last is None:
                self._last = np.empty_like(np.asarray(rgba))
            np.copyto(self._last, rgba)
            self._pending = True

    @property
    def seconds(self) -> float:
        """How long the GIF plays (so far)."""
        return self.frames / self.fps

    def prepare(self, samples: list[np.ndarray]) -> None:
        w, h = self.size
        cmd = [
            self.exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}", "-i", "pipe:0",
            "-vf", "palettegen=max_colors=256:stats_mode=full", "-update", "1", self.palette,
        ]  # fmt: skip
        data = b"".join(np.ascontiguousarray(s).tobytes() for s in samples)
        try:
            proc = subprocess.run(cmd, input=data, capture_output=True)
        except OSError as e:
            raise AnimsupError(f"cannot start ffmpeg ({self.exe}): {e}") from None
        if proc.returncode != 0 or not os.path.exists(self.palette):
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise AnimsupError(f"ffmpeg could not build a GIF palette: {msg[-1] if msg else proc.returncode}")
        self._prepared = True

    def _extra_inputs(self):
        if not self._prepared:
            raise RuntimeError("GifEncoder.prepare(samples) must be called before write()")
        return ["-i", self.palette]

    def _output_args(self):
        return ["-lavfi", "[0:v][1:v]paletteuse=dither=none:diff_mode=rectangle", "-loop", "0", "-f", "gif"]

    def _cleanup(self):
        shutil.rmtree(self._tmpdir, ignore_errors=True)

    def finish(self):
        try:
            if self._pending:  # the video ends on its last frame, even when it fell between the kept ones
                super().write(self._last)
                self._pending = False
            super().finish()
        finally:
            self._cleanup()

    def abort(self):
        try:
            super().abort()
        finally:
            self._cleanup()


class AvEncoder(Encoder):
    """PyAV in process (fallback when the ffmpeg binary is missing; also ``backend="av"``)."""

    def __init__(self, path, size, fps, codec: str = "libx264", preset: str | None = None):
        from fractions import Fraction

        import av

        super().__init__(path, size, fps)
        x264 = x264_options(preset)
        fmt = "webm" if codec.startswith("libvpx") else "mp4"
        opts = {"movflags": "+faststart"} if fmt == "mp4" else {}
        self.container = av.open(self.path, mode="w", format=fmt, options=opts)
        rate = Fraction(self.fps).limit_denominator(1000)
        stream = self.container.add_stream(codec, rate=rate)
        if not isinstance(stream, av.VideoStream):
            raise AnimsupError(f"PyAV made no video stream for {codec}")
        self.stream = stream
        self.stream.width, self.stream.height = self.size
        self.stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            self.stream.options = x264
        else:
            self.stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "36", "b": "0", "row-mt": "1"}
        self._av = av

    def write(self, rgba) -> None:
        frame = self._av.VideoFrame.from_ndarray(np.asarray(rgba), format="rgba")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def finish(self) -> None:
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # the file is a temp that the caller removes
            pass


class PngEncoder(Encoder):
    """A single image (the poster). ``write`` keeps the last frame given; ``finish`` saves it."""

    kind = "poster"

    def __init__(self, path, size, fps=1.0):
        super().__init__(path, size, fps)
        self._img = None

    def write(self, rgba) -> None:
        self._img = np.array(rgba, copy=True)
        self.frames += 1

    def finish(self) -> None:
        from PIL import Image

        if self._img is None:
            raise AnimsupError(f"{self.path}: no frame to save")
        Image.fromarray(self._img, "RGBA").convert("RGB").save(self.path, format="PNG", optimize=False, compress_level=6)


def _nth(k: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _video_factory(kind: str) -> Callable:
    def make(path, size, fps, *, backend: str = "auto", preset: str | None = None):
        exe = ffmpeg_exe() if backend in ("auto", "ffmpeg") else None
        if exe:
            return {"mp4": Mp4Encoder, "webm": WebmEncoder, "gif": GifEncoder}[kind](path, size, fps, exe, preset)
        if kind != "gif" and backend in ("auto", "av") and _have_av():
            return AvEncoder(path, size, fps, codec="libx264" if kind == "mp4" else "libvpx-vp9", preset=preset)
        if kind == "gif":
            raise AnimsupError("writing .gif needs the ffmpeg binary: pip install imageio-ffmpeg")
        raise AnimsupError(f"writing .{kind} needs an encoder: pip install imageio-ffmpeg (or pip install av)")

    return make


def _png_factory(path, size, fps, *, backend: str = "auto", preset: str | None = None) -> Encoder:
    return PngEncoder(path, size, fps)


#: writer name (a row's ``writer`` in :data:`animsup.rendering.outputs.FORMATS`) -> factory
_FACTORIES: dict[str, Callable] = {
    "mp4": _video_factory("mp4"),
    "webm": _video_factory("webm"),
    "gif": _video_factory("gif"),
    "png": _png_factory,
}

#: extension -> factory(path, size, fps, *, backend="auto", preset=None) -> Encoder, for every
#: drawn format of :data:`animsup.rendering.outputs.FORMATS` (``preset`` applies to MP4 only)
ENCODERS: dict[str, Callable] = {f.ext: _FACTORIES[f.writer] for f in outputs.of_kind("video", "poster")}


def format_of(path) -> str:
    """The registry key (".mp4", ...) for ``path``, or an AnimsupError naming the supported ones
    (a page output, the interactive viewer, is written above the encoders: :func:`animsup.api.render`)."""
    fmt = outputs.format_of(path)
    if fmt.ext not in ENCODERS:
        raise AnimsupError(f"{path}: {fmt.ext} is written by animsup.render (the {fmt.label.split(',')[0]}), "
                           "not by an encoder")
    return fmt.ext


def make_encoder(path, size, fps, *, fmt: str | None = None, backend: str = "auto", preset: str | None = None) -> Encoder:
    """An encoder writing ``path`` (format from ``fmt`` or the extension); ``preset``: the
    x264 speed/size trade-off of an MP4 (a key of :data:`MP4_PRESETS`; None: the default)."""
    fmt = fmt or format_of(path)
    if backend not in ("auto", "ffmpeg", "av"):
        raise AnimsupError(f"unknown encoder backend {backend!r} (auto, ffmpeg or av)")
    check_preset(preset)
    return ENCODERS[fmt](str(path), size, fps, backend=backend, preset=preset)
