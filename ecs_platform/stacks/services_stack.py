"""ServicesStack: web services of one environment, on the platform of its workload stack.

A spec with many services puts each further group of them in a stack of its own (CloudFormation
allows 500 resources a stack); every service is built the same way wherever it lands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, CfnResource, Stack, Tags
from constructs import Construct

from ecs_platform.constructs import (
    BatchJob,
    LoadBalancer,
    LoadBalancerProps,
    Network,
    PlatformDashboard,
    PlatformDashboardProps,
    QueueWorker,
    SmokeCheck,
    TaskAccessors,
    WebService,
    WorkloadPlatform,
    apply_overrides,
)
from ecs_platform.outputs import DASHBOARD_URL, OVERRIDES_METADATA, SERVICE_NAME, output_prefix
from ecs_platform.stacks.identity import keep_beside_parent
from ecs_platform.stacks.translate import Translation


def output(scope: Construct, name: str, value: str, description: str) -> CfnOutput:
    """A stack output whose logical ID is ``name`` exactly, so tools can read it by name."""
    made = CfnOutput(scope, name, value=value, description=description)
    made.override_logical_id(name)
    return made


def tag(scope: Construct, tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        Tags.of(scope).add(key, value)


def adopt(scope: Construct, name: str, workload: TaskAccessors, translation: Translation, platform: WorkloadPlatform) -> str:
    """The spec's access and image grants and tags for workload ``name`` under ``scope``; returns the prefix of its outputs."""
    translation.grant_access(scope, name, workload.task_role, platform)
    translation.grant_image_pulls(scope, name, workload.execution_role)
    tag(scope, translation.workload_tags(name))
    translation.attach_volumes(scope, name, workload, platform)
    override(workload, translation.overrides(name))
    return output_prefix(name)


def override(workload: TaskAccessors, overrides: Mapping[str, Mapping[str, Any]]) -> None:
    """The spec's CloudFormation overrides of the workload's task definition and service (the escape hatch), each
    listed in the resource's metadata."""
    targets = {"task_definition": workload.task_definition, "service": getattr(workload, "service", None)}
    for kind, values in overrides.items():
        target = targets[kind]
        if not values or target is None:
            continue
        resource = target.node.default_child
        assert isinstance(resource, CfnResource)
        resource.add_metadata(OVERRIDES_METADATA, apply_overrides(resource, values))


def load_balancer(scope: Construct, props: LoadBalancerProps) -> LoadBalancer:
    """A load balancer with its certificate and alias (ecs-platform 0.1 built those two beside it: they keep their logical IDs)."""
    built = LoadBalancer(scope, "LoadBalancer", props=props)
    keep_beside_parent(built, ("Certificate", "Alias"))
    return built


def add_service(
    stack: ServiceHost,
    name: str,
    *,
    translation: Translation,
    network: Network,
    platform: WorkloadPlatform,
    shared_load_balancers: Mapping[str, LoadBalancer],
) -> WebService:
    """Build service ``name`` in ``stack``: its load balancer of its own (or a rule on a shared
    one), the service, its access grants, tags and outputs."""
    scope = Construct(stack, f"Service-{name}")
    own = translation.own_load_balancer(scope, name, network, platform)
    shared = translation.shared_load_balancer_of(name)
    alb = load_balancer(scope, own) if own else shared_load_balancers[shared] if shared else None
    service = WebService(scope, "WebService", props=translation.web_service(scope, name, network, platform, alb))
    prefix = adopt(scope, name, service, translation, platform)
    if service.url is not None:
        output(scope, f"{prefix}Url", service.url, f"{name}: its URL on the load balancer")
    if service.connect_endpoint is not None:
        output(scope, f"{prefix}ConnectEndpoint", service.connect_endpoint, f"{name}: its name for the other services (ARCH-7)")
    output(scope, f"{prefix}{SERVICE_NAME}", service.service.service_name, f"{name}: ECS service (CLI-8)")
    output(scope, f"{prefix}TaskDefinition", service.task_definition.task_definition_arn, f"{name}: task definition (CLI-8)")
    path = translation.smoke_check_path(name)
    if path is not None and service.origin is not None:
        origin = output(scope, f"{prefix}Origin", service.origin, f"{name}: where the pipeline's smoke check asks {path}")
        stack.smoke_checks.append(SmokeCheck(name=name, url=origin, path=path))
    return service


class ServiceHost(Stack):
    """A stack that holds web services, built on its environment's platform. Subclasses set the
    platform and the shared load balancers before they add services."""

    translation: Translation
    network: Network
    platform: WorkloadPlatform
    shared_load_balancers: Mapping[str, LoadBalancer]

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.services: dict[str, WebService] = {}
        """The services built here, by name."""
        self.workers: dict[str, QueueWorker] = {}
        """The queue workers built here, by name."""
        self.jobs: dict[str, BatchJob] = {}
        """The jobs built here, by name."""
        self.smoke_checks: list[SmokeCheck] = []
        """What the delivery pipeline checks of these services once their environment is deployed."""

    def add_service(self, name: str) -> WebService:
        """Build service ``name`` here."""
        service = add_service(
            self,
            name,
            translation=self.translation,
            network=self.network,
            platform=self.platform,
            shared_load_balancers=self.shared_load_balancers,
        )
        self.services[name] = service
        return service

    def add_dashboard(self, dashboard_name: str, *, cluster_row: bool, ec2_capacity: bool = False) -> PlatformDashboard:
        """The dashboard of what this stack holds (OBS-2), once its workloads are built; its URL is the
        output ``DashboardUrl``."""
        dashboard = PlatformDashboard(
            self,
            "Dashboard",
            props=PlatformDashboardProps(
                cluster=self.platform.cluster,
                dashboard_name=dashboard_name,
                cluster_row=cluster_row,
                ec2_capacity=ec2_capacity,
                services=self.services,
                workers=self.workers,
                jobs=self.jobs,
            ),
        )
        output(self, DASHBOARD_URL, dashboard.url, "CloudWatch dashboard (OBS-2)")
        return dashboard


class ServicesStack(ServiceHost):
    """Web services built on the platform (cluster, key, namespace, topics) and shared load
    balancers of the environment's workload stack, which this stack imports them from."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        translation: Translation,
        network: Network,
        platform: WorkloadPlatform,
        shared_load_balancers: Mapping[str, LoadBalancer],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.translation = translation
        self.network = network
        self.platform = platform
        self.shared_load_balancers = shared_load_balancers
