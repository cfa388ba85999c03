"""ContainerSecret: a container secret whose execution-role grant is exactly IAM-3 / IAM-4."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam

from ecs_platform.integrations import INTEGRATIONS, KMS_ACTIONS

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_ssm as ssm


#: What the execution role may do to inject a secret (IAM-3, IAM-4): the same actions as the task
#: role's secrets_manager and ssm_parameters integrations, and kms:Decrypt.
EXECUTION_ROLE_ACTIONS: Mapping[str, Sequence[str]] = {
    "secrets_manager": INTEGRATIONS["secrets_manager"].actions[""],
    "ssm_parameter": INTEGRATIONS["ssm_parameters"].actions[""],
    "kms": KMS_ACTIONS["read"],
}


class ContainerSecret(ecs.Secret):
    """Like ``ecs.Secret.from_secrets_manager`` / ``from_ssm_parameter`` (here ``of_secret`` /
    ``of_parameter``), but the execution role gets
    only the document's actions on the one secret or parameter (CDK's own adds DescribeSecret,
    DescribeParameters and GetParameterHistory), plus ``kms:Decrypt`` on its customer-managed key
    through the owning service when a key is given."""

    def __init__(self, *, arn: str, resource_arn: str, service: str, key: kms.IKey | None, has_field: bool) -> None:
        super().__init__()
        self._arn = arn
        self._resource_arn = resource_arn
        self._service = service
        self._key = key
        self._has_field = has_field

    @classmethod
    def of_secret(
        cls,
        secret: secretsmanager.ISecret,
        *,
        field: str | None = None,
        version_stage: str | None = None,
        version_id: str | None = None,
        key: kms.IKey | None = None,
    ) -> ContainerSecret:
        """A whole secret, or one JSON ``field`` of it; its current version, or the one of ``version_stage``
        or ``version_id`` (ECS's ``valueFrom``: ``<arn>:<field>:<stage>:<id>``)."""
        given = (field, version_stage, version_id)
        arn = secret.secret_arn if given == (None, None, None) else ":".join([secret.secret_arn, *(part or "" for part in given)])
        return cls(arn=arn, resource_arn=secret.secret_arn, service="secrets_manager", key=key, has_field=field is not None)

    @classmethod
    def of_parameter(cls, parameter: ssm.IParameter, *, key: kms.IKey | None = None) -> ContainerSecret:
        """A (SecureString) parameter."""
        return cls(arn=parameter.parameter_arn, resource_arn=parameter.parameter_arn, service="ssm_parameter", key=key, has_field=False)

    @property
    def arn(self) -> str:
        return self._arn

    @property
    def has_field(self) -> bool | None:
        return self._has_field

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=list(EXECUTION_ROLE_ACTIONS[self._service]), resource_arns=[self._resource_arn]
        )
        if self._key is None:
            return grant
        via = "secretsmanager" if self._service == "secrets_manager" else "ssm"
        region = Stack.of(self._key).region
        key_grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(EXECUTION_ROLE_ACTIONS["kms"]),
            resource_arns=[self._key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"{via}.{region}.amazonaws.com"}},
        )
        return grant.combine(key_grant)
