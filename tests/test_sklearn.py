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


# ---------------------------------------------------------------------- nested component parameters
def test_a_component_parameter_is_a_nested_parameter(digits):
    """activation__alpha: set_params (and so a pipeline and a grid search) reach a component's config;
    get_params shows it, clone keeps it, and the network is built with it."""
    from sklearn.base import clone

    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(8,), activation="leaky_relu", epochs=2, random_state=0)
    clf.set_params(activation__alpha=0.25, optimizer__weight_decay=1e-4)
    assert clf.activation == {"name": "leaky_relu", "config": {"alpha": 0.25}}
    params = clf.get_params()
    assert params["activation__alpha"] == 0.25 and params["optimizer__weight_decay"] == 1e-4
    assert "activation__alpha" not in clf.get_params(deep=False)
    assert clone(clf).get_params()["activation__alpha"] == 0.25
    clf.fit(X[:100], y[:100])
    assert clf.network_.layers[0].activation.alpha == 0.25
    pipe = make_pipeline(StandardScaler(), NeuroplugClassifier(hidden_layer_sizes=(8,), activation="leaky_relu",
                                                               epochs=3, lr=0.01, random_state=0))
    search = GridSearchCV(pipe, {"neuroplugclassifier__activation__alpha": [0.01, 0.3]}, cv=2).fit(X, y)
    assert [p["neuroplugclassifier__activation__alpha"] for p in search.cv_results_["params"]] == [0.01, 0.3]
    assert search.best_estimator_[-1].network_.layers[0].activation.alpha == search.best_params_[
        "neuroplugclassifier__activation__alpha"]


def test_a_nested_parameter_that_cannot_apply_is_refused_naming_it():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="activation=.*'tanh'.*unknown parameter 'alpha'"):  # tanh has no alpha: at fit
        NeuroplugClassifier(activation="tanh").set_params(activation__alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="loss__reduction.*chosen from the targets"):
        NeuroplugClassifier().set_params(loss__reduction="sum")
    with pytest.raises(ValueError, match="activation__alpha.*set the parameter on it"):
        NeuroplugClassifier(activation=npl.create("activation", "elu")).set_params(activation__alpha=0.1)


# ---------------------------------------------------------------------- sample weights
@pytest.mark.parametrize("Estimator, loss", [(NeuroplugClassifier, None), (NeuroplugClassifier, "mse"),
                                             (NeuroplugRegressor, None), (NeuroplugRegressor, "smooth_l1")])
def test_an_integer_weight_is_the_sample_repeated(Estimator, loss):
    """With one batch of all the samples, weight k is the sample k times: the same network to within a
    few float64 roundings (the sums are taken in another order)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if Estimator is NeuroplugClassifier else X @ [1.0, -2.0, 0.5]
    w = np.arange(60) % 4  # 0 (left out) to 3
    kw = dict(hidden_layer_sizes=(8,), epochs=20, lr=0.01, batch_size=1000, shuffle=False, random_state=0, loss=loss)
    weighted = Estimator(**kw).fit(X, y, sample_weight=w)
    repeated = Estimator(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    for a, b in zip(weighted.network_.get_weights(), repeated.network_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e3 * np.finfo(np.float64).eps * max(1.0, np.abs(b).max()))
    assert not np.allclose(weighted.network_.get_weights()[0],
                           Estimator(**kw).fit(X, y).network_.get_weights()[0])  # the weights did something


def test_equal_weights_are_no_weights_and_bad_weights_are_refused():
    X = np.random.default_rng(1).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    kw = dict(hidden_layer_sizes=(4,), epochs=3, random_state=0)
    plain = NeuroplugClassifier(**kw).fit(X, y).predict_proba(X)
    assert np.array_equal(NeuroplugClassifier(**kw).fit(X, y, sample_weight=np.full(30, 2.5)).predict_proba(X), plain)
    for bad, match in [(np.zeros(30), "at least one"), (-np.ones(30), "(?i)negative"), (np.ones(5), "sample_weight.shape")]:
        with pytest.raises(ValueError, match=match):
            NeuroplugClassifier(**kw).fit(X, y, sample_weight=bad)


@pytest.mark.parametrize("config", [{"weight": [1.0, 10.0]}, {"ignore_index": 1}])
def test_sample_weight_with_a_class_weighted_loss_is_refused(config):
    X = np.random.default_rng(3).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = NeuroplugClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0,
                              loss={"name": "cross_entropy", "config": config})
    clf.fit(X, y)  # without weights it trains
    with pytest.raises(ValueError, match="sample_weight cannot be combined"):
        clf.fit(X, y, sample_weight=np.arange(30.0))


def test_sample_weight_needs_a_loss_with_per_sample_values():
    class Plain(npl.Loss):
        """A loss without a reduction parameter."""

        def forward(self, y_pred, y_true):
            return float(np.mean((y_pred - y_true) ** 2))

        def gradient(self, y_pred, y_true):
            return 2 * (y_pred - y_true) / y_pred.size

    X = np.random.default_rng(2).normal(size=(20, 2))
    with npl.isolated_registry():
        npl.register(Plain, kind="loss", name="plain")
        reg = NeuroplugRegressor(hidden_layer_sizes=(4,), epochs=2, loss="plain", random_state=0)
        reg.fit(X, X[:, 0])  # without weights it trains
        with pytest.raises(ValueError, match="sample_weight needs a loss that gives per-sample values.*plain"):
            reg.fit(X, X[:, 0], sample_weight=np.arange(20.0))


# ---------------------------------------------------------------------- neuroplug.save / neuroplug.load
@pytest.mark.parametrize("make", [
    pytest.param(lambda X, y: NeuroplugClassifier(hidden_layer_sizes=(8,), activation="leaky_relu", epochs=3,
                                                  random_state=0).set_params(activation__alpha=0.3).fit(X, y),
                 id="classifier"),
    pytest.param(lambda X, y: NeuroplugClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)
                 .fit(X, np.array(["cat", "dog", "emu"])[y % 3]), id="string-labels"),
    pytest.param(lambda X, y: NeuroplugClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)
                 .fit(X, np.stack([y % 2, y % 3 == 0], axis=1).astype(int)), id="multilabel"),
    pytest.param(lambda X, y: NeuroplugRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0,
                                                 activation=npl.create("activation", "elu", alpha=0.5))
                 .fit(X, X[:, 0]), id="regressor-instance-component"),
    pytest.param(lambda X, y: NeuroplugRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0)
                 .fit(X, X[:, :2]), id="multi-output"),
])
def test_a_fitted_estimator_is_saved_and_loaded_through_neuroplug_save_and_load(digits, tmp_path, make):
    X, y = digits
    est = make(X[:200], y[:200])
    path = tmp_path / "est.npz"
    npl.save(est, path)
    again = npl.load(path)
    assert type(again) is type(est)
    assert np.array_equal(again.predict(X[200:260]), est.predict(X[200:260]))
    for attr in ("n_features_in_", "n_iter_", "loss_curve_"):
        assert getattr(again, attr) == getattr(est, attr)
    if hasattr(est, "classes_"):
        assert np.array_equal(again.classes_, est.classes_) and again.classes_.dtype == est.classes_.dtype
        assert np.array_equal(again.predict_proba(X[:5]), est.predict_proba(X[:5]))
    assert isinstance(npl.load(path, network_only=True), npl.Sequential)
    with np.load(path, allow_pickle=False) as archive:  # nothing but arrays: no pickle
        assert all(archive[k].dtype != object for k in archive.files)
    again.partial_fit(X[:50], (again.predict(X[:50])))  # still an estimator that trains


def test_an_unfitted_estimator_or_a_tampered_estimator_file_is_refused(digits, tmp_path):
    import json

    X, y = digits
    with pytest.raises(npl.ConfigError, match="not fitted yet"):
        npl.save(NeuroplugClassifier(), tmp_path / "unfitted.npz")
    assert not (tmp_path / "unfitted.npz").exists()
    good = tmp_path / "good.npz"
    npl.save(NeuroplugClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X[:100], y[:100]), good)
    with np.load(good, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arch = json.loads(bytes(arrays.pop("architecture")).decode("utf-8"))

    def tampered(change):
        broken = json.loads(json.dumps(arch))
        change(broken["application"])
        path = tmp_path / "tampered.npz"
        npl.serialization.write_archive(path, "architecture", broken, arrays, "the model")
        return path

    cases = [
        (lambda a: a.update(name="no_such_application"), "no_such_application"),
        (lambda a: a["state"].update({"class": "os.system"}), "class must be one of"),
        (lambda a: a["state"]["fitted"].update(n_features_in_=3), "n_features_in_"),
        (lambda a: a["state"]["fitted"]["classes_"]["values"].reverse(), "sorted"),
        (lambda a: a["state"]["fitted"]["classes_"].update(values=list(range(5))), "classes_"),
        (lambda a: a["state"]["params"].update(lr=-1.0), "lr"),
        (lambda a: a["state"]["params"].pop("epochs"), "params must have the keys"),
        (lambda a: a["state"]["fitted"].update(loss_curve_=[0.1, 0.2]), "loss_curve_"),
        (lambda a: a["state"]["fitted"]["classes_"].update(dtype="|i1", values=list(range(0, 1000, 100))),
         "do not fit dtype"),
        (lambda a: a["state"]["fitted"]["classes_"].update(dtype="<u8", values=[-1] + list(range(1, 10))),
         "do not fit dtype"),
        (lambda a: a["state"]["fitted"]["classes_"].update(dtype="<f2", values=[1e6] + list(range(1, 10))),
         "do not fit dtype"),
        (lambda a: a["state"]["fitted"]["classes_"].update(dtype="<U500000000", values=[str(i) for i in range(10)]),
         "do not hold"),
        (lambda a: a["state"]["fitted"]["classes_"].update(dtype="<c16"), "may not be of dtype"),
    ]
    for change, words in cases:
        path = tampered(change)
        with pytest.raises(npl.errors.ModelFileError, match=words):
            npl.load(path)
        assert isinstance(npl.load(path, network_only=True), npl.Sequential)


def test_a_set_params_that_fails_changes_nothing():
    clf = NeuroplugClassifier(activation="relu", epochs=3)
    with pytest.raises(ValueError):
        clf.set_params(epochs=7, activation="leaky_relu", activation__alpha=0.1, loss__reduction="sum")
    assert (clf.epochs, clf.activation) == (3, "relu")
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        clf.set_params(activation="leaky_relu", activation__alpha=0.05, epochs=9, bogus=1)
    assert (clf.epochs, clf.activation) == (3, "relu")
    clf.set_params(activation="leaky_relu", activation__alpha=0.1)  # the new name, then its parameter
    assert clf.activation == {"name": "leaky_relu", "config": {"alpha": 0.1}}


def test_numpy_scalars_as_parameters_are_saved(digits, tmp_path):
    X, y = digits
    clf = NeuroplugClassifier(hidden_layer_sizes=(np.int64(8),), epochs=np.int64(2), lr=np.float32(0.01),
                              random_state=np.int64(3)).fit(X[:100], y[:100])
    npl.save(clf, tmp_path / "c.npz")
    again = npl.load(tmp_path / "c.npz")
    assert again.get_params()["random_state"] == 3 and again.hidden_layer_sizes == (8,)
    assert np.array_equal(again.predict(X[:20]), clf.predict(X[:20]))
