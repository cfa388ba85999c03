"""Limits and plain-value rules from the requirements catalog (LIM-1..3 and friends).

Each rule is defined once, here, as a small pure function (or a :class:`Range`) over plain
values: it returns ``None`` when the value is fine, or a message that names the value and
what is allowed. The spec layer checks them while collecting every problem of a spec; the
constructs check the same rules on their props, for users of the library without the
spec. No dependencies: the spec, the constructs and the CLI all import this module.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# LIM-1: a registered task definition may not exceed 64 KiB (fixed limit).
MAX_TASK_DEFINITION_BYTES = 64 * 1024
# LIM-2: at most 10 containers in one task definition (hard limit).
MAX_CONTAINERS_PER_TASK = 10
# LIM-3: soft limits we validate against.
MAX_TASKS_PER_SERVICE = 5_000
MAX_SERVICES_PER_CLUSTER = 5_000
MAX_CLUSTERS_PER_REGION = 10_000
MAX_TASKS_PROVISIONING = 500
#: CloudFormation quota: resources per stack.
MAX_RESOURCES_PER_STACK = 500
#: Services one stack holds (a service is about 20 to 30 resources): easy to read and far from the quota.
SERVICES_PER_STACK = 15
#: Stack names the platform takes for itself.
RESERVED_STACKS = ("network", "workloads")
#: ALB quotas: listener rules (besides the default) and target groups per load balancer.
MAX_RULES_PER_ALB = 100
MAX_TARGET_GROUPS_PER_ALB = 100
#: RunTask starts at most 10 tasks per call, and is throttled at 20 calls per second.
RUN_TASK_MAX_COUNT_PER_CALL = 10
RUN_TASK_CALLS_PER_SECOND = 20

#: Fargate task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
#: The NIST 800-53 / PCI DSS packs require at least a year of log retention.
MIN_LOG_RETENTION_DAYS = 365


def _ranges(values: Iterable[int]) -> str:
    """Render a sorted integer sequence compactly: ``1024..4096 step 1024``."""
    items = sorted(values)
    if len(items) > 3:
        step = items[1] - items[0]
        if all(b - a == step for a, b in itertools.pairwise(items)):
            return f"{items[0]}..{items[-1]} (step {step})"
    return ", ".join(str(v) for v in items)


def check_fargate_cpu(cpu: int) -> str | None:
    if cpu in FARGATE_SIZES:
        return None
    return f"{cpu} is not a Fargate CPU value; allowed: {', '.join(map(str, FARGATE_SIZES))}"


def check_fargate_size(cpu: int, memory: int) -> str | None:
    """Fargate accepts fixed CPU/memory pairs only."""
    allowed = FARGATE_SIZES.get(cpu)
    if allowed is None:
        return check_fargate_cpu(cpu)
    if memory in allowed:
        return None
    return f"memory {memory} MiB is not a Fargate size for cpu {cpu}; allowed for cpu {cpu}: {_ranges(allowed)}"


def check_int_range(value: int, low: int, high: int, why: str = "") -> str | None:
    if low <= value <= high:
        return None
    reason = f" ({why})" if why else ""
    return f"{value} is out of range; allowed: {low}..{high}{reason}"


@dataclass(frozen=True)
class Range:
    """An inclusive integer range and the reason for its bounds: one rule, checked by the spec and the constructs."""

    low: int
    high: int
    why: str = ""

    def check(self, value: int) -> str | None:
        return check_int_range(value, self.low, self.high, self.why)


#: A service's running tasks (desired count). One task runs in one AZ: only outside production
#: (:data:`PRODUCTION_MIN_TASKS`), where it saves cost.
SERVICE_TASKS = Range(1, MAX_TASKS_PER_SERVICE, "LIM-3: at most 5,000 tasks per service")
#: The fewest and most tasks Service Auto Scaling keeps a service between.
SCALING_MIN_TASKS = Range(1, MAX_TASKS_PER_SERVICE, "LIM-3")
SCALING_MAX_TASKS = Range(1, MAX_TASKS_PER_SERVICE, "LIM-3")
#: The fewest tasks a production service runs, spread over AZs (HA-3, HA-5).
PRODUCTION_MIN_TASKS = Range(2, MAX_TASKS_PER_SERVICE, "HA-3: a production service runs at least two tasks across AZs")
#: A queue worker's task range: it may scale to zero.
WORKER_MIN_TASKS = Range(0, MAX_TASKS_PER_SERVICE, "LIM-3")
WORKER_MAX_TASKS = Range(1, MAX_TASKS_PER_SERVICE, "LIM-3")
#: Tasks a job starts per run: one RunTask call.
RUN_TASK_COUNT = Range(1, RUN_TASK_MAX_COUNT_PER_CALL, "RunTask starts at most 10 tasks per call, LIM-3")
#: Priority of an ALB listener rule; :data:`CATCH_ALL_PRIORITY` is the last one.
CATCH_ALL_PRIORITY = 50000
RULE_PRIORITY = Range(1, CATCH_ALL_PRIORITY)
#: Visible messages per running task a queue worker's scaling aims at.
BACKLOG_PER_TASK = Range(1, 100_000)
#: Availability zones a VPC spans.
AVAILABILITY_ZONES = Range(2, 6, "HA-2: tasks spread over at least two AZs")


def check_task_range(low: int, high: int) -> str | None:
    """A scaling range: the minimum may not exceed the maximum."""
    return None if low <= high else f"{low} is above max_count {high}; allowed: min_count <= max_count"


def check_container_count(count: int) -> str | None:
    """LIM-2: a task definition holds 1 to 10 containers."""
    if 1 <= count <= MAX_CONTAINERS_PER_TASK:
        return None
    return f"{count} containers; allowed: 1 to {MAX_CONTAINERS_PER_TASK} per task definition (LIM-2)"


#: The VPC endpoints the network may have ("ecr": its API and Docker endpoints; "ecs": the agent's three; "s3" and
#: "dynamodb": gateway endpoints).
VPC_ENDPOINTS = (
    "dynamodb", "ecr", "ecs", "kms", "logs", "monitoring", "s3", "secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "sts",
)  # fmt: skip

#: Interface endpoints (billed per AZ-hour) each name of VPC_ENDPOINTS creates; s3 and dynamodb are free gateways.
VPC_INTERFACE_ENDPOINTS: Mapping[str, int] = {name: {"ecr": 2, "ecs": 3, "s3": 0, "dynamodb": 0}.get(name, 1) for name in VPC_ENDPOINTS}

#: What batch tasks without a NAT route need: image pulls (ECR API, Docker, S3 layers) and awslogs.
BATCH_WITHOUT_NAT_ENDPOINTS = ("ecr", "logs", "s3")

#: Seconds ECS waits for a container to stop before it is killed: Fargate allows at most 120.
FARGATE_MAX_STOP_TIMEOUT_S = 120

#: What a container may wait for in another (ECS's ``dependsOn`` conditions).
DEPENDENCY_CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")


def check_stop_timeout(seconds: int, fargate: bool) -> str | None:
    """Fargate kills a container at most 120 s after SIGTERM; on EC2 the agent's own limit applies."""
    if fargate and seconds > FARGATE_MAX_STOP_TIMEOUT_S:
        return f"{seconds} s on Fargate; allowed: 2 to {FARGATE_MAX_STOP_TIMEOUT_S} s (Fargate's limit)"
    return None


def check_container_dependencies(
    depends_on: Mapping[str, Mapping[str, str]], essential: Mapping[str, bool], health_checked: Iterable[str]
) -> str | None:
    """``depends_on`` (container -> {container it waits for: condition}) names containers of the same task,
    never the container itself, asks HEALTHY only of a container with a health check and COMPLETE or SUCCESS
    only of a non-essential one (ECS refuses both otherwise), and has no cycle (the task would never start)."""
    checked = set(health_checked)
    for name, wanted in depends_on.items():
        for other, condition in wanted.items():
            if other == name:
                return f"container {name!r} depends on itself; allowed: other containers of the task"
            if other not in essential:
                return f"container {name!r} depends on {other!r}, not a container of this task; allowed: {', '.join(sorted(essential))}"
            if condition not in DEPENDENCY_CONDITIONS:
                return f"container {name!r} waits for {other!r} to be {condition!r}; allowed: {', '.join(DEPENDENCY_CONDITIONS)}"
            if condition == "HEALTHY" and other not in checked:
                return (
                    f"container {name!r} waits for {other!r} to be HEALTHY, but {other!r} has no health check; allowed: START, or add one"
                )
            if condition in ("COMPLETE", "SUCCESS") and essential[other]:
                return (
                    f"container {name!r} waits for {other!r} to {condition}, but {other!r} is essential (its exit stops the task); "
                    "allowed: essential: false on it, or START/HEALTHY"
                )
    cycle = _dependency_cycle({name: list(wanted) for name, wanted in depends_on.items()})
    if cycle:
        return f"containers wait for each other in a cycle: {' -> '.join(cycle)}; allowed: dependencies without a cycle"
    return None


def _dependency_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle of ``graph`` as the path that closes it (first node repeated at the end), or [] for none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def check_availability_zone_count(count: int) -> str | None:
    """HA-2: two to six AZs."""
    if AVAILABILITY_ZONES.check(count) is None:
        return None
    return f"{count} availability zone(s); allowed: {AVAILABILITY_ZONES.low} to {AVAILABILITY_ZONES.high} ({AVAILABILITY_ZONES.why})"


def repeated_availability_zones(zones: Sequence[str]) -> list[int]:
    """The positions of AZs named earlier in ``zones`` (HA-2 needs distinct AZs)."""
    return [i for i, zone in enumerate(zones) if list(zones).index(zone) != i]


def check_availability_zones(zones: Sequence[str]) -> str | None:
    """HA-2: two to six distinct AZs."""
    message = check_availability_zone_count(len(zones))
    if message:
        return message
    repeated = repeated_availability_zones(zones)
    if repeated:
        return f"{', '.join(sorted({zones[i] for i in repeated}))} listed twice; allowed: distinct AZs (HA-2)"
    return None


def check_nat_gateways(count: int, zones: int) -> str | None:
    """Between one NAT gateway (private subnets need egress) and one per AZ."""
    if 1 <= count <= zones:
        return None
    return f"{count} is out of range; allowed: 1..{zones} (one per AZ at most; private subnets need egress)"


def serving_container(containers: Sequence[tuple[str, int | None]], wanted: str | None = None) -> str | None:
    """The container that receives a service's traffic, from ``(name, port)`` pairs: ``wanted`` if it is
    one of them, else the first with a port; None if there is none."""
    for name, port in containers:
        if name == wanted or (wanted is None and port is not None):
            return name
    return None


def check_tenths(value: float) -> str | None:
    """A traffic share in percent: positive, at most 100, in steps of 0.1 (ECS linear/canary)."""
    if not 0 < value <= 100 or abs(value * 10 - round(value * 10)) > 1e-9:
        return f"{value} is not allowed; allowed: 0.1..100.0 in steps of 0.1"
    return None


#: ALB quota: condition values per listener rule (paths and hosts together).
MAX_RULE_CONDITION_VALUES = 5


def check_vpc_cidr(value: str) -> str | None:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        return f"{value!r} is not an IPv4 network ({error}); allowed: a CIDR such as 10.0.0.0/16"
    if not 16 <= network.prefixlen <= 20:
        return f"{value!r} has prefix /{network.prefixlen}; allowed: /16 to /20 (room for three /24 subnet groups per AZ)"
    return None


def check_log_retention(days: int) -> str | None:
    allowed = [d for d in LOG_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]
    if days in allowed:
        return None
    return (
        f"{days} is not an allowed retention; allowed: {', '.join(map(str, allowed))} "
        f"(CloudWatch values of at least {MIN_LOG_RETENTION_DAYS} days, as NIST 800-53 and PCI DSS require)"
    )


# --- schedules (EventBridge Scheduler syntax) ---------------------------------------

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^\n]*)\)")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _cron_field(pattern_value: str) -> str:
    """A cron field: ``*``, or a comma list of values / ranges, each with an optional ``/step``."""
    item = rf"(?:{pattern_value})(?:-(?:{pattern_value}))?(?:/\d+)?|\*/\d+"
    return rf"^(?:\*|(?:{item})(?:,(?:{item}))*)$"


_CRON_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("minutes", _cron_field(r"[0-5]?\d"), "0-59"),
    ("hours", _cron_field(r"[01]?\d|2[0-3]"), "0-23"),
    ("day-of-month", _cron_field(r"[1-9]|[12]\d|3[01]") + r"|^\?$|^L$|^(?:[1-9]|[12]\d|3[01])W$|^LW$", "1-31, ?, L, W"),
    ("month", _cron_field(rf"[1-9]|1[0-2]|{_MONTHS}"), "1-12 or JAN-DEC"),
    (
        "day-of-week",
        _cron_field(rf"[1-7]|{_DAYS}") + r"|^\?$|^(?:[1-7]|" + _DAYS + r")L$|^(?:[1-7]|" + _DAYS + r")#[1-5]$",
        "1-7 or SUN-SAT, ?, L, #",
    ),
    ("year", _cron_field(r"19[7-9]\d|2[01]\d\d"), "1970-2199"),
)

SCHEDULE_HELP = (
    "allowed: 'rate(N minute|minutes|hour|hours|day|days)' or "
    "'cron(minutes hours day-of-month month day-of-week year)' with '?' in day-of-month or day-of-week, "
    "e.g. 'cron(0 3 * * ? *)'"
)


def check_schedule(expression: str) -> str | None:
    """Validate an EventBridge Scheduler ``rate(...)`` or ``cron(...)`` expression."""
    rate = _RATE.fullmatch(expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2)
        if amount < 1:
            return f"{expression!r} has a rate below 1; {SCHEDULE_HELP}"
        if (amount == 1) != (not unit.endswith("s")):
            return f"{expression!r}: use the singular unit for 1 and the plural otherwise; {SCHEDULE_HELP}"
        return None
    cron = _CRON.fullmatch(expression)
    if not cron:
        return f"{expression!r} is not a schedule expression; {SCHEDULE_HELP}"
    fields = cron.group(1).split()
    if len(fields) != 6:
        return f"{expression!r} has {len(fields)} cron fields, not 6; {SCHEDULE_HELP}"
    for value, (name, pattern, allowed) in zip(fields, _CRON_FIELDS, strict=True):
        if not re.fullmatch(pattern, value):
            return f"{expression!r}: cron {name} field {value!r} is invalid; allowed: {allowed}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'; {SCHEDULE_HELP}"
    return None


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str) -> str | None:
    if name in _time_zones():
        return None
    return f"{name!r} is not an IANA time zone; allowed: names such as 'UTC', 'Asia/Tokyo', 'Europe/Paris'"


# --- LIM-1 -------------------------------------------------------------------------


def task_definition_bytes(document: Any) -> int:
    """Size of a task definition document as ECS measures it (compact JSON, UTF-8)."""
    return len(json.dumps(document, separators=(",", ":"), default=str).encode("utf-8"))


def check_task_definition_size(family: str, size: int) -> str | None:
    if size <= MAX_TASK_DEFINITION_BYTES:
        return None
    return (
        f"task definition {family!r} is {size:,} bytes; ECS accepts at most "
        f"{MAX_TASK_DEFINITION_BYTES:,} bytes (64 KiB, LIM-1): move large values to SSM parameters or secrets"
    )


# --- EC2 capacity (ARCH-2, ARCH-3, HA-4) --------------------------------------------------------------


@dataclass(frozen=True)
class InstanceType:
    """What a task may use of an instance type: vCPUs, memory, GPUs, network interfaces, architecture."""

    vcpus: int
    memory_mib: int
    enis: int
    """Network interfaces: one is the instance's own, each ``awsvpc`` task takes another (no ENI trunking)."""
    gpus: int = 0
    arch: str = "x86_64"

    @property
    def task_cpu(self) -> int:
        return self.vcpus * 1024

    @property
    def task_memory_mib(self) -> int:
        """Memory tasks may reserve: the ECS agent and the OS keep about 10 % (ECS reports the rest as registered)."""
        return self.memory_mib * 9 // 10


def _family(
    prefix: str, arch: str, sizes: Mapping[str, tuple[int, int, int]], gpus: Mapping[str, int] | None = None
) -> dict[str, InstanceType]:
    return {f"{prefix}.{size}": InstanceType(v, m * 1024, e, (gpus or {}).get(size, 0), arch) for size, (v, m, e) in sizes.items()}


_GENERAL = {"large": (2, 8, 3), "xlarge": (4, 16, 4), "2xlarge": (8, 32, 4), "4xlarge": (16, 64, 8), "8xlarge": (32, 128, 8)}
_COMPUTE = {"large": (2, 4, 3), "xlarge": (4, 8, 4), "2xlarge": (8, 16, 4), "4xlarge": (16, 32, 8), "8xlarge": (32, 64, 8)}
_MEMORY = {"large": (2, 16, 3), "xlarge": (4, 32, 4), "2xlarge": (8, 64, 4), "4xlarge": (16, 128, 8), "8xlarge": (32, 256, 8)}
_BURST = {"medium": (2, 4, 3), "large": (2, 8, 3), "xlarge": (4, 16, 4), "2xlarge": (8, 32, 4)}

#: The instance types whose size the spec checks a task against (common families; AWS's published figures). A type
#: not listed is accepted as given, and a task is checked against the listed types of its providers only.
INSTANCE_TYPES: Mapping[str, InstanceType] = {
    **_family("t3", "x86_64", _BURST),
    **_family("t4g", "arm64", _BURST),
    **{k: v for f in ("m5", "m6i", "m7i", "m6a", "m7a") for k, v in _family(f, "x86_64", _GENERAL).items()},
    **{k: v for f in ("m6g", "m7g") for k, v in _family(f, "arm64", _GENERAL).items()},
    **{k: v for f in ("c5", "c6i", "c7i") for k, v in _family(f, "x86_64", _COMPUTE).items()},
    **{k: v for f in ("c6g", "c7g") for k, v in _family(f, "arm64", _COMPUTE).items()},
    **{k: v for f in ("r5", "r6i", "r7i") for k, v in _family(f, "x86_64", _MEMORY).items()},
    **{k: v for f in ("r6g", "r7g") for k, v in _family(f, "arm64", _MEMORY).items()},
    **_family(
        "g4dn",
        "x86_64",
        {"xlarge": (4, 16, 3), "2xlarge": (8, 32, 3), "4xlarge": (16, 64, 3), "8xlarge": (32, 128, 4), "12xlarge": (48, 192, 8)},
        {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4},
    ),
    **_family(
        "g5",
        "x86_64",
        {"xlarge": (4, 16, 4), "2xlarge": (8, 32, 4), "4xlarge": (16, 64, 8), "8xlarge": (32, 128, 8), "12xlarge": (48, 192, 15)},
        {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4},
    ),
    **_family(
        "g6",
        "x86_64",
        {"xlarge": (4, 16, 4), "2xlarge": (8, 32, 4), "4xlarge": (16, 64, 8), "8xlarge": (32, 128, 8), "12xlarge": (48, 192, 8)},
        {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4},
    ),
}

#: Instances of one cluster (LIM-3).
MAX_INSTANCES_PER_CLUSTER = 5_000
INSTANCE_COUNT = Range(0, MAX_INSTANCES_PER_CLUSTER, "LIM-3: at most 5,000 instances per cluster")
#: CPU units a task on EC2 may ask for (0.125 to 192 vCPU).
EC2_TASK_CPU = Range(128, 196_608)


def fits(instance: InstanceType, cpu: int, memory_mib: int, gpus: int, arch: str) -> str | None:
    """Why a task of ``cpu`` units, ``memory_mib``, ``gpus`` and ``arch`` fits no instance of this type (None if it fits)."""
    if instance.arch != arch:
        return f"{instance.arch}, the task {arch}"
    if cpu > instance.task_cpu:
        return f"{instance.vcpus} vCPU ({instance.task_cpu} units), the task {cpu}"
    if memory_mib > instance.task_memory_mib:
        return f"{instance.task_memory_mib} MiB for tasks, the task {memory_mib}"
    if gpus > instance.gpus:
        return f"{instance.gpus} GPU(s), the task {gpus}"
    if instance.enis < 2:
        return "no network interface for an awsvpc task"
    return None
