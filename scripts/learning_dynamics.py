"""Learning dynamics ("energy levels"; "Toy Models of Superposition", section "Superposition and Learning
Dynamics"): the paper's uniform-superposition set-up, n=400 features in m=30 dimensions, importance 1,
at 1 - S = 0.4 and 0.3 (densities where every learned feature ends in a digon, as in the paper's
example; the paper gives no density, steps or learning rate), W initialised at 0.1x the usual scale
(a public replication's choice), AdamW lr 1e-3 with a cosine schedule, 10,000 steps, log-spaced
snapshots; every feature's D_i(t) over the loss(t), with the level moves (animsup.analysis.dynamics,
0 = not learned is a level), the features that rose and fell back to 0, and the loss drops (on a
log-step axis). --quick: n=40, m=5, 1 - S = 0.45, 3,000 steps, 2 seeds.

Writes to outputs/learning_dynamics/: run.jsonl, dynamics.png (per seed: D_i(t) over loss(t),
moves and drops marked), dynamics.json (events and counts), and unless --no-video dynamics.mp4.

    .venv/bin/python scripts/learning_dynamics.py [--quick] [--steps N] [--seeds K]
"""

from __future__ import annotations

import json
import os

import _common as c
import numpy as np


def config(quick: bool, steps: int | None, seeds: int | None, device: str = "auto"):
    from animsup.train.config import TrainConfig

    n, m = (40, 5) if quick else (400, 30)
    return TrainConfig(
        n_features=n, n_hidden=m, model="tied", init="xavier-per-instance", init_scale=0.1,
        feature_probability=[0.45] if quick else [0.4, 0.3], device=device,
        seeds=list(range(seeds or 2)), importance="constant",
        steps=steps or (3000 if quick else 10_000), batch_size=1024, lr=1e-3, optimizer="adamw", lr_schedule="cosine",
        snapshots=120 if quick else 200, snapshot_schedule="log", loss_every=1, backend="torch", threads=1,
    ).validate()


# level detection on log-spaced snapshots: a level must hold for 8 snapshots (~0.2 decades of steps
# at 200 snapshots over 5 decades), or a slow rise through the 3/8 band reads as "arrives at 3/8,
# then moves to 1/2"; loss drops on a log-step axis: >= 2 % within 5 % of the run's log-length
# after a plateau twice as long
LEVELS_KW = dict(min_persist=8)
DROPS_KW = dict(min_drop=0.02, window=0.05, plateau_ratio=2.0)


def _chance(steps, events, drop_idx) -> float | None:
    """How often the events' snapshot intervals, shifted to every other position, would contain a
    loss drop: what coincidence by chance looks like."""
    hits = []
    for e in events:
        a = int(np.searchsorted(steps, e.since if e.since is not None else e.step))
        b = int(np.searchsorted(steps, e.step))
        for shift in range(-a, len(steps) - b):
            hits.append(bool(((drop_idx >= a + shift - 1) & (drop_idx <= b + shift + 1)).any()))
    return float(np.mean(hits)) if hits else None


def analyse(run, k: int) -> dict:
    """Level moves, arrivals and loss drops of instance ``k`` (index into the log), and their coincidences."""
    from animsup.analysis import dynamics, geometry

    steps = run.steps
    D = geometry.dimensionality(run.W[:, k])
    drops = dynamics.loss_drops_log_time(run.loss_steps, run.loss_curve[:, k], **DROPS_KW)
    evs = dynamics.align_with_loss_drops(dynamics.level_events(steps, D, **LEVELS_KW), drops, steps)
    moves = [e for e in evs if e.level_from is not None]
    arrivals = [e for e in evs if e.level_from is None]
    drop_idx = np.searchsorted(steps, [d.step for d in drops])
    fell = dynamics.fall_backs(steps, D)
    return {
        "feature_probability": float(run.header.instance_probability[k]), "seed": int(run.header.seed[run.instances[k]]),
        "fall_backs": fell, "moves_up": sum(e.level_from == 0 and e.level_to > 0 for e in moves),
        "moves_down_to_0": sum(e.level_to == 0 for e in moves),
        "moves": [e.to_dict() for e in moves], "arrivals": [e.to_dict() for e in arrivals],
        "loss_drops": [{"step": d.step, "drop": d.value,
                        "level_events": sum(e.loss_drop_step == d.step for e in evs)} for d in drops],
        "n_moves": len(moves), "moves_with_drop": sum(e.loss_drop_step is not None for e in moves),
        "n_arrivals": len(arrivals), "arrivals_with_drop": sum(e.loss_drop_step is not None for e in arrivals),
        "chance_arrival_in_drop": _chance(steps, arrivals, drop_idx),
        "drops_with_level_event": sum(any(e.loss_drop_step == d.step for e in evs) for d in drops),
        "final_loss": float(run.loss_curve[-1, k]),
        "final_levels": {dynamics.fraction_text(v): int(np.sum(np.abs(D[-1] - v) <= 0.02)) for v in dynamics.LEVELS},
    }


def small_result(result: dict) -> dict:
    """The committed summary (docs/results/learning_dynamics.json): per instance the counts and steps."""
    rows = []
    for r in result["instances"]:
        fell = r["fall_backs"]
        rows.append({"feature_probability": round(r["feature_probability"], 6), "seed": r["seed"], "final_loss": round(r["final_loss"], 6),
                     "final_levels": r["final_levels"],
                     "loss_drops": [[d["step"], round(d["drop"], 4), d["level_events"]] for d in r["loss_drops"]],
                     "moves_up": r["moves_up"], "moves_down_to_0": r["moves_down_to_0"], "n_moves": r["n_moves"],
                     "moves_with_drop": r["moves_with_drop"], "arrivals": r["n_arrivals"],
                     "fall_backs": len(fell), "fall_back_steps": [min((f["fell_step"] for f in fell), default=None),
                                                                  max((f["fell_step"] for f in fell), default=None)],
                     "move_steps": [min((e["step"] for e in r["moves"]), default=None),
                                    max((e["step"] for e in r["moves"]), default=None)]})
    cfg = result["config"]
    return {"source": "scripts/learning_dynamics.py", "n_features": cfg["n_features"], "n_hidden": cfg["n_hidden"],
            "steps": cfg["steps"], "status": result["status"], "last_snapshot": result["last_snapshot"],
            "init_scale": cfg["init_scale"], "instances": rows}


RESULT = os.path.join(c.ROOT, "docs", "results", "learning_dynamics.json")


def docs_table(path: str = RESULT) -> str:
    """docs/figures.md §7's table, from the committed docs/results/learning_dynamics.json."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)

    def span(pair):
        return "—" if pair[0] is None else f"{pair[0]:,}–{pair[1]:,}"

    lines = ["| 1 − S | seed | loss drops (step, size) | level moves (steps) | of them 0 → a level | a level → 0 | "
             "rose to D ≥ 0.3, ended at 0 (steps they fell) | at the last snapshot: D = 1/2, D = 0 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in d["instances"]:
        drops = ", ".join(f"{s:,} ({100 * v:.0f} %)" for s, v, _ in r["loss_drops"]) or "—"
        lv = r["final_levels"]
        lines.append(f"| {r['feature_probability']:g} | {r['seed']} | {drops} | {r['n_moves']} ({span(r['move_steps'])}) | "
                     f"{r['moves_up']} | {r['moves_down_to_0']} | {r['fall_backs']} ({span(r['fall_back_steps'])}) | "
                     f"{lv.get('1/2', 0)}, {lv.get('0', 0)} |")
    return "\n".join(lines)


def main() -> int:
    p = c.parser("learning_dynamics", __doc__)
    p.add_argument("--steps", type=int, default=None, help="training steps (default 10,000; quick 3,000)")
    p.add_argument("--seeds", type=int, default=None, help="seeds per density (default 2)")
    p.add_argument("--device", default="auto")
    p.add_argument("--partial", action="store_true",
                   help="analyse the run log as far as it got (a run still training or stopped), without training")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cfg = config(args.quick, args.steps, args.seeds, args.device)
    c.say(f"learning dynamics: n={cfg.n_features}, m={cfg.n_hidden}, 1-S={cfg.feature_probability}, init x{cfg.init_scale}, "
          f"{cfg.n_instances} instances x {cfg.steps:,} steps (cosine)")
    log = os.path.join(args.out, "run.jsonl")
    if not args.partial:
        c.train_or_reuse(cfg, log, retrain=args.retrain)
    from animsup.log.reader import read_log

    run = read_log(log, require_snapshots=False)
    result = {"config": cfg.to_dict(), "status": run.status, "last_snapshot": int(run.steps[-1]), "instances": []}
    for k in range(len(run.instances)):
        r = analyse(run, k)
        result["instances"].append(r)
        ch = r["chance_arrival_in_drop"]
        c.say(f"1-S {r['feature_probability']:g} seed {r['seed']}: final loss {r['final_loss']:.5f}; loss drops "
              + ", ".join(f"{d['step']:,} ({100 * d['drop']:.0f}%, {d['level_events']} level events)" for d in r["loss_drops"])
              + f"; {r['n_moves']} level-to-level moves ({r['moves_with_drop']} at a drop); {r['n_arrivals']} arrivals, "
              f"{r['arrivals_with_drop']} at a drop (chance {'-' if ch is None else f'{ch:.2f}'}); "
              f"final levels {r['final_levels']}; {len(r['fall_backs'])} rose >= 0.3 and fell back to 0 "
              f"(steps {[f['fell_step'] for f in r['fall_backs']]})")
        for e in r["moves"]:
            c.say(f"    step {e['step']:>7,} (from {e['since']:,})  {e['text']}"
                  + (f"  [loss drop at {e['loss_drop_step']:,}]" if e["loss_drop_step"] is not None else ""))
    with open(os.path.join(args.out, "dynamics.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(args.out, "dynamics_result.json"), "w") as f:
        json.dump(small_result(result), f, indent=1)
    if run.status == "completed":  # a full run: docs/results/learning_dynamics.json (docs_table())
        c.publish(args, "learning_dynamics", small_result(result))
    figure(run, result, args.out)
    if not args.no_video and run.status == "completed":
        c.render(log, [os.path.join(args.out, "dynamics.mp4"), os.path.join(args.out, "dynamics.png")],
                 instance=0, panels=["dim_time"], duration=6 if args.quick else 12, size="1280x720")
    return 0


def figure(run, result: dict, out: str) -> None:
    import matplotlib

    from animsup.analysis import geometry
    from animsup.analysis.dynamics import LEVELS

    k = len(run.instances)
    fig = c.figure(6.4 * min(k, 2), 4.2 * ((k + 1) // 2))
    cmap = matplotlib.colormaps["viridis"]
    steps = np.maximum(run.steps, 1)
    outer = fig.add_gridspec((k + 1) // 2, min(k, 2), hspace=0.35, wspace=0.2, left=0.075, right=0.98, top=0.95,
                             bottom=0.05)
    for i in range(k):
        inner = outer[i // 2, i % 2].subgridspec(2, 1, height_ratios=[2, 1], hspace=0.05)
        ax = fig.add_subplot(inner[0])
        D = geometry.dimensionality(run.W[:, i])
        n = D.shape[1]
        for f in range(n):
            ax.plot(steps, D[:, f], color=cmap(f / max(n - 1, 1)), lw=0.6, alpha=0.7)
        for v in LEVELS:
            ax.axhline(v, color="#999999", lw=0.5, ls=":")
        r = result["instances"][i]
        for e in r["moves"]:
            ax.axvline(e["step"], color="#888888", lw=0.5, alpha=0.5)  # a level move (grey: coincidence not implied)
        for d in r["loss_drops"]:
            ax.axvline(d["step"], color="red", lw=0.8, alpha=0.35)
        arr = r["arrivals"]
        ax.plot([e["step"] for e in arr], [e["level_to"] + 0.03 for e in arr], "v", ms=3, lw=0,
                color="black", alpha=0.6, label="a feature settles at a level")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("D_i", fontsize=8)
        ax.set_xticklabels([])
        ax.tick_params(labelsize=7)
        fell = r["fall_backs"]
        ax.plot([f["fell_step"] for f in fell], [0.03] * len(fell), "^", ms=4, lw=0, color="red", alpha=0.8,
                label="a feature falls back to 0")
        ax.set_title(f"1 − S = {r['feature_probability']:g}, seed {r['seed']}: {r['moves_up']} moves 0 → level (grey), "
                     f"{len(fell)} fell back to 0 (▲), loss drops red", fontsize=8)
        lx = fig.add_subplot(inner[1], sharex=ax)
        ls = np.maximum(run.loss_steps, 1)
        lx.plot(ls, run.loss_curve[:, i], color="black", lw=0.5)
        for d in r["loss_drops"]:
            lx.axvline(d["step"], color="red", lw=0.6, alpha=0.6)
        lx.set_yscale("log")
        lx.set_xscale("log")
        lx.set_ylabel("loss", fontsize=8)
        lx.set_xlabel("step", fontsize=8)
        lx.tick_params(labelsize=7)
    c.save(fig, os.path.join(out, "dynamics.png"))


if __name__ == "__main__":
    c.main_guard(main)
