"""The names of the stack outputs tools read (the run-task command, scripts, the README).

A workload's outputs are ``<Prefix><Suffix>``: ``nightly-report`` has ``NightlyReportRunTaskParameters``.
No dependencies: the stacks write these names and the CLI reads them.
"""

from __future__ import annotations

#: A job's RunTask request as JSON (boto3 ``ecs.run_task`` keyword arguments): what ``ecs-platform run-task`` reads.
RUN_TASK_PARAMETERS = "RunTaskParameters"
#: The environment's cluster (the workload stack's output).
CLUSTER_NAME = "ClusterName"
#: The console URL of a stack's dashboard (OBS-2).
DASHBOARD_URL = "DashboardUrl"
#: A service's or worker's ECS service name (``<Prefix>ServiceName``).
SERVICE_NAME = "ServiceName"
#: A worker's queue (``<Prefix>QueueUrl``).
QUEUE_URL = "QueueUrl"


def output_prefix(workload: str) -> str:
    """Stable output names for a workload: ``my-service`` -> ``MyService`` (``MyServiceUrl``, ...)."""
    return "".join(part.capitalize() for part in workload.split("-"))


#: The metadata key under which a resource lists the spec's CloudFormation overrides of it (the summary shows them).
OVERRIDES_METADATA = "ecs-platform:overrides"
