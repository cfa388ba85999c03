"""FargateTask: a task definition with its roles, containers and log group, for Fargate by default.

WebService, QueueWorker and BatchJob build on it, so every task gets the same guarantees: its
own execution and task role (BP-1), ``awslogs`` to a KMS-encrypted log group with
retention (BP-3, OBS-1), and a size check against the 64 KiB limit (LIM-1). ``compute`` runs the
same task on EC2 instances of Auto Scaling group capacity providers, or on ECS Managed Instances
(ARCH-2), always in ``awsvpc`` mode: each task keeps its own network interface and security group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import jsii
from aws_cdk import CfnDeletionPolicy, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IValidation

from ecs_platform.constructs.acknowledge import acknowledge
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.execution_role import ExecutionRole
from ecs_platform.constructs.scoped_role import EcsTaskRoleProps
from ecs_platform.constructs.sidecars import (
    TRACING_APP_ENVIRONMENT,
    LogRouterProps,
    TracingProps,
    add_log_router_container,
    add_otel_collector,
    firelens_log_driver,
)
from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.limits import (
    check_container_count,
    check_container_dependencies,
    check_fargate_size,
    check_stop_timeout,
    check_task_definition_size,
    task_definition_bytes,
)

#: awslogs stream prefix: streams are named ecs/<container>/<task id> (CLI-5).
LOG_STREAM_PREFIX = "ecs"


class Compute(Enum):
    """Where a workload's tasks run (ARCH-2): one kind per workload, as a capacity provider strategy cannot mix
    Fargate with Auto Scaling group providers."""

    FARGATE = "FARGATE"
    """Fargate and Fargate Spot: no instances to run."""
    EC2 = "EC2"
    """Instances of Auto Scaling group capacity providers (GPUs, large or steady workloads, cost)."""
    MANAGED_INSTANCES = "MANAGED_INSTANCES"
    """ECS Managed Instances: EC2 instances that AWS provisions, patches and replaces."""


#: Services on EC2 spread over AZs, then over instances (HA-3).
SPREAD = (ecs.PlacementStrategy.spread_across(ecs.BuiltInAttributes.AVAILABILITY_ZONE), ecs.PlacementStrategy.spread_across_instances())


@dataclass(frozen=True, kw_only=True)
class ContainerProps:
    name: str
    """Container name, unique in the task."""
    image: ecs.ContainerImage
    """The image (``ecs.ContainerImage.from_registry("nginx:1.27")``, ``from_ecr_repository(...)``)."""
    port: int | None = None
    """Container port. Default: none."""
    protocol: ecs.Protocol = ecs.Protocol.TCP
    """Port protocol. Default: TCP."""
    app_protocol: ecs.AppProtocol | None = None
    """Application protocol of the port (http, http2, grpc): Service Connect then reports per-protocol
    metrics. Default: none (TCP)."""
    essential: bool = True
    """Stop the task when this container stops. Default: true."""
    command: Sequence[str] | None = None
    """Overrides the image's CMD. Default: the image's."""
    cpu: int | None = None
    """CPU units reserved. Default: none."""
    memory_limit_mib: int | None = None
    """Hard memory limit. Default: none (the task's memory)."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Plain environment variables. Default: none."""
    secrets: Mapping[str, ecs.Secret] = field(default_factory=dict)
    """Variables injected from Secrets Manager / SSM Parameter Store (SEC-4/5). Default: none."""
    readonly_root_filesystem: bool = True
    """Mount the root filesystem read-only. Default: true."""
    writable_paths: Sequence[str] = ("/tmp",)  # noqa: S108 - a path inside the container, on its own volume
    """Scratch volumes (task ephemeral storage) mounted writable at these paths. Default: /tmp."""
    user: str | None = None
    """Run as this user (uid[:gid] or name). Default: the image's user."""
    health_check: ecs.HealthCheck | None = None
    """Container health check (BP-2). Default: none (the image's HEALTHCHECK is not used by ECS)."""
    gpu_count: int = 0
    """GPUs reserved for the container (EC2 or Managed Instances with GPU instance types). Default: none."""
    entry_point: Sequence[str] | None = None
    """Overrides the image's ENTRYPOINT. Default: the image's."""
    working_directory: str | None = None
    """Directory the command runs in. Default: the image's WORKDIR."""
    depends_on: Mapping[str, ecs.ContainerDependencyCondition] = field(default_factory=dict)
    """Containers of the task this one waits for, with the condition (START, COMPLETE, SUCCESS, HEALTHY);
    cycles, unknown containers, HEALTHY of a container without a health check and COMPLETE/SUCCESS of an
    essential one are refused. Default: none."""
    stop_timeout: Duration | None = None
    """Time between SIGTERM and SIGKILL; at most 120 s on Fargate. Default: ECS's 30 s."""
    init_process: bool = False
    """Run an init process as PID 1 (reaps zombies, forwards signals). Default: false."""
    ulimits: Sequence[ecs.Ulimit] = ()
    """Resource limits (Fargate honours ``nofile``). Default: none."""
    drop_capabilities: Sequence[ecs.Capability] = ()
    """Linux capabilities removed. Default: none."""
    docker_labels: Mapping[str, str] = field(default_factory=dict)
    """Docker labels. Default: none."""


@dataclass(frozen=True, kw_only=True)
class FargateTaskProps:
    containers: Sequence[ContainerProps]
    """1 to 10 containers (LIM-2)."""
    encryption_key: kms.IKey
    """KMS key of the log group (SEC-3)."""
    family: str | None = None
    """Task definition family. Default: generated."""
    log_group_name: str | None = None
    """Name of the task's log group, e.g. ``/ecs/<app>/<env>/<workload>`` (OBS-1). Default: a name
    CloudFormation generates, which never collides with another group's (a fixed name does when
    a workload is renamed, or re-added while its retained group remains)."""
    cpu: int = 256
    """Task CPU units. Default: 256."""
    memory_limit_mib: int = 512
    """Task memory. Default: 512."""
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Log retention. Default: one year."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack does to the log group. Default: DESTROY. A change that replaces the group (a
    new name) keeps the old one, whatever this says: its logs expire by their own retention."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Boundary for both roles. Default: none."""
    cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64
    """Default: X86_64."""
    ephemeral_storage_gib: int | None = None
    """Task ephemeral storage, 21 to 200 GiB (Fargate only). Default: Fargate's 20 GiB."""
    compute: Compute = Compute.FARGATE
    """Where the tasks run: Fargate, EC2 capacity providers or Managed Instances (ARCH-2). Default: Fargate."""
    placement_strategies: Sequence[ecs.PlacementStrategy] = ()
    """EC2: how tasks are placed on instances. Default: spread over AZs, then instances (HA-3)."""
    placement_constraints: Sequence[ecs.PlacementConstraint] = ()
    """EC2: which instances may hold the tasks (``memberOf`` expressions: instance type, attributes). Default: any."""
    log_router: LogRouterProps | None = None
    """Route the containers' logs through a FireLens (Fluent Bit) sidecar; a cloudwatch destination without a log group
    writes to the task's own. Default: none (awslogs to the task's log group)."""
    tracing: TracingProps | None = None
    """An AWS Distro for OpenTelemetry collector sidecar sending traces to X-Ray; the containers get the OTLP endpoint
    in their environment. Default: none."""


@dataclass(frozen=True, kw_only=True)
class DeploymentProps:
    """How a new revision replaces the running one (ECS's native strategies). Every field has the default shown."""

    strategy: ecs.DeploymentStrategy = ecs.DeploymentStrategy.ROLLING
    """ROLLING replaces tasks in place; BLUE_GREEN, LINEAR and CANARY start the new revision beside the
    old one and move traffic to it (a load balancer's alternate target group, or Service Connect)."""
    bake_time: Duration | None = None
    """BLUE_GREEN/LINEAR/CANARY: both revisions keep running this long after all traffic moved. Default: ECS's."""
    step_percent: float | None = None
    """LINEAR: share moved per step (3-100); CANARY: first share (0.1-100). Default: ECS's (10 / 5)."""
    step_bake_time: Duration | None = None
    """LINEAR/CANARY: wait between traffic steps. Default: ECS's (6 / 10 minutes)."""
    min_healthy_percent: int = 100
    """ROLLING: running tasks kept healthy during a deployment."""
    max_healthy_percent: int = 200
    """ROLLING: running tasks allowed during a deployment."""

    @property
    def shifts_traffic(self) -> bool:
        """Whether ECS moves traffic between two revisions (anything but ROLLING)."""
        return self.strategy != ecs.DeploymentStrategy.ROLLING

    def traffic_shift(self) -> dict[str, Any]:
        """The FargateService keyword arguments of this deployment."""
        step = ecs.TrafficShiftConfig(step_percent=self.step_percent, step_bake_time=self.step_bake_time)
        return {
            "deployment_strategy": self.strategy,
            "min_healthy_percent": self.min_healthy_percent,
            "max_healthy_percent": self.max_healthy_percent,
            "bake_time": self.bake_time,
            "linear_configuration": step if self.strategy == ecs.DeploymentStrategy.LINEAR else None,
            "canary_configuration": step if self.strategy == ecs.DeploymentStrategy.CANARY else None,
        }


@dataclass(frozen=True, kw_only=True)
class WorkloadProps(FargateTaskProps):
    """What every workload (service, job, worker) takes: its task, where it runs, its network."""

    cluster: ecs.ICluster
    """The cluster to run in."""
    vpc_subnets: ec2.SubnetSelection
    """Private subnets of the tasks, in at least two AZs (HA-2, SEC-1)."""
    security_group: ec2.ISecurityGroup | None = None
    """Security group of the tasks. Default: a new group of the workload's kind (SEC-2)."""
    messaging_key: kms.IKey | None = None
    """Key of the workload's own queues and topics (SEC-3): a key for messages apart from the one for
    logs. Default: ``encryption_key``."""

    @property
    def message_key(self) -> kms.IKey:
        """The key of the workload's queues and topics: ``messaging_key``, else ``encryption_key``."""
        return self.messaging_key or self.encryption_key


def private_service(
    scope: Construct,
    construct_id: str,
    *,
    props: WorkloadProps,
    task_definition: ecs.TaskDefinition,
    security_groups: Sequence[ec2.ISecurityGroup],
    service_name: str | None,
    desired_count: int,
    health_check_grace_period: Duration | None = None,
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy] = (),
    deployment: DeploymentProps | None = None,
) -> ecs.BaseService:
    """A service as every workload runs it: private subnets without public IPs, a circuit breaker
    that rolls back (ARCH-8), rolling updates that keep 100 % healthy unless ``deployment`` says
    otherwise, AZ rebalancing (HA-3), managed and propagated tags, and the service name as its Name tag
    (CLI-6). On EC2, tasks spread over AZs and then instances unless ``placement_strategies`` say otherwise."""
    common: dict[str, Any] = {
        "cluster": props.cluster,
        "task_definition": task_definition,
        "service_name": service_name,
        "desired_count": desired_count,
        "vpc_subnets": props.vpc_subnets,
        "security_groups": list(security_groups),
        "circuit_breaker": ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        "health_check_grace_period": health_check_grace_period,
        "capacity_provider_strategies": list(capacity_provider_strategies) or None,
        **(deployment or DeploymentProps()).traffic_shift(),
        "availability_zone_rebalancing": ecs.AvailabilityZoneRebalancing.ENABLED,
        "enable_ecs_managed_tags": True,
        "propagate_tags": ecs.PropagatedTagSource.SERVICE,
    }
    service: ecs.BaseService
    if props.compute is Compute.EC2:
        service = ecs.Ec2Service(
            scope,
            construct_id,
            placement_strategies=list(props.placement_strategies or SPREAD),
            placement_constraints=list(props.placement_constraints) or None,
            **common,
        )
    else:
        service = ecs.FargateService(scope, construct_id, assign_public_ip=False, **common)
    if service_name:
        Tags.of(service).add("Name", service_name)
    if capacity_provider_strategies:
        # CloudFormation may otherwise create the service before the cluster's capacity providers are
        # associated, and ECS refuses a strategy naming a provider the cluster does not have yet. The
        # association is made by an aspect at synthesis: depend on the whole cluster construct.
        service.node.add_dependency(props.cluster)
    return service


class FargateTask(Construct):
    """Task definition, execution role, task role, log group and containers of one workload."""

    def __init__(self, scope: Construct, construct_id: str, *, props: FargateTaskProps) -> None:
        super().__init__(scope, construct_id)
        sidecars = (props.log_router is not None) + (props.tracing is not None)
        refuse(self, "containers", check_container_count(len(props.containers) + sidecars))
        fargate = props.compute is Compute.FARGATE
        if fargate:
            refuse(self, "memory_limit_mib", check_fargate_size(props.cpu, props.memory_limit_mib), props.cpu, props.memory_limit_mib)
        gpus = [c.name for c in props.containers if c.gpu_count]
        if gpus and fargate:
            raise ConstructError(
                self, f"containers {', '.join(gpus)} reserve GPUs on Fargate; allowed: GPUs with compute EC2 (GPU instances)"
            )
        for c in props.containers:
            if c.stop_timeout is not None:
                refuse(self, f"containers[{c.name}].stop_timeout", check_stop_timeout(int(c.stop_timeout.to_seconds()), fargate))
        refuse(
            self,
            "containers.depends_on",
            check_container_dependencies(
                {c.name: {other: condition.value for other, condition in c.depends_on.items()} for c in props.containers},
                {c.name: c.essential for c in props.containers},
                [c.name for c in props.containers if c.health_check is not None],
            ),
        )
        roles = EcsTaskRoleProps(permissions_boundary=props.permissions_boundary)
        self.execution_role = ExecutionRole(self, "ExecutionRole", props=roles)
        self.task_role = TaskRole(self, "TaskRole", props=roles)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=props.log_group_name,
            encryption_key=props.encryption_key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        platform = ecs.RuntimePlatform(cpu_architecture=props.cpu_architecture, operating_system_family=ecs.OperatingSystemFamily.LINUX)
        self.task_definition: ecs.TaskDefinition
        if fargate:
            self.task_definition = ecs.FargateTaskDefinition(
                self,
                "TaskDefinition",
                family=props.family,
                cpu=props.cpu,
                memory_limit_mib=props.memory_limit_mib,
                execution_role=self.execution_role,
                task_role=self.task_role,
                ephemeral_storage_gib=props.ephemeral_storage_gib,
                runtime_platform=platform,
            )
        else:
            self.task_definition = ecs.TaskDefinition(
                self,
                "TaskDefinition",
                family=props.family,
                compatibility=ecs.Compatibility.EC2 if props.compute is Compute.EC2 else ecs.Compatibility.MANAGED_INSTANCES,
                network_mode=ecs.NetworkMode.AWS_VPC,
                cpu=str(props.cpu),
                memory_mib=str(props.memory_limit_mib),
                execution_role=self.execution_role,
                task_role=self.task_role,
                # On EC2 the instances' architecture decides (a task definition for EC2 may not name one).
                runtime_platform=platform if props.compute is Compute.MANAGED_INSTANCES else None,
            )
        if props.family:
            Tags.of(self.task_definition).add("Name", props.family)
        awslogs = ecs.LogDriver.aws_logs(stream_prefix=LOG_STREAM_PREFIX, log_group=self.log_group)
        self._log_driver = awslogs
        if props.log_router is not None:
            router = props.log_router
            if router.destination == "cloudwatch" and router.log_group is None:
                router = replace(router, log_group=self.log_group)
            self._log_driver = firelens_log_driver(self.task_definition, props=router, task_role=self.task_role)
        containers = list(props.containers)
        if props.tracing is not None:
            containers = [replace(c, environment={**TRACING_APP_ENVIRONMENT, **c.environment}) for c in containers]
        # The workload's own containers first: ContainerDefinitions.0 is its first container, as the spec's overrides
        # and Copilot's taskdef_overrides expect; the sidecars follow.
        self.containers = [self._add_container(c) for c in containers]
        if props.log_router is not None:
            add_log_router_container(self.task_definition, props=router, log_driver_for_router=awslogs)
        if props.tracing is not None:
            add_otel_collector(self.task_definition, props=props.tracing, log_driver=awslogs, task_role=self.task_role)
        self._dependencies(props)
        if props.tracing is not None or any(c.environment for c in props.containers):
            acknowledge(
                self.task_definition,
                "AwsSolutions-ECS2",
                "Plain environment values are non-secret settings; credentials go through container secrets "
                "(SEC-4/5) and the spec refuses secret-looking variable names.",
            )
        self.node.add_validation(_TaskDefinitionSize(self.task_definition))

    def _add_container(self, c: ContainerProps) -> ecs.ContainerDefinition:
        container = self.task_definition.add_container(
            c.name,
            container_name=c.name,
            image=c.image,
            essential=c.essential,
            command=list(c.command) if c.command is not None else None,
            cpu=c.cpu,
            memory_limit_mib=c.memory_limit_mib,
            environment=dict(c.environment) or None,
            secrets=dict(c.secrets) or None,
            # Named after the container: Service Connect refers to a port by its mapping's name.
            port_mappings=[ecs.PortMapping(container_port=c.port, protocol=c.protocol, name=c.name, app_protocol=c.app_protocol)]
            if c.port
            else None,
            logging=self._log_driver,
            readonly_root_filesystem=c.readonly_root_filesystem,
            user=c.user,
            health_check=c.health_check,
            gpu_count=c.gpu_count or None,
            entry_point=list(c.entry_point) if c.entry_point is not None else None,
            working_directory=c.working_directory,
            stop_timeout=c.stop_timeout,
            docker_labels=dict(c.docker_labels) or None,
            linux_parameters=self._linux_parameters(c),
        )
        if c.ulimits:
            container.add_ulimits(*c.ulimits)
        for i, path in enumerate(c.writable_paths):
            volume = f"{c.name}-scratch-{i}"
            self.task_definition.add_volume(name=volume)
            container.add_mount_points(ecs.MountPoint(container_path=path, source_volume=volume, read_only=False))
        return container

    def _dependencies(self, props: FargateTaskProps) -> None:
        """Each container's ``depends_on``, once every container exists."""
        for c, container in zip(props.containers, self.containers, strict=True):
            for other, condition in c.depends_on.items():
                container.add_container_dependencies(ecs.ContainerDependency(container=self.container(other), condition=condition))

    def container(self, name: str) -> ecs.ContainerDefinition:
        """The container called ``name``."""
        found = self.task_definition.find_container(name)
        if found is None:
            raise ConstructError(self, f"no container {name!r}; allowed: {', '.join(c.container_name for c in self.containers)}")
        return found

    def _linux_parameters(self, c: ContainerProps) -> ecs.LinuxParameters | None:
        if not (c.init_process or c.drop_capabilities):
            return None
        parameters = ecs.LinuxParameters(self, f"{c.name}-LinuxParameters", init_process_enabled=c.init_process or None)
        if c.drop_capabilities:
            parameters.drop_capabilities(*c.drop_capabilities)
        return parameters


class TaskAccessors:
    """What a workload construct built on a :class:`FargateTask` exposes of it."""

    task: FargateTask

    @property
    def task_definition(self) -> ecs.TaskDefinition:
        return self.task.task_definition

    @property
    def log_group(self) -> logs.ILogGroup:
        return self.task.log_group

    @property
    def task_role(self) -> TaskRole:
        """The workload's own task role, with typed ``grant_*`` methods (IAM-5)."""
        return self.task.task_role

    @property
    def execution_role(self) -> ExecutionRole:
        """The role ECS pulls the images and reads the secrets with (IAM-1..4)."""
        return self.task.execution_role


@jsii.implements(IValidation)
class _TaskDefinitionSize:
    """LIM-1: the rendered task definition must not exceed 64 KiB."""

    def __init__(self, task_definition: ecs.TaskDefinition) -> None:
        self._task_definition = task_definition

    def validate(self) -> list[str]:
        cfn = self._task_definition.node.default_child
        assert isinstance(cfn, ecs.CfnTaskDefinition)
        stack = Stack.of(cfn)
        document = {
            "family": cfn.family,
            "containerDefinitions": stack.resolve(cfn.container_definitions),
            "volumes": stack.resolve(cfn.volumes),
            "cpu": cfn.cpu,
            "memory": cfn.memory,
        }
        message = check_task_definition_size(str(cfn.family or self._task_definition.node.path), task_definition_bytes(document))
        return [message] if message else []
