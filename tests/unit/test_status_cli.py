"""``ecs-platform status`` against recorded AWS responses (CLI-8, OBS-2).

Real boto3 clients with botocore's Stubber, so every request and every recorded response is checked
against the API models; no network, no emulator. Each scenario starts from a healthy environment of
the default spec (network and workload stacks, ``my-service``, the worker ``thumbnailer``, the job
``nightly-report``) and changes what a deploy gone wrong would change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecs_platform.cli import status as cli
from ecs_platform.cli.status import Report, causes_of, job_run_failed, main, render, status

#: Not ecs_platform.app_builder.PROJECT_ROOT: that module loads CDK, which this test never needs.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
REGION = "ap-northeast-1"
ACCOUNT_ID = "123456789012"
NETWORK, WORKLOADS = "my-app-dev-network", "my-app-dev-workloads"
CLUSTER = "my-app-dev-ClusterEB0386A7-Ab12Cd34Ef56"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:cluster/{CLUSTER}"
DASHBOARD = f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#dashboards/dashboard/my-app-dev"
DEPLOYMENT, NEW_DEPLOYMENT = "ecs-svc/4761839204518437651", "ecs-svc/8843170921764459012"
TAGS = [{"Key": "App", "Value": "my-app"}, {"Key": "Environment", "Value": "dev"}, {"Key": "Project", "Value": "ecs-platform"}]


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def task_definition(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/{family}:{revision}"


def task_arn(task_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task/{CLUSTER}/{task_id}"


RUN_TASK_PARAMETERS = {
    "cluster": CLUSTER,
    "taskDefinition": task_definition("nightly-report", 3),
    "count": 1,
    "launchType": "FARGATE",
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-0a1b", "subnet-0c1d"], "securityGroups": ["sg-0batch"], "assignPublicIp": "DISABLED"}
    },
    "propagateTags": "TASK_DEFINITION",
    "tags": [{"key": "Name", "value": "nightly-report-manual"}],
}


def output(key: str, value: str, description: str) -> dict[str, str]:
    return {"OutputKey": key, "OutputValue": value, "Description": description}


def stacks() -> list[dict[str, Any]]:
    """DescribeStacks of the account: the environment's two stacks and another environment's."""
    workload_outputs = [
        output("ClusterName", CLUSTER, "ECS cluster (CLI-8)"),
        output("MyServiceServiceName", "my-service", "my-service: ECS service (CLI-8)"),
        output("MyServiceTaskDefinition", task_definition("my-task", 7), "my-service: task definition (CLI-8)"),
        output("MyServiceUrl", "http://my-app-MyServ-1A2B3C4D5E6F-123456789.ap-northeast-1.elb.amazonaws.com", "my-service: its URL"),
        output("ThumbnailerQueueUrl", f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/my-app-dev-thumbnailer", "thumbnailer: the queue"),
        output("ThumbnailerServiceName", "thumbnailer", "thumbnailer: ECS service (CLI-8)"),
        output(
            "NightlyReportRunTaskParameters", json.dumps(RUN_TASK_PARAMETERS), "nightly-report: RunTask request (ecs-platform run-task)"
        ),
        output("NightlyReportTaskDefinition", task_definition("nightly-report", 3), "nightly-report: task definition (CLI-8)"),
        output("DashboardUrl", DASHBOARD, "CloudWatch dashboard (OBS-2)"),
    ]

    def stack(name: str, outputs: list[dict[str, str]], tags: list[dict[str, str]] = TAGS) -> dict[str, Any]:
        return {
            "StackName": name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{name}/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "CreationTime": ago(days=30),
            "LastUpdatedTime": ago(hours=2),
            "StackStatus": "UPDATE_COMPLETE",
            "Tags": tags,
            "Outputs": outputs,
        }

    prod = [{"Key": "App", "Value": "my-app"}, {"Key": "Environment", "Value": "prod"}]
    return [
        stack(NETWORK, []),
        stack(WORKLOADS, workload_outputs),
        stack("my-app-prod-workloads", [output("ClusterName", "my-app-prod-Cluster", "ECS cluster (CLI-8)")], prod),
    ]


ALARM_NAMES = {
    "cpu": "my-app-dev-workloads-ServicemyserviceWebServiceCpuHigh5F3B1C2A-1QX2Y3Z4A5B6C",
    "running": "my-app-dev-workloads-ServicemyserviceWebServiceRunningTasksLowA1B2C3D4-7H8J9K0L1M2N",
    "failed-runs": "my-app-dev-workloads-JobnightlyreportBatchJobFailedRunsAlarm9E8D7C6B-3P4Q5R6S7T8U",
}
FAILURE_RULE = "my-app-dev-workloads-JobnightlyreportBatchJobFailedRuns1A2B3C4D-5E6F7G8H9I0J"


def alarm(key: str, description: str, metric: str, namespace: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "AlarmName": ALARM_NAMES[key],
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{ALARM_NAMES[key]}",
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "StateValue": "OK",
        "StateReason": "Threshold Crossed: 3 datapoints [12.5 (02/06/25 08:50:00), 11.0 (02/06/25 08:45:00)] were not greater than "
        "the threshold (80.0).",
        "StateUpdatedTimestamp": ago(days=1),
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": "Sum" if metric == "TriggeredRules" else "Average",
        "Dimensions": dimensions,
        "Period": 300,
        "EvaluationPeriods": 3,
        "Threshold": 80.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def alarms() -> list[dict[str, Any]]:
    service = [{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "ServiceName", "Value": "my-service"}]
    return [
        alarm("cpu", "dev/Workloads/Service-my-service/WebService: CPU above 80 % for 15 minutes", "CPUUtilization", "AWS/ECS", service),
        alarm(
            "running",
            "dev/Workloads/Service-my-service/WebService: fewer than 2 running tasks for 5 minutes",
            "RunningTaskCount",
            "ECS/ContainerInsights",
            service,
        ),
        alarm(
            "failed-runs",
            "nightly-report: at least one failed run in 5 minutes",
            "TriggeredRules",
            "AWS/Events",
            [{"Name": "RuleName", "Value": FAILURE_RULE}],
        ),
    ]


def resources(stack: str) -> list[dict[str, Any]]:
    """ListStackResources: the workload stack's alarms among its other resources."""
    if stack == NETWORK:
        found = [("NetworkVpc7FB7348F", "vpc-0a1b2c3d", "AWS::EC2::VPC")]
    else:
        service_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:service/{CLUSTER}/my-service"
        found = [("ServicemyserviceWebServiceService1234ABCD", service_arn, "AWS::ECS::Service")]
        found += [(name.split("-")[4], name, "AWS::CloudWatch::Alarm") for name in ALARM_NAMES.values()]
    return [
        {
            "LogicalResourceId": logical,
            "PhysicalResourceId": physical,
            "ResourceType": kind,
            "LastUpdatedTimestamp": ago(hours=2),
            "ResourceStatus": "UPDATE_COMPLETE",
        }
        for logical, physical, kind in found
    ]


def deployment(deployment_id: str, status: str, revision: int, rollout: str, reason: str, **counts: int) -> dict[str, Any]:
    return {
        "id": deployment_id,
        "status": status,
        "taskDefinition": task_definition("my-task", revision),
        "desiredCount": counts.get("desired", 2),
        "pendingCount": counts.get("pending", 0),
        "runningCount": counts.get("running", 2),
        "failedTasks": counts.get("failed", 0),
        "createdAt": ago(hours=2),
        "updatedAt": ago(hours=1, minutes=50),
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": reason,
    }


def service(name: str, revision: int, family: str = "my-task") -> dict[str, Any]:
    """DescribeServices of a healthy service: one deployment, COMPLETED, at steady state."""
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:service/{CLUSTER}/{name}",
        "serviceName": name,
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "taskDefinition": task_definition(family, revision),
        "deployments": [deployment(DEPLOYMENT, "PRIMARY", revision, "COMPLETED", f"ECS deployment {DEPLOYMENT} completed.")],
        "events": [
            {"id": "a1b2c3d4-0001", "createdAt": ago(hours=1, minutes=45), "message": f"(service {name}) has reached a steady state."},
            {
                "id": "a1b2c3d4-0002",
                "createdAt": ago(hours=1, minutes=45),
                "message": f"(service {name}) (deployment {DEPLOYMENT}) deployment completed.",
            },
        ],
    }


def task(
    task_id: str,
    *,
    group: str,
    definition: str,
    stop_code: str | None,
    reason: str | None,
    containers: dict[str, tuple[int | None, str | None]],
    created: datetime,
    started_by: str | None = None,
) -> dict[str, Any]:
    """A DescribeTasks task; ``containers`` maps each name to its (exit code, reason). No stop code: RUNNING."""
    stopped = stop_code is not None
    described: dict[str, Any] = {
        "taskArn": task_arn(task_id),
        "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": definition,
        "group": group,
        "lastStatus": "STOPPED" if stopped else "RUNNING",
        "desiredStatus": "STOPPED" if stopped else "RUNNING",
        "launchType": "FARGATE",
        "createdAt": created,
        "containers": [
            {
                "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:container/{CLUSTER}/{task_id}/{name}",
                "taskArn": task_arn(task_id),
                "name": name,
                "lastStatus": "STOPPED" if stopped else "RUNNING",
                **({"exitCode": code} if code is not None else {}),
                **({"reason": container_reason} if container_reason else {}),
            }
            for name, (code, container_reason) in containers.items()
        ],
    }
    if started_by:
        described["startedBy"] = started_by
    if stopped:
        described.update(stopCode=stop_code, stoppedReason=reason, stoppedAt=created + timedelta(minutes=3))
    return described


def replaced_by_deployment() -> dict[str, Any]:
    """A task of the previous revision, stopped by the deployment that replaced it: an ordinary stop."""
    return task(
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        group="service:my-service",
        definition=task_definition("my-task", 6),
        stop_code="ServiceSchedulerInitiated",
        reason=f"Scaling activity initiated by (deployment {DEPLOYMENT})",
        containers={"my-container": (0, None)},
        created=ago(days=3),
        started_by=DEPLOYMENT,
    )


def job_run(
    task_id: str, exit_code: int | None, created: datetime, *, stop_code: str | None = "EssentialContainerExited"
) -> dict[str, Any]:
    return task(
        task_id,
        group="family:nightly-report",
        definition=task_definition("nightly-report", 3),
        stop_code=stop_code,
        reason="Essential container in task exited" if stop_code else None,
        containers={"report": (exit_code, None)},
        created=created,
        started_by="ecs-platform-run-task",
    )


@dataclass
class Account:
    """What the account holds, as the APIs answer: every scenario edits a copy of the healthy one."""

    stacks: list[dict[str, Any]] = field(default_factory=stacks)
    stack_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    alarms: list[dict[str, Any]] = field(default_factory=alarms)
    services: list[dict[str, Any]] = field(default_factory=lambda: [service("my-service", 7), service("thumbnailer", 2, "thumbnailer")])
    stopped: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"my-service": [replaced_by_deployment()], "thumbnailer": []})
    job_running: list[dict[str, Any]] = field(default_factory=list)
    job_stopped: list[dict[str, Any]] = field(
        default_factory=lambda: [job_run("9a8b7c6d5e4f30211203f4e5d6c7b8a9", 0, ago(hours=1)), job_run("1122334455667788", 1, ago(days=2))]
    )
    failed_runs: list[float] = field(default_factory=list)
    """The hourly sums of the job's failure metric over the last 24 hours."""

    @property
    def workloads_stack(self) -> dict[str, Any]:
        return next(s for s in self.stacks if s["StackName"] == WORKLOADS)


@dataclass
class Clients:
    cloudformation: Any
    ecs: Any
    cloudwatch: Any

    def __call__(self, service: str, region: str | None) -> Any:
        assert region == REGION
        return getattr(self, service)


@pytest.fixture(scope="module")
def clients() -> Clients:
    """Real clients (made once: loading the API models is the slow part); never on the network."""
    keys = {"region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return Clients(*(boto3.client(name, **keys) for name in ("cloudformation", "ecs", "cloudwatch")))


@dataclass
class Stubs:
    clients: Clients
    cloudformation: Stubber
    ecs: Stubber
    cloudwatch: Stubber

    def record(self, account: Account) -> None:
        """Queue the responses the command reads, in the order it asks for them."""
        cfn, ecs, cloudwatch = self.cloudformation, self.ecs, self.cloudwatch
        cfn.add_response("describe_stacks", {"Stacks": account.stacks}, {})
        mine = sorted(s["StackName"] for s in account.stacks if {"Key": "Environment", "Value": "dev"} in s["Tags"])
        for name in mine:
            status_ = next(s["StackStatus"] for s in account.stacks if s["StackName"] == name)
            if "FAILED" in status_ or "ROLLBACK" in status_:
                cfn.add_response("describe_stack_events", {"StackEvents": account.stack_events[name]}, {"StackName": name})
        for name in mine:
            cfn.add_response("list_stack_resources", {"StackResourceSummaries": resources(name)}, {"StackName": name})
            names = sorted(r["PhysicalResourceId"] for r in resources(name) if r["ResourceType"] == "AWS::CloudWatch::Alarm")
            if names:
                found = [a for a in account.alarms if a["AlarmName"] in names]
                cloudwatch.add_response("describe_alarms", {"MetricAlarms": found}, {"AlarmNames": names, "MaxRecords": 100})
        if not any(o["OutputKey"] == "ClusterName" for o in account.workloads_stack.get("Outputs", [])):
            return
        names = ["my-service", "thumbnailer"]
        ecs.add_response("describe_services", {"services": account.services, "failures": []}, {"cluster": CLUSTER, "services": names})
        for name in names:
            if not any(s["serviceName"] == name and s["status"] != "INACTIVE" for s in account.services):
                continue
            arns = [t["taskArn"] for t in account.stopped[name]]
            ecs.add_response("list_tasks", {"taskArns": arns}, {"cluster": CLUSTER, "serviceName": name, "desiredStatus": "STOPPED"})
            if arns:
                ecs.add_response("describe_tasks", {"tasks": account.stopped[name], "failures": []}, {"cluster": CLUSTER, "tasks": arns})
        runs = account.job_running + account.job_stopped
        for desired, listed in (("RUNNING", account.job_running), ("STOPPED", account.job_stopped)):
            expected = {"cluster": CLUSTER, "family": "nightly-report", "desiredStatus": desired}
            ecs.add_response("list_tasks", {"taskArns": [t["taskArn"] for t in listed]}, expected)
        if runs:
            ecs.add_response("describe_tasks", {"tasks": runs, "failures": []}, {"cluster": CLUSTER, "tasks": [t["taskArn"] for t in runs]})
        points = [{"Timestamp": ago(hours=i + 1), "Sum": value, "Unit": "Count"} for i, value in enumerate(account.failed_runs)]
        cloudwatch.add_response(
            "get_metric_statistics",
            {"Label": "TriggeredRules", "Datapoints": points},
            {
                "Namespace": "AWS/Events",
                "MetricName": "TriggeredRules",
                "Dimensions": [{"Name": "RuleName", "Value": FAILURE_RULE}],
                "StartTime": NOW - timedelta(hours=24),
                "EndTime": NOW,
                "Period": 3600,
                "Statistics": ["Sum"],
            },
        )


@pytest.fixture
def aws(clients: Clients) -> Iterator[Stubs]:
    stubs = Stubs(clients, Stubber(clients.cloudformation), Stubber(clients.ecs), Stubber(clients.cloudwatch))
    with stubs.cloudformation, stubs.ecs, stubs.cloudwatch:
        yield stubs
        for stub in (stubs.cloudformation, stubs.ecs, stubs.cloudwatch):
            stub.assert_no_pending_responses()


def check(aws: Stubs, account: Account) -> Report:
    aws.record(account)
    return status("my-app", "dev", REGION, aws.clients, now=NOW)


def run(aws: Stubs, account: Account, *argv: str) -> int:
    """``ecs-platform status`` of the default spec, with the stubbed clients."""
    aws.record(account)
    return main(["--spec", str(PROJECT_ROOT / "specs/default.yaml"), *argv], clients=aws.clients, now=lambda: NOW)


# --- a healthy environment -----------------------------------------------------------------


def test_cli8_a_healthy_environment_exits_0(aws: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI-8: the stacks are found by their App/Environment tags (not prod's), their outputs name the cluster,
    the services, the worker and the job; a task stopped by a deployment and a run that exited 0 are no problem,
    and a run older than a day is not shown."""
    assert run(aws, Account()) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:5] == [
        "my-app dev in ap-northeast-1, 2025-06-02T09:00:00Z",
        f"stack {NETWORK}: UPDATE_COMPLETE",
        f"stack {WORKLOADS}: UPDATE_COMPLETE",
        f"cluster {CLUSTER}",
        f"dashboard {DASHBOARD}",
    ]
    assert f"service my-service (ECS service my-service, stack {WORKLOADS}): ACTIVE, 2 desired, 2 running, 0 pending" in lines
    assert (
        f"  deployment {DEPLOYMENT} PRIMARY my-task:7: rollout COMPLETED (ECS deployment {DEPLOYMENT} completed.); "
        "2 desired, 2 running, 0 pending; created 2025-06-02T07:00:00Z, updated 2025-06-02T07:10:00Z"
    ) in lines
    assert f"worker thumbnailer (ECS service thumbnailer, stack {WORKLOADS}): ACTIVE, 2 desired, 2 running, 0 pending" in lines
    assert "  ServiceSchedulerInitiated: Scaling activity initiated by (deployment ecs-svc/4761839204518437651)" in out
    assert f"job nightly-report (family nightly-report, stack {WORKLOADS}): 1 run(s) in the last day" in lines
    assert (
        "    9a8b7c6d5e4f30211203f4e5d6c7b8a9 nightly-report:3 STOPPED at 2025-06-02T08:03:00Z, started by ecs-platform-run-task" in lines
    )
    assert "1122334455667788" not in out
    assert "  failed runs in the last 24 hours (its failure rule's matches): 0" in lines
    assert lines[-3:] == ["alarms: 0 of 3 in ALARM", "", "status: healthy"]


def test_json_gives_the_same_data(aws: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(aws, Account(), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["healthy"], data["exit_status"], data["problems"]) == (True, 0, [])
    assert [(s["name"], s["kind"], s["status"]) for s in data["services"]] == [
        ("my-service", "service", "ACTIVE"),
        ("thumbnailer", "worker", "ACTIVE"),
    ]
    (deployed,) = data["services"][0]["deployments"]
    assert (deployed["rollout_state"], deployed["task_definition"], deployed["running"]) == ("COMPLETED", "my-task:7", 2)
    assert data["services"][0]["stopped_tasks"][0]["failed"] is False
    assert [(r["id"], r["failed"]) for r in data["jobs"][0]["runs"]] == [("9a8b7c6d5e4f30211203f4e5d6c7b8a9", False)]
    assert data["alarms_watched"] == 3


# --- what a deploy gone wrong looks like ---------------------------------------------------

PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
    "docker.io/library/nginx:1.27-typo: docker.io/library/nginx:1.27-typo: not found"
)


def failed_rollout() -> Account:
    """A new revision whose image tag does not exist: the circuit breaker fails the rollout, its tasks stop at pull."""
    account = Account()
    my_service = account.services[0]
    my_service["taskDefinition"] = task_definition("my-task", 8)
    my_service["deployments"] = [
        deployment(
            NEW_DEPLOYMENT, "PRIMARY", 8, "FAILED", "ECS deployment circuit breaker: tasks failed to start.", running=0, pending=0, failed=3
        ),
        deployment(DEPLOYMENT, "ACTIVE", 7, "COMPLETED", f"ECS deployment {DEPLOYMENT} completed."),
    ]
    my_service["events"].insert(
        0,
        {
            "id": "a1b2c3d4-0009",
            "createdAt": ago(minutes=10),
            "message": f"(service my-service) (deployment {NEW_DEPLOYMENT}) deployment failed: tasks failed to start.",
        },
    )
    account.stopped["my-service"] = [
        task(
            f"{i:032x}",
            group="service:my-service",
            definition=task_definition("my-task", 8),
            stop_code="TaskFailedToStart",
            reason=PULL_ERROR,
            containers={"my-container": (None, PULL_ERROR)},
            created=ago(minutes=30 - 5 * i),
            started_by=NEW_DEPLOYMENT,
        )
        for i in range(1, 4)
    ] + [replaced_by_deployment()]
    return account


def test_cli8_a_failed_rollout_with_image_pull_errors_exits_1(aws: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI-8: the FAILED rollout and its reason; the tasks that stopped at the image pull, newest first, each with the
    container's reason and the hint for an image that cannot be pulled."""
    assert run(aws, failed_rollout()) == 1
    out = capsys.readouterr().out
    assert (
        f"  deployment {NEW_DEPLOYMENT} PRIMARY my-task:8: rollout FAILED (ECS deployment circuit breaker: tasks failed to start.); "
        "2 desired, 0 running, 0 pending, 3 failed; created 2025-06-02T07:00:00Z, updated 2025-06-02T07:10:00Z"
    ) in out
    assert f"    2025-06-02T08:50:00Z (service my-service) (deployment {NEW_DEPLOYMENT}) deployment failed: tasks failed to start." in out
    assert "  last stopped tasks (4):" in out
    stopped = [line for line in out.splitlines() if line.startswith("    0000")]
    assert [line.split()[0] for line in stopped] == [f"{i:032x}" for i in (3, 2, 1)]  # newest first
    assert stopped[0].endswith("FAILED")
    assert f"      TaskFailedToStart: {PULL_ERROR}" in out
    assert "      containers: my-container=no exit code" in out  # its reason is the task's, said once
    hints = [line for line in out.splitlines() if line.startswith("      hint (image-pull): ")]
    assert hints[0].startswith("      hint (image-pull): ECS could not pull the image: check that the image and its tag exist")
    assert hints[1:] == ["      hint (image-pull): as above"] * 2
    assert f"  - service my-service: deployment {NEW_DEPLOYMENT} of my-task:8 rollout FAILED: ECS deployment circuit breaker" in out
    assert "  - service my-service: 3 of its last 4 stopped task(s) stopped for errors (image-pull)" in out


def test_bp2_tasks_stopped_by_failed_load_balancer_health_checks_exit_1(aws: Stubs) -> None:
    """BP-2: the load balancer replaces tasks that fail its health check; status names the cause and what to check."""
    account = Account()
    account.services[0]["deployments"] = [
        deployment(NEW_DEPLOYMENT, "PRIMARY", 8, "IN_PROGRESS", f"ECS deployment {NEW_DEPLOYMENT} in progress.", running=1, pending=1),
        deployment(DEPLOYMENT, "ACTIVE", 7, "COMPLETED", f"ECS deployment {DEPLOYMENT} completed."),
    ]
    target_group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:targetgroup/my-app-MyServ-1A2B3C4D5E6F/0123456789abcdef"
    account.stopped["my-service"] = [
        task(
            "5d4c3b2a19f8e7d6c5b4a39281706f5e",
            group="service:my-service",
            definition=task_definition("my-task", 8),
            stop_code="ServiceSchedulerInitiated",
            reason=f"Task failed ELB health checks in (target-group {target_group})",
            containers={"my-container": (0, None)},
            created=ago(minutes=20),
            started_by=NEW_DEPLOYMENT,
        )
    ]
    report = check(aws, account)
    assert report.exit_status == 1
    (stopped,) = report.services[0].stopped_tasks
    assert [c.kind for c in stopped.causes] == ["elb-health-check"]
    assert "health_check.path" in stopped.causes[0].hint
    assert report.problems == ["service my-service: 1 of its last 1 stopped task(s) stopped for errors (elb-health-check)"]


def test_obs2_an_alarm_in_alarm_exits_1(aws: Stubs) -> None:
    """OBS-2: the environment's alarms are read from its stacks' alarm resources; one in ALARM is failing."""
    account = Account()
    account.alarms[0].update(
        StateValue="ALARM",
        StateUpdatedTimestamp=ago(minutes=12),
        StateReason="Threshold Crossed: 3 out of the last 3 datapoints [93.1 (02/06/25 08:45:00), 91.7 (02/06/25 08:40:00), 95.0 "
        "(02/06/25 08:35:00)] were greater than the threshold (80.0) (minimum 3 datapoints for OK -> ALARM transition).",
    )
    report = check(aws, account)
    assert report.exit_status == 1
    assert [(a.name, a.stack, a.since) for a in report.alarms] == [(ALARM_NAMES["cpu"], WORKLOADS, "2025-06-02T08:48:00Z")]
    assert report.problems == [
        f"alarm {ALARM_NAMES['cpu']} in ALARM since 2025-06-02T08:48:00Z: "
        "dev/Workloads/Service-my-service/WebService: CPU above 80 % for 15 minutes"
    ]
    assert "alarms: 1 of 3 in ALARM" in render(report)


def test_use3_a_job_run_that_exited_1_exits_1(aws: Stubs) -> None:
    """USE-3: a run counts as failed as the job's failure rule counts it (a non-zero exit); its hint says where its logs
    are. The failure metric counts the failed runs of 24 hours, also those ECS no longer lists."""
    account = Account()
    account.job_running = [job_run("77665544332211000011223344556677", None, ago(minutes=2), stop_code=None)]
    account.job_stopped = [job_run("0a0b0c0d0e0f10111213141516171819", 1, ago(hours=3))]
    account.failed_runs = [0.0, 1.0, 2.0]
    report = check(aws, account)
    assert report.exit_status == 1
    (job,) = report.jobs
    assert [(r.id, r.last_status, r.failed) for r in job.runs] == [
        ("77665544332211000011223344556677", "RUNNING", False),
        ("0a0b0c0d0e0f10111213141516171819", "STOPPED", True),
    ]
    (cause,) = job.runs[1].causes
    assert cause.kind == "essential-container-exited"
    assert cause.hint.endswith(
        "(report exited 1): aws logs tail /ecs/my-app/dev/nightly-report --log-stream-names ecs/report/0a0b0c0d0e0f10111213141516171819"
    )
    assert job.failed_runs_24h == 3
    assert report.problems == [
        "job nightly-report: 1 of its 2 run(s) of the last day that ECS still lists failed",
        "job nightly-report: 3 failed run(s) in the last 24 hours (its failure rule)",
    ]


def test_a_stack_whose_last_deploy_rolled_back_exits_1_and_names_the_failed_resource(aws: Stubs) -> None:
    """The first failure of the last operation is the cause; the cancelled ones after it are left out."""
    account = Account()
    account.workloads_stack.update(StackStatus="UPDATE_ROLLBACK_COMPLETE")

    def event(logical: str, kind: str, status_: str, reason: str = "", minutes: int = 0) -> dict[str, Any]:
        return {
            "StackId": account.workloads_stack["StackId"],
            "EventId": f"{logical}-{status_}",
            "StackName": WORKLOADS,
            "LogicalResourceId": logical,
            "ResourceType": kind,
            "Timestamp": ago(minutes=minutes),
            "ResourceStatus": status_,
            "ResourceStatusReason": reason,
        }

    stack_kind = "AWS::CloudFormation::Stack"
    account.stack_events[WORKLOADS] = [  # newest first, as CloudFormation gives them
        event(WORKLOADS, stack_kind, "UPDATE_ROLLBACK_COMPLETE", minutes=1),
        event(WORKLOADS, stack_kind, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Service].", 5),
        event("ServiceRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "UPDATE_FAILED", "Resource update cancelled", 5),
        event("Service", "AWS::ECS::Service", "UPDATE_FAILED", "Resource handler returned message: \"Error occurred during operation "
              "'ECS Deployment Circuit Breaker was triggered'.\"", 6),
        event(WORKLOADS, stack_kind, "UPDATE_IN_PROGRESS", "User Initiated", 20),
        event("OldService", "AWS::ECS::Service", "UPDATE_FAILED", "an earlier deploy's failure", 600),
    ]  # fmt: skip
    report = check(aws, account)
    assert report.exit_status == 1
    assert report.stacks[1].failures == [
        'Service (AWS::ECS::Service) UPDATE_FAILED: Resource handler returned message: "Error occurred during operation '
        "'ECS Deployment Circuit Breaker was triggered'.\""
    ]
    assert report.problems[0].startswith(f"stack {WORKLOADS} is UPDATE_ROLLBACK_COMPLETE: its last deploy failed; first failure: Service")


def test_a_stack_that_failed_to_create_has_no_outputs_and_still_reports(aws: Stubs) -> None:
    """A first deploy that rolled back leaves a stack without outputs: its failure is the report, exit 1."""
    account = Account()
    account.workloads_stack.update(StackStatus="ROLLBACK_COMPLETE", Outputs=[])
    account.stack_events[WORKLOADS] = []
    report = check(aws, account)
    assert (report.exit_status, report.cluster, report.services) == (1, None, [])
    assert report.problems[0] == f"stack {WORKLOADS} is ROLLBACK_COMPLETE: its last deploy failed"


def test_a_service_missing_from_the_cluster_is_failing(aws: Stubs) -> None:
    account = Account()
    account.services = [account.services[1]]
    report = check(aws, account)
    assert report.problems == [f"service my-service: no active ECS service my-service in cluster {CLUSTER}"]


# --- why a task stopped --------------------------------------------------------------------


def stopped(reason: str, stop_code: str = "TaskFailedToStart", **containers: tuple[int | None, str | None]) -> dict[str, Any]:
    return task(
        "f" * 32,
        group="service:my-service",
        definition=task_definition("my-task", 8),
        stop_code=stop_code,
        reason=reason,
        containers=containers or {"my-container": (None, None)},
        created=ago(minutes=5),
    )


@pytest.mark.parametrize(
    ("described", "kinds"),
    [
        pytest.param(
            stopped(
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to "
                "retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
                f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:orders/db-AbCdEf from secrets manager: AccessDeniedException"
            ),
            ["secrets"],
            id="secrets",
        ),
        pytest.param(
            stopped(
                "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create "
                "Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1"
            ),
            ["logging"],
            id="log-group",
        ),
        pytest.param(
            stopped(
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to "
                "retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: "
                f'Post "https://api.ecr.{REGION}.amazonaws.com/": dial tcp 10.0.0.1:443: i/o timeout'
            ),
            ["image-pull"],
            id="registry-auth",
        ),
        pytest.param(
            stopped("ResourceInitializationError: failed to download env files: file download command: non empty error stream"),
            ["resource-initialization"],
            id="other-initialization",
        ),
        pytest.param(
            stopped(
                "Essential container in task exited",
                "EssentialContainerExited",
                **{"my-container": (137, "OutOfMemoryError: Container killed due to memory usage")},
            ),
            ["out-of-memory"],
            id="out-of-memory",
        ),
        pytest.param(
            stopped("Essential container in task exited", "EssentialContainerExited", **{"my-container": (1, None)}),
            ["essential-container-exited"],
            id="exited",
        ),
        pytest.param(stopped("Task failed container health checks", "ServiceSchedulerInitiated"), ["container-health-check"], id="health"),
        pytest.param(
            stopped("CannotStartContainerError: Error response from daemon: failed to create shim task", "TaskFailedToStart"),
            ["container-start"],
            id="cannot-start",
        ),
        pytest.param(stopped("Timeout waiting for network interface provisioning to complete."), ["failed-to-start"], id="failed-to-start"),
        pytest.param(stopped("Your Spot Task was interrupted.", "SpotInterruption"), ["spot-interruption"], id="spot"),
        pytest.param(stopped("Task stopped by user", "UserInitiated"), [], id="user"),
        pytest.param(stopped("Scaling activity initiated by (deployment ecs-svc/1)", "ServiceSchedulerInitiated"), [], id="scaling"),
    ],
)
def test_a_stopped_task_gets_the_hint_of_its_cause(described: dict[str, Any], kinds: list[str]) -> None:
    """ECS's documented stop reasons each map to one cause with what to check; ordinary stops to none."""
    causes = causes_of(described, log_group="/ecs/my-app/dev/my-service")
    assert [c.kind for c in causes] == kinds
    assert all(c.hint for c in causes)


def test_a_spot_interruption_is_no_error() -> None:
    """Fargate Spot takes capacity back with notice: the service replaces the task; nothing is failing."""
    (cause,) = causes_of(stopped("Your Spot Task was interrupted.", "SpotInterruption"))
    assert cause.error is False


@pytest.mark.parametrize(
    ("stop_code", "exit_codes", "failed"),
    [
        ("EssentialContainerExited", {"report": 0}, False),
        ("EssentialContainerExited", {"report": 0, "sidecar": 2}, True),
        ("EssentialContainerExited", {"report": 1}, True),
        ("TaskFailedToStart", {"report": None}, True),
        ("UserInitiated", {"report": 143}, True),
    ],
)
def test_use3_a_job_run_fails_as_its_failure_rule_counts_it(stop_code: str, exit_codes: dict[str, int | None], failed: bool) -> None:
    """USE-3: the same test as the job's EventBridge rule: a non-zero exit code, or a stop other than the exit."""
    described = {"lastStatus": "STOPPED", "stopCode": stop_code, "containers": [{"name": n, "exitCode": c} for n, c in exit_codes.items()]}
    assert job_run_failed(described) is failed


# --- what cannot be read -------------------------------------------------------------------


def test_fails_with_2_when_nothing_of_the_environment_is_deployed(aws: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    aws.cloudformation.add_response("describe_stacks", {"Stacks": stacks()[2:]}, {})
    assert main(["--spec", str(PROJECT_ROOT / "specs/default.yaml")], clients=aws.clients, now=lambda: NOW) == 2
    assert capsys.readouterr().err == (
        "ecs-platform status: error: no deployed stack of app 'my-app', environment 'dev' in ap-northeast-1 (by the stack tags "
        "App and Environment): deploy it (make deploy), or name another spec, environment or region\n"
    )


def test_fails_with_2_when_aws_refuses(aws: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    aws.cloudformation.add_client_error(
        "describe_stacks", "AccessDenied", "User is not authorized to perform: cloudformation:DescribeStacks"
    )
    assert main(["--spec", str(PROJECT_ROOT / "specs/default.yaml")], clients=aws.clients, now=lambda: NOW) == 2
    assert (
        "ecs-platform status: error: An error occurred (AccessDenied) when calling the DescribeStacks operation" in capsys.readouterr().err
    )


def test_fails_with_2_when_the_spec_cannot_be_read(capsys: pytest.CaptureFixture[str]) -> None:
    def no_clients(service: str, region: str | None) -> Any:
        raise AssertionError("the spec is read before any AWS call")

    assert main(["--spec", "specs/missing.yaml"], clients=no_clients) == 2
    assert capsys.readouterr().err.startswith("ecs-platform status: error: specs/missing.yaml: 1 problem(s) in the spec:\n")


def test_fails_with_2_when_the_spec_has_several_environments_and_none_is_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--spec", str(PROJECT_ROOT / "specs/environments.yaml")], clients=lambda service, region: None) == 2
    assert "has 3 environments (dev, staging, prod); allowed: choose one with --env" in capsys.readouterr().err


def test_the_environment_and_region_come_from_the_spec(aws: Stubs) -> None:
    """--env chooses one environment of a spec of several; --region overrides the spec's."""
    target = cli.target_of(str(PROJECT_ROOT / "specs/environments.yaml"), "staging", None)
    assert (target.app, target.environment, target.region) == ("shop", "staging", "ap-northeast-1")
    assert cli.target_of(str(PROJECT_ROOT / "specs/default.yaml"), None, "us-east-1").region == "us-east-1"


@pytest.mark.integration
def test_help_loads_neither_cdk_nor_the_spec_models() -> None:
    """``ecs-platform status --help`` and ``diagram --help`` start fast: no aws_cdk, jsii or pydantic."""
    script = (
        "import sys\n"
        "from ecs_platform.cli import main\n"
        "codes = [main(['status', '--help']), main(['diagram', '--help'])]\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'cdk_nag', 'pydantic', 'yaml'})\n"
        "print('LOADED', loaded, codes)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("usage: ecs-platform status ")
    assert "usage: ecs-platform diagram " in result.stdout
    assert result.stdout.splitlines()[-1] == "LOADED [] [0, 0]"
