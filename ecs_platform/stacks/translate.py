"""The spec of one environment as construct props: the only module that reads both.

The stacks ask a :class:`Translation` for the props of each construct by the workload's
name; they never read the spec. Imports of existing resources (keys, secrets, images,
hosted zones) are created under the ``scope`` the stack passes in, so they live where the
construct that uses them does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs import (
    AppBucketProps,
    AppTableProps,
    AppTopicProps,
    AsgCapacityProps,
    AuroraServerlessProps,
    BatchJobProps,
    BatchSecurityGroup,
    CodeCommitSource,
    Compute,
    ConnectionSource,
    ContainerProps,
    ContainerSecret,
    DeliveryPipelineProps,
    DeliveryTarget,
    DeploymentProps,
    EgressRule,
    EncryptionKeyProps,
    ExistingVpcProps,
    GithubDeployRoleProps,
    GovernanceProps,
    HealthCheckProps,
    ImageRepositoryProps,
    InstanceRequirements,
    JobSchedule,
    LoadBalancer,
    LoadBalancerProps,
    LogRouterProps,
    ManagedInstancesCapacityProps,
    Network,
    NetworkProps,
    PullThroughCacheProps,
    QueueWorkerProps,
    RouteProps,
    ScheduledScalingProps,
    ServiceConnectProps,
    ServiceConnectTlsProps,
    ServiceScalingProps,
    SharedFileSystemProps,
    Subscribers,
    TableIndex,
    TableKey,
    TaskRole,
    TracingProps,
    WebServiceProps,
    WebTaskSecurityGroup,
    WorkloadPlatform,
    WorkloadPlatformProps,
    WorkloadSecurityGroupProps,
    ebs_volume,
    grant_guardduty_agent_pull,
    mount_efs,
)
from ecs_platform.constructs.image_repository import cached_image, grant_pull_through
from ecs_platform.integrations import INTEGRATIONS, KINDS, parse_secret_value_from
from ecs_platform.limits import LOG_RETENTION_DAYS, serving_container
from ecs_platform.spec.checks import FARGATE_PROVIDERS, compute_of, rule_priorities
from ecs_platform.spec.models import (
    AlbSpec,
    BuildImageSpec,
    CapacitySpec,
    ContainerSpec,
    GithubOidcSpec,
    Image,
    JobSpec,
    NotificationsSpec,
    RepositoryImageSpec,
    SecretRef,
    ServiceSpec,
    Spec,
    WorkerSpec,
)
from ecs_platform.spec.references import workloads
from ecs_platform.spec.storage import STORE_TYPES

#: The CDK bootstrap's qualifier (its default): the container assets repository is cdk-<qualifier>-container-assets-...
BOOTSTRAP_QUALIFIER = "hnb659fds"

_RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        list(logs.RetentionDays)[:-1],  # every member but INFINITE, in order of days
        strict=True,
    )
)

_STRATEGIES = {
    "rolling": ecs.DeploymentStrategy.ROLLING,
    "blue_green": ecs.DeploymentStrategy.BLUE_GREEN,
    "linear": ecs.DeploymentStrategy.LINEAR,
    "canary": ecs.DeploymentStrategy.CANARY,
}

_APP_PROTOCOLS: Mapping[str, ecs.AppProtocol] = {
    "http": ecs.AppProtocol.http,  # type: ignore[dict-item]  # jsii static properties
    "http2": ecs.AppProtocol.http2,  # type: ignore[dict-item]
    "grpc": ecs.AppProtocol.grpc,  # type: ignore[dict-item]
}

_PROTOCOL_VERSIONS = {"http2": elbv2.ApplicationProtocolVersion.HTTP2, "grpc": elbv2.ApplicationProtocolVersion.GRPC}

_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def _given(**values: Any) -> dict[str, Any]:
    """The values the spec sets: a field left out (None) takes the construct's default."""
    return {name: value for name, value in values.items() if value is not None}


def _seconds(value: int | None) -> Duration | None:
    return None if value is None else Duration.seconds(value)


def _minutes(value: int | None) -> Duration | None:
    return None if value is None else Duration.minutes(value)


class Translation:
    """One environment's spec, asked for construct props by workload name."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        env = spec.environment
        self.app = spec.app
        self.environment = env.name
        self.production = env.production
        self.account = env.account
        self.region = env.region
        self.availability_zones = tuple(env.availability_zones)
        self.name_prefix = f"{spec.app}-{env.name}"
        """``<app>-<env>``: stack names and the platform's physical names start with it."""
        self.permissions_boundary = spec.permissions_boundary
        """ARN of the managed policy every role of the environment gets as its permissions boundary, if any."""
        self.tags: Mapping[str, str] = dict(spec.tags)
        """Tags of every resource (besides App and Environment)."""
        self.services = [s.name for s in spec.services]
        self.service_stacks: dict[str | None, list[str]] = {}
        """The services of each stack, by the spec's ``stack`` (None: the workload stack)."""
        for service in spec.services:
            self.service_stacks.setdefault(service.stack, []).append(service.name)
        self.jobs = [j.name for j in spec.jobs]
        self.workers = [w.name for w in spec.workers]
        self.shared_load_balancers = [lb.name for lb in spec.load_balancers]
        self._services = {s.name: s for s in spec.services}
        self._jobs = {j.name: j for j in spec.jobs}
        self._workers = {w.name: w for w in spec.workers}
        self._shared = {lb.name: lb for lb in spec.load_balancers}
        self._priorities = rule_priorities(spec)
        self.removal_policy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if env.production else RemovalPolicy.DESTROY
        """Production keeps stateful resources (logs, keys, queues, topics) when they are deleted or
        replaced, but not when their first creation fails and rolls back (a retry then starts clean)."""
        self.log_retention = _RETENTION[spec.logs.retention_days]
        self.images_account = spec.images.account or env.account
        """Account of the platform's image repositories (``images.account``, default the environment's)."""
        self._store_specs = {s.name: s for s in spec.storage}
        self.stores_key: kms.IKey | None = None
        """The data key, once the workload stack has built it (when :attr:`needs_data_key`)."""
        self.stores: dict[str, Any] = {}
        """The stores of ``storage:`` once the workload stack has built them, by name (what workloads reach by name)."""
        self.topics = [t.name for t in spec.topics]
        """The topics the platform owns (``topics:``)."""
        self.subscriptions = [(t.name, s.worker) for t in spec.topics for s in t.subscribers]
        """``(topic, worker)``: the worker's queue receives the topic."""
        self.publishers = [(p, t.name) for t in spec.topics for p in t.publishers]
        """``(workload, topic)``: the workload publishes to the topic."""
        self.producers = [
            (w.name, entry.value("queue"))
            for _, w in workloads(spec)
            for entry in w.access
            if entry.type == "sqs_send" and entry.value("queue") in self._workers
        ]
        """``(workload, worker)``: the workload sends to the worker's queue (``sqs_send`` naming a worker)."""
        self.job_calls = [(j.name, service) for j in spec.jobs for service in j.calls]
        """``(job, service)``: the job calls the service through its internal load balancer."""
        self.worker_calls = [(c, s.name, self._serving_port(s)) for s in spec.services for c in s.connect.callers if c in self._workers]
        """``(worker, service, port)``: the worker calls the service's port through Service Connect."""
        self.images_region = spec.images.region or env.region

    # --- the network and what the workloads share -------------------------------------------

    def network(self) -> NetworkProps:
        network = self.spec.network
        existing = network.existing
        return NetworkProps(
            availability_zones=self.availability_zones,
            cidr=network.cidr,
            nat_gateways=self.spec.nat_gateways,
            flow_log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            existing=ExistingVpcProps(
                vpc_id=existing.vpc_id,
                cidr_block=existing.cidr,
                public_subnet_ids=existing.public_subnet_ids,
                web_subnet_ids=existing.web_subnet_ids,
                batch_subnet_ids=existing.batch_subnet_ids,
                web_route_table_ids=existing.web_route_table_ids,
                batch_route_table_ids=existing.batch_route_table_ids,
            )
            if existing
            else None,
            endpoints=network.endpoints,
            batch_nat=network.batch_nat,
        )

    @property
    def network_stack(self) -> bool:
        """The network stack has something to create: a VPC, or endpoints in an existing one."""
        return self.spec.network.existing is None or bool(self.spec.network.endpoints)

    @property
    def vpc_cidr(self) -> str:
        """The VPC's IPv4 CIDR as a literal (rules that admit the VPC; an import from the network stack would tie them)."""
        existing = self.spec.network.existing
        return existing.cidr if existing else self.spec.network.cidr

    def security_group(self, scope: Construct, name: str, network: Network) -> ec2.ISecurityGroup | None:
        """Workload ``name``'s own group when the spec states its egress rules; None: the construct's default group."""
        spec = self._workload_spec(name)
        if spec.egress is None:
            return None
        rules = [
            EgressRule(
                port=port,
                protocol=rule.protocol,
                cidrs=rule.cidrs,
                prefix_list_ids=rule.prefix_lists,
                description=rule.description or f"egress {i} of {name}",
            )
            for i, rule in enumerate(spec.egress)
            for port in rule.ports
        ]
        props = WorkloadSecurityGroupProps(vpc=network.vpc, name=name, egress=rules)
        web = isinstance(spec, ServiceSpec)
        return WebTaskSecurityGroup(scope, "SecurityGroup", props=props) if web else BatchSecurityGroup(scope, "SecurityGroup", props=props)

    def platform(self, scope: Construct, network: Network) -> WorkloadPlatformProps:
        spec = self.spec
        boundary = (
            iam.ManagedPolicy.from_managed_policy_arn(scope, "PermissionsBoundary", spec.permissions_boundary)
            if spec.permissions_boundary
            else None
        )
        return WorkloadPlatformProps(
            vpc=network.vpc,
            label=spec.app,
            name_prefix=self.name_prefix,
            cluster_name_tag=spec.cluster_name_tag,
            enable_exec=any(e.type == "ecs_exec" for s in spec.services for e in s.access),
            service_connect_namespace=spec.service_connect.namespace if spec.service_connect else None,
            service_connect_callers=list(dict.fromkeys(c for s in spec.services for c in s.connect.callers))
            if spec.service_connect
            else [],
            service_connect_tls=self._service_connect_tls(scope),
            alarm_topic=bool(spec.services or spec.workers),
            job_failure_topic=bool(spec.jobs),
            load_balancer_logs=bool(spec.services),
            load_balancer_log_retention=Duration.days(spec.logs.retention_days),
            log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            permissions_boundary=boundary,
            subscribers=self._subscribers(),
        )

    def _subscribers(self) -> Subscribers:
        return subscribers([self.spec.notifications])

    def _service_connect_tls(self, scope: Construct) -> ServiceConnectTlsProps | None:
        tls = self.spec.service_connect.tls if self.spec.service_connect else None
        if tls is None:
            return None
        return ServiceConnectTlsProps(
            certificate_authority_arn=tls.certificate_authority_arn,
            key=kms.Key.from_key_arn(scope, "ServiceConnectTlsKey", tls.kms_key) if tls.kms_key else None,
        )

    # --- EC2 capacity (ARCH-2, ARCH-3, HA-4) -------------------------------------------------------

    @property
    def capacity_providers(self) -> list[str]:
        """The EC2 capacity providers of the spec, by name, in its order."""
        return [p.name for p in self.spec.capacity_providers]

    def capacity_kind(self, name: str) -> str:
        return next(p.type for p in self.spec.capacity_providers if p.name == name)

    def asg_capacity(self, name: str, network: Network, platform: WorkloadPlatform) -> AsgCapacityProps:
        spec = next(p for p in self.spec.capacity_providers if p.name == name)
        return AsgCapacityProps(
            cluster=platform.cluster,
            name=self.capacity_provider_name(name),
            vpc_subnets=network.web_subnets if spec.subnets == "web" else network.batch_subnets,
            instance_types=[ec2.InstanceType(t) for t in spec.instance_types],
            min_capacity=spec.min_count,
            max_capacity=spec.max_count,
            on_demand_base=spec.on_demand_base,
            spot_percent=spec.spot_percent,
            machine_image=spec.image,
            root_volume_gib=spec.root_volume_gib,
            target_capacity_percent=spec.target_capacity_percent,
            key=platform.volumes_key,
            security_group=platform.instances_security_group,
            alarm_topic=platform.alarm_topic,
            permissions_boundary=platform.permissions_boundary,
        )

    def managed_instances(self, scope: Construct, name: str, network: Network, platform: WorkloadPlatform) -> ManagedInstancesCapacityProps:
        spec = next(p for p in self.spec.capacity_providers if p.name == name)
        assert spec.vcpus is not None and spec.memory_gib is not None  # checked by the model
        subnets = network.web_subnets if spec.subnets == "web" else network.batch_subnets
        return ManagedInstancesCapacityProps(
            cluster=platform.cluster,
            name=self.capacity_provider_name(name),
            subnets=network.vpc.select_subnets(subnet_group_name=subnets.subnet_group_name).subnets,
            security_group=platform.instances_security_group,
            instance_requirements=InstanceRequirements(
                vcpu_min=spec.vcpus.min,
                vcpu_max=spec.vcpus.max,
                memory_min_mib=spec.memory_gib.min * 1024,
                memory_max_mib=spec.memory_gib.max * 1024 if spec.memory_gib.max is not None else None,
            ),
            capacity_option="spot" if spec.spot else "on-demand",
            permissions_boundary=platform.permissions_boundary,
        )

    # --- load balancers -----------------------------------------------------------------------

    def shared_load_balancer(self, scope: Construct, name: str, network: Network, platform: WorkloadPlatform) -> LoadBalancerProps:
        """A load balancer of ``load_balancers:`` that several services route from."""
        return self._load_balancer(scope, name, self._shared[name], network, platform)

    def own_load_balancer(self, scope: Construct, service: str, network: Network, platform: WorkloadPlatform) -> LoadBalancerProps | None:
        """The load balancer of the service's own, if it has one (not a shared one, not internal)."""
        lb = self._services[service].load_balancer
        if lb is None or lb.shared is not None:
            return None
        return self._load_balancer(scope, service, lb, network, platform)

    def shared_load_balancer_of(self, service: str) -> str | None:
        lb = self._services[service].load_balancer
        return lb.shared if lb is not None else None

    def _load_balancer(self, scope: Construct, name: str, lb: AlbSpec, network: Network, platform: WorkloadPlatform) -> LoadBalancerProps:
        from aws_cdk import aws_certificatemanager as acm  # here, not at the top: each aws_cdk module costs start-up time
        from aws_cdk import aws_route53 as route53

        public = bool(lb.public)
        domain = lb.domain
        zone = (
            route53.HostedZone.from_hosted_zone_attributes(
                scope, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.hosted_zone_name
            )
            if domain
            else None
        )
        return LoadBalancerProps(
            vpc=network.vpc,
            internet_facing=public,
            # A literal CIDR: the VPC's own is an import from the network stack.
            internal_clients=ec2.Peer.ipv4(self.vpc_cidr),
            vpc_subnets=network.public_subnets if public else network.web_subnets,
            certificate=acm.Certificate.from_certificate_arn(scope, "Certificate", lb.certificate_arn) if lb.certificate_arn else None,
            domain_name=domain.name if domain else None,
            domain_zone=zone,
            deletion_protection=self.production,
            access_logs_bucket=platform.load_balancer_logs.access_logs if platform.load_balancer_logs else None,
            access_logs_prefix=name,
            web_acl_arn=lb.web_acl_arn,
            security_group_name=f"{name}-alb",
            test_listener_port=lb.test_listener_port,
            aliases=domain.aliases if domain else (),
            allowed_cidrs=lb.allowed_cidrs,
        )

    # --- workloads ----------------------------------------------------------------------------

    def _workload(self, scope: Construct, spec: ServiceSpec | JobSpec | WorkerSpec, platform: WorkloadPlatform) -> dict[str, Any]:
        """The props every workload construct shares (WorkloadProps)."""
        return {
            "cluster": platform.cluster,
            "containers": [self._container(scope, spec.name, c) for c in spec.containers],
            "encryption_key": platform.key,
            "messaging_key": platform.messaging_key,
            "family": spec.task_family,
            # OBS-1: predictable, and unique to the app, the environment and the workload.
            "log_group_name": f"/ecs/{self.app}/{self.environment}/{spec.name}",
            "cpu": spec.cpu,
            "memory_limit_mib": spec.memory,
            "log_retention": self.log_retention,
            "removal_policy": self.removal_policy,
            "permissions_boundary": platform.permissions_boundary,
            "cpu_architecture": ecs.CpuArchitecture.ARM64 if spec.architecture == "arm64" else ecs.CpuArchitecture.X86_64,
            "ephemeral_storage_gib": spec.ephemeral_storage_gib,
            "log_router": self._log_router(spec),
            "tracing": TracingProps() if spec.tracing == "xray" else None,
            **self._compute(spec),
        }

    def _log_router(self, spec: ServiceSpec | JobSpec | WorkerSpec) -> LogRouterProps | None:
        """FireLens to the workload's log group (cloudwatch), a bucket of storage: (s3) or a delivery stream (firehose)."""
        routing = spec.log_routing
        if routing is None:
            return None
        if routing.destination == "s3":
            assert routing.bucket is not None  # the spec requires it
            store = self.stores[routing.bucket]
            return LogRouterProps(destination="s3", bucket=store.bucket, key_prefix=routing.prefix, bucket_key=store.key)
        return LogRouterProps(destination=routing.destination, delivery_stream=routing.delivery_stream)

    def _compute(self, spec: ServiceSpec | JobSpec | WorkerSpec) -> dict[str, Any]:
        """Where the tasks run (ARCH-2) and, on EC2, how they are placed (HA-3: spread; binpack for a job that asks)."""
        compute = Compute(compute_of(self.spec, spec))
        if compute is not Compute.EC2 or spec.placement is None:
            return {"compute": compute}
        strategies = (ecs.PlacementStrategy.packed_by_memory(),) if spec.placement.strategy == "binpack" else ()
        return {
            "compute": compute,
            "placement_strategies": strategies,
            "placement_constraints": [ecs.PlacementConstraint.member_of(e) for e in spec.placement.constraints],
        }

    def capacity_provider_name(self, name: str) -> str:
        """The physical name of a capacity provider the spec names (FARGATE and FARGATE_SPOT are AWS's)."""
        return name if name in FARGATE_PROVIDERS else f"{self.name_prefix}-{name}"

    def _strategies(self, capacity: Sequence[CapacitySpec]) -> list[ecs.CapacityProviderStrategy]:
        return [
            ecs.CapacityProviderStrategy(capacity_provider=self.capacity_provider_name(c.provider), base=c.base or None, weight=c.weight)
            for c in capacity
        ]

    def web_service(
        self, scope: Construct, name: str, network: Network, platform: WorkloadPlatform, load_balancer: LoadBalancer | None
    ) -> WebServiceProps:
        spec = self._services[name]
        lb = spec.load_balancer
        hc = spec.health_check
        return WebServiceProps(
            **self._workload(scope, spec, platform),
            security_group=self.security_group(scope, name, network),
            load_balancer=load_balancer,
            route=RouteProps(paths=lb.paths, hosts=lb.hosts, priority=self._priorities[name]) if lb else RouteProps(),
            deployment=_deployment(spec),
            service_connect=self._connect(spec, platform),
            vpc_subnets=network.web_subnets,
            service_name=name,
            desired_count=spec.desired_count,
            target_container=lb.container if lb else None,
            target_group_label=lb.target_groups if lb else None,
            health_check=HealthCheckProps(
                **_given(
                    path=hc.path,
                    interval=_seconds(hc.interval_seconds),
                    timeout=_seconds(hc.timeout_seconds),
                    healthy_threshold_count=hc.healthy_threshold,
                    unhealthy_threshold_count=hc.unhealthy_threshold,
                    healthy_http_codes=hc.healthy_http_codes,
                )
            ),
            **_given(health_check_grace_period=_seconds(hc.grace_period_seconds)),
            enable_execute_command=any(e.type == "ecs_exec" for e in spec.access),
            scaling=_scaling(spec),
            capacity_provider_strategies=self._strategies(spec.capacity),
            alarm_topic=platform.alarm_topic,
            **_given(
                stickiness=_seconds(lb.stickiness_seconds) if lb else None,
                slow_start=_seconds(lb.slow_start_seconds) if lb else None,
                protocol_version=self._protocol_version(spec) if lb else None,
            ),
        )

    @staticmethod
    def _serving_port(spec: ServiceSpec) -> int:
        lb = spec.load_balancer
        serving = serving_container([(c.name, c.port) for c in spec.containers], lb.container if lb else None)
        (port,) = [c.port for c in spec.containers if c.name == serving and c.port is not None]
        return port

    def _protocol_version(self, spec: ServiceSpec) -> elbv2.ApplicationProtocolVersion | None:
        """HTTP/2 or gRPC to the targets when the serving container's port speaks it; HTTP/1.1 otherwise (the construct's)."""
        lb = spec.load_balancer
        serving = serving_container([(c.name, c.port) for c in spec.containers], lb.container if lb else None)
        protocol = next((c.app_protocol for c in spec.containers if c.name == serving), None)
        return _PROTOCOL_VERSIONS.get(protocol or "")

    def _connect(self, spec: ServiceSpec, platform: WorkloadPlatform) -> ServiceConnectProps | None:
        if platform.namespace is None:
            return None
        connect = spec.connect
        calls_others = spec.name in platform.caller_groups
        return ServiceConnectProps(
            namespace=platform.namespace,
            callers=[platform.caller_group(caller) for caller in connect.callers],
            caller_group=platform.caller_group(spec.name) if calls_others else None,
            tls=platform.service_connect_tls.configuration if platform.service_connect_tls else None,
            dns_name=connect.name or spec.name,
            per_request_timeout=_seconds(connect.per_request_timeout_seconds),
            idle_timeout=_seconds(connect.idle_timeout_seconds),
        )

    def batch_job(self, scope: Construct, name: str, network: Network, platform: WorkloadPlatform) -> BatchJobProps:
        spec = self._jobs[name]
        return BatchJobProps(
            **self._workload(scope, spec, platform),
            security_group=self.security_group(scope, name, network),
            vpc_subnets=network.batch_subnets,
            name=spec.name,
            **_given(count=spec.count, capacity_provider=self.capacity_provider_name(spec.capacity) if spec.capacity else None),
            schedule=JobSchedule(
                expression=spec.schedule,
                flexible_window=_minutes(spec.flexible_window_minutes),
                timeout=_seconds(spec.timeout_seconds),
                **_given(time_zone=spec.timezone, retries=spec.retries),
            )
            if spec.schedule
            else None,
            failure_topic=platform.job_failure_topic,
        )

    def queue_worker(self, scope: Construct, name: str, network: Network, platform: WorkloadPlatform) -> QueueWorkerProps:
        spec = self._workers[name]
        return QueueWorkerProps(
            **self._workload(scope, spec, platform),
            security_group=self.security_group(scope, name, network),
            vpc_subnets=network.batch_subnets,
            queue=sqs.Queue.from_queue_arn(scope, "Queue", spec.queue.arn) if spec.queue.arn else None,
            queue_key=kms.Key.from_key_arn(scope, "QueueKey", spec.queue.kms_key) if spec.queue.kms_key else None,
            # 0.1 encrypted the worker's own queue with the platform's single key (now the logs key): the messages
            # queued before the upgrade stay readable. Remove in 0.3.
            earlier_queue_keys=[platform.key],
            service_name=spec.name,
            capacity_provider_strategies=self._strategies(spec.capacity),
            alarm_topic=platform.alarm_topic,
            service_connect_namespace=platform.namespace if name in platform.caller_groups else None,
            caller_group=platform.caller_groups.get(name),
            min_capacity=spec.min_count,
            max_capacity=spec.max_count,
            **_given(
                backlog_per_task=spec.backlog_per_task,
                visibility_timeout=_seconds(spec.queue.visibility_timeout_seconds),
                max_receive_count=spec.queue.max_receive_count,
            ),
        )

    # --- volumes ----------------------------------------------------------------------------------

    @property
    def needs_data_key(self) -> bool:
        """The platform owns stores or EBS volumes: they get a key of their own (the data key)."""
        return bool(self.spec.storage) or any(v.ebs for _, w in workloads(self.spec) for v in w.volumes)

    def data_key(self) -> EncryptionKeyProps:
        return EncryptionKeyProps(
            description=f"{self.name_prefix}: the platform's stores and volumes", removal_policy=self.removal_policy, for_log_groups=True
        )

    @property
    def store_names(self) -> list[str]:
        return [s.name for s in self.spec.storage]

    def store_kind(self, name: str) -> str:
        return self._store_specs[name].type

    def file_system(self, name: str, network: Network, key: kms.IKey) -> SharedFileSystemProps:
        store = self._store_specs[name]
        assert store.type == "efs"
        return SharedFileSystemProps(
            vpc=network.vpc,
            subnets=network.web_subnets if store.subnets == "web" else network.batch_subnets,
            encryption_key=key,
            name=f"{self.name_prefix}-{name}",
            removal_policy=RemovalPolicy.RETAIN if self.production else RemovalPolicy.DESTROY,
            file_system_id=store.file_system_id,
        )

    @property
    def _store_removal(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.production else RemovalPolicy.DESTROY

    def bucket(self, name: str, key: kms.IKey, platform: WorkloadPlatform) -> AppBucketProps:
        store = self._store_specs[name]
        assert store.type == "s3"
        return AppBucketProps(
            encryption_key=key,
            access_log_bucket=platform.load_balancer_logs.server_access_logs if platform.load_balancer_logs else None,
            versioned=store.versioned,
            expire_noncurrent_after_days=store.expire_noncurrent_after_days,
            removal_policy=self._store_removal,
        )

    def table(self, name: str, key: kms.IKey) -> AppTableProps:
        store = self._store_specs[name]
        assert store.type == "dynamodb"
        return AppTableProps(
            encryption_key=key,
            partition_key=TableKey(name=store.partition_key.name, type=store.partition_key.type),
            sort_key=TableKey(name=store.sort_key.name, type=store.sort_key.type) if store.sort_key else None,
            time_to_live_attribute=store.ttl_attribute,
            global_secondary_indexes=[
                TableIndex(
                    name=i.name,
                    partition_key=TableKey(name=i.partition_key.name, type=i.partition_key.type),
                    sort_key=TableKey(name=i.sort_key.name, type=i.sort_key.type) if i.sort_key else None,
                )
                for i in store.indexes
            ],
            deletion_protection=self.production,
            removal_policy=self._store_removal,
        )

    def database(self, name: str, network: Network, platform: WorkloadPlatform, key: kms.IKey) -> AuroraServerlessProps:
        store = self._store_specs[name]
        assert store.type == "aurora"
        subnets = network.web_subnets if store.subnets == "web" else network.batch_subnets
        return AuroraServerlessProps(
            vpc=network.vpc,
            vpc_subnets=subnets,
            encryption_key=key,
            engine=store.engine,
            database_name=store.database_name,
            min_capacity=store.min_capacity,
            max_capacity=store.max_capacity,
            backup_retention_days=store.backup_retention_days or (35 if self.production else 7),
            deletion_protection=self.production,
            removal_policy=RemovalPolicy.SNAPSHOT if self.production else RemovalPolicy.DESTROY,
            log_retention=self.log_retention,
            cluster_identifier=f"{self.name_prefix}-{name}",
            permissions_boundary=platform.permissions_boundary,
        )

    def attach_volumes(self, scope: Construct, name: str, workload: Any, platform: WorkloadPlatform) -> None:
        """Mount workload ``name``'s volumes: each file system of ``storage:`` through an access point of its own, each
        EBS volume as a volume ECS creates for every task of the service (constructs under ``scope``)."""
        spec = self._workload_spec(name)
        for volume in spec.volumes:
            container = workload.task.container(volume.container or spec.containers[0].name)
            at = Construct(scope, f"Volume-{volume.name}")
            if volume.efs is not None:
                mount_efs(
                    at,
                    task_definition=workload.task_definition,
                    container=container,
                    file_system=self.stores[volume.efs],
                    volume_name=volume.name,
                    container_path=volume.path,
                    task_role=workload.task_role,
                    security_groups=[workload.security_group],
                    read_only=volume.read_only,
                    root_directory=f"/{name}",
                )
                continue
            ebs = volume.ebs
            assert ebs is not None and self.stores_key is not None  # the spec requires efs or ebs; ebs makes a data key
            workload.service.add_volume(
                ebs_volume(
                    at,
                    task_definition=workload.task_definition,
                    container=container,
                    name=volume.name,
                    container_path=volume.path,
                    size_gib=ebs.size_gib,
                    encryption_key=self.stores_key,
                    volume_type=ebs.type,
                    file_system_type=ebs.file_system,
                    iops=ebs.iops,
                    throughput=ebs.throughput,
                    permissions_boundary=platform.permissions_boundary,
                )
            )

    # --- topics (producers and consumers) ---------------------------------------------------------

    def topic(self, name: str, platform: WorkloadPlatform) -> AppTopicProps:
        """Topic ``name`` of ``topics:``: ``<app>-<env>-<name>``, under the platform's messaging key."""
        return AppTopicProps(
            topic_name=f"{self.name_prefix}-{name}", encryption_key=platform.messaging_key, removal_policy=self.removal_policy
        )

    def subscription(self, topic: str, worker: str) -> dict[str, Any]:
        """How worker ``worker``'s queue subscribes to ``topic``: the subscribe_queue keywords."""
        (found,) = [s for t in self.spec.topics if t.name == topic for s in t.subscribers if s.worker == worker]
        return {"filter_policy": found.filter_policy or None, "raw_message_delivery": found.raw_message_delivery}

    def _workload_spec(self, name: str) -> ServiceSpec | JobSpec | WorkerSpec:
        return self._services.get(name) or self._jobs.get(name) or self._workers[name]

    def overrides(self, name: str) -> Mapping[str, Mapping[str, Any]]:
        """The CloudFormation overrides of workload ``name``: ``task_definition`` and ``service`` property paths."""
        spec = self._workload_spec(name).overrides
        return {"task_definition": spec.task_definition, "service": spec.service}

    def workload_tags(self, name: str) -> Mapping[str, str]:
        """The workload's own tags (``tags:`` of the service, job or worker)."""
        workload = self._workload_spec(name)
        return dict(workload.tags)

    # --- containers ---------------------------------------------------------------------------

    def _container(self, scope: Construct, workload: str, spec: ContainerSpec) -> ContainerProps:
        return ContainerProps(
            name=spec.name,
            image=self._image(scope, f"{workload}-{spec.name}-Image", spec.image),
            port=spec.port,
            protocol=ecs.Protocol.TCP if spec.protocol == "tcp" else ecs.Protocol.UDP,
            essential=spec.essential,
            command=spec.command,
            cpu=spec.cpu,
            memory_limit_mib=spec.memory,
            environment=spec.environment,
            readonly_root_filesystem=spec.readonly_root_filesystem,
            writable_paths=spec.writable_paths,
            user=spec.user,
            gpu_count=spec.gpu,
            health_check=ecs.HealthCheck(
                command=spec.health_check.command,
                interval=_seconds(spec.health_check.interval_seconds),
                timeout=_seconds(spec.health_check.timeout_seconds),
                retries=spec.health_check.retries,
                start_period=_seconds(spec.health_check.start_period_seconds),
            )
            if spec.health_check
            else None,
            secrets={env_name: _secret(scope, f"{workload}-{spec.name}-{env_name}", ref) for env_name, ref in spec.secrets.items()},
            app_protocol=_APP_PROTOCOLS[spec.app_protocol] if spec.app_protocol else None,
            entry_point=spec.entrypoint,
            working_directory=spec.working_directory,
            depends_on={other: ecs.ContainerDependencyCondition[condition] for other, condition in spec.depends_on.items()},
            stop_timeout=_seconds(spec.stop_timeout_seconds),
            init_process=spec.init_process,
            ulimits=[ecs.Ulimit(name=ecs.UlimitName[u.name.upper()], soft_limit=u.soft, hard_limit=u.hard) for u in spec.ulimits],
            drop_capabilities=[ecs.Capability[c] for c in spec.drop_capabilities],
            docker_labels=spec.docker_labels,
        )

    # --- images -------------------------------------------------------------------------------------

    def _image(self, scope: Construct, construct_id: str, image: Image) -> ecs.ContainerImage:
        """A container's image: built from source (a Docker image asset), of a platform repository, of an
        ECR repository (pull rights scoped to it, IAM-1), through the pull-through cache, or by name."""
        stack = Stack.of(scope)
        if isinstance(image, BuildImageSpec):
            if image.tag is None:
                return ecs.ContainerImage.from_asset(
                    image.build, file=image.dockerfile, target=image.target, build_args=dict(image.build_args) or None
                )
            # An earlier build's image, as the CDK CLI published it: the bootstrap's container assets repository.
            name = f"cdk-{BOOTSTRAP_QUALIFIER}-container-assets-{stack.account}-{stack.region}"
            return _ecr_image(
                scope, construct_id, stack.format_arn(service="ecr", resource="repository", resource_name=name), name, image.tag
            )
        if isinstance(image, RepositoryImageSpec):
            assert image.tag is not None  # checked: images_are_complete
            arn = f"arn:{stack.partition}:ecr:{self.images_region}:{self.images_account or stack.account}:repository/{image.repository}"
            return _ecr_image(scope, construct_id, arn, image.repository, image.tag)
        match = _ECR_IMAGE.fullmatch(image)
        if match:
            partition = "aws-cn" if ".amazonaws.com.cn/" in image else "aws"
            arn = f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
            return _ecr_image(scope, construct_id, arn, match["repo"], match["digest"] or match["tag"] or "latest")
        cached = cached_image(image, f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}", self.spec.images.pull_through_cache)
        # Through the cache: the execution role may pull, and import on a first pull, under its prefixes (grant_image_pulls).
        return ecs.ContainerImage.from_registry(cached or image)

    def grant_image_pulls(self, scope: Construct, name: str, role: iam.IGrantable) -> None:
        """Pulling through the cache: the pull actions, and for an image's first pull ``ecr:BatchImportUpstreamImage``
        and ``ecr:CreateRepository``, under the cache's prefixes (the images' other grants come with them); on Fargate
        under GuardDuty Runtime Monitoring, GuardDuty's agent (SEC-8)."""
        upstreams = self.spec.images.pull_through_cache
        workload = self._services.get(name) or self._jobs.get(name) or self._workers.get(name)
        if self.runtime_monitoring and workload is not None and compute_of(self.spec, workload) == "FARGATE":
            grant_guardduty_agent_pull(role, scope)
        if (
            upstreams
            and workload is not None
            and any(isinstance(c.image, str) and cached_image(c.image, "r", upstreams) for c in workload.containers)
        ):
            grant_pull_through(role, scope, upstreams)

    @property
    def runtime_monitoring(self) -> bool:
        """GuardDuty Runtime Monitoring watches this environment's tasks (SEC-8): its governance asks for it."""
        return self.spec.governance is not None and self.spec.governance.runtime_monitoring

    @property
    def runtime_monitoring_opt_out(self) -> bool:
        """The environment's cluster (and EC2 instances) carry GuardDuty's opt-out tag: its governance says so."""
        return self.spec.governance is not None and not self.spec.governance.runtime_monitoring

    def smoke_check_path(self, service: str) -> str | None:
        """The path the delivery pipeline asks of ``service`` once its environment is deployed (its health check's),
        when the pipeline can reach it: a public load balancer, under a name its certificate covers (a domain or a
        route's host) unless it serves HTTP only."""
        delivery = self.spec.delivery
        spec = self._services[service]
        route = spec.load_balancer
        if delivery is None or delivery.source is None or route is None:
            return None
        alb = self._shared[route.shared] if route.shared else route
        named = alb.domain is not None or any(not set(host) & set("*?") for host in route.hosts)
        if not alb.public or (alb.https and not named):
            return None
        return spec.health_check.path or "/"

    # --- access (IAM-5) ---------------------------------------------------------------------------

    def grant_access(self, scope: Construct, name: str, role: TaskRole, platform: WorkloadPlatform) -> None:
        """Grant ``role`` each ``access:`` entry of workload ``name``, with imports under ``scope``."""
        workload = self._workload_spec(name)
        for i, entry in enumerate(workload.access):
            at = Construct(scope, f"Access{i}")
            integration = INTEGRATIONS[entry.type]
            special = _SPECIAL_GRANTS.get(entry.type)
            if entry.type == "sqs_send" and entry.value("queue") in self._workers:
                continue  # a worker's queue: granted with the worker once both exist (connections.connect)
            field = STORE_TYPES.get(entry.type)
            if field is not None and entry.value(field) in self.stores:
                _grant_store(role, entry, self.stores[entry.value(field)], workload)
                continue
            if special is not None:
                special(at, role, entry, platform)
            else:
                ((field, kind),) = [(p.name, p.kind) for p in integration.params if p.kind is not None]
                role.grant_integration(entry.type, [resource_arn(at, kind, getattr(entry, field))], level=getattr(entry, "level", None))
            if entry.kms_key is not None:
                key = kms.Key.from_key_arn(at, "Key", entry.kms_key)
                assert integration.kms_service is not None  # the spec refuses kms_key elsewhere
                role.grant_kms(key, via_service=integration.kms_service, write=integration.writes(getattr(entry, "level", None)))


def _grant_store(role: TaskRole, entry: Any, store: Any, workload: Any) -> None:
    """An access entry naming a store of ``storage:``: the usual grant on the store's resource, and its key through
    the service (the stores' key is the platform's own, so the entry names none)."""
    writes = INTEGRATIONS[entry.type].writes(entry.value("level"))
    if entry.type == "s3":
        role.grant_s3(store.bucket, entry.level, prefix=entry.prefix)
        role.grant_kms(store.key, via_service="s3", write=writes)
    elif entry.type == "dynamodb":
        role.grant_dynamodb(store.table, entry.level, indexes=entry.indexes)
        role.grant_kms(store.key, via_service="dynamodb", write=writes)
    else:
        role.grant_rds_data(store.cluster_arn, store.secret)
        role.grant_kms(store.key, via_service="secretsmanager")


def resource_arn(scope: Construct, kind: str, value: str) -> str:
    """An ARN as given, or the ARN of a name in the stack's account and region (its kind's shape)."""
    if value.startswith("arn:"):
        return value
    stack = Stack.of(scope)
    shape = KINDS[kind]
    if shape.global_arn:
        return stack.format_arn(service=shape.service, region="", account="", resource=value)
    if not shape.arn_type:
        return stack.format_arn(service=shape.service, resource=value)
    arn_format = ArnFormat.COLON_RESOURCE_NAME if shape.separator == ":" else ArnFormat.SLASH_RESOURCE_NAME
    return stack.format_arn(service=shape.service, resource=shape.arn_type, resource_name=value.lstrip("/"), arn_format=arn_format)


def _parameter_name(value: str) -> str:
    """A parameter name from a name or ARN: ``/app/key``."""
    return "/" + value.split(":parameter/", 1)[1] if value.startswith("arn:") else value


def _grant_cloudwatch(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    role.grant_cloudwatch_metrics(entry.namespace)


def _grant_rds_iam(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    role.grant_rds_iam_connect(entry.db_resource_id, entry.db_user)


def _grant_rds_data(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    from aws_cdk import aws_secretsmanager as secretsmanager

    secret = secretsmanager.Secret.from_secret_complete_arn(at, "Secret", entry.secret)
    role.grant_rds_data(resource_arn(at, "cluster", entry.cluster), secret)


def _grant_dynamodb(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    from aws_cdk import aws_dynamodb as dynamodb

    table = dynamodb.Table.from_table_arn(at, "Table", resource_arn(at, "table", entry.table))
    role.grant_dynamodb(table, entry.level, indexes=entry.indexes)


def _grant_s3(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket.from_bucket_arn(at, "Bucket", resource_arn(at, "bucket", entry.bucket))
    role.grant_s3(bucket, entry.level, prefix=entry.prefix)


def _grant_xray(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    role.grant_xray()


def _grant_ssm(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    from aws_cdk import aws_ssm as ssm

    parameters = [
        ssm.StringParameter.from_string_parameter_name(at, f"Parameter{j}", _parameter_name(name)) for j, name in enumerate(entry.names)
    ]
    role.grant_ssm_parameters(parameters, path=entry.path)


def _grant_ecs_exec(at: Construct, role: TaskRole, entry: Any, platform: WorkloadPlatform) -> None:
    platform.grant_ecs_exec(role)


#: The integrations whose grant is not "its actions on its one resource" (see Integration.simple).
_SPECIAL_GRANTS: Mapping[str, Callable[[Construct, TaskRole, Any, WorkloadPlatform], None]] = {
    "cloudwatch_metrics": _grant_cloudwatch,
    "rds_iam": _grant_rds_iam,
    "rds_data": _grant_rds_data,
    "dynamodb": _grant_dynamodb,
    "s3": _grant_s3,
    "xray": _grant_xray,
    "ssm_parameters": _grant_ssm,
    "ecs_exec": _grant_ecs_exec,
}


def _secret(scope: Construct, construct_id: str, ref: SecretRef) -> ecs.Secret:
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_ssm as ssm

    key = kms.Key.from_key_arn(scope, f"{construct_id}-Key", ref.kms_key) if ref.kms_key else None
    if ref.secrets_manager is not None:
        value_from = parse_secret_value_from(ref.secrets_manager)
        assert not isinstance(value_from, str), value_from  # the spec refuses anything else
        secret = secretsmanager.Secret.from_secret_complete_arn(scope, construct_id, value_from.secret_arn)
        return ContainerSecret.of_secret(
            secret, field=value_from.json_key, version_stage=value_from.version_stage, version_id=value_from.version_id, key=key
        )
    assert ref.ssm_parameter is not None
    name = ref.ssm_parameter.split(":parameter", 1)[-1] if ref.ssm_parameter.startswith("arn:") else ref.ssm_parameter
    parameter = ssm.StringParameter.from_secure_string_parameter_attributes(scope, construct_id, parameter_name=name)
    return ContainerSecret.of_parameter(parameter, key=key)


def _ecr_image(scope: Construct, construct_id: str, repository_arn: str, name: str, tag_or_digest: str) -> ecs.ContainerImage:
    """An image of an ECR repository known by ARN: bound to a task definition, it grants the execution role
    the pull actions on exactly that repository (IAM-1)."""
    from aws_cdk import aws_ecr as ecr

    repository = ecr.Repository.from_repository_attributes(scope, construct_id, repository_arn=repository_arn, repository_name=name)
    return ecs.ContainerImage.from_ecr_repository(repository, tag_or_digest)


def _deployment(spec: ServiceSpec) -> DeploymentProps:
    d = spec.deployment
    return DeploymentProps(
        strategy=_STRATEGIES[d.strategy],
        bake_time=_minutes(d.bake_minutes),
        step_percent=d.step_percent,
        step_bake_time=_minutes(d.step_bake_minutes),
        **_given(min_healthy_percent=d.min_healthy_percent, max_healthy_percent=d.max_healthy_percent),
    )


def _scaling(spec: ServiceSpec) -> ServiceScalingProps:
    low, high = spec.scaling_range
    scaling = spec.scaling
    return ServiceScalingProps(
        min_capacity=low,
        max_capacity=high,
        cpu_percent=scaling.cpu_percent,
        memory_percent=scaling.memory_percent,
        requests_per_task=scaling.requests_per_task,
        scheduled=[
            ScheduledScalingProps(
                name=action.name,
                schedule=appscaling.Schedule.expression(action.schedule),
                min_capacity=action.min_count,
                max_capacity=action.max_count,
            )
            for action in scaling.scheduled
        ],
        time_zone=TimeZone.of(scaling.timezone),
    )


# --- what the environments share: image repositories, caches, the deploy role, the pipeline ------------

Location = tuple[str | None, str]
"""(account, region): where a stack of the shared stage lives."""


class DeliveryTranslation:
    """The environments of one spec as the props of what they share: the platform's image repositories (in the
    images account), a pull-through cache in each environment's account and region, a GitHub Actions deploy
    role in each account, and the delivery pipeline."""

    def __init__(self, specs: Sequence[Spec]) -> None:
        self.specs = list(specs)
        first = self.specs[0]
        self.app = first.app
        home = Translation(first)
        self.images: Location = (home.images_account, home.images_region)
        self.delivery = first.delivery
        self.environments: list[Location] = list(dict.fromkeys((s.environment.account, s.environment.region) for s in self.specs))
        self.repositories = sorted(
            {
                c.image.repository
                for s in self.specs
                for w in (*s.services, *s.jobs, *s.workers)
                for c in w.containers
                if isinstance(c.image, RepositoryImageSpec)
            }
        )
        self.upstreams = list(first.images.pull_through_cache)

    @property
    def locations(self) -> list[Location]:
        """Where the shared stage needs a stack: the images account (with repositories) and each environment's
        account and region (with a cache or a deploy role); empty when nothing is shared."""
        wanted: list[Location] = []
        if self.repositories:
            wanted.append(self.images)
        if self.upstreams or self._github is not None:
            wanted += self.environments
        return list(dict.fromkeys(wanted))

    def repository_props(self, location: Location, key: kms.IKey) -> list[ImageRepositoryProps]:
        """The platform's repositories, in the images account; environments in other accounts may pull."""
        if location != self.images:
            return []
        others = sorted({account for account, _ in self.environments if account and account != self.images[0]})
        return [ImageRepositoryProps(repository_name=name, key=key, pull_accounts=others) for name in self.repositories]

    def pull_through_cache(self, location: Location, key: kms.IKey, scope: Construct) -> PullThroughCacheProps | None:
        if not self.upstreams or location not in self.environments:
            return None
        arn = self.specs[0].images.docker_hub_credentials
        credentials = secretsmanager.Secret.from_secret_partial_arn(scope, "DockerHubCredentials", arn) if arn else None
        return PullThroughCacheProps(upstreams=self.upstreams, key=key, docker_hub_credentials=credentials)

    @property
    def _github(self) -> GithubOidcSpec | None:
        return self.delivery.github_oidc if self.delivery else None

    def github_role(self, location: Location) -> GithubDeployRoleProps | None:
        """The deploy role of GitHub Actions, once per account (in its first environment's stack)."""
        github = self._github
        account = location[0]
        if github is None or location not in self.environments or next(loc for loc in self.environments if loc[0] == account) != location:
            return None
        return GithubDeployRoleProps(
            repository=github.repository,
            branches=github.branches,
            environments=github.environments,
            provider_arn=github.provider_arn,
            regions=sorted({region for acct, region in self.environments if acct == account}),
            stack_name_prefix=f"{self.app}-",
        )

    # --- governance (SEC-6, SEC-7, SEC-8) ----------------------------------------------------------

    @property
    def governed(self) -> list[Location]:
        """The accounts and regions of the environments that ask for governance, in the spec's order (each once:
        the spec's checks refuse two different governance settings for one)."""
        return list(dict.fromkeys(_location(s) for s in self.specs if s.governance is not None))

    def _governed_specs(self, location: Location) -> list[Spec]:
        return [s for s in self.specs if s.governance is not None and _location(s) == location]

    def governance(self, location: Location) -> GovernanceProps:
        """The governance of ``location``: as its environments ask (the same for all of them); GuardDuty manages its
        agent on EC2 instances only where an environment has an Auto Scaling group's capacity."""
        specs = self._governed_specs(location)
        governance = specs[0].governance
        assert governance is not None
        return GovernanceProps(
            retention_days=governance.retention_days,
            transition_after_days=governance.archive_after_days,
            trail_name=f"{self.app}-trail",
            cloud_watch_logs=governance.trail_to_cloudwatch_logs,
            record_global_resource_types=governance.record_global_resource_types,
            excluded_config_rules=governance.excluded_config_rules,
            finding_publishing_frequency=governance.finding_publishing_frequency,
            ec2_agent_management=any(p.type == "asg" for s in specs for p in s.capacity_providers),
            existing_trail=governance.existing_trail,
            existing_recorder=governance.existing_recorder,
            existing_detector=governance.existing_detector,
            permissions_boundary=None,
        )

    def governance_subscribers(self, location: Location) -> Subscribers:
        """Who hears of high-severity GuardDuty findings there: everyone the environments there notify."""
        return subscribers([s.notifications for s in self._governed_specs(location)])

    @property
    def pipeline_location(self) -> Location | None:
        """Where the pipeline lives, if the spec has one."""
        if self.delivery is None or self.delivery.source is None:
            return None
        first = self.specs[0].environment
        return self.delivery.account or first.account, self.delivery.region or first.region

    def approval(self, environment: str) -> bool:
        """Whether a manual approval comes before ``environment`` (default: before the production ones)."""
        approvals = self.delivery.approvals if self.delivery else None
        spec = next(s for s in self.specs if s.environment.name == environment)
        return environment in approvals if approvals is not None else spec.environment.production

    def pipeline(self, targets: Sequence[DeliveryTarget], spec_file: str, docker: bool) -> DeliveryPipelineProps:
        assert self.delivery is not None and self.delivery.source is not None
        source = self.delivery.source
        return DeliveryPipelineProps(
            source=CodeCommitSource(repository_name=source.codecommit, branch=source.branch)
            if source.codecommit
            else ConnectionSource(connection_arn=str(source.connection_arn), repository=str(source.repository), branch=source.branch),
            targets=targets,
            install_commands=["make setup"],
            test_commands=[self.delivery.test_command],
            synth_commands=[f"make synth SPEC={spec_file}"],
            docker_enabled=docker,
        )

    @property
    def builds_images(self) -> bool:
        return any(
            isinstance(c.image, BuildImageSpec) and c.image.tag is None
            for s in self.specs
            for w in (*s.services, *s.jobs, *s.workers)
            for c in w.containers
        )


def _location(spec: Spec) -> Location:
    return spec.environment.account, spec.environment.region


def subscribers(notifications: Sequence[NotificationsSpec]) -> Subscribers:
    """Everyone ``notifications`` name, each once (the first Slack channel: AWS Chatbot posts a topic to one)."""
    slack = next((n.slack for n in notifications if n.slack is not None), None)
    return Subscribers(
        emails=list(dict.fromkeys(e for n in notifications for e in n.email)),
        https_urls=list(dict.fromkeys(u for n in notifications for u in n.https)),
        queue_arns=list(dict.fromkeys(q for n in notifications for q in n.sqs)),
        function_arns=list(dict.fromkeys(f for n in notifications for f in n.functions)),
        slack_workspace_id=slack.workspace_id if slack else None,
        slack_channel_id=slack.channel_id if slack else None,
    )
