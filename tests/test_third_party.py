"""Third-party plugins installed for real, in a throw-away virtual environment.

Two example distributions live in ``tests/plugin_packages/``:

* ``neuroplug-swish`` provides the activations ``swish`` (a name the built-ins
  already use, as an alias of ``silu``) and ``swish_beta`` (a name of its own);
* ``neuroplug-broken`` provides three plugins broken in three phases
  (``import``, ``hook``, ``validate``).

They are installed with pip -- wheels, with ``dist-info`` metadata and an
``entry_points.txt`` -- so discovery goes through ``importlib.metadata`` exactly
as for a user's ``pip install neuroplug-swish``; nothing is put on ``sys.path``
by hand. Every check runs ``python`` of the temporary environment in a
subprocess.

How the temporary environment gets numpy, pluggy, tqdm and neuroplug without
downloading anything
-------------------------------------------------------------------------------
The venv is created ``--without-pip`` and *without* system site-packages
(``--system-site-packages`` would expose the *base* interpreter's packages, not
those of the virtual environment running the tests). Instead its site-packages
gets a file ``_neuroplug_outer.pth`` with one line per site directory of the
running interpreter::

    import site; site.addsitedir('/path/of/the/outer/venv/site-packages')

A plain path line in a ``.pth`` file would put the directory on ``sys.path`` but
would *not* process the ``.pth`` files inside it -- and neuroplug's editable
install is precisely such a ``.pth`` file (setuptools' ``__editable__`` finder,
which maps the import package ``neuroplug`` to ``core/``). ``site.addsitedir``
does process them, so the editable (or regular) install of neuroplug, its
dependencies and pip itself become importable, in that order *after* the temp
venv's own site-packages, where the plugin packages get installed. The fixture
checks that the temporary interpreter imports the same neuroplug as this one.

How the plugin packages are built
---------------------------------
Their ``pyproject.toml`` declares the setuptools backend. When the environment
can build wheels with it offline (setuptools >= 70.1, or setuptools plus
``wheel``), the wheel is built by ``pip wheel --no-build-isolation``. Otherwise
(Python >= 3.12 venvs have no setuptools; older setuptools needs the ``wheel``
package) a minimal pure-Python wheel is written directly from the same
``pyproject.toml`` (name, version, dependencies, entry points, modules). Either
way the wheel is then installed with ``pip install --no-index --no-deps``.

The test is skipped only when a virtual environment cannot be created at all.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import os
import pathlib
import re
import shutil
import site
import subprocess
import sys
import textwrap
import venv
import zipfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PACKAGES = HERE / "plugin_packages"
SWISH_VERSION = "0.3.1"
BROKEN_PLUGINS = {"import_error": "import", "hook_error": "hook", "misspelled_hook": "validate"}
TIMEOUT = 120


# ---------------------------------------------------------------------- helpers
def _clean_env(**extra: str) -> dict[str, str]:
    """os.environ without anything that would change plugin loading or warnings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEUROPLUG_") and k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONWARNINGS",
                                                           "PYTHONSTARTUP", "PYTHONSAFEPATH"}}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


class Env:
    """A temporary virtual environment and a way to run its python."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.work = root / "work"
        self.work.mkdir()
        bindir = "Scripts" if os.name == "nt" else "bin"
        self.python = root / "venv" / bindir / ("python.exe" if os.name == "nt" else "python")

    def run(self, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(self.python), *args], cwd=self.work, env=_clean_env(**(env or {})),
                              capture_output=True, text=True, timeout=TIMEOUT)
        if check and proc.returncode != 0:
            pytest.fail(f"{' '.join(args)[:200]} exited with {proc.returncode}\n"
                        f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return proc

    def script(self, code: str, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-c", textwrap.dedent(code), env=env, check=check)

    def neuroplug(self, *args: str, env: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "neuroplug", *args, env=env, check=check)

    def list_json(self, env: dict[str, str] | None = None) -> tuple[dict, str]:
        proc = self.neuroplug("list", "--json", env=env)
        return json.loads(proc.stdout), proc.stderr

    def pip_install(self, wheel: pathlib.Path) -> None:
        self.run("-m", "pip", "install", "--no-index", "--no-deps", str(wheel))


def _outer_site_dirs() -> list[str]:
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


def _create_env(root: pathlib.Path) -> Env:
    """Create a venv chained to this interpreter's site directories (see the module docstring)."""
    root.mkdir(parents=True)
    try:
        builder = venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=os.name != "nt")
        builder.create(root / "venv")
        env = Env(root)
        purelib = subprocess.run(
            [str(env.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, timeout=TIMEOUT, check=True, env=_clean_env()).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot create a virtual environment here: {exc!r}")
    lines = [f"import site; site.addsitedir({d!r})" for d in _outer_site_dirs()]
    pathlib.Path(purelib, "_neuroplug_outer.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")

    import neuroplug

    probe = env.script("""
        import importlib.metadata, json, neuroplug
        print(json.dumps([neuroplug.__file__, importlib.metadata.version("neuroplug"),
                          sorted(ep.name for ep in importlib.metadata.entry_points(group="neuroplug"))]))
    """, check=False)
    assert probe.returncode == 0, (
        f"the temporary venv cannot import neuroplug through {purelib}/_neuroplug_outer.pth:\n{probe.stderr}")
    file, version, eps = json.loads(probe.stdout)
    assert os.path.samefile(file, neuroplug.__file__), (file, neuroplug.__file__)
    assert version == neuroplug.__version__ and eps, (version, eps)
    if env.run("-c", "import pip", check=False).returncode != 0:  # the outer env has no pip
        env.run("-m", "ensurepip", "--default-pip")
    return env


def _load_toml(text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def _write_wheel(src: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Write a pure-Python wheel for the setuptools project in ``src`` (no build backend needed).

    Reads only what the example packages use: [project] name, version,
    description, requires-python, dependencies, entry-points and
    [tool.setuptools] py-modules / packages.
    """
    pyproject = _load_toml((src / "pyproject.toml").read_text(encoding="utf-8"))
    project, tool = pyproject["project"], pyproject.get("tool", {}).get("setuptools", {})
    dist = re.sub(r"[-_.]+", "_", project["name"]).lower()
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for module in tool.get("py-modules", []):
        files[f"{module}.py"] = (src / f"{module}.py").read_bytes()
    for package in tool.get("packages", []):
        pkg_dir = src / package.replace(".", "/")
        for path in sorted(pkg_dir.glob("*.py")):
            files[f"{package.replace('.', '/')}/{path.name}"] = path.read_bytes()
    assert files, f"{src}: no modules or packages declared under [tool.setuptools]"
    metadata = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
                f"Summary: {project.get('description', '')}"]
    if "requires-python" in project:
        metadata.append(f"Requires-Python: {project['requires-python']}")
    metadata += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: neuroplug-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    groups = project.get("entry-points", {})
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in eps.items()) + "\n"
        for group, eps in groups.items()).encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    wheel = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


_CAN_BUILD = """
import importlib.util, sys
import setuptools
major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
ok = (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None
sys.exit(0 if ok and (major, minor) >= (61, 0) else 1)
"""


def _build_wheel(env: Env, src: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Build ``src`` into a wheel in ``dest``: with its setuptools backend if possible offline."""
    tree = dest / f"src-{src.name}"
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    if env.run("-c", _CAN_BUILD, check=False).returncode == 0:
        env.run("-m", "pip", "wheel", "--no-index", "--no-deps", "--no-build-isolation",
                "--wheel-dir", str(dest), str(tree))
        dist = src.name.replace("-", "_")
        (wheel,) = dest.glob(f"{dist}-*.whl")
        return wheel
    return _write_wheel(tree, dest)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, pathlib.Path]:
    """The two example distributions as wheels."""
    root = tmp_path_factory.mktemp("wheels")
    builder = _create_env(root / "builder")
    return {name: _build_wheel(builder, PACKAGES / name, root)
            for name in ("neuroplug-swish", "neuroplug-broken")}


@pytest.fixture(scope="module")
def swish_env(tmp_path_factory, wheels) -> Env:
    """A venv with neuroplug-swish installed."""
    env = _create_env(tmp_path_factory.mktemp("swish") / "env")
    env.pip_install(wheels["neuroplug-swish"])
    return env


@pytest.fixture(scope="module")
def broken_env(tmp_path_factory, wheels) -> Env:
    """A venv with neuroplug-swish and neuroplug-broken installed."""
    env = _create_env(tmp_path_factory.mktemp("broken") / "env")
    env.pip_install(wheels["neuroplug-swish"])
    env.pip_install(wheels["neuroplug-broken"])
    return env


def _rows(listing: str) -> dict[str, list[str]]:
    """The rows of ``neuroplug list`` keyed by '<kind> <name>' (or '- <plugin>' for plugin rows)."""
    rows = {}
    for line in listing.splitlines()[1:]:
        cells = line.split()
        if not cells:
            continue
        key = f"{cells[0]} {cells[1]}" if cells[0] != "-" else f"- {cells[3]}"
        rows[key] = cells
    return rows


def _plugin_rows(listing: dict) -> dict[str, dict]:
    return {p["plugin"]: p for p in listing["plugins"]}


TRAIN = """
    import json, sys
    import numpy as np
    import neuroplug as npl

    hidden, out_act = sys.argv[1], json.loads(sys.argv[2])
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(256, 2))
    y = (X[:, :1] * X[:, 1:] + 0.5 * X[:, :1] - 0.25 * X[:, 1:] ** 2)
    net = npl.Sequential([npl.Dense(16, activation=hidden), npl.Dense(1, activation=out_act)],
                         input_dim=2, seed=0)
    hist = npl.fit(net, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=40, batch_size=16, seed=0)
    acts = [layer.activation for layer in net.layers]
    print(json.dumps({
        "loss": hist["loss"],
        "classes": [type(a).__module__ + "." + type(a).__name__ for a in acts],
        "configs": [a.get_config() for a in acts],
        "described": [npl.registry.describe(a) for a in acts],
    }))
"""


# ---------------------------------------------------------------------- neuroplug-swish
def test_installed_plugin_is_listed_with_its_distribution(swish_env):
    proc = swish_env.neuroplug("list", "--kind", "activation")
    assert "PluginWarning" not in proc.stderr, proc.stderr
    rows = _rows(proc.stdout)
    # the bare name swish stays the built-in silu's alias, so this package's row is shadowed
    assert rows["activation swish"][3:] == ["swish", "neuroplug-swish", SWISH_VERSION, "shadowed"]
    assert rows["activation swish_beta"][3:] == ["swish", "neuroplug-swish", SWISH_VERSION, "ok"]
    assert rows["activation silu"][2] == "swish" and rows["activation silu"][-1] == "ok"

    listing, _ = swish_env.list_json()
    ours = {c["name"]: c for c in listing["components"] if c["distribution"] == "neuroplug-swish"}
    assert set(ours) == {"swish", "swish_beta"}
    assert {c["version"] for c in ours.values()} == {SWISH_VERSION}
    assert ours["swish"]["status"] == "shadowed" and ours["swish_beta"]["status"] == "ok"
    assert listing["plugins"] == []  # nothing failed or disabled

    plugins = json.loads(swish_env.neuroplug("plugins", "--json").stdout)
    (swish,) = [p for p in plugins if p["distribution"] == "neuroplug-swish"]
    assert swish == {"plugin": "swish", "distribution": "neuroplug-swish", "version": SWISH_VERSION,
                     "builtin": False, "status": "loaded", "phase": None, "error": None, "components": 2}


def test_name_resolution_of_the_installed_plugin(swish_env):
    proc = swish_env.script("""
        import json
        import neuroplug as npl
        reg = npl.get_registry()
        out = {}
        for name in ["swish", "swish_beta", "neuroplug-swish:swish", "neuroplug_swish:swish",
                     "swish:swish", "neuroplug:swish"]:
            e = reg.resolve("activation", name)
            out[name] = [e.name, e.plugin.distribution, type(reg.create("activation", name)).__name__]
        out["beta"] = npl.create("activation", "neuroplug-swish:swish", beta=2.5).beta
        print(json.dumps(out))
    """)
    out = json.loads(proc.stdout)
    assert out.pop("beta") == 2.5
    assert out == {
        "swish": ["silu", "neuroplug", "SiLU"],  # a built-in wins the bare name
        "swish_beta": ["swish_beta", "neuroplug-swish", "SwishBeta"],
        "neuroplug-swish:swish": ["swish", "neuroplug-swish", "Swish"],
        "neuroplug_swish:swish": ["swish", "neuroplug-swish", "Swish"],  # PEP 503 normalised
        "swish:swish": ["swish", "neuroplug-swish", "Swish"],  # entry-point name:component
        "neuroplug:swish": ["silu", "neuroplug", "SiLU"],
    }


def test_the_installed_activation_is_stable_and_exact(swish_env):
    proc = swish_env.script("""
        import json
        import numpy as np
        import neuroplug as npl
        out = {}
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            for beta in (1.0, 2.5, 0.0, -1.0):
                act = npl.create("activation", "neuroplug-swish:swish", beta=beta)
                z32 = np.array([[-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4]], dtype=np.float32)
                a32, d32 = act.forward(z32), act.derivative(z32, act.forward(z32))
                z = np.linspace(-6, 6, 121).reshape(11, 11)
                a = act.forward(z)
                h = 1e-6
                numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
                reference = z / (1 + np.exp(-beta * z))
                buf = np.empty_like(z)
                out[beta] = {
                    "dtypes": [str(a32.dtype), str(d32.dtype)],
                    "finite": bool(np.isfinite(a32).all() and np.isfinite(d32).all()),
                    "value_err": float(np.max(np.abs(a - reference))),
                    "grad_err": float(np.max(np.abs(act.derivative(z, a) - numeric))),
                    "out_ok": bool(act.forward(z, out=buf) is buf and np.array_equal(buf, a)),
                    "unchanged": bool(np.array_equal(z, np.linspace(-6, 6, 121).reshape(11, 11))),
                }
        try:
            npl.create("activation", "swish_beta", beta=float("nan"))
        except npl.ConfigError as exc:
            out["nan"] = str(exc)
        print(json.dumps(out))
    """)
    out = json.loads(proc.stdout)
    assert "finite number" in out.pop("nan")
    for beta, r in out.items():
        assert r["dtypes"] == ["float32", "float32"] and r["finite"] and r["out_ok"] and r["unchanged"], (beta, r)
        assert r["value_err"] < 1e-12 and r["grad_err"] < 1e-7, (beta, r)


def test_installed_plugin_trains_saves_and_loads(swish_env):
    out_act = {"name": "neuroplug-swish:swish", "config": {"beta": 2.0}}
    proc = swish_env.run("-c", textwrap.dedent(TRAIN), "swish_beta", json.dumps(out_act))
    assert "Warning" not in proc.stderr, proc.stderr
    result = json.loads(proc.stdout)
    loss = result["loss"]
    assert len(loss) == 40 and all(math.isfinite(v) for v in loss)
    assert loss[-1] < 0.5 * loss[0], loss
    assert result["classes"] == ["neuroplug_swish.SwishBeta", "neuroplug_swish.Swish"]
    assert result["configs"] == [{"beta": 1.0}, {"beta": 2.0}]
    # saved by the name that resolves back to the same component
    assert result["described"] == [
        {"kind": "activation", "name": "swish_beta", "config": {"beta": 1.0}},
        {"kind": "activation", "name": "neuroplug-swish:swish", "config": {"beta": 2.0}},
    ]

    model = swish_env.work / "swish_model.npz"
    swish_env.script(f"""
        import numpy as np
        import neuroplug as npl
        net = npl.Sequential([npl.Dense(8, activation="swish_beta"),
                              npl.Dense(3, activation={{"name": "neuroplug-swish:swish",
                                                       "config": {{"beta": 0.5}}}})],
                             input_dim=4, seed=3)
        X = np.random.default_rng(1).normal(size=(32, 4))
        npl.fit(net, X, np.tanh(X[:, :3]), loss="mse", lr=0.05, epochs=3, batch_size=8, seed=0)
        npl.save(net, {str(model)!r})
        np.save({str(model.with_suffix('.X.npy'))!r}, X)
        np.save({str(model.with_suffix('.pred.npy'))!r}, net.predict(X))
    """)
    # loaded in a fresh process, by name, from the installed plugin
    loaded = swish_env.script(f"""
        import json
        import numpy as np
        import neuroplug as npl
        net = npl.load({str(model)!r})
        X = np.load({str(model.with_suffix('.X.npy'))!r})
        expected = np.load({str(model.with_suffix('.pred.npy'))!r})
        print(json.dumps({{
            "same": bool(np.array_equal(net.predict(X), expected)),
            "activations": [[type(l.activation).__name__, l.activation.beta] for l in net.layers],
        }}))
    """)
    assert json.loads(loaded.stdout) == {"same": True, "activations": [["SwishBeta", 1.0], ["Swish", 0.5]]}

    # ... and without the plugin the file names the missing component instead of loading something else
    outer = subprocess.run(
        [sys.executable, "-c", f"import neuroplug; neuroplug.load({str(model)!r})"],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=swish_env.work,
        env=_clean_env(NEUROPLUG_DISABLED_PLUGINS="neuroplug-swish"))
    assert outer.returncode != 0
    assert "ModelFileError" in outer.stderr and "swish_beta" in outer.stderr, outer.stderr


# ---------------------------------------------------------------------- neuroplug-broken
def test_broken_plugins_are_reported_and_skipped(broken_env):
    marker = broken_env.work / "imported-default.txt"
    proc = broken_env.neuroplug("list", env={"NEUROPLUG_BROKEN_MARKER": str(marker)})
    rows = _rows(proc.stdout)
    for plugin, phase in BROKEN_PLUGINS.items():
        row = rows[f"- {plugin}"]
        assert row[4:7] == ["neuroplug-broken", "0.0.1", "failed"], row
        assert row[7] == f"({phase}:", row
    assert rows["activation swish_beta"][-1] == "ok"
    assert rows["activation tanh"][4] == "neuroplug"
    assert sorted(marker.read_text().split()) == sorted(BROKEN_PLUGINS)

    warnings = [line for line in proc.stderr.splitlines() if "PluginWarning" in line]
    assert len(warnings) == 3, proc.stderr
    for plugin, phase in BROKEN_PLUGINS.items():
        (line,) = [w for w in warnings if f"plugin {plugin!r}" in w]
        assert "neuroplug-broken 0.0.1" in line and f"failed ({phase})" in line, line
        assert "NEUROPLUG_DISABLED_PLUGINS=" in line and "pip uninstall neuroplug-broken" in line, line
    assert "does_not_exist" in proc.stderr  # the ImportError's own message
    assert "neuroplug_activation" in proc.stderr  # the misspelled hook is named

    listing, _ = broken_env.list_json()
    plugins = _plugin_rows(listing)
    assert {name: (p["status"], p["phase"], p["distribution"], p["version"])
            for name, p in plugins.items()} == {
        name: ("failed", phase, "neuroplug-broken", "0.0.1") for name, phase in BROKEN_PLUGINS.items()}
    assert "cube" not in {c["name"] for c in listing["components"]}


def test_missing_component_names_the_failed_plugins(broken_env):
    proc = broken_env.neuroplug("train", "--activation", "cube", "--epochs", "1", "--no-progress", check=False)
    assert proc.returncode == 2, proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert error.startswith("neuroplug train: error: unknown activation 'cube'"), error
    assert all(f"neuroplug-broken:{p}" in error for p in BROKEN_PLUGINS), error
    assert "Traceback" not in proc.stderr


def test_builtins_and_good_plugins_still_train_next_to_broken_ones(broken_env):
    proc = broken_env.run("-c", textwrap.dedent(TRAIN), "tanh", json.dumps("identity"))
    loss = json.loads(proc.stdout)["loss"]
    assert loss[-1] < 0.5 * loss[0], loss
    assert proc.stderr.count("PluginWarning") == 3, proc.stderr

    proc = broken_env.run("-c", textwrap.dedent(TRAIN), "neuroplug-swish:swish", json.dumps("swish_beta"))
    result = json.loads(proc.stdout)
    assert result["loss"][-1] < 0.5 * result["loss"][0], result["loss"]
    assert result["classes"] == ["neuroplug_swish.Swish", "neuroplug_swish.SwishBeta"]


def test_strict_mode_turns_a_plugin_failure_into_an_error(broken_env):
    proc = broken_env.neuroplug("list", env={"NEUROPLUG_STRICT_PLUGINS": "1"}, check=False)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "neuroplug-broken" in proc.stderr and "NEUROPLUG_STRICT_PLUGINS" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr

    proc = broken_env.script("""
        import neuroplug as npl
        try:
            npl.create("activation", "tanh")
        except npl.PluginError as exc:
            print("PluginError:", exc)
    """, env={"NEUROPLUG_STRICT_PLUGINS": "1"})
    assert proc.stdout.startswith("PluginError: neuroplug plugin "), proc.stdout

    # strict mode with the broken distribution disabled is fine
    listing, stderr = broken_env.list_json(
        env={"NEUROPLUG_STRICT_PLUGINS": "1", "NEUROPLUG_DISABLED_PLUGINS": "neuroplug-broken"})
    assert stderr == ""
    assert {p["status"] for p in listing["plugins"]} == {"disabled"}


@pytest.mark.parametrize("disabled", sorted(BROKEN_PLUGINS))
def test_a_disabled_plugin_is_never_imported(broken_env, disabled):
    marker = broken_env.work / f"imported-without-{disabled}.txt"
    listing, stderr = broken_env.list_json(
        env={"NEUROPLUG_DISABLED_PLUGINS": disabled, "NEUROPLUG_BROKEN_MARKER": str(marker)})
    plugins = _plugin_rows(listing)
    assert plugins[disabled]["status"] == "disabled"
    assert "NEUROPLUG_DISABLED_PLUGINS" in plugins[disabled]["error"]
    others = set(BROKEN_PLUGINS) - {disabled}
    assert {p: plugins[p]["status"] for p in others} == dict.fromkeys(others, "failed")
    assert sorted(marker.read_text().split()) == sorted(others)  # the disabled one never ran
    assert f"plugin {disabled!r}" not in stderr
    assert stderr.count("PluginWarning") == 2, stderr


def test_disabling_a_whole_distribution(broken_env):
    marker = broken_env.work / "imported-none.txt"
    for selector in ("neuroplug-broken", "neuroplug_broken",
                     "neuroplug-broken:import_error,neuroplug-broken:hook_error,misspelled_hook"):
        listing, stderr = broken_env.list_json(
            env={"NEUROPLUG_DISABLED_PLUGINS": selector, "NEUROPLUG_BROKEN_MARKER": str(marker)})
        assert stderr == "", (selector, stderr)
        assert {n: p["status"] for n, p in _plugin_rows(listing).items()} == dict.fromkeys(
            BROKEN_PLUGINS, "disabled"), selector
        assert any(c["name"] == "swish_beta" for c in listing["components"])
    assert not marker.exists()


def test_autoload_off_leaves_the_builtins_only(broken_env):
    marker = broken_env.work / "imported-autoload-off.txt"
    listing, stderr = broken_env.list_json(
        env={"NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD": "1", "NEUROPLUG_BROKEN_MARKER": str(marker)})
    assert stderr == ""
    assert not marker.exists()
    assert {c["distribution"] for c in listing["components"]} == {"neuroplug"}
    plugins = _plugin_rows(listing)
    assert set(plugins) == {"swish", *BROKEN_PLUGINS}
    assert all(p["status"] == "disabled" and "NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD" in p["error"]
               for p in plugins.values()), plugins
    proc = broken_env.run("-c", textwrap.dedent(TRAIN), "tanh", json.dumps("identity"),
                          env={"NEUROPLUG_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert proc.stderr == ""


def test_allowlist_loads_only_the_named_third_party_plugins(broken_env):
    marker = broken_env.work / "imported-allowlist.txt"
    listing, stderr = broken_env.list_json(
        env={"NEUROPLUG_PLUGINS": "swish", "NEUROPLUG_BROKEN_MARKER": str(marker)})
    assert stderr == ""
    assert not marker.exists()
    plugins = _plugin_rows(listing)
    assert set(plugins) == set(BROKEN_PLUGINS)  # swish is loaded, so not among the problem rows
    assert all(p["status"] == "disabled" and "NEUROPLUG_PLUGINS" in p["error"] for p in plugins.values())
    names = {(c["name"], c["distribution"]) for c in listing["components"]}
    assert ("swish_beta", "neuroplug-swish") in names and ("tanh", "neuroplug") in names

    # by distribution name, and allowing one broken plugin brings exactly its failure back
    listing, stderr = broken_env.list_json(env={"NEUROPLUG_PLUGINS": "neuroplug-swish,hook_error"})
    plugins = _plugin_rows(listing)
    assert plugins["hook_error"]["status"] == "failed" and stderr.count("PluginWarning") == 1
    assert {plugins[p]["status"] for p in ("import_error", "misspelled_hook")} == {"disabled"}


# ---------------------------------------------------------------------- the spec suite on the plugin
def test_neuroplug_spec_validates_the_installed_plugin(swish_env):
    proc = swish_env.neuroplug("spec", "swish")
    assert "neuroplug-swish:swish " in proc.stdout and "neuroplug-swish:swish_beta " in proc.stdout
    assert re.search(r"2 components, \d+ checks: \d+ passed, 0 failed", proc.stdout), proc.stdout
    for selector in ("activation:swish_beta", "activation:neuroplug-swish:swish"):
        one = swish_env.neuroplug("spec", selector)
        assert re.search(r"^1 components, \d+ checks: \d+ passed, 0 failed", one.stdout.splitlines()[-1]), one.stdout
    doc = json.loads(swish_env.neuroplug("spec", "swish", "--format", "json").stdout)
    assert doc["ok"] and {c["name"] for c in doc["components"]} == {"neuroplug-swish:swish",
                                                                    "neuroplug-swish:swish_beta"}
    swish_env.neuroplug("spec", "swish", "--format", "junit", "-o", "spec.xml")
    assert (swish_env.work / "spec.xml").read_text().startswith("<testsuites")


def test_pytest_option_and_decorator_in_the_plugins_own_test_suite(swish_env):
    proc = swish_env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "--neuroplug-spec=swish")
    assert re.search(r"\d+ passed", proc.stdout.splitlines()[-1]) and " failed" not in proc.stdout, proc.stdout
    tests = swish_env.work / "swish_tests"
    shutil.copytree(PACKAGES / "neuroplug-swish" / "tests", tests, dirs_exist_ok=True)
    proc = swish_env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests))
    last = proc.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", last) and "failed" not in last, proc.stdout
