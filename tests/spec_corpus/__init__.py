"""A blind differential corpus for the spec suite.

Every component here was written from the public plugin-author documentation
alone (docs/, the interfaces' docstrings and the registrations' formulas),
without reading ``spec_tests/``:

* ``CORRECT``: components that implement a formula correctly but are written
  *differently* from the built-ins (other algebraic forms, other stable
  identities, optional parts left at their defaults). The suite must pass
  every one of them: a failure is a false failure of the suite.
* ``MUTANTS``: single-fault components, each naming in ``breaks`` the statement
  of the docs it violates. The suite must fail every one of them.

``tests/test_spec_corpus.py`` runs the suite on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Case"]


@dataclass(frozen=True)
class Case:
    """One component of the corpus and what its author declares about it."""

    #: A short unique label, e.g. ``"sigmoid_via_tanh"``.
    label: str
    #: The component instance (unregistered).
    component: Any
    #: Formulas it claims (``implements=`` of a registration).
    implements: tuple[str, ...] = ()
    #: Properties it declares (``properties=`` of a registration).
    properties: tuple[str, ...] = ()
    #: How it is written (correct ones) -- what makes it differ from the built-in.
    form: str = ""
    #: The statement of the docs a mutant breaks (None for a correct component).
    breaks: str | None = None
    #: Any further declarations passed to ``check_component`` (e.g. ``example_configs``).
    extra: Mapping[str, Any] = field(default_factory=dict)
