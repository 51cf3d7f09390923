"""References of the initializers formulas (see :mod:`neuroplug.spec.formulas`)."""

from __future__ import annotations
