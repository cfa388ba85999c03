"""Thin stacks that wire constructs together; :mod:`ecs_platform.stacks.translate` turns the spec into their props."""

from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.services_stack import ServicesStack
from ecs_platform.stacks.stage import PlatformStage
from ecs_platform.stacks.workload_stack import WorkloadStack

__all__ = ["NetworkStack", "PlatformStage", "ServicesStack", "WorkloadStack"]
