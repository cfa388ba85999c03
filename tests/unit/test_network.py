"""Network: a multi-AZ VPC with public, Web and Batch subnet groups (SEC-1, HA-2) and a flow log; or an existing VPC's
subnets by ID; VPC endpoints and Batch subnets without NAT (issue 15)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    BatchSecurityGroup,
    ConstructError,
    ExistingVpcProps,
    Network,
    NetworkProps,
    SecurityGroupProps,
    WebTaskSecurityGroup,
)
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, AZS, logical_id, nag_app, new_app, new_stack, of_type, only, synth

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


# --- issue 15: an existing VPC, VPC endpoints, Batch subnets without NAT ---------------------

#: Logical IDs and types of ``NetworkProps(availability_zones=AZS)`` before issue 15: new props must not change the default.
DEFAULT_RESOURCES = {
    "NetworkFlowLogRole4C0B2D1D": "AWS::IAM::Role",
    "NetworkFlowLogRolePolicy9831CD50": "AWS::IAM::ManagedPolicy",
    "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
    "NetworkKey1D162FA0": "AWS::KMS::Key",
    "NetworkVpc7FB7348F": "AWS::EC2::VPC",
    "NetworkVpcBatchSubnet1DefaultRouteF9787232": "AWS::EC2::Route",
    "NetworkVpcBatchSubnet1RouteTable88DA10FD": "AWS::EC2::RouteTable",
    "NetworkVpcBatchSubnet1RouteTableAssociation808E64A4": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcBatchSubnet1Subnet82E4DFA1": "AWS::EC2::Subnet",
    "NetworkVpcBatchSubnet2DefaultRouteEB159329": "AWS::EC2::Route",
    "NetworkVpcBatchSubnet2RouteTableAssociation3EFD832D": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcBatchSubnet2RouteTableED9F8FFB": "AWS::EC2::RouteTable",
    "NetworkVpcBatchSubnet2Subnet9980D2E6": "AWS::EC2::Subnet",
    "NetworkVpcFlowLog9B71FB8D": "AWS::EC2::FlowLog",
    "NetworkVpcIGW6BEA7B02": "AWS::EC2::InternetGateway",
    "NetworkVpcPublicSubnet1DefaultRoute31EC04EC": "AWS::EC2::Route",
    "NetworkVpcPublicSubnet1EIPE0D52090": "AWS::EC2::EIP",
    "NetworkVpcPublicSubnet1NATGateway64781A21": "AWS::EC2::NatGateway",
    "NetworkVpcPublicSubnet1RouteTable30235CE2": "AWS::EC2::RouteTable",
    "NetworkVpcPublicSubnet1RouteTableAssociation643926C7": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcPublicSubnet1Subnet36933139": "AWS::EC2::Subnet",
    "NetworkVpcPublicSubnet2DefaultRoute0CF082AB": "AWS::EC2::Route",
    "NetworkVpcPublicSubnet2RouteTable0FACEBB2": "AWS::EC2::RouteTable",
    "NetworkVpcPublicSubnet2RouteTableAssociationC662643B": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcPublicSubnet2SubnetC427CCE0": "AWS::EC2::Subnet",
    "NetworkVpcVPCGW8F3799B5": "AWS::EC2::VPCGatewayAttachment",
    "NetworkVpcWebSubnet1DefaultRouteE2045EA3": "AWS::EC2::Route",
    "NetworkVpcWebSubnet1RouteTable6446D299": "AWS::EC2::RouteTable",
    "NetworkVpcWebSubnet1RouteTableAssociation3AFCAF95": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcWebSubnet1Subnet6A412B56": "AWS::EC2::Subnet",
    "NetworkVpcWebSubnet2DefaultRoute9842A8A0": "AWS::EC2::Route",
    "NetworkVpcWebSubnet2RouteTable490374E8": "AWS::EC2::RouteTable",
    "NetworkVpcWebSubnet2RouteTableAssociationE3A26E61": "AWS::EC2::SubnetRouteTableAssociation",
    "NetworkVpcWebSubnet2SubnetEBC8604F": "AWS::EC2::Subnet",
}

EXISTING = ExistingVpcProps(
    vpc_id="vpc-0123456789abcdef0",
    cidr_block="10.50.0.0/16",
    public_subnet_ids=["subnet-0000000000000000a", "subnet-0000000000000000b"],
    web_subnet_ids=["subnet-1111111111111111a", "subnet-1111111111111111b"],
    batch_subnet_ids=["subnet-2222222222222222a", "subnet-2222222222222222b"],
    web_route_table_ids=["rtb-1111111111111111a", "rtb-1111111111111111b"],
    batch_route_table_ids=["rtb-22222222", "rtb-22222222"],
)


@dataclass
class Issue15:
    plain: Template
    """``NetworkProps(availability_zones=AZS)``: every default."""
    no_nat: Template
    """A new VPC, batch_nat=False, endpoints ecr, logs, s3, sqs; a web task group in the same stack admitted."""
    workloads: Template
    """Another stack: a batch group admitted to ``no_nat``'s endpoints."""
    existing: Template
    """An existing VPC over two AZs with endpoints ecr and s3 (batch subnets behind NAT)."""
    networks: dict[str, Network]
    ids: dict[str, str]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def issue15() -> Issue15:
    app = nag_app()
    # Given a network with every default
    plain_stack = new_stack(app, "Plain")
    plain = Network(plain_stack, "Network", props=NetworkProps(availability_zones=AZS))
    # and a new VPC whose Batch subnets have no NAT, with the endpoints Fargate needs and SQS
    no_nat_stack = new_stack(app, "NoNat")
    no_nat = Network(
        no_nat_stack, "Network", props=NetworkProps(availability_zones=AZS, batch_nat=False, endpoints=["sqs", "s3", "logs", "ecr"])
    )
    web = WebTaskSecurityGroup(no_nat_stack, "Web", props=SecurityGroupProps(vpc=no_nat.vpc))
    no_nat.allow_endpoints_from(web)
    # and, in another stack, a batch group admitted to those endpoints
    workloads_stack = new_stack(app, "Workloads")
    batch = BatchSecurityGroup(workloads_stack, "Batch", props=SecurityGroupProps(vpc=no_nat.vpc))
    no_nat.allow_endpoints_from(batch)
    # and an existing VPC with ECR and S3 endpoints
    existing_stack = new_stack(app, "Existing")
    existing = Network(existing_stack, "Network", props=NetworkProps(availability_zones=AZS, existing=EXISTING, endpoints=["ecr", "s3"]))
    existing_batch = BatchSecurityGroup(existing_stack, "Batch", props=SecurityGroupProps(vpc=existing.vpc))
    existing.allow_endpoints_from(existing_batch)
    assert no_nat.endpoints_security_group is not None and existing.endpoints_security_group is not None
    ids = {
        "web": logical_id(web),
        "batch": logical_id(batch),
        "endpoints": logical_id(no_nat.endpoints_security_group),
        "existing.batch": logical_id(existing_batch),
        "existing.endpoints": logical_id(existing.endpoints_security_group),
    }
    # When synthesized with every cdk-nag pack
    templates = synth(app, plain_stack, no_nat_stack, workloads_stack, existing_stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    networks = {"plain": plain, "no_nat": no_nat, "existing": existing}
    return Issue15(*templates, networks=networks, ids=ids, report=report)


def _resolve(network: Network, value: Any) -> Any:
    return Stack.of(network).resolve(value)


def _group_subnets(network: Network, group: str) -> list[Any]:
    return list(_resolve(network, network.vpc.select_subnets(subnet_group_name=group).subnet_ids))


def _endpoints(template: Template) -> dict[str, dict[str, Any]]:
    """Endpoint properties by service name (``ecr.api``, ``s3``)."""
    found = {}
    for endpoint in of_type(template, "AWS::EC2::VPCEndpoint").values():
        props = endpoint["Properties"]
        name = props["ServiceName"]
        name = name if isinstance(name, str) else "".join(p for p in name["Fn::Join"][1] if isinstance(p, str))
        found[name.removeprefix("com.amazonaws.").removeprefix(".").split(".", 1)[-1]] = props
    return found


def test_the_default_network_is_unchanged_by_the_new_props(issue15: Issue15) -> None:
    """Issue 15: with none of the new props, the template has exactly the resources it had before (IDs and types),
    and nothing is exported beyond the VPC and its subnets."""
    resources = issue15.plain.to_json()["Resources"]
    assert {k: v["Type"] for k, v in resources.items()} == DEFAULT_RESOURCES
    plain = issue15.networks["plain"]
    assert plain.endpoints_security_group is None and not plain.existing
    assert len(plain.shared_values) == 1 + 3 * len(AZS)


def test_sec1_batch_subnets_without_nat_have_no_route_out_of_the_vpc(issue15: Issue15) -> None:
    """SEC-1 / issue 15: with batch_nat=False the Batch subnets are isolated (no 0.0.0.0/0 route at all), while the
    Web subnets still route through NAT."""
    template = issue15.no_nat
    routes = of_type(template, "AWS::EC2::Route").values()
    for subnet_id, subnet in of_type(template, "AWS::EC2::Subnet").items():
        group = _tag(subnet, "aws-cdk:subnet-name")
        if group == "Batch":
            assert _tag(subnet, "aws-cdk:subnet-type") == "Isolated"
            association = next(
                a["Properties"]
                for a in of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
                if a["Properties"]["SubnetId"] == {"Ref": subnet_id}
            )
            assert [r for r in routes if r["Properties"]["RouteTableId"] == association["RouteTableId"]] == []
        elif group == "Web":
            assert "NatGatewayId" in _default_route(template, subnet_id)
    template.resource_count_is("AWS::EC2::NatGateway", 1)


def test_interface_endpoints_sit_in_the_batch_subnets_with_private_dns_behind_one_group(issue15: Issue15) -> None:
    """Issue 15: 'ecr' is ecr.api and ecr.dkr; every interface endpoint has private DNS, one network interface per AZ in
    the Batch subnets, and the endpoints' group only (not one admitting the VPC's CIDR)."""
    endpoints = _endpoints(issue15.no_nat)
    assert sorted(endpoints) == ["ecr.api", "ecr.dkr", "logs", "s3", "sqs"]
    batch_subnets = _group_subnets(issue15.networks["no_nat"], "Batch")
    for name in ("ecr.api", "ecr.dkr", "logs", "sqs"):
        props = endpoints[name]
        assert props["VpcEndpointType"] == "Interface"
        assert props["PrivateDnsEnabled"] is True
        assert props["SubnetIds"] == batch_subnets
        assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [issue15.ids["endpoints"], "GroupId"]}]
        assert "PolicyDocument" not in props  # AWS's default: full access
    assert len(of_type(issue15.no_nat, "AWS::EC2::SecurityGroup")) == 2  # the endpoints' and the web tasks'


def test_s3_gateway_endpoint_routes_from_the_web_and_batch_route_tables_only(issue15: Issue15) -> None:
    """Issue 15: the S3 gateway endpoint (image layers) is on the Web and Batch route tables, not the public ones,
    with AWS's default full-access policy."""
    s3 = _endpoints(issue15.no_nat)["s3"]
    assert s3["VpcEndpointType"] == "Gateway" and "PolicyDocument" not in s3
    tables = of_type(issue15.no_nat, "AWS::EC2::RouteTable")
    assert sorted(t["Ref"] for t in s3["RouteTableIds"]) == sorted(k for k in tables if "Public" not in k)
    assert len(s3["RouteTableIds"]) == 2 * len(AZS)


def test_endpoints_admit_tcp_443_only_from_the_admitted_groups(issue15: Issue15) -> None:
    """Issue 15 / SEC-2: the endpoints' group admits tcp/443 from each admitted workload group and nothing else, has no
    egress; a batch group in another stack gets both rules in its own stack (the network stack imports nothing)."""
    endpoint_group = {"Fn::GetAtt": [issue15.ids["endpoints"], "GroupId"]}
    _, group = only(issue15.no_nat, "AWS::EC2::SecurityGroup", "NetworkEndpoints")
    assert "SecurityGroupIngress" not in group["Properties"]
    assert group["Properties"]["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"
    ingress = [r["Properties"] for r in of_type(issue15.no_nat, "AWS::EC2::SecurityGroupIngress").values()]
    assert ingress == [
        {
            "Description": "HTTPS from a workload to the VPC endpoints",
            "FromPort": 443,
            "GroupId": endpoint_group,
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [issue15.ids["web"], "GroupId"]},
            "ToPort": 443,
        }
    ]
    assert "Fn::ImportValue" not in json.dumps(issue15.no_nat.to_json())
    remote_ingress = [r["Properties"] for r in of_type(issue15.workloads, "AWS::EC2::SecurityGroupIngress").values()]
    assert [(r["FromPort"], r["ToPort"], r["SourceSecurityGroupId"]) for r in remote_ingress] == [
        (443, 443, {"Fn::GetAtt": [issue15.ids["batch"], "GroupId"]})
    ]
    assert "Fn::ImportValue" in json.dumps(remote_ingress[0]["GroupId"])
    egress = [r["Properties"] for r in of_type(issue15.workloads, "AWS::EC2::SecurityGroupEgress").values()]
    assert [(r["FromPort"], r["Description"], r["GroupId"]) for r in egress] == [
        (443, "HTTPS to the VPC endpoints", {"Fn::GetAtt": [issue15.ids["batch"], "GroupId"]})
    ]


def test_existing_vpc_creates_no_vpc_subnet_route_nat_or_flow_log(issue15: Issue15) -> None:
    """Issue 15: with an existing VPC only the endpoints and their group are created; routes and flow logs stay the
    VPC owner's business."""
    types = Counter(v["Type"] for v in issue15.existing.to_json()["Resources"].values())
    assert types == Counter(
        {"AWS::EC2::VPCEndpoint": 3, "AWS::EC2::SecurityGroup": 2, "AWS::EC2::SecurityGroupIngress": 1, "AWS::EC2::SecurityGroupEgress": 1}
    )
    network = issue15.networks["existing"]
    assert network.existing and network.flow_log is None and network.flow_log_group is None and network.encryption_key is None


def test_sec1_existing_vpc_subnet_selections_pick_the_given_subnets(issue15: Issue15) -> None:
    """SEC-1 / HA-2: public_subnets / web_subnets / batch_subnets select the given IDs, in AZ order, and the endpoints
    use the given VPC and route tables."""
    network = issue15.networks["existing"]
    assert _resolve(network, network.vpc.vpc_id) == EXISTING.vpc_id
    assert list(network.vpc.availability_zones) == list(AZS)
    for selection, ids in (
        (network.public_subnets, EXISTING.public_subnet_ids),
        (network.web_subnets, EXISTING.web_subnet_ids),
        (network.batch_subnets, EXISTING.batch_subnet_ids),
    ):
        assert selection.subnet_group_name is not None
        assert _group_subnets(network, selection.subnet_group_name) == list(ids)
    endpoints = _endpoints(issue15.existing)
    assert endpoints["s3"]["VpcId"] == EXISTING.vpc_id
    assert sorted(endpoints["s3"]["RouteTableIds"]) == sorted({*EXISTING.web_route_table_ids, *EXISTING.batch_route_table_ids})
    assert endpoints["ecr.dkr"]["SubnetIds"] == list(EXISTING.batch_subnet_ids)


def test_shared_values_of_an_existing_vpc_are_only_the_endpoints_group(issue15: Issue15) -> None:
    """An existing VPC's IDs are literals (nothing to export); the endpoints' group is shared when there is one."""
    network = issue15.networks["existing"]
    assert network.endpoints_security_group is not None
    assert network.shared_values == [network.endpoints_security_group.security_group_id]
    no_nat = issue15.networks["no_nat"]
    assert len(no_nat.shared_values) == 1 + 3 * len(AZS) + 1  # isolated Batch subnets included


def test_the_new_networks_are_nag_clean(issue15: Issue15) -> None:
    """Synthesized with every cdk-nag pack: no unacknowledged finding, and no CDK warning (an imported subnet's missing
    route table, an egress rule ignored on an all-outbound group). AwsSolutions, with nothing to report, is not listed."""
    assert {p["pluginName"] for p in issue15.report["pluginReports"]} >= {"NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}
    assert nag_findings(issue15.report) == Counter()


def test_allow_endpoints_from_does_nothing_without_interface_endpoints() -> None:
    """Without interface endpoints there is no endpoints group; admitting a group adds no rule."""
    stack = new_stack()
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS, endpoints=["s3"]))
    group = BatchSecurityGroup(stack, "Batch", props=SecurityGroupProps(vpc=network.vpc))
    network.allow_endpoints_from(group)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
    assert network.endpoints_security_group is None


# --- failing cases of issue 15 --------------------------------------------------------------


def _existing(**changes: Any) -> ExistingVpcProps:
    values = {**EXISTING.__dict__, **changes}
    return ExistingVpcProps(**values)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            NetworkProps(availability_zones=AZS, endpoints=["ecr", "ec2"]),
            r"endpoints: 'ec2' is not an endpoint name; allowed: dynamodb, ecr, ecs, kms, logs, monitoring, s3, secretsmanager",
        ),
        (NetworkProps(availability_zones=AZS, endpoints=["logs", "logs"]), r"endpoints: 'logs' listed twice; allowed: each name once"),
        (
            NetworkProps(availability_zones=AZS, batch_nat=False, endpoints=["ecr"]),
            r"batch_nat: False without the endpoints .* \(missing: logs, s3\); allowed: True, or False with endpoints including "
            r"ecr, logs, s3",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=EXISTING, batch_nat=False),
            r"batch_nat: False .*\(missing: ecr, logs, s3\)",
        ),
        (
            NetworkProps(availability_zones=["ap-northeast-1a"], existing=_existing(web_subnet_ids=["subnet-1111111111111111a"])),
            r"^Test/Network: availability_zones: 1 availability zone\(s\); allowed: 2 to 6 \(HA-2",
        ),
        (
            NetworkProps(
                availability_zones=AZS, existing=_existing(batch_subnet_ids=["subnet-2222222222222222a", "subnet-1111111111111111b"])
            ),
            r"existing.batch_subnet_ids: subnet-1111111111111111b is also in existing.web_subnet_ids; allowed: each subnet in one class, "
            r"once \(SEC-1\)",
        ),
        (
            NetworkProps(
                availability_zones=AZS, existing=_existing(web_subnet_ids=["subnet-1111111111111111a", "subnet-1111111111111111a"])
            ),
            r"existing.web_subnet_ids: subnet-1111111111111111a is twice",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(web_subnet_ids=["subnet-1111111111111111a"])),
            r"existing.web_subnet_ids: 1 subnet\(s\) for 2 AZs \(subnet-1111111111111111a\); allowed: 2 \(one per AZ; SEC-1, HA-2\)",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(public_subnet_ids=["subnet-0000000000000000a"])),
            r"existing.public_subnet_ids: 1 subnet\(s\) for 2 AZs .*allowed: 2 \(one per AZ, or none; SEC-1, HA-2\)",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(batch_subnet_ids=["subnet-2222222222222222a", "sn-1"])),
            r"existing.batch_subnet_ids: 'sn-1' is not a subnet ID; allowed: subnet-<hex>",
        ),
        (NetworkProps(availability_zones=AZS, existing=_existing(vpc_id="vpc-xyz")), r"existing.vpc_id: 'vpc-xyz' is not a VPC ID"),
        (NetworkProps(availability_zones=AZS, existing=_existing(cidr_block="10.50.0.1/16")), r"existing.cidr_block: '10.50.0.1/16'"),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(web_route_table_ids=["rtb-1111111111111111a"])),
            r"existing.web_route_table_ids: 1 route table\(s\) for 2 subnets; allowed: one per subnet, or none",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(batch_route_table_ids=["rtb-x", "rtb-x"])),
            r"existing.batch_route_table_ids: 'rtb-x' is not a route table ID",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(batch_route_table_ids=()), endpoints=["s3"]),
            r"existing.batch_route_table_ids: none, but gateway endpoints \(s3\) add routes to them",
        ),
        (
            NetworkProps(availability_zones=AZS, existing=_existing(batch_route_table_ids=())),
            r"existing.batch_route_table_ids: none while the other class's are given; allowed: route tables of both classes, or of neither",
        ),
    ],
    ids=[
        "unknown-endpoint",
        "endpoint-twice",
        "no-nat-without-endpoints",
        "existing-no-nat-without-endpoints",
        "existing-one-az",
        "subnet-in-two-classes",
        "subnet-twice-in-a-class",
        "too-few-web-subnets",
        "too-few-public-subnets",
        "malformed-subnet-id",
        "malformed-vpc-id",
        "cidr-with-host-bits",
        "too-few-route-tables",
        "malformed-route-table-id",
        "gateway-endpoint-without-route-tables",
        "route-tables-of-one-class-only",
    ],
)
def test_fails_when_issue15_props_are_wrong(props: NetworkProps, message: str) -> None:
    """SEC-1 / HA-2 / issue 15: each bad prop is refused with its field, its value and what is allowed."""
    with pytest.raises(ConstructError, match=message):
        Network(new_stack(), "Network", props=props)


def test_existing_vpc_without_public_subnets_and_isolated_batch_subnets() -> None:
    """An existing VPC may have no public subnets (internal load balancers only); with batch_nat=False its Batch
    subnets are taken as isolated and still selected by name."""
    stack = new_stack()
    existing = _existing(public_subnet_ids=(), web_route_table_ids=(), batch_route_table_ids=())
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS, existing=existing))
    assert list(network.vpc.public_subnets) == []
    assert _group_subnets(network, "Web") == list(EXISTING.web_subnet_ids)
    isolated = _existing(web_route_table_ids=["rtb-11111111"] * 2, batch_route_table_ids=["rtb-22222222"] * 2)
    no_nat = Network(
        stack, "NoNat", props=NetworkProps(availability_zones=AZS, existing=isolated, batch_nat=False, endpoints=["ecr", "logs", "s3"])
    )
    assert [s.subnet_id for s in no_nat.vpc.isolated_subnets] == list(EXISTING.batch_subnet_ids)
    assert _group_subnets(no_nat, "Batch") == list(EXISTING.batch_subnet_ids)


def test_the_spec_offers_exactly_the_endpoints_the_network_builds() -> None:
    """network.endpoints in the spec (plain data) and the construct's endpoint table name the same services."""
    from ecs_platform.constructs.network import ENDPOINTS
    from ecs_platform.limits import VPC_ENDPOINTS

    assert tuple(sorted(VPC_ENDPOINTS)) == ENDPOINTS


def test_the_cost_estimate_counts_the_interface_endpoints_the_network_builds() -> None:
    """limits.VPC_INTERFACE_ENDPOINTS (what COST-1 bills per AZ-hour) follows the construct's endpoint table."""
    from ecs_platform.constructs.network import GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS
    from ecs_platform.limits import VPC_INTERFACE_ENDPOINTS

    assert {
        **{name: len(services) for name, services in INTERFACE_ENDPOINTS.items()},
        **dict.fromkeys(GATEWAY_ENDPOINTS, 0),
    } == VPC_INTERFACE_ENDPOINTS
