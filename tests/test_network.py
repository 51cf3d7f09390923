"""Dense layers and Sequential networks: the neuron formula and backpropagation."""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import ConfigError, InputError, NonFiniteError, ShapeError


def numerical_gradients(net, X, y, loss, eps=1e-6):
    """Central differences of the loss w.r.t. every parameter (float64)."""
    loss = npl.create("loss", loss)
    Y = loss.prepare_targets(y, net.output_dim, net.dtype)
    grads = []
    for p in net.parameters():
        g = np.zeros_like(p)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = p[i]
            p[i] = old + eps
            up = loss.forward(net.predict(X), Y)
            p[i] = old - eps
            down = loss.forward(net.predict(X), Y)
            p[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def test_dense_computes_the_neuron_formula(rng):
    net = npl.Sequential([npl.Dense(3, activation="tanh", bias_init="normal")], input_dim=4, seed=1,
                         dtype="float64")
    X = rng.normal(size=(5, 4))
    W, b = net.layers[0].W, net.layers[0].b
    expected = np.array([[np.tanh(sum(X[k, i] * W[i, j] for i in range(4)) + b[j]) for j in range(3)]
                         for k in range(5)])
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss, out_act, targets", [
    ("cross_entropy", "softmax", "labels"),
    ("mse", "identity", "values"),
    ("smooth_l1", "tanh", "values"),
    ("binary_cross_entropy", "sigmoid", "binary"),
])
def test_three_layer_backprop_matches_central_differences(rng, loss, out_act, targets):
    n_out = 1 if targets == "binary" else 3
    net = npl.Sequential([npl.Dense(5, activation="tanh", bias_init="normal"),
                          npl.Dense(4, activation="sigmoid", bias_init="normal"),
                          npl.Dense(n_out, activation=out_act, bias_init="normal")],
                         input_dim=3, seed=2, dtype="float64")
    X = rng.normal(size=(7, 3))
    y = {"labels": rng.integers(0, 3, size=7), "values": rng.normal(size=(7, 3)),
         "binary": rng.integers(0, 2, size=(7, 1)).astype(float)}[targets]
    value, analytic = net.loss_and_gradients(X, y, loss)
    numeric = numerical_gradients(net, X, y, loss)
    for a, n in zip(analytic, numeric):
        assert rel_error(a, n) <= 1e-6


def test_fused_softmax_cross_entropy_equals_the_chain_rule(rng):
    net = npl.Sequential([npl.Dense(6, activation="relu"), npl.Dense(4, activation="softmax")],
                         input_dim=5, seed=3, dtype="float64")
    X = rng.normal(size=(9, 5))
    y = rng.integers(0, 4, size=9)
    loss = npl.create("loss", "cross_entropy")
    Y = loss.prepare_targets(y, 4, np.float64)
    out = net.forward(np.ascontiguousarray(X))
    fused = net.output_delta(out, Y, loss, fused=True).copy()
    chain = net.output_delta(out, Y, loss, fused=False)
    np.testing.assert_allclose(fused, chain, rtol=1e-10, atol=1e-12)


def test_same_seed_same_weights_and_dtype():
    make = lambda seed, dtype="float32": npl.Sequential(  # noqa: E731
        [npl.Dense(8, activation="relu", init="he_uniform"), npl.Dense(2)], input_dim=4, seed=seed, dtype=dtype)
    a, b, c = make(0), make(0), make(1)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert pa.dtype == np.float32
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a.parameters()[0], c.parameters()[0])
    assert make(0, "float64").predict(np.ones((2, 4))).dtype == np.float64


def test_bad_arguments_name_the_problem():
    with pytest.raises(ConfigError, match="units"):
        npl.Dense(0)
    with pytest.raises(npl.ComponentNotFoundError, match="Did you mean 'tanh'"):
        npl.Dense(3, activation="tahn")
    with pytest.raises(ConfigError, match="input_dim"):
        npl.Sequential([npl.Dense(2)], input_dim=0)
    with pytest.raises(ConfigError, match="dtype"):
        npl.Sequential([npl.Dense(2)], input_dim=2, dtype="float16")
    with pytest.raises(ConfigError, match="empty"):
        npl.Sequential([], input_dim=2)
    net = npl.Sequential([npl.Dense(2)], input_dim=3)
    with pytest.raises(ShapeError, match=r"\(N, 3\).*\(4, 2\)"):
        net.predict(np.zeros((4, 2)))
    with pytest.raises(ConfigError, match="already belongs"):
        npl.Sequential(net.layers, input_dim=3)


def test_get_set_weights_roundtrip_and_shape_check():
    net = npl.Sequential([npl.Dense(3), npl.Dense(2)], input_dim=2, seed=0)
    w = net.get_weights()
    w[0][...] = 1.0
    net.set_weights(w)
    assert np.all(net.parameters()[0] == 1.0)
    with pytest.raises(ShapeError, match=r"weights\[1\]"):
        net.set_weights([w[0], np.zeros(7)] + w[2:])
    assert net.count_params() == 2 * 3 + 3 + 3 * 2 + 2


# ------------------------------------------------------------------- robustness (test_api_properties)


@pytest.mark.parametrize("kwargs, word", [
    ({"layers": None}, "layers"), ({"layers": 3}, "layers"),
    ({"dtype": None}, "dtype"), ({"dtype": [1]}, "dtype"), ({"dtype": 5}, "dtype"), ({"dtype": np.zeros(2)}, "dtype"),
    ({"seed": "seed"}, "seed"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ({"input_dim": 2**62}, "parameters"),
])
def test_bad_construction_arguments_are_config_errors(kwargs, word):
    # hypothesis found: layers=None raised TypeError from list(); dtype=[1] and dtype=5 numpy's
    # TypeError; dtype=None silently meant float64; seed="seed" numpy's TypeError; 2**62 inputs
    # numpy's ValueError("array is too big")
    layers = [npl.Dense(3), npl.Dense(2)]
    arguments = {"layers": layers, "input_dim": 2, "seed": 0, "dtype": "float32", **kwargs}
    with pytest.raises(ConfigError, match=word):
        npl.Sequential(**arguments)
    assert not any(layer.built for layer in layers)  # reusable in another network


def test_a_network_too_large_for_any_array_is_a_config_error():
    # 2**40 x 2**40 weights: numpy's ValueError("array is too big") before
    layers = [npl.Dense(2**40)]
    with pytest.raises(ConfigError, match="more than any array can hold"):
        npl.Sequential(layers, input_dim=2**40)
    assert not layers[0].built


def _overcommit_heuristic() -> bool:
    try:
        with open("/proc/sys/vm/overcommit_memory") as f:
            return f.read().strip() in ("0", "2")
    except OSError:
        return False


@pytest.mark.skipif(not _overcommit_heuristic(), reason="needs Linux refusing allocations larger than the memory")
def test_a_network_too_large_for_the_memory_is_a_config_error():
    # 2 x 2**40 float32 weights (8 TiB): numpy's MemoryError before; the layers stay unbuilt
    layers = [npl.Dense(2**40)]
    with pytest.raises(ConfigError, match="more than the memory available"):
        npl.Sequential(layers, input_dim=2)
    assert not layers[0].built


def test_weights_that_do_not_fit_the_dtype_are_a_non_finite_error():
    with pytest.raises(NonFiniteError, match="float32"):
        npl.Sequential([npl.Dense(2, init={"name": "constant", "config": {"value": 1e39}})], input_dim=2)


class _NaNInit(npl.Initializer):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.full((fan_in, fan_out), np.nan, dtype=dtype)


def test_an_initializer_returning_nan_is_a_non_finite_error():
    with pytest.raises(NonFiniteError, match="_NaNInit"):
        npl.Sequential([npl.Dense(2, init=_NaNInit())], input_dim=2)


@pytest.mark.parametrize("X, error, match", [
    ([[1.0, 2.0], [3.0]], InputError, r"X must be a rectangular array .*: row 1 has shape \(1,\)"),
    (np.ones((2, 2), "m8[s]"), InputError, "real numbers"),
    (np.array([[0.0, 1e39]]), InputError, r"X holds 1e\+39 at index \(0, 1\), which is inf in float32"),
    (np.array([[np.nan, 0.0]]), InputError, "X holds a non-finite value nan at index"),
    (np.array([[0.0, -np.inf]]), InputError, "X holds a non-finite value -inf at index"),
])
def test_predict_rejects_bad_inputs_naming_x(X, error, match):
    # hypothesis found: ragged lists raised numpy's ValueError; 1e39 warned "overflow encountered
    # in cast"; NaN inputs gave NaN outputs silently
    net = npl.Sequential([npl.Dense(3, activation="relu"), npl.Dense(2, activation="softmax")], input_dim=2, seed=0)
    with pytest.raises(error, match=match):
        net.predict(X)


def test_predict_accepts_bool_and_integer_inputs_and_empty_batches():
    net = npl.Sequential([npl.Dense(3, activation="tanh")], input_dim=2, seed=0)
    np.testing.assert_array_equal(net.predict(np.array([[True, False]])), net.predict([[1.0, 0.0]]))
    np.testing.assert_array_equal(net.predict(np.array([[1, 0]], np.uint64)), net.predict([[1.0, 0.0]]))
    assert net.predict(np.zeros((0, 2))).shape == (0, 3)
    assert net.predict_classes(np.zeros((0, 2))).shape == (0,)


def test_predict_names_the_layer_whose_values_overflow():
    net = npl.Sequential([npl.Dense(2, activation="tanh"), npl.Dense(2, activation="identity"),
                          npl.Dense(2, activation="sigmoid")], input_dim=2, seed=0)
    net.layers[1].W[...] = 3e38
    with pytest.raises(NonFiniteError, match=r"layer 1 \(Dense\(2, activation=Identity\(\)\)\)"):
        net.predict(np.ones((3, 2)))


def test_set_weights_checks_every_array_before_changing_any():
    net = npl.Sequential([npl.Dense(2), npl.Dense(1)], input_dim=2, seed=0)
    before = net.get_weights()
    for bad, error in ((np.nan, InputError), (1e39, InputError), ("x", InputError)):
        weights = net.get_weights()
        weights[2] = np.full(weights[2].shape, bad)
        with pytest.raises(error, match=r"weights\[2\]"):
            net.set_weights(weights)
        for p, b in zip(net.parameters(), before):
            np.testing.assert_array_equal(p, b)


def test_loss_and_gradients_errors():
    net = npl.Sequential([npl.Dense(2, activation="identity")], input_dim=2, seed=0)
    X, y = np.ones((3, 2)), np.zeros((3, 2))
    with pytest.raises(ConfigError, match="reduces to a number"):
        net.loss_and_gradients(X, y, {"name": "mse", "config": {"reduction": "none"}})
    with pytest.raises(ShapeError, match="one target per sample"):
        net.loss_and_gradients(X, np.zeros((4, 2)), "mse")
    with pytest.raises(InputError, match="non-finite"):
        net.loss_and_gradients(np.full((3, 2), np.nan), y, "mse")
    net.layers[0].W[...] = 1e19
    with pytest.raises(NonFiniteError, match="MSE"):
        net.loss_and_gradients(X, y, "mse")
    value, grads = net.loss_and_gradients(np.zeros((0, 2)), np.zeros((0, 2)), "mse")
    assert value == 0.0 and all(not g.any() for g in grads)
