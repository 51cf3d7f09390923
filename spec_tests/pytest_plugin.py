"""pytest integration of the spec suite.

* :func:`parametrize` backs :func:`neuroplug.spec.parametrize_spec`.
* ``pytest --neuroplug-spec=SELECTOR`` (options registered by the ``neuroplug``
  pytest plugin, :mod:`neuroplug.testing`) adds one item per (installed component,
  check), named ``spec[<component>-<CHECK-ID>]`` so ``-k`` selects them.

Each check has the runner's time limit (:data:`neuroplug.spec.runner.DEFAULT_TIMEOUT`,
``NEUROPLUG_SPEC_TIMEOUT``, or ``timeout=`` here): a check that outlives it fails
with a message naming the check, the component and the limit, and the session
goes on with the next item.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import pytest

from .framework import Subject, all_checks
from .runner import resolve_timeout, run_check, subject_from_instance, subjects_for

__all__ = ["parametrize", "SpecCheck", "SpecItem", "spec_items"]


class SpecCheck:
    """A callable running one check on one subject; raises ``AssertionError`` on failure.

    ``timeout``: the check's time limit in seconds (``None``: ``NEUROPLUG_SPEC_TIMEOUT``
    or the default, read when the check runs; 0: none), see :func:`~neuroplug.spec.runner.run_check`.
    """

    def __init__(self, subject: Subject, check_id: str, *, timeout: float | None = None) -> None:
        self.subject = subject
        self.check_id = check_id
        self.timeout = timeout

    def __call__(self) -> None:
        result = run_check(self.check_id, self.subject, timeout=self.timeout)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "xfailed":
            pytest.xfail(result.message)
        if result.status in ("failed", "xpassed"):
            raise AssertionError(f"{self.check_id} on {self.subject.name}:\n{result.message}")

    def __repr__(self) -> str:
        return f"{self.subject.name}-{self.check_id}"


def _subjects(components: Iterable[Any], seed: int, thorough: bool, **fields: Any) -> list[Subject]:
    subjects = []
    for component in components:
        if isinstance(component, str):
            subjects.extend(subjects_for(component, seed=seed, thorough=thorough))
        else:
            subjects.append(subject_from_instance(component, seed=seed, thorough=thorough, **fields))
    return subjects


def parametrize(components: Iterable[Any], *, expected_failed_checks: Any = None, seed: int = 0,
                thorough: bool = False, timeout: float | None = None, **fields: Any) -> Any:
    """``pytest.mark.parametrize("check", ...)`` over every (component, check) pair.

    ``timeout``: each check's time limit in seconds (default: ``NEUROPLUG_SPEC_TIMEOUT``
    or :data:`~neuroplug.spec.runner.DEFAULT_TIMEOUT`; 0: none); an invalid value is an
    InputError at collection.
    """
    resolve_timeout(timeout)  # an invalid limit (or NEUROPLUG_SPEC_TIMEOUT) fails at collection, once
    params = []
    for subject in _subjects(components, seed, thorough, **fields):
        declared = dict(subject.expected_failed_checks)
        if callable(expected_failed_checks):
            declared.update(expected_failed_checks(subject._instance) or {})
        elif expected_failed_checks:
            declared.update(expected_failed_checks)
        plain = dataclasses.replace(subject, expected_failed_checks={})  # pytest's xfail handles them
        for check in all_checks(subject.kind):
            marks = ()
            if check.id in declared:
                marks = (pytest.mark.xfail(strict=True, reason=declared[check.id]),)
            params.append(pytest.param(SpecCheck(plain, check.id, timeout=timeout), marks=marks,
                                       id=f"{subject.name}-{check.id}"))
    return pytest.mark.parametrize("check", params)


class SpecItem(pytest.Item):
    """One spec check on one installed component, as a pytest item."""

    def __init__(self, *, spec_check: SpecCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec_check = spec_check

    def runtest(self) -> None:
        self.spec_check()

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int, str]:
        return "neuroplug-spec", 0, self.name


def spec_items(session: pytest.Session, selectors: list[str], *, seed: int, thorough: bool,
               timeout: float | None = None) -> list[SpecItem]:
    """The items for ``--neuroplug-spec`` selectors (``timeout``: each check's limit, as for :func:`parametrize`).

    An invalid limit (or ``NEUROPLUG_SPEC_TIMEOUT``) is a ``pytest.UsageError``: one line, before anything runs.
    """
    from neuroplug.errors import InputError

    try:
        resolve_timeout(timeout)
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    items = []
    for selector in selectors:
        for subject in subjects_for(selector or None, seed=seed, thorough=thorough):
            for check in all_checks(subject.kind):
                items.append(SpecItem.from_parent(session, name=f"spec[{subject.name}-{check.id}]",
                                                  spec_check=SpecCheck(subject, check.id, timeout=timeout)))
    return items
