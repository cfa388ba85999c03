"""Data stores the platform owns (issue 15, item 6): AppBucket, AppTable, AuroraServerless (SEC-3, IAM-5)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    AppBucket,
    AppBucketProps,
    AppTable,
    AppTableProps,
    AuroraServerless,
    AuroraServerlessProps,
    ConstructError,
    EncryptionKey,
    EncryptionKeyProps,
    LogBuckets,
    TableIndex,
    TableKey,
    TaskRole,
)
from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, REGION, logical_id, nag_app, new_stack, of_type, only, plain_vpc, synth

PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/platform-boundary"
#: The test VPC and the platform's log buckets are fixtures, not under review: their findings are left out of the pins.
FIXTURES = ("Test/Vpc", "Test/Logs")
Finding = tuple[str, str]


def _pins() -> set[Finding]:
    """(rule, construct path) of every acknowledged finding of :func:`_build`. Changing this set is a security review."""
    both, every = ("NIST.800.53.R5", "HIPAA.Security"), ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    pins: set[Finding] = set()
    # Replication needs a bucket in another region (the owner's choice); the log bucket takes SSE-S3 only.
    pins |= {(f"{p}-S3BucketReplicationEnabled", f"Test/{b}/Bucket/Resource") for p in every for b in ("Uploads", "Archive")}
    pins |= {
        (f"{p}-{r}", "Test/Uploads/AccessLogs/Resource") for p in every for r in ("S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")
    }
    # Archive: versioning turned off on purpose.
    pins |= {(f"{p}-S3BucketVersioningEnabled", "Test/Archive/Bucket/Resource") for p in every}
    # Point-in-time recovery and Aurora's automated backups instead of an AWS Backup plan.
    pins |= {(f"{p}-DynamoDBInBackupPlan", f"Test/{t}/Table/Resource") for p in both for t in ("Orders", "Sessions")}
    pins |= {(f"{p}-RDSInBackupPlan", f"Test/{db}/Cluster/{i}/Resource") for p in both for db, i in _INSTANCES}
    # Enhanced Monitoring's log streams are named by RDS.
    streams = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics:log-stream:*"
    pins |= {(f"AwsSolutions-IAM5[Resource::{streams}]", f"Test/{db}/MonitoringRole/Policy/Resource") for db in ("Db", "DevDb")}
    # TaskRole.grant_s3's own: the object keys under the prefix.
    pins.add(("AwsSolutions-IAM5[Resource::<UploadsBucketC4B27CC7.Arn>/images/*]", "Test/TaskRole/Policy/Resource"))
    # The non-production cluster: no deletion protection; MySQL's default port, no Backtrack.
    pins |= {(f"{p}-RDSInstanceDeletionProtectionEnabled", "Test/DevDb/Cluster/Resource") for p in both}
    pins |= {(f"AwsSolutions-{r}", "Test/DevDb/Cluster/Resource") for r in ("RDS10", "RDS11", "RDS14")}
    return pins


_INSTANCES = (("Db", "Writer"), ("Db", "Reader1"), ("DevDb", "Writer"))


@dataclass
class Scenario:
    template: Template
    resources: dict[str, dict[str, Any]]
    ids: dict[str, str]
    report: dict[str, Any]
    acknowledgements: dict[str, str]
    stores: dict[str, Any]


def _build(app: App) -> tuple[Stack, dict[str, Any]]:
    """Given, in one stack with a KMS key and a VPC with private subnets:

    - ``Uploads``: a bucket with every default (its own access log bucket);
    - ``Archive``: a named bucket logging to the platform's LogBuckets, unversioned, DESTROY;
    - ``Orders``: a table with a string partition key, a number sort key, a TTL attribute and an index;
    - ``Sessions``: a table with a binary partition key, no deletion protection, DESTROY;
    - ``Db``: production PostgreSQL (0.5..16 ACU, one reader, 35 days of backups, protected, SNAPSHOT), a client
      admitted, a permissions boundary;
    - ``DevDb``: non-production MySQL (unprotected, DESTROY), no client;
    - a task role granted each store the way the lead wires ``access:``.
    """
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    acknowledge(vpc, "AwsSolutions-VPC7", "Test fixture: the VPC is not under review here.")
    for rule in ("VPCFlowLogsEnabled", "VPCDefaultSecurityGroupClosed"):
        acknowledge_rule(vpc, rule, "Test fixture: the VPC is not under review here.")
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="Application data"))
    logs = LogBuckets(stack, "Logs")
    uploads = AppBucket(stack, "Uploads", props=AppBucketProps(encryption_key=key))
    archive = AppBucket(
        stack,
        "Archive",
        props=AppBucketProps(
            encryption_key=key,
            bucket_name="shop-archive-dev",
            versioned=False,
            expire_noncurrent_after_days=None,
            access_log_bucket=logs.server_access_logs,
            removal_policy=RemovalPolicy.DESTROY,
        ),
    )
    orders = AppTable(
        stack,
        "Orders",
        props=AppTableProps(
            encryption_key=key,
            partition_key=TableKey(name="customer"),
            sort_key=TableKey(name="ordered_at", type="number"),
            time_to_live_attribute="expires_at",
            global_secondary_indexes=[TableIndex(name="by-status", partition_key=TableKey(name="status"))],
        ),
    )
    sessions = AppTable(
        stack,
        "Sessions",
        props=AppTableProps(
            encryption_key=key,
            partition_key=TableKey(name="id", type="binary"),
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
        ),
    )
    db = AuroraServerless(
        stack,
        "Db",
        props=AuroraServerlessProps(
            vpc=vpc,
            vpc_subnets=PRIVATE,
            encryption_key=key,
            max_capacity=16,
            readers=1,
            backup_retention_days=35,
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(stack, "Boundary", BOUNDARY),
        ),
    )
    client = ec2.SecurityGroup(stack, "Client", vpc=vpc, description="a workload", allow_all_outbound=False)
    db.allow_from(client)
    dev = AuroraServerless(
        stack,
        "DevDb",
        props=AuroraServerlessProps(
            vpc=vpc,
            vpc_subnets=PRIVATE,
            encryption_key=key,
            engine="mysql",
            max_capacity=2,
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
            rotation_interval=Duration.days(7),
        ),
    )
    role = TaskRole(stack, "TaskRole")
    role.grant_s3(uploads.bucket, "read_write", prefix="images/")
    role.grant_kms(uploads.key, via_service="s3", write=True)
    role.grant_dynamodb(orders.table, "read", indexes=["by-status"])
    role.grant_kms(orders.key, via_service="dynamodb")
    role.grant_rds_data(db.cluster_arn, db.secret)
    role.grant_kms(db.key, via_service="secretsmanager")
    stores = {"uploads": uploads, "archive": archive, "orders": orders, "sessions": sessions, "db": db, "dev": dev}
    return stack, {**stores, "key": key, "client": client, "logs": logs, "role": role}


def _is_fixture(path: str) -> bool:
    return any(path == fixture or path.startswith(f"{fixture}/") for fixture in FIXTURES)


def _reviewed(found: Counter[Finding]) -> Counter[Finding]:
    return Counter({finding: n for finding, n in found.items() if not _is_fixture(finding[1])})


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    app = nag_app()
    stack, built = _build(app)
    acknowledgements = {
        rule.split("::", 1)[1]: reason
        for construct in app.node.find_all()
        if not _is_fixture(construct.node.path)
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
        if not rule.startswith("CloudFormation-Validate::")
    }
    (template,) = synth(app, stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    ids = {
        "key": logical_id(built["key"]),
        "uploads": logical_id(built["uploads"].bucket),
        "uploads.logs": logical_id(built["uploads"].access_log_bucket),
        "archive": logical_id(built["archive"].bucket),
        "server_access_logs": logical_id(built["logs"].server_access_logs),
        "orders": logical_id(built["orders"].table),
        "sessions": logical_id(built["sessions"].table),
        "db": logical_id(built["db"].cluster),
        "db.sg": logical_id(built["db"].security_group),
        "db.rotation_sg": logical_id(built["db"].rotation_security_group),
        "db.monitoring": logical_id(built["db"].monitoring_role),
        "dev": logical_id(built["dev"].cluster),
        "dev.sg": logical_id(built["dev"].security_group),
        "client": logical_id(built["client"]),
        "role": logical_id(built["role"]),
    }
    resources = template.to_json()["Resources"]
    return Scenario(template, resources, ids, report, acknowledgements, built)


def _props(scenario: Scenario, key: str) -> dict[str, Any]:
    props: dict[str, Any] = scenario.resources[scenario.ids[key]]["Properties"]
    return props


def _key_arn(scenario: Scenario) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}


# --- S3 -------------------------------------------------------------------------------------------------------------


def test_sec3_buckets_are_encrypted_with_the_customer_managed_key(scenario: Scenario) -> None:
    """SEC-3: each bucket's default encryption is SSE-KMS with the given key, with an S3 Bucket Key."""
    for bucket in ("uploads", "archive"):
        (rule,) = _props(scenario, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": _key_arn(scenario)}
        assert rule["BucketKeyEnabled"] is True


def test_bucket_is_versioned_private_and_ssl_only(scenario: Scenario) -> None:
    """Versioning on by default; every public access blocked, ACLs off; the bucket policy denies requests without TLS."""
    props = _props(scenario, "uploads")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    policies = [
        p
        for p in of_type(scenario.template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": scenario.ids["uploads"]}
    ]
    (policy,) = policies
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and s["Action"] == "s3:*" for s in denies)


def test_bucket_expires_noncurrent_versions_after_90_days_by_default(scenario: Scenario) -> None:
    """Overwritten or deleted objects stay recoverable for 90 days, then go; unfinished uploads go after 7 days."""
    rules = _props(scenario, "uploads")["LifecycleConfiguration"]["Rules"]
    assert {"NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Status": "Enabled"} in rules
    assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}, "Status": "Enabled"} in rules
    archive = _props(scenario, "archive")
    assert "VersioningConfiguration" not in archive
    assert all("NoncurrentVersionExpiration" not in r for r in archive["LifecycleConfiguration"]["Rules"])


def test_bucket_logs_requests_to_the_given_log_bucket_or_its_own(scenario: Scenario) -> None:
    """Server access logs go to the platform's log bucket when given, else to a log bucket of the construct's (SSE-S3)."""
    archive = _props(scenario, "archive")["LoggingConfiguration"]
    assert archive == {"DestinationBucketName": {"Ref": scenario.ids["server_access_logs"]}, "LogFilePrefix": "s3/Test/Archive/"}
    uploads = _props(scenario, "uploads")["LoggingConfiguration"]
    assert uploads["DestinationBucketName"] == {"Ref": scenario.ids["uploads.logs"]}
    (rule,) = _props(scenario, "uploads.logs")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_bucket_is_retained_by_default_and_never_emptied_by_a_function(scenario: Scenario) -> None:
    """RETAIN unless DESTROY is asked; even then no auto-delete custom resource (no Lambda) empties it."""
    assert scenario.resources[scenario.ids["uploads"]]["DeletionPolicy"] == "Retain"
    assert scenario.resources[scenario.ids["archive"]]["DeletionPolicy"] == "Delete"
    assert _props(scenario, "archive")["BucketName"] == "shop-archive-dev"
    assert not of_type(scenario.template, "Custom::S3AutoDeleteObjects")
    assert not of_type(scenario.template, "AWS::Lambda::Function")


# --- DynamoDB -------------------------------------------------------------------------------------------------------


def test_sec3_tables_are_encrypted_with_the_customer_managed_key(scenario: Scenario) -> None:
    """SEC-3: SSE with the given KMS key, not DynamoDB's owned or AWS managed key."""
    for table in ("orders", "sessions"):
        assert _props(scenario, table)["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": _key_arn(scenario)}


def test_tables_are_on_demand_with_point_in_time_recovery(scenario: Scenario) -> None:
    """PAY_PER_REQUEST billing and continuous backups (point-in-time recovery) on every table."""
    for table in ("orders", "sessions"):
        props = _props(scenario, table)
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_table_has_its_keys_ttl_and_indexes(scenario: Scenario) -> None:
    """Key attributes with their types, the TTL attribute, and a global index projecting every attribute."""
    props = _props(scenario, "orders")
    assert props["KeySchema"] == [{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "ordered_at", "KeyType": "RANGE"}]
    assert {"AttributeName": "ordered_at", "AttributeType": "N"} in props["AttributeDefinitions"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": "by-status",
        "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    assert _props(scenario, "sessions")["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "B"}]


def test_table_deletion_protection_and_retention_follow_the_props(scenario: Scenario) -> None:
    """Protected and retained by default; unprotected and deleted with the stack when asked."""
    assert _props(scenario, "orders")["DeletionProtectionEnabled"] is True
    assert scenario.resources[scenario.ids["orders"]]["DeletionPolicy"] == "Retain"
    assert _props(scenario, "sessions")["DeletionProtectionEnabled"] is False
    assert scenario.resources[scenario.ids["sessions"]]["DeletionPolicy"] == "Delete"


# --- Aurora ---------------------------------------------------------------------------------------------------------


def test_aurora_is_serverless_v2_in_the_capacity_range(scenario: Scenario) -> None:
    """ServerlessV2ScalingConfiguration carries the ACU range; the writer and the reader are db.serverless instances."""
    assert _props(scenario, "db")["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16}
    assert _props(scenario, "dev")["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 2}
    instances = [
        r["Properties"]
        for r in of_type(scenario.template, "AWS::RDS::DBInstance").values()
        if r["Properties"]["DBClusterIdentifier"] == {"Ref": scenario.ids["db"]}
    ]
    assert sorted(i["DBInstanceClass"] for i in instances) == ["db.serverless", "db.serverless"]
    assert all(i["PubliclyAccessible"] is False for i in instances)


def test_aurora_engines_and_versions(scenario: Scenario) -> None:
    """Aurora PostgreSQL 16 by default; Aurora MySQL 3 when asked."""
    db, dev = _props(scenario, "db"), _props(scenario, "dev")
    assert (db["Engine"], db["EngineVersion"], db["Port"]) == ("aurora-postgresql", "16.9", 5432)
    assert (dev["Engine"], dev["EngineVersion"], dev["Port"]) == ("aurora-mysql", "8.0.mysql_aurora.3.10.0", 3306)


def test_sec3_aurora_storage_secret_and_logs_use_the_customer_managed_key(scenario: Scenario) -> None:
    """SEC-3: encrypted storage, the credential's secret and the exported log groups all use the given key."""
    db = _props(scenario, "db")
    assert db["StorageEncrypted"] is True
    assert db["KmsKeyId"] == _key_arn(scenario)
    secrets = of_type(scenario.template, "AWS::SecretsManager::Secret")
    assert len(secrets) == 2
    assert all(s["Properties"]["KmsKeyId"] == _key_arn(scenario) for s in secrets.values())
    groups = {g["Properties"]["LogGroupName"]: g for g in of_type(scenario.template, "AWS::Logs::LogGroup").values()}
    identifier = db["DBClusterIdentifier"]
    group = groups[f"/aws/rds/cluster/{identifier}/postgresql"]
    assert group["Properties"]["KmsKeyId"] == _key_arn(scenario)
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"


def test_aurora_exports_logs_to_log_groups_that_exist_before_it(scenario: Scenario) -> None:
    """The engine's logs are exported, to the encrypted log groups the cluster depends on (RDS would create them
    unencrypted, without retention)."""
    db, dev = scenario.resources[scenario.ids["db"]], scenario.resources[scenario.ids["dev"]]
    assert db["Properties"]["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert dev["Properties"]["EnableCloudwatchLogsExports"] == ["audit", "error", "general", "slowquery"]
    groups = of_type(scenario.template, "AWS::Logs::LogGroup")
    dev_groups = {k for k, g in groups.items() if dev["Properties"]["DBClusterIdentifier"] in g["Properties"]["LogGroupName"]}
    assert len(dev_groups) == 4
    assert dev_groups <= set(dev["DependsOn"])
    assert all(groups[k]["DeletionPolicy"] == "Delete" for k in dev_groups)


def test_aurora_production_settings_protect_the_data(scenario: Scenario) -> None:
    """Production: deletion protection, a final snapshot on removal or replacement, 35 days of backups."""
    db = scenario.resources[scenario.ids["db"]]
    assert db["Properties"]["DeletionProtection"] is True
    assert (db["DeletionPolicy"], db["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    assert db["Properties"]["BackupRetentionPeriod"] == 35
    assert db["Properties"]["CopyTagsToSnapshot"] is True
    dev = scenario.resources[scenario.ids["dev"]]
    assert dev["Properties"]["DeletionProtection"] is False
    assert dev["DeletionPolicy"] == "Delete"
    assert dev["Properties"]["BackupRetentionPeriod"] == 7


def test_aurora_iam_authentication_and_data_api_are_on(scenario: Scenario) -> None:
    """IAM database authentication and the Data API (HTTP endpoint), which workloads use with grant_rds_data."""
    for db in ("db", "dev"):
        props = _props(scenario, db)
        assert props["EnableIAMDatabaseAuthentication"] is True
        assert props["EnableHttpEndpoint"] is True


def test_aurora_refuses_unencrypted_connections(scenario: Scenario) -> None:
    """The cluster parameter group forces TLS (rds.force_ssl / require_secure_transport)."""
    groups = {
        g["Properties"]["Family"]: g["Properties"]["Parameters"]
        for g in of_type(scenario.template, "AWS::RDS::DBClusterParameterGroup").values()
    }
    assert groups["aurora-postgresql16"]["rds.force_ssl"] == "1"
    assert groups["aurora-mysql8.0"]["require_secure_transport"] == "ON"
    assert groups["aurora-mysql8.0"]["server_audit_logging"] == "1"


def test_aurora_credential_rotates_on_a_schedule_with_the_key(scenario: Scenario) -> None:
    """Secrets Manager's hosted single-user rotation, in the VPC, every rotation_interval; the function encrypts with the key."""
    schedules = sorted(
        (s["Properties"] for s in of_type(scenario.template, "AWS::SecretsManager::RotationSchedule").values()),
        key=lambda s: s["HostedRotationLambda"]["RotationType"],
    )
    assert [s["HostedRotationLambda"]["RotationType"] for s in schedules] == ["MySQLSingleUser", "PostgreSQLSingleUser"]
    assert [s["RotationRules"]["ScheduleExpression"] for s in schedules] == ["rate(7 days)", "rate(30 days)"]
    postgres = schedules[1]["HostedRotationLambda"]
    assert postgres["KmsKeyArn"] == _key_arn(scenario)
    assert postgres["VpcSecurityGroupIds"] == {"Fn::GetAtt": [scenario.ids["db.rotation_sg"], "GroupId"]}
    assert "AWS::SecretsManager-2024-09-16" in scenario.template.to_json()["Transform"]


def test_aurora_security_group_admits_only_rotation_until_allow_from(scenario: Scenario) -> None:
    """No inbound rule but the rotation function's on the DB port; allow_from adds the client (ingress and its egress)."""
    ingress = of_type(scenario.template, "AWS::EC2::SecurityGroupIngress").values()

    def sources(sg: str) -> set[str]:
        return {
            i["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
            for i in ingress
            if i["Properties"]["GroupId"] == {"Fn::GetAtt": [scenario.ids[sg], "GroupId"]}
        }

    assert "SecurityGroupIngress" not in _props(scenario, "db.sg")
    assert sources("dev.sg") == {logical_id(scenario.stores["dev"].rotation_security_group)}
    assert sources("db.sg") == {scenario.ids["db.rotation_sg"], scenario.ids["client"]}
    scenario.template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": {"Fn::GetAtt": [scenario.ids["client"], "GroupId"]},
            "DestinationSecurityGroupId": {"Fn::GetAtt": [scenario.ids["db.sg"], "GroupId"]},
            "FromPort": 5432,
            "ToPort": 5432,
        },
    )
    assert _props(scenario, "db.sg")["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"


def test_iam8_monitoring_role_is_scoped_and_bounded(scenario: Scenario) -> None:
    """Enhanced Monitoring's role: trusted by RDS for this account's DB instances only, the boundary attached, and
    AWS's managed policy replaced by the RDSOSMetrics log group's actions."""
    role = _props(scenario, "db.monitoring")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*"},
    }
    assert role["PermissionsBoundary"] == BOUNDARY
    assert "ManagedPolicyArns" not in role
    _, policy = only(scenario.template, "AWS::IAM::ManagedPolicy", "DbMonitoringRole")
    resources = {s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics"
    assert resources == {group, f"{group}:log-stream:*"}
    instances = of_type(scenario.template, "AWS::RDS::DBInstance").values()
    assert all(i["Properties"]["MonitoringInterval"] == 60 for i in instances)


def test_iam5_task_role_grants_work_on_the_stores(scenario: Scenario) -> None:
    """The lead's access wiring: grant_s3, grant_dynamodb, grant_rds_data and grant_kms name exactly these resources."""
    _, policy = only(scenario.template, "AWS::IAM::ManagedPolicy", "TaskRole")
    text = json.dumps(policy["Properties"]["PolicyDocument"])
    for resource in ("uploads", "orders", "db"):
        assert scenario.ids[resource] in text
    assert json.dumps(Stack.of(scenario.stores["db"]).resolve(scenario.stores["db"].secret.secret_arn)) in text
    assert "rds-data:ExecuteStatement" in text
    assert f"secretsmanager.{REGION}.amazonaws.com" in text


# --- cdk-nag --------------------------------------------------------------------------------------------------------


def test_nag_every_store_synthesizes_with_no_unacknowledged_finding(scenario: Scenario) -> None:
    """The four packs ran (the fixture's synthesis would have raised on a finding); nothing is left unacknowledged."""
    assert {p["pluginName"] for p in scenario.report["pluginReports"]} >= {
        "AwsSolutions",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
    }
    assert nag_findings(scenario.report, "violations") == Counter()


def test_nag_acknowledgements_are_pinned_and_carry_reasons(scenario: Scenario) -> None:
    """The acknowledged findings are exactly :func:`_pins` (rule and construct), each once, with a reviewable reason."""
    suppressed = _reviewed(nag_findings(scenario.report, "suppressedViolations"))
    assert set(suppressed) == _pins()
    assert set(suppressed.values()) == {1}
    for rule, reason in scenario.acknowledgements.items():
        assert len(reason) > 40, f"{rule}: reason too short to review: {reason!r}"


def test_nag_every_acknowledgement_matches_a_real_finding(scenario: Scenario) -> None:
    """Synthesized with acknowledgements off, the findings are exactly the acknowledged ones, as often."""
    app = nag_app(acknowledgements=False)
    _build(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    unacknowledged = _reviewed(nag_findings(json.loads((Path(app.outdir) / "validation-report.json").read_text()), "violations"))
    assert unacknowledged == _reviewed(nag_findings(scenario.report, "suppressedViolations"))


# --- fails when -----------------------------------------------------------------------------------------------------


def _key(stack: Stack) -> kms.IKey:
    return kms.Key(stack, "Key")


def _aurora(**overrides: Any) -> None:
    stack = new_stack()
    values: dict[str, Any] = {"vpc": plain_vpc(stack), "vpc_subnets": PRIVATE, "encryption_key": _key(stack), **overrides}
    AuroraServerless(stack, "Db", props=AuroraServerlessProps(**values))


def _table(**overrides: Any) -> None:
    stack = new_stack()
    values: dict[str, Any] = {"encryption_key": _key(stack), "partition_key": TableKey(name="pk"), **overrides}
    AppTable(stack, "Table", props=AppTableProps(**values))


def _bucket(**overrides: Any) -> None:
    stack = new_stack()
    AppBucket(stack, "Bucket", props=AppBucketProps(encryption_key=_key(stack), **overrides))


@pytest.mark.parametrize(
    ("build", "overrides", "message"),
    [
        (_aurora, {"min_capacity": 0}, r"min_capacity: 0 is out of range; allowed: 0.5..256.0 in steps of 0.5"),
        (_aurora, {"max_capacity": 300}, r"max_capacity: 300 is out of range; allowed: 0.5..256.0"),
        (_aurora, {"max_capacity": 1.2}, r"max_capacity: 1.2 is out of range; allowed: .* in steps of 0.5"),
        (
            _aurora,
            {"min_capacity": 8, "max_capacity": 4},
            r"min_capacity: 8 is above max_capacity 4; allowed: min_capacity <= max_capacity",
        ),
        (_aurora, {"engine": "oracle"}, r"engine: 'oracle' is not supported; allowed: postgresql, mysql"),
        (_aurora, {"engine_version": "8.0.mysql_aurora.3.10.0"}, r"engine_version: .* is not an Aurora postgresql version; allowed: 13.x"),
        (_aurora, {"engine": "mysql", "engine_version": "16.9"}, r"engine_version: '16.9' is not an Aurora mysql version"),
        (_aurora, {"backup_retention_days": 36}, r"backup_retention_days: 36 is out of range; allowed: 1..35"),
        (_aurora, {"readers": 16}, r"readers: 16 is out of range; allowed: 0..15"),
        (_aurora, {"database_name": "1app"}, r"database_name: '1app' is not a database name"),
        (_aurora, {"master_username": "rdsadmin"}, r"master_username: 'rdsadmin' is not allowed; .*not starting with rds"),
        (_aurora, {"cluster_identifier": "Shop_DB"}, r"cluster_identifier: 'Shop_DB' is not a cluster name"),
        (_aurora, {"rotation_interval": Duration.hours(1)}, r"rotation_interval: 1 hour is out of range; allowed: 4 hours..1000 days"),
        (
            _aurora,
            {"monitoring_interval": Duration.seconds(20)},
            r"monitoring_interval: 20 seconds is not allowed; allowed: 1, 5, 10, 15, 30, 60",
        ),
        (_aurora, {"port": 80}, r"port: 80 is out of range; allowed: 1150..65535"),
        (
            _table,
            {"partition_key": TableKey(name="pk", type="boolean")},
            r"partition_key.type: 'boolean' is not a key type; allowed: string, number, binary",
        ),
        (_table, {"sort_key": TableKey(name="", type="string")}, r"sort_key.name: '' is not an attribute name"),
        (
            _table,
            {"global_secondary_indexes": [TableIndex(name="x", partition_key=TableKey(name="a"))]},
            r"global_secondary_indexes: 'x' is not an index name",
        ),
        (
            _table,
            {"global_secondary_indexes": [TableIndex(name="idx", partition_key=TableKey(name="a"))] * 2},
            r"global_secondary_indexes: 'idx' is named twice; allowed: unique names",
        ),
        (_table, {"removal_policy": RemovalPolicy.SNAPSHOT}, r"removal_policy: SNAPSHOT is not allowed; allowed: RETAIN, DESTROY"),
        (_table, {"table_name": "a"}, r"table_name: 'a' is not a table name"),
        (_bucket, {"bucket_name": "Shop_Uploads"}, r"bucket_name: 'Shop_Uploads' is not a bucket name"),
        (_bucket, {"expire_noncurrent_after_days": 0}, r"expire_noncurrent_after_days: 0 is out of range; allowed: 1 or more"),
        (_bucket, {"versioned": False}, r"expire_noncurrent_after_days: 90 needs versioning; allowed: None when versioned is false"),
        (_bucket, {"removal_policy": RemovalPolicy.SNAPSHOT}, r"removal_policy: SNAPSHOT is not allowed"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_fails_when_props_are_out_of_range(build: Any, overrides: dict[str, Any], message: str) -> None:
    """Bad props raise a ConstructError naming the field, the value and what is allowed."""
    with pytest.raises(ConstructError, match=message):
        build(**overrides)


def test_fails_when_the_error_names_the_construct_path() -> None:
    """The message starts with the construct's path, as every ConstructError does."""
    with pytest.raises(ConstructError, match=r"^Test/Db: readers: -1"):
        _aurora(readers=-1)
