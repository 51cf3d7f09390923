"""The spec suite as a whole: IDs, docs, traceability, teeth, reports, CLI and pytest integration."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.cli import main
from neuroplug.spec import all_checks, check_component, run_spec
from neuroplug.spec.traceability import STATEMENTS, table, uncovered

MUTANT_MODULES = ["activations", "losses", "initializers", "schedules", "optimizers", "properties"]


def all_mutants():
    out = []
    for name in MUTANT_MODULES:
        out.extend(importlib.import_module(f"spec_mutants.{name}").MUTANTS)
    return out


def test_check_ids_are_stable_documented_and_traced():
    checks = all_checks()
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    keys = {k for k, _ in STATEMENTS}
    for c in checks:
        assert re.fullmatch(r"(ACT|INIT|LOSS|SCHED|OPT|LR|NEURON|CHAIN|PROP)(-[A-Z0-9]+)+", c.id), c.id
        assert len(c.doc) > 20 and c.title, c.id
        assert set(c.notes) <= keys, (c.id, c.notes)
        assert c.false_failure, c.id


def test_every_statement_of_the_notes_has_a_check():
    assert uncovered() == []
    assert [k for k, _, _ in table()] == [k for k, _ in STATEMENTS]


@pytest.fixture(scope="module")
def builtin_report(builtin_spec_report):
    return builtin_spec_report


def test_every_builtin_passes_every_applicable_check(builtin_report):
    assert builtin_report.failures() == []
    # names are unique per kind only: 'constant' is a schedule and an initializer, reported apart
    assert ("schedule", "neuroplug:constant") in builtin_report.components
    assert ("initializer", "neuroplug:constant") in builtin_report.components
    assert len(builtin_report.components) == len(npl.get_registry().entries())
    counts = builtin_report.counts()
    assert counts["passed"] > 5 * len(builtin_report.components)
    for r in builtin_report.results:
        if r.status == "skipped":
            assert r.message.strip(), r


def test_every_formula_claim_of_a_builtin_is_checked(builtin_report):
    claims = {(kind, name.split(":")[-1]) for (kind, name), info in builtin_report.components.items()
              if info["implements"]}
    assert claims >= {("activation", "tanh"), ("activation", "sigmoid"), ("activation", "relu"),
                      ("initializer", "xavier"), ("initializer", "normalized_xavier"), ("loss", "mse"),
                      ("loss", "smooth_l1"), ("loss", "cross_entropy"), ("optimizer", "sgd")}
    passed = {(r.component, r.check_id) for r in builtin_report.results if r.status == "passed"}
    for check_id, component in [("ACT-TANH", "neuroplug:tanh"), ("INIT-XAVIER-BOUND", "neuroplug:xavier"),
                                ("INIT-NXAVIER-BOUND", "neuroplug:normalized_xavier"),
                                ("LOSS-SMOOTHL1-C1", "neuroplug:smooth_l1"),
                                ("LOSS-CE-CONFIDENCE", "neuroplug:cross_entropy"),
                                ("LR-SGD-EXACT", "neuroplug:sgd")]:
        assert (component, check_id) in passed


def test_every_check_is_failed_by_some_mutant():
    killed = set()
    for m in all_mutants():
        report = check_component(m.component, properties=m.properties, implements=m.implements, name=m.name)
        killed |= {r.check_id for r in report.results if r.status == "failed"}
    # declarations are validated by check_component itself (ValueError); a registration reaches the checks
    for kind, name in [("activation", "tanh"), ("initializer", "xavier"), ("loss", "mse"),
                       ("schedule", "step_decay"), ("optimizer", "sgd")]:
        cls = type("Bad" + kind.title(), (type(npl.create(kind, name)),), {})
        with npl.isolated_registry() as reg:
            reg.register(cls, kind=kind, name="bad_declarations", implements=("no_such_formula",))
            report = run_spec(f"{kind}:bad_declarations", checks=[c.id for c in all_checks(kind)
                                                                   if c.id.endswith("-DECLARATIONS")])
        killed |= {r.check_id for r in report.results if r.status == "failed"}
    assert {c.id for c in all_checks()} - killed == set()


def test_expected_failures_are_reported_never_passed():
    from spec_mutants.activations import MUTANTS

    mutant = MUTANTS[0]
    target = sorted(mutant.kills)[0]
    report = check_component(mutant.component, properties=mutant.properties, implements=mutant.implements,
                             expected_failed_checks={target: "known"})
    statuses = {r.check_id: r.status for r in report.results}
    assert statuses[target] == "xfailed"
    tanh = npl.create("activation", "tanh")
    report = check_component(tanh, expected_failed_checks={"ACT-TANH": "stale declaration"})
    xpassed = [r for r in report.results if r.check_id == "ACT-TANH"][0]
    assert xpassed.status == "xpassed" and "remove ACT-TANH" in xpassed.message and not report.ok


class Doubled(npl.Activation):
    """tanh with a wrong derivative (for CLI tests)."""

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 2 * (1 - a * a)


def test_cli_spec_text_json_junit_and_exit_status(tmp_path, capsys):
    assert main(["spec", "activation:tanh"]) == 0
    out = capsys.readouterr().out
    assert "activation neuroplug:tanh" in out and "0 failed" in out
    assert main(["spec", "activation:tanh", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and {c["id"] for c in doc["components"][0]["checks"]} >= {"ACT-DERIV", "ACT-TANH"}
    assert main(["spec", "activations", "--format", "junit", "-o", str(tmp_path / "r.xml")]) == 0
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert root.tag == "testsuites" and int(root.get("failures")) == 0 and len(root) >= 14
    with npl.isolated_registry() as reg:
        reg.register(Doubled, name="doubled", implements=("tanh",))
        assert main(["spec", "activation:doubled"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  ACT-DERIV" in out and "expected:" in out and "found:" in out and "where: input" in out
    assert main(["spec", "nonexistent_plugin"]) == 2
    assert "names no installed plugin" in capsys.readouterr().err


def test_parametrize_spec_and_pytest_option_from_a_separate_test_suite(tmp_path):
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        import numpy as np
        import neuroplug as npl
        from neuroplug.spec import parametrize_spec

        class MyTanh(npl.Activation):
            def forward(self, z, out=None):
                return np.tanh(z, out=out)

            def derivative(self, z, a):
                return 1 - a * a

        @parametrize_spec(MyTanh(), implements=("tanh",), properties=("odd", "monotonic"))
        def test_spec(check):
            check()

        @parametrize_spec(MyTanh(), implements=("relu",), expected_failed_checks={"ACT-RELU": "it is tanh",
                                                                               "ACT-FORMULA": "it is tanh"})
        def test_spec_declared_deviation(check):
            check()
    '''))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    tail = run.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", tail) and "2 xfailed" in tail and "failed" not in tail.replace("xfailed", "")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path),
                          "-k", "ACT-DERIV"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--neuroplug-spec=activation:tanh", "--neuroplug-spec=loss:mse"],
                         capture_output=True, text=True, cwd=empty)
    assert run.returncode == 0, run.stdout + run.stderr
    n_checks = len(all_checks("activation")) + len(all_checks("loss"))
    counts = run.stdout.strip().splitlines()[-1]
    assert sum(int(n) for n in re.findall(r"(\d+) (?:passed|skipped)", counts)) == n_checks, counts


def test_committed_spec_reference_is_up_to_date():
    import pathlib

    from neuroplug.spec.docgen import render

    committed = (pathlib.Path(__file__).parents[1] / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m neuroplug.spec.docgen > docs/spec-reference.md"
    for check in all_checks():
        assert f"#### {check.id}\n" in committed
