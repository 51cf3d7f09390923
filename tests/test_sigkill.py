"""kill -9 at random moments of `neuroplug train`: every checkpoint left on disk loads, and
resuming from it gives the weights of the uninterrupted run, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import neuroplug as npl
from neuroplug import cli

KILLS = 20  # kills that land after the first checkpoint, each resumed (the issue asks for at least 20)
# 3 epochs of the embedded digits with a small network, a checkpoint after every step:
# the process spends much of its time writing checkpoints, so kills land inside writes too
OPTIONS = ["train", "--epochs", "3", "--layers", "16", "--no-progress", "--seed", "3"]


def _command(ckpt):
    return [sys.executable, "-m", "neuroplug", *OPTIONS, "--checkpoint", str(ckpt), "--checkpoint-every", "1"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_at_random_moments_leaves_loadable_resumable_checkpoints(tmp_path, monkeypatch, capsys):
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    # the reference: one uninterrupted run (also times a run, to spread the kills over it)
    started = time.perf_counter()
    ref = tmp_path / "ref"
    ref.mkdir()
    subprocess.run(_command(ref / "c.npz") + ["--save", str(ref / "model.npz")], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    duration = time.perf_counter() - started
    expected = npl.load(ref / "model.npz").get_weights()

    rng = np.random.default_rng(20261129)
    landed, checked, before_first, attempts, in_write = 0, 0, 0, 0, 0
    monkeypatch.chdir(tmp_path)
    while checked < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, f"only {checked} of {attempts} kills left a checkpoint to resume from"
        run = tmp_path / f"run{attempts}"
        run.mkdir()
        ckpt = run / "c.npz"
        proc = subprocess.Popen(_command(ckpt), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 0.8) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.returncode != -signal.SIGKILL:
            continue  # it had finished already
        landed += 1
        if not ckpt.exists():
            before_first += 1  # killed before the first checkpoint: nothing to lose yet
            continue
        leftovers = {p.name for p in run.iterdir()} - {"c.npz"}
        assert all(name.startswith(".c.npz.") and name.endswith(".tmp") for name in leftovers), leftovers
        in_write += bool(leftovers)  # killed while a checkpoint was being written
        state = npl.load_checkpoint(ckpt)  # must not raise: the previous write is always whole
        assert cli.main(OPTIONS + ["--checkpoint", str(ckpt), "--resume", "--save", str(run / "model.npz")]) == 0
        got = npl.load(run / "model.npz").get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(got, expected)), \
            f"kill {landed}: resumed from {state!r}, the weights differ from the uninterrupted run"
        checked += 1
    capsys.readouterr()
    with capsys.disabled():
        print(f"\none run takes {duration:.2f} s; {landed} kills landed in {attempts} attempts "
              f"({in_write} during a checkpoint write, {before_first} before the first checkpoint); "
              f"{checked} checkpoints loaded and resumed bit-identically")
