"""The blind differential corpus (tests/spec_corpus/): the spec suite's verdict on strangers' code.

Every correct component of the corpus passes the whole suite, and every mutant
fails it (issue 10, point 5). The corpus was written from the public docs alone,
so a failure of a correct component here is a false failure of the suite --
fix the check, never the corpus component.
"""

from __future__ import annotations

import importlib

import pytest

from neuroplug.spec import check_component

MODULES = ("activations", "losses", "initializers", "schedules", "optimizers")


def _cases(attribute: str) -> list:
    out = []
    for module in MODULES:
        try:
            mod = importlib.import_module(f"spec_corpus.{module}")
        except ModuleNotFoundError:  # pragma: no cover - a kind's corpus not written yet
            continue
        out += [pytest.param(case, id=f"{module}:{case.label}") for case in getattr(mod, attribute)]
    return out


CORRECT = _cases("CORRECT")
MUTANTS = _cases("MUTANTS")


def _report(case):
    return check_component(case.component, implements=case.implements, properties=case.properties,
                           name=case.label, **dict(case.extra))


def _failures(report) -> str:
    return "\n\n".join(f"{r.check_id}: {r.message}" for r in report.failures())


@pytest.mark.parametrize("case", CORRECT)
def test_a_correct_component_passes_every_check(case):
    report = _report(case)
    assert report.ok, f"false failure on {case.label} ({case.form}):\n{_failures(report)}"


@pytest.mark.parametrize("case", MUTANTS)
def test_a_mutant_fails_some_check(case):
    report = _report(case)
    assert not report.ok, f"mutant {case.label} passes every check; it breaks: {case.breaks}"


def test_the_corpus_is_large_enough_and_covers_every_kind():
    assert len(CORRECT) >= 40 and len(MUTANTS) >= 60
    kinds = {p.id.split(":")[0] for p in CORRECT} & {p.id.split(":")[0] for p in MUTANTS}
    assert kinds == set(MODULES)
    labels = [p.id for p in CORRECT + MUTANTS]
    assert len(labels) == len(set(labels))
    assert all(p.values[0].breaks for p in MUTANTS) and not any(p.values[0].breaks for p in CORRECT)
