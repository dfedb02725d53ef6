"""The scaling-law regime (Liu, Liu, Gore, NeurIPS 2025) at reduced size on the CPU: loss against m.

Liu, Liu, Gore, "Superposition Yields Robust Neural Scaling", NeurIPS 2025 (arXiv:2505.10465; code
github.com/liuyz0/SuperpositionScaling). Their toy: y = ReLU(x W Wᵀ + b), features with frequencies
p_i ∝ i^-α, Σ p_i = 1, values U(0, 2), weight decay γ of either sign as the knob (§2, Eq. 2): γ > 0
keeps few features (weak superposition), γ < 0 pulls every row's norm towards 1 (strong). Their
claims: weak: the loss is the frequency sum of the features left out, α_m ≈ α − 1 for a power law
(§3.1, Result 1, Fig. 4b), no power law for other laws (Fig. 1b); strong: α_m ≈ 1 for flat enough
frequencies (§3.2, Result 2, Figs. 1d, 5e; ≈ 2(α − 1) once that is larger). Their sizes (App. B):
the small toy n = 1,000, m = 10 … 100, batch 2,048, 20,000 steps (exp-10.py); the large toy n =
10,240, m = 8 … 1,024, α = 1.2, γ = −1 (strong) and +0.1 (weak), batch 2,048 (8,192 in exp-17.py),
20,000 steps (40,000 in exp-17.py), lr 0.02 (8/m)^0.25 for W and 2/m for b, 5 % warm-up then cosine
to 5 %; the final loss on 100 batches' worth of fresh samples.

Ours (:mod:`animsup.train.scaling`, the large toy's rules at reduced size; one single-threaded process per law):
n = 512, m = 8, 16, 32, 64 (n/m from 64 to 8; theirs 100 to 10 in the small toy), γ ∈ {+0.3, −1}
(+0.3: the weak regime at this size, chosen by a sweep, see ``WEAK_GAMMA``; the paper's +0.1 keeps far more
than m features here), the power law (α = 1.2; 3,000 steps) and an exponential (scale n / 10.24 = 50:
exp-17.py's 1,000 at n = 10,240; 1,000 steps), batch 1,024. The final loss: the mean training loss over
the last 10 % of the steps (fresh samples), fitted against m by
:func:`animsup.analysis.scaling.fit_power_law`; φ_1/2 (features with ‖W_i‖ > 1/2); the loss curves; the
loss of ideal weak superposition at this n in closed form (:func:`weak_limit_loss`).

Writes outputs/scaling_law/scaling_law.json and scaling_law.png; the full run also writes
docs/results/scaling_law.json (the tables in docs/figures.md: ``docs_table()``, ``docs_cost_table()``)
and docs/img/scaling_law.png. --quick: n = 64, m = 4, 8, 16, γ ∈ {+1, −1}, 100 steps of 64 samples.

--decay-sweep: instead, the sweep that chose the weak decay (writes decay_sweep.json); --seed S: another seed
(a full run with S != 0 leaves docs/ alone).

    .venv/bin/python scripts/scaling_law.py [--quick] [--decay-sweep] [--seed S]
"""

from __future__ import annotations

import json
import os
import shutil

import _common as c

RESULTS = os.path.join(c.ROOT, "docs", "results", "scaling_law.json")
IMAGE = os.path.join(c.ROOT, "docs", "img", "scaling_law.png")
#: the paper's exponents α_m (arXiv:2505.10465) for p_i ∝ i^-1.2 and the exponential law:
#: weak α - 1 = 0.2 (§3.1, Fig. 4b), no power law for the exponential (Fig. 1b); strong ≈ 1 (§3.2, Figs. 1d, 5e)
PREDICTED = {("power", "weak"): 0.2, ("power", "strong"): 1.0, ("exponential", "weak"): None, ("exponential", "strong"): 1.0}
#: the positive decay of the weak regime at n = 512, batch 1,024 (chosen by a sweep of +0.1, +0.3, +1, +3 at
#: m = 16 and 64: +0.3 keeps φ_1/2 = 0.047 and 0.15 against m/n = 0.031 and 0.125; +0.1 keeps 0.20 and 0.60, +1 0.010 and 0.029)
WEAK_GAMMA = 0.3
SWEEP_DECAYS = (0.1, 0.3, 1.0, 3.0)
POWER_STEPS = 3000
SOURCE = {("power", "weak"): "§3.1, Fig. 4b", ("power", "strong"): "§3.2, Figs. 1d, 5e",
          ("exponential", "weak"): "§1, Fig. 1b", ("exponential", "strong"): "§1, Fig. 1d"}


def configs(quick: bool, seed: int = 0) -> dict:
    from animsup.train.scaling import ScalingConfig

    base = dict(n_features=64, ms=[4, 8, 16], steps=100, batch_size=64, gammas=[1.0, -1.0]) if quick else \
        dict(n_features=512, ms=[8, 16, 32, 64], steps=1000, batch_size=1024, gammas=[WEAK_GAMMA, -1.0])
    base["seed"] = seed
    # the power law trained 3x longer: at 1,000 steps its strong-regime losses still fell at m = 32, 64
    power_steps = base["steps"] if quick else POWER_STEPS
    return {"power": ScalingConfig(dist="power", alpha=1.2, **{**base, "steps": power_steps}).validate(),
            "exponential": ScalingConfig(dist="exponential", scale=base["n_features"] / 10.24, **base).validate()}


def weak_limit_loss(p, ms, n: int) -> list[float]:
    """The loss of ideal weak superposition (Liu et al. §3.1): the m most frequent features reconstructed
    exactly, every other one dropped and answered by its mean (the bias b_i = E[x_i] = p_i), so that
    feature i costs Var(x_i) = E[x_i²] − p_i² = (4/3) p_i − p_i² (x_i = u_i v_i, v_i ~ U(0, 2)); the mean
    over the n features. A derivation from the paper's set-up, not a fit: its exponent over a finite range
    of m at finite n is larger than the n → ∞ limit α − 1.

    :param p: (shape: [n]) decreasing feature frequencies; ms: hidden sizes (each < n)
    :return: (length len(ms)) the loss at each m
    """
    return [float(sum(4.0 / 3.0 * q - q * q for q in p[int(m):]) / n) for m in ms]


def run_one(dist: str, cfg) -> tuple[str, dict, list[str]]:
    """Train one frequency law's sweep; its run dict (with the fits) and the lines to print."""
    from animsup.analysis.scaling import fit_power_law
    from animsup.train.scaling import train_scaling

    res = train_scaling(cfg)
    run, lines = res.to_dict(), [f"{dist}: n={cfg.n_features}, m={cfg.ms}, gamma={cfg.gammas}, {cfg.steps} steps"]
    run["fits"] = {}
    from animsup.train.scaling import frequencies

    lim = weak_limit_loss(frequencies(cfg.n_features, cfg.dist, cfg.alpha, cfg.scale, cfg.density), cfg.ms, cfg.n_features)
    run["weak_limit"] = {"loss": lim, **fit_power_law(cfg.ms, lim)}
    for g, gamma in enumerate(cfg.gammas):
        regime = "weak" if gamma >= 0 else "strong"
        fit = fit_power_law(cfg.ms, res.loss[g])
        rest = fit_power_law(cfg.ms[1:], res.loss[g][1:])["exponent"]  # the smallest m left out of the fit
        run["fits"][regime] = {**fit, "exponent_without_smallest": rest, "gamma": gamma, "predicted": PREDICTED[(dist, regime)]}
        lines.append(f"  {regime:6} (gamma={gamma:+g}): loss {[f'{v:.2e}' for v in res.loss[g]]}  "
                     f"phi_1/2 {[round(float(v), 2) for v in res.represented[g]]}  exponent {fit['exponent']:.2f} "
                     f"(r2 {fit['r2']:.3f})")
    return dist, run, lines


def main() -> int:
    from concurrent.futures import ProcessPoolExecutor

    p = c.parser("scaling_law", __doc__)
    p.add_argument("--seed", type=int, default=0,
                   help="another seed (a full run with a seed other than 0 does not replace docs/results and docs/img)")
    p.add_argument("--decay-sweep", action="store_true",
                   help="instead: the sweep that chose WEAK_GAMMA (power law, γ = +0.1, +0.3, +1, +3 at m = 16 and 64)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.decay_sweep:
        return decay_sweep(args)
    out: dict = {"runs": {}}
    cfgs = configs(args.quick, args.seed)
    if args.quick:  # in process: seconds
        done = [run_one(d, cfg) for d, cfg in cfgs.items()]
    else:  # the two laws in two single-threaded processes
        with ProcessPoolExecutor(len(cfgs)) as ex:
            done = list(ex.map(run_one, cfgs.keys(), cfgs.values()))
    for dist, run, lines in done:
        for line in lines:
            c.say(line)
        out["runs"][dist] = run
    path = os.path.join(args.out, "scaling_law.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    png = figure(out, os.path.join(args.out, "scaling_law.png"))
    if not args.quick and args.seed == 0:
        shutil.copyfile(path, RESULTS)
        shutil.copyfile(png, IMAGE)
    return 0


def decay_sweep(args) -> int:
    """The sweep behind ``WEAK_GAMMA``: φ_1/2 against m/n for each positive decay, power law, n = 512, batch 1,024,
    1,000 steps, one m at a time (the settings of the full run); prints it and writes decay_sweep.json."""
    from concurrent.futures import ProcessPoolExecutor

    from animsup.train.scaling import ScalingConfig

    base = dict(n_features=64, ms=[4, 8], steps=50, batch_size=64) if args.quick else \
        dict(n_features=512, ms=[16, 64], steps=1000, batch_size=1024)
    cfgs = [ScalingConfig(**{**base, "ms": [m]}, dist="power", alpha=1.2, gammas=list(SWEEP_DECAYS)).validate()
            for m in base["ms"]]
    if args.quick:
        res = [train_one(cfg) for cfg in cfgs]
    else:
        with ProcessPoolExecutor(len(cfgs)) as ex:
            res = list(ex.map(train_one, cfgs))
    rows = [{"m": cfg.ms[0], "m_over_n": cfg.ms[0] / cfg.n_features, "gamma": gamma, "represented": float(r.represented[g, 0]),
             "loss": float(r.loss[g, 0])} for cfg, r in zip(cfgs, res) for g, gamma in enumerate(cfg.gammas)]
    for row in rows:
        c.say(f"  m={row['m']} (m/n {row['m_over_n']:.3f}) gamma={row['gamma']:+g}: phi_1/2 {row['represented']:.3f}  "
              f"loss {row['loss']:.2e}")
    with open(os.path.join(args.out, "decay_sweep.json"), "w") as f:
        json.dump({"config": base, "rows": rows}, f, indent=1)
    return 0


def train_one(cfg):
    from animsup.train.scaling import train_scaling

    return train_scaling(cfg)


def figure(out: dict, path: str) -> str:
    fig = c.figure(14, 3.4)
    for j, (dist, run) in enumerate(out["runs"].items()):
        ax = fig.add_axes((0.07 + 0.24 * j, 0.15, 0.175, 0.75))
        ms = run["config"]["ms"]
        for g, gamma in enumerate(run["config"]["gammas"]):
            regime = "weak" if gamma >= 0 else "strong"
            fit = run["fits"][regime]
            col = "C0" if regime == "strong" else "C1"
            pred = fit["predicted"]
            ax.loglog(ms, run["loss"][g], "o", color=col,
                      label=f"{regime} (γ={gamma:+g}): α_m={fit['exponent']:.2f}" + ("" if pred is None else f" (paper {pred:g})"))
            ax.loglog(ms, [fit["prefactor"] * m ** -fit["exponent"] for m in ms], "-", color=col, lw=0.8)
        lim = run.get("weak_limit")
        if lim is not None:
            ax.loglog(ms, lim["loss"], "x:", color="gray", ms=4,
                      label=f"ideal weak (first m kept, closed form): α_m={lim['exponent']:.2f}")
        ax.set_xlabel("m")
        ax.set_xticks(ms, [str(m) for m in ms], minor=False)
        ax.set_xticks([], minor=True)
        if j == 0:
            ax.set_ylabel("final loss")
        ax.set_title(f"{dist} frequencies, n = {run['config']['n_features']}, {run['config']['steps']:,} steps", fontsize=8)
        ax.set_ylim(bottom=min(min(v) for v in run["loss"]) / 3)  # room for the legend below the points
        ax.legend(fontsize=6.5, loc="lower left")
    ax = fig.add_axes((0.545, 0.15, 0.19, 0.75))
    for dist, run in out["runs"].items():
        for g, gamma in enumerate(run["config"]["gammas"]):
            ax.loglog(run["config"]["ms"], run["represented"][g], "o-" if gamma < 0 else "s--", label=f"{dist}, γ={gamma:+g}")
    ms = next(iter(out["runs"].values()))["config"]["ms"]
    n = next(iter(out["runs"].values()))["config"]["n_features"]
    ax.loglog(ms, [m / n for m in ms], ":", color="gray", label="m / n (no superposition)")
    ax.set_xlabel("m")
    ax.set_xticks(ms, [str(m) for m in ms], minor=False)
    ax.set_xticks([], minor=True)
    ax.set_ylabel("φ_1/2")
    ax.legend(fontsize=6)
    ax.set_title("features with ‖W_i‖ > 1/2 (φ_1/2; γ < 0 lines overlap)", fontsize=8)
    ax = fig.add_axes((0.79, 0.15, 0.19, 0.75))
    run = out["runs"]["power"]
    for g, gamma in enumerate(run["config"]["gammas"]):
        for k, m in enumerate(run["config"]["ms"]):
            cv = run["curves"][g][k]
            ax.semilogy([(i + 1) / len(cv) for i in range(len(cv))], cv, "-" if gamma < 0 else "--",
                        color=f"C{k}", lw=0.9, label=f"m={m}" if g == 0 else None)
    ax.set_xlabel("fraction of the steps (solid: γ < 0, dashed: γ > 0)", fontsize=7)
    ax.set_ylabel("training loss (window mean)")
    ax.set_title(f"power law: loss curves ({run['config']['steps']:,} steps)", fontsize=9)
    ax.legend(fontsize=6)
    return c.save(fig, path)


def tail_fall(curve) -> float:
    """How much a loss curve (:attr:`ScalingResult.curves`, CURVE_POINTS window means) still fell over the
    last 30 % of the steps: 1 − (last window) / (the window ending at 70 %)."""
    k = round(len(curve) * 0.7) - 1
    return 1.0 - curve[-1] / curve[k]


def docs_table() -> str:
    """The table in docs/figures.md, from docs/results/scaling_law.json."""
    with open(RESULTS) as f:
        out = json.load(f)
    cfg0 = next(iter(out["runs"].values()))["config"]
    ms, n = cfg0["ms"], cfg0["n_features"]
    lines = ["| frequencies | regime (γ) | steps | loss at m = " + ", ".join(str(m) for m in ms) +
             " | φ_1/2 (m/n = " + ", ".join(f"{m / n:.3f}" for m in ms) + ") | loss fall over the last 30 % of steps"
             f" | fitted α_m (r²) | α_m without m = {ms[0]} | ideal weak, closed form at this n (`weak_limit_loss`) | "
             "paper's α_m (source) |",
             "|---|---|---:|---|---|---|---:|---:|---:|---:|"]
    for dist, run in out["runs"].items():
        for g, gamma in enumerate(run["config"]["gammas"]):
            regime = "weak" if gamma >= 0 else "strong"
            fit, pred = run["fits"][regime], PREDICTED[(dist, regime)]
            lim = run.get("weak_limit") if regime == "weak" else None
            lines.append(f"| {dist} | {regime} ({gamma:+g}) | {run['config']['steps']:,} | " +
                         ", ".join(f"{v:.2e}" for v in run["loss"][g]) +
                         " | " + ", ".join(f"{v:.2f}" for v in run["represented"][g]) +
                         " | " + ", ".join(f"{int(round(100 * tail_fall(cv)))} %" for cv in run["curves"][g]) +
                         f" | {fit['exponent']:.2f} ({fit['r2']:.3f}) | {fit['exponent_without_smallest']:.2f} | " +
                         ("—" if lim is None else f"{lim['exponent']:.2f}") + " | " +
                         ("no power law" if pred is None else f"{pred:g}") + f" ({SOURCE[(dist, regime)]}) |")
    return "\n".join(lines)


def memory_bytes(n: int, m: int, batch: int, n_models: int) -> int:
    """Peak bytes of one step of :func:`animsup.train.scaling.train_scaling` (float32), counted from the
    code: per entry of [batch, n], the uniform draw and x (8 bytes), y and the ReLU mask of the G models
    (8 G) and one copy of x in the einsum (4; the data's temporaries are freed by then); W, its gradient
    and Adam's two moments (16 G n m). Checked on the CPU at n = 4,096, m = 64: the peak RSS grew by
    178 MiB from batch 256 to 2,048 (formula 196) and by 79 MiB from G = 1 to 2 (formula 68)."""
    return (8 * n_models + 12) * batch * n + 16 * n_models * n * m


def docs_cost_table() -> str:
    """Time and memory per step at the paper's size, extrapolated from the measured CPU steps of the full run
    (docs/results/scaling_law.json): seconds per step ≈ batch · n · G · (a + c m), a and c fitted."""
    import numpy as np

    with open(RESULTS) as f:
        out = json.load(f)
    t, rows = [], []
    for run in out["runs"].values():
        cfg = run["config"]
        unit = cfg["batch_size"] * cfg["n_features"] * len(cfg["gammas"])
        t += [(m, s / unit) for m, s in zip(cfg["ms"], run["seconds_per_step"])]
    c1, c0 = np.polyfit([m for m, _ in t], [v for _, v in t], 1)
    lines = ["| size | m | s per step (wall, extrapolated) | 20,000 steps | memory (formula) |", "|---|---:|---:|---:|---:|"]
    cfg = next(iter(out["runs"].values()))["config"]
    sizes = [(f"ours: n = {cfg['n_features']}, batch {cfg['batch_size']}, G = 2", cfg["n_features"], cfg["batch_size"], 2)]
    sizes += [(f"paper: n = 10,240, batch {b:,}, G = 1", 10_240, b, 1) for b in (2048, 8192)]
    for name, n, b, g in sizes:
        for m in ((cfg["ms"][0], cfg["ms"][-1]) if n == cfg["n_features"] else (8, 1024)):
            sec = b * n * g * (c0 + c1 * m)
            rows.append(f"| {name} | {m} | {sec:.2f} | {sec * 20_000 / 3600:.1f} h | {memory_bytes(n, m, b, g) / 2**30:.2f} GiB |")
    return "\n".join(lines + rows)


if __name__ == "__main__":
    c.main_guard(main)
