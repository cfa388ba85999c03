"""What deploying one set of templates over another does, resource by resource (nothing deployed).

Stacks are compared by stack name, resources by logical ID. A resource in both is *replaced* when
its type changes or a create-only property of its CloudFormation resource schema (the schemas
cfn-lint ships) takes another value; else *updated* when anything changed. A create-only value
that names a replaced resource (``Ref``, ``Fn::GetAtt``, ``${X}`` in ``Fn::Sub``), or imports an
export whose value names one, changes too: replacement cascades, within and across stacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

from ecs_platform.cli.preflight import imports

Templates = Mapping[str, Mapping[str, Any]]
"""Stack name -> template."""

#: Resources whose replacement loses data or history (logs, keys, queues, topics, buckets, the network).
STATEFUL = frozenset(
    {
        "AWS::Logs::LogGroup",
        "AWS::KMS::Key",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::S3::Bucket",
        "AWS::ServiceDiscovery::HttpNamespace",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
    }
)
#: Resources whose replacement interrupts or reroutes traffic.
TRAFFIC_BEARING = frozenset(
    {
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::NatGateway",
        "AWS::EC2::InternetGateway",
        "AWS::Route53::RecordSet",
        "AWS::CertificateManager::Certificate",
    }
)
GUARDED = STATEFUL | TRAFFIC_BEARING


@dataclass(frozen=True)
class Change:
    """One resource that a deploy adds, removes, updates in place or replaces."""

    stack: str
    logical_id: str
    type: str
    kind: str
    """``added``, ``removed``, ``updated`` or ``replaced``."""
    why: str = ""
    """For ``replaced``: the create-only property (or the type) that changed."""
    owner: str = ""
    """The construct the resource belongs to under its stack (``Service-orders``, ``Default``, ...)."""

    @property
    def guarded(self) -> bool:
        return self.type in GUARDED

    def __str__(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f"{self.stack}/{self.logical_id} [{self.type}] {self.kind}{why}"


@cache
def create_only_properties(resource_type: str, region: str = "us-east-1") -> tuple[tuple[str, ...], ...]:
    """The create-only property paths of a resource type (``("ServiceName",)``, ``("A", "B")``)."""
    if not resource_type.startswith("AWS::"):
        return ()
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = pointer.split("/")[2:]  # '/properties/A/B' -> ['A', 'B']
        paths.append(tuple(p for p in parts if p != "*"))
    return tuple(paths)


def owner_of(resource: Mapping[str, Any]) -> str:
    """The construct under the stack a resource belongs to, from its ``aws:cdk:path`` (stage/stack/owner/...)."""
    path = str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
    parts = path.split("/")
    return parts[2] if len(parts) > 3 else ""


def references(value: Any) -> Iterator[str]:
    """The logical IDs a value names through ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``."""
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            yield str(getatt[0])
        sub = value.get("Fn::Sub")
        if sub is not None:
            text = sub if isinstance(sub, str) else sub[0]
            yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def exports(template: Mapping[str, Any]) -> dict[str, Any]:
    """Export name -> the output's value."""
    return {
        o["Export"]["Name"]: o["Value"] for o in template.get("Outputs", {}).values() if isinstance(o.get("Export", {}).get("Name"), str)
    }


def _at(properties: Any, path: tuple[str, ...]) -> Any:
    value = properties
    for part in path:
        if isinstance(value, list):
            return [_at(item, (part,)) for item in value]
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def changes(before: Templates, after: Templates) -> list[Change]:
    """Every resource a deploy of ``after`` over ``before`` adds, removes, updates or replaces."""
    replaced: dict[tuple[str, str], str] = {}
    changed_exports: set[str] = set()
    while True:
        grew = False
        for stack in sorted(set(before) & set(after)):
            old, new = before[stack].get("Resources", {}), after[stack].get("Resources", {})
            for logical_id in sorted(set(old) & set(new)):
                if (stack, logical_id) in replaced:
                    continue
                why = _replacement(stack, old[logical_id], new[logical_id], replaced, changed_exports)
                if why:
                    replaced[(stack, logical_id)] = why
                    grew = True
        for stack in sorted(set(before) & set(after)):
            for name, value in exports(after[stack]).items():
                old_value = exports(before[stack]).get(name)
                if name in changed_exports or old_value is None:
                    continue
                if _canonical(old_value) != _canonical(value) or any((stack, r) in replaced for r in references(value)):
                    changed_exports.add(name)
                    grew = True
        if not grew:
            break
    found: list[Change] = []
    for stack in sorted(set(before) | set(after)):
        old = before.get(stack, {}).get("Resources", {})
        new = after.get(stack, {}).get("Resources", {})
        for logical_id in sorted(set(old) | set(new)):
            resource = new.get(logical_id) or old[logical_id]
            kind, why = "updated", ""
            if logical_id not in new:
                kind = "removed"
            elif logical_id not in old:
                kind = "added"
            elif (stack, logical_id) in replaced:
                kind, why = "replaced", replaced[(stack, logical_id)]
            elif _canonical(_deployed(old[logical_id])) == _canonical(_deployed(new[logical_id])):
                continue  # nothing CloudFormation acts on changed (Metadata alone updates nothing)
            found.append(Change(stack, logical_id, resource["Type"], kind, why, owner_of(resource)))
    return found


def _deployed(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "Metadata"}


def _replacement(
    stack: str, old: Mapping[str, Any], new: Mapping[str, Any], replaced: Mapping[tuple[str, str], str], changed_exports: set[str]
) -> str:
    if old["Type"] != new["Type"]:
        return f"type {old['Type']} -> {new['Type']}"
    for path in create_only_properties(new["Type"]):
        was, now = _at(old.get("Properties", {}), path), _at(new.get("Properties", {}), path)
        name = ".".join(path)
        if _canonical(was) != _canonical(now):
            return f"{name} changed"
        hit = next((r for r in references(now) if (stack, r) in replaced), None)
        if hit is not None:
            return f"{name} names {hit}, replaced"
        imported = next((i for i in imports(now) if i in changed_exports), None)
        if imported is not None:
            return f"{name} imports {imported}, whose value changes"
    return ""


def listener_rule_priorities(templates: Templates) -> dict[tuple[str, str], Any]:
    """(stack, logical ID) -> priority of every listener rule."""
    return {
        (stack, logical_id): resource.get("Properties", {}).get("Priority")
        for stack, template in templates.items()
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
    }
