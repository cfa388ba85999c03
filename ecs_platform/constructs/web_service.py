"""WebService: a web/API service on Fargate behind an Application Load Balancer (USE-1, ARCH-4).

Its target groups may keep clients on one task (``stickiness``), ramp new tasks up (``slow_start``) and speak
HTTP/2 or gRPC to the tasks (``protocol_version``, behind an HTTPS listener only); the serving port tells
Service Connect its application protocol (``app_protocol``), so the proxy's metrics and retries fit it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.fargate_task import (
    ContainerProps,
    DeploymentProps,
    FargateTask,
    TaskAccessors,
    WorkloadProps,
    private_service,
)
from ecs_platform.constructs.load_balancer import LoadBalancer
from ecs_platform.constructs.metric_math_scaling import math_expression, track_metric_math
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.security_groups import SecurityGroupProps, WebTaskSecurityGroup
from ecs_platform.constructs.service_alarms import service_alarms
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import (
    CATCH_ALL_PRIORITY,
    RULE_PRIORITY,
    SCALING_MAX_TASKS,
    SCALING_MIN_TASKS,
    SERVICE_TASKS,
    Range,
    check_task_range,
    serving_container,
)

if TYPE_CHECKING:
    from aws_cdk import aws_servicediscovery as cloudmap


@dataclass(frozen=True, kw_only=True)
class HealthCheckProps:
    """Target-group health check (BP-2). Every field has the default shown.

    A new task takes traffic after ``healthy_threshold_count`` passing checks, so with the
    service's 30-second deregistration delay a rolling deployment replaces a task in
    30 + 2 x 10 = 50 seconds (the ALB's own defaults, 300 s and 5 x 30 s, take 450). The price:
    two checks a minute more per task, and a task failing 3 checks in a row (30 s) is replaced.
    """

    path: str = "/"
    interval: Duration = Duration.seconds(10)
    timeout: Duration = Duration.seconds(5)
    healthy_threshold_count: int = 2
    unhealthy_threshold_count: int = 3
    healthy_http_codes: str = "200-399"
    healthy_grpc_codes: str = "12"
    """gRPC target groups (``protocol_version`` GRPC) only, where ``healthy_http_codes`` does not apply: the gRPC
    status codes of a healthy answer, 0 to 99 (``0``, ``0,12``, ``0-5``). There ``path`` is a gRPC method,
    ``/package.service/method``; the default ``/`` becomes AWS's ``/AWS.ALB/healthcheck``, which any gRPC server
    answers with 12 (UNIMPLEMENTED): alive, if not ready. Default: 12 (AWS's)."""


@dataclass(frozen=True, kw_only=True)
class ScheduledScalingProps:
    """A change of the scaling range at given times."""

    name: str
    schedule: appscaling.Schedule
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True, kw_only=True)
class ServiceScalingProps:
    """Service Auto Scaling (ARCH-5, HA-5). Every field has the default shown."""

    min_capacity: int = 2
    max_capacity: int = 4
    cpu_percent: int | None = 60
    """Target average CPU utilization; None: no CPU tracking."""
    memory_percent: int | None = None
    """Target average memory utilization; None: no memory tracking."""
    requests_per_task: int | None = None
    """Target ALB requests per task per minute; None: no request tracking."""
    scheduled: Sequence[ScheduledScalingProps] = ()
    time_zone: TimeZone | None = None
    """Time zone of the scheduled actions. Default: UTC."""


@dataclass(frozen=True, kw_only=True)
class RouteProps:
    """Which requests of the load balancer's listener reach the service (one listener rule)."""

    paths: Sequence[str] = ()
    """Path patterns such as ``/api/*``. Default: any path."""
    hosts: Sequence[str] = ()
    """Host names such as ``api.example.com``. Default: any host."""
    priority: int = CATCH_ALL_PRIORITY
    """Rule priority, unique on the listener; lower is evaluated first. Default: 50000 (last)."""


@dataclass(frozen=True, kw_only=True)
class ServiceConnectProps:
    """Membership of a Service Connect namespace (ARCH-7): the service calls others by name, and
    serves its traffic container's port as ``http://<dns_name>:<port>`` to the ``callers`` only."""

    namespace: cloudmap.INamespace
    """The namespace (an HTTP namespace, e.g. the cluster's default)."""
    callers: Sequence[ec2.ISecurityGroup] = ()
    """The caller groups (``caller_group`` of other services) let in on the served port. Default: none;
    a load balancer admits itself through its listener."""
    caller_group: ec2.ISecurityGroup | None = None
    """This service's identity as a caller: its tasks carry the group, servers that list it admit it.
    Default: none (the service calls no other through Service Connect)."""
    tls: ecs.ServiceConnectTlsConfiguration | None = None
    """TLS for the served port (see :class:`ServiceConnectTls`). Default: none (plaintext inside the VPC)."""
    dns_name: str | None = None
    """Name clients call. Default: ``service_name``, else the serving container's name."""
    per_request_timeout: Duration | None = None
    """Longest time a request may take through the proxy. Default: ECS's (15 seconds)."""
    idle_timeout: Duration | None = None
    """Idle connection timeout. Default: ECS's (5 minutes)."""


@dataclass(frozen=True, kw_only=True)
class WebServiceProps(WorkloadProps):
    load_balancer: LoadBalancer | None = None
    """The ALB whose listener routes to the service (see :class:`LoadBalancer`). Default: none, an
    internal service reached through ``service_connect`` only."""
    route: RouteProps = field(default_factory=RouteProps)
    """The listener rule of the service on ``load_balancer``. Default: every request (catch-all)."""
    deployment: DeploymentProps = field(default_factory=DeploymentProps)
    """Deployment strategy. Default: rolling, 100 % healthy kept, 200 % at most."""
    service_connect: ServiceConnectProps | None = None
    """Join a Service Connect namespace. Default: no Service Connect."""
    service_name: str | None = None
    """Service name, also its Name tag (CLI-6). Default: generated by CloudFormation, no Name tag."""
    desired_count: int = 2
    """Running tasks, 1 to 5,000, spread over AZs: two or more for HA-3 (one task is in one AZ; fine for a
    development environment). Default: 2."""
    target_container: str | None = None
    """Container that receives traffic. Default: the first container with a port."""
    target_group_label: str | None = None
    """A label in the construct IDs (so the identity) of the target groups: a new label gives new target
    groups, which moving the service to another load balancer needs (a target group serves one load
    balancer, and CloudFormation would attach the same one to the second). Default: none."""
    health_check: HealthCheckProps = field(default_factory=HealthCheckProps)
    """Load balancer health check (BP-2). Default: see :class:`HealthCheckProps`."""
    health_check_grace_period: Duration = Duration.seconds(60)
    """Time ECS ignores failing health checks after a task starts. Default: 60 seconds."""
    deregistration_delay: Duration = Duration.seconds(30)
    """Connection draining on scale-in and deploy. Default: 30 seconds (AWS default: 300)."""
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy] = ()
    """FARGATE / FARGATE_SPOT with base and weights (ARCH-3). Default: none (launch type FARGATE)."""
    scaling: ServiceScalingProps | None = None
    """Service Auto Scaling. Default: none (the desired count is fixed)."""
    rollback_on_alarm: bool = True
    """Roll a deployment back when the new tasks fail the ALB (unhealthy targets, target 5xx): HA-8.
    Default: true."""
    alarm_topic: sns.ITopic | None = None
    """Where this service's alarms notify (CPU, memory, running and pending tasks, deployment rollbacks, OBS-2).
    Default: a new :class:`NotificationTopic` of the service's, encrypted with ``messaging_key`` (subscribe to ``alarm_topic``)."""
    enable_execute_command: bool = False
    """Allow ECS Exec into the tasks; grant it with ``task_role.grant_ecs_exec(...)``. Default: false."""
    stickiness: Duration | None = None
    """Sticky sessions: the load balancer's cookie (``AWSALB``, lb_cookie) keeps a client on one task this long,
    1 second to 7 days. Needs ``load_balancer``. Default: none (every request is balanced)."""
    slow_start: Duration | None = None
    """Slow start: a new task's share of requests grows linearly over this time, 30 seconds to 15 minutes (caches,
    JIT warm-up). Needs ``load_balancer``. Default: none (a healthy task takes its full share at once)."""
    protocol_version: elbv2.ApplicationProtocolVersion = elbv2.ApplicationProtocolVersion.HTTP1
    """How the load balancer talks to the tasks: HTTP1, HTTP2 (h2c) or GRPC. HTTP2 and GRPC need an HTTPS
    listener (``load_balancer`` with a certificate: AWS serves them on HTTPS listeners only); GRPC checks health
    with gRPC status codes (``health_check.healthy_grpc_codes``). Default: HTTP1."""
    app_protocol: ecs.AppProtocol | None = None
    """Application protocol of the serving port (``ecs.AppProtocol.http``, ``http2``, ``grpc``): Service Connect then
    reports that protocol's metrics and retries that protocol's failures. Default: the serving container's own
    ``app_protocol``, else, with ``service_connect``, the one ``protocol_version`` implies (HTTP1: http, HTTP2:
    http2, GRPC: grpc); else none."""


class WebService(TaskAccessors, Construct):
    """A Fargate service in private subnets without public IPs, behind an ALB, reached by name
    through Service Connect, or both.

    Desired count at least 2 spread across AZs with AZ rebalancing (HA-3); a deployment
    circuit breaker with rollback (ARCH-8) and alarms that roll back (HA-8); rolling, blue/green,
    linear or canary deployments; a health check and grace period (BP-2); ``awslogs`` to a
    KMS-encrypted log group (BP-3); its own task and execution roles (BP-1). Without a load
    balancer, an internal service that others reach through Service Connect (ARCH-7).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: WebServiceProps) -> None:
        super().__init__(scope, construct_id)
        _validate(self, props)
        # The container that serves: the load balancer's target, or a Service Connect server's port.
        target = (
            _target_container(self, props.containers, props.target_container)
            if props.load_balancer or props.target_container
            else next((c for c in props.containers if c.port is not None), None)
        )
        if props.enable_execute_command:
            # The ECS Exec agent writes its state and logs; a read-only root filesystem needs those paths writable.
            props = replace(props, containers=[_with_exec_paths(c) for c in props.containers])
            target = next((c for c in props.containers if target is not None and c.name == target.name), None)
        app_protocol = _app_protocol(self, props, target)
        if target is not None and app_protocol is not None and target.app_protocol is None:
            # Service Connect reports a protocol's metrics, and retries its failures, when the port names the protocol.
            target = replace(target, app_protocol=app_protocol)
            props = replace(props, containers=[target if c.name == target.name else c for c in props.containers])
        self.task = FargateTask(self, "Task", props=props)
        self.security_group = props.security_group or WebTaskSecurityGroup(
            self, "SecurityGroup", props=SecurityGroupProps(vpc=props.cluster.vpc, name=props.service_name)
        )
        connect = props.service_connect
        self.service = private_service(
            self,
            "Service",
            props=props,
            task_definition=self.task.task_definition,
            security_groups=[self.security_group],
            service_name=props.service_name,
            desired_count=props.desired_count,
            health_check_grace_period=props.health_check_grace_period if props.load_balancer else None,
            capacity_provider_strategies=props.capacity_provider_strategies,
            deployment=props.deployment,
        )
        cfn_service = self.service.node.default_child
        assert isinstance(cfn_service, ecs.CfnService)
        if connect is not None and connect.caller_group is not None:
            # The tasks carry their caller group, ``service.connections`` does not: a load balancer lets
            # itself into this service's own group only, never into a group other servers admit.
            cfn_service.add_property_override(
                "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups",
                [self.security_group.security_group_id, connect.caller_group.security_group_id],
            )
        if props.enable_execute_command:
            # Set on the resource: CDK's enable_execute_command also grants logs:DescribeLogGroups
            # on '*'; TaskRole.grant_ecs_exec grants exactly what ECS Exec needs instead.
            cfn_service.enable_execute_command = True
        self.load_balancer = props.load_balancer
        self.target_group: elbv2.ApplicationTargetGroup | None = None
        """Where the load balancer sends production traffic (the blue revision, before a deployment)."""
        self.alternate_target_group: elbv2.ApplicationTargetGroup | None = None
        """Blue/green, linear and canary deployments: where the new revision starts."""
        self.listener_rule: elbv2.ApplicationListenerRule | None = None
        self.test_listener_rule: elbv2.ApplicationListenerRule | None = None
        self.url: str | None = None
        """Where the load balancer serves this service (its route's first literal host and path)."""
        self.origin: str | None = None
        """``scheme://host`` of :attr:`url`: where a check of an absolute path (the health check's) reaches the service."""
        if props.load_balancer is not None and target is not None:
            self._route(props, props.load_balancer, target)
            self.url = props.load_balancer.url(props.route.hosts, props.route.paths)
            self.origin = props.load_balancer.url(props.route.hosts)
        self.connect_endpoint: str | None = None
        """``http://<name>:<port>`` other services of the namespace call (Service Connect servers only)."""
        if connect is not None:
            self._join(props, connect, target)
        self.scaling: ecs.ScalableTaskCount | None = None
        self.scaling_min = props.scaling.min_capacity if props.scaling else props.desired_count
        if props.scaling is not None:
            self._scale(props.scaling)
        self.alarms: list[cloudwatch.Alarm] = []
        self.deployment_alarms: list[cloudwatch.Alarm] = []
        if props.rollback_on_alarm and self.target_group is not None:
            self._roll_back_on_alarm()
        self.alarm_topic: sns.ITopic = props.alarm_topic or NotificationTopic(
            self,
            "Alarms",
            props=NotificationTopicProps(
                key=props.message_key, display_name=f"{props.service_name or self.node.path} alarms", removal_policy=props.removal_policy
            ),
        )
        """Where the service's alarms notify."""
        self._alarm(self.alarm_topic)

    def _target_group(self, construct_id: str, props: WebServiceProps, port: int) -> elbv2.ApplicationTargetGroup:
        hc = props.health_check
        grpc = props.protocol_version == elbv2.ApplicationProtocolVersion.GRPC
        return elbv2.ApplicationTargetGroup(
            self,
            construct_id,
            vpc=props.cluster.vpc,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            # HTTP1 is the target group's default: left out, as before the field existed.
            protocol_version=None if props.protocol_version == elbv2.ApplicationProtocolVersion.HTTP1 else props.protocol_version,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=props.deregistration_delay,
            stickiness_cookie_duration=props.stickiness,
            slow_start=props.slow_start,
            health_check=elbv2.HealthCheck(
                enabled=True,
                path=(GRPC_HEALTH_CHECK_PATH if hc.path == "/" else hc.path) if grpc else hc.path,
                interval=hc.interval,
                timeout=hc.timeout,
                healthy_threshold_count=hc.healthy_threshold_count,
                unhealthy_threshold_count=hc.unhealthy_threshold_count,
                healthy_http_codes=None if grpc else hc.healthy_http_codes,
                healthy_grpc_codes=hc.healthy_grpc_codes if grpc else None,
            ),
        )

    def _route(self, props: WebServiceProps, load_balancer: LoadBalancer, target: ContainerProps) -> None:
        """ARCH-4: a listener rule to the target group; with a traffic-shifting deployment, a
        second (alternate) target group that ECS moves the traffic to, on this rule and on the
        test listener's."""
        assert target.port is not None
        label = f"-{props.target_group_label}" if props.target_group_label else ""
        self.target_group = self._target_group(f"Targets{label}", props, target.port)
        conditions = [elbv2.ListenerCondition.path_patterns(list(props.route.paths) or ["/*"])]
        if props.route.hosts:
            conditions.append(elbv2.ListenerCondition.host_headers(list(props.route.hosts)))
        listeners = {"Rule": load_balancer.listener}
        if props.deployment.shifts_traffic:
            self.alternate_target_group = self._target_group(f"AlternateTargets{label}", props, target.port)
            if load_balancer.test_listener is not None:
                listeners["TestRule"] = load_balancer.test_listener
        rules = [
            elbv2.ApplicationListenerRule(
                self, construct_id, listener=listener, priority=props.route.priority, conditions=conditions, action=self._forward()
            )
            for construct_id, listener in listeners.items()
        ]
        self.listener_rule, self.test_listener_rule = rules[0], (rules[1] if len(rules) > 1 else None)
        alternate: ecs.AlternateTarget | None = None
        if self.alternate_target_group is not None:
            role = self._load_balancer_role(props, list(listeners.values()), rules)
            alternate = ecs.AlternateTarget(
                "AlternateTarget",
                alternate_target_group=self.alternate_target_group,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.listener_rule),
                test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.test_listener_rule)
                if self.test_listener_rule
                else None,
                role=role,
            )
            # ECS checks the role's permissions when the service is created: the policy must exist first.
            assert role.scoped_policy is not None
            self.service.node.add_dependency(role.scoped_policy)
        self.service.load_balancer_target(
            container_name=target.name, container_port=target.port, alternate_target=alternate
        ).attach_to_application_target_group(self.target_group)

    def _forward(self) -> elbv2.ListenerAction:
        """To the target group; with an alternate one, 100/0 to the two (ECS shifts the weights)."""
        assert self.target_group is not None
        if self.alternate_target_group is None:
            return elbv2.ListenerAction.forward([self.target_group])
        return elbv2.ListenerAction.weighted_forward(
            [
                elbv2.WeightedTargetGroup(target_group=self.target_group, weight=100),
                elbv2.WeightedTargetGroup(target_group=self.alternate_target_group, weight=0),
            ]
        )

    def _load_balancer_role(
        self,
        props: WebServiceProps,
        listeners: Sequence[elbv2.ApplicationListener],
        rules: Sequence[elbv2.ApplicationListenerRule],
    ) -> ScopedRole:
        """The role ECS uses to move traffic between the target groups: exactly these rules and
        groups (CDK's default attaches the AWS managed AmazonECSInfrastructureRolePolicyForLoadBalancers, IAM-5)."""
        assert self.target_group is not None and self.alternate_target_group is not None
        role = ScopedRole(
            self,
            "LoadBalancerRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("ecs.amazonaws.com", scope=self),
                description=f"ECS moves {props.service_name or self.node.path}'s traffic between its target groups during deployments",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                resources=[self.target_group.target_group_arn, self.alternate_target_group.target_group_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["elasticloadbalancing:ModifyRule"], resources=[r.listener_rule_arn for r in rules])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["elasticloadbalancing:ModifyListener"], resources=[lst.listener_arn for lst in listeners])
        )
        return role

    def _join(self, props: WebServiceProps, connect: ServiceConnectProps, serving: ContainerProps | None) -> None:
        """ARCH-7: join the namespace; a service with a port also serves it by name, and lets the
        callers it names in on that port (SEC-2: from known groups only)."""
        services = []
        if serving is not None and serving.port is not None:
            dns_name = connect.dns_name or props.service_name or serving.name
            services.append(
                ecs.ServiceConnectService(
                    port_mapping_name=serving.name,
                    discovery_name=dns_name,
                    dns_name=dns_name,
                    port=serving.port,
                    per_request_timeout=connect.per_request_timeout,
                    idle_timeout=connect.idle_timeout,
                    tls=connect.tls,
                )
            )
            for caller in connect.callers:
                self.security_group.add_ingress_rule(caller, ec2.Port.tcp(serving.port), "Service Connect caller")
            self.connect_endpoint = f"http://{dns_name}:{serving.port}"
        self.service.enable_service_connect(
            namespace=connect.namespace.namespace_arn,
            services=services,
            log_driver=ecs.LogDriver.aws_logs(stream_prefix="service-connect", log_group=self.task.log_group),
        )

    def _scale(self, scaling: ServiceScalingProps) -> None:
        """ARCH-5 / HA-5: target tracking on the chosen metrics, scheduled changes of the range."""
        refuse(self, "scaling.min_capacity", SCALING_MIN_TASKS.check(scaling.min_capacity), scaling.min_capacity)
        refuse(self, "scaling.max_capacity", SCALING_MAX_TASKS.check(scaling.max_capacity), scaling.max_capacity)
        refuse(
            self,
            "scaling.min_capacity",
            check_task_range(scaling.min_capacity, scaling.max_capacity),
            scaling.min_capacity,
            scaling.max_capacity,
        )
        self.scaling = self.service.auto_scale_task_count(min_capacity=scaling.min_capacity, max_capacity=scaling.max_capacity)
        if scaling.cpu_percent is not None:
            self.scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=scaling.cpu_percent)
        if scaling.memory_percent is not None:
            self.scaling.scale_on_memory_utilization("Memory", target_utilization_percent=scaling.memory_percent)
        if scaling.requests_per_task is not None and self.target_group is not None:
            if self.alternate_target_group is None:
                self.scaling.scale_on_request_count(
                    "Requests", requests_per_target=scaling.requests_per_task, target_group=self.target_group
                )
            else:
                # Either target group may be the live one (ECS swaps them at each deployment): track both.
                track_metric_math(
                    self,
                    "Requests",
                    scaling=self.scaling,
                    target_value=scaling.requests_per_task,
                    expression=_SUM_OF_BOTH,
                    metrics=self._both(lambda tg: tg.metrics.request_count_per_target(period=Duration.minutes(1), statistic="Sum")),
                    label="Requests per target, both target groups",
                    scale_out_cooldown=Duration.minutes(1),
                )
        for action in scaling.scheduled:
            self.scaling.scale_on_schedule(
                action.name,
                schedule=action.schedule,
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
                time_zone=scaling.time_zone,
            )

    def _roll_back_on_alarm(self) -> None:
        """HA-8: alarms on the target group (not on the service's own metrics, so the service can
        reference them without a circular dependency) that roll a deployment back. With two target
        groups, on both: the new revision's is the one that matters during a deployment."""
        minute = Duration.minutes(1)
        for construct_id, metric, threshold, description in (
            ("UnhealthyTargets", self._target_metric(lambda tg: tg.metrics.unhealthy_host_count(period=minute, statistic="Maximum"),
                                                     _MAX_OF_BOTH, "Unhealthy targets"), 0,
             "targets failing the health check"),
            ("Target5xx", self._target_metric(lambda tg: tg.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=minute,
                                                                                      statistic="Sum"), _SUM_OF_BOTH, "Target 5xx"), 10,
             "more than 10 target 5xx responses a minute"),
        ):  # fmt: skip
            self.deployment_alarms.append(
                cloudwatch.Alarm(
                    self,
                    construct_id,
                    metric=metric,
                    threshold=threshold,
                    evaluation_periods=3,
                    datapoints_to_alarm=2,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{self.node.path}: {description} (rolls a deployment back)",
                )
            )
        # What FargateService.enable_deployment_alarms(..., ROLLBACK_ON_ALARM) writes, set on the resource:
        # that method prints an INFO notice at every synthesis for alarm names that are references
        # ("may cause a circular dependency"). These alarms watch the target groups, not the service,
        # so the service depends on them and nothing here depends on the service: there is no cycle.
        cfn_service = self.service.node.default_child
        assert isinstance(cfn_service, ecs.CfnService)
        cfn_service.add_property_override(
            "DeploymentConfiguration.Alarms",
            {"AlarmNames": [alarm.alarm_name for alarm in self.deployment_alarms], "Enable": True, "Rollback": True},
        )

    def _both(self, metric: Callable[[elbv2.ApplicationTargetGroup], cloudwatch.Metric]) -> dict[str, cloudwatch.Metric]:
        assert self.target_group is not None and self.alternate_target_group is not None
        return {"primary": metric(self.target_group), "alternate": metric(self.alternate_target_group)}

    def _target_metric(
        self, metric: Callable[[elbv2.ApplicationTargetGroup], cloudwatch.Metric], expression: str, label: str
    ) -> cloudwatch.IMetric:
        """A target-group metric: of the one group, or ``expression`` over both (traffic-shifting deployments)."""
        assert self.target_group is not None
        if self.alternate_target_group is None:
            return metric(self.target_group)
        return math_expression(expression, self._both(metric), label, Duration.minutes(1))

    def _alarm(self, topic: sns.ITopic) -> None:
        """OBS-2: alarms on the document's metrics, to ``topic``; task counts come from Container Insights."""
        self.alarms += service_alarms(self, self.service, min_running=self.scaling_min)
        for alarm in (*self.alarms, *self.deployment_alarms):
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))

    @property
    def connections(self) -> ec2.Connections:
        return self.service.connections

    def metric_cpu_utilization(self) -> cloudwatch.Metric:
        return self.service.metric_cpu_utilization()

    def metric_memory_utilization(self) -> cloudwatch.Metric:
        return self.service.metric_memory_utilization()


#: Where the ECS Exec agent (SSM) writes in a container: writable volumes there when the root filesystem is read-only.
EXEC_AGENT_PATHS = ("/var/lib/amazon", "/var/log/amazon")


def _with_exec_paths(container: ContainerProps) -> ContainerProps:
    if not container.readonly_root_filesystem:
        return container
    missing = [path for path in EXEC_AGENT_PATHS if path not in container.writable_paths]
    return replace(container, writable_paths=[*container.writable_paths, *missing])


_SUM_OF_BOTH = "FILL(primary, 0) + FILL(alternate, 0)"
_HTTP: ecs.AppProtocol = ecs.AppProtocol.http  # type: ignore[assignment]  # a jsii static property
_HTTP2: ecs.AppProtocol = ecs.AppProtocol.http2  # type: ignore[assignment]
_GRPC: ecs.AppProtocol = ecs.AppProtocol.grpc  # type: ignore[assignment]
#: The Service Connect application protocol each target group protocol version implies.
_IMPLIED_APP_PROTOCOL = {
    elbv2.ApplicationProtocolVersion.HTTP1: _HTTP,
    elbv2.ApplicationProtocolVersion.HTTP2: _HTTP2,
    elbv2.ApplicationProtocolVersion.GRPC: _GRPC,
}
#: AWS's default health check method of a gRPC target group.
GRPC_HEALTH_CHECK_PATH = "/AWS.ALB/healthcheck"
_GRPC_METHOD = re.compile(r"/[A-Za-z_][\w.]*/[A-Za-z_]\w*")
_GRPC_CODES = re.compile(r"\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*")
#: Target group attributes (ALB): deregistration delay, slow start, lb_cookie duration, in seconds.
DEREGISTRATION_DELAY_SECONDS = Range(0, 3600, "ALB deregistration_delay.timeout_seconds")
SLOW_START_SECONDS = Range(30, 900, "ALB slow_start.duration_seconds")
STICKINESS_SECONDS = Range(1, 604_800, "ALB stickiness.lb_cookie.duration_seconds: 1 second to 7 days")
_MAX_OF_BOTH = "MAX([FILL(primary, 0), FILL(alternate, 0)])"


def _validate(scope: Construct, props: WebServiceProps) -> None:
    """Impossible combinations, each named with what is allowed (the spec checks the same rules first)."""
    refuse(scope, "desired_count", SERVICE_TASKS.check(props.desired_count), props.desired_count)
    if props.load_balancer is None and props.service_connect is None:
        raise ConstructError(scope, "a service without load_balancer is unreachable; allowed: a load_balancer, service_connect, or both")
    if props.load_balancer is None and props.scaling is not None and props.scaling.requests_per_task is not None:
        raise ConstructError(scope, "scaling.requests_per_task reads the load balancer's metrics; allowed: with a load_balancer only")
    refuse(scope, "route.priority", RULE_PRIORITY.check(props.route.priority), props.route.priority)
    _validate_target_group(scope, props)
    connect = props.service_connect
    if connect is not None and (connect.callers or connect.tls) and not any(c.port is not None for c in props.containers):
        raise ConstructError(
            scope, "service_connect.callers and tls are for a server, and no container has a port; allowed: a container port, or neither"
        )


def _target_container(scope: Construct, containers: Sequence[ContainerProps], wanted: str | None) -> ContainerProps:
    name = serving_container([(c.name, c.port) for c in containers], wanted)
    for container in containers:
        if container.name == name:
            if container.port is None:
                raise ConstructError(scope, f"target container {container.name!r} has no port; allowed: a container with a port")
            return container
    names = ", ".join(c.name for c in containers)
    raise ConstructError(
        scope,
        f"no container {wanted!r} in this service; allowed: {names}"
        if wanted
        else "no container has a port for the load balancer; allowed: set port on the container that serves traffic",
    )


def _seconds(scope: Construct, field: str, value: Duration, allowed: Range) -> None:
    """``value`` in whole seconds within ``allowed``."""
    seconds = value.to_seconds(integral=False)
    if seconds != int(seconds):
        raise ConstructError(scope, f"{field}: {seconds} seconds; allowed: whole seconds, {allowed.low}..{allowed.high}")
    refuse(scope, field, allowed.check(int(seconds)), seconds)


def _validate_target_group(scope: Construct, props: WebServiceProps) -> None:
    """The target group's settings: AWS's ranges, and what needs a load balancer or an HTTPS listener."""
    _seconds(scope, "deregistration_delay", props.deregistration_delay, DEREGISTRATION_DELAY_SECONDS)
    version = props.protocol_version
    set_fields = {
        "stickiness": props.stickiness is not None,
        "slow_start": props.slow_start is not None,
        "protocol_version": version != elbv2.ApplicationProtocolVersion.HTTP1,
    }
    given = [name for name, is_set in set_fields.items() if is_set]
    if props.load_balancer is None and given:
        raise ConstructError(scope, f"{', '.join(given)} configure the load balancer's target group; allowed: with a load_balancer only")
    if props.stickiness is not None:
        _seconds(scope, "stickiness", props.stickiness, STICKINESS_SECONDS)
    if props.slow_start is not None:
        _seconds(scope, "slow_start", props.slow_start, SLOW_START_SECONDS)
    if props.load_balancer is not None and version != elbv2.ApplicationProtocolVersion.HTTP1 and not props.load_balancer.https:
        raise ConstructError(
            scope,
            f"protocol_version: {version.value} behind an HTTP listener; allowed: HTTP1, or {version.value} on a load balancer "
            "with a certificate (AWS serves HTTP/2 and gRPC target groups on HTTPS listeners only)",
        )
    if version == elbv2.ApplicationProtocolVersion.GRPC:
        hc = props.health_check
        if hc.path != "/" and not _GRPC_METHOD.fullmatch(hc.path):
            raise ConstructError(
                scope,
                f"health_check.path: {hc.path!r} is not a gRPC method; allowed: /package.service/method "
                f"(such as /grpc.health.v1.Health/Check), or '/' for {GRPC_HEALTH_CHECK_PATH}",
            )
        codes = hc.healthy_grpc_codes
        if not _GRPC_CODES.fullmatch(codes):
            raise ConstructError(
                scope, f"health_check.healthy_grpc_codes: {codes!r}; allowed: gRPC codes 0 to 99, as a list or ranges such as 0,12 or 0-5"
            )
    if props.load_balancer is not None and props.load_balancer.certificate_names is not None:
        _check_hosts_are_certified(scope, props.route.hosts, props.load_balancer.certificate_names)


def _check_hosts_are_certified(scope: Construct, hosts: Sequence[str], names: Sequence[str]) -> None:
    """A literal host of the route that the HTTPS certificate does not name would fail every client's TLS check."""
    for host in hosts:
        literal = host.lower()
        if set(literal) & set("*?"):
            continue  # a pattern: some of its matches may be certified
        parent = literal.split(".", 1)[1] if "." in literal else ""
        if literal not in names and f"*.{parent}" not in names:
            raise ConstructError(
                scope,
                f"route.hosts: {host!r} is not a name of the load balancer's certificate; allowed: {', '.join(names)} "
                "(or add it to the load balancer's aliases)",
            )


def _app_protocol(scope: Construct, props: WebServiceProps, target: ContainerProps | None) -> ecs.AppProtocol | None:
    """The serving port's application protocol: ``app_protocol``, the container's own, or with Service Connect the
    one ``protocol_version`` implies."""
    if props.app_protocol is not None:
        if target is None:
            raise ConstructError(
                scope, f"app_protocol: {props.app_protocol.value} and no container serves a port; allowed: a container port, or none"
            )
        if target.app_protocol is not None and target.app_protocol.value != props.app_protocol.value:
            raise ConstructError(
                scope,
                f"app_protocol: {props.app_protocol.value}, and container {target.name!r} says {target.app_protocol.value}; "
                "allowed: the same protocol, or either alone",
            )
        return props.app_protocol
    if props.service_connect is not None and target is not None:
        return target.app_protocol or _IMPLIED_APP_PROTOCOL[props.protocol_version]
    return None
