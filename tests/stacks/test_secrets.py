"""SEC-4 / IAM-3: every valueFrom form ECS documents for a Secrets Manager secret reaches the
container as written, and the execution role may read exactly that secret."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Template

from ecs_platform.spec import parse_spec
from tests.conftest import SPECS, synthesize
from tests.helpers import one

SECRET = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:shop/db-AbCdEf"
FORMS = {
    "WHOLE": SECRET,
    "FIELD": f"{SECRET}:password::",
    "STAGE": f"{SECRET}::AWSPREVIOUS:",
    "VERSION": f"{SECRET}:::0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    "FIELD_AT_STAGE": f"{SECRET}:username:AWSCURRENT:",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    data = copy.deepcopy(yaml.safe_load((SPECS / "default.yaml").read_text(encoding="utf-8")))
    data["services"][0]["containers"][0]["secrets"] = {name: {"secrets_manager": value} for name, value in FORMS.items()}
    synthesized = synthesize(parse_spec(data), Path(tmp_path_factory.mktemp("secrets")))
    return synthesized.workloads


def test_sec4_each_value_from_form_reaches_the_container(template: Template) -> None:
    (definition,) = template.find_resources("AWS::ECS::TaskDefinition", {"Properties": {"Family": "my-task"}}).values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    assert {s["Name"]: s["ValueFrom"] for s in container["Secrets"]} == FORMS


def test_iam3_the_execution_role_reads_the_one_secret(template: Template) -> None:
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    reads = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert one({str(i): s for i, s in enumerate(reads)})["Resource"] == SECRET
