"""`make synth` end to end against the stock aws_ecs_patterns app, as whole processes.

Run by hand (about a minute; never part of the test suite):

    .venv/bin/python bench/synth_end_to_end.py [--rounds 9]

A is `make synth` (the default spec: the CDK CLI runs app.py, four cdk-nag packs, the summary);
B is `cdk synth` of bench/stock/app.py (the same workloads, the same feature flags, built from
aws_ecs_patterns, no cdk-nag) through the same pinned CDK CLI and Node. After one warm-up of
each, the two run in turn (A B A B ...): each run's wall time and the CPU time of everything it
started (``getrusage(RUSAGE_CHILDREN)``), and the ratio A/B pair by pair, whose median is the
figure (goal: <= 1.25). Raw figures: bench/results/synth_end_to_end.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

# First: _common puts the project on sys.path and Node 24 and the pinned CDK CLI on PATH (as the Makefile does).
from _common import ROOT, machine, median, table, write_results

GOAL = 1.25
OURS = ["make", "--no-print-directory", "synth"]
STOCK_DIR = ROOT / "bench" / "stock"


def stock(outdir: str) -> list[str]:
    return ["cdk", "--no-notices", "--no-version-reporting", "synth", "--quiet", "--output", outdir]


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one whole run (the command and every process it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CDK_DISABLE_CLI_TELEMETRY": "true"}
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory() as outdir:
        commands = {"ours": (OURS, ROOT), "stock": (stock(outdir), STOCK_DIR)}
        for command, cwd in commands.values():  # warm-up: file caches, the CLI's first start
            run(command, cwd)
        pairs = []
        for r in range(args.rounds):
            ours = run(*commands["ours"])
            theirs = run(*commands["stock"])
            pairs.append({"ours_wall_s": ours[0], "ours_cpu_s": ours[1], "stock_wall_s": theirs[0], "stock_cpu_s": theirs[1]})
            print(
                f"round {r + 1}/{args.rounds}: ours {ours[0]:.2f} s, stock {theirs[0]:.2f} s, ratio {ours[0] / theirs[0]:.2f}", flush=True
            )
    wall_ratio = median([p["ours_wall_s"] / p["stock_wall_s"] for p in pairs])
    cpu_ratio = median([p["ours_cpu_s"] / p["stock_cpu_s"] for p in pairs])
    rows = [
        ["make synth (ours)", median([p["ours_wall_s"] for p in pairs]), median([p["ours_cpu_s"] for p in pairs])],
        ["cdk synth (stock)", median([p["stock_wall_s"] for p in pairs]), median([p["stock_cpu_s"] for p in pairs])],
    ]
    print(table(["command", "median wall s", "median CPU s"], rows))
    print(f"\nours / stock, median of per-round ratios: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f} (goal <= {GOAL})")
    info["loadavg_at_end"] = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    path = write_results(
        "synth_end_to_end",
        {
            "machine": info,
            "goal": GOAL,
            "wall_ratio": wall_ratio,
            "cpu_ratio": cpu_ratio,
            "pairs": pairs,
            "ours": OURS,
            "stock": "bench/stock",
        },
    )
    print(f"raw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
