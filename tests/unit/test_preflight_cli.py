"""``ecs-platform preflight``: what a deploy would trip over is found before ``cdk deploy`` runs.

The assembly stacks come from the session's synthesized example specs; what is "deployed" is a
stub of CloudFormation, ELB and CloudWatch Logs holding templates, tags and live listener rules.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ecs_platform.cli import preflight
from ecs_platform.cli.preflight import AssemblyStack, read_assembly
from tests.conftest import Synthesized


def assembly(example: Synthesized) -> list[AssemblyStack]:
    return [
        AssemblyStack(s.stack_name, s.artifact_id, example.spec.app, example.spec.environment.name, None, Template.from_stack(s).to_json())
        for s in example.stage.stacks
    ]


class Paginator:
    def __init__(self, stacks: list[dict[str, Any]]) -> None:
        self._stacks = stacks

    def paginate(self) -> Iterator[dict[str, Any]]:
        yield {"Stacks": self._stacks}


class Account:
    """Deployed stacks (name -> (tags, template)), live listener rules (ARN -> weights) and log groups."""

    def __init__(self) -> None:
        self.stacks: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
        self.rules: dict[str, list[int]] = {}
        self.log_groups: set[str] = set()

    def deploy(self, stacks: list[AssemblyStack]) -> None:
        for stack in stacks:
            self.stacks[stack.name] = ({"App": stack.app, "Environment": stack.environment}, copy.deepcopy(stack.template))

    # cloudformation
    def get_paginator(self, name: str) -> Paginator:
        assert name == "describe_stacks"
        return Paginator(
            [
                {"StackName": n, "StackStatus": "UPDATE_COMPLETE", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                for n, (tags, _) in self.stacks.items()
            ]
        )

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"TemplateBody": json.dumps(self.stacks[StackName][1])}

    def describe_stack_resources(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:  # noqa: N803
        return {
            "StackResources": [{"LogicalResourceId": LogicalResourceId, "PhysicalResourceId": f"arn:rule/{StackName}/{LogicalResourceId}"}]
        }

    # elbv2
    def describe_rules(self, RuleArns: list[str]) -> dict[str, Any]:  # noqa: N803
        (arn,) = RuleArns
        weights = self.rules.get(arn, [100, 0])
        groups = [{"TargetGroupArn": f"tg{i}", "Weight": w} for i, w in enumerate(weights)]
        return {"Rules": [{"RuleArn": arn, "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]}]}

    # logs
    def describe_log_groups(self, logGroupNamePrefix: str) -> dict[str, Any]:  # noqa: N803
        return {"logGroups": [{"logGroupName": n} for n in sorted(self.log_groups) if n.startswith(logGroupNamePrefix)]}


def run(stacks: list[AssemblyStack], account: Account) -> tuple[int, str]:
    out = io.StringIO()
    status = preflight.preflight(stacks, lambda service, region: account, out)
    return status, out.getvalue()


@pytest.fixture
def default(synth: Callable[[str], Synthesized]) -> list[AssemblyStack]:
    return assembly(synth("default"))


def test_a_first_deploy_has_nothing_in_the_way(default: list[AssemblyStack]) -> None:
    status, out = run(default, Account())
    assert status == 0
    assert out.splitlines() == ["preflight: my-app dev: 2 stack(s) to deploy, 0 deployed", "preflight: nothing in the way"]


def test_an_unchanged_platform_has_nothing_in_the_way(default: list[AssemblyStack]) -> None:
    account = Account()
    account.deploy(default)
    assert run(default, account)[0] == 0


def test_fails_when_a_deployed_stack_is_missing_from_the_assembly(default: list[AssemblyStack]) -> None:
    """A services stack whose services left the spec stays deployed and importing: retire it first."""
    account = Account()
    account.deploy(default)
    account.stacks["my-app-dev-services-2"] = ({"App": "my-app", "Environment": "dev"}, {"Resources": {}})

    status, out = run(default, account)

    assert status == 1
    assert "in the way: my-app-dev-services-2 is deployed for this app and environment but is not in the assembly" in out
    assert "aws cloudformation delete-stack --stack-name my-app-dev-services-2" in out


def test_another_environments_stacks_are_not_this_ones(default: list[AssemblyStack]) -> None:
    account = Account()
    account.stacks["my-app-prod-network"] = ({"App": "my-app", "Environment": "prod"}, {"Resources": {}})
    assert run(default, account)[0] == 0


def _dropping(default: list[AssemblyStack], needs_new_export: bool = False) -> tuple[list[AssemblyStack], str]:
    """The network drops a batch subnet's export; the workloads stop importing it (and import a new export)."""
    network, workloads = default
    dropped = next(o["Export"]["Name"] for o in network.template["Outputs"].values() if "BatchSubnet1" in o["Export"]["Name"])
    instead = {"Fn::ImportValue": "my-app-dev-network:NewExport"} if needs_new_export else "subnet-literal"
    new_network = AssemblyStack(**{**vars(network), "template": _without_export(network.template, dropped)})
    new_workloads = AssemblyStack(**{**vars(workloads), "template": _replace_import(workloads.template, dropped, instead)})
    return [new_network, new_workloads], dropped


def test_an_importer_that_stops_importing_a_dropped_export_deploys_first(default: list[AssemblyStack], tmp_path: Path) -> None:
    """CloudFormation updates the exporter first and would fail on the export in use; the importer goes first."""
    account = Account()
    account.deploy(default)
    stacks, _ = _dropping(default)
    order = tmp_path / "first.txt"

    out = io.StringIO()
    status = preflight.preflight(stacks, lambda service, region: account, out, order)

    assert status == 0
    assert f"preflight: deploy {stacks[1].display} first (they stop importing what their exporters drop), then everything" in out.getvalue()
    assert order.read_text() == f"{stacks[1].display}\n"


def test_fails_when_the_importer_cannot_go_first(default: list[AssemblyStack]) -> None:
    """The importer needs an export the exporter adds in the same change: no order works."""
    account = Account()
    account.deploy(default)
    stacks, dropped = _dropping(default, needs_new_export=True)

    status, out = run(stacks, account)

    assert status == 1
    assert f"my-app-dev-network would drop 1 export(s) that the deployed my-app-dev-workloads imports ({dropped}, ...)" in out
    assert "it needs my-app-dev-network:NewExport, which no deployed stack exports yet. Split the change in two deploys" in out


def test_fails_when_a_service_moves_to_another_stack(default: list[AssemblyStack]) -> None:
    account = Account()
    account.deploy(default)
    account.stacks["my-app-dev-workloads"][1]["Resources"]["X"] = {"Type": "AWS::ECS::Service", "Properties": {"ServiceName": "old"}}
    moved = copy.deepcopy(default)
    moved[0].template["Resources"]["Y"] = {"Type": "AWS::ECS::Service", "Properties": {"ServiceName": "old"}}

    status, out = run(moved, account)

    assert status == 1
    assert "service old moves from my-app-dev-workloads to my-app-dev-network" in out


def test_fails_when_a_fixed_name_passes_to_another_logical_id(default: list[AssemblyStack]) -> None:
    """A renamed workload whose log group keeps its name: the new group is created before the old one goes."""
    account = Account()
    account.deploy(default)
    account.stacks["my-app-dev-workloads"][1]["Resources"]["Old"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/x"}}
    renamed = copy.deepcopy(default)
    renamed[1].template["Resources"]["New"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/x"}}

    status, out = run(renamed, account)

    assert status == 1
    assert "AWS::Logs::LogGroup /x passes from my-app-dev-workloads/Old to my-app-dev-workloads/New" in out


def test_fails_when_a_rule_takes_the_priority_a_removed_rule_holds(default: list[AssemblyStack]) -> None:
    """A renamed service keeps its priority: its new rule is created while the old one still holds it."""
    account = Account()
    rule = {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"ListenerArn": {"Ref": "Listener"}, "Priority": 20}}
    deployed = copy.deepcopy(default)
    deployed[1].template["Resources"]["SearchRule"] = rule
    account.deploy(deployed)
    renamed = copy.deepcopy(default)
    renamed[1].template["Resources"]["FindRule"] = rule

    status, out = run(renamed, account)

    assert status == 1
    assert "listener rule FindRule of my-app-dev-workloads takes priority 20, which SearchRule holds until the deploy removes it" in out


@pytest.fixture
def services(synth: Callable[[str], Synthesized]) -> list[AssemblyStack]:
    return assembly(synth("services"))


def _api_rule(stacks: list[AssemblyStack]) -> str:
    workloads = stacks[1].template["Resources"]
    return next(
        k
        for k, v in workloads.items()
        if v["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule" and k.startswith("ServiceapiWebServiceRule")
    )


def test_ha8_a_changed_traffic_shifting_rule_is_refused_while_ecs_has_moved_its_traffic(services: list[AssemblyStack]) -> None:
    """After an odd number of blue/green deployments the alternate target group is live: rewriting the rule
    would put 100/0 back and send the traffic to tasks that no longer run."""
    account = Account()
    account.deploy(services)
    rule = _api_rule(services)
    changed = copy.deepcopy(services)
    changed[1].template["Resources"][rule]["Properties"]["Priority"] = 15
    account.rules[f"arn:rule/market-staging-workloads/{rule}"] = [0, 100]

    status, out = run(changed, account)

    assert status == 1
    assert f"listener rule {rule} of market-staging-workloads would change, and ECS has moved its traffic (weights [0, 100]" in out
    assert "--force-new-deployment" in out


def test_ha8_a_changed_traffic_shifting_rule_is_fine_while_its_weights_are_the_templates(services: list[AssemblyStack]) -> None:
    account = Account()
    account.deploy(services)
    changed = copy.deepcopy(services)
    changed[1].template["Resources"][_api_rule(services)]["Properties"]["Priority"] = 15
    assert run(changed, account)[0] == 0


def test_an_unchanged_traffic_shifting_rule_is_never_read(services: list[AssemblyStack]) -> None:
    """CloudFormation leaves an unchanged rule alone, whatever its live weights."""
    account = Account()
    account.deploy(services)
    account.rules = {f"arn:rule/market-staging-workloads/{_api_rule(services)}": [0, 100]}
    assert run(services, account)[0] == 0


def test_fails_when_a_target_group_would_serve_another_load_balancer(services: list[AssemblyStack]) -> None:
    account = Account()
    account.deploy(services)
    moved = copy.deepcopy(services)
    resources = moved[1].template["Resources"]
    for rule in [v for k, v in resources.items() if k.startswith("ServiceapiWebService") and v["Type"].endswith("ListenerRule")]:
        rule["Properties"]["ListenerArn"] = {"Ref": "AnotherLoadBalancerListener"}

    status, out = run(moved, account)

    assert status == 1
    assert "would be forwarded to by another load balancer's listener" in out
    assert "set load_balancer.target_groups to a new label" in out


def test_fails_when_a_named_log_group_exists_outside_these_stacks(default: list[AssemblyStack]) -> None:
    """A retained log group of an earlier workload of that name: the create would fail."""
    account = Account()
    account.log_groups = {"/ecs/my-app/dev/nightly-report"}

    status, out = run(default, account)

    assert status == 1
    assert "log group /ecs/my-app/dev/nightly-report of my-app-dev-workloads exists already, outside these stacks" in out


def test_a_named_log_group_of_a_deployed_stack_is_its_own(default: list[AssemblyStack]) -> None:
    account = Account()
    account.deploy(default)
    account.log_groups = {"/ecs/my-app/dev/nightly-report"}
    assert run(default, account)[0] == 0


def test_the_assembly_is_read_with_each_stacks_tags(synth: Callable[[str], Synthesized]) -> None:
    """The stacks carry App and Environment as their own tags: preflight finds the deployed ones by them."""
    example = synth("default")
    stacks = read_assembly(example.outdir)
    assert [(s.name, s.app, s.environment, s.region) for s in stacks] == [
        ("my-app-dev-network", "my-app", "dev", "ap-northeast-1"),
        ("my-app-dev-workloads", "my-app", "dev", "ap-northeast-1"),
    ]


def test_fails_without_an_assembly(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main([str(tmp_path)]) == 2
    assert "no cloud assembly in" in capsys.readouterr().err


def _without_export(template: dict[str, Any], name: str) -> dict[str, Any]:
    result = copy.deepcopy(template)
    result["Outputs"] = {k: v for k, v in result["Outputs"].items() if v.get("Export", {}).get("Name") != name}
    return result


def _replace_import(template: dict[str, Any], name: str, instead: Any) -> dict[str, Any]:
    text = json.dumps(template).replace(json.dumps({"Fn::ImportValue": name}), json.dumps(instead))
    result: dict[str, Any] = json.loads(text)
    return result
