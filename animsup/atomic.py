"""Atomic output files: write to a temp file beside the target, then ``os.replace``.

A failed or interrupted write (an exception, Ctrl-C, SIGTERM turned into an
exception) removes the temp file and leaves the target untouched, so an earlier
good output is never destroyed and a partial file never appears at the target.
SIGKILL cannot be caught: it may leave a hidden ``.<name>.<random>.tmp<ext>`` beside
the target, never a partial target.

    with atomic_path("outputs/run.mp4") as tmp:
        encode_to(tmp)          # tmp = "outputs/.run.mp4.k3j2x.tmp.mp4"
    # here outputs/run.mp4 is complete
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from animsup.errors import AnimsupError


def check_writable_dir(target: str | os.PathLike) -> Path:
    """Raise :class:`AnimsupError` unless ``target``'s folder exists and is writable.

    Returns the target as an absolute :class:`Path`.
    """
    path = Path(os.fspath(target)).absolute()
    folder = path.parent
    if path.is_dir():
        raise AnimsupError(f"{target}: is a folder, expected a file path")
    if not folder.is_dir():
        raise AnimsupError(f"{target}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AnimsupError(f"{target}: output folder {folder} is not writable")
    return path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[str]:
    """Yield a temp path in the target's folder; on success ``os.replace`` it onto the target.

    The temp name keeps the target's extension (encoders that look at the
    extension still work). On any exception, including ``KeyboardInterrupt``,
    the temp file is removed and the exception propagates.
    """
    path = check_writable_dir(target)
    try:  # os.access says yes to root even where the file system refuses (/proc, /sys, read-only mounts)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except OSError as e:
        raise AnimsupError(f"{target}: cannot write in {path.parent}: {e.strerror or e}") from None
    os.close(fd)
    try:
        yield tmp
        if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
            raise AnimsupError(f"{target}: nothing was written")
        # mkstemp creates 0600; give the output the usual permissions (umask applied)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
