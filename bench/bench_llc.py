"""animsup's batched LLC against devinterp 1.3.2's per-model loop: agreement and speed, one run.

1. Trains one log of the 6→2 tied model (importance 1, 50 snapshots) with two groups of 64 seeds:
   1 − S = 0.1 (ends mostly in pentagons, some squares) and 1 − S = 0.01 (sparser: some seeds end
   as hexagons, the optimum of Chen et al. 2023's high-sparsity limit), and draws one fixed data set
   of each group's law (devinterp samples from a data set).
2. Agreement: the final snapshot of one instance per distinct final shape (geometry.describe) over
   all groups, ours (``animsup.measure(..., data=...)`` on its group's data set) and devinterp's
   ``estimate_learning_coeff_with_summary`` with the same hyperparameters, for each of two
   hyperparameter sets (:data:`SETTING_SETS`): the bench's own and devinterp's TMS example's. "agree":
   means within 10 % or within the chains' spread (|Δ| <= 2·hypot(std_ours, std_devinterp)).
3. Speed: ours on the first group's 64 × 50 snapshots in one call (the bench's settings);
   devinterp's per-model loop timed on ``--sample`` models and scaled to 3,200 (its time is linear
   in the models: one call each).

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
#: 1 − S of the groups; the first is the speed group
DENSITIES = (0.1, 0.01)
#: the SGLD settings of both sides (devinterp's names in brackets): ε (lr), γ (localization),
#: nβ (nbeta; None: batch/ln batch), chains (num_chains), draws (num_draws), batch (batch_size)
SETTINGS = {"lr": 1e-3, "localization": 100.0, "nbeta": None, "chains": 4, "draws": 200, "burnin": 0,
            "batch_size": 128, "seed": 0}
#: devinterp 1.3.2's examples/tms.ipynb, its LLC cell ("Sweep SGLD hyperparameters"): localization
#: 1.0, nbeta = default_nbeta(len(dataset)) on its 200-sample test set (200 / ln 200), 5 chains ×
#: 100 draws, no burn-in; it sweeps lr over {1e-5, 1e-4, 1e-3, 1e-2} and batch over {1, 10, 30,
#: 100, 300}: we take lr 1e-3 and batch 100 (its training batch) from that grid
TMS_SETTINGS = {"lr": 1e-3, "localization": 1.0, "nbeta": 200 / math.log(200), "chains": 5, "draws": 100, "burnin": 0,
                "batch_size": 100, "seed": 0}
SETTING_SETS = {"bench": SETTINGS, "devinterp TMS example": TMS_SETTINGS}
DATA_N = 4096


def train_run(path: str, *, instances: int, snapshots: int, steps: int) -> None:
    """``instances`` seeds in each of the :data:`DENSITIES` groups (instance i: group i // instances)."""
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    cfg = TrainConfig(n_features=6, n_hidden=2, feature_probability=list(DENSITIES), seeds=list(range(instances)),
                      steps=steps, snapshots=snapshots, batch_size=1024, lr=3e-3, importance="constant", device="cpu")
    train(cfg, path, force=True)


def pick_shapes(shapes: list[str], picks: int) -> list[int]:
    """The first instance of each distinct final shape, in instance order; at most ``picks`` (0: all)."""
    chosen: list[int] = []
    seen: set[str] = set()
    for k, s in enumerate(shapes):
        if s not in seen:
            seen.add(s)
            chosen.append(k)
    return chosen[:picks] if picks > 0 else chosen


def agreement(log: str, datas: list[np.ndarray], per_group: int, sets: dict[str, dict], picks: int) -> list[dict]:
    """One row per (chosen instance, settings set); instance k is compared on ``datas[k // per_group]``."""
    import animsup
    from animsup.analysis import geometry
    from animsup.log.reader import read_log
    from animsup.train.landscape import LLCConfig
    from llc_reference import devinterp_llc

    run = read_log(log)
    shapes = [geometry.describe(run.W[-1, k]).shape for k in range(len(run.instances))]
    chosen = pick_shapes(shapes, picks)
    last = int(run.steps[-1])
    rows = []
    for name, settings in sets.items():
        cfg = LLCConfig(**settings)
        for k in chosen:
            g = k // per_group
            ours = animsup.measure(log, settings, data=datas[g], snapshots=[last], instances=[k])
            om, osd = float(ours.llc_mean[0, 0]), float(ours.llc_std[0, 0])
            ref_mean, ref_std = devinterp_llc(run.W[-1, k], run.b[-1, k], datas[g], cfg)
            ok = abs(om - ref_mean) <= max(0.1 * abs(ref_mean), 2 * math.hypot(osd, ref_std))
            rows.append({"instance": k, "feature_probability": DENSITIES[g], "shape": shapes[k], "settings": name,
                         "ours_mean": om, "ours_std": osd, "devinterp_mean": ref_mean, "devinterp_std": ref_std,
                         "agree": bool(ok)})
    return rows


def speed(log: str, data: np.ndarray, per_group: int, settings: dict, sample: int) -> dict:
    """The first group's instances × all snapshots: one batched call against devinterp's loop."""
    import animsup
    from animsup.log.reader import read_log
    from animsup.train.landscape import LLCConfig
    from llc_reference import devinterp_llc

    group = list(range(per_group))
    run = read_log(log, group)
    T, K = run.W.shape[:2]
    t0 = time.perf_counter()
    m = animsup.measure(log, settings, data=data, instances=group)
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
    p.add_argument("--quick", action="store_true", help="4 seeds per group x 3 snapshots, 2 chains x 20 draws (a smoke test)")
    p.add_argument("--sample", type=int, default=8, help="devinterp models timed (default 8)")
    p.add_argument("--picks", type=int, default=0, help="at most this many distinct final shapes compared (default 0: all)")
    p.add_argument("--json", default=None, help="write the results here (default: print only)")
    args = p.parse_args(argv)
    sets = {name: dict(s) for name, s in SETTING_SETS.items()}
    K, T, steps = (4, 3, 300) if args.quick else (64, 50, 10000)
    if args.quick:
        for s in sets.values():
            s.update(chains=2, draws=20)
    from llc_reference import fixed_data

    with tempfile.TemporaryDirectory(prefix="animsup-llc-") as tmp:
        log = os.path.join(tmp, "run.jsonl")
        train_run(log, instances=K, snapshots=T, steps=steps)
        datas = [fixed_data(DATA_N, feature_probability=fp, seed=1) for fp in DENSITIES]
        rows = agreement(log, datas, K, sets, 2 if args.quick else args.picks)
        sp = speed(log, datas[0], K, sets["bench"], 1 if args.quick else args.sample)
    from importlib.metadata import version

    import torch

    res = {"settings": sets, "densities": list(DENSITIES),
           "data": f"one fixed data set [{DATA_N}, 6] per group (its 1 - S), U[0,1) values, importance 1",
           "train": {"instances_per_group": K, "snapshots": T, "steps": steps}, "agreement": rows, "speed": sp,
           "devinterp": version("devinterp"), "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
           "threads": 1, "quick": args.quick}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


def _settings_line(name: str, s: dict) -> str:
    nbeta = "batch/ln(batch)" if s.get("nbeta") is None else f"{s['nbeta']:.4g}"
    return (f"- *{name}*: ε = {s['lr']:g}, γ = {s['localization']:g}, nβ = {nbeta}, {s['chains']} chains × "
            f"{s['draws']} draws, burn-in {s['burnin']}, batch {s['batch_size']}")


def docs_table(path: Path = DOCS_JSON) -> str:
    """The agreement and speed tables of a committed result file."""
    res = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"Data: {res['data']}; groups 1 − S = {', '.join(f'{d:g}' for d in res['densities'])}, "
             f"{res['train']['instances_per_group']} seeds each; devinterp {res['devinterp']}, torch {res['torch']}, "
             "one CPU thread. Settings sets:", ""]
    lines += [_settings_line(name, s) for name, s in res["settings"].items()]
    lines += ["", "| instance | 1 − S | final shape | settings | animsup LLC (mean ± std) | devinterp LLC (mean ± std) | agree |",
              "|---|---|---|---|---|---|---|"]
    for r in res["agreement"]:
        lines.append(f"| {r['instance']} | {r['feature_probability']:g} | {r['shape']} | {r['settings']} | "
                     f"{r['ours_mean']:.3f} ± {r['ours_std']:.3f} | {r['devinterp_mean']:.3f} ± {r['devinterp_std']:.3f} | "
                     f"{'yes' if r['agree'] else 'no'} |")
    sp = res["speed"]
    lines += ["", "| workload (settings: bench) | animsup, one batched call (s) | devinterp, per-model loop (s) | speed-up |",
              "|---|---|---|---|",
              f"| {sp['instances']} instances × {sp['snapshots']} snapshots = {sp['models']:,} models | {sp['ours_s']:.1f} | "
              f"{sp['devinterp_s_scaled']:.0f} ({sp['devinterp_per_model_s']:.2f} s/model × {sp['models']:,}, timed on "
              f"{sp['devinterp_sampled_models']}) | {sp['speedup']:.0f}× |"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
