r"""Built-in learning-rate schedules.

A schedule is a closed-form :math:`\eta(t)` of the step :math:`t = 0, 1, \ldots`
(counted in ``unit``: epochs, or optimizer steps for ``"batch"``) and of the base
rate :math:`\eta_0` given at call time; calling it twice with the same arguments
gives the same rate. The one exception is ``reduce_on_plateau``, which also
depends on the metrics it has been shown through :meth:`observe`.

Step boundaries (``step_size``, ``milestones``, ``boundaries``) are the first step
of the new piece: ``multi_step(milestones=[30])`` uses :math:`\eta_0` for steps
0-29 and :math:`0.1\,\eta_0` from step 30, as PyTorch's ``MultiStepLR``.

Nested schedules (``after`` of ``linear_warmup``, ``schedules`` of ``sequential``)
may be given as instances, names or ``{"name": ..., "config": {...}}`` dicts; those
built from a name or dict inherit the parent's ``unit`` unless their config sets it.
"""

from __future__ import annotations

import abc
import math
import numbers
from bisect import bisect_right
from typing import Any, Callable

from neuroplug.base import Schedule
from neuroplug.errors import ConfigError, InputError, NonFiniteError
from neuroplug.hookspecs import hookimpl
from neuroplug.types import Param, ScheduleRegistration
from neuroplug.validation import check_bool, check_choice, check_number

__all__ = [
    "Constant",
    "StepDecay",
    "MultiStep",
    "Piecewise",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "CosineAnnealing",
    "CosineWarmRestarts",
    "LinearWarmup",
    "OneCycle",
    "Sequential",
    "ReduceOnPlateau",
    "CallableSchedule",
    "neuroplug_schedules",
]

UNITS = ("epoch", "batch")


# ---------------------------------------------------------------------------- helpers
class _Schedule(Schedule):
    """Checks ``step`` and ``base_lr`` once, then defers to :meth:`rate`.

    The rate is a finite float ``>= 0``; a rate that overflows (``piecewise`` values of
    1e300 times a base rate of 1e10, a step too large for a float) raises
    :class:`~neuroplug.errors.NonFiniteError`.
    """

    def __call__(self, step: int, base_lr: float) -> float:
        check_number("step", step, low=0, integer=True, error=InputError)
        check_number("base_lr", base_lr, low=0, error=InputError)
        try:
            lr = float(self.rate(int(step), float(base_lr)))
        except OverflowError as exc:  # Python's: a huge step converted to a float
            raise NonFiniteError(f"schedule {self!r} overflowed at step {step} with base_lr={base_lr!r}: "
                                 f"{exc}") from None
        if not math.isfinite(lr):
            raise NonFiniteError(f"schedule {self!r} gives the learning rate {lr} at step {step} for "
                                 f"base_lr={base_lr!r}: a rate must be finite")
        return lr

    @abc.abstractmethod
    def rate(self, step: int, base_lr: float) -> float:
        """Return :math:`\\eta(t)` for already validated arguments."""

    def __repr__(self) -> str:
        # The attributes as they are: nested schedules show their repr, not their saved
        # description, and a schedule that cannot be saved still has a repr.
        items = ", ".join(f"{k}={v!r}" for k, v in Schedule.get_config(self).items())
        return f"{type(self).__name__}({items})"


def _unit(unit: Any) -> str:
    return check_choice("unit", unit, UNITS)


def _list(value: Any) -> list[Any] | None:
    """``value`` as a list if it is a list or tuple, else None."""
    return list(value) if isinstance(value, (list, tuple)) else None


def _steps(name: str, steps: Any) -> list[int]:
    """Return ``steps`` as a list after checking it is strictly increasing positive integers."""
    items = _list(steps)
    if (items is None or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in items)
            or any(b <= a for a, b in zip(items, items[1:]))):
        raise ConfigError(f"{name} must be a list of strictly increasing positive integers, got {steps!r}")
    return [int(s) for s in items]


def _check_floor(name: str, floor: float, base_lr: float) -> None:
    if floor > base_lr:
        raise ConfigError(f"{name}={floor!r} is above base_lr={base_lr!r}: the schedule would raise the rate; "
                          f"use a {name} <= base_lr")


def _cosine(start: float, end: float, fraction: float) -> float:
    """Half-cosine from ``start`` (fraction 0) to ``end`` (fraction 1).

    The weight ``(1 + cos)/2`` is formed first, so that ``start - end`` is never doubled
    (which overflowed for rates near the largest float); halving is exact, so the
    result is the same as ``(start - end) * (1 + cos) / 2``.
    """
    return end + (start - end) * ((1 + math.cos(math.pi * fraction)) / 2)


def _floor(p: float) -> float:
    """``floor(p)`` that keeps ``inf`` (``math.floor(inf)`` raises)."""
    return math.floor(p) if math.isfinite(p) else p


def _nested(param: str, spec: Any, unit: str) -> Schedule:
    """Build a nested schedule from an instance, a name or a ``{"name", "config"}`` dict."""
    if not isinstance(spec, Schedule):
        from neuroplug.registry import create  # lazily: the registry loads the plugins

        if isinstance(spec, str):
            spec = {"name": spec}
        if isinstance(spec, dict) and isinstance(spec.get("config") or {}, dict):
            spec = {**spec, "config": {"unit": unit, **(spec.get("config") or {})}}
        spec = create("schedule", spec)
    if spec.unit != unit:
        raise ConfigError(f"{param} counts {spec.unit}s but the schedule containing it counts {unit}s; "
                          f"give both the same unit")
    if spec.stateful:
        raise ConfigError(f"{param} cannot be the stateful {type(spec).__name__}: nested schedules are "
                          f"never shown the metrics")
    return spec


def _describe(schedule: Schedule) -> dict[str, Any]:
    from neuroplug.registry import describe

    return describe(schedule)


# ------------------------------------------------------------------------ schedules
class Constant(_Schedule):
    """The base rate at every step: :math:`\\eta(t) = \\eta_0`.

    Parameters
    ----------
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, unit: str = "epoch"):
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        return base_lr


class StepDecay(_Schedule):
    """Multiply by ``gamma`` every ``step_size`` steps: :math:`\\eta(t) = \\eta_0\\gamma^{\\lfloor t/s\\rfloor}`.

    PyTorch's ``StepLR``.

    Parameters
    ----------
    step_size : int
        :math:`s \\ge 1`, the length of each piece.
    gamma : float
        :math:`\\gamma \\in (0, 1]`, the factor applied at each boundary.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, step_size: int = 10, gamma: float = 0.5, unit: str = "epoch"):
        self.step_size = check_number("step_size", step_size, low=1, integer=True)
        self.gamma = check_number("gamma", gamma, low=0, low_inclusive=False, high=1)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        return base_lr * self.gamma ** (step // self.step_size)


class MultiStep(_Schedule):
    """Multiply by ``gamma`` at each milestone: :math:`\\eta(t) = \\eta_0\\gamma^{|\\{m_i \\le t\\}|}`.

    PyTorch's ``MultiStepLR``.

    Parameters
    ----------
    milestones : list of int
        Strictly increasing steps :math:`m_i \\ge 1` at which the rate drops.
    gamma : float
        :math:`\\gamma \\in (0, 1]`.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, milestones: list[int], gamma: float = 0.1, unit: str = "epoch"):
        self.milestones = _steps("milestones", milestones)
        self.gamma = check_number("gamma", gamma, low=0, low_inclusive=False, high=1)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        return base_lr * self.gamma ** bisect_right(self.milestones, step)


class Piecewise(_Schedule):
    """Piecewise-constant multipliers: :math:`\\eta(t) = \\eta_0 v_i` for :math:`b_{i-1} \\le t < b_i`.

    With :math:`b_0 = 0` and :math:`b_{k+1} = \\infty`. Like Keras'
    ``PiecewiseConstantDecay``, except that the values multiply ``base_lr`` and a
    boundary step already belongs to the next piece (Keras: to the previous one).

    Parameters
    ----------
    boundaries : list of int
        Strictly increasing steps :math:`b_1 < \\ldots < b_k`, :math:`b_1 \\ge 1`.
    values : list of float
        The :math:`k + 1` multipliers :math:`v_i \\ge 0`.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    def __init__(self, boundaries: list[int], values: list[float], unit: str = "epoch"):
        self.boundaries = _steps("boundaries", boundaries)
        items = _list(values)
        if items is None or len(items) != len(self.boundaries) + 1:
            raise ConfigError(f"values must be a list of len(boundaries) + 1 = {len(self.boundaries) + 1} "
                              f"multipliers, got {values!r}")
        self.values = [check_number(f"values[{i}]", v, low=0) for i, v in enumerate(items)]
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        return base_lr * self.values[bisect_right(self.boundaries, step)]


class ExponentialDecay(_Schedule):
    """Exponential decay: :math:`\\eta(t) = \\eta_0 r^{t/s}` (:math:`r^{\\lfloor t/s\\rfloor}` with ``staircase``).

    Keras' ``ExponentialDecay``; PyTorch's ``ExponentialLR`` is ``decay_steps=1``.

    Parameters
    ----------
    decay_rate : float
        :math:`r \\in (0, 1]`, the factor per ``decay_steps`` steps.
    decay_steps : float
        :math:`s > 0`.
    staircase : bool
        Decay in discrete jumps every :math:`s` steps.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, decay_rate: float = 0.96, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate = check_number("decay_rate", decay_rate, low=0, low_inclusive=False, high=1)
        self.decay_steps = check_number("decay_steps", decay_steps, low=0, low_inclusive=False)
        self.staircase = check_bool("staircase", staircase)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        p = step / self.decay_steps
        return base_lr * self.decay_rate ** (_floor(p) if self.staircase else p)


class InverseTimeDecay(_Schedule):
    """Inverse-time decay: :math:`\\eta(t) = \\eta_0 / (1 + r\\,t/s)` (:math:`\\lfloor t/s\\rfloor` with ``staircase``).

    Keras' ``InverseTimeDecay``.

    Parameters
    ----------
    decay_rate : float
        :math:`r \\ge 0`.
    decay_steps : float
        :math:`s > 0`.
    staircase : bool
        Use :math:`\\lfloor t/s \\rfloor` instead of :math:`t/s`.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, decay_rate: float = 0.5, decay_steps: float = 1, staircase: bool = False,
                 unit: str = "epoch"):
        self.decay_rate = check_number("decay_rate", decay_rate, low=0)
        self.decay_steps = check_number("decay_steps", decay_steps, low=0, low_inclusive=False)
        self.staircase = check_bool("staircase", staircase)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        if not self.decay_rate:  # no decay, also when t/s overflows to inf (0 * inf would be nan)
            return base_lr
        p = step / self.decay_steps
        return base_lr / (1 + self.decay_rate * (_floor(p) if self.staircase else p))


class PolynomialDecay(_Schedule):
    """Polynomial decay to ``end_lr_factor``·η₀ over ``total_steps``, constant after.

    .. math:: \\eta(t) = \\eta_e + (\\eta_0 - \\eta_e)\\,(1 - \\min(t, T)/T)^p,
              \\quad \\eta_e = f_e\\,\\eta_0

    Keras' ``PolynomialDecay`` (with ``end_learning_rate`` relative to the base
    rate) and PyTorch's ``PolynomialLR`` (:math:`f_e = 0`). ``power=1`` is a linear
    decay, hence the alias ``linear``.

    Parameters
    ----------
    total_steps : int
        :math:`T \\ge 1`, the step at which :math:`\\eta_e` is reached.
    end_lr_factor : float
        :math:`f_e \\in [0, 1]`.
    power : float
        :math:`p > 0`.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, total_steps: int, end_lr_factor: float = 0.0, power: float = 1.0, unit: str = "epoch"):
        self.total_steps = check_number("total_steps", total_steps, low=1, integer=True)
        self.end_lr_factor = check_number("end_lr_factor", end_lr_factor, low=0, high=1)
        self.power = check_number("power", power, low=0, low_inclusive=False)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        end = base_lr * self.end_lr_factor
        return end + (base_lr - end) * (1 - min(step, self.total_steps) / self.total_steps) ** self.power


class CosineAnnealing(_Schedule):
    """Half a cosine from η₀ to ``min_lr`` over ``total_steps``, then ``min_lr``.

    .. math:: \\eta(t) = \\eta_{min} + (\\eta_0 - \\eta_{min})\\,\\frac{1 + \\cos(\\pi \\min(t, T)/T)}{2}

    PyTorch's ``CosineAnnealingLR`` (``T_max``, ``eta_min``) for :math:`t \\le T`; after
    :math:`T` the rate stays at :math:`\\eta_{min}` (as Keras' ``CosineDecay``) instead of
    rising again. ``min_lr`` must not exceed the base rate.

    Parameters
    ----------
    total_steps : int
        :math:`T \\ge 1`.
    min_lr : float
        :math:`\\eta_{min} \\ge 0`, an absolute rate.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    decaying = True

    def __init__(self, total_steps: int, min_lr: float = 0.0, unit: str = "epoch"):
        self.total_steps = check_number("total_steps", total_steps, low=1, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        _check_floor("min_lr", self.min_lr, base_lr)
        return _cosine(base_lr, self.min_lr, min(step, self.total_steps) / self.total_steps)


class CosineWarmRestarts(_Schedule):
    """Cosine annealing restarted at η₀ after periods :math:`T_0, T_0 m, T_0 m^2, \\ldots` (SGDR).

    .. math:: \\eta(t) = \\eta_{min} + (\\eta_0 - \\eta_{min})\\,\\frac{1 + \\cos(\\pi t_{cur}/T_i)}{2}

    where :math:`T_i` is the length of the current period and :math:`t_{cur}` the
    steps since it began (PyTorch's ``CosineAnnealingWarmRestarts``; Loshchilov &
    Hutter 2017). ``min_lr`` must not exceed the base rate.

    Parameters
    ----------
    t_0 : int
        :math:`T_0 \\ge 1`, the length of the first period.
    t_mult : int
        :math:`m \\ge 1`, the growth factor of the period.
    min_lr : float
        :math:`\\eta_{min} \\ge 0`, an absolute rate.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    def __init__(self, t_0: int, t_mult: int = 1, min_lr: float = 0.0, unit: str = "epoch"):
        self.t_0 = check_number("t_0", t_0, low=1, integer=True)
        self.t_mult = check_number("t_mult", t_mult, low=1, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        _check_floor("min_lr", self.min_lr, base_lr)
        period = self.t_0
        if self.t_mult == 1:
            step %= period
        while step >= period:  # exact integer arithmetic; O(log t) periods for t_mult >= 2
            step -= period
            period *= self.t_mult
        return _cosine(base_lr, self.min_lr, step / period)


class LinearWarmup(_Schedule):
    """Linear warm-up to η₀ over ``warmup_steps``, then ``after`` (shifted by ``warmup_steps``).

    .. math:: \\eta(t) = \\eta_0 \\left(s + (1 - s)\\frac{t}{W}\\right) \\ (t < W), \\qquad
              \\eta(t) = \\eta_{after}(t - W) \\ (t \\ge W)

    By default :math:`s = 1/(W+1)`, i.e. :math:`\\eta(t) = \\eta_0 (t+1)/(W+1)`: ``W``
    equal increments that reach :math:`\\eta_0` at step :math:`W`, and a positive rate
    at step 0 (a zero first rate would waste a step). PyTorch's ``LinearLR`` is the
    same ramp with an explicit ``start_factor``.

    Parameters
    ----------
    warmup_steps : int
        :math:`W \\ge 0`.
    start_factor : float, optional
        :math:`s \\in (0, 1]`, the fraction of η₀ used at step 0; None for :math:`1/(W+1)`.
    after : Schedule, str or dict, optional
        The schedule followed from step :math:`W` (counted from 0 there), with the
        same base rate; None keeps η₀.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    def __init__(self, warmup_steps: int, start_factor: float | None = None, after: Any = None,
                 unit: str = "epoch"):
        self.warmup_steps = check_number("warmup_steps", warmup_steps, low=0, integer=True)
        if start_factor is not None:
            check_number("start_factor", start_factor, low=0, low_inclusive=False, high=1)
        self.start_factor = start_factor
        self.unit = _unit(unit)
        self.after = None if after is None else _nested("after", after, self.unit)

    def rate(self, step, base_lr):
        w = self.warmup_steps
        if step < w:
            s = self.start_factor
            return base_lr * ((step + 1) / (w + 1) if s is None else s + (1 - s) * step / w)
        return base_lr if self.after is None else self.after(step - w, base_lr)

    def get_config(self) -> dict[str, Any]:
        """The parameters, with ``after`` as its ``{"kind", "name", "config"}`` description."""
        config = super().get_config()
        config["after"] = None if self.after is None else _describe(self.after)
        return config


class OneCycle(_Schedule):
    """The 1cycle policy: a cosine rise to the peak η₀, then a cosine fall far below the start.

    With :math:`\\eta_{init} = \\eta_0/d`, :math:`\\eta_{final} = \\eta_{init}/d_f` and
    :math:`u = p\\,T - 1` (PyTorch's ``OneCycleLR`` with ``anneal_strategy="cos"``,
    ``three_phase=False``; rates only, no momentum cycling):

    .. math:: \\eta(t) = \\operatorname{cos\\_anneal}(\\eta_{init}, \\eta_0, t/u) \\ (t \\le u), \\qquad
              \\operatorname{cos\\_anneal}(\\eta_0, \\eta_{final}, \\min(1, (t-u)/(T-1-u))) \\ (t > u)

    where :math:`\\operatorname{cos\\_anneal}(a, b, x) = b + (a - b)(1 + \\cos \\pi x)/2`.
    Steps past ``total_steps - 1`` keep :math:`\\eta_{final}` (PyTorch raises).

    Parameters
    ----------
    total_steps : int
        :math:`T`, the length of the cycle; :math:`p\\,T > 1`.
    pct_start : float
        :math:`p \\in (0, 1)`, the fraction of the cycle spent rising.
    div_factor : float
        :math:`d \\ge 1`.
    final_div_factor : float
        :math:`d_f \\ge 1`.
    unit : {"epoch", "batch"}
        What the step counts; ``"batch"`` by default, like PyTorch.
    """

    def __init__(self, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, unit: str = "batch"):
        self.total_steps = check_number("total_steps", total_steps, low=2, integer=True)
        self.pct_start = check_number("pct_start", pct_start, low=0, high=1, low_inclusive=False,
                                      high_inclusive=False)
        if pct_start * total_steps <= 1:
            raise ConfigError(f"pct_start * total_steps must be > 1 so that the rise lasts at least one step; "
                              f"got pct_start={pct_start!r}, total_steps={total_steps!r}")
        self.div_factor = check_number("div_factor", div_factor, low=1)
        self.final_div_factor = check_number("final_div_factor", final_div_factor, low=1)
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        initial = base_lr / self.div_factor
        rise_end = self.pct_start * self.total_steps - 1
        if step <= rise_end:
            return _cosine(initial, base_lr, step / rise_end)
        fall = min(1.0, (step - rise_end) / (self.total_steps - 1 - rise_end))
        return _cosine(base_lr, initial / self.final_div_factor, fall)


class Sequential(_Schedule):
    """Schedules one after another: :math:`\\eta(t) = \\eta_i(t - m_i)` for :math:`m_i \\le t < m_{i+1}`.

    With :math:`m_0 = 0`; each schedule restarts from its own step 0 at its milestone
    and gets the same base rate (PyTorch's ``SequentialLR``).

    Parameters
    ----------
    schedules : list of Schedule, str or dict
        The :math:`k + 1` schedules.
    milestones : list of int
        The :math:`k` strictly increasing steps :math:`m_1, \\ldots, m_k \\ge 1` at which
        the next schedule takes over.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    def __init__(self, schedules: list[Any], milestones: list[int], unit: str = "epoch"):
        self.unit = _unit(unit)
        if not _list(schedules):
            raise ConfigError(f"schedules must be a non-empty list of schedules, got {schedules!r}")
        self.schedules = [_nested(f"schedules[{i}]", s, self.unit) for i, s in enumerate(schedules)]
        self.milestones = _steps("milestones", milestones)
        if len(self.milestones) != len(self.schedules) - 1:
            raise ConfigError(f"milestones must hold len(schedules) - 1 = {len(self.schedules) - 1} steps, "
                              f"got {milestones!r}")

    def rate(self, step, base_lr):
        i = bisect_right(self.milestones, step)
        return self.schedules[i](step - (self.milestones[i - 1] if i else 0), base_lr)

    def get_config(self) -> dict[str, Any]:
        """The parameters, with each schedule as its ``{"kind", "name", "config"}`` description."""
        config = super().get_config()
        config["schedules"] = [_describe(s) for s in self.schedules]
        return config


class ReduceOnPlateau(_Schedule):
    """Divide the rate by ``1/factor`` each time a metric stops improving (Keras ``ReduceLROnPlateau``).

    .. math:: \\eta = \\min(\\eta_0, \\max(\\eta_0 \\phi^k, \\eta_{min}))

    where :math:`k` is the number of reductions so far. After each epoch,
    :meth:`observe` reads ``metrics[monitor]``:

    * the epoch *improves* when the value is below ``best - min_delta`` (``mode="min"``;
      above ``best + min_delta`` for ``"max"``); the first observed value always
      improves. An improvement sets ``best`` and resets the count of bad epochs;
    * otherwise, unless the epoch is one of the ``cooldown`` epochs that follow a
      reduction (which are ignored), it is counted; after ``patience`` consecutive
      counted epochs, :math:`k` grows by one, the count resets and the cooldown begins.

    So ``patience=2`` reduces after the 2nd bad epoch in a row (PyTorch's
    ``ReduceLROnPlateau`` with ``threshold_mode="abs"`` and ``patience=1`` does the same,
    since it reduces when the count *exceeds* its patience). ``min_lr`` floors the rate
    but never lifts it above η₀. The step argument of ``__call__`` is ignored.

    Parameters
    ----------
    monitor : str
        The metric's key, e.g. ``"val_loss"`` or ``"loss"``.
    mode : {"min", "max"}
        Whether lower or higher values are better.
    factor : float
        :math:`\\phi \\in (0, 1)`.
    patience : int
        Bad epochs (≥ 1) tolerated before a reduction.
    min_delta : float
        The smallest change (≥ 0, absolute) that counts as an improvement.
    cooldown : int
        Epochs (≥ 0) after a reduction during which bad epochs are not counted.
    min_lr : float
        :math:`\\eta_{min} \\ge 0`.
    unit : {"epoch", "batch"}
        Kept for uniformity; observations are per epoch.
    """

    decaying = True
    stateful = True

    def __init__(self, monitor: str = "val_loss", mode: str = "min", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, unit: str = "epoch"):
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"monitor must be a metric name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.factor = check_number("factor", factor, low=0, high=1, low_inclusive=False, high_inclusive=False)
        self.patience = check_number("patience", patience, low=1, integer=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.cooldown = check_number("cooldown", cooldown, low=0, integer=True)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.unit = _unit(unit)
        self.set_state({"best": None, "wait": 0, "cooldown_left": 0, "reductions": 0})

    def rate(self, step, base_lr):
        return min(base_lr, max(base_lr * self.factor**self.reductions, self.min_lr))

    def observe(self, epoch: int, metrics: dict[str, float]) -> None:
        """Update the state from one epoch's ``metrics`` (see the class docstring)."""
        if self.monitor not in metrics:
            raise ConfigError(f"reduce_on_plateau monitors {self.monitor!r}, which is not among this epoch's "
                              f"metrics {sorted(metrics)}; set monitor to one of them")
        value = float(metrics[self.monitor])
        in_cooldown = self.cooldown_left > 0
        if in_cooldown:
            self.cooldown_left -= 1
        if self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                 else value > self.best + self.min_delta):
            self.best, self.wait = value, 0
        elif not in_cooldown:
            self.wait += 1
            if self.wait >= self.patience:
                self.reductions += 1
                self.wait, self.cooldown_left = 0, self.cooldown

    def get_state(self) -> dict[str, Any]:
        """Return ``{"best", "wait", "cooldown_left", "reductions"}`` (``best`` is None before any epoch)."""
        return {"best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left,
                "reductions": self.reductions}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`get_state`."""
        expected = {"best", "wait", "cooldown_left", "reductions"}
        if not isinstance(state, dict) or set(state) != expected:
            raise InputError(f"reduce_on_plateau state must have the keys {sorted(expected)}, got {state!r}")
        best = state["best"]
        self.best = None if best is None else float(best)
        self.wait = int(check_number("wait", state["wait"], low=0, integer=True, error=InputError))
        self.cooldown_left = int(check_number("cooldown_left", state["cooldown_left"], low=0, integer=True,
                                              error=InputError))
        self.reductions = int(check_number("reductions", state["reductions"], low=0, integer=True,
                                           error=InputError))


class CallableSchedule(_Schedule):
    """Any Python function ``fn(step, base_lr) -> lr`` as a schedule (cannot be saved).

    The function must be deterministic in its arguments and return a finite rate
    ``>= 0``. Like Keras' ``LearningRateScheduler`` (which passes the current rate)
    and PyTorch's ``LambdaLR`` (which expects a multiplier): here the function gets
    the base rate and returns the rate itself.

    Parameters
    ----------
    fn : callable
        ``fn(step: int, base_lr: float) -> float``.
    unit : {"epoch", "batch"}
        What the step counts.
    """

    serializable = False

    def __init__(self, fn: Callable[[int, float], float], unit: str = "epoch"):
        if not callable(fn):
            raise ConfigError(f"fn must be a callable fn(step, base_lr) -> lr, got {fn!r}")
        self.fn = fn
        self.unit = _unit(unit)

    def rate(self, step, base_lr):
        value = self.fn(step, base_lr)
        try:
            lr = float(value)
        except (TypeError, ValueError, OverflowError):
            lr = math.nan
        if isinstance(value, (bool, str, bytes)) or not lr >= 0 or math.isinf(lr):
            raise ConfigError(f"the schedule function {self.fn!r} returned {value!r} at step {step}; "
                              f"a rate must be a finite number >= 0")
        return lr

    def get_config(self) -> dict[str, Any]:
        """Raise :class:`ConfigError`: a Python function cannot be saved."""
        raise ConfigError(f"the callable schedule {self.fn!r} cannot be saved: it wraps a Python function. "
                          f"Use a named schedule, or register a Schedule subclass")


# ------------------------------------------------------------------------------ hook
def _registration(name: str, factory: type[Schedule], summary: str, formula: str,
                  aliases: tuple[str, ...] = (), spec_config: dict[str, Any] | None = None,
                  space: dict[str, Param] | None = None,
                  examples: tuple[dict[str, Any], ...] = ()) -> ScheduleRegistration:
    """A built-in's registration: it claims the formula of its own name (except ``callable``, which
    wraps an arbitrary function) and declares the range of its numeric and choice parameters."""
    return ScheduleRegistration(name=name, factory=factory, aliases=aliases, summary=summary, formula=formula,
                                properties=("decaying",) if factory.decaying else (), spec_config=spec_config,
                                implements=() if name == "callable" else (name,),
                                parameter_space={**(space or {}), "unit": _UNIT}, example_configs=examples)


# The values the spec suite draws each parameter from (within the valid range, at typical scales).
_UNIT = Param.choice(*UNITS)
_GAMMA = Param.real(0.0, 1.0, low_open=True, typical=(0.05, 0.99))
_DECAY_STEPS = Param.real(0.0, None, low_open=True, log=True, typical=(0.3, 60.0))
_TOTAL = Param.integer(1, None, typical=(1, 400))
_MIN_LR = Param.real(0.0, None, typical=(0.0, 0.05))


def _spec_example_fn(step: int, base_lr: float) -> float:
    """The function the spec suite wraps in ``callable``: :math:`\\eta_0 / (1 + t/10)`."""
    return base_lr / (1 + step / 10)


@hookimpl
def neuroplug_schedules():
    """Register the built-in learning-rate schedules."""
    return [
        _registration("constant", Constant, "the base rate at every step", r"\eta(t) = \eta_0"),
        _registration("step_decay", StepDecay, "multiply by gamma every step_size steps",
                      r"\eta(t) = \eta_0 \gamma^{\lfloor t/s \rfloor}",
                      space={"step_size": Param.integer(1, None, typical=(1, 40)), "gamma": _GAMMA},
                      examples=({"step_size": 1, "gamma": 0.9},)),
        _registration("multi_step", MultiStep, "multiply by gamma at each milestone",
                      r"\eta(t) = \eta_0 \gamma^{|\{i : m_i \le t\}|}",
                      spec_config={"milestones": [30, 80, 500]}, space={"gamma": _GAMMA},
                      examples=({"milestones": [1, 2, 3], "gamma": 0.5},)),
        _registration("piecewise", Piecewise, "base rate times values[i] between boundaries",
                      r"\eta(t) = \eta_0 v_i,\ b_{i-1} \le t < b_i",
                      spec_config={"boundaries": [10, 50], "values": [1.0, 0.5, 0.1]},
                      examples=({"boundaries": [1], "values": [0.1, 2.0]},)),
        _registration("exponential_decay", ExponentialDecay, "multiply by decay_rate every decay_steps steps",
                      r"\eta(t) = \eta_0 r^{t/s}",
                      space={"decay_rate": Param.real(0.0, 1.0, low_open=True, typical=(0.05, 0.999)),
                             "decay_steps": _DECAY_STEPS, "staircase": Param.boolean()},
                      examples=({"decay_rate": 0.5, "decay_steps": 4, "staircase": True},)),
        _registration("inverse_time_decay", InverseTimeDecay, "divide by 1 + decay_rate * t / decay_steps",
                      r"\eta(t) = \eta_0 / (1 + r t / s)",
                      space={"decay_rate": Param.real(0.0, None, typical=(0.0, 5.0)), "decay_steps": _DECAY_STEPS,
                             "staircase": Param.boolean()},
                      examples=({"decay_rate": 1.0, "decay_steps": 3, "staircase": True},)),
        _registration("polynomial_decay", PolynomialDecay, "polynomial decay to end_lr_factor * base rate",
                      r"\eta(t) = \eta_e + (\eta_0 - \eta_e)(1 - \min(t, T)/T)^p", aliases=("linear",),
                      spec_config={"total_steps": 100, "end_lr_factor": 0.01, "power": 2.0},
                      space={"total_steps": _TOTAL, "end_lr_factor": Param.real(0.0, 1.0),
                             "power": Param.real(0.0, None, low_open=True, log=True, typical=(0.1, 5.0))},
                      examples=({"total_steps": 10, "end_lr_factor": 0.5, "power": 0.5},)),
        _registration("cosine_annealing", CosineAnnealing, "half a cosine from the base rate to min_lr",
                      r"\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi \min(t, T)/T))/2",
                      spec_config={"total_steps": 100}, space={"total_steps": _TOTAL, "min_lr": _MIN_LR},
                      examples=({"total_steps": 10, "min_lr": 0.01},)),
        _registration("cosine_warm_restarts", CosineWarmRestarts, "cosine annealing with warm restarts (SGDR)",
                      r"\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi t_{cur}/T_i))/2",
                      spec_config={"t_0": 10, "t_mult": 2},
                      space={"t_0": Param.integer(1, None, typical=(1, 60)),
                             "t_mult": Param.integer(1, None, typical=(1, 3)), "min_lr": _MIN_LR},
                      examples=({"t_0": 2, "t_mult": 3, "min_lr": 0.001}, {"t_0": 5, "t_mult": 1})),
        _registration("linear_warmup", LinearWarmup, "linear ramp to the base rate, then another schedule",
                      r"\eta(t) = \eta_0 (s + (1 - s) t / W),\ t < W",
                      spec_config={"warmup_steps": 5,
                                   "after": {"name": "cosine_annealing", "config": {"total_steps": 50}}},
                      space={"warmup_steps": Param.integer(0, None, typical=(0, 30)),
                             "start_factor": Param.real(0.0, 1.0, low_open=True, typical=(0.01, 1.0))},
                      examples=({"warmup_steps": 3, "start_factor": 0.1, "after": None},
                                {"warmup_steps": 0, "after": {"name": "step_decay", "config": {"step_size": 2}}})),
        _registration("one_cycle", OneCycle, "1cycle: cosine rise to the base rate, then cosine fall",
                      r"\eta(t) = \mathrm{cos\_anneal}(\eta_0/d,\ \eta_0,\ t/u),\ t \le u",
                      spec_config={"total_steps": 100},
                      space={"total_steps": Param.integer(2, None, typical=(2, 400)),
                             "pct_start": Param.real(0.0, 1.0, low_open=True, high_open=True, typical=(0.05, 0.95)),
                             "div_factor": Param.real(1.0, None, log=True, typical=(1.0, 100.0)),
                             "final_div_factor": Param.real(1.0, None, log=True, typical=(1.0, 1e5))},
                      examples=({"total_steps": 10, "pct_start": 0.5, "div_factor": 4.0, "final_div_factor": 10.0},)),
        _registration("sequential", Sequential, "schedules one after another at milestones",
                      r"\eta(t) = \eta_i(t - m_i),\ m_i \le t < m_{i+1}",
                      spec_config={"schedules": ["constant", {"name": "exponential_decay",
                                                              "config": {"decay_rate": 0.9}}],
                                   "milestones": [10]},
                      examples=({"schedules": [{"name": "linear_warmup", "config": {"warmup_steps": 3}},
                                               {"name": "cosine_annealing", "config": {"total_steps": 10}}],
                                 "milestones": [3]},)),
        _registration("reduce_on_plateau", ReduceOnPlateau, "multiply by factor when a metric stops improving",
                      r"\eta = \min(\eta_0, \max(\eta_0 \phi^k, \eta_{min}))",
                      space={"mode": Param.choice("min", "max"),
                             "factor": Param.real(0.0, 1.0, low_open=True, high_open=True, typical=(0.05, 0.95)),
                             "patience": Param.integer(1, None, typical=(1, 6)),
                             "min_delta": Param.real(0.0, None, typical=(0.0, 0.05)),
                             "cooldown": Param.integer(0, None, typical=(0, 4)),
                             "min_lr": Param.real(0.0, None, typical=(0.0, 0.02))},
                      examples=({"mode": "max", "patience": 2, "cooldown": 1, "factor": 0.5, "min_lr": 0.01},)),
        _registration("callable", CallableSchedule, "a Python function fn(step, base_lr) (not saveable)",
                      r"\eta(t) = f(t, \eta_0)", spec_config={"fn": _spec_example_fn}),
    ]
