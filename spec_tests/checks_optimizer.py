r"""Spec checks: optimizers and the learning rate.

An optimizer is set up once with the parameter arrays (``setup(params)``, as ``fit``
does) and then updates them in place with ``step(params, grads, lr)``.

*Contract* checks (every optimizer): interface, in-place updates in float32 and
float64, gradients left alone, determinism, state and config round trips, descent
on a convex quadratic, ``lr = 0`` does nothing, and a larger learning rate makes a
larger adjustment (the notes' "if the rate is more, more adjustments are done").

*Formula* checks (optimizers claiming ``sgd``, without momentum or weight decay):
one step moves the weights by exactly :math:`-\eta\,\partial L/\partial w`, both for
direct calls and for one epoch of ``neuroplug.fit`` on a small network.

Isolation: every check passes fresh copies of the gradients and reads the
parameters back from the list it passed, so an optimizer that mutates the
gradients fails OPT-NO-GRAD-MUTATION only, and one that rebinds the list entries
fails OPT-INPLACE only.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .framework import Subject, assert_close, fail, rebuild_from_config, skip, spec_check

DTYPES = (np.float32, np.float64)
#: Shapes of the test parameters: a weight matrix and a bias vector.
SHAPES = ((4, 3), (3,))


# ----------------------------------------------------------------------------- helpers
def _params(subject: Subject, salt: int, dtype: Any = np.float64) -> list[np.ndarray]:
    rng = subject.rng(salt)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grads(subject: Subject, salt: int, k: int, dtype: Any = np.float64) -> list[list[np.ndarray]]:
    """``k`` gradient lists (each a fresh list of fresh arrays)."""
    rng = subject.rng(salt)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(k)]


def _copies(arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [a.copy() for a in arrays]


def _run(opt: Any, params: list[np.ndarray], grads: list[list[np.ndarray]], lrs: list[float],
         setup: bool = True) -> list[np.ndarray]:
    """Set up (optionally) and take one step per gradient list; returns the (possibly rebound) list."""
    plist = list(params)
    if setup:
        opt.setup(plist)
    for g, lr in zip(grads, lrs):
        opt.step(plist, _copies(g), lr)
    return plist


def _equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.asarray(x).shape == np.asarray(y).shape
                                    and np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def _difference(a: list[np.ndarray], b: list[np.ndarray]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return f"params[{i}] shapes {x.shape} vs {y.shape}"
        diff = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        if diff.any():
            j = tuple(int(k) for k in np.argwhere(diff)[0])
            return f"params[{i}][{j}] = {float(x[j])!r} vs {float(y[j])!r} ({int(diff.sum())} entries differ)"
    return "the lists differ in length"


def _plain_sgd(subject: Subject) -> Any:
    """The optimizer if LR-SGD-EXACT / LR-FIT-STEP apply to it; skips otherwise."""
    if "sgd" not in subject.implements:
        skip("claims no sgd formula")
    opt = subject.new()
    extras = {k: getattr(opt, k, 0) for k in ("momentum", "weight_decay")}
    if any(v for v in extras.values()):
        skip(f"configured with {', '.join(f'{k}={v!r}' for k, v in extras.items() if v)}: a step is not "
             f"exactly -lr * gradient")
    return opt


def _quadratic(subject: Subject) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = subject.rng(70)
    return ([rng.uniform(0.5, 2.0, s) for s in SHAPES], [rng.standard_normal(s) for s in SHAPES])


# ------------------------------------------------------------------------ contract checks
@spec_check("OPT-INTERFACE", "optimizer", layer="contract",
            title="is an Optimizer: setup/step in place, get_state returns a dict",
            formula=r"\mathrm{step}(\theta, g, \eta) \mapsto \text{None},\ \theta \leftarrow \theta'")
def check_opt_interface(subject):
    """The component is a ``neuroplug.Optimizer``; ``setup(params)`` accepts a list of
    float arrays; ``step(params, grads, lr)`` returns None (the update is in place:
    ``fit`` ignores a returned value); ``get_state()`` returns a dict with string keys
    (a checkpoint of arrays and numbers) and ``get_config()`` a dict.
    """
    from neuroplug.base import Optimizer

    opt = subject.new()
    if not isinstance(opt, Optimizer):
        fail("an optimizer must subclass neuroplug.Optimizer", found=type(opt).__mro__)
    if not isinstance(opt.get_config(), dict):
        fail("get_config() must return a dict of the constructor's keyword arguments",
             found=type(opt.get_config()).__name__)
    params = _params(subject, 1)
    opt.setup(params)
    result = opt.step(params, _grads(subject, 2, 1)[0], 0.01)
    if result is not None:
        fail("step() must update the parameters in place and return None; fit ignores a returned value",
             expected="None", found=type(result).__name__)
    state = opt.get_state()
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        fail("get_state() must return a dict with string keys (arrays and numbers as values), so that it can "
             "be saved in a checkpoint", expected="dict[str, ...]", found=f"{type(state).__name__}")


@spec_check("OPT-INPLACE", "optimizer", layer="contract",
            title="step updates the given arrays in place, keeping shape and dtype",
            formula=r"\theta_i \leftarrow \theta_i - \Delta_i \ \text{(same array object, shape, dtype)}")
def check_opt_inplace(subject):
    """For float32 and float64 parameters (a (4, 3) matrix and a (3,) vector), after
    three steps with ``lr = 0.1`` the list passed to ``step`` still holds the very
    same array objects (no rebinding: ``fit`` passes the network's own arrays), with
    the same shape and dtype, and their values have changed (the update happened
    in those arrays).
    """
    for dtype in DTYPES:
        params = _params(subject, 10, dtype)
        before = _copies(params)
        plist = _run(subject.new(), params, _grads(subject, 11, 3, dtype), [0.1] * 3)
        for i, (p, orig, old) in enumerate(zip(plist, params, before)):
            if p is not orig:
                fail("step() must update params[i] in place (p -= ..., np.subtract(..., out=p)), not rebind "
                     "the list entry to a new array: the network's weights would never change",
                     expected="the same array object", found=f"params[{i}] replaced by a new array",
                     where=f"{np.dtype(dtype)} parameters, lr 0.1")
            if orig.shape != old.shape or orig.dtype != old.dtype:
                fail("step() must keep the shape and dtype of the parameters",
                     expected=f"{old.shape} {old.dtype}", found=f"{orig.shape} {orig.dtype}",
                     where=f"params[{i}]")
            if np.array_equal(orig, old):
                fail("step() did not change the parameter arrays it was given: update them in place",
                     expected="params[i] moved after 3 steps with lr 0.1 and non-zero gradients",
                     found=f"params[{i}] unchanged", where=f"{np.dtype(dtype)} parameters")


@spec_check("OPT-NO-GRAD-MUTATION", "optimizer", layer="contract",
            title="step does not modify the gradients",
            formula=r"g \text{ unchanged by } \mathrm{step}(\theta, g, \eta)")
def check_opt_no_grad_mutation(subject):
    """The gradient arrays passed to ``step`` are bit-identical afterwards (float32 and
    float64, three steps): they belong to the network and may be read again (e.g. by
    callbacks or gradient clipping). Use the optimizer's own scratch buffers.
    """
    for dtype in DTYPES:
        opt = subject.new()
        params = _params(subject, 20, dtype)
        opt.setup(params)
        for k, grads in enumerate(_grads(subject, 21, 3, dtype)):
            before = _copies(grads)
            opt.step(params, grads, 0.1)
            for i, (g, old) in enumerate(zip(grads, before)):
                if not np.array_equal(g, old, equal_nan=True):
                    fail("step() modified the gradient arrays; compute into the optimizer's own buffers "
                         "(np.multiply(g, lr, out=scratch)) instead of g *= ...",
                         expected="grads unchanged", found=_difference([g], [old]),
                         where=f"grads[{i}] of step {k + 1}, {np.dtype(dtype)}")


@spec_check("OPT-DETERMINISTIC", "optimizer", layer="contract",
            title="the same inputs give the same updates",
            formula=r"\mathrm{step}^{(k)}(\theta_0, g_{1..k}, \eta_{1..k}) \text{ is a function of its inputs}")
def check_opt_deterministic(subject):
    """Two fresh instances given the same parameters, gradients and learning rates
    (five steps, float32 and float64) produce bit-identical parameters: training is
    reproducible from a seed.
    """
    for dtype in DTYPES:
        params = _params(subject, 30, dtype)
        grads = _grads(subject, 31, 5, dtype)
        lrs = [0.1, 0.05, 0.2, 0.01, 0.1]
        first = _run(subject.new(), _copies(params), grads, lrs)
        second = _run(subject.new(), _copies(params), grads, lrs)
        if not _equal(first, second):
            fail("two runs with the same inputs gave different parameters: the update must not use unseeded "
                 "randomness, the clock or global state", expected="bit-identical parameters",
                 found=_difference(first, second), where=f"5 steps, {np.dtype(dtype)}")


@spec_check("OPT-STATE-ROUNDTRIP", "optimizer", layer="contract",
            title="training resumed from get_state() continues identically",
            formula=r"\mathrm{set\_state}(\mathrm{get\_state}()) \Rightarrow \text{identical continuation}")
def check_opt_state_roundtrip(subject):
    """After three steps, ``state = opt.get_state()``; ``opt`` then takes three more
    steps. A fresh instance, set up with copies of the parameters as they were when
    the state was taken and given ``set_state(state)``, takes the same three steps and
    ends with bit-identical parameters (float64). So ``get_state`` must return a
    complete snapshot (copies, not live buffers that the later steps overwrite), and
    ``set_state`` must restore all of it, including the step count.
    (An optimizer that is not deterministic -- OPT-DETERMINISTIC's failure -- is
    skipped: two restores from the same state disagree.)
    """
    params = _params(subject, 40)
    grads = _grads(subject, 41, 6)
    lrs = [0.1, 0.05, 0.2, 0.1, 0.02, 0.1]
    opt = subject.new()
    plist = _run(opt, params, grads[:3], lrs[:3])
    middle = _copies(plist)
    state = opt.get_state()
    final = _run(opt, plist, grads[3:], lrs[3:], setup=False)
    resumed = []
    for _ in range(2):
        fresh = subject.new()
        q = _copies(middle)
        fresh.setup(q)
        fresh.set_state(copy.deepcopy(state))
        resumed.append(_run(fresh, q, grads[3:], lrs[3:], setup=False))
    if not _equal(resumed[0], resumed[1]):
        skip("two restores from the same state took different steps: the optimizer is not deterministic "
             "(see OPT-DETERMINISTIC)")
    if not _equal(resumed[0], final):
        fail("training resumed with set_state(get_state()) diverged from uninterrupted training: get_state() "
             "must return a complete snapshot (copies of every buffer and the step count) and set_state() "
             "must restore all of it", expected="bit-identical parameters after 3 more steps",
             found=_difference(resumed[0], final), where=f"state taken after 3 steps: keys {sorted(state)!r}"
             if isinstance(state, dict) else "state taken after 3 steps")


@spec_check("OPT-CONFIG-ROUNDTRIP", "optimizer", layer="contract",
            title="rebuilt from its saved config, it takes the same steps",
            formula=r"\mathrm{create}(\mathrm{name}, \mathrm{json}(\mathrm{get\_config}())) \equiv \mathrm{opt}")
def check_opt_config_roundtrip(subject):
    """``get_config()`` survives ``json.dumps``/``json.loads``; the optimizer rebuilt
    from it (by its registered name, or ``type(o).from_config`` when unregistered) has
    the same config and, from the same parameters and gradients, takes bit-identical
    steps (three, float64). (If the original is not deterministic -- OPT-DETERMINISTIC's
    failure -- only the configs are compared.)
    """
    opt = subject.new()
    rebuilt, how = rebuild_from_config(subject, opt)
    params = _params(subject, 50)
    grads = _grads(subject, 51, 3)
    lrs = [0.1, 0.05, 0.2]
    expected = _run(opt, _copies(params), grads, lrs)
    if not _equal(expected, _run(subject.new(), _copies(params), grads, lrs)):
        return
    found = _run(rebuilt, _copies(params), grads, lrs)
    if not _equal(found, expected):
        fail("the optimizer rebuilt from its config takes different steps: get_config() must return every "
             "constructor parameter", expected="bit-identical parameters after 3 steps",
             found=_difference(found, expected), where=f"rebuilt as {how}")


@spec_check("OPT-DESCENT", "optimizer", layer="contract",
            title="50 small steps decrease a convex quadratic loss",
            formula=r"L(\theta) = \tfrac12 \sum_i d_i(\theta_i - c_i)^2:\quad L(\theta_{50}) < L(\theta_0)",
            notes=("loss_minimization",))
def check_opt_descent(subject):
    r"""Training minimises the loss: on the convex quadratic
    :math:`L(\theta) = \frac12\sum_i d_i(\theta_i - c_i)^2` (curvatures
    :math:`d_i \in [0.5, 2]`, random centre :math:`c`, float64 parameters of shapes
    (4, 3) and (3,), gradient :math:`d \odot (\theta - c)`), 50 steps with the small
    rate :math:`\eta = 0.01` end with a loss strictly below the starting one.
    """
    curvature, centre = _quadratic(subject)

    def loss(ps):
        return sum(0.5 * float(np.sum(d * (p - c) ** 2)) for p, d, c in zip(ps, curvature, centre))

    opt = subject.new()
    params = _params(subject, 71)
    start = loss(params)
    plist = list(params)
    opt.setup(plist)
    for _ in range(50):
        opt.step(plist, [d * (p - c) for p, d, c in zip(plist, curvature, centre)], 0.01)
    end = loss(plist)
    if not end < start:
        fail("50 steps with lr 0.01 did not decrease a convex quadratic loss: the update must move the "
             "parameters against the gradient (theta -= lr * ...)",
             expected=f"L(theta_50) < L(theta_0) = {start:.6g}", found=f"L(theta_50) = {end:.6g}",
             where="L = 1/2 sum d (theta - c)^2, d in [0.5, 2], float64")


@spec_check("OPT-ZERO-LR", "optimizer", layer="contract",
            title="a step with lr = 0 leaves the parameters unchanged",
            formula=r"\eta = 0 \Rightarrow \theta_t = \theta_{t-1}", notes=("learning_rate",))
def check_opt_zero_lr(subject):
    r"""The learning rate scales every change of the weights: a step with
    :math:`\eta = 0` leaves the parameters unchanged (compared by value, float32 and
    float64) -- as the first step, and after two steps with :math:`\eta = 0.01` that
    filled the optimizer's state. (Decoupled weight decay must be scaled by
    :math:`\eta` too, as in PyTorch's and Keras' AdamW.)
    """
    for dtype in DTYPES:
        opt = subject.new()
        params = _params(subject, 80, dtype)
        grads = _grads(subject, 81, 5, dtype)
        plist = list(params)
        opt.setup(plist)
        for k, (g, lr) in enumerate(zip(grads, [0.0, 0.01, 0.01, 0.0, 0.0])):
            before = _copies(plist)
            opt.step(plist, _copies(g), lr)
            if lr == 0 and not _equal(plist, before):
                fail("a step with lr = 0 changed the parameters: every change of the weights (including "
                     "weight decay and fixed-size steps) must be scaled by the learning rate",
                     expected="parameters unchanged", found=_difference(plist, before),
                     where=f"step {k + 1} (lr = 0), {np.dtype(dtype)}")


@spec_check("LR-LARGER-MORE", "optimizer", layer="contract",
            title="a larger learning rate makes a larger adjustment",
            formula=r"\|\Delta\theta(2\eta)\| > \|\Delta\theta(\eta)\|", notes=("learning_rate",))
def check_lr_larger_more(subject):
    r"""If the rate is larger, larger adjustments are made: from the same state (two
    fresh instances replaying the same steps) and the same gradient, one step with
    :math:`2\eta` moves the parameters strictly farther, in Euclidean norm over all
    parameters, than a step with :math:`\eta = 0.01` (float64) -- both as the first
    step and after three steps with :math:`\eta = 0.01`.
    """
    params = _params(subject, 90)
    grads = _grads(subject, 91, 4)
    lr = 0.01
    for warmup in (0, 3):
        moves = []
        for rate in (lr, 2 * lr):
            opt = subject.new()
            plist = _run(opt, _copies(params), grads[:warmup], [lr] * warmup)
            before = _copies(plist)
            opt.step(plist, _copies(grads[warmup]), rate)
            moves.append(float(np.sqrt(sum(np.sum((np.asarray(p, dtype=np.float64) - b) ** 2)
                                           for p, b in zip(plist, before)))))
        if not moves[1] > moves[0]:
            fail("a step with twice the learning rate did not move the weights farther: the adjustment must "
                 "grow with lr (scale the update by lr, do not clip or normalise it to a fixed size)",
                 expected=f"||step(2 lr)|| > ||step(lr)|| = {moves[0]:.6g}",
                 found=f"||step(2 lr)|| = {moves[1]:.6g}", where=f"lr = {lr}, after {warmup} steps, float64")


# -------------------------------------------------------------------------- formula checks
@spec_check("LR-SGD-EXACT", "optimizer", layer="formula",
            title="sgd: one step moves the weights by exactly -lr * dL/dw",
            formula=r"\theta_t = \theta_{t-1} - \eta\,\frac{\partial L}{\partial \theta}", notes=("learning_rate",),
            tolerance="bitwise: equal to p - lr * g computed in the parameter dtype")
def check_lr_sgd_exact(subject):
    r"""The learning rate sets how far the weights move against the gradient: for an
    optimizer claiming ``sgd`` (without momentum or weight decay, which change the
    step), each of three steps with :math:`\eta \in \{0.1, 0.03, 0.5\}` gives exactly
    ``p - dtype(lr) * g`` computed in the parameter dtype (float32 and float64),
    bit for bit.
    """
    _plain_sgd(subject)
    for dtype in DTYPES:
        opt = subject.new()
        params = _params(subject, 100, dtype)
        plist = list(params)
        opt.setup(plist)
        for k, (g, lr) in enumerate(zip(_grads(subject, 101, 3, dtype), (0.1, 0.03, 0.5))):
            expected = [p - p.dtype.type(lr) * gi for p, gi in zip(plist, g)]
            opt.step(plist, _copies(g), lr)
            if not _equal(plist, expected):
                i = next(i for i, (p, e) in enumerate(zip(plist, expected)) if not np.array_equal(p, e))
                ratio = float(np.linalg.norm(np.asarray(plist[i], dtype=np.float64) - (expected[i] + lr * g[i]))
                              / (lr * np.linalg.norm(g[i].astype(np.float64))))
                fail("an sgd step must move the weights by exactly -lr * gradient (theta -= lr * g, in the "
                     "parameter dtype)", expected="p - lr * g, bit for bit",
                     found=f"{_difference(plist, expected)}; the step is {ratio:.4g} lr * |g|",
                     where=f"step {k + 1}, lr = {lr}, {np.dtype(dtype)}")


@spec_check("LR-FIT-STEP", "optimizer", layer="formula",
            title="sgd in fit: one full-batch epoch moves every weight by -lr * dL/dw",
            formula=r"W \leftarrow W - \eta\,\frac{\partial L}{\partial W}\ \text{for every layer}",
            notes=("learning_rate",),
            tolerance="|found - expected| <= 1e-15 + 1e-14*|expected| (float64)")
def check_lr_fit_step(subject):
    r"""Ties the training loop to the learning-rate statement: a float64 network
    ``Dense(5, tanh) -> Dense(2, identity)`` on 8 samples with 3 inputs, MSE loss,
    one ``neuroplug.fit`` epoch with a single full batch (``batch_size=8``,
    ``shuffle=False``, constant schedule, :math:`\eta = 0.1`) and this optimizer moves
    every parameter of every layer by :math:`-\eta\,\partial L/\partial W`, the
    gradient computed beforehand with ``net.loss_and_gradients``. Tolerance
    :math:`10^{-15} + 10^{-14}|W|` (both sides compute the same float64 operations).
    Applies to ``sgd`` claims without momentum or weight decay.
    """
    opt = _plain_sgd(subject)
    import neuroplug as npl

    rng = subject.rng(110)
    X = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 2))
    net = npl.Sequential([npl.Dense(5, activation="tanh"), npl.Dense(2, activation="identity")], input_dim=3,
                         seed=int(rng.integers(2**31)), dtype="float64")
    for layer in net.layers:  # non-zero biases, so that every parameter has a generic value
        layer.b[...] = rng.standard_normal(layer.b.shape)
    before = net.get_weights()
    _, grads = net.loss_and_gradients(X, y, "mse")
    lr = 0.1
    npl.fit(net, X, y, loss="mse", optimizer=opt, lr=lr, schedule="constant", epochs=1, batch_size=8,
            shuffle=False)
    names = [f"{kind}{i + 1}" for i in range(len(net.layers)) for kind in ("W", "b")]
    for name, w0, g, w1 in zip(names, before, grads, net.get_weights()):
        assert_close(w1, w0 - lr * g, rtol=1e-14, atol=1e-15, what=f"{name} after one fit epoch",
                     fix="each training step must move every weight by -lr * dL/dw (update all parameters "
                         "passed to step(), with the lr it is given)")
