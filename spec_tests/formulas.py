r"""The ``implements`` vocabulary: every formula a registration can claim.

Each formula we ship -- every built-in activation, initializer, loss, schedule
and optimizer -- is a :class:`Formula` here: a name (with aliases), its
parameters with their defaults and ranges, and a closed-form *reference*
written for clarity in float64 (or higher precision where it matters). The
references live in :mod:`neuroplug.spec.references` and never import
``neuroplug.plugins``: a built-in passes its formula check by computing the same
numbers as an independent reference, like any third-party component.

A component claims formulas with ``implements=("adam",)``. The formula check of
its kind (``ACT-FORMULA``, ``INIT-FORMULA``, ``LOSS-FORMULA``, ``SCHED-FORMULA``,
``OPT-FORMULA``) compares it with the reference for its default config and for
configs drawn from the formula's parameters (:func:`formula_cases`): a parameter
the component's constructor accepts must have the formula's name and meaning; one
it does not accept is taken at the formula's default.

What a reference is depends on the kind; each ``references`` module documents it.
"""

from __future__ import annotations

import difflib
import math
import zlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from neuroplug.types import Param

from .framework import KINDS, Subject, signature_params

__all__ = ["Formula", "register_formula", "formulas", "get_formula", "formula_names", "unknown_formulas",
           "draw_config", "subject_configs", "formula_cases", "FormulaCase", "describe_param", "vocabulary",
           "claimed_space"]


@dataclass(frozen=True)
class Formula:
    """One claimable formula and its closed-form reference."""

    kind: str
    name: str
    #: One line, for the docs and failure messages.
    title: str
    #: The formula in LaTeX.
    latex: str
    #: The reference; its signature depends on the kind (see ``neuroplug.spec.references``).
    reference: Callable[..., Any]
    #: ``{parameter: default}`` of the formula.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: ``{parameter: Param}``: the values drawn for each parameter (a subset of ``defaults``).
    space: Mapping[str, Param] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    #: Further configs always checked (besides the defaults and the drawn ones).
    examples: tuple[Mapping[str, Any], ...] = ()
    #: Kind-specific facts the formula check needs (e.g. ``{"kinks": (0.0,)}``).
    meta: Mapping[str, Any] = field(default_factory=dict)

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The formula's parameters for a component built with ``config``: its values, else the defaults."""
        return {p: config.get(p, d) for p, d in self.defaults.items()}


_FORMULAS: dict[tuple[str, str], Formula] = {}
_ALIASES: dict[tuple[str, str], str] = {}


def register_formula(kind: str, name: str, *, title: str, latex: str, defaults: Mapping[str, Any] | None = None,
                     space: Mapping[str, Param] | None = None, aliases: tuple[str, ...] = (),
                     examples: tuple[Mapping[str, Any], ...] = (),
                     meta: Mapping[str, Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the reference of formula ``name`` of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"bad kind {kind!r} for formula {name!r}")
    defaults = dict(defaults or {})
    space = dict(space or {})
    if not set(space) <= set(defaults):
        raise ValueError(f"formula {kind}:{name}: parameters {sorted(set(space) - set(defaults))} have no default")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for label in (name, *aliases):
            if (kind, label) in _FORMULAS or (kind, label) in _ALIASES:
                raise ValueError(f"formula {kind}:{label} is defined twice")
        _FORMULAS[(kind, name)] = Formula(kind, name, title, latex, func, MappingProxyType(defaults),
                                          MappingProxyType(space), tuple(aliases),
                                          tuple(MappingProxyType(dict(e)) for e in examples),
                                          MappingProxyType(dict(meta or {})))
        for alias in aliases:
            _ALIASES[(kind, alias)] = name
        return func

    return decorate


def _load() -> None:
    from . import references  # noqa: F401  (the reference modules register their formulas)


def formulas(kind: str | None = None) -> list[Formula]:
    """Every formula (of ``kind``), sorted by kind and name."""
    _load()
    return sorted((f for f in _FORMULAS.values() if kind is None or f.kind == kind),
                  key=lambda f: (KINDS.index(f.kind), f.name))


def formula_names(kind: str) -> list[str]:
    """The names a component of ``kind`` may claim (aliases included), sorted."""
    _load()
    return sorted([n for k, n in _FORMULAS if k == kind] + [a for k, a in _ALIASES if k == kind])


def get_formula(kind: str, name: str) -> Formula:
    """The formula ``name`` (or alias) of ``kind``; ``KeyError`` with the valid names otherwise."""
    _load()
    key = (kind, _ALIASES.get((kind, name), name))
    try:
        return _FORMULAS[key]
    except KeyError:
        raise KeyError(_unknown_message(kind, name)) from None


def unknown_formulas(kind: str, names: Any) -> list[str]:
    """A message for each name of ``names`` that is not a formula of ``kind`` (empty when all are known)."""
    _load()
    known = set(formula_names(kind))
    return [_unknown_message(kind, n) for n in sorted(set(names), key=str) if n not in known]


def _unknown_message(kind: str, name: Any) -> str:
    valid = formula_names(kind)
    close = difflib.get_close_matches(str(name).lower().replace("-", "_").replace(" ", "_"), valid, n=3, cutoff=0.5)
    other = [k for k in KINDS if k != kind and name in formula_names(k)]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if other:
        hint += f" ({name!r} is a formula of {', '.join(other)}.)"
    return (f"implements names an unknown {kind} formula {name!r}.{hint} The {kind} formulas: "
            f"{', '.join(valid) if valid else '(none)'}")


def describe_param(space: Param | None, default: Any) -> str:
    """``"1.0, in (0, inf)"``: a parameter's default and range, for the docs."""
    text = repr(default)
    if space is None:
        return text
    if space.type == "choice":
        return f"{text}, one of {', '.join(repr(c) for c in space.choices)}"
    low = "-inf" if space.low is None else f"{space.low:g}"
    high = "inf" if space.high is None else f"{space.high:g}"
    left = "(" if space.low_open or space.low is None else "["
    right = ")" if space.high_open or space.high is None else "]"
    kind = "integer " if space.type == "integer" else ""
    return f"{text}, {kind}in {left}{low}, {high}{right}"


def vocabulary(kind: str) -> list[dict[str, Any]]:
    """One row per formula of ``kind`` for the docs: name, aliases, title, latex and parameters."""
    return [{"name": f.name, "aliases": list(f.aliases), "title": f.title, "latex": f.latex,
             "params": {p: describe_param(f.space.get(p), d) for p, d in f.defaults.items()}}
            for f in formulas(kind)]


# ----------------------------------------------------------------------------- configs
def _draw_range(space: Param, default: Any) -> tuple[float, float]:
    low, high = space.low, space.high
    if space.typical is not None:
        t_low, t_high = space.typical
        low = t_low if low is None else max(low, t_low)
        high = t_high if high is None else min(high, t_high)
        return float(low), float(high)
    scale = abs(float(default)) if isinstance(default, (int, float)) and not isinstance(default, bool) else 0.0
    if space.log:
        low = float(low) if low else (scale / 100 if scale else 1e-3)
        high = float(high) if high is not None else max(low, scale or low) * 100
        return low, high
    if low is None and high is None:
        return -10.0 - 10 * scale, 10.0 + 10 * scale
    if low is None:
        return float(high) - 10.0 - 10 * max(scale, abs(float(high))), float(high)
    if high is None:
        return float(low), float(low) + 10.0 + 10 * max(scale, abs(float(low)))
    return float(low), float(high)


def draw_config(space: Mapping[str, Param], defaults: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One value for each parameter of ``space``, drawn with ``rng`` within its declared range."""
    out: dict[str, Any] = {}
    for name, p in space.items():
        default = defaults.get(name)
        if p.type == "choice":
            out[name] = p.choices[int(rng.integers(len(p.choices)))]
            continue
        low, high = _draw_range(p, default)
        if p.type == "integer":
            out[name] = int(rng.integers(math.ceil(low), math.floor(high) + 1)) if high >= low else int(low)
            continue
        for _ in range(100):
            if p.log and low > 0:
                value = float(math.exp(rng.uniform(math.log(low), math.log(high))))
            else:
                value = float(rng.uniform(low, high))
            value = float(f"{value:.4g}")  # readable in failure messages
            if p.contains(value):
                break
        out[name] = value
    return out


def subject_configs(subject: Subject, space: Mapping[str, Param], defaults: Mapping[str, Any],
                    examples: tuple[Mapping[str, Any], ...] = (), salt: int = 0) -> list[dict[str, Any]]:
    """The configs a check builds ``subject`` with: its own, the examples, then ``subject.n_configs`` drawn.

    Only parameters that the component's factory accepts (or that its config has)
    are varied; each config updates the subject's own config. Duplicates are dropped.
    """
    accepted = set(signature_params(subject.factory)) | set(subject.config)
    if any(p.kind == p.VAR_KEYWORD for p in signature_params(subject.factory).values()):
        accepted |= set(space)
    space = {k: v for k, v in space.items() if k in accepted}
    configs: list[dict[str, Any]] = [dict(subject.config)]
    for example in (*subject.example_configs, *examples):
        if set(example) <= accepted:
            configs.append({**subject.config, **example})
    if space:
        rng = subject.rng(10_000 + salt)
        base = {**defaults, **subject.config}
        for _ in range(subject.n_configs):
            configs.append({**subject.config, **draw_config(space, base, rng)})
    unique: list[dict[str, Any]] = []
    for c in configs:
        if c not in unique:
            unique.append(c)
    return unique


def claimed_space(subject: Subject) -> tuple[dict[str, Param], dict[str, Any]]:
    """The parameter ranges to draw the subject's configs from, and their defaults: those of the
    formulas it claims, overridden by its own declared ``parameter_space``."""
    space: dict[str, Param] = {}
    defaults: dict[str, Any] = {}
    for name in sorted(subject.implements):
        try:
            formula = get_formula(subject.kind, name)
        except KeyError:
            continue
        space.update(formula.space)
        defaults.update(formula.defaults)
    space.update(subject.parameter_space)
    return space, defaults


@dataclass
class FormulaCase:
    """One component built for a formula check, with the formula's parameters for it."""

    formula: Formula
    component: Any
    #: The formula's parameters (the component's values, the formula's defaults for the others).
    params: dict[str, Any]
    #: The config the component was built with (shown in failure messages).
    config: dict[str, Any]

    @property
    def label(self) -> str:
        """``"formula 'elu' with alpha=0.5"`` for failure messages."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"formula {self.formula.name!r}" + (f" with {shown}" if shown else "")


def formula_cases(subject: Subject) -> Iterator[FormulaCase]:
    """For each formula the subject claims, the component built with each config to check.

    A drawn config that the constructor rejects (a ``ValueError``/``TypeError``,
    e.g. two parameters out of order) is skipped; the subject's own config must build.
    """
    for name in sorted(subject.implements):
        try:
            formula = get_formula(subject.kind, name)
        except KeyError:
            continue  # reported by the DECLARATIONS check
        space = {**formula.space, **{k: v for k, v in subject.parameter_space.items() if k in formula.defaults}}
        for i, config in enumerate(subject_configs(subject, space, formula.defaults, formula.examples,
                                                   salt=zlib.crc32(name.encode()) % 1000)):
            try:
                component = subject.factory(**config) if (i or subject._instance is None) else subject.new()
            except (ValueError, TypeError):
                if i == 0:
                    raise
                continue
            try:
                actual = component.get_config()
            except Exception:
                actual = config
            # the values asked for win over what get_config() reports: a constructor that drops a value
            # (and reports its default) must be judged against the value it was given
            merged = {**(actual if isinstance(actual, dict) else {}), **config}
            yield FormulaCase(formula, component, formula.params(merged), merged)
