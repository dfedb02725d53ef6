"""``mypy animsup`` is clean under the configuration in pyproject.toml ([tool.mypy]:
check_untyped_defs, no blanket ignores)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (it is in the test extra: pip install -e '.[test]')")
def test_mypy_is_clean():
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                        "animsup"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, f"mypy reports errors (exit {r.returncode}):\n{r.stdout}{r.stderr}"
