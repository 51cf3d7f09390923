"""The activation and loss checks of the spec suite: built-ins pass, mutants fail exactly their targets."""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.spec.checks import activation, activation_formulas, loss, loss_formulas
from neuroplug.spec.framework import all_checks
from neuroplug.spec.runner import check_component
from spec_mutants import activations as activation_mutants
from spec_mutants import losses as loss_mutants

MUTANTS = activation_mutants.MUTANTS + loss_mutants.MUTANTS
MODULES = {"activation": {activation.__name__, activation_formulas.__name__},
           "loss": {loss.__name__, loss_formulas.__name__}}
OUR_IDS = {c.id for c in all_checks() if any(c.func.__module__ in m for m in MODULES.values())}


def _kind_ids(kind: str) -> list[str]:
    return [c.id for c in all_checks(kind) if c.func.__module__ in MODULES[kind]]


def test_the_modules_define_the_expected_checks():
    assert set(_kind_ids("activation")) == {
        "ACT-INTERFACE", "ACT-SHAPE-DTYPE", "ACT-BATCH", "ACT-NO-MUTATION", "ACT-DETERMINISTIC",
        "ACT-FINITE-LARGE", "ACT-CONFIG-ROUNDTRIP", "ACT-DERIV", "ACT-FLOAT32", "ACT-TANH", "ACT-SIGMOID",
        "ACT-RELU", "ACT-FORMULA", "NEURON-DENSE", "CHAIN-RULE-ACT"}
    assert set(_kind_ids("loss")) == {
        "LOSS-INTERFACE", "LOSS-SHAPE-DTYPE", "LOSS-NO-MUTATION", "LOSS-DETERMINISTIC", "LOSS-FINITE-LARGE",
        "LOSS-CONFIG-ROUNDTRIP", "LOSS-GRAD", "LOSS-FUSED", "LOSS-REDUCTION", "LOSS-MSE-VALUE",
        "LOSS-MSE-NONNEG-ZERO", "LOSS-SMOOTHL1-QUADRATIC", "LOSS-SMOOTHL1-LINEAR", "LOSS-SMOOTHL1-C1",
        "LOSS-SMOOTHL1-BOUNDED-GRAD", "LOSS-CE-VALUE", "LOSS-CE-CONFIDENCE", "CHAIN-RULE-LOSS", "LOSS-FORMULA"}
    for c in all_checks():
        if c.id in OUR_IDS:
            assert c.notes and c.tolerance and c.false_failure and len(c.doc) > 100, c.id


@pytest.fixture(scope="module")
def builtin_report(builtin_spec_report):
    from conftest import report_subset

    return report_subset(builtin_spec_report, kinds=set(MODULES), checks=OUR_IDS)


def test_every_builtin_activation_and_loss_passes(builtin_report):
    kinds = {info["kind"] for info in builtin_report.components.values()}
    assert kinds == {"activation", "loss"} and len(builtin_report.components) >= 20
    for r in builtin_report.results:
        assert r.status in ("passed", "skipped"), (r.component, r.check_id, r.message)
        if r.status == "skipped":
            assert r.message.strip(), (r.component, r.check_id)
    passed = {(r.component, r.check_id) for r in builtin_report.results if r.status == "passed"}
    for component, check_id in [("neuroplug:tanh", "ACT-TANH"), ("neuroplug:sigmoid", "ACT-SIGMOID"),
                                ("neuroplug:relu", "ACT-RELU"), ("neuroplug:softmax", "ACT-DERIV"),
                                ("neuroplug:relu", "CHAIN-RULE-ACT"), ("neuroplug:log_softmax", "NEURON-DENSE"),
                                ("neuroplug:mse", "LOSS-MSE-VALUE"), ("neuroplug:mse", "LOSS-MSE-NONNEG-ZERO"),
                                ("neuroplug:smooth_l1", "LOSS-SMOOTHL1-C1"),
                                ("neuroplug:smooth_l1", "LOSS-SMOOTHL1-BOUNDED-GRAD"),
                                ("neuroplug:cross_entropy", "LOSS-CE-CONFIDENCE"),
                                ("neuroplug:cross_entropy", "LOSS-FUSED"),
                                ("neuroplug:binary_cross_entropy", "LOSS-FUSED"),
                                ("neuroplug:cross_entropy", "CHAIN-RULE-LOSS")]:
        assert (component, check_id) in passed, (component, check_id)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_exactly_its_targets(mutant):
    assert mutant.kills <= OUR_IDS and mutant.fix_hint
    report = check_component(mutant.component, properties=mutant.properties, implements=mutant.implements,
                             name=mutant.name)
    status = {r.check_id: r for r in report.results}
    for check_id in mutant.kills:
        r = status[check_id]
        assert r.status == "failed", (check_id, r.status, r.message)
        assert mutant.fix_hint in r.message, (check_id, r.message)
        assert "expected" in r.message or "warning" in r.message or "raised" in r.message, r.message
    if mutant.exact:
        others = {r.check_id: r.message for r in report.results
                  if r.status == "failed" and r.check_id not in mutant.kills}
        assert others == {}, others


def test_every_check_is_killed_by_some_mutant():
    killed = set().union(*(m.kills for m in MUTANTS))
    assert OUR_IDS - killed == set()


class MyTanh(npl.Activation):
    """A third party's tanh, never registered (Dense accepts instances)."""

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a * a


class MyMSE(npl.Loss):
    """A third party's mean squared error, never registered."""

    def forward(self, y_pred, y_true):
        d = y_pred - y_true
        return float(np.mean(d * d))

    def gradient(self, y_pred, y_true):
        return (y_pred - y_true) * (2.0 / y_pred.size)


@pytest.mark.parametrize("component, implements", [(MyTanh(), ("tanh",)), (MyMSE(), ("mse",))])
def test_unregistered_instances_pass(component, implements):
    report = check_component(component, implements=implements)
    assert report.ok, [(r.check_id, r.message) for r in report.failures()]
    ran = {r.check_id for r in report.results if r.status == "passed"}
    assert {"NEURON-DENSE", "CHAIN-RULE-ACT", "ACT-TANH"} <= ran or {"CHAIN-RULE-LOSS", "LOSS-MSE-VALUE"} <= ran


def test_formula_checks_skip_with_a_reason_for_non_claimers():
    report = check_component(npl.create("activation", "softsign"), checks=["ACT-TANH", "ACT-SIGMOID", "ACT-RELU"])
    assert [r.status for r in report.results] == ["skipped"] * 3
    assert all("claims no" in r.message for r in report.results)


class KinkyTanh(MyTanh):
    """tanh declaring kinks everywhere: no random network can stay clear of them."""

    kinks = tuple(np.linspace(-6.0, 6.0, 6001))


def test_chain_rule_skips_when_every_network_hits_a_kink():
    r = check_component(KinkyTanh(), checks=["CHAIN-RULE-ACT"]).results[0]
    assert r.status == "skipped" and "kink" in r.message


def test_configured_builtins_pass_the_contract_checks():
    contract = [c.id for c in all_checks() if c.id in OUR_IDS and c.layer == "contract"]
    for kind, name, params in [("activation", "leaky_relu", {"alpha": 2.0}), ("activation", "elu", {"alpha": 0.5}),
                               ("activation", "softplus", {"beta": 10.0}),
                               ("activation", "gelu", {"approximate": "tanh"}),
                               ("loss", "cross_entropy", {"from_logits": True}),
                               ("loss", "cross_entropy", {"weight": [1.0, 2.0, 0.5], "ignore_index": 1}),
                               ("loss", "binary_cross_entropy", {"from_logits": True, "pos_weight": 2.0}),
                               ("loss", "smooth_l1", {"beta": 0.3}), ("loss", "huber", {"delta": 0.5})]:
        report = check_component(npl.create(kind, name, **params), checks=contract + ["CHAIN-RULE-ACT",
                                                                                      "CHAIN-RULE-LOSS"])
        assert report.ok, (name, params, [(r.check_id, r.message) for r in report.failures()])
