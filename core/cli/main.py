"""The ``neuroplug`` command line.

``neuroplug list``
    every component: kind, name, aliases, plugin and distribution; failed and
    disabled plugins as extra rows.
``neuroplug plugins``
    every plugin with its distribution, version and status.
``neuroplug train``
    train a network (by default on the embedded digits data) and print the
    held-out accuracy.
``neuroplug spec [SELECTOR]``
    run the spec suite on installed components (exit status 0 only when every
    applicable check passes, 1 otherwise).
``neuroplug docs``
    build the HTML reference (formulas, plots, spec results) of every installed
    component, third-party plugins included (needs the ``docs`` extra).

No error prints a traceback: each is one line on stderr, ``neuroplug COMMAND:
error: ...``, and the exit status says which kind it was (see :data:`EXIT_CODES`):
2 for bad input (unknown component names, bad values, unreadable data), 3 for a
file or stream that cannot be written (a missing folder, no permission, a full
disk, ``> /dev/full``), 4 for an internal error (a bug in neuroplug or a plugin).
``--debug`` (or the environment variable ``NEUROPLUG_DEBUG=1``) prints the
traceback too.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from . import commands
from .parser import _DEBUG_ENV, build_parser

__all__ = ["main", "EXIT_CODES"]


#: The exit status of ``neuroplug`` for each outcome.
EXIT_CODES = {
    "ok": 0,
    "spec checks failed": 1,
    "bad input (argument, value, data file, component)": 2,
    "a file or stream cannot be written (folder, permission, disk full)": 3,
    "internal error (a bug in neuroplug or a plugin)": 4,
    "interrupted (Ctrl-C)": 130,
    "the output pipe was closed (e.g. | head)": 141,
}




def _debug_wanted(argv: Sequence[str]) -> bool:
    return "--debug" in argv or os.environ.get(_DEBUG_ENV, "").strip() not in ("", "0")


def _say(line: str, debug: bool) -> None:
    """Print one error line on stderr (after the traceback with ``debug``); a broken stderr is ignored."""
    try:
        if debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        print(" ".join(line.split()), file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # no usable stderr: the exit status still tells
        pass


def _silence_stdout() -> None:
    """Point a failing stdout at /dev/null, so that Python's flush at exit does not complain."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class _OutputError(Exception):
    """Writing to the standard output failed (a full disk, /dev/full); carries the OSError."""


class _GuardedStdout:
    """``sys.stdout`` while a command runs: an OSError while writing it becomes :class:`_OutputError`,
    so that it is reported as such (a closed pipe stays a BrokenPipeError: quiet exit 141)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _describe_os_error(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text}: {exc.filename!r}" if getattr(exc, "filename", None) else text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`), never raises.

    0 ok, 1 spec failures, 2 bad input, 3 a file or stream that cannot be written,
    4 an internal error, 130 interrupted, 141 the output pipe was closed. Errors are
    one line on stderr; ``--debug`` or ``NEUROPLUG_DEBUG=1`` adds the traceback.
    Flags that do not parse are argparse's (usage, then one line): status 2;
    ``--help`` and ``--version`` return 0.
    """
    from ..errors import FileWriteError, NeuroplugError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_wanted(argv)
    command = "neuroplug"
    stdout = sys.stdout
    if stdout is not None:
        sys.stdout = _GuardedStdout(stdout)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)  # bad flags: argparse prints usage and one line, exits with 2
        except SystemExit as exc:  # --help, --version and argparse's errors: their status is returned
            if sys.stdout is not None:
                sys.stdout.flush()  # (and their output must get out too)
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        args.argv = argv
        command = f"neuroplug {args.command}"
        handler = getattr(commands, f"_cmd_{args.command}")  # looked up per call (tests replace one)
        code = handler(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # a full disk or /dev/full shows here, not at exit
        return code
    except _OutputError as exc:
        _silence_stdout()
        _say(f"{command}: error: cannot write to the standard output: {_describe_os_error(exc.args[0])}", debug)
        return 3
    except BrokenPipeError:  # e.g. `neuroplug list | head`: stop quietly, as other tools do
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        _say(f"{command}: interrupted", debug)
        return 130
    except FileWriteError as exc:
        _say(f"{command}: error: {exc}", debug)
        return 3
    except NeuroplugError as exc:
        _say(f"{command}: error: {exc}", debug)
        return 2
    except OSError as exc:
        _say(f"{command}: error: {_describe_os_error(exc)}", debug)
        return 3
    except Exception as exc:
        hint = "" if debug else f"; run it again with --debug (or {_DEBUG_ENV}=1) for the traceback"
        _say(f"{command}: internal error (a bug in neuroplug or a plugin, please report it): "
             f"{type(exc).__name__}: {exc}{hint}", debug)
        return 4
    finally:
        if isinstance(sys.stdout, _GuardedStdout):
            sys.stdout = stdout
