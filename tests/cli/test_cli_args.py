"""Bad arguments everywhere: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from animsup.cli import COMMANDS, main
from animsup.errors import AnimsupError

DATA = Path(__file__).parents[1] / "data"
GOLDEN = DATA / "golden" / "hand_tied_v1.jsonl"
C_LOG = DATA / "c_log" / "small.log"
TINY = ["--backend", "numpy", "--steps", "5", "--batch-size", "8", "-q"]


def _have(command):
    return importlib.util.find_spec(f"animsup.cli.{COMMANDS[command]}") is not None


def _fails(argv, capsys, *, match: str, cwd_files: Path | None = None) -> str:
    """Run main(argv); assert exit 2 and one 'animsup: error' line containing ``match``."""
    before = sorted(cwd_files.rglob("*")) if cwd_files else None
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert match in lines[0], lines[0]
    if cwd_files is not None:
        assert sorted(cwd_files.rglob("*")) == before, "a rejected command wrote files"
    return lines[0]


def _argparse_fails(argv, capsys, match):
    """argparse's own errors (choices, types) exit 2 with one line through SystemExit."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert len(err.strip().splitlines()) == 1 and match in err, err


# --------------------------------------------------------------------------- train


TRAIN_BAD = [
    (["-p", "0"], "feature-probability must lie in (0, 1]"),
    (["-p", "1.5"], "feature-probability must lie in (0, 1]"),
    (["-p", "0.5", "-0.1"], "feature-probability must lie in (0, 1]"),
    (["-p", "nan"], "feature-probability must lie in (0, 1]"),
    (["--n-features", "0"], "n-features must be a positive integer"),
    (["--n-hidden", "0"], "n-hidden must be a positive integer"),
    (["--n-hidden", "-2"], "n-hidden must be a positive integer"),
    (["--steps", "0"], "steps must be a positive integer"),
    (["--batch-size", "0"], "batch-size must be a positive integer"),
    (["--lr", "0"], "lr must be > 0"),
    (["--lr", "nan"], "lr must be a finite number"),
    (["--every", "0"], "every must be a positive integer"),
    (["--snapshots", "0"], "snapshots must be a positive integer"),
    (["--loss-every", "0"], "loss-every must be a positive integer"),
    (["--dataset-size", "0"], "dataset-size must be a positive integer"),
    (["--threads", "0"], "threads must be a positive integer"),
    (["--seeds", "0"], "--seeds K needs K >= 1"),
    (["--importance", "-1"], "importance values must be finite and > 0"),
    (["--importance", "0.9", "0.8"], "importance list has 2 values, n-features is 5"),
    (["--importance", "heavy"], "--importance takes a number"),
    (["--l1", "-1"], "l1 must be a finite number >= 0"),
    (["--weight-decay", "-1"], "weight-decay must be a finite number >= 0"),
    # conflicting options
    (["--seed", "1", "--seeds", "2"], "--seed and --seeds conflict"),
    (["--model", "untied"], "--backend numpy trains only the tied model"),
    (["--device", "cuda"], "--backend numpy runs on the CPU only"),
]


@pytest.mark.parametrize("extra,match", TRAIN_BAD, ids=[" ".join(a) for a, _ in TRAIN_BAD])
def test_train_bad_values(extra, match, tmp_path, capsys):
    _fails(["train", *TINY, "--out", str(tmp_path / "r.jsonl"), *extra], capsys, match=match, cwd_files=tmp_path)


@pytest.mark.parametrize("extra,match", [
    (["--model", "relu"], "invalid choice"),
    (["--steps", "ten"], "invalid int value"),
    (["-p"], "expected at least one argument"),
    (["--optimizer", "lbfgs"], "invalid choice"),
    (["--threads", "two"], "positive integer or auto"),
])
def test_train_argparse_errors(extra, match, capsys):
    _argparse_fails(["train", *TINY, *extra], capsys, match)


def test_train_bad_output_paths(tmp_path, capsys):
    _fails(["train", *TINY, "--out", str(tmp_path / "no" / "r.jsonl")], capsys, match="does not exist")
    _fails(["train", *TINY, "--out", str(tmp_path)], capsys, match="is a folder")
    afile = tmp_path / "file"
    afile.write_text("x")
    _fails(["train", *TINY, "--out", str(afile / "r.jsonl")], capsys, match="does not exist")  # parent is a file
    existing = tmp_path / "old.jsonl"
    shutil.copy(GOLDEN, existing)
    _fails(["train", *TINY, "--out", str(existing)], capsys, match="already exists (pass --force")
    assert existing.read_bytes() == GOLDEN.read_bytes()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_train_unwritable_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    _fails(["train", *TINY, "--out", str(ro / "r.jsonl")], capsys, match="cannot write log")


def test_train_resume_conflicts(tmp_path, capsys):
    log = tmp_path / "r.jsonl"
    assert main(["train", *TINY, "--out", str(log)]) == 0
    capsys.readouterr()
    before = log.read_bytes()
    for extra, flag in [(["--n-features", "7"], "--n-features"), (["--out", str(tmp_path / "x.jsonl")], "--out"),
                        (["-p", "0.5"], "--feature-probability"), (["--force"], "--force")]:
        _fails(["train", "--resume", str(log), *extra], capsys, match=f"{flag} conflicts with --resume")
    _fails(["train", "--resume", str(log), "--steps", "3"], capsys, match="already at step 5")
    _fails(["train", "--resume", str(tmp_path / "none.jsonl")], capsys, match="no such file")
    _fails(["train", "--resume", str(DATA / "bad" / "W_null.jsonl")], capsys, match="W_null.jsonl:3: 'W' contains NaN")
    assert log.read_bytes() == before


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_out_of_memory_is_a_clear_error(tmp_path, backend):
    """A batch too large for memory: one line, exit 2, before anything is written. Run in a child
    whose address space is capped (RLIMIT_AS: the memory budget counts it), so nothing can push
    the machine into swap."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {k: v for k, v in os.environ.items() if k not in ("ANIMSUP_DEBUG", "ANIMSUP_MEMORY_BUDGET")}
    env |= {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "animsup", "train", *TINY, "--batch-size", "100000000",
                        "--backend", backend, "--out", str(tmp_path / "r.jsonl")], preexec_fn=cap, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "more than the 1.07 GB of memory available" in lines[0] and not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("sizes", [["--n-features", str(10**9)], ["--batch-size", str(10**12)],
                                   ["--n-hidden", str(10**6), "--n-features", str(10**6)]])
def test_absurd_sizes_are_refused_up_front(tmp_path, capsys, sizes):
    assert main(["train", *TINY, *sizes, "--out", str(tmp_path / "r.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and " GB, more than the " in err and not (tmp_path / "r.jsonl").exists()


def test_allocator_failures_without_memoryerror_are_one_line_exit_2(monkeypatch, capsys, tmp_path):
    """torch's CPU allocator raises RuntimeError ("can't allocate memory"), not MemoryError."""
    torch = pytest.importorskip("torch")
    from animsup.cli import train as train_cli

    monkeypatch.setattr(train_cli, "run", lambda args: torch.empty(1 << 50))  # 4 PB: refused at once
    assert main(["train", *TINY, "--out", str(tmp_path / "r.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("animsup: error: out of memory (") and "can't allocate" in err
    # any other RuntimeError is still a bug: internal error, exit 1
    monkeypatch.setattr(train_cli, "run", lambda args: torch.zeros(2) @ torch.zeros(3))
    assert main(["train", *TINY, "--out", str(tmp_path / "r.jsonl")]) == 1
    assert "internal error: RuntimeError" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["inspect", "events", "minima"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0"])
def test_threshold_must_be_finite_and_positive(tmp_path, capsys, command, value):
    out = ["--out", str(tmp_path / "m")] if command == "minima" else []
    assert main([command, str(tmp_path / "missing.jsonl"), *out, f"--threshold={value}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"animsup: error: --threshold must be a finite number > 0, got {float(value)!r}"


# --------------------------------------------------------------------------- log readers


@pytest.mark.parametrize("extra,match", [
    (["--threshold", "0"], "--threshold must be a finite number > 0"),
    (["--threshold", "-1"], "--threshold must be a finite number > 0"),
    (["--at", "-1"], "--at must be a step >= 0"),
    (["--instance", "5"], "instance 5 does not exist"),
    (["--instance", "-1"], "instance -1 does not exist"),
])
def test_inspect_bad_args(extra, match, capsys):
    _fails(["inspect", str(GOLDEN), *extra], capsys, match=match)


@pytest.mark.parametrize("extra,match", [
    (["--threshold", "0"], "--threshold must be a finite number > 0"),
    (["--instance", "x"], "--instance takes an index, 'best'"),
    (["--instance", "best:g2"], "best:g2: no such group; the log's groups: best:g0 (1-S=1), best:g1 (1-S=0.25)"),
    (["--instance", "9"], "instance 9 does not exist"),
])
def test_events_bad_args(extra, match, capsys):
    _fails(["events", str(GOLDEN), *extra], capsys, match=match)


# --------------------------------------------------------------------------- import


def test_import_bad_args(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    _fails(["import", "--format", "nope", str(C_LOG), "--out", str(out)], capsys, match="unknown import format 'nope'", cwd_files=tmp_path)
    _fails(["import", "--format", "c-log", str(C_LOG), "--out", str(tmp_path / "no" / "x.jsonl")], capsys, match="does not exist")
    _fails(["import", "--format", "c-log", str(tmp_path / "none.log"), "--out", str(out)], capsys, match="no such file", cwd_files=tmp_path)
    _fails(["import", "--format", "c-log", str(tmp_path), "--out", str(out)], capsys, match=str(tmp_path), cwd_files=tmp_path)
    _fails(["import", "--format", "c-log", str(C_LOG), "--out", str(out), "--importance", "-1"], capsys, match="--importance must be positive", cwd_files=tmp_path)
    _fails(["import", "--format", "c-log", str(C_LOG), "--out", str(out), "--feature-probability", "1.5"], capsys, match="--feature-probability must be in (0, 1]", cwd_files=tmp_path)


def test_import_of_an_animsup_log_is_refused(tmp_path, capsys):
    line = _fails(["import", "--format", "c-log", str(GOLDEN), "--out", str(tmp_path / "x.jsonl")], capsys,
                  match="hand_tied_v1.jsonl:1: ", cwd_files=tmp_path)
    assert "unexpected line" in line


def test_import_output_equal_to_input_never_destroys_it(tmp_path, capsys):
    src = tmp_path / "c.log"
    shutil.copy(C_LOG, src)
    for out in (str(src), str(tmp_path / "." / "c.log")):
        _fails(["import", "--format", "c-log", str(src), "--out", out, "--force"], capsys, match="is the input file")
    assert src.read_bytes() == C_LOG.read_bytes()


# --------------------------------------------------------------------------- minima


@pytest.mark.skipif(not _have("minima"), reason="minima not built yet")
def test_minima_bad_args(tmp_path, capsys):
    afile = tmp_path / "f"
    afile.write_text("x")
    _fails(["minima", str(GOLDEN), "--out", str(afile)], capsys, match="exists and is not a folder")
    _fails(["minima", str(GOLDEN), "--out", str(GOLDEN)], capsys, match="exists and is not a folder")
    _fails(["minima", str(GOLDEN), "--out", str(tmp_path / "m"), "--threshold", "0"], capsys, match="--threshold must be a finite number > 0")
    _fails(["minima", str(GOLDEN), "--out", str(tmp_path / "m"), "--render", "-1"], capsys, match="--render needs K >= 0")
    _fails(["minima", "--out", str(tmp_path / "m"), "-p", "2", *TINY], capsys, match="feature-probability must lie in (0, 1]")
    _fails(["minima", str(DATA / "bad" / "steps_duplicated.jsonl"), "--out", str(tmp_path / "m")], capsys,
           match="steps_duplicated.jsonl:6: snapshot step 2 does not increase")
    assert not any(p.is_file() for p in (tmp_path / "m").rglob("*"))


# --------------------------------------------------------------------------- render


RENDER_BAD = [
    (["--out", "{d}/x.avi"], "unknown output extension .avi"),
    (["--out", "{d}/x"], "unknown output extension (none)"),
    (["--out", "{log}"], "would overwrite the input log"),
    (["--out", "{d}/no/x.mp4"], "does not exist"),
    (["--out", "{d}/afile/x.mp4"], "does not exist"),  # parent is a file
    (["--out", "{d}/x.mp4", "--out", "{d}/x.mp4"], "given twice as an output"),
    (["--out", "{d}/x.png", "--annotate", "--grid"], "cannot be combined with --grid"),
    (["--out", "{d}/x.mp4", "--at", "5"], "--at sets the step of a PNG poster"),
    (["--out", "{d}/x.png", "--at", "-5"], "outside the logged steps"),
    (["--out", "{d}/x.mp4", "--fps", "5", "--duration", "2", "--frames", "10"], "at most two of --fps, --duration and --frames"),
    (["--out", "{d}/x.mp4", "--fps", "0"], "--fps must be a positive number"),
    (["--out", "{d}/x.mp4", "--fps", "nan"], "--fps must be a positive number"),
    (["--out", "{d}/x.mp4", "--frames", "0"], "--frames must be a whole number >= 1"),
    (["--out", "{d}/x.mp4", "--duration", "inf"], "--duration must be a positive number"),
    (["--out", "{d}/x.mp4", "--hold", "-1"], "--hold must be >= 0"),
    (["--out", "{d}/x.mp4", "--hold", "1e9"], "too many"),
    (["--out", "{d}/x.mp4", "--frames", "100000000"], "too many"),
    (["--out", "{d}/x.mp4", "--size", "0x0"], "out of range"),
    (["--out", "{d}/x.mp4", "--size", "abc"], "--size must look like 1280x720"),
    (["--out", "{d}/x.mp4", "--instance", "7"], "instance 7 does not exist"),
    (["--out", "{d}/x.mp4", "--instance", "worst"], "--instance takes an index, 'best'"),
    (["--out", "{d}/x.mp4", "--instance", "best"], "'best' is ambiguous: the log has 2 groups"),
    (["--out", "{d}/x.mp4", "--instance", "best:g5"], "best:g5: no such group"),
    (["--out", "{d}/x.mp4", "--instance", "best:p=0.3"], "no group has 1-S=0.3"),
    (["--out", "{d}/x.mp4", "--workers", "-1"], "--workers must be a whole number >= 0"),
    (["--out", "{d}/x.mp4", "--dpi", "0"], "--dpi must be between"),
    (["--out", "{d}/x.mp4", "--smooth", "0"], "--smooth must be a whole number"),
    (["--out", "{d}/x.mp4", "--panels", "foo"], "unknown panel 'foo'"),
]


@pytest.mark.skipif(not _have("render"), reason="render not built yet")
@pytest.mark.parametrize("extra,match", RENDER_BAD, ids=[" ".join(a[2:]) or a[1] for a, _ in RENDER_BAD])
def test_render_bad_args(extra, match, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    shutil.copy(GOLDEN, log)
    (tmp_path / "afile").write_text("x")
    pick = [] if "--instance" in extra else ["--instance", "0"]  # the golden log has two groups: 'best' is ambiguous
    argv = ["render", str(log), *[a.format(d=tmp_path, log=log) for a in extra], *pick, "--quiet"]
    _fails(argv, capsys, match=match, cwd_files=tmp_path)
    assert log.read_bytes() == GOLDEN.read_bytes()


@pytest.mark.skipif(not _have("render"), reason="render not built yet")
def test_render_refuses_to_overwrite_its_input(tmp_path, capsys):
    log = tmp_path / "run.mp4"  # a log with a video's name
    shutil.copy(GOLDEN, log)
    _fails(["render", str(log), "--out", str(log), "--quiet"], capsys, match="would overwrite the input log", cwd_files=tmp_path)
    assert log.read_bytes() == GOLDEN.read_bytes()


@pytest.mark.skipif(os.geteuid() == 0 or not _have("render"), reason="root writes into read-only folders")
def test_render_unwritable_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    _fails(["render", str(GOLDEN), "--out", str(ro / "x.png"), "--quiet"], capsys, match="not writable")


# --------------------------------------------------------------------------- folders nobody can write


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


@needs_proc
def test_folder_that_refuses_files_even_for_root(tmp_path, capsys):
    """/proc takes no new files, even for root (whom os.access always says yes to)."""
    _fails(["train", *TINY, "--out", "/proc/animsup-test.jsonl"], capsys, match="cannot write log")
    _fails(["import", "--format", "c-log", str(C_LOG), "--out", "/proc/animsup-test.jsonl"], capsys,
           match="cannot write in /proc")
    from animsup.atomic import atomic_path  # what render, import and minima write through
    from animsup.errors import AnimsupError

    with pytest.raises(AnimsupError, match="cannot write in /proc"):
        with atomic_path("/proc/animsup-test.png"):
            pass
    if _have("minima"):
        _fails(["minima", str(GOLDEN), "--out", "/proc/animsup-test", "--quiet"], capsys, match="cannot create the folder")
    if _have("demo"):
        _fails(["demo", *TINY, "--log", str(tmp_path / "d.jsonl"), "--out-prefix", "/proc/animsup-test/d"], capsys,
               match="cannot create the folder")


def test_special_files_are_refused(tmp_path, capsys):
    """A FIFO as any command's input or output is one line, exit 2 (it used to block forever),
    and is left where it is; so is a device with --force (it used to be deleted)."""
    import stat

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    out.mkdir()
    log = out / "run.jsonl"
    assert main(["train", "--backend", "numpy", "--steps", "20", "--every", "10", "--quiet", "--out", str(log)]) == 0
    cases = [
        ["train", "--steps", "5", "--quiet", "--out", str(fifo), "--force"],
        ["inspect", str(fifo)],
        ["events", str(fifo)],
        ["render", str(fifo), "--out", str(out / "x.png")],
        ["minima", str(fifo), "--out", str(out)],
        ["import", str(fifo), "--out", str(out / "y.jsonl")],
        ["view", str(fifo)],
    ]
    for argv in cases:
        _fails(argv, capsys, match="is a FIFO (named pipe), not a regular")
    png = tmp_path / "poster.png"
    os.mkfifo(png)
    _fails(["render", str(log), "--out", str(png)], capsys, match="is a FIFO (named pipe), not a regular output file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISFIFO(os.stat(png).st_mode)
    assert sorted(p.name for p in out.iterdir()) == ["run.jsonl", "run.jsonl.ckpt"]
    _fails(["train", "--steps", "5", "--quiet", "--out", os.devnull, "--force"], capsys, match="is a device")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("extra, match", [
    (["--fps", "1e-9"], "--fps 1e-09 is below the limit of 0.01"),
    (["--frames", "2", "--duration", "1000"], "below the limit of 0.01"),
    (["--workers", "100000"], "--workers 100000 is more than this machine can run"),
])
def test_render_absurd_fps_and_workers(tmp_path, capsys, extra, match):
    _fails(["render", str(GOLDEN), "--out", str(tmp_path / "x.mp4"), *extra], capsys, match=match)
    assert not list(tmp_path.iterdir())


def test_workers_bound_follows_memory(monkeypatch):
    from animsup.rendering import config

    monkeypatch.setenv("ANIMSUP_MEMORY_BUDGET", str(3 * config.WORKER_BYTES + 1))
    assert config.max_workers() == min(3, 2 * (os.cpu_count() or 1))
    config.RenderConfig(workers=config.max_workers())
    with pytest.raises(AnimsupError, match="more than this machine can run"):
        config.RenderConfig(workers=config.max_workers() + 1)
