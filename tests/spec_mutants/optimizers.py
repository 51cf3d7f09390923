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


FIT = "LR-FIT-STEP"

MUTANTS = [
    Mutant("sgd_lr_twice", SGDTwice(), {"LR-SGD-EXACT", FIT}, implements=("sgd",), fix_hint="-lr * ",
           notes="a wrong sgd step is also wrong inside fit"),
    Mutant("sgd_half_lr", SGDHalf(), {"LR-SGD-EXACT", FIT}, implements=("sgd",), fix_hint="-lr * "),
    Mutant("sgd_first_layer_only", SGDFirstLayerOnly(), {FIT}, implements=("sgd",),
           fix_hint="update all parameters passed to step()",
           notes="correct on the 2-array checks; only the 2-layer network shows the missing update"),
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
]
