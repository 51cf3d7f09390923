#!/usr/bin/env python
"""An adversarial reliability pass: generated hostile inputs, counted outcomes (issue 11).

Every case is one call a hostile or careless user could make -- structure-mutated
checkpoints and model files, random argument values for ``fit``, ``Sequential``,
``Dense``, ``predict``, ``save`` and ``load``, hostile in-process plugin
components, hostile paths, and ``neuroplug`` command lines -- generated
deterministically from a seed. Each outcome is classified:

accepted
    the call succeeded (a mutation that does not matter, a valid value);
clean error
    a :class:`neuroplug.errors.NeuroplugError` (for the CLI: a documented exit
    status, a one-line message and no traceback);
raw error
    anything else (target 0);
weights changed
    a failed call that changed the network's weights or a callback's state (target 0);
files left
    a failed write that left a file behind or changed the previous one (target 0);
hang
    a case that outlived its time limit (target 0).

Run it::

    python tests/adversarial_pass.py                 # the full pass (>= 1,000 cases, a minute or two)
    python tests/adversarial_pass.py --cases 200 --seed 1 --only fit_args

``tests/test_adversarial_pass.py`` runs a fixed-seed sample of every class.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import signal
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import neuroplug as npl  # noqa: E402
from neuroplug.errors import NeuroplugError  # noqa: E402
from neuroplug.serialization import write_archive  # noqa: E402

OUTCOMES = ("accepted", "clean error", "raw error", "weights changed", "files left", "hang")
TIME_LIMIT = 30  # seconds per case


@dataclass
class Tally:
    """Counts per class and outcome, and a reproduction line for every bad outcome."""

    counts: dict[str, Counter] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, group: str, outcome: str, repro: str = "") -> None:
        self.counts.setdefault(group, Counter())[outcome] += 1
        if outcome not in ("accepted", "clean error"):
            self.problems.append(f"[{group}] {outcome}: {repro}")

    def total(self) -> Counter:
        out: Counter = Counter()
        for c in self.counts.values():
            out.update(c)
        return out

    def table(self) -> str:
        rows = [f"{'class':<14}{'cases':>7}" + "".join(f"{o:>17}" for o in OUTCOMES)]
        for group, c in list(self.counts.items()) + [("total", self.total())]:
            rows.append(f"{group:<14}{sum(c.values()):>7}" + "".join(f"{c[o]:>17}" for o in OUTCOMES))
        return "\n".join(rows)


class _Hang(BaseException):
    pass


@contextlib.contextmanager
def _limit(seconds: int) -> Any:
    def alarm(signum: int, frame: Any) -> None:
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _chdir(path: str) -> Any:  # contextlib.chdir is Python >= 3.11
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


# ---------------------------------------------------------------------- shared fixtures
RNG0 = np.random.default_rng(0)
X = RNG0.normal(size=(24, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def small_net(seed: int = 0, activation: Any = "tanh", init: Any = None) -> npl.Sequential:
    hidden = npl.Dense(4, activation=activation) if init is None else npl.Dense(4, activation=activation, init=init)
    return npl.Sequential([hidden, npl.Dense(2, activation="softmax")], input_dim=3, seed=seed)


def weights(net: npl.Sequential) -> list[np.ndarray]:
    return net.get_weights()


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def run_case(tally: Tally, group: str, repro: str, call: Callable[[], Any],
             snapshot: Callable[[], Any] | None = None, unchanged: Callable[[Any], bool] | None = None) -> None:
    """Run ``call``; classify what it did (see the module docstring)."""
    before = snapshot() if snapshot is not None else None
    try:
        with _limit(TIME_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except _Hang:
        tally.add(group, "hang", repro)
        return
    except NeuroplugError as exc:
        if unchanged is not None and not unchanged(before):
            tally.add(group, "weights changed", f"{repro} -> {type(exc).__name__}: {str(exc)[:160]}")
        else:
            tally.add(group, "clean error")
        return
    except npl.TrainingInterrupted:
        tally.add(group, "clean error")
        return
    except BaseException as exc:  # noqa: BLE001 - what the pass is looking for
        tally.add(group, "raw error", f"{repro} -> {type(exc).__name__}: {str(exc)[:200]}")
        return
    tally.add(group, "accepted")


# ---------------------------------------------------------------------- hostile values
def hostile_values(rng: np.random.Generator) -> Any:
    pool = [None, True, False, 0, -1, 1, 2, 3, 7, 10 ** 12, 2 ** 63, -(2 ** 63), 0.0, -0.0, 1e-320, 0.5, 1.5,
            -2.5, 1e300, float("nan"), float("inf"), float("-inf"), "", "x", "relu", "sgd", "1", "nan",
            "\0", "a" * 5000, [], [1], [1, 2, 3], (), {}, {"name": "nope"}, {"name": "sgd", "config": 5},
            object(), np.float32(np.nan), np.int64(-5), np.array([1.0, 2.0]), np.array(3.0), np.zeros((0,)),
            b"bytes", 3 + 4j, npl.Optimizer, npl.Loss, npl.Activation, int, lambda *a: None, print,
            np.random.default_rng(0), [npl.EarlyStopping()], npl.EarlyStopping, "adam:unknown",
            {"kind": "loss", "name": "mse"}, npl.Checkpointing, slice(1)]
    return copy.copy(pool[rng.integers(len(pool))])


class _StopAfterOneEpoch(npl.Callback):
    def on_epoch_end(self, state: Any) -> None:
        state.stop = True


FIT_ARGS = ["loss", "optimizer", "lr", "schedule", "epochs", "batch_size", "shuffle", "seed", "validation_data",
            "callbacks", "progress", "checkpoint", "resume", "max_growth"]


def gen_fit_args(tally: Tally, rng: np.random.Generator, n: int, folder: str) -> None:
    for case in range(n):
        kwargs = dict(loss="cross_entropy", lr=0.1, epochs=2, batch_size=8, seed=0)
        chosen = {}
        for _ in range(1 + int(rng.random() < 0.3)):
            name = FIT_ARGS[rng.integers(len(FIT_ARGS))]
            value = hostile_values(rng)
            if name == "checkpoint" and isinstance(value, str) and value not in ("", "\0") and len(value) < 100:
                value = os.path.join(folder, f"fit-{case}-{value}.npz")
            chosen[name] = value
        kwargs.update(chosen)
        if "epochs" in chosen and "callbacks" not in chosen:  # a huge number of epochs is a long run, as asked
            kwargs["callbacks"] = [_StopAfterOneEpoch()]
        data_roll = rng.random()
        Xc, Yc = X, Y
        if data_roll < 0.15:  # hostile data too
            Xc = [X, X[:5], X.astype(object), np.full_like(X, np.nan), X[:, :2], X.tolist(), "data", None,
                  np.empty((0, 3))][rng.integers(9)]
        elif data_roll < 0.25:
            Yc = [Y[:5], Y.astype(float) + 0.5, np.full(24, 9), -Y, Y.astype(str), None, Y.reshape(6, 4)][
                rng.integers(7)]
        net = small_net()
        repro = f"fit(small_net(), X{'*' if Xc is not X else ''}, y{'*' if Yc is not Y else ''}, " \
                f"{', '.join(f'{k}={v!r:.40}' for k, v in chosen.items())})"
        run_case(tally, "fit_args", repro, lambda: npl.fit(net, Xc, Yc, **kwargs),
                 lambda: weights(net), lambda before: same(before, weights(net)))


def gen_model_args(tally: Tally, rng: np.random.Generator, n: int) -> None:
    """Sequential / Dense constructors, predict and set_weights with hostile values."""
    for case in range(n):
        which = rng.integers(5)
        v = hostile_values(rng)
        if which == 0:
            repro = f"Dense({v!r:.40})"
            run_case(tally, "model_args", repro, lambda: npl.Sequential([npl.Dense(v)], input_dim=3, seed=0))
        elif which == 1:
            key = ["activation", "init", "use_bias", "bias_init"][rng.integers(4)]
            repro = f"Dense(4, {key}={v!r:.40})"
            run_case(tally, "model_args", repro,
                     lambda: npl.Sequential([npl.Dense(4, **{key: v})], input_dim=3, seed=0).predict(X))
        elif which == 2:
            key = ["input_dim", "seed", "dtype"][rng.integers(3)]
            repro = f"Sequential([...], {key}={v!r:.40})"
            kwargs = dict(input_dim=3, seed=0)
            kwargs[key] = v
            run_case(tally, "model_args", repro, lambda: npl.Sequential([npl.Dense(2)], **kwargs).predict(X))
        elif which == 3:
            net = small_net()
            repro = f"predict({v!r:.40})"
            run_case(tally, "model_args", repro, lambda: net.predict(v), lambda: weights(net),
                     lambda before: same(before, weights(net)))
        else:
            net = small_net()
            good = weights(net)
            broken = [w.copy() for w in good]
            i = int(rng.integers(len(broken)))
            broken[i] = v if rng.random() < 0.5 else np.asarray(broken[i]).reshape(-1)[:1]
            repro = f"set_weights(weights with [{i}] = {broken[i]!r:.40})"
            run_case(tally, "model_args", repro, lambda: net.set_weights(broken), lambda: weights(net),
                     lambda before: same(before, weights(net)))


# ---------------------------------------------------------------------- files
def _members(path: str, meta_name: str) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return json.loads(bytes(arrays.pop(meta_name)).decode("utf-8")), arrays


def gen_checkpoints(tally: Tally, rng: np.random.Generator, n: int, folder: str) -> None:
    import test_checkpoint_schema as schema  # the structural mutator of the class-3 tests

    sources = []
    for mid in (False, True):
        sub = os.path.join(folder, f"ckpt-{mid}")
        os.makedirs(sub, exist_ok=True)
        sources.append(_members(schema.write_checkpoint(sub, mid_epoch=mid), "checkpoint"))
    path = os.path.join(folder, "mutant.ckpt.npz")
    for case in range(n):
        meta, arrays = copy.deepcopy(sources[case % 2])
        done = [schema.mutate(meta, arrays, rng) for _ in range(1 + int(rng.random() < 0.3))]
        try:
            write_archive(path, "checkpoint", meta, arrays, "the checkpoint")
        except NeuroplugError:
            continue
        holder: dict[str, Any] = {}

        def call() -> None:
            holder["net"], holder["es"], raised = schema.resume(path)
            if raised is not None:
                raise raised

        def unchanged(_: Any) -> bool:
            return schema.unchanged(holder["net"], holder["es"]) if "net" in holder else True

        run_case(tally, "checkpoints", f"checkpoint mutation {done}", call, lambda: None, unchanged)


def gen_model_files(tally: Tally, rng: np.random.Generator, n: int, folder: str) -> None:
    import test_checkpoint_schema as schema

    good = os.path.join(folder, "model.npz")
    npl.save(small_net(), good)
    meta_name = "architecture"  # the JSON member of a model file (see neuroplug.save)
    source = _members(good, meta_name)
    path = os.path.join(folder, "mutant.npz")
    for case in range(n):
        meta, arrays = copy.deepcopy(source)
        done = [schema.mutate(meta, arrays, rng) for _ in range(1 + int(rng.random() < 0.3))]
        try:
            write_archive(path, meta_name, meta, arrays, "the model")
        except NeuroplugError:
            continue

        def call() -> None:
            net = npl.load(path)
            out = net.predict(X)
            if not np.isfinite(out).all():
                raise AssertionError("a loaded model predicts non-finite values")

        run_case(tally, "model_files", f"model mutation {done}", call)


def gen_paths(tally: Tally, rng: np.random.Generator, n: int, folder: str) -> None:
    """save / Checkpoint.save / fit(checkpoint=) to hostile paths: nothing left behind, the previous file intact."""
    existing = os.path.join(folder, "existing.npz")
    npl.save(small_net(), existing)
    os.makedirs(os.path.join(folder, "a_dir"), exist_ok=True)
    readonly = os.path.join(folder, "ro")
    os.makedirs(readonly, exist_ok=True)
    os.chmod(readonly, 0o500)
    candidates = ["", "\0", "a\0b.npz", None, 5, b"bytes.npz", os.path.join(folder, "no", "such", "dir", "m.npz"),
                  os.path.join(folder, "a_dir"), folder, "/dev/full", "/dev/null", "/proc/version",
                  os.path.join(folder, "x" * 300 + ".npz"), os.path.join(readonly, "m.npz"),
                  os.path.join(existing, "inside.npz"), os.path.join(folder, "ok.npz"), existing, "/",
                  os.path.join(folder, "a_dir", ""), os.path.join(folder, "ünï cödé.npz")]
    for case in range(n):
        target = candidates[rng.integers(len(candidates))]
        how = rng.integers(3)
        listing = sorted(os.listdir(folder))
        with open(existing, "rb") as fh:
            previous = fh.read()
        net = small_net()

        if how == 0:
            call: Callable[[], Any] = lambda: npl.save(net, target)  # noqa: E731
            repro = f"save(net, {target!r:.80})"
        elif how == 1:
            call = lambda: npl.fit(net, X, Y, loss="cross_entropy", epochs=1, batch_size=8, seed=0,  # noqa: E731
                                   checkpoint=target)
            repro = f"fit(..., checkpoint={target!r:.80})"
        else:
            call = lambda: npl.fit(net, X, Y, loss="cross_entropy", epochs=1, batch_size=8, seed=0,  # noqa: E731
                                   checkpoint=npl.Checkpointing(target, keep_best="loss"))
            repro = f"fit(..., checkpoint=Checkpointing({target!r:.80}, keep_best='loss'))"
        before = tally.total()["clean error"]
        run_case(tally, "paths", repro, call, lambda: weights(net), lambda b: same(b, weights(net)))
        failed = tally.total()["clean error"] > before
        if failed:
            with open(existing, "rb") as fh:
                intact = fh.read() == previous
            if sorted(os.listdir(folder)) != listing or not intact:
                tally.counts["paths"]["clean error"] -= 1
                tally.add("paths", "files left", f"{repro}: {sorted(set(os.listdir(folder)) - set(listing))}")
        for name in set(os.listdir(folder)) - set(listing):  # successful writes: clean up for the next case
            full = os.path.join(folder, name)
            if os.path.isfile(full):
                os.remove(full)
    os.chmod(readonly, 0o700)


# ---------------------------------------------------------------------- hostile plugins
GARBAGE = ["None", "a string", "z[:, :1]", "z[:1]", "z.T", "z.ravel()", "object dtype", "complex dtype", "NaN",
           "inf", "a list of lists", "bool dtype", "z[..., None]", "a float", "ZeroDivisionError", "IndexError",
           "KeyError", "an empty array", "a tuple", "float16"]


def _garbage(rng: np.random.Generator) -> tuple[int, Callable[[np.ndarray], Any]]:
    options = [
        lambda z: None, lambda z: "text", lambda z: z[:, :1], lambda z: z[:1], lambda z: z.T, lambda z: z.ravel(),
        lambda z: z.astype(object), lambda z: z.astype(complex), lambda z: np.full_like(z, np.nan),
        lambda z: np.full_like(z, np.inf), lambda z: [list(r) for r in z], lambda z: z.astype(bool),
        lambda z: z[..., None], lambda z: np.float64(1.0), lambda z: 1 / 0, lambda z: [][1],
        lambda z: {}["k"], lambda z: z.reshape(-1, 1)[:0], lambda z: (z, z), lambda z: z.astype(np.float16),
    ]
    i = int(rng.integers(len(options)))
    return i, options[i]


def gen_plugins(tally: Tally, rng: np.random.Generator, n: int) -> None:
    for case in range(n):
        which, bad = _garbage(rng)
        target = ["forward", "derivative", "loss_forward", "loss_gradient", "constructor", "optimizer",
                  "schedule", "initializer", "after_k_calls", "signature"][rng.integers(10)]
        k = int(rng.integers(1, 40))

        class Act(npl.Activation):
            calls = 0

            def __init__(self) -> None:
                if target == "constructor":
                    bad(np.zeros((1, 1)))

            def forward(self, z: np.ndarray, out: Any = None) -> Any:
                Act.calls += 1
                if target == "forward" or (target == "after_k_calls" and Act.calls > k):
                    return bad(z)
                return np.tanh(z, out=out)

            def derivative(self, z: np.ndarray, a: np.ndarray) -> Any:
                return bad(z) if target == "derivative" else 1 - a * a

        class Mse(npl.Loss):
            def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> Any:
                if target == "loss_forward":
                    return bad(y_pred)
                return float(np.mean((y_pred - y_true) ** 2))

            def gradient(self, y_pred: np.ndarray, y_true: np.ndarray) -> Any:
                if target == "loss_gradient":
                    return bad(y_pred)
                return 2 * (y_pred - y_true) / y_pred.size

        class Opt(npl.Optimizer):
            def step(self, params: list, grads: list, lr: float) -> None:
                if target == "optimizer":
                    params[0][...] = bad(params[0]) if not isinstance(bad(np.zeros((1, 1))), str) else 0
                    return
                for p, g in zip(params, grads):
                    p -= lr * g

        class Sched(npl.Schedule):
            def rate(self, step: int, base_lr: float) -> Any:
                return bad(np.zeros((1, 1))) if target == "schedule" else base_lr

        class Init(npl.Initializer):
            def __call__(self, fan_in: int, fan_out: int, rng: Any, dtype: Any = np.float32) -> Any:
                if target == "initializer":
                    return bad(np.zeros((fan_in, fan_out)))
                return rng.normal(scale=0.3, size=(fan_in, fan_out)).astype(dtype)

        class WrongSignature(npl.Initializer):  # the signature of another framework's initializer
            def __call__(self, shape: tuple, dtype: Any = np.float32) -> Any:
                return np.zeros(shape, dtype)

        where = ["fit", "predict", "cli"][rng.integers(3)]
        holder: dict[str, Any] = {}

        def call() -> None:
            with npl.isolated_registry() as reg:
                for name, cls in (("hostile_act", Act), ("hostile_loss", Mse), ("hostile_opt", Opt),
                                  ("hostile_sched", Sched),
                                  ("hostile_init", WrongSignature if target == "signature" else Init)):
                    reg.register(cls, name=name)
                if where == "cli":
                    from neuroplug.cli import main

                    err = io.StringIO()
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                        try:
                            code = main(["train", "--epochs", "1", "--no-progress", "--layers", "8",
                                         "--activation", "hostile_act", "--loss", "hostile_loss",
                                         "--optimizer", "hostile_opt", "--schedule", "hostile_sched",
                                         "--init", "hostile_init", "--output-activation", "identity"])
                        except SystemExit as exc:
                            code = exc.code
                    if code not in (0, 2, 3) or "Traceback" in err.getvalue() \
                            or len(err.getvalue().strip().splitlines()) > 1:
                        raise AssertionError(f"exit {code}, stderr {err.getvalue()[-300:]!r}")
                    if code:
                        raise npl.InputError(err.getvalue())  # a documented one-line refusal: a clean error
                    return
                net = npl.Sequential([npl.Dense(4, activation="hostile_act", init="hostile_init"),
                                      npl.Dense(2)], input_dim=3, seed=0)
                holder["net"], holder["before"] = net, weights(net)
                if where == "fit":
                    npl.fit(net, X, np.eye(2)[Y], loss="hostile_loss", optimizer="hostile_opt",
                            schedule="hostile_sched", epochs=2, batch_size=8, seed=0)
                else:
                    out = net.predict(X)
                    if not (isinstance(out, np.ndarray) and out.shape == (24, 2)):
                        raise AssertionError(f"predict returned {type(out).__name__} {getattr(out, 'shape', '')}")

        def unchanged(_: Any) -> bool:
            return "net" not in holder or same(holder["before"], weights(holder["net"]))

        repro = f"hostile {target} returning {GARBAGE[which]} (k={k}) via {where}"
        run_case(tally, "plugins", repro, call, lambda: None, unchanged)


# ---------------------------------------------------------------------- the CLI
def gen_cli(tally: Tally, rng: np.random.Generator, n: int, folder: str) -> None:
    from neuroplug.cli import EXIT_CODES, main

    fifo = os.path.join(folder, "fifo")
    if not os.path.exists(fifo) and hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    trunc = os.path.join(folder, "trunc.npz")
    np.savez(trunc, X=X, y=Y)
    with open(trunc, "rb") as fh:
        data = fh.read()
    with open(trunc, "wb") as fh:
        fh.write(data[: len(data) // 2])
    text_csv = os.path.join(folder, "text.csv")
    with open(text_csv, "w") as fh:
        fh.write("a,b,label\n1,x,0\n2,3,1\n")
    values = {
        "--epochs": ["0", "-1", "1e20", "abc", "", "1"], "--lr": ["nan", "-1", "inf", "0", "1e6", "x"],
        "--seed": ["-1", "1.5", "x", "99999999999999999999999"], "--batch-size": ["0", "-3", "100000", "x"],
        "--layers": ["", "0", "-4", "a,b", "1000000000", "8,,8"], "--activation": ["nope", "", "loss:mse"],
        "--loss": ["relu", "nope"], "--optimizer": ["mse", "sgd:x"], "--schedule": ["nope"],
        "--init": ["nope", "relu"], "--data": [fifo, "/dev/zero", folder, trunc, text_csv, "/nonexistent.csv"],
        "--save": [os.path.join(folder, "no", "m.npz"), folder, "/dev/full", ""],
        "--checkpoint": [os.path.join(folder, "no", "c.npz"), folder, ""], "--test-size": ["0", "1", "2", "-1"],
        "-P": ["optimizer.momentum=2", "activation.x=1", "nonsense", "schedule.step_size=-1"],
        "--max-growth": ["1", "0", "off", "x"], "--target": ["nope"],
    }
    commands = ["train", "spec", "list", "plugins", "nope"]
    for case in range(n):
        command = commands[rng.integers(len(commands))] if rng.random() < 0.2 else "train"
        argv = [command]
        if command == "train":
            argv += ["--epochs", "1", "--no-progress", "--layers", "8"]
            for _ in range(1 + int(rng.integers(2))):
                flag = list(values)[rng.integers(len(values))]
                argv += [flag, values[flag][rng.integers(len(values[flag]))]]
        elif command == "spec":
            argv += [["activation:nope", "--timeout", "-1"], ["--check", "NOPE"], ["--format", "yaml"],
                     ["-o", os.path.join(folder, "no", "r.json"), "activation:tanh"]][rng.integers(4)]
        elif command in ("list", "plugins"):
            argv += [["--json"], ["--kind", "nope"], ["--bogus"]][rng.integers(3)]
        err = io.StringIO()

        def call() -> None:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), \
                    _chdir(folder):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code
            documented = set(EXIT_CODES.values())
            text = err.getvalue()
            lines = [line for line in text.strip().splitlines() if not line.startswith(("usage:", " "))]
            if code not in documented or "Traceback" in text or len(lines) > 1:
                raise AssertionError(f"exit {code}: {text[-400:]!r}")
            if code not in (0, 1):
                raise npl.InputError(text)  # a documented, one-line refusal: a clean error

        run_case(tally, "cli", f"neuroplug {' '.join(argv)}", call)


GENERATORS = {
    "fit_args": (gen_fit_args, 0.22, True), "model_args": (gen_model_args, 0.12, False),
    "checkpoints": (gen_checkpoints, 0.25, True), "model_files": (gen_model_files, 0.12, True),
    "paths": (gen_paths, 0.08, True), "plugins": (gen_plugins, 0.12, False), "cli": (gen_cli, 0.09, True),
}


def run(cases: int = 1200, seed: int = 0, only: str | None = None) -> Tally:
    """Run about ``cases`` generated cases (split over the classes) and return the tally."""
    tally = Tally()
    groups = [only] if only else list(GENERATORS)
    weight = sum(GENERATORS[g][1] for g in groups)
    with tempfile.TemporaryDirectory() as folder, np.errstate(all="ignore"), _chdir(folder):
        # (relative paths a case writes land in the temporary folder, never in the caller's)
        for i, group in enumerate(groups):
            fn, share, wants_folder = GENERATORS[group]
            rng = np.random.default_rng([seed, i])
            count = max(1, round(cases * share / weight))
            sub = os.path.join(folder, group)
            os.makedirs(sub)
            if wants_folder:
                fn(tally, rng, count, sub)
            else:
                fn(tally, rng, count)
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=sorted(GENERATORS))
    args = ap.parse_args(argv)
    tally = run(args.cases, args.seed, args.only)
    print(tally.table())
    for line in tally.problems:
        print(line)
    bad = sum(tally.total()[o] for o in OUTCOMES[2:])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
