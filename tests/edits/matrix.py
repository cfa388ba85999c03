"""Deploying one assembly over another, judged by the rules of the edit matrix (issue 11).

``judge(before, after, expected)`` lists every way the deploy would fail or harm what runs:

- a guarded (stateful or traffic-bearing) resource replaced without the edit asking for it, or
  added, removed or replaced outside what the edit touches (its identity moved);
- a listener rule outside what the edit touches that changes priority, or a weighted rule of a
  traffic-shifting service that changes (ECS owns its weights: preflight reads them first);
- what ``ecs-platform preflight`` finds from the templates alone (exports in use that no deploy
  order can drop, fixed names or rule priorities that pass to another resource, target groups
  that would serve a second load balancer, stacks left deployed), unless the edit expects it;
- stacks to deploy first that the edit does not expect.

Touched parts are construct paths under the stack (``Service-orders``, ``Default/JobFailures``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_platform.cli.preflight import (
    AssemblyStack,
    Findings,
    check_fixed_names,
    check_missing_stacks,
    check_rule_priorities,
    check_target_groups,
    deploy_order,
)
from tests.edits.changes import Change, changes, listener_rule_priorities


@dataclass(frozen=True)
class Expected:
    """What an edit may do: the parts it touches, what it asks to replace (with the reason), what the
    preflight finds in its way (a step the user must take), and the stacks that deploy first."""

    touches: tuple[str, ...] = ()
    replaces: Mapping[str, str] | None = None
    """Regex of ``stack/LogicalId`` -> why the edit asks for the replacement."""
    refused: tuple[str, ...] = ()
    """Regexes of preflight findings the edit must get."""
    first: tuple[str, ...] = ()
    """Display names of the stacks the preflight deploys first, in order."""


def _path(resource: Mapping[str, Any]) -> str:
    parts = str(resource.get("Metadata", {}).get("aws:cdk:path", "")).split("/")
    return "/".join(parts[2:])


def _touched(path: str, touches: Sequence[str]) -> bool:
    return any(path == t or path.startswith(f"{t}/") for t in touches)


def _weighted(resource: Mapping[str, Any]) -> bool:
    actions = resource.get("Properties", {}).get("Actions", [])
    return any(len(a.get("ForwardConfig", {}).get("TargetGroups", [])) == 2 for a in actions)


def judge(before: Sequence[AssemblyStack], after: Sequence[AssemblyStack], expected: Expected) -> list[str]:
    """Every way deploying ``after`` over a deployed ``before`` breaks the rules above (empty: it deploys cleanly)."""
    old = {s.name: s.template for s in before}
    new = {s.name: s.template for s in after}
    found: list[str] = []
    replaces = expected.replaces or {}
    for change in changes(old, new):
        resource = (
            new.get(change.stack, {}).get("Resources", {}).get(change.logical_id) or old[change.stack]["Resources"][change.logical_id]
        )
        path = _path(resource)
        found += _judge_change(change, path, expected, replaces)
        was = old.get(change.stack, {}).get("Resources", {}).get(change.logical_id)
        if change.kind == "updated" and was is not None and _weighted(was) and not _touched(path, expected.touches):
            found.append(f"{change}: a traffic-shifting rule of an untouched service changes")
    before_priorities, after_priorities = listener_rule_priorities(old), listener_rule_priorities(new)
    for key, priority in sorted(before_priorities.items()):
        if key in after_priorities and after_priorities[key] != priority:
            path = _path(new[key[0]]["Resources"][key[1]])
            if not _touched(path, expected.touches):
                found.append(f"{key[0]}/{key[1]}: priority {priority} -> {after_priorities[key]} of an untouched rule")
    findings = Findings()
    check_missing_stacks(after, old, findings)
    first = deploy_order(after, old, findings)
    check_fixed_names(after, old, findings)
    check_rule_priorities(after, old, findings)
    check_target_groups(after, old, findings)
    for problem in findings.problems:
        if not any(re.search(r, problem) for r in expected.refused):
            found.append(f"preflight: {problem}")
    for wanted in expected.refused:
        if not any(re.search(wanted, p) for p in findings.problems):
            found.append(f"preflight does not refuse what it should: {wanted}")
    if tuple(s.display for s in first) != expected.first:
        found.append(f"stacks deployed first: {[s.display for s in first]}, expected {list(expected.first)}")
    return found


def _judge_change(change: Change, path: str, expected: Expected, replaces: Mapping[str, str]) -> list[str]:
    if not change.guarded:
        return []
    if change.kind == "replaced":
        if any(re.fullmatch(r, f"{change.stack}/{change.logical_id}") for r in replaces):
            return []
        return [f"{change}: replaced, and the edit did not ask for it"]
    if change.kind in ("added", "removed", "replaced") and not _touched(path, expected.touches):
        return [f"{change} at {path}: outside what the edit touches"]
    return []
