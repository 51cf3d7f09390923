"""Test helpers for neuroplug and for plugin authors (a pytest plugin, loaded automatically).

Fixture ``neuroplug_registry``
    an isolated registry holding the built-ins only, installed as the default
    registry for the duration of one test and restored afterwards. Register a
    plugin or a component class on it with ``neuroplug_registry.register(obj)``.

Outside pytest, use the context manager :func:`neuroplug.isolated_registry`::

    with neuroplug.isolated_registry(my_plugin_module) as reg:
        ...
"""

from __future__ import annotations

from typing import Iterator

import pytest

__all__ = ["neuroplug_registry"]


@pytest.fixture
def neuroplug_registry() -> Iterator["object"]:
    """An isolated default registry (built-ins only) for one test."""
    from .registry import isolated_registry

    with isolated_registry() as registry:
        yield registry
