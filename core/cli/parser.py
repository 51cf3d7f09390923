"""The ``neuroplug`` command line: the parser and the checks of the option values (``argparse`` types)."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["build_parser"]


#: The environment variable that makes every command print the traceback of an error.
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


def _number(text: str, convert: Any, ok: Any, expected: str) -> Any:
    """``convert(text)`` if ``ok`` of it, else the ArgumentTypeError saying what was ``expected``."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _natural(text: str) -> int:
    """An integer >= 0 (a seed)."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def _seconds(text: str) -> float:
    """A number of seconds >= 0 (a time limit; 0: none; nan is refused)."""
    return _number(text, float, lambda v: v >= 0, "a number of seconds >= 0")


def _growth(text: str) -> float | None:
    """``--max-growth``: a number > 1, or ``off``."""
    if text.strip().lower() in ("off", "none"):
        return None
    return _number(text, float, lambda v: v > 1, "a number > 1 or 'off'")


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
    from .. import __version__

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

    c = sub.add_parser("compare", parents=[common], help="compare components over data sets and seeds",
                       description="Train every combination of the values given (comma-separated) on every "
                                   "data set with every seed, on local processes or a Dask cluster; write "
                                   "each run to OUTPUT/results.jsonl as it finishes (a rerun runs only what "
                                   "is missing) and a report: summary tables, figures, index.html.")
    for kind, plural, default in (("activation", "activations", "relu"), ("init", "initializers", "he_uniform"),
                                  ("loss", "losses", None), ("optimizer", "optimizers", "sgd"),
                                  ("schedule", "schedules", "constant")):
        c.add_argument(f"--{kind}", type=_values, metavar="NAME[,NAME...]",
                       help=f"{plural} to compare (default {default or 'by the task: cross_entropy or mse'})")
    c.add_argument("--lr", type=_values_of(float, "learning rates > 0"), metavar="LR[,LR...]",
                   help="learning rates (default 0.05)")
    c.add_argument("--batch-size", type=_values_of(int, "batch sizes >= 1"), metavar="N[,N...]",
                   help="batch sizes (default 32)")
    c.add_argument("--epochs", type=_values_of(int, "numbers of epochs >= 1"), metavar="N[,N...]",
                   help="epochs (default 30)")
    c.add_argument("--layers", type=_layers, default=None, help="hidden layer sizes, e.g. 32,32 (default 32,32)")
    c.add_argument("--grid", type=_grid_json, default=None, metavar="JSON",
                   help='the grid as JSON, for component configs: \'{"activation": [{"name": "leaky_relu", '
                        '"config": {"alpha": 0.1}}, "relu"]}\' (merged with the options above)')
    c.add_argument("--data", type=_values, default=["digits"], metavar="NAME|PATH[,...]",
                   help="data sets: digits, moons, circles, spirals, regression or .npz/.csv files "
                        "(default digits)")
    c.add_argument("--target", default=None, help="for data files: the target column (CSV) or array name (NPZ); "
                   "default: last column / 'y'")
    c.add_argument("--seeds", type=_number_of_seeds, default=5, metavar="N", help="seeds 0..N-1 (default 5)")
    c.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="local worker processes (default: all cores; 1: in this process)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on the Dask cluster of this scheduler (tcp://host:8786) instead of locally")
    c.add_argument("--output", default="neuroplug-compare", metavar="DIR",
                   help="the results and the report (default neuroplug-compare)")
    c.add_argument("--baseline", default=None, metavar="VALUE",
                   help="compare every combination with the one using this value, seed by seed (e.g. relu)")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _values(text: str) -> list[str]:
    """Comma-separated names (component names, data sets)."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return values


def _values_of(convert: Any, expected: str) -> Any:
    """A parser of comma-separated numbers, each ``> 0``."""
    def parse(text: str) -> list[Any]:
        return [_number(v, convert, lambda x: x > 0, expected) for v in _values(text)]

    return parse


def _number_of_seeds(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a number of seeds >= 1")


def _jobs(text: str) -> int:
    return _number(text, int, lambda v: v >= 1 or v == -1, "a number of processes >= 1 (or -1: all cores)")


def _grid_json(text: str) -> dict[str, Any]:
    try:
        grid = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r:.80} ({exc.msg})") from None
    if not isinstance(grid, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"activation\": [\"relu\"]}}', "
                                         f"got {text!r:.80}")
    return grid
