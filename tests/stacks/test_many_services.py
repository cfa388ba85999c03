"""USE-2: many services, each with its own task definition, roles, scaling and deployment
settings; in the stacks their specs name, so that none nears CloudFormation's 500-resource limit."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App, CfnWaitConditionHandle, Stack

from ecs_platform.limits import MAX_RESOURCES_PER_STACK, SERVICES_PER_STACK
from ecs_platform.spec import parse_spec
from ecs_platform.stacks.stage import _ResourceLimit
from tests.conftest import SPECS, Synthesized, synthesize

COUNT = SERVICES_PER_STACK + 2


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    data: dict[str, Any] = yaml.safe_load((SPECS / "default.yaml").read_text())
    template = data["services"][0]
    data["services"] = [
        {**copy.deepcopy(template), "name": f"svc{i}", "family": f"svc{i}", **({"stack": "services-2"} if i >= SERVICES_PER_STACK else {})}
        for i in range(COUNT)
    ]
    data["jobs"] = []
    return synthesize(parse_spec(data), tmp_path_factory.mktemp("many"))  # cdk-nag on: it must stay clean


def _templates(many: Synthesized) -> dict[str, dict[str, Any]]:
    from aws_cdk.assertions import Template

    return {stack.stack_name: Template.from_stack(stack).to_json() for stack in many.stage.stacks}


def test_use2_services_live_in_the_stacks_their_specs_name(many: Synthesized) -> None:
    templates = _templates(many)
    assert sorted(templates) == ["my-app-dev-network", "my-app-dev-services-2", "my-app-dev-workloads"]
    assert all(len(t["Resources"]) < 400 for t in templates.values()), {k: len(t["Resources"]) for k, t in templates.items()}
    services = {name: [r for r in t["Resources"].values() if r["Type"] == "AWS::ECS::Service"] for name, t in templates.items()}
    assert (len(services["my-app-dev-workloads"]), len(services["my-app-dev-services-2"])) == (SERVICES_PER_STACK, 2)


def test_use2_each_service_has_its_own_task_definition_roles_and_scaling(many: Synthesized) -> None:
    resources = [r for t in _templates(many).values() for r in t["Resources"].values()]
    services = [r["Properties"] for r in resources if r["Type"] == "AWS::ECS::Service"]
    assert len({json_ref(s["TaskDefinition"]) for s in services}) == COUNT
    definitions = [
        r["Properties"] for r in resources if r["Type"] == "AWS::ECS::TaskDefinition" and r["Properties"]["Family"].startswith("svc")
    ]
    assert len({json_ref(d["TaskRoleArn"]) for d in definitions}) == COUNT
    assert len({json_ref(d["ExecutionRoleArn"]) for d in definitions}) == COUNT
    assert len([r for r in resources if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]) == COUNT
    assert all(s["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True} for s in services)


def json_ref(value: Any) -> str:
    return str(value)


def test_the_example_specs_stay_in_two_stacks() -> None:
    """Small specs keep their services in the workload stack: no extra stack, stable names."""
    for path in sorted(Path(SPECS).glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        assert len(spec.get("services", [])) <= SERVICES_PER_STACK, path.name


def _heavy(stacks: list[str | None]) -> dict[str, Any]:
    """Large services (an ALB of their own with HTTPS and a test listener, blue/green, Service Connect,
    three scaling metrics), one per entry of ``stacks``, in that stack."""
    data: dict[str, Any] = yaml.safe_load((SPECS / "services.yaml").read_text())
    template = data["services"][1]  # api: canary with request scaling
    lb = {k: v for k, v in data["load_balancers"][0].items() if k != "name"}
    data["load_balancers"] = []
    data["services"] = [
        {
            **copy.deepcopy(template),
            "name": f"big{i}",
            "load_balancer": lb,
            "deployment": {"strategy": "blue_green"},
            "scaling": {"max_count": 10, "cpu_percent": 60, "memory_percent": 70, "requests_per_task": 500},
            **({"stack": stack} if stack else {}),
        }
        for i, stack in enumerate(stacks)
    ]
    return data


def test_use2_fifteen_of_the_largest_services_fit_in_one_stack(tmp_path: Path) -> None:
    """The spec's 15-services-a-stack rule keeps a stack under CloudFormation's 500 resources even when
    every service is as large as the platform makes one."""
    heavy = synthesize(parse_spec(_heavy([None] * SERVICES_PER_STACK)), tmp_path)
    counts = {name: len(t["Resources"]) for name, t in _templates(heavy).items()}
    assert counts["market-staging-workloads"] <= MAX_RESOURCES_PER_STACK, counts


def test_use2_large_services_fit_when_the_spec_splits_them(tmp_path: Path) -> None:
    """USE-2: the same 15 services, 8 in the workload stack and 7 in a stack of their own: both under 500."""
    heavy = synthesize(parse_spec(_heavy([None] * 8 + ["big"] * 7)), tmp_path)
    counts = {name: len(t["Resources"]) for name, t in _templates(heavy).items()}
    assert set(counts) == {"market-staging-network", "market-staging-workloads", "market-staging-big"}
    assert all(count <= MAX_RESOURCES_PER_STACK for count in counts.values()), counts


def test_a_stack_over_500_resources_fails_synthesis_with_the_count() -> None:
    """The last guard: a stack past CloudFormation's quota is an error at synthesis, not at deploy."""
    stack = Stack(App(), "Big", stack_name="too-big")
    for i in range(MAX_RESOURCES_PER_STACK + 1):
        CfnWaitConditionHandle(stack, f"H{i}")
    assert _ResourceLimit(stack).validate() == [
        "too-big has 501 resources; allowed: at most 500 per stack (CloudFormation): "
        "give some of its services a stack of their own (stack: <name> in the spec)"
    ]
