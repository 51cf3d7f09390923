r"""Spec checks, layer 3: declared properties, verified property-based with hypothesis.

A component may declare mathematical properties in its registration
(``properties=("monotonic", "odd")``). Each kind has a fixed vocabulary of tags,
:data:`PROPERTIES`, and every tag is verified by exactly one check,
:data:`VERIFIED_BY` (most here; a few by checks of the kind's own module). A
declared tag outside the vocabulary fails ``PROP-VOCABULARY-<KIND>`` with a
"did you mean" suggestion, so a typo ("monotone") is never silently unverified.

How the property checks use hypothesis
--------------------------------------
Each check defines an inner ``@given`` function and runs it with
:func:`_hypothesis_settings`: ``subject.examples`` generated examples (40 quick,
400 ``--thorough``), ``derandomize=True`` (the verdict is reproducible),
``deadline=None``, no example database, every health check suppressed,
``verbosity=quiet`` (hypothesis prints nothing), ``report_multiple_bugs=False``
and the phases *explicit*, *generate* and *shrink*:

* the explicit examples (``@example``) are dense deterministic grids -- 20,001
  points on ``[-50, 50]`` plus a geometric ladder out to ``|z| = 1e4`` -- so the
  common violations are found at once, without any search or shrinking (an
  expected failure stays cheap);
* generated examples are small arrays (at most 4 x 4) of finite float64 values
  with ``|z| <= 1e4``, built with :func:`hypothesis.extra.numpy.arrays`;
* shrinking is kept: a violation only the search finds is reported at its
  minimal example. The inner function raises :class:`SpecFailure` itself, so
  the exception hypothesis re-raises from the minimal example is that failure,
  whose ``where`` names the offending input.

Saturation tests
----------------
"Bounded" claims (``bounded_output``, ``bounded_derivative``, ``bounded_gradient``)
cannot be verified on a finite sample. Operationally a bounded quantity
*saturates*: its largest magnitude over inputs up to ``|z| <= 1e4`` exceeds its
largest magnitude over the reference region ``|z| <= 50`` by at most
:data:`SATURATION_SLACK` (5 %). Anything growing like ``log|z|`` or faster fails
(``log`` grows by a factor 2.3 from 50 to 1e4, ``relu`` by 200); a bounded
function must be within 5 % of its supremum at ``|z| = 50`` (softsign, the
slowest built-in, is within 2 %).

Inputs of losses
----------------
A loss's checks use only inputs it accepts (:class:`_LossDomain`): predictions
in the range of its ``link`` (softmax: probability rows, sigmoid: probabilities
in [0, 1], none: any real -- regression values or logits), targets of the kind
``prepare_targets`` accepts (real, [0, 1] entries, or probability rows) and batch
widths 1..5 for which ``forward`` and ``gradient`` succeed (a loss with per-class
weights accepts one width).

Reproducibility
---------------
The verdict is a function of the component, the check and the hypothesis
version: examples are derandomized and the explicit grids are fixed. (Hypothesis
also mixes constants found in the source of locally imported modules into its
draws, and caches them under ``.hypothesis/`` in the working directory.)
"""

from __future__ import annotations

import difflib
import functools
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .framework import KINDS, Subject, away_from_kinks, fail, signature_params, skip, spec_check

__all__ = [
    "PROPERTIES",
    "VERIFIED_BY",
    "SATURATION_SLACK",
    "REFERENCE_RADIUS",
    "INPUT_RADIUS",
    "unknown_properties",
]

# ------------------------------------------------------------------------------ vocabulary
#: The property tags each kind of component may declare, each with its meaning in math.
PROPERTIES: dict[str, dict[str, str]] = {
    "activation": {
        "monotonic": "z1 <= z2 => phi(z1) <= phi(z2): non-decreasing (for row-wise functions: in each input, "
                     "every output)",
        "odd": "phi(-z) = -phi(z) for every z",
        "zero_at_zero": "phi(0) = 0 exactly (float32 and float64)",
        "nonnegative_output": "phi(z) >= 0 for every z",
        "bounded_output": "sup_z |phi(z)| < inf: max |phi| over |z| <= 1e4 within 5 % of max |phi| over |z| <= 50",
        "zero_centred": "phi(0) = 0, phi takes both signs, and (element-wise) sign(phi(z)) is 0 or sign(z)",
        "bounded_derivative": "sup_z |phi'(z)| < inf: max |dphi/dz| over |z| <= 1e4 within 5 % of its max "
                              "over |z| <= 50",
    },
    "initializer": {
        "seeded": "W is a function of the generator's seed: equal seeds give equal W, different seeds different W",
        "deterministic_values": "W does not depend on the generator: W(seed 1) = W(seed 2) for all seeds",
        "uniform_bound": "low <= W_ij <= high for (low, high) = bounds(fan_in, fan_out)",
    },
    "loss": {
        "nonnegative": "L(y_hat, y) >= 0 for every prediction and target the loss accepts",
        "zero_at_perfect": "L(y, y) = 0 exactly for every target y that is also a valid prediction",
        "bounded_gradient": "sup |dL/dy_hat_i| < inf (reduction 'sum'): max over |y_hat - y| <= 1e4 within 5 % "
                            "of the max over |y_hat - y| <= 50",
        "penalizes_confidence": "an incorrect prediction costs strictly more the more confident it is: "
                                "y_k = 0, k predicted, p_k rises => L rises",
    },
    "schedule": {
        "decaying": "eta(t + 1) <= eta(t) for every step t, and eta(0) = eta_0",
    },
    "optimizer": {},
}

#: The check ID that verifies each ``(kind, tag)`` of :data:`PROPERTIES`.
VERIFIED_BY: dict[tuple[str, str], str] = {
    ("activation", "monotonic"): "PROP-MONOTONIC",
    ("activation", "odd"): "PROP-ODD",
    ("activation", "zero_at_zero"): "PROP-ZERO-AT-ZERO",
    ("activation", "nonnegative_output"): "PROP-NONNEGATIVE-OUTPUT",
    ("activation", "bounded_output"): "PROP-BOUNDED-OUTPUT",
    ("activation", "zero_centred"): "PROP-ZERO-CENTRED",
    ("activation", "bounded_derivative"): "PROP-BOUNDED-DERIVATIVE",
    ("initializer", "seeded"): "INIT-SEED-SENSITIVE",
    ("initializer", "deterministic_values"): "PROP-INIT-DETERMINISTIC",
    ("initializer", "uniform_bound"): "PROP-INIT-UNIFORM-BOUND",
    ("loss", "nonnegative"): "PROP-LOSS-NONNEGATIVE",
    ("loss", "zero_at_perfect"): "PROP-LOSS-ZERO-AT-PERFECT",
    ("loss", "bounded_gradient"): "PROP-LOSS-BOUNDED-GRADIENT",
    ("loss", "penalizes_confidence"): "PROP-LOSS-PENALIZES-CONFIDENCE",
    ("schedule", "decaying"): "SCHED-DECAY-MONOTONE",
}

if set(PROPERTIES) != set(KINDS) or set(VERIFIED_BY) != {(k, t) for k, tags in PROPERTIES.items() for t in tags}:
    raise RuntimeError("PROPERTIES and VERIFIED_BY must cover every kind and every tag")  # pragma: no cover

#: Allowed relative growth of a "bounded" quantity from the reference region to ``|z| <= 1e4``.
SATURATION_SLACK = 0.05
#: The reference region of the saturation tests: ``|z| <= 50``.
REFERENCE_RADIUS = 50.0
#: The largest input magnitude the property checks use (as the contract checks).
INPUT_RADIUS = 1e4
#: Rounding noise allowed in float64 comparisons of values that should be equal or ordered.
_NOISE = 1e-12


def unknown_properties(kind: str, properties: Any) -> list[tuple[str, list[str], list[str]]]:
    """``(tag, close matches in the kind's vocabulary, other kinds having the tag)`` for each unknown tag."""
    vocab = PROPERTIES.get(kind, {})
    out = []
    for tag in sorted(properties):
        if tag not in vocab:
            close = difflib.get_close_matches(tag, list(vocab), n=3, cutoff=0.6)
            elsewhere = [k for k, tags in PROPERTIES.items() if k != kind and tag in tags]
            out.append((tag, close, elsewhere))
    return out


def _vocabulary(subject: Subject) -> None:
    declared = sorted(subject.properties)
    if not declared:
        skip(f"declares no properties (the {subject.kind} vocabulary: "
             f"{', '.join(sorted(PROPERTIES[subject.kind])) or 'empty'})")
    unknown = unknown_properties(subject.kind, declared)
    if not unknown:
        return
    hints = []
    for tag, close, elsewhere in unknown:
        notes = [f"did you mean {' or '.join(repr(c) for c in close)}?"] if close else []
        if elsewhere:
            notes.append(f"{tag!r} is a property of {', '.join(elsewhere)} components")
        hints.append(f"{tag!r} ({'; '.join(notes) or 'unknown'})")
    vocab = sorted(PROPERTIES[subject.kind])
    fail(f"declares property tag(s) that no check verifies: {', '.join(hints)}. Fix the spelling in the "
         f"registration's properties=, or remove the tag (an unknown tag would go unverified)",
         expected=f"tags from the {subject.kind} vocabulary: {', '.join(vocab) if vocab else '(none yet)'}",
         found=", ".join(repr(t) for t, _, _ in unknown),
         where=f"properties={tuple(declared)!r}")


def _vocabulary_check(check_id: str, kind: str, article: str) -> None:
    """Register PROP-VOCABULARY-* for ``kind``: one check per kind, all running :func:`_vocabulary`."""

    def check(subject: Subject) -> None:
        _vocabulary(subject)

    check.__name__ = check.__qualname__ = f"check_vocabulary_{kind}"
    check.__doc__ = rf"""Every property tag {article} {kind} declares is in the {kind} vocabulary:
    :math:`\text{{properties}} \subseteq \text{{PROPERTIES}}[\text{{{kind}}}]`.

    A tag outside it would never be verified, so it fails, naming the closest known
    tags (``difflib``, similarity >= 0.6: ``"monotone"`` gets "did you mean
    'monotonic'?") and the kinds whose vocabulary has it. Skipped when nothing is
    declared. Deterministic, exact."""
    spec_check(check_id, kind, layer="contract", title="declared properties are known tags",
               formula=rf"\text{{properties}} \subseteq \text{{PROPERTIES}}[\text{{{kind}}}]")(check)
    globals()[check.__name__] = check


for _id, _kind, _article in (("PROP-VOCABULARY-ACT", "activation", "an"),
                             ("PROP-VOCABULARY-INIT", "initializer", "an"),
                             ("PROP-VOCABULARY-LOSS", "loss", "a"),
                             ("PROP-VOCABULARY-SCHED", "schedule", "a"),
                             ("PROP-VOCABULARY-OPT", "optimizer", "an")):
    _vocabulary_check(_id, _kind, _article)


# ------------------------------------------------------------------------------ hypothesis
# Built once at import, outside the runner's warnings-as-errors context.
_HEALTH_CHECKS = list(HealthCheck)
_BASE_SETTINGS = dict(
    derandomize=True, deadline=None, database=None, suppress_health_check=_HEALTH_CHECKS,
    phases=(Phase.explicit, Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
    report_multiple_bugs=False, print_blob=False,
)
if hasattr(settings.default, "backend"):
    _BASE_SETTINGS["backend"] = "hypothesis"


def _hypothesis_settings(subject: Subject) -> settings:
    """The settings of every property check (see the module docstring)."""
    return settings(max_examples=subject.examples, **_BASE_SETTINGS)


# Strategies are cached: hypothesis computes properties of each new strategy object, and
# building them inside every draw costs more than the draws themselves.
@functools.lru_cache(maxsize=None)
def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, width=64)


@functools.lru_cache(maxsize=None)
def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@functools.lru_cache(maxsize=None)
def _array(shape: Any, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (a tuple, or a strategy) with entries in ``[low, high]``."""
    return hnp.arrays(np.float64, shape, elements=_floats(low, high))


_Z = _array(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4), -INPUT_RADIUS, INPUT_RADIUS)
_STEP_COUNTS = st.integers(1, 8)
_SCALE_CHOICE = st.sampled_from((1.0, 1e-3, 1e-1, 10.0, 1e-6, 1e3))


@st.composite
def _increasing_rows(draw: Any, elementwise: bool) -> np.ndarray:
    """Rows ``r_0 <= r_1 <= ...`` that differ only in one column, which is non-decreasing."""
    width = 1 if elementwise else draw(_ints(1, 4))
    col = draw(_ints(0, width - 1))
    context = draw(_array((width,), -INPUT_RADIUS, INPUT_RADIUS))
    start = draw(_floats(-INPUT_RADIUS, INPUT_RADIUS))
    scale = draw(_SCALE_CHOICE)
    steps = draw(_array(_STEP_COUNTS, 0.0, 1.0))
    path = np.minimum(start + scale * np.concatenate([[0.0], np.cumsum(steps)]), INPUT_RADIUS)
    rows = np.tile(context, (path.size, 1))
    rows[:, col] = path
    return rows


# ---------------------------------------------------------------------------- input grids
_NEAR = np.linspace(-REFERENCE_RADIUS, REFERENCE_RADIUS, 20001)          # step 0.005
_LADDER = np.geomspace(1e-8, INPUT_RADIUS, 241)                          # 20 points per decade
GRID_50 = np.unique(np.concatenate([_NEAR, _LADDER[_LADDER <= REFERENCE_RADIUS],
                                    -_LADDER[_LADDER <= REFERENCE_RADIUS], [0.0]]))
GRID_WIDE = np.unique(np.concatenate([_NEAR, _LADDER, -_LADDER, [0.0]]))


def _grid_rows(values: np.ndarray, elementwise: bool) -> np.ndarray:
    """Evaluation rows: a column for an element-wise function; for a row-wise one, 3-wide rows
    ``[v,0,0], [0,v,0], [0,0,v], [v,-v,0], [v,v/2,-v]``."""
    if elementwise:
        return values[:, None].copy()
    z = np.zeros_like(values)
    return np.concatenate([np.stack(c, axis=1) for c in (
        (values, z, z), (z, values, z), (z, z, values), (values, -values, z), (values, values / 2, -values))])


def _fmt(x: Any) -> str:
    """A float with full precision (shortest round-trip form), or a small array of them."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        return repr(float(a))
    if a.ndim == 1 and a.size <= 16:
        return "[" + ", ".join(repr(float(v)) for v in a) + "]"
    return np.array2string(a, precision=17, separator=", ", threshold=64, max_line_width=200)


def _row(z: np.ndarray, i: int) -> str:
    """Row ``i`` of an input batch: a scalar for one column, the row otherwise."""
    return _fmt(z[i, 0]) if z.shape[1] == 1 else _fmt(z[i])


# ---------------------------------------------------------------------------- activations
def _declared(subject: Subject, tag: str) -> None:
    if tag not in subject.properties:
        skip(f"does not declare {tag}")


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
            tolerance="phi(z1) - phi(z2) <= 1e-12 (1 + max|phi|) (float64 rounding)")
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

    @_hypothesis_settings(subject)
    @given(rows=_increasing_rows(elementwise))
    @example(rows=grid)
    def monotonic(rows: np.ndarray) -> None:
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

    monotonic()


@spec_check("PROP-ODD", "activation", layer="property", title="declared odd: phi(-z) = -phi(z)",
            formula=r"\varphi(-z) = -\varphi(z)", notes=("activations",),
            tolerance="|phi(z) + phi(-z)| <= 1e-12 (1 + |phi(z)|)")
def check_odd(subject: Subject) -> None:
    r"""A function declared ``odd`` is point-symmetric: :math:`\varphi(-z) = -\varphi(z)`.

    Compared on the dense grid to ``|z| = 1e4`` (explicit example) and hypothesis
    arrays of ``|z| <= 1e4`` (for a row-wise function the whole row is negated),
    within :math:`10^{-12}(1 + |\varphi(z)|)`, the rounding noise of a float64
    implementation that is not literally symmetric. Deterministic."""
    _declared(subject, "odd")
    act = subject.new()

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=_grid_rows(GRID_WIDE, _elementwise(act)))
    def odd(z: np.ndarray) -> None:
        a, b = _phi(act, z), _phi(act, -z)
        err = np.abs(a + b)
        excess = err - _NOISE * (1.0 + np.abs(a))
        if np.any(excess > 0):
            i, j = np.unravel_index(np.argmax(excess), z.shape)
            fail(f"declares 'odd' but phi(-z) != -phi(z) (off by {err[i, j]:.3g}). {_remove('odd')}",
                 expected=f"phi(-z) = -phi(z) = {_fmt(-a[i, j])}", found=f"phi(-z) = {_fmt(b[i, j])}",
                 where=f"z = {_row(z, i)}" + (f" (output column {j})" if z.shape[1] > 1 else ""))

    odd()


_DTYPES = st.sampled_from([np.float64, np.float32])
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


@spec_check("PROP-NONNEGATIVE-OUTPUT", "activation", layer="property", title="declared nonnegative_output",
            formula=r"\varphi(z) \ge 0", notes=("activations",), tolerance="exact")
def check_nonnegative_output(subject: Subject) -> None:
    r"""A function declared ``nonnegative_output`` never returns a negative value: :math:`\varphi(z) \ge 0`.

    Exact (``-0.0`` counts as 0), on the dense grid to ``|z| = 1e4`` and on
    hypothesis arrays of ``|z| <= 1e4``. Deterministic."""
    _declared(subject, "nonnegative_output")
    act = subject.new()

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=_grid_rows(GRID_WIDE, _elementwise(act)))
    def nonnegative(z: np.ndarray) -> None:
        a = _phi(act, z)
        if np.any(a < 0):
            i, j = np.unravel_index(np.argmin(a), a.shape)
            fail(f"declares 'nonnegative_output' but phi(z) = {_fmt(a[i, j])} < 0. "
                 f"{_remove('nonnegative_output')}",
                 expected="phi(z) >= 0", found=f"phi(z) = {_fmt(a[i, j])}",
                 where=f"z = {_row(z, i)}" + (f" (output column {j})" if z.shape[1] > 1 else ""))

    nonnegative()


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
    _zero_at_zero(act, np.zeros((1, 3)), "zero_centred")
    grid = _grid_rows(GRID_WIDE, elementwise)
    a = _phi(act, grid)
    if not (np.any(a < 0) and np.any(a > 0)):
        sign = "negative" if np.all(a >= 0) else "positive"
        fail(f"declares 'zero_centred' but phi is never {sign} on the grid |z| <= {INPUT_RADIUS:g}: "
             f"its outputs are not centred on 0. {_remove('zero_centred')}",
             expected="phi(z) < 0 for some z and phi(z) > 0 for others",
             found=f"min phi = {_fmt(a.min())}, max phi = {_fmt(a.max())}",
             where=f"z in [{_fmt(grid.min())}, {_fmt(grid.max())}]")
    if not elementwise:
        return

    @_hypothesis_settings(subject)
    @given(z=_Z)
    @example(z=grid)
    def sign_of_input(z: np.ndarray) -> None:
        phi = _phi(act, z)
        wrong = np.sign(phi) * np.sign(z) < 0
        if wrong.any():
            i, j = np.unravel_index(np.argmax(wrong), wrong.shape)
            fail(f"declares 'zero_centred' but phi(z) has the opposite sign of z. {_remove('zero_centred')}",
                 expected="sign(phi(z)) in {0, sign(z)}", found=f"phi(z) = {_fmt(phi[i, j])}",
                 where=f"z = {_fmt(z[i, j])}")

    sign_of_input()


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


# ------------------------------------------------------------------------------- losses
class _LossDomain:
    """What a loss accepts: the kind of predictions, of targets, and the numbers of columns.

    ``pred`` and ``target`` are "real", "unit" ([0, 1] entries) or "simplex"
    (probability rows). Predictions follow the loss's ``link`` (softmax:
    probability rows; sigmoid: probabilities; none: any real -- regression values
    or logits). Targets are what ``prepare_targets`` accepts: "real" if it takes
    negative values, else "unit" if it takes [0, 1] rows that do not sum to 1, else
    "simplex". ``columns``: the widths 1..5 for which ``forward`` and ``gradient``
    accept a valid batch (a loss with per-class weights accepts one width only).
    """

    def __init__(self, loss: Any) -> None:
        self.pred = {"softmax": "simplex", "sigmoid": "unit"}.get(getattr(loss, "link", None), "real")
        self.target = "simplex"
        for target, probe in (("real", [[-2.5, 3.5]]), ("unit", [[0.25, 0.5]])):
            try:
                loss.prepare_targets(np.array(probe), 2, np.float64)
            except Exception:
                continue
            self.target = target
            break
        self.columns = tuple(c for c in range(1, 6) if self._accepts(loss, c))
        if not self.columns:
            skip(f"accepts no batch of 1 to 5 columns (predictions: {self.pred}, targets: {self.target}); "
                 f"the property checks cannot build inputs for it")

    @property
    def simplex(self) -> bool:
        return "simplex" in (self.pred, self.target)

    def _accepts(self, loss: Any, c: int) -> bool:
        if c < 2 and self.simplex:
            return False
        y = _onehot(np.arange(2) % c, c)
        y_pred = np.full((2, c), 1.0 / c if self.pred == "simplex" else 0.5 if self.pred == "unit" else 0.25)
        try:
            loss.forward(y_pred.copy(), y.copy())
            loss.gradient(y_pred.copy(), y.copy())
        except Exception:
            return False
        return True

    @property
    def width(self) -> int:
        """The width of the explicit examples: 3 if accepted, else the widest accepted."""
        return 3 if 3 in self.columns else max(self.columns)

    def __str__(self) -> str:
        return f"predictions: {self.pred}, targets: {self.target}"


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _onehot(labels: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[labels]


def _columns(cols: list[np.ndarray], c: int) -> np.ndarray:
    """The first ``c`` of the column vectors ``cols``, padded with zero columns."""
    cols = list(cols[:c]) + [np.zeros_like(cols[0])] * max(0, c - len(cols))
    return np.concatenate(cols, axis=1)


_BOOLEANS = st.booleans()
_LOGIT_SCALE = st.sampled_from([1.0, 1e3])


@st.composite
def _targets(draw: Any, kind: str, n: int, c: int, hard: bool = False) -> np.ndarray:
    """Targets of ``kind``; ``hard``: only 0/1 entries (one-hot rows for "simplex")."""
    if kind == "real" and not hard:
        return draw(_array((n, c), -INPUT_RADIUS, INPUT_RADIUS))
    if kind == "unit" and hard:
        return np.round(draw(_array((n, c), 0.0, 1.0)))
    if kind == "unit":
        return draw(_array((n, c), 0.0, 1.0))
    if hard or kind == "real" or draw(_BOOLEANS):
        return _onehot(np.array([draw(_ints(0, c - 1)) for _ in range(n)], dtype=np.intp), c)
    return _softmax(draw(_array((n, c), -20.0, 20.0)))


@st.composite
def _loss_inputs(draw: Any, pred: str, target: str, columns: tuple[int, ...],
                 radius: float = INPUT_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """``(y_pred, y_true)`` the loss accepts; real predictions differ from real targets by at most ``radius``."""
    n = draw(_ints(1, 4))
    c = draw(st.sampled_from(columns)) if len(columns) > 1 else columns[0]
    y = draw(_targets(target, n, c))
    if pred == "unit":
        return draw(_array((n, c), 0.0, 1.0)), y
    if pred == "simplex":
        return _softmax(draw(_LOGIT_SCALE) * draw(_array((n, c), -5.0, 5.0))), y
    d = draw(_array((n, c), -radius, radius))
    return (y + d if target == "real" else d), y


def _explicit_loss_inputs(domain: _LossDomain, radius: float = INPUT_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """A dense deterministic batch of ``(y_pred, y_true)`` of ``domain.width`` columns: differences (or logits)
    on the grid to ``radius``; probabilities on a grid of [0, 1] refined towards 0 and 1."""
    c = domain.width
    g = (GRID_WIDE if radius >= INPUT_RADIUS else GRID_50)[:, None]
    if domain.pred == "real" and domain.target == "real":
        y = _columns([np.zeros_like(g), np.ones_like(g)], c)
        return y + _columns([g, -g, g / 2], c), y
    if domain.pred == "real":                            # logits against class targets
        return _columns([g, np.zeros_like(g), -g], c), _onehot(np.arange(g.shape[0]) % c, c)
    p = np.concatenate([np.linspace(0.0, 1.0, 1001), np.geomspace(1e-300, 1e-3, 30),
                        1.0 - np.geomspace(1e-16, 1e-3, 30)])[:, None]
    y = _onehot(np.arange(p.shape[0]) % c, c)
    if domain.pred == "unit":
        if domain.target != "simplex":
            y[::2] = 0.5 * (y[::2] + 0.5)
        return _columns([p, 1.0 - p, p / 2], c), y
    return _columns([p, 1.0 - p], c), y


def _summed(subject: Subject) -> Any:
    """The loss with ``reduction="sum"`` when it has that parameter, else as configured."""
    if "reduction" in signature_params(subject.factory):
        return subject.new(reduction="sum")
    return subject.new()


def _total(loss: Any, y_pred: np.ndarray, y_true: np.ndarray) -> float:
    return float(np.sum(np.asarray(loss.forward(y_pred.copy(), y_true.copy()), dtype=np.float64)))


def _offending_row(loss: Any, y_pred: np.ndarray, y_true: np.ndarray, bad: Callable[[float], bool]) -> int:
    """A row ``i`` with ``bad(L(row i))``, found by bisection (a summed loss is additive over rows)."""
    lo, hi = 0, y_pred.shape[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if bad(_total(loss, y_pred[lo:mid], y_true[lo:mid])):
            hi = mid
        else:
            lo = mid
    return lo


def _row_losses(subject: Subject) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function giving the loss of each row: the row sums of ``reduction="none"`` when the loss
    has that parameter (and it returns per-sample or per-element values), else one call per row."""
    summed = _summed(subject)
    per_element = subject.new(reduction="none") if "reduction" in signature_params(subject.factory) else None

    def losses(y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        if per_element is not None:
            values = np.asarray(per_element.forward(y_pred.copy(), y_true.copy()), dtype=np.float64)
            if values.shape == (y_pred.shape[0],):
                return values
            if values.shape == y_pred.shape:
                return values.sum(axis=1)
        return np.array([_total(summed, y_pred[i:i + 1], y_true[i:i + 1]) for i in range(y_pred.shape[0])])

    return losses


@spec_check("PROP-LOSS-NONNEGATIVE", "loss", layer="property", title="declared nonnegative: L >= 0",
            formula=r"L(\hat y, y) \ge 0", notes=("mse",), tolerance="exact")
def check_loss_nonnegative(subject: Subject) -> None:
    r"""A loss declared ``nonnegative`` is never negative: :math:`L(\hat y, y) \ge 0`.

    For every prediction and target the loss accepts (predictions in the range of
    its ``link``: any real without one; targets as ``prepare_targets`` accepts
    them; widths for which it accepts a batch): real differences up to 1e4,
    probabilities including exact 0 and 1, soft and one-hot targets. The loss of
    every sample (row) must be >= 0 -- the row sums of ``reduction="none"``, whose
    single terms may be negative as in a KL divergence -- and so must the batch
    loss with the configured reduction. Exact. Deterministic."""
    _declared(subject, "nonnegative")
    configured, row_losses = subject.new(), _row_losses(subject)
    domain = _LossDomain(configured)

    @_hypothesis_settings(subject)
    @given(case=_loss_inputs(domain.pred, domain.target, domain.columns))
    @example(case=_explicit_loss_inputs(domain))
    def nonnegative(case: tuple[np.ndarray, np.ndarray]) -> None:
        y_pred, y_true = case
        value = np.asarray(configured.forward(y_pred.copy(), y_true.copy()), dtype=np.float64)
        rows = row_losses(y_pred, y_true)
        if np.any(rows < 0) or (value.ndim == 0 and value < 0):
            i = int(np.argmin(rows))
            fail("declares 'nonnegative' but the loss is negative. Fix the loss, or remove 'nonnegative' from the "
                 "declared properties",
                 expected="L >= 0", found=f"L = {_fmt(rows[i])} for row {i}" + (
                     f"; L = {_fmt(value)} for the batch ({getattr(configured, 'reduction', 'configured')})"
                     if value.ndim == 0 else ""),
                 where=f"y_pred = {_fmt(y_pred[i])}, y_true = {_fmt(y_true[i])} (row {i} of "
                       f"{y_pred.shape[0]}; {domain})")

    nonnegative()


@st.composite
def _perfect(draw: Any, kind: str, columns: tuple[int, ...]) -> np.ndarray:
    """Targets that are also perfect predictions (0/1 entries unless ``kind`` is "real"), float64 or float32."""
    n, c = draw(_ints(1, 4)), draw(st.sampled_from(columns))
    return draw(_targets(kind, n, c, hard=kind != "real")).astype(draw(_DTYPES))


@spec_check("PROP-LOSS-ZERO-AT-PERFECT", "loss", layer="property", title="declared zero_at_perfect: L(y, y) = 0",
            formula=r"L(y, y) = 0", notes=("mse",), tolerance="exact")
def check_loss_zero_at_perfect(subject: Subject) -> None:
    r"""A loss declared ``zero_at_perfect`` is exactly zero at a perfect prediction: :math:`L(y, y) = 0`.

    For targets that are also valid predictions: any real ``|y| <= 1e4`` for a
    regression loss, 0/1 entries (one-hot rows) for a loss of probabilities --
    soft targets have an irreducible entropy. Exact equality, float64 and float32,
    with the configured reduction; the explicit example is every value of the
    grid to 1e4. Deterministic."""
    _declared(subject, "zero_at_perfect")
    loss, summed = subject.new(), _summed(subject)
    domain = _LossDomain(loss)
    kind = "real" if domain.pred == domain.target == "real" else ("simplex" if domain.simplex else "unit")
    c = domain.width
    explicit = (np.tile(GRID_WIDE[:, None], (1, c)) if kind == "real"
                else _onehot(np.arange(2 * c) % c, c) if kind == "simplex"
                else np.round(np.arange(2 * c * c).reshape(2 * c, c) % 3 / 2))

    @_hypothesis_settings(subject)
    @given(y=_perfect(kind, domain.columns))
    @example(y=explicit)
    def zero_at_perfect(y: np.ndarray) -> None:
        value = np.asarray(loss.forward(y.copy(), y.copy()))
        if np.any(value != 0):
            i = _offending_row(summed, y, y, lambda v: v != 0)
            worst = value.flat[int(np.argmax(np.abs(value)))]
            fail("declares 'zero_at_perfect' but L(y, y) != 0. Fix the loss (no constant offset, no clipping "
                 "at a perfect prediction), or remove 'zero_at_perfect' from the declared properties",
                 expected="L(y, y) = 0 exactly", found=f"L(y, y) = {_fmt(worst)}",
                 where=f"y_pred = y_true = {_fmt(y[i])} (row {i} of {y.shape[0]}, {y.dtype})")

    zero_at_perfect()


def _gradient(loss: Any, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(loss.gradient(y_pred.copy(), y_true.copy()), dtype=np.float64))


@spec_check("PROP-LOSS-BOUNDED-GRADIENT", "loss", layer="property", title="declared bounded_gradient: saturates",
            formula=r"\max_{|\hat y - y| \le 10^4} |\partial L/\partial \hat y_i| \le "
                    r"1.05 \max_{|\hat y - y| \le 50} |\partial L/\partial \hat y_i|",
            notes=("smooth_l1",), tolerance="5 % growth from |y_hat - y| <= 50 to |y_hat - y| <= 1e4")
def check_loss_bounded_gradient(subject: Subject) -> None:
    r"""A loss declared ``bounded_gradient`` has a gradient that cannot explode:
    :math:`\sup |\partial L/\partial \hat y_i| < \infty`, operationally (the saturation test)

    .. math:: \max_{|\hat y - y| \le 10^4} |\partial L/\partial \hat y_i| \le
              (1 + 0.05) \max_{|\hat y - y| \le 50} |\partial L/\partial \hat y_i|

    element-wise, with ``reduction="sum"`` (so the per-element gradient does not
    depend on the batch size; without a ``reduction`` parameter, as configured).
    Reference on the dense grid of differences in [-50, 50]; compared on the grid
    to 1e4 and hypothesis batches. For logits the same radii apply to the logits;
    for probability inputs the reference is probabilities in [0.01, 0.99]
    (logits within ±4.6) and the comparison covers all of [0, 1]. The bound is
    the loss's own, not 1: Huber's is ``delta`` (LOSS-SMOOTHL1-BOUNDED-GRAD checks
    Smooth L1's bound of 1). A gradient growing like the error (MSE) fails.
    Deterministic."""
    _declared(subject, "bounded_gradient")
    loss = _summed(subject)
    domain = _LossDomain(loss)
    c = domain.width
    if domain.pred == "real":
        ref_pred, ref_true = _explicit_loss_inputs(domain, radius=REFERENCE_RADIUS)
    else:
        logits = np.linspace(-4.6, 4.6, 2001)[:, None]
        ref_true = _onehot(np.arange(logits.shape[0]) % c, c)
        ref_logits = _columns([logits, -logits / 2], c)
        ref_pred = _sigmoid(ref_logits) if domain.pred == "unit" else _softmax(ref_logits)
    reference = float(np.max(_gradient(loss, ref_pred, ref_true)))

    @_hypothesis_settings(subject)
    @given(case=_loss_inputs(domain.pred, domain.target, (c,)))
    @example(case=_explicit_loss_inputs(domain))
    def bounded(case: tuple[np.ndarray, np.ndarray]) -> None:
        y_pred, y_true = case
        g = _gradient(loss, y_pred, y_true)
        bound = (1.0 + SATURATION_SLACK) * reference
        if not np.isfinite(reference) or not np.all(g <= bound):
            i, j = np.unravel_index(np.argmax(np.nan_to_num(g, nan=np.inf)), g.shape)
            real = domain.pred == domain.target == "real"
            fail(f"declares 'bounded_gradient' but |dL/dy_pred| keeps growing with the error: {_fmt(g[i, j])} "
                 f"exceeds its maximum for moderate errors ({_fmt(reference)}) by more than "
                 f"{SATURATION_SLACK:.0%}. Make the gradient saturate (e.g. linear loss beyond a threshold), or "
                 f"remove 'bounded_gradient' from the declared properties",
                 expected=f"|dL/dy_pred| <= {_fmt(bound)} = (1 + {SATURATION_SLACK:g}) x {_fmt(reference)} "
                          f"(reduction 'sum')",
                 found=f"|dL/dy_pred| = {_fmt(g[i, j])}",
                 where=f"y_pred = {_fmt(y_pred[i, j])}, y_true = {_fmt(y_true[i, j])}"
                       + (f" (difference {_fmt(y_pred[i, j] - y_true[i, j])})" if real else "")
                       + f", entry ({i}, {j}); {domain}")

    bounded()


#: Wrong-class probability ladder (to 1 - 1e-6) and wrong-class logit/score ladder (to 1e3).
_PROB_LADDER = np.concatenate([np.linspace(0.0, 0.99, 100), 1.0 - np.geomspace(1e-3, 1e-6, 4)])
_REAL_LADDER = np.concatenate([np.linspace(0.0, 10.0, 101), np.geomspace(12.0, 1e3, 12)])


def _confidence_path(domain: _LossDomain, base: np.ndarray, true: int | None,
                     k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_pred(t), t, incorrect)`` along a ladder on which the prediction for the wrong class ``k`` grows.

    simplex: ``p(t) = (1 - t) p0 + t e_k`` (mass moves to class k from all others);
    unit: ``p_k(t) = (1 - t) p0_k + t``; logits: ``z_k(t) = z0_k + t``; real scores
    against one-hot targets: ``y_k(t) = |z0_k| / 5 + t`` (the others perfect).
    ``incorrect`` marks the steps where the prediction is wrong: k is the largest
    entry of the row and, for element-wise probabilities or logits, past 0.5 (0).
    """
    c = base.shape[0]
    if domain.pred == "simplex":
        t = _PROB_LADDER
        rows = (1.0 - t[:, None]) * _softmax(base) + t[:, None] * np.eye(c)[k]
        middle = 0.0
    elif domain.pred == "unit":
        t = _PROB_LADDER
        rows = np.tile(_sigmoid(base), (t.size, 1))
        rows[:, k] = (1.0 - t) * rows[0, k] + t
        middle = 0.5
    elif domain.target == "real":
        t = _REAL_LADDER
        rows = np.tile(np.eye(c)[true] if true is not None else np.zeros(c), (t.size, 1))
        rows[:, k] = abs(base[k]) / 5.0 + t
        middle = 0.5
    else:
        t = _REAL_LADDER
        rows = np.tile(base, (t.size, 1))
        rows[:, k] = base[k] + t
        middle = 0.0
    incorrect = (rows[:, k] >= rows.max(axis=1)) & (rows[:, k] >= middle)
    return rows, t, incorrect


@st.composite
def _confidence_case(draw: Any, columns: tuple[int, ...]) -> tuple[np.ndarray, int | None, int]:
    """``(z0, true class or None for a single output, wrong class)``."""
    c = draw(st.sampled_from(columns))
    base = draw(_array((c,), -5.0, 5.0))
    if c == 1:
        return base, None, 0
    true, wrong = draw(_ints(0, c - 1)), draw(_ints(0, c - 2))
    return base, true, wrong + (wrong >= true)


@spec_check("PROP-LOSS-PENALIZES-CONFIDENCE", "loss", layer="property",
            title="declared penalizes_confidence: confident wrong predictions cost more",
            formula=r"y_k = 0,\ \hat y_k = \max_j \hat y_j:\ "
                    r"\hat y_k \uparrow \Rightarrow L \uparrow \text{ strictly}",
            notes=("cross_entropy",), tolerance="strict increase, float64")
def check_loss_penalizes_confidence(subject: Subject) -> None:
    r"""A loss declared ``penalizes_confidence`` grows strictly with the confidence of an incorrect prediction.

    With a hard target (one-hot :math:`y = e_c` over at least 2 classes when the
    loss accepts them, else 0 for a single output) and a
    wrong class :math:`k` (:math:`y_k = 0`), the prediction moves along a path on
    which the confidence in :math:`k` rises: probability rows
    :math:`p(t) = (1 - t)\,p_0 + t\,e_k` (softmax link), :math:`p_k(t) = (1 - t)\,p_{0k} + t`
    (sigmoid link), or the wrong-class logit or score :math:`z_k + t`. Over the
    steps where the prediction is *incorrect* -- :math:`k` is the largest entry
    (and past 0.5, or logit 0, element-wise) -- :math:`L(t_1) < L(t_2)` for
    consecutive :math:`t_1 < t_2` of the ladder (100 steps to 0.99, then to
    :math:`1 - 10^{-6}`; logits and scores: to +1000). Below that, label smoothing
    legitimately lowers the loss as a tiny wrong-class probability grows towards
    its smoothed target. The base :math:`p_0 = \operatorname{softmax}(z_0)`,
    :math:`|z_0| \le 5`, keeps probabilities above 1e-11, far from any clipping
    epsilon, so a correct cross-entropy's increase is visible in float64; a loss
    that saturates as the wrong class becomes certain fails. Hypothesis draws the
    number of classes, c, k and :math:`z_0`. Deterministic."""
    _declared(subject, "penalizes_confidence")
    domain = _LossDomain(subject.new())
    row_losses = _row_losses(subject)
    c = domain.width
    # a single output only when nothing wider is accepted (a softmax over one class is constant)
    columns = tuple(n for n in domain.columns if n >= 2) or domain.columns

    @_hypothesis_settings(subject)
    @given(case=_confidence_case(columns))
    @example(case=(np.zeros(c), 0 if c > 1 else None, 1 if c > 1 else 0))
    def penalizes(case: tuple[np.ndarray, int | None, int]) -> None:
        base, true, k = case
        y_pred, t, incorrect = _confidence_path(domain, base, true, k)
        y_true = np.tile(np.eye(base.size)[true] if true is not None else np.zeros(base.size), (t.size, 1))
        losses = row_losses(y_pred, y_true)
        flat = ~(losses[1:] > losses[:-1]) & incorrect[:-1] & incorrect[1:]
        if flat.any():
            i = int(np.argmax(flat))
            fail(f"declares 'penalizes_confidence' but the loss does not grow as the incorrect prediction for "
                 f"class {k} becomes more confident: L = {_fmt(losses[i])} then {_fmt(losses[i + 1])}. Keep the "
                 f"loss increasing (no saturation or clipping of confident mistakes), or remove "
                 f"'penalizes_confidence' from the declared properties",
                 expected=f"L(y_pred_2) > L(y_pred_1) = {_fmt(losses[i])}",
                 found=f"L(y_pred_2) = {_fmt(losses[i + 1])}",
                 where=f"y_true = {_fmt(y_true[0])}, y_pred_1 = {_fmt(y_pred[i])}, "
                       f"y_pred_2 = {_fmt(y_pred[i + 1])} "
                       f"(wrong class {k}, t = {_fmt(t[i])} -> {_fmt(t[i + 1])}; {domain})")

    penalizes()


# --------------------------------------------------------------------------- initializers
#: ``(fan_in, fan_out, dtype, salt1, salt2)`` with fans in [1, 64] and two different salts.
_INIT_CASE = st.builds(lambda n, m, dtype, salt, delta: (n, m, dtype, salt, salt + delta),
                       _ints(1, 64), _ints(1, 64), _DTYPES, _ints(0, 2**31 - 1), _ints(1, 2**31))


@spec_check("PROP-INIT-DETERMINISTIC", "initializer", layer="property",
            title="declared deterministic_values: the same weights for every seed",
            formula=r"W(\mathrm{rng}_{s_1}) = W(\mathrm{rng}_{s_2})", notes=("random_init",), tolerance="exact")
def check_init_deterministic(subject: Subject) -> None:
    r"""An initializer declared ``deterministic_values`` ignores its generator:
    :math:`W(\text{rng}(s_1)) = W(\text{rng}(s_2))` exactly, for every pair of seeds.

    Hypothesis draws ``fan_in, fan_out in [1, 64]``, float32 or float64, and two
    different seeds (salts of ``subject.rng``); the explicit example is the
    asymmetric 64 x 256 in float32. Arrays compared with ``array_equal``.
    Deterministic (a correct initializer cannot fail)."""
    _declared(subject, "deterministic_values")
    init = subject.new()

    @_hypothesis_settings(subject)
    @given(case=_INIT_CASE)
    @example(case=(64, 256, np.float32, 0, 1))
    def deterministic(case: tuple[int, int, Any, int, int]) -> None:
        fan_in, fan_out, dtype, s1, s2 = case
        w1 = np.asarray(init(fan_in, fan_out, subject.rng(s1), dtype=dtype))
        w2 = np.asarray(init(fan_in, fan_out, subject.rng(s2), dtype=dtype))
        if w1.shape != w2.shape or not np.array_equal(w1, w2, equal_nan=True):
            diff = np.argwhere(w1 != w2) if w1.shape == w2.shape else np.zeros((1, 2), dtype=int)
            i, j = (int(v) for v in diff[0])
            fail("declares 'deterministic_values' but the weights depend on the generator's seed. Do not draw "
                 "from rng, or declare 'seeded' instead of 'deterministic_values'",
                 expected=f"equal weights for both seeds: W[{i}, {j}] = {_fmt(w1[i, j])}",
                 found=f"W[{i}, {j}] = {_fmt(w2[i, j])} with the second seed",
                 where=f"fan_in={fan_in}, fan_out={fan_out}, dtype={np.dtype(dtype).name}, "
                       f"rng salts {s1} and {s2}")

    deterministic()


@spec_check("PROP-INIT-UNIFORM-BOUND", "initializer", layer="property",
            title="declared uniform_bound: weights within bounds(fan_in, fan_out)",
            formula=r"\mathrm{low} \le W_{ij} \le \mathrm{high},\ (\mathrm{low}, \mathrm{high}) = "
                    r"\mathrm{bounds}(n, m)",
            notes=("xavier", "normalized_xavier"), tolerance="exact (in the weights' dtype, compared in float64)")
def check_init_uniform_bound(subject: Subject) -> None:
    r"""An initializer declared ``uniform_bound`` draws every weight inside the interval its
    ``bounds(fan_in, fan_out)`` method reports: :math:`\text{low} \le W_{ij} \le \text{high}`.

    Exact, in float32 and float64 (a float32 weight must be rounded *inward*: it
    may not exceed the float64 bound). Shapes: the asymmetric 64 x 256 and
    256 x 64, 1 x 1, 1 x 300 (explicit examples) and hypothesis-drawn
    ``fan_in, fan_out in [1, 64]``, seeds from ``subject.rng``. The bounds must be
    finite with low < high. Skipped when the initializer has no ``bounds``.
    Deterministic: a correct initializer never fails (false-failure probability 0);
    whether the bound is also *reached* is the statistical INIT-* bound checks' job."""
    _declared(subject, "uniform_bound")
    init = subject.new()
    if not callable(getattr(init, "bounds", None)):
        skip("declares uniform_bound but has no bounds(fan_in, fan_out) method to state the interval "
             "(add one returning (low, high) to have the bound verified)")

    @_hypothesis_settings(subject)
    @given(case=_INIT_CASE)
    @example(case=(64, 256, np.float32, 0, 1))
    @example(case=(256, 64, np.float64, 2, 3))
    @example(case=(1, 1, np.float32, 4, 5))
    @example(case=(1, 300, np.float64, 6, 7))
    def within(case: tuple[int, int, Any, int, int]) -> None:
        fan_in, fan_out, dtype, salt, _ = case
        low, high = (float(b) for b in init.bounds(fan_in, fan_out))
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            fail("declares 'uniform_bound' but bounds() is not a finite interval low < high. Return the support "
                 "of the distribution, or remove 'uniform_bound' from the declared properties",
                 expected="finite low < high", found=f"bounds() = ({_fmt(low)}, {_fmt(high)})",
                 where=f"fan_in={fan_in}, fan_out={fan_out}")
        w = np.asarray(init(fan_in, fan_out, subject.rng(salt), dtype=dtype)).astype(np.float64)
        outside = (w < low) | (w > high) | np.isnan(w)
        if outside.any():
            i, j = np.unravel_index(np.argmax(np.maximum(low - w, w - high)), w.shape)
            fail(f"declares 'uniform_bound' but a weight lies outside bounds(fan_in, fan_out) = "
                 f"[{_fmt(low)}, {_fmt(high)}] ({int(outside.sum())} of {w.size}). Draw from exactly the "
                 f"interval bounds() reports (and round float32 inward), or fix bounds()",
                 expected=f"{_fmt(low)} <= W <= {_fmt(high)}", found=f"W[{i}, {j}] = {_fmt(w[i, j])}",
                 where=f"fan_in={fan_in}, fan_out={fan_out}, dtype={np.dtype(dtype).name}, rng salt {salt}")

    within()
