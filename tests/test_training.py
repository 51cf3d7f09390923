"""The training loop: learning, reproducibility, schedules, callbacks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import ConfigError, DivergenceError, InputError, ShapeError


def small_net(seed=0, input_dim=64, hidden=32, out=10, dtype="float32"):
    return npl.Sequential([npl.Dense(hidden, activation="tanh"), npl.Dense(out, activation="softmax")],
                          input_dim=input_dim, seed=seed, dtype=dtype)


def test_issue_example_trains_digits_to_high_accuracy(digits):
    X_train, X_val, y_train, y_val = digits
    net = npl.Sequential(
        [npl.Dense(64, activation="tanh", init="normalized_xavier"), npl.Dense(10, activation="softmax")],
        input_dim=64, seed=0)
    history = npl.fit(net, X_train, y_train, loss="cross_entropy", lr=0.5, schedule="step_decay",
                      epochs=20, batch_size=32, validation_data=(X_val, y_val), seed=0)
    assert set(history.history) == {"loss", "lr", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 20 and history["loss"][-1] < history["loss"][0] / 5
    assert history["val_accuracy"][-1] >= 0.95
    assert np.mean(net.predict_classes(X_val) == y_val) == pytest.approx(history["val_accuracy"][-1])
    assert net.predict(X_val).dtype == np.float32


def test_same_seed_gives_bit_identical_weights(digits):
    X, _, y, _ = digits
    runs = []
    for _ in range(2):
        net = small_net(seed=3)
        npl.fit(net, X[:300], y[:300], loss="cross_entropy", lr=0.3, epochs=3, batch_size=16, seed=7,
                optimizer=npl.create("optimizer", "sgd", momentum=0.9))
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    net = small_net(seed=3)
    npl.fit(net, X[:300], y[:300], loss="cross_entropy", lr=0.3, epochs=3, batch_size=16, seed=8)
    assert not np.array_equal(net.get_weights()[0], runs[0][0])


def test_one_sgd_step_moves_weights_by_minus_lr_times_gradient(rng):
    X = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))
    net = npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(2)], input_dim=3, seed=0, dtype="float64")
    before = net.get_weights()
    _, grads = net.loss_and_gradients(X, y, "mse")
    npl.fit(net, X, y, loss="mse", lr=0.1, epochs=1, batch_size=8, shuffle=False)
    for w0, w1, g in zip(before, net.get_weights(), grads):
        np.testing.assert_allclose(w1, w0 - 0.1 * g, rtol=0, atol=1e-15)


def test_schedule_sets_the_lr_per_epoch_and_history_records_it(digits):
    X, _, y, _ = digits
    net = small_net()
    sched = npl.create("schedule", "step_decay", step_size=2, gamma=0.5)
    h = npl.fit(net, X[:200], y[:200], loss="cross_entropy", lr=0.4, schedule=sched, epochs=5, batch_size=50)
    assert h["lr"] == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1])


def test_early_stopping_stops_and_restores_best(digits):
    X, Xv, y, yv = digits
    net = small_net()
    stopper = npl.EarlyStopping(monitor="val_loss", patience=2)
    # random labels on a few samples: memorising them makes the validation loss rise
    noise = np.random.default_rng(0).integers(0, 10, size=40)
    h = npl.fit(net, X[:40], noise, loss="cross_entropy", lr=0.5, epochs=200, batch_size=8,
                validation_data=(Xv, yv), callbacks=[stopper], seed=0)
    assert len(h.epoch) < 200 and stopper.stopped_epoch == h.epoch[-1]
    assert stopper.best_epoch == int(np.argmin(h["val_loss"])) < h.epoch[-1]
    best = min(h["val_loss"])
    assert npl.create("loss", "cross_entropy").forward(net.predict(Xv), yv) == pytest.approx(best, rel=1e-5)


def test_callbacks_see_every_epoch():
    seen = []

    class Recorder(npl.Callback):
        def on_epoch_end(self, state):
            seen.append((state.epoch, round(state.logs["lr"], 6)))
            if state.epoch == 2:
                state.stop = True

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    net = npl.Sequential([npl.Dense(1)], input_dim=3, seed=0)
    h = npl.fit(net, X, y, lr=0.05, epochs=10, batch_size=8, callbacks=[Recorder()])
    assert seen == [(0, 0.05), (1, 0.05), (2, 0.05)] and h.epoch == [0, 1, 2]


def test_regression_learns_a_linear_map():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(256, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    net = npl.Sequential([npl.Dense(1)], input_dim=3, seed=0)
    h = npl.fit(net, X, y, loss="mse", lr=0.05, epochs=40, batch_size=16, seed=0)
    assert h["loss"][-1] < 1e-4


class ConstantRate(npl.Schedule):
    """A schedule returning a fixed (possibly invalid) value, to test the loop's own check."""

    def __init__(self, value):
        self.value = value

    def __call__(self, step, base_lr):
        return self.value


BAD_FIT_ARGS = [
    (dict(X=np.full((10, 64), np.nan)), InputError, "non-finite"),
    (dict(X=np.zeros((10, 63))), ShapeError, "input_dim is 64"),
    (dict(X=np.zeros((10,))), ShapeError, "2-D"),
    (dict(y=np.zeros(9, dtype=int)), ShapeError, "one row per sample"),
    (dict(y=np.full(10, 10)), InputError, "class label 10"),
    (dict(y=np.full(10, -1)), InputError, "class label -1"),
    (dict(X=np.zeros((0, 64)), y=np.zeros(0, dtype=int)), InputError, "empty"),
    (dict(X=np.zeros((10, 64), dtype=complex)), InputError, "real numbers"),
    (dict(X=np.zeros((10, 64), dtype=object)), InputError, "real numbers"),
    (dict(lr=-0.1), InputError, "lr must be > 0"),
    (dict(lr=0.0), InputError, "lr must be > 0"),
    (dict(batch_size=0), InputError, "batch_size must be >= 1"),
    (dict(batch_size=11), InputError, "batch_size must be <= 10"),
    (dict(epochs=0), InputError, "epochs must be >= 1"),
    (dict(loss="crossentropy"), npl.ComponentNotFoundError, "Did you mean 'cross_entropy'"),
    (dict(optimizer={"name": "sgd", "config": {"momentun": 0.9}}), ConfigError, "momentum"),
    (dict(schedule=ConstantRate(float("nan"))), ConfigError, "returned the learning rate nan at epoch 0"),
    (dict(schedule=ConstantRate(-1.0)), ConfigError, "returned the learning rate -1.0"),
    (dict(schedule=npl.create("schedule", "callable", fn=lambda t, lr: float("nan"))), ConfigError,
     "returned nan at step 0"),
    (dict(validation_data=(np.zeros((3, 5)), np.zeros(3, dtype=int))), ShapeError, "validation X"),
]


@pytest.mark.parametrize("override, error, message", BAD_FIT_ARGS,
                         ids=[f"{e.__name__}-{m[:20]}" for _, e, m in BAD_FIT_ARGS])
def test_bad_input_fails_early_and_leaves_weights_unchanged(override, error, message):
    net = small_net()
    before = net.get_weights()
    args = dict(X=np.zeros((10, 64)), y=np.zeros(10, dtype=int), loss="cross_entropy", lr=0.1,
                epochs=1, batch_size=5)
    args.update(override)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(error, match=message):
        npl.fit(net, X, y, **args)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_divergence_is_detected_and_weights_restored():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)) * 1e3
    y = rng.normal(size=(64, 1)) * 1e3
    net = npl.Sequential([npl.Dense(16, activation="relu", init="he_normal"), npl.Dense(1)],
                         input_dim=4, seed=0, dtype="float32")
    with pytest.raises(DivergenceError, match=r"step \d+ \(epoch 0.*lr=10") as info:
        npl.fit(net, X, y, loss="mse", lr=10.0, epochs=5, batch_size=8)
    assert info.value.epoch == 0 and info.value.lr == 10.0 and info.value.where
    assert all(np.isfinite(w).all() for w in net.get_weights())  # tests/test_divergence.py: the last finite state


def test_a_component_that_raises_is_named():
    class Exploding(npl.Activation):
        def forward(self, z, out=None):
            raise RuntimeError("boom")

    with npl.isolated_registry() as reg:
        reg.register(Exploding, name="exploding")
        net = npl.Sequential([npl.Dense(2, activation="exploding")], input_dim=2, seed=0)
        with pytest.raises(npl.ComponentError, match=r"activation 'local:exploding'.*boom"):
            npl.fit(net, np.zeros((4, 2)), np.zeros((4, 2)), epochs=1, batch_size=2)
