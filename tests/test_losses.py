"""Tests of the built-in loss plugin module ``neuroplug.plugins.losses``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuroplug.base import Loss
from neuroplug.errors import ConfigError, InputError, NonFiniteError, ShapeError
from neuroplug.plugins import activations as acts
from neuroplug.plugins import losses as L

REGISTRATIONS = L.neuroplug_losses()
FACTORIES = {reg.name: reg.factory for reg in REGISTRATIONS}
REDUCTIONS = ("mean", "sum", "none")
N, C = 6, 3

# (loss name, parameters, kind of targets); every combination is run with each reduction.
REGRESSION = [("mse", {}), ("mae", {}), ("smooth_l1", {}), ("smooth_l1", {"beta": 0.5}),
              ("smooth_l1", {"beta": 0.0}), ("huber", {}), ("huber", {"delta": 2.0})]
BCE = [{"from_logits": f, "pos_weight": w} for f in (False, True) for w in (None, 1.7, [0.5, 2.0, 3.0])]
CE = [{"from_logits": f, **extra} for f in (False, True) for extra in (
    {}, {"label_smoothing": 0.1}, {"weight": [0.2, 1.0, 3.0]}, {"ignore_index": 1},
    {"label_smoothing": 0.2, "weight": [2.0, 0.5, 1.0], "ignore_index": 0})]
CASES = ([(n, p, "regression") for n, p in REGRESSION]
         + [("binary_cross_entropy", p, "binary") for p in BCE]
         + [("cross_entropy", p, t) for p in CE for t in ("labels", "onehot", "soft")])
FULL = [(n, {**p, "reduction": r}, t) for n, p, t in CASES for r in REDUCTIONS]
IDS = [f"{n}-{t}-{p}" for n, p, t in FULL]


def make(name: str, params: dict) -> Loss:
    return FACTORIES[name](**params)


def kinks_of(loss: Loss) -> tuple[float, ...]:
    """Where the element-wise loss of ``d = y_pred - y_true`` is not twice differentiable."""
    width = getattr(loss, "beta", getattr(loss, "delta", None))
    return (0.0,) if not width else (0.0, -width, width)


def problem(name: str, params: dict, targets: str, rng, dtype=np.float64):
    """Return ``(loss, y_pred, y_true)`` with well-conditioned random data.

    Probabilities are kept well inside (0, 1) (logits of scale 1): ``log p`` is
    singular at 0, and the truncation error of a central difference of it,
    ``eps^2 / (3 p^2)`` relative, is below 1e-8 only for ``p > 0.006``.
    """
    loss = make(name, params)
    if targets == "regression":
        y_pred = rng.normal(size=(N, C))
        d = rng.normal(scale=1.5, size=(N, C))
        for k in kinks_of(loss):  # keep |d| away from the kinks (move, don't filter)
            near = np.abs(d - k) < 1e-2
            d[near] = k + np.where(d[near] >= k, 1e-2, -1e-2)
        y_true = y_pred - d
    elif targets == "binary":
        z = rng.normal(scale=2.0 if loss.from_logits else 1.0, size=(N, C))
        y_pred = z if loss.from_logits else acts.Sigmoid().forward(z)
        y_true = rng.uniform(size=(N, C))
        y_true[0] = [0.0, 1.0, 1.0]
    else:
        z = rng.normal(scale=2.0 if loss.from_logits else 1.0, size=(N, C))
        y_pred = z if loss.from_logits else acts.Softmax().forward(z)
        labels = np.array([0, 1, 2, 1, 0, 2])
        y_true = {"labels": labels,
                  "onehot": np.eye(C)[labels],
                  "soft": rng.dirichlet(np.ones(C), size=N)}[targets]
    y_true = y_true if targets == "labels" else y_true.astype(dtype)
    return loss, y_pred.astype(dtype), y_true


def total(loss: Loss, y_pred, y_true) -> float:
    """The scalar whose gradient ``loss.gradient`` returns (the sum, for "none")."""
    value = loss.forward(y_pred, y_true)
    return float(np.sum(value)) if loss.reduction == "none" else value


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        grad[i] = (f(xp) - f(xm)) / (2 * eps)
    return grad


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Largest deviation relative to the largest entry (a normwise relative error)."""
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), np.finfo(float).tiny)
    return float(np.max(np.abs(analytic - numeric)) / scale)


# --- registrations ------------------------------------------------------------------------

PROPERTY_VOCABULARY = {"nonnegative", "zero_at_perfect", "bounded_gradient", "penalizes_confidence"}


def test_hook_returns_valid_unique_registrations():
    names = [n for reg in REGISTRATIONS for n in (reg.name, *reg.aliases)]
    assert len(names) == len(set(names))
    assert set(names) == {"mse", "mae", "smooth_l1", "huber", "binary_cross_entropy", "cross_entropy"}
    for reg in REGISTRATIONS:
        assert reg.kind == "loss"
        assert reg.problems() == [], reg.name
        assert issubclass(reg.factory, Loss)
        assert reg.summary and "\n" not in reg.summary
        assert reg.formula and reg.derivative
        assert set(reg.properties) <= PROPERTY_VOCABULARY, reg.name
        assert reg.parameters["reduction"] == "mean"
        assert reg.factory.__doc__ and reg.factory.forward.__doc__ and reg.factory.gradient.__doc__


@pytest.mark.parametrize("name,params,targets", CASES, ids=[f"{n}-{t}-{p}" for n, p, t in CASES])
def test_declared_properties_hold(name, params, targets, rng):
    props = {reg.name: set(reg.properties) for reg in REGISTRATIONS}[name]
    for _ in range(5):
        loss, y_pred, y_true = problem(name, {**params, "reduction": "none"}, targets, rng)
        if "nonnegative" in props:
            assert loss.forward(y_pred, y_true).min() >= 0
        if "bounded_gradient" in props:
            assert np.abs(loss.gradient(y_pred, y_true)).max() <= max(1.0, params.get("delta", 1.0))
        if "zero_at_perfect" in props:
            assert np.all(loss.forward(y_true, y_true) == 0)


def test_links():
    assert [L.MSE().link, L.MAE().link, L.SmoothL1().link, L.Huber().link] == [None] * 4
    assert L.BinaryCrossEntropy().link == "sigmoid"
    assert L.BinaryCrossEntropy(pos_weight=2.0).link == "sigmoid"
    assert L.BinaryCrossEntropy(from_logits=True).link is None
    assert L.CrossEntropy().link == "softmax"
    assert L.CrossEntropy(weight=[1.0, 2.0], label_smoothing=0.1).link == "softmax"
    assert L.CrossEntropy(from_logits=True).link is None
    for loss in (L.BinaryCrossEntropy(from_logits=True), L.CrossEntropy(from_logits=True)):
        with pytest.raises(NotImplementedError):
            loss.fused_gradient(np.full((2, 2), 0.5), np.eye(2))


# --- gradients ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,params,targets", FULL, ids=IDS)
def test_gradient_matches_central_differences(name, params, targets, rng):
    loss, y_pred, y_true = problem(name, params, targets, rng)
    numeric = numerical_gradient(lambda p: total(loss, p, y_true), y_pred)
    analytic = loss.gradient(y_pred, y_true)
    assert analytic.shape == y_pred.shape
    assert rel_error(analytic, numeric) <= 1e-6


@pytest.mark.parametrize("name,params,targets", [c for c in FULL if c[0].endswith("cross_entropy")
                                                 and not c[1]["from_logits"]],
                         ids=[i for c, i in zip(FULL, IDS) if c[0].endswith("cross_entropy")
                              and not c[1]["from_logits"]])
def test_fused_gradient_is_the_chain_rule(name, params, targets, rng):
    """fused_gradient(a, y) == activation.backward(z, a, gradient(a, y)) == d loss(act(z)) / dz."""
    loss, _, y_true = problem(name, params, targets, rng)
    act = acts.Sigmoid() if loss.link == "sigmoid" else acts.Softmax()
    z = rng.normal(scale=2.0, size=(N, C))
    a = act.forward(z)
    fused = loss.fused_gradient(a, y_true)
    chained = act.backward(z, a, loss.gradient(a, y_true))
    assert rel_error(fused, chained) <= 1e-12
    numeric = numerical_gradient(lambda v: total(loss, act.forward(v), y_true), z)
    assert rel_error(fused, numeric) <= 1e-6


def test_fused_fast_path_is_a_minus_y_over_n(rng):
    a = acts.Softmax().forward(rng.normal(size=(N, C))).astype(np.float32)
    y = L.CrossEntropy().prepare_targets(np.array([0, 1, 2, 1, 0, 2]), C, np.float32)
    np.testing.assert_array_equal(L.CrossEntropy().fused_gradient(a, y), (a - y) * np.float32(1 / N))
    p = acts.Sigmoid().forward(rng.normal(size=(N, 1)))
    yb = rng.integers(0, 2, size=(N, 1)).astype(float)
    np.testing.assert_array_equal(L.BinaryCrossEntropy().fused_gradient(p, yb), (p - yb) / N)


def test_soft_targets_not_summing_to_one_still_fuse_exactly(rng):
    z = rng.normal(size=(N, C))
    a = acts.Softmax().forward(z)
    y = rng.uniform(size=(N, C))  # e.g. unnormalised scores
    loss = L.CrossEntropy()
    expected = acts.Softmax().backward(z, a, loss.gradient(a, y))
    assert rel_error(loss.fused_gradient(a, y), expected) <= 1e-12


# --- values -------------------------------------------------------------------------------

def test_regression_values():
    p, y = np.array([[1.0, -2.0, 0.5]]), np.array([[0.0, 0.0, 0.0]])
    assert L.MSE().forward(p, y) == pytest.approx(5.25 / 3)
    assert L.MSE(reduction="sum").forward(p, y) == 5.25
    np.testing.assert_array_equal(L.MSE(reduction="none").forward(p, y), [[1.0, 4.0, 0.25]])
    assert L.MAE().forward(p, y) == pytest.approx(3.5 / 3)
    np.testing.assert_array_equal(L.SmoothL1(reduction="none").forward(p, y), [[0.5, 1.5, 0.125]])
    np.testing.assert_array_equal(L.Huber(delta=1.5, reduction="none").forward(p, y),
                                  [[0.5, 1.5 * (2 - 0.75), 0.125]])
    np.testing.assert_array_equal(L.MSE().gradient(p, y), 2 * p / 3)


def test_smooth_l1_and_huber_relations(rng):
    p, y = rng.normal(size=(N, C)), rng.normal(size=(N, C))
    for delta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(L.Huber(delta=delta).forward(p, y),
                                   delta * L.SmoothL1(beta=delta).forward(p, y), rtol=1e-14)
    np.testing.assert_array_equal(L.SmoothL1(beta=0.0).forward(p, y), L.MAE().forward(p, y))
    np.testing.assert_array_equal(L.SmoothL1(beta=0.0).gradient(p, y), L.MAE().gradient(p, y))
    assert np.abs(L.SmoothL1(beta=0.3, reduction="none").gradient(10 * p, y)).max() <= 1


def test_binary_cross_entropy_values(rng):
    z = rng.normal(scale=3, size=(N, C))
    y = rng.uniform(size=(N, C))
    p = acts.Sigmoid().forward(z)
    for w in (None, 2.0, [0.5, 1.0, 4.0]):
        w_ = 1.0 if w is None else np.asarray(w)
        expected = -(w_ * y * np.log(p) + (1 - y) * np.log(1 - p))
        for logits in (False, True):
            loss = L.BinaryCrossEntropy(from_logits=logits, pos_weight=w, reduction="none")
            np.testing.assert_allclose(loss.forward(z if logits else p, y), expected, rtol=1e-12)
    # logits far beyond exp's range: exact values, no warnings
    loss = L.BinaryCrossEntropy(from_logits=True, reduction="none")
    zz, yy = np.array([[1e4, -1e4, 1e4]]), np.array([[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(loss.forward(zz, yy), [[1e4, 0.0, 0.0]])


def test_binary_cross_entropy_clips_probabilities():
    loss = L.BinaryCrossEntropy(reduction="none")
    for dtype in (np.float32, np.float64):
        p = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=dtype)
        y = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
        values, grad = loss.forward(p, y), loss.gradient(p, y)
        eps = np.finfo(dtype).eps
        assert np.isfinite(values).all() and np.isfinite(grad).all()
        assert values[0, 2] == pytest.approx(-math.log(eps), rel=1e-6)
        assert values[0, 0] < 10 * eps and grad[0, 2] < 0 < grad[0, 3]


def test_cross_entropy_values(rng):
    z = np.array([[1.0, 2.0, 3.0]])
    assert L.CrossEntropy(from_logits=True).forward(z, np.array([0])) == pytest.approx(
        math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 1, rel=1e-15)
    z = rng.normal(scale=3, size=(N, C))
    p = acts.Softmax().forward(z)
    labels = np.array([0, 1, 2, 1, 0, 2])
    nll = -np.log(p[np.arange(N), labels])
    for logits in (False, True):
        x = z if logits else p
        assert L.CrossEntropy(from_logits=logits).forward(x, labels) == pytest.approx(nll.mean(), rel=1e-13)
        # label smoothing: (1 - eps) nll + eps/C * sum_c -log p_c
        smoothed = 0.9 * nll - 0.1 / C * np.log(p).sum(axis=1)
        got = L.CrossEntropy(from_logits=logits, label_smoothing=0.1, reduction="none").forward(x, labels)
        np.testing.assert_allclose(got, smoothed, rtol=1e-13)


def test_cross_entropy_weight_and_ignore_index_follow_pytorch(rng):
    p = acts.Softmax().forward(rng.normal(size=(N, C)))
    labels = np.array([0, 1, 2, 1, 0, 2])
    w = np.array([0.2, 1.0, 3.0])
    nll = -np.log(p[np.arange(N), labels])
    weighted = L.CrossEntropy(weight=w.tolist())
    # class labels: the mean divides by the total weight of the labels
    assert weighted.forward(p, labels) == pytest.approx((w[labels] * nll).sum() / w[labels].sum(), rel=1e-13)
    # probability targets (even one-hot): the mean divides by N
    assert weighted.forward(p, np.eye(C)[labels]) == pytest.approx((w[labels] * nll).mean(), rel=1e-13)
    # ignored samples contribute nothing and leave the mean
    keep = labels != 1
    ignoring = L.CrossEntropy(ignore_index=1)
    assert ignoring.forward(p, labels) == pytest.approx(nll[keep].mean(), rel=1e-13)
    assert np.all(L.CrossEntropy(ignore_index=1, reduction="none").forward(p, labels)[~keep] == 0)
    assert np.all(ignoring.gradient(p, labels)[~keep] == 0)
    assert np.all(ignoring.fused_gradient(p, labels)[~keep] == 0)
    # ignore_index may lie outside [0, C), as PyTorch's default -100
    assert L.CrossEntropy(ignore_index=-100).forward(p, np.where(keep, labels, -100)) == \
        pytest.approx(nll[keep].mean(), rel=1e-13)
    # a batch with every sample ignored: nothing to average, loss and gradient 0
    everything = np.ones(N, dtype=int)
    assert ignoring.forward(p, everything) == 0.0
    assert np.all(ignoring.gradient(p, everything) == 0)
    assert np.all(ignoring.fused_gradient(p, everything) == 0)


def test_cross_entropy_from_logits_is_stable():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    loss = L.CrossEntropy(from_logits=True, reduction="none")
    np.testing.assert_array_equal(loss.forward(z, np.array([0, 0])), [0.0, 2e4])
    np.testing.assert_array_equal(loss.gradient(z, np.array([0, 2])), np.zeros((2, 3)))
    p = np.array([[1.0, 0.0, 0.0]])  # probabilities with exact zeros: clipped, finite
    assert math.isfinite(L.CrossEntropy().forward(p, np.array([1])))
    assert np.isfinite(L.CrossEntropy().gradient(p, np.array([1]))).all()


# --- targets ------------------------------------------------------------------------------

@pytest.mark.parametrize("params", CE, ids=str)
def test_cross_entropy_prepared_targets_mean_the_same(params, rng):
    loss = L.CrossEntropy(**params)
    z = rng.normal(size=(N, C))
    y_pred = z if loss.from_logits else acts.Softmax().forward(z)
    labels = np.array([0, 1, 2, 1, 0, 2])
    prepared = loss.prepare_targets(labels, C, np.float64)
    if "weight" in params or "ignore_index" in params:
        assert prepared.dtype == np.intp and prepared.shape == (N,)
    else:
        np.testing.assert_array_equal(prepared, np.eye(C)[labels])
    idx = np.array([4, 1, 1, 3])  # the training loop takes y[batch_indices]
    for p, y in ((y_pred, labels), (y_pred[idx], labels[idx])):
        yp = prepared if len(y) == N else prepared[idx]
        assert loss.forward(p, yp) == loss.forward(p, y)
        np.testing.assert_array_equal(loss.gradient(p, yp), loss.gradient(p, y))
        if not loss.from_logits:
            np.testing.assert_array_equal(loss.fused_gradient(p, yp), loss.fused_gradient(p, y))


def test_cross_entropy_prepare_targets_validates():
    loss = L.CrossEntropy()
    with pytest.raises(InputError, match=r"y .*label 3.*\[0, 3\)"):
        loss.prepare_targets(np.array([0, 3, 1]), 3)
    with pytest.raises(InputError, match=r"label -1"):
        loss.prepare_targets(np.array([0, -1]), 3)
    with pytest.raises(InputError, match=r"label 5.*ignore_index=-100"):
        L.CrossEntropy(ignore_index=-100).prepare_targets(np.array([-100, 5]), 3)
    assert L.CrossEntropy(ignore_index=-100).prepare_targets(np.array([-100, 2]), 3).tolist() == [-100, 2]
    with pytest.raises(InputError, match="integer"):
        loss.prepare_targets(np.array([0.0, 1.0]), 3)
    with pytest.raises(ShapeError, match=r"\(4, 2\)"):
        loss.prepare_targets(np.zeros((4, 2)), 3)
    with pytest.raises(InputError, match="negative"):
        loss.prepare_targets(np.array([[0.5, 0.6, -0.1]]), 3)
    prepared = loss.prepare_targets(np.array([[0.2, 0.3, 0.5]]), 3, np.float32)
    assert prepared.dtype == np.float32
    with pytest.raises(InputError, match="label 7"):  # also checked per call
        loss.forward(np.full((2, 3), 1 / 3), np.array([0, 7]))


def test_binary_cross_entropy_prepare_targets():
    loss = L.BinaryCrossEntropy()
    assert loss.prepare_targets(np.array([0, 1, 1]), 1).shape == (3, 1)
    with pytest.raises(InputError, match=r"y .*1\.5.*\[0, 1\]"):
        loss.prepare_targets(np.array([0.0, 1.5]), 1)
    with pytest.raises(InputError, match="y"):
        loss.prepare_targets(np.array([[0.0, np.nan]]), 2)


@pytest.mark.parametrize("name,params,targets", CASES, ids=[f"{n}-{t}-{p}" for n, p, t in CASES])
def test_shape_mismatch_raises_shape_error_naming_both_shapes(name, params, targets, rng):
    loss, y_pred, y_true = problem(name, params, targets, rng)
    bad = y_true[:-1]
    methods = [loss.forward, loss.gradient] + ([loss.fused_gradient] if loss.link else [])
    for method in methods:
        with pytest.raises(ShapeError) as info:
            method(y_pred, bad)
        assert str(y_pred.shape) in str(info.value) and str(bad.shape) in str(info.value)


def test_weight_length_must_match_classes(rng):
    p = acts.Softmax().forward(rng.normal(size=(N, C)))
    with pytest.raises(ShapeError, match="weight"):
        L.CrossEntropy(weight=[1.0, 2.0]).forward(p, np.zeros(N, dtype=int))
    with pytest.raises(ShapeError, match="pos_weight"):
        L.BinaryCrossEntropy(pos_weight=[1.0, 2.0]).forward(p, p)


# --- dtypes, mutation, stability ----------------------------------------------------------

@pytest.mark.parametrize("name,params,targets", FULL, ids=IDS)
def test_float32_in_float32_out_and_no_mutation(name, params, targets, rng):
    loss, y_pred, y_true = problem(name, params, targets, rng, dtype=np.float32)
    p0, y0 = y_pred.copy(), y_true.copy()
    value = loss.forward(y_pred, y_true)
    if params["reduction"] == "none":
        assert value.dtype == np.float32
        assert value.shape == ((N,) if name == "cross_entropy" else (N, C))
    else:
        assert type(value) is float
    assert loss.gradient(y_pred, y_true).dtype == np.float32
    if loss.link:
        assert loss.fused_gradient(y_pred, y_true).dtype == np.float32
    np.testing.assert_array_equal(y_pred, p0)
    np.testing.assert_array_equal(y_true, y0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params,targets", CASES, ids=[f"{n}-{t}-{p}" for n, p, t in CASES])
def test_no_warnings_at_extreme_predictions(name, params, targets, dtype, rng):
    loss, y_pred, y_true = problem(name, params, targets, rng, dtype=dtype)
    if targets == "regression" or getattr(loss, "from_logits", False):
        y_pred = np.where(y_pred > 0, 1e4, -1e4).astype(dtype)
    else:  # probabilities at exactly 0 and 1
        y_pred = (y_pred == y_pred.max(axis=1, keepdims=True)).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(y_pred, y_true)
        grad = loss.gradient(y_pred, y_true)
        fused = loss.fused_gradient(y_pred, y_true) if loss.link else grad
    assert np.isfinite(value).all() and np.isfinite(grad).all() and np.isfinite(fused).all()


# --- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("name,params,targets", FULL, ids=IDS)
def test_config_round_trip(name, params, targets, rng):
    loss, y_pred, y_true = problem(name, params, targets, rng)
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(loss)(**config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone.forward(y_pred, y_true), loss.forward(y_pred, y_true))
    np.testing.assert_array_equal(clone.gradient(y_pred, y_true), loss.gradient(y_pred, y_true))


def test_get_config_contents():
    assert L.SmoothL1(beta=0).get_config() == {"beta": 0.0, "reduction": "mean"}
    assert L.BinaryCrossEntropy(pos_weight=np.array([1, 2])).get_config() == {
        "from_logits": False, "pos_weight": [1.0, 2.0], "reduction": "mean"}
    assert L.CrossEntropy(weight=(1, 2), ignore_index=-100).get_config() == {
        "from_logits": False, "label_smoothing": 0.0, "weight": [1.0, 2.0],
        "ignore_index": -100, "reduction": "mean"}


@pytest.mark.parametrize("factory,kwargs,param", [
    (L.MSE, {"reduction": "avg"}, "reduction"),
    (L.MAE, {"reduction": None}, "reduction"),
    (L.SmoothL1, {"beta": -1.0}, "beta"),
    (L.SmoothL1, {"beta": "1"}, "beta"),
    (L.Huber, {"delta": 0.0}, "delta"),
    (L.Huber, {"delta": float("nan")}, "delta"),
    (L.BinaryCrossEntropy, {"from_logits": 1}, "from_logits"),
    (L.BinaryCrossEntropy, {"pos_weight": -1.0}, "pos_weight"),
    (L.BinaryCrossEntropy, {"pos_weight": [1.0, "a"]}, r"pos_weight\[1\]"),
    (L.BinaryCrossEntropy, {"pos_weight": []}, "pos_weight"),
    (L.CrossEntropy, {"from_logits": "yes"}, "from_logits"),
    (L.CrossEntropy, {"label_smoothing": 1.5}, "label_smoothing"),
    (L.CrossEntropy, {"label_smoothing": -0.1}, "label_smoothing"),
    (L.CrossEntropy, {"weight": 2.0}, "weight"),
    (L.CrossEntropy, {"weight": "abc"}, "weight"),
    (L.CrossEntropy, {"weight": [1.0, -1.0]}, r"weight\[1\]"),
    (L.CrossEntropy, {"ignore_index": 1.5}, "ignore_index"),
    (L.CrossEntropy, {"ignore_index": True}, "ignore_index"),
    (L.CrossEntropy, {"reduction": "batchmean"}, "reduction"),
])
def test_bad_parameters_raise_config_error(factory, kwargs, param):
    with pytest.raises(ConfigError, match=param):
        factory(**kwargs)


# ------------------------------------------------------------------- robustness (test_api_properties)


@pytest.mark.parametrize("method", ["forward", "gradient"])
def test_a_loss_overflowing_on_finite_inputs_is_a_non_finite_error(method):
    # hypothesis found: mse of float32 predictions 3.4e38 warned "overflow encountered in multiply"
    # and returned inf
    y_pred = np.array([[3.4e38, 1.0]], dtype=np.float32)
    with pytest.raises(NonFiniteError, match=r"MSE.*float32"):
        getattr(L.MSE(), method)(y_pred, -y_pred)


def test_non_finite_inputs_give_non_finite_results_quietly():
    # fit relies on it: a diverged network's NaN output is reported as a DivergenceError
    y_pred = np.array([[np.nan, 1.0]], dtype=np.float32)
    assert math.isnan(L.MSE().forward(y_pred, np.zeros((1, 2))))
    assert math.isnan(L.CrossEntropy(from_logits=True).forward(np.array([[np.inf, 0.0]]), np.array([0])))


@pytest.mark.parametrize("factory, width", [(L.SmoothL1, 1.0), (L.SmoothL1, 0.5), (L.Huber, 1.0), (L.Huber, 0.5)])
def test_huge_differences_take_the_linear_branch_without_overflow(factory, width):
    # hypothesis found: y_pred = 0, y_true = 3.4e38 (float32) overflowed in the d*d of the quadratic
    # branch, which np.where evaluates even where the linear one is chosen; smooth_l1's gradient
    # overflowed in d / beta for beta < 1
    param = {"beta": width} if factory is L.SmoothL1 else {"delta": width}
    slope = 1.0 if factory is L.SmoothL1 else width
    y_pred, y_true = np.zeros((1, 2), np.float32), np.array([[3.4e38, -1e30]], np.float32)
    values = factory(**param, reduction="none").forward(y_pred, y_true)
    np.testing.assert_allclose(values, slope * (np.abs(y_true.astype(np.float64)) - width / 2), rtol=1e-6)
    gradient = factory(**param, reduction="sum").gradient(y_pred, y_true)
    np.testing.assert_array_equal(gradient, [[-slope, slope]])


@pytest.mark.parametrize("y", [np.array(["a", "b"]), np.array([1 + 1j, 0j]), np.array([1.0, None], dtype=object),
                               [[1.0], [2.0, 3.0]]], ids=["str", "complex", "object", "ragged"])
@pytest.mark.parametrize("loss", [L.MSE(), L.BinaryCrossEntropy(), L.CrossEntropy()], ids=lambda x: type(x).__name__)
def test_targets_that_are_not_real_numbers_are_input_errors(loss, y):
    # hypothesis found: prepare_targets(["a", "b"]) raised numpy's ValueError "could not convert
    # string to float" (complex gave a ComplexWarning)
    with pytest.raises(InputError, match="y"):
        loss.prepare_targets(y, 1, np.float32)
    with pytest.raises(InputError, match="y_true"):
        loss.forward(np.zeros((2, 1), np.float32), y)


@pytest.mark.parametrize("y, found", [(np.array([[3.5e38]]), "which is inf in float32"),
                                      (np.array([[np.nan]]), "non-finite"), (np.array([[np.inf]]), "non-finite")])
@pytest.mark.parametrize("loss", [L.MSE(), L.BinaryCrossEntropy(), L.CrossEntropy()], ids=lambda x: type(x).__name__)
def test_targets_that_are_not_finite_in_the_dtype_are_input_errors(loss, y, found):
    # hypothesis found: prepare_targets([[3.4e38...]], 1, float32) warned "overflow encountered in cast"
    with pytest.raises(InputError, match=found):
        loss.prepare_targets(y, 1, np.float32)


def test_array_likes_are_accepted_as_predictions():
    assert L.MSE().forward([[1.0, 2.0]], [[1.0, 0.0]]) == 2.0
