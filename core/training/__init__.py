"""Training: :func:`fit`, its callbacks, checkpoints, and the loop (the layer above the model).

What lives here, one concern per module: :mod:`.api` (:func:`fit` and its arguments, checked
before any weight changes), :mod:`.loop` (the epochs and the steps),
:mod:`.callbacks` (:class:`History`, :class:`Callback`, :class:`EarlyStopping`),
:mod:`.boundary` (components' outputs checked before they are used),
:mod:`.divergence` (naming what became non-finite), :mod:`.interrupt` (Ctrl-C)
and :mod:`.checkpoint` (the whole state of a run, saved and validated).
It imports the contract, the model and :mod:`neuroplug.serialization`; nothing
below it imports it.
"""

from __future__ import annotations

from .callbacks import Callback, EarlyStopping, History, TrainingState
from .checkpoint import Checkpoint, Checkpointing, load_checkpoint
from .api import fit
from .loop import DEFAULT_MAX_GROWTH

__all__ = ["fit", "History", "Callback", "EarlyStopping", "TrainingState", "Checkpoint", "Checkpointing",
           "load_checkpoint", "DEFAULT_MAX_GROWTH"]
