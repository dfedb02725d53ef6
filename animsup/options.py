"""Options defined once, as dataclass fields: help text, limit, choices and CLI spelling in the metadata.

:class:`animsup.rendering.config.RenderConfig` and :class:`animsup.train.config.TrainConfig` declare
every option with :func:`option`. From that one definition come the argparse options
(:func:`add_arguments`), the options tables in docs/ (:func:`markdown_table`; a test keeps each doc
equal to its table) and the checks every config shares (:func:`is_number`, :func:`is_int`,
:func:`check_choice`).

A leaf: pure Python, no numpy (``animsup render --help`` and ``animsup train --help`` import it).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard, TypeVar, overload

from animsup.errors import AnimsupError

T = TypeVar("T")

#: what argparse's add_argument takes as keyword arguments (its own API is untyped)
ArgKwargs = dict[str, Any]


class _Same:
    """The CLI default of an option is its field's default."""

    def __repr__(self) -> str:
        return "SAME"


SAME = _Same()


@dataclass(frozen=True)
class Option:
    """One option's definition, kept in its dataclass field's metadata under ``"option"``.

    :param help: the ``--help`` text ("" = none); ``{default}`` is replaced by the field's default
    :param limit: the values allowed, in words (the docs table's "limit" column)
    :param choices: the only values allowed (argparse ``choices``; :func:`check_choice`)
    :param doc: the docs table's text where it says more than ``help`` (default: ``help``)
    :param group: the argparse group the option is listed under
    :param flags: the option strings (default: ``--name-with-dashes``)
    :param metavar: argparse ``metavar``
    :param nargs: argparse ``nargs``
    :param parse: the name of the function that parses one command-line value, looked up in the
        table given to :func:`add_arguments` (default: the field's type, for int and float)
    :param action: argparse ``action`` ("store_true", "store_false")
    :param cli_default: the argparse default when it is not the field's own (e.g. None: "not given")
    :param cli: False: a library-only option (no command-line flag)
    """

    help: str = ""
    limit: str = ""
    choices: tuple[str, ...] = ()
    doc: str = ""
    group: str = ""
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    nargs: str | None = None
    parse: str | None = None
    action: str | None = None
    cli_default: object = SAME
    cli: bool = True


@overload
def option(default: T, help: str = "", limit: str = "", **spec: Any) -> T: ...
@overload
def option(*, factory: Callable[[], T], help: str = "", limit: str = "", **spec: Any) -> T: ...


def option(default: object = dataclasses.MISSING, help: str = "", limit: str = "", *,
           factory: Callable[[], object] | None = None, **spec: Any) -> Any:
    """A dataclass field with its :class:`Option` in the metadata (``spec``: the other Option fields).

    The metadata also carries ``"help"`` and ``"limit"`` as plain strings."""
    opt = Option(help=help, limit=limit, **spec)
    metadata = {"help": help, "limit": limit, "option": opt}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Described:
    """A field of a config and its option: ``name``, the resolved ``default`` and ``spec``."""

    name: str
    default: object
    spec: Option

    @property
    def flag(self) -> str:
        return self.spec.flags[0] if self.spec.flags else "--" + self.name.replace("_", "-")

    @property
    def help(self) -> str:
        return self.spec.help.replace("{default}", _plain(self.default))


def described(cls: type) -> tuple[Described, ...]:
    """Every field of the dataclass ``cls`` declared with :func:`option`, in field order."""
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("option")
        if spec is None:
            continue
        if f.default_factory is not dataclasses.MISSING:
            default: object = f.default_factory()
        else:
            default = None if f.default is dataclasses.MISSING else f.default
        out.append(Described(f.name, default, spec))
    return tuple(out)


# --------------------------------------------------------------------------- argparse


def add_arguments(parser: argparse.ArgumentParser, options: Iterable[Described],
                  parsers: Mapping[str, Callable[[str], object]],
                  extra: Mapping[str, Sequence[tuple[tuple[str, ...], ArgKwargs]]] | None = None) -> None:
    """Add each command-line option to ``parser``, in an argument group per :attr:`Option.group`.

    :param parsers: :attr:`Option.parse` name -> the function that parses one value
        (argparse ``type``; "int" and "float" need no entry)
    :param extra: options that are not fields, added right after the named option:
        name -> [(flags, add_argument keyword arguments)]
    """
    groups: dict[str, argparse._ArgumentGroup] = {}
    table: dict[str, Callable[[str], object]] = {"int": int, "float": float, **parsers}
    for opt in options:
        if not opt.spec.cli:
            continue
        title = opt.spec.group
        if title not in groups:
            groups[title] = parser.add_argument_group(title or None)
        group = groups[title]
        group.add_argument(*(opt.spec.flags or (opt.flag,)), **_argparse_kwargs(opt, table))
        for flags, kwargs in (extra or {}).get(opt.name, ()):
            group.add_argument(*flags, **kwargs)


def _argparse_kwargs(opt: Described, parsers: Mapping[str, Callable[[str], object]]) -> ArgKwargs:
    spec = opt.spec
    kw: ArgKwargs = {"default": opt.default if spec.cli_default is SAME else spec.cli_default}
    if spec.flags and spec.flags[0].lstrip("-").replace("-", "_") != opt.name:
        kw["dest"] = opt.name
    if spec.help:
        kw["help"] = opt.help.replace("%", "%%")
    elif spec.doc:  # the docs table's text, without its Markdown, rather than no help at all
        kw["help"] = spec.doc.replace("`", "").replace("%", "%%")
    if spec.action is not None:
        kw["action"] = spec.action
        return kw
    if spec.choices:
        kw["choices"] = spec.choices
    if spec.parse is not None:
        kw["type"] = parsers[spec.parse]
    if spec.nargs is not None:
        kw["nargs"] = spec.nargs
    if spec.metavar is not None:
        kw["metavar"] = spec.metavar
    return kw


# --------------------------------------------------------------------------- docs


def markdown_table(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """A Markdown table of (option, default, limit, what) rows (the docs' options tables)."""
    lines = ["| option | default | limit | what |", "|---|---|---|---|"]
    for name, default, limit, what in rows:
        lines.append(f"| {name} | {default} | {limit or '—'} | {what} |")
    return "\n".join(lines)


def doc_rows(options: Iterable[Described]) -> list[tuple[str, str, str, str]]:
    """(option, default, limit, what) of each option: the flag (and field name) of a command-line
    option, the default as plain text, the limit (or the choices), the doc (or help) text."""
    rows = []
    for opt in options:
        spec = opt.spec
        if not spec.cli:
            name = f"`{opt.name}` (library only)"
        else:
            arg = f" {spec.metavar}" if spec.metavar else ""
            shown = ", ".join(f"`{flag}{arg}`" for flag in spec.flags or (opt.flag,))
            name = shown if opt.flag[2:].replace("-", "_") == opt.name else f"{shown} (`{opt.name}`)"
        limit = spec.limit or ", ".join(f"`{c}`" for c in spec.choices)
        what = (spec.doc or opt.help).replace("|", "\\|")
        rows.append((name, _plain(opt.default), limit.replace("|", "\\|"), what))
    return rows


def _plain(v: object) -> str:
    """A default as the docs and help show it: lists space-separated, None as "—"."""
    if v is None or v == [] or v == ():
        return "—"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, (list, tuple)):
        return " ".join(_plain(x) for x in v)
    return str(v)


# --------------------------------------------------------------------------- checks


def is_number(v: object) -> TypeGuard[float]:
    """A finite int or float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_real(v: object) -> TypeGuard[float]:
    """An int or float, not a bool (inf and nan included: the caller's limit rejects them)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v: object) -> TypeGuard[int]:
    """A true int (not a bool, not a float with an integer value)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_integral(v: object) -> TypeGuard[int]:
    """An int or a numpy integer (any :class:`numbers.Integral`), not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_positive(flag: str, value: object) -> float:
    """``value`` as a float when it is a finite number > 0 (``nan`` and ``inf`` pass a bare ``> 0``).

    :raises AnimsupError: anything else, one line naming ``flag``
    """
    if not is_number(value) or value <= 0:
        raise AnimsupError(f"{flag} must be a finite number > 0, got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    """:raises AnimsupError: ``value`` is not one of ``choices`` (one line naming them)"""
    if value not in choices:
        raise AnimsupError(f"unknown {name} {value!r} (choose from {', '.join(choices)})")
