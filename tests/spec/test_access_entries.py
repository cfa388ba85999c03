"""Bad access entries (IAM-5): each gets a clear error naming the entry, the value and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.integrations import INTEGRATIONS, KINDS, check_resource
from ecs_platform.spec import SpecError, load_spec, parse_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"
BASE: dict[str, Any] = yaml.safe_load((SPECS / "default.yaml").read_text())
KEY = "arn:aws:kms:ap-northeast-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _with_access(*entries: dict[str, Any], on: str = "services") -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    if on == "workers":
        data["workers"] = [{"name": "worker", "queue": {}, "containers": [{"name": "app", "image": "busybox:stable"}]}]
    data[on][0]["access"] = list(entries)
    return data


CASES = {
    "an_unknown_integration": (
        _with_access({"type": "dynamodb_full_access", "table": "orders"}),
        r"services\[0\]\.access\[0\]: 'dynamodb_full_access' is not an integration; allowed: 'cloudwatch_metrics', ",
    ),
    "a_level_the_integration_lacks": (
        _with_access({"type": "dynamodb", "table": "orders", "level": "admin"}),
        r"services\[0\]\.access\[0\]\.level: 'admin' is not allowed; allowed: 'read', 'write' or 'read_write'",
    ),
    "a_level_on_an_integration_without_levels": (
        _with_access({"type": "sqs", "queue": "jobs", "level": "read"}),
        r"services\[0\]\.access\[0\]\.level: unknown key; allowed keys: kms_key, type, queue",
    ),
    "a_malformed_arn": (
        _with_access({"type": "sqs", "queue": "arn:aws:sqs:ap-northeast-1"}),
        r"services\[0\]\.access\[0\]\.queue: sqs: 'arn:aws:sqs:ap-northeast-1' is not a well-formed ARN; allowed: arn:",
    ),
    "an_arn_of_another_service": (
        _with_access({"type": "sqs", "queue": "arn:aws:sns:ap-northeast-1:111122223333:jobs"}),
        r"services\[0\]\.access\[0\]\.queue: sqs: .* is an ARN of 'sns'; allowed: an SQS queue",
    ),
    "an_arn_of_another_partition": (
        _with_access({"type": "lambda", "function": "arn:aws-cn:lambda:cn-north-1:111122223333:function:f"}),
        r"services\[0\]\.access\[0\]\.function: lambda: .* is in partition 'aws-cn'; allowed: 'aws', the partition of ap-northeast-1",
    ),
    "a_wildcard_resource": (
        _with_access({"type": "dynamodb", "table": "orders-*", "level": "read"}),
        r"services\[0\]\.access\[0\]\.table: dynamodb: 'orders-\*' has a wildcard; allowed: exactly one DynamoDB table",
    ),
    "a_wildcard_action_asked_for": (
        _with_access({"type": "s3", "bucket": "b1b", "level": "read", "actions": ["s3:*"]}),
        r"services\[0\]\.access\[0\]\.actions: unknown key; allowed keys: kms_key, type, bucket, prefix, level",
    ),
    "a_secret_by_name": (
        _with_access({"type": "secrets_manager", "secret": "db-password"}),
        r"services\[0\]\.access\[0\]\.secret: secrets_manager: 'db-password' is not a name of .*; allowed: its full ARN",
    ),
    "a_kms_key_on_an_integration_without_one": (
        _with_access({"type": "xray", "kms_key": KEY}),
        r"services\[0\]\.access\[0\]\.kms_key: xray uses no KMS key; allowed: kms_key on rds_data, dynamodb, ",
    ),
    "a_kms_key_that_is_not_a_key_arn": (
        _with_access({"type": "sqs", "queue": "jobs", "kms_key": "alias/aws/sqs"}),
        r"services\[0\]\.access\[0\]\.kms_key: sqs: 'alias/aws/sqs' is not a name of a customer-managed KMS key",
    ),
    "ecs_exec_on_a_job": (
        _with_access({"type": "ecs_exec"}, on="jobs"),
        r"jobs\[0\]\.access\[0\]\.type: ecs_exec is for services",
    ),
    "ecs_exec_on_a_worker": (
        _with_access({"type": "ecs_exec"}, on="workers"),
        r"workers\[0\]\.access\[0\]\.type: ecs_exec is for services; allowed for workers: any other integration",
    ),
    "ssm_parameters_without_names_or_path": (
        _with_access({"type": "ssm_parameters"}),
        r"services\[0\]\.access\[0\]: neither names nor path given; allowed: names",
    ),
    "a_metric_namespace_with_a_wildcard": (
        _with_access({"type": "cloudwatch_metrics", "namespace": "*"}),
        r"services\[0\]\.access\[0\]\.namespace: '\*' is not valid; allowed: text matching",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fails_when_access_has(case: str) -> None:
    data, pattern = CASES[case]
    with pytest.raises(SpecError, match=pattern):
        parse_spec(data, source="bad.yaml")


def test_the_access_example_uses_every_integration() -> None:
    spec = load_spec(SPECS / "access.yaml")
    used = {entry.type for workload in (*spec.services, *spec.jobs) for entry in workload.access}
    assert used == set(INTEGRATIONS)
    assert len(INTEGRATIONS) == 17  # the source document's IAM-5 list, and sqs_send (producers, issue 15)


@pytest.mark.parametrize(
    ("kind", "good"),
    [
        ("table", "arn:aws:dynamodb:ap-northeast-1:111122223333:table/orders"),
        ("bucket", "arn:aws:s3:::orders-uploads"),
        ("queue", "arn:aws:sqs:ap-northeast-1:111122223333:jobs.fifo"),
        ("parameter", "/app/prod/url"),
        ("kms_key", KEY),
    ],
)
def test_a_resource_by_arn_or_name_in_the_partition_is_accepted(kind: str, good: str) -> None:
    assert kind in KINDS
    assert check_resource(kind, good, "ap-northeast-1") is None
