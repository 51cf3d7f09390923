"""The hook specifications: the whole contract between neuroplug and its plugins.

A plugin is a module (or object) named by an entry point in the ``neuroplug``
group that implements some of these hooks with ``@neuroplug.hookimpl``. Each hook
returns (or yields) registrations of one kind; the docstrings below are the
documentation of the hooks. Hooks take no arguments and are called once per
plugin, when the registry is first used -- never during training.

A function whose name starts with ``neuroplug_`` but is not one of these hooks
is a load failure (a misspelled hook is reported, not ignored).
"""

from __future__ import annotations

from typing import Iterable

import pluggy

from .types import (
    ActivationRegistration,
    InitializerRegistration,
    LossRegistration,
    OptimizerRegistration,
    ScheduleRegistration,
)

PROJECT_NAME = "neuroplug"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marker for hook implementations in plugins, used as ``@neuroplug.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def neuroplug_activations() -> Iterable[ActivationRegistration]:
    """Return the activation functions this plugin provides.

    Example (a complete plugin module)::

        import numpy as np
        import neuroplug
        from neuroplug import Activation, ActivationRegistration

        class Cube(Activation):
            def forward(self, z, out=None):
                return np.power(z, 3, out=out)

            def derivative(self, z, a):
                return 3 * z * z

        @neuroplug.hookimpl
        def neuroplug_activations():
            yield ActivationRegistration(
                name="cube", factory=Cube, summary="z cubed",
                formula=r"\\varphi(z) = z^3", derivative=r"\\varphi'(z) = 3z^2")
    """


@hookspec
def neuroplug_initializers() -> Iterable[InitializerRegistration]:
    """Return the weight initializers this plugin provides.

    Example::

        import numpy as np
        import neuroplug
        from neuroplug import Initializer, InitializerRegistration

        class Halves(Initializer):
            def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
                return np.full((fan_in, fan_out), 0.5, dtype=dtype)

        @neuroplug.hookimpl
        def neuroplug_initializers():
            return [InitializerRegistration(name="halves", factory=Halves)]
    """


@hookspec
def neuroplug_losses() -> Iterable[LossRegistration]:
    """Return the loss functions this plugin provides.

    Example::

        import numpy as np
        import neuroplug
        from neuroplug import Loss, LossRegistration

        class SumSquares(Loss):
            def forward(self, y_pred, y_true):
                return float(np.sum((y_pred - y_true) ** 2))

            def gradient(self, y_pred, y_true):
                return 2 * (y_pred - y_true)

        @neuroplug.hookimpl
        def neuroplug_losses():
            yield LossRegistration(name="sum_squares", factory=SumSquares)
    """


@hookspec
def neuroplug_schedules() -> Iterable[ScheduleRegistration]:
    """Return the learning-rate schedules this plugin provides.

    Example::

        import neuroplug
        from neuroplug import Schedule, ScheduleRegistration

        class Halving(Schedule):
            decaying = True

            def __init__(self, unit="epoch"):
                self.unit = unit

            def __call__(self, step, base_lr):
                return base_lr * 0.5 ** step

        @neuroplug.hookimpl
        def neuroplug_schedules():
            yield ScheduleRegistration(name="halving", factory=Halving)
    """


@hookspec
def neuroplug_optimizers() -> Iterable[OptimizerRegistration]:
    """Return the optimizers this plugin provides.

    Example::

        import numpy as np
        import neuroplug
        from neuroplug import Optimizer, OptimizerRegistration

        class SignSGD(Optimizer):
            def step(self, params, grads, lr):
                for p, g in zip(params, grads):
                    p -= lr * np.sign(g)

        @neuroplug.hookimpl
        def neuroplug_optimizers():
            yield OptimizerRegistration(name="sign_sgd", factory=SignSGD)
    """


#: Hook name of each component kind.
HOOK_OF_KIND = {
    "activation": "neuroplug_activations",
    "initializer": "neuroplug_initializers",
    "loss": "neuroplug_losses",
    "schedule": "neuroplug_schedules",
    "optimizer": "neuroplug_optimizers",
}
