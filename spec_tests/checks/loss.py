r"""Spec checks for losses :math:`L(\hat y, y)`.

Contract checks (every loss): interface, shape and dtype, no mutation, determinism,
finiteness at extreme inputs, config round trip, gradient against central
differences, the fused gradient of a declared ``link``, and the reductions; those where
a parameter matters (finiteness, round trip, gradient, fused gradient, reductions) run
for every config of :func:`_configs` (the component's own, its declared examples, and
configs drawn from its ``parameter_space`` and from the parameters of the formulas it
claims). Formula checks: ``LOSS-FORMULA`` for every claimed formula of the vocabulary
(:mod:`neuroplug.spec.references.losses`) and config, the notes' checks of ``mse``,
``smooth_l1`` and ``cross_entropy``, and the chain rule through a small network trained
with the loss. Every tolerance is derived from the machine epsilon of the dtype and the
magnitudes involved (each check's docstring says how).

Reductions are never inferred from the presence of a ``reduction`` parameter: a formula
check compares with the config's reduction ("mean", the formulas' default, for a
component without one), and the property checks detect a mean by behaviour (see
:mod:`.properties_loss`). A loss that is simply always mean-reduced is correct.

How a generic check chooses inputs
----------------------------------
*Predictions* follow the loss's ``link``: ``"softmax"`` -- rows of probabilities
(softmax of N(0, 1) logits); ``"sigmoid"`` -- probabilities uniform in (0.02, 0.98);
no link -- real numbers (regression outputs or logits).

*Targets* are chosen by asking the loss itself: candidate raw targets are offered
to ``loss.prepare_targets(y, n_outputs, dtype)`` in order, and the first it accepts
(does not raise for) is used, in the form it returns (the form the training loop
passes to ``forward``/``gradient``). The candidates are

* ``real``: real numbers ~ N(0, 1), shape ``(N, C)`` (regression);
* ``labels``: integer class labels in ``[0, C)``, shape ``(N,)`` (classification);
* ``probabilities``: numbers uniform in [0, 1], shape ``(N, C)`` (binary/soft targets);

tried in the order labels, probabilities, real for a classifier (``link == "softmax"``,
or a claim of the ``cross_entropy`` formula); probabilities, labels, real for
``link == "sigmoid"`` or a claim of ``binary_cross_entropy``; and real, probabilities,
labels otherwise. So a third-party
loss tells the suite what it wants through ``link``, ``implements`` and by
validating its targets in ``prepare_targets``: a classification loss without a
softmax link should reject real-valued targets there (the base implementation
accepts any ``(N, C)`` array).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..framework import (Subject, assert_close, away_from_kinks, catching_warnings, central_difference, fail,
                        rebuild_from_config, signature_params, skip, spec_check)

__all__: list[str] = []

EPS64 = float(np.finfo(np.float64).eps)
#: Step of the central differences (float64).
H = 1e-6
#: Distance kept from declared kinks of d = y_pred - y_true (>> H).
KINK_MARGIN = 1e-3
N_SAMPLES, N_CLASSES = 6, 3


# ---------------------------------------------------------------------------------------------
# inputs


def _kinks(loss: Any) -> tuple[float, ...]:
    """The declared kinks as a tuple of floats (tolerant: LOSS-INTERFACE judges the declaration)."""
    try:
        return tuple(float(k) for k in np.atleast_1d(np.asarray(getattr(loss, "kinks", ()), dtype=np.float64)))
    except (TypeError, ValueError):
        return ()


def _link(loss: Any) -> str | None:
    link = getattr(loss, "link", None)
    return link if isinstance(link, str) else None


def _is_classifier(loss: Any, subject: Subject) -> bool:
    return _link(loss) == "softmax" or "cross_entropy" in subject.implements


def _is_binary(loss: Any, subject: Subject) -> bool:
    return _link(loss) == "sigmoid" or "binary_cross_entropy" in subject.implements


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _predictions(loss: Any, rng: np.random.Generator, n: int, c: int, scale: float = 1.5) -> np.ndarray:
    """float64 predictions in the loss's input domain (see the module docstring)."""
    link = _link(loss)
    if link == "softmax":
        return _softmax(rng.normal(size=(n, c)))
    if link == "sigmoid":
        return rng.uniform(0.02, 0.98, size=(n, c))
    return rng.normal(0.0, scale, size=(n, c))


def _candidates(loss: Any, subject: Subject, rng: np.random.Generator, n: int, c: int) -> list[tuple[str, Any]]:
    real = rng.normal(size=(n, c))
    labels = rng.integers(0, c, size=n)
    probs = rng.uniform(0.0, 1.0, size=(n, c))
    if _is_classifier(loss, subject):
        order = [("labels", labels), ("probabilities", probs), ("real", real)]
    elif _is_binary(loss, subject):
        order = [("probabilities", probs), ("labels", labels), ("real", real)]
    else:
        order = [("real", real), ("probabilities", probs), ("labels", labels)]
    return order


def _targets(loss: Any, subject: Subject, rng: np.random.Generator, n: int, c: int,
             dtype: Any = np.float64) -> tuple[str, Any, Any]:
    """``(kind, raw, prepared)``: the first candidate target that ``prepare_targets`` accepts."""
    problems = []
    for kind, raw in _candidates(loss, subject, rng, n, c):
        try:
            prepared = loss.prepare_targets(np.array(raw, copy=True), c, dtype)
        except Exception as exc:  # noqa: BLE001 - any rejection means "not this kind of target"
            problems.append(f"{kind}: {type(exc).__name__}: {exc}")
            continue
        return kind, raw, prepared
    fail("prepare_targets() accepts none of the candidate targets (real (N, C), class labels (N,), "
         "probabilities (N, C)): accept the targets your loss is meant for", found="; ".join(problems))
    raise AssertionError("unreachable")


def _inputs(loss: Any, subject: Subject, salt: int, n: int = N_SAMPLES, c: int = N_CLASSES,
            dtype: Any = np.float64, scale: float = 1.5) -> tuple[np.ndarray, Any, str]:
    """Predictions (of ``dtype``), prepared targets (of ``dtype``) and the target kind."""
    rng = subject.rng(salt)
    y_pred = _predictions(loss, rng, n, c, scale)
    kind, _, y = _targets(loss, subject, rng, n, c, dtype)
    if np.shape(y) == y_pred.shape and _kinks(loss):
        d = away_from_kinks(y_pred - np.asarray(y, dtype=np.float64), _kinks(loss), KINK_MARGIN)
        y_pred = np.asarray(y, dtype=np.float64) + d
    return y_pred.astype(dtype), y, kind


def _copy(y: Any) -> Any:
    return np.array(y, copy=True)


def _total(value: Any) -> float:
    """The loss as a float (the sum of the values for reduction "none", whose gradient is that of the sum)."""
    return float(np.sum(np.asarray(value, dtype=np.float64)))


def _reduction_param(subject: Subject) -> bool:
    return "reduction" in signature_params(subject.factory)


def _with_reduction(subject: Subject, reduction: str) -> Any:
    """A fresh instance with ``reduction`` when the component has that parameter, else the default instance."""
    return subject.new(reduction=reduction) if _reduction_param(subject) else subject.new()


def _same(found: Any, expected: Any) -> bool:
    found, expected = np.asarray(found), np.asarray(expected)
    return found.shape == expected.shape and found.dtype == expected.dtype and bool(
        np.array_equal(found, expected, equal_nan=True))


def _first_difference(found: Any, expected: Any) -> dict[str, str]:
    found, expected = np.asarray(found), np.asarray(expected)
    if found.shape != expected.shape or found.dtype != expected.dtype:
        return {"expected": f"shape {expected.shape}, dtype {expected.dtype}",
                "found": f"shape {found.shape}, dtype {found.dtype}"}
    if found.ndim == 0:
        return {"expected": repr(expected.item()), "found": repr(found.item())}
    diff = ~((found == expected) | (np.isnan(found) & np.isnan(expected)))
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return {"expected": repr(expected[i]), "found": repr(found[i]), "where": f"index {tuple(int(k) for k in i)}"}


def _configs(subject: Subject) -> list[tuple[str, Any]]:
    """``[(description, instance), ...]``: the subject built with each config of ``subject.configs()`` (its own,
    its declared examples, configs drawn from its ``parameter_space``) and of the parameter spaces of the
    formulas it claims (their examples and drawn configs), so that a parameter the component ignores or
    misuses shows in the contract checks too. A drawn config the constructor rejects is skipped."""
    from ..formulas import get_formula, subject_configs

    configs = subject.configs()
    for name in sorted(subject.implements):
        try:
            f = get_formula(subject.kind, name)
        except KeyError:
            continue
        space = {**f.space, **{k: v for k, v in subject.parameter_space.items() if k in f.defaults}}
        for c in subject_configs(subject, space, f.defaults, f.examples, salt=700 + sum(map(ord, name))):
            if c not in configs:
                configs.append(c)
    out: list[tuple[str, Any]] = [("its own config", subject.new())]
    for c in configs[1:]:
        try:
            instance = subject.factory(**c)
        except (ValueError, TypeError):
            continue
        out.append((f"config {c!r}", instance))
    return out


def _fused_activation(link: str) -> Any:
    """The built-in activation of a link ("softmax", "sigmoid"), or None if no activation has that name."""
    from neuroplug.registry import create

    try:
        return create("activation", link)
    except Exception:  # noqa: BLE001
        return None


# ---------------------------------------------------------------------------------------------
# contract checks


@spec_check("LOSS-INTERFACE", "loss", layer="contract", title="implements the Loss interface",
            formula=r"L: (\hat y, y) \mapsto \mathbb{R},\ \nabla_{\hat y} L", notes=("loss_minimization",))
def check_loss_interface(subject: Subject) -> None:
    r"""The component is a :class:`neuroplug.Loss` that the training loop can use:

    * ``link`` is None or a str, ``kinks`` a tuple of finite floats (values of
      :math:`d = \hat y - y` where the gradient jumps);
    * ``prepare_targets`` accepts some kind of targets (see the module docstring for how the
      suite picks them) and returns something indexable by rows, of length N;
    * ``forward`` returns a value and ``gradient`` an ndarray;
    * a loss declaring a ``link`` implements ``fused_gradient`` (the training loop calls it
      when the output activation has the same link).
    """
    from neuroplug.base import Loss

    loss = subject.new()
    if not isinstance(loss, Loss):
        fail("the component must be an instance of neuroplug.Loss (subclass it)", expected="a Loss",
             found=type(loss).__name__)
    link = getattr(loss, "link", None)
    if link is not None and not isinstance(link, str):
        fail("link must be None or a string naming an activation ('softmax', 'sigmoid')", expected="None or str",
             found=repr(link))
    kinks = getattr(loss, "kinks", ())
    if not isinstance(kinks, tuple) or not all(
            isinstance(k, (int, float, np.floating, np.integer)) and not isinstance(k, bool) and math.isfinite(k)
            for k in kinks):
        fail("kinks must be a tuple of finite numbers (values of d = y_pred - y_true where the gradient jumps), "
             "e.g. (0.0,) -- not a bare number", expected="tuple of finite floats", found=repr(kinks))
    y_pred, y, kind = _inputs(loss, subject, 1)
    try:
        rows = y[np.arange(2)]
    except Exception as exc:  # noqa: BLE001
        fail(f"prepare_targets() must return targets indexable by rows (the training loop takes Y[batch]); "
             f"indexing failed with {type(exc).__name__}: {exc}", found=type(y).__name__)
    if len(y) != y_pred.shape[0] or len(rows) != 2:
        fail("prepare_targets() must keep one target row per sample", expected=str(y_pred.shape[0]), found=str(len(y)))
    loss.forward(y_pred.copy(), _copy(y))
    g = loss.gradient(y_pred.copy(), _copy(y))
    if not isinstance(g, np.ndarray):
        fail("gradient() must return a numpy array", expected="numpy.ndarray", found=type(g).__name__)
    if link is not None:
        try:
            loss.fused_gradient(y_pred.copy(), _copy(y))
        except NotImplementedError:
            fail(f"the loss declares link = {link!r} but does not implement fused_gradient(a, y_true) = dL/dz for "
                 f"a = {link}(z): implement it, or set link = None", expected="fused_gradient()",
                 found="NotImplementedError")


@spec_check("LOSS-SHAPE-DTYPE", "loss", layer="contract", title="gradient keeps shape and dtype; loss is a float",
            formula=r"\operatorname{shape}, \operatorname{dtype}(\nabla_{\hat y} L) = "
                    r"\operatorname{shape}, \operatorname{dtype}(\hat y);\ L \in \mathbb{R}",
            notes=("loss_minimization",))
def check_loss_shape_dtype(subject: Subject) -> None:
    r"""For float32 and float64 predictions (targets prepared in the same dtype):
    ``gradient`` (and ``fused_gradient`` when there is a link) returns an array of the shape and
    dtype of ``y_pred``; ``forward`` returns a finite Python or numpy float (a scalar) unless the
    reduction is ``"none"``. Float32 training must stay float32.
    """
    loss = subject.new()
    reduction = getattr(loss, "reduction", "mean")
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        y_pred, y, _ = _inputs(loss, subject, 10, dtype=dtype)
        value = loss.forward(y_pred.copy(), _copy(y))
        if reduction != "none":
            if not isinstance(value, (float, np.floating)) or not math.isfinite(float(value)):
                fail(f"forward() on {name} inputs must return a finite float for reduction {reduction!r}",
                     expected="a finite Python or numpy float", found=f"{type(value).__name__} {value!r}"[:200])
        outs = [("gradient(y_pred, y_true)", loss.gradient(y_pred.copy(), _copy(y)))]
        if _link(loss):
            outs.append(("fused_gradient(a, y_true)", loss.fused_gradient(y_pred.copy(), _copy(y))))
        for what, g in outs:
            if not isinstance(g, np.ndarray) or g.shape != y_pred.shape or g.dtype != y_pred.dtype:
                found = type(g).__name__ if not isinstance(g, np.ndarray) else f"shape {g.shape}, dtype {g.dtype}"
                fail(f"{what} on {name} predictions of shape {y_pred.shape} must return an array of the same shape "
                     f"and dtype: preserve the input dtype (avoid np.float64 constants and astype(float); plain "
                     f"Python floats keep float32 as float32)",
                     expected=f"shape {y_pred.shape}, dtype {name}", found=found)


@spec_check("LOSS-NO-MUTATION", "loss", layer="contract", title="never modifies predictions or targets",
            formula=r"\hat y, y \text{ unchanged after } L,\ \nabla L,\ \text{prepare\_targets}",
            notes=("loss_minimization",))
def check_loss_no_mutation(subject: Subject) -> None:
    r"""``prepare_targets(y)``, ``forward(y_pred, y)``, ``gradient(y_pred, y)`` and (with a
    link) ``fused_gradient(a, y)`` leave their array arguments bit-for-bit unchanged, in float32
    and float64: the training loop reuses the network output and the targets.
    """
    loss = subject.new()
    for dtype in (np.float32, np.float64):
        rng = subject.rng(20)
        y_pred = _predictions(loss, rng, N_SAMPLES, N_CLASSES).astype(dtype)
        _, raw, y = _targets(loss, subject, rng, N_SAMPLES, N_CLASSES, dtype)
        raw_in = np.array(raw, copy=True)
        loss.prepare_targets(raw_in, N_CLASSES, dtype)
        if not _same(raw_in, raw):
            fail("prepare_targets(y) modified y in place: return a converted copy",
                 **_first_difference(raw_in, raw))
        calls = [("forward", loss.forward), ("gradient", loss.gradient)]
        if _link(loss):
            calls.append(("fused_gradient", loss.fused_gradient))
        for what, method in calls:
            p, t = y_pred.copy(), _copy(y)
            method(p, t)
            for name, before, after in (("y_pred", y_pred, p), ("y_true", y, t)):
                if not _same(after, before):
                    fail(f"{what}(y_pred, y_true) modified {name} in place ({np.dtype(dtype).name}): compute "
                         f"into new arrays and never write into the inputs", **_first_difference(after, before))


#: Calls compared with the first, per instance: a random summation order gives the same float for
#: many orders (up to 9 in 10 on these inputs), so a few calls can miss it -- one CI run did.
_DETERMINISM_REPEATS = 64


@spec_check("LOSS-DETERMINISTIC", "loss", layer="contract", title="deterministic and stateless",
            formula=r"L(\hat y, y),\ \nabla L \text{ bit-identical across calls, instances and histories}",
            notes=("loss_minimization",))
def check_loss_deterministic(subject: Subject) -> None:
    r"""The same inputs give bit-identical ``forward`` and ``gradient`` results on repeated calls,
    after calls on other inputs and on a fresh instance (a 64x3 batch, float64, raw predictions
    and targets scaled row by row by 1, 0.1, 0.01 or 0.001; 64 calls each): no ``np.random``
    (no random summation order either), no hidden state.
    """
    loss = subject.new()
    y_pred, y, kind = _inputs(loss, subject, 30, n=64)
    if _link(loss) is None:  # rows scaled down by up to 1e-3 (never beyond the usual range): the
        # rounding of a sum then depends on its order, so a random summation order shows
        rows = 10.0 ** subject.rng(32).integers(-3, 1, size=(y_pred.shape[0], 1))
        y_pred = y_pred * rows
        if kind == "real" and np.shape(y) == y_pred.shape:
            y = np.asarray(y) * rows.astype(np.asarray(y).dtype)
    other_pred, other_y, _ = _inputs(loss, subject, 31, n=64)
    v1 = loss.forward(y_pred.copy(), _copy(y))
    g1 = loss.gradient(y_pred.copy(), _copy(y))
    fix = ("forward() and gradient() must give bit-identical results for the same inputs on every call and "
           "every instance: do not use np.random or keep state between calls")
    for label, instance in (("the same instance, after calls on other inputs", loss), ("a fresh instance", None)):
        inst = instance if instance is not None else subject.new()
        for _ in range(_DETERMINISM_REPEATS):
            if instance is not None:
                inst.forward(other_pred.copy(), _copy(other_y))
                inst.gradient(other_pred.copy(), _copy(other_y))
            v2 = inst.forward(y_pred.copy(), _copy(y))
            if not _same(v2, v1):
                fail(f"forward() changed on {label}. {fix}", **_first_difference(v2, v1))
            g2 = inst.gradient(y_pred.copy(), _copy(y))
            if not _same(g2, g1):
                fail(f"gradient() changed on {label}. {fix}", **_first_difference(g2, g1))


def _extreme_inputs(loss: Any, subject: Subject, dtype: Any) -> tuple[np.ndarray, Any, str]:
    """Predictions at the edge of the domain: probabilities 0 and 1, or magnitudes up to 1e4."""
    n, c = 12, N_CLASSES
    rng = subject.rng(40)
    kind, raw, _ = _targets(loss, subject, rng, n, c, dtype)
    if kind == "labels":  # put the true class on the zero-probability entries of the rows below
        raw = (np.arange(n) + 1) % c
    elif kind == "probabilities":
        raw = np.resize(np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.7]), (n, c))
    link = _link(loss)
    if link == "softmax":
        rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]]
        y_pred = np.resize(np.array(rows, dtype=np.float64), (n, c))
        what = "probabilities including exact 0 and 1"
    elif link == "sigmoid":
        y_pred = np.resize(np.array([0.0, 1.0, 1.0, 0.0, 0.5, 1e-3]), (n, c))
        what = "probabilities including exact 0 and 1"
    else:
        mags = np.array([1e4, -1e4, 3e3, -1e3, 100.0, -30.0, 1e4, -1e4, 0.5, 1e3, -3e3, 1e4])
        y_pred = np.resize(mags, (n, c)) * np.resize(np.array([1.0, -1.0, 0.7, -0.2]), (n, c))
        if kind == "real":
            y_pred = np.asarray(raw, dtype=np.float64) + y_pred
        what = "predictions (or differences) of magnitude up to 1e4"
    y = loss.prepare_targets(np.array(raw, copy=True), c, dtype)
    return y_pred.astype(dtype), y, what


@spec_check("LOSS-FINITE-LARGE", "loss", layer="contract", title="finite and warning-free at extreme inputs",
            formula=r"|\hat y - y| \le 10^4 \text{ or } p \in \{0, 1\} \Rightarrow L, \nabla L \text{ finite}",
            notes=("loss_minimization",))
def check_loss_finite_large(subject: Subject) -> None:
    r"""At the edge of the input domain the loss and its gradients stay finite and emit no
    warning, in float32 and float64:

    * no link (regression outputs or logits): predictions, and differences to real targets, of
      magnitude up to :math:`10^4` (both signs);
    * ``link`` "softmax"/"sigmoid" (probability inputs): probabilities exactly 0 and 1, with the
      true class (or target 1) on zero-probability entries -- a probability must be clipped
      before its log is taken.

    ``forward``, ``gradient`` and ``fused_gradient`` are checked, for every config (see ``LOSS-GRAD``).
    """
    fix = ("Use a numerically stable formula: clip probabilities before log/division, use logaddexp/"
           "log-sum-exp for logits, and avoid exp/cosh of large arguments")
    for described, loss in _configs(subject):
        _finite_large(subject, loss, described, fix)


def _finite_large(subject: Subject, loss: Any, described: str, fix: str) -> None:
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        y_pred, y, what = _extreme_inputs(loss, subject, dtype)
        calls = [("forward", loss.forward), ("gradient", loss.gradient)]
        if _link(loss):
            calls.append(("fused_gradient", loss.fused_gradient))
        for method_name, method in calls:
            out = catching_warnings(f"{method_name}() on {name} {what} ({described})", fix,
                                     lambda: method(y_pred.copy(), _copy(y)))
            out = np.asarray(out, dtype=np.float64)
            if not np.all(np.isfinite(out)):
                i = np.unravel_index(int(np.argmin(np.isfinite(out))), out.shape) if out.ndim else ()
                fail(f"{method_name}() is not finite on {name} {what} ({described}). {fix}", expected="finite values",
                     found=repr(out[i]), where=f"y_pred row {y_pred[i[0]].tolist() if i else y_pred.tolist()}")


@spec_check("LOSS-CONFIG-ROUNDTRIP", "loss", layer="contract", title="config round-trips through JSON",
            formula=r"\text{create}(\text{name}, \text{json}(\text{get\_config}())) \equiv L",
            notes=("loss_minimization",), tolerance="4 eps64 (|expected| + max |expected|), float64; every config")
def check_loss_config_roundtrip(subject: Subject) -> None:
    r"""``get_config()`` is a JSON-serialisable dict; the loss rebuilt from the decoded config --
    by its registered name through ``neuroplug.registry.create``, or with ``type(c).from_config``
    when unregistered -- has the same config and the same ``forward``, ``gradient`` (and
    ``fused_gradient``), on predictions of scale 3 (so that thresholds such as a Smooth L1
    ``beta`` matter). The same code on the same parameters (JSON round-trips floats exactly)
    gives the same numbers; the tolerance ``4 eps64 (|expected| + max |expected|)`` only allows a
    parameter stored in another but equal form (e.g. ``1/beta`` kept instead of ``beta``).
    Run for every config (see ``LOSS-GRAD``): a parameter lost or misnamed in ``get_config()``
    shows once it differs from its default.
    """
    fix = ("the rebuilt loss differs: store every constructor parameter as an attribute of the same name "
           "(get_config() reads them back), or override get_config()")
    for described, loss in _configs(subject):
        rebuilt, how = rebuild_from_config(subject, loss)
        y_pred, y, _ = _inputs(loss, subject, 50, scale=3.0)
        methods = ["forward", "gradient"] + (["fused_gradient"] if _link(loss) else [])
        for m in methods:
            expected = np.asarray(getattr(loss, m)(y_pred.copy(), _copy(y)), dtype=np.float64)
            found = np.asarray(getattr(rebuilt, m)(y_pred.copy(), _copy(y)), dtype=np.float64)
            assert_close(found, expected, rtol=4 * EPS64, atol=4 * EPS64 * float(np.max(np.abs(expected))),
                         what=f"{m}() of {how} (built with {described})",
                         inputs=y_pred if expected.shape == y_pred.shape else None, fix=fix)


@spec_check("LOSS-GRAD", "loss", layer="contract", title="gradient matches central differences",
            formula=r"\frac{\partial L}{\partial \hat y_i} \approx \frac{L(\hat y + h e_i) - L(\hat y - h e_i)}{2h}",
            notes=("chain_rule", "loss_minimization"),
            tolerance="|err| <= 1e-6 |num| + 32 eps64 max(1, |L|) / (2h), h = 1e-6, float64; every config")
def check_loss_grad(subject: Subject) -> None:
    r"""``gradient(y_pred, y)`` equals central differences of ``forward`` (of the sum of its
    values for reduction "none") in float64, entry by entry, on 6 samples x 3 outputs.

    Inputs as described in the module docstring (predictions in the domain of the ``link``;
    targets the first kind ``prepare_targets`` accepts). Losses declare kinks on the difference
    :math:`d = \hat y - y` (``Loss.kinks``); when the targets have the shape of the predictions,
    :math:`d` is moved at least :math:`10^{-3}` away from them (``away_from_kinks``), far more than the
    step :math:`h = 10^{-6}`.
    Tolerance: ``|err| <= 1e-6 |num| + 32 eps64 max(1, |L|)/(2h)`` -- relative error 1e-6 plus the
    rounding floor of the difference quotient (a few ulps of :math:`L` divided by the step, about
    4e-9); the truncation error :math:`h^2 L'''/6` is below 1e-8 relative for probabilities >= 0.02.

    Run for every config (:func:`_configs`: the component's own, its declared examples and configs
    drawn from its ``parameter_space`` and from the parameters of the formulas it claims), so a
    parameter that ``gradient`` ignores but ``forward`` uses (or the reverse) fails.
    """
    for described, loss in _configs(subject):
        y_pred, y, _ = _inputs(loss, subject, 60)
        value = _total(loss.forward(y_pred.copy(), _copy(y)))
        g = loss.gradient(y_pred.copy(), _copy(y))
        num = central_difference(lambda x, loss=loss, y=y: _total(loss.forward(x.copy(), _copy(y))), y_pred, H)
        assert_close(g, num, rtol=1e-6, atol=32 * EPS64 * max(1.0, abs(value)) / (2 * H),
                     what=f"gradient(y_pred, y_true) vs central differences of forward(), {described}",
                     inputs=y_pred,
                     fix="gradient() does not match numerical differentiation of forward(): check the derivative "
                         "formula, its reduction factor (1/n for 'mean') and that it uses every parameter as "
                         "forward() does")


@spec_check("LOSS-FUSED", "loss", layer="contract", title="fused gradient equals the chain rule through the link",
            formula=r"\text{fused}(a, y) = \text{act.backward}(z, a, \nabla_a L(a, y)),\ a = \text{link}(z)",
            notes=("chain_rule",),
            tolerance="64 eps64 (max |a * gradient(a)| + |expected|), float64; every config")
def check_loss_fused(subject: Subject) -> None:
    r"""A loss with a ``link`` ("softmax", "sigmoid") supplies ``fused_gradient(a, y)``, which
    the training loop uses instead of backpropagating ``gradient(a, y)`` through the output
    activation. It must equal that chain rule: for logits :math:`z` ~ N(0, 1) (6 x 3),
    :math:`a = \text{link}(z)` with the built-in activation of that name
    (``neuroplug.create("activation", link)``),

    .. math:: \text{fused\_gradient}(a, y) = \text{act.backward}(z, a, \text{gradient}(a, y))

    e.g. :math:`(a - y)/N` for softmax + cross-entropy. Tolerance, from rounding-error analysis:
    both sides add up terms no larger than :math:`m = \max_{ij} |a_{ij}\,\text{gradient}(a)_{ij}|`
    (the terms of the softmax/sigmoid backward, e.g. :math:`a \cdot y/a`) and the expected
    entries, each with a relative error of a few :math:`\varepsilon_{64}`, in whatever algebraic
    form (``(a - y)/N`` or ``a sum(y) - y``): ``|found - expected| <= 64 eps64 (m + max|expected|)
    + 64 eps64 |expected|``. Run for every config (see ``LOSS-GRAD``). Skipped for a loss without a link.
    """
    loss = subject.new()
    link = _link(loss)
    if link is None:
        skip("declares no link (no fused gradient with an output activation)")
    act = _fused_activation(link)
    if act is None:
        skip(f"no activation is named after its link {link!r}")
    for described, loss in _configs(subject):
        if _link(loss) != link:
            continue
        rng = subject.rng(70)
        z = rng.normal(size=(N_SAMPLES, N_CLASSES))
        a = np.asarray(act.forward(z.copy()), dtype=np.float64)
        _, _, y = _targets(loss, subject, rng, N_SAMPLES, N_CLASSES, np.float64)
        g = np.asarray(loss.gradient(a.copy(), _copy(y)), dtype=np.float64)
        expected = np.asarray(act.backward(z.copy(), a.copy(), g), dtype=np.float64)
        found = loss.fused_gradient(a.copy(), _copy(y))
        m = float(np.max(np.abs(a * g), initial=0.0))
        assert_close(found, expected, rtol=64 * EPS64, atol=64 * EPS64 * (m + float(np.max(np.abs(expected)))),
                     what=f"fused_gradient(a, y) with a = {link}(z), {described}", inputs=z,
                     fix=f"fused_gradient() must equal the chain rule {link}.backward(z, a, gradient(a, y)) -- "
                         f"including the reduction factor (1/N for 'mean') and every parameter")


@spec_check("LOSS-REDUCTION", "loss", layer="contract", title="reductions agree: none, sum, mean",
            formula=r"L_{\rm sum} = \sum L_{\rm none},\ L_{\rm mean} = L_{\rm sum}/k,\ "
                    r"\nabla L_{\rm none} = \nabla L_{\rm sum} = k\,\nabla L_{\rm mean},\ k = \#L_{\rm none}",
            notes=("loss_minimization",),
            tolerance="values: (n + 8) eps64 sum|none|; gradients: 8 eps64 (|g| + max|g|), float64; every config")
def check_loss_reduction(subject: Subject) -> None:
    r"""For a loss with a ``reduction`` parameter ("mean", "sum", "none", PyTorch's meaning), on
    the same inputs (6 x 3, float64):

    * ``"none"`` returns per-element values (the shape of ``y_pred``) or per-sample values ``(N,)``;
    * ``"sum"`` is their sum, and its ``gradient`` equals the ``"none"`` gradient (the gradient
      of the sum, by the interface's convention);
    * ``"mean"`` is the sum divided by a count :math:`k = L_{\rm sum}/L_{\rm mean}`, and its gradient is
      the "sum" gradient divided by the *same* :math:`k` (loss and gradient reduce alike);
    * :math:`k` is the number of values of ``"none"`` (elements for element-wise losses, samples for
      per-sample ones) -- except for a component configured with class weights or an ignored
      label (a non-None parameter or attribute whose name has "weight" or "ignore" in it, such as
      ``weight``, ``pos_weight``, ``ignore_index``), whose "mean" may be a weighted mean (PyTorch's
      convention; ``LOSS-FORMULA`` checks the exact divisor of a claimed formula).

    Tolerance from rounding-error analysis: a sum of :math:`n` values in any order is off by at most
    :math:`n\varepsilon_{64}\sum|v|`, so values agree within ``(n + 8) eps64 sum|none|`` (and ``/ count``
    for the mean); the gradients are the same numbers up to one division/multiplication by the count,
    within ``8 eps64 (|g| + max|g|)``. Run for every config (see ``LOSS-GRAD``) with its reduction
    replaced by each of the three. Skipped for a loss without a ``reduction`` parameter (there is
    nothing to compare: such a loss is judged as it reduces), or one not accepting all three values.
    """
    if not _reduction_param(subject):
        skip("has no reduction parameter")
    for described, instance in _configs(subject):
        try:
            config = instance.get_config()
        except Exception:  # noqa: BLE001 - LOSS-CONFIG-ROUNDTRIP reports it
            config = subject.config
        _reductions(subject, {k: v for k, v in dict(config).items() if k != "reduction"}, described)


def _weighted(loss: Any, config: dict[str, Any]) -> bool:
    """Whether a config makes "mean" a weighted mean (PyTorch): a non-None class-weight or ignored-label
    parameter (any parameter or attribute whose name has "weight" or "ignore" in it)."""
    names = {k for k in config if "weight" in k or "ignore" in k} | {"weight", "ignore_index"}
    return any(config.get(k, getattr(loss, k, None)) is not None for k in names)


def _reductions(subject: Subject, config: dict[str, Any], described: str) -> None:
    losses = {}
    for r in ("none", "sum", "mean"):
        try:
            losses[r] = subject.factory(**{**config, "reduction": r})
        except Exception as exc:  # noqa: BLE001
            skip(f"does not accept reduction={r!r} ({type(exc).__name__}: {exc})")
    y_pred, y, _ = _inputs(losses["mean"], subject, 80)
    values = {r: losses[r].forward(y_pred.copy(), _copy(y)) for r in losses}
    grads = {r: np.asarray(losses[r].gradient(y_pred.copy(), _copy(y)), dtype=np.float64) for r in losses}
    none = np.asarray(values["none"], dtype=np.float64)
    if none.shape not in (y_pred.shape, (y_pred.shape[0],)):
        fail("forward() with reduction='none' must return per-element values (the shape of y_pred) or per-sample "
             "values (N,)", expected=f"{y_pred.shape} or ({y_pred.shape[0]},)", found=str(none.shape))
    count = none.size
    fix = ("the reductions disagree (forward()/gradient() with the reduction parameter): 'sum' must add up the "
           "values of 'none', and 'mean' must divide that sum by their count (elements for element-wise losses, "
           "samples for per-sample losses) -- loss and gradient alike")
    scale = float(np.sum(np.abs(none)))
    n_eps = (count + 8) * EPS64
    total, mean = float(values["sum"]), float(values["mean"])
    assert_close(total, float(np.sum(none)), rtol=0.0, atol=n_eps * scale,
                 what=f"forward() with reduction='sum' vs the sum of reduction='none' ({described})", fix=fix)
    g_max = float(np.max(np.abs(grads["sum"]), initial=0.0))
    assert_close(grads["none"], grads["sum"], rtol=8 * EPS64, atol=8 * EPS64 * g_max,
                 what=f"gradient() with reduction='none' vs 'sum' ({described})", inputs=y_pred, fix=fix)
    weighted = _weighted(losses["mean"], config)
    k = total / mean if mean != 0 else float(count)
    if not weighted:
        assert_close(mean, total / count, rtol=0.0, atol=n_eps * scale / count,
                     what=f"forward() with reduction='mean' vs sum / {count} (the number of values of 'none'; "
                          f"{described})", fix=fix)
    assert_close(grads["sum"], k * grads["mean"], rtol=8 * EPS64 + n_eps * scale / max(abs(total), 1e-300),
                 atol=8 * EPS64 * g_max,
                 what=f"gradient() with reduction='sum' vs {k:.6g} x reduction='mean' (the factor between the "
                      f"'sum' and 'mean' losses; {described})", inputs=y_pred, fix=fix)
