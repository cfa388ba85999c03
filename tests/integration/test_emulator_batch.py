"""Deploy the batch example (jobs, a supervised job, a worker) into the emulator and start a job
on demand with the `ecs-platform run-task` command, as an operator would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from ecs_platform.app_builder import PROJECT_ROOT
from tests.conftest import Synthesized
from tests.integration.emulator import Emulator

pytestmark = pytest.mark.integration

STACK = "etl-dev-workloads"


@pytest.fixture(scope="module")
def outputs(emulator: Emulator, synth: Callable[[str], Synthesized]) -> dict[str, str]:
    return emulator.deploy(synth("batch").outdir)[STACK]


def test_batch_example_deploys(emulator: Emulator, outputs: dict[str, str]) -> None:
    assert {"BackfillRunTaskParameters", "HourlyAggregateRunTaskCommand", "JobFailuresTopic", "ThumbnailerQueueUrl"} <= set(outputs)
    stack = emulator.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_worker_service_starts_at_zero_tasks(emulator: Emulator, outputs: dict[str, str]) -> None:
    cluster = outputs["BackfillRunTaskParameters"].split('"cluster":"', 1)[1].split('"', 1)[0]
    (service,) = emulator.client("ecs").describe_services(cluster=cluster, services=[outputs["ThumbnailerServiceName"]])["services"]
    assert service["desiredCount"] == 0


def test_cli7_lim3_run_task_command_starts_the_job_in_batches(emulator: Emulator, outputs: dict[str, str]) -> None:
    """CLI-7 / LIM-3: 12 tasks through the run-task command: two RunTask calls (10 + 2)."""
    result = subprocess.run(
        [sys.executable, "-m", "ecs_platform.cli", "run-task", "backfill", "--stack", STACK, "--count", "12"],
        cwd=PROJECT_ROOT,
        env=emulator.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    started = [line for line in result.stdout.splitlines() if line.startswith("arn:aws:ecs:")]
    assert len(started) == 12
    cluster = outputs["BackfillRunTaskParameters"].split('"cluster":"', 1)[1].split('"', 1)[0]
    tasks = emulator.client("ecs").list_tasks(cluster=cluster, startedBy="ecs-platform-run-task")["taskArns"]
    assert len(tasks) == 12


def test_fails_when_the_job_does_not_exist(emulator: Emulator, outputs: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecs_platform.cli", "run-task", "nope", "--stack", STACK],
        cwd=PROJECT_ROOT, env=emulator.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "backfill" in result.stderr and "Traceback" not in result.stderr
