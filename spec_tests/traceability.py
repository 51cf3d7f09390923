"""Which spec checks encode which statement of the source notes.

Each statement below paraphrases one claim of the notes the project was founded
on; every check lists the statements it encodes in its ``notes``. The docs print
:func:`table`, and a test asserts that no statement is left without a check.
"""

from __future__ import annotations

from .framework import all_checks

__all__ = ["STATEMENTS", "table", "uncovered"]

#: (key, statement) in the order of the notes.
STATEMENTS: tuple[tuple[str, str], ...] = (
    ("neuron", "A neuron computes z = φ(Σᵢ xᵢ·wᵢ + b) from its inputs, weights and bias (e.g. φ = tanh)."),
    ("activations", "Other functions serve as activations in the same place: relu, sigmoid, ..."),
    ("layers", "Neurons are connected in layers to form a network."),
    ("learning_rate", "The learning rate sets how far the weights move against the gradient; "
                      "a larger rate makes larger adjustments."),
    ("lr_decay", "The learning rate is often reduced progressively as training goes on."),
    ("lr_schedules", "The learning rate can be controlled programmatically by mathematical functions."),
    ("random_init", "Weights start as random values, which the optimisation then adjusts."),
    ("xavier", "Xavier initialization: w ~ U[-1/√n, 1/√n], n = inputs of the node."),
    ("normalized_xavier", "Normalized Xavier: w ~ U[-√6/√(n+m), √6/√(n+m)], m = outputs of the layer."),
    ("loss_minimization", "Training minimises the loss, the difference between predicted and actual output."),
    ("mse", "Mean squared error: the mean of squared differences (negative deviations do not cancel)."),
    ("smooth_l1", "Smooth L1: absolute error when |d| > 1 (quadratic below), which prevents exploding gradients."),
    ("cross_entropy", "Cross-entropy penalises incorrect predictions more the more confident they are."),
    ("chain_rule", "Backpropagation: ∂L/∂w = ∂L/∂a · ∂a/∂w, by the chain rule, layer by layer."),
)


def table() -> list[tuple[str, str, list[str]]]:
    """``(key, statement, [check IDs])`` for every statement."""
    checks = all_checks()
    return [(key, text, [c.id for c in checks if key in c.notes]) for key, text in STATEMENTS]


def uncovered() -> list[str]:
    """Statement keys that no check encodes (should be empty)."""
    return [key for key, _, ids in table() if not ids]
