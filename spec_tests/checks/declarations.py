r"""Contract checks of what a registration declares: ``<KIND>-DECLARATIONS``.

A declaration the suite cannot act on must never change a verdict silently: an
``implements`` name outside the vocabulary would check nothing, an unknown
``expected_failed_checks`` ID would excuse nothing, an example config the
constructor does not accept would never be built. Each is a failure here,
naming the valid values (with close matches). :func:`neuroplug.spec.check_component`
raises ``ValueError`` for the same problems in its own arguments.
"""

from __future__ import annotations

from ..framework import Subject, fail, spec_check

__all__: list[str] = []

_PREFIX = {"activation": "ACT", "initializer": "INIT", "loss": "LOSS", "schedule": "SCHED", "optimizer": "OPT"}


def _declarations(subject: Subject) -> None:
    from ..runner import declaration_problems

    problems = declaration_problems(subject)
    if problems:
        fail("the registration declares what the spec suite cannot check: fix these declarations\n- "
             + "\n- ".join(problems))


def _register(kind: str, prefix: str) -> None:
    def check(subject: Subject) -> None:
        _declarations(subject)

    check.__name__ = check.__qualname__ = f"check_declarations_{kind}"
    check.__doc__ = rf"""Everything the {kind} declares can be acted on: each ``implements`` name is a
    {kind} formula of the vocabulary (aliases included), each ``expected_failed_checks``
    ID is a check of a {kind}, each ``example_configs`` entry sets only parameters the
    constructor accepts, and each ``parameter_space`` entry is a valid
    ``neuroplug.Param`` for an accepted parameter. Deterministic."""
    spec_check(f"{prefix}-DECLARATIONS", kind, layer="contract",
               title="declarations name known formulas, checks and parameters",
               formula=r"\mathrm{implements} \subseteq \mathrm{vocabulary},\ "
                       r"\mathrm{expected\_failed\_checks} \subseteq \mathrm{checks}")(check)


for _kind, _prefix in _PREFIX.items():
    _register(_kind, _prefix)
