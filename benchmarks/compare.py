#!/usr/bin/env python
"""neuroplug side by side with a hand-written numpy loop, PyTorch and scikit-learn.

One process trains the same multilayer perceptrons on the same data, from the
same seeds, with each peer, and prints a table per workload: seconds per epoch
(the median over the timed epochs, after one warm-up epoch), microseconds per
step, held-out accuracy, and ratios against PyTorch eager CPU, scikit-learn and
the numpy loop measured in the same run (the peers' epochs are interleaved and
each ratio is the median of the per-round ratios, which cancels most of the
drift of a shared machine's load), with the load average before and after.
Then the machine: its float32 GEMM peak, the exact bound of an epoch (its
matrix-product FLOPs, counted exactly -- see ``Workload.gemm_flops`` -- over the
peak), the BLAS in use; neuroplug's own costs: the peak memory of a training run
against the data's bytes, ``import neuroplug`` with ``fit``, ``Sequential`` and
``Dense`` resolved against ``import numpy`` (whole processes, paired), and
``neuroplug list``; and last the targets of issue 16, each met or not.

Workloads
---------
mnist-mlp
    60,000 x 784 float32 inputs in [0, 1] (a quarter of them non-zero, like
    pixels), 10 classes given by a fixed random linear teacher, without a margin,
    and 10 % of the labels (training and held-out) replaced by another class at
    random: not separable (no peer can pass ~90 % held-out accuracy; after 5 epochs
    they are near 70 %, after 20 near 58 %, every peer alike), so the accuracy
    column tells the peers apart;
    784-256-128-10, ReLU, softmax + cross-entropy, plain SGD lr 0.1, batch 128,
    shuffled every epoch. Compute-bound. 20 timed epochs by default: with 5, the
    median ratio of one run moved between 1.023 and 1.032 (with 20, 0.998 to 1.025
    in five runs).
small-mlp
    20,000 x 20 float32 in [0, 1], 2 classes from a random 20-16-2 tanh teacher,
    without a margin, 10 % of the labels flipped; 20-32-32-2, tanh, batch 32, SGD
    lr 0.1. Overhead-bound: the Python work per step is what is measured. Its
    epochs take ~40 ms, so it runs 60 timed epochs by default: with 20, the median
    ratio of one run varied from 1.07 to 1.19 between four runs on a 2-core
    machine, with 100 from 1.085 to 1.109 in three.
digits
    The embedded digits with the ``neuroplug train`` defaults: 64-64-10, ReLU,
    He-uniform, SGD lr 0.5 halved every 10 epochs, batch 16, 30 epochs, 75/25 split.

Peers
-----
``numpy``          the leanest hand-written numpy loop we could write (one frame, ``out=``
                   everywhere, parameters in one buffer, the learning rate folded into the
                   fused softmax/cross-entropy gradient, one subtraction as the update, no
                   checks): the yardstick. It computes what fit computes for its History:
                   each batch's loss and predicted classes (the epoch's loss and accuracy).
``neuroplug``      ``npl.fit`` with the built-in components.
``neuroplug+plugin`` the same with the hidden activation replaced by a third-party-style
                   class registered in-process (``npl.register_activation``), written
                   the way the README tells a plugin author to (``forward`` + ``derivative``).
``pytorch``        eager CPU (``torch.set_num_threads(cores)``), ``nn.Sequential``,
                   ``optim.SGD``, ``CrossEntropyLoss``, batches by index.
``sklearn``        ``MLPClassifier(solver="sgd", momentum=0, alpha=0)``, one
                   ``partial_fit`` per epoch (its per-call input validation is included).

With the ``sklearn`` peer, each workload also times the *estimator path*: whole ``fit``
calls of ``npl.fit``, :class:`neuroplug.sklearn.NeuroplugClassifier` and ``MLPClassifier``
on the same data and settings, in turn; it reports what the wrapper adds to ``npl.fit``
(target at most 5 %) and the fit time against ``MLPClassifier`` (``--estimator-rounds``).

Every peer starts from the same weights (neuroplug's initializer, seed 0); numpy,
neuroplug and PyTorch also visit the samples in the same order, scikit-learn
shuffles with its own generator (seed 0). PyTorch, scikit-learn and
threadpoolctl are optional (``pip install -e ".[bench]"``); a peer that is not
installed is skipped, and said so.

Usage::

    python benchmarks/compare.py                # the full run (a few minutes on 2 cores)
    python benchmarks/compare.py --quick        # tiny data, a few seconds (the test suite runs this)
    python benchmarks/compare.py --workloads small-mlp --peers numpy,neuroplug --epochs 10

To compare against a current numpy, run it with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset if the machine sets them (``env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE python benchmarks/compare.py``); the BLAS line says which
kernel ran.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np

ALL_PEERS = ("numpy", "neuroplug", "neuroplug+plugin", "pytorch", "sklearn")
ALL_WORKLOADS = ("mnist-mlp", "small-mlp", "digits")
CORES = os.cpu_count() or 1


# ----------------------------------------------------------------------------- workloads
@dataclass
class Workload:
    name: str
    X: np.ndarray            # training inputs, float32, C-contiguous
    y: np.ndarray            # integer labels
    X_test: np.ndarray
    y_test: np.ndarray
    hidden: tuple[int, ...]
    activation: str          # "relu" or "tanh"
    init: str                # neuroplug initializer of every layer
    batch: int
    lr: float
    epochs: int              # total epochs; the first is the warm-up
    step_size: int | None = None   # halve the rate every step_size epochs (digits)
    note: str = ""

    @property
    def n_in(self) -> int:
        return self.X.shape[1]

    @property
    def n_out(self) -> int:
        return int(max(self.y.max(), self.y_test.max())) + 1

    @property
    def sizes(self) -> list[int]:
        return [self.n_in, *self.hidden, self.n_out]

    @property
    def params(self) -> int:
        s = self.sizes
        return sum(s[i] * s[i + 1] + s[i + 1] for i in range(len(s) - 1))

    @property
    def gemm_flops(self) -> int:
        """The multiply-adds (x2) of one epoch's matrix products, counted exactly.

        Per layer of ``fan_in x fan_out`` weights and per sample: the forward product
        ``2 fan_in fan_out``, the weight gradient ``2 fan_in fan_out`` and the input
        gradient ``2 fan_in fan_out`` -- except for the first layer, whose input
        gradient no peer computes (``6 * params * samples`` counts it, and the biases,
        and overcounts mnist-mlp by 40 %). Not counted (they are memory-bound and do
        not run at the GEMM rate): the bias additions and bias gradients (``2 fan_out``
        a sample), the activations and their derivatives, the softmax and the loss
        (a few operations per output element), and the update (``2 * params`` a step).
        """
        s = self.sizes
        per_sample = sum((6 if i else 4) * s[i] * s[i + 1] for i in range(len(s) - 1))
        return per_sample * self.X.shape[0]

    @property
    def elementwise_flops(self) -> int:
        """What :attr:`gemm_flops` leaves out, roughly: biases (add, gradient), one flop per
        activation value and derivative, 5 per softmax output, and the update, per epoch."""
        s, n = self.sizes, self.X.shape[0]
        per_sample = sum(2 * u + 2 * u for u in s[1:]) + 5 * s[-1]
        return per_sample * n + 2 * self.params * self.steps

    @property
    def steps(self) -> int:
        return -(-self.X.shape[0] // self.batch)

    def lr_at(self, epoch: int) -> float:
        return self.lr if self.step_size is None else self.lr * 0.5 ** (epoch // self.step_size)


def teacher_data(n: int, n_test: int, n_in: int, n_out: int, seed: int, density: float = 1.0,
                 hidden: int | None = None, keep: float = 1.0, noise: float = 0.0, chunk: int = 2048):
    """Inputs in [0, 1] (float32) and labels from a fixed random teacher network.

    Each input is uniform in [0, 1] with probability ``density``, else 0 (sparse,
    like MNIST's pixels, which keeps SGD at lr 0.1 stable on 784 inputs). The
    label is the arg-max of a random linear map of the centred input, or of a
    random ``n_in-hidden-n_out`` tanh network. Only the fraction ``keep`` of the
    drawn inputs farthest from the teacher's decision boundaries (by the gap between
    its two largest outputs) is kept, so that the task has a margin, like real
    data: the held-out accuracy after a few epochs is then stable from one run (one
    shuffling) to the next, and comparable between peers. Generated in place, in
    chunks, so that the process's peak memory stays close to the data's size.
    """
    rng = np.random.default_rng(seed)
    width = hidden or n_out
    A = rng.normal(0.0, 2.0 * math.sqrt(12.0 / (n_in * density)), size=(n_in, width)).astype(np.float32)
    B = rng.normal(0.0, 1.0, size=(hidden, n_out)).astype(np.float32) if hidden else None
    mean = np.float32(0.5 * density)

    def draw(rows: int) -> np.ndarray:
        x = rng.random((rows, n_in), dtype=np.float32)
        if density < 1.0:
            x *= rng.random(x.shape, dtype=np.float32) < density
        return x

    def logits(x: np.ndarray) -> np.ndarray:
        h = (x - mean) @ A
        return np.tanh(h) @ B if B is not None else h

    def gap(out: np.ndarray) -> np.ndarray:
        top = np.partition(out, out.shape[1] - 2, axis=1)
        return top[:, -1] - top[:, -2]

    threshold = float(np.quantile(gap(logits(draw(4096))), 1.0 - keep)) if keep < 1.0 else -np.inf
    result = []
    for rows in (n, n_test):
        X = np.empty((rows, n_in), dtype=np.float32)
        y = np.empty(rows, dtype=np.int64)
        filled = 0
        while filled < rows:
            x = draw(chunk)
            out = logits(x)
            ok = np.flatnonzero(gap(out) > threshold)[:rows - filled]
            X[filled:filled + ok.size] = x[ok]
            y[filled:filled + ok.size] = np.argmax(out[ok], axis=1)
            filled += ok.size
        if noise:
            flip = np.flatnonzero(rng.random(rows) < noise)
            y[flip] = (y[flip] + rng.integers(1, n_out, size=flip.size)) % n_out
        result += [X, y]
    return result


def mnist_data(quick: bool, test: bool = True):
    """The mnist-mlp data set (the memory measurement draws the very same)."""
    n, n_test = (600, 200) if quick else (60_000, 10_000)
    return teacher_data(n, n_test if test else 1, 784, 10, seed=1, density=0.25, noise=0.1)


def make_workload(name: str, quick: bool, epochs: int | None) -> Workload:
    if name == "mnist-mlp":
        X, y, Xt, yt = mnist_data(quick)
        return Workload(name, X, y, Xt, yt, hidden=(256, 128), activation="relu", init="he_uniform",
                        # 20 rounds: with 5, two runs gave 1.023 and 1.032 (the target is 1.03x)
                        batch=128, lr=0.1, epochs=(epochs or (1 if quick else 20)) + 1,
                        note="compute-bound")
    if name == "small-mlp":
        n, n_test = (400, 200) if quick else (20_000, 5_000)
        X, y, Xt, yt = teacher_data(n, n_test, 20, 2, seed=2, hidden=16, noise=0.1)
        return Workload(name, X, y, Xt, yt, hidden=(32, 32), activation="tanh", init="normalized_xavier",
                        # its epochs take ~40 ms: 60 rounds, not 5, before the median of their
                        # ratios settles within a few per cent (the target is 1.15x)
                        batch=32, lr=0.1, epochs=(epochs or (1 if quick else 60)) + 1,
                        note="overhead-bound: Python work per step")
    if name == "digits":
        from neuroplug import datasets

        X, y = datasets.load_digits()
        if quick:
            X, y = X[:400], y[:400]
        X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25, seed=0)
        return Workload(name, np.ascontiguousarray(X_train, dtype=np.float32), y_train,
                        np.ascontiguousarray(X_test, dtype=np.float32), y_test, hidden=(64,),
                        activation="relu", init="he_uniform", batch=16, lr=0.5,
                        epochs=epochs + 1 if epochs else (3 if quick else 30), step_size=10,
                        note="`neuroplug train` defaults")
    raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(ALL_WORKLOADS)}")


def initial_weights(w: Workload, seed: int = 0) -> list[np.ndarray]:
    """The starting weights ``[W1, b1, ...]`` (layout (fan_in, fan_out)), from neuroplug's initializer."""
    import neuroplug as npl

    net = npl.Sequential([npl.Dense(u, activation="identity", init=w.init) for u in w.sizes[1:]],
                         input_dim=w.n_in, seed=seed)
    return net.get_weights()


def epoch_orders(n: int, epochs: int, seed: int = 0) -> list[np.ndarray]:
    """The sample order of every epoch, exactly as ``npl.fit(shuffle=True, seed=seed)`` draws it."""
    rng = np.random.default_rng(seed)
    order = np.arange(n)
    orders = []
    for _ in range(epochs):
        rng.shuffle(order)
        orders.append(order.copy())
    return orders


# ----------------------------------------------------------------------------- peers
@dataclass
class Result:
    peer: str
    label: str
    times: list[float] = field(default_factory=list)   # seconds of every epoch, warm-up included
    accuracy: float = float("nan")
    final_loss: float = float("nan")
    train_accuracy: float = float("nan")   # of the last epoch, as fit logs it (numpy and neuroplug)
    error: str | None = None

    @property
    def timed(self) -> list[float]:
        return self.times[1:] if len(self.times) > 1 else self.times

    @property
    def median(self) -> float:
        return statistics.median(self.timed) if self.times else float("nan")


#: A peer's run: a generator that trains one epoch per ``next()`` (timing it into its
#: Result) and returns the Result, with the held-out accuracy, when the epochs are done.
#: The epochs of the peers are interleaved, so that a change in the machine's load
#: (it is shared) falls on every peer alike.
Epochs = Generator[None, None, Result]


def run_numpy(w: Workload, weights: list[np.ndarray], orders: list[np.ndarray]) -> Epochs:
    """The leanest hand-written numpy loop we can write: the yardstick the targets are stated against.

    One Python frame per epoch; per step only ufunc and matmul calls with ``out=``
    (nothing allocated), no check of any kind. The parameters lie back to back in
    one buffer and their gradients in another, the learning rate is folded into the
    output gradient (``d = (p - y) * lr/m``, so every gradient is already scaled)
    and the whole update is one subtraction over the parameter buffer. A faster
    reference makes neuroplug's ratio worse, i.e. more honest. It computes what
    ``npl.fit`` computes: the forward pass, the clipped cross-entropy of every batch
    (for the epoch's loss), the predicted classes of every batch (for the epoch's
    accuracy, which fit logs for a classifier), the fused softmax/cross-entropy
    gradient and the backward pass without the first layer's input gradient.
    """
    res = Result("numpy", "numpy (hand-written loop)")
    dt = np.float32
    sizes = w.sizes
    L = len(sizes) - 1
    # parameters and gradients back to back, [W1, b1, W2, b2, ...]
    flat = np.concatenate([p.reshape(-1) for p in weights]).astype(dt)
    gflat = np.zeros_like(flat)

    def views(buf):
        out, off = [], 0
        for p in weights:
            out.append(buf[off:off + p.size].reshape(p.shape))
            off += p.size
        return out[0::2], out[1::2]

    Ws, bs = views(flat)
    dWs, dbs = views(gflat)
    WTs = [W.T for W in Ws]
    X, n, B = w.X, w.X.shape[0], w.batch
    Y = np.zeros((n, w.n_out), dtype=dt)
    Y[np.arange(n), w.y] = 1
    relu = w.activation == "relu"
    eps = float(np.finfo(dt).eps)
    matmul, add, subtract, multiply = np.matmul, np.add, np.subtract, np.multiply
    maximum, exp, log, tanh, greater, divide, vdot = np.maximum, np.exp, np.log, np.tanh, np.greater, np.divide, np.vdot
    add_reduce, max_reduce = np.add.reduce, np.maximum.reduce

    def plan(m):
        x, yb = np.empty((m, w.n_in), dt), np.empty((m, w.n_out), dt)
        acts = [np.empty((m, u), dt) for u in sizes[1:]]
        ds = [np.empty((m, u), dt) for u in sizes[1:]]
        fwd = tuple(zip([x] + acts[:-2], Ws[:-1], bs[:-1], acts[:-1]))
        bwd = tuple((acts[i - 1].T, ds[i], dWs[i], dbs[i], WTs[i], ds[i - 1], acts[i - 1])
                    for i in range(L - 1, 0, -1))
        return (x, yb, fwd, acts[-2] if L > 1 else x, Ws[-1], bs[-1], acts[-1], np.empty((m, 1), dt),
                np.empty((m, w.n_out), dt), ds[-1], bwd, x.T, ds[0], dWs[0], dbs[0])

    plans = {m: plan(m) for m in {B, n - (w.steps - 1) * B}}
    pred, labels = np.empty(n, dtype=np.intp), w.y
    rng, order = np.random.default_rng(0), np.arange(n)  # the orders of epoch_orders, drawn in the timing
    for epoch, expected in enumerate(orders):
        t0 = time.perf_counter()
        rng.shuffle(order)  # as fit does, inside its epoch
        lr = w.lr_at(epoch)
        total = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            m = idx.shape[0]
            x, yb, fwd, h, W_out, b_out, p, rs, tmp, d, bwd, xT, d0, dW0, db0 = plans[m]
            X.take(idx, 0, x, "clip")
            Y.take(idx, 0, yb, "clip")
            for a, W, b, z in fwd:
                matmul(a, W, out=z)
                add(z, b, z)
                if relu:
                    maximum(z, 0.0, out=z)
                else:
                    tanh(z, z)
            matmul(h, W_out, out=p)
            add(p, b_out, p)
            max_reduce(p, 1, None, rs, True)      # softmax, in place
            subtract(p, rs, p)
            exp(p, p)
            add_reduce(p, 1, None, rs, True)
            divide(p, rs, p)
            maximum(p, eps, out=tmp)              # the cross-entropy of the batch
            log(tmp, tmp)
            total -= float(vdot(yb, tmp))
            p.argmax(1, pred[start:start + m])    # the predicted classes, for the epoch's accuracy
            subtract(p, yb, d)                    # dL/dz of the output, times lr
            multiply(d, (1.0 / m) * lr, d)
            for aT, d, dW, db, WT, g, h in bwd:
                matmul(aT, d, out=dW)
                add_reduce(d, 0, None, db)
                matmul(d, WT, out=g)
                if relu:
                    multiply(g, greater(h, 0.0), g)
                else:
                    multiply(h, h, h)             # the activation is not needed any more
                    subtract(1.0, h, h)
                    multiply(g, h, g)
            matmul(xT, d0, out=dW0)               # the first layer: no input gradient
            add_reduce(d0, 0, None, db0)
            subtract(flat, gflat, flat)           # the whole update, lr already in
        train_accuracy = np.count_nonzero(pred == labels[order]) / n
        res.times.append(time.perf_counter() - t0)
        res.final_loss = total / n
        res.train_accuracy = train_accuracy
        assert np.array_equal(order, expected), "the hand-written loop lost the common sample order"
        yield
    a = w.X_test
    for i in range(L):
        a = a @ Ws[i] + bs[i]
        if i < L - 1:
            a = np.maximum(a, 0) if relu else np.tanh(a)
    res.accuracy = float(np.mean(np.argmax(a, axis=1) == w.y_test))
    return res


def _plugin_classes():
    """Third-party-style activations, written as the README's "Writing a plugin" shows."""
    import neuroplug as npl

    class BenchReLU(npl.Activation):
        """ReLU as a plugin author writes it."""

        def forward(self, z, out=None):
            return np.maximum(z, 0, out=out)

        def derivative(self, z, a):
            return (z > 0).astype(z.dtype)

    class BenchTanh(npl.Activation):
        """tanh as a plugin author writes it."""

        def forward(self, z, out=None):
            return np.tanh(z, out=out)

        def derivative(self, z, a):
            return 1 - a * a

    return {"relu": ("bench_relu", BenchReLU), "tanh": ("bench_tanh", BenchTanh)}


def run_neuroplug(w: Workload, weights: list[np.ndarray], plugin: bool = False) -> Epochs:
    """``npl.fit``, one epoch per step of the generator.

    fit runs in a thread and a callback holds it at the start of each epoch until
    the generator is advanced; the epoch is timed from ``on_epoch_begin`` to
    ``on_epoch_end``, i.e. the whole epoch loop of fit (shuffle and weight snapshot
    included), without its one-off set-up.
    """
    import threading

    import neuroplug as npl

    act = w.activation
    label = "neuroplug (built-in components)"
    if plugin:
        name, cls = _plugin_classes()[act]
        if npl.get_registry().resolve_or_none("activation", name) is None:
            npl.register_activation(name)(cls)
        act = name
        label = f"neuroplug + plugin {w.activation} (in-process {name})"
    res = Result("neuroplug+plugin" if plugin else "neuroplug", label)
    layers = [npl.Dense(u, activation=act, init=w.init) for u in w.hidden]
    layers.append(npl.Dense(w.n_out, activation="softmax", init=w.init))
    net = npl.Sequential(layers, input_dim=w.n_in, seed=0)
    net.set_weights(weights)
    go, done = threading.Event(), threading.Event()
    box: dict[str, Any] = {}

    class Stepper(npl.Callback):
        def on_epoch_begin(self, state):
            go.wait()
            go.clear()
            self.t0 = time.perf_counter()

        def on_epoch_end(self, state):
            res.times.append(time.perf_counter() - self.t0)
            done.set()

    schedule = "constant" if w.step_size is None else \
        {"name": "step_decay", "config": {"step_size": w.step_size, "gamma": 0.5}}

    def train():
        try:
            box["history"] = npl.fit(net, w.X, w.y, loss="cross_entropy", optimizer="sgd", lr=w.lr,
                                     schedule=schedule, epochs=w.epochs, batch_size=w.batch, seed=0,
                                     callbacks=[Stepper()])
        except BaseException as exc:  # handed to the generator
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=train, name=f"bench-{res.peer}", daemon=True)
    thread.start()
    for _ in range(w.epochs):
        go.set()
        done.wait()
        done.clear()
        if "error" in box:
            raise box["error"]
        yield
    thread.join()
    if "error" in box:
        raise box["error"]
    res.final_loss = box["history"]["loss"][-1]
    res.train_accuracy = box["history"]["accuracy"][-1]
    res.accuracy = float(np.mean(net.predict_classes(w.X_test) == w.y_test))
    return res


def run_pytorch(w: Workload, weights: list[np.ndarray], orders: list[np.ndarray]) -> Epochs:
    import torch
    from torch import nn

    torch.set_num_threads(CORES)
    torch.manual_seed(0)
    res = Result("pytorch", f"pytorch {torch.__version__} eager CPU ({torch.get_num_threads()} threads)")
    mods: list[nn.Module] = []
    for i in range(len(w.sizes) - 1):
        lin = nn.Linear(w.sizes[i], w.sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[2 * i].T)))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        mods.append(lin)
        if i < len(w.sizes) - 2:
            mods.append(nn.ReLU() if w.activation == "relu" else nn.Tanh())
    model = nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=w.lr)
    sched = None if w.step_size is None else torch.optim.lr_scheduler.StepLR(opt, w.step_size, 0.5)
    loss_fn = nn.CrossEntropyLoss()
    X = torch.from_numpy(w.X)
    y = torch.from_numpy(w.y.astype(np.int64))
    n, B = X.shape[0], w.batch
    model.train()
    for order in orders:
        t0 = time.perf_counter()
        perm = torch.from_numpy(order)
        total = 0.0
        for start in range(0, n, B):
            idx = perm[start:start + B]
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        if sched is not None:
            sched.step()
        res.times.append(time.perf_counter() - t0)
        res.final_loss = total / n
        yield
    with torch.no_grad():
        pred = model(torch.from_numpy(w.X_test)).argmax(dim=1).numpy()
    res.accuracy = float(np.mean(pred == w.y_test))
    return res


def run_sklearn(w: Workload, weights: list[np.ndarray]) -> Epochs:
    """``MLPClassifier`` from the same starting weights, one ``partial_fit`` per epoch.

    scikit-learn has no way to pass initial weights: one ``partial_fit`` on the first
    batch sets the model up (outside the timing), then the weights are overwritten in
    place with the common ones (plain SGD keeps no state that this step could leave
    behind). With two classes scikit-learn has one logistic output; it gets the
    difference of the two softmax columns, which computes the same function.
    """
    import warnings

    import sklearn
    from sklearn.neural_network import MLPClassifier

    binary = w.n_out == 2
    res = Result("sklearn", f"scikit-learn {sklearn.__version__} MLPClassifier"
                 + (" (1 logistic output)" if binary else ""))
    clf = MLPClassifier(hidden_layer_sizes=w.hidden, activation=w.activation, solver="sgd",
                        learning_rate_init=w.lr, learning_rate="constant", momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=w.batch, shuffle=True,
                        random_state=0)
    classes = np.arange(w.n_out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(w.X[:w.batch], w.y[:w.batch], classes=classes)
    for i, (W, b) in enumerate(zip(weights[0::2], weights[1::2])):
        if binary and i == len(w.hidden):
            W, b = W[:, 1:] - W[:, :1], b[1:] - b[:1]
        clf.coefs_[i][...] = W
        clf.intercepts_[i][...] = b
    for epoch in range(w.epochs):
        if epoch and w.step_size is not None:
            clf._optimizer.learning_rate = w.lr_at(epoch)  # StepLR; sklearn has no such schedule
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(w.X, w.y, classes=classes)
        res.times.append(time.perf_counter() - t0)
        res.final_loss = float(clf.loss_)
        yield
    res.accuracy = float(np.mean(clf.predict(w.X_test) == w.y_test))
    return res


def estimator_path(w: Workload, weights: list[np.ndarray], rounds: int, gap: float) -> dict[str, Any]:
    """Whole ``fit`` calls of the same training, in turn for ``rounds`` rounds: ``npl.fit``,
    ``neuroplug.sklearn.NeuroplugClassifier.fit`` and ``MLPClassifier.fit``.

    The three train ``w.epochs`` epochs of plain SGD at ``w.lr`` (constant: the estimator
    path of a step-decay workload is timed at its first rate) with the same batch size from
    the same starting weights; scikit-learn's early stopping and tolerance are off so it runs
    every epoch. The estimator's wrapper cost is its input validation, target encoding and
    set-up around the same ``npl.fit`` -- the ratio of the two, median over the rounds, is
    what the wrapper adds.
    """
    import warnings

    import neuroplug as npl
    from neuroplug.sklearn import NeuroplugClassifier
    from sklearn.neural_network import MLPClassifier

    def network() -> Any:
        layers = [npl.Dense(u, activation=w.activation, init=w.init) for u in w.hidden]
        net = npl.Sequential(layers + [npl.Dense(w.n_out, activation="softmax", init=w.init)],
                             input_dim=w.n_in, seed=0)
        net.set_weights(weights)
        return net

    settings = dict(loss="cross_entropy", optimizer="sgd", lr=w.lr, epochs=w.epochs, batch_size=w.batch)

    def run_fit() -> tuple[float, float]:
        net = network()
        t0 = time.perf_counter()
        npl.fit(net, w.X, w.y, seed=0, progress=False, **settings)
        elapsed = time.perf_counter() - t0
        return elapsed, float(np.mean(net.predict_classes(w.X_test) == w.y_test))

    own: list[float] = []  # the estimator's time outside its npl.fit call: what the wrapper itself does

    def run_estimator() -> tuple[float, float]:
        clf = NeuroplugClassifier(hidden_layer_sizes=w.hidden, activation=w.activation, init=w.init,
                                  dtype="float32", random_state=0, **settings)
        # the same starting weights: the network the estimator builds is given them
        original = clf._build
        clf._build = lambda *a: (lambda net: (net.set_weights(weights), net)[1])(original(*a))
        inner, fit = [], npl.fit

        def timed_fit(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fit(*args, **kwargs)
            finally:
                inner.append(time.perf_counter() - t)

        npl.fit = timed_fit  # the estimator calls neuroplug.fit
        try:
            t0 = time.perf_counter()
            clf.fit(w.X, w.y)
            elapsed = time.perf_counter() - t0
        finally:
            npl.fit = fit
        own.append(elapsed - sum(inner))
        return elapsed, float(np.mean(clf.predict(w.X_test) == w.y_test))

    def run_mlp() -> tuple[float, float]:
        clf = MLPClassifier(hidden_layer_sizes=w.hidden, activation=w.activation, solver="sgd",
                            learning_rate_init=w.lr, learning_rate="constant", momentum=0.0,
                            nesterovs_momentum=False, alpha=0.0, batch_size=w.batch, shuffle=True,
                            max_iter=w.epochs, tol=0.0, n_iter_no_change=w.epochs + 1, random_state=0)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as asked
            clf.fit(w.X, w.y)
        elapsed = time.perf_counter() - t0
        return elapsed, float(np.mean(clf.predict(w.X_test) == w.y_test))

    runs = {"npl.fit": run_fit, "NeuroplugClassifier.fit": run_estimator, "MLPClassifier.fit": run_mlp}
    times: dict[str, list[float]] = {k: [] for k in runs}
    accuracy: dict[str, float] = {}
    for r in range(rounds):
        names = list(runs)
        for name in names[r % 3:] + names[:r % 3]:
            if gap:
                time.sleep(gap)
            elapsed, accuracy[name] = runs[name]()
            times[name].append(elapsed)
    wrapper = statistics.median(b / a for a, b in zip(times["npl.fit"], times["NeuroplugClassifier.fit"]))
    mlp = statistics.median(c / b for b, c in zip(times["NeuroplugClassifier.fit"], times["MLPClassifier.fit"]))
    print(f"\n   estimator path: whole fit calls, {w.epochs} epochs, median of {rounds} rounds (in turn)")
    for name in runs:
        print(f"   {name:<26} {statistics.median(times[name]):8.3f} s   test acc {accuracy[name] * 100:6.2f}%")
    own_share = statistics.median(o / t for o, t in zip(own, times["NeuroplugClassifier.fit"]))
    print(f"   the wrapper adds {100 * (wrapper - 1):+.1f} % to npl.fit (target <= +5 %; median of the per-round "
          f"ratios); its own work (validation, encoding, set-up outside npl.fit) is "
          f"{1000 * statistics.median(own):.0f} ms a call = {100 * own_share:.1f} % of the estimator's fit")
    print(f"   MLPClassifier.fit takes {mlp:.2f}x the estimator's time")
    return {"times": times, "accuracy": accuracy, "wrapper_ratio": wrapper, "mlp_ratio": mlp,
            "wrapper_own_s": own, "wrapper_own_share": own_share}


def interleave(runners: dict[str, Callable[[], Epochs]], epochs: int, gap: float = 0.0) -> list[Result]:
    """Run the peers' epochs in turn (epoch 1 of each, then epoch 2 of each, ...).

    The order of the peers rotates from one epoch to the next. Before each epoch the
    process sleeps ``gap`` seconds, so that the worker threads of the previous peer's
    libraries (OpenBLAS, OpenMP), which spin for a while after their last task,
    are asleep and do not compete with the next peer for the cores. A peer that
    fails is reported with its error; the others go on.
    """
    names = list(runners)
    gens = {p: runners[p]() for p in names}
    results: dict[str, Result] = {}

    def advance(peer: str) -> None:
        try:
            next(gens[peer])
        except StopIteration as stop:
            results[peer] = stop.value
            del gens[peer]
        except Exception as exc:  # one broken peer must not hide the others
            results[peer] = Result(peer, peer, error=f"{type(exc).__name__}: {exc}")
            del gens[peer]

    for epoch in range(epochs):
        k = epoch % len(names) if names else 0
        for peer in names[k:] + names[:k]:
            if peer in gens:
                if gap:
                    time.sleep(gap)
                advance(peer)
    for peer in list(gens):  # let each finish: held-out accuracy
        advance(peer)
        if peer in gens:
            results[peer] = Result(peer, peer, error="ran more epochs than asked")
            gens.pop(peer).close()
    return [results[p] for p in names]


def available(peer: str) -> str | None:
    """None when the peer can run, else why not."""
    mod = {"pytorch": "torch", "sklearn": "sklearn"}.get(peer)
    if mod is None:
        return None
    try:
        __import__(mod)
    except ImportError:
        return f"{mod} is not installed (pip install -e \".[bench]\")"
    return None


# ----------------------------------------------------------------------------- machine
def gemm_peak(n: int, repeats: int = 5) -> float:
    """float32 ``np.matmul`` of two n x n matrices: best GFLOP/s over ``repeats``."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of the CPU time in use (by anything) over ``seconds``, from /proc/stat (Linux)."""
    def snap():
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    try:
        idle0, total0 = snap()
        time.sleep(seconds)
        idle1, total1 = snap()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    numpy_dir = Path(np.__file__).resolve().parent.parent
    rows = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    mine = [i for i in rows if str(Path(i["filepath"]).resolve()).startswith(str(numpy_dir))
            and "numpy" in i["filepath"]] or rows
    return "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture') or '?'} kernel, "
                     f"{i['num_threads']} threads)" for i in mine) or "none found"


def timed_process(cmd: list[str], repeats: int) -> float:
    """Median wall time (s) of running ``cmd`` to completion, ``repeats`` times."""
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t0)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return statistics.median(walls)


def _maxrss_mb(value: float) -> float:
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def neuroplug_cmd() -> list[str]:
    script = Path(sys.executable).with_name("neuroplug")
    if script.exists():
        return [str(script)]
    found = shutil.which("neuroplug")
    return [found] if found else [sys.executable, "-m", "neuroplug"]


def _peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM: since its exec, not inherited from its parent)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def memory_child(quick: bool) -> None:
    """``--memory-child``: train neuroplug on mnist-mlp for one epoch; print what memory it took."""
    import neuroplug as npl

    npl.Sequential  # noqa: B018 - import the training modules before the baseline reading
    import neuroplug.training  # noqa: F401

    base = _peak_rss_mb()
    X, y, _, _ = mnist_data(quick, test=False)  # the training set only: that is "the data set"
    data = X.nbytes + y.nbytes
    after_data = _peak_rss_mb()
    layers = [npl.Dense(u, activation="relu", init="he_uniform") for u in (256, 128)]
    layers.append(npl.Dense(10, activation="softmax", init="he_uniform"))
    net = npl.Sequential(layers, input_dim=784, seed=0)
    npl.fit(net, X, y, loss="cross_entropy", lr=0.1, epochs=1, batch_size=128, seed=0)
    print(json.dumps({"data_mb": data / 2 ** 20, "baseline_mb": base, "after_data_mb": after_data,
                      "peak_mb": _peak_rss_mb()}))


# ----------------------------------------------------------------------------- report
def fmt(x: float, spec: str, na: str = "-") -> str:
    return na if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def paired_ratio(a: Result, b: Result) -> float:
    """Median over the timed epochs of ``a``'s epoch time over ``b``'s *in the same round*.

    The peers' epochs are interleaved, so epoch k of every peer ran within a few
    seconds: pairing them cancels the slow changes of a shared machine's load,
    which a ratio of the two medians would not.
    """
    pairs = [x / y for x, y in zip(a.timed, b.timed) if y > 0]
    return statistics.median(pairs) if pairs else float("nan")


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``), or "?" where there is none."""
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def print_workload(w: Workload, results: list[Result], skipped: dict[str, str], peak: float,
                   load_before: str) -> dict:
    bound = w.gemm_flops / (peak * 1e9)
    theory = 6.0 * w.params * w.X.shape[0] / (peak * 1e9)
    timed = max(w.epochs - 1, 1)
    decay = "" if w.step_size is None else f" halved every {w.step_size} epochs"
    load_after = loadavg()
    print(f"\n== {w.name}: {w.X.shape[0]:,} x {w.n_in} train / {w.X_test.shape[0]:,} test, "
          f"{'-'.join(map(str, w.sizes))} {w.activation}/softmax, {w.params:,} params, batch {w.batch} "
          f"({w.steps} steps/epoch), SGD lr {w.lr}{decay}; {w.epochs} epochs: 1 warm-up + {timed} timed "
          f"({w.note})")
    print(f"   load average {load_before} before the workload, {load_after} after it")
    print(f"   exact bound = matrix-product FLOPs / GEMM peak = {w.gemm_flops / 1e9:.3f} GFLOP / {peak:.1f} "
          f"GFLOP/s = {bound * 1e3:.2f} ms an epoch (6*params*samples would say {theory * 1e3:.2f} ms, "
          f"{theory / bound:.2f}x; the uncounted element-wise work is ~{w.elementwise_flops / 1e6:.1f} MFLOP, "
          f"memory-bound)")
    print("   s/epoch = median of the timed epochs; xPEER = median of the per-round ratios (the peers' epochs "
          "are interleaved); xbound = s/epoch over the exact bound")
    by = {r.peer: r for r in results if r.error is None}
    refs = {k: by[k] for k in ("pytorch", "sklearn", "numpy") if k in by}
    head = (f"   {'peer':<52} {'s/epoch':>9} {'spread':>7} {'us/step':>9} {'test acc':>9} "
            f"{'xtorch':>7} {'xsklearn':>8} {'xnumpy':>7} {'xbound':>7}")
    print(head)
    print("   " + "-" * (len(head) - 3))
    rows = {}
    for r in results:
        if r.error is not None:
            print(f"   {r.label:<52} failed: {r.error}")
            continue
        med = r.median
        spread = (max(r.timed) - min(r.timed)) / med * 100 if len(r.timed) > 1 else 0.0
        ratio = {k: paired_ratio(r, ref) for k, ref in refs.items()}
        print(f"   {r.label:<52} {med:>9.4f} {spread:>6.0f}% {med / w.steps * 1e6:>9.1f} "
              f"{r.accuracy * 100:>8.2f}% {fmt(ratio.get('pytorch'), '7.2f'):>7} "
              f"{fmt(ratio.get('sklearn'), '8.2f'):>8} {fmt(ratio.get('numpy'), '7.2f'):>7} "
              f"{med / bound:>7.2f}")
        rows[r.peer] = {"s_per_epoch": med, "us_per_step": med / w.steps * 1e6, "accuracy": r.accuracy,
                        "epoch_times": r.times, "final_loss": r.final_loss,
                        "train_accuracy": r.train_accuracy,
                        **{f"x{k}": v for k, v in ratio.items()}, "x_bound": med / bound,
                        "x_theory": med / theory}
    for peer, why in skipped.items():
        print(f"   {peer:<52} skipped: {why}")
    print("   spread = (slowest - fastest timed epoch) / median: the noise of the measurement")
    if "neuroplug" in by and "neuroplug+plugin" in by:
        a, b = by["neuroplug"], by["neuroplug+plugin"]
        ratio = paired_ratio(b, a)
        print(f"   plugin-style {w.activation} vs built-in: {ratio:.3f}x the epoch time "
              f"({(ratio - 1) * a.median / w.steps * 1e6:+.1f} us/step)")
    if "neuroplug" in by:
        accs = [r.accuracy for p, r in by.items() if p not in ("neuroplug", "neuroplug+plugin")]
        if accs:
            gap = max(abs(by["neuroplug"].accuracy - a) for a in accs) * 100
            print(f"   test accuracy: neuroplug within {gap:.2f} points of every peer (target <= 1 point)")
    return {"bound_s": bound, "theory_s": theory, "gemm_flops": w.gemm_flops, "params": w.params,
            "steps": w.steps, "peers": rows, "loadavg": [load_before, load_after]}


def paired_process_ratio(a: list[str], b: list[str], rounds: int) -> tuple[float, float, float]:
    """Whole processes ``a`` and ``b`` run in turn (ABBA), ``rounds`` times each: the median wall
    times of both and the median of the per-round ratios ``a / b``."""
    ta, tb = [], []
    for r in range(rounds):
        first, second = (a, b) if r % 2 == 0 else (b, a)
        times = {}
        for cmd in (first, second):
            times[id(cmd)] = timed_process(cmd, 1)
        ta.append(times[id(a)])
        tb.append(times[id(b)])
    return (statistics.median(ta), statistics.median(tb),
            statistics.median(x / y for x, y in zip(ta, tb)))


def compile_package() -> str:
    """Compile neuroplug's modules to bytecode (``__pycache__``), as an installed package has them.

    numpy's are compiled when pip installs it; an editable install compiles neuroplug's
    on first import -- unless ``PYTHONDONTWRITEBYTECODE`` is set, when every process
    would compile them from source again and the import figures would measure the
    compiler, not the imports. ``compileall`` writes them regardless.
    """
    import compileall
    import importlib.util

    dirs = []
    for package in ("neuroplug", "neuroplug.plugins", "neuroplug.datasets"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            dirs += list(spec.submodule_search_locations)
    ok = all(compileall.compile_dir(d, quiet=2) for d in dict.fromkeys(dirs))
    flag = " (PYTHONDONTWRITEBYTECODE is set: without this every process would compile them)" \
        if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return (f"neuroplug's modules compiled to bytecode first, as numpy's are{flag}" if ok
            else "note: neuroplug's modules could not all be compiled to bytecode: the import figures include compiling")


def summary(report: dict[str, Any]) -> None:
    """The targets of issue 16, each with its figure and whether it is met."""
    rows = []
    for name, limit in (("small-mlp", 1.15), ("mnist-mlp", 1.03)):
        peers = report["workloads"].get(name, {}).get("peers", {})
        if "neuroplug" in peers and "numpy" in peers:
            x = peers["neuroplug"]["xnumpy"]
            rows.append((f"{name}: neuroplug / hand-written loop", f"{x:.3f}x", f"<= {limit}x", x <= limit))
            rows.append((f"{name}: neuroplug / exact bound", f"{peers['neuroplug']['x_bound']:.2f}x", "(report)", None))
    proc = report.get("process")
    if proc:
        rows.append(("import + fit, Sequential, Dense / import numpy", f"{proc['import_ratio']:.2f}x", "<= 1.5x",
                     proc["import_ratio"] <= 1.5))
        rows.append(("neuroplug list", f"{proc['list_s']:.3f} s", "<= 0.15 s", proc["list_s"] <= 0.15))
        mem = proc["memory"]
        r = mem["peak_mb"] / mem["data_mb"]
        rows.append(("peak RSS of a mnist-mlp fit / data bytes", f"{r:.2f}x", "<= 1.5x", r <= 1.5))
    if not rows:
        return
    print(f"\n== targets (load average {loadavg()})")
    for what, fig, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "NOT met")
        print(f"   {what:<50} {fig:>9}  {target:<10} {verdict}")
    report["targets"] = [dict(zip(("what", "figure", "target", "met"), r)) for r in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny data and few epochs (seconds; for tests)")
    ap.add_argument("--epochs", type=int,
                    help="timed epochs after the warm-up (default: mnist-mlp 20, small-mlp 60, digits 29)")
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS), help="comma-separated subset of "
                    + ", ".join(ALL_WORKLOADS))
    ap.add_argument("--peers", default=",".join(ALL_PEERS), help="comma-separated subset of " + ", ".join(ALL_PEERS))
    ap.add_argument("--gap", type=float, default=None, help="seconds of sleep before each peer's epoch "
                    "(default 0.1, quick 0): lets the previous peer's BLAS/OpenMP threads go idle")
    ap.add_argument("--no-process", action="store_true", help="skip the import/list/memory measurements")
    ap.add_argument("--estimator-rounds", type=int, default=3, metavar="N",
                    help="rounds of the estimator path (whole fit calls of npl.fit, NeuroplugClassifier and "
                         "MLPClassifier; with the sklearn peer; 0 skips it; default 3, quick 1)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.gap is None:
        args.gap = 0.0 if args.quick else 0.1
    if args.memory_child:
        memory_child(args.quick)
        return 0
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    bad = [p for p in peers if p not in ALL_PEERS]
    if bad:
        ap.error(f"unknown peers {bad}; choose from {', '.join(ALL_PEERS)}")
    workloads = [s.strip() for s in args.workloads.split(",") if s.strip()]

    import neuroplug

    print("neuroplug benchmark" + (" (QUICK MODE: tiny data, numbers are not meaningful)" if args.quick else ""))
    print(f"  python {platform.python_version()}, numpy {np.__version__}, neuroplug {neuroplug.__version__}, "
          f"{CORES} cores ({platform.processor() or platform.machine()})")
    print(f"  BLAS: {blas_info()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var):
            print(f"  note: {var}={os.environ[var]} is set")
    skipped = {p: why for p in peers if (why := available(p))}
    for p, why in skipped.items():
        print(f"  skipping {p}: {why}")
    print(f"  load average: {loadavg()} (1, 5, 15 min)")
    busy = cpu_busy()
    if busy is not None:
        print(f"  CPU busy before the run: {busy * 100:.0f} % of {CORES} cores"
              + (" -- the machine is not idle: multi-threaded peers suffer most" if busy > 0.1 else ""))
    n, reps = (256, 2) if args.quick else (2048, 10)
    peak = gemm_peak(n, repeats=reps)
    print(f"  GEMM peak: float32 np.matmul {n}^3: {peak:.1f} GFLOP/s (best of {reps})")
    report: dict[str, Any] = {"gemm_gflops": peak, "blas": blas_info(), "cores": CORES, "workloads": {}}

    for name in workloads:
        w = make_workload(name, args.quick, args.epochs)
        peak = max(peak, gemm_peak(n, repeats=reps))  # the best seen: a busy moment does not flatter the bound
        weights = initial_weights(w)
        orders = epoch_orders(w.X.shape[0], w.epochs)
        runners: dict[str, Callable[[], Epochs]] = {
            "numpy": lambda: run_numpy(w, weights, orders),
            "neuroplug": lambda: run_neuroplug(w, weights),
            "neuroplug+plugin": lambda: run_neuroplug(w, weights, plugin=True),
            "pytorch": lambda: run_pytorch(w, weights, orders),
            "sklearn": lambda: run_sklearn(w, weights),
        }
        load_before = loadavg()
        results = interleave({p: runners[p] for p in peers if p not in skipped}, w.epochs, args.gap)
        report["workloads"][name] = print_workload(w, results, skipped, peak, load_before)
        if args.estimator_rounds and "sklearn" in peers and "sklearn" not in skipped:
            report["workloads"][name]["estimator"] = estimator_path(
                w, weights, 1 if args.quick else args.estimator_rounds, args.gap)

    if not args.quick:
        again = gemm_peak(n, repeats=reps)
        print(f"\n  GEMM peak again at the end: {again:.1f} GFLOP/s (the tables used {peak:.1f})")
        report["gemm_gflops_end"] = again
    if not args.no_process:
        print(f"\n== process costs (whole processes, median wall time; load average {loadavg()})")
        print(f"   {compile_package()}")
        rounds = 1 if args.quick else 21
        base = timed_process([sys.executable, "-c", "pass"], 1 if args.quick else 7)
        resolved = "import neuroplug as npl; npl.fit, npl.Sequential, npl.Dense"
        imp, imp_np, imp_ratio = paired_process_ratio([sys.executable, "-c", resolved],
                                                      [sys.executable, "-c", "import numpy"], rounds)
        lazy = timed_process([sys.executable, "-c", "import neuroplug"], 1 if args.quick else 7)
        lst = timed_process(neuroplug_cmd() + ["list"], 1 if args.quick else 11)
        print(f"   python -c pass                      {base:.3f} s")
        print(f"   python -c 'import numpy'            {imp_np:.3f} s")
        print(f"   python -c 'import neuroplug'        {lazy:.3f} s  (lazy: loads nothing, proves nothing)")
        print(f"   import neuroplug + npl.fit, npl.Sequential, npl.Dense resolved: {imp:.3f} s = {imp_ratio:.2f}x "
              f"'import numpy' (median of {rounds} ABBA-paired ratios; target <= 1.5x)")
        print(f"   neuroplug list                      {lst:.3f} s  (target <= 0.15 s)")
        out = subprocess.run([sys.executable, __file__, "--memory-child"] + (["--quick"] if args.quick else []),
                             capture_output=True, text=True, check=True)
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"   peak memory, neuroplug mnist-mlp 1 epoch: {mem['peak_mb']:.0f} MB peak RSS = "
              f"{mem['peak_mb'] / mem['data_mb']:.2f}x the data set ({mem['data_mb']:.0f} MB train X + y); "
              f"interpreter + imports {mem['baseline_mb']:.0f} MB, after generating the data "
              f"{mem['after_data_mb']:.0f} MB (target <= 1.5x)")
        report["process"] = {"python_s": base, "import_s": lazy, "import_resolved_s": imp, "import_numpy_s": imp_np,
                             "import_ratio": imp_ratio, "list_s": lst, "memory": mem, "loadavg": loadavg()}
    summary(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
