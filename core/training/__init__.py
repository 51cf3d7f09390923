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

from typing import TYPE_CHECKING, Any

from .callbacks import Callback, EarlyStopping, History, TrainingState
from .api import fit
from .loop import DEFAULT_MAX_GROWTH

__all__ = ["fit", "History", "Callback", "EarlyStopping", "TrainingState", "Checkpoint", "Checkpointing",
           "load_checkpoint", "DEFAULT_MAX_GROWTH"]

#: Imported on first use (PEP 562): a fit without checkpoints never loads them.
_CHECKPOINT_NAMES = ("Checkpoint", "Checkpointing", "load_checkpoint")


def __getattr__(name: str) -> Any:
    if name in _CHECKPOINT_NAMES:
        from . import checkpoint

        value = getattr(checkpoint, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .checkpoint import Checkpoint, Checkpointing, load_checkpoint
