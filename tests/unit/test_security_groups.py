"""Security groups per SEC-2, each with a Name tag and explicit egress (CLI-1); a workload's stated egress (issue 15)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    BatchSecurityGroup,
    ConstructError,
    EgressRule,
    LoadBalancerSecurityGroup,
    LoadBalancerSecurityGroupProps,
    Network,
    NetworkProps,
    SecurityGroupProps,
    WebTaskSecurityGroup,
    WorkloadSecurityGroupProps,
)
from tests.helpers import nag_findings
from tests.unit.support import AZS, logical_id, nag_app, new_app, new_stack, of_type, plain_vpc, synth, tags_of

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


# --- issue 15: a workload's stated egress -----------------------------------------------------

DATABASE = EgressRule(port=5432, cidrs=["10.20.0.0/16"], description="PostgreSQL of the shared data VPC")
DNS = EgressRule(port=53, protocol="udp", cidrs=["10.20.0.2/32", "fd00:20::/64"], description="DNS resolvers")
PARTNER = EgressRule(port=(8000, 8100), prefix_list_ids=["pl-0123456789abcdef0"], description="Partner API range")
HTTPS = {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to AWS APIs and registries", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
STATED = [
    {"CidrIp": "10.20.0.0/16", "Description": "PostgreSQL of the shared data VPC", "FromPort": 5432, "IpProtocol": "tcp", "ToPort": 5432},
    {"CidrIp": "10.20.0.2/32", "Description": "DNS resolvers", "FromPort": 53, "IpProtocol": "udp", "ToPort": 53},
    {"CidrIpv6": "fd00:20::/64", "Description": "DNS resolvers", "FromPort": 53, "IpProtocol": "udp", "ToPort": 53},
    {
        "Description": "Partner API range",
        "DestinationPrefixListId": "pl-0123456789abcdef0",
        "FromPort": 8000,
        "IpProtocol": "tcp",
        "ToPort": 8100,
    },
]


@dataclass
class Stated:
    template: Template
    ids: dict[str, str]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def stated() -> Stated:
    """Given, in an app with every cdk-nag pack: web and batch groups with the rules DATABASE, DNS, PARTNER; the same
    web rules without tcp/443 to anywhere; a batch group with neither rules nor tcp/443."""
    app = nag_app()
    stack = new_stack(app)
    vpc = Network(stack, "Network", props=NetworkProps(availability_zones=AZS)).vpc  # nag-clean, unlike plain_vpc
    rules = [DATABASE, DNS, PARTNER]
    groups: dict[str, ec2.SecurityGroup] = {
        "web": WebTaskSecurityGroup(stack, "Web", props=WorkloadSecurityGroupProps(vpc=vpc, egress=rules)),
        "web_only": WebTaskSecurityGroup(stack, "WebOnly", props=WorkloadSecurityGroupProps(vpc=vpc, egress=rules, https_anywhere=False)),
        "web_default": WebTaskSecurityGroup(stack, "WebDefault", props=WorkloadSecurityGroupProps(vpc=vpc)),
        "batch": BatchSecurityGroup(stack, "Batch", props=WorkloadSecurityGroupProps(vpc=vpc, egress=rules)),
        "batch_closed": BatchSecurityGroup(stack, "BatchClosed", props=WorkloadSecurityGroupProps(vpc=vpc, https_anywhere=False)),
    }
    # When synthesized
    (template,) = synth(app, stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Stated(template, {name: logical_id(g) for name, g in groups.items()}, report)


def _stated(stated: Stated, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(stated.template, "AWS::EC2::SecurityGroup")[stated.ids[name]]["Properties"]
    return props


def _egress(stated: Stated, name: str) -> list[dict[str, Any]]:
    """Every egress rule of the group: inline, then standalone (CDK cannot inline a prefix list rule)."""
    group = {"Fn::GetAtt": [stated.ids[name], "GroupId"]}
    standalone = [
        r["Properties"] for r in of_type(stated.template, "AWS::EC2::SecurityGroupEgress").values() if r["Properties"]["GroupId"] == group
    ]
    return [*_stated(stated, name).get("SecurityGroupEgress", []), *({k: v for k, v in r.items() if k != "GroupId"} for r in standalone)]


def test_stated_egress_replaces_all_outbound_of_web_tasks(stated: Stated) -> None:
    """Issue 15 / SEC-2: a web group with stated rules has no all-outbound rule: tcp/443 to anywhere and exactly the
    stated ports, protocols, CIDRs (IPv4 and IPv6) and prefix lists; its description says so."""
    web = _stated(stated, "web")
    assert _egress(stated, "web") == [HTTPS, *STATED]
    assert web["GroupDescription"] == "Web tasks: inbound from the ALB only, outbound as stated (SEC-2)"
    assert "SecurityGroupIngress" not in web


def test_web_tasks_without_https_anywhere_have_only_the_stated_rules(stated: Stated) -> None:
    """Issue 15: https_anywhere=False leaves exactly the stated rules (the VPC endpoints are admitted separately)."""
    assert _egress(stated, "web_only") == STATED


def test_web_tasks_with_no_stated_egress_keep_all_outbound(stated: Stated) -> None:
    """SEC-2: WorkloadSecurityGroupProps with nothing stated is the document's web group, description included."""
    web = _stated(stated, "web_default")
    assert web["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}
    ]
    assert web["GroupDescription"] == "Web tasks: inbound from the ALB only, outbound all (SEC-2)"


def test_stated_egress_adds_to_the_batch_groups_tcp_443(stated: Stated) -> None:
    """Issue 15 / SEC-2: a batch group keeps tcp/443 and gains the stated rules; still no inbound."""
    batch = _stated(stated, "batch")
    assert _egress(stated, "batch") == [HTTPS, *STATED]
    assert batch["GroupDescription"] == "Batch tasks: no inbound, outbound as stated (SEC-2)"
    assert "SecurityGroupIngress" not in batch


def test_a_batch_group_without_https_anywhere_has_no_egress(stated: Stated) -> None:
    """Issue 15: with neither rules nor tcp/443 the batch group has no egress at all (only the VPC endpoints, once admitted)."""
    assert _egress(stated, "batch_closed") == NO_EGRESS


def test_stated_groups_are_nag_clean(stated: Stated) -> None:
    """Synthesized with every cdk-nag pack: no unacknowledged finding and no CDK warning."""
    assert {p["pluginName"] for p in stated.report["pluginReports"]} >= {"NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}
    assert nag_findings(stated.report) == Counter()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (EgressRule(port=0, cidrs=["10.0.0.0/8"], description="x"), r"egress\[0\]\.port: 0 is out of range; allowed: .*1\.\.65535"),
        (EgressRule(port=70000, cidrs=["10.0.0.0/8"], description="x"), r"egress\[0\]\.port: 70000 is out of range"),
        (EgressRule(port=(9000, 8000), cidrs=["10.0.0.0/8"], description="x"), r"egress\[0\]\.port: \(9000, 8000\) is out of range"),
        (
            EgressRule(port=1, protocol="icmp", cidrs=["10.0.0.0/8"], description="x"),  # type: ignore[arg-type]
            r"egress\[0\]\.protocol: 'icmp' is not allowed; allowed: 'tcp', 'udp'",
        ),
        (EgressRule(port=1, description="x"), r"egress\[0\]\.cidrs: no destination; allowed: at least one CIDR or prefix list ID"),
        (
            EgressRule(port=1, cidrs=["10.0.0.1/8"], description="x"),
            r"egress\[0\]\.cidrs: '10.0.0.1/8' is not a network .*allowed: an IPv4",
        ),
        (EgressRule(port=1, cidrs=["everywhere"], description="x"), r"egress\[0\]\.cidrs: 'everywhere' is not a network"),
        (EgressRule(port=1, prefix_list_ids=["s3"], description="x"), r"egress\[0\]\.prefix_list_ids: 's3' is not a prefix list ID"),
        (
            EgressRule(port=1, cidrs=["10.0.0.0/8"], description="naïve"),
            r"egress\[0\]\.description: 'naïve' is not allowed; allowed: 1 to 255",
        ),
    ],
    ids=[
        "port-0",
        "port-too-high",
        "range-backwards",
        "protocol",
        "no-destination",
        "host-bits",
        "not-a-cidr",
        "prefix-list",
        "description",
    ],
)
def test_fails_when_an_egress_rule_is_wrong(rule: EgressRule, message: str) -> None:
    """Issue 15: each bad rule is refused, naming the rule's index, its field, the value and what is allowed."""
    stack = new_stack()
    with pytest.raises(ConstructError, match=r"^Test/Batch: " + message):
        BatchSecurityGroup(stack, "Batch", props=WorkloadSecurityGroupProps(vpc=plain_vpc(stack), egress=[rule]))


def test_fails_when_the_second_rule_is_wrong_naming_its_index() -> None:
    """Issue 15: the message names which rule of ``egress`` is wrong."""
    stack = new_stack()
    bad = EgressRule(port=65536, cidrs=["10.0.0.0/8"], description="x")
    with pytest.raises(ConstructError, match=r"^Test/Web: egress\[1\]\.port: 65536"):
        WebTaskSecurityGroup(stack, "Web", props=WorkloadSecurityGroupProps(vpc=plain_vpc(stack), egress=[DATABASE, bad]))


def test_fails_when_web_tasks_drop_https_without_stated_rules() -> None:
    """Issue 15: https_anywhere=False means nothing for a web group that allows all outbound: refused."""
    stack = new_stack()
    with pytest.raises(ConstructError, match=r"^Test/Web: https_anywhere: False without egress rules; allowed: egress rules"):
        WebTaskSecurityGroup(stack, "Web", props=WorkloadSecurityGroupProps(vpc=plain_vpc(stack), https_anywhere=False))
