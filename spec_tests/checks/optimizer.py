r"""Spec checks: optimizers and the learning rate.

An optimizer is set up once with the parameter arrays (``setup(params)``, as ``fit``
does) and then updates them in place with ``step(params, grads, lr)``.

*Contract* checks (every optimizer): interface, in-place updates in float32 and
float64, gradients left alone, determinism, state and config round trips, descent
on a convex quadratic, ``lr = 0`` does nothing, and a larger learning rate makes a
larger adjustment (the notes' "if the rate is more, more adjustments are done").
Those where a parameter matters (in place, gradients, determinism, round trips,
``lr = 0``, larger rate) run for every config of :meth:`Subject.configs`: the
component's own, its registration's ``example_configs`` and configs drawn from its
``parameter_space``.

*Formula* checks: ``OPT-FORMULA`` compares the trajectory of 12 steps with the
closed-form reference of every formula the optimizer claims (``implements``; see
:mod:`neuroplug.spec.references.optimizers` for the vocabulary: sgd, momentum,
nesterov, adam, adamw, rmsprop, adagrad), for its own config, the formula's
examples and drawn configs, in float64 and float32. For optimizers claiming
``sgd`` without momentum or weight decay, one step moves the weights by
:math:`-\eta\,\partial L/\partial w` to the rounding of the dtype, both for direct
calls (``LR-SGD-EXACT``) and for one epoch of ``neuroplug.fit`` on a small network
(``LR-FIT-STEP``).

Tolerances come from error analysis, not from our implementations: a comparison
with a reference allows :math:`|found - ref| \le atol + rtol\,|ref|` with both
terms a small multiple of the dtype's machine epsilon times the magnitudes that a
correct computation combines (see each check). The contract checks that compare two
runs of the *same* component (determinism, round trips) are bitwise: the same code
on the same inputs gives the same bits.

Isolation: every check passes fresh copies of the gradients and reads the
parameters back from the list it passed, so an optimizer that mutates the
gradients fails OPT-NO-GRAD-MUTATION only, and one that rebinds the list entries
fails OPT-INPLACE only.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable

import numpy as np

from ..formulas import formula_cases, get_formula
from ..framework import Subject, fail, rebuild_from_config, skip, spec_check

DTYPES = (np.float32, np.float64)
#: Shapes of the test parameters of the contract checks: a weight matrix and a bias vector.
SHAPES = ((4, 3), (3,))

#: OPT-FORMULA's parameters: ``(shape, scale of the initial values, scale of the gradients)``.
#: The second array has small gradients (where ``eps`` matters: sqrt(v) is about 1e-3),
#: the third large parameters and gradients (where weight decay and lr interact).
FORMULA_ARRAYS = (((4, 3), 1.0, 1.0), ((3,), 0.1, 1e-3), ((2, 2), 10.0, 10.0))
#: OPT-FORMULA's learning rates, one per step: they change at every step, so an optimizer
#: that caches the first rate, or applies a rate to the wrong term, is caught.
FORMULA_LRS = (0.1, 0.05, 0.2, 0.01, 0.15, 0.3, 0.02, 0.1, 0.07, 0.25, 0.12, 0.04)
#: OPT-FORMULA allows this multiple of the reference's running error bound. The bound is a
#: worst case with one eps (two half-ulp roundings) per operation; correct components
#: written in other forms (tests/test_spec_formulas_optimizer.py) reach at most 0.49 of it
#: over 40 seeds, so 4 leaves a factor 8, while a formula fault errs by 1e-6 or more.
FORMULA_SLACK = 4.0
#: LR-SGD-EXACT allows |found - (p - lr g)| <= SGD_RTOL eps |p - lr g| + SGD_ATOL eps |lr g|.
SGD_RTOL, SGD_ATOL = 2.0, 4.0


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


def _builds(subject: Subject, salt: int) -> list[tuple[str, Callable[[], Any]]]:
    """``(description, build)`` for each config of ``subject.configs(salt)`` the constructor accepts.

    The first is the subject as given (``subject.new()``, a copy of an instance); a
    drawn config the constructor rejects (``ValueError``/``TypeError``, e.g. Nesterov
    without momentum) is left out.
    """
    out: list[tuple[str, Callable[[], Any]]] = [("its own config", subject.new)]
    for config in subject.configs(salt)[1:]:
        try:
            subject.new(**config)
        except (ValueError, TypeError):
            continue
        out.append((f"config {config!r}", functools.partial(subject.new, **config)))
    return out


def _worst(excess: np.ndarray) -> tuple[int, ...]:
    """Index of the largest ``excess`` (NaN counts as the largest)."""
    excess = np.where(np.isnan(excess), np.inf, excess)
    return tuple(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))


def _plain_sgd(subject: Subject) -> Any:
    """The optimizer if LR-SGD-EXACT / LR-FIT-STEP apply to it; skips otherwise."""
    if not any(_formula_name(name) == "sgd" for name in subject.implements):
        skip("claims no sgd formula")
    opt = subject.new()
    extras = {k: getattr(opt, k, 0) for k in ("momentum", "weight_decay")}
    if any(v for v in extras.values()):
        skip(f"configured with {', '.join(f'{k}={v!r}' for k, v in extras.items() if v)}: a step is not "
             f"exactly -lr * gradient")
    return opt


def _formula_name(name: str) -> str | None:
    """The formula a claimed name (or alias) stands for; None for an unknown name."""
    try:
        return get_formula("optimizer", name).name
    except KeyError:
        return None


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
    in those arrays). For every config (:meth:`Subject.configs`).
    """
    for label, build in _builds(subject, 10):
        for dtype in DTYPES:
            params = _params(subject, 10, dtype)
            before = _copies(params)
            plist = _run(build(), params, _grads(subject, 11, 3, dtype), [0.1] * 3)
            where = f"{np.dtype(dtype)} parameters, lr 0.1, {label}"
            for i, (p, orig, old) in enumerate(zip(plist, params, before)):
                if p is not orig:
                    fail("step() must update params[i] in place (p -= ..., np.subtract(..., out=p)), not "
                         "rebind the list entry to a new array: the network's weights would never change",
                         expected="the same array object", found=f"params[{i}] replaced by a new array",
                         where=where)
                if orig.shape != old.shape or orig.dtype != old.dtype:
                    fail("step() must keep the shape and dtype of the parameters",
                         expected=f"{old.shape} {old.dtype}", found=f"{orig.shape} {orig.dtype}",
                         where=f"params[{i}], {where}")
                if np.array_equal(orig, old):
                    fail("step() did not change the parameter arrays it was given: update them in place",
                         expected="params[i] moved after 3 steps with lr 0.1 and non-zero gradients",
                         found=f"params[{i}] unchanged", where=where)


@spec_check("OPT-NO-GRAD-MUTATION", "optimizer", layer="contract",
            title="step does not modify the gradients",
            formula=r"g \text{ unchanged by } \mathrm{step}(\theta, g, \eta)")
def check_opt_no_grad_mutation(subject):
    """The gradient arrays passed to ``step`` are bit-identical afterwards (float32 and
    float64, three steps, every config): they belong to the network and may be read
    again (e.g. by callbacks or gradient clipping). Use the optimizer's own scratch
    buffers.
    """
    for label, build in _builds(subject, 20):
        for dtype in DTYPES:
            opt = build()
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
                             where=f"grads[{i}] of step {k + 1}, {np.dtype(dtype)}, {label}")


@spec_check("OPT-DETERMINISTIC", "optimizer", layer="contract",
            title="the same inputs give the same updates",
            formula=r"\mathrm{step}^{(k)}(\theta_0, g_{1..k}, \eta_{1..k}) \text{ is a function of its inputs}",
            tolerance="bitwise: the same code on the same inputs gives the same bits")
def check_opt_deterministic(subject):
    """Two fresh instances given the same parameters, gradients and learning rates
    (five steps, float32 and float64, every config) produce bit-identical parameters:
    training is reproducible from a seed. (Bitwise: the same code on the same inputs.)
    """
    lrs = [0.1, 0.05, 0.2, 0.01, 0.1]
    for label, build in _builds(subject, 30):
        for dtype in DTYPES:
            params = _params(subject, 30, dtype)
            grads = _grads(subject, 31, 5, dtype)
            first = _run(build(), _copies(params), grads, lrs)
            second = _run(build(), _copies(params), grads, lrs)
            if not _equal(first, second):
                fail("two runs with the same inputs gave different parameters: the update must not use "
                     "unseeded randomness, the clock or global state", expected="bit-identical parameters",
                     found=_difference(first, second), where=f"5 steps, {np.dtype(dtype)}, {label}")


@spec_check("OPT-STATE-ROUNDTRIP", "optimizer", layer="contract",
            title="training resumed from get_state() continues identically",
            formula=r"\mathrm{set\_state}(\mathrm{get\_state}()) \Rightarrow \text{identical continuation}",
            tolerance="bitwise: the same code on the same inputs gives the same bits")
def check_opt_state_roundtrip(subject):
    """After three steps, ``state = opt.get_state()``; ``opt`` then takes three more
    steps. A fresh instance, set up with copies of the parameters as they were when
    the state was taken and given ``set_state(state)``, takes the same three steps and
    ends with bit-identical parameters (float64; every config, since the state a
    config needs differs: momentum buffers, centred averages ...). So ``get_state``
    must return a complete snapshot (copies, not live buffers that the later steps
    overwrite), and ``set_state`` must restore all of it, including the step count.
    (An optimizer that is not deterministic -- OPT-DETERMINISTIC's failure -- is
    skipped: two restores from the same state disagree.)
    """
    params = _params(subject, 40)
    grads = _grads(subject, 41, 6)
    lrs = [0.1, 0.05, 0.2, 0.1, 0.02, 0.1]
    for label, build in _builds(subject, 40):
        opt = build()
        plist = _run(opt, _copies(params), grads[:3], lrs[:3])
        middle = _copies(plist)
        state = opt.get_state()
        final = _run(opt, plist, grads[3:], lrs[3:], setup=False)
        resumed = []
        for _ in range(2):
            fresh = build()
            q = _copies(middle)
            fresh.setup(q)
            fresh.set_state(copy.deepcopy(state))
            resumed.append(_run(fresh, q, grads[3:], lrs[3:], setup=False))
        if not _equal(resumed[0], resumed[1]):
            skip("two restores from the same state took different steps: the optimizer is not deterministic "
                 "(see OPT-DETERMINISTIC)")
        if not _equal(resumed[0], final):
            keys = f": keys {sorted(state)!r}" if isinstance(state, dict) else ""
            fail("training resumed with set_state(get_state()) diverged from uninterrupted training: "
                 "get_state() must return a complete snapshot (copies of every buffer and the step count) and "
                 "set_state() must restore all of it", expected="bit-identical parameters after 3 more steps",
                 found=_difference(resumed[0], final), where=f"state taken after 3 steps{keys}, {label}")


@spec_check("OPT-CONFIG-ROUNDTRIP", "optimizer", layer="contract",
            title="rebuilt from its saved config, it takes the same steps",
            formula=r"\mathrm{create}(\mathrm{name}, \mathrm{json}(\mathrm{get\_config}())) \equiv \mathrm{opt}",
            tolerance="bitwise: the same code on the same inputs gives the same bits")
def check_opt_config_roundtrip(subject):
    """``get_config()`` survives ``json.dumps``/``json.loads``; the optimizer rebuilt
    from it (by its registered name, or ``type(o).from_config`` when unregistered) has
    the same config and, from the same parameters and gradients, takes bit-identical
    steps (three, float64), for every config. (If the original is not deterministic
    -- OPT-DETERMINISTIC's failure -- only the configs are compared.)
    """
    params = _params(subject, 50)
    grads = _grads(subject, 51, 3)
    lrs = [0.1, 0.05, 0.2]
    for label, build in _builds(subject, 50):
        opt = build()
        rebuilt, how = rebuild_from_config(subject, opt)
        expected = _run(opt, _copies(params), grads, lrs)
        if not _equal(expected, _run(build(), _copies(params), grads, lrs)):
            return
        found = _run(rebuilt, _copies(params), grads, lrs)
        if not _equal(found, expected):
            fail("the optimizer rebuilt from its config takes different steps: get_config() must return every "
                 "constructor parameter", expected="bit-identical parameters after 3 steps",
                 found=_difference(found, expected), where=f"rebuilt as {how}, from {label}")


@spec_check("OPT-DESCENT", "optimizer", layer="contract",
            title="50 small steps decrease a convex quadratic loss",
            formula=r"L(\theta) = \tfrac12 \sum_i d_i(\theta_i - c_i)^2:\quad L(\theta_{50}) < L(\theta_0)",
            notes=("loss_minimization",),
            tolerance="strict decrease (50 steps of 0.01 on an O(1) loss: a decrease far above rounding)")
def check_opt_descent(subject):
    r"""Training minimises the loss: on the convex quadratic
    :math:`L(\theta) = \frac12\sum_i d_i(\theta_i - c_i)^2` (curvatures
    :math:`d_i \in [0.5, 2]`, random centre :math:`c`, float64 parameters of shapes
    (4, 3) and (3,), gradient :math:`d \odot (\theta - c)`), 50 steps with the small
    rate :math:`\eta = 0.01` end with a loss strictly below the starting one. For the
    component's own config only: a drawn weight decay minimises another objective.
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
            formula=r"\eta = 0 \Rightarrow \theta_t = \theta_{t-1}", notes=("learning_rate",),
            tolerance="exact: theta - 0 * delta == theta in floating point for any finite delta")
def check_opt_zero_lr(subject):
    r"""The learning rate scales every change of the weights: a step with
    :math:`\eta = 0` leaves the parameters unchanged (compared by value, float32 and
    float64, every config) -- as the first step, and after two steps with
    :math:`\eta = 0.01` that filled the optimizer's state. (Decoupled weight decay
    must be scaled by :math:`\eta` too, as in PyTorch's and Keras' AdamW.) Exact:
    :math:`\theta - 0\cdot\Delta = \theta` in floating point for any finite
    :math:`\Delta`.
    """
    for label, build in _builds(subject, 80):
        for dtype in DTYPES:
            opt = build()
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
                         where=f"step {k + 1} (lr = 0), {np.dtype(dtype)}, {label}")


@spec_check("LR-LARGER-MORE", "optimizer", layer="contract",
            title="a larger learning rate makes a larger adjustment",
            formula=r"\|\Delta\theta(2\eta)\| > \|\Delta\theta(\eta)\|", notes=("learning_rate",),
            tolerance="strict inequality (the formulas of the vocabulary double the move, far above rounding)")
def check_lr_larger_more(subject):
    r"""If the rate is larger, larger adjustments are made: from the same state (two
    fresh instances replaying the same steps) and the same gradient, one step with
    :math:`2\eta` moves the parameters strictly farther, in Euclidean norm over all
    parameters, than a step with :math:`\eta = 0.01` (float64) -- both as the first
    step and after three steps with :math:`\eta = 0.01`, for every config. (Every
    formula of the vocabulary moves by :math:`\eta` times a direction that does not
    depend on :math:`\eta`, so the move doubles: far from rounding.)
    """
    params = _params(subject, 90)
    grads = _grads(subject, 91, 4)
    lr = 0.01
    for label, build in _builds(subject, 90):
        for warmup in (0, 3):
            moves = []
            for rate in (lr, 2 * lr):
                opt = build()
                plist = _run(opt, _copies(params), grads[:warmup], [lr] * warmup)
                before = _copies(plist)
                opt.step(plist, _copies(grads[warmup]), rate)
                moves.append(float(np.sqrt(sum(np.sum((np.asarray(p, dtype=np.float64) - b) ** 2)
                                               for p, b in zip(plist, before)))))
            if not moves[1] > moves[0]:
                fail("a step with twice the learning rate did not move the weights farther: the adjustment "
                     "must grow with lr (scale the update by lr, do not clip or normalise it to a fixed size)",
                     expected=f"||step(2 lr)|| > ||step(lr)|| = {moves[0]:.6g}",
                     found=f"||step(2 lr)|| = {moves[1]:.6g}",
                     where=f"lr = {lr}, after {warmup} steps, float64, {label}")


# -------------------------------------------------------------------------- formula checks
def _formula_problem(subject: Subject) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """OPT-FORMULA's initial parameters and gradients (float64): gradients of random sign and
    magnitude in [0.5, 2] times the array's scale, away from 0 (see ``FORMULA_ARRAYS``)."""
    rng = subject.rng(120)
    params = [scale * rng.standard_normal(shape) for shape, scale, _ in FORMULA_ARRAYS]
    grads = [[g_scale * rng.choice((-1.0, 1.0), shape) * rng.uniform(0.5, 2.0, shape)
              for shape, _, g_scale in FORMULA_ARRAYS] for _ in FORMULA_LRS]
    return params, grads


def _flat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def _entry(k: int) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """Flat index ``k`` of OPT-FORMULA's parameters -> (array, index in it, its shape)."""
    for i, (shape, _, _) in enumerate(FORMULA_ARRAYS):
        size = int(np.prod(shape))
        if k < size:
            return i, tuple(int(j) for j in np.unravel_index(k, shape)), shape
        k -= size
    raise IndexError(k)


_FORMULA_TOLERANCE = (f"per entry and step: |found - ref| <= {FORMULA_SLACK:g} S_t, S_t the reference's "
                      "first-order running error bound for the parameter dtype (eps32 or eps64 times the "
                      "magnitudes of the terms each operation combines, propagated through the steps; about "
                      "1e-13 after 12 Adam steps in float64); i.e. atol and rtol from eps and the magnitudes")


@spec_check("OPT-FORMULA", "optimizer", layer="formula",
            title="the trajectory follows each claimed formula for 12 steps, for every config",
            formula=r"\theta_t = \mathrm{ref}(\theta_0, g_{1..t}, \eta_{1..t}),\ t = 1..12",
            notes=("learning_rate",), tolerance=_FORMULA_TOLERANCE)
def check_opt_formula(subject):
    r"""For every formula the optimizer claims (``implements``) and every config of
    :func:`neuroplug.spec.formulas.formula_cases` (its own, the formula's examples and
    its registration's ``example_configs``, and configs drawn from the parameters'
    ranges: a parameter the constructor does not accept is taken at the formula's
    default), ``setup`` once and 12 ``step`` calls with learning rates that change at
    every step (0.1, 0.05, 0.2, ...) move three parameter arrays -- (4, 3) of scale 1,
    (3,) with gradients of scale 1e-3 (where ``eps`` matters) and (2, 2) of scale 10 --
    along the trajectory of the closed-form reference
    (:mod:`neuroplug.spec.references.optimizers`), in float64 and in float32.
    Gradients have random signs and magnitudes in [0.5, 2] times the scale (away from
    0, where a division by :math:`\sqrt{v}` is ill-conditioned).

    Tolerance: the reference computes, besides the trajectory (in extended precision),
    a first-order bound :math:`S_t` on the error of a correct computation in the
    parameter dtype, whatever its algebraic form (running error analysis: each
    operation errs by at most eps times the magnitudes of the terms it combines, and
    propagates its operands' errors); allowed :math:`|found - ref| \le 4 S_t`. The
    failure names the formula and config, the first step that is off, the array and
    the entry, with the expected and found values (a NaN or overflow is reported the
    same way, at the step where it appears; the contract checks report the warning).

    Then a fresh copy runs 200 steps with a constant gradient (256 entries, lr 0.01) and
    must stay finite: once the moment estimates converge, a difference that is 0 in exact
    arithmetic (rmsprop's centered :math:`v - \bar g^2`; the formula clips it at 0) must not
    become the square root of a negative rounding error. Deterministic.
    """
    cases = list(formula_cases(subject))
    if not cases:
        skip("claims no optimizer formula (implements=...): nothing to compare with a reference")
    params, grads = _formula_problem(subject)
    lrs = list(FORMULA_LRS)
    for case in cases:
        fresh = copy.deepcopy(case.component)
        components = {np.float32: copy.deepcopy(case.component), np.float64: case.component}
        for dtype in (np.float64, np.float32):
            p = [a.astype(dtype) for a in params]
            g = [[a.astype(dtype) for a in gs] for gs in grads]
            opt, plist, rows = components[dtype], list(p), []
            theta0 = _flat(p)
            with np.errstate(all="ignore"):  # a NaN is reported below, at its step, with expected/found
                opt.setup(plist)
                for gs, lr in zip(g, lrs):
                    opt.step(plist, _copies(gs), lr)
                    rows.append(_flat(plist))
            found = np.array(rows)
            ref, bound = case.formula.reference(theta0, np.array([_flat(gs) for gs in g]), lrs, np.dtype(dtype),
                                                **case.params)
            allowed = FORMULA_SLACK * bound
            err = np.abs(found - ref)
            bad = ~(err <= allowed)
            if not bad.any():
                continue
            t = int(np.argmax(bad.any(axis=1)))
            k = _worst(np.where(bad[t], err[t] - allowed[t], -np.inf))[0]
            i, index, shape = _entry(k)
            if not np.isfinite(found[t, k]):
                hint = ("The step produced a non-finite value (an invalid operation such as the square root "
                        "of a negative number, or an overflow). ")
            else:
                hint = ""
            if t == 0:
                hint += ("The very first step is already off: check the update rule itself and how each "
                        "parameter enters it")
            else:
                hint += (f"Steps 1 to {t} agree: check what carries over between steps -- the state (moment "
                        f"estimates, momentum buffer, accumulator), the step count t of bias corrections, and "
                        f"the learning rate of each call (it changes at every step)")
            convention = case.formula.meta.get("convention")
            if convention:
                hint += f" (convention: {convention})"
            fail(f"{case.label}: step() does not follow the formula -- {case.formula.title}. {hint}; fix "
                 f"step() (or the implements claim)",
                 expected=f"{ref[t, k]:.17g} (allowed error {allowed[t, k]:.3g})",
                 found=f"{found[t, k]:.17g} (error {err[t, k]:.3g})",
                 where=f"params[{i}]{list(index)} (shape {shape}) after step {t + 1} of {len(lrs)} "
                       f"(lr = {lrs[t]}), {np.dtype(dtype)} parameters; built with {case.config!r}")
        _check_constant_gradients(case, fresh, subject)


#: The constant-gradient run of OPT-FORMULA: entries, steps and learning rate.
CONSTANT_RUN = (256, 200, 0.01)


def _check_constant_gradients(case: Any, opt: Any, subject: Subject) -> None:
    """A long run with a constant gradient stays finite: the moment estimates converge, and a
    difference of them that is 0 in exact arithmetic (rmsprop's centered ``v - g_avg^2``) must not
    turn into the square root of a rounding error below 0."""
    n, steps, lr = CONSTANT_RUN
    rng = subject.rng(130)
    params = [rng.standard_normal(n)]
    grad = rng.choice((-1.0, 1.0), n) * rng.uniform(0.5, 2.0, n)
    with np.errstate(all="ignore"):
        opt.setup(params)
        for t in range(steps):
            opt.step(params, [grad.copy()], lr)
            if not np.all(np.isfinite(params[0])):
                k = int(np.argmin(np.isfinite(params[0])))
                fail(f"{case.label}: with a constant gradient the weights become non-finite at step {t + 1}: "
                     f"a quantity that is 0 in exact arithmetic (e.g. the centered variance v - g_avg^2 once "
                     f"the averages converge) went below 0 by rounding and was square-rooted, or divided by. "
                     f"Fix step(): clip such a difference at 0 (np.maximum(v - m * m, 0))",
                     expected="finite weights", found=f"params[0][{k}] = {params[0][k]!r}",
                     where=f"{n} entries, gradient constant over {steps} steps, lr = {lr}; built with "
                           f"{case.config!r}")


def _sgd_allowed(expected: np.ndarray, step: np.ndarray, dtype: Any) -> np.ndarray:
    eps = float(np.finfo(dtype).eps)
    return SGD_RTOL * eps * np.abs(expected) + SGD_ATOL * eps * np.abs(step)


@spec_check("LR-SGD-EXACT", "optimizer", layer="formula",
            title="sgd: one step moves the weights by -lr * dL/dw, to the dtype's rounding",
            formula=r"\theta_t = \theta_{t-1} - \eta\,\frac{\partial L}{\partial \theta}", notes=("learning_rate",),
            tolerance="|found - (p - lr g)| <= 2 eps |p - lr g| + 4 eps |lr g| per entry, eps of the parameter "
                      "dtype (the exact value computed in float64 from the dtype's p and g)")
def check_lr_sgd_exact(subject):
    r"""The learning rate sets how far the weights move against the gradient: for an
    optimizer claiming ``sgd`` (without momentum or weight decay, which change the
    step), each of three steps with :math:`\eta \in \{0.1, 0.03, 0.5\}` gives
    ``p - lr * g`` (float32 and float64). Tolerance from the three roundings a correct
    step may commit in the parameter dtype -- ``lr`` cast to it, the product
    :math:`\eta g`, the difference -- each at most half an eps of its terms:
    :math:`|found - (p - \eta g)| \le 2\epsilon|p - \eta g| + 4\epsilon|\eta g|`, the
    exact value computed in float64 from the parameter dtype's ``p`` and ``g`` (so a
    float32 step computed in float64 and rounded passes as well).
    """
    _plain_sgd(subject)
    for dtype in DTYPES:
        opt = subject.new()
        params = _params(subject, 100, dtype)
        plist = list(params)
        opt.setup(plist)
        for k, (g, lr) in enumerate(zip(_grads(subject, 101, 3, dtype), (0.1, 0.03, 0.5))):
            steps = [lr * gi.astype(np.float64) for gi in g]
            expected = [p.astype(np.float64) - s for p, s in zip(plist, steps)]
            opt.step(plist, _copies(g), lr)
            for i, (p, e, s, gi) in enumerate(zip(plist, expected, steps, g)):
                found = np.asarray(p, dtype=np.float64)
                err, allowed = np.abs(found - e), _sgd_allowed(e, s, dtype)
                if np.all(err <= allowed):
                    continue
                j = _worst(err - allowed)
                ratio = float(np.linalg.norm(found - (e + s)) / np.linalg.norm(s))
                fail("an sgd step must move the weights by -lr * gradient (theta -= lr * g): fix step()",
                     expected=f"p - lr * g = {e[j]:.17g} (allowed error {allowed[j]:.3g})",
                     found=f"{found[j]:.17g}; the step is {ratio:.4g} lr * |g|",
                     where=f"params[{i}]{list(j)}, step {k + 1}, lr = {lr}, {np.dtype(dtype)}")


@spec_check("LR-FIT-STEP", "optimizer", layer="formula",
            title="sgd in fit: one full-batch epoch moves every weight by -lr * dL/dw",
            formula=r"W \leftarrow W - \eta\,\frac{\partial L}{\partial W}\ \text{for every layer}",
            notes=("learning_rate",),
            tolerance="|found - expected| <= 8 eps64 (|expected| + |lr dL/dW|) per entry (float64)")
def check_lr_fit_step(subject):
    r"""Ties the training loop to the learning-rate statement: a float64 network
    ``Dense(5, tanh) -> Dense(2, identity)`` on 8 samples with 3 inputs, MSE loss,
    one ``neuroplug.fit`` epoch with a single full batch (``batch_size=8``,
    ``shuffle=False``, constant schedule, :math:`\eta = 0.1`) and this optimizer moves
    every parameter of every layer by :math:`-\eta\,\partial L/\partial W`, the
    gradient computed beforehand with ``net.loss_and_gradients``. Tolerance
    :math:`8\epsilon_{64}(|W_1| + |\eta\,\partial L/\partial W|)` per entry: the few
    roundings of a float64 step (see LR-SGD-EXACT) plus those of the gradient
    recomputed inside ``fit``. Applies to ``sgd`` claims without momentum or weight
    decay.
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
    eps = float(np.finfo(np.float64).eps)
    for name, w0, g, w1 in zip(names, before, grads, net.get_weights()):
        expected = w0 - lr * g
        allowed = 8 * eps * (np.abs(expected) + np.abs(lr * g))
        err = np.abs(np.asarray(w1, dtype=np.float64) - expected)
        if not np.all(err <= allowed):
            j = _worst(err - allowed)
            fail(f"{name} after one fit epoch is not W - lr * dL/dW: each training step must move every weight "
                 f"by -lr * dL/dw (update all parameters passed to step(), with the lr it is given): fix step()",
                 expected=f"{expected[j]:.17g} (allowed error {allowed[j]:.3g})",
                 found=f"{float(w1[j]):.17g} (error {err[j]:.3g})", where=f"{name}{list(j)}, lr = {lr}")
