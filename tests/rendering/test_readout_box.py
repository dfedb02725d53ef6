"""The loss readout box sits left of the last step's cursor (it was drawn over the cursor line at
the axes' right edge and read as cut off there): on the final frame the whole cursor line shows,
the box ends before it, and the box stays inside the axes."""

import numpy as np
import pytest

from animsup.log.recorder import write_arrays
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from animsup.rendering.draw import FrameDrawer


@pytest.mark.parametrize("grid", [False, True])
def test_the_readout_box_ends_left_of_the_final_cursor(tmp_path, grid):
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.5, (12, 2, 2, 5))
    log = write_arrays(W, tmp_path / "r.jsonl", steps=np.arange(12), loss=np.geomspace(1, 0.01, 24).reshape(12, 2))
    plan = rp.build_plan(log, RenderConfig(grid=grid, size=(960, 540), frames=2), video=True)
    d = FrameDrawer(plan.scene)
    img = d.draw(next(plan.frames([plan.n_frames - 1]))).copy()
    ax, H = d.loss.ax, d.height
    x0, y0, x1, y1 = d.loss.readout_box  # buffer pixels, rows from the top
    x = ax.transData.transform((plan.scene.last_step, 1.0))[0]
    assert x1 <= x - d.loss.cursor_w / 2, (x1, x)  # the box ends before the cursor line ...
    assert x0 >= ax.bbox.x0 and y1 <= H - ax.bbox.y0
    row = (y0 + y1) // 2
    px = img[row, int(x) - 3:int(x) + 4, :3].astype(int)
    assert ((px[:, 0] - px[:, 1] > 80) & (px[:, 0] - px[:, 2] > 80)).any()  # ... which shows beside the text
    d.close()
