"""``animsup measure LOG --llc [--hessian] [--pca]``: the loss landscape at the log's snapshots —
the local learning coefficient (SGLD, devinterp's hyperparameters), the Hessian's eigenvalues and
degeneracy, essential dynamics — for every instance in one batched program (animsup.train.measure).
The numbers go into LOG's sidecar beside it (runs/a.jsonl or runs/a.jsonl.gz -> runs/a.measure.json),
which inspect, events, render and the viewer read; the hyperparameters are recorded there."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from animsup.cli.output import say, say_json
from animsup.errors import plural

if TYPE_CHECKING:
    from animsup.log.measurements import Measurements, Written


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("measure", help="measure the loss landscape (LLC, Hessian, essential dynamics) at the snapshots",
                              description=" ".join(__doc__.split()).replace("``", ""))
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument("--llc", action="store_true", help="estimate the local learning coefficient by SGLD")
    p.add_argument("--hessian", action="store_true", help="the Hessian's eigenvalues (exact for small models, else top-k by Lanczos)")
    p.add_argument("--pca", action="store_true", help="essential dynamics: PCA of each instance's trajectory")
    p.add_argument("--snapshots", nargs="+", type=int, metavar="S",
                   help="the STEPS of the snapshots to measure, e.g. --snapshots 0 500 2000 (default: all snapshots): "
                        "--snapshots 5 alone measures the snapshot at step 5; with --count, one number N: N evenly "
                        "spaced snapshots (Python's animsup.measure(snapshots=5) means the count)")
    p.add_argument("--count", action="store_true",
                   help="read --snapshots N as a count: N evenly spaced snapshots, the first and the last included "
                        "(at most the log's snapshots: the output says how many were measured)")
    p.add_argument("--instance", nargs="+", type=int, metavar="I", help="instance indices (default: all)")
    g = p.add_argument_group("SGLD (devinterp's names and meanings)")
    g.add_argument("--lr", type=float, default=1e-3, help="step size epsilon (default 1e-3)")
    g.add_argument("--localization", type=float, default=100.0, help="gamma, pull to the snapshot (default 100)")
    g.add_argument("--nbeta", type=float, default=None, help="inverse temperature n*beta (default batch_size / ln batch_size)")
    g.add_argument("--chains", type=int, default=4, help="chains per model (default 4)")
    g.add_argument("--draws", type=int, default=200, help="draws per chain (default 200)")
    g.add_argument("--burnin", type=int, default=0, help="steps before the first draw (default 0)")
    g.add_argument("--batch-size", type=int, default=512, help="samples per SGLD step (default 512)")
    g.add_argument("--seed", type=int, default=0, help="seed of the noise and the batches (default 0)")
    p.add_argument("--data", metavar="FILE.npy", help="a fixed data set [N, n_features] instead of the log's data law "
                                                     "(needed for imported logs whose 1-S is unknown)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from animsup.cli.progress import make_progress
    from animsup.errors import AnimsupError
    from animsup.escape import terminal
    from animsup.log.measurements import store
    from animsup.train.measure import measure

    if not (args.llc or args.hessian or args.pca):
        raise AnimsupError("nothing to measure: give --llc, --hessian and/or --pca")
    data = None
    if args.data:
        import numpy as np

        try:
            data = np.load(args.data, allow_pickle=False)
        except OSError as e:
            raise AnimsupError(f"--data {terminal(args.data)}: cannot read it ({terminal(e)})") from None
        except ValueError:
            raise AnimsupError(f"--data {terminal(args.data)}: not a .npy array of numbers (write one with "
                               "numpy.save(FILE, X), X of shape [N, n_features])") from None
    snapshots = args.snapshots
    if snapshots is not None and args.count:
        if len(snapshots) != 1:
            raise AnimsupError("--count takes one number in --snapshots")
        snapshots = snapshots[0]
    llc = None
    if args.llc:
        llc = {"lr": args.lr, "localization": args.localization, "nbeta": args.nbeta, "chains": args.chains,
               "draws": args.draws, "burnin": args.burnin, "batch_size": args.batch_size, "seed": args.seed}
    bar, callback = make_progress("measure", None, unit="models")
    try:
        m = measure(args.log, llc, data=data, data_name=args.data, snapshots=snapshots, instances=args.instance, hessian=args.hessian,
                    pca=args.pca, device=args.device, progress=callback, write=False)
    except AnimsupError as e:
        if isinstance(snapshots, list) and len(snapshots) == 1 and "no snapshot at step" in str(e):
            raise AnimsupError(f"{e}; --snapshots takes steps: for {snapshots[0]} evenly spaced snapshots "
                               "add --count") from None
        raise
    finally:
        bar.close()
    written = store(args.log, m)
    path = written.path
    notes = _notes(m, written, snapshots)
    summary = {"sidecar": path, **m.summary(), "kept": written.kept, "replaced": written.replaced, "notes": notes}
    if args.json:
        say_json(summary)
        return 0
    lines = [*notes, f"measured {plural(len(m.steps), 'snapshot')} ({_steps(m.steps)}) x {plural(len(m.instances), 'instance')}"
             f" -> {path}"]
    if m.llc is not None:
        for j, i in enumerate(m.instances):
            lines.append(f"  instance {i}: LLC {_num(m.llc_mean[-1, j])} ± {_num(m.llc_std[-1, j])} at step {int(m.steps[-1]):,}"
                         f" (first {_num(m.llc_mean[0, j])})")
        bad = int((~m.llc["settled"]).sum())
        if bad:
            lines.append(f"  warning: {bad} estimate(s) have not settled (the loss trace drifts); raise --draws or lower --lr")
        div = int(m.llc["diverged"].sum())
        if div:
            lines.append(f"  warning: {div} chain(s) diverged; lower --lr or raise --localization")
    if m.hessian is not None:
        lines.append(f"  Hessian ({m.hessian['settings']['method']}): degeneracy at the last snapshot "
                     f"{[int(v) for v in m.hessian['degeneracy'][-1]]} ({m.hessian['settings']['threshold']})")
    say("\n".join(lines))
    return 0


def _notes(m: Measurements, written: Written, snapshots: object) -> list[str]:
    """The lines about what was assumed, clamped, replaced or kept (one each)."""
    from animsup.escape import terminal

    out = []
    for sec in ("llc", "hessian"):
        assumed = (getattr(m, sec) or {}).get("settings", {}).get("assumed")
        if assumed:
            out.append(f"note: the log does not state its whole data law; measured with {'; '.join(assumed)} assumed "
                       "(recorded in the settings; pass --data FILE.npy for the real inputs)")
            break
    T = len(m.steps)
    if isinstance(snapshots, int) and snapshots > T:
        out.append(f"note: --snapshots {snapshots} --count: the log has {plural(T, 'snapshot')}; measured {T}")
    if written.replaced:
        out.append(f"note: replaced the earlier {', '.join(written.replaced)} of {terminal(written.path)} "
                   f"({written.why}; measure them again with these snapshots to keep both)")
    if written.kept:
        out.append(f"kept the earlier {', '.join(written.kept)} (same snapshots and instances)")
    return out


def _num(v: float) -> str:
    return "nan" if v != v else f"{v:.3f}"


def _steps(steps: Any) -> str:
    """"step 3" / "steps 0, 500, 2,000" / "steps 0, 10, ..., 2,000" (first three and the last when long)."""
    s = [f"{int(v):,}" for v in steps]
    if len(s) == 1:
        return f"step {s[0]}"
    return "steps " + ", ".join(s if len(s) <= 6 else [*s[:3], "...", s[-1]])
