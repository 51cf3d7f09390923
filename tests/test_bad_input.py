"""Bad input gets a clear error, early, and nothing is changed.

One table of cases per class of bad input named by the issue "Reliability and
safety" (point 1); every pytest id starts with its class::

    nan_inf-  rank-  xy_mismatch-  width-  labels-  empty-  dtype-  lr-  batch_size-
    epochs-  component_params-  schedule_value-  csv-  datafile-  other-  cli-

For every case the test asserts

* the exact error class, a :class:`~neuroplug.errors.NeuroplugError` that is also
  the matching built-in (``ValueError``, ``TypeError``, ``LookupError`` ...);
* that the message names the argument, shows the bad value and says what is
  allowed (``arg``, ``value``, ``allowed`` of the case; ``allowed`` is a regular
  expression, the other two are plain text);
* for ``fit`` and ``predict``: every weight is bit-identical afterwards, and so are
  the caller's arrays and the state of the optimizer and schedule instances given
  to ``fit`` (the optimizer has been used before, so a reset would show);
* for the command line: exit status 2, one line on stderr starting
  ``neuroplug train: error:``, no traceback.

A case that does not behave as required yet is a strict expected failure whose
reason names the change it needs (see the report of the issue).
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pytest

import neuroplug as npl
from neuroplug import datasets
from neuroplug.cli import main
from neuroplug.errors import (
    ComponentNotFoundError,
    ConfigError,
    InputError,
    NeuroplugError,
    ShapeError,
)
from neuroplug.types import REQUIRED

N, D, C = 12, 4, 3  # samples, features, classes: everything is tiny, the file runs in seconds
_rng = np.random.default_rng(0)
X0 = _rng.normal(size=(N, D))
Y0 = np.arange(N) % C  # integer class labels 0..C-1
T0 = _rng.normal(size=(N, C))  # regression targets, one per output


def put(array: np.ndarray, index: tuple[int, ...], value: Any) -> np.ndarray:
    """A copy of ``array`` with ``value`` at ``index`` (float when ``value`` is)."""
    out = np.array(array, dtype=float if isinstance(value, float) else np.asarray(array).dtype)
    out[index] = value
    return out


def make_net(out: int = C, activation: str = "softmax") -> npl.Sequential:
    return npl.Sequential([npl.Dense(5, activation="tanh"), npl.Dense(out, activation=activation)],
                          input_dim=D, seed=0)


def used_optimizer() -> Any:
    """An SGD-with-momentum optimizer that has taken a step (non-zero velocity, step 1)."""
    opt = npl.create("optimizer", "sgd", momentum=0.9)
    params = [np.zeros((D, 5)), np.zeros(5), np.zeros((5, C)), np.zeros(C)]
    opt.setup(params)
    opt.step(params, [np.ones_like(p) for p in params], 0.1)
    return opt


def used_schedule() -> Any:
    """A stateful schedule with a non-initial state (a reset would show)."""
    sched = npl.create("schedule", "reduce_on_plateau", monitor="loss", patience=3)
    sched.set_state({"best": 1.5, "wait": 2, "cooldown_left": 0, "reductions": 1})
    return sched


def state_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(state_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def needs(change: str, where: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=f"needs {change} in {where}")


# ---------------------------------------------------------------------- the cases
@dataclass
class Case:
    """One bad input: what is called with what, and the error it must raise."""

    id: str
    error: type[NeuroplugError]
    builtin: type[BaseException]
    arg: str
    value: str
    allowed: str | None  # a regular expression, or None where nothing else is allowed
    fit: dict[str, Any] | None = None  # overrides of the arguments of fit(net, X, y, ...)
    predict: Any = None  # the X given to net.predict
    call: Callable[[], Any] | None = None  # anything else (component constructors, data files)
    net: dict[str, Any] = field(default_factory=dict)  # make_net arguments
    component: str | None = None  # a component whose parameter is bad: the message must name it too
    marks: tuple[Any, ...] = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


def F(id, error, builtin, arg, value, allowed, marks=(), net=None, **fit):
    return Case(id, error, builtin, arg, value, allowed, fit=fit, net=net or {}, marks=marks)


def P(id, error, builtin, arg, value, allowed, X, marks=()):
    return Case(id, error, builtin, arg, value, allowed, predict=X, marks=marks)


REGRESSION = dict(loss="mse")  # with float targets T0 of shape (N, C)
NON_FINITE = r"non-finite"
ROWS = r"one row per sample of X \(12\)"
REAL = r"real numbers"
WIDTH = r"input_dim is 4|shape \(N, 4\)"

NAN_INF = [
    F("nan_inf-X_nan", InputError, ValueError, "X", "nan at index (3, 1)", NON_FINITE, X=put(X0, (3, 1), np.nan)),
    F("nan_inf-X_posinf", InputError, ValueError, "X", "inf at index (0, 0)", NON_FINITE,
      X=put(X0, (0, 0), np.inf)),
    F("nan_inf-X_neginf", InputError, ValueError, "X", "-inf at index (11, 3)", NON_FINITE,
      X=put(X0, (11, 3), -np.inf)),
    F("nan_inf-X_float32_nan", InputError, ValueError, "X", "nan at index (5, 2)", NON_FINITE,
      X=put(X0, (5, 2), np.nan).astype(np.float32)),
    F("nan_inf-y_nan", InputError, ValueError, "y", "nan at index (2, 0)", NON_FINITE,
      y=put(T0, (2, 0), np.nan), **REGRESSION),
    F("nan_inf-y_posinf", InputError, ValueError, "y", "inf at index (7, 2)", NON_FINITE,
      y=put(T0, (7, 2), np.inf), **REGRESSION),
    F("nan_inf-y_neginf_1d", InputError, ValueError, "y", "-inf at index (4,)", NON_FINITE,
      y=put(T0[:, 0], (4,), -np.inf), net=dict(out=1, activation="identity"), **REGRESSION),
    F("nan_inf-val_X_nan", InputError, ValueError, "validation X", "nan at index (1, 1)", NON_FINITE,
      validation_data=(put(X0, (1, 1), np.nan), Y0)),
    F("nan_inf-val_X_inf", InputError, ValueError, "validation X", "inf at index (9, 0)", NON_FINITE,
      validation_data=(put(X0, (9, 0), np.inf), Y0)),
    F("nan_inf-val_y_nan", InputError, ValueError, "validation y", "nan at index (0, 2)", NON_FINITE,
      validation_data=(X0, put(T0, (0, 2), np.nan)), y=T0, **REGRESSION),
    F("nan_inf-X_overflows_float32", InputError, ValueError, "X", "inf", r"float32|non-finite",
      X=put(X0, (2, 2), 1e39)),
    P("nan_inf-predict_nan", InputError, ValueError, "X", "nan", NON_FINITE, put(X0, (3, 1), np.nan)),
    P("nan_inf-predict_inf", InputError, ValueError, "X", "inf", NON_FINITE, put(X0, (0, 3), np.inf)),
]

RANK = [
    F("rank-X_1d", ShapeError, ValueError, "X", "(12,)", r"2-D", X=X0[:, 0]),
    F("rank-X_3d", ShapeError, ValueError, "X", "(12, 4, 1)", r"2-D", X=X0[:, :, None]),
    F("rank-X_0d", ShapeError, ValueError, "X", "()", r"2-D", X=np.float64(1.0)),
    F("rank-val_X_1d", ShapeError, ValueError, "validation X", "(4,)", r"2-D", validation_data=(X0[0], Y0[:1])),
    F("rank-val_X_3d", ShapeError, ValueError, "validation X", "(12, 1, 4)", r"2-D",
      validation_data=(X0[:, None, :], Y0)),
    F("rank-y_3d", ShapeError, ValueError, "y", "(12, 1, 1)", r"1-D|2-D", y=Y0[:, None, None]),
    F("rank-y_0d", ShapeError, ValueError, "y", "()", r"1-D|2-D", y=np.int64(1)),
    F("rank-X_ragged_list", InputError, ValueError, "X", "row 1", r"same length|rectangular",
      X=[[0.0] * D, [0.0] * (D - 1)] + [[0.0] * D] * (N - 2)),
    P("rank-predict_1d", ShapeError, ValueError, "X", "(4,)", WIDTH, X0[0]),
    P("rank-predict_3d", ShapeError, ValueError, "X", "(12, 4, 1)", WIDTH, X0[:, :, None]),
    P("rank-predict_0d", ShapeError, ValueError, "X", "()", WIDTH, 3.0),
    P("rank-predict_ragged_list", InputError, ValueError, "X", "row 1", r"same length|rectangular",
      [[0.0] * D, [0.0] * (D + 1)]),
]

XY_MISMATCH = [
    F("xy_mismatch-y_shorter", ShapeError, ValueError, "y", "(11,)", ROWS, y=Y0[:-1]),
    F("xy_mismatch-y_longer", ShapeError, ValueError, "y", "(13,)", ROWS, y=np.append(Y0, 0)),
    F("xy_mismatch-y_2d_fewer_rows", ShapeError, ValueError, "y", "(6, 3)", ROWS, y=T0[:6], **REGRESSION),
    F("xy_mismatch-lists", ShapeError, ValueError, "y", "(3,)", r"one row per sample of X \(2\)",
      X=X0[:2].tolist(), y=[0, 1, 2]),
    F("xy_mismatch-val_y_shorter", ShapeError, ValueError, "validation y", "(5,)",
      r"one row per sample of X \(6\)", validation_data=(X0[:6], Y0[:5])),
    F("xy_mismatch-val_y_longer", ShapeError, ValueError, "validation y", "(12,)",
      r"one row per sample of X \(3\)", validation_data=(X0[:3], Y0)),
    F("xy_mismatch-y_2d_wrong_width", ShapeError, ValueError, "y", "(12, 2)", r"shape \(N, 3\)",
      y=T0[:, :2], **REGRESSION),
]

WIDTH_CASES = [
    F("width-X_narrow", ShapeError, ValueError, "X", "3 features", WIDTH, X=X0[:, :3]),
    F("width-X_wide", ShapeError, ValueError, "X", "5 features", WIDTH, X=np.hstack([X0, X0[:, :1]])),
    F("width-X_one_column", ShapeError, ValueError, "X", "1 features", WIDTH, X=X0[:, :1]),
    F("width-X_transposed", ShapeError, ValueError, "X", "12 features", WIDTH, X=X0.T, y=Y0[:D]),
    F("width-val_X_narrow", ShapeError, ValueError, "validation X", "2 features", WIDTH,
      validation_data=(X0[:, :2], Y0)),
    P("width-predict_narrow", ShapeError, ValueError, "X", "(12, 3)", WIDTH, X0[:, :3]),
    P("width-predict_wide", ShapeError, ValueError, "X", "(2, 8)", WIDTH, np.zeros((2, 8))),
]

LABELS = [
    F("labels-equal_to_classes", InputError, ValueError, "y", "class label 3", r"outside \[0, 3\)",
      y=np.where(Y0 == 2, 3, Y0)),
    F("labels-negative", InputError, ValueError, "y", "class label -1", r"outside \[0, 3\)",
      y=np.where(Y0 == 0, -1, Y0)),
    F("labels-huge", InputError, ValueError, "y", "class label 1000000", r"outside \[0, 3\)",
      y=put(Y0, (5,), 10**6)),
    F("labels-mse_one_hot_out_of_range", InputError, ValueError, "y", "class label 7", r"outside \[0, 3\)",
      y=put(Y0, (0,), 7), loss="mse"),
    F("labels-float_labels_cross_entropy", InputError, ValueError, "y", "float64", r"integer class labels",
      y=Y0 + 0.5),
    F("labels-negative_probability", InputError, ValueError, "y", "-0.5", r"negative",
      y=put(np.full((N, C), 1 / 3), (4, 1), -0.5)),
    F("labels-binary_target_2", InputError, ValueError, "y", "2", r"outside \[0, 1\]", y=put(Y0 % 2, (3,), 2),
      loss="binary_cross_entropy", net=dict(out=1, activation="sigmoid")),
    F("labels-val_out_of_range", InputError, ValueError, "validation y", "class label 5", r"outside \[0, 3\)",
      validation_data=(X0, put(Y0, (1,), 5))),
]

EMPTY = [
    F("empty-X_and_y", InputError, ValueError, "X", "(0, 4)", r"empty", X=np.zeros((0, D)),
      y=np.zeros(0, dtype=int)),
    F("empty-lists", ShapeError, ValueError, "X", "(0,)", r"2-D", X=[], y=[]),
    F("empty-y_only", ShapeError, ValueError, "y", "(0,)", ROWS, y=np.zeros(0, dtype=int)),
    F("empty-no_features", ShapeError, ValueError, "X", "0 features", WIDTH, X=np.zeros((N, 0))),
    F("empty-val_X", InputError, ValueError, "validation X", "(0, 4)", r"empty",
      validation_data=(np.zeros((0, D)), np.zeros(0, dtype=int))),
]

DTYPE = [
    F("dtype-X_complex", InputError, ValueError, "X", "complex128", REAL, X=X0 + 0j),
    F("dtype-X_object", InputError, ValueError, "X", "object", REAL, X=X0.astype(object)),
    F("dtype-X_str", InputError, ValueError, "X", "<U", REAL, X=X0.astype(str)),
    F("dtype-X_datetime", InputError, ValueError, "X", "datetime64", REAL,
      X=np.zeros((N, D), dtype="datetime64[s]")),
    F("dtype-X_None", InputError, ValueError, "X", "object", REAL, X=None),
    F("dtype-y_complex", InputError, ValueError, "y", "complex128", REAL, y=Y0 + 0j),
    F("dtype-y_object", InputError, ValueError, "y", "object", REAL, y=Y0.astype(object)),
    F("dtype-y_str_labels", InputError, ValueError, "y", "<U", REAL, y=np.array(["a", "b", "c"] * 4)),
    F("dtype-val_X_complex", InputError, ValueError, "validation X", "complex", REAL,
      validation_data=(X0.astype(np.complex64), Y0)),
    F("dtype-val_y_object", InputError, ValueError, "validation y", "object", REAL,
      validation_data=(X0, Y0.astype(object))),
    P("dtype-predict_complex", InputError, ValueError, "X", "complex128", REAL, X0 + 0j),
    P("dtype-predict_object", InputError, ValueError, "X", "object", REAL, X0.astype(object)),
    P("dtype-predict_str", InputError, ValueError, "X", "<U", REAL, X0.astype(str)),
]

LR = [
    F("lr-negative", InputError, ValueError, "lr", "-0.1", r"> 0", lr=-0.1),
    F("lr-zero", InputError, ValueError, "lr", "0.0", r"> 0", lr=0.0),
    F("lr-zero_int", InputError, ValueError, "lr", "got 0", r"> 0", lr=0),
    F("lr-nan", InputError, ValueError, "lr", "nan", r"finite", lr=float("nan")),
    F("lr-inf", InputError, ValueError, "lr", "inf", r"finite", lr=float("inf")),
    F("lr-numpy_nan", InputError, ValueError, "lr", "nan", r"finite", lr=np.float32("nan")),
    F("lr-str", InputError, ValueError, "lr", "'0.1'", r"a real number", lr="0.1"),
    F("lr-None", InputError, ValueError, "lr", "None", r"a real number", lr=None),
    F("lr-bool", InputError, ValueError, "lr", "True", r"a real number", lr=True),
    F("lr-complex", InputError, ValueError, "lr", "0.1j", r"a real number", lr=0.1j),
]

BATCH_SIZE = [
    F("batch_size-zero", InputError, ValueError, "batch_size", "got 0", r">= 1", batch_size=0),
    F("batch_size-negative", InputError, ValueError, "batch_size", "-4", r">= 1", batch_size=-4),
    F("batch_size-larger_than_data", InputError, ValueError, "batch_size", "13", r"<= 12", batch_size=13),
    F("batch_size-much_larger", InputError, ValueError, "batch_size", "4096", r"<= 12", batch_size=4096),
    F("batch_size-float", InputError, ValueError, "batch_size", "2.5", r"an integer", batch_size=2.5),
    F("batch_size-integral_float", InputError, ValueError, "batch_size", "4.0", r"an integer", batch_size=4.0),
    F("batch_size-str", InputError, ValueError, "batch_size", "'4'", r"an integer", batch_size="4"),
    F("batch_size-None", InputError, ValueError, "batch_size", "None", r"an integer", batch_size=None),
    F("batch_size-bool", InputError, ValueError, "batch_size", "True", r"an integer", batch_size=True),
]

EPOCHS = [
    F("epochs-zero", InputError, ValueError, "epochs", "got 0", r">= 1", epochs=0),
    F("epochs-negative", InputError, ValueError, "epochs", "-1", r">= 1", epochs=-1),
    F("epochs-float", InputError, ValueError, "epochs", "1.5", r"an integer", epochs=1.5),
    F("epochs-nan", InputError, ValueError, "epochs", "nan", r"an integer", epochs=float("nan")),
    F("epochs-str", InputError, ValueError, "epochs", "'2'", r"an integer", epochs="2"),
    F("epochs-None", InputError, ValueError, "epochs", "None", r"an integer", epochs=None),
    F("epochs-bool", InputError, ValueError, "epochs", "True", r"an integer", epochs=True),
]


# ---------------------------------------------------------------------- component parameters
#: Numeric parameters for which -1 is a valid value (everything else must refuse it).
NEGATIVE_ALLOWED = {
    ("initializer", "constant", "value"), ("initializer", "normal", "mean"),
    ("initializer", "truncated_normal", "mean"), ("initializer", "truncated_normal", "a"),
    ("initializer", "truncated_normal", "b"), ("initializer", "uniform", "low"),
    ("loss", "cross_entropy", "ignore_index"),
}
NUMBER = r"must be (a real number|an integer|finite|>|>=|<|<=)"


def _builtin_entries() -> list[Any]:
    with npl.isolated_registry() as reg:
        return [e for e in reg.entries() if e.plugin.builtin]


def _route(kind: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """How a component config reaches the code: through fit for the kinds fit takes, else through Dense."""
    spec = {"name": name, "config": config}
    if kind in ("loss", "optimizer", "schedule"):
        return {"fit": {kind: spec}}
    key = "activation" if kind == "activation" else "init"
    return {"call": lambda: npl.Dense(3, **{key: spec})}


def _component_cases() -> list[Case]:
    cases = []
    for entry in _builtin_entries():
        kind, name, reg = entry.kind, entry.name, entry.registration
        base = dict(reg.spec_config or {})
        label = f"component_params-{kind}.{name}"

        def case(suffix, param, value, allowed):
            route = _route(kind, name, {**base, param: value})
            cases.append(Case(f"{label}.{param}={suffix}", ConfigError, ValueError, param, repr(value), allowed,
                              component=name, **route))

        for param, default in reg.parameters.items():
            value = base.get(param, default)
            if isinstance(value, bool):
                case("str", param, "yes", r"must be True or False")
                case("int", param, 1, r"must be True or False")
            elif isinstance(value, numbers.Real):
                case("str", param, "0.5", NUMBER)
                case("bool", param, True, NUMBER)
                case("nan", param, float("nan"), NUMBER)
                case("inf", param, float("inf"), NUMBER)
                if (kind, name, param) not in NEGATIVE_ALLOWED:
                    case("negative", param, -1, NUMBER)
            elif isinstance(value, str) and param not in ("monitor",):
                case("unknown_choice", param, "bogus", r"must be one of")
        # an unknown keyword, and a misspelt one where the component has parameters
        route = _route(kind, name, {**base, "bogus_param": 1})
        allowed = ", ".join(reg.parameters) or "(none)"
        cases.append(Case(f"{label}.unknown_keyword", ConfigError, ValueError, "unknown parameter",
                          "'bogus_param'", "allowed: " + re.escape(allowed), component=name, **route))
        real = [p for p, d in reg.parameters.items() if d is not REQUIRED and len(p) > 3]
        if real:
            typo = real[0][:-1] + ("x" if real[0][-1] != "x" else "y")
            route = _route(kind, name, {**base, typo: reg.parameters[real[0]]})
            cases.append(Case(f"{label}.misspelt_keyword", ConfigError, ValueError, "unknown parameter",
                              f"'{typo}'", rf"Did you mean '\w+' for '{typo}'", component=name, **route))
    return cases


COMPONENT_PARAMS = [
    *_component_cases(),
    # by name, not by config: the registry's own checks
    F("component_params-unknown_loss_name", ComponentNotFoundError, LookupError, "loss", "'crossentropy'",
      r"Did you mean 'cross_entropy'", loss="crossentropy"),
    F("component_params-unknown_optimizer_name", ComponentNotFoundError, LookupError, "optimizer", "'adm'",
      r"Available optimizers: .*adam", optimizer="adm"),
    F("component_params-config_not_a_dict", ConfigError, ValueError, "config", "[0.9]", r"must be a dict",
      optimizer={"name": "sgd", "config": [0.9]}),
    Case("component_params-instance_with_parameters", ConfigError, ValueError, "schedule", "['gamma']",
         r"already built", call=lambda: npl.create("schedule", npl.create("schedule", "step_decay"), gamma=0.1)),
    F("component_params-wrong_kind_instance", ConfigError, ValueError, "loss", "Tanh()",
      r"a name, a \{'name', 'config'\} dict", loss=npl.create("activation", "tanh")),
    F("component_params-dict_of_other_kind", ConfigError, ValueError, "loss", "'activation'",
      r"expected a loss", loss={"kind": "activation", "name": "tanh"}),
]


# ---------------------------------------------------------------------- schedule values
class Returns(npl.Schedule):
    """A schedule returning ``value`` from epoch (or step) ``start`` on, ``0.1`` before."""

    unit = "epoch"

    def __init__(self, value: Any, start: int = 0, unit: str = "epoch"):
        self.value, self.start, self.unit = value, start, unit

    def __call__(self, step, base_lr):
        return self.value if step >= self.start else 0.1


LR_ALLOWED = r"finite (number )?(and )?>= 0"
SCHEDULE_VALUE = [
    F("schedule_value-nan", ConfigError, ValueError, "schedule", "nan", LR_ALLOWED, schedule=Returns(float("nan"))),
    F("schedule_value-negative", ConfigError, ValueError, "schedule", "-1.0", LR_ALLOWED, schedule=Returns(-1.0)),
    F("schedule_value-inf", ConfigError, ValueError, "schedule", "inf", LR_ALLOWED, schedule=Returns(math.inf)),
    F("schedule_value-None", ConfigError, ValueError, "schedule", "None", LR_ALLOWED, schedule=Returns(None)),
    F("schedule_value-str", ConfigError, ValueError, "schedule", "'0.1'", LR_ALLOWED, schedule=Returns("0.1")),
    F("schedule_value-numpy_nan", ConfigError, ValueError, "schedule", "nan", LR_ALLOWED,
      schedule=Returns(np.float32("nan"))),
    F("schedule_value-nan_from_epoch_1", ConfigError, ValueError, "schedule", "nan", LR_ALLOWED,
      schedule=Returns(float("nan"), start=1), epochs=3),
    F("schedule_value-negative_at_batch_step_2", ConfigError, ValueError, "schedule", "-0.5", LR_ALLOWED,
      schedule=Returns(-0.5, start=2, unit="batch")),
    F("schedule_value-callable_nan", ConfigError, ValueError, "schedule", "nan", LR_ALLOWED,
      schedule=npl.create("schedule", "callable", fn=lambda t, lr: float("nan"))),
    F("schedule_value-callable_negative_at_epoch_2", ConfigError, ValueError, "schedule", "-0.01", LR_ALLOWED,
      schedule=npl.create("schedule", "callable", fn=lambda t, lr: lr if t < 2 else -0.01), epochs=4),
]


# ---------------------------------------------------------------------- data files
def _file(tmp: Any, name: str, content: str | bytes) -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@dataclass
class FileCase:
    id: str
    name: str
    content: Any  # str, bytes, or a dict of arrays for .npz
    target: str | None
    error: type[NeuroplugError]
    arg: str
    value: str
    allowed: str | None
    marks: tuple[Any, ...] = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)

    def write(self, tmp: Any) -> str:
        if isinstance(self.content, dict):
            path = tmp / self.name
            np.savez(path, **self.content)
            return str(path)
        if self.content is None:
            return str(tmp / self.name)  # does not exist
        return _file(tmp, self.name, self.content)


CSV = [
    FileCase("csv-missing_target_column", "d.csv", "a,b,y\n1,2,0\n3,4,1\n", "label", InputError,
             "'label'", "target column", r"columns: a, b, y"),
    FileCase("csv-ragged_row_short", "d.csv", "a,b,y\n1,2,0\n1,2\n3,4,1\n", None, InputError,
             "line 3", "2 values", r"header has 3 columns"),
    FileCase("csv-ragged_row_long", "d.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,7,8\n", None, InputError,
             "line 4", "4 values", r"header has 3 columns"),
    FileCase("csv-empty_cell", "d.csv", "a,b,y\n1,,0\n3,4,1\n", None, InputError,
             "line 2, column 'b'", "''", r"not a number"),
    FileCase("csv-text_cell", "d.csv", "a,b,y\n1,2,0\n3,four,1\n", None, InputError,
             "line 3, column 'b'", "'four'", r"not a number"),
    FileCase("csv-text_target", "d.csv", "a,b,y\n1,2,cat\n3,4,dog\n", None, InputError,
             "line 2, column 'y'", "'cat'", r"not a number"),
    FileCase("csv-nan_cell", "d.csv", "a,b,y\n1,2,0\nnan,4,1\n", None, InputError,
             "line 3, column 'a'", "'nan'", r"not a finite number"),
    FileCase("csv-inf_cell", "d.csv", "a,b,y\n1,-inf,0\n3,4,1\n", None, InputError,
             "line 2, column 'b'", "'-inf'", r"not a finite number"),
    FileCase("csv-header_only", "d.csv", "a,b,y\n", None, InputError,
             "d.csv", "header", r"at least one data row"),
    FileCase("csv-empty_file", "d.csv", "", None, InputError, "d.csv", "header", r"at least one data row"),
    FileCase("csv-single_column", "d.csv", "y\n0\n1\n", None, InputError,
             "d.csv", "feature column", r"at least one feature column and a target column"),
    FileCase("csv-duplicate_column", "d.csv", "a,a,y\n1,2,0\n3,4,1\n", "a", InputError,
             "d.csv", "'a'", r"must be unique"),
    FileCase("csv-missing_file", "nope.csv", None, None, InputError, "nope.csv", "--data", r"cannot be read"),
    FileCase("csv-not_utf8", "d.csv", b"a,b,y\n\xff\xfe,2,0\n", None, InputError,
             "d.csv", "UTF-8", r"not a readable UTF-8 CSV"),
]

DATAFILE = [
    FileCase("datafile-npz_missing_array", "d.npz", {"X": X0}, None, InputError, "d.npz", "['y']",
             r"holds \['X'\]"),
    FileCase("datafile-npz_missing_target", "d.npz", {"X": X0, "y": Y0}, "label", InputError, "d.npz",
             "['label']", r"holds \['X', 'y'\]"),
    FileCase("datafile-npz_pickled_objects", "d.npz", {"X": np.array([{"a": 1}] * N, dtype=object), "y": Y0},
             None, InputError, "d.npz", "'X'", r"Python objects.*never done"),
    FileCase("datafile-npz_X_1d", "d.npz", {"X": X0[:, 0], "y": Y0}, None, ShapeError, "X", "(12,)", r"2-D"),
    FileCase("datafile-npz_y_mismatch", "d.npz", {"X": X0, "y": Y0[:5]}, None, ShapeError, "y", "(5,)",
             r"one row per sample of X \(12\)"),
    FileCase("datafile-npz_not_a_zip", "d.npz", "X,y\n1,2\n", None, InputError, "d.npz", "--data",
             r"not a readable \.npz"),
    FileCase("datafile-wrong_extension", "d.txt", "a,y\n1,0\n", None, InputError, "--data", "d.txt",
             r"\.csv or \.npz"),
]


# ---------------------------------------------------------------------- other arguments of fit
class NotACallback:
    pass


OTHER = [
    F("other-network_not_sequential", InputError, ValueError, "network", "str", r"neuroplug\.Sequential",
      network="not a network"),
    F("other-validation_data_not_a_pair", InputError, ValueError, "validation_data", "ndarray",
      r"a pair \(X_val, y_val\)", validation_data=X0),
    F("other-validation_data_triple", InputError, ValueError, "validation_data", "3 items",
      r"a pair \(X_val, y_val\)", validation_data=(X0, Y0, Y0)),
    F("other-shuffle_str", InputError, ValueError, "shuffle", "'yes'", r"True or False", shuffle="yes"),
    F("other-callback_not_a_callback", InputError, ValueError, "callbacks", "NotACallback",
      r"neuroplug\.Callback", callbacks=[NotACallback()]),
    F("other-seed_str", InputError, ValueError, "seed", "'abc'", r"integer|Generator", seed="abc"),
    F("other-seed_negative", InputError, ValueError, "seed", "-1", r"integer|Generator|>= 0", seed=-1),
    P("other-predict_None", ShapeError, ValueError, "X", "()", WIDTH, None),
]

FIT_AND_CALL_CASES = [*NAN_INF, *RANK, *XY_MISMATCH, *WIDTH_CASES, *LABELS, *EMPTY, *DTYPE, *LR, *BATCH_SIZE,
                      *EPOCHS, *COMPONENT_PARAMS, *SCHEDULE_VALUE, *OTHER]


# ---------------------------------------------------------------------- the tests
def check_message(exc: BaseException, arg: str, value: str, allowed: str | None) -> None:
    message = str(exc)
    assert "\n" not in message, message
    assert arg in message, f"the argument {arg!r} is not named in: {message}"
    assert value in message, f"the value {value!r} is not shown in: {message}"
    if allowed is not None:
        assert re.search(allowed, message), f"what is allowed ({allowed!r}) is not said in: {message}"


def check_error(exc: BaseException, error: type, builtin: type) -> None:
    assert type(exc) is error, f"{type(exc).__name__} raised, expected {error.__name__}: {exc}"
    assert isinstance(exc, NeuroplugError) and isinstance(exc, builtin)


@pytest.mark.parametrize("case", [c.param() for c in FIT_AND_CALL_CASES])
def test_bad_input_raises_a_clear_error_and_changes_nothing(case: Case) -> None:
    net = make_net(**case.net)
    weights = net.get_weights()
    opt, sched = used_optimizer(), used_schedule()
    opt_state, sched_state = copy.deepcopy(opt.get_state()), copy.deepcopy(sched.get_state())
    data: dict[str, Any] = {}
    if case.fit is not None:
        args = dict(X=X0, y=Y0, loss="cross_entropy", optimizer=opt, schedule=sched, lr=0.1, epochs=2,
                    batch_size=4, seed=0)
        args.update(case.fit)
        network = args.pop("network", net)
        data = {k: args[k] for k in ("X", "y", "validation_data") if k in args}
        copies = copy.deepcopy(data)
        X, y = args.pop("X"), args.pop("y")
        call = lambda: npl.fit(network, X, y, **args)  # noqa: E731
    elif case.call is not None:
        call = case.call
    else:
        call = lambda: net.predict(case.predict)  # noqa: E731
    with pytest.raises(NeuroplugError) as info:
        call()
    check_error(info.value, case.error, case.builtin)
    check_message(info.value, case.arg, case.value, case.allowed)
    if case.component is not None:
        assert f"'{case.component}'" in str(info.value), f"the component is not named in: {info.value}"
    # nothing changed: the weights, the optimizer and the schedule given, the caller's data
    after = net.get_weights()
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(weights, after)), "weights changed"
    assert state_equal(opt.get_state(), opt_state), "the optimizer given to fit changed"
    assert state_equal(sched.get_state(), sched_state), "the schedule given to fit changed"
    for key, value in data.items():
        assert _same(copies[key], value), f"fit changed the caller's {key}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a is b or a == b


@pytest.mark.parametrize("case", [c.param() for c in [*CSV, *DATAFILE]])
def test_bad_data_files_raise_a_clear_error(case: FileCase, tmp_path: Any) -> None:
    path = case.write(tmp_path)
    with pytest.raises(NeuroplugError) as info:
        datasets.load_data(path, case.target)
    check_error(info.value, case.error, ValueError)
    check_message(info.value, case.arg, case.value, case.allowed)


# ---------------------------------------------------------------------- the command line
def _data(tmp: Any, content: str | dict[str, np.ndarray]) -> str:
    """A CSV file of the given text, or an .npz file of the given arrays."""
    if isinstance(content, dict):
        np.savez(tmp / "data.npz", **content)
        return str(tmp / "data.npz")
    return _file(tmp, "data.csv", content)


GOOD_CSV = "a,b,label\n" + "".join(f"{x:.3f},{-x:.3f},{i % 2}\n" for i, x in enumerate(X0[:, 0]))

CLI = [
    # (id, argv, data, fragments of the message); ``{data}`` in argv is replaced by a file holding data
    ("cli-lr_negative", ["--lr", "-1"], None, ["lr", "-1.0", "> 0"]),
    ("cli-lr_zero", ["--lr", "0"], None, ["lr", "0.0", "> 0"]),
    ("cli-lr_nan", ["--lr", "nan"], None, ["lr", "nan", "finite"]),
    ("cli-epochs_zero", ["--epochs", "0"], None, ["epochs", "got 0", ">= 1"]),
    ("cli-batch_size_zero", ["--batch-size", "0"], None, ["batch_size", "got 0", ">= 1"]),
    ("cli-batch_size_larger_than_data", ["--batch-size", "100000"], None, ["batch_size", "100000", "<= 1347"]),
    ("cli-test_size_above_1", ["--test-size", "1.5"], None, ["test_size", "1.5", "< 1"]),
    ("cli-test_size_zero", ["--test-size", "0"], None, ["test_size", "0.0", "> 0"]),
    ("cli-unknown_activation", ["--activation", "tahn"], None, ["activation", "'tahn'", "Did you mean 'tanh'"]),
    ("cli-unknown_optimizer", ["--optimizer", "adm"], None, ["optimizer", "'adm'", "Available optimizers"]),
    ("cli-param_negative_beta", ["--loss", "smooth_l1", "-P", "loss.beta=-1"], None,
     ["smooth_l1", "beta", "-1", ">= 0"]),
    ("cli-param_momentum_text", ["-P", "optimizer.momentum=abc"], None, ["sgd", "momentum", "'abc'", "a real number"]),
    ("cli-param_gamma_above_1", ["-P", "schedule.gamma=2"], None, ["step_decay", "gamma", "2", "<= 1"]),
    ("cli-param_unknown_keyword", ["-P", "optimizer.momentun=0.9"], None,
     ["'momentun'", "sgd", "Did you mean 'momentum'"]),
    ("cli-param_alpha_wrong_type", ["--activation", "leaky_relu", "-P", "activation.alpha=\"x\""], None,
     ["leaky_relu", "alpha", "'x'", "a real number"]),
    ("cli-csv_ragged_row", ["--data", "{data}"], "a,b,y\n1,2,0\n1,2\n", ["line 3", "2 values", "3 columns"]),
    ("cli-csv_missing_column", ["--data", "{data}", "--target", "label"], "a,b,y\n1,2,0\n",
     ["'label'", "not in the header", "columns: a, b, y"]),
    ("cli-csv_nan_cell", ["--data", "{data}"], "a,b,y\n1,nan,0\n", ["line 2", "'nan'", "finite number"]),
    ("cli-csv_text_cell", ["--data", "{data}"], "a,b,y\n1,x,0\n", ["line 2", "'x'", "not a number"]),
    ("cli-csv_single_class", ["--data", "{data}"], "a,y\n" + "1,0\n" * 8, ["single class", "(0)", "two"]),
    ("cli-data_missing_file", ["--data", "missing-file.csv"], None, ["--data", "missing-file.csv", "cannot be read"]),
    ("cli-data_wrong_extension", ["--data", "data.json"], None, ["--data", "data.json", ".csv or .npz"]),
    ("cli-target_without_data", ["--target", "x"], None, ["--target", "--data"]),
    ("cli-csv_batch_size_larger_than_data", ["--data", "{data}", "--batch-size", "64"], GOOD_CSV,
     ["batch_size", "64", "<= 8"]),
    ("cli-npz_X_1d", ["--data", "{data}"], {"X": X0[:, 0], "y": Y0}, ["data.npz", "X", "(12,)", "2-D"]),
    ("cli-npz_missing_y", ["--data", "{data}"], {"X": X0}, ["data.npz", "['y']", "holds ['X']"]),
    ("cli-npz_X_complex", ["--data", "{data}", "--batch-size", "2"], {"X": X0 + 1j, "y": Y0},
     ["'X'", "'<c16'", "allowed: '<f4', '<f8'"]),
]


@pytest.mark.parametrize("argv, text, fragments", [pytest.param(a, t, f, id=i) for i, a, t, f in CLI])
def test_cli_bad_input_is_one_line_and_status_2(argv, text, fragments, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if text is not None:
        argv = [_data(tmp_path, text) if a == "{data}" else a for a in argv]
    model = tmp_path / "model.npz"
    assert main(["train", *argv, "--no-progress", "--layers", "4", "--save", str(model)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuroplug train: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"
    assert not model.exists() and not list(tmp_path.glob("*.tmp"))  # nothing written


@pytest.mark.parametrize("argv, fragment", [
    pytest.param(["--lr", "abc"], "argument --lr: invalid float value: 'abc'", id="cli_parse-lr_text"),
    pytest.param(["--epochs", "1.5"], "argument --epochs: invalid int value: '1.5'", id="cli_parse-epochs_float"),
    pytest.param(["--layers", "0"], "layer sizes must be >= 1, got '0'", id="cli_parse-layers_zero"),
    pytest.param(["--layers", "a,b"], "expected comma-separated layer sizes", id="cli_parse-layers_text"),
    pytest.param(["-P", "momentum=0.9"], "expected KIND.NAME=VALUE", id="cli_parse-param_without_kind"),
])
def test_cli_argument_syntax_errors_exit_2_without_traceback(argv, fragment, capsys):
    """Flags that do not even parse are argparse's: usage, then the one error line, status 2."""
    assert main(["train", *argv, "--no-progress"]) == 2  # returned, not raised as SystemExit
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("neuroplug train: error: ") and fragment in last, err
    assert all(line.startswith(("usage:", " ")) for line in err.splitlines()[:-1]), err


# ---------------------------------------------------------------------- what is not bad input
@pytest.mark.parametrize("dtype", [
    pytest.param(np.int64, id="int64"),
    pytest.param(np.uint8, id="uint8"),
    pytest.param(np.float16, id="float16"),
    pytest.param(np.bool_, id="bool"),
])
def test_integer_and_bool_features_are_accepted_by_fit_and_predict(dtype):
    """Integer features (pixel counts, one-hot codes) are ordinary numpy data: converted exactly to the
    network's dtype, in fit and in predict alike. Integer *labels* are the classification target."""
    X = (np.abs(X0) * 3).astype(dtype)
    net = make_net()
    npl.fit(net, X, Y0, loss="cross_entropy", lr=0.1, epochs=1, batch_size=4)
    out = net.predict(X)
    assert out.shape == (N, C) and np.isfinite(out).all()
    np.testing.assert_array_equal(out, net.predict(X.astype(net.dtype)))


def test_the_tables_cover_every_class_of_the_issue():
    ids = [c.id for c in FIT_AND_CALL_CASES] + [c.id for c in CSV + DATAFILE] + [c[0] for c in CLI]
    classes = {i.split("-", 1)[0] for i in ids}
    assert classes >= {"nan_inf", "rank", "xy_mismatch", "width", "labels", "empty", "dtype", "lr", "batch_size",
                       "epochs", "component_params", "schedule_value", "csv", "cli"}
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    # every built-in component has at least its unknown-keyword case
    for entry in _builtin_entries():
        assert f"component_params-{entry.kind}.{entry.name}.unknown_keyword" in ids
