"""The training loop: one :func:`~neuroplug.fit` call as a :class:`_Run`, its epochs and its steps.

Every component (loss, optimizer, schedule) is resolved *once*, before the
loop; the loop itself makes no registry look-ups and no hook calls. Mini-batches
are gathered into preallocated buffers, and the forward and backward passes write
into per-layer buffers (see :class:`~neuroplug.Sequential`).

The learning rate :math:`\\eta_t` comes from the schedule and the update is the
optimizer's; with plain SGD one step moves every weight by
:math:`-\\eta_t \\, \\partial L/\\partial w`, the rate folded into the output
gradient (``(p - y) \\cdot \\eta_t / N`` for softmax and cross-entropy), so that the
matrix products give the scaled gradients and the update is one subtraction over
the parameters' buffer (the gradient arrays then hold the scaled gradients). How
the loop stops early -- a divergence, a run blowing up (``max_growth``), Ctrl-C --
is here too; the diagnosis of a divergence is in :mod:`.divergence`.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import numpy as np

from ..errors import ComponentError, ConfigError, InputError, NeuroplugError, NonFiniteError, ShapeError
from ..model.network import Sequential
from ..registry import component_label as _component_label
from .boundary import _check_loss_value, _lr, check_component_outputs, components_named
from .callbacks import Callback, History, TrainingState
from .divergence import _all_finite, _rms, find_bad_output, stop_diverged
from .interrupt import CatchSigint, stop_interrupted

def _is_classification(y: np.ndarray, net: Sequential) -> bool:
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and (
        net.output_dim > 1 or net.layers[-1].activation.link == "sigmoid")


def _accuracy(out: np.ndarray, labels: np.ndarray) -> float:
    pred = (out[:, 0] > 0.5) if out.shape[1] == 1 else np.argmax(out, axis=1)
    return float(np.mean(pred == labels))


_UNSET = object()
#: The most learning rates tabulated before training (beyond, they are computed per step).
_MAX_LR_TABLE = 1_000_000


def _data_fingerprint(*arrays: np.ndarray | None) -> str:
    """A short hash of the arrays' dtypes, shapes and bytes (to refuse resuming on other data)."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.view(np.uint8).reshape(-1) if a.size else b"")
    return h.hexdigest()


def _describe_or_class(component: Any) -> dict[str, Any] | None:
    """``describe(component)``, or its class name for components that cannot be saved by name."""
    from ..registry import describe

    if not getattr(component, "serializable", True):
        return None
    try:
        return describe(component)
    except ConfigError:
        cls = type(component)
        return {"kind": component.kind, "class": f"{cls.__module__}.{cls.__qualname__}"}


#: The most epochs ``fit`` accepts (what a checkpoint can record).
_MAX_EPOCHS = 1 << 62
#: ``fit``'s default ``max_growth``: the factor by which the weights' RMS may grow in one epoch.
DEFAULT_MAX_GROWTH = 1e4


def _shared_base(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The one buffer that holds exactly ``arrays`` back to back, if there is one."""
    base = arrays[0].base if arrays else None
    if base is None or not all(a.base is base for a in arrays) or base.ndim != 1 \
            or base.size != sum(a.size for a in arrays):
        return None
    return base


def _prepared(loss_fn: Any, Y: Any, n: int) -> np.ndarray:
    """What a loss's ``prepare_targets`` returned, if it is an array with one row per sample; else a ComponentError."""
    if isinstance(Y, np.ndarray) and Y.ndim >= 1 and Y.shape[0] == n and Y.dtype.kind in "biuf":
        return Y
    from ..errors import ComponentError
    from ..validation import shown

    raise ComponentError(f"{_component_label(loss_fn)}: prepare_targets returned {shown(Y)}; expected a real "
                         f"numpy array with one row per sample ({n})")


class _Run:
    """One call of :func:`fit`: every component and buffer resolved once, and the counters.

    The batches of an epoch run in :meth:`_steps`, whose loop holds only local
    names. The state between two steps -- weights, optimizer and schedule state,
    RNG, the epoch's sample order, counters, history, callback states -- is what
    a :class:`~neuroplug.training.checkpoint.Checkpoint` captures, so a run can be stopped
    after any step and continued bit-identically.
    """

    def __init__(self, network: Sequential, X: np.ndarray, y: np.ndarray, loss_fn: Any, opt: Any, sched: Any,
                 lr: float, epochs: int, batch_size: int, shuffle: bool, seed: Any,
                 val: tuple[np.ndarray, np.ndarray] | None, callbacks: list[Callback], progress: bool,
                 policy: Any, max_growth: float | None = None) -> None:
        self.network, self.loss_fn, self.opt, self.sched = network, loss_fn, opt, sched
        self.base_lr, self.epochs, self.batch_size, self.shuffle = lr, epochs, batch_size, shuffle
        self.callbacks, self.progress, self.policy = callbacks, progress, policy
        self.max_growth = max_growth
        self.growth_limit: float | None = None
        dtype = network.dtype
        self.n = n = X.shape[0]
        self.classify = _is_classification(y, network)
        self.labels = y
        Y = _prepared(loss_fn, loss_fn.prepare_targets(y, network.output_dim, dtype), y.shape[0])
        # the loss must reduce a batch to one number (one with reduction="none" cannot drive fit):
        # asked once, on uniform outputs for the first sample
        k = network.output_dim
        with np.errstate(all="ignore"):
            probe = loss_fn.forward(np.full((1, k), 1.0 / k if k > 1 else 0.5, dtype=dtype),
                                    np.take(Y, [0], axis=0))
        if np.ndim(probe) != 0 and getattr(loss_fn, "reduction", None) == "none":
            raise ConfigError(f"fit needs a loss that reduces a batch to one number; the "
                              f"{_component_label(loss_fn)} returns an array of shape {np.shape(probe)} "
                              f"(a reduction='none' configuration?)")
        _check_loss_value(loss_fn, probe)
        Xt = np.ascontiguousarray(X, dtype=dtype)
        self.val = None
        if val is not None:
            Xv, yv = val
            try:
                Yv = _prepared(loss_fn, loss_fn.prepare_targets(yv, network.output_dim, dtype), yv.shape[0])
            except (InputError, ShapeError) as exc:
                raise type(exc)(f"validation {exc}") from None
            self.val = (np.ascontiguousarray(Xv, dtype=dtype), yv, Yv)
        last = network.layers[-1].activation
        self.fused = last.link is not None and getattr(loss_fn, "link", None) == last.link
        # every component's output is checked once, on the first samples, before any weight changes
        check_component_outputs(network, loss_fn, Xt, Y, self.fused)
        self.params = network.parameters()
        self.grads = network.gradients()
        self.grad_flat = _shared_base(self.grads)
        self.batch_unit = getattr(sched, "unit", "epoch") == "batch"
        self.steps_per_epoch = -(-n // batch_size)
        # A stateless schedule is tabulated now: a rate that is NaN or negative is then an
        # error before any weight or optimizer state changes, and a step reads its rate from a list.
        self.lr_table: list[float] | None = None
        count = epochs * self.steps_per_epoch if self.batch_unit else epochs
        if not getattr(sched, "stateful", False) and count <= _MAX_LR_TABLE:
            self.lr_table = [_lr(sched, t, lr, t if not self.batch_unit else t // self.steps_per_epoch,
                                 t if self.batch_unit else t * self.steps_per_epoch) for t in range(count)]
        opt.setup(self.params)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(n)
        # Everything the step needs is resolved here, once: per batch size (full batches
        # and the possibly smaller last one) a training plan, whose input buffer receives
        # the batch, and a target buffer; the bound methods of the components.
        sizes = {batch_size, n - (self.steps_per_epoch - 1) * batch_size}
        self.plans = {s: network._train_plan(s) for s in sizes}
        self.ybuf = {s: np.empty((s,) + Y.shape[1:], dtype=Y.dtype) for s in sizes}
        # The loss and its fused gradient as prebound numpy calls, when the loss offers them
        # (the built-in cross-entropy on one-hot targets): per batch size, or None for all
        loss_ops = getattr(loss_fn, "_train_ops", None) if self.fused else None
        self.loss_ops: dict[int, Any] | None = None
        if loss_ops is not None:
            found = {s: loss_ops(Y, self.plans[s].out, self.ybuf[s], self.plans[s].delta,
                                 np.empty_like(self.plans[s].out)) for s in sizes}
            if all(v is not None for v in found.values()):
                self.loss_ops = found
        # An optimizer that can take the learning rate folded into the output gradient (plain
        # SGD: one subtraction over the parameters' buffer).
        train_update = getattr(opt, "_train_update", None)
        folded = train_update(self.params, self.grads) if train_update is not None else None
        self.folded_update, self.folded_advance = folded if folded is not None else (None, None)
        self.lr_limit = float(getattr(opt, "_lr_limit", math.inf))
        # The gradients are checked at every step, before the update, unless the whole step
        # is prebound numpy calls (the activations', the loss's and the update's own): a
        # component's method may turn non-finite at one call and not at another, so only a
        # step of plain numpy calls is sure to do again what it did. Then a non-finite
        # gradient, applied, shows as a non-finite loss at the next step, or non-finite
        # weights at the next checkpoint, Ctrl-C or the epoch's end, and the re-play from the
        # epoch's start, which checks every step, stops before it, as the check would have.
        self.check_each_step = not (self.loss_ops is not None and self.folded_update is not None
                                    and all(plan.prebound for plan in self.plans.values()))
        self.Xt, self.Y = Xt, Y
        # the methods themselves, without np.take's Python wrapper
        self.x_take = Xt.take
        self.y_take = Y.take if isinstance(Y, np.ndarray) else functools.partial(np.take, Y)
        # predicted classes of the epoch, compared with the labels once per epoch
        self.pred = np.empty(n, dtype=np.intp) if self.classify else None
        # counters: the epoch in progress, the batches of it done, the optimizer steps done
        self.epoch = self.batch = self.step = 0
        self.shuffled = False
        self.total = 0.0
        self.lr_now = lr
        self.finished = False
        self.history = History()
        self.state = TrainingState(network=network, history=self.history, epochs=epochs)
        self.flag = [False]
        self.every = policy.every if policy is not None and isinstance(policy.every, int) else 0
        self.fit_config: dict[str, Any] | None = None
        self.network_config: Any = _UNSET
        self.restored: Any = None
        self.best: float | None = None
        self.bar: Any = None

    # ------------------------------------------------------------------ configuration
    def config(self) -> dict[str, Any]:
        """What a checkpoint records of the arguments, to refuse resuming a different run."""
        if self.fit_config is None:
            seed = self.seed
            self.fit_config = {
                "loss": _describe_or_class(self.loss_fn),
                "optimizer": _describe_or_class(self.opt),
                "schedule": _describe_or_class(self.sched),
                "lr": self.base_lr, "epochs": self.epochs, "batch_size": self.batch_size,
                "shuffle": self.shuffle,
                "seed": int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None,
                "samples": self.n,
                "data": _data_fingerprint(self.Xt, self.labels),
                "validation": None if self.val is None else _data_fingerprint(self.val[0], self.val[1]),
                "callbacks": [type(cb).__name__ for cb in self.callbacks],
            }
        return self.fit_config

    # ------------------------------------------------------------------ checkpoints
    def capture(self) -> Any:
        """The training state now (between two steps) as a Checkpoint."""
        from .checkpoint import Checkpoint

        if self.network_config is _UNSET:  # the architecture does not change: described once
            try:
                self.network_config = self.network.get_config()
            except ConfigError:
                self.network_config = None
        return Checkpoint(
            network_config=copy.deepcopy(self.network_config), weights=self.network.get_weights(),
            fit_config=dict(self.config()), epoch=self.epoch, batch=self.batch, step=self.step,
            shuffled=self.shuffled, lr=self.lr_now, epoch_loss=self.total, stopped=self.state.stop,
            rng_state=copy.deepcopy(self.rng.bit_generator.state), order=self.order.copy(),
            pred=self._done_predictions() if self.pred is not None and self.batch else None,
            optimizer_state=copy.deepcopy(self.opt.get_state()), schedule_state=copy.deepcopy(self.sched.get_state()),
            callback_states=[{"type": type(cb).__name__, "state": copy.deepcopy(cb.get_state())}
                             for cb in self.callbacks],
            history={k: list(v) for k, v in self.history.history.items()}, history_epochs=list(self.history.epoch),
            best=self.best)

    def _done_predictions(self) -> np.ndarray:
        """The epoch's predicted classes so far; 0 for the batches not done (not uninitialized memory)."""
        pred = self.pred.copy()
        pred[self.batch * self.batch_size:] = 0
        return pred

    def _write(self, path: str) -> None:
        self.capture().save(path)

    def _blown(self) -> str | None:
        """What no checkpoint may hold: ``"weights"`` when a weight is non-finite, ``"growth"``
        when the weights' RMS is past ``max_growth``'s limit; None for a sound state."""
        if not _all_finite(self.params):
            return "weights"
        if self.growth_limit is not None and _rms(self.params) > self.growth_limit:
            return "growth"
        return None

    def _checkpoint_now(self) -> str | None:
        """Write the periodic checkpoint; or (nothing written) why not (:meth:`_blown`)."""
        reason = self._blown()
        if reason is None:
            self._write(self.policy.path)
            self.sound_batch = self.batch
        return reason

    def restore(self, ckpt: Any) -> None:
        """Continue from ``ckpt``: the whole checkpoint is checked first (nothing changes when
        it does not fit), then the state is applied; the callbacks' states in :meth:`train`."""
        from .checkpoint import prepare_resume, resume_error

        self.callback_states = prepare_resume(ckpt, self)
        self._before_resume = (self.network.get_weights(), copy.deepcopy(self.opt.get_state()),
                               copy.deepcopy(self.sched.get_state()), copy.deepcopy(self.rng.bit_generator.state))
        try:  # tried on copies already; a component that cannot be copied is tried here
            self.opt.set_state(copy.deepcopy(ckpt.optimizer_state))
            self.sched.set_state(copy.deepcopy(ckpt.schedule_state))
            self.rng.bit_generator.state = copy.deepcopy(ckpt.rng_state)
        except Exception as exc:
            self._roll_back()
            raise resume_error(ckpt, f"the optimizer or schedule state does not fit the components given to "
                                     f"fit: {type(exc).__name__}: {exc}") from None
        self.network.set_weights(ckpt.weights)
        self.order[...] = ckpt.order
        if ckpt.pred is not None and self.pred is not None:
            self.pred[...] = ckpt.pred
        self.epoch, self.batch, self.step, self.shuffled = ckpt.epoch, ckpt.batch, ckpt.step, ckpt.shuffled
        self.lr_now, self.total, self.best = ckpt.lr, ckpt.epoch_loss, ckpt.best
        self.state.stop = ckpt.stopped
        self.finished = ckpt.stopped or self.epoch >= self.epochs
        for epoch_index in ckpt.history_epochs:
            self.history.epoch.append(epoch_index)
        for key, values in ckpt.history.items():
            self.history.history[key] = list(values)
        self.restored = ckpt

    def _roll_back(self) -> None:
        """Undo :meth:`restore`: the state before it, for a resume that failed half-way."""
        weights, opt_state, sched_state, rng_state = self._before_resume
        self.network.set_weights(weights)
        self.opt.set_state(opt_state)
        self.sched.set_state(sched_state)
        self.rng.bit_generator.state = rng_state

    def _restore_callbacks(self) -> None:
        """Give each callback its saved state; if one refuses, put every callback and :meth:`restore` back."""
        from .checkpoint import resume_error

        done: list[tuple[Callback, Any]] = []
        for i, (cb, saved) in enumerate(zip(self.callbacks, self.callback_states)):
            if saved is None:
                continue
            before = cb.get_state()
            try:
                cb.set_state(copy.deepcopy(saved))
            except Exception as exc:
                for other, state in reversed(done + [(cb, before)]):
                    try:
                        other.set_state(state)
                    except Exception:  # noqa: BLE001 - its own state, as good as it gets
                        pass
                self._roll_back()
                raise resume_error(self.restored, f"the state of callbacks[{i}] ({type(cb).__name__}) does not "
                                                  f"fit: {type(exc).__name__}: {exc}") from None
            done.append((cb, before))

    # ------------------------------------------------------------------ base state (for recovery)
    def _mark_base(self) -> None:
        self._base = (self.network.get_weights(), copy.deepcopy(self.opt.get_state()),
                      self.batch, self.step, self.total, self.lr_now)
        # the last batch after which the state was checked sound (within max_growth's limit and
        # written): a blow-up is looked for after it, so that no checkpoint on disk is past it
        self.sound_batch = self.batch
        # the RMS of the weights the epoch may not exceed (max_growth): checked at its end
        self.growth_limit = (None if self.max_growth is None
                             else self.max_growth * max(_rms(self._base[0]), 1.0))

    def _restore_base(self) -> None:
        weights, opt_state, self.batch, self.step, self.total, self.lr_now = self._base
        self.network.set_weights(weights)
        self.opt.set_state(copy.deepcopy(opt_state))

    def _base_label(self) -> str:
        base_batch = self._base[2]
        return (f"the start of epoch {self.epoch}" if base_batch == 0
                else f"the resume point (epoch {self.epoch}, batch {base_batch})")

    # ------------------------------------------------------------------ the loop
    def train(self) -> History:
        """Run the epochs; see :func:`fit`."""
        callbacks, state = self.callbacks, self.state
        for cb in callbacks:
            cb.on_train_begin(state)
        if self.restored is not None:  # each callback gets the state of the first saved one of its class
            self._restore_callbacks()
        if self.progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs * self.steps_per_epoch, initial=min(self.step, self.epochs *
                            self.steps_per_epoch), unit="batch", dynamic_ncols=True, leave=True)
        self.restored_to = ""
        try:
            # numpy's overflow warnings are not the report: every non-finite value is
            # detected and raised as a DivergenceError naming where it came from
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), CatchSigint(self.flag), \
                    components_named(lambda: f"during training (epoch {self.epoch}, step {self.step})",
                                      lambda: self.restored_to):
                while not self.finished and self.epoch < self.epochs:
                    if not self.shuffled:
                        self._begin_epoch()
                    self._mark_base()
                    self._run_batches()
                    self._end_epoch()
                    if self.flag[0] and not self.finished:
                        stop_interrupted(self)
        finally:
            if self.bar is not None:
                self.bar.close()
        if self.policy is not None and self.policy.every is not None:
            self._write(self.policy.path)
        for cb in callbacks:
            cb.on_train_end(state)
        return self.history

    def _begin_epoch(self) -> None:
        self.state.epoch = self.epoch
        for cb in self.callbacks:
            cb.on_epoch_begin(self.state)
        if self.shuffle:
            self.rng.shuffle(self.order)
        self.shuffled = True
        self.total = 0.0
        if not self.batch_unit:
            self.lr_now = (self.lr_table[self.epoch] if self.lr_table is not None
                           else _lr(self.sched, self.epoch, self.base_lr, self.epoch, self.step))

    def _run_batches(self) -> None:
        flag = self.flag
        try:
            reason = self._steps()
        except KeyboardInterrupt:
            if flag[0]:  # a second Ctrl-C: stop at once; the last checkpoint on disk is intact
                raise
            # a KeyboardInterrupt not announced by our handler (another SIGINT handler):
            # the step it cut short is redone from the epoch's start, then it is a clean stop;
            # a weight made non-finite before it stops the re-play early and is the report
            stop = self.batch
            self._restore_base()
            reason = self._steps(stop=stop, replay=True, growth=False) or "interrupt"
            if reason == "weights":  # stop_diverged redoes the re-play up to `stop` to find the step
                self.batch = stop
        except Exception as exc:
            step = self.step
            # an error that is not neuroplug's own may come from a component's garbage (a numpy
            # error on a string, a wrong shape): the batch is redone, checked, to name it
            bad = None
            if not isinstance(exc, NeuroplugError):
                try:
                    bad = find_bad_output(self, self.batch)
                except Exception:  # noqa: BLE001 - the component raised again: the first error is the report
                    bad = None
            self._restore_base()
            self.step = step  # the message names the step that failed
            self.restored_to = f"; the weights were restored to {self._base_label()}"
            if bad is not None:
                raise ComponentError(f"{bad}{self.restored_to}") from exc
            raise
        if reason == "interrupt":
            stop_interrupted(self)
        elif reason is not None:
            stop_diverged(self, reason)

    def _steps(self, stop: int | None = None, replay: bool = False, growth: bool = True) -> str | None:
        """Run the batches ``self.batch .. stop - 1`` of the epoch (default: to its end).

        Returns None, or why it stopped early: ``"loss"`` or ``"gradient"`` (non-finite,
        at batch ``self.batch``, which was not applied), ``"weights"`` (the update of
        batch ``self.batch`` made a weight non-finite), ``"growth"`` (it took the weights'
        RMS past ``max_growth``'s limit; only with ``growth``) -- those two are only checked
        when ``replay``, and the counters are then one update behind the weights -- or
        ``"interrupt"`` (Ctrl-C). Otherwise the counters describe the completed batches.
        """
        bs, epoch, base_lr = self.batch_size, self.epoch, self.base_lr
        order, plans, ybuf, x_take, y_take = self.order, self.plans, self.ybuf, self.x_take, self.y_take
        loss_forward, opt_step = self.loss_fn.forward, self.opt.step
        fused_gradient, loss_gradient = ((self.loss_fn.fused_gradient, None) if self.fused
                                         else (None, self.loss_fn.gradient))
        loss_ops = self.loss_ops or {}
        # per batch size, everything a step uses; the loss's calls (when it offers them) run
        # right after the forward pass, in one loop, the fused gradient's before its check
        data = {m: (plan.x, ybuf[m], plan.forward_ops + (loss_ops[m][0] + loss_ops[m][3] if m in loss_ops else ()),
                    loss_ops[m][1] if m in loss_ops else None, loss_ops[m][2] if m in loss_ops else 1.0,
                    loss_ops[m][4] if m in loss_ops else 1.0, plan.out, plan.delta, plan.backward_ops, plan)
                for m, plan in plans.items()}
        folded_update, folded_advance, lr_limit = self.folded_update, self.folded_advance, self.lr_limit
        folded = 0  # folded updates not yet counted by the optimizer (folded_advance)
        params, grads, gflat = self.params, self.grads, self.grad_flat
        sched, batch_unit, table = self.sched, self.batch_unit, self.lr_table
        pred, single_output = self.pred, self.network.output_dim == 1
        every = 0 if replay else self.every
        check_gradients = replay or self.check_each_step
        growth_limit = self.growth_limit if replay and growth else None
        flag = self.flag
        bar = None if replay else self.bar
        greater, isfinite, multiply, ndarray = np.greater, math.isfinite, np.multiply, np.ndarray
        gdot = gflat.dot if gflat is not None else None  # the method: no dispatch of np.dot
        step, total, lr_now, b = self.step, self.total, self.lr_now, self.batch
        last = self.steps_per_epoch if stop is None else stop
        # plain SGD takes the rate folded into the output gradient (not a rate of 0: the
        # gradients, unscaled, are then checked as they are); decided again when the rate changes
        fold = folded_update is not None and 0.0 < lr_now <= lr_limit
        reason = None
        try:
            while b < last:
                start = b * bs
                idx = order[start:start + bs]
                m = idx.shape[0]
                x, yb, front_ops, value, divisor, scale, out, delta, backward_ops, plan = data[m]
                x_take(idx, 0, x, "clip")
                y_take(idx, 0, yb, "clip")
                if batch_unit:
                    lr_now = table[step] if table is not None else _lr(sched, step, base_lr, epoch, step)
                    fold = folded_update is not None and 0.0 < lr_now <= lr_limit
                for op in front_ops:  # the forward pass (and the loss's calls)
                    op()
                if value is not None:  # the loss and its fused gradient ran as numpy calls
                    batch_loss = float(value) / divisor
                else:
                    batch_loss = float(loss_forward(out, yb))
                if not isfinite(batch_loss):
                    reason = "loss"
                    break
                if pred is not None:
                    if single_output:
                        greater(out[:, 0], 0.5, out=pred[start:start + m])
                    else:
                        out.argmax(1, pred[start:start + m])
                if value is not None:
                    multiply(delta, scale * lr_now if fold else scale, delta)
                else:
                    g = (fused_gradient(out, yb) if fused_gradient is not None  # the chain rule otherwise
                         else plan.last_backward(plan.z_last, out, loss_gradient(out, yb)))
                    if g is not delta:
                        if type(g) is not ndarray or g.shape != delta.shape or g.dtype.kind not in "fiu":
                            raise TypeError("not a real array of the output's shape")  # named by find_bad_output
                        if not fold:
                            delta[...] = g
                    if fold:
                        multiply(g, lr_now, delta)
                for op in backward_ops:
                    op()
                # g.g is finite exactly when every gradient is, unless it overflows: then look closer
                if check_gradients and (gdot is None or not isfinite(gdot(gflat))):
                    if not _all_finite(grads):
                        reason = "gradient"
                        break
                if fold:
                    folded_update()
                    folded += 1
                else:
                    opt_step(params, grads, lr_now)
                if replay:  # re-playing to find a culprit: each update is checked
                    if not _all_finite(params):
                        reason = "weights"
                        break
                    if growth_limit is not None and _rms(params) > growth_limit:
                        reason = "growth"
                        break
                total += batch_loss * m
                step += 1
                b += 1
                if bar is not None:
                    bar.update(1)
                if every and not step % every:
                    self.batch, self.step, self.total, self.lr_now = b, step, total, lr_now
                    if folded:
                        folded_advance(folded)
                        folded = 0
                    reason = self._checkpoint_now()
                    if reason is not None:
                        break
                if flag[0]:  # (an unchecked non-finite gradient applied is found before it is saved)
                    reason = "interrupt" if check_gradients or _all_finite(params) else "weights"
                    break
        except NonFiniteError as exc:  # a component that checks its own overflow (the built-in losses)
            reason, self.raised = "raised", exc
        finally:
            self.batch, self.step, self.total, self.lr_now = b, step, total, lr_now
            if folded:
                folded_advance(folded)
        return reason

    def _end_epoch(self) -> None:
        network, state = self.network, self.state
        blown = self._blown()  # before any callback, metric or checkpoint sees the state
        if blown is not None:
            stop_diverged(self, blown)
        n = self.n
        logs = {"loss": self.total / n, "lr": self.lr_now}
        if self.classify:
            logs["accuracy"] = int(np.count_nonzero(self.pred == self.labels[self.order])) / n
        if self.val is not None:
            out = network.predict(self.val[0])
            logs["val_loss"] = _check_loss_value(self.loss_fn, self.loss_fn.forward(out, self.val[2]),
                                                 f"(on the validation data, after epoch {self.epoch})")
            if self.classify:
                logs["val_accuracy"] = _accuracy(out, self.val[1])
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
        state.epoch = self.epoch
        self.history._append(self.epoch, logs)
        state.logs = logs
        self.sched.observe(self.epoch, logs)
        for cb in self.callbacks:
            cb.on_epoch_end(state)
        self.epoch += 1
        self.batch = 0
        self.shuffled = False
        self.total = 0.0
        self.finished = state.stop or self.epoch >= self.epochs
        policy = self.policy
        if policy is None:
            return
        if policy.keep_best is not None:
            if policy.keep_best not in logs:
                raise ConfigError(f"Checkpointing keep_best={policy.keep_best!r} is not among the logged "
                                  f"metrics {sorted(logs)} (validation metrics need validation_data)")
            value = logs[policy.keep_best] * policy.sign()
            if math.isfinite(value) and (self.best is None or value < self.best):
                self.best = value
                self._write(policy.best_path)
        if policy.every == "epoch" and not self.finished:
            self._write(policy.path)
