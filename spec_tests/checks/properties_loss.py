r"""Property checks of losses (layer 3): the loss tags of :data:`~.checks_properties.PROPERTIES`.

How these checks use hypothesis is described in :mod:`.checks_properties`. Two rules
keep them free of false failures on correct losses written differently:

* **Domains come from what the loss means** (:class:`_LossDomain`): a classification
  loss (``link`` "softmax", or a claimed ``cross_entropy``) gets probability or
  one-hot rows, a binary one (``link`` "sigmoid", or a claimed
  ``binary_cross_entropy``) [0, 1] targets -- never the negative numbers a permissive
  ``prepare_targets`` lets through. Targets go through ``prepare_targets`` first (as
  in training); kinds it refuses are outside the domain and skipped. When a failure
  may come from the domain, the message names the method to change (``prepare_targets``,
  ``link``).
* **Reductions are detected by behaviour**, never by the presence of a ``reduction``
  parameter: per-row losses from the shape of what ``forward`` returns (else one call
  per row), and a batch-size-independent gradient by comparing the gradient of a batch
  with that of the batch twice over (:func:`_unit_gradient`). A loss that is simply
  always mean-reduced is correct.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ..framework import Subject, fail, skip, spec_check

from .properties import (
    _DTYPES, _declared,
    GRID_50, GRID_WIDE, INPUT_RADIUS, REFERENCE_RADIUS, SATURATION_SLACK, _array, _fmt,
    _hypothesis_settings, _ints,
)

# ------------------------------------------------------------------------------- losses
class _LossDomain:
    """What a loss means: the kind of predictions, of targets, and the numbers of columns.

    ``pred`` and ``target`` are "real", "unit" ([0, 1] entries) or "simplex"
    (probability rows). Predictions follow the loss's ``link`` (softmax:
    probability rows; sigmoid: probabilities; none: any real -- regression values
    or logits). Targets come from what the loss *means*, not from what a permissive
    ``prepare_targets`` lets through: a classification loss -- ``link`` "softmax" or a
    claimed ``cross_entropy`` -- gets probability rows ("simplex": one-hot or soft);
    a binary one -- ``link`` "sigmoid" or a claimed ``binary_cross_entropy`` -- gets
    [0, 1] entries ("unit"). Only for any other loss is ``prepare_targets`` asked:
    "real" if it takes negative values, else "unit" if it takes [0, 1] rows that do
    not sum to 1, else "simplex". Every target is passed through ``prepare_targets``
    before ``forward``/``gradient`` (as the training loop does); a target it refuses
    (e.g. soft targets for a loss of class labels) is outside the loss's domain and
    the example is skipped. ``columns``: the widths 1..5 for which ``forward`` and
    ``gradient`` accept a valid batch (a loss with per-class weights accepts one width only).
    """

    def __init__(self, loss: Any, subject: Subject | None = None) -> None:
        link = getattr(loss, "link", None)
        claims = subject.implements if subject is not None else frozenset()
        self.loss = loss
        self.pred = {"softmax": "simplex", "sigmoid": "unit"}.get(link, "real")
        if link == "softmax" or "cross_entropy" in claims:
            self.target = "simplex"
        elif link == "sigmoid" or "binary_cross_entropy" in claims:
            self.target = "unit"
        else:
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
    def target_words(self) -> str:
        return {"real": "real numbers", "unit": "numbers in [0, 1]",
                "simplex": "probability or one-hot rows"}[self.target]

    @property
    def simplex(self) -> bool:
        return "simplex" in (self.pred, self.target)

    def prepare(self, y: np.ndarray) -> Any:
        """The targets as ``prepare_targets`` returns them (what ``forward`` receives in training)."""
        dtype = y.dtype if y.dtype.kind == "f" else np.float64
        return self.loss.prepare_targets(np.array(y, copy=True), y.shape[1], dtype)

    def prepared(self, y: np.ndarray) -> Any:
        """:meth:`prepare`, skipping the hypothesis example when ``prepare_targets`` refuses the targets."""
        try:
            return self.prepare(y)
        except Exception:  # noqa: BLE001 - outside the loss's domain (e.g. soft targets for class labels)
            assume(False)

    def _accepts(self, loss: Any, c: int) -> bool:
        if c < 2 and self.simplex:
            return False
        y_pred = np.full((2, c), 1.0 / c if self.pred == "simplex" else 0.5 if self.pred == "unit" else 0.25)
        try:
            y = self.prepare(_onehot(np.arange(2) % c, c))
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


def _total(loss: Any, y_pred: np.ndarray, y_true: Any) -> float:
    return float(np.sum(np.asarray(loss.forward(y_pred.copy(), np.array(y_true, copy=True)), dtype=np.float64)))


#: Rows of a large batch evaluated one by one for a loss that returns only a reduced value.
ROW_SAMPLE = 128


def _offending_row(loss: Any, y_pred: np.ndarray, y_true: Any, bad: Callable[[float], bool]) -> int:
    """A row ``i`` with ``bad(L(row i))``, found by bisection: the loss of a set of rows -- their sum or
    their mean, whatever the reduction -- is nonzero (negative) when one row's is and the others' are zero
    (non-negative)."""
    lo, hi = 0, y_pred.shape[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if bad(_total(loss, y_pred[lo:mid], y_true[lo:mid])):
            hi = mid
        else:
            lo = mid
    return lo


def _row_losses(loss: Any, subject: Subject | None = None) -> Callable[[np.ndarray, Any], np.ndarray]:
    """A function giving the loss of each row, by behaviour (never by the presence of a parameter):
    the loss as configured returns per-sample values ``(N,)`` (those), per-element values (their row
    sums), or one reduced value -- then each row is evaluated alone (the loss of a one-row batch; of
    a large batch, :data:`ROW_SAMPLE` rows spread evenly over it, the others reported as ``+inf``).
    A shortcut for the last case: when the component also builds with ``reduction="none"`` and that
    instance's per-row values add up, on this very batch, to the configured value (as a sum, or a
    mean over the rows or the elements, within 1e-9 relative), they are used instead."""
    per_row = None
    if subject is not None:
        try:
            config = dict(loss.get_config())
            per_row = subject.factory(**{**config, "reduction": "none"}) if "reduction" in config else None
        except Exception:  # noqa: BLE001 - no shortcut
            per_row = None

    def shortcut(y_pred: np.ndarray, y_true: Any, value: float) -> np.ndarray | None:
        try:
            v = np.asarray(per_row.forward(y_pred.copy(), np.array(y_true, copy=True)), dtype=np.float64)
        except Exception:  # noqa: BLE001
            return None
        n = y_pred.shape[0]
        if v.shape not in ((n,), y_pred.shape) or not np.all(np.isfinite(v)):
            return None
        rows = v if v.ndim == 1 else v.sum(axis=1)
        total = float(rows.sum())
        if any(abs(value - t) <= 1e-9 * max(abs(t), abs(value)) + 1e-300 for t in (total, total / n, total / v.size)):
            return rows
        return None

    def losses(y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        n = y_pred.shape[0]
        values = np.asarray(loss.forward(y_pred.copy(), np.array(y_true, copy=True)), dtype=np.float64)
        if values.shape == (n,):
            return values
        if values.shape == y_pred.shape:
            return values.sum(axis=1)
        if per_row is not None and values.shape == () and np.isfinite(values):
            rows = shortcut(y_pred, y_true, float(values))
            if rows is not None:
                return rows
        rows = np.arange(n) if n <= ROW_SAMPLE else np.unique(np.linspace(0, n - 1, ROW_SAMPLE).astype(int))
        out = np.full(n, np.inf)
        out[rows] = [_total(loss, y_pred[i:i + 1], y_true[i:i + 1]) for i in rows]
        return out

    return losses


def _unit_gradient(loss: Any, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
    """``|dL/dy_pred|`` per row, independent of the batch size, by behaviour: the gradient on the batch
    twice over is compared with the gradient on the batch; if it halves, the loss is a mean over the
    samples (or elements) and the gradient is multiplied by the number of rows, otherwise (a sum, or
    per-sample values) it is taken as it is."""
    g = np.abs(np.asarray(loss.gradient(y_pred.copy(), np.array(y_true, copy=True)), dtype=np.float64))
    n = y_pred.shape[0]
    twice = loss.gradient(np.concatenate([y_pred, y_pred]), np.concatenate([np.asarray(y_true)] * 2))
    g2 = np.abs(np.asarray(twice, dtype=np.float64))[:n]
    both = (g > 0) & (g2 > 0) & np.isfinite(g) & np.isfinite(g2)
    if both.any() and abs(float(np.median(g[both] / g2[both])) - 2.0) < 0.25:
        return g * n
    return g


@spec_check("PROP-LOSS-NONNEGATIVE", "loss", layer="property", title="declared nonnegative: L >= 0",
            formula=r"L(\hat y, y) \ge 0", notes=("mse",), tolerance="exact")
def check_loss_nonnegative(subject: Subject) -> None:
    r"""A loss declared ``nonnegative`` is never negative: :math:`L(\hat y, y) \ge 0`.

    For every prediction and target the loss accepts (predictions in the range of
    its ``link``: any real without one; targets as ``prepare_targets`` accepts
    them; widths for which it accepts a batch): real differences up to 1e4,
    probabilities including exact 0 and 1, soft and one-hot targets. The loss of
    every sample (row) must be >= 0 -- found by behaviour: the per-sample values the
    configured loss returns, the row sums of per-element values (whose single terms
    may be negative as in a KL divergence), or the loss of each row alone (of
    :data:`ROW_SAMPLE` rows spread over the large explicit batch) for a loss returning
    one reduced value -- and so must the batch loss with the configured reduction.
    Targets come from what the loss means (see ``_LossDomain``: probability or
    one-hot rows for a classification loss, never the negative numbers a permissive
    ``prepare_targets`` would let through) and are passed through ``prepare_targets``.
    Exact. Deterministic."""
    _declared(subject, "nonnegative")
    configured = subject.new()
    row_losses = _row_losses(configured, subject)
    domain = _LossDomain(configured, subject)

    @_hypothesis_settings(subject)
    @given(case=_loss_inputs(domain.pred, domain.target, domain.columns))
    @example(case=_explicit_loss_inputs(domain))
    def nonnegative(case: tuple[np.ndarray, np.ndarray]) -> None:
        y_pred, raw = case
        y_true = domain.prepared(raw)
        value = np.asarray(configured.forward(y_pred.copy(), np.array(y_true, copy=True)), dtype=np.float64)
        rows = row_losses(y_pred, y_true)
        if np.any(rows < 0) or (value.ndim == 0 and value < 0):
            i = int(np.argmin(rows))
            fail("declares 'nonnegative' but the loss is negative on targets of its domain "
                 f"({domain.target_words}). Fix the loss (forward), or remove 'nonnegative' from the declared "
                 "properties; if such targets are not meant for this loss, make prepare_targets refuse them "
                 "(raise InputError) or declare its link",
                 expected="L >= 0", found=f"L = {_fmt(rows[i])} for row {i}" + (
                     f"; L = {_fmt(value)} for the batch ({getattr(configured, 'reduction', 'configured')})"
                     if value.ndim == 0 else ""),
                 where=f"y_pred = {_fmt(y_pred[i])}, y_true = {_fmt(raw[i])} (row {i} of "
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
    loss = subject.new()
    domain = _LossDomain(loss, subject)
    kind = "real" if domain.pred == domain.target == "real" else ("simplex" if domain.simplex else "unit")
    c = domain.width
    explicit = (np.tile(GRID_WIDE[:, None], (1, c)) if kind == "real"
                else _onehot(np.arange(2 * c) % c, c) if kind == "simplex"
                else np.round(np.arange(2 * c * c).reshape(2 * c, c) % 3 / 2))

    @_hypothesis_settings(subject)
    @given(y=_perfect(kind, domain.columns))
    @example(y=explicit)
    def zero_at_perfect(y: np.ndarray) -> None:
        target = domain.prepared(y)
        value = np.asarray(loss.forward(y.copy(), np.array(target, copy=True)))
        if np.any(value != 0):
            i = _offending_row(loss, y, target, lambda v: v != 0)
            worst = value.flat[int(np.argmax(np.abs(value)))]
            fail("declares 'zero_at_perfect' but L(y, y) != 0. Fix the loss in forward() (no constant offset, no "
                 "clipping at a perfect prediction), or remove 'zero_at_perfect' from the declared properties",
                 expected="L(y, y) = 0 exactly", found=f"L(y, y) = {_fmt(worst)}",
                 where=f"y_pred = y_true = {_fmt(y[i])} (row {i} of {y.shape[0]}, {y.dtype})")

    zero_at_perfect()


@spec_check("PROP-LOSS-BOUNDED-GRADIENT", "loss", layer="property", title="declared bounded_gradient: saturates",
            formula=r"\max_{|\hat y - y| \le 10^4} |\partial L/\partial \hat y_i| \le "
                    r"1.05 \max_{|\hat y - y| \le 50} |\partial L/\partial \hat y_i|",
            notes=("smooth_l1",), tolerance="5 % growth from |y_hat - y| <= 50 to |y_hat - y| <= 1e4")
def check_loss_bounded_gradient(subject: Subject) -> None:
    r"""A loss declared ``bounded_gradient`` has a gradient that cannot explode:
    :math:`\sup |\partial L/\partial \hat y_i| < \infty`, operationally (the saturation test)

    .. math:: \max_{|\hat y - y| \le 10^4} |\partial L/\partial \hat y_i| \le
              (1 + 0.05) \max_{|\hat y - y| \le 50} |\partial L/\partial \hat y_i|

    element-wise, for the loss as configured, with the gradient made independent of
    the batch size by behaviour (``_unit_gradient``: if the gradient of the batch
    twice over is half the batch's, the loss is a mean and the gradient is
    multiplied by the number of rows) -- so a loss that is simply always
    mean-reduced is judged like its "sum".
    Reference on the dense grid of differences in [-50, 50]; compared on the grid
    to 1e4 and hypothesis batches. For logits the same radii apply to the logits;
    for probability inputs the reference is probabilities in [0.01, 0.99]
    (logits within ±4.6) and the comparison covers all of [0, 1]. The bound is
    the loss's own, not 1: Huber's is ``delta`` (LOSS-SMOOTHL1-BOUNDED-GRAD checks
    Smooth L1's bound of 1). A gradient growing like the error (MSE) fails.
    Deterministic."""
    _declared(subject, "bounded_gradient")
    loss = subject.new()
    domain = _LossDomain(loss, subject)
    c = domain.width
    if domain.pred == "real":
        ref_pred, ref_true = _explicit_loss_inputs(domain, radius=REFERENCE_RADIUS)
    else:
        logits = np.linspace(-4.6, 4.6, 2001)[:, None]
        ref_true = _onehot(np.arange(logits.shape[0]) % c, c)
        ref_logits = _columns([logits, -logits / 2], c)
        ref_pred = _sigmoid(ref_logits) if domain.pred == "unit" else _softmax(ref_logits)
    reference = float(np.max(_unit_gradient(loss, ref_pred, domain.prepare(ref_true))))

    @_hypothesis_settings(subject)
    @given(case=_loss_inputs(domain.pred, domain.target, (c,)))
    @example(case=_explicit_loss_inputs(domain))
    def bounded(case: tuple[np.ndarray, np.ndarray]) -> None:
        y_pred, y_true = case
        g = _unit_gradient(loss, y_pred, domain.prepared(y_true))
        bound = (1.0 + SATURATION_SLACK) * reference
        if not np.isfinite(reference) or not np.all(g <= bound):
            i, j = np.unravel_index(np.argmax(np.nan_to_num(g, nan=np.inf)), g.shape)
            real = domain.pred == domain.target == "real"
            fail(f"declares 'bounded_gradient' but |dL/dy_pred| keeps growing with the error: {_fmt(g[i, j])} "
                 f"exceeds its maximum for moderate errors ({_fmt(reference)}) by more than "
                 f"{SATURATION_SLACK:.0%}. Make the gradient saturate in forward() and gradient() (e.g. linear "
                 f"loss beyond a threshold), or remove 'bounded_gradient' from the declared properties",
                 expected=f"|dL/dy_pred| <= {_fmt(bound)} = (1 + {SATURATION_SLACK:g}) x {_fmt(reference)} "
                          f"(per row: a mean's gradient times the number of rows)",
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
    loss = subject.new()
    domain = _LossDomain(loss, subject)
    row_losses = _row_losses(loss, subject)
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
        losses = row_losses(y_pred, domain.prepared(y_true))
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
