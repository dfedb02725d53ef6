"""``animsup view LOG``: serve the viewer for one log and follow it while it is written.

stdlib :mod:`http.server` only. The server answers exactly two paths: ``/`` (the viewer
page, with no data inlined) and ``/payload.json`` (the page's data, rebuilt from the log
when its size or modification time changes; ``?since=REVISION`` answers 204 while nothing
changed). Everything else is 404. It binds to 127.0.0.1 unless another host is asked for
(IPv4 or IPv6), and answers only requests whose ``Host`` header is on an explicit allow-list
(DNS rebinding): the bind address, the loopback names for a loopback address, and the names
passed as ``allow_hosts`` (``--allow-host``), each with the port. The check is never off.

Bounded: at most :data:`MAX_HANDLERS` connections are served at once (more are closed at once,
without a thread), and a connection that sends nothing for :data:`CONNECTION_TIMEOUT` seconds
is closed. A client that goes away early is not an error: nothing is printed.

Following costs one re-read of the log per change (the page polls once a second): simple
and exactly the static page's data, but a very long log re-reads slowly; the page's
snapshot budget (:mod:`animsup.viewer.payload`) keeps the page itself small.
"""

from __future__ import annotations

import http.server
import ipaddress
import os
import socket
import threading
import warnings
from typing import Any

from animsup.errors import AnimsupError, LogFormatError
from animsup.escape import html_json

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# at most this many connections are served at once; each holds a thread until it is answered
MAX_HANDLERS = 16
# seconds a connection may stay silent (an idle or slow client) before it is closed
CONNECTION_TIMEOUT = 10.0


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
        """The log's size and time, and its sidecars' (a new ``animsup measure`` or ``animsup sae``
        result rebuilds the page's data too)."""
        from animsup.log import sae_file
        from animsup.log.measurements import sidecar_path

        st = os.stat(self.path)
        extra = ""
        for side_path in (sidecar_path(self.path), sae_file.sidecar_path(self.path)):
            try:
                side = os.stat(side_path)
                extra += f"-{side.st_size}-{side.st_mtime_ns}"
            except OSError:
                extra += "-"
        return f"{st.st_size}-{st.st_mtime_ns}{extra}"

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


def _handler(follower: LogFollower, hosts: set[str]) -> type[http.server.BaseHTTPRequestHandler]:
    from animsup.viewer.page import page_html

    page = page_html(None, live=True, title=os.path.basename(follower.path)).encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "animsup-view"
        sys_version = ""
        timeout = CONNECTION_TIMEOUT  # (socket timeout of each connection)

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
            if host not in hosts:  # (never empty: the check is always on)
                return self._send(403, b"forbidden host (animsup view --allow-host NAME allows another name)\n")
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
    """A threading HTTP server with a bounded number of handler threads, address reuse, IPv6
    (``address_family`` is set per instance) and no output for clients that go away."""

    daemon_threads = True
    allow_reuse_address = True  # a restarted viewer may take its port again at once (no TIME_WAIT wait)
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler], *,
                 family: socket.AddressFamily = socket.AF_INET, max_handlers: int = MAX_HANDLERS) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(max_handlers)
        self.dropped = 0  # connections closed because every handler was busy
        self.errors: list[str] = []  # the last few handler errors (not printed: the library never prints)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):  # every handler busy: close it, keep no thread
            self.dropped += 1
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that disconnects or times out is normal; anything else is kept, not printed."""
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, (OSError, TimeoutError)):
            self.errors = (self.errors + [f"{type(exc).__name__}: {exc}"])[-10:]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        text = host if isinstance(host, str) else bytes(host).decode()
        return f"http://{_url_host(text)}:{port}/"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int, extra: tuple[str, ...] | list[str] = ()) -> set[str]:
    """The ``Host`` header values the server answers: ``host`` itself, the loopback names when
    ``host`` is a loopback address, and every name in ``extra`` (``NAME`` or ``NAME:PORT``), each
    with ``port`` unless it names its own. A wildcard bind (0.0.0.0, ::) allows the loopback names
    and ``extra`` only: name the machine with ``--allow-host``."""
    names: set[str] = set()
    wildcard = host in ("", "0.0.0.0", "::")
    if not wildcard:
        names.add(_url_host(host.lower()))
    if is_loopback(host) or wildcard:
        names.update(LOOPBACK_NAMES)
    out = {f"{name}:{port}" for name in names}
    for name in extra:
        name = name.strip().lower()
        if not name or any(c in name for c in "/ @?#"):
            raise AnimsupError(f"--allow-host takes a host name or address (optionally :PORT), got {name!r}")
        if name.count(":") > 1 and not name.startswith("["):  # a bare IPv6 address
            name = f"[{name}]"
        out.add(name if name.rsplit("]", 1)[-1].count(":") == 1 else f"{name}:{port}")
    if port == 80:  # browsers leave the default port out of Host
        out |= {h.rsplit(":", 1)[0] for h in out if h.endswith(":80")}
    return out


def _family(host: str, port: int) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        pass
    try:  # a name: the family of its first address
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (OSError, IndexError):
        return socket.AF_INET


def _check_options(path: str, smooth: int | None, instance: object) -> None:
    """Bad --smooth / --instance: one clear error before the server starts, not an error page."""
    from animsup.log.reader import read_header
    from animsup.viewer.payload import viewer_config

    header = read_header(path)  # not a log (or not readable): a clear error now, not a broken page later
    cfg = viewer_config(None, n_instances=header.n_instances, smooth=smooth, instance=instance)
    if isinstance(cfg.instance, int) and not 0 <= cfg.instance < header.n_instances:
        raise AnimsupError(f"--instance {cfg.instance}: the log has instances 0..{header.n_instances - 1}")


def make_server(log, *, host: str = LOOPBACK, port: int = 0, smooth: int | None = None, instance="best",
                allow_hosts: tuple[str, ...] | list[str] = (), max_handlers: int = MAX_HANDLERS) -> ViewServer:
    """A server for ``log`` (not started: call ``serve_forever()``, e.g. in a thread).

    ``port`` 0 picks a free port (see ``.url``); ``host`` may be an IPv4 or IPv6 address or a
    name. Requests must name an allowed host (:func:`allowed_hosts`). Raises :class:`AnimsupError`
    when the log does not exist or is not a regular file, its header is not an animsup header
    (``LogFormatError``), ``smooth`` or ``instance`` is bad, or the address cannot be bound. Later
    corruption is shown on the page.
    """
    from animsup.atomic import check_regular
    from animsup.log.sweepdir import resolve_log_path

    path = resolve_log_path(log)  # a sweep's folder: its merged log
    check_regular(path, what="log file")
    if not os.path.isfile(path):
        raise AnimsupError(f"{path}: no such file")
    if not (isinstance(port, int) and 0 <= port <= 65535):
        raise AnimsupError(f"--port must be 0..65535, got {port!r}")
    _check_options(path, smooth, instance)
    allowed_hosts(host, port or 1, allow_hosts)  # (checks the names before binding)
    follower = LogFollower(path, smooth=smooth, instance=instance)
    try:
        server = ViewServer((host, port), http.server.BaseHTTPRequestHandler, family=_family(host, port),
                            max_handlers=max_handlers)
    except OSError as e:
        raise AnimsupError(f"cannot listen on {_url_host(host)}:{port}: {e.strerror or e}") from None
    # (now that the port is known)
    server.RequestHandlerClass = _handler(follower, allowed_hosts(host, server.server_address[1], allow_hosts))
    return server
