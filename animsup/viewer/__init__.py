"""The interactive viewer: a self-contained HTML page per run log, a live server that
follows a log being written, and inline display in Jupyter.

- :mod:`animsup.viewer.payload`: log -> the page's data (the video's plan: instances,
  fixed axes, loss curve; geometry and events from the library);
- :mod:`animsup.viewer.page`: data -> one HTML file (vendored uPlot, no network);
- :mod:`animsup.viewer.server`: ``animsup view LOG`` (stdlib http.server, loopback);
- :mod:`animsup.viewer.notebook`: ``animsup.show(log)`` for Jupyter.
"""

from animsup.viewer.page import page_html, write_html

__all__ = ["page_html", "write_html"]
