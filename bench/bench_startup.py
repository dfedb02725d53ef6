"""Start-up: wall time of ``animsup render --help``, and that it never imports torch.

Target: <= 0.5 s. Baseline for scale: a bare ``python -c pass`` in the same venv.
"""

from __future__ import annotations

import common

HELP_PROBE = """
import sys
from animsup.cli import main
try:
    main(["render", "--help"])
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "matplotlib", "av", "imageio", "PIL") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


def run(quick=False):
    repeat = 3 if quick else 7
    exe = str(common.ROOT / ".venv" / "bin" / "animsup")
    if not __import__("os").path.exists(exe):
        exe = None
    cmd = [exe, "render", "--help"] if exe else [common.PYTHON, "-m", "animsup", "render", "--help"]
    try:
        common.run_child(cmd)  # also warms the page cache
    except RuntimeError:
        return [common.row("start-up", "`animsup render --help` wall", None, "s", target="<= 0.5 s",
                           note="animsup has no render command yet")]
    walls = [common.run_child(cmd)[0] for _ in range(repeat)]
    bare = [common.python_child("pass")[0] for _ in range(repeat)]
    _, rss, out = common.python_child(HELP_PROBE)
    heavy = out.split("HEAVY=")[1].strip()
    t, t0 = common.median(walls), common.median(bare)
    return [
        common.row(
            "start-up", "`animsup render --help` wall", t, "s",
            baseline=t0, baseline_name="python -c pass", target="<= 0.5 s", met=t <= 0.5,
            samples=walls, baseline_samples=bare,
        ),
        common.row(
            "start-up", "heavy modules imported by render --help", heavy or "none", "",
            target="no torch", met="torch" not in heavy.split(","), peak_rss_mib=rss,
        ),
    ]


if __name__ == "__main__":
    common.bench_main("startup", run)
