"""The command line: list, plugins, train, and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from neuroplug.cli import main

from test_package import PROMISED


def test_list_shows_every_builtin_with_its_distribution(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["components"]
    listed = {(r["kind"], n) for r in rows for n in [r["name"], *r["aliases"]]}
    for kind, names in PROMISED.items():
        for name in names:
            assert (kind, name) in listed
    assert {r["distribution"] for r in rows} == {"neuroplug"}
    assert main(["list"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["KIND", "NAME", "ALIASES", "PLUGIN", "DISTRIBUTION", "STATUS"]
    assert any(line.split()[:2] == ["activation", "tanh"] for line in table.splitlines())


def test_plugins_lists_builtin_plugins(capsys):
    assert main(["plugins", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)
    assert {p["plugin"] for p in plugins} >= {"activations", "initializers", "losses", "schedules", "optimizers"}
    assert all(p["status"] == "loaded" and p["components"] > 0 for p in plugins if p["builtin"])


def test_train_small_run_and_save(tmp_path, capsys):
    model = tmp_path / "m.npz"
    code = main(["train", "--epochs", "3", "--no-progress", "--layers", "16", "--save", str(model),
                 "-P", "schedule.step_size=1", "-P", "optimizer.momentum=0.9", "--lr", "0.1"])
    out = capsys.readouterr().out
    assert code == 0 and "held-out accuracy" in out and model.exists()
    acc = float(out.split("held-out accuracy: ")[1].split()[0])
    assert acc > 80


def test_train_on_user_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    lines = ["a,b,c,label"] + [f"{a},{b},{c},{t}" for (a, b, c), t in zip(X, y)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines))
    assert main(["train", "--data", str(path), "--target", "label", "--epochs", "20", "--no-progress",
                 "--lr", "0.2"]) == 0
    out = capsys.readouterr().out
    assert float(out.split("held-out accuracy: ")[1].split()[0]) > 90


@pytest.mark.parametrize("argv, message", [
    (["train", "--activation", "tahn"], "unknown activation 'tahn'. Did you mean 'tanh'"),
    (["train", "--lr", "-1"], "lr must be > 0"),
    (["train", "--epochs", "0"], "epochs must be >= 1"),
    (["train", "-P", "loss.beta=-1", "--loss", "smooth_l1"], "beta"),
    (["train", "--data", "missing.csv"], "cannot be read"),
    (["train", "--target", "x"], "--target needs --data"),
])
def test_bad_input_is_one_line_and_exit_status_2(argv, message, capsys):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_csv_errors(tmp_path, capsys):
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b,y\n1,2,0\n1,2\n")
    assert main(["train", "--data", str(ragged), "--no-progress"]) == 2
    assert "line 3: 2 values" in capsys.readouterr().err
    missing = tmp_path / "m.csv"
    missing.write_text("a,b,y\n1,2,0\n")
    assert main(["train", "--data", str(missing), "--target", "label", "--no-progress"]) == 2
    assert "'label' is not in the header" in capsys.readouterr().err


def test_console_script_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "neuroplug", "train", "--activation", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "unknown activation" in proc.stderr


@pytest.mark.parametrize("argv, status, stream, fragment", [
    pytest.param(["--help"], 0, "out", "usage: neuroplug", id="help"),
    pytest.param(["train", "--help"], 0, "out", "--epochs", id="train-help"),
    pytest.param(["--version"], 0, "out", "neuroplug ", id="version"),
    pytest.param(["train", "--epochs", "x"], 2, "err", "invalid int value: 'x'", id="bad-flag-value"),
    pytest.param(["frobnicate"], 2, "err", "invalid choice: 'frobnicate'", id="unknown-command"),
])
def test_main_returns_the_status_of_argparse_exits(argv, status, stream, fragment, capsys):
    """main() returns the exit status as its docstring says, argparse's exits included (it never
    raises SystemExit, so a program calling it goes on)."""
    assert main(argv) == status
    captured = capsys.readouterr()
    assert fragment in getattr(captured, stream)
