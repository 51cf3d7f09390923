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
    "Param",
]

#: The allowed component names -- lower-case letters, digits and underscores, starting with a letter.
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
class Param:
    """The values one parameter of a component accepts, declared for the spec suite.

    The spec suite builds the component with configs drawn from these declarations
    (besides its default and ``example_configs``), so that a component which
    ignores or misuses a parameter is caught. Build one with :meth:`real`,
    :meth:`integer`, :meth:`choice` or :meth:`boolean`::

        parameter_space={"beta": Param.real(0.0, None, low_open=True, log=True),
                         "reduction": Param.choice("mean", "sum", "none")}

    ``low``/``high`` are the valid range (``None``: unbounded). For drawing, an
    unbounded side is cut at the ``typical`` range when given, else at 100 times
    (``log``) or 10 plus 10 times (linear) the magnitude of the other side or of
    the default.
    """

    #: "real", "integer" or "choice".
    type: str
    low: float | None = None
    high: float | None = None
    #: Whether ``low``/``high`` themselves are excluded.
    low_open: bool = False
    high_open: bool = False
    #: Draw reals on a log scale (for positive scales such as ``beta`` or ``eps``).
    log: bool = False
    #: The allowed values of a "choice" parameter.
    choices: tuple[Any, ...] = ()
    #: ``(low, high)`` to draw from when the valid range is unbounded or much wider than useful.
    typical: tuple[float, float] | None = None

    @classmethod
    def real(cls, low: float | None = None, high: float | None = None, *, low_open: bool = False,
             high_open: bool = False, log: bool = False, typical: tuple[float, float] | None = None) -> "Param":
        """A real parameter in ``[low, high]`` (open ends with ``low_open``/``high_open``)."""
        return cls("real", low, high, low_open, high_open, log, (), typical)

    @classmethod
    def integer(cls, low: int | None = None, high: int | None = None, *,
                typical: tuple[int, int] | None = None) -> "Param":
        """An integer parameter in ``[low, high]``."""
        return cls("integer", low, high, typical=typical)

    @classmethod
    def choice(cls, *values: Any) -> "Param":
        """A parameter taking one of ``values``."""
        return cls("choice", choices=tuple(values))

    @classmethod
    def boolean(cls) -> "Param":
        """A ``True``/``False`` parameter."""
        return cls("choice", choices=(False, True))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""
        if self.type == "choice":
            return any(value == c and type(value) is type(c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.type == "integer" and not float(value).is_integer():
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return value == value  # not NaN

    def problems(self) -> list[str]:
        """What is wrong with this declaration (empty when valid)."""
        if self.type not in ("real", "integer", "choice"):
            return [f"type must be 'real', 'integer' or 'choice', got {self.type!r}"]
        if self.type == "choice":
            return [] if self.choices else ["a choice needs at least one value"]
        out = []
        for label, v in (("low", self.low), ("high", self.high)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != v):
                out.append(f"{label} must be a number or None, got {v!r}")
        if not out and self.low is not None and self.high is not None and self.low > self.high:
            out.append(f"low {self.low!r} > high {self.high!r}")
        if self.log and self.type == "real" and (self.low is None or self.low < 0):
            out.append("log=True needs low >= 0")
        if self.typical is not None:
            if (not isinstance(self.typical, tuple) or len(self.typical) != 2
                    or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in self.typical)
                    or not self.typical[0] <= self.typical[1]):
                out.append(f"typical must be a (low, high) pair of numbers, got {self.typical!r}")
        return out


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
    example_configs : tuple of mapping
        Further parameter sets the spec suite builds the component with (each
        updates ``spec_config``/the defaults), e.g. ``({"beta": 2.0},)``.
    parameter_space : mapping of str to Param
        The values each parameter accepts (:class:`Param`); the spec suite draws
        configs from them. A parameter of a claimed formula (``implements``) that is
        not declared here is drawn from the formula's own range.
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
    example_configs: tuple[Mapping[str, Any], ...] = ()
    parameter_space: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a lone string is kept as it is (tuple("ab") would be the aliases "a" and "b"): problems() reports it
        for list_field in ("aliases", "properties", "implements"):
            value = getattr(self, list_field)
            if not isinstance(value, str):
                object.__setattr__(self, list_field, tuple(value))
        object.__setattr__(self, "expected_failed_checks", MappingProxyType(dict(self.expected_failed_checks)))
        if self.spec_config is not None:
            object.__setattr__(self, "spec_config", MappingProxyType(dict(self.spec_config)))
        if isinstance(self.example_configs, Mapping):
            object.__setattr__(self, "example_configs", (self.example_configs,))
        try:
            object.__setattr__(self, "example_configs",
                               tuple(MappingProxyType(dict(c)) for c in self.example_configs))
        except (TypeError, ValueError):
            pass  # reported by problems()
        if isinstance(self.parameter_space, Mapping):
            object.__setattr__(self, "parameter_space", MappingProxyType(dict(self.parameter_space)))
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
        if not isinstance(self.example_configs, tuple) or not all(
                isinstance(c, Mapping) and all(isinstance(k, str) for k in c) for c in self.example_configs):
            found.append(f"example_configs of {self.name!r} must be a list of {{parameter: value}} dicts, "
                         f"got {self.example_configs!r}")
        if not isinstance(self.parameter_space, Mapping):
            found.append(f"parameter_space of {self.name!r} must be a {{parameter: Param}} dict, "
                         f"got {self.parameter_space!r}")
        else:
            for pname, space in self.parameter_space.items():
                if not isinstance(space, Param):
                    found.append(f"parameter_space[{pname!r}] of {self.name!r} must be a neuroplug.Param "
                                 f"(Param.real/integer/choice/boolean), got {space!r}")
                else:
                    found.extend(f"parameter_space[{pname!r}] of {self.name!r}: {p}" for p in space.problems())
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
