"""The ``access:`` integrations: one record each, the single source of the vocabulary (IAM-5).

A record says everything about one AWS integration of the source document: the fields a
person writes in a workload's ``access:`` entry, the resource kinds they name (how a bare
name becomes an ARN, which ARNs are well formed), the exact task-role actions it grants,
whether it writes, and the service through which its customer-managed key is used
(``kms:ViaService``). The spec layer builds its models from these records, the task role
takes its actions from them, the stacks turn names into ARNs with them, and the README's
table is generated from them (``python -m ecs_platform.integrations``).

Adding an integration whose grant is "these actions on this one resource" is one record
here and its test; the few with a special shape (conditions, prefixes, two resources) have
a grant of their own in :mod:`ecs_platform.stacks.translate`.

No dependencies: the spec layer (pydantic), the constructs (CDK) and the CLI import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

#: A regex that matches nothing: a kind named by ARN only.
NO_NAME = r"(?!)"

LEVELS = ("read", "write", "read_write")
"""Access levels of the integrations that read and write (``level:``)."""


@dataclass(frozen=True)
class ResourceKind:
    """How one kind of resource is named: by ARN (service and resource part) or by a bare name,
    which becomes ``arn:<partition>:<service>:<region>:<account>:<arn_type><separator><name>``."""

    label: str
    service: str
    arn_resource: str
    """Regex of the ARN's resource part (after ``<account>:``)."""
    name: str = NO_NAME
    """Regex of a bare name; :data:`NO_NAME` when only an ARN scopes it exactly."""
    arn_type: str = ""
    """Resource type of the ARN a name becomes (``table``); empty when the name is the whole resource part."""
    separator: str = "/"
    """Between ``arn_type`` and the name: ``/`` or ``:``."""
    global_arn: bool = False
    """The ARN has no region and account (S3 buckets)."""


KINDS: Mapping[str, ResourceKind] = {
    "table": ResourceKind("a DynamoDB table", "dynamodb", r"table/[A-Za-z0-9_.-]{3,255}", r"[A-Za-z0-9_.-]{3,255}", "table"),
    "bucket": ResourceKind("an S3 bucket", "s3", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", global_arn=True),
    "function": ResourceKind("a Lambda function", "lambda", r"function:[A-Za-z0-9_-]{1,64}", r"[A-Za-z0-9_-]{1,64}", "function", ":"),
    "state_machine": ResourceKind(
        "a Step Functions state machine", "states", r"stateMachine:[A-Za-z0-9_-]{1,80}", r"[A-Za-z0-9_-]{1,80}", "stateMachine", ":"
    ),
    "bus": ResourceKind(
        "an EventBridge event bus", "events", r"event-bus/[A-Za-z0-9_.\-/]{1,256}", r"[A-Za-z0-9_.\-/]{1,256}", "event-bus"
    ),
    "stream": ResourceKind("a Kinesis data stream", "kinesis", r"stream/[A-Za-z0-9_.-]{1,128}", r"[A-Za-z0-9_.-]{1,128}", "stream"),
    "delivery_stream": ResourceKind(
        "a Firehose delivery stream", "firehose", r"deliverystream/[A-Za-z0-9_.-]{1,64}", r"[A-Za-z0-9_.-]{1,64}", "deliverystream"
    ),
    "topic": ResourceKind("an SNS topic", "sns", r"[A-Za-z0-9_-]{1,256}(\.fifo)?", r"[A-Za-z0-9_-]{1,256}(\.fifo)?"),
    "queue": ResourceKind("an SQS queue", "sqs", r"[A-Za-z0-9_-]{1,80}(\.fifo)?", r"[A-Za-z0-9_-]{1,80}(\.fifo)?"),
    "cluster": ResourceKind("an Aurora DB cluster", "rds", r"cluster:[a-z][a-z0-9-]{0,62}", r"[a-z][a-z0-9-]{0,62}", "cluster", ":"),
    # A secret's ARN ends in a random 6-character suffix; a bare name cannot be scoped exactly.
    "secret": ResourceKind("a Secrets Manager secret (full ARN)", "secretsmanager", r"secret:[A-Za-z0-9_/+=.@-]{1,512}-[A-Za-z0-9]{6}"),
    "parameter": ResourceKind("an SSM parameter", "ssm", r"parameter/[A-Za-z0-9_.\-/]{1,2011}", r"/?[A-Za-z0-9_.\-/]{1,2011}", "parameter"),
    "kms_key": ResourceKind("a customer-managed KMS key (ARN)", "kms", r"key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}"),
}
"""Every kind of resource an access entry (or a secret, or a worker's queue) names."""


def partition_of(region: str) -> str:
    """The partition of a region: ARNs must be of the environment's partition."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def check_resource(kind: str, value: str, region: str) -> str | None:
    """``None`` if ``value`` names one resource of ``kind`` (by ARN or name) in ``region``'s partition, else why not."""
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


@dataclass(frozen=True)
class SecretValueFrom:
    """A container secret from Secrets Manager, as ECS's ``valueFrom`` names it: the secret's full ARN,
    optionally one JSON key of it and one version (by stage or by ID)."""

    secret_arn: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


_SECRET_VALUE_FROM = re.compile(
    r"(?P<arn>arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?P<name>[A-Za-z0-9/_+=.@-]+))"
    r"(?::(?P<json_key>[^:]*):(?P<stage>[^:]*):(?P<id>[^:]*))?"
)
VALUE_FROM_HELP = (
    "the secret's full ARN (ending in the 6-character suffix, e.g. -AbCdEf, as `aws secretsmanager describe-secret` prints it), "
    "optionally followed by :json-key:version-stage:version-id as ECS's valueFrom takes it (e.g. ...-AbCdEf:password::)"
)


def parse_secret_value_from(value: str) -> SecretValueFrom | str:
    """A Secrets Manager ``valueFrom`` in every form ECS documents, or why it is not one."""
    match = _SECRET_VALUE_FROM.fullmatch(value)
    if not match:
        return f"{value!r} is not a Secrets Manager secret ARN; allowed: {VALUE_FROM_HELP}"
    if not re.search(r"-[A-Za-z0-9]{6}$", match["name"]):
        return f"{value!r} names the secret without its 6-character suffix; allowed: {VALUE_FROM_HELP}"
    if match["stage"] and match["id"]:
        return f"{value!r} gives both a version stage and a version ID; allowed: one of them (or neither: AWSCURRENT)"
    return SecretValueFrom(match["arn"], match["json_key"] or None, match["stage"] or None, match["id"] or None)


def check_secret_value_from(value: str) -> str | None:
    parsed = parse_secret_value_from(value)
    return parsed if isinstance(parsed, str) else None


@dataclass(frozen=True)
class Param:
    """One field of an access entry, as a person writes it."""

    name: str
    doc: str
    kind: str | None = None
    """A resource kind of :data:`KINDS`: the value names one resource, by ARN or name."""
    pattern: str | None = None
    """Otherwise a plain value matching this regex (``None``: any text)."""
    choices: tuple[str, ...] = ()
    """Otherwise one of these values."""
    many: bool = False
    """A list of values (default: empty)."""
    required: bool = True
    """Optional fields default to none (or an empty list)."""


def _resource(name: str, kind: str, doc: str, *, many: bool = False, required: bool = True) -> Param:
    return Param(name, doc, kind=kind, many=many, required=required)


LEVEL = Param("level", "read, write or read_write (see the integration's actions).", choices=LEVELS)


@dataclass(frozen=True)
class Integration:
    """One integration of IAM-5: what an ``access:`` entry of this ``type`` is and grants."""

    type: str
    title: str
    """Name of its spec model (``DynamoDb``)."""
    doc: str
    params: tuple[Param, ...] = ()
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Task-role action groups: ``""`` the integration's own, ``read``/``write`` per level, other named groups."""
    kms_service: str | None = None
    """The service that uses the resource's customer-managed key (``kms:ViaService``); None: takes no ``kms_key``."""
    always_writes: bool = False
    """It only writes (publish, put): ``kms_key`` adds ``kms:GenerateDataKey``."""
    one_of: tuple[str, ...] = ()
    """At least one of these params must be given."""
    services_only: bool = False
    """Only long-running services may have it (ECS Exec)."""
    grants: str = ""
    """What the README says the task role gets."""

    def actions_for(self, level: str | None = None) -> tuple[str, ...]:
        """The actions of an entry: by level (``read_write`` = both), else the integration's own."""
        if level is None:
            return self.actions[""]
        groups = ("read", "write") if level == "read_write" else (level,)
        return tuple(action for group in groups for action in self.actions[group])

    def writes(self, level: str | None = None) -> bool:
        """Whether an entry writes (its key then also needs ``kms:GenerateDataKey``)."""
        return self.always_writes or level in ("write", "read_write")

    @property
    def simple(self) -> bool:
        """Its grant is its actions on the one resource its single resource param names."""
        resources = [p for p in self.params if p.kind is not None]
        return len(resources) == 1 and not resources[0].many and set(self.actions) == {""}


KMS_ACTIONS: Mapping[str, tuple[str, ...]] = {"read": ("kms:Decrypt",), "write": ("kms:Decrypt", "kms:GenerateDataKey")}
"""What an entry's ``kms_key`` adds, through the integration's service only."""

_INTEGRATIONS = (
    Integration(
        "cloudwatch_metrics",
        "CloudWatchMetrics",
        "cloudwatch:PutMetricData, limited to one namespace by the cloudwatch:namespace condition.",
        params=(Param("namespace", "The metric namespace, e.g. MyApp/Orders.", pattern=r"[^:*?]{1,255}"),),
        actions={"": ("cloudwatch:PutMetricData",)},
        grants="`cloudwatch:PutMetricData` on `*`, only with the `cloudwatch:namespace` condition",
    ),
    Integration(
        "rds_iam",
        "RdsIamAuth",
        "rds-db:connect as one database user (IAM database authentication).",
        params=(
            Param(
                "db_resource_id",
                "DbiResourceId / cluster resource ID, e.g. cluster-ABCDEFGHIJKL.",
                pattern=r"(cluster|db)-[A-Z0-9]{1,64}",
            ),
            Param("db_user", "The database user name.", pattern=r"[A-Za-z_][A-Za-z0-9_$]{0,62}"),
        ),
        actions={"": ("rds-db:connect",)},
        grants="`rds-db:connect` on `dbuser:<resource id>/<user>`",
    ),
    Integration(
        "rds_data",
        "RdsDataApi",
        "rds-data statements and transactions on one Aurora cluster, with read access to its secret.",
        params=(
            _resource("cluster", "cluster", "Aurora cluster ARN or identifier."),
            _resource(
                "secret",
                "secret",
                "Full ARN of the Secrets Manager secret the Data API uses. Required, unless cluster names an aurora store of "
                "storage: (its own secret then).",
                required=False,
            ),
        ),
        actions={
            "": (
                "rds-data:BatchExecuteStatement",
                "rds-data:BeginTransaction",
                "rds-data:CommitTransaction",
                "rds-data:ExecuteStatement",
                "rds-data:RollbackTransaction",
            )
        },
        kms_service="secretsmanager",
        grants="`rds-data:ExecuteStatement`, `BatchExecuteStatement`, `Begin/Commit/RollbackTransaction` on the cluster; "
        "`secretsmanager:GetSecretValue` on its secret",
    ),
    Integration(
        "dynamodb",
        "DynamoDb",
        "DynamoDB item reads and/or writes on one table (and reads on its named indexes).",
        params=(
            _resource("table", "table", "Table name or ARN."),
            Param("level", "read (GetItem, Query, Scan), write (PutItem, UpdateItem, DeleteItem) or read_write.", choices=LEVELS),
            Param(
                "indexes",
                "Index names that may be queried (read levels). Default: none.",
                pattern=r"[A-Za-z0-9_.-]{3,255}",
                many=True,
                required=False,
            ),
        ),
        actions={
            "read": ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"),
            "write": ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        },
        kms_service="dynamodb",
        grants="read: `GetItem`, `Query`, `Scan`; write: `PutItem`, `UpdateItem`, `DeleteItem`; on the table, "
        "reads also on each named index",
    ),
    Integration(
        "s3",
        "S3",
        "S3 object reads and/or writes in one bucket, optionally under one key prefix.",
        params=(
            _resource("bucket", "bucket", "Bucket name or ARN."),
            Param(
                "prefix",
                "Key prefix the grant is limited to, e.g. uploads/. Default: the whole bucket.",
                pattern=r"[^*?]{1,1000}",
                required=False,
            ),
            Param("level", "read (ListBucket, GetObject), write (PutObject, DeleteObject) or read_write.", choices=LEVELS),
        ),
        actions={"read": ("s3:GetObject",), "write": ("s3:DeleteObject", "s3:PutObject"), "list": ("s3:ListBucket",)},
        kms_service="s3",
        grants="read: `s3:ListBucket` (limited to the prefix) and `s3:GetObject`; write: `PutObject`, `DeleteObject`; "
        "on the keys under the prefix",
    ),
    Integration(
        "lambda",
        "LambdaInvoke",
        "lambda:InvokeFunction on one function.",
        params=(_resource("function", "function", "Function name or ARN."),),
        actions={"": ("lambda:InvokeFunction",)},
        kms_service="lambda",
        grants="`lambda:InvokeFunction`",
    ),
    Integration(
        "stepfunctions",
        "StepFunctionsStart",
        "states:StartExecution on one state machine.",
        params=(_resource("state_machine", "state_machine", "State machine name or ARN."),),
        actions={"": ("states:StartExecution",)},
        kms_service="states",
        grants="`states:StartExecution`",
    ),
    Integration(
        "eventbridge",
        "EventBridgePut",
        "events:PutEvents on one event bus.",
        params=(_resource("bus", "bus", "Event bus name or ARN (e.g. default)."),),
        actions={"": ("events:PutEvents",)},
        kms_service="events",
        always_writes=True,
        grants="`events:PutEvents`",
    ),
    Integration(
        "kinesis",
        "KinesisPut",
        "kinesis:PutRecord(s) on one data stream.",
        params=(_resource("stream", "stream", "Data stream name or ARN."),),
        actions={"": ("kinesis:PutRecord", "kinesis:PutRecords")},
        kms_service="kinesis",
        always_writes=True,
        grants="`kinesis:PutRecord`, `PutRecords`",
    ),
    Integration(
        "firehose",
        "FirehosePut",
        "firehose:PutRecord(Batch) on one delivery stream.",
        params=(_resource("delivery_stream", "delivery_stream", "Delivery stream name or ARN."),),
        actions={"": ("firehose:PutRecord", "firehose:PutRecordBatch")},
        kms_service="firehose",
        always_writes=True,
        grants="`firehose:PutRecord`, `PutRecordBatch`",
    ),
    Integration(
        "sns",
        "SnsPublish",
        "sns:Publish to one topic.",
        params=(_resource("topic", "topic", "Topic name or ARN."),),
        actions={"": ("sns:Publish",)},
        kms_service="sns",
        always_writes=True,
        grants="`sns:Publish`",
    ),
    Integration(
        "sqs",
        "SqsConsume",
        "SQS polling (receive, delete, change visibility, read attributes) on one queue.",
        params=(_resource("queue", "queue", "Queue name or ARN."),),
        actions={"": ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")},
        kms_service="sqs",
        grants="`sqs:ReceiveMessage`, `DeleteMessage`, `GetQueueAttributes`, `ChangeMessageVisibility`",
    ),
    Integration(
        "sqs_send",
        "SqsSend",
        "Sending messages to one queue: a worker's by its name, or any queue by name or ARN (a producer).",
        params=(_resource("queue", "queue", "The name of a worker of the spec (its queue), or a queue's name or ARN."),),
        actions={"": ("sqs:SendMessage",)},
        kms_service="sqs",
        always_writes=True,
        grants="`sqs:SendMessage`",
    ),
    Integration(
        "xray",
        "XRay",
        "X-Ray trace segments and telemetry (no resource-level permission exists).",
        actions={"": ("xray:PutTelemetryRecords", "xray:PutTraceSegments")},
        grants="`xray:PutTraceSegments`, `PutTelemetryRecords` on `*`",
    ),
    Integration(
        "ssm_parameters",
        "SsmParameters",
        "ssm:GetParameter(s) on named parameters, or GetParametersByPath under one path.",
        params=(
            _resource("names", "parameter", "Parameter names (/app/key) or ARNs.", many=True, required=False),
            Param(
                "path",
                "A path such as /app/prod: every parameter below it. Default: none.",
                pattern=r"/[A-Za-z0-9_.\-/]{0,2010}",
                required=False,
            ),
        ),
        actions={"": ("ssm:GetParameter", "ssm:GetParameters"), "path": ("ssm:GetParametersByPath",)},
        kms_service="ssm",
        one_of=("names", "path"),
        grants="`ssm:GetParameter(s)` on each name; `ssm:GetParametersByPath` on the path",
    ),
    Integration(
        "ecs_exec",
        "EcsExec",
        "ECS Exec through Session Manager: the cluster's exec sessions are KMS-encrypted and logged.",
        # The document's Session Manager row also lists ssm:UpdateInstanceInformation, an EC2
        # managed-instance permission ECS Exec does not use.
        actions={
            "": (
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ),
            "logs": ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"),
        },
        services_only=True,
        grants="the four `ssmmessages:` channel actions on `*`; the cluster's exec sessions are KMS-encrypted and logged to "
        "`/ecs/<app>-<env>/exec`, which the role may write to",
    ),
    Integration(
        "secrets_manager",
        "SecretsManagerRead",
        "secretsmanager:GetSecretValue on one secret.",
        params=(_resource("secret", "secret", "Full ARN of the secret."),),
        actions={"": ("secretsmanager:GetSecretValue",)},
        kms_service="secretsmanager",
        grants="`secretsmanager:GetSecretValue`",
    ),
)

INTEGRATIONS: Mapping[str, Integration] = {integration.type: integration for integration in _INTEGRATIONS}
"""Every integration by its ``type``, in the order the README lists them."""


def readme_table() -> str:
    """The README's table of the integrations (tests/spec/test_integrations.py keeps it current)."""
    lines = ["| `type` | fields | task role gets |", "|---|---|---|"]
    for integration in INTEGRATIONS.values():
        fields = ", ".join(f"`{p.name}`" + (" (full ARN)" if p.kind and KINDS[p.kind].name == NO_NAME else "") for p in integration.params)
        suffix = " (services)" if integration.services_only else ""
        lines.append(f"| `{integration.type}`{suffix} | {fields or '—'} | {integration.grants} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_table())
