"""References of the activations formulas (see :mod:`neuroplug.spec.formulas`)."""

from __future__ import annotations
