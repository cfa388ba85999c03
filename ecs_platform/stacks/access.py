"""Translate a workload's ``access:`` entries into TaskRole grants (IAM-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.spec import access as spec

#: ARN shape of a resource given by name: (service, resource, format); S3 buckets have no region/account.
_BY_NAME = {
    "table": ("dynamodb", "table", ArnFormat.SLASH_RESOURCE_NAME),
    "function": ("lambda", "function", ArnFormat.COLON_RESOURCE_NAME),
    "state_machine": ("states", "stateMachine", ArnFormat.COLON_RESOURCE_NAME),
    "bus": ("events", "event-bus", ArnFormat.SLASH_RESOURCE_NAME),
    "stream": ("kinesis", "stream", ArnFormat.SLASH_RESOURCE_NAME),
    "delivery_stream": ("firehose", "deliverystream", ArnFormat.SLASH_RESOURCE_NAME),
    "cluster": ("rds", "cluster", ArnFormat.COLON_RESOURCE_NAME),
    "parameter": ("ssm", "parameter", ArnFormat.SLASH_RESOURCE_NAME),
}


@dataclass(frozen=True)
class ExecCommandConfig:
    """The cluster's ECS Exec session log group and key, which an ecs_exec grant needs."""

    log_group: logs.ILogGroup
    key: kms.IKey


def resource_arn(scope: Construct, kind: str, value: str) -> str:
    """An ARN as given, or the ARN of a name in the stack's account and region."""
    if value.startswith("arn:"):
        return value
    stack = Stack.of(scope)
    if kind == "bucket":
        return stack.format_arn(service="s3", region="", account="", resource=value)
    if kind in ("topic", "queue"):
        return stack.format_arn(service="sns" if kind == "topic" else "sqs", resource=value)
    service, resource, arn_format = _BY_NAME[kind]
    return stack.format_arn(service=service, resource=resource, resource_name=value.lstrip("/"), arn_format=arn_format)


def _writes(entry: spec.AccessEntry) -> bool:
    level = getattr(entry, "level", None)
    return entry.type in ("kinesis", "firehose", "sns", "eventbridge") or level in ("write", "read_write")


def grant_access(
    scope: Construct, role: TaskRole, entries: Sequence[spec.AccessEntry], *, exec_config: ExecCommandConfig | None = None
) -> None:
    """Grant ``role`` each entry's integration on its resource, under ``scope`` (imports)."""
    for i, entry in enumerate(entries):
        at = Construct(scope, f"Access{i}")

        def arn(kind: str, value: str, at: Construct = at) -> str:
            return resource_arn(at, kind, value)

        match entry:
            case spec.CloudWatchMetrics():
                role.grant_cloudwatch_metrics(entry.namespace)
            case spec.RdsIamAuth():
                role.grant_rds_iam_connect(entry.db_resource_id, entry.db_user)
            case spec.RdsDataApi():
                secret = secretsmanager.Secret.from_secret_complete_arn(at, "Secret", entry.secret)
                role.grant_rds_data(arn("cluster", entry.cluster), secret)
            case spec.DynamoDb():
                table = dynamodb.Table.from_table_arn(at, "Table", arn("table", entry.table))
                role.grant_dynamodb(table, entry.level, indexes=entry.indexes)
            case spec.S3():
                bucket = s3.Bucket.from_bucket_arn(at, "Bucket", arn("bucket", entry.bucket))
                role.grant_s3(bucket, entry.level, prefix=entry.prefix)
            case spec.LambdaInvoke():
                role.grant_lambda_invoke(lambda_.Function.from_function_arn(at, "Function", arn("function", entry.function)))
            case spec.StepFunctionsStart():
                state_machine = sfn.StateMachine.from_state_machine_arn(at, "StateMachine", arn("state_machine", entry.state_machine))
                role.grant_start_execution(state_machine)
            case spec.EventBridgePut():
                role.grant_put_events(events.EventBus.from_event_bus_arn(at, "Bus", arn("bus", entry.bus)))
            case spec.KinesisPut():
                role.grant_kinesis_put(kinesis.Stream.from_stream_arn(at, "Stream", arn("stream", entry.stream)))
            case spec.FirehosePut():
                delivery_arn = arn("delivery_stream", entry.delivery_stream)
                role.grant_firehose_put(firehose.DeliveryStream.from_delivery_stream_arn(at, "DeliveryStream", delivery_arn))
            case spec.SnsPublish():
                role.grant_sns_publish(sns.Topic.from_topic_arn(at, "Topic", arn("topic", entry.topic)))
            case spec.SqsConsume():
                role.grant_sqs_consume(sqs.Queue.from_queue_arn(at, "Queue", arn("queue", entry.queue)))
            case spec.XRay():
                role.grant_xray()
            case spec.SsmParameters():
                parameters = [
                    ssm.StringParameter.from_string_parameter_name(at, f"Parameter{j}", _parameter_name(name))
                    for j, name in enumerate(entry.names)
                ]
                role.grant_ssm_parameters(parameters, path=entry.path)
            case spec.EcsExec():
                assert exec_config is not None, "the stack configures ECS Exec on the cluster for ecs_exec entries"
                role.grant_ecs_exec(log_group=exec_config.log_group, key=exec_config.key)
            case spec.SecretsManagerRead():
                role.grant_secret_read(secretsmanager.Secret.from_secret_complete_arn(at, "Secret", entry.secret))
        if entry.kms_key is not None:
            key = kms.Key.from_key_arn(at, "Key", entry.kms_key)
            role.grant_kms(key, via_service=spec.KMS_VIA_SERVICE[entry.type], write=_writes(entry))


def _parameter_name(value: str) -> str:
    """A parameter name from a name or ARN: ``/app/key``."""
    return "/" + value.split(":parameter/", 1)[1] if value.startswith("arn:") else value
