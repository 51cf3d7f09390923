"""Issue 11, class 3: a checkpoint is validated as a whole before anything is restored.

A tampered checkpoint -- a missing callback key, an out-of-range random generator
state, an array where a config scalar belongs, ... -- is refused with a
ModelFileError naming the file, and neither the network's weights nor the
callbacks' state change. The table names the classic tamperings; the fuzz test
mutates the checkpoint's structure (its JSON and its arrays) thousands of times
and requires zero raw errors and zero partial restores.
"""

from __future__ import annotations

import copy
import json
import os
import signal

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import ModelFileError, NeuroplugError
from neuroplug.serialization import write_archive

X = np.random.default_rng(0).normal(size=(24, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
VAL = (X[:8], Y[:8])
ARGS = dict(loss="cross_entropy", optimizer="adam", schedule="reduce_on_plateau", lr=0.05, batch_size=8,
            validation_data=VAL)


def network(seed: int = 0) -> npl.Sequential:
    return npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(2, activation="softmax")],
                          input_dim=3, seed=seed)


def early_stopping() -> npl.EarlyStopping:
    return npl.EarlyStopping(monitor="val_loss", patience=50)


class _CtrlC(npl.Callback):
    """Sends SIGINT to this process at the start of epoch 1: fit stops after one more step."""

    def on_epoch_begin(self, state):
        if state.epoch == 1:
            os.kill(os.getpid(), signal.SIGINT)


def write_checkpoint(folder, seed=0, mid_epoch=False) -> str:
    """A real checkpoint of adam + reduce_on_plateau + EarlyStopping: after 2 epochs, or in the middle of
    the second (Ctrl-C after its first step: the epoch's sample order and predictions are saved)."""
    path = os.path.join(folder, "run.ckpt.npz")
    rng = seed if not isinstance(seed, str) else np.random.Generator(getattr(np.random, seed)(1))
    callbacks = [early_stopping()] + ([_CtrlC()] if mid_epoch else [])
    try:
        npl.fit(network(), X, Y, epochs=2, seed=rng, callbacks=callbacks, checkpoint=path, **ARGS)
    except npl.TrainingInterrupted:
        assert mid_epoch
    return path


def read_members(path) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(bytes(arrays.pop("checkpoint")).decode("utf-8"))
    return meta, arrays


def resume(path, rng_seed=0) -> tuple[npl.Sequential, npl.EarlyStopping, BaseException | None]:
    """fit(resume=path) on a fresh network; the network, the callback and what was raised."""
    net, es = network(), early_stopping()
    seed = rng_seed if not isinstance(rng_seed, str) else np.random.Generator(getattr(np.random, rng_seed)(1))
    try:
        npl.fit(net, X, Y, epochs=3, seed=seed, callbacks=[es], resume=path, **ARGS)
    except BaseException as exc:  # noqa: BLE001 - classified by the caller
        return net, es, exc
    return net, es, None


def same_state(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_state(a[k], b[k]) for k in a)
    return a == b


FRESH_WEIGHTS = network().get_weights()
FRESH_ES = early_stopping().get_state()


def unchanged(net, es) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(net.get_weights(), FRESH_WEIGHTS)) \
        and same_state(es.get_state(), FRESH_ES)


def _array_named(meta, arrays, *where):
    node = meta
    for key in where:
        node = node[key]
    return node["$array"]


def _set(meta, value, *where):
    node = meta
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value


def _drop(meta, *where):
    node = meta
    for key in where[:-1]:
        node = node[key]
    del node[where[-1]]


# each case: (what, rng, tamper(meta, arrays), words the message must contain)
def _es_state(meta):
    return meta["callbacks"][0]["state"]


CASES = [
    ("a missing callback key", 0, lambda m, a: _drop(_es_state(m), "wait"), ["EarlyStopping", "wait"]),
    ("an extra callback key", 0, lambda m, a: _set(_es_state(m), 1, "patience"), ["EarlyStopping"]),
    ("a callback's best as a string", 0, lambda m, a: _set(_es_state(m), "low", "best"), ["EarlyStopping"]),
    ("a callback's wait negative", 0, lambda m, a: _set(_es_state(m), -3, "wait"), ["EarlyStopping", "wait"]),
    ("a callback's best weights of the wrong shape", 0,
     lambda m, a: a.__setitem__(_array_named(m, a, "callbacks", 0, "state", "weights.0"), np.zeros((2, 2))),
     ["EarlyStopping", "weights.0"]),
    ("a PCG64 state below 0", 0, lambda m, a: _set(m, -1, "rng", "state", "state"), ["rng", "state"]),
    ("a PCG64 state above 2**128", 0, lambda m, a: _set(m, 1 << 130, "rng", "state", "state"), ["rng"]),
    ("a PCG64 increment that is even", 0, lambda m, a: _set(m, 2, "rng", "state", "inc"), ["inc", "odd"]),
    ("has_uint32 = 7", 0, lambda m, a: _set(m, 7, "rng", "has_uint32"), ["has_uint32"]),
    ("an unknown bit generator", 0, lambda m, a: _set(m, "Xorshift", "rng", "bit_generator"), ["rng"]),
    ("an MT19937 position out of range (numpy would crash)", "MT19937",
     lambda m, a: _set(m, 10 ** 6, "rng", "state", "pos"), ["pos"]),
    ("an MT19937 key too short", "MT19937",
     lambda m, a: a.__setitem__(_array_named(m, a, "rng", "state", "key"), np.zeros(5, np.uint32)), ["key"]),
    ("an array where fit's lr belongs", 0,
     lambda m, a: (_set(m, {"$array": "extra"}, "fit", "lr"), a.__setitem__("extra", np.ones(3))), ["fit.lr"]),
    ("a string where fit's epochs belongs", 0, lambda m, a: _set(m, "2", "fit", "epochs"), ["fit.epochs"]),
    ("a list where fit's shuffle belongs", 0, lambda m, a: _set(m, [True], "fit", "shuffle"), ["fit.shuffle"]),
    ("a missing fit key", 0, lambda m, a: _drop(m, "fit", "seed"), ["fit keys"]),
    ("an optimizer buffer of NaN", 0,
     lambda m, a: a.__setitem__(_array_named(m, a, "optimizer", "exp_avg.0"),
                                np.full_like(a[_array_named(m, a, "optimizer", "exp_avg.0")], np.nan)),
     ["optimizer", "non-finite"]),
    ("an optimizer buffer of the wrong shape", 0,
     lambda m, a: a.__setitem__(_array_named(m, a, "optimizer", "exp_avg_sq.1"), np.zeros(7)), ["optimizer"]),
    ("an optimizer step count as an array", 0,
     lambda m, a: (_set(m, {"$array": "extra"}, "optimizer", "step"), a.__setitem__("extra", np.ones(1))),
     ["optimizer"]),
    ("a missing optimizer key", 0,
     lambda m, a: (a.pop(_array_named(m, a, "optimizer", "exp_avg_sq.0")), _drop(m, "optimizer", "exp_avg_sq.0")),
     ["optimizer", "exp_avg_sq.0"]),
    ("a schedule counter as a string", 0, lambda m, a: _set(m, "two", "schedule", "wait"), ["schedule"]),
    ("a schedule best as an array", 0,
     lambda m, a: (_set(m, {"$array": "extra"}, "schedule", "best"), a.__setitem__("extra", np.ones(1))),
     ["schedule"]),
    ("non-finite weights", 0,
     lambda m, a: a.__setitem__(m["weights"][0], np.full_like(a[m["weights"][0]], np.inf)), ["non-finite"]),
    ("a step count that does not match the epoch and batch", 0, lambda m, a: _set(m, 99, "progress", "step"),
     ["progress.step", "99"]),
    ("a loss summed at the start of an epoch", 0, lambda m, a: _set(m, -1.0, "progress", "epoch_loss"),
     ["progress.epoch_loss", "-1.0"]),
    ("a sample order that is not a permutation", 0,
     lambda m, a: a.__setitem__(m["order"], np.zeros_like(a[m["order"]])), ["permutation"]),
    ("a history of the wrong length", 0,
     lambda m, a: a.__setitem__(m["history"]["metrics"]["loss"], np.zeros(5)), ["history.metrics.loss"]),
]


@pytest.mark.parametrize("what, rng, tamper, words", CASES, ids=[c[0] for c in CASES])
def test_tampered_checkpoint_is_refused_before_anything_changes(tmp_path, what, rng, tamper, words):
    good = write_checkpoint(tmp_path, seed=rng)
    meta, arrays = read_members(good)
    tamper(meta, arrays)
    bad = str(tmp_path / "tampered.npz")
    write_archive(bad, "checkpoint", meta, arrays, "the checkpoint")
    net, es, raised = resume(bad, rng)
    assert isinstance(raised, ModelFileError), f"{what}: {type(raised).__name__}: {raised}"
    message = str(raised)
    assert repr(bad) in message, message
    for word in words:
        assert word in message, f"{what}: {word!r} not in {message!r}"
    assert unchanged(net, es), f"{what}: the weights or the callback's state changed"


@pytest.mark.parametrize("rng", [0, "MT19937", "Philox", "SFC64", "PCG64DXSM"])
def test_every_bit_generator_state_is_accepted_and_resumes_bit_identically(tmp_path, rng):
    """The schema must never refuse a real checkpoint: each numpy bit generator, resumed, equals a straight run."""
    path = write_checkpoint(tmp_path, seed=rng)
    net, es, raised = resume(path, rng)
    assert raised is None, raised
    straight = network()
    seed = rng if not isinstance(rng, str) else np.random.Generator(getattr(np.random, rng)(1))
    npl.fit(straight, X, Y, epochs=3, seed=seed, callbacks=[early_stopping()], **ARGS)
    assert all(np.array_equal(a, b) for a, b in zip(net.get_weights(), straight.get_weights()))


def test_mid_epoch_checkpoint_is_accepted_and_refused_when_tampered(tmp_path):
    path = write_checkpoint(tmp_path, mid_epoch=True)
    ckpt = npl.load_checkpoint(path)
    assert (ckpt.epoch, ckpt.batch) == (1, 1) and ckpt.pred is not None
    net, es, raised = resume(path)
    assert raised is None, raised
    meta, arrays = read_members(path)
    arrays[meta["pred"]] = np.full_like(arrays[meta["pred"]], 2)  # a class the 2-output network does not have
    bad = str(tmp_path / "tampered.npz")
    write_archive(bad, "checkpoint", meta, arrays, "the checkpoint")
    net, es, raised = resume(bad)
    assert isinstance(raised, ModelFileError) and "pred" in str(raised), raised
    assert unchanged(net, es)


def test_in_memory_checkpoint_with_a_bad_state_is_a_config_error(tmp_path):
    path = write_checkpoint(tmp_path)
    ckpt = npl.load_checkpoint(path)
    ckpt.source = None
    ckpt.optimizer_state = dict(ckpt.optimizer_state, step="x")
    net, es = network(), early_stopping()
    with pytest.raises(npl.errors.ConfigError, match="optimizer"):
        npl.fit(net, X, Y, epochs=3, seed=0, callbacks=[es], resume=ckpt, **ARGS)
    assert unchanged(net, es)


def test_callback_whose_set_state_fails_rolls_back(tmp_path):
    """A callback that cannot be copied is tried for real; when it fails, the restored state is rolled back."""

    class Uncopyable(npl.Callback):
        def __init__(self):
            self.count = 0

        def __deepcopy__(self, memo):
            raise TypeError("cannot be copied")

        def get_state(self):
            return {"count": self.count}

        def set_state(self, state):
            raise ValueError("this state is not mine")

    path = os.path.join(tmp_path, "u.npz")
    npl.fit(network(), X, Y, epochs=2, seed=0, callbacks=[Uncopyable()], checkpoint=path, **ARGS)
    net = network()
    with pytest.raises(ModelFileError, match="Uncopyable"):
        npl.fit(net, X, Y, epochs=3, seed=0, callbacks=[Uncopyable()], resume=path, **ARGS)
    assert all(np.array_equal(a, b) for a, b in zip(net.get_weights(), FRESH_WEIGHTS))


# ---------------------------------------------------------------------- structure-aware fuzzing
_REPLACEMENTS = [None, True, False, 0, -1, 1, 7, 2 ** 31, 2 ** 64, 2 ** 130, -(2 ** 70), 0.5, -1e300, 1e300,
                 "", "x", "inf", [], [1, 2], {}, {"a": 1}, {"$float": "nan"}, {"$float": "inf"},
                 {"$float": "1"}, {"$array": "ghost"}]


def _nodes(value, path=()):
    """Every (path, value) of the JSON tree, the root excluded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,), item
            yield from _nodes(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield path + (i,), item
            yield from _nodes(item, path + (i,))


def _parent(meta, path):
    node = meta
    for key in path[:-1]:
        node = node[key]
    return node


def mutate(meta, arrays, rng) -> str:
    """One random structural mutation of the checkpoint's JSON or arrays, in place; what it did."""
    roll = rng.random()
    names = sorted(arrays)
    if roll < 0.3 and names:  # an array: new shape, dtype or values
        name = names[rng.integers(len(names))]
        a = arrays[name]
        kind = rng.integers(7)
        if kind == 0:
            arrays[name] = a.reshape(-1)[: max(0, a.size - 1 - rng.integers(3))]
        elif kind == 1:
            arrays[name] = np.concatenate([a.reshape(-1), a.reshape(-1)[:2]]) if a.size else np.zeros(3)
        elif kind == 2:
            arrays[name] = a.astype([np.float32, np.int64, np.bool_, np.uint8, np.float64][rng.integers(5)])
        elif kind == 3 and a.dtype.kind == "f" and a.size:
            b = a.copy()
            with np.errstate(over="ignore"):
                b.flat[rng.integers(a.size)] = np.array([np.nan, np.inf, -np.inf, 1e300][rng.integers(4)], b.dtype)
            arrays[name] = b
        elif kind == 4 and a.size:
            b = a.copy()
            value = [-1, 2 ** 31, 0, 9][rng.integers(4)] if a.dtype.kind in "iu" else 7.5
            b.flat[rng.integers(a.size)] = value if np.can_cast(np.min_scalar_type(value), b.dtype) else 1
            arrays[name] = b
        elif kind == 5:
            arrays[name] = a.reshape(1, *a.shape) if a.ndim < 3 else a
        else:
            other = names[rng.integers(len(names))]
            arrays[name], arrays[other] = arrays[other], arrays[name]
        return f"array {name}: kind {kind}"
    nodes = list(_nodes(meta))
    path, value = nodes[rng.integers(len(nodes))]
    parent = _parent(meta, path)
    op = rng.integers(5)
    if op == 0 and isinstance(parent, dict):
        del parent[path[-1]]
        return f"delete {path}"
    if op == 0 and isinstance(parent, list):
        parent.pop(path[-1])
        return f"pop {path}"
    if op == 1 and isinstance(value, dict):
        value["extra" if rng.random() < 0.5 else "$x"] = 1
        return f"add a key under {path}"
    if op == 2 and names:  # point at another array, or at a new one
        if rng.random() < 0.5:
            parent[path[-1]] = {"$array": names[rng.integers(len(names))]}
        else:
            arrays["extra"] = np.ones(int(rng.integers(1, 5)))
            parent[path[-1]] = {"$array": "extra"}
        return f"array reference at {path}"
    if op == 3 and isinstance(value, str) and value in arrays:  # a name of an array: another name
        parent[path[-1]] = names[rng.integers(len(names))]
        return f"retarget {path}"
    parent[path[-1]] = copy.deepcopy(_REPLACEMENTS[rng.integers(len(_REPLACEMENTS))])
    return f"replace {path} by {parent[path[-1]]!r:.30}"


def test_structure_fuzzing_gives_no_raw_error_and_no_partial_restore(tmp_path):
    cases = int(os.environ.get("NEUROPLUG_FUZZ_CASES", "2000"))
    rng = np.random.default_rng(2026)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sources = {"epoch": read_members(write_checkpoint(tmp_path / "a")),
               "mid-epoch": read_members(write_checkpoint(tmp_path / "b", mid_epoch=True))}
    counts = {"refused": 0, "accepted": 0}
    raw, partial = [], []
    path = str(tmp_path / "mutant.npz")
    for case in range(cases):
        meta, arrays = copy.deepcopy(sources["epoch" if case % 2 else "mid-epoch"])
        done = [mutate(meta, arrays, rng) for _ in range(1 + (rng.random() < 0.3))]
        try:
            write_archive(path, "checkpoint", meta, arrays, "the checkpoint")
        except NeuroplugError:
            continue  # not even writable (e.g. a member name): nothing to load
        net, es, raised = resume(path)
        if raised is None:
            counts["accepted"] += 1
            continue
        if isinstance(raised, npl.DivergenceError):  # resumed, then training diverged: restored to its last good step
            counts["diverged after resuming"] = counts.get("diverged after resuming", 0) + 1
            continue
        if not isinstance(raised, NeuroplugError):
            raw.append(f"case {case} {done}: {type(raised).__name__}: {raised}")
        counts["refused"] += 1
        if not unchanged(net, es):
            partial.append(f"case {case} {done}: {type(raised).__name__}: {raised}")
    print(f"\n{cases} mutated checkpoints: {counts}, raw errors {len(raw)}, partial restores {len(partial)}")
    assert not raw, "\n".join(raw[:20])
    assert not partial, "\n".join(partial[:20])
    assert counts["refused"] > cases // 2  # the fuzzer has teeth: most mutations are caught


def test_an_optimizer_that_cannot_be_copied_still_trains_and_resumes(tmp_path):
    """fit copies the caller's optimizer to put it back on failure; one holding a lock is simply not copied."""
    import threading

    class LockedSGD(npl.Optimizer):
        def __init__(self):
            self.lock = threading.Lock()

        def step(self, params, grads, lr):
            with self.lock:
                for p, g in zip(params, grads):
                    p -= lr * g

    net = network()
    history = npl.fit(net, X, Y, loss="cross_entropy", optimizer=LockedSGD(), lr=0.1, epochs=2, batch_size=8, seed=0)
    assert len(history["loss"]) == 2


class _AddsMetric(npl.Callback):
    """Adds ``twice_loss`` to the logs in on_epoch_end: a metric the history does not record."""

    adds_metrics = ("twice_loss",)

    def on_epoch_end(self, state):
        state.logs["twice_loss"] = 2 * state.logs["loss"]


@pytest.mark.parametrize("keep_best", ["val_accuracy", "val_loss", "twice_loss"])
def test_a_keep_best_checkpoint_resumes(tmp_path, keep_best):
    """progress.best is whatever keep_best's metric was -- larger-is-better metrics negated, and a
    metric a callback adds, which the history does not hold: no check may refuse any of them."""
    path = tmp_path / "run.ckpt.npz"
    args = dict(ARGS, validation_data=(X, Y), callbacks=[early_stopping(), _AddsMetric()])
    npl.fit(network(), X, Y, epochs=2, seed=0, checkpoint=npl.Checkpointing(path, keep_best=keep_best), **args)
    best = npl.load_checkpoint(path).best
    assert best is not None and (best < 0) == (keep_best == "val_accuracy")
    npl.fit(network(), X, Y, epochs=3, seed=0, checkpoint=npl.Checkpointing(path, keep_best=keep_best),
            resume=True, **args)
    assert npl.load_checkpoint(path).epoch == 3
