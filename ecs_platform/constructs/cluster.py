"""Cluster: an ECS cluster with Container Insights (enhanced) and Fargate capacity providers."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class ClusterProps:
    vpc: ec2.IVpc
    """The VPC of the cluster's tasks."""
    name_tag: str | None = None
    """Value of the cluster's ``Name`` tag (CLI-4). Default: no Name tag."""
    container_insights: ecs.ContainerInsights = ecs.ContainerInsights.ENHANCED
    """Container Insights level; supplies task counts and per-task metrics (OBS-2). Default: ENHANCED."""
    exec_log_group: logs.ILogGroup | None = None
    """Turns on ECS Exec logging: sessions are logged to this group (encrypted). Default: no ECS Exec configuration."""
    exec_key: kms.IKey | None = None
    """Key that encrypts ECS Exec sessions (with ``exec_log_group``). Default: none."""
    service_connect_namespace: str | None = None
    """Name of a Cloud Map HTTP namespace created as the cluster's default for Service Connect
    (ARCH-7). Default: none."""


class Cluster(Construct):
    """The ECS cluster. FARGATE and FARGATE_SPOT capacity providers are associated (ARCH-3);
    the physical name is left to CloudFormation."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ClusterProps) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=props.vpc,
            container_insights_v2=props.container_insights,
            enable_fargate_capacity_providers=True,
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                kms_key=props.exec_key,
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=props.exec_log_group, cloud_watch_encryption_enabled=True
                ),
            )
            if props.exec_log_group is not None
            else None,
        )
        if props.name_tag:
            Tags.of(self.cluster).add("Name", props.name_tag)
        if props.service_connect_namespace:
            from aws_cdk import aws_servicediscovery as cloudmap  # loaded only when used: each aws_cdk module costs start-up time

            self.cluster.add_default_cloud_map_namespace(
                name=props.service_connect_namespace, type=cloudmap.NamespaceType.HTTP, use_for_service_connect=True
            )
