"""The built-in spec checks, one module per kind and concern; importing this package registers them.

Each module registers its checks with :func:`neuroplug.spec.framework.spec_check`
when imported; the framework knows none of them, and :mod:`neuroplug.spec.runner`
imports this package (see :func:`~neuroplug.spec.runner.load_checks`). The order
below is the order of the reports: per kind, the contract checks, then the
formula checks, then the declarations and the property checks (whose vocabulary
is :mod:`.properties`).
"""

from __future__ import annotations

from . import activation, activation_formulas  # noqa: F401  (in the order of the reports)
from . import declarations, initializer, loss, loss_formulas, optimizer, schedule  # noqa: F401
from . import properties_activation, properties_initializer, properties_loss  # noqa: F401
