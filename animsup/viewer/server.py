"""``animsup view LOG``: serve the viewer for one log and follow it while it is written.

stdlib :mod:`http.server` only. The server answers exactly two paths: ``/`` (the viewer
page, with no data inlined) and ``/payload.json`` (the page's data, rebuilt from the log
when its size or modification time changes; ``?since=REVISION`` answers 204 while nothing
changed). Everything else is 404. It binds to 127.0.0.1 unless another host is asked for,
and refuses requests whose ``Host`` header names another host (DNS rebinding).

Following costs one re-read of the log per change (the page polls once a second): simple
and exactly the static page's data, but a very long log re-reads slowly; the page's
snapshot budget (:mod:`animsup.viewer.payload`) keeps the page itself small.
"""

from __future__ import annotations

import http.server
import os
import threading
import warnings

from animsup.errors import AnimsupError, LogFormatError
from animsup.escape import html_json

LOOPBACK = "127.0.0.1"


class LogFollower:
    """The page data of a log that may still be growing, rebuilt when the file changes."""

    def __init__(self, path, *, smooth: int | None = None, instance="best"):
        self.path = os.fspath(path)
        self.smooth, self.instance = smooth, instance
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._body: bytes | None = None
        self._error: str | None = None

    def revision(self) -> str:
        st = os.stat(self.path)
        return f"{st.st_size}-{st.st_mtime_ns}"

    def payload(self) -> tuple[str, bytes | None, str | None]:
        """(revision, JSON body or None while the log has no snapshot, error text or None)."""
        from animsup.viewer.payload import build_payload, plan_viewer

        with self._lock:
            rev = self.revision()
            if rev != self._revision:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # the line being written is incomplete: expected here
                        plan = plan_viewer(self.path, smooth=self.smooth, instance=self.instance)
                        data = build_payload(plan, live=True)
                    data["revision"] = rev
                    self._body, self._error = html_json(data).encode("utf-8"), None
                except LogFormatError as e:
                    if "no snapshots" in str(e):
                        self._body, self._error = None, None  # not yet: wait for the first snapshot
                    else:
                        self._body, self._error = None, str(e)
                except AnimsupError as e:
                    self._body, self._error = None, str(e)
                self._revision = rev
            return self._revision, self._body, self._error


def _handler(follower: LogFollower, allowed_hosts: set):
    from animsup.viewer.page import page_html

    page = page_html(None, live=True, title=os.path.basename(follower.path)).encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "animsup-view"
        sys_version = ""

        def log_message(self, format, *args):  # quiet: the CLI prints the URL, nothing per request
            pass

        def _send(self, code: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            host = (self.headers.get("Host") or "").lower()
            if allowed_hosts and host not in allowed_hosts:
                return self._send(403, b"forbidden host\n")
            path, _, query = self.path.partition("?")
            if path in ("/", "/index.html"):
                return self._send(200, page, "text/html; charset=utf-8")
            if path == "/payload.json":
                since = query[len("since="):] if query.startswith("since=") else None
                try:
                    rev, body, error = follower.payload()
                except OSError as e:
                    return self._send(503, f"cannot read the log: {e}\n".encode())
                if error:
                    return self._send(500, error.encode("utf-8"))
                if body is None or since == rev:
                    return self._send(204)
                return self._send(200, body, "application/json")
            return self._send(404, b"not found\n")

        do_HEAD = do_GET

    return Handler


class ViewServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}/"


def make_server(log, *, host: str = LOOPBACK, port: int = 0, smooth: int | None = None, instance="best") -> ViewServer:
    """A server for ``log`` (not started: call ``serve_forever()``, e.g. in a thread).

    ``port`` 0 picks a free port (see ``.url``). Raises :class:`AnimsupError` when the log
    does not exist, its header is not an animsup header (``LogFormatError``), or the address
    cannot be bound. Later corruption is shown on the page.
    """
    path = os.fspath(log)
    if not os.path.isfile(path):
        raise AnimsupError(f"{path}: no such file")
    if not (isinstance(port, int) and 0 <= port <= 65535):
        raise AnimsupError(f"--port must be 0..65535, got {port!r}")
    from animsup.log.reader import read_header

    read_header(path)  # not a log (or not readable): a clear error now, not a broken page later
    follower = LogFollower(path, smooth=smooth, instance=instance)
    try:
        server = ViewServer((host, port), _handler(follower, set()))
    except OSError as e:
        raise AnimsupError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    real_port = server.server_address[1]
    if host in (LOOPBACK, "localhost", "::1"):
        server.RequestHandlerClass = _handler(follower, {f"127.0.0.1:{real_port}", f"localhost:{real_port}",
                                                         f"[::1]:{real_port}"})
    return server
