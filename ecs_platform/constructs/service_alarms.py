"""The alarms every ECS service gets on the document's metrics (OBS-2): CPU and memory high, fewer running tasks
than it should have, tasks stuck in PENDING. Web services and queue workers both add them."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from constructs import Construct


def insights_metric(service: ecs.BaseService, metric_name: str, statistic: str = "Average") -> cloudwatch.Metric:
    """A per-service metric of Container Insights (RunningTaskCount, PendingTaskCount, DeploymentCount, ...)."""
    return cloudwatch.Metric(
        namespace="ECS/ContainerInsights",
        metric_name=metric_name,
        dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name},
        statistic=statistic,
        period=Duration.minutes(1),
    )


def service_alarms(scope: Construct, service: ecs.BaseService, *, min_running: int) -> list[cloudwatch.Alarm]:
    """``CpuHigh``, ``MemoryHigh``, ``RunningTasksLow`` (when ``min_running`` > 0: no data means none run) and
    ``PendingTasksStuck`` under ``scope``, without actions (the caller adds its topic)."""
    above, below = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
    five_minutes = Duration.minutes(5)
    wanted = [
        ("CpuHigh", service.metric_cpu_utilization(period=five_minutes), above, 80, 3, "CPU above 80 % for 15 minutes"),
        ("MemoryHigh", service.metric_memory_utilization(period=five_minutes), above, 80, 3, "memory above 80 % for 15 minutes"),
        *(
            [
                (
                    "RunningTasksLow",
                    insights_metric(service, "RunningTaskCount"),
                    below,
                    min_running,
                    5,
                    f"fewer than {min_running} running tasks for 5 minutes",
                )
            ]
            if min_running > 0
            else []
        ),
        ("PendingTasksStuck", insights_metric(service, "PendingTaskCount"), above, 0, 15, "tasks pending for 15 minutes"),
    ]
    return [
        cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=operator,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING
            if construct_id == "RunningTasksLow"
            else cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{scope.node.path}: {description}",
        )
        for construct_id, metric, operator, threshold, periods, description in wanted
    ]
