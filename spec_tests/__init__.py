"""neuroplug's spec suite: every formula of the source notes as a named check.

Validate installed components::

    neuroplug spec                      # every installed component
    neuroplug spec swish                # everything a plugin (or distribution) provides
    neuroplug spec activation:swish     # one component
    neuroplug spec swish --format json  # or --format junit -o report.xml

From Python::

    from neuroplug.spec import check_component, run_spec
    report = check_component(MySwish(), expected_failed_checks={"PROP-MONOTONIC": "dips below zero"})
    assert report.ok, report

In a plugin's own pytest suite (one test per check, IDs usable with ``-k``)::

    from neuroplug.spec import parametrize_spec

    @parametrize_spec(MySwish())
    def test_spec(check):
        check()

or without writing a test: ``pytest --neuroplug-spec=swish``.

Checks come in three layers -- *contract* (every component of a kind),
*formula* (components that implement a formula of the notes) and *property*
(declared properties, verified with hypothesis). Each has a stable ID and a
docstring with its formula; see :func:`all_checks`.
"""

from __future__ import annotations

# The runner loads the built-in checks (the package .checks); the framework knows none of them.
from .checks.properties import PROPERTIES, VERIFIED_BY
from .framework import Check, NotApplicable, SpecFailure, Subject, all_checks, get_check
from .runner import CheckResult, SpecReport, check_component, run_spec, subjects_for

__all__ = [
    "Check",
    "CheckResult",
    "NotApplicable",
    "PROPERTIES",
    "VERIFIED_BY",
    "SpecFailure",
    "SpecReport",
    "Subject",
    "all_checks",
    "check_component",
    "get_check",
    "parametrize_spec",
    "run_spec",
    "subjects_for",
]


def parametrize_spec(*components, expected_failed_checks=None, seed: int = 0, thorough: bool = False, **fields):
    """A pytest decorator: one test per (component, applicable check), like scikit-learn's
    ``parametrize_with_checks``.

    The test receives ``check``, a callable that runs the check and raises on
    failure (``pytest.skip`` when it does not apply). Expected failures become
    strict ``xfail`` items, so an unexpected pass is reported.

    Parameters
    ----------
    *components
        Component instances (registered or not) or installed names as ``"kind:name"``.
    expected_failed_checks : mapping or callable, optional
        ``{check ID: reason}``, or a function of the component returning one.
    seed, thorough
        As for :func:`check_component`.
    **fields
        ``properties=`` / ``implements=`` declarations for unregistered components.
    """
    from .pytest_plugin import parametrize

    return parametrize(components, expected_failed_checks=expected_failed_checks, seed=seed,
                       thorough=thorough, **fields)
