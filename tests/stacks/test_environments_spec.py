"""specs/environments.yaml synthesized (issue 12): a stage per environment, in the spec's order, each
cdk-nag clean; the summary says which services run one task and counts NAT gateways per account and
region; a spec of one ``environment:`` moved to ``environments:`` synthesizes the same templates."""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

import app as entry_point
from ecs_platform.app_builder import build_platform_app
from ecs_platform.spec import load_specs, parse_specs
from ecs_platform.summary import StackSummary, notes, render, stacks
from tests.conftest import SPECS
from tests.template_diff import compare_assemblies, stack_templates

EXAMPLE = SPECS / "environments.yaml"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("environments")
    app, _ = build_platform_app(load_specs(EXAMPLE), outdir=str(outdir), spec_file="specs/environments.yaml")
    app.synth()
    return outdir


def test_every_environment_is_a_stage_in_the_spec_order(assembly: Path) -> None:
    """One stage per environment, named after it, its stacks named <app>-<env>-..., in its account and region."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stages = [a for a in manifest["artifacts"].values() if a["type"] == "cdk:cloud-assembly"]
    assert [s["properties"]["displayName"] for s in stages] == ["dev", "staging", "prod", "shared"]
    found = {(s.display_name, s.stack_name, s.environment) for s in stacks(assembly)}
    assert ("dev/Workloads", "shop-dev-workloads", "aws://111111111111/ap-northeast-1") in found
    assert ("prod/Network", "shop-prod-network", "aws://222222222222/ap-northeast-1") in found
    assert len([f for f in found if f[0].startswith(("dev/", "staging/", "prod/"))]) == 6


def test_every_environment_is_cdk_nag_clean(assembly: Path) -> None:
    report = json.loads((assembly / "validation-report.json").read_text())
    nag = [p for p in report["pluginReports"] if p["pluginName"] != "CloudFormation Validate"]
    assert len(nag) == 4 and all(not p.get("violations") for p in nag)


def test_the_overrides_reach_the_templates(assembly: Path) -> None:
    """dev runs one task of each service; prod's api has three, with 1 vCPU."""
    templates = stack_templates(assembly)

    def services(stack: str) -> dict[str, dict[str, Any]]:
        resources = templates[stack]["Resources"].values()
        return {r["Properties"]["ServiceName"]: r["Properties"] for r in resources if r["Type"] == "AWS::ECS::Service"}

    assert {n: s["DesiredCount"] for n, s in services("dev/Workloads").items()} == {"web": 1, "api": 1}
    assert {n: s["DesiredCount"] for n, s in services("prod/Workloads").items()} == {"web": 2, "api": 3}
    prod_definitions = [
        r["Properties"] for r in templates["prod/Workloads"]["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"
    ]
    assert sorted(d["Cpu"] for d in prod_definitions) == ["1024", "256", "512"]


def test_the_summary_names_one_task_services_and_counts_nat_gateways_per_account(assembly: Path) -> None:
    """Outside production one task may do, and the summary says so; NAT gateways (one Elastic IP each) are
    counted per account and region over all environments: dev and staging share 111111111111."""
    text = render(assembly)
    assert "note: dev/Workloads runs one task of api, web (one AZ: fine outside production, not HA-3)" in text
    assert "staging/Workloads runs one task" not in text and "prod/Workloads runs one task" not in text
    assert "NAT gateways (Elastic IPs, default quota 5 per account and region): 111111111111/ap-northeast-1 2, " in text
    assert "222222222222/ap-northeast-1 3" in text
    assert "warning:" not in text


def test_the_summary_warns_past_the_elastic_ip_quota() -> None:
    def stack(name: str, nat: int) -> StackSummary:
        return StackSummary(name, name, Counter({"AWS::EC2::NatGateway": nat}), "aws://111111111111/eu-west-1")

    lines = notes([stack("dev/Network", 3), stack("staging/Network", 3)])
    assert lines[-1].startswith("warning: 6 NAT gateways in 111111111111/eu-west-1 over all environments")
    assert "the default quota is 5 per account and region" in lines[-1]


def test_moving_one_environment_to_environments_changes_no_template(tmp_path: Path) -> None:
    """A spec's single environment: written as environments: [...] instead, every stack keeps its name, logical
    IDs and properties (the same stage, the same templates)."""
    data = yaml.safe_load((SPECS / "services.yaml").read_text(encoding="utf-8"))
    moved = copy.deepcopy(data)
    moved["environments"] = [moved.pop("environment")]
    outdirs = []
    for name, spec_data in (("one", data), ("list", moved)):
        outdir = tmp_path / name
        app, _ = build_platform_app(parse_specs(spec_data), outdir=str(outdir), nag=False)
        app.synth()
        outdirs.append(outdir)
    assert [str(d) for d in compare_assemblies(*outdirs)] == []
    assert sorted(stack_templates(outdirs[1])) == ["staging/Network", "staging/Workloads"]


def test_app_builds_only_the_environment_it_is_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``make synth ENV=staging`` passes ``-c env=staging``: the app builds that stage, and of what the environments
    share only the stack of its account (with every environment's repositories); no pipeline (it delivers them all)."""
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"spec": str(EXAMPLE), "env": "staging"}))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    entry_point.main()
    assert sorted(stack_templates(tmp_path)) == ["shared/111111111111-ap-northeast-1", "staging/Network", "staging/Workloads"]
    assert os.environ["CDK_OUTDIR"] == str(tmp_path)
