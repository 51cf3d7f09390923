r"""Spec checks: learning-rate schedules.

A schedule is called as ``schedule(step, base_lr)`` and returns the learning rate
:math:`\eta(t)` for the 0-based ``step`` (an epoch or an optimizer step, per
``unit``) and the initial rate :math:`\eta_0` = ``base_lr``.

*Contract* checks (every schedule): interface, finite non-negative rates, no
dependence on the calling order, ``preview`` agrees with the calls (schedules as
programmable functions of the step), a valid ``unit``, config round trip.

*Property* checks (schedules declaring ``decaying``, as a registration property or
the instance attribute): the rate starts at :math:`\eta_0` and never increases
(the notes' progressive reduction of the learning rate).

Schedules with required parameters are built from their registration's
``spec_config``. Every check that compares two sequences of rates evaluates them on
separate fresh instances, so that a schedule that changes when called fails
SCHED-STATELESS only.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .framework import Subject, fail, rebuild_from_config, skip, spec_check

#: Steps evaluated by the value checks.
STEPS = 1000
#: Base rates evaluated by the value checks.
BASE_LRS = (1e-3, 0.1, 1.0)
#: Allowed rounding in the decay checks, in units of the spacing of doubles at the value.
ULPS = 2
#: Metrics passed to observe() of stateful schedules in the decay checks.
_METRIC_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


def _rates(schedule: Any, base_lr: float, steps: Any = None) -> np.ndarray:
    steps = range(STEPS) if steps is None else steps
    return np.array([float(schedule(int(t), base_lr)) for t in steps], dtype=np.float64)


def _is_decaying(subject: Subject, schedule: Any) -> bool:
    return getattr(schedule, "decaying", False) is True or "decaying" in subject.properties


def _first_mismatch(found: np.ndarray, expected: np.ndarray, steps: Any) -> tuple[int, float, float]:
    same = (found == expected) | (np.isnan(found) & np.isnan(expected))
    i = int(np.argmin(same))
    return int(list(steps)[i]), float(found[i]), float(expected[i])


def _observed_rates(schedule: Any, base_lr: float, rng: np.random.Generator) -> np.ndarray:
    """Rates of steps 0..STEPS-1 with ``observe`` called between them (random, mostly worsening metrics)."""
    keys = set(_METRIC_KEYS)
    monitor = getattr(schedule, "monitor", None)
    if isinstance(monitor, str):
        keys.add(monitor)
    values = rng.uniform(0.0, 1.0, (STEPS, len(keys)))
    out = np.empty(STEPS)
    for t in range(STEPS):
        out[t] = float(schedule(t, base_lr))
        schedule.observe(t, {k: float(v) for k, v in zip(sorted(keys), values[t])})
    return out


# ------------------------------------------------------------------------ contract checks
@spec_check("SCHED-INTERFACE", "schedule", layer="contract",
            title="is a Schedule returning a Python/numpy real number",
            formula=r"\eta = \mathrm{schedule}(t, \eta_0) \in \mathbb{R}")
def check_sched_interface(subject):
    """The component is a ``neuroplug.Schedule``; ``schedule(step, base_lr)`` returns a
    real scalar (``int``, ``float`` or a numpy floating scalar -- not an array, which
    ``fit`` rejects, and not a bool); ``decaying``, ``stateful`` and ``serializable``
    are booleans; ``get_state()`` returns a dict; ``preview(n, base_lr)`` returns a
    float64 array of shape ``(n,)``.
    """
    from neuroplug.base import Schedule

    schedule = subject.new()
    if not isinstance(schedule, Schedule):
        fail("a schedule must subclass neuroplug.Schedule", found=type(schedule).__mro__)
    for attr in ("decaying", "stateful", "serializable"):
        value = getattr(schedule, attr, None)
        if not isinstance(value, bool):
            fail(f"the attribute {attr} must be a bool (read from the instance)", found=repr(value))
    for t in (0, 1, 7):
        value = schedule(t, 0.1)
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
            fail("schedule(step, base_lr) must return a real number (float), not an array or another object; "
                 "return float(...)", expected="float", found=f"{type(value).__name__}: {value!r}",
                 where=f"step {t}, base_lr 0.1")
    state = schedule.get_state()
    if not isinstance(state, dict):
        fail("get_state() must return a dict (empty for a stateless schedule)", found=type(state).__name__)
    preview = schedule.preview(5, 0.1)
    if not isinstance(preview, np.ndarray) or preview.shape != (5,) or preview.dtype != np.float64:
        fail("preview(n, base_lr) must return a float64 array of shape (n,)",
             expected="float64 array of shape (5,)",
             found=f"{type(preview).__name__} {getattr(preview, 'shape', '')} {getattr(preview, 'dtype', '')}")


@spec_check("SCHED-FINITE", "schedule", layer="contract", title="rates are finite and >= 0",
            formula=r"0 \le \eta(t) < \infty,\quad t = 0 \ldots 999")
def check_sched_finite(subject):
    """For every step 0..999 and base rates 1e-3, 0.1 and 1.0, the rate is finite and
    non-negative (``fit`` stops with an error otherwise).
    """
    for base_lr in BASE_LRS:
        rates = _rates(subject.new(), base_lr)
        bad = ~np.isfinite(rates) | (rates < 0)
        if bad.any():
            t = int(np.argmax(bad))
            fail("the learning rate must be a finite number >= 0 at every step; check the formula for large "
                 "steps (past the end of a cycle, divisions, powers of negative numbers)",
                 expected="0 <= lr < inf", found=f"lr = {float(rates[t])!r}", where=f"step {t}, base_lr {base_lr}")


@spec_check("SCHED-STATELESS", "schedule", layer="contract",
            title="the rate depends on the step, not on the calling order",
            formula=r"\eta(t_{\pi(1)}), \ldots, \eta(t_{\pi(k)}) = \pi(\eta(t_1), \ldots, \eta(t_k))")
def check_sched_stateless(subject):
    """Calling a schedule does not change it: on one instance, the rates of steps
    0..999 evaluated in order, then again in a shuffled order, then in order again,
    are equal (bit for bit). ``fit`` calls a schedule once per epoch (or batch) and
    restarts, resumes and previews it, so a rate that depends on how often it was
    called (a counter, a running product) is a bug.

    This applies to ``stateful`` schedules too (reduce_on_plateau): their state may
    change only in ``observe()``, which the check does not call, so their rates must
    not change between calls either; their ``get_state()`` must also be unchanged
    by the calls.
    """
    schedule = subject.new()
    state = schedule.get_state() if getattr(schedule, "stateful", False) else None
    steps = np.arange(STEPS)
    order = subject.rng(1).permutation(STEPS)
    first = _rates(schedule, 0.1, steps)
    shuffled = np.empty(STEPS)
    shuffled[order] = _rates(schedule, 0.1, order)
    again = _rates(schedule, 0.1, steps)
    for label, values in (("in a shuffled order", shuffled), ("in order a second time", again)):
        if not np.array_equal(values, first, equal_nan=True):
            t, found, expected = _first_mismatch(values, first, steps)
            fail("the rate must be a function of the step only: calling the schedule changed it. Compute "
                 "the rate from (step, base_lr) and the parameters, without counters or running products "
                 "(a stateful rule updates itself in observe() only)",
                 expected=f"lr({t}) = {expected!r} (first evaluation, in order)",
                 found=f"lr({t}) = {found!r} when evaluated {label}", where=f"step {t}, base_lr 0.1")
    if state is not None and schedule.get_state() != state:
        fail("calling a stateful schedule changed its state; only observe() may change it",
             expected=state, found=schedule.get_state())


@spec_check("SCHED-PREVIEW", "schedule", layer="contract",
            title="preview(n) tabulates the schedule as a function of the step",
            formula=r"\mathrm{preview}(n, \eta_0) = [\eta(0), \ldots, \eta(n-1)]", notes=("lr_schedules",),
            tolerance="relative error <= 1e-12 (a vectorised preview may round differently)")
def check_sched_preview(subject):
    r"""A schedule is a programmable function of the step: ``preview(n, base_lr)``
    equals ``[schedule(t, base_lr) for t in range(n)]`` (n = 1000 at base rate 0.1 and
    n = 50 at 1e-3; each side on a fresh instance), a float64 array of shape ``(n,)``.
    Tolerance :math:`|p_t - \eta(t)| \le 10^{-12}|\eta(t)|`, since an overriding,
    vectorised ``preview`` may round differently from the scalar formula.
    """
    for n, base_lr in ((STEPS, 0.1), (50, 1e-3)):
        preview = subject.new().preview(n, base_lr)
        expected = _rates(subject.new(), base_lr, range(n))
        preview = np.asarray(preview)
        if preview.shape != (n,):
            fail("preview(n, base_lr) must return n rates", expected=(n,), found=preview.shape)
        preview = preview.astype(np.float64)
        both_nan = np.isnan(preview) & np.isnan(expected)
        bad = ~((np.abs(preview - expected) <= 1e-12 * np.abs(expected)) | both_nan)
        if bad.any():
            t = int(np.argmax(bad))
            fail("preview() disagrees with calling the schedule: preview(n, base_lr)[t] must equal "
                 "schedule(t, base_lr); check the step offset and base_lr of the override (or remove it)",
                 expected=f"{float(expected[t])!r} = schedule({t}, {base_lr})",
                 found=f"preview[{t}] = {float(preview[t])!r}",
                 where=f"step {t}, preview({n}, {base_lr})")


@spec_check("SCHED-UNIT", "schedule", layer="contract", title="unit is 'epoch' or 'batch'",
            formula=r"\mathrm{unit} \in \{\mathrm{epoch}, \mathrm{batch}\}")
def check_sched_unit(subject):
    """``schedule.unit`` says what the step counts, and ``fit`` reads it: ``"epoch"``
    (the epoch index) or ``"batch"`` (the global optimizer step). Any other value
    would silently be treated as epochs.
    """
    unit = getattr(subject.new(), "unit", None)
    if unit not in ("epoch", "batch"):
        fail("the attribute unit must be 'epoch' or 'batch'", expected="'epoch' or 'batch'", found=repr(unit))


@spec_check("SCHED-CONFIG-ROUNDTRIP", "schedule", layer="contract",
            title="rebuilt from its saved config, it gives the same rates",
            formula=r"\mathrm{create}(\mathrm{name}, \mathrm{json}(\mathrm{get\_config}()))(t, \eta_0) = \eta(t)")
def check_sched_config_roundtrip(subject):
    """``get_config()`` survives ``json.dumps``/``json.loads``; the schedule rebuilt
    from it (by its registered name, or ``type(s).from_config`` when unregistered) has
    the same ``unit`` and config and gives bit-identical rates for steps 0..999 at base
    rate 0.1. Schedules that declare ``serializable = False`` (wrapping a Python
    function) are skipped.
    """
    schedule = subject.new()
    if getattr(schedule, "serializable", True) is False:
        skip("declares serializable = False: it cannot be saved by name and parameters")
    rebuilt, how = rebuild_from_config(subject, schedule)
    if getattr(rebuilt, "unit", None) != getattr(schedule, "unit", None):
        fail("the rebuilt schedule counts a different unit: get_config() must include unit",
             expected=schedule.unit, found=getattr(rebuilt, "unit", None))
    expected = _rates(schedule, 0.1)
    found = _rates(rebuilt, 0.1)
    if not np.array_equal(found, expected, equal_nan=True):
        t, f, e = _first_mismatch(found, expected, range(STEPS))
        fail("the schedule rebuilt from its config gives different rates: get_config() must return every "
             "constructor parameter", expected=f"lr({t}) = {e!r}", found=f"lr({t}) = {f!r}",
             where=f"step {t}, base_lr 0.1, rebuilt as {how}")


# ------------------------------------------------------------------------ property checks
@spec_check("SCHED-DECAY-START", "schedule", layer="property",
            title="a decaying schedule starts at the base rate",
            formula=r"\eta(0) = \eta_0", notes=("lr_decay",),
            tolerance="|lr(0) - base_lr| <= 2 ulp(base_lr)")
def check_sched_decay_start(subject):
    r"""A decaying schedule (property ``decaying``, or ``decaying = True`` on the
    instance) starts from the initial rate and then reduces it: on a fresh instance
    :math:`\eta(0) = \eta_0` for :math:`\eta_0 \in \{10^{-3}, 0.1, 1\}`. Allowed:
    2 units in the last place of :math:`\eta_0`, because formulas such as
    :math:`\eta_e + (\eta_0 - \eta_e)\cdot 1` are not exact in floating point (they are
    off by up to 1 ulp for some :math:`\eta_e > 0`).
    """
    if not _is_decaying(subject, subject.new()):
        skip("does not declare the property decaying")
    for base_lr in BASE_LRS:
        lr0 = float(subject.new()(0, base_lr))
        if not abs(lr0 - base_lr) <= ULPS * np.spacing(base_lr):
            fail("a decaying schedule must start at the initial learning rate: schedule(0, base_lr) must equal "
                 "base_lr (reduce it from there)", expected=repr(base_lr), found=repr(lr0),
                 where=f"step 0, base_lr {base_lr}")


@spec_check("SCHED-DECAY-MONOTONE", "schedule", layer="property",
            title="a decaying schedule never increases the rate",
            formula=r"\eta(t+1) \le \eta(t),\quad t = 0 \ldots 998", notes=("lr_decay",),
            tolerance="an increase of at most 2 ulp(lr(t)) (libm's pow is not guaranteed monotone)")
def check_sched_decay_monotone(subject):
    r"""The learning rate is progressively reduced: for a schedule declaring
    ``decaying``, :math:`\eta(t+1) \le \eta(t)` for steps 0..999 and base rates 1e-3,
    0.1 and 1 (allowing a rounding increase of 2 ulp of :math:`\eta(t)`; a NaN rate
    fails). For a ``stateful`` schedule the sequence is also evaluated with
    ``observe(t, metrics)`` called after each step, with random metrics (``loss``,
    ``val_loss``, ``accuracy``, ``val_accuracy`` and its ``monitor``): no observation
    may raise the rate either.
    """
    schedule = subject.new()
    if not _is_decaying(subject, schedule):
        skip("does not declare the property decaying")
    runs = [(f"base_lr {b}", b, _rates(subject.new(), b)) for b in BASE_LRS]
    if getattr(schedule, "stateful", False):
        runs += [(f"base_lr {b}, observe() after each step", b, _observed_rates(subject.new(), b, subject.rng(2)))
                 for b in BASE_LRS]
    for label, base_lr, rates in runs:
        allowed = rates[:-1] + ULPS * np.spacing(np.abs(rates[:-1]))
        bad = ~(rates[1:] <= allowed)
        if bad.any():
            t = int(np.argmax(bad))
            fail("a decaying schedule must never increase the learning rate; fix the formula (e.g. clamp the "
                 "step at the end of the decay) or do not declare the property decaying",
                 expected=f"lr({t + 1}) <= lr({t}) = {float(rates[t])!r}",
                 found=f"lr({t + 1}) = {float(rates[t + 1])!r}",
                 where=f"steps {t}->{t + 1}, {label}")
