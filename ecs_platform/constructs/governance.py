"""Governance: CloudTrail, AWS Config and GuardDuty for an account and region (SEC-6, SEC-7, SEC-8).

An opt-in construct an account-and-region stack holds once:

- **SEC-6**: a multi-region CloudTrail trail with log file validation, encrypted with a customer-managed key
  of its own, delivering to a retained, versioned, SSL-only, KMS-encrypted bucket whose requests are recorded
  in a second (server access log) bucket, with a lifecycle that transitions and then expires the logs;
  CloudWatch Logs delivery on request. CloudTrail records the control plane (``ecs:CreateService``,
  ``ecs:RegisterTaskDefinition`` ...); what runs inside the tasks is out of its scope.
- **SEC-7**: an AWS Config recorder of every supported resource type except :data:`EXCLUDED_RESOURCE_TYPES`,
  a delivery channel to the same bucket (prefix ``config``), and the AWS managed rules of :data:`CONFIG_RULES`.
- **SEC-8**: a GuardDuty detector with Runtime Monitoring, its agent managed by GuardDuty on Fargate (and,
  by default, on EC2 container instances); :data:`GUARDDUTY_OPT_OUT_TAG` takes a cluster out. Findings of
  high severity reach ``alarm_topic`` through an EventBridge rule when one is given.

An account has one recorder and one detector per region, and one multi-region trail is enough for all its
regions (a second trail pays for a second copy of the same events): ``existing_trail``, ``existing_recorder``
and ``existing_detector`` leave out what exists already; the Config rules are created in any case.

The recorder's role is a :class:`ScopedRole` with one documented exception: AWS Config reads the
configuration of every supported resource type through ``Describe*``/``Get*``/``List*`` calls of most AWS
services, and AWS documents the AWS managed policy ``service-role/AWS_ConfigRole`` as what grants them; AWS
updates it whenever Config supports a new type. Hundreds of read actions on ``*``, kept up to date by hand,
would be neither narrower nor reviewable, so that policy is attached (and acknowledged for cdk-nag); the
delivery to the bucket and the use of the key are in the role's own policy, limited to the ``config`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule, checkov_skip, nag_text
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.image_repository import AUTHORIZATION_TOKEN, PULL_ACTIONS
from ecs_platform.constructs.log_buckets import log_bucket
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal, source_conditions
from ecs_platform.governance_catalog import (  # noqa: F401 - re-exported: what the construct builds from
    CONFIG_RULES,
    DEFAULT_SECRET_KEYS,
    EXCLUDED_RESOURCE_TYPES,
    FINDING_PUBLISHING_FREQUENCIES,
    GLOBAL_RESOURCE_TYPES,
    GUARDDUTY_FARGATE_AGENT_ACCOUNTS,
    GUARDDUTY_FARGATE_AGENT_REPOSITORY,
    GUARDDUTY_OPT_OUT_TAG,
    HIGH_SEVERITY,
    REQUIRED_RESOURCE_TYPES,
    RULES_LEFT_OUT,
)

#: Key prefixes of the log bucket.
TRAIL_PREFIX = "cloudtrail"
CONFIG_PREFIX = "config"

_RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: CloudTrail trail names: 3 to 128 letters, digits, '.', '_' and '-', starting and ending with a letter or a digit,
#: with no two separators in a row.
_TRAIL_NAME = re.compile(r"^(?=.{3,128}$)[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")
#: The most characters a Config rule's input parameters may take.
_MAX_INPUT_PARAMETERS = 1024


@dataclass(frozen=True, kw_only=True)
class GovernanceProps:
    retention_days: int = 365
    """Days the trail's and Config's log files (and the access logs of their bucket) are kept. Default: 365."""
    transition_after_days: int | None = 90
    """Days after which log files move to S3 Glacier Instant Retrieval (S3 keeps objects under 128 KB in their class);
    None keeps them in S3 Standard. Default: 90."""
    trail_name: str | None = None
    """Name of the trail (the key and bucket policies name its ARN). Default: ``<stack name>-trail``."""
    cloud_watch_logs: bool = False
    """Also deliver the trail's events to a KMS-encrypted CloudWatch Logs group (for metric filters and
    Logs Insights; billed per GB ingested). Default: false."""
    cloud_watch_logs_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of that log group. Default: one year."""
    excluded_resource_types: Sequence[str] = tuple(EXCLUDED_RESOURCE_TYPES)
    """Resource types the recorder does not record. Default: :data:`EXCLUDED_RESOURCE_TYPES`."""
    record_global_resource_types: bool = True
    """Record IAM users, groups, roles and policies here; set false in every region but one when the platform
    records several regions, or they are paid for in each. Default: true."""
    excluded_config_rules: Sequence[str] = ()
    """Identifiers of :data:`CONFIG_RULES` not to create (a rule AWS Config lacks in this region). Default: none."""
    secret_environment_keys: Sequence[str] = DEFAULT_SECRET_KEYS
    """Environment variable names ECS_NO_ENVIRONMENT_SECRETS reports. Default: :data:`DEFAULT_SECRET_KEYS`."""
    finding_publishing_frequency: str = "FIFTEEN_MINUTES"
    """How often GuardDuty publishes updates of existing findings (new ones are published at once): one of
    :data:`FINDING_PUBLISHING_FREQUENCIES`. Default: FIFTEEN_MINUTES."""
    ec2_agent_management: bool = True
    """GuardDuty also manages its agent on EC2 instances (ECS container instances, through Systems Manager) for
    SEC-8's EC2 workloads; it applies to every SSM-managed instance of the account in this region, billed per
    vCPU. Default: true."""
    existing_trail: bool = False
    """A multi-region trail exists (another region's stack, or the organization's): create none. Default: false."""
    existing_recorder: bool = False
    """This region has a configuration recorder: create no recorder and no delivery channel. Default: false."""
    existing_detector: bool = False
    """This region has a GuardDuty detector: create none. Default: false."""
    alarm_topic: sns.ITopic | None = None
    """Where GuardDuty findings of high severity (7 and above) go, through an EventBridge rule. Default: nowhere."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of every role. Default: none."""


class Governance(Construct):
    """CloudTrail (SEC-6), AWS Config (SEC-7) and GuardDuty (SEC-8) of an account and region; see the module.

    Attributes are None for what ``existing_*`` leaves out: :attr:`trail`, :attr:`key`, :attr:`bucket`,
    :attr:`server_access_logs`, :attr:`recorder`, :attr:`recorder_role`, :attr:`delivery_channel`,
    :attr:`detector`; :attr:`rules` maps each created rule's identifier to it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: GovernanceProps | None = None) -> None:
        super().__init__(scope, construct_id)
        # S3 server access logging writes through a bucket policy, not an ACL (BucketOwnerEnforced), whatever the
        # app's feature flags are.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        props = props or GovernanceProps()
        self._check(props)
        stack = Stack.of(self)
        self.trail_name = _trail_name(self, props)
        self.trail_arn = stack.format_arn(service="cloudtrail", resource="trail", resource_name=self.trail_name)
        """The trail's ARN (built from its name: the key and bucket policies name it, and the trail names them)."""

        self.key: EncryptionKey | None = None
        self.bucket: s3.Bucket | None = None
        self.server_access_logs: s3.Bucket | None = None
        if not (props.existing_trail and props.existing_recorder):
            self.key = EncryptionKey(
                self,
                "Key",
                props=EncryptionKeyProps(
                    description=f"CloudTrail and AWS Config log files of {stack.stack_name}", for_log_groups=props.cloud_watch_logs
                ),
            )
            self.server_access_logs, self.bucket = self._buckets(props)

        self.trail: cloudtrail.Trail | None = None
        self.log_group: logs.LogGroup | None = None
        self.trail_logs_role: ScopedRole | None = None
        if not props.existing_trail:
            self.trail = self._trail(props)

        self.recorder: config.CfnConfigurationRecorder | None = None
        self.recorder_role: ScopedRole | None = None
        self.delivery_channel: config.CfnDeliveryChannel | None = None
        if not props.existing_recorder:
            self._recorder(props)
        self.rules = self._rules(props)

        self.detector: guardduty.CfnDetector | None = None
        if not props.existing_detector:
            self.detector = self._detector(props)
        self.findings_rule: events.Rule | None = None
        if props.alarm_topic is not None:
            self.findings_rule = self._notify(props.alarm_topic)

    # --- props ---------------------------------------------------------------------------------------

    def _check(self, props: GovernanceProps) -> None:
        retention, transition = props.retention_days, props.transition_after_days
        refuse(self, "retention_days", None if retention >= 1 else f"{retention} is out of range; allowed: 1 or more", retention)
        if transition is not None:
            refuse(
                self,
                "transition_after_days",
                None
                if 1 <= transition < retention
                else f"{transition} is not between 1 and retention_days ({retention}); allowed: 1..{retention - 1}, or None",
                transition,
            )
        name = _trail_name(self, props)
        refuse(
            self,
            "trail_name",
            None
            if _TRAIL_NAME.match(name)
            else f"{name!r} is not a trail name{'' if props.trail_name else ' (from the stack name)'}; allowed: 3 to 128 letters, "
            "digits, '.', '_' and '-', starting and ending with a letter or digit, no two of '.', '_', '-' in a row",
            name,
        )
        for resource_type in props.excluded_resource_types:
            if not _RESOURCE_TYPE.match(resource_type):
                raise ConstructError(
                    self, f"excluded_resource_types: {resource_type!r} is not a resource type; allowed: AWS::Service::Type"
                )
            if resource_type in REQUIRED_RESOURCE_TYPES:
                raise ConstructError(
                    self,
                    f"excluded_resource_types: {resource_type} is recorded for SEC-7; allowed: any type but "
                    f"{', '.join(REQUIRED_RESOURCE_TYPES)}",
                )
        for rule in props.excluded_config_rules:
            if rule not in CONFIG_RULES:
                raise ConstructError(self, f"excluded_config_rules: {rule!r} is not one of the rules; allowed: {', '.join(CONFIG_RULES)}")
        keys = list(props.secret_environment_keys)
        bad = [k for k in keys if not _ENV_NAME.match(k)]
        if not keys or bad:
            raise ConstructError(
                self,
                f"secret_environment_keys: {bad[0]!r} is not an environment variable name"
                if bad
                else "secret_environment_keys is empty; allowed: one or more environment variable names",
            )
        if len(_secret_keys_parameter(keys)) > _MAX_INPUT_PARAMETERS:
            raise ConstructError(
                self,
                f"secret_environment_keys: {len(keys)} names make the rule's parameters too long; "
                f"allowed: {_MAX_INPUT_PARAMETERS} characters, separators included",
            )
        frequency = props.finding_publishing_frequency
        if frequency not in FINDING_PUBLISHING_FREQUENCIES:
            raise ConstructError(
                self,
                f"finding_publishing_frequency: {frequency!r} is not a frequency; allowed: {', '.join(FINDING_PUBLISHING_FREQUENCIES)}",
            )

    # --- SEC-6: the bucket and the trail --------------------------------------------------------------

    def _buckets(self, props: GovernanceProps) -> tuple[s3.Bucket, s3.Bucket]:
        server_access_logs = self._bucket("ServerAccessLogs", props, encryption=s3.BucketEncryption.S3_MANAGED)
        acknowledge_rule(
            server_access_logs,
            "S3DefaultEncryptionKMS",
            "S3 server access logging writes only to SSE-S3 buckets; a KMS default would drop every access log record.",
        )
        checkov_skip(
            server_access_logs,
            "CKV_AWS_18",
            "The terminal log bucket: it receives the server access logs of the trail's bucket and cannot log to itself.",
        )
        bucket = self._bucket("Logs", props, encryption=s3.BucketEncryption.KMS, server_access_logs=server_access_logs)
        return server_access_logs, bucket

    def _bucket(
        self, construct_id: str, props: GovernanceProps, *, encryption: s3.BucketEncryption, server_access_logs: s3.IBucket | None = None
    ) -> s3.Bucket:
        kms_encrypted = encryption == s3.BucketEncryption.KMS
        archive = props.transition_after_days
        bucket = log_bucket(
            self,
            construct_id,
            retention=Duration.days(props.retention_days),
            server_access_logs=server_access_logs,
            key=self.key if kms_encrypted else None,
            archive_after=Duration.days(archive) if archive is not None else None,
        )
        acknowledge_rule(
            bucket,
            "S3BucketReplicationEnabled",
            "Audit logs of one account with a fixed lifecycle; cross-region replication would double their cost without a "
            "recovery need (a multi-region trail already records every region).",
        )
        return bucket

    def _trail(self, props: GovernanceProps) -> cloudtrail.Trail:
        assert self.key is not None and self.bucket is not None
        bucket = self.bucket
        self._allow_cloudtrail(bucket)
        # Given a reference instead of the bucket, the Trail adds no statements of its own: the two above carry the
        # trail's ARN as aws:SourceArn, which CDK's do not.
        reference = s3.Bucket.from_bucket_attributes(self, "TrailBucket", bucket_arn=bucket.bucket_arn, bucket_name=bucket.bucket_name)
        trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=self.trail_name,
            bucket=reference,
            s3_key_prefix=TRAIL_PREFIX,
            encryption_key=self.key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            # Explicit: every management event, read and write (the first copy of them is free).
            management_events=cloudtrail.ReadWriteType.ALL,
        )
        cfn = trail.node.default_child
        assert isinstance(cfn, cloudtrail.CfnTrail)
        # CloudTrail checks its access to the bucket and the key when the trail is created.
        if bucket.policy is not None:
            cfn.node.add_dependency(bucket.policy)
        cfn.node.add_dependency(self.key)
        if props.cloud_watch_logs:
            self._trail_to_cloud_watch_logs(props, cfn)
        else:
            acknowledge_rule(
                trail,
                "CloudTrailCloudWatchLogsEnabled",
                "The trail delivers to S3 (KMS, log file validation, retained); CloudWatch Logs delivery is opt-in "
                "(cloud_watch_logs) because it bills every management event again per GB ingested.",
            )
        return trail

    def _allow_cloudtrail(self, bucket: s3.Bucket) -> None:
        """The bucket and key statements AWS documents for a trail, each limited to this trail (aws:SourceArn) of this
        account; CloudTrail's encryption is also limited to the encryption context of this account's trails."""
        stack = Stack.of(self)
        conditions = source_conditions("cloudtrail.amazonaws.com", stack, self.trail_arn)
        principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailAclCheck",
                principals=[principal],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions=conditions,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailWrite",
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{TRAIL_PREFIX}/AWSLogs/{stack.account}/*")],
                conditions={
                    "StringEquals": {**conditions["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
                    "ArnLike": conditions["ArnLike"],
                },
            )
        )
        assert self.key is not None
        account_trails = stack.format_arn(service="cloudtrail", region="*", resource="trail", resource_name="*")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogs",
                principals=[principal],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **conditions,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": account_trails},
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[principal],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=conditions,
            )
        )

    def _trail_to_cloud_watch_logs(self, props: GovernanceProps, trail: cloudtrail.CfnTrail) -> None:
        """A KMS-encrypted log group and the role CloudTrail delivers to it with (AWS documents that this role's trust
        policy takes no source conditions)."""
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "TrailLogGroup", encryption_key=self.key, retention=props.cloud_watch_logs_retention, removal_policy=RemovalPolicy.RETAIN
        )
        role = ScopedRole(
            self,
            "TrailLogsRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("cloudtrail.amazonaws.com", scope=self),
                description="CloudTrail delivers the trail's events to its log group",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        streams = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{self.log_group.log_group_name}:log-stream:{stack.account}_CloudTrail_*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[streams]))
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, streams)}]",
            "CloudTrail names a stream per region it delivers from (<account>_CloudTrail_<region>); the statement allows "
            "only those streams of the trail's own log group.",
        )
        trail.cloud_watch_logs_log_group_arn = self.log_group.log_group_arn
        trail.cloud_watch_logs_role_arn = role.role_arn
        assert role.scoped_policy is not None
        trail.node.add_dependency(role.scoped_policy)
        self.trail_logs_role = role

    # --- SEC-7: AWS Config ---------------------------------------------------------------------------

    def _recorder(self, props: GovernanceProps) -> None:
        assert self.key is not None and self.bucket is not None
        stack = Stack.of(self)
        role = ScopedRole(
            self,
            "RecorderRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("config.amazonaws.com", scope=self),
                description="AWS Config records this region's resources and delivers them to the governance bucket",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        # The documented exception (module docstring): the reads of every supported resource type.
        config_role = iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")
        role.add_managed_policy(config_role)
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
            "AWS Config reads every supported resource type through hundreds of Describe/Get/List actions; AWS documents "
            "AWS_ConfigRole as the policy that grants them and updates it with each new type. Delivery is in the role's "
            "own policy, limited to the config prefix.",
        )
        objects = self.bucket.arn_for_objects(f"{CONFIG_PREFIX}/AWSLogs/{stack.account}/*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[objects],
                conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            )
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetBucketAcl", "s3:ListBucket"], resources=[self.bucket.bucket_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"},
                    "ArnLike": {"kms:EncryptionContext:aws:s3:arn": objects},
                },
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, objects)}]",
            "AWS Config names its history and snapshot files itself; the statements allow writing (and encrypting) "
            "only under config/AWSLogs/<this account>/ of the governance bucket.",
        )
        excluded = sorted({*props.excluded_resource_types, *(() if props.record_global_resource_types else GLOBAL_RESOURCE_TYPES)})
        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            role_arn=role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=False,
                include_global_resource_types=False,
                recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(use_only="EXCLUSION_BY_RESOURCE_TYPES"),
                exclusion_by_resource_types=config.CfnConfigurationRecorder.ExclusionByResourceTypesProperty(resource_types=excluded),
            ),
            recording_mode=config.CfnConfigurationRecorder.RecordingModeProperty(recording_frequency="CONTINUOUS"),
        )
        assert role.scoped_policy is not None
        self.recorder.node.add_dependency(role.scoped_policy)
        # A delivery channel needs a recorder; CloudFormation starts the recorder once the channel exists.
        self.delivery_channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            s3_bucket_name=self.bucket.bucket_name,
            s3_key_prefix=CONFIG_PREFIX,
            s3_kms_key_arn=self.key.key_arn,
        )
        self.delivery_channel.node.add_dependency(self.recorder)
        self.recorder_role = role

    def _rules(self, props: GovernanceProps) -> dict[str, config.ManagedRule]:
        parameters: dict[str, Mapping[str, str]] = {
            "ECS_NO_ENVIRONMENT_SECRETS": {"secretKeys": _secret_keys_parameter(props.secret_environment_keys)},
        }
        scope = Construct(self, "Rules")
        rules: dict[str, config.ManagedRule] = {}
        for identifier in CONFIG_RULES:
            if identifier in props.excluded_config_rules:
                continue
            rule = config.ManagedRule(
                scope, identifier, identifier=identifier, input_parameters=parameters.get(identifier), description=CONFIG_RULES[identifier]
            )
            if self.delivery_channel is not None:
                # Rules evaluate what the recorder records: they wait for it and its channel.
                rule.node.add_dependency(self.delivery_channel)
            rules[identifier] = rule
        return rules

    # --- SEC-8: GuardDuty ----------------------------------------------------------------------------

    def _detector(self, props: GovernanceProps) -> guardduty.CfnDetector:
        agents = [
            guardduty.CfnDetector.CFNFeatureAdditionalConfigurationProperty(name="ECS_FARGATE_AGENT_MANAGEMENT", status="ENABLED"),
            guardduty.CfnDetector.CFNFeatureAdditionalConfigurationProperty(
                name="EC2_AGENT_MANAGEMENT", status="ENABLED" if props.ec2_agent_management else "DISABLED"
            ),
        ]
        return guardduty.CfnDetector(
            self,
            "Detector",
            enable=True,
            finding_publishing_frequency=props.finding_publishing_frequency,
            features=[
                guardduty.CfnDetector.CFNFeatureConfigurationProperty(
                    name="RUNTIME_MONITORING", status="ENABLED", additional_configuration=agents
                )
            ],
        )

    def _notify(self, topic: sns.ITopic) -> events.Rule:
        # The target grants EventBridge sns:Publish (and the topic key's use) on a topic of this app; a NotificationTopic
        # limits both to this account's rules.
        return events.Rule(
            self,
            "HighSeverityFindings",
            description=f"GuardDuty findings of severity {HIGH_SEVERITY} and above (SEC-8)",
            event_pattern=events.EventPattern(
                source=["aws.guardduty"],
                detail_type=["GuardDuty Finding"],
                detail={"severity": [{"numeric": [">=", HIGH_SEVERITY]}]},
            ),
            targets=[targets.SnsTopic(topic)],
        )


def _trail_name(scope: Construct, props: GovernanceProps) -> str:
    return props.trail_name or f"{Stack.of(scope).stack_name}-trail"


def _secret_keys_parameter(keys: Sequence[str]) -> str:
    return ",".join(keys)


def grant_guardduty_agent_pull(role: iam.IGrantable, scope: IConstruct) -> iam.Grant:
    """What the execution role of a Fargate task needs under GuardDuty Runtime Monitoring (SEC-8): GuardDuty adds its
    agent to the task as a sidecar, which ECS pulls with the task's execution role from GuardDuty's repository in the
    stack's region (:data:`GUARDDUTY_FARGATE_AGENT_ACCOUNTS`): that repository exactly, and the registry login."""
    stack = Stack.of(scope)
    region = stack.region
    if Token.is_unresolved(region) or region not in GUARDDUTY_FARGATE_AGENT_ACCOUNTS:
        raise ConstructError(
            scope,
            f"region {region!r} has no GuardDuty Fargate agent repository known to ecs-platform; allowed: a stack in one of "
            f"{', '.join(sorted(GUARDDUTY_FARGATE_AGENT_ACCOUNTS))}",
        )
    repository = stack.format_arn(
        service="ecr",
        resource="repository",
        resource_name=GUARDDUTY_FARGATE_AGENT_REPOSITORY,
        account=GUARDDUTY_FARGATE_AGENT_ACCOUNTS[region],
    )
    return iam.Grant.add_to_principal(grantee=role, actions=list(PULL_ACTIONS), resource_arns=[repository]).combine(
        iam.Grant.add_to_principal(grantee=role, actions=[AUTHORIZATION_TOKEN], resource_arns=["*"])
    )
