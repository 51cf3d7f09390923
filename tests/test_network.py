"""Dense layers and Sequential networks: the neuron formula and backpropagation."""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import ConfigError, ShapeError


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
