"""Deliberately wrong learning-rate schedules (see ``spec_mutants/__init__.py``)."""

from __future__ import annotations

import math

import numpy as np

from neuroplug.base import Schedule

from . import Mutant


class CosineNoClamp(Schedule):
    """Cosine annealing that forgets min(t, T): after T steps the rate rises again."""

    decaying = True

    def __init__(self, total_steps: int = 100):
        self.total_steps = total_steps

    def __call__(self, step, base_lr):
        return base_lr * (1 + math.cos(math.pi * step / self.total_steps)) / 2


class StartsLow(Schedule):
    """Exponential decay that applies the first factor at step 0: starts at 0.9 base_lr."""

    decaying = True

    def __init__(self, rate: float = 0.9):
        self.rate = rate

    def __call__(self, step, base_lr):
        return base_lr * self.rate ** (step + 1)


class CountsCalls(Schedule):
    """Multiplies a running rate at each call (Keras-1 style): the rate depends on how often it was called."""

    def __init__(self, rate: float = 0.99):
        self.rate = rate
        self._calls = 0

    def __call__(self, step, base_lr):
        lr = base_lr * self.rate**self._calls
        self._calls += 1
        return lr


class SqrtPastEnd(Schedule):
    """Square-root decay (1 - t/T)^0.5 without clamping t at T: NaN after the end."""

    def __init__(self, total_steps: int = 300):
        self.total_steps = total_steps

    def __call__(self, step, base_lr):
        with np.errstate(invalid="ignore"):
            return float(base_lr * np.sqrt(np.float64(1 - step / self.total_steps)))


class PreviewOffByOne(Schedule):
    """Step decay whose vectorised preview() is shifted by one step."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5):
        self.step_size, self.gamma = step_size, gamma

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** (step // self.step_size)

    def preview(self, n, base_lr=1.0):
        t = np.arange(1, n + 1)
        return base_lr * self.gamma ** (t // self.step_size)


class BadUnit(Schedule):
    """A constant rate counting 'iteration's, a unit fit does not know."""

    unit = "iteration"

    def __call__(self, step, base_lr):
        return base_lr


class ReturnsArray(Schedule):
    """Returns a 0-d numpy array instead of a float."""

    def __call__(self, step, base_lr):
        return np.asarray(base_lr / (1 + step))


class ForgetfulConfig(Schedule):
    """Step decay whose get_config() forgets gamma."""

    def __init__(self, gamma: float = 0.5):
        self.gamma = gamma

    def get_config(self):
        return {}

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** (step // 10)


MUTANTS = [
    Mutant("decaying_rises", CosineNoClamp(), {"SCHED-DECAY-MONOTONE"}, properties=("decaying",),
           fix_hint="must never increase the learning rate"),
    Mutant("decaying_starts_low", StartsLow(), {"SCHED-DECAY-START"}, properties=("decaying",),
           fix_hint="must start at the initial learning rate"),
    Mutant("counts_calls", CountsCalls(), {"SCHED-STATELESS"}, fix_hint="without counters"),
    Mutant("nan_past_end", SqrtPastEnd(), {"SCHED-FINITE"}, fix_hint="finite number >= 0"),
    Mutant("preview_off_by_one", PreviewOffByOne(), {"SCHED-PREVIEW"}, fix_hint="check the step offset"),
    Mutant("bad_unit", BadUnit(), {"SCHED-UNIT"}, fix_hint="'epoch' or 'batch'"),
    Mutant("returns_array", ReturnsArray(), {"SCHED-INTERFACE"}, fix_hint="return float(...)"),
    Mutant("config_forgets_gamma", ForgetfulConfig(gamma=0.3), {"SCHED-CONFIG-ROUNDTRIP"},
           fix_hint="get_config() must return every constructor parameter"),
]


# ------------------------------------------------------------------ formula mutants (SCHED-FORMULA)
# Each claims a formula (``implements``) and is wrong in one statement; the class attribute
# ``decaying`` is left False so that only the formula check targets it.
class _Mutant(Schedule):
    unit = "epoch"


class CosineOffByOne(_Mutant):
    """Cosine annealing evaluated one step ahead: the statement ``f = min(t + 1, T) / T``."""

    def __init__(self, total_steps: int = 100, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps, self.min_lr, self.unit = total_steps, min_lr, unit

    def __call__(self, step, base_lr):
        f = min(step + 1, self.total_steps) / self.total_steps
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * f)) / 2


class CosineIgnoresMinLr(_Mutant):
    """Cosine annealing that anneals to 0 whatever min_lr says (correct for the default min_lr=0 only)."""

    def __init__(self, total_steps: int = 100, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps, self.min_lr, self.unit = total_steps, min_lr, unit

    def __call__(self, step, base_lr):
        return base_lr * (1 + math.cos(math.pi * min(step, self.total_steps) / self.total_steps)) / 2


class CosineOverTotalMinusOne(_Mutant):
    """Cosine annealing that reaches min_lr at step T - 1: the statement ``f = min(t, T - 1) / (T - 1)``."""

    def __init__(self, total_steps: int = 100, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps, self.min_lr, self.unit = total_steps, min_lr, unit

    def __call__(self, step, base_lr):
        last = max(self.total_steps - 1, 1)
        f = min(step, last) / last
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * f)) / 2


class StaircaseNotFloored(_Mutant):
    """Exponential decay whose staircase forgets the floor: ``r ** (t / s)`` in both modes."""

    def __init__(self, decay_rate: float = 0.5, decay_steps: float = 3, staircase: bool = True, unit: str = "epoch"):
        self.decay_rate, self.decay_steps, self.staircase, self.unit = decay_rate, decay_steps, staircase, unit

    def __call__(self, step, base_lr):
        return base_lr * self.decay_rate ** (step / self.decay_steps)


class DecayStepsMultiplied(_Mutant):
    """Exponential decay applying decay_steps the wrong way: ``r ** (t * s)`` (right for s = 1 only)."""

    def __init__(self, decay_rate: float = 0.96, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate, self.decay_steps, self.staircase, self.unit = decay_rate, decay_steps, staircase, unit

    def __call__(self, step, base_lr):
        p = step * self.decay_steps
        return base_lr * self.decay_rate ** (math.floor(p) if self.staircase else p)


class OneCycleWrongSplit(_Mutant):
    """1cycle whose rise ends at step ``pct_start * T`` instead of ``pct_start * T - 1``."""

    unit = "batch"

    def __init__(self, total_steps: int = 100, pct_start: float = 0.3, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, unit: str = "batch"):
        self.total_steps, self.pct_start, self.unit = total_steps, pct_start, unit
        self.div_factor, self.final_div_factor = div_factor, final_div_factor

    def __call__(self, step, base_lr):
        def anneal(a, b, x):
            return b + (a - b) * (1 + math.cos(math.pi * x)) / 2

        initial = base_lr / self.div_factor
        rise_end = self.pct_start * self.total_steps
        if step <= rise_end:
            return anneal(initial, base_lr, step / rise_end)
        fall = min(1.0, (step - rise_end) / (self.total_steps - 1 - rise_end))
        return anneal(base_lr, initial / self.final_div_factor, fall)


class MultiStepGammaOnce(_Mutant):
    """Multi-step decay that applies gamma once, after the first milestone, and never again."""

    def __init__(self, milestones=(3, 7, 12), gamma: float = 0.5, unit: str = "epoch"):
        self.milestones, self.gamma, self.unit = list(milestones), gamma, unit

    def __call__(self, step, base_lr):
        return base_lr * (self.gamma if step >= self.milestones[0] else 1.0)


class WarmupFromZero(_Mutant):
    """Linear warm-up that starts at 0 instead of start_factor: ``base_lr * t / W``."""

    def __init__(self, warmup_steps: int = 5, start_factor: float | None = None, after=None, unit: str = "epoch"):
        self.warmup_steps, self.start_factor, self.after, self.unit = warmup_steps, start_factor, after, unit

    def __call__(self, step, base_lr):
        if step < self.warmup_steps:
            return base_lr * step / self.warmup_steps
        return base_lr


class PolynomialIgnoresPower(_Mutant):
    """Polynomial decay that stores power but decays linearly: right for the default power=1 only."""

    def __init__(self, total_steps: int = 50, end_lr_factor: float = 0.0, power: float = 1.0, unit: str = "epoch"):
        self.total_steps, self.end_lr_factor, self.power, self.unit = total_steps, end_lr_factor, power, unit

    def __call__(self, step, base_lr):
        end = base_lr * self.end_lr_factor
        return end + (base_lr - end) * (1 - min(step, self.total_steps) / self.total_steps)


class RestartsIgnoreTMult(_Mutant):
    """Warm restarts with every period t_0 long, whatever t_mult says (right for t_mult=1 only)."""

    def __init__(self, t_0: int = 10, t_mult: int = 1, min_lr: float = 0.0, unit: str = "epoch"):
        self.t_0, self.t_mult, self.min_lr, self.unit = t_0, t_mult, min_lr, unit

    def __call__(self, step, base_lr):
        f = (step % self.t_0) / self.t_0
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * f)) / 2


class UnitNotStored(_Mutant):
    """Step decay that reports the unit it was given in get_config() but always counts epochs."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5, unit: str = "epoch"):
        self.step_size, self.gamma, self._given_unit = step_size, gamma, unit

    def get_config(self):
        return {"step_size": self.step_size, "gamma": self.gamma, "unit": self._given_unit}

    def __call__(self, step, base_lr):
        return base_lr * self.gamma ** (step // self.step_size)


class _Plateau(_Mutant):
    """A reduce-on-plateau written as documented; the mutants below change one statement."""

    stateful = True

    def __init__(self, monitor: str = "val_loss", mode: str = "min", factor: float = 0.5, patience: int = 2,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, unit: str = "epoch"):
        self.monitor, self.mode, self.factor, self.patience = monitor, mode, factor, patience
        self.min_delta, self.cooldown, self.min_lr, self.unit = min_delta, cooldown, min_lr, unit
        self.best, self.wait, self.cooldown_left, self.reductions = None, 0, 0, 0

    def get_state(self):
        return {"best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left,
                "reductions": self.reductions}

    def set_state(self, state):
        self.best, self.wait = state["best"], state["wait"]
        self.cooldown_left, self.reductions = state["cooldown_left"], state["reductions"]

    def floor(self, base_lr):
        return min(base_lr, max(base_lr * self.factor**self.reductions, self.min_lr))

    def __call__(self, step, base_lr):
        return self.floor(base_lr)

    def improved(self, value):
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def observe(self, epoch, metrics):
        value = float(metrics[self.monitor])
        in_cooldown = self.cooldown_left > 0
        if in_cooldown:
            self.cooldown_left -= 1
        if self.improved(value):
            self.best, self.wait = value, 0
        elif not in_cooldown:
            self.wait += 1
            if self.wait >= self.patience:
                self.reductions += 1
                self.wait, self.cooldown_left = 0, self.cooldown


class PlateauIgnoresMinLr(_Plateau):
    """Reduce-on-plateau without the min_lr floor: ``base_lr * factor ** k``."""

    def __call__(self, step, base_lr):
        return base_lr * self.factor**self.reductions


class PlateauIgnoresCooldown(_Plateau):
    """Reduce-on-plateau that counts the bad epochs of the cooldown too (right for cooldown=0 only)."""

    def observe(self, epoch, metrics):
        value = float(metrics[self.monitor])
        if self.improved(value):
            self.best, self.wait = value, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.reductions += 1
                self.wait = 0


class PlateauIgnoresMinDelta(_Plateau):
    """Reduce-on-plateau that takes any better value as an improvement, however small."""

    def improved(self, value):
        return self.best is None or (value < self.best if self.mode == "min" else value > self.best)


class PlateauWrongMetric(_Plateau):
    """Reduce-on-plateau that reads metrics['loss'] whatever its monitor is."""

    def observe(self, epoch, metrics):
        super().observe(epoch, {self.monitor: metrics.get("loss", 0.0)})


_FIX = "does not compute formula"
MUTANTS += [
    Mutant("cosine_off_by_one", CosineOffByOne(), {"SCHED-FORMULA"}, implements=("cosine_annealing",),
           fix_hint="one step early"),
    Mutant("cosine_ignores_min_lr", CosineIgnoresMinLr(), {"SCHED-FORMULA"}, implements=("cosine_annealing",),
           fix_hint=_FIX),
    Mutant("cosine_over_total_minus_one", CosineOverTotalMinusOne(), {"SCHED-FORMULA"},
           implements=("cosine_annealing",), fix_hint=_FIX),
    Mutant("staircase_not_floored", StaircaseNotFloored(), {"SCHED-FORMULA"}, implements=("exponential_decay",),
           fix_hint=_FIX),
    Mutant("decay_steps_multiplied", DecayStepsMultiplied(), {"SCHED-FORMULA"}, implements=("exponential_decay",),
           fix_hint=_FIX),
    Mutant("one_cycle_wrong_split", OneCycleWrongSplit(), {"SCHED-FORMULA"}, implements=("one_cycle",),
           fix_hint=_FIX),
    Mutant("multi_step_gamma_once", MultiStepGammaOnce(), {"SCHED-FORMULA"}, implements=("multi_step",),
           fix_hint=_FIX),
    Mutant("warmup_from_zero", WarmupFromZero(), {"SCHED-FORMULA"}, implements=("linear_warmup",), fix_hint=_FIX),
    Mutant("polynomial_ignores_power", PolynomialIgnoresPower(), {"SCHED-FORMULA"}, implements=("polynomial_decay",),
           fix_hint=_FIX),
    Mutant("restarts_ignore_t_mult", RestartsIgnoreTMult(), {"SCHED-FORMULA"}, implements=("cosine_warm_restarts",),
           fix_hint=_FIX),
    Mutant("unit_not_stored", UnitNotStored(), {"SCHED-FORMULA", "SCHED-UNIT"}, implements=("step_decay",),
           fix_hint="must store the unit parameter"),
    Mutant("plateau_ignores_min_lr", PlateauIgnoresMinLr(), {"SCHED-FORMULA"}, implements=("reduce_on_plateau",),
           fix_hint="does not follow formula"),
    Mutant("plateau_ignores_cooldown", PlateauIgnoresCooldown(), {"SCHED-FORMULA"},
           implements=("reduce_on_plateau",), fix_hint="fix observe()"),
    Mutant("plateau_ignores_min_delta", PlateauIgnoresMinDelta(), {"SCHED-FORMULA"},
           implements=("reduce_on_plateau",), fix_hint="fix observe()"),
    Mutant("plateau_wrong_metric", PlateauWrongMetric(), {"SCHED-FORMULA"}, implements=("reduce_on_plateau",),
           fix_hint="fix observe()"),
]


def _plateau_forgetting_reductions():
    """reduce_on_plateau whose get_state() leaves out the count of reductions: a resumed run starts
    again from the base rate (its set_state() keeps the fresh instance's count)."""
    from neuroplug.registry import create

    base = type(create("schedule", "reduce_on_plateau"))

    class PlateauForgetsReductions(base):
        def get_state(self):
            state = dict(super().get_state())
            state.pop("reductions", None)
            return state

        def set_state(self, state):
            super().set_state({"reductions": getattr(self, "reductions", 0), **state})

    return PlateauForgetsReductions(patience=2)


MUTANTS.append(Mutant("plateau_forgets_reductions", _plateau_forgetting_reductions(), {"SCHED-STATE-ROUNDTRIP"},
                      exact=True, fix_hint="get_state() must return every piece of state"))
