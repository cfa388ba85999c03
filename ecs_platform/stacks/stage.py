"""PlatformStage: one environment of the platform, its stacks split by lifecycle."""

from __future__ import annotations

from aws_cdk import Environment, Stack, Stage, Tags
from constructs import Construct

from ecs_platform.spec.models import Spec
from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.workload_stack import WorkloadStack

#: Services per stack: about 22 resources each keeps a stack well under CloudFormation's 500.
SERVICES_PER_STACK = 15


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
        chunks = [spec.services[i : i + SERVICES_PER_STACK] for i in range(0, len(spec.services), SERVICES_PER_STACK)] or [[]]
        self.workload_stack = WorkloadStack(
            self,
            "Workloads",
            spec=spec,
            network=self.network_stack.network,
            services=chunks[0],
            stack_name=f"{prefix}-workloads",
            description=f"{spec.app} ({env.name}): ECS cluster, services and jobs",
            termination_protection=env.production,
        )
        # More services than one stack holds: each further group in a stack of its own, which
        # imports the cluster, key and topics from the workload stack.
        self.service_stacks: list[Stack] = []
        for number, chunk in enumerate(chunks[1:], start=2):
            stack = Stack(
                self,
                f"Services{number}",
                stack_name=f"{prefix}-services-{number}",
                description=f"{spec.app} ({env.name}): services {', '.join(s.name for s in chunk)[:900]}",
                termination_protection=env.production,
            )
            for service in chunk:
                self.workload_stack.add_service(service, into=stack)
            self.service_stacks.append(stack)
        Tags.of(self).add("App", spec.app)
        Tags.of(self).add("Environment", env.name)
        for key, value in spec.tags.items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[Stack]:
        return [self.network_stack, self.workload_stack, *self.service_stacks]
