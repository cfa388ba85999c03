"""USE-2: many services, each with its own task definition, roles, scaling and deployment
settings; stacks split so that none nears CloudFormation's 500-resource limit."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.spec import parse_spec
from ecs_platform.stacks.stage import SERVICES_PER_STACK
from tests.conftest import SPECS, Synthesized, synthesize

COUNT = SERVICES_PER_STACK + 2


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    data: dict[str, Any] = yaml.safe_load((SPECS / "default.yaml").read_text())
    template = data["services"][0]
    data["services"] = [{**copy.deepcopy(template), "name": f"svc{i}", "family": f"svc{i}"} for i in range(COUNT)]
    data["jobs"] = []
    return synthesize(parse_spec(data), tmp_path_factory.mktemp("many"))  # cdk-nag on: it must stay clean


def _templates(many: Synthesized) -> dict[str, dict[str, Any]]:
    from aws_cdk.assertions import Template

    return {stack.stack_name: Template.from_stack(stack).to_json() for stack in many.stage.stacks}


def test_use2_services_are_split_into_stacks_under_the_limit(many: Synthesized) -> None:
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
