"""Security groups per SEC-2, each with a Name tag and explicit egress (CLI-1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    BatchSecurityGroup,
    LoadBalancerSecurityGroup,
    LoadBalancerSecurityGroupProps,
    SecurityGroupProps,
    WebTaskSecurityGroup,
)
from tests.unit.support import logical_id, new_app, new_stack, of_type, plain_vpc, synth, tags_of

#: What CDK writes into a group that has allow_all_outbound=False and no egress rule yet.
NO_EGRESS = [{"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}]


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    vpc_id: str


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given, on a plain VPC: an internet-facing and an internal load balancer group, the internal one
    wired to a web task group on 8080; a standalone web task group; a batch group."""
    app = new_app()
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    groups: dict[str, ec2.SecurityGroup] = {
        "public": LoadBalancerSecurityGroup(
            stack, "PublicAlb", props=LoadBalancerSecurityGroupProps(vpc=vpc, internet_facing=True, name="public-alb")
        ),
        "internal": LoadBalancerSecurityGroup(stack, "InternalAlb", props=LoadBalancerSecurityGroupProps(vpc=vpc, internet_facing=False)),
        "web": WebTaskSecurityGroup(stack, "Web", props=SecurityGroupProps(vpc=vpc, name="web")),
        "web_target": WebTaskSecurityGroup(stack, "WebTarget", props=SecurityGroupProps(vpc=vpc, name="web-target")),
        "batch": BatchSecurityGroup(stack, "Batch", props=SecurityGroupProps(vpc=vpc, name="batch")),
        "batch_unnamed": BatchSecurityGroup(stack, "BatchUnnamed", props=SecurityGroupProps(vpc=vpc)),
    }
    groups["internal"].connections.allow_to(groups["web_target"], ec2.Port.tcp(8080), "Load balancer to target")
    ids = {name: logical_id(g) for name, g in groups.items()}
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, logical_id(vpc))


def _group(scenario: Scenario, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::EC2::SecurityGroup")[scenario.ids[name]]["Properties"]
    return props


def _rules_on(scenario: Scenario, kind: str, name: str) -> list[dict[str, Any]]:
    """Standalone ingress/egress resources whose GroupId is the named group."""
    group = {"Fn::GetAtt": [scenario.ids[name], "GroupId"]}
    return [r["Properties"] for r in of_type(scenario.template, kind).values() if r["Properties"]["GroupId"] == group]


# --- load balancer --------------------------------------------------------------------------


def test_sec2_internet_facing_lb_admits_80_and_443_from_anywhere(scenario: Scenario) -> None:
    """SEC-2: inbound 80 and 443 from 0.0.0.0/0, nothing else."""
    assert _group(scenario, "public")["SecurityGroupIngress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTP from the internet", "FromPort": 80, "IpProtocol": "tcp", "ToPort": 80},
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS from the internet", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
    ]
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupIngress", "public") == []


def test_sec2_lb_has_no_egress_until_targets_are_added(scenario: Scenario) -> None:
    """SEC-2 / CLI-1: without targets the group has only CDK's 'disallow all' placeholder, no real egress."""
    assert _group(scenario, "public")["SecurityGroupEgress"] == NO_EGRESS
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupEgress", "public") == []


def test_sec2_internal_lb_admits_80_and_443_from_the_vpc_cidr(scenario: Scenario) -> None:
    """SEC-2: an internal load balancer admits 80/443 only from the VPC's CIDR."""
    cidr = {"Fn::GetAtt": [scenario.vpc_id, "CidrBlock"]}
    assert _group(scenario, "internal")["SecurityGroupIngress"] == [
        {"CidrIp": cidr, "Description": "HTTP from internal clients", "FromPort": 80, "IpProtocol": "tcp", "ToPort": 80},
        {"CidrIp": cidr, "Description": "HTTPS from internal clients", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
    ]


def test_sec2_lb_egress_goes_only_to_its_targets_on_their_port(scenario: Scenario) -> None:
    """SEC-2: once a target group is wired, the only egress is to that group on the target port, and the target
    admits only the load balancer's group on that port."""
    assert "SecurityGroupEgress" not in _group(scenario, "internal")  # the placeholder goes once a real rule exists
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupEgress", "internal") == [
        {
            "Description": "Load balancer to target",
            "DestinationSecurityGroupId": {"Fn::GetAtt": [scenario.ids["web_target"], "GroupId"]},
            "FromPort": 8080,
            "GroupId": {"Fn::GetAtt": [scenario.ids["internal"], "GroupId"]},
            "IpProtocol": "tcp",
            "ToPort": 8080,
        }
    ]
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupIngress", "web_target") == [
        {
            "Description": "Load balancer to target",
            "FromPort": 8080,
            "GroupId": {"Fn::GetAtt": [scenario.ids["web_target"], "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [scenario.ids["internal"], "GroupId"]},
            "ToPort": 8080,
        }
    ]


# --- web tasks ------------------------------------------------------------------------------


def test_sec2_web_task_group_egress_all_and_no_ingress_of_its_own(scenario: Scenario) -> None:
    """SEC-2: outbound all (as the document says); no inbound rule until a load balancer is wired to it."""
    web = _group(scenario, "web")
    assert web["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}
    ]
    assert "SecurityGroupIngress" not in web
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupIngress", "web") == []


# --- batch tasks ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["batch", "batch_unnamed"])
def test_sec2_batch_group_has_no_ingress_and_egress_only_tcp_443(scenario: Scenario, name: str) -> None:
    """SEC-2 / CLI-1: no inbound at all; one explicit egress rule, tcp/443."""
    batch = _group(scenario, name)
    assert "SecurityGroupIngress" not in batch
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupIngress", name) == []
    assert _rules_on(scenario, "AWS::EC2::SecurityGroupEgress", name) == []
    assert batch["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to AWS APIs and registries", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]


# --- CLI-1: Name tags -----------------------------------------------------------------------


def test_cli1_every_group_has_a_name_tag(scenario: Scenario) -> None:
    """CLI-1: the Name tag is the given name, or the construct path with '-' for '/'."""
    names = {name: tags_of({"Properties": _group(scenario, name)}) for name in scenario.ids}
    assert {name: tags["Name"] for name, tags in names.items()} == {
        "public": "public-alb",
        "internal": "Test-InternalAlb",
        "web": "web",
        "web_target": "web-target",
        "batch": "batch",
        "batch_unnamed": "Test-BatchUnnamed",
    }


def test_groups_live_in_the_given_vpc_with_a_description(scenario: Scenario) -> None:
    for name in scenario.ids:
        assert _group(scenario, name)["VpcId"] == {"Ref": scenario.vpc_id}
    assert _group(scenario, "public")["GroupDescription"] == "ALB: inbound 80/443 only (SEC-2)"
    assert _group(scenario, "batch")["GroupDescription"] == "Batch tasks: no inbound, outbound 443 only (SEC-2)"
    assert "GroupName" not in _group(scenario, "web")
