r"""Property checks of activations (layer 3): the activation tags of :data:`~.checks_properties.PROPERTIES`.

How these checks use hypothesis, and the saturation tests of the "bounded" tags, are described in
:mod:`.checks_properties`.

A declared property holds for every config: each check runs hypothesis (and its explicit grid) on the
component built with its own config, then the explicit, deterministic grid on the component built with
each of its other configs (``subject.configs()``: ``example_configs`` and configs drawn from the
``parameter_space``), so that, e.g., a slope parameter allowed to go negative cannot hide behind a
default that is monotonic. A failure names the config. The saturation tests of ``bounded_output`` and
``bounded_derivative`` run at the component's own config only: a scale parameter legitimately moves
where a function saturates (softplus' derivative with ``beta = 0.05`` is still 6 % below its bound at
``|z| = 50``), and the test's reference region is fixed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from ..framework import SpecFailure, Subject, away_from_kinks, fail, spec_check

from .properties import (
    _DTYPES, _declared,
    GRID_50, GRID_WIDE, INPUT_RADIUS, REFERENCE_RADIUS, SATURATION_SLACK, _NOISE, _Z, _fmt, _grid_rows,
    _hypothesis_settings, _increasing_rows, _row,
)

# ---------------------------------------------------------------------------- activations

def _other_configs(subject: Subject, body: Any) -> None:
    """Run ``body(instance)`` for the subject built with each of its configs but its own; failures name it."""
    from .activation import _instances, _label

    for config, act in _instances(subject)[1:]:
        try:
            body(act)
        except SpecFailure as exc:
            raise SpecFailure(f"[component built with {_label(config)}] {exc.message}", expected=exc.expected,
                              found=exc.found, where=exc.where) from None


def _elementwise(act: Any) -> bool:
    return bool(getattr(act, "elementwise", True))


def _phi(act: Any, z: np.ndarray) -> np.ndarray:
    """``forward`` in float64 on a private copy of ``z``."""
    z = np.array(z, dtype=np.float64)
    a = np.asarray(act.forward(z.copy()), dtype=np.float64)
    if a.shape != z.shape:
        fail("forward() returned the wrong shape: it must return phi(z) with the shape of z",
             expected=str(z.shape), found=str(a.shape))
    return a


def _jacobian_max(act: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``|dphi/dz|`` per entry: ``|phi'(z)|`` (element-wise), else the largest |Jacobian entry| per input entry.

    Computed with ``backward`` (the component's own derivative, which ACT-DERIV checks
    against central differences), at ``z`` moved away from the declared kinks.
    """
    z = away_from_kinks(z, tuple(getattr(act, "kinks", ()) or ()))
    a = _phi(act, z)
    if _elementwise(act):
        return z, np.abs(np.asarray(act.backward(z.copy(), a.copy(), np.ones_like(z)), dtype=np.float64))
    out = np.zeros_like(z)
    for j in range(z.shape[1]):
        g = np.zeros_like(z)
        g[:, j] = 1.0
        out = np.maximum(out, np.abs(np.asarray(act.backward(z.copy(), a.copy(), g), dtype=np.float64)))
    return z, out


def _remove(tag: str) -> str:
    return f"Fix the function, or remove {tag!r} from the declared properties"


@spec_check("PROP-MONOTONIC", "activation", layer="property", title="declared monotonic: non-decreasing",
            formula=r"z_1 \le z_2 \Rightarrow \varphi(z_1) \le \varphi(z_2)", notes=("activations",),
            tolerance="phi(z1) - phi(z2) <= 4096 eps64 (1 + max|phi|) (float64 rounding of the two evaluations)")
def check_monotonic(subject: Subject) -> None:
    r"""A function declared ``monotonic`` never decreases:
    :math:`z_1 \le z_2 \Rightarrow \varphi(z_1) \le \varphi(z_2)`.

    Checked on chains of inputs :math:`z_0 \le z_1 \le \dots` whose consecutive
    members differ in one entry: the dense grid (explicit example: step 0.005 on
    [-50, 50], then 20 points per decade to 1e4) and hypothesis chains
    ``start + scale * cumsum(steps)`` with scales 1e-6 .. 1e3. For a row-wise
    function, raising one input must not lower any output (the product order).
    A decrease larger than the float64 rounding noise
    :math:`10^{-12}(1 + \max|\varphi|)` fails. Deterministic (derandomized)."""
    _declared(subject, "monotonic")
    act = subject.new()
    elementwise = _elementwise(act)
    grid = _grid_rows(GRID_WIDE, elementwise)
    if not elementwise:  # a chain along each column: rows differing in one entry
        grid = np.concatenate([np.eye(3)[j] * GRID_WIDE[:, None] for j in range(3)])

    def verify(act: Any, rows: np.ndarray) -> None:
        a = _phi(act, rows)
        drop = a[:-1] - a[1:]
        allowed = _NOISE * (1.0 + np.maximum(np.abs(a[:-1]), np.abs(a[1:])))
        chain_break = np.any(rows[1:] < rows[:-1], axis=1)  # grid chains restart between columns
        bad = (drop > allowed) & ~chain_break[:, None]
        if bad.any():
            i, j = np.unravel_index(np.argmax(np.where(bad, drop, -np.inf)), bad.shape)
            fail(f"declares 'monotonic' but phi decreases from z1 to z2 >= z1 (by {drop[i, j]:.3g}). "
                 f"{_remove('monotonic')}",
                 expected="phi(z1) <= phi(z2)",
                 found=f"phi(z1) = {_fmt(a[i, j])}, phi(z2) = {_fmt(a[i + 1, j])}" + (
                     f" (output column {j})" if a.shape[1] > 1 else ""),
                 where=f"z1 = {_row(rows, i)}, z2 = {_row(rows, i + 1)}")

    @_hypothesis_settings(subject)
    @given(rows=_increasing_rows(elementwise))
    @example(rows=grid)
    def monotonic(rows: np.ndarray) -> None:
        verify(act, rows)

    monotonic()
    _other_configs(subject, lambda other: verify(other, grid))


@spec_check("PROP-ODD", "activation", layer="property", title="declared odd: phi(-z) = -phi(z)",
            formula=r"\varphi(-z) = -\varphi(z)", notes=("activations",),
            tolerance="|phi(z) + phi(-z)| <= 4096 eps64 (1 + |phi(z)|) (float64 rounding of the two evaluations)")
def check_odd(subject: Subject) -> None:
    r"""A function declared ``odd`` is point-symmetric: :math:`\varphi(-z) = -\varphi(z)`.

    Compared on the dense grid to ``|z| = 1e4`` (explicit example) and hypothesis
    arrays of ``|z| <= 1e4`` (for a row-wise function the whole row is negated),
    within :math:`10^{-12}(1 + |\varphi(z)|)`, the rounding noise of a float64
    implementation that is not literally symmetric. Deterministic."""
    _declared(subject, "odd")
    act = subject.new()

    def verify(act: Any, z: np.ndarray) -> None:
        a, b = _phi(act, z), _phi(act, -z)
        err = np.abs(a + b)
        excess = err - _NOISE * (1.0 + np.abs(a))
        if np.any(excess > 0):
            i, j = np.unravel_index(np.argmax(excess), z.shape)
            fail(f"declares 'odd' but phi(-z) != -phi(z) (off by {err[i, j]:.3g}). {_remove('odd')}",
                 expected=f"phi(-z) = -phi(z) = {_fmt(-a[i, j])}", found=f"phi(-z) = {_fmt(b[i, j])}",
                 where=f"z = {_row(z, i)}" + (f" (output column {j})" if z.shape[1] > 1 else ""))

    grid = _grid_rows(GRID_WIDE, _elementwise(act))

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=grid)
    def odd(z: np.ndarray) -> None:
        verify(act, z)

    odd()
    _other_configs(subject, lambda other: verify(other, grid))


#: Batches of +0.0 or -0.0: 16 cases in all (rows 1 or 3, columns 1 or 4, two dtypes, two signs).
_ZEROS = st.builds(lambda n, c, dtype, negative: np.full((n, c), -0.0 if negative else 0.0, dtype=dtype),
                   st.sampled_from([1, 3]), st.sampled_from([1, 4]), _DTYPES, st.booleans())


def _zero_at_zero(act: Any, z: np.ndarray, tag: str) -> None:
    a = act.forward(z.copy())
    nonzero = np.asarray(a) != 0
    if nonzero.any():
        i = np.unravel_index(np.argmax(nonzero), nonzero.shape)
        fail(f"declares {tag!r} but phi(0) = {_fmt(np.asarray(a)[i])}, not 0. {_remove(tag)}",
             expected="phi(0) = 0 exactly", found=f"phi(0) = {_fmt(np.asarray(a)[i])}",
             where=f"z = {'-0.0' if np.signbit(z).all() else '0.0'} ({np.asarray(z).dtype}, shape {z.shape}, "
                   f"entry {tuple(int(k) for k in i)})")


@spec_check("PROP-ZERO-AT-ZERO", "activation", layer="property", title="declared zero_at_zero: phi(0) = 0",
            formula=r"\varphi(0) = 0", notes=("activations",), tolerance="exact")
def check_zero_at_zero(subject: Subject) -> None:
    r"""A function declared ``zero_at_zero`` maps 0 to exactly 0: :math:`\varphi(0) = 0`.

    Exact equality, in float32 and float64, for +0.0 and -0.0, on batches of zeros
    of hypothesis-drawn shapes (every entry of a row-wise function's output must be
    0 on a zero row). Deterministic."""
    _declared(subject, "zero_at_zero")
    act = subject.new()

    @_hypothesis_settings(subject)
    @given(z=_ZEROS)
    @example(z=np.zeros((1, 1)))
    @example(z=np.zeros((2, 3), dtype=np.float32))
    def zero_at_zero(z: np.ndarray) -> None:
        _zero_at_zero(act, z, "zero_at_zero")

    zero_at_zero()
    for zeros in (np.zeros((2, 3)), np.full((1, 4), -0.0, dtype=np.float32)):
        _other_configs(subject, lambda other, zeros=zeros: _zero_at_zero(other, zeros, "zero_at_zero"))


@spec_check("PROP-NONNEGATIVE-OUTPUT", "activation", layer="property", title="declared nonnegative_output",
            formula=r"\varphi(z) \ge 0", notes=("activations",), tolerance="exact")
def check_nonnegative_output(subject: Subject) -> None:
    r"""A function declared ``nonnegative_output`` never returns a negative value: :math:`\varphi(z) \ge 0`.

    Exact (``-0.0`` counts as 0), on the dense grid to ``|z| = 1e4`` and on
    hypothesis arrays of ``|z| <= 1e4``. Deterministic."""
    _declared(subject, "nonnegative_output")
    act = subject.new()

    def verify(act: Any, z: np.ndarray) -> None:
        a = _phi(act, z)
        if np.any(a < 0):
            i, j = np.unravel_index(np.argmin(a), a.shape)
            fail(f"declares 'nonnegative_output' but phi(z) = {_fmt(a[i, j])} < 0. "
                 f"{_remove('nonnegative_output')}",
                 expected="phi(z) >= 0", found=f"phi(z) = {_fmt(a[i, j])}",
                 where=f"z = {_row(z, i)}" + (f" (output column {j})" if z.shape[1] > 1 else ""))

    grid = _grid_rows(GRID_WIDE, _elementwise(act))

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=grid)
    def nonnegative(z: np.ndarray) -> None:
        verify(act, z)

    nonnegative()
    _other_configs(subject, lambda other: verify(other, grid))


def _saturation(tag: str, quantity: str, reference: float, found: np.ndarray, z: np.ndarray) -> None:
    """Fail unless ``max found <= (1 + slack) * reference`` (the saturation test)."""
    if not np.isfinite(reference):
        fail(f"declares {tag!r} but {quantity} is not finite on |z| <= {REFERENCE_RADIUS:g}. {_remove(tag)}",
             expected="finite values", found=_fmt(reference))
    bound = (1.0 + SATURATION_SLACK) * reference
    if not np.all(found <= bound):  # also catches nan
        i, j = np.unravel_index(np.argmax(np.where(found <= bound, -np.inf, np.nan_to_num(found, nan=np.inf))),
                                found.shape)
        fail(f"declares {tag!r} but {quantity} keeps growing: {_fmt(found[i, j])} exceeds its maximum over "
             f"|z| <= {REFERENCE_RADIUS:g} ({_fmt(reference)}) by more than {SATURATION_SLACK:.0%}. "
             f"{_remove(tag)}",
             expected=f"{quantity} <= {_fmt(bound)} = (1 + {SATURATION_SLACK:g}) x {_fmt(reference)}",
             found=f"{quantity} = {_fmt(found[i, j])}",
             where=f"z = {_row(z, i)}" + (f" (column {j})" if z.shape[1] > 1 else ""))


@spec_check("PROP-BOUNDED-OUTPUT", "activation", layer="property", title="declared bounded_output: saturates",
            formula=r"\max_{|z| \le 10^4} |\varphi(z)| \le 1.05 \max_{|z| \le 50} |\varphi(z)|",
            notes=("activations",), tolerance="5 % growth from |z| <= 50 to |z| <= 1e4")
def check_bounded_output(subject: Subject) -> None:
    r"""A function declared ``bounded_output`` saturates: :math:`\sup_z |\varphi(z)| < \infty`, operationally

    .. math:: \max_{|z| \le 10^4} |\varphi(z)| \le (1 + 0.05) \max_{|z| \le 50} |\varphi(z)|.

    The reference maximum is taken on the dense grid of [-50, 50] (row-wise
    functions: rows with one, two or three non-zero entries); the left side on the
    geometric grid to 1e4 and hypothesis arrays of ``|z| <= 1e4``. Unbounded
    growth of order ``log|z|`` or faster fails; a bounded function must be within
    5 % of its supremum at ``|z| = 50`` (tanh, sigmoid: exactly at it; softsign:
    within 2 %). Deterministic."""
    _declared(subject, "bounded_output")
    act = subject.new()
    elementwise = _elementwise(act)
    reference = float(np.max(np.abs(_phi(act, _grid_rows(GRID_50, elementwise)))))

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=_grid_rows(GRID_WIDE, elementwise))
    def bounded(z: np.ndarray) -> None:
        _saturation("bounded_output", "|phi(z)|", reference, np.abs(_phi(act, z)), z)

    bounded()


@spec_check("PROP-ZERO-CENTRED", "activation", layer="property",
            title="declared zero_centred: phi(0) = 0, both signs, sign of the input",
            formula=r"\varphi(0) = 0,\ \operatorname{sign}\varphi(z) \in \{0, \operatorname{sign} z\},\ "
                    r"\exists z: \varphi(z) < 0 < \varphi(-z)",
            notes=("activations",), tolerance="exact")
def check_zero_centred(subject: Subject) -> None:
    r"""A function declared ``zero_centred`` has outputs centred on zero, operationally:

    1. :math:`\varphi(0) = 0` exactly;
    2. it takes both signs: some input of the grid gives a negative output and
       some a positive one;
    3. (element-wise functions) the output has the sign of the input:
       :math:`\operatorname{sign}\varphi(z) \in \{0, \operatorname{sign} z\}`, so
       negative inputs give non-positive outputs and positive inputs non-negative
       ones (0 allowed for underflow in the tails).

    This is weaker than ``odd`` (leaky relu and ELU are zero-centred, not odd) and
    excludes relu, softplus and sigmoid. (1) on zeros, (2) on the dense grid to
    ``|z| = 1e4``, (3) also on hypothesis arrays. Deterministic."""
    _declared(subject, "zero_centred")
    act = subject.new()
    elementwise = _elementwise(act)
    grid = _grid_rows(GRID_WIDE, elementwise)

    def verify_grid(act: Any) -> None:
        _zero_at_zero(act, np.zeros((1, 3)), "zero_centred")
        a = _phi(act, grid)
        if not (np.any(a < 0) and np.any(a > 0)):
            sign = "negative" if np.all(a >= 0) else "positive"
            fail(f"declares 'zero_centred' but phi is never {sign} on the grid |z| <= {INPUT_RADIUS:g}: "
                 f"its outputs are not centred on 0. {_remove('zero_centred')}",
                 expected="phi(z) < 0 for some z and phi(z) > 0 for others",
                 found=f"min phi = {_fmt(a.min())}, max phi = {_fmt(a.max())}",
                 where=f"z in [{_fmt(grid.min())}, {_fmt(grid.max())}]")

    def verify_sign(act: Any, z: np.ndarray) -> None:
        phi = _phi(act, z)
        wrong = np.sign(phi) * np.sign(z) < 0
        if wrong.any():
            i, j = np.unravel_index(np.argmax(wrong), wrong.shape)
            fail(f"declares 'zero_centred' but phi(z) has the opposite sign of z. {_remove('zero_centred')}",
                 expected="sign(phi(z)) in {0, sign(z)}", found=f"phi(z) = {_fmt(phi[i, j])}",
                 where=f"z = {_fmt(z[i, j])}")

    verify_grid(act)
    if elementwise:
        @_hypothesis_settings(subject)
        @given(z=_Z)
        @example(z=grid)
        def sign_of_input(z: np.ndarray) -> None:
            verify_sign(act, z)

        sign_of_input()

    def other_config(other: Any) -> None:
        verify_grid(other)
        if elementwise:
            verify_sign(other, grid)

    _other_configs(subject, other_config)


@spec_check("PROP-BOUNDED-DERIVATIVE", "activation", layer="property",
            title="declared bounded_derivative: phi' saturates",
            formula=r"\max_{|z| \le 10^4} |\varphi'(z)| \le 1.05 \max_{|z| \le 50} |\varphi'(z)|",
            notes=("activations", "chain_rule"), tolerance="5 % growth from |z| <= 50 to |z| <= 1e4")
def check_bounded_derivative(subject: Subject) -> None:
    r"""A function declared ``bounded_derivative`` has :math:`\sup_z |\varphi'(z)| < \infty`, operationally

    .. math:: \max_{|z| \le 10^4} |\varphi'(z)| \le (1 + 0.05) \max_{|z| \le 50} |\varphi'(z)|.

    :math:`\varphi'` is the component's ``backward`` with an upstream gradient of
    ones (row-wise functions: the largest Jacobian entry, from one-hot upstream
    gradients); ACT-DERIV checks it against central differences. Inputs are moved
    1e-3 away from declared kinks. Reference on the dense grid of [-50, 50],
    compared on the grid to 1e4 and hypothesis arrays. A derivative growing like
    ``log|z|`` or faster fails (the gradient would explode). Deterministic."""
    _declared(subject, "bounded_derivative")
    act = subject.new()
    elementwise = _elementwise(act)
    reference = float(np.max(_jacobian_max(act, _grid_rows(GRID_50, elementwise))[1]))

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=_grid_rows(GRID_WIDE, elementwise))
    def bounded(z: np.ndarray) -> None:
        moved, d = _jacobian_max(act, z)
        _saturation("bounded_derivative", "|phi'(z)|", reference, d, moved)

    bounded()
