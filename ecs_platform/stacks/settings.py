"""Translations from the spec to CDK values that several stacks share."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ecs_platform.constructs.fargate_task import ContainerProps
from ecs_platform.spec.limits import LOG_RETENTION_DAYS
from ecs_platform.spec.models import ContainerSpec, SecretRef, Spec


def removal_policy(spec: Spec) -> RemovalPolicy:
    """Production keeps stateful resources (logs, keys, queues) when a stack is deleted."""
    return RemovalPolicy.RETAIN if spec.environment.production else RemovalPolicy.DESTROY


_RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        list(logs.RetentionDays)[:-1],  # every member but INFINITE, in order of days
        strict=True,
    )
)


def retention(spec: Spec) -> logs.RetentionDays:
    return _RETENTION[spec.logs.retention_days]


def _secret(scope: Construct, construct_id: str, ref: SecretRef) -> ecs.Secret:
    if ref.secrets_manager is not None:
        arn, _, field = ref.secrets_manager.partition(":json-key:")
        secret = secretsmanager.Secret.from_secret_complete_arn(scope, construct_id, arn)
        return ecs.Secret.from_secrets_manager(secret, field.strip(":") or None)
    assert ref.ssm_parameter is not None
    name = ref.ssm_parameter.split(":parameter", 1)[-1] if ref.ssm_parameter.startswith("arn:") else ref.ssm_parameter
    parameter = ssm.StringParameter.from_secure_string_parameter_attributes(scope, construct_id, parameter_name=name)
    return ecs.Secret.from_ssm_parameter(parameter)


def container_props(scope: Construct, workload: str, spec: ContainerSpec) -> ContainerProps:
    return ContainerProps(
        name=spec.name,
        image=ecs.ContainerImage.from_registry(spec.image),
        port=spec.port,
        protocol=ecs.Protocol.TCP if spec.protocol == "tcp" else ecs.Protocol.UDP,
        essential=spec.essential,
        command=spec.command,
        cpu=spec.cpu,
        memory_limit_mib=spec.memory,
        environment=spec.environment,
        secrets={
            env_name: _secret(scope, f"{workload}-{spec.name}-{env_name}", ref) for env_name, ref in spec.secrets.items()
        },
    )
