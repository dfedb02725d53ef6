"""animsup.escape: one escaping function per sink, checked against each sink's own rules.

- HTML/JS (html_json): the result parses back to the same value and holds none of the characters
  that let a string leave a <script> element or a JavaScript string (<, >, &, U+2028, U+2029).
- terminal (terminal, terminal_json): the result holds only characters ``str.isprintable`` accepts
  (plus newlines where asked), keeps printable Unicode as it is, and terminal_json stays JSON with
  the same meaning.
- matplotlib (plain_text, PLAIN_TEXT_RC): one line of printable text; the rc turns mathtext off.
"""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from animsup.escape import PLAIN_TEXT_RC, html_json, html_text, plain_text, terminal, terminal_json

EXAMPLES = settings(max_examples=int(os.environ.get("ANIMSUP_FUZZ_EXAMPLES", 300)), deadline=None,
                    derandomize=os.environ.get("ANIMSUP_FUZZ_RANDOM") is None)
# any Unicode text, including lone surrogates (undecodable file-name bytes under surrogateescape)
NASTY = st.sampled_from(["\x1b", "\x07", "\x9b", "\x7f", "\n", "\t", "\u202e", "\u2066", "\u200b", "\u2028",
                         "\ufeff", "\U000e0041", "\udcff", "\ud800", "\U0010fffe", "<", "$"])
ANY_TEXT = st.text(st.characters() | NASTY, max_size=40)
# what JSON can carry (orjson refuses lone surrogates, as JSON text must be valid UTF-8)
JSON_TEXT = st.text(st.characters(exclude_categories=("Cs",)) | NASTY.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF),
                    max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | JSON_TEXT,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(JSON_TEXT, c, max_size=4), max_leaves=15)

PAGE_BREAKERS = ("<", ">", "&", "\u2028", "\u2029")


# --------------------------------------------------------------------------- HTML / JS


@EXAMPLES
@given(json_values)
def test_html_json_is_the_same_json_without_characters_that_leave_a_script(value):
    out = html_json(value)
    assert json.loads(out) == value
    assert not any(ch in out for ch in PAGE_BREAKERS)


def test_html_json_of_the_known_attacks():
    for s in ("<!--<script>", "</script>", "</SCRIPT >", "]]>", "a\u2028b", "&lt;"):
        out = html_json({"seed": s})
        assert json.loads(out) == {"seed": s} and "<" not in out and "\u2028" not in out
    assert html_json("<") == '"\\u003c"'  # the JSON escape of U+003C, as JSON.parse reads it


def test_html_text_escapes_element_content_and_attributes():
    assert html_text('<a href="x">\'&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"


# --------------------------------------------------------------------------- terminal


@EXAMPLES
@given(ANY_TEXT)
def test_terminal_is_one_printable_line_and_keeps_printable_text(s):
    out = terminal(s)
    assert out.isprintable()  # no control, format, separator, surrogate or unassigned character
    out.encode("utf-8")  # and it can be written to any UTF-8 terminal (no lone surrogates)
    if s.isprintable():
        assert out == s


@EXAMPLES
@given(ANY_TEXT)
def test_terminal_with_newlines_keeps_lines_and_tabs_only(s):
    out = terminal(s, newlines=True)
    assert all(line.replace("\t", " ").isprintable() for line in out.split("\n"))
    assert out.count("\n") == s.count("\n")


def test_terminal_shows_escapes():
    assert terminal("\x1b[2J\x1b]52;c;aGk=\x07") == "\\x1b[2J\\x1b]52;c;aGk=\\x07"
    assert terminal("\u202eevil\u2066") == "\\u202eevil\\u2066"        # bidi override and isolate
    assert terminal("\x9b31m") == "\\u009b31m"                         # C1 CSI
    assert terminal("a\nb\tc") == "a\\x0ab\\x09c"                      # one line by default
    assert terminal("a\nb\tc", newlines=True) == "a\nb\tc"
    assert terminal("run\udcff.jsonl") == "run\\udcff.jsonl"           # an undecodable file-name byte
    assert terminal("\U000e0041") == "\\U000e0041"                     # a tag character (invisible)
    assert terminal("é 中 😀 ·→°") == "é 中 😀 ·→°"                     # printable Unicode stays


@EXAMPLES
@given(json_values)
def test_terminal_json_is_the_same_json_in_printable_lines(value):
    out = terminal_json(value)
    assert json.loads(out) == value
    assert out.endswith("\n") and all(line.isprintable() for line in out[:-1].split("\n"))


# --------------------------------------------------------------------------- matplotlib


@EXAMPLES
@given(ANY_TEXT)
def test_plain_text_is_one_printable_line(s):
    out = plain_text(s)
    assert out.isprintable() and (out == s if s.isprintable() else True)


def test_plain_text_rc_turns_mathtext_off():
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(PLAIN_TEXT_RC):
        t = Figure().text(0, 0, "$x^{$")
    assert t.get_parse_math() is False and t.get_usetex() is False
