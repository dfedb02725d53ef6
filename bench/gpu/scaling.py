"""The scaling-law regime at the paper's size on one GPU: time and memory per step, loss against m.

Liu, Liu, Gore, "Superposition Yields Robust Neural Scaling" (NeurIPS 2025, arXiv:2505.10465); their
large toy (App. B.1; github.com/liuyz0/SuperpositionScaling, exp/exp-17.py): n = 10,240 features with
p_i ∝ i^-1.2 (Σ p_i = 1), m = 8, 16, …, 1,024, batch 2,048 in the paper's text (8,192 in exp-17.py),
20,000 steps (40,000 in exp-17.py), weight decay −1 (strong) and +0.1 (weak superposition). 20,000
steps × 8 sizes do not fit 90 s: this runs ``--steps`` (default 300) steps per m at batch 8,192 with
both decays trained together (:mod:`animsup.train.scaling`), and writes per m the seconds per step,
the peak CUDA memory and the loss reached (a short run: the loss-vs-m exponents are those of an
unfinished training, reported as such). Expected (docs/figures.md §15): ≈ 2.7 GiB peak, a few ms
per step at small m and ≈ 20 ms at m = 1,024 (≈ 1 TFLOP of FP32 matrix products per step).

    python bench/gpu/scaling.py --device cuda --out scaling_gpu.json        # one H100: < 90 s
    python bench/gpu/scaling.py --device cpu --tiny --out /tmp/scaling.json  # a check of the script
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True, help="the JSON results")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--tiny", action="store_true", help="n = 256, m = 8, 16, 20 steps (a check on the CPU)")
    args = p.parse_args(argv)
    import torch

    from animsup.analysis.scaling import fit_power_law
    from animsup.train.scaling import ScalingConfig, train_scaling

    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # the paper's FP32 (their note: FP16 changed the results)
    cfg = ScalingConfig(n_features=256, ms=[8, 16], steps=20, batch_size=256, device=args.device) if args.tiny else \
        ScalingConfig(n_features=10_240, ms=[8, 16, 32, 64, 128, 256, 512, 1024], steps=args.steps, batch_size=8192,
                      gammas=[-1.0, 0.1], device=args.device)
    t0 = time.perf_counter()
    res = train_scaling(cfg)
    out = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", **res.to_dict(),
           "wall_seconds": time.perf_counter() - t0,
           "fits": {("strong" if g < 0 else "weak"): fit_power_law(cfg.ms, res.loss[i]) for i, g in enumerate(cfg.gammas)}}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    for j, m in enumerate(cfg.ms):
        print(f"m={m:>5}  {1e3 * res.seconds_per_step[j]:8.2f} ms/step  peak {res.peak_bytes[j] / 2**30:6.2f} GiB  "
              f"loss {res.loss[:, j]}")
    print(f"total {out['wall_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
