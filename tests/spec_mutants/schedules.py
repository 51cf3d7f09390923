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
