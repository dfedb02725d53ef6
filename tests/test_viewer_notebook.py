"""animsup.show in a real notebook: executed by nbclient with an IPython kernel (test extras)."""

import sys

import pytest

from viewer_logs import write_run

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_show_executes_in_a_notebook_and_displays_the_viewer_and_a_poster(tmp_path):
    log = tmp_path / "run.jsonl"
    write_run(log, T=6, k=2)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import animsup\nanimsup.show({str(log)!r})"),
        nbformat.v4.new_code_cell(f"animsup.render({str(log)!r}, {str(tmp_path / 'r.html')!r})"),
    ]
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

    client = nbclient.NotebookClient(nb, timeout=120, kernel_name=NATIVE_KERNEL_NAME,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    show_out = nb.cells[0].outputs[0]
    assert show_out["output_type"] == "execute_result"
    data = show_out["data"]
    assert 'class="animsup-viewer" sandbox="allow-scripts"' in data["text/html"] and data["image/png"]
    render_out = nb.cells[1].outputs[0]["data"]
    assert 'class="animsup-viewer"' in render_out["text/html"]  # render()'s result displays itself
