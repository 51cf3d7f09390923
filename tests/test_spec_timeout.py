"""Issue 11, class 6: the spec suite never hangs on a component that loops or waits.

Each check on each component has a time limit (default 60 s; ``timeout=``,
``neuroplug spec --timeout``, ``NEUROPLUG_SPEC_TIMEOUT``; 0 turns it off). A check
that outlives it is a failure naming the check, the component and the limit, and
the run goes on with the next check. In the main thread a SIGALRM timer interrupts
the check and the previous handler and timer are put back (an outer timer keeps
its deadline); elsewhere the check runs in a thread that is abandoned.

The limits here are a fraction of a second; nothing asserts how fast anything ran.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.cli import main
from neuroplug.errors import InputError
from neuroplug.spec import check_component, parametrize_spec
from neuroplug.spec.pytest_plugin import parametrize
from neuroplug.spec.runner import (_TIMED_OUT, DEFAULT_TIMEOUT, _call_with_time_limit, resolve_timeout, run_subjects,
                                   subjects_for)

SHORT = 0.2  # the time limit of the checks that are meant to be cut


class Stuck(npl.Activation):
    """tanh whose forward never returns on inputs larger than 10 in magnitude."""

    def forward(self, z, out=None):
        if np.any(np.abs(z) > 10):
            while True:  # a pure-Python loop that never ends
                pass
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1 - a * a


class Sleepy(npl.Activation):
    """tanh that waits 30 s in every call."""

    def forward(self, z, out=None):
        time.sleep(30)
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1 - a * a


class Stubborn(npl.Activation):
    """tanh that waits, and swallows whatever interrupts the wait (a bare ``except``)."""

    def forward(self, z, out=None):
        try:
            time.sleep(30)
        except BaseException:  # noqa: BLE001, S110 - the point of the test
            pass
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1 - a * a


class Interrupted(npl.Activation):
    """tanh whose forward is hit by Ctrl-C (a real SIGINT in the main thread) while it waits."""

    def forward(self, z, out=None):
        if threading.current_thread() is threading.main_thread():
            signal.raise_signal(signal.SIGINT)
        else:  # a SIGINT would go to the main thread (pytest's), not to this one
            raise KeyboardInterrupt
        time.sleep(30)
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1 - a * a


ONE = ["ACT-SHAPE-DTYPE"]  # a check that calls forward once
MIXED = ["ACT-INTERFACE", "ACT-BATCH", "ACT-DERIV", "ACT-FINITE-LARGE", "NEURON-DENSE"]  # Stuck: pass, cut, ...


def _timed_out(report):
    return [r for r in report.results if r.status == "failed" and "time limit" in r.message]


@pytest.fixture
def alarm_state():
    """Leave SIGALRM's handler and the real-time timer as the test found them."""
    handler = signal.getsignal(signal.SIGALRM)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, handler)


def test_a_looping_check_fails_naming_the_check_and_the_limit_and_the_others_still_run(monkeypatch):
    monkeypatch.delenv("NEUROPLUG_SPEC_TIMEOUT", raising=False)
    before = (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL))
    threads = set(threading.enumerate())
    report = check_component(Stuck(), implements=("tanh",), timeout=SHORT, checks=MIXED)
    stuck = _timed_out(report)
    assert [r.check_id for r in stuck] == ["ACT-BATCH", "ACT-FINITE-LARGE"]  # inputs above 10 in magnitude
    for r in stuck:
        assert r.check_id in r.message and "'Stuck'" in r.message and f"{SHORT:g} s" in r.message
        assert "--timeout SECONDS" in r.message and "NEUROPLUG_SPEC_TIMEOUT" in r.message
    # the checks on small inputs ran, after the cut ones too, and passed
    assert [(r.check_id, r.status) for r in report.results if r not in stuck] == [
        ("ACT-INTERFACE", "passed"), ("ACT-DERIV", "passed"), ("NEURON-DENSE", "passed")]
    assert not report.ok and report.failures() == stuck
    assert (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)) == before
    assert set(threading.enumerate()) <= threads  # in the main thread the loops were stopped, not abandoned


def test_the_report_is_complete_when_several_components_hang(monkeypatch):
    monkeypatch.delenv("NEUROPLUG_SPEC_TIMEOUT", raising=False)
    with npl.isolated_registry() as reg:
        reg.register(Sleepy, name="sleepy")
        reg.register(Stuck, name="stuck")
        subjects = [s for name in ("sleepy", "tanh", "stuck") for s in subjects_for(f"activation:{name}")]
        report = run_subjects(subjects, checks=["ACT-BATCH"], timeout=SHORT)
    assert [(r.component.rsplit(":", 1)[-1], r.status) for r in report.results] == [
        ("sleepy", "failed"), ("tanh", "passed"), ("stuck", "failed")]
    assert len(_timed_out(report)) == 2 and len(report.components) == 3


def test_the_previous_alarm_handler_is_restored_and_still_works(alarm_state):
    seen = []
    signal.signal(signal.SIGALRM, lambda *a: seen.append("outer"))
    report = check_component(Sleepy(), checks=ONE, timeout=SHORT)
    assert [r.status for r in report.results] == ["failed"] and _timed_out(report)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    signal.getsignal(signal.SIGALRM)(signal.SIGALRM, None)
    assert seen == ["outer"]


def test_a_later_outer_timer_keeps_its_deadline_and_is_not_fired_early(alarm_state):
    fired = []
    signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    signal.setitimer(signal.ITIMER_REAL, 50.0)
    report = check_component(Sleepy(), checks=ONE, timeout=SHORT)
    assert _timed_out(report)
    left, interval = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < left < 50.0 and interval == 0.0 and not fired


class OuterDeadline(BaseException):
    """What the outer handler of the next test raises (pytest-timeout raises something like it)."""


def test_an_earlier_outer_timer_fires_at_its_own_deadline_not_ours(alarm_state):
    def outer(signum, frame):
        raise OuterDeadline

    signal.signal(signal.SIGALRM, outer)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    with pytest.raises(OuterDeadline):  # not postponed to our 30 s: the sleep is cut by the outer handler
        check_component(Sleepy(), checks=ONE, timeout=30)
    assert signal.getsignal(signal.SIGALRM) is outer
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the one-shot outer timer was spent


def test_a_periodic_outer_timer_keeps_ticking_through_a_check_and_after(alarm_state):
    ticks = []
    signal.signal(signal.SIGALRM, lambda *a: ticks.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    report = check_component(Sleepy(), checks=ONE, timeout=SHORT)
    assert _timed_out(report)
    assert ticks  # the outer timer came first (0.05 s < SHORT) and its handler ran during the check
    left, interval = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < left <= 0.05 and interval == pytest.approx(0.05)


def test_nested_limits_each_report_only_their_own(alarm_state):
    def sleep(seconds):
        time.sleep(seconds)
        return "done"

    # the inner limit is shorter: the inner call is cut, the outer call goes on
    assert _call_with_time_limit(20, lambda: (_call_with_time_limit(0.1, sleep, 30), "outer done")) == (
        _TIMED_OUT, "outer done")
    # the outer limit is shorter: the outer call is cut, not misreported as the inner one's
    inner = []
    assert _call_with_time_limit(0.1, lambda: inner.append(_call_with_time_limit(20, sleep, 30))) is _TIMED_OUT
    assert inner == []
    held = threading.Lock()
    held.acquire()
    assert _call_with_time_limit(0.1, held.acquire) is _TIMED_OUT  # a C function that waits forever, called directly
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_component_that_swallows_the_interruption_is_still_reported():
    report = check_component(Stubborn(), checks=ONE, timeout=0.1)  # it calls forward a few times
    assert [r.status for r in report.results] == ["failed"] and _timed_out(report)


@pytest.mark.parametrize("in_thread", [False, True])
def test_keyboard_interrupt_stops_the_run(in_thread):
    out = {}
    before = (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL))

    def run():
        try:
            check_component(Interrupted(), timeout=5)
        except KeyboardInterrupt:
            out["stopped"] = True
        out["after"] = (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL))

    if in_thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(20)
    else:
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        run()
    assert out == {"stopped": True, "after": before}


def test_off_the_main_thread_the_check_runs_in_a_thread_that_is_abandoned():
    out = {}
    filters = list(warnings.filters)

    def run():
        out["report"] = check_component(Sleepy(), implements=("tanh",), checks=["ACT-SHAPE-DTYPE", "ACT-DERIV"],
                                        timeout=SHORT)
        out["abandoned"] = [t for t in threading.enumerate() if t.name == "neuroplug-spec-check"]

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    report = out["report"]
    assert [r.check_id for r in _timed_out(report)] == ["ACT-SHAPE-DTYPE", "ACT-DERIV"]  # the run went on
    assert out["abandoned"]  # still sleeping in the background, as documented
    # the abandoned checks are inside warnings.catch_warnings (warnings -> errors): not for the process
    assert list(warnings.filters) == filters


def test_zero_turns_the_limit_off_and_the_default_is_generous(monkeypatch):
    monkeypatch.delenv("NEUROPLUG_SPEC_TIMEOUT", raising=False)
    assert resolve_timeout() == DEFAULT_TIMEOUT >= 30
    assert resolve_timeout(0) == 0.0 and resolve_timeout(float("inf")) == 0.0
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "2.5")
    assert resolve_timeout() == 2.5 and resolve_timeout(7) == 7.0
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "  ")
    assert resolve_timeout() == DEFAULT_TIMEOUT
    handler = signal.getsignal(signal.SIGALRM)
    seen = []

    def probe(subject):
        seen.append(signal.getsignal(signal.SIGALRM))

    assert _call_with_time_limit(0, probe, None) is None and seen == [handler]  # no timer, no handler
    report = check_component(npl.create("activation", "tanh"), checks=ONE, timeout=0)
    assert report.ok


@pytest.mark.parametrize("value", [-1, float("nan"), float("-inf"), "abc", "5", True, [1]])
def test_invalid_limits_are_refused_before_anything_runs(value):
    with pytest.raises(InputError, match=r"timeout must be a number of seconds >= 0.*got") as raised:
        check_component(Stuck(), timeout=value)
    assert repr(value) in str(raised.value)


def test_an_invalid_environment_value_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "nan")
    with pytest.raises(InputError, match="NEUROPLUG_SPEC_TIMEOUT.*'nan'"):
        check_component(npl.create("activation", "tanh"), checks=ONE)


def test_an_unknown_check_id_is_refused_not_silently_skipped():
    with pytest.raises(InputError, match="ACT-SHAPE"):
        check_component(npl.create("activation", "tanh"), checks=["ACT-SHAPE"])


def test_the_pytest_integration_fails_a_cut_check_naming_it():
    mark = parametrize_spec(Sleepy(), timeout=SHORT).mark
    (param,) = [p for p in mark.args[1] if p.id == "Sleepy-ACT-SHAPE-DTYPE"]
    check = param.values[0]
    with pytest.raises(AssertionError, match=rf"ACT-SHAPE-DTYPE on Sleepy:\n.*time limit of {SHORT:g} s"):
        check()
    with pytest.raises(InputError, match="timeout"):
        parametrize([Sleepy()], timeout=-1)


def test_cli_timeout_json_report_and_errors(capsys, monkeypatch):
    monkeypatch.delenv("NEUROPLUG_SPEC_TIMEOUT", raising=False)
    with npl.isolated_registry() as reg:
        reg.register(Stuck, name="stuck", implements=("tanh",))
        assert main(["spec", "activation:stuck", "--timeout", str(SHORT), "--format", "json"]) == 1
        doc = json.loads(capsys.readouterr().out)
        checks = doc["components"][0]["checks"]
        cut = [c for c in checks if c["status"] == "failed" and "time limit" in c["message"]]
        assert cut and all(c["id"] in c["message"] and "stuck" in c["message"] for c in cut)
        assert any(c["status"] == "passed" for c in checks) and doc["ok"] is False
        assert doc["counts"]["failed"] == len(cut)
        assert main(["spec", "activation:stuck", "--timeout", str(SHORT), "--check", cut[0]["id"]]) == 1  # text
        text = capsys.readouterr().out
        assert f"FAIL  {cut[0]['id']}" in text and f"time limit of {SHORT:g} s" in text
    for bad in ("-1", "abc", "nan"):
        status = main(["spec", "activation:tanh", "--timeout", bad])  # argparse's own error, status 2
        err = capsys.readouterr().err
        assert status == 2 and "--timeout" in err and repr(bad) in err
        assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("neuroplug spec: error: argument")
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "soon")
    assert main(["spec", "activation:tanh"]) == 2
    err = capsys.readouterr().err
    assert "NEUROPLUG_SPEC_TIMEOUT" in err and "'soon'" in err and "Traceback" not in err
