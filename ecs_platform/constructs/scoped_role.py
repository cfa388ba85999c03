"""ScopedRole: an IAM role whose grants all land in one customer-managed policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct


class ScopedRole(iam.Role):
    """An :class:`iam.Role` that collects every grant in one customer-managed policy.

    CDK puts grants in an inline ``DefaultPolicy``, which the NIST 800-53, HIPAA and
    PCI DSS packs reject (IAMNoInlinePolicy). Every ``grant_*`` call, and every
    ``add_to_principal_policy`` / ``add_to_policy``, lands here instead in a single
    ``AWS::IAM::ManagedPolicy`` named ``Policy`` under this role, created on the first
    grant (a role without grants has no policy). No AWS managed policy is attached.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assumed_by: iam.IPrincipal,
        description: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=assumed_by,
            description=description,
            permissions_boundary=permissions_boundary,
        )
        self._scoped_policy: iam.ManagedPolicy | None = None

    @property
    def scoped_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding this role's grants (None until the first grant)."""
        return self._scoped_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        if self._scoped_policy is None:
            self._scoped_policy = iam.ManagedPolicy(self, "Policy", roles=[self])
        self._scoped_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._scoped_policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added


def service_principal(
    service: str, *, account: str, source_arn: str | None = None, extra: Mapping[str, Any] | None = None
) -> iam.ServicePrincipal:
    """A service principal limited to this account (and source ARN): confused-deputy protection."""
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    conditions.update(extra or {})
    return iam.ServicePrincipal(service, conditions=conditions)


class EcsTasksRole(ScopedRole):
    """A :class:`ScopedRole` trusted by ``ecs-tasks.amazonaws.com`` for this account's tasks only (IAM-6).

    The trust policy adds ``aws:SourceAccount`` and ``aws:SourceArn`` conditions, so
    another account's ECS cannot be tricked into assuming it (confused deputy).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        stack = Stack.of(scope)
        super().__init__(
            scope,
            construct_id,
            assumed_by=service_principal(
                "ecs-tasks.amazonaws.com",
                account=stack.account,
                source_arn=stack.format_arn(service="ecs", resource="*"),
            ),
            description=description,
            permissions_boundary=permissions_boundary,
        )
