"""``ecs-platform run-task`` against stubbed ECS and CloudFormation clients (LIM-3, CLI-7, CLI-9).

Real boto3 clients with botocore's Stubber, so every request is checked against the API
model; no network, no emulator. Time is fake: ``FakeTime.sleep`` only advances the clock.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ecs_platform.app_builder import PROJECT_ROOT
from ecs_platform.cli import main as dispatch
from ecs_platform.cli import run_task as cli
from ecs_platform.cli.run_task import RateLimiter, batches, main, run_task

STACK = "my-app-dev-workloads"
JOB = "nightly-report"
CLUSTER = "my-app-dev-ClusterEB0386A7-Ab12Cd34"
TASK_DEFINITION_ARN = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/nightly-report:3"
#: The job's RunTask request as the stack publishes it (output NightlyReportRunTaskParameters).
REQUEST: dict[str, Any] = {
    "cluster": CLUSTER,
    "taskDefinition": JOB,
    "count": 1,
    "launchType": "FARGATE",
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-0a", "subnet-0c"], "securityGroups": ["sg-0batch"], "assignPublicIp": "DISABLED"}
    },
    "propagateTags": "TASK_DEFINITION",
    "tags": [{"key": "Name", "value": f"{JOB}-manual"}],
}


def task_arn(number: int) -> str:
    return f"arn:aws:ecs:ap-northeast-1:123456789012:task/{CLUSTER}/{number:032x}"


def job_output(job: str, request: dict[str, Any]) -> dict[str, str]:
    key = cli.output_prefix(job) + "RunTaskParameters"
    return {"OutputKey": key, "OutputValue": json.dumps(request), "Description": f"{job}: RunTask request (ecs-platform run-task)"}


@dataclass
class FakeTime:
    """A clock that only ``sleep`` moves."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def task(arn: str, status: str = "STOPPED", **exit_codes: int | None) -> dict[str, Any]:
    """A DescribeTasks task; ``exit_codes`` by container name (default ``report=0``), None: no exit code."""
    containers = [
        {"name": name, "lastStatus": status, **({"exitCode": code} if code is not None and status == "STOPPED" else {})}
        for name, code in (exit_codes or {"report": 0}).items()
    ]
    described = {"taskArn": arn, "lastStatus": status, "taskDefinitionArn": TASK_DEFINITION_ARN, "containers": containers}
    if status == "STOPPED":
        described["stoppedReason"] = "Essential container in task exited"
    return described


@dataclass
class Clients:
    ecs: Any
    cloudformation: Any


class Aws:
    """Stubbed ECS and CloudFormation clients; each helper queues one expected call and its response."""

    def __init__(self, clients: Clients) -> None:
        self.ecs = clients.ecs
        self.cloudformation = clients.cloudformation
        self.ecs_stub = Stubber(self.ecs)
        self.cloudformation_stub = Stubber(self.cloudformation)
        self.next_task = 0

    def stack(self, outputs: list[dict[str, str]] | None = None, name: str = STACK) -> None:
        outputs = [job_output(JOB, REQUEST)] if outputs is None else outputs
        stack = {"StackName": name, "CreationTime": "2025-01-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}
        self.cloudformation_stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})

    def no_stack(self, name: str = STACK) -> None:
        message = f"Stack with id {name} does not exist"
        self.cloudformation_stub.add_client_error("describe_stacks", "ValidationError", message, 400, expected_params={"StackName": name})

    def run(self, count: int, *, failures: int = 0, reason: str = "Capacity is unavailable at this time") -> list[str]:
        """One RunTask call asking for ``count`` tasks; the last ``failures`` of them do not start."""
        arns = [task_arn(self.next_task + i) for i in range(count - failures)]
        self.next_task += count
        response = {
            "tasks": [{"taskArn": arn} for arn in arns],
            "failures": [{"reason": reason, "detail": "try another AZ"} for _ in range(failures)],
        }
        expected = {**REQUEST, "count": count, "clientToken": ANY, "startedBy": "ecs-platform-run-task"}
        self.ecs_stub.add_response("run_task", response, expected)
        return arns

    def throttle(self, operation: str = "run_task") -> None:
        self.ecs_stub.add_client_error(operation, "ThrottlingException", "Rate exceeded", 400)

    def describe(self, *tasks: dict[str, Any]) -> None:
        """One DescribeTasks call, for the ARNs of ``tasks``, that returns them."""
        arns = [t["taskArn"] for t in tasks]
        self.ecs_stub.add_response("describe_tasks", {"tasks": list(tasks), "failures": []}, {"cluster": CLUSTER, "tasks": arns})

    def task_definition(self, essential: dict[str, bool] | None = None) -> None:
        essential = {"report": True} if essential is None else essential
        containers = [{"name": name, "essential": flag} for name, flag in essential.items()]
        self.ecs_stub.add_response(
            "describe_task_definition",
            {"taskDefinition": {"taskDefinitionArn": TASK_DEFINITION_ARN, "containerDefinitions": containers}},
            {"taskDefinition": TASK_DEFINITION_ARN},
        )


@pytest.fixture(scope="module")
def clients() -> Clients:
    """Real clients (made once: loading the API models is the slow part); never on the network."""
    credentials = {"region_name": "ap-northeast-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return Clients(boto3.client("ecs", **credentials), boto3.client("cloudformation", **credentials))


@pytest.fixture
def aws(clients: Clients) -> Iterator[Aws]:
    stubs = Aws(clients)
    with stubs.ecs_stub, stubs.cloudformation_stub:
        yield stubs
        stubs.ecs_stub.assert_no_pending_responses()
        stubs.cloudformation_stub.assert_no_pending_responses()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def start(aws: Aws, fake_time: FakeTime, count: int | None = None, wait: bool = False, **options: Any) -> int:
    return run_task(
        JOB,
        count,
        wait,
        ecs=aws.ecs,
        cloudformation=aws.cloudformation,
        stack=STACK,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        **options,
    )


def cli_main(aws: Aws, *argv: str, fake_time: FakeTime | None = None) -> int:
    """``main(argv)`` wired to the stubbed clients (and fake time)."""
    fake_time = fake_time or FakeTime()
    return main(list(argv), clients=lambda region: (aws.ecs, aws.cloudformation), clock=fake_time.clock, sleep=fake_time.sleep)


# --- starting tasks (CLI-7, LIM-3) ---------------------------------------------------------


def test_cli7_starts_the_job_with_the_stacks_runtask_request(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI-7: the default count is the job's own; the request is the stack output's, unchanged."""
    aws.stack()
    (arn,) = aws.run(1)
    assert start(aws, fake_time) == 0
    assert capsys.readouterr().out.splitlines() == [arn, f"started 1 of 1 task(s) of {JOB} in 1 RunTask call(s) on cluster {CLUSTER}"]


def test_lim3_count_25_is_three_runtask_calls_of_10_10_5(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """LIM-3: RunTask starts at most 10 tasks per call; the stubber checks each call's count."""
    aws.stack()
    arns = aws.run(10) + aws.run(10) + aws.run(5)
    assert cli_main(aws, JOB, "--count", "25", "--stack", STACK) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == arns
    assert lines[-1].startswith("started 25 of 25 task(s) of nightly-report in 3 RunTask call(s)")


@pytest.mark.parametrize(("count", "sizes"), [(1, [1]), (10, [10]), (11, [10, 1]), (25, [10, 10, 5]), (5000, [10] * 500)])
def test_lim3_batches_hold_at_most_10_tasks(count: int, sizes: list[int]) -> None:
    assert batches(count) == sizes


def test_lim3_the_limiter_allows_at_most_20_calls_in_any_second(fake_time: FakeTime) -> None:
    """LIM-3: RunTask is throttled at 20 calls per second; 45 calls take 2 s of fake time."""
    limiter = RateLimiter(20, 1.0, clock=fake_time.clock, sleep=fake_time.sleep)
    starts = []
    for _ in range(45):
        limiter.acquire()
        starts.append(fake_time.now)
    assert starts[:20] == [0.0] * 20  # a burst of 20 does not wait
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in zip(starts, starts[20:], strict=False))
    assert fake_time.now == pytest.approx(2.0)


def test_lim3_21_runtask_calls_take_at_least_a_second(aws: Aws, fake_time: FakeTime) -> None:
    """LIM-3: 210 tasks are 21 RunTask calls; the 21st waits until a second after the first."""
    aws.stack()
    for _ in range(21):
        aws.run(10)
    assert start(aws, fake_time, 210) == 0
    assert fake_time.now >= 1.0


def test_lim3_a_throttled_runtask_is_retried_with_backoff(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """LIM-3: ThrottlingException is retried after 0.5 s, then 1 s; the third attempt starts the tasks."""
    aws.stack()
    aws.throttle()
    aws.throttle()
    arns = aws.run(3)
    assert start(aws, fake_time, 3) == 0
    assert fake_time.sleeps == [0.5, 1.0]
    output = capsys.readouterr()
    assert output.out.splitlines()[:3] == arns
    assert "throttled (ThrottlingException); retrying RunTask in 0.5 s (1/5)" in output.err


def test_fails_when_throttling_persists(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """LIM-3: the retries are bounded (5, backoff capped at 8 s); then the tasks are reported as not started."""
    aws.stack()
    arns = aws.run(10)
    for _ in range(6):
        aws.throttle()
    assert start(aws, fake_time, 15) == 1
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    output = capsys.readouterr()
    assert output.out.splitlines() == [
        *arns,
        f"started 10 of 15 task(s) of {JOB} in 1 RunTask call(s) on cluster {CLUSTER}; 5 not started (reasons above)",
    ]
    assert "error: RunTask call 2 of 2 failed, 5 task(s) not started: An error occurred (ThrottlingException)" in output.err


def test_fails_when_runtask_returns_failures(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """RunTask's ``failures`` (e.g. no capacity) are printed with their reasons; the exit status is 1."""
    aws.stack()
    arns = aws.run(10, failures=2)
    assert start(aws, fake_time, 10) == 1
    output = capsys.readouterr()
    assert output.out.splitlines()[:-1] == arns
    assert output.out.splitlines()[-1].endswith("; 2 not started (reasons above)")
    assert output.err.splitlines() == ["failed to start: Capacity is unavailable at this time: try another AZ"] * 2


# --- finding the stack and the job ---------------------------------------------------------


def test_fails_when_the_stack_does_not_exist(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.no_stack("my-app-prod-workloads")
    assert cli_main(aws, JOB, "--stack", "my-app-prod-workloads") == 2
    assert capsys.readouterr().err == (
        "error: stack 'my-app-prod-workloads' does not exist in this account and region; "
        "deploy it (make deploy) or name it with --stack, --spec or --region\n"
    )


def test_fails_when_the_job_does_not_exist_and_lists_the_jobs(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack([job_output(JOB, REQUEST), job_output("export", REQUEST), {"OutputKey": "MyServiceUrl", "OutputValue": "http://x"}])
    assert cli_main(aws, "nightly", "--stack", STACK) == 2
    assert capsys.readouterr().err == (
        f"error: stack '{STACK}' has no job 'nightly' (no output NightlyRunTaskParameters); jobs in the stack: export, nightly-report\n"
    )


def test_fails_when_the_stack_has_no_jobs(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack([{"OutputKey": "MyServiceUrl", "OutputValue": "http://x"}])
    assert cli_main(aws, JOB, "--stack", STACK) == 2
    assert "the stack has no jobs (no output ends in RunTaskParameters)" in capsys.readouterr().err


def test_the_spec_names_the_stack_and_the_region(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --stack the stack is <app>-<env>-workloads of the spec (default specs/default.yaml), in its region."""
    regions = []

    def clients(region: str | None) -> tuple[Any, Any]:
        regions.append(region)
        return aws.ecs, aws.cloudformation

    aws.stack(name="my-app-dev-workloads")
    aws.run(1)
    assert main([JOB, "--spec", str(PROJECT_ROOT / "specs/default.yaml")], clients=clients) == 0
    assert regions == ["ap-northeast-1"]


def test_fails_when_the_spec_cannot_be_read(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(aws, JOB, "--spec", "specs/missing.yaml") == 2
    assert capsys.readouterr().err.startswith("error: specs/missing.yaml: 1 problem(s) in the spec:\n  cannot read the spec file")


# --- waiting for the tasks (CLI-9) ---------------------------------------------------------


def test_cli9_wait_exits_0_when_every_essential_container_exited_0(
    aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI-9: a run-task task runs once; --wait polls until it has stopped and reports each exit code.
    A non-essential container's exit code does not count."""
    aws.stack()
    arns = aws.run(2)
    aws.describe(*(task(arn, "RUNNING") for arn in arns))
    aws.describe(*(task(arn, report=0, sidecar=137) for arn in arns))
    aws.task_definition({"report": True, "sidecar": False})
    assert start(aws, fake_time, 2, wait=True) == 0
    assert fake_time.sleeps == [6.0]
    assert capsys.readouterr().out.splitlines()[-4:] == [
        "waiting for 2 task(s) to stop (timeout 3600 s)",
        f"{arns[0][-32:]}  STOPPED  report=0  sidecar=137 [not essential]  stopped: Essential container in task exited",
        f"{arns[1][-32:]}  STOPPED  report=0  sidecar=137 [not essential]  stopped: Essential container in task exited",
        "all 2 task(s) stopped; every essential container exited 0",
    ]


def test_fails_when_an_essential_container_exits_non_zero(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI-9: --wait exits 1 when an essential container exited non-zero; stopped tasks are not asked about again."""
    aws.stack()
    arns = aws.run(2)
    aws.describe(task(arns[0]), task(arns[1], "RUNNING"))
    aws.describe(task(arns[1], report=3))
    aws.task_definition()
    assert cli_main(aws, JOB, "--count", "2", "--wait", "--timeout", "60", "--stack", STACK, fake_time=fake_time) == 1
    assert fake_time.sleeps == [6.0]
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        f"{arns[1][-32:]}  STOPPED  report=3  stopped: Essential container in task exited",
        "1 of 2 task(s) failed: an essential container exited non-zero or without an exit code",
    ]


def test_fails_when_an_essential_container_has_no_exit_code(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """A task that never ran its container (the image cannot be pulled) has no exit code: a failure."""
    aws.stack()
    (arn,) = aws.run(1)
    stopped = task(arn, report=None)
    stopped["containers"][0]["reason"] = "CannotPullContainerError: pull access denied"
    stopped["stoppedReason"] = "Task failed to start"
    aws.describe(stopped)
    aws.task_definition()
    assert start(aws, fake_time, wait=True) == 1
    assert (
        f"{arn[-32:]}  STOPPED  report=no exit code (CannotPullContainerError: pull access denied)  stopped: Task failed to start"
        in capsys.readouterr().out
    )


def test_fails_when_wait_times_out(aws: Aws, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI-9: on --timeout the command gives up with exit status 3 and leaves the tasks running.
    Polls every 6 s, and once more at the deadline: t = 0, 6, ..., 30."""
    aws.stack()
    (arn,) = aws.run(1)
    for _ in range(6):
        aws.describe(task(arn, "RUNNING"))
    assert start(aws, fake_time, wait=True, timeout=30) == 3
    assert fake_time.now == 30
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        f"{arn[-32:]}  RUNNING  report=no exit code",
        "timed out after 30 s: 1 of 1 task(s) not stopped yet; "
        "they keep running (a run-task task is not stopped or restarted by this command, CLI-9)",
    ]


def test_wait_describes_at_most_100_tasks_per_call(aws: Aws, fake_time: FakeTime) -> None:
    """DescribeTasks takes at most 100 ARNs: 250 tasks are described in calls of 100, 100 and 50."""
    aws.stack()
    arns = [arn for _ in range(25) for arn in aws.run(10)]
    for chunk in (arns[:100], arns[100:200], arns[200:]):
        aws.describe(*(task(arn) for arn in chunk))
    aws.task_definition()  # once: every task has the same definition
    assert start(aws, fake_time, 250, wait=True) == 0


def test_a_failed_start_fails_the_run_even_when_the_started_tasks_succeed(aws: Aws, fake_time: FakeTime) -> None:
    aws.stack()
    arns = aws.run(2, failures=1)
    aws.describe(task(arns[0]))
    aws.task_definition()
    assert start(aws, fake_time, 2, wait=True) == 1


# --- arguments -----------------------------------------------------------------------------


def no_clients(region: str | None) -> tuple[Any, Any]:
    raise AssertionError("argument errors are reported before any AWS call")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", "0"], "argument --count: 0 is out of range; allowed: 1..5000 (LIM-3: "),
        (["--count", "5001"], "argument --count: 5001 is out of range; allowed: 1..5000"),
        (["--count", "ten"], "argument --count: 'ten' is not a whole number; allowed: 1..5000"),
        (["--wait", "--timeout", "0"], "argument --timeout: '0' is not a positive number of seconds"),
        (["--timeout", "60"], "--timeout only applies with --wait"),
        (["--stack", STACK, "--spec", "specs/default.yaml"], "argument --spec: not allowed with argument --stack"),
    ],
)
def test_fails_when_the_arguments_are_invalid(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """LIM-3: --count is 1..5000; errors name the argument and what is allowed."""
    assert main([JOB, *argv], clients=no_clients) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ecs-platform run-task ")
    assert f"ecs-platform run-task: error: {message}" in err


def test_fails_when_run_task_is_called_with_a_count_out_of_range(aws: Aws, fake_time: FakeTime) -> None:
    aws.stack()
    with pytest.raises(cli.RunTaskError, match=r"count 0 is out of range; allowed: 1\.\.5000"):
        start(aws, fake_time, 0)


def test_fails_when_the_command_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["run"]) == 2
    assert (
        capsys.readouterr().err
        == "ecs-platform: error: unknown command 'run'; allowed: run-task, preflight, cost, status, diagram, import\n"
    )


@pytest.mark.integration
@pytest.mark.integration
def test_the_command_starts_without_cdk() -> None:
    """``ecs-platform run-task --help`` loads neither aws_cdk nor jsii (nor Node): the command starts fast."""
    script = (
        "import sys\n"
        "from ecs_platform.cli import main\n"
        "status = main(['run-task', '--help'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'cdk_nag', 'pydantic'})\n"
        "print('LOADED', loaded, status)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("usage: ecs-platform run-task ")
    assert result.stdout.splitlines()[-1] == "LOADED [] 0"


class ProvisioningEcs:
    """DescribeTasks of a run's tasks: PROVISIONING until ``after`` looks, then RUNNING."""

    def __init__(self, after: int) -> None:
        self.looks, self.after = 0, after

    def describe_tasks(self, cluster: str, tasks: list[str]) -> dict[str, Any]:
        self.looks += 1
        status = "RUNNING" if self.looks > self.after else "PROVISIONING"
        return {"tasks": [{"taskArn": arn, "lastStatus": status} for arn in tasks]}


def test_lim3_a_run_waits_while_500_of_its_tasks_are_provisioning(fake_time: FakeTime) -> None:
    """LIM-3: at most 500 tasks of a cluster PROVISIONING: with 495 started and still provisioning, the next call of
    10 waits (polling every 5 s) until they have left PROVISIONING; below the limit nothing is asked."""
    arns = [task_arn(n) for n in range(495)]
    ecs = ProvisioningEcs(after=5)  # 495 tasks = 5 DescribeTasks calls of 100 per look
    err = io.StringIO()
    cli._wait_for_room(ecs, CLUSTER, arns, 10, sleep=fake_time.sleep, err=err)  # type: ignore[arg-type]
    assert fake_time.sleeps == [cli.PROVISIONING_POLL_SECONDS] and ecs.looks == 10
    assert "waiting: 495 tasks are PROVISIONING (LIM-3: at most 500 per cluster)" in err.getvalue()
    quiet = ProvisioningEcs(after=0)
    cli._wait_for_room(quiet, CLUSTER, arns[:490], 10, sleep=fake_time.sleep, err=err)  # type: ignore[arg-type]
    assert quiet.looks == 0
