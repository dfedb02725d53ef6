"""Everything the CLI prints goes through here, shown safely (:func:`animsup.escape.terminal`).

Log and checkpoint strings (seeds, file names, keys, labels, notes) may hold control
characters: printed raw they could clear the screen, write the clipboard (OSC 52) or hide
text. :func:`say` keeps the CLI's own newlines and tabs and escapes every other
non-printable character; :func:`say_json` writes JSON whose such characters are ``\\u``
escapes; :func:`error` and :func:`warning` lines are one line whatever the message holds.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from animsup.escape import terminal, terminal_json


def say(text: Any = "", *, file: TextIO | None = None, flush: bool = False) -> None:
    """Print ``text`` (and a newline) to stdout (or ``file``), non-printable characters escaped."""
    stream = file or sys.stdout
    stream.write(terminal(text, newlines=True) + "\n")
    if flush:
        stream.flush()


def say_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON to stdout (the ``--json`` outputs)."""
    sys.stdout.write(terminal_json(obj))


def error(message: Any, *, prefix: str = "animsup: error: ") -> None:
    """One line on stderr: ``prefix`` and the message, every control character and newline escaped."""
    sys.stderr.write(prefix + terminal(message) + "\n")


def warning(message: Any) -> str:
    """The one line a warning prints (``warnings.formatwarning`` of the CLI)."""
    return "animsup: warning: " + terminal(message) + "\n"
