"""LOSS-FORMULA and the loss checks on components written *differently* from the built-ins (issue 10).

Each class below is a correct loss written the way a stranger might: other algebraic forms, no
``reduction`` parameter (always mean-reduced), logits-only with ``link = None``, integer labels kept
by ``prepare_targets``, float32 computed internally in float64, sum vs mean written by hand. Every
spec check must pass on each (zero false failures); the mutants in ``spec_mutants/losses.py`` show
the same checks fail wrong ones.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import InputError
from neuroplug.spec import check_component
from neuroplug.spec.formulas import formula_cases, formulas, get_formula
from neuroplug.spec.framework import Subject


def _mean_grad(g, n):
    return g / n


class HandMSE(npl.Loss):
    """mean squared error, no reduction parameter: sum of squares over size, computed in float64."""

    def forward(self, y_pred, y_true):
        d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
        return float(np.dot(d.ravel(), d.ravel()) / d.size)

    def gradient(self, y_pred, y_true):
        d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
        return (2.0 * d / d.size).astype(y_pred.dtype)


class SumMeanMAE(npl.Loss):
    """mean absolute error with its own reduction parameter, the mean written as sum / size."""

    kinks = (0.0,)

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        v = np.abs(y_pred - y_true)
        if self.reduction == "none":
            return v
        total = float(np.sum(v, dtype=np.float64))
        return total if self.reduction == "sum" else total / v.size

    def gradient(self, y_pred, y_true):
        g = np.sign(y_pred - y_true)
        return g / g.size if self.reduction == "mean" else g


class SmoothL1ViaHuber(npl.Loss):
    """smooth L1 as huber_beta(d) / beta (beta = 0: L1), always mean-reduced, no reduction parameter."""

    def __init__(self, beta=1.0):
        self.beta = float(beta)
        self.kinks = (0.0,) if self.beta == 0 else ()

    def _huber(self, d):
        ad = np.abs(d)
        b = self.beta
        return np.where(ad <= b, 0.5 * d * d, b * ad - 0.5 * b * b)

    def forward(self, y_pred, y_true):
        d = y_pred - y_true
        if self.beta == 0:
            return float(np.mean(np.abs(d), dtype=np.float64))
        return float(np.mean(self._huber(d), dtype=np.float64) / self.beta)

    def gradient(self, y_pred, y_true):
        d = y_pred - y_true
        if self.beta == 0:
            return np.sign(d) / d.size
        return np.minimum(np.maximum(d / self.beta, -1.0), 1.0) / d.size


class HuberViaSmoothL1(npl.Loss):
    """Huber as delta * smooth_l1_delta(d), with a reduction parameter."""

    def __init__(self, delta=1.0, reduction="mean"):
        if not delta > 0:
            raise ValueError("delta must be > 0")
        self.delta, self.reduction = float(delta), reduction

    def forward(self, y_pred, y_true):
        d = y_pred - y_true
        ad = np.abs(d)
        s = np.where(ad < self.delta, 0.5 * ad * ad / self.delta, ad - 0.5 * self.delta)
        v = self.delta * s
        if self.reduction == "none":
            return v
        return float(v.sum()) / (v.size if self.reduction == "mean" else 1)

    def gradient(self, y_pred, y_true):
        g = self.delta * np.clip((y_pred - y_true) / self.delta, -1.0, 1.0)
        return g / g.size if self.reduction == "mean" else g


class LogitsBCE(npl.Loss):
    """binary cross-entropy on logits only (link None, no from_logits parameter): max(z, 0) - z y + log1p(e^-|z|)."""

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        y = super().prepare_targets(y, n_outputs, dtype)
        if np.any((y < 0) | (y > 1)):
            raise InputError("targets must be in [0, 1]")
        return y

    def forward(self, y_pred, y_true):
        z = y_pred
        v = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
        return float(np.mean(v, dtype=np.float64))

    def gradient(self, y_pred, y_true):
        p = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # the sigmoid via tanh
        return (p - y_true) / y_pred.size


class ProbabilityBCE(npl.Loss):
    """binary cross-entropy on probabilities (link sigmoid), log(1 - p) written naively, fused (a - y)/n."""

    link = "sigmoid"

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        y = super().prepare_targets(y, n_outputs, dtype)
        if np.any((y < 0) | (y > 1)):
            raise InputError("targets must be in [0, 1]")
        return y

    def _p(self, y_pred):
        eps = np.finfo(y_pred.dtype).eps
        return np.clip(y_pred, eps, 1 - eps)

    def forward(self, y_pred, y_true):
        p = self._p(y_pred)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p), dtype=np.float64))

    def gradient(self, y_pred, y_true):
        p = self._p(y_pred)
        return (-y_true / p + (1 - y_true) / (1 - p)) / p.size

    def fused_gradient(self, a, y_true):
        return (a - y_true) / a.size


class LabelCE(npl.Loss):
    """cross-entropy on logits (link None) that keeps integer labels: one-hot rows become labels, soft
    targets are refused (the docs allow it); computed as logsumexp(z) - z_y, always mean-reduced."""

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        y = np.asarray(y)
        if y.ndim == 2:
            if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
                raise InputError("targets must be class labels or one-hot rows")
            y = y.argmax(axis=1)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or np.any((y < 0) | (y >= n_outputs)):
            raise InputError("targets must be class labels")
        return y.astype(np.intp)

    def _lse(self, z):
        m = z.max(axis=1)
        return m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))

    def forward(self, y_pred, y_true):
        z = y_pred.astype(np.float64)
        rows = np.arange(z.shape[0])
        return float(np.mean(self._lse(z) - z[rows, y_true]))

    def gradient(self, y_pred, y_true):
        z = y_pred.astype(np.float64)
        p = np.exp(z - self._lse(z)[:, None])
        p[np.arange(z.shape[0]), y_true] -= 1.0
        return (p / z.shape[0]).astype(y_pred.dtype)


class SoftmaxCE(npl.Loss):
    """cross-entropy on probabilities (link softmax), no reduction parameter; the fused gradient
    written as a * rowsum(y) - y; float32 computed in float64 internally."""

    link = "softmax"

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        y = np.asarray(y)
        if y.ndim == 1:
            return np.eye(n_outputs, dtype=dtype)[y]
        if np.any(y < 0):
            raise InputError("negative target probability")
        return y.astype(dtype)

    def forward(self, y_pred, y_true):
        p = np.maximum(y_pred.astype(np.float64), np.finfo(y_pred.dtype).eps)
        return float(-np.sum(y_true * np.log(p)) / p.shape[0])

    def gradient(self, y_pred, y_true):
        p = np.maximum(y_pred.astype(np.float64), np.finfo(y_pred.dtype).eps)
        return (-y_true / p / p.shape[0]).astype(y_pred.dtype)

    def fused_gradient(self, a, y_true):
        g = a.astype(np.float64) * y_true.sum(axis=1, keepdims=True) - y_true
        return (g / a.shape[0]).astype(a.dtype)


class OneHotWeightedCE(npl.Loss):
    """cross-entropy on logits with class weights that one-hot encodes labels in prepare_targets and
    reads exact one-hot rows back as labels (PyTorch's weighted mean, sum_i w_{y_i}); soft rows: mean over N."""

    def __init__(self, weight=None):
        self.weight = None if weight is None else [float(w) for w in weight]

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        y = np.asarray(y)
        if y.ndim == 1:
            return np.eye(n_outputs, dtype=dtype)[y]
        return y.astype(dtype)

    def _parts(self, z, t):
        w = np.ones(z.shape[1]) if self.weight is None else np.asarray(self.weight)
        log_p = z - z.max(axis=1, keepdims=True)
        log_p = log_p - np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        hard = np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1)
        count = float(np.sum(w[t.argmax(axis=1)])) if hard else float(z.shape[0])
        return w * t, log_p, count

    def forward(self, y_pred, y_true):
        T, log_p, count = self._parts(y_pred.astype(np.float64), np.asarray(y_true, np.float64))
        return float(-np.sum(T * log_p) / count)

    def gradient(self, y_pred, y_true):
        T, log_p, count = self._parts(y_pred.astype(np.float64), np.asarray(y_true, np.float64))
        g = np.exp(log_p) * T.sum(axis=1, keepdims=True) - T
        return (g / count).astype(y_pred.dtype)


CORRECT = [
    (HandMSE(), ("mse",), ("nonnegative", "zero_at_perfect")),
    (SumMeanMAE(), ("mae",), ("nonnegative", "zero_at_perfect", "bounded_gradient")),
    (SmoothL1ViaHuber(), ("smooth_l1",), ("nonnegative", "zero_at_perfect", "bounded_gradient")),
    (SmoothL1ViaHuber(beta=0.25), ("smooth_l1",), ("nonnegative", "bounded_gradient")),
    (HuberViaSmoothL1(), ("huber",), ("nonnegative", "zero_at_perfect", "bounded_gradient")),
    (LogitsBCE(), ("binary_cross_entropy",), ("nonnegative",)),
    (ProbabilityBCE(), ("binary_cross_entropy",), ("nonnegative", "penalizes_confidence")),
    (LabelCE(), ("cross_entropy",), ("nonnegative", "penalizes_confidence")),
    (SoftmaxCE(), ("cross_entropy",), ("nonnegative", "penalizes_confidence")),
    (OneHotWeightedCE(weight=[1.0, 3.0, 0.5]), ("cross_entropy",), ("nonnegative",)),
]


@pytest.mark.parametrize("component, implements, properties", CORRECT,
                         ids=[f"{type(c).__name__}-{i}" for i, (c, _, _) in enumerate(CORRECT)])
def test_correct_losses_written_differently_pass_every_check(component, implements, properties):
    report = check_component(component, implements=implements, properties=properties)
    assert report.ok, [(r.check_id, r.message) for r in report.failures()]
    passed = {r.check_id for r in report.results if r.status == "passed"}
    assert "LOSS-FORMULA" in passed
    assert {f"PROP-LOSS-{p.upper().replace('_', '-')}" for p in properties} <= passed


def test_the_vocabulary_holds_every_builtin_loss_with_its_parameters():
    names = {f.name for f in formulas("loss")}
    assert names == {"mse", "mae", "smooth_l1", "huber", "binary_cross_entropy", "cross_entropy"}
    for f in formulas("loss"):
        assert f.space["reduction"].choices == ("mean", "sum", "none")
        assert f.defaults["reduction"] == "mean" and f.title and f.latex
    assert get_formula("loss", "smooth_l1").defaults["beta"] == 1.0
    assert get_formula("loss", "smooth_l1").space["beta"].contains(0.0)  # beta = 0 is L1
    assert not get_formula("loss", "huber").space["delta"].contains(0.0)
    ce = get_formula("loss", "cross_entropy")
    assert set(ce.defaults) == {"from_logits", "label_smoothing", "weight", "ignore_index", "reduction"}
    assert set(get_formula("loss", "binary_cross_entropy").defaults) == {"from_logits", "pos_weight", "reduction"}
    for entry in npl.get_registry().entries("loss"):
        reg = entry.registration
        assert reg.name in reg.implements, reg.name


def test_the_reference_reductions_follow_pytorch():
    ce = get_formula("loss", "cross_entropy").reference
    z = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2, 1])
    w = [1.0, 2.0, 0.5]
    ref = ce(z, labels, True, 0.0, w, 1)
    assert ref.values.shape == (3,) and ref.values[2] == 0.0  # the ignored sample
    assert ref.count == 1.0 + 0.5  # sum of w_{y_i} over the non-ignored samples
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert ref.reduced("mean") == pytest.approx(-(1.0 * log_p[0, 0] + 0.5 * log_p[1, 2]) / 1.5, rel=1e-14)
    assert ce(z, np.eye(3)[labels], True, 0.0, w, None).count == 3.0  # probability targets: N
    bce = get_formula("loss", "binary_cross_entropy").reference(np.full((2, 3), 0.25), np.ones((2, 3)), False, 2.0)
    assert bce.values.shape == (2, 3) and bce.count == 6.0
    assert bce.values[0, 0] == pytest.approx(-2.0 * np.log(0.25), rel=1e-15)


def test_logits_or_probabilities_follow_from_logits_else_the_link():
    from neuroplug.spec.checks.loss_formulas import _formula_from_logits

    for component, expected in [(LogitsBCE(), True), (ProbabilityBCE(), False), (LabelCE(), True),
                                (SoftmaxCE(), False)]:
        subject = Subject.from_instance(component, implements=frozenset({"cross_entropy"}))
        case = next(formula_cases(subject))
        assert _formula_from_logits(case, component) is expected
    subject = Subject.from_instance(npl.create("loss", "cross_entropy", from_logits=True),
                                    implements=frozenset({"cross_entropy"}))
    assert all(_formula_from_logits(c, c.component) == c.config["from_logits"] for c in formula_cases(subject))


def test_loss_formula_fails_naming_the_formula_the_config_and_the_method():
    from spec_mutants.losses import MUTANTS

    m = next(m for m in MUTANTS if m.name == "smooth_l1_linear_ignores_beta")
    r = check_component(m.component, implements=m.implements, checks=["LOSS-FORMULA"]).results[0]
    assert r.status == "failed"
    assert "formula 'smooth_l1' with beta=" in r.message and "forward()" in r.message
    assert "expected:" in r.message and "found:" in r.message and "where:" in r.message


def test_a_classification_loss_gets_targets_of_its_domain_in_the_property_checks():
    """A correct cross-entropy whose prepare_targets is the permissive default (it accepts any reals)."""

    class PermissiveCE(npl.Loss):
        link = "softmax"

        def forward(self, y_pred, y_true):
            p = np.maximum(y_pred, np.finfo(y_pred.dtype).eps)
            return float(-np.sum(y_true * np.log(p)) / y_pred.shape[0])

        def gradient(self, y_pred, y_true):
            return -y_true / np.maximum(y_pred, np.finfo(y_pred.dtype).eps) / y_pred.shape[0]

        def fused_gradient(self, a, y_true):
            return (a * y_true.sum(axis=1, keepdims=True) - y_true) / a.shape[0]

    report = check_component(PermissiveCE(), implements=("cross_entropy",),
                             properties=("nonnegative", "penalizes_confidence"))
    assert report.ok, [(r.check_id, r.message) for r in report.failures()]
