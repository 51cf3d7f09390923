"""The machinery of the spec suite: checks, subjects, failures and numeric helpers.

A *check* is a module-level function decorated with :func:`spec_check`. It has a
stable ID (``ACT-DERIV``), applies to one component kind, and states in its
docstring the formula or property it verifies. It receives a :class:`Subject`
(the component under test and what its registration declares) and either
returns (pass), raises :class:`SpecFailure` (fail, with what was expected, what
was found and where), or raises :class:`NotApplicable` (skip, with the reason).

Check authors use the helpers here so that every failure message has the same
shape: :func:`assert_close`, :func:`fail`, :func:`central_difference`,
:func:`away_from_kinks`.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

__all__ = [
    "Check",
    "Subject",
    "SpecFailure",
    "NotApplicable",
    "spec_check",
    "all_checks",
    "get_check",
    "fail",
    "skip",
    "assert_close",
    "central_difference",
    "away_from_kinks",
    "rebuild_from_config",
    "catching_warnings",
    "KINDS",
    "LAYERS",
]

KINDS = ("activation", "initializer", "loss", "schedule", "optimizer")
#: The three layers of checks.
LAYERS = ("contract", "formula", "property")


class SpecFailure(AssertionError):
    """A check found the component wrong.

    Parameters
    ----------
    message : str
        What is wrong and what to fix, in one or two sentences.
    expected, found : str, optional
        The expected value/bound/statistic and the one observed.
    where : str, optional
        The input at which it occurred.
    """

    def __init__(self, message: str, *, expected: Any = None, found: Any = None, where: Any = None) -> None:
        self.message = message
        self.expected = expected
        self.found = found
        self.where = where
        super().__init__(self.render())

    def render(self) -> str:
        """The message with its expected/found/where lines."""
        lines = [self.message]
        for label, value in (("expected", self.expected), ("found", self.found), ("where", self.where)):
            if value is not None:
                lines.append(f"{label}: {value}")
        return "\n".join(lines)


class NotApplicable(Exception):
    """The check does not apply to this component; the message says why."""


def fail(message: str, *, expected: Any = None, found: Any = None, where: Any = None) -> None:
    """Raise :class:`SpecFailure`."""
    raise SpecFailure(message, expected=expected, found=found, where=where)


def skip(reason: str) -> None:
    """Raise :class:`NotApplicable` with ``reason``."""
    raise NotApplicable(reason)


@dataclass(frozen=True)
class Check:
    """One named check of the spec suite."""

    id: str
    kind: str
    layer: str
    title: str
    func: Callable[["Subject"], None]
    #: What the check verifies, in LaTeX (shown in failures and the docs).
    formula: str = ""
    #: Statements of the source notes this check encodes (see ``traceability``).
    notes: tuple[str, ...] = ()
    #: The numeric tolerance used, in words ("relative error <= 1e-6").
    tolerance: str = "exact"
    #: Probability that a correct component fails this check.
    false_failure: str = "0 (deterministic)"

    @property
    def doc(self) -> str:
        """The check function's docstring, dedented."""
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def anchor(self) -> str:
        """Anchor of the check in the docs' spec reference."""
        return self.id.lower()


_CHECKS: dict[str, Check] = {}


def spec_check(id: str, kind: str, *, layer: str, title: str, formula: str = "", notes: tuple[str, ...] = (),
               tolerance: str = "exact", false_failure: str = "0 (deterministic)") -> Callable[[Callable], Callable]:
    """Register the decorated function as the check ``id`` for components of ``kind``."""
    if kind not in KINDS or layer not in LAYERS:
        raise ValueError(f"bad kind {kind!r} or layer {layer!r} for check {id}")

    def decorate(func: Callable[["Subject"], None]) -> Callable[["Subject"], None]:
        if id in _CHECKS:
            raise ValueError(f"spec check {id} is defined twice")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"spec check {id} needs a docstring stating its formula")
        _CHECKS[id] = Check(id, kind, layer, title, func, formula, tuple(notes), tolerance, false_failure)
        func.check_id = id  # type: ignore[attr-defined]
        return func

    return decorate


def all_checks(kind: str | None = None) -> list[Check]:
    """Every registered check (of ``kind``), in definition order."""
    return [c for c in _CHECKS.values() if kind is None or c.kind == kind]


def get_check(check_id: str) -> Check:
    """The check with this ID (``KeyError`` naming the known IDs otherwise)."""
    try:
        return _CHECKS[check_id]
    except KeyError:
        raise KeyError(f"unknown spec check {check_id!r}; known: {', '.join(sorted(_CHECKS))}") from None


@dataclass
class Subject:
    """A component under test and what its author declared about it.

    Attributes
    ----------
    kind : str
        The component kind.
    name : str
        A display name (``distribution:name`` when known).
    factory : callable
        Builds a fresh instance from keyword parameters.
    config : dict
        The parameters the suite builds it with (``spec_config`` or the instance's config).
    properties : frozenset of str
        Declared properties (verified by the ``property`` layer).
    implements : frozenset of str
        Formulas of the notes it claims (verified by the ``formula`` layer).
    expected_failed_checks : dict
        ``{check ID: reason}`` declared by the author.
    plugin : str or None
        ``distribution:plugin`` that provides it, when it is registered.
    registered_name : str or None
        The name under which the registry resolves it (for config round trips).
    seed : int
        Seed for the random inputs of the checks.
    thorough : bool
        Use more examples in property-based checks, and more drawn configs.
    example_configs : tuple of dict
        Further configs declared by the author (see :func:`neuroplug.spec.formulas.subject_configs`).
    parameter_space : dict
        ``{parameter: neuroplug.Param}`` declared by the author: configs are drawn from it.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    config: dict[str, Any] = field(default_factory=dict)
    properties: frozenset[str] = frozenset()
    implements: frozenset[str] = frozenset()
    expected_failed_checks: dict[str, str] = field(default_factory=dict)
    plugin: str | None = None
    registered_name: str | None = None
    seed: int = 0
    thorough: bool = False
    example_configs: tuple[dict[str, Any], ...] = ()
    parameter_space: dict[str, Any] = field(default_factory=dict)
    _instance: Any = None

    def new(self, **overrides: Any) -> Any:
        """A fresh instance built with ``config`` updated by ``overrides``."""
        if self._instance is not None and not overrides:
            return copy.deepcopy(self._instance)
        return self.factory(**{**self.config, **overrides})

    def rng(self, salt: int = 0) -> np.random.Generator:
        """A generator seeded from the subject's seed and ``salt`` (distinct per use)."""
        return np.random.default_rng([self.seed, salt])

    @property
    def examples(self) -> int:
        """Number of hypothesis examples for property checks."""
        return 400 if self.thorough else 40

    @property
    def n_configs(self) -> int:
        """Number of configs drawn from the parameter space (besides the default and the examples)."""
        return 12 if self.thorough else 3

    def configs(self, salt: int = 0) -> list[dict[str, Any]]:
        """The configs to build the subject with: its own, its examples, then :attr:`n_configs` drawn
        from its declared ``parameter_space`` and the parameter ranges of the formulas it claims
        (see :func:`neuroplug.spec.formulas.subject_configs`)."""
        from .formulas import claimed_space, subject_configs

        space, defaults = claimed_space(self)
        return subject_configs(self, space, {**defaults, **self.config}, salt=salt)

    @classmethod
    def from_instance(cls, component: Any, **fields: Any) -> "Subject":
        """A subject for an (unregistered or registered) instance."""
        from neuroplug.base import KINDS as interfaces

        kind = next((k for k, iface in interfaces.items() if isinstance(component, iface)), None)
        if kind is None:
            raise TypeError(f"{component!r} is not an Activation, Initializer, Loss, Schedule or Optimizer")
        try:
            config = component.get_config()
        except Exception:
            config = {}
        factory = type(component)
        return cls(kind=kind, name=fields.pop("name", type(component).__name__), factory=factory,
                   config=config, _instance=component, **fields)


def assert_close(found: np.ndarray, expected: np.ndarray, *, rtol: Any, atol: Any, what: str,
                 inputs: np.ndarray | None = None, fix: str = "") -> None:
    """Fail unless ``|found - expected| <= atol + rtol * |expected|`` everywhere.

    ``atol`` and ``rtol`` are numbers or arrays broadcastable to the shape (a
    tolerance per element, e.g. from the magnitudes of the terms it combines).

    The failure names the worst element, its input and the error, e.g.
    ``max error 3.1e-3 at z=-2.5 (allowed 1e-9 + 1e-6*|expected|)``.
    """
    found = np.asarray(found, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if found.shape != expected.shape:
        fail(f"{what}: wrong shape. {fix}".strip(), expected=str(expected.shape), found=str(found.shape))
    if not np.all(np.isfinite(found)):
        i = np.unravel_index(np.argmin(np.isfinite(found)), found.shape)
        fail(f"{what}: non-finite value. {fix}".strip(), expected=f"{expected[i]!r}", found=f"{found[i]!r}",
             where=_where(inputs, i))
    err = np.abs(found - expected)
    allowed = atol + rtol * np.abs(expected)
    if np.all(err <= allowed):
        return
    i = np.unravel_index(np.argmax(err - allowed), err.shape)
    atol_i = float(np.broadcast_to(atol, err.shape)[i])
    rtol_i = float(np.broadcast_to(rtol, err.shape)[i])
    fail(f"{what}: max error {err[i]:.3g} exceeds the tolerance (atol {atol_i:.3g} + rtol {rtol_i:.3g}*|expected|). "
         f"{fix}".strip(), expected=f"{expected[i]:.17g}", found=f"{found[i]:.17g}", where=_where(inputs, i))


def _where(inputs: np.ndarray | None, index: tuple[int, ...]) -> str:
    if inputs is None:
        return f"index {tuple(int(k) for k in index)}"
    inputs = np.asarray(inputs)
    if inputs.shape == () or inputs.ndim < len(index):
        return f"index {tuple(int(k) for k in index)}"
    value = inputs[index]
    return f"input {float(value):.17g} (index {tuple(int(k) for k in index)})"


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Gradient of the scalar function ``f`` at ``x`` (float64) by central differences.

    Truncation error is O(eps^2 * f''') and rounding error about
    ``|f| * 1e-16 / eps``: with ``eps = 1e-6`` both are near 1e-10 for O(1) values.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x.copy())  # copies: a component that mutates its input cannot corrupt the next step
        flat[i] = old - eps
        down = f(x.copy())
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


def away_from_kinks(z: np.ndarray, kinks: tuple[float, ...], margin: float = 1e-3) -> np.ndarray:
    """Map sample points within ``margin`` of a kink to ``kink +/- margin`` (keeping the side).

    Points are moved, not dropped, so the sample size stays fixed.
    """
    z = np.array(z, dtype=np.float64)
    for k in kinks:
        near = np.abs(z - k) < margin
        z[near] = k + np.where(z[near] >= k, margin, -margin)
    return z


def catching_warnings(what: str, fix: str, call: Callable[[], Any]) -> Any:
    """Run ``call``; turn the first warning it emits into a failure naming ``what`` (with ``fix``)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    if caught:
        w = caught[0]
        fail(f"{what} emitted {w.category.__name__}: {w.message}. {fix}")
    return result


def rebuild_from_config(subject: "Subject", component: Any) -> tuple[Any, str]:
    """Rebuild ``component`` as a saved model would: its config through JSON, then by name.

    ``create(kind, {"name": registered name, "config": ...})`` when the subject is
    registered, ``type(component).from_config(...)`` otherwise. Fails when the
    config is not a JSON-serialisable dict or the rebuilt component reports a
    different config. Returns the rebuilt component and a description of how it
    was built (for failure messages).
    """
    import json

    config = component.get_config()
    if not isinstance(config, dict):
        fail("get_config() must return a dict of the constructor's keyword arguments",
             expected="dict", found=type(config).__name__)
    try:
        restored = json.loads(json.dumps(config))
    except (TypeError, ValueError) as exc:
        fail("get_config() must return plain JSON values (numbers, strings, booleans, lists, dicts, None; "
             "nested components as {'name', 'config'} dicts) so the component can be saved by name and "
             "parameters", found=f"{config!r} ({exc})")
    if subject.registered_name:
        from neuroplug.registry import create

        rebuilt = create(subject.kind, {"name": subject.registered_name, "config": restored})
        how = f"create({subject.kind!r}, {{'name': {subject.registered_name!r}, 'config': {restored!r}}})"
    else:
        rebuilt = type(component).from_config(restored)
        how = f"{type(component).__name__}.from_config({restored!r})"
    again = json.loads(json.dumps(rebuilt.get_config(), default=repr))
    if again != restored:
        fail(f"{how} has a different config: get_config() must return every constructor parameter, and "
             f"__init__ must store them unchanged (as attributes of the same names)",
             expected=repr(restored), found=repr(again))
    return rebuilt, how


def signature_params(factory: Callable[..., Any]) -> Mapping[str, inspect.Parameter]:
    """The keyword parameters of a factory (empty when it has no inspectable signature)."""
    try:
        return inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
