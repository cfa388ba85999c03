"""BatchJob: a task that runs to completion on a schedule or on demand, then uses nothing (USE-3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration, Fn, Stack, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.dead_letter_queue import DeadLetterQueue, DeadLetterQueueProps
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.fargate_task import SPREAD, Compute, FargateTask, TaskAccessors, WorkloadProps
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.security_groups import BatchSecurityGroup, SecurityGroupProps
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import RUN_TASK_COUNT

if TYPE_CHECKING:
    from aws_cdk import aws_stepfunctions as sfn


@dataclass(frozen=True, kw_only=True)
class JobSchedule:
    """When EventBridge Scheduler starts the job."""

    expression: str
    """``cron(...)`` or ``rate(...)`` in EventBridge Scheduler syntax."""
    time_zone: str = "UTC"
    """IANA time zone of a cron expression. Default: UTC."""
    flexible_window: Duration | None = None
    """Let Scheduler start the job up to this much later, to spread load. Default: none (on time)."""
    retry_attempts: int = 2
    """Retries when RunTask fails (capacity, throttling). Default: 2."""
    max_event_age: Duration = Duration.hours(1)
    """Give up on a start that could not happen within this time. Default: 1 hour."""
    timeout: Duration | None = None
    """Stop a run that takes longer, and count it as failed. Default: none (the task runs until it exits)."""
    retries: int = 0
    """Run a failed (or timed-out) run again, up to this many times. Default: 0."""

    @property
    def supervised(self) -> bool:
        """A timeout or retries need a Step Functions state machine that waits for the task."""
        return self.timeout is not None or self.retries > 0


@dataclass(frozen=True, kw_only=True)
class BatchJobProps(WorkloadProps):
    name: str | None = None
    """Job name, used in the run-task command's Name tag. Default: the family or construct ID."""
    count: int = 1
    """Tasks per run, 1 to 10 (one RunTask call, LIM-3). Default: 1."""
    capacity_provider: str = "FARGATE"
    """FARGATE or FARGATE_SPOT, or (with ``compute`` EC2) an Auto Scaling group capacity provider of the cluster.
    Default: FARGATE."""
    schedule: JobSchedule | None = None
    """Run on a schedule. Default: none (on demand only)."""
    failure_topic: sns.ITopic | None = None
    """Where failed runs are announced. Default: a new :class:`NotificationTopic` encrypted with ``messaging_key``."""


class BatchJob(TaskAccessors, Construct):
    """A job: a task definition run by EventBridge Scheduler (if scheduled) or by hand.

    No service is created: a task runs, exits, and nothing keeps running; a stopped task
    is not restarted (CLI-9). ``run_task_command`` is a ready ``aws ecs run-task``
    invocation with the batch subnets and security group, without public IP (CLI-7).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: BatchJobProps) -> None:
        super().__init__(scope, construct_id)
        refuse(self, "count", RUN_TASK_COUNT.check(props.count), props.count)
        fargate = props.capacity_provider in ("FARGATE", "FARGATE_SPOT")
        if fargate != (props.compute is Compute.FARGATE) or props.compute is Compute.MANAGED_INSTANCES:
            raise ConstructError(
                self,
                f"capacity_provider {props.capacity_provider!r} with compute {props.compute.value} is not allowed; allowed: "
                "FARGATE or FARGATE_SPOT with compute FARGATE, an Auto Scaling group provider with compute EC2",
            )
        self.name = props.name or props.family or construct_id
        self.cluster = props.cluster
        self.task = FargateTask(self, "Task", props=props)
        self.security_group = props.security_group or BatchSecurityGroup(
            self, "SecurityGroup", props=SecurityGroupProps(vpc=props.cluster.vpc, name=self.name)
        )
        selection = props.vpc_subnets
        self.subnet_ids = props.cluster.vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_type=selection.subnet_type,
        ).subnet_ids
        self.count = props.count
        self.capacity_provider = props.capacity_provider
        self.placement = [*(props.placement_strategies or SPREAD)] if props.compute is Compute.EC2 else []
        """EC2: how the tasks of a run are placed on instances (the service default: spread over AZs, then instances)."""
        self.constraints = list(props.placement_constraints) if props.compute is Compute.EC2 else []
        self.schedule: scheduler.Schedule | None = None
        self.state_machine: sfn.StateMachine | None = None
        self.dead_letter_queue: DeadLetterQueue | None = None
        if props.schedule is not None:
            self._schedule(props, props.schedule)
        self._watch_failures(props)

    def _watch_failures(self, props: BatchJobProps) -> None:
        """A run that fails is visible: an EventBridge rule matches this job's stopped tasks with a
        non-zero exit code or a stop other than its essential container exiting, and notifies the
        failure topic; a CloudWatch alarm on the rule's matches notifies it too."""
        stack = Stack.of(self)
        self.failure_topic = props.failure_topic or NotificationTopic(
            self,
            "Failures",
            props=NotificationTopicProps(
                key=props.message_key, display_name=f"{self.name} failed runs", removal_policy=props.removal_policy
            ),
        )
        family_arn = stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{self.task.task_definition.family}:")
        self.failure_rule = events.Rule(
            self,
            "FailedRuns",
            description=f"{self.name}: a task stopped with a non-zero exit code or for another reason than its exit",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={
                    "clusterArn": [props.cluster.cluster_arn],
                    "lastStatus": ["STOPPED"],
                    "taskDefinitionArn": [{"prefix": family_arn}],
                    "$or": [
                        {"containers": {"exitCode": [{"anything-but": 0}]}},
                        {"stopCode": [{"anything-but": "EssentialContainerExited"}]},
                    ],
                },
            ),
            targets=[events_targets.SnsTopic(self.failure_topic)],
        )
        self.failure_alarm = cloudwatch.Alarm(
            self,
            "FailedRunsAlarm",
            alarm_description=f"{self.name}: at least one failed run in 5 minutes",
            metric=cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="TriggeredRules",
                dimensions_map={"RuleName": self.failure_rule.rule_name},
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.failure_topic))

    def _schedule(self, props: BatchJobProps, when: JobSchedule) -> None:
        stack = Stack.of(self)
        self.dead_letter_queue = DeadLetterQueue(
            self,
            "DeadLetterQueue",
            props=DeadLetterQueueProps(key=props.message_key, removal_policy=props.removal_policy, of_what="the job's schedule"),
        )
        role = ScopedRole(
            self,
            "SchedulerRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("scheduler.amazonaws.com", scope=self),
                description="EventBridge Scheduler: run this job's task",
            ),
        )
        # CDK grants sqs:SendMessage on the dead-letter queue, but not its key.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[props.message_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}},
            )
        )
        target: scheduler.IScheduleTarget
        if when.supervised:
            if props.count != 1:
                raise ConstructError(self, f"count {props.count} with a timeout or retries; allowed: count 1 (one supervised task per run)")
            self.state_machine = self._state_machine(props, when)
            target = targets.StepFunctionsStartExecution(
                self.state_machine,
                role=role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=when.retry_attempts,
                max_event_age=when.max_event_age,
            )
        elif props.compute is Compute.EC2:
            target = targets.EcsRunEc2Task(
                props.cluster,
                task_definition=self.task.task_definition,
                task_count=props.count,
                role=role,
                vpc_subnets=props.vpc_subnets,
                security_groups=[self.security_group],
                capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider=props.capacity_provider, weight=1)],
                placement_strategies=self.placement,
                placement_constraints=self.constraints or None,
                propagate_tags=True,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=when.retry_attempts,
                max_event_age=when.max_event_age,
            )
        else:
            target = targets.EcsRunFargateTask(
                props.cluster,
                task_definition=self.task.task_definition,
                task_count=props.count,
                role=role,
                vpc_subnets=props.vpc_subnets,
                security_groups=[self.security_group],
                assign_public_ip=False,
                capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider=props.capacity_provider, weight=1)],
                propagate_tags=True,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=when.retry_attempts,
                max_event_age=when.max_event_age,
            )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(when.expression, TimeZone.of(when.time_zone)),
            description=f"Runs {self.name}",
            time_window=scheduler.TimeWindow.flexible(when.flexible_window) if when.flexible_window else scheduler.TimeWindow.off(),
            target=target,
        )
        if when.supervised:
            return

        # Scheduler tags the tasks it starts (PropagateTags): ecs:TagResource on tasks of
        # this cluster, whose IDs do not exist before the run.
        tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{props.cluster.cluster_name}/*")
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(role, tasks)}]",
            "ecs:TagResource on this cluster's tasks (to tag what the schedule starts); task IDs exist only after RunTask.",
        )

    def _state_machine(self, props: BatchJobProps, when: JobSchedule) -> sfn.StateMachine:
        """Runs the task and waits for it (``ecs:runTask.sync``): the state's timeout stops the
        task, and a failed or timed-out run is retried ``retries`` times."""
        from aws_cdk import aws_stepfunctions as sfn  # loaded only when used: each aws_cdk module costs start-up time

        stack = Stack.of(self)
        role = ScopedRole(
            self,
            "StateMachineRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("states.amazonaws.com", scope=self),
                description="Step Functions: run this job's task and wait for it",
            ),
        )
        cluster_arn = props.cluster.cluster_arn
        tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{props.cluster.cluster_name}/*")
        managed_rule = stack.format_arn(service="events", resource="rule", resource_name="StepFunctionsGetEventsForECSTaskRule")
        for statement in (
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[self.task.task_definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": cluster_arn}},
            ),
            iam.PolicyStatement(actions=["ecs:DescribeTasks", "ecs:StopTask"], resources=[tasks]),
            iam.PolicyStatement(actions=["events:DescribeRule", "events:PutRule", "events:PutTargets"], resources=[managed_rule]),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.task.execution_role.role_arn, self.task.task_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            ),
        ):
            role.add_to_principal_policy(statement)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(role, tasks)}]",
            "Describe and stop this cluster's tasks (what the run started); task IDs exist only after RunTask.",
        )
        capacity: dict[str, object] = (
            {"LaunchType": "FARGATE"}
            if props.capacity_provider == "FARGATE"
            else {"CapacityProviderStrategy": [{"CapacityProvider": props.capacity_provider, "Weight": 1}]}
        )
        if self.placement:
            capacity["PlacementStrategy"] = [{k.capitalize(): v for k, v in entry.items()} for entry in _strategies(self.placement)]
        if self.constraints:
            capacity["PlacementConstraints"] = [{k.capitalize(): v for k, v in entry.items()} for entry in _constraints(self.constraints)]
        run = sfn.CustomState(
            self,
            "RunTask",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{stack.partition}:states:::ecs:runTask.sync",
                "Parameters": {
                    "Cluster": cluster_arn,
                    "TaskDefinition": self.task.task_definition.task_definition_arn,
                    **capacity,
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "Subnets": self.subnet_ids,
                            "SecurityGroups": [self.security_group.security_group_id],
                            "AssignPublicIp": "DISABLED",
                        }
                    },
                    "PropagateTags": "TASK_DEFINITION",
                },
                **({"TimeoutSeconds": int(when.timeout.to_seconds())} if when.timeout else {}),
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 60, "BackoffRate": 2, "MaxAttempts": when.retries}]
                if when.retries
                else [],
            },
        )
        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            encryption_key=props.encryption_key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        return sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(run),
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )

    @property
    def run_task_parameters(self) -> str:
        """The RunTask request of an on-demand run, as JSON (boto3's ``run_task`` keyword names):
        what ``ecs-platform run-task`` reads from the stack outputs."""
        capacity: dict[str, object] = (
            {"launchType": "FARGATE"}
            if self.capacity_provider == "FARGATE"
            else {"capacityProviderStrategy": [{"capacityProvider": self.capacity_provider, "weight": 1}]}
        )
        if self.placement:
            capacity["placementStrategy"] = _strategies(self.placement)
        if self.constraints:
            capacity["placementConstraints"] = _constraints(self.constraints)
        return Stack.of(self).to_json_string(
            {
                "cluster": self.cluster.cluster_name,
                # The revision this stack deployed, not the family's latest (another environment in the
                # account, or a later deploy, may have registered one since).
                "taskDefinition": self.task.task_definition.task_definition_arn,
                "count": self.count,
                **capacity,
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": self.subnet_ids,
                        "securityGroups": [self.security_group.security_group_id],
                        "assignPublicIp": "DISABLED",
                    }
                },
                "propagateTags": "TASK_DEFINITION",
                "tags": [{"key": "Name", "value": f"{self.name}-manual"}],
            }
        )

    @property
    def run_task_command(self) -> str:
        """A ready ``aws ecs run-task`` command for an on-demand run (CLI-7)."""
        if self.capacity_provider == "FARGATE":
            capacity = "--launch-type FARGATE"
        else:
            capacity = f"--capacity-provider-strategy capacityProvider={self.capacity_provider},weight=1"
        if self.placement:
            capacity += " --placement-strategy " + " ".join(",".join(f"{k}={v}" for k, v in e.items()) for e in _strategies(self.placement))
        if self.constraints:
            capacity += " --placement-constraints " + " ".join(
                f"type={e['type']},expression='{e['expression']}'" for e in _constraints(self.constraints)
            )
        return Fn.join(
            "",
            [
                "aws ecs run-task --cluster ",
                self.cluster.cluster_name,
                " --task-definition ",
                self.task.task_definition.task_definition_arn,
                f" --count {self.count} {capacity}",
                ' --network-configuration "awsvpcConfiguration={subnets=[',
                Fn.join(",", self.subnet_ids),
                "],securityGroups=[",
                self.security_group.security_group_id,
                '],assignPublicIp=DISABLED}"',
                f" --propagate-tags TASK_DEFINITION --tags key=Name,value={self.name}-manual",
            ],
        )


def _strategies(placement: list[ecs.PlacementStrategy]) -> list[dict[str, str]]:
    """Placement strategies as RunTask's ``placementStrategy`` entries."""
    return [{"type": s.type, **({"field": s.field} if s.field else {})} for p in placement for s in p.to_json()]


def _constraints(constraints: list[ecs.PlacementConstraint]) -> list[dict[str, str]]:
    """Placement constraints as RunTask's ``placementConstraints`` entries."""
    return [{"type": c.type, **({"expression": c.expression} if c.expression else {})} for p in constraints for c in p.to_json()]
