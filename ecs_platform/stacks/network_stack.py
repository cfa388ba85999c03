"""NetworkStack: the VPC, which outlives the workloads deployed into it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ecs_platform.constructs.network import Network, NetworkProps
from ecs_platform.spec.models import Spec
from ecs_platform.stacks.settings import removal_policy, retention


class NetworkStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, spec: Spec, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = Network(
            self,
            "Network",
            props=NetworkProps(
                availability_zones=spec.environment.availability_zones,
                cidr=spec.network.cidr,
                nat_gateways=spec.nat_gateways,
                flow_log_retention=retention(spec),
                removal_policy=removal_policy(spec),
            ),
        )
