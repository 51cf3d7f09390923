"""benchmarks/compare.py keeps running: its quick mode, on tiny data, in a subprocess.

No timing is asserted (the machine is shared and noisy): only that the script
runs to the end, prints every table and writes its JSON. PyTorch and
scikit-learn are optional peers; when they are not installed the script says
so and skips them, which is what happens in CI.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"


def test_benchmark_script_runs_in_quick_mode(tmp_path):
    out_json = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out_json)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    text = proc.stdout
    for workload in ("mnist-mlp", "small-mlp", "digits"):
        assert f"== {workload}:" in text
    for row in ("numpy (hand-written loop)", "neuroplug (built-in components)", "neuroplug + plugin relu",
                "neuroplug + plugin tanh", "GEMM peak", "BLAS:", "import neuroplug", "neuroplug list",
                "peak memory"):
        assert row in text, row
    assert "failed:" not in text
    for peer, module in (("pytorch", "torch"), ("sklearn", "sklearn")):
        if importlib.util.find_spec(module) is None:
            assert f"skipping {peer}: {module} is not installed" in text
        else:
            assert f"skipping {peer}" not in text

    report = json.loads(out_json.read_text())
    assert set(report["workloads"]) == {"mnist-mlp", "small-mlp", "digits"}
    for name, workload in report["workloads"].items():
        peers = workload["peers"]
        assert {"numpy", "neuroplug", "neuroplug+plugin"} <= set(peers), name
        for peer, row in peers.items():
            assert row["s_per_epoch"] > 0 and 0.0 <= row["accuracy"] <= 1.0, (name, peer)
        # the same weights, the same sample order: the hand-written loop and neuroplug agree
        assert abs(peers["neuroplug"]["final_loss"] - peers["numpy"]["final_loss"]) < 1e-4, name
        # ... and the hand-written loop computes the training accuracy fit logs, as fit does
        assert peers["numpy"]["train_accuracy"] == peers["neuroplug"]["train_accuracy"], name
        assert peers["neuroplug"]["accuracy"] == peers["neuroplug+plugin"]["accuracy"], name
    assert report["process"]["memory"]["peak_mb"] > 0
    if importlib.util.find_spec("sklearn") is not None:  # the estimator path: whole fits side by side
        assert "estimator path: whole fit calls" in text and "the wrapper adds" in text
        for name, workload in report["workloads"].items():
            estimator = workload["estimator"]
            assert set(estimator["times"]) == {"npl.fit", "NeuroplugClassifier.fit", "MLPClassifier.fit"}, name
            assert all(t > 0 for times in estimator["times"].values() for t in times), name
            assert 0 <= estimator["wrapper_own_share"] < 1, name
