"""The component registry: plugin discovery, isolation of broken plugins, name resolution.

Plugins are found through the ``neuroplug`` entry-point group, on the first use of
the registry (never at ``import neuroplug``). neuroplug's own components are
registered through that same group by the ``neuroplug`` distribution; they are
the *built-ins*.

Each plugin is imported, validated and asked for its registrations on its own, so
a plugin that fails (import error, a hook that raises, invalid registrations, an
unknown ``neuroplug_*`` hook) is unregistered, reported once with a
:class:`PluginWarning`, listed as ``failed`` by ``neuroplug list``, and everything
else keeps working. ``NEUROPLUG_STRICT_PLUGINS=1`` makes such a failure a
:class:`~neuroplug.errors.PluginError` instead. So is a plugin that calls
``sys.exit()`` while it is imported or from a hook, an entry point that resolves to
None or to a module another entry point already loaded, and a plugin that uses the
registry while the registry is loading it (e.g. ``@register_activation`` at the top
of a plugin module, which would otherwise start a second load from inside the first).

Environment variables (read when the registry first loads):

``NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD=1``
    load the built-ins only;
``NEUROPLUG_PLUGINS=a,b``
    load only these third-party plugins (entry-point or distribution names);
``NEUROPLUG_DISABLED_PLUGINS=x,y``
    never import these plugins (built-ins included, e.g. ``neuroplug:losses``);
``NEUROPLUG_STRICT_PLUGINS=1``
    raise on any plugin failure (for CI).

Name resolution, per kind: ``distribution:name`` always resolves to that
distribution's component. A bare name resolves to the in-process registration if
there is one, else to a third-party component declaring ``replaces=name``, else to
the built-in, else to the only third-party component of that name; two
third-party components of one name make the bare name ambiguous.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .base import KINDS, Component
from .errors import (
    AmbiguousComponentError,
    ComponentError,
    ComponentNotFoundError,
    ConfigError,
    DuplicateComponentError,
    InputError,
    NeuroplugError,
    PluginError,
    ShapeError,
)

if TYPE_CHECKING:  # pragma: no cover - imported where used: pluggy, types and the hooks load with the plugins
    from .types import ComponentRegistration

__all__ = [
    "component_label",
    "failing_component",
    "Registry",
    "PluginInfo",
    "Entry",
    "PluginWarning",
    "get_registry",
    "isolated_registry",
    "create",
    "describe",
    "register",
    "unregister",
    "register_activation",
    "register_initializer",
    "register_loss",
    "register_schedule",
    "register_optimizer",
    "ENTRY_POINT_GROUP",
    "BUILTIN_DISTRIBUTION",
    "LOCAL_DISTRIBUTION",
]

#: The entry-point group every plugin (built-in or third-party) is listed in.
ENTRY_POINT_GROUP = "neuroplug"
#: Distribution whose plugins are the built-ins.
BUILTIN_DISTRIBUTION = "neuroplug"
#: Pseudo-distribution of components registered in-process with :func:`register`.
LOCAL_DISTRIBUTION = "local"

_ENV_AUTOLOAD_OFF = "NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD"
_ENV_ALLOW = "NEUROPLUG_PLUGINS"
_ENV_BLOCK = "NEUROPLUG_DISABLED_PLUGINS"
_ENV_STRICT = "NEUROPLUG_STRICT_PLUGINS"


class PluginWarning(UserWarning):
    """Emitted once when a plugin fails to load and is skipped."""


def _canon(name: str) -> str:
    """PEP 503 normalisation of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _name_list(value: str | None) -> set[str]:
    return {v.strip() for v in (value or "").split(",") if v.strip()}


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as the registry saw it.

    Attributes
    ----------
    name : str
        The entry-point name (or the module/object name for in-process plugins).
    distribution : str
        The distribution that provides it (``"local"`` for in-process ones).
    version : str or None
        That distribution's version.
    builtin : bool
        True for neuroplug's own plugins.
    status : str
        ``"loaded"``, ``"failed"`` or ``"disabled"``.
    phase : str or None
        For failures: ``"import"``, ``"validate"``, ``"hook"`` or ``"registration"``.
    error : str or None
        For failures: the error, one line; for disabled plugins: why.
    value : str or None
        The entry point's value (``module:attr``).
    """

    name: str
    distribution: str
    version: str | None = None
    builtin: bool = False
    status: str = "loaded"
    phase: str | None = None
    error: str | None = None
    value: str | None = None

    @property
    def label(self) -> str:
        """``distribution:plugin`` -- how the plugin is named in messages."""
        return f"{self.distribution}:{self.name}"

    def matches(self, selector: str) -> bool:
        """True if ``selector`` names this plugin (entry-point, distribution or both)."""
        if ":" in selector:
            dist, _, name = selector.partition(":")
            return _canon(dist) == _canon(self.distribution) and name == self.name
        return selector == self.name or _canon(selector) == _canon(self.distribution)


@dataclass(frozen=True)
class Entry:
    """A registered component: its registration and the plugin that provided it."""

    registration: ComponentRegistration
    plugin: PluginInfo

    @property
    def kind(self) -> str:
        """The component kind."""
        return self.registration.kind

    @property
    def name(self) -> str:
        """The component's bare name."""
        return self.registration.name

    @property
    def qualified_name(self) -> str:
        """``distribution:name``, which always resolves to this entry."""
        return f"{self.plugin.distribution}:{self.registration.name}"


_plugin_manager_class: Any = None


def _plugin_manager() -> Any:
    """A new pluggy ``PluginManager`` for the hooks of :mod:`.hookspecs`.

    pluggy (and the hook specifications, which import it) is imported here, on the
    first use of a registry, not when ``neuroplug`` or a module needing the registry's
    functions is imported: ``import neuroplug`` with ``fit``, ``Sequential`` and
    ``Dense`` resolved loads neither pluggy nor ``importlib.metadata``.
    """
    global _plugin_manager_class
    import pluggy

    from . import hookspecs

    if _plugin_manager_class is None:
        class _PluginManager(pluggy.PluginManager):
            """Accepts undecorated ``neuroplug_*`` functions as hook implementations (as pytest does),
            so that a misspelled hook name reaches :meth:`check_pending` instead of being ignored."""

            def parse_hookimpl_opts(self, plugin: Any, name: str):  # type: ignore[override]
                opts = super().parse_hookimpl_opts(plugin, name)
                if opts is None and name.startswith("neuroplug_"):
                    attr = inspect.getattr_static(plugin, name, None)
                    if inspect.isfunction(attr) or inspect.ismethod(getattr(plugin, name, None)):
                        return {}  # type: ignore[return-value]
                return opts

        _plugin_manager_class = _PluginManager
    pm = _plugin_manager_class(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


class _PluginFailure(Exception):
    def __init__(self, phase: str, error: BaseException | str):
        self.phase = phase
        if isinstance(error, BaseException):
            import traceback

            text = f"{type(error).__name__}: {error}"
            frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<")]
            if frames:
                last = frames[-1]
                text += f" (at {os.path.basename(last.filename)}:{last.lineno})"
        else:
            text = error
        # one line: pluggy's validation errors span several
        self.text = "; ".join(line.strip() for line in text.splitlines() if line.strip())
        super().__init__(self.text)


@dataclass
class _State:
    plugins: list[PluginInfo] = field(default_factory=list)
    # kind -> name (or alias) -> entries providing it
    names: dict[str, dict[str, list[Entry]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )


class Registry:
    """Components by kind and name, loaded from plugins on first use.

    Parameters
    ----------
    autoload : bool
        Load third-party plugins from entry points (subject to the environment
        variables); ``False`` loads the built-ins only.
    environ : mapping, optional
        Where to read the ``NEUROPLUG_*`` variables (default ``os.environ``).

    Examples
    --------
    >>> reg = Registry()
    >>> reg.resolve("activation", "tanh").plugin.distribution
    'neuroplug'
    >>> reg.create("activation", "leaky_relu", alpha=0.1)
    LeakyReLU(alpha=0.1)
    """

    def __init__(self, *, autoload: bool = True, environ: dict[str, str] | None = None) -> None:
        self._autoload = autoload
        self._environ = os.environ if environ is None else environ
        self._state: _State | None = None
        self._lock = threading.RLock()
        # True while this registry imports its plugins (in the thread holding the lock)
        self._loading = False
        self._pm = _plugin_manager()

    # ------------------------------------------------------------------ loading
    def _loaded(self) -> _State:
        state = self._state
        if state is None:
            with self._lock:
                if self._state is None:
                    if self._loading:  # a plugin uses the registry from its import or a hook
                        raise PluginError(
                            "the neuroplug registry was used while it was loading its plugins: a plugin "
                            "must not call neuroplug.create, register, register_<kind> or get_registry "
                            "when it is imported or from its hooks; return registrations from the hooks")
                    fresh = _State()
                    self._loading = True
                    try:
                        self._load_entry_points(fresh)
                    except BaseException:  # strict mode: leave nothing half-loaded
                        for plugin in list(self._pm.get_plugins()):
                            self._pm.unregister(plugin)
                        raise
                    finally:
                        self._loading = False
                    self._state = fresh  # published only once complete
                state = self._state
        return state

    def _load_entry_points(self, state: _State) -> None:
        import importlib.metadata

        env = self._environ
        autoload = self._autoload and not _truthy(env.get(_ENV_AUTOLOAD_OFF))
        allow = _name_list(env.get(_ENV_ALLOW)) if env.get(_ENV_ALLOW) is not None else None
        block = _name_list(env.get(_ENV_BLOCK))
        seen: set[tuple[str, str]] = set()
        # a distribution's name and version, asked once per distribution: each question parses
        # its whole metadata file again (the long description included)
        about: dict[int, tuple[Any, str, str | None]] = {}

        def dist_of(ep: Any) -> tuple[str, str | None]:
            d = ep.dist
            if d is None:
                return "unknown", None
            known = about.get(id(d))
            if known is None or known[0] is not d:
                known = about[id(d)] = (d, d.name, d.version)
            return known[1], known[2]

        eps = sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda ep: (ep.dist is None or _canon(dist_of(ep)[0]) != BUILTIN_DISTRIBUTION, ep.name),
        )
        for ep in eps:
            dist, version = dist_of(ep)
            key = (_canon(dist), ep.name)
            if key in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(key)
            info = PluginInfo(
                name=ep.name,
                distribution=dist,
                version=version,
                builtin=_canon(dist) == BUILTIN_DISTRIBUTION,
                value=ep.value,
            )
            reason = None
            if any(info.matches(s) for s in block):
                reason = f"disabled by {_ENV_BLOCK}"
            elif not info.builtin and not autoload:
                reason = (f"autoload disabled by {_ENV_AUTOLOAD_OFF}" if self._autoload
                          else "autoload disabled for this registry")
            elif not info.builtin and allow is not None and not any(info.matches(s) for s in allow):
                reason = f"not listed in {_ENV_ALLOW}"
            if reason is not None:
                state.plugins.append(_replace(info, status="disabled", error=reason))
                continue
            self._load_plugin(state, info, ep.load)

    def _load_plugin(self, state: _State, info: PluginInfo, load: Callable[[], Any]) -> PluginInfo:
        """Import, validate and collect one plugin; on failure report and skip it."""
        plugin = None
        try:
            try:
                plugin = load()
            except (Exception, SystemExit) as exc:  # sys.exit() in a plugin must not end the program
                raise _PluginFailure("import", exc) from exc
            if plugin is None:
                raise _PluginFailure("validate", f"the entry point {info.value or info.name!r} resolved to None, "
                                                 f"not a module or object with neuroplug_* hooks")
            entries = self._collect(plugin, info)
        except _PluginFailure as failure:
            self._forget(plugin, info)
            failed = _replace(info, status="failed", phase=failure.phase, error=failure.text)
            state.plugins.append(failed)
            self._report(failed)
            return failed
        state.plugins.append(info)
        for entry in entries:
            self._add(state, entry)
        return info

    def _forget(self, plugin: Any, info: PluginInfo) -> None:
        """Unregister ``plugin`` from pluggy if it was registered as ``info`` (and not as another plugin)."""
        if plugin is not None and self._pm.get_plugin(info.label) is plugin:
            self._pm.unregister(name=info.label)

    def _collect(self, plugin: Any, info: PluginInfo) -> list[Entry]:
        if plugin is not None and self._pm.is_registered(plugin):
            # e.g. two entry points naming one module: pluggy would refuse it with a long message
            raise _PluginFailure("validate", f"{plugin!r} is already loaded as the plugin "
                                             f"{self._pm.get_name(plugin)!r}; one object can be one plugin only")
        try:
            self._pm.register(plugin, name=info.label)
            self._pm.check_pending()
        except Exception as exc:
            raise _PluginFailure("validate", exc) from exc
        entries: list[Entry] = []
        seen: set[tuple[str, str]] = set()
        from .hookspecs import HOOK_OF_KIND
        from .types import REGISTRATION_TYPES

        for kind, hook_name in HOOK_OF_KIND.items():
            caller = getattr(self._pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    result = impl.function()
                    items = [] if result is None else list(result)
                except (Exception, SystemExit) as exc:
                    raise _PluginFailure("hook", exc) from exc
                expected = REGISTRATION_TYPES[kind]
                for item in items:
                    if not isinstance(item, expected):
                        raise _PluginFailure(
                            "registration",
                            f"{hook_name}() returned {item!r}; expected {expected.__name__} objects",
                        )
                    problems = item.problems()
                    if problems:
                        raise _PluginFailure("registration", "; ".join(problems))
                    for name in (item.name, *item.aliases):
                        if (kind, name) in seen:
                            raise _PluginFailure(
                                "registration", f"the {kind} name {name!r} is registered twice"
                            )
                        seen.add((kind, name))
                    entries.append(Entry(item, info))
        return entries

    def _report(self, info: PluginInfo) -> None:
        how = f"disable it with {_ENV_BLOCK}={info.label}"
        if not info.builtin and info.distribution != LOCAL_DISTRIBUTION:
            how += f" or 'pip uninstall {info.distribution}'"
        version = f" {info.version}" if info.version else ""
        message = (
            f"neuroplug plugin {info.name!r} from {info.distribution}{version} failed "
            f"({info.phase}): {info.error}. It was skipped; {how}."
        )
        if _truthy(self._environ.get(_ENV_STRICT)):
            raise PluginError(message.replace("It was skipped; ", "") + f" (an error because {_ENV_STRICT} is set)")
        warnings.warn(message, PluginWarning, stacklevel=_outside_neuroplug())

    @staticmethod
    def _add(state: _State, entry: Entry) -> None:
        names = state.names[entry.kind]
        reg = entry.registration
        keys = [entry.name, *reg.aliases]
        if reg.replaces and reg.replaces not in keys:  # name="fast_tanh", replaces="tanh"
            keys.append(reg.replaces)
        for name in keys:
            names.setdefault(name, []).append(entry)

    def reload(self) -> None:
        """Forget everything and discover the plugins again on next use."""
        with self._lock:
            for plugin in list(self._pm.get_plugins()):
                self._pm.unregister(plugin)
            self._state = None

    # ------------------------------------------------------------------ queries
    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen: loaded, failed and disabled, in load order."""
        return list(self._loaded().plugins)

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Every registered component (of ``kind``), each once, sorted by kind and name."""
        state = self._loaded()
        kinds = [_check_kind(kind)] if kind else list(KINDS)
        out: dict[int, Entry] = {}
        for k in kinds:
            for entries in state.names[k].values():
                for e in entries:
                    out[id(e)] = e
        return sorted(out.values(), key=lambda e: (list(KINDS).index(e.kind), e.name, e.qualified_name))

    def names(self, kind: str) -> list[str]:
        """The bare names (and aliases) of ``kind`` that resolve."""
        return sorted(self._loaded().names[_check_kind(kind)])

    def shadowed(self, entry: Entry) -> bool:
        """True if ``entry``'s bare name resolves to a different component."""
        try:
            return self.resolve(entry.kind, entry.name) is not entry
        except ComponentNotFoundError:
            return True

    def resolve(self, kind: str, name: str) -> Entry:
        """Return the entry that ``name`` (bare, alias or ``distribution:name``) denotes.

        Raises
        ------
        ComponentNotFoundError
            No such component; the message lists the available names and the
            closest matches, and any plugin that failed to load.
        AmbiguousComponentError
            Two third-party plugins provide the bare name.
        """
        kind = _check_kind(kind)
        if not isinstance(name, str):
            raise ConfigError(f"a {kind} name must be a string, got {name!r}")
        state = self._loaded()
        if ":" in name:
            dist, _, bare = name.partition(":")
            for entry in state.names[kind].get(bare, []):
                if entry.plugin.matches(dist) or _canon(dist) == _canon(entry.plugin.distribution):
                    return entry
            raise ComponentNotFoundError(self._not_found(kind, name, bare))
        candidates = state.names[kind].get(name, [])
        if not candidates:
            raise ComponentNotFoundError(self._not_found(kind, name, name))
        local = [e for e in candidates if e.plugin.distribution == LOCAL_DISTRIBUTION]
        if local:
            return local[-1]
        replacing = [e for e in candidates if not e.plugin.builtin and e.registration.replaces == name]
        if len(replacing) == 1:
            return replacing[0]
        if len(replacing) > 1:
            raise AmbiguousComponentError(self._ambiguous(kind, name, replacing, "replace"))
        builtin = [e for e in candidates if e.plugin.builtin]
        if builtin:
            return builtin[0]
        # distinct distributions only (one plugin may register a name and an alias alike)
        if len({e.plugin.distribution for e in candidates}) > 1:
            raise AmbiguousComponentError(self._ambiguous(kind, name, candidates, "provide"))
        return candidates[0]

    def _ambiguous(self, kind: str, name: str, entries: list[Entry], verb: str) -> str:
        dists = sorted({e.plugin.distribution for e in entries})
        quals = " or ".join(repr(f"{d}:{name}") for d in dists)
        return (f"the {kind} name {name!r} is ambiguous: the plugins of {', '.join(dists)} all "
                f"{verb} it. Use a qualified name: {quals}")

    def _not_found(self, kind: str, asked: str, bare: str) -> str:
        state = self._loaded()
        available = sorted(state.names[kind])
        message = f"unknown {kind} {asked!r}."
        import difflib

        close = difflib.get_close_matches(bare, available, n=3, cutoff=0.6)
        if close:
            message += f" Did you mean {' or '.join(map(repr, close))}?"
        message += f" Available {kind}{'es' if kind.endswith('s') else 's'}: {', '.join(available) or '(none)'}."
        failed = [p for p in state.plugins if p.status == "failed"]
        if failed:
            message += " Plugins that failed to load and may have provided it: " + "; ".join(
                f"{p.label} ({p.phase}: {p.error})" for p in failed) + "."
        disabled = [p for p in state.plugins if p.status == "disabled"]
        if disabled:
            message += " Disabled plugins: " + ", ".join(f"{p.label} ({p.error})" for p in disabled) + "."
        return message

    # ------------------------------------------------------------------ creating
    def create(self, kind: str, spec: Any, /, **params: Any) -> Component:
        """Build a component of ``kind`` from a name, a config dict or an instance.

        Parameters
        ----------
        kind : str
            One of ``"activation"``, ``"initializer"``, ``"loss"``, ``"schedule"``,
            ``"optimizer"``.
        spec : str, dict, Component or Component subclass
            A name (``"relu"``, ``"neuroplug:relu"``), a dict ``{"name": ...,
            "config": {...}}`` as written by :meth:`describe`, an instance of the
            kind's interface (returned as is), or a registered class.
        **params
            Parameters of the component (not allowed with an instance).
        """
        kind = _check_kind(kind)
        interface = KINDS[kind]
        if isinstance(spec, interface):
            if params:
                raise ConfigError(f"parameters {sorted(params)} given with an already built {kind} {spec!r}")
            return spec
        if isinstance(spec, type) and issubclass(spec, interface):
            if inspect.isabstract(spec):
                missing = ", ".join(sorted(getattr(spec, "__abstractmethods__", ())))
                raise ConfigError(
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} must be given as a name, a {{'name', 'config'}} "
                    f"dict, an instance or a class that "
                    f"can be built; got the abstract class {spec.__module__}.{spec.__qualname__} (it does not "
                    f"implement {missing}): give a name such as {_EXAMPLE_NAMES[kind]!r} or a subclass")
            factory, label = spec, f"{kind} {spec.__module__}.{spec.__qualname__}"
        elif isinstance(spec, dict):
            unknown = set(spec) - {"kind", "name", "config"}
            if unknown or "name" not in spec:
                raise ConfigError(
                    f"a {kind} given as a dict needs the keys 'name' and optionally 'config'; got {sorted(spec)}")
            if spec.get("kind", kind) != kind:
                raise ConfigError(f"expected a {kind}, got a {spec['kind']!r} config: {spec!r}")
            config = spec.get("config") or {}
            if not isinstance(config, dict):
                raise ConfigError(f"the 'config' of {kind} {spec['name']!r} must be a dict, got {config!r}")
            return self.create(kind, spec["name"], **{**config, **params})
        elif isinstance(spec, str):
            entry = self.resolve(kind, spec)
            factory, label = entry.registration.factory, f"{kind} {spec!r} (from {entry.plugin.distribution})"
        else:
            raise ConfigError(
                f"a {kind} must be given as a name, a {{'name', 'config'}} dict or a "
                f"{interface.__name__} instance; got {spec!r} of type {type(spec).__name__}")
        _check_params(factory, params, label)
        try:
            component = factory(**params)
        except (ConfigError, InputError) as exc:
            if type(exc) in _PREFIXABLE and not str(exc).startswith(label):
                # "gamma must be > 0, got -1" -> "schedule 'step_decay' (from neuroplug): gamma must be ..."
                raise type(exc)(f"{label}: {exc}").with_traceback(exc.__traceback__) from None
            raise
        except NeuroplugError:
            raise
        except Exception as exc:  # a plugin's constructor failed: name it, not a raw error from its code
            raise ComponentError(f"{label}: its constructor raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(component, interface):
            raise ConfigError(f"{label}: the factory returned {component!r}, not a {interface.__name__}")
        return component

    def describe(self, component: Component) -> dict[str, Any]:
        """Return ``{"kind", "name", "config"}`` that :meth:`create` turns back into ``component``.

        The name is bare when it resolves to the component's class, qualified
        (``distribution:name``) otherwise. Raises :class:`ConfigError` for a component
        whose class is not registered.
        """
        kind = component.kind
        matches = [e for e in self.entries(kind) if e.registration.factory is type(component)]
        if not matches:
            raise ConfigError(
                f"{type(component).__name__} is not a registered {kind}, so it cannot be saved "
                f"by name; register it with neuroplug.register_{kind}() or a plugin")
        entry = matches[0]
        for e in matches:
            with contextlib.suppress(ComponentNotFoundError):
                if self.resolve(kind, e.name) is e:
                    entry = e
                    break
        name = entry.name if self.resolve_or_none(kind, entry.name) is entry else entry.qualified_name
        return {"kind": kind, "name": name, "config": component.get_config()}

    def resolve_or_none(self, kind: str, name: str) -> Entry | None:
        """Like :meth:`resolve` but returns None when the name does not resolve."""
        try:
            return self.resolve(kind, name)
        except ComponentNotFoundError:
            return None

    # ------------------------------------------------------------------ in-process
    def register(self, obj: Any, *, kind: str | None = None, name: str | None = None,
                 replace: bool = False, **fields: Any) -> Any:
        """Register a component in this process, without packaging.

        Parameters
        ----------
        obj : registration, Component subclass, or plugin
            A ``*Registration`` object; a class implementing one of the interfaces
            (its kind is inferred); or a plugin module/object with ``neuroplug_*``
            hooks (loaded like an installed plugin, from distribution ``local``).
        kind, name : str, optional
            For a class: its kind (inferred) and name (default: the class name in
            snake_case).
        replace : bool
            Allow the name to shadow an existing component of the same kind.
        **fields
            More registration fields for a class: ``aliases``, ``summary``, ``formula`` ...

        Returns
        -------
        obj, unchanged (so it can be used as a decorator).
        """
        from .types import REGISTRATION_TYPES, ComponentRegistration

        state = self._loaded()
        if isinstance(obj, ComponentRegistration):
            registrations = [obj]
        elif isinstance(obj, type) and issubclass(obj, Component):
            inferred = next((k for k, cls in KINDS.items() if issubclass(obj, cls)), None)
            kind = _check_kind(kind or inferred)
            registrations = [REGISTRATION_TYPES[kind](
                name=name or _snake(obj.__name__), factory=obj,
                summary=fields.pop("summary", _first_line(obj.__doc__)), **fields)]
        else:
            if kind or name or fields:
                raise ConfigError("kind/name/fields apply to a component class, not to a plugin object")
            plugin_name = getattr(obj, "__name__", type(obj).__name__)
            info = PluginInfo(name=plugin_name, distribution=LOCAL_DISTRIBUTION)
            if any(p.distribution == LOCAL_DISTRIBUTION and p.name == plugin_name and p.status == "loaded"
                   for p in state.plugins):
                raise DuplicateComponentError(f"the plugin {plugin_name!r} is already registered")
            try:
                entries = self._collect(obj, info)
            except _PluginFailure as failure:
                self._forget(obj, info)
                raise PluginError(f"plugin {plugin_name!r} is invalid ({failure.phase}): {failure.text}") from None
            try:
                for entry in entries:
                    self._check_free(state, entry, replace)
            except DuplicateComponentError:
                self._pm.unregister(obj)
                raise
            state.plugins.append(info)
            for entry in entries:
                self._add(state, entry)
            return obj
        for reg in registrations:
            problems = reg.problems()
            if problems:
                raise ConfigError("; ".join(problems))
            entry = Entry(reg, _IN_PROCESS)
            self._check_free(state, entry, replace)
            if _IN_PROCESS not in state.plugins:
                state.plugins.append(_IN_PROCESS)
            self._add(state, entry)
        return obj

    def _check_free(self, state: _State, entry: Entry, replace: bool) -> None:
        for n in (entry.name, *entry.registration.aliases):
            taken = state.names[entry.kind].get(n)
            if taken and not replace:
                owners = ", ".join(sorted({e.qualified_name for e in taken}))
                raise DuplicateComponentError(
                    f"the {entry.kind} name {n!r} is already registered ({owners}); pass "
                    f"replace=True to override it in this process, or choose another name")
            if taken and replace:  # drop earlier in-process ones, keep plugins (qualified names)
                state.names[entry.kind][n] = [e for e in taken if e.plugin.distribution != LOCAL_DISTRIBUTION]

    def unregister(self, kind: str, name: str) -> None:
        """Remove an in-process registration (plugins from distributions cannot be removed)."""
        state = self._loaded()
        kind = _check_kind(kind)
        entries = state.names[kind].get(name, [])
        local = [e for e in entries if e.plugin.distribution == LOCAL_DISTRIBUTION]
        if not local:
            raise ComponentNotFoundError(f"no in-process {kind} named {name!r} to unregister")
        target = local[-1]
        for n in (target.name, *target.registration.aliases):
            left = [e for e in state.names[kind].get(n, []) if e is not target]
            if left:
                state.names[kind][n] = left
            else:
                state.names[kind].pop(n, None)


#: Errors of a component's constructor that :meth:`Registry.create` prefixes with the component's
#: name (exactly these classes: subclasses may carry attributes a new instance would lose).
_PREFIXABLE = (ConfigError, InputError, ShapeError)

#: The plugin record of components registered one by one with :func:`register`.
_IN_PROCESS = PluginInfo(name="<in-process>", distribution=LOCAL_DISTRIBUTION)


def _replace(info: PluginInfo, **changes: Any) -> PluginInfo:
    from dataclasses import replace

    return replace(info, **changes)


def _outside_neuroplug() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside neuroplug."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("neuroplug"):
        frame, level = frame.f_back, level + 1
    return level


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return kind


def _check_params(factory: Callable[..., Any], params: dict[str, Any], label: str) -> None:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    allowed = [n for n, p in sig.parameters.items()
               if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        hint = ""
        for u in unknown:
            import difflib

            close = difflib.get_close_matches(u, allowed, n=1)
            if close:
                hint += f" Did you mean {close[0]!r} for {u!r}?"
        raise ConfigError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for "
            f"{label}; allowed: {', '.join(allowed) or '(none)'}.{hint}")
    missing = [n for n, p in sig.parameters.items()
               if n != "self" and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and n not in params]
    if missing:
        raise ConfigError(f"{label} needs the parameter{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(map(repr, missing))}")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


# ---------------------------------------------------------------------- default registry
_default: Registry | None = None
_default_lock = threading.Lock()


def get_registry() -> Registry:
    """Return the process-wide registry, creating it (and loading plugins) on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Registry()
    return _default


@contextlib.contextmanager
def isolated_registry(*plugins: Any, autoload: bool = False,
                      environ: dict[str, str] | None = None) -> Iterator[Registry]:
    """Use a fresh registry for the duration of a ``with`` block.

    By default it holds the built-ins only (``autoload=False``); each object in
    ``plugins`` is registered with :meth:`Registry.register` (plugin modules,
    component classes or registrations). The previous registry is restored on exit.

    >>> import neuroplug as npl
    >>> with npl.isolated_registry() as reg:
    ...     _ = reg.resolve("loss", "mse")
    """
    global _default
    registry = Registry(autoload=autoload, environ=environ)
    for plugin in plugins:
        registry.register(plugin)
    with _default_lock:
        previous, _default = _default, registry
    try:
        yield registry
    finally:
        with _default_lock:
            _default = previous


#: A built-in name of each kind, shown in messages.
_EXAMPLE_NAMES = {"activation": "relu", "initializer": "he_uniform", "loss": "mse", "schedule": "constant",
                  "optimizer": "sgd"}


def create(kind: str, spec: Any, /, **params: Any) -> Component:
    """Build a component from the default registry: ``create("activation", "leaky_relu", alpha=0.1)``.

    See :meth:`Registry.create`.
    """
    return get_registry().create(kind, spec, **params)


def component_label(component: Any) -> str:
    """``kind 'dist:name' (plugin dist:entry)`` for a registered component, ``kind ClassName`` otherwise.

    How error messages name a component (with the plugin that provides it).
    """
    kind = getattr(component, "kind", "component")
    try:
        for entry in get_registry().entries(kind):
            if entry.registration.factory is type(component):
                return f"{kind} {entry.qualified_name!r} (plugin {entry.plugin.label})"
    except (NeuroplugError, KeyError):  # an unknown kind: named by its class
        pass
    return f"{kind} {type(component).__name__}"


def failing_component(exc: BaseException) -> str | None:
    """Name the innermost component (and its plugin) in ``exc``'s traceback, if any (see :func:`component_label`)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Component):
            found = candidate
        tb = tb.tb_next
    return None if found is None else component_label(found)


def describe(component: Component) -> dict[str, Any]:
    """``{"kind", "name", "config"}`` of a component, from the default registry (see :meth:`Registry.describe`)."""
    return get_registry().describe(component)


def register(obj: Any = None, **kwargs: Any) -> Any:
    """Register a component class, registration or plugin object in this process.

    Usable directly, ``register(MySwish, name="my_swish")``, or as a decorator,
    ``@register(name="my_swish")``. See :meth:`Registry.register`.
    """
    if obj is None:
        return lambda target: get_registry().register(target, **kwargs)
    return get_registry().register(obj, **kwargs)


def unregister(kind: str, name: str) -> None:
    """Remove an in-process registration from the default registry."""
    get_registry().unregister(kind, name)


def _kind_decorator(kind: str) -> Callable[..., Any]:
    def decorator(name: str | None = None, *, replace: bool = False, **fields: Any) -> Callable[[type], type]:
        if isinstance(name, type):  # used bare: @register_activation
            return get_registry().register(name, kind=kind, replace=replace, **fields)

        def wrap(cls: type) -> type:
            return get_registry().register(cls, kind=kind, name=name, replace=replace, **fields)

        return wrap

    decorator.__name__ = f"register_{kind}"
    decorator.__doc__ = (
        f"Class decorator registering a {kind} in this process.\n\n"
        f"``@register_{kind}(\"my_name\", summary=..., formula=...)``; the name defaults to the\n"
        f"class name in snake_case. ``replace=True`` is needed to shadow an existing name.")
    return decorator


register_activation = _kind_decorator("activation")
register_initializer = _kind_decorator("initializer")
register_loss = _kind_decorator("loss")
register_schedule = _kind_decorator("schedule")
register_optimizer = _kind_decorator("optimizer")
