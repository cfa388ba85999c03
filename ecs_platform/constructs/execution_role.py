"""ExecutionRole: the role ECS's agent uses to pull images, write logs and read secrets (IAM-1..4)."""

from __future__ import annotations

from constructs import Construct

from ecs_platform.constructs.scoped_role import EcsTaskRoleProps, EcsTasksRole


class ExecutionRole(EcsTasksRole):
    """Task execution role (CLI-2), trusted by this account's ECS tasks only (IAM-6).

    It starts with no permissions. ECS's own wiring grants what the task definition needs:
    ``logs:CreateLogStream``/``PutLogEvents`` on the task's log group (IAM-2), ECR pull on
    the image's repository (IAM-1), ``GetSecretValue``/``GetParameters`` on the secrets
    its containers reference (IAM-3/4). All of it lands in one customer-managed policy;
    ``AmazonECSTaskExecutionRolePolicy`` is never attached (IAM-8).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EcsTaskRoleProps | None = None) -> None:
        super().__init__(
            scope, construct_id, description="ECS task execution role: image pull, logs, secrets", props=props or EcsTaskRoleProps()
        )
