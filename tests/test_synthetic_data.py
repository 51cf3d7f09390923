"""The seeded synthetic data sets of ``neuroplug.datasets.synthetic`` and ``load_named``."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import neuroplug as npl
from neuroplug import datasets
from neuroplug.datasets import synthetic
from neuroplug.datasets.synthetic import (
    NAMED,
    load_named,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
)
from neuroplug.errors import InputError

# generator, small keyword arguments, n_features, label dtype
GENERATORS = [
    (make_moons, {"n_samples": 37}, 2, np.int64),
    (make_circles, {"n_samples": 37}, 2, np.int64),
    (make_spirals, {"n_samples": 37, "n_classes": 4}, 2, np.int64),
    (make_regression, {"n_samples": 37, "n_features": 3}, 3, np.float64),
]
GEN_IDS = [g.__name__ for g, *_ in GENERATORS]


def _radius(X, cx=0.0, cy=0.0):
    return np.hypot(X[:, 0] - cx, X[:, 1] - cy)


def _r2(A, y):
    A = np.column_stack([A, np.ones(len(y))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return 1.0 - np.var(y - A @ coef) / np.var(y)


# ------------------------------------------------------------------ arrays returned
@pytest.mark.parametrize("gen, kwargs, d, ydtype", GENERATORS, ids=GEN_IDS)
def test_shapes_dtypes_and_contiguity(gen, kwargs, d, ydtype):
    X, y = gen(**kwargs, seed=3)
    n = kwargs["n_samples"]
    assert X.shape == (n, d) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == ydtype
    assert X.flags.c_contiguous and y.flags.c_contiguous
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize("gen, kwargs, d, ydtype", GENERATORS, ids=GEN_IDS)
def test_same_seed_bit_identical_other_seed_different(gen, kwargs, d, ydtype):
    X1, y1 = gen(**kwargs, seed=7)
    X2, y2 = gen(**kwargs, seed=np.int64(7))
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()
    X3, _ = gen(**kwargs, seed=8)
    assert not np.array_equal(X1, X3)
    Xa, _ = gen(**kwargs, seed=None)
    Xb, _ = gen(**kwargs, seed=None)
    assert not np.array_equal(Xa, Xb)  # None: fresh entropy


@pytest.mark.parametrize("gen, kwargs, d, ydtype", GENERATORS, ids=GEN_IDS)
def test_the_global_random_state_is_neither_used_nor_changed(gen, kwargs, d, ydtype):
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    X1, y1 = gen(**kwargs, seed=5)
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(2)
    X2, y2 = gen(**kwargs, seed=5)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


@pytest.mark.parametrize("gen, kwargs, d, ydtype", GENERATORS, ids=GEN_IDS)
def test_mutating_a_result_does_not_change_the_next_call(gen, kwargs, d, ydtype):
    X1, y1 = gen(**kwargs, seed=0)
    keep = X1.copy(), y1.copy()
    X1[:] = 0
    y1[:] = 0
    X2, y2 = gen(**kwargs, seed=0)
    assert np.array_equal(X2, keep[0]) and np.array_equal(y2, keep[1])


@pytest.mark.parametrize("gen", [make_moons, make_circles, make_spirals])
def test_rows_are_shuffled(gen):
    _, y = gen(n_samples=300, seed=0)
    assert np.any(np.diff(y) < 0)  # not sorted by class
    _, y2 = gen(n_samples=300, seed=1)
    assert not np.array_equal(y, y2)


# ------------------------------------------------------------------ class balance
@pytest.mark.parametrize("gen", [make_moons, make_circles])
@pytest.mark.parametrize("n", [2, 3, 7, 500, 501])
def test_two_class_sets_are_balanced(gen, n):
    _, y = gen(n_samples=n, seed=0)
    assert np.bincount(y, minlength=2).tolist() == [n // 2, n - n // 2]


@pytest.mark.parametrize("n, k, counts", [(10, 3, [4, 3, 3]), (600, 4, [150] * 4), (5, 5, [1] * 5),
                                          (23, 2, [12, 11]), (601, 3, [201, 200, 200])])
def test_spiral_classes_are_balanced(n, k, counts):
    _, y = make_spirals(n_samples=n, n_classes=k, seed=0)
    assert np.bincount(y, minlength=k).tolist() == counts


# ------------------------------------------------------------------ geometry
def test_noiseless_moons_lie_exactly_on_the_two_arcs():
    n = 201
    X, y = make_moons(n_samples=n, noise=0.0, seed=4)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(_radius(outer), 1.0, atol=1e-12)
    np.testing.assert_allclose(_radius(inner, 1.0, 0.5), 1.0, atol=1e-12)
    assert outer[:, 1].min() >= -1e-12 and inner[:, 1].max() <= 0.5 + 1e-12  # upper / lower half
    # t evenly spaced over [0, pi] on each arc, ends included
    t_out = np.sort(np.arctan2(np.abs(outer[:, 1]), outer[:, 0]))
    np.testing.assert_allclose(t_out, np.linspace(0, np.pi, n // 2), atol=1e-9)
    t_in = np.sort(np.arctan2(np.abs(0.5 - inner[:, 1]), 1.0 - inner[:, 0]))
    np.testing.assert_allclose(t_in, np.linspace(0, np.pi, n - n // 2), atol=1e-9)


def test_noiseless_circles_have_radius_one_and_factor():
    X, y = make_circles(n_samples=101, noise=0.0, factor=0.3, seed=2)
    np.testing.assert_allclose(_radius(X[y == 0]), 1.0, atol=1e-12)
    np.testing.assert_allclose(_radius(X[y == 1]), 0.3, atol=1e-12)
    for label, m in ((0, 50), (1, 51)):  # angles evenly spaced around the full circle
        pts = X[y == label]
        angles = np.sort(np.arctan2(pts[:, 1], pts[:, 0]) % (2 * np.pi))
        np.testing.assert_allclose(np.diff(angles), 2 * np.pi / m, atol=1e-9)


def test_noisy_circles_radii_stay_near_one_and_factor():
    X, y = make_circles(n_samples=2000, noise=0.02, factor=0.6, seed=0)
    assert abs(np.median(_radius(X[y == 0])) - 1.0) < 0.01
    assert abs(np.median(_radius(X[y == 1])) - 0.6) < 0.01


@pytest.mark.parametrize("gen, extra", [(make_moons, {}), (make_circles, {"factor": 0.4})])
@pytest.mark.parametrize("noise", [0.05, 0.3])
def test_noise_is_gaussian_with_the_given_std(gen, extra, noise):
    X0, y0 = gen(n_samples=4000, noise=0.0, seed=9, **extra)
    X1, y1 = gen(n_samples=4000, noise=noise, seed=9, **extra)
    assert np.array_equal(y0, y1)
    diff = X1 - X0
    assert np.all(np.abs(diff.mean(axis=0)) < 0.1 * noise)
    np.testing.assert_allclose(diff.std(axis=0), noise, rtol=0.05)
    assert abs(np.corrcoef(diff.T)[0, 1]) < 0.06  # independent coordinates


@pytest.mark.parametrize("k, turns", [(3, 1.0), (4, 1.5), (2, 0.4)])
def test_noiseless_spiral_arms_follow_the_formula(k, turns):
    X, y = make_spirals(n_samples=200 * k, n_classes=k, noise=0.0, turns=turns, seed=1)
    r = _radius(X)
    assert r.max() <= 1.0 + 1e-12
    for c in range(k):
        rc = np.sort(r[y == c])
        np.testing.assert_allclose(rc, np.linspace(0, 1, 200), atol=1e-12)
        pts, rr = X[y == c], r[y == c]
        keep = rr > 0
        angle = np.arctan2(pts[keep, 1], pts[keep, 0])
        expected = 2 * np.pi * c / k + turns * 2 * np.pi * rr[keep]
        residual = (angle - expected + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(residual, 0.0, atol=1e-9)


@pytest.mark.parametrize("turns", [0.5, 1.0, 2.0])
def test_each_spiral_arm_angle_increases_with_radius(turns):
    X, y = make_spirals(n_samples=900, n_classes=3, noise=0.0, turns=turns, seed=0)
    r = _radius(X)
    for c in range(3):
        order = np.argsort(r[y == c])
        pts = X[y == c][order][1:]  # the centre point has no angle
        angle = np.unwrap(np.arctan2(pts[:, 1], pts[:, 0]))
        assert np.all(np.diff(angle) > 0)
        total = angle[-1] - angle[0]
        assert abs(total - turns * 2 * np.pi * (1 - 1 / 299)) < 1e-9


def test_spiral_noise_is_on_the_angle_with_the_given_std():
    X0, y0 = make_spirals(n_samples=6000, noise=0.0, seed=5)
    X1, y1 = make_spirals(n_samples=6000, noise=0.15, seed=5)
    assert np.array_equal(y0, y1)
    r0, r1 = _radius(X0), _radius(X1)
    np.testing.assert_allclose(r1, r0, atol=1e-12)  # the radius is not perturbed
    keep = r0 > 0
    d = np.arctan2(X1[keep, 1], X1[keep, 0]) - np.arctan2(X0[keep, 1], X0[keep, 0])
    d = (d + np.pi) % (2 * np.pi) - np.pi
    assert abs(d.mean()) < 0.01
    assert abs(d.std() - 0.15) < 0.01


def test_regression_inputs_are_standard_normal():
    X, _ = make_regression(n_samples=20000, n_features=4, seed=0)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=0.03)
    assert np.abs(np.corrcoef(X.T) - np.eye(4)).max() < 0.03


@pytest.mark.parametrize("d", [1, 3, 8])
def test_noiseless_regression_target_has_unit_variance_and_is_nonlinear(d):
    X, y = make_regression(n_samples=20000, n_features=d, noise=0.0, seed=1)
    assert abs(y.mean()) < 0.05
    assert abs(y.var() - 1.0) < 0.1
    # ~39 % of the variance is linear in x (sin's linear part); + the quadratic term ~93 %
    linear = _r2(X, y)
    quad = _r2(np.column_stack([X] + [X[:, i] * X[:, j] for i in range(d) for j in range(i, d)]), y)
    assert 0.3 < linear < 0.5
    assert 0.88 < quad < 0.98


def test_regression_noise_lowers_the_correlation_with_the_clean_target():
    X0, clean = make_regression(n_samples=20000, n_features=3, noise=0.0, seed=2)
    corrs = []
    for noise in (0.0, 0.25, 0.5, 1.0, 2.0):
        X, y = make_regression(n_samples=20000, n_features=3, noise=noise, seed=2)
        assert np.array_equal(X, X0)
        corr = np.corrcoef(y, clean)[0, 1]
        assert abs(corr - 1 / math.sqrt(1 + noise ** 2 / clean.var())) < 0.02
        np.testing.assert_allclose(np.std(y - clean), noise, rtol=0.05, atol=1e-15)
        corrs.append(corr)
    assert corrs[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(corrs, corrs[1:]))


def test_regression_targets_depend_on_the_seed_not_only_the_inputs():
    X1, y1 = make_regression(n_samples=50, n_features=2, noise=0.0, seed=1)
    X2, y2 = make_regression(n_samples=50, n_features=2, noise=0.0, seed=2)
    assert not np.array_equal(X1, X2) and not np.array_equal(y1, y2)


# ------------------------------------------------------------------ invalid arguments
BAD = [
    (make_moons, {"n_samples": 1}, "n_samples", 1),
    (make_moons, {"n_samples": 0}, "n_samples", 0),
    (make_moons, {"n_samples": -5}, "n_samples", -5),
    (make_moons, {"n_samples": 10.0}, "n_samples", 10.0),
    (make_moons, {"n_samples": "10"}, "n_samples", "10"),
    (make_moons, {"n_samples": True}, "n_samples", True),
    (make_moons, {"n_samples": None}, "n_samples", None),
    (make_moons, {"noise": -0.1}, "noise", -0.1),
    (make_moons, {"noise": float("nan")}, "noise", float("nan")),
    (make_moons, {"noise": float("inf")}, "noise", float("inf")),
    (make_moons, {"noise": "0.1"}, "noise", "0.1"),
    (make_moons, {"noise": None}, "noise", None),
    (make_moons, {"seed": -1}, "seed", -1),
    (make_moons, {"seed": 1.5}, "seed", 1.5),
    (make_moons, {"seed": "0"}, "seed", "0"),
    (make_moons, {"seed": True}, "seed", True),
    (make_circles, {"n_samples": 1}, "n_samples", 1),
    (make_circles, {"noise": -1}, "noise", -1),
    (make_circles, {"factor": 0}, "factor", 0),
    (make_circles, {"factor": 1}, "factor", 1),
    (make_circles, {"factor": 1.5}, "factor", 1.5),
    (make_circles, {"factor": -0.5}, "factor", -0.5),
    (make_circles, {"factor": float("nan")}, "factor", float("nan")),
    (make_circles, {"factor": "0.5"}, "factor", "0.5"),
    (make_circles, {"seed": -3}, "seed", -3),
    (make_spirals, {"n_samples": 1}, "n_samples", 1),
    (make_spirals, {"n_samples": 2, "n_classes": 3}, "n_samples", 2),
    (make_spirals, {"n_samples": 4, "n_classes": 5}, "n_samples", 4),
    (make_spirals, {"n_samples": 6.0}, "n_samples", 6.0),
    (make_spirals, {"n_classes": 1}, "n_classes", 1),
    (make_spirals, {"n_classes": 0}, "n_classes", 0),
    (make_spirals, {"n_classes": 2.5}, "n_classes", 2.5),
    (make_spirals, {"n_classes": True}, "n_classes", True),
    (make_spirals, {"noise": -0.2}, "noise", -0.2),
    (make_spirals, {"noise": float("inf")}, "noise", float("inf")),
    (make_spirals, {"turns": 0}, "turns", 0),
    (make_spirals, {"turns": -1.0}, "turns", -1.0),
    (make_spirals, {"turns": float("inf")}, "turns", float("inf")),
    (make_spirals, {"turns": float("nan")}, "turns", float("nan")),
    (make_spirals, {"turns": "1"}, "turns", "1"),
    (make_spirals, {"seed": -1}, "seed", -1),
    (make_regression, {"n_samples": 1}, "n_samples", 1),
    (make_regression, {"n_samples": 3.5}, "n_samples", 3.5),
    (make_regression, {"n_features": 0}, "n_features", 0),
    (make_regression, {"n_features": -2}, "n_features", -2),
    (make_regression, {"n_features": 1.5}, "n_features", 1.5),
    (make_regression, {"n_features": None}, "n_features", None),
    (make_regression, {"noise": -0.01}, "noise", -0.01),
    (make_regression, {"noise": float("nan")}, "noise", float("nan")),
    (make_regression, {"seed": 2.0}, "seed", 2.0),
    (make_regression, {"seed": -1}, "seed", -1),
]


@pytest.mark.parametrize("gen, kwargs, arg, value", BAD,
                         ids=[f"{g.__name__}-{a}={v!r}" for g, _, a, v in BAD])
def test_an_invalid_argument_raises_input_error_naming_it(gen, kwargs, arg, value):
    with pytest.raises(InputError) as info:
        gen(**kwargs)
    message = str(info.value)
    assert message.startswith(arg + " ") or f" {arg} " in message or f"{arg}=" in message, message
    assert repr(value) in message, message


def test_the_n_samples_message_for_spirals_says_why():
    with pytest.raises(InputError, match=r"n_samples must be >= 3.*n_classes=3.*got 2"):
        make_spirals(n_samples=2, n_classes=3)


def test_the_smallest_valid_arguments_work():
    assert make_moons(n_samples=2, noise=0)[0].shape == (2, 2)
    assert make_circles(n_samples=2, noise=0, factor=1e-9)[0].shape == (2, 2)
    assert make_spirals(n_samples=2, n_classes=2, turns=1e-9)[1].tolist() in ([0, 1], [1, 0])
    assert make_regression(n_samples=2, n_features=1, noise=0)[0].shape == (2, 1)
    assert make_moons(seed=2**70)[0].shape == (500, 2)  # any integer >= 0 seeds


# ------------------------------------------------------------------ load_named
EXPECTED = {
    "digits": ((1797, 64), np.int64, 10),
    "moons": ((500, 2), np.int64, 2),
    "circles": ((500, 2), np.int64, 2),
    "spirals": ((600, 2), np.int64, 3),
    "regression": ((500, 5), np.float64, None),
}


def test_named_lists_the_data_sets_in_order():
    assert NAMED == ("digits", "moons", "circles", "spirals", "regression")
    assert isinstance(NAMED, tuple)
    assert datasets.NAMED is NAMED


def test_the_package_re_exports_the_public_names():
    for name in synthetic.__all__:
        assert getattr(datasets, name) is getattr(synthetic, name)
        assert name in datasets.__all__


@pytest.mark.parametrize("name", NAMED)
def test_load_named_returns_each_data_set(name):
    X, y = load_named(name)
    shape, ydtype, classes = EXPECTED[name]
    assert X.shape == shape and y.shape == (shape[0],)
    assert X.dtype == np.float64 and y.dtype == ydtype
    assert X.flags.c_contiguous and y.flags.c_contiguous
    if classes is not None:
        assert np.unique(y).tolist() == list(range(classes))
    X2, y2 = load_named(name, seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


@pytest.mark.parametrize("name, gen", [("moons", make_moons), ("circles", make_circles),
                                       ("spirals", make_spirals), ("regression", make_regression)])
def test_load_named_is_the_generator_with_its_defaults_and_the_seed(name, gen):
    for seed in (0, 11):
        X, y = load_named(name, seed=seed)
        Xg, yg = gen(seed=seed)
        assert np.array_equal(X, Xg) and np.array_equal(y, yg)
    assert not np.array_equal(load_named(name, seed=0)[0], load_named(name, seed=1)[0])


def test_load_named_digits_is_the_embedded_data_as_float64():
    X, y = load_named("digits", seed=5)
    X32, y32 = datasets.load_digits()
    np.testing.assert_allclose(X, X32, rtol=0, atol=1e-7)
    assert np.array_equal(y, y32)
    assert X.min() == 0.0 and X.max() == 1.0
    X[:] = -1  # a fresh copy each call
    assert load_named("digits")[0].min() == 0.0


@pytest.mark.parametrize("bad, hint", [("moon", "moons"), ("Circles", "circles"), ("spiral", "spirals"),
                                       ("mnist", None), ("", None), ("regresion", "regression"), ("DIGITS", "digits")])
def test_load_named_unknown_name_lists_the_known_ones(bad, hint):
    with pytest.raises(InputError) as info:
        load_named(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in NAMED:
        assert repr(name) in message
    if hint is not None:
        assert f"did you mean {hint!r}" in message
    else:
        assert "did you mean" not in message


@pytest.mark.parametrize("bad", [None, 3, ["moons"], b"moons"])
def test_load_named_a_name_that_is_not_a_string(bad):
    with pytest.raises(InputError, match="name"):
        load_named(bad)


@pytest.mark.parametrize("name", NAMED)
def test_load_named_checks_the_seed(name):
    with pytest.raises(InputError, match=r"seed .*-1"):
        load_named(name, seed=-1)


# ------------------------------------------------------------------ docs and a network
def test_every_public_name_has_a_numpy_docstring_with_its_formula():
    formulas = {make_moons: "0.5 - sin t", make_circles: "factor * cos t",
                make_spirals: "turns * 2 pi r", make_regression: "sin(u) + 0.5 v**2", load_named: "make_spirals"}
    for fn, formula in formulas.items():
        doc = fn.__doc__ or ""
        for section in ("Parameters\n    ----------", "Returns\n    -------", "Raises\n    ------",
                        "Examples\n    --------"):
            assert section in doc, (fn.__name__, section)
        assert formula in doc, fn.__name__


def test_the_docstring_examples_run():
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(synthetic, "neuroplug.datasets.synthetic", globs=dict(vars(synthetic)))
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 5 and result.failed == 0


def test_a_small_network_learns_the_moons():
    X, y = make_moons(seed=0)
    net = npl.Sequential([npl.Dense(16, activation="tanh"), npl.Dense(2, activation="softmax")],
                         input_dim=2, seed=0)
    npl.fit(net, X, y, loss="cross_entropy", lr=0.1, epochs=30, batch_size=32, seed=0)
    accuracy = float(np.mean(net.predict_classes(X) == y))
    assert accuracy > 0.85
