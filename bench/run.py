"""Run every benchmark scenario and print one verdict: ``make bench`` calls this.

Quick by default (under 10 minutes on the project's two-core machines); ``--full``
measures longer rounds (under 30). Each scenario prints its own table; the last
line is ``N passed, N failed`` over every row of every scenario, and the exit
status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import time

import d_federation
import f1_feeds
import i_inbox
import p1_directory
import p2_pages
import p3_search
from harness import ROOT, Result, RunConfig, failed_result, summary_line, write_results

#: id → module with ``run(cfg, modes)``; add scenarios here as they are written.
SCENARIOS = {
    "P1": p1_directory,
    "P2": p2_pages,
    "P3": p3_search,
    "F1": f1_feeds,
    "D": d_federation,  # D1, D2, D3
    "I": i_inbox,  # I1, I2
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Maillage benchmarks (see shared/BENCH.md).")
    parser.add_argument("--full", action="store_true", help="longer rounds (make bench FULL=1)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only this scenario (repeatable)",
    )
    parser.add_argument(
        "--mode",
        action="append",
        choices=["A", "B"],
        help="run only this mode (repeatable; default both)",
    )
    args = parser.parse_args(argv)

    cfg = RunConfig.make(full=args.full)
    modes = tuple(args.mode or ("A", "B"))
    print(f"Maillage benchmarks ({'full' if cfg.full else 'quick'}): {cfg.describe()}", flush=True)
    began = time.monotonic()
    results: list[Result] = []
    for scenario_id in args.only or list(SCENARIOS):
        try:
            results += SCENARIOS[scenario_id].run(cfg, modes)
        except Exception as exc:  # one broken scenario must not hide the others' verdicts
            print(f"{scenario_id} crashed: {exc!r}", file=sys.stderr)
            results.append(failed_result(scenario_id, "-", "crashed", repr(exc)))
    path = write_results(results, cfg)
    minutes = (time.monotonic() - began) / 60
    print(f"results written to {path.relative_to(ROOT)}; took {minutes:.1f} min")
    print(summary_line(results))
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
