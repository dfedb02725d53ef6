"""One escaping function per sink that text from a log or a checkpoint reaches.

Strings in a log (seeds, ``model_label``, ``model_formula``, notes, keys, the log's own file
name) are untrusted: anyone may have written the file. Each place such a string leaves the
program goes through the function of its sink:

- :func:`html_json`: data inlined in an HTML page's ``<script>`` (the viewer page, the live
  server's ``payload.json``): JSON whose ``<``, ``>``, ``&``, U+2028 and U+2029 are ``\\u``
  escapes, so no string can end the script element or open an HTML comment in it
  (``<!--<script>`` puts the HTML parser in its "script data double escaped" state, which
  would swallow the page's real scripts). :func:`html_text` for text and attribute values.
- :func:`terminal` / :func:`terminal_json`: everything the CLI prints. Control characters
  (C0, DEL, C1: screen clears, OSC 52 clipboard writes, hidden text), bidirectional overrides
  (U+202E ...), line separators and other invisible characters are shown escaped (``\\x1b``,
  ``\\u202e``); printable Unicode is kept.
- :data:`PLAIN_TEXT_RC`: matplotlib. Every figure animsup draws is built under these rc settings,
  so no :class:`~matplotlib.text.Text` parses mathtext or TeX: ``$x^{$`` is drawn as typed.
  :func:`plain_text` for the rare Text made outside them (it escapes ``$``).

This module is a leaf: it imports nothing from animsup, and matplotlib only for its types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# ----------------------------------------------------------------------------- HTML

_HTML_JSON = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def html_json(obj: Any) -> str:
    """``obj`` as JSON that is safe inside an HTML ``<script>`` element and in JavaScript source.

    The same JSON (``JSON.parse`` gives the same value), with ``<``, ``>``, ``&``, U+2028 and
    U+2029 written as ``\\u`` escapes: these characters occur in JSON only inside strings, where
    the escapes mean the same characters. numpy arrays and scalars are serialised as lists and numbers.
    """
    import orjson  # (lazily: the CLI's start-up imports this module for its terminal sink)

    text = orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")
    for ch, escaped in _HTML_JSON:  # str.replace: C speed on a page's megabytes of numbers
        text = text.replace(ch, escaped)
    return text


def html_text(text: str) -> str:
    """``text`` for HTML element content or a quoted attribute value (``&<>"'`` escaped)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


# ----------------------------------------------------------------------------- terminal


def _escape_char(ch: str, json: bool) -> str:
    c = ord(ch)
    if c < 0x80 and not json:
        return f"\\x{c:02x}"
    if c <= 0xFFFF:
        return f"\\u{c:04x}"
    if json:  # JSON has no \U: a surrogate pair
        c -= 0x10000
        return f"\\u{0xD800 + (c >> 10):04x}\\u{0xDC00 + (c & 0x3FF):04x}"
    return f"\\U{c:08x}"


def _shown(text: str, keep: str, json: bool) -> str:
    out = []
    for line in text.split("\n") if "\n" in keep else (text,):
        if line.isprintable():  # the fast path: C code, true for nearly every line
            out.append(line)
        else:
            out.append("".join(ch if ch.isprintable() or ch in keep else _escape_char(ch, json) for ch in line))
    return "\n".join(out)


def terminal(text: Any, *, newlines: bool = False) -> str:
    """``text`` (``str()`` of it) as it may be printed to a terminal: every character that is not
    printable Unicode is shown as an escape, ``\\x1b`` for ESC, ``\\u202e`` for a bidi override,
    ``\\udcff`` for an undecodable byte of a file name, ``\\U000e0041`` beyond the BMP.

    What is escaped is what :meth:`str.isprintable` refuses: control characters (C0, DEL, C1),
    format characters (bidi overrides and isolates, zero-width characters), line and paragraph
    separators, surrogates, private-use and unassigned code points, and spaces other than U+0020.
    ``newlines``: keep ``\\n`` and ``\\t`` (the CLI's own multi-line output); by default they are
    escaped too, so the result is one line (an error message)."""
    text = str(text)
    return _shown(text, "\n\t" if newlines else "", json=False)


def terminal_json(obj: Any, *, indent: bool = True) -> str:
    """``obj`` as JSON for a terminal: valid JSON meaning the same, whose every non-printable
    character (see :func:`terminal`) is a ``\\u`` escape. Ends with a newline."""
    import orjson

    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if indent else 0)
    text = orjson.dumps(obj, option=opts).decode("utf-8")
    return _shown(text, "\n", json=True)


# ----------------------------------------------------------------------------- matplotlib

#: matplotlib rc settings under which a Text is drawn as typed: no mathtext (``$...$``), no TeX.
#: The video's figure and the minima gallery are built under them (``matplotlib.rc_context``).
PLAIN_TEXT_RC: dict[RcKeyType, object] = {"text.parse_math": False, "text.usetex": False}


def plain_text(text: Any) -> str:
    """A string from a log as it goes into a picture's or a page's text (titles, labels): one line,
    its non-printable characters shown as escapes as :func:`terminal` shows them. Drawn raw, a bidi
    override (U+202E) would reverse the rest of the title, animsup's own words included, and
    control characters would be blank boxes. ``$`` is kept: the figures parse no mathtext
    (:data:`PLAIN_TEXT_RC`)."""
    return _shown(str(text), "", json=False)
