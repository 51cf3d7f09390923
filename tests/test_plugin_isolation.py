"""Plugin isolation and name resolution, in-process and fast.

Each test builds its own :class:`neuroplug.registry.Registry` over the real
built-in entry points plus fake third-party ones: objects with the attributes the
registry reads from an ``importlib.metadata.EntryPoint`` (``name``, ``value``,
``group``, ``dist.name``, ``dist.version``, ``load()``) whose ``load()`` returns
an in-memory module or raises, and which count how often they were loaded. The
registry reads ``importlib.metadata.entry_points(group="neuroplug")``, which is
monkeypatched for the duration of one test. The environment is passed to each
registry explicitly, so the ``NEUROPLUG_*`` variables of the shell never matter.

``tests/test_third_party.py`` shows the same behaviours with real packages
installed by pip in a virtual environment.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import threading
import types
from typing import Any

import numpy as np
import pytest

import neuroplug as npl
from neuroplug import registry as registry_module
from neuroplug.errors import (
    AmbiguousComponentError,
    ComponentNotFoundError,
    ConfigError,
    DuplicateComponentError,
    PluginError,
)
from neuroplug.registry import PluginWarning, Registry
from neuroplug.types import ActivationRegistration, LossRegistration

#: The real built-in entry points (only neuroplug's own: a third-party plugin that
#: happens to be installed in the development environment must not change these tests).
BUILTIN_EPS = [ep for ep in importlib.metadata.entry_points(group="neuroplug")
               if ep.dist is not None and ep.dist.name == "neuroplug"]
_counter = itertools.count()


# ---------------------------------------------------------------------- fakes
class FakeDist:
    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version


class FakeEntryPoint:
    """Duck-types importlib.metadata.EntryPoint (which is immutable) and counts loads."""

    group = "neuroplug"

    def __init__(self, name: str, target: Any, dist: str = "thirdparty", version: str = "1.2.3") -> None:
        self.name = name
        self.value = f"{dist.replace('-', '_')}.{name}"
        self.dist = FakeDist(dist, version)
        self.target = target
        self.loads = 0

    def load(self) -> Any:
        self.loads += 1
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


class Double(npl.Activation):
    """2 z."""

    def forward(self, z, out=None):
        return np.multiply(z, 2, out=out)

    def derivative(self, z, a):
        return np.full_like(z, 2)


class Triple(npl.Activation):
    """3 z."""

    def forward(self, z, out=None):
        return np.multiply(z, 3, out=out)

    def derivative(self, z, a):
        return np.full_like(z, 3)


def plugin_module(**hooks: Any) -> types.ModuleType:
    """A fresh module with the given ``neuroplug_*`` functions (decorate them yourself)."""
    module = types.ModuleType(f"fake_plugin_{next(_counter)}")
    for name, function in hooks.items():
        setattr(module, name, function)
    return module


def activations(*registrations: Any) -> types.ModuleType:
    """A plugin module whose ``neuroplug_activations`` returns ``registrations``."""
    @npl.hookimpl
    def neuroplug_activations():
        return list(registrations)

    return plugin_module(neuroplug_activations=neuroplug_activations)


def act(name: str, factory: Any = Double, **fields: Any) -> ActivationRegistration:
    return ActivationRegistration(name=name, factory=factory, **fields)


@pytest.fixture
def install(monkeypatch):
    """``install(*fake_entry_points)``: what ``entry_points(group="neuroplug")`` returns from now on."""

    def install(*fakes: FakeEntryPoint) -> None:
        def entry_points(**params: Any) -> list[Any]:
            assert params == {"group": "neuroplug"}, params
            return [*BUILTIN_EPS, *fakes]

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)

    return install


def good_plugin() -> FakeEntryPoint:
    return FakeEntryPoint("good", activations(act("good_act", Triple)), dist="thirdparty-good", version="0.9")


def by_name(reg: Registry) -> dict[str, Any]:
    return {p.name: p for p in reg.plugins()}


# ---------------------------------------------------------------------- baseline
def test_builtins_load_cleanly_from_the_entry_points(install):
    assert {ep.name for ep in BUILTIN_EPS} >= {"activations", "initializers", "losses", "optimizers", "schedules"}
    install(good_plugin())
    reg = Registry(environ={})
    plugins = reg.plugins()  # filterwarnings=error: any PluginWarning fails this test
    assert [(p.name, p.status, p.builtin) for p in plugins[:len(BUILTIN_EPS)]] == [
        (ep.name, "loaded", True) for ep in sorted(BUILTIN_EPS, key=lambda ep: ep.name)]
    assert plugins[-1].name == "good" and plugins[-1].status == "loaded" and not plugins[-1].builtin
    assert (plugins[-1].distribution, plugins[-1].version) == ("thirdparty-good", "0.9")
    good = reg.resolve("activation", "good_act")
    assert good.qualified_name == "thirdparty-good:good_act" and not reg.shadowed(good)
    assert reg.resolve("activation", "tanh").plugin.builtin
    assert isinstance(reg.create("activation", "good_act"), Triple)


# ---------------------------------------------------------------------- failures
@npl.hookimpl
def _raising_hook():
    raise RuntimeError("the hook exploded")


def _hook_returning(value: Any):
    @npl.hookimpl
    def neuroplug_activations():
        return value

    return neuroplug_activations


def _misspelled(decorated: bool) -> types.ModuleType:
    def neuroplug_activation():  # no "s"
        return [act("never")]

    return plugin_module(neuroplug_activation=npl.hookimpl(neuroplug_activation) if decorated
                         else neuroplug_activation)


def _hook_building(**fields: Any):
    """A hook that builds its registration itself (so a construction error happens in the hook)."""
    @npl.hookimpl
    def neuroplug_activations():
        return [ActivationRegistration(**{"name": "fine", "factory": Double, **fields})]

    return plugin_module(neuroplug_activations=neuroplug_activations)


def _generator_raising() -> types.ModuleType:
    @npl.hookimpl
    def neuroplug_activations():
        yield act("first_one")
        raise RuntimeError("failed half-way")

    return plugin_module(neuroplug_activations=neuroplug_activations)


@npl.hookimpl
def _exiting_hook():
    raise SystemExit(3)


def _hook_with_argument() -> types.ModuleType:
    @npl.hookimpl
    def neuroplug_activations(config):
        return [act("never")]

    return plugin_module(neuroplug_activations=neuroplug_activations)


BROKEN = {
    # id: (entry-point target, phase, a fragment of the error)
    "import_error": (lambda: ImportError("No module named 'missing_dependency'"), "import",
                     "ImportError: No module named 'missing_dependency'"),
    "import_raises_other": (lambda: ZeroDivisionError("division by zero"), "import", "ZeroDivisionError"),
    "hook_raises": (lambda: plugin_module(neuroplug_activations=_raising_hook), "hook",
                    "RuntimeError: the hook exploded"),
    "hook_returns_non_iterable": (lambda: plugin_module(neuroplug_activations=_hook_returning(42)), "hook",
                                  "TypeError"),
    "hook_returns_wrong_objects": (lambda: plugin_module(neuroplug_activations=_hook_returning([object()])),
                                   "registration", "expected ActivationRegistration"),
    "hook_returns_wrong_kind": (lambda: plugin_module(neuroplug_activations=_hook_returning(
        [LossRegistration(name="l", factory=Double)])), "registration", "expected ActivationRegistration"),
    "invalid_name": (lambda: activations(act("Bad-Name")), "registration",
                     "'Bad-Name' is not a valid component name"),
    "invalid_alias": (lambda: activations(act("fine", aliases=("also fine",))), "registration",
                      "alias 'also fine' is not a valid component name"),
    "uncallable_factory": (lambda: activations(act("fine", factory=42)), "registration", "not callable"),
    "duplicate_names": (lambda: activations(act("twice"), act("twice", Triple)), "registration",
                        "'twice' is registered twice"),
    "name_duplicates_alias": (lambda: activations(act("one", aliases=("two",)), act("two")),
                              "registration", "'two' is registered twice"),
    "misspelled_hook": (lambda: _misspelled(decorated=True), "validate", "neuroplug_activation"),
    "misspelled_undecorated_hook": (lambda: _misspelled(decorated=False), "validate", "neuroplug_activation"),
    "hook_with_argument": (lambda: _hook_with_argument(), "validate", "config"),
    # sys.exit() in a plugin (e.g. a script's `sys.exit(main())` without a __main__ guard) must not end the program
    "import_calls_sys_exit": (lambda: SystemExit(2), "import", "SystemExit: 2"),
    "hook_calls_sys_exit": (lambda: plugin_module(neuroplug_activations=_exiting_hook), "hook", "SystemExit: 3"),
    "hook_generator_raises_half_way": (lambda: _generator_raising(), "hook", "RuntimeError: failed half-way"),
    "hook_returns_a_string": (lambda: plugin_module(neuroplug_activations=_hook_returning("tanh")),
                              "registration", "returned 't'; expected ActivationRegistration"),
    "hook_returns_a_dict": (lambda: plugin_module(neuroplug_activations=_hook_returning({"name": "x"})),
                            "registration", "returned 'name'; expected ActivationRegistration"),
    "entry_point_resolves_to_None": (lambda: None, "validate", "resolved to None"),
    # garbage in the fields of a registration
    "name_not_a_string": (lambda: activations(act(42)), "registration", "name 42 is not a valid component name"),
    "empty_name": (lambda: activations(act("")), "registration", "name '' is not a valid component name"),
    "summary_not_a_string": (lambda: activations(act("fine", summary=["a list"])), "registration",
                             "summary of 'fine' must be a string"),
    "formula_not_a_string": (lambda: activations(act("fine", formula=3.14)), "registration",
                             "formula of 'fine' must be a string"),
    "properties_not_strings": (lambda: activations(act("fine", properties=[1, 2])), "registration",
                               "properties of 'fine' must hold strings"),
    "replaces_not_a_name": (lambda: activations(act("fine", replaces=7)), "registration",
                            "replaces of 'fine' must be a component name"),
    "parameters_not_a_mapping": (lambda: _hook_building(parameters=5), "hook", "TypeError"),
    "unknown_registration_field": (lambda: _hook_building(colour="blue"), "hook", "colour"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plugin_is_reported_and_skipped(install, case):
    target, phase, fragment = BROKEN[case]
    bad = FakeEntryPoint("broken", target(), dist="thirdparty-bad", version="6.6.6")
    install(good_plugin(), bad)
    reg = Registry(environ={})
    with pytest.warns(PluginWarning) as record:
        plugins = by_name(reg)
    assert len(record) == 1
    message = str(record[0].message)
    assert f"'broken' from thirdparty-bad 6.6.6 failed ({phase})" in message, message
    assert fragment in message, message
    assert "NEUROPLUG_DISABLED_PLUGINS=" in message and "pip uninstall thirdparty-bad" in message, message

    info = plugins["broken"]
    assert (info.status, info.phase, info.distribution, info.version) == ("failed", phase, "thirdparty-bad", "6.6.6")
    assert fragment in info.error
    assert bad.loads == 1
    # everything else keeps working
    assert plugins["good"].status == "loaded"
    assert all(plugins[ep.name].status == "loaded" for ep in BUILTIN_EPS)
    assert isinstance(reg.create("activation", "good_act"), Triple)
    assert reg.resolve("activation", "tanh").plugin.builtin
    assert not [e for e in reg.entries() if e.plugin.distribution == "thirdparty-bad"]
    # reported once, not on every use
    reg.resolve("activation", "relu")
    assert len(reg.plugins()) == len(BUILTIN_EPS) + 2


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_error_of_a_failed_plugin_is_one_line(install, case):
    target, phase, fragment = BROKEN[case]
    install(FakeEntryPoint("broken", target(), dist="thirdparty-bad"))
    reg = Registry(environ={})
    with pytest.warns(PluginWarning):
        error = by_name(reg)["broken"].error
    assert "\n" not in error and "\n" not in str(reg.plugins()[-1].error)


def test_a_failing_plugin_registers_none_of_its_components(install):
    @npl.hookimpl
    def neuroplug_activations():
        return [act("half_done")]

    @npl.hookimpl
    def neuroplug_losses():
        raise ValueError("no losses today")

    bad = FakeEntryPoint("partial", plugin_module(neuroplug_activations=neuroplug_activations,
                                                  neuroplug_losses=neuroplug_losses))
    install(bad)
    reg = Registry(environ={})
    with pytest.warns(PluginWarning, match=r"'partial' .* failed \(hook\): ValueError: no losses today"):
        names = reg.names("activation")
    assert "half_done" not in names
    with pytest.raises(ComponentNotFoundError):
        reg.resolve("activation", "thirdparty:half_done")


def test_a_missing_name_mentions_the_failed_and_disabled_plugins(install):
    bad = FakeEntryPoint("broken", ImportError("cannot import name 'x'"), dist="thirdparty-bad")
    off = FakeEntryPoint("off", activations(act("off_act")), dist="thirdparty-off")
    install(good_plugin(), bad, off)
    reg = Registry(environ={"NEUROPLUG_DISABLED_PLUGINS": "off"})
    with pytest.warns(PluginWarning):
        reg.plugins()
    with pytest.raises(ComponentNotFoundError) as exc_info:
        reg.create("activation", "bad_act")
    message = str(exc_info.value)
    assert message.startswith("unknown activation 'bad_act'.")
    assert "thirdparty-bad:broken (import: ImportError: cannot import name 'x'" in message
    assert "thirdparty-off:off (disabled by NEUROPLUG_DISABLED_PLUGINS)" in message
    assert "good_act" in message  # the available names
    assert isinstance(exc_info.value, KeyError | LookupError)


def test_unknown_names_suggest_close_matches(install):
    install()
    reg = Registry(environ={})
    with pytest.raises(ComponentNotFoundError, match=r"unknown activation 'tanhh'\. Did you mean 'tanh'\?"):
        reg.resolve("activation", "tanhh")
    with pytest.raises(ComponentNotFoundError, match=r"Did you mean 'relu'"):
        npl.Registry(environ={}).create("activation", "neuroplug:rellu")
    with pytest.raises(ComponentNotFoundError, match=r"unknown loss 'nope:mse'"):
        reg.resolve("loss", "nope:mse")


# ---------------------------------------------------------------------- strict mode
def test_strict_mode_raises_plugin_error(install):
    bad = FakeEntryPoint("broken", plugin_module(neuroplug_activations=_raising_hook), dist="thirdparty-bad")
    install(good_plugin(), bad)
    reg = Registry(environ={"NEUROPLUG_STRICT_PLUGINS": "1"})
    for _ in range(2):  # and again: a failed load leaves nothing half-registered behind
        with pytest.raises(PluginError) as exc_info:
            reg.resolve("activation", "tanh")
        message = str(exc_info.value)
        assert "'broken' from thirdparty-bad 1.2.3 failed (hook): RuntimeError: the hook exploded" in message
        assert "NEUROPLUG_STRICT_PLUGINS" in message
    assert isinstance(exc_info.value, RuntimeError)
    # without failures strict mode changes nothing
    install(good_plugin())
    assert isinstance(Registry(environ={"NEUROPLUG_STRICT_PLUGINS": "1"}).create("activation", "good_act"), Triple)
    # and a blocked plugin is no failure
    install(good_plugin(), bad)
    reg = Registry(environ={"NEUROPLUG_STRICT_PLUGINS": "true", "NEUROPLUG_DISABLED_PLUGINS": "broken"})
    assert by_name(reg)["broken"].status == "disabled"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_strict_mode_turns_every_kind_of_failure_into_a_plugin_error(install, case):
    target, phase, fragment = BROKEN[case]
    install(good_plugin(), FakeEntryPoint("broken", target(), dist="thirdparty-bad", version="6.6.6"))
    reg = Registry(environ={"NEUROPLUG_STRICT_PLUGINS": "1"})
    for _ in range(2):  # the same error again: nothing was left half-registered (no "already registered")
        with pytest.raises(PluginError) as exc_info:
            reg.resolve("activation", "tanh")
        message = str(exc_info.value)
        assert f"'broken' from thirdparty-bad 6.6.6 failed ({phase})" in message, message
        assert fragment in message and "NEUROPLUG_STRICT_PLUGINS" in message, message
        assert "\n" not in message
    assert isinstance(exc_info.value, RuntimeError)


# ---------------------------------------------------------------------- more broken plugins
def test_one_module_under_two_entry_points_is_loaded_once(install):
    module = activations(act("shared_act", Triple))
    first, second = FakeEntryPoint("first", module), FakeEntryPoint("second", module)
    install(first, second)
    reg = Registry(environ={})
    with pytest.warns(PluginWarning, match=r"'second' .* failed \(validate\): .* already loaded as the plugin "
                                           r"'thirdparty:first'; one object can be one plugin only") as record:
        plugins = by_name(reg)
    assert len(record) == 1 and len(str(record[0].message)) < 400  # not pluggy's dump of every plugin
    assert (plugins["first"].status, plugins["second"].status) == ("loaded", "failed")
    # the failure did not unregister the first one from pluggy, and its component works
    assert reg._pm.get_plugin("thirdparty:first") is module
    assert isinstance(reg.create("activation", "shared_act"), Triple)


def test_a_plugin_entry_point_naming_a_builtin_module_leaves_the_builtin_alone(install):
    import neuroplug.plugins.losses as builtin_losses

    install(FakeEntryPoint("impostor", builtin_losses, dist="thirdparty-impostor"))
    reg = Registry(environ={})
    with pytest.warns(PluginWarning, match=r"already loaded as the plugin 'neuroplug:losses'"):
        assert by_name(reg)["impostor"].status == "failed"
    assert reg._pm.get_plugin("neuroplug:losses") is builtin_losses
    assert reg.resolve("loss", "mse").plugin.builtin


def test_a_plugin_that_uses_the_registry_while_it_loads_is_skipped(install, monkeypatch):
    """E.g. ``@neuroplug.register_activation`` at the top of a plugin module: it used to recurse into
    a second load of every plugin, 160 levels deep, with a warning for each built-in at each level."""

    class Reentrant(FakeEntryPoint):
        def load(self):
            self.loads += 1
            npl.register_activation("too_early")(Double)  # the registry being loaded
            return activations(act("never_seen"))

    bad = Reentrant("eager", None, dist="thirdparty-eager")
    install(good_plugin(), bad)
    monkeypatch.setattr(registry_module, "_default", None)
    with npl.isolated_registry(autoload=True, environ={}) as reg:
        with pytest.warns(PluginWarning) as record:
            plugins = by_name(reg)
        assert len(record) == 1, [str(r.message) for r in record]
        message = str(record[0].message)
        assert "'eager' from thirdparty-eager 1.2.3 failed (import): PluginError: the neuroplug registry was " \
               "used while it was loading its plugins" in message, message
        assert "return registrations from the hooks" in message
        assert bad.loads == 1 and plugins["eager"].status == "failed"
        assert all(p.status == "loaded" for p in plugins.values() if p.name != "eager")
        assert isinstance(reg.create("activation", "good_act"), Triple)
        for name in ("too_early", "never_seen"):
            with pytest.raises(ComponentNotFoundError):
                reg.resolve("activation", name)
        # after the load, registering in-process works as usual
        npl.register_activation("too_early")(Double)
        assert isinstance(reg.create("activation", "too_early"), Double)


def test_a_hook_that_uses_the_registry_is_skipped_and_strict_mode_raises(install, monkeypatch):
    @npl.hookimpl
    def neuroplug_activations():
        npl.create("activation", "tanh")
        return [act("never_seen")]

    install(FakeEntryPoint("eager", plugin_module(neuroplug_activations=neuroplug_activations)))
    monkeypatch.setattr(registry_module, "_default", None)
    with npl.isolated_registry(autoload=True, environ={}) as reg:
        with pytest.warns(PluginWarning, match=r"failed \(hook\): PluginError: the neuroplug registry was used"):
            assert by_name(reg)["eager"].status == "failed"
    with npl.isolated_registry(autoload=True, environ={"NEUROPLUG_STRICT_PLUGINS": "1"}) as reg:
        with pytest.raises(PluginError, match=r"failed \(hook\): PluginError: the neuroplug registry was used"):
            reg.plugins()


def test_aliases_given_as_one_string_are_refused(install):
    install(FakeEntryPoint("broken", activations(act("fine", aliases="ab")), dist="thirdparty-bad"))
    reg = Registry(environ={})
    with pytest.warns(PluginWarning, match=r"failed \(registration\): .*aliases"):
        assert by_name(reg)["broken"].status == "failed"
    assert "a" not in reg.names("activation")


# ---------------------------------------------------------------------- components that fail in use
class CrashingActivation(npl.Activation):
    def forward(self, z, out=None):
        raise ZeroDivisionError("activation crashed")

    def derivative(self, z, a):
        return np.ones_like(z)


class CrashingLoss(npl.Loss):
    def forward(self, y_pred, y_true):
        raise KeyError("loss crashed")

    def gradient(self, y_pred, y_true):
        return y_pred - y_true


class CrashingLossTargets(npl.Loss):
    def prepare_targets(self, y, n_outputs, dtype=np.float32):
        raise TypeError("prepare_targets crashed")

    def forward(self, y_pred, y_true):
        return 0.0

    def gradient(self, y_pred, y_true):
        return y_pred - y_true


class CrashingOptimizer(npl.Optimizer):
    def step(self, params, grads, lr):
        raise IndexError("optimizer crashed")


class CrashingSetup(npl.Optimizer):
    def setup(self, params):
        raise AttributeError("setup crashed")

    def step(self, params, grads, lr):
        pass


class CrashingSchedule(npl.Schedule):
    def __call__(self, step, base_lr):
        raise RuntimeError("schedule crashed")


class CrashingObserve(npl.Schedule):
    stateful = True

    def __call__(self, step, base_lr):
        return base_lr

    def observe(self, epoch, metrics):
        raise OSError("observe crashed")


@npl.hookimpl
def _crash_activations():
    return [ActivationRegistration(name="crash_act", factory=CrashingActivation)]


@npl.hookimpl
def _crash_losses():
    return [LossRegistration(name="crash_loss", factory=CrashingLoss),
            LossRegistration(name="crash_targets", factory=CrashingLossTargets)]


@npl.hookimpl
def _crash_optimizers():
    from neuroplug.types import OptimizerRegistration

    return [OptimizerRegistration(name="crash_opt", factory=CrashingOptimizer),
            OptimizerRegistration(name="crash_setup", factory=CrashingSetup)]


@npl.hookimpl
def _crash_schedules():
    from neuroplug.types import ScheduleRegistration

    return [ScheduleRegistration(name="crash_sched", factory=CrashingSchedule),
            ScheduleRegistration(name="crash_observe", factory=CrashingObserve)]


def _crashing_plugin() -> FakeEntryPoint:
    return FakeEntryPoint("crashy", plugin_module(
        neuroplug_activations=_crash_activations, neuroplug_losses=_crash_losses,
        neuroplug_optimizers=_crash_optimizers, neuroplug_schedules=_crash_schedules), dist="thirdparty-crash")


@pytest.mark.parametrize("kind, name, original", [
    pytest.param("activation", "crash_act", "ZeroDivisionError: activation crashed", id="activation_forward"),
    pytest.param("loss", "crash_loss", "KeyError: 'loss crashed'", id="loss_forward"),
    pytest.param("loss", "crash_targets", "TypeError: prepare_targets crashed", id="loss_prepare_targets"),
    pytest.param("optimizer", "crash_opt", "IndexError: optimizer crashed", id="optimizer_step"),
    pytest.param("optimizer", "crash_setup", "AttributeError: setup crashed", id="optimizer_setup"),
    pytest.param("schedule", "crash_sched", "RuntimeError: schedule crashed", id="schedule_call"),
    pytest.param("schedule", "crash_observe", "OSError: observe crashed", id="schedule_observe"),
])
def test_a_plugin_component_that_raises_in_fit_is_named_with_its_distribution(install, monkeypatch, kind, name,
                                                                               original):
    install(_crashing_plugin())
    monkeypatch.setattr(registry_module, "_default", None)
    with npl.isolated_registry(autoload=True, environ={}):
        net = npl.Sequential([npl.Dense(3, activation=name if kind == "activation" else "tanh")],
                             input_dim=2, seed=0)
        args = {"loss": "mse", "optimizer": "sgd", "schedule": "constant"}
        if kind != "activation":
            args[kind] = name
        X = np.random.default_rng(0).normal(size=(8, 2))
        with pytest.raises(npl.ComponentError) as exc_info:
            npl.fit(net, X, X @ np.ones((2, 3)), epochs=2, batch_size=4, **args)
    message = str(exc_info.value)
    assert f"{kind} 'thirdparty-crash:{name}' (plugin thirdparty-crash:crashy)" in message, message
    assert original in message and " raised " in message, message
    assert type(exc_info.value.__cause__).__name__ == original.split(":")[0]
    assert isinstance(exc_info.value, RuntimeError) and "\n" not in message


def test_a_plugin_factory_that_returns_garbage_or_refuses_its_parameters_is_named(install):
    class Picky(npl.Activation):
        def __init__(self, scale: float = 1.0):
            self.scale = npl.validation.check_number("scale", scale, low=0, low_inclusive=False)

        def forward(self, z, out=None):
            return np.multiply(z, self.scale, out=out)

        def derivative(self, z, a):
            return np.full_like(z, self.scale)

    install(FakeEntryPoint("odd", activations(act("picky", Picky), act("not_a_component", lambda: 42)),
                           dist="thirdparty-odd"))
    reg = Registry(environ={})
    with pytest.raises(ConfigError, match=r"^activation 'not_a_component' \(from thirdparty-odd\): the factory "
                                          r"returned 42, not a Activation$"):
        reg.create("activation", "not_a_component")
    with pytest.raises(ConfigError, match=r"^activation 'picky' \(from thirdparty-odd\): scale must be > 0, "
                                          r"got -1$") as exc_info:
        reg.create("activation", "picky", scale=-1)
    assert type(exc_info.value) is ConfigError and exc_info.value.__traceback__ is not None
    # the traceback still reaches the check that refused the value
    frames = []
    tb = exc_info.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert "check_number" in frames
    with pytest.raises(ConfigError, match=r"^unknown parameter 'scal' for activation 'picky' \(from "
                                          r"thirdparty-odd\); allowed: scale\. Did you mean 'scale'"):
        reg.create("activation", "picky", scal=2)


# ---------------------------------------------------------------------- selection
@pytest.mark.parametrize("selector", ["broken", "thirdparty-bad", "ThirdParty_Bad", "thirdparty-bad:broken",
                                      "unrelated, broken ,other"])
def test_blocklist_prevents_the_import(install, selector):
    bad = FakeEntryPoint("broken", ImportError("must never be imported"), dist="thirdparty-bad")
    good = good_plugin()
    install(good, bad)
    reg = Registry(environ={"NEUROPLUG_DISABLED_PLUGINS": selector})
    plugins = by_name(reg)  # no warning
    assert bad.loads == 0
    assert plugins["broken"].status == "disabled" and plugins["broken"].phase is None
    assert plugins["broken"].error == "disabled by NEUROPLUG_DISABLED_PLUGINS"
    assert good.loads == 1 and plugins["good"].status == "loaded"


def test_blocklist_does_not_match_other_plugins_of_the_same_name(install):
    bad = FakeEntryPoint("broken", ImportError("boom"), dist="thirdparty-bad")
    twin = FakeEntryPoint("broken", activations(act("twin_act")), dist="thirdparty-twin")
    install(bad, twin)
    reg = Registry(environ={"NEUROPLUG_DISABLED_PLUGINS": "thirdparty-bad:broken"})
    assert reg.resolve("activation", "twin_act").plugin.distribution == "thirdparty-twin"
    assert (bad.loads, twin.loads) == (0, 1)


def test_a_builtin_plugin_can_be_disabled(install):
    install()
    reg = Registry(environ={"NEUROPLUG_DISABLED_PLUGINS": "neuroplug:losses"})
    assert by_name(reg)["losses"].status == "disabled"
    with pytest.raises(ComponentNotFoundError, match=r"neuroplug:losses \(disabled by"):
        reg.resolve("loss", "mse")
    assert reg.resolve("activation", "tanh").plugin.builtin


def test_autoload_off_loads_the_builtins_only(install):
    bad = FakeEntryPoint("broken", ImportError("must never be imported"), dist="thirdparty-bad")
    good = good_plugin()
    install(good, bad)
    for reg, why in [
        (Registry(environ={"NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD": "1"}),
         "autoload disabled by NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD"),
        (Registry(autoload=False, environ={}), "autoload disabled for this registry"),
    ]:
        plugins = by_name(reg)
        assert {plugins[n].status for n in ("good", "broken")} == {"disabled"}
        assert plugins["good"].error == why
        assert all(plugins[ep.name].status == "loaded" for ep in BUILTIN_EPS)
        assert {e.plugin.distribution for e in reg.entries()} == {"neuroplug"}
    assert (good.loads, bad.loads) == (0, 0)
    # "0" is not true
    install(good)
    assert by_name(Registry(environ={"NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD": "0"}))["good"].status == "loaded"


@pytest.mark.parametrize("allow", ["good", "thirdparty-good", "thirdparty-good:good", "nothing,good"])
def test_allowlist_loads_only_the_listed_third_party_plugins(install, allow):
    bad = FakeEntryPoint("broken", ImportError("must never be imported"), dist="thirdparty-bad")
    good = good_plugin()
    install(good, bad)
    reg = Registry(environ={"NEUROPLUG_PLUGINS": allow})
    plugins = by_name(reg)
    assert plugins["good"].status == "loaded" and good.loads == 1
    assert plugins["broken"].status == "disabled" and bad.loads == 0
    assert plugins["broken"].error == "not listed in NEUROPLUG_PLUGINS"
    assert all(plugins[ep.name].status == "loaded" for ep in BUILTIN_EPS)  # built-ins need no listing


def test_blocklist_wins_over_allowlist(install):
    good = good_plugin()
    install(good)
    reg = Registry(environ={"NEUROPLUG_PLUGINS": "good", "NEUROPLUG_DISABLED_PLUGINS": "good"})
    assert by_name(reg)["good"].status == "disabled" and good.loads == 0


# ---------------------------------------------------------------------- name conflicts
def test_two_third_party_plugins_with_one_name_are_ambiguous(install):
    install(FakeEntryPoint("a", activations(act("foo", Double)), dist="dist-a"),
            FakeEntryPoint("b", activations(act("foo", Triple)), dist="dist-b"))
    reg = Registry(environ={})
    with pytest.raises(AmbiguousComponentError) as exc_info:
        reg.resolve("activation", "foo")
    message = str(exc_info.value)
    assert "dist-a" in message and "dist-b" in message
    assert "'dist-a:foo'" in message and "'dist-b:foo'" in message
    assert isinstance(exc_info.value, ComponentNotFoundError)
    with pytest.raises(AmbiguousComponentError):
        reg.create("activation", "foo")
    # qualified names always resolve, by distribution (normalised) or entry-point name
    assert isinstance(reg.create("activation", "dist-a:foo"), Double)
    assert isinstance(reg.create("activation", "DIST_B:foo"), Triple)
    assert isinstance(reg.create("activation", "b:foo"), Triple)
    # both rows are flagged, and a saved component uses the qualified name
    assert all(reg.shadowed(e) for e in reg.entries("activation") if e.name == "foo")
    assert reg.describe(reg.create("activation", "dist-b:foo"))["name"] == "dist-b:foo"


def test_a_builtin_wins_over_a_third_party_component_of_the_same_name(install):
    install(FakeEntryPoint("shadow", activations(act("tanh", Double), act("linear", Triple)), dist="thirdparty"))
    reg = Registry(environ={})
    builtin, third = reg.resolve("activation", "tanh"), reg.resolve("activation", "thirdparty:tanh")
    assert builtin.plugin.builtin and third.plugin.distribution == "thirdparty"
    assert reg.shadowed(third) and not reg.shadowed(builtin)
    assert reg.resolve("activation", "linear").name == "identity"  # a built-in alias wins too
    assert isinstance(reg.create("activation", "thirdparty:tanh"), Double)
    assert reg.describe(reg.create("activation", "thirdparty:tanh"))["name"] == "thirdparty:tanh"
    assert reg.describe(reg.create("activation", "tanh"))["name"] == "tanh"


def test_replaces_lets_a_third_party_component_win(install):
    install(FakeEntryPoint("fast", activations(act("tanh", Double, replaces="tanh")), dist="thirdparty-fast"))
    reg = Registry(environ={})
    third, builtin = reg.resolve("activation", "tanh"), reg.resolve("activation", "neuroplug:tanh")
    assert third.plugin.distribution == "thirdparty-fast" and builtin.plugin.builtin
    assert reg.shadowed(builtin) and not reg.shadowed(third)
    assert isinstance(reg.create("activation", "tanh"), Double)
    assert reg.describe(reg.create("activation", "neuroplug:tanh"))["name"] == "neuroplug:tanh"
    assert reg.describe(reg.create("activation", "tanh"))["name"] == "tanh"


def test_two_replacements_of_one_builtin_are_ambiguous(install):
    install(FakeEntryPoint("a", activations(act("tanh", Double, replaces="tanh")), dist="dist-a"),
            FakeEntryPoint("b", activations(act("tanh", Triple, replaces="tanh")), dist="dist-b"))
    reg = Registry(environ={})
    with pytest.raises(AmbiguousComponentError, match=r"'dist-a:tanh' or 'dist-b:tanh'"):
        reg.resolve("activation", "tanh")
    assert reg.resolve("activation", "neuroplug:tanh").plugin.builtin


def test_replaces_with_a_different_name(install):
    install(FakeEntryPoint("fast", activations(act("fast_tanh", Double, replaces="tanh")), dist="thirdparty-fast"))
    reg = Registry(environ={})
    assert reg.resolve("activation", "tanh").name == "fast_tanh"


def test_a_second_thread_waits_for_the_first_load(install):
    started, release = threading.Event(), threading.Event()

    class SlowEntryPoint(FakeEntryPoint):
        def load(self):
            started.set()
            release.wait(10)
            return super().load()

    install(SlowEntryPoint("a_slow", plugin_module(), dist="thirdparty-slow"), good_plugin())
    reg = Registry(environ={})
    first = threading.Thread(target=reg.plugins)
    first.start()
    assert started.wait(10)
    result: list[Any] = []

    def second() -> None:
        try:
            result.append(reg.resolve("activation", "good_act").qualified_name)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
            result.append(exc)

    other = threading.Thread(target=second)
    other.start()
    other.join(0.5)  # with the bug it has already failed; fixed, it waits for the lock
    release.set()
    first.join(10)
    other.join(10)
    assert result == ["thirdparty-good:good_act"]


# ---------------------------------------------------------------------- in-process registration
def test_register_decorator_duplicates_and_unregister(monkeypatch):
    monkeypatch.setattr(registry_module, "_default", None)
    with npl.isolated_registry() as reg:
        @npl.register_activation("times_two", summary="2 z", formula=r"\varphi(z) = 2z")
        class TimesTwo(Double):
            pass

        entry = reg.resolve("activation", "times_two")
        assert entry.plugin.distribution == "local" and entry.qualified_name == "local:times_two"
        assert entry.registration.summary == "2 z"
        assert isinstance(npl.create("activation", "times_two"), TimesTwo)
        assert npl.registry.describe(TimesTwo())["name"] == "times_two"

        @npl.register_activation  # bare: the name is the class name in snake case
        class ScaledByThree(Triple):
            pass

        assert isinstance(reg.create("activation", "scaled_by_three"), ScaledByThree)

        with pytest.raises(DuplicateComponentError, match=r"'times_two' is already registered.*replace=True"):
            npl.register_activation("times_two")(Triple)
        with pytest.raises(DuplicateComponentError, match=r"neuroplug:tanh"):
            npl.register_activation("tanh")(Triple)
        npl.register_activation("tanh", replace=True)(Triple)
        assert isinstance(npl.create("activation", "tanh"), Triple)  # in-process wins
        assert reg.resolve("activation", "neuroplug:tanh").plugin.builtin
        npl.unregister("activation", "tanh")
        assert reg.resolve("activation", "tanh").plugin.builtin  # the built-in is back
        npl.unregister("activation", "times_two")
        with pytest.raises(ComponentNotFoundError):
            reg.resolve("activation", "times_two")
        with pytest.raises(ComponentNotFoundError, match="no in-process activation named 'relu'"):
            npl.unregister("activation", "relu")  # plugins cannot be unregistered

        npl.register(act("via_registration", Double))
        assert isinstance(npl.create("activation", "via_registration"), Double)
        with pytest.raises(ConfigError, match="not a valid component name"):
            npl.register(act("Not-Valid", Double))


def test_register_a_plugin_module_in_process(neuroplug_registry):
    reg = neuroplug_registry
    module = activations(act("from_module", Triple))
    assert reg.register(module) is module
    entry = reg.resolve("activation", "from_module")
    assert entry.plugin.distribution == "local" and entry.plugin.name == module.__name__
    with pytest.raises(DuplicateComponentError, match="already registered"):
        reg.register(module)
    with pytest.raises(PluginError, match=r"invalid \(registration\).*'Bad-Name'"):
        reg.register(activations(act("Bad-Name")))
    with pytest.raises(PluginError, match=r"invalid \(validate\).*neuroplug_activation"):
        reg.register(_misspelled(decorated=True))
    with pytest.raises(PluginError, match=r"invalid \(hook\).*the hook exploded"):
        reg.register(plugin_module(neuroplug_activations=_raising_hook))
    assert isinstance(reg.create("activation", "from_module"), Triple)


def test_a_plugin_module_can_be_registered_with_replace_after_a_conflict(neuroplug_registry):
    # regression: the refused plugin used to stay registered with pluggy ("Plugin name already registered")
    module = activations(act("tanh", Double))
    with pytest.raises(DuplicateComponentError):
        neuroplug_registry.register(module)
    neuroplug_registry.register(module, replace=True)
    assert isinstance(neuroplug_registry.create("activation", "tanh"), Double)


def test_isolated_registry_restores_the_previous_default(monkeypatch):
    previous = Registry(autoload=False, environ={})
    monkeypatch.setattr(registry_module, "_default", previous)
    assert npl.get_registry() is previous
    with npl.isolated_registry() as outer:
        assert npl.get_registry() is outer and outer is not previous
        with npl.isolated_registry(act("inner_only", Double)) as inner:
            assert npl.get_registry() is inner
            assert isinstance(npl.create("activation", "inner_only"), Double)
        assert npl.get_registry() is outer
        with pytest.raises(ComponentNotFoundError):
            npl.create("activation", "inner_only")
    assert npl.get_registry() is previous
    with pytest.raises(RuntimeError), npl.isolated_registry():
        raise RuntimeError("restored even on errors")
    assert npl.get_registry() is previous


def test_isolated_registry_holds_builtins_only(install, monkeypatch):
    good = good_plugin()
    install(good)
    monkeypatch.setattr(registry_module, "_default", None)
    with npl.isolated_registry() as reg:
        assert reg.resolve("activation", "tanh").plugin.builtin
        with pytest.raises(ComponentNotFoundError):
            reg.resolve("activation", "good_act")
    assert good.loads == 0
    with npl.isolated_registry(autoload=True, environ={}) as reg:
        assert reg.resolve("activation", "good_act").plugin.distribution == "thirdparty-good"
