"""Bad batch jobs and workers get a clear error naming the field, the value and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.spec import SpecError, parse_spec

BATCH: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parents[2] / "specs" / "batch.yaml").read_text())


def _edit(where: str, index: int, **values: Any) -> dict[str, Any]:
    data = copy.deepcopy(BATCH)
    data[where][index].update(values)
    for key, value in values.items():
        if value is None:
            data[where][index].pop(key)
    return data


CASES = {
    "a_timeout_of_zero": (_edit("jobs", 1, timeout_seconds=0), r"jobs\[1\]\.timeout_seconds: 0 is out of range; allowed: 60\.\.604800"),
    "a_negative_timeout": (_edit("jobs", 1, timeout_seconds=-5), r"jobs\[1\]\.timeout_seconds: -5 is out of range"),
    "retries_above_ten": (_edit("jobs", 1, retries=11), r"jobs\[1\]\.retries: 11 is out of range; allowed: 0\.\.10"),
    "a_timeout_without_a_schedule": (
        _edit("jobs", 2, timeout_seconds=600),
        r"jobs\[2\]\.schedule: timeout_seconds and retries apply to scheduled runs",
    ),
    "a_supervised_job_with_several_tasks": (_edit("jobs", 1, count=3), r"jobs\[1\]\.count: 3 with timeout_seconds or retries; allowed: 1"),
    "a_count_above_the_run_task_limit_LIM-3": (_edit("jobs", 2, count=11), r"jobs\[2\]\.count: 11 is out of range; allowed: 1\.\.10"),
    "an_invalid_rate": (_edit("jobs", 1, schedule="rate(1 hours)"), r"jobs\[1\]\.schedule: 'rate\(1 hours\)': use the singular unit for 1"),
    "an_invalid_cron": (
        _edit("jobs", 0, schedule="cron(30 25 * * ? *)"),
        r"jobs\[0\]\.schedule: .*hours field '25' is invalid; allowed: 0-23",
    ),
    "an_unknown_time_zone": (_edit("jobs", 0, timezone="Tokyo"), r"jobs\[0\]\.timezone: 'Tokyo' is not an IANA time zone"),
    "a_worker_without_a_queue": (_edit("workers", 0, queue=None), r"workers\[0\]\.queue: required key is missing \(The queue to consume"),
    "a_worker_min_above_max": (_edit("workers", 0, min_count=30), r"workers\[0\]\.min_count: 30 is above max_count 20"),
    "a_worker_at_zero_without_consent": (
        _edit("workers", 0, scale_to_zero=False),
        r"workers\[0\]\.min_count: 0 lets the worker scale to zero; allowed: 1 or more, or scale_to_zero: true",
    ),
    "a_worker_queue_by_name": (_edit("workers", 0, queue={"arn": "jobs"}), r"workers\[0\]\.queue\.arn: 'jobs' is a name; allowed: the ARN"),
    "a_worker_queue_of_another_service": (
        _edit("workers", 0, queue={"arn": "arn:aws:sns:ap-northeast-1:111122223333:jobs"}),
        r"workers\[0\]\.queue\.arn: .* is an ARN of 'sns'",
    ),
    "a_worker_in_public_subnets_SEC-1": (
        _edit("workers", 0, subnets="public"),
        r"workers\[0\]\.subnets: 'public' is not allowed; allowed: 'batch'",
    ),
    "a_worker_above_5000_tasks_LIM-3": (
        _edit("workers", 0, max_count=5001),
        r"workers\[0\]\.max_count: 5001 is out of range; allowed: 1\.\.5000",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fails_when(case: str) -> None:
    data, pattern = CASES[case]
    with pytest.raises(SpecError, match=pattern):
        parse_spec(data, source="batch.yaml")


def test_the_batch_example_is_valid() -> None:
    spec = parse_spec(copy.deepcopy(BATCH))
    assert [j.name for j in spec.jobs] == ["nightly-export", "hourly-aggregate", "backfill"]
    assert spec.workers[0].queue.arn is None and spec.workers[0].min_count == 0
