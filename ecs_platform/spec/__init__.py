"""The declarative spec: models, loader and limit checks. Plain data; no CDK import."""

from ecs_platform.spec.loader import SpecError, load_spec, load_specs, parse_spec, parse_specs, select_environment
from ecs_platform.spec.models import (
    ContainerSpec,
    EnvironmentSpec,
    HealthCheckSpec,
    JobSpec,
    LoadBalancerSpec,
    ServiceSpec,
    Spec,
)

__all__ = [
    "ContainerSpec",
    "EnvironmentSpec",
    "HealthCheckSpec",
    "JobSpec",
    "LoadBalancerSpec",
    "ServiceSpec",
    "Spec",
    "SpecError",
    "load_spec",
    "load_specs",
    "parse_spec",
    "parse_specs",
    "select_environment",
]
