"""Where a training step's time goes: torch ops and Python functions.

    python bench/profile_train.py [--n 32] [--m 2] [--instances 100] [--steps 50] [--every N]

Runs ``animsup.train.loop.train`` twice under profilers (one torch thread): the torch
profiler's table of ops by self time, then cProfile's top Python functions by own time
(which shows numpy sampling, logging and the loop's own overhead).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

import common


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--m", type=int, default=2)
    p.add_argument("--instances", type=int, default=100)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--every", type=int, default=None, help="snapshot every k steps (default: one at the end)")
    args = p.parse_args(argv)

    import torch
    from torch.profiler import ProfilerActivity, profile

    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    torch.set_num_threads(common.THREADS)
    cfg = TrainConfig(
        n_features=args.n, n_hidden=args.m, feature_probability=[0.1], seeds=list(range(args.instances)),
        steps=args.steps, batch_size=args.batch, threads=common.THREADS, device="cpu",
        every=args.every or args.steps,
    )
    with common.tmpdir() as tmp:
        log = os.path.join(tmp, "p.jsonl")
        train(cfg, log, force=True)  # warm up
        t0 = time.perf_counter()
        train(cfg, log, force=True)
        dt = time.perf_counter() - t0
        print(f"{args.steps} steps x {args.instances} instances in {dt:.3f} s: "
              f"{1e3 * dt / args.steps:.2f} ms a step, {args.instances * args.steps / dt:,.0f} model-steps/s\n")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train(cfg, log, force=True)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))
        pr = cProfile.Profile()
        pr.enable()
        train(cfg, log, force=True)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(14)


if __name__ == "__main__":
    main()
