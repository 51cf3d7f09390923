"""neuroplug compare on a real Dask cluster (issue 14): the same bits as locally, a dead worker loses nothing."""

from __future__ import annotations

import os
import signal
import threading

import pytest

distributed = pytest.importorskip("distributed")

from dask.distributed import Client, LocalCluster  # noqa: E402

from neuroplug.comparison import compare  # noqa: E402
from neuroplug.comparison.sweep import RESULTS_FILE, _check_workers, read_records  # noqa: E402
from neuroplug.errors import ConfigError  # noqa: E402

SMALL = dict(epochs=3, hidden=[8], batch_size=32, progress=False)
GRID = {"activation": ["relu", "tanh"]}
LONGER = dict(SMALL, epochs=25)


def _comparable(record):
    return {k: record[k] for k in ("key", "label", "data", "seed", "status", "error", "metrics", "history")}


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each; closed after the module (no process outlives it)."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      silence_logs=40) as cluster:
        yield cluster


def test_a_dask_cluster_computes_the_same_bits_as_this_process(cluster, tmp_path):
    local = compare(GRID, data=["moons"], seeds=3, backend="sequential", **SMALL)
    with Client(cluster) as client:
        remote = compare(GRID, data=["moons"], seeds=3, backend="dask", client=client, output=str(tmp_path),
                         **SMALL)
    assert [_comparable(r) for r in remote.records] == [_comparable(r) for r in local.records]
    assert {r["worker"].split(":")[1] for r in remote.records} != {str(os.getpid())}  # ran elsewhere
    assert len(read_records(str(tmp_path / RESULTS_FILE))) == 6


def test_the_client_already_open_is_used(cluster):
    with Client(cluster):
        results = compare({"activation": ["tanh"]}, data=["moons"], seeds=1, backend="dask", **SMALL)
    assert results.records[0]["status"] == "ok"


def test_without_a_client_dask_is_refused_with_what_to_do():
    with pytest.raises(ConfigError, match="open a dask.distributed.Client first"):
        compare({"activation": ["tanh"]}, data=["moons"], seeds=1, backend="dask", **SMALL)


def test_the_scheduler_address_is_enough(cluster):
    results = compare({"activation": ["relu"]}, data=["moons"], seeds=1, backend="dask",
                      scheduler=cluster.scheduler_address, **SMALL)
    assert results.records[0]["status"] == "ok"


def test_a_worker_killed_mid_sweep_loses_nothing(cluster, tmp_path):
    """A worker process dies while runs are in flight: Dask retries them elsewhere (or the rerun does);
    in the end every run is recorded, with the same bits as an undisturbed sweep."""
    out = str(tmp_path)
    grid = {"activation": ["relu", "tanh", "softsign"]}
    with Client(cluster) as client:
        killed = threading.Event()
        finished_at_kill: list[int] = []

        def kill_one_worker_soon():
            import time

            deadline = time.time() + 60
            while time.time() < deadline and not read_records(os.path.join(out, RESULTS_FILE)):
                time.sleep(0.05)  # the file exists before the first run: wait for a record, so runs are in flight
            pids = client.run(os.getpid)  # worker address -> its process
            finished_at_kill.append(len(read_records(os.path.join(out, RESULTS_FILE))))
            os.kill(pids[sorted(pids)[0]], signal.SIGKILL)  # its nanny starts a new one
            killed.set()

        killer = threading.Thread(target=kill_one_worker_soon, daemon=True)
        killer.start()
        first = compare(grid, data=["moons"], seeds=6, backend="dask", client=client, output=out, **LONGER)
        killer.join(timeout=60)
        assert killed.is_set() and finished_at_kill[0] < 18  # killed while runs were left
        rerun = compare(grid, data=["moons"], seeds=6, backend="dask", client=client, output=out, **LONGER)
    assert len(rerun.records) == 18 and rerun.ran == len(first.lost)
    undisturbed = compare(grid, data=["moons"], seeds=6, backend="sequential", **LONGER)
    assert [_comparable(r) for r in rerun.records] == [_comparable(r) for r in undisturbed.records]


class _FakeClient:
    def __init__(self, answers):
        self.answers = answers

    def run(self, function, *args, on_error="raise"):
        assert on_error == "return"  # a lost worker's error comes back as its answer, not raised
        return self.answers


def test_a_worker_without_a_plugin_is_named_before_any_run():
    specs = [{"setup": {"activation": "swish_plus", "init": "he_uniform", "loss": None, "optimizer": "sgd",
                        "schedule": "constant"}}]
    client = _FakeClient({"tcp://10.0.0.2:4000": [], "tcp://10.0.0.3:4000": ["activation 'swish_plus': unknown"]})
    with pytest.raises(ConfigError, match=r"tcp://10\.0\.0\.3:4000: activation 'swish_plus'"):
        _check_workers(client, specs)
    with pytest.raises(ConfigError, match="no worker"):
        _check_workers(_FakeClient({}), specs)


def test_a_worker_lost_during_the_check_is_left_out_and_a_failing_check_is_named():
    from distributed.comm.core import CommClosedError

    specs = [{"setup": {"activation": "tanh", "init": "xavier", "loss": None, "optimizer": "sgd",
                        "schedule": "constant"}}]
    lost = CommClosedError("in <TCP (closed) Scheduler Broadcast>: Stream is closed")
    _check_workers(_FakeClient({"tcp://10.0.0.2:4000": [], "tcp://10.0.0.3:4000": lost}), specs)  # no error
    with pytest.raises(ConfigError, match="no worker left: all 2 closed their connection"):
        _check_workers(_FakeClient({"tcp://10.0.0.2:4000": lost, "tcp://10.0.0.3:4000": lost}), specs)
    broken = ModuleNotFoundError("No module named 'neuroplug'")
    with pytest.raises(ConfigError, match=r"tcp://10\.0\.0\.3:4000: the check failed there with "
                                          r"ModuleNotFoundError: No module named 'neuroplug'"):
        _check_workers(_FakeClient({"tcp://10.0.0.2:4000": [], "tcp://10.0.0.3:4000": broken}), specs)


def test_the_real_workers_pass_the_plugin_check(cluster):
    with Client(cluster) as client:
        _check_workers(client, [{"setup": {"activation": "tanh", "init": "xavier", "loss": "mse",
                                           "optimizer": "adam", "schedule": "constant"}}])
