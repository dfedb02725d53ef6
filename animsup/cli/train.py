"""``animsup train``: train toy models of superposition and write a run log.

Instances are the product of --last-importance, --feature-probability and --seeds, trained together
in one batched program. A grid value is a number or a range START:STOP:COUNT[:log|lin] (log by
default), e.g. --last-importance 0.1:10:20 --feature-probability 0.01:1:20 --seeds 10 (4,000 models). Ctrl-C or SIGTERM ends the log with status "interrupted" (exit 130);
`animsup train --resume LOG` continues it.
"""

from __future__ import annotations

import argparse
import os

from animsup.cli.helpfmt import HelpFormatter

DEFAULT_OUT = os.path.join("logs", "train.jsonl")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train toy models of superposition and write a JSONL run log",
        description=__doc__.split("\n\n")[1],
        formatter_class=HelpFormatter,
    )
    add_train_options(p)
    g = p.add_argument_group("output")
    g.add_argument("--out", "-o", default=DEFAULT_OUT, metavar="LOG", help="run log to write (.jsonl)")
    g.add_argument("--force", action="store_true", help="overwrite an existing log")
    g.add_argument("--resume", metavar="LOG",
                   help="continue the run in LOG from its last snapshot (only --steps, --device/--threads apply)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)
    return p


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The training options shared by train, demo and minima (defaults = TrainConfig's)."""
    from animsup.train import config as c

    d = c.TrainConfig()
    m = parser.add_argument_group("model")
    m.add_argument("--n-features", type=int, default=d.n_features, metavar="N", help="number of features n")
    m.add_argument("--n-hidden", type=int, default=d.n_hidden, metavar="M", help="hidden dimensions m")
    m.add_argument("--model", default=d.model, choices=c.MODELS,
                   help="tied: ReLU(WᵀWx+b); untied: ReLU(W_decᵀW_enc x+b); linear: WᵀWx+b; neuron: ReLU(WᵀReLU(Wx)+b)")
    m.add_argument("--init", default=d.init, choices=c.INITS,
                   help="notebook: the paper's notebook, W ~ N(0, 2/(m(n + n_instances))), b = 0 (xavier_normal_ "
                        "on the whole [n_instances, n, m] tensor: the scale depends on how many instances are "
                        "trained together); xavier-per-instance: W ~ N(0, 2/(n + m)) per instance, b = 0; "
                        "blog: W, b ~ U[0, 0.001) (seed 002)")
    m.add_argument("--init-scale", type=float, default=d.init_scale, metavar="C",
                   help="multiply the initial W by C (the learning-dynamics runs use 0.1)")
    data = parser.add_argument_group("data and loss")
    data.add_argument("--feature-probability", "-p", type=_grid, nargs="+", default=None,
                      metavar="P", help="1 - S: probability that a feature is non-zero; one instance group per value "
                                        f"(values or ranges START:STOP:COUNT[:log|lin]; default {d.feature_probability[0]})")
    data.add_argument("--seeds", type=int, nargs="+", metavar="K", default=None,
                      help="one number K: seeds 0..K-1; several numbers: exactly these seeds (default: 0)")
    data.add_argument("--seed", type=int, default=None, metavar="S", help="a single seed (same as --seeds with one explicit seed)")
    data.add_argument("--importance", nargs="+", default=[str(d.importance)], metavar="I",
                      help="a base b (I_i = b**i), 'constant', or one weight per feature")
    data.add_argument("--last-importance", type=_grid, nargs="+", default=None, metavar="R",
                      help="relative importance r of the last feature (its weight times r); one instance group per "
                           "value (values or ranges START:STOP:COUNT[:log|lin]) — the phase-diagram axis")
    data.add_argument("--data", default=d.data, choices=c.DATA_KINDS,
                      help="value of a present feature: uniform U[0,1); presence_value: x = u if u < p (seed 000); "
                           "binary: 1; exactly_k: exactly --exactly-k features on per sample")
    data.add_argument("--exactly-k", type=int, default=None, metavar="K", help="features on per sample (--data exactly_k)")
    data.add_argument("--correlated-sets", type=_sets, nargs="+", default=[], metavar="I,J,..",
                      help="sets of feature indices that switch on together, e.g. 0,1 2,3")
    data.add_argument("--anticorrelated-sets", type=_sets, nargs="+", default=[], metavar="I,J,..",
                      help="sets of feature indices of which at most one is on, e.g. 0,1 2,3")
    data.add_argument("--stages", type=_grid, nargs="+", default=None, metavar="P",
                      help="staged training (seed 000): feature probability of each stage; --steps split evenly, "
                           "a new optimiser per stage, one log")
    data.add_argument("--dataset-size", type=int, default=None, metavar="N",
                      help="sample batches from a fixed pre-drawn set of N samples (seed 002) instead of fresh samples")
    data.add_argument("--normalize", action="store_true", help="scale each sample to unit L2 norm (seed 000)")
    data.add_argument("--loss-reduction", default=d.loss_reduction, choices=c.LOSS_REDUCTIONS,
                      help="mean: mean over batch and features (notebook); half-sum: ½·sum over features, mean over batch (seed 002)")
    data.add_argument("--l1", type=float, default=d.l1, metavar="ALPHA", help="L1 penalty on W and b (seed 002's alpha)")
    o = parser.add_argument_group("optimisation")
    o.add_argument("--steps", type=int, default=None, help=f"optimiser updates (default: {d.steps}; with --resume: the new total)")
    o.add_argument("--batch-size", type=int, default=d.batch_size, metavar="B")
    o.add_argument("--lr", type=float, default=d.lr, help="learning rate (seed 002: ~1 with --optimizer sgd)")
    o.add_argument("--optimizer", default=d.optimizer, choices=c.OPTIMIZERS)
    o.add_argument("--weight-decay", type=float, default=None, metavar="WD", help="default: 0.01 for adamw, 0 otherwise")
    o.add_argument("--lr-schedule", default=d.lr_schedule, choices=c.LR_SCHEDULES)
    e = parser.add_argument_group("execution")
    e.add_argument("--backend", default=d.backend, choices=c.BACKENDS,
                   help="torch (all models), numpy (tied only, hand-derived gradients), or auto: numpy for seed "
                        "002's gradient and small tied runs off CUDA (faster there), else torch")
    e.add_argument("--gradient", default=d.gradient, choices=c.GRADIENTS,
                   help="numpy backend: exact gradient, or seed 002's printed (blog) formulas")
    e.add_argument("--device", default=d.device, choices=c.DEVICES)
    e.add_argument("--threads", type=_threads, default=d.threads, metavar="N|auto",
                   help="CPU threads. Sparse runs (p <= 0.25) process blocks of the batch on N threads "
                        "(auto: 1 or all cores, whichever the last steps ran faster; the result is the same); "
                        "other runs use N torch intra-op threads (auto: 1 — on 2 busy cores more were up to 30x slower)")
    s = parser.add_argument_group("snapshots")
    s.add_argument("--every", type=int, default=None, metavar="K", help="a snapshot every K steps (overrides --snapshots)")
    s.add_argument("--snapshots", type=int, default=d.snapshots, metavar="N", help="number of snapshots")
    s.add_argument("--snapshot-schedule", default=d.snapshot_schedule, choices=c.SNAPSHOT_SCHEDULES,
                   help="log: denser early where things move fast; linear: evenly spaced")
    s.add_argument("--loss-every", type=int, default=d.loss_every, metavar="K", help="record the loss every K steps")
    s.add_argument("--no-checkpoint", dest="checkpoint", action="store_false",
                   help="do not write LOG.ckpt (a resume then replays from step 0)")


def _importance(values: list[str]):
    from animsup.errors import AnimsupError

    if len(values) == 1 and values[0] == "constant":
        return "constant"
    try:
        nums = [float(v) for v in values]
    except ValueError:
        raise AnimsupError(f"--importance takes a number, 'constant' or one number per feature, got {' '.join(values)}") from None
    return nums[0] if len(nums) == 1 else nums


def config_from_args(args):
    """A validated :class:`animsup.train.config.TrainConfig` from parsed options (raises AnimsupError)."""
    from animsup.errors import AnimsupError
    from animsup.train.config import TrainConfig

    if args.seed is not None and args.seeds is not None:
        raise AnimsupError("--seed and --seeds conflict: pass one of them")
    if args.seed is not None:
        seeds = [args.seed]
    elif args.seeds is None:
        seeds = [0]
    elif len(args.seeds) == 1:
        if args.seeds[0] < 1:
            raise AnimsupError(f"--seeds K needs K >= 1 (or several explicit seeds), got {args.seeds[0]}")
        seeds = list(range(args.seeds[0]))
    else:
        seeds = list(args.seeds)
    probs = _flat(args.feature_probability) if args.feature_probability is not None else TrainConfig().feature_probability
    stages = _flat(args.stages)
    if stages is not None:
        if args.feature_probability is not None:
            raise AnimsupError("--stages sets the feature probability of each stage: drop --feature-probability")
        probs = [stages[0]]
    if args.data == "exactly_k" and args.feature_probability is not None:
        raise AnimsupError("--data exactly_k sets the feature probability to k/n: drop --feature-probability")
    last = _flat(args.last_importance)
    cfg = TrainConfig(
        n_features=args.n_features, n_hidden=args.n_hidden, model=args.model, init=args.init, init_scale=args.init_scale,
        feature_probability=probs, seeds=seeds, importance=_importance(args.importance), last_importance=last,
        data=args.data, exactly_k=args.exactly_k, correlated_sets=list(args.correlated_sets),
        anticorrelated_sets=list(args.anticorrelated_sets), stages=stages,
        dataset_size=args.dataset_size, normalize=args.normalize, loss_reduction=args.loss_reduction, l1=args.l1,
        steps=TrainConfig.steps if args.steps is None else args.steps, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        weight_decay=args.weight_decay, lr_schedule=args.lr_schedule, backend=args.backend, gradient=args.gradient,
        device=args.device, threads=args.threads, every=args.every, snapshots=args.snapshots,
        snapshot_schedule=args.snapshot_schedule, loss_every=args.loss_every, checkpoint=args.checkpoint,
    )
    return cfg.validate()


def run(args) -> int:
    import sys

    from animsup.cli.progress import make_progress
    from animsup.errors import AnimsupError
    from animsup.train import loop as tr

    enabled = None if not args.quiet else False
    if args.resume:
        _refuse_options_with_resume(args)
        bar, callback = make_progress("train (resumed)", None, unit="step", enabled=enabled)
        try:
            result = tr.resume(args.resume, steps=args.steps, device=args.device, threads=args.threads,
                               progress=callback)
        finally:
            bar.close()
    else:
        cfg = config_from_args(args)
        out = args.out
        if out == DEFAULT_OUT:
            os.makedirs(os.path.dirname(out), exist_ok=True)
        if os.path.isdir(out):
            raise AnimsupError(f"--out {out}: is a folder, expected a log file path such as {os.path.join(out, 'run.jsonl')}")
        bar, callback = make_progress("train", cfg.steps, unit="step", enabled=enabled)
        try:
            result = tr.train(cfg, out, force=args.force, progress=callback)
        finally:
            bar.close()
    if not args.quiet:
        print(summary(result), file=sys.stdout)
    if result.status == "diverged":
        print(f"animsup: error: training diverged (non-finite loss) at step {result.step}; "
              f"try a smaller --lr (was {result.config.lr:g})", file=sys.stderr)
        return 3
    if result.status == "interrupted":
        print(f"animsup: interrupted at step {result.step}; the log is valid "
              f"(continue with: animsup train --resume {result.log_path})", file=sys.stderr)
        return 130
    return 0


def _flat(groups):
    """Grid option values (each a number or the list a range gave) as one flat list; None stays None."""
    if groups is None:
        return None
    return [v for g in groups for v in (g if isinstance(g, list) else [g])]


def parse_grid(text: str) -> list[float]:
    """A number, or a range ``START:STOP:COUNT[:log|lin]`` (log-spaced by default, both ends included).

    :raises ValueError: anything else (argparse reports it as a one-line usage error)
    """
    parts = text.split(":")
    if len(parts) == 1:
        return [float(text)]
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "lin")):
        raise ValueError(f"expected a number or START:STOP:COUNT[:log|lin], got {text!r}")
    start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
    if count < 1:
        raise ValueError(f"a range needs COUNT >= 1, got {text!r}")
    import numpy as np

    if len(parts) == 3 or parts[3] == "log":
        if not (start > 0 and stop > 0):
            raise ValueError(f"a log range needs START, STOP > 0, got {text!r}")
        vals = np.geomspace(start, stop, count)
    else:
        vals = np.linspace(start, stop, count)
    return [float(v) for v in vals]


def _grid(text: str) -> list[float]:
    try:
        return parse_grid(text)
    except ValueError as e:
        msg = str(e) if str(e).startswith("expected") or "range" in str(e) else f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _sets(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"a set is comma-separated feature indices like 0,1, got {text!r}") from None


def _threads(text: str):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or auto, got {text!r}") from None


def _refuse_options_with_resume(args) -> None:
    """--resume continues the logged run with its own settings: other training options conflict."""
    from animsup.errors import AnimsupError

    defaults = argparse.ArgumentParser()
    add_train_options(defaults)
    for name, default in (vars(defaults.parse_args([])) | {"out": DEFAULT_OUT, "force": False}).items():
        if name not in ("steps", "device", "threads") and getattr(args, name, default) != default:
            flag = "--no-checkpoint" if name == "checkpoint" else "--" + name.replace("_", "-")
            raise AnimsupError(f"{flag} conflicts with --resume (a resumed run keeps the settings in its log; only --steps applies)")


def summary(result, max_groups: int = 40) -> str:
    """A one-screen summary: status, time, log, and per instance group (instances that differ only
    by seed) the best/median/worst final loss (animsup.analysis.ranking.final_loss, read back from the log);
    at most ``max_groups`` groups are listed."""
    import numpy as np

    cfg = result.config
    k = cfg.n_instances
    start = getattr(result, "start_step", 0)
    done = result.step - start  # a resumed run counts only this session's steps
    rate = done / result.wall_seconds if result.wall_seconds > 0 else float("nan")
    took = f": {done} steps from step {start} in {result.wall_seconds:.1f} s" if start else f" in {result.wall_seconds:.1f} s"
    lines = [
        f"{result.status} at step {result.step} of {cfg.steps}{took} "
        f"({rate:,.0f} steps/s, {k} instance{'s' * (k != 1)} of {cfg.model} n={cfg.n_features} m={cfg.n_hidden}, "
        f"{cfg.resolved_backend()}/{result.device})",
        f"log: {result.log_path}",
    ]
    from animsup.analysis import ranking
    from animsup.errors import AnimsupError

    try:  # the final loss every command uses (animsup.analysis.ranking), not the last snapshot's batch
        final = ranking.log_final_loss(result.log_path)
    except (AnimsupError, OSError):
        final = None
    final = result.final_loss if final is None or len(final) != k else final
    loss = np.asarray(final, dtype=np.float64)
    # a staged run reports the 1 - S it ended with (its last stage)
    imp, prob = cfg.importance_matrix(), cfg.probability_matrix(len(cfg.stages) - 1 if cfg.stages else None)
    groups: dict = {}
    for i in range(k):  # instances that differ only by seed, in order of first appearance
        groups.setdefault((imp[i].tobytes(), prob[i].tobytes()), []).append(i)
    show_r = cfg.last_importance is not None
    lines.append(f"final loss (mean of the last {100 * ranking.TAIL:g}% of the steps), compared within each group:")
    lines.append((f"{'I_n/I_1':>8}  " if show_r else "") +
                 f"{'1-S':>8}  {'best seed':>9}  {'best loss':>10}  {'median':>10}  {'worst':>10}  features > 0.5 (best seed)")
    seeds = cfg.instance_seeds()
    for n_shown, members in enumerate(groups.values()):
        if n_shown == max_groups:
            lines.append(f"... {len(groups) - max_groups} more groups")
            break
        row = loss[members]
        best = members[ranking.argbest(row)]
        feats = ""
        if result.W is not None:
            from animsup.analysis.geometry import describe

            g = describe(result.W[best])
            feats = f"{int(g.represented.sum())}" + (f" ({g.shape})" if g.shape else "")
        r = f"{imp[best, -1] / imp[best, 0] if imp[best, 0] else float('nan'):>8.3g}  " if show_r else ""
        lines.append(f"{r}{prob[best].mean():>8.3g}  {seeds[best]:>9}  {loss[best]:>10.4g}  {np.nanmedian(row):>10.4g}  "
                     f"{np.nanmax(row):>10.4g}  {feats}")
    return "\n".join(lines)
