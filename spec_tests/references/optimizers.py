r"""References of the optimizer formulas (see :mod:`neuroplug.spec.formulas`).

What a reference computes
-------------------------
The optimizer formulas are element-wise: each parameter entry follows its own
trajectory, driven by its own gradients. A reference therefore takes every entry
of every parameter array as one flat vector::

    reference(theta0, grads, lrs, dtype, **params) -> (values, errors)

* ``theta0``: the initial parameters, a float64 vector of ``n`` entries (the values
  the component was given, already rounded to its dtype);
* ``grads``: the gradients, a float64 ``(T, n)`` array, one row per step;
* ``lrs``: the ``T`` learning rates, one per call of ``step`` (they change from step
  to step: an optimizer that caches the first rate, or applies it in the wrong
  place, is caught);
* ``dtype``: the dtype of the parameters and gradients given to the component
  (``float32`` or ``float64``); :math:`u` below is its machine epsilon;
* ``params``: the formula's parameters (see each formula's defaults).

It returns two ``(T, n)`` float64 arrays: ``values[t]``, the parameters after step
``t + 1`` (``setup`` once, then ``step(params, grads[t], lrs[t])`` for each ``t``),
computed in ``numpy.longdouble`` (80-bit extended precision on x86-64; float64
elsewhere, still far within the tolerances) and rounded once; and ``errors[t]``, a
first-order bound on the absolute error that a correct implementation computing in
``dtype`` commits, *in any of the usual algebraic forms*.

The error bound: running error analysis
---------------------------------------
Every quantity of a reference is an :class:`Approx`: its value and a bound on the
absolute error of a dtype computation of it. The inputs (``theta0``, ``grads``) are
exact; a hyper-parameter or learning rate cast to the dtype carries its rounding
error (none in float64: Python floats are float64). Each operation adds :math:`u`
times the magnitude of the *terms* it combines -- not of its result, so that any order or form of a sum (``b m + (1-b) g``
or PyTorch's ``m + (1-b)(g - m)``) is covered, cancellation included -- and
propagates the errors of its operands to first order:

=====================  ===================================================================
:math:`a \pm b`        :math:`e_a + e_b + u(|a| + |b|)`
:math:`a b`            :math:`|a| e_b + |b| e_a + u|ab|`
:math:`a / b`          :math:`e_a/|b| + |a| e_b/b^2 + u|a/b|`
:math:`\sqrt a`        :math:`\min(e_a / 2\sqrt a,\ \sqrt{e_a}) + u\sqrt a`
:math:`b^t`            :math:`t|b|^{t-1} e_b + u\,(t + |t\ln b|)\,|b^t|` (a running product, ``pow``
                       or ``exp(t log b)``)
=====================  ===================================================================

So, for instance, the bias correction :math:`1 - \beta_2^t` of Adam carries a
relative error of about :math:`t\,u\,\beta_2^t / (1 - \beta_2^t)` (1000 u at
:math:`\beta_2 = 0.999`), and a float32 component whose :math:`1 - \beta_2` is
computed from :math:`\beta_2` rounded to float32 is within the bound. The errors
carried by the parameters propagate into later steps through weight decay. The
check ``OPT-FORMULA`` allows 4 times the bound (correct components written in other
forms stay below half of it).

Conventions
-----------
PyTorch's (``torch.optim``), which the built-ins follow: an L2 ``weight_decay`` adds
:math:`\lambda\theta` to the gradient before anything else; a momentum buffer starts
as the first (decayed) gradient; Adam's :math:`\epsilon` is added to
:math:`\sqrt{\hat v_t}`; AdamW decays :math:`\theta \leftarrow \theta(1 - \eta\lambda)`
*before* the Adam step. Parameter names are neuroplug's (``beta1``/``beta2`` for
PyTorch's ``betas``, ``rho`` for RMSprop's ``alpha``). A parameter that a component's
constructor does not accept is taken at its default (e.g. ``dampening = 0``).

``meta["convention"]`` states the convention where textbooks differ; ``OPT-FORMULA``
shows it in its failures.

Nothing here imports ``neuroplug.plugins``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from neuroplug.types import Param

from ..formulas import register_formula

__all__ = ["Approx", "FRACTION", "DECAY", "EPS"]

LD = np.longdouble

#: A decay rate or momentum in [0, 1).
FRACTION = Param.real(0.0, 1.0, high_open=True)
#: A weight decay (L2 or decoupled) >= 0.
DECAY = Param.real(0.0, None, typical=(0.0, 0.5))
#: An epsilon > 0 added to a denominator.
EPS = Param.real(0.0, None, low_open=True, log=True, typical=(1e-10, 1e-2))


class Approx:
    """A value (extended precision) and a bound on the absolute error of computing it in the dtype.

    See the module docstring for the rules. Python numbers and arrays mixed in are
    exact; hyper-parameters are brought in with :meth:`const` (rounded to the dtype).
    """

    __slots__ = ("value", "error", "unit", "dtype")

    def __init__(self, value: Any, error: Any, dtype: Any) -> None:
        self.value = np.asarray(value, dtype=LD)
        self.error = np.asarray(error, dtype=LD)
        self.dtype = np.dtype(dtype)
        #: the machine epsilon of the dtype: each operation errs by at most half of it
        self.unit = float(np.finfo(self.dtype).eps)

    # -- construction
    @classmethod
    def exact(cls, value: Any, dtype: Any) -> "Approx":
        """An input given in the dtype (no error)."""
        return cls(value, 0.0, dtype)

    def const(self, value: Any) -> "Approx":
        """A hyper-parameter or learning rate (a Python float) cast to the dtype: its rounding error."""
        v = np.asarray(value, dtype=np.float64)
        return Approx(v, np.abs(v.astype(self.dtype).astype(LD) - v.astype(LD)), self.dtype)

    def _lift(self, other: Any) -> "Approx":
        return other if isinstance(other, Approx) else Approx(other, 0.0, self.dtype)

    # -- arithmetic
    def __add__(self, other: Any) -> "Approx":
        o = self._lift(other)
        return Approx(self.value + o.value,
                      self.error + o.error + self.unit * (np.abs(self.value) + np.abs(o.value)), self.dtype)

    __radd__ = __add__

    def __neg__(self) -> "Approx":
        return Approx(-self.value, self.error, self.dtype)

    def __sub__(self, other: Any) -> "Approx":
        return self + (-self._lift(other))

    def __rsub__(self, other: Any) -> "Approx":
        return self._lift(other) + (-self)

    def __mul__(self, other: Any) -> "Approx":
        o = self._lift(other)
        value = self.value * o.value
        return Approx(value, np.abs(self.value) * o.error + np.abs(o.value) * self.error
                      + self.unit * np.abs(value), self.dtype)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "Approx":
        o = self._lift(other)
        value = self.value / o.value
        return Approx(value, self.error / np.abs(o.value) + np.abs(self.value) * o.error / o.value**2
                      + self.unit * np.abs(value), self.dtype)

    def __rtruediv__(self, other: Any) -> "Approx":
        return self._lift(other) / self

    def __pow__(self, t: int) -> "Approx":
        b = self.value
        value = b**t
        with np.errstate(divide="ignore", invalid="ignore"):
            log_term = np.where(b == 0, 0, np.abs(t * np.log(np.where(b == 0, 1, np.abs(b)))))
        return Approx(value, t * np.abs(b) ** (t - 1) * self.error + self.unit * (t + log_term) * np.abs(value),
                      self.dtype)

    def sqrt(self) -> "Approx":
        """:math:`\\sqrt{a}` for :math:`a \\ge 0` (not Lipschitz at 0: the error is at most :math:`\\sqrt{e_a}`)."""
        root = np.sqrt(self.value)
        with np.errstate(divide="ignore", invalid="ignore"):
            lipschitz = np.where(root > 0, self.error / (2 * np.where(root > 0, root, 1)), np.inf)
        return Approx(root, np.minimum(lipschitz, np.sqrt(self.error)) + self.unit * root, self.dtype)

    def maximum(self, other: Any) -> "Approx":
        """Element-wise maximum (the error of the chosen operand, at most the larger one)."""
        o = self._lift(other)
        return Approx(np.maximum(self.value, o.value), np.maximum(self.error, o.error), self.dtype)


def _trajectory(theta0: np.ndarray, grads: np.ndarray, lrs: Any, dtype: Any,
                step: Callable[[int, Approx, Approx, Approx, dict[str, Any]], Approx]) -> tuple[np.ndarray, np.ndarray]:
    """Run ``step(t, theta, g, lr, state) -> theta`` for t = 1..T; the values and errors after each step."""
    theta = Approx.exact(np.asarray(theta0, dtype=np.float64), dtype)
    grads = np.asarray(grads, dtype=np.float64)
    values, errors = [], []
    state: dict[str, Any] = {}
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        theta = step(t, theta, Approx.exact(g, dtype), theta.const(lr), state)
        values.append(np.asarray(theta.value, dtype=np.float64))
        # the reference rounded to float64 once: half an ulp of float64 more
        errors.append(np.asarray(theta.error, dtype=np.float64) + np.finfo(np.float64).eps * np.abs(values[-1]))
    return np.array(values), np.array(errors)


_MOMENTUM_CONVENTION = ("PyTorch's momentum: the buffer accumulates gradients (b = mu b + (1 - dampening) g, "
                        "starting as g) and each step's lr multiplies the whole buffer; the classical "
                        "v = mu v - lr g, theta += v (Sutskever et al.) differs whenever lr changes")
_ADAM_CONVENTION = ("eps is added to sqrt(v_hat) = sqrt(v / (1 - beta2^t)) (PyTorch, the paper), not to sqrt(v) "
                    "(Keras' epsilon-hat); both corrections use the step count t = 1, 2, ... of this run")


# ----------------------------------------------------------------------------- SGD family
def _sgd(theta0, grads, lrs, dtype, *, momentum, dampening, nesterov, weight_decay):
    def step(t, theta, g, lr, state):
        if weight_decay:
            g = g + theta.const(weight_decay) * theta
        if momentum:
            mu = theta.const(momentum)
            if t == 1:
                buf = g  # PyTorch: the buffer starts as the first gradient (no dampening)
            else:
                buf = mu * state["buf"] + (1 - theta.const(dampening)) * g
            state["buf"] = buf
            g = g + mu * buf if nesterov else buf
        return theta - lr * g

    return _trajectory(theta0, grads, lrs, dtype, step)


_SGD_LATEX = (r"g_t \leftarrow g_t + \lambda\theta_{t-1},\quad b_1 = g_1,\ b_t = \mu b_{t-1} + (1-\tau) g_t,\quad "
              r"\theta_t = \theta_{t-1} - \eta_t\,(\text{nesterov} ? g_t + \mu b_t : b_t)")


@register_formula("optimizer", "sgd",
                  title="stochastic gradient descent (PyTorch SGD): theta -= lr * g; optional momentum mu (buffer "
                        "b = mu b + (1 - dampening) g, starting as g), Nesterov (step g + mu b) and L2 "
                        "weight_decay (g += lambda theta)",
                  latex=_SGD_LATEX,
                  defaults={"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
                  space={"momentum": FRACTION, "dampening": Param.real(0.0, 1.0), "nesterov": Param.boolean(),
                         "weight_decay": DECAY},
                  aliases=("gradient_descent",),
                  examples=({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}, {"weight_decay": 0.1},
                            {"momentum": 0.5, "nesterov": True, "weight_decay": 0.2},
                            {"momentum": 0.9, "dampening": 0.5}),
                  meta={"elementwise": True, "convention": _MOMENTUM_CONVENTION})
def sgd(theta0, grads, lrs, dtype, *, momentum, dampening, nesterov, weight_decay):
    """:math:`\\theta_t = \\theta_{t-1} - \\eta_t g_t`, with PyTorch's momentum, Nesterov and L2 options."""
    return _sgd(theta0, grads, lrs, dtype, momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=weight_decay)


@register_formula("optimizer", "momentum",
                  title="SGD with (heavy-ball) momentum, PyTorch's form: b = mu b + (1 - dampening) g (starting "
                        "as g), theta -= lr * b; optional L2 weight_decay; not Nesterov",
                  latex=r"b_1 = g_1,\ b_t = \mu b_{t-1} + (1-\tau) g_t,\quad \theta_t = \theta_{t-1} - \eta_t b_t",
                  defaults={"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
                  space={"momentum": FRACTION, "dampening": Param.real(0.0, 1.0), "weight_decay": DECAY},
                  aliases=("sgd_momentum", "heavy_ball"),
                  examples=({"momentum": 0.5, "weight_decay": 0.1}, {"dampening": 0.3}),
                  meta={"elementwise": True, "convention": _MOMENTUM_CONVENTION})
def momentum(theta0, grads, lrs, dtype, *, momentum, dampening, weight_decay):
    """SGD with momentum (no Nesterov step)."""
    return _sgd(theta0, grads, lrs, dtype, momentum=momentum, dampening=dampening, nesterov=False,
                weight_decay=weight_decay)


@register_formula("optimizer", "nesterov",
                  title="SGD with Nesterov momentum, PyTorch's form: b = mu b + g (starting as g), "
                        "theta -= lr * (g + mu b); optional L2 weight_decay",
                  latex=r"b_1 = g_1,\ b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta_t (g_t + \mu b_t)",
                  defaults={"momentum": 0.9, "weight_decay": 0.0},
                  space={"momentum": Param.real(0.0, 1.0, low_open=True, high_open=True), "weight_decay": DECAY},
                  aliases=("nag", "sgd_nesterov"),
                  examples=({"momentum": 0.5, "weight_decay": 0.1},),
                  meta={"elementwise": True, "convention": _MOMENTUM_CONVENTION})
def nesterov(theta0, grads, lrs, dtype, *, momentum, weight_decay):
    """SGD with Nesterov momentum."""
    return _sgd(theta0, grads, lrs, dtype, momentum=momentum, dampening=0.0, nesterov=True,
                weight_decay=weight_decay)


# ----------------------------------------------------------------------------- Adam family
def _adam(theta0, grads, lrs, dtype, *, beta1, beta2, eps, weight_decay, amsgrad, decoupled):
    def step(t, theta, g, lr, state):
        b1, b2 = theta.const(beta1), theta.const(beta2)
        if weight_decay and decoupled:
            theta = theta * (1 - lr * theta.const(weight_decay))
        elif weight_decay:
            g = g + theta.const(weight_decay) * theta
        m = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = b2 * state.get("v", 0.0) + (1 - b2) * (g * g)
        state["m"], state["v"] = m, v
        if amsgrad:
            v = v.maximum(state.get("v_max", 0.0))
            state["v_max"] = v
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return theta - lr * m_hat / (v_hat.sqrt() + theta.const(eps))

    return _trajectory(theta0, grads, lrs, dtype, step)


_ADAM_LATEX = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad "
               r"\theta_t = \theta_{t-1} - \eta_t\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}")


@register_formula("optimizer", "adam",
                  title="Adam with bias correction (PyTorch Adam): eps added to sqrt(v_hat); optional L2 "
                        "weight_decay (g += lambda theta) and amsgrad (the running maximum of v)",
                  latex=_ADAM_LATEX + r",\quad g_t \leftarrow g_t + \lambda\theta_{t-1}",
                  defaults={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
                  space={"beta1": FRACTION, "beta2": FRACTION, "eps": EPS, "weight_decay": DECAY,
                         "amsgrad": Param.boolean()},
                  examples=({"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, {"weight_decay": 0.1}, {"amsgrad": True}),
                  meta={"elementwise": True, "convention": _ADAM_CONVENTION})
def adam(theta0, grads, lrs, dtype, *, beta1, beta2, eps, weight_decay, amsgrad):
    """Adam with L2 weight decay coupled into the gradient."""
    return _adam(theta0, grads, lrs, dtype, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                 amsgrad=amsgrad, decoupled=False)


@register_formula("optimizer", "adamw",
                  title="AdamW (PyTorch AdamW): theta *= 1 - lr * weight_decay, then the Adam step on the plain "
                        "gradient; optional amsgrad",
                  latex=r"\theta_{t-1} \leftarrow (1 - \eta_t\lambda)\,\theta_{t-1},\ \text{then } " + _ADAM_LATEX,
                  defaults={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False},
                  space={"beta1": FRACTION, "beta2": FRACTION, "eps": EPS, "weight_decay": DECAY,
                         "amsgrad": Param.boolean()},
                  examples=({"weight_decay": 0.3, "beta2": 0.99}, {"amsgrad": True}),
                  meta={"elementwise": True, "convention": _ADAM_CONVENTION})
def adamw(theta0, grads, lrs, dtype, *, beta1, beta2, eps, weight_decay, amsgrad):
    """Adam with decoupled weight decay, scaled by the learning rate."""
    return _adam(theta0, grads, lrs, dtype, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                 amsgrad=amsgrad, decoupled=True)


# ----------------------------------------------------------------------------- RMSprop, Adagrad
@register_formula("optimizer", "rmsprop",
                  title="RMSprop (PyTorch RMSprop, rho for its alpha): v = rho v + (1 - rho) g^2, theta -= lr * g "
                        "/ (sqrt(v) + eps); optional centered (v - g_avg^2), momentum (b = mu b + g / d) and L2 "
                        "weight_decay",
                  latex=r"v_t = \rho v_{t-1} + (1-\rho) g_t^2,\ d_t = \sqrt{v_t - [\bar g_t^2]} + \epsilon,\ "
                        r"b_t = \mu b_{t-1} + g_t/d_t,\quad \theta_t = \theta_{t-1} - \eta_t b_t",
                  defaults={"rho": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False, "weight_decay": 0.0},
                  space={"rho": FRACTION, "eps": EPS, "momentum": FRACTION, "centered": Param.boolean(),
                         "weight_decay": DECAY},
                  examples=({"centered": True}, {"centered": True, "rho": 0.5}, {"momentum": 0.8},
                            {"rho": 0.9, "eps": 1e-3},
                            {"centered": True, "momentum": 0.5, "weight_decay": 0.2}),
                  meta={"elementwise": True})
def rmsprop(theta0, grads, lrs, dtype, *, rho, eps, momentum, centered, weight_decay):
    """RMSprop; the momentum buffer starts at 0 (PyTorch)."""
    def step(t, theta, g, lr, state):
        if weight_decay:
            g = g + theta.const(weight_decay) * theta
        r = theta.const(rho)
        v = r * state.get("v", 0.0) + (1 - r) * (g * g)
        state["v"] = v
        if centered:
            mean = r * state.get("mean", 0.0) + (1 - r) * g
            state["mean"] = mean
            v = (v - mean * mean).maximum(0.0)
        direction = g / (v.sqrt() + theta.const(eps))
        if momentum:
            direction = theta.const(momentum) * state.get("buf", 0.0) + direction
            state["buf"] = direction
        return theta - lr * direction

    return _trajectory(theta0, grads, lrs, dtype, step)


@register_formula("optimizer", "adagrad",
                  title="Adagrad (PyTorch Adagrad): G = G + g^2 from G_0 = initial_accumulator_value, "
                        "theta -= lr_t * g / (sqrt(G) + eps) with lr_t = lr / (1 + (t - 1) lr_decay); optional L2 "
                        "weight_decay",
                  latex=r"G_t = G_{t-1} + g_t^2,\quad \theta_t = \theta_{t-1} - \frac{\eta_t}{1 + (t-1)\delta}\,"
                        r"\frac{g_t}{\sqrt{G_t} + \epsilon}",
                  defaults={"eps": 1e-10, "initial_accumulator_value": 0.0, "weight_decay": 0.0, "lr_decay": 0.0},
                  space={"eps": EPS, "initial_accumulator_value": Param.real(0.0, None, typical=(0.0, 1.0)),
                         "weight_decay": DECAY, "lr_decay": Param.real(0.0, None, typical=(0.0, 0.5))},
                  examples=({"initial_accumulator_value": 0.1, "eps": 1e-3}, {"weight_decay": 0.05},
                            {"lr_decay": 0.1}),
                  meta={"elementwise": True})
def adagrad(theta0, grads, lrs, dtype, *, eps, initial_accumulator_value, weight_decay, lr_decay):
    """Adagrad; ``lr_decay`` as in PyTorch (neuroplug's built-in has none: use a schedule)."""
    def step(t, theta, g, lr, state):
        if weight_decay:
            g = g + theta.const(weight_decay) * theta
        total = state.get("G")
        if total is None:
            total = theta.const(np.full(theta.value.shape, initial_accumulator_value))
        total = total + g * g
        state["G"] = total
        if lr_decay:
            lr = lr / (1 + (t - 1) * theta.const(lr_decay))
        return theta - lr * g / (total.sqrt() + theta.const(eps))

    return _trajectory(theta0, grads, lrs, dtype, step)
