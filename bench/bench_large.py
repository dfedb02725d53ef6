"""A large model's render and page (issue 24: the scaling-law regime, n up to 10,240): peak memory
and time of the summary view (:mod:`animsup.analysis.large`) at n = 1,024 and 10,240 features,
m = 256, one instance, 20 snapshots — memory flat in n.

The logs hold random weights (the speed and memory do not depend on training): feature i's column
is a random unit direction times a norm that falls with i like the trained runs' (docs/scaling.md).
Each measurement is a fresh process (``common.run_child``: wall time and peak RSS of the process
and its children, ffmpeg included): ``animsup render LOG --out X.mp4 --out X.png --workers 0``
(one process draws, the encoder in another) and ``--out X.html`` (the viewer page).

    .venv/bin/python bench/bench_large.py [--quick]   # writes docs/results/large_view.json

``--quick``: n = 256 and 1,024, m = 32, 6 snapshots (a check that it runs; not committed).
:func:`docs_table` turns the committed JSON into the table in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

import common

RESULTS = os.path.join(common.ROOT, "docs", "results", "large_view.json")


def write_random_log(path: str, n: int, m: int, snapshots: int, seed: int = 0) -> str:
    """A log of one instance, ``snapshots`` snapshots of random W (streamed: one snapshot in memory)."""
    from animsup.log.recorder import Recorder

    rng = np.random.default_rng(seed)
    D = rng.standard_normal((m, n)).astype(np.float32)
    D /= np.linalg.norm(D, axis=0)
    rank = np.arange(1, n + 1)
    with Recorder(path, n_features=n, n_hidden=m, overwrite=True) as rec:
        for t in range(snapshots):
            s = (t + 1) / snapshots
            norms = np.clip(1.2 * s * (rank / (s * m)) ** -0.7, 0, 1.1).astype(np.float32)
            noise = 1 + 0.1 * rng.standard_normal(n).astype(np.float32)
            rec.snapshot(t * 100, W=(D * norms * noise)[None], loss=float(1.0 / (t + 1)))
    return path


def measure(tmp: str, n: int, m: int, snapshots: int) -> dict:
    log = write_random_log(os.path.join(tmp, f"large_{n}.jsonl"), n, m, snapshots)
    cli = [common.PYTHON, "-m", "animsup", "render", log, "--quiet", "--workers", "0"]
    mp4, png, html = (os.path.join(tmp, f"large_{n}.{e}") for e in ("mp4", "png", "html"))
    wall_v, rss_v, _ = common.run_child([*cli, "--out", mp4, "--out", png], env={"OMP_NUM_THREADS": "1"})
    wall_p, rss_p, _ = common.run_child([*cli, "--out", html], env={"OMP_NUM_THREADS": "1"})
    frames = snapshots + 30  # one per snapshot and the 1 s hold at 30 fps
    return {"n_features": n, "n_hidden": m, "snapshots": snapshots, "log_mb": os.path.getsize(log) / 1e6,
            "video_s": wall_v, "video_rss_mb": rss_v, "video_frames": frames, "page_s": wall_p, "page_rss_mb": rss_p,
            "page_mb": os.path.getsize(html) / 1e6}


def docs_table(path: str = RESULTS) -> str:
    """The Markdown table of the committed results (docs/scaling.md)."""
    with open(path) as f:
        res = json.load(f)
    rows = ["| n_features | m | snapshots | log | MP4 + PNG: time | peak RSS | page: time | peak RSS | page size |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        rows.append(f"| {r['n_features']:,} | {r['n_hidden']} | {r['snapshots']} | {r['log_mb']:.0f} MB | "
                    f"{r['video_s']:.1f} s | {r['video_rss_mb']:.0f} MB | {r['page_s']:.1f} s | {r['page_rss_mb']:.0f} MB | "
                    f"{r['page_mb'] * 1000:.0f} KB |")
    rows.append("")
    load = res.get("loadavg")
    at = (f", load average {load[0]:.1f} (1 min) / {load[1]:.1f} (5 min) at the end on a shared two-core machine"
          if load else "")
    rows.append(f"Measured on {res['machine']}, one thread, each command a fresh process{at} (`bench/bench_large.py`).")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="JSON path (default: docs/results/large_view.json; --quick: none)")
    a = ap.parse_args(argv)
    sizes, m, T = ((256, 1024), 32, 6) if a.quick else ((1024, 10240), 256, 20)
    with common.tmpdir() as tmp:
        rows = [measure(tmp, n, m, T) for n in sizes]
    mach = common.machine()
    res = {"rows": rows, "machine": mach.get("cpu", "") if isinstance(mach, dict) else str(mach),
           "loadavg": mach.get("loadavg") if isinstance(mach, dict) else None}
    for r in rows:
        print(json.dumps(r))
    out = a.out or (None if a.quick else RESULTS)
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
