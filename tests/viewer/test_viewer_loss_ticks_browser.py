"""The loss chart's value axis labels small losses: uPlot's default formatter (Intl, 3 decimals) printed
every tick of a run whose loss is ~5e-5 as "0" (found on a 600 -> 3 page)."""

import numpy as np

import animsup
from animsup.viewer import write_html
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from viewer_logs import weights


def _log(path, scale):
    T, N, M = 12, 5, 2
    with animsup.Recorder(path, n_features=N, n_hidden=M, n_instances=1) as rec:
        for t in range(T):
            rec.snapshot(100 * t, W=weights(t, T, n=N, m=M, k=1), loss=np.full(1, scale * (1 + 3 / (t + 1))))
    return path


def test_small_losses_get_distinct_nonzero_tick_labels(browser, tmp_path):  # noqa: F811
    for scale, name in ((5e-5, "small"), (0.2, "plain")):
        log = _log(tmp_path / f"{name}.jsonl", scale)
        write_html(log, tmp_path / f"{name}.html")
        w = open_page(browser, (tmp_path / f"{name}.html").as_uri())
        for width in (1024, 1440):
            w.page.set_viewport_size({"width": width, "height": 900})
            w.page.wait_for_timeout(200)
            w.screenshot(f"viewer-loss-ticks-{name}-{width}.png")
        labels = [v for v in state(w, "S.loss.axes[1]._values") if v]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
        values = [float(v) for v in labels]  # every label parses as the number it stands for
        lo, hi = state(w, "S.d.loss_ylim")
        assert all(lo * 0.99 <= v <= hi * 1.01 for v in values), (labels, lo, hi)
        assert hi < 1e-3 if name == "small" else lo > 1e-2  # the two ranges the formatter treats apart
        assert "0" not in labels
        assert w.errors == []
        w.page.close()
