"""An adversarial reliability pass over neuroplug's public API and command line (issue 11).

neuroplug promises that no traceback ever reaches a user and that nothing is lost
when a call fails. This script generates cases deterministically from a seed, runs
each under a time limit, classifies the outcome and prints a table of counts per
class, then one reproduction line for every problem found::

    python tests/adversarial.py                       # the default pass (1,250 cases)
    python tests/adversarial.py --cases 3000 --seed 7 --jobs 2
    python tests/adversarial.py --only ckpt_mutation  # one class
    python tests/adversarial.py --seed 0 --only ckpt_mutation --case 17 -v   # replay one case

The classes (``CLASSES``):

``fit_args``
    random argument values for ``fit`` (every argument, the callbacks and output
    paths included), ``Sequential``, ``Dense``, ``predict``, ``set_weights``,
    ``save``/``load``, ``EarlyStopping``, ``Checkpointing`` and ``create``;
``save_paths``
    paths that cannot be written (missing folder, directory, device, FIFO, socket,
    ``''``, NUL, ``None``, too long, ...) for ``save``, ``Checkpoint.save``,
    ``fit(checkpoint=...)`` and ``check_writable``;
``ckpt_mutation``
    structure-aware mutation of real checkpoints (adam + reduce_on_plateau +
    EarlyStopping + validation; sgd momentum interrupted mid-epoch; an MT19937
    generator with rmsprop and keep_best; one written by ``neuroplug train``) and
    model files: their JSON member and arrays are mutated once or twice and the
    archive is written back as neuroplug writes it, then ``load_checkpoint``,
    ``fit(..., resume=...)``, ``neuroplug train --resume`` or ``load``;
``hostile_components``
    components registered in an isolated registry that return garbage (wrong
    shape, None, str, NaN after k calls, ...), raise, print or mutate their inputs,
    used by ``Sequential``, ``fit``, ``predict``, ``neuroplug train`` and
    ``neuroplug spec``;
``plugin_output``
    plugins that print (``print``, ``sys.stdout``, ``os.write(1, ...)``, at import,
    in hooks, in constructors and methods), in-process and as installed plugin
    packages (a ``*.dist-info`` with an entry point on ``PYTHONPATH``), against
    ``list --json``, ``plugins --json`` and ``spec --format json``;
``data_files``
    ``--data`` (and ``load``/``resume``) given FIFOs, devices, symlinks to devices,
    directories, huge sparse files, truncated or hostile ``.npz`` and ``.csv`` files;
``cli_args``
    random flags and values for every command: one line and a documented exit status;
``explosion``
    finite runs that blow up (huge learning rates, every optimizer): stopped like a
    divergence, weights restored to a state the run passed through.

Outcomes: *accepted* (the call succeeded), *clean* (a
:class:`neuroplug.errors.NeuroplugError` or ``TrainingInterrupted``; for the CLI a
documented exit status with one error line and no traceback), *raw* (anything
else, a crash of the interpreter included) and *hang* (over the time limit). Flags
on top: *weights changed* (a failed call changed a weight, the optimizer, schedule
or callback state, or a file that was there before), *files left* (a failed call
left a file behind, or any call left a temporary file), *missed* (a call that had
to fail succeeded, e.g. a tampered RNG state was accepted or an exploding run was
not stopped) and *bad message* (a clean error that does not name what the
documentation says it names, or the wrong documented exit status).

The module is importable: :func:`plan`, :func:`make_case`, :func:`run_case`,
:func:`run_cases`, :func:`summarize`, :func:`format_table` and
:func:`reproductions`; ``tests/test_adversarial.py`` runs a fixed-seed sample.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import types
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import neuroplug as npl
from neuroplug import errors as E

# ----------------------------------------------------------------------------- configuration
#: class name -> (share of the cases, one-line description); the generators are below.
CLASSES: dict[str, tuple[float, str]] = {
    "fit_args": (0.20, "random argument values for fit/Sequential/Dense/predict/save/load/..."),
    "save_paths": (0.09, "paths that cannot be written, for save/Checkpoint.save/fit(checkpoint=)"),
    "ckpt_mutation": (0.25, "structure-aware mutation of checkpoints and model files"),
    "hostile_components": (0.17, "components returning garbage / raising / printing"),
    "plugin_output": (0.05, "plugins that print vs list/plugins/spec --json"),
    "data_files": (0.08, "--data FIFOs, devices, huge and truncated files"),
    "cli_args": (0.10, "random CLI flags and values"),
    "explosion": (0.06, "finite but exploding runs"),
}
DEFAULT_CASES = 1250
DEFAULT_SEED = 0
LIMIT = 20.0          # seconds for one in-process case
CLI_TIMEOUT = 30.0    # seconds for one command-line subprocess
FLAGS = ("weights_changed", "files_left", "missed", "bad_message")

# the documented exit statuses of the command line (docs/guide/cli.rst)
EXIT_OK, EXIT_SPEC_FAILED, EXIT_INPUT, EXIT_WRITE, EXIT_INTERNAL = 0, 1, 2, 3, 4
_CLI_ERROR_LINE = re.compile(r"^neuroplug( [a-z]+)?: error: \S")


# ----------------------------------------------------------------------------- records
@dataclass
class Case:
    """One generated case: its class, id and seed, a plain-data spec and a readable input."""

    cls: str
    id: int
    seed: int
    spec: dict
    text: str

    def repro(self) -> str:
        """The command that replays this case alone."""
        return (f"python tests/adversarial.py --seed {self.seed} --only {self.cls} --case {self.id} -v")


@dataclass
class Result:
    """What a case did: the outcome, the error it raised and the flags it earned."""

    cls: str
    id: int
    seed: int
    text: str
    outcome: str = "accepted"            # accepted | clean | raw | hang
    error: str = ""
    flags: dict = field(default_factory=dict)   # flag -> detail
    seconds: float = 0.0
    trace: str = ""

    def flag(self, name: str, detail: str) -> None:
        """Record a flag (the first detail given for it is kept)."""
        assert name in FLAGS, name
        self.flags.setdefault(name, _clip(detail, 400))

    @property
    def problems(self) -> list[str]:
        """The reasons this result is a finding: raw, hang, and each flag."""
        out = [self.outcome] if self.outcome in ("raw", "hang") else []
        return out + sorted(self.flags)

    def repro(self) -> str:
        """One line: what went wrong, and how to replay it."""
        what = ", ".join(self.problems)
        details = "; ".join(f"{k}: {v}" for k, v in sorted(self.flags.items()))
        err = f" -> {self.error}" if self.error else ""
        extra = f" [{details}]" if details else ""
        return (f"[{what}] {self.cls} #{self.id} seed={self.seed}: {self.text}{err}{extra}\n"
                f"    replay: python tests/adversarial.py --seed {self.seed} --only {self.cls} "
                f"--case {self.id} -v")


def _clip(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


# ----------------------------------------------------------------------------- fixtures
class Fixtures:
    """Small data, real checkpoints and a model file, built once per process in ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root
        rng = np.random.default_rng(20240611)
        self.X = rng.normal(size=(40, 3)).astype(np.float32)
        self.y = (self.X[:, 0] + 0.5 * self.X[:, 1] > 0).astype(np.int64)
        self.Xv = rng.normal(size=(12, 3)).astype(np.float32)
        self.yv = (self.Xv[:, 0] + 0.5 * self.Xv[:, 1] > 0).astype(np.int64)
        self.Xr = rng.normal(size=(40, 3)).astype(np.float32)
        self.yr = (self.Xr @ np.array([1.0, -2.0, 0.5]) + 0.1).astype(np.float32)[:, None]
        self.small_npz = os.path.join(root, "small.npz")
        np.savez(self.small_npz, X=self.X, y=self.y)
        self.small_csv = os.path.join(root, "small.csv")
        with open(self.small_csv, "w", encoding="ascii") as fh:
            fh.write("a,b,c,label\n")
            for row, label in zip(self.X, self.y):
                fh.write(",".join(f"{v:.5f}" for v in row) + f",{label}\n")
        self.ckpts: dict[str, str] = {}
        self._zip_bomb: str | None = None
        with npl.isolated_registry():
            self._build()

    def zip_bomb(self) -> str:
        """An .npz whose X member declares 64 Mi float32 and deflates 256 MiB of zeros into ~250 KB."""
        if self._zip_bomb is None:
            path = os.path.join(self.root, "zip_bomb.npz")
            header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (67108864,), }".ljust(117) + b"\n"
            head = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                with zf.open("X.npy", "w", force_zip64=True) as fh:
                    fh.write(head)
                    chunk = b"\0" * (1 << 20)
                    for _ in range(256):
                        fh.write(chunk)
                buf = io.BytesIO()
                np.save(buf, self.y)
                zf.writestr("y.npy", buf.getvalue())
            self._zip_bomb = path
        return self._zip_bomb

    def _build(self) -> None:
        for name in CKPT_FIXTURES:
            path = os.path.join(self.root, f"{name}.ckpt.npz")
            ns = namespace(self, self.root)
            ns["CKPT"] = path
            fixture = CKPT_FIXTURES[name]
            if name == "cli":
                from neuroplug.cli import main

                with _captured_fds():
                    rc = main([a.replace("{data}", self.small_npz).replace("{ckpt}", path)
                               for a in fixture["write"]])
                if rc != 0:
                    raise RuntimeError(f"could not write the CLI checkpoint fixture (exit {rc})")
            else:
                exec(fixture["setup"], ns)
                _Interrupting.at = fixture.get("interrupt_at")
                # Python's own SIGINT handler, so that fit handles the SIGINT the loss sends (a process
                # started in the background may ignore SIGINT); put back afterwards
                old = signal.signal(signal.SIGINT, signal.default_int_handler)
                try:
                    exec(fixture["write"], ns)
                except npl.TrainingInterrupted:
                    pass
                finally:
                    _Interrupting.at = None
                    signal.signal(signal.SIGINT, old)
            npl.load_checkpoint(path)  # the fixture itself must be valid
            self.ckpts[name] = path
        self.model = os.path.join(self.root, "model.npz")
        ns = namespace(self, self.root)
        npl.save(eval("net()", ns), self.model)


_FIXTURES: Fixtures | None = None


def fixtures() -> Fixtures:
    """The process's fixtures (built on first use, in a temporary folder removed at exit)."""
    global _FIXTURES
    if _FIXTURES is None:
        root = tempfile.mkdtemp(prefix="neuroplug-adversarial-fixtures.")
        import atexit

        pid = os.getpid()
        atexit.register(lambda: os.getpid() == pid and shutil.rmtree(root, ignore_errors=True))
        _FIXTURES = Fixtures(root)
        _FIXTURES.zip_bomb()
    return _FIXTURES


def _interrupting_base():
    return type(npl.create("loss", "cross_entropy"))


def _make_interrupting():
    base = _interrupting_base()

    class Interrupting(base):
        """Cross-entropy that sends SIGINT to this process at its step ``at`` (a mid-epoch checkpoint)."""

        at = None
        calls = 0

        def forward(self, a, t):
            cls = type(self)
            if a.shape[0] == 1:
                return super().forward(a, t)
            cls.calls += 1
            if cls.calls - 1 == cls.at:
                os.kill(os.getpid(), signal.SIGINT)
            return super().forward(a, t)

    Interrupting.__qualname__ = "AdversarialInterrupting"
    return Interrupting


_Interrupting = _make_interrupting()


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a`` (fit must accept it and never write into it)."""
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


def namespace(fx: Fixtures, folder: str) -> dict:
    """The names a case's expressions are evaluated in (data, factories, paths, numpy, neuroplug)."""
    def net(dtype="float32", seed=0):
        return npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(2, activation="softmax")],
                              input_dim=3, seed=seed, dtype=dtype)

    def rnet(seed=0):
        return npl.Sequential([npl.Dense(8, activation="tanh"), npl.Dense(1)], input_dim=3, seed=seed)

    class NotACallback:
        """An object that is no callback."""

    return {
        "np": np, "npl": npl, "math": math, "nan": float("nan"), "inf": float("inf"),
        "X": fx.X.copy(), "y": fx.y.copy(), "Xv": fx.Xv.copy(), "yv": fx.yv.copy(), "Xr": fx.Xr.copy(),
        "yr": fx.yr.copy(), "readonly": _readonly,
        "net": net, "rnet": rnet, "d": folder, "os": os, "NotACallback": NotACallback,
        "ES": npl.EarlyStopping, "CP": npl.Checkpointing, "Interrupting": _Interrupting,
        "MODEL": fx.model if hasattr(fx, "model") else None, "SMALL": fx.small_npz,
        "CKPTS": dict(fx.ckpts),
    }


#: The real checkpoints that ``ckpt_mutation`` tampers with: how each is written, and how the
#: run is resumed (the same arguments, as expressions; ``CKPT`` is the file, ``EPOCHS`` one more epoch).
CKPT_FIXTURES: dict[str, dict] = {
    "adam": {
        "setup": "opt = npl.create('optimizer', 'adam'); sch = npl.create('schedule', 'reduce_on_plateau', "
                 "patience=1); es = ES(patience=5)",
        "write": "npl.fit(net(), X, y, loss='cross_entropy', optimizer=opt, lr=0.05, schedule=sch, epochs=3, "
                 "batch_size=8, seed=0, validation_data=(Xv, yv), callbacks=[es], checkpoint=CKPT)",
        "resume": "npl.fit(NET, X, y, loss='cross_entropy', optimizer=OPT, lr=0.05, schedule=SCH, epochs=4, "
                  "batch_size=8, seed=0, validation_data=(Xv, yv), callbacks=[CB], checkpoint=CKPT, resume=True)",
        "components": {"OPT": "npl.create('optimizer', 'adam')",
                       "SCH": "npl.create('schedule', 'reduce_on_plateau', patience=1)",
                       "CB": "ES(patience=5)"},
    },
    "momentum_mid_epoch": {
        "setup": "",
        "interrupt_at": 7,
        "write": "npl.fit(net(), X, y, loss=Interrupting(), optimizer={'name': 'sgd', 'config': {'momentum': 0.9, "
                 "'nesterov': True}}, lr=0.1, schedule={'name': 'step_decay', 'config': {'step_size': 1}}, "
                 "epochs=3, batch_size=8, seed=0, callbacks=[ES(monitor='loss', patience=3)], "
                 "checkpoint=CP(CKPT, every=3))",
        "resume": "npl.fit(NET, X, y, loss=Interrupting(), optimizer=OPT, lr=0.1, schedule=SCH, epochs=3, "
                  "batch_size=8, seed=0, callbacks=[CB], checkpoint=CP(CKPT, every=3), resume=True)",
        "components": {"OPT": "npl.create('optimizer', 'sgd', momentum=0.9, nesterov=True)",
                       "SCH": "npl.create('schedule', 'step_decay', step_size=1)",
                       "CB": "ES(monitor='loss', patience=3)"},
    },
    "mt19937": {
        "setup": "",
        "write": "npl.fit(net(), X, y, loss='cross_entropy', optimizer='rmsprop', lr=0.01, "
                 "schedule={'name': 'cosine_annealing', 'config': {'total_steps': 3}}, epochs=3, batch_size=8, "
                 "seed=np.random.Generator(np.random.MT19937(0)), validation_data=(Xv, yv), "
                 "checkpoint=CP(CKPT, every=4, keep_best='val_loss'))",
        "resume": "npl.fit(NET, X, y, loss='cross_entropy', optimizer=OPT, lr=0.01, schedule=SCH, epochs=4, "
                  "batch_size=8, seed=np.random.Generator(np.random.MT19937(0)), validation_data=(Xv, yv), "
                  "checkpoint=CP(CKPT, every=4, keep_best='val_loss'), resume=True)",
        "components": {"OPT": "npl.create('optimizer', 'rmsprop')",
                       "SCH": "npl.create('schedule', 'cosine_annealing', total_steps=3)"},
    },
    "cli": {
        "write": ["train", "--data", "{data}", "--epochs", "2", "--layers", "4", "--batch-size", "8",
                  "--optimizer", "adam", "--lr", "0.01", "--checkpoint", "{ckpt}", "--no-progress"],
        "resume": ["train", "--data", "{data}", "--epochs", "3", "--layers", "4", "--batch-size", "8",
                   "--optimizer", "adam", "--lr", "0.01", "--checkpoint", "{ckpt}", "--resume", "--no-progress"],
    },
}


# ----------------------------------------------------------------------------- running in-process
class _Timeout(BaseException):
    """Raised by the alarm when an in-process case runs past its limit."""


def guarded(fn: Callable[[], Any], limit: float = LIMIT) -> tuple[str, Any, BaseException | None, str]:
    """Run ``fn()`` under a time limit; return (outcome, value, exception, traceback text).

    The outcome is ``accepted``, ``clean`` (a NeuroplugError or TrainingInterrupted), ``raw``
    or ``hang`` (the alarm fired, even if the code under test then turned it into something else).
    """
    fired = False

    def on_alarm(signum, frame):
        nonlocal fired
        fired = True
        raise _Timeout(f"no answer within {limit:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    value, exc, trace = None, None, ""
    try:
        value = fn()
    except BaseException as caught:  # noqa: BLE001 - everything is classified
        exc = caught
        trace = traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if fired:
        return "hang", None, exc, trace
    if exc is None:
        return "accepted", value, None, ""
    return classify(exc), None, exc, trace


def classify(exc: BaseException) -> str:
    """``clean`` for a documented neuroplug error, ``raw`` for anything else."""
    if isinstance(exc, (E.NeuroplugError, E.TrainingInterrupted)):
        return "clean"
    return "raw"


def describe_exc(exc: BaseException | None) -> str:
    """``TypeName: message`` on one line."""
    if exc is None:
        return ""
    return _clip(f"{type(exc).__name__}: {exc}", 300)


@contextlib.contextmanager
def _captured_fds():
    """Send file descriptors 1 and 2 (and sys.stdout/sys.stderr) to temporary files; yield a getter."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    saved = os.dup(1), os.dup(2)
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    box: dict[str, str] = {}

    def read() -> tuple[str, str]:
        return box.get("out", ""), box.get("err", "")

    try:
        yield read
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        for key, fh in (("out", out), ("err", err)):
            fh.seek(0)
            box[key] = fh.read().decode("utf-8", "replace")
            fh.close()


def run_cli_inprocess(argv: list[str], cwd: str, limit: float = LIMIT) -> tuple[Any, str, str, BaseException | None, str]:
    """``neuroplug.cli.main(argv)`` in this process, in ``cwd``: (exit status or 'hang'/'raised', out, err, exc, tb)."""
    from neuroplug.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        with _captured_fds() as read:
            outcome, value, exc, trace = guarded(lambda: main(list(argv)), limit)
    finally:
        os.chdir(old)
    out, err = read()
    if outcome == "hang":
        return "hang", out, err, exc, trace
    if exc is not None:
        return "raised", out, err, exc, trace
    return value, out, err, None, ""


def run_cli_subprocess(argv: list[str], cwd: str, env: dict | None = None,
                       timeout: float = CLI_TIMEOUT) -> tuple[Any, str, str]:
    """``python -m neuroplug argv`` in a subprocess: (exit status or 'hang', stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.pop("NEUROPLUG_DEBUG", None)
    full_env.update(env or {})
    proc = subprocess.Popen([sys.executable, "-m", "neuroplug", *argv], cwd=cwd, env=full_env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return "hang", out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def judge_cli(res: Result, rc: Any, out: str, err: str, argv: list[str], *, expect_rc: tuple = (),
              plugin_fault: bool = False, noisy_stderr: bool = False, exc: BaseException | None = None,
              trace: str = "") -> None:
    """Classify a command-line run (see the module docstring) and set ``res``'s outcome and flags.

    ``expect_rc``: the documented statuses this failure must have (empty: any documented one).
    ``plugin_fault``: a plugin is broken on purpose, so status 4 (a bug in a plugin) is documented.
    ``noisy_stderr``: plugins print to stderr on purpose; the one-line check is skipped.
    """
    debug = "--debug" in argv
    if rc == "hang":
        res.outcome, res.error = "hang", f"no exit within the limit; stderr: {_clip(err, 200)}"
        return
    if rc == "raised" and isinstance(exc, SystemExit) and isinstance(exc.code, int):
        # what a user sees is the same (the entry point exits with that status), but main() is
        # documented to *return* the status: judge the status, and note the deviation
        res.flag("bad_message", f"main() raised SystemExit({exc.code}) instead of returning {exc.code}")
        rc = exc.code
    if rc == "raised":
        res.outcome, res.error, res.trace = "raw", "main() raised " + describe_exc(exc), trace
        return
    lines = [line for line in err.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if "Traceback (most recent call last)" in err and not debug:
        res.outcome, res.error = "raw", f"exit {rc}, traceback on stderr: {_clip(last, 200)}"
        res.trace = err[-3000:]
        return
    if not isinstance(rc, int) or rc < 0:
        res.outcome, res.error = "raw", f"killed by signal {-rc if isinstance(rc, int) else rc}; stderr: {_clip(last)}"
        return
    if rc == EXIT_OK:
        res.outcome = "accepted"
        return
    allowed = {EXIT_INPUT, EXIT_WRITE} | ({EXIT_SPEC_FAILED} if argv and argv[0] == "spec" else set())
    if plugin_fault:
        allowed.add(EXIT_INTERNAL)
    res.error = f"exit {rc}: {_clip(last, 250)}"
    if rc not in allowed:
        res.outcome = "raw"
        res.trace = err[-3000:]
        return
    res.outcome = "clean"
    if expect_rc and rc not in expect_rc:
        res.flag("bad_message", f"exit status {rc}, documented: {expect_rc}")
    if rc == EXIT_SPEC_FAILED or noisy_stderr or debug:
        return
    # one error line, after at most argparse's usage block
    if not _CLI_ERROR_LINE.match(last):
        res.flag("bad_message", f"the last stderr line is not 'neuroplug ...: error: ...': {_clip(last, 150)}")
        return
    head = lines[:-1]
    if head and not (head[0].startswith("usage: ") and all(h.startswith(" ") for h in head[1:])):
        res.flag("bad_message", f"{len(lines)} stderr lines, not one error line: {_clip(' | '.join(lines), 200)}")


# ----------------------------------------------------------------------------- snapshots
def _rms(weights: list[np.ndarray]) -> float:
    total = sum(float(np.sum(np.square(w.astype(np.float64)))) for w in weights)
    count = sum(w.size for w in weights)
    return math.sqrt(total / max(count, 1))


def same(a: Any, b: Any) -> bool:
    """Deep equality of states: arrays bit-for-bit (NaN equal to NaN), dicts, lists, numbers."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and type(a) is type(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return repr(a) == repr(b)


def weights_of(net: Any) -> list[np.ndarray]:
    """Copies of a network's weights (empty for something that is no network)."""
    try:
        return [np.array(w, copy=True) for w in net.get_weights()]
    except Exception:  # noqa: BLE001
        return []


def state_of(component: Any) -> Any:
    """A deep copy of a component's reachable state: ``get_state()`` and its attributes."""
    out: dict[str, Any] = {}
    try:
        out["get_state"] = copy.deepcopy(component.get_state())
    except Exception as exc:  # noqa: BLE001
        out["get_state"] = f"<{type(exc).__name__}>"
    try:
        out["vars"] = copy.deepcopy({k: v for k, v in vars(component).items() if not callable(v)})
    except Exception:  # noqa: BLE001
        pass
    return out


def files_of(folder: str) -> dict[str, tuple]:
    """Everything under ``folder``: relative path -> (type, size, content hash or mtime)."""
    out: dict[str, tuple] = {}
    for base, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, folder)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                if st.st_size <= 8 << 20:
                    with open(path, "rb") as fh:
                        digest = hashlib.sha1(fh.read()).hexdigest()
                    out[rel] = ("file", st.st_size, digest)
                else:
                    out[rel] = ("file", st.st_size, st.st_mtime_ns)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode))
    return out


_TEMP_NAME = re.compile(r"(^|/)\.(?!.*\.best\.)[^/]*\.tmp$|neuroplug-probe")


def check_files(res: Result, before: dict, after: dict, failed: bool, allowed_new: tuple = ()) -> None:
    """Flag files left behind by a failed call (or temporary files by any call) and files changed by a failure."""
    new = sorted(set(after) - set(before))
    temps = [p for p in new if _TEMP_NAME.search(p)]
    if temps:
        res.flag("files_left", f"temporary files left: {temps[:4]}")
    if failed:
        left = [p for p in new if not any(re.search(pattern, p) for pattern in allowed_new)]
        if left:
            res.flag("files_left", f"a failed call left {left[:4]}")
        changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
        if changed:
            res.flag("weights_changed", f"a failed call changed the existing files {changed[:4]}")
        gone = sorted(set(before) - set(after))
        if gone:
            res.flag("weights_changed", f"a failed call removed {gone[:4]}")


class Spy:
    """Records the weights a run passes through: at each epoch start (a callback) and before each
    step (a subclass of the loss that snapshots the network whenever the loss is evaluated)."""

    def __init__(self) -> None:
        self.states: list[list[np.ndarray]] = []
        self.epochs: list[tuple[float, float]] = []   # (RMS at the epoch's start, at its end)
        self.net: Any = None

    def callback(self) -> Any:
        spy = self

        class SpyCallback(npl.Callback):
            """Snapshots the weights at the start and the end of each epoch (and their RMS)."""

            def on_epoch_begin(self, state):
                w = weights_of(state.network)
                spy.states.append(w)
                spy._begin = _rms(w)

            def on_epoch_end(self, state):
                w = weights_of(state.network)
                spy.states.append(w)
                spy.epochs.append((getattr(spy, "_begin", float("nan")), _rms(w)))

        return SpyCallback()

    def loss(self, base: str | type, **config: Any) -> Any:
        cls = base if isinstance(base, type) else type(npl.create("loss", base))
        spy = self
        sub = type(f"Spy{cls.__name__}", (cls,), {})

        def forward(self_, a, t):
            if spy.net is not None:
                spy.states.append(weights_of(spy.net))
            return cls.forward(self_, a, t)

        sub.forward = forward
        return sub(**config)

    def optimizer(self, base: str, **config: Any) -> Any:
        """An instance of a subclass of the built-in optimizer ``base`` that snapshots the weights after each step."""
        cls = type(npl.create("optimizer", base))
        spy = self
        sub = type(f"Spy{cls.__name__}", (cls,), {})

        def step(self_, params, grads, lr):
            out = cls.step(self_, params, grads, lr)
            if spy.net is not None:
                spy.states.append(weights_of(spy.net))
            return out

        sub.step = step
        return sub(**config)

    def matches(self, weights: list[np.ndarray], initial: list[np.ndarray]) -> bool:
        """True if ``weights`` is the initial state or one the run passed through."""
        return any(same(weights, s) for s in [initial, *self.states])


def data_of(ns: dict) -> dict:
    """Copies of the caller's data arrays in a case's namespace (X, y, Xv, yv, Xr, yr)."""
    return {k: np.array(ns[k], copy=True) for k in ("X", "y", "Xv", "yv", "Xr", "yr")}


def check_data(res: Result, ns: dict, before: dict) -> None:
    """Flag a call that changed the caller's data (fit must never write into X or y)."""
    changed = [k for k, v in before.items() if not same(np.asarray(ns[k]), v)]
    if changed:
        res.flag("weights_changed", f"the call changed the caller's data {changed}")


def check_weights_after_failure(res: Result, exc: BaseException | None, net: Any, initial: list,
                                spy: Spy | None = None, *, strict: bool = False,
                                components: dict | None = None, lenient: bool = False) -> None:
    """Flag ``weights_changed`` when a failed call left the network (or a component) in a state it
    must not be in.

    Errors raised before training (bad input, configuration, paths, files) must leave everything
    as it was. ``ComponentError`` and ``DivergenceError`` restore a state the run passed through
    (the start of the epoch / the last finite step): finite, and one of the spy's snapshots
    (only finite without a spy).
    ``strict``: the call must not change the weights whatever it raised (predict, save, ...).
    ``lenient``: every error may come after some training (a hostile component may raise
    anything at any step; a state that cannot be stored is found when the first checkpoint is
    written). Any other exception (a raw error) is checked against the spy's snapshots too.
    """
    if net is None or not initial:
        initial, net = [], None
    now = weights_of(net) if net is not None else []
    pre_step = isinstance(exc, (E.InputError, E.ConfigError, E.ComponentNotFoundError, E.FileWriteError,
                                E.ModelFileError, E.DuplicateComponentError, E.PluginError))
    if lenient and not strict:
        pre_step = False  # ``lenient``: any error may come after some epochs
    if strict or pre_step or (spy is None and not isinstance(exc, E.NeuroplugError)):
        if not same(now, initial):
            why = f"{type(exc).__name__} raised and the weights differ from before the call"
            if not all(np.isfinite(w).all() for w in now if w.dtype.kind == "f"):
                why += " (some are non-finite)"
            res.flag("weights_changed", why)
        for name, (component, before) in (components or {}).items():
            if not same(state_of(component), before):
                res.flag("weights_changed", f"{type(exc).__name__} raised and the {name}'s state changed")
        return
    if not all(np.isfinite(w).all() for w in now):
        res.flag("weights_changed", f"{type(exc).__name__} left non-finite weights")
    elif spy is not None and not spy.matches(now, initial):
        res.flag("weights_changed", f"{type(exc).__name__}: the weights are not a state the run passed "
                                    f"through (partial restore?)")


def _register(cls: type, kind: str, name: str) -> None:
    npl.register(cls, kind=kind, name=name)


# ----------------------------------------------------------------------------- generation
def plan(cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED, only: str | None = None) -> list[Case]:
    """The cases of a pass: ``cases`` in all, shared among the classes by ``CLASSES``' shares."""
    names = [only] if only else list(CLASSES)
    for name in names:
        if name not in CLASSES:
            raise SystemExit(f"unknown class {name!r}; the classes are {', '.join(CLASSES)}")
    shares = [CLASSES[n][0] for n in names]
    total = sum(shares)
    counts = [int(cases * s / total) for s in shares]
    for i in range(cases - sum(counts)):
        counts[i % len(counts)] += 1
    return [make_case(name, seed, i) for name, n in zip(names, counts) for i in range(n)]


def make_case(cls: str, seed: int, case_id: int) -> Case:
    """Generate case ``case_id`` of class ``cls`` for ``seed`` (the same arguments give the same case)."""
    rng = random.Random(f"neuroplug-adversarial:{seed}:{cls}:{case_id}")
    spec = GENERATORS[cls](rng, case_id)
    return Case(cls, case_id, seed, spec, spec.pop("text"))


def _pick(rng: random.Random, items: Any) -> Any:
    items = list(items)
    return items[rng.randrange(len(items))]


# --- class 1: fit and friends, random arguments --------------------------------------------
_ANY = ["None", "nan", "inf", "-inf", "0", "-1", "2.5", "1e308", "10**30", "2**64", "True", "False",
        "'abc'", "''", "[1, 2]", "{}", "object()", "np.float32(nan)", "np.array(0.1)", "np.array([1.0, 2.0])",
        "1+2j", "b'x'", "lambda: 0", "npl.Sequential", "np.int64(3)", "(3,)", "'\\x00'"]
_FIT_VALUES = {
    "lr": ["-0.1", "0", "nan", "inf", "1e308", "1e-320", "'0.1'", "None", "True", "np.array([0.1])",
           "np.float64(0.1)", "10**400 if False else 1e300", "[0.1]", "0.1+0j"],
    "epochs": ["0", "-1", "2.0", "2.5", "True", "'2'", "None", "np.int64(2)", "nan", "inf", "10**30 * 0",
               "-10**30", "[2]"],
    "batch_size": ["0", "-1", "41", "10**30", "2.5", "8.0", "True", "'8'", "None", "np.int32(8)", "nan", "1"],
    "shuffle": ["'yes'", "None", "2", "np.bool_(True)", "0", "[]", "nan"],
    "seed": ["-1", "2**70", "1.5", "'0'", "[1, 2]", "np.random.default_rng(0)",
             "np.random.Generator(np.random.MT19937(1))", "object()", "True", "nan", "np.int64(5)",
             "np.random.SeedSequence(3)", "np.random.RandomState(0)"],
    "validation_data": ["(Xv, yv)", "(Xv,)", "(Xv, yv[:-1])", "(np.full_like(Xv, nan), yv)", "(Xv[:, :2], yv)",
                        "(Xv, yv + 5)", "'val'", "[Xv, yv]", "(Xv, yv, yv)", "(Xv[:0], yv[:0])",
                        "(Xv.astype(object), yv)", "(Xv, yv.astype(float) + 0.5)", "(None, None)", "Xv"],
    "callbacks": ["[ES()]", "[ES]", "[object()]", "'ES'", "[ES(monitor='nope')]", "[ES(patience=-1)]",
                  "None", "[NotACallback()]", "[CP(os.path.join(d, 'x.npz'))]", "ES(monitor='loss')",
                  "[ES(monitor='loss', mode='bogus')]", "[ES(monitor='loss', min_delta=nan)]",
                  "[ES(monitor='loss', patience=2.5)]", "[ES(monitor='val_accuracy')]", "[ES(monitor=5)]",
                  "[ES(monitor='loss'), ES(monitor='loss')]", "(c for c in [ES(monitor='loss')])"],
    "progress": ["'yes'", "2", "None", "np.bool_(False)", "[]"],
    "checkpoint": ["os.path.join(d, 'no', 'such', 'x.npz')", "d", "os.path.join(d, 'sub')", "''", "5",
                   "CP(os.path.join(d, 'c.npz'), every=0)", "CP(os.path.join(d, 'c.npz'), every=-5)",
                   "CP(os.path.join(d, 'c.npz'), every='step')", "CP(os.path.join(d, 'c.npz'), keep_best='nope')",
                   "CP(os.path.join(d, 'c.npz'), mode='bogus', keep_best='loss')", "CP(d)",
                   "CP(os.path.join(d, 'c.npz'), every=2.5)", "CP(None)", "'/dev/full'", "'/dev/null'",
                   "os.path.join(d, 'file.txt', 'x.npz')", "os.path.join(d, 'x' * 300 + '.npz')",
                   "os.path.join(d, 'c.npz')", "CP(os.path.join(d, 'c.npz'), every=True)",
                   "CP(os.path.join(d, 'c.npz'), keep_best='val_loss')", "object()"],
    "resume": ["True", "os.path.join(d, 'missing.npz')", "5", "MODEL", "'/dev/null'", "d", "'yes'", "None",
               "CKPTS['adam']", "CKPTS['mt19937']", "npl.load_checkpoint(CKPTS['adam'])", "''", "1.5"],
    "max_growth": ["0", "-1", "nan", "inf", "'1e4'", "True", "1.0", "None", "1e-300", "[1e4]", "np.float64(1e4)"],
    "loss": ["'nope'", "{'name': 'mse', 'config': {'bogus': 1}}", "{'name': 5}", "{}", "5",
             "npl.create('activation', 'relu')", "'mse'", "{'name': 'cross_entropy', 'config': "
             "{'label_smoothing': 2}}", "{'name': 'cross_entropy', 'config': {'weight': [1.0]}}",
             "{'name': 'cross_entropy', 'config': {'weight': [1.0, nan]}}", "{'name': 'cross_entropy', "
             "'config': {'ignore_index': 7}}", "{'name': 'cross_entropy', 'config': {'reduction': 'none'}}",
             "{'name': 'cross_entropy', 'config': {'reduction': 'bogus'}}", "'binary_cross_entropy'",
             "{'name': 'huber', 'config': {'delta': -1}}", "type(npl.create('loss', 'mse'))", "'optimizer:sgd'",
             "'neuroplug:cross_entropy'", "'cross_entropy '", "{'name': 'cross_entropy', 'config': None}",
             "{'name': 'cross_entropy', 'config': {'from_logits': 'yes'}}"],
    "optimizer": ["'nope'", "{'name': 'sgd', 'config': {'momentum': -1}}", "{'name': 'adam', 'config': "
                  "{'beta1': 1.5}}", "{'name': 'sgd', 'config': {'momentum': nan}}",
                  "npl.create('loss', 'mse')", "{'name': 'adam', 'config': {'eps': 0}}",
                  "{'name': 'adam', 'config': {'eps': 'x'}}", "{'name': 'rmsprop', 'config': {'alpha': 2}}",
                  "{'name': 'adagrad', 'config': {'eps': -1}}", "{'name': 'adamw', 'config': "
                  "{'weight_decay': inf}}", "{'name': 'sgd', 'config': {'nesterov': True}}",
                  "{'name': 'sgd', 'config': {'weight_decay': -0.1}}", "npl.create('optimizer', 'adam')", "None",
                  "{'name': 'sgd', 'config': {'momentum': 10**30}}"],
    "schedule": ["'nope'", "{'name': 'step_decay', 'config': {'step_size': 0}}",
                 "{'name': 'reduce_on_plateau', 'config': {'monitor': 'val_loss'}}",
                 "{'name': 'one_cycle', 'config': {'total_steps': 1}}",
                 "{'name': 'polynomial_decay', 'config': {'total_steps': 1}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: nan}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: 'x'}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: 1 / 0}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: -lr}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: None}}",
                 "{'name': 'callable', 'config': {'fn': lambda step, lr: np.array([lr, lr])}}",
                 "{'name': 'callable', 'config': {'fn': 5}}",
                 "{'name': 'multi_step', 'config': {'milestones': [3, 1]}}",
                 "{'name': 'exponential_decay', 'config': {'gamma': 10.0}}",
                 "{'name': 'exponential_decay', 'config': {'gamma': -1.0}}",
                 "{'name': 'linear_warmup', 'config': {'after': {'name': 'nope'}}}",
                 "{'name': 'piecewise', 'config': {'boundaries': [1], 'values': [0.1]}}",
                 "{'name': 'sequential', 'config': {'schedules': [], 'milestones': []}}",
                 "{'name': 'cosine_annealing', 'config': {'total_steps': 0}}",
                 "{'name': 'cosine_warm_restarts', 'config': {'period': -1}}",
                 "{'name': 'reduce_on_plateau', 'config': {'monitor': 'loss', 'factor': 2.0}}",
                 "{'name': 'step_decay', 'config': {'step_size': 1, 'gamma': 1e30}}"],
    "X": ["X.astype(np.float64)", "np.where(X > 1, nan, X)", "np.where(X > 1, inf, X)", "X.astype(str)",
          "X.astype(object)", "X[:, :, None]", "X[:0]", "X[:, :2]", "X.tolist()", "(X * 10).astype(int)",
          "X.astype(complex)", "X > 0", "X * 1e38", "None", "X[0]", "X.T", "(row for row in X)",
          "np.asfortranarray(X)", "X[::-1]", "X.astype(np.float16)", "'X'", "readonly(X)", "X[:, ::-1]",
          "np.repeat(X, 2, axis=0)[::2]", "X.view(np.int32)", "np.ma.masked_array(X, X > 1)"],
    "y": ["y[:-1]", "y.astype(float) + nan", "y - 1", "y + 5", "y.astype(float) + 0.5", "y[:, None]",
          "np.stack([y, y, y], 1)", "y.astype(str)", "None", "y.astype(object)", "y.astype(bool)",
          "y.tolist()", "y.astype(np.uint8)", "np.eye(2)[y]", "np.eye(2)[y] * nan", "y * 0", "y.astype(np.float32)",
          "np.full(y.shape, -2**62)", "readonly(y)", "y[::-1]"],
    "network": ["None", "npl.Dense(2)", "net(seed=1).__class__", "rnet()", "npl.Sequential([npl.Dense(2)], "
                "input_dim=4, seed=0)", "'net'", "net(dtype='float64')"],
}
_BASE_FIT = {"loss": "'cross_entropy'", "optimizer": "'sgd'", "lr": "0.1", "schedule": "'constant'",
             "epochs": "2", "batch_size": "8", "seed": "0"}

_OTHER_TARGETS = {
    "Sequential": ("npl.Sequential({layers}, input_dim={input_dim}, seed={seed}, dtype={dtype})",
                   {"layers": ["[npl.Dense(4), npl.Dense(2)]", "[]", "'dense'", "[1, 2]", "[npl.Dense(2)] * 2",
                               "(npl.Dense(2),)", "[npl.Dense]", "None", "[npl.Dense(2), None]",
                               "[npl.Dense(10**12)]", "[npl.Dense(2, init={'name': 'constant', 'config': "
                               "{'value': nan}})]", "[npl.Dense(2, init='zeros', bias_init='ones')]"],
                    "input_dim": ["3", "0", "-1", "2.5", "'3'", "True", "None", "10**12", "2**70", "np.int64(3)",
                                  "nan", "[3]"],
                    "seed": ["0", "-1", "'x'", "1.5", "2**70", "np.random.default_rng(1)", "None", "[1, 2]"],
                    "dtype": ["'float32'", "'float16'", "'int32'", "'bogus'", "np.float64", "None", "'complex128'",
                              "np.dtype('>f4')", "5", "float"]}),
    "Dense": ("npl.Dense({units}, activation={activation}, init={init}, bias_init={bias_init}, use_bias={use_bias})",
              {"units": ["4", "0", "-1", "2.5", "True", "'4'", "None", "10**12", "np.int64(4)", "nan"],
               "activation": ["'tanh'", "'bogus'", "'mse'", "{'name': 'leaky_relu', 'config': {'alpha': 'x'}}",
                              "{'name': 'leaky_relu', 'config': {'alpha': nan}}", "npl.create('loss', 'mse')", "5",
                              "None", "{'name': 'elu', 'config': {'alpha': -1}}", "'initializer:zeros'",
                              "type(npl.create('activation', 'relu'))", "{'config': {}}"],
               "init": ["'normalized_xavier'", "'bogus'", "{'name': 'constant', 'config': {'value': inf}}",
                        "{'name': 'uniform', 'config': {'low': 1, 'high': 0}}", "{'name': 'normal', 'config': "
                        "{'std': -1}}", "{'name': 'orthogonal', 'config': {'gain': nan}}", "'relu'", "None",
                        "{'name': 'variance_scaling', 'config': {'scale': 0}}", "{'name': 'truncated_normal', "
                        "'config': {'std': 10**30}}"],
               "bias_init": ["'zeros'", "'bogus'", "'orthogonal'", "{'name': 'constant', 'config': {'value': 'x'}}"],
               "use_bias": ["True", "False", "'no'", "None", "2", "np.bool_(False)"]}),
    "predict": ("NET.predict({x})", {"x": ["X", "X[:, :2]", "X[0]", "X[:, :, None]", "X.astype(str)", "None",
                                        "X[:0]", "np.full_like(X, nan)", "X * 1e38", "X.astype(object)", "X.tolist()",
                                        "X.astype(complex)", "'X'", "X.astype(np.float16)", "np.zeros((0, 0))",
                                        "(X > 0)", "[[1, 2, 'a']]", "np.float32(1.0)"]}),
    "predict_classes": ("NET.predict_classes({x})", {"x": ["X", "X[:, :2]", "None", "X.astype(str)", "X[:0]",
                                                          "np.full_like(X, nan)", "X[0]"]}),
    "set_weights": ("NET.set_weights({w})", {"w": ["[w * 2 for w in NET.get_weights()]",
                                                  "NET.get_weights()[:-1]", "NET.get_weights() + [np.zeros(2)]",
                                                  "[w.T for w in NET.get_weights()]",
                                                  "[w * nan for w in NET.get_weights()]",
                                                  "[w.astype(np.float64) for w in NET.get_weights()]",
                                                  "[w.astype(int) for w in NET.get_weights()]",
                                                  "[w.tolist() for w in NET.get_weights()]", "None", "'w'",
                                                  "NET.get_weights()[:2] + [np.zeros((4, 3)), np.zeros(2)]",
                                                  "[None] * 4", "[w[..., None] for w in NET.get_weights()]",
                                                  "NET.get_weights()[:3] + [np.full(2, inf, np.float32)]"]}),
    "save_load": ("npl.load({path}) if npl.save(NET, {path}) is None else None",
                  {"path": ["os.path.join(d, 'm.npz')", "os.path.join(d, 'm')", "os.path.join(d, 'm.txt')",
                            "b'' + os.fsencode(os.path.join(d, 'm.npz'))", "__import__('pathlib').Path(d) / 'm.npz'",
                            "os.path.join(d, 'é ü.npz')", "os.path.join(d, '.hidden.npz')"]}),
    "load": ("npl.load({path})", {"path": ["None", "''", "5", "d", "MODEL + 'x'", "'/dev/null'", "CKPTS['adam']",
                                         "SMALL", "os.path.join(d, 'x' * 300)", "'a\\x00b'", "b'\\xff'", "[MODEL]",
                                         "__import__('pathlib').Path(MODEL)"]}),
    "load_checkpoint": ("npl.load_checkpoint({path})", {"path": ["None", "''", "MODEL", "SMALL", "d", "'/dev/null'",
                                                               "'a\\x00b'", "5", "CKPTS['cli']"]}),
    "EarlyStopping": ("ES(monitor={monitor}, patience={patience}, min_delta={min_delta}, mode={mode}, "
                      "restore_best_weights={rbw})",
                      {"monitor": ["'val_loss'", "5", "''", "None", "'loss'"],
                       "patience": ["5", "-1", "2.5", "'x'", "nan", "10**30", "True", "None"],
                       "min_delta": ["0.0", "-1", "nan", "inf", "'x'", "None"],
                       "mode": ["'auto'", "'bogus'", "'MIN'", "None", "1"],
                       "rbw": ["True", "'no'", "None", "2"]}),
    "Checkpointing": ("CP({path}, every={every}, keep_best={keep_best}, mode={mode})",
                      {"path": ["os.path.join(d, 'c.npz')", "None", "''", "5", "d", "'a\\x00b'"],
                       "every": ["'epoch'", "0", "-1", "2.5", "'x'", "None", "True", "10**30", "nan"],
                       "keep_best": ["None", "'val_loss'", "5", "''"],
                       "mode": ["'auto'", "'bogus'", "None"]}),
    "create": ("npl.create({kind}, {spec})", {"kind": ["'activation'", "'bogus'", "None", "5", "'optimizer'"],
                                             "spec": ["'relu'", "None", "5", "{}", "{'name': 'relu', 'config': 5}",
                                                      "{'name': 'relu', 'extra': 1}", "'sgd'", "[]", "'a' * 10000",
                                                      "'neuroplug:'", "':relu'", "'x:y:z'", "object()",
                                                      "npl.Activation"]}),
}


def gen_fit_args(rng: random.Random, case_id: int) -> dict:
    if rng.random() < 0.6:
        kwargs = dict(_BASE_FIT)
        if rng.random() < 0.4:  # an optimizer instance with state (momentum buffers) from an earlier fit
            kwargs["optimizer"] = "OPTU"
        data = {"network": "net()", "X": "X", "y": "y"}
        for _ in range(rng.choice((1, 1, 2))):
            arg = _pick(rng, sorted(_FIT_VALUES))
            value = _pick(rng, _FIT_VALUES[arg] + ([_pick(rng, _ANY)] if rng.random() < 0.25 else []))
            (data if arg in data else kwargs)[arg] = value
        if "resume" in kwargs and "checkpoint" not in kwargs and rng.random() < 0.5:
            kwargs["checkpoint"] = "os.path.join(d, 'c.npz')"
        call = (f"npl.fit(NET, {data['X']}, {data['y']}, "
                + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")")
        return {"target": "fit", "net": data["network"], "call": call, "text": call.replace("NET", data["network"])}
    target = _pick(rng, sorted(_OTHER_TARGETS))
    template, pools = _OTHER_TARGETS[target]
    values = {k: v[0] for k, v in pools.items()}
    keys = sorted(pools)
    for _ in range(rng.choice((1, 1, 2))):
        k = _pick(rng, keys)
        values[k] = _pick(rng, pools[k] + ([_pick(rng, _ANY)] if rng.random() < 0.2 else []))
    call = template.format(**values)
    return {"target": target, "net": "net()", "call": call, "text": call.replace("NET", "net()")}


def run_fit_args(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    ns = namespace(fx, folder)
    open(os.path.join(folder, "file.txt"), "w").close()
    os.mkdir(os.path.join(folder, "sub"))
    net_expr = spec["net"]
    outcome, net, exc, trace = guarded(lambda: eval(net_expr, ns))
    if outcome != "accepted":  # the network expression itself is a hostile value: it is the call
        net = None
    ns["NET"] = net if outcome == "accepted" else eval("None")
    components = {}
    if "OPTU" in spec["call"]:
        optu = npl.create("optimizer", "sgd", momentum=0.9)
        npl.fit(eval("net()", ns), fx.X, fx.y, loss="cross_entropy", optimizer=optu, epochs=1, batch_size=8, seed=3)
        ns["OPTU"] = optu
        components["optimizer given to fit"] = (optu, state_of(optu))
    initial = weights_of(net)
    before = files_of(folder)
    call = spec["call"]
    data = data_of(ns)
    outcome, value, exc, trace = guarded(lambda: eval(call, ns))
    res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
    check_data(res, ns, data)
    if spec["target"] == "save_load" and outcome == "accepted" and net is not None:
        x = fx.X[:5]
        if not np.array_equal(value.predict(x), net.predict(x)):
            res.flag("missed", "the loaded model predicts differently from the saved one")
    if outcome in ("clean", "raw"):
        strict = spec["target"] != "fit"
        check_weights_after_failure(res, exc, net, initial, None, strict=strict, components=components)
    elif spec["target"] in ("predict", "predict_classes", "save_load") and not same(weights_of(net), initial):
        res.flag("weights_changed", f"{spec['target']} changed the weights")
    check_files(res, before, files_of(folder), failed=outcome != "accepted")
    if outcome == "accepted" and spec["target"] == "fit" and net is not None:
        if not all(np.isfinite(w).all() for w in weights_of(net)):
            res.flag("missed", "fit returned normally with non-finite weights")


# --- class 2: save paths ---------------------------------------------------------------------
_BAD_PATHS = {
    # name: (expression, must fail?, error type expected)
    "missing_folder": ("os.path.join(d, 'nodir', 'x.npz')", True, E.FileWriteError),
    "missing_nested": ("os.path.join(d, 'a', 'b', 'c', 'x.npz')", True, E.FileWriteError),
    "directory": ("os.path.join(d, 'sub')", True, E.FileWriteError),
    "directory_slash": ("os.path.join(d, 'sub') + os.sep", True, E.FileWriteError),
    "dot": ("'.'", True, E.FileWriteError),
    "root": ("'/'", True, E.FileWriteError),
    "parent_is_file": ("os.path.join(d, 'file.txt', 'x.npz')", True, E.FileWriteError),
    "dev_full": ("'/dev/full'", True, E.FileWriteError),
    "dev_null": ("'/dev/null'", True, E.FileWriteError),
    "fifo": ("os.path.join(d, 'fifo.npz')", True, E.FileWriteError),
    "socket": ("os.path.join(d, 'sock.npz')", True, E.FileWriteError),
    "link_to_fifo": ("os.path.join(d, 'tofifo.npz')", True, E.FileWriteError),
    "link_to_dir": ("os.path.join(d, 'todir')", True, E.FileWriteError),
    "link_loop": ("os.path.join(d, 'loop')", True, E.FileWriteError),
    "link_dangling_dir": ("os.path.join(d, 'dangling', 'x.npz')", True, E.FileWriteError),
    "empty": ("''", True, E.InputError),
    "nul": ("os.path.join(d, 'a\\x00b.npz')", True, E.InputError),
    "nul_bytes": ("os.fsencode(d) + b'/a\\x00b.npz'", True, E.InputError),
    "none": ("None", True, E.InputError),
    "int_fd": ("1", True, E.InputError),
    "float": ("1.5", True, E.InputError),
    "list": ("[os.path.join(d, 'x.npz')]", True, E.InputError),
    "name_too_long": ("os.path.join(d, 'x' * 300 + '.npz')", True, E.FileWriteError),
    "name_256_bytes_utf8": ("os.path.join(d, 'é' * 128 + '.npz')", True, E.FileWriteError),
    "path_too_long": ("os.path.join(d, *(['y' * 200] * 25), 'x.npz')", True, E.FileWriteError),
    "proc": ("'/proc/self/x.npz'", True, E.FileWriteError),
    "sys": ("'/sys/x.npz'", True, E.FileWriteError),
    "tilde": ("'~/' + os.path.basename(d) + '/x.npz'", True, E.FileWriteError),
    "folder_is_file_in_middle": ("os.path.join(d, 'file.txt', 'sub', 'x.npz')", True, E.FileWriteError),
    # valid ones: must work, and the file must load back
    "ok_plain": ("os.path.join(d, 'ok.npz')", False, None),
    "ok_existing": ("os.path.join(d, 'existing.npz')", False, None),
    "ok_bytes": ("os.fsencode(os.path.join(d, 'ok.npz'))", False, None),
    "ok_undecodable_bytes": ("os.fsencode(d) + b'/\\xff\\xfe.npz'", False, None),
    "ok_pathlib": ("__import__('pathlib').Path(d, 'ok.npz')", False, None),
    "ok_no_suffix": ("os.path.join(d, 'model')", False, None),
    "ok_link_to_file": ("os.path.join(d, 'tofile.npz')", False, None),
    "ok_dangling_link": ("os.path.join(d, 'dangling_file.npz')", False, None),
    "ok_unicode": ("os.path.join(d, 'modèle ✓.npz')", False, None),
    "ok_255_bytes": ("os.path.join(d, 'z' * 251 + '.npz')", False, None),
}
_SAVE_TARGETS = {
    "save": "npl.save(NET, P)",
    "checkpoint_save": "npl.load_checkpoint(CKPTS['adam']).save(P)",
    "fit_checkpoint": "npl.fit(NET, X, y, loss='cross_entropy', lr=0.1, epochs=2, batch_size=8, seed=0, checkpoint=P)",
    "fit_checkpointing": "npl.fit(NET, X, y, loss='cross_entropy', lr=0.1, epochs=2, batch_size=8, seed=0, "
                         "validation_data=(Xv, yv), checkpoint=CP(P, every=3, keep_best='val_loss'))",
    "check_writable": "__import__('neuroplug.serialization.archive', fromlist=['x']).check_writable(P, 'the model')",
}


def gen_save_paths(rng: random.Random, case_id: int) -> dict:
    target = _pick(rng, sorted(_SAVE_TARGETS))
    # checkpoint=None means "no checkpoint": not a bad path for fit
    kinds = [k for k in sorted(_BAD_PATHS) if not (k == "none" and target == "fit_checkpoint")]
    kind = _pick(rng, kinds)
    expr = _BAD_PATHS[kind][0]
    return {"kind": kind, "target": target, "text": f"{_SAVE_TARGETS[target]} with P = {expr}  ({kind})"}


def _lay_out_paths(folder: str) -> None:
    os.mkdir(os.path.join(folder, "sub"))
    open(os.path.join(folder, "file.txt"), "w").close()
    os.mkfifo(os.path.join(folder, "fifo.npz"))
    sock = socket.socket(socket.AF_UNIX)
    old = os.getcwd()
    os.chdir(folder)
    try:
        sock.bind("sock.npz")
    finally:
        os.chdir(old)
        sock.close()
    os.symlink("fifo.npz", os.path.join(folder, "tofifo.npz"))
    os.symlink("sub", os.path.join(folder, "todir"))
    os.symlink("loop", os.path.join(folder, "loop"))
    os.symlink("nowhere", os.path.join(folder, "dangling"))
    os.symlink("target.npz", os.path.join(folder, "tofile.npz"))
    with open(os.path.join(folder, "target.npz"), "wb") as fh:
        fh.write(b"old content")
    os.symlink("missing-target.npz", os.path.join(folder, "dangling_file.npz"))
    with open(os.path.join(folder, "existing.npz"), "wb") as fh:
        fh.write(b"old content")


def run_save_paths(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    expr, must_fail, expected = _BAD_PATHS[spec["kind"]]
    _lay_out_paths(folder)
    ns = namespace(fx, folder)
    net = eval("net()", ns)
    ns["NET"] = net
    initial = weights_of(net)
    path = eval(expr, ns)
    ns["P"] = path
    before = files_of(folder)
    call = _SAVE_TARGETS[spec["target"]]
    cwd = os.getcwd()
    os.chdir(folder)  # relative paths ('.') land in the case folder
    try:
        outcome, value, exc, trace = guarded(lambda: eval(call, ns))
    finally:
        os.chdir(cwd)
    res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
    after = files_of(folder)
    if spec["kind"] == "ok_255_bytes" and spec["target"] == "fit_checkpointing":
        must_fail = True  # its best-epoch file, NAME.best.npz, would be 260 bytes long: an error is right
    if outcome == "accepted":
        if must_fail:
            res.flag("missed", f"writing to {spec['kind']} path {_clip(repr(path), 80)} was accepted")
        elif spec["target"] == "save":
            loaded = guarded(lambda: npl.load(path))
            if loaded[0] != "accepted":
                res.flag("missed", f"the saved model does not load back: {describe_exc(loaded[2])}")
        elif spec["target"] == "checkpoint_save":
            loaded = guarded(lambda: npl.load_checkpoint(path))
            if loaded[0] != "accepted":
                res.flag("missed", f"the saved checkpoint does not load back: {describe_exc(loaded[2])}")
        if spec["kind"] in ("ok_link_to_file",) and os.path.islink(os.path.join(folder, "tofile.npz")) is False:
            pass  # replacing the link itself is what an atomic rename does
        check_files(res, before, after, failed=False)
        return
    if outcome == "clean" and must_fail:
        if expected is not None and not isinstance(exc, expected):
            res.flag("bad_message", f"expected {expected.__name__}, got {type(exc).__name__}")
        shown = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else repr(path)
        if isinstance(exc, E.FileWriteError) and _clip(shown, 60)[:60] not in str(exc) \
                and repr(shown)[1:61] not in str(exc):
            res.flag("bad_message", f"the error does not name the path {_clip(shown, 60)!r}")
        best = re.sub(r"(\.npz)?$", ".best.npz", shown, count=1) if spec["target"] == "fit_checkpointing" else None
        if isinstance(exc, E.FileWriteError) and exc.filename is not None \
                and os.fsdecode(exc.filename) not in (shown, best):
            res.flag("bad_message", f"FileWriteError.filename is {exc.filename!r}, not the path given")
    check_weights_after_failure(res, exc, net, initial, strict=True)
    check_files(res, before, after, failed=True)


# --- class 3: checkpoint and model file mutation ---------------------------------------------
def read_archive(path: str) -> tuple[str, Any, dict[str, np.ndarray]]:
    """(name of the JSON member, its value, the other arrays in order) of a neuroplug .npz."""
    from numpy.lib import format as npy

    with zipfile.ZipFile(path) as zf:
        names = [n[:-4] for n in zf.namelist()]
        members = {}
        for n in names:
            with zf.open(n + ".npy") as fh:
                members[n] = npy.read_array(fh, allow_pickle=False)
    meta_name = names[0]
    meta = json.loads(members.pop(meta_name).tobytes().decode("utf-8"))
    return meta_name, meta, members


def write_archive_like_neuroplug(path: str, meta_name: str, meta: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write the JSON member first, then the arrays, with numpy.savez (uncompressed), as neuroplug does.

    Unlike neuroplug this writes NaN/Infinity literals and any dtype (object arrays are pickled),
    since those are mutations to try.
    """
    text = json.dumps(meta, sort_keys=True, allow_nan=True)
    members = {meta_name: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    with open(path, "wb") as fh:
        np.savez(fh, **members)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _get(value: Any, path: tuple) -> Any:
    for k in path:
        value = value[k]
    return value


def _set(value: Any, path: tuple, new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new


def _refs(meta: Any, arrays: dict) -> list[tuple]:
    """Paths of the array references in ``meta``: {"$array": name} dicts and bare names in lists/values."""
    out = []
    for p in _paths(meta):
        v = _get(meta, p) if p else meta
        if isinstance(v, dict) and set(v) == {"$array"} and isinstance(v["$array"], str):
            out.append(p + ("$array",))
        elif isinstance(v, str) and v in arrays and p:
            out.append(p)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _hostile_json(rng: random.Random, arrays: dict) -> Any:
    name = _pick(rng, sorted(arrays)) if arrays else "a0"
    deep: Any = 1
    for _ in range(25):
        deep = [deep]
    return _pick(rng, [None, True, False, 0, -1, 1, 2**31, 2**64, 10**30, -10**30, 1.5, -0.5, 1e308,
                       float("nan"), float("inf"), float("-inf"), "x", "", "a" * 5000, [], [1], [[1, 2], [3]], {},
                       {"a": 1}, {"$array": name}, {"$array": "nope"}, {"$float": "nan"}, {"$float": "inf"},
                       {"$float": "bogus"}, {"$array": 5}, deep, name, [name], {"$array": name, "x": 1}])


def _perturb(rng: random.Random, v: Any) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return _pick(rng, [v + 1, v - 1, -v - 1, v * 2**40, 2**63, -(2**63) - 1, 2**128, 2**128 + 1, 0, 625, 624,
                           -1, v ^ 1])
    if isinstance(v, float):
        return _pick(rng, [-v, v * 1e30, 0.0, float("nan"), float("inf"), v + 1e-9, -1.0])
    if isinstance(v, str):
        return _pick(rng, [v + "x", v.upper(), "", v[:-1], "neuroplug:" + v, v * 3])
    if isinstance(v, list):
        return _pick(rng, [v[:-1], v + v[-1:], v[::-1], []]) if v else [0]
    if isinstance(v, dict):
        keys = sorted(v)
        return {k: v[k] for k in keys[:-1]} if keys else {"x": 1}
    return "x"


_RNG_MUTATIONS = {
    "PCG64": [("state", "state", lambda v: -1), ("state", "state", lambda v: 2**128),
              ("state", "state", lambda v: 2**200), ("state", "state", lambda v: 1.5),
              ("state", "state", lambda v: "x"), ("state", "inc", lambda v: -5), ("state", "inc", lambda v: 2**128 + 1),
              ("state", "inc", lambda v: v - 1), ("has_uint32", None, lambda v: 2), ("has_uint32", None, lambda v: -1),
              ("uinteger", None, lambda v: 2**32), ("uinteger", None, lambda v: -1), ("uinteger", None, lambda v: 0.5),
              ("bit_generator", None, lambda v: "MT19937"), ("bit_generator", None, lambda v: "Philox"),
              ("bit_generator", None, lambda v: "bogus"), ("bit_generator", None, lambda v: "SFC64"),
              ("state", None, lambda v: {}), ("state", None, lambda v: [v])],
    "MT19937": [("state", "pos", lambda v: 625), ("state", "pos", lambda v: 624), ("state", "pos", lambda v: -1),
                ("state", "pos", lambda v: 10**6), ("state", "pos", lambda v: 2**63), ("state", "pos", lambda v: 2**64),
                ("state", "pos", lambda v: 0), ("state", "pos", lambda v: 1.5), ("state", "pos", lambda v: None),
                ("bit_generator", None, lambda v: "PCG64"), ("state", "key", lambda v: 5),
                ("state", "key", lambda v: [1, 2, 3])],
}
_MT_KEY_MUTATIONS = ["zeros", "short", "long", "int8", "int64_negative", "float", "2d", "uint64_huge", "first_only"]

# prefixes of a JSON path (joined with '.') whose corruption must be refused (wrong type or range); the
# rest (component configs in the record of fit's arguments, history metric names, ...) is free-form
_MUST_KEYS = ("progress", "optimizer", "rng", "schedule", "fit.lr", "fit.batch_size", "fit.seed", "fit.epochs",
              "fit.samples", "callbacks", "network", "weights", "order", "version", "format", "layers", "input_dim",
              "dtype")


#: Parts no check can verify: keep_best's best so far may be a metric a callback adds to the logs,
#: which the history does not hold (a check against the history refused real checkpoints).
_FREE_KEYS = ("progress.best",)


def _must_path(p: tuple) -> bool:
    text = _pathstr(p)
    if any(text == k or text.startswith(k + ".") for k in _FREE_KEYS):
        return False
    return any(text == k or text.startswith(k + ".") for k in _MUST_KEYS)


def gen_ckpt_mutation(rng: random.Random, case_id: int) -> dict:
    source = _pick(rng, ["adam"] * 3 + ["momentum_mid_epoch"] * 3 + ["mt19937"] * 3 + ["cli"] * 2 + ["model"] * 3)
    if source == "model":
        op = _pick(rng, ["load", "load", "load_predict"])
    elif source == "cli":
        op = _pick(rng, ["cli_resume_inprocess", "cli_resume_inprocess", "cli_resume_subprocess", "load"])
    else:
        op = _pick(rng, ["resume", "resume", "resume", "load", "resume_object"])
    n = 1 if rng.random() < 0.7 else 2
    mutations = []
    for _ in range(n):
        mutations.append(_pick(rng, ["delete", "add", "replace", "replace", "perturb", "perturb", "swap_refs",
                                     "retarget", "array_dtype", "array_shape", "array_values", "array_values",
                                     "rng", "rng", "rng", "rng", "order", "counters", "truncate_list", "drop_array",
                                     "extra_array",
                                     "type_swap", "bytes"]))
    return {"source": source, "op": op, "mutations": mutations, "mseed": rng.randrange(2**31),
            "text": f"{op} of the '{source}' fixture after mutations {mutations} (mutation seed below)"}


def mutate_archive(src: str, dst: str, mutations: list[str], mseed: int) -> tuple[list[str], set[str]]:
    """Apply ``mutations`` to the archive ``src`` and write ``dst``.

    Returns what was done and the *roles* of the parts whose mutation must be refused
    (``weights``, ``rng``, ``optimizer``, ...; ``file`` for the bytes): reading a file checks the
    record of fit's arguments, the counters, the order, the weights and the generator (and every
    key and array); resuming also checks the optimizer's, the schedule's and the callbacks' states.
    """
    rng = random.Random(mseed)
    meta_name, meta, arrays = read_archive(src)
    original = (json.dumps(meta, sort_keys=True), {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in arrays.items()})
    done, musts = [], set()
    byte_ops = []
    for m in mutations:
        paths = [p for p in _paths(meta) if p]
        refs = _refs(meta, arrays)
        must, role = False, "top"
        if m == "bytes":
            byte_ops.append(_pick(rng, ["truncate", "flip", "cut_tail"]))
            continue
        if m == "delete":
            p = _pick(rng, paths)
            role = _path_role(p)
            parent = _get(meta, p[:-1])
            del parent[p[-1]]
            done.append(f"delete {_pathstr(p)}")
            # every key is required, except inside a component's config and among the history's metrics
            free = (_pathstr(p).startswith("fit.") and ".config" in _pathstr(p)) or _pathstr(p[:-1]) in (
                "history.metrics", "fit.callbacks")
            must = not free
        elif m == "add":
            dicts = [()] + [p for p in paths if isinstance(_get(meta, p), dict)]
            p = _pick(rng, dicts)
            role = _path_role(p)
            value = _hostile_json(rng, arrays)
            target = _get(meta, p) if p else meta
            key = _pick(rng, ["zz_extra", "$array", "$float", "__class__", ""])
            target[key] = value
            done.append(f"add {_pathstr(p + (key,))}={_clip(repr(value), 60)}")
            # unknown keys are refused ("checks every key"), except where names are free (metrics, configs)
            must = _pathstr(p) not in ("history.metrics",) and not _pathstr(p).startswith("fit.")
        elif m in ("replace", "type_swap"):
            p = _pick(rng, paths)
            role = _path_role(p)
            old = _get(meta, p)
            new = _hostile_json(rng, arrays) if m == "replace" else _pick(
                rng, [str(old), [old], {"v": old}, {"$array": _pick(rng, sorted(arrays))} if arrays else None,
                      float(old) if _is_number(old) else 1.0, None if old is not None else 0])
            _set(meta, p, new)
            done.append(f"replace {_pathstr(p)}: {_clip(repr(old), 40)} -> {_clip(repr(new), 60)}")
            if _is_number(old) and not (_is_number(new) or new is None) and _must_path(p):
                must = True  # an array / string / list / dict where a number belongs
        elif m == "perturb":
            leaves = [p for p in paths if not isinstance(_get(meta, p), (dict, list))]
            p = _pick(rng, leaves)
            role = _path_role(p)
            old = _get(meta, p)
            new = _perturb(rng, old)
            _set(meta, p, new)
            done.append(f"perturb {_pathstr(p)}: {_clip(repr(old), 40)} -> {_clip(repr(new), 60)}")
            ps = _pathstr(p)
            if ps.startswith("progress.") and _is_number(new) and (new < 0 or new > 2**62) and _must_path(p):
                must = True
            if "rng" in ps and isinstance(new, int) and (new < 0 or new >= 2**128):
                must = True
        elif m in ("swap_refs", "retarget") and refs:
            if m == "swap_refs" and len(refs) >= 2:
                a, b = rng.sample(refs, 2)
                role = _path_role(a) if _path_role(a) in _LOAD_ROLES else _path_role(b)
                va, vb = _get(meta, a), _get(meta, b)
                _set(meta, a, vb)
                _set(meta, b, va)
                done.append(f"swap refs {_pathstr(a)} <-> {_pathstr(b)}")
                if arrays[va].shape != arrays[vb].shape or arrays[va].dtype != arrays[vb].dtype:
                    must = True
            else:
                p = _pick(rng, refs)
                role = _path_role(p)
                old = _get(meta, p)
                new = _pick(rng, sorted(arrays))
                _set(meta, p, new)
                done.append(f"retarget {_pathstr(p)}: {old} -> {new}")
                if arrays[old].shape != arrays[new].shape or arrays[old].dtype != arrays[new].dtype:
                    must = True
        elif m == "array_dtype" and arrays:
            name = _pick(rng, sorted(arrays))
            role = _array_role(meta, name)
            dt = _pick(rng, ["float64", "float32", "float16", "int32", "int64", "uint8", "bool", "complex64", ">f4",
                             ">i8", "object", "<U3", "V4"])
            arr = arrays[name]
            try:
                new = arr.astype(dt) if dt not in ("object", "V4") else (
                    arr.astype(object) if dt == "object" else np.zeros(arr.shape, dtype="V4"))
            except (TypeError, ValueError):
                new = np.zeros(arr.shape, dtype=dt)
            arrays[name] = new
            done.append(f"dtype of {name} {arr.dtype} -> {new.dtype}")
            if np.dtype(new.dtype).str != arr.dtype.str and dt in ("float16", "complex64", ">f4", ">i8", "object",
                                                                   "<U3", "V4"):
                must = True
            if arr.dtype.kind == "f" and new.dtype.kind != "f" and role in ("weights", "optimizer", "callbacks",
                                                                            "param"):
                must = True  # a weight or a state buffer that is no longer a float array
        elif m == "array_shape" and arrays:
            name = _pick(rng, sorted(arrays))
            role = _array_role(meta, name)
            arr = arrays[name]
            how = _pick(rng, ["add_dim", "transpose", "drop_one", "append_one", "empty", "scalar", "flatten", "double"])
            flat = arr.reshape(-1)
            new = {"add_dim": arr[None], "transpose": arr.T, "drop_one": flat[:-1] if flat.size else flat,
                   "append_one": np.concatenate([flat, flat[:1]]) if flat.size else np.zeros(1, arr.dtype),
                   "empty": arr.reshape(-1)[:0], "scalar": flat[0] if flat.size else np.zeros((), arr.dtype),
                   "flatten": flat, "double": np.concatenate([arr, arr])}[how]
            new = np.asarray(new)
            arrays[name] = new
            done.append(f"shape of {name} {arr.shape} -> {new.shape} ({how})")
            if new.shape != arr.shape:
                must = True
        elif m == "array_values" and arrays:
            name = _pick(rng, sorted(arrays))
            role = _array_role(meta, name)
            arr = arrays[name].copy()
            if arr.size == 0:
                continue
            flat = arr.reshape(-1)
            if arr.dtype.kind == "f":
                value = _pick(rng, [np.nan, np.inf, -np.inf, 1e38, -1.0, 0.0, 1e-45])
            elif arr.dtype.kind in "iu":
                info = np.iinfo(arr.dtype)
                value = _pick(rng, [info.max, info.min, -1 if info.min < 0 else info.max, 0, 7])
            else:
                value = 0
            if rng.random() < 0.5:
                flat[rng.randrange(flat.size)] = value
            else:
                flat[:] = value
            arrays[name] = arr
            done.append(f"values of {name} {arr.dtype}{arr.shape} -> {value!r}")
            if arr.dtype.kind == "f" and not np.isfinite(value) and _array_role(meta, name) in (
                    "weights", "optimizer", "callbacks", "param"):
                must = True
        elif m == "rng" and isinstance(meta, dict) and isinstance(meta.get("rng"), dict):
            state = meta["rng"]
            role = "rng"
            kind = state.get("bit_generator")
            if kind == "MT19937" and rng.random() < 0.4:
                key_ref = state["state"].get("key") if isinstance(state.get("state"), dict) else None
                name = key_ref.get("$array") if isinstance(key_ref, dict) else None
                if name in arrays:
                    how = _pick(rng, _MT_KEY_MUTATIONS)
                    key = arrays[name]
                    new = {"zeros": np.zeros_like(key), "short": key[:-1], "long": np.concatenate([key, key[:1]]),
                           "int8": key.astype(np.int8), "int64_negative": -key.astype(np.int64) - 1,
                           "float": key.astype(np.float64), "2d": key.reshape(16, -1),
                           "uint64_huge": key.astype(np.uint64) + np.uint64(2**40),
                           "first_only": np.concatenate([key[:1], np.zeros_like(key[1:])])}[how]
                    arrays[name] = new
                    done.append(f"MT19937 key {how}")
                    # an all-zero key is degenerate (the generator then draws only zeros) but no field
                    # is out of range: refusing it is not required
                    if how not in ("first_only", "zeros"):
                        musts.add(role)
                    continue
            options = _RNG_MUTATIONS.get(kind, _RNG_MUTATIONS["PCG64"])
            key, sub, fn = _pick(rng, options)
            target = state if sub is None else state.get(key)
            field_name = key if sub is None else sub
            if isinstance(target, dict) and field_name in target:
                old = target[field_name]
                target[field_name] = fn(old)
                done.append(f"rng.{key}{'.' + sub if sub else ''}: {_clip(repr(old), 30)} -> "
                            f"{_clip(repr(target[field_name]), 40)}")
                must = must or not (field_name == "pos" and target[field_name] in (0, 624)) and not (
                    field_name == "inc" and isinstance(target[field_name], int) and 0 <= target[field_name] < 2**128)
        elif m == "order" and isinstance(meta, dict) and isinstance(meta.get("order"), str) and meta["order"] in arrays:
            name = meta["order"]
            role = "order"
            order = arrays[name].copy()
            how = _pick(rng, ["duplicate", "out_of_range", "negative", "reverse", "short", "float"])
            if how == "duplicate" and order.size > 1:
                order[1] = order[0]
            elif how == "out_of_range":
                order[0] = order.size
            elif how == "negative":
                order[0] = -1
            elif how == "reverse":
                order = order[::-1].copy()
            elif how == "short":
                order = order[:-1]
            else:
                order = order.astype(np.float64)
            arrays[name] = order
            done.append(f"order {how}")
            must = must or how != "reverse"
        elif m == "counters" and isinstance(meta, dict) and isinstance(meta.get("progress"), dict):
            role = "progress"
            key = _pick(rng, ["epoch", "batch", "step"])
            value = _pick(rng, [-1, 10**6, 2**63, 99, 1.5, "1", None, True])
            old = meta["progress"].get(key)
            meta["progress"][key] = value
            done.append(f"progress.{key}: {old!r} -> {value!r}")
            must = True
        elif m == "truncate_list":
            lists = [p for p in [()] + paths if isinstance(_get(meta, p) if p else meta, list) and _get(meta, p)]
            if lists:
                p = _pick(rng, lists)
                role = _path_role(p)
                lst = _get(meta, p)
                del lst[-1]
                done.append(f"truncate {_pathstr(p)} to {len(lst)}")
                must = _pathstr(p) != "fit.callbacks"  # the callbacks may differ when resuming
        elif m == "drop_array" and arrays:
            name = _pick(rng, sorted(arrays))
            role = _array_role(meta, name)
            del arrays[name]
            done.append(f"drop array {name}")
            must = True
        elif m == "extra_array":
            name = _pick(rng, ["zz_extra", "a999", "param_99"])
            arrays[name] = np.zeros(3)
            done.append(f"extra array {name}")
            must = True
        if must:
            musts.add(role)
    if (json.dumps(meta, sort_keys=True), {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in arrays.items()}) \
            == original:
        musts.clear()  # the mutations undid each other (e.g. 'PCG64' -> 'MT19937' -> 'PCG64'): nothing to refuse
    write_archive_like_neuroplug(dst, meta_name, meta, arrays)
    for op in byte_ops:
        data = bytearray(open(dst, "rb").read())
        if op == "truncate":
            cut = rng.randrange(len(data))
            data = data[:cut]
            musts.add("file")
        elif op == "flip":
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        else:  # cut_tail: the end of the zip directory goes
            del data[-rng.randrange(1, 64):]
            musts.add("file")
        with open(dst, "wb") as fh:
            fh.write(bytes(data))
        done.append(f"bytes {op}")
    return done, musts


#: the parts of a checkpoint that reading it checks (the rest is checked when fit resumes)
_LOAD_ROLES = {"top", "fit", "progress", "order", "weights", "rng", "network", "format", "version", "param",
               "architecture", "file", "?"}


def _path_role(p: tuple) -> str:
    return str(p[0]) if p else "top"


def _pathstr(p: tuple) -> str:
    return ".".join(str(k) for k in p) or "<top>"


def _array_role(meta: Any, name: str) -> str:
    """Which part of the file refers to array ``name``: weights, optimizer, callbacks, history, rng, order, param."""
    if name.startswith("param_"):
        return "param"
    if not isinstance(meta, dict):
        return "?"
    for key in ("weights", "optimizer", "callbacks", "history", "rng", "order"):
        if f'"{name}"' in json.dumps(meta.get(key)):
            return key
    return "?"


def run_ckpt_mutation(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    source, op = spec["source"], spec["op"]
    src = fx.model if source == "model" else fx.ckpts[source]
    path = os.path.join(folder, "model.npz" if source == "model" else "run.ckpt.npz")
    done, musts = mutate_archive(src, path, spec["mutations"], spec["mseed"])
    res.text = f"{op} of the '{source}' fixture mutated: {'; '.join(done) or 'nothing applicable'}"
    # reading checks the file's schema; resuming also the optimizer, schedule and callback states
    must = bool(musts & _LOAD_ROLES) if op in ("load", "load_predict") else bool(musts)
    ns = namespace(fx, folder)
    before = files_of(folder)
    if op.startswith("cli_resume"):
        argv = [a.replace("{data}", fx.small_npz).replace("{ckpt}", "run.ckpt.npz")
                for a in CKPT_FIXTURES["cli"]["resume"]]
        if op == "cli_resume_subprocess":
            rc, out, err = run_cli_subprocess(argv, folder)
            exc = trace = None
        else:
            rc, out, err, exc, trace = run_cli_inprocess(argv, folder)
        judge_cli(res, rc, out, err, argv, exc=exc, trace=trace or "")
        if res.outcome == "accepted" and must:
            res.flag("missed", "neuroplug train --resume accepted a tampered checkpoint")
        elif res.outcome == "clean" and "run.ckpt.npz" not in err and "differs" not in err:
            res.flag("bad_message", "the error does not name the checkpoint file")
        check_files(res, before, files_of(folder), failed=res.outcome != "accepted")
        return
    net = components = None
    if op in ("load", "load_predict"):
        fn = (lambda: npl.load(path)) if source == "model" else (lambda: npl.load_checkpoint(path))
    else:
        fixture = CKPT_FIXTURES[source]
        net = eval("net()", ns)
        comps = {name: eval(expr, ns) for name, expr in fixture["components"].items()}
        # the components have been used before (they hold state): a failed resume must not lose it
        warm = guarded(lambda: npl.fit(eval("net(seed=7)", ns), fx.X, fx.y, loss="cross_entropy",
                                       optimizer=comps["OPT"], schedule=comps["SCH"], lr=0.05, epochs=2,
                                       batch_size=8, seed=1, validation_data=(fx.Xv, fx.yv),
                                       callbacks=[comps["CB"]] if "CB" in comps else []))
        if warm[0] != "accepted":
            raise RuntimeError(f"warming the components failed: {describe_exc(warm[2])}")
        components = {name: (c, state_of(c)) for name, c in comps.items()}
        ns.update(comps, NET=net, CKPT=path)
        call = fixture["resume"]
        if op == "resume_object":
            call = call.replace("resume=True", "resume=npl.load_checkpoint(CKPT)")
        fn = lambda: eval(call, ns)  # noqa: E731
    initial = weights_of(net) if net is not None else []
    outcome, value, exc, trace = guarded(fn)
    res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
    if outcome == "accepted":
        if must:
            res.flag("missed", "a tampered file was accepted: " + "; ".join(done))
        # what was accepted must be usable
        follow = None
        if op in ("load", "load_predict") and source == "model":
            follow = lambda: value.predict(fx.X[:4])  # noqa: E731
        elif op == "load":
            follow = lambda: value.build_network().predict(fx.X[:4])  # noqa: E731
        if follow is not None:
            f_out, f_val, f_exc, f_trace = guarded(follow)
            if f_out in ("raw", "hang"):
                res.outcome, res.error, res.trace = f_out, "after an accepted load: " + describe_exc(f_exc), f_trace
            elif f_out == "accepted" and not np.isfinite(np.asarray(f_val, dtype=float)).all():
                res.flag("missed", "a loaded file predicts non-finite values")
        check_files(res, before, files_of(folder), failed=False)
        return
    if outcome == "clean" and isinstance(exc, E.DivergenceError) and op.startswith("resume"):
        # the file held a sound-looking state (e.g. a momentum buffer of 1e38, finite, of the right
        # shape) and training from it diverged: the file was accepted and the run reported the
        # divergence as any run does; its weights are the last finite ones of the resumed run
        if must:
            res.flag("missed", "a tampered file was accepted (then training diverged): " + "; ".join(done))
        if not all(np.isfinite(w).all() for w in weights_of(net)):
            res.flag("weights_changed", "the weights after the divergence are not finite")
        check_files(res, before, files_of(folder), failed=False)
        return
    if outcome == "clean" and not isinstance(exc, (E.ModelFileError, E.ConfigError)):
        res.flag("bad_message", f"a tampered file raised {type(exc).__name__}, not ModelFileError/ConfigError")
    elif outcome == "clean" and isinstance(exc, E.ModelFileError) and os.path.basename(path) not in str(exc):
        res.flag("bad_message", "the ModelFileError does not name the file")
    if net is not None:
        check_weights_after_failure(res, exc, net, initial, strict=True, components=components)
    check_files(res, before, files_of(folder), failed=True)


# --- class 4: hostile components -------------------------------------------------------------
_GARBAGE = ["none", "str", "list", "scalar", "wrong_shape", "extra_dim", "transpose", "empty", "int", "float64",
            "complex", "nan", "inf", "huge", "object", "bool", "zero_d", "nan_one", "mutate_input", "print",
            "raise:ValueError", "raise:RuntimeError", "raise:ZeroDivisionError", "raise:KeyError",
            "raise:TypeError", "raise:AttributeError", "raise:RecursionError", "raise:AssertionError",
            "raise:IndexError", "raise:OverflowError", "raise:FloatingPointError", "raise:NotImplementedError",
            "raise:MemoryError", "raise:StopIteration", "raise:OSError", "raise:npl.InputError"]
_KINDS = {
    # kind: (built-in base, methods to sabotage)
    "activation": ("tanh", ["forward", "derivative", "__init__"]),
    "initializer": ("normalized_xavier", ["__call__", "__init__"]),
    "loss": ("cross_entropy", ["forward", "gradient", "prepare_targets", "fused_gradient", "__init__"]),
    "optimizer": ("sgd", ["step", "setup", "get_state", "__init__"]),
    "schedule": ("step_decay", ["__call__", "observe", "__init__"]),
}
_OPT_GARBAGE = ["params_nan", "params_inf", "params_huge", "grads_nan", "replace_params", "return_garbage",
                "params_shape"]
_SCHED_GARBAGE = ["none", "str", "negative", "zero", "nan", "inf", "huge", "list", "array", "complex",
                  "raise:ValueError", "raise:ZeroDivisionError", "bool", "numpy_nan", "print"]
_WHERE = {"activation": ["fit", "fit", "predict", "cli_train", "cli_spec", "build", "load"],
          "initializer": ["build", "build", "fit", "cli_train", "cli_spec", "load"],
          "loss": ["fit", "fit", "fit", "cli_train", "cli_spec"],
          "optimizer": ["fit", "fit", "fit", "cli_train", "cli_spec"],
          "schedule": ["fit", "fit", "fit", "cli_train", "cli_spec"]}


def gen_hostile_components(rng: random.Random, case_id: int) -> dict:
    kind = _pick(rng, sorted(_KINDS))
    base, methods = _KINDS[kind]
    method = _pick(rng, methods)
    if method == "__init__":
        behaviour = _pick(rng, [b for b in _GARBAGE if b.startswith("raise:")] + ["print"])
    elif kind == "optimizer" and method == "step":
        behaviour = _pick(rng, _OPT_GARBAGE + _GARBAGE[20:26])
    elif kind == "schedule" and method == "__call__":
        behaviour = _pick(rng, _SCHED_GARBAGE)
    else:
        behaviour = _pick(rng, _GARBAGE)
    frequent = method in ("forward", "derivative", "step", "gradient", "fused_gradient")
    after = _pick(rng, [0, 0, 1, 3, 7, 12] if frequent else [0, 0, 0, 1, 2])
    where = _pick(rng, _WHERE[kind])
    if kind == "loss" and method == "fused_gradient":
        base = "cross_entropy"
    # states that only a checkpoint reads: write one each epoch
    checkpoint = method in ("get_state",) or (where == "fit" and rng.random() < 0.2)
    text = (f"{kind} 'hostile_{kind}' (a {base} whose {method} does {behaviour!r} from call {after}) "
            f"used by {where}{' with checkpoint=PATH' if checkpoint else ''}")
    return {"kind": kind, "base": base, "method": method, "behaviour": behaviour, "after": after, "where": where,
            "checkpoint": checkpoint, "text": text}


def _garbage(behaviour: str, result: Any, args: tuple) -> Any:
    if behaviour.startswith("raise:"):
        import builtins

        name = behaviour.split(":", 1)[1]
        exc = npl.InputError if name == "npl.InputError" else getattr(builtins, name)
        raise exc(f"hostile component: {name}")
    arr = result if isinstance(result, np.ndarray) else np.asarray(result if result is not None else 0.0)
    if behaviour == "print":
        print("hostile component output", flush=True)
        return result
    if behaviour == "mutate_input":
        for a in args:
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.flags.writeable:
                a *= 2.0
                break
        return result
    table = {
        "none": lambda: None, "str": lambda: "garbage", "list": lambda: arr.tolist(), "scalar": lambda: 0.5,
        "wrong_shape": lambda: arr.reshape(-1)[:1] if arr.size else arr,
        "extra_dim": lambda: arr[None], "transpose": lambda: arr.T, "empty": lambda: arr.reshape(-1)[:0],
        "int": lambda: arr.astype(np.int64), "float64": lambda: arr.astype(np.float64),
        "complex": lambda: arr.astype(np.complex128), "nan": lambda: np.full_like(arr, np.nan, dtype=float),
        "inf": lambda: np.full_like(arr, np.inf, dtype=float), "huge": lambda: np.full_like(arr, 1e30, dtype=float),
        "object": lambda: np.array(arr.tolist(), dtype=object) if arr.ndim else np.array(None, dtype=object),
        "bool": lambda: arr > 0, "zero_d": lambda: np.array(1.0),
        "nan_one": lambda: _nan_one(arr),
        "negative": lambda: -0.1, "zero": lambda: 0.0, "array": lambda: np.array([0.1, 0.2]),
        "numpy_nan": lambda: np.float32("nan"),
    }
    return table[behaviour]()


def _nan_one(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=float if arr.dtype.kind not in "f" else arr.dtype, copy=True)
    if out.size:
        out.reshape(-1)[0] = np.nan
    return out


def make_hostile(spec: dict) -> type:
    """A subclass of the built-in ``spec['base']`` whose ``spec['method']`` misbehaves from call ``after`` on."""
    kind, method, behaviour, after = spec["kind"], spec["method"], spec["behaviour"], spec["after"]
    base_cls = type(npl.create(kind, spec["base"]))
    counter = {"calls": 0, "misbehaved": 0}
    namespace_: dict[str, Any] = {"__doc__": f"A hostile {kind}.", "__module__": __name__, "counter": counter}

    if method == "__init__":
        def __init__(self, *args, **kwargs):
            base_cls.__init__(self, *args, **kwargs)
            counter["calls"] += 1
            if counter["calls"] - 1 >= after:
                counter["misbehaved"] += 1
                _garbage(behaviour, None, ())
        namespace_["__init__"] = __init__
    else:
        original = getattr(base_cls, method)

        def hostile(self, *args, **kwargs):
            counter["calls"] += 1
            if counter["calls"] - 1 < after:
                return original(self, *args, **kwargs)
            counter["misbehaved"] += 1
            if kind == "optimizer" and method == "step" and behaviour in _OPT_GARBAGE:
                params, grads = args[0], args[1]
                if behaviour == "grads_nan":
                    for g in grads:
                        g[...] = np.nan
                    return original(self, *args, **kwargs)
                if behaviour == "replace_params":
                    for i in range(len(params)):
                        params[i] = params[i] * 0.5
                    return None
                if behaviour == "return_garbage":
                    original(self, *args, **kwargs)
                    return "garbage"
                if behaviour == "params_shape":
                    params[0] = params[0][:1]
                    return None
                value = {"params_nan": np.nan, "params_inf": np.inf, "params_huge": 1e30}[behaviour]
                for p in params:
                    p[...] = value
                return None
            result = original(self, *args, **kwargs) if not behaviour.startswith("raise:") else None
            return _garbage(behaviour, result, args)

        namespace_[method] = hostile
    return type(f"Hostile{kind.title()}", (base_cls,), namespace_)


def run_hostile_components(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    kind, where = spec["kind"], spec["where"]
    name = f"hostile_{kind}"
    with npl.isolated_registry():
        cls = make_hostile(spec)
        _register(cls, kind, name)
        try:
            _run_hostile(case, res, fx, folder, kind, name, where)
        finally:
            res.text += f" [it misbehaved {cls.counter['misbehaved']} of {cls.counter['calls']} calls]"


def _run_hostile(case: Case, res: Result, fx: Fixtures, folder: str, kind: str, name: str, where: str) -> None:
    spec = case.spec
    if True:
        if where.startswith("cli"):
            _run_hostile_cli(case, res, fx, folder, kind, name, where)
            return
        spy = Spy()
        act = name if kind == "activation" else "tanh"
        init = name if kind == "initializer" else "normalized_xavier"
        build = (f"npl.Sequential([npl.Dense(4, activation={act!r}, init={init!r}), npl.Dense(2, "
                 f"activation='softmax')], input_dim=3, seed=0)")
        if where == "build":
            before = files_of(folder)
            with _captured_fds():
                outcome, value, exc, trace = guarded(lambda: eval(build, namespace(fx, folder)))
            res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
            _check_names_component(res, exc, name)
            check_files(res, before, files_of(folder), failed=outcome != "accepted")
            return
        # the network is built outside the call under test when the hostile part is not its initializer
        with _captured_fds():
            b_out, net, b_exc, b_trace = guarded(lambda: eval(build, namespace(fx, folder)))
        if b_out != "accepted":
            res.outcome, res.error, res.trace = b_out, describe_exc(b_exc), b_trace
            _check_names_component(res, b_exc, name)
            return
        spy.net = net
        initial = weights_of(net)
        if where == "predict":
            call = lambda: net.predict(fx.X)  # noqa: E731
        elif where == "load":
            # a model file naming the hostile component: loading builds it by name (and predicts)
            model = os.path.join(folder, "hostile.npz")
            saved = guarded(lambda: npl.save(net, model))
            if saved[0] != "accepted":
                res.outcome, res.error, res.trace = saved[0], "save: " + describe_exc(saved[2]), saved[3]
                return
            call = lambda: npl.load(model).predict(fx.X)  # noqa: E731
        else:
            loss = name if kind == "loss" else spy.loss("cross_entropy")
            optimizer = name if kind == "optimizer" else spy.optimizer("sgd")
            schedule = name if kind == "schedule" else "constant"
            callbacks = [spy.callback()]
            ckpt = os.path.join(folder, "run.ckpt.npz") if spec.get("checkpoint") else None
            call = lambda: npl.fit(net, fx.X, fx.y, loss=loss, optimizer=optimizer, lr=0.1,  # noqa: E731
                                   schedule=schedule, epochs=3, batch_size=8, seed=0,
                                   validation_data=(fx.Xv, fx.yv), callbacks=callbacks, checkpoint=ckpt)
        before = files_of(folder)
        with _captured_fds():
            outcome, value, exc, trace = guarded(call)
        res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
        if outcome == "accepted":
            if where == "predict" and not same(weights_of(net), initial):
                res.flag("weights_changed", "predict changed the weights")
            if where == "predict" and _returned_garbage(value, (len(fx.X), 2)):
                res.flag("missed", f"predict returned garbage from a hostile activation: {_clip(repr(value), 80)}")
            if where == "fit" and not all(np.isfinite(w).all() for w in weights_of(net)):
                res.flag("missed", "fit returned normally with non-finite weights")
        else:
            _check_names_component(res, exc, name)
            # a hostile component may fail at any step: the weights must then be a state the run
            # passed through (the start of the epoch, the last finite step, ...); predict changes nothing
            check_weights_after_failure(res, exc, net, initial, spy, strict=where == "predict", lenient=True)
        # a checkpoint written before the failure is the run's state, not something left behind
        check_files(res, before, files_of(folder), failed=outcome != "accepted",
                    allowed_new=(r"^run\.ckpt\.npz$",))
        ckpt_path = os.path.join(folder, "run.ckpt.npz")
        if outcome != "hang" and os.path.exists(ckpt_path):
            loaded = guarded(lambda: npl.load_checkpoint(ckpt_path))
            if loaded[0] in ("raw", "hang"):
                res.outcome, res.error = loaded[0], "reading the checkpoint fit wrote: " + describe_exc(loaded[2])


def _returned_garbage(value: Any, shape: tuple) -> bool:
    return not (isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind == "f")


def _check_names_component(res: Result, exc: BaseException | None, name: str) -> None:
    if isinstance(exc, E.ComponentError) and name not in str(exc):
        res.flag("bad_message", f"the ComponentError does not name the component {name!r}")


def _run_hostile_cli(case: Case, res: Result, fx: Fixtures, folder: str, kind: str, name: str, where: str) -> None:
    if where == "cli_train":
        flag = {"activation": "--activation", "initializer": "--init", "loss": "--loss", "optimizer": "--optimizer",
                "schedule": "--schedule"}[kind]
        argv = ["train", "--data", fx.small_npz, "--epochs", "2", "--layers", "4", "--batch-size", "8",
                "--no-progress", flag, name, "--save", "out.npz"]
        if case.spec.get("checkpoint"):
            argv += ["--checkpoint", "run.ckpt.npz"]
    else:
        argv = ["spec", f"{kind}:{name}", "--format", "json"]
    before = files_of(folder)
    rc, out, err, exc, trace = run_cli_inprocess(argv, folder, limit=60.0)
    res.text += f": neuroplug {' '.join(argv)}"
    judge_cli(res, rc, out, err, argv, plugin_fault=True, noisy_stderr=True, exc=exc, trace=trace)
    if where == "cli_spec" and res.outcome in ("accepted", "clean") and rc in (0, 1):
        try:
            json.loads(out)
        except ValueError as e:
            res.flag("bad_message", f"spec --format json printed invalid JSON ({e}): {_clip(out, 120)}")
    if where == "cli_train" and res.outcome == "clean" and name not in err and rc == EXIT_INTERNAL:
        res.flag("bad_message", f"exit {rc} without naming {name!r}")
    check_files(res, before, files_of(folder), failed=res.outcome != "accepted")


# --- class 5: plugins that print ---------------------------------------------------------------
_PRINTS = {
    "print": "print('PLUGIN NOISE {where}')",
    "print_flush": "print('{{\"noise\": 1}}', flush=True)",
    "stdout_write": "sys.stdout.write('] NOISE {where}\\n')",
    "os_write": "os.write(1, ('OS-LEVEL NOISE {where}' + chr(10)).encode())",
    "dunder_stdout": "sys.__stdout__.write('DUNDER NOISE {where}\\n'); sys.__stdout__.flush()",
    "big": "print('x' * 70000)",
    "no_newline": "sys.stdout.write('[')",
    "unicode": "print('\\u2603 \\udcff'.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace'))",
    "stderr_too": "print('err noise', file=sys.stderr); print('out noise')",
    "logging": "import logging; logging.basicConfig(stream=sys.stdout, force=True); logging.warning('LOG NOISE')",
}
_PRINT_WHEN = ["import", "hook", "init", "forward", "get_config"]
_PLUGIN_FAIL = ["none", "none", "none", "import_error_after_print", "hook_error_after_print", "sys_exit_after_print"]


def gen_plugin_output(rng: random.Random, case_id: int) -> dict:
    how = _pick(rng, sorted(_PRINTS))
    when = _pick(rng, _PRINT_WHEN)
    command = _pick(rng, ["list", "plugins", "spec", "list_kind"])
    mode = _pick(rng, ["subprocess", "subprocess", "inprocess"])
    fail = _pick(rng, _PLUGIN_FAIL) if mode == "subprocess" else "none"
    text = f"a plugin printing via {how} at {when} (failure: {fail}), then {command} --json, {mode}"
    return {"how": how, "when": when, "command": command, "mode": mode, "fail": fail, "text": text}


_PLUGIN_TEMPLATE = '''\
"""A hostile plugin package that prints: {how} at {when}."""
import os, sys
import numpy as np
import neuroplug

def noise(where):
    if where == {when!r}:
{stmt}

noise("import")
{fail_import}

class Printer(neuroplug.Activation):
    """tanh, noisily."""
    def __init__(self, scale=1.0):
        noise("init")
        self.scale = scale
    def get_config(self):
        noise("get_config")
        return {{"scale": self.scale}}
    def forward(self, z, out=None):
        noise("forward")
        return np.tanh(z, out=out)
    def derivative(self, z, a):
        return 1 - a * a

@neuroplug.hookimpl
def neuroplug_activations():
    noise("hook")
{fail_hook}
    return [neuroplug.ActivationRegistration(name="printer", factory=Printer, summary="a noisy tanh",
                                             implements=("tanh",), spec_config={{"scale": 1.0}})]
'''


def _plugin_source(spec: dict) -> str:
    stmt = textwrap.indent(_PRINTS[spec["how"]].format(where="' + where + '"), " " * 8)
    fail = spec["fail"]
    return _PLUGIN_TEMPLATE.format(
        how=spec["how"], when=spec["when"], stmt=stmt,
        fail_import="raise ImportError('hostile: needs does_not_exist')" if fail == "import_error_after_print" else
        ("sys.exit(3)" if fail == "sys_exit_after_print" else ""),
        fail_hook="    raise RuntimeError('hostile hook')" if fail == "hook_error_after_print" else "")


def run_plugin_output(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    command = spec["command"]
    argv = {"list": ["list", "--json"], "plugins": ["plugins", "--json"], "list_kind": ["list", "--kind",
                                                                                        "activation", "--json"],
            "spec": ["spec", "activation:printer", "--format", "json"]}[command]
    loads_ok = spec["fail"] == "none"
    if spec["mode"] == "subprocess":
        site = os.path.join(folder, "site")
        os.makedirs(os.path.join(site, "hostile_printer-0.1.dist-info"))
        with open(os.path.join(site, "hostile_printer.py"), "w", encoding="utf-8") as fh:
            fh.write(_plugin_source(spec))
        with open(os.path.join(site, "hostile_printer-0.1.dist-info", "METADATA"), "w") as fh:
            fh.write("Metadata-Version: 2.1\nName: hostile-printer\nVersion: 0.1\n")
        with open(os.path.join(site, "hostile_printer-0.1.dist-info", "entry_points.txt"), "w") as fh:
            fh.write("[neuroplug]\nprinter = hostile_printer\n")
        env = {"PYTHONPATH": site + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD": "", "NEUROPLUG_PLUGINS": "", "NEUROPLUG_STRICT_PLUGINS": ""}
        env = {k: v for k, v in env.items() if v}
        for k in ("NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD", "NEUROPLUG_PLUGINS", "NEUROPLUG_STRICT_PLUGINS"):
            os.environ.pop(k, None)
        before = files_of(folder)
        rc, out, err = run_cli_subprocess(argv, folder, env=env, timeout=90.0)
        exc, trace = None, ""
    else:
        module = types.ModuleType("hostile_printer_inprocess")
        source = _plugin_source(spec).replace('noise("import")', "")
        before = files_of(folder)
        with npl.isolated_registry():
            with _captured_fds():
                exec(compile(source, "<hostile plugin>", "exec"), module.__dict__)
                npl.register(module)
            rc, out, err, exc, trace = run_cli_inprocess(argv, folder, limit=90.0)
    res.text += f": neuroplug {' '.join(argv)}"
    judge_cli(res, rc, out, err, argv, plugin_fault=command == "spec", noisy_stderr=True, exc=exc, trace=trace)
    if res.outcome == "hang":
        return
    if rc not in (0, 1) and not (command == "spec" and not loads_ok):
        if res.outcome == "clean":
            res.flag("bad_message", f"{' '.join(argv)} failed (exit {rc}) because a plugin printed")
    if rc in (0, 1):
        try:
            doc = json.loads(out)
        except ValueError as e:
            res.flag("bad_message", f"stdout is not valid JSON ({_clip(e, 80)}): {_clip(out, 120)}")
        else:
            if loads_ok and command != "plugins" and "printer" not in json.dumps(doc):
                res.flag("missed", "the printing plugin's component is missing from the JSON")
    check_files(res, before, files_of(folder), failed=res.outcome != "accepted",
                allowed_new=(r"__pycache__",))


# --- class 6: data files that must not hang ---------------------------------------------------
_DATA = ["fifo.csv", "fifo.npz", "fifo", "link_fifo.csv", "dev_zero", "link_zero.csv", "link_zero.npz",
         "dev_urandom", "link_urandom.csv", "dev_null", "dev_null_csv", "dir.csv", "dir.npz", "sparse.csv",
         "sparse.npz", "truncated.npz", "bitflip.npz", "object.npz", "x3d.npz", "xstr.npz", "no_y.npz", "empty_x.npz",
         "one_row.npz", "nan_x.npz", "inf_x.npz", "nan_y.npz", "float_y.npz", "huge_header.npz", "zip_bomb.npz",
         "many_members.npz", "bigendian.npz", "x_wide.npz", "y_2d.npz", "text.csv", "ragged.csv", "empty.csv",
         "header_only.csv", "one_row.csv", "nan.csv", "inf.csv", "overflow.csv", "long_line.csv", "binary.csv",
         "bom.csv", "quoted.csv", "semicolon.csv", "crlf.csv", "missing.csv", "no_extension", "unicode_header.csv",
         "dup_header.csv", "negative_label.csv", "huge_label.csv", "nul_in.csv", "not_zip.npz", "pickle_y.npz"]
#: data files that cannot be read as data at all: the error must name the file
_UNREADABLE = {"fifo.csv", "fifo.npz", "fifo", "link_fifo.csv", "dev_zero", "link_zero.csv", "link_zero.npz",
               "dev_urandom", "link_urandom.csv", "dir.csv", "dir.npz", "sparse.csv", "sparse.npz", "truncated.npz",
               "not_zip.npz", "missing.csv", "zip_bomb.npz", "huge_header.npz", "binary.csv", "object.npz",
               "pickle_y.npz"}
_DATA_OPS = ["cli_sub", "cli_sub", "cli_in", "cli_in", "load", "load_checkpoint", "resume"]


def gen_data_files(rng: random.Random, case_id: int) -> dict:
    kind = _pick(rng, _DATA)
    op = _pick(rng, _DATA_OPS)
    extra = _pick(rng, [[], [], ["--target", "nope"], ["--test-size", "0.5"], ["--target", "y"]])
    return {"kind": kind, "op": op, "extra": extra, "text": f"{op} with data file {kind} {' '.join(extra)}"}


def make_data_file(kind: str, folder: str, fx: Fixtures, rng: random.Random) -> str:
    """Create the data file ``kind`` in ``folder``; return its path."""
    p = os.path.join(folder, kind)
    X, y = fx.X, fx.y

    def csv(text: str, mode: str = "w") -> str:
        with open(p, mode, encoding="utf-8" if mode == "w" else None, newline="") as fh:
            fh.write(text)
        return p

    rows = "".join(",".join(f"{v:.4f}" for v in r) + f",{t}\n" for r, t in zip(X, y))
    if kind in ("fifo.csv", "fifo.npz", "fifo"):
        os.mkfifo(p)
    elif kind == "link_fifo.csv":
        os.mkfifo(os.path.join(folder, "real_fifo"))
        os.symlink("real_fifo", p)
    elif kind == "dev_zero":
        return "/dev/zero"
    elif kind in ("link_zero.csv", "link_zero.npz"):
        os.symlink("/dev/zero", p)
    elif kind == "dev_urandom":
        return "/dev/urandom"
    elif kind == "link_urandom.csv":
        os.symlink("/dev/urandom", p)
    elif kind == "dev_null":
        return "/dev/null"
    elif kind == "dev_null_csv":
        os.symlink("/dev/null", p + ".csv")
        return p + ".csv"
    elif kind in ("dir.csv", "dir.npz"):
        os.mkdir(p)
    elif kind in ("sparse.csv", "sparse.npz"):
        with open(p, "wb") as fh:
            fh.truncate(20 << 30)
    elif kind in ("truncated.npz", "bitflip.npz"):
        buf = io.BytesIO()
        np.savez(buf, X=X, y=y)
        data = bytearray(buf.getvalue())
        if kind == "truncated.npz":
            data = data[:rng.randrange(1, len(data))]
        else:
            i = rng.randrange(len(data))
            data[i] ^= 0xFF
        with open(p, "wb") as fh:
            fh.write(bytes(data))
    elif kind == "object.npz":
        np.savez(p, X=X.astype(object), y=y)
    elif kind == "pickle_y.npz":
        np.savez(p, X=X, y=np.array([{"a": 1}] * len(y), dtype=object))
    elif kind == "x3d.npz":
        np.savez(p, X=X[:, :, None], y=y)
    elif kind == "xstr.npz":
        np.savez(p, X=X.astype(str), y=y)
    elif kind == "no_y.npz":
        np.savez(p, X=X)
    elif kind == "empty_x.npz":
        np.savez(p, X=X[:0], y=y[:0])
    elif kind == "one_row.npz":
        np.savez(p, X=X[:1], y=y[:1])
    elif kind == "nan_x.npz":
        np.savez(p, X=np.where(X > 1, np.nan, X), y=y)
    elif kind == "inf_x.npz":
        np.savez(p, X=np.where(X > 1, np.inf, X), y=y)
    elif kind == "nan_y.npz":
        np.savez(p, X=X, y=np.where(y > 0, np.nan, 0.0))
    elif kind == "float_y.npz":
        np.savez(p, X=X, y=y + 0.5)
    elif kind == "bigendian.npz":
        np.savez(p, X=X.astype(">f8"), y=y.astype(">i8"))
    elif kind == "x_wide.npz":
        np.savez(p, X=np.zeros((4, 200_000), np.float32), y=np.arange(4) % 2)
    elif kind == "y_2d.npz":
        np.savez(p, X=X, y=np.stack([y, y], 1))
    elif kind == "huge_header.npz":
        header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (400000000000, 3), }"
        raw = b"\x93NUMPY\x01\x00" + len(header.ljust(118) + b"\n").to_bytes(2, "little") + header.ljust(118) + b"\n"
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("X.npy", raw + b"\0" * 64)
            ybuf = io.BytesIO()
            np.save(ybuf, y)
            zf.writestr("y.npy", ybuf.getvalue())
    elif kind == "zip_bomb.npz":
        shutil.copyfile(fx.zip_bomb(), p)
    elif kind == "many_members.npz":
        np.savez(p, X=X, y=y, **{f"m{i}": np.zeros(1) for i in range(3000)})
    elif kind == "not_zip.npz":
        csv(rows)
    elif kind == "text.csv":
        csv("a,b,c,label\n" + rows.replace("0.", "zero.", 3))
    elif kind == "ragged.csv":
        csv("a,b,c,label\n" + rows + "1,2\n1,2,3,4,5,6\n")
    elif kind == "empty.csv":
        csv("")
    elif kind == "header_only.csv":
        csv("a,b,c,label\n")
    elif kind == "one_row.csv":
        csv("a,b,c,label\n1,2,3,0\n")
    elif kind == "nan.csv":
        csv("a,b,c,label\n" + rows + "nan,1,2,1\nNaN,,3,0\n")
    elif kind == "inf.csv":
        csv("a,b,c,label\n" + rows + "inf,-inf,1,1\n")
    elif kind == "overflow.csv":
        csv("a,b,c,label\n" + rows + "1e400,1,2,1\n")
    elif kind == "long_line.csv":
        csv("a,b,c,label\n" + rows + "1," + "9" * 5_000_000 + ",2,1\n")
    elif kind == "binary.csv":
        csv(bytes(rng.randrange(256) for _ in range(5000)).decode("latin1"), "w")
    elif kind == "bom.csv":
        csv("\ufeffa,b,c,label\n" + rows)
    elif kind == "quoted.csv":
        csv('"a","b","c","label"\n' + "".join(f'"{r[0]:.3f}","{r[1]:.3f}","{r[2]:.3f}","{t}"\n' for r, t in zip(X, y)))
    elif kind == "semicolon.csv":
        csv("a;b;c;label\n" + rows.replace(",", ";"))
    elif kind == "crlf.csv":
        csv("a,b,c,label\r\n" + rows.replace("\n", "\r\n"))
    elif kind == "missing.csv":
        pass
    elif kind == "no_extension":
        csv("a,b,c,label\n" + rows)
    elif kind == "unicode_header.csv":
        csv("α,β,γ,étiquette\n" + rows)
    elif kind == "dup_header.csv":
        csv("a,a,a,label\n" + rows)
    elif kind == "negative_label.csv":
        csv("a,b,c,label\n" + rows + "1,2,3,-1\n")
    elif kind == "huge_label.csv":
        csv("a,b,c,label\n" + rows + "1,2,3,100000000000\n")
    elif kind == "nul_in.csv":
        csv("a,b,c,label\n" + rows + "1,\0,3,1\n")
    else:
        raise AssertionError(kind)
    return p


def run_data_files(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    rng = random.Random(f"{case.seed}:{case.id}:data")
    path = make_data_file(spec["kind"], folder, fx, rng)
    before = files_of(folder)
    op = spec["op"]
    if op.startswith("cli"):
        argv = ["train", "--data", path, "--epochs", "1", "--layers", "4", "--batch-size", "4", "--no-progress",
                *spec["extra"]]
        if op == "cli_sub":
            rc, out, err = run_cli_subprocess(argv, folder)
            exc, trace = None, ""
        else:
            rc, out, err, exc, trace = run_cli_inprocess(argv, folder)
        judge_cli(res, rc, out, err, argv, expect_rc=(EXIT_INPUT,), exc=exc, trace=trace)
        if res.outcome == "clean" and spec["kind"] in _UNREADABLE and os.path.basename(path) not in err:
            res.flag("bad_message", "the error does not name the data file")
    else:
        ns = namespace(fx, folder)
        net = eval("net()", ns)
        initial = weights_of(net)
        fn = {"load": lambda: npl.load(path), "load_checkpoint": lambda: npl.load_checkpoint(path),
              "resume": lambda: npl.fit(net, fx.X, fx.y, loss="cross_entropy", epochs=1, batch_size=8,
                                        resume=path)}[op]
        outcome, value, exc, trace = guarded(fn)
        res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
        if outcome == "accepted" and spec["kind"] not in ("missing.csv",):
            res.flag("missed", f"{op} accepted the data file {spec['kind']}")
        if outcome != "accepted":
            check_weights_after_failure(res, exc, net, initial, strict=True)
    check_files(res, before, files_of(folder), failed=res.outcome != "accepted")


# --- class 7: command-line flags ---------------------------------------------------------------
_TRAIN_FLAGS = {
    "--lr": ["nan", "inf", "-1", "0", "1e309", "abc", "", "1e-320", "0x10", "1_000", "-inf", " 0.1", "0.1.2"],
    "--epochs": ["0", "-1", "1.5", "abc", "", "1e3", "99999999999999999999999", "-99999999999999999999", "0x2",
                 "２"],
    "--batch-size": ["0", "-1", "99999999999999999999", "abc", "1.5", "", "10000"],
    "--layers": ["", ",", "0", "-1", "4,,4", "a", "4.5", "1000000000000", "4,0", "4 4", "1e3", "4,-4",
                 ",".join(["2"] * 300), "9" * 50],
    "--test-size": ["0", "1", "-0.1", "1.5", "nan", "0.999", "1e-9", "abc", "inf", "0.5"],
    "--seed": ["-1", "18446744073709551616", "1.5", "abc", "", "99999999999999999999999999", "0x1"],
    "-P": ["noequals", "activation.alpha=abc", "optimizer.momentum=-1", "schedule.step_size=0", "bogus.x=1",
           "init.=1", "=1", "optimizer.momentum=[1,2]", 'optimizer.momentum={"a":1}', "optimizer.momentum=NaN",
           'loss.reduction="none"', "loss.weight=[1,2,3]", "schedule.total_steps=1e400", "optimizer.momentum=1e999",
           "optimizer..momentum=1", "optimizer.momentum=0.9=1", "optimizer.nesterov=true", "activation.alpha=0.1",
           "schedule.gamma=" + "9" * 500, "loss.label_smoothing=2", "init.gain=-1", 'optimizer.momentum="0.9"',
           "schedule.step_size=" + "[" * 100 + "]" * 100],
    "--checkpoint-every": ["0", "-1", "abc", "1.5", "epoch", "99999999999999999999", "EPOCH", ""],
    "--max-growth": ["0", "-1", "nan", "inf", "off", "abc", "1e-300", "OFF", "1e309", ""],
    "--activation": ["bogus", "mse", "neuroplug:relu", "softmax", "relu:neuroplug", "", "RELU", "leaky_relu",
                     "neuroplug:bogus", "x" * 5000],
    "--init": ["bogus", "relu", "zeros", "orthogonal", ""],
    "--loss": ["bogus", "binary_cross_entropy", "mse", "relu", "mae", ""],
    "--optimizer": ["bogus", "adam", "mse", "", "neuroplug:sgd"],
    "--schedule": ["bogus", "callable", "reduce_on_plateau", "one_cycle", "sequential", "linear_warmup",
                   "cosine_annealing", ""],
    "--output-activation": ["relu", "bogus", "sigmoid", "identity", ""],
    "--target": ["nope", "X", "", "y"],
    "--save": ["no/such/dir/m.npz", ".", "/dev/full", "sub", "", "m.npz", "x" * 300 + ".npz", "/proc/m.npz"],
    "--checkpoint": ["no/such/dir/c.npz", ".", "/dev/full", "sub", "", "c.npz", "/dev/null", "fifo"],
    "--data": ["nope.csv", "nope.npz", "", "sub", "/", "nope.txt"],
    "--resume": [None],
    "--debug": [None],
    "--bogus": [None],
    "--no-progress": [None],
}
_OTHER_COMMANDS = [
    ["list", "--kind", "bogus"], ["list", "--kind"], ["list", "--json", "--json"], ["list", "extra"],
    ["plugins", "--bogus"], ["plugins", "--json", "x"], ["spec", "bogus"], ["spec", "activation:bogus"],
    ["spec", "bogus:tanh"], ["spec", "activation:tanh", "--check", "BOGUS"], ["spec", "activation:tanh", "--format",
                                                                             "bogus"],
    ["spec", "activation:tanh", "--timeout", "-1"], ["spec", "activation:tanh", "--seed", "-1"],
    ["spec", "activation:tanh", "--format", "junit", "-o", "no/such/dir/x.xml"],
    ["spec", "activation:tanh", "--format", "json", "-o", "/dev/full"], ["spec", "activation:tanh", "-o", "sub"],
    ["spec", "activation:tanh", "--timeout", "abc"], ["spec", "activation:tanh", "-o", ""], ["spec", "activation:tanh", "--timeout", "nan"],
    ["spec", "", "--format", "json"], ["spec", "activation:", "--format", "json"],
    ["docs", "--no-spec", "--builtins-only", "--output", "/dev/full"],
    ["docs", "--no-spec", "--builtins-only", "--output", ""],
    ["docs", "--no-spec", "--builtins-only", "--output", "file.txt"],
    [], ["bogus"], ["--version"], ["--debug"], ["-h", "bogus"], ["train", "--help"], ["--debug", "bogus"],
    ["list", "--debug", "--kind", "bogus"], ["train", "--", "--lr"], ["train", "-"], ["\udcff"],
]


def gen_cli_args(rng: random.Random, case_id: int) -> dict:
    mode = "subprocess" if rng.random() < 0.2 else "inprocess"
    if rng.random() < 0.25:
        argv = list(_pick(rng, _OTHER_COMMANDS))
    else:
        argv = ["train", "--data", "{SMALL}", "--epochs", "1", "--layers", "4", "--batch-size", "8", "--no-progress"]
        for _ in range(rng.choice((1, 1, 2, 3))):
            flag = _pick(rng, sorted(_TRAIN_FLAGS))
            value = _pick(rng, _TRAIN_FLAGS[flag])
            argv += [flag] if value is None else [flag, value]
    return {"argv": argv, "mode": mode, "text": f"neuroplug {' '.join(repr(a) if (not a or ' ' in a) else a for a in argv)}"
            f"  ({mode})"}


def run_cli_args(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    os.mkdir(os.path.join(folder, "sub"))
    open(os.path.join(folder, "file.txt"), "w").close()
    os.mkfifo(os.path.join(folder, "fifo"))
    argv = [a.replace("{SMALL}", fx.small_npz) for a in spec["argv"]]
    if len(argv) > 0 and argv[0] == "docs" and spec["mode"] == "inprocess":
        spec = dict(spec, mode="subprocess")  # docs may import sphinx: keep it out of the worker
    before = files_of(folder)
    if spec["mode"] == "subprocess":
        rc, out, err = run_cli_subprocess(argv, folder, timeout=120.0)
        exc, trace = None, ""
    else:
        rc, out, err, exc, trace = run_cli_inprocess(argv, folder, limit=60.0)
    # an output that cannot be written is status 3; an empty path is no path at all (2 or 3)
    targets = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--save", "--checkpoint", "-o", "--output")]
    unwritable = {"no/such/dir/m.npz", "no/such/dir/c.npz", ".", "/dev/full", "sub", "no/such/dir/x.xml",
                  "/dev/null", "fifo", "x" * 300 + ".npz", "/proc/m.npz"} | ({"file.txt"} if "docs" in argv else set())
    bad_write = any(t in unwritable or t == "" for t in targets)
    # another bad flag beside the output may be reported first (status 2)
    flags = [a for a in spec["argv"][10:] if a.startswith("-")] if spec["argv"][:1] == ["train"] else []
    only_output = len(flags) <= 1
    expect = ((EXIT_WRITE,) if only_output and any(t in unwritable for t in targets) else (EXIT_INPUT, EXIT_WRITE)) \
        if bad_write else ()
    judge_cli(res, rc, out, err, argv, exc=exc, trace=trace, expect_rc=expect)
    if res.outcome == "accepted" and bad_write and rc == 0 and "--help" not in argv and "-h" not in argv:
        res.flag("missed", "an unwritable output path was accepted")
    check_files(res, before, files_of(folder), failed=res.outcome != "accepted",
                allowed_new=(r"^neuroplug-train\.ckpt\.npz$",) if "--resume" in argv else ())


# --- class 8: exploding runs ---------------------------------------------------------------------
_EXPLODE_TASKS = {
    "softmax_ce": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(2, activation='softmax')], "
                   "input_dim=3, seed={seed})", "cross_entropy", "X", "y"),
    "sigmoid_bce": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(1, activation='sigmoid')], "
                    "input_dim=3, seed={seed})", "binary_cross_entropy", "X", "y[:, None].astype(np.float32)"),
    "mse": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(1)], input_dim=3, seed={seed})",
            "mse", "Xr", "yr"),
    "mae": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(1)], input_dim=3, seed={seed})",
            "mae", "Xr", "yr"),
    "huber": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(1)], input_dim=3, seed={seed})",
              "huber", "Xr", "yr"),
    "logits_ce": ("npl.Sequential([npl.Dense(8, activation={act!r}), npl.Dense(2)], input_dim=3, seed={seed})",
                  "{'name': 'cross_entropy', 'config': {'from_logits': True}}", "X", "y"),
}
_EXPLODE_OPT = ["'sgd'", "{'name': 'sgd', 'config': {'momentum': 0.9}}",
                "{'name': 'sgd', 'config': {'momentum': 0.9, 'nesterov': True}}", "'adam'", "'adamw'", "'rmsprop'",
                "'adagrad'"]


def gen_explosion(rng: random.Random, case_id: int) -> dict:
    task = _pick(rng, sorted(_EXPLODE_TASKS))
    act = _pick(rng, ["tanh", "relu", "identity", "leaky_relu", "sigmoid"])
    opt = _pick(rng, _EXPLODE_OPT)
    lr = float(f"{10 ** rng.uniform(0, 8):.3g}")
    # built-in schedules never raise the rate (a growing rate is refused): a callable one may
    schedule = _pick(rng, ["'constant'"] * 4 + ["{'name': 'callable', 'config': {'fn': lambda t, lr: lr * 100.0 ** t}}",
                                                 "{'name': 'step_decay', 'config': {'step_size': 1, 'gamma': 0.5}}"])
    max_growth = _pick(rng, ["DEFAULT", "DEFAULT", "DEFAULT", "100.0", "1000.0", "1e6", "None"])
    epochs = rng.randint(2, 5)
    batch = _pick(rng, [4, 8, 40])
    checkpoint = _pick(rng, [None, None, "epoch", 1, 3])
    seed = rng.randrange(3)
    if rng.random() < 0.15:
        # a region where the weights cross the limit in the first steps and then fall back below it
        # for a while: a periodic checkpoint there must not be written (the run has blown up)
        task, act, opt, seed, batch, epochs = "softmax_ce", "sigmoid", "'sgd'", 0, 4, 4
        lr = float(f"{rng.uniform(1e4, 3e4):.3g}")
        max_growth, checkpoint, schedule = "1000.0", _pick(rng, [3, 4, 5]), "'constant'"
    build, loss, xs, ys = _EXPLODE_TASKS[task]
    build = build.format(act=act, seed=seed)
    mg = "" if max_growth == "DEFAULT" else f", max_growth={max_growth}"
    ck = "" if checkpoint is None else (", checkpoint=os.path.join(d, 'run.ckpt.npz')" if checkpoint == "epoch" else
                                        f", checkpoint=CP(os.path.join(d, 'run.ckpt.npz'), every={checkpoint})")
    loss_expr = loss if loss.startswith("{") else repr(loss)
    call = (f"npl.fit(NET, {xs}, {ys}, loss=LOSS, optimizer={opt}, lr={lr!r}, schedule={schedule}, "
            f"epochs={epochs}, batch_size={batch}, seed=0{mg}{ck})")
    return {"build": build, "call": call, "loss": loss_expr, "max_growth": max_growth,
            "text": f"NET = {build}; LOSS = {loss_expr}; {call}"}


def run_explosion(case: Case, res: Result, fx: Fixtures, folder: str) -> None:
    spec = case.spec
    ns = namespace(fx, folder)
    net = eval(spec["build"], ns)
    spy = Spy()
    spy.net = net
    loss_spec = eval(spec["loss"], ns)
    if isinstance(loss_spec, dict):
        loss = spy.loss(loss_spec["name"], **loss_spec.get("config", {}))
    else:
        loss = spy.loss(loss_spec)
    ns.update(NET=net, LOSS=loss)
    call = spec["call"].replace("seed=0", "seed=0, callbacks=[SPYCB]")
    ns["SPYCB"] = spy.callback()
    initial = weights_of(net)
    before = files_of(folder)
    with warnings_ignored():
        outcome, value, exc, trace = guarded(lambda: eval(call, ns))
    res.outcome, res.error, res.trace = outcome, describe_exc(exc), trace
    mg = spec["max_growth"]
    limit = 1e4 if mg == "DEFAULT" else (None if mg == "None" else float(mg))
    if outcome == "accepted":
        final = weights_of(net)
        if not all(np.isfinite(w).all() for w in final):
            res.flag("missed", "fit returned normally with non-finite weights")
        elif limit is not None:
            for epoch, (start, end) in enumerate(spy.epochs):
                if end > limit * max(1.0, start):
                    res.flag("missed", f"epoch {epoch}: the weights' RMS grew from {start:.3g} to {end:.3g} "
                                       f"(> max_growth {limit:g} x max(1, start)) and fit returned normally")
                    break
    elif outcome in ("clean", "raw"):
        check_weights_after_failure(res, exc, net, initial, spy)
        if isinstance(exc, E.DivergenceError) and limit is not None and not res.flags:
            now = _rms(weights_of(net))
            starts = [s for s, _ in spy.epochs] + [_rms(s) for s in spy.states]
            if now > limit * max(1.0, max(starts + [_rms(initial)])):
                res.flag("weights_changed", f"the restored weights' RMS {now:.3g} is past the limit")
    ckpt = os.path.join(folder, "run.ckpt.npz")
    if os.path.exists(ckpt):
        loaded = guarded(lambda: npl.load_checkpoint(ckpt))
        if loaded[0] != "accepted":
            res.flag("missed", f"the checkpoint fit wrote does not load: {describe_exc(loaded[2])}")
        else:
            ck = loaded[1]
            weights = weights_of(ck.build_network())
            if not all(np.isfinite(w).all() for w in weights):
                res.flag("missed", "a checkpoint with non-finite weights was written")
            elif isinstance(exc, E.DivergenceError) and exc.step is not None and ck.step > exc.step:
                res.flag("missed", f"a checkpoint of step {ck.step}, past the divergence at step {exc.step}, "
                                   f"was written")
            elif not spy.matches(weights, initial):
                res.flag("missed", "the checkpoint's weights are not a state the run passed through")
    check_files(res, before, files_of(folder), failed=outcome != "accepted", allowed_new=(r"run\.ckpt\.npz$",
                                                                                          r"run\.ckpt\.best\.npz$"))


@contextlib.contextmanager
def warnings_ignored():
    """numpy's overflow warnings are not findings."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ----------------------------------------------------------------------------- dispatch
GENERATORS: dict[str, Callable[[random.Random, int], dict]] = {
    "fit_args": gen_fit_args, "save_paths": gen_save_paths, "ckpt_mutation": gen_ckpt_mutation,
    "hostile_components": gen_hostile_components, "plugin_output": gen_plugin_output,
    "data_files": gen_data_files, "cli_args": gen_cli_args, "explosion": gen_explosion,
}
RUNNERS: dict[str, Callable[[Case, Result, Fixtures, str], None]] = {
    "fit_args": run_fit_args, "save_paths": run_save_paths, "ckpt_mutation": run_ckpt_mutation,
    "hostile_components": run_hostile_components, "plugin_output": run_plugin_output,
    "data_files": run_data_files, "cli_args": run_cli_args, "explosion": run_explosion,
}


def run_case(case: Case, scratch: str | None = None) -> Result:
    """Run one case in this process (in a fresh folder under ``scratch``) and classify it."""
    fx = fixtures()
    res = Result(case.cls, case.id, case.seed, case.text)
    folder = tempfile.mkdtemp(prefix=f"{case.cls}-{case.id}.", dir=scratch)
    start = time.perf_counter()
    cwd = os.getcwd()
    try:
        with warnings_ignored(), npl.isolated_registry():
            RUNNERS[case.cls](case, res, fx, folder)
    except _Timeout:
        res.outcome, res.error = "hang", "the case's own set-up ran past the limit"
    except BaseException as exc:  # noqa: BLE001 - a failure of the harness around the call
        res.outcome, res.error = "raw", "harness: " + describe_exc(exc)
        res.trace = traceback.format_exc()
    finally:
        os.chdir(cwd)
        res.seconds = time.perf_counter() - start
        shutil.rmtree(folder, ignore_errors=True)
    return res


# ----------------------------------------------------------------------------- workers
def _worker(conn: Any, scratch: str) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    # streams on the file descriptors themselves (under pytest sys.stdout/sys.stderr are capture
    # objects, which the descriptor-level capture of a CLI run would not see)
    sys.stdout = open(1, "w", closefd=False, buffering=1, encoding="utf-8", errors="replace")
    sys.stderr = open(2, "w", closefd=False, buffering=1, encoding="utf-8", errors="replace")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fixtures()
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        cls, seed, case_id = task
        case = make_case(cls, seed, case_id)
        res = run_case(case, scratch)
        conn.send(("done", res))


def run_cases(cases: list[Case], jobs: int = 2, progress: Callable[[Result], None] | None = None,
              hard_limit: float = 240.0) -> list[Result]:
    """Run ``cases`` in ``jobs`` worker processes (0: in this process) and return their results.

    A worker that dies (a crash of the interpreter) gives a *raw* result, one that does not
    answer within ``hard_limit`` seconds a *hang*; either is replaced by a new worker.
    """
    fixtures()  # built once, before the workers fork
    scratch = tempfile.mkdtemp(prefix="neuroplug-adversarial.")
    results: list[Result] = []
    try:
        if jobs <= 0:
            for case in cases:
                res = run_case(case, scratch)
                results.append(res)
                if progress:
                    progress(res)
            return results
        import multiprocessing as mp
        from multiprocessing.connection import wait

        ctx = mp.get_context("fork")
        pending = list(reversed(cases))
        workers: dict[Any, dict] = {}

        def start() -> None:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, scratch), daemon=True)
            proc.start()
            child.close()
            workers[parent] = {"proc": proc, "case": None, "since": time.monotonic(), "ready": False}

        def give(conn: Any) -> None:
            w = workers[conn]
            if pending:
                case = pending.pop()
                w["case"], w["since"] = case, time.monotonic()
                conn.send((case.cls, case.seed, case.id))
            else:
                w["case"] = None
                conn.send(None)

        def retire(conn: Any, outcome: str, why: str) -> None:
            w = workers.pop(conn)
            case = w["case"]
            if w["proc"].is_alive():
                os.kill(w["proc"].pid, signal.SIGKILL)
            w["proc"].join(5)
            conn.close()
            if case is not None:
                res = Result(case.cls, case.id, case.seed, case.text, outcome=outcome, error=why)
                results.append(res)
                if progress:
                    progress(res)
            if pending:
                start()

        for _ in range(min(jobs, max(len(cases), 1))):
            start()
        while workers:
            ready = wait(list(workers) + [w["proc"].sentinel for w in workers.values()], timeout=1.0)
            for conn in list(workers):
                w = workers[conn]
                if conn in ready or w["proc"].sentinel in ready:
                    try:
                        if conn.poll():
                            kind, payload = conn.recv()
                        elif not w["proc"].is_alive():
                            raise EOFError
                        else:
                            continue
                    except (EOFError, OSError):
                        code = w["proc"].exitcode
                        if w["case"] is None and not pending and w["ready"]:
                            workers.pop(conn)
                            continue
                        retire(conn, "raw", f"the interpreter died (exit code {code}"
                                            f"{', signal ' + signal.Signals(-code).name if code and code < 0 else ''})")
                        continue
                    if kind == "done":
                        results.append(payload)
                        if progress:
                            progress(payload)
                    w["ready"] = True
                    give(conn)
                    if w["case"] is None:
                        w["proc"].join(10)
                        workers.pop(conn, None)
                elif w["case"] is not None and time.monotonic() - w["since"] > hard_limit:
                    retire(conn, "hang", f"no answer within {hard_limit:g} s (the worker was killed)")
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ----------------------------------------------------------------------------- reporting
COLUMNS = ("tried", "accepted", "clean", "raw", "hang", "weights_changed", "files_left", "missed", "bad_message")


def summarize(results: list[Result]) -> dict[str, dict[str, int]]:
    """Counts per class and in total: tried, each outcome, each flag."""
    table: dict[str, dict[str, int]] = {}
    for res in results:
        for key in (res.cls, "total"):
            row = table.setdefault(key, dict.fromkeys(COLUMNS, 0))
            row["tried"] += 1
            row[res.outcome] += 1
            for flag in res.flags:
                row[flag] += 1
    order = [c for c in CLASSES if c in table] + (["total"] if "total" in table else [])
    return {k: table[k] for k in order}


def format_table(counts: dict[str, dict[str, int]]) -> str:
    """The counts as a text table."""
    heads = ["class", "tried", "accepted", "clean err", "raw err", "hangs", "w changed", "files left",
             "missed", "bad msg"]
    rows = [[name] + [str(row[c]) for c in COLUMNS] for name, row in counts.items()]
    widths = [max(len(r[i]) for r in [heads] + rows) for i in range(len(heads))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        if r[0] == "total":
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


#: the findings listed one by one; ``bad_message`` ones are grouped by what is wrong (see :func:`report`)
SERIOUS = ("raw", "hang", "weights_changed", "files_left", "missed")


def reproductions(results: list[Result], kinds: tuple = SERIOUS + ("bad_message",)) -> list[str]:
    """One reproduction per finding of ``kinds`` (raw, hang, a flag), in class and case order."""
    order = {c: i for i, c in enumerate(CLASSES)}
    found = sorted((r for r in results if set(r.problems) & set(kinds)), key=lambda r: (order[r.cls], r.id))
    return [r.repro() for r in found]


def report(results: list[Result], examples: int = 3) -> str:
    """The findings: each raw error, hang, changed state, file left or missed refusal with its
    reproduction, then the bad messages grouped by what is wrong (a few reproductions each)."""
    lines = []
    serious = reproductions(results, SERIOUS)
    if serious:
        lines += [f"{len(serious)} raw error(s), hang(s), changed state(s), file(s) left or missed refusal(s):"]
        lines += serious
    groups: dict[str, list[Result]] = {}
    for r in results:
        if "bad_message" in r.flags:
            key = re.sub(r"'[^']*'|\d+", "…", r.flags["bad_message"])[:120]
            groups.setdefault(key, []).append(r)
    if groups:
        total = sum(len(v) for v in groups.values())
        lines += ["", f"{total} bad message(s) (a clean error or exit worded against the docs), by kind:"]
        for key, found in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"- {len(found)} x {found[0].flags['bad_message']}")
            lines += ["    " + r.repro().replace("\n", "\n    ") for r in found[:examples]]
            if len(found) > examples:
                lines.append(f"    ... and {len(found) - examples} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line of the pass; exit status 1 when anything was found."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help=f"cases in all (default {DEFAULT_CASES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the seed of the generators (default 0)")
    parser.add_argument("--only", choices=list(CLASSES), help="run one class only")
    parser.add_argument("--case", type=int, action="append", help="run only this case id (repeatable; with --only)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default 2; 0 runs in this process)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each case and its traceback")
    parser.add_argument("--json", metavar="PATH", help="also write every result as JSON")
    args = parser.parse_args(argv)
    if args.case:
        if not args.only:
            parser.error("--case needs --only CLASS")
        cases = [make_case(args.only, args.seed, i) for i in args.case]
    else:
        cases = plan(args.cases, args.seed, args.only)
    start = time.perf_counter()
    done = [0]

    def progress(res: Result) -> None:
        done[0] += 1
        if args.verbose:
            print(f"[{res.outcome:8}] {res.cls} #{res.id} ({res.seconds:.2f} s) {res.text}\n"
                  f"           {res.error}" + (f"\n           flags: {res.flags}" if res.flags else ""))
            if res.trace and (res.outcome == "raw" or args.case):
                print(textwrap.indent(res.trace.rstrip(), "           | "))
        elif done[0] % 100 == 0:
            print(f"  {done[0]}/{len(cases)} cases ({time.perf_counter() - start:.0f} s)", file=sys.stderr)

    results = run_cases(cases, jobs=args.jobs, progress=progress)
    counts = summarize(results)
    print(f"neuroplug adversarial pass: {len(results)} cases, seed {args.seed}, "
          f"{time.perf_counter() - start:.0f} s, {args.jobs} job(s)\n")
    print(format_table(counts))
    repro = reproductions(results)
    if repro:
        print()
        print(report(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([vars(r) for r in results], fh, indent=1, default=str)
    return 1 if repro else 0


if __name__ == "__main__":
    sys.exit(main())
