"""network.existing (issue 15): the platform in a VPC someone else owns. The subnets are taken by ID per class, so
web tasks, batch tasks and load balancers stay apart (SEC-1); nothing of the VPC is created; an existing VPC without
endpoints leaves no network stack (CloudFormation refuses an empty one)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template

from ecs_platform.app_builder import build_app
from ecs_platform.spec import parse_spec
from ecs_platform.stacks.stage import PlatformStage
from tests.conftest import CLI_CONTEXT, SPECS

EXISTING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.20.0.0/16",
    "public_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "web_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    "batch_subnet_ids": ["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"],
    "web_route_table_ids": ["rtb-0bbbbbbbbbbbbbbb1", "rtb-0bbbbbbbbbbbbbbb2"],
    "batch_route_table_ids": ["rtb-0ccccccccccccccc1", "rtb-0ccccccccccccccc2"],
}


def _stage(tmp_path: Path, network: dict[str, Any]) -> PlatformStage:
    data = copy.deepcopy(yaml.safe_load((SPECS / "default.yaml").read_text(encoding="utf-8")))
    data["network"] = network
    app, stage = build_app(parse_spec(data), outdir=str(tmp_path), context=CLI_CONTEXT)
    app.synth()  # with the nag packs: any unacknowledged finding fails here
    return stage


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> PlatformStage:
    return _stage(tmp_path_factory.mktemp("existing"), {"existing": EXISTING})


@pytest.fixture(scope="module")
def with_endpoints(tmp_path_factory: pytest.TempPathFactory) -> PlatformStage:
    return _stage(tmp_path_factory.mktemp("existing-endpoints"), {"existing": EXISTING, "endpoints": ["ecr", "logs", "s3"]})


def _subnets(template: dict[str, Any], kind: str) -> list[Any]:
    return [
        r["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
        for r in template["Resources"].values()
        if r["Type"] == kind
    ]


def test_sec1_services_run_in_the_web_subnets_and_the_alb_in_the_public_ones_by_id(plain: PlatformStage) -> None:
    template = Template.from_stack(plain.workload_stack).to_json()
    assert _subnets(template, "AWS::ECS::Service") == [EXISTING["web_subnet_ids"]]
    (alb,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"]
    assert alb["Properties"]["Subnets"] == EXISTING["public_subnet_ids"]


def test_sec1_jobs_run_in_the_batch_subnets_by_id(plain: PlatformStage) -> None:
    template = json.dumps(Template.from_stack(plain.workload_stack).to_json())
    for subnet in EXISTING["batch_subnet_ids"]:
        assert subnet in template


def test_nothing_of_the_vpc_is_created_and_no_empty_network_stack_is_left(plain: PlatformStage) -> None:
    assert plain.network_stack is None
    kinds = {r["Type"] for r in Template.from_stack(plain.workload_stack).to_json()["Resources"].values()}
    assert not kinds & {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway", "AWS::EC2::FlowLog", "AWS::EC2::InternetGateway"}


def test_endpoints_in_an_existing_vpc_make_the_network_stack_of_endpoints_only(with_endpoints: PlatformStage) -> None:
    assert with_endpoints.network_stack is not None
    kinds = {r["Type"] for r in Template.from_stack(with_endpoints.network_stack).to_json()["Resources"].values()}
    assert kinds <= {"AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"}
    assert "AWS::EC2::VPCEndpoint" in kinds
