"""User-facing errors and warnings.

Library code raises these; the CLI (``animsup.cli``) turns them into one line on
stderr and a non-zero exit code. Anything else that escapes is a bug.
"""

from __future__ import annotations

import os


class AnimsupError(Exception):
    """An error the user can fix (bad input, bad arguments, unwritable output).

    ``exit_code`` is what the CLI exits with: 2 for bad input or arguments.
    """

    exit_code = 2


class LogFormatError(AnimsupError):
    """A log that cannot be read: names the file and, where it applies, the line."""

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class LogWarning(UserWarning):
    """Something in a log was tolerated (e.g. a truncated last line)."""
