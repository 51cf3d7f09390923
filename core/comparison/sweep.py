"""Running a comparison: the runs of a grid, on joblib's local processes or a Dask cluster, resumable.

Each finished run is appended to ``results.jsonl`` in the output folder as soon as it
arrives (one JSON line, flushed and synced); a rerun of the same comparison reads the
file and runs only what is missing -- an interrupted sweep continues, a new seed or a
new component runs only its own runs. A run that fails or diverges is recorded with
its error and the sweep goes on; a run lost with a worker that died is not recorded,
so the rerun does it.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from ..errors import ConfigError, InputError
from .grid import COMPONENT_KINDS, DEFAULTS, check_grid, combinations, label, run_key
from .runner import data_identity, run_one

__all__ = ["compare", "Results", "plan", "RESULTS_FILE", "BACKENDS"]

#: The file of a comparison's records in its output folder (JSON lines).
RESULTS_FILE = "results.jsonl"
#: The ways to run: in this process, joblib's local processes, a Dask cluster.
BACKENDS = ("sequential", "local", "dask")


# ---------------------------------------------------------------------- the runs
def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, bool):
        raise InputError(f"seeds must be a number of seeds (>= 1) or a list of seeds >= 0; got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise InputError(f"seeds must be a number of seeds >= 1 (or a list of seeds); got {seeds!r}")
        return list(range(seeds))
    try:
        values = [s for s in seeds]
    except TypeError:
        raise InputError(f"seeds must be a number of seeds or a list of seeds >= 0; got {seeds!r}") from None
    if not values or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in values) \
            or len(set(values)) != len(values):
        raise InputError(f"seeds must be distinct integers >= 0; got {seeds!r}")
    return values


def plan(grid: dict[str, Any], data: Sequence[str], seeds: Any, settings: dict[str, Any],
         target: str | None = None) -> list[dict[str, Any]]:
    """The run specs of a comparison: every combination of ``grid`` x data set x seed.

    ``settings`` fixes what the grid does not vary (see :data:`~neuroplug.comparison.grid.DEFAULTS`).
    """
    grid = check_grid(grid)
    base = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    fixed = check_grid({k: [v] for k, v in base.items() if k not in grid and v is not None})
    base.update({k: v[0] for k, v in fixed.items()})
    if isinstance(data, str):
        data = [data]
    if not data:
        raise InputError("data must name at least one data set")
    datasets = [data_identity(name, target) for name in data]
    names = [d["name"] for d in datasets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # the report groups by name: two data sets of one name would be averaged together
        raise InputError(f"data lists {', '.join(map(repr, twice))} more than once (data sets are told apart by "
                         f"name: give files different names)")
    specs = []
    seed_list = _seeds(seeds)
    for identity in datasets:  # grouped by data set, as the report shows them
        for combination in combinations(grid):
            setup = {**base, **combination}
            for seed in seed_list:
                spec = {"combination": combination, "label": label(combination), "data": identity, "seed": seed,
                        "setup": setup}
                spec["key"] = run_key(spec)
                specs.append(spec)
    return specs


def _components(specs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The distinct components the runs create, as (registry kind, spec)."""
    seen: dict[str, tuple[str, Any]] = {}
    for spec in specs:
        for key, kind in COMPONENT_KINDS.items():
            value = spec["setup"].get(key)
            if value is not None:
                seen.setdefault(json.dumps([kind, value], sort_keys=True), (kind, value))
    return list(seen.values())


def _check_baseline(baseline: Any, grid: dict[str, list[Any]]) -> None:
    """``baseline`` must be a value of the grid as the report matches it (a name, a component's
    name, a number): checked before any run, not after the sweep."""
    from .report.records import _value_name
    from .report.summary import _matches

    if not isinstance(baseline, str) or not any(_matches(v, baseline) for vs in grid.values() for v in vs):
        names = [_value_name(v) for vs in grid.values() for v in vs if not isinstance(v, list)]
        raise InputError(f"baseline={baseline!r} is not a value of the grid; it may be one of: "
                         f"{', '.join(dict.fromkeys(names)) or '(no value: layer sizes cannot be a baseline)'}")


def _refuse_in_process(needed: list[tuple[str, Any]], backend: str) -> None:
    """A component registered in this process only (``neuroplug.register``) does not exist in worker
    processes: a ConfigError naming it, before any run."""
    from ..registry import LOCAL_DISTRIBUTION, get_registry

    local = []
    for kind, spec in needed:
        name = spec if isinstance(spec, str) else spec["name"]
        entry = get_registry().resolve(kind, name)
        if entry.plugin.distribution == LOCAL_DISTRIBUTION:
            local.append(f"{kind} {name!r}")
    if local:
        where = "Dask workers" if backend == "dask" else "joblib's worker processes"
        raise ConfigError(f"{', '.join(local)} {'is' if len(local) == 1 else 'are'} registered in this process "
                          f"only, so {where} cannot create {'it' if len(local) == 1 else 'them'}: run with "
                          f"jobs=1 (or backend='sequential'), or install {'it' if len(local) == 1 else 'them'} "
                          f"as a plugin (an entry point in the 'neuroplug' group)")


def missing_components(needed: list[tuple[str, Any]]) -> list[str]:
    """Which of ``needed`` cannot be created here (run on every worker before a Dask sweep)."""
    import neuroplug as npl

    missing = []
    for kind, spec in needed:
        try:
            npl.create(kind, spec)
        except npl.NeuroplugError as exc:
            missing.append(f"{kind} {spec!r}: {exc}")
    return missing


# ---------------------------------------------------------------------- the results file
def read_records(path: str) -> list[dict[str, Any]]:
    """The records in ``path`` (none when it does not exist); a line cut short by a crash is skipped."""
    if not os.path.exists(path):
        return []
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                warnings.warn(f"{path}:{number} is not a complete record (a run cut short?); it is run again",
                              RuntimeWarning, stacklevel=2)
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                records.append(record)
    return records


class _Appender:
    """Appends each record as one line, flushed and synced: what has finished survives a crash."""

    def __init__(self, path: str) -> None:
        folder = os.path.dirname(path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            if os.path.exists(path) and os.path.getsize(path):
                with open(path, "rb") as fh:  # a line cut short gets its own line ended
                    fh.seek(-1, os.SEEK_END)
                    cut = fh.read(1) != b"\n"
            else:
                cut = False
            self.fh = open(path, "a", encoding="utf-8")
        except OSError as exc:
            from ..errors import FileWriteError

            raise FileWriteError(f"cannot write the results to {path!r}: {exc.strerror or exc}", path,
                                 exc.errno) from None
        if cut:
            self.fh.write("\n")

    def add(self, record: dict[str, Any]) -> None:
        self.fh.write(json.dumps(record, allow_nan=False, default=float) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


# ---------------------------------------------------------------------- the backends
def _sequential(specs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for spec in specs:
        yield run_one(spec)


def _joblib(specs: list[dict[str, Any]], jobs: int) -> Iterator[dict[str, Any]]:
    try:
        from joblib import Parallel, delayed
    except ImportError:
        raise ConfigError('running on several processes needs joblib: pip install "neuroplug[compare]" '
                          '(or jobs=1)') from None
    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(run_one)(s) for s in specs)


def _client(client: Any, scheduler: str | None) -> tuple[Any, bool]:
    """The Dask client to use, and whether this call opened it (and closes it)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError('backend="dask" needs Dask: pip install "neuroplug[distributed]"') from None
    if client is not None:
        return client, False
    if scheduler is None:
        from dask.distributed import default_client

        try:  # the Client the caller has opened (``with Client(...):`` or ``client = Client(...)``)
            return default_client(), False
        except ValueError:
            raise ConfigError('backend="dask" needs a Dask client: open a dask.distributed.Client first, or '
                              'give client=... or scheduler="tcp://host:8786"') from None
    try:
        return Client(scheduler, timeout="20s"), True
    except OSError as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def _check_workers(client: Any, specs: list[dict[str, Any]]) -> None:
    """Every worker must create every component of the runs: say which one is missing where.

    A worker whose connection closes during the check (it died, or the cluster is scaling down) is
    left out: it runs nothing, and Dask gives its tasks to the others. A worker on which the check
    itself fails (``neuroplug`` cannot be imported there, say) is named in the error.
    """
    answers = client.run(missing_components, _components(specs), on_error="return")
    problems = []
    answered = 0
    for worker, missing in sorted(answers.items()):
        if isinstance(missing, OSError):  # the connection closed: the worker is gone, not misconfigured
            continue
        answered += 1
        if isinstance(missing, BaseException):
            problems.append(f"{worker}: the check failed there with {type(missing).__name__}: {missing}")
        else:
            problems.extend(f"{worker}: {m}" for m in missing)
    if not answered:
        raise ConfigError("the Dask cluster has no worker" + (f" left: all {len(answers)} closed their "
                                                                "connection during the check" if answers else ""))
    if problems:
        raise ConfigError("some Dask workers cannot run these comparisons (install the same plugins there): "
                          + "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10
                                                        else ""))


def _dask(specs: list[dict[str, Any]], client: Any, lost: list[str]) -> Iterator[dict[str, Any]]:
    from dask.distributed import as_completed

    futures = client.map(run_one, specs, key=[f"neuroplug-run-{s['key']}" for s in specs], retries=2, pure=False)
    for future in as_completed(futures):
        try:
            yield future.result()
        except Exception as exc:  # noqa: BLE001 - a worker lost past the retries: not recorded, run again later
            lost.append(f"{type(exc).__name__}: {exc}")
        finally:
            future.release()


# ---------------------------------------------------------------------- the public call
@dataclass
class Results:
    """The records of a comparison (one per run), with their summary and report.

    ``lost`` lists the runs that no worker finished (a worker that died past the
    retries): they are not in ``records``, and running the comparison again runs them.
    """

    records: list[dict[str, Any]]
    output: str | None = None
    lost: list[str] = field(default_factory=list)
    ran: int = 0

    def summary(self) -> list[dict[str, Any]]:
        """One row per (data set, combination): mean and 95 % CI of the held-out accuracy and loss,
        time, diverged and failed runs (see :func:`neuroplug.comparison.report.summarize`)."""
        from .report import summarize

        return summarize(self.records)

    def paired(self, baseline: str) -> list[dict[str, Any]]:
        """Per-seed differences against the combinations with ``baseline`` (see :func:`~.report.paired`)."""
        from .report import paired

        return paired(self.records, baseline)

    def table(self) -> str:
        """The summary as a markdown table."""
        from .report import format_markdown

        return format_markdown(self.summary())

    def write_report(self, folder: str | None = None, baseline: str | None = None) -> str:
        """Write the report (tables, figures, ``index.html``) to ``folder`` (default: the output
        folder); returns the path of ``index.html``."""
        from .report import write_report

        folder = folder or self.output
        if folder is None:
            raise InputError("write_report needs a folder (this comparison had no output folder)")
        return write_report(self.records, folder, baseline=baseline, results_name=RESULTS_FILE)

    def __repr__(self) -> str:
        from collections import Counter

        counts = Counter(r.get("status") for r in self.records)
        extra = f", {len(self.lost)} lost (run it again)" if self.lost else ""
        return (f"Results({len(self.records)} runs: {counts.get('ok', 0)} ok, {counts.get('diverged', 0)} "
                f"diverged, {counts.get('failed', 0)} failed; {self.ran} run now{extra})")


def compare(grid: dict[str, Any], data: Sequence[str] | str = ("digits",), seeds: Any = 5, *, target: str | None = None,
            epochs: int | None = None, lr: float | None = None, batch_size: int | None = None,
            hidden: Sequence[int] | None = None, activation: Any = None, init: Any = None, loss: Any = None,
            optimizer: Any = None, schedule: Any = None, backend: str = "local", jobs: int | None = None,
            client: Any = None, scheduler: str | None = None, output: str | None = None,
            baseline: str | None = None, progress: bool = True) -> Results:
    """Train every combination of ``grid`` on every data set with every seed; return the records.

    Parameters
    ----------
    grid : dict
        What varies: component kinds (``activation``, ``init``, ``loss``,
        ``optimizer``, ``schedule``) to lists of names or ``{"name", "config"}``
        dicts, and fit settings (``lr``, ``batch_size``, ``epochs``, ``hidden``) to
        lists of values, e.g. ``{"activation": ["relu", "tanh"], "lr": [0.01, 0.1]}``.
    data : str or list of str
        Data sets: ``digits``, ``moons``, ``circles``, ``spirals``, ``regression``
        (:func:`neuroplug.datasets.load_named`), or paths of ``.npz`` / ``.csv`` files
        (read on the workers, at the same path). Each is split 75/25 once (seed 0)
        and standardized; the held-out quarter gives the test metrics.
    target : str, optional
        For data files: the target column (CSV) or array (NPZ), as ``neuroplug
        train --target``; default the last column / ``y``.
    seeds : int or list of int
        ``n`` (seeds ``0 .. n-1``) or the seeds. A run's seed sets the network's
        initial weights and the order of the samples: a run is bit-identical
        whichever backend runs it.
    epochs, lr, batch_size, hidden, activation, init, loss, optimizer, schedule
        What the grid does not vary (defaults: :data:`~neuroplug.comparison.grid.DEFAULTS`;
        the loss: cross-entropy for classification, MSE for regression).
    backend : {"local", "dask", "sequential"}
        ``local``: joblib's worker processes (``jobs``, default all cores);
        ``dask``: a Dask cluster (``client=`` a ``dask.distributed.Client``, or
        ``scheduler="tcp://host:8786"``; by default the Client already opened in
        this process), with each run retried twice if its worker
        dies; ``sequential``: in this process.
    output : str, optional
        A folder: each finished run is appended to ``results.jsonl`` there as it
        arrives, and the runs already in it are not run again. With it, the report
        (tables, figures, ``index.html``) is written there at the end.
    baseline : str, optional
        A grid value (``"relu"``) the other combinations are compared with, seed by
        seed, in the report.
    progress : bool
        A progress bar over the runs.

    Returns
    -------
    Results
        The records of every run of this comparison (earlier ones from ``output``
        included); ``summary()``, ``paired()``, ``table()``, ``write_report()``.

    Raises
    ------
    ConfigError, InputError
        For a bad grid, setting, data set or backend -- before any run; for a Dask
        worker that lacks a plugin the runs need (naming the worker and the component).
    """
    import neuroplug as npl

    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1):
        raise InputError(f"jobs must be a number of processes >= 1 (or -1: all cores); got {jobs!r}")
    settings = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "hidden": list(hidden) if hidden is not None else None,
                "activation": activation, "init": init, "loss": loss, "optimizer": optimizer, "schedule": schedule}
    specs = plan(grid, data, seeds, settings, target)
    if baseline is not None:
        _check_baseline(baseline, check_grid(grid))
    for kind, spec in _components(specs):  # every component exists here: refused now, not once per run
        npl.create(kind, spec)
    if backend != "sequential" and (backend == "dask" or (jobs or os.cpu_count() or 1) != 1):
        _refuse_in_process(_components(specs), backend)
    path = os.path.join(output, RESULTS_FILE) if output is not None else None
    done = {r["key"]: r for r in read_records(path)} if path else {}
    todo = [s for s in specs if s["key"] not in done]
    results = Results([], output)
    appender = _Appender(path) if path is not None and todo else None
    opened = None
    try:
        if not todo:
            stream: Iterable[dict[str, Any]] = ()
        elif backend == "dask":
            dask_client, close = _client(client, scheduler)
            opened = dask_client if close else None
            _check_workers(dask_client, todo)
            stream = _dask(todo, dask_client, results.lost)
        elif backend == "local" and (jobs or os.cpu_count() or 1) != 1 and len(todo) > 1:
            stream = _joblib(todo, jobs or -1)
        else:
            stream = _sequential(todo)
        bar = _bar(len(specs), len(specs) - len(todo), progress)
        try:
            for record in stream:
                done[record["key"]] = record
                results.ran += 1
                if appender is not None:
                    appender.add(record)
                bar.update(1)
        finally:
            bar.close()
    finally:
        if appender is not None:
            appender.close()
        if opened is not None:
            opened.close()
    # a run found in the file may have been made by another grid (activation only, now also lr):
    # it is the same run (same key), named as this comparison names it
    results.records = [{**done[s["key"]], "label": s["label"], "combination": s["combination"]}
                       for s in specs if s["key"] in done]
    if output is not None and results.records:
        results.write_report(output, baseline=baseline)
    return results


def _bar(total: int, initial: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="run", disable=not enabled, dynamic_ncols=True)
