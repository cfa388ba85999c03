"""AppTopic: an SNS topic the platform owns for the applications' own messages (issue 15: producers and consumers).

Services and jobs publish to it by name (:meth:`AppTopic.grant_publish`, IAM-5); worker queues subscribe to it
(:meth:`AppTopic.subscribe_queue`), optionally filtered on message attributes. Messages are encrypted with a
customer-managed key (SEC-3), the topic takes TLS requests only, and SNS may deliver to a queue and use that
queue's key only for this topic, of this account (IAM-6: confused deputy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aspects, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs.errors import ConstructError, refuse, unresolved
from ecs_platform.constructs.source_conditions import SourceConditions, source_conditions
from ecs_platform.constructs.task_role import TaskRole

SNS = "sns.amazonaws.com"

#: SNS topic names: 1-256 of letters, digits, ``_`` and ``-``; a FIFO topic's ends in ``.fifo`` (counted in the 256).
_STANDARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")

#: SNS filter policy limits: at most 5 attribute names, and at most 150 combinations of values (the product
#: of the number of values of each attribute).
FILTER_MAX_ATTRIBUTES = 5
FILTER_MAX_COMBINATIONS = 150
#: Message attribute names: letters, digits, ``_``, ``-`` and ``.``, 1-256 characters.
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")


@dataclass(frozen=True, kw_only=True)
class AppTopicProps:
    topic_name: str
    """The topic's name (publishers and subscriptions refer to it): 1-256 of ``[A-Za-z0-9_-]``, ending in
    ``.fifo`` if and only if ``fifo``."""
    encryption_key: kms.IKey
    """Customer-managed key of the topic (SEC-3); publishers are granted its use through SNS."""
    fifo: bool = False
    """A FIFO topic: ordered per message group, deduplicated; only FIFO queues may subscribe. Default: false."""
    content_based_deduplication: bool = False
    """A FIFO topic deduplicates on a hash of the body when the publisher sends no deduplication ID (FIFO only).
    Default: false."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack (or replacing the topic) does to it. Default: DESTROY."""


def check_topic_name(name: str, fifo: bool) -> str | None:
    """Why ``name`` is not an SNS topic name (standard or FIFO as ``fifo`` says), or None."""
    if fifo:
        ok = _FIFO_NAME.fullmatch(name) is not None
        return None if ok else f"{name!r} is not a FIFO topic name; allowed: 1-251 of [A-Za-z0-9_-] followed by '.fifo'"
    ok = _STANDARD_NAME.fullmatch(name) is not None
    return None if ok else f"{name!r} is not a standard topic name; allowed: 1-256 of [A-Za-z0-9_-] (no '.fifo' suffix)"


def check_filter_policy(policy: object) -> str | None:
    """Why ``policy`` is not a filter policy this construct supports (a map of message attribute name to the
    string values it may have, matched exactly), or None."""
    allowed = "a map of message attribute name to a non-empty list of string values"
    if not isinstance(policy, Mapping) or not policy:
        return f"{policy!r} is not {allowed}"
    if len(policy) > FILTER_MAX_ATTRIBUTES:
        return f"{len(policy)} attributes; allowed: at most {FILTER_MAX_ATTRIBUTES} (an SNS limit)"
    combinations = 1
    for name, values in policy.items():
        if not isinstance(name, str) or _ATTRIBUTE_NAME.fullmatch(name) is None or name.startswith(("AWS.", "Amazon.")):
            return f"attribute name {name!r} is invalid; allowed: 1-256 of [A-Za-z0-9_.-], not starting with 'AWS.' or 'Amazon.'"
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            return f"{name}: {values!r} is not a list of strings; allowed: {allowed}"
        if not all(isinstance(v, str) for v in values):
            return f"{name}: {list(values)!r} has a value that is not a string; allowed: {allowed}"
        combinations *= len(values)
    if combinations > FILTER_MAX_COMBINATIONS:
        return f"{combinations} combinations of values; allowed: at most {FILTER_MAX_COMBINATIONS} (an SNS limit)"
    return None


class AppTopic(sns.Topic):
    """A named, KMS-encrypted, TLS-only SNS topic for the applications' messages.

    ``enforce_ssl`` makes CDK write a topic policy (a deny of publishing without TLS), which replaces SNS's
    default policy: nobody outside the account is allowed anything, and this account's roles publish through
    their own IAM policies (:meth:`grant_publish`), which is enough within one account.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AppTopicProps) -> None:
        name = props.topic_name
        super().__init__(
            scope,
            construct_id,
            topic_name=name,
            master_key=props.encryption_key,
            enforce_ssl=True,
            fifo=props.fifo or None,
            # CDK throws for a standard topic without naming the construct: refused below instead.
            content_based_deduplication=(props.content_based_deduplication and props.fifo) or None,
        )
        refuse(self, "topic_name", check_topic_name(name, props.fifo), name)
        if props.content_based_deduplication and not props.fifo:
            raise ConstructError(self, "content_based_deduplication: true on a standard topic; allowed: with fifo only")
        self.apply_removal_policy(props.removal_policy)
        self.encryption_key = props.encryption_key
        """The topic's key."""
        self.is_fifo = props.fifo
        """Whether the topic is a FIFO topic."""
        self.arn_by_name = Stack.of(self).format_arn(service="sns", resource=name)
        """The topic's ARN built from its name, without a reference to the topic: what key policies of other
        stacks name (a reference would make the key's stack depend on this one, a cycle when this stack uses the key)."""
        self._keys_opened: set[str] = set()
        Aspects.of(self).add(SourceConditions())

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let a :class:`TaskRole` publish: exactly ``sns:Publish`` on this topic, and ``kms:Decrypt`` and
        ``kms:GenerateDataKey`` on its key through SNS in this region only (``kms:ViaService``), what SNS needs of
        a publisher to an encrypted topic (IAM-5). Any other grantee (an AWS service CDK grants for, as an
        EventBridge target does) gets CDK's own grant."""
        if not isinstance(grantee, TaskRole):
            return super().grant_publish(grantee)
        return grantee.grant_sns_publish(self).combine(grantee.grant_kms(self.encryption_key, via_service="sns", write=True))

    def subscribe_queue(
        self,
        queue: sqs.IQueue,
        queue_key: kms.IKey | None = None,
        *,
        filter_policy: Mapping[str, Sequence[str]] | None = None,
        raw_message_delivery: bool = True,
    ) -> sns.Subscription:
        """Deliver this topic's messages to ``queue``.

        The queue's policy lets SNS send to it for this topic only, and ``queue_key`` (default: the queue's own
        ``encryption_master_key``) lets SNS generate and decrypt data keys for this topic only (``aws:SourceArn``,
        ``aws:SourceAccount``): both must be this app's, or SNS could not deliver. ``filter_policy`` keeps the
        messages whose attributes have one of the listed string values (exact matches only: no prefix, numeric
        or anything-but rules). ``raw_message_delivery`` delivers the body as published, without SNS's JSON envelope.

        The subscription and the queue policy belong to the queue's stack, the key statement to the key's; only
        the queue's stack refers to the topic, so a topic, a queue and a key in up to three stacks form no cycle.
        """
        if not unresolved(queue.fifo) and bool(queue.fifo) != self.is_fifo:
            kind, other = ("FIFO", "standard") if self.is_fifo else ("standard", "FIFO")
            raise ConstructError(
                self, f"subscribe_queue: {queue.node.path} is a {other} queue; allowed: {kind} queues only (the topic is {kind})"
            )
        if filter_policy is not None:
            refuse(self, "filter_policy", check_filter_policy(filter_policy), None)
        scope = queue if isinstance(queue, Construct) else self
        subscription_id = f"{Names.unique_id(self)}Subscription"
        if scope.node.try_find_child(subscription_id) is not None:
            raise ConstructError(self, f"subscribe_queue: {queue.node.path} is subscribed already; allowed: once per queue")
        allowed = queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SNS)],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions=source_conditions(SNS, Stack.of(queue), self.topic_arn),
            )
        )
        if not allowed.statement_added:
            raise ConstructError(
                self, f"subscribe_queue: {queue.node.path} is imported, its policy cannot let this topic send; allowed: a queue of this app"
            )
        key = queue_key or getattr(queue, "encryption_master_key", None)
        if key is not None:
            self._open_key(key)
        subscription = sns.Subscription(
            scope,
            subscription_id,
            topic=self,
            endpoint=queue.queue_arn,
            protocol=sns.SubscriptionProtocol.SQS,
            raw_message_delivery=raw_message_delivery,
            filter_policy=(
                {name: sns.SubscriptionFilter.string_filter(allowlist=list(values)) for name, values in filter_policy.items()}
                if filter_policy
                else None
            ),
        )
        if allowed.policy_dependable is not None:
            # Messages published before the queue policy exists would be refused.
            subscription.node.add_dependency(allowed.policy_dependable)
        return subscription

    def _open_key(self, key: kms.IKey) -> None:
        """Let SNS use ``key`` (a subscribed queue's) for this topic only. Once per key."""
        path = key.node.path
        if path in self._keys_opened:
            return
        self._keys_opened.add(path)
        added = key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SNS)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=source_conditions(SNS, Stack.of(key), self.arn_by_name),
            )
        )
        if not added.statement_added:
            raise ConstructError(
                self, f"subscribe_queue: the queue's key {path} is imported, its policy cannot let SNS use it; allowed: a key of this app"
            )
