"""SCHED-FORMULA and the schedule references: correct schedules written differently pass, the
built-ins match their references, and the tolerance/ambiguity machinery says what it should.

The components below are correct implementations of the schedule formulas written in other
forms than the built-ins (numpy instead of math, ``exp(p log r)``, a per-step factor, loops,
``t // s`` and ``t * (1/s)`` floors, PyTorch's float-logarithm period index, vectorised
``preview`` overrides, Keras-style plateau state). The spec suite must pass every one of them
for several seeds (the drawn configs change with the seed): no false failures.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.base import Schedule
from neuroplug.spec import check_component
from neuroplug.spec.formulas import formula_names, get_formula
from neuroplug.spec.references import schedules as ref
from neuroplug.types import Param


class _Base(Schedule):
    unit = "epoch"


class CosineSin2(_Base):
    """eta_min + (eta_0 - eta_min) cos^2(pi f / 2), with numpy and a vectorised preview."""

    decaying = True

    def __init__(self, total_steps: int = 100, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps, self.min_lr, self.unit = total_steps, min_lr, unit

    def __call__(self, step, base_lr):
        if self.min_lr > base_lr:  # it would rise: refuse, as the built-in does
            raise ValueError(f"min_lr {self.min_lr} is above base_lr {base_lr}")
        f = np.minimum(step, self.total_steps) / self.total_steps
        return float(base_lr - (base_lr - self.min_lr) * np.sin(np.pi * f / 2) ** 2)

    def preview(self, n, base_lr=1.0):
        f = np.minimum(np.arange(n), self.total_steps) / self.total_steps
        return self.min_lr + (base_lr - self.min_lr) * np.cos(np.pi * f / 2) ** 2


class CosineWeighted(_Base):
    """base*(1+cos)/2 + min*(1-cos)/2: a convex combination instead of min + (base - min) w."""

    def __init__(self, total_steps: int = 100, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps, self.min_lr, self.unit = total_steps, min_lr, unit

    def __call__(self, step, base_lr):
        c = math.cos(math.pi * min(step, self.total_steps) / self.total_steps)
        return base_lr * (1 + c) / 2 + self.min_lr * (1 - c) / 2


class ExpDecayExpLog(_Base):
    """exp((t/s) log r), staircase with Python's float floor division t // s."""

    decaying = True

    def __init__(self, decay_rate: float = 0.96, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate, self.decay_steps, self.staircase, self.unit = decay_rate, decay_steps, staircase, unit

    def __call__(self, step, base_lr):
        p = step // self.decay_steps if self.staircase else step / self.decay_steps
        return base_lr * math.exp(p * math.log(self.decay_rate))


class ExpDecayPerStep(_Base):
    """A per-step factor r^(1/s) raised to the power t; the staircase floors t * (1/s)."""

    def __init__(self, decay_rate: float = 0.96, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate, self.decay_steps, self.staircase, self.unit = decay_rate, decay_steps, staircase, unit

    def __call__(self, step, base_lr):
        if self.staircase:
            return base_lr * self.decay_rate ** math.floor(step * (1.0 / self.decay_steps))
        return base_lr * (self.decay_rate ** (1.0 / self.decay_steps)) ** step

    def preview(self, n, base_lr=1.0):
        return np.array([self(t, base_lr) for t in range(n)])


class StepDecayLoop(_Base):
    """Repeated multiplication, one factor per finished piece."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5, unit: str = "epoch"):
        self.step_size, self.gamma, self.unit = step_size, gamma, unit

    def __call__(self, step, base_lr):
        lr = base_lr
        for _ in range(int(step / self.step_size)):
            lr *= self.gamma
        return lr


class StepDecayReciprocal(_Base):
    """gamma ** floor(t * (1/s)): one piece late at some multiples of s (49 * (1/49) < 1)."""

    def __init__(self, step_size: int = 49, gamma: float = 0.5, unit: str = "epoch"):
        self.step_size, self.gamma, self.unit = step_size, gamma, unit

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** math.floor(step * (1.0 / self.step_size))


class MultiStepCount(_Base):
    """gamma ** len([m for m in milestones if m <= t]) via numpy."""

    def __init__(self, milestones=(30, 80), gamma: float = 0.1, unit: str = "epoch"):
        self.milestones, self.gamma, self.unit = list(milestones), gamma, unit

    def __call__(self, step, base_lr):
        return float(base_lr * np.power(self.gamma, np.sum(np.asarray(self.milestones) <= step)))


class PiecewiseSearch(_Base):
    """np.searchsorted(side='right') for the piece index."""

    def __init__(self, boundaries=(10, 50), values=(1.0, 0.5, 0.1), unit: str = "epoch"):
        self.boundaries, self.values, self.unit = list(boundaries), list(values), unit

    def __call__(self, step, base_lr):
        return base_lr * self.values[int(np.searchsorted(self.boundaries, step, side="right"))]


class InverseTimeRational(_Base):
    """s / (s + r t) instead of 1 / (1 + r t / s)."""

    def __init__(self, decay_rate: float = 0.5, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate, self.decay_steps, self.staircase, self.unit = decay_rate, decay_steps, staircase, unit

    def __call__(self, step, base_lr):
        if self.staircase:
            return base_lr / (1 + self.decay_rate * math.floor(step / self.decay_steps))
        return base_lr * self.decay_steps / (self.decay_steps + self.decay_rate * step)


class PolynomialNumpy(_Base):
    """((T - t)/T)^p with numpy, end rate as a convex combination."""

    def __init__(self, total_steps: int = 100, end_lr_factor: float = 0.0, power: float = 1.0, unit: str = "epoch"):
        self.total_steps, self.end_lr_factor, self.power, self.unit = total_steps, end_lr_factor, power, unit

    def __call__(self, step, base_lr):
        x = (self.total_steps - min(step, self.total_steps)) / self.total_steps
        w = float(np.power(x, self.power))
        return base_lr * (w + self.end_lr_factor * (1 - w))

    def preview(self, n, base_lr=1.0):  # vectorised, and 1 - t/T instead of (T - t)/T
        x = 1.0 - np.minimum(np.arange(n), self.total_steps) / self.total_steps
        end = base_lr * self.end_lr_factor
        return end + (base_lr - end) * x**self.power


class LinearDecay(_Base):
    """The 'linear' alias: a straight line to 0 over total_steps, no power parameter."""

    def __init__(self, total_steps: int = 100, unit: str = "epoch"):
        self.total_steps, self.unit = total_steps, unit

    def __call__(self, step, base_lr):
        return base_lr * max(0.0, 1.0 - step / self.total_steps)


class WarmRestartsTorch(_Base):
    """PyTorch's CosineAnnealingWarmRestarts: the period index from a float logarithm."""

    def __init__(self, t_0: int = 10, t_mult: int = 1, min_lr: float = 0.0, unit: str = "epoch"):
        self.t_0, self.t_mult, self.min_lr, self.unit = t_0, t_mult, min_lr, unit

    def __call__(self, step, base_lr):
        if self.t_mult == 1:
            t_cur, t_i = step % self.t_0, self.t_0
        else:
            n = int(math.log(step / self.t_0 * (self.t_mult - 1) + 1, self.t_mult))
            t_cur = step - self.t_0 * (self.t_mult**n - 1) / (self.t_mult - 1)
            t_i = self.t_0 * self.t_mult**n
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


class OneCycleTorch(_Base):
    """PyTorch's OneCycleLR phase table (two phases, cos annealing)."""

    def __init__(self, total_steps: int = 100, pct_start: float = 0.3, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, unit: str = "batch"):
        self.total_steps, self.pct_start, self.unit = total_steps, pct_start, unit
        self.div_factor, self.final_div_factor = div_factor, final_div_factor

    def __call__(self, step, base_lr):
        initial = base_lr / self.div_factor
        phases = [(float(self.pct_start * self.total_steps) - 1, initial, base_lr),
                  (float(self.total_steps - 1), base_lr, initial / self.final_div_factor)]
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                pct = min(1.0, (step - start) / (end - start))
                return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
            start = end
        raise AssertionError


class WarmupLinearLR(_Base):
    """PyTorch's LinearLR factor s + (1 - s) min(t, W)/W, then a nested built-in shifted by W."""

    def __init__(self, warmup_steps: int = 5, start_factor: float | None = None, after=None, unit: str = "epoch"):
        self.warmup_steps, self.start_factor, self.unit = warmup_steps, start_factor, unit
        self.after = after
        self._after = None if after is None else npl.create("schedule", after)

    def __call__(self, step, base_lr):
        w = self.warmup_steps
        if step >= w:
            return base_lr if self._after is None else self._after(step - w, base_lr)
        s = 1.0 / (w + 1) if self.start_factor is None else self.start_factor
        return base_lr * (s + (1.0 - s) * min(step, w) / w)


class SequentialBisect(_Base):
    """Nested built-ins created by name, the piece found with bisect."""

    def __init__(self, schedules=("constant", {"name": "step_decay", "config": {"step_size": 3}}), milestones=(5,),
                 unit: str = "epoch"):
        self.schedules, self.milestones, self.unit = list(schedules), list(milestones), unit
        self._parts = [npl.create("schedule", s) for s in self.schedules]

    def __call__(self, step, base_lr):
        i = bisect_right(self.milestones, step)
        return self._parts[i](step - ([0] + self.milestones)[i], base_lr)


class PlateauKeras(_Base):
    """Keras-style: the rate itself is the state (multiplied by factor, floored), cooldown as documented."""

    stateful = True
    decaying = True

    def __init__(self, monitor: str = "val_loss", mode: str = "min", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, unit: str = "epoch"):
        self.monitor, self.mode, self.factor, self.patience = monitor, mode, factor, patience
        self.min_delta, self.cooldown, self.min_lr, self.unit = min_delta, cooldown, min_lr, unit
        self._scale, self._best, self._wait, self._cool = 1.0, None, 0, 0

    def get_state(self):
        return {"scale": self._scale, "best": self._best, "wait": self._wait, "cool": self._cool}

    def set_state(self, state):
        self._scale, self._best, self._wait, self._cool = (state["scale"], state["best"], state["wait"],
                                                           state["cool"])

    def __call__(self, step, base_lr):
        return min(base_lr, max(base_lr * self._scale, self.min_lr))

    def observe(self, epoch, metrics):
        current = metrics[self.monitor]
        sign = 1.0 if self.mode == "min" else -1.0
        skip_count = self._cool > 0
        self._cool = max(0, self._cool - 1)
        if self._best is None or sign * (self._best - current) > self.min_delta:
            self._best, self._wait = current, 0
            return
        if skip_count:
            return
        self._wait += 1
        if self._wait == self.patience:
            self._scale *= self.factor
            self._wait, self._cool = 0, self.cooldown


CORRECT = {
    "cosine_sin2": (CosineSin2(), ("cosine_annealing",), {"min_lr": Param.real(0.0, None, typical=(0.0, 0.05))}),
    "cosine_weighted": (CosineWeighted(total_steps=40, min_lr=0.002), ("cosine_annealing",), {}),
    "exp_decay_exp_log": (ExpDecayExpLog(), ("exponential_decay",), {}),
    "exp_decay_per_step": (ExpDecayPerStep(decay_rate=0.7, decay_steps=3.5), ("exponential_decay",), {}),
    "step_decay_loop": (StepDecayLoop(), ("step_decay",), {}),
    "step_decay_reciprocal": (StepDecayReciprocal(), ("step_decay",), {}),
    "multi_step_count": (MultiStepCount(), ("multi_step",), {}),
    "piecewise_search": (PiecewiseSearch(), ("piecewise",), {}),
    "inverse_time_rational": (InverseTimeRational(), ("inverse_time_decay",), {}),
    "polynomial_numpy": (PolynomialNumpy(), ("polynomial_decay",),
                         {"total_steps": Param.integer(1, None, typical=(300, 1000)),
                          "power": Param.real(0.0, None, low_open=True, log=True, typical=(0.05, 0.5)),
                          "end_lr_factor": Param.real(0.0, 1.0)}),
    "linear_decay": (LinearDecay(), ("linear",), {}),
    "warm_restarts_torch": (WarmRestartsTorch(t_0=3, t_mult=2), ("cosine_warm_restarts",), {}),
    "one_cycle_torch": (OneCycleTorch(), ("one_cycle",), {}),
    "warmup_linear_lr": (WarmupLinearLR(after={"name": "cosine_annealing", "config": {"total_steps": 30}}),
                         ("linear_warmup",), {}),
    "sequential_bisect": (SequentialBisect(), ("sequential",), {}),
    "plateau_keras": (PlateauKeras(), ("reduce_on_plateau",), {}),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_schedules_written_differently_pass(name, seed):
    component, implements, space = CORRECT[name]
    report = check_component(component, implements=implements, parameter_space=space, seed=seed, name=name)
    assert report.failures() == [], "\n\n".join(r.message for r in report.failures())
    statuses = {r.check_id: r.status for r in report.results}
    assert statuses["SCHED-FORMULA"] == "passed"


def test_every_builtin_implements_its_name_and_matches_its_reference():
    from neuroplug.registry import get_registry

    names = set(formula_names("schedule"))
    for entry in get_registry().entries("schedule"):
        if not entry.plugin.builtin:
            continue
        reg = entry.registration
        if reg.name == "callable":
            assert reg.implements == ()
            continue
        assert reg.implements == (reg.name,)
        assert set(reg.aliases) <= set(get_formula("schedule", reg.name).aliases)
        assert {reg.name, *reg.aliases} <= names
        assert set(reg.parameter_space) - {"unit"} <= set(get_formula("schedule", reg.name).defaults)


def test_references_never_import_the_plugins():
    import inspect

    source = inspect.getsource(ref)
    assert "neuroplug.plugins" not in source and "from neuroplug import plugins" not in source


def test_floor_quotient_flags_only_float_ambiguous_steps():
    assert ref._floor_quotient(1, 0.1) == (9, 10)  # 0.1 is slightly above 1/10: exact floor 9, 1/0.1 -> 10
    assert ref._floor_quotient(49, 49) == (1, 0)  # 49 * (1/49) = 0.9999999999999999
    assert ref._floor_quotient(48, 49) == (0, None)
    assert ref._floor_quotient(7, 2.5) == (2, None)
    assert ref._floor_quotient(0, 3) == (0, None)
    assert ref.step_decay(49, 1.0, 49, 0.5).alt == 1.0 and ref.step_decay(50, 1.0, 49, 0.5).alt is None


def test_warm_restarts_accept_the_previous_period_only_at_restarts():
    rates = [ref.cosine_warm_restarts(t, 1.0, 1, 10, 0.0) for t in range(130)]
    restarts = [t for t, r in enumerate(rates) if r.alt is not None]
    assert restarts == [1, 11, 111]
    assert all(r.alt == 0.0 for r in rates if r.alt is not None)
    restarts = [t for t in range(40) if ref.cosine_warm_restarts(t, 1.0, 4, 1, 0.0).alt is not None]
    assert restarts == [4, 8, 12, 16, 20, 24, 28, 32, 36]


def test_plateau_metrics_keep_clear_margins():
    rng = np.random.default_rng(0)
    for min_delta in (0.0, 1e-6, 0.03):
        values = ref.plateau_metrics(rng, 500, "max", min_delta)
        best = values[0]
        for v in values[1:]:
            gain = v - best
            assert gain > min_delta + max(min_delta / 4, 1e-4) or gain <= min_delta / 2 + 1e-12, (gain, min_delta)
            if gain > min_delta:
                best = v


def test_plateau_reference_follows_the_documented_semantics():
    params = {"monitor": "m", "mode": "min", "factor": 0.5, "patience": 2, "min_delta": 0.0, "cooldown": 1,
              "min_lr": 0.0}
    # 1 improves; 2 bad, 3 bad -> reduction (k=1) and one cooldown epoch; 4 ignored; 5, 6 bad -> k=2
    rates = [r.value for r in ref.reduce_on_plateau([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 1.0, **params)]
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    floored = ref.reduce_on_plateau([1.0, 2.0, 3.0], 0.01, **{**params, "min_lr": 0.1})
    assert floored[-1].value == 0.01  # min_lr never lifts the rate above the base rate


def test_compositions_use_the_nested_references():
    after = {"name": "step_decay", "config": {"step_size": 2, "gamma": 0.5}}
    values = [ref.linear_warmup(t, 1.0, 3, None, after).value for t in range(8)]
    assert values == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.5, 0.25])
    with pytest.raises(ref.Unresolved, match="not a schedule formula"):
        ref.linear_warmup(5, 1.0, 3, None, {"name": "no_such_schedule"})


def test_a_formula_check_failure_names_formula_config_step_and_method():
    from spec_mutants.schedules import MUTANTS

    mutant = next(m for m in MUTANTS if m.name == "decay_steps_multiplied")
    report = check_component(mutant.component, implements=mutant.implements)
    message = next(r.message for r in report.results if r.check_id == "SCHED-FORMULA")
    assert "formula 'exponential_decay' with decay_rate=" in message and "decay_steps=" in message
    assert "__call__" in message and "expected:" in message and "found:" in message and "step " in message


def test_unresolvable_nested_schedule_is_left_out_instead_of_failing():
    class Plain(_Base):
        def __call__(self, step, base_lr):
            return base_lr

    with npl.isolated_registry() as reg:
        reg.register(Plain, kind="schedule", name="plain_thing")
        component = WarmupLinearLR(warmup_steps=2, after="plain_thing")
        report = check_component(component, implements=("linear_warmup",))
    statuses = {r.check_id: r for r in report.results}
    # its own config (after="plain_thing", no formula) is left out; the formula's examples are checked
    assert statuses["SCHED-FORMULA"].status == "passed"
    with pytest.raises(ref.Unresolved, match="plain_thing"):
        ref.resolve("plain_thing")


# ------------------------------------------------------- configs reach the contract checks
def _statuses(component, **fields):
    report = check_component(component, **fields)
    return {r.check_id: r for r in report.results}


def test_a_unit_the_constructor_ignores_fails_unit_for_an_example_config():
    class UnitIgnored(_Base):
        def __init__(self, unit: str = "epoch"):
            self.unit = "epoch"

        def get_config(self):
            return {"unit": "epoch"}

        def __call__(self, step, base_lr):
            return base_lr

    results = _statuses(UnitIgnored(), example_configs=[{"unit": "batch"}])
    assert results["SCHED-UNIT"].status == "failed"
    assert "must store the unit" in results["SCHED-UNIT"].message


def test_a_parameter_the_constructor_drops_fails_the_round_trip_for_a_drawn_config():
    class GammaDropped(_Base):
        def __init__(self, gamma: float = 0.5, unit: str = "epoch"):
            self.gamma, self.unit = 0.5, unit

        def __call__(self, step, base_lr):
            return base_lr * self.gamma ** (step // 10)

    results = _statuses(GammaDropped(), parameter_space={"gamma": Param.real(0.0, 1.0, low_open=True)})
    assert results["SCHED-CONFIG-ROUNDTRIP"].status == "failed"
    assert "reports gamma=0.5" in results["SCHED-CONFIG-ROUNDTRIP"].message


def test_decay_checks_run_over_drawn_configs():
    class ClampsAtHundred(_Base):
        """Cosine annealing that clamps the step at 100 whatever total_steps is: rises past total_steps < 100."""

        decaying = True

        def __init__(self, total_steps: int = 100, unit: str = "epoch"):
            self.total_steps, self.unit = total_steps, unit

        def __call__(self, step, base_lr):
            return base_lr * (1 + math.cos(math.pi * min(step, 100) / self.total_steps)) / 2

    assert _statuses(ClampsAtHundred())["SCHED-DECAY-MONOTONE"].status == "passed"
    results = _statuses(ClampsAtHundred(), parameter_space={"total_steps": Param.integer(20, 60)})
    assert results["SCHED-DECAY-MONOTONE"].status == "failed"
    assert "built with total_steps=" in results["SCHED-DECAY-MONOTONE"].message
