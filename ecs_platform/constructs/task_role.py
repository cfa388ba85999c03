"""TaskRole: the role the application in a task uses to call AWS (BP-1, IAM-5).

Each ``grant_*`` method grants exactly the actions the source document lists for one
integration (its record in :mod:`ecs_platform.integrations`), on exactly the resource
passed in, and returns the :class:`iam.Grant`. They do not call CDK's own ``grant_*``
helpers, which add actions the document does not list (``sqs:GetQueueUrl``,
``dynamodb:BatchGetItem``, ``s3:GetBucket*``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.errors import ConstructError
from ecs_platform.constructs.scoped_role import EcsTaskRoleProps, EcsTasksRole
from ecs_platform.integrations import INTEGRATIONS, KMS_ACTIONS

if TYPE_CHECKING:
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


Level = Literal["read", "write", "read_write"]


def _actions(integration: str, group: str = "") -> list[str]:
    return list(INTEGRATIONS[integration].actions[group])


class TaskRole(EcsTasksRole):
    """One task role per workload (BP-1, CLI-3), trusted by this account's ECS tasks only (IAM-6).

    It has no permission until one of the ``grant_*`` methods (or any CDK grant) gives it
    one; every grant lands in the role's single customer-managed policy. No AWS managed
    policy (IAM-8).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EcsTaskRoleProps | None = None) -> None:
        super().__init__(
            scope, construct_id, description="ECS task role: the application's own AWS permissions", props=props or EcsTaskRoleProps()
        )

    def _grant(self, actions: Sequence[str], resources: Sequence[str], conditions: Mapping[str, object] | None = None) -> iam.Grant:
        self.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=list(resources), conditions=dict(conditions or {}))
        )
        return iam.Grant.drop(self, f"{', '.join(actions)} on {', '.join(resources)}")

    def _leveled(self, integration: str, level: Level, resources: Sequence[str]) -> iam.Grant:
        groups = ("read", "write") if level == "read_write" else (level,)
        grants = [self._grant(_actions(integration, group), resources) for group in groups]
        return grants[0] if len(grants) == 1 else grants[0].combine(grants[1])

    def grant_integration(self, integration: str, resource_arns: Sequence[str], *, level: Level | None = None) -> iam.Grant:
        """The actions of ``integration`` (a record of :mod:`ecs_platform.integrations`; by ``level`` for
        those that have levels) on exactly ``resource_arns``: the grant of every integration whose
        scope is one resource."""
        record = INTEGRATIONS.get(integration)
        if record is None:
            raise ConstructError(self, f"integration {integration!r} is unknown; allowed: {', '.join(INTEGRATIONS)}")
        if level is None:
            return self._grant(record.actions_for(), resource_arns)
        return self._leveled(integration, level, resource_arns)

    # --- IAM-5, one method per integration ---------------------------------------------------

    def grant_cloudwatch_metrics(self, namespace: str) -> iam.Grant:
        """cloudwatch:PutMetricData, for one namespace (the action has no resource-level permission)."""
        return self._grant(_actions("cloudwatch_metrics"), ["*"], {"StringEquals": {"cloudwatch:namespace": namespace}})

    def grant_rds_iam_connect(self, db_resource_id: str, db_user: str) -> iam.Grant:
        """rds-db:connect as one database user (``db_resource_id``: cluster-... or db-...)."""
        arn = Stack.of(self).format_arn(
            service="rds-db", resource="dbuser", resource_name=f"{db_resource_id}/{db_user}", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        return self._grant(_actions("rds_iam"), [arn])

    def grant_rds_data(self, cluster_arn: str, secret: secretsmanager.ISecret) -> iam.Grant:
        """The Data API's statements and transactions on one cluster, and its credentials' secret."""
        return self._grant(_actions("rds_data"), [cluster_arn]).combine(self.grant_secret_read(secret))

    def grant_dynamodb(self, table: dynamodb.ITable, level: Level, *, indexes: Sequence[str] = ()) -> iam.Grant:
        """Item reads (GetItem, Query, Scan) and/or writes (PutItem, UpdateItem, DeleteItem) on the
        table; reads also on the named ``indexes``."""
        grant = self._leveled("dynamodb", level, [table.table_arn])
        if indexes and level != "write":
            grant = grant.combine(self._grant(_actions("dynamodb", "read"), [f"{table.table_arn}/index/{name}" for name in indexes]))
        return grant

    def grant_s3(self, bucket: s3.IBucket, level: Level, *, prefix: str | None = None) -> iam.Grant:
        """Read (ListBucket, GetObject) and/or write (PutObject, DeleteObject), on the keys under
        ``prefix`` (default: the whole bucket)."""
        objects = bucket.arn_for_objects(f"{prefix or ''}*")
        grant = self._leveled("s3", level, [objects])
        if level != "write":
            conditions = {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None
            grant = grant.combine(self._grant(_actions("s3", "list"), [bucket.bucket_arn], conditions))
        # Object keys do not exist before they are written: the grant is on a key pattern.
        acknowledge(
            self.scoped_policy or self,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, objects)}]",
            "Objects are named by key only when written: the grant covers the keys under the spec's bucket and prefix.",
        )
        return grant

    def grant_lambda_invoke(self, function: lambda_.IFunction) -> iam.Grant:
        return self.grant_integration("lambda", [function.function_arn])

    def grant_start_execution(self, state_machine: sfn.IStateMachine) -> iam.Grant:
        return self.grant_integration("stepfunctions", [state_machine.state_machine_arn])

    def grant_put_events(self, bus: events.IEventBus) -> iam.Grant:
        return self.grant_integration("eventbridge", [bus.event_bus_arn])

    def grant_kinesis_put(self, stream: kinesis.IStream) -> iam.Grant:
        return self.grant_integration("kinesis", [stream.stream_arn])

    def grant_firehose_put(self, delivery_stream: firehose.IDeliveryStream) -> iam.Grant:
        return self.grant_integration("firehose", [delivery_stream.delivery_stream_arn])

    def grant_sns_publish(self, topic: sns.ITopic) -> iam.Grant:
        return self.grant_integration("sns", [topic.topic_arn])

    def grant_sqs_consume(self, queue: sqs.IQueue) -> iam.Grant:
        """SQS polling: receive, delete, change visibility, read attributes, on one queue."""
        return self.grant_integration("sqs", [queue.queue_arn])

    def grant_sqs_send(self, queue: sqs.IQueue) -> iam.Grant:
        """sqs:SendMessage on one queue, the only action a producer that has the queue's URL needs (no
        sqs:GetQueueUrl: the URL is given to the task, not looked up by name). SendMessageBatch is authorized
        by sqs:SendMessage too."""
        return self._grant(("sqs:SendMessage",), [queue.queue_arn])

    def grant_xray(self) -> iam.Grant:
        """X-Ray segments and telemetry (no resource-level permission exists)."""
        return self._grant(_actions("xray"), ["*"])

    def grant_ssm_parameters(self, parameters: Sequence[ssm.IParameter] = (), *, path: str | None = None) -> iam.Grant:
        """GetParameter(s) on the named parameters; with ``path``, GetParametersByPath under it."""
        grants = [self._grant(_actions("ssm_parameters"), [p.parameter_arn for p in parameters])] if parameters else []
        if path is not None:
            stack = Stack.of(self)
            name = path.strip("/")
            grants.append(
                self._grant(_actions("ssm_parameters", "path"), [stack.format_arn(service="ssm", resource="parameter", resource_name=name)])
            )
        if not grants:
            raise ConstructError(self, "grant_ssm_parameters needs parameters or a path; allowed: at least one of them")
        grant = grants[0]
        for other in grants[1:]:
            grant = grant.combine(other)
        return grant

    def grant_ecs_exec(self, *, log_group: logs.ILogGroup | None = None, key: kms.IKey | None = None) -> iam.Grant:
        """ECS Exec: the Session Manager channels; with the cluster's exec ``log_group`` and ``key``,
        writing the session log and decrypting the session."""
        grant = self._grant(_actions("ecs_exec"), ["*"])
        if log_group is not None:
            grant = grant.combine(self._grant(_actions("ecs_exec", "logs"), [log_group.log_group_arn]))
        if key is not None:
            grant = grant.combine(self._grant(KMS_ACTIONS["read"], [key.key_arn]))
        return grant

    def grant_secret_read(self, secret: secretsmanager.ISecret) -> iam.Grant:
        """secretsmanager:GetSecretValue on one secret."""
        return self.grant_integration("secrets_manager", [secret.secret_arn])

    def grant_kms(
        self, key: kms.IKey, *, via_service: str, write: bool = False, encryption_context: Mapping[str, str] | None = None
    ) -> iam.Grant:
        """kms:Decrypt (and kms:GenerateDataKey when ``write``) on a customer-managed key, only
        through ``via_service`` (e.g. ``sqs``) in this region (the ``kms:ViaService`` condition),
        and only for ``encryption_context`` when given (``{"aws:sqs:arn": queue_arn}``)."""
        region = Stack.of(self).region
        conditions = {f"kms:EncryptionContext:{k}": v for k, v in (encryption_context or {}).items()}
        return self._grant(
            KMS_ACTIONS["write" if write else "read"],
            [key.key_arn],
            {"StringEquals": {"kms:ViaService": f"{via_service}.{region}.amazonaws.com", **conditions}},
        )
