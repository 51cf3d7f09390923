"""neuroplug.sklearn (issue 13): scikit-learn's own conformance suite, pipelines, grid search, pickling, reproducibility."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.model_selection import GridSearchCV, cross_val_predict  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks  # noqa: E402

import neuroplug as npl  # noqa: E402
from neuroplug.sklearn import NeuroplugClassifier, NeuroplugRegressor  # noqa: E402

ESTIMATORS = [NeuroplugClassifier(), NeuroplugRegressor()]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    """scikit-learn's own checks, one test each, with no expected failure."""
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_the_conformance_suite_really_ran(estimator):
    """Counted, so that a suite silently collecting a handful of checks cannot pass unnoticed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's SkipTestWarnings (pandas, array API)
        results = check_estimator(estimator, on_fail=None)
    statuses = [r["status"] for r in results]
    assert statuses.count("failed") == 0, [r["check_name"] for r in results if r["status"] == "failed"]
    assert statuses.count("passed") >= 50, statuses


@pytest.fixture(scope="module")
def digits():
    X, _, y, _ = npl.datasets.load_digits_split(seed=0)
    return X[:600].astype(float), y[:600]


def test_pipeline_and_grid_search_over_components(digits):
    X, y = digits
    clf = make_pipeline(StandardScaler(), NeuroplugClassifier(hidden_layer_sizes=(32,), init="normalized_xavier",
                                                              epochs=15, lr=0.01, batch_size=32, random_state=0))
    search = GridSearchCV(clf, {"neuroplugclassifier__activation": ["relu", "tanh", "softsign"],
                                "neuroplugclassifier__schedule": ["constant", "cosine_annealing"]}, cv=3, n_jobs=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert search.best_score_ > 0.85, search.cv_results_["mean_test_score"]


@pytest.mark.parametrize("component", ["tanh", "neuroplug:tanh", {"name": "leaky_relu", "config": {"alpha": 0.1}}])
def test_every_way_of_naming_a_component(digits, component):
    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(16,), activation=component, epochs=5, lr=0.01, batch_size=32,
                              random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.8


def test_an_instance_as_a_component_and_cloning():
    from sklearn.base import clone

    act = npl.create("activation", "elu", alpha=0.5)
    clf = NeuroplugClassifier(activation=act)
    assert clone(clf).get_params()["activation"] is not None


def test_fitted_attributes_and_probabilities(digits):
    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(16,), epochs=4, random_state=0).fit(X, y)
    assert list(clf.classes_) == list(range(10)) and clf.n_features_in_ == 64
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4 and isinstance(clf.network_, npl.Sequential)
    proba = clf.predict_proba(X[:7])
    assert proba.shape == (7, 10) and np.allclose(proba.sum(axis=1), 1)


def test_same_random_state_gives_bit_identical_predictions_across_n_jobs(digits):
    X, y = digits
    est = NeuroplugClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=7)
    one = cross_val_predict(est, X, y, cv=3, n_jobs=1, method="predict_proba")
    two = cross_val_predict(est, X, y, cv=3, n_jobs=2, method="predict_proba")
    assert np.array_equal(one, two)


def test_pickling_gives_the_same_predictions(digits):
    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_warm_start_and_partial_fit_continue_training(digits):
    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(8,), epochs=2, warm_start=True, random_state=0)
    clf.fit(X, y)
    first = clf.network_
    clf.fit(X, y)
    assert clf.network_ is first and clf.n_iter_ == 4 and len(clf.loss_curve_) == 4
    inc = NeuroplugClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes="):
        inc.partial_fit(X[:50], y[:50])
    for start in range(0, 600, 200):
        inc.partial_fit(X[start:start + 200], y[start:start + 200], classes=np.arange(10))
    assert inc.n_iter_ == 3


def test_multilabel_and_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0], axis=1).astype(int)
    clf = NeuroplugClassifier(hidden_layer_sizes=(16,), epochs=60, lr=0.01, random_state=0).fit(X, Y)
    assert clf.predict(X).shape == (120, 3) and (clf.predict(X) == Y).mean() > 0.8
    T = np.stack([X[:, 0] - X[:, 1], 2 * X[:, 2]], axis=1)
    reg = NeuroplugRegressor(hidden_layer_sizes=(16,), epochs=80, lr=0.01, random_state=0).fit(X, T)
    assert reg.predict(X).shape == (120, 2) and reg.score(X, T) > 0.8


@pytest.mark.parametrize("param, value, error", [
    ("hidden_layer_sizes", (0,), ValueError), ("hidden_layer_sizes", "big", ValueError),
    ("lr", -1.0, ValueError), ("lr", "fast", TypeError), ("epochs", 0, ValueError), ("epochs", 2.5, TypeError),
    ("batch_size", 0, ValueError), ("validation_fraction", 1.0, ValueError), ("dtype", "int8", ValueError),
    ("shuffle", "yes", TypeError), ("activation", "no_such_activation", ValueError),
    ("optimizer", 5, ValueError)])
def test_bad_parameters_are_stored_by_init_and_refused_by_fit_naming_them(param, value, error):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = NeuroplugClassifier(**{param: value})
    assert clf.get_params()[param] is value  # stored as given
    with pytest.raises(error) as info:
        clf.fit(X, y)
    assert param in str(info.value), str(info.value)


def test_import_neuroplug_does_not_import_sklearn_and_a_missing_sklearn_is_explained():
    code = ("import sys\nimport neuroplug as npl\nnpl.fit, npl.Sequential\nassert 'sklearn' not in sys.modules\n"
            "sys.modules['sklearn'] = None\n"
            "try:\n    import neuroplug.sklearn\nexcept ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "neuroplug[sklearn]"' in out.stdout
