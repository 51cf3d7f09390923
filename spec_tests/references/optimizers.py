"""References of the optimizers formulas (see :mod:`neuroplug.spec.formulas`)."""

from __future__ import annotations
