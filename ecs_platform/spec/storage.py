"""What the platform owns for its workloads to share: ``storage:`` (buckets, tables, Aurora clusters, file
systems) and ``topics:`` (SNS topics with publishers and subscribed worker queues).

Workloads reach a store by its name: ``access:`` entries (s3, dynamodb, rds_data) name it where they would
name an existing resource, and ``volumes:`` mount a file system by name. Plain data: no CDK import.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, model_validator

from ecs_platform.spec.base import Name, _Model, _pattern, _range

_KEY_NAME = Annotated[str, _pattern(r"[A-Za-z0-9_.-]{1,255}", "an attribute name: letters, digits, '_', '.', '-'")]


class KeyAttributeSpec(_Model):
    """A key attribute of a DynamoDB table or index."""

    name: _KEY_NAME = Field(description="Attribute name, e.g. pk.")
    type: Literal["string", "number", "binary"] = Field(default="string", description="Attribute type. Default: string.")


class TableIndexSpec(_Model):
    """A global secondary index (all attributes projected)."""

    name: Annotated[str, _pattern(r"[A-Za-z0-9_.-]{3,255}", "an index name: 3-255 letters, digits, '_', '.', '-'")] = Field(
        description="Index name, e.g. by-customer."
    )
    partition_key: KeyAttributeSpec = Field(description="The index's partition key.")
    sort_key: KeyAttributeSpec | None = Field(default=None, description="The index's sort key. Default: none.")


class _StoreSpec(_Model):
    name: Name = Field(description="Name workloads use in access: and volumes:, unique among the stores.")


class BucketStoreSpec(_StoreSpec):
    """An S3 bucket: KMS-encrypted, versioned, TLS only, public access blocked, access logged."""

    type: Literal["s3"]
    versioned: bool = Field(default=True, description="Keep object versions. Default: true.")
    expire_noncurrent_after_days: Annotated[int, *_range(1, 3650)] = Field(
        default=90, description="Days a replaced or deleted version is kept. Default: 90."
    )


class TableStoreSpec(_StoreSpec):
    """A DynamoDB table: on-demand, KMS-encrypted, point-in-time recovery on."""

    type: Literal["dynamodb"]
    partition_key: KeyAttributeSpec = Field(description="The partition key, e.g. {name: pk, type: string}. Required.")
    sort_key: KeyAttributeSpec | None = Field(default=None, description="The sort key. Default: none.")
    ttl_attribute: _KEY_NAME | None = Field(default=None, description="Attribute holding each item's expiry time. Default: none.")
    indexes: list[TableIndexSpec] = Field(default_factory=list, max_length=20, description="Global secondary indexes. Default: none.")


class AuroraStoreSpec(_StoreSpec):
    """An Aurora Serverless v2 cluster: KMS-encrypted, IAM authentication and the Data API on, its credential in
    Secrets Manager rotated every 30 days, in the private subnets, reachable only from workloads granted access."""

    type: Literal["aurora"]
    engine: Literal["postgresql", "mysql"] = Field(default="postgresql", description="Aurora PostgreSQL or MySQL. Default: postgresql.")
    database_name: Annotated[str, _pattern(r"[A-Za-z][A-Za-z0-9_]{0,62}", "a database name: a letter, then letters, digits, '_'")] = Field(
        default="app", description="The database created in the cluster. Default: app."
    )
    min_capacity: float = Field(default=0.5, ge=0.5, le=256, description="Fewest Aurora capacity units (0.5 steps). Default: 0.5.")
    max_capacity: float = Field(default=4, ge=1, le=256, description="Most Aurora capacity units (0.5 steps). Default: 4.")
    subnets: Literal["web", "batch"] = Field(default="batch", description="The private subnets of the cluster (SEC-1). Default: batch.")
    backup_retention_days: Annotated[int, *_range(1, 35)] | None = Field(
        default=None, description="Days of automated backups. Default: 35 in production, 7 otherwise."
    )

    @model_validator(mode="after")
    def _capacity(self) -> AuroraStoreSpec:
        for field in ("min_capacity", "max_capacity"):
            value = getattr(self, field)
            if value * 2 != int(value * 2):
                raise ValueError(f"{field} {value} is not a multiple of 0.5; allowed: 0.5, 1, 1.5, ... 256")
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity {self.min_capacity} exceeds max_capacity {self.max_capacity}; allowed: min <= max")
        return self


class FileSystemStoreSpec(_StoreSpec):
    """An EFS file system (KMS, TLS and IAM authorization required) or an existing one by ID; each workload that
    mounts it gets an access point of its own."""

    type: Literal["efs"]
    file_system_id: Annotated[str, _pattern(r"fs-[0-9a-f]{8,40}", "an EFS file system ID such as fs-0123456789abcdef0")] | None = Field(
        default=None, description="Use this existing file system instead of creating one (its mount targets are its owner's). Default: new."
    )
    subnets: Literal["web", "batch"] = Field(
        default="web", description="The private subnets of its mount targets: those of the workloads that mount it. Default: web."
    )


StoreSpec = Annotated[BucketStoreSpec | TableStoreSpec | AuroraStoreSpec | FileSystemStoreSpec, Discriminator("type")]
"""One entry of ``storage:``: the model of its ``type``."""

STORE_TYPES = {"s3": "bucket", "dynamodb": "table", "rds_data": "cluster"}
"""The access entries that may name a store instead of an existing resource, and the field that names it."""

STORE_OF_ENTRY = {"s3": "s3", "dynamodb": "dynamodb", "rds_data": "aurora"}
"""The store type each of those entries reaches."""


def _filter_policy(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for attribute, allowed in value.items():
        if not allowed:
            raise ValueError(f"attribute {attribute!r} allows no value; allowed: a list of at least one string")
    return value


class TopicSubscriptionSpec(_Model):
    """A worker whose queue receives the topic's messages."""

    worker: Name = Field(description="The worker's name: its own queue is subscribed.")
    filter_policy: dict[Annotated[str, _pattern(r"[^\s]{1,256}", "a message attribute name")], list[str]] = Field(
        default_factory=dict,
        description="Message attributes and the values that reach this worker, e.g. {event: [order_placed]}. Default: all.",
    )
    raw_message_delivery: bool = Field(default=True, description="Deliver the message body as published (no SNS envelope). Default: true.")

    @model_validator(mode="after")
    def _policy(self) -> TopicSubscriptionSpec:
        _filter_policy(self.filter_policy)
        return self


class TopicSpec(_Model):
    """An SNS topic the platform owns: KMS-encrypted, TLS only; publishers get sns:Publish on it and its key only."""

    name: Name = Field(description="Topic name in the spec; the topic is <app>-<environment>-<name>.")
    publishers: list[Name] = Field(default_factory=list, description="Services, jobs and workers that publish to it. Default: none.")
    subscribers: list[TopicSubscriptionSpec] = Field(default_factory=list, description="Workers whose queues receive it. Default: none.")
