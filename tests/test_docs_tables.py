"""The generated tables in docs/ equal what the code generates (scripts/update_docs_tables.py)."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import update_docs_tables as tables  # noqa: E402


def test_every_generated_table_is_current():
    assert tables.stale() == [], "run: python scripts/update_docs_tables.py"


def test_a_stale_table_is_found_and_regenerated(tmp_path):
    for doc in {doc for doc, _ in tables.TABLES}:
        (tmp_path / doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / doc, tmp_path / doc)
    doc = tmp_path / "docs" / "rendering.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.replace("| `.gif` |", "| `.gif` (edited) |", 1), encoding="utf-8")
    found = tables.stale(tmp_path)
    assert [(d, t) for d, t, _ in found] == [("docs/rendering.md", "animsup.rendering.outputs.docs_table")]
    assert found[0][2] == text  # regenerating restores the table


def test_the_log_format_lists_every_model_of_the_models_table():
    from animsup import models

    row = next(line for line in (ROOT / "docs" / "log-format.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `model` |"))
    for name in models.MODELS:
        assert f'`"{name}"`' in row, f"docs/log-format.md's model row lacks {name!r}"


def test_several_stale_tables_in_one_doc_are_all_regenerated(tmp_path):
    """Two stale tables of one doc (and an empty one): writing the results in order keeps every table."""
    for doc in {doc for doc, _ in tables.TABLES}:
        (tmp_path / doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / doc, tmp_path / doc)
    doc = tmp_path / "docs" / "rendering.md"
    text = doc.read_text(encoding="utf-8")
    first, second = (t for d, t in tables.TABLES if d == "docs/rendering.md")
    stale_text = text.replace("| `.gif` |", "| `.gif` (edited) |", 1)  # the second table edited
    start = stale_text.index(tables.begin(first)) + len(tables.begin(first)) + 1
    stale_text = stale_text[:start] + stale_text[stale_text.index(tables.END, start):]  # the first emptied
    assert tables.begin(second) in stale_text and "(edited)" in stale_text
    doc.write_text(stale_text, encoding="utf-8")
    found = tables.stale(tmp_path)
    assert [t for d, t, _ in found if d == "docs/rendering.md"] == [first, second]
    assert found[-1][2] == text  # the last write holds both tables
