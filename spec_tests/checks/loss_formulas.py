"""Loss formula checks: MSE, Smooth L1 and cross-entropy as the notes state them, LOSS-FORMULA against
the references, and the chain rule from a loss through a network."""

from __future__ import annotations
import math
from typing import Any
import numpy as np
from ..formulas import FormulaCase
from ..framework import (Subject, assert_close, away_from_kinks, central_difference, fail,
                        skip, spec_check)
from .loss import (EPS64, H, KINK_MARGIN, N_CLASSES, N_SAMPLES, _copy, _is_classifier, _kinks, _link, _softmax,
                   _targets, _total, _with_reduction)

# ---------------------------------------------------------------------------------------------
# formula checks


def _claims(subject: Subject, formula: str) -> None:
    if formula not in subject.implements:
        skip(f"claims no {formula} formula (neither registered under that built-in name nor implements={formula!r})")


@spec_check("LOSS-MSE-VALUE", "loss", layer="formula", title="mse: the mean of squared differences",
            formula=r"L = \frac1n \sum_{i=1}^n (\hat y_i - y_i)^2", notes=("mse",),
            tolerance="rtol 2 (n + 8) eps64, n <= 18 entries (float64)")
def check_loss_mse_value(subject: Subject) -> None:
    r"""A component claiming ``mse`` (with reduction "mean" when it has that parameter) returns
    :math:`\frac1n\sum_i(\hat y_i - y_i)^2` over all :math:`n` entries, computed here with an exactly
    rounded sum, on random float64 batches of shapes (6, 3), (5, 1) and (1, 4) and scales 1e-3,
    1 and 1e3. Tolerance from rounding-error analysis: each :math:`d_i^2` is off by at most
    :math:`2\varepsilon_{64}` relative (the rounded difference, squared), and a sum of :math:`n` positive
    terms in any order by :math:`n\varepsilon_{64}` relative: ``rtol = 2 (n + 8) eps64`` (about 1.2e-14 for
    :math:`n = 18`); no atol (every term is positive).
    """
    _claims(subject, "mse")
    loss = _with_reduction(subject, "mean")
    rng = subject.rng(90)
    for shape in ((6, 3), (5, 1), (1, 4)):
        for scale in (1e-3, 1.0, 1e3):
            y_pred = rng.normal(0.0, scale, size=shape)
            y_true = rng.normal(0.0, scale, size=shape)
            y = loss.prepare_targets(y_true.copy(), shape[1], np.float64)
            d = y_pred - np.asarray(y, dtype=np.float64)
            expected = math.fsum((d * d).ravel()) / d.size
            found = loss.forward(y_pred.copy(), _copy(y))
            assert_close(float(found), expected, rtol=2 * (d.size + 8) * EPS64, atol=0.0,
                         what=f"mse on a {shape} batch of scale {scale:g}",
                         fix="a component claiming mse must return the mean of squares of the differences, "
                             "mean over all entries of (y_pred - y_true)^2 -- not their sum, not absolute values")


@spec_check("LOSS-MSE-NONNEG-ZERO", "loss", layer="formula",
            title="mse: non-negative, exactly 0 at a perfect prediction, positive otherwise",
            formula=r"L \ge 0,\quad L(y, y) = 0,\quad \hat y \ne y \Rightarrow L > 0",
            notes=("mse", "loss_minimization"))
def check_loss_mse_nonneg_zero(subject: Subject) -> None:
    r"""Squaring overcomes negative deviations: for a component claiming ``mse``, on 20 random
    batches (shapes up to 6 x 3, scales 1e-3 to 1e3, float64), :math:`L(\hat y, y) \ge 0`;
    :math:`L(y, y) = 0.0` exactly (the minimum is attained at a perfect prediction); and
    moving a single entry of a perfect prediction by :math:`10^{-3}\,\max(1, |y|)` (either sign) gives
    :math:`L > 0`.
    """
    _claims(subject, "mse")
    loss = _with_reduction(subject, "mean")
    rng = subject.rng(100)
    fix = ("a component claiming mse must be a mean of squares: never negative (negative deviations must not "
           "cancel positive ones), exactly 0 for y_pred == y_true and positive otherwise")
    for k in range(20):
        shape = (int(rng.integers(1, 7)), int(rng.integers(1, 4)))
        scale = 10.0 ** rng.uniform(-3, 3)
        y_true = rng.normal(0.0, scale, size=shape)
        y = loss.prepare_targets(y_true.copy(), shape[1], np.float64)
        y_pred = rng.normal(0.0, scale, size=shape)
        value = float(loss.forward(y_pred.copy(), _copy(y)))
        if not value >= 0.0:
            fail(f"mse is negative. {fix}", expected=">= 0", found=repr(value), where=f"y_pred={y_pred.tolist()}, "
                 f"y_true={y_true.tolist()}")
        perfect = np.array(y, dtype=np.float64, copy=True)
        value = float(loss.forward(perfect.copy(), _copy(y)))
        if value != 0.0:
            fail(f"mse at a perfect prediction (y_pred == y_true) is not exactly 0. {fix}", expected="0.0",
                 found=repr(value), where=f"y_true={y_true.tolist()}")
        i = tuple(int(rng.integers(0, s)) for s in shape)
        moved = perfect.copy()
        moved[i] += (1e-3 if k % 2 else -1e-3) * max(1.0, abs(moved[i]))
        value = float(loss.forward(moved, _copy(y)))
        if not value > 0.0:
            fail(f"mse is not positive for an imperfect prediction. {fix}", expected="> 0", found=repr(value),
                 where=f"y_true={y_true.tolist()}, entry {i} moved by 1e-3")


def _smooth_l1_cases(subject: Subject, quadratic_zone: bool = True) -> list[tuple[Any, float, str]]:
    """``[(component, beta, label), ...]`` for each config of the smooth_l1 formula (see
    :func:`neuroplug.spec.formulas.formula_cases`): beta is the config's (the formula's default 1.0
    when the constructor has no ``beta``). With ``quadratic_zone``, configs with beta = 0 (pure L1)
    are left out, and the check is skipped when none is left."""
    from ..formulas import formula_cases

    _claims(subject, "smooth_l1")
    out = []
    for case in formula_cases(subject):
        if case.formula.name != "smooth_l1":
            continue
        beta = case.params.get("beta", 1.0)
        try:
            beta = float(beta)
        except (TypeError, ValueError):
            fail("the beta parameter of a smooth_l1 loss must be a number", found=repr(beta))
        if quadratic_zone and not (math.isfinite(beta) and beta > 0):
            continue
        out.append((case.component, beta, case.label))
    if not out:
        skip("every config has beta = 0: the quadratic zone is empty (pure L1), this formula does not apply")
    return out


def _pointwise(loss: Any, d: np.ndarray, y_true: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """``(d_actual, l(d), l'(d))``: the loss of single (1, 1) predictions y_true + d (its reduction is moot)."""
    y_true = np.zeros_like(d) if y_true is None else y_true
    values, grads, actual = np.empty_like(d), np.empty_like(d), np.empty_like(d)
    for k in range(d.size):
        t = loss.prepare_targets(np.array([[y_true[k]]]), 1, np.float64)
        p = np.array([[y_true[k] + d[k]]])
        actual[k] = p[0, 0] - float(np.asarray(t).reshape(-1)[0])
        values[k] = _total(loss.forward(p.copy(), _copy(t)))
        grads[k] = float(np.asarray(loss.gradient(p.copy(), _copy(t))).reshape(-1)[0])
    return actual, values, grads


@spec_check("LOSS-SMOOTHL1-QUADRATIC", "loss", layer="formula", title="smooth L1: quadratic below the threshold",
            formula=r"|d| < \beta \Rightarrow \ell(d) = \frac{d^2}{2\beta}", notes=("smooth_l1",),
            tolerance="rtol 16 eps64, atol 16 eps64 max((|y| + |d|) |d|) / beta (float64); every config")
def check_loss_smoothl1_quadratic(subject: Subject) -> None:
    r"""A component claiming ``smooth_l1`` is quadratic inside the threshold: for
    :math:`d = \hat y - y` with :math:`|d| < \beta` (31 points in :math:`(-0.98\beta, 0.98\beta)`,
    random targets), the loss of a single prediction is :math:`\ell(d) = d^2/(2\beta)`; :math:`\beta` is
    the config's ``beta`` (1.0 when the constructor has none: the notes' threshold :math:`|d| = 1`),
    for every config of the formula (own, examples, drawn; beta = 0 left out). Tolerance from
    rounding-error analysis: :math:`d^2/2\beta` from the rounded :math:`d` is off by a few
    :math:`\varepsilon_{64}` relative, plus the rounding of forming :math:`d` from :math:`\hat y, y`:
    ``rtol = 16 eps64``, ``atol = 16 eps64 max((|y| + |d|) |d|) / beta``.
    """
    for loss, beta, label in _smooth_l1_cases(subject):
        d = beta * np.concatenate([np.linspace(-0.98, 0.98, 29), [1e-3, -1e-3]])
        y_true = subject.rng(110).normal(size=d.size)
        actual, values, _ = _pointwise(loss, d, y_true)
        assert_close(values, actual * actual / (2 * beta), rtol=16 * EPS64,
                     atol=16 * EPS64 * float(np.max((np.abs(y_true) + np.abs(actual)) * np.abs(actual))) / beta,
                     what=f"smooth_l1 for |d| < beta = {beta:g} ({label}; forward())", inputs=actual,
                     fix="a component claiming smooth_l1 must be d^2 / (2 beta) below the threshold beta, for "
                         "|d| < beta (note the factor 1/2)")


@spec_check("LOSS-SMOOTHL1-LINEAR", "loss", layer="formula",
            title="smooth L1: absolute error minus a constant above the threshold",
            formula=r"|d| > \beta \Rightarrow \ell(d) = |d| - c", notes=("smooth_l1",),
            tolerance="spread of |d| - l(d) <= 16 eps64 (max|d| + max|y| + beta) (float64); every config")
def check_loss_smoothl1_linear(subject: Subject) -> None:
    r"""Above the threshold a component claiming ``smooth_l1`` is the absolute error less a
    constant: for :math:`|d| > \beta` (both signs, :math:`|d|/\beta` from 1.001 to 100 and
    :math:`|d|` up to :math:`10^4`), :math:`c(d) = |d| - \ell(d)` is the same constant :math:`c` (so the
    slope is exactly 1; the notes' "absolute error when the absolute difference is > 1").
    Tolerance from rounding-error analysis: :math:`|d|` (formed from :math:`\hat y` and :math:`y`) and
    :math:`|d| - \beta/2` are each off by a few :math:`\varepsilon_{64}(|d| + |y| + \beta)`, so the spread
    :math:`\max c - \min c \le 16\,\varepsilon_{64}(\max|d| + \max|y| + \beta)`. Every config of the formula
    (beta = 0 left out).
    """
    for loss, beta, label in _smooth_l1_cases(subject):
        _smoothl1_linear(subject, loss, beta, label)


def _smoothl1_linear(subject: Subject, loss: Any, beta: float, label: str) -> None:
    mags = np.concatenate([beta * np.array([1.001, 1.01, 1.1, 1.5, 2.0, 3.0, 10.0, 100.0]),
                           np.array([1e3, 1e4])])
    mags = mags[mags > beta * 1.0005]
    d = np.concatenate([mags, -mags])
    y_true = subject.rng(120).normal(size=d.size)
    actual, values, _ = _pointwise(loss, d, y_true)
    c = np.abs(actual) - values
    spread = float(c.max() - c.min())
    allowed = 16 * EPS64 * (float(np.max(np.abs(actual))) + float(np.max(np.abs(y_true))) + beta)
    if not spread <= allowed:
        i, j = int(np.argmin(c)), int(np.argmax(c))
        fail(f"smooth_l1 ({label}) above the threshold beta = {beta:g} is not |d| minus a constant in forward(): |d| - loss(d) varies by "
             f"{spread:.3g} (allowed {allowed:.3g}). A component claiming smooth_l1 must grow exactly like the "
             f"absolute error (slope 1) for |d| > beta",
             expected="the same |d| - loss(d) everywhere", found=f"{c[i]:.17g} at d = {actual[i]:.6g} and "
             f"{c[j]:.17g} at d = {actual[j]:.6g}", where=f"d = {actual[i]:.17g}")


@spec_check("LOSS-SMOOTHL1-C1", "loss", layer="formula",
            title="smooth L1: continuous value and first derivative at the threshold",
            formula=r"\lim_{d \to \beta^-} (\ell, \ell')(d) = \lim_{d \to \beta^+} (\ell, \ell')(d)",
            notes=("smooth_l1",),
            tolerance="value: 4 delta^2 / beta + 16 eps64 (1 + beta); slope: 4 delta / beta + 16 eps64; "
                      "delta = 1e-6 beta; every config")
def check_loss_smoothl1_c1(subject: Subject) -> None:
    r"""A component claiming ``smooth_l1`` joins its quadratic and linear parts smoothly at
    :math:`d = \pm\beta`: the one-sided limits of the value and of the first derivative agree.

    With :math:`\delta = 10^{-6}\beta` and the component's ``gradient`` :math:`\ell'`, the first-order
    extrapolations :math:`\ell(\beta+\delta) - \delta\ell'(\beta+\delta)` and
    :math:`\ell(\beta-\delta) + \delta\ell'(\beta-\delta)` of the two sides must agree within
    :math:`4\delta^2/\beta` (twice the Taylor remainder bound :math:`\delta^2\max|\ell''|/2`,
    :math:`\max|\ell''| = 1/\beta`) plus a rounding allowance :math:`16\varepsilon_{64}(1 + \beta)`; the slopes
    :math:`\ell'(\beta \pm \delta)` within :math:`4\delta/\beta + 16\varepsilon_{64}`. Same at :math:`-\beta`.
    A jump in value (a wrong offset) or in slope (a missing 1/2) is many orders larger. Every
    config of the formula (beta = 0 left out).
    """
    for loss, beta, label in _smooth_l1_cases(subject):
        _smoothl1_c1(loss, beta, label)


def _smoothl1_c1(loss: Any, beta: float, label: str) -> None:
    delta = 1e-6 * beta
    for side in (1.0, -1.0):
        d = side * np.array([beta - delta, beta + delta])  # inside, outside
        actual, values, grads = _pointwise(loss, d)
        step_in, step_out = abs(actual[0]) - beta, abs(actual[1]) - beta  # signed distances to the threshold
        inner = values[0] - step_in * side * grads[0]  # extrapolated to |d| = beta from inside
        outer = values[1] - step_out * side * grads[1]
        allowed = 4 * delta * delta / beta + 16 * EPS64 * (1 + beta)
        if not abs(outer - inner) <= allowed:
            fail(f"smooth_l1 ({label}; forward()) jumps in value at d = {side * beta:g} (the threshold beta): the quadratic and the "
                 f"linear part must meet, i.e. the offset above the threshold must be beta/2 (continuous value)",
                 expected=f"{inner:.17g} (limit from inside)", found=f"{outer:.17g} (limit from outside)",
                 where=f"d = {side * beta:.17g}")
        allowed = 4 * delta / beta + 16 * EPS64
        if not abs(grads[1] - grads[0]) <= allowed:
            fail(f"the slope of smooth_l1 ({label}; gradient()) jumps at d = {side * beta:g} (the threshold beta): d/beta inside must reach "
                 f"+-1 at the threshold, the slope of the absolute error (continuous first derivative)",
                 expected=f"{grads[0]:.17g} (slope just inside)", found=f"{grads[1]:.17g} (slope just outside)",
                 where=f"d = {side * beta:.17g}")


@spec_check("LOSS-SMOOTHL1-BOUNDED-GRAD", "loss", layer="formula",
            title="smooth L1: gradient magnitude at most 1 (no exploding gradient)",
            formula=r"\left|\frac{\partial L_{\rm sum}}{\partial \hat y_i}\right| \le 1", notes=("smooth_l1",),
            tolerance="1 + 4 eps64; every config")
def check_loss_smoothl1_bounded_grad(subject: Subject) -> None:
    r"""Smooth L1 prevents exploding gradients: with reduction "sum" (or on single predictions,
    where every reduction agrees), every entry of the gradient satisfies
    :math:`|\partial L/\partial \hat y_i| \le 1` for differences :math:`|d|` from :math:`10^{-3}` to
    :math:`10^4` (both signs, around and far beyond the threshold, plus 20 random ones).
    Tolerance :math:`1 + 4\varepsilon_{64}`: :math:`\operatorname{clip}(d/\beta, -1, 1)` is at most 1 exactly, and
    :math:`d/\beta` for :math:`|d| < \beta` rounds to at most 1; the slack allows a product of rounded factors.
    Every config of the formula (beta = 0, pure L1, included).
    """
    for loss, beta, label in _smooth_l1_cases(subject, quadratic_zone=False):
        _smoothl1_bounded(subject, loss, beta, label)


def _smoothl1_bounded(subject: Subject, loss: Any, beta: float, label: str) -> None:
    mags = np.concatenate([[1e-3, 0.5, 0.999, 1.0, 1.001, 2.0, 10.0, 100.0, 1e3, 1e4],
                           beta * np.array([0.5, 0.999, 1.001, 2.0]),
                           10.0 ** subject.rng(130).uniform(-3, 4, size=20)])
    d = np.concatenate([mags, -mags])
    actual, _, grads = _pointwise(loss, d)
    bad = np.abs(grads) > 1 + 4 * EPS64
    if bad.any():
        i = int(np.argmax(np.abs(grads)))
        fail(f"the gradient of smooth_l1 ({label}; gradient()) exceeds 1 in magnitude: above the threshold beta it must be the slope of "
             "the absolute error, +-1, and below it d/beta, so that large errors cannot make gradients explode",
             expected="|dL/dy_pred| <= 1", found=f"{grads[i]:.17g}", where=f"d = {actual[i]:.17g}")


@spec_check("LOSS-CE-VALUE", "loss", layer="formula", title="cross-entropy: -sum y log p, mean over samples",
            formula=r"L = -\frac1N \sum_{i=1}^N \sum_c y_{ic} \log p_{ic}", notes=("cross_entropy",),
            tolerance="16 eps64 (sum m + n max m) / N + 8 eps64 |L|, m_i = sum_c y_ic (|log p_ic| + span) (float64)")
def check_loss_ce_value(subject: Subject) -> None:
    r"""A component claiming ``cross_entropy`` (with reduction "mean" when it has that parameter)
    returns :math:`-\frac1N\sum_i\sum_c y_{ic}\log p_{ic}` for one-hot targets given as class labels
    and as one-hot rows, and for soft targets (Dirichlet rows), on 6 samples x 3 classes.
    The predictions are logits :math:`z` when the component's ``from_logits`` is True, or, when it
    has no such parameter, when its link is not "softmax" (a logits-only cross-entropy with
    ``link = None``); then :math:`\log p = z - \log\sum_k e^{z_k}` is computed here stably; otherwise
    they are probabilities :math:`p` (softmax of N(0, 1) logits). Target kinds that
    ``prepare_targets`` refuses (e.g. soft targets for a loss that keeps integer labels) are
    skipped; at least one must be accepted. Tolerance as in ``LOSS-FORMULA`` (rounding-error analysis:
    16 eps64 times the magnitudes of the terms summed, :math:`y_{ic}(|\log p_{ic}| + 1)`, plus the
    log-sum-exp span for logits). The component is checked with its own config; a config with label
    smoothing, class weights or an ignored label is another formula, checked by ``LOSS-FORMULA``
    (skipped here).
    """
    _claims(subject, "cross_entropy")
    from ..references.losses import cross_entropy as reference

    loss = _with_reduction(subject, "mean")
    try:
        config = dict(loss.get_config())
    except Exception:  # noqa: BLE001 - LOSS-CONFIG-ROUNDTRIP reports it
        config = {}
    special = {k: config[k] for k, default in (("label_smoothing", 0.0), ("weight", None), ("ignore_index", None))
               if config.get(k, default) not in (default, 0)}
    if special:
        skip(f"configured with {special}: another formula than the plain cross-entropy, checked by LOSS-FORMULA")
    from_logits = bool(config["from_logits"]) if "from_logits" in config else _link(loss) != "softmax"
    rng = subject.rng(140)
    n, c = N_SAMPLES, N_CLASSES
    z = rng.normal(size=(n, c))
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    y_pred = z if from_logits else np.exp(log_p)
    domain = "logits" if from_logits else "probabilities"
    labels = rng.integers(0, c, size=n)
    onehot = np.eye(c)[labels]
    soft = rng.dirichlet(np.ones(c), size=n)
    refused = []
    for what, raw, t in (("class labels", labels, onehot), ("one-hot rows", onehot, onehot),
                         ("soft targets", soft, soft)):
        try:
            y = loss.prepare_targets(np.array(raw, copy=True), c, np.float64)
        except Exception as exc:  # noqa: BLE001 - a kind of targets the loss refuses is skipped
            refused.append(f"{what}: {type(exc).__name__}: {exc}")
            continue
        ref = reference(y_pred, t, from_logits, 0.0, None, None)
        expected = -float(np.sum(t * log_p)) / n
        mag = float(np.sum(ref.value_mag)) + n * float(np.max(ref.value_mag))
        found = float(loss.forward(y_pred.copy(), _copy(y)))
        assert_close(found, expected, rtol=8 * EPS64, atol=16 * EPS64 * mag / n,
                     what=f"cross_entropy (forward()) on {domain} with {what}",
                     fix="a component claiming cross_entropy must return -sum_c y_c log p_c averaged over the "
                         "samples (natural log, no clipping of reasonable probabilities)")
    if len(refused) == 3:
        fail("prepare_targets() refuses class labels, one-hot rows and soft targets alike: a component claiming "
             "cross_entropy must accept some of them (change prepare_targets)", found="; ".join(refused))


@spec_check("LOSS-CE-CONFIDENCE", "loss", layer="formula",
            title="cross-entropy: a confident wrong prediction costs more",
            formula=r"p_{\rm wrong} \uparrow \Rightarrow L \text{ strictly } \uparrow", notes=("cross_entropy",))
def check_loss_ce_confidence(subject: Subject) -> None:
    r"""For a sample whose true class is 0, a component claiming ``cross_entropy`` gives a loss
    that grows strictly as the probability put on a wrong class grows: sweeping
    :math:`p_{\rm wrong}` over 0.05, 0.10, ..., 0.95 in the 3-class rows
    :math:`(0.8(1 - p_{\rm wrong}), p_{\rm wrong}, 0.2(1 - p_{\rm wrong}))` and
    :math:`(0.99(1 - p_{\rm wrong}), 0.01(1 - p_{\rm wrong}), p_{\rm wrong})`, the
    losses are strictly increasing (the notes: greater penalty when incorrect predictions are made
    with higher confidence). Inputs are probabilities, or their logs (logits) when the component's
    ``from_logits`` is True or, without that parameter, its link is not "softmax". The target is
    the class label 0, or the one-hot row (1, 0, 0) when ``prepare_targets`` refuses labels.
    """
    _claims(subject, "cross_entropy")
    loss = _with_reduction(subject, "mean")
    try:
        config = dict(loss.get_config())
    except Exception:  # noqa: BLE001
        config = {}
    from_logits = bool(config["from_logits"]) if "from_logits" in config else _link(loss) != "softmax"
    sweep = np.round(np.arange(0.05, 0.951, 0.05), 10)
    c = 3
    try:
        y = loss.prepare_targets(np.array([0]), c, np.float64)
    except Exception:  # noqa: BLE001 - a loss of probability rows only
        y = loss.prepare_targets(np.array([[1.0, 0.0, 0.0]]), c, np.float64)
    for row in (lambda w: [0.8 * (1 - w), w, 0.2 * (1 - w)], lambda w: [0.99 * (1 - w), 0.01 * (1 - w), w]):
        values = []
        for w in sweep:
            p = np.array([row(w)], dtype=np.float64)
            y_pred = np.log(p) if from_logits else p
            values.append(_total(loss.forward(y_pred, _copy(y))))
        steps = np.diff(values)
        if not np.all(steps > 0):
            k = int(np.argmin(steps))
            fail(f"cross_entropy does not grow strictly with the confidence put on a wrong class ({c} classes, true "
                 f"class 0): a confident wrong prediction must cost more, so the loss may not saturate or decrease "
                 f"as p_wrong grows (do not clip reasonable probabilities)",
                 expected=f"loss(p_wrong={sweep[k + 1]:.2f}) > loss(p_wrong={sweep[k]:.2f}) = {values[k]:.17g}",
                 found=f"{values[k + 1]:.17g}", where=f"row {row(sweep[k + 1])}")


# ---------------------------------------------------------------------------------------------
# the chain rule


@spec_check("CHAIN-RULE-LOSS", "loss", layer="formula", title="backprop of the loss equals central differences",
            formula=r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a}\cdot\frac{\partial a}{\partial w}"
                    r" \approx \frac{L(w+h) - L(w-h)}{2h}", notes=("chain_rule",),
            tolerance="|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h), h = 1e-6, float64")
def check_chain_rule_loss(subject: Subject) -> None:
    r"""A small float64 network 3 -> 4 (tanh) -> C trained with this loss, on 5 samples: the
    gradients of ``net.loss_and_gradients(X, y, loss)`` (backpropagation by the chain rule, with
    the loss's ``gradient`` -- not its fused shortcut) equal central differences of the loss with
    respect to every weight and bias.

    The output activation suits the loss: softmax for link "softmax", sigmoid for link
    "sigmoid", identity otherwise; C = 3 outputs for a classifier (link "softmax" or a claim of
    cross_entropy), 2 otherwise; targets are chosen as in the module
    docstring. For a loss with kinks in :math:`d = \hat y - y`, networks are redrawn (up to 20) until
    every output is at least :math:`10^{-3}` from a kink, else the check is skipped with that reason.
    Tolerance ``|err| <= 1e-6 |num| + 64 eps64 max(1, L)/(2h)``, :math:`h = 10^{-6}`.
    """
    import neuroplug as npl

    loss = subject.new()
    link = _link(loss)
    out_act = link if link in ("softmax", "sigmoid") else "identity"
    c = 3 if _is_classifier(loss, subject) else 2
    sizes = (3, 4, c)
    kinks = _kinks(loss)
    tries = 20
    for attempt in range(tries):
        rng = subject.rng(150 + attempt)
        X = rng.normal(size=(5, sizes[0]))
        weights = [rng.normal(size=(3, 4)) * 0.8, rng.normal(0, 0.5, size=4),
                   rng.normal(size=(4, c)) * 0.8, rng.normal(0, 0.5, size=c)]
        _, raw, y = _targets(loss, subject, rng, 5, c, np.float64)
        net = npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(c, activation=out_act)],
                             input_dim=sizes[0], seed=0, dtype="float64")
        net.set_weights(weights)
        if not kinks or np.shape(y) != (5, c):
            break
        d = net.predict(X) - np.asarray(y, dtype=np.float64)
        if np.array_equal(away_from_kinks(d, kinks, KINK_MARGIN), d):
            break
    else:
        skip(f"a random network's outputs hit a kink {kinks} of the loss in all {tries} tries")
    value, grads = net.loss_and_gradients(X, np.array(raw, copy=True), loss)
    floor = 64 * EPS64 * max(1.0, abs(value)) / (2 * H)
    names = ["W1", "b1", "W2", "b2"]
    for name, p, g in zip(names, net.parameters(), grads):
        orig = p.copy()

        def f(w: np.ndarray, p: np.ndarray = p) -> float:
            p[...] = w
            return _total(loss.forward(net.predict(X), _copy(y)))

        try:
            num = central_difference(f, orig, H)
        finally:
            p[...] = orig
        assert_close(g, num, rtol=1e-6, atol=floor, what=f"dL/d{name} by backpropagation ({out_act} output)",
                     inputs=orig, fix="backpropagating this loss gives wrong weight gradients: gradient() must be "
                                      "dL/dy_pred of forward() (including the 1/n of 'mean'), and forward() and "
                                      "gradient() must not modify y_pred in place (the network reuses it)")


# ---------------------------------------------------------------------------------------------
# LOSS-FORMULA: every claimed formula against its closed-form reference

#: Rows and columns of the batches of LOSS-FORMULA (3 columns: the examples' per-class weights have 3 entries).
FORMULA_N, FORMULA_C = 8, 3
#: Tolerance factors of LOSS-FORMULA, in machine epsilons of the dtype (see its docstring).
FORMULA_RTOL_EPS, FORMULA_ATOL_EPS = 8.0, 16.0


def _formula_from_logits(case: FormulaCase, component: Any) -> bool:
    """Whether a claimed (binary_)cross_entropy takes logits: its from_logits when it has one, else link None."""
    if "from_logits" in case.config:
        return bool(case.config["from_logits"])
    return _link(component) not in ("softmax", "sigmoid")


def _formula_batches(formula: Any, params: dict[str, Any], rng: np.random.Generator,
                     from_logits: bool) -> list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]:
    """``[(description, y_pred, [(target kind, raw targets), ...]), ...]``, all exactly representable in float32."""
    n, c = FORMULA_N, FORMULA_C
    f32 = lambda a: np.asarray(a, dtype=np.float32).astype(np.float64)
    family = formula.meta.get("family")
    batches: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]] = []
    if family == "regression":
        name = formula.meta.get("threshold")
        tau = float(params.get(name) or 0.0) if name else 0.0
        scales = [tau, 30.0 * tau, tau / 30.0] if tau > 0 else [1.0, 1e3, 1e-3]
        for s in scales:
            # |d|/s in [0.05, 0.95] and [1.05, 4]: both sides of a threshold, away from it and from d = 0
            u = np.where(rng.random((n, c)) < 0.5, rng.uniform(0.05, 0.95, (n, c)), rng.uniform(1.05, 4.0, (n, c)))
            d = u * np.where(rng.random((n, c)) < 0.5, -1.0, 1.0) * s
            y_true = f32(rng.normal(0.0, 2.0 * s, (n, c)))
            y_pred = f32(y_true + d)
            batches.append((f"differences of scale {s:.3g}", y_pred, [("real targets", y_true)]))
        return batches
    if family == "binary":
        targets = lambda: [("soft targets in [0, 1]", f32(rng.uniform(0.0, 1.0, (n, c)))),
                           ("hard 0/1 targets", (rng.random((n, c)) < 0.5).astype(np.float64))]
        if from_logits:
            batches.append(("logits ~ N(0, 2.5)", f32(rng.normal(0.0, 2.5, (n, c))), targets()))
            batches.append(("logits up to 30 in magnitude", f32(rng.uniform(-30.0, 30.0, (n, c))), targets()))
        else:
            batches.append(("probabilities in [0.01, 0.99]", f32(rng.uniform(0.01, 0.99, (n, c))), targets()))
            batches.append(("probabilities in [0.01, 0.99]", f32(rng.uniform(0.01, 0.99, (n, c))), targets()))
        return batches
    # categorical
    ignore = params.get("ignore_index")

    def targets() -> list[tuple[str, np.ndarray]]:
        labels = rng.permutation(np.arange(n) % c)
        if ignore is not None and np.all(labels == ignore):
            labels[0] = (int(ignore) + 1) % c
        return [("class labels", labels), ("one-hot rows", np.eye(c)[labels]),
                ("soft targets", f32(rng.dirichlet(np.ones(c), size=n)))]

    for scale in (1.0, 2.5):
        z = rng.normal(0.0, scale, (n, c))
        if from_logits:
            batches.append((f"logits ~ N(0, {scale:g})", f32(z), targets()))
        else:
            p = f32(_softmax(z))
            p = np.clip(p, 2e-3, None)  # far from any clipping epsilon
            batches.append((f"probabilities (softmax of N(0, {scale:g}) logits)", p, targets()))
    if from_logits:
        batches.append(("logits up to 30 in magnitude", f32(rng.uniform(-30.0, 30.0, (n, c))), targets()))
    return batches


def _formula_reference(formula: Any, params: dict[str, Any], y_pred: np.ndarray, ref_y: np.ndarray, value: Any,
                       reduction: str) -> tuple[np.ndarray, Any]:
    """``(targets, LossRef)`` for the comparison. One-hot rows mean class labels as well: for a
    categorical formula with class weights or an ignored label, whose "mean" and ignoring differ
    between label and probability targets (PyTorch), one-hot rows are also read as labels, and the
    reading closer to what ``forward`` returned is used (e.g. a component whose ``prepare_targets``
    one-hot encodes labels and then treats rows as labels)."""
    ref = formula.reference(y_pred, ref_y, **params)
    special = params.get("weight") is not None or params.get("ignore_index") is not None
    if (formula.meta.get("family") != "categorical" or not special or ref_y.ndim != 2
            or not (np.all((ref_y == 0) | (ref_y == 1)) and np.all(ref_y.sum(axis=1) == 1))):
        return ref_y, ref
    labels = ref_y.argmax(axis=1)
    alt = formula.reference(y_pred, labels, **params)
    try:
        got = np.asarray(value, dtype=np.float64)
        gap = lambda r: float(np.sum(np.abs(got - np.asarray(r.reduced(reduction)))))
        if alt.count > 0 and gap(alt) < gap(ref):
            return labels, alt
    except (TypeError, ValueError):
        pass
    return ref_y, ref


def _reference_targets(prepared: Any, raw: np.ndarray, n: int, c: int) -> np.ndarray:
    """What the reference is given: the prepared targets' meaning (1-D integer labels or (N, C) rows), else raw."""
    a = np.asarray(prepared)
    if a.shape == (n,) and np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64)
    if a.shape == (n, c) and a.dtype.kind in "fiub":
        return a.astype(np.float64)
    return raw


def _formula_compare(found: Any, expected: np.ndarray, atol: np.ndarray, rtol: float, what: str, fix: str,
                     y_pred: np.ndarray, y_true: Any) -> None:
    """Fail unless ``|found - expected| <= atol + rtol |expected|`` entry by entry, naming the worst entry."""
    f = np.asarray(found, dtype=np.float64)
    if f.shape != expected.shape:
        fail(f"{what}: wrong shape. {fix}", expected=f"shape {expected.shape}", found=f"shape {f.shape}")
    if not np.all(np.isfinite(f)):
        i = np.unravel_index(int(np.argmin(np.isfinite(f))), f.shape) if f.ndim else ()
        fail(f"{what}: non-finite value. {fix}", expected=repr(float(expected[i])), found=repr(float(f[i])),
             where=_formula_where(i, y_pred, y_true))
    err = np.abs(f - expected)
    allowed = np.broadcast_to(atol + rtol * np.abs(expected), err.shape)
    if np.all(err <= allowed):
        return
    i = np.unravel_index(int(np.argmax(err - allowed)), err.shape) if err.ndim else ()
    fail(f"{what}: error {float(err[i]):.3g} exceeds the tolerance {float(allowed[i]):.3g}. {fix}",
         expected=f"{float(expected[i]):.17g}", found=f"{float(f[i]):.17g}", where=_formula_where(i, y_pred, y_true))


def _formula_where(index: tuple[int, ...], y_pred: np.ndarray, y_true: Any) -> str:
    if not index:
        return f"the batch y_pred = {np.array2string(y_pred, precision=6)}, y_true = {np.asarray(y_true).tolist()}"
    row = int(index[0])
    col = f", column {int(index[1])}" if len(index) > 1 else ""
    return (f"row {row}{col}: y_pred = {[float(v) for v in y_pred[row]]}, "
            f"y_true = {np.asarray(y_true)[row].tolist()}")


def _worst_row(component: Any, formula: Any, params: dict[str, Any], reduction: str, y_pred: np.ndarray,
               y: Any, ref_y: np.ndarray, dtype: Any) -> str:
    """For a wrong reduced value: the row whose single-row loss is furthest from the reference (failure path only)."""
    worst, where = -1.0, ""
    for i in range(y_pred.shape[0]):
        try:
            got = _total(component.forward(y_pred[i:i + 1].astype(dtype), _copy(y[i:i + 1])))
            ref = formula.reference(y_pred[i:i + 1], ref_y[i:i + 1], **params)
            exp = _total(ref.reduced(reduction)) if ref.count or reduction != "mean" else 0.0
        except Exception:  # noqa: BLE001 - only a hint
            continue
        if abs(got - exp) > worst:
            worst, where = abs(got - exp), (f"worst single row {i}: y_pred = {[float(v) for v in y_pred[i]]}, "
                                            f"y_true = {np.asarray(ref_y)[i].tolist()} gives {got:.17g}, "
                                            f"expected {exp:.17g}")
    return where


@spec_check("LOSS-FORMULA", "loss", layer="formula",
            title="every claimed loss formula equals its closed-form reference, for every config",
            formula=r"L(\hat y, y),\ \nabla_{\hat y} L,\ \nabla_z L = \text{reference}(\hat y, y; \theta)"
                    r"\ \forall \theta \in \text{configs}",
            notes=("loss_minimization",),
            tolerance="|got - ref| <= 16 eps (m_terms + n) / k + 8 eps |ref|, eps of the dtype (float64 and "
                      "float32); m_terms the magnitudes of the terms summed, n their number, k the mean's divisor")
def check_loss_formula(subject: Subject) -> None:
    r"""For every formula the component claims (``implements``; the vocabulary is
    :mod:`neuroplug.spec.references.losses`: mse, mae, smooth_l1, huber,
    binary_cross_entropy, cross_entropy), and for every config of
    :func:`neuroplug.spec.formulas.formula_cases` (its own, the formula's and the
    registration's examples, and configs drawn from the formula's parameters), the
    component equals the float64 reference on 8 x 3 batches:

    * ``forward`` for the config's ``reduction`` ("mean" when the component has no such
      parameter): the mean divides by the formula's count (elements; samples or PyTorch's
      weighted count for cross_entropy), "none" has the formula's shape;
    * ``gradient``, the gradient of that reduced loss (of the sum for "none");
    * ``fused_gradient`` when the loss takes probabilities and declares the formula's link.

    Inputs: regression differences on both sides of the threshold (``beta``/``delta``),
    at 3 scales; probabilities in [0.01, 0.99] or logits (also up to 30 in magnitude), per
    ``from_logits`` when the component has it, else per its ``link`` (none: logits); targets:
    real, soft and hard [0, 1], class labels, one-hot and soft rows -- every kind that
    ``prepare_targets`` accepts (a kind it refuses is skipped; at least one must be accepted),
    judged by their prepared form (1-D integer labels, or rows; with class weights or an ignored
    label, exact one-hot rows may also be read as labels, whichever reading ``forward`` follows).
    All inputs are exactly representable in float32; float64 on every batch, float32 on the first.
    A failure names the formula and config, the method to fix (``forward``, ``gradient``,
    ``fused_gradient``, ``prepare_targets``), the expected and found values and the worst entry
    (for a reduced value, the single row furthest from the reference).

    Tolerance, from rounding-error analysis: an entry computed in a precision with machine
    epsilon :math:`\varepsilon` (of the dtype) as a sum of terms of magnitudes :math:`m_j` (the
    reference's ``value_mag``/``grad_mag``: e.g. :math:`|T_{ic}|(|\log p_{ic}| + 1)` for a log, with the
    log-sum-exp span for logits) is off by at most a few :math:`\varepsilon \sum_j m_j`, whatever the
    algebraic form; a reduction adds :math:`n\varepsilon` relative for :math:`n` terms. So
    :math:`|got - ref| \le 16\varepsilon(\sum m + n\,\max m)/k + 8\varepsilon|ref|`, :math:`k` the divisor of
    the reduction. A wrong parameter, factor or branch is off by orders of magnitude more.
    Deterministic.
    """
    from ..formulas import formula_cases

    if not subject.implements:
        skip("claims no loss formula (implements=...)")
    checked = 0
    for case in formula_cases(subject):
        checked += 1
        _check_formula_case(subject, case)
    if not checked:
        skip("claims no formula of the loss vocabulary")


def _check_formula_case(subject: Subject, case: Any) -> None:
    formula, component = case.formula, case.component
    params = {k: v for k, v in case.params.items() if k != "reduction"}
    reduction = str(case.params.get("reduction", "mean"))
    family = formula.meta.get("family")
    if "from_logits" in formula.defaults:
        params["from_logits"] = _formula_from_logits(case, component)
    shown = ", ".join(f"{k}={v!r}" for k, v in {**params, "reduction": reduction}.items())
    label = f"formula {formula.name!r} with {shown}"
    domain = ("logits" if params.get("from_logits") else "probabilities") if family != "regression" else ""
    link = formula.meta.get("link")
    fused = link is not None and not params.get("from_logits") and _link(component) == link
    rng = subject.rng(900 + sum(map(ord, formula.name)))
    refused: list[str] = []
    accepted = 0
    for b, (described, y_pred64, kinds) in enumerate(_formula_batches(formula, params, rng,
                                                                     bool(params.get("from_logits")))):
        for kind, raw in kinds:
            for dtype in ((np.float64, np.float32) if b == 0 else (np.float64,)):
                name = np.dtype(dtype).name
                try:
                    y = component.prepare_targets(np.array(raw, copy=True), FORMULA_C, dtype)
                except Exception as exc:  # noqa: BLE001 - a refused kind of targets is skipped
                    refused.append(f"{kind}: {type(exc).__name__}: {exc}")
                    break
                accepted += 1
                ref_y = _reference_targets(y, raw, FORMULA_N, FORMULA_C)
                y_pred = y_pred64.astype(dtype)
                value = component.forward(y_pred.copy(), _copy(y))
                ref_y, ref = _formula_reference(formula, params, y_pred64, ref_y, value, reduction)
                eps = float(np.finfo(dtype).eps)
                k = ref.factor(reduction)
                context = f"{label}; {described}{' (' + domain + ')' if domain else ''}, {kind}, {name}"
                expected = ref.reduced(reduction)
                n_terms = ref.values.size + FORMULA_C
                if reduction == "none":
                    atol = FORMULA_ATOL_EPS * eps * ref.value_mag
                    shape = "(N, C) element" if ref.values.ndim == 2 else "(N,) per-sample"
                    fix = (f"forward() with reduction='none' must return the {shape} values of {formula.title}")
                    _formula_compare(value, np.asarray(expected), atol, FORMULA_RTOL_EPS * eps,
                                     f"forward() of {context}", fix, y_pred64, ref_y)
                else:
                    mag = float(np.sum(ref.value_mag)) + n_terms * float(np.max(ref.value_mag, initial=0.0))
                    atol = np.asarray(FORMULA_ATOL_EPS * eps * mag / k)
                    got = np.asarray(value, dtype=np.float64)
                    if got.shape != ():
                        fail(f"forward() of {context} must return a float for reduction {reduction!r}",
                             expected="a float", found=f"shape {got.shape}")
                    err, allowed = abs(float(got) - expected), float(atol) + FORMULA_RTOL_EPS * eps * abs(expected)
                    if not err <= allowed:
                        total = float(np.sum(ref.values))
                        hint = ""
                        if reduction == "mean" and abs(float(got) - total) <= allowed * k:
                            hint = f" It returns the sum of the values: 'mean' divides the sum by {k:g}."
                        elif reduction == "sum" and abs(float(got) - total / ref.count) <= allowed:
                            hint = f" It returns the mean of the values: 'sum' must not divide by {ref.count:g}."
                        fail(f"forward() of {context}: error {err:.3g} exceeds the tolerance {allowed:.3g}.{hint} "
                             f"forward() must compute {formula.title} (reduction {reduction!r}"
                             f"{': divided by ' + format(k, 'g') if reduction == 'mean' else ''}), accurately "
                             f"and without clipping inputs of the formula's domain",
                             expected=f"{expected:.17g}", found=f"{float(got):.17g}",
                             where=_worst_row(component, formula, params, reduction, y_pred64, y, ref_y, dtype))
                grad_fix = (f"gradient() must be the derivative of forward() for {formula.title} (of the sum for "
                            f"reduction 'none'{', divided by ' + format(k, 'g') + ' for the mean' if reduction == 'mean' else ''})")
                g = component.gradient(y_pred.copy(), _copy(y))
                _formula_compare(g, ref.grad / k, FORMULA_ATOL_EPS * eps * ref.grad_mag / k, FORMULA_RTOL_EPS * eps,
                                 f"gradient() of {context} (d/dy_pred)", grad_fix, y_pred64, ref_y)
                if fused and ref.fused is not None:
                    g = component.fused_gradient(y_pred.copy(), _copy(y))
                    _formula_compare(g, ref.fused / k, FORMULA_ATOL_EPS * eps * ref.fused_mag / k,
                                     FORMULA_RTOL_EPS * eps, f"fused_gradient() of {context} (d/dz, a = {link}(z))",
                                     f"fused_gradient() must be dL/dz of {formula.title} for a = {link}(z)"
                                     f"{', divided by ' + format(k, 'g') + ' for the mean' if reduction == 'mean' else ''}",
                                     y_pred64, ref_y)
    if not accepted:
        fail(f"prepare_targets() refuses every kind of target of {label}: accept the targets the formula is "
             f"defined on (change prepare_targets)", found="; ".join(dict.fromkeys(refused)))
