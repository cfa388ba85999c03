"""Network: a multi-AZ VPC with public, Web and Batch subnet groups (SEC-1, HA-2) and a flow log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from ecs_platform.constructs import ConstructError, Network, NetworkProps
from tests.unit.support import ACCOUNT, AZS, logical_id, new_app, new_stack, of_type, only, synth

THREE_AZS = ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d")


@dataclass
class Scenario:
    three: Template
    """Three AZs, two NAT gateways, 10.10.0.0/16, 90-day flow log retention."""
    default: Template
    """Two AZs, every default, and a key of the caller's."""
    network: Network
    default_network: Network
    given_key_id: str


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    app = new_app()
    # Given a network over three AZs with two NAT gateways
    stack = new_stack(app, "Three")
    network = Network(
        stack,
        "Network",
        props=NetworkProps(
            availability_zones=THREE_AZS, nat_gateways=2, cidr="10.10.0.0/16", flow_log_retention=logs.RetentionDays.THREE_MONTHS
        ),
    )
    # and a network over two AZs with defaults and the caller's key
    default_stack = new_stack(app, "Default")
    key = kms.Key(default_stack, "GivenKey")
    default_network = Network(default_stack, "Network", props=NetworkProps(availability_zones=AZS, encryption_key=key))
    # When both are synthesized
    three, default = synth(app, stack, default_stack)
    return Scenario(three, default, network, default_network, logical_id(key))


def _tag(resource: dict[str, Any], key: str) -> str:
    tags: dict[str, str] = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
    return tags[key]


def _subnets_by_group(template: Template) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for subnet in of_type(template, "AWS::EC2::Subnet").values():
        groups[_tag(subnet, "aws-cdk:subnet-name")].append(subnet["Properties"]["AvailabilityZone"])
    return {name: sorted(zones) for name, zones in groups.items()}


def _default_route(template: Template, subnet_id: str) -> dict[str, Any]:
    association = next(
        a["Properties"]
        for a in of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
        if a["Properties"]["SubnetId"] == {"Ref": subnet_id}
    )
    return next(
        r["Properties"]
        for r in of_type(template, "AWS::EC2::Route").values()
        if r["Properties"]["RouteTableId"] == association["RouteTableId"] and r["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"
    )


# --- SEC-1 / HA-2: subnets ------------------------------------------------------------------


def test_sec1_ha2_three_subnet_groups_in_every_az(scenario: Scenario) -> None:
    """SEC-1 / HA-2: Public, Web and Batch groups, one subnet per AZ each."""
    assert _subnets_by_group(scenario.three) == {"Public": list(THREE_AZS), "Web": list(THREE_AZS), "Batch": list(THREE_AZS)}
    assert _subnets_by_group(scenario.default) == {"Public": list(AZS), "Web": list(AZS), "Batch": list(AZS)}


def test_sec1_no_subnet_maps_public_ips_on_launch(scenario: Scenario) -> None:
    """SEC-1: no subnet, not even a public one, gives a public IP to what is launched in it."""
    for template in (scenario.three, scenario.default):
        subnets = of_type(template, "AWS::EC2::Subnet").values()
        assert [s["Properties"]["MapPublicIpOnLaunch"] for s in subnets] == [False] * len(subnets)


def test_sec1_web_and_batch_subnets_are_private_behind_nat(scenario: Scenario) -> None:
    """SEC-1: Web and Batch subnets route to the internet through a NAT gateway, public ones through the IGW."""
    for subnet_id, subnet in of_type(scenario.three, "AWS::EC2::Subnet").items():
        route = _default_route(scenario.three, subnet_id)
        if _tag(subnet, "aws-cdk:subnet-name") == "Public":
            assert _tag(subnet, "aws-cdk:subnet-type") == "Public"
            assert "GatewayId" in route and "NatGatewayId" not in route
        else:
            assert _tag(subnet, "aws-cdk:subnet-type") == "Private"
            assert "NatGatewayId" in route and "GatewayId" not in route


def test_subnet_cidrs_are_slash_24_inside_the_vpc_cidr(scenario: Scenario) -> None:
    _, vpc = only(scenario.three, "AWS::EC2::VPC")
    assert vpc["Properties"]["CidrBlock"] == "10.10.0.0/16"
    cidrs = sorted(s["Properties"]["CidrBlock"] for s in of_type(scenario.three, "AWS::EC2::Subnet").values())
    assert cidrs == [f"10.10.{i}.0/24" for i in range(9)]


def test_subnet_selections_pick_their_own_group(scenario: Scenario) -> None:
    """web_subnets / batch_subnets / public_subnets select exactly their group's subnets."""
    network = scenario.network
    for selection, group in ((network.web_subnets, "Web"), (network.batch_subnets, "Batch"), (network.public_subnets, "Public")):
        subnet_ids = network.vpc.stack.resolve(network.vpc.select_subnets(subnet_group_name=selection.subnet_group_name).subnet_ids)
        assert len(subnet_ids) == 3
        assert all(f"{group}Subnet" in ref["Ref"] for ref in subnet_ids), subnet_ids


# --- NAT ------------------------------------------------------------------------------------


def test_nat_gateway_count_is_as_given(scenario: Scenario) -> None:
    """Given nat_gateways=2 over three AZs, then two NAT gateways; by default one."""
    scenario.three.resource_count_is("AWS::EC2::NatGateway", 2)
    scenario.default.resource_count_is("AWS::EC2::NatGateway", 1)
    for nat in of_type(scenario.three, "AWS::EC2::NatGateway").values():
        assert "PublicSubnet" in nat["Properties"]["SubnetId"]["Ref"]


# --- flow log -------------------------------------------------------------------------------


def test_flow_log_records_all_vpc_traffic_to_cloudwatch_logs(scenario: Scenario) -> None:
    vpc_id, _ = only(scenario.three, "AWS::EC2::VPC")
    group_id, _ = only(scenario.three, "AWS::Logs::LogGroup")
    role_id, _ = only(scenario.three, "AWS::IAM::Role")
    _, flow_log = only(scenario.three, "AWS::EC2::FlowLog")
    props = flow_log["Properties"]
    assert props["ResourceType"] == "VPC"
    assert props["ResourceId"] == {"Ref": vpc_id}
    assert props["TrafficType"] == "ALL"
    assert props["LogDestinationType"] == "cloud-watch-logs"
    assert props["LogGroupName"] == {"Ref": group_id}
    assert props["DeliverLogsPermissionArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_sec3_flow_log_group_is_kms_encrypted_with_retention(scenario: Scenario) -> None:
    """SEC-3: the flow log group is encrypted with a new rotating key the logs service may use; retention as given."""
    _, group = only(scenario.three, "AWS::Logs::LogGroup")
    key_id, key = only(scenario.three, "AWS::KMS::Key")
    assert group["Properties"] == {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "RetentionInDays": 90}
    assert group["DeletionPolicy"] == "Delete"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    logs_statement = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert logs_statement["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}
    assert logs_statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:ap-northeast-1:{ACCOUNT}:log-group:*"}
    }


def test_flow_log_retention_defaults_to_one_year_with_the_given_key(scenario: Scenario) -> None:
    """Given encryption_key, then no key is created and the group uses the caller's; retention 365 days by default."""
    _, group = only(scenario.default, "AWS::Logs::LogGroup")
    assert group["Properties"] == {"KmsKeyId": {"Fn::GetAtt": [scenario.given_key_id, "Arn"]}, "RetentionInDays": 365}
    assert list(of_type(scenario.default, "AWS::KMS::Key")) == [scenario.given_key_id]
    assert scenario.default_network.encryption_key.node.id == "GivenKey"


def test_iam8_flow_log_role_grants_are_in_a_managed_policy(scenario: Scenario) -> None:
    """IAM-8: the delivery role's grants sit in one customer-managed policy scoped to the flow log group."""
    group_id, _ = only(scenario.three, "AWS::Logs::LogGroup")
    role_id, role = only(scenario.three, "AWS::IAM::Role")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:ap-northeast-1:{ACCOUNT}:vpc-flow-log/*"},
            },
        }
    ]
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    scenario.three.resource_count_is("AWS::IAM::Policy", 0)
    _, policy = only(scenario.three, "AWS::IAM::ManagedPolicy")
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [group_id, "Arn"]},
        }
    ]


def test_no_lambda_backed_custom_resource(scenario: Scenario) -> None:
    """The default security group is not closed through CDK's Lambda custom resource (it brings an AWS managed policy)."""
    for template in (scenario.three, scenario.default):
        template.resource_count_is("AWS::Lambda::Function", 0)
        assert not [k for k, v in template.to_json()["Resources"].items() if v["Type"].startswith("Custom::")]


# --- failing cases --------------------------------------------------------------------------


def test_fails_when_only_one_az() -> None:
    """HA-2: one AZ is refused."""
    with pytest.raises(ConstructError, match=r"^Test/Network: availability_zones: 1 availability zone\(s\); allowed: 2 to 6 \(HA-2"):
        Network(new_stack(), "Network", props=NetworkProps(availability_zones=["ap-northeast-1a"]))


def test_fails_when_the_same_az_is_given_twice() -> None:
    """HA-2: two names of one AZ are one AZ."""
    with pytest.raises(ConstructError, match=r"availability_zones: ap-northeast-1a listed twice; allowed: distinct AZs \(HA-2\)"):
        Network(new_stack(), "Network", props=NetworkProps(availability_zones=["ap-northeast-1a", "ap-northeast-1a"]))


@pytest.mark.parametrize("nat_gateways", [0, 3])
def test_fails_when_nat_gateways_out_of_range(nat_gateways: int) -> None:
    """Given two AZs, then 0 or 3 NAT gateways are refused with the allowed range."""
    with pytest.raises(ConstructError, match=rf"nat_gateways: {nat_gateways} is out of range; allowed: 1\.\.2"):
        Network(new_stack(), "Network", props=NetworkProps(availability_zones=AZS, nat_gateways=nat_gateways))


def test_fails_when_an_az_is_repeated_among_others() -> None:
    """Given ['1a', '1a', '1c'], then ValueError (three subnets per group but two AZs)."""
    with pytest.raises(ConstructError, match="ap-northeast-1a listed twice"):
        Network(new_stack(), "Network", props=NetworkProps(availability_zones=["ap-northeast-1a", "ap-northeast-1a", "ap-northeast-1c"]))
