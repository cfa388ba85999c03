"""Data stores the platform owns: S3 buckets, DynamoDB tables and Aurora Serverless v2 clusters (issue 15, item 6).

What Copilot users keep in addons, built here to the platform's rules: every store is encrypted with the
customer-managed key it is given (SEC-3), keeps backups or versions, and takes the environment's choice of
``removal_policy`` and ``deletion_protection`` (production: RETAIN or SNAPSHOT, protected). Workloads get access
through the task role's ``grant_s3`` / ``grant_dynamodb`` / ``grant_rds_data`` and ``grant_kms`` (IAM-5): these
constructs create no role a workload uses.

**A rotated database credential and running tasks.** The cluster's credential is a Secrets Manager secret that a
rotation function (Secrets Manager's hosted rotation) replaces every ``rotation_interval``. A workload that reads
the secret when it uses it sees the new password at once: the Data API (``rds-data``, the grant
``grant_rds_data`` gives) reads the secret on every call, and so does an application that calls
``GetSecretValue`` (or the AWS caching client, whose cache expires) before it connects. A container that gets the
secret injected as an environment variable (ECS ``secrets``) keeps the value it started with: it sees the new
password only in tasks started after the rotation. Single-user rotation keeps the previous password valid until
the next rotation (``AWSPREVIOUS``), so such tasks work until then, but to be safe start a new deployment after a
rotation (``aws ecs update-service --force-new-deployment``, or an EventBridge rule on the secret's
``RotationSucceeded`` event), or keep ``rotation_interval`` longer than tasks live.

The rotation function runs in the VPC and calls Secrets Manager: its subnets need a NAT gateway or a Secrets Manager
interface endpoint. Hosted rotation is a CloudFormation transform (``AWS::SecretsManager-2024-09-16``): deploying the
stack needs ``CAPABILITY_AUTO_EXPAND`` (``cdk deploy`` passes it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ecs_platform.constructs.acknowledge import HIPAA, NIST, acknowledge, acknowledge_rule, nag_text
from ecs_platform.constructs.errors import ConstructError, unresolved
from ecs_platform.constructs.log_buckets import log_bucket
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal

KeyType = Literal["string", "number", "binary"]
Engine = Literal["postgresql", "mysql"]

ATTRIBUTE_TYPES: dict[str, dynamodb.AttributeType] = {
    "string": dynamodb.AttributeType.STRING,
    "number": dynamodb.AttributeType.NUMBER,
    "binary": dynamodb.AttributeType.BINARY,
}
#: Aurora Serverless v2 capacity: 0.5 ACU steps from 0.5 to 256 (256 needs PostgreSQL 16.1+ / MySQL 3.06+, which the defaults are).
MIN_ACU, MAX_ACU = 0.5, 256.0
#: Aurora keeps automated backups 1 to 35 days.
BACKUP_DAYS = (1, 35)
#: An Aurora cluster has at most 15 readers.
MAX_READERS = 15
DEFAULT_ENGINE_VERSIONS: dict[str, str] = {"postgresql": "16.9", "mysql": "8.0.mysql_aurora.3.10.0"}
#: What each engine writes to CloudWatch Logs (every log Aurora can export for it).
LOG_EXPORTS: dict[str, tuple[str, ...]] = {"postgresql": ("postgresql",), "mysql": ("audit", "error", "general", "slowquery")}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
#: Enhanced Monitoring granularities RDS offers, in seconds.
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
#: Removal policies a store accepts (SNAPSHOT is the Aurora cluster's only).
_REMOVAL_POLICIES = (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9-]{0,62}")
_DATABASE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
_POSTGRES_VERSION = re.compile(r"(1[3-9])\.\d+")
_MYSQL_VERSION = re.compile(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+")


def _removal(scope: Construct, policy: RemovalPolicy, allowed: Sequence[RemovalPolicy] = _REMOVAL_POLICIES) -> None:
    if policy not in allowed:
        raise ConstructError(scope, f"removal_policy: {policy.name} is not allowed; allowed: {', '.join(p.name for p in allowed)}")


# --- S3 -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AppBucketProps:
    encryption_key: kms.IKey
    """Customer-managed key of the objects (SSE-KMS with an S3 Bucket Key; SEC-3). Workloads need ``grant_kms(key,
    via_service="s3")`` besides ``grant_s3``."""
    bucket_name: str | None = None
    """Globally unique bucket name. Default: generated by CloudFormation."""
    versioned: bool = True
    """Keep every version of an object (an overwrite or delete can be undone). Default: true."""
    expire_noncurrent_after_days: int | None = 90
    """Delete versions this many days after a newer one replaced them; ``None`` keeps them. Default: 90."""
    access_log_bucket: s3.IBucket | None = None
    """Where S3 records every request to the bucket (server access logs, under ``s3/<construct path>/``): the
    platform's ``LogBuckets.server_access_logs``. Default: a new SSE-S3 log bucket of this construct's, kept
    ``access_log_retention``."""
    access_log_retention: Duration = Duration.days(365)
    """How long the construct's own access log bucket keeps logs (ignored with ``access_log_bucket``). Default: 365 days."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack (or replacing the bucket) does to it: RETAIN, or DESTROY, which deletes it only when it
    is empty (objects are never deleted for you: no auto-delete function; empty it first). Default: RETAIN."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of roles the construct creates; a bucket creates none today (kept for the common
    signature of data stores). Default: none."""


class AppBucket(Construct):
    """An application's S3 bucket: SSE-KMS with the given key, SSL-only, every public access blocked, object
    ownership enforced (no ACLs), versioned, noncurrent versions expired, requests logged to a log bucket.

    Deleting the stack with ``RemovalPolicy.DESTROY`` fails while the bucket holds objects (CloudFormation deletes
    empty buckets only): emptying it would take CDK's auto-delete function, a Lambda with an AWS managed policy
    that could also wipe data by accident. Empty it yourself, or keep RETAIN.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AppBucketProps) -> None:
        super().__init__(scope, construct_id)
        _removal(self, props.removal_policy)
        name = props.bucket_name
        if name is not None and not unresolved(name) and (not _BUCKET_NAME.fullmatch(name) or ".." in name):
            raise ConstructError(
                self, f"bucket_name: {name!r} is not a bucket name; allowed: 3-63 of a-z 0-9 . - (letter or digit at each end)"
            )
        days = props.expire_noncurrent_after_days
        if days is not None and days < 1:
            raise ConstructError(self, f"expire_noncurrent_after_days: {days} is out of range; allowed: 1 or more, or None (keep)")
        if days is not None and not props.versioned:
            raise ConstructError(self, f"expire_noncurrent_after_days: {days} needs versioning; allowed: None when versioned is false")
        # Grant S3 log delivery through a bucket policy, not an ACL (as LogBuckets does).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.access_log_bucket = props.access_log_bucket or self._log_bucket(props.access_log_retention)
        """Where the bucket's server access logs go."""
        self.key = props.encryption_key
        """The bucket's customer-managed key."""
        rules = [s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7))]
        if days is not None:
            rules.append(s3.LifecycleRule(noncurrent_version_expiration=Duration.days(days)))
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=props.encryption_key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=props.versioned,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=f"s3/{self.node.path}/",
            lifecycle_rules=rules,
            removal_policy=props.removal_policy,
        )
        """The bucket (grant with ``TaskRole.grant_s3``)."""
        acknowledge_rule(
            self.bucket,
            "S3BucketReplicationEnabled",
            "Replication needs a bucket in another region, chosen by the application's owner; versioning and the "
            "removal policy protect the objects against overwrite and deletion here.",
        )

        if not props.versioned:
            acknowledge_rule(
                self.bucket,
                "S3BucketVersioningEnabled",
                "Versioning was turned off for this bucket (versioned: false): its objects are replaceable (caches, "
                "exports); an overwrite or delete cannot be undone.",
            )

    def _log_bucket(self, retention: Duration) -> s3.Bucket:
        bucket = log_bucket(self, "AccessLogs", retention=retention)
        acknowledge_rule(
            bucket,
            "S3DefaultEncryptionKMS",
            "S3 server access logging only writes to SSE-S3 buckets; a KMS key would drop every log.",
        )
        acknowledge_rule(
            bucket,
            "S3BucketReplicationEnabled",
            "Operational logs with a fixed lifecycle; cross-region replication would double the cost without a recovery need.",
        )
        return bucket


# --- DynamoDB -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TableKey:
    """A key attribute of a table or index."""

    name: str
    """Attribute name."""
    type: KeyType = "string"
    """``string``, ``number`` or ``binary``. Default: string."""


@dataclass(frozen=True, kw_only=True)
class TableIndex:
    """A global secondary index; it projects every attribute."""

    name: str
    """Index name (3-255 of A-Z a-z 0-9 _ . -); workloads read it with ``grant_dynamodb(..., indexes=[name])``."""
    partition_key: TableKey
    """The index's partition key."""
    sort_key: TableKey | None = None
    """The index's sort key. Default: none."""


@dataclass(frozen=True, kw_only=True)
class AppTableProps:
    encryption_key: kms.IKey
    """Customer-managed key of the table (SEC-3). Workloads need ``grant_kms(key, via_service="dynamodb")`` besides
    ``grant_dynamodb``."""
    partition_key: TableKey
    """The table's partition key."""
    sort_key: TableKey | None = None
    """The table's sort key. Default: none."""
    table_name: str | None = None
    """Table name. Default: generated by CloudFormation."""
    time_to_live_attribute: str | None = None
    """Attribute holding each item's expiry (epoch seconds); DynamoDB deletes expired items. Default: none."""
    global_secondary_indexes: Sequence[TableIndex] = ()
    """Global secondary indexes (at most 20). Default: none."""
    deletion_protection: bool = True
    """Refuse ``DeleteTable`` until turned off. Default: true."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack (or replacing the table) does to it: RETAIN or DESTROY. Default: RETAIN."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of roles the construct creates; a table creates none today. Default: none."""


MAX_INDEXES = 20


class AppTable(Construct):
    """An application's DynamoDB table: on-demand (pay per request), encrypted with the given key, point-in-time
    recovery on (35 days of continuous backups), deletion protection and removal policy as given."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AppTableProps) -> None:
        super().__init__(scope, construct_id)
        _removal(self, props.removal_policy)
        if props.table_name is not None and not unresolved(props.table_name) and not _NAME.fullmatch(props.table_name):
            raise ConstructError(self, f"table_name: {props.table_name!r} is not a table name; allowed: 3-255 of A-Z a-z 0-9 _ . -")
        indexes = list(props.global_secondary_indexes)
        if len(indexes) > MAX_INDEXES:
            raise ConstructError(self, f"global_secondary_indexes: {len(indexes)} indexes; allowed: at most {MAX_INDEXES}")
        seen: set[str] = set()
        for index in indexes:
            if not _NAME.fullmatch(index.name):
                raise ConstructError(
                    self, f"global_secondary_indexes: {index.name!r} is not an index name; allowed: 3-255 of A-Z a-z 0-9 _ . -"
                )
            if index.name in seen:
                raise ConstructError(self, f"global_secondary_indexes: {index.name!r} is named twice; allowed: unique names")
            seen.add(index.name)
        self.key = props.encryption_key
        """The table's customer-managed key."""
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=props.table_name,
            partition_key=self._attribute("partition_key", props.partition_key),
            sort_key=self._attribute("sort_key", props.sort_key) if props.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=props.encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
            deletion_protection=props.deletion_protection,
            time_to_live_attribute=props.time_to_live_attribute,
            removal_policy=props.removal_policy,
        )
        """The table (grant with ``TaskRole.grant_dynamodb``)."""
        acknowledge_rule(
            self.table,
            "DynamoDBInBackupPlan",
            "Point-in-time recovery backs the table up continuously (35 days of restore points); an AWS Backup plan is "
            "the account's choice (an organization backup policy).",
            packs=(NIST, HIPAA),
        )
        for index in indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=self._attribute(f"global_secondary_indexes[{index.name}].partition_key", index.partition_key),
                sort_key=self._attribute(f"global_secondary_indexes[{index.name}].sort_key", index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def _attribute(self, field: str, key: TableKey) -> dynamodb.Attribute:
        if not key.name or len(key.name) > 255:
            raise ConstructError(self, f"{field}.name: {key.name!r} is not an attribute name; allowed: 1-255 characters")
        kind = ATTRIBUTE_TYPES.get(key.type)
        if kind is None:
            raise ConstructError(self, f"{field}.type: {key.type!r} is not a key type; allowed: {', '.join(ATTRIBUTE_TYPES)}")
        return dynamodb.Attribute(name=key.name, type=kind)


# --- Aurora Serverless v2 -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuroraServerlessProps:
    vpc: ec2.IVpc
    """The VPC of the cluster."""
    vpc_subnets: ec2.SubnetSelection
    """Subnets of the cluster's instances (private, in at least two AZs)."""
    encryption_key: kms.IKey
    """Customer-managed key of the storage, the credential's secret and the exported logs (SEC-3); CloudWatch Logs
    must be allowed to use it (:class:`EncryptionKey` does)."""
    engine: Engine = "postgresql"
    """``postgresql`` (Aurora PostgreSQL) or ``mysql`` (Aurora MySQL). Default: postgresql."""
    engine_version: str | None = None
    """Full engine version: ``16.9`` (PostgreSQL 13 or later), ``8.0.mysql_aurora.3.10.0`` (MySQL 3.x).
    Default: 16.9 / 8.0.mysql_aurora.3.10.0."""
    database_name: str = "app"
    """Database created with the cluster. Default: app."""
    master_username: str = "dbadmin"
    """User of the generated credential. Default: dbadmin."""
    min_capacity: float = 0.5
    """Fewest Aurora capacity units (0.5 to 256, in 0.5 steps). Default: 0.5."""
    max_capacity: float = 4
    """Most Aurora capacity units (``min_capacity`` to 256, in 0.5 steps). Default: 4."""
    readers: int = 0
    """Serverless v2 readers that scale with the writer, spread over the AZs: failover targets (production: 1 or
    more). Default: 0."""
    backup_retention_days: int = 7
    """Days of automated backups (point-in-time restore), 1 to 35. Default: 7."""
    deletion_protection: bool = True
    """Refuse to delete the cluster until turned off. Default: true."""
    removal_policy: RemovalPolicy = RemovalPolicy.SNAPSHOT
    """What deleting the stack (or replacing the cluster) does to it: SNAPSHOT (a final snapshot), RETAIN or DESTROY.
    Default: SNAPSHOT."""
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """How long the exported database logs are kept. Default: one year."""
    rotation_interval: Duration = Duration.days(30)
    """How often the credential is rotated (4 hours to 1,000 days). Default: 30 days."""
    rotation_subnets: ec2.SubnetSelection | None = None
    """Subnets of the rotation function: it calls Secrets Manager, so they need a route to it (a NAT gateway or an
    interface endpoint). Default: ``vpc_subnets``."""
    cluster_identifier: str | None = None
    """The cluster's name (lowercase letters, digits, hyphens; up to 63); the log groups are named after it, so it is
    always set, and a change that replaces the cluster (engine, key, subnets' VPC) needs a new name too. Default:
    derived from the construct path."""
    port: int | None = None
    """The port the cluster listens on. Default: the engine's (5432 / 3306)."""
    monitoring_interval: Duration = Duration.seconds(60)
    """Enhanced Monitoring: how often RDS records the instances' OS metrics (1, 5, 10, 15, 30 or 60 seconds), in the
    ``RDSOSMetrics`` log group. Default: 60 seconds."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the Enhanced Monitoring role (the rotation function's role belongs to Secrets Manager's
    hosted rotation template, which takes none). Default: none."""


class AuroraServerless(Construct):
    """An Aurora Serverless v2 cluster (a serverless v2 writer and ``readers``) in private subnets.

    Storage, the generated credential (a Secrets Manager secret) and the exported logs are encrypted with the
    customer-managed key; the credential rotates every ``rotation_interval`` (Secrets Manager's hosted single-user
    rotation, in the VPC); IAM database authentication and the Data API are on; connections must use TLS
    (``rds.force_ssl`` / ``require_secure_transport``); the security group admits nothing but the rotation function
    until :meth:`allow_from` names a client. Logs go to log groups created here, with the key and retention, before
    the cluster exists (so RDS does not create them unencrypted).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AuroraServerlessProps) -> None:
        super().__init__(scope, construct_id)
        self._check(props)
        engine = _engine(props.engine, props.engine_version or DEFAULT_ENGINE_VERSIONS[props.engine])
        self.port = props.port or DEFAULT_PORTS[props.engine]
        """The port the cluster listens on."""
        self.key = props.encryption_key
        identifier = props.cluster_identifier or _identifier(self)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"Aurora cluster {identifier}: inbound from named clients on {self.port} only",
            allow_all_outbound=False,
        )
        """The cluster's security group; admit clients with :meth:`allow_from`."""
        self.log_groups = [
            logs.LogGroup(
                self,
                f"Log{kind.capitalize()}",
                log_group_name=f"/aws/rds/cluster/{identifier}/{kind}",
                encryption_key=props.encryption_key,
                retention=props.log_retention,
                removal_policy=RemovalPolicy.RETAIN if props.removal_policy == RemovalPolicy.SNAPSHOT else props.removal_policy,
            )
            for kind in LOG_EXPORTS[props.engine]
        ]
        self.monitoring_role = self._monitoring_role(props.permissions_boundary)
        """The role RDS Enhanced Monitoring writes the OS metrics with."""
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            cluster_identifier=identifier,
            default_database_name=props.database_name,
            credentials=rds.Credentials.from_generated_secret(props.master_username, encryption_key=props.encryption_key),
            # Instances named after their cluster: what an operator sees in the console and in RDS events.
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True, instance_identifier=f"{identifier}-writer"),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    f"Reader{n + 1}",
                    scale_with_writer=True,
                    auto_minor_version_upgrade=True,
                    instance_identifier=f"{identifier}-reader{n + 1}",
                )
                for n in range(props.readers)
            ],
            serverless_v2_min_capacity=props.min_capacity,
            serverless_v2_max_capacity=props.max_capacity,
            vpc=props.vpc,
            vpc_subnets=props.vpc_subnets,
            security_groups=[self.security_group],
            port=self.port,
            storage_encrypted=True,
            storage_encryption_key=props.encryption_key,
            iam_authentication=True,
            enable_data_api=True,
            backup=rds.BackupProps(retention=Duration.days(props.backup_retention_days)),
            copy_tags_to_snapshot=True,
            deletion_protection=props.deletion_protection,
            removal_policy=props.removal_policy,
            cloudwatch_logs_exports=list(LOG_EXPORTS[props.engine]),
            monitoring_interval=props.monitoring_interval,
            monitoring_role=self.monitoring_role,
            parameters=_PARAMETERS[props.engine],
        )
        """The cluster."""
        for log_group in self.log_groups:
            self.cluster.node.add_dependency(log_group)
        secret = self.cluster.secret
        assert secret is not None  # from_generated_secret always makes one
        self.secret: secretsmanager.ISecret = secret
        """The credential (JSON: username, password, host, port, dbname, engine), attached to the cluster; for the
        Data API, ``TaskRole.grant_rds_data(cluster_arn, secret)`` and ``grant_kms(key, via_service="secretsmanager")``."""
        self.rotation_security_group = ec2.SecurityGroup(
            self,
            "RotationSecurityGroup",
            vpc=props.vpc,
            description=f"Credential rotation of Aurora cluster {identifier}: to the cluster and Secrets Manager",
            allow_all_outbound=False,
        )
        self.rotation_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "Secrets Manager API (through a NAT gateway or an interface endpoint)"
        )
        hosted = (
            secretsmanager.HostedRotation.postgre_sql_single_user
            if props.engine == "postgresql"
            else secretsmanager.HostedRotation.mysql_single_user
        )(
            vpc=props.vpc,
            vpc_subnets=props.rotation_subnets or props.vpc_subnets,
            security_groups=[self.rotation_security_group],
        )
        self.rotation = self.secret.add_rotation_schedule("Rotation", hosted_rotation=hosted, automatically_after=props.rotation_interval)
        """The secret's rotation schedule."""
        self.allow_from(self.rotation_security_group, "Credential rotation")
        if props.engine == "mysql":
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS14",
                "No Backtrack: it rewinds the whole cluster in place; recovery is point-in-time restore into a new cluster "
                "from the automated backups (backup_retention_days).",
            )
            if self.port == DEFAULT_PORTS["mysql"]:
                acknowledge(
                    self.cluster,
                    "AwsSolutions-RDS11",
                    "The engine's default port: a port is not a secret; only the security group's named clients reach it, "
                    "over TLS, with the rotated or an IAM credential. Set port to change it.",
                )
        if not props.deletion_protection:
            reason = "Non-production environment: the cluster may be deleted with its stack (a final snapshot unless DESTROY)."
            acknowledge(self.cluster, "AwsSolutions-RDS10", reason)
            acknowledge_rule(self.cluster, "RDSInstanceDeletionProtectionEnabled", reason, packs=(NIST, HIPAA))
        for instance in self.cluster.node.children:
            if isinstance(instance.node.default_child, rds.CfnDBInstance):
                acknowledge_rule(
                    instance,
                    "RDSInBackupPlan",
                    "Aurora backs the cluster up itself (automated backups, point-in-time restore for backup_retention_days, "
                    "a final snapshot on removal); an AWS Backup plan is the account's choice (an organization backup policy).",
                    packs=(NIST, HIPAA),
                )

    def _monitoring_role(self, boundary: iam.IManagedPolicy | None) -> ScopedRole:
        """What AWS's AmazonRDSEnhancedMonitoringRole allows, on the ``RDSOSMetrics`` log group only (not ``RDS*``)."""
        role = ScopedRole(
            self,
            "MonitoringRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("monitoring.rds.amazonaws.com", scope=self),
                description="RDS Enhanced Monitoring writes the OS metrics of this account's DB instances",
                permissions_boundary=boundary,
            ),
        )
        stack = Stack.of(self)
        group = stack.format_arn(
            service="logs", resource="log-group", resource_name="RDSOSMetrics", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        streams = f"{group}:log-stream:*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources=[group]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"], resources=[streams]
            )
        )
        acknowledge(
            role.scoped_policy or role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, streams)}]",
            "RDS names each stream of the RDSOSMetrics log group after the instance's resource ID, known only once it exists.",
        )
        return role

    @property
    def cluster_arn(self) -> str:
        """The cluster's ARN (for ``grant_rds_data``)."""
        return self.cluster.cluster_arn

    @property
    def cluster_resource_id(self) -> str:
        """The cluster's resource ID (``cluster-…``, for ``grant_rds_iam_connect``)."""
        return self.cluster.cluster_resource_identifier

    def allow_from(self, peer: ec2.IConnectable, description: str = "Database client") -> None:
        """Admit ``peer`` (a workload's security group, or anything with connections) to the cluster's port; a peer
        whose outbound traffic is limited also gets the matching egress rule."""
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(self.port), description)

    def _check(self, props: AuroraServerlessProps) -> None:
        if props.engine not in DEFAULT_PORTS:
            raise ConstructError(self, f"engine: {props.engine!r} is not supported; allowed: {', '.join(DEFAULT_PORTS)}")
        version = props.engine_version
        pattern = _POSTGRES_VERSION if props.engine == "postgresql" else _MYSQL_VERSION
        if version is not None and not pattern.fullmatch(version):
            allowed = "13.x or later (e.g. 16.9)" if props.engine == "postgresql" else "8.0.mysql_aurora.3.xx.y"
            raise ConstructError(self, f"engine_version: {version!r} is not an Aurora {props.engine} version; allowed: {allowed}")
        for field, value in (("min_capacity", props.min_capacity), ("max_capacity", props.max_capacity)):
            if not MIN_ACU <= value <= MAX_ACU or value * 2 != int(value * 2):
                raise ConstructError(self, f"{field}: {value} is out of range; allowed: {MIN_ACU}..{MAX_ACU} in steps of 0.5")
        if props.min_capacity > props.max_capacity:
            raise ConstructError(
                self,
                f"min_capacity: {props.min_capacity} is above max_capacity {props.max_capacity}; allowed: min_capacity <= max_capacity",
            )
        if not 0 <= props.readers <= MAX_READERS:
            raise ConstructError(self, f"readers: {props.readers} is out of range; allowed: 0..{MAX_READERS}")
        low, high = BACKUP_DAYS
        if not low <= props.backup_retention_days <= high:
            raise ConstructError(self, f"backup_retention_days: {props.backup_retention_days} is out of range; allowed: {low}..{high}")
        _removal(self, props.removal_policy, (RemovalPolicy.SNAPSHOT, *_REMOVAL_POLICIES))
        if not _DATABASE_NAME.fullmatch(props.database_name):
            raise ConstructError(
                self, f"database_name: {props.database_name!r} is not a database name; allowed: a letter, then up to 62 of A-Z a-z 0-9 _"
            )
        if not _DATABASE_NAME.fullmatch(props.master_username) or props.master_username.lower().startswith("rds"):
            raise ConstructError(
                self,
                f"master_username: {props.master_username!r} is not allowed; allowed: a letter, then up to 62 of A-Z a-z 0-9 _, "
                "not starting with rds (the engine's own users)",
            )
        name = props.cluster_identifier
        if name is not None and (not _IDENTIFIER.fullmatch(name) or "--" in name or name.endswith("-")):
            raise ConstructError(
                self,
                f"cluster_identifier: {name!r} is not a cluster name; allowed: a letter, then up to 62 of a-z 0-9 - (no -- or trailing -)",
            )
        seconds = props.rotation_interval.to_seconds()
        if not 4 * 3600 <= seconds <= 1000 * 86400:
            raise ConstructError(
                self, f"rotation_interval: {props.rotation_interval.to_human_string()} is out of range; allowed: 4 hours..1000 days"
            )
        if props.port is not None and not 1150 <= props.port <= 65535:
            raise ConstructError(self, f"port: {props.port} is out of range; allowed: 1150..65535")
        interval = props.monitoring_interval.to_seconds()
        if interval not in MONITORING_INTERVALS:
            raise ConstructError(
                self,
                f"monitoring_interval: {interval} seconds is not allowed; allowed: {', '.join(map(str, MONITORING_INTERVALS))} seconds",
            )


#: The cluster parameter group: refuse unencrypted connections; MySQL also writes the audit (connections, DDL, grants)
#: and slow query logs it exports (the general log stays off: it records every statement).
_PARAMETERS: dict[str, dict[str, str]] = {
    "postgresql": {"rds.force_ssl": "1"},
    "mysql": {
        "require_secure_transport": "ON",
        "server_audit_logging": "1",
        "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
        "slow_query_log": "1",
        "long_query_time": "2",
        "log_output": "FILE",
    },
}


def _engine(engine: Engine, version: str) -> rds.IClusterEngine:
    if engine == "postgresql":
        pg = rds.AuroraPostgresEngineVersion.of(version, version.split(".")[0])
        return rds.DatabaseClusterEngine.aurora_postgres(version=pg)
    return rds.DatabaseClusterEngine.aurora_mysql(version=rds.AuroraMysqlEngineVersion.of(version, "8.0"))


def _identifier(scope: Construct) -> str:
    """A cluster name unique in the app, from the construct path: lowercase letters, digits and single hyphens."""
    name = re.sub(r"[^a-z0-9]+", "-", Names.unique_resource_name(scope, max_length=60, separator="-").lower()).strip("-")
    return name if name[:1].isalpha() else f"db-{name}"[:63]
