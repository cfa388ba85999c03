"""PlatformStage: one environment of the platform, its stacks split by lifecycle."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from ecs_platform.spec.models import Spec
from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.workload_stack import WorkloadStack


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
            stack_name=f"{prefix}-workloads",
            description=f"{spec.app} ({env.name}): ECS cluster, services and jobs",
            termination_protection=env.production,
        )
        Tags.of(self).add("App", spec.app)
        Tags.of(self).add("Environment", env.name)
        for key, value in spec.tags.items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[NetworkStack | WorkloadStack]:
        return [self.network_stack, self.workload_stack]
