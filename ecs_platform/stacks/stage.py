"""PlatformStage: one environment of the platform, its stacks split by lifecycle."""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, Environment, Stack, Stage, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct, IValidation

from ecs_platform.context import availability_zones_context
from ecs_platform.limits import MAX_RESOURCES_PER_STACK
from ecs_platform.outputs import output_prefix
from ecs_platform.spec.models import Spec
from ecs_platform.stacks.connections import connect
from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.services_stack import ServiceHost, ServicesStack
from ecs_platform.stacks.translate import Translation
from ecs_platform.stacks.workload_stack import WorkloadStack


def _resources(scope: IConstruct | None) -> int:
    """CloudFormation resources under ``scope``."""
    assert scope is not None
    return sum(1 for c in scope.node.find_all() if isinstance(c, CfnResource))


@jsii.implements(IValidation)
class _ResourceLimit:
    """CloudFormation refuses a stack of more than 500 resources: say so at synthesis, not at deploy."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        count = _resources(self._stack)
        if count <= MAX_RESOURCES_PER_STACK:
            return []
        return [
            f"{self._stack.stack_name} has {count} resources; allowed: at most {MAX_RESOURCES_PER_STACK} per stack (CloudFormation): "
            "give some of its services a stack of their own (stack: <name> in the spec)"
        ]


class PlatformStage(Stage):
    """``Network`` (long-lived VPC), ``Workloads`` (the shared platform, jobs, workers, the first
    services) and ``Services2``, ... (further services) of one environment."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: Spec, account: str | None = None) -> None:
        t = Translation(spec)
        super().__init__(scope, construct_id, env=Environment(account=t.account or account, region=t.region))
        if t.account:
            # The spec names the AZs; tell CDK, so a concrete account needs no AWS lookup at synthesis.
            for context_key, zones in availability_zones_context(t.account, t.region, t.availability_zones).items():
                self.node.set_context(context_key, zones)
        label = f"{t.app} ({t.environment})"
        # The stacks' own tags (with @aws-cdk/core:explicitStackTags, Tags.of() tags only the resources):
        # `ecs-platform preflight` finds the deployed stacks of this app and environment by them.
        stack_tags = {"App": t.app, "Environment": t.environment}
        # An existing VPC without endpoints leaves the network stack nothing to create (CloudFormation refuses an empty
        # stack): the VPC is then imported where the workloads are.
        self.network_stack: NetworkStack | None = (
            NetworkStack(
                self,
                "Network",
                props=t.network(),
                stack_name=f"{t.name_prefix}-network",
                tags=stack_tags,
                description=f"{label}: VPC, subnets, flow logs",
                termination_protection=t.production,
            )
            if t.network_stack
            else None
        )
        self.workload_stack = WorkloadStack(
            self,
            "Workloads",
            translation=t,
            network=self.network_stack.network if self.network_stack else None,
            stack_name=f"{t.name_prefix}-workloads",
            tags=stack_tags,
            description=f"{label}: ECS cluster, services and jobs",
            termination_protection=t.production,
        )
        # Each service lives in the stack its spec names (the workload stack by default): never one
        # chosen by its position, so adding or removing another service moves nothing.
        self.service_stacks: list[ServicesStack] = []
        for name in t.service_stacks.get(None, []):
            self.workload_stack.add_service(name)
        for group in sorted(g for g in t.service_stacks if g is not None):
            names = t.service_stacks[group]
            stack = ServicesStack(
                self,
                output_prefix(group),  # services-2 -> Services2, as ecs-platform 0.1 named its second stack
                translation=t,
                network=self.workload_stack.network,
                platform=self.workload_stack.platform,
                shared_load_balancers=self.workload_stack.shared_load_balancers,
                stack_name=f"{t.name_prefix}-{group}",
                tags=stack_tags,
                description=f"{label}: services {', '.join(names)}"[:1024],
                termination_protection=t.production,
            )
            for name in names:
                stack.add_service(name)
            self.service_stacks.append(stack)
        workloads = {**self.workload_stack.jobs, **self.workload_stack.workers}
        hosts: list[ServiceHost] = [self.workload_stack, *self.service_stacks]
        for host in hosts:
            workloads.update(host.services)
        network = self.workload_stack.network
        connect(t, workloads, self.workload_stack.workers, self.workload_stack.topics, network)
        if network.endpoints_security_group is not None and self.workload_stack.capacity:
            network.allow_endpoints_from(self.workload_stack.platform.instances_security_group)
        # A dashboard per stack that holds workloads (an earlier stack cannot read a later one's
        # resources): the environment's, with the cluster, in the workload stack.
        self.workload_stack.add_dashboard(t.name_prefix, cluster_row=True, ec2_capacity=self.workload_stack.ec2_capacity)
        for stack in self.service_stacks:
            stack.add_dashboard(stack.stack_name, cluster_row=False)
        for each in self.stacks:
            each.node.add_validation(_ResourceLimit(each))
            if t.permissions_boundary:
                # Every role, the platform's own (scheduler, state machine, flow logs, load balancer
                # infrastructure) and CDK's alike: an organization that requires a boundary gets it.
                boundary = each.node.try_find_child("PermissionsBoundary") or iam.ManagedPolicy.from_managed_policy_arn(
                    each, "PermissionsBoundary", t.permissions_boundary
                )
                iam.PermissionsBoundary.of(each).apply(boundary)  # type: ignore[arg-type]
        Tags.of(self).add("App", t.app)
        Tags.of(self).add("Environment", t.environment)
        for key, value in t.tags.items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[Stack]:
        return [*([self.network_stack] if self.network_stack else []), self.workload_stack, *self.service_stacks]
