"""animsup's batched LLC against devinterp 1.3.2's per-model loop: agreement and speed, one run.

1. Trains 64 instances of the 6→2 tied model (importance 1, 1 − S = 0.1, 64 seeds, 50 snapshots)
   and draws one fixed data set of the same law (devinterp samples from a data set).
2. Agreement: the final snapshot of instances that ended as different k-gons (geometry.describe),
   ours (``animsup.measure(..., data=...)``) and devinterp's ``estimate_learning_coeff_with_summary``
   with the same hyperparameters: means within 10 % or within the chains' spread
   (|Δ| <= 2·hypot(std_ours, std_devinterp)).
3. Speed: ours on all 64 × 50 snapshots in one call; devinterp's per-model loop timed on
   ``--sample`` models and scaled to 3,200 (its time is linear in the models: one call each).

    python bench/bench_llc.py [--quick] [--json docs/results/llc_devinterp.json]

Needs ``pip install animsup[bench]`` (devinterp). The table in docs/figures.md is
:func:`docs_table` of the JSON this writes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (pins one thread)
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOCS_JSON = ROOT / "docs" / "results" / "llc_devinterp.json"
#: the SGLD settings of both sides (devinterp's names in brackets): ε (lr), γ (localization),
#: nβ (nbeta; default batch/ln batch), chains (num_chains), draws (num_draws), batch (batch_size)
SETTINGS = {"lr": 1e-3, "localization": 100.0, "chains": 4, "draws": 200, "burnin": 0, "batch_size": 128, "seed": 0}


def train_run(path: str, *, instances: int, snapshots: int, steps: int) -> None:
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    cfg = TrainConfig(n_features=6, n_hidden=2, feature_probability=[0.1], seeds=list(range(instances)), steps=steps,
                      snapshots=snapshots, batch_size=1024, lr=3e-3, importance="constant", device="cpu")
    train(cfg, path, force=True)


def agreement(log: str, data: np.ndarray, settings: dict, picks: int) -> list[dict]:
    import animsup
    from animsup.analysis import geometry
    from animsup.log.reader import read_log
    from animsup.train.landscape import LLCConfig
    from llc_reference import devinterp_llc

    run = read_log(log)
    shapes = [geometry.describe(run.W[-1, k]).shape for k in range(len(run.instances))]
    chosen, seen = [], set()
    for k, s in enumerate(shapes):            # one instance per distinct final shape first
        if s not in seen:
            seen.add(s)
            chosen.append(k)
    chosen = (chosen + [k for k in range(len(shapes)) if k not in chosen])[:picks]
    cfg = LLCConfig(**settings)
    ours = animsup.measure(log, settings, data=data, snapshots=[int(run.steps[-1])], instances=chosen)
    rows = []
    for j, k in enumerate(chosen):
        ref_mean, ref_std = devinterp_llc(run.W[-1, k], run.b[-1, k], data, cfg)
        om, osd = float(ours.llc_mean[0, j]), float(ours.llc_std[0, j])
        ok = abs(om - ref_mean) <= max(0.1 * abs(ref_mean), 2 * math.hypot(osd, ref_std))
        rows.append({"instance": k, "shape": shapes[k], "ours_mean": om, "ours_std": osd, "devinterp_mean": ref_mean,
                     "devinterp_std": ref_std, "agree": bool(ok)})
    return rows


def speed(log: str, data: np.ndarray, settings: dict, sample: int) -> dict:
    import animsup
    from animsup.log.reader import read_log
    from animsup.train.landscape import LLCConfig
    from llc_reference import devinterp_llc

    run = read_log(log)
    T, K = run.W.shape[:2]
    t0 = time.perf_counter()
    m = animsup.measure(log, settings, data=data)
    ours_s = time.perf_counter() - t0
    cfg = LLCConfig(**settings)
    rng = np.random.default_rng(0)
    picks = [(int(rng.integers(T)), int(rng.integers(K))) for _ in range(sample)]
    t0 = time.perf_counter()
    for t, k in picks:
        devinterp_llc(run.W[t, k], run.b[t, k], data, cfg)
    per_model = (time.perf_counter() - t0) / sample
    return {"models": T * K, "snapshots": T, "instances": K, "ours_s": ours_s, "devinterp_per_model_s": per_model,
            "devinterp_sampled_models": sample, "devinterp_s_scaled": per_model * T * K,
            "speedup": per_model * T * K / ours_s, "ours_not_settled": int((~m.llc["settled"]).sum())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="8 instances x 5 snapshots, 50 draws (a smoke test)")
    p.add_argument("--sample", type=int, default=8, help="devinterp models timed (default 8)")
    p.add_argument("--picks", type=int, default=4, help="models compared for agreement (default 4)")
    p.add_argument("--json", default=None, help="write the results here (default: print only)")
    args = p.parse_args(argv)
    settings = dict(SETTINGS)
    K, T, steps = (8, 5, 2000) if args.quick else (64, 50, 10000)
    if args.quick:
        settings.update(draws=50)
    from llc_reference import fixed_data

    with tempfile.TemporaryDirectory(prefix="animsup-llc-") as tmp:
        log = os.path.join(tmp, "run.jsonl")
        train_run(log, instances=K, snapshots=T, steps=steps)
        data = fixed_data(4096, seed=1)
        rows = agreement(log, data, settings, 2 if args.quick else args.picks)
        sp = speed(log, data, settings, 2 if args.quick else args.sample)
    from importlib.metadata import version

    import torch

    res = {"settings": settings, "data": "fixed data set [4096, 6], 1 - S = 0.1, U[0,1) values, importance 1",
           "train": {"instances": K, "snapshots": T, "steps": steps}, "agreement": rows, "speed": sp,
           "devinterp": version("devinterp"), "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
           "threads": 1, "quick": args.quick}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


def docs_table(path: Path = DOCS_JSON) -> str:
    """The agreement and speed tables of a committed result file."""
    res = json.loads(path.read_text(encoding="utf-8"))
    s = res["settings"]
    lines = [f"Settings: ε = {s['lr']:g}, γ = {s['localization']:g}, nβ = batch/ln(batch), {s['chains']} chains × "
             f"{s['draws']} draws, batch {s['batch_size']}; {res['data']}; devinterp {res['devinterp']}, torch {res['torch']}, "
             f"one CPU thread.", "",
             "| instance | final shape | animsup LLC (mean ± std) | devinterp LLC (mean ± std) | agree |", "|---|---|---|---|---|"]
    for r in res["agreement"]:
        lines.append(f"| {r['instance']} | {r['shape']} | {r['ours_mean']:.3f} ± {r['ours_std']:.3f} | "
                     f"{r['devinterp_mean']:.3f} ± {r['devinterp_std']:.3f} | {'yes' if r['agree'] else 'no'} |")
    sp = res["speed"]
    lines += ["", "| workload | animsup, one batched call (s) | devinterp, per-model loop (s) | speed-up |", "|---|---|---|---|",
              f"| {sp['instances']} instances × {sp['snapshots']} snapshots = {sp['models']:,} models | {sp['ours_s']:.1f} | "
              f"{sp['devinterp_s_scaled']:.0f} ({sp['devinterp_per_model_s']:.2f} s/model × {sp['models']:,}, timed on "
              f"{sp['devinterp_sampled_models']}) | {sp['speedup']:.0f}× |"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
