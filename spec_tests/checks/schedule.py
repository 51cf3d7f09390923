r"""Spec checks: learning-rate schedules.

A schedule is called as ``schedule(step, base_lr)`` and returns the learning rate
:math:`\eta(t)` for the 0-based ``step`` (an epoch or an optimizer step, per
``unit``) and the initial rate :math:`\eta_0` = ``base_lr``.

*Contract* checks (every schedule, for each config of ``subject.configs()``: its
own, its ``example_configs`` and configs drawn from its ``parameter_space``):
interface, finite non-negative rates, no dependence on the calling order,
``preview`` agrees with the calls (schedules as programmable functions of the
step), a valid ``unit`` stored as given, config round trip.

*Formula* check ``SCHED-FORMULA`` (schedules claiming formulas with ``implements``):
the rates equal the closed-form reference of :mod:`neuroplug.spec.references.schedules`
over the whole schedule, for every config of :func:`neuroplug.spec.formulas.formula_cases`.

*Property* checks (schedules declaring ``decaying``, as a registration property or
the instance attribute): the rate starts at :math:`\eta_0` and never increases
(the notes' progressive reduction of the learning rate).

Tolerances come from error analysis, in units of :math:`\varepsilon = 2^{-52}`: a
float64 rate is formed from a handful of terms of size at most :math:`\eta_0` (or the
largest rate), each operation rounding by :math:`\varepsilon/2` of its magnitude.
Schedules with required parameters are built from their registration's
``spec_config``. Every check that compares two sequences of rates evaluates them on
separate fresh instances, so that a schedule that changes when called fails
SCHED-STATELESS only. A schedule may refuse (``ValueError``) a base rate below a floor
such as ``min_lr``; the checks then use the base rates it accepts (1.0 at least). A
schedule that stores a ``min_lr`` attribute (the documented name of a floor) is never
given a base rate below it.
"""

from __future__ import annotations

import json
import numbers
from typing import Any, Callable

import numpy as np

from ..framework import Subject, fail, rebuild_from_config, signature_params, skip, spec_check

#: Steps evaluated by the value checks (for the subject's own config; see :data:`CONFIG_STEPS` for the others).
STEPS = 1000
#: Steps evaluated for the further configs: every step up to 100, then every 9th up to 999 (cheaper).
CONFIG_STEPS = np.array(sorted(set(range(100)) | set(range(100, STEPS, 9)) | {STEPS - 1}))
#: Base rates evaluated by the value checks.
BASE_LRS = (1e-3, 0.1, 1.0)
#: Base rates of the formula check (those at or above the formula's floor, e.g. min_lr).
FORMULA_BASE_LRS = (1e-3, 0.1, 2.5)
EPS = float(np.finfo(np.float64).eps)
#: Below the smallest normal double a result loses relative precision: its error is bounded absolutely.
TINY = float(np.finfo(np.float64).tiny)
#: Consecutive steps of the monotonicity check for the configs besides the subject's own.
MONOTONE_CONFIG_STEPS = 450
#: Roundings allowed at the start and between consecutive steps of a decaying schedule (units of eps * eta_0).
DECAY_ULPS = 8
#: Roundings allowed between preview() and the calls (units of eps times the largest rate).
PREVIEW_ULPS = 1024
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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _label(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in config.items()) or "no parameters"


def _configs(subject: Subject, salt: int = 0) -> list[tuple[str, dict[str, Any] | None, Callable[[], Any]]]:
    """``(label, config, make)`` for each config of ``subject.configs(salt)``: ``make()`` builds a fresh
    instance; ``config`` is None for the subject's own config (first), which is built as the subject is.

    A drawn or example config that the constructor rejects (``ValueError``/``TypeError``, e.g.
    parameters out of order) is left out.
    """
    out: list[tuple[str, dict[str, Any] | None, Callable[[], Any]]] = [("its own config", None, subject.new)]
    for config in subject.configs(salt)[1:]:
        def make(config: dict[str, Any] = config) -> Any:
            return subject.factory(**config)
        try:
            make()
        except (ValueError, TypeError):
            continue
        out.append((f"built with {_label(config)}", config, make))
    return out


def _steps(config: dict[str, Any] | None) -> np.ndarray:
    """All of 0..STEPS-1 for the subject's own config (``None``), :data:`CONFIG_STEPS` for the others."""
    return np.arange(STEPS) if config is None else CONFIG_STEPS


def _base_lrs(make: Callable[[], Any], candidates: tuple[float, ...] = BASE_LRS) -> list[float]:
    """The base rates of ``candidates`` the schedule accepts at step 0 (a ``ValueError`` there, e.g. a
    ``min_lr`` above the base rate, leaves that base rate out); the largest must be accepted."""
    schedule = make()
    floor = getattr(schedule, "min_lr", None)
    if isinstance(floor, numbers.Real) and not isinstance(floor, bool) and floor > 0:
        # a base rate below the schedule's floor is outside every formula's domain (a cosine from 1e-3 down
        # to a min_lr of 0.02 would rise): only base rates at or above it are used
        candidates = tuple(b for b in candidates if b >= floor) or (max(candidates[-1], 2.0 * float(floor)),)
    usable = []
    for base_lr in candidates:
        try:
            schedule(0, base_lr)
        except ValueError:
            continue
        usable.append(base_lr)
    if candidates[-1] not in usable:
        schedule(0, candidates[-1])  # raises: the runner reports the component's error
    return usable


# ------------------------------------------------------------------------ contract checks
@spec_check("SCHED-INTERFACE", "schedule", layer="contract",
            title="is a Schedule returning a Python/numpy real number",
            formula=r"\eta = \mathrm{schedule}(t, \eta_0) \in \mathbb{R}")
def check_sched_interface(subject):
    """The component is a ``neuroplug.Schedule``; ``schedule(step, base_lr)`` returns a
    real scalar (``int``, ``float`` or a numpy floating scalar -- not an array, which
    ``fit`` rejects, and not a bool); ``decaying``, ``stateful`` and ``serializable``
    are booleans; ``get_state()`` returns a dict; ``preview(n, base_lr)`` returns a
    float64 array of shape ``(n,)``. Deterministic.
    """
    from neuroplug.base import Schedule

    schedule = subject.new()
    if not isinstance(schedule, Schedule):
        fail("a schedule must subclass neuroplug.Schedule", found=type(schedule).__mro__)
    for attr in ("decaying", "stateful", "serializable"):
        value = getattr(schedule, attr, None)
        if not isinstance(value, bool):
            fail(f"the attribute {attr} must be a bool (read from the instance)", found=repr(value))
    base_lr = _base_lrs(subject.new, (0.1, 1.0))[0]
    for t in (0, 1, 7):
        value = schedule(t, base_lr)
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
            fail("schedule(step, base_lr) must return a real number (float), not an array or another object; "
                 "return float(...) from __call__", expected="float", found=f"{type(value).__name__}: {value!r}",
                 where=f"step {t}, base_lr {base_lr}")
    state = schedule.get_state()
    if not isinstance(state, dict):
        fail("get_state() must return a dict (empty for a stateless schedule)", found=type(state).__name__)
    preview = schedule.preview(5, base_lr)
    if not isinstance(preview, np.ndarray) or preview.shape != (5,) or preview.dtype != np.float64:
        fail("preview(n, base_lr) must return a float64 array of shape (n,)",
             expected="float64 array of shape (5,)",
             found=f"{type(preview).__name__} {getattr(preview, 'shape', '')} {getattr(preview, 'dtype', '')}")


@spec_check("SCHED-FINITE", "schedule", layer="contract", title="rates are finite and >= 0",
            formula=r"0 \le \eta(t) < \infty,\quad t = 0 \ldots 999")
def check_sched_finite(subject):
    """For every config (its own, its examples, configs drawn from its ``parameter_space``),
    every step 0..999 (every step to 99 then every 9th for the configs besides its own) and
    base rates 1e-3, 0.1 and 1.0 (those it accepts), the rate is finite and non-negative
    (``fit`` stops with an error otherwise). Deterministic.
    """
    for label, config, make in _configs(subject):
        steps = _steps(config)
        for base_lr in _base_lrs(make):
            rates = _rates(make(), base_lr, steps)
            bad = ~np.isfinite(rates) | (rates < 0)
            if bad.any():
                t = int(steps[int(np.argmax(bad))])
                fail("the learning rate must be a finite number >= 0 at every step; check the formula in "
                     "__call__ for large steps (past the end of a cycle, divisions, powers of negative numbers)",
                     expected="0 <= lr < inf", found=f"lr = {float(rates[t])!r}",
                     where=f"step {t}, base_lr {base_lr}, {label}")


@spec_check("SCHED-STATELESS", "schedule", layer="contract",
            title="the rate depends on the step, not on the calling order",
            formula=r"\eta(t_{\pi(1)}), \ldots, \eta(t_{\pi(k)}) = \pi(\eta(t_1), \ldots, \eta(t_k))")
def check_sched_stateless(subject):
    """Calling a schedule does not change it: on one instance, the rates of steps
    0..999 evaluated in order, then again in a shuffled order, then in order again,
    are equal (bit for bit: a deterministic computation repeats its roundings). ``fit``
    calls a schedule once per epoch (or batch) and restarts, resumes and previews it, so
    a rate that depends on how often it was called (a counter, a running product) is a
    bug. For every config (its own, its examples, drawn ones; every step to 99 then every
    9th for the configs besides its own).

    This applies to ``stateful`` schedules too (reduce_on_plateau): their state may
    change only in ``observe()``, which the check does not call, so their rates must
    not change between calls either; their ``get_state()`` must also be unchanged
    by the calls.
    """
    for label, config, make in _configs(subject):
        steps = _steps(config)
        order = subject.rng(1).permutation(steps.size)
        base_lr = _base_lrs(make, (0.1, 1.0))[0]
        schedule = make()
        state = schedule.get_state() if getattr(schedule, "stateful", False) else None
        first = _rates(schedule, base_lr, steps)
        shuffled = np.empty(steps.size)
        shuffled[order] = _rates(schedule, base_lr, steps[order])
        again = _rates(schedule, base_lr, steps)
        for how, values in (("in a shuffled order", shuffled), ("in order a second time", again)):
            if not np.array_equal(values, first, equal_nan=True):
                t, found, expected = _first_mismatch(values, first, steps)
                fail("the rate must be a function of the step only: calling the schedule changed it. Compute "
                     "the rate in __call__ from (step, base_lr) and the parameters, without counters or running "
                     "products (a stateful rule updates itself in observe() only)",
                     expected=f"lr({t}) = {expected!r} (first evaluation, in order)",
                     found=f"lr({t}) = {found!r} when evaluated {how}", where=f"step {t}, base_lr {base_lr}, {label}")
        if state is not None and schedule.get_state() != state:
            fail("calling a stateful schedule changed its state; only observe() may change it",
                 expected=state, found=schedule.get_state(), where=label)


@spec_check("SCHED-PREVIEW", "schedule", layer="contract",
            title="preview(n) tabulates the schedule as a function of the step",
            formula=r"\mathrm{preview}(n, \eta_0) = [\eta(0), \ldots, \eta(n-1)]", notes=("lr_schedules",),
            tolerance="|preview[t] - lr(t)| <= 1024 eps (M + |lr(t)|), M = max(base_lr, max_t |lr(t)|) "
                      "(a vectorised preview may round differently)")
def check_sched_preview(subject):
    r"""A schedule is a programmable function of the step: ``preview(n, base_lr)``
    equals ``[schedule(t, base_lr) for t in range(n)]`` (n = 1000 -- 450 for the configs
    besides its own -- at base rate 0.1 and n = 50 at 1e-3 -- or 1.0 when the schedule refuses
    a smaller one; each side on a fresh instance), a float64 array of shape ``(n,)``, for
    every config.

    Tolerance :math:`|p_t - \eta(t)| \le 1024\,\varepsilon\,(M + |\eta(t)|)` with
    :math:`M = \max(\eta_0, \max_t|\eta(t)|)`: an overriding, vectorised ``preview`` may
    evaluate the formula in another form (numpy's ``cos``/``power`` instead of
    ``math``'s, a cumulative product over up to 1000 steps, ``1 - t/T`` instead of
    ``(T - t)/T``), each rounding by :math:`\varepsilon/2` of terms of size at most
    :math:`M`, amplified by the formula's conditioning (a power :math:`x^p` near
    :math:`x = 0` with :math:`p < 1`): 1024 covers up to 1000 such roundings. A step
    offset or a wrong base rate changes the rates by far more. Deterministic.
    """
    for label, config, make in _configs(subject):
        usable = _base_lrs(make, (1e-3, 0.1, 1.0))
        n_long = STEPS if config is None else MONOTONE_CONFIG_STEPS
        for n, base_lr in ((n_long, 0.1 if 0.1 in usable else 1.0), (50, usable[0])):
            preview = make().preview(n, base_lr)
            expected = _rates(make(), base_lr, range(n))
            preview = np.asarray(preview)
            if preview.shape != (n,):
                fail("preview(n, base_lr) must return n rates", expected=(n,), found=preview.shape, where=label)
            preview = preview.astype(np.float64)
            finite = expected[np.isfinite(expected)]
            magnitude = max(base_lr, float(np.max(np.abs(finite))) if finite.size else 0.0)
            allowed = PREVIEW_ULPS * EPS * (magnitude + np.abs(expected))
            both_nan = np.isnan(preview) & np.isnan(expected)
            bad = ~((np.abs(preview - expected) <= allowed) | both_nan)
            if bad.any():
                t = int(np.argmax(bad))
                fail("preview() disagrees with calling the schedule: preview(n, base_lr)[t] must equal "
                     "schedule(t, base_lr); check the step offset and base_lr of the preview() override (or "
                     "remove it)",
                     expected=f"{float(expected[t])!r} = schedule({t}, {base_lr})",
                     found=f"preview[{t}] = {float(preview[t])!r}",
                     where=f"step {t}, preview({n}, {base_lr}), {label}")


@spec_check("SCHED-UNIT", "schedule", layer="contract", title="unit is 'epoch' or 'batch', as configured",
            formula=r"\mathrm{unit} \in \{\mathrm{epoch}, \mathrm{batch}\}")
def check_sched_unit(subject):
    """``schedule.unit`` says what the step counts, and ``fit`` reads it: ``"epoch"``
    (the epoch index) or ``"batch"`` (the global optimizer step). Any other value
    would silently be treated as epochs. For every config; a schedule built with a
    ``unit`` parameter must count that unit. Deterministic.
    """
    for label, config, make in _configs(subject):
        unit = getattr(make(), "unit", None)
        if unit not in ("epoch", "batch"):
            fail("the attribute unit must be 'epoch' or 'batch'", expected="'epoch' or 'batch'", found=repr(unit),
                 where=label)
        if config is not None and config.get("unit") in ("epoch", "batch") and unit != config["unit"]:
            fail("the schedule was built with a unit it does not count: __init__ must store the unit "
                 "parameter as the attribute unit", expected=repr(config["unit"]), found=repr(unit), where=label)


def _plain(value: Any) -> Any:
    """A parameter value as JSON would give it back (tuples as lists), or None when not a plain number,
    bool, string or list of numbers (nested schedules are compared by their rates, not their spelling)."""
    if isinstance(value, (bool, numbers.Real, str)) and not isinstance(value, np.ndarray):
        return json.loads(json.dumps(value))
    if isinstance(value, (list, tuple)) and all(isinstance(v, numbers.Real) for v in value):
        return json.loads(json.dumps([float(v) if not isinstance(v, bool) else v for v in value]))
    return None


#: SCHED-STATE-ROUNDTRIP: epochs observed before the state is saved, and after.
STATE_SPLIT, STATE_EPOCHS = 25, 60


@spec_check("SCHED-STATE-ROUNDTRIP", "schedule", layer="contract",
            title="a stateful schedule resumes from get_state() exactly",
            formula=r"\mathrm{set\_state}(\mathrm{get\_state}())\ \Rightarrow\ "
                    r"\eta'(t) = \eta(t)\ \forall t \ge t_{\rm save}")
def check_sched_state_roundtrip(subject):
    """A schedule that declares ``stateful = True`` (it changes in ``observe()``) is what
    checkpoints save with ``get_state()`` and restore with ``set_state()``: its whole state
    must round-trip. For every config: observe 25 epochs of metrics (random, mostly
    worsening, under every usual key and the schedule's ``monitor``), save the state (it
    must survive ``json.dumps``/``json.loads`` as plain numbers, strings, booleans and
    lists, as a checkpoint stores it), restore it into a fresh instance built with the
    same config, then feed both the same 35 further epochs: the rates of the two at base
    rate 1.0 must be identical at every epoch. Deterministic; skipped for stateless
    schedules.
    """
    import json

    if not getattr(subject.new(), "stateful", False):
        skip("stateless (stateful = False): nothing changes in observe(), so there is no state to save")
    for label, config, make in _configs(subject):
        original, restored = make(), make()
        keys = set(_METRIC_KEYS)
        monitor = getattr(original, "monitor", None)
        if isinstance(monitor, str):
            keys.add(monitor)
        values = subject.rng(140).uniform(0.0, 1.0, (STATE_EPOCHS, len(keys)))
        metrics = [{k: float(v) for k, v in zip(sorted(keys), row)} for row in values]
        for t in range(STATE_SPLIT):
            original(t, 1.0)
            original.observe(t, dict(metrics[t]))
        state = original.get_state()
        try:
            saved = json.loads(json.dumps(state))
        except (TypeError, ValueError) as exc:
            fail("get_state() must return plain numbers, strings, booleans and lists (a checkpoint stores it); "
                 "fix get_state()", found=f"{_short(state)} ({exc})", where=label)
        restored.set_state(saved)
        for t in range(STATE_SPLIT, STATE_EPOCHS):
            a, b = float(original(t, 1.0)), float(restored(t, 1.0))
            if a != b and not (a != a and b != b):
                fail("a schedule restored with set_state(get_state()) gives other rates than the original: "
                     "get_state() must return every piece of state observe() changes (counters, best value, "
                     "reductions, cooldown) and set_state() restore all of it",
                     expected=f"lr({t}) = {a!r} (the original, after the same observations)",
                     found=f"lr({t}) = {b!r} (restored after epoch {STATE_SPLIT - 1})", where=label)
            original.observe(t, dict(metrics[t]))
            restored.observe(t, dict(metrics[t]))


@spec_check("SCHED-CONFIG-ROUNDTRIP", "schedule", layer="contract",
            title="rebuilt from its saved config, it gives the same rates",
            formula=r"\mathrm{create}(\mathrm{name}, \mathrm{json}(\mathrm{get\_config}()))(t, \eta_0) = \eta(t)")
def check_sched_config_roundtrip(subject):
    """For every config (its own, its examples, drawn ones): ``get_config()`` reports the
    parameters the schedule was built with (numbers, booleans, strings, lists of
    numbers: equal after JSON), survives ``json.dumps``/``json.loads``, and the schedule
    rebuilt from it (by its registered name, or ``type(s).from_config`` when
    unregistered) has the same ``unit`` and config and gives bit-identical rates for
    steps 0..999 (every step to 99 then every 9th for the configs besides its own) at base
    rate 0.1 (1.0 if it refuses 0.1): the same computation repeats the same roundings.
    Schedules that declare ``serializable = False`` (wrapping a Python function) are
    skipped. Deterministic.
    """
    if getattr(subject.new(), "serializable", True) is False:
        skip("declares serializable = False: it cannot be saved by name and parameters")
    for label, config, make in _configs(subject):
        schedule = make()
        if config is not None:
            reported = schedule.get_config()
            for key, value in config.items():
                want, got = _plain(value), _plain(reported.get(key)) if isinstance(reported, dict) else None
                if want is not None and got is not None and want != got:
                    fail(f"get_config() reports {key}={reported[key]!r} for a schedule built with {key}={value!r}: "
                         f"__init__ must store each parameter unchanged (and use it)",
                         expected=f"{key}={value!r}", found=f"{key}={reported[key]!r}", where=label)
        base_lr = _base_lrs(make, (0.1, 1.0))[0]
        rebuilt, how = rebuild_from_config(subject, schedule)
        if getattr(rebuilt, "unit", None) != getattr(schedule, "unit", None):
            fail("the rebuilt schedule counts a different unit: get_config() must include unit",
                 expected=schedule.unit, found=getattr(rebuilt, "unit", None), where=label)
        steps = _steps(config)
        expected = _rates(schedule, base_lr, steps)
        found = _rates(rebuilt, base_lr, steps)
        if not np.array_equal(found, expected, equal_nan=True):
            t, f, e = _first_mismatch(found, expected, steps)
            fail("the schedule rebuilt from its config gives different rates: get_config() must return every "
                 "constructor parameter", expected=f"lr({t}) = {e!r}", found=f"lr({t}) = {f!r}",
                 where=f"step {t}, base_lr {base_lr}, rebuilt as {how} ({label})")


# ------------------------------------------------------------------------ formula check
_FORMULA_TOLERANCE = ("|lr(t) - ref(t)| <= 2 n eps (S(t) + |ref(t)|) + base_lr * tiny, n = the formula's "
                      "operations (1..15), S(t) = the reference's magnitude of terms and conditioning; "
                      "either side of a discontinuity that rounding may cross")


def _allowed(refs: list[Any], n_ops: int, base_lr: float) -> np.ndarray:
    scale = np.array([r.scale for r in refs])
    value = np.array([r.value for r in refs])
    return 2 * n_ops * EPS * (scale + np.abs(value)) + base_lr * TINY


def _mismatch(found: np.ndarray, refs: list[Any], allowed: np.ndarray) -> np.ndarray:
    """Boolean mask of the steps where ``found`` matches neither the reference value nor its ``alt``."""
    value = np.array([r.value for r in refs])
    alt = np.array([np.nan if r.alt is None else r.alt for r in refs])
    ok = np.abs(found - value) <= allowed
    with np.errstate(invalid="ignore"):
        ok |= np.abs(found - alt) <= allowed
    return ~ok


def _shift_hint(found: np.ndarray, refs: list[Any], allowed: np.ndarray) -> str:
    """A hint when the rates are the formula's one step early or late."""
    value = np.array([r.value for r in refs])
    if found.size > 3:
        if np.all(np.abs(found[:-1] - value[1:]) <= allowed[1:] + allowed[:-1]):
            return (" The rates are the formula's one step early (lr(t) = ref(t+1)): step 0 must give the "
                    "formula at t = 0.")
        if np.all(np.abs(found[1:] - value[:-1]) <= allowed[1:] + allowed[:-1]):
            return " The rates are the formula's one step late (lr(t) = ref(t-1)): do not subtract 1 from the step."
    return ""


def _case_base_lrs(floor: float) -> list[float]:
    usable = [b for b in FORMULA_BASE_LRS if b >= floor]
    return usable or [max(floor * 2.0, FORMULA_BASE_LRS[-1])]


def _check_stateless_case(case: Any, label: str) -> None:
    from ..references import schedules as ref

    formula, params, schedule = case.formula, case.params, case.component
    n_ops = ref.ops(formula, params)
    last = ref.horizon(formula, params)
    steps = np.arange(last + 1)
    for base_lr in _case_base_lrs(ref.floor(formula, params)):
        refs = [formula.reference(int(t), base_lr, **params) for t in steps]
        found = np.array([float(schedule(int(t), base_lr)) for t in steps])
        allowed = _allowed(refs, n_ops, base_lr)
        bad = _mismatch(found, refs, allowed)
        if bad.any():
            excess = np.abs(found - np.array([r.value for r in refs])) - allowed
            i = int(np.argmax(np.where(bad, excess, -np.inf)))
            r = refs[i]
            expected = f"{r.value!r}" + ("" if r.alt is None else f" (or {r.alt!r}: rounding may cross the step)")
            fail(f"schedule(t, base_lr) does not compute {label}: fix the rate formula in __call__ "
                 f"(max error {abs(found[i] - r.value):.3g} > allowed {allowed[i]:.3g})."
                 f"{_shift_hint(found, refs, allowed)}",
                 expected=expected, found=repr(float(found[i])),
                 where=f"step {int(steps[i])}, base_lr {base_lr} (steps 0..{last} compared)")
    # preview() at the last base rate (refs are those of the loop's last base rate)
    preview = np.asarray(schedule.preview(last + 1, base_lr), dtype=np.float64)
    if preview.shape != steps.shape:
        fail(f"preview(n, base_lr) must return n rates ({label})", expected=steps.shape, found=preview.shape)
    allowed = _allowed(refs, n_ops, base_lr)
    bad = _mismatch(preview, refs, allowed)
    if bad.any():
        i = int(np.argmax(bad))
        fail(f"preview(n, base_lr) does not tabulate {label}: fix the preview() override (or remove it)",
             expected=repr(refs[i].value), found=f"preview[{i}] = {float(preview[i])!r}",
             where=f"step {i}, preview({last + 1}, {base_lr})")


def _check_plateau_case(subject: Subject, case: Any, label: str, salt: int) -> None:
    from ..references import schedules as ref

    formula, params, schedule = case.formula, case.params, case.component
    n_ops = ref.ops(formula, params)
    epochs = int(formula.meta.get("epochs", 80))
    rng = subject.rng(500 + salt)
    values = ref.plateau_metrics(rng, epochs, params["mode"], float(params["min_delta"]))
    monitor = params["monitor"]
    others = [k for k in _METRIC_KEYS if k != monitor]
    noise = rng.uniform(0.0, 1.0, (epochs, len(others)))
    base_lrs = _case_base_lrs(0.0)
    refs = {b: formula.reference(values, b, **params) for b in base_lrs}
    for k in range(epochs + 1):
        for b in base_lrs:
            r = refs[b][k]
            got = float(schedule(k, b))
            allowed = 2 * n_ops * EPS * (r.scale + abs(r.value)) + b * TINY
            if not abs(got - r.value) <= allowed:
                shown = ", ".join(f"{v:.6g}" for v in values[max(0, k - 12):k])
                fail(f"after {k} observe() calls the rate does not follow {label}: fix observe() (improvement "
                     f"test with min_delta, patience, cooldown) or the rate in __call__ (factor, min_lr)",
                     expected=repr(r.value), found=repr(got),
                     where=f"epoch {k}, base_lr {b}; last monitored {monitor!r} values: [{shown}]")
        if k < epochs:
            metrics = {key: float(v) for key, v in zip(others, noise[k])}
            metrics[monitor] = float(values[k])
            schedule.observe(k, metrics)
    for b in base_lrs:
        r = refs[b][epochs]
        preview = np.asarray(schedule.preview(3, b), dtype=np.float64)
        allowed = 2 * n_ops * EPS * (r.scale + abs(r.value)) + b * TINY
        if preview.shape != (3,) or not np.all(np.abs(preview - r.value) <= allowed):
            fail(f"preview(n, base_lr) after {epochs} observations does not give the current rate of {label}: "
                 f"fix the preview() override (or remove it)", expected=repr(r.value), found=repr(preview),
                 where=f"preview(3, {b})")


@spec_check("SCHED-FORMULA", "schedule", layer="formula",
            title="every claimed formula: the rates equal the reference over the whole schedule, for every config",
            formula=r"|\eta(t) - \eta_{\rm ref}(t)| \le 2n\varepsilon(S(t) + |\eta_{\rm ref}(t)|),\ "
                    r"t = 0 \ldots H(\theta)", notes=("lr_schedules",), tolerance=_FORMULA_TOLERANCE)
def check_sched_formula(subject: Subject) -> None:
    r"""For each formula the schedule claims (``implements``; the vocabulary and its references are in
    :mod:`neuroplug.spec.references.schedules`) and each config of
    :func:`neuroplug.spec.formulas.formula_cases` -- its own, the formula's examples, its
    ``example_configs``, and configs drawn from the parameters' ranges (a parameter its constructor
    does not accept is taken at the formula's default):

    * the ``unit`` attribute equals the formula's ``unit`` parameter when the constructor accepts one;
    * ``schedule(t, base_lr)`` equals the reference for every step :math:`0 \le t \le H`, a horizon
      derived from the parameters so that the whole schedule is seen (past ``total_steps``, the last
      milestone or boundary, four restart periods, six decay periods; at most 1000), at base rates
      1e-3, 0.1 and 2.5 (those at or above the formula's floor, e.g. ``min_lr``); nested schedules
      (``after``, ``schedules``) are checked through their own references;
    * ``preview(H + 1, base_lr)`` equals the reference too;
    * the stateful ``reduce_on_plateau`` is driven through ``observe()`` with 80 epochs of metrics
      designed to exercise ``patience``, ``cooldown`` and ``min_delta`` (and distractor metrics under
      other names), and its rate is compared after each observation.

    Tolerance, from error analysis rather than from our implementation: a float64 evaluation of a
    schedule commits :math:`n` roundings (:math:`n` = the formula's operation count, 1 to 15), each of
    relative size :math:`\varepsilon/2` of the terms it combines, whose magnitude the reference gives
    with the amplification by the formula's conditioning (``scale`` :math:`S(t)`: e.g.
    :math:`\eta_{min} + \eta_0` for a cosine, :math:`x^p(1 + p + |p\ln x| + t)` for a power, which
    covers ``pow``, ``exp(p log x)`` and a per-step factor raised to the power :math:`t`). We allow
    :math:`2n\varepsilon(S + |\eta_{ref}|)` (the component's and the reference's roundings, libm's
    1-ulp functions), plus :math:`\eta_0` times the smallest normal double for underflowed rates.
    Where rounding may put a step on either side of a jump (``floor(t/s)`` with :math:`t/s` within
    8 ulps of an integer, a warm restart found with a float logarithm) both sides are accepted at that
    step only. A failure names the formula, the config, the worst step and base rate, the expected and
    found rates, and says whether the rates are shifted by one step. Deterministic.
    """
    import zlib

    from ..formulas import formula_cases
    from ..references.schedules import Unresolved

    if not subject.implements:
        skip("claims no formula (declare implements=(...) with names of the schedule vocabulary)")
    accepts_unit = "unit" in signature_params(subject.factory) or "unit" in subject.config
    checked, unresolved = 0, []
    for case in formula_cases(subject):
        extra = {k: v for k, v in case.config.items() if case.params.get(k, object()) != v}
        label = case.label + (f" (component built with {_label(extra)})" if extra else "")
        if accepts_unit and "unit" in case.params and getattr(case.component, "unit", None) != case.params["unit"]:
            fail(f"the schedule counts a different unit than configured: __init__ must store the unit parameter "
                 f"as the attribute unit ({label})", expected=repr(case.params["unit"]),
                 found=repr(getattr(case.component, "unit", None)))
        try:
            if case.formula.meta.get("stateful"):
                _check_plateau_case(subject, case, label, zlib.crc32(label.encode()) % 1000)
            else:
                _check_stateless_case(case, label)
        except Unresolved as exc:
            unresolved.append(str(exc))
            continue
        checked += 1
    if not checked:
        skip("no config could be checked: " + "; ".join(unresolved) if unresolved else
             "formula_cases gave no config")


# ------------------------------------------------------------------------ property checks
@spec_check("SCHED-DECAY-START", "schedule", layer="property",
            title="a decaying schedule starts at the base rate",
            formula=r"\eta(0) = \eta_0", notes=("lr_decay",),
            tolerance="|lr(0) - base_lr| <= 8 eps base_lr")
def check_sched_decay_start(subject):
    r"""A decaying schedule (property ``decaying``, or ``decaying = True`` on the
    instance) starts from the initial rate and then reduces it: on a fresh instance
    :math:`\eta(0) = \eta_0` for :math:`\eta_0 \in \{10^{-3}, 0.1, 1\}` (those it
    accepts), for every config. Allowed: :math:`8\varepsilon\eta_0`, because the rate at
    step 0 is formed from a few terms of size at most :math:`\eta_0` (e.g.
    :math:`\eta_e + (\eta_0 - \eta_e)\cdot 1`, or :math:`\eta_0(f + (1 - f)\cdot 1)` with
    :math:`f = \eta_e/\eta_0`), each rounding by up to :math:`\varepsilon/2` of
    :math:`\eta_0`. Deterministic.
    """
    applied = False
    for label, _, make in _configs(subject):
        if not _is_decaying(subject, make()):
            continue
        applied = True
        for base_lr in _base_lrs(make):
            lr0 = float(make()(0, base_lr))
            if not abs(lr0 - base_lr) <= DECAY_ULPS * EPS * base_lr:
                fail("a decaying schedule must start at the initial learning rate: schedule(0, base_lr) must "
                     "equal base_lr (reduce it from there; fix __call__ at step 0)", expected=repr(base_lr),
                     found=repr(lr0), where=f"step 0, base_lr {base_lr}, {label}")
    if not applied:
        skip("does not declare the property decaying")


@spec_check("SCHED-DECAY-MONOTONE", "schedule", layer="property",
            title="a decaying schedule never increases the rate",
            formula=r"\eta(t+1) \le \eta(t),\quad t = 0 \ldots 998", notes=("lr_decay",),
            tolerance="an increase of at most 8 eps max(base_lr, lr(t)) (two roundings of a few terms)")
def check_sched_decay_monotone(subject):
    r"""The learning rate is progressively reduced: for a schedule declaring
    ``decaying``, :math:`\eta(t+1) \le \eta(t)` for steps 0..999 (0..449 for the
    configs besides its own), base rates 1e-3, 0.1 and 1 (those it accepts) and every config. A rounding increase of
    :math:`8\varepsilon\max(\eta_0, \eta(t))` is allowed: each of the two rates is formed
    from a few terms of size at most :math:`\eta_0` rounding by :math:`\varepsilon/2`, so
    a mathematically flat or slowly decaying stretch (a cosine's start, a floor at
    ``min_lr``) may show such an increase; a NaN rate fails. For a ``stateful`` schedule
    the sequence is also evaluated with ``observe(t, metrics)`` called after each step,
    with random metrics (``loss``, ``val_loss``, ``accuracy``, ``val_accuracy`` and its
    ``monitor``), for its own config: no observation may raise the rate either. Deterministic (seeded metrics).
    """
    applied = False
    for label, config, make in _configs(subject):
        schedule = make()
        if not _is_decaying(subject, schedule):
            continue
        applied = True
        bases = _base_lrs(make)
        steps = range(STEPS) if config is None else range(MONOTONE_CONFIG_STEPS)
        runs = [(f"base_lr {b}", b, _rates(make(), b, steps)) for b in bases]
        if getattr(schedule, "stateful", False) and config is None:
            runs += [(f"base_lr {b}, observe() after each step", b, _observed_rates(make(), b, subject.rng(2)))
                     for b in bases]
        for how, base_lr, rates in runs:
            allowed = rates[:-1] + DECAY_ULPS * EPS * np.maximum(base_lr, np.abs(rates[:-1]))
            bad = ~(rates[1:] <= allowed)
            if bad.any():
                t = int(np.argmax(bad))
                fail("a decaying schedule must never increase the learning rate; fix the formula in __call__ "
                     "(e.g. clamp the step at the end of the decay) or do not declare the property decaying",
                     expected=f"lr({t + 1}) <= lr({t}) = {float(rates[t])!r}",
                     found=f"lr({t + 1}) = {float(rates[t + 1])!r}",
                     where=f"steps {t}->{t + 1}, {how}, {label}")
    if not applied:
        skip("does not declare the property decaying")
