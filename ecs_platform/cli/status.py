"""``ecs-platform status``: what a deployed environment is doing, for when a deploy goes wrong (CLI-8, OBS-2).

It finds the environment's stacks by their ``App`` and ``Environment`` tags (as ``preflight`` does) and
reads what their outputs name (``ClusterName``, ``<Workload>ServiceName``, ``<Job>RunTaskParameters``):

- each stack's status, and for a stack whose last deploy failed or rolled back, the resources that failed;
- per service and worker: its deployments (status, rollout state and reason, desired/running/pending tasks,
  task definition revision, when), its last events, and its last stopped tasks (up to 5) with their stop
  code, stopped reason and each container's exit code and reason. A stop of a known cause (the image
  cannot be pulled, failed load balancer or container health checks, ResourceInitializationError: secrets
  or logging, out of memory, an essential container exited) carries a hint of what to check;
- the CloudWatch alarms of the stacks (their ``AWS::CloudWatch::Alarm`` resources) that are in ALARM;
- per job, its runs of the last day: ListTasks by the task definition family, RUNNING and STOPPED, so the
  schedule's, the state machine's and run-task's runs alike. ECS lists a stopped task for about an hour
  only: older failures of the day show in the count of its failure alarm's metric (the EventBridge rule
  that matches the job's failed runs), over the last 24 hours.

Nothing is changed. Exit status: 0 all healthy; 1 something is failing (a stack's last deploy failed, a
rollout FAILED, tasks stopped for errors, an alarm in ALARM, a failed job run); 2 the spec or AWS could not
be read. The clients are arguments (``clients(service, region)``), so the tests use stubs and the emulator.

    python -m ecs_platform.cli status [--spec PATH] [--env NAME] [--region R] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError  # type: ignore[import-untyped]

from ecs_platform.cli.preflight import Clients, deployed_stacks
from ecs_platform.outputs import CLUSTER_NAME, DASHBOARD_URL, QUEUE_URL, RUN_TASK_PARAMETERS, SERVICE_NAME, output_prefix

EXIT_OK, EXIT_FAILING, EXIT_ERROR = 0, 1, 2
DEFAULT_SPEC = "specs/default.yaml"

STOPPED_TASKS_SHOWN = 5
EVENTS_SHOWN = 5
FAILED_RESOURCES_SHOWN = 5
#: How far back a job's runs are looked for.
JOB_WINDOW = timedelta(days=1)
#: API limits: services per DescribeServices, tasks per DescribeTasks, alarm names per DescribeAlarms.
DESCRIBE_SERVICES_MAX, DESCRIBE_TASKS_MAX, DESCRIBE_ALARMS_MAX = 10, 100, 100
#: The log stream prefix of every container (OBS-1; ecs_platform/constructs/fargate_task.py LOG_STREAM_PREFIX).
LOG_STREAM_PREFIX = "ecs"


class StatusError(Exception):
    """The environment cannot be read (no stacks, no cluster output): one line, exit status 2."""


# --- what is reported ---------------------------------------------------------------------


@dataclass
class Cause:
    """A known cause of a stopped task, and what to check."""

    kind: str
    hint: str
    error: bool = True
    """False for a stop that is no error of the workload (Fargate Spot reclaimed its capacity)."""


@dataclass
class Container:
    name: str
    exit_code: int | None
    reason: str | None


@dataclass
class Task:
    """A task as DescribeTasks tells it, with the causes of its stop."""

    id: str
    task_definition: str
    """``family:revision``."""
    last_status: str
    started_by: str | None
    created_at: str | None
    stopped_at: str | None
    stop_code: str | None
    stopped_reason: str | None
    containers: list[Container]
    causes: list[Cause]
    failed: bool


@dataclass
class Deployment:
    id: str
    status: str
    rollout_state: str | None
    rollout_state_reason: str | None
    desired: int
    running: int
    pending: int
    failed_tasks: int
    task_definition: str
    created_at: str | None
    updated_at: str | None


@dataclass
class Service:
    """A service or a queue worker: an ECS service."""

    name: str
    kind: str
    """``service`` or ``worker``."""
    stack: str
    ecs_name: str
    status: str
    """ACTIVE, DRAINING, INACTIVE, or MISSING when the cluster has no such service."""
    desired: int = 0
    running: int = 0
    pending: int = 0
    deployments: list[Deployment] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    stopped_tasks: list[Task] = field(default_factory=list)


@dataclass
class Job:
    name: str
    stack: str
    family: str
    runs: list[Task] = field(default_factory=list)
    """Its tasks created in the last day that ECS still lists, newest first."""
    failed_runs_24h: int | None = None
    """Failed runs in the last 24 hours by its failure alarm's metric; None without that alarm."""


@dataclass
class Alarm:
    name: str
    stack: str
    state: str
    reason: str
    description: str
    since: str | None


@dataclass
class Stack:
    name: str
    status: str
    reason: str | None
    failures: list[str] = field(default_factory=list)
    """The resources its last operation failed on, with CloudFormation's reasons (a failed deploy only)."""


@dataclass
class Report:
    app: str
    environment: str
    region: str | None
    checked_at: str
    cluster: str | None = None
    dashboards: list[str] = field(default_factory=list)
    """The URLs of the environment's CloudWatch dashboards (the stacks' ``DashboardUrl`` outputs), where they have one."""
    stacks: list[Stack] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    """The environment's alarms in ALARM."""
    alarms_watched: int = 0
    problems: list[str] = field(default_factory=list)
    """What is failing, one line each: empty when all is healthy."""

    @property
    def exit_status(self) -> int:
        return EXIT_FAILING if self.problems else EXIT_OK


# --- why a task stopped --------------------------------------------------------------------

HINTS: Mapping[str, str] = {
    "image-pull": "ECS could not pull the image: check that the image and its tag exist in the registry, that the execution role "
    "may pull it (ECR: ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, and kms:Decrypt on an "
    "encrypted repository; a private registry: its credentials secret), and that the task's subnets reach the registry "
    "(a NAT gateway, or VPC endpoints for ECR api, ECR dkr and S3)",
    "secrets": "the task could not read a secret before its containers started: check that each secret or parameter of the task "
    "definition exists in this region, that the execution role may read it (secretsmanager:GetSecretValue or "
    "ssm:GetParameters, and kms:Decrypt on its customer-managed key: the spec's secrets.<name>.kms_key), and that the "
    "subnets reach Secrets Manager and SSM (NAT gateway or VPC endpoints)",
    "logging": "the task could not set up its logs: check that its log group exists (deleted by hand?), that the execution role "
    "may write to it (logs:CreateLogStream, logs:PutLogEvents; kms:Encrypt on the log key is CloudWatch Logs' own), and "
    "that the subnets reach CloudWatch Logs",
    "resource-initialization": "the task could not prepare what its containers need before they started (registry credentials, "
    "secrets, logging, volumes, its network interface): the reason names which; check the execution role's permissions "
    "and that the subnets reach those AWS services",
    "elb-health-check": "the load balancer found the task unhealthy: check that the container answers the health check path "
    "(health_check.path) with a healthy code (health_check.healthy_http_codes, default 200-399) on its port, that it is "
    "ready within the grace period (health_check.grace_period_seconds), and that the service's security group admits "
    "the load balancer",
    "container-health-check": "the container's own health check (containers[].health_check) failed: run its command in the "
    "container (ECS Exec) or give it a longer start_period_seconds",
    "out-of-memory": "a container used more memory than it may and was killed: raise the task's memory (or the container's "
    "memory limit), or look for a leak in the service's MemoryUtilization",
    "essential-container-exited": "an essential container exited, which stops the task; its logs say why",
    "container-start": "a container could not be created or started (CannotCreateContainerError, CannotStartContainerError): "
    "the reason names the setting (command, user, volume, port) it failed on",
    "failed-to-start": "the task failed to start: the stopped reason says why",
    "spot-interruption": "Fargate Spot took its capacity back (two minutes' notice): expected on Spot; keep a FARGATE base in "
    "capacity if it happens often",
}


def _task_text(task: Mapping[str, Any]) -> str:
    parts = [str(task.get("stoppedReason") or "")] + [str(c.get("reason") or "") for c in task.get("containers", [])]
    return "\n".join(p for p in parts if p)


def causes_of(task: Mapping[str, Any], *, log_group: str | None = None) -> list[Cause]:
    """The known causes of a task's stop, most specific first; empty for an ordinary stop (scaling, a
    deployment replacing it, a user's StopTask). ``log_group`` names the logs of an exited container."""
    text, lowered = _task_text(task), _task_text(task).lower()
    stop_code = task.get("stopCode")
    found: list[Cause] = []

    def add(kind: str, hint: str | None = None, *, error: bool = True) -> None:
        found.append(Cause(kind, hint or HINTS[kind], error))

    if "cannotpullcontainer" in lowered or "pull image manifest" in lowered or "pull access denied" in lowered:
        add("image-pull")
    if "resourceinitializationerror" in lowered:
        # Every retrieval failure starts "unable to pull secrets or registry auth"; what follows names which.
        detail = lowered.replace("unable to pull secrets or registry auth", "")
        if "registry auth" in detail:
            if not found:
                add("image-pull")
        elif "secret" in detail or "ssm" in detail or "parameter" in detail:
            add("secrets")
        elif "log" in detail:
            add("logging")
        else:
            add("resource-initialization")
    if "failed elb health checks" in lowered:
        add("elb-health-check")
    if "failed container health checks" in lowered:
        add("container-health-check")
    if "outofmemory" in lowered or "out of memory" in lowered:
        add("out-of-memory")
    if "cannotstartcontainer" in lowered or "cannotcreatecontainer" in lowered:
        add("container-start")
    if stop_code == "EssentialContainerExited" and not any(c.kind == "out-of-memory" for c in found):
        exited = [c for c in task.get("containers", []) if c.get("exitCode") is not None]
        codes = ", ".join(f"{c['name']} exited {c['exitCode']}" for c in exited) or "no exit code"
        where = ""
        if log_group:
            task_id = str(task.get("taskArn", "")).rsplit("/", 1)[-1]
            streams = " ".join(f"{LOG_STREAM_PREFIX}/{c['name']}/{task_id}" for c in exited) or f"{LOG_STREAM_PREFIX}/<container>/{task_id}"
            where = f": aws logs tail {log_group} --log-stream-names {streams}"
        add("essential-container-exited", f"{HINTS['essential-container-exited']} ({codes}){where}")
    if stop_code == "TaskFailedToStart" and not found:
        add("failed-to-start", f"{HINTS['failed-to-start']}: {text or 'none given'}")
    if stop_code == "SpotInterruption":
        add("spot-interruption", error=False)
    return found


def job_run_failed(task: Mapping[str, Any]) -> bool:
    """A stopped run failed as the job's failure rule counts it (ecs_platform/constructs/batch_job.py): a
    container exited non-zero, or the task stopped for another reason than its essential container's exit."""
    if task.get("lastStatus") != "STOPPED":
        return False
    nonzero = any(c.get("exitCode") not in (None, 0) for c in task.get("containers", []))
    return nonzero or task.get("stopCode") != "EssentialContainerExited"


# --- reading AWS ---------------------------------------------------------------------------


def _when(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC (boto3 gives datetimes)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _revision(arn: str) -> str:
    """``arn:...:task-definition/family:3`` -> ``family:3``."""
    return arn.rsplit("/", 1)[-1]


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _workload_name(key: str, suffix: str, output: Mapping[str, Any]) -> str:
    """The workload an output belongs to: its description starts with the workload's name
    (``my-service: ECS service (CLI-8)``); otherwise the output's PascalCase prefix."""
    prefix = key.removesuffix(suffix)
    name = str(output.get("Description", "")).partition(": ")[0]
    return name if name and output_prefix(name) == prefix else prefix


def _is_failed_stack(status: str) -> bool:
    return "FAILED" in status or "ROLLBACK" in status


def stack_failures(cloudformation: Any, stack: str) -> list[str]:
    """The resources the stack's last operation failed on, oldest first (the first is usually the cause;
    the others are often only cancelled), from its newest events back to that operation's start."""
    failures = []
    for event in cloudformation.describe_stack_events(StackName=stack).get("StackEvents", []):
        status = str(event.get("ResourceStatus", ""))
        is_stack = event.get("LogicalResourceId") == stack and event.get("ResourceType") == "AWS::CloudFormation::Stack"
        if is_stack and status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS"):
            break
        reason = str(event.get("ResourceStatusReason", ""))
        if status.endswith("_FAILED") and not is_stack and "cancelled" not in reason.lower():
            failures.append(f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}) {status}: {reason}")
    return failures[::-1][:FAILED_RESOURCES_SHOWN]


def stack_alarm_names(cloudformation: Any, stack: str) -> list[str]:
    """The names of the stack's CloudWatch alarms (their physical IDs)."""
    names = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page.get("StackResourceSummaries", []):
            if resource.get("ResourceType") == "AWS::CloudWatch::Alarm" and resource.get("PhysicalResourceId"):
                names.append(str(resource["PhysicalResourceId"]))
    return sorted(names)


def describe_alarms(cloudwatch: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in _chunks(names, DESCRIBE_ALARMS_MAX):
        response = cloudwatch.describe_alarms(AlarmNames=chunk, MaxRecords=DESCRIBE_ALARMS_MAX)
        found += response.get("MetricAlarms", []) + response.get("CompositeAlarms", [])
    return found


def describe_tasks(ecs: Any, cluster: str, arns: Sequence[str]) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for chunk in _chunks(arns, DESCRIBE_TASKS_MAX):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=chunk).get("tasks", [])
    return tasks


def _task(task: Mapping[str, Any], causes: list[Cause], failed: bool) -> Task:
    return Task(
        id=str(task.get("taskArn", "?")).rsplit("/", 1)[-1],
        task_definition=_revision(str(task.get("taskDefinitionArn", "?"))),
        last_status=str(task.get("lastStatus", "UNKNOWN")),
        started_by=task.get("startedBy"),
        created_at=_when(task.get("createdAt")),
        stopped_at=_when(task.get("stoppedAt")),
        stop_code=task.get("stopCode"),
        stopped_reason=task.get("stoppedReason"),
        containers=[Container(str(c.get("name", "?")), c.get("exitCode"), c.get("reason")) for c in task.get("containers", [])],
        causes=causes,
        failed=failed,
    )


def _newest_first(tasks: Iterable[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(tasks, key=lambda t: _as_datetime(t.get(key)) or _as_datetime(t.get("createdAt")) or oldest, reverse=True)


class Reader:
    """Reads one environment; ``report`` collects what it finds and what is failing."""

    def __init__(self, app: str, environment: str, region: str | None, clients: Clients, now: datetime) -> None:
        self.clients = clients
        self.region = region
        self.now = now
        self.report = Report(app=app, environment=environment, region=region, checked_at=_when(now) or "")
        self.alarms: list[tuple[str, dict[str, Any]]] = []
        """Every alarm of the stacks, with its stack."""
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """One client per service for the whole report (making a boto3 client is the slow part of a call)."""
        if service not in self._clients:
            self._clients[service] = self.clients(service, self.region)
        return self._clients[service]

    def log_group(self, workload: str) -> str:
        """OBS-1: every workload logs to /ecs/<app>/<environment>/<workload>."""
        return f"/ecs/{self.report.app}/{self.report.environment}/{workload}"

    def read(self) -> Report:
        report = self.report
        cloudformation = self.client("cloudformation")
        stacks = deployed_stacks(cloudformation, report.app, report.environment)
        if not stacks:
            where = f" in {self.region}" if self.region else ""
            raise StatusError(
                f"no deployed stack of app {report.app!r}, environment {report.environment!r}{where} (by the stack tags App and "
                "Environment): deploy it (make deploy), or name another spec, environment or region"
            )
        outputs: dict[str, tuple[str, dict[str, Any]]] = {}
        for name in sorted(stacks):
            self._stack(cloudformation, name, stacks[name])
            outputs.update((o["OutputKey"], (name, o)) for o in stacks[name].get("Outputs", []))
            report.dashboards += [str(o["OutputValue"]) for o in stacks[name].get("Outputs", []) if o["OutputKey"] == DASHBOARD_URL]
        for name in sorted(stacks):
            self.alarms += [(name, alarm) for alarm in describe_alarms(self.client("cloudwatch"), stack_alarm_names(cloudformation, name))]
        report.alarms_watched = len(self.alarms)
        cluster = outputs.get(CLUSTER_NAME)
        if cluster is None:
            if not any(_is_failed_stack(s.status) for s in report.stacks):
                raise StatusError(
                    f"no stack of {report.app} {report.environment} has the output {CLUSTER_NAME} (the workload stack "
                    f"{report.app}-{report.environment}-workloads is not deployed yet?)"
                )
        else:
            report.cluster = str(cluster[1]["OutputValue"])
            self._services(report.cluster, outputs)
            self._jobs(outputs)
        self._alarms_in_alarm()
        return report

    def _stack(self, cloudformation: Any, name: str, stack: Mapping[str, Any]) -> None:
        status = str(stack.get("StackStatus", "UNKNOWN"))
        entry = Stack(name=name, status=status, reason=stack.get("StackStatusReason"))
        self.report.stacks.append(entry)
        if _is_failed_stack(status):
            entry.failures = stack_failures(cloudformation, name)
            cause = f"; first failure: {entry.failures[0]}" if entry.failures else (f": {entry.reason}" if entry.reason else "")
            self.report.problems.append(f"stack {name} is {status}: its last deploy failed{cause}")

    # services and workers

    def _services(self, cluster: str, outputs: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        wanted: list[Service] = []
        for key, (stack, output) in sorted(outputs.items()):
            if key.endswith(SERVICE_NAME) and key != SERVICE_NAME:
                name = _workload_name(key, SERVICE_NAME, output)
                kind = "worker" if key.removesuffix(SERVICE_NAME) + QUEUE_URL in outputs else "service"
                wanted.append(Service(name=name, kind=kind, stack=stack, ecs_name=str(output["OutputValue"]), status="MISSING"))
        ecs = self.client("ecs")
        described: dict[str, dict[str, Any]] = {}
        for chunk in _chunks([s.ecs_name for s in wanted], DESCRIBE_SERVICES_MAX):
            for service in ecs.describe_services(cluster=cluster, services=chunk).get("services", []):
                described[service["serviceName"]] = service
        for service in sorted(wanted, key=lambda s: s.name):
            self._service(ecs, cluster, service, described.get(service.ecs_name))
            self.report.services.append(service)

    def _service(self, ecs: Any, cluster: str, service: Service, described: Mapping[str, Any] | None) -> None:
        problems = self.report.problems
        if described is None or described.get("status") == "INACTIVE":
            service.status = "MISSING" if described is None else "INACTIVE"
            problems.append(f"{service.kind} {service.name}: no active ECS service {service.ecs_name} in cluster {cluster}")
            return
        service.status = str(described.get("status"))
        service.desired, service.running, service.pending = (
            int(described.get(k, 0)) for k in ("desiredCount", "runningCount", "pendingCount")
        )
        for deployment in described.get("deployments", []):
            entry = Deployment(
                id=str(deployment.get("id", "?")),
                status=str(deployment.get("status", "?")),
                rollout_state=deployment.get("rolloutState"),
                rollout_state_reason=deployment.get("rolloutStateReason"),
                desired=int(deployment.get("desiredCount", 0)),
                running=int(deployment.get("runningCount", 0)),
                pending=int(deployment.get("pendingCount", 0)),
                failed_tasks=int(deployment.get("failedTasks", 0)),
                task_definition=_revision(str(deployment.get("taskDefinition", "?"))),
                created_at=_when(deployment.get("createdAt")),
                updated_at=_when(deployment.get("updatedAt")),
            )
            service.deployments.append(entry)
            if entry.rollout_state == "FAILED":
                problems.append(
                    f"{service.kind} {service.name}: deployment {entry.id} of {entry.task_definition} rollout FAILED: "
                    f"{entry.rollout_state_reason or 'no reason given'}"
                )
        service.events = [f"{_when(e.get('createdAt'))} {e.get('message', '')}" for e in described.get("events", [])[:EVENTS_SHOWN]]
        arns = ecs.list_tasks(cluster=cluster, serviceName=service.ecs_name, desiredStatus="STOPPED").get("taskArns", [])
        tasks = describe_tasks(ecs, cluster, arns[:DESCRIBE_TASKS_MAX]) if arns else []
        # A service's tasks are in its group: an emulator that ignores serviceName lists the cluster's other tasks too.
        own = [t for t in tasks if t.get("group") in (None, f"service:{service.ecs_name}")]
        for task in _newest_first(own, "stoppedAt")[:STOPPED_TASKS_SHOWN]:
            causes = causes_of(task, log_group=self.log_group(service.name))
            service.stopped_tasks.append(_task(task, causes, any(c.error for c in causes)))
        failed = [t for t in service.stopped_tasks if t.failed]
        if failed:
            kinds = ", ".join(dict.fromkeys(c.kind for t in failed for c in t.causes if c.error))
            problems.append(
                f"{service.kind} {service.name}: {len(failed)} of its last {len(service.stopped_tasks)} stopped task(s) "
                f"stopped for errors ({kinds})"
            )

    # jobs

    def _jobs(self, outputs: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        ecs = self.client("ecs")
        for key, (stack, output) in sorted(outputs.items(), key=lambda item: _workload_name(item[0], RUN_TASK_PARAMETERS, item[1][1])):
            if not key.endswith(RUN_TASK_PARAMETERS) or key == RUN_TASK_PARAMETERS:
                continue
            name = _workload_name(key, RUN_TASK_PARAMETERS, output)
            try:
                request = json.loads(output["OutputValue"])
                cluster, family = str(request["cluster"]), _revision(str(request["taskDefinition"])).split(":")[0]
            except (ValueError, KeyError, TypeError):
                self.report.problems.append(f"job {name}: output {key} of {stack} is not a JSON object of RunTask parameters")
                continue
            job = Job(name=name, stack=stack, family=family)
            self.report.jobs.append(job)
            self._runs(ecs, cluster, job)
            self._failed_runs(job)

    def _runs(self, ecs: Any, cluster: str, job: Job) -> None:
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            arns += ecs.list_tasks(cluster=cluster, family=job.family, desiredStatus=desired).get("taskArns", [])
        since = self.now - JOB_WINDOW
        tasks = [
            t
            for t in (describe_tasks(ecs, cluster, arns) if arns else [])
            if (_as_datetime(t.get("createdAt")) or self.now) >= since
            and _revision(str(t.get("taskDefinitionArn", ""))).startswith(job.family + ":")
        ]
        for task in _newest_first(tasks, "createdAt"):
            failed = job_run_failed(task)
            causes = causes_of(task, log_group=self.log_group(job.name)) if failed else []
            job.runs.append(_task(task, causes, failed))
        failed_runs = [r for r in job.runs if r.failed]
        if failed_runs:
            self.report.problems.append(
                f"job {job.name}: {len(failed_runs)} of its {len(job.runs)} run(s) of the last day that ECS still lists failed"
            )

    def _failed_runs(self, job: Job) -> None:
        """The sum over 24 hours of the metric of the job's failure alarm (matches of its failed-runs rule)."""
        alarm = next(
            (
                a
                for _, a in self.alarms
                if str(a.get("AlarmDescription", "")).startswith(f"{job.name}: ") and a.get("MetricName") == "TriggeredRules"
            ),
            None,
        )
        if alarm is None:
            return
        response = self.client("cloudwatch").get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=self.now - timedelta(hours=24),
            EndTime=self.now,
            Period=3600,
            Statistics=["Sum"],
        )
        job.failed_runs_24h = int(sum(point.get("Sum", 0) for point in response.get("Datapoints", [])))
        if job.failed_runs_24h:
            self.report.problems.append(f"job {job.name}: {job.failed_runs_24h} failed run(s) in the last 24 hours (its failure rule)")

    # alarms

    def _alarms_in_alarm(self) -> None:
        for stack, alarm in sorted(self.alarms, key=lambda item: str(item[1].get("AlarmName"))):
            if alarm.get("StateValue") != "ALARM":
                continue
            entry = Alarm(
                name=str(alarm.get("AlarmName")),
                stack=stack,
                state="ALARM",
                reason=str(alarm.get("StateReason", "")),
                description=str(alarm.get("AlarmDescription", "")),
                since=_when(alarm.get("StateUpdatedTimestamp")),
            )
            self.report.alarms.append(entry)
            self.report.problems.append(f"alarm {entry.name} in ALARM since {entry.since}: {entry.description or entry.reason}")


def status(app: str, environment: str, region: str | None, clients: Clients, *, now: datetime | None = None) -> Report:
    """What the deployed ``app``/``environment`` is doing; ``report.problems`` is what is failing. Raises
    :class:`StatusError` when it has no stacks (or no cluster output), botocore's errors when AWS cannot be read."""
    return Reader(app, environment, region, clients, now or datetime.now(UTC)).read()


# --- the report as text --------------------------------------------------------------------


def _container_text(container: Container, stopped_reason: str | None) -> str:
    text = f"{container.name}={'no exit code' if container.exit_code is None else container.exit_code}"
    # A container that never started repeats the task's reason word for word: once is enough.
    return f"{text} ({container.reason})" if container.reason and container.reason != stopped_reason else text


def _task_lines(task: Task, indent: str, hinted: set[str]) -> list[str]:
    """A task's lines; a hint already given in this section (``hinted``) is not repeated."""
    head = f"{indent}{task.id} {task.task_definition} {task.last_status}"
    if task.stopped_at:
        head += f" at {task.stopped_at}"
    elif task.created_at:
        head += f" (created {task.created_at})"
    if task.started_by:
        head += f", started by {task.started_by}"
    if task.failed:
        head += "  FAILED"
    lines = [head]
    if task.stop_code or task.stopped_reason:
        lines.append(f"{indent}  {task.stop_code or 'stopped'}: {task.stopped_reason or 'no reason given'}")
    if task.containers:
        lines.append(f"{indent}  containers: {'  '.join(_container_text(c, task.stopped_reason) for c in task.containers)}")
    for cause in task.causes:
        lines.append(f"{indent}  hint ({cause.kind}): {'as above' if cause.hint in hinted else cause.hint}")
        hinted.add(cause.hint)
    return lines


def render(report: Report) -> str:
    """The report as plain text: stacks, services, jobs, alarms, then the verdict."""
    where = f" in {report.region}" if report.region else ""
    lines = [f"{report.app} {report.environment}{where}, {report.checked_at}"]
    for stack in report.stacks:
        lines.append(f"stack {stack.name}: {stack.status}" + (f" ({stack.reason})" if stack.reason else ""))
        lines += [f"  failed: {failure}" for failure in stack.failures]
    if report.cluster:
        lines.append(f"cluster {report.cluster}")
    lines += [f"dashboard {url}" for url in report.dashboards]
    for service in report.services:
        lines += ["", f"{service.kind} {service.name} (ECS service {service.ecs_name}, stack {service.stack}): {service.status}"]
        if service.status == "MISSING":
            continue
        lines[-1] += f", {service.desired} desired, {service.running} running, {service.pending} pending"
        for d in service.deployments:
            rollout = d.rollout_state or "-"
            if d.rollout_state_reason:
                rollout += f" ({d.rollout_state_reason})"
            failed = f", {d.failed_tasks} failed" if d.failed_tasks else ""
            lines.append(
                f"  deployment {d.id} {d.status} {d.task_definition}: rollout {rollout}; "
                f"{d.desired} desired, {d.running} running, {d.pending} pending{failed}; created {d.created_at}, updated {d.updated_at}"
            )
        if service.events:
            lines.append("  events:")
            lines += [f"    {event}" for event in service.events]
        if service.stopped_tasks:
            lines.append(f"  last stopped tasks ({len(service.stopped_tasks)}):")
            hinted: set[str] = set()
            for task in service.stopped_tasks:
                lines += _task_lines(task, "    ", hinted)
        else:
            lines.append("  no stopped tasks listed (ECS lists stopped tasks for about an hour)")
    for job in report.jobs:
        lines += ["", f"job {job.name} (family {job.family}, stack {job.stack}): {len(job.runs)} run(s) in the last day"]
        lines.append("  (ListTasks by family, RUNNING and STOPPED: ECS lists a stopped task for about an hour)")
        hinted = set()
        for task in job.runs:
            lines += _task_lines(task, "    ", hinted)
        if job.failed_runs_24h is not None:
            lines.append(f"  failed runs in the last 24 hours (its failure rule's matches): {job.failed_runs_24h}")
    lines += ["", f"alarms: {len(report.alarms)} of {report.alarms_watched} in ALARM"]
    for alarm in report.alarms:
        lines.append(f"  {alarm.name} ({alarm.stack}) since {alarm.since}: {alarm.description}")
        lines.append(f"    {alarm.reason}")
    lines.append("")
    if report.problems:
        lines.append(f"status: FAILING, {len(report.problems)} problem(s):")
        lines += [f"  - {problem}" for problem in report.problems]
    else:
        lines.append("status: healthy")
    return "\n".join(lines)


def as_json(report: Report) -> str:
    """The same data as the text, as JSON (with ``healthy`` and ``exit_status``)."""
    data = asdict(report)
    data.update(healthy=not report.problems, exit_status=report.exit_status)
    return json.dumps(data, indent=2)


# --- the command ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    app: str
    environment: str
    region: str


def target_of(spec_path: str, environment: str | None, region: str | None) -> Target:
    """The app, environment and region of the spec (of ``environment`` when it has several)."""
    from ecs_platform.spec import SpecError, load_specs  # only here: the spec models load pydantic and YAML

    try:
        # Image tags are given at synthesis (-c image_tag=...); any will do to read where the spec is deployed.
        specs = load_specs(spec_path, environment=environment, image_tags={"": "status"})
    except SpecError as error:
        raise StatusError(str(error)) from None
    if len(specs) > 1:
        names = ", ".join(s.environment.name for s in specs)
        raise StatusError(f"{spec_path} has {len(specs)} environments ({names}); allowed: choose one with --env")
    spec = specs[0]
    return Target(spec.app, spec.environment.name, region or spec.environment.region)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecs-platform status",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "What a deployed environment is doing, when a deploy goes wrong: its stacks, each service's deployments\n"
            "and last stopped tasks (with the cause and a hint), the alarms in ALARM, each job's runs of the last day.\n"
            "Reads only (CloudFormation, ECS, CloudWatch); finds the stacks by their App and Environment tags."
        ),
        epilog=(
            "exit status:\n"
            "  0  all healthy\n"
            "  1  something is failing: a stack's last deploy failed, a rollout FAILED, tasks stopped for errors,\n"
            "     an alarm in ALARM, a failed job run\n"
            "  2  the spec or AWS could not be read, or nothing of the environment is deployed"
        ),
    )
    parser.add_argument("--spec", metavar="PATH", default=DEFAULT_SPEC, help=f"the spec (default: {DEFAULT_SPEC})")
    parser.add_argument("--env", metavar="NAME", help="the environment, for a spec of several")
    parser.add_argument("--region", metavar="R", help="AWS region (default: the environment's in the spec)")
    parser.add_argument("--json", action="store_true", help="print the same data as JSON")
    return parser


def _boto3_clients(service: str, region: str | None) -> Any:
    import boto3  # type: ignore[import-untyped]  # here: the module loads fast for --help

    return boto3.client(service, region_name=region)


def main(argv: Sequence[str] | None = None, *, clients: Clients = _boto3_clients, now: Callable[[], datetime] | None = None) -> int:
    """``ecs-platform status ...``: returns the exit status (see the epilog of ``--help``). ``clients(service,
    region)`` makes the boto3 clients and ``now`` tells the time; tests pass stubs."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's one-line error after the usage
        return int(exit_.code or 0)
    try:
        target = target_of(args.spec, args.env, args.region)
        report = status(target.app, target.environment, target.region, clients, now=now() if now else None)
    except StatusError as error:
        print(f"ecs-platform status: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except NoRegionError:
        print("ecs-platform status: error: no AWS region: pass --region, or set AWS_REGION", file=sys.stderr)
        return EXIT_ERROR
    except NoCredentialsError:
        print(
            "ecs-platform status: error: no AWS credentials: configure them (e.g. AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except (ClientError, BotoCoreError) as error:
        print(f"ecs-platform status: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(as_json(report) if args.json else render(report))
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
