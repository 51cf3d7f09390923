r"""Spec checks for losses :math:`L(\hat y, y)`.

Contract checks (every loss): interface, shape and dtype, no mutation, determinism,
finiteness at extreme inputs, config round trip, gradient against central
differences, the fused gradient of a declared ``link``, and the reductions.
Formula checks (components claiming ``mse``, ``smooth_l1`` or ``cross_entropy``)
and the chain rule through a small network trained with the loss.

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
``link == "sigmoid"``; and real, probabilities, labels otherwise. So a third-party
loss tells the suite what it wants through ``link``, ``implements`` and by
validating its targets in ``prepare_targets``: a classification loss without a
softmax link should reject real-valued targets there (the base implementation
accepts any ``(N, C)`` array).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .framework import (catching_warnings, Subject, assert_close, away_from_kinks, central_difference, fail, rebuild_from_config,
                        signature_params, skip,
                        spec_check)

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
    elif _link(loss) == "sigmoid":
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


@spec_check("LOSS-DETERMINISTIC", "loss", layer="contract", title="deterministic and stateless",
            formula=r"L(\hat y, y),\ \nabla L \text{ bit-identical across calls, instances and histories}",
            notes=("loss_minimization",))
def check_loss_deterministic(subject: Subject) -> None:
    r"""The same inputs give bit-identical ``forward`` and ``gradient`` results on repeated calls,
    after calls on other inputs and on a fresh instance (a 64x3 batch, float64): no
    ``np.random`` (no random summation order either), no hidden state.
    """
    loss = subject.new()
    y_pred, y, _ = _inputs(loss, subject, 30, n=64)
    other_pred, other_y, _ = _inputs(loss, subject, 31, n=64)
    v1 = loss.forward(y_pred.copy(), _copy(y))
    g1 = loss.gradient(y_pred.copy(), _copy(y))
    fix = ("forward() and gradient() must give bit-identical results for the same inputs on every call and "
           "every instance: do not use np.random or keep state between calls")
    for label, instance in (("the same instance, after calls on other inputs", loss), ("a fresh instance", None)):
        inst = instance if instance is not None else subject.new()
        for _ in range(2):
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

    ``forward``, ``gradient`` and ``fused_gradient`` are checked.
    """
    loss = subject.new()
    fix = ("Use a numerically stable formula: clip probabilities before log/division, use logaddexp/"
           "log-sum-exp for logits, and avoid exp/cosh of large arguments")
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        y_pred, y, what = _extreme_inputs(loss, subject, dtype)
        calls = [("forward", loss.forward), ("gradient", loss.gradient)]
        if _link(loss):
            calls.append(("fused_gradient", loss.fused_gradient))
        for method_name, method in calls:
            out = catching_warnings(f"{method_name}() on {name} {what}", fix,
                                     lambda: method(y_pred.copy(), _copy(y)))
            out = np.asarray(out, dtype=np.float64)
            if not np.all(np.isfinite(out)):
                i = np.unravel_index(int(np.argmin(np.isfinite(out))), out.shape) if out.ndim else ()
                fail(f"{method_name}() is not finite on {name} {what}. {fix}", expected="finite values",
                     found=repr(out[i]), where=f"y_pred row {y_pred[i[0]].tolist() if i else y_pred.tolist()}")


@spec_check("LOSS-CONFIG-ROUNDTRIP", "loss", layer="contract", title="config round-trips through JSON",
            formula=r"\text{create}(\text{name}, \text{json}(\text{get\_config}())) \equiv L",
            notes=("loss_minimization",), tolerance="rtol 1e-12 (float64)")
def check_loss_config_roundtrip(subject: Subject) -> None:
    r"""``get_config()`` is a JSON-serialisable dict; the loss rebuilt from the decoded config --
    by its registered name through ``neuroplug.registry.create``, or with ``type(c).from_config``
    when unregistered -- has the same config and the same ``forward``, ``gradient`` (and
    ``fused_gradient``) within ``rtol = 1e-12``, on predictions of scale 3 (so that thresholds
    such as a Smooth L1 ``beta`` matter).
    """
    loss = subject.new()
    rebuilt, how = rebuild_from_config(subject, loss)
    fix = ("the rebuilt loss differs: store every constructor parameter as an attribute of the same name "
           "(get_config() reads them back), or override get_config()")
    y_pred, y, _ = _inputs(loss, subject, 50, scale=3.0)
    methods = ["forward", "gradient"] + (["fused_gradient"] if _link(loss) else [])
    for m in methods:
        expected = np.asarray(getattr(loss, m)(y_pred.copy(), _copy(y)), dtype=np.float64)
        found = np.asarray(getattr(rebuilt, m)(y_pred.copy(), _copy(y)), dtype=np.float64)
        assert_close(found, expected, rtol=1e-12, atol=1e-300, what=f"{m}() of {how}",
                     inputs=y_pred if expected.shape == y_pred.shape else None, fix=fix)


@spec_check("LOSS-GRAD", "loss", layer="contract", title="gradient matches central differences",
            formula=r"\frac{\partial L}{\partial \hat y_i} \approx \frac{L(\hat y + h e_i) - L(\hat y - h e_i)}{2h}",
            notes=("chain_rule", "loss_minimization"),
            tolerance="|err| <= 1e-6 |num| + 32 eps64 max(1, |L|) / (2h), h = 1e-6, float64")
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
    """
    loss = subject.new()
    y_pred, y, _ = _inputs(loss, subject, 60)
    value = _total(loss.forward(y_pred.copy(), _copy(y)))
    g = loss.gradient(y_pred.copy(), _copy(y))
    num = central_difference(lambda x: _total(loss.forward(x.copy(), _copy(y))), y_pred, H)
    assert_close(g, num, rtol=1e-6, atol=32 * EPS64 * max(1.0, abs(value)) / (2 * H),
                 what="gradient(y_pred, y_true) vs central differences of forward()", inputs=y_pred,
                 fix="gradient() does not match numerical differentiation of forward(): check the derivative "
                     "formula and its reduction factor (1/n for 'mean')")


@spec_check("LOSS-FUSED", "loss", layer="contract", title="fused gradient equals the chain rule through the link",
            formula=r"\text{fused}(a, y) = \text{act.backward}(z, a, \nabla_a L(a, y)),\ a = \text{link}(z)",
            notes=("chain_rule",), tolerance="rtol 1e-9, atol 1e-12 (float64)")
def check_loss_fused(subject: Subject) -> None:
    r"""A loss with a ``link`` ("softmax", "sigmoid") supplies ``fused_gradient(a, y)``, which
    the training loop uses instead of backpropagating ``gradient(a, y)`` through the output
    activation. It must equal that chain rule: for logits :math:`z` ~ N(0, 1) (6 x 3),
    :math:`a = \text{link}(z)` with the built-in activation of that name
    (``neuroplug.create("activation", link)``),

    .. math:: \text{fused\_gradient}(a, y) = \text{act.backward}(z, a, \text{gradient}(a, y))

    e.g. :math:`(a - y)/N` for softmax + cross-entropy. Tolerance ``rtol = 1e-9``, ``atol = 1e-12``
    (two float64 evaluations of the same quantity; the unfused one divides by :math:`a`).
    Skipped for a loss without a link.
    """
    loss = subject.new()
    link = _link(loss)
    if link is None:
        skip("declares no link (no fused gradient with an output activation)")
    act = _fused_activation(link)
    if act is None:
        skip(f"no activation is named after its link {link!r}")
    rng = subject.rng(70)
    z = rng.normal(size=(N_SAMPLES, N_CLASSES))
    a = np.asarray(act.forward(z.copy()), dtype=np.float64)
    _, _, y = _targets(loss, subject, rng, N_SAMPLES, N_CLASSES, np.float64)
    expected = act.backward(z.copy(), a.copy(), loss.gradient(a.copy(), _copy(y)))
    found = loss.fused_gradient(a.copy(), _copy(y))
    assert_close(found, expected, rtol=1e-9, atol=1e-12, what=f"fused_gradient(a, y) with a = {link}(z)", inputs=z,
                 fix=f"fused_gradient() must equal the chain rule {link}.backward(z, a, gradient(a, y)) -- including "
                     f"the reduction factor (1/N for 'mean')")


@spec_check("LOSS-REDUCTION", "loss", layer="contract", title="reductions agree: none, sum, mean",
            formula=r"L_{\rm sum} = \sum L_{\rm none},\ L_{\rm mean} = L_{\rm sum}/k,\ "
                    r"\nabla L_{\rm none} = \nabla L_{\rm sum} = k\,\nabla L_{\rm mean},\ k = \#L_{\rm none}",
            notes=("loss_minimization",), tolerance="rtol 1e-12 (float64)")
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
      label (a non-None ``weight`` or ``ignore_index`` attribute), whose "mean" is a weighted mean
      (PyTorch's convention).

    Tolerance ``rtol = 1e-12``. Skipped for a loss without a ``reduction`` parameter, or one not
    accepting all three values.
    """
    if not _reduction_param(subject):
        skip("has no reduction parameter")
    losses = {}
    for r in ("none", "sum", "mean"):
        try:
            losses[r] = subject.new(reduction=r)
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
    fix = ("the reductions disagree: 'sum' must add up the values of 'none', and 'mean' must divide that sum by "
           "their count (elements for element-wise losses, samples for per-sample losses) -- loss and gradient alike")
    scale = float(np.sum(np.abs(none)))
    total, mean = float(values["sum"]), float(values["mean"])
    assert_close(total, float(np.sum(none)), rtol=1e-12, atol=1e-14 * scale,
                 what="forward() with reduction='sum' vs the sum of reduction='none'", fix=fix)
    assert_close(grads["none"], grads["sum"], rtol=1e-12, atol=1e-300,
                 what="gradient() with reduction='none' vs 'sum'", inputs=y_pred, fix=fix)
    weighted = any(getattr(losses["mean"], a, None) is not None for a in ("weight", "ignore_index"))
    k = total / mean if mean != 0 else float(count)
    if not weighted:
        assert_close(mean, total / count, rtol=1e-12, atol=1e-14 * scale / count,
                     what=f"forward() with reduction='mean' vs sum / {count} (the number of values of 'none')",
                     fix=fix)
    assert_close(grads["sum"], k * grads["mean"], rtol=1e-12, atol=1e-300,
                 what=f"gradient() with reduction='sum' vs {k:.6g} x reduction='mean' (the factor between the "
                      f"'sum' and 'mean' losses)", inputs=y_pred, fix=fix)


# ---------------------------------------------------------------------------------------------
# formula checks


def _claims(subject: Subject, formula: str) -> None:
    if formula not in subject.implements:
        skip(f"claims no {formula} formula (neither registered under that built-in name nor implements={formula!r})")


@spec_check("LOSS-MSE-VALUE", "loss", layer="formula", title="mse: the mean of squared differences",
            formula=r"L = \frac1n \sum_{i=1}^n (\hat y_i - y_i)^2", notes=("mse",), tolerance="rtol 1e-13 (float64)")
def check_loss_mse_value(subject: Subject) -> None:
    r"""A component claiming ``mse`` (with reduction "mean" when it has that parameter) returns
    :math:`\frac1n\sum_i(\hat y_i - y_i)^2` over all :math:`n` entries, computed here with an exactly
    rounded sum, on random float64 batches of shapes (6, 3), (5, 1) and (1, 4) and scales 1e-3,
    1 and 1e3. Tolerance ``rtol = 1e-13`` (summation rounding of :math:`n \le 18` positive terms).
    """
    _claims(subject, "mse")
    loss = _with_reduction(subject, "mean")
    rng = subject.rng(90)
    for shape in ((6, 3), (5, 1), (1, 4)):
        for scale in (1e-3, 1.0, 1e3):
            y_pred = rng.normal(0.0, scale, size=shape)
            y_true = rng.normal(0.0, scale, size=shape)
            y = loss.prepare_targets(y_true.copy(), shape[1], np.float64)
            d = y_pred - np.asarray(y, dtype=np.float64)
            expected = math.fsum((d * d).ravel()) / d.size
            found = loss.forward(y_pred.copy(), _copy(y))
            assert_close(float(found), expected, rtol=1e-13, atol=0.0,
                         what=f"mse on a {shape} batch of scale {scale:g}",
                         fix="a component claiming mse must return the mean of squares of the differences, "
                             "mean over all entries of (y_pred - y_true)^2 -- not their sum, not absolute values")


@spec_check("LOSS-MSE-NONNEG-ZERO", "loss", layer="formula",
            title="mse: non-negative, exactly 0 at a perfect prediction, positive otherwise",
            formula=r"L \ge 0,\quad L(y, y) = 0,\quad \hat y \ne y \Rightarrow L > 0",
            notes=("mse", "loss_minimization"))
def check_loss_mse_nonneg_zero(subject: Subject) -> None:
    r"""Squaring overcomes negative deviations: for a component claiming ``mse``, on 20 random
    batches (shapes up to 6 x 3, scales 1e-3 to 1e3, float64), :math:`L(\hat y, y) \ge 0`;
    :math:`L(y, y) = 0.0` exactly (the minimum is attained at a perfect prediction); and
    moving a single entry of a perfect prediction by :math:`10^{-3}\,\max(1, |y|)` (either sign) gives
    :math:`L > 0`.
    """
    _claims(subject, "mse")
    loss = _with_reduction(subject, "mean")
    rng = subject.rng(100)
    fix = ("a component claiming mse must be a mean of squares: never negative (negative deviations must not "
           "cancel positive ones), exactly 0 for y_pred == y_true and positive otherwise")
    for k in range(20):
        shape = (int(rng.integers(1, 7)), int(rng.integers(1, 4)))
        scale = 10.0 ** rng.uniform(-3, 3)
        y_true = rng.normal(0.0, scale, size=shape)
        y = loss.prepare_targets(y_true.copy(), shape[1], np.float64)
        y_pred = rng.normal(0.0, scale, size=shape)
        value = float(loss.forward(y_pred.copy(), _copy(y)))
        if not value >= 0.0:
            fail(f"mse is negative. {fix}", expected=">= 0", found=repr(value), where=f"y_pred={y_pred.tolist()}, "
                 f"y_true={y_true.tolist()}")
        perfect = np.array(y, dtype=np.float64, copy=True)
        value = float(loss.forward(perfect.copy(), _copy(y)))
        if value != 0.0:
            fail(f"mse at a perfect prediction (y_pred == y_true) is not exactly 0. {fix}", expected="0.0",
                 found=repr(value), where=f"y_true={y_true.tolist()}")
        i = tuple(int(rng.integers(0, s)) for s in shape)
        moved = perfect.copy()
        moved[i] += (1e-3 if k % 2 else -1e-3) * max(1.0, abs(moved[i]))
        value = float(loss.forward(moved, _copy(y)))
        if not value > 0.0:
            fail(f"mse is not positive for an imperfect prediction. {fix}", expected="> 0", found=repr(value),
                 where=f"y_true={y_true.tolist()}, entry {i} moved by 1e-3")


def _beta(subject: Subject, loss: Any) -> float:
    beta = getattr(loss, "beta", 1.0)
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        fail("the beta attribute of a smooth_l1 loss must be a number", found=repr(beta))
    if not math.isfinite(beta) or beta <= 0:
        skip(f"beta = {beta}: the quadratic zone is empty (pure L1), this formula does not apply")
    return beta


def _pointwise(loss: Any, d: np.ndarray, y_true: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """``(d_actual, l(d), l'(d))``: the loss of single (1, 1) predictions y_true + d (its reduction is moot)."""
    y_true = np.zeros_like(d) if y_true is None else y_true
    values, grads, actual = np.empty_like(d), np.empty_like(d), np.empty_like(d)
    for k in range(d.size):
        t = loss.prepare_targets(np.array([[y_true[k]]]), 1, np.float64)
        p = np.array([[y_true[k] + d[k]]])
        actual[k] = p[0, 0] - float(np.asarray(t).reshape(-1)[0])
        values[k] = _total(loss.forward(p.copy(), _copy(t)))
        grads[k] = float(np.asarray(loss.gradient(p.copy(), _copy(t))).reshape(-1)[0])
    return actual, values, grads


@spec_check("LOSS-SMOOTHL1-QUADRATIC", "loss", layer="formula", title="smooth L1: quadratic below the threshold",
            formula=r"|d| < \beta \Rightarrow \ell(d) = \frac{d^2}{2\beta}", notes=("smooth_l1",),
            tolerance="rtol 1e-12, atol 1e-15 beta (float64)")
def check_loss_smoothl1_quadratic(subject: Subject) -> None:
    r"""A component claiming ``smooth_l1`` is quadratic inside the threshold: for
    :math:`d = \hat y - y` with :math:`|d| < \beta` (31 points in :math:`(-0.98\beta, 0.98\beta)`,
    random targets), the loss of a single prediction is :math:`\ell(d) = d^2/(2\beta)`; :math:`\beta` is
    the component's ``beta`` attribute, 1.0 when it has none (the notes' threshold
    :math:`|d| = 1`). Tolerance ``rtol = 1e-12``, ``atol = 1e-15 beta``.
    """
    _claims(subject, "smooth_l1")
    loss = _with_reduction(subject, "sum")
    beta = _beta(subject, loss)
    d = beta * np.concatenate([np.linspace(-0.98, 0.98, 29), [1e-3, -1e-3]])
    y_true = subject.rng(110).normal(size=d.size)
    actual, values, _ = _pointwise(loss, d, y_true)
    assert_close(values, actual * actual / (2 * beta), rtol=1e-12, atol=1e-15 * beta,
                 what=f"smooth_l1 for |d| < beta = {beta:g}", inputs=actual,
                 fix="a component claiming smooth_l1 must be d^2 / (2 beta) below the threshold beta, for "
                     "|d| < beta (note the factor 1/2)")


@spec_check("LOSS-SMOOTHL1-LINEAR", "loss", layer="formula",
            title="smooth L1: absolute error minus a constant above the threshold",
            formula=r"|d| > \beta \Rightarrow \ell(d) = |d| - c", notes=("smooth_l1",),
            tolerance="spread of |d| - l(d) <= 8 eps64 max|d| + 1e-12 beta (float64)")
def check_loss_smoothl1_linear(subject: Subject) -> None:
    r"""Above the threshold a component claiming ``smooth_l1`` is the absolute error less a
    constant: for :math:`|d| > \beta` (both signs, :math:`|d|/\beta` from 1.001 to 100 and
    :math:`|d|` up to :math:`10^4`), :math:`c(d) = |d| - \ell(d)` is the same constant :math:`c` (so the
    slope is exactly 1; the notes' "absolute error when the absolute difference is > 1").
    Tolerance: the spread :math:`\max c - \min c \le 8\,\varepsilon_{64}\max|d| + 10^{-12}\beta` (rounding
    of :math:`|d|`).
    """
    _claims(subject, "smooth_l1")
    loss = _with_reduction(subject, "sum")
    beta = _beta(subject, loss)
    mags = np.concatenate([beta * np.array([1.001, 1.01, 1.1, 1.5, 2.0, 3.0, 10.0, 100.0]),
                           np.array([1e3, 1e4])])
    mags = mags[mags > beta * 1.0005]
    d = np.concatenate([mags, -mags])
    y_true = subject.rng(120).normal(size=d.size)
    actual, values, _ = _pointwise(loss, d, y_true)
    c = np.abs(actual) - values
    spread = float(c.max() - c.min())
    allowed = 8 * EPS64 * float(np.max(np.abs(actual))) + 1e-12 * beta
    if not spread <= allowed:
        i, j = int(np.argmin(c)), int(np.argmax(c))
        fail(f"smooth_l1 above the threshold beta = {beta:g} is not |d| minus a constant: |d| - loss(d) varies by "
             f"{spread:.3g} (allowed {allowed:.3g}). A component claiming smooth_l1 must grow exactly like the "
             f"absolute error (slope 1) for |d| > beta",
             expected="the same |d| - loss(d) everywhere", found=f"{c[i]:.17g} at d = {actual[i]:.6g} and "
             f"{c[j]:.17g} at d = {actual[j]:.6g}", where=f"d = {actual[i]:.17g}")


@spec_check("LOSS-SMOOTHL1-C1", "loss", layer="formula",
            title="smooth L1: continuous value and first derivative at the threshold",
            formula=r"\lim_{d \to \beta^-} (\ell, \ell')(d) = \lim_{d \to \beta^+} (\ell, \ell')(d)",
            notes=("smooth_l1",),
            tolerance="value: 4 delta^2 / beta + 16 eps64 (1 + beta); slope: 4 delta / beta + 16 eps64; "
                      "delta = 1e-6 beta")
def check_loss_smoothl1_c1(subject: Subject) -> None:
    r"""A component claiming ``smooth_l1`` joins its quadratic and linear parts smoothly at
    :math:`d = \pm\beta`: the one-sided limits of the value and of the first derivative agree.

    With :math:`\delta = 10^{-6}\beta` and the component's ``gradient`` :math:`\ell'`, the first-order
    extrapolations :math:`\ell(\beta+\delta) - \delta\ell'(\beta+\delta)` and
    :math:`\ell(\beta-\delta) + \delta\ell'(\beta-\delta)` of the two sides must agree within
    :math:`4\delta^2/\beta` (twice the Taylor remainder bound :math:`\delta^2\max|\ell''|/2`,
    :math:`\max|\ell''| = 1/\beta`) plus a rounding allowance :math:`16\varepsilon_{64}(1 + \beta)`; the slopes
    :math:`\ell'(\beta \pm \delta)` within :math:`4\delta/\beta + 16\varepsilon_{64}`. Same at :math:`-\beta`.
    A jump in value (a wrong offset) or in slope (a missing 1/2) is many orders larger.
    """
    _claims(subject, "smooth_l1")
    loss = _with_reduction(subject, "sum")
    beta = _beta(subject, loss)
    delta = 1e-6 * beta
    for side in (1.0, -1.0):
        d = side * np.array([beta - delta, beta + delta])  # inside, outside
        actual, values, grads = _pointwise(loss, d)
        step_in, step_out = abs(actual[0]) - beta, abs(actual[1]) - beta  # signed distances to the threshold
        inner = values[0] - step_in * side * grads[0]  # extrapolated to |d| = beta from inside
        outer = values[1] - step_out * side * grads[1]
        allowed = 4 * delta * delta / beta + 16 * EPS64 * (1 + beta)
        if not abs(outer - inner) <= allowed:
            fail(f"smooth_l1 jumps in value at d = {side * beta:g} (the threshold beta): the quadratic and the "
                 f"linear part must meet, i.e. the offset above the threshold must be beta/2 (continuous value)",
                 expected=f"{inner:.17g} (limit from inside)", found=f"{outer:.17g} (limit from outside)",
                 where=f"d = {side * beta:.17g}")
        allowed = 4 * delta / beta + 16 * EPS64
        if not abs(grads[1] - grads[0]) <= allowed:
            fail(f"the slope of smooth_l1 jumps at d = {side * beta:g} (the threshold beta): d/beta inside must reach "
                 f"+-1 at the threshold, the slope of the absolute error (continuous first derivative)",
                 expected=f"{grads[0]:.17g} (slope just inside)", found=f"{grads[1]:.17g} (slope just outside)",
                 where=f"d = {side * beta:.17g}")


@spec_check("LOSS-SMOOTHL1-BOUNDED-GRAD", "loss", layer="formula",
            title="smooth L1: gradient magnitude at most 1 (no exploding gradient)",
            formula=r"\left|\frac{\partial L_{\rm sum}}{\partial \hat y_i}\right| \le 1", notes=("smooth_l1",),
            tolerance="1 + 4 eps64")
def check_loss_smoothl1_bounded_grad(subject: Subject) -> None:
    r"""Smooth L1 prevents exploding gradients: with reduction "sum" (or on single predictions,
    where every reduction agrees), every entry of the gradient satisfies
    :math:`|\partial L/\partial \hat y_i| \le 1` for differences :math:`|d|` from :math:`10^{-3}` to
    :math:`10^4` (both signs, around and far beyond the threshold, plus 20 random ones).
    Tolerance :math:`1 + 4\varepsilon_{64}`.
    """
    _claims(subject, "smooth_l1")
    loss = _with_reduction(subject, "sum")
    beta = float(getattr(loss, "beta", 1.0)) if isinstance(getattr(loss, "beta", 1.0), (int, float)) else 1.0
    mags = np.concatenate([[1e-3, 0.5, 0.999, 1.0, 1.001, 2.0, 10.0, 100.0, 1e3, 1e4],
                           beta * np.array([0.5, 0.999, 1.001, 2.0]),
                           10.0 ** subject.rng(130).uniform(-3, 4, size=20)])
    d = np.concatenate([mags, -mags])
    actual, _, grads = _pointwise(loss, d)
    bad = np.abs(grads) > 1 + 4 * EPS64
    if bad.any():
        i = int(np.argmax(np.abs(grads)))
        fail("the gradient of smooth_l1 exceeds 1 in magnitude: above the threshold beta it must be the slope of "
             "the absolute error, +-1, and below it d/beta, so that large errors cannot make gradients explode",
             expected="|dL/dy_pred| <= 1", found=f"{grads[i]:.17g}", where=f"d = {actual[i]:.17g}")


@spec_check("LOSS-CE-VALUE", "loss", layer="formula", title="cross-entropy: -sum y log p, mean over samples",
            formula=r"L = -\frac1N \sum_{i=1}^N \sum_c y_{ic} \log p_{ic}", notes=("cross_entropy",),
            tolerance="rtol 1e-12 (float64)")
def check_loss_ce_value(subject: Subject) -> None:
    r"""A component claiming ``cross_entropy`` (with reduction "mean" when it has that parameter)
    returns :math:`-\frac1N\sum_i\sum_c y_{ic}\log p_{ic}` for one-hot targets given as class labels
    and as one-hot rows, and for soft targets (Dirichlet rows), on 6 samples x 3 classes.
    The predictions are probabilities :math:`p` (softmax of N(0, 1) logits) when the loss's link is
    "softmax"; otherwise they are logits :math:`z` and :math:`\log p = z - \log\sum_k e^{z_k}` is
    computed here stably. Tolerance ``rtol = 1e-12``. The component is checked as configured:
    label smoothing, class weights or an ignored label change the formula, so such a
    configuration fails this check (declare it in ``expected_failed_checks``).
    """
    _claims(subject, "cross_entropy")
    loss = _with_reduction(subject, "mean")
    rng = subject.rng(140)
    n, c = N_SAMPLES, N_CLASSES
    z = rng.normal(size=(n, c))
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    y_pred = np.exp(log_p) if _link(loss) == "softmax" else z
    domain = "probabilities" if _link(loss) == "softmax" else "logits"
    labels = rng.integers(0, c, size=n)
    onehot = np.eye(c)[labels]
    soft = rng.dirichlet(np.ones(c), size=n)
    for what, raw, t in (("class labels", labels, onehot), ("one-hot rows", onehot, onehot),
                         ("soft targets", soft, soft)):
        y = loss.prepare_targets(np.array(raw, copy=True), c, np.float64)
        expected = -float(np.sum(t * log_p)) / n
        found = float(loss.forward(y_pred.copy(), _copy(y)))
        assert_close(found, expected, rtol=1e-12, atol=0.0, what=f"cross_entropy on {domain} with {what}",
                     fix="a component claiming cross_entropy must return -sum_c y_c log p_c averaged over the "
                         "samples (natural log, no clipping of reasonable probabilities)")


@spec_check("LOSS-CE-CONFIDENCE", "loss", layer="formula",
            title="cross-entropy: a confident wrong prediction costs more",
            formula=r"p_{\rm wrong} \uparrow \Rightarrow L \text{ strictly } \uparrow", notes=("cross_entropy",))
def check_loss_ce_confidence(subject: Subject) -> None:
    r"""For a sample whose true class is 0, a component claiming ``cross_entropy`` gives a loss
    that grows strictly as the probability put on a wrong class grows: sweeping
    :math:`p_{\rm wrong}` over 0.05, 0.10, ..., 0.95 in the 3-class rows
    :math:`(0.8(1 - p_{\rm wrong}), p_{\rm wrong}, 0.2(1 - p_{\rm wrong}))` and
    :math:`(0.99(1 - p_{\rm wrong}), 0.01(1 - p_{\rm wrong}), p_{\rm wrong})`, the
    losses are strictly increasing (the notes: greater penalty when incorrect predictions are made
    with higher confidence). Inputs are probabilities for link "softmax", their logs (logits)
    otherwise.
    """
    _claims(subject, "cross_entropy")
    loss = _with_reduction(subject, "mean")
    sweep = np.round(np.arange(0.05, 0.951, 0.05), 10)
    c = 3
    for row in (lambda w: [0.8 * (1 - w), w, 0.2 * (1 - w)], lambda w: [0.99 * (1 - w), 0.01 * (1 - w), w]):
        y = loss.prepare_targets(np.array([0]), c, np.float64)
        values = []
        for w in sweep:
            p = np.array([row(w)], dtype=np.float64)
            y_pred = p if _link(loss) == "softmax" else np.log(p)
            values.append(_total(loss.forward(y_pred, _copy(y))))
        steps = np.diff(values)
        if not np.all(steps > 0):
            k = int(np.argmin(steps))
            fail(f"cross_entropy does not grow strictly with the confidence put on a wrong class ({c} classes, true "
                 f"class 0): a confident wrong prediction must cost more, so the loss may not saturate or decrease "
                 f"as p_wrong grows (do not clip reasonable probabilities)",
                 expected=f"loss(p_wrong={sweep[k + 1]:.2f}) > loss(p_wrong={sweep[k]:.2f}) = {values[k]:.17g}",
                 found=f"{values[k + 1]:.17g}", where=f"row {row(sweep[k + 1])}")


# ---------------------------------------------------------------------------------------------
# the chain rule


@spec_check("CHAIN-RULE-LOSS", "loss", layer="formula", title="backprop of the loss equals central differences",
            formula=r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a}\cdot\frac{\partial a}{\partial w}"
                    r" \approx \frac{L(w+h) - L(w-h)}{2h}", notes=("chain_rule",),
            tolerance="|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h), h = 1e-6, float64")
def check_chain_rule_loss(subject: Subject) -> None:
    r"""A small float64 network 3 -> 4 (tanh) -> C trained with this loss, on 5 samples: the
    gradients of ``net.loss_and_gradients(X, y, loss)`` (backpropagation by the chain rule, with
    the loss's ``gradient`` -- not its fused shortcut) equal central differences of the loss with
    respect to every weight and bias.

    The output activation suits the loss: softmax for link "softmax", sigmoid for link
    "sigmoid", identity otherwise; C = 3 outputs for a classifier (link "softmax" or a claim of
    cross_entropy), 2 otherwise; targets are chosen as in the module
    docstring. For a loss with kinks in :math:`d = \hat y - y`, networks are redrawn (up to 20) until
    every output is at least :math:`10^{-3}` from a kink, else the check is skipped with that reason.
    Tolerance ``|err| <= 1e-6 |num| + 64 eps64 max(1, L)/(2h)``, :math:`h = 10^{-6}`.
    """
    import neuroplug as npl

    loss = subject.new()
    link = _link(loss)
    out_act = link if link in ("softmax", "sigmoid") else "identity"
    c = 3 if _is_classifier(loss, subject) else 2
    sizes = (3, 4, c)
    kinks = _kinks(loss)
    tries = 20
    for attempt in range(tries):
        rng = subject.rng(150 + attempt)
        X = rng.normal(size=(5, sizes[0]))
        weights = [rng.normal(size=(3, 4)) * 0.8, rng.normal(0, 0.5, size=4),
                   rng.normal(size=(4, c)) * 0.8, rng.normal(0, 0.5, size=c)]
        _, raw, y = _targets(loss, subject, rng, 5, c, np.float64)
        net = npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(c, activation=out_act)],
                             input_dim=sizes[0], seed=0, dtype="float64")
        net.set_weights(weights)
        if not kinks or np.shape(y) != (5, c):
            break
        d = net.predict(X) - np.asarray(y, dtype=np.float64)
        if np.array_equal(away_from_kinks(d, kinks, KINK_MARGIN), d):
            break
    else:
        skip(f"a random network's outputs hit a kink {kinks} of the loss in all {tries} tries")
    value, grads = net.loss_and_gradients(X, np.array(raw, copy=True), loss)
    floor = 64 * EPS64 * max(1.0, abs(value)) / (2 * H)
    names = ["W1", "b1", "W2", "b2"]
    for name, p, g in zip(names, net.parameters(), grads):
        orig = p.copy()

        def f(w: np.ndarray, p: np.ndarray = p) -> float:
            p[...] = w
            return _total(loss.forward(net.predict(X), _copy(y)))

        try:
            num = central_difference(f, orig, H)
        finally:
            p[...] = orig
        assert_close(g, num, rtol=1e-6, atol=floor, what=f"dL/d{name} by backpropagation ({out_act} output)",
                     inputs=orig, fix="backpropagating this loss gives wrong weight gradients: gradient() must be "
                                      "dL/dy_pred of forward() (including the 1/n of 'mean'), and forward() and "
                                      "gradient() must not modify y_pred in place (the network reuses it)")
