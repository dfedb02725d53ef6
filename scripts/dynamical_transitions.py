"""Chen et al. 2023's dynamical transitions: SGD on the 6→2 toy model from a 4-gon, plateaus at the
k-gon critical points' losses, and the LLC stepping up when the loss steps down.

Set-up of Chen, Lau, Mendel, Wei & Murfet 2023, "Dynamical versus Bayesian phase transitions in a
toy model of superposition" (arXiv:2310.06301), Sec. 5, as transcribed by a public reproduction
(its experiment 10 (d): "n = 1000 samples, batch 20, lr 0.005, 4500 epochs, from a 4-gon plus
N(0, 0.01²) noise, with an LLC estimate at every 30th epoch (ε = 10⁻³, γ = 1, 500 steps)"; not yet
checked against the PDF): c = 6 features, r = 2, the tied ReLU model with bias, the high-sparsity
law (exactly one feature on, its value U[0, 1]) and the loss summed over features, as in
scripts/kgon_llc.py (which checks the k-gon losses against the paper's Sec. 4 to 5 decimals).

- Training: ``seeds`` runs batched in one tensor, plain SGD (no momentum, no weight decay) with
  reshuffled mini-batches on ONE fixed training set of n = 1000 samples (every seed shares it; seeds
  differ in the init noise and the batch order). Start: 4 unit columns at 90° with bias 0, the other
  two columns 0 with bias 0, plus N(0, 0.01²) on all 18 parameters. The gradient is written out
  (``sgd_step``; checked against torch autograd in the tests) because per-step autograd overhead
  dominates at this size.
- Snapshots every ``every`` epochs and at the steps :data:`EARLY`; their population loss (quadrature, kgon_llc.population_loss).
- A snapshot is at a k-gon level when its population loss is within ``TOL`` of one of the paper's
  six levels; a plateau is ≥ ``MIN_RUN`` consecutive snapshots at one level (plateaus of one level
  separated by a short transit are merged); a transition is two consecutive plateaus at different
  levels. Each plateau is named by the level and by animsup's shape name of W at its middle.
- LLC: ``animsup.measure`` of every seed at every snapshot on the training set (ε = 10⁻³, γ = 1,
  nβ = n / ln n, 2 chains × 500 draws, no burn-in, mini-batches of 100); the LLC of a plateau is
  the mean over its snapshots; a transition's LLC step is the later plateau's minus the earlier's.
"""

from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402
import numpy as np  # noqa: E402

N_FEATURES = 6
#: the SGD protocol (Chen et al. 2023 Sec. 5 via the public reproduction; module docstring)
PAPER_SGD = {"n": 1000, "batch": 20, "lr": 0.005, "epochs": 4500, "init_noise": 0.01, "llc_every_epochs": 30}
#: the LLC settings along the trajectory (same source); batch_size and chains are ours
LLC_CFG = {"lr": 1e-3, "localization": 1.0, "chains": 2, "draws": 500, "burnin": 0, "batch_size": 100, "seed": 0}
#: |population loss − level| for "at a k-gon level": under a third of the closest levels' gap (0.0069).
#: The reproduction's 3e-4 misses our plateaus: on one finite training set they sit 3e-4 to 1e-3 above
#: the population critical points' losses (the SGD settles at the empirical loss's critical point)
TOL = 2e-3
#: extra snapshot steps: the first plateau (the 4-gon) lasts well under an epoch
EARLY = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 700, 1000)
MIN_RUN = 3     # snapshots in a row for a plateau
MAX_GAP = 2     # a transit of at most this many snapshots between two plateaus of one level is merged


def init_params(seeds: int, noise: float, seed: int = 0):
    """The 4-gon start (W: [S, 2, 6], b: [S, 6], float32 torch): columns 0-3 unit vectors at 0°, 90°,
    180°, 270°, columns 4-5 zero, b = 0; plus N(0, noise²) on every parameter."""
    import torch

    g = torch.Generator().manual_seed(seed)
    W0 = torch.zeros(2, N_FEATURES)
    th = torch.arange(4) * (math.pi / 2)
    W0[0, :4], W0[1, :4] = torch.cos(th), torch.sin(th)
    W = W0 + noise * torch.randn(seeds, 2, N_FEATURES, generator=g)
    b = noise * torch.randn(seeds, N_FEATURES, generator=g)
    return W, b


def sgd_step(W, b, x, lr: float):
    """One plain SGD step in place on the loss (1/B) Σ_batch Σ_features (ReLU(WᵀWx + b) − x)², each seed
    on its own batch. W: [S, 2, c], b: [S, c], x: [S, c, B] (torch). :return: the batch loss [S]."""
    import torch

    B = x.shape[2]
    h = torch.bmm(W, x)                                               # [S, 2, B]
    z = torch.baddbmm(b.unsqueeze(2), W.transpose(1, 2), h)           # [S, c, B]
    r = torch.relu(z) - x
    loss = (r * r).sum((1, 2)) / B
    G = r.mul_(z > 0).mul_(2.0 / B)                                   # dL/dz
    gW = torch.bmm(h, G.transpose(1, 2)).add_(torch.bmm(torch.bmm(W, G), x.transpose(1, 2)))
    W.sub_(lr * gW)
    b.sub_(lr * G.sum(2))
    return loss


def train(X: np.ndarray, seeds: int, epochs: int, every: int, *, batch: int, lr: float, noise: float, seed: int = 0):
    """SGD of ``seeds`` runs on the training set X (shape: [n, 6]).
    :return: SGD steps [T] (every ``every`` epochs and at :data:`EARLY`), W [T, S, 2, 6], b [T, S, 6] (float32 numpy)"""
    import torch

    W, b = init_params(seeds, noise, seed)
    g = torch.Generator().manual_seed(seed + 1)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    n = len(Xt)
    per_epoch = n // batch
    at, rec_W, rec_b = [], [], []
    early = set(EARLY)
    for ep in range(epochs):
        xs = Xt[torch.argsort(torch.rand(seeds, n, generator=g), 1)].transpose(1, 2).contiguous()   # [S, 6, n]
        for s in range(per_epoch):
            step = ep * per_epoch + s
            if step % (every * per_epoch) == 0 or step in early:
                at.append(step)
                rec_W.append(W.clone())
                rec_b.append(b.clone())
            sgd_step(W, b, xs[:, :, s * batch:(s + 1) * batch], lr)
    at.append(epochs * per_epoch)
    rec_W.append(W.clone())
    rec_b.append(b.clone())
    return np.array(at), torch.stack(rec_W).numpy(), torch.stack(rec_b).numpy()


def level_labels(loss: np.ndarray, levels: dict, tol: float = TOL) -> list:
    """The k-gon level of each value of ``loss`` (shape: [T]) within ``tol`` of one, else ""."""
    names, vals = list(levels), np.array(list(levels.values()))
    out = []
    for v in loss:
        d = np.abs(vals - v)
        out.append(names[int(d.argmin())] if d.min() < tol else "")
    return out


def plateaus(labels: list, min_run: int = MIN_RUN, max_gap: int = MAX_GAP) -> list:
    """Plateaus of a label sequence: [(level, first index, last index)], runs of ≥ ``min_run`` equal
    non-empty labels; two plateaus of one level with ≤ ``max_gap`` other labels between them merge."""
    runs, i = [], 0
    while i < len(labels):
        j = i
        while j + 1 < len(labels) and labels[j + 1] == labels[i]:
            j += 1
        if labels[i] and j - i + 1 >= min_run:
            if runs and runs[-1][0] == labels[i] and i - runs[-1][2] - 1 <= max_gap:
                runs[-1] = (labels[i], runs[-1][1], j)
            else:
                runs.append((labels[i], i, j))
        i = j + 1
    return runs


def analyse(at, W, pop, llc, levels) -> list:
    """Per seed: its plateaus (level, epochs, LLC mean, shape name) and transitions."""
    from animsup.analysis.geometry import describe

    seeds = []
    for s in range(pop.shape[1]):
        ps = []
        for name, i, j in plateaus(level_labels(pop[:, s], levels)):
            mid = (i + j) // 2
            ps.append({"level": name, "from_step": int(at[i]), "to_step": int(at[j]), "snapshots": j - i + 1,
                       "loss": float(np.mean(pop[i:j + 1, s])), "offset": float(np.mean(pop[i:j + 1, s]) - levels[name]),
                       "llc": float(np.nanmean(llc[i:j + 1, s])),
                       "shape": describe(W[mid, s]).shape, "mid": mid})
        trans = [{"from": a["level"], "to": c["level"], "step": c["from_step"], "loss_down": c["loss"] < a["loss"],
                  "llc_step": c["llc"] - a["llc"]} for a, c in zip(ps, ps[1:])]
        seeds.append({"plateaus": ps, "transitions": trans})
    return seeds


def main() -> int:
    import kgon_llc as K
    import torch

    import animsup
    from animsup.errors import AnimsupError
    from animsup.log.measurements import read_measurements, write_measurements
    from animsup.log.reader import read_log
    from animsup.log.recorder import from_arrays

    p = C.parser("dynamical_transitions", __doc__)
    p.add_argument("--replot", action="store_true",
                   help="redo the analysis, JSON and figure from the log and its measurements in --out (no training)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    q = args.quick
    P = PAPER_SGD
    seeds, epochs, every = (4, 60, 10) if q else (40, P["epochs"], P["llc_every_epochs"])
    n = P["n"]
    log = os.path.join(args.out, "sgd.jsonl")
    if args.replot:
        m = read_measurements(log)
        if m is None or m.llc is None:
            raise AnimsupError(f"{log}: no LLC measurements to replot; run without --replot first")
        run = read_log(log)
        steps, Ws, bs, pop, seeds = run.steps, run.W, run.b, run.loss, run.W.shape[1]
    else:
        X = K.high_sparsity_data(n, seed=1)
        C.say(f"1. SGD: {seeds} seeds x {epochs} epochs (n = {n}, batch {P['batch']}, lr {P['lr']}) from a 4-gon + N(0, {P['init_noise']}²)")
        steps, Ws, bs = train(X, seeds, epochs, every, batch=P["batch"], lr=P["lr"], noise=P["init_noise"])
        T = len(steps)
        pop = K.population_loss(torch.as_tensor(Ws, dtype=torch.float64).reshape(-1, 2, N_FEATURES),
                                torch.as_tensor(bs, dtype=torch.float64).reshape(-1, N_FEATURES), 128).reshape(T, seeds).numpy()
        pop = pop.astype(np.float32)             # as the log stores it: --replot then finds the same
        from_arrays(Ws, b=bs, loss=pop, steps=steps, path=log, overwrite=True, **K.header_kw(seeds))
        cfg = {**LLC_CFG, "nbeta": n / math.log(n)} | ({"draws": 20} if q else {})
        C.say(f"2. LLC at {T} snapshots x {seeds} seeds (animsup.measure on the training set)")
        m = animsup.measure(log, cfg, data=X)
        write_measurements(log, m)
    per_seed = analyse(steps, Ws, pop, m.llc_mean, K.PAPER_LOSS)
    trans = [t for s in per_seed for t in s["transitions"]]
    with_t = [i for i, s in enumerate(per_seed) if s["transitions"]]
    at_level = np.array([[lab != "" for lab in level_labels(pop[:, s], K.PAPER_LOSS)] for s in range(seeds)])
    C.say(f"  {len(with_t)}/{seeds} seeds show >= 1 transition between k-gon plateaus; {len(trans)} transitions, "
          f"{sum(t['loss_down'] for t in trans)} down in loss, {sum(t['llc_step'] > 0 for t in trans)} with the LLC up")
    shown = _examples(per_seed)
    C.say(f"  with a transition: seeds {', '.join(map(str, with_t)) or 'none'}; the figure draws seeds "
          f"{', '.join(map(str, shown))} in colour (the most plateau levels)"
          + "".join(f"; seed {s} in grey ({seed_text(per_seed[s])})" for s in range(seeds) if s not in shown))
    res = {"paper": "Chen, Lau, Mendel, Wei, Murfet 2023, arXiv:2310.06301, Sec. 5",
           "settings": {"seeds": seeds, **P, "epochs": epochs, "every_epochs": every, "steps_per_epoch": n // P["batch"],
                        "tol": TOL, "min_run": MIN_RUN, "max_gap": MAX_GAP, "training_set": "one shared set, seed 1",
                        "llc": m.llc["settings"]},
           "levels": K.PAPER_LOSS, "fraction_at_a_level": float(at_level.mean()),
           "seeds_with_transition": len(with_t), "seeds_detail": per_seed,
           "loss_start": pop[0].tolist(), "loss_end": pop[-1].tolist(), "quick": q}
    C.publish(args, "dynamical_transitions", res)
    _figure(args.out if q else os.path.join(C.ROOT, "docs", "img"), steps, pop, m.llc_mean, Ws, bs, per_seed, K.PAPER_LOSS)
    return 0


def seed_text(seed: dict) -> str:
    """"2 plateau levels, 1 transition": what one seed's run went through (:func:`analyse`'s entry)."""
    from animsup.errors import plural

    levels = len({p["level"] for p in seed["plateaus"]})
    return f"{plural(levels, 'plateau level')}, {plural(len(seed['transitions']), 'transition')}"


def _examples(per_seed: list, k: int = 3) -> list:
    """Up to k seeds with the most distinct plateau levels (ties: more transitions first)."""
    order = sorted(range(len(per_seed)), key=lambda s: (-len({p["level"] for p in per_seed[s]["plateaus"]}),
                                                        -len(per_seed[s]["transitions"]), s))
    return order[:k]


def _figure(out, at, pop, llc, Ws, bs, per_seed, levels) -> None:
    from animsup.escape import plain_text as plain

    fig = C.figure(14, 8.2)
    gs = fig.add_gridspec(2, 3, height_ratios=[1.25, 1])
    ax1, ax2, ax3 = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[0, 2])
    ex = _examples(per_seed)
    colours = ["tab:blue", "tab:red", "tab:green"]
    rest = [s for s in range(pop.shape[1]) if s not in ex]
    for k, s in enumerate(rest):  # the seeds not drawn in colour: grey, dotted over the coloured ones, named
        label = f"seed {s} (grey): {seed_text(per_seed[s])}" if len(rest) <= 3 else \
            f"{len(rest)} other seeds (grey)" if k == 0 else None
        ax1.plot(at, pop[:, s], color="0.45", lw=1.6, ls=":", zorder=4, label=label)
    for c, s in zip(colours, ex):
        ax1.plot(at, pop[:, s], color=c, lw=1.3, zorder=3, label=f"seed {s}: {seed_text(per_seed[s])}")
        ax2.plot(at, llc[:, s], color=c, lw=0.6, alpha=0.35)
        for p in per_seed[s]["plateaus"]:
            ax2.plot([p["from_step"], p["to_step"]], [p["llc"]] * 2, color=c, lw=2.5, solid_capstyle="butt")
    x_end = at[-1] * 1.01
    for name, v in levels.items():
        ax1.axhline(v, color="0.45", lw=0.6, ls="--", zorder=2)
        ax1.text(x_end, v, f" {name}", va="center", fontsize=7, color="0.25", clip_on=False)
    for ax in (ax1, ax2):
        ax.set_xscale("symlog", linthresh=10, linscale=0.4)
        ax.set_xlim(0, at[-1])
    ax1.set(xlabel="SGD step (50 per epoch; symlog)", ylabel="population loss", ylim=(0.04, 0.125),
            title="loss: plateaus at the k-gon levels (dashed)")
    ax1.legend(fontsize=7, loc="lower left", title=f"in colour: the {len(ex)} of {pop.shape[1]} seeds with the most "
               "plateau levels", title_fontsize=7)
    ax2.set(xlabel="SGD step", ylabel="LLC estimate", title="LLC (thin) and its plateau means (thick)")
    # the paper's Fig. 3 ordering: the LLC on each plateau level over all seeds
    names = [k for k in levels if any(p["level"] == k for s in per_seed for p in s["plateaus"])]
    rng = np.random.default_rng(0)
    for i, k in enumerate(names):
        vals = [p["llc"] for s in per_seed for p in s["plateaus"] if p["level"] == k]
        ax3.plot(i + 0.12 * rng.standard_normal(len(vals)), vals, "o", ms=3, alpha=0.5, color="tab:purple")
        ax3.plot([i - 0.3, i + 0.3], [np.median(vals)] * 2, color="k", lw=1.5)
    ax3.set_xticks(range(len(names)), [f"{k}\n({levels[k]:.4f})" for k in names], fontsize=7)
    ax3.set(xlabel="plateau level (loss)", ylabel="LLC on the plateau", title="LLC by plateau, all seeds (— median)")
    # W at each plateau of the examples (as many as fit in one row of 6)
    slots = [(c, s, p) for c, s in zip(colours, ex) for p in per_seed[s]["plateaus"]][:6]
    sub = gs[1, :].subgridspec(1, 6)
    for i, (c, s, p) in enumerate(slots):
        ax = fig.add_subplot(sub[0, i])
        W, b = Ws[p["mid"], s], bs[p["mid"], s]
        lim = max(1.0, float(np.linalg.norm(Ws[:, s], axis=1).max())) * 1.3
        C.draw_weights(ax, W, np.ones(N_FEATURES), lim=lim, threshold=0.3)
        dead = np.flatnonzero(np.linalg.norm(W, axis=0) < 0.3)
        ax.set_title(f"seed {s}, step {at[p['mid']]:,}\nlevel {p['level']} · {plain(p['shape'])}\nLLC {p['llc']:.1f}",
                     fontsize=7, color=c)
        ax.set_xlabel("unused features' biases:\n" + (", ".join(f"{b[f]:+.2f}" for f in dead) or "none"), fontsize=7)
    fig.tight_layout()
    C.save(fig, os.path.join(out, "dynamical_transitions.png"))


DOCS_JSON = "dynamical_transitions"


def docs_table() -> str:
    """The transitions of the committed result file (docs/results/dynamical_transitions.json)."""
    res = C.load_results(DOCS_JSON)
    s = res["settings"]
    per = res["seeds_detail"]
    trans = [t for d in per for t in d["transitions"]]
    lines = [f"Settings: {s['seeds']} seeds, plain SGD, lr {s['lr']}, batch {s['batch']}, one training set of n = {s['n']}, "
             f"{s['epochs']:,} epochs ({s['epochs'] * s['steps_per_epoch']:,} steps), from a 4-gon + N(0, {s['init_noise']}²); "
             f"snapshots every {s['every_epochs']} epochs and at {len(EARLY)} early steps; at a level: |loss − level| < {s['tol']:g}; plateau: ≥ {s['min_run']} "
             f"snapshots; LLC ε = {s['llc']['lr']:g}, γ = {s['llc']['localization']:g}, nβ = {s['llc']['nbeta']:.1f}, "
             f"{s['llc']['chains']} chains × {s['llc']['draws']} draws, batch {s['llc']['batch_size']}.", "",
             f"Snapshots at a k-gon level: {100 * res['fraction_at_a_level']:.0f} %. Seeds with ≥ 1 transition between "
             f"k-gon plateaus: **{res['seeds_with_transition']} of {s['seeds']}**.", ""]
    pairs: dict = {}
    for t in trans:
        pairs.setdefault((t["from"], t["to"]), []).append(t)
    rows = []
    for (a, b), ts in sorted(pairs.items(), key=lambda kv: (-res["levels"][kv[0][0]], -res["levels"][kv[0][1]])):
        steps = np.array([t["llc_step"] for t in ts])
        rows.append([f"{a} → {b}", len(ts), sum(t["loss_down"] for t in ts), f"{int((steps > 0).sum())} of {len(ts)}",
                     f"{np.median(steps):+.2f}"])
    lines.append(C.md_table(["transition", "count", "loss down", "LLC up", "median LLC step"], rows))
    lvl_rows = []
    for k, v in res["levels"].items():
        ps = [p for d in per for p in d["plateaus"] if p["level"] == k]
        if ps:
            shapes: dict = {}
            for p in ps:
                shapes[p["shape"]] = shapes.get(p["shape"], 0) + 1
            top = ", ".join(f"{n} ({c})" for n, c in sorted(shapes.items(), key=lambda kv: -kv[1])[:2])
            lvl_rows.append([k, f"{v:.5f}", len(ps), f"{np.median([p['offset'] for p in ps]):+.1e}",
                             f"{np.median([p['llc'] for p in ps]):.2f}", top])
    lines += ["", C.md_table(["plateau level", "Chen et al. loss", "plateaus", "median loss − level", "median LLC",
                              "shape names (count)"], lvl_rows)]
    return "\n".join(lines)


if __name__ == "__main__":
    C.main_guard(main)
