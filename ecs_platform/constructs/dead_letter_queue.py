"""DeadLetterQueue: where messages that could not be delivered or processed end up."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge


@dataclass(frozen=True, kw_only=True)
class DeadLetterQueueProps:
    key: kms.IKey
    """Customer-managed key of the queue (SEC-3)."""
    of_what: str
    """Whose dead-letter queue it is, for the reason of its cdk-nag acknowledgement."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack does to the queue. Default: DESTROY."""


class DeadLetterQueue(sqs.Queue):
    """A KMS-encrypted, SSL-only queue keeping messages 14 days; it is the end of the line, so it
    has no dead-letter queue of its own (cdk-nag SQS3 acknowledged with ``of_what``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeadLetterQueueProps) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=props.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=props.removal_policy,
        )
        acknowledge(self, "AwsSolutions-SQS3", f"This queue is the dead-letter queue of {props.of_what}: the end of the line.")
