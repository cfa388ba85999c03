"""The names of the stack outputs tools read (the run-task command, scripts, the README).

A workload's outputs are ``<Prefix><Suffix>``: ``nightly-report`` has ``NightlyReportRunTaskParameters``.
No dependencies: the stacks write these names and the CLI reads them.
"""

from __future__ import annotations

#: A job's RunTask request as JSON (boto3 ``ecs.run_task`` keyword arguments): what ``ecs-platform run-task`` reads.
RUN_TASK_PARAMETERS = "RunTaskParameters"


def output_prefix(workload: str) -> str:
    """Stable output names for a workload: ``my-service`` -> ``MyService`` (``MyServiceUrl``, ...)."""
    return "".join(part.capitalize() for part in workload.split("-"))
