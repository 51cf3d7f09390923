"""Packaging: entry points, lazy import, the core never importing a plugin module."""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import subprocess
import sys
import tomllib

import neuroplug

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Every built-in component the foundation issue promises, by kind.
PROMISED = {
    "activation": ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "gelu",
                   "silu", "swish", "softsign", "hard_sigmoid", "softmax", "log_softmax"],
    "initializer": ["zeros", "ones", "constant", "uniform", "normal", "truncated_normal", "xavier",
                    "normalized_xavier", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                    "lecun_uniform", "lecun_normal", "orthogonal", "variance_scaling"],
    "loss": ["mse", "mae", "smooth_l1", "huber", "binary_cross_entropy", "cross_entropy"],
    "schedule": ["constant", "step_decay", "multi_step", "piecewise", "exponential_decay",
                 "inverse_time_decay", "polynomial_decay", "linear", "cosine_annealing",
                 "cosine_warm_restarts", "linear_warmup", "one_cycle", "sequential", "reduce_on_plateau",
                 "callable"],
    "optimizer": ["sgd", "adam", "adamw", "rmsprop", "adagrad"],
}


def test_builtins_come_from_the_entry_point_group():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="neuroplug")
           if ep.dist is not None and ep.dist.name == "neuroplug"}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["neuroplug"]
    assert eps == declared
    reg = neuroplug.Registry(autoload=False)
    for kind, names in PROMISED.items():
        for name in names:
            entry = reg.resolve(kind, name)
            assert entry.plugin.distribution == "neuroplug" and entry.plugin.builtin, (kind, name)
            assert entry.plugin.name in declared


def test_core_source_never_imports_a_plugin_module():
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            for name in names:
                if "plugins" in name.split("."):
                    offenders.append(f"{path.name}: {name}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "neuroplug.plugins" in node.value and path.name != "__init__.py":
                offenders.append(f"{path.name}: string {node.value!r}")
    assert offenders == []


def _run(code: str, **env: str) -> str:
    import os

    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=full_env).stdout


def test_without_builtin_entry_points_the_core_works_and_loads_no_plugin_module():
    code = (
        "import sys, numpy as np, neuroplug as npl\n"
        "import neuroplug.registry, neuroplug.network, neuroplug.training, neuroplug.serialization, neuroplug.cli\n"
        "reg = npl.get_registry()\n"
        "print(len(reg.entries()), sorted(m for m in sys.modules if m.startswith('neuroplug.plugins.')))\n"
    )
    out = _run(code, NEUROPLUG_DISABLED_PLUGINS="neuroplug")
    assert out.strip() == "0 []"


def test_import_is_lazy():
    out = _run("import sys, neuroplug; print(sorted(m for m in ('numpy', 'pluggy', 'matplotlib', "
               "'scipy', 'sphinx', 'tqdm', 'neuroplug.registry') if m in sys.modules))")
    assert out.strip() == "[]"


def test_listing_the_plugins_does_not_import_numpy():
    """``neuroplug list`` imports base and every built-in plugin module but computes nothing: numpy,
    half the listing's time, stays unloaded (neuroplug._lazy_numpy)."""
    out = _run("import sys, io, contextlib\n"
               "from neuroplug.cli import main\n"
               "with contextlib.redirect_stdout(io.StringIO()) as listing:\n"
               "    code = main(['list'])\n"
               "import neuroplug.plugins.activations as acts\n"
               "print(code, listing.getvalue().count(' ok\\n'), 'numpy' in sys.modules, type(acts.np).__name__)\n")
    code, ok, numpy_loaded, stand_in = out.split()
    assert (code, numpy_loaded, stand_in) == ("0", "False", "LazyNumpy") and int(ok) >= 54


def test_the_numpy_stand_in_puts_numpy_in_its_place_at_first_use():
    import numpy

    from neuroplug._lazy_numpy import LazyNumpy

    namespace: dict = {}
    namespace["np"] = LazyNumpy(namespace)
    assert "numpy" in repr(namespace["np"]) and namespace["np"] is not numpy
    assert namespace["np"].float64 is numpy.float64  # the first look-up answers from numpy ...
    assert namespace["np"] is numpy  # ... and leaves numpy itself in the module's globals


def test_python_dash_m_and_console_script_agree():
    a = subprocess.run([sys.executable, "-m", "neuroplug", "--version"], capture_output=True, text=True)
    assert a.returncode == 0 and a.stdout.strip() == f"neuroplug {neuroplug.__version__}"


def test_every_public_name_has_a_docstring():
    missing = [name for name in neuroplug.__all__
               if name != "__version__" and not (getattr(neuroplug, name).__doc__ or "").strip()]
    assert missing == []


def test_registry_fixture_is_isolated(neuroplug_registry):
    @neuroplug.register_loss("zero_loss")
    class ZeroLoss(neuroplug.Loss):
        def forward(self, y_pred, y_true):
            return 0.0

        def gradient(self, y_pred, y_true):
            import numpy as np

            return np.zeros_like(y_pred)

    assert neuroplug.get_registry() is neuroplug_registry
    assert isinstance(neuroplug.create("loss", "zero_loss"), ZeroLoss)


def test_registry_fixture_left_no_trace():
    import pytest

    with pytest.raises(neuroplug.ComponentNotFoundError):
        neuroplug.create("loss", "zero_loss")


def test_the_datasets_module_shows_its_public_names_not_its_imports():
    import neuroplug.datasets as datasets

    shown = dir(datasets)
    assert set(datasets.__all__) <= set(shown) and "MAX_DATA_BYTES" in shown
    assert not {"np", "os", "math", "csv", "stat", "resources", "Any", "annotations"} & set(shown)
    assert all(hasattr(datasets, name) for name in shown)
