"""Governance: CloudTrail (SEC-6), AWS Config (SEC-7) and GuardDuty (SEC-8) of an account and region (issue 14, item 3)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnElement, Stack, Validations
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from ecs_platform.constructs import (
    NO_SOURCE_CONDITION,
    SOURCE_ARNS,
    ConstructError,
    EncryptionKey,
    EncryptionKeyProps,
    Governance,
    GovernanceProps,
    NotificationTopic,
    NotificationTopicProps,
)
from ecs_platform.constructs.governance import (
    CONFIG_RULES,
    DEFAULT_SECRET_KEYS,
    EXCLUDED_RESOURCE_TYPES,
    GUARDDUTY_OPT_OUT_TAG,
    RULES_LEFT_OUT,
)
from tests.helpers import nag_findings, service_statements
from tests.unit.support import ACCOUNT, REGION, logical_id, nag_app, new_stack, pinned_with_reasons, unacknowledged_findings

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/governance-boundary"
STACKS = ("Default", "Full", "ConfigOnly", "Existing")
#: Rules AWS documents (each checked on its AWS Config page) that aws-cdk-lib's ManagedRuleIdentifiers does not list yet.
NEWER_THAN_CDK = {
    "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT",
    "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST",
    "ECS_CAPACITY_PROVIDER_TERMINATION_CHECK",
    "GUARDDUTY_ECS_PROTECTION_RUNTIME_ENABLED",
}
LOGS = "GovernanceLogsDCF0B7AA"
SERVER_ACCESS_LOGS = "GovernanceServerAccessLogsE3FC31F2"

#: The cdk-nag findings the construct acknowledges, and why. Changing this set is a security review.
PINNED = {
    # AWS documents AWS_ConfigRole for the recorder's reads of every supported resource type (module docstring).
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
    # AWS Config and CloudTrail name their files and streams themselves, under the prefixes the statements name.
    f"AwsSolutions-IAM5[Resource::<{LOGS}.Arn>/config/AWSLogs/{ACCOUNT}/*]",
    f"AwsSolutions-IAM5[Resource::arn:aws:logs:{REGION}:{ACCOUNT}:log-group:<GovernanceTrailLogGroupA233FEE0>:log-stream:"
    f"{ACCOUNT}_CloudTrail_*]",
    # CloudWatch Logs delivery of the trail is opt-in (cost); the default trail delivers to S3 only.
    *(f"{pack}-CloudTrailCloudWatchLogsEnabled" for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")),
    # Log buckets: no replication (cost, a multi-region trail already covers every region); S3 access logs need SSE-S3.
    *(
        f"{pack}-{rule}"
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
        for rule in ("S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")
    ),
}


def _id(construct: IConstruct | None) -> str:
    """The logical ID of a construct Governance created (an L1 resource, or an L2 one's default child)."""
    assert construct is not None
    if isinstance(construct, CfnElement):
        return Stack.of(construct).get_logical_id(construct)
    return logical_id(construct)


def _build(app: App) -> dict[str, Governance]:
    """Four stacks of one account and region (each an account-and-region stack of its own):

    - ``Default``: every default;
    - ``Full``: a boundary, CloudWatch Logs delivery, an alarm topic, retention 400 days with a transition at 30,
      trail ``org-audit``, IAM types and AWS::EC2::Volume not recorded, two secret keys, findings every hour,
      no EC2 agent management;
    - ``ConfigOnly``: a trail and a detector exist, the recorder is created;
    - ``Existing``: trail, recorder and detector exist; one rule excluded; an alarm topic.
    """
    built: dict[str, Governance] = {}
    for name in STACKS:
        stack = new_stack(app, name)
        built[name] = Governance(stack, "Governance", props=_props(name, stack))
    return built


def _props(name: str, stack: Stack) -> GovernanceProps:
    if name == "Default":
        return GovernanceProps()
    if name == "ConfigOnly":
        return GovernanceProps(existing_trail=True, existing_detector=True, transition_after_days=None)
    key = EncryptionKey(stack, "TopicKey", props=EncryptionKeyProps(description="alarms", for_log_groups=False))
    topic = NotificationTopic(stack, "Alarms", props=NotificationTopicProps(key=key, display_name="Security findings"))
    if name == "Existing":
        return GovernanceProps(
            existing_trail=True,
            existing_recorder=True,
            existing_detector=True,
            excluded_config_rules=["GUARDDUTY_ECS_PROTECTION_RUNTIME_ENABLED"],
            alarm_topic=topic,
        )
    return GovernanceProps(
        permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(stack, "Boundary", BOUNDARY),
        cloud_watch_logs=True,
        cloud_watch_logs_retention=logs.RetentionDays.THREE_MONTHS,
        alarm_topic=topic,
        retention_days=400,
        transition_after_days=30,
        trail_name="org-audit",
        record_global_resource_types=False,
        excluded_resource_types=("AWS::EC2::NetworkInterface", "AWS::EC2::Volume"),
        secret_environment_keys=("DB_PASSWORD", "STRIPE_KEY"),
        finding_publishing_frequency="ONE_HOUR",
        ec2_agent_management=False,
    )


@dataclass
class Scenario:
    templates: dict[str, dict[str, Any]]
    governance: dict[str, Governance]
    report: dict[str, Any]
    acknowledgements: dict[str, str]

    def resources(self, stack: str, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == kind}

    def one(self, stack: str, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(stack, kind)
        assert len(found) == 1, f"{stack}: expected one {kind}, got {sorted(found)}"
        return next(iter(found.items()))

    def props(self, stack: str, kind: str) -> dict[str, Any]:
        props: dict[str, Any] = self.one(stack, kind)[1]["Properties"]
        return props


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given :func:`_build` in an app with every cdk-nag pack, when it is synthesized once."""
    app = nag_app()
    governance = _build(app)
    acknowledgements = {
        rule.split("::", 1)[1]: reason
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }
    assembly = app.synth()
    templates = {name: assembly.get_stack_by_name(name).template for name in STACKS}
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Scenario(templates, governance, report, acknowledgements)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def _key_statement(scenario: Scenario, stack: str, sid: str) -> dict[str, Any]:
    key = scenario.templates[stack]["Resources"][_id(scenario.governance[stack].key)]
    (statement,) = [s for s in _statements(key["Properties"]["KeyPolicy"]) if s.get("Sid") == sid]
    return statement


def _bucket_policy(scenario: Scenario, stack: str, bucket: str) -> list[dict[str, Any]]:
    (policy,) = [p for p in scenario.resources(stack, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket}]
    return _statements(policy["Properties"]["PolicyDocument"])


def _trail_arn(stack: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"


def _source(arn: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": arn}}


def _arn(logical: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical, "Arn"]}


def _objects(logical: str, suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [_arn(logical), suffix]]}


# --- SEC-6: the trail --------------------------------------------------------------------------------


def test_sec6_trail_is_multi_region_validated_and_logs_every_management_event(scenario: Scenario) -> None:
    """SEC-6: one trail for every region (global service events included), with digest files, logging all read and
    write management events (the ECS control plane), into the log bucket under cloudtrail/."""
    trail = scenario.props("Default", "AWS::CloudTrail::Trail")
    assert trail == {
        "TrailName": "Default-trail",
        "IsLogging": True,
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "EventSelectors": [{"IncludeManagementEvents": True, "ReadWriteType": "All"}],
        "S3BucketName": {"Ref": LOGS},
        "S3KeyPrefix": "cloudtrail",
        "KMSKeyId": _arn(_id(scenario.governance["Default"].key)),
    }
    assert scenario.props("Full", "AWS::CloudTrail::Trail")["TrailName"] == "org-audit"


def test_sec6_trail_is_encrypted_with_a_rotating_customer_key_of_its_own(scenario: Scenario) -> None:
    """SEC-6 / SEC-3: the trail's key is this construct's own, rotates yearly and is retained with the logs."""
    key_id, key = scenario.one("Default", "AWS::KMS::Key")
    assert key_id == _id(scenario.governance["Default"].key)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_sec6_key_policy_lets_cloudtrail_encrypt_for_this_trail_only(scenario: Scenario) -> None:
    """SEC-6: CloudTrail may generate data keys only for a trail of this account (the encryption context AWS documents,
    aws:cloudtrail:arn) and only when the request is this trail's (aws:SourceArn, aws:SourceAccount)."""
    for stack, name in (("Default", "Default-trail"), ("Full", "org-audit")):
        assert _key_statement(scenario, stack, "AllowCloudTrailToEncryptLogs") == {
            "Sid": "AllowCloudTrailToEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                **_source(_trail_arn(stack, name)),
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
            },
        }


def test_sec6_key_policy_lets_cloudtrail_describe_the_key_for_this_trail_only(scenario: Scenario) -> None:
    assert _key_statement(scenario, "Default", "AllowCloudTrailToDescribeKey") == {
        "Sid": "AllowCloudTrailToDescribeKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": _source(_trail_arn("Default", "Default-trail")),
    }


def test_sec6_key_policy_names_the_account_cloudtrail_and_only_with_cloud_watch_logs_the_logs_service(scenario: Scenario) -> None:
    """Nobody but the account (which delegates to IAM: the recorder's role and log readers get kms:Decrypt there),
    CloudTrail and, with CloudWatch Logs delivery, the regional logs service limited to this account's log groups."""
    for stack, expected in (
        ("Default", [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"Service": "cloudtrail.amazonaws.com"}]),
        (
            "Full",
            [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"Service": "cloudtrail.amazonaws.com"}, {"Service": f"logs.{REGION}.amazonaws.com"}],
        ),
    ):
        key = scenario.templates[stack]["Resources"][_id(scenario.governance[stack].key)]
        principals = [s["Principal"] for s in _statements(key["Properties"]["KeyPolicy"])]
        assert sorted(map(json.dumps, {json.dumps(p): p for p in principals}.values())) == sorted(map(json.dumps, expected))
    logs_statement = _key_statement(scenario, "Full", "AllowCloudWatchLogsOfThisAccount")
    assert logs_statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}
    }


def test_sec6_bucket_policy_lets_only_this_trail_write_under_its_prefix(scenario: Scenario) -> None:
    """SEC-6: the two statements AWS documents for trail delivery (ACL check, PutObject with bucket-owner-full-control
    under cloudtrail/AWSLogs/<account>/), each limited to this trail; besides them only the TLS-only denial."""
    statements = _bucket_policy(scenario, "Default", LOGS)
    assert statements[0]["Effect"] == "Deny" and statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    source = _source(_trail_arn("Default", "Default-trail"))
    assert statements[1:] == [
        {
            "Sid": "AllowCloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": _arn(LOGS),
            "Condition": source,
        },
        {
            "Sid": "AllowCloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": _objects(LOGS, f"/cloudtrail/AWSLogs/{ACCOUNT}/*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control"},
                "ArnLike": source["ArnLike"],
            },
        },
    ]


def test_sec6_trail_is_created_after_its_bucket_policy_and_key(scenario: Scenario) -> None:
    """CloudTrail checks its access to the bucket and the key when the trail is created."""
    _, trail = scenario.one("Default", "AWS::CloudTrail::Trail")
    key = _id(scenario.governance["Default"].key)
    assert {key, "GovernanceLogsPolicy839974FE"} <= set(trail["DependsOn"])


def test_sec6_log_bucket_is_kms_encrypted_private_versioned_ssl_only_and_retained(scenario: Scenario) -> None:
    """SEC-6: SSE-KMS with the trail's key (no S3 Bucket Key: KMS sees each file's own encryption context), public
    access blocked, ACLs off, versioned, kept when the stack goes."""
    bucket = scenario.resources("Default", "AWS::S3::Bucket")[LOGS]
    props = bucket["Properties"]
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": False,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": _arn(_id(scenario.governance["Default"].key)),
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_sec6_requests_to_the_log_bucket_are_recorded_in_a_terminal_sse_s3_bucket(scenario: Scenario) -> None:
    """Who read or deleted a log file is recorded (server access logs, under s3/) in a second bucket, SSE-S3 (the only
    encryption S3 access logging writes to), which only S3 logging for the log bucket of this account may write."""
    buckets = scenario.resources("Default", "AWS::S3::Bucket")
    assert sorted(buckets) == sorted([LOGS, SERVER_ACCESS_LOGS])
    assert buckets[LOGS]["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": SERVER_ACCESS_LOGS},
        "LogFilePrefix": "s3/",
    }
    terminal = buckets[SERVER_ACCESS_LOGS]
    assert "LoggingConfiguration" not in terminal["Properties"]
    assert terminal["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert (terminal["DeletionPolicy"], terminal["Properties"]["VersioningConfiguration"]) == (
        "RetainExceptOnCreate",
        {"Status": "Enabled"},
    )
    assert _bucket_policy(scenario, "Default", SERVER_ACCESS_LOGS)[1:] == [
        {
            "Action": "s3:PutObject",
            "Condition": {"ArnLike": {"aws:SourceArn": _arn(LOGS)}, "StringEquals": {"aws:SourceAccount": ACCOUNT}},
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": _objects(SERVER_ACCESS_LOGS, "/s3/*"),
        }
    ]


@pytest.mark.parametrize(("stack", "transition", "expiry"), [("Default", 90, 365), ("Full", 30, 400), ("ConfigOnly", None, 365)])
def test_sec6_lifecycle_moves_logs_to_glacier_instant_retrieval_then_expires_them(
    scenario: Scenario, stack: str, transition: int | None, expiry: int
) -> None:
    """SEC-6: both buckets move files to Glacier Instant Retrieval after transition_after_days (none when None) and
    delete them after retention_days; old versions go after 30 days, unfinished uploads after 7."""
    expected: dict[str, Any] = {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        "ExpirationInDays": expiry,
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        "Status": "Enabled",
    }
    if transition is not None:
        expected["Transitions"] = [{"StorageClass": "GLACIER_IR", "TransitionInDays": transition}]
    for bucket in scenario.resources(stack, "AWS::S3::Bucket").values():
        assert bucket["Properties"]["LifecycleConfiguration"] == {"Rules": [expected]}


def test_sec6_cloud_watch_logs_delivery_is_opt_in(scenario: Scenario) -> None:
    """By default the trail delivers to S3 only: no log group, no role for CloudTrail; asked for, both."""
    default = scenario.props("Default", "AWS::CloudTrail::Trail")
    assert "CloudWatchLogsLogGroupArn" not in default and "CloudWatchLogsRoleArn" not in default
    assert scenario.resources("Default", "AWS::Logs::LogGroup") == {}
    full = scenario.governance["Full"]
    assert full.log_group is not None and full.trail_logs_role is not None
    _, trail = scenario.one("Full", "AWS::CloudTrail::Trail")
    assert trail["Properties"]["CloudWatchLogsLogGroupArn"] == _arn(_id(full.log_group))
    assert trail["Properties"]["CloudWatchLogsRoleArn"] == _arn(_id(full.trail_logs_role))
    assert full.trail_logs_role.scoped_policy is not None
    assert _id(full.trail_logs_role.scoped_policy) in trail["DependsOn"]  # CloudTrail checks the role's rights on create


def test_sec6_cloud_watch_logs_group_is_kms_encrypted_with_the_given_retention(scenario: Scenario) -> None:
    full = scenario.governance["Full"]
    assert full.log_group is not None
    group = scenario.templates["Full"]["Resources"][_id(full.log_group)]
    assert group["Properties"] == {"KmsKeyId": _arn(_id(full.key)), "RetentionInDays": 90}
    assert group["DeletionPolicy"] == "Retain"


def test_sec6_cloudtrails_logs_role_may_write_only_the_trails_streams(scenario: Scenario) -> None:
    """The role CloudTrail assumes for CloudWatch Logs may create and write the <account>_CloudTrail_* streams of the
    trail's group, nothing else; its trust carries no source condition (AWS documents that it takes none)."""
    full = scenario.governance["Full"]
    assert full.trail_logs_role is not None and full.trail_logs_role.scoped_policy is not None and full.log_group is not None
    role = scenario.templates["Full"]["Resources"][_id(full.trail_logs_role)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}}
    ]
    policy = scenario.templates["Full"]["Resources"][_id(full.trail_logs_role.scoped_policy)]["Properties"]
    assert _statements(policy["PolicyDocument"]) == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [
                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:",
                        {"Ref": _id(full.log_group)},
                        f":log-stream:{ACCOUNT}_CloudTrail_*",
                    ],
                ]
            },
        }
    ]
    assert "cloudtrail.amazonaws.com" in NO_SOURCE_CONDITION and "cloudtrail.amazonaws.com" not in SOURCE_ARNS


# --- SEC-7: AWS Config -------------------------------------------------------------------------------


def test_sec7_recorder_records_every_supported_type_but_network_interfaces_continuously(scenario: Scenario) -> None:
    """SEC-7: all current and future types (clusters, services, task definitions among them) except the ENIs every
    awsvpc task creates; IAM types included (the exclusion strategy records them in this region); continuous."""
    recorder = scenario.props("Default", "AWS::Config::ConfigurationRecorder")
    assert recorder == {
        "RoleARN": _arn(_id(scenario.governance["Default"].recorder_role)),
        "RecordingGroup": {
            "AllSupported": False,
            "IncludeGlobalResourceTypes": False,
            "RecordingStrategy": {"UseOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            "ExclusionByResourceTypes": {"ResourceTypes": ["AWS::EC2::NetworkInterface"]},
        },
        "RecordingMode": {"RecordingFrequency": "CONTINUOUS"},
    }
    assert list(EXCLUDED_RESOURCE_TYPES) == ["AWS::EC2::NetworkInterface"]


def test_sec7_excluded_types_and_the_global_iam_types_follow_the_props(scenario: Scenario) -> None:
    """record_global_resource_types false leaves the IAM types to another region's recorder."""
    recorder = scenario.props("Full", "AWS::Config::ConfigurationRecorder")
    assert recorder["RecordingGroup"]["ExclusionByResourceTypes"]["ResourceTypes"] == [
        "AWS::EC2::NetworkInterface",
        "AWS::EC2::Volume",
        "AWS::IAM::Group",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::IAM::User",
    ]


def test_sec7_recorder_role_trusts_aws_config_of_this_account_and_region_only(scenario: Scenario) -> None:
    """The source conditions AWS documents for Config's role: aws:SourceAccount and aws:SourceArn arn:aws:config:<region>:<account>:*."""
    role = scenario.templates["Default"]["Resources"][_id(scenario.governance["Default"].recorder_role)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Condition": _source(f"arn:aws:config:{REGION}:{ACCOUNT}:*"),
        }
    ]


def test_sec7_recorder_role_carries_aws_config_role_as_its_only_aws_managed_policy(scenario: Scenario) -> None:
    """The documented exception: AWS_ConfigRole (the reads of every supported type), and no inline policy."""
    role = scenario.templates["Default"]["Resources"][_id(scenario.governance["Default"].recorder_role)]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWS_ConfigRole"]]}
    ]
    assert "Policies" not in role


def test_sec7_recorder_role_may_deliver_only_under_the_config_prefix(scenario: Scenario) -> None:
    """The statements AWS documents for delivery with a role: PutObject with bucket-owner-full-control under
    config/AWSLogs/<account>/, the bucket ACL check and listing, and the key through S3 for those files only."""
    governance = scenario.governance["Default"]
    assert governance.recorder_role is not None and governance.recorder_role.scoped_policy is not None
    policy = scenario.templates["Default"]["Resources"][_id(governance.recorder_role.scoped_policy)]["Properties"]
    objects = _objects(LOGS, f"/config/AWSLogs/{ACCOUNT}/*")
    assert policy["Roles"] == [{"Ref": _id(governance.recorder_role)}]
    assert _statements(policy["PolicyDocument"]) == [
        {
            "Action": "s3:PutObject",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            "Effect": "Allow",
            "Resource": objects,
        },
        {"Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Effect": "Allow", "Resource": _arn(LOGS)},
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": objects},
            },
            "Effect": "Allow",
            "Resource": _arn(_id(governance.key)),
        },
    ]


def test_sec7_delivery_channel_writes_to_the_log_bucket_under_config_with_the_key(scenario: Scenario) -> None:
    """SEC-7: history and snapshot files go to the trail's bucket (prefix config), KMS-encrypted with its key; the channel
    is created after the recorder it needs."""
    channel_id, channel = scenario.one("Default", "AWS::Config::DeliveryChannel")
    assert channel["Properties"] == {
        "S3BucketName": {"Ref": LOGS},
        "S3KeyPrefix": "config",
        "S3KmsKeyArn": _arn(_id(scenario.governance["Default"].key)),
    }
    recorder_id, _ = scenario.one("Default", "AWS::Config::ConfigurationRecorder")
    assert channel["DependsOn"] == [recorder_id]
    assert channel_id == _id(scenario.governance["Default"].delivery_channel)


def test_sec7_rules_are_exactly_the_chosen_aws_managed_rules(scenario: Scenario) -> None:
    """SEC-7: one AWS-owned rule per identifier of CONFIG_RULES, described with its reason."""
    rules = scenario.resources("Default", "AWS::Config::ConfigRule").values()
    assert Counter(r["Properties"]["Source"]["SourceIdentifier"] for r in rules) == Counter(list(CONFIG_RULES))
    for rule in rules:
        identifier = rule["Properties"]["Source"]["SourceIdentifier"]
        assert rule["Properties"]["Source"]["Owner"] == "AWS"
        assert rule["Properties"]["Description"] == CONFIG_RULES[identifier]


def test_sec7_rule_identifiers_are_aws_config_managed_rules_with_one_line_reasons() -> None:
    """Each identifier is one aws-cdk-lib lists, or one of the newer ones checked on AWS Config's pages; none is also
    among the rules left out; the ECS settings SEC-7 names (IAM, network, encryption) each have rules."""
    known = {getattr(config.ManagedRuleIdentifiers, n) for n in dir(config.ManagedRuleIdentifiers) if n.isupper()}
    assert set(CONFIG_RULES) <= known | NEWER_THAN_CDK
    assert set(CONFIG_RULES) >= NEWER_THAN_CDK
    assert not set(CONFIG_RULES) & set(RULES_LEFT_OUT)
    for reason in [*CONFIG_RULES.values(), *RULES_LEFT_OUT.values()]:
        assert "\n" not in reason and 20 < len(reason) < 140
    ecs = {r for r in CONFIG_RULES if r.startswith("ECS_")}
    assert {"ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT", "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST", "ECS_NO_ENVIRONMENT_SECRETS"} <= ecs


def test_sec7_no_environment_secrets_rule_looks_for_the_secret_keys(scenario: Scenario) -> None:
    """ECS_NO_ENVIRONMENT_SECRETS requires secretKeys (comma-separated names): the defaults, or the names given."""
    for stack, keys in (("Default", DEFAULT_SECRET_KEYS), ("Full", ("DB_PASSWORD", "STRIPE_KEY"))):
        (rule,) = [
            r
            for r in scenario.resources(stack, "AWS::Config::ConfigRule").values()
            if r["Properties"]["Source"]["SourceIdentifier"] == "ECS_NO_ENVIRONMENT_SECRETS"
        ]
        assert rule["Properties"]["InputParameters"] == {"secretKeys": ",".join(keys)}
    others = [r for r in scenario.resources("Default", "AWS::Config::ConfigRule").values() if "InputParameters" in r["Properties"]]
    assert len(others) == 1


def test_sec7_rules_wait_for_the_recorder_and_its_delivery_channel(scenario: Scenario) -> None:
    channel_id, _ = scenario.one("Default", "AWS::Config::DeliveryChannel")
    for rule in scenario.resources("Default", "AWS::Config::ConfigRule").values():
        assert rule["DependsOn"] == [channel_id]


# --- SEC-8: GuardDuty --------------------------------------------------------------------------------


def test_sec8_detector_turns_on_runtime_monitoring_with_fargate_and_ec2_agent_management(scenario: Scenario) -> None:
    """SEC-8: Runtime Monitoring on, GuardDuty managing its agent on Fargate (a sidecar in each task) and on EC2
    container instances; updated findings every 15 minutes by default."""
    assert scenario.props("Default", "AWS::GuardDuty::Detector") == {
        "Enable": True,
        "FindingPublishingFrequency": "FIFTEEN_MINUTES",
        "Features": [
            {
                "Name": "RUNTIME_MONITORING",
                "Status": "ENABLED",
                "AdditionalConfiguration": [
                    {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
                    {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"},
                ],
            }
        ],
    }


def test_sec8_publishing_frequency_and_ec2_agent_management_follow_the_props(scenario: Scenario) -> None:
    detector = scenario.props("Full", "AWS::GuardDuty::Detector")
    assert detector["FindingPublishingFrequency"] == "ONE_HOUR"
    assert detector["Features"][0]["AdditionalConfiguration"] == [
        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
        {"Name": "EC2_AGENT_MANAGEMENT", "Status": "DISABLED"},
    ]


def test_sec8_opt_out_tag_is_the_one_aws_documents() -> None:
    """A cluster tagged GuardDutyManaged=false is left out of GuardDuty's automated agent management."""
    assert GUARDDUTY_OPT_OUT_TAG == ("GuardDutyManaged", "false")


@pytest.mark.parametrize("stack", ["Full", "Existing"])
def test_sec8_high_severity_findings_reach_the_alarm_topic(scenario: Scenario, stack: str) -> None:
    """SEC-8: an EventBridge rule sends GuardDuty findings of severity 7 and above to alarm_topic (also when the detector
    exists elsewhere); the topic lets this account's rules publish, and nothing else is sent without a topic."""
    topic = next(iter(scenario.resources(stack, "AWS::SNS::Topic")))
    assert scenario.props(stack, "AWS::Events::Rule") == {
        "Description": "GuardDuty findings of severity 7 and above (SEC-8)",
        "EventPattern": {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", 7]}]},
        },
        "State": "ENABLED",
        "Targets": [{"Arn": {"Ref": topic}, "Id": "Target0"}],
    }
    publish = [
        s
        for s in _statements(scenario.props(stack, "AWS::SNS::TopicPolicy")["PolicyDocument"])
        if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    assert publish and all(s["Condition"] == _source(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*") for s in publish)
    assert scenario.resources("Default", "AWS::Events::Rule") == {}


# --- existing services -------------------------------------------------------------------------------


def test_sec6_sec7_sec8_existing_services_are_not_created_again_but_the_rules_are(scenario: Scenario) -> None:
    """An account has one recorder and one detector per region (a second fails the deploy) and needs one trail: with
    all three existing, only the Config rules (one excluded) and the findings rule remain, with nothing to wait for."""
    template = scenario.templates["Existing"]
    kinds = Counter(r["Type"] for r in template["Resources"].values())
    assert kinds == Counter(
        {
            "AWS::Config::ConfigRule": len(CONFIG_RULES) - 1,
            "AWS::Events::Rule": 1,
            "AWS::KMS::Key": 1,  # the alarm topic's
            "AWS::SNS::Topic": 1,
            "AWS::SNS::TopicPolicy": 1,
        }
    )
    identifiers = {
        r["Properties"]["Source"]["SourceIdentifier"] for r in scenario.resources("Existing", "AWS::Config::ConfigRule").values()
    }
    assert identifiers == set(CONFIG_RULES) - {"GUARDDUTY_ECS_PROTECTION_RUNTIME_ENABLED"}
    assert all("DependsOn" not in r for r in scenario.resources("Existing", "AWS::Config::ConfigRule").values())
    governance = scenario.governance["Existing"]
    assert (governance.trail, governance.recorder, governance.detector, governance.bucket, governance.key) == (None,) * 5


def test_sec7_a_recorder_without_a_trail_still_gets_its_bucket_and_key_but_no_cloudtrail_access(scenario: Scenario) -> None:
    """existing_trail alone: the recorder delivers to a bucket of its own; neither the bucket nor the key lets CloudTrail in."""
    assert scenario.resources("ConfigOnly", "AWS::CloudTrail::Trail") == {}
    assert scenario.resources("ConfigOnly", "AWS::GuardDuty::Detector") == {}
    scenario.one("ConfigOnly", "AWS::Config::ConfigurationRecorder")
    scenario.one("ConfigOnly", "AWS::Config::DeliveryChannel")
    text = json.dumps(scenario.templates["ConfigOnly"])
    assert "cloudtrail.amazonaws.com" not in text
    assert len(scenario.resources("ConfigOnly", "AWS::S3::Bucket")) == 2


# --- IAM -----------------------------------------------------------------------------------------------


def test_every_role_has_the_permissions_boundary(scenario: Scenario) -> None:
    """Full has two roles (recorder, CloudTrail to CloudWatch Logs), both with the boundary; without one, none."""
    roles = scenario.resources("Full", "AWS::IAM::Role")
    assert len(roles) == 2
    assert all(r["Properties"]["PermissionsBoundary"] == BOUNDARY for r in roles.values())
    assert all("PermissionsBoundary" not in r["Properties"] for r in scenario.resources("Default", "AWS::IAM::Role").values())


def test_grants_are_in_customer_managed_policies_and_the_only_aws_managed_policy_is_aws_config_role(scenario: Scenario) -> None:
    """IAM: no inline policy anywhere; ManagedPolicyArns only on the recorder's role, and only AWS_ConfigRole."""
    for stack in STACKS:
        assert scenario.resources(stack, "AWS::IAM::Policy") == {}
        for logical, role in scenario.resources(stack, "AWS::IAM::Role").items():
            assert "Policies" not in role["Properties"], logical
            arns = role["Properties"].get("ManagedPolicyArns", [])
            if "Recorder" in logical:
                assert len(arns) == 1 and arns[0]["Fn::Join"][1][-1].endswith("policy/service-role/AWS_ConfigRole")
            else:
                assert arns == [], logical


def test_every_service_principal_is_limited_to_this_accounts_sources_or_documented_without(scenario: Scenario) -> None:
    """Confused deputy, the rule of tests/stacks/test_policies_reach_their_sources.py: config, events and the S3 logging
    grant carry aws:SourceAccount and aws:SourceArn; cloudtrail is documented without (its logs role cannot take them),
    yet every bucket and key statement naming it carries the trail's ARN."""
    found: set[str] = set()
    for stack in STACKS:
        for logical, service, statement in service_statements(scenario.templates[stack]):
            found.add(service)
            condition = statement.get("Condition", {})
            if service in SOURCE_ARNS:
                assert "aws:SourceAccount" in condition.get("StringEquals", {}), f"{logical}: {service}"
                assert "aws:SourceArn" in condition.get("ArnLike", {}), f"{logical}: {service}"
            else:
                assert re.sub(r"\.[a-z]{2}(-[a-z]+)+-\d\.", ".<region>.", service) in NO_SOURCE_CONDITION, f"{logical}: {service}"
            if service == "cloudtrail.amazonaws.com" and not logical.startswith("GovernanceTrailLogsRole"):
                assert condition["ArnLike"]["aws:SourceArn"].startswith("arn:aws:cloudtrail:"), logical
    assert {"config.amazonaws.com", "cloudtrail.amazonaws.com", "events.amazonaws.com", "logging.s3.amazonaws.com"} <= found


# --- cdk-nag -------------------------------------------------------------------------------------------


def test_synthesizes_with_every_nag_pack_and_no_unacknowledged_finding(scenario: Scenario) -> None:
    ran = {plugin["pluginName"] for plugin in scenario.report["pluginReports"]}
    assert "AwsSolutions" in ran
    assert nag_findings(scenario.report, "violations") == Counter()


def test_acknowledgements_are_pinned_and_carry_reasons(scenario: Scenario) -> None:
    """The acknowledged rule IDs are exactly :data:`PINNED`, each with a reason a reviewer can judge."""
    assert pinned_with_reasons(scenario.report, scenario.acknowledgements, PINNED) == []


def test_every_acknowledgement_matches_a_real_finding(scenario: Scenario) -> None:
    """Synthesized with acknowledgements off, the findings are exactly the acknowledged ones."""
    assert unacknowledged_findings(_build) == nag_findings(scenario.report, "suppressedViolations")


# --- refused props -------------------------------------------------------------------------------------


def _refused(stack_id: str = "Test", **overrides: Any) -> str:
    with pytest.raises(ConstructError) as raised:
        Governance(new_stack(construct_id=stack_id), "Governance", props=GovernanceProps(**overrides))
    assert raised.value.path == f"{stack_id}/Governance"
    return str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"retention_days": 0}, "retention_days: 0 is out of range; allowed: 1 or more", id="no_retention"),
        pytest.param(
            {"retention_days": 60},
            "transition_after_days: 90 is not between 1 and retention_days (60); allowed: 1..59, or None",
            id="transition_after_expiry",
        ),
        pytest.param(
            {"transition_after_days": 0}, "transition_after_days: 0 is not between 1 and retention_days (365)", id="transition_at_0"
        ),
        pytest.param({"trail_name": "ab"}, "trail_name: 'ab' is not a trail name; allowed: 3 to 128 letters", id="trail_name_short"),
        pytest.param({"trail_name": "-audit"}, "trail_name: '-audit' is not a trail name", id="trail_name_start"),
        pytest.param({"trail_name": "my--trail"}, "trail_name: 'my--trail' is not a trail name", id="trail_name_separators"),
        pytest.param({"trail_name": "my trail"}, "trail_name: 'my trail' is not a trail name", id="trail_name_space"),
        pytest.param(
            {"excluded_resource_types": ["EC2::NetworkInterface"]},
            "excluded_resource_types: 'EC2::NetworkInterface' is not a resource type; allowed: AWS::Service::Type",
            id="resource_type_form",
        ),
        pytest.param(
            {"excluded_resource_types": ["AWS::ECS::TaskDefinition"]},
            "excluded_resource_types: AWS::ECS::TaskDefinition is recorded for SEC-7; allowed: any type but AWS::ECS::Cluster, "
            "AWS::ECS::Service, AWS::ECS::TaskDefinition",
            id="sec7_type_excluded",
        ),
        pytest.param(
            {"excluded_config_rules": ["ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT"]},
            "excluded_config_rules: 'ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT' is not one of the rules; allowed: "
            "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT, ",
            id="unknown_rule",
        ),
        pytest.param(
            {"secret_environment_keys": []},
            "secret_environment_keys is empty; allowed: one or more environment variable names",
            id="no_keys",
        ),
        pytest.param(
            {"secret_environment_keys": ["DB PASSWORD"]},
            "secret_environment_keys: 'DB PASSWORD' is not an environment variable name",
            id="key_with_space",
        ),
        pytest.param(
            {"secret_environment_keys": [f"SECRET_{i:04d}" for i in range(100)]},
            "secret_environment_keys: 100 names make the rule's parameters too long; allowed: 1024 characters",
            id="keys_too_long",
        ),
        pytest.param(
            {"finding_publishing_frequency": "DAILY"},
            "finding_publishing_frequency: 'DAILY' is not a frequency; allowed: FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS",
            id="frequency",
        ),
    ],
)
def test_fails_when_a_prop_is_out_of_its_rule(overrides: dict[str, Any], expected: str) -> None:
    assert expected in _refused(**overrides)


def test_fails_when_the_stack_name_makes_too_long_a_trail_name() -> None:
    """The default trail name is <stack name>-trail; a 125-character stack name makes 131 characters."""
    message = _refused("S" * 125)
    assert f"trail_name: '{'S' * 125}-trail' is not a trail name (from the stack name)" in message


def test_defaults_are_the_documented_ones() -> None:
    """No props is the defaults: one year of logs, Glacier Instant Retrieval at 90 days, everything created."""
    props = GovernanceProps()
    assert (props.retention_days, props.transition_after_days, props.cloud_watch_logs) == (365, 90, False)
    assert (props.existing_trail, props.existing_recorder, props.existing_detector) == (False, False, False)
    assert tuple(props.excluded_resource_types) == ("AWS::EC2::NetworkInterface",)
    assert (props.finding_publishing_frequency, props.ec2_agent_management, props.record_global_resource_types) == (
        "FIFTEEN_MINUTES",
        True,
        True,
    )
