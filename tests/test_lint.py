"""The boundaries reviewers check, as a lint (pyproject.toml [tool.ruff]): no print in library code,
no animsup.cli imported by the library, no unused imports or variables."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff():
    exe = Path(sys.executable).with_name("ruff")
    return str(exe) if exe.exists() else shutil.which("ruff")


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed (pip install -e '.[test]')")
def test_ruff_is_clean():
    r = subprocess.run([_ruff(), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed")
def test_the_rules_catch_print_and_cli_imports_in_library_code():
    code = "from animsup.cli.progress import make_progress\n\n\ndef f():\n    print(make_progress)\n"
    r = subprocess.run([_ruff(), "check", "--no-cache", "--output-format", "concise", "--stdin-filename",
                        str(ROOT / "animsup" / "probe.py"), "-"], input=code, capture_output=True, text=True, cwd=ROOT)
    assert "T201" in r.stdout and "TID251" in r.stdout, r.stdout
