"""Every fenced ```python block of README.md and docs/*.md runs, in order, in a scratch folder.

Blocks of one file share a namespace. A line whose comment says "in a notebook" is skipped
(it needs IPython). The scratch folder holds empty logs/ and outputs/ folders (as the
repository does), and nothing else: an example uses only the logs an earlier example of its
file wrote, so a reader can run it as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(path: Path) -> list[str]:
    return [m.group(1) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


CASES = [p for p in FILES if _blocks(p)]


def test_readme_has_python_examples():
    assert ROOT / "README.md" in CASES


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    (tmp_path / "logs").mkdir()
    (tmp_path / "outputs").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    for i, block in enumerate(_blocks(path)):
        code = "\n".join(line for line in block.splitlines() if "in a notebook" not in line)
        exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
