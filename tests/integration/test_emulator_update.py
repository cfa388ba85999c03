"""A second deployment with a changed spec updates the deployed stack in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecs_platform.app_builder import build_app
from ecs_platform.spec import load_spec
from ecs_platform.spec.access import ENTRY_MODELS
from tests.conftest import CLI_CONTEXT, SPECS, Synthesized
from tests.integration.emulator import Emulator

pytestmark = pytest.mark.integration


def test_changing_the_desired_count_updates_the_service(emulator: Emulator, synth: Callable[[str], Synthesized], tmp_path: Path) -> None:
    # Given the default spec deployed
    first = emulator.deploy(synth("default").outdir)["my-app-dev-workloads"]
    ecs = emulator.client("ecs")
    (before,) = ecs.describe_services(cluster=first["ClusterName"], services=["my-service"])["services"]
    assert before["desiredCount"] == 2

    # When the spec asks for three tasks and SQS polling on a queue, and is deployed again
    spec = load_spec(SPECS / "default.yaml")
    access = [ENTRY_MODELS["sqs"](type="sqs", queue="orders")]
    changed = spec.model_copy(update={"services": [spec.services[0].model_copy(update={"desired_count": 3, "access": access})]})
    app, _ = build_app(changed, outdir=str(tmp_path / "desired3"), context=CLI_CONTEXT)
    app.synth()
    emulator.deploy(tmp_path / "desired3")

    # Then the workload stack is updated in place and the service keeps three tasks
    stack = emulator.client("cloudformation").describe_stacks(StackName="my-app-dev-workloads")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    (after,) = ecs.describe_services(cluster=first["ClusterName"], services=["my-service"])["services"]
    assert after["desiredCount"] == 3
    assert after["serviceArn"] == before["serviceArn"]

    # ... and the deployed task role holds exactly the document's SQS polling actions on that queue (IAM-5)
    assert _task_role_statements(emulator, "ServicemyserviceWebService") == [
        {
            "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            "Effect": "Allow",
            "Resource": "arn:aws:sqs:ap-northeast-1:123456789012:orders",
        }
    ]


def _task_role_statements(emulator: Emulator, logical_prefix: str) -> list[dict[str, Any]]:
    """The deployed policy of a workload's task role, found through the stack's resources
    (moto drops TaskRoleArn from task definitions created by CloudFormation)."""
    resources = emulator.client("cloudformation").describe_stack_resources(StackName="my-app-dev-workloads")["StackResources"]
    (role_name,) = [
        r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == "AWS::IAM::Role" and r["LogicalResourceId"].startswith(f"{logical_prefix}TaskTaskRole")
    ]
    iam = emulator.client("iam")
    (attached,) = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
    version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
    statements: list[dict[str, Any]] = version["PolicyVersion"]["Document"]["Statement"]
    return statements
