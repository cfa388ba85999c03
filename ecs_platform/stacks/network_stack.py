"""NetworkStack: the VPC, which outlives the workloads deployed into it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ecs_platform.constructs import Network, NetworkProps


class NetworkStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = Network(self, "Network", props=props)
        for value in self.network.shared_values:
            self.export_value(value)  # exported whether or not a stack imports it today (see WorkloadStack)
