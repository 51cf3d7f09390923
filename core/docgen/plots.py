"""The plot of each component on its reference card: activations and derivatives, initializer
histograms against their target density, losses and their gradients, schedules, optimizer paths.

Drawn with matplotlib (Agg) when the reference is built; importing this module imports neither.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

__all__ = ["PLOTTERS"]

# What a figure shows, per kind (also used in the captions).
_ACT_RANGE = (-5.0, 5.0)
_INIT_SHAPE = (100, 50)  # fan_in n, fan_out m
_SCHED_STEPS = 120
_OPT_STEPS = 60
_OPT_LR = 0.05
_OPT_START = (-2.0, 1.0)
_OPT_CURVATURE = (1.0, 10.0)



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
