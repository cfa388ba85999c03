"""PlatformStage: one environment of the platform, its stacks split by lifecycle."""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, Environment, Stack, Stage, Tags
from constructs import Construct, IConstruct, IValidation

from ecs_platform.spec.limits import MAX_RESOURCES_PER_STACK
from ecs_platform.spec.models import Spec
from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.workload_stack import WorkloadStack

#: Services per stack: a stack of many small services stays easy to read and deploy.
SERVICES_PER_STACK = 15
#: Resources a stack is filled to; CloudFormation allows 500 (limits.MAX_RESOURCES_PER_STACK).
RESOURCE_BUDGET = 450


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
        return [f"{self._stack.stack_name} has {count} resources; allowed: at most {MAX_RESOURCES_PER_STACK} per stack (CloudFormation)"]


class PlatformStage(Stage):
    """``Network`` (long-lived VPC) and ``Workloads`` (cluster, services, jobs) of one environment."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: Spec, account: str | None = None) -> None:
        env = spec.environment
        super().__init__(scope, construct_id, env=Environment(account=env.account or account, region=env.region))
        if env.account:
            # The spec names the AZs; tell CDK, so a concrete account needs no AWS lookup at synthesis.
            self.node.set_context(f"availability-zones:account={env.account}:region={env.region}", list(env.availability_zones))
        prefix = f"{spec.app}-{env.name}"
        self.network_stack = NetworkStack(
            self,
            "Network",
            spec=spec,
            stack_name=f"{prefix}-network",
            description=f"{spec.app} ({env.name}): VPC, subnets, flow logs",
            termination_protection=env.production,
        )
        self.workload_stack = WorkloadStack(
            self,
            "Workloads",
            spec=spec,
            network=self.network_stack.network,
            services=[],
            stack_name=f"{prefix}-workloads",
            description=f"{spec.app} ({env.name}): ECS cluster, services and jobs",
            termination_protection=env.production,
        )
        # Services fill the workload stack, then further stacks that import the cluster, key,
        # namespace, shared load balancers and topics from it: at most SERVICES_PER_STACK each,
        # and never past RESOURCE_BUDGET (the largest service so far must still fit).
        self.service_stacks: list[Stack] = []
        stack: Stack = self.workload_stack
        count, largest = _resources(stack), 0
        names: list[str] = []
        for service in spec.services:
            if len(names) == SERVICES_PER_STACK or count + largest > RESOURCE_BUDGET:
                if stack is not self.workload_stack:
                    stack.template_options.description = f"{spec.app} ({env.name}): services {', '.join(names)}"[:1024]
                stack = Stack(
                    self,
                    f"Services{len(self.service_stacks) + 2}",
                    stack_name=f"{prefix}-services-{len(self.service_stacks) + 2}",
                    termination_protection=env.production,
                )
                self.service_stacks.append(stack)
                count, names = 0, []
            built = self.workload_stack.add_service(service, into=None if stack is self.workload_stack else stack)
            # Rules that CDK places beside the load balancer's group are not counted: the budget's margin covers them.
            size = _resources(built.node.scope)
            count, largest = count + size, max(largest, size)
            names.append(service.name)
        if stack is not self.workload_stack:
            stack.template_options.description = f"{spec.app} ({env.name}): services {', '.join(names)}"[:1024]
        for stack in self.stacks:
            stack.node.add_validation(_ResourceLimit(stack))
        Tags.of(self).add("App", spec.app)
        Tags.of(self).add("Environment", env.name)
        for key, value in spec.tags.items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[Stack]:
        return [self.network_stack, self.workload_stack, *self.service_stacks]
