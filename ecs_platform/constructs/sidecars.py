"""Sidecars: log routing through FireLens and tracing through an AWS Distro for OpenTelemetry collector (issue 15).

Both are opt-in and are functions on an existing task definition, not constructs of their own: the
workload (:class:`~ecs_platform.constructs.fargate_task.FargateTask`) owns its task definition and roles,
and a sidecar only adds a container to it and grants its own task role exactly what the sidecar calls (IAM-5).

- :func:`add_log_router` adds the ``log_router`` container (AWS for Fluent Bit, FireLens type ``fluentbit``)
  and returns the ``awsfirelens`` log driver the application containers use instead of ``awslogs``. The
  output plugins run inside the task with the task role, so the task role (not the execution role) gets the
  destination's write actions: CloudWatch Logs ``CreateLogStream``/``PutLogEvents`` on one log group, S3
  ``PutObject`` under one key prefix (and the bucket's key through S3), or Firehose ``PutRecord(Batch)`` on
  one delivery stream.
- :func:`add_otel_collector` adds the ``aws-otel-collector`` container with the collector's X-Ray-only
  pipeline (OTLP in, X-Ray out) and grants ``xray:PutTraceSegments``/``PutTelemetryRecords`` (on ``*``:
  X-Ray has no resource-level permission). :data:`TRACING_APP_ENVIRONMENT` is what the application
  containers set to send their spans to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from aws_cdk import Arn, ArnFormat, Duration, Stack, Token
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.errors import ConstructError, unresolved
from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.integrations import check_resource

#: AWS for Fluent Bit 3.x (Fluent Bit 4, Amazon Linux 2023), pinned: ``stable`` moves under a deployed task definition.
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.4.15"
#: AWS Distro for OpenTelemetry collector, pinned.
OTEL_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"

#: Container names: FireLens and the collector's documentation use these, and the health of each is reported under it.
LOG_ROUTER_NAME = "log_router"
OTEL_COLLECTOR_NAME = "aws-otel-collector"

Destination = Literal["cloudwatch", "s3", "firehose"]
DESTINATIONS: tuple[str, ...] = get_args(Destination)

#: The only path Fluent Bit writes to (the S3 output's buffer, ``store_dir``); everything else is read-only.
ROUTER_SCRATCH_PATH = "/tmp"  # noqa: S108 - a path inside the container, on its own task volume
S3_STORE_DIR = "/tmp/fluent-bit/s3"  # noqa: S108 - as above
#: With ``use_put_object`` an S3 object is at most 50 MiB (Fluent Bit's limit for PutObject uploads).
S3_MAX_FILE_MIB = 50

#: The collector configurations the image ships (``/etc/ecs/...``) that this module supports, with why.
#: ``ecs-default-config.yaml`` is left out: it also exports EMF metrics to ``/aws/ecs/application/metrics``
#: (logs:CreateLogGroup and more on a group the platform does not own) and listens for StatsD.
COLLECTOR_CONFIGS: Mapping[str, str] = {
    "/etc/ecs/ecs-xray.yaml": "OTLP (gRPC 4317, HTTP 4318) traces to X-Ray; health_check extension on 13133",
}
XRAY_CONFIG = "/etc/ecs/ecs-xray.yaml"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
#: The image's own non-root user (``aoc``): set explicitly so a replaced image cannot silently run as root.
OTEL_COLLECTOR_USER = "4317"

#: What an application container sets to send its spans to the collector of its task (same network namespace
#: in ``awsvpc`` mode: ``localhost``). OTLP over HTTP is the OpenTelemetry SDKs' default protocol; metrics and
#: logs are off because the X-Ray pipeline accepts traces only (an SDK exporting them would log errors).
TRACING_APP_ENVIRONMENT: Mapping[str, str] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://localhost:{OTLP_HTTP_PORT}",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}

#: ECS refuses a container memory reservation below 6 MiB.
MIN_MEMORY_RESERVATION_MIB = 6

_LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
_S3_ACTIONS = ("s3:PutObject",)


def _fluent_bit_image() -> ecs.ContainerImage:
    return ecs.ContainerImage.from_registry(FLUENT_BIT_IMAGE)


def _otel_collector_image() -> ecs.ContainerImage:
    return ecs.ContainerImage.from_registry(OTEL_COLLECTOR_IMAGE)


@dataclass(frozen=True, kw_only=True)
class LogRouterProps:
    """Where the FireLens log router sends the application containers' logs: exactly one destination, with its target."""

    destination: Destination
    """``cloudwatch`` (``log_group``), ``s3`` (``bucket``) or ``firehose`` (``delivery_stream``)."""
    log_group: logs.ILogGroup | None = None
    """cloudwatch: the log group, which must exist (the router does not create groups). Default: none."""
    log_stream_prefix: str = "firelens/"
    """cloudwatch: streams are named ``<prefix><container>-firelens-<task id>``. Default: ``firelens/``."""
    bucket: s3.IBucket | None = None
    """s3: the bucket; the router writes to the bucket's region. Default: none."""
    key_prefix: str = ""
    """s3: objects are written under ``<key_prefix><container>-firelens-<task id>/YYYY/MM/DD/``, and only there
    (``s3:PutObject`` on ``<key_prefix>*``). Default: none (the whole bucket)."""
    bucket_key: kms.IKey | None = None
    """s3: the customer-managed key the bucket encrypts with by default: the task role may use it through S3
    (``kms:GenerateDataKey``, ``kms:Decrypt`` with ``kms:ViaService``). Default: none (SSE-S3)."""
    total_file_size_mib: int = 10
    """s3: an object is uploaded when it reaches this size, 1 to 50 MiB. Default: 10."""
    upload_timeout: Duration = Duration.minutes(1)
    """s3: ... or when this long has passed since its first record. Default: 1 minute."""
    delivery_stream: str | None = None
    """firehose: the delivery stream's name (this account and region) or ARN (a token is taken as an ARN). Default: none."""
    image: ecs.ContainerImage = field(default_factory=_fluent_bit_image)
    """The router's image. Default: AWS for Fluent Bit, pinned (:data:`FLUENT_BIT_IMAGE`)."""
    memory_reservation_mib: int = 50
    """Memory reserved for the router (a soft limit). Default: 50 MiB, as FireLens's documentation advises."""


@dataclass(frozen=True, kw_only=True)
class TracingProps:
    """The AWS Distro for OpenTelemetry collector of a task, sending the application's traces to X-Ray."""

    image: ecs.ContainerImage = field(default_factory=_otel_collector_image)
    """The collector's image. Default: the ADOT collector, pinned (:data:`OTEL_COLLECTOR_IMAGE`)."""
    config: str = XRAY_CONFIG
    """A configuration the image ships, by path (:data:`COLLECTOR_CONFIGS`). Default: the X-Ray-only pipeline."""
    memory_reservation_mib: int = 64
    """Memory reserved for the collector (a soft limit). Default: 64 MiB."""
    cpu: int | None = None
    """CPU units reserved for the collector. Default: none (it shares the task's CPU)."""


def add_log_router(
    task_definition: ecs.TaskDefinition, *, props: LogRouterProps, log_driver_for_router: ecs.LogDriver, task_role: TaskRole
) -> ecs.LogDriver:
    """Add the FireLens ``log_router`` container to ``task_definition`` and return the log driver the application
    containers must use to send their logs to ``props.destination`` (:func:`firelens_log_driver`, then
    :func:`add_log_router_container`; a task that wants its own containers first calls the two in turn)."""
    driver = firelens_log_driver(task_definition, props=props, task_role=task_role)
    add_log_router_container(task_definition, props=props, log_driver_for_router=log_driver_for_router)
    return driver


def firelens_log_driver(task_definition: ecs.TaskDefinition, *, props: LogRouterProps, task_role: TaskRole) -> ecs.LogDriver:
    """The log driver that sends a container's logs through the task's FireLens router to ``props.destination``;
    ``task_role`` gets exactly the destination's write actions (IAM-5). The task needs the router
    (:func:`add_log_router_container`) before it is synthesized."""
    _check_router(task_definition, props)
    if props.destination == "cloudwatch":
        options = _to_cloudwatch(props, task_role)
    elif props.destination == "s3":
        options = _to_s3(props, task_role)
    else:
        options = _to_firehose(task_definition, props, task_role)
    return ecs.LogDrivers.firelens(options=options)


def add_log_router_container(
    task_definition: ecs.TaskDefinition, *, props: LogRouterProps, log_driver_for_router: ecs.LogDriver
) -> ecs.ContainerDefinition:
    """The FireLens ``log_router`` container. It logs itself through ``log_driver_for_router`` (the task's
    ``awslogs`` group), so a broken destination stays visible. It is essential: without it the application's logs
    go nowhere. It runs as root, which FireLens requires (the ECS agent hands it a Unix socket in a root-owned
    directory), on a read-only root filesystem with ``/tmp`` on a task volume."""
    router = task_definition.add_firelens_log_router(
        LOG_ROUTER_NAME,
        container_name=LOG_ROUTER_NAME,
        image=props.image,
        essential=True,
        firelens_config=ecs.FirelensConfig(type=ecs.FirelensLogRouterType.FLUENTBIT),
        memory_reservation_mib=props.memory_reservation_mib,
        logging=log_driver_for_router,
        readonly_root_filesystem=True,
    )
    volume = f"{LOG_ROUTER_NAME}-scratch"
    task_definition.add_volume(name=volume)
    router.add_mount_points(ecs.MountPoint(container_path=ROUTER_SCRATCH_PATH, source_volume=volume, read_only=False))
    return router


def add_otel_collector(
    task_definition: ecs.TaskDefinition, *, props: TracingProps, log_driver: ecs.LogDriver, task_role: TaskRole
) -> ecs.ContainerDefinition:
    """Add the ``aws-otel-collector`` container to ``task_definition``, and grant ``task_role`` X-Ray's
    ``PutTraceSegments`` and ``PutTelemetryRecords`` (IAM-5).

    The application containers send spans to it on ``localhost`` (set :data:`TRACING_APP_ENVIRONMENT` on
    them): in ``awsvpc`` mode the containers of a task share one network namespace, so the collector needs no
    port mapping, and none is added (a mapping would only matter for traffic from outside the task). It is not
    essential: a failing collector loses spans, not the task. It runs as its image's non-root user on a
    read-only root filesystem, with the image's ``/healthcheck`` probe of the health_check extension.
    The X-Ray-only configuration does no remote sampling (no ``awsproxy`` extension, no X-Ray receiver), so
    ``xray:GetSamplingRules``/``GetSamplingTargets`` are not granted: the SDKs sample locally.
    """
    _check_collector(task_definition, props)
    container = task_definition.add_container(
        OTEL_COLLECTOR_NAME,
        container_name=OTEL_COLLECTOR_NAME,
        image=props.image,
        essential=False,
        command=[f"--config={props.config}"],
        memory_reservation_mib=props.memory_reservation_mib,
        cpu=props.cpu,
        logging=log_driver,
        readonly_root_filesystem=True,
        user=OTEL_COLLECTOR_USER,
        # The image is FROM scratch (no shell): the probe runs directly.
        health_check=ecs.HealthCheck(
            command=["CMD", "/healthcheck"],
            interval=Duration.seconds(30),
            timeout=Duration.seconds(5),
            retries=3,
            start_period=Duration.seconds(10),
        ),
    )
    task_role.grant_xray()
    return container


# --- destinations ---------------------------------------------------------------------------------


def _to_cloudwatch(props: LogRouterProps, task_role: TaskRole) -> dict[str, str]:
    group = props.log_group
    assert group is not None  # _check_router
    # The cloudwatch_logs output calls CreateLogStream and PutLogEvents only (no DescribeLogStreams since
    # sequence tokens went away); CreateLogGroup/PutRetentionPolicy only with auto_create_group, which is off.
    task_role.add_to_principal_policy(iam.PolicyStatement(actions=list(_LOG_ACTIONS), resources=[group.log_group_arn]))
    arn_text = nag_text(task_role, group.log_group_arn)
    if "*" in arn_text:
        # An imported group's ARN ends in ':*' (its streams); a group of the stack renders as a token.
        acknowledge(
            task_role.scoped_policy or task_role,
            f"AwsSolutions-IAM5[Resource::{arn_text}]",
            "The log router creates and writes the streams of this one log group; stream names come from the task IDs.",
        )
    return {
        "Name": "cloudwatch_logs",
        "region": group.env.region,
        "log_group_name": group.log_group_name,
        "log_stream_prefix": props.log_stream_prefix,
        "auto_create_group": "false",
    }


def _to_s3(props: LogRouterProps, task_role: TaskRole) -> dict[str, str]:
    bucket = props.bucket
    assert bucket is not None  # _check_router
    objects = bucket.arn_for_objects(f"{props.key_prefix}*")
    # use_put_object: one PutObject per file, no multipart upload (which would add AbortMultipartUpload).
    task_role.add_to_principal_policy(iam.PolicyStatement(actions=list(_S3_ACTIONS), resources=[objects]))
    acknowledge(
        task_role.scoped_policy or task_role,
        f"AwsSolutions-IAM5[Resource::{nag_text(task_role, objects)}]",
        "Log objects are named by the router when written (task, date, UUID): the grant covers the keys under the "
        "configured bucket and prefix only.",
    )
    if props.bucket_key is not None:
        task_role.grant_kms(props.bucket_key, via_service="s3", write=True)
    return {
        "Name": "s3",
        "region": bucket.env.region,
        "bucket": bucket.bucket_name,
        "total_file_size": f"{props.total_file_size_mib}M",
        "upload_timeout": f"{int(props.upload_timeout.to_seconds())}s",
        "use_put_object": "On",
        # The leading '/' is the request path's: the object key starts with key_prefix.
        "s3_key_format": f"/{props.key_prefix}$TAG/%Y/%m/%d/%H%M%S-$UUID.log",
        "store_dir": S3_STORE_DIR,
    }


def _to_firehose(task_definition: ecs.TaskDefinition, props: LogRouterProps, task_role: TaskRole) -> dict[str, str]:
    stream = props.delivery_stream
    assert stream is not None  # _check_router
    stack = Stack.of(task_definition)
    if Token.is_unresolved(stream) or stream.startswith("arn:"):
        arn = stream
        parts = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME)
        name, region = parts.resource_name or "", parts.region or stack.region
    else:
        name, region = stream, stack.region
        arn = stack.format_arn(service="firehose", resource="deliverystream", resource_name=name)
    # The document's Firehose grant is PutRecord and PutRecordBatch; the kinesis_firehose output calls the latter.
    task_role.grant_integration("firehose", [arn])
    return {"Name": "kinesis_firehose", "region": region, "delivery_stream": name}


# --- checks ---------------------------------------------------------------------------------------

_TARGETS: Mapping[str, tuple[str, ...]] = {
    "cloudwatch": ("log_group",),
    "s3": ("bucket", "key_prefix", "bucket_key"),
    "firehose": ("delivery_stream",),
}


def _check_router(task_definition: ecs.TaskDefinition, props: LogRouterProps) -> None:
    if props.destination not in DESTINATIONS:
        raise ConstructError(task_definition, f"destination: {props.destination!r} is unknown; allowed: {', '.join(DESTINATIONS)}")
    required = _TARGETS[props.destination][0]
    if getattr(props, required) is None:
        raise ConstructError(
            task_definition, f"{required}: none given for destination {props.destination!r}; allowed: the {required} the logs go to"
        )
    for destination, fields in _TARGETS.items():
        if destination == props.destination:
            continue
        given = [f for f in fields if getattr(props, f) not in (None, "")]
        if given:
            raise ConstructError(
                task_definition,
                f"{', '.join(given)}: given for destination {props.destination!r}; allowed: only with destination {destination!r}",
            )
    if task_definition.node.try_find_child(LOG_ROUTER_NAME) is not None:
        raise ConstructError(task_definition, f"a container named {LOG_ROUTER_NAME!r} exists already; allowed: one log router per task")
    _check_memory(task_definition, props.memory_reservation_mib)
    prefix = props.key_prefix
    if props.destination == "s3" and not unresolved(prefix) and (prefix.startswith("/") or any(c in prefix for c in "*?$")):
        raise ConstructError(
            task_definition,
            f"key_prefix: {prefix!r} is not a plain key prefix; allowed: a prefix without a leading '/', '*', '?' or '$' (e.g. logs/)",
        )
    if props.destination == "s3" and not 1 <= props.total_file_size_mib <= S3_MAX_FILE_MIB:
        raise ConstructError(
            task_definition, f"total_file_size_mib: {props.total_file_size_mib} is out of range; allowed: 1..{S3_MAX_FILE_MIB}"
        )
    if props.destination == "s3" and not unresolved(props.upload_timeout.to_seconds()) and props.upload_timeout.to_seconds() < 1:
        raise ConstructError(task_definition, f"upload_timeout: {props.upload_timeout} is too short; allowed: 1 second or more")
    stream = props.delivery_stream
    if props.destination == "firehose" and stream is not None and not unresolved(stream):
        region = Stack.of(task_definition).region
        problem = check_resource("delivery_stream", stream, "" if unresolved(region) else region)
        if problem:
            raise ConstructError(task_definition, f"delivery_stream: {problem}")
    if props.destination == "cloudwatch" and any(c in props.log_stream_prefix for c in ":*"):
        raise ConstructError(
            task_definition,
            f"log_stream_prefix: {props.log_stream_prefix!r} has ':' or '*'; allowed: a stream name prefix without them",
        )


def _check_collector(task_definition: ecs.TaskDefinition, props: TracingProps) -> None:
    if props.config not in COLLECTOR_CONFIGS:
        raise ConstructError(
            task_definition,
            f"config: {props.config!r} is not supported; allowed: {', '.join(COLLECTOR_CONFIGS)} (other built-in configurations "
            "export to CloudWatch as well, which the task role is not granted)",
        )
    if task_definition.network_mode != ecs.NetworkMode.AWS_VPC:
        raise ConstructError(
            task_definition,
            f"network mode {task_definition.network_mode.value} does not share localhost between containers; allowed: awsvpc "
            "(the application reaches the collector on localhost)",
        )
    if task_definition.node.try_find_child(OTEL_COLLECTOR_NAME) is not None:
        raise ConstructError(task_definition, f"a container named {OTEL_COLLECTOR_NAME!r} exists already; allowed: one collector per task")
    _check_memory(task_definition, props.memory_reservation_mib)


def _check_memory(task_definition: ecs.TaskDefinition, mib: int) -> None:
    if mib < MIN_MEMORY_RESERVATION_MIB:
        raise ConstructError(task_definition, f"memory_reservation_mib: {mib} is too small; allowed: {MIN_MEMORY_RESERVATION_MIB} or more")
