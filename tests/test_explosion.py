"""Issue 11, class 8: a run that stays finite but blows up is stopped like a divergence.

Classification at lr=1e6 kept every weight finite (|w| ~ 1e17, accuracy at chance)
and raised nothing. ``fit(max_growth=...)`` (default 1e4) stops a run whose weights'
RMS grows past ``max_growth * max(1, RMS at the start of the epoch)`` within an
epoch, names the step and the layer, and restores the weights and the optimizer
state to their values before the step that crossed the limit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import neuroplug as npl
from conftest import interrupting_loss
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


# ---------------------------------------------------------------------- the table: what is named, what is put back
STEPS = 10  # 320 samples in batches of 32
CE = interrupting_loss(type(npl.create("loss", "cross_entropy")))


def _jump_at(step, to):
    """A per-step schedule: the base rate before ``step``, ``to`` from it on."""
    return npl.create("schedule", "callable", fn=lambda t, base: base if t < step else to, unit="batch")


def _optimizer(spec):
    name, *config = spec
    return npl.create("optimizer", name, **(config[0] if config else {}))


def _after(steps, optimizer, X, y, **args):
    """Weights and optimizer state of the same run stopped by Ctrl-C after ``steps`` steps."""
    model, opt = net(), _optimizer(optimizer)
    if steps:
        CE.at, CE.calls = steps - 1, 0
        with pytest.raises(npl.TrainingInterrupted) as info:
            npl.fit(model, X, y, loss=CE(), optimizer=opt, **args)
        assert info.value.checkpoint.step == steps
    return model.get_weights(), opt.get_state()


def _layer_rms(weights):
    return [_rms(weights[2 * k:2 * k + 2]) for k in range(len(weights) // 2)]


def _states_equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


NAMED = re.compile(r"the weights of layers\[(\d+)\] grew from RMS (\S+) at the start of the epoch to (\S+), "
                   r"taking the weights' RMS past (\S+) \(max_growth=10000 ")


@pytest.mark.parametrize("optimizer,base_lr,jump,to", [
    pytest.param(("sgd",), 1e6, 0, 1e6, id="sgd-huge-from-the-first-step"),  # the case
    pytest.param(("sgd",), 0.1, 25, 1e8, id="sgd-mid-epoch-2"),
    pytest.param(("sgd", {"momentum": 0.9}), 0.05, 13, 1e6, id="momentum-buffer-put-back"),
    pytest.param(("adam",), 0.01, 7, 1e6, id="adam"),
    pytest.param(("rmsprop",), 0.01, 16, 1e6, id="rmsprop"),
    pytest.param(("adagrad",), 0.05, 34, 1e6, id="adagrad-last-epoch"),
])
def test_table_blow_up_is_named_and_the_state_before_the_step_is_put_back(data, optimizer, base_lr, jump, to):
    X, y = data
    args = dict(lr=base_lr, schedule=_jump_at(jump, to), epochs=4, batch_size=32, seed=0)
    model, opt = net(), _optimizer(optimizer)
    CE.at, CE.calls = None, 0
    with pytest.raises(DivergenceError) as info:
        npl.fit(model, X, y, loss=CE(), optimizer=opt, **args)
    err = info.value
    # the first step at the huge rate, or one soon after it in the same epoch
    assert jump <= err.step < (jump // STEPS + 1) * STEPS and err.lr == to
    assert (err.epoch, err.batch) == divmod(err.step, STEPS)
    message = str(err)
    assert message.startswith(f"training blew up at step {err.step} (epoch {err.epoch}, batch {err.batch}) "
                              f"with lr={to:g}: ")
    assert err.where in message and "max_growth=None" in message
    # exactly the weights and the optimizer state before the step that crossed the limit
    before, before_state = _after(err.step, optimizer, X, y, **args)
    assert weights_equal(model.get_weights(), before)
    if err.step:
        assert _states_equal(opt.get_state(), before_state)
    # what grew, from what to what, is what that step did (an uninterrupted run without the check)
    start, _ = _after(err.epoch * STEPS, optimizer, X, y, **args)
    after, _ = _after(err.step + 1, optimizer, X, y, **args, max_growth=None)
    limit = 1e4 * max(_rms(start), 1.0)
    assert _rms(before) <= limit < _rms(after)
    found = NAMED.search(err.where)
    assert found, err.where
    layer, was, now, named_limit = int(found[1]), float(found[2]), float(found[3]), float(found[4])
    s0, s1 = _layer_rms(start), _layer_rms(after)
    ratios = [b / max(a, 1.0) for a, b in zip(s0, s1)]
    assert layer == int(np.argmax(ratios))
    assert was == pytest.approx(s0[layer], rel=1e-2) and now == pytest.approx(s1[layer], rel=1e-2)
    assert named_limit == pytest.approx(limit, rel=1e-2)


# ---------------------------------------------------------------------- Ctrl-C, resume, non-finite after a blow-up
@pytest.mark.parametrize("handler", ["fit's", "the program's own"])
def test_ctrl_c_after_a_blow_up_writes_no_checkpoint_and_resuming_finds_the_same_blow_up(data, tmp_path, handler):
    X, y = data
    args = dict(lr=0.1, schedule=_jump_at(25, 1e8), epochs=4, batch_size=32, seed=0)
    CE.at, CE.calls = None, 0
    with pytest.raises(DivergenceError) as info:
        npl.fit(straight := net(), X, y, loss=CE(), **args)
    blown = info.value
    assert blown.epoch == 2 and blown.step < 29

    path = tmp_path / "run.ckpt.npz"

    def own(signum, frame):
        raise KeyboardInterrupt("own handler")

    previous = signal.signal(signal.SIGINT, own) if handler != "fit's" else None
    try:
        CE.at, CE.calls = 29, 0  # during the last step of epoch 2, after the blow-up
        with pytest.raises(npl.TrainingInterrupted) as info:
            npl.fit(net(), X, y, loss=CE(), checkpoint=path, **args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    stop = info.value
    assert stop.path is None and "no checkpoint written: the weights blew up" in str(stop), str(stop)
    assert stop.checkpoint.epoch == 2 and stop.checkpoint.step > blown.step  # the state, in the exception only
    on_disk = npl.load_checkpoint(path)  # the one written at the end of epoch 1
    assert (on_disk.epoch, on_disk.batch, on_disk.step) == (2, 0, 20)
    assert _rms(on_disk.weights) < 1e4

    resumed = net(seed=7)
    CE.at, CE.calls = None, 0
    with pytest.raises(DivergenceError) as info:
        npl.fit(resumed, X, y, loss=CE(), checkpoint=path, resume=True, **args)
    again = info.value
    assert (again.epoch, again.step, again.batch, again.lr, again.where) == \
        (blown.epoch, blown.step, blown.batch, blown.lr, blown.where)
    assert weights_equal(resumed.get_weights(), straight.get_weights())
    assert npl.load_checkpoint(path).step == 20  # still the last sound one


class _PoisonAfter(type(npl.create("optimizer", "sgd"))):
    """sgd whose 5th update (by its own step count, so every re-play repeats it) sets a bias to -inf:
    a relu unit that is then dead, so the loss and the gradients stay finite."""

    def step(self, params, grads, lr):
        super().step(params, grads, lr)
        if self.iterations == 5:
            params[1][0] = -np.inf


def test_a_weight_made_non_finite_after_a_blow_up_is_reported_as_without_max_growth(data):
    """The weights blow up at step 0 and an update makes a weight -inf at step 4: the report and the
    state put back are those of the non-finite weight, as with max_growth=None."""
    X, y = data
    reports = []
    for max_growth in (1e4, None):
        model = net()
        with pytest.raises(DivergenceError) as info:
            npl.fit(model, X, y, loss="cross_entropy", optimizer=_PoisonAfter(), lr=1e6, epochs=1, batch_size=32,
                    seed=0, max_growth=max_growth)
        err = info.value
        reports.append((str(err), err.step, model.get_weights()))
    (first, step, weights), (second, step_none, weights_none) = reports
    assert step == step_none == 4 and first == second
    assert "produced a non-finite weight" in first and "after step 3" in first
    assert weights_equal(weights, weights_none) and all(np.isfinite(w).all() for w in weights)


class _UpDownUp(type(npl.create("optimizer", "sgd"))):
    """sgd whose updates of steps 1 and 5 (by its own step count) multiply every weight by 1e6 and
    whose update of step 2 divides them back: the weights cross max_growth's limit, come back
    within it before the checkpoint after step 2, and cross it again."""

    def step(self, params, grads, lr):
        super().step(params, grads, lr)
        factor = {2: 1e6, 3: 1e-6, 6: 1e6}.get(self.iterations)
        if factor is not None:
            for p in params:
                p *= factor


def test_a_blow_up_is_looked_for_after_the_last_checkpoint_of_the_epoch(data, tmp_path):
    """The checkpoint after step 2 is sound (the weights came back within the limit): the step
    reported is the crossing after it (5), not the one before it (1), so the file on disk is never
    past the step the error names; without a checkpoint the first crossing (1) is reported."""
    X, y = data
    path = str(tmp_path / "c.npz")
    steps = []
    for checkpoint in (npl.Checkpointing(path, every=3), None):
        model = net()
        with pytest.raises(DivergenceError) as info:
            npl.fit(model, X, y, loss="cross_entropy", optimizer=_UpDownUp(), lr=1e-12, epochs=1, batch_size=32,
                    seed=0, checkpoint=checkpoint)
        steps.append(info.value.step)
        assert _rms(model.get_weights()) < 1e4
    assert steps == [5, 1]
    ckpt = npl.load_checkpoint(path)
    assert ckpt.step == 3 and _rms(ckpt.weights) < 1e4
