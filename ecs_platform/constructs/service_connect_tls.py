"""ServiceConnectTls: TLS between Service Connect services, certificates from AWS Private CA.

ECS issues each server's certificate from the private certificate authority, keeps it in a
Secrets Manager secret named ``ecs-sc!…`` that it creates, tags and rotates, and the Service
Connect proxies of callers verify it. ECS does this with an infrastructure role; this one is
limited to the one certificate authority (end-entity certificates only) and to the secrets ECS
creates in this account and region, where the AWS managed policy allows every authority tagged
``AmazonECSManaged``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal

#: The only certificate template ECS asks Private CA for: a server certificate.
END_ENTITY_TEMPLATE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"
#: The secrets ECS creates for the certificates it issues.
SECRET_NAME_PREFIX = "ecs-sc!"  # noqa: S105 (a name prefix, not a password)


@dataclass(frozen=True, kw_only=True)
class ServiceConnectTlsProps:
    certificate_authority_arn: str
    """ARN of the AWS Private CA (``arn:aws:acm-pca:…:certificate-authority/…``) that issues the servers' certificates."""
    key: kms.IKey | None = None
    """Encrypts the secrets that hold the certificates' private keys. Default: Secrets Manager's AWS managed key."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the infrastructure role. Default: none."""


class ServiceConnectTls(Construct):
    """The infrastructure role ECS uses for Service Connect TLS, and the configuration servers take
    (:attr:`configuration`, for ``ServiceConnectProps.tls``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ServiceConnectTlsProps) -> None:
        super().__init__(scope, construct_id)
        ca = props.certificate_authority_arn
        stack = Stack.of(self)
        self.role = ScopedRole(
            self,
            "Role",
            props=ScopedRoleProps(
                assumed_by=service_principal("ecs.amazonaws.com", scope=self),
                description="ECS issues and rotates Service Connect TLS certificates from one private CA",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        """The role ECS assumes to issue certificates and keep them in secrets."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["acm-pca:IssueCertificate"],
                resources=[ca],
                conditions={"StringEquals": {"acm-pca:TemplateArn": END_ENTITY_TEMPLATE}},
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["acm-pca:GetCertificate", "acm-pca:GetCertificateAuthorityCertificate", "acm-pca:DescribeCertificateAuthority"],
                resources=[ca],
            )
        )
        secrets = stack.format_arn(
            service="secretsmanager", resource="secret", resource_name=f"{SECRET_NAME_PREFIX}*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        created_by_ecs = {
            "ArnLike": {"aws:RequestTag/AmazonECSCreated": [_ecs_arn(stack, "service/*/*"), _ecs_arn(stack, "task-set/*/*")]},
            "StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"},
        }
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:CreateSecret", "secretsmanager:TagResource"], resources=[secrets], conditions=created_by_ecs
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:UpdateSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:RotateSecret",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                resources=[secrets],
                conditions={"StringEquals": {"secretsmanager:ResourceTag/aws:secretsmanager:owningService": "ecs-sc"}},
            )
        )
        if props.key is not None:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[props.key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
                )
            )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, secrets)}]",
            "ECS names the certificate secrets it creates (ecs-sc!<generated>); the statements allow only those, "
            "created with ECS's tags, in this account and region.",
        )
        self.configuration = ecs.ServiceConnectTlsConfiguration(aws_pca_authority_arn=ca, kms_key=props.key, role=self.role)
        """What a Service Connect server takes as ``tls``."""


def _ecs_arn(stack: Stack, resource: str) -> str:
    kind, name = resource.split("/", 1)
    return stack.format_arn(service="ecs", resource=kind, resource_name=name)
