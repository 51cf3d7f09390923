"""Declarations the suite cannot act on are errors, never silently ignored (issue 10, point 2)."""

from __future__ import annotations

import pytest

import neuroplug as npl
from neuroplug.spec import check_component, run_spec
from neuroplug.spec.formulas import formula_names

BUILTIN = {"activation": "tanh", "initializer": "xavier", "loss": "mse", "schedule": "step_decay",
           "optimizer": "sgd"}
PREFIX = {"activation": "ACT", "initializer": "INIT", "loss": "LOSS", "schedule": "SCHED", "optimizer": "OPT"}


def _builtin_class(kind):
    return type(npl.create(kind, BUILTIN[kind]))


@pytest.mark.parametrize("kind", sorted(BUILTIN))
def test_an_unknown_implements_name_in_a_registration_fails_the_declarations_check(kind):
    cls = type(f"Mine{kind.title()}", (_builtin_class(kind),), {})
    with npl.isolated_registry() as reg:
        reg.register(cls, kind=kind, name="mine", implements=("mean_squared_error",))
        report = run_spec(f"{kind}:mine")
    failed = {r.check_id: r.message for r in report.results if r.status == "failed"}
    assert f"{PREFIX[kind]}-DECLARATIONS" in failed
    message = failed[f"{PREFIX[kind]}-DECLARATIONS"]
    assert "'mean_squared_error'" in message and f"The {kind} formulas:" in message
    assert not report.ok


def test_an_unknown_expected_failure_id_in_a_registration_fails_the_declarations_check():
    cls = type("MyTanh", (_builtin_class("activation"),), {})
    with npl.isolated_registry() as reg:
        reg.register(cls, kind="activation", name="mine", expected_failed_checks={"ACT-ODD": "not odd"})
        report = run_spec("activation:mine")
    failed = {r.check_id: r.message for r in report.results if r.status == "failed"}
    assert "'ACT-ODD'" in failed["ACT-DECLARATIONS"] and "PROP-ODD" in failed["ACT-DECLARATIONS"]


def test_example_configs_and_parameter_space_must_name_constructor_parameters():
    cls = type("MyLeaky", (type(npl.create("activation", "leaky_relu")),), {})
    with npl.isolated_registry() as reg:
        reg.register(cls, kind="activation", name="mine", example_configs=[{"slope": 0.2}],
                     parameter_space={"alpha": npl.Param.real(0.0, 1.0), "gamma": npl.Param.real(0, 1)})
        report = run_spec("activation:mine")
    message = {r.check_id: r.message for r in report.results if r.status == "failed"}["ACT-DECLARATIONS"]
    assert "'slope'" in message and "'gamma'" in message and "'alpha'" not in message


def test_check_component_raises_for_unknown_names_with_close_matches():
    tanh = npl.create("activation", "tanh")
    with pytest.raises(ValueError, match=r"unknown activation formula 'Tanh'.*Did you mean 'tanh'"):
        check_component(tanh, implements=("Tanh",))
    with pytest.raises(ValueError, match=r"'mse' is a formula of loss"):
        check_component(tanh, implements=("mse",))
    with pytest.raises(ValueError, match=r"'ACT-DERIVATIVE'.*Did you mean 'ACT-DERIV'"):
        check_component(tanh, expected_failed_checks={"ACT-DERIVATIVE": "x"})
    with pytest.raises(TypeError, match=r"implements must be a list of names"):
        check_component(tanh, implements="tanh")


@pytest.mark.parametrize("kind", sorted(BUILTIN))
def test_every_builtin_name_is_a_formula_of_its_kind(kind):
    names = set(formula_names(kind))
    with npl.isolated_registry() as reg:
        for entry in reg.entries(kind):
            assert entry.registration.name in names or entry.registration.name == "callable"


def test_the_references_never_import_the_builtin_plugins():
    import subprocess
    import sys

    code = ("import sys, neuroplug.spec.references, neuroplug.spec.formulas as f; "
            "assert f.formulas(); print(sorted(m for m in sys.modules if m.startswith('neuroplug.plugins')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
