"""Bad input for EC2 capacity (issue 13): each mutation of specs/ec2.yaml is refused before synthesis with the
path, the value and what is allowed (ARCH-2, ARCH-3, LIM-3)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.conftest import SPECS
from tests.spec.test_bad_specs import Bad

DATA: dict[str, Any] = yaml.safe_load((SPECS / "ec2.yaml").read_text(encoding="utf-8"))


def _provider(name: str) -> Any:
    return lambda data: next(p for p in data["capacity_providers"] if p["name"] == name)


def _workload(kind: str, name: str) -> Any:
    return lambda data: next(w for w in data[kind] if w["name"] == name)


def _update(getter: Any, **values: Any) -> Any:
    return lambda data: getter(data).update(values)


CASES: dict[str, Bad] = {
    "arch2_a_task_that_fits_no_instance_type": Bad(
        _update(_workload("services", "web"), cpu=8192, memory=16384),
        "services[0].cpu",
        r"the task fits no instance type of its providers \(m7i\.large: 2 vCPU \(2048 units\), the task 8192",
        r"allowed: a smaller task or larger types",
    ),
    "arch2_gpus_on_fargate": Bad(
        lambda d: _workload("services", "preview")(d)["containers"][0].update(gpu=1),
        "services[1].containers",
        r"1 GPU\(s\) on fargate",
        r"allowed: GPUs on an asg provider of GPU instances",
    ),
    "arch2_more_gpus_than_the_instances_have": Bad(
        lambda d: _workload("jobs", "render")(d)["containers"][0].update(gpu=2),
        "jobs[0].cpu",
        r"g5\.xlarge: 1 GPU\(s\), the task 2",
        r"allowed: a smaller task or larger types",
    ),
    "arch3_a_strategy_naming_an_unknown_provider": Bad(
        _update(_workload("services", "web"), capacity=[{"provider": "compute", "weight": 1}]),
        "services[0].capacity",
        r"'compute' is not a capacity provider of the cluster",
        r"allowed: FARGATE, FARGATE_SPOT, general, gpu, managed",
    ),
    "arch3_a_strategy_mixing_fargate_and_ec2": Bad(
        _update(_workload("services", "web"), capacity=[{"provider": "general", "weight": 1}, {"provider": "FARGATE_SPOT", "weight": 1}]),
        "services[0].capacity",
        r"general, FARGATE_SPOT mixes asg and fargate providers",
        r"allowed: providers of one kind",
    ),
    "arch3_min_above_max": Bad(
        _update(_provider("general"), min_count=12),
        "capacity_providers[0]",
        r"min_count 12 is above max_count 10",
        r"allowed: min_count <= max_count",
    ),
    "lim3_more_than_5000_instances": Bad(
        lambda d: (_provider("general")(d).update(max_count=4000), _provider("gpu")(d).update(max_count=1500)),
        "capacity_providers",
        r"5,500 instances at most",
        r"allowed: at most 5,000 per cluster \(LIM-3\)",
    ),
    "arch2_an_ec2_workload_in_a_cluster_without_ec2_providers": Bad(
        lambda d: d.update(capacity_providers=[p for p in d["capacity_providers"] if p["name"] != "gpu"]),
        "jobs[0].capacity",
        r"'gpu' is not a capacity provider of the cluster",
        r"allowed: FARGATE, FARGATE_SPOT, general, managed",
    ),
    "arch2_gpu_instances_without_the_gpu_image": Bad(
        _update(_provider("gpu"), image="al2023"),
        "capacity_providers[1].image",
        r"'al2023' has no GPU driver for g5\.xlarge",
        r"allowed: al2023-gpu",
        issues=1,
    ),
    "ha3_a_service_packed_on_few_instances": Bad(
        _update(_workload("services", "web"), placement={"strategy": "binpack"}),
        "services[0].placement.strategy",
        r"binpack puts a service's tasks on few instances",
        r"allowed: spread \(HA-3\)",
    ),
    "arch2_placement_on_fargate": Bad(
        _update(_workload("services", "preview"), placement={"strategy": "spread"}),
        "services[1].placement",
        r"placement on Fargate",
        r"allowed: placement with EC2 \(asg\) providers only",
    ),
    "arch2_a_job_on_managed_instances": Bad(
        _update(_workload("jobs", "render"), capacity="managed"),
        "jobs[0].capacity",
        r"a job on managed_instances",
        r"allowed: FARGATE, FARGATE_SPOT or an asg provider",
        issues=2,  # and its GPU is not on an asg provider
    ),
    "arch2_an_asg_provider_without_instance_types": Bad(
        _update(_provider("general"), instance_types=[]),
        "capacity_providers[0]",
        r"an asg provider names no instance type",
        r"allowed: instance_types: \[m7i\.large, \.\.\.\]",
    ),
}


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
def test_fails_when(bad: Bad) -> None:
    bad.check(copy.deepcopy(DATA))
