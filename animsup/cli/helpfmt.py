"""argparse help that shows a default only where it says something (shared by the commands)."""

from __future__ import annotations

import argparse


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
