"""Run the spec suite over many seeds to measure false failures of correct components.

``python -m neuroplug.spec.sweep --seeds 200 [SELECTOR] [--jobs 2]`` prints, for
each check that failed at least once, the seeds and the first message; a correct
component should fail nothing (each statistical check is designed for a
false-failure probability below 1e-6 per run).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections import defaultdict


def _run(args: tuple[str | None, int]) -> tuple[int, int, list[tuple[str, str, str]]]:
    from .runner import run_spec

    selector, seed = args
    report = run_spec(selector, seed=seed)
    return seed, len(report.results), [(r.component, r.check_id, r.message) for r in report.failures()]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 1 if any check failed for any seed."""
    parser = argparse.ArgumentParser(prog="python -m neuroplug.spec.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("selector", nargs="?", default=None, help="as for 'neuroplug spec' (default: all)")
    parser.add_argument("--seeds", type=int, default=200, help="number of seeds, 0..N-1 (default 200)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    failures: dict[tuple[str, str], list[int]] = defaultdict(list)
    messages: dict[tuple[str, str], str] = {}
    total = 0
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for seed, n, failed in pool.imap_unordered(_run, [(args.selector, s) for s in seeds]):
            total += n
            for component, check_id, message in failed:
                failures[(component, check_id)].append(seed)
                messages.setdefault((component, check_id), message)
    for key, failed_seeds in sorted(failures.items()):
        print(f"FAIL {key[0]} {key[1]} at seeds {sorted(failed_seeds)}\n    {messages[key].splitlines()[0]}")
    print(f"{len(seeds)} seeds, {total} check runs, {sum(map(len, failures.values()))} failures "
          f"({time.perf_counter() - started:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
