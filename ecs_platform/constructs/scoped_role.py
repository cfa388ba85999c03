"""ScopedRole: an IAM role whose grants all land in one customer-managed policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge
from ecs_platform.constructs.errors import ConstructError
from ecs_platform.constructs.source_conditions import service_principal

#: The EC2 reads ECS Managed Instances makes (no resource-level permission; see RESOURCE_WILDCARD_ONLY).
MANAGED_INSTANCES_DESCRIBE_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCapacityReservations",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)

#: The one place that lists actions AWS offers no resource-level permission for: granted on
#: ``*`` (and acknowledged for cdk-nag IAM5 with this reason), never anything else on ``*``.
RESOURCE_WILDCARD_ONLY: Mapping[str, str] = {
    "ecr:GetAuthorizationToken": "ecr:GetAuthorizationToken has no resource-level permission (the token is per registry login).",
    "cloudwatch:PutMetricData": (
        "cloudwatch:PutMetricData has no resource-level permission; it is limited by the cloudwatch:namespace condition."
    ),
    "xray:PutTraceSegments": "X-Ray trace APIs have no resource-level permission.",
    "xray:PutTelemetryRecords": "X-Ray trace APIs have no resource-level permission.",
    "ssmmessages:CreateControlChannel": "ECS Exec's Session Manager channels have no resource-level permission.",
    "ssmmessages:CreateDataChannel": "ECS Exec's Session Manager channels have no resource-level permission.",
    "ssmmessages:OpenControlChannel": "ECS Exec's Session Manager channels have no resource-level permission.",
    "ssmmessages:OpenDataChannel": "ECS Exec's Session Manager channels have no resource-level permission.",
    "xray:GetSamplingRules": "X-Ray sampling APIs have no resource-level permission (state machine tracing).",
    "xray:GetSamplingTargets": "X-Ray sampling APIs have no resource-level permission (state machine tracing).",
    **dict.fromkeys(
        (
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        ),
        "CloudWatch Logs vended-log delivery (state machine logging) is configured through account-level APIs on '*'.",
    ),
    **dict.fromkeys(
        (
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
        ),
        "Elastic Load Balancing Describe* actions have no resource-level permission (ECS reads the rules it shifts traffic on).",
    ),
    "ecs:DiscoverPollEndpoint": "ecs:DiscoverPollEndpoint (the ECS agent asking where to poll) has no resource-level permission.",
    **dict.fromkeys(
        MANAGED_INSTANCES_DESCRIBE_ACTIONS,
        "EC2 Describe* actions have no resource-level permission (ECS Managed Instances reads the network and instance types).",
    ),
    "ec2:DescribeVolumes": "ec2:DescribeVolumes has no resource-level permission (ECS follows the EBS volumes it attaches to tasks).",
    "cloudformation:ListStacks": "cloudformation:ListStacks has no resource-level permission (the deploy preflight lists the stacks).",
    "cloudformation:DescribeStacks": (
        "cloudformation:DescribeStacks without a stack name (the deploy preflight lists every stack to find its app's by tag) "
        "is authorized on '*' only, and AWS documents that it also needs cloudformation:ListStacks."
    ),
}


@dataclass(frozen=True, kw_only=True)
class ScopedRoleProps:
    assumed_by: iam.IPrincipal
    """Who may assume the role (use :func:`service_principal` for a service, with its source conditions)."""
    description: str | None = None
    """Description of the role. Default: none."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the role. Default: none."""


@dataclass(frozen=True, kw_only=True)
class EcsTaskRoleProps:
    """Props of the roles ECS tasks assume (:class:`TaskRole`, :class:`ExecutionRole`)."""

    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the role. Default: none."""


class ScopedRole(iam.Role):
    """An :class:`iam.Role` that collects every grant in one customer-managed policy.

    CDK puts grants in an inline ``DefaultPolicy``, which the NIST 800-53, HIPAA and
    PCI DSS packs reject (IAMNoInlinePolicy). Every ``grant_*`` call, and every
    ``add_to_principal_policy`` / ``add_to_policy``, lands here instead in a single
    ``AWS::IAM::ManagedPolicy`` named ``Policy`` under this role, created on the first
    grant (a role without grants has no policy). No AWS managed policy is attached.

    An Allow statement on resource ``*`` is accepted only for the actions in
    :data:`RESOURCE_WILDCARD_ONLY`, and is then acknowledged for cdk-nag with the
    reason listed there; anything else on ``*`` raises :class:`ConstructError`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ScopedRoleProps) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=props.assumed_by,
            description=props.description,
            permissions_boundary=props.permissions_boundary,
        )
        self._scoped_policy: iam.ManagedPolicy | None = None

    @property
    def scoped_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding this role's grants (None until the first grant)."""
        return self._scoped_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        on_everything = statement.effect == iam.Effect.ALLOW and "*" in statement.resources
        if on_everything:
            unscoped = [a for a in statement.actions if a not in RESOURCE_WILDCARD_ONLY]
            if unscoped:
                raise ConstructError(
                    self,
                    f"{', '.join(unscoped)} granted on resource '*'; allowed: a resource ARN "
                    f"('*' only for actions without resource-level permissions: {', '.join(sorted(RESOURCE_WILDCARD_ONLY))})",
                )
        if self._scoped_policy is None:
            self._scoped_policy = iam.ManagedPolicy(self, "Policy", roles=[self])
        self._scoped_policy.add_statements(statement)
        if on_everything:
            reasons = sorted({RESOURCE_WILDCARD_ONLY[a] for a in statement.actions})
            acknowledge(self._scoped_policy, "AwsSolutions-IAM5[Resource::*]", " ".join(reasons))
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._scoped_policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added


class EcsTasksRole(ScopedRole):
    """A :class:`ScopedRole` trusted by ``ecs-tasks.amazonaws.com`` for this account's tasks only (IAM-6).

    The trust policy adds ``aws:SourceAccount`` and ``aws:SourceArn`` conditions, so
    another account's ECS cannot be tricked into assuming it (confused deputy).
    """

    def __init__(self, scope: Construct, construct_id: str, *, description: str, props: EcsTaskRoleProps) -> None:
        super().__init__(
            scope,
            construct_id,
            props=ScopedRoleProps(
                assumed_by=service_principal("ecs-tasks.amazonaws.com", scope=scope),
                description=description,
                permissions_boundary=props.permissions_boundary,
            ),
        )
