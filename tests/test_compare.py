"""neuroplug compare (issue 14): the runs of a grid, bit-identical on every backend, resumable, never aborted by one run."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.comparison import compare
from neuroplug.comparison.grid import check_grid
from neuroplug.comparison.sweep import RESULTS_FILE, plan, read_records
from neuroplug.errors import ConfigError, InputError

SMALL = dict(epochs=3, hidden=[8], batch_size=32, progress=False)


def _comparable(record):
    """What a run computed (not where or how fast)."""
    return {k: record[k] for k in ("key", "label", "data", "seed", "status", "error", "metrics", "history")}


# ---------------------------------------------------------------------- the grid
def test_the_runs_are_combinations_times_data_sets_times_seeds():
    specs = plan({"activation": ["relu", "tanh"], "lr": [0.01, 0.1]}, ["moons", "circles"], 3, {})
    assert len(specs) == 2 * 2 * 2 * 3
    assert len({s["key"] for s in specs}) == len(specs)
    assert specs[0]["label"] == "activation=relu, lr=0.01" and specs[0]["setup"]["init"] == "he_uniform"
    again = plan({"activation": ["relu", "tanh"], "lr": [0.01, 0.1]}, ["moons", "circles"], 3, {})
    assert [s["key"] for s in again] == [s["key"] for s in specs]  # keys are stable
    other = plan({"activation": ["relu", "tanh"], "lr": [0.01, 0.1]}, ["moons", "circles"], 3, {"epochs": 5})
    assert not {s["key"] for s in other} & {s["key"] for s in specs}  # another setting: other runs


@pytest.mark.parametrize("grid, words", [
    ({}, "non-empty dict"),
    ({"activaton": ["relu"]}, "did you mean 'activation'"),
    ({"activation": "relu"}, "non-empty list"),
    ({"activation": []}, "non-empty list"),
    ({"activation": ["relu", "relu"]}, "twice"),
    ({"activation": [npl.create("activation", "relu")]}, "plain JSON"),
    ({"lr": [0.1, -1]}, "> 0"),
    ({"epochs": [2.5]}, "integers"),
    ({"hidden": [[8, 0]]}, "layer sizes"),
])
def test_a_bad_grid_is_refused_naming_what_is_wrong(grid, words):
    with pytest.raises(ConfigError, match=words):
        check_grid(grid)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(seeds=0), InputError, "seeds"),
    (dict(seeds=[1, 1]), InputError, "distinct"),
    (dict(data=["no_such_data"]), InputError, "no_such_data"),
    (dict(backend="spark"), InputError, "backend"),
    (dict(jobs=0), InputError, "jobs"),
    (dict(baseline="tanh"), InputError, "baseline='tanh' is not a value of the grid"),
    (dict(data=["moons", "moons"]), InputError, "more than once"),
    (dict(hidden=[]), ConfigError, "layer sizes"),
    (dict(grid={"activation": ["no_such_activation"]}), npl.errors.ComponentNotFoundError, "no_such_activation"),
])
def test_bad_arguments_are_refused_before_any_run(tmp_path, kwargs, error, words):
    args = dict(grid={"activation": ["relu"]}, data=["moons"], seeds=1, output=str(tmp_path / "out"), **SMALL)
    args.update(kwargs)
    with pytest.raises(error, match=words):
        compare(**args)
    assert not (tmp_path / "out" / RESULTS_FILE).exists()


# ---------------------------------------------------------------------- the backends
def test_every_backend_computes_the_same_bits():
    grid = {"activation": ["relu", "tanh"]}
    sequential = compare(grid, data=["moons"], seeds=2, backend="sequential", **SMALL)
    local = compare(grid, data=["moons"], seeds=2, backend="local", jobs=2, **SMALL)
    assert [_comparable(r) for r in sequential.records] == [_comparable(r) for r in local.records]
    assert all(r["status"] == "ok" and r["metrics"]["test_accuracy"] > 0.5 for r in local.records)
    assert str(os.getpid()) not in {r["worker"].split(":")[1] for r in local.records}  # ran in worker processes


def test_a_component_registered_in_process_is_refused_for_worker_processes():
    class Twice(type(npl.create("activation", "relu"))):
        """relu, registered in this process only."""

    with npl.isolated_registry():
        npl.register(Twice, kind="activation", name="twice_relu")
        with pytest.raises(ConfigError, match="'twice_relu' is registered in this process only"):
            compare({"activation": ["twice_relu"]}, data=["moons"], seeds=2, backend="local", jobs=2, **SMALL)
        done = compare({"activation": ["twice_relu"]}, data=["moons"], seeds=1, backend="sequential", **SMALL)
        assert done.records[0]["status"] == "ok"


def test_a_run_that_diverges_or_fails_is_recorded_and_the_sweep_goes_on(tmp_path):
    results = compare({"lr": [0.05, 1e9]}, data=["moons"], seeds=2, backend="sequential",
                      output=str(tmp_path), **SMALL)
    by_status = {}
    for r in results.records:
        by_status.setdefault(r["status"], []).append(r)
    assert len(by_status["ok"]) == 2 and len(by_status["diverged"]) == 2
    assert all("DivergenceError" in r["error"] and r["metrics"]["test_accuracy"] is None
               for r in by_status["diverged"])
    assert len(read_records(str(tmp_path / RESULTS_FILE))) == 4


# ---------------------------------------------------------------------- resumable and incremental
def test_a_rerun_runs_only_what_is_missing(tmp_path):
    out = str(tmp_path / "sweep")
    grid = {"activation": ["relu", "tanh"]}
    first = compare(grid, data=["moons"], seeds=2, backend="sequential", output=out, **SMALL)
    assert first.ran == 4 and len(first.records) == 4
    again = compare(grid, data=["moons"], seeds=2, backend="sequential", output=out, **SMALL)
    assert again.ran == 0 and [_comparable(r) for r in again.records] == [_comparable(r) for r in first.records]
    more = compare(grid, data=["moons"], seeds=3, backend="sequential", output=out, **SMALL)  # a new seed
    assert more.ran == 2 and len(more.records) == 6
    wider = compare({"activation": ["relu", "tanh", "softsign"]}, data=["moons"], seeds=3, backend="sequential",
                    output=out, **SMALL)  # a new component
    assert wider.ran == 3 and len(wider.records) == 9
    assert len(read_records(os.path.join(out, RESULTS_FILE))) == 9
    finer = compare({"activation": ["relu"], "lr": [0.05, 0.1]}, data=["moons"], seeds=3, backend="sequential",
                    output=out, **SMALL)  # lr=0.05 is the default: those runs are done, named anew
    assert finer.ran == 3 and [r["label"] for r in finer.records[:3]] == ["activation=relu, lr=0.05"] * 3


def test_a_run_cut_short_by_a_crash_is_run_again(tmp_path):
    out = str(tmp_path)
    grid = {"activation": ["relu"]}
    compare(grid, data=["moons"], seeds=2, backend="sequential", output=out, **SMALL)
    path = os.path.join(out, RESULTS_FILE)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    with open(path, "w", encoding="utf-8") as fh:  # the second line half written, no newline
        fh.write(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    with pytest.warns(RuntimeWarning, match="not a complete record"):
        rerun = compare(grid, data=["moons"], seeds=2, backend="sequential", output=out, **SMALL)
    assert rerun.ran == 1 and len(rerun.records) == 2
    assert json.loads(lines[1])["key"] == rerun.records[1]["key"]
    assert _comparable(json.loads(lines[1])) == _comparable(rerun.records[1])  # the same bits, run again
    with pytest.warns(RuntimeWarning):  # the cut line stays in the file, on its own line
        assert len(read_records(path)) == 2


def test_results_summary_and_report(tmp_path):
    results = compare({"activation": ["relu", "tanh"]}, data=["moons", "regression"], seeds=3,
                      backend="sequential", output=str(tmp_path), baseline="relu", **SMALL)
    rows = results.summary()
    assert [(r["data"], r["label"]) for r in rows] == [("moons", "activation=relu"), ("moons", "activation=tanh"),
                                                       ("regression", "activation=relu"),
                                                       ("regression", "activation=tanh")]
    assert all(r["runs"] == 3 for r in rows)
    assert "activation=tanh" in results.table()
    assert (tmp_path / "index.html").exists() and (tmp_path / "summary.csv").exists()
    regression = [r for r in results.records if r["data"] == "regression"]
    assert all(r["task"] == "regression" and r["metrics"]["test_accuracy"] is None for r in regression)
    assert "12 runs: 12 ok, 0 diverged, 0 failed; 12 run now" in repr(results)


def test_a_baseline_given_by_component_name_or_number_is_matched(tmp_path):
    grid = {"activation": [{"name": "leaky_relu", "config": {"alpha": 0.1}}, "relu"]}
    results = compare(grid, data=["moons"], seeds=2, backend="sequential", baseline="leaky_relu",
                      output=str(tmp_path / "a"), **SMALL)
    assert (tmp_path / "a" / "paired.csv").exists() and len(results.paired("leaky_relu")) == 1
    with pytest.raises(InputError, match="may be one of: leaky_relu, relu"):
        compare(grid, data=["moons"], seeds=2, backend="sequential", baseline="leaky_relu(alpha=0.1)", **SMALL)
    compare({"lr": [0.01, 0.1]}, data=["moons"], seeds=1, backend="sequential", baseline="0.1",
            output=str(tmp_path / "b"), **SMALL)
    assert (tmp_path / "b" / "paired.csv").exists()


def test_two_files_of_one_name_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        X = np.random.default_rng(0).normal(size=(40, 2))
        np.savez(tmp_path / folder / "d.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    with pytest.raises(InputError, match="'d.npz' more than once"):
        compare({"activation": ["relu"]}, data=[str(tmp_path / "a" / "d.npz"), str(tmp_path / "b" / "d.npz")],
                seeds=1, backend="sequential", **SMALL)


def test_user_data_from_a_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    np.savez(tmp_path / "mine.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    results = compare({"activation": ["relu"]}, data=[str(tmp_path / "mine.npz")], seeds=1, backend="sequential",
                      **SMALL)
    assert results.records[0]["data"] == "mine.npz" and results.records[0]["status"] == "ok"
    # a CSV with its target named, as neuroplug train --target
    with open(tmp_path / "mine.csv", "w", encoding="utf-8") as fh:
        fh.write("label,a,b,c\n" + "".join(f"{int(r[0] > 0)},{r[0]},{r[1]},{r[2]}\n" for r in X))
    csv = compare({"activation": ["relu"]}, data=[str(tmp_path / "mine.csv")], target="label", seeds=1,
                  backend="sequential", **SMALL)
    assert csv.records[0]["status"] == "ok" and csv.records[0]["task"] == "classification"  # not column c


# ---------------------------------------------------------------------- the command line
def test_the_command_line_runs_a_comparison_and_resumes(tmp_path, capsys):
    from neuroplug.cli import main

    out = str(tmp_path / "report")
    argv = ["compare", "--activation", "relu,tanh", "--data", "moons", "--seeds", "2", "--epochs", "3",
            "--layers", "8", "--jobs", "1", "--output", out, "--baseline", "relu", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "activation=tanh" in printed and "4 runs: 4 ok" in printed and "4 run now" in printed
    assert main(argv) == 0
    assert "0 run now" in capsys.readouterr().out
    assert os.path.exists(os.path.join(out, "index.html"))


@pytest.mark.parametrize("argv, words", [
    (["--seeds", "0"], "--seeds"),
    (["--lr", "0.1,x"], "--lr"),
    (["--activation", "nope"], "nope"),
    (["--grid", "[1]"], "JSON object"),
    (["--activation", "relu", "--grid", '{"activation": ["tanh"]}'], "give it once"),
    (["--grid", '{"lr": 0.1}'], "non-empty list"),
    (["--grid", '{"activation": {"name": "relu"}}'], "non-empty list"),
    (["--grid", '{"fo": [1], "lr": [0.1, 0.2]}'], "cannot vary 'fo'"),
    (["--layers", "4", "--grid", '{"hidden": [[4]], "lr": [0.1, 0.2]}'], "give it once"),
])
def test_command_line_errors_are_one_line(tmp_path, capsys, argv, words):
    from neuroplug.cli import main

    status = main(["compare", "--data", "moons", "--epochs", "2", "--output", str(tmp_path / "o"),
                   "--no-progress", *argv])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and words in err.splitlines()[-1]
