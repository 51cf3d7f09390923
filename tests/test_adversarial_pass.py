"""Issue 11: a fixed-seed sample of the adversarial pass (``tests/adversarial_pass.py``).

Hostile checkpoints and model files, random argument values, hostile plugins,
hostile paths and command lines: zero raw errors, zero weights changed by a
failed call, zero files left behind, zero hangs. The full pass (>= 1,000 cases)
is ``python tests/adversarial_pass.py``.
"""

from __future__ import annotations

import adversarial_pass as adversarial
import pytest


@pytest.mark.parametrize("group", sorted(adversarial.GENERATORS))
def test_adversarial_sample_has_no_raw_error_no_change_no_leftover_no_hang(group):
    tally = adversarial.run(cases=60, seed=2026, only=group)
    counts = tally.total()
    assert sum(counts.values()) >= 40, counts  # the generator really produced cases
    assert counts["clean error"] > 0, counts  # and hostile ones: refused cleanly
    bad = {o: counts[o] for o in adversarial.OUTCOMES[2:] if counts[o]}
    assert not bad, "\n".join([str(bad)] + tally.problems)


def test_the_pass_counts_a_raw_error_as_one():
    """The classifier has teeth: a raw exception, a changed weight and a hang are each counted."""
    tally = adversarial.Tally()

    def raw():
        raise KeyError("raw")

    adversarial.run_case(tally, "meta", "raw", raw)
    state = {"w": 0}

    def changes_then_fails():
        state["w"] = 1
        raise adversarial.npl.InputError("clean but too late")

    adversarial.run_case(tally, "meta", "changed", changes_then_fails, lambda: dict(state),
                         lambda before: before == state)
    adversarial.TIME_LIMIT, saved = 1, adversarial.TIME_LIMIT
    try:
        import time

        adversarial.run_case(tally, "meta", "hang", lambda: time.sleep(5))
    finally:
        adversarial.TIME_LIMIT = saved
    counts = tally.total()
    assert (counts["raw error"], counts["weights changed"], counts["hang"]) == (1, 1, 1), counts
