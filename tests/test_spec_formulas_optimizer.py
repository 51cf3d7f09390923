"""OPT-FORMULA and the optimizer vocabulary: no false failures, and configs exercised.

Correct optimizers written *differently* from the built-ins (PyTorch's lerp form,
running products for the bias corrections, float64 state for float32 parameters,
hyper-parameters cast to the parameter dtype first, decoupled decay folded into the
step, Nesterov expanded, lazy state, options the built-ins do not have) must pass
every check; the wrong ones in ``spec_mutants/optimizers.py`` must fail.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.base import Optimizer
from neuroplug.spec import check_component
from neuroplug.spec.formulas import formula_cases, formula_names, formulas, get_formula
from neuroplug.spec.references.optimizers import Approx


# ------------------------------------------------------------------ correct, written differently
class _PerParam(Optimizer):
    """Per-parameter state dicts created lazily on the first step (no setup override)."""

    _state = None

    def step(self, params, grads, lr):
        if self._state is None:
            self._state = [{} for _ in params]
            self._t = 0
        self._t += 1
        for p, g, st in zip(params, grads, self._state):
            self._update(p, g, lr, st)

    def get_state(self):
        return {"t": getattr(self, "_t", 0),
                "s": [{k: np.array(v, copy=True) for k, v in st.items()} for st in (self._state or [])]}

    def set_state(self, state):
        self._t = state["t"]
        self._state = [{k: np.array(v, copy=True) for k, v in st.items()} for st in state["s"]]


class TorchAdam(_PerParam):
    """PyTorch's Adam: lerp for m, running products for the corrections, eps after sqrt(v)/sqrt(bc2),
    everything in the parameter dtype; with amsgrad."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.beta1, self.beta2, self.eps, self.weight_decay, self.amsgrad = beta1, beta2, eps, weight_decay, amsgrad

    def _update(self, p, g, lr, st):
        dt = p.dtype.type
        if self.weight_decay:
            g = g + dt(self.weight_decay) * p
        if not st:
            st.update(m=np.zeros_like(p), v=np.zeros_like(p), vmax=np.zeros_like(p),
                      p1=np.ones((), p.dtype), p2=np.ones((), p.dtype))
        st["p1"] = st["p1"] * dt(self.beta1)
        st["p2"] = st["p2"] * dt(self.beta2)
        st["m"] += (g - st["m"]) * dt(1 - self.beta1)  # torch.lerp
        st["v"] = st["v"] * dt(self.beta2) + g * g * dt(1 - self.beta2)
        v = st["v"]
        if self.amsgrad:
            np.maximum(st["vmax"], v, out=st["vmax"])
            v = st["vmax"]
        bc1, bc2 = 1 - st["p1"], 1 - st["p2"]
        denom = np.sqrt(v) / np.sqrt(bc2) + dt(self.eps)
        p -= (dt(lr) / bc1) * st["m"] / denom


class CastFirstAdam(_PerParam):
    """Adam with every hyper-parameter cast to the dtype first (1 - beta computed in the dtype,
    as Keras does), the bias corrections from np.power in the dtype."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _update(self, p, g, lr, st):
        dt = p.dtype.type
        b1, b2, one = dt(self.beta1), dt(self.beta2), dt(1)
        m = st["m"] = b1 * st.get("m", 0) + (one - b1) * g
        v = st["v"] = b2 * st.get("v", 0) + (one - b2) * np.square(g)
        t = dt(self._t)
        m_hat = m / (one - np.power(b1, t))
        v_hat = v / (one - np.power(b2, t))
        p -= dt(lr) * m_hat / (np.sqrt(v_hat) + dt(self.eps))


class Float64Inside(_PerParam):
    """AdamW keeping its state in float64 whatever the parameter dtype, with the decoupled decay folded
    into one expression: theta - lr (lambda theta + u)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay

    def _update(self, p, g, lr, st):
        g = g.astype(np.float64)
        q = p.astype(np.float64)
        m = st["m"] = self.beta1 * st.get("m", 0.0) + (1 - self.beta1) * g
        v = st["v"] = self.beta2 * st.get("v", 0.0) + (1 - self.beta2) * g**2
        u = m / (1 - self.beta1**self._t) / (np.sqrt(v / (1 - self.beta2**self._t)) + self.eps)
        p[...] = (q - lr * (self.weight_decay * q + u)).astype(p.dtype)


class TorchSGD(_PerParam):
    """PyTorch's SGD with dampening; the momentum buffer is created from the first gradient."""

    def __init__(self, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.momentum, self.dampening, self.nesterov, self.weight_decay = momentum, dampening, nesterov, weight_decay

    def _update(self, p, g, lr, st):
        dt = p.dtype.type
        d_p = g + dt(self.weight_decay) * p if self.weight_decay else g
        if self.momentum:
            if "buf" not in st:
                st["buf"] = d_p.copy()
            else:
                st["buf"] = dt(self.momentum) * st["buf"] + dt(1 - self.dampening) * d_p
            d_p = d_p + dt(self.momentum) * st["buf"] if self.nesterov else st["buf"]
        p += d_p * dt(-lr)


class ExpandedNesterov(_PerParam):
    """Nesterov momentum expanded: theta -= lr ((1 + mu) g + mu^2 b_prev), b = mu b_prev + g."""

    def __init__(self, momentum=0.9):
        self.momentum = momentum

    def _update(self, p, g, lr, st):
        mu = self.momentum
        prev = st.get("b", np.zeros(p.shape))
        st["b"] = mu * prev + g
        p -= (lr * ((1 + mu) * g.astype(np.float64) + mu * mu * prev)).astype(p.dtype)


class HeavyBall(_PerParam):
    """Momentum without any other parameter; the buffer starts at zeros (mu * 0 + g = g)."""

    def __init__(self, momentum=0.9):
        self.momentum = momentum

    def _update(self, p, g, lr, st):
        b = st.setdefault("b", np.zeros_like(p))
        b *= p.dtype.type(self.momentum)
        b += g
        np.subtract(p, p.dtype.type(lr) * b, out=p)


class UnclippedRMSprop(_PerParam):
    """RMSprop, centered without the clip at 0, the division written as a product with a reciprocal."""

    def __init__(self, rho=0.99, eps=1e-8, momentum=0.0, centered=False):
        self.rho, self.eps, self.momentum, self.centered = rho, eps, momentum, centered

    def _update(self, p, g, lr, st):
        g = g.astype(np.float64)
        v = st["v"] = st.get("v", 0.0) + (1 - self.rho) * (g * g - st.get("v", 0.0))
        if self.centered:
            a = st["a"] = st.get("a", 0.0) + (1 - self.rho) * (g - st.get("a", 0.0))
            v = v - a * a
        d = g * (1.0 / (np.sqrt(v) + self.eps))
        if self.momentum:
            d = st["b"] = self.momentum * st.get("b", 0.0) + d
        p -= (lr * d).astype(p.dtype)


class TorchAdagrad(_PerParam):
    """PyTorch's Adagrad with lr_decay, the accumulator kept in float64."""

    def __init__(self, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0, lr_decay=0.0):
        self.eps, self.initial_accumulator_value = eps, initial_accumulator_value
        self.weight_decay, self.lr_decay = weight_decay, lr_decay

    def _update(self, p, g, lr, st):
        g = g.astype(np.float64) + self.weight_decay * p.astype(np.float64)
        st.setdefault("G", np.full(p.shape, float(self.initial_accumulator_value)))
        st["G"] = st["G"] + g * g
        clr = lr / (1 + (self._t - 1) * self.lr_decay)
        p -= (clr * g / (np.sqrt(st["G"]) + self.eps)).astype(p.dtype)


class Float64Sgd(Optimizer):
    """Plain sgd computed in float64 and rounded once to the parameter dtype (a double rounding in float32)."""

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p[...] = (p.astype(np.float64) - lr * g.astype(np.float64)).astype(p.dtype)


CORRECT = [
    ("torch_adam", TorchAdam(), ("adam",)),
    ("torch_adam_amsgrad_l2", TorchAdam(amsgrad=True, weight_decay=0.05), ("adam",)),
    ("cast_first_adam", CastFirstAdam(), ("adam",)),
    ("float64_inside_adamw", Float64Inside(), ("adamw",)),
    ("torch_sgd", TorchSGD(), ("sgd",)),
    ("torch_sgd_nesterov", TorchSGD(momentum=0.8, nesterov=True, weight_decay=0.01), ("sgd", "nesterov")),
    ("torch_sgd_dampened", TorchSGD(momentum=0.9, dampening=0.3), ("sgd", "momentum")),
    ("expanded_nesterov", ExpandedNesterov(), ("nesterov", "nag")),
    ("heavy_ball", HeavyBall(), ("momentum",)),
    ("torch_adagrad", TorchAdagrad(), ("adagrad",)),
    ("float64_sgd", Float64Sgd(), ("sgd",)),
]


@pytest.mark.parametrize("name,component,implements", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_optimizers_written_differently_pass_every_check(name, component, implements):
    report = check_component(component, implements=implements, name=name)
    assert report.failures() == [], "\n\n".join(r.message for r in report.failures())
    statuses = {r.check_id: r.status for r in report.results}
    assert statuses["OPT-FORMULA"] == "passed"


def test_a_centered_rmsprop_without_the_clip_at_zero_fails_on_a_constant_gradient():
    # PyTorch's form: sqrt(v - g_avg^2) without the clip; once the averages converge the difference is a
    # rounding error of either sign, and its square root a NaN. The formula (and the built-in) clip it.
    report = check_component(UnclippedRMSprop(centered=True, momentum=0.5), implements=("rmsprop",),
                             checks=["OPT-FORMULA"])
    [result] = report.results
    assert result.status == "failed" and "constant gradient" in result.message and "np.maximum" in result.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_false_failures_over_seeds(seed):
    for name, component, implements in CORRECT:
        report = check_component(component, implements=implements, name=name, seed=seed,
                                 checks=["OPT-FORMULA", "LR-SGD-EXACT"])
        assert report.ok, (name, seed, [r.message for r in report.failures()])


def test_the_vocabulary_names_every_formula_of_the_issue_with_aliases():
    names = set(formula_names("optimizer"))
    assert {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "nag", "sgd_momentum"} <= names
    assert get_formula("optimizer", "nag").name == "nesterov"
    for f in formulas("optimizer"):
        assert set(f.space) <= set(f.defaults) and f.meta["elementwise"], f.name
        assert f.examples, f.name
    with npl.isolated_registry() as reg:
        for entry in reg.entries("optimizer"):
            reg_ = entry.registration
            assert tuple(reg_.implements) == (reg_.name,)
            assert set(reg_.parameter_space) <= set(get_formula("optimizer", reg_.name).defaults)


def test_an_alias_claim_is_checked_like_the_name():
    from spec_mutants.optimizers import SGDHalf

    report = check_component(SGDHalf(), implements=("gradient_descent",))
    failed = {r.check_id for r in report.failures()}
    assert {"OPT-FORMULA", "LR-SGD-EXACT", "LR-FIT-STEP"} <= failed


def test_the_references_agree_with_textbook_updates():
    rng = np.random.default_rng(0)
    theta0, grads, lrs = rng.standard_normal(6), rng.standard_normal((5, 6)), [0.1, 0.2, 0.05, 0.3, 0.1]
    values, errors = get_formula("optimizer", "adam").reference(theta0, grads, lrs, np.dtype(np.float64),
                                                                beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                                                                amsgrad=False)
    p, m, v = theta0.copy(), 0.0, 0.0
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert np.allclose(values[t - 1], p, rtol=1e-12, atol=1e-14)
    assert np.all(errors > 0) and np.all(errors < 1e-12)  # a tight bound: the check keeps its teeth
    values, _ = get_formula("optimizer", "nesterov").reference(theta0, grads, lrs, np.dtype(np.float64),
                                                               momentum=0.5, weight_decay=0.0)
    p, b = theta0.copy(), 0.0
    for g, lr in zip(grads, lrs):
        b = 0.5 * b + g
        p = p - lr * (g + 0.5 * b)
    assert np.allclose(values[-1], p, rtol=1e-12, atol=1e-14)


def test_running_error_bounds():
    unit = np.finfo(np.float64).eps
    a = Approx.exact(np.array([1.0]), np.float64)
    assert float((a + 2.0).error[0]) == pytest.approx(3 * unit)  # u (|1| + |2|)
    assert float((a * 3.0).error[0]) == pytest.approx(3 * unit)
    assert float(a.const(0.1).error) == 0.0  # Python floats are float64
    f32 = Approx.exact(np.array([1.0]), np.float32).const(0.1)
    assert float(f32.error) == pytest.approx(abs(float(np.float32(0.1)) - 0.1))
    # 1 - b^t: the cancellation shows in the bound (about t u b^t absolutely)
    b = Approx.exact(np.array([0.999]), np.float64)
    bc = 1 - b**3
    assert float(bc.error[0]) / float(bc.value[0]) > 500 * unit
    zero = Approx(np.array([0.0]), np.array([1e-20]), np.float64).sqrt()
    assert float(zero.error[0]) == pytest.approx(1e-10)  # sqrt is not Lipschitz at 0


def test_formula_failures_name_formula_config_step_array_and_entry():
    from spec_mutants.optimizers import AdamCorrectsMOnly

    report = check_component(AdamCorrectsMOnly(), implements=("adam",), checks=["OPT-FORMULA"])
    message = report.failures()[0].message
    for part in ("formula 'adam' with beta1=0.9", "after step", "params[", "expected:", "found:",
                 "allowed error", "float64 parameters", "built with", "fix step()"):
        assert part in message, (part, message)


def test_parameters_of_a_formula_are_drawn_and_unknown_ones_left_at_the_default():
    cases = list(formula_cases(npl.spec.runner.subject_from_instance(HeavyBall(), implements=("momentum",))))
    momenta = {c.params["momentum"] for c in cases}
    assert len(momenta) >= 3  # own, example 0.5, drawn
    assert all(c.params["dampening"] == 0.0 and c.params["weight_decay"] == 0.0 for c in cases)
    assert all(set(c.config) == {"momentum"} for c in cases)


class ForgetsMomentumState(TorchSGD):
    """Correct steps, but get_state() leaves out the momentum buffers (wrong only with momentum)."""

    def get_state(self):
        return {"t": getattr(self, "_t", 0), "s": [{} for _ in (self._state or [])]}


def test_contract_checks_run_over_the_declared_configs():
    # with its default (no momentum) config the state is complete ...
    assert check_component(ForgetsMomentumState(), checks=["OPT-STATE-ROUNDTRIP"]).ok
    # ... a declared example config with momentum shows the missing buffer
    report = check_component(ForgetsMomentumState(), checks=["OPT-STATE-ROUNDTRIP"],
                             example_configs=[{"momentum": 0.9}])
    assert not report.ok and "momentum': 0.9" in report.failures()[0].message
    # ... and so does a config drawn from the declared parameter space
    report = check_component(ForgetsMomentumState(), checks=["OPT-STATE-ROUNDTRIP"],
                             parameter_space={"momentum": npl.Param.real(0.5, 0.99)})
    assert not report.ok


def test_builtin_optimizers_pass_with_drawn_configs_and_thorough():
    report = npl.spec.run_spec("optimizers", thorough=True, checks=["OPT-FORMULA", "OPT-STATE-ROUNDTRIP",
                                                                    "OPT-ZERO-LR", "LR-LARGER-MORE"])
    assert report.ok, [r.message for r in report.failures()]
    assert {r.status for r in report.results} == {"passed"}
