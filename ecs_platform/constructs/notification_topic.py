"""NotificationTopic: where alarms and EventBridge rules of this account tell people something happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aspects, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.encryption_key import allow_codestar_notifications, allow_notifications
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import SourceConditions, service_principal, source_conditions


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


@dataclass(frozen=True, kw_only=True)
class Subscribers:
    """Who hears of the platform's alarms and failed job runs (OBS-2): each is subscribed to every topic given."""

    emails: Sequence[str] = ()
    """Email addresses (each confirms the subscription from the mail SNS sends). Default: none."""
    https_urls: Sequence[str] = ()
    """HTTPS endpoints (they confirm the subscription). Default: none."""
    queue_arns: Sequence[str] = ()
    """SQS queues; a queue of another stack needs a policy letting the topics send to it. Default: none."""
    function_arns: Sequence[str] = ()
    """Lambda functions of this account (the subscription grants the topics the invoke permission). Default: none."""
    slack_workspace_id: str | None = None
    """An AWS Chatbot Slack workspace (authorized once in the Chatbot console), with ``slack_channel_id``. Default: none."""
    slack_channel_id: str | None = None
    """The Slack channel the alarms are posted to. Default: none."""

    @property
    def anyone(self) -> bool:
        return bool(self.emails or self.https_urls or self.queue_arns or self.function_arns or self.slack_channel_id)


def subscribe(scope: Construct, topics: Sequence[sns.ITopic], subscribers: Subscribers) -> None:
    """Subscribe ``subscribers`` to each of ``topics``; a Slack channel gets one AWS Chatbot configuration for all."""
    # Loaded here: only a spec with subscribers pays for these modules (synthesis loads what it uses).
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns_subscriptions as subscriptions
    from aws_cdk import aws_sqs as sqs

    for i, topic in enumerate(topics):
        for email in subscribers.emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        for url in subscribers.https_urls:
            topic.add_subscription(subscriptions.UrlSubscription(url, protocol=sns.SubscriptionProtocol.HTTPS))
        for n, arn in enumerate(subscribers.queue_arns):
            queue = sqs.Queue.from_queue_arn(scope, f"Subscriber{i}Queue{n}", arn)
            topic.add_subscription(subscriptions.SqsSubscription(queue, raw_message_delivery=False))
        for n, arn in enumerate(subscribers.function_arns):
            function = lambda_.Function.from_function_arn(scope, f"Subscriber{i}Function{n}", arn)
            topic.add_subscription(subscriptions.LambdaSubscription(function))
    if subscribers.slack_channel_id and subscribers.slack_workspace_id:
        SlackChannel(scope, "Slack", topics=topics, workspace_id=subscribers.slack_workspace_id, channel_id=subscribers.slack_channel_id)


class SlackChannel(Construct):
    """An AWS Chatbot Slack channel that posts the topics' messages. Its role may only read the alarms (the
    channel's guardrail is that policy too, instead of Chatbot's default, AdministratorAccess)."""

    def __init__(self, scope: Construct, construct_id: str, *, topics: Sequence[sns.ITopic], workspace_id: str, channel_id: str) -> None:
        super().__init__(scope, construct_id)
        from aws_cdk import aws_chatbot as chatbot  # lazily, as the other modules only subscribers need

        stack = Stack.of(self)
        alarms = stack.format_arn(service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.role = ScopedRole(
            self,
            "Role",
            props=ScopedRoleProps(
                assumed_by=service_principal("chatbot.amazonaws.com", scope=self), description="AWS Chatbot reads alarms"
            ),
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"],
                resources=[alarms],
            )
        )
        policy = self.role.scoped_policy
        assert policy is not None
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_text(policy, alarms)}]",
            "AWS Chatbot describes the alarm a message is about; the topics carry alarms of any of the platform's stacks "
            "here, whose names CloudFormation generates: read only, this account and region.",
        )
        self.configuration = chatbot.CfnSlackChannelConfiguration(
            self,
            "Channel",
            configuration_name=f"{stack.stack_name}-alarms"[:128],
            iam_role_arn=self.role.role_arn,
            slack_channel_id=channel_id,
            slack_workspace_id=workspace_id,
            sns_topic_arns=[t.topic_arn for t in topics],
            guardrail_policies=[policy.managed_policy_arn],
            logging_level="ERROR",
        )
