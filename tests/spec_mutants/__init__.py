"""Deliberately wrong components: the spec suite's teeth.

Each module here (one per kind) defines ``MUTANTS``, a list of :class:`Mutant`:
a component that is wrong in one way, the declarations a plugin author would
make for it, and the IDs of the spec checks that must fail on it. The meta-tests
(``tests/test_spec_teeth.py``) show that each mutant fails at least the checks it
targets, that a correct component fails none, and that every check ID is failed
by at least one mutant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mutant:
    """A wrong component and what the spec suite must say about it.

    Attributes
    ----------
    name : str
        A short id, used in test ids (``"sigmoid_overflows"``).
    component : object
        The (wrong) component instance.
    kills : set of str
        Check IDs that must fail on it.
    properties, implements : tuple of str
        What its author declares (the checks of these claims are the targets).
    exact : bool
        When True, *only* the ``kills`` checks may fail (others must pass or skip).
    fix_hint : str
        A fragment the failure message must contain (it says what to fix).
    """

    name: str
    component: Any
    kills: set[str]
    properties: tuple[str, ...] = ()
    implements: tuple[str, ...] = ()
    exact: bool = True
    fix_hint: str = ""
    notes: str = field(default="")
