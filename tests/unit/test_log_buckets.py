"""LogBuckets: the ALB access-log bucket and the server-access-log bucket that records its use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Template

from ecs_platform.constructs import LogBuckets, LogBucketsProps
from tests.unit.support import ACCOUNT, logical_id, new_app, new_stack, of_type, synth


@dataclass
class Scenario:
    template: Template
    access_logs: str
    server_access_logs: str
    default_access_logs: str
    default_server_access_logs: str


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given LogBuckets with 90-day retention and LogBuckets with defaults, in a plain stack."""
    app = new_app()
    stack = new_stack(app)
    logs = LogBuckets(stack, "Logs", props=LogBucketsProps(retention=Duration.days(90)))
    default = LogBuckets(stack, "DefaultLogs")

    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(
        template,
        logical_id(logs.access_logs),
        logical_id(logs.server_access_logs),
        logical_id(default.access_logs),
        logical_id(default.server_access_logs),
    )


def _all(scenario: Scenario) -> list[str]:
    return [scenario.access_logs, scenario.server_access_logs, scenario.default_access_logs, scenario.default_server_access_logs]


def _bucket(scenario: Scenario, bucket_id: str) -> dict[str, Any]:
    bucket: dict[str, Any] = of_type(scenario.template, "AWS::S3::Bucket")[bucket_id]
    return bucket


def _policy(scenario: Scenario, bucket_id: str) -> list[dict[str, Any]]:
    policy = next(
        p for p in of_type(scenario.template, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_two_buckets_per_construct(scenario: Scenario) -> None:
    assert sorted(of_type(scenario.template, "AWS::S3::Bucket")) == sorted(_all(scenario))


def test_sse_s3_encryption(scenario: Scenario) -> None:
    """SSE-S3 (AES256): the only encryption ALB log delivery and S3 server access logging accept."""
    for bucket_id in _all(scenario):
        assert _bucket(scenario, bucket_id)["Properties"]["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        }


def test_public_access_blocked_and_acls_disabled(scenario: Scenario) -> None:
    for bucket_id in _all(scenario):
        props = _bucket(scenario, bucket_id)["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_versioned(scenario: Scenario) -> None:
    for bucket_id in _all(scenario):
        assert _bucket(scenario, bucket_id)["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_lifecycle_expires_logs_after_the_retention(scenario: Scenario) -> None:
    """Given retention 90 days, objects expire after 90 days; by default after 365; old versions after 30 days."""

    def rule(expiration: int) -> dict[str, Any]:
        return {
            "Rules": [
                {
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    "ExpirationInDays": expiration,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                    "Status": "Enabled",
                }
            ]
        }

    for bucket_id in (scenario.access_logs, scenario.server_access_logs):
        assert _bucket(scenario, bucket_id)["Properties"]["LifecycleConfiguration"] == rule(90)
    for bucket_id in (scenario.default_access_logs, scenario.default_server_access_logs):
        assert _bucket(scenario, bucket_id)["Properties"]["LifecycleConfiguration"] == rule(365)


def test_ssl_only(scenario: Scenario) -> None:
    """Every bucket policy denies any request with aws:SecureTransport false."""
    for bucket_id in _all(scenario):
        arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
        assert _policy(scenario, bucket_id)[0] == {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": [arn, {"Fn::Join": ["", [arn, "/*"]]}],
        }


def test_access_log_bucket_logs_to_the_server_access_log_bucket(scenario: Scenario) -> None:
    """Who read or deleted an access log is recorded in the second bucket, under s3/."""
    assert _bucket(scenario, scenario.access_logs)["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": scenario.server_access_logs},
        "LogFilePrefix": "s3/",
    }


def test_server_access_log_bucket_is_terminal_and_accepts_only_s3_logging_of_its_source(scenario: Scenario) -> None:
    """The server-access-log bucket logs nowhere; only S3 logging for the access-log bucket of this account may write."""
    assert "LoggingConfiguration" not in _bucket(scenario, scenario.server_access_logs)["Properties"]
    assert _policy(scenario, scenario.server_access_logs)[1:] == [
        {
            "Action": "s3:PutObject",
            "Condition": {
                "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [scenario.access_logs, "Arn"]}},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [scenario.server_access_logs, "Arn"]}, "/s3/*"]]},
        }
    ]


def test_buckets_are_retained_when_the_stack_is_deleted(scenario: Scenario) -> None:
    """Kept on delete and replace; removed when their first creation fails and rolls back (empty then)."""
    for bucket_id in _all(scenario):
        bucket = _bucket(scenario, bucket_id)
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_no_auto_delete_custom_resource_and_no_physical_names(scenario: Scenario) -> None:
    """No CDK auto-delete Lambda (it brings an AWS managed policy); CloudFormation names the buckets."""
    scenario.template.resource_count_is("AWS::Lambda::Function", 0)
    assert not [v for v in scenario.template.to_json()["Resources"].values() if v["Type"].startswith("Custom::")]
    for bucket_id in _all(scenario):
        assert "BucketName" not in _bucket(scenario, bucket_id)["Properties"]
