r"""Spec checks for activations :math:`a = \varphi(z)`.

Contract checks (every activation): interface, shape and dtype, batch
independence, no mutation, determinism, finiteness at :math:`|z| \le 10^4`,
config round trip, derivative against central differences, float32 accuracy.
Formula checks: ``ACT-FORMULA`` compares a component with the closed-form
reference of every formula it claims (``implements``; the vocabulary is
:mod:`neuroplug.spec.references.activations`) for its own config, the formula's
examples, its ``example_configs`` and configs drawn from the parameters' ranges;
``ACT-TANH``, ``ACT-SIGMOID`` and ``ACT-RELU`` check the notes' three formulas
by name. Neuron and chain-rule checks (every activation): a Dense layer computes
:math:`\varphi(\sum_i x_i w_i + b)`, and backpropagation through a network built
from the activation equals numerical differentiation.

Checks where a parameter matters (shape/dtype, finiteness, config round trip,
derivative, float32 accuracy, chain rule) run for the component built with each
of ``subject.configs()``: its own config, its declared ``example_configs`` and
configs drawn from its declared ``parameter_space``; a failure names the config.

Tolerances come from error analysis in terms of :math:`\varepsilon` of the
dtype and the magnitudes involved (each check's docstring says how), never from
our own implementations: a correct component written in another algebraic form
passes.

Conventions used below: ``z`` is a batch ``(N, C)`` (rows are samples); the
component is always handed *copies* of the arrays a check reuses, so that one
wrong behaviour (say, mutating ``z``) fails the check about it and no other.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..framework import (SpecFailure, Subject, assert_close, away_from_kinks, catching_warnings, fail, rebuild_from_config, spec_check)

__all__: list[str] = []

EPS64 = float(np.finfo(np.float64).eps)  # 2.2e-16
#: Relative tolerance of the consistency checks (the same formula along two paths: out= or not, a batch
#: or its rows, a component or its rebuilt copy): numpy's vectorised and scalar loops of exp/log/tanh differ
#: by up to 4 ulps per operation; 4096 ulps leave room for a dozen operations each conditioned up to ~100.
CONSISTENCY_RTOL = 4096 * EPS64
EPS32 = float(np.finfo(np.float32).eps)  # 1.2e-7
U32 = EPS32 / 2  # unit roundoff of float32, 2**-24 = 6.0e-8
#: Step of the central differences of CHAIN-RULE-ACT (float64).
H = 1e-6
#: Step of ACT-DERIV: smaller, because where phi is C1 but not C2 (softsign and elu at 0) the central
#: difference errs by O(h |jump of phi"|): 1e-6 relative with h = 1e-6, 1e-7 with this step.
H_DERIV = 1e-7
#: The second, wider step of ACT-DERIV (for forwards whose rounding is relative to |z| rather than |phi|).
H_WIDE = 1e-4
#: Distance kept from declared kinks (>> H, so no difference quotient straddles one).
KINK_MARGIN = 1e-3
#: |z| values of the large-magnitude checks.
LARGE = np.array([1e-3, 1.0, 10.0, 20.0, 30.0, 50.0, 100.0, 300.0, 1e3, 3e3, 1e4])
#: Rows of the batch-independence and neuron checks: >= 64 so that batch-size-dependent code paths show.
BATCH_ROWS = 96


# ---------------------------------------------------------------------------------------------
# helpers


def _kinks(act: Any) -> tuple[float, ...]:
    """The declared kinks as a tuple of floats (tolerant: ACT-INTERFACE judges the declaration)."""
    try:
        return tuple(float(k) for k in np.atleast_1d(np.asarray(getattr(act, "kinks", ()), dtype=np.float64)))
    except (TypeError, ValueError):
        return ()


def _elementwise(act: Any) -> bool:
    return bool(getattr(act, "elementwise", True))


def _z(subject: Subject, salt: int, shape: tuple[int, int] = (7, 5), scale: float = 3.0,
       dtype: Any = np.float64) -> np.ndarray:
    """Random pre-activations ~ N(0, scale^2), with a few exact zeros and small values."""
    z = subject.rng(salt).normal(0.0, scale, size=shape)
    flat = z.reshape(-1)
    if flat.size >= 4:
        flat[:3] = (0.0, 1e-3, -1e-3)
    return z.astype(dtype)


def _forward(act: Any, z: np.ndarray, **kw: Any) -> np.ndarray:
    return act.forward(z.copy(), **kw)


def _backward(act: Any, z: np.ndarray, a: np.ndarray, g: np.ndarray, **kw: Any) -> np.ndarray:
    return act.backward(z.copy(), a.copy(), g.copy(), **kw)


def _derivative(act: Any, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return act.derivative(z.copy(), a.copy())


def _has_derivative(act: Any, z: np.ndarray, a: np.ndarray) -> bool:
    """True when ``derivative()`` is implemented (it is optional for non-element-wise activations)."""
    if not _elementwise(act):
        return False
    try:
        _derivative(act, z, a)
    except NotImplementedError:
        return False
    return True


def _large_grid(dtype: Any) -> np.ndarray:
    """Rows mixing magnitudes up to 1e4, both signs, equal and unequal entries (for row-wise functions too)."""
    v = np.concatenate([-LARGE[::-1], [0.0], LARGE])
    n = v.size
    rows = [np.stack([v, -v, np.zeros(n), v / 2, np.roll(v, 7)], axis=1),  # mixed rows
            np.repeat(v[:, None], 5, axis=1)]  # constant rows
    return np.concatenate(rows, axis=0).astype(dtype)


def _same(found: np.ndarray, expected: np.ndarray) -> bool:
    found, expected = np.asarray(found), np.asarray(expected)
    return found.shape == expected.shape and found.dtype == expected.dtype and bool(
        np.array_equal(found, expected, equal_nan=True))


def _first_difference(found: np.ndarray, expected: np.ndarray, z: np.ndarray) -> dict[str, str]:
    found, expected = np.asarray(found), np.asarray(expected)
    if found.shape != expected.shape:
        return {"expected": f"shape {expected.shape}", "found": f"shape {found.shape}"}
    if found.dtype != expected.dtype:
        return {"expected": f"dtype {expected.dtype}", "found": f"dtype {found.dtype}"}
    diff = ~((found == expected) | (np.isnan(found) & np.isnan(expected)))
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    where = f"input {float(z[i]):.17g} (index {tuple(int(k) for k in i)})" if z.shape == found.shape else None
    return {"expected": f"{expected[i]!r}", "found": f"{found[i]!r}", "where": where}


def _label(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items()) if config else "no parameters"


def _instances(subject: Subject) -> list[tuple[dict[str, Any], Any]]:
    """``(config, instance)`` for each of ``subject.configs()``: its own config, its declared
    ``example_configs`` and configs drawn from its declared ``parameter_space``. A drawn config the
    constructor rejects (``ValueError``/``TypeError``) is left out; a declared one must build."""
    examples = [{**subject.config, **dict(e)} for e in subject.example_configs]
    out: list[tuple[dict[str, Any], Any]] = []
    for i, config in enumerate(subject.configs()):
        if i == 0:
            out.append((dict(config), subject.new()))
            continue
        try:
            act = subject.factory(**config)
        except (ValueError, TypeError):
            if config in examples:
                raise
            continue
        out.append((dict(config), act))
    return out


def _for_each_config(subject: Subject, body: Callable[[Any], None]) -> None:
    """Run ``body(instance)`` for the subject built with each of its configs (see :func:`_instances`);
    a failure names the config."""
    instances = _instances(subject)
    for config, act in instances:
        if len(instances) == 1 and config == subject.config:
            body(act)
            continue
        try:
            body(act)
        except SpecFailure as exc:
            raise SpecFailure(f"[component built with {_label(config)}] {exc.message}", expected=exc.expected,
                              found=exc.found, where=exc.where) from None
        except Warning as exc:
            fail(f"[component built with {_label(config)}] the component emitted a warning: "
                 f"{type(exc).__name__}: {exc} -- use a numerically stable formula")


# ---------------------------------------------------------------------------------------------
# contract checks


@spec_check("ACT-INTERFACE", "activation", layer="contract", title="implements the Activation interface",
            formula=r"\varphi: \mathbb{R}^{N\times C} \to \mathbb{R}^{N\times C}",
            notes=("activations",), tolerance="out= paths: rtol 4096 eps64 (9.1e-13), atol 16 eps64 max(1, max|result|), float64")
def check_act_interface(subject: Subject) -> None:
    r"""The component is an :class:`neuroplug.Activation` that the layers can use.

    * ``elementwise`` is a bool, ``kinks`` a tuple of finite floats, ``link`` None or a str;
    * ``forward(z)`` returns a *new* ndarray (never ``z`` or a view of it: callers write into it);
    * an element-wise activation implements ``derivative(z, a)`` (:math:`\varphi'(z)`); a
      non-element-wise one overrides ``backward`` (the vector-Jacobian product);
    * ``forward(z, out=buf)`` returns :math:`\varphi(z)` (in ``buf`` or a new array), and
      ``backward(z, a, g, out=g)`` returns the same as ``backward(z, a, g)`` although ``out``
      *is* ``g`` -- the network calls it exactly so.

    Compared within ``rtol = 4096 eps64`` (9.1e-13) and ``atol = 16 eps64 max(1, max|a|)`` (float64): the same
    formula, maybe by a different code path whose roundings differ on terms no larger than the
    largest output.
    """
    from neuroplug.base import Activation

    act = subject.new()
    if not isinstance(act, Activation):
        fail("the component must be an instance of neuroplug.Activation (subclass it)",
             expected="an Activation", found=type(act).__name__)
    ew = getattr(act, "elementwise", True)
    if not isinstance(ew, (bool, np.bool_)):
        fail("elementwise must be True or False", expected="a bool", found=repr(ew))
    kinks = getattr(act, "kinks", ())
    if not isinstance(kinks, tuple) or not all(
            isinstance(k, (int, float, np.floating, np.integer)) and not isinstance(k, bool) and math.isfinite(k)
            for k in kinks):
        fail("kinks must be a tuple of finite numbers (the points where phi' is undefined), e.g. (0.0,)",
             expected="tuple of finite floats", found=repr(kinks))
    link = getattr(act, "link", None)
    if link is not None and not isinstance(link, str):
        fail("link must be None or a string such as 'softmax'", expected="None or str", found=repr(link))

    z = _z(subject, 1)
    zin = z.copy()
    a = act.forward(zin)
    if not isinstance(a, np.ndarray):
        fail("forward() must return a numpy array", expected="numpy.ndarray", found=type(a).__name__)
    if np.shares_memory(a, zin):
        fail("forward(z) returned z itself (or a view of it): return a new array (e.g. z.copy()), "
             "since callers may write into the result", expected="a new array", found="z itself")
    if ew:
        try:
            _derivative(act, z, a)
        except NotImplementedError:
            fail("elementwise = True but derivative() is not implemented: implement derivative(z, a) = phi'(z), "
                 "or, if phi couples the entries of a row, set elementwise = False and implement backward()",
                 expected="derivative() implemented", found="NotImplementedError")
    elif type(act).backward is Activation.backward:
        fail("elementwise = False but backward() is not overridden: implement backward(z, a, grad) as the "
             "vector-Jacobian product dL/dz", expected="backward() overridden", found="the default")

    buf = np.empty_like(z)
    res = act.forward(z.copy(), out=buf)
    assert_close(res, a, rtol=CONSISTENCY_RTOL, atol=16 * EPS64 * max(1.0, float(np.max(np.abs(a)))), what="forward(z, out=buf)",
                 inputs=z,
                 fix="forward(z, out=buf) must return phi(z) (written into out, or a new array) -- the same "
                     "values as forward(z)")
    g = subject.rng(2).normal(size=z.shape)
    ref = _backward(act, z, a, g)
    g2 = g.copy()
    res = act.backward(z.copy(), a.copy(), g2, out=g2)
    assert_close(res, ref, rtol=CONSISTENCY_RTOL, atol=16 * EPS64 * max(1.0, float(np.max(np.abs(ref)))),
                 what="backward(z, a, grad, out=grad)", inputs=z,
                 fix="backward(..., out=grad) must give the same result as without out, although out is grad "
                     "itself (the network passes out=grad): do not read grad after writing into out")


@spec_check("ACT-SHAPE-DTYPE", "activation", layer="contract", title="preserves shape and dtype (float32, float64)",
            formula=r"\operatorname{shape}(\varphi(z)) = \operatorname{shape}(z),\ "
                    r"\operatorname{dtype}(\varphi(z)) = \operatorname{dtype}(z)",
            notes=("activations",))
def check_act_shape_dtype(subject: Subject) -> None:
    r"""``forward``, ``derivative`` (element-wise ones) and ``backward`` return arrays of the
    shape and dtype of ``z``, for float32 and float64 and for the shapes (7, 5), (1, 3) and
    (4, 1): float32 training must stay float32 (an upcast doubles memory and time and breaks
    preallocated buffers). For the component built with each of its configs (a parameter stored
    as a numpy float64 upcasts float32 arrays).
    """
    _for_each_config(subject, lambda act: _act_shape_dtype_one(subject, act))


def _act_shape_dtype_one(subject: Subject, act: Any) -> None:
    for dtype in (np.float32, np.float64):
        for k, shape in enumerate([(7, 5), (1, 3), (4, 1)]):
            z = _z(subject, 10 + k, shape, dtype=dtype)
            g = subject.rng(20 + k).normal(size=shape).astype(dtype)
            a = _forward(act, z)
            results = [("forward(z)", a)]
            if _has_derivative(act, z, np.asarray(a)):
                results.append(("derivative(z, a)", _derivative(act, z, a)))
            results.append(("backward(z, a, grad)", _backward(act, z, a, g)))
            for what, out in results:
                if not isinstance(out, np.ndarray) or out.shape != z.shape or out.dtype != z.dtype:
                    found = (f"{type(out).__name__}" if not isinstance(out, np.ndarray)
                             else f"shape {out.shape}, dtype {out.dtype}")
                    fail(f"{what} on a {np.dtype(dtype).name} array of shape {shape} must return an array of "
                         f"the same shape and dtype: preserve the input dtype (avoid np.float64 constants and "
                         f"astype(float); plain Python floats keep float32 as float32)",
                         expected=f"shape {shape}, dtype {np.dtype(dtype).name}", found=found)


@spec_check("ACT-BATCH", "activation", layer="contract", title="vectorised: a batch equals its rows (and entries)",
            formula=r"\varphi(Z)_{k\cdot} = \varphi(Z_{k\cdot});\ \text{element-wise: } "
                    r"\varphi(Z)_{kj} = \varphi(z_{kj})",
            notes=("activations", "layers"), tolerance="rtol 4096 eps64 (9.1e-13), atol 16 eps64 max(1, max|a|) (float64)")
def check_act_batch(subject: Subject) -> None:
    r"""Rows are independent samples: for a batch :math:`Z` of 96 rows (enough to expose
    batch-size-dependent code paths), :math:`\varphi(Z)` equals :math:`\varphi` applied to each
    row on its own, and so does ``backward``. An element-wise activation (``elementwise = True``)
    must moreover give the same values when every entry is evaluated on its own (``Z`` reshaped
    to one column) -- the property the chain rule ``grad * phi'(z)`` relies on.

    Tolerance: ``rtol = 4096 eps64`` (9.1e-13), ``atol = 16 eps64 * max(1, max|a|)`` in float64 -- room for a few
    rounding differences between vectorised code paths, far below any modelling difference.
    """
    act = subject.new()
    Z = _z(subject, 30, (BATCH_ROWS, 5))
    G = subject.rng(31).normal(size=Z.shape)
    A = _forward(act, Z)
    atol = 16 * EPS64 * max(1.0, float(np.max(np.abs(A))))
    rows = np.concatenate([_forward(act, Z[k:k + 1]) for k in range(Z.shape[0])], axis=0)
    fix_rows = ("a sample's output must not depend on the other samples in the batch or on the batch size "
                "(no batch statistics, no batch-size-dependent code paths)")
    assert_close(A, rows, rtol=CONSISTENCY_RTOL, atol=atol, what="forward(Z) vs forward(Z[k:k+1]) row by row", inputs=Z,
                 fix=fix_rows)
    B = _backward(act, Z, A, G)
    rows_b = np.concatenate([_backward(act, Z[k:k + 1], A[k:k + 1], G[k:k + 1]) for k in range(Z.shape[0])], axis=0)
    assert_close(B, rows_b, rtol=CONSISTENCY_RTOL, atol=16 * EPS64 * max(1.0, float(np.max(np.abs(B)))),
                 what="backward(Z, A, G) vs row by row", inputs=Z, fix=fix_rows)
    if not _elementwise(act):
        return
    fix_ew = ("the activation declares elementwise = True, so a[k, j] may depend on z[k, j] only; if phi couples "
              "the entries of a row, set elementwise = False and implement backward()")
    col = Z.reshape(-1, 1)
    A1 = _forward(act, col).reshape(Z.shape)
    assert_close(A, A1, rtol=CONSISTENCY_RTOL, atol=atol, what="forward(Z) vs every entry on its own (one column)",
                 inputs=Z, fix=fix_ew)
    B1 = _backward(act, col, A.reshape(-1, 1), G.reshape(-1, 1)).reshape(Z.shape)
    assert_close(B, B1, rtol=CONSISTENCY_RTOL, atol=16 * EPS64 * max(1.0, float(np.max(np.abs(B)))),
                 what="backward(Z, A, G) vs every entry on its own", inputs=Z, fix=fix_ew)


@spec_check("ACT-NO-MUTATION", "activation", layer="contract", title="never modifies z, a or grad",
            formula=r"z, a, g \text{ unchanged after } \varphi(z),\ \varphi'(z),\ \text{backward}(z, a, g)",
            notes=("activations",))
def check_act_no_mutation(subject: Subject) -> None:
    r"""``forward(z)``, ``forward(z, out=buf)``, ``derivative(z, a)`` and ``backward(z, a, grad)``
    (without ``out``) leave ``z``, ``a`` and ``grad`` bit-for-bit unchanged, in float32 and float64,
    on inputs with :math:`|z|` up to 40: the network reuses the cached ``z`` and ``a`` in
    backpropagation, and a caller's data must survive prediction.
    """
    act = subject.new()
    for dtype in (np.float32, np.float64):
        z = _z(subject, 40, (6, 5), dtype=dtype)
        z.reshape(-1)[3:8] = (40.0, -40.0, 25.0, -25.0, 7.0)
        g = subject.rng(41).normal(size=z.shape).astype(dtype)
        a = _forward(act, z)
        calls: list[tuple[str, Callable[[np.ndarray, np.ndarray, np.ndarray], Any]]] = [
            ("forward(z)", lambda zz, aa, gg: act.forward(zz)),
            ("forward(z, out=buf)", lambda zz, aa, gg: act.forward(zz, out=np.empty_like(zz))),
            ("backward(z, a, grad)", lambda zz, aa, gg: act.backward(zz, aa, gg)),
        ]
        if _has_derivative(act, z, a):
            calls.insert(2, ("derivative(z, a)", lambda zz, aa, gg: act.derivative(zz, aa)))
        for what, call in calls:
            zz, aa, gg = z.copy(), np.array(a, copy=True), g.copy()
            call(zz, aa, gg)
            for name, before, after in (("z", z, zz), ("a", a, aa), ("grad", g, gg)):
                if not _same(after, before):
                    fail(f"{what} modified its argument {name} in place ({np.dtype(dtype).name}): compute into a "
                         f"new array (or into out=) and never write into the inputs",
                         **_first_difference(after, before, z))


@spec_check("ACT-DETERMINISTIC", "activation", layer="contract", title="deterministic and stateless",
            formula=r"\varphi(z) \text{ bit-identical across calls, instances and call histories}",
            notes=("activations",))
def check_act_deterministic(subject: Subject) -> None:
    r"""The same input gives bit-identical ``forward`` and ``backward`` results on repeated calls,
    after calls on other inputs, and on a fresh instance: no ``np.random``, no hidden state, so
    that a seed reproduces a training run exactly. (A 64x8 batch, float64.)
    """
    z = _z(subject, 50, (64, 8))
    other = _z(subject, 51, (64, 8), scale=5.0)
    g = subject.rng(52).normal(size=z.shape)
    act = subject.new()
    a1 = _forward(act, z)
    b1 = _backward(act, z, a1, g)
    fix = ("forward() and backward() must give bit-identical results for the same input on every call and every "
           "instance: do not use np.random or keep state between calls")
    for label, instance in (("the same instance, after calls on other inputs", act), ("a fresh instance", None)):
        inst = instance if instance is not None else subject.new()
        if instance is not None:
            oa = _forward(inst, other)
            _backward(inst, other, oa, g)
        a2 = _forward(inst, z)
        if not _same(a2, a1):
            fail(f"forward(z) changed on {label}. {fix}", **_first_difference(a2, a1, z))
        b2 = _backward(inst, z, a1, g)
        if not _same(b2, b1):
            fail(f"backward(z, a, grad) changed on {label}. {fix}", **_first_difference(b2, b1, z))


@spec_check("ACT-FINITE-LARGE", "activation", layer="contract", title="finite and warning-free up to |z| = 1e4",
            formula=r"|z| \le 10^4 \Rightarrow \varphi(z),\ \varphi'(z) \text{ finite, no overflow}",
            notes=("activations",))
def check_act_finite_large(subject: Subject) -> None:
    r"""For :math:`|z|` from 0 to :math:`10^4` (both signs, rows mixing magnitudes and constant
    rows), in float32 and float64: ``forward``, ``derivative`` (element-wise ones) and
    ``backward`` with a unit upstream gradient return finite values and emit no warning
    (overflow, invalid value, division by zero). Exponentials must only see non-positive
    arguments (``exp(-|z|)``, ``expm1(min(z, 0))``, ``logaddexp``). For the component built
    with each of its configs (a scale such as ``beta`` can move the overflow threshold).
    """
    _for_each_config(subject, lambda act: _act_finite_large_one(subject, act))


def _act_finite_large_one(subject: Subject, act: Any) -> None:
    fix = ("Use a numerically stable formula: exponentials of non-positive arguments only "
           "(exp(-|z|), expm1(min(z, 0)), logaddexp), no division by quantities that can underflow")
    for dtype in (np.float32, np.float64):
        z = _large_grid(dtype)
        name = np.dtype(dtype).name
        a = catching_warnings(f"forward(z) on {name} inputs with |z| up to 1e4", fix, lambda: _forward(act, z))
        outs = [("forward(z)", a)]
        if _has_derivative(act, z, np.asarray(a)):
            outs.append(("derivative(z, a)", catching_warnings(
                f"derivative(z, a) on {name} inputs with |z| up to 1e4", fix, lambda: _derivative(act, z, a))))
        ones = np.ones_like(z)
        outs.append(("backward(z, a, 1)", catching_warnings(
            f"backward(z, a, grad) on {name} inputs with |z| up to 1e4", fix, lambda: _backward(act, z, a, ones))))
        for what, out in outs:
            out = np.asarray(out, dtype=np.float64)
            if out.shape != z.shape or not np.all(np.isfinite(out)):
                if out.shape != z.shape:
                    fail(f"{what} returned the wrong shape", expected=str(z.shape), found=str(out.shape))
                i = np.unravel_index(int(np.argmin(np.isfinite(out))), out.shape)
                fail(f"{what} is not finite on {name} inputs with |z| up to 1e4. {fix}",
                     expected="a finite value", found=repr(out[i]),
                     where=f"input {float(z[i]):.17g} (index {tuple(int(k) for k in i)}, row {z[i[0]].tolist()})")


@spec_check("ACT-CONFIG-ROUNDTRIP", "activation", layer="contract", title="config round-trips through JSON",
            formula=r"\text{create}(\text{name}, \text{json}(\text{get\_config}())) \equiv \varphi",
            notes=("activations",),
            tolerance="rtol 4096 eps64 (9.1e-13), atol 16 eps64 max(1, max|result|) (float64); every config")
def check_act_config_roundtrip(subject: Subject) -> None:
    r"""``get_config()`` returns a JSON-serialisable dict; the component rebuilt from the
    JSON-decoded config -- by its registered name through ``neuroplug.registry.create`` (as
    ``load`` does), or with ``type(c).from_config`` when unregistered -- has the same config and
    computes the same ``forward`` and ``backward`` (within ``rtol = 4096 eps64`` (9.1e-13) and
    ``atol = 16 eps64 max(1, max|result|)``: the same code, at most a parameter that went through
    JSON as 2 instead of 2.0), for the component built with each of its configs (a parameter lost
    only when it differs from its default is caught): saving a model by name and parameters must
    restore it exactly.
    """
    _for_each_config(subject, lambda act: _act_config_roundtrip_one(subject, act))


def _act_config_roundtrip_one(subject: Subject, act: Any) -> None:
    rebuilt, how = rebuild_from_config(subject, act)
    fix = ("the rebuilt component differs: store every constructor parameter as an attribute of the same name "
           "(get_config() reads them back), or override get_config()")
    z = _z(subject, 60, (6, 5))
    g = subject.rng(61).normal(size=z.shape)
    a = _forward(act, z)
    atol = 16 * EPS64 * max(1.0, float(np.max(np.abs(np.asarray(a, dtype=np.float64)))))
    assert_close(_forward(rebuilt, z), a, rtol=CONSISTENCY_RTOL, atol=atol, what=f"forward() of {how}", inputs=z, fix=fix)
    b = _backward(act, z, a, g)
    assert_close(_backward(rebuilt, z, a, g), b, rtol=CONSISTENCY_RTOL,
                 atol=16 * EPS64 * max(1.0, float(np.max(np.abs(np.asarray(b, dtype=np.float64))))),
                 what=f"backward() of {how}", inputs=z, fix=fix)


@spec_check("ACT-DERIV", "activation", layer="contract", title="derivative matches central differences",
            formula=r"\varphi'(z) \approx \frac{\varphi(z+h)-\varphi(z-h)}{2h}", notes=("chain_rule", "activations"),
            tolerance="|phi'(z) - D(h)| <= 1e-6 |D(h)| + 8 eps64 (|phi(z+h)| + |phi(z-h)|) / (2h) "
                      "+ 2/3 |D(2h) - D(h)|, "
                      "h = 1e-7; or phi'(z) between the one-sided quotients (a kink), within the same tolerance; or "
                      "|phi'(z) - D(H)| <= 1e-6 |D(H)| + |D(2H) - D(H)| + 8 eps64 (|phi(z+-H)| + |z|) / 2H, H = 1e-4; "
                      "backward(z, a, g) = g phi'(z) within 16 eps64 |g phi'| + 2 |g| tol; float64; every config")
def check_act_deriv(subject: Subject) -> None:
    r"""``backward`` (and ``derivative``) agree with numerical differentiation of ``forward`` in
    float64, for the component built with each of its configs (its own, its ``example_configs``,
    and configs drawn from its ``parameter_space``), at sample points moved at least
    :math:`10^{-3}` away from the declared ``kinks``.

    * Element-wise: :math:`\varphi'(z)` = ``backward(z, a, 1)`` is compared, entry by entry, with
      the central difference :math:`D(h) = (\varphi(z+h^+) - \varphi(z-h^-))/(h^+ + h^-)`, and the
      failure shows both; ``derivative(z, a)`` (if implemented) likewise. Then
      ``backward(z, a, g)`` must equal :math:`g\,\varphi'(z)` for a random upstream ``g``
      (``backward`` must be linear in ``g``), within :math:`16\varepsilon|g\varphi'|` plus twice
      :math:`|g|` times the tolerance :math:`\varphi'` was admitted with (another evaluation of
      :math:`\varphi'` inside ``backward`` that passes too must pass).
    * A kink the component does not declare (relu at 0, elu with :math:`\alpha \ne 1` at 0) may be
      sampled (the samples hold 0 and :math:`\pm10^{-3}`): where :math:`\varphi` is not
      differentiable the central difference is meaningless, so a value between the one-sided
      quotients :math:`(\varphi(z+h)-\varphi(z))/h` and :math:`(\varphi(z)-\varphi(z-h))/h` is also
      accepted (within the same tolerance). Where :math:`\varphi` is smooth the two quotients differ
      by :math:`h|\varphi''| \approx 10^{-7}|\varphi''|`, so this admits nothing wrong.
    * Non-element-wise (softmax): on 4 rows of 5, the numerical Jacobian
      :math:`J_{kj} \approx \partial a_j/\partial z_k` (one column per perturbed entry) gives the
      vector-Jacobian product :math:`(\partial L/\partial z)_k = \sum_j J_{kj} g_j`, which ``backward``
      must return.

    Step :math:`h = 10^{-7}`; the steps actually taken, :math:`h^+ = (z+h) - z` and
    :math:`h^- = z - (z-h)`, are exact in floating point, so the step itself adds no error.
    Tolerance: ``|err| <= 1e-6 |num| + floor`` where the rounding floor of the difference quotient is
    :math:`8\,\varepsilon_{64}(|\varphi(z+h)| + |\varphi(z-h)|)/(2h)` (a few ulps of :math:`\varphi`
    divided by the step; about 2e-8 for O(1) values). The truncation error is
    :math:`h^2 \varphi'''/6 \approx 10^{-14}` where :math:`\varphi` is smooth, but
    :math:`h\,|\Delta\varphi''|/4` at a point where :math:`\varphi` is only C1 (softsign and elu at
    0, which are sampled): about 1e-7 relative with this step, whereas :math:`h = 10^{-6}` would
    reach the 1e-6 tolerance -- hence the smaller step. For element-wise functions the floor also
    holds the Richardson estimate :math:`\tfrac23 |D(2h) - D(h)|` of that truncation error, so
    that a correct :math:`\varphi` whose derivative vanishes (:math:`z^3` at 0) is not failed.

    A forward may round terms larger than :math:`\varphi` itself -- :math:`z(1 + \operatorname{erf}
    (z/\sqrt2))/2` errs by :math:`\varepsilon|z|` where GELU's tail is :math:`10^{-12}` -- so that
    no difference quotient with step :math:`10^{-7}` resolves :math:`\varphi'`. Element-wise values
    are therefore also accepted within
    :math:`10^{-6}|D(H)| + |D(2H) - D(H)| + 8\varepsilon(|\varphi(z+H)| + |\varphi(z-H)| + |z|)/2H`
    of the central difference with the wider step :math:`H = 10^{-4}` (rounding floor on terms of
    size :math:`|z|`, truncation bounded by the change from :math:`H` to :math:`2H`).
    """
    _for_each_config(subject, lambda act: _deriv_one(subject, act))


def _deriv_one(subject: Subject, act: Any) -> None:
    kinks = _kinks(act)
    fix = ("backward() does not match numerical differentiation of forward(): check the formula of phi'(z) "
           "(derivative(), or the vector-Jacobian product in backward())")
    if _elementwise(act):
        fix += "; if phi couples the entries of a row, set elementwise = False and implement backward()"
        base = _z(subject, 70, (6, 5), scale=2.0).reshape(-1)
        z = np.concatenate([base, [-4.0, -1.5, 0.5, 1.5, 4.0]]).reshape(5, 7)
        z = away_from_kinks(z, kinks, KINK_MARGIN)
        g = subject.rng(71).normal(size=z.shape)
        h = H_DERIV
        zp, zm = z + h, z - h
        hp, hm = zp - z, z - zm
        f0 = np.asarray(_forward(act, z), dtype=np.float64)
        fp, fm = np.asarray(_forward(act, zp), dtype=np.float64), np.asarray(_forward(act, zm), dtype=np.float64)
        num = (fp - fm) / (hp + hm)
        floor = 8 * EPS64 * (np.abs(fp) + np.abs(fm)) / (hp + hm)
        # truncation error c h^2 of the difference quotient, estimated by Richardson from the 2h quotient:
        # D(2h) - D(h) = 3 c h^2, so allow 2/3 |D(2h) - D(h)| (matters where phi' = 0, e.g. z^3 at 0)
        zp2, zm2 = z + 2 * h, z - 2 * h
        num2 = (np.asarray(_forward(act, zp2), dtype=np.float64) - np.asarray(_forward(act, zm2), dtype=np.float64)) \
            / ((zp2 - z) + (z - zm2))
        allowed = 1e-6 * np.abs(num) + floor + (2 / 3) * np.abs(num2 - num)
        # one-sided quotients: where they disagree (a kink), any value between them is a derivative
        right, left = (fp - f0) / hp, (f0 - fm) / hm
        side_floor = 8 * EPS64 * (np.abs(fp) + 2 * np.abs(f0) + np.abs(fm)) / np.minimum(hp, hm)
        low, high = np.minimum(left, right), np.maximum(left, right)
        side_allowed = 1e-6 * np.maximum(np.abs(low), np.abs(high)) + side_floor
        # a wider step, for forwards whose rounding is relative to larger terms than phi (0.5 z (1 + erf) in a
        # tail where phi(z) << |z|: absolute noise eps |z|, invisible at the step h): noise floor
        # 8 eps (|phi(z+H)| + |phi(z-H)| + |z|) / 2H, truncation error bounded by |D(2H) - D(H)| (>= the error
        # when it is O(H^2) or O(H), e.g. at a point where phi is only C1)
        wide = H_WIDE
        zpw, zmw, zpw2, zmw2 = z + wide, z - wide, z + 2 * wide, z - 2 * wide
        fpw, fmw = np.asarray(_forward(act, zpw), dtype=np.float64), np.asarray(_forward(act, zmw), dtype=np.float64)
        num_w = (fpw - fmw) / ((zpw - z) + (z - zmw))
        num_w2 = (np.asarray(_forward(act, zpw2), dtype=np.float64)
                  - np.asarray(_forward(act, zmw2), dtype=np.float64)) / ((zpw2 - z) + (z - zmw2))
        wide_allowed = (1e-6 * np.abs(num_w) + np.abs(num_w2 - num_w)
                        + 8 * EPS64 * (np.abs(fpw) + np.abs(fmw) + np.abs(z)) / ((zpw - z) + (z - zmw)))
        a = _forward(act, z)

        def judge(found: Any, what: str, fix_text: str) -> None:
            found = np.asarray(found, dtype=np.float64)
            if found.shape != z.shape:
                fail(f"{what}: wrong shape. {fix_text}", expected=str(z.shape), found=str(found.shape))
            ok = (np.abs(found - num) <= allowed) | (np.abs(found - num_w) <= wide_allowed) | (
                (found >= low - side_allowed) & (found <= high + side_allowed))
            if ok.all():
                return
            i = np.unravel_index(int(np.argmax(np.where(ok, -np.inf, np.abs(found - num) - allowed))), z.shape)
            fail(f"{what}: phi'(z) differs from the central difference by {abs(found[i] - num[i]):.3g} (tolerance "
                 f"{allowed[i]:.3g}). {fix_text}",
                 expected=f"phi'(z) ~ {num[i]:.17g} (central difference, h = {h:g}; with h = {wide:g}: "
                          f"{num_w[i]:.17g}; one-sided quotients {left[i]:.17g} and {right[i]:.17g})",
                 found=f"phi'(z) = {found[i]:.17g}",
                 where=f"input {float(z[i]):.17g} (index {tuple(int(k) for k in i)})")

        d1 = _backward(act, z, a, np.ones_like(z))
        judge(d1, "backward(z, a, 1) = phi'(z)", fix)
        if _has_derivative(act, z, a):
            judge(_derivative(act, z, a), "derivative(z, a) = phi'(z)",
                  "derivative() does not match numerical differentiation of forward() (backward() does, or is "
                  "checked above): fix derivative(), which other code may call")
        # phi'(z) passed above, within the widest of the admitted tolerances: backward(z, a, g) may use another
        # evaluation of phi' that passes too (say g z pdf + g Phi), so it may differ from g * backward(z, a, 1)
        # by |g| times twice that width
        d1 = np.asarray(d1, dtype=np.float64)
        found = np.asarray(_backward(act, z, a, g), dtype=np.float64)
        expected = g * d1
        width = np.maximum(np.maximum(allowed, wide_allowed), side_allowed + (high - low))
        tol = 16 * EPS64 * np.abs(expected) + 2 * np.abs(g) * width
        bad = ~(np.abs(found - expected) <= tol) if found.shape == z.shape else np.ones(z.shape, dtype=bool)
        if bad.any():
            if found.shape != z.shape:
                fail(f"backward(z, a, g): wrong shape. {fix}", expected=str(z.shape), found=str(found.shape))
            i = np.unravel_index(int(np.argmax(np.where(bad, np.abs(found - expected) - tol, -np.inf))), z.shape)
            fail(f"backward(z, a, g) is not g * phi'(z) (phi'(z) = backward(z, a, 1) = {d1[i]:.17g} agrees with "
                 f"central differences): backward() must multiply the upstream gradient g by phi'(z) entry by entry "
                 f"(linear in g): fix backward(); if phi couples the entries of a row, set elementwise = False",
                 expected=f"g * phi'(z) = {expected[i]:.17g}", found=f"{found[i]:.17g}",
                 where=f"input {float(z[i]):.17g}, upstream g = {g[i]:.17g} (index {tuple(int(k) for k in i)})")
        return
    fix = ("backward() does not match numerical differentiation of forward(): fix backward() (the vector-Jacobian "
           "product (g J)_k = sum_j g_j d a_j / d z_k)")
    z = away_from_kinks(_z(subject, 72, (4, 5), scale=1.5), kinks, KINK_MARGIN)
    g = subject.rng(73).normal(size=z.shape)
    a = _forward(act, z)
    found = np.asarray(_backward(act, z, a, g), dtype=np.float64)
    c = z.shape[1]
    expected = np.empty_like(z)
    allowed = np.empty_like(z)
    for r in range(z.shape[0]):
        zp = np.repeat(z[r:r + 1], c, axis=0)
        zm = zp.copy()
        idx = np.arange(c)
        zp[idx, idx] += H_DERIV
        zm[idx, idx] -= H_DERIV
        step = (zp[idx, idx] - z[r]) + (z[r] - zm[idx, idx])
        fp, fm = np.asarray(_forward(act, zp), dtype=np.float64), np.asarray(_forward(act, zm), dtype=np.float64)
        jac = (fp - fm) / step[:, None]  # jac[k, j] = d a_j / d z_k
        floor = 8 * EPS64 * (np.abs(fp) + np.abs(fm)) / step[:, None]
        expected[r] = jac @ g[r]
        allowed[r] = 1e-6 * np.abs(jac) @ np.abs(g[r]) + floor @ np.abs(g[r])
    err = np.abs(found - expected)
    _report(err, allowed, found, expected, z, "backward(z, a, g) vs numerical vector-Jacobian product g J", fix)


def _report(err: np.ndarray, allowed: np.ndarray, found: Any, expected: np.ndarray, z: np.ndarray, what: str,
            fix: str) -> None:
    found = np.asarray(found, dtype=np.float64)
    if found.shape != expected.shape:
        fail(f"{what}: wrong shape. {fix}", expected=str(expected.shape), found=str(found.shape))
    bad = ~(err <= allowed)
    if not bad.any():
        return
    i = np.unravel_index(int(np.argmax(np.where(bad, err - np.nan_to_num(allowed), -np.inf))), err.shape)
    fail(f"{what}: error {err[i]:.3g} exceeds the tolerance {allowed[i]:.3g}. {fix}",
         expected=f"{expected[i]:.17g}", found=f"{found[i]:.17g}",
         where=f"input {float(z[i]):.17g} (index {tuple(int(k) for k in i)})")


@spec_check("ACT-FLOAT32", "activation", layer="contract", title="float32 results close to the float64 reference",
            formula=r"|\varphi_{32}(z) - \varphi_{64}(z)| \le 16u\,(M + |\varphi(z)| + |z|\,|\varphi'(z)|),"
                    r"\ u = 2^{-24}",
            notes=("activations",),
            tolerance="16 u (M + |phi(z)| + |z| |phi'(z)|) for forward, M = max(1, max |phi| over the inputs); "
                      "16 u (M' + |phi'(z)| + |z| (|phi''(z)| + max |phi''|)) + |phi'_64(z, a + e_a) - phi'_64(z, a)| "
                      "for backward, "
                      "M' = max(1, max |phi'|), e_a the forward bound; u = 2^-24 (float32 unit roundoff); every config")
def check_act_float32(subject: Subject) -> None:
    r"""Evaluated in float32, ``forward`` and ``backward`` are as accurate as float32 allows, for the
    component built with each of its configs.

    Inputs :math:`z` are float32 numbers in [-12, 12]; the reference is the component's own float64
    evaluation at the *same* (float32-representable) inputs, so input rounding does not count.
    A stable float32 evaluation commits relative errors of a few units of :math:`u = 2^{-24}` on the
    terms it combines and on :math:`z` inside it. The terms are of the order of the function's
    values over the range of inputs -- an ELU written :math:`\alpha e^z - \alpha` combines terms of
    size :math:`\alpha` even where :math:`\varphi(z)` is small -- so the forward bound is
    :math:`e_a = 16u(M + |\varphi(z)| + |z|\,|\varphi'(z)|)` with :math:`M = \max(1, \max|\varphi|)`
    over the inputs tested (1 for tanh, :math:`\alpha` for ELU). ``backward(z, a, 1)``
    (:math:`\varphi'(z)`, given the float32 ``a``) gets the same bound one derivative up,
    :math:`16u(M' + |\varphi'| + |z|(|\varphi''| + \max|\varphi''|))` with
    :math:`M' = \max(1, \max|\varphi'|)` and :math:`\varphi''` estimated from the float64 evaluation
    by one-sided differences (the smaller, so that a kink is not curvature); the term
    :math:`|z|\max|\varphi''|` is the size of :math:`zF'` in :math:`\varphi' = F + zF'` for
    :math:`\varphi = zF` when :math:`F'` is rounded absolutely (GELU's
    :math:`\tfrac z2(1 - \tanh^2 u)u'`), *plus* what the error
    :math:`e_a` of the cached output propagates into a derivative computed from it (PyTorch's ELU
    derivative :math:`a + \alpha` has error :math:`\approx u\alpha`): measured as the change of the
    float64 ``backward(z, a \pm e_a, 1)``. For row-wise functions (softmax) :math:`|z|\,|\varphi'|`
    is replaced by the row's :math:`\max_k |z_k|`, and ``backward`` is tested with a random
    upstream ``g`` and the bound :math:`16u\,(1 + |{\rm ref}| + \max_k |z_k|)`.
    Gradient checks by finite differences are *not* done in float32 (their rounding floor is ~1e-1).
    A half-precision or approximate float32 path (errors ~1e-3) fails.
    """
    _for_each_config(subject, lambda act: _float32_one(subject, act))


def _float32_one(subject: Subject, act: Any) -> None:
    z64 = subject.rng(80).uniform(-12.0, 12.0, size=(8, 5))
    z64.reshape(-1)[:3] = (0.0, 0.5, -0.5)
    z32 = z64.astype(np.float32)
    z = z32.astype(np.float64)  # exactly the float32 inputs
    ew = _elementwise(act)
    ref = np.asarray(_forward(act, z), dtype=np.float64)
    g = np.ones_like(z) if ew else subject.rng(81).uniform(-1.0, 1.0, size=z.shape)
    dref = np.asarray(_backward(act, z, ref, g), dtype=np.float64)
    magnitude = max(1.0, float(np.max(np.abs(ref))))
    if ew:
        cond = np.abs(z) * np.abs(dref)
        bound = 16 * U32 * (magnitude + np.abs(ref) + cond)
        # |phi''| from one-sided differences of the float64 derivative; the smaller of the two, so that a kink
        # within the step (declared or not: relu at the sample 0) does not count as curvature
        d = 1e-4
        zp, zm = z + d, z - d
        dp = np.asarray(_backward(act, zp, _forward(act, zp), g), dtype=np.float64)
        dm = np.asarray(_backward(act, zm, _forward(act, zm), g), dtype=np.float64)
        second = np.minimum(np.abs(dp - dref) / (zp - z), np.abs(dref - dm) / (z - zm))
        # the error of the cached output a propagated into a derivative computed from it
        via_a = np.maximum(np.abs(np.asarray(_backward(act, z, ref + bound, g), dtype=np.float64) - dref),
                           np.abs(np.asarray(_backward(act, z, ref - bound, g), dtype=np.float64) - dref))
        # terms of phi' = F + z F' (phi = z F): F' is rounded absolutely (1 - t^2 from t = tanh u) to about
        # u max|F'| ~ u max|phi''|, then multiplied by z
        dbound = 16 * U32 * (max(1.0, float(np.max(np.abs(dref)))) + np.abs(dref)
                             + np.abs(z) * (np.abs(second) + float(np.max(second)))) + via_a
    else:
        cond = np.repeat(np.max(np.abs(z), axis=1, keepdims=True), z.shape[1], axis=1)
        bound = 16 * U32 * (1.0 + np.abs(ref) + cond)
        dbound = 16 * U32 * (1.0 + np.abs(dref) + cond)
    found = _forward(act, z32.copy())
    _report(np.abs(np.asarray(found, dtype=np.float64) - ref), bound, found, ref, z,
            "forward() in float32 vs the float64 reference",
            "the float32 path loses accuracy: compute in the input dtype with a stable formula, without "
            "half-precision or approximate shortcuts")
    found_b = act.backward(z32.copy(), np.array(found, copy=True), g.astype(np.float32))
    _report(np.abs(np.asarray(found_b, dtype=np.float64) - dref), dbound, found_b, dref, z,
            "backward(z, a, g) in float32 vs the float64 reference" + (" (g = 1: phi'(z))" if ew else ""),
            "the float32 derivative loses accuracy: compute in the input dtype with a stable formula, without "
            "half-precision or approximate shortcuts")
