"""QueueWorker: an ECS service without a load balancer that consumes an SQS queue and scales on
its backlog per task (issue: batch jobs and queue workers). Other workloads may send to its queue
(:meth:`QueueWorker.grant_send`) and topics may deliver to it (:meth:`AppTopic.subscribe_queue`, issue 15)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicediscovery as cloudmap
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs.dead_letter_queue import DeadLetterQueue, DeadLetterQueueProps
from ecs_platform.constructs.errors import refuse
from ecs_platform.constructs.fargate_task import FargateTask, TaskAccessors, WorkloadProps, private_service
from ecs_platform.constructs.metric_math_scaling import math_expression, track_metric_math
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps
from ecs_platform.constructs.security_groups import BatchSecurityGroup, SecurityGroupProps
from ecs_platform.constructs.service_alarms import insights_metric, service_alarms
from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.limits import BACKLOG_PER_TASK, WORKER_MAX_TASKS, WORKER_MIN_TASKS, check_task_range

#: The environment variable every container of a worker finds its queue's URL in.
QUEUE_URL_VARIABLE = "QUEUE_URL"


@dataclass(frozen=True, kw_only=True)
class QueueWorkerProps(WorkloadProps):
    queue: sqs.IQueue | None = None
    """An existing queue to consume. Default: a new KMS-encrypted, SSL-only queue with a dead-letter queue."""
    queue_key: kms.IKey | None = None
    """The customer-managed key of an existing ``queue``, if any: the task role may decrypt through SQS. Default: none."""
    earlier_queue_keys: Sequence[kms.IKey] = ()
    """Keys that encrypted the worker's own queue before ``message_key`` (an upgrade that moved the queue to
    another key): messages already queued stay encrypted with them, so the task role may still decrypt
    through SQS, for this queue only (its encryption context). Default: none."""
    service_name: str | None = None
    """Service name and Name tag. Default: generated."""
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy] = ()
    """Capacity providers and their base and weights (ARCH-3): FARGATE / FARGATE_SPOT, or providers of ``compute``'s kind.
    Default: none (launch type FARGATE)."""
    min_capacity: int = 1
    """Fewest tasks; 0 lets the worker scale to zero when the queue is empty. Default: 1."""
    max_capacity: int = 10
    """Most tasks (at most 5,000, LIM-3). Default: 10."""
    backlog_per_task: int = 10
    """Visible messages per running task the scaling aims at. Default: 10."""
    visibility_timeout: Duration = Duration.minutes(5)
    """Visibility timeout of the worker's own queue. Default: 5 minutes."""
    max_receive_count: int = 5
    """Receives before a message moves to the dead-letter queue (own queue). Default: 5."""
    alarm_topic: sns.ITopic | None = None
    """Where the worker's alarms notify (CPU, memory, running and pending tasks, the oldest message's age, dead
    letters; OBS-2). Default: a new :class:`NotificationTopic` of the worker's, encrypted with ``messaging_key``."""
    oldest_message_age: Duration = Duration.minutes(15)
    """Alarm when the oldest message has waited this long (the workers fall behind or fail). Default: 15 minutes."""
    service_connect_namespace: cloudmap.INamespace | None = None
    """Join this Service Connect namespace as a client (ARCH-7), to call the services that name the worker among their
    callers. Default: none."""
    caller_group: ec2.ISecurityGroup | None = None
    """The worker's caller group (:meth:`WorkloadPlatform.caller_group`): its tasks carry it, and the services it calls
    admit it. Default: none."""


class QueueWorker(TaskAccessors, Construct):
    """Tasks poll the queue with exactly the document's SQS polling actions (IAM-5); Service Auto
    Scaling tracks visible messages per running task, so the fleet follows the backlog."""

    def __init__(self, scope: Construct, construct_id: str, *, props: QueueWorkerProps) -> None:
        super().__init__(scope, construct_id)
        low, high = props.min_capacity, props.max_capacity
        refuse(self, "min_capacity", WORKER_MIN_TASKS.check(low), low)
        refuse(self, "max_capacity", WORKER_MAX_TASKS.check(high), high)
        refuse(self, "min_capacity", check_task_range(low, high), low, high)
        refuse(self, "backlog_per_task", BACKLOG_PER_TASK.check(props.backlog_per_task), props.backlog_per_task)
        self.dead_letter_queue: DeadLetterQueue | None = None
        if props.queue is None:
            self.dead_letter_queue = DeadLetterQueue(
                self,
                "DeadLetterQueue",
                props=DeadLetterQueueProps(key=props.message_key, removal_policy=props.removal_policy, of_what="the worker's queue"),
            )
            self.queue: sqs.IQueue = sqs.Queue(
                self,
                "Queue",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=props.message_key,
                enforce_ssl=True,
                visibility_timeout=props.visibility_timeout,
                dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=props.max_receive_count),
                removal_policy=props.removal_policy,
            )
            queue_key: kms.IKey | None = props.message_key
        else:
            self.queue, queue_key = props.queue, props.queue_key
        self.queue_key: kms.IKey | None = queue_key
        """The key of the worker's queue (``message_key`` for its own queue, ``queue_key`` for an existing one)."""
        # The application finds its queue in QUEUE_URL (as Copilot's workers found it in COPILOT_QUEUE_URI).
        containers = [replace(c, environment={QUEUE_URL_VARIABLE: self.queue.queue_url, **c.environment}) for c in props.containers]
        self.task = FargateTask(self, "Task", props=replace(props, containers=containers))
        self.task.task_role.grant_sqs_consume(self.queue)
        if queue_key is not None:
            self.task.task_role.grant_kms(queue_key, via_service="sqs")
        if props.queue is None:
            for key in props.earlier_queue_keys:
                self.task.task_role.grant_kms(key, via_service="sqs", encryption_context={"aws:sqs:arn": self.queue.queue_arn})
        self.security_group = props.security_group or BatchSecurityGroup(
            self, "SecurityGroup", props=SecurityGroupProps(vpc=props.cluster.vpc, name=props.service_name)
        )
        self.service = private_service(
            self,
            "Service",
            props=props,
            task_definition=self.task.task_definition,
            security_groups=[self.security_group],
            service_name=props.service_name,
            desired_count=props.min_capacity,
            capacity_provider_strategies=props.capacity_provider_strategies,
        )
        if props.service_connect_namespace is not None:
            self._join(props.service_connect_namespace, props.caller_group)
        self.scaling = self.service.auto_scale_task_count(min_capacity=props.min_capacity, max_capacity=props.max_capacity)
        self.alarm_topic: sns.ITopic = props.alarm_topic or NotificationTopic(
            self,
            "Alarms",
            props=NotificationTopicProps(
                key=props.message_key, display_name=f"{props.service_name or self.node.path} alarms", removal_policy=props.removal_policy
            ),
        )
        """Where the worker's alarms notify."""
        self.alarms = self._alarms(props)
        # Visible messages per running task; with no task running, the whole backlog, so it
        # scales out from zero.
        self.scaling_policy = track_metric_math(
            self,
            "BacklogPerTask",
            scaling=self.scaling,
            target_value=props.backlog_per_task,
            expression=_BACKLOG_PER_TASK,
            metrics=self._backlog_metrics(),
            label="Backlog per task",
        )

    def _join(self, namespace: cloudmap.INamespace, caller_group: ec2.ISecurityGroup | None) -> None:
        """A Service Connect client (no endpoint of its own): its proxy resolves the services' names."""
        self.service.enable_service_connect(
            namespace=namespace.namespace_arn,
            log_driver=ecs.LogDriver.aws_logs(stream_prefix="service-connect", log_group=self.task.log_group),
        )
        if caller_group is not None:
            cfn_service = self.service.node.default_child
            assert isinstance(cfn_service, ecs.CfnService)
            cfn_service.add_property_override(
                "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups",
                [self.security_group.security_group_id, caller_group.security_group_id],
            )

    def grant_send(self, role: TaskRole) -> iam.Grant:
        """Let a producer (another workload's task role) send to the worker's queue by its URL: exactly
        ``sqs:SendMessage`` (which also authorizes SendMessageBatch) on this queue, and ``kms:GenerateDataKey`` and
        ``kms:Decrypt`` on the queue's key through SQS in this region only (IAM-5, SEC-3). No ``sqs:GetQueueUrl``:
        the producer is given the URL (``queue.queue_url``) rather than looking it up by name."""
        grant = role.grant_sqs_send(self.queue)
        if self.queue_key is not None:
            grant = grant.combine(role.grant_kms(self.queue_key, via_service="sqs", write=True))
        return grant

    def _alarms(self, props: QueueWorkerProps) -> list[cloudwatch.Alarm]:
        """OBS-2: the service's alarms, the oldest message's age and dead letters (each needs someone to look)."""
        alarms = service_alarms(self, self.service, min_running=props.min_capacity)
        age = props.oldest_message_age
        alarms.append(
            cloudwatch.Alarm(
                self,
                "OldestMessageOld",
                metric=self.queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=Duration.minutes(5)),
                threshold=int(age.to_seconds()),
                evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{self.node.path}: the oldest message waited more than {age.to_human_string()} for 15 minutes",
            )
        )
        if self.dead_letter_queue is not None:
            dead = self.dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=Duration.minutes(5))
            alarms.append(
                cloudwatch.Alarm(
                    self,
                    "DeadLetters",
                    metric=dead,
                    threshold=0,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{self.node.path}: messages failed {props.max_receive_count} times, now in the dead-letter queue",
                )
            )
        for alarm in alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        return alarms

    def _backlog_metrics(self) -> dict[str, cloudwatch.Metric]:
        return {
            "visible": self.queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=Duration.minutes(1)),
            "running": insights_metric(self.service, "RunningTaskCount"),
        }

    def metric_backlog_per_task(self) -> cloudwatch.MathExpression:
        """The metric the scaling tracks, for dashboards and alarms."""
        return math_expression(_BACKLOG_PER_TASK, self._backlog_metrics(), "Backlog per task", Duration.minutes(1))


_BACKLOG_PER_TASK = "visible / IF(running > 0, running, 1)"
