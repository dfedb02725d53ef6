"""The ``animsup`` command line: ``main(argv)`` parses and dispatches to library code.

Each subcommand lives in its own module in this package with two functions:
``add_parser(subparsers)`` (argparse only, no heavy imports, so ``--help`` is fast)
and ``run(args) -> int`` (imports what it needs, calls library functions).
The module must be listed in ``COMMANDS``.

Errors: :class:`animsup.errors.AnimsupError` becomes one line on stderr and its
exit code (2 for bad input); Ctrl-C and SIGTERM exit 130 (SIGTERM is turned into
``KeyboardInterrupt`` for every command, so temp files are removed the same way); anything else is reported as an
internal error in one line (set ANIMSUP_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from animsup import __version__

# subcommand name -> module in animsup.cli
COMMANDS = {
    "train": "train",
    "sweep": "sweep",
    "inspect": "inspect",
    "render": "render",
    "demo": "demo",
    "events": "events",
    "minima": "minima",
    "import": "import_",
    "export": "export",
    "view": "view",
    "measure": "measure",
    "sae": "sae",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit 2."""

    def error(self, message):
        from animsup.escape import terminal

        self.exit(2, f"{self.prog}: error: {terminal(message)}\n")


def main_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="animsup", description="Train toy models of superposition and render them to video.")
    parser.add_argument("--version", action="version", version=f"animsup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"animsup.cli.{module}")
        except ModuleNotFoundError as e:
            if e.name == f"animsup.cli.{module}":
                continue  # command not built yet
            raise
        mod.add_parser(sub)
    return parser


class sigterm_as_interrupt:
    """Turn SIGTERM into KeyboardInterrupt so outputs are cleaned up like on Ctrl-C.

    A KeyboardInterrupt raised from a signal handler can land in a place that swallows
    it (a weakref callback, a ``__del__``), so the signal is also remembered, and
    :meth:`check` (called from the progress callback at every frame) raises it again.
    ``restore()`` puts the previous handler back.
    """

    def __init__(self):
        import signal

        self.received = False

        def handler(signum, frame):
            self.received = True
            raise KeyboardInterrupt

        try:
            self._old = signal.signal(signal.SIGTERM, handler)
        except ValueError:  # not the main thread
            self._old = None

    def check(self) -> None:
        if self.received:
            raise KeyboardInterrupt

    def wrap(self, callback):
        def progress(*a, **kw):
            self.check()
            callback(*a, **kw)

        return progress

    def restore(self) -> None:
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
            self._old = None

    def __call__(self) -> None:
        self.restore()


def _format_warning(message, category, filename, lineno, line=None):
    from animsup.cli.output import warning

    return warning(message)


def main(argv: list[str] | None = None) -> int:
    from animsup.cli.output import error
    from animsup.errors import AnimsupError

    parser = main_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    warnings.formatwarning = _format_warning
    sig = sigterm_as_interrupt()  # every command: a scheduler's SIGTERM cleans up like Ctrl-C (exit 130)
    try:
        return int(args.func(args) or 0)
    except AnimsupError as e:
        error(e)  # one line: control characters and newlines of a quoted file name, key or seed escaped
        return e.exit_code
    except KeyboardInterrupt:
        print("animsup: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except MemoryError as e:  # e.g. --batch-size 10000000000: the user's sizes, not a bug
        error(f"out of memory ({_first_line(e) or 'allocation failed'}); try smaller sizes")
        return 2
    except RuntimeError as e:
        if not _allocation_failure(e):
            return _internal_error(e)
        error(f"out of memory ({_first_line(e)}); try smaller sizes")
        return 2
    except Exception as e:  # a bug: still one line, unless debugging
        return _internal_error(e)
    finally:
        sig.restore()


def _first_line(e: BaseException) -> str:
    return str(e).strip().split("\n")[0][:200]


# What allocators say when memory runs out without raising MemoryError: torch's CPU allocator
# ("DefaultCPUAllocator: can't allocate memory: you tried to allocate N bytes"), CUDA's and MPS's.
_ALLOCATION_FAILURES = ("can't allocate memory", "CUDA out of memory", "out of memory", "not enough memory")


def _allocation_failure(e: RuntimeError) -> bool:
    head = _first_line(e).lower()
    return any(s.lower() in head for s in _ALLOCATION_FAILURES)


def _internal_error(e: Exception) -> int:
    """A bug: one line (the traceback with ANIMSUP_DEBUG=1), exit 1."""
    from animsup.cli.output import error

    if os.environ.get("ANIMSUP_DEBUG"):
        raise e
    error(f"{type(e).__name__}: {e} (set ANIMSUP_DEBUG=1 for a traceback; please report it)",
          prefix="animsup: internal error: ")
    return 1


def entrypoint() -> None:
    sys.exit(main())
