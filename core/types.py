"""The registrations a plugin returns from its hooks: one small frozen dataclass per kind.

A plugin never calls into a registry; it *returns* data, so the core can validate
each registration and record which plugin and distribution provided it (the
design of conda's ``conda/plugins/types.py``). New fields are only ever added
with defaults, so old plugins keep working.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping

__all__ = [
    "ComponentRegistration",
    "ActivationRegistration",
    "InitializerRegistration",
    "LossRegistration",
    "ScheduleRegistration",
    "OptimizerRegistration",
    "REGISTRATION_TYPES",
    "NAME_PATTERN",
    "REQUIRED",
]

#: Allowed component names: lower-case letters, digits and underscores, starting with a letter.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class _Required:
    """Marks a parameter without a default in :attr:`ComponentRegistration.parameters`."""

    _instance = None

    def __new__(cls) -> "_Required":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"


#: The value shown for a parameter that has no default (it must be given).
REQUIRED = _Required()


@dataclass(frozen=True)
class ComponentRegistration:
    """What a plugin declares about one component.

    Parameters
    ----------
    name : str
        The component's name within its kind: lower-case ``[a-z][a-z0-9_]*``.
    factory : callable
        Called with the component's keyword parameters; returns an instance of the
        kind's interface (usually the component class itself).
    aliases : tuple of str
        Other names that resolve to this component.
    summary : str
        One line for listings.
    formula : str
        The defining formula in LaTeX (used by the docs and the spec suite).
    derivative : str
        The derivative/gradient formula in LaTeX, if any.
    parameters : mapping, optional
        ``{parameter: default}``; read from ``factory``'s signature when omitted
        (:data:`REQUIRED` for a parameter without a default).
    replaces : str, optional
        The name of a built-in component this one deliberately overrides.
    properties : tuple of str
        Declared mathematical properties the spec suite verifies (e.g. ``"odd"``);
        see ``neuroplug.spec.PROPERTIES`` for the vocabulary of each kind.
    implements : tuple of str
        Formulas of the source notes this component claims to implement (e.g.
        ``"tanh"``, ``"xavier"``, ``"smooth_l1"``); a built-in whose name is such a
        formula claims it implicitly. The spec suite checks every claim.
    spec_config : mapping, optional
        Parameters the spec suite builds the component with (needed when some
        parameter has no default).
    expected_failed_checks : mapping of str to str
        Spec check IDs this component knowingly fails, each with the reason; they
        are reported as expected failures, never as passes.
    """

    #: The component kind; fixed by each subclass.
    kind: ClassVar[str] = ""

    name: str
    factory: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    summary: str = ""
    formula: str = ""
    derivative: str = ""
    parameters: Mapping[str, Any] | None = None
    replaces: str | None = None
    properties: tuple[str, ...] = field(default_factory=tuple)
    implements: tuple[str, ...] = field(default_factory=tuple)
    spec_config: Mapping[str, Any] | None = None
    expected_failed_checks: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a lone string is kept as it is (tuple("ab") would be the aliases "a" and "b"): problems() reports it
        for list_field in ("aliases", "properties", "implements"):
            value = getattr(self, list_field)
            if not isinstance(value, str):
                object.__setattr__(self, list_field, tuple(value))
        object.__setattr__(self, "expected_failed_checks", MappingProxyType(dict(self.expected_failed_checks)))
        if self.spec_config is not None:
            object.__setattr__(self, "spec_config", MappingProxyType(dict(self.spec_config)))
        if self.parameters is None and callable(self.factory):
            object.__setattr__(self, "parameters", MappingProxyType(_signature_defaults(self.factory)))
        elif self.parameters is not None:
            object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def problems(self) -> list[str]:
        """Return what is wrong with this registration (empty when it is valid)."""
        found = [f"{list_field} of {self.name!r} must be a list of names, got {getattr(self, list_field)!r}"
                 for list_field in ("aliases", "properties", "implements")
                 if isinstance(getattr(self, list_field), str)]
        if found:
            return found
        for label, value in [("name", self.name), *[("alias", a) for a in self.aliases]]:
            if not isinstance(value, str) or not NAME_PATTERN.match(value):
                found.append(
                    f"{label} {value!r} is not a valid component name "
                    f"(lower-case letters, digits and '_', starting with a letter)"
                )
        if not callable(self.factory):
            found.append(f"factory of {self.name!r} is not callable: {self.factory!r}")
        if self.replaces is not None and not isinstance(self.replaces, str):
            found.append(f"replaces of {self.name!r} must be a component name, got {self.replaces!r}")
        for text_field in ("summary", "formula", "derivative"):
            if not isinstance(getattr(self, text_field), str):
                found.append(f"{text_field} of {self.name!r} must be a string")
        for list_field in ("properties", "implements", "expected_failed_checks"):
            if not all(isinstance(v, str) for v in getattr(self, list_field)):
                found.append(f"{list_field} of {self.name!r} must hold strings")
        return found


def _signature_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}
    return {
        n: (REQUIRED if p.default is inspect.Parameter.empty else p.default)
        for n, p in sig.parameters.items()
        if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


@dataclass(frozen=True)
class ActivationRegistration(ComponentRegistration):
    """Registers an :class:`~neuroplug.base.Activation`."""

    kind: ClassVar[str] = "activation"


@dataclass(frozen=True)
class InitializerRegistration(ComponentRegistration):
    """Registers an :class:`~neuroplug.base.Initializer`."""

    kind: ClassVar[str] = "initializer"


@dataclass(frozen=True)
class LossRegistration(ComponentRegistration):
    """Registers a :class:`~neuroplug.base.Loss`."""

    kind: ClassVar[str] = "loss"


@dataclass(frozen=True)
class ScheduleRegistration(ComponentRegistration):
    """Registers a learning-rate :class:`~neuroplug.base.Schedule`."""

    kind: ClassVar[str] = "schedule"


@dataclass(frozen=True)
class OptimizerRegistration(ComponentRegistration):
    """Registers an :class:`~neuroplug.base.Optimizer`."""

    kind: ClassVar[str] = "optimizer"


#: Registration class of each kind.
REGISTRATION_TYPES: dict[str, type[ComponentRegistration]] = {
    cls.kind: cls
    for cls in (
        ActivationRegistration,
        InitializerRegistration,
        LossRegistration,
        ScheduleRegistration,
        OptimizerRegistration,
    )
}
