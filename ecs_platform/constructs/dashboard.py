"""PlatformDashboard: a CloudWatch dashboard of an environment's cluster and workloads (OBS-2).

The source document's eight metrics, each under the namespace and dimensions AWS publishes it with:

- ``AWS/ECS`` (``ClusterName``, and ``ServiceName`` per service): CPUUtilization and MemoryUtilization; and
  CPUReservation and MemoryReservation, which exist for EC2 capacity only (no line without it, so none sits empty);
- ``ECS/ContainerInsights`` (Container Insights, on at the cluster): ServiceCount (cluster), and per service
  RunningTaskCount, PendingTaskCount and DeploymentCount.

Then per web service its load balancer traffic (requests, target 5xx, p95 latency of its target group), per
worker its queue (visible messages, dead letters, the oldest message's age), per job its failed runs and, for a
supervised job, its state machine's executions.

CloudFormation cannot read a later stack's resources from an earlier one: a stack that holds workloads builds
the dashboard of those it holds (the environment's workload stack the cluster's row too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from ecs_platform.constructs.batch_job import BatchJob
from ecs_platform.constructs.queue_worker import QueueWorker
from ecs_platform.constructs.service_alarms import insights_metric
from ecs_platform.constructs.web_service import WebService

#: The source document's eight metrics (OBS-2), as the dashboard shows them.
DOCUMENT_METRICS = (
    "CPUReservation",
    "CPUUtilization",
    "MemoryReservation",
    "MemoryUtilization",
    "DeploymentCount",
    "PendingTaskCount",
    "RunningTaskCount",
    "ServiceCount",
)

_PERIOD = Duration.minutes(5)
_HOUR = Duration.hours(1)
_WIDTH, _HEIGHT = 8, 6


@dataclass(frozen=True, kw_only=True)
class PlatformDashboardProps:
    cluster: ecs.ICluster
    """The environment's cluster."""
    dashboard_name: str | None = None
    """The dashboard's name (unique in the account and region: include app and environment). Default: generated."""
    cluster_row: bool = True
    """Start with the cluster's row (CPU, memory, services). Default: true."""
    ec2_capacity: bool = False
    """The cluster has EC2 capacity, so CPUReservation and MemoryReservation exist. Default: false."""
    services: Mapping[str, WebService] = field(default_factory=dict)
    """Web services by name (a row each). Default: none."""
    workers: Mapping[str, QueueWorker] = field(default_factory=dict)
    """Queue workers by name (a row each). Default: none."""
    jobs: Mapping[str, BatchJob] = field(default_factory=dict)
    """Jobs by name (a widget each). Default: none."""


def _ecs(cluster: ecs.ICluster, metric_name: str, service: str | None = None) -> cloudwatch.Metric:
    dimensions = {"ClusterName": cluster.cluster_name, **({"ServiceName": service} if service else {})}
    return cloudwatch.Metric(namespace="AWS/ECS", metric_name=metric_name, dimensions_map=dimensions, statistic="Average", period=_PERIOD)


def _graph(title: str, left: Sequence[cloudwatch.IMetric], right: Sequence[cloudwatch.IMetric] = ()) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=_WIDTH, height=_HEIGHT)


def _tasks(name: str, service: ecs.BaseService) -> cloudwatch.GraphWidget:
    """Running and pending tasks (left), deployments in progress (right)."""
    return _graph(
        f"{name}: tasks (running, pending) and deployments",
        [insights_metric(service, "RunningTaskCount"), insights_metric(service, "PendingTaskCount")],
        [insights_metric(service, "DeploymentCount")],
    )


def _usage(name: str, service: ecs.BaseService) -> cloudwatch.GraphWidget:
    cluster, service_name = service.cluster, service.service_name
    usage = [_ecs(cluster, "CPUUtilization", service_name), _ecs(cluster, "MemoryUtilization", service_name)]
    return _graph(f"{name}: CPU and memory (%)", usage)


def cluster_row(cluster: ecs.ICluster, *, ec2_capacity: bool) -> list[cloudwatch.IWidget]:
    """CPU and memory use (and reservation on EC2 capacity), and the number of services."""
    reservation = ec2_capacity
    cpu = [_ecs(cluster, "CPUUtilization"), *([_ecs(cluster, "CPUReservation")] if reservation else [])]
    memory = [_ecs(cluster, "MemoryUtilization"), *([_ecs(cluster, "MemoryReservation")] if reservation else [])]
    services = cloudwatch.Metric(
        namespace="ECS/ContainerInsights",
        metric_name="ServiceCount",
        dimensions_map={"ClusterName": cluster.cluster_name},
        statistic="Average",
        period=_PERIOD,
    )
    return [_graph("Cluster CPU (%)", cpu), _graph("Cluster memory (%)", memory), _graph("Cluster services", [services])]


def service_row(name: str, web: WebService) -> list[cloudwatch.IWidget]:
    """CPU and memory, tasks and deployments, and the target group's requests, 5xx and p95 latency."""
    widgets: list[cloudwatch.IWidget] = [_usage(name, web.service), _tasks(name, web.service)]
    group = web.target_group
    if group is not None:
        widgets.append(
            _graph(
                f"{name}: requests and target 5xx (left), p95 latency in s (right)",
                [
                    group.metrics.request_count(period=_PERIOD),
                    group.metrics.http_code_target(code=elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=_PERIOD),
                ],
                [group.metrics.target_response_time(period=_PERIOD, statistic="p95")],
            )
        )
    return widgets


def worker_row(name: str, worker: QueueWorker) -> list[cloudwatch.IWidget]:
    """The queue's backlog and dead letters, its oldest message's age, tasks and deployments."""
    queue = worker.queue
    backlog = [queue.metric_approximate_number_of_messages_visible(period=_PERIOD, statistic="Maximum", label="backlog")]
    if worker.dead_letter_queue is not None:
        dead = worker.dead_letter_queue.metric_approximate_number_of_messages_visible
        backlog.append(dead(period=_PERIOD, statistic="Maximum", label="dead letters"))
    return [
        _graph(f"{name}: queue backlog and dead letters", backlog),
        _graph(f"{name}: oldest message (s)", [queue.metric_approximate_age_of_oldest_message(period=_PERIOD, statistic="Maximum")]),
        _tasks(name, worker.service),
    ]


def job_widget(name: str, job: BatchJob) -> cloudwatch.IWidget:
    """Failed runs an hour (the failure rule's matches); a supervised job's executions too."""
    failed = cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="TriggeredRules",
        dimensions_map={"RuleName": job.failure_rule.rule_name},
        statistic="Sum",
        period=_HOUR,
        label="failed runs",
    )
    metrics: list[cloudwatch.IMetric] = [failed]
    if job.state_machine is not None:
        metrics += [
            job.state_machine.metric_succeeded(period=_HOUR, label="succeeded"),
            job.state_machine.metric_failed(period=_HOUR, label="failed"),
        ]
    return _graph(f"{name}: runs an hour", metrics)


class PlatformDashboard(Construct):
    """A CloudWatch dashboard: the cluster's row, then a row per web service and worker, then the jobs (OBS-2)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PlatformDashboardProps) -> None:
        super().__init__(scope, construct_id)
        rows: list[list[cloudwatch.IWidget]] = []
        if props.cluster_row:
            rows.append(cluster_row(props.cluster, ec2_capacity=props.ec2_capacity))
        rows += [service_row(name, web) for name, web in props.services.items()]
        rows += [worker_row(name, worker) for name, worker in props.workers.items()]
        jobs = [job_widget(name, job) for name, job in props.jobs.items()]
        rows += [jobs[i : i + 3] for i in range(0, len(jobs), 3)]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=props.dashboard_name, widgets=rows)
        """The dashboard."""
        self.url = (
            f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards:name={self.dashboard.dashboard_name}"
        )
        """Where the console shows it."""
