"""Reusable constructs of ecs-platform, each usable without the spec.

Every construct takes ``(scope, construct_id, *, props=XProps(...))``; props are frozen
dataclasses with CDK types, and every optional field documents its default. A construct
that refuses its props raises :class:`ConstructError`, naming the construct path.
"""

from ecs_platform.constructs.app_topic import AppTopic, AppTopicProps
from ecs_platform.constructs.batch_job import BatchJob, BatchJobProps, JobSchedule
from ecs_platform.constructs.cluster import Cluster, ClusterProps
from ecs_platform.constructs.container_secret import ContainerSecret
from ecs_platform.constructs.dashboard import DOCUMENT_METRICS, PlatformDashboard, PlatformDashboardProps
from ecs_platform.constructs.data_stores import (
    AppBucket,
    AppBucketProps,
    AppTable,
    AppTableProps,
    AuroraServerless,
    AuroraServerlessProps,
    TableIndex,
    TableKey,
)
from ecs_platform.constructs.dead_letter_queue import DeadLetterQueue, DeadLetterQueueProps
from ecs_platform.constructs.delivery_pipeline import (
    CodeCommitSource,
    ConnectionSource,
    DeliveryPipeline,
    DeliveryPipelineProps,
    DeliveryTarget,
    SmokeCheck,
)
from ecs_platform.constructs.ec2_capacity import (
    AsgCapacity,
    AsgCapacityProps,
    ClusterReservationAlarms,
    ClusterReservationAlarmsProps,
    InstanceRequirements,
    ManagedInstancesCapacity,
    ManagedInstancesCapacityProps,
)
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import ConstructError
from ecs_platform.constructs.execution_role import ExecutionRole
from ecs_platform.constructs.fargate_task import (
    Compute,
    ContainerProps,
    DeploymentProps,
    FargateTask,
    FargateTaskProps,
    TaskAccessors,
    WorkloadProps,
)
from ecs_platform.constructs.github_oidc import GithubDeployRole, GithubDeployRoleProps
from ecs_platform.constructs.governance import Governance, GovernanceProps, grant_guardduty_agent_pull
from ecs_platform.constructs.image_repository import ImageRepository, ImageRepositoryProps, PullThroughCache, PullThroughCacheProps
from ecs_platform.constructs.load_balancer import AllowListSecurityGroup, LoadBalancer, LoadBalancerProps
from ecs_platform.constructs.log_buckets import LogBuckets, LogBucketsProps
from ecs_platform.constructs.network import ExistingVpcProps, Network, NetworkProps
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps, SlackChannel, Subscribers, subscribe
from ecs_platform.constructs.overrides import SECURITY_RELEVANT_OVERRIDES, apply_overrides, overridable_types, property_catalog
from ecs_platform.constructs.queue_worker import QueueWorker, QueueWorkerProps
from ecs_platform.constructs.scoped_role import RESOURCE_WILDCARD_ONLY, EcsTaskRoleProps, EcsTasksRole, ScopedRole, ScopedRoleProps
from ecs_platform.constructs.security_groups import (
    BatchSecurityGroup,
    EgressRule,
    EndpointSecurityGroup,
    InstanceSecurityGroup,
    LoadBalancerSecurityGroup,
    LoadBalancerSecurityGroupProps,
    SecurityGroupProps,
    ServiceConnectCallerSecurityGroup,
    ServiceConnectClientsSecurityGroup,
    WebTaskSecurityGroup,
    WorkloadSecurityGroupProps,
)
from ecs_platform.constructs.service_connect_tls import ServiceConnectTls, ServiceConnectTlsProps
from ecs_platform.constructs.sidecars import (
    FLUENT_BIT_IMAGE,
    OTEL_COLLECTOR_IMAGE,
    TRACING_APP_ENVIRONMENT,
    LogRouterProps,
    TracingProps,
    add_log_router,
    add_otel_collector,
)
from ecs_platform.constructs.source_conditions import NO_SOURCE_CONDITION, SOURCE_ARNS, SourceConditions, service_principal
from ecs_platform.constructs.task_role import TaskRole
from ecs_platform.constructs.volumes import (
    EBS_SIZE_GIB,
    EbsVolumeRole,
    EbsVolumeRoleProps,
    SharedFileSystem,
    SharedFileSystemProps,
    ebs_volume,
    mount_efs,
    run_task_volume_configuration,
)
from ecs_platform.constructs.web_service import (
    HealthCheckProps,
    RouteProps,
    ScheduledScalingProps,
    ServiceConnectProps,
    ServiceScalingProps,
    WebService,
    WebServiceProps,
)
from ecs_platform.constructs.workload_platform import WorkloadPlatform, WorkloadPlatformProps
from ecs_platform.context import FEATURE_FLAGS, availability_zones_context
from ecs_platform.governance_catalog import GUARDDUTY_OPT_OUT_TAG

__all__ = [
    "DOCUMENT_METRICS",
    "EBS_SIZE_GIB",
    "FEATURE_FLAGS",
    "FLUENT_BIT_IMAGE",
    "GUARDDUTY_OPT_OUT_TAG",
    "NO_SOURCE_CONDITION",
    "OTEL_COLLECTOR_IMAGE",
    "RESOURCE_WILDCARD_ONLY",
    "SECURITY_RELEVANT_OVERRIDES",
    "SOURCE_ARNS",
    "TRACING_APP_ENVIRONMENT",
    "AllowListSecurityGroup",
    "AppBucket",
    "AppBucketProps",
    "AppTable",
    "AppTableProps",
    "AppTopic",
    "AppTopicProps",
    "AsgCapacity",
    "AsgCapacityProps",
    "AuroraServerless",
    "AuroraServerlessProps",
    "BatchJob",
    "BatchJobProps",
    "BatchSecurityGroup",
    "Cluster",
    "ClusterProps",
    "ClusterReservationAlarms",
    "ClusterReservationAlarmsProps",
    "CodeCommitSource",
    "Compute",
    "ConnectionSource",
    "ConstructError",
    "ContainerProps",
    "ContainerSecret",
    "DeadLetterQueue",
    "DeadLetterQueueProps",
    "DeliveryPipeline",
    "DeliveryPipelineProps",
    "DeliveryTarget",
    "DeploymentProps",
    "EbsVolumeRole",
    "EbsVolumeRoleProps",
    "EcsTaskRoleProps",
    "EcsTasksRole",
    "EgressRule",
    "EncryptionKey",
    "EncryptionKeyProps",
    "EndpointSecurityGroup",
    "ExecutionRole",
    "ExistingVpcProps",
    "FargateTask",
    "FargateTaskProps",
    "GithubDeployRole",
    "GithubDeployRoleProps",
    "Governance",
    "GovernanceProps",
    "HealthCheckProps",
    "ImageRepository",
    "ImageRepositoryProps",
    "InstanceRequirements",
    "InstanceSecurityGroup",
    "JobSchedule",
    "LoadBalancer",
    "LoadBalancerProps",
    "LoadBalancerSecurityGroup",
    "LoadBalancerSecurityGroupProps",
    "LogBuckets",
    "LogBucketsProps",
    "LogRouterProps",
    "ManagedInstancesCapacity",
    "ManagedInstancesCapacityProps",
    "Network",
    "NetworkProps",
    "NotificationTopic",
    "NotificationTopicProps",
    "PlatformDashboard",
    "PlatformDashboardProps",
    "PullThroughCache",
    "PullThroughCacheProps",
    "QueueWorker",
    "QueueWorkerProps",
    "RouteProps",
    "ScheduledScalingProps",
    "ScopedRole",
    "ScopedRoleProps",
    "SecurityGroupProps",
    "ServiceConnectCallerSecurityGroup",
    "ServiceConnectClientsSecurityGroup",
    "ServiceConnectProps",
    "ServiceConnectTls",
    "ServiceConnectTlsProps",
    "ServiceScalingProps",
    "SharedFileSystem",
    "SharedFileSystemProps",
    "SlackChannel",
    "SmokeCheck",
    "SourceConditions",
    "Subscribers",
    "TableIndex",
    "TableKey",
    "TaskAccessors",
    "TaskRole",
    "TracingProps",
    "WebService",
    "WebServiceProps",
    "WebTaskSecurityGroup",
    "WorkloadPlatform",
    "WorkloadPlatformProps",
    "WorkloadProps",
    "WorkloadSecurityGroupProps",
    "add_log_router",
    "add_otel_collector",
    "apply_overrides",
    "availability_zones_context",
    "ebs_volume",
    "grant_guardduty_agent_pull",
    "mount_efs",
    "overridable_types",
    "property_catalog",
    "run_task_volume_configuration",
    "service_principal",
    "subscribe",
]
