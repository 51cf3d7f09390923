"""The ``neuroplug`` sub-commands: ``list``, ``plugins``, ``spec``, ``docs``, ``train``, ``compare`` -- each a thin layer over the public API."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from typing import Any, Sequence

from .parser import _DEFAULT_CHECKPOINT, _MAX_CLASSES

__all__: list[str] = []


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
    from ..registry import get_registry

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
    from ..registry import get_registry

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
    from ..errors import InputError
    from ..spec import report as render
    from ..spec.framework import get_check
    from ..spec.runner import resolve_timeout, run_spec

    resolve_timeout(args.timeout)  # NEUROPLUG_SPEC_TIMEOUT too: an InputError before any check runs
    for check_id in args.check or ():
        try:
            get_check(check_id)
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    if args.output is not None:  # before the checks run, not after ('' is refused, not stdout)
        from ..serialization import check_writable

        check_writable(args.output, "the report")
    with _plugin_output_to_stderr():  # only the report reaches stdout
        result = run_spec(args.selector, seed=args.seed, thorough=args.thorough, checks=args.check,
                          timeout=args.timeout)
        text = {"text": lambda r: render.to_text(r, verbose=args.verbose), "json": render.to_json,
                "junit": render.to_junit_xml}[args.format](result)
    if args.output is not None:
        from ..serialization import atomic_write

        atomic_write(args.output, lambda fh: fh.write(text.encode("utf-8") + b"\n"), "the report")
        print(render.summary_line(result))
    else:
        print(text)
    return 0 if result.ok else 1


def _check_output_folder(folder: str, what: str) -> None:
    """FileWriteError unless ``folder`` is, or can be created as, a writable directory (nothing is created)."""
    from ..errors import FileWriteError
    from ..serialization import check_writable

    if not folder or "\0" in folder:
        from ..errors import InputError

        raise InputError(f"{what} needs an output folder name (not empty, no NUL byte), got {folder!r}")
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
    from ..docgen import build_component_docs

    _check_output_folder(args.output, "the documentation")
    index = build_component_docs(args.output, builtins_only=args.builtins_only, run_spec=not args.no_spec)
    print(f"built {index}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..comparison import compare
    from ..errors import InputError

    grid: dict[str, Any] = dict(args.grid or {})
    for key in ("activation", "init", "loss", "optimizer", "schedule", "lr", "batch_size", "epochs"):
        values = getattr(args, key)
        if values is None:
            continue
        if key in grid:
            raise InputError(f"--{key.replace('_', '-')} and --grid both give {key!r}: give it once")
        grid[key] = values
    if args.layers is not None:
        if "hidden" in grid:
            raise InputError("--layers and --grid both give 'hidden': give it once")
        grid["hidden"] = [args.layers]
    from ..comparison.grid import check_grid

    grid = check_grid(grid)  # a bad --grid is a ConfigError naming what is wrong, before anything runs
    fixed = {k: grid.pop(k)[0] for k in list(grid) if len(grid[k]) == 1}  # one value: a setting, not a column
    if not grid:  # nothing varies: the single combination is the comparison
        key = next(iter(fixed), "activation")
        grid[key] = [fixed.pop(key, "relu")]
    _check_output_folder(args.output, "the comparison")
    results = compare(grid, data=args.data, seeds=args.seeds, target=args.target,
                      backend="dask" if args.scheduler else "local", jobs=args.jobs, scheduler=args.scheduler,
                      output=args.output, baseline=args.baseline, progress=not args.no_progress, **fixed)
    print(_comparison_table(results.summary()))
    if args.baseline is not None:
        print(f"\nagainst the baseline {args.baseline!r}, seed by seed (mean difference ± 95 % CI):")
        for row in results.paired(args.baseline):
            scale, unit = (100.0, " points") if row["metric"] == "test_accuracy" else (1.0, "")
            verdict = ("not distinguishable from noise" if not row["distinguishable"]
                       else "better" if row["better"] else "worse")
            diff = "-" if row["n_pairs"] == 0 else f"{row['mean_diff'] * scale:+.2f}{unit}" + (
                f" ± {row['ci'] * scale:.2f}" if row["n_pairs"] > 1 else "")
            print(f"  {row['data']}: {row['label']} vs {row['baseline_label']}: {diff} over {row['n_pairs']} "
                  f"seeds -- {verdict}")
    print(f"{results!r}")
    print(f"report: {os.path.join(args.output, 'index.html')}; raw results: "
          f"{os.path.join(args.output, 'results.jsonl')}")
    if results.lost:
        print(f"{len(results.lost)} runs were lost with their workers: run the same command again to run them",
              file=sys.stderr)
        return 1
    return 0


def _comparison_table(rows: list[dict[str, Any]]) -> str:
    """The summary as people read it: accuracy in %, mean ± 95 % CI, runs that did not finish."""
    import math

    def pm(mean: float, ci: float, scale: float = 1.0, digits: int = 2) -> str:
        if mean is None or not math.isfinite(mean):
            return "-"
        half = "" if ci is None or not math.isfinite(ci) else f" ± {ci * scale:.{digits}f}"
        return f"{mean * scale:.{digits}f}{half}"

    header = ("data", "combination", "runs", "not ok", "held-out accuracy %", "held-out loss", "s/run")
    body = [(r["data"], r["label"], str(r["runs"]), f"{r['diverged']} div, {r['failed']} fail"
             if r["diverged"] or r["failed"] else "-", pm(r["acc_mean"], r["acc_ci"], 100.0),
             pm(r["loss_mean"], r["loss_ci"], 1.0, 4), f"{r['seconds_mean']:.2f}") for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def _cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import datasets
    from ..errors import FileWriteError, InputError, TrainingInterrupted
    from ..model import Dense, Sequential
    from ..registry import create
    from ..serialization import check_writable, save
    from ..training import Checkpointing, fit, load_checkpoint

    if args.save is not None:  # the outputs are checked before anything is loaded or trained
        check_writable(args.save, "the model")
    if args.checkpoint is not None:
        check_writable(args.checkpoint, "the checkpoint")
    if args.data is not None:  # '' is refused by the loader, not taken for the embedded data
        X, y = datasets.load_data(args.data, args.target)
        source = args.data
    else:
        if args.target is not None:
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
    from ..errors import NeuroplugError
    from ..serialization import check_writable

    try:
        check_writable(path)
    except NeuroplugError:
        return False
    return True


def _saved_elsewhere(net: Any, exc: BaseException, what: str) -> Exception:
    """Save ``net`` where it can be (the current folder, else the temporary one) and return the
    FileWriteError to report: the original problem and where the network is now."""
    import tempfile

    from ..errors import FileWriteError
    from ..serialization import save

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
