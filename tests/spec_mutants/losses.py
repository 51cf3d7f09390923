"""Wrong losses: each fails exactly the spec checks listed in its ``kills``.

Each is a plausible mistake (a sum instead of a mean, a missing 1/2, a wrong
offset, an unclipped log, a gradient factor, an in-place subtraction ...), not a
random corruption. They are unregistered instances, judged by what they declare
(``implements``, ``link``, ``kinks``) and what they compute.
"""

from __future__ import annotations

import numpy as np

from neuroplug.base import Loss
from neuroplug.plugins.losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy

from . import Mutant

__all__ = ["MUTANTS"]


class _Elementwise(Loss):
    """A per-element loss l(d), d = y_pred - y_true, reduced by the mean over all entries (no parameters)."""

    def _values(self, d):
        raise NotImplementedError

    def _slope(self, d):
        raise NotImplementedError

    def forward(self, y_pred, y_true):
        d = y_pred - np.asarray(y_true, dtype=y_pred.dtype)
        return float(np.mean(self._values(d), dtype=np.float64))

    def gradient(self, y_pred, y_true):
        d = y_pred - np.asarray(y_true, dtype=y_pred.dtype)
        return (self._slope(d) / d.size).astype(y_pred.dtype)


class SummedMSE(Loss):
    """"mse" that sums the squared differences instead of averaging them."""

    def forward(self, y_pred, y_true):
        d = y_pred - y_true
        return float(np.sum(d * d, dtype=np.float64))

    def gradient(self, y_pred, y_true):
        return 2.0 * (y_pred - y_true)


class SignedMeanError(_Elementwise):
    """"mse" as the mean of the signed differences: negative deviations cancel positive ones."""

    def _values(self, d):
        return d

    def _slope(self, d):
        return np.ones_like(d)


class _SmoothL1Like(_Elementwise):
    """Piecewise loss around the threshold ``beta``; subclasses give inside/outside values and slopes."""

    def __init__(self, beta: float = 1.0):
        if not beta > 0:
            raise ValueError(f"beta must be > 0, got {beta!r}")  # a legitimate restriction: beta = 0 is not built
        self.beta = float(beta)

    def _values(self, d):
        ad = np.abs(d)
        inside = ad < self.beta
        return np.where(inside, self._in(d), self._out(np.where(inside, self.beta, ad)))

    def _slope(self, d):
        ad = np.abs(d)
        inside = ad < self.beta
        return np.where(inside, self._in_slope(d), np.sign(d) * self._out_slope(np.where(inside, self.beta, ad)))

    def _in(self, d):
        return 0.5 * d * d / self.beta

    def _in_slope(self, d):
        return d / self.beta

    def _out(self, ad):
        return ad - 0.5 * self.beta

    def _out_slope(self, ad):
        return np.ones_like(ad)


class SmoothL1WithoutHalf(_SmoothL1Like):
    """smooth L1 with d^2 / beta inside (the 1/2 forgotten): value and slope jump at the threshold."""

    def _in(self, d):
        return d * d / self.beta

    def _in_slope(self, d):
        return 2.0 * d / self.beta


class SmoothL1WrongOffset(_SmoothL1Like):
    """smooth L1 with |d| - 0.4 beta outside (instead of |d| - beta/2): the value jumps at the threshold."""

    def _out(self, ad):
        return ad - 0.4 * self.beta


class SmoothL1LogTail(_SmoothL1Like):
    """A "robust" loss, quadratic inside and logarithmic outside (C1, gradient <= 1), claimed as smooth L1."""

    def _out(self, ad):
        return 0.5 * self.beta + self.beta * np.log(ad / self.beta)

    def _out_slope(self, ad):
        return self.beta / ad


class HalfSquaredError(_Elementwise):
    """0.5 d^2 everywhere, claimed as smooth L1: never turns linear, so its gradient grows without bound."""

    def _values(self, d):
        return 0.5 * d * d

    def _slope(self, d):
        return d


class SummedCrossEntropy(CrossEntropy):
    """cross-entropy that sums over the samples (no reduction parameter, always "sum")."""

    def __init__(self):
        super().__init__(reduction="sum")


class ClippedCrossEntropy(Loss):
    """cross-entropy on log(max(p, 0.5)) "to bound the loss": a confident wrong prediction costs no more."""

    link = "softmax"

    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        return CrossEntropy().prepare_targets(y, n_outputs, dtype)

    def forward(self, y_pred, y_true):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        return float(-np.sum(t * np.log(np.maximum(y_pred, 0.5)), dtype=np.float64) / y_pred.shape[0])

    def gradient(self, y_pred, y_true):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        g = np.zeros_like(y_pred)
        np.divide(t, y_pred, out=g, where=y_pred > 0.5)
        g *= -1.0 / y_pred.shape[0]
        return g

    def fused_gradient(self, a, y_true):
        g = self.gradient(a, y_true)
        return a * (g - np.sum(g * a, axis=1, keepdims=True))


class HalfGradientMSE(_Elementwise):
    """mean squared error whose gradient forgot the factor 2 of d(d^2)/dd."""

    def _values(self, d):
        return d * d

    def _slope(self, d):
        return d


class UnscaledFusedBCE(BinaryCrossEntropy):
    """binary cross-entropy whose fused gradient (sigmoid + BCE) forgets the 1/n of the mean: a - y."""

    def fused_gradient(self, a, y_true):
        return a - np.asarray(y_true, dtype=a.dtype)


class RowMeanMSE(Loss):
    """squared error whose "mean" divides by the number of rows while "none" is per element."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        d = y_pred - y_true
        values = d * d
        if self.reduction == "none":
            return values
        total = float(np.sum(values, dtype=np.float64))
        return total if self.reduction == "sum" else total / y_pred.shape[0]

    def gradient(self, y_pred, y_true):
        g = 2.0 * (y_pred - y_true)
        if self.reduction == "mean":
            g /= y_pred.shape[0]
        return g


class BareNumberKinksMAE(MAE):
    """mean absolute error declaring its kink as a bare number instead of a tuple."""

    kinks = 0.0


class UpcastingMSE(_Elementwise):
    """mean squared error whose gradient is scaled by a numpy float64 constant (float32 -> float64)."""

    def _values(self, d):
        return d * d

    def gradient(self, y_pred, y_true):
        d = y_pred - y_true
        return d * np.float64(2.0 / d.size)


class InPlaceMSE(Loss):
    """mean squared error that subtracts the targets from y_pred in place."""

    def forward(self, y_pred, y_true):
        d = y_pred
        d -= y_true
        return float(np.mean(d * d, dtype=np.float64))

    def gradient(self, y_pred, y_true):
        return 2.0 * (y_pred - y_true) / y_pred.size


class ShuffledSumMSE(_Elementwise):
    """mean squared error summed in a random order (np.random.permutation): last-bit differences."""

    def forward(self, y_pred, y_true):
        d = (y_pred - y_true).astype(np.float64).ravel()
        values = (d * d)[np.random.permutation(d.size)]
        return float(np.cumsum(values)[-1]) / d.size  # sequential sum, in a random order

    def _slope(self, d):
        return 2.0 * d


class NaiveLogCosh(_Elementwise):
    """log-cosh loss as log(cosh(d)): cosh overflows (and warns) for |d| > 710 (float64), 89 (float32)."""

    def _values(self, d):
        return np.log(np.cosh(d))

    def _slope(self, d):
        return np.tanh(d)


class HuberForgetsDelta(_Elementwise):
    """Huber loss storing ``delta`` as ``self.threshold``; ``delta`` is only a class default."""

    delta = 1.0

    def __init__(self, delta: float = 1.0):
        self.threshold = float(delta)

    def _values(self, d):
        ad = np.abs(d)
        k = self.threshold
        return np.where(ad <= k, 0.5 * d * d, k * (ad - 0.5 * k))

    def _slope(self, d):
        return np.clip(d, -self.threshold, self.threshold)


class SmoothL1LinearIgnoresBeta(_SmoothL1Like):
    """smooth L1 whose linear part is |d| - 1/2 whatever beta: right at the default beta = 1 only."""

    def _out(self, ad):
        return ad - 0.5


class HuberGradientIgnoresDelta(_Elementwise):
    """Huber loss whose gradient clips at +-1 instead of +-delta: right at the default delta = 1 only."""

    def __init__(self, delta: float = 1.0):
        if not delta > 0:
            raise ValueError(f"delta must be > 0, got {delta!r}")
        self.delta = float(delta)

    def _values(self, d):
        ad = np.abs(d)
        k = self.delta
        return np.where(ad <= k, 0.5 * d * d, k * (ad - 0.5 * k))

    def _slope(self, d):
        return np.clip(d, -1.0, 1.0)


class CEGradientIgnoresSmoothing(CrossEntropy):
    """cross-entropy whose gradient() forgets label_smoothing (forward and fused gradient use it)."""

    def _gradient(self, y_pred, y_true):
        smoothing = self.label_smoothing
        self.label_smoothing = 0.0
        try:
            return super()._gradient(y_pred, y_true)
        finally:
            self.label_smoothing = smoothing


class BCEFusedIgnoresPosWeight(BinaryCrossEntropy):
    """binary cross-entropy whose fused gradient (sigmoid + BCE) forgets pos_weight: (a - y)/n."""

    def _fused_gradient(self, a, y_true):
        y = np.asarray(y_true, dtype=a.dtype)
        g = a - y
        g *= self._scale(g.size)
        return g


class MSEGradientAlwaysMean(MSE):
    """mean squared error whose gradient divides by n whatever the reduction ("sum" and "none" too)."""

    def _gradient(self, y_pred, y_true):
        d = self._diff(y_pred, y_true)
        return d * (2.0 / d.size)


class CEUnweightedMean(CrossEntropy):
    """cross-entropy with class weights whose "mean" divides by the number of samples, not by sum_i w_{y_i}."""

    def _targets(self, y_pred, y_true):
        t, y, count = super()._targets(y_pred, y_true)
        y = np.asarray(y)
        if y.ndim == 1:
            keep = np.ones(y.shape, bool) if self.ignore_index is None else y != self.ignore_index
            count = float(keep.sum())
        return t, y, count


MUTANTS = [
    Mutant(name="mse_sums", component=SummedMSE(), kills={"LOSS-FORMULA", "LOSS-MSE-VALUE"}, implements=("mse",),
           fix_hint="sum"),
    Mutant(name="mse_signed_mean", component=SignedMeanError(), kills={"LOSS-FORMULA", "LOSS-MSE-VALUE", "LOSS-MSE-NONNEG-ZERO"},
           implements=("mse",), fix_hint="mean of squares", notes="negative deviations cancel: L < 0 happens"),
    Mutant(name="smooth_l1_without_half", component=SmoothL1WithoutHalf(),
           kills={"LOSS-FORMULA", "LOSS-SMOOTHL1-QUADRATIC", "LOSS-SMOOTHL1-C1", "LOSS-SMOOTHL1-BOUNDED-GRAD"},
           implements=("smooth_l1",), fix_hint="threshold beta",
           notes="d^2/beta inside: value and slope jump at beta, and the slope reaches 2"),
    Mutant(name="smooth_l1_wrong_offset", component=SmoothL1WrongOffset(), kills={"LOSS-FORMULA", "LOSS-SMOOTHL1-C1"},
           implements=("smooth_l1",), fix_hint="threshold beta", notes="|d| - 0.4 outside: a value jump of 0.1"),
    Mutant(name="smooth_l1_log_tail", component=SmoothL1LogTail(), kills={"LOSS-FORMULA", "LOSS-SMOOTHL1-LINEAR"},
           implements=("smooth_l1",), fix_hint="threshold beta", notes="C1 with bounded gradient, but not L1 outside"),
    Mutant(name="smooth_l1_pure_quadratic", component=HalfSquaredError(),
           kills={"LOSS-FORMULA", "LOSS-SMOOTHL1-LINEAR", "LOSS-SMOOTHL1-BOUNDED-GRAD"}, implements=("smooth_l1",),
           fix_hint="threshold beta", notes="the exploding gradient smooth L1 exists to prevent"),
    Mutant(name="cross_entropy_sums", component=SummedCrossEntropy(), kills={"LOSS-FORMULA", "LOSS-CE-VALUE"},
           implements=("cross_entropy",), fix_hint="averaged over the samples"),
    Mutant(name="cross_entropy_clipped", component=ClippedCrossEntropy(),
           kills={"LOSS-FORMULA", "LOSS-CE-VALUE", "LOSS-CE-CONFIDENCE"}, implements=("cross_entropy",), fix_hint="clip",
           notes="log(max(p, 0.5)): the loss stops growing once p_true < 0.5"),
    Mutant(name="mse_half_gradient", component=HalfGradientMSE(), kills={"LOSS-GRAD", "CHAIN-RULE-LOSS"},
           fix_hint="1/n"),
    Mutant(name="bce_fused_unscaled", component=UnscaledFusedBCE(), kills={"LOSS-FUSED"},
           fix_hint="reduction factor", notes="gradient() is right, so backpropagation without fusion is right"),
    Mutant(name="mse_mean_over_rows", component=RowMeanMSE(), kills={"LOSS-REDUCTION"}, fix_hint="by their count"),
    Mutant(name="mae_kinks_bare_number", component=BareNumberKinksMAE(), kills={"LOSS-INTERFACE"},
           fix_hint="not a bare number"),
    Mutant(name="mse_gradient_upcasts", component=UpcastingMSE(), kills={"LOSS-SHAPE-DTYPE"},
           fix_hint="preserve the input dtype"),
    Mutant(name="mse_subtracts_in_place", component=InPlaceMSE(), kills={"LOSS-NO-MUTATION", "CHAIN-RULE-LOSS"},
           fix_hint="in place", notes="the network computes the gradient from the mutated output"),
    Mutant(name="mse_shuffled_sum", component=ShuffledSumMSE(), kills={"LOSS-DETERMINISTIC"}, fix_hint="np.random",
           notes="last-bit differences only: every tolerance-based check passes"),
    Mutant(name="log_cosh_overflows", component=NaiveLogCosh(), kills={"LOSS-FINITE-LARGE"},
           fix_hint="numerically stable"),
    Mutant(name="huber_config_lost", component=HuberForgetsDelta(delta=2.0), kills={"LOSS-CONFIG-ROUNDTRIP"},
           fix_hint="attribute of the same name", notes="get_config() reports the class default delta = 1.0"),
    Mutant(name="smooth_l1_linear_ignores_beta", component=SmoothL1LinearIgnoresBeta(),
           kills={"LOSS-FORMULA", "LOSS-SMOOTHL1-C1"}, implements=("smooth_l1",), fix_hint="threshold beta",
           notes="|d| - 1/2 above beta: invisible at beta = 1, caught with the drawn and example betas"),
    Mutant(name="huber_gradient_ignores_delta", component=HuberGradientIgnoresDelta(),
           kills={"LOSS-FORMULA", "LOSS-GRAD"}, implements=("huber",), fix_hint="gradient()",
           notes="clip(d, -1, 1): invisible at delta = 1"),
    Mutant(name="cross_entropy_gradient_ignores_smoothing", component=CEGradientIgnoresSmoothing(),
           kills={"LOSS-FORMULA", "LOSS-GRAD", "LOSS-FUSED"}, implements=("cross_entropy",), fix_hint="gradient()",
           notes="invisible at label_smoothing = 0, the default"),
    Mutant(name="bce_fused_ignores_pos_weight", component=BCEFusedIgnoresPosWeight(),
           kills={"LOSS-FORMULA", "LOSS-FUSED"}, implements=("binary_cross_entropy",), fix_hint="fused_gradient()",
           notes="invisible without pos_weight, the default"),
    Mutant(name="mse_gradient_ignores_reduction", component=MSEGradientAlwaysMean(),
           kills={"LOSS-FORMULA", "LOSS-GRAD", "LOSS-REDUCTION"}, implements=("mse",), fix_hint="reduction",
           notes="invisible with the default reduction 'mean'; a drawn config with 'sum' or 'none' shows it"),
    Mutant(name="cross_entropy_weighted_mean_by_count", component=CEUnweightedMean(),
           kills={"LOSS-FORMULA"}, implements=("cross_entropy",), fix_hint="averaged over the samples",
           notes="PyTorch's weighted mean divides by sum_i w_{y_i}; invisible without class weights"),
]
