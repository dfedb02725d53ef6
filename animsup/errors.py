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


def available_memory() -> int:
    """Bytes this process may still allocate: Linux's MemAvailable, lowered by a RLIMIT_AS/RLIMIT_DATA
    limit; the environment variable ``ANIMSUP_MEMORY_BUDGET`` (bytes) overrides it (tests, shared
    machines). Where none of these can be read: 2**62 (no limit known)."""
    env = os.environ.get("ANIMSUP_MEMORY_BUDGET", "").strip()
    if env:
        try:
            return max(int(float(env)), 0)
        except ValueError:
            pass
    avail = 1 << 62
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft = resource.getrlimit(which)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                avail = min(avail, soft)
    except (ImportError, OSError, ValueError):
        pass
    return avail


def gigabytes(nbytes: float) -> str:
    """``nbytes`` in GB for a message: "3.2 GB", "0.004 GB"."""
    gb = nbytes / 1e9
    return f"{gb:.3g} GB" if gb < 100 else f"{gb:,.0f} GB"


def check_memory(nbytes: float, what: str) -> None:
    """Raise :class:`AnimsupError` ("WHAT needs N GB, more than the M GB of memory available")
    when ``nbytes`` exceed :func:`available_memory`."""
    avail = available_memory()
    if nbytes > avail:
        raise AnimsupError(f"{what} needs {gigabytes(nbytes)}, more than the {gigabytes(avail)} of memory available")


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``"1 snapshot"``, ``"3 snapshots"``, ``"1,200 frames"``: a count and its noun in the right number,
    for every user-facing message (``many`` for irregular plurals, e.g. ``plural(n, "loss", "losses")``)."""
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"
