"""Shared helpers for the benchmarks: timing, child processes, the C reference,
synthetic logs, result rows, the table and the JSON file.

Every bench script does ``import common`` first; that pins one intra-op thread for
torch/numpy/BLAS in this process and its children (two threads fight on a shared
2-core machine; see docs/benchmarks.md) before anything imports numpy.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = BENCH / "build"
RESULTS = BENCH / "results"
PYTHON = sys.executable
THREADS = 1


# --------------------------------------------------------------------------- timing


def median(xs):
    return statistics.median(xs)


def paired_ratio(ours, theirs):
    """Median of ours[i] / theirs[i]: each pair ran back to back, under the same load."""
    return median([a / b for a, b in zip(ours, theirs)])


def time_call(fn, repeat=3, warmup=0):
    """Median wall seconds of ``fn()`` over ``repeat`` calls (after ``warmup`` untimed calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times), times


# Runs the command as its own child and reports that child's wall time and peak RSS.
# The extra process matters: Linux carries a process's RSS high-water mark across
# fork + exec, so a child forked straight from this (possibly big) process would report
# at least this process's peak. A grandchild forked from this small launcher does not.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "maxrss_kib": usage.ru_maxrss, "rc": os.waitstatus_to_exitcode(status)}, f)
"""


def run_child(cmd, *, env=None, cwd=ROOT, check=True):
    """Run a command; return (wall seconds, peak RSS in MiB, stdout).

    Wall time and peak RSS (``ru_maxrss`` from ``os.wait4``, the command and the
    children it waited for, e.g. ffmpeg) are taken by a small launcher process
    (see ``_LAUNCHER``), so they are the command's own.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr, tempfile.NamedTemporaryFile("r") as meta:
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, meta.name, *map(str, cmd)],
            cwd=cwd, env=full_env, stdout=fout, stderr=ferr, check=False,
        )
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
        text = meta.read()
    info = json.loads(text) if text else {"wall": math.nan, "maxrss_kib": 0, "rc": -1}
    if check and info["rc"] != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({info['rc']}):\n{err.decode()[-3000:]}")
    return info["wall"], info["maxrss_kib"] / 1024.0, out.decode()


def python_child(code, **kw):
    """Run ``code`` in a fresh Python (same venv); see :func:`run_child`."""
    return run_child([PYTHON, "-c", code], **kw)


# --------------------------------------------------------------------------- the C reference


def build_c(n_features=None, n_hidden=None):
    """Compile bench/c/seed002.c with gcc -O2 into bench/build/ (cached); return the binary.

    With n_features/n_hidden the sizes are compile-time constants, as in the post
    (``const int N = 5``); that build is the reference the trainer is timed against.
    """
    src = BENCH / "c" / "seed002.c"
    BUILD.mkdir(exist_ok=True)
    if n_features is None:
        exe, flags = BUILD / "seed002", []
    else:
        exe, flags = BUILD / f"seed002_{n_features}_{n_hidden}", [f"-DFIXED_N={n_features}", f"-DFIXED_M={n_hidden}"]
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        tmp = exe.with_name(exe.name + ".tmp")
        subprocess.run(["gcc", "-O2", *flags, "-o", str(tmp), str(src), "-lm"], check=True)
        os.replace(tmp, exe)
    return exe


def run_c(n_features, n_hidden, *, steps, importance=0.9, feature_probability=0.1, lr=1.0, count=100_000, seed=0, batch_size=1024):
    """Time the C training loop (``-q``: no printing); return seconds of the loop alone."""
    exe = build_c(n_features, n_hidden)
    args = [n_features, n_hidden, importance, feature_probability, steps, lr, count, seed, batch_size]
    _, _, out = run_child([str(exe), "-q", *map(str, args)])
    return float(out.split("seconds:")[1])


# --------------------------------------------------------------------------- synthetic logs


def synthetic_trajectory(n_features, n_hidden, n_instances, snapshots, seed=0):
    """A plausible W trajectory: small random start drifting into a regular polygon.

    :return: W (shape: [snapshots, n_instances, n_hidden, n_features]), float32
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    start = rng.normal(0, 0.05, (n_instances, n_hidden, n_features))
    angles = 2 * np.pi * np.arange(n_features) / min(n_features, 6)
    end = np.zeros((n_instances, n_hidden, n_features))
    end[:, 0] = np.cos(angles)
    end[:, min(1, n_hidden - 1)] = np.sin(angles) if n_hidden > 1 else end[:, 0]
    end[:, :, 6:] *= 0.05
    t = np.linspace(0, 1, snapshots)[:, None, None, None]
    lag = rng.uniform(0, 0.6, (1, n_instances, 1, n_features))
    prog = np.clip((t - lag) / 0.3, 0, 1)
    W = start + prog * (end - start) + rng.normal(0, 0.01, (snapshots, n_instances, n_hidden, n_features))
    return W.astype(np.float32)


def write_log(path, *, n_features, n_hidden, n_instances=1, snapshots=1000, every=10, seed=0, chunk=2000):
    """Write a synthetic animsup log with ``animsup.log.reader.LogWriter``.

    One snapshot every ``every`` steps and the fine loss curve (every step) in
    ``loss`` records of ``every`` rows. Large logs are generated in chunks so
    memory stays small. Returns the path.
    """
    import numpy as np

    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    rng = np.random.default_rng(seed)
    header = make_header(
        n_features=n_features,
        n_hidden=n_hidden,
        model="tied",
        feature_probability=[0.1] * n_instances,
        seed=list(range(n_instances)),
        importance=[0.9**i for i in range(n_features)],
        config={"synthetic": True, "steps": snapshots * every, "every": every},
    )
    with LogWriter(path, header, force=True) as w:
        for c0 in range(0, snapshots, chunk):
            k = min(chunk, snapshots - c0)
            W = synthetic_trajectory(n_features, n_hidden, n_instances, k, seed=seed + c0)
            for j in range(k):
                i = c0 + j
                step = i * every
                base = 0.1 * np.exp(-3 * i / snapshots) + 0.01
                loss = (base * (1 + 0.2 * rng.random((every, n_instances)))).astype(np.float32)
                if i:
                    w.losses(step - every + 1, 1, loss)
                w.snapshot(step, loss[-1], W[j], np.full((n_instances, n_features), -0.1, np.float32))
        w.end("completed", (snapshots - 1) * every, 1.0)
    return path


def tmpdir():
    """A scratch folder for logs and videos, removed on exit: ``with common.tmpdir() as tmp:``."""
    return tempfile.TemporaryDirectory(prefix="animsup-bench-", ignore_cleanup_errors=True)


# --------------------------------------------------------------------------- results


def row(path, measure, value, unit, *, baseline=None, baseline_name=None, ratio=None, target=None, met=None, **extra):
    """One table row. ``ratio`` is ours vs the baseline (> 1 means animsup is better)."""
    return {
        "path": path,
        "measure": measure,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio,
        "target": target,
        "met": met,
        **extra,
    }


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return str(v)


def print_table(rows, file=sys.stdout):
    cols = ("path", "measure", "value", "unit", "baseline", "ratio", "target", "met")
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) if cells else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for x in cells:
        print("  ".join(v.ljust(w) for v, w in zip(x, widths)), file=file)
    file.flush()


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg": load,
        "threads": THREADS,
    }


def save(name, rows, *, quick=False, extra=None):
    """Write bench/results/<name>.json atomically; return its path."""
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "version": 1,
        "bench": name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": quick,
        "machine": machine(),
        "rows": rows,
        **(extra or {}),
    }
    path = RESULTS / f"{name}.json"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=RESULTS)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1, default=float)
    os.replace(tmp, path)
    return path


def bench_main(name, run, argv=None):
    """``python bench/bench_X.py [--quick] [--full]``: run, print the table, save the JSON."""
    import argparse
    import inspect

    p = argparse.ArgumentParser(description=f"animsup benchmark: {name}")
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (a smoke run)")
    p.add_argument("--full", action="store_true", help="measure slow baselines over the full length instead of projecting")
    params = inspect.signature(run).parameters
    if "device" in params:
        p.add_argument("--device", default="cpu", help="cpu or cuda (the benches that train)")
    args = p.parse_args(argv)
    kw = {"full": args.full} if "full" in params else {}
    if "device" in params:
        kw["device"] = args.device
    rows = run(quick=args.quick, **kw)
    print_table(rows)
    print(f"wrote {save(name, rows, quick=args.quick)}")
    return rows
