"""Running a script's ``--quick`` mode from a test (shared by the tests/test_scripts_*.py files)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_quick(script: str, out, *extra: str, timeout: int = 600) -> str:
    """``python scripts/SCRIPT --quick --out OUT EXTRA...`` on one thread with the Agg backend;
    asserts exit 0 (showing the end of stderr) and returns stdout."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), "--quick", "--out", str(out), *extra],
                       capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout
