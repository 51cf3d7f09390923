"""The spec checks of initializers, schedules and optimizers: built-ins pass, mutants fail as targeted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuroplug.registry import get_registry
from neuroplug.spec import all_checks, check_component
from neuroplug.types import REQUIRED
from spec_mutants.initializers import MUTANTS as INIT_MUTANTS
from spec_mutants.optimizers import MUTANTS as OPT_MUTANTS
from spec_mutants.schedules import MUTANTS as SCHED_MUTANTS

KINDS = ("initializer", "schedule", "optimizer")
MODULES = {"neuroplug.spec.checks.initializer", "neuroplug.spec.checks.schedule", "neuroplug.spec.checks.optimizer"}
MUTANTS = INIT_MUTANTS + SCHED_MUTANTS + OPT_MUTANTS


def own_checks():
    """The checks defined in this part of the suite (the three modules above)."""
    return [c for c in all_checks() if c.func.__module__ in MODULES]


OWN_IDS = {c.id for c in own_checks()}


@pytest.fixture(scope="module")
def builtin_report(builtin_spec_report):
    from conftest import report_subset

    return report_subset(builtin_spec_report, kinds=set(KINDS), checks=OWN_IDS)


@pytest.fixture(scope="module")
def mutant_reports():
    return {m.name: check_component(m.component, properties=m.properties, implements=m.implements, name=m.name)
            for m in MUTANTS}


def test_the_checks_cover_the_expected_ids_and_notes():
    ids = {c.id: c for c in own_checks()}
    assert set(ids) >= {
        "INIT-INTERFACE", "INIT-SHAPE-DTYPE", "INIT-FINITE", "INIT-NO-GLOBAL-RNG", "INIT-SEED-REPRODUCIBLE",
        "INIT-SEED-SENSITIVE", "INIT-CONFIG-ROUNDTRIP", "INIT-XAVIER-BOUND", "INIT-XAVIER-UNIFORM",
        "INIT-NXAVIER-BOUND", "INIT-NXAVIER-UNIFORM", "INIT-FORMULA",
        "SCHED-INTERFACE", "SCHED-FINITE", "SCHED-STATELESS", "SCHED-PREVIEW", "SCHED-UNIT",
        "SCHED-CONFIG-ROUNDTRIP", "SCHED-DECAY-START", "SCHED-DECAY-MONOTONE", "SCHED-FORMULA",
        "OPT-INTERFACE", "OPT-INPLACE", "OPT-NO-GRAD-MUTATION", "OPT-DETERMINISTIC", "OPT-STATE-ROUNDTRIP",
        "OPT-CONFIG-ROUNDTRIP", "OPT-DESCENT", "OPT-ZERO-LR", "LR-SGD-EXACT", "LR-LARGER-MORE", "LR-FIT-STEP",
        "OPT-FORMULA"}
    notes = {n for c in ids.values() for n in c.notes}
    assert notes >= {"random_init", "xavier", "normalized_xavier", "learning_rate", "lr_decay", "lr_schedules",
                     "loss_minimization"}
    assert "lr_schedules" in ids["SCHED-PREVIEW"].notes
    assert set(ids["SCHED-DECAY-MONOTONE"].notes) == set(ids["SCHED-DECAY-START"].notes) == {"lr_decay"}
    for c in ids.values():
        assert c.kind in KINDS and len(c.doc) > 40 and c.title and c.false_failure, c.id
    for check_id in ("INIT-XAVIER-BOUND", "INIT-NXAVIER-BOUND", "INIT-XAVIER-UNIFORM", "INIT-NXAVIER-UNIFORM",
                     "INIT-FORMULA"):
        assert ids[check_id].layer == "formula" and "e-" in ids[check_id].false_failure, check_id


def test_false_failure_arithmetic_of_the_statistical_checks():
    from neuroplug.spec.checks import initializer as ci

    # support test: P(max|w| < (1 - delta) a) = (1 - delta)^N for each of the 4 samples
    for n, m in ci.BOUND_SHAPES:
        assert n * m >= 16384 and n != m
        assert (1 - ci.DELTA) ** (n * m) < 6e-15
    assert 4 * (1 - ci.DELTA) ** 16384 < 2.3e-14
    # distribution tests: DKW for KS plus Hoeffding for the mean of w^2/a^2, budgets summing to 1e-6
    size = ci.DIST_SHAPE[0] * ci.DIST_SHAPE[1]
    assert size == 16384 and ci.P_KS + ci.P_VAR <= 1e-6
    d, t = ci._dkw_threshold(size, ci.P_KS), ci._hoeffding_threshold(size, ci.P_VAR)
    assert math.isclose(2 * math.exp(-2 * size * d * d), ci.P_KS)
    assert math.isclose(2 * math.exp(-2 * size * t * t), ci.P_VAR)
    assert round(d, 5) == round(t, 5) == 0.02154


def test_ks_distance_is_the_textbook_statistic():
    from neuroplug.spec.checks.initializer import _ks_uniform

    assert _ks_uniform(np.array([0.0]), 1.0)[0] == pytest.approx(0.5)
    d, _ = _ks_uniform(np.array([-0.5, 0.5]), 1.0)  # F = 0.25, 0.75; steps 0 -> 0.5 -> 1
    assert d == pytest.approx(0.25)
    assert _ks_uniform(np.linspace(-1, 1, 10001), 1.0)[0] < 2e-4


def test_every_builtin_passes_every_check_of_its_kind(builtin_report):
    assert builtin_report.failures() == []
    names = {name.split(":")[-1] for _, name in builtin_report.components}
    assert {"xavier", "normalized_xavier", "zeros", "orthogonal", "constant", "reduce_on_plateau", "callable",
            "sequential", "sgd", "adam", "adamw"} <= names
    for r in builtin_report.results:
        assert r.status in ("passed", "skipped"), r
        if r.status == "skipped":
            assert r.message.strip(), r
    passed = {(r.component, r.check_id) for r in builtin_report.results if r.status == "passed"}
    for component, check_id in [
            ("neuroplug:xavier", "INIT-XAVIER-BOUND"), ("neuroplug:xavier", "INIT-XAVIER-UNIFORM"),
            ("neuroplug:normalized_xavier", "INIT-NXAVIER-BOUND"),
            ("neuroplug:normalized_xavier", "INIT-NXAVIER-UNIFORM"),
            ("neuroplug:normal", "INIT-SEED-SENSITIVE"), ("neuroplug:exponential_decay", "SCHED-DECAY-MONOTONE"),
            ("neuroplug:reduce_on_plateau", "SCHED-DECAY-MONOTONE"),
            ("neuroplug:polynomial_decay", "SCHED-DECAY-START"),
            ("neuroplug:reduce_on_plateau", "SCHED-STATELESS"), ("neuroplug:linear_warmup", "SCHED-CONFIG-ROUNDTRIP"),
            ("neuroplug:sgd", "LR-SGD-EXACT"), ("neuroplug:sgd", "LR-FIT-STEP"), ("neuroplug:adamw", "OPT-ZERO-LR"),
            ("neuroplug:adam", "OPT-STATE-ROUNDTRIP"), ("neuroplug:rmsprop", "LR-LARGER-MORE"),
            *((f"neuroplug:{name}", "OPT-FORMULA") for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad"))]:
        assert (component, check_id) in passed, (component, check_id)


def test_skips_say_why(builtin_report):
    skipped = {(r.component, r.check_id): r.message for r in builtin_report.results if r.status == "skipped"}
    assert "deterministic_values" in skipped[("neuroplug:zeros", "INIT-SEED-SENSITIVE")]
    assert "serializable" in skipped[("neuroplug:callable", "SCHED-CONFIG-ROUNDTRIP")]
    assert "decaying" in skipped[("neuroplug:one_cycle", "SCHED-DECAY-MONOTONE")]
    assert "sgd" in skipped[("neuroplug:adam", "LR-SGD-EXACT")]
    assert "xavier" in skipped[("neuroplug:he_uniform", "INIT-XAVIER-BOUND")]


def test_sgd_with_momentum_is_not_held_to_the_plain_step():
    import neuroplug as npl

    report = check_component(npl.create("optimizer", "sgd", momentum=0.9), checks=OWN_IDS)
    status = {r.check_id: r for r in report.results}
    assert status["LR-SGD-EXACT"].status == status["LR-FIT-STEP"].status == "skipped"
    assert "momentum=0.9" in status["LR-SGD-EXACT"].message
    assert report.ok


def test_checks_leave_the_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.get_state()
    check_component(INIT_MUTANTS[0].component, implements=("xavier",))
    check_component(next(m for m in INIT_MUTANTS if m.name == "global_random_state").component)
    state = np.random.get_state()
    assert state[0] == expected[0] and np.array_equal(state[1], expected[1]) and state[2:] == expected[2:]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutant_fails_the_checks_it_targets(mutant, mutant_reports):
    report = mutant_reports[mutant.name]
    results = {r.check_id: r for r in report.results}
    assert mutant.kills <= OWN_IDS, mutant.kills - OWN_IDS
    for check_id in mutant.kills:
        result = results[check_id]
        assert result.status == "failed", (check_id, result.status, result.message)
        assert mutant.fix_hint in result.message, (check_id, result.message)
        assert "expected:" in result.message and "found:" in result.message, result.message
    if mutant.exact:
        others = {r.check_id: r.message for r in report.results if r.status == "failed"
                  and r.check_id not in mutant.kills}
        assert others == {}, others


def test_every_check_is_killed_by_some_mutant(mutant_reports):
    killed = {r.check_id for report in mutant_reports.values() for r in report.results if r.status == "failed"}
    targeted = {check_id for m in MUTANTS for check_id in m.kills}
    assert OWN_IDS - killed == set()
    assert OWN_IDS - targeted == set()


def test_each_mutant_kind_matches_its_module():
    from neuroplug.base import Initializer, Optimizer, Schedule

    assert all(isinstance(m.component, Initializer) for m in INIT_MUTANTS)
    assert all(isinstance(m.component, Schedule) for m in SCHED_MUTANTS)
    assert all(isinstance(m.component, Optimizer) for m in OPT_MUTANTS)
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("kind", KINDS)
def test_builtins_with_required_parameters_have_a_spec_config(kind):
    entries = [e for e in get_registry().entries(kind) if e.plugin.builtin]
    assert entries
    missing = []
    for e in entries:
        reg = e.registration
        required = {k for k, v in (reg.parameters or {}).items() if v is REQUIRED}
        if required and not required <= set(reg.spec_config or {}):
            missing.append((reg.name, sorted(required)))
        if reg.spec_config is not None:
            component = reg.factory(**dict(reg.spec_config))  # the spec config builds the component
            if kind == "schedule":
                assert math.isfinite(component(3, 0.1))
    assert missing == []
    if kind == "schedule":  # these need parameters without defaults
        configured = {e.name for e in entries if e.registration.spec_config}
        assert configured >= {"multi_step", "piecewise", "polynomial_decay", "cosine_annealing",
                              "cosine_warm_restarts", "linear_warmup", "one_cycle", "sequential", "callable"}
