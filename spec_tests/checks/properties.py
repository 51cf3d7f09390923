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
A loss's checks use only inputs it accepts (``_LossDomain`` in
:mod:`.properties_loss`): predictions in the range of its ``link`` (softmax:
probability rows, sigmoid: probabilities in [0, 1], none: any real -- regression
values or logits); targets drawn from what the loss *means* (a softmax link or a
cross_entropy claim: probability/one-hot rows; a sigmoid link or a
binary_cross_entropy claim: entries in [0, 1]; otherwise real values), passed
through ``prepare_targets``, kinds it refuses being skipped; and batch widths
1..5 for which ``forward`` and ``gradient`` succeed (a loss with per-class weights
accepts one width). The reduction (mean, sum or per-sample) is detected by
behaviour, never by the presence of a ``reduction`` parameter.

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
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..framework import KINDS, Subject, fail, skip, spec_check

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
#: Rounding noise allowed in float64 comparisons of values that should be equal or ordered, relative to
#: ``1 + |phi|``: two evaluations of phi (at z and -z, or at neighbouring points) each round by a few ulps per
#: operation of a formula of a dozen operations, each conditioned up to ~100 for the stable forms in use
#: (e.g. 2 sigmoid(2z) - 1 near 0): 4096 ulps of float64 (9.1e-13).
_NOISE = 4096 * float(np.finfo(np.float64).eps)


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


def _declared(subject: Subject, tag: str) -> None:
    if tag not in subject.properties:
        skip(f"does not declare {tag}")


_DTYPES = st.sampled_from([np.float64, np.float32])
