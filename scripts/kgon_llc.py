"""Chen et al. 2023's k-gon critical points of the 6→2 toy model, their LLCs by animsup's batched
estimator, and SGD trajectories stepping down the k-gon loss levels while the LLC steps up.

Set-up of Chen, Lau, Mendel, Wei & Murfet 2023, "Dynamical versus Bayesian phase transitions in a
toy model of superposition" (arXiv:2310.06301): c = 6 features, r = 2 hidden dimensions, the tied
ReLU model with bias, the high-sparsity law (exactly one feature on, its value U[0, 1]) and the loss
E ||x − ReLU(WᵀWx + b)||² summed over features (animsup: importance 6 with the mean reduction).

1. The k-gons (4, 4+, 4++, 5, 5+, 6: k features on a regular k-gon, "+" a dead feature with a
   positive bias) found by gradient descent on the exact population loss (Gauss–Legendre
   quadrature over the value) from the symmetric ansatz; their losses against the paper's.
2. The LLC of the 5-, 5+- and 6-gon (a log with one instance each; ``animsup.measure`` on a fixed
   data set of n = 5000 samples, nβ = n / ln n) against the paper's theory and estimates.
3. SGD from a 4-gon + N(0, 0.01²) noise (the paper's Sec. 5 protocol) on the same data set: the
   population loss at log-spaced snapshots against the k-gon levels, the LLC at each snapshot, and
   essential dynamics (PC1/PC2 of each trajectory) with the loss drops and LLC jumps marked.

Reference values (Chen et al. 2023; the losses of Sec. 4 and the LLCs of App. K, Table K.1, n = 5000,
as transcribed in a public reproduction — check against the paper before quoting):
"""

from __future__ import annotations

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402
import numpy as np  # noqa: E402

#: population losses of the k-gon critical points (Chen et al. 2023, Sec. 4)
PAPER_LOSS = {"4": 1 / 9, "4+": 0.10417, "4++": 0.09722, "5": 0.06874, "5+": 0.06180, "6": 0.04819}
#: theoretical LLCs and the paper's SGLD estimates at n = 5000 (Chen et al. 2023, App. K, Table K.1)
PAPER_LLC = {"5": 7.0, "5+": 8.5, "6": 8.5}
PAPER_LLC_HAT = {"5": 7.705, "5+": 9.906, "6": 9.027}
KGONS = [("4", 4, 0), ("4+", 4, 1), ("4++", 4, 2), ("5", 5, 0), ("5+", 5, 1), ("6", 6, 0)]
N_FEATURES = 6
LR = 0.02  # SGD's step size in part 3
__doc__ += "\n".join(f"    {k}-gon: loss {PAPER_LOSS[k]:.5f}" + (f", LLC {PAPER_LLC[k]} (estimate {PAPER_LLC_HAT[k]})" if k in PAPER_LLC else "")
                     for k, _, _ in KGONS) + "\n"


def population_loss(W, b, nodes: int = 256):
    """The high-sparsity population loss (shape: [S]) of W (shape: [S, 2, 6]), b (shape: [S, 6]) (torch):
    (1/c) Σ_i ∫₀¹ Σ_j (ReLU(μ (WᵀW)_ji + b_j) − μ δ_ij)² dμ, by Gauss–Legendre quadrature."""
    import torch

    x, w = np.polynomial.legendre.leggauss(nodes)
    mu = torch.as_tensor((x + 1) / 2, dtype=W.dtype)
    wt = torch.as_tensor(w / 2, dtype=W.dtype)
    G = W.transpose(1, 2) @ W                                        # [S, j, i]
    out = torch.relu(mu[:, None, None, None] * G[None] + b[None, :, :, None])    # [q, S, j, i]
    err = out - mu[:, None, None, None] * torch.eye(N_FEATURES, dtype=W.dtype)
    return (wt[:, None] * (err ** 2).sum(2).mean(2)).sum(0)


def kgon_ansatz(k: int, n_pos: int):
    W = np.zeros((2, N_FEATURES))
    th = 2 * np.pi * np.arange(k) / k
    W[:, :k] = np.stack([np.cos(th), np.sin(th)])
    b = np.full(N_FEATURES, -1.0)
    b[:k] = -0.5 * max(0.0, math.cos(2 * math.pi / k))    # a negative bias hides the neighbours' interference
    b[k : k + n_pos] = 0.1
    return W, b


def critical_points(steps: int):
    """The k-gons of :data:`KGONS` relaxed together (one batched tensor) by full-batch Adam on the
    population loss (the symmetric ansatz stays symmetric). :return: name -> (W, b, loss, gradient norm)."""
    import torch

    W0, b0 = zip(*(kgon_ansatz(k, n_pos) for _, k, n_pos in KGONS))
    W = torch.tensor(np.stack(W0), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(np.stack(b0), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        population_loss(W, b).sum().backward()
        opt.step()
    L = population_loss(W, b)
    gW, gb = torch.autograd.grad(L.sum(), [W, b])
    gn = torch.cat([gW.flatten(1), gb], 1).norm(dim=1)
    return {name: (W.detach()[i].numpy(), b.detach()[i].numpy(), float(L[i].detach()), float(gn[i]))
            for i, (name, _, _) in enumerate(KGONS)}


def high_sparsity_data(n: int, seed: int) -> np.ndarray:
    """(shape: [n, 6]) float32: one feature on per sample, its value U[0, 1)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, N_FEATURES), np.float32)
    x[np.arange(n), rng.integers(0, N_FEATURES, n)] = rng.random(n, dtype=np.float32)
    return x


def header_kw(k: int):
    return dict(model="tied", importance=np.full((k, N_FEATURES), float(N_FEATURES)),
                feature_probability=np.full((k, N_FEATURES), 1 / N_FEATURES), data={"kind": "exactly_k", "k": 1},
                config={"loss_reduction": "mean", "note": "Chen et al. 2023 set-up: loss summed over features"})


def sgd_trajectories(X: np.ndarray, seeds: int, steps: int, snapshots: int, lr: float, batch: int):
    """SGD from a 4-gon + N(0, 0.01²) noise on the data set X; snapshots at log-spaced steps.
    :return: steps [T], W [T, S, 2, 6], b [T, S, 6], population loss [T, S]"""
    import torch

    from animsup.train.model import forward, loss_fn

    g = torch.Generator().manual_seed(0)
    W0, b0 = kgon_ansatz(4, 0)
    b0[4:] = 0.0
    W = (torch.tensor(W0, dtype=torch.float32) + 0.01 * torch.randn(seeds, 2, N_FEATURES, generator=g)).requires_grad_(True)
    b = (torch.tensor(b0, dtype=torch.float32) + 0.01 * torch.randn(seeds, N_FEATURES, generator=g)).requires_grad_(True)
    Xt = torch.as_tensor(X)
    imp = torch.full((N_FEATURES,), float(N_FEATURES))
    at = np.unique(np.round(np.geomspace(1, steps, snapshots - 1)).astype(int))
    at = np.concatenate([[0], at])
    rec_W, rec_b = [], []
    for s in range(steps + 1):
        if s in set(at.tolist()):
            rec_W.append(W.detach().clone())
            rec_b.append(b.detach().clone())
        if s == steps:
            break
        idx = torch.randint(0, len(Xt), (seeds, batch), generator=g)
        x = Xt[idx].transpose(1, 2)
        loss = loss_fn(forward(x, W, b), x, imp).sum()
        gW, gb = torch.autograd.grad(loss, [W, b])
        with torch.no_grad():
            W -= lr * gW
            b -= lr * gb
    Ws, bs = torch.stack(rec_W), torch.stack(rec_b)
    pop = population_loss(Ws.double().reshape(-1, 2, N_FEATURES), bs.double().reshape(-1, N_FEATURES), 128)
    return at, Ws.numpy(), bs.numpy(), pop.reshape(len(at), seeds).numpy()


def main() -> int:
    import animsup
    from animsup.analysis.events import loss_drops
    from animsup.analysis.landscape import align_jumps_with_loss_drops, llc_jumps
    from animsup.log.measurements import write_measurements
    from animsup.log.recorder import from_arrays

    args = C.parser("kgon_llc", __doc__).parse_args()
    os.makedirs(args.out, exist_ok=True)
    q = args.quick
    n = 5000
    nbeta = n / math.log(n)
    X = high_sparsity_data(n, seed=1)

    C.say("1. k-gon critical points (population loss, Chen et al. 2023 Sec. 4)")
    crit = critical_points(300 if q else 2500)
    rows = []
    for name, (W, b, L, gn) in crit.items():
        rows.append({"kgon": name, "loss": L, "paper_loss": PAPER_LOSS[name], "grad_norm": gn,
                     "radius": float(np.linalg.norm(W, axis=0).max())})
        C.say(f"  {name:4s} loss {L:.5f}  (paper {PAPER_LOSS[name]:.5f})  |grad| {gn:.1e}")

    C.say("2. LLC of the 5-, 5+- and 6-gon (animsup.measure, fixed data set n = 5000, nβ = n/ln n)")
    names = ["5", "5+", "6"]
    llc_cfg = {"lr": 1e-4, "localization": 1.0, "nbeta": nbeta, "chains": 2 if q else 4, "draws": 60 if q else 2000,
               "burnin": 60 if q else 1000, "batch_size": 500, "seed": 0}
    W = np.stack([crit[k][0] for k in names])[None]
    b = np.stack([crit[k][1] for k in names])[None]
    log = os.path.join(args.out, "kgons.jsonl")
    from_arrays(W, b=b, path=log, overwrite=True, **header_kw(len(names)))
    m = animsup.measure(log, llc_cfg, data=X)
    write_measurements(log, m)
    llc_rows = [{"kgon": k, "llc_mean": float(m.llc_mean[0, j]), "llc_std": float(m.llc_std[0, j]),
                 "settled": bool(m.llc["settled"][0, j]), "paper_theory": PAPER_LLC[k], "paper_estimate": PAPER_LLC_HAT[k]}
                for j, k in enumerate(names)]
    for r in llc_rows:
        C.say(f"  {r['kgon']:3s} LLC {r['llc_mean']:.2f} ± {r['llc_std']:.2f}  (paper: theory {r['paper_theory']}, "
              f"estimate {r['paper_estimate']})")
    order_ok = llc_rows[0]["llc_mean"] < min(llc_rows[1]["llc_mean"], llc_rows[2]["llc_mean"])

    C.say("3. SGD from a 4-gon (Chen et al. Sec. 5) and the LLC along the way")
    seeds, steps = (3, 800) if q else (12, 12000)
    at, Ws, bs, pop = sgd_trajectories(X, seeds, steps, 8 if q else 30, lr=LR, batch=100)
    traj = os.path.join(args.out, "sgd.jsonl")
    from_arrays(Ws, b=bs, loss=pop, steps=at, path=traj, overwrite=True, **header_kw(seeds))
    sgd_cfg = {**llc_cfg, "draws": 30 if q else 500, "burnin": 30 if q else 500}
    ms = animsup.measure(traj, sgd_cfg, data=X, pca=2)
    write_measurements(traj, ms)       # the sidecar: `animsup render sgd.jsonl --panels llc` shows it
    levels = {k: v for k, v in PAPER_LOSS.items()}
    near = [[min(levels, key=lambda k: abs(levels[k] - v)) if min(abs(np.array(list(levels.values())) - v)) < 2e-3 else ""
             for v in pop[:, s]] for s in range(seeds)]
    jumps = []
    for s in range(seeds):
        drops = loss_drops(at, pop[:, s], min_drop=0.05) if len(at) >= 20 else []
        js = align_jumps_with_loss_drops(llc_jumps(at, ms.llc_mean[:, s], ms.llc_std[:, s], sgd_cfg["chains"]), drops)
        jumps.append([j.to_dict() for j in js])
    final_vs_start = [float(ms.llc_mean[-1, s] - ms.llc_mean[0, s]) for s in range(seeds)]
    _figure(args.out, at, pop, ms, llc_rows, crit, jumps)
    res = {"paper": "Chen, Lau, Mendel, Wei, Murfet 2023, arXiv:2310.06301", "critical_points": rows,
           "llc_settings": {k: v for k, v in m.llc["settings"].items()}, "llc": llc_rows, "llc_order_5_below_5plus_and_6": bool(order_ok),
           "sgd": {"seeds": seeds, "steps": steps, "lr": LR, "batch": 100, "near_levels": near,
                   "llc_rise_start_to_end": final_vs_start, "llc_jumps": jumps,
                   "loss_start": pop[0].tolist(), "loss_end": pop[-1].tolist()}, "quick": q}
    with open(os.path.join(args.out, "kgon_llc.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
    C.say(f"  LLC rises from start to end in {sum(d > 0 for d in final_vs_start)}/{seeds} trajectories")
    return 0


def _figure(out, at, pop, ms, llc_rows, crit, jumps) -> None:
    fig = C.figure(13, 4.2)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    x = np.maximum(at, 1)
    for s in range(pop.shape[1]):
        ax1.plot(x, pop[:, s], lw=1, alpha=0.8)
        ax2.plot(x, ms.llc_mean[:, s], lw=1, alpha=0.8)
        comps = ms.pca["components"][s]
        ax3.plot(comps[:, 0], comps[:, 1], lw=1, alpha=0.8)
        for j in jumps[s]:
            t = int(np.searchsorted(at, j["step"]))
            ax3.plot(comps[t, 0], comps[t, 1], "k^", ms=4)
            ax2.plot(max(j["step"], 1), ms.llc_mean[t, s], "k^", ms=4)
    for name, v in PAPER_LOSS.items():
        ax1.axhline(v, color="0.6", lw=0.6, ls="--")
        ax1.text(x[-1], v, f" {name}", va="center", fontsize=7, color="0.3")
    for r in llc_rows:
        ax2.axhline(r["llc_mean"], color="0.6", lw=0.6, ls=":")
        ax2.text(x[-1], r["llc_mean"], f" {r['kgon']}-gon", va="center", fontsize=7, color="0.3")
    ax1.set(xscale="log", xlabel="SGD step", ylabel="population loss", title="loss vs the k-gon levels (Chen et al.)")
    ax2.set(xscale="log", xlabel="SGD step", ylabel="LLC estimate", title="LLC at each snapshot (▲ jumps)")
    ax3.set(xlabel="PC1", ylabel="PC2", title="essential dynamics (▲ LLC jumps)")
    fig.tight_layout()
    C.save(fig, os.path.join(out, "kgon_llc.png"))


DOCS_JSON = os.path.join(C.ROOT, "docs", "results", "kgon_llc.json")


def docs_table(path: str = DOCS_JSON) -> str:
    """The k-gon losses and LLCs of a committed result file against Chen et al. 2023's."""
    with open(path, encoding="utf-8") as f:
        res = json.load(f)
    lines = ["| k-gon | population loss (ours) | Chen et al. | ‖gradient‖ |", "|---|---|---|---|"]
    for r in res["critical_points"]:
        lines.append(f"| {r['kgon']} | {r['loss']:.5f} | {r['paper_loss']:.5f} | {r['grad_norm']:.1e} |")
    s = res["llc_settings"]
    lines += ["", f"LLC settings: ε = {s['lr']:g}, γ = {s['localization']:g}, nβ = {s['nbeta']:.1f} (n = 5000, n/ln n), "
              f"{s['chains']} chains × {s['draws']} draws after {s['burnin']} burn-in steps, batch {s['batch_size']}; "
              f"{s['data']}.", "",
              "| k-gon | LLC (ours, mean ± std) | settled | Chen et al.: theory | Chen et al.: estimate (n = 5000) |",
              "|---|---|---|---|---|"]
    for r in res["llc"]:
        lines.append(f"| {r['kgon']} | {r['llc_mean']:.2f} ± {r['llc_std']:.2f} | {'yes' if r['settled'] else 'no'} | "
                     f"{r['paper_theory']} | {r['paper_estimate']} |")
    g = res["sgd"]
    rise = sum(d > 0 for d in g["llc_rise_start_to_end"])
    lines += ["", f"SGD ({g['seeds']} seeds, {g['steps']:,} steps, lr {g['lr']}, batch {g['batch']}, from a 4-gon + N(0, 0.01²)): "
              f"the LLC at the last snapshot is above the first in {rise} of {g['seeds']} trajectories; final losses "
              f"{min(g['loss_end']):.4f}–{max(g['loss_end']):.4f}."]
    return "\n".join(lines)


if __name__ == "__main__":
    C.main_guard(main)
