"""Sidecars: FireLens log routing and the ADOT collector for X-Ray, each with exactly its IAM (issue 15, IAM-5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from constructs import Construct

from ecs_platform.constructs import (
    FLUENT_BIT_IMAGE,
    OTEL_COLLECTOR_IMAGE,
    TRACING_APP_ENVIRONMENT,
    ConstructError,
    EncryptionKey,
    EncryptionKeyProps,
    ExecutionRole,
    LogRouterProps,
    TaskRole,
    TracingProps,
    add_log_router,
    add_otel_collector,
)
from ecs_platform.constructs.acknowledge import acknowledge
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, REGION, logical_id, nag_app, new_app, new_stack, of_type, synth

NGINX = ecs.ContainerImage.from_registry("nginx:1.27")
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
OTHER_REGION_STREAM = f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/audit-logs"


@dataclass
class Task:
    """A minimal workload task: its own roles and KMS-encrypted log group, as FargateTask builds them."""

    scope: Construct
    task_definition: ecs.FargateTaskDefinition
    task_role: TaskRole
    log_group: logs.LogGroup

    @property
    def awslogs(self) -> ecs.LogDriver:
        return ecs.LogDriver.aws_logs(stream_prefix="ecs", log_group=self.log_group)

    def add_app(self, logging: ecs.LogDriver, environment: dict[str, str] | None = None) -> None:
        self.task_definition.add_container(
            "app", container_name="app", image=NGINX, logging=logging, readonly_root_filesystem=True, environment=environment
        )


def _task(stack: Stack, construct_id: str, key: kms.IKey) -> Task:
    scope = Construct(stack, construct_id)
    log_group = logs.LogGroup(
        scope, "Logs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.DESTROY
    )
    task_role = TaskRole(scope, "TaskRole")
    task_definition = ecs.FargateTaskDefinition(
        scope, "TaskDefinition", cpu=256, memory_limit_mib=512, execution_role=ExecutionRole(scope, "ExecutionRole"), task_role=task_role
    )
    return Task(scope, task_definition, task_role, log_group)


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given, in one stack with every cdk-nag pack, one task per case:

    - ``cloudwatch``: a router to the task's own log group, stream prefix ``app/``;
    - ``imported``: a router to a log group imported by name;
    - ``s3``: a router to bucket ``shop-logs`` under ``logs/``, encrypted with a customer-managed key;
    - ``firehose``: a router to delivery stream ``shop-logs`` (a name);
    - ``firehose_arn``: a router to a delivery stream in us-east-1 (an ARN);
    - ``traced``: an ADOT collector, the app container with :data:`TRACING_APP_ENVIRONMENT`.
    """
    app = nag_app()
    stack = new_stack(app)
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="logs", removal_policy=RemovalPolicy.DESTROY))
    tasks = {
        name: _task(stack, name.title().replace("_", ""), key)
        for name in ("cloudwatch", "imported", "s3", "firehose", "firehose_arn", "traced")
    }
    routed: dict[str, LogRouterProps] = {
        "cloudwatch": LogRouterProps(destination="cloudwatch", log_group=tasks["cloudwatch"].log_group, log_stream_prefix="app/"),
        "imported": LogRouterProps(destination="cloudwatch", log_group=logs.LogGroup.from_log_group_name(stack, "Shared", "/shop/shared")),
        "s3": LogRouterProps(
            destination="s3",
            bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "shop-logs"),
            key_prefix="logs/",
            bucket_key=kms.Key.from_key_arn(stack, "BucketKey", KEY_ARN),
            upload_timeout=Duration.minutes(2),
        ),
        "firehose": LogRouterProps(destination="firehose", delivery_stream="shop-logs"),
        "firehose_arn": LogRouterProps(destination="firehose", delivery_stream=OTHER_REGION_STREAM),
    }
    for name, props in routed.items():
        task = tasks[name]
        driver = add_log_router(task.task_definition, props=props, log_driver_for_router=task.awslogs, task_role=task.task_role)
        task.add_app(driver)
    traced = tasks["traced"]
    add_otel_collector(traced.task_definition, props=TracingProps(), log_driver=traced.awslogs, task_role=traced.task_role)
    traced.add_app(traced.awslogs, dict(TRACING_APP_ENVIRONMENT))
    acknowledge(traced.task_definition, "AwsSolutions-ECS2", "Test fixture: the OTEL_* variables are not secrets.")
    ids: dict[str, str] = {}
    for name, task in tasks.items():
        ids[f"{name}.td"] = logical_id(task.task_definition)
        ids[f"{name}.role"] = logical_id(task.task_role)
        ids[f"{name}.logs"] = logical_id(task.log_group)
    # When synthesized (nag findings would raise)
    (template,) = synth(app, stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Scenario(template, ids, report)


def _containers(scenario: Scenario, name: str) -> dict[str, dict[str, Any]]:
    td = of_type(scenario.template, "AWS::ECS::TaskDefinition")[scenario.ids[f"{name}.td"]]["Properties"]
    return {c["Name"]: c for c in td["ContainerDefinitions"]}


def _statements(scenario: Scenario, name: str) -> list[dict[str, Any]]:
    role = {"Ref": scenario.ids[f"{name}.role"]}
    (policy,) = [p for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [role]]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _grants(scenario: Scenario, name: str) -> list[tuple[Any, Any]]:
    """(actions, resource) of each statement, with conditions checked separately."""
    return [(s["Action"], s["Resource"]) for s in _statements(scenario, name)]


def test_log_router_is_an_essential_read_only_fluent_bit_firelens_container(scenario: Scenario) -> None:
    """The router is FireLens type fluentbit, essential, on the pinned AWS for Fluent Bit image, with 50 MiB reserved,
    a read-only root filesystem and /tmp on a task volume, logging itself to the task's awslogs group."""
    router = _containers(scenario, "cloudwatch")["log_router"]
    assert router["FirelensConfiguration"] == {"Type": "fluentbit"}
    assert router["Image"] == FLUENT_BIT_IMAGE
    assert FLUENT_BIT_IMAGE.rsplit(":", 1)[1] not in ("stable", "latest")
    assert router["Essential"] is True
    assert router["MemoryReservation"] == 50
    assert router["ReadonlyRootFilesystem"] is True
    assert router["MountPoints"] == [{"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "log_router-scratch"}]
    assert router["LogConfiguration"]["LogDriver"] == "awslogs"
    assert router["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": scenario.ids["cloudwatch.logs"]}
    assert "User" not in router, "FireLens requires the router to run as root"


def test_cloudwatch_destination_sends_app_logs_through_firelens_to_the_log_group(scenario: Scenario) -> None:
    """The app's log driver is awsfirelens with the cloudwatch_logs output on the given group; the router never creates groups."""
    app = _containers(scenario, "cloudwatch")["app"]
    assert app["LogConfiguration"] == {
        "LogDriver": "awsfirelens",
        "Options": {
            "Name": "cloudwatch_logs",
            "region": REGION,
            "log_group_name": {"Ref": scenario.ids["cloudwatch.logs"]},
            "log_stream_prefix": "app/",
            "auto_create_group": "false",
        },
    }


def test_iam5_cloudwatch_destination_grants_create_stream_and_put_events_on_the_group_only(scenario: Scenario) -> None:
    """IAM-5: the task role may create streams in and write to that one log group, nothing else (no DescribeLogStreams,
    no CreateLogGroup)."""
    assert _grants(scenario, "cloudwatch") == [
        (["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": [scenario.ids["cloudwatch.logs"], "Arn"]})
    ]


def test_iam5_an_imported_log_group_is_granted_by_its_arn(scenario: Scenario) -> None:
    """A group imported by name is granted by its ARN (its streams: ':*'), in its region."""
    ((actions, resource),) = _grants(scenario, "imported")
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert resource == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/shop/shared:*"
    assert _containers(scenario, "imported")["app"]["LogConfiguration"]["Options"]["log_group_name"] == "/shop/shared"


def test_s3_destination_writes_objects_under_the_prefix_with_put_object(scenario: Scenario) -> None:
    """The s3 output writes to the bucket with PutObject, keys under logs/<tag>/, buffering in /tmp."""
    options = _containers(scenario, "s3")["app"]["LogConfiguration"]
    assert options == {
        "LogDriver": "awsfirelens",
        "Options": {
            "Name": "s3",
            "region": REGION,
            "bucket": "shop-logs",
            "total_file_size": "10M",
            "upload_timeout": "120s",
            "use_put_object": "On",
            "s3_key_format": "/logs/$TAG/%Y/%m/%d/%H%M%S-$UUID.log",
            "store_dir": "/tmp/fluent-bit/s3",
        },
    }


def test_iam5_s3_destination_grants_put_object_under_the_prefix_and_the_key_through_s3_only(scenario: Scenario) -> None:
    """IAM-5: s3:PutObject on shop-logs/logs/* only; the bucket's key for GenerateDataKey/Decrypt through S3 only."""
    statements = _statements(scenario, "s3")
    assert [(s["Action"], s.get("Condition")) for s in statements] == [
        ("s3:PutObject", None),
        (["kms:Decrypt", "kms:GenerateDataKey"], {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}),
    ]
    assert statements[0]["Resource"] == "arn:aws:s3:::shop-logs/logs/*"
    assert statements[1]["Resource"] == KEY_ARN


def test_firehose_destination_by_name_uses_the_stack_region(scenario: Scenario) -> None:
    """A delivery stream named by name is in the stack's region; the kinesis_firehose output takes its name."""
    assert _containers(scenario, "firehose")["app"]["LogConfiguration"] == {
        "LogDriver": "awsfirelens",
        "Options": {"Name": "kinesis_firehose", "region": REGION, "delivery_stream": "shop-logs"},
    }


def test_firehose_destination_by_arn_uses_the_arn_region_and_name(scenario: Scenario) -> None:
    """A delivery stream named by ARN is written in the ARN's region, under its name."""
    options = _containers(scenario, "firehose_arn")["app"]["LogConfiguration"]["Options"]
    assert options == {"Name": "kinesis_firehose", "region": "us-east-1", "delivery_stream": "audit-logs"}


def test_iam5_firehose_destination_grants_the_documents_firehose_actions_on_the_stream_only(scenario: Scenario) -> None:
    """IAM-5: firehose:PutRecord and PutRecordBatch (the document's Firehose grant) on exactly the one stream."""
    ((actions, resource),) = _grants(scenario, "firehose")
    assert actions == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert resource == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/shop-logs"
    assert _grants(scenario, "firehose_arn") == [(["firehose:PutRecord", "firehose:PutRecordBatch"], OTHER_REGION_STREAM)]


def test_otel_collector_runs_the_xray_only_config_non_essential_non_root_with_its_health_check(scenario: Scenario) -> None:
    """The collector runs the pinned ADOT image with /etc/ecs/ecs-xray.yaml, is not essential, runs as the image's
    non-root user on a read-only root filesystem, is probed by the image's /healthcheck, and exposes no port outside the task."""
    collector = _containers(scenario, "traced")["aws-otel-collector"]
    assert collector["Image"] == OTEL_COLLECTOR_IMAGE
    assert OTEL_COLLECTOR_IMAGE.rsplit(":", 1)[1] != "latest"
    assert collector["Command"] == ["--config=/etc/ecs/ecs-xray.yaml"]
    assert collector["Essential"] is False
    assert collector["User"] == "4317"
    assert collector["ReadonlyRootFilesystem"] is True
    assert collector["HealthCheck"]["Command"] == ["CMD", "/healthcheck"]
    assert "PortMappings" not in collector or collector["PortMappings"] == []
    assert collector["LogConfiguration"]["LogDriver"] == "awslogs"


def test_app_environment_points_the_sdk_at_the_collector_on_localhost(scenario: Scenario) -> None:
    """The environment the lead sets on app containers sends OTLP/HTTP traces to localhost:4318, and nothing else."""
    environment = {e["Name"]: e["Value"] for e in _containers(scenario, "traced")["app"]["Environment"]}
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4318"
    assert environment["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert environment["OTEL_METRICS_EXPORTER"] == environment["OTEL_LOGS_EXPORTER"] == "none"


def test_iam5_tracing_grants_exactly_xray_put_trace_segments_and_telemetry_on_star(scenario: Scenario) -> None:
    """IAM-5: only xray:PutTraceSegments and PutTelemetryRecords, on '*' (X-Ray has no resource-level permission);
    no sampling actions, as the X-Ray-only configuration samples nothing remotely."""
    assert _grants(scenario, "traced") == [(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*")]


def test_no_grant_is_on_star_except_xray(scenario: Scenario) -> None:
    """IAM-5: across every case, '*' appears only as X-Ray's resource."""
    for name in ("cloudwatch", "imported", "s3", "firehose", "firehose_arn"):
        assert all(resource != "*" for _, resource in _grants(scenario, name)), name


def test_sidecars_synthesize_nag_clean_with_only_the_expected_acknowledgements(scenario: Scenario) -> None:
    """No unacknowledged finding; the acknowledged ones are the object-key pattern of the S3 prefix, the imported group's
    streams, X-Ray's '*' and the fixture's own ECS2."""
    assert not nag_findings(scenario.report)
    suppressed = {rule for rule, _ in nag_findings(scenario.report, "suppressedViolations")}
    assert suppressed == {
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::shop-logs/logs/*]",
        f"AwsSolutions-IAM5[Resource::arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/shop/shared:*]",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-ECS2",
    }


# --- fails when ------------------------------------------------------------------------------------------------------


def _refused(build: Callable[[Task, Stack], None]) -> str:
    app: App = new_app()
    stack = new_stack(app)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    task = _task(stack, "Task", key)
    with pytest.raises(ConstructError) as raised:
        build(task, stack)
    return str(raised.value)


def _router(props: LogRouterProps) -> Callable[[Task, Stack], None]:
    def build(task: Task, stack: Stack) -> None:
        add_log_router(task.task_definition, props=props, log_driver_for_router=task.awslogs, task_role=task.task_role)

    return build


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (LogRouterProps(destination="cloudwatch"), "log_group: none given for destination 'cloudwatch'"),
        (LogRouterProps(destination="s3"), "bucket: none given for destination 's3'"),
        (LogRouterProps(destination="firehose"), "delivery_stream: none given for destination 'firehose'"),
        (LogRouterProps(destination="kafka"), "destination: 'kafka' is unknown; allowed: cloudwatch, s3, firehose"),  # type: ignore[arg-type]
        (
            LogRouterProps(destination="firehose", delivery_stream="s", key_prefix="logs/"),
            "key_prefix: given for destination 'firehose'; allowed: only with destination 's3'",
        ),
        (LogRouterProps(destination="firehose", delivery_stream="a*"), "delivery_stream: 'a*' has a wildcard"),
        (
            LogRouterProps(destination="firehose", delivery_stream="arn:aws:sqs:us-east-1:123456789012:q"),
            "is an ARN of 'sqs'; allowed: a Firehose delivery stream",
        ),
        (LogRouterProps(destination="firehose", delivery_stream="s", memory_reservation_mib=4), "memory_reservation_mib: 4 is too small"),
    ],
)
def test_log_router_fails_when_props_are_inconsistent(props: LogRouterProps, expected: str) -> None:
    """A destination without its target, a target of another destination, a malformed stream or too little memory is refused."""
    assert expected in _refused(_router(props))


def test_log_router_fails_when_s3_key_prefix_is_a_pattern() -> None:
    """The S3 grant is on <prefix>*: a prefix with a wildcard or a leading '/' would not be what it says."""

    def build(task: Task, stack: Stack) -> None:
        bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "shop-logs")
        _router(LogRouterProps(destination="s3", bucket=bucket, key_prefix="/logs/*"))(task, stack)

    assert "key_prefix: '/logs/*' is not a plain key prefix" in _refused(build)


def test_log_router_fails_when_s3_file_size_is_over_put_object_limit() -> None:
    """PutObject uploads are at most 50 MiB in Fluent Bit."""

    def build(task: Task, stack: Stack) -> None:
        bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "shop-logs")
        _router(LogRouterProps(destination="s3", bucket=bucket, total_file_size_mib=51))(task, stack)

    assert "total_file_size_mib: 51 is out of range; allowed: 1..50" in _refused(build)


def test_log_router_fails_when_added_twice() -> None:
    """A task has one FireLens router."""

    def build(task: Task, stack: Stack) -> None:
        props = LogRouterProps(destination="cloudwatch", log_group=task.log_group)
        _router(props)(task, stack)
        _router(props)(task, stack)

    assert "one log router per task" in _refused(build)


def test_otel_collector_fails_when_config_is_not_the_xray_one() -> None:
    """The default config also exports EMF metrics to CloudWatch Logs, which the task role is not granted."""

    def build(task: Task, stack: Stack) -> None:
        props = TracingProps(config="/etc/ecs/ecs-default-config.yaml")
        add_otel_collector(task.task_definition, props=props, log_driver=task.awslogs, task_role=task.task_role)

    assert "config: '/etc/ecs/ecs-default-config.yaml' is not supported; allowed: /etc/ecs/ecs-xray.yaml" in _refused(build)


def test_otel_collector_fails_when_the_task_does_not_share_localhost() -> None:
    """In bridge mode the app could not reach the collector on localhost."""
    app = new_app()
    stack = new_stack(app)
    task_definition = ecs.Ec2TaskDefinition(stack, "Bridge", network_mode=ecs.NetworkMode.BRIDGE)
    with pytest.raises(ConstructError, match="network mode BRIDGE does not share localhost"):
        add_otel_collector(
            task_definition,
            props=TracingProps(),
            log_driver=ecs.LogDriver.aws_logs(stream_prefix="ecs"),
            task_role=TaskRole(stack, "TaskRole"),
        )
