r"""References of the learning-rate schedule formulas (see :mod:`neuroplug.spec.formulas`).

What a reference computes
-------------------------
A schedule is a closed-form function :math:`\eta(t)` of the 0-based step
:math:`t` (an integer) and of the base rate :math:`\eta_0` given at call time. Its
reference is ``reference(t, base_lr, **params) -> Rate``:

* ``value``: :math:`\eta(t)` in float64, computed for clarity in the most direct
  form (integer and rational parts -- ``floor(t/s)``, the period of a warm restart,
  the count of milestones passed -- exactly, with :mod:`fractions` / integers);
* ``scale``: the magnitude that bounds the rounding error of *any* reasonable float64
  evaluation of the formula: the sum of the magnitudes of the terms a float64
  evaluation may combine (e.g. :math:`\eta_{min}` and :math:`\eta_0` in
  :math:`\eta_{min} + (\eta_0 - \eta_{min})w`, which cancel near the end of a
  cosine), plus the amplification of the rounding of intermediate quantities by the
  formula's conditioning: a power :math:`x^p` carries
  :math:`x^p(1 + p + |p\ln x| + t)` (``pow``, ``exp(p log x)``, a per-step factor
  raised to the power ``t``, or ``t`` repeated multiplications all stay within a few
  :math:`\varepsilon` of it), a polynomial decay :math:`p\,x^{p-1}` for the rounding
  of :math:`x = 1 - t/T`, a cosine :math:`\pi f|\sin \pi f|/2` for the rounding of its
  argument. The ``SCHED-FORMULA`` check allows
  :math:`2 n\varepsilon_{64}(\mathrm{scale} + |\eta|)` where ``n`` = ``meta["ops"]``
  is the number of floating-point operations of a direct evaluation (two
  evaluations, the component's and the reference's, each within
  :math:`n\varepsilon/2` of the scale, doubled for libm's 1-ulp functions);
* ``alt``: where floating point may legitimately put the step on either side of a
  discontinuity, the value on the other side (else None). This happens when
  :math:`t/s` is within a few ulps of an integer in ``floor(t/s)`` (``t * (1/s)``
  gives ``0.9999999999999999`` for ``t = s = 49``, ``t // s`` gives 9 for ``1 // 0.1``)
  and at the restarts of ``cosine_warm_restarts`` (PyTorch finds the period with a
  float logarithm, which can round down there; ``floor(t * (1/T_0))`` can too). The check accepts
  either value at those steps only.

``meta`` of each formula: ``ops`` (above), ``horizon(params) -> int`` (the steps
``0 .. horizon`` to compare: past the end of the decay, the last milestone, a few
restart periods, so that the whole schedule is seen) and ``floor(params) -> float``
(the smallest base rate the formula is defined for: ``min_lr`` of the cosines, which
must not exceed :math:`\eta_0`).

Nested schedules (``after`` of ``linear_warmup``, ``schedules`` of ``sequential``)
are composed from their own references: a nested schedule given as a name, a
``{"name", "config"}`` dict (what ``get_config`` saves) or a registered instance is
resolved to the formula of that name with its config (:func:`resolve`); a nested
schedule that is not a formula of the vocabulary raises :class:`Unresolved` and the
check skips that config.

The stateful ``reduce_on_plateau`` (``meta["stateful"]``) is simulated instead:
``reference(values, base_lr, **params) -> list[Rate]`` gives the rate before any
observation and after each of the monitored metric values ``values``, following the
built-in's documented semantics (an improvement is a value below ``best - min_delta``
-- above ``best + min_delta`` in ``"max"`` mode -- and the first value always
improves; ``cooldown`` epochs after a reduction are not counted; ``patience``
consecutive counted bad epochs give a reduction; the rate is
:math:`\min(\eta_0, \max(\eta_0\phi^k, \eta_{min}))`).

``unit`` is a parameter of every formula (what :math:`t` counts); it does not change
the values, and the check compares it with the component's ``unit`` attribute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Sequence

from neuroplug.types import Param

from ..formulas import Formula, get_formula, register_formula

__all__ = ["Rate", "Unresolved", "resolve", "nested_rate", "horizon", "floor", "ops", "plateau_metrics", "EPS",
           "MAX_HORIZON"]

EPS = 2.0**-52
#: Longest range of steps a formula check compares (the horizons are capped here).
MAX_HORIZON = 1000
#: How close (in units of eps times the quotient) t/s must be to an integer for floor(t/s) to be ambiguous.
_AMBIGUOUS_ULPS = 8


@dataclass(frozen=True)
class Rate:
    """:math:`\\eta(t)` with the magnitude that bounds its rounding error (see the module docstring)."""

    value: float
    scale: float
    #: The value on the other side of a discontinuity that rounding may select, else None.
    alt: float | None = None


class Unresolved(LookupError):
    """A nested schedule that is not a formula of the vocabulary (the check skips that config)."""


# ----------------------------------------------------------------------------- helpers
UNIT = Param.choice("epoch", "batch")
_GAMMA = Param.real(0.0, 1.0, low_open=True, typical=(0.05, 0.99))
_RATE = Param.real(0.0, 1.0, low_open=True, typical=(0.05, 0.999))
_DECAY_STEPS = Param.real(0.0, None, low_open=True, log=True, typical=(0.3, 60.0))
_TOTAL = Param.integer(1, None, typical=(1, 400))
_MIN_LR = Param.real(0.0, None, typical=(0.0, 0.05))


def _power(x: float, p: float, t: int) -> tuple[float, float]:
    """``x**p`` (``0 < x <= 1``, ``p >= 0``) and its error magnitude ``x**p (1 + p + |p ln x| + t)``.

    ``t`` is the largest number of factors a correct evaluation may multiply: the step
    for a continuous decay (a per-step factor :math:`x^{1/s}` raised to the power t), the
    exponent itself for an integer one.
    """
    value = x**p
    return value, value * (1.0 + p + abs(p * math.log(x)) + t)


def _floor_quotient(t: int, s: float) -> tuple[int, int | None]:
    """``floor(t/s)`` computed exactly, and the other integer a float evaluation may give (else None)."""
    q = Fraction(t) / Fraction(s)
    k = math.floor(q)
    margin = _AMBIGUOUS_ULPS * EPS * max(float(q), 1.0)
    if k >= 1 and float(q - k) <= margin:
        return k, k - 1
    if float(k + 1 - q) <= margin:
        return k, k + 1
    return k, None


def _cos_anneal(start: float, end: float, f: float, f_error: float) -> tuple[float, float]:
    r"""``end + (start - end)(1 + cos(pi f))/2`` and its error magnitude.

    ``f_error`` bounds the rounding of ``f`` in units of eps (absolute); it moves the
    cosine's argument by :math:`\pi f_{err}\varepsilon`, which changes the value by at most
    :math:`|start - end|\,\pi f_{err}|\sin\pi f|/2 \cdot \varepsilon`.
    """
    w = (1.0 + math.cos(math.pi * f)) / 2.0
    value = end + (start - end) * w
    amp = abs(start - end)
    scale = abs(start) + abs(end) + amp * (1.0 + math.pi * (f + f_error) * abs(math.sin(math.pi * f)) / 2.0)
    return value, scale


def _check_floor(min_lr: float, base_lr: float) -> None:
    if min_lr > base_lr:
        raise ValueError(f"min_lr={min_lr!r} above base_lr={base_lr!r}: the formula is not defined there")


def _name(name: Any) -> str:
    if not isinstance(name, str):
        raise Unresolved(f"the nested schedule name {name!r} is not a string")
    return name.rsplit(":", 1)[-1]


def resolve(spec: Any) -> tuple[Formula, dict[str, Any]] | None:
    """The formula and parameters of a nested schedule given as None, a name, a dict or an instance.

    None stands for "no schedule" (the base rate). Raises :class:`Unresolved` when
    the nested schedule is not a formula of the vocabulary.
    """
    if spec is None:
        return None
    if not isinstance(spec, (str, Mapping)):
        try:
            from neuroplug.registry import describe

            spec = describe(spec)
        except Exception as exc:
            raise Unresolved(f"the nested schedule {spec!r} is not registered, so its formula is unknown "
                             f"({exc})") from None
    if isinstance(spec, str):
        name, config = spec, {}
    else:
        name, config = spec.get("name"), spec.get("config") or {}
        if not isinstance(config, Mapping):
            raise Unresolved(f"the nested schedule {spec!r} has a config that is not a dict")
    try:
        formula = get_formula("schedule", _name(name))
    except KeyError:
        raise Unresolved(f"the nested schedule {name!r} is not a schedule formula of the vocabulary, so the "
                         f"composition cannot be checked") from None
    if formula.meta.get("stateful"):
        raise Unresolved(f"the nested schedule {name!r} is stateful")
    return formula, formula.params(dict(config))


def nested_rate(spec: Any, t: int, base_lr: float) -> Rate:
    """The reference rate of a nested schedule (the base rate for None)."""
    resolved = resolve(spec)
    if resolved is None:
        return Rate(base_lr, base_lr)
    formula, params = resolved
    return formula.reference(t, base_lr, **params)


def horizon(formula: Formula, params: Mapping[str, Any]) -> int:
    """The last step a formula check compares for these parameters (at most :data:`MAX_HORIZON`)."""
    return int(min(MAX_HORIZON, formula.meta["horizon"](params)))


def floor(formula: Formula, params: Mapping[str, Any]) -> float:
    """The smallest base rate the formula is defined for with these parameters."""
    f = formula.meta.get("floor")
    return float(f(params)) if f else 0.0


def ops(formula: Formula, params: Mapping[str, Any]) -> int:
    """The number of floating-point operations of a direct evaluation (nested schedules included)."""
    value = formula.meta["ops"]
    return int(value(params) if callable(value) else value)


def _nested_horizon(spec: Any) -> int:
    resolved = resolve(spec)
    return 20 if resolved is None else horizon(*resolved)


def _nested_floor(spec: Any) -> float:
    resolved = resolve(spec)
    return 0.0 if resolved is None else floor(*resolved)


def _nested_ops(spec: Any) -> int:
    resolved = resolve(spec)
    return 1 if resolved is None else ops(*resolved)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


# --------------------------------------------------------------------------- formulas
@register_formula("schedule", "constant", title="the base rate at every step", latex=r"\eta(t) = \eta_0",
                  defaults={"unit": "epoch"}, space={"unit": UNIT},
                  meta={"ops": 1, "horizon": lambda p: 20})
def constant(t: int, base_lr: float, unit: str = "epoch") -> Rate:
    r""":math:`\eta_0`."""
    return Rate(base_lr, base_lr)


@register_formula("schedule", "step_decay", title="multiply by gamma every step_size steps (StepLR)",
                  latex=r"\eta(t) = \eta_0 \gamma^{\lfloor t/s \rfloor}",
                  defaults={"step_size": 10, "gamma": 0.5, "unit": "epoch"},
                  space={"step_size": Param.integer(1, None, typical=(1, 40)), "gamma": _GAMMA, "unit": UNIT},
                  examples=({"step_size": 1, "gamma": 0.9}, {"step_size": 7, "gamma": 0.25}),
                  meta={"ops": 4, "horizon": lambda p: 6 * p["step_size"] + 3})
def step_decay(t: int, base_lr: float, step_size: int, gamma: float, unit: str = "epoch") -> Rate:
    r""":math:`\eta_0\gamma^{\lfloor t/s\rfloor}` (exact on integers; ``floor(t * (1/s))`` may give one piece
    less at a multiple of :math:`s`, which is accepted there)."""
    k, other = _floor_quotient(t, int(step_size))
    value, scale = _power(gamma, k, k)
    return Rate(base_lr * value, base_lr * scale, None if other is None else base_lr * gamma**other)


@register_formula("schedule", "multi_step", title="multiply by gamma at each milestone (MultiStepLR)",
                  latex=r"\eta(t) = \eta_0 \gamma^{|\{i : m_i \le t\}|}",
                  defaults={"milestones": [30, 80], "gamma": 0.1, "unit": "epoch"},
                  space={"gamma": _GAMMA, "unit": UNIT},
                  examples=({"milestones": [1, 2, 5, 9], "gamma": 0.5}, {"milestones": [7], "gamma": 0.9},
                            {"milestones": [3, 4, 40, 41, 100], "gamma": 0.3}),
                  meta={"ops": 4, "horizon": lambda p: max(_list(p["milestones"]) or [0]) + 20})
def multi_step(t: int, base_lr: float, milestones: Sequence[int], gamma: float, unit: str = "epoch") -> Rate:
    r""":math:`\eta_0\gamma^k`, :math:`k` = the number of milestones :math:`m_i \le t` (a milestone is the
    first step of the new piece)."""
    k = sum(1 for m in milestones if m <= t)
    value, scale = _power(gamma, k, k)
    return Rate(base_lr * value, base_lr * scale)


@register_formula("schedule", "piecewise", title="base rate times values[i] between boundaries",
                  latex=r"\eta(t) = \eta_0 v_i,\ b_{i-1} \le t < b_i",
                  defaults={"boundaries": [10, 50], "values": [1.0, 0.5, 0.1], "unit": "epoch"},
                  space={"unit": UNIT},
                  examples=({"boundaries": [1, 3, 4], "values": [0.0, 2.5, 1.0, 1e-3]},
                            {"boundaries": [25], "values": [0.2, 0.7]}),
                  meta={"ops": 1, "horizon": lambda p: max(_list(p["boundaries"]) or [0]) + 20})
def piecewise(t: int, base_lr: float, boundaries: Sequence[int], values: Sequence[float],
              unit: str = "epoch") -> Rate:
    r""":math:`\eta_0 v_i` with :math:`i` = the number of boundaries :math:`b \le t` (a boundary is the first
    step of the next piece)."""
    i = sum(1 for b in boundaries if b <= t)
    value = base_lr * float(values[i])
    return Rate(value, abs(value))


def _decay_horizon(p: Mapping[str, Any]) -> int:
    return int(max(60, 6 * float(p["decay_steps"]) + 3))


@register_formula("schedule", "exponential_decay", title="multiply by decay_rate every decay_steps steps",
                  latex=r"\eta(t) = \eta_0 r^{t/s}\ (r^{\lfloor t/s \rfloor}\ \text{with staircase})",
                  defaults={"decay_rate": 0.96, "decay_steps": 1, "staircase": False, "unit": "epoch"},
                  space={"decay_rate": _RATE, "decay_steps": _DECAY_STEPS, "staircase": Param.boolean(),
                         "unit": UNIT},
                  examples=({"decay_rate": 0.5, "decay_steps": 3, "staircase": True},
                            {"decay_rate": 0.8, "decay_steps": 2.5, "staircase": False},
                            {"decay_rate": 0.7, "decay_steps": 0.1, "staircase": True},
                            {"decay_rate": 0.9, "decay_steps": 49, "staircase": True}),
                  meta={"ops": 6, "horizon": _decay_horizon})
def exponential_decay(t: int, base_lr: float, decay_rate: float, decay_steps: float, staircase: bool,
                      unit: str = "epoch") -> Rate:
    r""":math:`\eta_0 r^{t/s}`, or :math:`\eta_0 r^{\lfloor t/s\rfloor}` with ``staircase`` (Keras'
    ``ExponentialDecay``)."""
    if staircase:
        k, other = _floor_quotient(t, decay_steps)
        value, scale = _power(decay_rate, k, k)
        alt = None if other is None else base_lr * decay_rate**other
        return Rate(base_lr * value, base_lr * scale, alt)
    value, scale = _power(decay_rate, t / decay_steps, t)
    return Rate(base_lr * value, base_lr * scale)


@register_formula("schedule", "inverse_time_decay", title="divide by 1 + decay_rate * t / decay_steps",
                  latex=r"\eta(t) = \eta_0 / (1 + r\,t/s)\ (\lfloor t/s \rfloor\ \text{with staircase})",
                  defaults={"decay_rate": 0.5, "decay_steps": 1, "staircase": False, "unit": "epoch"},
                  space={"decay_rate": Param.real(0.0, None, typical=(0.0, 5.0)), "decay_steps": _DECAY_STEPS,
                         "staircase": Param.boolean(), "unit": UNIT},
                  examples=({"decay_rate": 2.0, "decay_steps": 4, "staircase": True},
                            {"decay_rate": 0.0, "decay_steps": 3}),
                  meta={"ops": 5, "horizon": _decay_horizon})
def inverse_time_decay(t: int, base_lr: float, decay_rate: float, decay_steps: float, staircase: bool,
                       unit: str = "epoch") -> Rate:
    r""":math:`\eta_0 / (1 + r\,t/s)` (Keras' ``InverseTimeDecay``); every term of the denominator is
    positive, so the relative error stays a few :math:`\varepsilon`."""
    if staircase:
        k, other = _floor_quotient(t, decay_steps)
        value = base_lr / (1.0 + decay_rate * k)
        alt = None if other is None else base_lr / (1.0 + decay_rate * other)
        return Rate(value, value, alt)
    value = base_lr / (1.0 + decay_rate * (t / decay_steps))
    return Rate(value, value)


@register_formula("schedule", "polynomial_decay", aliases=("linear",),
                  title="polynomial decay to end_lr_factor * base rate over total_steps, constant after",
                  latex=r"\eta(t) = \eta_e + (\eta_0 - \eta_e)(1 - \min(t, T)/T)^p,\ \eta_e = f_e \eta_0",
                  defaults={"total_steps": 100, "end_lr_factor": 0.0, "power": 1.0, "unit": "epoch"},
                  space={"total_steps": _TOTAL, "end_lr_factor": Param.real(0.0, 1.0),
                         "power": Param.real(0.0, None, low_open=True, log=True, typical=(0.1, 5.0)),
                         "unit": UNIT},
                  examples=({"total_steps": 1}, {"total_steps": 37, "end_lr_factor": 0.25, "power": 0.5},
                            {"total_steps": 12, "end_lr_factor": 0.1, "power": 3.0}),
                  meta={"ops": 7, "horizon": lambda p: int(p["total_steps"]) + 20})
def polynomial_decay(t: int, base_lr: float, total_steps: int, end_lr_factor: float, power: float,
                     unit: str = "epoch") -> Rate:
    r""":math:`\eta_e + (\eta_0 - \eta_e)(1 - \min(t, T)/T)^p` (Keras' ``PolynomialDecay`` with the end
    rate relative to :math:`\eta_0`; PyTorch's ``PolynomialLR`` for :math:`f_e = 0`)."""
    end = base_lr * end_lr_factor
    x = float(Fraction(total_steps - min(t, total_steps), total_steps))
    amp = base_lr - end
    if x == 0.0:
        return Rate(end, base_lr + end)
    value, scale = _power(x, power, 0)
    # the rounding of x = 1 - t/T (absolute eps) is amplified by d(x^p)/dx = p x^(p-1)
    return Rate(end + amp * value, base_lr + end + amp * (scale + power * value / x))


def _cosine_floor(p: Mapping[str, Any]) -> float:
    return float(p["min_lr"])


@register_formula("schedule", "cosine_annealing", title="half a cosine from the base rate to min_lr, then min_lr",
                  latex=r"\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi \min(t, T)/T))/2",
                  defaults={"total_steps": 100, "min_lr": 0.0, "unit": "epoch"},
                  space={"total_steps": _TOTAL, "min_lr": _MIN_LR, "unit": UNIT},
                  examples=({"total_steps": 1}, {"total_steps": 7, "min_lr": 0.05},
                            {"total_steps": 250, "min_lr": 0.001}),
                  meta={"ops": 8, "horizon": lambda p: 2 * int(p["total_steps"]) + 10, "floor": _cosine_floor})
def cosine_annealing(t: int, base_lr: float, total_steps: int, min_lr: float, unit: str = "epoch") -> Rate:
    r""":math:`\eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi\min(t, T)/T))/2` (PyTorch's
    ``CosineAnnealingLR`` up to :math:`T`, then :math:`\eta_{min}` as Keras' ``CosineDecay``)."""
    _check_floor(min_lr, base_lr)
    f = min(t, total_steps) / total_steps
    value, scale = _cos_anneal(base_lr, min_lr, f, 2.0 * f)
    return Rate(value, scale)


def _restart(t: int, t_0: int, t_mult: int) -> tuple[int, int, bool]:
    """``(t_cur, period, at_restart)``: steps since the current period began, its length, and whether
    ``t`` is the first step of a period after the first (exact integer arithmetic)."""
    period, start = int(t_0), 0
    while t >= start + period:
        start += period
        period *= int(t_mult)
    return t - start, period, t == start and start > 0


def _restarts_horizon(p: Mapping[str, Any]) -> int:
    period, end = int(p["t_0"]), 0
    for _ in range(4):
        end += period
        period *= int(p["t_mult"])
    return end + 2


@register_formula("schedule", "cosine_warm_restarts", title="cosine annealing with warm restarts (SGDR)",
                  latex=r"\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi t_{cur}/T_i))/2,"
                        r"\ T_i = T_0 m^i",
                  defaults={"t_0": 10, "t_mult": 1, "min_lr": 0.0, "unit": "epoch"},
                  space={"t_0": Param.integer(1, None, typical=(1, 60)),
                         "t_mult": Param.integer(1, None, typical=(1, 3)), "min_lr": _MIN_LR, "unit": UNIT},
                  examples=({"t_0": 1, "t_mult": 2}, {"t_0": 3, "t_mult": 3, "min_lr": 0.01},
                            {"t_0": 1, "t_mult": 10}, {"t_0": 17, "t_mult": 1, "min_lr": 0.002}),
                  meta={"ops": 8, "horizon": _restarts_horizon, "floor": _cosine_floor})
def cosine_warm_restarts(t: int, base_lr: float, t_0: int, t_mult: int, min_lr: float,
                         unit: str = "epoch") -> Rate:
    r""":math:`\eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi t_{cur}/T_i))/2` where :math:`T_i` is the
    length of the current period (:math:`T_0, T_0 m, T_0 m^2, \ldots`) and :math:`t_{cur}` the steps
    since it began (PyTorch's ``CosineAnnealingWarmRestarts``)."""
    _check_floor(min_lr, base_lr)
    t_cur, period, at_restart = _restart(t, t_0, t_mult)
    f = t_cur / period
    value, scale = _cos_anneal(base_lr, min_lr, f, 2.0 * f)
    # PyTorch finds the period with a float logarithm (t_mult >= 2), others with a float floor(t / T_0):
    # at a restart either may still be in the previous period, at its very end (fraction 1: min_lr)
    alt = min_lr if at_restart else None
    return Rate(value, scale, alt)


def _warmup_horizon(p: Mapping[str, Any]) -> int:
    return int(p["warmup_steps"]) + _nested_horizon(p["after"])


@register_formula("schedule", "linear_warmup", title="linear ramp to the base rate, then another schedule",
                  latex=r"\eta(t) = \eta_0 (s + (1 - s) t / W)\ (t < W),\ \eta_{after}(t - W)\ (t \ge W),"
                        r"\ s = 1/(W+1)\ \text{by default}",
                  defaults={"warmup_steps": 5, "start_factor": None, "after": None, "unit": "epoch"},
                  space={"warmup_steps": Param.integer(0, None, typical=(0, 30)),
                         "start_factor": Param.real(0.0, 1.0, low_open=True, typical=(0.01, 1.0)), "unit": UNIT},
                  examples=({"warmup_steps": 0, "after": {"name": "step_decay", "config": {"step_size": 3}}},
                            {"warmup_steps": 10, "start_factor": 0.25,
                             "after": {"name": "exponential_decay",
                                       "config": {"decay_rate": 0.8, "decay_steps": 2.5, "staircase": True}}},
                            {"warmup_steps": 3, "after": None},
                            {"warmup_steps": 8, "start_factor": 1.0,
                             "after": {"name": "cosine_annealing", "config": {"total_steps": 12, "min_lr": 1e-3}}}),
                  meta={"ops": lambda p: 5 + _nested_ops(p["after"]), "horizon": _warmup_horizon,
                        "floor": lambda p: _nested_floor(p["after"])})
def linear_warmup(t: int, base_lr: float, warmup_steps: int, start_factor: float | None, after: Any,
                  unit: str = "epoch") -> Rate:
    r""":math:`\eta_0(s + (1 - s)t/W)` for :math:`t < W` (:math:`s = 1/(W+1)` when ``start_factor`` is
    None, i.e. :math:`\eta_0(t+1)/(W+1)`), then the reference of ``after`` at :math:`t - W` (the base
    rate when ``after`` is None)."""
    w = int(warmup_steps)
    if t < w:
        s = Fraction(1, w + 1) if start_factor is None else Fraction(start_factor)
        value = base_lr * float(s + (1 - s) * Fraction(t, w))
        return Rate(value, base_lr)
    return nested_rate(after, t - w, base_lr)


def _one_cycle_horizon(p: Mapping[str, Any]) -> int:
    return int(p["total_steps"]) + 10


@register_formula("schedule", "one_cycle", title="1cycle: cosine rise to the base rate, then cosine fall",
                  latex=r"\eta(t) = \mathrm{ca}(\eta_0/d, \eta_0, t/u)\ (t \le u),\ "
                        r"\mathrm{ca}(\eta_0, \eta_0/(d d_f), \min(1, \tfrac{t-u}{T-1-u}))\ (t > u),\ u = pT - 1",
                  defaults={"total_steps": 100, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4,
                            "unit": "batch"},
                  space={"total_steps": Param.integer(2, None, typical=(2, 400)),
                         "pct_start": Param.real(0.0, 1.0, low_open=True, high_open=True, typical=(0.05, 0.95)),
                         "div_factor": Param.real(1.0, None, log=True, typical=(1.0, 100.0)),
                         "final_div_factor": Param.real(1.0, None, log=True, typical=(1.0, 1e5)), "unit": UNIT},
                  examples=({"total_steps": 10, "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
                            {"total_steps": 7, "pct_start": 0.5, "div_factor": 4.0, "final_div_factor": 2.0},
                            {"total_steps": 1000, "pct_start": 0.1}),
                  meta={"ops": 10, "horizon": _one_cycle_horizon})
def one_cycle(t: int, base_lr: float, total_steps: int, pct_start: float, div_factor: float,
              final_div_factor: float, unit: str = "batch") -> Rate:
    r"""PyTorch's ``OneCycleLR`` (``anneal_strategy="cos"``, two phases, rates only): with
    :math:`\eta_{init} = \eta_0/d`, :math:`\eta_{final} = \eta_{init}/d_f` and :math:`u = pT - 1`, a
    half-cosine from :math:`\eta_{init}` up to :math:`\eta_0` over steps :math:`0..u`, then down to
    :math:`\eta_{final}` at step :math:`T - 1`, which it keeps after."""
    initial = base_lr / div_factor
    final = initial / final_div_factor
    rise_end = pct_start * total_steps - 1
    if t <= rise_end:
        f = t / rise_end
        value, scale = _cos_anneal(initial, base_lr, f, 2.0 * f)
    else:
        span = total_steps - 1 - rise_end
        f = min(1.0, (t - rise_end) / span)
        # u = pT - 1 carries an absolute rounding of about eps*(u + 1); it moves f by that over span
        value, scale = _cos_anneal(base_lr, final, f, 2.0 * f + 2.0 * (rise_end + 1.0 + t) / span)
    return Rate(value, scale)


def _sequential_parts(p: Mapping[str, Any]) -> tuple[list[Any], list[int]]:
    return _list(p["schedules"]), [int(m) for m in _list(p["milestones"])]


def _sequential_horizon(p: Mapping[str, Any]) -> int:
    schedules, milestones = _sequential_parts(p)
    return (milestones[-1] if milestones else 0) + (_nested_horizon(schedules[-1]) if schedules else 20)


@register_formula("schedule", "sequential", title="schedules one after another at milestones (SequentialLR)",
                  latex=r"\eta(t) = \eta_i(t - m_i),\ m_i \le t < m_{i+1},\ m_0 = 0",
                  defaults={"schedules": ["constant", {"name": "step_decay", "config": {"step_size": 3}}],
                            "milestones": [5], "unit": "epoch"},
                  space={"unit": UNIT},
                  examples=({"schedules": [{"name": "linear_warmup", "config": {"warmup_steps": 4}},
                                           {"name": "cosine_annealing",
                                            "config": {"total_steps": 20, "min_lr": 0.001}},
                                           "constant"],
                             "milestones": [4, 30]},
                            {"schedules": [{"name": "exponential_decay", "config": {"decay_rate": 0.5}},
                                           {"name": "polynomial_decay", "config": {"total_steps": 9, "power": 2.0}}],
                             "milestones": [1]}),
                  meta={"ops": lambda p: 1 + max([_nested_ops(s) for s in _list(p["schedules"])] or [1]),
                        "horizon": _sequential_horizon,
                        "floor": lambda p: max([_nested_floor(s) for s in _list(p["schedules"])] or [0.0])})
def sequential(t: int, base_lr: float, schedules: Sequence[Any], milestones: Sequence[int],
               unit: str = "epoch") -> Rate:
    r"""The reference of ``schedules[i]`` at :math:`t - m_i`, where :math:`i` is the number of
    milestones :math:`m \le t` (:math:`m_0 = 0`): each schedule restarts from its own step 0 and gets the
    same base rate (PyTorch's ``SequentialLR``)."""
    i = sum(1 for m in milestones if m <= t)
    start = milestones[i - 1] if i else 0
    return nested_rate(schedules[i], t - start, base_lr)


# ------------------------------------------------------------------ reduce on plateau
@register_formula("schedule", "reduce_on_plateau", title="multiply by factor when a metric stops improving",
                  latex=r"\eta = \min(\eta_0, \max(\eta_0 \phi^k, \eta_{min})),\ k = \text{reductions so far}",
                  defaults={"monitor": "val_loss", "mode": "min", "factor": 0.1, "patience": 10,
                            "min_delta": 1e-4, "cooldown": 0, "min_lr": 0.0, "unit": "epoch"},
                  space={"mode": Param.choice("min", "max"),
                         "factor": Param.real(0.0, 1.0, low_open=True, high_open=True, typical=(0.05, 0.95)),
                         "patience": Param.integer(1, None, typical=(1, 6)),
                         "min_delta": Param.real(0.0, None, typical=(0.0, 0.05)),
                         "cooldown": Param.integer(0, None, typical=(0, 4)),
                         "min_lr": Param.real(0.0, None, typical=(0.0, 0.02)), "unit": UNIT},
                  examples=({"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 2, "min_delta": 0.01,
                             "min_lr": 0.01},
                            {"patience": 1, "factor": 0.5, "min_lr": 0.05, "min_delta": 0.0},
                            {"monitor": "loss", "patience": 3, "cooldown": 1, "factor": 0.3}),
                  meta={"ops": 4, "stateful": True, "epochs": 80})
def reduce_on_plateau(values: Sequence[float], base_lr: float, monitor: str, mode: str, factor: float,
                      patience: int, min_delta: float, cooldown: int, min_lr: float,
                      unit: str = "epoch") -> list[Rate]:
    r"""The rates before any observation and after each monitored value of ``values`` (see the module
    docstring for the semantics; ``patience=2`` reduces after the 2nd counted bad epoch in a row)."""
    best: float | None = None
    wait = cooldown_left = k = 0
    out = [_plateau_rate(base_lr, factor, k, min_lr)]
    for value in values:
        in_cooldown = cooldown_left > 0
        if in_cooldown:
            cooldown_left -= 1
        better = best is None or (value < best - min_delta if mode == "min" else value > best + min_delta)
        if better:
            best, wait = value, 0
        elif not in_cooldown:
            wait += 1
            if wait >= patience:
                k, wait, cooldown_left = k + 1, 0, cooldown
        out.append(_plateau_rate(base_lr, factor, k, min_lr))
    return out


def _plateau_rate(base_lr: float, factor: float, k: int, min_lr: float) -> Rate:
    reduced, scale = _power(factor, k, k)
    value = min(base_lr, max(base_lr * reduced, min_lr))
    return Rate(value, base_lr * scale + min_lr)


def plateau_metrics(rng: Any, n: int, mode: str, min_delta: float) -> list[float]:
    """A sequence of ``n`` monitored values that exercises patience, cooldown and ``min_delta``.

    Relative to the best value so far (in the sense of the semantics above), each
    epoch either improves clearly (by ``2 min_delta`` plus 0.01..0.1), improves by only
    half of ``min_delta`` (not an improvement; by 1e-3 when ``min_delta`` is 0, which is
    one), repeats the best value exactly (never an improvement), or is worse by
    1e-3..0.1. The margins are far above rounding, so every way of writing the
    comparison (``value < best - min_delta``, ``best - value > min_delta``) decides
    the same. Values are "goodness" (higher is better), negated for ``mode="min"``.
    """
    best: float | None = None
    out = []
    for _ in range(n):
        move = int(rng.choice(4, p=[0.2, 0.2, 0.15, 0.45]))
        if best is None:
            value = 1.0
        elif move == 0:
            value = best + 2 * min_delta + float(rng.uniform(0.01, 0.1))
        elif move == 1:
            value = best + (min_delta / 2 if min_delta > 0 else 1e-3)
        elif move == 2:
            value = best
        else:
            value = best - float(rng.uniform(1e-3, 0.1))
        if best is None or value > best + min_delta:
            best = value
        out.append(value if mode == "max" else -value)
    return out
