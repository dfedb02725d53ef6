"""Atomic output files: write to a temp file beside the target, then ``os.replace``.

A failed or interrupted write (an exception, Ctrl-C, SIGTERM turned into an
exception) removes the temp file and leaves the target untouched, so an earlier
good output is never destroyed and a partial file never appears at the target.
SIGKILL cannot be caught: it may leave a hidden ``.<name>.<random>.tmp<ext>`` beside
the target, never a partial target.

    with atomic_path("outputs/run.mp4") as tmp:
        encode_to(tmp)          # tmp = "outputs/.run.mp4.k3j2x.tmp.mp4"
    # here outputs/run.mp4 is complete

The file-system rules every command follows live here too: only regular files are
replaced (:func:`check_writable_dir`) or read (:func:`check_regular`, :func:`open_regular`);
a device, FIFO or socket is one clear error, never deleted and never blocked on. A replaced
file keeps its permission bits (:func:`output_mode`). A full disk, a quota, a file-size
limit, a read-only file system or a refused permission while writing is one line
(:func:`write_error`), not an internal error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import secrets
from pathlib import Path
from typing import Iterator

from animsup.errors import AnimsupError

# errors of the file system, not of animsup: a full disk, a quota, a file-size limit (RLIMIT_FSIZE),
# a read-only mount, a refused permission
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def write_error(target: str | os.PathLike[str], e: OSError, what: str = "cannot write") -> AnimsupError | None:
    """The one-line error for a write to ``target`` that failed with ``e``, or None when ``e`` is
    not a file-system condition the user can fix (a bug: let it propagate)."""
    if e.errno not in WRITE_ERRNOS:
        return None
    return AnimsupError(f"{os.fspath(target)}: {what}: {e.strerror or e}")


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike[str], *, folders: bool = False, what: str = "file") -> None:
    """Raise :class:`AnimsupError` if ``path`` exists and is neither a regular file nor (with
    ``folders``) a folder: a device, FIFO or socket is never read (a FIFO would block forever).
    A missing path passes (the caller reports it in its own words)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) or (folders and stat.S_ISDIR(mode)):
        return
    if stat.S_ISDIR(mode):
        raise AnimsupError(f"{os.fspath(path)}: is a folder, not a {what}")
    raise AnimsupError(f"{os.fspath(path)}: is {_kind(mode)}, not a regular {what}; animsup reads and writes only regular files")


def open_regular(path: str | os.PathLike[str], *, what: str = "file") -> int:
    """Open ``path`` for reading and return the descriptor, refusing anything but a regular file
    *before* blocking on it (a FIFO is opened non-blocking, checked, closed).

    :raises OSError: as :func:`os.open` (missing file, no permission)
    :raises AnimsupError: a folder, device, FIFO or socket
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
            raise AnimsupError(f"{os.fspath(path)}: is {_kind(mode)}, not a regular {what}; "
                               f"animsup reads and writes only regular files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def output_mode(target: str | os.PathLike[str]) -> int:
    """The permission bits an output at ``target`` gets: the replaced file's own, else ``0666 & ~umask``."""
    try:
        st = os.stat(target)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_writable_dir(target: str | os.PathLike) -> Path:
    """Raise :class:`AnimsupError` unless ``target``'s folder exists and is writable and ``target``
    is missing or a regular file (a device, FIFO or socket is never replaced).

    Returns the target as an absolute :class:`Path`.
    """
    path = Path(os.fspath(target)).absolute()
    folder = path.parent
    if path.is_dir():
        raise AnimsupError(f"{target}: is a folder, expected a file path")
    check_regular(path, what="output file")
    if not folder.is_dir():
        raise AnimsupError(f"{target}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AnimsupError(f"{target}: output folder {folder} is not writable")
    return path


def _temp_names(path: Path) -> Iterator[str]:
    """Names for a hidden temp file beside ``path`` that keep its extension (encoders look at it)."""
    for _ in range(100):
        yield str(path.parent / f".{path.name}.{secrets.token_hex(5)}.tmp{path.suffix}")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[str]:
    """Yield a temp path in the target's folder; on success ``os.replace`` it onto the target.

    The temp name keeps the target's extension (encoders that look at the
    extension still work). On any exception, including ``KeyboardInterrupt``,
    the temp file is removed and the exception propagates; an ``OSError`` of the file
    system (full disk, quota, file-size limit, read-only, permission) becomes one
    :class:`AnimsupError` line. The output keeps the mode of the file it replaces.
    """
    path = check_writable_dir(target)
    tmp = ""
    try:
        # The temp's name is known before the file exists, and both happen inside this try: an
        # interrupt (Ctrl-C, SIGTERM turned into KeyboardInterrupt) landing the moment the file
        # appears still removes it. (With mkstemp before the try, a render preempted there and
        # terminated on seeing its temp file left the file behind.)
        for tmp in _temp_names(path):
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
                break
            except FileExistsError:
                tmp = ""  # another file of that name: never ours to remove
            except OSError as e:  # os.access says yes to root where the file system refuses (/proc, read-only)
                tmp = ""
                raise AnimsupError(f"{target}: cannot write in {path.parent}: {e.strerror or e}") from None
        if not tmp:
            raise AnimsupError(f"{target}: no free temp file name in {path.parent}")
        yield tmp
        if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
            raise AnimsupError(f"{target}: nothing was written")
        check_regular(path, what="output file")  # (still: nothing turned the target into a device meanwhile)
        os.chmod(tmp, output_mode(path))  # created 0600
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            err = write_error(target, exc)
            if err is not None:
                raise err from None
        raise
