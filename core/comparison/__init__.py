"""``neuroplug.compare`` and ``neuroplug compare``: is my component any better? Grids of components x data sets x seeds, on one machine or a Dask cluster.

:func:`compare` trains every combination of a grid on every data set with every
seed -- each run one :func:`~neuroplug.fit` with a fixed seed, bit-identical on any
backend -- through joblib's local processes or on a Dask cluster, writes each run to
``results.jsonl`` as it finishes (a rerun runs only what is missing) and a report:
summary tables with 95 % confidence intervals, figures and ``index.html``.
``neuroplug compare`` is the same on the command line.

The modules: :mod:`.grid` (what varies, the runs, their keys), :mod:`.runner` (one
run, on a worker), :mod:`.sweep` (the backends, the results file, :func:`compare`),
:mod:`.report` (statistics, tables, figures). joblib, Dask and matplotlib are
imported only when used (the ``compare`` and ``distributed`` extras).
"""

from __future__ import annotations

from .sweep import BACKENDS, RESULTS_FILE, Results, compare

__all__ = ["compare", "Results", "BACKENDS", "RESULTS_FILE"]
