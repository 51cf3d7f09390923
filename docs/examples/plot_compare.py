"""
Is my component any good? Compare it against the built-ins
==========================================================

Correct is not the same as good. :func:`neuroplug.compare` trains the same
network with each value of a grid -- here three activations -- on several data
sets and seeds, records every run, and summarizes the differences with their
spread over seeds. ``neuroplug compare`` is the same from the command line,
on local processes or a Dask cluster (:doc:`/guide/compare`).
"""

# %%
# A small sweep
# -------------
# 3 activations x 2 synthetic data sets x 3 seeds = 18 runs, one after another
# in this process (``backend="sequential"``: the only backend that can use a
# component you registered in-process, since worker processes only see
# installed plugins). The results go to a folder; run it again and the runs
# already recorded there are not run again.
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

with tempfile.TemporaryDirectory() as folder:
    results = npl.compare({"activation": ["relu", "tanh", "softsign"]}, data=["moons", "circles"],
                          seeds=3, epochs=30, hidden=[16], backend="sequential", output=folder,
                          baseline="relu", progress=False)
    table = results.table()
    print(table)
    summary = results.summary()

# %%
# Each row is an activation on a data set: the number of runs, how many
# finished, diverged or failed, the mean held-out accuracy over the seeds with
# the half-width of its 95 % confidence interval (``acc_ci``), the same for the
# held-out loss, and the mean time of a run. With three seeds the
# intervals are wide: a difference smaller than them is not established, and
# ``seeds=10`` (or ``neuroplug compare --seeds 10``) narrows them. The written
# report (``results.write_report()``, or the ``report.html`` that
# ``neuroplug compare`` writes) adds the paired differences against the baseline
# over runs that share a seed, where the noise of the split and of the initial
# weights mostly cancels.
#
# The same numbers as a figure:
rows = {(r["data"], r["label"].split("=", 1)[1]): r for r in summary}
datasets, activations = ["moons", "circles"], ["relu", "tanh", "softsign"]
fig, ax = plt.subplots(figsize=(6.4, 4))
width = 0.25
for k, act in enumerate(activations):
    means = [rows[d, act]["acc_mean"] for d in datasets]
    cis = [rows[d, act]["acc_ci"] for d in datasets]
    ax.bar(np.arange(len(datasets)) + (k - 1) * width, means, width, yerr=cis, capsize=4, label=act)
ax.set_xticks(np.arange(len(datasets)), datasets)
ax.set_xlabel("data set")
ax.set_ylabel("held-out accuracy (mean, 95 % CI)")
ax.set_ylim(0.5, 1.05)
ax.set_title("3 activations x 2 data sets x 3 seeds")
ax.legend(loc="lower left", ncol=3)
fig.tight_layout()
plt.show()
