"""References of the losses formulas (see :mod:`neuroplug.spec.formulas`)."""

from __future__ import annotations
