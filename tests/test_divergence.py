"""Divergence: a non-finite loss, gradient or weight stops fit, names where it came from,
and leaves the last finite state (checked against a run interrupted just before)."""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from conftest import interrupting_loss
from neuroplug.errors import DivergenceError


def _data(scale=1.0, n=64, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * scale, rng.normal(size=(n, 1)) * scale


def _net(act="relu", d=4, seed=0):
    return npl.Sequential([npl.Dense(16, activation=act, init="he_normal"), npl.Dense(1)], input_dim=d, seed=seed)


def _weights_after(steps, make_net, X, y, loss_cls, **args):
    """The weights of the same run stopped by Ctrl-C after ``steps`` steps (TrainingInterrupted)."""
    net = make_net()
    if steps == 0:
        return net.get_weights()
    interrupting = interrupting_loss(loss_cls)
    interrupting.at = steps - 1
    with pytest.raises(npl.TrainingInterrupted) as info:
        npl.fit(net, X, y, loss=interrupting(), **args)
    assert info.value.checkpoint.step == steps
    return net.get_weights()


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("act", ["relu", "tanh", "identity"])
@pytest.mark.parametrize("optimizer,lr", [("sgd", 10.0), ("adam", 1e30), ("sgd_momentum", 5.0)])
def test_a_too_large_lr_stops_with_the_last_finite_weights(act, optimizer, lr):
    X, y = _data(1e3)
    opt = (lambda: npl.create("optimizer", "sgd", momentum=0.9)) if optimizer == "sgd_momentum" \
        else (lambda: npl.create("optimizer", optimizer))
    mse = type(npl.create("loss", "mse"))
    net = _net(act)
    with pytest.raises(DivergenceError) as info:
        npl.fit(net, X, y, loss="mse", optimizer=opt(), lr=lr, epochs=5, batch_size=8, seed=1)
    err = info.value
    assert isinstance(err, FloatingPointError) and isinstance(err, npl.NonFiniteError)
    assert f"step {err.step} (epoch {err.epoch}, batch {err.batch}) with lr={lr:g}" in str(err)
    assert err.where and err.where in str(err)
    assert all(np.isfinite(w).all() for w in net.get_weights())
    # exactly the weights after the last good step
    expected = _weights_after(err.step, lambda: _net(act), X, y, mse, optimizer=opt(), lr=lr, epochs=5,
                              batch_size=8, seed=1)
    assert _same(net.get_weights(), expected)


def test_a_nan_derivative_is_named_and_nothing_of_that_step_is_applied():
    class NanAfter(npl.Activation):
        """tanh whose derivative turns NaN from its 4th call in a step on (fit's check of the
        components' outputs, before training, makes one call more)."""
        calls = -1

        def forward(self, z, out=None):
            return np.tanh(z, out=out)

        def derivative(self, z, a):
            type(self).calls += 1
            d = 1.0 - a * a
            if type(self).calls >= 4:
                d[0, 0] = np.nan
            return d

    X, y = _data()
    with npl.isolated_registry() as reg:
        reg.register(NanAfter, name="nan_after")
        net = _net("nan_after")
        with pytest.raises(DivergenceError, match=r"gradient|derivative") as info:
            npl.fit(net, X, y, loss="mse", lr=0.01, epochs=2, batch_size=8, seed=0)
        err = info.value
        assert err.step == 3 and err.epoch == 0
        assert "the derivative of the activation 'local:nan_after'" in err.where and "of layers[0]" in err.where
        NanAfter.calls = -10**9  # the reference run never turns NaN
        expected = _weights_after(3, lambda: _net("nan_after"), X, y, type(npl.create("loss", "mse")),
                                  lr=0.01, epochs=2, batch_size=8, seed=0)
    assert _same(net.get_weights(), expected)


def test_an_overflowing_activation_output_is_named():
    class Exp(npl.Activation):
        def forward(self, z, out=None):
            return np.exp(z, out=out)

        def derivative(self, z, a):
            return a

    X, y = _data(30.0)
    with npl.isolated_registry() as reg:
        reg.register(Exp, name="exp")
        net = _net("exp")
        with pytest.raises(DivergenceError) as info:
            npl.fit(net, X, y, loss="mse", lr=0.01, epochs=2, batch_size=8, seed=0)
    assert "the output of the activation 'local:exp'" in info.value.where and "of layers[0]" in info.value.where
    assert all(np.isfinite(w).all() for w in net.get_weights())


def test_an_update_that_overflows_from_finite_gradients_is_traced_back():
    """An optimizer that writes inf at its 6th step: the gradients are finite, so fit redoes
    the epoch checking the weights after every update, and stops before the bad one."""

    class Broken(npl.Optimizer):
        def __init__(self):
            self.t = 0

        def step(self, params, grads, lr):
            self.t += 1
            for p, g in zip(params, grads):
                p -= lr * g
            if self.t == 6:
                params[0][0, 0] = np.inf

        def get_state(self):
            return {"t": self.t}

        def set_state(self, state):
            self.t = state["t"]

    X, y = _data()
    with npl.isolated_registry() as reg:
        reg.register(Broken, name="broken_opt")
        net = _net("tanh")
        with pytest.raises(DivergenceError) as info:
            npl.fit(net, X, y, loss="mse", optimizer="broken_opt", lr=0.01, epochs=3, batch_size=8, seed=0)
        err = info.value
        assert err.step == 5 and "the update of the optimizer 'local:broken_opt'" in err.where
        expected = _weights_after(5, lambda: _net("tanh"), X, y, type(npl.create("loss", "mse")),
                                  optimizer="broken_opt", lr=0.01, epochs=3, batch_size=8, seed=0)
    assert _same(net.get_weights(), expected)


def test_divergence_emits_no_numpy_warning(recwarn):
    X, y = _data(1e3)
    with pytest.raises(DivergenceError):
        npl.fit(_net(), X, y, loss="mse", lr=10.0, epochs=5, batch_size=8)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_checkpoint_on_disk_stays_finite_and_readable(tmp_path):
    X, y = _data(1e3)
    path = tmp_path / "run.ckpt.npz"
    policy = npl.Checkpointing(path, every=1)
    with pytest.raises(DivergenceError) as info:
        npl.fit(_net(), X, y, loss="mse", lr=10.0, epochs=5, batch_size=8, checkpoint=policy,
                max_growth=None)  # the non-finite path (the growth check would stop it before step 1)
    ckpt = npl.load_checkpoint(path)
    assert ckpt.step == info.value.step  # the last good step was checkpointed, nothing after it
    assert all(np.isfinite(w).all() for w in ckpt.weights)
