"""Ctrl-C during :func:`~neuroplug.fit`: stop after the current step, in a consistent state."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from .divergence import _rms

__all__ = ["CatchSigint", "stop_interrupted"]


class CatchSigint:
    """While active, Ctrl-C only sets ``flag[0]``: :func:`fit` stops after the current step.

    Installed only in the main thread and only over Python's default handler (a
    program's own SIGINT handler is left alone). After the first Ctrl-C the
    previous handler is back, so a second Ctrl-C interrupts at once.
    """

    def __init__(self, flag: list[bool]) -> None:
        self.flag = flag
        self.installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.flag[0] = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> "CatchSigint":
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._handler)
            self.installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.installed and signal.getsignal(signal.SIGINT) == self._handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_interrupted(run: Any) -> None:
    """Ctrl-C: write the checkpoint (if a path was given) and raise TrainingInterrupted."""
    from ..errors import TrainingInterrupted

    ckpt = run.capture()
    path = None
    where = f"epoch {run.epoch}, batch {run.batch} (step {run.step})"
    # a state no checkpoint file may hold (it would resume a run past max_growth's limit
    # with a limit relative to the blown-up weights) stays in the exception only
    blown = run._blown()
    if run.policy is not None and blown is None:
        path = os.fspath(run.policy.path)
        ckpt.save(path)
        message = f"training interrupted at {where}; checkpoint saved to {path!r}"
    elif run.policy is not None:
        why = ("a weight is non-finite" if blown == "weights" else
               f"the weights blew up in this epoch (RMS {_rms(run.params):.3g}, past max_growth's limit "
               f"{run.growth_limit:.3g})")
        message = (f"training interrupted at {where}; no checkpoint written: {why}. The state is in "
                   f"this exception's `checkpoint`; {os.fspath(run.policy.path)!r} holds an earlier one "
                   f"if any was written")
    else:
        message = (f"training interrupted at {where}; the state is in this exception's "
                   f"`checkpoint` (fit(checkpoint=PATH) writes it to disk)")
    raise TrainingInterrupted(message, checkpoint=ckpt, path=path)
