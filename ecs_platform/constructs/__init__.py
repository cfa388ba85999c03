"""Reusable constructs of ecs-platform, each usable without the spec."""

from ecs_platform.constructs.batch_job import BatchJob, BatchJobProps, JobSchedule
from ecs_platform.constructs.cluster import Cluster, ClusterProps
from ecs_platform.constructs.encryption_key import EncryptionKey
from ecs_platform.constructs.execution_role import ExecutionRole
from ecs_platform.constructs.fargate_task import ContainerProps, FargateTask, FargateTaskProps
from ecs_platform.constructs.load_balancer import LoadBalancer, LoadBalancerProps
from ecs_platform.constructs.log_buckets import LogBuckets
from ecs_platform.constructs.network import Network, NetworkProps
from ecs_platform.constructs.queue_worker import QueueWorker, QueueWorkerProps
from ecs_platform.constructs.scoped_role import RESOURCE_WILDCARD_ONLY, EcsTasksRole, ScopedRole
from ecs_platform.constructs.security_groups import BatchSecurityGroup, LoadBalancerSecurityGroup, WebTaskSecurityGroup
from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.constructs.web_service import HealthCheckProps, WebService, WebServiceProps

__all__ = [
    "RESOURCE_WILDCARD_ONLY",
    "BatchJob",
    "BatchJobProps",
    "BatchSecurityGroup",
    "Cluster",
    "ClusterProps",
    "ContainerProps",
    "EcsTasksRole",
    "EncryptionKey",
    "ExecutionRole",
    "FargateTask",
    "FargateTaskProps",
    "HealthCheckProps",
    "JobSchedule",
    "LoadBalancer",
    "LoadBalancerProps",
    "LoadBalancerSecurityGroup",
    "LogBuckets",
    "Network",
    "NetworkProps",
    "QueueWorker",
    "QueueWorkerProps",
    "ScopedRole",
    "TaskRole",
    "WebService",
    "WebServiceProps",
    "WebTaskSecurityGroup",
]
