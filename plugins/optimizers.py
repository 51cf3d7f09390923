r"""Built-in optimizers, with PyTorch's update rules.

Every optimizer updates the parameters in place and in their own dtype: the learning
rate and the hyper-parameters are cast to the parameter's dtype before use, so
float32 training never allocates or computes in float64. :meth:`setup` allocates
the per-parameter state and one scratch buffer per parameter once; :meth:`step`
then works with ``out=`` only (no temporaries). ``step`` sets itself up on first
use if ``setup`` was not called.

In the formulas :math:`g_t` is the gradient, :math:`\lambda` the weight decay and
:math:`\eta` the learning rate passed to :meth:`step`. An L2 ``weight_decay``
(sgd, adam, rmsprop, adagrad) adds :math:`\lambda\theta` to the gradient before
anything else, as in PyTorch; adamw decays the weights directly.

:meth:`get_state` returns ``{"step": t, "<buffer>.<i>": array, ...}``: the number
of steps taken and a copy of each state buffer of parameter ``i``, named as in
PyTorch (``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ``square_avg``,
``grad_avg``, ``sum``). :meth:`set_state` copies such a dict into an optimizer
that has been set up for parameters of the same shapes and dtypes.
"""

from __future__ import annotations

import abc
import functools
import math
import operator
from typing import TYPE_CHECKING, Any, ClassVar

from neuroplug._lazy_numpy import LazyNumpy
from neuroplug.base import Optimizer
from neuroplug.errors import ConfigError, InputError, ShapeError
from neuroplug.hookspecs import hookimpl
from neuroplug.types import OptimizerRegistration, Param
from neuroplug.validation import check_bool, check_number

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "neuroplug_optimizers"]


def _fraction(name: str, value: Any) -> float:
    """Check a decay rate or momentum: a number in [0, 1)."""
    return check_number(name, value, low=0, high=1, high_inclusive=False)


def _back_to_back(arrays: list[np.ndarray]) -> np.ndarray | None:
    """A 1-D view spanning all of ``arrays`` when they lie back to back, in order, in one
    buffer (as :class:`~neuroplug.Sequential` keeps its parameters and gradients); else None."""
    if len(arrays) < 2:
        return None
    base = getattr(arrays[0], "base", None)
    if not (isinstance(base, np.ndarray) and base.ndim == 1 and base.flags.c_contiguous
            and base.flags.writeable):
        return None
    dtype = base.dtype
    start = end = arrays[0].__array_interface__["data"][0]
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.base is base and a.dtype == dtype and a.size
                and a.flags.c_contiguous and a.__array_interface__["data"][0] == end):
            return None
        end += a.nbytes
    offset, misaligned = divmod(start - base.__array_interface__["data"][0], dtype.itemsize)
    if misaligned:
        return None
    return base[offset:offset + (end - start) // dtype.itemsize]


def _views(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    """``flat`` cut into consecutive views shaped like the arrays of ``like``."""
    views, offset = [], 0
    for a in like:
        views.append(flat[offset:offset + a.size].reshape(a.shape))
        offset += a.size
    return views


class _BufferedOptimizer(Optimizer):
    """State buffers, scratch space, L2 decay and the argument checks shared by the built-ins.

    A subclass names its per-parameter state buffers in :meth:`buffer_names` (their
    initial value in :meth:`initial_value`) and implements :meth:`update` for one
    parameter.

    The update rules of the built-ins are element-wise, so when the parameters lie
    back to back in one buffer, and so do the gradients (as a
    :class:`~neuroplug.Sequential` keeps them), one :meth:`update` over the whole
    buffer does what one per parameter would, bit for bit, with a fraction of the
    calls: :meth:`setup` then allocates the state in one buffer too, and
    :meth:`step` updates everything at once. The per-parameter arrays (``buffer``,
    ``get_state``, ``set_state``) are views of those buffers. A subclass that
    overrides :meth:`update` is always called per parameter.
    """

    #: True when ``weight_decay`` is applied to the weights directly (adamw), not added to the gradient.
    decoupled_decay: ClassVar[bool] = False
    weight_decay: float = 0.0
    #: The number of steps taken (``t`` of the formulas, after the update).
    iterations: int = 0
    _state: dict[str, list[np.ndarray]] | None = None
    #: ``(params, grads)`` of the last call of :meth:`step` whose arrays passed the checks.
    _checked: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None = None
    #: ``(params, grads)`` as single 1-D views, while the checked arrays allow the whole-buffer update.
    _flat_args: tuple[np.ndarray, np.ndarray] | None = None
    #: The largest learning rate the parameters' dtype can hold (set by :meth:`setup`).
    _lr_limit: float = math.inf

    def buffer_names(self) -> tuple[str, ...]:
        """Names of the state buffers this configuration needs (one array per parameter each)."""
        return ()

    def initial_value(self, name: str) -> float:
        """Initial value of the entries of buffer ``name`` (0)."""
        return 0.0

    def setup(self, params: list[np.ndarray]) -> None:
        """Allocate the state and scratch buffers for ``params`` and reset the step count.

        Raises InputError for parameters that are not floating arrays, and for
        hyper-parameters that their dtype cannot hold: an ``eps`` that rounds to 0
        (float16 has no 1e-8: the update would divide 0 by 0) or a ``weight_decay``
        or ``initial_accumulator_value`` beyond its range.
        """
        if not isinstance(params, (list, tuple)):
            raise InputError(f"params must be a list of floating numpy arrays, got {type(params).__name__}")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise InputError(f"params[{i}] must be a floating numpy array, got "
                                 f"{getattr(p, 'dtype', type(p).__name__)}")
        dtypes = {p.dtype for p in params}
        for dt in dtypes:
            self._check_dtype(dt)
        self._lr_limit = min((float(np.finfo(dt).max) for dt in dtypes), default=math.inf)
        self._like = [(p.shape, p.dtype) for p in params]
        l2 = self.weight_decay and not self.decoupled_decay
        flat = _back_to_back(params) if type(self).update in _ELEMENTWISE_UPDATES else None
        if flat is None:
            self._state = {name: [np.full_like(p, self.initial_value(name)) for p in params]
                           for name in self.buffer_names()}
            self._scratch = [np.empty_like(p) for p in params]
            self._decayed = [np.empty_like(p) for p in params] if l2 else None
            self._flat = None
        else:  # one buffer of each kind, cut into per-parameter views
            state = {name: np.full_like(flat, self.initial_value(name)) for name in self.buffer_names()}
            scratch = np.empty_like(flat)
            decayed = np.empty_like(flat) if l2 else None
            self._state = {name: _views(buf, params) for name, buf in state.items()}
            self._scratch = _views(scratch, params)
            self._decayed = _views(decayed, params) if l2 else None
            self._flat = (flat, {name: [buf] for name, buf in state.items()}, scratch, decayed)
        self._buffers = self._state
        self._setup_params = tuple(params)
        self.iterations = 0
        self._checked = self._flat_args = None

    def _check_dtype(self, dt: np.dtype) -> None:
        """Check that the hyper-parameters used in ``dt`` arithmetic are representable in ``dt``."""
        info = np.finfo(dt)
        eps = getattr(self, "eps", None)
        if eps is not None and dt.type(eps) == 0:
            raise InputError(f"{type(self).__name__}: eps={eps!r} is 0 in {dt} (the update would divide 0 "
                             f"by 0); use eps >= {float(info.smallest_subnormal):.3g} or wider parameters")
        for name in ("weight_decay", "initial_accumulator_value"):
            value = getattr(self, name, 0.0)
            if value > float(info.max):
                raise InputError(f"{type(self).__name__}: {name}={value!r} is beyond the range of {dt} "
                                 f"(largest {float(info.max):.6g})")

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        """Update every ``params[i]`` in place from ``grads[i]`` (same shape and dtype) and ``lr >= 0``.

        Calls :meth:`setup` first if it has not been called.
        """
        if self._state is None:
            self.setup(params)
        if type(lr) is not float or not 0.0 <= lr <= self._lr_limit:  # the common case costs one test
            lr = float(check_number("lr", lr, low=0, error=InputError))
            if lr > self._lr_limit:
                raise InputError(f"lr={lr!r} is beyond the range of the parameters' dtype (largest "
                                 f"{self._lr_limit:.6g})")
        checked = self._checked
        # The arguments are checked once; while the very same arrays come back (the
        # training loop passes them at every step), the check is not repeated.
        if not (checked is not None and len(params) == len(checked[0]) and len(grads) == len(checked[1])
                and all(map(operator.is_, params, checked[0])) and all(map(operator.is_, grads, checked[1]))):
            self._check_arrays(params, grads)
        self.iterations += 1
        if self._flat_args is not None:  # everything at once, as one parameter
            p, g = self._flat_args
            _, self._buffers, s, decayed = self._flat
            try:
                if decayed is not None:  # L2: g + λθ
                    g = np.add(g, np.multiply(p, p.dtype.type(self.weight_decay), out=decayed), out=decayed)
                self.update(0, p, g, lr, s)
            finally:
                self._buffers = self._state
            return
        decayed, scratch, update = self._decayed, self._scratch, self.update
        for i, (p, g) in enumerate(zip(params, grads)):
            if decayed is not None:  # L2: g + λθ
                g = np.add(g, np.multiply(p, p.dtype.type(self.weight_decay), out=decayed[i]), out=decayed[i])
            update(i, p, g, lr, scratch[i])

    def _train_update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> Any:
        """For ``fit``: ``(update, advance)`` when this optimizer can take the learning rate folded
        into the gradients (``fit`` multiplies the output gradient by it), else None.

        ``update()`` then does what ``step(params, grads, lr)`` does to the parameters when
        the gradients have already been multiplied by ``lr``, and ``advance(k)`` counts
        ``k`` such steps (``fit`` calls it before anything reads the state). Plain SGD
        only (no momentum, no weight decay, nothing overridden), with the parameters and
        the gradients each back to back in one buffer: ``update`` is one subtraction over
        the whole buffer, ``p - (lr g)``, which differs from ``step``'s ``p - lr * g`` in
        rounding only (``lr`` multiplies the output gradient of the batch, before the
        matrix products, instead of every gradient after them).
        """
        if not (type(self) is SGD and not self.momentum and not self.weight_decay):
            return None
        flat_p, flat_g = _back_to_back(list(params)), _back_to_back(list(grads))
        if flat_p is None or flat_g is None or flat_p.shape != flat_g.shape or flat_p.dtype != flat_g.dtype:
            return None
        if self._state is None:
            self.setup(list(params))

        def advance(k: int) -> None:
            self.iterations += k

        return functools.partial(np.subtract, flat_p, flat_g, flat_p), advance

    def _check_arrays(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Check ``params`` and ``grads`` against the shapes and dtypes given to :meth:`setup`."""
        self._checked = self._flat_args = None
        if not (isinstance(params, (list, tuple)) and isinstance(grads, (list, tuple))):
            raise InputError(f"params and grads must be lists of numpy arrays, got {type(params).__name__} "
                             f"and {type(grads).__name__}")
        if len(params) != len(self._like) or len(grads) != len(params):
            raise ShapeError(f"step got {len(params)} params and {len(grads)} grads; the optimizer was set "
                             f"up for {len(self._like)} parameters")
        for i, (p, g, like) in enumerate(zip(params, grads, self._like)):
            if not isinstance(p, np.ndarray):
                raise InputError(f"params[{i}] must be a numpy array, got {type(p).__name__}")
            g_like = (getattr(g, "shape", None), getattr(g, "dtype", None))
            if (p.shape, p.dtype) != like or g_like != like:
                error = ShapeError if like[0] != p.shape or like[0] != g_like[0] else InputError
                raise error(f"params[{i}] and grads[{i}] must both have the shape {like[0]} and dtype "
                                 f"{like[1]} given to setup(); got {p.shape} {p.dtype} and "
                                 f"{getattr(g, 'shape', None)} {getattr(g, 'dtype', type(g).__name__)}")
        self._checked = (tuple(params), tuple(grads))
        if self._flat is not None and all(map(operator.is_, params, self._setup_params)):
            flat_g = _back_to_back(grads)
            if flat_g is not None:
                self._flat_args = (self._flat[0], flat_g)

    @abc.abstractmethod
    def update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float, s: np.ndarray) -> None:
        """Update parameter ``i`` in place.

        ``g`` is its gradient (with the L2 term; never ``s``), ``lr`` the Python float
        rate (cast it with ``p.dtype.type``) and ``s`` a scratch array like ``p``.
        """

    def buffer(self, name: str, i: int) -> np.ndarray:
        """State buffer ``name`` of parameter ``i`` (inside a whole-buffer :meth:`update`: all of it)."""
        return self._buffers[name][i]

    def get_state(self) -> dict[str, Any]:
        """Return ``{"step": t, "<buffer>.<i>": copy of the array}`` (just ``step`` before setup)."""
        state: dict[str, Any] = {"step": self.iterations}
        for name, arrays in (self._state or {}).items():
            state.update({f"{name}.{i}": a.copy() for i, a in enumerate(arrays)})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Copy a :meth:`get_state` dict into the buffers; :meth:`setup` must have been called."""
        if self._state is None:
            raise InputError(f"{type(self).__name__}.set_state() needs its buffers: call setup(params) first")
        expected = {"step"} | {f"{name}.{i}" for name, arrays in self._state.items() for i in range(len(arrays))}
        if set(state) != expected:
            raise InputError(f"{type(self).__name__} state must have the keys {sorted(expected)}; "
                             f"got {sorted(state)}")
        for name, arrays in self._state.items():
            for i, a in enumerate(arrays):
                value = np.asarray(state[f"{name}.{i}"])
                if value.shape != a.shape:
                    raise ShapeError(f"state {name}.{i} has shape {value.shape}, expected {a.shape}")
                np.copyto(a, value, casting="same_kind")
        self.iterations = int(check_number("step", state["step"], low=0, integer=True, error=InputError))


class SGD(_BufferedOptimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum (PyTorch ``SGD``).

    .. math::
        v_t = \\mu v_{t-1} + g_t, \\qquad \\theta_t = \\theta_{t-1} - \\eta\\,v_t
        \\qquad (\\text{Nesterov: } \\theta_t = \\theta_{t-1} - \\eta\\,(g_t + \\mu v_t))

    with :math:`v_0 = 0`. Without momentum :math:`\\theta_t = \\theta_{t-1} - \\eta g_t`,
    bitwise equal to ``p - lr * g`` in the parameter dtype. This is PyTorch's form of
    momentum, which differs from the classical :math:`v_t = \\mu v_{t-1} - \\eta g_t`
    (Sutskever et al. 2013) only when :math:`\\eta` changes.

    Parameters
    ----------
    momentum : float
        :math:`\\mu \\in [0, 1)`.
    nesterov : bool
        Use Nesterov momentum (requires ``momentum > 0``).
    weight_decay : float
        L2 penalty :math:`\\lambda \\ge 0`: :math:`g_t \\leftarrow g_t + \\lambda\\theta_{t-1}`.
    """

    def __init__(self, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = check_bool("nesterov", nesterov)
        if nesterov and not momentum:
            raise ConfigError("nesterov=True requires momentum > 0, got momentum=0")
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)

    def buffer_names(self):
        return ("momentum_buffer",) if self.momentum else ()

    def update(self, i, p, g, lr, s):
        dt = p.dtype.type
        if self.momentum:
            v = self.buffer("momentum_buffer", i)
            v *= dt(self.momentum)
            v += g
            if self.nesterov:
                np.multiply(v, dt(self.momentum), out=s)
                g = np.add(g, s, out=s)
            else:
                g = v
        p -= np.multiply(g, dt(lr), out=s)


class Adam(_BufferedOptimizer):
    """Adam (Kingma & Ba 2015; PyTorch ``Adam``), with an optional L2 ``weight_decay``.

    .. math::
        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\qquad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2,

        \\theta_t = \\theta_{t-1} - \\eta\\,\\frac{m_t / (1-\\beta_1^t)}{\\sqrt{v_t / (1-\\beta_2^t)} + \\epsilon}

    with :math:`m_0 = v_0 = 0`. :math:`\\epsilon` is added to the bias-corrected
    :math:`\\sqrt{\\hat v_t}` as in the paper and PyTorch (Keras adds it to
    :math:`\\sqrt{v_t}`, i.e. an :math:`\\epsilon` larger by :math:`1/\\sqrt{1-\\beta_2^t}`).

    Parameters
    ----------
    beta1, beta2 : float
        :math:`\\beta_1, \\beta_2 \\in [0, 1)`, the decay rates of the moment estimates.
    eps : float
        :math:`\\epsilon > 0`.
    weight_decay : float
        L2 penalty :math:`\\lambda \\ge 0` added to the gradient (``adamw`` decouples it).
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0):
        self.beta1 = _fraction("beta1", beta1)
        self.beta2 = _fraction("beta2", beta2)
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)

    def buffer_names(self):
        return ("exp_avg", "exp_avg_sq")

    def update(self, i, p, g, lr, s):
        dt, t = p.dtype.type, self.iterations
        m, v = self.buffer("exp_avg", i), self.buffer("exp_avg_sq", i)
        m *= dt(self.beta1)
        m += np.multiply(g, dt(1 - self.beta1), out=s)
        v *= dt(self.beta2)
        np.multiply(g, g, out=s)
        s *= dt(1 - self.beta2)
        v += s
        np.sqrt(v, out=s)
        s /= dt(math.sqrt(1 - self.beta2**t))
        s += dt(self.eps)
        np.divide(m, s, out=s)
        s *= dt(lr / (1 - self.beta1**t))
        p -= s


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019; PyTorch ``AdamW``).

    .. math:: \\theta_{t-1} \\leftarrow (1 - \\eta\\lambda)\\,\\theta_{t-1}, \\text{ then the Adam step (no L2 term)}

    As in PyTorch and Keras the decay is scaled by the learning rate :math:`\\eta` (the
    paper scales it by the schedule multiplier alone).

    Parameters
    ----------
    beta1, beta2 : float
        :math:`\\beta_1, \\beta_2 \\in [0, 1)`.
    eps : float
        :math:`\\epsilon > 0`.
    weight_decay : float
        :math:`\\lambda \\ge 0`, the decoupled decay rate.
    """

    decoupled_decay = True

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def update(self, i, p, g, lr, s):
        if self.weight_decay:
            p *= p.dtype.type(1 - lr * self.weight_decay)
        super().update(i, p, g, lr, s)


class RMSprop(_BufferedOptimizer):
    """RMSprop (Hinton 2012; PyTorch ``RMSprop``, with ``rho`` for its ``alpha``).

    .. math::
        v_t = \\rho v_{t-1} + (1-\\rho) g_t^2, \\qquad
        d_t = \\sqrt{v_t - \\bar g_t^2} + \\epsilon \\ (\\text{centered}), \\quad
        d_t = \\sqrt{v_t} + \\epsilon \\ (\\text{otherwise}),

        b_t = \\mu b_{t-1} + g_t / d_t, \\qquad \\theta_t = \\theta_{t-1} - \\eta\\,b_t

    where :math:`\\bar g_t = \\rho \\bar g_{t-1} + (1-\\rho) g_t` and all states start at
    0; without momentum :math:`\\theta_t = \\theta_{t-1} - \\eta g_t / d_t`. The centered
    variance is clipped at 0 against rounding. Keras' default ``rho`` is 0.9.

    Parameters
    ----------
    rho : float
        :math:`\\rho \\in [0, 1)`, the decay rate of the averages.
    eps : float
        :math:`\\epsilon > 0`.
    momentum : float
        :math:`\\mu \\in [0, 1)`.
    centered : bool
        Normalize by the estimated variance instead of the uncentered second moment.
    weight_decay : float
        L2 penalty :math:`\\lambda \\ge 0` added to the gradient.
    """

    def __init__(self, rho: float = 0.99, eps: float = 1e-8, momentum: float = 0.0, centered: bool = False,
                 weight_decay: float = 0.0):
        self.rho = _fraction("rho", rho)
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.momentum = _fraction("momentum", momentum)
        self.centered = check_bool("centered", centered)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)

    def buffer_names(self):
        names = ["square_avg"]
        if self.centered:
            names.append("grad_avg")
        if self.momentum:
            names.append("momentum_buffer")
        return tuple(names)

    def update(self, i, p, g, lr, s):
        dt = p.dtype.type
        rho, keep = dt(self.rho), dt(1 - self.rho)
        v = self.buffer("square_avg", i)
        v *= rho
        np.multiply(g, g, out=s)
        s *= keep
        v += s
        if self.centered:
            mean = self.buffer("grad_avg", i)
            mean *= rho
            mean += np.multiply(g, keep, out=s)
            np.multiply(mean, mean, out=s)
            np.subtract(v, s, out=s)
            np.maximum(s, 0, out=s)
            np.sqrt(s, out=s)
        else:
            np.sqrt(v, out=s)
        s += dt(self.eps)
        np.divide(g, s, out=s)
        if self.momentum:
            b = self.buffer("momentum_buffer", i)
            b *= dt(self.momentum)
            b += s
            s = np.multiply(b, dt(lr), out=s)
        else:
            s *= dt(lr)
        p -= s


class Adagrad(_BufferedOptimizer):
    """Adagrad (Duchi et al. 2011; PyTorch ``Adagrad`` without ``lr_decay``: use a schedule).

    .. math::
        G_t = G_{t-1} + g_t^2, \\qquad \\theta_t = \\theta_{t-1} - \\eta\\,\\frac{g_t}{\\sqrt{G_t} + \\epsilon}

    with :math:`G_0` = ``initial_accumulator_value``.

    Parameters
    ----------
    eps : float
        :math:`\\epsilon > 0`.
    initial_accumulator_value : float
        :math:`G_0 \\ge 0` (Keras uses 0.1).
    weight_decay : float
        L2 penalty :math:`\\lambda \\ge 0` added to the gradient.
    """

    def __init__(self, eps: float = 1e-10, initial_accumulator_value: float = 0.0, weight_decay: float = 0.0):
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.initial_accumulator_value = check_number("initial_accumulator_value", initial_accumulator_value,
                                                      low=0)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)

    def buffer_names(self):
        return ("sum",)

    def initial_value(self, name):
        return self.initial_accumulator_value

    def update(self, i, p, g, lr, s):
        dt, total = p.dtype.type, self.buffer("sum", i)
        total += np.multiply(g, g, out=s)
        np.sqrt(total, out=s)
        s += dt(self.eps)
        np.divide(g, s, out=s)
        s *= dt(lr)
        p -= s


#: The element-wise update rules, which may be applied to all parameters at once.
_ELEMENTWISE_UPDATES = frozenset({SGD.update, Adam.update, AdamW.update, RMSprop.update, Adagrad.update})


#: Parameter ranges declared for the spec suite (it draws configs from them).
_FRACTION = Param.real(0.0, 1.0, high_open=True)
_DECAY = Param.real(0.0, None, typical=(0.0, 0.5))
_EPS = Param.real(0.0, None, low_open=True, log=True, typical=(1e-10, 1e-2))


@hookimpl
def neuroplug_optimizers():
    """Register the built-in optimizers."""
    return [
        OptimizerRegistration(
            name="sgd", factory=SGD, summary="stochastic gradient descent, optional (Nesterov) momentum",
            formula=r"v_t = \mu v_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta v_t",
            implements=("sgd",),
            parameter_space={"momentum": _FRACTION, "nesterov": Param.boolean(), "weight_decay": _DECAY},
            example_configs=({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1})),
        OptimizerRegistration(
            name="adam", factory=Adam, summary="Adam (L2 weight decay)",
            formula=r"\theta_t = \theta_{t-1} - \eta \hat m_t / (\sqrt{\hat v_t} + \epsilon)",
            implements=("adam",),
            parameter_space={"beta1": _FRACTION, "beta2": _FRACTION, "eps": _EPS, "weight_decay": _DECAY},
            example_configs=({"beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1},)),
        OptimizerRegistration(
            name="adamw", factory=AdamW, summary="Adam with decoupled weight decay",
            formula=r"\theta_t = (1 - \eta\lambda)\theta_{t-1} - \eta \hat m_t / (\sqrt{\hat v_t} + \epsilon)",
            implements=("adamw",),
            parameter_space={"beta1": _FRACTION, "beta2": _FRACTION, "eps": _EPS, "weight_decay": _DECAY},
            example_configs=({"weight_decay": 0.3, "beta2": 0.99},)),
        OptimizerRegistration(
            name="rmsprop", factory=RMSprop, summary="RMSprop, optionally centered and with momentum",
            formula=r"\theta_t = \theta_{t-1} - \eta g_t / (\sqrt{v_t} + \epsilon)",
            implements=("rmsprop",),
            parameter_space={"rho": _FRACTION, "eps": _EPS, "momentum": _FRACTION, "centered": Param.boolean(),
                             "weight_decay": _DECAY},
            example_configs=({"centered": True, "momentum": 0.5, "weight_decay": 0.2},)),
        OptimizerRegistration(
            name="adagrad", factory=Adagrad, summary="Adagrad: rates scaled by accumulated squared gradients",
            formula=r"\theta_t = \theta_{t-1} - \eta g_t / (\sqrt{G_t} + \epsilon)",
            implements=("adagrad",),
            parameter_space={"eps": _EPS, "initial_accumulator_value": Param.real(0.0, None, typical=(0.0, 1.0)),
                             "weight_decay": _DECAY},
            example_configs=({"initial_accumulator_value": 0.1, "eps": 1e-3, "weight_decay": 0.05},)),
    ]
