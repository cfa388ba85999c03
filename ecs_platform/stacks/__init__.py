"""Thin stacks that translate the spec into construct props and wire constructs together."""

from ecs_platform.stacks.network_stack import NetworkStack
from ecs_platform.stacks.stage import PlatformStage
from ecs_platform.stacks.workload_stack import WorkloadStack

__all__ = ["NetworkStack", "PlatformStage", "WorkloadStack"]
