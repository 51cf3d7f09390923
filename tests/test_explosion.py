"""Issue 11, class 8: a run that stays finite but blows up is stopped like a divergence.

Classification at lr=1e6 kept every weight finite (|w| ~ 1e17, accuracy at chance)
and raised nothing. ``fit(max_growth=...)`` (default 1e4) stops a run whose weights'
RMS grows past ``max_growth * max(1, RMS at the start of the epoch)`` within an
epoch, names the step and the layer, and restores the weights and the optimizer
state to their values before the step that crossed the limit.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import DivergenceError, InputError
from neuroplug.training.divergence import _rms


@pytest.fixture(scope="module")
def data():
    X, Xt, y, yt = npl.datasets.load_digits_split(seed=0)
    return X[:320], y[:320]


def net(init="he_uniform", seed=0):
    return npl.Sequential([npl.Dense(32, activation="relu", init=init), npl.Dense(10, activation="softmax")],
                          input_dim=64, seed=seed)


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_huge_learning_rate_is_stopped_before_the_first_step_that_blows_up(data):
    X, y = data
    model = net()
    initial = model.get_weights()
    with pytest.raises(DivergenceError) as info:
        npl.fit(model, X, y, loss="cross_entropy", lr=1e6, epochs=3, batch_size=32, seed=0)
    err = info.value
    assert (err.epoch, err.step, err.batch, err.lr) == (0, 0, 0, 1e6)
    message = str(err)
    for words in ("blew up at step 0", "layers[", "max_growth=10000", "before the first step",
                  "max_growth=None"):
        assert words in message, message
    assert weights_equal(model.get_weights(), initial)


def test_blow_up_mid_training_restores_the_state_before_the_crossing_step(data):
    """lr jumps to 1e7 at epoch 2: the error names epoch 2 and the weights are those after epoch 1."""
    X, y = data
    jump = npl.create("schedule", "callable", fn=lambda epoch, base: base if epoch < 2 else 1e7)
    model = net()
    with pytest.raises(DivergenceError) as info:
        npl.fit(model, X, y, loss="cross_entropy", lr=0.1, schedule=jump, epochs=4, batch_size=32, seed=0)
    err = info.value
    assert err.epoch == 2 and err.step == 2 * 10 + err.batch and err.lr == 1e7
    straight = net()
    npl.fit(straight, X, y, loss="cross_entropy", lr=0.1, schedule=jump, epochs=2, batch_size=32, seed=0)
    if err.batch == 0:
        assert weights_equal(model.get_weights(), straight.get_weights())
    else:  # the state after the batches of epoch 2 before the crossing one
        assert all(np.isfinite(w).all() for w in model.get_weights())
        rms = _rms(model.get_weights())
        assert rms <= 1e4 * max(_rms(straight.get_weights()), 1.0)


def test_max_growth_none_turns_the_check_off(data):
    X, y = data
    model = net()
    history = npl.fit(model, X, y, loss="cross_entropy", lr=1e6, epochs=2, batch_size=32, seed=0,
                      max_growth=None)
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert max(float(np.abs(w).max()) for w in weights) > 1e8  # finite but blown up: what the check is for
    assert history["accuracy"][-1] < 0.5


def test_the_factor_sets_the_limit(data):
    """lr=1e3 grows the weights' RMS to about 1e3-1e4: past a limit of 10, within one of 1e30."""
    X, y = data
    with pytest.raises(DivergenceError, match="max_growth=10 "):
        npl.fit(net(), X, y, loss="cross_entropy", lr=1e3, epochs=2, batch_size=32, seed=0, max_growth=10)
    model = net()
    npl.fit(model, X, y, loss="cross_entropy", lr=1e3, epochs=2, batch_size=32, seed=0, max_growth=1e30)
    assert _rms(model.get_weights()) > 10


@pytest.mark.parametrize("value", [1, 0.5, 0, -3, float("nan"), "big", True, [10.0]])
def test_invalid_max_growth_is_refused_before_any_weight_changes(data, value):
    X, y = data
    model = net()
    initial = model.get_weights()
    with pytest.raises(InputError, match="max_growth"):
        npl.fit(model, X, y, loss="cross_entropy", lr=0.1, epochs=1, seed=0, max_growth=value)
    assert weights_equal(model.get_weights(), initial)


def test_ordinary_training_never_trips_the_check(data):
    """Classification from a zero init, a regression with targets of order 1e3, an aggressive but sane lr."""
    X, y = data
    npl.fit(net(init="zeros"), X, y, loss="cross_entropy", lr=0.5, epochs=5, batch_size=16, seed=0)
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(400, 5))
    yr = 1000.0 * (Xr @ rng.normal(size=(5, 1)))
    reg = npl.Sequential([npl.Dense(16, activation="tanh"), npl.Dense(1)], input_dim=5, seed=0)
    history = npl.fit(reg, Xr, yr, loss="mse", optimizer="adam", lr=1.0, epochs=30, batch_size=20, seed=0)
    assert history["loss"][-1] < history["loss"][0]
    npl.fit(net(), X, y, loss="cross_entropy", optimizer="sgd", lr=2.0, epochs=5, batch_size=16, seed=0)


def test_no_checkpoint_holds_blown_up_weights(data, tmp_path):
    X, y = data
    path = str(tmp_path / "c.npz")
    jump = lambda step, base: base if step < 25 else 1e6  # noqa: E731 - by step
    jump_sched = npl.create("schedule", "callable", fn=jump, unit="batch")
    with pytest.raises(DivergenceError):
        npl.fit(net(), X, y, loss="cross_entropy", lr=0.1, schedule=jump_sched, epochs=4, batch_size=32,
                seed=0, checkpoint=npl.Checkpointing(path, every=1))
    ckpt = npl.load_checkpoint(path)
    assert ckpt.step <= 25 and _rms(ckpt.weights) < 1e4


def test_cli_blow_up_is_one_line_and_off_switch(tmp_path):
    env = dict(os.environ, NEUROPLUG_DEBUG="")
    run = subprocess.run([sys.executable, "-m", "neuroplug", "train", "--lr", "1e6", "--epochs", "2",
                          "--no-progress"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "blew up" in run.stderr and "--max-growth off" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    run = subprocess.run([sys.executable, "-m", "neuroplug", "train", "--lr", "1e6", "--epochs", "1",
                          "--no-progress", "--max-growth", "off"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    bad = subprocess.run([sys.executable, "-m", "neuroplug", "train", "--max-growth", "1"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "--max-growth" in bad.stderr and "Traceback" not in bad.stderr
