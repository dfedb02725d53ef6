"""animsup.rendering.encode: formats by extension, decoded back (frame count, size, pixel format)."""

import av
import numpy as np
import pytest
from PIL import Image

from animsup.rendering import encode
from animsup.errors import AnimsupError

W, H = 160, 90


def frames(n):
    """n distinct RGBA frames: a white canvas with a moving coloured square."""
    out = []
    for i in range(n):
        a = np.full((H, W, 4), 255, np.uint8)
        a[20:50, 5 + 10 * i:35 + 10 * i, :3] = (20, 60, 200)
        out.append(a)
    return out


def decode(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        imgs = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return s.codec_context.name, s.codec_context.pix_fmt, imgs


@pytest.mark.parametrize("ext, codec", [(".mp4", "h264"), (".webm", "vp9")])
def test_video_round_trip(tmp_path, ext, codec):
    path = tmp_path / f"v{ext}"
    with encode.make_encoder(path, (W, H), 10) as enc:
        for f in frames(8):
            enc.write(f)
    name, pix, imgs = decode(path)
    assert name.startswith(codec.replace("vp9", "vp9")) or codec in name
    assert pix == "yuv420p" and len(imgs) == 8 and imgs[0].shape == (H, W, 3)
    # lossy, but the square is where it was drawn
    assert imgs[3][35, 50, 2] > 150 and imgs[3][35, 50, 0] < 100


def test_pyav_backend_round_trip(tmp_path):
    path = tmp_path / "v.mp4"
    with encode.make_encoder(path, (W, H), 10, backend="av") as enc:
        for f in frames(5):
            enc.write(f)
    name, pix, imgs = decode(path)
    assert name == "h264" and pix == "yuv420p" and len(imgs) == 5


def test_gif_shared_palette_loops(tmp_path):
    path = tmp_path / "v.gif"
    fs = frames(6)
    enc = encode.make_encoder(path, (W, H), 10)
    assert enc.needs_samples
    enc.prepare([fs[0], fs[-1]])
    with enc:
        for f in fs:
            enc.write(f)
    im = Image.open(path)
    assert im.size == (W, H) and im.n_frames == 6 and im.info.get("loop") == 0
    im.seek(2)
    px = np.array(im.convert("RGB"))[35, 30]
    assert abs(int(px[2]) - 200) < 30 and px[0] < 60


def test_png_poster(tmp_path):
    path = tmp_path / "p.png"
    with encode.make_encoder(path, (W, H), 1) as enc:
        for f in frames(3):
            enc.write(f)
    im = np.array(Image.open(path))
    assert im.shape == (H, W, 3)
    np.testing.assert_array_equal(im, frames(3)[-1][..., :3])  # PNG is exact: the last frame


def test_unknown_extension_is_an_error_naming_the_choices():
    for bad in ("x.avi", "x", "x.MP5"):
        with pytest.raises(AnimsupError, match=r"\.mp4, \.webm, \.gif, \.png"):
            encode.format_of(bad)
    assert encode.format_of("X.MP4") == ".mp4"


def test_ffmpeg_failure_is_one_clear_error(tmp_path):
    enc = encode.make_encoder(tmp_path / "v.mp4", (W, H), 10)
    enc.write(frames(1)[0])
    enc.proc.kill()
    enc.proc.wait()
    with pytest.raises(AnimsupError, match="ffmpeg"):
        for f in frames(50):
            enc.write(f)
        enc.finish()
    enc.abort()


def test_missing_backend_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(encode, "ffmpeg_exe", lambda: None)
    monkeypatch.setattr(encode, "_have_av", lambda: False)
    with pytest.raises(AnimsupError, match="pip install imageio-ffmpeg"):
        encode.make_encoder(tmp_path / "v.mp4", (W, H), 10)
    with pytest.raises(AnimsupError, match="pip install imageio-ffmpeg"):
        encode.make_encoder(tmp_path / "v.gif", (W, H), 10)


@pytest.mark.parametrize("preset, settings", [
    (None, [b"cabac=1", b"deblock=1:", b"aq=1", b"mbtree=1", b"subme=0"]),  # the default: tuned ultrafast
    ("superfast", [b"mbtree=1", b"rc_lookahead=10", b"subme=1"]),
    ("veryfast", [b"mbtree=1", b"subme=2"]),
])
def test_mp4_presets_reach_x264(tmp_path, preset, settings):
    path = tmp_path / "v.mp4"
    with encode.make_encoder(path, (W, H), 10, preset=preset) as enc:
        for f in frames(6):
            enc.write(f)
    name, pix, imgs = decode(path)
    assert name == "h264" and pix == "yuv420p" and len(imgs) == 6
    data = path.read_bytes()  # x264 writes its settings into the stream (an SEI message)
    for s in settings:
        assert s in data, s


def test_unknown_preset_is_an_error_naming_the_choices(tmp_path):
    with pytest.raises(AnimsupError, match="ultrafast, superfast, veryfast"):
        encode.make_encoder(tmp_path / "v.mp4", (W, H), 10, preset="turbo")


def test_pipe_into_ffmpeg_is_enlarged(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    try:
        max_size = int(open("/proc/sys/fs/pipe-max-size").read())
    except OSError:
        pytest.skip("no /proc/sys/fs/pipe-max-size (not Linux)")
    enc = encode.make_encoder(tmp_path / "v.mp4", (W, H), 10)
    with enc:
        enc.write(frames(1)[0])
        size = fcntl.fcntl(enc.proc.stdin.fileno(), getattr(fcntl, "F_GETPIPE_SZ", 1032))
    assert size >= min(encode.PIPE_BYTES, max_size)


def test_the_bundled_ffmpeg_is_found_without_importing_imageio_ffmpeg(monkeypatch):
    """The fast lookup finds the very binary imageio-ffmpeg would give; IMAGEIO_FFMPEG_EXE still wins."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    assert encode._bundled_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
    assert encode.ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/opt/elsewhere/ffmpeg")
    assert encode.ffmpeg_exe() == "/opt/elsewhere/ffmpeg"


def test_ffmpeg_starts_on_enter_and_no_frames_is_one_clear_error(tmp_path):
    """The encoder process starts when the ``with`` block opens (its start-up overlaps the caller's
    set-up); closing it without a frame is an AnimsupError and leaves no process behind."""
    enc = encode.make_encoder(tmp_path / "v.mp4", (W, H), 10)
    with pytest.raises(AnimsupError, match="no frames"):
        with enc:
            assert enc.proc is not None and enc.proc.poll() is None
    assert enc.proc.poll() is not None


@pytest.mark.parametrize("ext", [".mp4", ".gif"])
def test_the_ffmpeg_pipes_are_closed_after_finish(tmp_path, ext):
    # an open stderr pipe is only found by the garbage collector: a ResourceWarning in a later test
    enc = encode.make_encoder(tmp_path / f"v{ext}", (W, H), 10)
    if enc.needs_samples:
        enc.prepare(frames(2))
    with enc:
        for f in frames(3):
            enc.write(f)
    assert enc.proc.returncode == 0 and enc.proc.stdin.closed and enc.proc.stderr.closed


@pytest.mark.parametrize("backend, cores, one_thread", [
    ("ffmpeg", 1, True), ("ffmpeg", 2, True), ("ffmpeg", 8, False),
    ("av", 2, True),  # (PyAV's own default thread setting decides above 2 cores)
])
def test_x264_gets_one_thread_on_small_machines(tmp_path, monkeypatch, backend, cores, one_thread):
    # on <= 2 cores the drawer holds one and x264's frame threads only contend (encode.py measures it)
    monkeypatch.setattr(encode.os, "cpu_count", lambda: cores)
    path = tmp_path / "v.mp4"
    with encode.make_encoder(path, (W, H), 10, backend=backend) as enc:
        for f in frames(4):
            enc.write(f)
    assert (b" threads=1 " in path.read_bytes()) is one_thread


def test_an_interrupt_while_ffmpeg_starts_stops_it(tmp_path, monkeypatch):
    """A KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one) landing in the encoder's __enter__,
    after ffmpeg started: __exit__ never runs, so __enter__ itself must stop ffmpeg — left running,
    it would write the output after the caller removed its temp file."""
    started = []

    def interrupted(pipe):
        started.append(enc.proc)
        raise KeyboardInterrupt

    monkeypatch.setattr(encode, "_grow_pipe", interrupted)
    enc = encode.Mp4Encoder(str(tmp_path / "x.mp4"), (64, 48), 10.0, encode.ffmpeg_exe())
    with pytest.raises(KeyboardInterrupt):
        with enc:
            pass
    assert started and started[0] is not None and started[0].poll() is not None  # ffmpeg was killed


def test_an_interrupt_while_ffmpeg_starts_lands_after_the_start():
    """A SIGINT/SIGTERM inside subprocess.Popen lost the ffmpeg child (it then wrote the temp file that
    atomic_path had removed): _start holds them until self.proc is set, then delivers the first."""
    import signal

    from animsup.rendering.encode import _interrupts_held

    before = signal.getsignal(signal.SIGINT)
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held():
            signal.raise_signal(signal.SIGINT)
            reached.append("the rest of the block ran")
    assert reached == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) == before
