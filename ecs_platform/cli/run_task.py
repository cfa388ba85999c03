"""``ecs-platform run-task``: start a deployed batch job on demand (CLI-7, CLI-9, LIM-3).

Every job of the workload stack publishes its RunTask request as the stack output
``<JobPascal>RunTaskParameters`` (a JSON object of boto3 ``ecs.run_task`` keyword arguments:
cluster, task definition, the private batch subnets, the batch security group, no public IP,
tags). This command reads that output with CloudFormation DescribeStacks and starts the job:

- the count is split into RunTask calls of at most 10 tasks, at most 20 calls in any second,
  and throttled calls are retried with exponential backoff a bounded number of times (LIM-3);
- each started task's ARN is printed at once; the ``failures`` RunTask returns (capacity,
  placement, ...) are printed with their reasons and make the exit status 1;
- with ``--wait`` it polls DescribeTasks (at most 100 tasks per call) until every task has
  stopped or ``--timeout`` passes, then prints each task's containers' exit codes.

A run-task task runs once and is never restarted, unlike a service's tasks (CLI-9): a
timeout leaves the tasks running, it does not stop them.

Nothing here imports CDK or the spec models at start-up (``--spec`` loads the spec lazily):
the command starts fast and works without Node. ``run_task()`` takes the boto3 clients, the
clock and the sleep function as arguments, so tests drive it with stubs and fake time.

    python -m ecs_platform.cli.run_task JOB ...   (or: ecs-platform run-task JOB ...)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError  # type: ignore[import-untyped]

from ecs_platform.limits import MAX_TASKS_PER_SERVICE, MAX_TASKS_PROVISIONING, RUN_TASK_CALLS_PER_SECOND, RUN_TASK_MAX_COUNT_PER_CALL
from ecs_platform.outputs import RUN_TASK_PARAMETERS, output_prefix

#: The largest --count: LIM-3's 5,000 tasks (per service; one run is kept to the same scale).
MAX_COUNT = MAX_TASKS_PER_SERVICE
#: DescribeTasks accepts at most 100 task ARNs per call.
DESCRIBE_TASKS_MAX = 100

#: Error codes AWS APIs use for throttling (ECS: ThrottlingException; CloudFormation: Throttling).
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
#: A throttled call is retried this many times, after 0.5, 1, 2, 4, 8 s.
MAX_RETRIES = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0

DEFAULT_TIMEOUT_SECONDS = 3600.0
#: Between DescribeTasks polls (the AWS CLI's tasks-stopped waiter also polls every 6 s).
POLL_INTERVAL_SECONDS = 6.0
DEFAULT_SPEC = "specs/default.yaml"
#: RunTask's startedBy, unless the stack output sets one: ListTasks --started-by finds these runs.
STARTED_BY = "ecs-platform-run-task"

EXIT_OK = 0
EXIT_FAILED = 1  # a task did not start, or an essential container exited non-zero
EXIT_USAGE = 2  # bad arguments, the stack or the job is missing, an AWS error
EXIT_TIMEOUT = 3  # --wait: not every task stopped within --timeout

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RunTaskError(Exception):
    """The job cannot be started as asked (missing stack, missing job, bad count): one line, exit 2."""


class EcsClient(Protocol):
    """The part of boto3's ECS client this command uses."""

    def run_task(self, **kwargs: Any) -> dict[str, Any]: ...
    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]: ...
    def describe_task_definition(self, **kwargs: Any) -> dict[str, Any]: ...


class CloudFormationClient(Protocol):
    """The part of boto3's CloudFormation client this command uses."""

    def describe_stacks(self, **kwargs: Any) -> dict[str, Any]: ...


class RateLimiter:
    """At most ``calls`` calls in any window of ``period`` seconds (RunTask: 20 per second, LIM-3).

    A sliding window over the last ``calls`` start times: the next call waits until the oldest
    of them is ``period`` old. ``clock`` and ``sleep`` are injected so tests use fake time.
    """

    def __init__(self, calls: int, period: float, *, clock: Clock, sleep: Sleep) -> None:
        self.calls = calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque(maxlen=calls)

    def acquire(self) -> None:
        if len(self._starts) == self.calls:
            delay = self._starts[0] + self.period - self._clock()
            if delay > 0:
                self._sleep(delay)
        self._starts.append(self._clock())


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def call_with_retry(
    operation: Callable[..., dict[str, Any]],
    request: dict[str, Any],
    *,
    sleep: Sleep,
    err: TextIO,
    limiter: RateLimiter | None = None,
    retries: int = MAX_RETRIES,
) -> dict[str, Any]:
    """Call ``operation(**request)``; on a throttling error wait (0.5 s, doubling, at most 8 s) and
    retry, at most ``retries`` times, then re-raise. Other errors are raised at once (LIM-3)."""
    attempt = 0
    while True:
        if limiter is not None:
            limiter.acquire()
        try:
            return operation(**request)
        except ClientError as error:
            if _error_code(error) not in THROTTLING_CODES or attempt >= retries:
                raise
            delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
            attempt += 1
            name = error.operation_name or "the call"
            print(f"throttled ({_error_code(error)}); retrying {name} in {delay:g} s ({attempt}/{retries})", file=err)
            sleep(delay)


def batches(count: int, size: int = RUN_TASK_MAX_COUNT_PER_CALL) -> list[int]:
    """Split ``count`` tasks into RunTask calls of at most ``size``: 25 -> [10, 10, 5] (LIM-3)."""
    return [min(size, count - start) for start in range(0, count, size)]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_count(count: int) -> str | None:
    """``None`` if ``count`` tasks may be started, else why not (LIM-3)."""
    if 1 <= count <= MAX_COUNT:
        return None
    return f"{count} is out of range; allowed: 1..{MAX_COUNT} (LIM-3: RunTask starts tasks in calls of up to 10, at 20 calls per second)"


# --- the job's RunTask request, from the stack outputs -------------------------------------


def _job_name(key: str, output: dict[str, Any]) -> str:
    """The job a ``...RunTaskParameters`` output belongs to: its description starts with the job's
    name (``nightly-report: RunTask request ...``); otherwise the output's PascalCase prefix."""
    prefix = key.removesuffix(RUN_TASK_PARAMETERS)
    name = str(output.get("Description", "")).partition(": ")[0]
    return name if name and output_prefix(name) == prefix else prefix


def find_job(cloudformation: CloudFormationClient, stack: str, job: str, *, sleep: Sleep, err: TextIO) -> dict[str, Any]:
    """The RunTask request of ``job``, read from the stack output ``<JobPascal>RunTaskParameters``."""
    try:
        response = call_with_retry(cloudformation.describe_stacks, {"StackName": stack}, sleep=sleep, err=err)
    except ClientError as error:
        if _error_code(error) == "ValidationError" and "does not exist" in str(error):
            response = {"Stacks": []}
        else:
            raise
    if not response.get("Stacks"):
        raise RunTaskError(
            f"stack {stack!r} does not exist in this account and region; "
            "deploy it (make deploy) or name it with --stack, --spec or --region"
        )
    outputs = {output["OutputKey"]: output for output in response["Stacks"][0].get("Outputs", [])}
    key = output_prefix(job) + RUN_TASK_PARAMETERS
    if key not in outputs:
        jobs = sorted(_job_name(k, output) for k, output in outputs.items() if k.endswith(RUN_TASK_PARAMETERS))
        known = f"jobs in the stack: {', '.join(jobs)}" if jobs else f"the stack has no jobs (no output ends in {RUN_TASK_PARAMETERS})"
        raise RunTaskError(f"stack {stack!r} has no job {job!r} (no output {key}); {known}")
    try:
        request = json.loads(outputs[key]["OutputValue"])
    except ValueError:
        request = None
    if not isinstance(request, dict) or "taskDefinition" not in request:
        raise RunTaskError(f"output {key} of stack {stack!r} is not a JSON object of RunTask parameters")
    return request


# --- starting the tasks --------------------------------------------------------------------


@dataclass
class Started:
    """What the RunTask calls started: task ARNs, and one message per task that did not start."""

    arns: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    calls: int = 0


def _failure_text(failure: dict[str, Any]) -> str:
    text = str(failure.get("reason", "unknown reason"))
    if failure.get("detail"):
        text += f": {failure['detail']}"
    if failure.get("arn"):
        text += f" ({failure['arn']})"
    return text


def start_tasks(
    ecs: EcsClient, request: dict[str, Any], count: int, *, limiter: RateLimiter, sleep: Sleep, out: TextIO, err: TextIO
) -> Started:
    """Start ``count`` tasks in RunTask calls of at most 10, through ``limiter``; print each ARN as it
    starts and each failure with its reason. An API error stops the remaining calls (LIM-3)."""
    started = Started()
    sizes = batches(count)
    for number, size in enumerate(sizes, start=1):
        _wait_for_room(ecs, request["cluster"], started.arns, size, sleep=sleep, err=err)
        # One client token per call: botocore's own retries of the same request start nothing twice.
        call = {"startedBy": STARTED_BY, **request, "count": size, "clientToken": uuid.uuid4().hex}
        try:
            response = call_with_retry(ecs.run_task, call, limiter=limiter, sleep=sleep, err=err)
        except (ClientError, BotoCoreError) as error:
            not_started = sum(sizes[number - 1 :])
            message = f"RunTask call {number} of {len(sizes)} failed, {not_started} task(s) not started: {error}"
            started.failures.append(message)
            print(f"error: {message}", file=err)
            break
        started.calls += 1
        for task in response.get("tasks", []):
            started.arns.append(task["taskArn"])
            print(task["taskArn"], file=out, flush=True)
        for failure in response.get("failures", []):
            started.failures.append(_failure_text(failure))
            print(f"failed to start: {_failure_text(failure)}", file=err)
    return started


#: How often a run that has reached the PROVISIONING limit looks again.
PROVISIONING_POLL_SECONDS = 5.0


def _wait_for_room(ecs: EcsClient, cluster: str, arns: list[str], size: int, *, sleep: Sleep, err: TextIO) -> None:
    """LIM-3: at most 500 tasks of a cluster may be PROVISIONING; before a call that could pass it, wait until
    enough of this run's tasks have left PROVISIONING (the run's own tasks are the ones it can count)."""
    if len(arns) + size <= MAX_TASKS_PROVISIONING:
        return
    told = False
    while True:
        provisioning = 0
        for start in range(0, len(arns), 100):
            tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100]).get("tasks", [])
            provisioning += sum(1 for t in tasks if t.get("lastStatus") == "PROVISIONING")
        if provisioning + size <= MAX_TASKS_PROVISIONING:
            return
        if not told:
            print(f"waiting: {provisioning} tasks are PROVISIONING (LIM-3: at most {MAX_TASKS_PROVISIONING} per cluster)", file=err)
            told = True
        sleep(PROVISIONING_POLL_SECONDS)


# --- waiting for the tasks -----------------------------------------------------------------


def _task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _essential_containers(ecs: EcsClient, tasks: Iterable[dict[str, Any]], *, sleep: Sleep, err: TextIO) -> dict[str, set[str] | None]:
    """Task definition ARN -> names of its essential containers (DescribeTasks does not say which
    are essential). ``None`` when the definition cannot be read: then every container counts."""
    essential: dict[str, set[str] | None] = {}
    for arn in {task["taskDefinitionArn"] for task in tasks if task.get("taskDefinitionArn")}:
        try:
            definition = call_with_retry(ecs.describe_task_definition, {"taskDefinition": arn}, sleep=sleep, err=err)
        except ClientError as error:
            print(f"warning: cannot read {arn} ({error}); every container counts as essential", file=err)
            essential[arn] = None
            continue
        containers = definition["taskDefinition"].get("containerDefinitions", [])
        essential[arn] = {c["name"] for c in containers if c.get("essential", True)}
    return essential


def _container_text(container: dict[str, Any], essential: bool) -> str:
    code = container.get("exitCode")
    text = f"{container.get('name', '?')}={'no exit code' if code is None else code}"
    if container.get("reason"):
        text += f" ({container['reason']})"
    return text if essential else f"{text} [not essential]"


def _report_task(task: dict[str, Any], essential: set[str] | None, out: TextIO) -> bool:
    """Print one line for the task; True if it stopped and every essential container exited 0."""
    containers = task.get("containers", [])
    counted = [c for c in containers if essential is None or c.get("name") in essential]
    ok = task.get("lastStatus") == "STOPPED" and bool(counted) and all(c.get("exitCode") == 0 for c in counted)
    parts = [_task_id(task["taskArn"]), str(task.get("lastStatus", "UNKNOWN"))]
    parts += [_container_text(c, essential is None or c.get("name") in essential) for c in containers]
    if task.get("stoppedReason"):
        parts.append(f"stopped: {task['stoppedReason']}")
    print("  ".join(parts), file=out)
    return ok


def wait_for_tasks(
    ecs: EcsClient,
    cluster: str,
    arns: Sequence[str],
    *,
    timeout: float,
    poll_interval: float,
    clock: Clock,
    sleep: Sleep,
    out: TextIO,
    err: TextIO,
) -> int:
    """Poll DescribeTasks (at most 100 ARNs per call) until every task is STOPPED or ``timeout``
    passes; print each task's containers' exit codes. Returns EXIT_OK only if every essential
    container of every task exited 0, EXIT_FAILED if one did not, EXIT_TIMEOUT on a timeout."""
    print(f"waiting for {len(arns)} task(s) to stop (timeout {timeout:g} s)", file=out, flush=True)
    deadline = clock() + timeout
    tasks: dict[str, dict[str, Any]] = {}
    pending = list(arns)
    while True:
        for chunk in _chunks(pending, DESCRIBE_TASKS_MAX):
            response = call_with_retry(ecs.describe_tasks, {"cluster": cluster, "tasks": list(chunk)}, sleep=sleep, err=err)
            tasks.update((task["taskArn"], task) for task in response.get("tasks", []))
        pending = [arn for arn in arns if tasks.get(arn, {}).get("lastStatus") != "STOPPED"]
        remaining = deadline - clock()
        if not pending or remaining <= 0:
            break
        sleep(min(poll_interval, remaining))
    running = set(pending)
    essential = _essential_containers(ecs, (tasks[arn] for arn in arns if arn not in running), sleep=sleep, err=err)
    failed = 0
    for arn in arns:
        task = tasks.get(arn, {"taskArn": arn, "lastStatus": "MISSING"})
        ok = _report_task(task, essential.get(task.get("taskDefinitionArn", "")), out)
        if arn not in running and not ok:
            failed += 1
    if failed:
        print(f"{failed} of {len(arns)} task(s) failed: an essential container exited non-zero or without an exit code", file=out)
        return EXIT_FAILED
    if pending:
        print(
            f"timed out after {timeout:g} s: {len(pending)} of {len(arns)} task(s) not stopped yet; "
            "they keep running (a run-task task is not stopped or restarted by this command, CLI-9)",
            file=out,
        )
        return EXIT_TIMEOUT
    print(f"all {len(arns)} task(s) stopped; every essential container exited 0", file=out)
    return EXIT_OK


# --- the command ---------------------------------------------------------------------------


def run_task(
    job: str,
    count: int | None,
    wait: bool,
    *,
    ecs: EcsClient,
    cloudformation: CloudFormationClient,
    stack: str,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    poll_interval: float = POLL_INTERVAL_SECONDS,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Start ``count`` tasks of ``job`` (default: the job's own count) with the RunTask request of
    ``stack``'s outputs; with ``wait``, wait for them and report their exit codes (CLI-7, LIM-3).

    Returns the exit status: 0 all started (and, with ``wait``, every essential container exited
    0); 1 a task failed to start or exited non-zero; 3 ``wait`` timed out. Raises RunTaskError
    when the stack or the job is missing or ``count`` is out of range."""
    out = out or sys.stdout
    err = err or sys.stderr
    request = find_job(cloudformation, stack, job, sleep=sleep, err=err)
    count = int(request.get("count", 1)) if count is None else count
    problem = check_count(count)
    if problem:
        raise RunTaskError(f"count {problem}")
    limiter = RateLimiter(RUN_TASK_CALLS_PER_SECOND, 1.0, clock=clock, sleep=sleep)
    started = start_tasks(ecs, request, count, limiter=limiter, sleep=sleep, out=out, err=err)
    summary = f"started {len(started.arns)} of {count} task(s) of {job} in {started.calls} RunTask call(s)"
    summary += f" on cluster {request.get('cluster')}"
    if len(started.arns) < count:
        summary += f"; {count - len(started.arns)} not started (reasons above)"
    print(summary, file=out, flush=True)
    status = EXIT_OK if len(started.arns) == count and not started.failures else EXIT_FAILED
    if wait and started.arns:
        waited = wait_for_tasks(
            ecs,
            str(request["cluster"]),
            started.arns,
            timeout=timeout,
            poll_interval=poll_interval,
            clock=clock,
            sleep=sleep,
            out=out,
            err=err,
        )
        status = status or waited
    return status


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number; allowed: 1..{MAX_COUNT}") from None
    problem = check_count(count)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return count


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecs-platform run-task",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Start a deployed batch job on demand, with the RunTask request its stack publishes\n"
            "(output <Job>RunTaskParameters: cluster, task definition, private batch subnets, batch\n"
            "security group, no public IP). The tasks run once and are not restarted (CLI-7, CLI-9).\n"
            "Counts above 10 are split into RunTask calls of at most 10 tasks, at most 20 calls per\n"
            "second; throttled calls are retried with backoff (LIM-3)."
        ),
        epilog=(
            "exit status:\n"
            "  0  every task started (with --wait: and every essential container exited 0)\n"
            "  1  a task failed to start, or an essential container exited non-zero\n"
            "  2  bad arguments, the stack or the job does not exist, or an AWS error\n"
            "  3  --wait timed out: a task had not stopped (it keeps running)"
        ),
    )
    parser.add_argument("job", metavar="JOB", help="the job's name in the spec, e.g. nightly-report")
    parser.add_argument("--count", type=_count, metavar="N", help=f"tasks to start, 1..{MAX_COUNT} (default: the job's count in the spec)")
    parser.add_argument("--wait", action="store_true", help="wait until every task has stopped and report each container's exit code")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"with --wait: stop waiting after this long (default: {DEFAULT_TIMEOUT_SECONDS:g}); the tasks keep running",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", metavar="STACK", help="the workload stack's name, e.g. my-app-dev-workloads")
    where.add_argument(
        "--spec",
        metavar="PATH",
        help=f"read the stack name (<app>-<env>-workloads) and the region from this spec (default: {DEFAULT_SPEC})",
    )
    parser.add_argument(
        "--region", metavar="R", help="AWS region (default: the spec's region, or with --stack the AWS configuration, e.g. AWS_REGION)"
    )
    return parser


def _stack_and_region(args: argparse.Namespace) -> tuple[str, str | None]:
    """The workload stack's name and the region: from --stack/--region, or from the spec."""
    if args.stack:
        return args.stack, args.region
    from ecs_platform.spec import SpecError, load_spec  # only here: the spec models load pydantic and YAML

    try:
        spec = load_spec(args.spec or DEFAULT_SPEC)
    except SpecError as error:  # its problems, one per line
        raise RunTaskError(str(error)) from None
    return f"{spec.app}-{spec.environment.name}-workloads", args.region or spec.environment.region


def boto3_clients(region: str | None) -> tuple[EcsClient, CloudFormationClient]:
    """ECS and CloudFormation clients; boto3 reads credentials, AWS_ENDPOINT_URL etc. itself."""
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(region_name=region)
    ecs: EcsClient = session.client("ecs")
    cloudformation: CloudFormationClient = session.client("cloudformation")
    return ecs, cloudformation


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Callable[[str | None], tuple[EcsClient, CloudFormationClient]] = boto3_clients,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> int:
    """``ecs-platform run-task ...``: returns the exit status (see the epilog of ``--help``).
    ``clients(region)`` makes the ECS and CloudFormation clients; tests pass stubs and fake time."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's one-line error after the usage
        return int(exit_.code or 0)
    if args.timeout is not None and not args.wait:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: --timeout only applies with --wait", file=sys.stderr)
        return EXIT_USAGE
    try:
        stack, region = _stack_and_region(args)
        ecs, cloudformation = clients(region)
        return run_task(
            args.job,
            args.count,
            args.wait,
            ecs=ecs,
            cloudformation=cloudformation,
            stack=stack,
            clock=clock,
            sleep=sleep,
            timeout=args.timeout or DEFAULT_TIMEOUT_SECONDS,
        )
    except RunTaskError as error:
        print(f"error: {error}", file=sys.stderr)
    except NoRegionError:
        print("error: no AWS region: pass --region, use --spec, or set AWS_REGION", file=sys.stderr)
    except NoCredentialsError:
        print("error: no AWS credentials: configure them (e.g. AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted; the tasks that started keep running", file=sys.stderr)
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
