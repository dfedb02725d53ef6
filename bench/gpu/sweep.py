"""Sweeps on one GPU (issue 22): per-shard throughput and peak memory, and what is deterministic on CUDA.

    python bench/gpu/sweep.py --device cuda --out sweep_gpu.json      # <= 90 s on one H100
    python bench/gpu/sweep.py --device cpu --tiny --out /tmp/s.json   # a check of the script itself

Runs, on the local engine (one process, shards one after another):

1. the n=2, m=1 phase grid (r 20 × 1 - S 20 × 10 seeds = 4,000 models, batch 1,024) as 1 shard and
   as 4 shards of 1,000; per shard: wall seconds, instance-steps/s, peak CUDA memory
   (``torch.cuda.max_memory_allocated``, reset before each shard);
2. a wide model (n=2,048, m=256, 8 instances: Liu et al.-like widths at a size that fits the time)
   as 1 shard and as 2 shards of 4;
3. determinism on CUDA: the 1-shard grid run twice (same config: equal or not), and 1 shard against
   4 (the CUDA data stream is one torch generator per shard, so the cut changes the numbers there:
   reported as the largest |ΔW|).

Writes everything as JSON to --out; docs/scaling.md uses the per-shard numbers in its cluster plans.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def grid(device: str, steps: int, tiny: bool):
    from animsup.train.config import TrainConfig

    cells = 4 if tiny else 20
    return TrainConfig(n_features=2, n_hidden=1, importance="constant",
                       last_importance=[float(v) for v in np.geomspace(0.1, 10, cells)],
                       feature_probability=[float(v) for v in np.geomspace(0.01, 1, cells)],
                       seeds=list(range(2 if tiny else 10)), steps=steps, batch_size=1024, snapshots=20,
                       lr=0.01, lr_schedule="cosine", device=device, checkpoint=False).validate()


def wide(device: str, steps: int, tiny: bool):
    from animsup.train.config import TrainConfig

    n, m = (64, 8) if tiny else (2048, 256)
    return TrainConfig(n_features=n, n_hidden=m, feature_probability=[0.01], seeds=list(range(8)), importance=0.99,
                       steps=steps, batch_size=1024, snapshots=2, device=device, backend="torch",
                       checkpoint=False).validate()


def run(cfg, folder: str, shard_size, device: str) -> dict:
    from animsup.log.reader import read_log
    from animsup.train.sweep import run_shard, run_sweep

    per_shard = []
    torch = sys.modules.get("torch")

    def runner(task, progress=None):
        cuda = device == "cuda" and torch is not None
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        res = run_shard(task, progress=progress)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        k = len(task["config"]["seeds"])
        per_shard.append({"id": task["id"], "instances": k, "seconds": seconds,
                          "instance_steps_per_s": k * task["config"]["steps"] / seconds,
                          "peak_bytes": int(torch.cuda.max_memory_allocated()) if cuda else None,
                          "status": res["status"], "error": res.get("error")})
        return res

    t0 = time.perf_counter()
    res = run_sweep([cfg], folder, shard_size=shard_size, runner=runner, force=True)
    wall = time.perf_counter() - t0
    W = read_log(folder).W if res.merged else None
    return {"instances": cfg.n_instances, "steps": cfg.steps, "shards": len(res.manifest["shards"]),
            "wall_seconds": wall, "instance_steps_per_s": cfg.n_instances * cfg.steps / wall, "per_shard": per_shard,
            "failed": [s["error"] for s in res.failed]}, W


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--tiny", action="store_true", help="tiny sizes (checks the script on a CPU in seconds)")
    p.add_argument("--out", required=True, help="JSON file to write")
    args = p.parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="animsup-gpu-sweep-")
    out: dict = {"device": args.device, "torch": torch.__version__, "python": platform.python_version(),
                 "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None, "tiny": args.tiny}
    try:
        steps = 50 if args.tiny else 2000
        g = grid(args.device, steps, args.tiny)
        out["grid_1"], w1 = run(g, os.path.join(tmp, "g1"), None if not args.tiny else 10_000, args.device)
        out["grid_1_again"], w1b = run(g, os.path.join(tmp, "g1b"), None if not args.tiny else 10_000, args.device)
        out["grid_4"], w4 = run(g, os.path.join(tmp, "g4"), g.n_instances // 4, args.device)
        out["determinism"] = {
            "same_config_twice_equal": bool(w1 is not None and w1b is not None and np.array_equal(w1, w1b)),
            "same_config_twice_max_abs_diff": float(np.abs(w1 - w1b).max()) if w1 is not None and w1b is not None else None,
            "one_vs_four_shards_max_abs_diff": float(np.abs(w1 - w4).max()) if w1 is not None and w4 is not None else None}
        wsteps = 30 if args.tiny else 300
        wc = wide(args.device, wsteps, args.tiny)
        out["wide_1"], _ = run(wc, os.path.join(tmp, "w1"), 8, args.device)
        out["wide_2"], _ = run(wc, os.path.join(tmp, "w2"), 4, args.device)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: (v if not isinstance(v, dict) or "per_shard" not in v else
                          {kk: v[kk] for kk in ("shards", "wall_seconds", "instance_steps_per_s")}) for k, v in out.items()},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
