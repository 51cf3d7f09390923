"""Checkpoints: written atomically, read safely, resumed bit-identically; Ctrl-C saves one."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import neuroplug as npl
from conftest import interrupting_loss
from neuroplug.errors import ConfigError, InputError, ModelFileError, TrainingInterrupted


def _data(n=90, d=5, seed=0, regression=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, :2].sum(axis=1, keepdims=True) if regression else (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _net(out=2, act="tanh", d=5, seed=1):
    last = npl.Dense(out, activation="softmax" if out > 1 else "identity")
    return npl.Sequential([npl.Dense(8, activation=act), last], input_dim=d, seed=seed)


# Configurations: optimizer state, epoch and batch schedules, a stateful schedule with
# validation data, a callback with state, regression, no shuffling.
CONFIGS = {
    "momentum": dict(optimizer=("sgd", {"momentum": 0.9, "nesterov": True}), schedule=("step_decay", {})),
    "adam-one_cycle": dict(optimizer=("adam", {}), schedule=("one_cycle", {"total_steps": 4 * 8, "unit": "batch"})),
    "plateau-early_stopping": dict(optimizer=("rmsprop", {}), schedule=("reduce_on_plateau", {"patience": 1}),
                                   validation=True, early_stopping=True),
    "regression-noshuffle": dict(optimizer=("sgd", {}), schedule=("cosine_annealing", {"total_steps": 4}),
                                 regression=True, shuffle=False),
}


def _args(name, **extra):
    cfg = CONFIGS[name]
    X, y = _data(regression=cfg.get("regression", False))
    opt_name, opt_params = cfg["optimizer"]
    sched_name, sched_params = cfg["schedule"]
    args = dict(loss="mse" if cfg.get("regression") else "cross_entropy",
                optimizer=npl.create("optimizer", opt_name, **opt_params),
                schedule=npl.create("schedule", sched_name, **sched_params),
                lr=0.05, epochs=4, batch_size=12, seed=7, shuffle=cfg.get("shuffle", True))
    if cfg.get("validation"):
        args["validation_data"] = _data(n=30, seed=5)
    if cfg.get("early_stopping"):
        args["callbacks"] = [npl.EarlyStopping(monitor="val_loss", patience=1)]
    args.update(extra)
    return X, y, args, (1 if cfg.get("regression") else 2)


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


LOSSES = {name: interrupting_loss(type(npl.create("loss", name))) for name in ("cross_entropy", "mse")}


def _loss(args, at=None):
    """The run's loss, interrupting at step ``at``: the same class in every run, as resuming requires."""
    cls = LOSSES[args["loss"]]
    cls.at, cls.calls = at, 0
    return cls()


def _interrupt_at(step, X, y, out, args):
    """Run fit and deliver SIGINT during step ``step`` (via the loss): returns (exception, net)."""
    net = _net(out)
    with pytest.raises(TrainingInterrupted) as info:
        npl.fit(net, X, y, **{**args, "loss": _loss(args, at=step)})
    return info.value, net


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_resuming_after_ctrl_c_at_any_step_is_bit_identical(name, tmp_path):
    X, y, args, out = _args(name)
    straight = _net(out)
    history = npl.fit(straight, X, y, **{**args, "loss": _loss(args)})
    total = sum(1 for _ in range(len(history.epoch))) * -(-len(X) // args["batch_size"])
    for step in range(0, total, 3):
        X, y, args, out = _args(name)          # fresh component instances for each run
        stop, net = _interrupt_at(step, X, y, out, args)
        # step + 1 steps done (fewer with validation data: its loss calls count too)
        assert 1 <= stop.checkpoint.step <= step + 1 and stop.path is None
        assert "the state is in this exception's `checkpoint`" in str(stop)
        path = tmp_path / f"{name}-{step}.ckpt.npz"
        stop.checkpoint.save(path)             # through the file, every time
        X, y, args, out = _args(name)
        resumed = _net(out, seed=99)           # other initial weights: the checkpoint's win
        got = npl.fit(resumed, X, y, resume=path, **{**args, "loss": _loss(args)})
        assert _same(resumed.get_weights(), straight.get_weights()), f"{name}: resumed after step {step}"
        assert got.history == history.history and got.epoch == history.epoch


def test_ctrl_c_writes_the_checkpoint_file_and_restores_the_signal_handler(tmp_path):
    X, y, args, out = _args("momentum")
    path = tmp_path / "run.ckpt.npz"
    stop, net = _interrupt_at(10, X, y, out, {**args, "checkpoint": path})
    assert stop.path == os.fspath(path) and f"checkpoint saved to {os.fspath(path)!r}" in str(stop)
    assert isinstance(stop, KeyboardInterrupt) and not isinstance(stop, Exception)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ckpt = npl.load_checkpoint(path)
    assert (ckpt.epoch, ckpt.batch, ckpt.step) == (1, 3, 11)
    assert _same(ckpt.weights, net.get_weights())


def test_a_second_ctrl_c_stops_at_once():
    X, y, args, out = _args("momentum")

    class TwoSigints(type(npl.create("loss", "cross_entropy"))):
        calls = 0

        def forward(self, a, t):
            type(self).calls += 1
            if type(self).calls == 3:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
            return super().forward(a, t)

    with pytest.raises(KeyboardInterrupt) as info:
        npl.fit(_net(out), X, y, **{**args, "loss": TwoSigints()})
    assert type(info.value) is KeyboardInterrupt
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_programs_own_sigint_handler_is_kept_and_its_interrupt_recovered(tmp_path):
    """With another handler raising KeyboardInterrupt mid-step, fit redoes the epoch up to the
    cut step, so the checkpoint is consistent and resumes bit-identically."""
    X, y, args, out = _args("adam-one_cycle")
    straight = _net(out)
    npl.fit(straight, X, y, **{**args, "loss": _loss(args)})

    def handler(signum, frame):
        raise KeyboardInterrupt("own handler")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        X, y, args, out = _args("adam-one_cycle")
        stop, _ = _interrupt_at(13, X, y, out, args)
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stop.checkpoint.step == 13  # the cut step is not counted
    X, y, args, out = _args("adam-one_cycle")
    resumed = _net(out)
    npl.fit(resumed, X, y, resume=stop.checkpoint, **{**args, "loss": _loss(args)})
    assert _same(resumed.get_weights(), straight.get_weights())


@pytest.mark.parametrize("every", ["epoch", 1, 5])
def test_periodic_checkpoints_resume_bit_identically(tmp_path, every):
    X, y, args, out = _args("momentum")
    straight = _net(out)
    npl.fit(straight, X, y, **args)
    path = tmp_path / "run.ckpt.npz"
    seen = []

    class Spy(npl.Callback):
        def on_epoch_end(self, state):
            seen.append(npl.load_checkpoint(path).step if path.exists() else None)

    X, y, args, out = _args("momentum")
    npl.fit(_net(out), X, y, checkpoint=npl.Checkpointing(path, every=every), callbacks=[Spy()], **args)
    final = npl.load_checkpoint(path)
    assert final.finished and final.step == 4 * 8
    steps_per_epoch = 8
    if every == "epoch":
        assert seen == [None, 8, 16, 24]
    else:
        assert seen == [(e + 1) * steps_per_epoch // every * every for e in range(4)]
    # resuming a finished run with more epochs == training longer in one go
    X, y, args, out = _args("momentum")
    longer = _net(out)
    npl.fit(longer, X, y, **{**args, "epochs": 6})
    X, y, args, out = _args("momentum")
    cont = _net(out)
    npl.fit(cont, X, y, checkpoint=path, resume=True, **{**args, "epochs": 6})
    assert _same(cont.get_weights(), longer.get_weights())


def test_keep_best_keeps_the_best_epoch(tmp_path):
    X, y, args, out = _args("plateau-early_stopping", callbacks=[])
    policy = npl.Checkpointing(tmp_path / "run.ckpt.npz", keep_best="val_loss")
    history = npl.fit(_net(out), X, y, checkpoint=policy, **{**args, "epochs": 6})
    best = npl.load_checkpoint(policy.best_path)
    assert policy.best_path.endswith("run.ckpt.best.npz")
    losses = history["val_loss"]
    assert best.epoch == int(np.argmin(losses)) + 1
    assert best.history["val_loss"] == losses[:best.epoch]


@pytest.mark.parametrize("change,message", [
    (dict(lr=0.06), r"lr=0.06 differs from the checkpoint's 0.05"),
    (dict(batch_size=10), r"batch_size=10 differs"),
    (dict(seed=8), r"seed=8 differs"),
    (dict(shuffle=False), r"shuffle=False differs"),
    (dict(optimizer="adam"), r"optimizer=.*adam.*differs"),
    (dict(loss="mse"), r"loss=.*mse.*differs"),
    (dict(epochs=1), r"epochs=1 but the checkpoint is already at epoch 2"),
])
def test_resuming_a_different_run_is_refused_before_anything_changes(tmp_path, change, message):
    X, y, args, out = _args("momentum")
    path = tmp_path / "run.ckpt.npz"
    npl.fit(_net(out), X, y, checkpoint=path, **{**args, "epochs": 2})
    X, y, args, out = _args("momentum")
    net = _net(out)
    before = net.get_weights()
    with pytest.raises(ConfigError, match=message):
        npl.fit(net, X, y, checkpoint=path, resume=True, **{**args, **change})
    assert _same(before, net.get_weights())


def test_resuming_on_other_data_or_network_is_refused(tmp_path):
    X, y, args, out = _args("momentum")
    path = tmp_path / "run.ckpt.npz"
    npl.fit(_net(out), X, y, checkpoint=path, **{**args, "epochs": 2})
    X2 = X.copy()
    X2[0, 0] += 1e-3
    with pytest.raises(ConfigError, match=r"the training data \(X, y\) differs"):
        npl.fit(_net(out), X2, y, checkpoint=path, resume=True, **_args("momentum")[2])
    with pytest.raises(ConfigError, match=r"the network differs.*layer 0"):
        npl.fit(_net(out, act="relu"), X, y, checkpoint=path, resume=True, **_args("momentum")[2])


def test_resume_arguments_are_checked(tmp_path):
    X, y, args, out = _args("momentum")
    with pytest.raises(InputError, match="resume=True continues from the checkpoint= file"):
        npl.fit(_net(out), X, y, resume=True, **args)
    with pytest.raises(InputError, match="resume must be True, False, a path or a neuroplug.Checkpoint"):
        npl.fit(_net(out), X, y, resume=3, **args)
    with pytest.raises(InputError, match="checkpoint must be a path or a neuroplug.Checkpointing"):
        npl.fit(_net(out), X, y, checkpoint=3, **args)
    with pytest.raises(InputError, match="every must be 'epoch', a number of steps >= 1 or None"):
        npl.Checkpointing(tmp_path / "x.npz", every=0)
    with pytest.raises(ModelFileError, match="no such file"):
        npl.fit(_net(out), X, y, resume=tmp_path / "missing.npz", **args)
    # resume=True without a file yet: a fresh start (a job can simply be started again)
    net = _net(out)
    npl.fit(net, X, y, checkpoint=tmp_path / "new.ckpt.npz", resume=True, **args)
    assert (tmp_path / "new.ckpt.npz").exists()


def test_a_state_that_cannot_be_stored_is_refused_before_training(tmp_path):
    class Odd(npl.Optimizer):
        def step(self, params, grads, lr):
            for p, g in zip(params, grads):
                p -= lr * g

        def get_state(self):
            return {"lock": object()}

    X, y, args, out = _args("momentum")
    net = _net(out)
    before = net.get_weights()
    with npl.isolated_registry() as reg:
        reg.register(Odd, name="odd")
        with pytest.raises(ConfigError, match=r"the optimizer's get_state\(\) holds a object"):
            npl.fit(net, X, y, **{**args, "optimizer": "odd"}, checkpoint=tmp_path / "c.npz")
    assert _same(before, net.get_weights())


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    X, y, args, out = _args("momentum")
    path = tmp_path / "run.ckpt.npz"
    npl.fit(_net(out), X, y, checkpoint=path, **{**args, "epochs": 2})
    before = path.read_bytes()
    def broken(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        npl.fit(_net(out), X, y, checkpoint=path, **_args("momentum")[2])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt.npz"]  # no temporary file left
    npl.load_checkpoint(path)


def test_truncated_or_altered_checkpoints_give_model_file_errors(tmp_path):
    X, y, args, out = _args("plateau-early_stopping")
    path = tmp_path / "run.ckpt.npz"
    npl.fit(_net(out), X, y, checkpoint=npl.Checkpointing(path, every=5), **{**args, "epochs": 2})
    data = path.read_bytes()
    bad = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    cuts = sorted(set(rng.integers(0, len(data), 60).tolist()) | {0, 1, len(data) - 1})
    for cut in cuts:
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="cannot load checkpoint"):
            npl.load_checkpoint(bad)
    for pos in rng.integers(0, len(data), 60).tolist():
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            ckpt = npl.load_checkpoint(bad)
        except ModelFileError:
            continue
        assert all(np.isfinite(w).all() for w in ckpt.weights)  # a flip in an unchecked byte: still valid


def test_the_cli_writes_a_checkpoint_on_ctrl_c_and_resumes(tmp_path, capsys, monkeypatch):
    from neuroplug import cli

    monkeypatch.chdir(tmp_path)
    opts = ["train", "--epochs", "3", "--layers", "16", "--no-progress", "--save", "straight.npz"]
    assert cli.main(opts) == 0
    straight = npl.load("straight.npz")

    real_fit = npl.training.fit

    def fit_with_ctrl_c(*a, **k):
        class Stop(npl.Callback):
            def on_epoch_end(self, state):
                if state.epoch == 0 and not k.get("resume"):
                    os.kill(os.getpid(), signal.SIGINT)
        return real_fit(*a, **{**k, "callbacks": [Stop()]})

    monkeypatch.setattr(npl.training, "fit", fit_with_ctrl_c)
    opts = ["train", "--epochs", "3", "--layers", "16", "--no-progress", "--save", "resumed.npz"]
    capsys.readouterr()
    assert cli.main(opts) == 130
    err = capsys.readouterr().err
    assert "training interrupted at epoch 1, batch 0 (step 85)" in err
    assert "checkpoint saved to 'neuroplug-train.ckpt.npz'" in err
    assert "to continue, run: neuroplug train --epochs 3 --layers 16 --no-progress --save resumed.npz --resume" in err
    assert "Traceback" not in err
    assert cli.main(opts + ["--resume"]) == 0
    out = capsys.readouterr().out
    assert "resuming from neuroplug-train.ckpt.npz: Checkpoint(epoch=1, batch=0, step=85, in progress)" in out
    resumed = npl.load("resumed.npz")
    assert _same(resumed.get_weights(), straight.get_weights())
