"""DeadLetterQueue: where messages that could not be delivered or processed end up."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge


class DeadLetterQueue(sqs.Queue):
    """A KMS-encrypted, SSL-only queue keeping messages 14 days; it is the end of the line, so it
    has no dead-letter queue of its own (cdk-nag SQS3 acknowledged with ``of_what``)."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: RemovalPolicy, of_what: str) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(self, "AwsSolutions-SQS3", f"This queue is the dead-letter queue of {of_what}: the end of the line.")
