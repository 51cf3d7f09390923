"""Activation formula checks: each formula of the notes a component claims (tanh, sigmoid, relu; ACT-FORMULA
against the references), and the neuron and the chain rule through a network of it."""

from __future__ import annotations
import math
from typing import Any
import numpy as np
from ..framework import (SpecFailure, Subject, assert_close, away_from_kinks, central_difference,
                        fail, skip, spec_check)
from .activation import (BATCH_ROWS, EPS64, H, KINK_MARGIN, _backward, _derivative, _for_each_config, _forward,
                         _has_derivative, _kinks, _label)

# ---------------------------------------------------------------------------------------------
# formula checks

#: Units of eps64 allowed per unit of the reference's error magnitude (value_scale + |z phi'|, see
#: neuroplug.spec.references.activations): a float64 evaluation in any usual algebraic form commits a
#: few roundings of terms of that size; 16 covers a chain of ~10 operations with room to spare, and is
#: still ten orders of magnitude below a modelling difference (a truncated constant is 3e-5 off).
FORMULA_ULPS = 16
#: Relative perturbation of z used to estimate |z phi''(z)| from the reference derivative.
_COND_STEP = 2.0 ** -20
_FORMULA_TOLERANCE = ("|found - ref| <= 16 eps64 (S(z) + |z| |phi'(z)|) for phi, 16 eps64 (S'(z) + |z| |phi''(z)|) for "
                      "phi' (at a kink: distance to the one-sided values' interval), where S, S' are the magnitudes "
                      "of the terms a float64 evaluation combines (the reference's value_scale/derivative_scale: 1 "
                      "for sigmoid/tanh, |z| for relu/silu/gelu, alpha (1 + e^z) for elu); row-wise: 16 eps64 times "
                      "the reference's scales (p_j (C + |z_j| + max|z|) for softmax); float64")


def _formula_grid() -> np.ndarray:
    """A column of z: a fine grid on [-20, 20] (with the kinks 0 and +-3 exactly), tiny values and large
    magnitudes up to 1e4."""
    big = np.array([25.0, 30.0, 40.0, 50.0, 100.0, 300.0, 700.0, 1e3, 1e4])
    tiny = np.array([1e-12, 1e-8, 1e-4])
    v = np.concatenate([np.linspace(-20.0, 20.0, 161), big, -big, tiny, -tiny, [0.0]])
    return v.reshape(-1, 1)


def _formula_rows(subject: Subject) -> np.ndarray:
    """Rows of 5 for row-wise formulas: random N(0, 9) rows, a constant row, rows with gaps up to 2e4."""
    z = subject.rng(120).normal(0.0, 3.0, size=(6, 5))
    extra = np.array([[7.0, 7.0, 7.0, 7.0, 7.0],
                      [1e3, 0.0, -1e3, 5.0, 999.0],
                      [-1e4, -1e4 + 1.0, -1e4 + 2.0, 3.0, 0.0],
                      [30.0, 29.0, -30.0, 1e-12, 0.0],
                      [1e4, -1e4, 0.0, 0.5, -0.5]])
    return np.concatenate([z, extra])


def _claims(subject: Subject, formula: str) -> None:
    if formula not in subject.implements:
        skip(f"claims no {formula} formula (neither registered under that built-in name nor implements={formula!r})")


def _fmt_row(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(x):.6g}" for x in np.asarray(v).reshape(-1)) + "]"


def _interval_check(found: Any, low: np.ndarray, high: np.ndarray, allowed: np.ndarray, z: np.ndarray, what: str,
                    fix: str, expected_name: str, *, rows: bool = False, g: np.ndarray | None = None) -> None:
    """Fail unless ``low - allowed <= found <= high + allowed`` everywhere; the worst entry is reported with
    its expected value (or interval, at a kink), the value found and its input."""
    found = np.asarray(found, dtype=np.float64)
    if found.shape != low.shape:
        fail(f"{what}: wrong shape. {fix}", expected=str(low.shape), found=str(found.shape))
    if not np.all(np.isfinite(found)):
        i = np.unravel_index(int(np.argmin(np.isfinite(found))), found.shape)
        fail(f"{what}: non-finite value. {fix}", expected=f"{expected_name} = {low[i]:.17g}", found=f"{found[i]!r}",
             where=_where_entry(z, i, rows, g))
    err = np.maximum(low - found, found - high)
    excess = err - allowed
    if np.all(excess <= 0):
        return
    i = np.unravel_index(int(np.argmax(excess)), excess.shape)
    expected = (f"{expected_name} = {low[i]:.17g}" if low[i] == high[i]
                else f"{expected_name} in [{low[i]:.17g}, {high[i]:.17g}] (the one-sided values at a kink)")
    fail(f"{what}: error {err[i]:.3g} exceeds the tolerance {allowed[i]:.3g}. {fix}", expected=expected,
         found=f"{found[i]:.17g}", where=_where_entry(z, i, rows, g))


def _where_entry(z: np.ndarray, i: tuple[int, ...], rows: bool, g: np.ndarray | None) -> str:
    if not rows:
        return f"z = {float(z[i]):.17g}"
    out = f"entry {int(i[1])} of the row z = {_fmt_row(z[i[0]])}"
    return out + (f", upstream g = {_fmt_row(g[i[0]])}" if g is not None else "")


def _kink_sides(formula: Any, params: dict[str, Any], z: np.ndarray, derivative: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """The reference derivative as an interval: at the formula's kinks, from the left to the right limit."""
    low, high = derivative.copy(), derivative.copy()
    kinks = tuple(formula.meta.get("kinks", ()))
    at = np.isin(z, kinks) if kinks else np.zeros(z.shape, dtype=bool)
    if at.any():
        left = formula.reference(np.nextafter(z[at], -np.inf), **params).derivative
        right = formula.reference(np.nextafter(z[at], np.inf), **params).derivative
        low[at], high[at] = np.minimum(left, right), np.maximum(left, right)
    return low, high


def _check_elementwise_formula(act: Any, formula: Any, params: dict[str, Any], label: str, *,
                               derivatives: bool = True) -> None:
    z = _formula_grid()
    ref = formula.reference(z, **params)
    low, high = _kink_sides(formula, params, z, ref.derivative)
    slope = np.maximum(np.abs(low), np.abs(high))
    dz_p = formula.reference(z * (1 + _COND_STEP), **params).derivative
    dz_m = formula.reference(z * (1 - _COND_STEP), **params).derivative
    curvature = np.abs(dz_p - dz_m) / (2 * _COND_STEP)  # ~ |z phi''(z)|
    tol_value = FORMULA_ULPS * EPS64 * (ref.value_scale + np.abs(z) * slope)
    tol_deriv = FORMULA_ULPS * EPS64 * (ref.derivative_scale + curvature)
    a = _forward(act, z)
    _interval_check(a, ref.value, ref.value, tol_value, z, f"{label}: forward(z)",
                    f"forward() must compute {formula.name} ({formula.title}): {formula.latex}, with these parameters",
                    "phi(z)")
    if not derivatives:
        return
    a = np.asarray(a)
    d = _backward(act, z, a, np.ones_like(z))
    _interval_check(d, low, high, tol_deriv, z, f"{label}: phi'(z) = backward(z, a, 1)",
                    "backward() (the default multiplies by derivative()) must return phi'(z) of the formula "
                    "with these parameters: fix derivative() or backward()", "phi'(z)")
    if _has_derivative(act, z, a):
        _interval_check(_derivative(act, z, a), low, high, tol_deriv, z, f"{label}: derivative(z, a)",
                        "derivative() must return phi'(z) of the formula with these parameters: fix derivative()",
                        "phi'(z)")


def _check_rowwise_formula(subject: Subject, act: Any, formula: Any, params: dict[str, Any], label: str) -> None:
    z = _formula_rows(subject)
    g = subject.rng(121).normal(size=z.shape)
    ref = formula.reference(z, g, **params)
    a = _forward(act, z)
    _interval_check(a, ref.value, ref.value, FORMULA_ULPS * EPS64 * ref.value_scale, z, f"{label}: forward(z)",
                    f"forward() must compute {formula.name} ({formula.title}) on each row: {formula.latex}", "phi(z)",
                    rows=True)
    d = _backward(act, z, np.asarray(a), g)
    _interval_check(d, ref.derivative, ref.derivative, FORMULA_ULPS * EPS64 * ref.derivative_scale, z,
                    f"{label}: backward(z, a, g) (the vector-Jacobian product g J)",
                    "backward() must return the vector-Jacobian product of the formula: fix backward()",
                    "(g J)_j", rows=True, g=g)


@spec_check("ACT-FORMULA", "activation", layer="formula",
            title="every claimed formula: values and derivatives equal the reference, for every config",
            formula=r"|\varphi(z) - \varphi_{\rm ref}(z)| \le 16\varepsilon(S(z) + |z\varphi'(z)|),\ "
                    r"|\varphi'(z) - \varphi'_{\rm ref}(z)| \le 16\varepsilon(S'(z) + |z\varphi''(z)|)",
            notes=("activations",), tolerance=_FORMULA_TOLERANCE)
def check_act_formula(subject: Subject) -> None:
    r"""For each formula the component claims (``implements``; the vocabulary and its references are in
    :mod:`neuroplug.spec.references.activations`) and each config of
    :func:`neuroplug.spec.formulas.formula_cases` -- its own, the formula's examples, its
    ``example_configs``, and configs drawn from the parameters' ranges (a parameter its constructor
    does not accept is taken at the formula's default) -- the component computes the formula:

    * element-wise formulas, on a float64 column of 186 points (a grid of [-20, 20] holding the kinks
      0 and :math:`\pm3` exactly, :math:`\pm10^{-12} .. \pm10^{-4}` and :math:`|z|` up to
      :math:`10^4`): ``forward(z)`` equals :math:`\varphi(z)`, and ``backward(z, a, 1)`` (and
      ``derivative(z, a)`` if implemented) equals :math:`\varphi'(z)`; at a kink of the formula
      (``meta["kinks"]``) any value between the one-sided derivatives is accepted;
    * row-wise formulas (softmax, log_softmax), on 11 rows of 5 (random, constant, gaps up to
      :math:`2\cdot10^4`): ``forward`` equals the values and ``backward(z, a, g)`` the
      vector-Jacobian product for a random ``g``.

    Tolerance, from error analysis rather than from our implementation: a float64 evaluation of a
    formula commits roundings of relative size :math:`\varepsilon_{64}` on the terms it combines,
    whose magnitude the reference gives (``value_scale`` :math:`S(z)`, ``derivative_scale``
    :math:`S'(z)`: e.g. 1 for sigmoid, since :math:`(1 + \tanh(z/2))/2` combines terms of size 1;
    :math:`\alpha(1 + e^z)` for ELU's :math:`\alpha e^z - \alpha` and :math:`a + \alpha`), plus the
    rounding of :math:`z` inside it (:math:`\varepsilon|z\varphi'(z)|`, and
    :math:`\varepsilon|z\varphi''(z)|` for the derivative, estimated from the reference). We allow
    :math:`16\varepsilon_{64}` times their sum. References are exact to :math:`10^{-19}` relative
    (extended precision), so a correct component written in any stable form passes, while a
    truncated constant (3e-5), a hard-coded parameter, or :math:`\max(z, \alpha z)` for
    :math:`\alpha > 1` fails, naming the formula, the config and the worst input.
    """
    from ..formulas import formula_cases

    if not subject.implements:
        skip("claims no formula (declare implements=(...) with names of the activation vocabulary)")
    for case in formula_cases(subject):
        label = case.label + (f" (component built with {_label(case.config)})" if case.config else "")
        try:
            if case.formula.meta.get("elementwise", True):
                _check_elementwise_formula(case.component, case.formula, case.params, label)
            else:
                _check_rowwise_formula(subject, case.component, case.formula, case.params, label)
        except Warning as exc:
            fail(f"{label}: the component emitted a warning: {type(exc).__name__}: {exc} -- use a numerically "
                 f"stable formula")


def _named_formula_check(subject: Subject, name: str, fix: str, *, derivatives: bool = False) -> None:
    from ..formulas import get_formula

    _claims(subject, name)
    formula = get_formula("activation", name)
    try:
        _check_elementwise_formula(subject.new(), formula, formula.params(subject.config), f"{name}",
                                   derivatives=derivatives)
    except SpecFailure as exc:
        raise SpecFailure(f"{exc.message}. {fix}", expected=exc.expected, found=exc.found, where=exc.where) from None


@spec_check("ACT-TANH", "activation", layer="formula", title="tanh: values equal the definition",
            formula=r"\varphi(z) = \tanh z = \operatorname{sign}(z)\,\frac{1 - e^{-2|z|}}{1 + e^{-2|z|}}",
            notes=("neuron", "activations"), tolerance="|found - tanh z| <= 16 eps64 (1 + |z| (1 - tanh^2 z)), float64")
def check_act_tanh(subject: Subject) -> None:
    r"""A component claiming ``tanh`` computes :math:`\tanh z`, the activation of the notes'
    example neuron, on a grid of float64 points in [-20, 20] plus tiny values and
    :math:`|z|` up to :math:`10^4`. The reference is :math:`\tanh` in extended precision
    (``references.activations.tanh``). Tolerance from error analysis: the usual forms
    (``np.tanh``, :math:`2\sigma(2z) - 1`, :math:`(1 - e)/(1 + e)` with :math:`e = e^{-2|z|}`)
    combine terms of size up to 1, so they err by a few :math:`\varepsilon_{64}` *absolutely*
    (:math:`2\sigma(2z) - 1` is 9e-17 off at :math:`z = 10^{-12}`), plus the rounding of :math:`z`
    inside them, :math:`\varepsilon|z\tanh'(z)|`: we allow
    :math:`16\varepsilon_{64}(1 + |z|(1 - \tanh^2 z))` (3.6e-15 near 0). A scaled tanh such as
    :math:`1.7159\tanh(2z/3)` is not tanh.
    """
    _named_formula_check(subject, "tanh", "a component claiming tanh must compute exactly tanh(z) = "
                                          "(e^z - e^-z)/(e^z + e^-z), without scaling")


@spec_check("ACT-SIGMOID", "activation", layer="formula", title="sigmoid: values equal the definition",
            formula=r"\varphi(z) = \frac{1}{1 + e^{-z}}", notes=("activations",),
            tolerance="|found - sigma(z)| <= 16 eps64 (1 + |z| sigma(z)(1 - sigma(z))), float64")
def check_act_sigmoid(subject: Subject) -> None:
    r"""A component claiming ``sigmoid`` computes :math:`\sigma(z) = 1/(1 + e^{-z})` on a grid of
    float64 points in [-20, 20], tiny values and :math:`|z|` up to :math:`10^4`, without
    warnings. Reference: :math:`\sigma` in extended precision (``references.activations.sigmoid``).
    Tolerance from error analysis: the usual forms (:math:`1/(1+e^{-z})`, :math:`e^z/(1+e^z)`,
    :math:`(1 + \tanh(z/2))/2`) combine terms of size up to 1, so they err by a few
    :math:`\varepsilon_{64}` absolutely (:math:`(1 + \tanh(z/2))/2` is 4e-17 off at
    :math:`z = -19`), plus :math:`\varepsilon|z\sigma'(z)|` from the rounding of :math:`z`: we allow
    :math:`16\varepsilon_{64}(1 + |z|\sigma(z)(1 - \sigma(z)))`.
    """
    _named_formula_check(subject, "sigmoid", "a component claiming sigmoid must compute 1 / (1 + exp(-z)) "
                                             "(evaluated stably)")


@spec_check("ACT-RELU", "activation", layer="formula", title="relu: values equal the definition",
            formula=r"\varphi(z) = \max(z, 0)", notes=("activations",),
            tolerance="|found - max(z, 0)| <= 16 eps64 |z| (exact in practice), float64")
def check_act_relu(subject: Subject) -> None:
    r"""A component claiming ``relu`` computes :math:`\max(z, 0)` -- ``z`` itself for
    :math:`z > 0` and 0 otherwise (no leak) -- on a grid of float64 points in [-20, 20],
    tiny values and :math:`|z|` up to :math:`10^4`. The usual forms (``maximum``,
    ``z * (z > 0)``, :math:`(z + |z|)/2`) are exact; the tolerance
    :math:`16\varepsilon_{64}|z|` (the terms involved are of size :math:`|z|`) only admits
    rounding, while a leak of slope 0.01 is 13 orders of magnitude above it.
    """
    _named_formula_check(subject, "relu", "a component claiming relu must return max(z, 0): z for z > 0, 0 "
                                          "otherwise (no leak)")


# ---------------------------------------------------------------------------------------------
# the neuron and the chain rule


@spec_check("NEURON-DENSE", "activation", layer="formula", title="a Dense layer computes phi(sum_i x_i w_i + b)",
            formula=r"a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)", notes=("neuron", "layers", "activations"),
            tolerance="per entry: 4 S dz + 16 eps64 (1 + |a|), dz = 2 (n_in + 1) eps64 (sum_i |x_i W_ij| + |b_j|), "
                      "S the largest sensitivity of phi in the row (float64)")
def check_neuron_dense(subject: Subject) -> None:
    r"""The neuron of the notes: a ``neuroplug.Dense`` layer of 3 units with this activation,
    built into a float64 ``neuroplug.Sequential`` with 4 inputs, a random weight matrix and a
    random *non-zero* bias, computes for every sample :math:`k` (96 samples) and unit :math:`j`

    .. math:: a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)

    where the sum over inputs is computed here term by term and :math:`\varphi` is the
    component's own ``forward`` applied to that sample's pre-activations alone. Both
    ``net.predict(X)`` and the training forward pass ``net.forward(X)`` are compared.

    Tolerance from error analysis (float64): the explicit sum and the matrix product each
    round :math:`z` by at most :math:`(n_{in} + 1)\,\epsilon` times
    :math:`\sum_i |x_i W_{ij}| + |b_j|`, so they differ by
    :math:`dz \le 2(n_{in}+1)\epsilon(\sum_i |x_i W_{ij}| + |b_j|)`; :math:`\varphi` passes that on
    multiplied by its sensitivity :math:`S` (the largest :math:`|\Delta\varphi|/(2h)` in the row for a
    random-sign perturbation :math:`\pm h`, :math:`h = 10^{-5}`, taken 4 times for safety), and
    rounds its own result by a few ulps: :math:`|found - expected| \le 4 S\,dz + 16\epsilon(1 + |a|)`.
    Deterministic.
    """
    import neuroplug as npl

    act = subject.new()
    n_in, n_out = 4, 3
    rng = subject.rng(90)
    X = rng.normal(size=(BATCH_ROWS, n_in))
    W = rng.normal(size=(n_in, n_out)) * (1.5 / math.sqrt(n_in))
    b = rng.choice([-1.0, 1.0], size=n_out) * rng.uniform(0.2, 1.0, size=n_out)  # |b| >= 0.2
    layer = npl.Dense(n_out, activation=act)
    net = npl.Sequential([layer], input_dim=n_in, seed=0, dtype="float64")
    net.set_weights([W, b])
    z = np.tile(b, (X.shape[0], 1))
    for i in range(n_in):  # the sum over the inputs, one term at a time
        z = z + X[:, i:i + 1] * W[i:i + 1, :]
    ref = layer.activation
    expected = np.concatenate([np.asarray(_forward(ref, z[k:k + 1]), dtype=np.float64)
                               for k in range(X.shape[0])], axis=0)
    fix = ("phi must be applied to each sample's pre-activations on its own: the result may not depend on the "
           "other samples in the batch or on the batch size")
    dz = 2 * (n_in + 1) * EPS64 * (np.abs(X) @ np.abs(W) + np.abs(b))
    h = 1e-5
    s = rng.choice([-1.0, 1.0], size=z.shape)
    with np.errstate(all="ignore"):
        sens = np.abs(np.asarray(_forward(ref, z + h * s), dtype=np.float64)
                      - np.asarray(_forward(ref, z - h * s), dtype=np.float64)) / (2 * h)
    sens = np.where(np.isfinite(sens), sens, 0.0)
    atol = (4 * sens.max(axis=1, keepdims=True) * dz.max(axis=1, keepdims=True)
            + 16 * EPS64 * (1 + np.abs(expected)))
    found = net.predict(X)
    assert_close(found, expected, rtol=0.0, atol=atol, what="Dense(3, activation=phi).predict(X)", inputs=z,
                 fix=fix)
    found = net.forward(np.ascontiguousarray(X))
    assert_close(found, expected, rtol=0.0, atol=atol, what="the training forward pass net.forward(X)",
                 inputs=z, fix=fix)


@spec_check("CHAIN-RULE-ACT", "activation", layer="formula", title="backprop through the activation equals "
            "central differences", formula=r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a}"
            r"\cdot\frac{\partial a}{\partial w} \approx \frac{L(w+h) - L(w-h)}{2h}",
            notes=("chain_rule",),
            tolerance="|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h), h = 1e-6, float64; every config")
def check_chain_rule_act(subject: Subject) -> None:
    r"""A float64 network 3 -> 4 -> 3 -> 2 whose three Dense layers all use this activation (the
    same instance, as a user would pass it), with an MSE loss
    (``neuroplug.create("loss", "mse")``) on 5 samples: ``net.loss_and_gradients(X, y, loss)``,
    i.e. backpropagation by the chain rule
    :math:`\partial L/\partial w = \partial L/\partial a\cdot\partial a/\partial w` layer by layer,
    equals central differences of the loss with respect to every weight and bias.

    Weights :math:`W \sim N(0, 1.44/\text{fan\_in})`, biases :math:`N(0, 0.25)`. If the activation
    declares ``kinks``, networks are drawn (up to 20) until every pre-activation is at least
    :math:`10^{-3}` from a kink (verified with ``away_from_kinks``), far more than a parameter step
    of :math:`10^{-6}` can move it; otherwise the check is skipped with that reason.
    Tolerance: ``|err| <= 1e-6 |num| + 64 eps64 max(1, L) / (2h)`` (relative error 1e-6 plus the
    rounding floor of the difference quotient of the loss), :math:`h = 10^{-6}`. For the
    component built with each of its configs.
    """
    _for_each_config(subject, lambda act: _chain_rule_act_one(subject, act))


def _chain_rule_act_one(subject: Subject, act: Any) -> None:
    import neuroplug as npl

    kinks = _kinks(act)
    sizes = (3, 4, 3, 2)
    n = 5
    tries = 20
    for attempt in range(tries):
        rng = subject.rng(100 + attempt)
        X = rng.normal(size=(n, sizes[0]))
        y = rng.normal(size=(n, sizes[-1]))
        weights = []
        for fi, fo in zip(sizes[:-1], sizes[1:]):
            weights += [rng.normal(size=(fi, fo)) * (1.2 / math.sqrt(fi)), rng.normal(0.0, 0.5, size=fo)]
        if not kinks:
            break
        a, clear = X, True
        for W, b in zip(weights[::2], weights[1::2]):
            z = a @ W + b
            if not np.array_equal(away_from_kinks(z, kinks, KINK_MARGIN), z):
                clear = False
                break
            a = np.asarray(_forward(act, z), dtype=np.float64)
        if clear:
            break
    else:
        skip(f"a random network hit a kink {kinks} (a pre-activation within {KINK_MARGIN} of it) in all "
             f"{tries} tries")
    net = npl.Sequential([npl.Dense(m, activation=act) for m in sizes[1:]], input_dim=sizes[0], seed=0,
                         dtype="float64")
    net.set_weights(weights)
    loss = npl.create("loss", "mse")
    value, grads = net.loss_and_gradients(X, y, loss)
    names = [f"{p}{i + 1}" for i in range(len(sizes) - 1) for p in ("W", "b")]
    floor = 64 * EPS64 * max(1.0, abs(value)) / (2 * H)
    for name, p, g in zip(names, net.parameters(), grads):
        orig = p.copy()

        def f(w: np.ndarray, p: np.ndarray = p) -> float:
            p[...] = w
            return float(loss.forward(net.predict(X), y))

        try:
            num = central_difference(f, orig, H)
        finally:
            p[...] = orig
        assert_close(g, num, rtol=1e-6, atol=floor, what=f"dL/d{name} by backpropagation", inputs=orig,
                     fix="backpropagation through this activation is wrong: check backward() (phi'(z) times grad, "
                         "including backward(z, a, grad, out=grad), which the network uses) and that forward/"
                         "backward keep no state between layers")
