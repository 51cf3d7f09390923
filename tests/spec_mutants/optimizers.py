"""Deliberately wrong optimizers (see ``spec_mutants/__init__.py``)."""

from __future__ import annotations

import numpy as np

from neuroplug.base import Optimizer

from . import Mutant


class _Plain(Optimizer):
    """theta -= factor * lr * g, in place."""

    factor = 1.0

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= p.dtype.type(self.factor * lr) * g


class SGDTwice(_Plain):
    """sgd that applies lr * g twice."""

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= p.dtype.type(lr) * g
            p -= p.dtype.type(lr) * g


class SGDHalf(_Plain):
    """sgd that uses lr / 2 (a stray 1/2 from the gradient of 1/2 (y - t)^2)."""

    factor = 0.5


class SGDFirstLayerOnly(Optimizer):
    """sgd whose loop stops after the first (W, b) pair: deeper layers never learn."""

    def step(self, params, grads, lr):
        for p, g in list(zip(params, grads))[:2]:
            p -= p.dtype.type(lr) * g


class Rebinds(Optimizer):
    """Rebinds the list entries to new arrays instead of updating them in place."""

    def step(self, params, grads, lr):
        for i, (p, g) in enumerate(zip(params, grads)):
            params[i] = p - p.dtype.type(lr) * g


class MutatesGrads(Optimizer):
    """Scales the gradient arrays in place (g *= lr) to save a temporary."""

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            g *= g.dtype.type(lr)
            p -= g


class LiveState(Optimizer):
    """Momentum whose get_state() returns the live velocity buffers, not copies."""

    def __init__(self, momentum: float = 0.9):
        self.momentum = momentum
        self.velocity = None

    def setup(self, params):
        self.velocity = [np.zeros_like(p) for p in params]

    def step(self, params, grads, lr):
        for p, g, v in zip(params, grads, self.velocity):
            v *= v.dtype.type(self.momentum)
            v += g
            p -= p.dtype.type(lr) * v

    def get_state(self):
        return {f"velocity.{i}": v for i, v in enumerate(self.velocity)}

    def set_state(self, state):
        for i, v in enumerate(self.velocity):
            v[...] = state[f"velocity.{i}"]


class SignStep(Optimizer):
    """Ignores lr: moves every weight by 0.01 sign(g)."""

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= p.dtype.type(0.01) * np.sign(g)


class ClippedStep(Optimizer):
    """Clips the whole update lr * g to a norm of at most 1e-3 (a trust region that hides lr)."""

    def step(self, params, grads, lr):
        norm = float(np.sqrt(sum(np.sum((lr * g.astype(np.float64)) ** 2) for g in grads)))
        scale = lr * min(1.0, 1e-3 / norm) if norm > 0 else 0.0
        for p, g in zip(params, grads):
            p -= p.dtype.type(scale) * g


class Ascends(Optimizer):
    """Moves with the gradient instead of against it."""

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p += p.dtype.type(lr) * g


class UnscaledDecay(Optimizer):
    """Decoupled weight decay not scaled by lr (theta *= 1 - wd): decays even with lr = 0."""

    def __init__(self, weight_decay: float = 1e-3):
        self.weight_decay = weight_decay

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p *= p.dtype.type(1 - self.weight_decay)
            p -= p.dtype.type(lr) * g


class Noisy(Optimizer):
    """Gradient noise from an unseeded generator (not reproducible)."""

    def step(self, params, grads, lr):
        rng = np.random.default_rng()
        for p, g in zip(params, grads):
            p -= p.dtype.type(lr) * (g + 0.01 * rng.standard_normal(g.shape)).astype(p.dtype)


class ForgetfulConfig(Optimizer):
    """Scaled sgd whose get_config() forgets the scale."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def get_config(self):
        return {}

    def step(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= p.dtype.type(self.scale * lr) * g


class ListState(_Plain):
    """get_state() returns a list of arrays instead of a dict."""

    def get_state(self):
        return []

    def set_state(self, state):
        pass


# ----------------------------------------------------------------- formula faults (OPT-FORMULA)
class _Stateful(Optimizer):
    """A textbook optimizer written per parameter in float64 state; subclasses define ``_update``."""

    def setup(self, params):
        self.t = 0
        self.state = [{} for _ in params]

    def step(self, params, grads, lr):
        if getattr(self, "state", None) is None:
            self.setup(params)
        self.t += 1
        for p, g, st in zip(params, grads, self.state):
            delta = self._update(p.astype(np.float64), g.astype(np.float64), lr, st)
            p -= delta.astype(p.dtype)

    def get_state(self):
        return {"t": self.t, "state": [{k: v.copy() for k, v in st.items()} for st in self.state]}

    def set_state(self, state):
        self.t = state["t"]
        self.state = [{k: v.copy() for k, v in st.items()} for st in state["state"]]


class _Adam(_Stateful):
    """Adam (bias-corrected), with hooks for the single faults below."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay

    def _grad(self, p, g):
        return g + self.weight_decay * p

    def _decay(self, p, lr):
        return 0.0

    def _denominator(self, v_hat):
        return np.sqrt(v_hat) + self.eps

    def _corrections(self):
        return 1 - self.beta1**self.t, 1 - self.beta2**self.t

    def _update(self, p, g, lr, st):
        g = self._grad(p, g)
        m = st["m"] = self.beta1 * st.get("m", 0.0) + (1 - self.beta1) * g
        v = st["v"] = self._beta2() * st.get("v", 0.0) + (1 - self._beta2()) * g * g
        c1, c2 = self._corrections()
        return self._decay(p, lr) + lr * (m / c1) / self._denominator(v / c2)

    def _beta2(self):
        return self.beta2


class AdamNoBiasCorrection(_Adam):
    """Adam without the bias corrections 1 - beta^t (m and v used as they are)."""

    def _corrections(self):
        return 1.0, 1.0


class AdamCorrectsMOnly(_Adam):
    """Adam that bias-corrects m but not v."""

    def _corrections(self):
        return 1 - self.beta1**self.t, 1.0


class AdamEpsInsideSqrt(_Adam):
    """Adam with eps inside the square root: sqrt(v_hat + eps)."""

    def _denominator(self, v_hat):
        return np.sqrt(v_hat + self.eps)


class AdamIgnoresBeta2(_Adam):
    """Adam that keeps beta2 in its config but always uses 0.999: right for the default only."""

    def _beta2(self):
        return 0.999


class AdamWCoupled(_Adam):
    """"adamw" whose weight decay is added to the gradient (L2), not decoupled."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(beta1, beta2, eps, weight_decay)


class AdamWDecaysAfterStep(_Adam):
    """"adamw" that decays the weights after the Adam step instead of before: (theta - lr u)(1 - lr wd)."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(beta1, beta2, eps, weight_decay)

    def _grad(self, p, g):
        return g

    def _update(self, p, g, lr, st):
        step = super()._update(p, g, lr, st)
        return step + self.weight_decay * lr * (p - step)


class _SGD(_Stateful):
    """PyTorch's SGD (momentum buffer starting as g, Nesterov, L2), with hooks for single faults."""

    def __init__(self, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _grad(self, p, g):
        return g + self.weight_decay * p

    def _buffer(self, buf, g):
        return self.momentum * buf + g

    def _direction(self, g, buf):
        return g + self.momentum * buf if self.nesterov else buf

    def _update(self, p, g, lr, st):
        g = self._grad(p, g)
        if not self.momentum:
            return lr * g
        buf = st["buf"] = self._buffer(st["buf"], g) if "buf" in st else g
        return lr * self._direction(g, buf)


class NesterovIsMomentum(_SGD):
    """Accepts nesterov=True but takes the plain momentum step (b instead of g + mu b)."""

    def _direction(self, g, buf):
        return buf


class SGDIgnoresWeightDecay(_SGD):
    """Accepts weight_decay and reports it in its config, but never applies it."""

    def _grad(self, p, g):
        return g


class MomentumWithDampening(_SGD):
    """"momentum" that damps the gradient: b = mu b + (1 - mu) g (an exponential average)."""

    def __init__(self, momentum=0.9):
        super().__init__(momentum=momentum)

    def _buffer(self, buf, g):
        return self.momentum * buf + (1 - self.momentum) * g


class FirstRateForever(_SGD):
    """sgd that keeps the learning rate of its first step (e.g. cached in setup)."""

    def _update(self, p, g, lr, st):
        self.__dict__.setdefault("first_lr", lr)
        return super()._update(p, g, self.first_lr, st)

    def setup(self, params):
        super().setup(params)
        self.__dict__.pop("first_lr", None)


class RMSpropSwapsRho(_Stateful):
    """RMSprop with rho and 1 - rho swapped: v = (1 - rho) v + rho g^2."""

    def __init__(self, rho=0.99, eps=1e-8):
        self.rho, self.eps = rho, eps

    def _update(self, p, g, lr, st):
        v = st["v"] = (1 - self.rho) * st.get("v", 0.0) + self.rho * g * g
        return lr * g / (np.sqrt(v) + self.eps)


class AdagradSumsG(_Stateful):
    """Adagrad accumulating |g| instead of g^2."""

    def __init__(self, eps=1e-10):
        self.eps = eps

    def _update(self, p, g, lr, st):
        total = st["G"] = st.get("G", 0.0) + np.abs(g)
        return lr * g / (np.sqrt(total) + self.eps)


class AdagradSumsSignedG(AdagradSumsG):
    """Adagrad accumulating the signed g instead of g^2 (the sum goes negative: sqrt of a negative number)."""

    def _update(self, p, g, lr, st):
        total = st["G"] = st.get("G", 0.0) + g
        return lr * g / (np.sqrt(total) + self.eps)


FIT = "LR-FIT-STEP"
FORMULA = "OPT-FORMULA"

MUTANTS = [
    Mutant("sgd_lr_twice", SGDTwice(), {"LR-SGD-EXACT", FIT, FORMULA}, implements=("sgd",), fix_hint="fix step()",
           notes="a wrong sgd step is also wrong inside fit"),
    Mutant("sgd_half_lr", SGDHalf(), {"LR-SGD-EXACT", FIT, FORMULA}, implements=("sgd",), fix_hint="fix step()"),
    Mutant("sgd_first_layer_only", SGDFirstLayerOnly(), {FIT, FORMULA}, implements=("sgd",),
           fix_hint="fix step()",
           notes="correct on the 2-array checks; the 2-layer network and OPT-FORMULA's 3 arrays show the "
                 "missing update"),
    Mutant("rebinds", Rebinds(), {"OPT-INPLACE"}, fix_hint="not rebind"),
    Mutant("mutates_grads", MutatesGrads(), {"OPT-NO-GRAD-MUTATION"}, fix_hint="instead of g *="),
    Mutant("live_state", LiveState(), {"OPT-STATE-ROUNDTRIP"}, fix_hint="complete snapshot"),
    Mutant("ignores_lr", SignStep(), {"LR-LARGER-MORE", "OPT-ZERO-LR"}, fix_hint="learning rate",
           notes="a fixed-size step: neither lr = 0 nor 2 lr change it"),
    Mutant("clipped_step", ClippedStep(), {"LR-LARGER-MORE"}, fix_hint="grow with lr"),
    Mutant("ascends", Ascends(), {"OPT-DESCENT"}, fix_hint="against the gradient"),
    Mutant("unscaled_decay", UnscaledDecay(), {"OPT-ZERO-LR"}, fix_hint="scaled by the learning rate"),
    Mutant("noisy", Noisy(), {"OPT-DETERMINISTIC"}, fix_hint="unseeded randomness"),
    Mutant("opt_config_forgets_scale", ForgetfulConfig(scale=0.3), {"OPT-CONFIG-ROUNDTRIP"},
           fix_hint="get_config() must return every constructor parameter"),
    Mutant("state_is_a_list", ListState(), {"OPT-INTERFACE"}, fix_hint="dict with string keys"),
    # formula faults: each passes every contract check and fails OPT-FORMULA
    Mutant("adam_no_bias_correction", AdamNoBiasCorrection(), {FORMULA}, implements=("adam",),
           fix_hint="The very first step is already off", notes="passed everything before OPT-FORMULA"),
    Mutant("adam_bias_correction_m_only", AdamCorrectsMOnly(), {FORMULA}, implements=("adam",),
           fix_hint="formula 'adam'"),
    Mutant("adam_eps_inside_sqrt", AdamEpsInsideSqrt(), {FORMULA}, implements=("adam",),
           fix_hint="formula 'adam'", notes="caught at the default eps by the array with small gradients"),
    Mutant("adam_ignores_drawn_beta2", AdamIgnoresBeta2(), {FORMULA}, implements=("adam",),
           fix_hint="beta2=", notes="right for its own config: caught by the formula's other configs (its "
                                    "examples and the configs drawn from its parameter ranges)"),
    Mutant("adamw_coupled_decay", AdamWCoupled(), {FORMULA}, implements=("adamw",), fix_hint="formula 'adamw'"),
    Mutant("adamw_decays_after_step", AdamWDecaysAfterStep(), {FORMULA}, implements=("adamw",),
           fix_hint="formula 'adamw'", notes="off by lr^2 wd u per step"),
    Mutant("nesterov_is_plain_momentum", NesterovIsMomentum(), {FORMULA}, implements=("sgd",),
           fix_hint="nesterov=True", notes="caught by the formula's example config with nesterov=True"),
    Mutant("nesterov_claim_plain_momentum", NesterovIsMomentum(momentum=0.9, nesterov=True), {FORMULA},
           implements=("nesterov",), fix_hint="formula 'nesterov'"),
    Mutant("sgd_ignores_weight_decay", SGDIgnoresWeightDecay(), {FORMULA}, implements=("sgd",),
           fix_hint="weight_decay="),
    Mutant("momentum_with_dampening", MomentumWithDampening(), {FORMULA}, implements=("momentum",),
           fix_hint="formula 'momentum'"),
    Mutant("sgd_first_lr_forever", FirstRateForever(), {FORMULA, "LR-SGD-EXACT", "LR-LARGER-MORE"},
           implements=("sgd",), fix_hint="lr", notes="the learning rate changes at every step of OPT-FORMULA and "
                                                     "LR-SGD-EXACT; LR-LARGER-MORE's second step doubles it"),
    Mutant("rmsprop_rho_swapped", RMSpropSwapsRho(), {FORMULA}, implements=("rmsprop",),
           fix_hint="formula 'rmsprop'"),
    Mutant("adagrad_accumulates_abs_g", AdagradSumsG(), {FORMULA}, implements=("adagrad",),
           fix_hint="formula 'adagrad'", notes="G += |g|: finite, but not the formula"),
    Mutant("adagrad_accumulates_g", AdagradSumsSignedG(), {FORMULA}, implements=("adagrad",), exact=False,
           fix_hint="non-finite value", notes="G += g goes negative: NaN steps (and a RuntimeWarning in the "
                                              "contract checks)"),
]
