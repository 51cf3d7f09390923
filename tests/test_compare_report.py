"""neuroplug.comparison.report: t quantiles, mean ± CI, the summary, paired differences, tables
and the HTML report -- on synthetic run records (no training)."""

from __future__ import annotations

import builtins
import csv
import html
import html.parser
import json
import math
import os
import subprocess
import sys

import pytest

from neuroplug.comparison import report as R


# ---------------------------------------------------------------------- synthetic records
def record(data="moons", act="relu", init="he_uniform", seed=0, *, task="classification", status="ok",
           acc=0.9, loss=0.3, seconds=1.0, epochs=5):
    """One run record as the runner writes it (metrics null unless ok)."""
    ok = status == "ok"
    error = None if ok else ("DivergenceError: x" if status == "diverged" else "RuntimeError: x")
    curve = [loss * (1 + 2.0 / (e + 1)) for e in range(epochs)]
    history = {"loss": curve, "val_loss": curve}
    if task == "classification":
        history["val_accuracy"] = [acc] * epochs
    init_name = init["name"] if isinstance(init, dict) else init
    return {"key": f"{data}/{act}/{init_name}/{seed}", "label": f"activation={act}, init={init_name}",
            "combination": {"activation": act, "init": init}, "data": data, "seed": seed, "task": task,
            "status": status, "error": error,
            "metrics": {"test_accuracy": acc if ok and task == "classification" else None,
                        "test_loss": loss if ok else None},
            "history": history if ok else {"loss": [loss, math.inf]}, "fit_seconds": seconds,
            "settings": {"epochs": epochs, "lr": 0.05}}


GLOROT = {"name": "glorot", "config": {"gain": 1.0}}


def grid_records(seeds=(42, 3, 100, 7)):
    """activation x init (relu/tanh x he_uniform/glorot) on moons; tanh is 0.05 better with
    he_uniform and indistinguishable (noise) with glorot. Records in the order of ``seeds``;
    the i-th smallest seed has the differences 0.05 + 0.001 i and NOISE[i]."""
    recs = []
    for seed in seeds:
        i = sorted(seeds).index(seed)
        base = 0.60 + 0.002 * seed  # the seed effect both members of a pair share
        recs.append(record(act="relu", init="he_uniform", seed=seed, acc=base))
        recs.append(record(act="tanh", init="he_uniform", seed=seed, acc=base + 0.05 + 0.001 * i))
        recs.append(record(act="relu", init=GLOROT, seed=seed, acc=base))
        recs.append(record(act="tanh", init=GLOROT, seed=seed, acc=base + NOISE[i]))
    return recs


NOISE = [0.01, -0.012, 0.009, -0.008, 0.011]


# ---------------------------------------------------------------------- t quantiles, mean_ci
@pytest.mark.parametrize("q, df, expected", [
    (0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 5, 2.5706), (0.975, 10, 2.2281),
    (0.975, 29, 2.0452), (0.975, 100, 1.9840), (0.995, 3, 5.8409), (0.95, 7, 1.8946),
    (0.975, 5000, 1.9604), (0.025, 5, -2.5706), (0.5, 4, 0.0)])
def test_t_quantile_known_values(q, df, expected):
    assert R.t_quantile(q, df) == pytest.approx(expected, rel=1e-3, abs=1e-9)


def test_t_quantile_is_continuous_across_the_exact_and_series_ranges():
    assert R.t_quantile(0.975, 1000) == pytest.approx(1.962339, rel=1e-6)
    assert R.t_quantile(0.975, 1001) == pytest.approx(1.962337, rel=1e-6)


@pytest.mark.parametrize("q, df, name", [(1.0, 5, "q"), (0.0, 5, "q"), (0.975, 0, "df"),
                                         (0.975, math.inf, "df"), ("0.9", 5, "q")])
def test_t_quantile_refuses_bad_arguments(q, df, name):
    with pytest.raises(ValueError, match=f"{name}="):
        R.t_quantile(q, df)


def test_mean_ci_known_data():
    # mean 2.5, s = 1.290994, t_{0.975,3} = 3.182446: half width 3.182446 * 1.290994 / 2
    mean, half = R.mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == pytest.approx(2.5)
    assert half == pytest.approx(2.054260, rel=1e-5)
    assert R.mean_ci([1, 2, 3, 4], confidence=0.99)[1] == pytest.approx(5.840909 * 1.290994 / 2, rel=1e-5)
    assert R.mean_ci([5.0, 5.0, 5.0]) == (5.0, 0.0)


def test_mean_ci_ignores_none_and_nan_and_needs_two_values():
    assert R.mean_ci([1.0, None, 2.0, math.nan, 3.0, 4.0]) == pytest.approx(R.mean_ci([1, 2, 3, 4]))
    mean, half = R.mean_ci([0.7, None])
    assert mean == 0.7 and math.isnan(half)
    assert all(math.isnan(v) for v in R.mean_ci([None, math.nan]))
    with pytest.raises(ValueError, match="confidence=1.5"):
        R.mean_ci([1, 2], confidence=1.5)
    with pytest.raises(ValueError, match=r"values\[1\]"):
        R.mean_ci([1, "two"])


# ---------------------------------------------------------------------- summarize
def test_summarize_counts_and_means_over_ok_runs():
    recs = [record(seed=0, acc=0.8, loss=0.4, seconds=2.0),
            record(data="friedman", task="regression", seed=0, loss=1.0),
            record(seed=1, acc=0.9, loss=0.2, seconds=4.0),
            record(seed=2, status="diverged", seconds=100.0),
            record(seed=3, status="failed"),
            record(act="tanh", seed=0, status="failed"),
            record(data="friedman", task="regression", seed=1, loss=3.0)]
    rows = R.summarize(recs)
    assert [(r["data"], r["label"]) for r in rows] == [
        ("moons", "activation=relu, init=he_uniform"), ("friedman", "activation=relu, init=he_uniform"),
        ("moons", "activation=tanh, init=he_uniform")]
    assert all(list(r) == list(R.SUMMARY_COLUMNS) for r in rows)
    relu = rows[0]
    assert (relu["runs"], relu["ok"], relu["diverged"], relu["failed"]) == (4, 2, 1, 1)
    assert relu["acc_mean"] == pytest.approx(0.85)
    assert relu["acc_ci"] == pytest.approx(12.7062 * math.sqrt(0.005) / math.sqrt(2), rel=1e-4)
    assert relu["loss_mean"] == pytest.approx(0.3)
    assert relu["seconds_mean"] == pytest.approx(3.0)  # the diverged run's 100 s is not in it
    reg = rows[1]
    assert math.isnan(reg["acc_mean"]) and math.isnan(reg["acc_ci"])
    assert reg["loss_mean"] == pytest.approx(2.0)
    none_ok = rows[2]
    assert (none_ok["runs"], none_ok["ok"], none_ok["failed"]) == (1, 0, 1)
    assert all(math.isnan(none_ok[k]) for k in ("acc_mean", "acc_ci", "loss_mean", "loss_ci", "seconds_mean"))


@pytest.mark.parametrize("call", [R.summarize, lambda recs: R.paired(recs, "relu"),
                                  lambda recs: R.write_report(recs, "unused-folder")])
def test_no_records_is_an_error(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="no results"):
        call([])
    assert not (tmp_path / "unused-folder").exists()


@pytest.mark.parametrize("change, message", [
    ({"status": "exploded"}, r"records\[1\]\['status'\].*'exploded'"),
    ({"seed": "3"}, r"records\[1\]\['seed'\]"),
    ({"metrics": {"test_accuracy": "high"}}, r"records\[1\]\['metrics'\]\['test_accuracy'\]"),
    ({"history": {"loss": [0.5, "x"]}}, r"records\[1\]\['history'\]\['loss'\]\[1\]")])
def test_a_malformed_record_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        R.summarize([record(), {**record(), **change}])


# ---------------------------------------------------------------------- paired
def test_paired_pairs_each_combination_with_its_baseline_partner_by_seed():
    rows = R.paired(grid_records(), "relu")
    assert [(r["label"], r["baseline_label"]) for r in rows] == [
        ("activation=tanh, init=he_uniform", "activation=relu, init=he_uniform"),
        ("activation=tanh, init=glorot", "activation=relu, init=glorot")]
    clear, noise = rows
    assert all(list(r) == list(R.PAIRED_COLUMNS) for r in rows)
    assert clear["metric"] == "test_accuracy" and clear["n_pairs"] == 4
    # seed order, not record order (the records come in seeds 42, 3, 100, 7)
    assert clear["diffs"] == pytest.approx([0.050, 0.051, 0.052, 0.053])
    assert clear["mean_diff"] == pytest.approx(0.0515)
    assert clear["distinguishable"] is True and clear["better"] is True
    assert noise["diffs"] == pytest.approx([0.01, -0.012, 0.009, -0.008])
    assert noise["distinguishable"] is False and noise["better"] is None
    assert noise["ci"] > abs(noise["mean_diff"])


def test_paired_baseline_by_the_name_of_a_dict_value():
    rows = R.paired(grid_records(), "glorot")
    assert [(r["label"], r["baseline_label"]) for r in rows] == [
        ("activation=relu, init=he_uniform", "activation=relu, init=glorot"),
        ("activation=tanh, init=he_uniform", "activation=tanh, init=glorot")]
    assert rows[0]["diffs"] == pytest.approx([0, 0, 0, 0])
    assert rows[0]["distinguishable"] is False


def test_paired_skips_a_seed_without_an_ok_partner():
    recs = grid_records(seeds=(4, 3, 2, 1, 0))
    recs = [({**r, "status": "diverged", "metrics": {"test_accuracy": None, "test_loss": None}}
             if r["seed"] == 2 and r["label"] == "activation=relu, init=he_uniform" else r) for r in recs]
    recs = [r for r in recs if not (r["seed"] == 4 and r["label"] == "activation=relu, init=he_uniform")]
    clear = R.paired(recs, "relu")[0]
    assert clear["n_pairs"] == 3
    assert clear["diffs"] == pytest.approx([0.050, 0.051, 0.053])  # seeds 0, 1, 3


def test_paired_regression_lower_loss_is_better_and_one_pair_is_not_enough():
    recs = []
    for seed in range(3):
        recs.append(record(data="friedman", task="regression", act="relu", seed=seed, loss=1.0 + seed))
        recs.append(record(data="friedman", task="regression", act="tanh", seed=seed, loss=0.8 + seed))
    row = R.paired(recs, "relu")[0]
    assert row["metric"] == "test_loss"
    assert row["mean_diff"] == pytest.approx(-0.2)
    assert row["distinguishable"] is True and row["better"] is True
    single = R.paired(recs[:2], "relu")[0]
    assert single["n_pairs"] == 1 and single["distinguishable"] is False and single["better"] is None


def test_paired_unknown_baseline_is_named():
    with pytest.raises(ValueError, match="'gelu'"):
        R.paired(grid_records(), "gelu")


def test_paired_with_only_failed_and_diverged_runs():
    recs = [record(act="relu", status="failed"), record(act="tanh", status="diverged")]
    (row,) = R.paired(recs, "relu")
    assert row["n_pairs"] == 0 and row["diffs"] == []
    assert math.isnan(row["mean_diff"]) and row["distinguishable"] is False and row["better"] is None


# ---------------------------------------------------------------------- tables
def test_format_markdown_table():
    rows = [{"name": "a|b", "x": 0.123456, "n": 3, "ci": math.nan, "flag": True, "d": [0.5, 0.25]}]
    text = R.format_markdown(rows)
    lines = text.splitlines()
    assert lines[0] == "| name | x | n | ci | flag | d |"
    assert lines[1] == "|---|---:|---:|---:|---|---|"
    assert lines[2] == "| a\\|b | 0.1235 | 3 | — | yes | 0.5, 0.25 |"
    assert R.format_markdown(rows, ["n", "missing"]).splitlines()[2] == "| 3 |  |"
    with pytest.raises(ValueError, match="rows"):
        R.format_markdown([])


def test_to_csv_round_trip_and_atomic(tmp_path, monkeypatch):
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(os.fspath(dst)), real_replace(src, dst)))
    path = tmp_path / "t.csv"
    R.to_csv([{"a": 1, "b": math.nan, "c": [0.1, 0.2]}, {"a": 2, "b": None}], path)
    assert replaced == [str(path)]
    assert os.listdir(tmp_path) == ["t.csv"]  # no temporary file left
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["a"] == "1" and math.isnan(float(rows[0]["b"])) and json.loads(rows[0]["c"]) == [0.1, 0.2]
    assert rows[1] == {"a": "2", "b": "", "c": ""}


# ---------------------------------------------------------------------- the report
class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.imgs, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.imgs.append(attrs["src"])
        if tag in ("script", "link"):
            self.scripts += 1


def _report_records():
    recs = grid_records(seeds=(0, 1, 2))
    recs += [record(data="friedman", task="regression", act=a, seed=s, loss=0.5 + 0.1 * s - 0.05 * (a == "tanh"))
             for s in range(3) for a in ("relu", "tanh")]
    recs.append(record(data="friedman", task="regression", act="tanh", seed=3, status="diverged"))
    recs.append(record(data="moons", act="tanh", seed=5, status="failed"))
    recs.append(record(data="broken data/set", act="relu", status="failed"))  # no ok run at all
    return recs


def test_write_report_files_links_and_figures(tmp_path, monkeypatch):
    import matplotlib.image
    import matplotlib.pyplot as plt

    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(os.path.basename(dst)),
                                                         real_replace(src, dst)))
    folder = tmp_path / "report"
    folder.mkdir()
    recs = _report_records()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    index = R.write_report(recs, folder, baseline="relu")
    assert index == os.path.join(folder, "index.html")
    assert plt.get_fignums() == []

    written = set(os.listdir(folder)) - {"results.jsonl"}
    assert {"index.html", "summary.md", "summary.csv", "paired.csv", "heldout.png", "paired.png"} <= written
    assert written <= set(replaced)  # every file went through a temporary file and os.replace

    page = (folder / "index.html").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(page)
    assert parser.scripts == 0 and "http" not in page
    assert "results.jsonl" in parser.links and "summary.csv" in parser.links and "paired.csv" in parser.links
    for ref in parser.links + parser.imgs:
        assert not os.path.isabs(ref) and (folder / ref).is_file(), ref
    pngs = sorted(n for n in written if n.endswith(".png"))
    assert sorted(parser.imgs) == pngs and len(pngs) == 5  # curves of 3 data sets, heldout, paired
    assert page.count("<figcaption>") == len(pngs)
    for name in pngs:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(folder / name).shape[1] >= 640, name

    assert "<table>" in page and "activation=tanh, init=he_uniform" in page
    assert "Paired differences" in page and "broken data/set" in page
    assert "Learning curves on moons: the held-out loss (val_loss)" in page
    with open(folder / "summary.csv", newline="", encoding="utf-8") as fh:
        summary = list(csv.DictReader(fh))
    assert len(summary) == len(R.summarize(recs))
    with open(folder / "paired.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(R.paired(recs, "relu"))
    assert (folder / "summary.md").read_text(encoding="utf-8").startswith("## Summary\n\n| data | label |")


def test_write_report_without_matplotlib(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    index = R.write_report(_report_records(), tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["index.html", "summary.csv", "summary.md"]
    with open(index, encoding="utf-8") as fh:
        page = fh.read()
    assert 'pip install "neuroplug[docs]"' in html.unescape(page)
    assert "<img" not in page and "<table>" in page
    assert "results.jsonl" in page and 'href="results.jsonl"' not in page  # not there: not linked


def test_write_report_unknown_baseline_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="'gelu'"):
        R.write_report(grid_records(), tmp_path / "out", baseline="gelu")
    assert not (tmp_path / "out").exists()


def test_importing_the_module_does_not_import_matplotlib():
    code = "import sys, neuroplug.comparison.report; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
