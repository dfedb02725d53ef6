"""The scaling-law regime (Liu, Liu, Gore, NeurIPS 2025) at reduced size on the CPU: loss against m.

Liu, Liu, Gore, "Superposition Yields Robust Neural Scaling", NeurIPS 2025 (arXiv:2505.10465; code
github.com/liuyz0/SuperpositionScaling, exp/exp-17.py). Their toy: y = ReLU(x W Wᵀ + b), n features
with frequencies p_i ∝ i^-α (α = 1.2 in the large run) or exponential, Σ p_i = 1, values U(0, 2),
weight decay γ of either sign as the knob: γ > 0 keeps few features (weak superposition), γ < 0 pulls
every feature's norm towards 1 (strong superposition). Their claims: in the weak regime the loss
follows the frequencies of the features left out, L ∝ m^-(α-1) for a power law (no power law at all
for other laws); in the strong regime L ∝ 1/m (α_m ≈ 1) whatever the law. Their large run: n =
10,240, m = 8 … 1,024, batch 8,192, 40,000 steps (bench/gpu/scaling.py times that size).

Ours (:mod:`animsup.train.scaling`): n = 1,024, m = 8, 16, 32, 64, 128, γ ∈ {−1, +1}, the power law
(α = 1.2) and an exponential (scale 100, their 1,000 at 10× our n), batch 256, 1,000 steps, their
learning rates and schedule. The final loss (mean over the last 10 % of the steps) against m, fitted
by :func:`animsup.analysis.scaling.fit_power_law`, and φ_1/2 (features with ‖W_i‖ > 1/2).

Writes outputs/scaling_law/scaling_law.json and scaling_law.png; the full run also writes
docs/results/scaling_law.json (the table in docs/figures.md: ``docs_table()``) and
docs/img/scaling_law.png. --quick: n = 64, m = 4, 8, 16, 100 steps of 64 samples.

    .venv/bin/python scripts/scaling_law.py [--quick]
"""

from __future__ import annotations

import json
import os
import shutil

import _common as c

RESULTS = os.path.join(c.ROOT, "docs", "results", "scaling_law.json")
IMAGE = os.path.join(c.ROOT, "docs", "img", "scaling_law.png")
#: the paper's predicted exponents α_m (arXiv:2505.10465): weak = α - 1 for p_i ∝ i^-α, strong ≈ 1
PREDICTED = {("power", "weak"): 0.2, ("power", "strong"): 1.0, ("exponential", "weak"): None, ("exponential", "strong"): 1.0}


def configs(quick: bool) -> dict:
    from animsup.train.scaling import ScalingConfig

    base = dict(n_features=64, ms=[4, 8, 16], steps=100, batch_size=64) if quick else \
        dict(n_features=1024, ms=[8, 16, 32, 64, 128], steps=1000, batch_size=256)
    return {"power": ScalingConfig(dist="power", alpha=1.2, gammas=[1.0, -1.0], **base).validate(),
            "exponential": ScalingConfig(dist="exponential", scale=base["n_features"] / 10.24, gammas=[1.0, -1.0],
                                         **base).validate()}


def main() -> int:
    from animsup.analysis.scaling import fit_power_law
    from animsup.train.scaling import train_scaling

    args = c.parser("scaling_law", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    out: dict = {"runs": {}}
    for dist, cfg in configs(args.quick).items():
        c.say(f"{dist}: n={cfg.n_features}, m={cfg.ms}, gamma={cfg.gammas}, {cfg.steps} steps")
        res = train_scaling(cfg)
        run = res.to_dict()
        run["fits"] = {}
        for g, gamma in enumerate(cfg.gammas):
            regime = "weak" if gamma >= 0 else "strong"
            fit = fit_power_law(cfg.ms, res.loss[g])
            run["fits"][regime] = {**fit, "gamma": gamma, "predicted": PREDICTED[(dist, regime)]}
            c.say(f"  {regime:6} (gamma={gamma:+g}): loss {[f'{v:.2e}' for v in res.loss[g]]}  "
                  f"phi_1/2 {[round(float(v), 2) for v in res.represented[g]]}  exponent {fit['exponent']:.2f} "
                  f"(r2 {fit['r2']:.3f})")
        out["runs"][dist] = run
    path = os.path.join(args.out, "scaling_law.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    png = figure(out, os.path.join(args.out, "scaling_law.png"))
    if not args.quick:
        shutil.copyfile(path, RESULTS)
        shutil.copyfile(png, IMAGE)
    return 0


def figure(out: dict, path: str) -> str:
    fig = c.figure(11, 3.4)
    for j, (dist, run) in enumerate(out["runs"].items()):
        ax = fig.add_axes((0.08 + 0.32 * j, 0.15, 0.23, 0.75))
        ms = run["config"]["ms"]
        for g, gamma in enumerate(run["config"]["gammas"]):
            regime = "weak" if gamma >= 0 else "strong"
            fit = run["fits"][regime]
            col = "C0" if regime == "strong" else "C1"
            ax.loglog(ms, run["loss"][g], "o", color=col, label=f"{regime} (γ={gamma:+g}): α_m={fit['exponent']:.2f}")
            ax.loglog(ms, [fit["prefactor"] * m ** -fit["exponent"] for m in ms], "-", color=col, lw=0.8)
        ax.set_xlabel("m")
        ax.set_ylabel("loss")
        ax.set_title(f"{dist} frequencies", fontsize=9)
        ax.legend(fontsize=7)
    ax = fig.add_axes((0.74, 0.15, 0.24, 0.75))
    for dist, run in out["runs"].items():
        for g, gamma in enumerate(run["config"]["gammas"]):
            ax.semilogx(run["config"]["ms"], run["represented"][g], "o-" if gamma < 0 else "s--",
                        label=f"{dist}, γ={gamma:+g}")
    ax.set_xlabel("m")
    ax.set_ylabel("φ_1/2")
    ax.legend(fontsize=6)
    ax.set_title("features with ‖W_i‖ > 1/2 (φ_1/2)", fontsize=9)
    return c.save(fig, path)


def docs_table() -> str:
    """The table in docs/figures.md, from docs/results/scaling_law.json."""
    with open(RESULTS) as f:
        out = json.load(f)
    lines = ["| frequencies | regime (γ) | loss at m = " + ", ".join(str(m) for m in next(iter(out["runs"].values()))["config"]["ms"]) +
             " | φ_1/2 | fitted α_m (r²) | paper's α_m |", "|---|---|---|---|---:|---:|"]
    for dist, run in out["runs"].items():
        for g, gamma in enumerate(run["config"]["gammas"]):
            regime = "weak" if gamma >= 0 else "strong"
            fit = run["fits"][regime]
            pred = "no power law" if fit["predicted"] is None else f"{fit['predicted']:g}"
            lines.append(f"| {dist} | {regime} ({gamma:+g}) | " + ", ".join(f"{v:.2e}" for v in run["loss"][g]) +
                         " | " + ", ".join(f"{v:.2f}" for v in run["represented"][g]) +
                         f" | {fit['exponent']:.2f} ({fit['r2']:.3f}) | {pred} |")
    return "\n".join(lines)


if __name__ == "__main__":
    c.main_guard(main)
