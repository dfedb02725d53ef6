"""The output formats: one table, from which every format list, help text, error message and
MIME type is derived.

An output's format follows its path's extension. Each row says what the format is (its
``kind``) and which writer makes it:

- ``"video"``: every frame, written by an encoder of :mod:`animsup.rendering.encode`
  (``writer`` names it: :data:`animsup.rendering.encode.ENCODERS` is built from this table);
- ``"poster"``: one frame (the PNG poster), also an encoder;
- ``"figure"``: one frame as a vector figure (SVG, PDF: text kept as text), drawn as matplotlib
  artists by :mod:`animsup.rendering.vector` (or the filmstrip, :mod:`animsup.rendering.filmstrip`);
- ``"page"``: the interactive viewer, written by :mod:`animsup.viewer` from the same
  :class:`animsup.rendering.config.RenderConfig`. The rendering layer never imports the viewer:
  :func:`animsup.api.render` (``animsup.render``, which ``animsup render`` calls) sends page
  outputs there and the rest to :func:`animsup.rendering.video.render`.

Adding a format: a row here, and its writer (an encoder factory in ``encode``, or a branch of
``animsup.api.render`` for a new non-raster kind).

Pure Python (no numpy): ``animsup render --help`` imports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from animsup.errors import AnimsupError

Kind = Literal["video", "poster", "figure", "page"]


@dataclass(frozen=True)
class OutputFormat:
    """One row of the table.

    :param ext: the extension, lower case with its dot (".mp4")
    :param kind: "video" (every frame), "poster" (one frame), "figure" (one frame as a vector figure)
        or "page" (the interactive viewer)
    :param mime: the MIME type (a notebook embeds the file with it)
    :param label: what the CLI's help adds in brackets ("H.264"; "" for nothing)
    :param writer: the encoder that writes it (a key of ``animsup.rendering.encode``'s factories)
        or "vector" (:func:`animsup.rendering.vector.save_figure`) or "viewer" (:func:`animsup.viewer.page.write_html`)
    :param what: one line for the docs
    """

    ext: str
    kind: Kind
    mime: str
    label: str
    writer: str
    what: str

    @property
    def name(self) -> str:
        """The extension without its dot ("mp4")."""
        return self.ext[1:]


#: every output format, in the order help texts and error messages list them
FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat(".mp4", "video", "video/mp4", "H.264", "mp4",
                 "H.264 video (libx264, yuv420p, +faststart): plays everywhere"),
    OutputFormat(".webm", "video", "video/webm", "VP9", "webm", "VP9 video (libvpx-vp9, realtime speed)"),
    OutputFormat(".gif", "video", "image/gif", "", "gif",
                 "animated GIF (one shared 256-colour palette, at most 50 fps), loops forever"),
    OutputFormat(".png", "poster", "image/png", "poster", "png", "one frame: the poster (--at STEP, default the last)"),
    OutputFormat(".svg", "figure", "image/svg+xml", "vector poster", "vector",
                 "the poster as a vector figure: text kept as <text>, arrows and curves as paths"),
    OutputFormat(".pdf", "figure", "application/pdf", "vector poster", "vector",
                 "the poster as a vector figure: TrueType text (extractable), arrows and curves as paths"),
    OutputFormat(".html", "page", "text/html", "interactive viewer, see docs/viewer.md", "viewer",
                 "the interactive viewer: one self-contained offline page (docs/viewer.md)"),
)

_BY_EXT = {f.ext: f for f in FORMATS}


def extension(path: str | os.PathLike[str]) -> str:
    """The lower-case extension of ``path`` with its dot ("" for none)."""
    return os.path.splitext(os.fspath(path))[1].lower()


def find(path: str | os.PathLike[str]) -> OutputFormat | None:
    """The format of ``path`` by its extension, None for an unknown one."""
    return _BY_EXT.get(extension(path))


def format_of(path: str | os.PathLike[str]) -> OutputFormat:
    """The format of ``path``, or an AnimsupError naming the supported ones."""
    fmt = find(path)
    if fmt is None:
        shown = extension(path) or "(none)"
        raise AnimsupError(f"{os.fspath(path)}: unknown output extension {shown}; use one of {_supported()}")
    return fmt


def kind_of(ext: str) -> Kind:
    """The kind of the format with this extension (".png" -> "poster"); KeyError for an unknown one."""
    return _BY_EXT[ext].kind


def of_kind(*kinds: Kind) -> tuple[OutputFormat, ...]:
    """The formats of these kinds, in table order."""
    return tuple(f for f in FORMATS if f.kind in kinds)


def is_still(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is one picture (a PNG poster or a vector figure): what a filmstrip can be."""
    fmt = find(path)
    return fmt is not None and fmt.kind in ("poster", "figure")


def is_page(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a page output (written by the viewer, not drawn frame by frame)."""
    fmt = find(path)
    return fmt is not None and fmt.kind == "page"


def mime_type(path: str | os.PathLike[str]) -> str | None:
    """The MIME type of ``path``'s format (None for an unknown extension)."""
    fmt = find(path)
    return None if fmt is None else fmt.mime


def help_text() -> str:
    """Every format for a CLI help: ".mp4 (H.264), .webm (VP9), ..., .html (interactive viewer, ...)"."""
    return ", ".join(f.ext + (f" ({f.label})" if f.label else "") for f in FORMATS)


def raster_list() -> str:
    """The drawn formats in words: ".mp4, .webm, .gif, .png, .svg or .pdf"."""
    exts = [f.ext for f in of_kind("video", "poster", "figure")]
    return ", ".join(exts[:-1]) + " or " + exts[-1]


def _supported() -> str:
    """".mp4, .webm, .gif, .png, .svg, .pdf (or .html, the interactive viewer)"."""
    drawn = ", ".join(f.ext for f in of_kind("video", "poster", "figure"))
    pages = "; ".join(f"{f.ext}, the {f.label.split(',')[0]}" for f in of_kind("page"))
    return f"{drawn} (or {pages})" if pages else drawn


def docs_table() -> str:
    """The formats as a Markdown table (docs/rendering.md carries it; a test keeps them equal)."""
    rows = ["| extension | kind | what |", "|---|---|---|"]
    rows += [f"| `{f.ext}` | {f.kind} | {f.what} |" for f in FORMATS]
    return "\n".join(rows)
