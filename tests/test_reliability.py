"""Reliability, round two (issue 11): no traceback reaches a user, nothing is lost when a call fails.

One table per class of the issue; every pytest id starts with its class::

    fit-   (class 1: every argument, callback and output path of fit checked before the first step)
    save-  (class 2: paths given to save, checkpoints and atomic_write)
    cli-   (class 7: the command line never prints a traceback for a user or environment error)
    json-  (class 5: plugins that print cannot corrupt machine-readable output)

For every case the test asserts the exact error class (a
:class:`~neuroplug.errors.NeuroplugError` that is also the matching built-in),
that the message names the argument or the path and shows the bad value, and
that nothing changed: the weights bit-identical, the optimizer's state, the
files of the folder (no temporary file left behind, a previous file intact).
"""

from __future__ import annotations

import copy
import errno
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.cli import main
from neuroplug.errors import ConfigError, FileWriteError, InputError, NeuroplugError

N, D, C = 12, 4, 3
_rng = np.random.default_rng(0)
X0 = _rng.normal(size=(N, D))
Y0 = np.arange(N) % C          # class labels
T0 = _rng.normal(size=(N, 1))  # a regression target
LONG = "m" * 300 + ".npz"      # longer than any file system's NAME_MAX (255 bytes)


def make_net(out: int = C, activation: str = "softmax") -> npl.Sequential:
    return npl.Sequential([npl.Dense(5, activation="tanh"), npl.Dense(out, activation=activation)],
                          input_dim=D, seed=0)


def used_optimizer() -> Any:
    """An SGD-with-momentum optimizer that has taken a step (a reset or a step more would show)."""
    opt = npl.create("optimizer", "sgd", momentum=0.9)
    params = [np.zeros((D, 5)), np.zeros(5), np.zeros((5, C)), np.zeros(C)]
    opt.setup(params)
    opt.step(params, [np.ones_like(p) for p in params], 0.1)
    return opt


def state_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(state_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(state_equal, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def listing(folder: Any) -> dict[str, bytes | None]:
    """Every entry under ``folder`` with its bytes (None for folders): what a failed call must not change."""
    out: dict[str, bytes | None] = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), folder)] = None
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), folder)] = fh.read()
    return out


class Monitors(npl.Callback):
    """A callback that adds the metric ``twice_loss`` to the logs and declares it."""

    adds_metrics = ("twice_loss",)

    def on_epoch_end(self, state: Any) -> None:
        state.logs["twice_loss"] = 2 * state.logs["loss"]


class Undeclared(Monitors):
    adds_metrics = ()


# ====================================================================== class 1: fit checks first
@dataclass
class FitCase:
    """``fit(net, X, y, **fit)`` in a folder holding ``adir/`` and ``old.npz``: ``error`` before any step."""

    id: str
    error: type[NeuroplugError]
    builtin: type[BaseException]
    fragments: tuple[str, ...]  # the argument and the value, as the message must show them
    fit: dict[str, Any] = field(default_factory=dict)
    call: Callable[[], Any] | None = None  # a constructor that must refuse the value itself
    regression: bool = False
    marks: tuple[Any, ...] = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


def _nul_checkpointing() -> Any:
    return npl.Checkpointing("a\0b.npz")


FIT_CASES = [
    # refused by the optimizer at the first step: the weights and the caller's optimizer as they were
    FitCase("fit-lr_beyond_the_dtype", InputError, ValueError, ("lr=1e+300", "beyond the range"),
            fit={"lr": 1e300}),
    # metrics that are never logged: found before the first step, not after an epoch
    FitCase("fit-schedule_plateau_without_validation", ConfigError, ValueError,
            ("reduce_on_plateau", "'val_loss'", "validation_data"), dict(schedule="reduce_on_plateau")),
    FitCase("fit-schedule_plateau_monitor_typo", ConfigError, ValueError, ("reduce_on_plateau", "'los'"),
            dict(schedule={"name": "reduce_on_plateau", "config": {"monitor": "los"}})),
    FitCase("fit-schedule_plateau_accuracy_in_regression", ConfigError, ValueError,
            ("reduce_on_plateau", "'accuracy'"),
            dict(schedule={"name": "reduce_on_plateau", "config": {"monitor": "accuracy"}}), regression=True),
    FitCase("fit-early_stopping_without_validation", ConfigError, ValueError,
            ("EarlyStopping", "'val_loss'", "validation_data"), dict(callbacks=[npl.EarlyStopping()])),
    FitCase("fit-early_stopping_monitor_typo", ConfigError, ValueError, ("EarlyStopping", "'val_acc'"),
            dict(callbacks=[npl.EarlyStopping(monitor="val_acc")], validation_data=(X0, Y0))),
    FitCase("fit-early_stopping_accuracy_in_regression", ConfigError, ValueError,
            ("EarlyStopping", "'val_accuracy'", "classification"),
            dict(callbacks=[npl.EarlyStopping(monitor="val_accuracy")], validation_data=(X0, T0)),
            regression=True),
    FitCase("fit-early_stopping_undeclared_metric", ConfigError, ValueError, ("EarlyStopping", "'twice_loss'"),
            dict(callbacks=[Undeclared(), npl.EarlyStopping(monitor="twice_loss")])),
    FitCase("fit-early_stopping_monitor_5", ConfigError, ValueError, ("EarlyStopping monitor", "5"),
            call=lambda: npl.EarlyStopping(monitor=5)),
    FitCase("fit-early_stopping_monitor_empty", ConfigError, ValueError, ("EarlyStopping monitor", "''"),
            call=lambda: npl.EarlyStopping(monitor="")),
    FitCase("fit-keep_best_without_validation", ConfigError, ValueError, ("keep_best", "'val_loss'"),
            dict(checkpoint=npl.Checkpointing("run.npz", keep_best="val_loss"))),
    # callbacks
    FitCase("fit-callbacks_5", InputError, ValueError, ("callbacks", "5", "list"), dict(callbacks=5)),
    FitCase("fit-callbacks_None", InputError, ValueError, ("callbacks", "None"), dict(callbacks=None)),
    FitCase("fit-callbacks_str", InputError, ValueError, ("callbacks", "'es'"), dict(callbacks="es")),
    FitCase("fit-callbacks_single_instance", InputError, ValueError, ("callbacks", "[EarlyStopping(...)]"),
            dict(callbacks=npl.EarlyStopping(monitor="loss"))),
    FitCase("fit-callbacks_class", InputError, ValueError, ("callbacks[0]", "class EarlyStopping"),
            dict(callbacks=[npl.EarlyStopping])),
    FitCase("fit-callbacks_item_5", InputError, ValueError, ("callbacks[1]", "5"),
            dict(callbacks=[npl.EarlyStopping(monitor="loss"), 5])),
    # components given as abstract classes
    FitCase("fit-optimizer_abstract_class", ConfigError, ValueError, ("optimizer", "abstract", "Optimizer", "step"),
            dict(optimizer=npl.Optimizer)),
    FitCase("fit-loss_abstract_class", ConfigError, ValueError, ("loss", "abstract", "Loss"), dict(loss=npl.Loss)),
    FitCase("fit-schedule_abstract_class", ConfigError, ValueError, ("schedule", "abstract", "Schedule"),
            dict(schedule=npl.Schedule)),
    # checkpoint paths: checked before the first step, named as given (never a temporary file)
    FitCase("fit-checkpoint_missing_folder", FileWriteError, OSError, ("'no/such/dir/c.npz'", "does not exist"),
            dict(checkpoint="no/such/dir/c.npz")),
    FitCase("fit-checkpoint_is_a_directory", FileWriteError, OSError, ("'adir'", "directory"),
            dict(checkpoint="adir")),
    FitCase("fit-checkpoint_special_file", FileWriteError, OSError, ("'/dev/null'", "not a regular file"),
            dict(checkpoint="/dev/null")),
    FitCase("fit-checkpoint_file_as_folder", FileWriteError, OSError, ("'old.npz/c.npz'", "not a directory"),
            dict(checkpoint="old.npz/c.npz")),
    FitCase("fit-checkpoint_name_too_long", FileWriteError, OSError, (LONG[:40], "longer than"),
            dict(checkpoint=LONG)),
    FitCase("fit-checkpoint_empty", InputError, ValueError, ("checkpoint", "''"), dict(checkpoint="")),
    FitCase("fit-checkpoint_nul_byte", InputError, ValueError, ("checkpoint", "'a\\x00b.npz'", "NUL"),
            dict(checkpoint="a\0b.npz")),
    FitCase("fit-checkpoint_5", InputError, ValueError, ("checkpoint", "5"), dict(checkpoint=5)),
    FitCase("fit-checkpointing_nul_byte", InputError, ValueError, ("Checkpointing path", "NUL"),
            call=_nul_checkpointing),
    FitCase("fit-checkpoint_keep_best_missing_folder", FileWriteError, OSError, ("'gone/run.npz'",),
            dict(checkpoint=npl.Checkpointing("gone/run.npz", keep_best="loss"))),
    FitCase("fit-checkpoint_unwritable_folder", FileWriteError, OSError, ("'/sys/c.npz'", "Permission denied"),
            dict(checkpoint="/sys/c.npz"),
            marks=(pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs /sys (read-only for root too)"),)),
]


@pytest.fixture
def workdir(tmp_path: Any, monkeypatch: Any) -> Any:
    """A current folder holding an empty folder ``adir`` and a file ``old.npz``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "old.npz").write_bytes(b"the previous file")
    return tmp_path


def check_error(exc: BaseException, error: type, builtin: type, fragments: tuple[str, ...]) -> None:
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, NeuroplugError) and isinstance(exc, builtin)
    message = str(exc)
    assert "\n" not in message and ".tmp" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("case", [c.param() for c in FIT_CASES])
def test_fit_checks_every_argument_before_the_first_step(case: FitCase, workdir: Any) -> None:
    if case.call is not None:
        with pytest.raises(NeuroplugError) as info:
            case.call()
        check_error(info.value, case.error, case.builtin, case.fragments)
        return
    net = make_net(1, "identity") if case.regression else make_net()
    y = T0 if case.regression else Y0
    kwargs = dict(loss="mse" if case.regression else "cross_entropy", epochs=2, batch_size=4, seed=0)
    if "optimizer" not in case.fit and not case.regression:
        kwargs["optimizer"] = opt = used_optimizer()
        opt_state = copy.deepcopy(opt.get_state())
    else:
        opt = None
    kwargs.update(case.fit)
    weights, before = net.get_weights(), listing(workdir)
    with pytest.raises(NeuroplugError) as info:
        npl.fit(net, X0, y, **kwargs)
    check_error(info.value, case.error, case.builtin, case.fragments)
    assert all(np.array_equal(a, b) for a, b in zip(weights, net.get_weights())), "the weights changed"
    if opt is not None:
        assert state_equal(opt_state, opt.get_state()), "the optimizer's state changed"
    assert listing(workdir) == before, "files changed"


def test_a_declared_metric_can_be_monitored(workdir: Any) -> None:
    """The check is not stricter than training: a callback's declared metric may be monitored."""
    stop = npl.EarlyStopping(monitor="twice_loss", patience=0)
    npl.fit(make_net(), X0, Y0, loss="cross_entropy", epochs=3, batch_size=4, seed=0,
            callbacks=[Monitors(), stop], checkpoint=npl.Checkpointing("run.npz", keep_best="twice_loss"))
    assert stop.best_epoch is not None and os.path.exists("run.best.npz")


def test_the_fit_table_covers_the_examples_of_the_issue() -> None:
    ids = {c.id for c in FIT_CASES}
    assert {"fit-schedule_plateau_without_validation", "fit-early_stopping_without_validation",
            "fit-checkpoint_missing_folder", "fit-checkpoint_is_a_directory", "fit-callbacks_5",
            "fit-optimizer_abstract_class", "fit-early_stopping_monitor_5"} <= ids


# ====================================================================== class 2: paths
def _no_space(fh: Any) -> None:
    fh.write(b"half a file")
    raise OSError(errno.ENOSPC, "No space left on device")


@dataclass
class PathCase:
    """``save(net, path)`` (or ``what``) in the folder of :func:`workdir`: ``error`` naming ``path`` as given."""

    id: str
    path: Any
    error: type[NeuroplugError]
    builtin: type[BaseException]
    fragments: tuple[str, ...]  # besides repr(path) for a str path
    what: str = "save"  # save, checkpoint (Checkpoint.save) or atomic (atomic_write with _no_space)
    marks: tuple[Any, ...] = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


_root = pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else False,
                           reason="root may write any file")
_sys = pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs /sys (read-only for root too)")

PATH_CASES = [
    PathCase("save-missing_folder", "no/such/m.npz", FileWriteError, OSError, ("does not exist", "'no/such'")),
    PathCase("save-a_directory", "adir", FileWriteError, OSError, ("directory",)),
    PathCase("save-a_directory_with_slash", "adir/", FileWriteError, OSError, ("directory",)),
    PathCase("save-a_file_as_folder", "old.npz/m.npz", FileWriteError, OSError, ("not a directory",)),
    PathCase("save-dev_null", "/dev/null", FileWriteError, OSError, ("not a regular file",)),
    PathCase("save-dev_full", "/dev/full", FileWriteError, OSError, ("not a regular file",)),
    PathCase("save-unwritable_folder", "/sys/m.npz", FileWriteError, OSError, ("Permission denied",), marks=(_sys,)),
    PathCase("save-read_only_file", "read_only.npz", FileWriteError, OSError, ("read-only",), marks=(_root,)),
    PathCase("save-empty", "", InputError, ValueError, ("empty", "''")),
    PathCase("save-nul_byte", "m\0.npz", InputError, ValueError, ("NUL",)),
    PathCase("save-nul_byte_bytes", b"m\0.npz", InputError, ValueError, ("NUL", "'m\\x00.npz'")),
    PathCase("save-None", None, InputError, ValueError, ("None", "file path")),
    PathCase("save-5", 5, InputError, ValueError, ("5", "file path")),
    PathCase("save-name_too_long", LONG, FileWriteError, OSError, ("longer than",)),
    PathCase("save-disk_full_over_a_file", "old.npz", FileWriteError, OSError, ("No space left",), what="atomic"),
    PathCase("save-disk_full_new_file", "new.npz", FileWriteError, OSError, ("No space left",), what="atomic"),
    PathCase("save-checkpoint_missing_folder", "gone/c.npz", FileWriteError, OSError, ("checkpoint", "does not exist"),
             what="checkpoint"),
    PathCase("save-checkpoint_a_directory", "adir", FileWriteError, OSError, ("checkpoint", "directory"),
             what="checkpoint"),
    PathCase("save-checkpoint_None", None, InputError, ValueError, ("checkpoint", "None"), what="checkpoint"),
]


@pytest.fixture(scope="module")
def a_checkpoint(tmp_path_factory: Any) -> Any:
    path = tmp_path_factory.mktemp("ckpt") / "run.npz"
    npl.fit(make_net(), X0, Y0, loss="cross_entropy", epochs=1, batch_size=4, seed=0, checkpoint=str(path))
    return npl.load_checkpoint(path)


@pytest.mark.parametrize("case", [c.param() for c in PATH_CASES])
def test_a_path_that_cannot_be_written_is_named_and_nothing_changes(case: PathCase, workdir: Any,
                                                                      a_checkpoint: Any) -> None:
    (workdir / "read_only.npz").write_bytes(b"keep me")
    os.chmod(workdir / "read_only.npz", 0o444)
    before = listing(workdir)
    with pytest.raises(NeuroplugError) as info:
        if case.what == "save":
            npl.save(make_net(), case.path)
        elif case.what == "checkpoint":
            a_checkpoint.save(case.path)
        else:
            npl.serialization.atomic_write(case.path, _no_space, "the model")
    shown = (repr(case.path),) if isinstance(case.path, str) and len(case.path) < 100 else ()
    check_error(info.value, case.error, case.builtin, shown + case.fragments)
    if isinstance(info.value, FileWriteError):
        assert info.value.filename == case.path
    assert listing(workdir) == before, "a file was left behind or changed"


def test_a_long_valid_name_gets_a_valid_temporary_name(workdir: Any) -> None:
    """A 250-byte name is valid; the temporary file beside it must not be too long to exist."""
    name = "m" * 246 + ".npz"
    npl.save(make_net(), name)
    assert name in os.listdir(workdir)
    assert npl.load(name).count_params() == make_net().count_params()
    assert not [f for f in os.listdir(workdir) if f.endswith(".tmp")]


def test_check_writable_changes_nothing(workdir: Any) -> None:
    before = listing(workdir)
    assert npl.serialization.check_writable("new.npz") == "new.npz"
    assert npl.serialization.check_writable(workdir / "old.npz") == str(workdir / "old.npz")
    assert listing(workdir) == before


def test_a_read_only_file_is_not_replaced(workdir: Any, monkeypatch: Any) -> None:
    """As save-read_only_file, also where the tests run as root (for whom every file is writable)."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == "old.npz" and mode == os.W_OK
                        else real_access(p, mode, **kw))
    before = listing(workdir)
    with pytest.raises(FileWriteError) as info:
        npl.save(make_net(), "old.npz")
    check_error(info.value, FileWriteError, OSError, ("'old.npz'", "read-only"))
    assert listing(workdir) == before


# ====================================================================== class 7: the command line
TRAIN = ["train", "--epochs", "1", "--layers", "4", "--no-progress"]

# (id, argv, exit status, fragments of the last stderr line); run in the folder of `workdir`
CLI_CASES = [
    ("cli-seed_negative", [*TRAIN, "--seed", "-1"], 2, ["--seed", "'-1'", ">= 0"]),
    ("cli-seed_text", [*TRAIN, "--seed", "x"], 2, ["--seed", "'x'", ">= 0"]),
    ("cli-spec_seed_negative", ["spec", "--seed", "-3"], 2, ["--seed", "'-3'", ">= 0"]),
    ("cli-save_missing_folder", [*TRAIN, "--save", "no/such/m.npz"], 3, ["'no/such/m.npz'", "does not exist"]),
    ("cli-save_a_directory", [*TRAIN, "--save", "adir"], 3, ["'adir'", "directory"]),
    ("cli-save_dev_full", [*TRAIN, "--save", "/dev/full"], 3, ["'/dev/full'", "not a regular file"]),
    ("cli-save_empty", [*TRAIN, "--save", ""], 2, ["''", "empty"]),
    ("cli-save_name_too_long", [*TRAIN, "--save", LONG], 3, [LONG[:50], "longer than"]),
    ("cli-save_file_as_folder", [*TRAIN, "--save", "old.npz/m.npz"], 3, ["'old.npz/m.npz'", "not a directory"]),
    ("cli-checkpoint_missing_folder", [*TRAIN, "--checkpoint", "gone/c.npz"], 3, ["'gone/c.npz'", "does not exist"]),
    ("cli-checkpoint_a_directory", [*TRAIN, "--checkpoint", "adir"], 3, ["'adir'", "directory"]),
    ("cli-resume_from_a_directory", [*TRAIN, "--checkpoint", "adir", "--resume"], 3, ["'adir'", "directory"]),
    ("cli-spec_output_missing_folder", ["spec", "activation:tanh", "-o", "no/such/r.txt"], 3,
     ["'no/such/r.txt'", "does not exist"]),
    ("cli-spec_output_a_directory", ["spec", "activation:tanh", "-o", "adir"], 3, ["'adir'", "directory"]),
    ("cli-docs_output_a_file", ["docs", "--output", "old.npz"], 3, ["'old.npz'", "not a folder"]),
    ("cli-docs_output_below_a_file", ["docs", "--output", "old.npz/site"], 3, ["'old.npz/site'", "not a folder"]),
]
if os.path.isdir("/sys"):
    CLI_CASES += [
        ("cli-save_unwritable_folder", [*TRAIN, "--save", "/sys/m.npz"], 3, ["'/sys/m.npz'", "Permission denied"]),
        ("cli-docs_output_unwritable", ["docs", "--output", "/sys/site"], 3, ["'/sys/site'", "Permission denied"]),
    ]


def run_main(argv: list[str]) -> int:
    return main(argv)  # argparse's own errors included: main returns their status


@pytest.mark.parametrize("argv, status, fragments", [pytest.param(a, s, f, id=i) for i, a, s, f in CLI_CASES])
def test_cli_errors_are_one_line_with_a_documented_status(argv, status, fragments, workdir, capsys):
    before = listing(workdir)
    assert run_main(argv) == status
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    lines = err.splitlines()
    command = argv[0]
    assert lines and lines[-1].startswith(f"neuroplug {command}: error: "), err
    assert all(line.startswith(("usage:", " ")) for line in lines[:-1]), err  # argparse's usage only
    for fragment in fragments:
        assert fragment in lines[-1], f"{fragment!r} not in {lines[-1]!r}"
    assert out == "", "the output was checked only after work had started"
    assert listing(workdir) == before
    assert status in npl.cli.EXIT_CODES.values()


def test_every_exit_status_is_documented() -> None:
    import pathlib

    page = (pathlib.Path(__file__).parents[1] / "docs" / "guide" / "cli.rst").read_text(encoding="utf-8")
    for status in npl.cli.EXIT_CODES.values():
        assert f"\n{status} " in page, f"exit status {status} is not in docs/guide/cli.rst"


def _run(argv: list[str], stdout: Any = subprocess.PIPE, env: dict[str, str] | None = None,
         cwd: Any = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NEUROPLUG_DEBUG", None) if env is None else None
    return subprocess.run([sys.executable, "-m", "neuroplug", *argv], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env=full_env, cwd=cwd, timeout=300)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [
    pytest.param(["list"], id="cli-dev_full_list"),
    pytest.param(["list", "--json"], id="cli-dev_full_list_json"),
    pytest.param(["plugins", "--json"], id="cli-dev_full_plugins"),
    pytest.param(["--help"], id="cli-dev_full_help"),
    pytest.param([*TRAIN], id="cli-dev_full_train"),
])
def test_a_full_standard_output_is_one_line_and_status_3(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = _run(argv, stdout=full)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "cannot write to the standard output: No space left on device" in lines[0], proc.stderr


@pytest.mark.parametrize("how", ["flag", "flag_after_command", "env"])
def test_debug_shows_the_traceback_and_keeps_the_status(how: str, tmp_path: Any) -> None:
    argv = [*TRAIN, "--save", "no/such/m.npz"]
    env = None
    if how == "flag":
        argv = ["--debug", *argv]
    elif how == "flag_after_command":
        argv = [*argv, "--debug"]
    else:
        env = {"NEUROPLUG_DEBUG": "1"}
    proc = _run(argv, env=env, cwd=tmp_path)
    assert proc.returncode == 3
    assert "Traceback (most recent call last)" in proc.stderr and "FileWriteError" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("neuroplug train: error: cannot write the model")
    quiet = _run([*TRAIN, "--save", "no/such/m.npz"], cwd=tmp_path)
    assert quiet.returncode == 3 and len(quiet.stderr.splitlines()) == 1


def test_an_internal_error_is_one_line_status_4_with_a_hint(monkeypatch: Any, capsys: Any) -> None:
    def broken(args: Any) -> int:
        raise KeyError("oops")

    monkeypatch.setattr(npl.cli.commands, "_cmd_list", broken)
    monkeypatch.delenv("NEUROPLUG_DEBUG", raising=False)
    assert main(["list"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "KeyError" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["list", "--debug"]) == 4
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_model_that_cannot_be_saved_after_training_is_saved_elsewhere(workdir: Any, monkeypatch: Any,
                                                                       capsys: Any) -> None:
    """The folder of --save disappears during training: the model is written elsewhere, and said where."""
    import shutil

    (workdir / "out").mkdir()
    real_fit = npl.training.fit

    def fit_then_remove_the_folder(*args: Any, **kwargs: Any) -> Any:
        history = real_fit(*args, **kwargs)
        shutil.rmtree(workdir / "out")
        return history

    monkeypatch.setattr(npl.training, "fit", fit_then_remove_the_folder)
    assert main([*TRAIN, "--save", "out/m.npz"]) == 3
    line = capsys.readouterr().err.splitlines()[-1]
    assert "'out/m.npz'" in line and "does not exist" in line and "saved to" in line, line
    saved = line.split("saved to ")[1].split(" instead")[0].strip("'")
    assert os.path.dirname(saved) == str(workdir) and npl.load(saved).count_params() > 0


def test_a_checkpoint_that_cannot_be_written_during_training_loses_nothing(workdir: Any, monkeypatch: Any,
                                                                         capsys: Any) -> None:
    """The disk fills up at the first checkpoint (after an epoch): the network is written elsewhere."""
    from neuroplug.serialization import atomic_write

    monkeypatch.setattr(npl.checkpoint.Checkpoint, "save",
                        lambda self, path: atomic_write(path, _no_space, "the checkpoint"))
    assert main([*TRAIN[:2], "3", *TRAIN[3:], "--checkpoint", "run.npz"]) == 3
    line = capsys.readouterr().err.splitlines()[-1]
    assert "'run.npz'" in line and "No space left" in line and "saved to" in line, line
    saved = line.split("saved to ")[1].split(" instead")[0].strip("'")
    assert npl.load(saved).count_params() > 0
    assert not os.path.exists("run.npz") and not list(workdir.glob("*.tmp"))


# ====================================================================== class 5: machine-readable output
NOISY_PLUGIN = '''
import os
import numpy as np
import neuroplug

print("noisy: imported")
os.write(1, b"noisy: raw write to fd 1\\n")


class Noisy(neuroplug.Activation):
    def __init__(self):
        print("noisy: constructed")

    def forward(self, z, out=None):
        print("noisy: forward")
        return np.multiply(z, 1.0, out=out)

    def derivative(self, z, a):
        return np.ones_like(z)


@neuroplug.hookimpl
def neuroplug_activations():
    print("noisy: hook called")
    yield neuroplug.ActivationRegistration(name="noisy", factory=Noisy, summary="prints everywhere")
'''


@pytest.fixture(scope="module")
def noisy_site(tmp_path_factory: Any) -> Any:
    """A folder that, on PYTHONPATH, installs the distribution ``noisy`` whose plugin prints everywhere."""
    site = tmp_path_factory.mktemp("site")
    (site / "noisy_plugin.py").write_text(textwrap.dedent(NOISY_PLUGIN), encoding="utf-8")
    info = site / "noisy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: noisy\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[neuroplug]\nnoisy = noisy_plugin\n", encoding="utf-8")
    return site


def _parse_json(text: str) -> Any:
    import json

    return json.loads(text)


def _parse_xml(text: str) -> Any:
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)


@pytest.mark.parametrize("argv, parse, listed", [
    pytest.param(["list", "--json"], _parse_json,
                 lambda doc: any(r["name"] == "noisy" for r in doc["components"]), id="json-list"),
    pytest.param(["plugins", "--json"], _parse_json,
                 lambda doc: any(p["distribution"] == "noisy" and p["status"] == "loaded" for p in doc),
                 id="json-plugins"),
    pytest.param(["spec", "activation:noisy", "--format", "json"], _parse_json,
                 lambda doc: doc["counts"]["passed"] > 0, id="json-spec"),
    pytest.param(["spec", "activation:noisy", "--format", "junit"], _parse_xml,
                 lambda doc: int(doc.get("tests")) > 0, id="json-spec_junit"),
    pytest.param(["list", "--kind", "activation"], lambda text: text.splitlines(),
                 lambda lines: lines[0].split()[0] == "KIND" and any(" noisy " in line for line in lines),
                 id="json-list_table"),
])
def test_what_a_plugin_prints_does_not_reach_machine_output(argv, parse, listed, noisy_site) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPLUG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(noisy_site), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-m", "neuroplug", *argv], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "noisy: " not in proc.stdout
    assert "noisy: imported" in proc.stderr and "noisy: raw write to fd 1" in proc.stderr  # the plugin did print
    assert listed(parse(proc.stdout))
