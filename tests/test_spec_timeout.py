"""Issue 11, class 6: the spec suite never hangs on a component that loops or waits.

Each check on each component has a time limit (default 60 s; ``timeout=``,
``neuroplug spec --timeout``, ``NEUROPLUG_SPEC_TIMEOUT``; 0 turns it off). A check
that outlives it is a failure naming the check, the component and the limit, and
the run goes on with the next check.
"""

from __future__ import annotations

import json
import signal
import threading
import time

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.cli import main
from neuroplug.errors import InputError
from neuroplug.spec import check_component
from neuroplug.spec.runner import DEFAULT_TIMEOUT, resolve_timeout


class Stuck(npl.Activation):
    """tanh whose forward never returns on inputs larger than 10 (and sleeps on exactly 3.0)."""

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


def _timed_out(report):
    return [r for r in report.results if r.status == "failed" and "time limit" in r.message]


def test_a_looping_check_fails_naming_the_check_and_the_others_still_run():
    started = time.monotonic()
    report = check_component(Stuck(), implements=("tanh",), timeout=0.3)
    elapsed = time.monotonic() - started
    stuck = _timed_out(report)
    assert stuck, [(r.check_id, r.status) for r in report.results]
    for r in stuck:
        assert r.check_id in r.message and "0.3 s" in r.message and "--timeout" in r.message
    assert any(r.status == "passed" for r in report.results)  # the checks on small inputs still ran and passed
    assert not report.ok
    assert elapsed < 0.3 * len(stuck) + 60  # each stuck check was cut at its limit (not a speed assertion)


def test_sleeping_component_is_cut_and_the_previous_alarm_handler_is_restored():
    seen = []
    previous = signal.signal(signal.SIGALRM, lambda *a: seen.append("outer"))
    try:
        report = check_component(Sleepy(), checks=["ACT-SHAPE-DTYPE"], timeout=0.2)
        assert [r.status for r in report.results] == ["failed"] and _timed_out(report)
        assert signal.getsignal(signal.SIGALRM) is not None and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM)(0, None) is None and seen == ["outer"]
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_an_outer_timer_keeps_its_deadline():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 50.0)
        check_component(npl.create("activation", "tanh"), checks=["ACT-SHAPE-DTYPE"], timeout=5)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 50.0 and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_off_the_main_thread_the_check_runs_in_a_thread_that_is_abandoned():
    out = {}

    def run():
        out["report"] = check_component(Sleepy(), checks=["ACT-SHAPE-DTYPE"], timeout=0.2)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    assert _timed_out(out["report"])


def test_zero_turns_the_limit_off_and_the_default_is_generous(monkeypatch):
    monkeypatch.delenv("NEUROPLUG_SPEC_TIMEOUT", raising=False)
    assert resolve_timeout() == DEFAULT_TIMEOUT >= 30
    assert resolve_timeout(0) == 0.0 and resolve_timeout(float("inf")) == 0.0
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "2.5")
    assert resolve_timeout() == 2.5 and resolve_timeout(7) == 7.0
    report = check_component(npl.create("activation", "tanh"), checks=["ACT-SHAPE-DTYPE"], timeout=0)
    assert report.ok


@pytest.mark.parametrize("value", [-1, float("nan"), "abc", True, [1]])
def test_invalid_limits_are_refused_before_anything_runs(value):
    with pytest.raises(InputError, match="timeout"):
        check_component(Stuck(), timeout=value)


def test_an_unknown_check_id_is_refused_not_silently_skipped():
    with pytest.raises(InputError, match="ACT-SHAPE"):
        check_component(npl.create("activation", "tanh"), checks=["ACT-SHAPE"])


def test_cli_timeout_json_report_and_errors(capsys, monkeypatch):
    with npl.isolated_registry() as reg:
        reg.register(Stuck, name="stuck", implements=("tanh",))
        assert main(["spec", "activation:stuck", "--timeout", "0.3", "--format", "json"]) == 1
        doc = json.loads(capsys.readouterr().out)
        checks = doc["components"][0]["checks"]
        cut = [c for c in checks if c["status"] == "failed" and "time limit" in c["message"]]
        assert cut and all(c["id"] in c["message"] for c in cut)
        assert any(c["status"] == "passed" for c in checks)
    for bad in ("-1", "abc", "nan"):
        with pytest.raises(SystemExit) as exited:  # argparse's own exit, status 2
            main(["spec", "activation:tanh", "--timeout", bad])
        assert exited.value.code == 2 and "--timeout" in capsys.readouterr().err
    monkeypatch.setenv("NEUROPLUG_SPEC_TIMEOUT", "soon")
    assert main(["spec", "activation:tanh"]) == 2
    assert "NEUROPLUG_SPEC_TIMEOUT" in capsys.readouterr().err
