"""Runs side by side aligned in log time (``--align log-time``): the frames' steps, the video's
mapping and loss axis, the CLI's option and its errors."""

import numpy as np
import pytest

import animsup
from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.rendering.compare import frame_steps


def test_frame_steps_even_in_step_or_in_log_step():
    np.testing.assert_allclose(frame_steps(0, 100, 5, False), [0, 25, 50, 75, 100])
    # evenly in log(1 + step - first): 1 + s = 101 ** (q / 4), by hand
    s = frame_steps(0, 100, 5, True)
    np.testing.assert_allclose(s, [101 ** (q / 4) - 1 for q in range(5)])
    np.testing.assert_allclose(np.diff(np.log1p(frame_steps(10, 1010, 6, True) - 10)), np.log(1001) / 5)


def test_log_time_video_and_its_errors(tmp_path, write_pentagon, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_pentagon(a, T=12, k=1, loss_rows=2, feature_probability=0.1)
    write_pentagon(b, T=8, k=1, loss_rows=2, feature_probability=0.1, radius=0.6)
    res = animsup.render([a, b], tmp_path / "cmp.png", size="320x180", align="log-time")
    assert "evenly in log(step)" in res.mapping
    with pytest.raises(AnimsupError, match="--align must be one of"):
        animsup.render([a, b], tmp_path / "cmp.png", size="320x180", align="wall")
    with pytest.raises(AnimsupError, match="--time linear"):
        animsup.render([a, b], tmp_path / "cmp.png", size="320x180", align="log-time", time="linear")
    # the CLI: --align takes log-time for several logs; with one log it is one line, exit 2
    assert main(["render", str(a), str(b), "--out", str(tmp_path / "c.html"), "--align", "log-time", "-q"]) == 0
    assert main(["render", str(a), "--out", str(tmp_path / "d.html"), "--align", "log-time"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--align applies to runs side by side" in err
    assert not (tmp_path / "d.html").exists()
