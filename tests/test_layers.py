"""The package's shape holds: dependencies point one way (issue 12).

contract  <-  model  <-  files  <-  loop  <-  applications

* the plugin contract: ``neuroplug.errors``, ``base``, ``types``, ``hookspecs``,
  ``registry``, ``validation`` (the top-level modules: a plugin needs nothing else);
* the model: ``neuroplug.model`` (layers, network);
* files: ``neuroplug.serialization`` (model files, the archive primitives) and
  ``neuroplug.datasets``;
* the loop: ``neuroplug.training`` (fit, the loop, callbacks, checkpoints);
* applications: ``neuroplug.cli``, ``neuroplug.docgen``, ``neuroplug.testing``,
  ``neuroplug.spec``.

Plugins depend on the contract only. Two tests: each layer imported in a fresh
interpreter loads nothing of a higher layer and no optional dependency; and no
``import`` statement anywhere in the source -- a function's lazy import
included -- points from a lower layer to a higher one.
"""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAYERS = [
    ("contract", ["neuroplug.errors", "neuroplug._lazy_numpy", "neuroplug.base", "neuroplug.types", "neuroplug.hookspecs",
                  "neuroplug.registry", "neuroplug.validation"]),
    ("model", ["neuroplug.model"]),
    ("files", ["neuroplug.serialization", "neuroplug.datasets"]),
    ("loop", ["neuroplug.training"]),
    ("applications", ["neuroplug.cli", "neuroplug.docgen", "neuroplug.testing", "neuroplug.spec", "neuroplug.sklearn",
                      "neuroplug.comparison",
                      "neuroplug.__main__"]),
]
OPTIONAL = ["matplotlib", "sphinx", "sphinx_gallery", "sklearn", "dask", "distributed", "torch", "pandas"]


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the layer ``module`` belongs to (None: the package itself, plugins, elsewhere)."""
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def _loaded_after_import(module: str) -> list[str]:
    code = ("import json, sys\n"
            f"import {module}\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


CASES = [(name, module) for name, modules in LAYERS for module in modules if module != "neuroplug.__main__"] + [
    ("plugins", m) for m in ("neuroplug.plugins.activations", "neuroplug.plugins.initializers",
                             "neuroplug.plugins.losses", "neuroplug.plugins.schedules",
                             "neuroplug.plugins.optimizers")]


@pytest.mark.parametrize("layer, module", CASES, ids=[m for _, m in CASES])
def test_importing_a_layer_loads_no_higher_layer_and_no_optional_dependency(layer, module):
    loaded = _loaded_after_import(module)
    own = 0 if layer == "plugins" else layer_of(module)
    higher = [m for m in loaded if m.startswith("neuroplug.") and (layer_of(m) or 0) > own
              and not (module.startswith("neuroplug.spec") and m.startswith("neuroplug.spec"))]
    # the extra it wraps (and what scikit-learn itself imports when it is installed: pandas)
    allowed = {"sklearn", "pandas"} if module == "neuroplug.sklearn" else set()
    optional = [m for m in loaded if m.split(".")[0] in OPTIONAL and m.split(".")[0] not in allowed]
    assert not higher, f"importing {module} ({layer}) loads higher layers: {higher}"
    assert not optional, f"importing {module} loads optional dependencies: {sorted(set(optional))[:10]}"


def test_import_neuroplug_alone_loads_no_layer():
    loaded = _loaded_after_import("neuroplug")
    assert [m for m in loaded if m.startswith("neuroplug.")] == []


def _imports(path: pathlib.Path, module: str) -> list[tuple[int, str]]:
    """Every neuroplug module ``path`` imports, at any depth (lazy imports in functions included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(line, name) for line, name in found if name.startswith("neuroplug.")]


def _sources():
    mapping = [("core", "neuroplug"), ("plugins", "neuroplug.plugins"), ("spec_tests", "neuroplug.spec")]
    for folder, prefix in mapping:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("").parts
            parts = [prefix, *rel]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield path, ".".join(parts)


def test_no_import_points_from_a_lower_layer_to_a_higher_one():
    wrong = []
    for path, module in _sources():
        own = 0 if module.startswith("neuroplug.plugins") else layer_of(module)
        if own is None:
            continue
        for line, target in _imports(path, module):
            if module.startswith("neuroplug.spec") and target.startswith("neuroplug.spec"):
                continue
            other = layer_of(target)
            if other is not None and other > own:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({LAYERS[own][0]}) imports {target} "
                             f"({LAYERS[other][0]})")
            if module.startswith("neuroplug.plugins") and target.startswith("neuroplug.") and other is None \
                    and not target.startswith("neuroplug.plugins"):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: a plugin imports {target}, not the contract")
    assert not wrong, "\n".join(wrong)


def test_the_layer_map_covers_every_module():
    """A new module must be placed in a layer (or this test and the README's layout table updated)."""
    unplaced = [module for path, module in _sources()
                if module not in ("neuroplug",) and not module.startswith(("neuroplug.plugins", "neuroplug.spec"))
                and layer_of(module) is None]
    assert not unplaced, unplaced


def test_the_old_module_paths_still_import_the_moved_modules():
    """``neuroplug.network``, ``.layers``, ``.checkpoint``, ``.docs_gen`` moved into subpackages; old imports work."""
    code = ("import sys, neuroplug as npl\n"
            "import neuroplug.network, neuroplug.layers, neuroplug.docs_gen\n"
            "from neuroplug.checkpoint import Checkpoint\n"
            "from neuroplug.model import network, layers\n"
            "import neuroplug.docgen, neuroplug.training.checkpoint as ckpt\n"
            "assert sys.modules['neuroplug.network'] is network and sys.modules['neuroplug.layers'] is layers\n"
            "assert sys.modules['neuroplug.docs_gen'] is neuroplug.docgen and Checkpoint is ckpt.Checkpoint\n"
            "assert network.__spec__.name == 'neuroplug.model.network' and npl.network is network\n"
            "assert npl.Sequential is network.Sequential\n"
            "try:\n"
            "    import neuroplug.no_such_module\n"
            "except ImportError:\n"
            "    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
