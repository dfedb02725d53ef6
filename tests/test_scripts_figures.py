"""docs/figures.md §1–§4 and docs/training.md's seed 002 table: each script's ``--quick`` end to end,
and its docs table built from what the quick run wrote (the same code that builds the committed
tables from docs/results/<name>.json)."""

import importlib
import json
import os
import subprocess
import sys

import pytest
from script_runs import ROOT, run_quick

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import _common  # noqa: E402

sys.path.pop(0)


def table_from(name: str, out, monkeypatch, function: str = "docs_table") -> str:
    """SCRIPT.FUNCTION() (a docs table or note) read from the quick run's JSON in ``out`` (not docs/results)."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(_common, "RESULTS", str(out))
    return getattr(module, function)()


def mtime(name: str) -> float | None:
    """When docs/results/<name>.json was last written (None: not there)."""
    path = os.path.join(ROOT, "docs", "results", f"{name}.json")
    return os.path.getmtime(path) if os.path.exists(path) else None


@pytest.mark.parametrize("name", ["paper_intro", "seed000_heatmaps", "seed002_pentagon"])
def test_quick_run_writes_its_result_and_its_table_reads_it(name, tmp_path, monkeypatch):
    before = mtime(name)
    run_quick(f"{name}.py", tmp_path, *([] if name == "paper_intro" else ["--no-video"]))
    if name == "paper_intro":  # its video path merges the best seeds' logs (_common.merge_instances) and renders
        assert (tmp_path / "intro_grid.mp4").stat().st_size > 10_000
    with open(tmp_path / f"{name}.json", encoding="utf-8") as f:
        assert json.load(f)  # a non-empty result
    table = table_from(name, tmp_path, monkeypatch).splitlines()
    assert table[0].startswith("| ") and set(table[1]) <= set("|-")
    assert len(table) > 2  # at least one measured row
    assert mtime(name) == before  # a quick run never writes the docs' results


def test_seed002_hexagon_quick_every_study_counted(tmp_path, monkeypatch):
    before = mtime("seed002_hexagon")
    run_quick("seed002_hexagon.py", tmp_path, "--no-video", "--seeds", "3", "--c-seeds", "1")
    with open(tmp_path / "study.json", encoding="utf-8") as f:
        study = json.load(f)
    studies = ["blog", "exact", "adamw"] + (["c"] if _has_gcc() else [])
    assert list(study) == studies
    for s in ["blog", "exact", "adamw"]:
        assert study[s]["n"] == 3 and sum(x["count"] for x in study[s]["shapes"]) == 3
    if _has_gcc():  # the C program's own runs, imported: one seed
        assert study["c"]["n"] == 1
        table = table_from("seed002_hexagon", tmp_path, monkeypatch).splitlines()
        assert len(table) == 2 + 4 and "C program" in table[-1]
        note = table_from("seed002_hexagon", tmp_path, monkeypatch, "readme_note")
        hexagons = next((x["count"] for x in study["blog"]["shapes"] if x["outcome"] == "hexagon"), 0)
        assert note.startswith("- **Local minima at n=32**") and f"{hexagons} of 3 seeds end in a hexagon" in note
    assert mtime("seed002_hexagon") == before


def test_blog_vs_exact_quick(tmp_path, monkeypatch):
    before = mtime("blog_vs_exact")
    run_quick("blog_vs_exact.py", tmp_path)
    with open(tmp_path / "blog_vs_exact.json", encoding="utf-8") as f:
        res = json.load(f)
    assert [(r["lr"], r["dataset_size"]) for r in res["cells"]] == [(1.0, None), (1.0, 10_000)]
    for r in res["cells"]:
        for g in ("blog", "exact"):
            assert sum(r[g]["shapes"].values()) == res["seeds"] == 2 and r[g]["true_loss"] > 0
    # the exact gradient from the blog's end points does not raise the true loss (it descends it)
    for r in res["restarts"]:
        assert r["after"]["true_loss"] <= r["before"]["true_loss"] * 1.02
    table = table_from("blog_vs_exact", tmp_path, monkeypatch).splitlines()
    assert len(table) == 2 + 2 + 2
    note = table_from("blog_vs_exact", tmp_path, monkeypatch, "readme_note")
    pentagons = res["cells"][0]["blog"]["by_shape"].get("pentagon", {}).get("count", 0)
    assert f"a pentagon in {pentagons} of 2 seeds on fresh batches" in note
    assert mtime("blog_vs_exact") == before


def test_geometry_examples_draws_both_figures(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "geometry_examples.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for name in ("geometry_m2.png", "geometry_m3.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def _has_gcc() -> bool:
    import shutil

    return shutil.which("gcc") is not None


def test_phase_diagram_n3_quick_summary_adds_up(tmp_path, monkeypatch):
    before = mtime("phase_n3_summary")
    run_quick("phase_diagram.py", tmp_path, "--n", "3", "--grid", "4", "--no-video")
    with open(tmp_path / "phase_n3_summary.json", encoding="utf-8") as f:
        res = json.load(f)
    d = res["dedicated"]
    assert res["cells"] == 16 == res["not_learned"] + d["cells"] + res["superposition"]["cells"]
    assert d["others_antipodal"] + d["others_same_way"] <= d["cells"]
    assert sum(res["summary"]["class_counts"].values()) == 16
    table = table_from("phase_diagram", tmp_path, monkeypatch, "docs_table_n3")
    assert f"| dedicated dimension | {d['cells']} |" in table
    assert mtime("phase_n3_summary") == before
