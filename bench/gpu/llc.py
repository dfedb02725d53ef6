"""The batched LLC on CUDA against the CPU: 64 instances × 50 snapshots of the 6→2 tied model,
SGLD at bench_llc.py's settings (ε 1e-3, γ 100, 4 chains × 200 draws, batch 128), on the log's own
data law. Runs in <= 90 s on one H100:

    python bench/gpu/llc.py --device cuda --out llc_gpu.json     # [--quick: 8 × 5, 20 draws, for CPU checks]

The log is synthetic (hexagons of radius ~1 with noise: the timing does not depend on the
weights). The CPU side measures ``--cpu-snapshots`` of the 50 snapshots (default 10) and scales
linearly (the program is chunked over models, so its time is linear in them); CUDA measures all 50,
after a warm-up call. Peak CUDA memory is reported (it is flat in the snapshots: fixed-size chunks).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SETTINGS = {"lr": 1e-3, "localization": 100.0, "chains": 4, "draws": 200, "burnin": 0, "batch_size": 128, "seed": 0}


def synthetic_log(path: str, K: int, T: int) -> None:
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    rng = np.random.default_rng(0)
    theta = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    hexagon = np.stack([np.cos(theta), np.sin(theta)])
    header = make_header(n_features=6, n_hidden=2, model="tied", feature_probability=np.full((K, 6), 0.1),
                         seed=list(range(K)), importance=np.ones((K, 6)), config={"loss_reduction": "mean"})
    with LogWriter(path, header) as w:
        for t in range(T):
            W = hexagon[None] * (0.2 + 0.8 * t / max(T - 1, 1)) + 0.05 * rng.standard_normal((K, 2, 6))
            w.snapshot(t * 100, np.full(K, 0.05), W.astype(np.float32), np.full((K, 6), -0.1, np.float32))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True, help="the JSON result file")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cpu-snapshots", type=int, default=10)
    args = p.parse_args(argv)
    import torch

    import animsup

    torch.set_num_threads(int(os.environ.get("ANIMSUP_BENCH_THREADS", "1")))
    settings = dict(SETTINGS)
    K, T = (8, 5) if args.quick else (64, 50)
    if args.quick:
        settings["draws"] = 20
    res: dict = {"settings": settings, "instances": K, "snapshots": T, "models": K * T, "torch": torch.__version__,
                 "cpu_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "run.jsonl")
        synthetic_log(log, K, T)
        if args.device.startswith("cuda"):
            res["gpu"] = torch.cuda.get_device_name(0)
            animsup.measure(log, {**settings, "draws": 5}, snapshots=2, device=args.device)   # warm-up
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        m = animsup.measure(log, settings, device=args.device)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
            res["cuda_peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
        res[f"{args.device}_s"] = time.perf_counter() - t0
        res["llc_mean_of_means"] = float(np.nanmean(m.llc_mean))
        steps = [int(s) for s in m.steps]
        cpu_snaps = steps[:: max(1, T // min(args.cpu_snapshots, T))][: args.cpu_snapshots]
        t0 = time.perf_counter()
        animsup.measure(log, settings, snapshots=cpu_snaps, device="cpu")
        cpu = time.perf_counter() - t0
        res["cpu_s_measured"] = cpu
        res["cpu_snapshots_measured"] = len(cpu_snaps)
        res["cpu_s_scaled"] = cpu * T / len(cpu_snaps)
        if args.device != "cpu":
            res["speedup_vs_cpu"] = res["cpu_s_scaled"] / res[f"{args.device}_s"]
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
