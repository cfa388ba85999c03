"""Policies that work and stay narrow on every example spec: alarms reach their topic, every AWS
service principal is limited to this account's sources, keys are used through their service,
every role carries the organization's boundary, and ECS Exec works with a read-only root."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_platform.constructs import NO_SOURCE_CONDITION, SOURCE_ARNS
from ecs_platform.constructs.web_service import EXEC_AGENT_PATHS
from tests.conftest import Synthesized
from tests.helpers import service_statements
from tests.template_diff import stack_templates

EXAMPLES = ["default", "production", "services", "batch", "web", "access", "environments", "ec2"]


@pytest.fixture
def outdir(name: str, synth: Callable[[str], Synthesized], assembled: Callable[[str], Path]) -> Path:
    """The cloud assembly of an example: its environments, and what they share, and their pipeline."""
    return assembled(name) if name == "environments" else synth(name).outdir


def templates(outdir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(display name, template) of every stack of the assembly."""
    yield from stack_templates(outdir).items()


def service_statements_of(outdir: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, service principal, statement) of every Allow statement naming an AWS service, in every stack."""
    for stack, template in templates(outdir):
        for logical_id, service, statement in service_statements(template):
            yield f"{stack}/{logical_id}", service, statement


def _regional(service: str) -> str:
    return re.sub(r"\.[a-z]{2}(-[a-z]+)+-\d\.", ".<region>.", service)


@pytest.mark.parametrize("name", EXAMPLES)
def test_iam6_every_service_principal_is_limited_to_this_accounts_sources(name: str, outdir: Path) -> None:
    """Confused deputy: a service of SOURCE_ARNS carries aws:SourceAccount and aws:SourceArn on every
    statement; any other service is one AWS documents without them (NO_SOURCE_CONDITION, with the reason).
    Every stack: the environments', what they share, the pipeline's."""
    found = list(service_statements_of(outdir))
    assert found
    for where, service, statement in found:
        condition = statement.get("Condition", {})
        if service in SOURCE_ARNS:
            assert "aws:SourceAccount" in condition.get("StringEquals", {}), f"{where}: {service} without aws:SourceAccount"
            assert "aws:SourceArn" in condition.get("ArnLike", {}), f"{where}: {service} without aws:SourceArn"
        else:
            assert _regional(service) in NO_SOURCE_CONDITION, f"{where}: {service} is in neither table"


def test_obs2_alarms_reach_their_topic(synth: Callable[[str], Synthesized]) -> None:
    """A topic policy replaces SNS's default one: the alarm topic's must let this account's alarms publish."""
    default = synth("default")
    topic_id = default.workloads_json["Outputs"]["AlarmTopic"]["Value"]["Ref"]
    (policy,) = [p for p in default.resources("AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic_id}]]
    publish = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    (statement,) = publish
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Join": ["", ["arn:aws:cloudwatch:ap-northeast-1:", {"Ref": "AWS::AccountId"}, ":alarm:*"]]
    }


def test_failed_job_runs_reach_their_topic_from_this_accounts_rules(synth: Callable[[str], Synthesized]) -> None:
    default = synth("default")
    topic_id = default.workloads_json["Outputs"]["JobFailuresTopic"]["Value"]["Ref"]
    (policy,) = [p for p in default.resources("AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic_id}]]
    services = {s["Principal"]["Service"] for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"}
    assert services == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_sec3_keys_by_purpose_are_used_through_their_service(name: str, outdir: Path) -> None:
    """Logs, messages and ECS Exec sessions have keys of their own; every grant on the log or messaging
    key is limited by kms:ViaService (the exec key encrypts exec sessions only: see grant_ecs_exec)."""
    workload_keys = set()
    for stack, template in templates(outdir):
        resources = template["Resources"]
        keys = {k for k, v in resources.items() if v["Type"] == "AWS::KMS::Key" and k.startswith(("Key", "MessagingKey", "ExecKey"))}
        if stack.endswith("/Workloads"):
            workload_keys |= {k for k in keys if not k.startswith("ExecKey")}
        for logical_id, policy in resources.items():
            if policy["Type"] != "AWS::IAM::ManagedPolicy":
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                arns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                on_keys = [a["Fn::GetAtt"][0] for a in arns if isinstance(a, dict) and "Fn::GetAtt" in a and a["Fn::GetAtt"][0] in keys]
                if not on_keys or all(k.startswith("ExecKey") for k in on_keys):
                    continue
                assert "kms:ViaService" in statement.get("Condition", {}).get("StringEquals", {}), f"{logical_id}: {statement}"
    assert workload_keys == {"Key961B73FD", "MessagingKey9A79A2B1"}


def test_permissions_boundary_on_every_role(synth: Callable[[str], Synthesized]) -> None:
    """Organizations: the spec's boundary is on every role of every stack, the platform's own included."""
    production = synth("production")
    roles = [(stack, k, v) for stack, t in templates(production.outdir) for k, v in t["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    assert len(roles) >= 8  # flow logs, task and execution roles of two services and two jobs, a scheduler, a state machine
    for stack, logical_id, role in roles:
        assert role["Properties"]["PermissionsBoundary"] == "arn:aws:iam::111122223333:policy/workload-boundary", f"{stack}/{logical_id}"


def test_ecs_exec_works_with_a_read_only_root_filesystem(synth: Callable[[str], Synthesized]) -> None:
    """The access example's api allows ECS Exec: its read-only containers get the agent's paths writable."""
    access = synth("access")
    (api,) = [v for v in access.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == "api"]
    for container in api["Properties"]["ContainerDefinitions"]:
        assert container["ReadonlyRootFilesystem"] is True
        mounted = {m["ContainerPath"] for m in container["MountPoints"] if m["ReadOnly"] is False}
        assert set(EXEC_AGENT_PATHS) <= mounted


def test_load_balancer_logs_expire_with_the_specs_retention(synth: Callable[[str], Synthesized]) -> None:
    default = synth("default")
    for bucket in default.resources("AWS::S3::Bucket").values():
        (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rule["ExpirationInDays"] == default.spec.logs.retention_days
