"""animsup.rendering.video.render: frame counts, order, several outputs at once, atomic outputs, bad input."""

import hashlib
import os

import av
import numpy as np
import pytest
from PIL import Image

from animsup.rendering import encode, video
from animsup.errors import AnimsupError

SMALL = dict(instance="best:g0", size="320x180", fps=10, hold=0.5)


@pytest.fixture
def log(tmp_path, write_pentagon):
    path = tmp_path / "run.jsonl"
    write_pentagon(path, T=12, k=2, loss_rows=2)
    return path


class Counting(encode.Encoder):
    """A fake encoder: records a hash of every frame it gets."""

    made = []

    def __init__(self, path, size, fps, backend="auto", fail_at=None):
        super().__init__(path, size, fps)
        self.hashes, self.fail_at, self.finished, self.aborted = [], fail_at, False, False
        Counting.made.append(self)

    def write(self, rgba):
        if self.fail_at is not None and len(self.hashes) == self.fail_at:
            raise RuntimeError("encoder broke")
        arr = np.asarray(rgba)
        assert arr.shape == (self.size[1], self.size[0], 4)
        self.hashes.append(hashlib.md5(arr.tobytes()).hexdigest())
        with open(self.path, "ab") as f:
            f.write(b"x")

    def finish(self):
        self.finished = True

    def abort(self):
        self.aborted = True


@pytest.fixture
def counting(monkeypatch):
    Counting.made = []
    monkeypatch.setitem(encode.ENCODERS, ".mp4", lambda p, s, f, *, backend="auto", preset=None: Counting(p, s, f))
    return Counting


def test_mp4_gif_png_in_one_render(log, tmp_path):
    outs = [tmp_path / "a.mp4", tmp_path / "a.gif", tmp_path / "a.png"]
    res = video.render(log, outs, **SMALL)
    assert res.animated_frames == 12 and res.hold_frames == 5 and res.frames == 17
    assert res.instances == (0,) and "one frame per snapshot" in res.mapping
    with av.open(str(outs[0])) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (s.width, s.height) == (320, 180) and s.width % 2 == 0 == s.height % 2
    assert n == 17
    gif = Image.open(outs[1])
    assert gif.n_frames >= 12 and gif.size == (320, 180)  # GIF merges identical hold frames
    png = np.array(Image.open(outs[2]))
    assert png.shape == (180, 320, 3) and png.std() > 10
    assert sorted(os.listdir(tmp_path)) == ["a.gif", "a.mp4", "a.png", "run.jsonl"]  # no temp files left


def test_counting_encoder_sees_every_frame_in_order(log, tmp_path, counting):
    res = video.render(log, tmp_path / "v.mp4", frames=7, workers=0, **SMALL)
    enc = counting.made[0]
    assert enc.finished and len(enc.hashes) == res.frames == 7 + 5
    assert len(set(enc.hashes[:7])) == 7 and len(set(enc.hashes[6:])) == 1  # distinct frames, then the hold


def test_workers_give_the_same_frames_in_the_same_order(log, tmp_path, counting):
    video.render(log, tmp_path / "a.mp4", workers=0, **SMALL)
    video.render(log, tmp_path / "b.mp4", workers=2, **SMALL)
    a, b = counting.made
    assert a.hashes == b.hashes


def test_encoder_failure_keeps_the_earlier_output_and_leaves_no_temp(log, tmp_path, monkeypatch):
    out = tmp_path / "v.mp4"
    out.write_bytes(b"earlier good video")
    monkeypatch.setitem(encode.ENCODERS, ".mp4", lambda p, s, f, *, backend="auto", preset=None: Counting(p, s, f, fail_at=3))
    with pytest.raises(RuntimeError, match="encoder broke"):
        video.render(log, [out, tmp_path / "v.png"], workers=0, **SMALL)
    assert out.read_bytes() == b"earlier good video"
    assert sorted(os.listdir(tmp_path)) == ["run.jsonl", "v.mp4"]


def test_interrupt_leaves_no_partial_file(log, tmp_path):
    def progress(i, total):
        if i == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        video.render(log, tmp_path / "v.mp4", progress=progress, workers=0, **SMALL)
    assert sorted(os.listdir(tmp_path)) == ["run.jsonl"]


def test_poster_at_step_and_grid(log, tmp_path):
    res = video.render(log, tmp_path / "p.png", at=44, grid=True, size="320x180")
    assert res.poster_step == 40 and res.instances == (0, 1) and res.frames == 1


def test_annotate_marks_events(tmp_path, write_pentagon, counting):
    pytest.importorskip("animsup.analysis.events", reason="animsup.analysis.events (analysis helper) is not there yet")
    path = tmp_path / "run.jsonl"
    write_pentagon(path, T=30)  # features grow from 0.05 to 1.25: they join the represented set
    res = video.render(path, tmp_path / "v.mp4", annotate=True, workers=0, **SMALL)
    assert res.events and all(isinstance(e[2], str) for e in res.events)
    joins = [e for e in res.events if e[1] in ("join", "shape")]
    assert joins


@pytest.mark.parametrize("case", ["same-as-log", "unknown-ext", "no-folder", "bad-instance", "nan", "garbage", "theme",
                                  "preset"])
def test_bad_input_is_an_animsup_error(log, tmp_path, case):
    out, kw, path = tmp_path / "v.mp4", {}, log
    if case == "same-as-log":
        out = log
    elif case == "unknown-ext":
        out = tmp_path / "v.avi"
    elif case == "no-folder":
        out = tmp_path / "missing" / "v.mp4"
    elif case == "bad-instance":
        kw = dict(instance=7)
    elif case == "nan":
        path = tmp_path / "nan.jsonl"
        path.write_text(log.read_text().replace('"b":[[', '"b":[[NaN,', 1))
    elif case == "garbage":
        path = tmp_path / "g.jsonl"
        path.write_bytes(b"\x00\x01 not a log\n")
    elif case == "theme":
        kw = dict(theme="neon")
    elif case == "preset":
        kw = dict(preset="turbo")
    with pytest.raises(AnimsupError):
        video.render(path, out, **kw)
    assert not (tmp_path / "v.mp4").exists()


def test_unwritable_folder(log, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(AnimsupError, match="not writable"):
            video.render(log, ro / "v.mp4")
    finally:
        ro.chmod(0o700)


def test_summary_prints_every_note_once():
    res = video.RenderResult(paths=["a.gif"], frames=10, animated_frames=9, hold_frames=1, fps=30.0, size=(320, 180),
                             instances=(0,), mapping="9 frames", poster_step=None, workers=0, seconds=1.0,
                             notes=["the log has one snapshot", "a.gif: GIF at 50 fps"])
    text = res.summary()
    for note in res.notes:
        assert text.count(note) == 1 and f"note: {note}" in text


def test_the_output_registry_derives_every_format_list():
    from animsup.cli.render import add_parser
    from animsup.rendering import outputs

    exts = [f.ext for f in outputs.FORMATS]
    assert len(set(exts)) == len(exts) and all(e == e.lower() and e.startswith(".") for e in exts)
    drawn = [f.ext for f in outputs.of_kind("video", "poster")]
    assert list(encode.ENCODERS) == drawn  # every drawn format has its encoder, nothing else does
    assert [f.ext for f in outputs.of_kind("page")] == [".html"]
    assert outputs.mime_type("A.GIF") == "image/gif" and outputs.mime_type("x.avi") is None
    assert outputs.is_page("x.HTML") and not outputs.is_page("x.png")
    with pytest.raises(AnimsupError, match=r"unknown output extension \.avi; use one of \.mp4, .*\(or \.html"):
        outputs.format_of("x.avi")
    with pytest.raises(AnimsupError, match="written by animsup.render"):
        encode.format_of("x.html")
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    help_ = next(a.help for a in add_parser(sub)._actions if a.dest == "out")
    assert all(e in help_ for e in exts)


def test_rendering_never_imports_the_viewer():
    import ast
    import pathlib

    root = pathlib.Path(video.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith(("animsup.viewer", "animsup.api", "animsup.cli")) for n in names), path
