"""Network: a multi-AZ VPC with public subnets for load balancers and dedicated private
subnets for web and for batch tasks (SEC-1, HA-2), with flow logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge_rule
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import refuse
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import check_availability_zones, check_nat_gateways

#: Subnet group names; stable, since they become part of construct IDs.
PUBLIC_SUBNETS = "Public"
WEB_SUBNETS = "Web"
BATCH_SUBNETS = "Batch"


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    availability_zones: Sequence[str]
    """AZ names to span; at least two (HA-2). Naming them avoids an AWS lookup at synthesis."""
    cidr: str = "10.0.0.0/16"
    """IPv4 CIDR of the VPC. Default: 10.0.0.0/16."""
    nat_gateways: int = 1
    """NAT gateways for private egress (image pulls, AWS APIs). Default: 1 (one per AZ is the HA choice)."""
    subnet_cidr_mask: int = 24
    """Size of every subnet. Default: /24 (251 task ENIs per subnet)."""
    flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of the VPC flow log group. Default: one year."""
    encryption_key: kms.IKey | None = None
    """Key for the flow log group. Default: a new :class:`EncryptionKey`."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack does to the flow log group and key. Default: DESTROY."""


class Network(Construct):
    """The VPC of the platform.

    Three subnet groups per AZ: ``Public`` (load balancers and NAT gateways only),
    ``Web`` (private, web/API tasks) and ``Batch`` (private, batch tasks). Tasks never get
    a public IP; they reach the internet through NAT. All traffic is recorded by a flow
    log into a KMS-encrypted log group.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        zones = list(props.availability_zones)
        refuse(self, "availability_zones", check_availability_zones(zones), *zones)
        refuse(self, "nat_gateways", check_nat_gateways(props.nat_gateways, len(zones)), props.nat_gateways)
        private = ec2.SubnetType.PRIVATE_WITH_EGRESS
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            availability_zones=list(props.availability_zones),
            # CDK would close the default security group through a Lambda-backed custom
            # resource whose role carries an AWS managed policy; no task uses that group.
            restrict_default_security_group=False,
            nat_gateways=props.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC_SUBNETS,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=props.subnet_cidr_mask,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(name=WEB_SUBNETS, subnet_type=private, cidr_mask=props.subnet_cidr_mask),
                ec2.SubnetConfiguration(name=BATCH_SUBNETS, subnet_type=private, cidr_mask=props.subnet_cidr_mask),
            ],
        )
        acknowledge_rule(
            self.vpc,
            "VPCDefaultSecurityGroupClosed",
            "No resource uses the default security group; closing it takes a Lambda-backed custom resource "
            "with an AWS managed policy, which this platform does not deploy.",
        )
        for subnet in self.vpc.public_subnets:
            route = subnet.node.find_child("DefaultRoute")
            acknowledge_rule(
                route,
                "VPCNoUnrestrictedRouteToIGW",
                "Public subnets hold only the internet-facing ALB and NAT gateways; their route to the IGW is their purpose.",
            )
        self.encryption_key: kms.IKey = props.encryption_key or EncryptionKey(
            self, "Key", props=EncryptionKeyProps(description="VPC flow logs", removal_policy=props.removal_policy)
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=self.encryption_key,
            retention=props.flow_log_retention,
            removal_policy=props.removal_policy,
        )
        flow_log_role = ScopedRole(
            self,
            "FlowLogRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("vpc-flow-logs.amazonaws.com", scope=self),
                description="VPC flow logs delivery to CloudWatch Logs",
            ),
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    @property
    def shared_values(self) -> list[str]:
        """What other stacks may use of the network: the VPC and every subnet (see :meth:`WorkloadPlatform.shared_values`)."""
        subnets = [*self.vpc.public_subnets, *self.vpc.private_subnets]
        return [self.vpc.vpc_id, *(subnet.subnet_id for subnet in subnets)]

    @property
    def public_subnets(self) -> ec2.SubnetSelection:
        """Subnets for internet-facing load balancers."""
        return ec2.SubnetSelection(subnet_group_name=PUBLIC_SUBNETS)

    @property
    def web_subnets(self) -> ec2.SubnetSelection:
        """Private subnets dedicated to web/API tasks (SEC-1)."""
        return ec2.SubnetSelection(subnet_group_name=WEB_SUBNETS)

    @property
    def batch_subnets(self) -> ec2.SubnetSelection:
        """Private subnets dedicated to batch tasks (SEC-1)."""
        return ec2.SubnetSelection(subnet_group_name=BATCH_SUBNETS)
