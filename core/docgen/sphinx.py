r"""The component reference and the spec reference, generated from the installed code.

Nothing here is written by hand twice: every entry comes from the registry
(:meth:`neuroplug.registry.Registry.entries`) -- name, aliases, summary,
formula, derivative, parameters with their defaults, declared properties -- and
from the spec suite (:func:`neuroplug.spec.all_checks`, the traceability table);
the plots are drawn with matplotlib (Agg) when the page is built, and the spec
checks each component passes come from running the suite on it.

Two ways to use it:

* as a Sphinx extension (``extensions = ["neuroplug_reference"]``), which adds
  the directives

  ``.. neuroplug-components:: KIND``
      a section per registered component of KIND (activation, initializer,
      loss, schedule, optimizer), with a summary table first;
  ``.. neuroplug-spec-reference::``
      the traceability table, then every spec check by kind and layer;
  ``.. neuroplug-plugins::``
      a table of the plugins the registry saw (loaded, failed, disabled);

  and the configuration values ``neuroplug_reference_builtins_only`` (document
  neuroplug's own components only, default False: every installed plugin),
  ``neuroplug_reference_run_spec`` (run the spec suite to list the checks each
  component passes, default True), ``neuroplug_reference_dpi`` (default 80) and
  ``neuroplug_offline_mathjax`` (default True: serve MathJax from the
  ``sphinx-mathjax-offline`` package instead of a CDN, when it is installed);

* as a function, :func:`build_component_docs`, which writes a small Sphinx
  project for the components installed in the running environment into a
  temporary folder and builds it to HTML -- what ``neuroplug docs`` runs, so a
  third-party plugin's components appear with their formulas, plots and spec
  results.

Importing this module imports neither Sphinx nor matplotlib; they are needed
only to build.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import math
import os
import pathlib
import re
import shutil
import sys
import tempfile
import textwrap
from typing import Any, Iterator

__all__ = ["build_component_docs", "numpy_docstring_fixups", "setup", "KIND_TITLES"]

KIND_TITLES = {"activation": "Activations", "initializer": "Initializers", "loss": "Losses",
               "schedule": "Learning-rate schedules", "optimizer": "Optimizers"}
_LAYER_TITLES = {"contract": "Contract checks", "formula": "Formula checks", "property": "Property checks"}

# What a figure shows, per kind (also used in the captions).
_ACT_RANGE = (-5.0, 5.0)
_INIT_SHAPE = (100, 50)  # fan_in n, fan_out m
_SCHED_STEPS = 120
_OPT_STEPS = 60
_OPT_LR = 0.05
_OPT_START = (-2.0, 1.0)
_OPT_CURVATURE = (1.0, 10.0)


# ============================================================================ data
@contextlib.contextmanager
def _registry(builtins_only: bool) -> Iterator[Any]:
    """The registry to document: a fresh built-ins-only one, or the process-wide one."""
    from neuroplug.registry import get_registry, isolated_registry

    if builtins_only:
        with isolated_registry() as reg:
            yield reg
    else:
        yield get_registry()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def component_label(kind: str, qualified_name: str) -> str:
    """The Sphinx label of a component's section, e.g. ``component-activation-neuroplug-tanh``."""
    return f"component-{kind}-{_slug(qualified_name)}"


def check_label(check_id: str) -> str:
    """The Sphinx label of a spec check, e.g. ``check-act-tanh``."""
    return f"check-{check_id.lower()}"


def _spec_results(builtins_only: bool, seed: int = 0) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """Run the spec suite on every documented component.

    Returns ``{(kind, qualified name): [(check ID, status, message)]}`` -- keyed by kind
    too, since one name can exist in two kinds (``constant``).
    """
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                          os.path.join(tempfile.gettempdir(), "neuroplug-hypothesis"))
    from neuroplug.spec.runner import run_subjects, subject_from_entry

    with _registry(builtins_only) as reg:
        subjects = [subject_from_entry(e, seed=seed) for e in reg.entries()]
        report = run_subjects(subjects)
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for r in report.results:
        out.setdefault((r.kind, r.component), []).append((r.check_id, r.status, r.message))
    return out


def _plot_name(kind: str, qualified_name: str) -> str:
    return f"{kind}-{_slug(qualified_name)}.png"


def _make_plots(builtins_only: bool, plot_dir: str, dpi: int) -> dict[tuple[str, str], tuple[str, str]]:
    """Draw the plot of every documented component: ``{(kind, qualified name): (caption, error)}``."""
    import warnings

    folder = pathlib.Path(plot_dir)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[tuple[str, str], tuple[str, str]] = {}
    with _registry(builtins_only) as reg, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry in reg.entries():
            key = (entry.kind, entry.qualified_name)
            try:
                out[key] = (PLOTTERS[entry.kind](entry, folder / _plot_name(*key), dpi), "")
            except Exception as exc:  # a broken plugin must not stop the build
                out[key] = ("", f"{type(exc).__name__}: {exc}")
    return out


def _worker_init() -> None:
    # one BLAS thread: the arrays are small, and a second process shares the two cores
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")


class _Precomputed:
    """The plots and the spec run of all documented components, made in a separate process.

    Started before Sphinx reads the pages (which it reads meanwhile); the
    directives wait for the results. A task the worker has not started when it
    is needed is done in this process instead; everything is computed
    in-process if a worker process cannot be started.
    """

    def __init__(self, builtins_only: bool, run_spec: bool, plot_dir: pathlib.Path, dpi: int) -> None:
        self.args = (builtins_only, run_spec, str(plot_dir), dpi)
        self._pool = None
        self._futures: dict[str, Any] = {}
        self._done: dict[str, Any] = {}
        try:
            import concurrent.futures
            import multiprocessing

            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
            # the spec run first: the plots are taken back by this process if it needs them
            # before the worker has started them (see _get), which balances the two cores
            if run_spec:
                self._futures["spec"] = self._pool.submit(_spec_results, builtins_only)
            self._futures["plots"] = self._pool.submit(_make_plots, builtins_only, str(plot_dir), dpi)
        except Exception:  # no process support: compute in-process on demand
            self.close()
            self._futures = {}

    def _get(self, what: str) -> Any:
        if what not in self._done:
            builtins_only, run_spec, plot_dir, dpi = self.args
            compute = {"plots": lambda: _make_plots(builtins_only, plot_dir, dpi),
                       "spec": lambda: _spec_results(builtins_only) if run_spec else None}[what]
            future = self._futures.get(what)
            if future is not None and future.cancel():  # not started yet: do it here, now
                future = None
            try:
                self._done[what] = future.result() if future is not None else compute()
            except Exception:  # the worker died: do it here
                self._done[what] = compute()
        return self._done[what]

    def plots(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self._get("plots")

    def spec(self) -> dict[tuple[str, str], list[tuple[str, str, str]]] | None:
        return self._get("spec")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _stable(value: Any) -> str:
    """A repr without memory addresses (functions by their qualified name)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_stable(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_stable(v) for v in value) + "]"
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__name__)}"
    return repr(value)


def fingerprint(builtins_only: bool) -> str:
    """A hash of what the generated pages depend on: the components, their code and the checks."""
    import hashlib

    digest = hashlib.sha256()
    files: set[str] = set()
    with _registry(builtins_only) as reg:
        for e in reg.entries():
            r = e.registration
            fields = (e.kind, e.qualified_name, e.plugin.version, r.aliases, r.summary, r.formula, r.derivative,
                      r.properties, r.implements, r.replaces, sorted(r.expected_failed_checks.items()),
                      _stable(dict(r.parameters or {})), _stable(dict(r.spec_config or {})))
            digest.update(repr(fields).encode())  # no memory addresses: stable across processes
            with contextlib.suppress(TypeError, OSError):
                files.add(inspect.getsourcefile(r.factory) or "")
        for p in reg.plugins():
            digest.update(f"{p.label}|{p.status}|{p.error}".encode())
    import neuroplug.spec

    files.update(str(f) for f in pathlib.Path(neuroplug.spec.__file__).parent.glob("*.py"))
    files.add(__file__)
    for name in sorted(f for f in files if f):
        with contextlib.suppress(OSError):
            digest.update(pathlib.Path(name).read_bytes())
    return digest.hexdigest()


# ============================================================================ plots
def _figure(width: float = 4.8, height: float = 2.7) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _style(ax: Any) -> None:
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)


def _save(fig: Any, path: pathlib.Path, dpi: int, left: float = 0.11, right: float = 0.97,
          wspace: float = 0.2) -> None:
    # fixed margins: tight_layout would double the cost of each plot
    fig.subplots_adjust(left=left, right=right, bottom=0.17, top=0.96, wspace=wspace)
    fig.savefig(path, dpi=dpi)


def _build(entry: Any) -> Any:
    reg = entry.registration
    return reg.factory(**dict(reg.spec_config or {}))


def plot_activation(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """φ and its derivative on [-5, 5]; for row-wise functions the first output of (z, 0, 0)."""
    import numpy as np

    act = _build(entry)
    z = np.linspace(*_ACT_RANGE, 401)
    fig, ax = _figure()
    if getattr(act, "elementwise", True):
        Z = z.reshape(-1, 1)
        a = act.forward(Z.copy())
        d = act.backward(Z.copy(), a.copy(), np.ones_like(Z))
        ax.plot(z, a[:, 0], label=r"$\varphi(z)$")
        ax.plot(z, d[:, 0], "--", label=r"$\varphi'(z)$")
        caption = r"The function :math:`\varphi(z)` (solid) and its derivative :math:`\varphi'(z)` (dashed)."
    else:
        Z = np.zeros((z.size, 3))
        Z[:, 0] = z
        a = act.forward(Z.copy())
        grad = np.zeros_like(Z)
        grad[:, 0] = 1.0
        d = act.backward(Z.copy(), a.copy(), grad)
        ax.plot(z, a[:, 0], label=r"$\varphi(z, 0, 0)_1$")
        ax.plot(z, d[:, 0], "--", label=r"$\partial\varphi_1/\partial z_1$")
        caption = (r"A row-wise function: its first output for the input row :math:`(z, 0, 0)` (solid) "
                   r"and the partial derivative :math:`\partial\varphi_1/\partial z_1` (dashed).")
    ax.set_xlabel("z", fontsize=9)
    _style(ax)
    _save(fig, path, dpi)
    return caption


def _init_target(init: Any, n: int, m: int) -> tuple[str, Any] | None:
    """The density the weights should follow, from ``Initializer.target_density``:
    ("pdf", (x, p, label)), ("point", c) or None."""
    import numpy as np

    try:
        target = init.target_density(n, m)
    except Exception:  # a plot must not take the docs build down
        return None
    if not isinstance(target, dict):
        return None
    kind = target.get("distribution")
    if kind == "constant":
        return "point", float(target["value"])
    if kind == "uniform":
        low, high = float(target["low"]), float(target["high"])
        x = np.array([low - 0.15 * (high - low), low, low, high, high, high + 0.15 * (high - low)])
        p = np.array([0, 0, 1, 1, 0, 0]) / (high - low)
        return "pdf", (x, p, f"U[{low:.3g}, {high:.3g}]")
    if kind == "normal":
        mu, sd = float(target["mean"]), float(target["std"])
        low, high = float(target.get("low", -math.inf)), float(target.get("high", math.inf))
        lo, hi = max(low, mu - 4 * sd), min(high, mu + 4 * sd)
        x = np.linspace(lo, hi, 300)
        p = np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
        approx = "≈ " if target.get("approximate") else ""
        if math.isfinite(low) or math.isfinite(high):
            mass = 0.5 * (math.erfc(-(hi - mu) / (sd * math.sqrt(2))) - math.erfc(-(lo - mu) / (sd * math.sqrt(2))))
            x = np.concatenate([[lo], x, [hi]])
            p = np.concatenate([[0.0], p / mass, [0.0]])
            return "pdf", (x, p, f"{approx}N({mu:.3g}, {sd:.3g}²) cut to [{lo:.3g}, {hi:.3g}]")
        return "pdf", (x, p, f"{approx}N({mu:.3g}, {sd:.3g}²)")
    return None


def plot_initializer(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """Histogram of the weights of a 100 x 50 layer against the target density."""
    import numpy as np

    init = _build(entry)
    n, m = _INIT_SHAPE
    w = np.asarray(init(n, m, np.random.default_rng(0), np.float64), dtype=np.float64).ravel()
    target = _init_target(init, n, m)
    fig, ax = _figure()
    if target is not None and target[0] == "point":
        ax.axvline(target[1], color="C1", linewidth=2, label=f"every weight = {target[1]:g}")
        ax.hist(w, bins=20, color="C0", alpha=0.6, label="weights")
        ax.set_ylabel("count", fontsize=9)
        what = "the single value every weight takes"
    else:
        ax.hist(w, bins=50, density=True, color="C0", alpha=0.6, label="weights")
        if target is not None:
            x, p, label = target[1]
            ax.plot(x, p, color="C1", linewidth=1.5, label=label)
            what = "the target density"
        else:
            what = "(no known target density for this initializer)"
        ax.set_ylabel("density", fontsize=9)
    ax.set_xlabel("w", fontsize=9)
    _style(ax)
    _save(fig, path, dpi)
    return (f"Histogram of the {n * m:,} weights of a layer with :math:`n = {n}` inputs and "
            f":math:`m = {m}` outputs (seed 0), and {what}.")


def _loss_curves(loss: Any) -> tuple[Any, Any, Any, str, str]:
    """(x, loss values, gradient values, x label, caption) along one prediction."""
    import numpy as np

    link = getattr(loss, "link", None)
    if link == "softmax":
        x = np.linspace(0.01, 0.99, 197)
        rows = [(np.array([[p, 1 - p]]), np.array([[1.0, 0.0]])) for p in x]
        xlabel = r"predicted probability of the true class $p$"
        caption = (r"Two classes, true class 1, prediction :math:`(p, 1-p)`: the loss (solid) and its "
                   r"gradient :math:`\partial\ell/\partial p` (dashed, clipped to the plot).")
    elif link == "sigmoid":
        x = np.linspace(0.01, 0.99, 197)
        rows = [(np.array([[p]]), np.array([[1.0]])) for p in x]
        xlabel = r"predicted probability $p$ (target $y = 1$)"
        caption = (r"Target :math:`y = 1`, prediction :math:`p`: the loss (solid) and its gradient "
                   r":math:`\partial\ell/\partial p` (dashed, clipped to the plot).")
    else:
        x = np.linspace(-3.0, 3.0, 241)
        rows = [(np.array([[d]]), np.array([[0.0]])) for d in x]
        xlabel = r"prediction $\hat y$ (target $y = 0$)"
        caption = (r"One output, target :math:`y = 0`: the loss as a function of the prediction "
                   r":math:`\hat y` (solid) and its gradient :math:`\partial\ell/\partial\hat y` (dashed).")
    values = np.array([float(loss.forward(p, t)) for p, t in rows])
    grads = np.array([float(np.asarray(loss.gradient(p, t)).ravel()[0]) for p, t in rows])
    return x, values, grads, xlabel, caption


def plot_loss(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """The loss and its gradient along one prediction."""
    import numpy as np

    loss = _build(entry)
    x, values, grads, xlabel, caption = _loss_curves(loss)
    fig, ax = _figure()
    ax.plot(x, values, label="loss")
    ax.plot(x, grads, "--", label="gradient")
    finite = np.concatenate([values, grads])
    finite = finite[np.isfinite(finite)]
    low, high = float(np.min(finite)), float(np.max(finite))
    ax.set_ylim(max(low, -6.0) - 0.3, min(high, 6.0) + 0.3)
    ax.set_xlabel(xlabel, fontsize=9)
    _style(ax)
    _save(fig, path, dpi)
    return caption


def _schedule_rates(sched: Any) -> tuple[Any, Any, Any]:
    """Rates of steps 0..119 for base rate 1; a stateful schedule is shown a metric that plateaus."""
    import numpy as np

    steps = np.arange(_SCHED_STEPS)
    if not getattr(sched, "stateful", False):
        return steps, np.array([sched(int(t), 1.0) for t in steps]), None
    monitor = getattr(sched, "monitor", "val_loss")
    metric = np.where(steps < 40, 1.0 / (1.0 + steps / 5.0), 1.0 / (1.0 + 39 / 5.0))
    if getattr(sched, "mode", "min") == "max":
        metric = 1.0 - metric
    rates = []
    for t in steps:
        rates.append(sched(int(t), 1.0))
        sched.observe(int(t), {monitor: float(metric[t])})
    return steps, np.array(rates), (monitor, metric)


def plot_schedule(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """η(t)/η₀ over 120 steps."""
    sched = _build(entry)
    steps, rates, observed = _schedule_rates(sched)
    fig, ax = _figure()
    ax.step(steps, rates, where="post", label=r"$\eta(t)/\eta_0$")
    positive = rates[rates > 0]
    if rates.min() > 0 and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    unit = getattr(sched, "unit", "epoch")
    ax.set_xlabel(f"step t ({unit}s)", fontsize=9)
    caption = (f"The rate :math:`\\eta(t)` for :math:`\\eta_0 = 1` over {_SCHED_STEPS} steps")
    if observed is not None:
        monitor, metric = observed
        ax2 = ax.twinx()
        ax2.plot(steps, metric, color="C2", linewidth=0.8, label=monitor)
        ax2.tick_params(labelsize=7)
        ax2.legend(fontsize=7, frameon=False, loc="center right")
        caption += (f", while ``{monitor}`` (green, right axis) improves for 40 epochs and then stops "
                    f"improving")
    config = dict(entry.registration.spec_config or {})
    if config:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in config.items())
        caption += f"; built with ``{shown}``"
    _style(ax)
    _save(fig, path, dpi)
    return caption + "."


def _short(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", "fn")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def plot_optimizer(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """60 steps on the ill-conditioned quadratic ½(θ₁² + 10 θ₂²), path and objective."""
    import numpy as np

    opt = _build(entry)
    c = np.array(_OPT_CURVATURE)
    theta = np.array(_OPT_START, dtype=np.float64)
    params = [theta]
    opt.setup(params)
    path_pts, values = [theta.copy()], [0.5 * float(c @ theta**2)]
    for _ in range(_OPT_STEPS):
        opt.step(params, [c * theta], _OPT_LR)
        path_pts.append(theta.copy())
        values.append(0.5 * float(c @ theta**2))
    pts = np.array(path_pts)
    fig, _ = _figure(7.0, 2.7)
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    g1, g2 = np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-1.5, 1.5, 81))
    ax1.contour(g1, g2, 0.5 * (c[0] * g1**2 + c[1] * g2**2), levels=12, linewidths=0.5, colors="0.6")
    ax1.plot(pts[:, 0], pts[:, 1], ".-", markersize=2.5, linewidth=0.8, color="C0")
    ax1.plot([0], [0], "*", color="C1", markersize=6)
    ax1.set_xlabel(r"$\theta_1$", fontsize=9)
    ax1.set_ylabel(r"$\theta_2$", fontsize=9)
    ax2.semilogy(np.maximum(values, 1e-300))
    ax2.set_xlabel("step", fontsize=9)
    ax2.set_ylabel(r"$f(\theta_t)$", fontsize=9)
    for ax in (ax1, ax2):
        _style(ax)
    _save(fig, path, dpi, left=0.08, right=0.98, wspace=0.35)
    return (f"{_OPT_STEPS} steps with :math:`\\eta = {_OPT_LR}` and the default parameters on "
            f":math:`f(\\theta) = \\tfrac12(\\theta_1^2 + 10\\,\\theta_2^2)` from "
            f":math:`\\theta_0 = ({_OPT_START[0]:g}, {_OPT_START[1]:g})`: the path (left) and "
            f":math:`f(\\theta_t)` (right, log scale).")


PLOTTERS = {"activation": plot_activation, "initializer": plot_initializer, "loss": plot_loss,
            "schedule": plot_schedule, "optimizer": plot_optimizer}


# ============================================================================ rST
def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(text, " " * spaces)


def _math_block(latex: str, indent: int) -> str:
    if not latex.strip():
        return " " * indent + "—"
    return " " * indent + ".. math::\n\n" + _indent(latex.strip(), indent + 3)


def _literal(value: Any) -> str:
    from neuroplug.types import REQUIRED

    if value is REQUIRED:
        return "*required*"
    if callable(value) and not isinstance(value, type):
        return f"``{getattr(value, '__name__', repr(value))}``"
    return f"``{value!r}``"


_NUMPY_SECTION = re.compile(r"^-{3,}$")
_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*(\s*:.*)?$")
_ENTRY_SECTIONS = {"Parameters", "Other Parameters", "Attributes", "Keyword Arguments"}


def numpy_docstring_fixups(lines: list[str]) -> list[str]:
    """Repair two numpy-docstring forms napoleon misreads, before napoleon sees them.

    * A free paragraph after the entries of a Parameters/Attributes section (napoleon
      would read each of its lines as a parameter): a ``Notes`` header is put before it.
    * ``a, b : type`` in an Attributes section (napoleon emits ``:ivar a, b:``, which
      Sphinx reads as type ``a,`` and name ``b``): one entry per name.
    """
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _NUMPY_SECTION.match(nxt.strip()) and not line[:1].isspace():
            section = line.strip()
            out += [line, nxt]
            i += 2
            continue
        if section in _ENTRY_SECTIONS and line.strip() and not line[:1].isspace():
            if not _ENTRY.match(line.strip()) and (not out or not out[-1].strip()):
                out += ["Notes", "-----"]
                section = "Notes"
            elif section == "Attributes" and "," in line.split(" : ")[0]:
                names, _, kind = line.partition(" : ")
                body = []
                while i + 1 < len(lines) and (not lines[i + 1].strip() or lines[i + 1][:1].isspace()):
                    if not lines[i + 1].strip() and (i + 2 >= len(lines) or not lines[i + 2][:1].isspace()):
                        break
                    i += 1
                    body.append(lines[i])
                for name in (n.strip() for n in names.split(",")):
                    out += [f"{name} : {kind}" if kind else name, *body]
                i += 1
                continue
        out.append(line)
        i += 1
    return out


def _docstring_rst(factory: Any, app: Any) -> str:
    """The factory's docstring as rST (numpy sections converted by napoleon when available)."""
    doc = inspect.getdoc(factory) if isinstance(factory, type) else None
    if not doc or doc == inspect.getdoc(getattr(factory, "__mro__", [None, None])[1]):
        return ""
    with contextlib.suppress(Exception):
        from sphinx.ext.napoleon import Config, NumpyDocstring

        # outside a Python object description, fields such as ":param x:" would show raw:
        # render Parameters as one "Parameters" field with a list instead
        config = Config(napoleon_use_param=False, napoleon_use_keyword=False, napoleon_use_rtype=False,
                        napoleon_use_ivar=True, napoleon_google_docstring=False)
        doc = "\n".join(numpy_docstring_fixups(doc.splitlines()))
        return str(NumpyDocstring(doc, config, app, what="class", name=factory.__qualname__, obj=factory))
    return doc


def render_component(entry: Any, reg: Any, image_uri: str | None, caption: str, spec: list | None,
                     app: Any = None, plot_error: str | None = None) -> str:
    """rST of one component's section: formulas, plot, facts, spec results, class docstring."""
    r = entry.registration
    kind = r.kind
    title = f"``{r.name}``" + ("" if entry.plugin.builtin else f" ({entry.plugin.distribution})")
    out = [f".. _{component_label(kind, entry.qualified_name)}:", "", title, "-" * (len(title) + 4), ""]
    if r.summary:
        out += [_escape(r.summary.strip()), ""]
    if r.derivative:  # the formula and its derivative side by side
        out += [".. list-table::", "   :class: neuroplug-formulas", "   :header-rows: 1", "   :widths: 1 1", "",
                "   * - formula", "     - derivative",
                "   * -", _math_block(r.formula, 7) if r.formula else "       —",
                "     -", _math_block(r.derivative, 7), ""]
    elif r.formula:
        out += [_math_block(r.formula, 0), ""]
    if image_uri:
        out += [f".. figure:: {image_uri}", f"   :alt: plot of the {kind} {r.name}", "   :class: neuroplug-plot",
                "", _indent(caption, 3), ""]
    elif plot_error:
        out += [".. warning::", "", _indent(f"No plot: drawing it raised ``{_escape(plot_error)}``.", 3), ""]
    factory = r.factory
    where = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', repr(factory))}"
    version = f" {entry.plugin.version}" if entry.plugin.version else ""
    name = f"``{r.name}``, qualified ``{entry.qualified_name}``"
    if reg.shadowed(entry):
        name += " -- *shadowed*: the bare name resolves to another component, use the qualified name"
    params = dict(r.parameters or {})
    shown = "; ".join(f"``{k}`` = {_literal(v)}" for k, v in params.items()) or "none"
    spec_config = dict(r.spec_config or {})
    if spec_config:
        shown += (" (the spec suite and the plot use "
                  + ", ".join(f"``{k}={_short(v)}``" for k, v in spec_config.items()) + ")")
    rows = [("name", name),
            ("aliases", ", ".join(f"``{a}``" for a in r.aliases) or "none"),
            ("parameters", shown),
            ("properties", ", ".join(f"``{p}``" for p in r.properties) or "none declared"),
            ("plugin", f"``{entry.plugin.label}`` (distribution ``{entry.plugin.distribution}``{version})"),
            ("class", f"``{where}``")]
    if r.implements:
        rows.append(("implements", ", ".join(f"``{p}``" for p in r.implements)))
    if r.replaces:
        rows.append(("replaces", f"``{r.replaces}``"))
    out += [".. list-table::", "   :class: neuroplug-facts", "   :widths: 1 5", ""]
    for label, value in rows:
        out += [f"   * - {label}", f"     - {value}"]
    out.append("")
    if spec is not None:
        out += _render_spec_results(spec)
    doc = _docstring_rst(factory, app)
    if doc.strip():
        out += [".. rubric:: Details (from the class docstring)", "", doc.strip(), ""]
    return "\n".join(out) + "\n"


def _render_spec_results(results: list[tuple[str, str, str]]) -> list[str]:
    passed = [i for i, s, _ in results if s == "passed"]
    skipped = [i for i, s, _ in results if s == "skipped"]
    xfailed = [(i, m) for i, s, m in results if s == "xfailed"]
    bad = [(i, s, m) for i, s, m in results if s in ("failed", "xpassed")]
    ref = lambda i: f":ref:`{i} <{check_label(i)}>`"  # noqa: E731
    out = [".. rubric:: Spec checks", ""]
    out += [f"**Passes {len(passed)}:** " + (", ".join(ref(i) for i in passed) or "none") + ".", ""]
    if xfailed:
        out += ["**Fails as declared:** " + "; ".join(f"{ref(i)} ({m.splitlines()[0]})" for i, m in xfailed), ""]
    if skipped:
        out += [f"*Not applicable ({len(skipped)}):* " + ", ".join(ref(i) for i in skipped) + ".", ""]
    for i, s, m in bad:
        out += [".. error::", "", _indent(f"{ref(i)} {s}:", 3), "", _indent("::", 3), "",
                _indent(m or s, 6), ""]
    return out


def render_kind_summary(entries: list[Any]) -> str:
    """A table of every component of a kind: name (linked), aliases, summary."""
    out = [".. list-table::", "   :header-rows: 1", "   :widths: 2 2 6", "   :class: neuroplug-summary", "",
           "   * - name", "     - aliases", "     - summary"]
    for e in entries:
        r = e.registration
        label = component_label(r.kind, e.qualified_name)
        suffix = "" if e.plugin.builtin else f" ({e.plugin.distribution})"
        out += [f"   * - :ref:`{r.name}{suffix} <{label}>`",
                f"     - {', '.join(f'``{a}``' for a in r.aliases) or '—'}",
                f"     - {_escape(r.summary.strip()) or '—'}"]
    return "\n".join(out) + "\n"


def render_spec_reference() -> str:
    """rST of the spec reference: the traceability table, then every check by kind and layer."""
    from neuroplug.spec.framework import LAYERS, all_checks
    from neuroplug.spec.traceability import table

    out = [".. _check-traceability:", "", "Traceability: the notes and the checks that encode them",
           "-------------------------------------------------------", "",
           "Each row paraphrases one statement of the notes the project started from; the checks on "
           "the right encode it. No statement is without a check.", "",
           ".. list-table::", "   :header-rows: 1", "   :widths: 5 6", "   :class: neuroplug-trace", "",
           "   * - statement of the notes", "     - check IDs"]
    for key, text, ids in table():
        out += [f"   * - {_escape(text)} (``{key}``)",
                "     - " + (", ".join(f":ref:`{i} <{check_label(i)}>`" for i in ids) or "**none**")]
    out.append("")
    out += _render_vocabulary()
    for kind, title in KIND_TITLES.items():
        out += [title, "-" * len(title), ""]
        checks = all_checks(kind)
        for layer in LAYERS:
            layer_checks = [c for c in checks if c.layer == layer]
            if not layer_checks:
                continue
            out += [_LAYER_TITLES[layer], "~" * len(_LAYER_TITLES[layer]), ""]
            for c in layer_checks:
                out += [f".. _{check_label(c.id)}:", "", c.id, "^" * len(c.id), "", f"**{_escape(c.title)}**", ""]
                if c.formula:
                    out += [".. math::", "", _indent(c.formula, 3), ""]
                rows = [("tolerance", _escape(c.tolerance)),
                        ("false-failure probability", _escape(c.false_failure))]
                if c.notes:
                    rows.append(("encodes", ", ".join(f"``{n}``" for n in c.notes)))
                out += [".. list-table::", "   :class: neuroplug-facts", "   :widths: 1 4", ""]
                for label, value in rows:
                    out += [f"   * - {label}", f"     - {value}"]
                out += ["", inspect.cleandoc(c.func.__doc__ or ""), ""]
    return "\n".join(out) + "\n"


def _render_vocabulary() -> list[str]:
    """rST: the formulas a component can claim with ``implements=``, per kind."""
    from neuroplug.spec.formulas import vocabulary

    title = "Formulas a component can claim (implements=)"
    out = [".. _formula-vocabulary:", "", title, "-" * len(title), "",
           "Each name below (or an alias) may appear in a registration's ``implements``; the kind's "
           "``*-FORMULA`` check then compares the component with a closed-form reference, for its own "
           "config and for configs drawn from the ranges shown. A parameter the component's constructor "
           "accepts must have the name and meaning given here; one it does not accept is taken at the "
           "default shown.", ""]
    for kind, kind_title in KIND_TITLES.items():
        rows = vocabulary(kind)
        out += [kind_title, "~" * len(kind_title), ""]
        if not rows:
            out += ["(none yet)", ""]
            continue
        out += [".. list-table::", "   :header-rows: 1", "   :widths: 2 2 4 5", "",
                "   * - formula", "     - aliases", "     - parameters (default, range)", "     - definition"]
        for row in rows:
            params = "; ".join(f"``{p}`` = {_escape(d)}" for p, d in row["params"].items()) or "none"
            out += [f"   * - ``{row['name']}``",
                    f"     - {', '.join(f'``{a}``' for a in row['aliases']) or '—'}",
                    f"     - {params}",
                    f"     - {_escape(row['title'])}: :math:`{row['latex']}`"]
        out.append("")
    return out


def _escape(text: str) -> str:
    """Escape inline markup characters of plain text for rST."""
    return re.sub(r"([*`|_\\])", r"\\\1", text)


# ============================================================================ Sphinx
def _offline_mathjax_dir() -> pathlib.Path | None:
    """The MathJax 3 files shipped by the ``sphinx-mathjax-offline`` package, if installed."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = pathlib.Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    return folder if (folder / "tex-chtml.js").is_file() else None


# MathJax components that tex-chtml.js loads lazily (fonts, TeX extensions, menu, a11y);
# the other combined bundles of the package are not needed.
_MATHJAX_KEEP = {"tex-chtml.js", "a11y", "input", "output", "sre", "ui", "adaptors"}


def _config_inited(app: Any, config: Any) -> None:
    if config.neuroplug_offline_mathjax and _offline_mathjax_dir() is not None:
        # relative to _static: served from the built site, no network at read time
        config.mathjax_path = "mathjax/tex-chtml.js"


def _copy_mathjax(app: Any, exc: Exception | None) -> None:
    source = _offline_mathjax_dir()
    if exc is not None or source is None or not app.config.neuroplug_offline_mathjax \
            or app.builder.format != "html":
        return
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    if (target / "tex-chtml.js").is_file():
        return
    for item in sorted(source.iterdir()):
        if item.name not in _MATHJAX_KEEP:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target / item.name)


#: Formula and derivative side by side, compact fact tables (added to every HTML build).
CSS = """\
table.neuroplug-formulas { width: 100%; table-layout: fixed; }
table.neuroplug-formulas td { vertical-align: middle; }
table.neuroplug-formulas div.math { margin: 0.2em 0; overflow-x: auto; }
table.neuroplug-facts { width: 100%; font-size: 0.9em; }
table.neuroplug-facts td:first-child { font-weight: 600; width: 9em; }
table.neuroplug-facts td p, table.neuroplug-summary td p { margin: 0; }
table.neuroplug-summary, table.neuroplug-trace { font-size: 0.9em; }
figure.neuroplug-plot { margin: 0.5em 0; }
figure.neuroplug-plot img { max-width: 100%; height: auto; }
"""
_CSS_NAME = "neuroplug-reference.css"


def _write_css(app: Any, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html":
        static = pathlib.Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        (static / _CSS_NAME).write_text(CSS, encoding="utf-8")


class _State:
    """Per-build state: the registry mode, where plots go, and the precomputed results."""

    def __init__(self, app: Any) -> None:
        self.builtins_only = bool(app.config.neuroplug_reference_builtins_only)
        self.run_spec = bool(app.config.neuroplug_reference_run_spec)
        self.dpi = int(app.config.neuroplug_reference_dpi)
        self.plot_dir = pathlib.Path(app.doctreedir).parent / "neuroplug-plots"
        self.precomputed: _Precomputed | None = None

    def start(self) -> _Precomputed:
        if self.precomputed is None:
            self.precomputed = _Precomputed(self.builtins_only, self.run_spec, self.plot_dir, self.dpi)
        return self.precomputed


def _state(app: Any) -> _State:
    state = getattr(app, "_neuroplug_reference", None)
    if state is None:
        state = app._neuroplug_reference = _State(app)
    return state


def _build_finished(app: Any, exc: Exception | None) -> None:
    state = getattr(app, "_neuroplug_reference", None)
    if state is not None and state.precomputed is not None:
        state.precomputed.close()
    _copy_mathjax(app, exc)
    _write_css(app, exc)


def _make_directives() -> dict[str, type]:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    logger = logging.getLogger(__name__)

    class _Generated(SphinxDirective):
        def _parse(self, text: str) -> list[Any]:
            node = nodes.section()
            node.document = self.state.document
            source = self.get_source_info()[0] + f" <generated by {self.name}>"
            nested_parse_with_titles(self.state, StringList(text.splitlines(), source=source), node)
            return node.children

    class ComponentsDirective(_Generated):
        """``.. neuroplug-components:: KIND``: every registered component of KIND."""

        required_arguments = 1

        def run(self) -> list[Any]:
            kind = self.arguments[0].strip()
            if kind not in KIND_TITLES:
                raise self.error(f"unknown component kind {kind!r}; one of {', '.join(KIND_TITLES)}")
            pre = _state(self.env.app).start()
            doc_dir = pathlib.Path(self.env.doc2path(self.env.docname)).parent
            plots, spec = pre.plots(), pre.spec()
            parts = []
            with _registry(pre.args[0]) as reg:
                entries = reg.entries(kind)
                parts.append(render_kind_summary(entries))
                for entry in entries:
                    key = (kind, entry.qualified_name)
                    caption, error = plots.get(key, ("", "not plotted"))
                    uri = None
                    if not error:
                        png = pathlib.Path(pre.args[2]) / _plot_name(*key)
                        uri = os.path.relpath(png, doc_dir).replace(os.sep, "/")
                    else:
                        logger.warning("neuroplug reference: cannot plot %s %s: %s", kind,
                                       entry.qualified_name, error, location=self.get_location())
                    results = None if spec is None else spec.get(key, [])
                    if results and any(s in ("failed", "xpassed") for _, s, _ in results):
                        logger.warning("neuroplug reference: %s %s fails spec checks %s", kind,
                                       entry.qualified_name,
                                       ", ".join(i for i, s, _ in results if s in ("failed", "xpassed")),
                                       location=self.get_location())
                    parts.append(render_component(entry, reg, uri, caption, results, self.env.app, error))
            return self._parse("\n".join(parts))

    class SpecReferenceDirective(_Generated):
        """``.. neuroplug-spec-reference::``: traceability table and every check."""

        def run(self) -> list[Any]:
            return self._parse(render_spec_reference())

    class PluginsDirective(_Generated):
        """``.. neuroplug-plugins::``: every plugin the registry saw, with its status."""

        def run(self) -> list[Any]:
            with _registry(_state(self.env.app).builtins_only) as reg:
                plugins = reg.plugins()
                counts: dict[tuple[str, str], int] = {}
                for e in reg.entries():
                    key = (e.plugin.distribution, e.plugin.name)
                    counts[key] = counts.get(key, 0) + 1
            out = [".. list-table::", "   :header-rows: 1", "", "   * - plugin", "     - distribution",
                   "     - version", "     - components", "     - status"]
            for p in plugins:
                status = p.status + (f" ({p.phase}: {p.error})" if p.status == "failed" else
                                     f" ({p.error})" if p.status == "disabled" else "")
                out += [f"   * - ``{p.name}``", f"     - ``{p.distribution}``", f"     - {p.version or '—'}",
                        f"     - {counts.get((p.distribution, p.name), 0)}", f"     - {_escape(status)}"]
            return self._parse("\n".join(out) + "\n")

    return {"neuroplug-components": ComponentsDirective, "neuroplug-spec-reference": SpecReferenceDirective,
            "neuroplug-plugins": PluginsDirective}


_MARKER = re.compile(r"^\s*\.\. neuroplug-(components|spec-reference|plugins)::", re.M)


def _has_marker(env: Any, docname: str) -> bool:
    try:
        return bool(_MARKER.search(pathlib.Path(env.doc2path(docname)).read_text(encoding="utf-8")))
    except OSError:
        return False


def _before_read(app: Any, env: Any, docnames: list[str]) -> None:
    """Start the worker if a generated page is to be read, and read those pages last.

    The worker (plots, spec run) then overlaps the reading of every other page.
    """
    generated = {d for d in docnames if _has_marker(env, d)}
    if generated:
        _state(app).start()
        docnames.sort(key=lambda d: d in generated)


def _outdated(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """Re-read the generated pages when the components, their code or the checks changed."""
    state = _state(app)
    current = fingerprint(state.builtins_only)
    if getattr(env, "neuroplug_reference_fingerprint", None) == current:
        return []
    env.neuroplug_reference_fingerprint = current
    return [d for d in env.found_docs if d not in added and d not in changed and _has_marker(env, d)]


def setup(app: Any) -> dict[str, Any]:
    """Register the directives, configuration values and event handlers."""
    app.setup_extension("sphinx.ext.mathjax")
    app.add_config_value("neuroplug_reference_builtins_only", False, "env", bool)
    app.add_config_value("neuroplug_reference_run_spec", True, "env", bool)
    app.add_config_value("neuroplug_reference_dpi", 80, "env", int)
    app.add_config_value("neuroplug_offline_mathjax", True, "html", bool)
    for name, directive in _make_directives().items():
        app.add_directive(name, directive)
    app.add_css_file(_CSS_NAME)
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("build-finished", _build_finished)
    from neuroplug import __version__

    return {"version": __version__, "parallel_read_safe": False, "parallel_write_safe": True}


# ============================================================================ standalone
_CONF = '''\
# Generated by {module}.build_component_docs: the reference of the installed components.
import sys
{path_line}
project = "neuroplug components"
extensions = [{module!r}]
neuroplug_reference_builtins_only = {builtins_only!r}
neuroplug_reference_run_spec = {run_spec!r}
html_theme = {theme!r}
html_title = "neuroplug: installed components"
html_static_path = []
html_show_copyright = False
exclude_patterns = ["_build"]
'''


def build_component_docs(output: str | os.PathLike[str], *, builtins_only: bool = False, run_spec: bool = True,
                         quiet: bool = True) -> pathlib.Path:
    """Build the component and spec reference of the installed components as HTML.

    Every component of every installed plugin (subject to the ``NEUROPLUG_*``
    environment variables) gets its formula, derivative, parameters, plot and
    spec results, exactly as in neuroplug's own documentation.

    Parameters
    ----------
    output : path
        The folder to write the HTML site into (created if needed).
    builtins_only : bool
        Document neuroplug's built-in components only.
    run_spec : bool
        Run the spec suite to list the checks each component passes (about 10 s
        for the built-ins).
    quiet : bool
        Print only warnings and errors.

    Returns
    -------
    pathlib.Path
        The ``index.html`` of the built site.

    Raises
    ------
    neuroplug.errors.NeuroplugError
        When Sphinx or matplotlib is missing, or the build fails.
    """
    from neuroplug.errors import NeuroplugError

    missing = [m for m in ("sphinx", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise NeuroplugError(f"building the docs needs {' and '.join(missing)}: "
                             f"pip install 'neuroplug[docs]'")
    from sphinx.cmd.build import build_main

    output = pathlib.Path(output).resolve()
    module = __name__
    # a top-level module (docs/_ext/) must be importable by the generated conf.py; a module
    # inside the neuroplug package already is (and its folder must not go on sys.path)
    path_line = "" if "." in module else f"sys.path.insert(0, {str(pathlib.Path(__file__).resolve().parent)!r})"
    theme = "furo" if importlib.util.find_spec("furo") is not None else "alabaster"
    with tempfile.TemporaryDirectory(prefix="neuroplug-docs-") as tmp:
        src = pathlib.Path(tmp) / "src"
        src.mkdir()
        (src / "conf.py").write_text(_CONF.format(module=module, path_line=path_line, builtins_only=builtins_only,
                                                  run_spec=run_spec, theme=theme), encoding="utf-8")
        pages = ["plugins"] + list(KIND_TITLES) + ["spec"]
        (src / "index.rst").write_text(
            "neuroplug: the installed components\n===================================\n\n"
            "Generated from the components registered in this environment by ``neuroplug docs``: "
            "formulas, derivatives, parameters, plots and the spec checks each one passes.\n\n"
            ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {p}\n" for p in pages), encoding="utf-8")
        (src / "plugins.rst").write_text("Plugins\n=======\n\n.. neuroplug-plugins::\n", encoding="utf-8")
        for kind, title in KIND_TITLES.items():
            (src / f"{kind}.rst").write_text(f"{title}\n{'=' * len(title)}\n\n.. neuroplug-components:: {kind}\n",
                                             encoding="utf-8")
        (src / "spec.rst").write_text("Spec reference\n==============\n\n.. neuroplug-spec-reference::\n",
                                      encoding="utf-8")
        args = ["-b", "html", "-d", str(pathlib.Path(tmp) / "doctrees"), str(src), str(output)]
        if quiet:
            args.insert(0, "-q")
        old_path = list(sys.path)
        try:
            status = build_main(args)
        finally:
            sys.path[:] = old_path
    if status != 0:
        raise NeuroplugError(f"the documentation build failed (sphinx exit status {status})")
    return output / "index.html"
