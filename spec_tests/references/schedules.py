"""References of the schedules formulas (see :mod:`neuroplug.spec.formulas`)."""

from __future__ import annotations
