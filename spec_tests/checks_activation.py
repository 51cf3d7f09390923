r"""Spec checks for activations :math:`a = \varphi(z)`.

Contract checks (every activation): interface, shape and dtype, batch
independence, no mutation, determinism, finiteness at :math:`|z| \le 10^4`,
config round trip, derivative against central differences, float32 accuracy.
Formula checks (components claiming ``tanh``, ``sigmoid`` or ``relu``): values
against the definition. Neuron and chain-rule checks (every activation): a Dense
layer computes :math:`\varphi(\sum_i x_i w_i + b)`, and backpropagation through a
network built from the activation equals numerical differentiation.

Conventions used below: ``z`` is a batch ``(N, C)`` (rows are samples); the
component is always handed *copies* of the arrays a check reuses, so that one
wrong behaviour (say, mutating ``z``) fails the check about it and no other.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .framework import (catching_warnings, Subject, assert_close, away_from_kinks, central_difference, fail, rebuild_from_config, skip,
                        spec_check)

__all__: list[str] = []

EPS64 = float(np.finfo(np.float64).eps)  # 2.2e-16
EPS32 = float(np.finfo(np.float32).eps)  # 1.2e-7
U32 = EPS32 / 2  # unit roundoff of float32, 2**-24 = 6.0e-8
#: Step of the central differences of CHAIN-RULE-ACT (float64).
H = 1e-6
#: Step of ACT-DERIV: smaller, because where phi is C1 but not C2 (softsign and elu at 0) the central
#: difference errs by O(h |jump of phi"|): 1e-6 relative with h = 1e-6, 1e-7 with this step.
H_DERIV = 1e-7
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


# ---------------------------------------------------------------------------------------------
# contract checks


@spec_check("ACT-INTERFACE", "activation", layer="contract", title="implements the Activation interface",
            formula=r"\varphi: \mathbb{R}^{N\times C} \to \mathbb{R}^{N\times C}",
            notes=("activations",))
def check_act_interface(subject: Subject) -> None:
    r"""The component is an :class:`neuroplug.Activation` that the layers can use.

    * ``elementwise`` is a bool, ``kinks`` a tuple of finite floats, ``link`` None or a str;
    * ``forward(z)`` returns a *new* ndarray (never ``z`` or a view of it: callers write into it);
    * an element-wise activation implements ``derivative(z, a)`` (:math:`\varphi'(z)`); a
      non-element-wise one overrides ``backward`` (the vector-Jacobian product);
    * ``forward(z, out=buf)`` returns :math:`\varphi(z)` (in ``buf`` or a new array), and
      ``backward(z, a, g, out=g)`` returns the same as ``backward(z, a, g)`` although ``out``
      *is* ``g`` -- the network calls it exactly so.

    Compared within ``rtol = 1e-12`` (the same computation, maybe a different code path).
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
    assert_close(res, a, rtol=1e-12, atol=1e-300, what="forward(z, out=buf)", inputs=z,
                 fix="forward(z, out=buf) must return phi(z) (written into out, or a new array) -- the same "
                     "values as forward(z)")
    g = subject.rng(2).normal(size=z.shape)
    ref = _backward(act, z, a, g)
    g2 = g.copy()
    res = act.backward(z.copy(), a.copy(), g2, out=g2)
    assert_close(res, ref, rtol=1e-12, atol=1e-300, what="backward(z, a, grad, out=grad)", inputs=z,
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
    preallocated buffers).
    """
    act = subject.new()
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
            notes=("activations", "layers"), tolerance="rtol 1e-12, atol 1e-14 * max(1, max|a|) (float64)")
def check_act_batch(subject: Subject) -> None:
    r"""Rows are independent samples: for a batch :math:`Z` of 96 rows (enough to expose
    batch-size-dependent code paths), :math:`\varphi(Z)` equals :math:`\varphi` applied to each
    row on its own, and so does ``backward``. An element-wise activation (``elementwise = True``)
    must moreover give the same values when every entry is evaluated on its own (``Z`` reshaped
    to one column) -- the property the chain rule ``grad * phi'(z)`` relies on.

    Tolerance: ``rtol = 1e-12``, ``atol = 1e-14 * max(1, max|a|)`` in float64 -- room for a few
    rounding differences between vectorised code paths, far below any modelling difference.
    """
    act = subject.new()
    Z = _z(subject, 30, (BATCH_ROWS, 5))
    G = subject.rng(31).normal(size=Z.shape)
    A = _forward(act, Z)
    atol = 1e-14 * max(1.0, float(np.max(np.abs(A))))
    rows = np.concatenate([_forward(act, Z[k:k + 1]) for k in range(Z.shape[0])], axis=0)
    fix_rows = ("a sample's output must not depend on the other samples in the batch or on the batch size "
                "(no batch statistics, no batch-size-dependent code paths)")
    assert_close(A, rows, rtol=1e-12, atol=atol, what="forward(Z) vs forward(Z[k:k+1]) row by row", inputs=Z,
                 fix=fix_rows)
    B = _backward(act, Z, A, G)
    rows_b = np.concatenate([_backward(act, Z[k:k + 1], A[k:k + 1], G[k:k + 1]) for k in range(Z.shape[0])], axis=0)
    assert_close(B, rows_b, rtol=1e-12, atol=1e-14 * max(1.0, float(np.max(np.abs(B)))),
                 what="backward(Z, A, G) vs row by row", inputs=Z, fix=fix_rows)
    if not _elementwise(act):
        return
    fix_ew = ("the activation declares elementwise = True, so a[k, j] may depend on z[k, j] only; if phi couples "
              "the entries of a row, set elementwise = False and implement backward()")
    col = Z.reshape(-1, 1)
    A1 = _forward(act, col).reshape(Z.shape)
    assert_close(A, A1, rtol=1e-12, atol=atol, what="forward(Z) vs every entry on its own (one column)",
                 inputs=Z, fix=fix_ew)
    B1 = _backward(act, col, A.reshape(-1, 1), G.reshape(-1, 1)).reshape(Z.shape)
    assert_close(B, B1, rtol=1e-12, atol=1e-14 * max(1.0, float(np.max(np.abs(B)))),
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
    arguments (``exp(-|z|)``, ``expm1(min(z, 0))``, ``logaddexp``).
    """
    act = subject.new()
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
            notes=("activations",), tolerance="rtol 1e-12 (float64)")
def check_act_config_roundtrip(subject: Subject) -> None:
    r"""``get_config()`` returns a JSON-serialisable dict; the component rebuilt from the
    JSON-decoded config -- by its registered name through ``neuroplug.registry.create`` (as
    ``load`` does), or with ``type(c).from_config`` when unregistered -- has the same config and
    computes the same ``forward`` and ``backward`` (within ``rtol = 1e-12``): saving a model by
    name and parameters must restore it exactly.
    """
    act = subject.new()
    rebuilt, how = rebuild_from_config(subject, act)
    fix = ("the rebuilt component differs: store every constructor parameter as an attribute of the same name "
           "(get_config() reads them back), or override get_config()")
    z = _z(subject, 60, (6, 5))
    g = subject.rng(61).normal(size=z.shape)
    a = _forward(act, z)
    assert_close(_forward(rebuilt, z), a, rtol=1e-12, atol=1e-300, what=f"forward() of {how}", inputs=z, fix=fix)
    assert_close(_backward(rebuilt, z, a, g), _backward(act, z, a, g), rtol=1e-12, atol=1e-300,
                 what=f"backward() of {how}", inputs=z, fix=fix)


@spec_check("ACT-DERIV", "activation", layer="contract", title="derivative matches central differences",
            formula=r"\varphi'(z) \approx \frac{\varphi(z+h)-\varphi(z-h)}{2h}", notes=("chain_rule", "activations"),
            tolerance="|err| <= 1e-6 |num| + 8 eps64 (|phi(z+h)| + |phi(z-h)|) / (2h), h = 1e-7, float64")
def check_act_deriv(subject: Subject) -> None:
    r"""``backward`` (and ``derivative``) agree with numerical differentiation of ``forward`` in
    float64, at sample points moved at least :math:`10^{-3}` away from the declared ``kinks``.

    * Element-wise: :math:`\varphi'(z) \approx (\varphi(z+h^+) - \varphi(z-h^-))/(h^+ + h^-)`
      for all entries at once, and ``backward(z, a, g)`` :math:`\approx g\,\varphi'(z)` for a random
      upstream ``g`` (``derivative(z, a)`` is checked too).
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
    """
    act = subject.new()
    kinks = _kinks(act)
    fix = ("backward() does not match numerical differentiation of forward(): check the formula of phi'(z) "
           "(derivative(), or the vector-Jacobian product in backward())")
    if _elementwise(act):
        fix += "; if phi couples the entries of a row, set elementwise = False and implement backward()"
        base = _z(subject, 70, (6, 5), scale=2.0).reshape(-1)
        z = np.concatenate([base, [-4.0, -1.5, 0.5, 1.5, 4.0]]).reshape(5, 7)
        z = away_from_kinks(z, kinks, KINK_MARGIN)
        g = subject.rng(71).normal(size=z.shape)
        zp, zm = z + H_DERIV, z - H_DERIV
        hp, hm = zp - z, z - zm
        fp, fm = np.asarray(_forward(act, zp), dtype=np.float64), np.asarray(_forward(act, zm), dtype=np.float64)
        num = (fp - fm) / (hp + hm)
        floor = 8 * EPS64 * (np.abs(fp) + np.abs(fm)) / (hp + hm)
        # truncation error c h^2 of the difference quotient, estimated by Richardson from the 2h quotient:
        # D(2h) - D(h) = 3 c h^2, so allow 2/3 |D(2h) - D(h)| (matters where phi' = 0, e.g. z^3 at 0)
        zp2, zm2 = z + 2 * H_DERIV, z - 2 * H_DERIV
        num2 = (np.asarray(_forward(act, zp2), dtype=np.float64) - np.asarray(_forward(act, zm2), dtype=np.float64)) \
            / ((zp2 - z) + (z - zm2))
        floor = floor + (2 / 3) * np.abs(num2 - num)
        a = _forward(act, z)
        found = _backward(act, z, a, g)
        err = np.abs(np.asarray(found, dtype=np.float64) - g * num)
        allowed = 1e-6 * np.abs(g * num) + np.abs(g) * floor
        _report(err, allowed, found, g * num, z, "backward(z, a, g) vs g * central difference", fix)
        if _has_derivative(act, z, a):
            found = _derivative(act, z, a)
            err = np.abs(np.asarray(found, dtype=np.float64) - num)
            if not np.all(err <= 1e-6 * np.abs(num) + floor):
                _report(err, 1e-6 * np.abs(num) + floor, found, num, z, "derivative(z, a) vs central difference",
                        "derivative() does not match numerical differentiation of forward() (backward() does, "
                        "or is checked above): fix derivative(), which other code may call")
        return
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
            formula=r"|\varphi_{32}(z) - \varphi_{64}(z)| \le 16u\,(1 + |\varphi(z)| + |z|\,|\varphi'(z)|),"
                    r"\ u = 2^{-24}",
            notes=("activations",),
            tolerance="16 u (1 + |phi(z)| + |z| |phi'(z)|) for forward, 16 u (1 + |phi'(z)| + |z| |phi''(z)|) for "
                      "backward; u = 2^-24 (float32 unit roundoff)")
def check_act_float32(subject: Subject) -> None:
    r"""Evaluated in float32, ``forward`` and ``backward`` are as accurate as float32 allows.

    Inputs :math:`z` are float32 numbers in [-12, 12]; the reference is the float64 evaluation at
    the *same* (float32-representable) inputs, so input rounding does not count. A stable
    float32 evaluation commits relative errors of a few units of :math:`u = 2^{-24}` in its
    inputs, intermediates and result, i.e. an error up to about
    :math:`c\,u(|\varphi(z)| + |z\,\varphi'(z)|)`; we allow
    :math:`16u(1 + |\varphi(z)| + |z|\,|\varphi'(z)|)`, the 1 being an absolute floor near zero
    (about 1e-6 for O(1) values). ``backward(z, a, 1)`` (:math:`\varphi'(z)`, with the float32
    ``a``) gets the same bound one derivative up, :math:`16u(1 + |\varphi'| + |z|\,|\varphi''|)`,
    with :math:`\varphi''` estimated from the float64 reference by differences. For row-wise
    functions (softmax) :math:`|z|\,|\varphi'|` is replaced by the row's :math:`\max_k |z_k|`, and
    ``backward`` is tested with a random upstream ``g`` and the bound
    :math:`16u\,\|g\|_\infty(1 + |{\rm ref}| + \max_k |z_k|)`.
    Gradient checks by finite differences are *not* done in float32 (their rounding floor is ~1e-1).
    A half-precision or approximate float32 path (errors ~1e-3) fails.
    """
    act = subject.new()
    z64 = subject.rng(80).uniform(-12.0, 12.0, size=(8, 5))
    z64.reshape(-1)[:3] = (0.0, 0.5, -0.5)
    z32 = z64.astype(np.float32)
    z = z32.astype(np.float64)  # exactly the float32 inputs
    ew = _elementwise(act)
    ref = np.asarray(_forward(act, z), dtype=np.float64)
    g = np.ones_like(z) if ew else subject.rng(81).uniform(-1.0, 1.0, size=z.shape)
    dref = np.asarray(_backward(act, z, ref, g), dtype=np.float64)
    if ew:
        cond = np.abs(z) * np.abs(dref)
        d = 1e-4
        zp, zm = z + d, z - d
        second = (np.asarray(_backward(act, zp, _forward(act, zp), g), dtype=np.float64)
                  - np.asarray(_backward(act, zm, _forward(act, zm), g), dtype=np.float64)) / ((zp - z) + (z - zm))
        dbound = 16 * U32 * (1.0 + np.abs(dref) + np.abs(z) * np.abs(second))
    else:
        cond = np.repeat(np.max(np.abs(z), axis=1, keepdims=True), z.shape[1], axis=1)
        dbound = 16 * U32 * (1.0 + np.abs(dref) + cond)
    found = _forward(act, z32.copy())
    _report(np.abs(np.asarray(found, dtype=np.float64) - ref), 16 * U32 * (1.0 + np.abs(ref) + cond), found, ref, z,
            "forward() in float32 vs the float64 reference",
            "the float32 path loses accuracy: compute in the input dtype with a stable formula, without "
            "half-precision or approximate shortcuts")
    found_b = act.backward(z32.copy(), np.array(found, copy=True), g.astype(np.float32))
    _report(np.abs(np.asarray(found_b, dtype=np.float64) - dref), dbound, found_b, dref, z,
            "backward(z, a, g) in float32 vs the float64 reference",
            "the float32 derivative loses accuracy: compute in the input dtype with a stable formula, without "
            "half-precision or approximate shortcuts")


# ---------------------------------------------------------------------------------------------
# formula checks


def _formula_grid() -> np.ndarray:
    """A column of z: a fine grid on [-20, 20], tiny values and large magnitudes up to 1e4."""
    big = np.array([25.0, 30.0, 40.0, 50.0, 100.0, 300.0, 700.0, 1e3, 1e4])
    tiny = np.array([1e-12, 1e-8, 1e-4])
    v = np.concatenate([np.linspace(-20.0, 20.0, 161), big, -big, tiny, -tiny, [0.0]])
    return v.reshape(-1, 1)


def _claims(subject: Subject, formula: str) -> None:
    if formula not in subject.implements:
        skip(f"claims no {formula} formula (neither registered under that built-in name nor implements={formula!r})")


@spec_check("ACT-TANH", "activation", layer="formula", title="tanh: values equal the definition",
            formula=r"\varphi(z) = \tanh z = \operatorname{sign}(z)\,\frac{1 - e^{-2|z|}}{1 + e^{-2|z|}}",
            notes=("neuron", "activations"), tolerance="rtol 1e-13 (float64)")
def check_act_tanh(subject: Subject) -> None:
    r"""A component claiming ``tanh`` computes :math:`\tanh z`, the activation of the notes'
    example neuron, on a grid of float64 points in [-20, 20] plus tiny values and
    :math:`|z|` up to :math:`10^4`. The reference is computed here, stably:
    :math:`\operatorname{sign}(z)\,(-\operatorname{expm1}(-2|z|))/(2 + \operatorname{expm1}(-2|z|))`
    (no overflow, full relative accuracy near 0). Tolerance ``rtol = 1e-13`` (a few ulps): a
    scaled tanh such as :math:`1.7159\tanh(2z/3)` is not tanh.
    """
    _claims(subject, "tanh")
    z = _formula_grid()
    e = np.expm1(-2.0 * np.abs(z))
    expected = np.sign(z) * (-e) / (2.0 + e)
    found = _forward(subject.new(), z)
    assert_close(found, expected, rtol=1e-13, atol=1e-300, what="tanh(z)", inputs=z,
                 fix="a component claiming tanh must compute exactly tanh(z) = (e^z - e^-z)/(e^z + e^-z), "
                     "without scaling")


@spec_check("ACT-SIGMOID", "activation", layer="formula", title="sigmoid: values equal the definition",
            formula=r"\varphi(z) = \frac{1}{1 + e^{-z}}", notes=("activations",), tolerance="rtol 1e-13 (float64)")
def check_act_sigmoid(subject: Subject) -> None:
    r"""A component claiming ``sigmoid`` computes :math:`\sigma(z) = 1/(1 + e^{-z})` on a grid of
    float64 points in [-20, 20], tiny values and :math:`|z|` up to :math:`10^4`, without
    warnings. Reference, computed here stably with :math:`e = e^{-|z|}`: :math:`1/(1+e)` for
    :math:`z \ge 0` and :math:`e/(1+e)` for :math:`z < 0` (full relative accuracy in the lower
    tail). Tolerance ``rtol = 1e-13``.
    """
    _claims(subject, "sigmoid")
    z = _formula_grid()
    e = np.exp(-np.abs(z))
    expected = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    found = _forward(subject.new(), z)
    assert_close(found, expected, rtol=1e-13, atol=1e-300, what="sigmoid(z)", inputs=z,
                 fix="a component claiming sigmoid must compute 1 / (1 + exp(-z)) (evaluated stably)")


@spec_check("ACT-RELU", "activation", layer="formula", title="relu: values equal the definition",
            formula=r"\varphi(z) = \max(z, 0)", notes=("activations",), tolerance="exact")
def check_act_relu(subject: Subject) -> None:
    r"""A component claiming ``relu`` computes :math:`\max(z, 0)` exactly -- ``z`` itself for
    :math:`z > 0` and exactly 0 otherwise (no leak) -- on a grid of float64 points in [-20, 20],
    tiny values and :math:`|z|` up to :math:`10^4`.
    """
    _claims(subject, "relu")
    z = _formula_grid()
    expected = np.where(z > 0, z, 0.0)
    found = _forward(subject.new(), z)
    assert_close(found, expected, rtol=0.0, atol=0.0, what="relu(z)", inputs=z,
                 fix="a component claiming relu must return exactly max(z, 0): z for z > 0, 0 otherwise (no leak)")


# ---------------------------------------------------------------------------------------------
# the neuron and the chain rule


@spec_check("NEURON-DENSE", "activation", layer="formula", title="a Dense layer computes phi(sum_i x_i w_i + b)",
            formula=r"a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)", notes=("neuron", "layers", "activations"),
            tolerance="rtol 1e-11, atol 1e-11 (float64)")
def check_neuron_dense(subject: Subject) -> None:
    r"""The neuron of the notes: a ``neuroplug.Dense`` layer of 3 units with this activation,
    built into a float64 ``neuroplug.Sequential`` with 4 inputs, a random weight matrix and a
    random *non-zero* bias, computes for every sample :math:`k` (96 samples) and unit :math:`j`

    .. math:: a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)

    where the sum over inputs is computed here term by term and :math:`\varphi` is the
    component's own ``forward`` applied to that sample's pre-activations alone. Both
    ``net.predict(X)`` and the training forward pass ``net.forward(X)`` are compared. Tolerance
    ``rtol = atol = 1e-11`` (the explicit sum and the matrix product differ by rounding only,
    about 1e-15).
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
    found = net.predict(X)
    assert_close(found, expected, rtol=1e-11, atol=1e-11, what="Dense(3, activation=phi).predict(X)", inputs=z,
                 fix=fix)
    found = net.forward(np.ascontiguousarray(X))
    assert_close(found, expected, rtol=1e-11, atol=1e-11, what="the training forward pass net.forward(X)",
                 inputs=z, fix=fix)


@spec_check("CHAIN-RULE-ACT", "activation", layer="formula", title="backprop through the activation equals "
            "central differences", formula=r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a}"
            r"\cdot\frac{\partial a}{\partial w} \approx \frac{L(w+h) - L(w-h)}{2h}",
            notes=("chain_rule",),
            tolerance="|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h), h = 1e-6, float64")
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
    rounding floor of the difference quotient of the loss), :math:`h = 10^{-6}`.
    """
    import neuroplug as npl

    act = subject.new()
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
