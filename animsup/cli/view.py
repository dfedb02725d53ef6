"""``animsup view``: serve the interactive viewer for a log and follow it while training writes it.

Binds to 127.0.0.1 on a free port (printed) unless --host/--port say otherwise (IPv6 addresses
such as ::1 work too); serves only that log's viewer and data, and only to requests addressed to
the bind address, a loopback name or an --allow-host name. Ctrl-C or SIGTERM stops it (exit 0).
"""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "view",
        help="serve the interactive viewer for a log (follows a log that is still being written)",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("log", metavar="LOG", help="run log (.jsonl or .jsonl.gz)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; 0.0.0.0 exposes the log to the network)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests addressed to NAME (repeatable; e.g. this machine's name when "
                        "--host is 0.0.0.0). Requests for any other host name are refused (DNS rebinding)")
    p.add_argument("--instance", default="best", metavar="I|best", help="instance shown large first")
    p.add_argument("--smooth", type=int, default=None, metavar="N", help="moving-average window of the loss")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import sys

    from animsup.cli import sigterm_as_interrupt
    from animsup.viewer.server import is_loopback, make_server

    server = make_server(args.log, host=args.host, port=args.port, smooth=args.smooth, instance=args.instance,
                         allow_hosts=args.allow_host)
    if not is_loopback(args.host):
        print(f"animsup: warning: serving on {args.host}: anyone who can reach this machine can read the log",
              file=sys.stderr)
    print(f"serving {args.log} at {server.url}  (Ctrl-C to stop)", flush=True)
    import threading

    sig = sigterm_as_interrupt()  # SIGTERM stops it like Ctrl-C
    # the server runs in a thread; this one only waits, so a signal's KeyboardInterrupt lands here
    # (never inside a request's code, which could swallow it) and sig.check() catches one that did not
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    try:
        while serving.is_alive():
            serving.join(0.2)
            sig.check()
    except KeyboardInterrupt:
        pass
    finally:
        sig.restore()
        server.shutdown()
        server.server_close()
    print("stopped", flush=True)
    return 0
