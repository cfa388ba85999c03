"""Translations from the spec to CDK values that several stacks share."""

from __future__ import annotations

import re

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ecs_platform.constructs.container_secret import ContainerSecret
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
    key = kms.Key.from_key_arn(scope, f"{construct_id}-Key", ref.kms_key) if ref.kms_key else None
    if ref.secrets_manager is not None:
        arn, _, field = ref.secrets_manager.partition(":json-key:")
        secret = secretsmanager.Secret.from_secret_complete_arn(scope, construct_id, arn)
        return ContainerSecret.of_secret(secret, field=field.strip(":") or None, key=key)
    assert ref.ssm_parameter is not None
    name = ref.ssm_parameter.split(":parameter", 1)[-1] if ref.ssm_parameter.startswith("arn:") else ref.ssm_parameter
    parameter = ssm.StringParameter.from_secure_string_parameter_attributes(scope, construct_id, parameter_name=name)
    return ContainerSecret.of_parameter(parameter, key=key)


_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def container_image(scope: Construct, construct_id: str, image: str) -> ecs.ContainerImage:
    """An ECR image becomes a repository reference, so the execution role's pull rights are
    scoped to that repository (IAM-1); any other registry is pulled by name."""
    match = _ECR_IMAGE.fullmatch(image)
    if not match:
        return ecs.ContainerImage.from_registry(image)
    partition = "aws-cn" if image.endswith(".cn") or ".amazonaws.com.cn/" in image else "aws"
    repository = ecr.Repository.from_repository_attributes(
        scope,
        construct_id,
        repository_arn=f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}",
        repository_name=match["repo"],
    )
    return ecs.ContainerImage.from_ecr_repository(repository, match["digest"] or match["tag"] or "latest")


def container_props(scope: Construct, workload: str, spec: ContainerSpec) -> ContainerProps:
    return ContainerProps(
        name=spec.name,
        image=container_image(scope, f"{workload}-{spec.name}-Image", spec.image),
        port=spec.port,
        protocol=ecs.Protocol.TCP if spec.protocol == "tcp" else ecs.Protocol.UDP,
        essential=spec.essential,
        command=spec.command,
        cpu=spec.cpu,
        memory_limit_mib=spec.memory,
        environment=spec.environment,
        readonly_root_filesystem=spec.readonly_root_filesystem,
        writable_paths=spec.writable_paths,
        user=spec.user,
        health_check=ecs.HealthCheck(
            command=spec.health_check.command,
            interval=Duration.seconds(spec.health_check.interval_seconds),
            timeout=Duration.seconds(spec.health_check.timeout_seconds),
            retries=spec.health_check.retries,
            start_period=Duration.seconds(spec.health_check.start_period_seconds),
        )
        if spec.health_check
        else None,
        secrets={env_name: _secret(scope, f"{workload}-{spec.name}-{env_name}", ref) for env_name, ref in spec.secrets.items()},
    )
