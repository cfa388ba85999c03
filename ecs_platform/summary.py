"""One-screen summary of a synthesized cloud assembly: stacks, resources, cdk-nag result.

python -m ecs_platform.summary [cdk.out]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Plugin reports that are not cdk-nag packs.
_NOT_NAG = {"CloudFormation Validate"}


@dataclass
class StackSummary:
    display_name: str
    stack_name: str
    resources: Counter[str]


@dataclass
class NagSummary:
    pack: str
    findings: list[tuple[str, str]] = field(default_factory=list)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _stack_artifacts(outdir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(artifact, template) of every CloudFormation stack, nested stage assemblies included."""
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for artifact in _read(outdir / "manifest.json").get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact["type"] == "cdk:cloud-assembly":
            found += _stack_artifacts(outdir / props["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            found.append((artifact, _read(outdir / props["templateFile"])))
    return found


def templates(outdir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(display name, template) of every stack of the assembly."""
    return [(artifact.get("displayName", "?"), template) for artifact, template in _stack_artifacts(outdir)]


def stacks(outdir: Path) -> list[StackSummary]:
    """Every CloudFormation stack of the assembly, nested stage assemblies included."""
    return [
        StackSummary(
            display_name=artifact.get("displayName", artifact["properties"].get("stackName", "?")),
            stack_name=artifact["properties"].get("stackName", artifact.get("displayName", "?")),
            resources=Counter(r["Type"] for r in template.get("Resources", {}).values()),
        )
        for artifact, template in _stack_artifacts(outdir)
    ]


def nag(outdir: Path) -> list[NagSummary]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    result = []
    for plugin in _read(report)["pluginReports"]:
        if plugin["pluginName"] in _NOT_NAG:
            continue
        summary = NagSummary(pack=plugin["pluginName"])
        for key, into in (("violations", summary.findings), ("suppressedViolations", summary.acknowledged)):
            for violation in plugin.get(key, []):
                for construct in violation["violatingConstructs"]:
                    into.append((violation["ruleName"], construct["constructPath"]))
        result.append(summary)
    return result


def render(outdir: Path) -> str:
    lines = [f"Synthesized {outdir}/"]
    all_stacks = stacks(outdir)
    for stack in all_stacks:
        total = sum(stack.resources.values())
        top = ", ".join(f"{kind.split('::', 1)[1]} {n}" for kind, n in stack.resources.most_common(5))
        lines.append(f"  {stack.display_name:<18} {stack.stack_name:<28} {total:>4} resources  ({top}, ...)")
    lines.append(f"  {len(all_stacks)} stacks, {sum(sum(s.resources.values()) for s in all_stacks)} resources (limit: 500 per stack)")
    packs = nag(outdir)
    if not packs:
        lines.append("cdk-nag: no validation report (synthesized without the rule packs?)")
    for pack in packs:
        rules = len({rule.split("[")[0] for rule, _ in pack.acknowledged})
        status = "PASS" if not pack.findings else f"FAIL: {len(pack.findings)} unacknowledged"
        lines.append(f"cdk-nag {pack.pack:<16} {status:<12} {len(pack.acknowledged):>3} acknowledged over {rules} rules")
        lines += [f"    {rule}  {path}" for rule, path in pack.findings]
    return "\n".join(lines)


def assembly_argument(argv: list[str] | None, usage: str) -> Path | None:
    """The assembly directory named on the command line (default cdk.out), or None after saying why not
    (``--help`` prints ``usage``)."""
    parser = argparse.ArgumentParser(description=usage)
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="a cloud assembly directory (default: cdk.out)")
    outdir = Path(parser.parse_args(sys.argv[1:] if argv is None else argv).assembly)
    if not (outdir / "manifest.json").exists():
        print(f"no cloud assembly in {outdir}/ (run make synth first)", file=sys.stderr)
        return None
    return outdir


def main(argv: list[str] | None = None) -> int:
    outdir = assembly_argument(argv, "One-screen summary of a synthesized cloud assembly: stacks, resources, cdk-nag result.")
    if outdir is None:
        return 1
    print(render(outdir))
    return 1 if any(p.findings for p in nag(outdir)) else 0


if __name__ == "__main__":
    sys.exit(main())
