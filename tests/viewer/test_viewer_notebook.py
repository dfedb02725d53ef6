"""animsup.show in a real notebook: executed by nbclient (the executor behind `jupyter nbconvert
--execute`) with an IPython kernel of this interpreter (test extras)."""

import sys

import pytest

from viewer_logs import write_run

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_show_executes_in_a_notebook_and_displays_the_viewer_and_a_poster(tmp_path, monkeypatch):
    log = tmp_path / "run.jsonl"
    write_run(log, T=6, k=2)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import animsup\nanimsup.show({str(log)!r})"),
        nbformat.v4.new_code_cell(f"animsup.render({str(log)!r}, {str(tmp_path / 'r.html')!r})"),
    ]
    # a kernel of this very interpreter (not whatever "python3" kernel the machine's user has)
    import json

    spec = tmp_path / "jupyter" / "kernels" / "animsup-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "animsup test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="animsup-test",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    show_out = nb.cells[0].outputs[0]
    assert show_out["output_type"] == "execute_result"
    data = show_out["data"]
    assert 'class="animsup-viewer" sandbox="allow-scripts"' in data["text/html"] and data["image/png"]
    render_out = nb.cells[1].outputs[0]["data"]
    assert 'class="animsup-viewer"' in render_out["text/html"]  # render()'s result displays itself
