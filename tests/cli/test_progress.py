"""Progress where users are: a plain line on stderr every few seconds when it is not a terminal."""

import io

from animsup.cli import progress as pg


def test_line_progress_writes_periodic_lines_and_a_final_one(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(pg.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = pg.LineProgress("render", 300, "frame", stream=out, interval=10)
    for i in range(300):
        clock[0] = i * 0.1  # 30 s in all
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # at 10 and 20 s, then the final line
    assert lines[0].startswith("render: 101/300 frames (34%), 10.0 s, ~")
    assert lines[-1].startswith("render: 300/300 frames (100%)")
    assert "\r" not in out.getvalue()


def test_short_runs_stay_silent(monkeypatch):
    out = io.StringIO()
    bar = pg.LineProgress("train", None, "step", stream=out, interval=10)
    bar.update(5)
    bar.close()
    assert out.getvalue() == ""


def test_make_progress_off_a_terminal_is_the_line_form(monkeypatch):
    monkeypatch.setattr(pg.sys.stderr, "isatty", lambda: False, raising=False)
    bar, cb = pg.make_progress("minima", 10, unit="step")
    assert isinstance(bar, pg.LineProgress)
    cb(4, 10, loss=0.015041549690067768, stage=2)
    assert bar.n == 4 and bar.postfix == {"loss": "0.01504", "stage": 2}
    bar, _ = pg.make_progress("minima", 10, enabled=False)
    assert bar.disable


def test_show_html_fits_the_cell_and_embeds_the_file(tmp_path):
    import base64

    import pytest

    from animsup.errors import AnimsupError
    from animsup.viewer import notebook

    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a-data")
    h = notebook.show_html(gif)
    assert h.startswith("<img") and "max-width:100%" in h
    assert base64.b64encode(b"GIF89a-data").decode() in h and "data:image/gif;base64," in h
    mp4 = tmp_path / "a.mp4"
    mp4.write_bytes(b"mp4")
    h = notebook.show_html(mp4, width=640, embed=False)
    assert "<video" in h and "width:640px;max-width:100%" in h and str(mp4) in h
    with pytest.raises(AnimsupError, match="cannot show .txt"):
        (tmp_path / "a.txt").write_text("x")
        notebook.show_html(tmp_path / "a.txt")


def test_train_result_repr_is_short():
    import numpy as np

    from animsup.train.loop import TrainResult

    r = TrainResult("completed", 10_000, np.linspace(0.01, 0.02, 64), 12.3, "logs/run.jsonl", None,
                    W=np.ones((64, 20, 200), np.float32), b=np.ones((64, 200), np.float32))
    text = repr(r)
    assert len(text) < 200 and "64x20x200" in text and "array" not in text


def test_progress_in_a_notebook_without_ipywidgets_is_one_plain_tqdm_line(monkeypatch):
    import importlib.util

    import tqdm as tqdm_pkg

    from animsup.rendering.video import progress_bar_class

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert progress_bar_class() is tqdm_pkg.tqdm  # no widget warning; carriage returns: one updating line
    monkeypatch.setattr(pg, "_in_notebook", lambda: True)
    monkeypatch.setattr(pg.sys.stderr, "isatty", lambda: False, raising=False)
    bar, _ = pg.make_progress("train", 10)
    assert type(bar) is tqdm_pkg.tqdm
    bar.close()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "ipywidgets" else real(name, *a))
    from tqdm.auto import tqdm as auto

    assert progress_bar_class() is auto
