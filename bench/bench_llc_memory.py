"""Peak memory of ``animsup.measure(..., llc=...)`` against the number of snapshots measured (issue 23:
"memory flat in the number of snapshots").

One 64-instance 6→2 log with 100 snapshots is trained once; then each of T = 5, 25, 100 snapshots is
measured in a fresh Python (bench/common.py's launcher takes its peak RSS from ``os.wait4``), same
settings (2 chains × 20 draws, batch 128: the draws do not change the memory of a chunk, only its
time). The models (64 × T) are processed in chunks of at most ``CHUNK_ELEMENTS`` batch entries
(animsup/train/measure.py), so the peak should not grow with T beyond the sidecar's arrays.

    python bench/bench_llc_memory.py [--quick] [--json docs/results/llc_memory.json]

The table in docs/analysis.md is :func:`docs_table` of the JSON this writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import common
from common import python_child

ROOT = Path(__file__).resolve().parents[1]
DOCS_JSON = ROOT / "docs" / "results" / "llc_memory.json"
SETTINGS = {"lr": 1e-3, "localization": 100.0, "chains": 2, "draws": 20, "burnin": 0, "batch_size": 128, "seed": 0}

_MEASURE = """
import json, sys, time
import torch
torch.set_num_threads(1)
from animsup.train.measure import measure  # returns the measurements; writes no sidecar
t0 = time.perf_counter()
res = measure(sys.argv[1], llc=json.loads(sys.argv[2]), snapshots=int(sys.argv[3]))
print(json.dumps({"seconds": time.perf_counter() - t0, "models": int(res.llc_mean.size)}))
"""


def train_log(path: str, *, instances: int, snapshots: int, steps: int) -> None:
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    cfg = TrainConfig(n_features=6, n_hidden=2, feature_probability=[0.1], seeds=list(range(instances)), steps=steps,
                      snapshots=snapshots, batch_size=1024, lr=3e-3, importance="constant", device="cpu")
    train(cfg, path, force=True)


def measure_child(log: str, snapshots: int, settings: dict) -> dict:
    wall, rss, out = python_child(_MEASURE.replace("sys.argv[1]", repr(log)).replace("sys.argv[2]", repr(json.dumps(settings)))
                                  .replace("sys.argv[3]", str(snapshots)), env={"OMP_NUM_THREADS": "1"})
    info = json.loads(out.strip().splitlines()[-1])
    return {"snapshots": snapshots, "models": info["models"], "peak_rss_mib": round(rss, 1),
            "measure_seconds": round(info["seconds"], 2), "process_seconds": round(wall, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="8 instances, T = 2 and 6 (a smoke test)")
    p.add_argument("--json", default=None, help="write the results here (default: print only)")
    args = p.parse_args(argv)
    K, Ts, steps = (8, (2, 6), 200) if args.quick else (64, (5, 25, 100), 2000)
    with tempfile.TemporaryDirectory(prefix="animsup-llcmem-") as tmp:
        log = os.path.join(tmp, "run.jsonl")
        train_log(log, instances=K, snapshots=max(Ts), steps=steps)
        baseline = python_child("import torch, animsup", env={"OMP_NUM_THREADS": "1"})[1]
        rows = [measure_child(log, T, SETTINGS) for T in Ts]
    res = {"settings": SETTINGS, "instances": K, "rows": rows, "import_rss_mib": round(baseline, 1),
           "date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": common.machine(), "quick": args.quick}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


def docs_table(path: Path = DOCS_JSON) -> str:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    s = d["settings"]
    lines = [f"{d['instances']} instances of the 6→2 model, {s['chains']} chains × {s['draws']} draws, batch "
             f"{s['batch_size']}, one thread; `import torch, animsup` alone peaks at {d['import_rss_mib']:.0f} MiB "
             f"({d['date']}).", "",
             "| snapshots T | models (instances × T) | peak RSS (MiB) | measure (s) |", "|---:|---:|---:|---:|"]
    for r in d["rows"]:
        lines.append(f"| {r['snapshots']} | {r['models']:,} | {r['peak_rss_mib']:.0f} | {r['measure_seconds']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
