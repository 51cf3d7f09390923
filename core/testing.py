"""Test helpers for neuroplug and for plugin authors (a pytest plugin, loaded automatically).

Fixture ``neuroplug_registry``
    an isolated registry holding the built-ins only, installed as the default
    registry for the duration of one test and restored afterwards. Register a
    plugin or a component class on it with ``neuroplug_registry.register(obj)``.

Option ``--neuroplug-spec=SELECTOR``
    add the spec suite's checks for installed components to the run (``all``
    for every component, a plugin or distribution name, or ``kind:name``);
    ``--neuroplug-spec-thorough`` runs more hypothesis examples.

Outside pytest, use the context manager :func:`neuroplug.isolated_registry`::

    with neuroplug.isolated_registry(my_plugin_module) as reg:
        ...
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

__all__ = ["neuroplug_registry"]


@pytest.fixture
def neuroplug_registry() -> Iterator[Any]:
    """An isolated default registry (built-ins only) for one test."""
    from .registry import isolated_registry

    with isolated_registry() as registry:
        yield registry


def pytest_addoption(parser: Any) -> None:
    """Register the ``--neuroplug-spec`` options."""
    group = parser.getgroup("neuroplug", "neuroplug spec suite")
    group.addoption("--neuroplug-spec", action="append", default=[], metavar="SELECTOR",
                    help="run the spec checks of installed components: 'all', a plugin/distribution "
                         "name, or KIND:NAME (repeatable)")
    group.addoption("--neuroplug-spec-thorough", action="store_true", default=False,
                    help="more hypothesis examples in property checks (release CI)")
    group.addoption("--neuroplug-spec-seed", type=int, default=0, metavar="N",
                    help="seed of the spec checks' random inputs (default 0)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    """Add the spec items before ``-k``/``-m`` deselection runs."""
    selectors = config.getoption("neuroplug_spec", default=[])
    if not selectors:
        return
    from .spec.pytest_plugin import spec_items

    items[:0] = spec_items(session, [None if s == "all" else s for s in selectors],
                           seed=config.getoption("neuroplug_spec_seed"),
                           thorough=config.getoption("neuroplug_spec_thorough"))
