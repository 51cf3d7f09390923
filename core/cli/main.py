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

import argparse
import contextlib
import json
import os
import sys
import time
from typing import Any, Sequence

__all__ = ["main", "build_parser", "EXIT_CODES"]

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
_DEBUG_ENV = "NEUROPLUG_DEBUG"


def _param(text: str) -> tuple[str, str, Any]:
    kind, dot, rest = text.partition(".")
    key, eq, value = rest.partition("=")
    kinds = ("activation", "init", "loss", "schedule", "optimizer")
    if not dot or not eq or kind not in kinds or not key:
        raise argparse.ArgumentTypeError(
            f"expected KIND.NAME=VALUE with KIND one of {', '.join(kinds)}, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return kind, key, parsed


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer sizes such as 64,32; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def _natural(text: str) -> int:
    """An integer >= 0 (a seed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """A number of seconds >= 0 (a time limit; 0: none)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _growth(text: str) -> float | None:
    """``--max-growth``: a number > 1, or ``off``."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 1 or 'off', got {text!r}") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"expected a number > 1 or 'off', got {text!r}")
    return value


_DEFAULT_CHECKPOINT = "neuroplug-train.ckpt.npz"
#: Integer targets are class labels; more classes than this is almost surely a regression target.
_MAX_CLASSES = 10_000


def _every(text: str) -> Any:
    if text == "epoch":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of steps >= 1 or 'epoch', got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuroplug`` command (used by the docs' CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="neuroplug", description="A neural-network framework in which every component is a plugin.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"neuroplug {__version__}")
    debug_help = f"print the traceback of an error (also: {_DEBUG_ENV}=1)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p_list = sub.add_parser("list", parents=[common], help="list every component and the plugin that provides it")
    p_list.add_argument("--kind", choices=["activation", "initializer", "loss", "schedule", "optimizer"],
                        help="only components of this kind")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p_plugins = sub.add_parser("plugins", parents=[common], help="list the plugins: distribution, version, status")
    p_plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sp = sub.add_parser("spec", parents=[common], help="validate installed components against the spec suite",
                        description="Run every applicable spec check on installed components. Exit status 0 "
                                    "only when every applicable check passes (or fails as declared).")
    sp.add_argument("selector", nargs="?", default=None,
                    help="a plugin or distribution name (everything it provides), KIND:NAME for one "
                         "component, or a component name; default: every installed component")
    sp.add_argument("--format", choices=["text", "json", "junit"], default="text", help="report format")
    sp.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    sp.add_argument("--check", action="append", metavar="ID", help="only this check ID (repeatable)")
    sp.add_argument("--thorough", action="store_true", help="more hypothesis examples (for release CI)")
    sp.add_argument("--seed", type=_natural, default=0, help="seed of the checks' random inputs (default 0)")
    sp.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                    help="time limit of each check on each component (default 60, or NEUROPLUG_SPEC_TIMEOUT; "
                         "0: none); a check that outlives it fails, naming the check, and the run goes on")
    sp.add_argument("-v", "--verbose", action="store_true", help="list passed and skipped checks too")

    d = sub.add_parser("docs", parents=[common], help="build the HTML reference of the installed components",
                       description="Build an HTML reference of every installed component (formula, derivative, "
                                   "parameters, plot, spec results), third-party plugins included. Needs "
                                   "Sphinx and matplotlib: pip install 'neuroplug[docs]'.")
    d.add_argument("--output", default="neuroplug-docs", metavar="DIR", help="where to write the site "
                   "(default: neuroplug-docs)")
    d.add_argument("--builtins-only", action="store_true", help="document neuroplug's own components only")
    d.add_argument("--no-spec", action="store_true", help="skip running the spec suite (faster)")

    t = sub.add_parser("train", parents=[common], help="train a network and report held-out accuracy",
                       description="Train a network. Without --data it uses the embedded digits data set "
                                   "(1,797 8x8 images, 10 classes), split 75/25 with the seed.")
    t.add_argument("--data", help="a .csv (header row) or .npz (arrays X, y) file; default: embedded digits")
    t.add_argument("--target", help="the target column (CSV) or array name (NPZ); default: last column / 'y'")
    t.add_argument("--test-size", type=float, default=0.25, help="held-out fraction (default 0.25)")
    t.add_argument("--layers", type=_layers, default=[64], help="hidden layer sizes, e.g. 64,32 (default 64)")
    t.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    t.add_argument("--output-activation", default=None,
                   help="output activation (default: softmax for classes, identity otherwise)")
    t.add_argument("--init", default="he_uniform", help="weight initializer (default he_uniform)")
    t.add_argument("--loss", default=None, help="loss (default: cross_entropy for classes, mse otherwise)")
    t.add_argument("--optimizer", default="sgd", help="optimizer (default sgd)")
    t.add_argument("--schedule", default="step_decay", help="learning-rate schedule (default step_decay)")
    t.add_argument("--lr", type=float, default=0.5, help="initial learning rate (default 0.5)")
    t.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    t.add_argument("--batch-size", type=int, default=16, help="batch size (default 16)")
    t.add_argument("--seed", type=_natural, default=0, help="seed of the split, the weights and the shuffling "
                   "(an integer >= 0; default 0)")
    t.add_argument("-P", "--param", type=_param, action="append", default=[], metavar="KIND.NAME=VALUE",
                   help="a component parameter, e.g. -P schedule.step_size=5 -P optimizer.momentum=0.9 "
                        "(repeatable; KIND is activation, init, loss, schedule or optimizer)")
    t.add_argument("--save", metavar="PATH", help="save the trained model (.npz, no pickle)")
    t.add_argument("--checkpoint", metavar="PATH", default=None,
                   help="write checkpoints (the whole training state, atomically) to PATH; without it, "
                        f"Ctrl-C still writes one, to {_DEFAULT_CHECKPOINT}")
    t.add_argument("--checkpoint-every", type=_every, default="epoch", metavar="N|epoch",
                   help="write a checkpoint every N optimizer steps, or after every epoch (default)")
    t.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint if it exists (the other options must be those of the "
                        "run that wrote it; --epochs may be larger); the result is bit-identical to an "
                        "uninterrupted run")
    t.add_argument("--max-growth", type=_growth, default=1e4, metavar="FACTOR|off",
                   help="stop, like a divergence, when the weights' RMS grows more than FACTOR times (from "
                        "at least 1) within an epoch (default 1e4; 'off' turns the check off)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


@contextlib.contextmanager
def _plugin_output_to_stderr() -> Any:
    """While loading plugins and running components, what they print goes to stderr, not stdout.

    Both ``sys.stdout`` and file descriptor 1 (``os.write(1, ...)``, C code) are
    pointed at stderr, so that the JSON, XML or table the command prints afterwards
    is all that reaches stdout, whatever a plugin prints at import or when called.
    """
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no usable fd 1 (e.g. closed): Python level only
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            try:
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):
                pass
            os.dup2(saved, 1)
            os.close(saved)


def _cmd_list(args: argparse.Namespace) -> int:
    from .registry import get_registry

    with _plugin_output_to_stderr():
        reg = get_registry()
        entries = reg.entries(args.kind)
        rows = []
        for e in entries:
            rows.append({
                "kind": e.kind, "name": e.name, "aliases": list(e.registration.aliases),
                "plugin": e.plugin.name, "distribution": e.plugin.distribution,
                "version": e.plugin.version, "status": "shadowed" if reg.shadowed(e) else "ok",
                "summary": e.registration.summary,
            })
        problems = [p for p in reg.plugins() if p.status in ("failed", "disabled")]
    if args.json:
        print(json.dumps({"components": rows, "plugins": [
            {"plugin": p.name, "distribution": p.distribution, "version": p.version,
             "status": p.status, "phase": p.phase, "error": p.error} for p in problems]}, indent=2))
        return 0
    table = [("KIND", "NAME", "ALIASES", "PLUGIN", "DISTRIBUTION", "STATUS")]
    for r in rows:
        dist = r["distribution"] + (f" {r['version']}" if r["version"] else "")
        table.append((r["kind"], r["name"], ",".join(r["aliases"]) or "-", r["plugin"], dist, r["status"]))
    for p in problems:
        dist = p.distribution + (f" {p.version}" if p.version else "")
        why = f"{p.phase}: {p.error}" if p.status == "failed" else p.error
        table.append(("-", "-", "-", p.name, dist, f"{p.status} ({why})"))
    _print_table(table)
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .registry import get_registry

    with _plugin_output_to_stderr():
        reg = get_registry()
        counts: dict[tuple[str, str], int] = {}
        for e in reg.entries():
            key = (e.plugin.distribution, e.plugin.name)
            counts[key] = counts.get(key, 0) + 1
        plugins = reg.plugins()
    if args.json:
        print(json.dumps([{"plugin": p.name, "distribution": p.distribution, "version": p.version,
                           "builtin": p.builtin, "status": p.status, "phase": p.phase, "error": p.error,
                           "components": counts.get((p.distribution, p.name), 0)} for p in plugins], indent=2))
        return 0
    table = [("PLUGIN", "DISTRIBUTION", "VERSION", "COMPONENTS", "STATUS")]
    for p in plugins:
        status = p.status if p.status == "loaded" else f"{p.status} ({p.phase + ': ' if p.phase else ''}{p.error})"
        table.append((p.name, p.distribution, p.version or "-", str(counts.get((p.distribution, p.name), 0)), status))
    _print_table(table)
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])


def _cmd_spec(args: argparse.Namespace) -> int:
    import tempfile

    # hypothesis caches in ./.hypothesis by default: keep the user's directory clean
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "neuroplug-hypothesis"))
    from .errors import InputError
    from .spec import report as render
    from .spec.framework import get_check
    from .spec.runner import run_spec

    from .spec.runner import resolve_timeout

    resolve_timeout(args.timeout)  # NEUROPLUG_SPEC_TIMEOUT too: an InputError before any check runs
    for check_id in args.check or ():
        try:
            get_check(check_id)
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    if args.output:  # before the checks run, not after
        from .serialization import check_writable

        check_writable(args.output, "the report")
    with _plugin_output_to_stderr():  # only the report reaches stdout
        result = run_spec(args.selector, seed=args.seed, thorough=args.thorough, checks=args.check,
                          timeout=args.timeout)
        text = {"text": lambda r: render.to_text(r, verbose=args.verbose), "json": render.to_json,
                "junit": render.to_junit_xml}[args.format](result)
    if args.output:
        from .serialization import atomic_write

        atomic_write(args.output, lambda fh: fh.write(text.encode("utf-8") + b"\n"), "the report")
        print(render.summary_line(result))
    else:
        print(text)
    return 0 if result.ok else 1


def _check_output_folder(folder: str, what: str) -> None:
    """FileWriteError unless ``folder`` is, or can be created as, a writable directory (nothing is created)."""
    from .errors import FileWriteError
    from .serialization import check_writable

    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileWriteError(f"cannot write {what} to {folder!r}: it is a file, not a folder", path=folder)
    existing, missing = os.path.abspath(folder), "index.html"
    while not os.path.isdir(existing):  # the nearest folder that exists must let us create files
        existing, missing = os.path.dirname(existing), os.path.basename(existing)
        if os.path.exists(existing) and not os.path.isdir(existing):
            raise FileWriteError(f"cannot write {what} to {folder!r}: {existing!r} is a file, not a folder",
                                 path=folder)
    try:
        check_writable(os.path.join(existing, missing), what)
    except FileWriteError as exc:
        why = str(exc).split(": ", 1)[-1]
        raise FileWriteError(f"cannot write {what} to {folder!r}: {why}", path=folder, errno=exc.errno) from None


def _cmd_docs(args: argparse.Namespace) -> int:
    from .docgen import build_component_docs

    _check_output_folder(args.output, "the documentation")
    index = build_component_docs(args.output, builtins_only=args.builtins_only, run_spec=not args.no_spec)
    print(f"built {index}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from . import datasets
    from .errors import InputError
    from .model import Dense
    from .model import Sequential
    from .registry import create
    from .serialization import save
    from .training import Checkpointing, load_checkpoint
    from .errors import FileWriteError, TrainingInterrupted
    from .serialization import check_writable
    from .training import fit

    if args.save is not None:  # the outputs are checked before anything is loaded or trained
        check_writable(args.save, "the model")
    if args.checkpoint is not None:
        check_writable(args.checkpoint, "the checkpoint")
    if args.data:
        X, y = datasets.load_data(args.data, args.target)
        source = args.data
    else:
        if args.target:
            raise InputError("--target needs --data")
        X, y = datasets.load_digits()
        source = "embedded digits (1797 8x8 images, 10 classes)"
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=args.test_size, seed=args.seed)
    params: dict[str, dict[str, Any]] = {}
    for kind, key, value in args.param:
        params.setdefault(kind, {})[key] = value
    classify = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    n_out = int(y.max()) + 1 if classify else (1 if y.ndim == 1 else y.shape[1])
    if classify and n_out < 2:
        raise InputError(f"the target has a single class ({int(y.max())}); need at least two")
    if classify and int(y.min()) < 0:
        raise InputError(f"the target holds the class label {int(y.min())}; integer targets are class labels "
                         f"0, 1, ..., so write a regression target as floats (e.g. -1.0)")
    if classify and n_out > _MAX_CLASSES:
        raise InputError(f"the target's largest class label is {n_out - 1}, which would need {n_out} outputs "
                         f"(at most {_MAX_CLASSES}); write a regression target as floats (e.g. 3.0)")
    out_act = args.output_activation or ("softmax" if classify else "identity")
    loss = args.loss or ("cross_entropy" if classify else "mse")

    act = create("activation", args.activation, **params.get("activation", {}))
    init = create("initializer", args.init, **params.get("init", {}))
    layers = [Dense(units, activation=act, init=init) for units in args.layers]
    layers.append(Dense(n_out, activation=out_act, init=init))
    net = Sequential(layers, input_dim=X.shape[1], seed=args.seed)
    path = args.checkpoint or _DEFAULT_CHECKPOINT
    policy: Any = Checkpointing(path, every=args.checkpoint_every if args.checkpoint else None)
    if not args.checkpoint and not _writable(path):  # Ctrl-C then keeps the state in memory only
        policy = None
        print(f"note: {path} cannot be written here, so Ctrl-C will not save a checkpoint "
              f"(give --checkpoint PATH)", file=sys.stderr)
    resume: Any = False
    if args.resume:
        if os.path.exists(path):
            resume = load_checkpoint(path)
            print(f"resuming from {path}: {resume!r}")
        else:
            print(f"no checkpoint at {path}: starting from the beginning")
    hidden = "-".join(str(u) for u in args.layers)
    print(f"data: {source}; {X_train.shape[0]} train / {X_test.shape[0]} test samples")
    print(f"network: {X.shape[1]}-{hidden}-{n_out}, {args.activation} / {out_act}, init {args.init}, "
          f"{net.count_params()} parameters")
    print(f"training: loss {loss}, optimizer {args.optimizer}, lr {args.lr}, schedule {args.schedule}, "
          f"{args.epochs} epochs, batch {args.batch_size}, seed {args.seed}")
    started = time.perf_counter()
    initial = net.get_weights()
    try:
        history = fit(
            net, X_train, y_train,
            loss=create("loss", loss, **params.get("loss", {})),
            optimizer=create("optimizer", args.optimizer, **params.get("optimizer", {})),
            schedule=create("schedule", args.schedule, **params.get("schedule", {})),
            lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
            validation_data=(X_test, y_test), progress=not args.no_progress, checkpoint=policy, resume=resume,
            max_growth=args.max_growth)
    except TrainingInterrupted as exc:
        print(f"neuroplug train: {exc}", file=sys.stderr)
        if exc.path:
            import shlex

            again = shlex.join(["neuroplug", *(a for a in args.argv if a != "--resume"), "--resume"])
            print(f"neuroplug train: to continue, run: {again}", file=sys.stderr)
        return 130
    except FileWriteError as exc:  # a checkpoint could not be written during or after training
        if all(np.array_equal(a, b) for a, b in zip(initial, net.get_weights())):
            raise
        raise _saved_elsewhere(net, exc, "the network trained so far") from None
    elapsed = time.perf_counter() - started
    if args.save is not None:  # saved before anything else is printed: a broken stdout must not lose it
        try:
            save(net, args.save)
        except (FileWriteError, OSError) as exc:
            raise _saved_elsewhere(net, exc, "the trained model") from None
    logs = {k: v[-1] for k, v in history.history.items()}
    print(f"final training loss {logs['loss']:.4f}, held-out loss {logs['val_loss']:.4f}")
    if classify:
        acc = float(np.mean(net.predict_classes(X_test) == y_test))
        print(f"held-out accuracy: {100 * acc:.2f} % ({int(round(acc * len(y_test)))}/{len(y_test)}) "
              f"in {elapsed:.1f} s")
    else:
        print(f"trained in {elapsed:.1f} s")
    if args.save is not None:
        print(f"saved the model to {args.save}")
    return 0


def _writable(path: str) -> bool:
    from .errors import NeuroplugError
    from .serialization import check_writable

    try:
        check_writable(path)
    except NeuroplugError:
        return False
    return True


def _saved_elsewhere(net: Any, exc: BaseException, what: str) -> Exception:
    """Save ``net`` where it can be (the current folder, else the temporary one) and return the
    FileWriteError to report: the original problem and where the network is now."""
    import tempfile

    from .errors import FileWriteError
    from .serialization import save

    problems = []
    for folder in (os.getcwd(), tempfile.gettempdir()):
        try:
            fd, path = tempfile.mkstemp(prefix="neuroplug-model-", suffix=".npz", dir=folder)
            os.close(fd)
        except OSError as err:
            problems.append(f"{folder}: {err.strerror or err}")
            continue
        try:
            save(net, path)
        except (FileWriteError, OSError) as err:
            problems.append(str(err))
            try:
                os.unlink(path)
            except OSError:
                pass
            continue
        return FileWriteError(f"{exc}; {what} was saved to {path!r} instead", path=getattr(exc, "filename", None),
                              errno=getattr(exc, "errno", None))
    return FileWriteError(f"{exc}; saving {what} elsewhere failed too ({'; '.join(problems)})",
                          path=getattr(exc, "filename", None), errno=getattr(exc, "errno", None))


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
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`).

    0 ok, 1 spec failures, 2 bad input, 3 a file or stream that cannot be written,
    4 an internal error, 130 interrupted, 141 the output pipe was closed. Errors are
    one line on stderr; ``--debug`` or ``NEUROPLUG_DEBUG=1`` adds the traceback.
    """
    from .errors import FileWriteError, NeuroplugError

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
        except SystemExit:  # --help, --version and argparse's errors: their output must get out too
            if sys.stdout is not None:
                sys.stdout.flush()
            raise
        args.argv = argv
        command = f"neuroplug {args.command}"
        handler = {"list": _cmd_list, "plugins": _cmd_plugins, "train": _cmd_train, "spec": _cmd_spec,
                   "docs": _cmd_docs}[args.command]
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
