"""animsup as a package (issue 26, item 1): the wheel built from this repository, installed into a
fresh virtual environment outside the repository, runs the command, ``python -m animsup``, the demo,
an HTML render (with the vendored uPlot and its licence) and the README's Python example.

The wheel is built without build isolation (``python -m build --no-isolation``: this environment's
setuptools, nothing downloaded): first the sdist, then the wheel from the sdist, so both carry
everything. The fresh environment gets the wheel alone (``pip install --no-deps --no-index``); the
dependencies already installed here (torch, numpy, ...) are then made visible to it by a ``.pth``
file listing the folders they live in, appended after its own site-packages (a ``.pth`` file's
folders are not scanned for further ``.pth`` files, so an editable install of animsup here is not
picked up), and every check first asserts that animsup is imported from the fresh environment.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import animsup

ROOT = Path(__file__).resolve().parents[1]
# what the sdist is built from: the package and the repository's top-level files (pyproject, README, LICENSE...)
TOP_FILES = [p for p in ROOT.iterdir() if p.is_file()]
# the core dependencies (pyproject.toml), by import name
CORE_IMPORTS = ["numpy", "torch", "matplotlib", "PIL", "imageio_ffmpeg", "tqdm", "orjson", "safetensors"]
TEST_TOOLS = {"pytest", "hypothesis", "ruff", "mypy", "playwright", "nbclient", "ipykernel", "build", "av"}


def _dep_folders() -> list[str]:
    """The folders the core dependencies are imported from here (site-packages), never the repository."""
    folders = []
    for name in CORE_IMPORTS:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed in the test environment"
        folder = str(Path(spec.origin).resolve().parents[1])
        assert not Path(folder, "animsup", "__init__.py").exists(), f"{name} lives beside an animsup source tree: {folder}"
        if folder not in folders:
            folders.append(folder)
    return folders


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args} exited {r.returncode}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, the fresh venv's folder, its python, an env without this repository on any path, a work folder)."""
    base = tmp_path_factory.mktemp("package")
    assert ROOT not in base.resolve().parents, "the temporary folder must lie outside the repository"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONNOUSERSITE="1")

    # 1. the sdist and the wheel, from a copy of the sources (the build writes build/ and *.egg-info beside them)
    src = base / "src"
    shutil.copytree(ROOT / "animsup", src / "animsup", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for f in TOP_FILES:
        shutil.copy(f, src / f.name)
    dist = base / "dist"
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)], base, env, timeout=300)
    wheels = sorted(dist.glob("animsup-*.whl"))
    assert len(wheels) == 1 and sorted(dist.glob("animsup-*.tar.gz")), sorted(p.name for p in dist.iterdir())

    # 2. a fresh venv outside the repository, the wheel alone installed into it
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, env)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "--no-cache-dir",
          "--disable-pip-version-check", str(wheels[0])], base, env, timeout=300)

    # 3. the dependencies installed here, visible after the venv's own site-packages
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env).stdout.strip()
    Path(site, "zz_animsup_test_deps.pth").write_text("\n".join(_dep_folders()) + "\n", encoding="utf-8")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = base / "work"
    work.mkdir()
    return wheels[0], venv, py, env, work


def test_wheel_carries_static_files_licences_and_lean_metadata(installed):
    wheel = installed[0]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(meta).decode()
    static = sorted(p.name for p in (ROOT / "animsup" / "viewer" / "static").iterdir() if p.is_file())
    assert "uPlot.LICENSE" in static and "uPlot.iife.min.js" in static
    for name in static:
        assert f"animsup/viewer/static/{name}" in names, f"{name} is not in the wheel"
    licences = [n for n in names if "/licenses/" in n]
    assert any(n.endswith("/licenses/LICENSE") for n in licences), licences
    assert any(n.endswith("uPlot.LICENSE") for n in licences), licences
    assert re.search(r"^Version: " + re.escape(animsup.__version__) + "$", metadata, re.M)
    core = {re.split(r"[<>=!; \[]", line[len("Requires-Dist: "):])[0].lower()
            for line in metadata.splitlines() if line.startswith("Requires-Dist: ") and "extra ==" not in line}
    assert {"numpy", "torch", "matplotlib", "imageio-ffmpeg", "orjson"} <= core
    assert not core & TEST_TOOLS, f"test tools in the core install: {core & TEST_TOOLS}"
    assert {"test", "av", "notebook"} <= set(re.findall(r"^Provides-Extra: (\S+)$", metadata, re.M))


def test_animsup_is_imported_from_the_wheel(installed):
    _, venv, py, env, work = installed
    code = ("import animsup, importlib.metadata, importlib.resources as r; print(animsup.__file__); "
            "print(importlib.metadata.version('animsup')); "
            "s = r.files('animsup.viewer') / 'static'; print(sorted(p.name for p in s.iterdir()))")
    out = _run([str(py), "-c", code], work, env).stdout.splitlines()
    assert Path(out[0]).resolve().is_relative_to(venv.resolve()), f"animsup imported from {out[0]}, not the fresh venv"
    assert out[1] == animsup.__version__
    assert "uPlot.LICENSE" in out[2] and "uPlot.iife.min.js" in out[2] and "viewer.js" in out[2]


def test_version_command(installed):
    _, venv, _, env, work = installed
    r = _run([str(venv / "bin" / "animsup"), "--version"], work, env)
    assert r.stdout.strip() == f"animsup {animsup.__version__}"


def test_python_m_animsup_help(installed):
    _, _, py, env, work = installed
    r = _run([str(py), "-m", "animsup", "--help"], work, env)
    assert r.stdout.startswith("usage: animsup")
    for command in ("train", "render", "demo", "view", "import"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), f"{command} missing from --help"


def test_demo_and_html_render_outside_the_repository(installed):
    _, venv, _, env, work = installed
    exe = str(venv / "bin" / "animsup")
    d = work / "demo"
    d.mkdir()
    _run([exe, "demo", "--steps", "400", "--snapshots", "20", "--seeds", "2", "--duration", "1", "--hold", "0",
          "--size", "320x180", "--quiet"], d, env)
    assert (d / "logs" / "demo.jsonl").stat().st_size > 0
    mp4, gif, png = (d / "outputs" / f"demo.{ext}" for ext in ("mp4", "gif", "png"))
    assert mp4.read_bytes()[4:8] == b"ftyp"
    assert gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _run([exe, "render", "logs/demo.jsonl", "--out", "outputs/demo.html"], d, env)
    page = (d / "outputs" / "demo.html").read_text(encoding="utf-8")
    static = ROOT / "animsup" / "viewer" / "static"
    uplot = (static / "uPlot.iife.min.js").read_text(encoding="utf-8")
    assert uplot[:200] in page and uplot[-200:] in page, "the page does not embed the vendored uPlot"
    licence = (static / "uPlot.LICENSE").read_text(encoding="utf-8")
    assert "Leon Sorokin" in licence
    line = next(x for x in licence.splitlines() if "Leon Sorokin" in x).strip()
    assert line in page, "the page does not carry uPlot's licence"


def test_readme_api_example_runs_in_the_installed_package(installed):
    _, _, py, env, work = installed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(m.group(1) for m in re.finditer(r"^```python\n(.*?)^```", readme, re.S | re.M) if "TrainConfig" in m.group(1))
    d = work / "readme"
    d.mkdir()
    r = _run([str(py), "-c", block], d, env)
    assert (d / "logs" / "x.jsonl").stat().st_size > 0 and (d / "outputs" / "x.png").stat().st_size > 0
    assert len(r.stdout.strip().splitlines()) == 1, r.stdout  # the block prints the shape's label
