"""TaskRole: the role the application in a task uses to call AWS (BP-1, IAM-5)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_platform.constructs.scoped_role import EcsTasksRole


class TaskRole(EcsTasksRole):
    """One task role per workload (BP-1, CLI-3), trusted by this account's ECS tasks only (IAM-6).

    It has no permission until something is granted to it (``bucket.grant_read(role)``,
    ``queue.grant_consume_messages(role)``, ...); every grant lands in the role's single
    customer-managed policy. No AWS managed policy (IAM-8).
    """

    def __init__(self, scope: Construct, construct_id: str, *, permissions_boundary: iam.IManagedPolicy | None = None) -> None:
        super().__init__(
            scope,
            construct_id,
            description="ECS task role: the application's own AWS permissions",
            permissions_boundary=permissions_boundary,
        )
