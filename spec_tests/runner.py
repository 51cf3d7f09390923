"""Running checks: choosing subjects, applying expected failures, collecting results."""

from __future__ import annotations

import importlib
import math
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .framework import KINDS, NotApplicable, SpecFailure, Subject, all_checks, get_check

__all__ = ["CheckResult", "SpecReport", "run_check", "check_component", "subjects_for", "run_spec",
           "STATUSES", "declaration_problems", "DEFAULT_TIMEOUT", "resolve_timeout", "load_checks"]


def load_checks() -> None:
    """Register the built-in checks (import :mod:`neuroplug.spec.checks`, once): the runner's job, not the framework's."""
    importlib.import_module(f"{__package__}.checks")


#: Outcome of one check. "xfail": failed as declared; "xpass": declared to fail but passed.
STATUSES = ("passed", "failed", "skipped", "xfailed", "xpassed")


@dataclass
class CheckResult:
    """The outcome of one check on one component."""

    check_id: str
    component: str
    kind: str
    status: str
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the check failed or unexpectedly passed."""
        return self.status not in ("failed", "xpassed")


@dataclass
class SpecReport:
    """Results of a spec run, grouped by component."""

    results: list[CheckResult] = field(default_factory=list)
    #: The components checked, as ``{(kind, name): info}``; names are unique per kind only
    #: (``constant`` is both a schedule and an initializer).
    components: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every applicable check passed (or failed as declared)."""
        return all(r.ok for r in self.results)

    def counts(self) -> dict[str, int]:
        """How many results have each status."""
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] += 1
        return out

    def failures(self) -> list[CheckResult]:
        """Results that make the run fail."""
        return [r for r in self.results if not r.ok]

    def by_component(self) -> dict[tuple[str, str], list[CheckResult]]:
        """Results grouped by ``(kind, component name)``, in run order."""
        out: dict[tuple[str, str], list[CheckResult]] = {}
        for r in self.results:
            out.setdefault((r.kind, r.component), []).append(r)
        return out


#: The time limit of one check on one component, in seconds, unless ``timeout=`` (or
#: ``neuroplug spec --timeout``, or the environment variable ``NEUROPLUG_SPEC_TIMEOUT``)
#: says otherwise; 0 turns it off. Our slowest check takes about 0.2 s (about 1 s with
#: ``--thorough``), so a minute means a component that loops or waits, not a slow
#: machine or a plugin whose components are a hundred times slower than ours.
DEFAULT_TIMEOUT = 60.0
_TIMEOUT_ENV = "NEUROPLUG_SPEC_TIMEOUT"


def resolve_timeout(timeout: Any = None) -> float:
    """The per-check time limit in seconds (0: none) from ``timeout``, else the environment, else the default.

    ``None`` means: the environment variable ``NEUROPLUG_SPEC_TIMEOUT`` if it is set
    (and not blank), else :data:`DEFAULT_TIMEOUT`. ``0`` and ``inf`` turn the limit off.

    Raises InputError (a ValueError) naming the value and where it came from unless it is a number >= 0.
    """
    source, shown = "timeout", timeout
    if timeout is None:
        text = os.environ.get(_TIMEOUT_ENV, "").strip()
        if not text:
            return DEFAULT_TIMEOUT
        source, shown, timeout = _TIMEOUT_ENV, text, text
        try:
            timeout = float(text)
        except ValueError:
            pass
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout) or timeout < 0:
        from neuroplug.errors import InputError

        raise InputError(f"{source} must be a number of seconds >= 0 (0 turns the time limit off), "
                         f"got {shown!r}")
    return 0.0 if math.isinf(timeout) else float(timeout)


class _TimeLimit(BaseException):
    """Raised in a check that outlived its time limit.

    A BaseException, so neither a check's nor a component's ``except Exception``
    (nor hypothesis, which catches ``Exception``) can take it for a failure of the
    component and report something else. ``token`` says whose limit it was, so
    nested limits each catch only their own.
    """

    def __init__(self, token: object) -> None:
        super().__init__("time limit")
        self.token = token


#: What :func:`_call_with_time_limit` returns when the call outlived its limit.
_TIMED_OUT = object()


def _call_with_time_limit(seconds: float, fn: Any, *args: Any) -> Any:
    """``fn(*args)``, or :data:`_TIMED_OUT` when it did not return within ``seconds`` (0: no limit).

    In the main thread of a POSIX process an ``ITIMER_REAL`` timer and a ``SIGALRM``
    handler interrupt the call wherever the interpreter is (a pure-Python loop,
    ``time.sleep``; a single long C call such as one numpy operation finishes
    first). Elsewhere (another thread, no ``SIGALRM``, or a ``SIGALRM`` handler
    installed outside Python, which could not be put back) the call runs in a
    daemon thread that is *abandoned* when it outlives the limit: it keeps running
    in the background until it returns or the process exits.

    Exceptions of ``fn`` (KeyboardInterrupt included) propagate unchanged.
    """
    if not seconds:
        return fn(*args)
    if (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) is not None):
        return _with_alarm(seconds, fn, args)
    return _in_thread(seconds, fn, args)


def _with_alarm(seconds: float, fn: Any, args: tuple[Any, ...]) -> Any:
    """The ``SIGALRM`` way of :func:`_call_with_time_limit`; leaves the handler and the timer as it found them.

    An outer ``ITIMER_REAL`` timer (pytest-timeout's signal method, an enclosing
    limit of ours, a program's watchdog) keeps its deadline and its period: the
    timer is armed for whichever comes first, and at the outer timer's moment the
    previous handler runs as it would have without us. Once the limit has passed,
    the call is interrupted again every ``min(seconds, 1)`` s until it is over, in
    case a bare ``except:`` in the component swallowed the first interruption (and
    the call is reported as timed out even if it then returns).
    """
    token = object()
    here = sys._getframe()  # this function's own frame: never interrupted (its bookkeeping must finish)
    previous = signal.getsignal(signal.SIGALRM)
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    repeat = min(seconds, 1.0)
    started = time.monotonic()
    state: dict[str, Any] = {"active": True, "outer_at": started + outer_delay if outer_delay else None,
                             "deadline": started + seconds, "armed_for": None, "fired": False}

    def arm(now: float) -> None:
        outer_at, deadline = state["outer_at"], state["deadline"]
        state["armed_for"] = "outer" if outer_at is not None and outer_at < deadline else "ours"
        due = outer_at if state["armed_for"] == "outer" else deadline
        signal.setitimer(signal.ITIMER_REAL, max(due - now, 1e-6))

    def alarm(signum: int, frame: Any) -> None:
        if not state["active"]:  # the call is over; the finally blocks below hand the timer back
            return
        now = time.monotonic()
        if state["armed_for"] == "ours":
            state["fired"] = True
            state["deadline"] = now + repeat  # again in ``repeat`` s, should this one be swallowed
            arm(now)
            if frame is not here:
                raise _TimeLimit(token)
        elif frame is here:  # the outer timer's moment, but not inside our bookkeeping: a moment later
            signal.setitimer(signal.ITIMER_REAL, 1e-3)
        else:  # the outer timer's moment: re-arm for what comes next, then the previous handler runs
            state["outer_at"] = state["outer_at"] + outer_interval if outer_interval else None
            arm(now)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:  # SIGALRM's default action ends the process: as it would have
                state["active"] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.raise_signal(signal.SIGALRM)

    def call() -> Any:  # a frame of its own between ``here`` and fn, even when fn is a C function (time.sleep)
        return fn(*args)

    try:
        signal.signal(signal.SIGALRM, alarm)
    except ValueError:  # not the main interpreter
        return _in_thread(seconds, fn, args)
    try:
        arm(started)
        value = call()
        # a bare ``except:`` in the component may have swallowed the interruption: the limit was still hit
        return _TIMED_OUT if state["fired"] else value
    except _TimeLimit as exc:
        if exc.token is not token:
            raise  # an enclosing limit's (ours, nested): not this call's to report
        return _TIMED_OUT
    finally:
        state["active"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if state["outer_at"] is not None:  # the outer timer is still pending (possibly due right now)
            signal.setitimer(signal.ITIMER_REAL, max(state["outer_at"] - time.monotonic(), 1e-6), outer_interval)


def _in_thread(seconds: float, fn: Any, args: tuple[Any, ...]) -> Any:
    """The thread way of :func:`_call_with_time_limit`: ``fn`` runs in a daemon thread, abandoned after ``seconds``.

    An abandoned thread cannot be stopped: it keeps running (and using a CPU, if it
    loops) until it returns or the process exits; what it does meanwhile is beyond
    the suite's control. (The warning filters and numpy's global random state that
    :func:`run_check` sets around a check are put back in the caller's thread, so
    the abandoned thread does not leave them changed.)
    """
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(("value", fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome.append(("error", exc))

    worker = threading.Thread(target=target, name="neuroplug-spec-check", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive() or not outcome:
        return _TIMED_OUT
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def run_check(check_id: str, subject: Subject, *, timeout: float | None = None) -> CheckResult:
    """Run one check on one subject, honouring its declared expected failures.

    ``timeout``: the check's time limit in seconds (default :data:`DEFAULT_TIMEOUT`, or
    ``NEUROPLUG_SPEC_TIMEOUT``; 0: none). A check that outlives it is a failed check
    whose message names it, the component and the limit (an expected failure, if the
    subject declares the check as one). A KeyboardInterrupt stops the run.
    """
    check = get_check(check_id)
    limit = resolve_timeout(timeout)
    started = time.perf_counter()
    status, message = _execute(check.func, subject, limit)
    if status == "timeout":
        status, message = "failed", (
            f"{check_id} did not finish within its time limit of {limit:g} s on {subject.kind} {subject.name!r} "
            f"(a loop that never ends, or a component waiting for something?); the run went on with the next "
            f"check. To allow more time: neuroplug spec --timeout SECONDS, check_component(..., timeout=SECONDS) "
            f"or {_TIMEOUT_ENV}=SECONDS (0 turns the limit off)")
    if status == "failed":
        message += f"\nformula checked ({check.id}, docs: spec reference #{check.anchor}): {check.title}" + (
            f" -- {check.formula}" if check.formula else "")
    reason = subject.expected_failed_checks.get(check_id)
    if reason is not None:
        if status == "failed":
            status, message = "xfailed", f"expected failure ({reason}): {message}"
        elif status == "passed":
            status, message = "xpassed", (f"declared as an expected failure ({reason}) but it passed: "
                                          f"remove {check_id} from expected_failed_checks")
    return CheckResult(check_id, subject.name, subject.kind, status, message, time.perf_counter() - started)


def _execute(func: Any, subject: Subject, limit: float) -> tuple[str, str]:
    """``(status, message)`` of ``func(subject)``; status ``"timeout"`` when it outlived ``limit`` seconds."""
    import numpy as np

    global_state = np.random.get_state()  # no check may leak changes of numpy's global RNG
    try:
        return _execute_inner(func, subject, limit)
    finally:
        np.random.set_state(global_state)


def _execute_inner(func: Any, subject: Subject, limit: float) -> tuple[str, str]:
    # only the check itself is time-limited: this function's handlers and clean-up always run
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy overflow/invalid warnings fail the check
            if _call_with_time_limit(limit, func, subject) is _TIMED_OUT:
                return "timeout", ""
    except NotApplicable as exc:
        return "skipped", str(exc)
    except SpecFailure as exc:
        return "failed", exc.render()
    except Warning as exc:
        return "failed", (f"the component emitted a warning: {type(exc).__name__}: {exc} -- numpy warns on "
                          f"overflow, division by zero and invalid values: use a numerically stable formula")
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        at = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
        return "failed", f"the component raised {type(exc).__name__}: {exc}{at}"
    return "passed", ""


def check_component(component: Any, *, expected_failed_checks: Mapping[str, str] | None = None,
                    checks: Iterable[str] | None = None, seed: int = 0, thorough: bool = False,
                    timeout: float | None = None, **subject_fields: Any) -> SpecReport:
    """Run every applicable check on one component instance (registered or not).

    Parameters
    ----------
    component : Activation, Initializer, Loss, Schedule or Optimizer
        The component to validate.
    expected_failed_checks : mapping, optional
        ``{check ID: reason}`` of known deviations.
    checks : iterable of str, optional
        Only these check IDs.
    seed : int
        Seed of the checks' random inputs.
    thorough : bool
        More examples in property-based checks.
    timeout : float, optional
        Time limit of each check in seconds (default :data:`DEFAULT_TIMEOUT`, or the
        environment variable ``NEUROPLUG_SPEC_TIMEOUT``); 0 turns it off. A check
        that outlives it is reported as failed, naming the check and the limit.
    **subject_fields
        ``properties``, ``implements`` (iterables of str), ``example_configs``
        (list of dicts), ``parameter_space`` (``{parameter: neuroplug.Param}``)
        and ``name``.

    Returns
    -------
    SpecReport

    Raises
    ------
    ValueError
        For an ``implements`` name that is not a formula of the component's kind,
        or an ``expected_failed_checks`` ID that is not a check of its kind (the
        message lists the valid ones), or a ``timeout`` that is not a number >= 0.
    """
    resolve_timeout(timeout)  # an invalid limit fails before anything runs
    subject = subject_from_instance(component, expected_failed_checks=expected_failed_checks, seed=seed,
                                    thorough=thorough, **subject_fields)
    return run_subjects([subject], checks=checks, timeout=timeout)


def subject_from_instance(component: Any, *, expected_failed_checks: Mapping[str, str] | None = None,
                          seed: int = 0, thorough: bool = False, **fields: Any) -> Subject:
    """Build a :class:`Subject` for an instance; declarations come from its registration, if any."""
    from neuroplug.registry import get_registry

    subject = Subject.from_instance(component, seed=seed, thorough=thorough)
    entry = next((e for e in get_registry().entries(subject.kind)
                  if e.registration.factory is type(component)), None)
    if entry is not None:
        _declare(subject, entry)
    for key in ("properties", "implements"):
        if key in fields:
            value = fields.pop(key)
            if isinstance(value, str):
                raise TypeError(f"{key} must be a list of names, got the string {value!r}: write ({value!r},)")
            setattr(subject, key, frozenset(value))
    if "example_configs" in fields:
        value = fields.pop("example_configs")
        subject.example_configs = (dict(value),) if isinstance(value, Mapping) else tuple(dict(c) for c in value)
    if "parameter_space" in fields:
        subject.parameter_space = dict(fields.pop("parameter_space"))
    if "name" in fields:
        subject.name = fields.pop("name")
    if fields:
        raise TypeError(f"unknown subject fields {sorted(fields)}; known: properties, implements, "
                        f"example_configs, parameter_space, name")
    subject.expected_failed_checks.update(expected_failed_checks or {})
    problems = declaration_problems(subject)
    if problems:
        raise ValueError("; ".join(problems))
    return subject


def declaration_problems(subject: Subject) -> list[str]:
    """What is wrong with what the subject declares: unknown ``implements`` names and
    ``expected_failed_checks`` IDs (with the valid ones and close matches), bad
    ``example_configs`` and ``parameter_space`` entries."""
    import difflib

    from neuroplug.types import Param

    from .formulas import unknown_formulas

    problems = unknown_formulas(subject.kind, subject.implements)
    ids = [c.id for c in all_checks(subject.kind)]
    for check_id in sorted(subject.expected_failed_checks):
        if check_id not in ids:
            close = difflib.get_close_matches(str(check_id).upper(), ids, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"expected_failed_checks names {check_id!r}, which is not a spec check of "
                            f"kind {subject.kind}.{hint} The {subject.kind} checks: {', '.join(ids)}")
    from .framework import signature_params

    params = signature_params(subject.factory)
    open_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    for i, example in enumerate(subject.example_configs):
        unknown = sorted(k for k in example if k not in params) if params and not open_kwargs else []
        if unknown:
            problems.append(f"example_configs[{i}] sets {', '.join(map(repr, unknown))}, which the constructor "
                            f"does not accept (its parameters: {', '.join(params) or 'none'})")
    for name, space in subject.parameter_space.items():
        if not isinstance(space, Param):
            problems.append(f"parameter_space[{name!r}] must be a neuroplug.Param, got {space!r}")
        elif params and not open_kwargs and name not in params:
            problems.append(f"parameter_space declares {name!r}, which the constructor does not accept "
                            f"(its parameters: {', '.join(params) or 'none'})")
        else:
            problems.extend(f"parameter_space[{name!r}]: {p}" for p in space.problems())
    return problems


def _declare(subject: Subject, entry: Any) -> None:
    reg = entry.registration
    subject.name = entry.qualified_name
    subject.plugin = f"{entry.plugin.label}" + (f" {entry.plugin.version}" if entry.plugin.version else "")
    subject.registered_name = entry.qualified_name
    subject.properties = frozenset(reg.properties)
    subject.implements = frozenset(reg.implements)  # explicit claims only, the built-ins' included
    subject.expected_failed_checks = dict(reg.expected_failed_checks)
    subject.example_configs = tuple(dict(c) for c in getattr(reg, "example_configs", ()))
    subject.parameter_space = dict(getattr(reg, "parameter_space", {}))


def subject_from_entry(entry: Any, *, seed: int = 0, thorough: bool = False) -> Subject:
    """Build a :class:`Subject` for a registry entry, with its ``spec_config``."""
    reg = entry.registration
    config = dict(reg.spec_config or {})
    subject = Subject(kind=reg.kind, name=entry.qualified_name, factory=reg.factory, config=config,
                      seed=seed, thorough=thorough)
    _declare(subject, entry)
    return subject


def subjects_for(selector: str | None = None, *, seed: int = 0, thorough: bool = False) -> list[Subject]:
    """Subjects chosen by a selector, from the default registry.

    ``None``: every installed component; ``"kind:name"``: one component
    (``"activation:swish"``, ``"activation:neuroplug-swish:swish"``); a plugin's
    entry-point or distribution name: everything it provides; otherwise a
    component name in any kind.
    """
    from neuroplug.errors import ComponentNotFoundError
    from neuroplug.registry import get_registry

    reg = get_registry()
    entries = reg.entries()
    if selector:
        kind, sep, rest = selector.partition(":")
        if sep and kind in KINDS:
            entries = [reg.resolve(kind, rest)]
        else:
            by_plugin = [e for e in entries if e.plugin.matches(selector)]
            if by_plugin:
                entries = by_plugin
            else:
                by_name = [reg.resolve(k, selector) for k in KINDS if reg.resolve_or_none(k, selector)]
                if not by_name:
                    plugins = sorted({e.plugin.label for e in entries})
                    raise ComponentNotFoundError(
                        f"{selector!r} names no installed plugin, distribution or component. Plugins: "
                        f"{', '.join(plugins)}; or use KIND:NAME, e.g. activation:tanh")
                entries = by_name
    seen: set[int] = set()
    subjects = []
    for e in entries:
        if id(e) not in seen:
            seen.add(id(e))
            subjects.append(subject_from_entry(e, seed=seed, thorough=thorough))
    return subjects


def run_subjects(subjects: Iterable[Subject], *, checks: Iterable[str] | None = None,
                 timeout: float | None = None) -> SpecReport:
    """Run the applicable checks on each subject (``timeout``: each check's limit, see :func:`run_check`)."""
    timeout = resolve_timeout(timeout)
    wanted = set(checks) if checks is not None else None
    for check_id in sorted(wanted or ()):  # a misspelt ID would silently run nothing
        try:
            get_check(check_id)
        except KeyError as exc:
            from neuroplug.errors import InputError

            raise InputError(str(exc.args[0])) from None
    report = SpecReport()
    started = time.perf_counter()
    for subject in subjects:
        report.components[(subject.kind, subject.name)] = {"kind": subject.kind, "plugin": subject.plugin,
                                           "properties": sorted(subject.properties),
                                           "implements": sorted(subject.implements)}
        for check in all_checks(subject.kind):
            if wanted is None or check.id in wanted:
                report.results.append(run_check(check.id, subject, timeout=timeout))
    report.seconds = time.perf_counter() - started
    return report


def run_spec(selector: str | None = None, *, seed: int = 0, thorough: bool = False,
             checks: Iterable[str] | None = None, timeout: float | None = None) -> SpecReport:
    """Validate installed components chosen by ``selector`` (see :func:`subjects_for`; ``timeout``: :func:`run_check`)."""
    timeout = resolve_timeout(timeout)
    return run_subjects(subjects_for(selector, seed=seed, thorough=thorough), checks=checks, timeout=timeout)


load_checks()
