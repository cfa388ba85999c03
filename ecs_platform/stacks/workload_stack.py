"""WorkloadStack: the cluster with the spec's web services and batch jobs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_servicediscovery as cloudmap
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.constructs.batch_job import BatchJob, BatchJobProps, JobSchedule
from ecs_platform.constructs.cluster import Cluster, ClusterProps
from ecs_platform.constructs.encryption_key import EncryptionKey
from ecs_platform.constructs.fargate_task import DeploymentProps
from ecs_platform.constructs.load_balancer import LoadBalancer, LoadBalancerProps
from ecs_platform.constructs.log_buckets import LogBuckets
from ecs_platform.constructs.network import Network
from ecs_platform.constructs.queue_worker import QueueWorker, QueueWorkerProps
from ecs_platform.constructs.security_groups import ServiceConnectClientsSecurityGroup
from ecs_platform.constructs.web_service import (
    HealthCheckProps,
    RouteProps,
    ScheduledScalingProps,
    ServiceConnectProps,
    ServiceScalingProps,
    WebService,
    WebServiceProps,
)
from ecs_platform.spec.checks import rule_priorities, traffic_container
from ecs_platform.spec.models import AlbSpec, DomainSpec, JobSpec, ServiceSpec, Spec, WorkerSpec
from ecs_platform.stacks.access import ExecCommandConfig, grant_access
from ecs_platform.stacks.settings import container_props, removal_policy, retention


class WorkloadStack(Stack):
    """Cluster, one ALB + WebService per service, one BatchJob per job."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: Spec,
        network: Network,
        services: Sequence[ServiceSpec] | None = None,
        **kwargs: Any,
    ) -> None:
        """:param services: the services built in this stack. Default: all of the spec's; more go
        to other stacks through :meth:`add_service` (CloudFormation's 500-resource limit)."""
        super().__init__(scope, construct_id, **kwargs)
        self.spec = spec
        self.network = network
        self.key = EncryptionKey(self, "Key", description=f"{spec.app} workloads: logs, queues", removal_policy=removal_policy(spec))
        self.exec_config = self._exec_config() if any(e.type == "ecs_exec" for s in spec.services for e in s.access) else None
        self.cluster = Cluster(
            self,
            "Cluster",
            props=ClusterProps(
                vpc=network.vpc,
                name_tag=spec.cluster_name_tag,
                exec_log_group=self.exec_config.log_group if self.exec_config else None,
                exec_key=self.exec_config.key if self.exec_config else None,
                service_connect_namespace=spec.service_connect.namespace if spec.service_connect else None,
            ),
        ).cluster
        self.service_connect: tuple[cloudmap.INamespace, ServiceConnectClientsSecurityGroup] | None = None
        """The Service Connect namespace and the group of its members (ARCH-7)."""
        if spec.service_connect is not None and self.cluster.default_cloud_map_namespace is not None:
            clients = ServiceConnectClientsSecurityGroup(
                self, "ServiceConnectClients", vpc=network.vpc, name=f"{spec.app}-{spec.environment.name}-service-connect"
            )
            self.service_connect = (self.cluster.default_cloud_map_namespace, clients)
        self.permissions_boundary = (
            iam.ManagedPolicy.from_managed_policy_arn(self, "PermissionsBoundary", spec.permissions_boundary)
            if spec.permissions_boundary
            else None
        )
        _output(self, "ClusterName", self.cluster.cluster_name, "ECS cluster (CLI-8)")
        self.log_buckets = LogBuckets(self, "LoadBalancerLogs") if spec.services else None
        self.job_failures = (
            sns.Topic(self, "JobFailures", display_name=f"{spec.app} failed job runs", master_key=self.key, enforce_ssl=True)
            if spec.jobs
            else None
        )
        self.alarm_topic = (
            sns.Topic(self, "Alarms", display_name=f"{spec.app} service alarms", master_key=self.key, enforce_ssl=True)
            if spec.services
            else None
        )
        if self.alarm_topic is not None:
            _output(self, "AlarmTopic", self.alarm_topic.topic_arn, "Subscribe to hear of service alarms (OBS-2)")
        if self.job_failures is not None:
            _output(self, "JobFailuresTopic", self.job_failures.topic_arn, "Subscribe to hear of failed job runs")
        self.rule_priorities = rule_priorities(spec)
        self.shared_load_balancers: dict[str, LoadBalancer] = {}
        """The spec's shared ALBs by name; services route from them with listener rules."""
        for lb in spec.load_balancers:
            load_balancer = self._load_balancer(Construct(self, f"LoadBalancer-{lb.name}"), lb.name, lb)
            _output(self, f"{output_prefix(lb.name)}LoadBalancerUrl", _url(load_balancer), f"shared load balancer {lb.name}")
            self.shared_load_balancers[lb.name] = load_balancer
        self.services: dict[str, WebService] = {}
        for service in spec.services if services is None else services:
            self.add_service(service)
        self.jobs = {j.name: self._job(j) for j in spec.jobs}
        self.workers = {w.name: self._worker(w) for w in spec.workers}

    def _workload_props(self, scope: Construct, spec: ServiceSpec | JobSpec | WorkerSpec) -> dict[str, Any]:
        """The props every workload construct shares (WorkloadProps), from the spec."""
        return {
            "cluster": self.cluster,
            "containers": [container_props(scope, spec.name, c) for c in spec.containers],
            "encryption_key": self.key,
            "family": spec.task_family,
            "cpu": spec.cpu,
            "memory_limit_mib": spec.memory,
            "log_retention": retention(self.spec),
            "removal_policy": removal_policy(self.spec),
            "permissions_boundary": self.permissions_boundary,
            "cpu_architecture": ecs.CpuArchitecture.ARM64 if spec.architecture == "arm64" else ecs.CpuArchitecture.X86_64,
            "ephemeral_storage_gib": spec.ephemeral_storage_gib,
        }

    @staticmethod
    def _zone(scope: Construct, domain: DomainSpec) -> route53.IHostedZone:
        return route53.HostedZone.from_hosted_zone_attributes(
            scope, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.hosted_zone_name
        )

    def _certificate(self, scope: Construct, lb: AlbSpec, zone: route53.IHostedZone | None) -> acm.ICertificate | None:
        """The listener's certificate: imported by ARN, or created for the domain with DNS validation."""
        if lb.certificate_arn:
            return acm.Certificate.from_certificate_arn(scope, "Certificate", lb.certificate_arn)
        if lb.domain is not None and zone is not None:
            return acm.Certificate(scope, "Certificate", domain_name=lb.domain.name, validation=acm.CertificateValidation.from_dns(zone))
        return None

    def _exec_config(self) -> ExecCommandConfig:
        """ECS Exec sessions of the cluster: KMS-encrypted and logged to their own group."""
        log_group = logs.LogGroup(
            self,
            "ExecLogs",
            log_group_name=f"/ecs/{self.spec.app}-{self.spec.environment.name}/exec",
            encryption_key=self.key,
            retention=retention(self.spec),
            removal_policy=removal_policy(self.spec),
        )
        return ExecCommandConfig(log_group=log_group, key=self.key)

    def _load_balancer(self, scope: Construct, name: str, lb: AlbSpec) -> LoadBalancer:
        """An ALB (shared, or a service's own) with its certificate and DNS alias."""
        zone = self._zone(scope, lb.domain) if lb.domain else None
        public = bool(lb.public)
        load_balancer = LoadBalancer(
            scope,
            "LoadBalancer",
            props=LoadBalancerProps(
                vpc=self.network.vpc,
                internet_facing=public,
                # A literal CIDR: the VPC's own is an import from the network stack.
                internal_clients=ec2.Peer.ipv4(self.spec.network.cidr),
                vpc_subnets=self.network.public_subnets if public else self.network.web_subnets,
                certificate=self._certificate(scope, lb, zone),
                deletion_protection=self.spec.environment.production,
                access_logs_bucket=self.log_buckets.access_logs if self.log_buckets else None,
                access_logs_prefix=name,
                web_acl_arn=lb.web_acl_arn,
                security_group_name=f"{name}-alb",
                test_listener_port=lb.test_listener_port,
            ),
        )
        if lb.domain is not None and zone is not None:
            route53.ARecord(
                scope,
                "Alias",
                zone=zone,
                record_name=lb.domain.name,
                target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(load_balancer.load_balancer)),
            )
        return load_balancer

    def add_service(self, spec: ServiceSpec, into: Stack | None = None) -> WebService:
        """Build a service in this stack, or ``into`` another one (which then imports the cluster,
        key, log bucket, shared load balancers and topics from this one)."""
        scope = Construct(into or self, f"Service-{spec.name}")
        lb = spec.load_balancer
        load_balancer = (
            None if lb is None else self.shared_load_balancers[lb.shared] if lb.shared else self._load_balancer(scope, spec.name, lb)
        )
        serving = traffic_container(spec)
        workload = self._workload_props(scope, spec)
        if self.service_connect is not None and serving is not None:
            # Service Connect reports HTTP metrics per service when the port says it speaks HTTP.
            workload["containers"] = [
                replace(c, app_protocol=ecs.AppProtocol.http) if c.name == serving.name else c for c in workload["containers"]
            ]
        hc = spec.health_check
        service = WebService(
            scope,
            "WebService",
            props=WebServiceProps(
                **workload,
                load_balancer=load_balancer,
                route=RouteProps(paths=lb.paths, hosts=lb.hosts, priority=self.rule_priorities[spec.name]) if lb else RouteProps(),
                deployment=_deployment(spec),
                service_connect=self._connect(spec),
                vpc_subnets=self.network.web_subnets,
                service_name=spec.name,
                desired_count=spec.desired_count,
                target_container=serving.name if serving else None,
                health_check=HealthCheckProps(
                    path=hc.path,
                    interval=Duration.seconds(hc.interval_seconds),
                    timeout=Duration.seconds(hc.timeout_seconds),
                    healthy_threshold_count=hc.healthy_threshold,
                    unhealthy_threshold_count=hc.unhealthy_threshold,
                    healthy_http_codes=hc.healthy_http_codes,
                ),
                health_check_grace_period=Duration.seconds(hc.grace_period_seconds),
                enable_execute_command=any(e.type == "ecs_exec" for e in spec.access),
                scaling=_scaling(spec),
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(capacity_provider=c.provider, base=c.base or None, weight=c.weight) for c in spec.capacity
                ],
                alarm_topic=self.alarm_topic,
            ),
        )
        grant_access(scope, service.task_role, spec.access, exec_config=self.exec_config)
        _tag(scope, spec.tags)
        name = output_prefix(spec.name)
        if load_balancer is not None and lb is not None:
            _output(scope, f"{name}Url", _url(load_balancer, lb.hosts, lb.paths), f"{spec.name}: its URL on the load balancer")
        if service.connect_endpoint is not None:
            _output(scope, f"{name}ConnectEndpoint", service.connect_endpoint, f"{spec.name}: its name for the other services (ARCH-7)")
        _output(scope, f"{name}ServiceName", service.service.service_name, f"{spec.name}: ECS service (CLI-8)")
        _output(scope, f"{name}TaskDefinition", service.task_definition.task_definition_arn, f"{spec.name}: task definition (CLI-8)")
        self.services[spec.name] = service
        return service

    def _connect(self, spec: ServiceSpec) -> ServiceConnectProps | None:
        if self.service_connect is None:
            return None
        namespace, clients = self.service_connect
        connect = spec.connect
        return ServiceConnectProps(
            namespace=namespace,
            clients=clients,
            dns_name=connect.name or spec.name,
            per_request_timeout=Duration.seconds(connect.per_request_timeout_seconds) if connect.per_request_timeout_seconds else None,
            idle_timeout=Duration.seconds(connect.idle_timeout_seconds) if connect.idle_timeout_seconds else None,
        )

    def _job(self, spec: JobSpec) -> BatchJob:
        scope = Construct(self, f"Job-{spec.name}")
        job = BatchJob(
            scope,
            "BatchJob",
            props=BatchJobProps(
                **self._workload_props(scope, spec),
                vpc_subnets=self.network.batch_subnets,
                name=spec.name,
                count=spec.count,
                capacity_provider=spec.capacity,
                schedule=JobSchedule(
                    expression=spec.schedule,
                    time_zone=spec.timezone,
                    flexible_window=Duration.minutes(spec.flexible_window_minutes) if spec.flexible_window_minutes else None,
                    timeout=Duration.seconds(spec.timeout_seconds) if spec.timeout_seconds else None,
                    retries=spec.retries,
                )
                if spec.schedule
                else None,
                failure_topic=self.job_failures,
            ),
        )
        grant_access(scope, job.task_role, spec.access)
        _tag(scope, spec.tags)
        name = output_prefix(spec.name)
        _output(scope, f"{name}RunTaskCommand", job.run_task_command, f"{spec.name}: run it now (CLI-7)")
        _output(scope, f"{name}RunTaskParameters", job.run_task_parameters, f"{spec.name}: RunTask request (ecs-platform run-task)")
        _output(scope, f"{name}TaskDefinition", job.task_definition.task_definition_arn, f"{spec.name}: task definition (CLI-8)")
        return job

    def _worker(self, spec: WorkerSpec) -> QueueWorker:
        scope = Construct(self, f"Worker-{spec.name}")
        queue = sqs.Queue.from_queue_arn(scope, "Queue", spec.queue.arn) if spec.queue.arn else None
        worker = QueueWorker(
            scope,
            "QueueWorker",
            props=QueueWorkerProps(
                **self._workload_props(scope, spec),
                vpc_subnets=self.network.batch_subnets,
                queue=queue,
                queue_key=kms.Key.from_key_arn(scope, "QueueKey", spec.queue.kms_key) if spec.queue.kms_key else None,
                service_name=spec.name,
                min_capacity=spec.min_count,
                max_capacity=spec.max_count,
                backlog_per_task=spec.backlog_per_task,
                visibility_timeout=Duration.seconds(spec.queue.visibility_timeout_seconds),
                max_receive_count=spec.queue.max_receive_count,
            ),
        )
        grant_access(scope, worker.task_role, spec.access)
        _tag(scope, spec.tags)
        name = output_prefix(spec.name)
        _output(scope, f"{name}QueueUrl", worker.queue.queue_url, f"{spec.name}: the queue it consumes")
        _output(scope, f"{name}ServiceName", worker.service.service_name, f"{spec.name}: ECS service (CLI-8)")
        return worker


_STRATEGIES = {
    "rolling": ecs.DeploymentStrategy.ROLLING,
    "blue_green": ecs.DeploymentStrategy.BLUE_GREEN,
    "linear": ecs.DeploymentStrategy.LINEAR,
    "canary": ecs.DeploymentStrategy.CANARY,
}


def _deployment(spec: ServiceSpec) -> DeploymentProps:
    d = spec.deployment
    return DeploymentProps(
        strategy=_STRATEGIES[d.strategy],
        bake_time=Duration.minutes(d.bake_minutes) if d.bake_minutes is not None else None,
        step_percent=d.step_percent,
        step_bake_time=Duration.minutes(d.step_bake_minutes) if d.step_bake_minutes is not None else None,
        min_healthy_percent=d.min_healthy_percent,
        max_healthy_percent=d.max_healthy_percent,
    )


def _url(load_balancer: LoadBalancer, hosts: Sequence[str] = (), paths: Sequence[str] = ()) -> str:
    """Where a service answers: its first literal host (else the ALB's DNS name) and the literal start of its first path."""
    host = next((h for h in hosts if not set(h) & set("*?")), load_balancer.load_balancer.load_balancer_dns_name)
    path = re.split(r"[*?]", paths[0])[0] if paths else ""
    return f"{'https' if load_balancer.https else 'http'}://{host}{path}"


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


def output_prefix(workload: str) -> str:
    """Stable output names for a workload: ``my-service`` -> ``MyService`` (``MyServiceUrl``, ...)."""
    return "".join(part.capitalize() for part in workload.split("-"))


def _output(scope: Construct, name: str, value: str, description: str) -> None:
    """A stack output whose logical ID is ``name`` exactly, so tools can read it by name."""
    CfnOutput(scope, name, value=value, description=description).override_logical_id(name)


def _tag(scope: Construct, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        Tags.of(scope).add(key, value)
