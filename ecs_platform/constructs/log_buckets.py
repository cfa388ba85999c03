"""LogBuckets: where load balancers write access logs, and who read or changed those logs."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aspects, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge_rule, checkov_skip
from ecs_platform.constructs.source_conditions import SourceConditions


@dataclass(frozen=True, kw_only=True)
class LogBucketsProps:
    retention: Duration = Duration.days(365)
    """How long logs are kept. Default: 365 days."""


class LogBuckets(Construct):
    """Two buckets: ``access_logs`` for ALB access logs (``<prefix>/AWSLogs/...``), and
    ``server_access_logs``, which records every request made to the first (who read or
    deleted a log) and is the terminal log bucket.

    Both are SSE-S3 encrypted (the only encryption ALB log delivery and S3 server access
    logging accept), SSL-only, private, versioned, expire objects by a lifecycle rule and
    are retained when the stack is deleted: emptying a bucket on delete needs CDK's
    auto-delete custom resource, which brings a Lambda with an AWS managed policy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: LogBucketsProps | None = None) -> None:
        super().__init__(scope, construct_id)
        retention = (props or LogBucketsProps()).retention
        # Grant S3 log delivery through a bucket policy, not an ACL, whatever the app's
        # feature flags are (the ACL path is incompatible with BucketOwnerEnforced).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.server_access_logs = self._bucket("ServerAccessLogs", retention)
        checkov_skip(
            self.server_access_logs,
            "CKV_AWS_18",
            "The terminal log bucket: it receives the server access logs of the ALB log bucket and cannot log to itself.",
        )
        self.access_logs = self._bucket("AccessLogs", retention, server_access_logs=self.server_access_logs)
        # The log delivery grants CDK writes when a load balancer logs here get source conditions.
        Aspects.of(self).add(SourceConditions())

    def _bucket(self, construct_id: str, retention: Duration, server_access_logs: s3.IBucket | None = None) -> s3.Bucket:
        bucket = log_bucket(self, construct_id, retention=retention, server_access_logs=server_access_logs)
        acknowledge_rule(
            bucket,
            "S3DefaultEncryptionKMS",
            "Log delivery (ALB access logs, S3 server access logs) only writes to SSE-S3 buckets; a KMS key would drop every log.",
        )
        acknowledge_rule(
            bucket,
            "S3BucketReplicationEnabled",
            "Operational logs with a fixed lifecycle; cross-region replication would double the cost without a recovery need.",
        )
        return bucket


def log_bucket(
    scope: Construct,
    construct_id: str,
    *,
    retention: Duration,
    server_access_logs: s3.IBucket | None = None,
    key: kms.IKey | None = None,
    archive_after: Duration | None = None,
) -> s3.Bucket:
    """A bucket of logs: SSL-only, private, versioned, retained when the stack goes (logs are evidence) but removed when
    its first creation fails (empty then, and a retried deploy must not find it in the way); its requests recorded in
    ``server_access_logs`` (under ``s3/``); objects moved to S3 Glacier Instant Retrieval after ``archive_after`` and
    expired after ``retention``. SSE-S3, or with ``key`` SSE-KMS without an S3 Bucket Key (KMS then sees each object's
    own encryption context, which key policies can be limited by)."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        bucket_key_enabled=False if key else None,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        server_access_logs_bucket=server_access_logs,
        server_access_logs_prefix="s3/" if server_access_logs else None,
        lifecycle_rules=[
            s3.LifecycleRule(
                transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=archive_after)]
                if archive_after
                else None,
                expiration=retention,
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
    )
