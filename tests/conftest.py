"""Shared fixtures of neuroplug's own tests."""

from __future__ import annotations

import numpy as np
import pytest

# the example plugin packages carry their own tests, run inside a venv by test_third_party.py
collect_ignore = ["plugin_packages"]


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for each test."""
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def digits():
    """The embedded digits data split 75/25 (seed 0)."""
    from neuroplug.datasets import load_digits_split

    return load_digits_split(seed=0)



@pytest.fixture(scope="session")
def builtin_spec_report():
    """The spec suite run once over every built-in component (shared by the spec tests)."""
    from neuroplug.spec import run_spec

    return run_spec()


def report_subset(report, *, kinds=None, checks=None):
    """A copy of a SpecReport restricted to some component kinds and check IDs."""
    from neuroplug.spec.runner import SpecReport

    keep = [r for r in report.results
            if (kinds is None or r.kind in kinds) and (checks is None or r.check_id in checks)]
    keys = {(r.kind, r.component) for r in keep}
    return SpecReport(results=keep, components={k: i for k, i in report.components.items() if k in keys},
                      seconds=sum(r.seconds for r in keep))


def interrupting_loss(base):
    """A subclass of the loss class ``base`` that sends SIGINT (Ctrl-C) to this process during the
    step ``at`` (0-based class attribute; None: never). ``calls`` counts the steps seen.

    One class serves the interrupted, the resumed and the uninterrupted runs of a test, since
    resuming compares the loss's class."""
    import os
    import signal

    class Interrupting(base):
        at = None
        calls = 0

        def forward(self, a, t):
            cls = type(self)
            if a.shape[0] == 1:  # fit's one-row check that the loss reduces: not a step
                return super().forward(a, t)
            cls.calls += 1
            if cls.calls - 1 == cls.at:  # (counted first: the signal may raise right here)
                os.kill(os.getpid(), signal.SIGINT)
            return super().forward(a, t)

    Interrupting.__qualname__ = f"Interrupting{base.__name__}"
    return Interrupting
