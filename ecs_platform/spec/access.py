"""The ``access:`` vocabulary: what a workload's task role may do, one entry per integration (IAM-5).

Each entry names one AWS integration of the source document and the resource it is
scoped to, by ARN or by name (a name is resolved to an ARN in the stack's account and
region). The actions each grants are fixed here, in one table, and are exactly the
document's. Plain data: no CDK import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Level = Literal["read", "write", "read_write"]


@dataclass(frozen=True)
class ResourceKind:
    """How one kind of resource is named: its ARN's service and resource part, and its bare name."""

    label: str
    service: str
    arn_resource: str  # regex of the ARN's resource part (after account:)
    name: str  # regex of a bare name
    global_arn: bool = False  # S3 bucket ARNs have no region or account


NO_NAME = r"(?!)"  # a regex that matches nothing: the resource is named by ARN only

KINDS: dict[str, ResourceKind] = {
    "table": ResourceKind("a DynamoDB table", "dynamodb", r"table/[A-Za-z0-9_.-]{3,255}", r"[A-Za-z0-9_.-]{3,255}"),
    "bucket": ResourceKind("an S3 bucket", "s3", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", True),
    "function": ResourceKind("a Lambda function", "lambda", r"function:[A-Za-z0-9_-]{1,64}", r"[A-Za-z0-9_-]{1,64}"),
    "state_machine": ResourceKind("a Step Functions state machine", "states", r"stateMachine:[A-Za-z0-9_-]{1,80}", r"[A-Za-z0-9_-]{1,80}"),
    "bus": ResourceKind("an EventBridge event bus", "events", r"event-bus/[A-Za-z0-9_.\-/]{1,256}", r"[A-Za-z0-9_.\-/]{1,256}"),
    "stream": ResourceKind("a Kinesis data stream", "kinesis", r"stream/[A-Za-z0-9_.-]{1,128}", r"[A-Za-z0-9_.-]{1,128}"),
    "delivery_stream": ResourceKind(
        "a Firehose delivery stream", "firehose", r"deliverystream/[A-Za-z0-9_.-]{1,64}", r"[A-Za-z0-9_.-]{1,64}"
    ),
    "topic": ResourceKind("an SNS topic", "sns", r"[A-Za-z0-9_-]{1,256}(\.fifo)?", r"[A-Za-z0-9_-]{1,256}(\.fifo)?"),
    "queue": ResourceKind("an SQS queue", "sqs", r"[A-Za-z0-9_-]{1,80}(\.fifo)?", r"[A-Za-z0-9_-]{1,80}(\.fifo)?"),
    "cluster": ResourceKind("an Aurora DB cluster", "rds", r"cluster:[a-z][a-z0-9-]{0,62}", r"[a-z][a-z0-9-]{0,62}"),
    # A secret's ARN ends in a random 6-character suffix; a bare name cannot be scoped exactly.
    "secret": ResourceKind(
        "a Secrets Manager secret (full ARN)", "secretsmanager", r"secret:[A-Za-z0-9_/+=.@-]{1,512}-[A-Za-z0-9]{6}", NO_NAME
    ),
    "parameter": ResourceKind("an SSM parameter", "ssm", r"parameter/[A-Za-z0-9_.\-/]{1,2011}", r"/?[A-Za-z0-9_.\-/]{1,2011}"),
    "kms_key": ResourceKind("a customer-managed KMS key (ARN)", "kms", r"key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}", NO_NAME),
}


def partition_of(region: str) -> str:
    """The partition of a region: ARNs must be of the environment's partition."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def check_resource(kind: str, value: str, region: str) -> str | None:
    """``None`` if ``value`` names a resource of ``kind`` (by ARN or name) in ``region``'s partition."""
    spec = KINDS[kind]
    if "*" in value or "?" in value:
        return f"{value!r} has a wildcard; allowed: exactly one {spec.label[spec.label.index(' ') + 1 :]}, by ARN or name"
    if not value.startswith("arn:"):
        if re.fullmatch(spec.name, value):
            return None
        by = "its name or its ARN" if spec.name != NO_NAME else "its full ARN"
        return f"{value!r} is not a name of {spec.label}; allowed: {by} (arn:{partition_of(region)}:{spec.service}:...)"
    parts = value.split(":", 5)
    if len(parts) < 6:
        return f"{value!r} is not a well-formed ARN; allowed: arn:<partition>:{spec.service}:<region>:<account>:<resource>"
    _, partition, service, arn_region, account, resource = parts
    expected = partition_of(region)
    if partition != expected:
        return f"{value!r} is in partition {partition!r}; allowed: {expected!r}, the partition of {region}"
    if service != spec.service:
        return f"{value!r} is an ARN of {service!r}; allowed: {spec.label}, arn:{expected}:{spec.service}:..."
    if spec.global_arn:
        ok = arn_region == "" and account == "" and bool(re.fullmatch(spec.arn_resource, resource))
    else:
        ok = bool(
            re.fullmatch(r"[a-z0-9-]+", arn_region) and re.fullmatch(r"\d{12}", account) and re.fullmatch(spec.arn_resource, resource)
        )
    if not ok:
        return f"{value!r} is not a well-formed ARN of {spec.label}"
    return None


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kms_key: str | None = Field(
        default=None, description="ARN of the customer-managed KMS key that encrypts the resource: adds kms:Decrypt via the service."
    )

    #: The resource fields of this entry and their kinds (checked against the environment's partition).
    RESOURCES: ClassVar[tuple[tuple[str, str], ...]] = ()

    def resources(self) -> list[tuple[str, str, str]]:
        """``(field, kind, value)`` of each named resource, the KMS key included."""
        found = []
        for field, kind in (*self.RESOURCES, ("kms_key", "kms_key")):
            value = getattr(self, field)
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    found.append((field, kind, item))
        return found


class CloudWatchMetrics(_Entry):
    """cloudwatch:PutMetricData, limited to one namespace by the cloudwatch:namespace condition."""

    type: Literal["cloudwatch_metrics"]
    namespace: Annotated[str, Field(pattern=r"^[^:*?]{1,255}$", description="The metric namespace, e.g. MyApp/Orders.")]


class RdsIamAuth(_Entry):
    """rds-db:connect as one database user (IAM database authentication)."""

    type: Literal["rds_iam"]
    db_resource_id: Annotated[
        str, Field(pattern=r"^(cluster|db)-[A-Z0-9]{1,64}$", description="DbiResourceId / cluster resource ID, e.g. cluster-ABCDEFGHIJKL.")
    ]
    db_user: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$", description="The database user name.")]


class RdsDataApi(_Entry):
    """rds-data statements and transactions on one Aurora cluster, with read access to its secret."""

    type: Literal["rds_data"]
    cluster: str = Field(description="Aurora cluster ARN or identifier.")
    secret: str = Field(description="Full ARN of the Secrets Manager secret the Data API uses.")
    RESOURCES = (("cluster", "cluster"), ("secret", "secret"))


class DynamoDb(_Entry):
    type: Literal["dynamodb"]
    table: str = Field(description="Table name or ARN.")
    level: Level = Field(description="read (GetItem, Query, Scan), write (PutItem, UpdateItem, DeleteItem) or read_write.")
    indexes: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]] = Field(
        default_factory=list, description="Index names that may be queried (read levels). Default: none."
    )
    RESOURCES = (("table", "table"),)


class S3(_Entry):
    type: Literal["s3"]
    bucket: str = Field(description="Bucket name or ARN.")
    prefix: Annotated[str, Field(pattern=r"^[^*?]{1,1000}$")] | None = Field(
        default=None, description="Key prefix the grant is limited to, e.g. uploads/. Default: the whole bucket."
    )
    level: Level = Field(description="read (ListBucket, GetObject), write (PutObject, DeleteObject) or read_write.")
    RESOURCES = (("bucket", "bucket"),)


class LambdaInvoke(_Entry):
    type: Literal["lambda"]
    function: str = Field(description="Function name or ARN.")
    RESOURCES = (("function", "function"),)


class StepFunctionsStart(_Entry):
    type: Literal["stepfunctions"]
    state_machine: str = Field(description="State machine name or ARN.")
    RESOURCES = (("state_machine", "state_machine"),)


class EventBridgePut(_Entry):
    type: Literal["eventbridge"]
    bus: str = Field(description="Event bus name or ARN (e.g. default).")
    RESOURCES = (("bus", "bus"),)


class KinesisPut(_Entry):
    type: Literal["kinesis"]
    stream: str = Field(description="Data stream name or ARN.")
    RESOURCES = (("stream", "stream"),)


class FirehosePut(_Entry):
    type: Literal["firehose"]
    delivery_stream: str = Field(description="Delivery stream name or ARN.")
    RESOURCES = (("delivery_stream", "delivery_stream"),)


class SnsPublish(_Entry):
    type: Literal["sns"]
    topic: str = Field(description="Topic name or ARN.")
    RESOURCES = (("topic", "topic"),)


class SqsConsume(_Entry):
    type: Literal["sqs"]
    queue: str = Field(description="Queue name or ARN.")
    RESOURCES = (("queue", "queue"),)


class XRay(_Entry):
    type: Literal["xray"]


class SsmParameters(_Entry):
    """ssm:GetParameter(s) on named parameters, or GetParametersByPath under one path."""

    type: Literal["ssm_parameters"]
    names: list[str] = Field(default_factory=list, description="Parameter names (/app/key) or ARNs.")
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_.\-/]{0,2010}$")] | None = Field(
        default=None, description="A path such as /app/prod: every parameter below it. Default: none."
    )
    RESOURCES = (("names", "parameter"),)

    @model_validator(mode="after")
    def _names_or_path(self) -> SsmParameters:
        if not self.names and self.path is None:
            raise ValueError("neither names nor path given; allowed: names (a list of parameters), path, or both")
        return self


class EcsExec(_Entry):
    """ECS Exec through Session Manager: the cluster's exec sessions are KMS-encrypted and logged."""

    type: Literal["ecs_exec"]


class SecretsManagerRead(_Entry):
    type: Literal["secrets_manager"]
    secret: str = Field(description="Full ARN of the secret.")
    RESOURCES = (("secret", "secret"),)


AccessEntry = Annotated[
    CloudWatchMetrics
    | RdsIamAuth
    | RdsDataApi
    | DynamoDb
    | S3
    | LambdaInvoke
    | StepFunctionsStart
    | EventBridgePut
    | KinesisPut
    | FirehosePut
    | SnsPublish
    | SqsConsume
    | XRay
    | SsmParameters
    | EcsExec
    | SecretsManagerRead,
    Field(discriminator="type"),
]

#: The service through which an entry's customer-managed key is used (the kms:ViaService condition);
#: the other integrations take no kms_key.
KMS_VIA_SERVICE: dict[str, str] = {
    "rds_data": "secretsmanager", "dynamodb": "dynamodb", "s3": "s3", "lambda": "lambda", "stepfunctions": "states",
    "eventbridge": "events", "kinesis": "kinesis", "firehose": "firehose", "sns": "sns", "sqs": "sqs",
    "ssm_parameters": "ssm", "secrets_manager": "secretsmanager",
}  # fmt: skip

ENTRY_MODELS: dict[str, type[_Entry]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        CloudWatchMetrics,
        RdsIamAuth,
        RdsDataApi,
        DynamoDb,
        S3,
        LambdaInvoke,
        StepFunctionsStart,
        EventBridgePut,
        KinesisPut,
        FirehosePut,
        SnsPublish,
        SqsConsume,
        XRay,
        SsmParameters,
        EcsExec,
        SecretsManagerRead,
    )
}
"""Each integration's ``type`` and its model."""

INTEGRATIONS: tuple[str, ...] = tuple(ENTRY_MODELS)
