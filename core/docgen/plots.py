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
_SCHED_STEPS = 120  # stateful schedules (fed a metric) and the shortest range shown
_SCHED_MAX_STEPS = 10_000  # the longest range a schedule's plot may need
_OPT_STEPS = 60
_OPT_LR = 0.05
_OPT_START = (-2.0, 1.0)
_OPT_CURVATURE = (1.0, 10.0)



# ============================================================================ plots
def _figure(width: float = 6.4, height: float = 3.4) -> tuple[Any, Any]:
    """A figure 6.4 inches wide: 640 px at the reference's default 100 dpi, the text column's width."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _style(ax: Any, legend: bool = True) -> None:
    """Light grid, no top/right spines, and the legend *above* the axes, where it covers no data."""
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.tick_params(labelsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    if legend and handles:
        ax.legend(handles, labels, fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                  ncol=len(handles), borderaxespad=0.2, handlelength=2.5)


def _save(fig: Any, path: pathlib.Path, dpi: int, left: float = 0.1, right: float = 0.97,
          wspace: float = 0.2) -> None:
    # fixed margins (tight_layout would double the cost of each plot); the top one holds the legend
    fig.subplots_adjust(left=left, right=right, bottom=0.15, top=0.88, wspace=wspace)
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
    ax.set_xlabel("pre-activation z", fontsize=10)
    ax.set_ylabel("value", fontsize=10)
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
        ax.set_ylabel("count", fontsize=10)
        what = "the single value every weight takes"
    else:
        ax.hist(w, bins=50, density=True, color="C0", alpha=0.6, label="weights")
        if target is not None:
            x, p, label = target[1]
            ax.plot(x, p, color="C1", linewidth=1.5, label=label)
            what = "the target density"
        else:
            what = "(no known target density for this initializer)"
        ax.set_ylabel("density", fontsize=10)
    ax.set_xlabel("weight w", fontsize=10)
    _style(ax)
    _save(fig, path, dpi)
    return (f"Histogram of the {n * m:,} weights of a layer with :math:`n = {n}` inputs and "
            f":math:`m = {m}` outputs (seed 0), and {what}.")


def _loss_curves(loss: Any) -> tuple[Any, dict[str, Any], str, str]:
    """(x, {label: values}, x label, caption) along one prediction.

    A loss with a ``link`` (softmax, sigmoid) is drawn against the predicted
    probability ``p`` of the true class, with its gradient with respect to ``p``
    *and* with respect to the logit ``z`` (``fused_gradient``: what training uses,
    and what the card's derivative column states). Other losses are drawn against
    the prediction for a target of 0.
    """
    import numpy as np

    link = getattr(loss, "link", None)
    if link == "softmax":
        x = np.linspace(0.01, 0.99, 197)
        rows = [(np.array([[p, 1 - p]]), np.array([[1.0, 0.0]])) for p in x]
        xlabel = r"predicted probability of the true class, $p$"
        setting = r"Two classes, true class 0 (one-hot target :math:`(1, 0)`), prediction :math:`(p, 1-p)`"
    elif link == "sigmoid":
        x = np.linspace(0.01, 0.99, 197)
        rows = [(np.array([[p]]), np.array([[1.0]])) for p in x]
        xlabel = r"predicted probability $p$ (target $y = 1$)"
        setting = r"Target :math:`y = 1`, prediction :math:`p`"
    else:
        x = np.linspace(-3.0, 3.0, 241)
        rows = [(np.array([[d]]), np.array([[0.0]])) for d in x]
        xlabel = r"prediction $\hat y$ (target $y = 0$)"
        curves = {"loss": np.array([float(loss.forward(p, t)) for p, t in rows]),
                  r"gradient $\partial\ell/\partial\hat y$":
                      np.array([float(np.asarray(loss.gradient(p, t)).ravel()[0]) for p, t in rows])}
        return x, curves, xlabel, (r"One output, target :math:`y = 0`: the loss as a function of the prediction "
                                   r":math:`\hat y` (solid) and its gradient :math:`\partial\ell/\partial\hat y` "
                                   r"(dashed).")
    curves = {"loss": np.array([float(loss.forward(p, t)) for p, t in rows])}
    caption = setting + ": the loss (solid)"
    try:
        curves[r"$\partial\ell/\partial z$ (logit of the true class)"] = np.array(
            [float(np.asarray(loss.fused_gradient(p, t)).ravel()[0]) for p, t in rows])
        caption += (r", its gradient with respect to the logit of the true class, :math:`\partial\ell/\partial z` "
                    r"(dashed; the derivative above, and what training uses)")
    except Exception:  # a loss with a link but no fused gradient: draw d/dp only
        pass
    curves[r"$\partial\ell/\partial p$"] = np.array(
        [float(np.asarray(loss.gradient(p, t)).ravel()[0]) for p, t in rows])
    caption += (r" and its gradient with respect to the probability, :math:`\partial\ell/\partial p` "
                r"(dotted, clipped to the plot).")
    return x, curves, xlabel, caption


def plot_loss(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """The loss and its gradient along one prediction."""
    import numpy as np

    loss = _build(entry)
    x, curves, xlabel, caption = _loss_curves(loss)
    fig, ax = _figure()
    for (label, values), style in zip(curves.items(), ("-", "--", ":")):
        ax.plot(x, values, style, label=label, linewidth=1.8 if style == ":" else 1.5)
    finite = np.concatenate(list(curves.values()))
    finite = finite[np.isfinite(finite)]
    low, high = float(np.min(finite)), float(np.max(finite))
    ax.set_ylim(max(low, -6.0) - 0.3, min(high, 6.0) + 0.3)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel("value", fontsize=10)
    _style(ax)
    _save(fig, path, dpi)
    return caption


def _nice_ceiling(x: float) -> int:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at least ``x``."""
    power = 10 ** math.floor(math.log10(max(x, 1.0)))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * power >= x:
            return int(round(m * power))
    return int(10 * power)  # pragma: no cover - the loop always returns


def _schedule_horizon(rates: Any) -> int:
    """How many steps show the whole schedule, from its own rates over :data:`_SCHED_MAX_STEPS` steps.

    A schedule that settles (a warm-up, a decay to a floor, milestones) is shown
    to a quarter past its last change, where a change is a relative change of
    more than 1e-6 between rates above 1e-4 of the peak (four decades below the
    peak are shown on a log axis; below that a rate no longer matters). One
    that never settles but decays is shown until its rate is below 1 % of its
    peak; one that cycles, over the shortest range. Never fewer than
    :data:`_SCHED_STEPS` steps.
    """
    import numpy as np

    rates = np.abs(np.asarray(rates, dtype=np.float64))
    peak = float(np.max(rates)) if rates.size else 0.0
    if not np.all(np.isfinite(rates)) or peak == 0.0:
        return _SCHED_STEPS
    larger = np.maximum(rates[:-1], rates[1:])
    changes = np.flatnonzero((np.abs(np.diff(rates)) > 1e-6 * larger) & (larger > 1e-4 * peak))
    if changes.size == 0:
        return _SCHED_STEPS
    last = int(changes[-1]) + 1
    if last < 0.8 * (rates.size - 1):  # settled well before the end
        return max(_SCHED_STEPS, _nice_ceiling(1.25 * last))
    after_peak = int(np.argmax(rates))
    low = np.flatnonzero(rates[after_peak:] < 0.01 * peak)
    if low.size:
        return max(_SCHED_STEPS, _nice_ceiling(after_peak + int(low[0]) + 1))
    return _SCHED_STEPS


def _schedule_rates(sched: Any) -> tuple[Any, Any, Any]:
    """Rates for base rate 1 over the range that shows the schedule (:func:`_schedule_horizon`);
    a stateful schedule is shown 120 steps of a metric that plateaus."""
    import numpy as np

    if not getattr(sched, "stateful", False):
        rates = np.array([sched(t, 1.0) for t in range(_SCHED_MAX_STEPS + 1)], dtype=np.float64)
        steps = np.arange(_schedule_horizon(rates))
        return steps, rates[:steps.size], None
    steps = np.arange(_SCHED_STEPS)
    monitor = getattr(sched, "monitor", "val_loss")
    metric = np.where(steps < 40, 1.0 / (1.0 + steps / 5.0), 1.0 / (1.0 + 39 / 5.0))
    if getattr(sched, "mode", "min") == "max":
        metric = 1.0 - metric
    rates = []
    for t in steps:
        rates.append(sched(int(t), 1.0))
        sched.observe(int(t), {monitor: float(metric[t])})
    return steps, np.array(rates), (monitor, metric)


_UNIT_PLURALS = {"epoch": "epochs", "batch": "batches"}


def plot_schedule(entry: Any, path: pathlib.Path, dpi: int) -> str:
    """η(t)/η₀ over the steps that show the whole schedule (at least 120)."""
    sched = _build(entry)
    steps, rates, observed = _schedule_rates(sched)
    fig, ax = _figure()
    ax.step(steps, rates, where="post", label=r"$\eta(t)/\eta_0$")
    positive = rates[rates > 0]
    if rates.min() > 0 and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    unit = str(getattr(sched, "unit", "epoch"))
    ax.set_xlabel(f"step t ({_UNIT_PLURALS.get(unit, unit)})", fontsize=10)
    ax.set_ylabel(r"rate / base rate, $\eta(t)/\eta_0$", fontsize=10)
    caption = (f"The rate :math:`\\eta(t)` for :math:`\\eta_0 = 1` over {steps.size:,} steps")
    if observed is not None:
        monitor, metric = observed
        ax2 = ax.twinx()
        ax2.plot(steps, metric, color="C2", linewidth=1.0, label=monitor)
        ax2.set_ylabel(monitor, fontsize=10, color="C2")
        ax2.tick_params(labelsize=9)
        ax2.spines["top"].set_visible(False)
        ax2.legend(fontsize=9, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
        caption += (f", while ``{monitor}`` (green, right axis) improves for 40 epochs and then stops "
                    f"improving")
    elif steps.size > _SCHED_STEPS:
        caption += " (the range it takes to settle, or to fall below 1 % of its peak)"
    config = dict(entry.registration.spec_config or {})
    if config:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in config.items())
        caption += f"; built with ``{shown}``"
    _style(ax)
    _save(fig, path, dpi, right=0.9 if observed is not None else 0.97)
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
    fig, _ = _figure(8.0, 3.2)
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    g1, g2 = np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-1.5, 1.5, 81))
    ax1.contour(g1, g2, 0.5 * (c[0] * g1**2 + c[1] * g2**2), levels=12, linewidths=0.5, colors="0.6")
    ax1.plot(pts[:, 0], pts[:, 1], ".-", markersize=2.5, linewidth=0.8, color="C0")
    ax1.plot([0], [0], "*", color="C1", markersize=6)
    ax1.set_xlabel(r"$\theta_1$", fontsize=10)
    ax1.set_ylabel(r"$\theta_2$", fontsize=10)
    ax2.semilogy(np.maximum(values, 1e-300))
    ax2.set_xlabel("step t", fontsize=10)
    ax2.set_ylabel(r"objective $f(\theta_t)$", fontsize=10)
    for ax in (ax1, ax2):
        _style(ax)
    _save(fig, path, dpi, left=0.08, right=0.98, wspace=0.35)
    return (f"{_OPT_STEPS} steps with :math:`\\eta = {_OPT_LR}` and the default parameters on "
            f":math:`f(\\theta) = \\tfrac12(\\theta_1^2 + 10\\,\\theta_2^2)` from "
            f":math:`\\theta_0 = ({_OPT_START[0]:g}, {_OPT_START[1]:g})`: the path (left) and "
            f":math:`f(\\theta_t)` (right, log scale).")


PLOTTERS = {"activation": plot_activation, "initializer": plot_initializer, "loss": plot_loss,
            "schedule": plot_schedule, "optimizer": plot_optimizer}
