"""``animsup sae LOG``: train sparse autoencoders (ReLU + L1 or TopK) on a toy model's hidden
activations h = W x and score them against the toy's own columns W_i: mean max cosine similarity,
the Hungarian-matched cosine, dead and dense latents, L0, shrinkage, and for hierarchical data the
absorption of every (parent, child) pair (animsup.train.sae, animsup.analysis.sae_metrics)."""

from __future__ import annotations

import argparse

from animsup.cli.output import say, say_json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sae", help="train SAEs on a toy's hidden activations and score them against its columns",
                              description=" ".join(__doc__.split()).replace("``", ""))
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument("--instance", type=int, default=0, metavar="I", help="the toy instance (default 0)")
    p.add_argument("--n-latents", type=int, default=None, metavar="L", help="latents per SAE (default: n_features)")
    p.add_argument("--kind", choices=("relu", "topk"), default="relu", help="ReLU + L1 penalty, or TopK (default relu)")
    p.add_argument("--l1", type=float, nargs="+", default=[0.01], metavar="C", help="L1 coefficients, one SAE each (relu)")
    p.add_argument("--k", type=int, nargs="+", default=[1], metavar="K", help="active latents, one SAE each (topk)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S", help="SAE seeds (default 0)")
    p.add_argument("--snapshots", choices=("last", "all"), default="last",
                   help="the final W, or every snapshot's (all SAEs trained together)")
    p.add_argument("--steps", type=int, default=3000, help="SAE training steps (default 3000)")
    p.add_argument("--batch-size", type=int, default=1024, metavar="B")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--out", metavar="JSON", help="write every score and decoder direction here (format animsup.sae, v1)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import orjson

    from animsup.atomic import atomic_path
    from animsup.train.sae import sae

    res = sae(args.log, n_latents=args.n_latents, kind=args.kind, l1=args.l1, k=args.k, seeds=args.seeds,
              instance=args.instance, snapshots=args.snapshots, steps=args.steps, batch_size=args.batch_size, lr=args.lr)
    out = res.to_dict()
    if args.out:
        with atomic_path(args.out) as tmp:
            with open(tmp, "wb") as f:
                f.write(orjson.dumps(out, option=orjson.OPT_SERIALIZE_NUMPY))
    if args.json:
        out.pop("decoders")
        say_json(out)
        return 0
    name = "l1" if args.kind == "relu" else "k"
    lines = [f"{'step':>8} {name:>8} {'seed':>4}  {'MMCS':>6} {'matched':>7} {'dead':>5} {'dense':>5} {'L0':>6} "
             f"{'shrink':>6}" + ("  absorption" if res.pairs else "")]
    i = 0
    for step in res.steps:
        for v in res.values:
            for seed in res.config.seeds:
                s = res.scores[i]
                ab = "  " + " ".join(f"{a:.2f}" for a in res.absorption.reshape(len(res.scores), -1)[i]) if res.pairs else ""
                lines.append(f"{step:>8,} {v:>8.3g} {seed:>4}  {s.mmcs:6.3f} {s.matched:7.3f} {s.dead:5.2f} {s.dense:5.2f} "
                             f"{s.l0:6.2f} {s.shrinkage:6.3f}{ab}")
                i += 1
    if res.pairs:
        lines.append("absorption pairs (parent, child): " + ", ".join(f"({a}, {b})" for a, b in res.pairs))
    say("\n".join(lines))
    return 0
