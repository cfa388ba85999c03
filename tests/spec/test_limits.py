"""Unit tests of the pure checks in ecs_platform/spec/limits.py (LIM-1..3 and plain-value rules).

Expected values are written out from the AWS documentation, not read back from the module's
own tables, so a wrong table entry fails here.
"""

from __future__ import annotations

import datetime
import re

import pytest

from ecs_platform import limits

# Fargate task sizes (Amazon ECS developer guide, "Task CPU and memory"):
# cpu -> (min MiB, max MiB, step MiB, an off-grid value inside the range).
FARGATE = {
    256: (512, 2048, None, 1536),  # 0.5, 1 or 2 GB
    512: (1024, 4096, 1024, 1536),
    1024: (2048, 8192, 1024, 2560),
    2048: (4096, 16384, 1024, 4608),
    4096: (8192, 30720, 1024, 8704),
    8192: (16384, 61440, 4096, 18432),
    16384: (32768, 122880, 8192, 36864),
}


# --- limits the catalog names --------------------------------------------------------


def test_lim1_task_definition_limit_is_64_kib() -> None:
    assert limits.MAX_TASK_DEFINITION_BYTES == 65_536


def test_lim2_at_most_10_containers_per_task() -> None:
    assert limits.MAX_CONTAINERS_PER_TASK == 10


def test_lim3_soft_limits() -> None:
    assert limits.MAX_TASKS_PER_SERVICE == 5_000
    assert limits.MAX_SERVICES_PER_CLUSTER == 5_000
    assert limits.MAX_CLUSTERS_PER_REGION == 10_000
    assert limits.MAX_TASKS_PROVISIONING == 500
    assert limits.RUN_TASK_MAX_COUNT_PER_CALL == 10
    assert limits.RUN_TASK_CALLS_PER_SECOND == 20


# --- Fargate CPU and memory ------------------------------------------------------------


def test_fargate_table_has_exactly_the_documented_cpus() -> None:
    assert sorted(limits.FARGATE_SIZES) == sorted(FARGATE)


@pytest.mark.parametrize("cpu", sorted(FARGATE))
def test_every_fargate_cpu_is_accepted(cpu: int) -> None:
    assert limits.check_fargate_cpu(cpu) is None


@pytest.mark.parametrize("cpu", [0, 128, 300, 1000, 32768])
def test_fails_when_cpu_is_not_a_fargate_value(cpu: int) -> None:
    message = limits.check_fargate_cpu(cpu)

    assert message == f"{cpu} is not a Fargate CPU value; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384"


MIN_AND_MAX_MEMORY = [(cpu, low) for cpu, (low, *_) in FARGATE.items()] + [(cpu, high) for cpu, (_, high, *_) in FARGATE.items()]


@pytest.mark.parametrize(("cpu", "memory"), MIN_AND_MAX_MEMORY)
def test_every_fargate_cpu_accepts_its_min_and_max_memory(cpu: int, memory: int) -> None:
    assert limits.check_fargate_size(cpu, memory) is None


@pytest.mark.parametrize("cpu", sorted(FARGATE))
def test_every_step_between_min_and_max_memory_is_accepted(cpu: int) -> None:
    low, high, step, _ = FARGATE[cpu]
    sizes = [512, 1024, 2048] if step is None else range(low, high + 1, step)
    assert [m for m in sizes if limits.check_fargate_size(cpu, m) is not None] == []


@pytest.mark.parametrize("cpu", sorted(FARGATE))
def test_fails_when_memory_is_off_the_grid(cpu: int) -> None:
    off_grid = FARGATE[cpu][3]

    message = limits.check_fargate_size(cpu, off_grid)

    assert message is not None
    assert message.startswith(f"memory {off_grid} MiB is not a Fargate size for cpu {cpu}; allowed for cpu {cpu}: ")


@pytest.mark.parametrize("cpu", sorted(FARGATE))
def test_fails_when_memory_is_below_min_or_above_max(cpu: int) -> None:
    low, high, *_ = FARGATE[cpu]
    assert limits.check_fargate_size(cpu, low // 2) is not None
    assert limits.check_fargate_size(cpu, high + 8192) is not None


def test_allowed_memory_is_listed_compactly() -> None:
    assert limits.check_fargate_size(256, 4096) == "memory 4096 MiB is not a Fargate size for cpu 256; allowed for cpu 256: 512, 1024, 2048"
    assert limits.check_fargate_size(8192, 1024) == (
        "memory 1024 MiB is not a Fargate size for cpu 8192; allowed for cpu 8192: 16384..61440 (step 4096)"
    )


def test_fails_when_size_has_an_invalid_cpu() -> None:
    assert limits.check_fargate_size(300, 512) == limits.check_fargate_cpu(300)


# --- schedules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 day)",
        "rate(5 minutes)",
        "rate(1 minute)",
        "rate(12 hours)",
        "cron(0 3 * * ? *)",  # the default spec's: daily at 03:00
        "cron(0/15 * ? * MON-FRI *)",  # every 15 minutes on weekdays
        "cron(0 12 L * ? *)",  # noon on the last day of the month
        "cron(*/5 * * * ? *)",
        "cron(0,30 8-17 ? * 2-6 *)",
        "cron(0 9 ? * MON#1 *)",  # first Monday
        "cron(0 9 15W * ? *)",  # weekday nearest the 15th
        "cron(0 0 1 JAN ? 2030)",
    ],
)
def test_schedule_is_accepted(expression: str) -> None:
    assert limits.check_schedule(expression) is None


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("rate(1 days)", r"use the singular unit for 1 and the plural otherwise"),
        ("rate(5 minute)", r"use the singular unit for 1 and the plural otherwise"),
        ("rate(0 minutes)", r"has a rate below 1"),
        ("rate(1 week)", r"is not a schedule expression"),
        ("cron(0 3 * * *)", r"has 5 cron fields, not 6"),
        ("cron(0 3 * * ? * *)", r"has 7 cron fields, not 6"),
        ("cron(60 3 * * ? *)", r"cron minutes field '60' is invalid; allowed: 0-59"),
        ("cron(0 24 * * ? *)", r"cron hours field '24' is invalid; allowed: 0-23"),
        ("cron(0 3 32 * ? *)", r"cron day-of-month field '32' is invalid"),
        ("cron(0 3 * 13 ? *)", r"cron month field '13' is invalid; allowed: 1-12 or JAN-DEC"),
        ("cron(0 3 ? * 8 *)", r"cron day-of-week field '8' is invalid"),
        ("cron(0 3 * * ? 1969)", r"cron year field '1969' is invalid; allowed: 1970-2199"),
        ("cron(0 3 * * MON *)", r"exactly one of day-of-month and day-of-week must be '\?'"),
        ("cron(0 3 ? * ? *)", r"exactly one of day-of-month and day-of-week must be '\?'"),
        ("0 3 * * ? *", r"is not a schedule expression"),
        ("at(2030-01-01T00:00:00)", r"is not a schedule expression"),
    ],
)
def test_fails_when_schedule_is_invalid(expression: str, why: str) -> None:
    message = limits.check_schedule(expression)

    assert message is not None
    assert message.startswith(repr(expression))
    assert re.search(why, message), message
    assert "allowed" in message


@pytest.mark.parametrize("expression", ["rate(1 day)\n", "cron(0 3 * * ? *)\n"])
def test_fails_when_schedule_ends_in_a_newline(expression: str) -> None:
    """A YAML block scalar (`schedule: |`) ends in a newline, which EventBridge Scheduler does not accept."""
    assert limits.check_schedule(expression) is not None


# --- time zones ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["UTC", "Asia/Tokyo", "Europe/Paris", "America/New_York", "Etc/GMT-9"])
def test_time_zone_is_accepted(name: str) -> None:
    assert limits.check_time_zone(name) is None


@pytest.mark.parametrize("name", ["Asia/Tokio", "Tokyo", "GMT+9", "JST+9", "", "asia/tokyo"])
def test_fails_when_time_zone_is_unknown(name: str) -> None:
    assert limits.check_time_zone(name) == (
        f"{name!r} is not an IANA time zone; allowed: names such as 'UTC', 'Asia/Tokyo', 'Europe/Paris'"
    )


# --- LIM-1: task definition size ------------------------------------------------------------


def test_lim1_task_definition_bytes_is_compact_json() -> None:
    assert limits.task_definition_bytes({"family": "my-task", "cpu": "256"}) == len('{"family":"my-task","cpu":"256"}')


def test_lim1_task_definition_bytes_counts_nested_lists() -> None:
    containers = [{"name": "my-container", "image": "nginx:latest", "portMappings": [{"containerPort": 80}]}]
    expected = '[{"name":"my-container","image":"nginx:latest","portMappings":[{"containerPort":80}]}]'

    assert limits.task_definition_bytes(containers) == len(expected)


def test_lim1_task_definition_bytes_renders_non_json_values_as_strings() -> None:
    assert limits.task_definition_bytes({"at": datetime.date(2030, 1, 1)}) == len('{"at":"2030-01-01"}')


def test_lim1_task_definition_bytes_grows_with_the_environment() -> None:
    environment = {f"SETTING_{i:03d}": "x" * 1000 for i in range(70)}

    size = limits.task_definition_bytes({"environment": environment})

    assert 70_000 < size < 72_000


def test_lim1_task_definition_of_exactly_64_kib_is_accepted() -> None:
    assert limits.check_task_definition_size("my-task", 65_536) is None


def test_lim1_fails_when_task_definition_exceeds_64_kib() -> None:
    assert limits.check_task_definition_size("my-task", 65_537) == (
        "task definition 'my-task' is 65,537 bytes; ECS accepts at most 65,536 bytes (64 KiB, LIM-1): "
        "move large values to SSM parameters or secrets"
    )


# --- other plain-value checks ------------------------------------------------------------


@pytest.mark.parametrize(("value", "low", "high"), [(2, 2, 5000), (5000, 2, 5000), (1, 1, 10), (10, 1, 10)])
def test_int_range_accepts_its_bounds(value: int, low: int, high: int) -> None:
    assert limits.check_int_range(value, low, high) is None


def test_fails_when_int_is_out_of_range_with_the_reason() -> None:
    assert limits.check_int_range(1, 2, 5000, "HA-3") == "1 is out of range; allowed: 2..5000 (HA-3)"
    assert limits.check_int_range(5001, 2, 5000) == "5001 is out of range; allowed: 2..5000"


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.0.0/18"])
def test_vpc_cidr_is_accepted(cidr: str) -> None:
    assert limits.check_vpc_cidr(cidr) is None


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("10.0.0.0/8", "has prefix /8; allowed: /16 to /20"),
        ("10.0.0.0/24", "has prefix /24; allowed: /16 to /20"),
        ("10.0.0.1/16", "is not an IPv4 network"),
        ("10.0.0.0/33", "is not an IPv4 network"),
        ("fd00::/48", "is not an IPv4 network"),
        ("ten", "is not an IPv4 network"),
    ],
)
def test_fails_when_vpc_cidr_is_invalid(cidr: str, why: str) -> None:
    message = limits.check_vpc_cidr(cidr)

    assert message is not None
    assert message.startswith(f"{cidr!r} {why}")
    assert "allowed" in message


@pytest.mark.parametrize("days", [365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653])
def test_log_retention_of_a_year_or_more_is_accepted(days: int) -> None:
    assert limits.check_log_retention(days) is None


@pytest.mark.parametrize("days", [1, 30, 180, 364, 366, 0, 4000])
def test_fails_when_log_retention_is_short_or_not_a_cloudwatch_value(days: int) -> None:
    message = limits.check_log_retention(days)

    assert message is not None
    assert message.startswith(f"{days} is not an allowed retention; allowed: 365, 400, 545, ")
