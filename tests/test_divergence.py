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


def _checked_subclass(name):
    """The built-in activation ``name`` as a subclass that overrides ``forward`` (the same values):
    its calls are methods, not prebound numpy calls, so fit checks the gradients at every step."""
    base = type(npl.create("activation", name))
    return type(f"Checked{base.__name__}", (base,), {"forward": lambda self, z, out=None: base.forward(self, z, out)})


def _classification(scale):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(64, 5)) * scale).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int)


def _stopped(act, X, y, lr, callbacks=()):
    net = npl.Sequential([npl.Dense(8, activation=act), npl.Dense(2, activation="softmax")], input_dim=5, seed=0)
    with pytest.raises(DivergenceError) as info:
        npl.fit(net, X, y, loss="cross_entropy", optimizer="sgd", lr=lr, epochs=3, batch_size=8, seed=0,
                progress=False, callbacks=list(callbacks))
    err = info.value
    return (err.step, err.epoch, err.batch, err.where), net.get_weights()


@pytest.mark.parametrize("act", ["relu", "tanh", "identity"])
@pytest.mark.parametrize("scale, lr", [(1e36, 1e6), (1e36, 1e30), (1.0, 1e30), (1e18, 1e20)])
def test_a_step_of_prebound_calls_finds_a_non_finite_gradient_by_replay_as_the_check_would(act, scale, lr,
                                                                                           monkeypatch):
    """Built-in activations, cross-entropy and plain SGD run as prebound numpy calls and skip the
    per-step gradient check: a non-finite gradient is applied, seen at the next step (or the
    epoch's end), and the re-play stops before it. The report and the restored weights are
    those of the same run with every step checked."""
    from neuroplug.training import loop

    reasons = []
    real = loop.stop_diverged
    monkeypatch.setattr(loop, "stop_diverged", lambda run, reason: (reasons.append(reason), real(run, reason))[1])
    X, y = _classification(scale)
    fast, fast_weights = _stopped(act, X, y, lr)
    with npl.isolated_registry() as reg:
        reg.register(_checked_subclass(act), name="checked")
        checked, checked_weights = _stopped("checked", X, y, lr)
    assert fast == checked
    assert _same(fast_weights, checked_weights) and all(np.isfinite(w).all() for w in fast_weights)
    assert reasons[0] != "gradient", "the prebound run checked its gradients during the epoch"
    if reasons[1] == "gradient":  # the checked run stopped at the gradient: the fast one found it later
        assert reasons[0] in ("loss", "weights")


def test_ctrl_c_after_an_unchecked_non_finite_gradient_stops_as_a_divergence():
    """Ctrl-C reaching fit just as an unchecked non-finite gradient was applied: what it would save
    is not finite, so the run stops as diverged (the re-play names the step), not interrupted."""
    import os
    import signal

    class CtrlC(npl.Callback):
        def on_epoch_begin(self, state):
            os.kill(os.getpid(), signal.SIGINT)  # fit's handler sets its flag, seen after the step

    X, y = _classification(1e36)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        fast, fast_weights = _stopped("relu", X, y, 1e6, callbacks=[CtrlC()])
    except npl.TrainingInterrupted as exc:  # (a KeyboardInterrupt: it would end the whole test session)
        pytest.fail(f"interrupted, with non-finite weights in its checkpoint, instead of diverged: {exc}")
    finally:
        signal.signal(signal.SIGINT, old)
    with npl.isolated_registry() as reg:
        reg.register(_checked_subclass("relu"), name="checked")
        checked, checked_weights = _stopped("checked", X, y, 1e6)
    assert fast == checked and fast[0] == 0
    assert _same(fast_weights, checked_weights)


def test_the_error_carries_the_history_of_the_epochs_before_the_failing_one():
    """What fit would have returned up to the divergence: the losses that led up to it."""
    X, y = _data()

    class NanAtEpoch2(npl.Activation):
        """tanh whose output turns NaN in the third epoch (8 batches an epoch; one call of fit's
        check of the components' outputs before training)."""
        calls = 0

        def forward(self, z, out=None):
            type(self).calls += 1
            a = np.tanh(z, out=out)
            if type(self).calls > 1 + 2 * 8:
                a[0, 0] = np.nan
            return a

        def derivative(self, z, a):
            return 1.0 - a * a

    with npl.isolated_registry() as reg:
        reg.register(NanAtEpoch2, name="nan_at_epoch2")
        with pytest.raises(DivergenceError) as info:
            npl.fit(_net("nan_at_epoch2"), X, y, loss="mse", lr=0.01, epochs=5, batch_size=8, seed=0, progress=False)
    err = info.value
    assert err.epoch == 2 and err.history is not None
    assert err.history.epoch == [0, 1] and len(err.history["loss"]) == 2
    assert all(np.isfinite(v) for v in err.history["loss"])
    NanAtEpoch2.calls = -10**9  # the same run, never NaN: the same first two epochs
    with npl.isolated_registry() as reg:
        reg.register(NanAtEpoch2, name="nan_at_epoch2")
        clean = npl.fit(_net("nan_at_epoch2"), X, y, loss="mse", lr=0.01, epochs=2, batch_size=8, seed=0,
                        progress=False)
    assert err.history["loss"] == clean["loss"]

    with pytest.raises(DivergenceError) as first:  # failing in the first epoch: an empty History
        npl.fit(_net("relu"), *_data(1e3), loss="mse", lr=50.0, epochs=3, batch_size=8, seed=0, progress=False)
    assert first.value.epoch == 0 and first.value.history.epoch == []
