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

from .framework import (SpecFailure, Subject, assert_close, away_from_kinks, catching_warnings, central_difference,
                        fail, rebuild_from_config, skip, spec_check)

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


# ---------------------------------------------------------------------------------------------
# formula checks

#: Units of eps64 allowed per unit of the reference's error magnitude (value_scale + |z phi'|, see
#: neuroplug.spec.references.activations): a float64 evaluation in any usual algebraic form commits a
#: few roundings of terms of that size; 16 covers a chain of ~10 operations with room to spare, and is
#: still ten orders of magnitude below a modelling difference (a truncated constant is 3e-5 off).
FORMULA_ULPS = 16
#: Relative perturbation of z used to estimate |z phi''(z)| from the reference derivative.
_COND_STEP = 2.0 ** -20
_FORMULA_TOLERANCE = ("|found - ref| <= 16 eps64 (S(z) + |z| |phi'(z)|) for phi, 16 eps64 (S'(z) + |z| |phi''(z)|) for "
                      "phi' (at a kink: distance to the one-sided values' interval), where S, S' are the magnitudes "
                      "of the terms a float64 evaluation combines (the reference's value_scale/derivative_scale: 1 "
                      "for sigmoid/tanh, |z| for relu/silu/gelu, alpha (1 + e^z) for elu); row-wise: 16 eps64 times "
                      "the reference's scales (p_j (C + |z_j| + max|z|) for softmax); float64")


def _formula_grid() -> np.ndarray:
    """A column of z: a fine grid on [-20, 20] (with the kinks 0 and +-3 exactly), tiny values and large
    magnitudes up to 1e4."""
    big = np.array([25.0, 30.0, 40.0, 50.0, 100.0, 300.0, 700.0, 1e3, 1e4])
    tiny = np.array([1e-12, 1e-8, 1e-4])
    v = np.concatenate([np.linspace(-20.0, 20.0, 161), big, -big, tiny, -tiny, [0.0]])
    return v.reshape(-1, 1)


def _formula_rows(subject: Subject) -> np.ndarray:
    """Rows of 5 for row-wise formulas: random N(0, 9) rows, a constant row, rows with gaps up to 2e4."""
    z = subject.rng(120).normal(0.0, 3.0, size=(6, 5))
    extra = np.array([[7.0, 7.0, 7.0, 7.0, 7.0],
                      [1e3, 0.0, -1e3, 5.0, 999.0],
                      [-1e4, -1e4 + 1.0, -1e4 + 2.0, 3.0, 0.0],
                      [30.0, 29.0, -30.0, 1e-12, 0.0],
                      [1e4, -1e4, 0.0, 0.5, -0.5]])
    return np.concatenate([z, extra])


def _claims(subject: Subject, formula: str) -> None:
    if formula not in subject.implements:
        skip(f"claims no {formula} formula (neither registered under that built-in name nor implements={formula!r})")


def _fmt_row(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(x):.6g}" for x in np.asarray(v).reshape(-1)) + "]"


def _interval_check(found: Any, low: np.ndarray, high: np.ndarray, allowed: np.ndarray, z: np.ndarray, what: str,
                    fix: str, expected_name: str, *, rows: bool = False, g: np.ndarray | None = None) -> None:
    """Fail unless ``low - allowed <= found <= high + allowed`` everywhere; the worst entry is reported with
    its expected value (or interval, at a kink), the value found and its input."""
    found = np.asarray(found, dtype=np.float64)
    if found.shape != low.shape:
        fail(f"{what}: wrong shape. {fix}", expected=str(low.shape), found=str(found.shape))
    if not np.all(np.isfinite(found)):
        i = np.unravel_index(int(np.argmin(np.isfinite(found))), found.shape)
        fail(f"{what}: non-finite value. {fix}", expected=f"{expected_name} = {low[i]:.17g}", found=f"{found[i]!r}",
             where=_where_entry(z, i, rows, g))
    err = np.maximum(low - found, found - high)
    excess = err - allowed
    if np.all(excess <= 0):
        return
    i = np.unravel_index(int(np.argmax(excess)), excess.shape)
    expected = (f"{expected_name} = {low[i]:.17g}" if low[i] == high[i]
                else f"{expected_name} in [{low[i]:.17g}, {high[i]:.17g}] (the one-sided values at a kink)")
    fail(f"{what}: error {err[i]:.3g} exceeds the tolerance {allowed[i]:.3g}. {fix}", expected=expected,
         found=f"{found[i]:.17g}", where=_where_entry(z, i, rows, g))


def _where_entry(z: np.ndarray, i: tuple[int, ...], rows: bool, g: np.ndarray | None) -> str:
    if not rows:
        return f"z = {float(z[i]):.17g}"
    out = f"entry {int(i[1])} of the row z = {_fmt_row(z[i[0]])}"
    return out + (f", upstream g = {_fmt_row(g[i[0]])}" if g is not None else "")


def _kink_sides(formula: Any, params: dict[str, Any], z: np.ndarray, derivative: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """The reference derivative as an interval: at the formula's kinks, from the left to the right limit."""
    low, high = derivative.copy(), derivative.copy()
    kinks = tuple(formula.meta.get("kinks", ()))
    at = np.isin(z, kinks) if kinks else np.zeros(z.shape, dtype=bool)
    if at.any():
        left = formula.reference(np.nextafter(z[at], -np.inf), **params).derivative
        right = formula.reference(np.nextafter(z[at], np.inf), **params).derivative
        low[at], high[at] = np.minimum(left, right), np.maximum(left, right)
    return low, high


def _check_elementwise_formula(act: Any, formula: Any, params: dict[str, Any], label: str, *,
                               derivatives: bool = True) -> None:
    z = _formula_grid()
    ref = formula.reference(z, **params)
    low, high = _kink_sides(formula, params, z, ref.derivative)
    slope = np.maximum(np.abs(low), np.abs(high))
    dz_p = formula.reference(z * (1 + _COND_STEP), **params).derivative
    dz_m = formula.reference(z * (1 - _COND_STEP), **params).derivative
    curvature = np.abs(dz_p - dz_m) / (2 * _COND_STEP)  # ~ |z phi''(z)|
    tol_value = FORMULA_ULPS * EPS64 * (ref.value_scale + np.abs(z) * slope)
    tol_deriv = FORMULA_ULPS * EPS64 * (ref.derivative_scale + curvature)
    a = _forward(act, z)
    _interval_check(a, ref.value, ref.value, tol_value, z, f"{label}: forward(z)",
                    f"forward() must compute {formula.name} ({formula.title}): {formula.latex}, with these parameters",
                    "phi(z)")
    if not derivatives:
        return
    a = np.asarray(a)
    d = _backward(act, z, a, np.ones_like(z))
    _interval_check(d, low, high, tol_deriv, z, f"{label}: phi'(z) = backward(z, a, 1)",
                    "backward() (the default multiplies by derivative()) must return phi'(z) of the formula "
                    "with these parameters: fix derivative() or backward()", "phi'(z)")
    if _has_derivative(act, z, a):
        _interval_check(_derivative(act, z, a), low, high, tol_deriv, z, f"{label}: derivative(z, a)",
                        "derivative() must return phi'(z) of the formula with these parameters: fix derivative()",
                        "phi'(z)")


def _check_rowwise_formula(subject: Subject, act: Any, formula: Any, params: dict[str, Any], label: str) -> None:
    z = _formula_rows(subject)
    g = subject.rng(121).normal(size=z.shape)
    ref = formula.reference(z, g, **params)
    a = _forward(act, z)
    _interval_check(a, ref.value, ref.value, FORMULA_ULPS * EPS64 * ref.value_scale, z, f"{label}: forward(z)",
                    f"forward() must compute {formula.name} ({formula.title}) on each row: {formula.latex}", "phi(z)",
                    rows=True)
    d = _backward(act, z, np.asarray(a), g)
    _interval_check(d, ref.derivative, ref.derivative, FORMULA_ULPS * EPS64 * ref.derivative_scale, z,
                    f"{label}: backward(z, a, g) (the vector-Jacobian product g J)",
                    "backward() must return the vector-Jacobian product of the formula: fix backward()",
                    "(g J)_j", rows=True, g=g)


@spec_check("ACT-FORMULA", "activation", layer="formula",
            title="every claimed formula: values and derivatives equal the reference, for every config",
            formula=r"|\varphi(z) - \varphi_{\rm ref}(z)| \le 16\varepsilon(S(z) + |z\varphi'(z)|),\ "
                    r"|\varphi'(z) - \varphi'_{\rm ref}(z)| \le 16\varepsilon(S'(z) + |z\varphi''(z)|)",
            notes=("activations",), tolerance=_FORMULA_TOLERANCE)
def check_act_formula(subject: Subject) -> None:
    r"""For each formula the component claims (``implements``; the vocabulary and its references are in
    :mod:`neuroplug.spec.references.activations`) and each config of
    :func:`neuroplug.spec.formulas.formula_cases` -- its own, the formula's examples, its
    ``example_configs``, and configs drawn from the parameters' ranges (a parameter its constructor
    does not accept is taken at the formula's default) -- the component computes the formula:

    * element-wise formulas, on a float64 column of 186 points (a grid of [-20, 20] holding the kinks
      0 and :math:`\pm3` exactly, :math:`\pm10^{-12} .. \pm10^{-4}` and :math:`|z|` up to
      :math:`10^4`): ``forward(z)`` equals :math:`\varphi(z)`, and ``backward(z, a, 1)`` (and
      ``derivative(z, a)`` if implemented) equals :math:`\varphi'(z)`; at a kink of the formula
      (``meta["kinks"]``) any value between the one-sided derivatives is accepted;
    * row-wise formulas (softmax, log_softmax), on 11 rows of 5 (random, constant, gaps up to
      :math:`2\cdot10^4`): ``forward`` equals the values and ``backward(z, a, g)`` the
      vector-Jacobian product for a random ``g``.

    Tolerance, from error analysis rather than from our implementation: a float64 evaluation of a
    formula commits roundings of relative size :math:`\varepsilon_{64}` on the terms it combines,
    whose magnitude the reference gives (``value_scale`` :math:`S(z)`, ``derivative_scale``
    :math:`S'(z)`: e.g. 1 for sigmoid, since :math:`(1 + \tanh(z/2))/2` combines terms of size 1;
    :math:`\alpha(1 + e^z)` for ELU's :math:`\alpha e^z - \alpha` and :math:`a + \alpha`), plus the
    rounding of :math:`z` inside it (:math:`\varepsilon|z\varphi'(z)|`, and
    :math:`\varepsilon|z\varphi''(z)|` for the derivative, estimated from the reference). We allow
    :math:`16\varepsilon_{64}` times their sum. References are exact to :math:`10^{-19}` relative
    (extended precision), so a correct component written in any stable form passes, while a
    truncated constant (3e-5), a hard-coded parameter, or :math:`\max(z, \alpha z)` for
    :math:`\alpha > 1` fails, naming the formula, the config and the worst input.
    """
    from .formulas import formula_cases

    if not subject.implements:
        skip("claims no formula (declare implements=(...) with names of the activation vocabulary)")
    for case in formula_cases(subject):
        label = case.label + (f" (component built with {_label(case.config)})" if case.config else "")
        try:
            if case.formula.meta.get("elementwise", True):
                _check_elementwise_formula(case.component, case.formula, case.params, label)
            else:
                _check_rowwise_formula(subject, case.component, case.formula, case.params, label)
        except Warning as exc:
            fail(f"{label}: the component emitted a warning: {type(exc).__name__}: {exc} -- use a numerically "
                 f"stable formula")


def _named_formula_check(subject: Subject, name: str, fix: str, *, derivatives: bool = False) -> None:
    from .formulas import get_formula

    _claims(subject, name)
    formula = get_formula("activation", name)
    try:
        _check_elementwise_formula(subject.new(), formula, formula.params(subject.config), f"{name}",
                                   derivatives=derivatives)
    except SpecFailure as exc:
        raise SpecFailure(f"{exc.message}. {fix}", expected=exc.expected, found=exc.found, where=exc.where) from None


@spec_check("ACT-TANH", "activation", layer="formula", title="tanh: values equal the definition",
            formula=r"\varphi(z) = \tanh z = \operatorname{sign}(z)\,\frac{1 - e^{-2|z|}}{1 + e^{-2|z|}}",
            notes=("neuron", "activations"), tolerance="|found - tanh z| <= 16 eps64 (1 + |z| (1 - tanh^2 z)), float64")
def check_act_tanh(subject: Subject) -> None:
    r"""A component claiming ``tanh`` computes :math:`\tanh z`, the activation of the notes'
    example neuron, on a grid of float64 points in [-20, 20] plus tiny values and
    :math:`|z|` up to :math:`10^4`. The reference is :math:`\tanh` in extended precision
    (``references.activations.tanh``). Tolerance from error analysis: the usual forms
    (``np.tanh``, :math:`2\sigma(2z) - 1`, :math:`(1 - e)/(1 + e)` with :math:`e = e^{-2|z|}`)
    combine terms of size up to 1, so they err by a few :math:`\varepsilon_{64}` *absolutely*
    (:math:`2\sigma(2z) - 1` is 9e-17 off at :math:`z = 10^{-12}`), plus the rounding of :math:`z`
    inside them, :math:`\varepsilon|z\tanh'(z)|`: we allow
    :math:`16\varepsilon_{64}(1 + |z|(1 - \tanh^2 z))` (3.6e-15 near 0). A scaled tanh such as
    :math:`1.7159\tanh(2z/3)` is not tanh.
    """
    _named_formula_check(subject, "tanh", "a component claiming tanh must compute exactly tanh(z) = "
                                          "(e^z - e^-z)/(e^z + e^-z), without scaling")


@spec_check("ACT-SIGMOID", "activation", layer="formula", title="sigmoid: values equal the definition",
            formula=r"\varphi(z) = \frac{1}{1 + e^{-z}}", notes=("activations",),
            tolerance="|found - sigma(z)| <= 16 eps64 (1 + |z| sigma(z)(1 - sigma(z))), float64")
def check_act_sigmoid(subject: Subject) -> None:
    r"""A component claiming ``sigmoid`` computes :math:`\sigma(z) = 1/(1 + e^{-z})` on a grid of
    float64 points in [-20, 20], tiny values and :math:`|z|` up to :math:`10^4`, without
    warnings. Reference: :math:`\sigma` in extended precision (``references.activations.sigmoid``).
    Tolerance from error analysis: the usual forms (:math:`1/(1+e^{-z})`, :math:`e^z/(1+e^z)`,
    :math:`(1 + \tanh(z/2))/2`) combine terms of size up to 1, so they err by a few
    :math:`\varepsilon_{64}` absolutely (:math:`(1 + \tanh(z/2))/2` is 4e-17 off at
    :math:`z = -19`), plus :math:`\varepsilon|z\sigma'(z)|` from the rounding of :math:`z`: we allow
    :math:`16\varepsilon_{64}(1 + |z|\sigma(z)(1 - \sigma(z)))`.
    """
    _named_formula_check(subject, "sigmoid", "a component claiming sigmoid must compute 1 / (1 + exp(-z)) "
                                             "(evaluated stably)")


@spec_check("ACT-RELU", "activation", layer="formula", title="relu: values equal the definition",
            formula=r"\varphi(z) = \max(z, 0)", notes=("activations",),
            tolerance="|found - max(z, 0)| <= 16 eps64 |z| (exact in practice), float64")
def check_act_relu(subject: Subject) -> None:
    r"""A component claiming ``relu`` computes :math:`\max(z, 0)` -- ``z`` itself for
    :math:`z > 0` and 0 otherwise (no leak) -- on a grid of float64 points in [-20, 20],
    tiny values and :math:`|z|` up to :math:`10^4`. The usual forms (``maximum``,
    ``z * (z > 0)``, :math:`(z + |z|)/2`) are exact; the tolerance
    :math:`16\varepsilon_{64}|z|` (the terms involved are of size :math:`|z|`) only admits
    rounding, while a leak of slope 0.01 is 13 orders of magnitude above it.
    """
    _named_formula_check(subject, "relu", "a component claiming relu must return max(z, 0): z for z > 0, 0 "
                                          "otherwise (no leak)")


# ---------------------------------------------------------------------------------------------
# the neuron and the chain rule


@spec_check("NEURON-DENSE", "activation", layer="formula", title="a Dense layer computes phi(sum_i x_i w_i + b)",
            formula=r"a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)", notes=("neuron", "layers", "activations"),
            tolerance="per entry: 4 S dz + 16 eps64 (1 + |a|), dz = 2 (n_in + 1) eps64 (sum_i |x_i W_ij| + |b_j|), "
                      "S the largest sensitivity of phi in the row (float64)")
def check_neuron_dense(subject: Subject) -> None:
    r"""The neuron of the notes: a ``neuroplug.Dense`` layer of 3 units with this activation,
    built into a float64 ``neuroplug.Sequential`` with 4 inputs, a random weight matrix and a
    random *non-zero* bias, computes for every sample :math:`k` (96 samples) and unit :math:`j`

    .. math:: a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)

    where the sum over inputs is computed here term by term and :math:`\varphi` is the
    component's own ``forward`` applied to that sample's pre-activations alone. Both
    ``net.predict(X)`` and the training forward pass ``net.forward(X)`` are compared.

    Tolerance from error analysis (float64): the explicit sum and the matrix product each
    round :math:`z` by at most :math:`(n_{in} + 1)\,\epsilon` times
    :math:`\sum_i |x_i W_{ij}| + |b_j|`, so they differ by
    :math:`dz \le 2(n_{in}+1)\epsilon(\sum_i |x_i W_{ij}| + |b_j|)`; :math:`\varphi` passes that on
    multiplied by its sensitivity :math:`S` (the largest :math:`|\Delta\varphi|/(2h)` in the row for a
    random-sign perturbation :math:`\pm h`, :math:`h = 10^{-5}`, taken 4 times for safety), and
    rounds its own result by a few ulps: :math:`|found - expected| \le 4 S\,dz + 16\epsilon(1 + |a|)`.
    Deterministic.
    """
    import neuroplug as npl

    act = subject.new()
    n_in, n_out = 4, 3
    rng = subject.rng(90)
    X = rng.normal(size=(BATCH_ROWS, n_in))
    W = rng.normal(size=(n_in, n_out)) * (1.5 / math.sqrt(n_in))
    b = rng.choice([-1.0, 1.0], size=n_out) * rng.uniform(0.2, 1.0, size=n_out)  # |b| >= 0.2
    layer = npl.Dense(n_out, activation=act)
    net = npl.Sequential([layer], input_dim=n_in, seed=0, dtype="float64")
    net.set_weights([W, b])
    z = np.tile(b, (X.shape[0], 1))
    for i in range(n_in):  # the sum over the inputs, one term at a time
        z = z + X[:, i:i + 1] * W[i:i + 1, :]
    ref = layer.activation
    expected = np.concatenate([np.asarray(_forward(ref, z[k:k + 1]), dtype=np.float64)
                               for k in range(X.shape[0])], axis=0)
    fix = ("phi must be applied to each sample's pre-activations on its own: the result may not depend on the "
           "other samples in the batch or on the batch size")
    dz = 2 * (n_in + 1) * EPS64 * (np.abs(X) @ np.abs(W) + np.abs(b))
    h = 1e-5
    s = rng.choice([-1.0, 1.0], size=z.shape)
    with np.errstate(all="ignore"):
        sens = np.abs(np.asarray(_forward(ref, z + h * s), dtype=np.float64)
                      - np.asarray(_forward(ref, z - h * s), dtype=np.float64)) / (2 * h)
    sens = np.where(np.isfinite(sens), sens, 0.0)
    atol = (4 * sens.max(axis=1, keepdims=True) * dz.max(axis=1, keepdims=True)
            + 16 * EPS64 * (1 + np.abs(expected)))
    found = net.predict(X)
    assert_close(found, expected, rtol=0.0, atol=atol, what="Dense(3, activation=phi).predict(X)", inputs=z,
                 fix=fix)
    found = net.forward(np.ascontiguousarray(X))
    assert_close(found, expected, rtol=0.0, atol=atol, what="the training forward pass net.forward(X)",
                 inputs=z, fix=fix)


@spec_check("CHAIN-RULE-ACT", "activation", layer="formula", title="backprop through the activation equals "
            "central differences", formula=r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a}"
            r"\cdot\frac{\partial a}{\partial w} \approx \frac{L(w+h) - L(w-h)}{2h}",
            notes=("chain_rule",),
            tolerance="|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h), h = 1e-6, float64; every config")
def check_chain_rule_act(subject: Subject) -> None:
    r"""A float64 network 3 -> 4 -> 3 -> 2 whose three Dense layers all use this activation (the
    same instance, as a user would pass it), with an MSE loss
    (``neuroplug.create("loss", "mse")``) on 5 samples: ``net.loss_and_gradients(X, y, loss)``,
    i.e. backpropagation by the chain rule
    :math:`\partial L/\partial w = \partial L/\partial a\cdot\partial a/\partial w` layer by layer,
    equals central differences of the loss with respect to every weight and bias.

    Weights :math:`W \sim N(0, 1.44/\text{fan\_in})`, biases :math:`N(0, 0.25)`. If the activation
    declares ``kinks``, networks are drawn (up to 20) until every pre-activation is at least
    :math:`10^{-3}` from a kink (verified with ``away_from_kinks``), far more than a parameter step
    of :math:`10^{-6}` can move it; otherwise the check is skipped with that reason.
    Tolerance: ``|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h)`` (relative error 1e-6 plus the
    rounding floor of the difference quotient of the loss), :math:`h = 10^{-6}`. For the
    component built with each of its configs.
    """
    _for_each_config(subject, lambda act: _chain_rule_act_one(subject, act))


def _chain_rule_act_one(subject: Subject, act: Any) -> None:
    import neuroplug as npl

    kinks = _kinks(act)
    sizes = (3, 4, 3, 2)
    n = 5
    tries = 20
    for attempt in range(tries):
        rng = subject.rng(100 + attempt)
        X = rng.normal(size=(n, sizes[0]))
        y = rng.normal(size=(n, sizes[-1]))
        weights = []
        for fi, fo in zip(sizes[:-1], sizes[1:]):
            weights += [rng.normal(size=(fi, fo)) * (1.2 / math.sqrt(fi)), rng.normal(0.0, 0.5, size=fo)]
        if not kinks:
            break
        a, clear = X, True
        for W, b in zip(weights[::2], weights[1::2]):
            z = a @ W + b
            if not np.array_equal(away_from_kinks(z, kinks, KINK_MARGIN), z):
                clear = False
                break
            a = np.asarray(_forward(act, z), dtype=np.float64)
        if clear:
            break
    else:
        skip(f"a random network hit a kink {kinks} (a pre-activation within {KINK_MARGIN} of it) in all "
             f"{tries} tries")
    net = npl.Sequential([npl.Dense(m, activation=act) for m in sizes[1:]], input_dim=sizes[0], seed=0,
                         dtype="float64")
    net.set_weights(weights)
    loss = npl.create("loss", "mse")
    value, grads = net.loss_and_gradients(X, y, loss)
    names = [f"{p}{i + 1}" for i in range(len(sizes) - 1) for p in ("W", "b")]
    floor = 64 * EPS64 * max(1.0, abs(value)) / (2 * H)
    for name, p, g in zip(names, net.parameters(), grads):
        orig = p.copy()

        def f(w: np.ndarray, p: np.ndarray = p) -> float:
            p[...] = w
            return float(loss.forward(net.predict(X), y))

        try:
            num = central_difference(f, orig, H)
        finally:
            p[...] = orig
        assert_close(g, num, rtol=1e-6, atol=floor, what=f"dL/d{name} by backpropagation", inputs=orig,
                     fix="backpropagation through this activation is wrong: check backward() (phi'(z) times grad, "
                         "including backward(z, a, grad, out=grad), which the network uses) and that forward/"
                         "backward keep no state between layers")
