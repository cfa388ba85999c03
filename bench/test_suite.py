"""Wall time of the full test suite, after installs.

Run by hand (several minutes; never part of the test suite itself):

    .venv/bin/python bench/test_suite.py [--rounds 2]

Runs ``make test``'s command (``python -m pytest -n <cores> --dist loadfile``, plus ``-q -p
no:cacheprovider --durations=0``) from the project root ``--rounds`` times in a row
(``--durations`` only adds every test's setup/call/teardown time to the report) and reports each run's wall time, the CPU time of pytest and
everything it started (``getrusage(RUSAGE_CHILDREN)``), pytest's summary line, the median
wall time, and where the last run spent its time: the slowest tests and the test files.
Installs are not timed: run ``make setup`` first (the script refuses to run without it).

Goal: median <= 90 s. Raw figures: bench/results/test_suite.json.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

# First: _common puts the project on sys.path and Node 24 on PATH (as the Makefile does).
from _common import ROOT, machine, median, table, write_results

GOAL_S = 90.0
ENV = {"PYTHONDONTWRITEBYTECODE": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"}  # as the Makefile exports them
WORKERS = str(os.cpu_count() or 2)
COMMAND = [sys.executable, "-m", "pytest", "-n", WORKERS, "--dist", "loadfile", "-q", "-p", "no:cacheprovider", "--durations=0"]
DURATION = re.compile(r"^(\d+\.\d+)s (call|setup|teardown) +(\S+)$")
STAMPS = [ROOT / ".venv" / ".dev-installed", ROOT / "node_modules" / ".installed"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    missing = [str(p.relative_to(ROOT)) for p in STAMPS if not p.exists()]
    if missing:
        raise SystemExit(f"installs missing ({', '.join(missing)}): run `make setup` first")

    info = machine()
    runs = []
    for r in range(args.rounds):
        cpu0, start = children_cpu(), time.perf_counter()
        proc = subprocess.run(COMMAND, cwd=ROOT, env=os.environ | ENV, capture_output=True, text=True, check=False)
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
        lines = proc.stdout.strip().splitlines()
        summary = lines[-1].strip("= ") if lines else "(no output)"
        durations = [(float(m[1]), m[2], m[3]) for m in map(DURATION.match, lines) if m]
        runs.append({"wall_s": wall, "cpu_s": cpu, "exit": proc.returncode, "summary": summary, "durations": durations})
        print(f"run {r + 1}/{args.rounds}: {wall:.1f} s wall, {cpu:.1f} s CPU, exit {proc.returncode}: {summary}", flush=True)
        if proc.returncode != 0:
            print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n")

    med = median([run["wall_s"] for run in runs])
    print(f"\n`{' '.join(['python', *COMMAND[1:]])}`, {args.rounds} runs")
    rows = [[i + 1, run["wall_s"], run["cpu_s"], run["exit"], run["summary"]] for i, run in enumerate(runs)]
    print(table(["run", "wall s", "CPU s", "exit", "pytest summary"], rows))
    print(f"\nmedian wall time: {med:.1f} s (goal <= {GOAL_S:.0f} s): {'met' if med <= GOAL_S else 'MISSED'}")
    durations = runs[-1]["durations"]
    print("\nThe last run: slowest test phases")
    print(table(["s", "phase", "test"], [list(d) for d in durations[:12]]))
    by_file: dict[str, float] = {}
    for seconds, _, test in durations:
        by_file[test.split("::")[0]] = by_file.get(test.split("::")[0], 0.0) + seconds
    print(f"\nThe last run: test files by time (all phases; {sum(by_file.values()):.1f} s in tests in total)")
    print(table(["s", "file"], sorted(([s, f] for f, s in by_file.items()), reverse=True)[:15]))
    info["loadavg_at_end"] = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    path = write_results("test_suite", {"machine": info, "command": COMMAND[1:], "goal_s": GOAL_S, "median_wall_s": med, "runs": runs})
    print(f"\nmachine: {info}\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
