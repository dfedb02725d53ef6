"""Feature absorption by an L1 SAE on a toy with parent/child features (Chanin et al. 2024).

Chanin, Wilken-Smith, Dulka, Bhatnagar, Bloom, "A is for Absorption: Studying Feature Splitting and
Absorption in Sparse Autoencoders" (arXiv:2409.14507): when a child feature only fires together with
its parent, an L1-penalised SAE can save penalty by letting one latent carry "parent + child": the
parent's latent then stays off exactly when the child is on (absorption), more so the stronger the
sparsity penalty.

Here: a toy (n = 6 binary features, 1 − S = 0.1, m = 8 so the toy itself stores every feature
orthogonally) trained on the hierarchical recipe ``--hierarchical-sets 0,1 2,3 --child-probability
0.5``; then ReLU + L1 SAEs with 6 latents on its hidden activations h = W x, one per L1 coefficient
and seed, all trained together (:func:`animsup.sae`). Measured per coefficient: the absorption of
each (parent, child) pair (:mod:`animsup.analysis.sae_metrics`), the matched cosine (beside its chance
baseline: random unit decoders of the same shape against the same columns), L0, shrinkage.

Writes to outputs/absorption/: toy.jsonl, absorption.json, absorption.png; the full run also
writes docs/results/absorption.json (the table in docs/figures.md: ``docs_table()``) and
docs/img/absorption.png. --quick: fewer steps, 2 coefficients, 1 seed.

    .venv/bin/python scripts/absorption.py [--quick]
"""

from __future__ import annotations

import json
import os
import shutil

import _common as c
import numpy as np

RESULTS = os.path.join(c.ROOT, "docs", "results", "absorption.json")
IMAGE = os.path.join(c.ROOT, "docs", "img", "absorption.png")


def toy_config(quick: bool):
    from animsup.train.config import TrainConfig

    return TrainConfig(n_features=6, n_hidden=8, data="binary", feature_probability=[0.1], importance="constant",
                       hierarchical_sets=[[0, 1], [2, 3]], child_probability=0.5, steps=400 if quick else 2000,
                       snapshots=5, seeds=[0], threads=1).validate()


def main() -> int:
    import animsup

    args = c.parser("absorption", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    log = c.train_or_reuse(toy_config(args.quick), os.path.join(args.out, "toy.jsonl"), retrain=args.retrain)
    l1 = [0.003, 0.1] if args.quick else [0.001, 0.003, 0.01, 0.03, 0.1]
    seeds = [0] if args.quick else [0, 1, 2]
    c.say(f"SAEs: L1 {l1}, seeds {seeds}")
    res = animsup.sae(log, n_latents=6, l1=l1, seeds=seeds, steps=200 if args.quick else 1500, batch_size=512,
                      eval_samples=8192)
    rows = []
    for j, v in enumerate(res.values):
        ab = res.absorption[0, j]  # [seed, pair]
        rows.append({"l1": v, "absorption": float(np.nanmean(ab)), "absorption_per_pair": np.nanmean(ab, 0).tolist(),
                     "matched": float(res.matched[0, j].mean()), "matched_chance": float(res.matched_chance[0, j].mean()),
                     "l0": float(res.l0[0, j].mean()),
                     "shrinkage": float(res.shrinkage[0, j].mean()), "dead": float(res.dead[0, j].mean())})
        r = rows[-1]
        c.say(f"  L1={v:<6g} absorption {r['absorption']:.3f}  matched cos {r['matched']:.3f}  L0 {r['l0']:.2f}  "
              f"shrinkage {r['shrinkage']:.3f}")
    out = {"toy": toy_config(args.quick).to_dict(), "pairs": [list(p) for p in res.pairs], "seeds": seeds, "rows": rows,
           "grows": bool(rows[-1]["absorption"] > rows[0]["absorption"])}
    path = os.path.join(args.out, "absorption.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    png = figure(rows, os.path.join(args.out, "absorption.png"))
    if not args.quick:
        shutil.copyfile(path, RESULTS)
        shutil.copyfile(png, IMAGE)
    return 0


def figure(rows: list, path: str) -> str:
    fig = c.figure(8, 3)
    x = [r["l1"] for r in rows]
    ax = fig.add_axes((0.08, 0.17, 0.38, 0.7))
    ax.semilogx(x, [r["absorption"] for r in rows], "o-", color="C3")
    ax.set_xlabel("L1 coefficient")
    ax.set_ylabel("absorption rate")
    ax.set_title("parent latent off when the child is on", fontsize=9)
    ax2 = fig.add_axes((0.58, 0.17, 0.38, 0.7))
    ax2.semilogx(x, [r["matched"] for r in rows], "o-", color="C0", label="matched cosine")
    ax2.semilogx(x, [r["shrinkage"] for r in rows], "o-", color="C2", label="shrinkage ‖ĥ‖/‖h‖")
    ax2.set_xlabel("L1 coefficient")
    ax2.legend(fontsize=7)
    ax2.set_title("recovery of the toy's columns", fontsize=9)
    return c.save(fig, path)


def docs_table() -> str:
    """The table in docs/figures.md, from docs/results/absorption.json."""
    with open(RESULTS) as f:
        res = json.load(f)
    lines = ["| L1 | absorption (mean) | per pair " + ", ".join(f"({a},{b})" for a, b in res["pairs"]) +
             " | matched cosine (chance) | L0 | shrinkage | dead |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        per = ", ".join(f"{v:.2f}" for v in r["absorption_per_pair"])
        lines.append(f"| {r['l1']:g} | {r['absorption']:.3f} | {per} | {r['matched']:.3f} ({r['matched_chance']:.3f}) | {r['l0']:.2f} | "
                     f"{r['shrinkage']:.3f} | {r['dead']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    c.main_guard(main)
