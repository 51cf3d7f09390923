"""Blind corpus: learning-rate schedules.

Written from the public plugin-author documentation only (README, docs/plugins.rst,
docs/guide, docs/concepts, docs/reference, docs/spec-reference.md, the docstrings of
core/base.py, core/types.py, core/hookspecs.py, core/errors.py, core/validation.py) and
the built-ins' registrations (formula, parameters and their defaults, properties) and
class docstrings (``help()``) read through the public registry API. Nothing under
spec_tests/ nor plugins/ was read.

``CORRECT`` schedules compute the registered closed form eta(t) written another way
(exp/log instead of a power, a loop instead of a power, the sin^2 half-angle identity,
bisect, ...), with the built-in's ``unit`` default and with preview()/observe()/get_state
left at their defaults unless the formula is stateful. ``MUTANTS`` subclass a correct
schedule and override one thing, so that each carries exactly one fault.

Formulas (registrations and docstrings):

* constant: eta_0; step_decay: eta_0 gamma^floor(t/s); multi_step: eta_0 gamma^|{m_i <= t}|;
* exponential_decay: eta_0 r^(t/s) (r^floor(t/s) with staircase); inverse_time_decay:
  eta_0 / (1 + r t/s) (floor(t/s) with staircase);
* polynomial_decay (alias linear): eta_e + (eta_0 - eta_e)(1 - min(t,T)/T)^p, eta_e = f_e eta_0;
* cosine_annealing: eta_min + (eta_0 - eta_min)(1 + cos(pi min(t,T)/T))/2, eta_min absolute;
* cosine_warm_restarts: the same within periods T_0, T_0 m, T_0 m^2, ...;
* piecewise: eta_0 v_i for b_{i-1} <= t < b_i (a boundary step belongs to the next piece);
* linear_warmup: eta_0 (s + (1-s) t/W) for t < W, default s = 1/(W+1), then after(t - W);
* one_cycle: u = pT - 1, cos_anneal(eta_0/d, eta_0, t/u) for t <= u, then
  cos_anneal(eta_0, eta_0/(d d_f), min(1, (t-u)/(T-1-u))), cos_anneal(a,b,x) = b + (a-b)(1+cos pi x)/2;
  unit "batch" by default (every other: "epoch");
* reduce_on_plateau: min(eta_0, max(eta_0 phi^k, eta_min)), k reductions so far, updated in observe().
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

import numpy as np

import neuroplug as npl
from neuroplug.base import Schedule
from neuroplug.validation import check_bool, check_choice, check_number

from . import Case

UNITS = ("epoch", "batch")


def _unit(unit):
    return check_choice("unit", unit, UNITS)


# ---------------------------------------------------------------------------------------
# Correct components
# ---------------------------------------------------------------------------------------


class ConstantRate(Schedule):
    """eta(t) = eta_0, returned as float(base_lr)."""

    decaying = True

    def __init__(self, unit="epoch"):
        self.unit = _unit(unit)

    def __call__(self, step, base_lr):
        return float(base_lr)


class StepDecayLoop(Schedule):
    """step_decay by repeated multiplication: gamma applied floor(t/s) times (t // s)."""

    def __init__(self, step_size=10, gamma=0.5, unit="epoch"):
        self.step_size = check_number("step_size", step_size, low=1, integer=True)
        self.gamma = check_number("gamma", gamma, low=0, high=1, low_inclusive=False)
        self.unit = _unit(unit)

    def _drops(self, step):
        return step // self.step_size

    def __call__(self, step, base_lr):
        lr = float(base_lr)
        for _ in range(self._drops(step)):
            lr *= self.gamma
        return lr


class StepDecayFloorPow(Schedule):
    """step_decay as eta_0 * gamma ** floor(t / s) with math.floor of a true division; the
    decaying attribute set on the instance rather than declared as a property."""

    def __init__(self, step_size=10, gamma=0.5, unit="epoch"):
        self.step_size = step_size
        self.gamma = gamma
        self.unit = unit
        self.decaying = True

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** math.floor(step / self.step_size)


class ExponentialDecayExpLog(Schedule):
    """exponential_decay as eta_0 exp((t/s) log r) (floor(t/s) with staircase)."""

    decaying = True

    def __init__(self, decay_rate=0.96, decay_steps=1, staircase=False, unit="epoch"):
        self.decay_rate = check_number("decay_rate", decay_rate, low=0, high=1, low_inclusive=False)
        self.decay_steps = check_number("decay_steps", decay_steps, low=0, low_inclusive=False)
        self.staircase = check_bool("staircase", staircase)
        self.unit = _unit(unit)

    def _exponent(self, step):
        x = step / self.decay_steps
        return math.floor(x) if self.staircase else x

    def __call__(self, step, base_lr):
        return base_lr * math.exp(self._exponent(step) * math.log(self.decay_rate))


class ExponentialDecayVectorPreview(ExponentialDecayExpLog):
    """exponential_decay r ** (t/s) per step, with preview() overridden by a vectorised numpy
    power over np.arange(n) (allowed to round differently, within 1e-12 relative)."""

    def __call__(self, step, base_lr):
        x = step / self.decay_steps
        return base_lr * self.decay_rate ** (math.floor(x) if self.staircase else x)

    def preview(self, n, base_lr=1.0):
        x = np.arange(n, dtype=np.float64) / self.decay_steps
        if self.staircase:
            x = np.floor(x)
        return base_lr * np.power(self.decay_rate, x)


class InverseTimeDecayRatio(Schedule):
    """inverse_time_decay as eta_0 s / (s + r t) (eta_0 / (1 + r floor(t/s)) with staircase)."""

    decaying = True

    def __init__(self, decay_rate=0.5, decay_steps=1, staircase=False, unit="epoch"):
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.staircase = staircase
        self.unit = unit

    def __call__(self, step, base_lr):
        if self.staircase:
            return base_lr / (1.0 + self.decay_rate * math.floor(step / self.decay_steps))
        return base_lr * self.decay_steps / (self.decay_steps + self.decay_rate * step)


class PolynomialDecayFraction(Schedule):
    """polynomial_decay as eta_0 (f_e + (1 - f_e) q^p), q = max(0, (T - t)/T)."""

    decaying = True

    def __init__(self, total_steps=100, end_lr_factor=0.0, power=1.0, unit="epoch"):
        self.total_steps = check_number("total_steps", total_steps, low=1, integer=True)
        self.end_lr_factor = check_number("end_lr_factor", end_lr_factor, low=0, high=1)
        self.power = check_number("power", power, low=0, low_inclusive=False)
        self.unit = _unit(unit)

    def _remaining(self, step):
        return max(0.0, (self.total_steps - step) / self.total_steps)

    def __call__(self, step, base_lr):
        f = self.end_lr_factor
        return base_lr * (f + (1.0 - f) * self._remaining(step) ** self.power)


class LinearDecay(Schedule):
    """The alias ``linear``: eta_0 (1 - (1 - f_e) min(t,T)/T); no ``power`` parameter (taken at
    the formula's default 1)."""

    decaying = True

    def __init__(self, total_steps=100, end_lr_factor=0.0, unit="epoch"):
        self.total_steps = total_steps
        self.end_lr_factor = end_lr_factor
        self.unit = unit

    def __call__(self, step, base_lr):
        done = min(step, self.total_steps) / self.total_steps
        return base_lr * (1.0 - (1.0 - self.end_lr_factor) * done)


class CosineAnnealingSin2(Schedule):
    """cosine_annealing by the half-angle identity (1 + cos x)/2 = 1 - sin^2(x/2):
    eta_0 - (eta_0 - eta_min) sin^2(pi min(t,T) / (2T))."""

    decaying = True

    def __init__(self, total_steps=100, min_lr=0.0, unit="epoch"):
        self.total_steps = check_number("total_steps", total_steps, low=1, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)

    def _progress(self, step):
        return min(step, self.total_steps) / self.total_steps

    def _lr(self, x, base_lr, low):
        s = math.sin(0.5 * math.pi * x)
        return base_lr - (base_lr - low) * s * s

    def __call__(self, step, base_lr):
        return self._lr(self._progress(step), base_lr, self.min_lr)


class CosineWarmRestartsLoop(Schedule):
    """cosine_warm_restarts: the current period found by an integer loop, then cos^2(pi x/2)."""

    def __init__(self, t_0=10, t_mult=2, min_lr=0.0, unit="epoch"):
        self.t_0 = check_number("t_0", t_0, low=1, integer=True)
        self.t_mult = check_number("t_mult", t_mult, low=1, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)

    def __call__(self, step, base_lr):
        start, period = 0, self.t_0
        if self.t_mult == 1:
            start = (step // period) * period
        else:
            while step >= start + period:
                start += period
                period *= self.t_mult
        c = math.cos(0.5 * math.pi * (step - start) / period)
        return self.min_lr + (base_lr - self.min_lr) * c * c


class MultiStepBisect(Schedule):
    """multi_step: gamma ** bisect_right(milestones, t)."""

    decaying = True

    def __init__(self, milestones=(30, 80, 500), gamma=0.1, unit="epoch"):
        self.milestones = [int(m) for m in milestones]
        self.gamma = gamma
        self.unit = unit

    def _passed(self, step):
        return bisect_right(self.milestones, step)

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** self._passed(step)


class PiecewiseBisect(Schedule):
    """piecewise: values[bisect_right(boundaries, t)] times the base rate (not declared decaying)."""

    def __init__(self, boundaries=(10, 50), values=(1.0, 0.5, 0.1), unit="epoch"):
        self.boundaries = [int(b) for b in boundaries]
        self.values = [float(v) for v in values]
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError("values needs one more entry than boundaries")
        self.unit = unit

    def _piece(self, step):
        return bisect_right(self.boundaries, step)

    def __call__(self, step, base_lr):
        return base_lr * self.values[self._piece(step)]


class LinearWarmupThen(Schedule):
    """linear_warmup: eta_0 (s + (1-s) t/W) (default s = 1/(W+1), i.e. eta_0 (t+1)/(W+1)),
    then ``after`` (a Schedule built with neuroplug.create) shifted by W, or eta_0."""

    def __init__(self, warmup_steps=5, start_factor=None, after=None, unit="epoch"):
        self.warmup_steps = check_number("warmup_steps", warmup_steps, low=0, integer=True)
        self.start_factor = start_factor
        self.after = after
        self.unit = _unit(unit)
        self._after = None if after is None else npl.create("schedule", after)

    def _ramp(self, step, base_lr):
        w = self.warmup_steps
        if self.start_factor is None:
            return base_lr * (step + 1) / (w + 1)
        s = self.start_factor
        return base_lr * (s + (1.0 - s) * step / w)

    def __call__(self, step, base_lr):
        if step < self.warmup_steps:
            return self._ramp(step, base_lr)
        if self._after is None:
            return float(base_lr)
        return self._after(step - self.warmup_steps, base_lr)


class OneCycleCos2(Schedule):
    """one_cycle with cos_anneal(a, b, x) written as b + (a - b) cos^2(pi x / 2); unit 'batch'."""

    def __init__(self, total_steps=100, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, unit="batch"):
        self.total_steps = check_number("total_steps", total_steps, low=2, integer=True)
        self.pct_start = check_number("pct_start", pct_start, low=0, high=1, low_inclusive=False,
                                      high_inclusive=False)
        if not pct_start * total_steps > 1:
            raise npl.ConfigError(f"pct_start * total_steps must be > 1, got {pct_start} * {total_steps}")
        self.div_factor = check_number("div_factor", div_factor, low=1)
        self.final_div_factor = check_number("final_div_factor", final_div_factor, low=1)
        self.unit = _unit(unit)

    def _peak_step(self):
        return self.pct_start * self.total_steps - 1.0

    @staticmethod
    def _anneal(a, b, x):
        c = math.cos(0.5 * math.pi * x)
        return b + (a - b) * c * c

    def __call__(self, step, base_lr):
        initial = base_lr / self.div_factor
        final = initial / self.final_div_factor
        u = self._peak_step()
        if step <= u:
            return self._anneal(initial, base_lr, step / u)
        x = min(1.0, (step - u) / (self.total_steps - 1 - u))
        return self._anneal(base_lr, final, x)


class ReduceOnPlateauCounter(Schedule):
    """reduce_on_plateau: eta_0 * factor**k clipped to [min_lr, eta_0]; observe() as documented;
    the state (best, wait, cooldown_left, reductions) round-trips through get_state/set_state."""

    decaying = True
    stateful = True

    def __init__(self, monitor="val_loss", mode="min", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
                 min_lr=0.0, unit="epoch"):
        self.monitor = monitor
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.factor = check_number("factor", factor, low=0, high=1, low_inclusive=False, high_inclusive=False)
        self.patience = check_number("patience", patience, low=1, integer=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.cooldown = check_number("cooldown", cooldown, low=0, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)
        self._best = None
        self._wait = 0
        self._cooldown_left = 0
        self._reductions = 0

    def __call__(self, step, base_lr):
        return min(base_lr, max(base_lr * self.factor ** self._reductions, self.min_lr))

    def _improves(self, value):
        if self._best is None:
            return True
        if self.mode == "min":
            return value < self._best - self.min_delta
        return value > self._best + self.min_delta

    def observe(self, epoch, metrics):
        if self.monitor not in metrics:
            return
        value = float(metrics[self.monitor])
        in_cooldown = self._cooldown_left > 0
        if in_cooldown:   # the epochs that follow a reduction, improving or not
            self._cooldown_left -= 1
        if self._improves(value):
            self._best = value
            self._wait = 0
            return
        if in_cooldown:
            return
        self._wait += 1
        if self._wait >= self.patience:
            self._reductions += 1
            self._wait = 0
            self._cooldown_left = self.cooldown

    def get_state(self):
        return {"best": self._best, "wait": self._wait, "cooldown_left": self._cooldown_left,
                "reductions": self._reductions}

    def set_state(self, state):
        self._best = state["best"]
        self._wait = int(state["wait"])
        self._cooldown_left = int(state["cooldown_left"])
        self._reductions = int(state["reductions"])


# ---------------------------------------------------------------------------------------
# Mutants (each a correct component above with one fault)
# ---------------------------------------------------------------------------------------


class StepDecayOffByOne(StepDecayLoop):
    def _drops(self, step):
        return (step + 1) // self.step_size   # eta(t + 1)


class StepDecayNotFloored(StepDecayFloorPow):
    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** (step / self.step_size)   # no floor: a smooth decay


class StepDecayCallCounter(StepDecayLoop):
    """Counts its own calls instead of reading the step."""

    def __init__(self, step_size=10, gamma=0.5, unit="epoch"):
        super().__init__(step_size, gamma, unit)
        self._calls = 0

    def __call__(self, step, base_lr):
        lr = base_lr * self.gamma ** (self._calls // self.step_size)
        self._calls += 1
        return lr


class CosineWhereArray(CosineAnnealingSin2):
    def __call__(self, step, base_lr):
        s = math.sin(0.5 * math.pi * step / self.total_steps)
        # np.where returns a 0-d ndarray, not a scalar
        return np.where(step < self.total_steps, base_lr - (base_lr - self.min_lr) * s * s, self.min_lr)


class StepDecayUnitTypo(StepDecayLoop):
    def __init__(self, step_size=10, gamma=0.5, unit="epochs"):
        self.step_size = step_size
        self.gamma = gamma
        self.unit = unit   # "epochs" is not a unit


class ExponentialDecayOffByOne(ExponentialDecayExpLog):
    def _exponent(self, step):
        x = (step + 1) / self.decay_steps
        return math.floor(x) if self.staircase else x


class ExponentialDecayPerStep(ExponentialDecayExpLog):
    def _exponent(self, step):
        return math.floor(step) if self.staircase else step   # decay_steps ignored: r per step


class ExponentialDecayStaircaseIgnored(ExponentialDecayExpLog):
    def _exponent(self, step):
        return step / self.decay_steps


class InverseTimeStaircaseIgnored(InverseTimeDecayRatio):
    def __call__(self, step, base_lr):
        return base_lr * self.decay_steps / (self.decay_steps + self.decay_rate * step)


class PolynomialNoClamp(PolynomialDecayFraction):
    def _remaining(self, step):
        return (self.total_steps - step) / self.total_steps   # negative after T


class CosineIgnoresMinLR(CosineAnnealingSin2):
    def __call__(self, step, base_lr):
        return self._lr(self._progress(step), base_lr, 0.0)


class CosineNoClamp(CosineAnnealingSin2):
    def _progress(self, step):
        return step / self.total_steps   # rises again after T


class CosineOverTMinus1(CosineAnnealingSin2):
    def _progress(self, step):
        return min(step, self.total_steps - 1) / (self.total_steps - 1)


class CosineMinLRRelative(CosineAnnealingSin2):
    def __call__(self, step, base_lr):
        return self._lr(self._progress(step), base_lr, self.min_lr * base_lr)   # min_lr taken as a factor


class MultiStepBisectLeft(MultiStepBisect):
    def _passed(self, step):
        return bisect_left(self.milestones, step)   # the milestone step keeps the old rate


class PiecewiseAbsoluteValues(PiecewiseBisect):
    def __call__(self, step, base_lr):
        return self.values[self._piece(step)]   # not multiplied by base_lr


class LinearWarmupFromZero(LinearWarmupThen):
    def _ramp(self, step, base_lr):
        w = self.warmup_steps
        s = 0.0 if self.start_factor is None else self.start_factor   # default s = 0, not 1/(W+1)
        return base_lr * (s + (1.0 - s) * step / w)


class OneCycleEpochUnit(OneCycleCos2):
    def __init__(self, total_steps=100, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, unit="epoch"):
        super().__init__(total_steps, pct_start, div_factor, final_div_factor, unit)


class OneCyclePeakAtPT(OneCycleCos2):
    def _peak_step(self):
        return self.pct_start * self.total_steps   # u = pT, not pT - 1


class PlateauUndoesReduction(ReduceOnPlateauCounter):
    def observe(self, epoch, metrics):
        before = self._best
        super().observe(epoch, metrics)
        if before is not None and self._best != before and self._reductions > 0:
            self._reductions -= 1   # an improvement raises the rate again


class PlateauCooldownOnlyBadEpochs(ReduceOnPlateauCounter):
    def observe(self, epoch, metrics):
        if self.monitor not in metrics:
            return
        value = float(metrics[self.monitor])
        if self._improves(value):
            self._best = value
            self._wait = 0
            return
        if self._cooldown_left > 0:   # only bad epochs use up the cooldown
            self._cooldown_left -= 1
            return
        self._wait += 1
        if self._wait >= self.patience:
            self._reductions += 1
            self._wait = 0
            self._cooldown_left = self.cooldown


class PlateauStateIncomplete(ReduceOnPlateauCounter):
    def get_state(self):
        return {"best": self._best, "wait": self._wait, "cooldown_left": self._cooldown_left}

    def set_state(self, state):
        self._best = state["best"]
        self._wait = int(state["wait"])
        self._cooldown_left = int(state["cooldown_left"])


DECAYING = ("decaying",)

CORRECT: list[Case] = [
    Case("constant_float", ConstantRate(), implements=("constant",), properties=DECAYING,
         form="float(base_lr)"),
    Case("step_decay_loop", StepDecayLoop(), implements=("step_decay",), properties=DECAYING,
         form="gamma multiplied t // s times in a loop instead of gamma ** k"),
    Case("step_decay_floor_pow_attr", StepDecayFloorPow(step_size=3, gamma=0.7), implements=("step_decay",),
         form="gamma ** math.floor(t / s); decaying set on the instance, not declared as a property"),
    Case("exponential_decay_exp_log", ExponentialDecayExpLog(), implements=("exponential_decay",),
         properties=DECAYING, form="eta_0 exp((t/s) log r)"),
    Case("exponential_decay_staircase_batch", ExponentialDecayExpLog(decay_rate=0.5, decay_steps=7.5,
                                                                     staircase=True, unit="batch"),
         implements=("exponential_decay",), properties=DECAYING,
         form="staircase with a fractional decay_steps, unit batch, exp/log form"),
    Case("exponential_decay_vector_preview", ExponentialDecayVectorPreview(decay_rate=0.9, decay_steps=3),
         implements=("exponential_decay",), properties=DECAYING,
         form="r ** (t/s) per step; preview() overridden with a vectorised np.power over np.arange(n)"),
    Case("inverse_time_decay_ratio", InverseTimeDecayRatio(), implements=("inverse_time_decay",),
         properties=DECAYING, form="eta_0 s / (s + r t)"),
    Case("polynomial_decay_fraction", PolynomialDecayFraction(total_steps=100, end_lr_factor=0.01, power=2.0),
         implements=("polynomial_decay",), properties=DECAYING,
         form="eta_0 (f + (1-f) max(0, (T-t)/T)^p) (end rate factored out)"),
    Case("linear_alias_no_power", LinearDecay(), implements=("linear",), properties=DECAYING,
         form="alias 'linear'; eta_0 (1 - (1-f) min(t,T)/T); no power parameter (formula default 1)"),
    Case("cosine_annealing_sin2", CosineAnnealingSin2(), implements=("cosine_annealing",), properties=DECAYING,
         form="eta_0 - (eta_0 - eta_min) sin^2(pi min(t,T)/(2T))"),
    Case("cosine_warm_restarts_loop", CosineWarmRestartsLoop(), implements=("cosine_warm_restarts",),
         form="period found by an integer loop, then min + (eta_0 - min) cos^2(pi t_cur/(2 T_i))"),
    Case("multi_step_bisect", MultiStepBisect(), implements=("multi_step",), properties=DECAYING,
         form="gamma ** bisect_right(milestones, t)"),
    Case("piecewise_bisect", PiecewiseBisect(), implements=("piecewise",),
         form="values[bisect_right(boundaries, t)] * base_lr"),
    Case("linear_warmup_then_cosine", LinearWarmupThen(after={"name": "cosine_annealing",
                                                              "config": {"total_steps": 50}}),
         implements=("linear_warmup",), form="eta_0 (t+1)/(W+1) by default, then the built-in cosine via create()"),
    Case("linear_warmup_start_factor", LinearWarmupThen(warmup_steps=8, start_factor=0.25),
         implements=("linear_warmup",), form="explicit start_factor, after=None keeps eta_0"),
    Case("one_cycle_cos2", OneCycleCos2(), implements=("one_cycle",),
         form="cos_anneal as b + (a-b) cos^2(pi x/2); unit 'batch' like the built-in"),
    Case("reduce_on_plateau_counter", ReduceOnPlateauCounter(patience=2, cooldown=1),
         implements=("reduce_on_plateau",), properties=DECAYING,
         form="stateful; private counters; get_state/set_state of best, wait, cooldown_left, reductions"),
    Case("one_cycle_epoch_unit", OneCycleEpochUnit(), implements=("one_cycle",),
         form="unit defaults to 'epoch' (the built-in's default is 'batch'): a different default of a formula "
              "parameter is a legitimate choice, the formula is followed for the unit it is given"),
]

MUTANTS: list[Case] = [
    Case("step_decay_off_by_one", StepDecayOffByOne(), implements=("step_decay",), properties=DECAYING,
         breaks="step_decay: eta(t) = eta_0 gamma^floor(t/s), t from 0; computes eta(t+1)"),
    Case("step_decay_not_floored", StepDecayNotFloored(), implements=("step_decay",), properties=DECAYING,
         breaks="step_decay: gamma^floor(t/s) (a staircase); the exponent is not floored"),
    Case("step_decay_call_counter", StepDecayCallCounter(), implements=("step_decay",), properties=DECAYING,
         breaks="a schedule is a closed-form, stateless eta(t): the rate depends on the step, not on the calls"),
    Case("cosine_where_zero_dim_array", CosineWhereArray(), implements=("cosine_annealing",), properties=DECAYING,
         breaks="schedule(step, base_lr) returns a real scalar, not an array (fit rejects it): np.where gives a "
                "0-d ndarray"),
    Case("step_decay_unit_typo", StepDecayUnitTypo(), implements=("step_decay",), properties=DECAYING,
         breaks="unit is 'epoch' or 'batch' (any other value would silently be treated as epochs)"),
    Case("exponential_decay_off_by_one", ExponentialDecayOffByOne(), implements=("exponential_decay",),
         properties=DECAYING, breaks="a decaying schedule starts at the base rate: eta(0) = eta_0"),
    Case("exponential_decay_per_step", ExponentialDecayPerStep(decay_steps=10), implements=("exponential_decay",),
         properties=DECAYING, breaks="exponential_decay: r^(t/s), decay_rate applied per decay_steps steps; "
                                     "applied every step"),
    Case("exponential_decay_staircase_ignored", ExponentialDecayStaircaseIgnored(decay_steps=4, staircase=True),
         implements=("exponential_decay",), properties=DECAYING,
         breaks="exponential_decay with staircase: r^floor(t/s); staircase ignored"),
    Case("inverse_time_staircase_ignored", InverseTimeStaircaseIgnored(decay_steps=5, staircase=True),
         implements=("inverse_time_decay",), properties=DECAYING,
         breaks="inverse_time_decay with staircase uses floor(t/s) instead of t/s; ignored"),
    Case("polynomial_no_clamp", PolynomialNoClamp(), implements=("polynomial_decay",), properties=DECAYING,
         breaks="polynomial_decay uses min(t, T) (constant after T); rates must be finite and >= 0"),
    Case("cosine_ignores_min_lr", CosineIgnoresMinLR(min_lr=0.01), implements=("cosine_annealing",),
         properties=DECAYING, breaks="cosine_annealing decays to min_lr; min_lr ignored (decays to 0)"),
    Case("cosine_no_clamp", CosineNoClamp(), implements=("cosine_annealing",), properties=DECAYING,
         breaks="cosine_annealing: min(t, T), after T the rate stays at min_lr; a decaying schedule never increases"),
    Case("cosine_over_t_minus_1", CosineOverTMinus1(), implements=("cosine_annealing",), properties=DECAYING,
         breaks="cosine_annealing: the half cosine spans total_steps T; here T - 1"),
    Case("cosine_min_lr_relative", CosineMinLRRelative(min_lr=0.05), implements=("cosine_annealing",),
         properties=DECAYING, breaks="cosine_annealing: min_lr is an absolute rate; used as a factor of eta_0"),
    Case("multi_step_bisect_left", MultiStepBisectLeft(), implements=("multi_step",), properties=DECAYING,
         breaks="multi_step: gamma^|{m_i <= t}| (the milestone step already has the lower rate); uses m_i < t"),
    Case("piecewise_absolute_values", PiecewiseAbsoluteValues(), implements=("piecewise",),
         breaks="piecewise: eta_0 v_i, the values multiply base_lr; returns v_i"),
    Case("linear_warmup_from_zero", LinearWarmupFromZero(), implements=("linear_warmup",),
         breaks="linear_warmup: by default s = 1/(W+1), a positive rate at step 0; starts at 0"),
    Case("one_cycle_peak_at_pt", OneCyclePeakAtPT(), implements=("one_cycle",),
         breaks="one_cycle: the peak is at u = pT - 1; uses pT"),
    Case("plateau_undoes_reduction", PlateauUndoesReduction(patience=1), implements=("reduce_on_plateau",),
         properties=DECAYING, breaks="a decaying schedule never increases the rate, observations included "
                                     "(an improvement raises it again here)"),
    Case("plateau_cooldown_only_bad_epochs", PlateauCooldownOnlyBadEpochs(patience=1, cooldown=2),
         implements=("reduce_on_plateau",), properties=DECAYING,
         breaks="reduce_on_plateau: the cooldown epochs are the epochs that follow a reduction (improving or not); "
                "here only bad epochs use them up"),
    Case("plateau_state_incomplete", PlateauStateIncomplete(patience=1), implements=("reduce_on_plateau",),
         properties=DECAYING, breaks="state that changes during training must round-trip through "
                                     "get_state/set_state; the count of reductions is left out"),
]
