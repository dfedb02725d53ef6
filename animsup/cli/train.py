"""``animsup train``: train toy models of superposition and write a run log.

Instances are the product of --last-importance, --feature-probability and --seeds, trained together
in one batched program. A grid value is a number or a range START:STOP:COUNT[:log|lin] (log by
default), e.g. --last-importance 0.1:10:20 --feature-probability 0.01:1:20 --seeds 10 (4,000 models). Ctrl-C or SIGTERM ends the log with status "interrupted" (exit 130);
`animsup train --resume LOG` continues it.
"""

from __future__ import annotations

import argparse
import os

from typing import TYPE_CHECKING

from animsup.cli.helpfmt import HelpFormatter
from animsup.cli.output import error, say

if TYPE_CHECKING:
    from animsup.train.config import TrainConfig
    from animsup.train.loop import TrainResult

DEFAULT_OUT = os.path.join("logs", "train.jsonl")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train toy models of superposition and write a JSONL run log",
        description=__doc__.split("\n\n")[1],
        formatter_class=HelpFormatter,
    )
    p.add_argument("--config", metavar="FILE.toml",
                   help="read the options from a TOML file whose keys are these long option names (the format of "
                        "an animsup sweep spec, for one run); options given here override it")
    add_train_options(p)
    from animsup.cli.spec import record_given

    record_given(p)  # --config: an option given on the command line wins, even at its default value
    g = p.add_argument_group("output")
    g.add_argument("--out", "-o", default=DEFAULT_OUT, metavar="LOG", help="run log to write (.jsonl)")
    g.add_argument("--force", action="store_true", help="overwrite an existing log")
    g.add_argument("--resume", metavar="LOG",
                   help="continue the run in LOG from its last snapshot (only --steps, --device/--threads apply)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)
    return p


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The training options shared by train, demo and minima: every command-line option of
    :class:`animsup.train.config.TrainConfig`, its help, default and choices from the field metadata."""
    from animsup.options import add_arguments
    from animsup.train.config import OPTIONS

    seed = (("--seed",), {"type": int, "default": None, "metavar": "S",
                          "help": "a single seed (same as --seeds with one explicit seed)"})
    add_arguments(parser, OPTIONS, {"grid": _grid, "sets": _sets, "threads": _threads}, extra={"seeds": [seed]})


def _importance(values: list[str]) -> float | str | list[float]:
    from animsup.errors import AnimsupError

    if len(values) == 1 and values[0] == "constant":
        return "constant"
    try:
        nums = [float(v) for v in values]
    except ValueError:
        raise AnimsupError(f"--importance takes a number, 'constant' or one number per feature, got {' '.join(values)}") from None
    return nums[0] if len(nums) == 1 else nums


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A validated :class:`animsup.train.config.TrainConfig` from parsed options (raises AnimsupError)."""
    from animsup.errors import AnimsupError
    from animsup.train.config import Probability, TrainConfig

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
    given = _flat(args.feature_probability)
    probs: list[Probability] = [*given] if given is not None else TrainConfig().feature_probability
    stage_values = _flat(args.stages)
    stages: list[Probability] | None = None if stage_values is None else [*stage_values]
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
        anticorrelated_sets=list(args.anticorrelated_sets), exclusive_sets=list(args.exclusive_sets), stages=stages,
        hierarchical_sets=list(args.hierarchical_sets), child_probability=args.child_probability,
        dataset_size=args.dataset_size, normalize=args.normalize, loss_reduction=args.loss_reduction, l1=args.l1,
        steps=TrainConfig.steps if args.steps is None else args.steps, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        weight_decay=args.weight_decay, lr_schedule=args.lr_schedule, backend=args.backend, gradient=args.gradient,
        device=args.device, threads=args.threads, every=args.every, snapshots=args.snapshots,
        snapshot_schedule=args.snapshot_schedule, loss_every=args.loss_every, checkpoint=args.checkpoint,
    )
    return cfg.validate()


def run(args: argparse.Namespace) -> int:
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
        cfg = _config_from_file(args) if args.config else config_from_args(args)
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
        say(summary(result))
    if result.status == "diverged":
        error(f"training diverged (non-finite loss) at step {result.step}; try a smaller --lr (was {result.config.lr:g})")
        return 3
    if result.status == "interrupted":
        error(f"at step {result.step}; the log is valid (continue with: animsup train --resume {result.log_path})",
              prefix="animsup: interrupted ")
        return 130
    return 0


def spec_configs(spec: dict, where: str, overrides: dict | None = None) -> list:
    """The runs of a sweep spec or config file (:func:`animsup.cli.spec.spec_groups` with train's
    options): ``[(labels, TrainConfig)]`` in grid order."""
    from animsup.cli.spec import spec_groups

    return spec_groups(spec, where, add_options=add_train_options, make_config=config_from_args, overrides=overrides)


def _config_from_file(args: argparse.Namespace) -> TrainConfig:
    """``--config FILE.toml``: the file's options, those given on the command line winning (one run only)."""
    from animsup.cli.spec import explicit_options, load_toml
    from animsup.errors import AnimsupError

    groups = spec_configs(load_toml(args.config), args.config, overrides=explicit_options(args, add_train_options))
    if len(groups) != 1:
        keys = ", ".join(sorted(groups[0][0]))
        raise AnimsupError(f"{args.config}: lists for {keys} make {len(groups)} runs; run the file with animsup sweep")
    return groups[0][1]


def _flat(groups: list[float | list[float]] | None) -> list[float] | None:
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


def _threads(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or auto, got {text!r}") from None


def _refuse_options_with_resume(args: argparse.Namespace) -> None:
    """--resume continues the logged run with its own settings: other training options conflict."""
    from animsup.errors import AnimsupError

    defaults = argparse.ArgumentParser()
    add_train_options(defaults)
    if args.config:
        raise AnimsupError("--config conflicts with --resume (a resumed run keeps the settings in its log)")
    for name, default in (vars(defaults.parse_args([])) | {"out": DEFAULT_OUT, "force": False}).items():
        if name not in ("steps", "device", "threads") and getattr(args, name, default) != default:
            flag = "--no-checkpoint" if name == "checkpoint" else "--" + name.replace("_", "-")
            raise AnimsupError(f"{flag} conflicts with --resume (a resumed run keeps the settings in its log; only --steps applies)")


def summary(result: TrainResult, max_groups: int = 40) -> str:
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
    # instances that differ in importance (a list of bases): a column naming each group's importance
    show_i = not show_r and len({imp[i].tobytes() for i in range(k)}) > 1
    lines.append(f"final loss (mean of the last {100 * ranking.TAIL:g}% of the steps), compared within each group:")
    lines.append((f"{'I_n/I_1':>8}  " if show_r else "") + (f"{'importance':>12}  " if show_i else "") +
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
        r += f"{ranking.describe_importance(imp[best]):>12}  " if show_i else ""
        lines.append(f"{r}{prob[best].mean():>8.3g}  {seeds[best]:>9}  {loss[best]:>10.4g}  {np.nanmedian(row):>10.4g}  "
                     f"{np.nanmax(row):>10.4g}  {feats}")
    return "\n".join(lines)
