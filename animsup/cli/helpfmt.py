"""argparse help that shows a default only where it says something (shared by the commands)."""

from __future__ import annotations

import argparse
import re

#: a default named inside an option's help: "...; default 0.1)" or " (default: 0)"
_NAMED_DEFAULT = re.compile(r";\s*default:?\s[^;)]*(?=\))|\s*\(default:?\s[^)]*\)")


class HelpFormatter(argparse.HelpFormatter):
    """Shows "(default: X)" only where it says something: not for flags, not for options whose
    default is "not set" (None, empty), and not where the help already names its default."""

    def _get_help_string(self, action):
        text = action.help or ""
        d = action.default
        if ("default" in text or d is None or d is False or d is True or d in ("", (), [])
                or d is argparse.SUPPRESS or action.option_strings == [] or action.nargs == 0):
            return text
        if isinstance(d, (list, tuple)):  # nargs="+" defaults read as typed: "0.9", not "['0.9']"
            return text + " (default: " + " ".join(map(str, d)).replace("%", "%%") + ")"
        return text + " (default: %(default)s)"


def override_defaults(parser: argparse.ArgumentParser, **defaults: object) -> None:
    """``parser.set_defaults(**defaults)`` for a command that reuses another's options with its own
    defaults (``animsup demo``), and the help of each such option then shows the new default: a
    default its help text names is removed, so :class:`HelpFormatter` appends the real one."""
    parser.set_defaults(**defaults)
    for action in parser._actions:
        if action.dest in defaults and action.help:
            action.help = _NAMED_DEFAULT.sub("", action.help)
