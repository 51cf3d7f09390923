"""The model: :class:`~neuroplug.Dense` layers and the :class:`~neuroplug.Sequential` network.

Forward and backward passes, weights, prediction, and the preallocated training
plans the loop runs. It imports the plugin contract only (components are created
by name through the registry); the training loop, file formats and applications
import it, never the other way round.
"""

from __future__ import annotations

from .layers import Dense
from .network import Sequential

__all__ = ["Dense", "Sequential"]
