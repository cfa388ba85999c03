"""Small readers of synthesized templates, shared by the tests."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import Synthesized


def one(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The only resource of a mapping; fails if there are none or several."""
    assert len(resources) == 1, f"expected exactly one resource, got {sorted(resources)}"
    return next(iter(resources.values()))


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


def import_to_resource(synth: Synthesized, value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Follow ``{"Fn::ImportValue": export}`` from the workloads stack to the network resource it names."""
    export = value["Fn::ImportValue"]
    network = synth.network_json
    for output in network["Outputs"].values():
        if output.get("Export", {}).get("Name") == export:
            logical_id = output["Value"]["Ref"]
            return logical_id, network["Resources"][logical_id]
    raise AssertionError(f"no output of the network stack exports {export}")


def nag_findings(report: Mapping[str, Any], key: str = "violations") -> Counter[tuple[str, str]]:
    """(rule, construct path) of every cdk-nag finding of a validation report: ``violations`` (unacknowledged) or
    ``suppressedViolations`` (acknowledged); CDK's own CloudFormation validation left out."""
    found: Counter[tuple[str, str]] = Counter()
    for plugin in report["pluginReports"]:
        if plugin["pluginName"] == "CloudFormation Validate":
            continue
        for violation in plugin.get(key, []):
            for construct in violation["violatingConstructs"]:
                found[(violation["ruleName"], construct["constructPath"])] += 1
    return found


#: Where each resource type keeps its policy document.
POLICY_DOCUMENTS = {
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::IAM::Role": "AssumeRolePolicyDocument",
}


def service_statements(template: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(logical ID, service principal, statement) of every Allow statement of a template naming an AWS service."""
    for logical_id, resource in template["Resources"].items():
        prop = POLICY_DOCUMENTS.get(resource["Type"])
        if prop is None:
            continue
        for statement in resource["Properties"][prop]["Statement"]:
            principal = statement.get("Principal")
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            for service in [services] if isinstance(services, str) else services:
                if statement["Effect"] == "Allow":
                    yield logical_id, service, statement


def role_policy(synth: Synthesized, family_or_name: str, role: str) -> dict[tuple[str, str], set[str]]:
    """(resource, condition) -> actions of one workload's task or execution role."""
    td = next(v["Properties"] for v in synth.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == family_or_name)
    role_id = td["TaskRoleArn" if role == "task" else "ExecutionRoleArn"]["Fn::GetAtt"][0]
    (policy,) = [p for p in synth.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    flat: dict[tuple[str, str], set[str]] = defaultdict(set)
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            key = (json.dumps(resource, sort_keys=True) if not isinstance(resource, str) else resource,
                   json.dumps(statement.get("Condition", {}), sort_keys=True))  # fmt: skip
            flat[key] |= set(actions)
    return dict(flat)


def actions_on(policy: dict[tuple[str, str], set[str]], resource: str, condition: dict[str, Any] | None = None) -> set[str]:
    return policy.get((resource, json.dumps(condition or {}, sort_keys=True)), set())
