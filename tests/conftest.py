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

