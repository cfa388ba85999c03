"""Who may do what: per workload, role -> actions -> resources, read from a synthesized assembly.

    python -m ecs_platform.access_report [cdk.out]     (make access-report)

Stable, sorted text, so a reviewer sees a permission change as a diff.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from ecs_platform.intrinsics import render
from ecs_platform.summary import assembly_argument, templates


def _statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_lines(template: dict[str, Any], role_id: str) -> list[str]:
    """``action -> resource [condition]`` lines of one role, sorted."""
    grants: dict[tuple[str, str], set[str]] = defaultdict(set)
    for statement in _statements(template, role_id):
        condition = f"  if {json.dumps(statement['Condition'], sort_keys=True)}" if "Condition" in statement else ""
        for resource in _as_list(statement["Resource"]):
            grants[(render(resource), condition)] |= set(_as_list(statement["Action"]))
    if not grants:
        return ["      (no permissions)"]
    return [f"      {', '.join(sorted(actions))}  ->  {resource}{condition}" for (resource, condition), actions in sorted(grants.items())]


def report(outdir: Path) -> str:
    lines: list[str] = []
    for name, template in templates(outdir):
        resources = template.get("Resources", {})
        described: set[str] = set()
        for td in sorted(
            (r["Properties"] for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition"), key=lambda p: p.get("Family", "")
        ):
            lines.append(f"{name}: task definition {td.get('Family', '?')}")
            for label, key in (("task role", "TaskRoleArn"), ("execution role", "ExecutionRoleArn")):
                role_id = td[key]["Fn::GetAtt"][0]
                described.add(role_id)
                lines += [f"    {label} ({role_id})", *role_lines(template, role_id)]
        for role_id, role in sorted(resources.items()):
            if role["Type"] == "AWS::IAM::Role" and role_id not in described:
                principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                lines += [
                    f"{name}: role {role_id} (assumed by {render(principal.get('Service', principal))})",
                    *role_lines(template, role_id),
                ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    outdir, _ = assembly_argument(argv, "Who may do what: per workload, role -> actions -> resources, from a synthesized assembly.")
    if outdir is None:
        return 1
    print(report(outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
