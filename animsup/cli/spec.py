"""Sweep specs and ``animsup train --config`` files: TOML tables whose keys are ``animsup train``'s
long option names (``n-features = 5``, ``feature-probability = [1.0, 0.1]``, ``seeds = 8``, ...).

A value is what the option takes on the command line, as TOML: a number, a string (a range
``"0.01:1:20"``, a choice), a boolean for a flag (``normalize = true``, ``no-checkpoint = true``, or
``checkpoint = false``), a list for an option that takes several values. List values form the grid,
as on the command line: ``feature-probability``, ``last-importance`` and ``seeds`` are the instances
of one batched run; ``importance = [0.9, 0.7]`` gives one instance group per base (a list of lists:
per-feature weights per group); a list for any single-valued option (``n-hidden = [16, 32]``,
``lr = [1e-3, 3e-3]``) makes one run (*group*) per value, in the order of the keys.
``seeds = K`` is seeds 0..K-1; ``seeds = [S1, S2, ...]`` exactly those (also a list of one).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Callable
from typing import Any

from animsup.errors import AnimsupError

#: keys whose lists are the instances of one batched run (not separate runs)
INSTANCE_KEYS = ("feature-probability", "last-importance", "seeds", "seed", "importance")


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The table in a TOML file. :raises AnimsupError: unreadable or not TOML"""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # (the core's dependency on Python 3.10)
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise AnimsupError(f"{os.fspath(path)}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise AnimsupError(f"{os.fspath(path)}: not a valid TOML file: {e}") from None


def _options() -> dict[str, Any]:
    """key (long option name without --) -> its described option."""
    from animsup.train.config import OPTIONS

    out = {}
    for opt in OPTIONS:
        if opt.spec.cli:
            out[opt.flag[2:]] = opt
    return out


def _check_keys(spec: dict[str, Any], where: str) -> dict[str, Any]:
    opts = _options()
    known = set(opts) | {"seed", "checkpoint"}
    for key in spec:
        if key not in known:
            raise AnimsupError(f"{where}: unknown key {key!r}: the keys are animsup train's long option names "
                               f"({', '.join(sorted(known))})")
    return opts


def _tokens(key: str, value: Any, opts: dict[str, Any], where: str) -> list[str]:
    """Command-line tokens for one key = value (one value per single-valued option)."""
    if key == "checkpoint":
        key, value = "no-checkpoint", _bool(value, key, where) is False
    if key == "seed":
        return ["--seed", _scalar(value, key, where)]
    opt = opts[key]
    flag = "--" + key
    if opt.spec.action is not None:
        return [flag] if _bool(value, key, where) else []
    if key == "seeds" and isinstance(value, list):
        return ["--seeds", *[_scalar(v, key, where) for v in value]] if len(value) != 1 else ["--seed", _scalar(value[0], key, where)]
    if opt.spec.nargs == "+":
        values = value if isinstance(value, list) else [value]
        if opt.spec.parse == "sets":
            return [flag, *[",".join(_scalar(i, key, where) for i in _list(v, key, where)) for v in values]]
        return [flag, *[_scalar(v, key, where) for v in values]]
    return [flag, _scalar(value, key, where)]


def _bool(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise AnimsupError(f"{where}: {key} is a flag: true or false, got {value!r}")
    return value


def _list(value: Any, key: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise AnimsupError(f"{where}: {key} takes lists of feature indices such as [[0, 1], [2, 3]], got {value!r}")
    return value


def _scalar(value: Any, key: str, where: str) -> str:
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise AnimsupError(f"{where}: {key} takes a number or a string here, got {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


def _importance_groups(value: Any, n_features: int, where: str) -> Any:
    """The config's importance for a spec's ``importance``: a list of group values -> one group each."""
    from animsup.train.data import importance_vector

    if not isinstance(value, list):
        return None
    groups = []
    for v in value:
        if isinstance(v, list) or isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            try:
                groups.append(importance_vector(v, n_features).astype(float).tolist())
            except ValueError:
                raise AnimsupError(f"{where}: importance group {v!r} needs one weight per feature ({n_features})") from None
        else:
            raise AnimsupError(f"{where}: importance takes numbers, 'constant' or per-feature lists, got {v!r}")
    return groups


class _SpecParser(argparse.ArgumentParser):
    """The train options' parser; an error is an AnimsupError naming the file (not an exit)."""

    where = "spec"

    def error(self, message: str) -> Any:  # (argparse's own error exits)
        raise AnimsupError(f"{self.where}: {message.replace('argument ', '')}")


def _parser(add_options: Callable[[argparse.ArgumentParser], None], where: str = "spec") -> argparse.ArgumentParser:
    p = _SpecParser(prog="animsup", add_help=False)
    p.where = where
    add_options(p)
    return p


def spec_groups(spec: dict[str, Any], where: str, *, add_options: Callable[[argparse.ArgumentParser], None],
                make_config: Callable[[argparse.Namespace], Any],
                overrides: dict[str, Any] | None = None) -> list[tuple[dict[str, Any], Any]]:
    """The runs of a spec, in grid order: ``[(labels, TrainConfig)]`` where ``labels`` holds the values
    of the keys that vary between runs (empty for a spec of one run). (``animsup.cli.train.spec_configs``
    calls it with train's options.)

    :param add_options: adds train's options to a parser; ``make_config``: parsed options -> config
    :param overrides: parsed command-line values that win over the file (``train --config``)
    :raises AnimsupError: an unknown key, a value the option does not take, an invalid config
    """
    if not spec:
        raise AnimsupError(f"{where}: no options (an empty file): its keys are animsup train's long option names, "
                           f"e.g. n-features = 5")
    opts = _check_keys(spec, where)
    if overrides:  # a command-line option pins its key: the file's value (list or not) is not used
        spec = {k: v for k, v in spec.items() if _dest(k, opts) not in _pinned(set(overrides))}
    outer = [(k, v) for k, v in spec.items() if k not in INSTANCE_KEYS and isinstance(v, list)
             and k in opts and opts[k].spec.nargs != "+"]
    outer_keys = {k for k, _ in outer}
    base = [t for k, v in spec.items() if k not in outer_keys and not (k == "importance" and isinstance(v, list))
            for t in _tokens(k, v, opts, where)]
    parser = _parser(add_options, where)
    groups = []
    for combo in itertools.product(*[values for _, values in outer]):
        tokens = base + [t for (k, _), v in zip(outer, combo) for t in _tokens(k, v, opts, where)]
        args = parser.parse_args(tokens)
        if overrides:
            for name, value in overrides.items():
                setattr(args, name, value)
        cfg = make_config(args)
        groups_imp = None if overrides and "importance" in overrides else _importance_groups(spec.get("importance"), cfg.n_features, where)
        if groups_imp is not None:
            cfg = cfg.replace(importance=groups_imp).validate()
        groups.append(({k: v for (k, _), v in zip(outer, combo)}, cfg))
    return groups


#: options that a command-line option replaces together with its own key (they conflict with it)
_REPLACES = {"seed": ("seeds",), "seeds": ("seed",), "stages": ("feature_probability",)}


def _dest(key: str, opts: dict[str, Any]) -> str:
    """The parsed options' name of a spec key ("n-hidden" -> "n_hidden")."""
    return opts[key].name if key in opts else key.replace("-", "_")


def _pinned(overridden: set[str]) -> set[str]:
    return overridden | {r for name in overridden for r in _REPLACES.get(name, ())}


#: the parsed options' attribute that :func:`record_given` fills: the names of the options given
GIVEN = "given_options"


def record_given(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` note every option given on the command line (also one given its default value,
    ``--n-hidden 2``) in the parsed namespace's :data:`GIVEN` set, for :func:`explicit_options`."""
    for action in parser._actions:
        if action.option_strings and action.dest != "help" and not getattr(action, "records_given", False):
            action.__class__ = _recording(type(action))


def _recording(base: type[argparse.Action]) -> type[argparse.Action]:
    """A subclass of the action class ``base`` that adds its option's name to the namespace's :data:`GIVEN`."""

    def call(self: argparse.Action, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
             values: Any, option_string: str | None = None) -> None:
        setattr(namespace, GIVEN, (getattr(namespace, GIVEN, None) or set()) | {self.dest})
        base.__call__(self, parser, namespace, values, option_string)

    return type(base.__name__, (base,), {"records_given": True, "__call__": call})


def explicit_options(args: argparse.Namespace, add_options: Callable[[argparse.ArgumentParser], None]) -> dict[str, Any]:
    """The training options given on the command line: those :func:`record_given` saw, and those
    that differ from their defaults."""
    defaults = vars(_parser(add_options).parse_args([]))
    given = getattr(args, GIVEN, None) or set()
    return {name: getattr(args, name) for name, default in defaults.items()
            if hasattr(args, name) and (name in given or getattr(args, name) != default)}
