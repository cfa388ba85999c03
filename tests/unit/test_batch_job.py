"""BatchJob: a task run by EventBridge Scheduler or on demand, then nothing keeps running (USE-3, CLI-7, CLI-9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    BatchJob,
    BatchJobProps,
    Cluster,
    ClusterProps,
    ConstructError,
    ContainerProps,
    JobSchedule,
    Network,
    NetworkProps,
)
from tests.unit.support import ACCOUNT, AZS, join_text, logical_id, new_app, new_stack, of_type, synth, tags_of

BUSYBOX = ecs.ContainerImage.from_registry("busybox:1.36")


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    batch_subnets: list[dict[str, str]]
    jobs: dict[str, BatchJob]
    commands: dict[str, Any]
    """``run_task_command`` of each job, resolved."""


@dataclass
class Platform:
    stack: Stack
    network: Network
    cluster: ecs.ICluster
    key: kms.IKey


def _platform(stack: Stack) -> Platform:
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS))
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=network.vpc)).cluster
    return Platform(stack, network, cluster, kms.Key(stack, "Key"))


def _props(p: Platform, **overrides: Any) -> BatchJobProps:
    values: dict[str, Any] = {
        "cluster": p.cluster,
        "encryption_key": p.key,
        "vpc_subnets": p.network.batch_subnets,
        "containers": [ContainerProps(name="job", image=BUSYBOX, command=["echo", "done"])],
    }
    return BatchJobProps(**{**values, **overrides})


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given two jobs on one platform:

    - ``nightly``: family nightly, 3 tasks on FARGATE_SPOT, cron 03:00 Asia/Tokyo with a 15-minute window,
      3 retries within 2 hours;
    - ``adhoc``: family adhoc, 2 tasks on FARGATE, no schedule.
    """
    app = new_app()
    stack = new_stack(app)
    platform = _platform(stack)
    jobs = {
        "nightly": BatchJob(
            stack,
            "Nightly",
            props=_props(
                platform,
                family="nightly",
                count=3,
                capacity_provider="FARGATE_SPOT",
                schedule=JobSchedule(
                    expression="cron(0 3 * * ? *)",
                    time_zone="Asia/Tokyo",
                    flexible_window=Duration.minutes(15),
                    retry_attempts=3,
                    max_event_age=Duration.hours(2),
                ),
            ),
        ),
        "adhoc": BatchJob(stack, "Adhoc", props=_props(platform, family="adhoc", count=2)),
    }
    ids = {
        "key": logical_id(platform.key),
        "cluster": logical_id(platform.cluster),
    }
    for name, job in jobs.items():
        for part, construct in (
            ("td", job.task_definition),
            ("sg", job.security_group),
            ("logs", job.log_group),
            ("execution", job.task.execution_role),
            ("task", job.task.task_role),
        ):
            ids[f"{name}.{part}"] = logical_id(construct)
    nightly = jobs["nightly"]
    assert nightly.dead_letter_queue is not None and nightly.schedule is not None
    ids["nightly.dlq"] = logical_id(nightly.dead_letter_queue)
    ids["nightly.schedule"] = logical_id(nightly.schedule)
    ids["nightly.role"] = logical_id(nightly.node.find_child("SchedulerRole"))
    commands = {name: stack.resolve(job.run_task_command) for name, job in jobs.items()}
    batch_subnets = stack.resolve(platform.network.vpc.select_subnets(subnet_group_name="Batch").subnet_ids)
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, batch_subnets, jobs, commands)


def _schedule(scenario: Scenario) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::Scheduler::Schedule")[scenario.ids["nightly.schedule"]]["Properties"]
    return props


def _scheduler_policy(scenario: Scenario) -> list[dict[str, Any]]:
    role = {"Ref": scenario.ids["nightly.role"]}
    (policy,) = [p for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [role]]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


# --- USE-3: the schedule ----------------------------------------------------------------------


def test_use3_schedule_expression_time_zone_and_window(scenario: Scenario) -> None:
    """USE-3: EventBridge Scheduler runs the job at 03:00 Tokyo time, within 15 minutes."""
    schedule = _schedule(scenario)
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert schedule["State"] == "ENABLED"
    assert schedule["Description"] == "Runs nightly"


def test_retry_policy_as_given(scenario: Scenario) -> None:
    assert _schedule(scenario)["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}


def test_use3_cli9_target_runs_the_task_definition_in_the_cluster(scenario: Scenario) -> None:
    """USE-3 / CLI-9: a RunTask of the job's definition (count 3); no ECS service keeps anything running."""
    target = _schedule(scenario)["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [scenario.ids["cluster"], "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": [scenario.ids["nightly.role"], "Arn"]}
    ecs_parameters = target["EcsParameters"]
    assert ecs_parameters["TaskDefinitionArn"] == {"Ref": scenario.ids["nightly.td"]}
    assert ecs_parameters["TaskCount"] == 3
    assert ecs_parameters["PropagateTags"] == "TASK_DEFINITION"
    scenario.template.resource_count_is("AWS::ECS::Service", 0)


def test_arch3_spot_capacity_provider_strategy(scenario: Scenario) -> None:
    """ARCH-3: capacity_provider FARGATE_SPOT -> CapacityProviderStrategy FARGATE_SPOT, weight 1, no launch type."""
    ecs_parameters = _schedule(scenario)["Target"]["EcsParameters"]
    assert ecs_parameters["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert "LaunchType" not in ecs_parameters


def test_sec1_scheduled_tasks_in_batch_subnets_without_public_ip(scenario: Scenario) -> None:
    """SEC-1 / SEC-2: Batch subnets, the job's batch security group, AssignPublicIp DISABLED."""
    assert _schedule(scenario)["Target"]["EcsParameters"]["NetworkConfiguration"] == {
        "AwsvpcConfiguration": {
            "AssignPublicIp": "DISABLED",
            "SecurityGroups": [{"Fn::GetAtt": [scenario.ids["nightly.sg"], "GroupId"]}],
            "Subnets": scenario.batch_subnets,
        }
    }


# --- dead-letter queue ------------------------------------------------------------------------


def test_sec3_dead_letter_queue_is_kms_encrypted_and_ssl_only(scenario: Scenario) -> None:
    """SEC-3: the DLQ is encrypted with the given key, kept 14 days and refuses non-TLS requests."""
    queue = of_type(scenario.template, "AWS::SQS::Queue")[scenario.ids["nightly.dlq"]]
    assert queue["Properties"] == {
        "KmsMasterKeyId": {"Fn::GetAtt": [scenario.ids["key"], "Arn"]},
        "MessageRetentionPeriod": 1209600,
    }
    (policy,) = of_type(scenario.template, "AWS::SQS::QueuePolicy").values()
    assert policy["Properties"]["Queues"] == [{"Ref": scenario.ids["nightly.dlq"]}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [scenario.ids["nightly.dlq"], "Arn"]},
        }
    ]
    assert _schedule(scenario)["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [scenario.ids["nightly.dlq"], "Arn"]}}


# --- the scheduler role -------------------------------------------------------------------------


def test_iam6_scheduler_role_trusted_by_scheduler_of_this_account(scenario: Scenario) -> None:
    """Confused-deputy protection as in IAM-6: scheduler.amazonaws.com with aws:SourceAccount and aws:SourceArn."""
    role = of_type(scenario.template, "AWS::IAM::Role")[scenario.ids["nightly.role"]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:scheduler:ap-northeast-1:{ACCOUNT}:schedule/*"},
            },
        }
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def test_iam8_scheduler_role_grants_in_one_managed_policy(scenario: Scenario) -> None:
    """IAM-8: use the DLQ's key, pass the job's two roles to ECS tasks, run its definition, tag its tasks,
    send to its DLQ; nothing inline."""
    ids = scenario.ids
    assert _scheduler_policy(scenario) == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": "sqs.ap-northeast-1.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [ids["key"], "Arn"]},
        },
        {
            "Action": "iam:PassRole",
            "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": [{"Fn::GetAtt": [ids["nightly.execution"], "Arn"]}, {"Fn::GetAtt": [ids["nightly.task"], "Arn"]}],
        },
        {"Action": "ecs:RunTask", "Effect": "Allow", "Resource": {"Ref": ids["nightly.td"]}},
        {
            "Action": "ecs:TagResource",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:task/", {"Ref": ids["cluster"]}, "/*"]]},
        },
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [ids["nightly.dlq"], "Arn"]}},
    ]
    scenario.template.resource_count_is("AWS::IAM::Policy", 0)


def test_scheduler_role_may_use_the_dead_letter_queue_key(scenario: Scenario) -> None:
    """Sending to an SSE-KMS queue needs kms:GenerateDataKey and kms:Decrypt on its key, only through SQS."""
    key_arn = {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}
    granted = {
        action
        for statement in _scheduler_policy(scenario)
        if statement["Resource"] == key_arn
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert granted == {"kms:Decrypt", "kms:GenerateDataKey"}


# --- on-demand job ------------------------------------------------------------------------------


def test_use3_job_without_schedule_has_no_schedule_queue_or_scheduler_role(scenario: Scenario) -> None:
    """Without a schedule: no Schedule, no DLQ, no scheduler role; only the nightly job has them."""
    adhoc = scenario.jobs["adhoc"]
    assert (adhoc.schedule, adhoc.dead_letter_queue) == (None, None)
    assert adhoc.node.try_find_child("SchedulerRole") is None
    resources = scenario.template.to_json()["Resources"]
    assert not [
        k
        for k in resources
        if k.startswith("Adhoc") and resources[k]["Type"] in ("AWS::Scheduler::Schedule", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy")
    ]
    scenario.template.resource_count_is("AWS::Scheduler::Schedule", 1)
    scenario.template.resource_count_is("AWS::SQS::Queue", 1)
    scheduler_roles = [
        r
        for r in of_type(scenario.template, "AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    ]
    assert len(scheduler_roles) == 1


# --- the job's task -------------------------------------------------------------------------------


def test_obs1_family_and_log_group(scenario: Scenario) -> None:
    """OBS-1: family as given, its own log group (named by CloudFormation: no name given), awslogs prefix ecs."""
    for name in ("nightly", "adhoc"):
        td = of_type(scenario.template, "AWS::ECS::TaskDefinition")[scenario.ids[f"{name}.td"]]["Properties"]
        assert td["Family"] == name
        (container,) = td["ContainerDefinitions"]
        assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "ecs"
        assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": scenario.ids[f"{name}.logs"]}
        group = of_type(scenario.template, "AWS::Logs::LogGroup")[scenario.ids[f"{name}.logs"]]["Properties"]
        assert "LogGroupName" not in group


def test_sec2_batch_security_group_by_default(scenario: Scenario) -> None:
    """SEC-2 / CLI-1: a new batch group per job, named after the job: no ingress, tcp/443 out only."""
    for name in ("nightly", "adhoc"):
        sg = of_type(scenario.template, "AWS::EC2::SecurityGroup")[scenario.ids[f"{name}.sg"]]
        assert tags_of(sg)["Name"] == name
        assert "SecurityGroupIngress" not in sg["Properties"]
        assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in sg["Properties"]["SecurityGroupEgress"]] == [
            ("tcp", 443, 443, "0.0.0.0/0")
        ]


# --- CLI-7: the run-task command ------------------------------------------------------------------


def test_cli7_run_task_command_for_fargate(scenario: Scenario) -> None:
    """CLI-7: aws ecs run-task with the cluster, the deployed revision, --count 2, --launch-type FARGATE, the batch
    subnets and security group, no public IP, tagged."""
    command = scenario.commands["adhoc"]
    assert join_text(command) == (
        "aws ecs run-task --cluster <token> --task-definition <token> --count 2 --launch-type FARGATE"
        ' --network-configuration "awsvpcConfiguration={subnets=[<token>],securityGroups=[<token>],assignPublicIp=DISABLED}"'
        " --propagate-tags TASK_DEFINITION --tags key=Name,value=adhoc-manual"
    )
    tokens = [p for p in command["Fn::Join"][1] if not isinstance(p, str)]
    assert tokens == [
        {"Ref": scenario.ids["cluster"]},
        {"Ref": scenario.ids["adhoc.td"]},  # the revision deployed, not the family's latest
        {"Fn::Join": [",", scenario.batch_subnets]},
        {"Fn::GetAtt": [scenario.ids["adhoc.sg"], "GroupId"]},
    ]


def test_cli7_run_task_command_for_fargate_spot(scenario: Scenario) -> None:
    """CLI-7 / ARCH-3: a Spot job asks for the FARGATE_SPOT capacity provider instead of a launch type."""
    text = join_text(scenario.commands["nightly"])
    assert " --count 3 --capacity-provider-strategy capacityProvider=FARGATE_SPOT,weight=1 " in text
    assert "--launch-type" not in text
    assert "assignPublicIp=DISABLED" in text
    assert "--task-definition <token> " in text  # the deployed revision's ARN


# --- failing cases ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform() -> Platform:
    """A platform that is never synthesized: failing constructors leave only empty nodes in it."""
    return _platform(new_stack(new_app(), "Failing"))


@pytest.mark.parametrize("count", [0, 11])
def test_fails_when_count_out_of_range(platform: Platform, count: int) -> None:
    """LIM-3: RunTask starts 1 to 10 tasks per call."""
    with pytest.raises(ConstructError, match=rf"^Failing/Count{count}: count: {count} is out of range; allowed: 1\.\.10 \(RunTask starts"):
        BatchJob(platform.stack, f"Count{count}", props=_props(platform, count=count))


def test_fails_when_capacity_provider_is_not_of_its_compute(platform: Platform) -> None:
    """ARCH-3: a Fargate job runs on FARGATE or FARGATE_SPOT only; an EC2 one on an Auto Scaling group provider."""
    with pytest.raises(ValueError, match=r"capacity_provider 'EC2' with compute FARGATE is not allowed; allowed: FARGATE or FARGATE_SPOT"):
        BatchJob(platform.stack, "Ec2", props=_props(platform, capacity_provider="EC2"))
