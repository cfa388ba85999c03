"""NotificationTopic: where alarms and EventBridge rules of this account tell people something happened."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aspects, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.encryption_key import allow_codestar_notifications, allow_notifications
from ecs_platform.constructs.source_conditions import SourceConditions, source_conditions


@dataclass(frozen=True, kw_only=True)
class NotificationTopicProps:
    key: kms.IKey
    """Customer-managed key of the topic (SEC-3); its policy lets CloudWatch and EventBridge use it."""
    display_name: str
    """What subscribers see as the sender."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack (or replacing the topic) does to it and its subscriptions. Default: DESTROY."""


class NotificationTopic(sns.Topic):
    """A KMS-encrypted, SSL-only SNS topic that this account's CloudWatch alarms may publish to.

    ``enforce_ssl`` makes CDK write a topic policy, which replaces SNS's default one: without a
    statement for ``cloudwatch.amazonaws.com`` no alarm action would be delivered. The statement is
    limited to alarms of this account and region (``aws:SourceAccount``, ``aws:SourceArn``), and so is
    the grant an EventBridge rule adds when it targets the topic (:class:`SourceConditions`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: NotificationTopicProps) -> None:
        super().__init__(scope, construct_id, display_name=props.display_name, master_key=props.key, enforce_ssl=True)
        self._codestar_allowed = False
        self.apply_removal_policy(props.removal_policy)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic_arn],
                conditions=source_conditions("cloudwatch.amazonaws.com", Stack.of(self)),
            )
        )
        allow_notifications(props.key)
        Aspects.of(self).add(SourceConditions())

    def allow_codestar_notifications(self) -> None:
        """Let CodeStar notification rules of this account (a pipeline's failed executions, ARCH-6) publish here:
        a topic statement limited by ``aws:SourceAccount`` and a key statement limited by ``kms:ViaService``, the
        conditions AWS documents for notification rules. Idempotent."""
        if self._codestar_allowed:
            return
        self._codestar_allowed = True
        allow_codestar_notifications_to_publish(self)


def allow_codestar_notifications_to_publish(topic: sns.ITopic) -> None:
    """The topic statement AWS documents for CodeStar notification rules (``aws:SourceAccount``), and the key
    statement (``kms:ViaService``) when the topic's key is one of this app's. An imported topic's owner adds them."""
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCodeStarNotificationsToPublish",
            principals=[iam.ServicePrincipal("codestar-notifications.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(topic).account}},
        )
    )
    key: kms.IKey | None = topic.master_key
    if key is not None:
        allow_codestar_notifications(key)
