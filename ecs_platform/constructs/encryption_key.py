"""EncryptionKey: a customer-managed KMS key that CloudWatch Logs may use (SEC-3)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Aspects, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ecs_platform.constructs.source_conditions import SourceConditions, source_conditions


@dataclass(frozen=True, kw_only=True)
class EncryptionKeyProps:
    description: str
    """What the key encrypts."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack does to the key. Default: RETAIN."""
    for_log_groups: bool = True
    """Let CloudWatch Logs of this account use the key, for log groups. Default: true."""


class EncryptionKey(kms.Key):
    """A symmetric KMS key with yearly rotation; by default usable by this account's log groups.

    CloudWatch Logs encrypts with the key only when the key policy allows the regional
    ``logs`` service principal; the grant is limited to log groups of this account and
    region through the ``kms:EncryptionContext:aws:logs:arn`` condition.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EncryptionKeyProps) -> None:
        super().__init__(
            scope,
            construct_id,
            description=props.description,
            enable_key_rotation=True,
            removal_policy=props.removal_policy,
        )
        Aspects.of(self).add(SourceConditions())  # grants CDK adds to the key policy (an EventBridge target's) get source conditions
        stack = Stack.of(self)
        if not props.for_log_groups:
            return
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                        )
                    }
                },
            )
        )


def allow_notifications(key: kms.IKey) -> None:
    """Let EventBridge rules and CloudWatch alarms of this account publish to SNS topics encrypted with
    ``key`` (the key policy must allow them). Idempotent; a no-op for an imported key."""
    if key.node.try_find_child("AllowNotifications") is not None:
        return
    if isinstance(key, Construct):
        Construct(key, "AllowNotifications")  # marks the key as done
    for sid, service in (
        ("AllowEventBridgeRulesToNotify", "events.amazonaws.com"),
        ("AllowCloudWatchAlarmsToNotify", "cloudwatch.amazonaws.com"),
    ):
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=source_conditions(service, Stack.of(key)),
            )
        )


def allow_codestar_notifications(key: kms.IKey) -> None:
    """Let CodeStar notification rules (a pipeline's failed executions) publish to SNS topics encrypted
    with ``key``, through SNS in this region only (``kms:ViaService``, as AWS documents for notification
    rules). Idempotent; a no-op for an imported key."""
    if key.node.try_find_child("AllowCodeStarNotifications") is not None:
        return
    if isinstance(key, Construct):
        Construct(key, "AllowCodeStarNotifications")  # marks the key as done
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCodeStarNotificationsToNotify",
            principals=[iam.ServicePrincipal("codestar-notifications.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{Stack.of(key).region}.amazonaws.com"}},
        )
    )
