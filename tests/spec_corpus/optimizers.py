"""Blind corpus: optimizers.

Written from the public plugin-author documentation only (README, docs/plugins.rst,
docs/guide, docs/concepts, docs/reference, docs/spec-reference.md, the docstrings of
core/base.py, core/types.py, core/hookspecs.py, core/errors.py, core/validation.py) and
the built-ins' registrations (formula, parameters and their defaults) and class
docstrings (``help()``) read through the public registry API. Nothing under spec_tests/
nor plugins/ was read.

Update rules (registrations and docstrings), t counted from 1 at the first step:

* sgd: g <- g + lambda theta; v_t = mu v_{t-1} + g_t, theta -= eta v_t (Nesterov: theta -=
  eta (g_t + mu v_t)), v_0 = 0; without momentum bitwise ``p - lr * g`` in the parameter dtype;
* adam: g <- g + lambda theta (L2); m_t = b1 m + (1-b1) g, v_t = b2 v + (1-b2) g^2,
  theta -= eta (m_t/(1-b1^t)) / (sqrt(v_t/(1-b2^t)) + eps) -- eps added to sqrt(v_hat);
* adamw: theta <- (1 - eta lambda) theta, then the Adam step without L2 term;
* rmsprop: g <- g + lambda theta; v = rho v + (1-rho) g^2; centered: gbar = rho gbar + (1-rho) g,
  d = sqrt(max(v - gbar^2, 0)) + eps, else d = sqrt(v) + eps; b = mu b + g/d; theta -= eta b;
* adagrad: g <- g + lambda theta; G = G + g^2 (G_0 = initial_accumulator_value);
  theta -= eta g/(sqrt(G) + eps).

``CORRECT`` optimizers write these differently (Adam's bias correction folded into the step
size with eps scaled to eps*sqrt(1-b2^t) -- exactly equivalent --, moment updates in
increment form, state in dicts, lists or one flat float64 vector, setup() or lazy state);
``MUTANTS`` subclass a correct optimizer and override one thing.
"""

from __future__ import annotations

import math

import numpy as np

from neuroplug.base import Optimizer
from neuroplug.validation import check_bool, check_number

from . import Case

# ---------------------------------------------------------------------------------------
# Correct components
# ---------------------------------------------------------------------------------------


class SGDDict(Optimizer):
    """sgd with lazily created momentum buffers in a dict keyed by position;
    the plain step is written ``p += (-lr) * g`` (bitwise p - lr*g)."""

    def __init__(self, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_inclusive=False)
        self.nesterov = check_bool("nesterov", nesterov)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)
        self._buf: dict[int, np.ndarray] = {}
        self._t = 0

    def _direction(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not self.momentum:
            return g
        v = self._buf.get(i)
        if v is None:
            v = self._buf[i] = np.zeros_like(p)
        v *= self.momentum
        v += g
        return g + self.momentum * v if self.nesterov else v

    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            p += (-lr) * self._direction(i, p, g)

    def get_state(self):
        state = {"t": self._t}
        state.update({f"buf{i}": v.copy() for i, v in self._buf.items()})
        return state

    def set_state(self, state):
        self._t = int(state["t"])
        self._buf = {int(k[3:]): np.array(v, copy=True) for k, v in state.items() if k.startswith("buf")}


class SGDMomentumSetup(Optimizer):
    """sgd whose velocity list is allocated in setup() (no lazy fallback), updated with
    np.multiply/np.add into the buffers."""

    def __init__(self, momentum=0.9, nesterov=False, weight_decay=0.0):
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def setup(self, params):
        self._v = [np.zeros_like(p) for p in params]

    def step(self, params, grads, lr):
        for p, g, v in zip(params, grads, self._v):
            if self.weight_decay:
                g = g + self.weight_decay * p
            np.multiply(v, self.momentum, out=v)
            np.add(v, g, out=v)
            d = g + self.momentum * v if self.nesterov else v
            p -= lr * d

    def get_state(self):
        return {f"velocity_{i}": v.copy() for i, v in enumerate(self._v)}

    def set_state(self, state):
        self._v = [np.array(state[f"velocity_{i}"], copy=True) for i in range(len(state))]


class SGDNesterovExpanded(Optimizer):
    """Nesterov sgd expanded: theta -= eta ((1 + mu) g + mu^2 v_{t-1}), then v_t = mu v_{t-1} + g."""

    def __init__(self, momentum=0.9, nesterov=True, weight_decay=0.0):
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self._v: list[np.ndarray] | None = None

    def step(self, params, grads, lr):
        if self._v is None:
            self._v = [np.zeros_like(p) for p in params]
        mu = self.momentum
        for p, g, v in zip(params, grads, self._v):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.nesterov:
                p -= lr * ((1.0 + mu) * g + (mu * mu) * v)
                v *= mu
                v += g
            else:
                v *= mu
                v += g
                p -= lr * v

    def get_state(self):
        return {} if self._v is None else {f"v{i}": v.copy() for i, v in enumerate(self._v)}

    def set_state(self, state):
        self._v = [np.array(state[f"v{i}"], copy=True) for i in range(len(state))] or None


class AdamFolded(Optimizer):
    """adam with the bias correction folded into the step size, Kingma & Ba's alternative form:
    alpha_t = lr sqrt(1-b2^t)/(1-b1^t), theta -= alpha_t m / (sqrt(v) + eps sqrt(1-b2^t)) --
    eps scaled so that it is exactly the registered eps added to sqrt(v_hat)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.beta1 = check_number("beta1", beta1, low=0, high=1, high_inclusive=False)
        self.beta2 = check_number("beta2", beta2, low=0, high=1, high_inclusive=False)
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)
        self._t = 0
        self._m: dict[int, np.ndarray] = {}
        self._v: dict[int, np.ndarray] = {}

    def setup(self, params):
        self._m = {i: np.zeros_like(p) for i, p in enumerate(params)}
        self._v = {i: np.zeros_like(p) for i, p in enumerate(params)}

    def _gradient(self, p, g):
        return g + self.weight_decay * p if self.weight_decay else g

    def _decay(self, p, lr):
        pass

    def _step_size(self, lr, t):
        c2 = 1.0 - self.beta2 ** t
        return lr * math.sqrt(c2) / (1.0 - self.beta1 ** t), self.eps * math.sqrt(c2)

    def step(self, params, grads, lr):
        if not self._m:
            self.setup(params)
        self._t += 1
        alpha, eps_hat = self._step_size(lr, self._t)
        for i, (p, g) in enumerate(zip(params, grads)):
            g = self._gradient(p, g)
            m, v = self._m[i], self._v[i]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            self._decay(p, lr)
            p -= alpha * (m / (np.sqrt(v) + eps_hat))

    def get_state(self):
        state = {"t": self._t}
        for i in self._m:
            state[f"m.{i}"] = self._m[i].copy()
            state[f"v.{i}"] = self._v[i].copy()
        return state

    def set_state(self, state):
        self._t = int(state["t"])
        n = sum(1 for k in state if k.startswith("m."))
        self._m = {i: np.array(state[f"m.{i}"], copy=True) for i in range(n)}
        self._v = {i: np.array(state[f"v.{i}"], copy=True) for i in range(n)}


class AdamExplicit(Optimizer):
    """adam with explicit m_hat, v_hat; moments in increment form m += (1-b1)(g - m); lazy
    state in lists on the first step."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self._t = 0
        self._m: list[np.ndarray] = []
        self._v: list[np.ndarray] = []

    def _gradient(self, p, g):
        return g + self.weight_decay * p if self.weight_decay else g

    def _corrections(self, t):
        return 1.0 - self.beta1 ** t, 1.0 - self.beta2 ** t

    def _direction(self, m, v, c1, c2):
        return (m / c1) / (np.sqrt(v / c2) + self.eps)

    def _update_moments(self, m, v, g):
        m += (1.0 - self.beta1) * (g - m)
        v += (1.0 - self.beta2) * (g * g - v)

    def _count(self):
        self._t += 1
        return self._t

    def step(self, params, grads, lr):
        if not self._m:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        t = self._count()
        c1, c2 = self._corrections(t)
        for p, g, m, v in zip(params, grads, self._m, self._v):
            g = self._gradient(p, g)
            self._update_moments(m, v, g)
            p -= lr * self._direction(m, v, c1, c2)

    def get_state(self):
        out = {"step_count": self._t}
        for i, (m, v) in enumerate(zip(self._m, self._v)):
            out[f"first_moment_{i}"] = m.copy()
            out[f"second_moment_{i}"] = v.copy()
        return out

    def set_state(self, state):
        self._t = int(state["step_count"])
        n = sum(1 for k in state if k.startswith("first_moment_"))
        self._m = [np.array(state[f"first_moment_{i}"], copy=True) for i in range(n)]
        self._v = [np.array(state[f"second_moment_{i}"], copy=True) for i in range(n)]


class AdamFlat64(Optimizer):
    """adam whose moments are one flat float64 vector for all parameters (concatenated); the
    float64 update is cast to each parameter's dtype (more accurate than float32 state)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self._t = 0
        self._m = None
        self._v = None

    def step(self, params, grads, lr):
        g = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in grads])
        if self.weight_decay:
            g = g + self.weight_decay * np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params])
        if self._m is None:
            self._m = np.zeros_like(g)
            self._v = np.zeros_like(g)
        self._t += 1
        b1, b2 = self.beta1, self.beta2
        self._m = b1 * self._m + (1 - b1) * g
        self._v = b2 * self._v + (1 - b2) * g * g
        m_hat = self._m / (1 - b1 ** self._t)
        v_hat = self._v / (1 - b2 ** self._t)
        update = lr * m_hat / (np.sqrt(v_hat) + self.eps)
        start = 0
        for p in params:
            stop = start + p.size
            p -= update[start:stop].reshape(p.shape).astype(p.dtype)
            start = stop

    def get_state(self):
        if self._m is None:
            return {"t": self._t}
        return {"t": self._t, "m": self._m.copy(), "v": self._v.copy()}

    def set_state(self, state):
        self._t = int(state["t"])
        self._m = np.array(state["m"], dtype=np.float64) if "m" in state else None
        self._v = np.array(state["v"], dtype=np.float64) if "v" in state else None


class AdamWCombined(AdamExplicit):
    """adamw as a single step theta -= eta (lambda theta + m_hat/(sqrt(v_hat) + eps)),
    the decay using theta_{t-1} (equal to (1 - eta lambda) theta then the Adam step)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(beta1, beta2, eps, weight_decay)

    def step(self, params, grads, lr):
        if not self._m:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        t = self._count()
        c1, c2 = self._corrections(t)
        for p, g, m, v in zip(params, grads, self._m, self._v):
            self._update_moments(m, v, g)
            p -= lr * (self.weight_decay * p + self._direction(m, v, c1, c2))


class AdamWDecayFirst(AdamFolded):
    """adamw: theta *= (1 - eta lambda) in place, then the folded Adam step (no L2 term)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(beta1, beta2, eps, weight_decay)

    def _gradient(self, p, g):
        return g

    def _decay(self, p, lr):
        if self.weight_decay:
            np.multiply(p, 1.0 - lr * self.weight_decay, out=p)


class RMSpropFull(Optimizer):
    """rmsprop with centered and momentum; averages in increment form v += (1-rho)(g^2 - v);
    lazy per-parameter state in a list of dicts."""

    def __init__(self, rho=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0):
        self.rho = check_number("rho", rho, low=0, high=1, high_inclusive=False)
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_inclusive=False)
        self.centered = check_bool("centered", centered)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)
        self._state: list[dict[str, np.ndarray]] = []

    def _square_avg(self, v, g):
        v += (1.0 - self.rho) * (g * g - v)

    def _denominator(self, s, g):
        if self.centered:
            s["gbar"] += (1.0 - self.rho) * (g - s["gbar"])
            var = np.maximum(s["v"] - s["gbar"] * s["gbar"], 0)
            return np.sqrt(var) + self.eps
        return np.sqrt(s["v"]) + self.eps

    def step(self, params, grads, lr):
        if not self._state:
            self._state = [{"v": np.zeros_like(p), "gbar": np.zeros_like(p), "b": np.zeros_like(p)}
                           for p in params]
        for p, g, s in zip(params, grads, self._state):
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._square_avg(s["v"], g)
            d = self._denominator(s, g)
            if self.momentum:
                b = s["b"]
                b *= self.momentum
                b += g / d
                p -= lr * b
            else:
                p -= lr * (g / d)

    def get_state(self):
        return {f"{key}/{i}": s[key].copy() for i, s in enumerate(self._state) for key in s}

    def set_state(self, state):
        n = len(state) // 3
        self._state = [{key: np.array(state[f"{key}/{i}"], copy=True) for key in ("v", "gbar", "b")}
                       for i in range(n)]


class RMSpropPlain(Optimizer):
    """rmsprop accepting only rho and eps (momentum, centered and weight_decay at the formula's
    defaults 0, False, 0): theta -= (eta g) / (sqrt(v) + eps)."""

    def __init__(self, rho=0.99, eps=1e-8):
        self.rho = rho
        self.eps = eps
        self._v = None

    def step(self, params, grads, lr):
        if self._v is None:
            self._v = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self._v):
            v *= self.rho
            v += (1.0 - self.rho) * np.square(g)
            p -= (lr * g) / (np.sqrt(v) + self.eps)

    def get_state(self):
        return {} if self._v is None else {f"sq{i}": v.copy() for i, v in enumerate(self._v)}

    def set_state(self, state):
        self._v = [np.array(state[f"sq{i}"], copy=True) for i in range(len(state))] or None


class AdagradAccumulator(Optimizer):
    """adagrad with G allocated in setup() (lazily if setup was not called) at
    initial_accumulator_value, G += g*g via np.add(out=), step g * reciprocal(sqrt(G) + eps)."""

    def __init__(self, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0):
        self.eps = check_number("eps", eps, low=0, low_inclusive=False)
        self.initial_accumulator_value = check_number("initial_accumulator_value", initial_accumulator_value,
                                                      low=0)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)
        self._G = None

    def setup(self, params):
        self._G = [np.full_like(p, self.initial_accumulator_value) for p in params]

    def _accumulate(self, G, g):
        np.add(G, g * g, out=G)

    def _scale(self, G):
        return np.reciprocal(np.sqrt(G) + self.eps)

    def step(self, params, grads, lr):
        if self._G is None:
            self.setup(params)
        for p, g, G in zip(params, grads, self._G):
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._accumulate(G, g)
            p -= lr * (g * self._scale(G))

    def get_state(self):
        return {} if self._G is None else {f"G{i}": G.copy() for i, G in enumerate(self._G)}

    def set_state(self, state):
        self._G = [np.array(state[f"G{i}"], copy=True) for i in range(len(state))] or None


# ---------------------------------------------------------------------------------------
# Mutants (each a correct component above with one fault)
# ---------------------------------------------------------------------------------------


class AdamNoBiasCorrection(AdamExplicit):
    def _corrections(self, t):
        return 1.0, 1.0


class AdamBiasCorrectionMOnly(AdamExplicit):
    def _corrections(self, t):
        return 1.0 - self.beta1 ** t, 1.0


class AdamEpsInsideSqrt(AdamExplicit):
    def _direction(self, m, v, c1, c2):
        return (m / c1) / np.sqrt(v / c2 + self.eps)


class AdamFoldedUnscaledEps(AdamFolded):
    def _step_size(self, lr, t):
        c2 = 1.0 - self.beta2 ** t
        return lr * math.sqrt(c2) / (1.0 - self.beta1 ** t), self.eps   # Keras: eps added to sqrt(v_t)


class AdamStepFromZero(AdamExplicit):
    def _count(self):
        t = self._t   # bias correction with t - 1: 1 - b^0 = 0 at the first step
        self._t += 1
        return t


class AdamStepPerParameter(AdamExplicit):
    def step(self, params, grads, lr):
        if not self._m:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        for p, g, m, v in zip(params, grads, self._m, self._v):
            t = self._count()   # counted once per parameter array, not once per step
            c1, c2 = self._corrections(t)
            g = self._gradient(p, g)
            self._update_moments(m, v, g)
            p -= lr * self._direction(m, v, c1, c2)


class AdamWeightDecayIgnored(AdamExplicit):
    def _gradient(self, p, g):
        return g


class AdamLiveState(AdamExplicit):
    def get_state(self):
        out = {"step_count": self._t}
        for i, (m, v) in enumerate(zip(self._m, self._v)):
            out[f"first_moment_{i}"] = m   # live buffers, overwritten by later steps
            out[f"second_moment_{i}"] = v
        return out


class AdamSetStateForgetsStep(AdamExplicit):
    def set_state(self, state):
        n = sum(1 for k in state if k.startswith("first_moment_"))
        self._m = [np.array(state[f"first_moment_{i}"], copy=True) for i in range(n)]
        self._v = [np.array(state[f"second_moment_{i}"], copy=True) for i in range(n)]


class AdamWCoupled(AdamFolded):
    """adamw written as Adam with an L2 term in the gradient."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(beta1, beta2, eps, weight_decay)


class AdamWDecayAfterStep(AdamWDecayFirst):
    def step(self, params, grads, lr):
        if not self._m:
            self.setup(params)
        self._t += 1
        alpha, eps_hat = self._step_size(lr, self._t)
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = self._m[i], self._v[i]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= alpha * (m / (np.sqrt(v) + eps_hat))
            self._decay(p, lr)   # decays theta_{t-1} - step instead of theta_{t-1}


class AdamWDecayNotScaledByLR(AdamWDecayFirst):
    def _decay(self, p, lr):
        if self.weight_decay:
            np.multiply(p, 1.0 - self.weight_decay, out=p)


class SGDClassicalMomentum(SGDDict):
    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if not self.momentum:
                p += (-lr) * g
                continue
            v = self._buf.get(i)
            if v is None:
                v = self._buf[i] = np.zeros_like(p)
            v *= self.momentum
            v += lr * g          # v = mu v + eta g (Sutskever), theta -= v
            if self.nesterov:
                p -= lr * g + self.momentum * v
            else:
                p -= v


class SGDMomentumDampened(SGDDict):
    def _direction(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not self.momentum:
            return g
        v = self._buf.get(i)
        if v is None:
            v = self._buf[i] = np.zeros_like(p)
        v *= self.momentum
        v += (1.0 - self.momentum) * g   # an average of the gradients, not a sum
        return g + self.momentum * v if self.nesterov else v


class SGDNesterovIsPlain(SGDDict):
    def _direction(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not self.momentum:
            return g
        v = self._buf.get(i)
        if v is None:
            v = self._buf[i] = np.zeros_like(p)
        v *= self.momentum
        v += g
        return v   # nesterov flag ignored


class SGDWeightDecayIgnored(SGDDict):
    def _direction(self, i, p, g):
        if not self.momentum:
            return g
        v = self._buf.get(i)
        if v is None:
            v = self._buf[i] = np.zeros_like(p)
        v *= self.momentum
        v += g
        return g + self.momentum * v if self.nesterov else v


class SGDRebindsParams(SGDDict):
    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            params[i] = p - lr * self._direction(i, p, g)   # new arrays, the network's are unchanged


class SGDScalesGradInPlace(SGDDict):
    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            d = self._direction(i, p, g)
            if d is g:
                p -= np.multiply(g, lr, out=g)   # the gradient reused as scratch: overwritten
            else:
                p += (-lr) * d


class SGDNoisy(SGDDict):
    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            d = self._direction(i, p, g)
            p += (-lr) * (d * (1.0 + 1e-3 * np.random.standard_normal(d.shape)))   # "gradient noise"


class SGDFloat64Step(SGDDict):
    def step(self, params, grads, lr):
        self._t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            p -= np.float64(lr) * self._direction(i, p, g).astype(np.float64)   # rounded once, in float64


class RMSpropRhoSwapped(RMSpropFull):
    def _square_avg(self, v, g):
        v += self.rho * (g * g - v)   # v = (1-rho) v + rho g^2


class RMSpropEpsInsideSqrt(RMSpropFull):
    def _denominator(self, s, g):
        if self.centered:
            s["gbar"] += (1.0 - self.rho) * (g - s["gbar"])
            return np.sqrt(np.maximum(s["v"] - s["gbar"] * s["gbar"], 0) + self.eps)
        return np.sqrt(s["v"] + self.eps)   # TensorFlow 1's placement


class RMSpropCenteredIgnored(RMSpropFull):
    def _denominator(self, s, g):
        return np.sqrt(s["v"]) + self.eps


class RMSpropNoClip(RMSpropFull):
    def _denominator(self, s, g):
        if self.centered:
            s["gbar"] += (1.0 - self.rho) * (g - s["gbar"])
            return np.sqrt(s["v"] - s["gbar"] * s["gbar"]) + self.eps   # may be sqrt of -1e-17
        return np.sqrt(s["v"]) + self.eps


class AdagradAccumulatesG(AdagradAccumulator):
    def _accumulate(self, G, g):
        np.add(G, g, out=G)


class AdagradEpsInsideSqrt(AdagradAccumulator):
    def _scale(self, G):
        return np.reciprocal(np.sqrt(G + self.eps))


class AdagradNoState(AdagradAccumulator):
    def get_state(self):
        return {}

    def set_state(self, state):
        pass


CORRECT: list[Case] = [
    Case("sgd_dict_neg_axpy", SGDDict(), implements=("sgd",),
         form="p += (-lr) * g (bitwise p - lr*g); lazy momentum buffers in a dict; get_state/set_state"),
    Case("sgd_dict_momentum_wd", SGDDict(momentum=0.9, weight_decay=1e-3), implements=("sgd",),
         form="the same, built with momentum 0.9 and weight_decay 1e-3 (L2 added to the gradient)"),
    Case("sgd_momentum_setup", SGDMomentumSetup(), implements=("sgd",),
         form="velocity list allocated in setup() only (no lazy fallback); np.multiply/np.add out="),
    Case("sgd_nesterov_expanded", SGDNesterovExpanded(), implements=("sgd",),
         form="Nesterov as theta -= eta((1+mu) g + mu^2 v_{t-1}), then v = mu v + g"),
    Case("adam_folded_step_size", AdamFolded(), implements=("adam",),
         form="alpha_t = lr sqrt(1-b2^t)/(1-b1^t), eps_hat = eps sqrt(1-b2^t): exactly eps on sqrt(v_hat)"),
    Case("adam_folded_l2", AdamFolded(beta1=0.8, beta2=0.99, eps=1e-3, weight_decay=0.1), implements=("adam",),
         form="folded form with a large eps 1e-3 (where eps goes matters) and L2 weight decay 0.1"),
    Case("adam_explicit_increment", AdamExplicit(), implements=("adam",),
         form="explicit m_hat, v_hat; m += (1-b1)(g - m); lazy list state"),
    Case("adam_flat_float64_state", AdamFlat64(), implements=("adam",),
         form="moments in one flat float64 vector for all parameters; update cast to each dtype"),
    Case("adamw_combined", AdamWCombined(), implements=("adamw",),
         form="theta -= eta (lambda theta + m_hat/(sqrt(v_hat)+eps)) in one expression"),
    Case("adamw_decay_first", AdamWDecayFirst(weight_decay=0.1), implements=("adamw",),
         form="np.multiply(p, 1 - eta lambda, out=p), then the folded Adam step"),
    Case("rmsprop_centered_momentum", RMSpropFull(momentum=0.5, centered=True), implements=("rmsprop",),
         form="increment-form averages; centered variance clipped at 0; momentum buffer of g/d"),
    Case("rmsprop_full_defaults", RMSpropFull(), implements=("rmsprop",),
         form="the same class at its defaults (no momentum, not centered)"),
    Case("rmsprop_rho_eps_only", RMSpropPlain(), implements=("rmsprop",),
         form="accepts only rho and eps (others at the formula's defaults); (lr g)/(sqrt v + eps)"),
    Case("adagrad_setup_reciprocal", AdagradAccumulator(initial_accumulator_value=0.1), implements=("adagrad",),
         form="G allocated in setup() at G_0 = 0.1; lr * g * reciprocal(sqrt(G) + eps)"),
    Case("sgd_float64_step", SGDFloat64Step(), implements=("sgd",),
         form="the step p - lr*g computed in float64 and rounded once to the parameter dtype (more accurate "
              "than the built-in's float32 arithmetic; reclassified from the mutants by the lead: not a fault)"),
]

MUTANTS: list[Case] = [
    Case("adam_no_bias_correction", AdamNoBiasCorrection(), implements=("adam",),
         breaks="adam: m_t/(1-b1^t) and v_t/(1-b2^t) (Adam's bias correction); none applied"),
    Case("adam_bias_correction_m_only", AdamBiasCorrectionMOnly(), implements=("adam",),
         breaks="adam: both moments are bias-corrected; v_hat = v_t/(1-b2^t) missing"),
    Case("adam_eps_inside_sqrt", AdamEpsInsideSqrt(eps=1e-3), implements=("adam",),
         breaks="adam: eps is added to sqrt(v_hat), outside the square root; here sqrt(v_hat + eps)"),
    Case("adam_folded_unscaled_eps", AdamFoldedUnscaledEps(eps=1e-3), implements=("adam",),
         breaks="adam: eps added to the bias-corrected sqrt(v_hat) as in the paper and PyTorch, not to sqrt(v_t) "
                "(Keras) -- the folded step size with an unscaled eps"),
    Case("adam_step_from_zero", AdamStepFromZero(), implements=("adam",),
         breaks="adam: t counts the steps from 1 (1 - b^t > 0); t - 1 used, 0/0 at the first step"),
    Case("adam_step_per_parameter", AdamStepPerParameter(), implements=("adam",),
         breaks="adam: t is the step count (one per call of step), not one per parameter array"),
    Case("adam_weight_decay_ignored", AdamWeightDecayIgnored(weight_decay=0.1), implements=("adam",),
         breaks="adam: weight_decay is an L2 penalty lambda theta added to the gradient; ignored"),
    Case("adam_live_state", AdamLiveState(), implements=("adam",),
         breaks="get_state must return a complete snapshot (copies, not live buffers the later steps overwrite)"),
    Case("adam_set_state_forgets_step", AdamSetStateForgetsStep(), implements=("adam",),
         breaks="set_state must restore all of the state, including the step count"),
    Case("adamw_coupled_l2", AdamWCoupled(), implements=("adamw",),
         breaks="adamw decays the weights directly (decoupled): theta <- (1 - eta lambda) theta, then the Adam "
                "step with no L2 term; here lambda theta is added to the gradient"),
    Case("adamw_decay_after_step", AdamWDecayAfterStep(weight_decay=0.5), implements=("adamw",),
         breaks="adamw: theta_t = (1 - eta lambda) theta_{t-1} - eta m_hat/(sqrt(v_hat)+eps): the decay applies to "
                "theta_{t-1}, not to the already-updated weights"),
    Case("adamw_decay_not_scaled_by_lr", AdamWDecayNotScaledByLR(), implements=("adamw",),
         breaks="decoupled weight decay is scaled by eta (a step with lr = 0 changes nothing)"),
    Case("sgd_classical_momentum", SGDClassicalMomentum(momentum=0.9), implements=("sgd",),
         breaks="sgd: v_t = mu v_{t-1} + g_t, theta -= eta v_t (PyTorch's form); the classical v = mu v + eta g "
                "differs when eta changes (with eta = 0 it still moves)"),
    Case("sgd_momentum_dampened", SGDMomentumDampened(momentum=0.9), implements=("sgd",),
         breaks="sgd: v_t = mu v_{t-1} + g_t (no dampening); here v_t = mu v_{t-1} + (1 - mu) g_t"),
    Case("sgd_nesterov_is_plain", SGDNesterovIsPlain(momentum=0.9, nesterov=True), implements=("sgd",),
         breaks="sgd Nesterov: theta -= eta (g_t + mu v_t); plain momentum used"),
    Case("sgd_weight_decay_ignored", SGDWeightDecayIgnored(weight_decay=0.01), implements=("sgd",),
         breaks="sgd weight_decay: g_t <- g_t + lambda theta_{t-1}; ignored"),
    Case("sgd_rebinds_params", SGDRebindsParams(), implements=("sgd",),
         breaks="step updates each params[i] in place (same array object); new arrays are allocated"),
    Case("sgd_scales_grad_in_place", SGDScalesGradInPlace(), implements=("sgd",),
         breaks="components never modify their inputs: the gradients are unchanged by step"),
    Case("sgd_noisy", SGDNoisy(), implements=("sgd",),
         breaks="components are deterministic functions of their inputs (np.random noise)"),
    Case("rmsprop_rho_swapped", RMSpropRhoSwapped(), implements=("rmsprop",),
         breaks="rmsprop: v_t = rho v_{t-1} + (1 - rho) g^2; rho and 1 - rho swapped"),
    Case("rmsprop_eps_inside_sqrt", RMSpropEpsInsideSqrt(eps=1e-3), implements=("rmsprop",),
         breaks="rmsprop: d = sqrt(v) + eps, eps outside the square root; here sqrt(v + eps)"),
    Case("rmsprop_centered_ignored", RMSpropCenteredIgnored(centered=True), implements=("rmsprop",),
         breaks="rmsprop centered: d = sqrt(v - gbar^2) + eps; centered ignored"),
    Case("rmsprop_centered_no_clip", RMSpropNoClip(centered=True), implements=("rmsprop",),
         breaks="rmsprop: the centered variance is clipped at 0 against rounding (else sqrt of a negative: NaN)"),
    Case("adagrad_accumulates_g", AdagradAccumulatesG(), implements=("adagrad",),
         breaks="adagrad: G_t = G_{t-1} + g_t^2; accumulates g"),
    Case("adagrad_eps_inside_sqrt", AdagradEpsInsideSqrt(eps=1e-3), implements=("adagrad",),
         breaks="adagrad: theta -= eta g/(sqrt(G) + eps), eps outside the root; here sqrt(G + eps)"),
    Case("adagrad_no_state", AdagradNoState(), implements=("adagrad",),
         breaks="state that changes during training must round-trip through get_state/set_state "
                "(the accumulator is not saved)"),
]
