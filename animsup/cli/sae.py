"""``animsup sae LOG``: train sparse autoencoders (ReLU + L1 or TopK) on a toy model's hidden
activations h = W x and score them against the toy's own columns W_i: mean max cosine similarity,
the Hungarian-matched cosine (each beside its chance baseline: random unit decoders of the same
shape scored against the same columns), dead and dense latents, L0, shrinkage, and for hierarchical
data the absorption of every (parent, child) pair (animsup.train.sae, animsup.analysis.sae_metrics);
a warning when a score is less than 0.1 above chance or shrinkage is far from 1.
The SAEs go into LOG's sidecar beside it (runs/a.jsonl -> runs/a.sae.json, format animsup.sae),
whose decoder directions animsup render and animsup view draw over W's columns (n_hidden <= 2)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from animsup.cli.output import say, say_json, warning

if TYPE_CHECKING:
    from animsup.train.sae import SaeResult


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sae", help="train SAEs on a toy's hidden activations and score them against its columns",
                              description=" ".join(__doc__.split()).replace("``", ""))
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument("--instance", type=int, default=0, metavar="I", help="the toy instance (default 0)")
    p.add_argument("--n-latents", type=int, default=None, metavar="L", help="latents per SAE (default: n_features)")
    p.add_argument("--kind", choices=("relu", "topk"), default="relu",
                   help="relu: ReLU + L1 penalty; topk: only the k largest latents kept (default relu)")
    p.add_argument("--l1", type=float, nargs="+", default=[0.01], metavar="C",
                   help="L1 coefficients, one SAE each (--kind relu; default 0.01)")
    p.add_argument("--k", type=int, nargs="+", default=[1], metavar="K",
                   help="active latents, one SAE each (--kind topk; default 1)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S", help="SAE seeds, one SAE each (default 0)")
    p.add_argument("--snapshots", choices=("last", "all"), default="last",
                   help="last: the final W; all: every snapshot's W, all SAEs trained together (default last)")
    p.add_argument("--steps", type=int, default=3000, metavar="N", help="SAE training steps (default 3000)")
    p.add_argument("--batch-size", type=int, default=1024, metavar="B",
                   help="samples of the toy's input law per SAE training step (default 1024)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate of the SAEs (default 3e-3)")
    p.add_argument("--out", metavar="JSON",
                   help="write every score and decoder direction here (format animsup.sae, v2; default: LOG's sidecar "
                        "runs/a.sae.json, which render and view draw; --out - writes none)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import orjson

    from animsup.atomic import atomic_path
    from animsup.errors import AnimsupError
    from animsup.train.sae import SaeConfig, sae

    if args.instance < 0:
        raise AnimsupError(f"--instance must be >= 0, got {args.instance}")
    # bad options first, named as typed (--batch-size), before the log is read
    SaeConfig(n_latents=args.n_latents, kind=args.kind, l1=args.l1, k=args.k, seeds=args.seeds, steps=args.steps,
              batch_size=args.batch_size, lr=args.lr).validate(0, name=lambda f: "--" + f.replace("_", "-"))
    res = sae(args.log, n_latents=args.n_latents, kind=args.kind, l1=args.l1, k=args.k, seeds=args.seeds,
              instance=args.instance, snapshots=args.snapshots, steps=args.steps, batch_size=args.batch_size, lr=args.lr)
    out = res.to_dict()
    from animsup.log.sae_file import sidecar_path

    path = sidecar_path(args.log) if args.out is None else (None if args.out == "-" else args.out)
    if path is not None:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(orjson.dumps(out, option=orjson.OPT_SERIALIZE_NUMPY))
    if args.json:
        out.pop("decoders")
        say_json(out)
        _warn(out["notes"])  # on stderr too: stdout stays JSON (its "notes" hold the same lines)
        return 0
    name = "l1" if args.kind == "relu" else "k"
    lines = [_header(args, res), f"{'step':>8} {name:>8} {'seed':>4}  {'MMCS (chance)':>13} {'matched (chance)':>16} "
             f"{'dead':>5} {'dense':>5} {'L0':>6} {'shrink':>6}" + ("  absorption" if res.pairs else "")]
    i = 0
    for step in res.steps:
        for v in res.values:
            for seed in res.config.seeds:
                s = res.scores[i]
                ab = "  " + " ".join(f"{a:.2f}" for a in res.absorption.reshape(len(res.scores), -1)[i]) if res.pairs else ""
                lines.append(f"{step:>8,} {v:>8.3g} {seed:>4}  {s.mmcs:6.3f} ({s.mmcs_chance:.3f}) "
                             f"{s.matched:9.3f} ({s.matched_chance:.3f}) {s.dead:5.2f} {s.dense:5.2f} "
                             f"{s.l0:6.2f} {s.shrinkage:6.3f}{ab}")
                i += 1
    if res.pairs:
        lines.append("absorption pairs (parent, child): " + ", ".join(f"({a}, {b})" for a, b in res.pairs))
    if path is not None:
        lines.append(f"wrote {path}" + (" (drawn by animsup render / view over W's columns)" if args.out is None else ""))
    say("\n".join(lines))
    _warn(out["notes"])
    return 0


def _warn(notes: list[str]) -> None:
    """Each note of :meth:`SaeResult.notes` as one warning line on stderr."""
    for note in notes:
        sys.stderr.write(warning(note))


def _header(args: argparse.Namespace, res: SaeResult) -> str:
    """One line naming the log, the instance and the SAEs, e.g. ``sae of runs/a.jsonl, instance 0:
    ReLU + L1 SAEs (l1 0.01, 0.1), 5 latents, 1 seed, 3,000 steps, the last snapshot (step 2,000)``."""
    from animsup.errors import plural

    kind = "ReLU + L1 SAEs (l1 " if res.config.kind == "relu" else "TopK SAEs (k "
    values = ", ".join(f"{v:g}" for v in res.values) + ")"
    steps = res.steps
    which = (f"the last snapshot (step {steps[0]:,})" if args.snapshots == "last"
             else f"{plural(len(steps), 'snapshot')} (steps {steps[0]:,}..{steps[-1]:,})")
    return (f"sae of {args.log}, instance {res.instance}: {kind}{values}, "
            f"{plural(int(res.decoders.shape[-2]), 'latent')}, {plural(len(res.config.seeds), 'seed')}, "
            f"{plural(res.config.steps, 'step')}, {which}")
