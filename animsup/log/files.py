"""How log files are opened and framed: gzip-compressed logs, UTF-16/32 byte-order marks,
whole last lines, and one-line messages for JSON syntax errors (shared by the writer and the reader)."""

from __future__ import annotations

import gzip
from typing import Protocol

import orjson

from animsup.atomic import open_regular
from animsup.errors import AnimsupError

# Read buffer of a plain log file: lines of wide snapshots are longer than the default 8 KiB,
# and fewer, larger reads measured 10 % faster streaming (syscalls and copies).
_READ_BUFFER = 1 << 20


class LineFile(Protocol):
    """What the reader needs of an open log: binary lines, and closing."""

    def readline(self, limit: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _bom_encoding(head: bytes) -> str | None:
    """"UTF-16" / "UTF-32" when ``head`` starts with that byte-order mark (e.g. a log re-saved by
    PowerShell's ``>``), else None."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "UTF-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16"
    return None


class _Recoded:
    """A binary file in UTF-16/32 read as UTF-8 lines (``readline(limit)`` like a binary file)."""

    def __init__(self, path: str, encoding: str) -> None:
        import io

        self._text = io.open(path, "r", encoding=encoding.lower().replace("-", ""), newline="")

    def readline(self, limit: int = -1) -> bytes:
        try:
            return self._text.readline(limit).encode("utf-8")
        except UnicodeDecodeError as e:
            raise OSError(f"not valid text in its byte-order mark's encoding: {e.reason}") from None

    def close(self) -> None:
        self._text.close()


def _open_maybe_gzip(path: str) -> LineFile:
    """Open ``path`` for binary reading, through gzip if it starts with the gzip magic bytes,
    decoded to UTF-8 if it starts with a UTF-16/32 byte-order mark."""
    try:
        # a FIFO, device or socket is refused before anything blocks on it
        with open(open_regular(path, what="log file"), "rb") as f:
            magic = f.read(4)
        if magic[:2] == b"\x1f\x8b":
            return gzip.open(path, "rb")
        encoding = _bom_encoding(magic)
        if encoding is not None:
            return _Recoded(path, encoding)
        return open(path, "rb", buffering=_READ_BUFFER)
    except FileNotFoundError:
        raise AnimsupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AnimsupError(f"{path}: is a folder, not a log file") from None
    except OSError as e:
        raise AnimsupError(f"{path}: cannot read: {e.strerror or e}") from None


def _whole_record(raw: bytes) -> bool:
    """True if ``raw`` (a last line without its newline) is nevertheless a whole JSON object."""
    if not raw.rstrip().endswith(b"}"):
        return False
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


def not_a_log(raw: bytes) -> str:
    """The one reason given, by every reader, for a file whose first line is not a JSON object
    (a text file, a CSV, a binary file given as a log): ``not an animsup log (line 1 is not JSON)``.

    :param raw: the file's first line (bytes)
    """
    if _binary(raw):
        why = "line 1 is binary data, not JSON text"
    else:
        try:
            orjson.loads(raw)
            why = "line 1 is JSON but not a JSON object"
        except orjson.JSONDecodeError:
            why = "line 1 is not JSON"
    return f"not an animsup log ({why})"


def _binary(raw: bytes) -> bool:
    head = raw[:4096]
    return b"\x00" in head or bool(head and sum(c < 9 or 13 < c < 32 for c in head) > len(head) // 20)


def _json_error(e: orjson.JSONDecodeError, raw: bytes) -> str:
    """One short line for a JSON syntax error (orjson's own 'line 1 column N' is about the line's text)."""
    if _binary(raw):
        return "binary data, not JSON text (not an animsup log?)"
    hint = ""
    if b"NaN" in raw or b"Infinity" in raw:
        hint = " (NaN and Infinity are not valid JSON; animsup writes finite numbers only)"
    reason = str(getattr(e, "msg", "") or e).split(":")[0][:100]
    col = getattr(e, "colno", None)
    return f"not valid JSON{hint}: {reason}" + (f" at column {col}" if col else "")
