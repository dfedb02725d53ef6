"""`animsup view`'s server under hostile or unlucky clients (issue 27): the Host allow-list for
every bind address, IPv6, address reuse, bounded threads and timeouts, options checked before
serving, and silence when clients go away. Loopback addresses and ephemeral ports only."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.viewer import server as srv
from viewer_logs import write_run


def _log(tmp_path, **kw):
    log = tmp_path / "run.jsonl"
    write_run(log, T=4, **kw)
    return log


class _Serving:
    def __init__(self, log, **kw):
        self.server = srv.make_server(log, **kw)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self.server

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _get(server, path="/payload.json", host=None):
    addr, port = server.server_address[:2]
    c = http.client.HTTPConnection(addr, port, timeout=10)
    try:
        c.putrequest("GET", path, skip_host=True)
        c.putheader("Host", host if host is not None else f"{srv._url_host(addr)}:{port}")
        c.endheaders()
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _bind_or_skip(log, host, **kw):
    try:
        return _Serving(log, host=host, **kw)
    except AnimsupError as e:
        pytest.skip(f"cannot bind {host} here: {e}")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_host_header_is_checked_for_every_bind_address(tmp_path, host):
    """127.0.0.2 used to switch the check off: a DNS-rebinding page could read the log."""
    with _bind_or_skip(_log(tmp_path), host) as server:
        port = server.server_address[1]
        assert _get(server)[0] == 200  # the bind address itself
        for name in ("localhost", "127.0.0.1", "[::1]"):  # loopback names
            assert _get(server, host=f"{name}:{port}")[0] == 200
        for bad in ("evil.example", f"evil.example:{port}", f"localhost:{port + 1}", "", f"{host}.evil:{port}"):
            assert _get(server, host=bad)[0] == 403, bad


def test_ipv6_loopback_binds_and_serves(tmp_path):
    with _bind_or_skip(_log(tmp_path), "::1") as server:
        assert server.address_family == socket.AF_INET6
        assert re.fullmatch(r"http://\[::1\]:\d+/", server.url)
        code, body = _get(server, "/")
        assert code == 200 and b"animsup-data" in body


def test_allow_host_adds_names_and_wildcards_allow_only_loopback_and_those():
    assert srv.allowed_hosts("0.0.0.0", 8080) == {"localhost:8080", "127.0.0.1:8080", "[::1]:8080"}
    assert srv.allowed_hosts("192.0.2.7", 8080) == {"192.0.2.7:8080"}  # not loopback: its own address only
    assert srv.allowed_hosts("::", 9, ["Box.lan", "box:8000", "fe80::1"]) >= {"box.lan:9", "box:8000", "[fe80::1]:9"}
    assert "box.lan" in srv.allowed_hosts("0.0.0.0", 80, ["box.lan"])  # port 80: browsers send no port
    with pytest.raises(AnimsupError, match="--allow-host"):
        srv.allowed_hosts("127.0.0.1", 8080, ["evil.example/x"])


def test_allow_host_is_honoured(tmp_path):
    with _Serving(_log(tmp_path), allow_hosts=["viewer.test"]) as server:
        assert _get(server, host=f"viewer.test:{server.server_address[1]}")[0] == 200
        assert _get(server, host=f"other.test:{server.server_address[1]}")[0] == 403


def test_the_port_can_be_reused_at_once(tmp_path):
    log = _log(tmp_path)
    with _Serving(log) as server:
        port = server.server_address[1]
        for _ in range(3):
            assert _get(server)[0] == 200  # the server closes these connections first: TIME_WAIT on its side
    with _Serving(log, port=port) as again:  # without SO_REUSEADDR: "Address already in use" for ~60 s
        assert again.server_address[1] == port and _get(again)[0] == 200


def test_idle_connections_hold_a_bounded_number_of_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(srv, "CONNECTION_TIMEOUT", 0.5)
    before = threading.active_count()
    with _Serving(_log(tmp_path), max_handlers=8) as server:
        idle = []
        try:
            for _ in range(200):  # connect and send nothing
                idle.append(socket.create_connection(server.server_address[:2], timeout=5))
            time.sleep(0.3)
            assert threading.active_count() - before <= 1 + 8  # the serving thread and at most 8 handlers
            assert server.dropped >= 200 - 8 - 64  # (the listen backlog may hold a few)
            time.sleep(1.0)  # the silent ones time out and free their threads ...
            assert _get(server)[0] == 200  # ... so a real client is served while the idle sockets stay open
        finally:
            for s in idle:
                s.close()
        assert server.errors == []


@pytest.mark.parametrize("args, message", [
    (["--smooth", "0"], "--smooth must be a whole number >= 1"),
    (["--smooth", "-4"], "--smooth must be a whole number >= 1"),
    (["--instance", "7"], "--instance 7: the log has instances 0..1"),
    (["--instance", "x"], "--instance takes an index"),
    (["--allow-host", "a/b"], "--allow-host takes a host name"),
])
def test_bad_options_fail_before_serving(tmp_path, capsys, args, message):
    rc = main(["view", str(_log(tmp_path, k=2)), "--port", "0", *args])  # (a good one would serve forever)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err


def _abort(port, request):
    """Send ``request`` and reset the connection at once (SO_LINGER 0): the server's write fails."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(request)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_clients_that_go_away_are_not_reported_and_signals_stop_it(tmp_path, sig):
    log = _log(tmp_path)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("ANIMSUP_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "animsup", "view", str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stdout.readline()).group(1))
        host = f"Host: 127.0.0.1:{port}\r\n".encode()
        for _ in range(20):
            _abort(port, b"GET / HTTP/1.1\r\n" + host + b"\r\n")  # gone before the page is sent
            _abort(port, b"GET /payload.json HTTP/1.1\r\n" + host + b"\r\n")
            _abort(port, b"GET / HT")  # gone mid-request
        t0 = time.monotonic()
        while True:  # still serving (once the handlers of the aborted connections have noticed)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request("GET", "/payload.json")
                assert c.getresponse().status == 200
                break
            except (ConnectionError, http.client.RemoteDisconnected):
                assert time.monotonic() - t0 < 15, "the server stopped answering"
                time.sleep(0.2)
            finally:
                c.close()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and out.strip() == "stopped"
    assert err == "", err  # no traceback per client
