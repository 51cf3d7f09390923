"""Property-based robustness of the public API (issue "Reliability and safety", point 6).

Hypothesis drives the public API -- ``neuroplug.create`` for every built-in
component, the component methods, ``Dense``/``Sequential``, ``predict``,
``predict_classes``, ``loss_and_gradients`` and ``fit`` -- with random layer sizes,
batch sizes, dtypes, component parameters (negative, zero, huge, NaN, inf, wrong
types) and data, and asserts the one contract of the issue: every call

* either **succeeds**, and then every output is finite and has the documented
  shape and dtype,
* or raises a :class:`~neuroplug.errors.NeuroplugError` (``InputError``,
  ``ConfigError``, ``NonFiniteError``, ...),

and never emits a warning (numpy's "overflow encountered in ..." included: each
call runs with warnings turned into errors, see :func:`call`) nor raises anything
else (an ``IndexError`` from deep inside, a ``TypeError`` from numpy, ...).

Domains. Component *parameters* are drawn from everything (they are validated
once, at construction). The numerical methods that run at every training step
(activations, optimizers) are tested on their documented domain: finite inputs
whose exact results fit the dtype -- activation inputs up to ``finfo.max / 4``
with slopes up to 1 (so that ``selu``'s 1.05 z still fits), optimizer values and
rates up to 1e3 with eps >= 1e-30 -- because checking every step's arrays for
overflow would slow down training; beyond that domain ``predict`` and
``loss_and_gradients`` raise ``NonFiniteError`` naming the layer or loss, and
``fit`` raises ``DivergenceError``. Losses, initializers and schedules are tested
on all finite inputs: a value that overflows raises ``NonFiniteError``, and only
then (the loss is recomputed in a wider dtype, a rate proportional to the base
rate is compared with the rate for a base rate of 1). Non-finite data given to
``predict``, ``loss_and_gradients``, ``fit`` or ``prepare_targets`` is an
``InputError``; a loss's ``forward``/``gradient`` return non-finite values for
non-finite inputs (``fit`` reports them as a divergence).

An empty batch is valid: ``predict`` of ``(0, input_dim)`` returns ``(0, outputs)``,
``predict_classes`` returns ``(0,)`` and a loss over nothing is 0.

Every test is derandomized, with hypothesis' constants from other modules left
out, so that the examples are the same on every run, alone or in the whole suite
(CI included); each is bounded (``max_examples`` below), and the file runs in
about 20 s on two cores. ``pytest --hypothesis-show-statistics`` shows how often
each call succeeded or raised which error.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuroplug as npl
from neuroplug.base import KINDS
from neuroplug.errors import (
    ComponentNotFoundError,
    ConfigError,
    InputError,
    NeuroplugError,
    NonFiniteError,
    ShapeError,
)
from neuroplug.plugins import activations, initializers, losses, optimizers, schedules
from neuroplug.types import REQUIRED

# ---------------------------------------------------------------------------- settings


@pytest.fixture(scope="module", autouse=True)
def _same_examples_whatever_ran_before():
    """Draw the same examples whether this file runs alone or in the whole suite.

    Hypothesis mixes constants found in the source of the local modules imported so far
    into its draws (even derandomized), so the examples here would change with the
    other test files of the run. Without those constants they do not (our strategies
    draw the edge values themselves).
    """
    try:
        from hypothesis.internal.conjecture import providers

        empty, cache = providers.Constants(), providers.CONSTANTS_CACHE
    except (ImportError, AttributeError):  # another hypothesis version: nothing to pin
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", lambda: empty)
        cache.cache.clear()
        yield
        cache.cache.clear()


def bounded(max_examples: int) -> settings:
    """Deterministic, bounded hypothesis settings (no example database, no deadline)."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ------------------------------------------------------------------------------ oracle


def call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Run ``fn`` with every warning turned into an error.

    Returns ``(True, result)`` or ``(False, error)`` for a NeuroplugError; any other
    exception -- a warning included -- propagates and fails the test.
    """
    name = getattr(fn, "__qualname__", type(fn).__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = True, fn(*args, **kwargs)
        except NeuroplugError as exc:
            result = False, exc
    if currently_in_test_context():  # --hypothesis-show-statistics shows how often each outcome occurs
        event(f"{name}: {'ok' if result[0] else type(result[1]).__name__}")
        if not result[0]:
            note(f"{name}: {type(result[1]).__name__}: {result[1]}")
    return result


def assert_finite_array(value: Any, shape: tuple[int, ...] | None, dtype: Any, what: str = "result") -> None:
    assert isinstance(value, np.ndarray), f"{what} is a {type(value).__name__}, not an array"
    if shape is not None:
        assert value.shape == shape, f"{what} has shape {value.shape}, expected {shape}"
    if dtype is not None:
        assert value.dtype == np.dtype(dtype), f"{what} has dtype {value.dtype}, expected {np.dtype(dtype)}"
    assert np.all(np.isfinite(value)), f"{what} holds non-finite values: {value}"


def assert_finite_number(value: Any, what: str = "result") -> None:
    assert isinstance(value, float), f"{what} is a {type(value).__name__}, not a float"
    assert math.isfinite(value), f"{what} is {value}"


def only_documented(ok: bool, value: Any, *allowed: type[NeuroplugError]) -> None:
    """A failure must be one of ``allowed`` (default: any NeuroplugError, as :func:`call` ensures)."""
    if not ok and allowed:
        assert isinstance(value, allowed), f"raised {type(value).__name__}: {value}"


# --------------------------------------------------------------------------- registry

MODULES = {"activation": activations.neuroplug_activations, "initializer": initializers.neuroplug_initializers,
           "loss": losses.neuroplug_losses, "schedule": schedules.neuroplug_schedules,
           "optimizer": optimizers.neuroplug_optimizers}
REGISTRATIONS = {kind: {reg.name: reg for reg in hook()} for kind, hook in MODULES.items()}
ALL = [(kind, name) for kind, regs in REGISTRATIONS.items() for name in regs]

# every string a built-in's parameters accept, and a few they do not
VOCABULARY = ["mean", "sum", "none", "tanh", "fan_in", "fan_out", "fan_avg", "uniform", "normal",
              "truncated_normal", "epoch", "batch", "min", "max", "relu", "leaky_relu", "linear",
              "identity", "selu", "sigmoid", "val_loss", "loss", "constant", "exponential_decay",
              "reduce_on_plateau", "callable", "cosine_annealing", "", "junk", "MEAN"]

def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` about 9 times in 10, else ``invalid`` (so that long call chains still often succeed)."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda ok: valid if ok else invalid)


SPECIAL_NUMBERS = [0, 0.0, -0.0, 1, -1, 0.5, 1 - 1e-16, 2, 3, 10, 1e-300, 5e-324, 1e-45, 1e30, -1e30, 1e38,
                   3.5e38, 1e300, 1.7976931348623157e308, -1.7976931348623157e308, 10**20, 2**63, -(2**63), 10**400,
                   float("nan"), float("inf"), float("-inf")]
numbers = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(-10**6, 10**6), st.floats(),
                    st.floats(-10.0, 10.0))
numpy_scalars = st.sampled_from([np.float32(0.5), np.float64(2.0), np.int64(3), np.float16(1.0),
                                 np.float32("nan"), np.int8(-1), np.bool_(True)])
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.sampled_from(VOCABULARY),
                 st.lists(numbers, max_size=4), numpy_scalars,
                 st.sampled_from([object(), {}, {"name": "constant"}, (1, 2), b"x", 1j, [[1.0]],
                                  np.array([1.0, 2.0]), np.array(["mean"])]))


def _fn_returning(value: Any) -> Callable[[int, float], Any]:
    def fn(step: int, base_lr: float) -> Any:
        return value(step, base_lr) if callable(value) else value
    fn.__qualname__ = f"returning {value!r}"
    return fn


SCHEDULE_FUNCTIONS = [_fn_returning(v) for v in (lambda s, b: b / (1 + s), 0.1, -1.0, float("nan"), float("inf"),
                                                 "0.1", "x", None, [0.1], np.float32(0.5), 1e308, True, 10**400)]


def parameter_values(name: str, default: Any, spec_value: Any) -> st.SearchStrategy[Any]:
    """Any value for a parameter: its default or spec-suite value, numbers of every size, junk."""
    options = [numbers, junk]
    if default is not REQUIRED:
        options.append(st.just(default))
    if spec_value is not None:
        options.append(st.just(spec_value))
    if name == "fn":
        options.append(st.sampled_from(SCHEDULE_FUNCTIONS))
    if name in ("milestones", "boundaries", "values", "weight", "pos_weight", "schedules"):
        options.append(st.lists(st.one_of(st.integers(-2, 100), numbers, st.sampled_from(VOCABULARY)),
                                max_size=4))
        options.append(st.lists(st.integers(1, 50), min_size=1, max_size=4).map(sorted))
    if name in ("after", "schedules"):
        options.append(st.sampled_from(["constant", "exponential_decay", "reduce_on_plateau", "callable",
                                        "nonexistent", {"name": "step_decay", "config": {"gamma": 2.0}},
                                        {"name": "constant", "config": {"unit": "batch"}}]))
    return st.one_of(options)


# valid-looking numbers of every magnitude, for parameters that take a number
MAGNITUDES = [0, 5e-324, 1e-300, 1e-30, 1e-8, 0.01, 0.5, 0.9, 0.999, 1, 2, 3, 10, 100, 1e4, 1e10, 1e30, 1e38, 1e39, 1e300,
              1.7976931348623157e308]


def plausible_values(name: str, default: Any, spec_value: Any) -> st.SearchStrategy[Any]:
    """Values of the right kind for a parameter: its default or spec value, numbers of every
    magnitude for a number, the vocabulary for a string, booleans for a flag."""
    options = [] if default is REQUIRED else [st.just(default)]
    if spec_value is not None:
        options.append(st.just(spec_value))
    if isinstance(default, bool):
        options.append(st.booleans())
    elif isinstance(default, str):
        options.append(st.sampled_from(VOCABULARY))
    elif isinstance(default, (int, float)) or (default is None and name in ("param", "start_factor",
                                                                              "ignore_index", "pos_weight")):
        options += [st.sampled_from(MAGNITUDES), st.integers(1, 1000), st.floats(0, 1)]
    elif name in ("milestones", "boundaries", "values", "weight"):
        options.append(st.lists(st.sampled_from(MAGNITUDES[1:12]), min_size=1, max_size=4).map(sorted))
    elif name == "fn":
        options.append(st.sampled_from(SCHEDULE_FUNCTIONS))
    return st.one_of(options) if options else parameter_values(name, default, spec_value)


@st.composite
def component_params(draw: Any, reg: Any, *, plausible: bool = False) -> dict[str, Any]:
    """A keyword dict for ``create(kind, reg.name, **params)``.

    Each parameter is omitted, spec-valued or drawn from :func:`parameter_values` (anything),
    sometimes with an unknown keyword added; with ``plausible``, drawn mostly from
    :func:`plausible_values` instead, so that many of the components built are valid.
    """
    spec = dict(reg.spec_config or {})
    params: dict[str, Any] = {}
    for name, default in reg.parameters.items():
        how = draw(st.sampled_from(["omit", "spec", "draw", "draw"]))
        if how == "spec" and name in spec:
            params[name] = spec[name]
        elif how == "draw":
            anything = parameter_values(name, default, spec.get(name))
            params[name] = draw(mostly(plausible_values(name, default, spec.get(name)), anything)
                                if plausible else anything)
        elif name in spec:  # keep required parameters most of the time
            params[name] = spec[name]
    if draw(st.integers(0, 9)) == 0 and not plausible:
        params[draw(st.sampled_from(["alpha", "lr", "gamma_", "Beta", "units"]))] = 1.0
    return params


# ------------------------------------------------------------------ neuroplug.create


@pytest.mark.parametrize("kind, name", ALL, ids=[f"{k}-{n}" for k, n in ALL])
@bounded(25)
@given(data=st.data())
def test_create_gives_a_component_or_a_config_error(kind, name, data):
    """``create(kind, name, **params)`` with any parameters: a component whose config round-trips
    through JSON and ``create``, or ConfigError/InputError/ComponentNotFoundError."""
    params = data.draw(component_params(REGISTRATIONS[kind][name]), label="params")
    ok, component = call(npl.create, kind, name, **params)
    only_documented(ok, component, ConfigError, InputError, ComponentNotFoundError)
    if not ok:
        return
    assert isinstance(component, KINDS[kind])
    ok, described = call(npl.describe, component)
    if not ok:  # only a wrapped Python function cannot be saved
        assert name == "callable" and isinstance(described, ConfigError)
        return
    config = json.loads(json.dumps(described))
    ok, rebuilt = call(npl.create, kind, config)
    assert ok, rebuilt
    assert rebuilt.get_config() == component.get_config()


NAMES = sorted({n for regs in REGISTRATIONS.values() for n in regs})
specs = st.one_of(
    st.sampled_from(NAMES + [f"neuroplug:{n}" for n in NAMES[:5]] + ["", ":", "neuroplug:", ":mse", "a:b:c", "MSE",
                                                                       "relu ", "tahn", "nonexistent:relu"]),
    st.text(max_size=12),
    st.builds(dict, name=st.sampled_from(NAMES + ["nope"]), config=st.one_of(st.just({}), st.none(), junk)),
    st.dictionaries(st.sampled_from(["name", "config", "kind", "extra"]), st.one_of(st.sampled_from(NAMES), junk),
                    max_size=3),
    junk,
)


@bounded(150)
@given(kind=st.one_of(st.sampled_from(list(KINDS)), st.text(max_size=10),
                      st.sampled_from([None, 3, b"loss", "Loss", "losses", ("loss",)])),
       spec=specs)
def test_create_with_any_kind_and_spec(kind, spec):
    """``create(kind, spec)`` with any kind and any name, qualified name, dict or junk: a component
    of that kind, or ConfigError/ComponentNotFoundError."""
    ok, component = call(npl.create, kind, spec)
    only_documented(ok, component, ConfigError, ComponentNotFoundError)
    if ok:
        assert isinstance(component, KINDS[kind])


# ---------------------------------------------------------------------------- arrays


def finite_floats(dtype: Any, max_magnitude: float) -> st.SearchStrategy[float]:
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(-max_magnitude, max_magnitude, allow_nan=False, allow_infinity=False, width=width)


def _edges(dtype: np.dtype, max_magnitude: float) -> list[float]:
    """Values where overflow and underflow begin: the largest, the roots of the largest, the tiniest."""
    info = np.finfo(dtype)
    values = [max_magnitude, max_magnitude / 2, math.sqrt(float(info.max)) * 1.5, float(info.max) ** (1 / 3) * 1.5,
              1e4, 100.0, 30.0, 1.0, float(info.tiny), float(info.smallest_subnormal), 0.0]
    values = [float(dtype.type(v)) for v in values if v <= max_magnitude]
    return values + [-v for v in values]


@st.composite
def finite_arrays(draw: Any, dtype: Any, shape: Any, max_magnitude: float | None = None) -> np.ndarray:
    """Finite arrays of every magnitude up to ``max_magnitude`` (default: the dtype's largest),
    with the edges of overflow (the largest value, its square and cube roots) drawn often."""
    dtype = np.dtype(dtype)
    if max_magnitude is None:
        max_magnitude = float(np.finfo(dtype).max)
    magnitude = draw(st.sampled_from([1.0, 10.0, 1e4, 1e10, max_magnitude]))
    elements = st.one_of(finite_floats(dtype, min(magnitude, max_magnitude)),
                         st.sampled_from(_edges(dtype, max_magnitude)))
    return draw(hnp.arrays(dtype, shape, elements=elements))


float_dtypes = st.sampled_from([np.float32, np.float64])
batch_shapes = st.tuples(st.integers(0, 4), st.integers(1, 5))

# ----------------------------------------------------------------------- activations

# the domain of the per-step methods: slopes up to 1 (selu: 1.05), inputs up to finfo.max / 4
ACTIVATION_PARAMS = {
    "leaky_relu": {"alpha": st.floats(0, 1)},
    "elu": {"alpha": st.floats(0, 10)},
    "softplus": {"beta": st.floats(0.25, 4)},
    "gelu": {"approximate": st.sampled_from(["none", "tanh"])},
}
ACTIVATIONS = list(REGISTRATIONS["activation"])


@pytest.mark.parametrize("name", ACTIVATIONS)
@bounded(30)
@given(data=st.data())
def test_activation_methods_are_finite_and_keep_shape_and_dtype(name, data):
    """forward, derivative and backward of every activation on finite float32/float64 arrays
    (batches, empty ones included, and 1-D to 3-D arrays; softmax works on the last axis) up to
    ``finfo.max / 4``: finite, same shape and dtype, ``z`` unchanged, no warning."""
    params = {k: data.draw(v, label=k) for k, v in ACTIVATION_PARAMS.get(name, {}).items()}
    act = npl.create("activation", name, **params)
    dtype = data.draw(float_dtypes, label="dtype")
    shapes = st.one_of(batch_shapes, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    z = data.draw(finite_arrays(dtype, shapes, float(np.finfo(dtype).max) / 4), label="z")
    grad = data.draw(finite_arrays(dtype, st.just(z.shape), 1e3), label="grad")
    z_before = z.copy()
    ok, a = call(act.forward, z)
    assert ok, a
    assert_finite_array(a, z.shape, dtype, "forward(z)")
    ok, a_out = call(act.forward, z, out=np.empty_like(z))
    assert ok, a_out
    np.testing.assert_array_equal(a_out, a)
    if act.elementwise:
        ok, d = call(act.derivative, z, a)
        assert ok, d
        assert_finite_array(d, z.shape, dtype, "derivative(z, a)")
    ok, g = call(act.backward, z, a, grad)
    assert ok, g
    assert_finite_array(g, z.shape, dtype, "backward(z, a, grad)")
    ok, g_out = call(act.backward, z, a, grad.copy(), out=np.empty_like(z))
    assert ok, g_out
    np.testing.assert_array_equal(g_out, g)
    np.testing.assert_array_equal(z, z_before)


# ---------------------------------------------------------------------- initializers

fan_sizes = mostly(st.integers(1, 12), st.sampled_from([0, -1, 1.0, 2.5, True, None, "3", np.int64(4), 2**62, 10**30]))
init_dtypes = mostly(st.sampled_from([np.float32, np.float64, np.float16, "float32", "float64", np.dtype("float64")]),
                     st.sampled_from([np.int32, "int64", bool, np.complex64, object, "junk", None, 3, [("a", "f4")]]))
rngs = mostly(st.integers(0, 2**32).map(np.random.default_rng),
              st.sampled_from([None, 0, np.random.RandomState(0), "rng"]))


@pytest.mark.parametrize("name", list(REGISTRATIONS["initializer"]))
@bounded(30)
@given(data=st.data())
def test_initializer_gives_a_finite_matrix_or_an_error(name, data):
    """``init(fan_in, fan_out, rng, dtype)`` with any parameters and arguments: a finite
    ``(fan_in, fan_out)`` array of ``dtype``, or a NeuroplugError (never numpy's overflow warning)."""
    ok, init = call(npl.create, "initializer", name,
                    **data.draw(component_params(REGISTRATIONS["initializer"][name], plausible=True), label="params"))
    if not ok:
        return
    fan_in, fan_out = data.draw(fan_sizes, label="fan_in"), data.draw(fan_sizes, label="fan_out")
    rng, dtype = data.draw(rngs, label="rng"), data.draw(init_dtypes, label="dtype")
    ok, w = call(init, fan_in, fan_out, rng, dtype)
    only_documented(ok, w, InputError, ConfigError, NonFiniteError)
    if ok:
        assert_finite_array(w, (fan_in, fan_out), dtype, f"{init!r}({fan_in}, {fan_out})")


# -------------------------------------------------------------------------- schedules

steps = mostly(st.one_of(st.integers(0, 200), st.integers(0, 10**6), st.sampled_from([10**30, np.int64(7)])),
               st.sampled_from([-1, 2.0, 1.5, True, None, "3", float("nan")]))
base_lrs = mostly(st.one_of(st.sampled_from(MAGNITUDES), st.floats(0, 10)),
                  st.one_of(numbers, st.sampled_from([None, "0.1", True, np.float32(0.1)])))


@pytest.mark.parametrize("name", list(REGISTRATIONS["schedule"]))
@bounded(30)
@given(data=st.data())
def test_schedule_gives_a_finite_nonnegative_rate_or_an_error(name, data):
    """``schedule(step, base_lr)`` with any parameters, steps and base rates: a finite float
    ``>= 0`` (0 for base_lr 0), or a NeuroplugError."""
    ok, sched = call(npl.create, "schedule", name,
                     **data.draw(component_params(REGISTRATIONS["schedule"][name], plausible=True), label="params"))
    if not ok:
        return
    for _ in range(3):
        step, base_lr = data.draw(steps, label="step"), data.draw(base_lrs, label="base_lr")
        ok, lr = call(sched, step, base_lr)
        only_documented(ok, lr, InputError, ConfigError, NonFiniteError)
        if ok:
            assert_finite_number(lr, f"{sched!r}({step!r}, {base_lr!r})")
            assert lr >= 0
        # no spurious overflow: a rate proportional to base_lr overflows only if the true rate does
        if _proportional(sched) and not isinstance(base_lr, bool) and isinstance(base_lr, (int, float)) \
                and 1e-290 < base_lr:
            ok_unit, unit = call(sched, step, 1.0)
            if ok_unit and 1e-290 < unit * base_lr < 1.7e308:
                assert ok, f"{sched!r}({step!r}, {base_lr!r}) raised although the rate is {unit * base_lr:g}: {lr}"
                assert lr == pytest.approx(unit * base_lr, rel=1e-9)


def _proportional(sched: Any) -> bool:
    """True when ``sched(t, base_lr) == base_lr * sched(t, 1)``: no absolute rate (min_lr) and no
    Python function, here or in a nested schedule."""
    if isinstance(sched, schedules.CallableSchedule) or getattr(sched, "min_lr", 0) != 0:
        return False
    nested = [getattr(sched, "after", None)] + list(getattr(sched, "schedules", []))
    return all(_proportional(n) for n in nested if n is not None)


# ----------------------------------------------------------------------------- losses


@st.composite
def loss_inputs(draw: Any) -> tuple[Any, Any]:
    """Predictions and targets, mostly compatible, sometimes not (shapes, dtypes, labels)."""
    dtype = draw(float_dtypes)
    n, c = draw(batch_shapes)
    how = draw(st.sampled_from(["values", "values", "probabilities", "onehot", "labels", "edges", "bad"]))
    if how == "probabilities":
        y_pred = draw(hnp.arrays(dtype, (n, c), elements=st.sampled_from([0.0, 1.0, 0.5, 1e-30, 1 - 1e-7]) | st.floats(0, 1, width=32)))
    else:
        y_pred = draw(finite_arrays(dtype, (n, c)))
    if how == "labels":
        y_true = draw(hnp.arrays(np.int64, (n,), elements=st.integers(-2, c + 1)))
    elif how == "onehot":
        y_true = np.eye(c, dtype=dtype)[draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))]
    elif how == "edges":
        y_true = draw(hnp.arrays(dtype, (n, c), elements=st.sampled_from([0.0, 1.0])))
    elif how == "bad":
        y_true = draw(st.sampled_from([np.zeros((n + 1, c)), np.zeros((n, c + 1)), np.zeros(n, dtype=np.float64),
                                       np.zeros((n, c, 1)), np.zeros((n, c), dtype=np.complex128),
                                       np.array([["a"] * c] * n), np.zeros((n, c), dtype=object), [[0.5] * c] * n,
                                       np.full((n, c), np.nan), np.full((n, c), np.inf)]))
        with np.errstate(all="ignore"):
            y_pred = draw(st.sampled_from([y_pred, np.zeros(y_pred.shape, np.int64), y_pred.astype(np.float16),
                                           y_pred.tolist()]))
    else:
        y_true = draw(finite_arrays(dtype, (n, c)))
    return y_pred, y_true


@pytest.mark.parametrize("name", list(REGISTRATIONS["loss"]))
@bounded(60)
@given(data=st.data())
def test_loss_value_and_gradient_are_finite_or_an_error(name, data):
    """forward and gradient on any predictions and targets (huge values, 0/1 probabilities,
    labels out of range, wrong shapes and dtypes): a finite float (finite per-element array
    for "none") and a finite gradient shaped like ``y_pred``, or a NeuroplugError --
    NonFiniteError only when the loss or its gradient really overflows the dtype. The same
    for fused_gradient."""
    ok, loss = call(npl.create, "loss", name,
                    **data.draw(component_params(REGISTRATIONS["loss"][name], plausible=True), label="params"))
    if not ok:
        return
    y_pred, y_true = data.draw(loss_inputs(), label="y_pred, y_true")
    # non-finite inputs give non-finite results (fit reports them as a divergence)
    finite = all(np.isfinite(np.asarray(a, dtype=complex)).all() for a in (y_pred, y_true)
                 if np.asarray(a).dtype.kind in "biufc")
    dtype = np.asarray(y_pred).dtype
    ok, value = call(loss.forward, y_pred, y_true)
    only_documented(ok, value, InputError, ConfigError, NonFiniteError)
    if ok and finite:
        if loss.reduction == "none":
            assert_finite_array(value, None, dtype, "forward (reduction='none')")
        else:
            assert_finite_number(value, "forward")
    fits = finite and _fits_with_headroom(loss, y_pred, y_true)
    if fits:  # NonFiniteError only when the loss really overflows
        assert not isinstance(value, NonFiniteError), f"spurious {value}"
    ok, grad = call(loss.gradient, y_pred, y_true)
    only_documented(ok, grad, InputError, ConfigError, NonFiniteError)
    if ok and finite:
        assert_finite_array(grad, np.shape(y_pred), dtype, "gradient")
    if fits:
        assert not isinstance(grad, NonFiniteError), f"spurious {grad}"
    if loss.link is not None:
        ok, fused = call(loss.fused_gradient, y_pred, y_true)
        only_documented(ok, fused, InputError, ConfigError, NonFiniteError)
        if ok and finite:
            assert_finite_array(fused, np.shape(y_pred), dtype, "fused_gradient")


WIDER = {np.dtype(np.float16): np.float64, np.dtype(np.float32): np.float64, np.dtype(np.float64): np.longdouble}


def _fits_with_headroom(loss: Any, y_pred: Any, y_true: Any) -> bool:
    """True when, computed in a wider dtype, the per-element losses, their sum and the gradient of
    the sum are all within a quarter of the largest value of ``y_pred``'s dtype: then no
    computation in that dtype needs to overflow."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype not in WIDER or y_pred.size == 0:
        return False
    wide = WIDER[y_pred.dtype]
    y_true = np.asarray(y_true)
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(wide)
    config = {k: v for k, v in loss.get_config().items() if k != "reduction"}
    info = np.finfo(y_pred.dtype)
    limit = float(info.max) / 4
    numbers = [v for value in config.values() for v in (value if isinstance(value, list) else [value])
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not all(v == 0 or float(info.tiny) <= abs(v) <= limit for v in numbers):
        return False  # a parameter that the dtype cannot hold may overflow it
    try:
        with np.errstate(all="ignore"):
            values = type(loss)(**config, reduction="none")._forward(y_pred.astype(wide), y_true)
            total = float(np.sum(values, dtype=np.float64))
            grad = type(loss)(**config, reduction="sum")._gradient(y_pred.astype(wide), y_true)
    except NeuroplugError:
        return False
    return bool(np.all(np.abs(values) <= limit) and np.all(np.abs(grad) <= limit)) and abs(total) < 1e307


target_shapes = st.one_of(st.tuples(st.integers(0, 5)), st.tuples(st.integers(0, 5), st.integers(1, 4)),
                          st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 2)))
targets = st.one_of(
    hnp.arrays(st.sampled_from([np.int64, np.int8, np.float32, np.float64]), target_shapes,
               elements=st.integers(-2, 5)),
    hnp.arrays(st.sampled_from([np.uint8, np.uint64, bool]), target_shapes),
    hnp.arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(1, 4)), elements=st.floats()),
    st.sampled_from([np.array(["a", "b"]), np.array([1 + 1j, 0j]), np.array([1, None], dtype=object),
                     np.array([[1e39, 0.0]]), [0, 1, 2], 3, None, np.array([0.5, 0.25])]),
)


@pytest.mark.parametrize("name", list(REGISTRATIONS["loss"]))
@bounded(40)
@given(data=st.data())
def test_prepare_targets_gives_finite_training_targets_or_an_input_error(name, data):
    """``prepare_targets(y, n_outputs, dtype)``: finite targets with one row per sample,
    or InputError/ShapeError (labels out of range, NaN, wrong shape, strings, complex)."""
    ok, loss = call(npl.create, "loss", name,
                    **data.draw(component_params(REGISTRATIONS["loss"][name], plausible=True), label="params"))
    if not ok:
        return
    y = data.draw(targets, label="y")
    n_outputs = data.draw(st.integers(1, 4), label="n_outputs")
    dtype = data.draw(float_dtypes, label="dtype")
    ok, prepared = call(loss.prepare_targets, y, n_outputs, dtype)
    only_documented(ok, prepared, InputError, ConfigError)
    if ok:
        assert_finite_array(prepared, None, None, "prepare_targets")
        assert prepared.shape[0] == np.shape(y)[0]


# ------------------------------------------------------------------------- optimizers

OPTIMIZER_PARAMS = {
    "momentum": st.sampled_from([0.0, 0.5, 0.9, 0.999999]), "nesterov": st.booleans(),
    "weight_decay": st.one_of(st.just(0.0), st.floats(0, 1e3)),
    "beta1": st.sampled_from([0.0, 0.5, 0.9, 0.999999]), "beta2": st.sampled_from([0.0, 0.9, 0.999, 0.999999]),
    # eps >= 1e-30: g / eps for |g| <= 1e3 fits float32 (centered rmsprop divides by eps alone when the
    # variance is 0); an eps that rounds to 0 in the dtype is an InputError (test_optimizers.py)
    "eps": st.one_of(st.sampled_from([1e-8, 1e-10, 1e-30, 1.0]), st.floats(1e-30, 1.0)),
    "rho": st.sampled_from([0.0, 0.5, 0.99]), "centered": st.booleans(),
    "initial_accumulator_value": st.one_of(st.just(0.0), st.floats(0, 1e30)),
}


@st.composite
def parameter_lists(draw: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    dtype = draw(float_dtypes)
    shapes = draw(st.lists(st.one_of(st.tuples(st.integers(1, 4)), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                           min_size=1, max_size=3))
    params = [draw(finite_arrays(dtype, s, 1e3)) for s in shapes]
    grads = [draw(finite_arrays(dtype, s, 1e3)) for s in shapes]
    if draw(st.booleans()):  # back to back in one buffer, as a Sequential keeps them
        for arrays in (params, grads):
            flat = np.concatenate([a.ravel() for a in arrays])
            offset = 0
            for i, a in enumerate(arrays):
                arrays[i] = flat[offset:offset + a.size].reshape(a.shape)
                offset += a.size
    return params, grads


@pytest.mark.parametrize("name", list(REGISTRATIONS["optimizer"]))
@bounded(30)
@given(data=st.data())
def test_optimizer_step_keeps_parameters_finite(name, data):
    """setup/step with valid hyper-parameters (eps down to 1e-30), parameters and gradients up
    to 1e3 and rates up to 1e3: the parameters stay finite, in shape and dtype; bad arguments
    (mismatched lists, shapes, dtypes, rates beyond the dtype) raise a NeuroplugError."""
    reg = REGISTRATIONS["optimizer"][name]
    params = {k: data.draw(OPTIMIZER_PARAMS[k], label=k) for k in reg.parameters}
    ok, opt = call(npl.create, "optimizer", name, **params)
    if not ok:
        assert isinstance(opt, ConfigError)  # nesterov without momentum
        return
    ps, gs = data.draw(parameter_lists(), label="params, grads")
    like = [(p.shape, p.dtype) for p in ps]
    ok, error = call(opt.setup, ps)
    assert ok, error
    for _ in range(3):
        beyond = [1e39, 1e300] if like[0][1] == np.float32 else []  # rates the parameters cannot hold
        lr = data.draw(mostly(st.one_of(st.floats(0, 1e3), st.sampled_from([0.0, 1e3, np.float32(0.1)])),
                              st.sampled_from([-1.0, float("nan"), float("inf"), "0.1", None] + beyond)),
                       label="lr")
        bad = data.draw(st.sampled_from([None] * 6 + ["short", "shape", "dtype", "list"]), label="bad")
        args = gs
        if bad == "short":
            args = gs[:-1]
        elif bad == "shape":
            args = [np.zeros(g.size + 1, g.dtype) for g in gs]
        elif bad == "dtype":
            args = [g.astype(np.float16) for g in gs]
        elif bad == "list":
            args = [g.tolist() for g in gs]
        ok, error = call(opt.step, ps, args, lr)
        only_documented(ok, error, InputError, ShapeError)
        for i, p in enumerate(ps):
            assert (p.shape, p.dtype) == like[i]
            assert_finite_array(p, like[i][0], like[i][1], f"params[{i}] after step(lr={lr!r}, {bad})")


# ------------------------------------------------------------------- Dense, Sequential

# 2**40 units and more cannot be allocated (4 TiB): a ConfigError; sizes that could be
# allocated but would fill the memory are not drawn
layer_sizes = mostly(st.integers(1, 6), st.sampled_from([0, -3, 2.0, 2.5, True, False, None, "4", np.int64(3),
                                                         np.float64(3.0), 2**40, 2**62, 10**30, float("nan")]))
network_dtypes = mostly(st.sampled_from(["float32", "float64", np.float32, np.float64, np.dtype("float64")]),
                        st.sampled_from(["float16", "int32", np.int64, bool, "junk", None, 5, object, [1], "f4",
                                         "float", np.zeros(2)]))
seeds = mostly(st.integers(0, 2**32), st.sampled_from([None, -1, 1.5, "seed", np.random.default_rng(1),
                                                       np.int64(3), [1, 2], 2**130, True]))
activation_specs = mostly(st.sampled_from(ACTIVATIONS),
                          st.sampled_from([{"name": "leaky_relu", "config": {"alpha": 0.2}}, "tahn", 3, None,
                                           {"name": "elu", "config": {"alpha": -1}}]))
init_specs = mostly(st.sampled_from(["normalized_xavier", "he_normal", "orthogonal", "zeros", "lecun_normal"]),
                    st.sampled_from([{"name": "normal", "config": {"std": 1e30}}, {"name": "constant",
                                     "config": {"value": 1e38}}, {"name": "uniform", "config": {"low": -1e300,
                                                                                               "high": 1e300}},
                                     "nope", 3]))


@bounded(100)
@given(data=st.data())
def test_dense_and_sequential_construction_succeed_or_raise_config_errors(data):
    """Dense(units, ...) and Sequential(layers, input_dim, seed, dtype) with any sizes, dtypes,
    seeds and components: a network with finite parameters of the requested float dtype, or a
    NeuroplugError (ConfigError, ComponentNotFoundError, NonFiniteError for unrepresentable weights)."""
    n_layers = data.draw(mostly(st.integers(1, 3), st.just(0)), label="n_layers")
    layers = []
    for i in range(n_layers):
        ok, layer = call(npl.Dense, data.draw(layer_sizes, label=f"units{i}"),
                         activation=data.draw(activation_specs, label=f"activation{i}"),
                         init=data.draw(init_specs, label=f"init{i}"),
                         use_bias=data.draw(mostly(st.booleans(), st.sampled_from([1, None])), label=f"use_bias{i}"))
        if not ok:
            return
        layers.append(layer)
    layers_arg = data.draw(mostly(st.sampled_from([layers, tuple(layers)]),
                                  st.sampled_from([None, 3, "dense", layers + [object()]])), label="layers")
    input_dim, dtype = data.draw(layer_sizes, label="input_dim"), data.draw(network_dtypes, label="dtype")
    seed = data.draw(seeds, label="seed")
    ok, net = call(npl.Sequential, layers_arg, input_dim=input_dim, seed=seed, dtype=dtype)
    if not ok:
        assert not any(layer.built for layer in layers), "a failed Sequential() left its layers built"
        return
    assert net.dtype in (np.float32, np.float64)
    assert net.input_dim == input_dim and isinstance(net.input_dim, int)
    for i, p in enumerate(net.parameters()):
        assert_finite_array(p, None, net.dtype, f"parameters()[{i}]")


# ------------------------------------------------------------------ predict and friends


@st.composite
def networks(draw: Any, max_layers: int = 3) -> npl.Sequential:
    """Small valid networks: 1-3 layers of 1-5 units, any activation, float32 or float64."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=max_layers))
    layers = [npl.Dense(units, activation=draw(st.sampled_from(ACTIVATIONS)),
                        init=draw(st.sampled_from(["normalized_xavier", "he_normal", "orthogonal", "zeros", "ones"])),
                        bias_init=draw(st.sampled_from(["zeros", "normal"])))
              for units in sizes]
    return npl.Sequential(layers, input_dim=draw(st.integers(1, 4)), seed=draw(st.integers(0, 100)),
                          dtype=draw(st.sampled_from(["float32", "float64"])))


X_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint64, bool, np.complex128, object, "U3",
            "m8[s]", "M8[D]"]


@st.composite
def inputs_for(draw: Any, net: npl.Sequential) -> Any:
    """Input batches of any dtype, values and (mostly the right) shape; 0 rows included."""
    n = draw(st.integers(0, 6))
    shape = draw(mostly(st.just((n, net.input_dim)),
                        st.sampled_from([(n,), (n, net.input_dim + 1), (n, net.input_dim, 1), ()])))
    dtype = draw(mostly(st.sampled_from([np.float64, np.float32]), st.sampled_from(X_DTYPES)))
    kind = np.dtype(dtype).kind
    if kind == "f":
        values = st.one_of(st.floats(width=np.dtype(dtype).itemsize * 8), st.floats(-10, 10, width=16))
        X = draw(hnp.arrays(dtype, shape, elements=values))
    elif kind in "iub":
        X = draw(hnp.arrays(dtype, shape))
    elif kind == "c":
        X = draw(hnp.arrays(dtype, shape, elements=st.complex_numbers(max_magnitude=10)))
    else:
        X = np.zeros(shape, dtype=dtype)
    if draw(st.integers(0, 9)) == 0:
        X = draw(st.sampled_from([X.tolist(), [[1.0] * net.input_dim, [1.0]], "abc", None, {"a": 1}]))
    return X


def _real_finite(X: Any, net: npl.Sequential) -> bool:
    """True when ``X`` is a well-formed batch of finite real numbers that fit the network's dtype."""
    try:
        X = np.asarray(X)
    except ValueError:
        return False
    if X.ndim != 2 or X.shape[1] != net.input_dim or X.dtype.kind not in "biuf":
        return False
    if X.dtype.kind != "f":
        return True
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(X.astype(np.float64)) <= np.finfo(net.dtype).max))


@bounded(150)
@given(data=st.data())
def test_predict_gives_finite_outputs_or_a_documented_error(data):
    """predict and predict_classes on any input: ``(N, outputs)`` finite values of the network's
    dtype and ``(N,)`` int64 classes in range (N = 0 included); an InputError/ShapeError for
    malformed, non-real, non-finite or (for the dtype) out-of-range inputs, naming X; a
    NonFiniteError naming the layer when the network overflows on finite inputs."""
    net = data.draw(networks(), label="network")
    X = data.draw(inputs_for(net), label="X")
    ok, out = call(net.predict, X)
    if _real_finite(X, net):
        only_documented(ok, out, NonFiniteError)
        if not ok:
            assert "layer" in str(out), out
    else:
        assert not ok and isinstance(out, InputError), out
        assert "X" in str(out)
    if not ok:
        return
    n = np.shape(X)[0]
    assert_finite_array(out, (n, net.output_dim), net.dtype, "predict(X)")
    ok, classes = call(net.predict_classes, X)
    assert ok, classes
    assert classes.shape == (n,) and classes.dtype == np.int64
    assert np.all((classes >= 0) & (classes < max(2, net.output_dim)))


VALID_LOSSES = st.sampled_from(["mse", "mae", "huber", "smooth_l1", "binary_cross_entropy", "cross_entropy",
                                {"name": "cross_entropy", "config": {"from_logits": True}},
                                {"name": "binary_cross_entropy", "config": {"from_logits": True}},
                                {"name": "cross_entropy", "config": {"weight": [1.0, 2.0, 0.5]}},
                                {"name": "huber", "config": {"delta": 1e-3, "reduction": "sum"}}])
LOSS_SPECS = mostly(VALID_LOSSES, st.sampled_from([{"name": "mse", "config": {"reduction": "none"}}, "nope", 3]))
# reduction="none" in fit: see test_fit_with_a_loss_that_does_not_reduce_raises_a_config_error
FIT_LOSS_SPECS = mostly(VALID_LOSSES, st.sampled_from(["nope", 3]))


@st.composite
def targets_for(draw: Any, net: npl.Sequential, n: int) -> Any:
    c = net.output_dim
    return draw(mostly(
        st.one_of(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)),
                  finite_arrays(net.dtype, (n, c)),
                  hnp.arrays(net.dtype, (n, c), elements=st.sampled_from([0.0, 1.0]))),
        st.one_of(hnp.arrays(np.int64, (n,), elements=st.integers(-1, c)),
                  st.sampled_from([np.zeros((n + 1, c)), np.full((n, c), np.nan), np.zeros((n, c + 1)), "y"])),
    ))


@bounded(100)
@given(data=st.data())
def test_loss_and_gradients_are_finite_or_an_error(data):
    """loss_and_gradients(X, y, loss) on any small network, data, targets and loss: a finite
    float and finite gradients shaped like the parameters, or a NeuroplugError."""
    net = data.draw(networks(), label="network")
    n = data.draw(st.integers(0, 5), label="n")
    X = data.draw(st.one_of(finite_arrays(net.dtype, (n, net.input_dim)),
                            st.sampled_from([np.full((n, net.input_dim), np.nan), np.zeros((n, net.input_dim + 1))])),
                  label="X")
    y = data.draw(targets_for(net, n), label="y")
    loss = data.draw(LOSS_SPECS, label="loss")
    ok, result = call(net.loss_and_gradients, X, y, loss)
    if not ok:
        return
    value, grads = result
    assert_finite_number(value, "loss")
    assert len(grads) == len(net.parameters())
    for g, p in zip(grads, net.parameters()):
        assert_finite_array(g, p.shape, net.dtype, "gradient")


# ------------------------------------------------------------------------------- fit

OPTIMIZER_SPECS = mostly(st.sampled_from(["sgd", "adam", "adamw", "rmsprop", "adagrad",
                                          {"name": "sgd", "config": {"momentum": 0.9}}]), st.just("nope"))
SCHEDULE_SPECS = mostly(st.sampled_from(["constant", "step_decay", {"name": "one_cycle", "config": {"total_steps": 10}},
                                         {"name": "cosine_annealing", "config": {"total_steps": 3, "unit": "batch"}},
                                         {"name": "reduce_on_plateau", "config": {"monitor": "loss", "patience": 1}}]),
                        st.just("nope"))


@bounded(60)
@given(data=st.data())
def test_fit_trains_to_finite_weights_or_raises_a_documented_error(data):
    """fit with random small networks, data, targets, losses, optimizers, schedules, rates,
    epochs and batch sizes: a History of finite losses and finite weights, or a NeuroplugError
    (after which the weights are finite too: DivergenceError restores them)."""
    net = data.draw(networks(max_layers=2), label="network")
    n = data.draw(st.integers(1, 8), label="n")
    X = data.draw(finite_arrays(net.dtype, (n, net.input_dim), 1e3), label="X")
    y = data.draw(targets_for(net, n), label="y")
    kwargs = {
        "loss": data.draw(FIT_LOSS_SPECS, label="loss"),
        "optimizer": data.draw(OPTIMIZER_SPECS, label="optimizer"),
        "schedule": data.draw(SCHEDULE_SPECS, label="schedule"),
        "lr": data.draw(mostly(st.sampled_from([0.01, 0.1, 1.0, 1e10, 1e30]),
                               st.sampled_from([0.0, -1.0, float("nan"), "0.1"])), label="lr"),
        "epochs": data.draw(mostly(st.integers(1, 3), st.sampled_from([0, 2.0, None])), label="epochs"),
        "batch_size": data.draw(mostly(st.sampled_from([1, 2, n]), st.sampled_from([n + 1, 0, 3.0])),
                                label="batch_size"),
        "seed": data.draw(st.integers(0, 10), label="seed"),
    }
    if data.draw(st.booleans(), label="validation"):
        kwargs["validation_data"] = (X[:2], y[:2] if isinstance(y, np.ndarray) else y)
    ok, history = call(npl.fit, net, X, y, **kwargs)
    for i, p in enumerate(net.parameters()):
        assert_finite_array(p, None, net.dtype, f"parameters()[{i}] after fit")
    if not ok:
        return
    for key, values in history.history.items():
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), (key, values)


# -------------------------------------- found here, fixed in files owned by others (regression tests)


def test_fit_with_a_loss_that_does_not_reduce_raises_a_config_error():
    # found: fit called float() on the loss value, a TypeError for reduction="none" (core/training.py)
    net = npl.Sequential([npl.Dense(2)], input_dim=2, seed=0)
    ok, error = call(npl.fit, net, np.ones((4, 2)), np.zeros((4, 2)), epochs=1, batch_size=2,
                     loss={"name": "mse", "config": {"reduction": "none"}})
    assert not ok and isinstance(error, ConfigError)


def test_a_choice_parameter_given_an_array_is_a_config_error():
    # hypothesis found: create("initializer", "he_normal", mode=np.array([1., 2.])) raised numpy's
    # ValueError "truth value of an array is ambiguous" (core/validation.py check_choice)
    with pytest.raises(ConfigError, match="reduction"):
        npl.create("loss", "mse", reduction=np.array(["mean", "sum"]))


def test_a_number_too_large_for_a_float_is_a_config_error():
    # found: check_number called float() on 10**400: OverflowError (core/validation.py)
    with pytest.raises(ConfigError, match="gamma"):
        npl.create("schedule", "step_decay", gamma=10**400)


def test_an_unhashable_kind_is_a_config_error():
    # found: _check_kind's 'kind not in KINDS' raised TypeError (unhashable) for a list kind (core/registry.py)
    with pytest.raises(ConfigError, match="kind"):
        npl.create(["loss"], "mse")
