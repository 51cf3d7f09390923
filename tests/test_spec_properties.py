"""The declared-property checks of the spec suite (layer 3): vocabulary, teeth, soundness, hypothesis hygiene."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neuroplug.plugins.activations import GELU, Tanh
from neuroplug.plugins.losses import MSE
from neuroplug.registry import get_registry
from neuroplug.spec.checks import properties as checks_properties
from neuroplug.spec.checks import properties_activation, properties_initializer, properties_loss
from neuroplug.spec.checks.properties import PROPERTIES, VERIFIED_BY
from neuroplug.spec.framework import KINDS, all_checks, get_check
from neuroplug.spec.runner import check_component
from spec_mutants.properties import MUTANTS

_MODULES = {m.__name__ for m in (checks_properties, properties_activation, properties_initializer, properties_loss)}
OUR_IDS = {c.id for c in all_checks() if c.func.__module__ in _MODULES}


def test_the_module_defines_the_expected_checks():
    assert OUR_IDS == {
        "PROP-VOCABULARY-ACT", "PROP-VOCABULARY-INIT", "PROP-VOCABULARY-LOSS", "PROP-VOCABULARY-SCHED",
        "PROP-VOCABULARY-OPT", "PROP-MONOTONIC", "PROP-ODD", "PROP-ZERO-AT-ZERO", "PROP-NONNEGATIVE-OUTPUT",
        "PROP-BOUNDED-OUTPUT", "PROP-ZERO-CENTRED", "PROP-BOUNDED-DERIVATIVE", "PROP-LOSS-NONNEGATIVE",
        "PROP-LOSS-ZERO-AT-PERFECT", "PROP-LOSS-BOUNDED-GRADIENT", "PROP-LOSS-PENALIZES-CONFIDENCE",
        "PROP-INIT-DETERMINISTIC", "PROP-INIT-UNIFORM-BOUND"}
    for c in all_checks():
        if c.id in OUR_IDS:
            assert c.title and c.formula and c.tolerance and c.false_failure and len(c.doc) > 100, c.id
            assert c.layer == ("contract" if c.id.startswith("PROP-VOCABULARY") else "property"), c.id
            if c.layer == "property":
                assert c.notes, c.id


def test_vocabulary_covers_the_builtin_declarations_and_every_tag_is_verified():
    assert set(PROPERTIES) == set(KINDS)
    for kind, tags in PROPERTIES.items():
        for tag, meaning in tags.items():
            assert meaning.strip() and "\n" not in meaning, (kind, tag)
            check = get_check(VERIFIED_BY[(kind, tag)])  # KeyError if the verifying check does not exist
            assert check.kind == kind, (kind, tag, check.id)
    assert set(VERIFIED_BY) == {(k, t) for k, tags in PROPERTIES.items() for t in tags}
    declared = {(e.registration.kind, tag) for e in get_registry().entries() if e.plugin.builtin
                for tag in e.registration.properties}
    assert declared <= set(VERIFIED_BY)
    assert declared >= {("activation", t) for t in ("monotonic", "odd", "zero_at_zero", "nonnegative_output",
                                                     "bounded_output", "zero_centred", "bounded_derivative")}
    assert declared >= {("loss", "nonnegative"), ("loss", "zero_at_perfect"), ("loss", "bounded_gradient"),
                        ("loss", "penalizes_confidence"), ("initializer", "seeded"),
                        ("initializer", "uniform_bound"), ("initializer", "deterministic_values"),
                        ("schedule", "decaying")}


def test_unknown_properties_suggests_close_tags():
    assert checks_properties.unknown_properties("activation", {"monotone", "odd"}) == [
        ("monotone", ["monotonic"], [])]
    assert checks_properties.unknown_properties("optimizer", {"nonnegative"}) == [("nonnegative", [], ["loss"])]
    assert checks_properties.unknown_properties("loss", {"nonnegative"}) == []


@pytest.fixture(scope="module")
def builtin_report(builtin_spec_report):
    from conftest import report_subset

    return report_subset(builtin_spec_report, checks=OUR_IDS)


def test_every_builtin_passes_every_property_check(builtin_report):
    assert {info["kind"] for info in builtin_report.components.values()} == set(KINDS)
    for r in builtin_report.results:
        assert r.status in ("passed", "skipped"), (r.component, r.check_id, r.message)
        if r.status == "skipped":
            assert r.message.strip(), (r.component, r.check_id)
    passed = {(r.component, r.check_id) for r in builtin_report.results if r.status == "passed"}
    for component, check_id in [
            ("neuroplug:tanh", "PROP-MONOTONIC"), ("neuroplug:tanh", "PROP-ODD"),
            ("neuroplug:tanh", "PROP-ZERO-CENTRED"), ("neuroplug:softsign", "PROP-BOUNDED-OUTPUT"),
            ("neuroplug:softmax", "PROP-BOUNDED-OUTPUT"), ("neuroplug:softmax", "PROP-NONNEGATIVE-OUTPUT"),
            ("neuroplug:gelu", "PROP-BOUNDED-DERIVATIVE"), ("neuroplug:relu", "PROP-ZERO-AT-ZERO"),
            ("neuroplug:huber", "PROP-LOSS-BOUNDED-GRADIENT"), ("neuroplug:mse", "PROP-LOSS-ZERO-AT-PERFECT"),
            ("neuroplug:cross_entropy", "PROP-LOSS-PENALIZES-CONFIDENCE"),
            ("neuroplug:binary_cross_entropy", "PROP-LOSS-PENALIZES-CONFIDENCE"),
            ("neuroplug:binary_cross_entropy", "PROP-LOSS-NONNEGATIVE"),
            ("neuroplug:zeros", "PROP-INIT-DETERMINISTIC"), ("neuroplug:xavier", "PROP-INIT-UNIFORM-BOUND"),
            ("neuroplug:he_uniform", "PROP-INIT-UNIFORM-BOUND"), ("neuroplug:tanh", "PROP-VOCABULARY-ACT"),
            ("neuroplug:step_decay", "PROP-VOCABULARY-SCHED")]:
        assert (component, check_id) in passed, (component, check_id)
    skipped = {(r.component, r.check_id): r.message for r in builtin_report.results if r.status == "skipped"}
    assert skipped[("neuroplug:relu", "PROP-ODD")] == "does not declare odd"


def test_every_property_check_is_killed_by_a_mutant():
    killed = set().union(*(m.kills for m in MUTANTS))
    assert killed >= OUR_IDS


def test_checks_of_undeclared_properties_skip_with_the_reason():
    report = check_component(Tanh(), properties=(), implements=(), checks=OUR_IDS)
    for r in report.results:
        assert r.status == "skipped", (r.check_id, r.status)
    reasons = {r.check_id: r.message for r in report.results}
    assert reasons["PROP-MONOTONIC"] == "does not declare monotonic"
    assert reasons["PROP-VOCABULARY-ACT"].startswith("declares no properties")


class _ColumnBiasedTanh(Tanh):
    """tanh plus 0.01 on every column but the first: only a batch of 2+ columns shows it is not odd."""

    def forward(self, z, out=None):
        out = np.tanh(z, out=out)
        out[:, 1:] += 0.01
        return out


class _BigTargetMSE(MSE):
    """Squared error minus 1 whenever a target exceeds 100 in magnitude: only hypothesis' targets reach it."""

    def forward(self, y_pred, y_true):
        value = super().forward(y_pred, y_true)
        return value - 1.0 if np.any(np.abs(y_true) > 100) else value


def test_hypothesis_reports_the_minimal_counterexample_in_the_failure_message():
    # the explicit grids (one column, targets 0/1) miss both bugs: hypothesis must find and shrink them
    odd = check_component(_ColumnBiasedTanh(), properties=("odd",), checks=["PROP-ODD"]).results[0]
    assert odd.status == "failed", odd.message
    assert "where: z = [0.0, 0.0] (output column 1)" in odd.message
    assert odd.message.startswith("declares 'odd' but phi(-z) != -phi(z)")
    loss = check_component(_BigTargetMSE(), properties=("nonnegative",), checks=["PROP-LOSS-NONNEGATIVE"])
    r = loss.results[0]
    assert r.status == "failed", r.message
    assert "where: y_pred = [101.0], y_true = [101.0]" in r.message   # shrunk to the smallest target > 100


def test_hypothesis_prints_nothing_and_warns_nothing(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failing = check_component(_ColumnBiasedTanh(), properties=("odd",), checks=["PROP-ODD"])
        passing = check_component(GELU(), checks=sorted(OUR_IDS))
        mutant = next(m for m in MUTANTS if m.name == "gelu_declared_monotonic")
        check_component(mutant.component, properties=mutant.properties, checks=["PROP-MONOTONIC"])
    assert failing.results[0].status == "failed"
    assert all(r.status in ("passed", "skipped") for r in passing.results)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert "Falsifying" not in failing.results[0].message
    assert [str(w.message) for w in caught] == []


class _CountingTanh(Tanh):
    calls = 0

    def forward(self, z, out=None):
        type(self).calls += 1
        return super().forward(z, out)


def test_thorough_mode_runs_more_examples_and_still_passes():
    counts = []
    for thorough in (False, True):
        _CountingTanh.calls = 0
        report = check_component(_CountingTanh(), properties=("odd",), checks=["PROP-ODD"], thorough=thorough)
        assert report.results[0].status == "passed"
        counts.append(_CountingTanh.calls)
    assert counts[1] > counts[0]  # more examples, counted (not timed)


def test_verdicts_are_reproducible():
    first = check_component(_ColumnBiasedTanh(), properties=("odd",), checks=["PROP-ODD"]).results[0].message
    again = check_component(_ColumnBiasedTanh(), properties=("odd",), checks=["PROP-ODD"]).results[0].message
    assert first == again
