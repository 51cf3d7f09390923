"""Closed-form references of every claimable formula, one module per kind.

Each module registers its formulas with :func:`neuroplug.spec.formulas.register_formula`
and documents what a reference of its kind computes. References are written for
clarity, in float64 (or higher precision where it matters), and never import
``neuroplug.plugins``.
"""

from . import activations, initializers, losses, optimizers, schedules  # noqa: F401
